/*
 * check.c: the evaluation sheet's points and how each is decided (see
 * check.h).
 *
 * A run loads what the static points need once (the compose file with
 * the env file's variables, every service's Dockerfile, git's tracked
 * files) and, for the other points, the project's containers: those whose
 * com.docker.compose.project.working_dir label is the compose file's
 * directory (or whose project is --project).  Docker is asked through the
 * `docker` CLI with argv arrays and bounded times; database queries run in
 * the MariaDB container with the credentials the compose file gave it
 * (its environment, *_FILE secrets read inside the container), the
 * password passed through the environment, never on a command line.
 */
#include "check.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <curl/curl.h>
#include <fcntl.h>

#include "checkstatic.h"
#include "report.h"
#include "util.h"

/* Evidence is one bounded line: a long path or message is cut, on purpose
 * (gcc's warning; clang has none by that name). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

#define OUT_MAX (4u << 20)

/* docker inspect format: one "TYPE NAME SOURCE DEST" line per mount */
#define MOUNTS_FMT "{{range .Mounts}}{{.Type}}\t{{.Name}}\t{{.Source}}\t{{.Destination}}\n{{end}}"
/* in the MariaDB container: the client as root without a password */
#define ROOT_NO_PW                                                                                 \
	"exec \"$(command -v mariadb || command -v mysql)\" --no-defaults -uroot -e 'SELECT 1'"

struct ctr {
	char id[80];
	char name[128];
	char service[128];
	char project[128];
	char status[32]; /* running, exited, restarting... */
	char health[32]; /* healthy, unhealthy, starting, "" */
	char image[256];
	long pid;
	int restarts;
	char ports[512]; /* "443/tcp=0.0.0.0:8443, 80/tcp=..." */
	char nets[512];  /* space-separated network names */
};

struct service_df {
	char *service;
	char *path;   /* relative to the project dir */
	char *ctxdir; /* absolute build context */
	char *text;
	struct dockerfile df;
};

struct check_ctx {
	struct check_opts o;
	char dir[PATH_MAX];
	char srcs[PATH_MAX];
	char compose_path[PATH_MAX]; /* "" when none */
	char compose_rel[128];
	char env_file[PATH_MAX];
	char today[16];
	char login[64];
	char domain[160];
	char data_dir[PATH_MAX];
	struct ck_env env;
	int compose_ok;
	char compose_err[ERR_MSG_MAX];
	struct compose cf;
	struct service_df *dfs;
	size_t ndfs;
	const char **roles; /* per compose service: "nginx", "wordpress", "mariadb" or NULL */
	int git;            /* DIR is in a git work tree */
	char **tracked;
	size_t ntracked;
	/* runtime, loaded on first use */
	int loaded;
	char load_err[512];
	struct ctr *ctrs;
	size_t nctrs;
	int https_port; /* host port of the published 443, 0 if none */
	/* database credentials */
	int db_loaded;
	char db_err[512];
	char db_user[128], db_name[128], db_prefix[64];
	char *db_password;
	/* what the WordPress points made, for the persistence point */
	char comment[96], comment_path[1024];
	char page_title[96], page_path[300];
};

/* ------------------------------------------------------------- helpers */
static void ev_set(char *ev, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void ev_set(char *ev, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ev, n, fmt, ap);
	va_end(ap);
}

static void ev_append(char *ev, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void ev_append(char *ev, size_t n, const char *fmt, ...)
{
	size_t l = strlen(ev);
	va_list ap;

	if (l + 1 >= n)
		return;
	va_start(ap, fmt);
	vsnprintf(ev + l, n - l, fmt, ap);
	va_end(ap);
}

/* First line of s, at most max chars, into buf. */
static const char *first_line(const char *s, char *buf, size_t n)
{
	size_t l = strcspn(s, "\n");

	while (*s == '\n' && *s) {
		s++;
		l = strcspn(s, "\n");
	}
	snprintf(buf, n, "%.*s", (int)(l < n - 1 ? l : n - 1), s);
	return buf;
}

static void chomp(char *s)
{
	size_t l = strlen(s);

	while (l && (s[l - 1] == '\n' || s[l - 1] == '\r' || s[l - 1] == ' '))
		s[--l] = '\0';
}

/* Runs argv (NULL-terminated); *out always set (caller frees); returns
 * the exit status, -1 on a timeout, -2 when it could not start. */
static int run(char *const argv[], int timeout_s, char **out)
{
	struct err e;
	int st = -2;

	*out = NULL;
	if (run_argv_output(argv, timeout_s * 1000, OUT_MAX, out, &st, &e) < 0) {
		*out = strdup(e.msg);
		return -2;
	}
	return st;
}

#define RUN(out, t, ...) run((char *const[]){__VA_ARGS__, NULL}, (t), (out))

/* A runtime command (docker, kill, curl): here, or where opts.exec says;
 * env: one "NAME=VALUE" for its environment, or NULL. */
static int run_rt(struct check_ctx *c, const char *env, char *const argv[], int timeout_s,
                  char **out)
{
	int st;

	if (c->o.exec != NULL) {
		*out = NULL;
		return c->o.exec(c->o.exec_arg, env, argv, timeout_s, out);
	}
	if (env)
		putenv((char *)env);
	st = run(argv, timeout_s, out);
	if (env) {
		char name[64];

		snprintf(name, sizeof(name), "%.*s", (int)strcspn(env, "="), env);
		unsetenv(name);
	}
	return st;
}

#define RT(c, out, t, ...) run_rt((c), NULL, (char *const[]){__VA_ARGS__, NULL}, (t), (out))
#define RT_ENV(c, env, out, t, ...)                                                                \
	run_rt((c), (env), (char *const[]){__VA_ARGS__, NULL}, (t), (out))

static int under_dir(const char *path, const char *dir)
{
	size_t l = strlen(dir);

	while (l > 1 && dir[l - 1] == '/')
		l--;
	return strncmp(path, dir, l) == 0 && (path[l] == '/' || path[l] == '\0');
}

static int read_text(const char *path, char **text)
{
	struct err e;
	size_t len;

	*text = NULL;
	return read_file_max(path, text, &len, 8u << 20, &e);
}

/* Which of the mandatory three a service is (load_roles), NULL for any
 * other; a service the compose file does not name: from its name. */
static const char *svc_role(const struct check_ctx *c, const char *service)
{
	size_t i;

	for (i = 0; c->roles && i < c->cf.nsvc; i++)
		if (strcmp(c->cf.svc[i].name, service) == 0)
			return c->roles[i];
	return ck_mandatory_role(service);
}

/* A bonus service's role (redis, ftp...), NULL for a mandatory one. */
static const char *svc_bonus_role(const struct check_ctx *c, const char *service)
{
	return svc_role(c, service) ? NULL : ck_bonus_role(service);
}

static const char *role_service(struct check_ctx *c, const char *role)
{
	size_t i;

	for (i = 0; i < c->cf.nsvc; i++) {
		const char *r = svc_role(c, c->cf.svc[i].name);
		if (r && strcmp(r, role) == 0)
			return c->cf.svc[i].name;
	}
	return NULL;
}

static struct service_df *service_dockerfile(struct check_ctx *c, const char *service)
{
	size_t i;

	for (i = 0; i < c->ndfs; i++)
		if (strcmp(c->dfs[i].service, service) == 0)
			return &c->dfs[i];
	return NULL;
}

/* ------------------------------------------------------------- loading */
/* Each service's role: from its name (nginx, wordpress, mariadb, db...);
 * a service whose name says nothing and is no known bonus service (web,
 * php...) gets the role its Dockerfile's content shows, unless another
 * service has that role already. */
static void load_roles(struct check_ctx *c)
{
	size_t i;

	c->roles = calloc(c->cf.nsvc ? c->cf.nsvc : 1, sizeof(*c->roles));
	if (c->roles == NULL)
		abort();
	for (i = 0; i < c->cf.nsvc; i++)
		c->roles[i] = ck_mandatory_role(c->cf.svc[i].name);
	for (i = 0; i < c->cf.nsvc; i++) {
		const struct service_df *d;
		const char *r;

		if (c->roles[i] || ck_bonus_role(c->cf.svc[i].name))
			continue;
		d = service_dockerfile(c, c->cf.svc[i].name);
		if (d && d->text && (r = ck_content_role(d->text)) != NULL &&
		    role_service(c, r) == NULL)
			c->roles[i] = r;
	}
}

static void load_compose(struct check_ctx *c)
{
	static const char *names[] = {"docker-compose.yml", "docker-compose.yaml", "compose.yml",
	                              "compose.yaml"};
	struct err e;
	char *text = NULL;
	size_t i;

	c->compose_path[0] = '\0';
	for (i = 0; i < 4; i++) {
		snprintf(c->compose_path, sizeof(c->compose_path), "%s/%s", c->srcs, names[i]);
		if (access(c->compose_path, R_OK) == 0) {
			snprintf(c->compose_rel, sizeof(c->compose_rel), "srcs/%s", names[i]);
			break;
		}
		c->compose_path[0] = '\0';
	}
	if (c->compose_path[0] == '\0') {
		snprintf(c->compose_err, sizeof(c->compose_err), "no compose file in srcs/");
		return;
	}
	if (read_text(c->compose_path, &text) < 0) {
		snprintf(c->compose_err, sizeof(c->compose_err), "cannot read %s", c->compose_rel);
		return;
	}
	err_clear(&e);
	if (compose_parse(c->compose_rel, text, &c->env, &c->cf, &e) == 0)
		c->compose_ok = 1;
	else
		snprintf(c->compose_err, sizeof(c->compose_err), "%s", e.msg);
	free(text);
	for (i = 0; c->compose_ok && i < c->cf.nsvc; i++) {
		const struct cs_service *s = &c->cf.svc[i];
		struct service_df *d;
		char path[PATH_MAX], ctx[PATH_MAX];

		if (s->build_ctx == NULL)
			continue;
		if (s->build_ctx[0] == '/')
			snprintf(ctx, sizeof(ctx), "%s", s->build_ctx);
		else
			snprintf(ctx, sizeof(ctx), "%s/%s", c->srcs, s->build_ctx);
		snprintf(path, sizeof(path), "%s/%s", ctx, s->dockerfile);
		c->dfs = realloc(c->dfs, (c->ndfs + 1) * sizeof(*c->dfs));
		if (c->dfs == NULL)
			abort();
		d = &c->dfs[c->ndfs++];
		memset(d, 0, sizeof(*d));
		d->service = strdup(s->name);
		d->ctxdir = strdup(ctx);
		d->path = strdup(under_dir(path, c->dir) ? path + strlen(c->dir) + 1 : path);
		if (read_text(path, &d->text) == 0)
			dockerfile_parse(d->text, &d->df);
	}
	load_roles(c);
}

/* 1 when path starts with one of the --exclude prefixes */
static int excluded(const struct check_ctx *c, const char *path)
{
	const char *p = c->o.exclude;

	while (p && *p) {
		size_t w = strcspn(p, ",");
		if (w && strncmp(path, p, w) == 0)
			return 1;
		p += w;
		if (*p == ',')
			p++;
	}
	return 0;
}

static void load_git(struct check_ctx *c)
{
	char *out = NULL, *p;

	if (RUN(&out, 30, "git", "-C", c->dir, "rev-parse", "--is-inside-work-tree") != 0) {
		free(out);
		return;
	}
	free(out);
	if (RUN(&out, 60, "git", "-C", c->dir, "ls-files", "-z") != 0) {
		free(out);
		return;
	}
	c->git = 1;
	/* -z: NUL-separated; run() kept the bytes, so walk by length */
	for (p = out; *p; p += strlen(p) + 1) {
		c->tracked = realloc(c->tracked, (c->ntracked + 1) * sizeof(char *));
		if (c->tracked == NULL)
			abort();
		c->tracked[c->ntracked++] = strdup(p);
	}
	free(out);
}

static void parse_ctr_line(struct ctr *k, char *line)
{
	char *f[10];
	int nf = 0;
	char *p = line;

	while (nf < 10) {
		f[nf++] = p;
		p = strchr(p, '\t');
		if (p == NULL)
			break;
		*p++ = '\0';
	}
	for (; nf < 10; nf++)
		f[nf] = (char *)"";
	snprintf(k->name, sizeof(k->name), "%s", f[0][0] == '/' ? f[0] + 1 : f[0]);
	snprintf(k->service, sizeof(k->service), "%s", f[1]);
	snprintf(k->project, sizeof(k->project), "%s", f[2]);
	snprintf(k->status, sizeof(k->status), "%s", f[3]);
	snprintf(k->health, sizeof(k->health), "%s", f[4]);
	k->pid = atol(f[5]);
	k->restarts = atoi(f[6]);
	snprintf(k->image, sizeof(k->image), "%s", f[7]);
	snprintf(k->ports, sizeof(k->ports), "%s", f[8]);
	snprintf(k->nets, sizeof(k->nets), "%s", f[9]);
	chomp(k->nets);
}

#define INSPECT_FMT                                                                                \
	"{{.Name}}\t{{index .Config.Labels \"com.docker.compose.service\"}}\t"                     \
	"{{index .Config.Labels \"com.docker.compose.project\"}}\t{{.State.Status}}\t"             \
	"{{with index .State \"Health\"}}{{.Status}}{{end}}\t{{.State.Pid}}\t{{.RestartCount}}\t"  \
	"{{.Config.Image}}\t{{range $p, $b := .NetworkSettings.Ports}}{{if $b}}{{$p}}="            \
	"{{range $b}}{{.HostIp}}:{{.HostPort}},{{end}} {{end}}{{end}}\t"                           \
	"{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}"

static int inspect_ctr(struct check_ctx *c, struct ctr *k)
{
	char *out = NULL;
	int st = RT(c, &out, 30, "docker", "inspect", "-f", INSPECT_FMT, k->id);

	if (st == 0) {
		char id[80];
		snprintf(id, sizeof(id), "%s", k->id);
		chomp(out);
		parse_ctr_line(k, out);
		snprintf(k->id, sizeof(k->id), "%s", id);
	}
	free(out);
	return st == 0 ? 0 : -1;
}

/* The published host port of 443/tcp in "443/tcp=0.0.0.0:8443,:::8443, " */
static int port_of_443(const char *ports)
{
	const char *p = strstr(ports, "443/tcp=");

	if (p == NULL || (p != ports && p[-1] != ' '))
		return 0;
	p = strchr(p, '=');
	p = p ? strchr(p, ':') : NULL;
	while (p && strchr(p + 1, ':') && strchr(p + 1, ':') < strchr(p, ','))
		p = strchr(p + 1, ':'); /* IPv6 host addresses */
	return p ? atoi(p + 1) : 0;
}

static int load_runtime(struct check_ctx *c)
{
	char filter[PATH_MAX + 64], *out = NULL, *line, *save = NULL;
	int st;
	size_t i;

	if (c->loaded)
		return c->load_err[0] ? -1 : 0;
	c->loaded = 1;
	if (c->o.project)
		snprintf(filter, sizeof(filter), "label=com.docker.compose.project=%s",
		         c->o.project);
	else
		snprintf(filter, sizeof(filter), "label=com.docker.compose.project.working_dir=%s",
		         c->o.runtime_srcs ? c->o.runtime_srcs : c->srcs);
	st = RT(c, &out, 30, "docker", "ps", "-a", "-q", "--no-trunc", "--filter", filter);
	if (st != 0) {
		char l[200];
		snprintf(c->load_err, sizeof(c->load_err), "docker ps: %s",
		         first_line(out ? out : "", l, sizeof(l)));
		free(out);
		return -1;
	}
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct ctr *k;

		c->ctrs = realloc(c->ctrs, (c->nctrs + 1) * sizeof(*c->ctrs));
		if (c->ctrs == NULL)
			abort();
		k = &c->ctrs[c->nctrs];
		memset(k, 0, sizeof(*k));
		snprintf(k->id, sizeof(k->id), "%s", line);
		if (inspect_ctr(c, k) == 0)
			c->nctrs++;
	}
	free(out);
	if (c->nctrs == 0) {
		snprintf(c->load_err, sizeof(c->load_err),
		         "no container of this project (docker ps -a --filter %s): run make first",
		         filter);
		return -1;
	}
	for (i = 0; i < c->nctrs; i++) {
		const char *r = svc_role(c, c->ctrs[i].service);
		if (r && strcmp(r, "nginx") == 0)
			c->https_port = port_of_443(c->ctrs[i].ports);
	}
	if (c->o.https_port && c->https_port) /* published in the VM: reached through its forward */
		c->https_port = c->o.https_port;
	return 0;
}

