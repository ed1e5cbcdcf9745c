/*
 * stack.c: push + agent + report, the second half of `up` (see stack.h).
 */
#include "stack.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agentrun.h"
#include "creds.h"
#include "names.h"
#include "push.h"
#include "report.h"
#include "seed.h"
#include "sshc.h"
#include "util.h"
#include "vmstate.h"

static int is_top(const char *dir)
{
	char p[PATH_MAX];

	if (snprintf(p, sizeof(p), "%s/srcs/docker-compose.yml", dir) >= (int)sizeof(p) ||
	    access(p, R_OK) != 0)
		return 0;
	return snprintf(p, sizeof(p), "%s/Makefile", dir) < (int)sizeof(p) && access(p, R_OK) == 0;
}

/* dirname(dirname(/proc/self/exe)) into buf, or "" */
static void exe_parent(char *buf, size_t n, int levels)
{
	char exe[PATH_MAX];
	ssize_t r = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	int i;

	buf[0] = '\0';
	if (r <= 0)
		return;
	exe[r] = '\0';
	for (i = 0; i < levels; i++) {
		char *slash = strrchr(exe, '/');

		if (slash == NULL || slash == exe)
			return;
		*slash = '\0';
	}
	snprintf(buf, n, "%s", exe);
}

int stack_find_top(char *buf, size_t n, struct err *e)
{
	const char *env = getenv("INCEPTION_TOP");
	char cwd[PATH_MAX];

	if (env && *env) {
		if (!is_top(env))
			return err_set(
			    e, "INCEPTION_TOP=%s has no Makefile and srcs/docker-compose.yml", env);
		return path_join(buf, n, e, "%s", env);
	}
	if (getcwd(cwd, sizeof(cwd)) && is_top(cwd))
		return path_join(buf, n, e, "%s", cwd);
	exe_parent(cwd, sizeof(cwd), 2);
	if (cwd[0] && is_top(cwd))
		return path_join(buf, n, e, "%s", cwd);
	return err_set(e, "cannot find the project tree (Makefile + srcs/): run inception from "
	                  "the repository, or set INCEPTION_TOP");
}

static int find_agent(const char *top, char *buf, size_t n, struct err *e)
{
	char dir[PATH_MAX];

	exe_parent(dir, sizeof(dir), 1);
	if (dir[0] && path_join(buf, n, e, "%s/agent", dir) == 0 && access(buf, X_OK) == 0)
		return 0;
	exe_parent(dir, sizeof(dir), 2); /* installed: PREFIX/bin/inception */
	if (dir[0] && path_join(buf, n, e, "%s/lib/inception/agent", dir) == 0 &&
	    access(buf, X_OK) == 0)
		return 0;
	if (path_join(buf, n, e, "%s/build/agent", top) == 0 && access(buf, X_OK) == 0)
		return 0;
	return err_set(e,
	               "the agent binary is missing (next to the inception binary, in "
	               "PREFIX/lib/inception, or %s/build/agent): run make build",
	               top);
}

/* The tree that holds agent/ (with lib/, sent for build-in-guest): the data dir (source tree or
 * PREFIX/share/inception), else the project tree. */
static void find_agent_src(const char *top, char *buf, size_t n)
{
	static const char probe[] = "/agent/build-in-guest.sh";
	struct err e2 = {.msg = ""};
	size_t len;

	if (data_path(probe + 1, buf, n, &e2) == 0 && (len = strlen(buf)) > sizeof(probe) - 1) {
		buf[len - (sizeof(probe) - 1)] = '\0';
		return;
	}
	snprintf(buf, n, "%s", top);
}

static int agent_conf_text(const struct config *c, const char *remote, char *buf, size_t n,
                           struct err *e)
{
	int r = snprintf(buf, n,
	                 "# Written by inception (the provisioner) for its guest agent.\n"
	                 "login=%s\ntree=%s\ndocker_source=%s\n%s%s%s%s%s%s",
	                 c->login, remote, docker_source_name(c->docker_source),
	                 c->apt_mirror ? "apt_mirror=" : "", c->apt_mirror ? c->apt_mirror : "",
	                 c->apt_mirror ? "\n" : "", c->apt_proxy ? "apt_proxy=" : "",
	                 c->apt_proxy ? c->apt_proxy : "", c->apt_proxy ? "\n" : "");

