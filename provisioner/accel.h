/*
 * accel.h: which accelerator a VM boots under, and what its console says
 * about the boot.
 *
 * accel_decide() is the whole policy, a pure function of what was found
 * on this host: the KVM device (kvm_device_check), libvirt's view of KVM,
 * and whether KVM hung here before.  Three cases under accel auto:
 *   - KVM usable: boot under KVM, fall back to TCG if the guest hangs;
 *   - KVM present but known to fail here: TCG from the start;
 *   - no KVM device, or no access to it: TCG from the start.
 * Every TCG choice carries the reason, which `up` prints.
 */
#ifndef INCEPTION_ACCEL_H
#define INCEPTION_ACCEL_H

#include "config.h"
#include "err.h"

#include <stddef.h>

#define ACCEL_WHY_MAX 256

struct accel_plan {
	const char *first;       /* "kvm" or "qemu" */
	int fallback_tcg;        /* 1: if the KVM boot hangs or fails, retry under TCG */
	char why[ACCEL_WHY_MAX]; /* why not KVM ("" when KVM is used or not asked for) */
};

/* What the host offers: dev_usable from kvm_device_check (dev_why its
 * reason when 0); libvirt_kvm: libvirt reports a kvm domain type;
 * hung_before: the marker of an earlier KVM hang exists (its path in
 * marker, or NULL). */
struct accel_host {
	int dev_usable;
	const char *dev_why;
	int libvirt_kvm;
	int hung_before;
	const char *marker;
};

/* 1 if the KVM device at path (normally /dev/kvm) exists, is a character
 * device and is readable and writable by us; else 0 with the reason in why. */
int kvm_device_check(const char *path, char *why, size_t n);

/* The plan for the configured accel on this host; -1 (with the reason)
 * for accel kvm where KVM cannot be used. */
int accel_decide(enum accel want, const struct accel_host *h, struct accel_plan *p, struct err *e);

/* Verdict on a boot from what the serial console shows so far. */
enum boot_verdict {
	BOOT_WAIT,  /* nothing conclusive yet */
	BOOT_ALIVE, /* the kernel is running (it has printed) */
	BOOT_HUNG,  /* no kernel output within the bound */
	BOOT_PANIC, /* "Kernel panic" on the console */
};
enum boot_verdict boot_verdict(const char *console, long elapsed_ms, long bound_ms);

#endif
