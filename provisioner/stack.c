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

/* Copies the read end of a pipe into the channel (docker save -> docker
 * load), draining the remote side's output as it goes. */
static int pipe_to_channel(ssh_session s, int fd, ssh_channel ch, const char *image, uint64_t total,
                           struct err *e)
{
	char label[160];

	snprintf(label, sizeof(label), "%s -> VM", image);
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
		report_progress(label, done, total > done ? total : 0);
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
int stack_stream_base(ssh_session s, const char *image, const char *log, int timeout_s,
                      struct err *e)
{
	char *const inspect[] = {"docker",    "image",       "inspect", "--format",
	                         "{{.Size}}", (char *)image, NULL};
	char what[256];
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
	snprintf(what, sizeof(what), "streaming the host's %s into the VM", image);
	report_step_begin("base", what);
	if (pipe(pfd) < 0)
		return err_set(e, "pipe: %s", strerror(errno));
	{
		char *const save[] = {"docker", "save", (char *)image, NULL};
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
	if (pipe_to_channel(s, pfd[0], ch, image, total, e) < 0 ||
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
	if (ret == 0)
		report_info("%s: loaded from this host's Docker", image);
	return ret;
}

/* One run of the stack half: what the phases below share. */
struct stack_run {
	struct cli *cli;
	const struct stack_opts *o;
	struct project proj;
	struct project_files files;
	struct project_inputs in;
	struct creds_inputs ci;
	struct project_info info;
	struct project_base *bases;
	size_t nbases;
	struct vm_target vt;
	struct vm_state vs;
	struct push_stats ps;
	ssh_session s;
	int own;      /* s is ours to close (not up's probe session) */
	int tmo;      /* timeouts.agent: each guest command, push included */
	int switched; /* the VM ran another project before */
	char agent_bin[PATH_MAX], rbuf[PATH_MAX], meta[PATH_MAX];
	char *conf;                /* the agent's settings */
	char agent[PATH_MAX + 64]; /* the agent to run in the guest */
	const char *remote;        /* push.dir */
};

/* The bundled stack's tree: $INCEPTION_TOP, the directory above the
 * binary's (build/inception), or the data dir (PREFIX/share/inception). */
static int bundled_dir(char *buf, size_t n)
{
	const char *env = getenv("INCEPTION_TOP");
	char path[PATH_MAX];
	struct err ignore = {.msg = ""};
	size_t len;

	if (env && *env && is_top(env))
		return path_join(buf, n, NULL, "%s", env);
	exe_parent(buf, n, 2);
	if (buf[0] && is_top(buf))
		return 0;
	if (data_path("srcs/docker-compose.yml", path, sizeof(path), &ignore) == 0 &&
	    (len = strlen(path)) > sizeof("/srcs/docker-compose.yml") - 1) {
		path[len - (sizeof("/srcs/docker-compose.yml") - 1)] = '\0';
		return path_join(buf, n, NULL, "%s", path);
	}
	buf[0] = '\0';
	return -1;
}

/* Whether dir is inception's own source tree (its agent and provisioner). */
static int source_tree(const char *dir)
{
	char p[PATH_MAX];

	return path_join(p, sizeof(p), NULL, "%s/provisioner/stack.c", dir) == 0 &&
	       access(p, R_OK) == 0 && path_join(p, sizeof(p), NULL, "%s/agent/main.c", dir) == 0 &&
	       access(p, R_OK) == 0;
}

int stack_resolve(const struct stack_opts *o, struct project *p, struct err *e)
{
	struct project_req r;
	char bundled[PATH_MAX], clones[PATH_MAX], real[PATH_MAX], cwd[PATH_MAX];

	memset(&r, 0, sizeof(r));
	r.spec = o->project;
	r.ref = o->ref;
	r.bundled_dir = bundled_dir(bundled, sizeof(bundled)) == 0 ? bundled : NULL;
	if (xdg_cache_dir(clones, sizeof(clones), "projects", e) < 0)
		return -1;
	r.clone_dir = clones;
	/* run from this repository's source tree (not only its Makefile and
	 * srcs/): the bundled stack, even when INCEPTION_TOP names a copy */
	if (o->project == NULL && r.bundled_dir && getcwd(cwd, sizeof(cwd)) && source_tree(cwd))
		r.cwd = bundled;
	if (o->bundled && r.bundled_dir)
		r.cwd = bundled;
	if (project_resolve(&r, p, e) < 0)
		return -1;
	/* this repository itself (run from its top): the bundled stack, whose
	 * Makefile and srcs/ alone are the project */
	if (!p->bundled && !p->cloned && r.bundled_dir && realpath(bundled, real) &&
	    strcmp(real, p->dir) == 0)
		p->bundled = 1;
	if (p->bundled && o->committed)
		report_warn("--committed: the bundled stack is pushed as its Makefile and srcs/");
	else if (o->committed && p->commit[0] == '\0')
		return err_setc(e, EXIT_USAGE, "--committed: %s is not in a git repository",
		                p->dir);
	return 0;
}

/* The inputs p reads: the missing ones listed (made with
 * --generate-missing), once per run. */
static void list_inputs(const struct creds_inputs *ci, const struct stack_opts *o)
{
	size_t i;

	for (i = 0; i < ci->nmade; i++)
		report_info("generated %s (kept in %s, 0600)", ci->made[i], ci->gen);
	for (i = 0; i < ci->nmissing; i++)
		report_warn("missing input: %s%s", ci->missing[i],
		            o->generate_missing ? ""
		                                : " (going on: the project's make may create "
		                                  "it; --generate-missing makes it here)");
}

int stack_precheck(struct cli *cli, struct stack_opts *o, const struct project *p, struct err *e)
{
	struct vm_paths vp;
	struct project_files f;
	struct project_inputs in;
	struct creds_inputs ci;
	struct project_base *bases = NULL;
	size_t nbases = 0;
	char export_dir[PATH_MAX];
	int rc = -1;

	memset(&f, 0, sizeof(f));
	memset(&in, 0, sizeof(in));
	memset(&ci, 0, sizeof(ci));
	if (vm_paths(cli->cfg.vm_name, &vp, e) < 0 ||
	    path_join(export_dir, sizeof(export_dir), e, "%s/export", vp.dir) < 0)
		return -1;
	if (o->committed && !p->bundled && project_files(p, 1, export_dir, vp.log, &f, e) < 0)
		goto done;
	if (project_inputs(p, &in, e) < 0 || project_bases(p, &bases, &nbases, e) < 0 ||
	    creds_ensure(&cli->cfg, p, &in, f.paths, f.n, vp.dir, o->generate_missing, &ci, e) < 0)
		goto done;
	list_inputs(&ci, o);
	o->listed = 1;
	rc = 0;
done:
	project_files_free(&f);
	project_inputs_free(&in);
	creds_inputs_free(&ci);
	project_bases_free(bases, nbases);
	return rc;
}

/* The label vm.state and status show for p. */
static const char *project_label(const struct project *p)
{
	return p->bundled ? "bundled stack" : p->cloned && p->source[0] ? p->source : p->dir;
}

static int conf_add(FILE *f, const char *key, const char *value, struct err *e)
{
	if (value == NULL)
		return 0;
	if (strchr(value, '\n'))
		return err_set(e, "the agent setting %s contains a newline", key);
	fprintf(f, "%s=%s\n", key, value);
	return 0;
}

int stack_agent_conf(const struct config *c, const struct project *p,
                     const struct project_info *info, const struct project_base *bases,
                     size_t nbases, const char *remote, const char *meta, char **out, struct err *e)
{
	char domain[256], *list = NULL;
	size_t len = 0, blen = 0;
	FILE *f, *bf;
	int bad;

	*out = NULL;
	snprintf(domain, sizeof(domain), "%s", info->domain ? info->domain : "");
	if (!info->domain)
		snprintf(domain, sizeof(domain), "%s" DOMAIN_SUFFIX, c->login);
	if ((bf = open_memstream(&list, &blen)) == NULL)
		return err_set(e, "out of memory");
	for (size_t i = 0; i < nbases; i++) {
		size_t j;
		for (j = 0; j < i && strcmp(bases[j].image, bases[i].image) != 0; j++)
			;
		if (j == i && !strpbrk(bases[i].image, " |\n") && !strpbrk(bases[i].file, " \n"))
			fprintf(bf, "%s%s|%s:%u", ftell(bf) ? " " : "", bases[i].image,
			        bases[i].file, bases[i].line);
	}
	fclose(bf);
	if ((f = open_memstream(out, &len)) == NULL) {
		free(list);
		return err_set(e, "out of memory");
	}
	fputs("# Written by inception (the provisioner) for its guest agent.\n", f);
	bad = conf_add(f, "login", c->login, e) < 0 || conf_add(f, "tree", remote, e) < 0 ||
	      conf_add(f, "meta", meta, e) < 0 ||
	      conf_add(f, "docker_source", docker_source_name(c->docker_source), e) < 0 ||
	      conf_add(f, "apt_mirror", c->apt_mirror, e) < 0 ||
	      conf_add(f, "apt_proxy", c->apt_proxy, e) < 0 ||
	      conf_add(f, "domain", domain, e) < 0 || conf_add(f, "compose", p->compose, e) < 0 ||
	      conf_add(f, "services", info->services, e) < 0 ||
	      conf_add(f, "bases", list ? list : "", e) < 0 ||
	      conf_add(f, "data_dirs", info->data_dirs, e) < 0;
	fclose(f);
	free(list);
	if (bad) {
		free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

/* The project's side: its files, inputs (listed up front when missing,
 * generated with --generate-missing), compose facts and bases. */
static int prepare_project(struct stack_run *r, struct err *e)
{
	char export_dir[PATH_MAX];

	snprintf(r->files.root, sizeof(r->files.root), "%s", r->proj.dir);
	if (r->o->committed && !r->proj.bundled &&
	    (path_join(export_dir, sizeof(export_dir), e, "%s/export", r->vt.paths.dir) < 0 ||
	     project_files(&r->proj, 1, export_dir, r->vt.paths.log, &r->files, e) < 0))
		return -1;
	if (project_inputs(&r->proj, &r->in, e) < 0 ||
	    creds_ensure(&r->cli->cfg, &r->proj, &r->in, r->files.paths, r->files.n,
	                 r->vt.paths.dir, r->o->generate_missing, &r->ci, e) < 0)
		return -1;
	if (!r->o->listed)
		list_inputs(&r->ci, r->o);
	if (project_compose_info(&r->proj, &r->in, r->ci.gen, &r->info, e) < 0 ||
	    project_bases(&r->proj, &r->bases, &r->nbases, e) < 0)
		return -1;
	if (stack_agent_conf(&r->cli->cfg, &r->proj, &r->info, r->bases, r->nbases, r->remote,
	                     r->meta, &r->conf, e) < 0)
		return -1;
	/* the VM's Docker disk came from a project's cache (another VM's):
	 * the agent's first docker step removes what was that VM's own */
	if (r->vs.cache_from[0] && !strpbrk(r->vs.cache_from, "\n\r")) {
		char *more = NULL;

		if (asprintf(&more, "%sdocker_cache=%s\n", r->conf, r->vs.cache_from) < 0)
			return err_set(e, "out of memory");
		free(r->conf);
		r->conf = more;
	}
	return 0;
}

/* The project, the VM's target and state, the generated inputs, the agent's
 * settings, and the SSH session (t's when up has one). */
static int prepare(struct stack_run *r, struct cli *cli, const struct stack_opts *o,
                   const struct project *p, const struct vm_target *t, struct err *e)
{
	r->cli = cli;
	r->o = o;
	r->proj = *p;
	r->tmo = cli->cfg.agent_timeout;
	if (find_agent(p->dir, r->agent_bin, sizeof(r->agent_bin), e) < 0)
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
	if (path_join(r->meta, sizeof(r->meta), e, "/home/%s/.local/share/inception",
	              cli->cfg.login) < 0 ||
	    path_join(r->agent, sizeof(r->agent), e, "%s/agent", r->meta) < 0 ||
	    prepare_project(r, e) < 0)
		return -1;
	r->switched = r->vs.project_dir[0] && (strcmp(r->vs.project_dir, r->proj.dir) != 0 ||
	                                       strcmp(r->vs.project_compose, r->proj.compose) != 0);
	if (r->vt.live) {
		r->s = r->vt.live; /* up's probe session, still open */
		return 0;
	}
	if (sshc_connect(&r->vt.t, &r->s, e) < 0)
		return -1;
	r->own = 1;
	return 0;
}

static void run_free(struct stack_run *r)
{
	if (r->own)
		sshc_close(r->s);
	project_files_free(&r->files);
	project_inputs_free(&r->in);
	creds_inputs_free(&r->ci);
	project_info_free(&r->info);
	project_bases_free(r->bases, r->nbases);
	free(r->conf);
}

/* 1 when wiping or moving dir would touch the home directory, "/" or our
 * own directory META (dir is it or one of its parents). */
static int tree_is_shared(const char *dir, const char *login, const char *meta)
{
	char home[PATH_MAX];
	size_t n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	snprintf(home, sizeof(home), "/home/%s", login);
	if (n <= 1 || (strlen(home) == n && strncmp(dir, home, n) == 0) ||
	    (n == 5 && strncmp(dir, "/home", 5) == 0))
		return 1;
	return strncmp(meta, dir, n) == 0 && (meta[n] == '/' || meta[n] == '\0');
}

/* The old project's files (those its make created included: stamps, build
 * output, secrets its Makefile made) leave push.dir, so that it holds only
 * the new project; they are kept, not deleted, in META-previous-project
 * next to META (a bind-mounted data directory inside the old tree survives
 * there; the one before is dropped). */
static void set_aside_old_tree(struct stack_run *r)
{
	char qd[PATH_MAX + 64], qp[PATH_MAX + 64], prev[PATH_MAX], cmd[4 * PATH_MAX + 512];
	char *out = NULL;
	struct err e2 = {.msg = ""};
	int status = -1;

	if (tree_is_shared(r->remote, r->cli->cfg.login, r->meta)) {
		report_warn("push.dir %s is the home directory or holds ours: the old project's "
		            "files left in it",
		            r->remote);
		return;
	}
	if (path_join(prev, sizeof(prev), &e2, "%s-previous-project", r->meta) < 0 ||
	    shell_quote(r->remote, qd, sizeof(qd), &e2) < 0 ||
	    shell_quote(prev, qp, sizeof(qp), &e2) < 0)
		return;
	snprintf(cmd, sizeof(cmd),
	         "if [ -d %s ]; then sudo -n rm -rf --one-file-system -- %s && "
	         "sudo -n mv -- %s %s; fi 2>&1",
	         qd, qp, qd, qp);
	if (remote_capture(r->s, cmd, r->tmo, &out, &status, &e2) < 0 || status != 0)
		report_warn("moving the old project's files out of %s: %s", r->remote,
		            e2.msg[0] ? e2.msg : (out && *out ? out : "failed"));
	else
		report_info("the old project's files moved to %s (push.dir now holds only %s)",
		            prev, project_label(&r->proj));
	free(out);
}

/* Another project ran in this VM: its containers are stopped (volumes
 * kept) before its files are replaced.  Its compose projects are found by
 * the label compose puts on their containers (the compose file's
 * directory), whatever name its Makefile gave them (-p). */
static void stop_old_project(struct stack_run *r)
{
	char dir[PATH_MAX], q[PATH_MAX + 64], cmd[2 * PATH_MAX + 512], *out = NULL, *slash;
	struct err e2 = {.msg = ""};
	int status = -1;

	report_info("this VM ran %s: stopping its containers (docker compose down, volumes "
	            "kept) before pushing %s",
	            r->vs.project, project_label(&r->proj));
	if (path_join(dir, sizeof(dir), &e2, "%s/%s", r->remote, r->vs.project_compose) < 0)
		return;
	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	if (shell_quote(dir, q, sizeof(q), &e2) < 0)
		return;
	snprintf(cmd, sizeof(cmd),
	         "for p in $(sudo -n docker ps -a --filter "
	         "label=com.docker.compose.project.working_dir=%s --format "
	         "'{{.Label \"com.docker.compose.project\"}}' | sort -u); do "
	         "sudo -n docker compose -p \"$p\" down 2>&1 | tail -n 3; done",
	         q);
	if (remote_capture(r->s, cmd, r->tmo, &out, &status, &e2) < 0)
		report_warn("stopping the old project's containers: %s", e2.msg);
	free(out);
	set_aside_old_tree(r);
}

/* The "push" step: the project's files and generated inputs to push.dir,
 * ours (agent, settings, sources) to META. */
static int push_phase(struct stack_run *r, struct err *e)
{
	struct push_src src;
	char agent_src[PATH_MAX], msg[256];
	long t0 = report_now_ms();

	report_step_begin("push", r->remote);
	memset(&src, 0, sizeof(src));
	src.top = r->files.root;
	src.bundled = r->proj.bundled;
	if (r->o->committed && !r->proj.bundled) {
		src.paths = r->files.paths;
		src.npaths = r->files.n;
	}
	src.gen_dir = r->ci.gen;
	src.gen = r->ci.paths;
	src.ngen = r->ci.n;
	src.agent_bin = r->agent_bin;
	src.agent_conf = r->conf;
	src.with_agent_src = 1;
	find_agent_src(r->proj.dir, agent_src, sizeof(agent_src));
	src.agent_src_top = agent_src;
	src.timeout_s = r->tmo;
	if (push_tree(r->s, &src, r->remote, r->meta, &r->ps, e) < 0) {
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

/* Which project this VM runs now (status, creds, the next switch). */
static int record_project(struct stack_run *r, struct err *e)
{
	struct vm_state *v = &r->vs;

	if (path_join(v->project, sizeof(v->project), e, "%s", project_label(&r->proj)) < 0 ||
	    path_join(v->project_dir, sizeof(v->project_dir), e, "%s", r->proj.dir) < 0 ||
	    path_join(v->project_gen, sizeof(v->project_gen), e, "%s", r->ci.gen) < 0)
		return -1;
	snprintf(v->project_compose, sizeof(v->project_compose), "%s", r->proj.compose);
	snprintf(v->project_commit, sizeof(v->project_commit), "%s", r->proj.commit);
	if (path_join(v->project_ref, sizeof(v->project_ref), e, "%s", r->o->ref ? r->o->ref : "") <
	    0)
		return -1;
	v->project_dirty = r->o->committed ? 0 : (unsigned)r->proj.dirty;
	return vmstate_save(&r->vt.paths, v, e);
}

/* The service of a BuildKit progress line " > [web 2/5] RUN ..." or
 * "target web: failed to solve", into buf ("" when none). */
static void build_service(const char *line, char *buf, size_t n)
{
	const char *p = strstr(line, "> [");
	size_t len;

	buf[0] = '\0';
	if (p)
		p += 3;
	else if ((p = strstr(line, "target ")) != NULL)
		p += 7;
	else
		return;
	len = strcspn(p, " :]");
	if (len > 0 && len < n) {
		memcpy(buf, p, len);
		buf[len] = '\0';
	}
}

/* The project file of "Dockerfile:N" in a build log: the Dockerfile of the
 * service BuildKit named last (bases list each service's Dockerfile). */
static void dockerfile_where(const struct stack_run *r, const char *svc, unsigned n, char *where,
                             size_t wn)
{
	const char *file = NULL;

	for (size_t i = 0; i < r->nbases && svc[0]; i++)
		if (r->bases[i].service && strcmp(r->bases[i].service, svc) == 0)
			file = r->bases[i].file;
	if (file)
		snprintf(where, wn, "%s:%u (service %s)", file, n, svc);
	else
		snprintf(where, wn, "Dockerfile:%u%s%s", n, svc[0] ? " of service " : "", svc);
}

/* Shows the last 30 lines of the failed step's log in the guest and, when
 * the build names a "Dockerfile:N", says where in the project. */
static void show_guest_log(struct stack_run *r, const char *log, struct err *e)
{
	char q[600], cmd[700], *out = NULL, *line, *save = NULL, svc[128] = "",
	                       where[PATH_MAX] = "";
	struct err e2 = {.msg = ""};
	int status = -1;

	if (shell_quote(log, q, sizeof(q), &e2) < 0)
		return;
	snprintf(cmd, sizeof(cmd), "sudo -n tail -n 30 %s", q);
	if (remote_capture(r->s, cmd, r->tmo, &out, &status, &e2) < 0 || out == NULL) {
		free(out);
		return;
	}
	report_info("last lines of %s in the VM:", log);
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		const char *df = strstr(line, "Dockerfile:");
		char s2[128];
		unsigned n;

		report_info("  | %s", line);
		build_service(line, s2, sizeof(s2));
		if (s2[0])
			snprintf(svc, sizeof(svc), "%s", s2);
		if (df && where[0] == '\0' && (n = (unsigned)strtoul(df + 11, NULL, 10)) > 0)
			dockerfile_where(r, svc, n, where, sizeof(where));
	}
	free(out);
	if (where[0])
		err_wrap(e, "the build failed at %s", where);
}

static int run_agent_checked(struct stack_run *r, const char *args, struct agent_result *ar,
                             struct err *e)
{
	memset(ar, 0, sizeof(*ar));
	if (agent_run(r->s, r->agent, args, r->tmo, ar, e) == 0)
		return 0;
	if (ar->failed_log[0] && !ar->interrupted && e->code != EXIT_TIMEOUT)
		show_guest_log(r, ar->failed_log, e);
	if (!e->code)
		e->code = strcmp(ar->failed_step, "health") == 0 ? EXIT_UNHEALTHY : EXIT_FAIL;
	return -1;
}

/* Whether the agent starts in the guest (a host glibc newer than the
 * guest's: it does not). */
static int probe_agent(struct stack_run *r, const char *agent, int *starts, struct err *e)
{
	char q[PATH_MAX + 64], cmd[2 * PATH_MAX], *out = NULL;
	int status = -1;

	if (shell_quote(agent, q, sizeof(q), e) < 0)
		return -1;
	snprintf(cmd, sizeof(cmd), "sudo -n %s --version >/dev/null 2>&1; echo agent=$?", q);
	if (remote_capture(r->s, cmd, r->tmo, &out, &status, e) < 0)
		return -1;
	*starts = out && strstr(out, "agent=0") != NULL;
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
	if (path_join(built, sizeof(built), e, "%s/agent-built", r->meta) < 0 ||
	    path_join(script, sizeof(script), e, "%s/agent-src/build-in-guest.sh", r->meta) < 0 ||
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

/* Which agent runs.  Not asked when this very tree (agent included) already
 * ended healthy: the run itself checks every step again. */
static int ensure_agent(struct stack_run *r, int *cached, struct err *e)
{
	int starts = 0;

	*cached = r->vs.stack_ok[0] && strcmp(r->vs.stack_ok, r->ps.tree_digest) == 0;
	if (*cached)
		return 0;
	if (probe_agent(r, r->agent, &starts, e) < 0)
		return -1;
	if (!starts) {
		if (build_agent_in_guest(r, e) < 0 || probe_agent(r, r->agent, &starts, e) < 0)
			return -1;
		if (!starts)
			return err_set(e, "the agent built in the VM does not start there either");
	}
	return 0;
}

/* The base images the guest's engine lacks (`agent --missing-bases`), each
 * streamed from this host's Docker when it has it; the base step pulls or
 * builds the others, or names the one nothing can provide. */
static void stream_bases(struct stack_run *r)
{
	char q[PATH_MAX + 64], cmd[2 * PATH_MAX], *out = NULL, *line, *save = NULL;
	struct err e2 = {.msg = ""};
	int status = -1;

	if (shell_quote(r->agent, q, sizeof(q), &e2) < 0)
		return;
	snprintf(cmd, sizeof(cmd), "sudo -n %s --missing-bases", q);
	if (remote_capture(r->s, cmd, r->tmo, &out, &status, &e2) < 0 || status != 0) {
		report_debug("agent --missing-bases: %s (status %d)", e2.msg, status);
		free(out);
		return;
	}
	for (line = out ? strtok_r(out, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		line[strcspn(line, " \r\t")] = '\0';
		if (line[0] == '\0' || line[0] == '-')
			continue;
		if (stack_stream_base(r->s, line, r->vt.paths.log, r->tmo, &e2) < 0)
			report_warn("%s: the VM's base step provides it instead", e2.msg);
		err_clear(&e2);
	}
	free(out);
}

/* The make step failed: the inputs the guest still lacks, named with the
 * flag that makes them. */
static void name_missing_inputs(struct stack_run *r, struct err *e)
{
	char q[PATH_MAX + 64], cmd[8192], *out = NULL;
	struct err e2 = {.msg = ""};
	size_t i, o;
	int status = -1;

	if (r->ci.nmissing == 0 || shell_quote(r->remote, q, sizeof(q), &e2) < 0)
		return;
	o = (size_t)snprintf(cmd, sizeof(cmd), "cd %s && for f in", q);
	for (i = 0; i < r->in.n && o < sizeof(cmd) - 600; i++) {
		char fq[PATH_MAX + 64];

		if (r->in.v[i].missing && !r->in.v[i].optional && !r->in.v[i].outside &&
		    shell_quote(r->in.v[i].path, fq, sizeof(fq), &e2) == 0)
			o += (size_t)snprintf(cmd + o, sizeof(cmd) - o, " %s", fq);
	}
	snprintf(cmd + o, sizeof(cmd) - o, "; do test -e \"$f\" || echo \"$f\"; done");
	if (remote_capture(r->s, cmd, r->tmo, &out, &status, &e2) == 0 && out && out[0]) {
		out[strcspn(out, "\n")] = '\0';
		err_wrap(e,
		         "%s is missing in the VM (the project lacks it and its make did not make "
		         "it): run again with --generate-missing, or add it to the project",
		         out);
	}
	free(out);
}

/* The agent's steps: make and health only for push; all of them for up
 * (and a push that switched projects), with the base images streamed from
 * this host's Docker between the data and base steps. */
static int run_phase(struct stack_run *r, int full, struct err *e)
{
	struct agent_result ar;
	int cached = 0, rc;

	if (ensure_agent(r, &cached, e) < 0)
		return -1;
	if (!full)
		rc = run_agent_checked(r, "--only make,health", &ar, e);
	else if (cached)
		rc = run_agent_checked(r, "", &ar, e);
	else {
		rc = run_agent_checked(r, "--only hosts,docker,data", &ar, e);
		if (rc == 0) {
			stream_bases(r);
			rc = run_agent_checked(r, "--from base", &ar, e);
		}
	}
	if (rc < 0 && strcmp(ar.failed_step, "make") == 0)
		name_missing_inputs(r, e);
	/* the tree (agent included) that last ended healthy, or none */
	if (strcmp(r->vs.stack_ok, rc == 0 ? r->ps.tree_digest : "") != 0) {
		snprintf(r->vs.stack_ok, sizeof(r->vs.stack_ok), "%s",
		         rc == 0 ? r->ps.tree_digest : "");
		if (vmstate_save(&r->vt.paths, &r->vs, rc == 0 ? e : NULL) < 0 && rc == 0)
			return -1;
	}
	return rc;
}

static void report_healthy(const struct stack_run *r, char *domain, size_t n)
{
	snprintf(domain, n, "%s", r->info.domain ? r->info.domain : "");
	if (!r->info.domain)
		snprintf(domain, n, "%s" DOMAIN_SUFFIX, r->cli->cfg.login);
	report_info("%s healthy: https://%s/ (in the VM; from this host through the "
	            "forwards %s, e.g. curl --resolve %s:PORT:127.0.0.1 https://%s:PORT/)",
	            project_label(&r->proj), domain, r->vs.forwards[0] ? r->vs.forwards : "(none)",
	            domain, domain);
	report_info("shell: inception ssh   (or: ssh -F %s %s)", r->vt.paths.ssh_config,
	            r->cli->cfg.vm_name);
	if (r->ci.n)
		report_info("generated inputs: inception creds   (files: %s)", r->ci.gen);
}

/* t: the VM's target when the caller has it (up), else NULL (push). */
static int run_stack(struct cli *cli, struct stack_opts *o, const struct project *p,
                     const struct vm_target *t, int full, struct err *e)
{
	struct stack_run r;
	int rc = -1;

	memset(&r, 0, sizeof(r));
	if (prepare(&r, cli, o, p, t, e) < 0)
		goto done;
	if (r.switched) {
		stop_old_project(&r);
		full = 1;
	}
	if (push_phase(&r, e) < 0 || record_project(&r, e) < 0 || run_phase(&r, full, e) < 0)
		goto done;
	report_healthy(&r, o->domain, sizeof(o->domain));
	rc = 0;
done:
	run_free(&r);
	return rc;
}

int stack_push(struct cli *cli, struct stack_opts *o, const struct project *p, struct err *e)
{
	return run_stack(cli, o, p, NULL, 0, e);
}

/* What cmd_up calls once the VM answers SSH with cloud-init done. */
int stack_up(struct cli *cli, struct stack_opts *o, const struct project *p,
             const struct vm_target *t, struct err *e)
{
	return run_stack(cli, o, p, t, 1, e);
}
