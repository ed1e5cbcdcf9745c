/*
 * cmd_check.c: `inception check`, the evaluation sheet run against the
 * project in the VM, or with --local [DIR] against a project on this
 * machine's Docker engine.
 *
 * In the VM: the static points read the tree `up` pushed (this host's copy
 * of it) and the generated .env; every runtime command (docker, kill, curl)
 * runs in the guest over the pinned SSH session, as root through sudo, its
 * output bounded and escaped like all guest text; TLS and the site are
 * checked from this host through the VM's forward of port 443 (what a
 * browser here sees).  Our own stack's WordPress users are taken from the
 * generated credentials unless --wp-user/--wp-admin are given.
 *
 * Parses the flags, runs the point table (check.h) and hands each row to
 * the reporter as it comes (a table, or one JSON object per point); with
 * --report FILE.md the rows also go to a Markdown report written
 * atomically at the end.  Exit 0 when no point FAILs, else 1.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentrun.h"
#include "check.h"
#include "cli.h"
#include "creds.h"
#include "report.h"
#include "sshc.h"
#include "stack.h"
#include "util.h"
#include "vmstate.h"

/* The VM side of a check: one SSH session for every runtime command. */
struct vm_side {
	struct vm_target vt;
	ssh_session s;
	char remote[PATH_MAX]; /* the pushed project in the guest */
	char login[64];
};

/* check_opts.exec for the VM: `sudo -n [env NAME=VALUE] ARGV... 2>&1`, each
 * word shell-quoted.  (A NAME=VALUE is visible to root in the guest's
 * process list while the command runs: the database password, in the
 * user's own VM.) */
static int vm_exec(void *arg, const char *env, char *const argv[], int timeout_s, char **out)
{
	struct vm_side *v = arg;
	struct err e = {"", 0};
	char cmd[8192], q[4096];
	size_t len;
	int i, status = -1;

	if (v->s == NULL) {
		*out = strdup("no SSH session to the VM");
		return -2;
	}
	len = (size_t)snprintf(cmd, sizeof(cmd), "sudo -n%s", env ? " env" : "");
	for (i = env ? -1 : 0; argv[i < 0 ? 0 : i] != NULL; i++) {
		const char *w = i < 0 ? env : argv[i];

		if (shell_quote(w, q, sizeof(q), &e) < 0 || len + strlen(q) + 2 >= sizeof(cmd)) {
			*out = strdup("command too long for the VM");
			return -2;
		}
		len += (size_t)snprintf(cmd + len, sizeof(cmd) - len, " %s", q);
	}
	snprintf(cmd + len, sizeof(cmd) - len, " 2>&1");
	if (remote_capture(v->s, cmd, timeout_s, out, &status, &e) < 0) {
		free(*out);
		*out = strdup(e.msg);
		return e.code == EXIT_TIMEOUT ? -1 : -2;
	}
	if (*out == NULL)
		*out = strdup("");
	return status;
}

/* The guest's boot id ("" when it cannot be read). */
static void boot_id(struct vm_side *v, char *buf, size_t n)
{
	struct err e = {"", 0};
	char *out = NULL;
	int status = -1;

	buf[0] = '\0';
	if (remote_capture(v->s, "cat /proc/sys/kernel/random/boot_id", 30, &out, &status, &e) ==
	        0 &&
	    status == 0 && out)
		snprintf(buf, n, "%.36s", out);
	free(out);
}

/* check_opts.reboot: `sudo reboot` in the guest, then a new session with
 * the pinned host key once the guest has another boot id (bounded: 900 s,
 * the wait shown). */