	if (r < 0 || (size_t)r >= n)
		return err_set(e, "agent settings too long");
	if (strchr(c->login, '\n') || strchr(remote, '\n') ||
	    (c->apt_mirror && strchr(c->apt_mirror, '\n')) ||
	    (c->apt_proxy && strchr(c->apt_proxy, '\n')))
		return err_set(e, "a setting for the agent contains a newline");
	return 0;
}

/* Shows the last 20 lines of a log in the guest. */
static void show_guest_log(ssh_session s, const char *log, int timeout_s)
{
	char q[600], cmd[700], *out = NULL, *line, *save = NULL;
	struct err e = {.msg = ""};
	int status = -1;

	if (shell_quote(log, q, sizeof(q), &e) < 0)
		return;
	snprintf(cmd, sizeof(cmd), "sudo -n tail -n 20 %s", q);
	if (remote_capture(s, cmd, timeout_s, &out, &status, &e) < 0 || out == NULL) {
		free(out);
		return;
	}
	report_info("last lines of %s in the VM:", log);
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		report_info("  | %s", line);
	free(out);
}

/* Copies the read end of a pipe into the channel (docker save -> docker
 * load), draining the remote side's output as it goes. */
static int pipe_to_channel(ssh_session s, int fd, ssh_channel ch, uint64_t total, struct err *e)
{
	uint64_t done = 0;

	for (;;) {
		char buf[65536], drain[4096];
		ssize_t r = read(fd, buf, sizeof(buf));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return err_set(e, "docker save: %s", strerror(errno));
		if (r == 0)
			break;
		if (ssh_channel_write(ch, buf, (uint32_t)r) != (int)r)
			return err_set(e, "ssh: write to docker load: %s", ssh_get_error(s));
		while (ssh_channel_read_nonblocking(ch, drain, sizeof(drain), 0) > 0 ||
		       ssh_channel_read_nonblocking(ch, drain, sizeof(drain), 1) > 0)
			;
		done += (uint64_t)r;
		report_progress(BASE_IMAGE " -> VM", done, total > done ? total : 0);
	}
	report_progress_done();
	ssh_channel_send_eof(ch);
	return 0;
}

/* Waits (bounded by timeouts.agent from t0) until the remote command ends. */
static int wait_remote_eof(ssh_channel ch, long t0, int timeout_s, struct err *e)
{
	char drain[4096];

	while (!ssh_channel_is_eof(ch) && !ssh_channel_is_closed(ch)) {
		if (report_now_ms() - t0 > (long)timeout_s * 1000)
			return err_setc(
			    e, EXIT_TIMEOUT,
			    "timed out: docker load in the VM did not finish within %d s "
			    "(timeouts.agent; raise it with --agent-timeout)",
			    timeout_s);
		if (ssh_channel_read_timeout(ch, drain, sizeof(drain), 0, 1000) == SSH_ERROR)
			break;
		/* unread stderr keeps ssh_channel_is_eof() false for ever: drain it too */
		while (ssh_channel_read_nonblocking(ch, drain, sizeof(drain), 1) > 0)
			;
	}
	return 0;
}

/* docker save (here) | docker load (guest), when the host has the image
 * (see stack.h).  Longer than 60 lines: docker save here and docker load there share the pipe, the
 * child and the channel, released under one label. */
