/*
 * cmd_vm.c: the VM commands: up (its VM half), status, ssh, console, down,
 * destroy, rebuild.
 *
 * `up` is a sequence of idempotent steps, each recorded in the VM's state
 * file: image -> keys -> seed -> volumes (base image uploaded once per
 * pool, a qcow2 overlay per VM, the seed ISO) -> domain -> boot -> wait.
 * The boot is watched through the serial-console log: under accel auto a
 * KVM guest that prints no kernel line within KVM_PROBE_MS is restarted
 * under TCG (this machine's KVM hangs), and a "Kernel panic" restarts the
 * boot once.  The wait needs two SSH logins in a row with the pinned host
 * key (sshd restarts while cloud-init runs), then cloud-init to finish.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "accel.h"
#include "cli.h"
#include "config.h"
#include "domxml.h"
#include "hostmap.h"
#include "image.h"
#include "keys.h"
#include "report.h"
#include "seed.h"
#include "sshc.h"
#include "stack.h"
#include "util.h"
#include "virt.h"
#include "vm.h"
#include "vmstate.h"

#define POOL_NAME "inception"
#define NAT_NETWORK "inception"
#define NAT_BRIDGE "virbr-incep"
#define NAT_PREFIX "192.168.150"
#define KVM_DEVICE "/dev/kvm"
#define KVM_PROBE_MS 45000L    /* a working KVM guest prints its kernel banner in seconds */
#define SSH_TRY_EVERY_MS 3000L
#define CONSOLE_TAIL_MAX (512L * 1024)

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* Parses the command's options: only config flags (and the given ones). */
static int no_args(struct cli *cli, int argc, char **argv, struct err *e)
{
	static const struct option none[] = { { NULL, 0, NULL, 0 } };
	int c;

	while ((c = cli_getopt(cli, argc, argv, "", none, e)) != -1)
		if (c == '?')
			return -1;
	if (optind < argc)
		return err_setc(e, EXIT_USAGE, "%s: unexpected argument \"%s\"", argv[0], argv[optind]);
	return 0;
}

/* ---- console log ---------------------------------------------------- */

static off_t file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? st.st_size : 0;
}

/* Reads the console log from offset `from` (at most the last
 * CONSOLE_TAIL_MAX bytes of it) and the last non-empty line. */
static char *console_since(const char *path, off_t from, char *last, size_t n)
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

/* ---- up ------------------------------------------------------------- */

struct up {
	struct cli *cli;
	const struct config *cfg;
	struct vm_paths p;
	struct vm_state s;
	struct virt v;
	struct accel_plan plan;
	int started_now;  /* we started the domain in this run (watch the boot) */
	long boot_t0;     /* when the current boot started */
	off_t boot_off;   /* console log offset at that moment */
	int panic_retried;
	int alive;        /* the kernel has printed */
};

static int step_end_ok(const char *step, long t0, const char *msg)
{
	report_step_end(step, "ok", report_now_ms() - t0, msg);
	return 0;
}

static int step_fail(const char *step, long t0, struct err *e)
{
	report_step_end(step, "fail", report_now_ms() - t0, e->msg);
	return -1;
}

static void upload_progress(uint64_t done, uint64_t total, void *arg)
{
	report_progress((const char *)arg, done, total);
}

/* A host-wide lock around the upload of a shared base volume. */
static int pool_lock(int *fd, struct err *e)
{
	char path[PATH_MAX];

	if (xdg_state_dir(path, sizeof(path), NULL, e) < 0 || mkdir_p(path, 0700, e) < 0)
		return -1;
	if (path_join(path, sizeof(path), e, "%s/.pool.lock", path) < 0)
		return -1;
	*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (*fd < 0)
		return err_set(e, "open %s: %s", path, strerror(errno));
	if (flock(*fd, LOCK_EX) < 0) {
		close(*fd);
		return err_set(e, "lock %s: %s", path, strerror(errno));
	}
	return 0;
}

/* Volume name of the base image: "base-<cache file stem>.qcow2", with a
 * marker volume "<...>.ok" that exists only after a complete upload. */
static int base_names(const char *image, char *vol, size_t n, char *ok, size_t m, struct err *e)
{
	const char *b = strrchr(image, '/');
	char stem[64];
	size_t len;

	b = b ? b + 1 : image;
	len = strlen(b);
	if (len > 6 && strcmp(b + len - 6, ".qcow2") == 0)
		len -= 6;
	if (len > 48)
		len = 48;
	memcpy(stem, b, len);
	stem[len] = '\0';
	if (path_join(vol, n, e, "base-%s.qcow2", stem) < 0 ||
	    path_join(ok, m, e, "base-%s.ok", stem) < 0)
		return -1;
	return 0;
}

static int ensure_base_volume(struct up *u, const char *image, struct err *e)
{
	char vol[128], ok[128];
	int lock = -1, r, ret = -1;

	if (base_names(image, vol, sizeof(vol), ok, sizeof(ok), e) < 0)
		return -1;
	snprintf(u->s.base_vol, sizeof(u->s.base_vol), "%s", vol);
	if (pool_lock(&lock, e) < 0)
		return -1;
	r = virt_vol_exists(&u->v, POOL_NAME, ok, NULL, 0, e);
	if (r < 0)
		goto done;
	if (r == 1 && virt_vol_exists(&u->v, POOL_NAME, vol, NULL, 0, e) == 1) {
		ret = 0;
		goto done;
	}
	/* missing, or an upload that did not finish */
	if (virt_vol_delete(&u->v, POOL_NAME, vol, e) < 0 ||
	    virt_vol_delete(&u->v, POOL_NAME, ok, e) < 0)
		goto done;
	if (virt_vol_upload(&u->v, POOL_NAME, vol, image, "raw", upload_progress,
			    (void *)"upload base image", e) < 0)
		goto done;
	report_progress_done();
	if (virt_vol_create(&u->v, POOL_NAME, ok, 0, NULL, e) < 0)
		goto done;
	ret = 0;
done:
	report_progress_done();
	if (lock >= 0)
		close(lock);
	return ret;
}