static struct ctr *ctr_of_role(struct check_ctx *c, const char *role)
{
	size_t i;

	for (i = 0; i < c->nctrs; i++) {
		const char *r = svc_role(c, c->ctrs[i].service);
		if (r && strcmp(r, role) == 0)
			return &c->ctrs[i];
	}
	return NULL;
}

/* A runtime point's common start: the containers, or SKIP/FAIL evidence. */
#define NEED_RUNTIME(c, ev, n)                                                                     \
	do {                                                                                       \
		if (load_runtime(c) < 0) {                                                         \
			ev_set(ev, n, "%s", (c)->load_err);                                        \
			return CK_FAIL;                                                            \
		}                                                                                  \
	} while (0)

static struct ctr *need_role(struct check_ctx *c, const char *role, char *ev, size_t n)
{
	struct ctr *k = ctr_of_role(c, role);

	if (k == NULL)
		ev_set(ev, n, "no %s container in the project", role);
	return k;
}

/* ----------------------------------------------------- preliminaries */
/* Files whose content is scanned for credentials: text a student writes
 * (not C sources or prose). */
static int scan_content(const char *path)
{
	const char *dot = strrchr(path, '.'), *b = strrchr(path, '/');

	b = b ? b + 1 : path;
	if (dot && dot > b &&
	    (strcmp(dot, ".c") == 0 || strcmp(dot, ".h") == 0 || strcmp(dot, ".md") == 0 ||
	     strcmp(dot, ".svg") == 0 || strcmp(dot, ".png") == 0 || strcmp(dot, ".jpg") == 0 ||
	     strcmp(dot, ".ico") == 0))
		return 0;
	return 1;
}

static int is_dockerfile(const char *path)
{
	const char *b = strrchr(path, '/');

	b = b ? b + 1 : path;
	return strncmp(b, "Dockerfile", 10) == 0 || strstr(b, ".Dockerfile") != NULL;
}

/* Credential findings in text (a file's content) into f. */
static void scan_text_creds(const char *path, const char *text, struct ck_findings *f)
{
	const char *p = text;
	int lineno = 0;

	if (is_dockerfile(path)) {
		struct dockerfile df;
		dockerfile_parse(text, &df);
		dockerfile_scan_secrets(&df, path, f);
		dockerfile_free(&df);
	}
	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		char *line = strndup(p, len), why[160];

		lineno++;
		p += len + (eol ? 1 : 0);
		/* in a Dockerfile only SQL (IDENTIFIED BY) counts here; ENV/ARG
		 * are the Dockerfile points' */
		if (line && (!is_dockerfile(path) || strcasestr(line, "identified by")) &&
		    cred_line(line, why, sizeof(why)))
			ck_add(f, path, lineno, "%s", why);
		free(line);
	}
}

static void tracked_creds(struct check_ctx *c, struct ck_findings *f)
{
	size_t i;

	for (i = 0; i < c->ntracked; i++) {
		const char *t = c->tracked[i];
		char path[PATH_MAX], *text = NULL;

		if (excluded(c, t))
			continue;
		if (cred_path(t) && strstr(t, ".example") == NULL && strstr(t, ".sample") == NULL &&
		    strstr(t, ".template") == NULL) {
			ck_add(f, t, 0, "a secret file is tracked");
			continue;
		}
		if (!scan_content(t))
			continue;
		snprintf(path, sizeof(path), "%s/%s", c->dir, t);
		if (read_text(path, &text) < 0)
			continue;
		if (memchr(text, '\0', strlen(text)) == NULL)
			scan_text_creds(t, text, f);
		free(text);
	}
}

/* The end of a point that collects findings: PASS with the evidence the
 * caller put in ev, or FAIL with the findings (file:line each). */
static enum ck_state findings_verdict(struct ck_findings *f, char *ev, size_t n)
{
	if (f->n == 0)
		return CK_PASS;
	ck_findings_format(f, ev, n);
	ck_findings_free(f);
	return CK_FAIL;
}

/* The end of a credential scan: PASS with the evidence already in ev (and
 * the exclusions named), or FAIL with the findings. */
static enum ck_state scan_verdict(struct check_ctx *c, struct ck_findings *f, char *ev, size_t n)
{
	if (f->n == 0 && c->o.exclude)
		ev_append(ev, n, " (excluded: %s)", c->o.exclude);
	return findings_verdict(f, ev, n);
}

static enum ck_state pt_tracked(struct check_ctx *c, char *ev, size_t n)
{
	struct ck_findings f = {0};

	if (!c->git) {
		ev_set(ev, n, "%s is not in a git work tree: nothing tracked to read", c->dir);
		return CK_SKIP;
	}
	tracked_creds(c, &f);
	if (f.n == 0)
		ev_set(ev, n,
		       "git ls-files: %zu tracked files read, no password literal, secret "
		       "file or private key",
		       c->ntracked);
	return scan_verdict(c, &f, ev, n);
}

/* Lines added in any commit (git log -p) that hold a credential and are
 * no longer in the tracked files (those are the point above).  One pass
 * over the diff with its small state (commit, file, line) in locals, so
 * not split. */
static enum ck_state pt_history(struct check_ctx *c, char *ev, size_t n)
{
	struct ck_findings f = {0}, now = {0};
	char *out = NULL, *line, *save = NULL, commit[16] = "", file[PATH_MAX] = "";
	int st, newline = 0;
	size_t ncommits = 0;

	if (!c->git) {
		ev_set(ev, n, "%s is not in a git work tree", c->dir);
		return CK_SKIP;
	}
	st = RUN(&out, 120, "git", "-C", c->dir, "log", "-p", "--all", "--no-color",
	         "--no-ext-diff", "--relative", "--format=commit %h", "--unified=0");
	if (st != 0) {
		char l[200];
		ev_set(ev, n, "git log -p failed: %s", first_line(out ? out : "", l, sizeof(l)));
		free(out);
		return CK_FAIL;
	}
	tracked_creds(c, &now);
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char why[160];

		if (strncmp(line, "commit ", 7) == 0) {
			snprintf(commit, sizeof(commit), "%s", line + 7);
			ncommits++;
		} else if (strncmp(line, "+++ ", 4) == 0) {
			snprintf(file, sizeof(file), "%s",
			         strncmp(line + 4, "b/", 2) == 0 ? line + 6 : line + 4);
		} else if (strncmp(line, "@@ ", 3) == 0) {
			const char *plus = strchr(line, '+');
			newline = plus ? atoi(plus + 1) : 0;
		} else if (line[0] == '+' && file[0] && !excluded(c, file)) {
			int hit = 0;

			if (cred_path(file) && strstr(file, ".example") == NULL &&
			    strstr(file, ".sample") == NULL && strstr(file, ".template") == NULL &&
			    strcmp(file, "/dev/null") != 0)
				hit = snprintf(why, sizeof(why), "a secret file was committed") > 0;
			else if (scan_content(file) && cred_line(line + 1, why, sizeof(why)))
				hit = 1;
			if (hit) {
				size_t k, dup = 0;
				char where[PATH_MAX + 32];

				for (k = 0; k < now.n; k++)
					if (now.v[k].file && strcmp(now.v[k].file, file) == 0)
						dup = 1;
				snprintf(where, sizeof(where), "%s@%s", file, commit);
				for (k = 0; k < f.n; k++)
					if (strcmp(f.v[k].file, where) == 0)
						dup = 1;
				if (!dup)
					ck_add(&f, where, newline, "%s", why);
			}
			newline++;
		}
	}
	free(out);
	ck_findings_free(&now);
	if (f.n == 0)
		ev_set(ev, n,
		       "git log -p --all: %zu commits read, no credential outside the "
		       "tracked files",
		       ncommits);
	return scan_verdict(c, &f, ev, n);
}

static enum ck_state pt_ignored(struct check_ctx *c, char *ev, size_t n)
{
	static char *const paths[] = {"srcs/.env", "secrets/db_password.txt"};
	char *out = NULL;
	int bad = 0;
	size_t i;

	if (!c->git) {
		ev_set(ev, n, "%s is not in a git work tree", c->dir);
		return CK_SKIP;
	}
	ev_set(ev, n, "git check-ignore:");
	for (i = 0; i < 2; i++) {
		int st = RUN(&out, 30, "git", "-C", c->dir, "check-ignore", "-q", paths[i]);

		free(out);
		ev_append(ev, n, " %s %s;", i == 0 ? "srcs/.env" : "secrets/",
		          st == 0 ? "ignored" : "NOT ignored");
		if (st != 0)
			bad = 1;
	}
	return bad ? CK_FAIL : CK_PASS;
}

static enum ck_state pt_layout(struct check_ctx *c, char *ev, size_t n)
{
	char p[PATH_MAX];
	struct stat st;
	int srcs, mk;

	srcs = stat(c->srcs, &st) == 0 && S_ISDIR(st.st_mode);
	snprintf(p, sizeof(p), "%s/Makefile", c->dir);
	mk = stat(p, &st) == 0 && S_ISREG(st.st_mode);
	ev_set(ev, n, "srcs/ %s, Makefile %s%s%s", srcs ? "present" : "MISSING",
	       mk ? "present" : "MISSING", c->compose_path[0] ? ", compose file " : "",
	       c->compose_path[0] ? c->compose_rel : "");
	return srcs && mk ? CK_PASS : CK_FAIL;
}

#define NEED_COMPOSE(c, ev, n)                                                                     \
	do {                                                                                       \
		if (!(c)->compose_ok) {                                                            \
			ev_set(ev, n, "%s", (c)->compose_err);                                     \
			return CK_FAIL;                                                            \
		}                                                                                  \
	} while (0)

static enum ck_state pt_no_host_net(struct check_ctx *c, char *ev, size_t n)
{
	NEED_COMPOSE(c, ev, n);
	if (c->cf.forbidden.n == 0) {
		ev_set(ev, n, "%s: no network_mode: host, network: host, links: or external_links:",
		       c->compose_rel);
		return CK_PASS;
	}
	ck_findings_format(&c->cf.forbidden, ev, n);
	return CK_FAIL;
}

static enum ck_state pt_networks(struct check_ctx *c, char *ev, size_t n)
{
	struct ck_findings f = {0};
	size_t i;

	NEED_COMPOSE(c, ev, n);
	if (c->cf.networks_line == 0)
		ck_add(&f, c->compose_rel, 0, "no top-level networks:");
	for (i = 0; i < c->cf.nsvc; i++)
		if (!c->cf.svc[i].has_networks)
			ck_add(&f, c->compose_rel, c->cf.svc[i].line,
			       "service %s has no networks:", c->cf.svc[i].name);
	if (f.n == 0) {
		ev_set(ev, n, "%s:%d: networks: declared; all %zu services join one",
		       c->compose_rel, c->cf.networks_line, c->cf.nsvc);
	}
	return findings_verdict(&f, ev, n);
}

static void scan_link(const char *rel, const char *text, struct ck_findings *f)
{
	const char *p = text;
	int lineno = 0;

	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		char *line = strndup(p, len), *q;

		lineno++;
		p += len + (eol ? 1 : 0);
		if (line == NULL)
			break;
		/* quoted text and comments do not count: grep -- '--link' */
		for (q = line; (q = strstr(q, "--link")) != NULL; q += 6) {
			const char *t = line;
			int sq = 0, dq = 0, comment = 0;

			for (; t < q; t++) {
				if (*t == '\'' && !dq)
					sq = !sq;
				else if (*t == '"' && !sq)
					dq = !dq;
				else if (*t == '#' && !sq && !dq)
					comment = 1;
			}
			if (!sq && !dq && !comment &&
			    (q == line || isspace((unsigned char)q[-1])) &&
			    (q[6] == '\0' || q[6] == '=' || isspace((unsigned char)q[6]))) {
				ck_add(f, rel, lineno, "docker --link");
				break;
			}
		}
		free(line);
	}
}

static enum ck_state pt_no_link(struct check_ctx *c, char *ev, size_t n)
{
	struct ck_findings f = {0};
	size_t i, nfiles = 0;
	char path[PATH_MAX], *text;

	snprintf(path, sizeof(path), "%s/Makefile", c->dir);
	if (read_text(path, &text) == 0) {
		scan_link("Makefile", text, &f);
		free(text);
	}
	for (i = 0; i < c->ntracked; i++) {
		const char *t = c->tracked[i];
		size_t l = strlen(t);

		if (!(l > 3 && strcmp(t + l - 3, ".sh") == 0) &&
		    !(l > 3 && strcmp(t + l - 3, ".mk") == 0))
			continue;
		snprintf(path, sizeof(path), "%s/%s", c->dir, t);
		if (read_text(path, &text) < 0)
			continue;
		scan_link(t, text, &f);
		nfiles++;
		free(text);
	}
	if (f.n == 0)
		ev_set(ev, n, "no --link in the Makefile or the %zu tracked scripts", nfiles);
	return findings_verdict(&f, ev, n);
}

/* ENTRYPOINT, CMD and the entrypoint script of every service (found
 * through COPY/ADD); one loop over the services, kept whole. */
static enum ck_state pt_pid1(struct check_ctx *c, char *ev, size_t n)
{
	struct ck_findings f = {0};
	size_t i, nscripts = 0;

	NEED_COMPOSE(c, ev, n);
	for (i = 0; i < c->ndfs; i++) {
		struct service_df *d = &c->dfs[i];
		long ep, cm;
		struct ck_argv a[2];
		int have[2] = {0, 0}, k;

		if (d->text == NULL)
			continue;
		dockerfile_entry(&d->df, &ep, &cm);
		if (ep >= 0) {
			cmdline_parse(d->df.v[ep].args, &a[0]);
			have[0] = 1;
			argv_scan(d->path, d->df.v[ep].line, &a[0], &f);
		}
		if (cm >= 0) {
			cmdline_parse(d->df.v[cm].args, &a[1]);
			have[1] = 1;
			/* with an exec-form ENTRYPOINT, CMD is its arguments */
			argv_scan(d->path, d->df.v[cm].line, &a[1], &f);
		}
		for (k = 0; k < 2; k++) {
			const char *script;
			char *src, full[PATH_MAX], *text = NULL, rel[PATH_MAX];

			if (!have[k])
				continue;
			script = argv_script(&a[k]);
			if (script && script[0] != '/' && strchr(script, '/') == NULL) {
				char abs[PATH_MAX];
				snprintf(abs, sizeof(abs), "/usr/local/bin/%s", script);
				src = dockerfile_copy_source(&d->df, d->ctxdir, abs);
				if (src == NULL)
					src = dockerfile_copy_source(&d->df, d->ctxdir, script);
			} else {
				src = script ? dockerfile_copy_source(&d->df, d->ctxdir, script)
				             : NULL;
			}
			if (src == NULL)
				continue;
			snprintf(full, sizeof(full), "%s/%s", d->ctxdir, src);
			snprintf(rel, sizeof(rel), "%s",
			         under_dir(full, c->dir) ? full + strlen(c->dir) + 1 : full);
			if (read_text(full, &text) == 0) {
				script_scan(rel, 1, text, &f);
				nscripts++;
			}
			free(text);
			free(src);
		}
		for (k = 0; k < 2; k++)
			if (have[k])
				ck_argv_free(&a[k]);
	}
	if (f.n == 0)
		ev_set(ev, n,
		       "ENTRYPOINT/CMD of %zu Dockerfiles and %zu entrypoint scripts: no "
		       "background &, tail -f, sleep infinity, infinite loop or bare shell",
		       c->ndfs, nscripts);
	return findings_verdict(&f, ev, n);
}

/* --------------------------------------------------------- docker basics */
static enum ck_state pt_dockerfiles(struct check_ctx *c, char *ev, size_t n)
{
	struct ck_findings f = {0};
	size_t i;

	NEED_COMPOSE(c, ev, n);
	for (i = 0; i < c->ndfs; i++) {
		struct service_df *d = &c->dfs[i];

		if (d->text == NULL)
			ck_add(&f, d->path, 0, "missing (service %s)", d->service);
		else if (d->df.n == 0)
			ck_add(&f, d->path, 0, "empty (service %s)", d->service);
	}
	if (f.n == 0)
		ev_set(ev, n, "%zu services built from %zu non-empty Dockerfiles", c->ndfs,
		       c->ndfs);
	return findings_verdict(&f, ev, n);
}