int stack_stream_base(ssh_session s, const char *log, int timeout_s, struct err *e)
{
	char *const inspect[] = {"docker",    "image",    "inspect", "--format",
	                         "{{.Size}}", BASE_IMAGE, NULL};
	char *size_s = NULL;
	uint64_t total = 0;
	ssh_channel ch = NULL;
	int pfd[2] = {-1, -1}, status = 0, ret = -1;
	long t0 = report_now_ms();
	pid_t pid = -1;

	if (run_argv_capture(inspect, log, &size_s, NULL) < 0) {
		free(size_s);
		return 1; /* no image here: not an error, the guest builds it */
	}
	total = size_s ? strtoull(size_s, NULL, 10) : 0;
	free(size_s);
	report_step_begin("base", "streaming the host's " BASE_IMAGE " into the VM");
	if (pipe(pfd) < 0)
		return err_set(e, "pipe: %s", strerror(errno));
	{
		char *const save[] = {"docker", "save", BASE_IMAGE, NULL};
		struct spawn_opts so = {pfd[1], -1, -1, 0, NULL, NULL, NULL};

		if (spawn_argv(save, &so, &pid, e) < 0)
			goto done;
	}
	close(pfd[1]);
	pfd[1] = -1;
	ch = ssh_channel_new(s);
	if (ch == NULL || ssh_channel_open_session(ch) != SSH_OK ||
	    ssh_channel_request_exec(ch, "sudo -n docker load -q") != SSH_OK) {
		err_set(e, "ssh: cannot run docker load: %s", ssh_get_error(s));
		goto done;
	}
	if (pipe_to_channel(s, pfd[0], ch, total, e) < 0 ||
	    wait_remote_eof(ch, t0, timeout_s, e) < 0)
		goto done;
	status = ssh_channel_get_exit_status(ch);
	if (status != 0) {
		err_set(e, "docker load in the VM exited with status %d", status);
		goto done;
	}
	ret = 0;
done:
	if (pfd[0] >= 0)
		close(pfd[0]);
	if (pfd[1] >= 0)
		close(pfd[1]);
	if (pid > 0) {
		int ws = 0;

		if (ret < 0)
			kill(pid, SIGTERM);
		waitpid(pid, &ws, 0);
		if (ret == 0 && !(WIFEXITED(ws) && WEXITSTATUS(ws) == 0)) {
			err_set(e, "docker save failed (see %s)", log);
			ret = -1;
		}
	}
	if (ch) {
		if (ssh_channel_is_open(ch))
			ssh_channel_close(ch);
		ssh_channel_free(ch);
	}
	report_step_end("base", ret == 0 ? "ok" : "fail", report_now_ms() - t0,
	                ret == 0 ? "host image loaded in the VM" : e->msg);
	return ret;
}

static int run_agent_checked(ssh_session s, const char *agent, const char *args, int timeout_s,
                             struct err *e)
{
	struct agent_result r;

	if (agent_run(s, agent, args, timeout_s, &r, e) == 0)
		return 0;
	if (r.failed_log[0] && !r.interrupted && e->code != EXIT_TIMEOUT)
		show_guest_log(s, r.failed_log, timeout_s);
	if (!e->code)
		e->code = strcmp(r.failed_step, "health") == 0 ? EXIT_UNHEALTHY : EXIT_FAIL;
	return -1;
}

/* One run of the stack half: what the phases below share. */
struct stack_run {
	struct cli *cli;
	struct vm_target vt;
	struct vm_state vs;
	struct creds_paths cp;
	struct push_stats ps;
	ssh_session s;
	int own; /* s is ours to close (not up's probe session) */
	int tmo; /* timeouts.agent: each guest command, push included */
	char top[PATH_MAX], agent_bin[PATH_MAX], rbuf[PATH_MAX], conf[2048];
	char agent[PATH_MAX + 64]; /* the agent to run in the guest */
	const char *remote;        /* push.dir */
};

/* What the guest says about the agent: it runs and the engine has the base
 * image; it runs but the image (or the engine) is missing; it does not
 * start (a host glibc newer than the guest's). */
enum agent_probe { AGENT_READY, AGENT_NO_BASE, AGENT_CANNOT_START };

/* The tree, the VM's target and state, the generated credentials, the
 * agent's settings, and the SSH session (t's when up has one). */
static int prepare(struct stack_run *r, struct cli *cli, const struct vm_target *t, struct err *e)
{
	memset(r, 0, sizeof(*r));
	r->cli = cli;
	r->tmo = cli->cfg.agent_timeout;
	if (stack_find_top(r->top, sizeof(r->top), e) < 0 ||
	    find_agent(r->top, r->agent_bin, sizeof(r->agent_bin), e) < 0)
		return -1;
	if (t) {
		r->vt = *t;
		r->vt.t.host = r->vt.host; /* the copy's pointers must point into the copy */
		r->vt.t.user = r->vt.user;
		r->vt.t.identity = r->vt.paths.identity;
		r->vt.t.hostkey_pub = r->vt.paths.hostkey_pub;
		r->vt.t.jump_uri = r->vt.jump_uri;
	} else if (vm_target(&cli->cfg, &r->vt, e) < 0) {
		return -1;
	}
	if (vmstate_load(&r->vt.paths, &r->vs, e) < 0)
		return -1;
	r->remote = config_remote_dir(&cli->cfg, r->rbuf, sizeof(r->rbuf));
	if (r->remote[0] != '/')
		return err_setc(e, EXIT_USAGE, "push.dir must be an absolute path (got %s)",
		                r->remote);
	if (creds_ensure(&cli->cfg, r->top, r->vt.paths.dir, &r->cp, e) < 0 ||
	    agent_conf_text(&cli->cfg, r->remote, r->conf, sizeof(r->conf), e) < 0 ||
	    path_join(r->agent, sizeof(r->agent), e, "%s/.inception/agent", r->remote) < 0)
		return -1;
	if (r->vt.live) {
		r->s = r->vt.live; /* up's probe session, still open */
		return 0;
	}
	if (sshc_connect(&r->vt.t, &r->s, e) < 0)
		return -1;
	r->own = 1;
	return 0;
}

