/*
 * lab.c: the lab lifecycle (lab.h): seats as child processes of this
 * program, each with a generated configuration file, at most `jobs` at once.
 *
 * up: ports (recorded ones kept, new ones from the range, bind-tested),
 * projects resolved (clones under the lab's state), per-seat files written,
 * the image made once, the inputs compared with LAB.lock (--locked) or
 * recorded in it, then `inception -c SEAT.yaml up` per seat.  Each child's
 * output goes to its own log; its exit status and the last error line of
 * that log are the seat's result.
 */
#include "lab.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "image.h"
#include "project.h"
#include "report.h"
#include "sshc.h"
#include "digest.h"
#include "util.h"
#include "virt.h"
#include "vm.h"
#include "vmstate.h"

extern char **environ;

#define BASE_IMAGE_NAME "debian:bookworm"

/* ---- lab.state ---------------------------------------------------------- */

static int state_path(const struct lab_ctx *x, char *buf, size_t n, struct err *e)
{
	return path_join(buf, n, e, "%s/lab.state", x->state);
}

static void field(const char *line, const char *key, char *out, size_t n)
{
	size_t kl = strlen(key);
	const char *p = line;

	while ((p = strstr(p, key)) != NULL) {
		if ((p == line || p[-1] == ' ') && p[kl] == '=') {
			size_t len = strcspn(p + kl + 1, " \n");
			snprintf(out, n, "%.*s", (int)len, p + kl + 1);
			return;
		}
		p += kl;
	}
}

/* One line per seat: "SEAT ssh=P https=P result=R secs=N health=H
 * image=F sha=X base=B commit=C" (no value holds a space). */
static void state_load(struct lab_ctx *x)
{
	char path[PATH_MAX], *text = NULL, *line, *save = NULL, v[160];
	struct err e = {"", 0};
	size_t len;

	if (state_path(x, path, sizeof(path), &e) < 0 || read_file(path, &text, &len, &e) < 0)
		return;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[LAB_SEAT_MAX + 2];
		int i;

		snprintf(name, sizeof(name), "%.*s", (int)strcspn(line, " "), line);
		i = lab_find(x->l, name);
		if (i < 0)
			continue;
		struct lab_seat_run *r = &x->r[i];
		v[0] = '\0';
		field(line, "ssh", v, sizeof(v));
		r->ports.ssh = (unsigned)strtoul(v, NULL, 10);
		v[0] = '\0';
		field(line, "https", v, sizeof(v));
		r->ports.https = (unsigned)strtoul(v, NULL, 10);
		field(line, "result", r->result, sizeof(r->result));
		field(line, "health", r->health, sizeof(r->health));
		for (char *u = r->health; *u; u++)
			*u = *u == '_' ? ' ' : *u; /* "ssh_ok" on disk: no value holds a space */
		v[0] = '\0';
		field(line, "secs", v, sizeof(v));
		r->secs = strtol(v, NULL, 10);
		field(line, "image", r->image, sizeof(r->image));
		field(line, "sha", r->image_sha, sizeof(r->image_sha));
		field(line, "golden", r->golden, sizeof(r->golden));
		field(line, "gsha", r->golden_sha, sizeof(r->golden_sha));
		field(line, "gpkgs", r->golden_pkgs, sizeof(r->golden_pkgs));
		field(line, "base", r->base, sizeof(r->base));
		field(line, "commit", r->commit, sizeof(r->commit));
	}
	free(text);
}

static const char *or_dash(const char *s)
{
	return s && s[0] ? s : "-";
}

static int state_save(const struct lab_ctx *x, struct err *e)
{
	char path[PATH_MAX], *text = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&text, &len);
	int ret;

	if (f == NULL)
		return err_set(e, "out of memory");
	for (i = 0; i < x->l->nseats; i++) {
		const struct lab_seat_run *r = &x->r[i];
		char health[sizeof(r->health)];

		snprintf(health, sizeof(health), "%s", r->health);
		for (char *u = health; *u; u++)
			*u = *u == ' ' ? '_' : *u;
		fprintf(f,
		        "%s ssh=%u https=%u result=%s secs=%ld health=%s image=%s sha=%s golden=%s "
		        "gsha=%s gpkgs=%s base=%s commit=%s\n",
		        r->seat->name, r->ports.ssh, r->ports.https, or_dash(r->result), r->secs,
		        or_dash(health), or_dash(r->image), or_dash(r->image_sha),
		        or_dash(r->golden), or_dash(r->golden_sha), or_dash(r->golden_pkgs),
		        or_dash(r->base), or_dash(r->commit));
	}
	fclose(f);
	ret = state_path(x, path, sizeof(path), e) < 0
	          ? -1
	          : write_file_atomic(path, text, len, 0600, e);
	free(text);
	return ret;
}

/* "-" in the file is "nothing". */
static void undash(struct lab_seat_run *r)
{
	char *f[] = {r->result,     r->health,      r->image, r->image_sha, r->golden,
	             r->golden_sha, r->golden_pkgs, r->base,  r->commit};
	size_t i;

	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (strcmp(f[i], "-") == 0)
			f[i][0] = '\0';
}

/* ---- open, close -------------------------------------------------------- */

static void lock_path(const struct lab *l, char *buf, size_t n)
{
	const char *base = strrchr(l->file, '/');
	size_t stem;

	base = base ? base + 1 : l->file;
	stem = strlen(base);
	if (stem > 5 && strcmp(base + stem - 5, ".yaml") == 0)
		stem -= 5;
	else if (stem > 4 && strcmp(base + stem - 4, ".yml") == 0)
		stem -= 4;
	snprintf(buf, n, "%.*s%.*s.lock", (int)(base - l->file), l->file, (int)stem, base);
}