static const struct forward *ssh_forward(const struct config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->nforwards; i++)
		if (cfg->forwards[i].guest_port == 22)
			return &cfg->forwards[i];
	return NULL;
}

static void format_forwards(const struct config *cfg, char *buf, size_t n)
{
	size_t i, len = 0;

	buf[0] = '\0';
	for (i = 0; i < cfg->nforwards && len < n; i++) {
		int r = snprintf(buf + len, n - len, "%s%s:%u->%u", i ? " " : "",
				 cfg->forwards[i].addr[0] ? cfg->forwards[i].addr : "127.0.0.1",
				 cfg->forwards[i].host_port, cfg->forwards[i].guest_port);
		if (r < 0)
			break;
		len += (size_t)r;
	}
}

/* The network part of the state, from the configuration. */
static int set_network(struct up *u, struct err *e)
{
	if (u->cfg->net_mode == NET_NAT) {
		if (virt_net_ensure(&u->v, NAT_NETWORK, NAT_BRIDGE, NAT_PREFIX, e) < 0)
			return -1;
		snprintf(u->s.net, sizeof(u->s.net), "nat");
		snprintf(u->s.network, sizeof(u->s.network), "%s", NAT_NETWORK);
		u->s.ssh_host[0] = '\0'; /* learnt from DHCP or the guest agent at boot */
		u->s.ssh_port = 22;
		u->s.forwards[0] = '\0';
	} else {
		const struct forward *f = ssh_forward(u->cfg);
		if (f == NULL)
			return err_setc(e, EXIT_USAGE,
					"network.forwards: user mode needs a forward to guest port 22");
		snprintf(u->s.net, sizeof(u->s.net), "user");
		u->s.network[0] = '\0';
		snprintf(u->s.ssh_host, sizeof(u->s.ssh_host), "%s", f->addr[0] ? f->addr : "127.0.0.1");
		u->s.ssh_port = f->host_port;
		format_forwards(u->cfg, u->s.forwards, sizeof(u->s.forwards));
	}
	return 0;
}

/* (Re)defines the domain from the configuration: on every start of a
 * stopped VM, so memory, cpus and forwards follow the configuration. */
static int define_domain(struct up *u, const char *domtype, struct err *e)
{
	struct domspec ds = { 0 };
	char *xml = NULL, uuid[64];
	int ret;

	if (set_network(u, e) < 0 || virt_dom_uuid(&u->v, u->s.domain, uuid, sizeof(uuid), e) < 0)
		return -1;
	ds.uuid = uuid[0] ? uuid : NULL;

	ds.name = u->s.domain;
	ds.domtype = domtype;
	ds.memory = u->cfg->memory;
	ds.cpus = u->cfg->cpus;
	ds.pool = u->s.pool;
	ds.disk_vol = u->s.disk_vol;
	ds.seed_vol = u->s.seed_vol;
	ds.console_log = u->v.local ? u->p.console : NULL;
	ds.net = u->cfg->net_mode;
	ds.network = NAT_NETWORK;
	ds.usernet = domxml_usernet_for(u->v.libver, u->v.local && access("/usr/bin/passt", X_OK) == 0);
	ds.forwards = u->cfg->forwards;
	ds.nforwards = u->cfg->nforwards;
	if (domxml_domain(&ds, &xml, e) < 0)
		return -1;
	ret = virt_dom_define(&u->v, xml, e);
	free(xml);
	if (ret == 0)
		snprintf(u->s.accel, sizeof(u->s.accel), "%s", domtype);
	return ret;
}

/* Creates what is missing: keys, seed, volumes, network, domain. */
static int create_vm(struct up *u, const struct vm_up_opts *o, struct err *e)
{
	char image[PATH_MAX];
	long t0 = report_now_ms();
	uint64_t size;
	int r;

	report_step_begin("image", "base image (cached, downloaded or built)");
	if (image_ensure(u->cfg, o->no_build_fallback, image, sizeof(image), e) < 0)
		return step_fail("image", t0, e);
	step_end_ok("image", t0, image);

	t0 = report_now_ms();
	report_step_begin("seed", "SSH keys and cloud-init seed");
	if (keys_ensure(u->p.dir, e) < 0 || seed_build(u->cfg, u->p.dir, u->p.seed, e) < 0)
		return step_fail("seed", t0, e);
	step_end_ok("seed", t0, u->p.seed);

	t0 = report_now_ms();
	report_step_begin("volumes", "storage pool, base volume, overlay, seed volume");
	{
		char pool_path[PATH_MAX];
		if (virt_pool_path(&u->v, pool_path, sizeof(pool_path), e) < 0 ||
		    virt_pool_ensure(&u->v, POOL_NAME, pool_path, e) < 0)
			return step_fail("volumes", t0, e);
	}
	snprintf(u->s.pool, sizeof(u->s.pool), "%s", POOL_NAME);
	if (ensure_base_volume(u, image, e) < 0 || vmstate_save(&u->p, &u->s, e) < 0)
		return step_fail("volumes", t0, e);
	snprintf(u->s.disk_vol, sizeof(u->s.disk_vol), "%s.qcow2", u->s.domain);
	snprintf(u->s.seed_vol, sizeof(u->s.seed_vol), "%s-seed.iso", u->s.domain);
	/* a disk left by an interrupted up keeps its data: reuse it */
	r = virt_vol_exists(&u->v, POOL_NAME, u->s.disk_vol, NULL, 0, e);
	if (r < 0 || (r == 0 && virt_vol_create(&u->v, POOL_NAME, u->s.disk_vol, u->cfg->disk,
						u->s.base_vol, e) < 0))
		return step_fail("volumes", t0, e);
	if (virt_vol_delete(&u->v, POOL_NAME, u->s.seed_vol, e) < 0 ||
	    virt_vol_upload(&u->v, POOL_NAME, u->s.seed_vol, u->p.seed, "raw", NULL, NULL, e) < 0)
		return step_fail("volumes", t0, e);
	size = u->cfg->disk;
	{
		char msg[512];
		snprintf(msg, sizeof(msg), "%s/%s (%llu GiB, backed by %s)", POOL_NAME, u->s.disk_vol,
			 (unsigned long long)(size >> 30), u->s.base_vol);
		step_end_ok("volumes", t0, msg);
	}

	t0 = report_now_ms();
	report_step_begin("define", "libvirt domain");
	if (define_domain(u, u->plan.first, e) < 0)
		return step_fail("define", t0, e);
	snprintf(u->s.phase, sizeof(u->s.phase), "created");
	if (vmstate_save(&u->p, &u->s, e) < 0)
		return step_fail("define", t0, e);
	step_end_ok("define", t0, u->s.domain);
	return 0;
}