static int vm_reboot(void *arg, char *msg, size_t n)
{
	struct vm_side *v = arg;
	struct sshc_opts so = {.timeout_s = 30};
	struct err e = {"", 0};
	char before[40], after[40] = "";
	long t0 = report_now_ms();
	int status = -1;

	boot_id(v, before, sizeof(before));
	if (before[0] == '\0') {
		snprintf(msg, n, "cannot read the guest's boot id before the reboot");
		return -1;
	}
	sshc_run(v->s, "sudo -n systemctl reboot || sudo -n reboot", &so, &status, &e);
	sshc_close(v->s);
	v->s = NULL;
	while (report_now_ms() - t0 < 900000L) {
		report_status("reboot", report_now_ms() - t0, "waiting for SSH (pinned host key)");
		sleep(5);
		err_clear(&e);
		if (sshc_connect(&v->vt.t, &v->s, &e) < 0) {
			v->s = NULL;
			if (e.code == EXIT_HOSTKEY) {
				report_progress_done();
				snprintf(msg, n, "after the reboot: %s", e.msg);
				return -1;
			}
			continue;
		}
		boot_id(v, after, sizeof(after));
		if (after[0] && strcmp(after, before) != 0)
			break;
		sshc_close(v->s); /* still the old boot, or sshd restarting */
		v->s = NULL;
		after[0] = '\0';
	}
	report_progress_done();
	if (v->s == NULL) {
		snprintf(msg, n,
		         "sudo reboot in the VM: no SSH login with a new boot id within 900 s");
		return -1;
	}
	snprintf(msg, n,
	         "sudo reboot in the VM: boot id %.8s -> %.8s, SSH back (pinned host key) "
	         "in %.1f s",
	         before, after, (double)(report_now_ms() - t0) / 1000.0);
	return 0;
}

/* Where the base images wait in the guest while the sheet's cleanup runs
 * (root's, on the root disk). */
#define SAVED_BASES "/var/tmp/inception-check-bases.tar"

/* check_opts.save_base: the project's base images the guest has (the
 * agent's `bases` setting), kept with `docker save` before the sheet's
 * cleanup removes them.  Loaded back after it, they are the same images
 * (the same IDs), as a registry pull of the same tag gives the evaluator:
 * so the build cache the cleanup leaves finds its steps. */
static int vm_save_base(void *arg, char *msg, size_t n)
{
	struct vm_side *v = arg;
	struct err e = {"", 0};
	char conf[PATH_MAX], q[PATH_MAX + 8], cmd[2 * PATH_MAX + 512], *out = NULL;
	int status = -1;

	snprintf(conf, sizeof(conf), "/home/%s/.local/share/inception/agent.conf", v->login);
	if (shell_quote(conf, q, sizeof(q), &e) < 0) {
		snprintf(msg, n, "%s", e.msg);
		return -1;
	}
	snprintf(cmd, sizeof(cmd),
	         "sudo -n sh -c 'rm -f %s; p=; for i in $(sed -n \"s/^bases=//p\" \"$1\" | "
	         "tr \" \" \"\\n\" | cut -d\"|\" -f1 | sort -u); do docker image inspect "
	         "\"$i\" >/dev/null 2>&1 && p=\"$p $i\"; done; [ -z \"$p\" ] || docker save -o "
	         "%s $p && echo $p' sh %s 2>&1",
	         SAVED_BASES, SAVED_BASES, q);
	if (remote_capture(v->s, cmd, 900, &out, &status, &e) < 0 || status != 0) {
		snprintf(msg, n, "docker save of the base images in the VM failed: %s",
		         e.msg[0] ? e.msg : (out ? out : ""));
		free(out);
		return -1;
	}
	if (out)
		out[strcspn(out, "\n")] = '\0';
	snprintf(msg, n, "base images kept with docker save: %s",
	         out && out[0] ? out : "none present");
	free(out);
	return 0;
}

/* check_opts.restore_base: the project's base images back after the
 * sheet's cleanup: the ones saved before it loaded (vm_save_base), then as
 * up does it: each one the agent still finds missing (`--missing-bases`)
 * streamed from this host's Docker when it has it, then the guest agent's
 * base step for the rest (pull, or built from the Debian mirror). */