/* The "push" step: the tree, the agent (and its sources), the generated
 * .env and secrets. */
static int push_phase(struct stack_run *r, struct err *e)
{
	struct push_src src;
	char agent_src[PATH_MAX], msg[256];
	long t0 = report_now_ms();

	report_step_begin("push", r->remote);
	memset(&src, 0, sizeof(src));
	src.top = r->top;
	src.agent_bin = r->agent_bin;
	src.agent_conf = r->conf;
	src.env_file = r->cp.env;
	src.secrets_dir = r->cp.secrets;
	src.with_agent_src = 1;
	find_agent_src(r->top, agent_src, sizeof(agent_src));
	src.agent_src_top = agent_src;
	src.timeout_s = r->tmo;
	if (push_tree(r->s, &src, r->remote, &r->ps, e) < 0) {
		report_step_end("push", "fail", report_now_ms() - t0, e->msg);
		return -1;
	}
	snprintf(msg, sizeof(msg), "%u files: %u sent (%llu KiB), %u unchanged, %u removed",
	         r->ps.files, r->ps.sent, (unsigned long long)(r->ps.bytes / 1024), r->ps.skipped,
	         r->ps.removed);
	report_step_end("push", r->ps.sent || r->ps.removed ? "ok" : "cached", report_now_ms() - t0,
	                msg);
	return 0;
}

/* One question to the guest (the agent's own exit code, echoed). */
static int probe_agent(struct stack_run *r, const char *agent, enum agent_probe *p, struct err *e)
{
	char q[PATH_MAX + 64], cmd[2 * PATH_MAX], *out = NULL;
	int status = -1;

	if (shell_quote(agent, q, sizeof(q), e) < 0)
		return -1;
	snprintf(cmd, sizeof(cmd),
	         "sudo -n %s --has-image " BASE_IMAGE " >/dev/null 2>&1; echo agent=$?", q);
	if (remote_capture(r->s, cmd, r->tmo, &out, &status, e) < 0)
		return -1;
	if (out && strstr(out, "agent=0") != NULL)
		*p = AGENT_READY;
	else if (out && strstr(out, "agent=1") != NULL)
		*p = AGENT_NO_BASE;
	else
		*p = AGENT_CANNOT_START;
	free(out);
	return 0;
}

/* The host-built agent cannot start in the guest: build it there from the
 * pushed sources (agent/build-in-guest.sh) and use that one. */
static int build_agent_in_guest(struct stack_run *r, struct err *e)
{
	char built[PATH_MAX + 64], bq[PATH_MAX + 64], sq[PATH_MAX + 64], script[PATH_MAX + 64];
	char cmd[3 * PATH_MAX], *out = NULL;
	int status = -1;

	report_warn("the agent built here does not start in the VM: building it there");
	if (path_join(built, sizeof(built), e, "%s/.inception/agent-built", r->remote) < 0 ||
	    path_join(script, sizeof(script), e, "%s/.inception/agent-src/build-in-guest.sh",
	              r->remote) < 0 ||
	    shell_quote(built, bq, sizeof(bq), e) < 0 || shell_quote(script, sq, sizeof(sq), e) < 0)
		return -1;
	snprintf(cmd, sizeof(cmd), "sudo -n sh %s %s", sq, bq);
	if (remote_capture(r->s, cmd, r->tmo, &out, &status, e) < 0)
		return -1;
	if (status != 0) {
		char shown[512];

		report_sanitize(out ? out : "", shown, sizeof(shown));
		err_set(e, "building the agent in the VM failed (status %d): %s", status, shown);
		free(out);
		return -1;
	}
	free(out);
	snprintf(r->agent, sizeof(r->agent), "%s", built);
	return 0;
}

