/*
 * test_project.c: the project module on the fixture projects in
 * tests/projects/ and on small trees made here: which directory is the
 * project (and what is missing when it is none), git work trees and clones
 * (made with the git CLI: file:// URLs, local paths, --ref), the files
 * pushed, the env files and secrets a project reads, the files generated
 * for the missing ones, and the base images with file:line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "project.h"
#include "util.h"

#define FIX "tests/projects/"

/* --- helpers ---------------------------------------------------------------- */

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (system(cmd) != 0)
		fail_msg("command failed: %s", cmd);
}

static void put(const char *dir, const char *rel, const char *text)
{
	char path[PATH_MAX], *slash;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	slash = strrchr(path, '/');
	*slash = '\0';
	sh("mkdir -p '%s'", path);
	*slash = '/';
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static char *slurp(const char *dir, const char *rel)
{
	char path[PATH_MAX], *text = NULL;
	size_t len;
	struct err e = {.msg = ""};

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	if (read_file(path, &text, &len, &e) < 0)
		fail_msg("%s", e.msg);
	return text;
}

static void tmpdir(char *buf, size_t n)
{
	snprintf(buf, n, "/tmp/inception-project-XXXXXX");
	assert_non_null(mkdtemp(buf));
}

/* A minimal project: Makefile + srcs/docker-compose.yml with compose. */
static void mini(const char *dir, const char *compose)
{
	put(dir, "Makefile", "all:\n\tdocker compose -f srcs/docker-compose.yml up -d --build\n");
	put(dir, "srcs/docker-compose.yml", compose);
}

static void fixture(const char *name, struct project *p)
{
	struct project_req r = {0};
	struct err e = {.msg = ""};
	char spec[256];

	snprintf(spec, sizeof(spec), FIX "%s", name);
	r.spec = spec;
	if (project_resolve(&r, p, &e) < 0)
		fail_msg("%s", e.msg);
}

static void at_dir(const char *dir, struct project *p)
{
	struct project_req r = {0};
	struct err e = {.msg = ""};

	r.spec = dir;
	if (project_resolve(&r, p, &e) < 0)
		fail_msg("%s", e.msg);
}

/* The inputs of p, one described line each ("missing "/"present " first). */
static char *inputs_text(const struct project *p)
{
	struct project_inputs in;
	struct err e = {.msg = ""};
	char *buf = NULL, line[PATH_MAX + 256];
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	if (project_inputs(p, &in, &e) < 0)
		fail_msg("%s", e.msg);
	for (size_t i = 0; i < in.n; i++) {
		project_input_describe(&in.v[i], line, sizeof(line));
		fprintf(out, "%s %s\n", in.v[i].missing ? "missing" : "present", line);
	}
	fclose(out);
	project_inputs_free(&in);
	return buf;
}

static char *bases_text(const struct project *p)
{
	struct project_base *v;
	size_t n;
	struct err e = {.msg = ""};
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	if (project_bases(p, &v, &n, &e) < 0)
		fail_msg("%s", e.msg);
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%s:%u %s (%s)\n", v[i].file, v[i].line, v[i].image, v[i].service);
	fclose(out);
	project_bases_free(v, n);
	return buf;
}

static char *git_out(const char *dir, const char *args)
{
	char cmd[PATH_MAX + 256], *out = NULL;
	size_t cap = 0;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "git -C '%s' %s", dir, args);
	f = popen(cmd, "r");
	assert_non_null(f);
	if (getline(&out, &cap, f) < 0) {
		free(out);
		out = strdup("");
	}
	pclose(f);
	out[strcspn(out, "\n")] = '\0';
	return out;
}

#define GIT "git -c user.name=t -c user.email=t@example.org -c init.defaultBranch=main"

/* --- which directory --------------------------------------------------------- */

static void test_check_messages(void **state)
{
	char d[64], compose[64];
	struct err e = {.msg = ""};
	char want[256];

	(void)state;
	assert_int_equal(project_check(FIX "a-secrets", compose, sizeof(compose), &e), 0);
	assert_string_equal(compose, "srcs/compose.yaml");
	assert_int_equal(project_check(FIX "b-envfile", compose, sizeof(compose), &e), 0);
	assert_string_equal(compose, "srcs/docker-compose.yml");

	tmpdir(d, sizeof(d));
	assert_int_equal(project_check(d, compose, sizeof(compose), &e), -1);
	snprintf(want, sizeof(want),
	         "%s is not an Inception project: no Makefile and no srcs/docker-compose.yml (or "
	         "srcs/compose.yaml)",
	         d);
	assert_string_equal(e.msg, want);
	assert_int_equal(e.code, EXIT_USAGE);

	put(d, "Makefile", "all:\n");
	assert_int_equal(project_check(d, compose, sizeof(compose), &e), -1);
	snprintf(
	    want, sizeof(want),
	    "%s is not an Inception project: no srcs/docker-compose.yml (or srcs/compose.yaml)", d);
	assert_string_equal(e.msg, want);

	sh("rm '%s/Makefile'", d);
	put(d, "srcs/compose.yml", "services: {}\n");
	assert_int_equal(project_check(d, compose, sizeof(compose), &e), -1);
	snprintf(want, sizeof(want), "%s is not an Inception project: no Makefile", d);
	assert_string_equal(e.msg, want);

	put(d, "GNUmakefile", "all:\n");
	assert_int_equal(project_check(d, compose, sizeof(compose), &e), 0);
	assert_string_equal(compose, "srcs/compose.yml");
	sh("rm -rf '%s'", d);
}

