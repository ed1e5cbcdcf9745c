/*
 * vm_int.h: what the VM lifecycle modules share (not for the commands).
 *
 * `up` on the VM side is create (vm_create.c: image, seed, volumes,
 * domain), start and boot (vm_boot.c: accelerator, start, the console
 * watch with the KVM-to-TCG fallback, SSH with the pinned key), and
 * readiness (vm_ready.c: cloud-init), put together by vm_up() (vm_up.c).
 * struct up is the one run's context they pass along.
 */
#ifndef INCEPTION_VM_INT_H
#define INCEPTION_VM_INT_H

#include <sys/types.h>

#include "accel.h"
#include "config.h"
#include "err.h"
#include "sshc.h"
#include "virt.h"
#include "vm.h"
#include "vmstate.h"

#define POOL_NAME "inception"
#define NAT_NETWORK "inception"
#define NAT_BRIDGE "virbr-incep"
#define NAT_PREFIX "192.168.150"
#define KVM_DEVICE "/dev/kvm"
#define KVM_PROBE_MS 45000L /* a working KVM guest prints its kernel banner in seconds */
#define SSH_TRY_EVERY_MS 3000L
#define CONSOLE_TAIL_MAX (512L * 1024)

struct up {
	struct cli *cli;
	const struct config *cfg;
	struct vm_paths p;
	struct vm_state s;
	struct virt v;
	struct accel_plan plan;
	int started_now; /* we started the domain in this run (watch the boot) */
	long boot_t0;    /* when the current boot started */
	off_t boot_off;  /* console log offset at that moment */
	int panic_retried;
	int alive; /* the kernel has printed */
};

/* vm_up.c */
int vm_step_ok(const char *step, long t0, const char *msg);
int vm_step_fail(const char *step, long t0, struct err *e);
int vm_open_virt(const struct config *cfg, const struct vm_state *s, struct virt *v, struct err *e);

/* vm_create.c: the host-wide lock around shared base volumes; the domain
 * (re)defined from the configuration; everything a new VM needs. */
int vm_pool_lock(int *fd, struct err *e);
int vm_define_domain(struct up *u, const char *domtype, struct err *e);
int vm_create(struct up *u, const struct vm_up_opts *o, struct err *e);

/* vm_boot.c: the accelerator plan (the "libvirt" step's second half); a
 * stopped VM defined and started ("start" step); one SSH login (1 ok, 0
 * not yet, -1 host key); the boot watch until two logins in a row work. */
int vm_choose_accel(struct up *u, struct err *e);
int vm_start(struct up *u, struct err *e);
int vm_ssh_probe(struct up *u, ssh_session *keep, struct err *e);
int vm_wait_ssh(struct up *u, struct err *e);
off_t vm_console_size(const char *path);
char *vm_console_since(const char *path, off_t from, char *last, size_t n);

/* vm_ready.c */
int vm_wait_cloud_init(struct up *u, struct err *e);

#endif
