/*
 * main.c: inception-agent, the guest side of `inception up`.
 *
 * Runs in the Debian guest as root (the provisioner starts it with sudo over
 * SSH) and brings the machine from "cloud-init done" to "the stack answers":
 * the steps of steps.h, in order, each idempotent and recorded in the state
 * file.  Events on stdout (events.h), free text on stderr and in the log.
 *
 *   agent [--json] [--conf FILE] [--set KEY=VALUE]... [--login L] [--tree DIR]
 *         [--only STEP[,STEP...]] [--from STEP] [--force]
 *   agent --version | --help
 *   agent --has-image NAME:TAG   exit 0 when the Docker engine has the image
 *   agent --missing-bases        the `bases` images the engine lacks, one a line
 *
 * Settings: see settings.h (default file: agent.conf next to the binary).
 * A lock (STATE_DIR/lock, inherited by the commands the agent runs) keeps
 * two runs, or a run and the orphaned `make` of a killed one, apart.
 * Exit: 0 all steps ok, 1 a step failed, 2 usage or refused (not root, not
 * Debian), 130 interrupted (SIGINT/SIGTERM: the running command's process
 * group is stopped first).
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "agstate.h"
#include "engine.h"
#include "events.h"
#include "proc.h"
#include "settings.h"
#include "steps.h"

#ifndef INCEPTION_VERSION
#define INCEPTION_VERSION "0.1"
#endif

static void on_signal(int sig)
{
	(void)sig;
	proc_interrupted = 1;
}

static void usage(FILE *f)
{
	fprintf(
	    f, "usage: agent [--json] [--conf FILE] [--set KEY=VALUE]... [--login L] [--tree DIR]\n"
	       "             [--only STEP[,STEP...]] [--from STEP] [--force]\n"
	       "       agent --version | --has-image NAME:TAG (exit 0 if the engine has it)\n"
	       "       agent --missing-bases (the bases images the engine lacks)\n"
	       "steps: hosts docker data base make health\n"
	       "settings keys: login domain tree meta compose services bases data_dirs\n"
	       "  docker_source apt_mirror apt_proxy hosts_file cloud_cfg_dir state_file log_dir\n"
	       "  cert_file pull_timeout health_tries health_wait health_port\n");
}

/* Refuses anything but Debian: the steps use apt, Debian package names and
 * Debian paths. */
static int check_debian(struct err *e)
{
	char line[256], id[64] = "";
	FILE *f = fopen("/etc/os-release", "r");

	if (f == NULL)
		f = fopen("/usr/lib/os-release", "r");
	if (f == NULL)
		return err_set(e, "refusing to run: no /etc/os-release, this is not Debian");
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "ID=", 3) == 0) {
			snprintf(id, sizeof(id), "%.60s", line + 3);
			id[strcspn(id, "\r\n")] = '\0';
		}
	fclose(f);
	if (strcmp(id, "debian") != 0 && strcmp(id, "\"debian\"") != 0)
		return err_set(e, "refusing to run: this system is \"%s\", not Debian", id);
	return 0;
}

static void default_conf(char *buf, size_t n)
{
	char exe[PATH_MAX];
	ssize_t r = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	buf[0] = '\0';
	if (r <= 0)
		return;
	exe[r] = '\0';
	slash = strrchr(exe, '/');
	if (slash == NULL)
		return;
	*slash = '\0';
	if (snprintf(buf, n, "%s/agent.conf", exe) >= (int)n)
		buf[0] = '\0';
}

static int take_lock(const struct settings *s, int *lock_fd, struct err *e)
{
	char path[PATH_MAX], *slash;
	int fd;

	snprintf(path, sizeof(path), "%s", s->state_file);
	slash = strrchr(path, '/');
	if (slash == NULL)
		return err_set(e, "state_file must be an absolute path");
	*slash = '\0';
	if (mkdir_p(path, 0755, e) < 0)
		return -1;
	strcat(path, "/lock");
	/* Not O_CLOEXEC: the commands we run inherit the lock, so a `make` left
	 * behind by a killed agent still holds it until it ends. */
	fd = open(path, O_RDWR | O_CREAT, 0644);
	if (fd < 0)
		return err_set(e, "open %s: %s", path, strerror(errno));
	*lock_fd = fd;
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		return 0;
	ev_log("another agent run (or a command left by one) holds %s: waiting", path);
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR || proc_interrupted) {
			close(fd);
			*lock_fd = -1;
			return err_set(e, "waiting for %s: %s", path,
			               proc_interrupted ? "interrupted" : strerror(errno));
		}
	}
	return 0;
}