static int start_domain(struct up *u, struct err *e)
{
	u->boot_off = file_size(u->p.console);
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
	if (virt_dom_poweroff(&u->v, u->s.domain, e) < 0 || define_domain(u, "qemu", e) < 0)
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
static int ssh_probe(struct up *u, ssh_session *keep, struct err *e)
{
	struct vm_target t;
	ssh_session s = NULL;
	struct err pe = { "", 0 };
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
	if (sshc_exec_deadline(s, "true", NULL, NULL, NULL, &status, report_now_ms() + 15000, &pe) < 0)
		status = -1;
	if (keep && status == 0)
		*keep = s;
	else
		sshc_close(s);
	return status == 0;
}

/* Boot watch + SSH wait: returns once two logins in a row succeeded. */
static int wait_ssh(struct up *u, struct err *e)
{
	long t0 = report_now_ms(), last_try = 0;
	long limit = (long)u->cfg->ssh_timeout * 1000;
	int good = 0;
	char last[200] = "";

	report_step_begin("boot", u->started_now ? "booting; waiting for SSH with the pinned host key"
						 : "waiting for SSH with the pinned host key");
	for (;;) {
		long now = report_now_ms();
		enum virt_dom_state st;
		char *text;
		enum boot_verdict verdict;

		if (virt_dom_state(&u->v, u->s.domain, &st, e) < 0)
			return step_fail("boot", t0, e);
		text = console_since(u->p.console, u->boot_off, last, sizeof(last));
		if (st != VIRT_DOM_RUNNING && st != VIRT_DOM_OTHER) {
			free(text);
			err_set(e, "the VM stopped while booting (last console line: \"%s\"); see %s",
				last, u->p.console);
			return step_fail("boot", t0, e);
		}
		verdict = boot_verdict(text, now - u->boot_t0, KVM_PROBE_MS);
		free(text);
		if (verdict == BOOT_ALIVE)
			u->alive = 1;
		if (verdict == BOOT_PANIC && good == 0 && u->started_now) {
			report_progress_done();
			if (u->panic_retried) {
				err_set(e, "the guest kernel panicked twice (last console line: \"%s\"); see %s",
					last, u->p.console);
				return step_fail("boot", t0, e);
			}
			report_warn("the guest kernel panicked during boot (\"%s\"): restarting it once", last);
			u->panic_retried = 1;
			if (virt_dom_poweroff(&u->v, u->s.domain, e) < 0 || start_domain(u, e) < 0)
				return step_fail("boot", t0, e);
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
				return step_fail("boot", t0, e);
			continue;
		}
		if (strcmp(u->s.net, "nat") == 0 && u->s.ssh_host[0] == '\0' &&
		    virt_dom_ipv4(&u->v, u->s.domain, u->s.network, u->s.ssh_host,
				  sizeof(u->s.ssh_host), e) < 0)
			return step_fail("boot", t0, e);
		if (u->s.ssh_host[0] != '\0' && now - last_try >= SSH_TRY_EVERY_MS) {
			int r;

			last_try = now;
			r = ssh_probe(u, NULL, e);
			if (r < 0)
				return step_fail("boot", t0, e);
			good = r ? good + 1 : 0;
			if (good >= 2)
				break;
			if (good == 1)
				last_try = now - SSH_TRY_EVERY_MS + 2000; /* the second login 2 s later */
		}
		if (now - t0 > limit) {
			err_setc(e, EXIT_TIMEOUT,
				 "no SSH login within %ds (timeouts.ssh). Last console line: \"%s\". "
				 "Look at `inception console` (%s)%s",
				 u->cfg->ssh_timeout, last, u->p.console,
				 u->alive ? "" : "; the kernel printed nothing: try accel: tcg");
			return step_fail("boot", t0, e);
		}
		report_status(good ? "ssh" : (u->alive ? "boot" : "firmware"), now - t0, last);
		sleep_ms(1000);
	}
	report_progress_done();
	{
		char msg[128];
		snprintf(msg, sizeof(msg), "SSH %s:%u answers with the pinned host key (%s)",
			 u->s.ssh_host, u->s.ssh_port, strcmp(u->s.accel, "kvm") == 0 ? "KVM" : "TCG");
		step_end_ok("boot", t0, msg);
	}
	return 0;
}

struct ci_status {
	char status[64]; /* from "status: X" */
};

static void ci_line(const char *line, void *arg)
{
	struct ci_status *c = arg;
	const char *p = strstr(line, "status:");

	if (p == line) {
		p += 7;
		while (*p == ' ')
			p++;
		snprintf(c->status, sizeof(c->status), "%s", p);
	}
}

static void ignore_line(const char *line, void *arg)
{
	(void)line;
	(void)arg;
}

/* Runs `cloud-init status [--wait]`; 0 with the status word, -1 when the
 * session could not run it (retry). */
static int ci_query(const struct vm_target *t, int wait, long deadline, struct ci_status *c,
		    int *rc, struct err *e)
{
	ssh_session s = NULL;
	int ret;

	c->status[0] = '\0';
	if (sshc_connect(&t->t, &s, e) < 0)
		return -1;
	ret = sshc_exec_deadline(s, wait ? "cloud-init status --wait" : "cloud-init status", ci_line,
				 ignore_line, c, rc, deadline, e);
	sshc_close(s);
	return ret;
}

static int wait_cloud_init(struct up *u, struct err *e)
{
	long t0 = report_now_ms();
	long deadline = t0 + (long)u->cfg->cloud_init_timeout * 1000;
	struct vm_target t;
	struct ci_status c;
	char last[200] = "";
	int rc = -1;

	report_step_begin("cloud-init", "waiting for cloud-init to finish");
	vm_target_from(&u->p, &u->s, 10, &t);
	for (;;) {
		struct err qe = { "", 0 };
		long now = report_now_ms();
		char *text = console_since(u->p.console, u->boot_off, last, sizeof(last));

		free(text);
		if (ci_query(&t, 0, now + 30000, &c, &rc, &qe) == 0) {
			if (strcmp(c.status, "running") != 0 && strcmp(c.status, "not started") != 0 &&
			    strcmp(c.status, "not run") != 0)
				break;
		} else if (qe.code == EXIT_HOSTKEY) {
			*e = qe;
			return step_fail("cloud-init", t0, e);
		} else {
			report_debug("cloud-init status: %s", qe.msg);
		}
		if (now > deadline) {
			err_setc(e, EXIT_TIMEOUT,
				 "cloud-init did not finish within %ds (timeouts.cloud_init); status "
				 "\"%s\". Look at `inception ssh -- sudo cloud-init status --long` and "
				 "/var/log/cloud-init-output.log in the guest, or `inception console`",
				 u->cfg->cloud_init_timeout, c.status);
			return step_fail("cloud-init", t0, e);
		}
		report_status("cloud-init", now - t0, last[0] ? last : c.status);
		sleep_ms(3000);
	}
	/* the documented way to wait, now that it returns at once */
	for (;;) {
		struct err qe = { "", 0 };

		if (ci_query(&t, 1, deadline + 60000, &c, &rc, &qe) == 0)
			break;
		if (qe.code == EXIT_HOSTKEY || report_now_ms() > deadline) {
			*e = qe;
			return step_fail("cloud-init", t0, e);
		}
		sleep_ms(2000);
	}
	report_progress_done();
	if (rc != 0 && rc != 2) {
		err_set(e, "cloud-init failed (status \"%s\", exit %d). Look at `inception ssh -- sudo "
			   "cloud-init status --long` and /var/log/cloud-init-output.log in the guest",
			c.status, rc);
		return step_fail("cloud-init", t0, e);
	}
	if (rc == 2)
		report_warn("cloud-init finished with recoverable errors (status \"%s\"): see "
			    "`inception ssh -- sudo cloud-init status --long`",
			    c.status);
	step_end_ok("cloud-init", t0, c.status[0] ? c.status : "done");
	return 0;
}

static int open_virt_for(const struct config *cfg, const struct vm_state *s, struct virt *v,
			 struct err *e)
{
	const char *uri = s && s->uri[0] ? s->uri : cfg->libvirt_uri;
	return virt_open(uri, v, e);
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
	report_warn("/dev/kvm is not root:kvm mode 0660 (mode %04o): libvirt's QEMU user cannot "
		    "open it and libvirt 9.0 re-probes QEMU on every call (minutes per start). "
		    "Fix as root (udev normally does it): chgrp kvm /dev/kvm && chmod 0660 /dev/kvm",
		    (unsigned)(st.st_mode & 07777));
	return 1;
}

int vm_up(struct cli *cli, const struct vm_up_opts *o, struct vm_target *t, struct err *e)
{
	struct up u;
	struct err le = { "", 0 };
	enum virt_dom_state st;
	char marker[PATH_MAX];
	long t0;
	int have_state, kvm, ret = -1;

	memset(&u, 0, sizeof(u));
	u.cli = cli;
	u.cfg = &cli->cfg;
	if (vm_paths(u.cfg->vm_name, &u.p, e) < 0)
		return -1;
	have_state = vmstate_load(&u.p, &u.s, &le) == 0;
	if (!have_state) {
		memset(&u.s, 0, sizeof(u.s));
		snprintf(u.s.domain, sizeof(u.s.domain), "%s", u.cfg->vm_name);
	}
	snprintf(u.s.login, sizeof(u.s.login), "%s", u.cfg->login);

	t0 = report_now_ms();
	report_step_begin("libvirt", "connecting");
	if (open_virt_for(u.cfg, have_state ? &u.s : NULL, &u.v, e) < 0)
		return step_fail("libvirt", t0, e);
	snprintf(u.s.uri, sizeof(u.s.uri), "%s", u.v.uri);
	if (u.cfg->net_mode == NET_NAT && !u.v.system && u.v.local) {
		err_setc(e, EXIT_USAGE, "network.mode nat needs a system libvirt connection (%s is a "
					"session): use network.mode user or libvirt.uri qemu:///system",
			 u.v.uri);
		goto fail_libvirt;
	}
	if (u.cfg->accel != ACCEL_TCG) {
		struct accel_host h = { 1, NULL, 0, 0, NULL };
		char dev_why[ACCEL_WHY_MAX] = "";

		/* a remote host's device is libvirt's business */
		if (u.v.local) {
			h.dev_usable = kvm_device_check(KVM_DEVICE, dev_why, sizeof(dev_why)) &&
				       !warn_kvm_perms(&u.v);
			if (!h.dev_usable && !dev_why[0])
				snprintf(dev_why, sizeof(dev_why), "libvirt's QEMU user cannot open %s",
					 KVM_DEVICE);
			h.dev_why = dev_why;
		}
		h.libvirt_kvm = h.dev_usable && virt_kvm_available(&u.v);
		if (kvm_hang_marker(marker, sizeof(marker), e) == 0 && access(marker, F_OK) == 0) {
			h.hung_before = 1;
			h.marker = marker;
		}
		if (accel_decide(u.cfg->accel, &h, &u.plan, e) < 0)
			goto fail_libvirt;
		if (u.plan.why[0])
			report_info("accel auto: %s: using TCG (software emulation)", u.plan.why);
	} else if (accel_decide(ACCEL_TCG, NULL, &u.plan, e) < 0) {
		goto fail_libvirt;
	}
	kvm = strcmp(u.plan.first, "kvm") == 0;
	{
		char msg[320];
		snprintf(msg, sizeof(msg), "%s (libvirt %lu.%lu.%lu)%s", u.v.uri, u.v.libver / 1000000,
			 u.v.libver / 1000 % 1000, u.v.libver % 1000,
			 u.cfg->libvirt_uri == NULL && !u.v.system ? ", qemu:///system was not usable" : "");
		step_end_ok("libvirt", t0, msg);
	}

	if (virt_dom_state(&u.v, u.s.domain, &st, e) < 0)
		goto done;
	if (st == VIRT_DOM_ABSENT && !have_state) {
		/* record what this up will create before creating it, so that
		 * destroy can clean up after an interrupted run */
		snprintf(u.s.pool, sizeof(u.s.pool), "%s", POOL_NAME);
		snprintf(u.s.disk_vol, sizeof(u.s.disk_vol), "%s.qcow2", u.s.domain);
		snprintf(u.s.seed_vol, sizeof(u.s.seed_vol), "%s-seed.iso", u.s.domain);
		snprintf(u.s.phase, sizeof(u.s.phase), "creating");
		if (mkdir_p(u.p.dir, 0700, e) < 0 || vmstate_save(&u.p, &u.s, e) < 0)
			goto done;
		have_state = 1;
	}
	if (st == VIRT_DOM_ABSENT) {
		if (create_vm(&u, o, e) < 0)
			goto done;
		st = VIRT_DOM_OFF;
	} else if (!have_state) {
		err_setc(e, EXIT_FAIL,
			 "a libvirt domain named %s exists but inception has no state for it in %s: "
			 "choose another vm.name, or remove it (`virsh undefine %s`)",
			 u.s.domain, u.p.dir, u.s.domain);
		goto done;
	} else if (strcmp(u.s.phase, "ready") == 0 && st == VIRT_DOM_RUNNING) {
		/* already up: check it answers, without the boot watch */
		t0 = report_now_ms();
		report_step_begin("vm", "already running: checking SSH");
		ssh_session live = NULL;

		if (ssh_probe(&u, &live, e) == 1) {
			step_end_ok("vm", t0, "running, SSH answers with the pinned host key");
			if (vm_write_ssh_files(&u.p, &u.s, u.cfg->vm_name, e) < 0) {
				sshc_close(live);
				goto done;
			}
			vm_target_from(&u.p, &u.s, 10, t);
			t->live = live; /* the stack half goes on on this session */
			ret = 0;
			goto done;
		}
		if (e->code == EXIT_HOSTKEY)
			goto done;
		report_step_end("vm", "retry", report_now_ms() - t0, "no SSH yet: waiting");
	}
	if (st == VIRT_DOM_OFF) {
		t0 = report_now_ms();
		report_step_begin("start", "starting the VM");
		{
			char type[16];
			if (virt_dom_type(&u.v, u.s.domain, type, sizeof(type), e) < 0)
				goto done;
			/* an existing KVM definition with KVM now known to hang: switch */
			if (strcmp(type, "kvm") == 0 && !kvm && u.cfg->accel != ACCEL_KVM)
				snprintf(type, sizeof(type), "qemu");
			if (u.cfg->accel == ACCEL_TCG)
				snprintf(type, sizeof(type), "qemu");
			if (u.cfg->accel == ACCEL_KVM)
				snprintf(type, sizeof(type), "kvm");
			if (define_domain(&u, type, e) < 0)
				goto fail_start;
		}
		if (start_domain(&u, e) < 0) {
			char why[ERR_MSG_MAX + 64];
			const char *nl;

			/* auto: a KVM that refuses to start (here: qemu asserts on
			 * an MSR) is as good as one that hangs */
			if (strcmp(u.s.accel, "kvm") != 0 || !u.plan.fallback_tcg)
				goto fail_start;
			nl = strchr(e->msg, '\n');
			snprintf(why, sizeof(why), "the VM does not start under KVM (%.*s)",
				 nl ? (int)(nl - e->msg) : (int)strlen(e->msg), e->msg);
			err_clear(e);
			if (fall_back_to_tcg(&u, why, e) < 0)
				goto fail_start;
		}
		snprintf(u.s.phase, sizeof(u.s.phase), "booting");
		if (vmstate_save(&u.p, &u.s, e) < 0)
			goto done;
		step_end_ok("start", t0, strcmp(u.s.accel, "kvm") == 0
					       ? "under KVM (watching for a hang)"
					       : "under TCG (software emulation: boot takes about a minute)");
	}
	if (!u.started_now) {
		/* a VM that was already running: only new console output counts */
		u.boot_off = file_size(u.p.console);
		u.boot_t0 = report_now_ms();
	}
	if (wait_ssh(&u, e) < 0)
		goto done;
	if (vm_write_ssh_files(&u.p, &u.s, u.cfg->vm_name, e) < 0)
		goto done;
	if (wait_cloud_init(&u, e) < 0)
		goto done;
	snprintf(u.s.phase, sizeof(u.s.phase), "ready");
	if (vmstate_save(&u.p, &u.s, e) < 0)
		goto done;
	vm_target_from(&u.p, &u.s, 10, t);
	ret = 0;
	goto done;
fail_start:
	step_fail("start", t0, e);
	goto done;
fail_libvirt:
	step_fail("libvirt", t0, e);
done:
	report_progress_done();
	virt_close(&u.v);
	return ret;
}

static int parse_up_opts(struct cli *cli, int argc, char **argv, struct vm_up_opts *o,
			 struct err *e)
{
	static const struct option opts[] = {
		{ "no-build-fallback", no_argument, NULL, 'B' },
		{ "vm-only", no_argument, NULL, 'M' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	while ((c = cli_getopt(cli, argc, argv, "", opts, e)) != -1) {
		if (c == '?')
			return -1;
		if (c == 'B')
			o->no_build_fallback = 1;
		if (c == 'M')
			o->vm_only = 1;
	}
	if (optind < argc)
		return err_setc(e, EXIT_USAGE, "%s: unexpected argument \"%s\"", argv[0], argv[optind]);
	return 0;
}

static int up_locked(struct cli *cli, const struct vm_up_opts *o, struct err *e)
{
	struct vm_target t;
	long t0 = report_now_ms();

	struct vm_state s;
	char domain[CONFIG_LOGIN_MAX + 8];
	int ret;

	if (vm_up(cli, o, &t, e) < 0)
		return -1;
	report_info("VM %s is up: `inception ssh` or `ssh -F %s %s` (%.0fs)", cli->cfg.vm_name,
		    t.paths.ssh_config, cli->cfg.vm_name, (double)(report_now_ms() - t0) / 1000.0);
	if (o->vm_only) {
		sshc_close(t.live);
		report_info("--vm-only: the VM is up; no push, no agent");
		return 0;
	}
	ret = stack_up(cli, &t, e);
	sshc_close(t.live);
	if (ret < 0)
		return -1;
	if (!cli->cfg.map_domain)
		return 0;
	/* the stack's DOMAIN_NAME is LOGIN.42.fr (creds.c) */
	snprintf(domain, sizeof(domain), "%s.42.fr", cli->cfg.login);
	if (vmstate_load(&t.paths, &s, e) < 0 || hostmap_apply(&cli->cfg, domain, &s, e) < 0)
		return -1;
	return vmstate_save(&t.paths, &s, e);
}

static int destroy_one(const struct config *cfg, const char *name, struct err *e);

/* up and rebuild: the options, the host checks, then (rebuild only) the
 * old VM destroyed, then up with the VM's lock held. */
static int up_cmd(struct cli *cli, int argc, char **argv, int destroy_first, struct err *e)
{
	struct vm_up_opts o;
	struct vm_paths p;
	int lock = -1, ret;

	if (parse_up_opts(cli, argc, argv, &o, e) < 0 || hostmap_precheck(&cli->cfg, e) < 0)
		return -1;
	if (destroy_first && destroy_one(&cli->cfg, cli->cfg.vm_name, e) < 0)
		return -1;
	if (vm_paths(cli->cfg.vm_name, &p, e) < 0 || vm_lock(&p, &lock, e) < 0)
		return -1;
	ret = up_locked(cli, &o, e);
	vm_unlock(lock);
	return ret;
}

int cmd_up(struct cli *cli, int argc, char **argv, struct err *e)
{
	return up_cmd(cli, argc, argv, 0, e);
}

/* ---- status --------------------------------------------------------- */

int cmd_status(struct cli *cli, int argc, char **argv, struct err *e)
{
	struct vm_paths p;
	struct vm_state s;
	struct virt v;
	struct vm_target t;
	enum virt_dom_state st = VIRT_DOM_ABSENT;
	struct ci_status c = { "" };
	char sshcmd[PATH_MAX + 128], sshmsg[ERR_MSG_MAX] = "";
	int ssh_ok = 0, have_virt, rc = -1;

	if (no_args(cli, argc, argv, e) < 0)
		return -1;
	if (vm_paths(cli->cfg.vm_name, &p, e) < 0 || vmstate_load(&p, &s, e) < 0)
		return -1;
	have_virt = virt_open(s.uri, &v, e) == 0;
	if (have_virt && virt_dom_state(&v, s.domain, &st, e) < 0) {
		virt_close(&v);
		return -1;
	}
	if (!have_virt)
		snprintf(sshmsg, sizeof(sshmsg), "%s", e->msg);
	if (st == VIRT_DOM_RUNNING && s.ssh_host[0] && s.ssh_port) {
		struct err se = { "", 0 };

		vm_target_from(&p, &s, 5, &t);
		if (ci_query(&t, 0, report_now_ms() + 20000, &c, &rc, &se) == 0)
			ssh_ok = 1;
		else
			snprintf(sshmsg, sizeof(sshmsg), "%s", se.msg);
	}
	snprintf(sshcmd, sizeof(sshcmd), "ssh -F %s %s", p.ssh_config, cli->cfg.vm_name);
	report_kv_begin(NULL);
	report_kv("name", s.domain, NULL);
	report_kv("state", have_virt ? virt_dom_state_name(st) : "unknown", NULL);
	report_kv("uri", s.uri, NULL);
	report_kv("accel", strcmp(s.accel, "kvm") == 0 ? "kvm" : "tcg", NULL);
	report_kv("network", s.net, NULL);
	if (strcmp(s.net, "user") == 0)
		report_kv("forwards", s.forwards, NULL);
	report_kv("ssh_host", s.ssh_host, NULL);
	{
		char port[16];
		snprintf(port, sizeof(port), "%u", s.ssh_port);
		report_kv_raw("ssh_port", port, NULL);
	}
	report_kv_raw("ssh_ok", ssh_ok ? "true" : "false", NULL);
	if (!ssh_ok && sshmsg[0])
		report_kv("ssh_error", sshmsg, NULL);
	report_kv("cloud_init", ssh_ok ? c.status : "unknown", NULL);
	report_kv("ssh", sshcmd, NULL);
	report_kv("state_dir", p.dir, NULL);
	report_kv("console_log", p.console, NULL);
	report_kv("phase", s.phase, NULL);
	report_kv_end();
	if (have_virt)
		virt_close(&v);
	return 0;
}

/* ---- ssh ------------------------------------------------------------ */

int cmd_ssh(struct cli *cli, int argc, char **argv, struct err *e)
{
	static const struct option none[] = { { NULL, 0, NULL, 0 } };
	struct vm_target t;
	struct vm_state s;
	ssh_session sess = NULL;
	char *cmd = NULL;
	size_t len = 0;
	int c, i, status = -1, ret = -1;

	while ((c = cli_getopt(cli, argc, argv, "", none, e)) != -1)
		if (c == '?')
			return -1;
	if (vm_target(&cli->cfg, &t, e) < 0 || vmstate_load(&t.paths, &s, e) < 0)
		return -1;
	if (vm_write_ssh_files(&t.paths, &s, cli->cfg.vm_name, e) < 0)
		return -1;
	/* checks the pinned host key the same way for both modes */
	if (sshc_connect(&t.t, &sess, e) < 0)
		return -1;
	if (optind >= argc) {
		char *args[] = { "ssh", "-F", t.paths.ssh_config, cli->cfg.vm_name, NULL };

		sshc_close(sess);
		fflush(NULL);
		execvp(args[0], args);
		return err_set(e, "cannot run ssh (%s): install openssh-client, or use `inception "
				  "ssh -- CMD`",
			       strerror(errno));
	}
	/* like ssh(1): the words of CMD joined with spaces, run by the login shell */
	for (i = optind; i < argc; i++)
		len += strlen(argv[i]) + 1;
	cmd = malloc(len + 1);
	if (cmd == NULL) {
		err_set(e, "out of memory");
		goto done;
	}
	cmd[0] = '\0';
	for (i = optind; i < argc; i++) {
		if (i > optind)
			strcat(cmd, " ");
		strcat(cmd, argv[i]);
	}
	if (sshc_exec(sess, cmd, NULL, NULL, NULL, &status, e) < 0)
		goto done;
	ret = status; /* the remote exit status is ours */
done:
	free(cmd);
	sshc_close(sess);
	return ret;
}

/* ---- console -------------------------------------------------------- */

static volatile sig_atomic_t interrupted;
static void on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
}

int cmd_console(struct cli *cli, int argc, char **argv, struct err *e)
{
	static const struct option opts[] = { { "no-follow", no_argument, NULL, 'n' },
					      { NULL, 0, NULL, 0 } };
	struct vm_paths p;
	struct vm_state s;
	struct virt v;
	char buf[65536];
	int c, fd, follow = 1, have_virt, idle = 0;
	struct sigaction sa;

	while ((c = cli_getopt(cli, argc, argv, "n", opts, e)) != -1) {
		if (c == '?')
			return -1;
		if (c == 'n')
			follow = 0;
	}
	if (vm_paths(cli->cfg.vm_name, &p, e) < 0 || vmstate_load(&p, &s, e) < 0)
		return -1;
	fd = open(p.console, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, "open %s: %s (has the VM been started?)", p.console, strerror(errno));
	have_virt = follow && virt_open(s.uri, &v, e) == 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigaction(SIGINT, &sa, NULL);
	if (follow && report_verbosity() >= 0)
		fprintf(stderr, "(following %s; Ctrl-C to stop)\n", p.console);
	while (!interrupted) {
		ssize_t r = read(fd, buf, sizeof(buf));

		if (r > 0) {
			fwrite(buf, 1, (size_t)r, stdout);
			fflush(stdout);
			idle = 0;
			continue;
		}
		if (!follow)
			break;
		/* stop following once the domain is no longer running */
		if (have_virt && ++idle % 10 == 0) {
			enum virt_dom_state st;
			if (virt_dom_state(&v, s.domain, &st, e) == 0 && st != VIRT_DOM_RUNNING &&
			    st != VIRT_DOM_OTHER)
				break;
		}
		sleep_ms(200);
	}
	close(fd);
	if (have_virt)
		virt_close(&v);
	return 0;
}

/* ---- down ----------------------------------------------------------- */

int cmd_down(struct cli *cli, int argc, char **argv, struct err *e)
{
	static const struct option opts[] = { { "timeout", required_argument, NULL, 't' },
					      { NULL, 0, NULL, 0 } };
	struct vm_paths p;
	struct vm_state s;
	struct virt v;
	long t0 = report_now_ms();
	int c, lock = -1, timeout = 120, forced = 0, ret = -1;

	while ((c = cli_getopt(cli, argc, argv, "", opts, e)) != -1) {
		char *end;
		if (c == '?')
			return -1;
		if (c == 't') {
			long n = strtol(optarg, &end, 10);
			if (*end != '\0' || n < 1 || n > 3600)
				return err_setc(e, EXIT_USAGE, "down: invalid --timeout %s (1..3600 seconds)",
						optarg);
			timeout = (int)n;
		}
	}
	if (vm_paths(cli->cfg.vm_name, &p, e) < 0 || vmstate_load(&p, &s, e) < 0)
		return -1;
	if (vm_lock(&p, &lock, e) < 0)
		return -1;
	if (virt_open(s.uri, &v, e) < 0)
		goto done;
	report_step_begin("down", "ACPI shutdown");
	if (virt_dom_shutdown(&v, s.domain, timeout, &forced, e) < 0) {
		step_fail("down", t0, e);
		goto close;
	}
	snprintf(s.phase, sizeof(s.phase), "down");
	if (vmstate_save(&p, &s, e) < 0)
		goto close;
	if (forced)
		report_warn("the guest did not power off within %ds: it was forced off", timeout);
	step_end_ok("down", t0, forced ? "forced off" : "powered off");
	ret = 0;
close:
	virt_close(&v);
done:
	vm_unlock(lock);
	return ret;
}

/* ---- destroy -------------------------------------------------------- */

/* Removes a state directory and everything in it (the stack code keeps
 * generated secrets in a subdirectory); symbolic links are not followed. */
static int rm_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (type == FTW_DP)
		return rmdir(path) < 0 && errno != ENOENT ? -1 : 0;
	return unlink(path) < 0 && errno != ENOENT ? -1 : 0;
}

static int remove_state_dir(const char *dir, struct err *e)
{
	if (access(dir, F_OK) < 0 && errno == ENOENT)
		return 0;
	if (nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) < 0)
		return err_set(e, "remove %s: %s", dir, strerror(errno));
	return 0;
}