/* An image built by a service of this compose file (a local base). */
static int local_image(struct check_ctx *c, const char *image)
{
	size_t i;

	for (i = 0; i < c->cf.nsvc; i++)
		if (c->cf.svc[i].image && c->cf.svc[i].build_ctx &&
		    strcmp(c->cf.svc[i].image, image) == 0)
			return 1;
	return 0;
}

/* "debian 12 bookworm or alpine 3.22 on DATE (stable: ...; release table
 * of ...)": what the FROM rule expects, said in its evidence. */
static void penultimate_note(const char *today, char *buf, size_t n)
{
	const struct ck_release *dst, *ast;
	const struct ck_release *dp = ck_penultimate("debian", today, &dst);
	const struct ck_release *ap = ck_penultimate("alpine", today, &ast);

	snprintf(
	    buf, n,
	    "penultimate stable on %s: debian %s %s or alpine %s (stable: debian %s, alpine %s; "
	    "release table of %s)",
	    today, dp ? dp->version : "?", dp && dp->codename ? dp->codename : "",
	    ap ? ap->version : "?", dst ? dst->version : "?", ast ? ast->version : "?",
	    ck_release_table_date());
}

static enum ck_state pt_from(struct check_ctx *c, char *ev, size_t n)
{
	struct ck_findings f = {0};
	char why[256] = "", note[300];
	size_t i, k, nfrom = 0;

	NEED_COMPOSE(c, ev, n);
	penultimate_note(c->today, note, sizeof(note));
	for (i = 0; i < c->ndfs; i++) {
		struct df_from *fr;
		size_t nf;

		dockerfile_froms(&c->dfs[i].df, &fr, &nf);
		for (k = 0; k < nf; k++) {
			size_t s;
			int stage = 0;

			for (s = 0; s < k; s++)
				if (fr[s].stage && strcmp(fr[s].stage, fr[k].image) == 0)
					stage = 1;
			nfrom++;
			if (stage || local_image(c, fr[k].image))
				continue;
			if (!ck_image_is_penultimate(fr[k].image, c->today, why, sizeof(why)))
				ck_add(&f, c->dfs[i].path, fr[k].line, "FROM %s%s", fr[k].image,
				       fr[k].unknown ? " (an ARG without value)" : "");
		}
		df_froms_free(fr, nf);
	}
	if (f.n == 0) {
		ev_set(ev, n, "%zu FROM lines, all the penultimate stable; %s", nfrom, note);
		return CK_PASS;
	}
	ck_findings_format(&f, ev, n);
	ev_append(ev, n, " (%s)", note);
	ck_findings_free(&f);
	return CK_FAIL;
}

static enum ck_state pt_latest(struct check_ctx *c, char *ev, size_t n)
{
	struct ck_findings f = {0};
	size_t i, k;

	NEED_COMPOSE(c, ev, n);
	for (i = 0; i < c->ndfs; i++) {
		struct df_from *fr;
		size_t nf;

		dockerfile_froms(&c->dfs[i].df, &fr, &nf);
		for (k = 0; k < nf; k++) {
			char tag[128];
			const char *t = ck_image_tag(fr[k].image, tag, sizeof(tag));
			size_t s;
			int stage = 0;

			for (s = 0; s < k; s++)
				if (fr[s].stage && strcmp(fr[s].stage, fr[k].image) == 0)
					stage = 1;
			if (stage || strcmp(fr[k].image, "scratch") == 0 || t == NULL)
				continue;
			if (strcmp(t, "latest") == 0)
				ck_add(&f, c->dfs[i].path, fr[k].line, "FROM %s%s", fr[k].image,
				       strchr(fr[k].image, ':') ? "" : " (no tag: latest)");
		}
		df_froms_free(fr, nf);
	}
	for (i = 0; i < c->cf.nsvc; i++) {
		const struct cs_service *s = &c->cf.svc[i];
		char tag[128];

		if (s->image && strstr(s->image, ":latest") &&
		    strcmp(ck_image_tag(s->image, tag, sizeof(tag)) ? tag : "", "latest") == 0)
			ck_add(&f, c->compose_rel, s->image_line, "image: %s", s->image);
	}
	if (f.n == 0)
		ev_set(ev, n, "no FROM or image: with the latest tag (or without a tag)");
	return findings_verdict(&f, ev, n);
}

static enum ck_state pt_ready_made(struct check_ctx *c, char *ev, size_t n)
{
	struct ck_findings f = {0};
	size_t i;

	NEED_COMPOSE(c, ev, n);
	for (i = 0; i < c->cf.nsvc; i++)
		if (c->cf.svc[i].build_ctx == NULL)
			ck_add(&f, c->compose_rel, c->cf.svc[i].line,
			       "service %s has no build: (image %s pulled ready-made)",
			       c->cf.svc[i].name, c->cf.svc[i].image ? c->cf.svc[i].image : "?");
	if (f.n == 0)
		ev_set(ev, n, "every service of %s has build:", c->compose_rel);
	return findings_verdict(&f, ev, n);
}

static enum ck_state pt_image_names(struct check_ctx *c, char *ev, size_t n)
{
	struct ck_findings f = {0};
	size_t i;
	char list[512] = "";

	NEED_COMPOSE(c, ev, n);
	for (i = 0; i < c->cf.nsvc; i++) {
		const struct cs_service *s = &c->cf.svc[i];
		char name[256];

		if (s->build_ctx == NULL)
			continue;
		if (s->image == NULL) {
			ck_add(&f, c->compose_rel, s->line,
			       "service %s has no image: (compose names it PROJECT-%s)", s->name,
			       s->name);
			continue;
		}
		ck_image_name(s->image, name, sizeof(name));
		if (strcmp(name, s->name) != 0)
			ck_add(&f, c->compose_rel, s->image_line, "service %s builds image %s",
			       s->name, s->image);
		else
			ev_append(list, sizeof(list), "%s%s", list[0] ? ", " : "", s->image);
	}
	if (f.n == 0)
		ev_set(ev, n, "image: = service name: %s", list);
	return findings_verdict(&f, ev, n);
}

static enum ck_state pt_makefile_compose(struct check_ctx *c, char *ev, size_t n)
{
	char path[PATH_MAX], *text = NULL;
	int ok;

	snprintf(path, sizeof(path), "%s/Makefile", c->dir);
	if (read_text(path, &text) < 0) {
		ev_set(ev, n, "no Makefile at the root");
		return CK_FAIL;
	}
	ok = strstr(text, "docker compose") || strstr(text, "docker-compose") ||
	     strstr(text, "COMPOSE");
	free(text);
	ev_set(ev, n,
	       ok ? "Makefile runs docker compose" : "Makefile never mentions docker compose");
	return ok ? CK_PASS : CK_FAIL;
}

static enum ck_state pt_containers(struct check_ctx *c, char *ev, size_t n)
{
	size_t i;
	int bad = 0;

	NEED_RUNTIME(c, ev, n);
	ev_set(ev, n, "docker inspect:");
	for (i = 0; i < c->nctrs; i++) {
		struct ctr *k = &c->ctrs[i];
		int ok = k->service[0] && strcmp(k->status, "running") == 0 &&
		         strcmp(k->health, "unhealthy") != 0;

		if (!ok)
			bad = 1;
		ev_append(ev, n, " %s (service %s) %s%s%s, %d restarts;", k->name,
		          k->service[0] ? k->service : "NO compose label", k->status,
		          k->health[0] ? "/" : "", k->health, k->restarts);
	}
	if (c->compose_ok)
		for (i = 0; i < c->cf.nsvc; i++) {
			size_t j;
			int found = 0;
			for (j = 0; j < c->nctrs; j++)
				if (strcmp(c->ctrs[j].service, c->cf.svc[i].name) == 0)
					found = 1;
			if (!found) {
				bad = 1;
				ev_append(ev, n, " service %s has no container;",
				          c->cf.svc[i].name);
			}
		}
	return bad ? CK_FAIL : CK_PASS;
}

/* --------------------------------------------------------------- network */
static enum ck_state pt_network_rt(struct check_ctx *c, char *ev, size_t n)
{
	char common[512] = "", tok[512];
	size_t i;

	NEED_RUNTIME(c, ev, n);
	/* the networks every container is on, without the default ones */
	snprintf(tok, sizeof(tok), "%s", c->ctrs[0].nets);
	for (char *save = NULL, *w = strtok_r(tok, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		int all =
		    strcmp(w, "bridge") != 0 && strcmp(w, "host") != 0 && strcmp(w, "none") != 0;

		for (i = 1; all && i < c->nctrs; i++) {
			char padded[520];
			snprintf(padded, sizeof(padded), " %s ", c->ctrs[i].nets);
			char want[300];
			snprintf(want, sizeof(want), " %s ", w);
			if (strstr(padded, want) == NULL)
				all = 0;
		}
		if (all)
			ev_append(common, sizeof(common), "%s%s", common[0] ? ", " : "", w);
	}
	if (common[0]) {
		ev_set(ev, n,
		       "docker inspect: all %zu containers are on the user-defined network %s",
		       c->nctrs, common);
		return CK_PASS;
	}
	ev_set(ev, n, "no user-defined network joins every container:");
	for (i = 0; i < c->nctrs; i++)
		ev_append(ev, n, " %s on [%s];", c->ctrs[i].name, c->ctrs[i].nets);
	return CK_FAIL;
}

/* ----------------------------------------------------------------- nginx */
/* Only nginx publishes, and only 443 (compose, and the running
 * containers); a bonus service's ports (FTP...) are listed, not failed. */
static enum ck_state pt_only_443(struct check_ctx *c, char *ev, size_t n)
{
	struct ck_findings f = {0};
	size_t i, k;
	char seen[512] = "", bonus[512] = "";

	NEED_COMPOSE(c, ev, n);
	for (i = 0; i < c->cf.nsvc; i++) {
		const struct cs_service *s = &c->cf.svc[i];
		const char *r = svc_role(c, s->name);

		for (k = 0; k < s->nports; k++) {
			if (r == NULL)
				ev_append(bonus, sizeof(bonus), "%s%s %s", bonus[0] ? ", " : "",
				          s->name, s->ports[k].spec);
			else if (s->ports[k].target != 443 || strcmp(r, "nginx") != 0)
				ck_add(&f, c->compose_rel, s->ports[k].line,
				       "service %s publishes %s", s->name, s->ports[k].spec);
			else
				ev_append(seen, sizeof(seen), "%s%s %s", seen[0] ? ", " : "",
				          s->name, s->ports[k].spec);
		}
	}
	if (!c->o.static_only && load_runtime(c) == 0) {
		for (i = 0; i < c->nctrs; i++) {
			struct ctr *kk = &c->ctrs[i];
			const char *r = svc_role(c, kk->service);
			char tmp[512], *save = NULL, *w;

			snprintf(tmp, sizeof(tmp), "%s", kk->ports);
			for (w = strtok_r(tmp, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
				size_t wl = strlen(w);

				while (wl && w[wl - 1] == ',') /* "21/tcp=127.0.0.1:21," */
					w[--wl] = '\0';
				if (r == NULL) {
					if (!strstr(bonus, kk->service))
						ev_append(bonus, sizeof(bonus), "%s%s %s",
						          bonus[0] ? ", " : "", kk->service, w);
				} else if (strncmp(w, "443/tcp=", 8) != 0 ||
				           strcmp(r, "nginx") != 0) {
					ck_add(&f, NULL, 0, "container %s publishes %s", kk->name,
					       w);
				}
			}
		}
	}
	if (f.n == 0) {
		ev_set(ev, n, "published: %s", seen[0] ? seen : "nothing");
		if (c->https_port)
			ev_append(ev, n, " (running: 443 on host port %d)", c->https_port);
		if (bonus[0])
			ev_append(ev, n, "; bonus services: %s", bonus);
		return seen[0] ? CK_PASS : CK_FAIL;
	}
	ck_findings_format(&f, ev, n);
	ck_findings_free(&f);
	return CK_FAIL;
}

static int tcp_connect(int port, int timeout_ms, int *err_out)
{
	struct sockaddr_in sa;
	struct pollfd pfd;
	int fd, fl, soerr = 0;
	socklen_t sl = sizeof(soerr);

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*err_out = errno;
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fl = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS) {
		*err_out = errno;
		close(fd);
		return -1;
	}
	pfd.fd = fd;
	pfd.events = POLLOUT;
	if (poll(&pfd, 1, timeout_ms) <= 0) {
		*err_out = ETIMEDOUT;
		close(fd);
		return -1;
	}
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
	if (soerr) {
		*err_out = soerr;
		close(fd);
		return -1;
	}
	fcntl(fd, F_SETFL, fl);
	{
		struct timeval tv = {.tv_sec = 10};
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	return fd;
}

/* In the VM: curl to its own port 80 (exit 7: refused). */
static enum ck_state port80_remote(struct check_ctx *c, char *ev, size_t n)
{
	char *out = NULL, l[200];
	int st =
	    RT(c, &out, 20, "curl", "-sS", "-m", "5", "-o", "/dev/null", "http://127.0.0.1:80/");

	first_line(out ? out : "", l, sizeof(l));
	free(out);
	if (st == 7) {
		ev_set(ev, n, "%s: curl http://127.0.0.1:80/: connection refused", c->o.where);
		return CK_PASS;
	}
	ev_set(ev, n, "%s: curl http://127.0.0.1:80/ exited %d (%s): port 80 answers", c->o.where,
	       st, st == 0 ? "an HTTP answer" : l);
	return CK_FAIL;
}

static enum ck_state pt_port80(struct check_ctx *c, char *ev, size_t n)
{
	int e = 0, fd;
	size_t i;

