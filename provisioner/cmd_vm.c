/*
 * cmd_vm.c: the VM commands' handlers: up, status, ssh, console, down,
 * destroy, rebuild.  Each parses its options and calls the lifecycle
 * (vm.h: vm_up, vm_down, vm_destroy; stack.h for the stack half of up);
 * the work lives there.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>

#include "cli.h"
#include "config.h"
#include "hostmap.h"
#include "hostsfile.h"
#include "jump.h"
#include "names.h"
#include "report.h"
#include "sshc.h"
#include "stack.h"
#include "util.h"
#include "virt.h"
#include "vm.h"
#include "vm_cache.h"
#include "vmstate.h"

/* Parses the command's options: only config flags (and the given ones). */
static int no_args(struct cli *cli, int argc, char **argv, struct err *e)
{
	static const struct option none[] = {{NULL, 0, NULL, 0}};
	int c;

	while ((c = cli_getopt(cli, argc, argv, "", none, e)) != -1)
		if (c == '?')
			return -1;
	if (optind < argc)
		return err_setc(e, EXIT_USAGE, "%s: unexpected argument \"%s\"", argv[0],
		                argv[optind]);
	return 0;
}

/* ---- up, rebuild ---------------------------------------------------- */

int cli_project_opt(int c, struct stack_opts *so)
{
	if (c == 'R')
		so->ref = optarg;
	else if (c == 'C')
		so->committed = 1;
	else if (c == 'G')
		so->generate_missing = 1;
	else
		return 0;
	return 1;
}

int cli_project_arg(struct cli *cli, int argc, char **argv, struct stack_opts *so, struct err *e)
{
	if (optind < argc)
		so->project = argv[optind++];
	if (optind < argc)
		return err_setc(e, EXIT_USAGE, "%s: unexpected argument \"%s\"", argv[0],
		                argv[optind]);
	if (so->project == NULL || so->project[0] == '\0')
		so->project = cli->cfg.project;
	return 0;
}

struct up_req {
	struct vm_up_opts o;
	struct stack_opts so;
	struct project p;
};

static int parse_up_opts(struct cli *cli, int argc, char **argv, struct up_req *u, struct err *e)
{
	static const struct option opts[] = {
	    {"no-build-fallback", no_argument, NULL, 'B'},
	    {"vm-only", no_argument, NULL, 'M'},
	    {"clean", no_argument, NULL, 'L'},
	    CLI_PROJECT_OPTS,
	    {NULL, 0, NULL, 0},
	};
	int c;

	memset(u, 0, sizeof(*u));
	while ((c = cli_getopt(cli, argc, argv, "", opts, e)) != -1) {
		if (c == '?')
			return -1;
		if (c == 'B')
			u->o.no_build_fallback = 1;
		if (c == 'M')
			u->o.vm_only = 1;
		if (c == 'L')
			u->o.clean = 1;
		cli_project_opt(c, &u->so);
	}
	return cli_project_arg(cli, argc, argv, &u->so, e);
}

static int up_locked(struct cli *cli, struct up_req *u, struct err *e)
{
	struct vm_target t;
	long t0 = report_now_ms();

	struct vm_state s;
	char domain[sizeof(u->so.domain)];
	int ret;

	if (vm_up(cli, &u->o, &t, e) < 0)
		return -1;
	report_info("VM %s is up: `inception ssh` or `ssh -F %s %s` (%.0fs)", cli->cfg.vm_name,
	            t.paths.ssh_config, cli->cfg.vm_name, (double)(report_now_ms() - t0) / 1000.0);
	if (u->o.vm_only) {
		sshc_close(t.live);
		report_info("--vm-only: the VM is up; no push, no agent");
		return 0;
	}
	ret = stack_up(cli, &u->so, &u->p, &t, e);
	sshc_close(t.live);
	if (ret < 0 || vm_cache_keep(cli, e) < 0)
		return -1;
	if (!cli->cfg.map_domain)
		return 0;
	/* the name the project answers for: its DOMAIN_NAME, else LOGIN.42.fr */
	snprintf(domain, sizeof(domain), "%s", u->so.domain);
	if (domain[0] == '\0')
		snprintf(domain, sizeof(domain), "%s" DOMAIN_SUFFIX, cli->cfg.login);
	if (!hosts_name_valid(domain))
		return err_setc(e, EXIT_USAGE,
		                "host.map_domain: the project's DOMAIN_NAME \"%s\" is not a host "
		                "name: fix it in the project's .env, or set host.map_domain: false",
		                domain);
	if (vmstate_load(&t.paths, &s, e) < 0 || hostmap_apply(&cli->cfg, domain, &s, e) < 0)
		return -1;
	return vmstate_save(&t.paths, &s, e);
}

/* up and rebuild: the options, the project (refused with exit 2 before
 * anything starts), the host checks, then (rebuild only) the old VM
 * destroyed, then up with the VM's lock held. */