int lab_default_jobs(const struct lab *l)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN), pages = sysconf(_SC_PHYS_PAGES);
	long psz = sysconf(_SC_PAGESIZE);
	unsigned long long mem =
	    pages > 0 && psz > 0 ? (unsigned long long)pages * (unsigned long long)psz : 0;
	unsigned long long per = 0;
	struct config c;
	struct err e = {"", 0};
	long jobs;
	size_t i;

	/* the largest seat's memory decides how many fit in 3/4 of the host */
	for (i = 0; i < l->nseats; i++) {
		config_defaults(&c);
		if (lab_seat_config(l, &l->seats[i], &c, &e) == 0 && c.memory > per)
			per = c.memory;
		config_free(&c);
	}
	jobs = cpus > 0 ? cpus : 1;
	if (per && mem && (long)(mem * 3 / 4 / per) < jobs)
		jobs = (long)(mem * 3 / 4 / per);
	if (jobs < 1)
		jobs = 1;
	if ((size_t)jobs > l->nseats)
		jobs = (long)l->nseats;
	return (int)jobs;
}

int lab_open(struct lab_ctx *x, struct lab *l, const char *user_config, int jobs, struct err *e)
{
	char sub[64 + LAB_NAME_MAX];
	ssize_t n;
	size_t i;

	memset(x, 0, sizeof(*x));
	x->l = l;
	x->user_config = user_config;
	x->jobs = jobs > 0 ? jobs : l->jobs > 0 ? l->jobs : lab_default_jobs(l);
	snprintf(sub, sizeof(sub), "labs/%s", l->name);
	if (xdg_state_dir(x->state, sizeof(x->state), sub, e) < 0)
		return -1;
	lock_path(l, x->lock, sizeof(x->lock));
	n = readlink("/proc/self/exe", x->self, sizeof(x->self) - 1);
	if (n <= 0)
		return err_set(e, "cannot find this program (/proc/self/exe): %s", strerror(errno));
	x->self[n] = '\0';
	x->r = calloc(l->nseats + 1, sizeof(*x->r));
	if (x->r == NULL)
		return err_set(e, "out of memory");
	for (i = 0; i < l->nseats; i++) {
		x->r[i].seat = &l->seats[i];
		x->r[i].vm_only = lab_vm_only(l, &l->seats[i]) == 1;
		x->r[i].selected = 1;
		if (path_join(x->r[i].cfg, sizeof(x->r[i].cfg), e, "%s/seats/%s.yaml", x->state,
		              l->seats[i].name) < 0 ||
		    path_join(x->r[i].log, sizeof(x->r[i].log), e, "%s/logs/%s.log", x->state,
		              l->seats[i].name) < 0)
			return -1;
	}
	state_load(x);
	for (i = 0; i < l->nseats; i++)
		undash(&x->r[i]);
	return 0;
}

void lab_close(struct lab_ctx *x)
{
	free(x->r);
	x->r = NULL;
}

/* ---- the per-seat configuration file ------------------------------------ */

static void yaml_quoted(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

int lab_write_config(const struct config *c, const char *path, struct err *e)
{
	const char *const *keys = config_keys();
	char section[32] = "", val[2048], *text = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&text, &len);
	int ret;

	if (f == NULL)
		return err_set(e, "out of memory");
	fprintf(f, "# Written by `inception lab` for one seat; `inception -c THIS_FILE CMD`\n"
	           "# works on the seat's VM.  `lab up` writes it again.\n");
	for (i = 0; keys[i]; i++) {
		const char *dot = strchr(keys[i], '.');
		const char *leaf = dot ? dot + 1 : keys[i];

		config_format(c, keys[i], val, sizeof(val));
		if (val[0] == '\0')
			continue;
		if (dot && (strlen(section) != (size_t)(dot - keys[i]) ||
		            strncmp(section, keys[i], (size_t)(dot - keys[i])) != 0)) {
			snprintf(section, sizeof(section), "%.*s", (int)(dot - keys[i]), keys[i]);
			fprintf(f, "%s:\n", section);
		} else if (!dot) {
			section[0] = '\0';
		}
		fprintf(f, "%s%s:", dot ? "  " : "", leaf);
		if (strcmp(keys[i], "network.forwards") == 0) {
			char *save = NULL, *fw;
			fputc('\n', f);
			for (fw = strtok_r(val, ",", &save); fw; fw = strtok_r(NULL, ",", &save)) {
				fprintf(f, "    - ");
				yaml_quoted(f, fw);
				fputc('\n', f);
			}
			continue;
		}
		fputc(' ', f);
		yaml_quoted(f, val);
		fputc('\n', f);
	}
	fclose(f);
	ret = write_file_atomic(path, text, len, 0600, e);
	free(text);
	return ret;
}

static int is_url(const char *s)
{
	return strstr(s, "://") != NULL || strncmp(s, "git@", 4) == 0;
}

/* The seat's configuration: the user's (file, environment), the lab's
 * values, its ports; written to its file. */
static int seat_config(struct lab_ctx *x, struct lab_seat_run *r, struct config *c, struct err *e)
{
	char fw[64];

	config_defaults(c);
	if (config_load_file(c, x->user_config, e) < 0 || config_load_env(c, environ, e) < 0 ||
	    lab_seat_config(x->l, r->seat, c, e) < 0)
		return -1;
	/* the resolved project (a URL's clone is already at its ref) */
	if (r->top[0] && config_set(c, "project", r->top, "lab project", e) < 0)
		return -1;
	snprintf(fw, sizeof(fw), "127.0.0.1:%u:22", r->ports.ssh);
	if (config_set(c, "network.forwards", fw, "lab ports", e) < 0)
		return -1;
	snprintf(fw, sizeof(fw), "127.0.0.1:%u:443", r->ports.https);
	if (config_set(c, "network.forwards", fw, "lab ports", e) < 0 || config_validate(c, e) < 0)
		return -1;
	return lab_write_config(c, r->cfg, e);
}