	NEED_RUNTIME(c, ev, n);
	if (c->o.exec)
		return port80_remote(c, ev, n);
	fd = tcp_connect(80, 5000, &e);
	if (fd < 0 && e == ECONNREFUSED) {
		ev_set(ev, n, "connect 127.0.0.1:80: connection refused");
		return CK_PASS;
	}
	if (fd >= 0)
		close(fd);
	for (i = 0; i < c->nctrs; i++)
		if (strstr(c->ctrs[i].ports, "80/tcp=") == c->ctrs[i].ports ||
		    strstr(c->ctrs[i].ports, " 80/tcp="))
			break;
	if (i < c->nctrs) {
		ev_set(ev, n, "127.0.0.1:80 %s; container %s publishes 80",
		       fd >= 0 ? "accepts" : strerror(e), c->ctrs[i].name);
		return CK_FAIL;
	}
	ev_set(ev, n,
	       "127.0.0.1:80 %s, but no container of this project publishes 80: "
	       "something else on this host; check with the project alone",
	       fd >= 0 ? "accepts connections" : strerror(e));
	return CK_MANUAL;
}

enum tls_result { TLS_OK, TLS_REFUSED, TLS_ERROR, TLS_CANNOT_OFFER };

/* A handshake allowing only version, every cipher (SECLEVEL 0) so that a
 * refusal is the server's.  info: the protocol, or the error; cert: the
 * certificate's subject and expiry.  One OpenSSL session from setup to
 * cleanup under one label, so not split.
 * Longer than 60 lines: one OpenSSL handshake from context to certificate, freed under one label.
 */
static enum tls_result tls_try(struct check_ctx *c, int version, char *info, size_t n, char *cert,
                               size_t cn)
{
	SSL_CTX *ctx = NULL;
	SSL *ssl = NULL;
	int fd = -1, e = 0;
	enum tls_result r = TLS_ERROR;
	unsigned long code, last = 0;

	ERR_clear_error();
	ctx = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL) {
		snprintf(info, n, "SSL_CTX_new failed");
		return TLS_ERROR;
	}
	SSL_CTX_set_security_level(ctx, 0);
	SSL_CTX_set_min_proto_version(ctx, version);
	SSL_CTX_set_max_proto_version(ctx, version);
	SSL_CTX_set_cipher_list(ctx, "ALL:@SECLEVEL=0");
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	fd = tcp_connect(c->https_port, 5000, &e);
	if (fd < 0) {
		snprintf(info, n, "connect 127.0.0.1:%d: %s", c->https_port, strerror(e));
		goto done;
	}
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	SSL_set_tlsext_host_name(ssl, c->domain);
	if (SSL_connect(ssl) == 1) {
		r = TLS_OK;
		snprintf(info, n, "%s, %s", SSL_get_version(ssl), SSL_get_cipher_name(ssl));
		if (cert && cn) {
			X509 *x = SSL_get1_peer_certificate(ssl);
			cert[0] = '\0';
			if (x) {
				char subj[256], exp[64] = "?";
				BIO *b = BIO_new(BIO_s_mem());
				int bl;

				X509_NAME_oneline(X509_get_subject_name(x), subj, sizeof(subj));
				if (b && ASN1_TIME_print(b, X509_get0_notAfter(x)) &&
				    (bl = BIO_read(b, exp, sizeof(exp) - 1)) > 0)
					exp[bl] = '\0';
				snprintf(cert, cn, "subject %s, expires %s%s", subj, exp,
				         X509_cmp_current_time(X509_get0_notAfter(x)) < 0
				             ? " (EXPIRED)"
				             : "");
				BIO_free(b);
				X509_free(x);
			}
		}
		goto done;
	}
	while ((code = ERR_get_error()) != 0)
		last = code;
	if (last) {
		int reason = ERR_GET_REASON(last);
		char buf[256];

		ERR_error_string_n(last, buf, sizeof(buf));
		if (reason == SSL_R_TLSV1_ALERT_PROTOCOL_VERSION ||
		    reason == SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE ||
		    reason == SSL_R_UNSUPPORTED_PROTOCOL)
			r = TLS_REFUSED;
		else if (reason == SSL_R_NO_PROTOCOLS_AVAILABLE)
			r = TLS_CANNOT_OFFER;
		snprintf(info, n, "%s",
		         ERR_reason_error_string(last) ? ERR_reason_error_string(last) : buf);
	} else {
		snprintf(info, n, "connection closed during the handshake");
	}
done:
	if (ssl)
		SSL_free(ssl);
	if (fd >= 0)
		close(fd);
	SSL_CTX_free(ctx);
	return r;
}

static enum ck_state tls_point(struct check_ctx *c, char *ev, size_t n, int version,
                               const char *name, int want_ok)
{
	char info[256];
	enum tls_result r;

	NEED_RUNTIME(c, ev, n);
	if (c->https_port == 0) {
		ev_set(ev, n, "nginx publishes no 443");
		return CK_FAIL;
	}
	r = tls_try(c, version, info, sizeof(info), NULL, 0);
	if (r == TLS_CANNOT_OFFER) {
		ev_set(ev, n,
		       "this machine's OpenSSL cannot offer %s (%s): try openssl s_client -%s",
		       name, info, version == TLS1_VERSION ? "tls1" : "tls1_1");
		return CK_MANUAL;
	}
	ev_set(ev, n, "%s handshake with %s via 127.0.0.1:%d: %s", name, c->domain, c->https_port,
	       r == TLS_OK        ? info
	       : r == TLS_REFUSED ? "refused by the server: "
	                          : "error: ");
	if (r != TLS_OK)
		ev_append(ev, n, "%s", info);
	if (want_ok)
		return r == TLS_OK ? CK_PASS : CK_FAIL;
	return r == TLS_REFUSED ? CK_PASS : CK_FAIL;
}

static enum ck_state pt_tls12(struct check_ctx *c, char *ev, size_t n)
{
	return tls_point(c, ev, n, TLS1_2_VERSION, "TLSv1.2", 1);
}
static enum ck_state pt_tls13(struct check_ctx *c, char *ev, size_t n)
{
	return tls_point(c, ev, n, TLS1_3_VERSION, "TLSv1.3", 1);
}
static enum ck_state pt_tls10(struct check_ctx *c, char *ev, size_t n)
{
	return tls_point(c, ev, n, TLS1_VERSION, "TLSv1.0", 0);
}
static enum ck_state pt_tls11(struct check_ctx *c, char *ev, size_t n)
{
	return tls_point(c, ev, n, TLS1_1_VERSION, "TLSv1.1", 0);
}

static enum ck_state pt_cert(struct check_ctx *c, char *ev, size_t n)
{
	char info[256], cert[600] = "";

	NEED_RUNTIME(c, ev, n);
	if (c->https_port == 0) {
		ev_set(ev, n, "nginx publishes no 443");
		return CK_FAIL;
	}
	if (tls_try(c, TLS1_2_VERSION, info, sizeof(info), cert, sizeof(cert)) != TLS_OK ||
	    cert[0] == '\0') {
		ev_set(ev, n, "no certificate: %s", info);
		return CK_FAIL;
	}
	ev_set(ev, n, "%s", cert);
	return strstr(cert, "(EXPIRED)") ? CK_FAIL : CK_PASS;
}

/* ------------------------------------------------------------------ http */
struct http {
	long code;
	char location[1024];
	char *body;
	size_t len;
};

static size_t http_body(char *p, size_t sz, size_t nm, void *arg)
{
	struct http *h = arg;
	size_t add = sz * nm;

	if (h->len + add > (8u << 20))
		return 0;
	h->body = realloc(h->body, h->len + add + 1);
	if (h->body == NULL)
		return 0;
	memcpy(h->body + h->len, p, add);
	h->len += add;
	h->body[h->len] = '\0';
	return add;
}

/* One request to https://DOMAIN/path through 127.0.0.1:PORT; cookies kept
 * in the handle.  post: urlencoded body or NULL. */
static int http_req(struct check_ctx *c, CURL *cu, const char *path, const char *post,
                    struct curl_slist *hdrs, struct http *h, char *err, size_t en)
{
	char url[1024], conn[512];
	struct curl_slist *ct = NULL;
	CURLcode rc;
	char *loc = NULL;