static void test_resolve_default(void **state)
{
	char d[64], want[PATH_MAX + 64], fix_a[PATH_MAX];
	struct project_req r = {0};
	struct project p;
	struct err e = {.msg = ""};

	(void)state;
	assert_non_null(realpath(FIX "a-secrets", fix_a));
	/* cwd is a project: that one, even with a bundled stack */
	r.cwd = FIX "a-secrets";
	r.bundled_dir = FIX "b-envfile";
	assert_int_equal(project_resolve(&r, &p, &e), 0);
	assert_string_equal(p.dir, fix_a);
	assert_string_equal(p.compose, "srcs/compose.yaml");
	assert_string_equal(p.source, "");
	assert_int_equal(p.bundled, 0);
	assert_int_equal(p.cloned, 0);

	/* cwd is none: the bundled stack */
	tmpdir(d, sizeof(d));
	r.cwd = d;
	assert_int_equal(project_resolve(&r, &p, &e), 0);
	assert_int_equal(p.bundled, 1);
	assert_string_equal(p.compose, "srcs/docker-compose.yml");
	assert_non_null(strstr(p.dir, "/tests/projects/b-envfile"));

	/* neither: what is missing in cwd */
	r.bundled_dir = NULL;
	assert_int_equal(project_resolve(&r, &p, &e), -1);
	assert_int_equal(e.code, EXIT_USAGE);
	snprintf(want, sizeof(want),
	         "%s is not an Inception project: no Makefile and no srcs/docker-compose.yml (or "
	         "srcs/compose.yaml)",
	         d);
	assert_string_equal(e.msg, want);

	/* PROJECT that is no directory, or no project */
	r.spec = "/nonexistent/project";
	assert_int_equal(project_resolve(&r, &p, &e), -1);
	assert_int_equal(e.code, EXIT_USAGE);
	assert_string_equal(e.msg, "/nonexistent/project: no such directory (PROJECT is a "
	                           "directory or a git URL)");
	r.spec = d;
	put(d, "Makefile", "all:\n");
	assert_int_equal(project_resolve(&r, &p, &e), -1);
	snprintf(
	    want, sizeof(want),
	    "%s is not an Inception project: no srcs/docker-compose.yml (or srcs/compose.yaml)", d);
	assert_string_equal(e.msg, want);
	/* --ref on a directory outside git */
	mini(d, "services: {}\n");
	r.ref = "main";
	r.clone_dir = "/nonexistent";
	assert_int_equal(project_resolve(&r, &p, &e), -1);
	assert_int_equal(e.code, EXIT_USAGE);
	snprintf(want, sizeof(want), "--ref main: %s is not in a git repository", d);
	assert_string_equal(e.msg, want);
	sh("rm -rf '%s'", d);
}

/* A git repository at d holding fixture a, one commit; returns HEAD. */
static char *repo_of_a(const char *d)
{
	sh("cp -r " FIX "a-secrets/. '%s/' && cd '%s' && " GIT " init -q && git add -A && " GIT
	   " commit -qm one",
	   d, d);
	return git_out(d, "rev-parse HEAD");
}