/* The seat's project: a directory (relative to the lab file) or a URL,
 * cloned under the lab's state. */
static int seat_project(struct lab_ctx *x, struct lab_seat_run *r, struct err *e)
{
	const char *spec = lab_get(x->l, r->seat, LK_PROJECT);
	char abs[PATH_MAX], clones[PATH_MAX], log[PATH_MAX];
	struct project_req q;
	struct project p;

	r->top[0] = '\0';
	r->commit[0] = '\0';
	if (spec == NULL)
		return 0;
	if (!is_url(spec) && spec[0] != '/') {
		if (path_join(abs, sizeof(abs), e, "%s/%s", x->l->dir, spec) < 0)
			return -1;
		spec = abs;
	}
	if (path_join(clones, sizeof(clones), e, "%s/src/%s", x->state, r->seat->name) < 0 ||
	    path_join(log, sizeof(log), e, "%s/logs/%s-git.log", x->state, r->seat->name) < 0)
		return -1;
	memset(&q, 0, sizeof(q));
	q.spec = spec;
	q.ref = lab_get(x->l, r->seat, LK_REF);
	q.clone_dir = clones;
	q.log_path = log;
	if (project_resolve(&q, &p, e) < 0)
		return err_wrap(e, "project");
	snprintf(r->top, sizeof(r->top), "%s", p.dir);
	snprintf(r->commit, sizeof(r->commit), "%s%s", p.commit[0] ? p.commit : "none",
	         p.dirty ? "-dirty" : "");
	return 0;
}

/* ---- inputs ------------------------------------------------------------- */

/* The host's base image ID (what stack seats receive), or "absent". */
static void base_image_id(char *out, size_t n)
{
	char *argv[] = {"docker", "image", "inspect", "--format", "{{.Id}}", BASE_IMAGE_NAME, NULL};
	char *text = NULL;
	int status = -1;
	struct err e = {"", 0};

	snprintf(out, n, "absent");
	if (run_argv_output(argv, 30000, 4096, &text, &status, &e) == 0 && status == 0 && text &&
	    strncmp(text, "sha256:", 7) == 0)
		snprintf(out, n, "%.*s", (int)strcspn(text, "\n"), text);
	free(text);
}

/* The golden layer c's seats are made from (made now when missing), its
 * sha256, and "N:SHA" of its package list (image-build.sh's
 * IMAGE.packages, `dpkg-query -W` sorted); all "" when none applies. */
static int seat_golden(const struct config *c, char *file, char *sha, char *pkgs, struct err *e)
{
	char why[256], path[PATH_MAX], list[PATH_MAX + 16], *text = NULL;
	const char *slash;
	size_t len = 0, i, count = 0;

	file[0] = sha[0] = pkgs[0] = '\0';
	if (image_golden_why(c, why, sizeof(why)) != 1)
		return 0;
	if (image_golden(c, path, sizeof(path), e) < 0 || sha256_file(path, sha, e) < 0)
		return -1;
	slash = strrchr(path, '/');
	snprintf(file, 160, "%.159s", slash ? slash + 1 : path);
	snprintf(list, sizeof(list), "%s.packages", path);
	if (read_file(list, &text, &len, NULL) == 0) {
		char dg[65];

		for (i = 0; i < len; i++)
			count += text[i] == '\n';
		sha256_mem(text, len, dg);
		snprintf(pkgs, 100, "%zu:%s", count, dg);
		free(text);
	} else {
		snprintf(pkgs, 100, "unrecorded");
	}
	return 0;
}

/* The image of every prepared seat, made once per distinct configuration
 * (downloaded or built here, before any seat starts), and its digest. */
static int seat_images(struct lab_ctx *x, struct config *cfgs, struct err *e)
{
	char done_key[8][1200], done_file[8][160], done_sha[8][65], key[1200], path[PATH_MAX];
	char done_golden[8][160], done_gsha[8][65], done_gpkgs[8][100];
	size_t i, ndone = 0, j;

	for (i = 0; i < x->l->nseats; i++) {
		struct lab_seat_run *r = &x->r[i];
		char u[1024] = "", b[64] = "", m[1024] = "";
		const char *slash;

		if (!r->selected || r->result[0])
			continue;
		config_format(&cfgs[i], "image.url", u, sizeof(u));
		config_format(&cfgs[i], "image.build", b, sizeof(b));
		config_format(&cfgs[i], "apt.mirror", m, sizeof(m));
		snprintf(key, sizeof(key), "%.500s|%s|%.500s", u, b, m);
		for (j = 0; j < ndone && strcmp(done_key[j], key) != 0; j++)
			;
		if (j == ndone) {
			if (ndone == 8)
				return err_set(e, "more than 8 different images in one lab");
			report_step_begin("image", "the seats' Debian image, once for all");
			if (image_ensure(&cfgs[i], 0, path, sizeof(path), e) < 0 ||
			    sha256_file(path, done_sha[j], e) < 0) {
				report_step_end("image", "fail", 0, e->msg);
				return -1;
			}
			slash = strrchr(path, '/');
			snprintf(done_file[j], sizeof(done_file[j]), "%.159s",
			         slash ? slash + 1 : path);
			snprintf(done_key[j], sizeof(done_key[j]), "%s", key);
			if (seat_golden(&cfgs[i], done_golden[j], done_gsha[j], done_gpkgs[j], e) <
			    0) {
				report_step_end("image", "fail", 0, e->msg);
				return -1;
			}
			report_step_end("image", "ok", 0, done_file[j]);
			ndone++;
		}
		snprintf(r->image, sizeof(r->image), "%s", done_file[j]);
		snprintf(r->image_sha, sizeof(r->image_sha), "%s", done_sha[j]);
		snprintf(r->golden, sizeof(r->golden), "%s", done_golden[j]);
		snprintf(r->golden_sha, sizeof(r->golden_sha), "%s", done_gsha[j]);
		snprintf(r->golden_pkgs, sizeof(r->golden_pkgs), "%s", done_gpkgs[j]);
	}
	return 0;
}