/* Which agent runs, and whether the guest has the base image.  Not asked
 * when this very tree (agent included) already ended healthy: the run
 * itself checks every step again. */
static int ensure_agent(struct stack_run *r, int full, int *have_base, struct err *e)
{
	enum agent_probe p;

	if (full && r->vs.stack_ok[0] && strcmp(r->vs.stack_ok, r->ps.tree_digest) == 0) {
		*have_base = 1;
		return 0;
	}
	if (probe_agent(r, r->agent, &p, e) < 0)
		return -1;
	if (p == AGENT_CANNOT_START) {
		if (build_agent_in_guest(r, e) < 0 || probe_agent(r, r->agent, &p, e) < 0)
			return -1;
		if (p == AGENT_CANNOT_START)
			return err_set(e, "the agent built in the VM does not start there either");
	}
	*have_base = p == AGENT_READY;
	return 0;
}

/* The agent's steps: make and health only for push; all of them for up,
 * with the base image streamed from this host's Docker between the data
 * and base steps when the guest lacks it. */
static int run_phase(struct stack_run *r, int full, int have_base, struct err *e)
{
	int rc;

	if (!full)
		rc = run_agent_checked(r->s, r->agent, "--only make,health", r->tmo, e);
	else if (have_base)
		rc = run_agent_checked(r->s, r->agent, "", r->tmo, e);
	else {
		rc = run_agent_checked(r->s, r->agent, "--only hosts,docker,data", r->tmo, e);
		if (rc == 0) {
			if (stack_stream_base(r->s, r->vt.paths.log, r->tmo, e) < 0)
				report_warn(
				    "%s: the VM builds the base image from the mirror instead",
				    e->msg);
			err_clear(e);
			rc = run_agent_checked(r->s, r->agent, "--from base", r->tmo, e);
		}
	}
	/* the tree (agent included) that last ended healthy, or none */
	if (strcmp(r->vs.stack_ok, rc == 0 ? r->ps.tree_digest : "") != 0) {
		snprintf(r->vs.stack_ok, sizeof(r->vs.stack_ok), "%s",
		         rc == 0 ? r->ps.tree_digest : "");
		if (vmstate_save(&r->vt.paths, &r->vs, rc == 0 ? e : NULL) < 0 && rc == 0)
			return -1;
	}
	return rc;
}

static void report_healthy(const struct stack_run *r)
{
	char domain[128];

	if (creds_env_get(r->cp.env, "DOMAIN_NAME", domain, sizeof(domain), NULL) < 0)
		snprintf(domain, sizeof(domain), "%s" DOMAIN_SUFFIX, r->cli->cfg.login);
	report_info("stack healthy: https://%s/ (in the VM; from this host through the "
	            "forwards %s, e.g. curl --resolve %s:PORT:127.0.0.1 https://%s:PORT/)",
	            domain, r->vs.forwards[0] ? r->vs.forwards : "(none)", domain, domain);
	report_info("shell: inception ssh   (or: ssh -F %s %s)", r->vt.paths.ssh_config,
	            r->cli->cfg.vm_name);
	report_info("credentials: inception creds   (files: %s, %s)", r->cp.secrets, r->cp.env);
}

/* t: the VM's target when the caller has it (up), else NULL (push). */
static int run_stack(struct cli *cli, const struct vm_target *t, int full, struct err *e)
{
	struct stack_run r;
	int have_base = 0, rc = -1;

	if (prepare(&r, cli, t, e) < 0)
		goto done;
	if (push_phase(&r, e) < 0 || ensure_agent(&r, full, &have_base, e) < 0 ||
	    run_phase(&r, full, have_base, e) < 0)
		goto done;
	report_healthy(&r);
	rc = 0;
done:
	if (r.own)
		sshc_close(r.s);
	return rc;
}

int stack_push(struct cli *cli, struct err *e)
{
	return run_stack(cli, NULL, 0, e);
}

/* What cmd_up calls once the VM answers SSH with cloud-init done. */
int stack_up(struct cli *cli, const struct vm_target *t, struct err *e)
{
	return run_stack(cli, t, 1, e);
}