static void test_resolve_git(void **state)
{
	char d[64], cache[64], url[128], want[512];
	struct project_req r = {0};
	struct project p;
	struct err e = {.msg = ""};
	char *one, *two;

	(void)state;
	tmpdir(d, sizeof(d));
	tmpdir(cache, sizeof(cache));
	one = repo_of_a(d);

	/* a work tree: HEAD, clean; a tracked change makes it dirty, an
	 * untracked or ignored file does not */
	r.spec = d;
	assert_int_equal(project_resolve(&r, &p, &e), 0);
	assert_string_equal(p.commit, one);
	assert_int_equal(p.dirty, 0);
	put(d, "secrets/db_password.txt", "pw\n");
	put(d, "notes.txt", "x\n");
	assert_int_equal(project_resolve(&r, &p, &e), 0);
	assert_int_equal(p.dirty, 0);
	put(d, "srcs/.env", "LOGIN=changed\n");
	assert_int_equal(project_resolve(&r, &p, &e), 0);
	assert_int_equal(p.dirty, 1);
	sh("cd '%s' && " GIT " tag -a -m first v1 && " GIT " commit -qam two && git tag v2", d);
	two = git_out(d, "rev-parse HEAD");

	/* a file:// URL: cloned under the cache, at the remote HEAD */
	snprintf(url, sizeof(url), "file://%s", d);
	r.spec = url;
	r.clone_dir = cache;
	assert_int_equal(project_resolve(&r, &p, &e), 0);
	assert_string_equal(p.commit, two);
	assert_int_equal(p.cloned, 1);
	assert_int_equal(p.dirty, 0);
	assert_string_equal(p.source, url);
	assert_string_equal(p.compose, "srcs/compose.yaml");
	assert_true(strncmp(p.dir, cache, strlen(cache)) == 0);
	/* the clone holds what git holds: no untracked or ignored files */
	{
		char path[PATH_MAX + 64];
		snprintf(path, sizeof(path), "%s/notes.txt", p.dir);
		assert_int_not_equal(access(path, F_OK), 0);
		snprintf(path, sizeof(path), "%s/secrets", p.dir);
		assert_int_not_equal(access(path, F_OK), 0);
	}
	/* --ref: a commit, then a tag, then a branch, reusing the clone */
	r.ref = one;
	assert_int_equal(project_resolve(&r, &p, &e), 0);
	assert_string_equal(p.commit, one);
	r.ref = "v2";
	assert_int_equal(project_resolve(&r, &p, &e), 0);
	assert_string_equal(p.commit, two);
	/* an annotated tag names its commit, not the tag object */
	r.ref = "v1";
	assert_int_equal(project_resolve(&r, &p, &e), 0);
	assert_string_equal(p.commit, one);
	r.ref = "main";
	assert_int_equal(project_resolve(&r, &p, &e), 0);
	assert_string_equal(p.commit, two);
	r.ref = "nope";
	assert_int_equal(project_resolve(&r, &p, &e), -1);
	assert_int_equal(e.code, EXIT_USAGE);
	snprintf(want, sizeof(want), "--ref nope: no such branch, tag or commit in %s", url);
	assert_string_equal(e.msg, want);

	/* a local path with --ref is cloned too (the work tree is elsewhere) */
	r.spec = d;
	r.ref = one;
	assert_int_equal(project_resolve(&r, &p, &e), 0);
	assert_int_equal(p.cloned, 1);
	assert_string_equal(p.commit, one);
	assert_string_equal(p.source, d);

	/* --ref HEAD: the source's HEAD, not the clone's last checkout */
	r.ref = "HEAD";
	assert_int_equal(project_resolve(&r, &p, &e), 0);
	assert_string_equal(p.commit, two);

	/* a project in a subdirectory of a repository, with --ref: the clone's
	 * same subdirectory */
	{
		char sub[PATH_MAX];
		sh("mkdir -p '%s/deep/proj' && cp -r " FIX
		   "b-envfile/. '%s/deep/proj/' && cd '%s' && "
		   "git add -A && " GIT " commit -qm deep",
		   d, d, d);
		snprintf(sub, sizeof(sub), "%s/deep/proj", d);
		r.spec = sub;
		r.ref = "main";
		assert_int_equal(project_resolve(&r, &p, &e), 0);
		assert_int_equal(p.cloned, 1);
		assert_string_equal(p.compose, "srcs/docker-compose.yml");
		assert_true(strncmp(p.dir, cache, strlen(cache)) == 0);
		assert_non_null(strstr(p.dir, "/deep/proj"));
		free(two);
		two = git_out(d, "rev-parse HEAD");
		assert_string_equal(p.commit, two);
	}

	/* a URL that is no repository: git's own message */
	r.spec = "file:///nonexistent/repo";
	r.ref = NULL;
	assert_int_equal(project_resolve(&r, &p, &e), -1);
	assert_non_null(strstr(e.msg, "cloning file:///nonexistent/repo: git exited with status"));

	/* a repository that is no project, at a ref */
	sh("cd '%s' && git rm -q Makefile && " GIT " commit -qm three", d);
	r.spec = url;
	r.ref = "main";
	assert_int_equal(project_resolve(&r, &p, &e), -1);
	assert_int_equal(e.code, EXIT_USAGE);
	snprintf(want, sizeof(want), "%s at main is not an Inception project: no Makefile", url);
	assert_string_equal(e.msg, want);

	free(one);
	free(two);
	sh("rm -rf '%s' '%s'", d, cache);
}

/* --- files ------------------------------------------------------------------- */

static int has(const struct project_files *f, const char *path)
{
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->paths[i], path) == 0)
			return 1;
	return 0;
}