/* ---- LAB.lock ----------------------------------------------------------- */

int lab_lock_format(const struct lab_ctx *x, char **out, struct err *e)
{
	size_t len = 0, i;
	FILE *f = open_memstream(out, &len);

	if (f == NULL)
		return err_set(e, "out of memory");
	fprintf(f,
	        "# LAB.lock: the inputs every seat of lab %s is made from.\n"
	        "# Written by `inception lab up`; `lab up --locked` refuses a seat whose\n"
	        "# inputs differ, `lab verify` compares the seats with it.\n"
	        "lab: %s\n",
	        x->l->name, x->l->name);
	for (i = 0; i < x->l->nseats; i++) {
		const struct lab_seat_run *r = &x->r[i];
		const char *n = r->seat->name;
		fprintf(f, "seat.%s.image: %s\n", n, or_dash(r->image));
		fprintf(f, "seat.%s.image_sha256: %s\n", n, or_dash(r->image_sha));
		fprintf(f, "seat.%s.golden: %s\n", n, r->golden[0] ? r->golden : "none");
		fprintf(f, "seat.%s.golden_sha256: %s\n", n,
		        r->golden_sha[0] ? r->golden_sha : "none");
		fprintf(f, "seat.%s.golden_packages: %s\n", n,
		        r->golden_pkgs[0] ? r->golden_pkgs : "none");
		fprintf(f, "seat.%s.base_image: %s\n", n,
		        r->vm_only   ? "none"
		        : r->base[0] ? r->base
		                     : "absent");
		fprintf(f, "seat.%s.commit: %s\n", n, r->commit[0] ? r->commit : "none");
	}
	fclose(f);
	return 0;
}

/* The value of "KEY: VALUE" in lock text, or NULL. */
static const char *lock_value(const char *lock, const char *key, char *buf, size_t n)
{
	size_t kl = strlen(key);
	const char *p = lock;

	while (p && *p) {
		if (strncmp(p, key, kl) == 0 && p[kl] == ':' && p[kl + 1] == ' ') {
			snprintf(buf, n, "%.*s", (int)strcspn(p + kl + 2, "\n"), p + kl + 2);
			return buf;
		}
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
	return NULL;
}

void lab_lock_diff(const struct lab_ctx *x, size_t i, const char *lock, char *buf, size_t n)
{
	const struct lab_seat_run *r = &x->r[i];
	const char *names[] = {"image",           "image_sha256", "golden", "golden_sha256",
	                       "golden_packages", "base_image",   "commit"};
	const char *now[7];
	char key[128], was[256];
	size_t k, used = 0;

	now[0] = or_dash(r->image);
	now[1] = or_dash(r->image_sha);
	now[2] = r->golden[0] ? r->golden : "none";
	now[3] = r->golden_sha[0] ? r->golden_sha : "none";
	now[4] = r->golden_pkgs[0] ? r->golden_pkgs : "none";
	now[5] = r->vm_only ? "none" : r->base[0] ? r->base : "absent";
	now[6] = r->commit[0] ? r->commit : "none";
	buf[0] = '\0';
	for (k = 0; k < 7 && used < n; k++) {
		snprintf(key, sizeof(key), "seat.%s.%s", r->seat->name, names[k]);
		if (lock_value(lock, key, was, sizeof(was)) == NULL) {
			snprintf(buf, n, "not in %s", "LAB.lock");
			return;
		}
		if (strcmp(was, now[k]) != 0)
			used += (size_t)snprintf(buf + used, n - used,
			                         "%s%s: LAB.lock has %.40s, now %.40s",
			                         used ? "; " : "", names[k], was, now[k]);
	}
}

/* ---- children ----------------------------------------------------------- */

/* In the child: the seat's file is the whole configuration, so the
 * INCEPTION_* settings of this shell are dropped (it was made from them). */
static void child_env(void)
{
	static const char *const keep[] = {"INCEPTION_DATADIR=", "INCEPTION_IMAGE_CACHE=", NULL};
	char **ev, name[128];
	int again = 1;

	while (again) {
		again = 0;
		for (ev = environ; ev && *ev; ev++) {
			size_t k;
			int kept = 0;

			if (strncmp(*ev, "INCEPTION_", 10) != 0)
				continue;
			for (k = 0; keep[k]; k++)
				kept |= strncmp(*ev, keep[k], strlen(keep[k])) == 0;
			if (kept)
				continue;
			snprintf(name, sizeof(name), "%.*s", (int)strcspn(*ev, "="), *ev);
			unsetenv(name);
			again = 1;
			break;
		}
	}
}

static pid_t spawn_seat(const struct lab_ctx *x, const struct lab_seat_run *r,
                        const char *const *args, const char *log)
{
	const char *argv[32];
	size_t n = 0;
	pid_t pid;

	argv[n++] = x->self;
	argv[n++] = "-c";
	argv[n++] = r->cfg;
	for (; *args && n + 2 < sizeof(argv) / sizeof(argv[0]); args++)
		argv[n++] = *args;
	if (r->arg[0])
		argv[n++] = r->arg;
	argv[n] = NULL;
	fflush(NULL);
	pid = fork();
	if (pid != 0)
		return pid;
	{
		int out = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		int in = open("/dev/null", O_RDONLY);

		if (out < 0 || in < 0)
			_exit(126);
		dup2(in, 0);
		dup2(out, 1);
		dup2(out, 2);
		close_range(3, ~0U, 0);
		child_env();
		if (chdir(r->top[0] ? r->top : x->state) < 0)
			_exit(126);
		signal(SIGPIPE, SIG_DFL);
		execv(x->self, (char *const *)argv);
		_exit(127);
	}
}

/* The last line of the log that says "error:" (else its last line). */
static void last_error(const char *log, char *out, size_t n)
{
	char *text = NULL, *line, *save = NULL, last[512] = "", err[512] = "";
	struct err e = {"", 0};
	size_t len;

	out[0] = '\0';
	if (read_file_max(log, &text, &len, 4 << 20, &e) < 0)
		return;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		snprintf(last, sizeof(last), "%s", line);
		if (strstr(line, "error:"))
			snprintf(err, sizeof(err), "%s", strstr(line, "error:") + 7);
	}
	free(text);
	report_sanitize(err[0] ? err : last, out, n);
}