static int vm_restore_base(void *arg, char *msg, size_t n)
{
	struct vm_side *v = arg;
	struct agent_result r;
	struct err e = {"", 0};
	char agent[PATH_MAX], q[PATH_MAX + 8], cmd[PATH_MAX + 64], *out = NULL, *line, *save = NULL;
	long t0 = report_now_ms();
	int status = -1, streamed = 0, loaded = 0;

	snprintf(agent, sizeof(agent), "/home/%s/.local/share/inception/agent", v->login);
	if (shell_quote(agent, q, sizeof(q), &e) < 0) {
		snprintf(msg, n, "%s", e.msg);
		return -1;
	}
	if (remote_capture(v->s,
	                   "sudo -n sh -c 'test -s " SAVED_BASES
	                   " || exit 0; docker load -i " SAVED_BASES " && rm -f " SAVED_BASES
	                   "' 2>&1",
	                   900, &out, &status, &e) < 0 ||
	    status != 0) {
		snprintf(msg, n, "docker load of the base images saved before the cleanup: %s",
		         e.msg[0] ? e.msg : (out ? out : "failed"));
		free(out);
		return -1;
	}
	for (line = strtok_r(out ? out : (char *)"", "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		loaded += strncmp(line, "Loaded image", 12) == 0;
	free(out);
	out = NULL;
	save = NULL;
	snprintf(cmd, sizeof(cmd), "sudo -n %s --missing-bases", q);
	if (remote_capture(v->s, cmd, 60, &out, &status, &e) < 0 || status != 0) {
		snprintf(msg, n, "asking the agent for the missing base images (%s): %s", cmd,
		         e.msg[0] ? e.msg : "it failed");
		free(out);
		return -1;
	}
	for (line = strtok_r(out ? out : (char *)"", "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		err_clear(&e);
		if (stack_stream_base(v->s, line, v->vt.paths.log, 900, &e) == 0)
			streamed++;
	}
	free(out);
	err_clear(&e);
	if (agent_run(v->s, agent, "--only base", 1800, &r, &e) < 0) {
		snprintf(msg, n, "the agent's base step (%s --only base): %s", agent, e.msg);
		return -1;
	}
	snprintf(msg, n,
	         "base images back: %d loaded from the copy saved before the cleanup, %d streamed "
	         "from this host's Docker, the rest by the agent's base step (%.1f s)",
	         loaded, streamed, (double)(report_now_ms() - t0) / 1000.0);
	return 0;
}

/* The host port of the VM's forward to guest port 443, from its state
 * ("127.0.0.1:8443->443 ..."); 0 if none. */
static int forward_443(const char *forwards)
{
	const char *p = forwards;

	while ((p = strstr(p, "->443")) != NULL) {
		const char *a = p;

		if (p[5] == '\0' || p[5] == ' ') {
			while (a > forwards && a[-1] != ':')
				a--;
			return atoi(a);
		}
		p += 5;
	}
	return 0;
}

/* The VM's side: target, session, the pushed tree, its generated .env and
 * (for our stack) the WordPress users' credentials. */
static int vm_side_open(struct cli *cli, struct vm_side *v, struct check_opts *o, char *top,
                        size_t topn, char *env, char *srcs, size_t n, char *wp_user, char *wp_pw,
                        char *admin, char *admin_pw, size_t wn, struct err *e)
{
	struct vm_state st;
	struct creds_paths cp;
	char rbuf[PATH_MAX];
	const char *remote = config_remote_dir(&cli->cfg, rbuf, sizeof(rbuf));

	if (vm_target(&cli->cfg, &v->vt, e) < 0 || vmstate_load(&v->vt.paths, &st, e) < 0)
		return -1;
	/* the project the VM runs (vm.state: a URL's clone, a directory), else
	 * the bundled stack; its compose file's directory as the guest has it */
	if (st.project_dir[0] && access(st.project_dir, R_OK | X_OK) == 0) {
		if (path_join(top, topn, e, "%s", st.project_dir) < 0)
			return -1;
	} else if (stack_find_top(top, topn, e) < 0) {
		return -1;
	}
	if (creds_paths(v->vt.paths.dir, &cp, e) < 0)
		return -1;
	snprintf(env, n, "%s", cp.env);
	if (st.project_compose[0] && strchr(st.project_compose, '/'))
		snprintf(srcs, n, "%s/%.*s", remote,
		         (int)(strrchr(st.project_compose, '/') - st.project_compose),
		         st.project_compose);
	else
		snprintf(srcs, n, "%s/srcs", remote);
	o->dir = top;
	o->env_file = access(env, R_OK) == 0 ? env : NULL;
	o->runtime_srcs = srcs;
	o->https_port = forward_443(st.forwards);
	o->where = "in the VM";
	/* the project's own LOGIN (its .env) first: a student's data dir is
	 * /home/THEIR-LOGIN/data whatever the VM's login */
	o->login_default = cli->cfg.login;
	if (o->wp_user == NULL && creds_env_get(cp.env, "WP_USER", wp_user, wn, NULL) == 0 &&
	    creds_secret(&cp, "wp_user_password", wp_pw, wn, NULL) == 0) {
		o->wp_user = wp_user;
		o->wp_password = wp_pw;
	}
	if (o->wp_admin == NULL && creds_env_get(cp.env, "WP_ADMIN_USER", admin, wn, NULL) == 0 &&
	    creds_secret(&cp, "wp_admin_password", admin_pw, wn, NULL) == 0) {
		o->wp_admin = admin;
		o->wp_admin_password = admin_pw;
	}
	if (sshc_connect(&v->vt.t, &v->s, e) < 0)
		return -1;
	o->exec = vm_exec;
	o->exec_arg = v;
	snprintf(v->remote, sizeof(v->remote), "%s", remote);
	snprintf(v->login, sizeof(v->login), "%s", cli->cfg.login ? cli->cfg.login : "");
	o->make_dir = v->remote;
	o->make_login = v->login[0] ? v->login : NULL;
	o->save_base = vm_save_base;
	o->restore_base = vm_restore_base;
	o->reboot = vm_reboot;
	return 0;
}

struct collect {
	struct check_row *rows;
	size_t n;
	int count[4];
};

static void on_row(const struct check_row *r, void *arg)
{
	struct collect *col = arg;
	struct check_row *nr = realloc(col->rows, (col->n + 1) * sizeof(*nr));

	if (nr == NULL)
		abort();
	col->rows = nr;
	col->rows[col->n++] = *r;
	col->count[r->state]++;
	report_check_row(r->pt->section, r->pt->point, ck_state_name(r->state), r->pt->ends,
	                 r->evidence);
}

/* The first line of a password file (a secret: never printed). */
static int read_password(const char *path, const char *flag, char *buf, size_t n, struct err *e)
{
	char *data = NULL;
	size_t len = 0, l;

	if (read_file_max(path, &data, &len, 4096, e) < 0)
		return err_setc(e, EXIT_USAGE, "check: %s %s: cannot read it", flag, path);
	l = strcspn(data, "\r\n");
	if (l == 0 || l >= n) {
		memset(data, 0, len);
		free(data);
		return err_setc(e, EXIT_USAGE, "check: %s %s: %s", flag, path,
		                l == 0 ? "the first line is empty" : "the password is too long");
	}
	memcpy(buf, data, l);
	buf[l] = '\0';
	memset(data, 0, len);
	free(data);
	return 0;
}

/* Flag parsing (a switch of one-liners) and the run; long but flat. */
int cmd_check(struct cli *cli, int argc, char **argv, struct err *e)
{
	enum {
		O_LOCAL = 300,
		O_REPORT,
		O_ONLY,
		O_STATIC,
		O_EVALUATE,
		O_ENVFILE,
		O_PROJECT,
		O_DATADIR,
		O_WPUSER,
		O_WPPW,
		O_WPADMIN,
		O_WPADMINPW,
		O_TODAY,
		O_EXCLUDE,
		O_WPPWFILE,
		O_WPADMINPWFILE
	};
	static const struct option opts[] = {
	    {"local", no_argument, NULL, O_LOCAL},
	    {"report", required_argument, NULL, O_REPORT},
	    {"only", required_argument, NULL, O_ONLY},
	    {"static", no_argument, NULL, O_STATIC},
	    {"evaluate", no_argument, NULL, O_EVALUATE},
	    {"env-file", required_argument, NULL, O_ENVFILE},
	    {"project", required_argument, NULL, O_PROJECT},
	    {"data-dir", required_argument, NULL, O_DATADIR},
	    {"wp-user", required_argument, NULL, O_WPUSER},
	    {"wp-password", required_argument, NULL, O_WPPW},
	    {"wp-admin", required_argument, NULL, O_WPADMIN},
	    {"wp-admin-password", required_argument, NULL, O_WPADMINPW},
	    {"today", required_argument, NULL, O_TODAY},
	    {"exclude", required_argument, NULL, O_EXCLUDE},
	    {"wp-password-file", required_argument, NULL, O_WPPWFILE},
	    {"wp-admin-password-file", required_argument, NULL, O_WPADMINPWFILE},
	    {NULL, 0, NULL, 0},
	};
	struct check_opts o;
	struct collect col;
	struct vm_side vm;
	const char *report = NULL;
	char absdir[PATH_MAX], wp_pw[256] = "", admin_pw[256] = "";
	char top[PATH_MAX], envf[PATH_MAX], srcs[PATH_MAX], vwu[256] = "", vwp[256] = "",
	                                                    vau[256] = "", vap[256] = "";
	int c, local = 0, ret = -1;

	memset(&vm, 0, sizeof(vm));
	memset(&o, 0, sizeof(o));
	memset(&col, 0, sizeof(col));
	while ((c = cli_getopt(cli, argc, argv, "", opts, e)) != -1) {
		switch (c) {
		case '?': return -1;
		case O_LOCAL: local = 1; break;
		case O_REPORT: report = optarg; break;
		case O_ONLY: o.only = optarg; break;
		case O_STATIC: o.static_only = 1; break;
		case O_EVALUATE: o.evaluate = 1; break;
		case O_ENVFILE: o.env_file = optarg; break;
		case O_PROJECT: o.project = optarg; break;
		case O_DATADIR: o.data_dir = optarg; break;
		case O_WPUSER: o.wp_user = optarg; break;
		case O_WPPW: o.wp_password = optarg; break;
		case O_WPADMIN: o.wp_admin = optarg; break;
		case O_WPADMINPW: o.wp_admin_password = optarg; break;
		case O_TODAY: o.today = optarg; break;
		case O_EXCLUDE: o.exclude = optarg; break;
		case O_WPPWFILE:
			if (read_password(optarg, "--wp-password-file", wp_pw, sizeof(wp_pw), e) <
			    0)
				return -1;
			o.wp_password = wp_pw;
			break;
		case O_WPADMINPWFILE:
			if (read_password(optarg, "--wp-admin-password-file", admin_pw,
			                  sizeof(admin_pw), e) < 0)
				return -1;
			o.wp_admin_password = admin_pw;
			break;
		}
	}
	if (optind + 1 < argc || (!local && optind < argc))
		return err_setc(e, EXIT_USAGE, "check: unexpected argument \"%s\"%s",
		                argv[optind + (local ? 1 : 0)],
		                local ? "" : " (a directory goes with --local)");
	o.dir = optind < argc ? argv[optind] : ".";
	/* --local: the login the configuration sets names the student; in the
	 * VM it is the VM's login, used only when the project names none */
	if (local && o.login == NULL && cli->cfg.login &&
	    strcmp(config_origin(&cli->cfg, "login"), "default") != 0)
		o.login = cli->cfg.login;
	if (o.today && (strlen(o.today) != 10 || o.today[4] != '-' || o.today[7] != '-'))
		return err_setc(e, EXIT_USAGE, "check: --today %s: use YYYY-MM-DD", o.today);
	if (!!o.wp_user != !!o.wp_password)
		return err_setc(e, EXIT_USAGE, "check: --wp-user and --wp-password go together");
	if (!!o.wp_admin != !!o.wp_admin_password)
		return err_setc(e, EXIT_USAGE,
		                "check: --wp-admin and --wp-admin-password go together");
	if (check_sections_valid(o.only, e) < 0)
		return -1;
	if (!local && !o.static_only &&
	    vm_side_open(cli, &vm, &o, top, sizeof(top), envf, srcs, sizeof(srcs), vwu, vwp, vau,
	                 vap, sizeof(vwu), e) < 0)
		goto done;
	if (!local && o.static_only && stack_find_top(top, sizeof(top), e) == 0)
		o.dir = top;
	if (realpath(o.dir, absdir) != NULL) /* the report names the project */
		o.dir = absdir;
	if (check_run(&o, on_row, &col, e) < 0)
		goto done;
	report_check_summary(col.count[CK_PASS], col.count[CK_FAIL], col.count[CK_MANUAL],
	                     col.count[CK_SKIP]);
	if (report) {
		char *md = check_markdown(&o, col.rows, col.n);
		int w = write_file_atomic(report, md, strlen(md), 0644, e);

		free(md);
		if (w < 0) {
			err_wrap(e, "check: --report");
			goto done;
		}
	}
	ret = col.count[CK_FAIL] ? EXIT_FAIL : EXIT_OK;
done:
	sshc_close(vm.s);
	memset(wp_pw, 0, sizeof(wp_pw));
	memset(admin_pw, 0, sizeof(admin_pw));
	memset(vwp, 0, sizeof(vwp));
	memset(vap, 0, sizeof(vap));
	free(col.rows);
	return ret;
}