static int destroy_one(const struct config *cfg, const char *name, struct err *e)
{
	struct vm_paths p;
	struct vm_state s;
	struct virt v;
	struct err le = { "", 0 };
	long t0 = report_now_ms();
	int lock = -1, have_state, have_virt = 0, users = 0, ret = -1;

	if (vm_paths(name, &p, e) < 0)
		return -1;
	have_state = vmstate_load(&p, &s, &le) == 0;
	if (!have_state && access(p.dir, F_OK) != 0) {
		report_info("%s: nothing to destroy", name);
		return 0;
	}
	if (vm_lock(&p, &lock, e) < 0)
		return -1;
	report_step_begin("destroy", name);
	if (!have_state) {
		/* an up that stopped before it saved any state: only local files */
		memset(&s, 0, sizeof(s));
	} else {
		if (open_virt_for(cfg, &s, &v, e) < 0)
			goto fail;
		have_virt = 1;
		if (virt_dom_remove(&v, s.domain, e) < 0)
			goto fail;
		if (s.pool[0]) {
			if ((s.disk_vol[0] && virt_vol_delete(&v, s.pool, s.disk_vol, e) < 0) ||
			    (s.seed_vol[0] && virt_vol_delete(&v, s.pool, s.seed_vol, e) < 0))
				goto fail;
			/* the base volume goes with its last user (the image cache stays) */
			if (s.base_vol[0]) {
				int plock = -1;
				char ok[160];
				size_t bl = strlen(s.base_vol);

				snprintf(ok, sizeof(ok), "%.*s.ok", (int)(bl > 6 ? bl - 6 : bl), s.base_vol);
				if (pool_lock(&plock, e) < 0)
					goto fail;
				if (virt_vol_users(&v, s.pool, s.base_vol, &users, e) == 0 && users == 0 &&
				    (virt_vol_delete(&v, s.pool, ok, e) < 0 ||
				     virt_vol_delete(&v, s.pool, s.base_vol, e) < 0)) {
					close(plock);
					goto fail;
				}
				close(plock);
			}
		}
	}
	/* the hosts line goes before the state that says it was ours */
	if ((have_state && hostmap_undo(&s, e) < 0) || remove_state_dir(p.dir, e) < 0)
		goto fail;
	step_end_ok("destroy", t0, users ? "domain, volumes and state removed (base volume kept: in use)"
					 : "domain, volumes and state removed");
	ret = 0;
	goto done;
fail:
	step_fail("destroy", t0, e);
done:
	if (have_virt)
		virt_close(&v);
	vm_unlock(lock);
	return ret;
}