/* Runs args on every seat with want[i] (its own r->arg last), at most
 * x->jobs at once, seats with want 2 started before those with want 1;
 * r->result "ok" or "failed" (exit status in detail), r->secs. */
static void run_children(struct lab_ctx *x, const char *const *args, int *want, const char *tag)
{
	size_t n = x->l->nseats, running = 0, i;
	char logdir[PATH_MAX];
	struct err e = {"", 0};

	if (path_join(logdir, sizeof(logdir), &e, "%s/logs", x->state) == 0)
		mkdir_p(logdir, 0700, &e);
	for (;;) {
		while (running < (size_t)x->jobs) {
			size_t pick = n;
			for (i = 0; i < n; i++)
				if (want[i] > 0 && (pick == n || want[i] > want[pick]))
					pick = i;
			if (pick == n)
				break;
			struct lab_seat_run *r = &x->r[pick];
			want[pick] = -1; /* started */
			r->t0 = report_now_ms();
			r->pid = spawn_seat(x, r, args, r->log);
			if (r->pid < 0) {
				snprintf(r->result, sizeof(r->result), "failed");
				snprintf(r->detail, sizeof(r->detail), "fork: %s", strerror(errno));
				r->pid = 0;
				continue;
			}
			running++;
			report_info("seat %s: %s started (log %s)", r->seat->name, tag, r->log);
		}
		if (running == 0)
			break;
		int st = 0;
		pid_t pid = waitpid(-1, &st, 0);
		if (pid < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (i = 0; i < n && x->r[i].pid != pid; i++)
			;
		if (i == n)
			continue;
		struct lab_seat_run *r = &x->r[i];
		int rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		r->pid = 0;
		running--;
		r->secs = (report_now_ms() - r->t0 + 500) / 1000;
		snprintf(r->result, sizeof(r->result), "%s", rc == 0 ? "ok" : "failed");
		r->detail[0] = '\0';
		if (rc != 0) {
			char why[400];
			last_error(r->log, why, sizeof(why));
			snprintf(r->detail, sizeof(r->detail), "exit %d: %s", rc, why);
		}
		report_info("seat %s: %s %s in %lds%s%s", r->seat->name, tag,
		            rc == 0 ? "done" : "FAILED", r->secs, rc ? ": " : "", r->detail);
	}
}

/* ---- up ----------------------------------------------------------------- */

static int vm_exists(const struct lab_seat *s)
{
	struct vm_paths p;
	struct err e = {"", 0};

	return vm_paths(s->vm, &p, &e) == 0 && access(p.state, F_OK) == 0;
}

static int assign_ports(struct lab_ctx *x, struct err *e)
{
	struct lab_ports *p = calloc(x->l->nseats + 1, sizeof(*p));
	size_t i;
	int ret;

	if (p == NULL)
		return err_set(e, "out of memory");
	for (i = 0; i < x->l->nseats; i++) {
		p[i] = x->r[i].ports;
		p[i].keep = vm_exists(x->r[i].seat) && p[i].ssh && p[i].https;
	}
	ret = lab_ports_assign(p, x->l->nseats, x->l->from, x->l->to, lab_port_busy, NULL, e);
	for (i = 0; ret == 0 && i < x->l->nseats; i++)
		x->r[i].ports = p[i];
	free(p);
	return ret;
}

/* Ports, projects, per-seat files and the image: everything the seats
 * need before one starts.  A seat that cannot be prepared is failed with
 * the reason; the others go on. */
static int prepare_seats(struct lab_ctx *x, struct err *e)
{
	struct config *cfgs = calloc(x->l->nseats + 1, sizeof(*cfgs));
	char dir[PATH_MAX];
	size_t i;
	int ret = -1, any_stack = 0;

	if (cfgs == NULL)
		return err_set(e, "out of memory");
	if (path_join(dir, sizeof(dir), e, "%s/seats", x->state) < 0 || mkdir_p(dir, 0700, e) < 0 ||
	    assign_ports(x, e) < 0 || state_save(x, e) < 0)
		goto done;
	for (i = 0; i < x->l->nseats; i++) {
		struct lab_seat_run *r = &x->r[i];
		struct err se = {"", 0};

		config_defaults(&cfgs[i]);
		r->result[0] = r->detail[0] = r->health[0] = '\0';
		r->secs = 0;
		if (!r->selected)
			continue;
		if (seat_project(x, r, &se) < 0 || seat_config(x, r, &cfgs[i], &se) < 0) {
			snprintf(r->result, sizeof(r->result), "failed");
			report_sanitize(se.msg, r->detail, sizeof(r->detail));
			report_warn("seat %s: %s", r->seat->name, r->detail);
			continue;
		}
		any_stack |= !r->vm_only;
	}
	if (seat_images(x, cfgs, e) < 0)
		goto done;
	for (i = 0; i < x->l->nseats; i++)
		if (any_stack && !x->r[i].vm_only)
			base_image_id(x->r[i].base, sizeof(x->r[i].base));
	ret = 0;
done:
	for (i = 0; i < x->l->nseats; i++)
		config_free(&cfgs[i]);
	free(cfgs);
	return ret;
}

/* --locked: every prepared seat whose inputs differ is refused. */
static int check_lock(struct lab_ctx *x, struct err *e)
{
	char *lock = NULL;
	size_t len, i;

	if (read_file(x->lock, &lock, &len, e) < 0)
		return err_setc(e, EXIT_USAGE,
		                "--locked: %s cannot be read: run `inception lab up` "
		                "once without --locked to record it",
		                x->lock);
	for (i = 0; i < x->l->nseats; i++) {
		struct lab_seat_run *r = &x->r[i];
		char diff[sizeof(r->detail)];

		if (!r->selected || r->result[0])
			continue;
		lab_lock_diff(x, i, lock, diff, sizeof(diff));
		if (diff[0]) {
			snprintf(r->result, sizeof(r->result), "refused");
			snprintf(r->detail, sizeof(r->detail), "differs from LAB.lock: %.480s",
			         diff);
			report_warn("seat %s: %s", r->seat->name, r->detail);
		}
	}
	free(lock);
	return 0;
}

int lab_up(struct lab_ctx *x, int locked, struct err *e)
{
	int *want = calloc(x->l->nseats + 1, sizeof(int));
	/* a seat is for someone else to use: the inputs a project lacks
	 * (secrets, .env) are generated, kept in the seat's state */
	const char *up_args[] = {"up", "--generate-missing", NULL};
	size_t i, failed = 0;
	int ret = -1;

	if (want == NULL)
		return err_set(e, "out of memory");
	if (mkdir_p(x->state, 0700, e) < 0 || prepare_seats(x, e) < 0 ||
	    (locked && check_lock(x, e) < 0))
		goto done;
	/* one pool; the stack seats (the long ones) start first */
	for (i = 0; i < x->l->nseats; i++) {
		struct lab_seat_run *r = &x->r[i];
		want[i] = r->selected && !r->result[0] ? (r->vm_only ? 1 : 2) : 0;
		snprintf(r->arg, sizeof(r->arg), "%s", r->vm_only ? "--vm-only" : "");
	}
	run_children(x, up_args, want, "up");
	for (i = 0; i < x->l->nseats; i++) {
		struct lab_seat_run *r = &x->r[i];

		if (!r->selected)
			continue;
		if (strcmp(r->result, "ok") == 0) {
			snprintf(r->result, sizeof(r->result), "up");
			snprintf(r->health, sizeof(r->health), "%s",
			         r->vm_only ? "ssh ok" : "healthy");
		} else {
			failed++;
			r->health[0] = '\0';
		}
	}
	if (state_save(x, e) < 0)
		goto done;
	if (!locked) {
		char *lock = NULL;
		if (lab_lock_format(x, &lock, e) < 0)
			goto done;
		ret = write_file_atomic(x->lock, lock, strlen(lock), 0644, e);
		free(lock);
		if (ret < 0)
			goto done;
	}
	ret = failed ? err_set(e, "lab up: %zu of %zu seats did not come up (see the table)",
	                       failed, x->l->nseats)
	             : 0;
done:
	free(want);
	return ret;
}

/* ---- each, status, check, destroy, verify -------------------------------- */

int lab_each(struct lab_ctx *x, const char *const *args, int stack_only, struct err *e)
{
	int *want = calloc(x->l->nseats + 1, sizeof(int));
	size_t i, failed = 0, ran = 0;

	if (want == NULL)
		return err_set(e, "out of memory");
	for (i = 0; i < x->l->nseats; i++) {
		struct lab_seat_run *r = &x->r[i];

		r->result[0] = r->detail[0] = '\0';
		r->secs = 0;
		if (!r->selected)
			continue;
		if (access(r->cfg, F_OK) != 0) {
			snprintf(r->result, sizeof(r->result), "absent");
			snprintf(r->detail, sizeof(r->detail), "never brought up (`lab up`)");
			continue;
		}
		if (stack_only && r->vm_only) {
			snprintf(r->result, sizeof(r->result), "skipped");
			snprintf(r->detail, sizeof(r->detail), "vm_only: no stack");
			continue;
		}
		want[i] = 1;
		ran++;
	}
	run_children(x, args, want, args[0]);
	for (i = 0; i < x->l->nseats; i++)
		failed += want[i] && strcmp(x->r[i].result, "ok") != 0;
	free(want);
	if (failed)
		return err_set(e, "lab %s: %zu of %zu seats failed (see the table)", args[0],
		               failed, ran);
	return 0;
}

void lab_status(struct lab_ctx *x)
{
	size_t i;

	for (i = 0; i < x->l->nseats; i++) {
		struct lab_seat_run *r = &x->r[i];
		enum virt_dom_state st = VIRT_DOM_ABSENT;
		struct err e = {"", 0};
		struct vm_paths p;
		struct vm_state s;
		struct virt v;

		char last[sizeof(r->result)];

		snprintf(last, sizeof(last), "%s", r->result);
		if (vm_paths(r->seat->vm, &p, &e) < 0 || vmstate_load(&p, &s, &e) < 0) {
			snprintf(r->result, sizeof(r->result), "absent");
			snprintf(r->health, sizeof(r->health), "-");
			continue;
		}
		if (virt_open(s.uri, &v, &e) == 0) {
			if (virt_dom_state(&v, s.domain, &st, &e) < 0)
				st = VIRT_DOM_OTHER;
			virt_close(&v);
			snprintf(r->result, sizeof(r->result), "%s", virt_dom_state_name(st));
		} else {
			snprintf(r->result, sizeof(r->result), "unknown");
		}
		snprintf(r->health, sizeof(r->health), "-");
		if (st == VIRT_DOM_RUNNING) {
			struct vm_target t;
			ssh_session sess = NULL;

			vm_target_from(&p, &s, 10, &t);
			if (sshc_connect(&t.t, &sess, &e) == 0) {
				sshc_close(sess);
				snprintf(r->health, sizeof(r->health), "%s",
				         r->vm_only      ? "ssh ok"
				         : s.stack_ok[0] ? "healthy"
				                         : "ssh ok, no stack");
			} else {
				snprintf(r->health, sizeof(r->health), "ssh fails");
			}
		}
		/* the last up's outcome stays in detail for the table */
		snprintf(r->detail, sizeof(r->detail), "last up: %s", last[0] ? last : "-");
	}
}

/* The check summary line ({"type":"check-summary",...}) of a --json log. */
static void check_counts(const char *log, int c[4])
{
	char *text = NULL, *p;
	struct err e = {"", 0};
	size_t len;

	c[0] = c[1] = c[2] = c[3] = -1;
	if (read_file_max(log, &text, &len, 16 << 20, &e) < 0)
		return;
	p = strstr(text, "{\"type\":\"check-summary\"");
	if (p)
		sscanf(p,
		       "{\"type\":\"check-summary\",\"pass\":%d,\"fail\":%d,\"manual\":%d,\"skip\":"
		       "%d}",
		       &c[0], &c[1], &c[2], &c[3]);
	free(text);
}

/* Longer than 60 lines: the runs, then the two renderings of one table
 * (Markdown and JSON), written side by side so they cannot disagree. */
int lab_check(struct lab_ctx *x, char *md, size_t mdn, char *json, size_t jsonn, struct err *e)
{
	char dir[PATH_MAX], rep[PATH_MAX + 32];
	char *mt = NULL, *jt = NULL;
	size_t ml = 0, jl = 0, i;
	FILE *mf, *jf;
	int ret, first = 1, total_fail = 0;

	if (path_join(dir, sizeof(dir), e, "%s/check", x->state) < 0 || mkdir_p(dir, 0700, e) < 0 ||
	    path_join(md, mdn, e, "%s/summary.md", dir) < 0 ||
	    path_join(json, jsonn, e, "%s/summary.json", dir) < 0)
		return -1;
	for (i = 0; i < x->l->nseats; i++) {
		/* each seat's own log and report, fresh for this run */
		if (path_join(x->r[i].log, sizeof(x->r[i].log), e, "%s/%s.log", dir,
		              x->r[i].seat->name) < 0)
			return -1;
		unlink(x->r[i].log);
	}
	{
		/* every seat writes its own report: check/SEAT.md, its last argument */
		const char *args[] = {"--json", "check", "--report", NULL};
		int *want = calloc(x->l->nseats + 1, sizeof(int));

		if (want == NULL)
			return err_set(e, "out of memory");
		for (i = 0; i < x->l->nseats; i++) {
			struct lab_seat_run *r = &x->r[i];
			r->result[0] = r->detail[0] = '\0';
			if (!r->selected)
				continue;
			if (r->vm_only || access(r->cfg, F_OK) != 0) {
				snprintf(r->result, sizeof(r->result), "skipped");
				snprintf(r->detail, sizeof(r->detail), "%s",
				         r->vm_only ? "vm_only: no stack" : "never brought up");
				continue;
			}
			if (path_join(r->arg, sizeof(r->arg), e, "%s/%s.md", dir, r->seat->name) <
			    0) {
				free(want);
				return -1;
			}
			want[i] = 1;
		}
		run_children(x, args, want, "check");
		free(want);
	}
	mf = open_memstream(&mt, &ml);
	jf = open_memstream(&jt, &jl);
	if (mf == NULL || jf == NULL)
		return err_set(e, "out of memory");
	fprintf(mf,
	        "# Lab %s: `inception check` on every seat\n\n"
	        "| seat | login | result | PASS | FAIL | MANUAL | SKIP | report |\n"
	        "|---|---|---|---|---|---|---|---|\n",
	        x->l->name);
	fprintf(jf, "{\"lab\":");
	json_write_string(jf, x->l->name);
	fprintf(jf, ",\"seats\":[");
	for (i = 0; i < x->l->nseats; i++) {
		struct lab_seat_run *r = &x->r[i];
		int c[4] = {-1, -1, -1, -1};

		if (!r->selected)
			continue;
		if (strcmp(r->result, "skipped") != 0)
			check_counts(r->log, c);
		if (strcmp(r->result, "failed") == 0 && c[0] >= 0 && c[1] > 0)
			snprintf(r->result, sizeof(r->result), "FAIL");
		else if (strcmp(r->result, "ok") == 0)
			snprintf(r->result, sizeof(r->result), "PASS");
		total_fail += strcmp(r->result, "skipped") != 0 && strcmp(r->result, "PASS") != 0;
		snprintf(rep, sizeof(rep), "%s/%s.md", dir, r->seat->name);
		fprintf(mf, "| %s | %s | %s | %d | %d | %d | %d | %s |\n", r->seat->name,
		        r->seat->login, r->result, c[0], c[1], c[2], c[3],
		        c[0] >= 0 ? rep : or_dash(r->detail));
		fprintf(jf, "%s{\"seat\":", first ? "" : ",");
		json_write_string(jf, r->seat->name);
		fprintf(jf, ",\"login\":");
		json_write_string(jf, r->seat->login);
		fprintf(jf, ",\"result\":");
		json_write_string(jf, r->result);
		fprintf(jf, ",\"pass\":%d,\"fail\":%d,\"manual\":%d,\"skip\":%d,\"report\":", c[0],
		        c[1], c[2], c[3]);
		json_write_string(jf, c[0] >= 0 ? rep : "");
		fprintf(jf, ",\"detail\":");
		json_write_string(jf, r->detail);
		fprintf(jf, "}");
		first = 0;
	}
	fprintf(jf, "]}\n");
	fclose(mf);
	fclose(jf);
	ret = write_file_atomic(md, mt, ml, 0644, e) < 0 ||
	              write_file_atomic(json, jt, jl, 0644, e) < 0
	          ? -1
	          : 0;
	free(mt);
	free(jt);
	if (ret == 0 && total_fail)
		ret = err_set(e, "lab check: %d seats did not pass (see %s)", total_fail, md);
	return ret;
}

int lab_destroy(struct lab_ctx *x, struct err *e)
{
	const char *args[] = {"destroy", NULL};
	size_t i;

	for (i = 0; i < x->l->nseats; i++)
		if (access(x->r[i].cfg, F_OK) != 0) {
			/* no seat file: a VM of that name may still exist (an old run) */
			struct config c;
			struct err se = {"", 0};
			config_defaults(&c);
			if (seat_config(x, &x->r[i], &c, &se) < 0)
				x->r[i].selected = 0;
			config_free(&c);
		}
	if (lab_each(x, args, 0, e) < 0)
		return -1;
	if (remove_state_dir(x->state, e) < 0)
		return -1;
	for (i = 0; i < x->l->nseats; i++)
		if (strcmp(x->r[i].result, "ok") == 0)
			snprintf(x->r[i].result, sizeof(x->r[i].result), "destroyed");
	return 0;
}

/* The base volume vm_create.c makes from an image file: "base-" and the
 * file's stem (without .qcow2, at most 48 characters) and ".qcow2". */
static void base_volume_name(const char *image, char *out, size_t n)
{
	size_t len = strlen(image);

	if (len > 6 && strcmp(image + len - 6, ".qcow2") == 0)
		len -= 6;
	if (len > 48)
		len = 48;
	snprintf(out, n, "base-%.*s.qcow2", (int)len, image);
}

int lab_verify(struct lab_ctx *x, struct err *e)
{
	char *lock = NULL;
	size_t len, i, bad = 0;

	if (read_file(x->lock, &lock, &len, e) < 0)
		return err_setc(e, EXIT_USAGE, "verify: %s cannot be read (run `inception lab up`)",
		                x->lock);
	for (i = 0; i < x->l->nseats; i++) {
		struct lab_seat_run *r = &x->r[i];
		struct vm_paths p;
		struct vm_state s;
		struct err se = {"", 0};
		char diff[sizeof(r->detail)], want[200];

		r->detail[0] = '\0';
		if (vm_paths(r->seat->vm, &p, &se) < 0 || vmstate_load(&p, &s, &se) < 0 ||
		    strcmp(r->result, "up") != 0) {
			snprintf(r->result, sizeof(r->result), "no VM");
			snprintf(r->detail, sizeof(r->detail), "not up (`lab up`)");
			bad++;
			continue;
		}
		lab_lock_diff(x, i, lock, diff, sizeof(diff));
		/* the VM's disk sits on the base volume of the locked golden
		 * layer, or of the locked image where none applies */
		base_volume_name(r->golden[0] ? r->golden : r->image, want, sizeof(want));
		if (strcmp(s.base_vol, want) != 0)
			snprintf(diff + strlen(diff), sizeof(diff) - strlen(diff),
			         "%sbase volume: the VM has %s, the image gives %s",
			         diff[0] ? "; " : "", s.base_vol, want);
		snprintf(r->result, sizeof(r->result), "%s", diff[0] ? "differs" : "matches");
		snprintf(r->detail, sizeof(r->detail), "%s", diff);
		bad += diff[0] != '\0';
	}
	free(lock);
	if (bad)
		return err_set(e, "lab verify: %zu of %zu seats differ from %s", bad, x->l->nseats,
		               x->lock);
	return 0;
}

int lab_exec_ssh(struct lab_ctx *x, int seat, int argc, char **argv, struct err *e)
{
	const char *args[64];
	struct lab_seat_run *r = &x->r[seat];
	int n = 0, i;

	if (access(r->cfg, F_OK) != 0)
		return err_setc(e, EXIT_NOVM, "seat %s was never brought up (`inception lab up`)",
		                r->seat->name);
	args[n++] = x->self;
	args[n++] = "-c";
	args[n++] = r->cfg;
	args[n++] = "ssh";
	if (argc > 0)
		args[n++] = "--"; /* getopt took the user's: CMD's own options stay CMD's */
	for (i = 0; i < argc && n < 62; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	child_env();
	fflush(NULL);
	execv(x->self, (char *const *)args);
	return err_set(e, "exec %s: %s", x->self, strerror(errno));
}