/* Marks steps to run from --only / --from. */
static int select_steps(const char *only, const char *from, int *run, struct err *e)
{
	const struct step *t = steps_table();
	int i, n = 0;

	for (i = 0; t[i].name; i++)
		run[i] = only == NULL;
	n = i;
	if (only) {
		char buf[256], *tok, *save = NULL;

		snprintf(buf, sizeof(buf), "%s", only);
		for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			const struct step *s = step_find(tok);

			if (s == NULL)
				return err_set(e,
				               "unknown step \"%s\" (steps: hosts docker data base "
				               "make health)",
				               tok);
			run[s - t] = 1;
		}
	}
	if (from) {
		const struct step *s = step_find(from);

		if (s == NULL)
			return err_set(e, "unknown step \"%s\"", from);
		for (i = 0; i < n; i++)
			if (i < s - t)
				run[i] = 0;
	}
	return 0;
}

static void tail_log(const char *path)
{
	char *lines[20] = {0}, buf[1024];
	FILE *f = fopen(path, "r");
	int i, k = 0;

	if (f == NULL)
		return;
	while (fgets(buf, sizeof(buf), f)) {
		free(lines[k % 20]);
		lines[k % 20] = strdup(buf);
		k++;
	}
	fclose(f);
	fprintf(stderr, "agent: last lines of %s:\n", path);
	for (i = k > 20 ? k - 20 : 0; i < k; i++) {
		fprintf(stderr, "  | %s", lines[i % 20] ? lines[i % 20] : "\n");
		free(lines[i % 20]);
		lines[i % 20] = NULL;
	}
}

/* Returns 1 when the step was already done (cached), 0 ok, -1 failed. */
static int run_step(struct agent *a, const struct step *s, int *failed)
{
	struct err e = {.msg = ""};
	enum step_outcome oc = STEP_OK;
	char msg[1024] = "";
	long t0 = ev_now_ms();
	int rc;

	a->step = s->name;
	a->last_progress_ms = t0;
	snprintf(a->step_log, sizeof(a->step_log), "%s/%s.log", a->s.log_dir, s->name);
	ev_emit(s->name, "start", -1, s->what, NULL);
	ev_log("step %s: start", s->name);
	rc = s->run(a, &oc, msg, sizeof(msg), &e);
	if (rc < 0) {
		ev_log("step %s failed: %s", s->name, e.msg);
		tail_log(a->step_log);
		ev_emit(s->name, "fail", ev_now_ms() - t0, e.msg, a->step_log);
		*failed = 1;
		return -1;
	}
	if (strcmp(s->name, "docker") != 0 && strcmp(s->name, "make") != 0) {
		/* docker and make record their own keys */
		struct err se = {.msg = ""};

		if (agstate_put(&a->st, a->s.state_file, s->name, "ok", "-", &se) < 0)
			ev_log("warning: %s", se.msg);
	}
	ev_log("step %s: %s: %s", s->name, oc == STEP_CACHED ? "cached" : "ok", msg);
	ev_emit(s->name, oc == STEP_CACHED ? "cached" : "ok", ev_now_ms() - t0, msg, NULL);
	return oc == STEP_CACHED ? 1 : 0;
}

/* Longer than 60 lines: the flag parsing (a switch of one-liners), then locking, settings and the
 * step loop, in the order a run happens. */