static int up_cmd(struct cli *cli, int argc, char **argv, int destroy_first, struct err *e)
{
	struct up_req u;
	struct vm_paths p;
	int lock = -1, ret;

	if (parse_up_opts(cli, argc, argv, &u, e) < 0)
		return -1;
	if ((!u.o.vm_only || u.so.project) && stack_resolve(&u.so, &u.p, e) < 0)
		return -1;
	if (u.p.dir[0])
		vm_cache_set_project(u.p.dir);
	if (hostmap_precheck(&cli->cfg, e) < 0)
		return -1;
	if (destroy_first && vm_destroy(&cli->cfg, cli->cfg.vm_name, e) < 0)
		return -1;
	if (vm_paths(cli->cfg.vm_name, &p, e) < 0)
		return -1;
	/* --clean chooses how a VM is made: an existing one stays as it is */
	if (u.o.clean && !destroy_first && access(p.state, F_OK) == 0)
		report_warn("--clean: VM %s exists already and is kept as it was made (`inception "
		            "status` says from what); `inception rebuild --clean` makes it anew",
		            cli->cfg.vm_name);
	if (vm_lock(&p, &lock, e) < 0)
		return -1;
	ret = u.o.vm_only ? 0 : stack_precheck(cli, &u.so, &u.p, e);
	if (ret == 0)
		ret = up_locked(cli, &u, e);
	vm_unlock(lock);
	return ret;
}

int cmd_up(struct cli *cli, int argc, char **argv, struct err *e)
{
	return up_cmd(cli, argc, argv, 0, e);
}

int cmd_rebuild(struct cli *cli, int argc, char **argv, struct err *e)
{
	return up_cmd(cli, argc, argv, 1, e);
}

/* ---- status --------------------------------------------------------- */

/* Longer than 60 lines: one key-value report, each row one line, from the
 * state file, libvirt and SSH gathered first. */
int cmd_status(struct cli *cli, int argc, char **argv, struct err *e)
{
	struct vm_paths p;
	struct vm_state s;
	struct virt v;
	struct vm_target t;
	enum virt_dom_state st = VIRT_DOM_ABSENT;
	struct ci_status c = {""};
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
		struct err se = {"", 0};

		vm_target_from(&p, &s, 5, &t);
		if (vm_cloud_init_status(&t, 0, report_now_ms() + 20000, &c, &rc, &se) == 0)
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
	report_kv("project", s.project, NULL);
	report_kv("project_dir", s.project_dir, NULL);
	report_kv("project_commit", s.project_commit, NULL);
	report_kv_raw("project_dirty", s.project_dirty ? "true" : "false", NULL);
	/* what this VM reused: the base layer its overlay is backed by (a
	 * golden layer, or the plain image with --clean or without one), and the
	 * project's Docker cache snapshot its Docker disk was made from */
	report_kv("base_layer", s.base_vol[0] ? s.base_vol : "none", NULL);
	report_kv("docker_cache", s.cache_from[0] ? s.cache_from : "none", NULL);
	report_kv("docker_cache_saved", s.cache_saved[0] ? s.cache_saved : "none", NULL);
	report_kv_end();
	if (have_virt)
		virt_close(&v);
	return 0;
}

/* ---- ssh ------------------------------------------------------------ */

int cmd_ssh(struct cli *cli, int argc, char **argv, struct err *e)
{
	static const struct option none[] = {{NULL, 0, NULL, 0}};
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
		char *args[] = {"ssh", "-F", t.paths.ssh_config, cli->cfg.vm_name, NULL};

		sshc_close(sess);
		fflush(NULL);
		signal(SIGPIPE, SIG_DFL); /* main ignores it; ssh gets the default */
		execvp(args[0], args);
		return err_set(e,
		               "cannot run ssh (%s): install openssh-client, or use `inception "
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
	static const struct option opts[] = {{"no-follow", no_argument, NULL, 'n'},
	                                     {NULL, 0, NULL, 0}};
	struct vm_paths p;
	struct vm_state s;
	struct virt v;
	struct jump_host j;
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
	if (fd < 0 && jump_parse_uri(s.uri, &j, e) == 1)
		return err_set(e,
		               "VM %s runs on the libvirt host %s: its serial console is there "
		               "(virsh -c '%s' console %s)",
		               s.domain, j.host, s.uri, s.domain);
	if (fd < 0)
		return err_set(e, "open %s: %s (has the VM been started?)", p.console,
		               strerror(errno));
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

/* ---- down, destroy --------------------------------------------------- */

int cmd_down(struct cli *cli, int argc, char **argv, struct err *e)
{
	static const struct option opts[] = {{"timeout", required_argument, NULL, 't'},
	                                     {NULL, 0, NULL, 0}};
	int c, timeout = 120;

	while ((c = cli_getopt(cli, argc, argv, "", opts, e)) != -1) {
		char *end;
		if (c == '?')
			return -1;
		if (c == 't') {
			long n = strtol(optarg, &end, 10);
			if (*end != '\0' || n < 1 || n > 3600)
				return err_setc(e, EXIT_USAGE,
				                "down: invalid --timeout %s (1..3600 seconds)",
				                optarg);
			timeout = (int)n;
		}
	}
	return vm_down(&cli->cfg, timeout, e);
}

int cmd_destroy(struct cli *cli, int argc, char **argv, struct err *e)
{
	static const struct option opts[] = {{"all", no_argument, NULL, 'a'}, {NULL, 0, NULL, 0}};
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
		return vm_destroy(&cli->cfg, cli->cfg.vm_name, e);
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
		if (vm_destroy(&cli->cfg, de->d_name, e) < 0) {
			report_error(e->msg);
			ret = -1;
		}
	}
	closedir(d);
	if (ret < 0)
		return err_set(e, "destroy --all: some VMs could not be destroyed (see above)");
	return 0;
}
