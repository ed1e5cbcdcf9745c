/*
 * vm_boot.c: starting a VM and watching it boot.
 *
 * The accelerator comes from accel.c's policy over what this host offers.
 * The boot is watched through the serial-console log: under accel auto a
 * KVM guest that prints no kernel line within KVM_PROBE_MS, or that does
 * not start at all, is restarted under TCG (and later auto runs go straight
 * to TCG); a "Kernel panic" restarts the boot once.  The wait ends after
 * two SSH logins in a row with the pinned host key (sshd restarts while
 * cloud-init runs).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report.h"
#include "util.h"
#include "vm_int.h"

off_t vm_console_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? st.st_size : 0;
}

/* Reads the console log from offset `from` (at most the last
 * CONSOLE_TAIL_MAX bytes of it) and the last non-empty line. */
char *vm_console_since(const char *path, off_t from, char *last, size_t n)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	off_t size;
	char *buf, *p, *end;
	ssize_t r;

	last[0] = '\0';
	if (fd < 0)
		return NULL;
	size = lseek(fd, 0, SEEK_END);
	if (size < from)
		from = 0; /* the log was replaced */
	if (size - from > CONSOLE_TAIL_MAX)
		from = size - CONSOLE_TAIL_MAX;
	buf = malloc((size_t)(size - from) + 1);
	if (buf == NULL) {
		close(fd);
		return NULL;
	}
	r = pread(fd, buf, (size_t)(size - from), from);
	close(fd);
	if (r < 0)
		r = 0;
	buf[r] = '\0';
	/* last line with something printable in it */
	end = buf + r;
	while (end > buf) {
		char *ls = end - 1;
		size_t len, i, k = 0;

		while (ls > buf && ls[-1] != '\n')
			ls--;
		len = (size_t)(end - ls);
		for (i = 0; i < len && k + 1 < n; i++) {
			unsigned char ch = (unsigned char)ls[i];
			if (ch == '\033') { /* skip ANSI sequences: ESC [ ... letter */
				while (i + 1 < len && !((ls[i + 1] >= 'A' && ls[i + 1] <= 'Z') ||
				                        (ls[i + 1] >= 'a' && ls[i + 1] <= 'z')))
					i++;
				i++;
				continue;
			}
			if (ch >= 0x20 && ch != 0x7f)
				last[k++] = (char)ch;
		}
		last[k] = '\0';
		p = last;
		while (*p == ' ')
			p++;
		if (*p != '\0')
			break;
		end = ls > buf ? ls - 1 : buf;
	}
	return buf;
}

static int start_domain(struct up *u, struct err *e)
{
	u->boot_off = vm_console_size(u->p.console);
	u->boot_t0 = report_now_ms();
	u->alive = 0;
	u->started_now = 1;
	return virt_dom_start(&u->v, u->s.domain, e);
}

/* Where a KVM hang was seen once: later `auto` runs go straight to TCG. */
static int kvm_hang_marker(char *buf, size_t n, struct err *e)
{
	return xdg_state_dir(buf, n, "kvm-hangs", e);
}

/* accel auto, KVM not usable after all (why): the domain is redefined and
 * started under TCG, and later `auto` runs go straight to TCG. */
static int fall_back_to_tcg(struct up *u, const char *why, struct err *e)
{
	static const char note[] = "kvm failed at boot; delete this file to probe KVM again\n";
	char marker[PATH_MAX];

	report_progress_done();
	report_warn("KVM: %s. Restarting under TCG (software emulation, slower). "
	            "Set accel: tcg to skip this probe.",
	            why);
	if (virt_dom_poweroff(&u->v, u->s.domain, e) < 0 || vm_define_domain(u, "qemu", e) < 0)
		return -1;
	u->plan.fallback_tcg = 0;
	if (kvm_hang_marker(marker, sizeof(marker), e) == 0)
		write_file_atomic(marker, note, sizeof(note) - 1, 0644, e);
	if (vmstate_save(&u->p, &u->s, e) < 0)
		return -1;
	return start_domain(u, e);
}

/* One login and `true`: 1 ok, 0 not yet, -1 hard error (host key).  With
 * keep, a session that worked is handed over in *keep instead of closed. */
int vm_ssh_probe(struct up *u, ssh_session *keep, struct err *e)
{
	struct vm_target t;
	ssh_session s = NULL;
	struct err pe = {"", 0};
	int status = -1;

	vm_target_from(&u->p, &u->s, 5, &t);
	if (sshc_connect(&t.t, &s, &pe) < 0) {
		if (pe.code == EXIT_HOSTKEY) {
			*e = pe;
			return -1;
		}
		report_debug("ssh: %s", pe.msg);
		return 0;
	}
	if (sshc_exec_deadline(s, "true", NULL, NULL, NULL, &status, report_now_ms() + 15000, &pe) <
	    0)
		status = -1;
	if (keep && status == 0)
		*keep = s;
	else
		sshc_close(s);
	return status == 0;
}