static void test_files(void **state)
{
	char d[64], exp[80];
	struct project p;
	struct project_files f;
	struct err e = {.msg = ""};
	char *one, *text;

	(void)state;
	tmpdir(d, sizeof(d));
	snprintf(exp, sizeof(exp), "%s-export", d);
	one = repo_of_a(d);
	put(d, "secrets/db_password.txt", "pw\n");
	put(d, "srcs/.env", "LOGIN=edited\n");
	put(d, "srcs/requirements/web/.git", "gitdir: elsewhere\n");
	at_dir(d, &p);
	assert_int_equal(p.dirty, 1);

	/* the working tree: everything but .git, sorted */
	assert_int_equal(project_files(&p, 0, NULL, NULL, &f, &e), 0);
	assert_string_equal(f.root, p.dir);
	assert_true(has(&f, "secrets/db_password.txt"));
	assert_true(has(&f, ".gitignore"));
	assert_true(has(&f, "srcs/.env"));
	assert_false(has(&f, "srcs/requirements/web/.git"));
	for (size_t i = 0; i < f.n; i++)
		assert_null(strstr(f.paths[i], ".git/"));
	assert_string_equal(f.paths[0], ".gitignore");
	assert_int_equal(f.n, 12);
	project_files_free(&f);

	/* committed: git's tree; dirty, so exported with the committed .env */
	assert_int_equal(project_files(&p, 1, exp, NULL, &f, &e), 0);
	assert_int_equal(f.n, 11);
	assert_false(has(&f, "secrets/db_password.txt"));
	assert_true(has(&f, "srcs/.env"));
	assert_string_equal(f.root, exp);
	text = slurp(exp, "srcs/.env");
	assert_non_null(strstr(text, "LOGIN=jdoe\n"));
	free(text);
	project_files_free(&f);
	/* without a directory to export to */
	assert_int_equal(project_files(&p, 1, NULL, NULL, &f, &e), -1);
	assert_non_null(strstr(e.msg, "has uncommitted changes and no export directory was given"));
	/* clean: read in place */
	sh("cd '%s' && git checkout -q -- srcs/.env", d);
	at_dir(d, &p);
	assert_int_equal(project_files(&p, 1, exp, NULL, &f, &e), 0);
	assert_string_equal(f.root, p.dir);
	assert_int_equal(f.n, 11);
	project_files_free(&f);

	/* a project in a subdirectory of a repository: its own files only */
	sh("mkdir -p '%s/sub' && cp -r " FIX
	   "b-envfile/. '%s/sub/' && cd '%s' && git add -A && " GIT " commit -qm sub",
	   d, d, d);
	at_dir(strcat(strcpy(exp, d), "/sub"), &p);
	assert_int_equal(project_files(&p, 1, NULL, NULL, &f, &e), 0);
	assert_true(has(&f, "srcs/requirements/wordpress/Dockerfile.wp"));
	assert_false(has(&f, "srcs/compose.yaml"));
	project_files_free(&f);
	/* dirty: the export holds the subdirectory's committed files only */
	put(exp, "Makefile", "changed:\n");
	at_dir(exp, &p);
	assert_int_equal(p.dirty, 1);
	{
		char exp2[PATH_MAX];
		snprintf(exp2, sizeof(exp2), "%s-export", d);
		assert_int_equal(project_files(&p, 1, exp2, NULL, &f, &e), 0);
		assert_string_equal(f.root, exp2);
		text = slurp(exp2, "Makefile");
		assert_non_null(strstr(text, "mmartin"));
		free(text);
		text = slurp(exp2, "srcs/requirements/wordpress/Dockerfile.wp");
		free(text);
		strcat(exp2, "/srcs/compose.yaml");
		assert_int_not_equal(access(exp2, F_OK), 0);
	}
	project_files_free(&f);

	/* --committed outside git */
	at_dir(FIX "c-alpine", &p);
	p.commit[0] = '\0';
	assert_int_equal(project_files(&p, 1, NULL, NULL, &f, &e), -1);
	assert_int_equal(e.code, EXIT_USAGE);
	assert_non_null(strstr(e.msg, "is not in a git repository: --committed needs one"));
	free(one);
	sh("rm -rf '%s' '%s-export'", d, d);
}

/* --- inputs -------------------------------------------------------------------- */

static void test_inputs_fixtures(void **state)
{
	struct project p;
	char *t;

	(void)state;
	fixture("a-secrets", &p);
	t = inputs_text(&p);
	assert_string_equal(
	    t, "present srcs/.env (variables of srcs/compose.yaml)\n"
	       "missing secrets/db_password.txt (secret db_password, srcs/compose.yaml:71)\n"
	       "missing secrets/db_root_password.txt (secret db_root_password, "
	       "srcs/compose.yaml:73)\n");
	free(t);
	fixture("b-envfile", &p);
	t = inputs_text(&p);
	assert_string_equal(t, "missing srcs/.env (--env-file, Makefile:13)\n");
	free(t);
	fixture("c-alpine", &p);
	t = inputs_text(&p);
	assert_string_equal(
	    t, "present srcs/.env (env_file of wordpress, srcs/docker-compose.yml:14)\n");
	free(t);
}

static void test_inputs_forms(void **state)
{
	char d[64], want[256];
	struct project p;
	struct project_inputs in;
	struct err e = {.msg = ""};
	char *t;

	(void)state;
	tmpdir(d, sizeof(d));
	mini(d, "services:\n"
	        "  a:\n"
	        "    image: x\n"
	        "    env_file:\n"
	        "      - ./a.env\n"
	        "      - path: ../conf/opt.env\n"
	        "        required: false\n"
	        "  b:\n"
	        "    image: y\n"
	        "    env_file: ${CONF:-conf}/b.env\n"
	        "secrets:\n"
	        "  s1:\n"
	        "    file: ${SECRETS_DIR:-../secrets}/s1.txt\n"
	        "  s2:\n"
	        "    file: /etc/inception/s2\n"
	        "  s3:\n"
	        "    file: ../../up.txt\n"
	        "  s4:\n"
	        "    environment: S4\n");
	put(d, "Makefile",
	    "ENV_FILE := srcs/prod.env\n"
	    "# --env-file commented.env\n"
	    "all:\n"
	    "\tdocker compose --env-file=$(ENV_FILE) -f srcs/docker-compose.yml up -d\n");
	put(d, "srcs/prod.env", "CONF=settings\n");
	put(d, "srcs/settings/b.env", "X=1\n");
	at_dir(d, &p);
	t = inputs_text(&p);
	assert_string_equal(
	    t, "present srcs/prod.env (--env-file, Makefile:4)\n"
	       "missing srcs/a.env (env_file of a, srcs/docker-compose.yml:5)\n"
	       "missing conf/opt.env (env_file of a, srcs/docker-compose.yml:6, optional)\n"
	       "present srcs/settings/b.env (env_file of b, srcs/docker-compose.yml:10)\n"
	       "missing secrets/s1.txt (secret s1, srcs/docker-compose.yml:13)\n"
	       "missing /etc/inception/s2 (secret s2, srcs/docker-compose.yml:15, outside the "
	       "project)\n"
	       "missing ../up.txt (secret s3, srcs/docker-compose.yml:17, outside the project)\n");
	free(t);

	/* a variable without a value in a path */
	mini(d, "services:\n  a:\n    image: x\n    env_file: ${NOPE}/a.env\n");
	sh("rm -f '%s/srcs/prod.env'", d);
	put(d, "Makefile", "all:\n\tdocker compose -f srcs/docker-compose.yml up\n");
	assert_int_equal(project_inputs(&p, &in, &e), -1);
	assert_int_equal(e.code, EXIT_USAGE);
	assert_string_equal(e.msg, "srcs/docker-compose.yml:4: \"${NOPE}/a.env\" uses a variable "
	                           "that has no value");
	/* bad YAML */
	mini(d, "services:\n  a: [\n");
	assert_int_equal(project_inputs(&p, &in, &e), -1);
	snprintf(want, sizeof(want),
	         "srcs/docker-compose.yml:3:1: did not find expected node content");
	assert_string_equal(e.msg, want);
	/* no variables, no --env-file: no .env needed; $$ is no variable */
	mini(d, "services:\n  a:\n    image: x\n    command: echo $$HOME\n");
	t = inputs_text(&p);
	assert_string_equal(t, "");
	free(t);
	sh("rm -rf '%s'", d);
}

