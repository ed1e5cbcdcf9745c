/*
 * vm_up.c: the VM half of `inception up`, and the end of a VM (down,
 * destroy).
 *
 * vm_up() connects to libvirt and picks the accelerator, then takes the VM
 * from wherever it is (nothing, created, stopped, running) to "booted,
 * cloud-init done, reachable over SSH with the pinned host key": create
 * (vm_create.c), start and boot (vm_boot.c), readiness (vm_ready.c).  Each
 * phase is recorded in the state file before the next begins, so an
 * interrupted up resumes and destroy can always clean up.
 */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hostmap.h"
#include "report.h"
#include "util.h"
#include "vm_int.h"

int vm_step_ok(const char *step, long t0, const char *msg)
{
	report_step_end(step, "ok", report_now_ms() - t0, msg);
	return 0;
}

int vm_step_fail(const char *step, long t0, struct err *e)
{
	report_step_end(step, "fail", report_now_ms() - t0, e->msg);
	return -1;
}

int vm_open_virt(const struct config *cfg, const struct vm_state *s, struct virt *v, struct err *e)
{
	const char *uri = s && s->uri[0] ? s->uri : cfg->libvirt_uri;
	return virt_open(uri, v, e);
}

/* The "libvirt" step: the connection (the state's URI for an existing VM)
 * and the accelerator plan. */
static int vm_connect(struct up *u, int have_state, struct err *e)
{
	long t0 = report_now_ms();
	char msg[320];

	report_step_begin("libvirt", "connecting");
	if (vm_open_virt(u->cfg, have_state ? &u->s : NULL, &u->v, e) < 0)
		return vm_step_fail("libvirt", t0, e);
	snprintf(u->s.uri, sizeof(u->s.uri), "%s", u->v.uri);
	if (u->cfg->net_mode == NET_NAT && !u->v.system && u->v.local) {
		err_setc(e, EXIT_USAGE,
		         "network.mode nat needs a system libvirt connection (%s is a "
		         "session): use network.mode user or libvirt.uri qemu:///system",
		         u->v.uri);
		return vm_step_fail("libvirt", t0, e);
	}
	if (vm_choose_accel(u, e) < 0)
		return vm_step_fail("libvirt", t0, e);
	snprintf(msg, sizeof(msg), "%s (libvirt %lu.%lu.%lu)%s", u->v.uri, u->v.libver / 1000000,
	         u->v.libver / 1000 % 1000, u->v.libver % 1000,
	         u->cfg->libvirt_uri == NULL && !u->v.system ? ", qemu:///system was not usable"
	                                                     : "");
	return vm_step_ok("libvirt", t0, msg);
}

/* Before creating anything, record what this up will create, so that
 * destroy can clean up after an interrupted run. */
static int record_new_vm(struct up *u, struct err *e)
{
	snprintf(u->s.pool, sizeof(u->s.pool), "%s", POOL_NAME);
	snprintf(u->s.disk_vol, sizeof(u->s.disk_vol), "%s.qcow2", u->s.domain);
	snprintf(u->s.seed_vol, sizeof(u->s.seed_vol), "%s-seed.iso", u->s.domain);
	snprintf(u->s.phase, sizeof(u->s.phase), "creating");
	if (mkdir_p(u->p.dir, 0700, e) < 0 || vmstate_save(&u->p, &u->s, e) < 0)
		return -1;
	return 0;
}

/* A VM that is ready and running: 1 if it answers SSH (the session is kept
 * in t for the stack half), 0 if not yet (boot wait follows), -1 on a host
 * key mismatch or another error. */
static int check_running(struct up *u, struct vm_target *t, struct err *e)
{
	long t0 = report_now_ms();
	ssh_session live = NULL;

	report_step_begin("vm", "already running: checking SSH");
	if (vm_ssh_probe(u, &live, e) == 1) {
		vm_step_ok("vm", t0, "running, SSH answers with the pinned host key");
		if (vm_write_ssh_files(&u->p, &u->s, u->cfg->vm_name, e) < 0) {
			sshc_close(live);
			return -1;
		}
		vm_target_from(&u->p, &u->s, 10, t);
		t->live = live; /* the stack half goes on on this session */
		return 1;
	}
	if (e->code == EXIT_HOSTKEY)
		return -1;
	report_step_end("vm", "retry", report_now_ms() - t0, "no SSH yet: waiting");
	return 0;
}

/* From a started (or running) domain to ready: SSH, then cloud-init. */
static int wait_ready(struct up *u, struct vm_target *t, struct err *e)
{
	if (!u->started_now) {
		/* a VM that was already running: only new console output counts */
		u->boot_off = vm_console_size(u->p.console);
		u->boot_t0 = report_now_ms();
	}
	if (vm_wait_ssh(u, e) < 0 || vm_write_ssh_files(&u->p, &u->s, u->cfg->vm_name, e) < 0 ||
	    vm_wait_cloud_init(u, e) < 0)
		return -1;
	snprintf(u->s.phase, sizeof(u->s.phase), "ready");
	if (vmstate_save(&u->p, &u->s, e) < 0)
		return -1;
	vm_target_from(&u->p, &u->s, 10, t);
	return 0;
}