/* Boot watch + SSH wait: returns once two logins in a row succeeded.
 * Longer than most: it is one loop whose checks must run in this order on
 * every tick (the domain still runs, a panic, a KVM hang, the NAT address,
 * an SSH login, the time limit); split up, the order would be lost. */
int vm_wait_ssh(struct up *u, struct err *e)
{
	long t0 = report_now_ms(), last_try = 0;
	long limit = (long)u->cfg->ssh_timeout * 1000;
	int good = 0;
	char last[200] = "";

	report_step_begin("boot", u->started_now
	                              ? "booting; waiting for SSH with the pinned host key"
	                              : "waiting for SSH with the pinned host key");
	for (;;) {
		long now = report_now_ms();
		enum virt_dom_state st;
		char *text;
		enum boot_verdict verdict;

		if (virt_dom_state(&u->v, u->s.domain, &st, e) < 0)
			return vm_step_fail("boot", t0, e);
		text = vm_console_since(u->p.console, u->boot_off, last, sizeof(last));
		if (st != VIRT_DOM_RUNNING && st != VIRT_DOM_OTHER) {
			free(text);
			err_set(e,
			        "the VM stopped while booting (last console line: \"%s\"); see %s",
			        last, u->p.console);
			return vm_step_fail("boot", t0, e);
		}
		verdict = boot_verdict(text, now - u->boot_t0, KVM_PROBE_MS);
		free(text);
		if (verdict == BOOT_ALIVE)
			u->alive = 1;
		if (verdict == BOOT_PANIC && good == 0 && u->started_now) {
			report_progress_done();
			if (u->panic_retried) {
				err_set(e,
				        "the guest kernel panicked twice (last console line: "
				        "\"%s\"); see %s",
				        last, u->p.console);
				return vm_step_fail("boot", t0, e);
			}
			report_warn(
			    "the guest kernel panicked during boot (\"%s\"): restarting it once",
			    last);
			u->panic_retried = 1;
			if (virt_dom_poweroff(&u->v, u->s.domain, e) < 0 || start_domain(u, e) < 0)
				return vm_step_fail("boot", t0, e);
			continue;
		}
		/* the console log is only on this host: no probe for a remote one */
		if (u->started_now && u->v.local && !u->alive && verdict == BOOT_HUNG &&
		    strcmp(u->s.accel, "kvm") == 0 && u->plan.fallback_tcg) {
			char why[128];

			snprintf(why, sizeof(why),
			         "no kernel output on the serial console within %lds; the guest "
			         "hangs under KVM here",
			         KVM_PROBE_MS / 1000);
			if (fall_back_to_tcg(u, why, e) < 0)
				return vm_step_fail("boot", t0, e);
			continue;
		}
		if (strcmp(u->s.net, "nat") == 0 && u->s.ssh_host[0] == '\0' &&
		    virt_dom_ipv4(&u->v, u->s.domain, u->s.network, u->s.ssh_host,
		                  sizeof(u->s.ssh_host), e) < 0)
			return vm_step_fail("boot", t0, e);
		if (u->s.ssh_host[0] != '\0' && now - last_try >= SSH_TRY_EVERY_MS) {
			int r;

			last_try = now;
			r = vm_ssh_probe(u, NULL, e);
			if (r < 0)
				return vm_step_fail("boot", t0, e);
			good = r ? good + 1 : 0;
			if (good >= 2)
				break;
			if (good == 1)
				last_try =
				    now - SSH_TRY_EVERY_MS + 2000; /* the second login 2 s later */
		}
		if (now - t0 > limit) {
			err_setc(
			    e, EXIT_TIMEOUT,
			    "no SSH login within %ds (timeouts.ssh). Last console line: \"%s\". "
			    "Look at `inception console` (%s)%s",
			    u->cfg->ssh_timeout, last, u->p.console,
			    u->alive || !u->v.local
			        ? ""
			        : "; the kernel printed nothing: try accel: tcg");
			return vm_step_fail("boot", t0, e);
		}
		/* a remote VM's console is not read here: no "firmware" phase to tell */
		report_status(good ? "ssh" : (u->alive || !u->v.local ? "boot" : "firmware"),
		              now - t0, last);
		sleep_ms(1000);
	}
	report_progress_done();
	{
		char msg[128];
		snprintf(msg, sizeof(msg), "SSH %s:%u answers with the pinned host key (%s)",
		         u->s.ssh_host, u->s.ssh_port,
		         strcmp(u->s.accel, "kvm") == 0 ? "KVM" : "TCG");
		vm_step_ok("boot", t0, msg);
	}
	return 0;
}