int cmd_destroy(struct cli *cli, int argc, char **argv, struct err *e)
{
	static const struct option opts[] = { { "all", no_argument, NULL, 'a' },
					      { NULL, 0, NULL, 0 } };
	char root[PATH_MAX];
	DIR *d;
	struct dirent *de;
	int c, all = 0, ret = 0;

	while ((c = cli_getopt(cli, argc, argv, "", opts, e)) != -1) {
		if (c == '?')
			return -1;
		if (c == 'a')
			all = 1;
	}
	if (optind < argc)
		return err_setc(e, EXIT_USAGE, "destroy: unexpected argument \"%s\"", argv[optind]);
	if (!all)
		return destroy_one(&cli->cfg, cli->cfg.vm_name, e);
	if (xdg_state_dir(root, sizeof(root), NULL, e) < 0)
		return -1;
	d = opendir(root);
	if (d == NULL) {
		report_info("no VMs (%s does not exist)", root);
		return 0;
	}
	while ((de = readdir(d)) != NULL) {
		char st[PATH_MAX + 16];

		if (de->d_name[0] == '.' || strcmp(de->d_name, "kvm-hangs") == 0)
			continue;
		if (path_join(st, sizeof(st), e, "%s/%s/vm.state", root, de->d_name) < 0 ||
		    access(st, F_OK) != 0)
			continue;
		if (destroy_one(&cli->cfg, de->d_name, e) < 0) {
			report_error(e->msg);
			ret = -1;
		}
	}
	closedir(d);
	if (ret < 0)
		return err_set(e, "destroy --all: some VMs could not be destroyed (see above)");
	return 0;
}

/* ---- rebuild -------------------------------------------------------- */

int cmd_rebuild(struct cli *cli, int argc, char **argv, struct err *e)
{
	return up_cmd(cli, argc, argv, 1, e);
}