int vm_up(struct cli *cli, const struct vm_up_opts *o, struct vm_target *t, struct err *e)
{
	struct up u;
	struct err le = {"", 0};
	enum virt_dom_state st;
	int have_state, r, ret = -1;

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
	if (vm_connect(&u, have_state, e) < 0)
		goto done;
	if (virt_dom_state(&u.v, u.s.domain, &st, e) < 0)
		goto done;
	if (st == VIRT_DOM_ABSENT) {
		if ((!have_state && record_new_vm(&u, e) < 0) || vm_create(&u, o, e) < 0)
			goto done;
		st = VIRT_DOM_OFF;
	} else if (!have_state) {
		err_setc(
		    e, EXIT_FAIL,
		    "a libvirt domain named %s exists but inception has no state for it in %s: "
		    "choose another vm.name, or remove it (`virsh undefine %s`)",
		    u.s.domain, u.p.dir, u.s.domain);
		goto done;
	} else if (strcmp(u.s.phase, "ready") == 0 && st == VIRT_DOM_RUNNING) {
		r = check_running(&u, t, e);
		if (r != 0) {
			ret = r > 0 ? 0 : -1;
			goto done;
		}
	}
	if (st == VIRT_DOM_OFF && vm_start(&u, e) < 0)
		goto done;
	ret = wait_ready(&u, t, e);
done:
	report_progress_done();
	virt_close(&u.v);
	return ret;
}

/* ---- down ----------------------------------------------------------- */

int vm_down(const struct config *cfg, int timeout, struct err *e)
{
	struct vm_paths p;
	struct vm_state s;
	struct virt v;
	long t0 = report_now_ms();
	int lock = -1, forced = 0, ret = -1;

	if (vm_paths(cfg->vm_name, &p, e) < 0 || vmstate_load(&p, &s, e) < 0)
		return -1;
	if (vm_lock(&p, &lock, e) < 0)
		return -1;
	if (virt_open(s.uri, &v, e) < 0)
		goto done;
	report_step_begin("down", "ACPI shutdown");
	if (virt_dom_shutdown(&v, s.domain, timeout, &forced, e) < 0) {
		vm_step_fail("down", t0, e);
		goto close;
	}
	snprintf(s.phase, sizeof(s.phase), "down");
	if (vmstate_save(&p, &s, e) < 0)
		goto close;
	if (forced)
		report_warn("the guest did not power off within %ds: it was forced off", timeout);
	vm_step_ok("down", t0, forced ? "forced off" : "powered off");
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

int remove_state_dir(const char *dir, struct err *e)
{
	if (access(dir, F_OK) < 0 && errno == ENOENT)
		return 0;
	if (nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) < 0)
		return err_set(e, "remove %s: %s", dir, strerror(errno));
	return 0;
}

/* The base volume (and its .ok marker) once no overlay uses it; *users is
 * how many still do. */
static int drop_unused_base(struct virt *v, const struct vm_state *s, int *users, struct err *e)
{
	int plock = -1, ret = 0;
	char ok[160];
	size_t bl = strlen(s->base_vol);

	snprintf(ok, sizeof(ok), "%.*s.ok", (int)(bl > 6 ? bl - 6 : bl), s->base_vol);
	if (vm_pool_lock(&plock, e) < 0)
		return -1;
	if (virt_vol_users(v, s->pool, s->base_vol, users, e) == 0 && *users == 0 &&
	    (virt_vol_delete(v, s->pool, ok, e) < 0 ||
	     virt_vol_delete(v, s->pool, s->base_vol, e) < 0))
		ret = -1;
	close(plock);
	return ret;
}

int vm_destroy(const struct config *cfg, const char *name, struct err *e)
{
	struct vm_paths p;
	struct vm_state s;
	struct virt v;
	struct err le = {"", 0};
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
		if (vm_open_virt(cfg, &s, &v, e) < 0)
			goto fail;
		have_virt = 1;
		if (virt_dom_remove(&v, s.domain, e) < 0)
			goto fail;
		if (s.pool[0]) {
			if ((s.disk_vol[0] && virt_vol_delete(&v, s.pool, s.disk_vol, e) < 0) ||
			    (s.docker_vol[0] && virt_vol_delete(&v, s.pool, s.docker_vol, e) < 0) ||
			    (s.seed_vol[0] && virt_vol_delete(&v, s.pool, s.seed_vol, e) < 0))
				goto fail;
			/* the base volume goes with its last user (the image cache stays) */
			if (s.base_vol[0] && drop_unused_base(&v, &s, &users, e) < 0)
				goto fail;
		}
	}
	/* the hosts line goes before the state that says it was ours */
	if ((have_state && hostmap_undo(&s, e) < 0) || remove_state_dir(p.dir, e) < 0)
		goto fail;
	vm_step_ok("destroy", t0,
	           users ? "domain, volumes and state removed (base volume kept: in use)"
	                 : "domain, volumes and state removed");
	ret = 0;
	goto done;
fail:
	vm_step_fail("destroy", t0, e);
done:
	if (have_virt)
		virt_close(&v);
	vm_unlock(lock);
	return ret;
}