/* libvirt runs QEMU as libvirt-qemu (group kvm).  Where no udev set
 * /dev/kvm to root:kvm 0660, libvirt 9.0's capability cache flips between
 * "KVM" and "no KVM" and re-probes QEMU on every call: a define or start
 * then takes minutes.  Say so, with the fix; 1 = KVM is not usable by QEMU. */
static int warn_kvm_perms(const struct virt *v)
{
	struct group *g;
	struct stat st;

	if (!v->local || !v->system || stat(KVM_DEVICE, &st) < 0)
		return 0;
	g = getgrnam("kvm");
	if (g != NULL && st.st_gid == g->gr_gid && (st.st_mode & 0060) == 0060)
		return 0;
	report_warn(
	    "/dev/kvm is not root:kvm mode 0660 (mode %04o): libvirt's QEMU user cannot "
	    "open it and libvirt 9.0 re-probes QEMU on every call (minutes per start). "
	    "Fix as root (udev normally does it): chgrp kvm /dev/kvm && chmod 0660 /dev/kvm",
	    (unsigned)(st.st_mode & 07777));
	return 1;
}

int vm_choose_accel(struct up *u, struct err *e)
{
	struct accel_host h = {1, NULL, 0, 0, NULL};
	char dev_why[ACCEL_WHY_MAX] = "", marker[PATH_MAX];

	if (u->cfg->accel == ACCEL_TCG)
		return accel_decide(ACCEL_TCG, &h, &u->plan, e);
	/* a remote host's device is libvirt's business */
	if (u->v.local) {
		h.dev_usable = kvm_device_check(KVM_DEVICE, dev_why, sizeof(dev_why)) &&
		               !warn_kvm_perms(&u->v);
		if (!h.dev_usable && !dev_why[0])
			snprintf(dev_why, sizeof(dev_why), "libvirt's QEMU user cannot open %s",
			         KVM_DEVICE);
		h.dev_why = dev_why;
	}
	h.libvirt_kvm = h.dev_usable && virt_kvm_available(&u->v);
	if (kvm_hang_marker(marker, sizeof(marker), e) == 0 && access(marker, F_OK) == 0) {
		h.hung_before = 1;
		h.marker = marker;
	}
	if (accel_decide(u->cfg->accel, &h, &u->plan, e) < 0)
		return -1;
	if (u->plan.why[0])
		report_info("accel auto: %s: using TCG (software emulation)", u->plan.why);
	return 0;
}

/* The domain type for this start: the configured accel wins; under auto
 * an existing KVM definition is switched to TCG once KVM is known not to
 * work here. */
static void start_type(const struct up *u, char *type, size_t n)
{
	if (u->cfg->accel == ACCEL_TCG ||
	    (strcmp(type, "kvm") == 0 && strcmp(u->plan.first, "kvm") != 0 &&
	     u->cfg->accel != ACCEL_KVM))
		snprintf(type, n, "qemu");
	if (u->cfg->accel == ACCEL_KVM)
		snprintf(type, n, "kvm");
}

int vm_start(struct up *u, struct err *e)
{
	long t0 = report_now_ms();
	char type[16];

	report_step_begin("start", "starting the VM");
	if (virt_dom_type(&u->v, u->s.domain, type, sizeof(type), e) < 0)
		return -1;
	start_type(u, type, sizeof(type));
	if (vm_define_domain(u, type, e) < 0)
		return vm_step_fail("start", t0, e);
	if (start_domain(u, e) < 0) {
		char why[ERR_MSG_MAX + 64];
		const char *nl;

		/* auto: a KVM that refuses to start (here: qemu asserts on an
		 * MSR) is as good as one that hangs */
		if (strcmp(u->s.accel, "kvm") != 0 || !u->plan.fallback_tcg)
			return vm_step_fail("start", t0, e);
		nl = strchr(e->msg, '\n');
		snprintf(why, sizeof(why), "the VM does not start under KVM (%.*s)",
		         nl ? (int)(nl - e->msg) : (int)strlen(e->msg), e->msg);
		err_clear(e);
		if (fall_back_to_tcg(u, why, e) < 0)
			return vm_step_fail("start", t0, e);
	}
	snprintf(u->s.phase, sizeof(u->s.phase), "booting");
	if (vmstate_save(&u->p, &u->s, e) < 0)
		return -1;
	return vm_step_ok("start", t0,
	                  strcmp(u->s.accel, "kvm") == 0
	                      ? "under KVM (watching for a hang)"
	                      : "under TCG (software emulation: boot takes about a minute)");
}