	free(h->body);
	memset(h, 0, sizeof(*h));
	snprintf(url, sizeof(url), "https://%s%s", c->domain, path);
	snprintf(conn, sizeof(conn), "%s:443:127.0.0.1:%d", c->domain, c->https_port);
	ct = curl_slist_append(NULL, conn);
	curl_easy_setopt(cu, CURLOPT_URL, url);
	curl_easy_setopt(cu, CURLOPT_CONNECT_TO, ct);
	curl_easy_setopt(cu, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(cu, CURLOPT_SSL_VERIFYHOST, 0L);
	curl_easy_setopt(cu, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(cu, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(cu, CURLOPT_WRITEFUNCTION, http_body);
	curl_easy_setopt(cu, CURLOPT_WRITEDATA, h);
	curl_easy_setopt(cu, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(cu, CURLOPT_COOKIEFILE, "");
	if (post) {
		curl_easy_setopt(cu, CURLOPT_POSTFIELDS, post);
	} else {
		curl_easy_setopt(cu, CURLOPT_HTTPGET, 1L);
	}
	rc = curl_easy_perform(cu);
	curl_slist_free_all(ct);
	if (rc != CURLE_OK) {
		snprintf(err, en, "GET %s: %s", url, curl_easy_strerror(rc));
		return -1;
	}
	curl_easy_getinfo(cu, CURLINFO_RESPONSE_CODE, &h->code);
	if (curl_easy_getinfo(cu, CURLINFO_REDIRECT_URL, &loc) == CURLE_OK && loc)
		snprintf(h->location, sizeof(h->location), "%s", loc);
	if (h->body == NULL)
		h->body = strdup("");
	return 0;
}

static enum ck_state pt_site(struct check_ctx *c, char *ev, size_t n)
{
	CURL *cu;
	struct http h = {0};
	char err[512];
	enum ck_state s = CK_FAIL;

	NEED_RUNTIME(c, ev, n);
	if (c->https_port == 0) {
		ev_set(ev, n, "nginx publishes no 443");
		return CK_FAIL;
	}
	cu = curl_easy_init();
	if (http_req(c, cu, "/", NULL, NULL, &h, err, sizeof(err)) < 0) {
		ev_set(ev, n, "%s", err);
	} else if (strstr(h.location, "install.php") || strstr(h.body, "wp-admin/install.php")) {
		ev_set(ev, n, "https://%s/ (via 127.0.0.1:%d): %ld, the WordPress installer",
		       c->domain, c->https_port, h.code);
	} else if (h.code != 200) {
		ev_set(ev, n, "https://%s/ (via 127.0.0.1:%d): HTTP %ld%s%s", c->domain,
		       c->https_port, h.code, h.location[0] ? " -> " : "", h.location);
	} else {
		char title[200] = "";
		const char *t = strstr(h.body, "<title>");
		if (t) {
			t += 7;
			snprintf(title, sizeof(title), "%.*s", (int)strcspn(t, "<\n"), t);
		}
		ev_set(ev, n, "https://%s/ (via 127.0.0.1:%d): 200, %zu bytes, title \"%s\"%s",
		       c->domain, c->https_port, h.len, title,
		       strstr(h.body, "wp-content") ? ", a WordPress site" : "");
		s = strstr(h.body, "wp-content") || strstr(h.body, "wp-includes") ? CK_PASS
		                                                                  : CK_FAIL;
	}
	free(h.body);
	curl_easy_cleanup(cu);
	return s;
}

/* Logs in through wp-login.php; 0 when WordPress sends to wp-admin. */
static int wp_login(struct check_ctx *c, CURL *cu, const char *user, const char *pw, char *err,
                    size_t en)
{
	struct http h = {0};
	char *u = curl_easy_escape(cu, user, 0), *p = curl_easy_escape(cu, pw, 0), *post;
	char to[300];
	size_t pl;
	int ret = -1;

	snprintf(to, sizeof(to), "https://%s/wp-admin/", c->domain);
	pl = strlen(u) + strlen(p) + 200 + strlen(to) * 3;
	post = malloc(pl);
	{
		char *r = curl_easy_escape(cu, to, 0);
		snprintf(post, pl, "log=%s&pwd=%s&wp-submit=Log+In&redirect_to=%s&testcookie=1", u,
		         p, r);
		curl_free(r);
	}
	if (http_req(c, cu, "/wp-login.php", NULL, NULL, &h, err, en) == 0 &&
	    http_req(c, cu, "/wp-login.php", post, NULL, &h, err, en) == 0) {
		if (h.code == 302 && strstr(h.location, "/wp-admin"))
			ret = 0;
		else
			snprintf(err, en,
			         "POST /wp-login.php as %s: HTTP %ld%s%s (wrong credentials?)",
			         user, h.code, h.location[0] ? " -> " : "", h.location);
	}
	memset(post, 0, strlen(post));
	free(post);
	curl_free(u);
	curl_free(p);
	free(h.body);
	return ret;
}

/* The id of the first post/page from the REST API (0 if none). */
static long first_id(struct check_ctx *c, CURL *cu, const char *what, char *link, size_t ln)
{
	struct http h = {0};
	char err[256], path[128];
	long id = 0;
	const char *p;

	snprintf(path, sizeof(path), "/?rest_route=/wp/v2/%s&per_page=1&context=view", what);
	if (http_req(c, cu, path, NULL, NULL, &h, err, sizeof(err)) == 0 && h.code == 200 &&
	    (p = strstr(h.body, "\"id\":")) != NULL) {
		id = atol(p + 5);
		if (link && (p = strstr(h.body, "\"link\":\"")) != NULL) {
			size_t i = 0;
			for (p += 8; *p && *p != '"' && i + 1 < ln; p++)
				if (*p != '\\')
					link[i++] = *p;
			link[i] = '\0';
		}
	}
	free(h.body);
	return id;
}

static enum ck_state pt_wp_comment(struct check_ctx *c, char *ev, size_t n)
{
	CURL *cu;
	struct http h = {0};
	char err[512] = "", text[96], post[512], path[1024];
	long id;
	enum ck_state s = CK_FAIL;

	if (c->o.wp_user == NULL || c->o.wp_password == NULL) {
		ev_set(ev, n,
		       "no --wp-user/--wp-password: open https://%s/wp-login.php, log in as the "
		       "second (non-admin) user, open a post, write a comment, check it shows",
		       c->domain);
		return CK_MANUAL;
	}
	NEED_RUNTIME(c, ev, n);
	cu = curl_easy_init();
	if (wp_login(c, cu, c->o.wp_user, c->o.wp_password, err, sizeof(err)) < 0) {
		ev_set(ev, n, "%s", err);
		goto done;
	}
	id = first_id(c, cu, "posts", NULL, 0);
	if (id <= 0) {
		ev_set(ev, n, "logged in as %s; no post to comment on", c->o.wp_user);
		goto done;
	}
	snprintf(text, sizeof(text), "inception check comment %ld-%d", (long)time(NULL),
	         (int)getpid());
	snprintf(post, sizeof(post), "comment=%s&comment_post_ID=%ld&comment_parent=0", text, id);
	for (char *q = post; *q; q++)
		if (*q == ' ')
			*q = '+';
	if (http_req(c, cu, "/wp-comments-post.php", post, NULL, &h, err, sizeof(err)) < 0) {
		ev_set(ev, n, "%s", err);
		goto done;
	}
	if (h.code != 302 || strstr(h.location, "#comment-") == NULL) {
		ev_set(ev, n, "logged in as %s; POST /wp-comments-post.php: HTTP %ld %s",
		       c->o.wp_user, h.code, h.location);
		goto done;
	}
	{
		const char *rel = strstr(h.location, c->domain);
		snprintf(path, sizeof(path), "%s", rel ? rel + strlen(c->domain) : "/");
	}
	if (http_req(c, cu, path, NULL, NULL, &h, err, sizeof(err)) == 0 && strstr(h.body, text)) {
		ev_set(ev, n, "logged in as %s; comment \"%s\" on post %ld is shown", c->o.wp_user,
		       text, id);
		snprintf(c->comment, sizeof(c->comment), "%s", text);
		snprintf(c->comment_path, sizeof(c->comment_path), "%s", path);
		s = CK_PASS;
	} else {
		ev_set(ev, n, "logged in as %s; comment posted but not shown at %s", c->o.wp_user,
		       path);
	}
done:
	free(h.body);
	curl_easy_cleanup(cu);
	return s;
}

/* Longer than 60 lines: log in, open the page, post the edit, read it back: one session's requests
 * in order. */
static enum ck_state pt_wp_admin_edit(struct check_ctx *c, char *ev, size_t n)
{
	CURL *cu;
	struct http h = {0};
	char err[512] = "", nonce[64] = "", title[96], body[256], path[300], link[1024] = "";
	struct curl_slist *hd = NULL;
	long id;
	enum ck_state s = CK_FAIL;

	if (c->o.wp_admin == NULL || c->o.wp_admin_password == NULL) {
		ev_set(ev, n,
		       "no --wp-admin/--wp-admin-password: log in at https://%s/wp-admin/ as the "
		       "administrator, edit a page (Pages > Edit > Update), reload the page and "
		       "check the change",
		       c->domain);
		return CK_MANUAL;
	}
	NEED_RUNTIME(c, ev, n);
	cu = curl_easy_init();
	if (wp_login(c, cu, c->o.wp_admin, c->o.wp_admin_password, err, sizeof(err)) < 0) {
		ev_set(ev, n, "%s", err);
		goto done;
	}
	id = first_id(c, cu, "pages", link, sizeof(link));
	if (id <= 0) {
		ev_set(ev, n, "logged in as %s; no page to edit", c->o.wp_admin);
		goto done;
	}
	if (http_req(c, cu, "/wp-admin/admin-ajax.php?action=rest-nonce", NULL, NULL, &h, err,
	             sizeof(err)) < 0 ||
	    h.code != 200) {
		ev_set(ev, n, "logged in as %s; no REST nonce (HTTP %ld)", c->o.wp_admin, h.code);
		goto done;
	}
	snprintf(nonce, sizeof(nonce), "X-WP-Nonce: %.40s", h.body);
	chomp(nonce);
	hd = curl_slist_append(hd, nonce);
	hd = curl_slist_append(hd, "Content-Type: application/json");
	snprintf(title, sizeof(title), "Edited by inception check %ld", (long)time(NULL));
	snprintf(body, sizeof(body), "{\"title\":\"%s\"}", title);
	snprintf(path, sizeof(path), "/?rest_route=/wp/v2/pages/%ld", id);
	if (http_req(c, cu, path, body, hd, &h, err, sizeof(err)) < 0 || h.code != 200) {
		ev_set(ev, n, "logged in as %s; editing page %ld: HTTP %ld", c->o.wp_admin, id,
		       h.code);
		goto done;
	}
	{
		const char *rel = strstr(link, c->domain);
		snprintf(path, sizeof(path), "%s", rel ? rel + strlen(c->domain) : "/");
	}
	if (http_req(c, cu, path, NULL, NULL, &h, err, sizeof(err)) == 0 && strstr(h.body, title)) {
		ev_set(ev, n, "logged in as %s; page %ld retitled \"%s\", shown at %s",
		       c->o.wp_admin, id, title, path);
		snprintf(c->page_title, sizeof(c->page_title), "%s", title);
		snprintf(c->page_path, sizeof(c->page_path), "%s", path);
		s = CK_PASS;
	} else {
		ev_set(ev, n, "logged in as %s; page %ld edited but %s does not show it",
		       c->o.wp_admin, id, path);
	}
done:
	curl_slist_free_all(hd);
	free(h.body);
	curl_easy_cleanup(cu);
	return s;
}

/* ------------------------------------------------------------ wordpress */
static enum ck_state no_nginx_in(struct check_ctx *c, const char *role, char *ev, size_t n)
{
	const char *svc;
	struct service_df *d;
	struct ck_findings f = {0};
	size_t i;

	NEED_COMPOSE(c, ev, n);
	svc = role_service(c, role);
	if (svc == NULL) {
		ev_set(ev, n, "no %s service in %s", role, c->compose_rel);
		return CK_FAIL;
	}
	d = service_dockerfile(c, svc);
	if (d == NULL || d->text == NULL) {
		ev_set(ev, n, "service %s has no Dockerfile", svc);
		return CK_FAIL;
	}
	for (i = 0; i < d->df.n; i++)
		if (strcasestr(d->df.v[i].args, "nginx"))
			ck_add(&f, d->path, d->df.v[i].line, "%s mentions nginx", d->df.v[i].kw);
	if (f.n == 0)
		ev_set(ev, n, "%s: no nginx in %zu instructions", d->path, d->df.n);
	return findings_verdict(&f, ev, n);
}

static enum ck_state pt_wp_no_nginx(struct check_ctx *c, char *ev, size_t n)
{
	return no_nginx_in(c, "wordpress", ev, n);
}

static enum ck_state pt_db_no_nginx(struct check_ctx *c, char *ev, size_t n)
{
	return no_nginx_in(c, "mariadb", ev, n);
}

static enum ck_state pt_phpfpm_pid1(struct check_ctx *c, char *ev, size_t n)
{
	struct ctr *k;
	char *out = NULL, *p;
	int st;

	NEED_RUNTIME(c, ev, n);
	if ((k = need_role(c, "wordpress", ev, n)) == NULL)
		return CK_FAIL;
	st = RT(c, &out, 30, "docker", "exec", k->id, "cat", "/proc/1/cmdline");
	if (st != 0) {
		char l[200];
		ev_set(ev, n, "docker exec %s cat /proc/1/cmdline: %s", k->name,
		       first_line(out ? out : "", l, sizeof(l)));
		free(out);
		return CK_FAIL;
	}
	/* cmdline is NUL-separated: out is argv[0], e.g. "php-fpm: master
	 * process (/etc/php/8.2/fpm/php-fpm.conf)" or "/usr/sbin/php-fpm8.2" */
	out[strcspn(out, " :")] = '\0';
	p = strrchr(out, '/');
	p = p ? p + 1 : out;
	ev_set(ev, n, "docker exec %s cat /proc/1/cmdline: PID 1 is %s", k->name, p);
	st = strncmp(p, "php-fpm", 7) == 0;
	free(out);
	return st ? CK_PASS : CK_FAIL;
}

/* The compose side of a service's data: each named volume's device
 * (when the env file resolves it) under the data dir, no bind mount. */
static void volume_static(struct check_ctx *c, const struct cs_service *s, struct ck_findings *f,
                          char *ok, size_t okn)
{
	size_t i, k;

	if (s->nvolumes == 0)
		ck_add(f, c->compose_rel, s->line, "service %s has no volume", s->name);
	for (i = 0; i < s->nvolumes; i++) {
		const char *src = s->volumes[i];
		const struct cs_volume *v = NULL;

		for (k = 0; k < c->cf.nvol; k++)
			if (strcmp(c->cf.vol[k].name, src) == 0)
				v = &c->cf.vol[k];
		if (v == NULL) {
			if (src[0] == '/' || src[0] == '.' || src[0] == '~' || src[0] == '$')
				ck_add(f, c->compose_rel, s->line,
				       "service %s bind-mounts %s (not a named volume)", s->name,
				       src);
			continue;
		}
		if (v->device && !v->device_unknown) {
			if (!under_dir(v->device, c->data_dir))
				ck_add(f, c->compose_rel, v->line, "volume %s is at %s, outside %s",
				       v->name, v->device, c->data_dir);
			else
				ev_append(ok, okn, "%svolume %s -> %s", ok[0] ? ", " : "", v->name,
				          v->device);
		} else if (v->device == NULL) {
			ck_add(f, c->compose_rel, v->line,
			       "volume %s has no driver_opts.device (it lives in /var/lib/docker, "
			       "not %s)",
			       v->name, c->data_dir);
		}
	}
}

/* The running side: each mount of the role's container is a named volume
 * whose `docker volume inspect` device is under the data dir. */
static void volume_runtime(struct check_ctx *c, const char *role, struct ck_findings *f, char *ok,
                           size_t okn)
{
	struct ctr *kk;
	char *out = NULL, *line, *save = NULL;

	if (load_runtime(c) < 0) {
		ck_add(f, NULL, 0, "%s", c->load_err);
	} else if ((kk = ctr_of_role(c, role)) == NULL) {
		ck_add(f, NULL, 0, "no %s container", role);
	} else if (RT(c, &out, 30, "docker", "inspect", "-f", MOUNTS_FMT, kk->id) == 0) {
		for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			char *rest = line, *dev = NULL;
			/* TYPE NAME SOURCE DEST, tab-separated; NAME is empty for a bind */
			char *type = strsep(&rest, "\t"), *name = strsep(&rest, "\t");
			char *src = strsep(&rest, "\t"), *dst = rest;

			if (!type || !name || !src || !dst)
				continue;
			if (strncmp(dst, "/run/secrets", 12) == 0)
				continue;
			if (strcmp(type, "volume") != 0) {
				ck_add(f, NULL, 0,
				       "%s mounts %s at %s (a %s mount, not a named volume)",
				       kk->name, src, dst, type);
				continue;
			}
			if (RT(c, &dev, 30, "docker", "volume", "inspect", "-f",
			       "{{index .Options \"device\"}}", name) == 0) {
				chomp(dev);
				if (dev[0] && under_dir(dev, c->data_dir))
					ev_append(ok, okn, "%sdocker volume inspect %s: %s",
					          ok[0] ? ", " : "", name, dev);
				else
					ck_add(
					    f, NULL, 0,
					    "docker volume inspect %s: device \"%s\", not under %s",
					    name, dev, c->data_dir);
			}
			free(dev);
		}
	}
	free(out);
}

/* The role's data: static (the compose volume's device, when known) and,
 * unless static_only, each mount of its container (docker volume inspect). */
static enum ck_state volume_point(struct check_ctx *c, const char *role, char *ev, size_t n)
{
	struct ck_findings f = {0};
	const struct cs_service *s;
	const char *svc;
	char ok[1024] = "";

	NEED_COMPOSE(c, ev, n);
	svc = role_service(c, role);
	s = svc ? compose_service(&c->cf, svc) : NULL;
	if (s == NULL) {
		ev_set(ev, n, "no %s service in %s", role, c->compose_rel);
		return CK_FAIL;
	}
	volume_static(c, s, &f, ok, sizeof(ok));
	if (!c->o.static_only)
		volume_runtime(c, role, &f, ok, sizeof(ok));
	if (f.n == 0 && ok[0]) {
		ev_set(ev, n, "%s", ok);
		return CK_PASS;
	}
	if (f.n == 0) {
		ev_set(ev, n, "the volume's path is only known at run time (%s)",
		       c->o.static_only ? "static run" : "no mount");
		return c->o.static_only ? CK_SKIP : CK_FAIL;
	}
	ck_findings_format(&f, ev, n);
	ck_findings_free(&f);
	return CK_FAIL;
}

static enum ck_state pt_wp_volume(struct check_ctx *c, char *ev, size_t n)
{
	return volume_point(c, "wordpress", ev, n);
}

static enum ck_state pt_db_volume(struct check_ctx *c, char *ev, size_t n)
{
	return volume_point(c, "mariadb", ev, n);
}

/* --------------------------------------------------------------- mariadb */
static const char *env_of(const char *envtext, const char *key, char *buf, size_t n)
{
	size_t kl = strlen(key);
	const char *p = envtext;

	while (p && *p) {
		if (strncmp(p, key, kl) == 0 && p[kl] == '=') {
			size_t l = strcspn(p + kl + 1, "\n");
			snprintf(buf, n, "%.*s", (int)l, p + kl + 1);
			return buf;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return NULL;
}

/* The value of the first of names (or NAME_FILE, read in the container)
 * in the container's environment. */
static int cred_from(struct check_ctx *c, struct ctr *k, const char *envtext,
                     const char *const *names, char *buf, size_t n, char *how, size_t hn)
{
	size_t i;
	char key[64], file[512];

	for (i = 0; names[i]; i++) {
		if (env_of(envtext, names[i], buf, n)) {
			snprintf(how, hn, "%s of %s", names[i], k->name);
			return 0;
		}
		snprintf(key, sizeof(key), "%s_FILE", names[i]);
		if (env_of(envtext, key, file, sizeof(file))) {
			char *out = NULL;
			int st = RT(c, &out, 30, "docker", "exec", k->id, "cat", file);
			if (st == 0) {
				chomp(out);
				snprintf(buf, n, "%s", out);
				snprintf(how, hn, "%s=%s of %s", key, file, k->name);
			}
			if (out)
				memset(out, 0, strlen(out));
			free(out);
			if (st == 0)
				return 0;
		}
	}
	return -1;
}

/* The database user's password from a compose secret, when no variable
 * names it: the first file of the container's /run/secrets whose name has
 * "db" and "pass" and not "root" (db_password, wp_db_password.txt...). */
static int secret_db_password(struct check_ctx *c, struct ctr *k, char *buf, size_t n)
{
	char *out = NULL, *line, *save = NULL, path[300] = "";
	int st = RT(c, &out, 30, "docker", "exec", k->id, "ls", "/run/secrets");

	for (line = st == 0 && out ? strtok_r(out, "\n", &save) : NULL; line && !path[0];
	     line = strtok_r(NULL, "\n", &save))
		if (strcasestr(line, "db") && strcasestr(line, "pass") &&
		    !strcasestr(line, "root") && !strchr(line, '/'))
			snprintf(path, sizeof(path), "/run/secrets/%s", line);
	free(out);
	out = NULL;
	if (!path[0] || RT(c, &out, 30, "docker", "exec", k->id, "cat", path) != 0) {
		free(out);
		return -1;
	}
	chomp(out);
	snprintf(buf, n, "%s", out);
	memset(out, 0, strlen(out));
	free(out);
	return buf[0] ? 0 : -1;
}

/* Longer than 60 lines: the user, database and password each looked for in the environment and in
 * *_FILE files, in that order, for one container. */
static int load_db(struct check_ctx *c)
{
	static const char *const users[] = {
	    "MYSQL_USER", "MARIADB_USER", "DB_USER",        "WORDPRESS_DB_USER",
	    "WP_DB_USER", "DB_USERNAME",  "MYSQL_USERNAME", NULL};
	static const char *const dbs[] = {
	    "MYSQL_DATABASE", "MARIADB_DATABASE", "DB_NAME",  "WORDPRESS_DB_NAME",
	    "WP_DB_NAME",     "DB_DATABASE",      "MYSQL_DB", NULL};
	static const char *const pws[] = {"MYSQL_PASSWORD",
	                                  "MARIADB_PASSWORD",
	                                  "DB_PASSWORD",
	                                  "WORDPRESS_DB_PASSWORD",
	                                  "WP_DB_PASSWORD",
	                                  "DB_PASS",
	                                  "MYSQL_PASS",
	                                  "DB_USER_PASSWORD",
	                                  NULL};
	const char *roles[] = {"mariadb", "wordpress"};
	char pw[256] = "", how[3][600] = {"", "", ""};
	int have[3] = {0, 0, 0};
	size_t r;

	if (c->db_loaded)
		return c->db_err[0] ? -1 : 0;
	c->db_loaded = 1;
	if (load_runtime(c) < 0) {
		snprintf(c->db_err, sizeof(c->db_err), "%s", c->load_err);
		return -1;
	}
	for (r = 0; r < 2; r++) {
		struct ctr *k = ctr_of_role(c, roles[r]);
		char *env = NULL;

		if (k == NULL)
			continue;
		if (RT(c, &env, 30, "docker", "inspect", "-f",
		       "{{range .Config.Env}}{{println .}}{{end}}", k->id) == 0) {
			if (!have[0])
				have[0] =
				    cred_from(c, k, env, users, c->db_user, sizeof(c->db_user),
				              how[0], sizeof(how[0])) == 0;
			if (!have[1])
				have[1] = cred_from(c, k, env, dbs, c->db_name, sizeof(c->db_name),
				                    how[1], sizeof(how[1])) == 0;
			if (!have[2])
				have[2] = cred_from(c, k, env, pws, pw, sizeof(pw), how[2],
				                    sizeof(how[2])) == 0;
		}
		if (env)
			memset(env, 0, strlen(env));
		free(env);
	}
	for (r = 0; !have[2] && r < 2; r++) {
		struct ctr *k = ctr_of_role(c, roles[r]);

		if (k)
			have[2] = secret_db_password(c, k, pw, sizeof(pw)) == 0;
	}
	if (!have[0] || !have[1] || !have[2] || ctr_of_role(c, "mariadb") == NULL) {
		snprintf(
		    c->db_err, sizeof(c->db_err),
		    "the WordPress database credentials are not in the containers' environment "
		    "(user %s, database %s, password %s)",
		    have[0] ? "found" : "missing", have[1] ? "found" : "missing",
		    have[2] ? "found" : "missing");
		return -1;
	}
	c->db_password = strdup(pw);
	memset(pw, 0, sizeof(pw));
	return 0;
}

/* A query as the WordPress database user, in the MariaDB container; the
 * password reaches the client through MYSQL_PWD in the environment of
 * `docker exec -e MYSQL_PWD` (never an argument). */
static int db_query(struct check_ctx *c, const char *q, char **out)
{
	struct ctr *k = ctr_of_role(c, "mariadb");
	char user[160], *env;
	int st;

	snprintf(user, sizeof(user), "-u%s", c->db_user);
	if (asprintf(&env, "MYSQL_PWD=%s", c->db_password) < 0)
		return -2;
	st = RT_ENV(c, env, out, 30, "docker", "exec", "-e", "MYSQL_PWD", k->id, "sh", "-c",
	            "exec \"$(command -v mariadb || command -v mysql)\" \"$@\"", "sh", user, "-N",
	            "-B", "-e", (char *)q, c->db_name);
	memset(env, 0, strlen(env));
	free(env);
	return st;
}

static enum ck_state pt_root_pw(struct check_ctx *c, char *ev, size_t n)
{
	struct ctr *k;
	char *out = NULL, l[300];
	int st;

	NEED_RUNTIME(c, ev, n);
	if ((k = need_role(c, "mariadb", ev, n)) == NULL)
		return CK_FAIL;
	st = RT(c, &out, 30, "docker", "exec", k->id, "sh", "-c", ROOT_NO_PW);
	first_line(out ? out : "", l, sizeof(l));
	if (st == 0) {
		ev_set(ev, n, "docker exec %s mariadb -uroot (no password): logged in", k->name);
		free(out);
		return CK_FAIL;
	}
	ev_set(ev, n, "docker exec %s mariadb -uroot (no password): %s", k->name, l);
	free(out);
	return strstr(l, "Access denied") ? CK_PASS : CK_FAIL;
}

static enum ck_state pt_db_user(struct check_ctx *c, char *ev, size_t n)
{
	char *out = NULL, l[300];
	int st;

	NEED_RUNTIME(c, ev, n);
	if (load_db(c) < 0) {
		ev_set(ev, n, "%s", c->db_err);
		return CK_FAIL;
	}
	st = db_query(
	    c, "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE()",
	    &out);
	first_line(out ? out : "", l, sizeof(l));
	if (st != 0) {
		ev_set(ev, n, "mariadb -u%s %s: %s", c->db_user, c->db_name, l);
		free(out);
		return CK_FAIL;
	}
	ev_set(
	    ev, n,
	    "mariadb -u%s %s (credentials from the containers' environment or secrets): %s tables",
	    c->db_user, c->db_name, l);
	free(out);
	return atoi(l) > 0 ? CK_PASS : CK_FAIL;
}

static enum ck_state pt_admin_name(struct check_ctx *c, char *ev, size_t n)
{
	char *out = NULL, prefix[64] = "", q[512], l[300];
	int st, bad = 0;
	size_t i;

	NEED_RUNTIME(c, ev, n);
	if (load_db(c) < 0) {
		ev_set(ev, n, "%s; check by hand: wp-admin > Users, role Administrator", c->db_err);
		return CK_MANUAL;
	}
	st = db_query(c,
	              "SELECT table_name FROM information_schema.tables WHERE table_schema = "
	              "DATABASE() AND table_name LIKE '%usermeta' LIMIT 1",
	              &out);
	if (st == 0 && out) {
		chomp(out);
		if (strlen(out) > 8)
			snprintf(prefix, sizeof(prefix), "%.*s", (int)(strlen(out) - 8), out);
	}
	free(out);
	out = NULL;
	for (i = 0; prefix[i]; i++)
		if (!isalnum((unsigned char)prefix[i]) && prefix[i] != '_')
			prefix[0] = '\0';
	if (prefix[0] == '\0') {
		ev_set(ev, n, "no WordPress usermeta table in %s", c->db_name);
		return CK_FAIL;
	}
	snprintf(q, sizeof(q),
	         "SELECT u.user_login FROM %susers u JOIN %susermeta m ON m.user_id = u.ID WHERE "
	         "m.meta_key = '%scapabilities' AND m.meta_value LIKE '%%administrator%%'",
	         prefix, prefix, prefix);
	st = db_query(c, q, &out);
	if (st != 0 || out == NULL || !*out) {
		ev_set(ev, n, "no administrator found: %s",
		       first_line(out ? out : "", l, sizeof(l)));
		free(out);
		return CK_FAIL;
	}
	chomp(out);
	for (i = 0; out[i]; i++)
		if (out[i] == '\n')
			out[i] = ' ';
	bad = strcasestr(out, "admin") != NULL;
	ev_set(ev, n, "administrators in %susers: %s", prefix, out);
	free(out);
	return bad ? CK_FAIL : CK_PASS;
}

/* ---------------------------------------------------------- evaluate */
/* The evaluation sheet's cleanup command, word for word. */
#define SHEET_CLEANUP                                                                              \
	"docker stop $(docker ps -qa); docker rm $(docker ps -qa); docker rmi -f $(docker images " \
	"-qa); docker volume rm $(docker volume ls -q); docker network rm $(docker network ls "    \
	"-q) "                                                                                     \
	"2>/dev/null"
#define MAKE_LOG "/var/log/inception/check-make.log"
/* make in $1 in the background, detached (setsid: no hangup when the
 * session that started it ends), its output in $2, its status in $2.rc;
 * with $3, a login: as root (the engine's socket), but with that login's
 * HOME, USER and LOGNAME, as the evaluator's own session has them (a
 * Makefile's $(HOME)/data), root's docker CLI state kept in root's home */
static const char make_start[] =
    "mkdir -p \"$(dirname \"$2\")\" && rm -f \"$2.rc\" && if [ -n \"$3\" ]; then "
    "h=$(getent passwd \"$3\" | cut -d: -f6); export HOME=\"${h:-/home/$3}\" USER=\"$3\" "
    "LOGNAME=\"$3\" DOCKER_CONFIG=/root/.docker; fi; setsid sh -c 'cd \"$1\" && make "
    ">\"$2\" 2>&1; echo $? >\"$2.rc\"' sh \"$1\" \"$2\" </dev/null >/dev/null 2>&1 &";
#define MAKE_LIMIT_S 3600

/* Lines of out, or -1 when the command failed. */
static int count_lines(struct check_ctx *c, char *const argv[], char *names, size_t nn)
{
	char *out = NULL, *line, *save = NULL;
	int st = run_rt(c, NULL, argv, 60, &out), count = 0;

	if (names)
		names[0] = '\0';
	if (st != 0) {
		free(out);
		return -1;
	}
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		count++;
		if (names)
			ev_append(names, nn, "%s%s", names[0] ? " " : "", line);
	}
	free(out);
	return count;
}

static enum ck_state pt_cleanup(struct check_ctx *c, char *ev, size_t n)
{
	char *out = NULL, nets[256], msg[512] = "";
	long t0 = report_now_ms();
	int st, nc, ni, nv, nn;

	if (c->o.make_dir == NULL) {
		ev_set(
		    ev, n,
		    "not run %s: the sheet's cleanup removes every container, image, volume and "
		    "network of this machine's Docker; in the VM, inception check --evaluate runs "
		    "it: %s",
		    c->o.where ? c->o.where : "on this host", SHEET_CLEANUP);
		return CK_SKIP;
	}
	if (c->o.save_base && c->o.save_base(c->o.exec_arg, msg, sizeof(msg)) < 0) {
		ev_set(ev, n, "not run %s: %s", SHEET_CLEANUP, msg);
		return CK_FAIL;
	}
	report_status("cleanup", 0, "the sheet's cleanup command");
	st = RT(c, &out, 900, "sh", "-c", SHEET_CLEANUP);
	free(out);
	report_progress_done();
	nc = count_lines(c, (char *const[]){"docker", "ps", "-qa", NULL}, NULL, 0);
	ni = count_lines(c, (char *const[]){"docker", "images", "-qa", NULL}, NULL, 0);
	nv = count_lines(c, (char *const[]){"docker", "volume", "ls", "-q", NULL}, NULL, 0);
	nn = count_lines(c,
	                 (char *const[]){"docker", "network", "ls", "--format", "{{.Name}}", NULL},
	                 nets, sizeof(nets));
	ev_set(ev, n,
	       "%s (%s, exit %d, %.1f s): then %d containers, %d images, %d volumes, networks "
	       "left: %s",
	       SHEET_CLEANUP, c->o.where ? c->o.where : "here", st,
	       (double)(report_now_ms() - t0) / 1000.0, nc, ni, nv, nn >= 0 ? nets : "?");
	if (nc != 0 || ni != 0 || nv != 0 || nn > 3)
		return CK_FAIL;
	if (msg[0])
		ev_append(ev, n, "; before it, %s", msg);
	if (c->o.restore_base) {
		int rb = c->o.restore_base(c->o.exec_arg, msg, sizeof(msg));

		ev_append(ev, n, "; %s", msg);
		if (rb < 0)
			return CK_FAIL;
	}
	return CK_PASS;
}

/* make in the project on the engine's machine, in the background there,
 * its log's last line shown every few seconds; 0 when it exited 0. */
static int make_timed(struct check_ctx *c, char *ev, size_t n)
{
	char *out = NULL, last[300] = "", shown[300];
	long t0 = report_now_ms();
	int st, rc = -1;

	st = RT(c, &out, 60, "sh", "-c", (char *)make_start, "sh", (char *)c->o.make_dir, MAKE_LOG,
	        (char *)(c->o.make_login ? c->o.make_login : ""));
	free(out);
	if (st != 0) {
		ev_set(ev, n, "make in %s could not be started (exit %d)", c->o.make_dir, st);
		return -1;
	}
	while (report_now_ms() - t0 < MAKE_LIMIT_S * 1000L) {
		char *nl;

		sleep(3);
		out = NULL;
		st = RT(c, &out, 30, "sh", "-c",
		        "cat \"$1.rc\" 2>/dev/null || echo running; tail -n 1 \"$1\" 2>/dev/null",
		        "sh", MAKE_LOG);
		if (st != 0 || out == NULL) {
			free(out);
			continue;
		}
		nl = strchr(out, '\n');
		snprintf(last, sizeof(last), "%s", nl ? nl + 1 : "");
		chomp(last);
		report_sanitize(last, shown, sizeof(shown));
		if (strncmp(out, "running", 7) != 0) {
			rc = atoi(out);
			free(out);
			report_progress_done();
			ev_set(ev, n, "make in %s %s: exit %d in %.1f s; last line \"%s\"; log %s",
			       c->o.make_dir, c->o.where ? c->o.where : "", rc,
			       (double)(report_now_ms() - t0) / 1000.0, shown, MAKE_LOG);
			return rc == 0 ? 0 : -1;
		}
		free(out);
		report_status("make", report_now_ms() - t0, shown);
	}
	report_progress_done();
	ev_set(ev, n, "make in %s still running after %d s; last line \"%s\"; log %s",
	       c->o.make_dir, MAKE_LIMIT_S, last, MAKE_LOG);
	return -1;
}

static enum ck_state pt_make(struct check_ctx *c, char *ev, size_t n)
{
	if (c->o.make_dir == NULL) {
		ev_set(ev, n,
		       "not run %s: the project is checked as it runs (run make in it first); in "
		       "the VM, inception check --evaluate runs make after the cleanup, timed",
		       c->o.where ? c->o.where : "on this host");
		return CK_SKIP;
	}
	return make_timed(c, ev, n) == 0 ? CK_PASS : CK_FAIL;
}

/* Forgets the containers: the next runtime point asks the engine again. */
static void runtime_reset(struct check_ctx *c)
{
	free(c->ctrs);
	c->ctrs = NULL;
	c->nctrs = 0;
	c->loaded = 0;
	c->load_err[0] = '\0';
	c->https_port = 0;
}

/* Every container running (healthy when it has a health check), asked
 * again every 3 s for at most limit_s; 0 when so, else -1 naming one. */
static int wait_healthy(struct check_ctx *c, int limit_s, char *why, size_t n)
{
	long t0 = report_now_ms();

	for (;;) {
		size_t i;
		const struct ctr *sick = NULL;

		runtime_reset(c);
		if (load_runtime(c) == 0) {
			for (i = 0; i < c->nctrs && sick == NULL; i++)
				if (strcmp(c->ctrs[i].status, "running") != 0 ||
				    (c->ctrs[i].health[0] &&
				     strcmp(c->ctrs[i].health, "healthy") != 0))
					sick = &c->ctrs[i];
			if (sick == NULL) {
				report_progress_done();
				snprintf(why, n, "%zu containers running and healthy after %.1f s",
				         c->nctrs, (double)(report_now_ms() - t0) / 1000.0);
				return 0;
			}
			snprintf(why, n, "%s is %s%s%s", sick->name, sick->status,
			         sick->health[0] ? "/" : "", sick->health);
		} else {
			snprintf(why, n, "%s", c->load_err);
		}
		if (report_now_ms() - t0 > limit_s * 1000L)
			break;
		report_status("healthy", report_now_ms() - t0, why);
		sleep(3);
	}
	report_progress_done();
	ev_append(why, n, " after %d s", limit_s);
	return -1;
}

/* GET path on the site: 1 when it answers 200 and shows text. */
static int site_shows(struct check_ctx *c, const char *path, const char *text, char *err, size_t en)
{
	CURL *cu = curl_easy_init();
	struct http h = {0};
	int ok = 0;

	if (http_req(c, cu, path, NULL, NULL, &h, err, en) == 0) {
		ok = h.code == 200 && strstr(h.body, text) != NULL;
		if (!ok)
			snprintf(err, en, "GET %s: HTTP %ld, \"%s\" %s", path, h.code, text,
			         h.code == 200 ? "not in the page" : "not seen");
	}
	free(h.body);
	curl_easy_cleanup(cu);
	return ok;
}

/* With evaluate where the machine is ours: reboot, make, healthy, then
 * each thing made earlier looked for; each step that fails ends the
 * point.  Else the steps, for a person. */
static enum ck_state pt_persistence(struct check_ctx *c, char *ev, size_t n)
{
	char msg[512] = "", err[512] = "";

	if (!c->o.evaluate || c->o.reboot == NULL) {
		ev_set(ev, n,
		       "%sreboot the machine, run make in the project, then check that the site, "
		       "the comment%s%s%s and the page edit%s%s%s made earlier are still there",
		       !c->o.evaluate          ? "with --evaluate in the VM, inception check does "
		                                 "this; by hand: "
		       : c->o.make_dir == NULL ? "--local cannot reboot this machine; by hand: "
		                               : "",
		       c->comment[0] ? " \"" : "", c->comment, c->comment[0] ? "\"" : "",
		       c->page_title[0] ? " \"" : "", c->page_title, c->page_title[0] ? "\"" : "");
		return CK_MANUAL;
	}
	if (c->o.reboot(c->o.exec_arg, msg, sizeof(msg)) < 0) {
		ev_set(ev, n, "reboot: %s", msg);
		return CK_FAIL;
	}
	ev_set(ev, n, "%s; ", msg);
	if (make_timed(c, msg, sizeof(msg)) < 0) {
		ev_append(ev, n, "%s", msg);
		return CK_FAIL;
	}
	ev_append(ev, n, "%s; ", msg);
	if (wait_healthy(c, 300, msg, sizeof(msg)) < 0) {
		ev_append(ev, n, "not healthy: %s", msg);
		return CK_FAIL;
	}
	ev_append(ev, n, "%s; ", msg);
	if (c->https_port == 0 || !site_shows(c, "/", "wp-content", err, sizeof(err))) {
		ev_append(ev, n, "the site: %s", c->https_port ? err : "nginx publishes no 443");
		return CK_FAIL;
	}
	ev_append(ev, n, "the site answers");
	if (c->comment[0]) {
		if (!site_shows(c, c->comment_path, c->comment, err, sizeof(err))) {
			ev_append(ev, n, "; the comment: %s", err);
			return CK_FAIL;
		}
		ev_append(ev, n, ", the post shows the comment \"%s\"", c->comment);
	}
	if (c->page_title[0]) {
		if (!site_shows(c, c->page_path, c->page_title, err, sizeof(err))) {
			ev_append(ev, n, "; the page edit: %s", err);
			return CK_FAIL;
		}
		ev_append(ev, n, ", the page its edit \"%s\"", c->page_title);
	}
	if (!c->comment[0] && !c->page_title[0]) {
		ev_append(ev, n,
		          "; no comment or page edit was made earlier (no WordPress "
		          "credentials): look for yours by hand");
		return CK_MANUAL;
	}
	return CK_PASS;
}

/* ------------------------------------------------------------- restart */
/* kill -9 of a process of the engine's host (here, or in the VM). */
static int kill_pid(struct check_ctx *c, long pid, char *ev, size_t n, const char *name)
{
	char num[32], *out = NULL;
	int st;

	if (pid <= 1) {
		ev_append(ev, n, " %s: no PID 1 to kill (%ld);", name, pid);
		return -1;
	}
	if (c->o.exec == NULL) {
		if (kill((pid_t)pid, SIGKILL) == 0)
			return 0;
		ev_append(ev, n, " %s: cannot kill %ld (%s);", name, pid, strerror(errno));
		return -1;
	}
	snprintf(num, sizeof(num), "%ld", pid);
	st = RT(c, &out, 20, "kill", "-9", num);
	free(out);
	if (st == 0)
		return 0;
	ev_append(ev, n, " %s: kill -9 %ld in the VM exited %d;", name, pid, st);
	return -1;
}

static enum ck_state pt_restart(struct check_ctx *c, char *ev, size_t n)
{
	size_t i;
	int bad = 0;

	NEED_RUNTIME(c, ev, n);
	ev_set(ev, n,
	       "kill -9 of each container's PID 1 from %s:", c->o.exec ? "the VM" : "the host");
	for (i = 0; i < c->nctrs; i++) {
		struct ctr *k = &c->ctrs[i];
		long pid0 = k->pid, t0 = report_now_ms();
		int rc0 = k->restarts, back = 0;

		if (kill_pid(c, pid0, ev, n, k->name) < 0) {
			bad = 1;
			continue;
		}
		while (report_now_ms() - t0 < 150000) {
			sleep(1);
			if (inspect_ctr(c, k) < 0)
				continue;
			if (k->restarts > rc0 && strcmp(k->status, "running") == 0 &&
			    (k->health[0] == '\0' || strcmp(k->health, "healthy") == 0)) {
				back = 1;
				break;
			}
		}
		if (back)
			ev_append(ev, n, " %s back %s in %.1f s;", k->name,
			          k->health[0] ? "healthy" : "running",
			          (double)(report_now_ms() - t0) / 1000.0);
		else
			ev_append(ev, n, " %s NOT back after 150 s (%s%s%s);", k->name, k->status,
			          k->health[0] ? "/" : "", k->health);
		bad |= !back;
	}
	return bad ? CK_FAIL : CK_PASS;
}

/* ----------------------------------------------------------------- bonus */
/* The first container of a bonus role (checkstatic's ck_bonus_role). */
static struct ctr *bonus_ctr(struct check_ctx *c, const char *role)
{
	size_t i;

	for (i = 0; i < c->nctrs; i++) {
		const char *r = svc_bonus_role(c, c->ctrs[i].service);
		if (r && strcmp(r, role) == 0)
			return &c->ctrs[i];
	}
	return NULL;
}

/* A bonus point's common start: the containers, and the one of role, or
 * SKIP when the project has none. */
#define NEED_BONUS(c, k, role, ev, n)                                                              \
	do {                                                                                       \
		NEED_RUNTIME(c, ev, n);                                                            \
		if (((k) = bonus_ctr((c), (role))) == NULL) {                                      \
			ev_set(ev, n, "no %s service in the project", role);                       \
			return CK_SKIP;                                                            \
		}                                                                                  \
	} while (0)

/* In a container: the password of a service from NAME_PASSWORD, else the
 * file NAME_PASSWORD_FILE names, else the first /run/secrets/ file whose
 * name has the service's word; $1 the variable's stem, $2 the word. */
#define FIND_PW                                                                                    \
	"eval \"p=\\${${1}_PASSWORD:-}\"; if [ -z \"$p\" ]; then eval "                            \
	"\"f=\\${${1}_PASSWORD_FILE:-}\"; "                                                        \
	"[ -n \"$f\" ] || for f in /run/secrets/*$2*; do break; done; [ -f \"$f\" ] && "           \
	"p=$(cat \"$f\"); fi; "

/* redis-cli in the container, authenticated as its own settings say. */
#define REDIS_CLI                                                                                  \
	FIND_PW "shift 2; [ -n \"$p\" ] && export REDISCLI_AUTH=\"$p\"; exec redis-cli "           \
	        "--no-auth-warning \"$@\""

static int redis_cli(struct check_ctx *c, const struct ctr *k, const char *a1, const char *a2,
                     const char *a3, char **out)
{
	char *argv[] = {"docker", "exec",  (char *)k->name, "sh",       "-c",       REDIS_CLI,
	                "rcli",   "REDIS", "redis",         (char *)a1, (char *)a2, (char *)a3,
	                NULL};

	return run_rt(c, NULL, argv, 30, out);
}

/* Hits before, three page loads, then the keys (WordPress's among them)
 * and the hits after: WordPress uses redis when both grew. */
static enum ck_state pt_bonus_redis(struct check_ctx *c, char *ev, size_t n)
{
	struct ctr *k;
	char *out = NULL, l[200], err[300];
	long h0, h1, keys;
	int i, st, wpkeys = 0;

	NEED_BONUS(c, k, "redis", ev, n);
	st = redis_cli(c, k, "info", "stats", NULL, &out);
	h0 = st == 0 ? ck_info_field(out, "keyspace_hits") : -1;
	if (h0 < 0) {
		ev_set(ev, n, "redis-cli INFO stats in %s: exit %d, %s", k->name, st,
		       first_line(out ? out : "", l, sizeof(l)));
		free(out);
		return CK_FAIL;
	}
	free(out);
	if (c->https_port == 0) {
		ev_set(ev, n, "nginx publishes no 443: no page to load");
		return CK_FAIL;
	}
	for (i = 0; i < 3; i++)
		if (!site_shows(c, "/", "<", err, sizeof(err))) {
			ev_set(ev, n, "loading the site: %s", err);
			return CK_FAIL;
		}
	out = NULL;
	st = redis_cli(c, k, "info", "stats", NULL, &out);
	h1 = st == 0 ? ck_info_field(out, "keyspace_hits") : -1;
	free(out);
	out = NULL;
	st = redis_cli(c, k, "dbsize", NULL, NULL, &out);
	keys = st == 0 && out && isdigit((unsigned char)out[0]) ? atol(out) : -1;
	free(out);
	out = NULL;
	if (redis_cli(c, k, "--scan", "--pattern", "*alloptions*", &out) == 0 && out)
		for (char *p = out; *p; p++)
			wpkeys += *p == '\n';
	free(out);
	ev_set(ev, n,
	       "redis-cli in %s: %ld keys, %d of WordPress's options (*alloptions*); "
	       "keyspace_hits %ld -> %ld over 3 page loads",
	       k->name, keys, wpkeys, h0, h1);
	return keys > 0 && wpkeys > 0 && h1 > h0 ? CK_PASS : CK_FAIL;
}

/* The first published host port of k, preferring container port want. */
static int published(const struct ctr *k, int want, int *ctr_port)
{
	struct ck_port p[16];
	size_t np = ck_published_ports(k->ports, p, 16), i;

	for (i = 0; i < np; i++)
		if (p[i].ctr == want) {
			*ctr_port = p[i].ctr;
			return p[i].host;
		}
	if (np == 0)
		return 0;
	*ctr_port = p[0].ctr;
	return p[0].host;
}

/* The volume (name, else host source) of k mounted on a WordPress
 * container's mount too, into buf; 0 when there is one. */
static int shared_mount(struct check_ctx *c, const struct ctr *k, const struct ctr *wp, char *buf,
                        size_t n)
{
	char *a = NULL, *b = NULL, *line, *save = NULL;
	int found = -1;

	if (RT(c, &a, 30, "docker", "inspect", "-f", MOUNTS_FMT, (char *)k->id) == 0 &&
	    RT(c, &b, 30, "docker", "inspect", "-f", MOUNTS_FMT, (char *)wp->id) == 0)
		for (line = strtok_r(a, "\n", &save); line && found < 0;
		     line = strtok_r(NULL, "\n", &save)) {
			char type[32] = "", name[256] = "", src[1024] = "", key[1300];

			if (sscanf(line, "%31[^\t]\t%255[^\t]\t%1023[^\t]", type, name, src) < 2)
				continue;
			if (strcmp(type, "volume") == 0 && name[0] &&
			    strcmp(name, "<no value>") != 0)
				snprintf(key, sizeof(key), "\t%s\t", name);
			else if (sscanf(line, "%31[^\t]\t\t%1023[^\t]", type, src) == 2)
				snprintf(key, sizeof(key), "\t%s\t", src);
			else
				continue;
			if (strstr(b, key)) {
				snprintf(buf, n, "%.*s", (int)strlen(key) - 2, key + 1);
				found = 0;
			}
		}
	free(a);
	free(b);
	return found;
}

/* The listing of ftp://127.0.0.1:$2/ as $1, TLS required; the password
 * from the environment reaches curl on its stdin, never in its argv. */
static const char ftp_list[] = "printf 'user = \"%s:%s\"\\n' \"$1\" \"$CK_PW\" | "
                               "curl -sS -K - --ssl-reqd -k --max-time 30 \"ftp://127.0.0.1:$2/\"";

/* Longer than 60 lines: the shared volume, the credentials, the listing
 * over TLS: three findings in order, each one ending the point. */
static enum ck_state pt_bonus_ftp(struct check_ctx *c, char *ev, size_t n)
{
	struct ctr *k, *wp;
	char vol[300] = "", *out = NULL, user[128] = "", env[300], port[16], l[200];
	int hp, cp = 0, st;
	enum ck_state s = CK_FAIL;

	NEED_BONUS(c, k, "ftp", ev, n);
	if ((wp = need_role(c, "wordpress", ev, n)) == NULL)
		return CK_FAIL;
	if (shared_mount(c, k, wp, vol, sizeof(vol)) < 0) {
		ev_set(ev, n, "%s mounts nothing that %s mounts (docker inspect .Mounts)", k->name,
		       wp->name);
		return CK_FAIL;
	}
	if ((hp = published(k, 21, &cp)) == 0) {
		ev_set(ev, n, "%s shares %s with %s but publishes no port", k->name, vol, wp->name);
		return CK_FAIL;
	}
	st = RT(c, &out, 30, "docker", "exec", k->name, "sh", "-c",
	        FIND_PW "eval \"u=\\${${1}_USER:-\\${${1}_USERNAME:-}}\"; printf '%s\\n%s\\n' "
	                "\"$u\" \"$p\"",
	        "ftpcreds", "FTP", "ftp");
	if (st == 0 && out && out[0] != '\n') {
		char *nl = strchr(out, '\n');
		snprintf(user, sizeof(user), "%.*s", (int)strcspn(out, "\n"), out);
		snprintf(env, sizeof(env), "CK_PW=%.*s", nl ? (int)strcspn(nl + 1, "\n") : 0,
		         nl ? nl + 1 : "");
	}
	if (out)
		memset(out, 0, strlen(out));
	free(out);
	if (user[0] == '\0' || strlen(env) <= 6) {
		ev_set(
		    ev, n,
		    "%s shares %s with %s, port %d -> %d; no FTP_USER/FTP_PASSWORD(_FILE) in the "
		    "container: log in with curl --ssl-reqd -k -u USER ftp://127.0.0.1:%d/ and "
		    "look for wp-content",
		    k->name, vol, wp->name, hp, cp, hp);
		return CK_MANUAL;
	}
	snprintf(port, sizeof(port), "%d", hp);
	out = NULL;
	st = RT_ENV(c, env, &out, 60, "sh", "-c", (char *)ftp_list, "ftpls", user, port);
	memset(env, 0, sizeof(env));
	if (st == 0 && out && strstr(out, "wp-content")) {
		ev_set(ev, n,
		       "%s shares %s with %s; curl --ssl-reqd ftp://127.0.0.1:%d/ as %s %s: TLS, "
		       "the listing shows wp-content",
		       k->name, vol, wp->name, hp, user, c->o.where ? c->o.where : "here");
		s = CK_PASS;
	} else {
		ev_set(ev, n, "curl --ssl-reqd ftp://127.0.0.1:%d/ as %s: exit %d%s %s", hp, user,
		       st,
		       st == 64  ? " (TLS refused)"
		       : st == 0 ? ", no wp-content listed:"
		                 : ",",
		       first_line(out ? out : "", l, sizeof(l)));
	}
	free(out);
	return s;
}

/* curl on the engine's machine: one GET of http://127.0.0.1:PORT/, the
 * headers and the body in *out. */
static int http_local(struct check_ctx *c, int port, char **out)
{
	char url[64];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", port);
	return RT(c, out, 30, "curl", "-sS", "-i", "--max-time", "20", url);
}

static enum ck_state pt_bonus_site(struct check_ctx *c, char *ev, size_t n)
{
	struct ctr *k;
	char *out = NULL, *top = NULL, l[200];
	int hp, cp = 0, st, php_hdr, php_body, php_proc, code = 0;

	NEED_BONUS(c, k, "site", ev, n);
	if ((hp = published(k, 80, &cp)) == 0) {
		ev_set(ev, n,
		       "%s publishes no port: open the site as the student shows it and "
		       "check it is not PHP",
		       k->name);
		return CK_MANUAL;
	}
	st = http_local(c, hp, &out);
	if (st != 0 || out == NULL || sscanf(out, "HTTP/%*s %d", &code) != 1 || code != 200) {
		ev_set(ev, n, "curl http://127.0.0.1:%d/%s%s: exit %d, %s", hp,
		       c->o.where ? " " : "", c->o.where ? c->o.where : "", st,
		       first_line(out ? out : "", l, sizeof(l)));
		free(out);
		return CK_FAIL;
	}
	php_hdr = strcasestr(out, "\nX-Powered-By: PHP") != NULL;
	php_body = strstr(out, "<?php") != NULL;
	free(out);
	if (RT(c, &top, 30, "docker", "top", k->name, "-o", "pid,comm") != 0) {
		ev_set(ev, n, "docker top %s: %s", k->name,
		       first_line(top ? top : "", l, sizeof(l)));
		free(top);
		return CK_FAIL;
	}
	php_proc = strstr(top, "php") != NULL;
	{ /* "2500     nginx": one space */
		char *w = top;

		for (const char *r = top; *r; r++)
			if (*r != ' ' || w == top || w[-1] != ' ')
				*w++ = *r;
		*w = '\0';
	}
	ev_set(ev, n,
	       "curl http://127.0.0.1:%d/ (%s:%d): 200%s%s; docker top %s: %s PHP process "
	       "(%s)",
	       hp, k->name, cp, php_hdr ? ", X-Powered-By: PHP" : ", no X-Powered-By: PHP",
	       php_body ? ", PHP source in the page" : "", k->name, php_proc ? "a" : "no",
	       first_line(strchr(top, '\n') ? strchr(top, '\n') + 1 : top, l, sizeof(l)));
	free(top);
	return php_hdr || php_body || php_proc ? CK_FAIL : CK_PASS;
}

/* The published port of a bonus container that serves Adminer's login
 * form (Adminer itself, or a web server in front of it); 0 if none. */
static int adminer_port(struct check_ctx *c, const struct ctr *adm)
{
	size_t i, j;

	for (i = 0; i <= c->nctrs; i++) {
		const struct ctr *k = i == 0 ? adm : &c->ctrs[i - 1];
		struct ck_port p[16];
		size_t np;

		const char *role = svc_bonus_role(c, k->service);

		if (i > 0 && (k == adm || role == NULL || strcmp(role, "redis") == 0 ||
		              strcmp(role, "ftp") == 0))
			continue;
		np = ck_published_ports(k->ports, p, 16);
		for (j = 0; j < np; j++) {
			char *out = NULL;
			int found = http_local(c, p[j].host, &out) == 0 && out &&
			            strstr(out, "auth[password]") != NULL;

			free(out);
			if (found)
				return p[j].host;
		}
	}
	return 0;
}

static enum ck_state pt_bonus_adminer(struct check_ctx *c, char *ev, size_t n)
{
	struct ctr *k, *db;
	char *out = NULL, url[64], env[300], l[200];
	int port, st, ok;

	NEED_BONUS(c, k, "adminer", ev, n);
	if ((port = adminer_port(c, k)) == 0) {
		ev_set(ev, n,
		       "no published port serves Adminer's login form: open Adminer as the "
		       "student shows it and log in with the WordPress database user");
		return CK_MANUAL;
	}
	if ((db = need_role(c, "mariadb", ev, n)) == NULL)
		return CK_FAIL;
	if (load_db(c) < 0) {
		ev_set(ev, n, "Adminer's form on 127.0.0.1:%d; %s", port, c->db_err);
		return CK_FAIL;
	}
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", port);
	snprintf(env, sizeof(env), "CK_PW=%s", c->db_password);
	st =
	    RT_ENV(c, env, &out, 90, "sh", "-c",
	           "j=$(mktemp) || exit 1; curl -sS --max-time 30 -c \"$j\" -b \"$j\" -o /dev/null "
	           "\"$1\" && printf %s \"$CK_PW\" | curl -sS -L --max-time 30 -c \"$j\" -b \"$j\" "
	           "--data-urlencode 'auth[driver]=server' --data-urlencode \"auth[server]=$2\" "
	           "--data-urlencode \"auth[username]=$3\" --data-urlencode 'auth[password]@-' "
	           "--data-urlencode \"auth[db]=$4\" \"$1\"; s=$?; rm -f \"$j\"; exit $s",
	           "adminer", url, db->service, c->db_user, c->db_name);
	memset(env, 0, sizeof(env));
	ok = st == 0 && out && strstr(out, "_posts") && strstr(out, "_options");
	if (ok)
		ev_set(ev, n,
		       "Adminer at %s%s%s: logged in to server %s as %s, database %s lists the "
		       "WordPress tables (_posts, _options)",
		       url, c->o.where ? " " : "", c->o.where ? c->o.where : "", db->service,
		       c->db_user, c->db_name);
	else {
		const char *t = out ? strstr(out, "<title>") : NULL;
		ev_set(ev, n, "Adminer at %s: login as %s to %s/%s: exit %d, %s", url, c->db_user,
		       db->service, c->db_name, st,
		       t ? first_line(t, l, sizeof(l)) : first_line(out ? out : "", l, sizeof(l)));
	}
	free(out);
	return ok ? CK_PASS : CK_FAIL;
}

static enum ck_state pt_bonus(struct check_ctx *c, char *ev, size_t n)
{
	char list[512] = "", known[256] = "";
	size_t i;

	if (c->compose_ok)
		for (i = 0; i < c->cf.nsvc; i++) {
			const char *s = c->cf.svc[i].name;
			char *dst = svc_bonus_role(c, s) ? known : list;

			if (svc_role(c, s) == NULL)
				ev_append(dst, dst == known ? sizeof(known) : sizeof(list), "%s%s",
				          dst[0] ? ", " : "", s);
		}
	if (!c->o.static_only && load_runtime(c) == 0)
		for (i = 0; i < c->nctrs; i++) {
			const char *s = c->ctrs[i].service;
			char *dst = svc_bonus_role(c, s) ? known : list;
			size_t dn = svc_bonus_role(c, s) ? sizeof(known) : sizeof(list);

			if (svc_role(c, s) == NULL && !strstr(list, s) && !strstr(known, s))
				ev_append(dst, dn, "%s%s", dst[0] ? ", " : "", s);
		}
	if (list[0] == '\0') {
		ev_set(ev, n, "no service beyond nginx, wordpress, mariadb%s%s",
		       known[0] ? ", " : "", known);
		return CK_SKIP;
	}
	ev_set(ev, n,
	       "other services: %s: the student shows what each does and why it is useful (the "
	       "sheet's bonus part)%s%s",
	       list, known[0] ? "; checked above: " : "", known);
	return CK_MANUAL;
}

/* ------------------------------------------------------------ explain */
static enum ck_state explain(struct check_ctx *c, char *ev, size_t n, const char *where)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/README.md", c->dir);
	ev_set(ev, n, "the student explains; answers to look for in %s%s", where,
	       access(p, R_OK) == 0 ? " and README.md" : "");
	return CK_MANUAL;
}
static enum ck_state pt_ex_docker(struct check_ctx *c, char *ev, size_t n)
{
	return explain(c, ev, n, c->compose_path[0] ? c->compose_rel : "srcs/");
}
static enum ck_state pt_ex_image(struct check_ctx *c, char *ev, size_t n)
{
	return explain(c, ev, n, "the Makefile and the Dockerfiles");
}
static enum ck_state pt_ex_vm(struct check_ctx *c, char *ev, size_t n)
{
	return explain(c, ev, n, "the project's docs");
}
static enum ck_state pt_ex_layout(struct check_ctx *c, char *ev, size_t n)
{
	return explain(c, ev, n, "srcs/requirements/");
}
static enum ck_state pt_ex_network(struct check_ctx *c, char *ev, size_t n)
{
	return explain(c, ev, n, c->compose_path[0] ? c->compose_rel : "srcs/");
}
static enum ck_state pt_ex_db(struct check_ctx *c, char *ev, size_t n)
{
	return explain(c, ev, n,
	               "the MariaDB entrypoint (docker exec -it mariadb mariadb -u USER -p)");
}

/* ------------------------------------------------------------- the table */
static const struct check_point POINTS[] = {
    {"evaluate", "the sheet's cleanup command", pt_cleanup, 0, CKP_EVALUATE},
    {"evaluate", "make, timed", pt_make, 1, CKP_EVALUATE},
    {"preliminaries", "no credentials in tracked files", pt_tracked, 1, CKP_STATIC},
    {"preliminaries", "no credentials in git history", pt_history, 1, CKP_STATIC},
    {"preliminaries", ".env and secrets/ are git-ignored", pt_ignored, 1, CKP_STATIC},
    {"preliminaries", "srcs/ and a Makefile at the root", pt_layout, 1, CKP_STATIC},
    {"preliminaries", "compose: no host network, no links", pt_no_host_net, 1, CKP_STATIC},
    {"preliminaries", "compose: networks declared and joined", pt_networks, 1, CKP_STATIC},
    {"preliminaries", "no --link in the Makefile or scripts", pt_no_link, 1, CKP_STATIC},
    {"preliminaries", "entrypoints: no &, tail -f, loop, bare shell", pt_pid1, 1, CKP_STATIC},
    {"explain", "how Docker and docker compose work", pt_ex_docker, 0, CKP_STATIC},
    {"explain", "an image with or without docker compose", pt_ex_image, 0, CKP_STATIC},
    {"explain", "the benefit of Docker compared to VMs", pt_ex_vm, 0, CKP_STATIC},
    {"explain", "the directory structure", pt_ex_layout, 0, CKP_STATIC},
    {"docker", "one non-empty Dockerfile per service", pt_dockerfiles, 1, CKP_STATIC},
    {"docker", "FROM the penultimate stable Debian/Alpine", pt_from, 1, CKP_STATIC},
    {"docker", "no latest tag", pt_latest, 1, CKP_STATIC},
    {"docker", "no ready-made image for a service", pt_ready_made, 1, CKP_STATIC},
    {"docker", "each image named after its service", pt_image_names, 1, CKP_STATIC},
    {"docker", "the Makefile runs docker compose", pt_makefile_compose, 1, CKP_STATIC},
    {"docker", "containers by compose, none exited", pt_containers, 1, 0},
    {"network", "a user-defined network joins every service", pt_network_rt, 1, 0},
    {"network", "explain docker networks", pt_ex_network, 0, CKP_STATIC},
    {"nginx", "443 is the only published port", pt_only_443, 1, CKP_STATIC},
    {"nginx", "http on port 80 is refused", pt_port80, 1, 0},
    {"nginx", "TLSv1.2 handshake succeeds", pt_tls12, 1, 0},
    {"nginx", "TLSv1.3 handshake succeeds", pt_tls13, 1, 0},
    {"nginx", "TLSv1.0 is refused by the server", pt_tls10, 1, 0},
    {"nginx", "TLSv1.1 is refused by the server", pt_tls11, 1, 0},
    {"nginx", "a certificate is presented", pt_cert, 1, 0},
    {"nginx", "https://LOGIN.42.fr is the installed site", pt_site, 1, 0},
    {"wordpress", "no nginx in its Dockerfile", pt_wp_no_nginx, 1, CKP_STATIC},
    {"wordpress", "php-fpm is PID 1", pt_phpfpm_pid1, 1, 0},
    {"wordpress", "its volume is under the data dir", pt_wp_volume, 1, CKP_STATIC},
    {"wordpress", "a user logs in and comments", pt_wp_comment, 1, 0},
    {"wordpress", "the administrator edits a page", pt_wp_admin_edit, 1, 0},
    {"wordpress", "administrator login has no \"admin\"", pt_admin_name, 1, 0},
    {"mariadb", "no nginx in its Dockerfile", pt_db_no_nginx, 1, CKP_STATIC},
    {"mariadb", "its volume is under the data dir", pt_db_volume, 1, CKP_STATIC},
    {"mariadb", "root without a password is refused", pt_root_pw, 1, 0},
    {"mariadb", "the WordPress user logs in, DB not empty", pt_db_user, 1, 0},
    {"mariadb", "explain how to log in to the database", pt_ex_db, 0, CKP_STATIC},
    {"persistence", "reboot, make: everything still there", pt_persistence, 1, CKP_STATIC},
    {"restart", "kill -9 of each PID 1: back healthy", pt_restart, 0, CKP_DISRUPTS},
    {"bonus", "redis is WordPress's object cache", pt_bonus_redis, 0, 0},
    {"bonus", "FTP serves the WordPress volume over TLS", pt_bonus_ftp, 0, 0},
    {"bonus", "the static site is not PHP", pt_bonus_site, 0, 0},
    {"bonus", "Adminer logs in", pt_bonus_adminer, 0, 0},
    {"bonus", "other services beyond the mandatory three", pt_bonus, 0, CKP_STATIC},
    {NULL, NULL, NULL, 0, 0},
};

const struct check_point *check_points(void)
{
	return POINTS;
}

const char *ck_state_name(enum ck_state s)
{
	switch (s) {
	case CK_PASS: return "PASS";
	case CK_FAIL: return "FAIL";
	case CK_MANUAL: return "MANUAL";
	default: return "SKIP";
	}
}

static int in_list(const char *list, const char *name)
{
	size_t l = strlen(name);
	const char *p = list;

	while (p && *p) {
		size_t w = strcspn(p, ",");
		if (w == l && strncmp(p, name, l) == 0)
			return 1;
		p += w;
		if (*p == ',')
			p++;
	}
	return 0;
}

int check_sections_valid(const char *only, struct err *e)
{
	const char *p = only;

	while (p && *p) {
		size_t w = strcspn(p, ","), i;
		int found = 0;

		for (i = 0; POINTS[i].point; i++)
			if (strlen(POINTS[i].section) == w && strncmp(POINTS[i].section, p, w) == 0)
				found = 1;
		if (!found)
			return err_setc(
			    e, EXIT_USAGE,
			    "check: --only: no section \"%.*s\" (sections: evaluate, "
			    "preliminaries, explain, docker, network, nginx, wordpress, mariadb, "
			    "persistence, restart, bonus)",
			    (int)w, p);
		p += w;
		if (*p == ',')
			p++;
	}
	return 0;
}

static void ctx_free(struct check_ctx *c)
{
	size_t i;

	ck_env_free(&c->env);
	compose_free(&c->cf);
	for (i = 0; i < c->ndfs; i++) {
		free(c->dfs[i].service);
		free(c->dfs[i].path);
		free(c->dfs[i].ctxdir);
		free(c->dfs[i].text);
		dockerfile_free(&c->dfs[i].df);
	}
	free(c->dfs);
	free(c->roles);
	for (i = 0; i < c->ntracked; i++)
		free(c->tracked[i]);
	free(c->tracked);
	free(c->ctrs);
	if (c->db_password) {
		memset(c->db_password, 0, strlen(c->db_password));
		free(c->db_password);
	}
}

/* LOGIN, DOMAIN and the data dir: flags, else the env file, else the
 * domain's first label, else login_default (the VM's login). */
static void ctx_names(struct check_ctx *c)
{
	const char *login = c->o.login, *domain = ck_env_get(&c->env, "DOMAIN_NAME");

	if (login == NULL)
		login = ck_env_get(&c->env, "LOGIN");
	if (login == NULL && !(domain && strstr(domain, ".42.fr")))
		login = c->o.login_default;
	if (login == NULL && domain && strstr(domain, ".42.fr"))
		snprintf(c->login, sizeof(c->login), "%.*s",
		         (int)(strstr(domain, ".42.fr") - domain), domain);
	else
		snprintf(c->login, sizeof(c->login), "%s", login ? login : "login");
	if (domain && *domain)
		snprintf(c->domain, sizeof(c->domain), "%s", domain);
	else
		snprintf(c->domain, sizeof(c->domain), "%s.42.fr", c->login);
	if (c->o.data_dir && c->o.data_dir[0] != '/') { /* relative to where we run */
		char cwd[PATH_MAX];
		snprintf(c->data_dir, sizeof(c->data_dir), "%s/%s",
		         getcwd(cwd, sizeof(cwd)) ? cwd : ".", c->o.data_dir);
	} else if (c->o.data_dir)
		snprintf(c->data_dir, sizeof(c->data_dir), "%s", c->o.data_dir);
	else
		snprintf(c->data_dir, sizeof(c->data_dir), "/home/%s/data", c->login);
}

/* Longer than 60 lines: the context is set up, then the table is walked; the walk is the few lines
 * at the end. */
int check_run(const struct check_opts *o, void (*row)(const struct check_row *r, void *arg),
              void *arg, struct err *e)
{
	struct check_ctx *c = calloc(1, sizeof(*c));
	const struct check_point *pt;
	struct stat st;
	char *text = NULL;

	if (c == NULL)
		return err_set(e, "out of memory");
	c->o = *o;
	if (realpath(o->dir, c->dir) == NULL || stat(c->dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		free(c);
		return err_setc(e, EXIT_USAGE, "check: %s: not a directory", o->dir);
	}
	snprintf(c->srcs, sizeof(c->srcs), "%s/srcs", c->dir);
	if (o->env_file)
		snprintf(c->env_file, sizeof(c->env_file), "%s", o->env_file);
	else
		snprintf(c->env_file, sizeof(c->env_file), "%s/.env", c->srcs);
	if (read_text(c->env_file, &text) == 0)
		ck_env_parse(&c->env, text);
	else if (o->env_file) {
		ctx_free(c);
		free(c);
		return err_setc(e, EXIT_USAGE, "check: --env-file %s: cannot read it", o->env_file);
	}
	free(text);
	if (o->today) {
		snprintf(c->today, sizeof(c->today), "%s", o->today);
	} else {
		time_t now = time(NULL);
		struct tm tm;
		gmtime_r(&now, &tm);
		strftime(c->today, sizeof(c->today), "%Y-%m-%d", &tm);
	}
	ctx_names(c);
	load_compose(c);
	load_git(c);
	for (pt = POINTS; pt->point; pt++) {
		struct check_row r;

		if (o->only && !in_list(o->only, pt->section))
			continue;
		if (o->static_only && !(pt->flags & CKP_STATIC))
			continue;
		memset(&r, 0, sizeof(r));
		r.pt = pt;
		if ((pt->flags & (CKP_DISRUPTS | CKP_EVALUATE)) && !o->evaluate &&
		    !(o->only && in_list(o->only, pt->section))) {
			r.state = CK_SKIP;
			snprintf(r.evidence, sizeof(r.evidence),
			         "%s: only with --evaluate or --only %s",
			         pt->flags & CKP_EVALUATE ? "the evaluator's flow"
			                                  : "disturbs the running stack",
			         pt->section);
		} else {
			r.state = pt->fn(c, r.evidence, sizeof(r.evidence));
		}
		row(&r, arg);
	}
	ctx_free(c);
	free(c);
	return 0;
}

/* Appends s to the buffer; cell: '|' escaped, control characters blanked. */
static void md_add(char **buf, size_t *len, size_t *cap, const char *s, int cell)
{
	for (; *s; s++) {
		char tmp[3] = {0};

		if (cell && *s == '|') {
			tmp[0] = '\\';
			tmp[1] = '|';
		} else {
			tmp[0] = cell && (unsigned char)*s < 0x20 ? ' ' : *s;
		}
		if (*len + 3 >= *cap) {
			*cap = *cap * 2 + 64;
			*buf = realloc(*buf, *cap);
			if (*buf == NULL)
				abort();
		}
		memcpy(*buf + *len, tmp, strlen(tmp));
		*len += strlen(tmp);
		(*buf)[*len] = '\0';
	}
}

char *check_markdown(const struct check_opts *o, const struct check_row *rows, size_t n)
{
	size_t len = 0, cap = 4096, i;
	char *buf = malloc(cap), head[2048];
	int count[4] = {0, 0, 0, 0};
	time_t now = time(NULL);
	struct tm tm;
	char when[32];

	if (buf == NULL)
		abort();
	buf[0] = '\0';
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", &tm);
	for (i = 0; i < n; i++)
		count[rows[i].state]++;
	snprintf(head, sizeof(head),
	         "# Inception evaluation: %s\n\n"
	         "`inception check%s` on %s%s%s.\n\n"
	         "%d PASS, %d FAIL, %d MANUAL, %d SKIP.  \"Ends\" marks the points whose failure "
	         "ends the evaluation on the sheet.\n\n"
	         "| Section | Point | Result | Ends | Evidence |\n|---|---|---|---|---|\n",
	         o->dir, o->exec ? "" : " --local", when,
	         o->static_only ? " (static points only)" : "", o->evaluate ? " (--evaluate)" : "",
	         count[CK_PASS], count[CK_FAIL], count[CK_MANUAL], count[CK_SKIP]);
	md_add(&buf, &len, &cap, head, 0);
	for (i = 0; i < n; i++) {
		md_add(&buf, &len, &cap, "| ", 0);
		md_add(&buf, &len, &cap, rows[i].pt->section, 1);
		md_add(&buf, &len, &cap, " | ", 0);
		md_add(&buf, &len, &cap, rows[i].pt->point, 1);
		md_add(&buf, &len, &cap, " | **", 0);
		md_add(&buf, &len, &cap, ck_state_name(rows[i].state), 1);
		md_add(&buf, &len, &cap, rows[i].pt->ends ? "** | yes | " : "** |  | ", 0);
		md_add(&buf, &len, &cap, rows[i].evidence, 1);
		md_add(&buf, &len, &cap, " |\n", 0);
	}
	return buf;
}