/* --- generating -------------------------------------------------------------------- */

static int is_password(const char *s, size_t len)
{
	if (strlen(s) != len)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9')))
			return 0;
	return 1;
}

static mode_t mode_of(const char *dir, const char *rel)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	assert_int_equal(stat(path, &st), 0);
	return st.st_mode & 07777;
}

/* Line NAME=... of text; the value is copied into val. */
static int env_line(const char *text, const char *name, char *val, size_t n)
{
	size_t nl = strlen(name);
	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (strncmp(l, name, nl) == 0 && l[nl] == '=') {
			snprintf(val, n, "%.*s", (int)strcspn(l + nl + 1, "\n"), l + nl + 1);
			return 1;
		}
	return 0;
}

static void test_generate_secrets(void **state)
{
	char out[64], want[PATH_MAX + 64];
	struct project p;
	struct project_inputs in;
	struct project_gen g = {"jdoe", NULL};
	struct err e = {.msg = ""};
	char **made;
	size_t n;
	char *a, *b;

	(void)state;
	tmpdir(out, sizeof(out));
	fixture("a-secrets", &p);
	assert_int_equal(project_inputs(&p, &in, &e), 0);
	assert_int_equal(project_generate_missing(&p, &in, &g, out, &made, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_string_equal(made[0], "secrets/db_password.txt");
	assert_string_equal(made[1], "secrets/db_root_password.txt");
	project_strv_free(made, n);
	a = slurp(out, "secrets/db_password.txt");
	b = slurp(out, "secrets/db_root_password.txt");
	assert_true(is_password(a, 24));
	assert_true(is_password(b, 24));
	assert_string_not_equal(a, b);
	assert_int_equal(mode_of(out, "secrets/db_password.txt"), 0600);
	assert_int_equal(mode_of(out, "secrets"), 0700);
	free(a);
	free(b);
	/* nothing in the project */
	assert_int_not_equal(access(FIX "a-secrets/secrets", F_OK), 0);
	/* never into the project */
	snprintf(want, sizeof(want), "%s/srcs is inside the project: generated files go elsewhere",
	         p.dir);
	{
		char inside[PATH_MAX + 8];
		snprintf(inside, sizeof(inside), "%s/srcs", p.dir);
		assert_int_equal(project_generate_missing(&p, &in, &g, inside, NULL, NULL, &e), -1);
		assert_string_equal(e.msg, want);
	}
	project_inputs_free(&in);
	sh("rm -rf '%s'", out);
}

static void test_generate_from_example(void **state)
{
	char out[64], v[128];
	struct project p;
	struct project_inputs in;
	struct project_gen g = {"mmartin", NULL};
	struct err e = {.msg = ""};
	char **made;
	size_t n;
	char *t;

	(void)state;
	tmpdir(out, sizeof(out));
	fixture("b-envfile", &p);
	assert_int_equal(project_inputs(&p, &in, &e), 0);
	assert_int_equal(project_generate_missing(&p, &in, &g, out, &made, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_string_equal(made[0], "srcs/.env");
	project_strv_free(made, n);
	project_inputs_free(&in);
	assert_int_equal(mode_of(out, "srcs/.env"), 0600);
	t = slurp(out, "srcs/.env");
	assert_true(strncmp(t,
	                    "# Generated by inception from srcs/.env.example.\n"
	                    "# Copy to srcs/.env and fill in.\n"
	                    "LOGIN=mmartin\n"
	                    "DOMAIN_NAME=mmartin.42.fr\n"
	                    "WP_URL=https://mmartin.42.fr\n"
	                    "\n"
	                    "MYSQL_DATABASE=wordpress\n"
	                    "MYSQL_USER=wpuser\n",
	                    strlen("# Generated by inception from srcs/.env.example.\n"
	                           "# Copy to srcs/.env and fill in.\n"
	                           "LOGIN=mmartin\n"
	                           "DOMAIN_NAME=mmartin.42.fr\n"
	                           "WP_URL=https://mmartin.42.fr\n"
	                           "\n"
	                           "MYSQL_DATABASE=wordpress\n"
	                           "MYSQL_USER=wpuser\n")) == 0);
	assert_true(env_line(t, "MYSQL_PASSWORD", v, sizeof(v)) && is_password(v, 24));
	assert_true(env_line(t, "MYSQL_ROOT_PASSWORD", v, sizeof(v)) && is_password(v, 24));
	assert_true(env_line(t, "WP_ADMIN_PASSWORD", v, sizeof(v)) && is_password(v, 24));
	assert_true(env_line(t, "WP_ADMIN_USER", v, sizeof(v)));
	assert_string_equal(v, "mmartin");
	assert_null(strstr(t, "changeme"));
	assert_null(strstr(t, "<your_login>"));
	free(t);
	sh("rm -rf '%s'", out);
}

static void test_generate_from_variables(void **state)
{
	char d[64], out[64], v[128];
	struct project p;
	struct project_inputs in;
	struct project_gen g = {"jdoe", "example.test"};
	struct err e = {.msg = ""};
	char *t;

	(void)state;
	tmpdir(d, sizeof(d));
	tmpdir(out, sizeof(out));
	mini(d, "services:\n"
	        "  web:\n"
	        "    build:\n"
	        "      context: ./web\n"
	        "      args: [\"TAG=${DEBIAN_TAG}\"]\n"
	        "    ports: [\"${HTTPS_PORT:-443}:443\"]\n"
	        "    env_file: web.env\n"
	        "    environment:\n"
	        "      DOMAIN_NAME: ${DOMAIN_NAME}\n"
	        "      SITE: $SITE_URL\n"
	        "      HOME_DIR: $$HOME\n");
	put(d, "srcs/web/Dockerfile",
	    "ARG TAG=bookworm\n"
	    "FROM debian:${TAG}\n"
	    "ARG WP_ADMIN_USER\n"
	    "ARG API_KEY\n"
	    "ARG DEBIAN_FRONTEND=noninteractive\n"
	    "ENV WEB_ROOT=/var/www\n"
	    "RUN echo $WEB_ROOT $PATH ${ADMIN_EMAIL} $WP_ADMIN_USER\n");
	at_dir(d, &p);
	assert_int_equal(project_inputs(&p, &in, &e), 0);
	assert_int_equal(in.n, 2);
	assert_int_equal(project_generate_missing(&p, &in, &g, out, NULL, NULL, &e), 0);
	project_inputs_free(&in);
	t = slurp(out, "srcs/.env");
	assert_true(env_line(t, "API_KEY", v, sizeof(v)) && is_password(v, 24));
	{
		/* the same text with the password masked */
		char *k = strstr(t, "API_KEY=") + 8;
		memset(k, '*', 24);
	}
	assert_string_equal(t,
	                    "# Generated by inception from the variables the compose file and the\n"
	                    "# Dockerfiles use (the project has no .env.example).\n"
	                    "DEBIAN_TAG=debian-tag\n"
	                    "DOMAIN_NAME=example.test\n"
	                    "SITE_URL=https://example.test\n"
	                    "WP_ADMIN_USER=jdoe\n"
	                    "API_KEY=************************\n"
	                    "ADMIN_EMAIL=admin-email@example.test\n");
	free(t);
	/* the env_file gets the same, made separately (other passwords) */
	t = slurp(out, "srcs/web.env");
	assert_non_null(strstr(t, "WP_ADMIN_USER=jdoe\n"));
	free(t);
	sh("rm -rf '%s' '%s'", d, out);
}

static void test_env_values(void **state)
{
	struct project_gen g = {"jdoe", NULL}, ga = {"badmin", "site.test"};
	unsigned users = 0;
	char *v;

	(void)state;
#define VAL(name, ex, gen, want)                                                                   \
	do {                                                                                       \
		v = project_env_value(name, ex, gen, &users);                                      \
		assert_non_null(v);                                                                \
		assert_string_equal(v, want);                                                      \
		free(v);                                                                           \
	} while (0)
	VAL("LOGIN", "<your_login>", &g, "jdoe");
	VAL("login", "", &g, "jdoe");
	VAL("DOMAIN_NAME", "__LOGIN__.42.fr", &g, "jdoe.42.fr");
	VAL("DOMAIN_NAME", "x", &ga, "site.test");
	VAL("WP_URL", "", &g, "https://jdoe.42.fr");
	VAL("WP_ADMIN_EMAIL", "__LOGIN__@student.42.fr", &g, "jdoe@student.42.fr");
	VAL("WP_TITLE", "Inception", &g, "Inception");
	VAL("WP_TITLE", "changeme", &g, "wp-title");
	VAL("WP_USER_EMAIL", "", &g, "wp-user-email@jdoe.42.fr");
	VAL("WP_ADMIN_USER", "__ADMIN__", &g, "jdoe");
	VAL("WP_USER", "<user>", &g, "jdoe2");
	VAL("WP_ADMIN_USER", "", &ga, "owner42");
	VAL("MYSQL_DATABASE", "", &g, "wordpress");
	v = project_env_value("DB_ROOT_PASSWORD", "hunter2", &g, &users);
	assert_true(is_password(v, 24));
	free(v);
	v = project_env_value("secret_key", "", &g, &users);
	assert_true(is_password(v, 24));
	free(v);
#undef VAL
}

/* --- base images ----------------------------------------------------------------- */

static void test_bases_fixtures(void **state)
{
	struct project p;
	struct project_base *v;
	size_t n;
	struct err e = {.msg = ""};
	char *t;

	(void)state;
	fixture("a-secrets", &p);
	t = bases_text(&p);
	assert_string_equal(t, "srcs/requirements/db/Dockerfile:1 debian:bookworm (db)\n"
	                       "srcs/requirements/php/Dockerfile:1 debian:bookworm (php)\n"
	                       "srcs/requirements/web/Dockerfile:1 debian:bookworm (web)\n");
	free(t);
	/* ARG default bullseye, but the compose build arg says bookworm */
	fixture("b-envfile", &p);
	t = bases_text(&p);
	assert_string_equal(
	    t, "srcs/requirements/mariadb/Dockerfile:2 debian:bookworm (mariadb)\n"
	       "srcs/requirements/wordpress/Dockerfile.wp:2 debian:bookworm (wordpress)\n"
	       "srcs/requirements/nginx/Dockerfile:2 debian:trixie (nginx)\n"
	       "srcs/requirements/nginx/Dockerfile:10 debian:trixie (nginx)\n");
	free(t);
	assert_int_equal(project_bases(&p, &v, &n, &e), 0);
	assert_int_equal(project_bases_check(v, n, NULL, NULL, &e), 0);
	project_bases_free(v, n);

	fixture("c-alpine", &p);
	assert_int_equal(project_bases(&p, &v, &n, &e), 0);
	assert_int_equal(n, 3);
	assert_int_equal(project_bases_check(v, n, NULL, NULL, &e), -1);
	assert_string_equal(
	    e.msg,
	    "srcs/requirements/nginx/Dockerfile:1: alpine:3.20: no local copy and no registry "
	    "reachable; only debian:bookworm and debian:trixie can be built from the Debian "
	    "mirror; also srcs/requirements/wordpress/Dockerfile:1 (alpine:3.20), "
	    "srcs/requirements/mariadb/Dockerfile:1 (alpine:3.20)");
	project_bases_free(v, n);
}

static int have_alpine(const char *image, void *ctx)
{
	(*(int *)ctx)++;
	return strcmp(image, "alpine:3.20") == 0;
}

static void test_bases_forms(void **state)
{
	char d[64];
	struct project p;
	struct project_base *v;
	size_t n;
	struct err e = {.msg = ""};
	int asked = 0;
	char *t;

	(void)state;
	tmpdir(d, sizeof(d));
	mini(d, "services:\n"
	        "  app:\n"
	        "    build:\n"
	        "      context: app\n"
	        "      dockerfile: build/App.Dockerfile\n"
	        "      args:\n"
	        "        GO: \"1.22\"\n"
	        "  cache:\n"
	        "    image: redis:${REDIS_TAG:-7}\n"
	        "  plain:\n"
	        "    build: ./plain\n"
	        "    image: plain:mine\n"
	        "  inline:\n"
	        "    build:\n"
	        "      dockerfile_inline: |\n"
	        "        FROM debian:trixie-slim\n");
	put(d, "srcs/app/build/App.Dockerfile",
	    "# syntax=docker/dockerfile:1\n"
	    "ARG GO=1.21\n"
	    "ARG BASE=debian\n"
	    "ARG SUITE\n"
	    "from --platform=$BUILDPLATFORM golang:${GO} AS Build\n"
	    "RUN go build \\\n"
	    "# a comment inside a continuation\n"
	    "    -o /app .\n"
	    "FROM build AS test\n"
	    "FROM ${BASE}:${SUITE:-bookworm}\n"
	    "COPY --from=build /app /app\n"
	    "COPY --from=0 /app /app2\n"
	    "COPY --chown=1:1 --from=nginx:1.27 /etc/nginx /etc/nginx\n"
	    "FROM scratch\n");
	put(d, "srcs/plain/Dockerfile", "\n\n   FROM   debian:13\n");
	at_dir(d, &p);
	t = bases_text(&p);
	assert_string_equal(t, "srcs/app/build/App.Dockerfile:5 golang:1.22 (app)\n"
	                       "srcs/app/build/App.Dockerfile:10 debian:bookworm (app)\n"
	                       "srcs/app/build/App.Dockerfile:13 nginx:1.27 (app)\n"
	                       "srcs/docker-compose.yml:9 redis:7 (cache)\n"
	                       "srcs/plain/Dockerfile:3 debian:13 (plain)\n"
	                       "srcs/docker-compose.yml:16 debian:trixie-slim (inline)\n");
	free(t);
	assert_int_equal(project_bases(&p, &v, &n, &e), 0);
	assert_int_equal(project_bases_check(v, n, have_alpine, &asked, &e), -1);
	assert_string_equal(e.msg,
	                    "srcs/app/build/App.Dockerfile:5: golang:1.22: no local copy and "
	                    "no registry reachable; only debian:bookworm and debian:trixie "
	                    "can be built from the Debian mirror; also "
	                    "srcs/app/build/App.Dockerfile:13 (nginx:1.27), "
	                    "srcs/docker-compose.yml:9 (redis:7)");
	/* buildable ones are never asked about */
	assert_int_equal(asked, 3);
	project_bases_free(v, n);

	/* an ARG without a value in FROM; a missing Dockerfile */
	put(d, "srcs/plain/Dockerfile", "ARG SUITE\nFROM debian:$SUITE\n");
	assert_int_equal(project_bases(&p, &v, &n, &e), -1);
	assert_int_equal(e.code, EXIT_USAGE);
	assert_string_equal(e.msg, "srcs/plain/Dockerfile:2: FROM debian:$SUITE: a variable has no "
	                           "value (an ARG before FROM needs a default or a build arg)");
	sh("rm '%s/srcs/plain/Dockerfile'", d);
	assert_int_equal(project_bases(&p, &v, &n, &e), -1);
	assert_string_equal(e.msg,
	                    "srcs/docker-compose.yml:11: services.plain.build: no Dockerfile "
	                    "at srcs/plain/Dockerfile");
	sh("rm -rf '%s'", d);
}

static void test_buildable(void **state)
{
	(void)state;
	assert_true(project_image_buildable("debian:bookworm"));
	assert_true(project_image_buildable("debian:trixie"));
	assert_true(project_image_buildable("docker.io/library/debian:12"));
	assert_true(project_image_buildable("debian:trixie-slim"));
	assert_false(project_image_buildable("debian:bullseye"));
	assert_false(project_image_buildable("debian"));
	assert_false(project_image_buildable("alpine:3.20"));
	assert_false(project_image_buildable("mydebian:bookworm"));
}

/* What the agent is told: services in compose order, bind directories
 * (short and long syntax, named volumes bound with driver_opts, variables
 * from the dotenv, generated or the project's), DOMAIN_NAME. */
static void test_compose_info(void **state)
{
	char d[64], gen[PATH_MAX];
	struct project p;
	struct project_inputs in;
	struct project_info info;
	struct err e = {.msg = ""};

	(void)state;
	fixture("a-secrets", &p);
	assert_int_equal(project_inputs(&p, &in, &e), 0);
	assert_int_equal(project_compose_info(&p, &in, NULL, &info, &e), 0);
	assert_string_equal(info.services, "db,php,web");
	assert_string_equal(info.data_dirs, "/home/jdoe/data/mariadb:/home/jdoe/data/wordpress");
	assert_string_equal(info.domain, "jdoe.42.fr");
	project_info_free(&info);
	project_inputs_free(&in);

	/* b: DATA_DIR comes from its Makefile's environment: no bind dir known;
	 * the domain from the env file generated outside the project */
	tmpdir(d, sizeof(d));
	snprintf(gen, sizeof(gen), "%s/gen", d);
	put(gen, "srcs/.env", "DOMAIN_NAME=other.42.fr\nDATA_DIR=/srv/x\n");
	fixture("b-envfile", &p);
	assert_int_equal(project_inputs(&p, &in, &e), 0);
	assert_int_equal(project_compose_info(&p, &in, gen, &info, &e), 0);
	assert_string_equal(info.services, "mariadb,wordpress,nginx");
	assert_string_equal(info.data_dirs, "/srv/x/mariadb:/srv/x/wordpress");
	assert_string_equal(info.domain, "other.42.fr");
	project_info_free(&info);
	project_inputs_free(&in);

	/* short and long bind syntax, ${VAR} in the source, a relative bind
	 * (left to the project) and no domain */
	mini(d, "services:\n"
	        "  one:\n"
	        "    image: x\n"
	        "    volumes:\n"
	        "      - ${BASE:-/data}/one:/var/one:ro\n"
	        "      - ./rel:/rel\n"
	        "      - named:/n\n"
	        "  two:\n"
	        "    image: y\n"
	        "    volumes:\n"
	        "      - type: bind\n"
	        "        source: /abs/two\n"
	        "        target: /two\n"
	        "volumes:\n"
	        "  named:\n");
	at_dir(d, &p);
	assert_int_equal(project_inputs(&p, &in, &e), 0);
	assert_int_equal(project_compose_info(&p, &in, NULL, &info, &e), 0);
	assert_string_equal(info.services, "one,two");
	assert_string_equal(info.data_dirs, "/data/one:/abs/two");
	assert_null(info.domain);
	project_info_free(&info);
	project_inputs_free(&in);
	sh("rm -rf '%s'", d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_check_messages),
	    cmocka_unit_test(test_resolve_default),
	    cmocka_unit_test(test_resolve_git),
	    cmocka_unit_test(test_files),
	    cmocka_unit_test(test_inputs_fixtures),
	    cmocka_unit_test(test_inputs_forms),
	    cmocka_unit_test(test_generate_secrets),
	    cmocka_unit_test(test_generate_from_example),
	    cmocka_unit_test(test_generate_from_variables),
	    cmocka_unit_test(test_env_values),
	    cmocka_unit_test(test_bases_fixtures),
	    cmocka_unit_test(test_bases_forms),
	    cmocka_unit_test(test_buildable),
	    cmocka_unit_test(test_compose_info),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