int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"conf", required_argument, NULL, 'c'},
	    {"set", required_argument, NULL, 's'},
	    {"login", required_argument, NULL, 'l'},
	    {"tree", required_argument, NULL, 't'},
	    {"only", required_argument, NULL, 'o'},
	    {"from", required_argument, NULL, 'f'},
	    {"force", no_argument, NULL, 'F'},
	    {"version", no_argument, NULL, 'V'},
	    {"help", no_argument, NULL, 'h'},
	    {"has-image", required_argument, NULL, 'I'},
	    {"missing-bases", no_argument, NULL, 'M'},
	    {NULL, 0, NULL, 0},
	};
	static struct agent a;
	char conf[PATH_MAX] = "", *sets[64];
	const char *conf_arg = NULL, *only = NULL, *from = NULL, *login = NULL, *tree = NULL;
	int json = 0, nsets = 0, c, i, run[16] = {0}, failed = 0, make_cached = 0, missing = 0;
	const struct step *t = steps_table();
	struct err e = {.msg = ""};
	struct sigaction sa;

	while ((c = getopt_long(argc, argv, "jc:s:l:t:o:f:FVh", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 'c': conf_arg = optarg; break;
		case 's':
			if (nsets < 64)
				sets[nsets++] = optarg;
			break;
		case 'l': login = optarg; break;
		case 't': tree = optarg; break;
		case 'o': only = optarg; break;
		case 'f': from = optarg; break;
		case 'F': a.force = 1; break;
		case 'V':
			printf("inception-agent %s (libcurl %s)\n", INCEPTION_VERSION,
			       curl_version_info(CURLVERSION_NOW)->version);
			return 0;
		case 'h': usage(stdout); return 0;
		case 'I': /* a quick question for the provisioner; needs the docker socket */
			return image_present(optarg) ? 0 : 1;
		case 'M': missing = 1; break;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	ev_init(json, NULL);
	settings_defaults(&a.s);
	if (conf_arg)
		snprintf(conf, sizeof(conf), "%s", conf_arg);
	else
		default_conf(conf, sizeof(conf));
	if (conf[0] && settings_load(&a.s, conf, conf_arg != NULL, &e) < 0)
		goto usage_err;
	for (i = 0; i < nsets; i++)
		if (settings_set(&a.s, sets[i], &e) < 0)
			goto usage_err;
	if (login)
		snprintf(a.s.login, sizeof(a.s.login), "%s", login);
	if (tree)
		snprintf(a.s.tree, sizeof(a.s.tree), "%s", tree);
	if (settings_finish(&a.s, &e) < 0 || select_steps(only, from, run, &e) < 0)
		goto usage_err;
	if (missing) { /* a question for the host, before it streams images */
		int rc;

		curl_global_init(CURL_GLOBAL_DEFAULT);
		rc = steps_missing_bases(&a.s, &e);
		curl_global_cleanup();
		if (rc < 0) {
			fprintf(stderr, "agent: %s\n", e.msg);
			return 1;
		}
		return 0;
	}
	if (geteuid() != 0) {
		err_set(&e, "refusing to run: must run as root (try: sudo %s)", argv[0]);
		goto usage_err;
	}
	if (check_debian(&e) < 0)
		goto usage_err;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* The provisioner may go away (killed, network cut): finish the step so
	 * the state file stays true; the next run takes over. */
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	ev_close();
	ev_init(json, a.s.log_dir);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	ev_log("inception-agent %s: login %s, tree %s, compose %s, meta %s, docker %s",
	       INCEPTION_VERSION, a.s.login, a.s.tree, a.s.compose, a.s.meta, a.s.docker_source);
	a.lock_fd = -1;
	if (take_lock(&a.s, &a.lock_fd, &e) < 0 || agstate_load(&a.st, a.s.state_file, &e) < 0) {
		ev_log("%s", e.msg);
		ev_emit("agent", "fail", -1, e.msg, NULL);
		return proc_interrupted ? 130 : 1;
	}
	for (i = 0; t[i].name && !failed; i++) {
		int r;

		if (!run[i])
			continue;
		if (proc_interrupted)
			break;
		r = run_step(&a, &t[i], &failed);
		if (strcmp(t[i].name, "make") == 0)
			make_cached = r == 1;
		if (r < 0 && strcmp(t[i].name, "health") == 0 && make_cached && !proc_interrupted) {
			/* The tree did not change but the stack does not answer (e.g.
			 * containers removed by hand): run make once more, then recheck. */
			ev_log("health failed with make cached: running make again");
			failed = 0;
			a.force = 1;
			if (run_step(&a, step_find("make"), &failed) >= 0)
				run_step(&a, &t[i], &failed);
		}
	}
	curl_global_cleanup();
	if (proc_interrupted) {
		ev_log("interrupted");
		ev_emit("agent", "fail", -1, "interrupted", NULL);
		ev_close();
		return 130;
	}
	ev_log(failed ? "done: a step failed (log: %s)" : "done: all steps ok (log: %s)",
	       ev_log_path());
	ev_close();
	return failed ? 1 : 0;

usage_err:
	fprintf(stderr, "agent: %s\n", e.msg);
	ev_emit("agent", "fail", -1, e.msg, NULL);
	return 2;
}
