/*
 * accel.c: the accelerator policy and the boot verdict (see accel.h).
 *
 * Nothing here touches libvirt: the caller gathers the facts (device,
 * libvirt capabilities, hang marker), so every case is unit tested with
 * the facts injected.
 */
#include "accel.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int kvm_device_check(const char *path, char *why, size_t n)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		if (errno == ENOENT)
			snprintf(why, n,
			         "no KVM device (%s does not exist: no hardware "
			         "virtualisation here, or the kvm module is not loaded)",
			         path);
		else
			snprintf(why, n, "no access to the KVM device (%s: %s)", path,
			         strerror(errno));
		return 0;
	}
	if (!S_ISCHR(st.st_mode)) {
		snprintf(why, n, "%s is not a character device", path);
		return 0;
	}
	if (access(path, R_OK | W_OK) != 0) {
		snprintf(why, n,
		         "no access to the KVM device (%s mode %04o: %s; add your user to "
		         "its group, usually kvm)",
		         path, (unsigned)(st.st_mode & 07777), strerror(errno));
		return 0;
	}
	if (why && n)
		why[0] = '\0';
	return 1;
}

int accel_decide(enum accel want, const struct accel_host *h, struct accel_plan *p, struct err *e)
{
	const char *why = NULL;

	memset(p, 0, sizeof(*p));
	if (want == ACCEL_TCG) {
		p->first = "qemu";
		return 0;
	}
	if (!h->dev_usable)
		why = h->dev_why && h->dev_why[0] ? h->dev_why : "no usable KVM device";
	else if (!h->libvirt_kvm)
		why = "libvirt reports no kvm domain type for x86_64 on this host";
	if (want == ACCEL_KVM) {
		/* asked for explicitly: an earlier hang does not overrule the user */
		if (why != NULL)
			return err_set(e, "accel kvm: %s (use accel: auto or tcg)", why);
		p->first = "kvm";
		return 0;
	}
	p->first = "qemu";
	if (why != NULL) {
		snprintf(p->why, sizeof(p->why), "%s", why);
	} else if (h->hung_before) {
		snprintf(p->why, sizeof(p->why),
		         "KVM hung or failed on this host before (%s; "
		         "delete it to probe KVM again)",
		         h->marker ? h->marker : "marker file");
	} else {
		p->first = "kvm";
		p->fallback_tcg = 1;
	}
	return 0;
}

/* Lines that only a running kernel or userspace writes to the console
 * (firmware and boot loader lines do not count). */
static const char *const alive_marks[] = {
    "Linux version", "] Run /init", "systemd[1]", "Welcome to",
    "cloud-init",    " login:",     "[    0.",    NULL,
};

enum boot_verdict boot_verdict(const char *console, long elapsed_ms, long bound_ms)
{
	int i;

	if (console && strstr(console, "Kernel panic") != NULL)
		return BOOT_PANIC;
	for (i = 0; console && alive_marks[i]; i++)
		if (strstr(console, alive_marks[i]) != NULL)
			return BOOT_ALIVE;
	return elapsed_ms >= bound_ms ? BOOT_HUNG : BOOT_WAIT;
}
