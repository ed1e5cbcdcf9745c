/*
 * project.c: choosing the project, listing what is pushed, finding what it
 * reads (env files, secrets) and which base images it builds from.
 *
 * How it works:
 *   - resolve: a URL (or a local repository with --ref) is fetched into
 *     CLONE_DIR/NAME-HASH with `git init` + `git fetch` (refs/heads, tags and
 *     the remote HEAD), then checked out detached and cleaned; the same clone
 *     is reused by the next `up`.  A plain directory reports `git rev-parse
 *     HEAD` and whether tracked files differ.
 *   - inputs: the compose file is loaded with libyaml; env_file entries and
 *     top-level secrets' file: paths are interpolated the way compose does
 *     (${VAR}, ${VAR:-default}, $VAR, $$) with the values of the project's
 *     .env, then made relative to the project.  The Makefile is searched
 *     for `--env-file X` (X's $(VARS) expanded from the Makefile's own
 *     assignments); without one, the compose file's directory's .env is an
 *     input when the compose file uses variables.
 *   - bases: each service's build context and Dockerfile; the Dockerfile is
 *     read as logical lines (continuations, comments), ARGs before the first
 *     FROM give FROM its values (the service's build args win), stage names
 *     and scratch are not bases.
 * Every subprocess is git (or tar), run with an argv array.
 */
#include "project.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <yaml.h>

#include "util.h"

#define FILE_MAX (4u << 20) /* compose files, Makefiles, Dockerfiles */

/* --- small helpers --------------------------------------------------------- */

/* A growable list of strings. */
struct sv {
	char **v;
	size_t n, cap;
};

static int sv_push(struct sv *s, const char *str)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		char **nv = realloc(s->v, cap * sizeof(*nv));
		if (nv == NULL)
			return -1;
		s->v = nv;
		s->cap = cap;
	}
	if ((s->v[s->n] = strdup(str)) == NULL)
		return -1;
	s->n++;
	return 0;
}

static int sv_has(const struct sv *s, const char *str)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i], str) == 0)
			return 1;
	return 0;
}

static int sv_add_unique(struct sv *s, const char *str)
{
	return sv_has(s, str) ? 0 : sv_push(s, str);
}

static void sv_free(struct sv *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

void project_strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

static int oom(struct err *e)
{
	return err_set(e, "out of memory");
}

static int is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Reads dir/rel (a project file); -1 with "REL: why" when it cannot. */
static int read_rel(const char *dir, const char *rel, char **text, struct err *e)
{
	char path[PATH_MAX];
	size_t len;

	if (rel[0] == '/')
		snprintf(path, sizeof(path), "%s", rel);
	else if (path_join(path, sizeof(path), e, "%s/%s", dir, rel) < 0)
		return -1;
	if (read_file_max(path, text, &len, FILE_MAX, e) < 0)
		return err_setc(e, EXIT_USAGE, "%s: cannot read: %s", rel,
		                errno ? strerror(errno) : "too large");
	return 0;
}

/*
 * Joins base (relative to the project, "" = top) and p, resolving "." and
 * ".." lexically.  An absolute p, or one that climbs out of the project,
 * sets *outside (the result keeps its leading "../" parts).
 */
static char *norm_path(const char *base, const char *p, int *outside)
{
	char *joined, *out, *tok, *save = NULL;
	char **parts;
	size_t n = 0, ups = 0, len;

	*outside = 0;
	if (p[0] == '/') {
		*outside = 1;
		return strdup(p);
	}
	joined = xasprintf("%s%s%s", base, base[0] ? "/" : "", p);
	if (joined == NULL)
		return NULL;
	len = strlen(joined);
	parts = calloc(len / 2 + 2, sizeof(*parts));
	out = malloc(len + 2);
	if (parts == NULL || out == NULL) {
		free(parts);
		free(out);
		free(joined);
		return NULL;
	}
	for (tok = strtok_r(joined, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
		if (strcmp(tok, ".") == 0)
			continue;
		if (strcmp(tok, "..") == 0) {
			if (n > 0)
				n--;
			else
				ups++;
			continue;
		}
		parts[n++] = tok;
	}
	out[0] = '\0';
	for (size_t i = 0; i < ups; i++)
		strcat(out, i ? "/.." : "..");
	for (size_t i = 0; i < n; i++) {
		if (out[0])
			strcat(out, "/");
		strcat(out, parts[i]);
	}
	if (ups)
		*outside = 1;
	if (out[0] == '\0')
		strcpy(out, ".");
	free(parts);
	free(joined);
	return out;
}

/* The directory part of a relative path ("srcs/compose.yaml" -> "srcs"). */
static char *dir_of(const char *rel)
{
	const char *slash = strrchr(rel, '/');
	return slash ? strndup(rel, (size_t)(slash - rel)) : strdup("");
}

/* --- git ------------------------------------------------------------------- */

/* Appends the log's last non-empty line (git's own message) to e. */
static int with_log_tail(const char *log_path, struct err *e)
{
	char *text = NULL, *end, *start;
	size_t len;
	struct err ignore = {.msg = ""};

	if (log_path == NULL || read_file_max(log_path, &text, &len, FILE_MAX, &ignore) < 0)
		return -1;
	end = text + len;
	while (end > text && isspace((unsigned char)end[-1]))
		end--;
	*end = '\0';
	start = strrchr(text, '\n');
	start = start ? start + 1 : text;
	if (*start && strlen(e->msg) + strlen(start) + 3 < sizeof(e->msg)) {
		strcat(e->msg, ": ");
		strcat(e->msg, start);
	}
	free(text);
	return -1;
}

/* git -C DIR ARGS... (NULL-terminated); output captured when out != NULL. */
static int git(const char *dir, const char *log_path, char **out, struct err *e, ...)
{
	char *argv[24];
	size_t n = 0;
	va_list ap;
	const char *a;

	argv[n++] = "git";
	argv[n++] = "-C";
	argv[n++] = (char *)dir;
	va_start(ap, e);
	while ((a = va_arg(ap, const char *)) != NULL && n < 23)
		argv[n++] = (char *)a;
	va_end(ap);
	argv[n] = NULL;
	/* no credential prompt on a terminal the user does not see */
	setenv("GIT_TERMINAL_PROMPT", "0", 1);
	if (out)
		return run_argv_capture(argv, log_path, out, e);
	return run_argv(argv, log_path, e);
}

/* The commit a revision names in dir, into sha[41]; -1 if none. */
static int git_commit(const char *dir, const char *rev, char sha[41])
{
	struct err ignore = {.msg = ""};
	char *out = NULL, *spec = xasprintf("%s^{commit}", rev);
	int ok;

	if (spec == NULL)
		return -1;
	ok =
	    git(dir, NULL, &out, &ignore, "rev-parse", "-q", "--verify", spec, (char *)NULL) == 0 &&
	    strlen(out) >= 40;
	if (ok) {
		memcpy(sha, out, 40);
		sha[40] = '\0';
	}
	free(out);
	free(spec);
	return ok ? 0 : -1;
}

static int git_is_bare(const char *dir)
{
	struct err ignore = {.msg = ""};
	char *out = NULL;
	int bare =
	    git(dir, NULL, &out, &ignore, "rev-parse", "--is-bare-repository", (char *)NULL) == 0 &&
	    strncmp(out, "true", 4) == 0;
	free(out);
	return bare;
}

static int is_url(const char *s)
{
	const char *colon = strchr(s, ':');
	const char *slash = strchr(s, '/');

	if (strstr(s, "://") != NULL)
		return 1;
	/* scp-like user@host:path (a colon before any slash, not C:\) */
	return colon != NULL && (slash == NULL || colon < slash) && colon - s > 1 &&
	       strchr(s, '@') != NULL && strchr(s, '@') < colon;
}

/* CLONE_DIR/NAME-HASH: a readable name plus 12 hex digits of SHA-256(url). */
static int clone_path(const char *clone_dir, const char *url, char *out, size_t n, struct err *e)
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	char hex[65], name[48];
	const char *base;
	size_t len, j = 0;

	if (!EVP_Digest(url, strlen(url), md, &mdlen, EVP_sha256(), NULL))
		return err_set(e, "sha256 failed");
	hex_encode(md, 6, hex);
	len = strlen(url);
	while (len > 0 && (url[len - 1] == '/'))
		len--;
	base = url + len;
	while (base > url && base[-1] != '/' && base[-1] != ':')
		base--;
	for (const char *c = base; c < url + len && j < sizeof(name) - 1; c++)
		name[j++] = isalnum((unsigned char)*c) || *c == '-' || *c == '_' ? *c : '_';
	name[j] = '\0';
	if (j > 4 && strcmp(name + j - 4, "_git") == 0)
		name[j - 4] = '\0';
	return path_join(out, n, e, "%s/%s-%s", clone_dir, name[0] ? name : "project", hex);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *f);

/* Fetches url into the clone dir and checks out ref (or the remote HEAD);
 * the project is the clone's subdirectory prefix ("" = its top).  A clone
 * made now whose fetch fails is removed again. */
static int clone_project(const struct project_req *r, const char *url, const char *prefix,
                         struct project *p, struct err *e)
{
	char dest[PATH_MAX], gitdir[PATH_MAX], sha[41];
	const char *log = r->log_path;

	if (r->clone_dir == NULL)
		return err_set(e, "%s: no directory to clone into", url);
	if (mkdir_p(r->clone_dir, 0700, e) < 0 ||
	    clone_path(r->clone_dir, url, dest, sizeof(dest), e) < 0 ||
	    path_join(gitdir, sizeof(gitdir), e, "%s/.git", dest) < 0)
		return -1;
	int fresh = !is_dir(gitdir);

	if (fresh) {
		char *argv[] = {"git", "init", "-q", dest, NULL};
		if (run_argv(argv, log, e) < 0)
			return err_wrap(e, "cloning %s", url);
	}
	if (git(dest, log, NULL, e, "config", "remote.origin.url", url, (char *)NULL) < 0)
		return err_wrap(e, "cloning %s", url);
	if (git(dest, log, NULL, e, "fetch", "-q", "--force", "--prune", "--tags", "origin",
	        "+refs/heads/*:refs/remotes/origin/*", "+HEAD:refs/inception/head",
	        (char *)NULL) < 0) {
		if (fresh)
			nftw(dest, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
		err_wrap(e, "cloning %s", url);
		return with_log_tail(log, e);
	}
	if (r->ref && r->ref[0] && strcmp(r->ref, "HEAD") != 0) {
		char *branch = xasprintf("refs/remotes/origin/%s", r->ref);
		char *tag = xasprintf("refs/tags/%s", r->ref);
		int found = branch && tag &&
		            (git_commit(dest, branch, sha) == 0 ||
		             git_commit(dest, tag, sha) == 0 || git_commit(dest, r->ref, sha) == 0);
		free(branch);
		free(tag);
		if (!found)
			return err_setc(e, EXIT_USAGE,
			                "--ref %s: no such branch, tag or commit in %s", r->ref,
			                url);
	} else if (git_commit(dest, "refs/inception/head", sha) < 0) {
		return err_setc(e, EXIT_USAGE, "%s: the repository has no HEAD commit", url);
	}
	if (git(dest, log, NULL, e, "-c", "advice.detachedHead=false", "checkout", "-q", "--force",
	        "--detach", sha, (char *)NULL) < 0 ||
	    git(dest, log, NULL, e, "clean", "-q", "-ffdx", (char *)NULL) < 0)
		return err_wrap(e, "checking out %s in %s", sha, dest);
	if (path_join(p->dir, sizeof(p->dir), e, "%s%s%s", dest, prefix[0] ? "/" : "", prefix) < 0)
		return -1;
	memcpy(p->commit, sha, sizeof(p->commit));
	p->cloned = 1;
	p->dirty = 0;
	return 0;
}

/* HEAD and dirtiness of a work tree (nothing when dir is not in git). */
static void work_tree_state(struct project *p)
{
	struct err ignore = {.msg = ""};
	char *out = NULL;

	if (git_commit(p->dir, "HEAD", p->commit) < 0) {
		p->commit[0] = '\0';
		return;
	}
	if (git(p->dir, NULL, &out, &ignore, "status", "--porcelain", "--untracked-files=no", "--",
	        ".", (char *)NULL) == 0)
		p->dirty = out[0] != '\0';
	free(out);
}

/* --- resolve --------------------------------------------------------------- */

static const char *const compose_names[] = {
    "srcs/docker-compose.yml",
    "srcs/docker-compose.yaml",
    "srcs/compose.yaml",
    "srcs/compose.yml",
    NULL,
};

/* project_check, naming the directory label in its messages. */
static int check_as(const char *dir, const char *label, char *compose, size_t n, struct err *e)
{
	static const char *const makefiles[] = {"Makefile", "makefile", "GNUmakefile", NULL};
	char path[PATH_MAX];
	int have_make = 0;
	const char *found = NULL;

	if (!is_dir(dir))
		return err_setc(e, EXIT_USAGE, "%s: no such directory", label);
	for (size_t i = 0; makefiles[i] && !have_make; i++)
		have_make = path_join(path, sizeof(path), NULL, "%s/%s", dir, makefiles[i]) == 0 &&
		            is_file(path);
	for (size_t i = 0; compose_names[i] && !found; i++)
		if (path_join(path, sizeof(path), NULL, "%s/%s", dir, compose_names[i]) == 0 &&
		    is_file(path))
			found = compose_names[i];
	if (!have_make || !found)
		return err_setc(e, EXIT_USAGE, "%s is not an Inception project: no %s%s%s", label,
		                have_make ? "" : "Makefile", !have_make && !found ? " and no " : "",
		                found ? "" : "srcs/docker-compose.yml (or srcs/compose.yaml)");
	snprintf(compose, n, "%s", found);
	return 0;
}

int project_check(const char *dir, char *compose, size_t n, struct err *e)
{
	return check_as(dir, dir, compose, n, e);
}

/* Clones url, then checks the checkout is a project, named as the user did. */
static int clone_checked(const struct project_req *r, const char *url, const char *prefix,
                         const char *spec, struct project *p, struct err *e)
{
	char label[PATH_MAX + 64];

	if (clone_project(r, url, prefix, p, e) < 0)
		return -1;
	snprintf(label, sizeof(label), "%s%s%s", spec, r->ref && r->ref[0] ? " at " : "",
	         r->ref && r->ref[0] ? r->ref : "");
	return check_as(p->dir, label, p->compose, sizeof(p->compose), e);
}

/* The order of the cases is the contract: URL, default (cwd, else the
 * bundled stack), bare repository, --ref (a clone), plain directory. */
int project_resolve(const struct project_req *r, struct project *p, struct err *e)
{
	char cwd[PATH_MAX], abs[PATH_MAX];
	const char *spec = r->spec && r->spec[0] ? r->spec : NULL;

	memset(p, 0, sizeof(*p));
	if (spec && is_url(spec)) {
		snprintf(p->source, sizeof(p->source), "%s", spec);
		return clone_checked(r, spec, "", spec, p, e);
	}
	if (spec == NULL) {
		if (r->cwd)
			snprintf(cwd, sizeof(cwd), "%s", r->cwd);
		else if (getcwd(cwd, sizeof(cwd)) == NULL)
			return err_set(e, "getcwd: %s", strerror(errno));
		if (project_check(cwd, p->compose, sizeof(p->compose), NULL) == 0) {
			spec = cwd;
		} else if (r->bundled_dir) {
			spec = r->bundled_dir;
			p->bundled = 1;
		} else {
			return project_check(cwd, p->compose, sizeof(p->compose), e);
		}
	} else {
		snprintf(p->source, sizeof(p->source), "%s", spec);
	}
	if (!is_dir(spec))
		return err_setc(e, EXIT_USAGE,
		                "%s: no such directory (PROJECT is a directory or a git URL)",
		                spec);
	if (realpath(spec, abs) == NULL)
		return err_setc(e, EXIT_USAGE, "%s: %s", spec, strerror(errno));
	/* a bare repository, or a work tree at another revision: clone it (the
	 * whole repository; the project may be one of its subdirectories) */
	if (git_is_bare(abs))
		return clone_checked(r, abs, "", spec, p, e);
	if (r->ref && r->ref[0]) {
		struct err ignore = {.msg = ""};
		char *top = NULL, *prefix = NULL;
		int ret;

		if (git(abs, NULL, &top, &ignore, "rev-parse", "--show-toplevel", (char *)NULL) <
		        0 ||
		    git(abs, NULL, &prefix, &ignore, "rev-parse", "--show-prefix", (char *)NULL) <
		        0) {
			free(top);
			free(prefix);
			return err_setc(e, EXIT_USAGE, "--ref %s: %s is not in a git repository",
			                r->ref, spec);
		}
		top[strcspn(top, "\n")] = '\0';
		prefix[strcspn(prefix, "\n")] = '\0';
		if (prefix[0] && prefix[strlen(prefix) - 1] == '/')
			prefix[strlen(prefix) - 1] = '\0';
		ret = clone_checked(r, top, prefix, spec, p, e);
		free(top);
		free(prefix);
		return ret;
	}
	snprintf(p->dir, sizeof(p->dir), "%s", abs);
	if (check_as(p->dir, spec, p->compose, sizeof(p->compose), e) < 0)
		return -1;
	work_tree_state(p);
	return 0;
}

/* --- files ----------------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file under top/rel, without .git, into s. */
static int walk(const char *top, const char *rel, struct sv *s, struct err *e)
{
	char path[PATH_MAX];
	DIR *d;
	struct dirent *de;
	int ret = 0;

	if (path_join(path, sizeof(path), e, "%s%s%s", top, rel[0] ? "/" : "", rel) < 0)
		return -1;
	if ((d = opendir(path)) == NULL)
		return err_set(e, "%s: %s", path, strerror(errno));
	while (ret == 0 && (de = readdir(d)) != NULL) {
		char child[PATH_MAX], full[PATH_MAX];
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		    strcmp(de->d_name, ".git") == 0)
			continue;
		if (path_join(child, sizeof(child), e, "%s%s%s", rel, rel[0] ? "/" : "",
		              de->d_name) < 0 ||
		    path_join(full, sizeof(full), e, "%s/%s", top, child) < 0) {
			ret = -1;
			break;
		}
		if (lstat(full, &st) < 0) {
			ret = err_set(e, "%s: %s", full, strerror(errno));
		} else if (S_ISDIR(st.st_mode)) {
			ret = walk(top, child, s, e);
		} else if (S_ISREG(st.st_mode)) {
			if (sv_push(s, child) < 0)
				ret = oom(e);
		}
	}
	closedir(d);
	return ret;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(path);
}

/* Regular files of git's tree at rev, as `ls-tree -r -z` lists them. */
static int tree_files(const char *dir, const char *rev, const char *log, struct sv *s,
                      struct err *e)
{
	char *out = NULL;

	if (git(dir, log, &out, e, "ls-tree", "-r", "-z", rev, (char *)NULL) < 0)
		return err_wrap(e, "listing the files of %s at %.12s", dir, rev);
	for (char *rec = out; *rec; rec += strlen(rec) + 1) {
		/* "MODE TYPE OID\tPATH": blobs only, no symlinks or submodules */
		char *tab = strchr(rec, '\t');
		if (tab == NULL)
			continue;
		if ((strncmp(rec, "100644 blob ", 12) == 0 ||
		     strncmp(rec, "100755 blob ", 12) == 0) &&
		    sv_push(s, tab + 1) < 0) {
			free(out);
			return oom(e);
		}
	}
	free(out);
	return 0;
}

/* Empties export_dir and extracts the project's tree at p->commit into it. */
static int export_tree(const struct project *p, const char *export_dir, const char *log,
                       struct err *e)
{
	char tar[PATH_MAX];
	size_t dl = strlen(p->dir);

	if (strncmp(export_dir, p->dir, dl) == 0 && (export_dir[dl] == '/' || !export_dir[dl]))
		return err_set(e, "%s: the export directory must not be inside the project",
		               export_dir);
	if (is_dir(export_dir) && nftw(export_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) < 0)
		return err_set(e, "emptying %s: %s", export_dir, strerror(errno));
	if (mkdir_p(export_dir, 0700, e) < 0 ||
	    path_join(tar, sizeof(tar), e, "%s.tar", export_dir) < 0)
		return -1;
	if (git(p->dir, log, NULL, e, "archive", "--format=tar", "-o", tar, p->commit,
	        (char *)NULL) < 0)
		return err_wrap(e, "exporting %.12s of %s", p->commit, p->dir);
	{
		char *argv[] = {"tar", "-xf", tar, "-C", (char *)export_dir, NULL};
		int rc = run_argv(argv, log, e);
		unlink(tar);
		if (rc < 0)
			return err_wrap(e, "extracting %.12s into %s", p->commit, export_dir);
	}
	return 0;
}

int project_files(const struct project *p, int committed, const char *export_dir,
                  const char *log_path, struct project_files *f, struct err *e)
{
	struct sv s = {0};

	memset(f, 0, sizeof(*f));
	snprintf(f->root, sizeof(f->root), "%s", p->dir);
	if (!committed) {
		if (walk(p->dir, "", &s, e) < 0)
			goto fail;
	} else {
		if (p->commit[0] == '\0') {
			err_setc(e, EXIT_USAGE,
			         "%s is not in a git repository: --committed needs one", p->dir);
			goto fail;
		}
		if (tree_files(p->dir, p->commit, log_path, &s, e) < 0)
			goto fail;
		if (p->dirty) {
			if (export_dir == NULL) {
				err_set(
				    e,
				    "%s has uncommitted changes and no export directory was given",
				    p->dir);
				goto fail;
			}
			if (export_tree(p, export_dir, log_path, e) < 0)
				goto fail;
			snprintf(f->root, sizeof(f->root), "%s", export_dir);
		}
	}
	if (s.n)
		qsort(s.v, s.n, sizeof(*s.v), cmp_str);
	f->paths = s.v;
	f->n = s.n;
	return 0;
fail:
	sv_free(&s);
	return -1;
}

void project_files_free(struct project_files *f)
{
	project_strv_free(f->paths, f->n);
	f->paths = NULL;
	f->n = 0;
}

/* --- variables: compose's interpolation and .env files --------------------- */

/* NAME=VALUE pairs (a .env file, build args). */
struct vars {
	struct sv k, v;
};

static const char *vars_get(const struct vars *vs, const char *name)
{
	for (size_t i = vs->k.n; i-- > 0;)
		if (strcmp(vs->k.v[i], name) == 0)
			return vs->v.v[i];
	return NULL;
}

static int vars_set(struct vars *vs, const char *name, const char *value)
{
	return sv_push(&vs->k, name) < 0 || sv_push(&vs->v, value) < 0 ? -1 : 0;
}

static void vars_free(struct vars *vs)
{
	sv_free(&vs->k);
	sv_free(&vs->v);
}

/* Parses KEY=VALUE lines (optional "export ", quotes, comments) as compose
 * reads a .env file. */
static int dotenv_parse(const char *text, struct vars *vs)
{
	const char *line = text;

	while (*line) {
		const char *end = strchr(line, '\n'), *eq, *k;
		char *key, *val;
		size_t klen, vlen;

		if (end == NULL)
			end = line + strlen(line);
		k = line;
		while (k < end && isspace((unsigned char)*k))
			k++;
		if (strncmp(k, "export ", 7) == 0)
			k += 7;
		eq = memchr(k, '=', (size_t)(end - k));
		if (*k != '#' && eq != NULL) {
			const char *v = eq + 1, *ve = end;
			klen = (size_t)(eq - k);
			while (klen > 0 && isspace((unsigned char)k[klen - 1]))
				klen--;
			while (ve > v && isspace((unsigned char)ve[-1]))
				ve--;
			while (v < ve && isspace((unsigned char)*v))
				v++;
			if (ve - v >= 2 && (*v == '"' || *v == '\'') && ve[-1] == *v) {
				v++;
				ve--;
			} else {
				/* an unquoted value ends at " #" */
				for (const char *c = v; c < ve; c++)
					if (*c == '#' && c > v && isspace((unsigned char)c[-1])) {
						ve = c;
						while (ve > v && isspace((unsigned char)ve[-1]))
							ve--;
						break;
					}
			}
			vlen = (size_t)(ve - v);
			key = strndup(k, klen);
			val = strndup(v, vlen);
			if (key == NULL || val == NULL || vars_set(vs, key, val) < 0) {
				free(key);
				free(val);
				return -1;
			}
			free(key);
			free(val);
		}
		line = *end ? end + 1 : end;
	}
	return 0;
}

static size_t name_len(const char *s)
{
	size_t n = 0;

	if (!(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return 0;
	while (isalnum((unsigned char)s[n]) || s[n] == '_')
		n++;
	return n;
}

/* Index of the '}' closing the "${" at s[-2..], or -1. */
static long brace_end(const char *s)
{
	int depth = 1;

	for (long i = 0; s[i]; i++) {
		if (s[i] == '$' && s[i + 1] == '{') {
			depth++;
			i++;
		} else if (s[i] == '}' && --depth == 0) {
			return i;
		}
	}
	return -1;
}

/*
 * Compose's interpolation of s with vs: ${N}, ${N:-d}, ${N-d}, ${N:+a},
 * ${N+a}, ${N:?m}, ${N?m}, $N and $$.  Names used without a default go to
 * names (may be NULL); *unresolved is set when such a name has no value.
 */
/* (One loop over the string: the six operators share its cursor and output.) */
static void interp_to(FILE *out, const char *s, const struct vars *vs, struct sv *names,
                      int *unresolved)
{
	if (s == NULL)
		return;
	while (*s) {
		size_t n;

		if (s[0] != '$') {
			fputc(*s++, out);
			continue;
		}
		if (s[1] == '$') {
			fputc('$', out);
			s += 2;
			continue;
		}
		if (s[1] == '{' && (n = name_len(s + 2)) > 0) {
			long close = brace_end(s + 2);
			char *name = strndup(s + 2, n), *rest;
			const char *val, *op;

			if (close < 0 || name == NULL) {
				free(name);
				fputs(s, out);
				return;
			}
			rest = strndup(s + 2 + n, (size_t)close - n);
			val = vars_get(vs, name);
			op = rest ? rest : "";
			/* a name with a default or an alternative needs no value */
			if (names && (op[0] == '\0' || op[0] == '?' || strncmp(op, ":?", 2) == 0))
				sv_add_unique(names, name);
			if (op[0] == '\0') {
				if (val)
					fputs(val, out);
				else
					*unresolved = 1;
			} else if (strncmp(op, ":-", 2) == 0 || op[0] == '-') {
				size_t skip = op[0] == ':' ? 2 : 1;
				int use_default = val == NULL || (skip == 2 && val[0] == '\0');
				if (use_default)
					interp_to(out, op + skip, vs, names, unresolved);
				else
					fputs(val, out);
			} else if (strncmp(op, ":+", 2) == 0 || op[0] == '+') {
				size_t skip = op[0] == ':' ? 2 : 1;
				int use_alt = val != NULL && (skip == 1 || val[0] != '\0');
				if (use_alt)
					interp_to(out, op + skip, vs, names, unresolved);
			} else if (strncmp(op, ":?", 2) == 0 || op[0] == '?') {
				if (val == NULL || (op[0] == ':' && val[0] == '\0'))
					*unresolved = 1;
				else
					fputs(val, out);
			}
			free(rest);
			free(name);
			s += 2 + close + 1;
			continue;
		}
		if ((n = name_len(s + 1)) > 0) {
			char *name = strndup(s + 1, n);
			const char *val = name ? vars_get(vs, name) : NULL;
			if (name && names)
				sv_add_unique(names, name);
			if (val)
				fputs(val, out);
			else
				*unresolved = 1;
			free(name);
			s += 1 + n;
			continue;
		}
		fputc(*s++, out);
	}
}

static char *interp(const char *s, const struct vars *vs, struct sv *names, int *unresolved)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	if (out == NULL)
		return NULL;
	interp_to(out, s, vs, names, unresolved);
	if (fclose(out) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* --- the compose file ------------------------------------------------------ */

struct compose {
	yaml_document_t doc;
	char *text;
	char *dir; /* the compose file's directory, relative ("srcs") */
	const char *rel;
};

static void compose_free(struct compose *c)
{
	if (c->text)
		yaml_document_delete(&c->doc);
	free(c->text);
	free(c->dir);
	memset(c, 0, sizeof(*c));
}

static int compose_load(const struct project *p, struct compose *c, struct err *e)
{
	yaml_parser_t parser;
	int ok;

	memset(c, 0, sizeof(*c));
	c->rel = p->compose;
	if (read_rel(p->dir, p->compose, &c->text, e) < 0)
		return -1;
	if (!yaml_parser_initialize(&parser)) {
		free(c->text);
		c->text = NULL;
		return oom(e);
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)c->text, strlen(c->text));
	ok = yaml_parser_load(&parser, &c->doc);
	if (!ok)
		err_setc(e, EXIT_USAGE, "%s:%zu:%zu: %s", p->compose, parser.problem_mark.line + 1,
		         parser.problem_mark.column + 1,
		         parser.problem ? parser.problem : "bad YAML");
	yaml_parser_delete(&parser);
	if (!ok) {
		free(c->text);
		c->text = NULL;
		return -1;
	}
	if ((c->dir = dir_of(p->compose)) == NULL) {
		compose_free(c);
		return oom(e);
	}
	return 0;
}

static yaml_node_t *node(struct compose *c, int id)
{
	return yaml_document_get_node(&c->doc, id);
}

static const char *scalar(yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static yaml_node_t *map_get(struct compose *c, yaml_node_t *map, const char *key)
{
	if (map == NULL || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *pr = map->data.mapping.pairs.start; pr < map->data.mapping.pairs.top;
	     pr++) {
		const char *k = scalar(node(c, pr->key));
		if (k && strcmp(k, key) == 0)
			return node(c, pr->value);
	}
	return NULL;
}

static unsigned line_of(yaml_node_t *n)
{
	return (unsigned)n->start_mark.line + 1;
}

/* --- the Makefile's --env-file --------------------------------------------- */

/* The value of NAME assigned in the Makefile ("NAME = v", ":=", "?=",
 * "export NAME := v"), last one wins; NULL if none. */
static char *make_var(const char *mk, const char *name)
{
	char *found = NULL;
	size_t nl = strlen(name);

	for (const char *line = mk; *line;) {
		const char *end = strchr(line, '\n'), *s = line;
		if (end == NULL)
			end = line + strlen(line);
		while (s < end && isspace((unsigned char)*s))
			s++;
		if (strncmp(s, "export", 6) == 0 && isspace((unsigned char)s[6]))
			for (s += 6; s < end && isspace((unsigned char)*s); s++)
				;
		if ((size_t)(end - s) > nl && strncmp(s, name, nl) == 0 &&
		    !(isalnum((unsigned char)s[nl]) || s[nl] == '_')) {
			const char *v = s + nl;
			while (v < end && (*v == ' ' || *v == '\t'))
				v++;
			while (v < end && (*v == ':' || *v == '?' || *v == '+'))
				v++;
			if (v < end && *v == '=' && *line != '\t') {
				const char *ve = end;
				v++;
				while (v < ve && isspace((unsigned char)*v))
					v++;
				for (const char *h = v; h < ve; h++)
					if (*h == '#') {
						ve = h;
						break;
					}
				while (ve > v && isspace((unsigned char)ve[-1]))
					ve--;
				free(found);
				found = strndup(v, (size_t)(ve - v));
			}
		}
		line = *end ? end + 1 : end;
	}
	return found;
}

/* Expands $(VAR) and ${VAR} with the Makefile's assignments; NULL when it
 * uses a function or a variable the Makefile does not set. */
static char *make_expand(const char *mk, const char *s, int depth)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out;
	int bad = depth > 8;

	if (bad || (out = open_memstream(&buf, &len)) == NULL)
		return NULL;
	while (*s && !bad) {
		if (s[0] == '$' && s[1] == '$') {
			fputc('$', out);
			s += 2;
		} else if (s[0] == '$' && (s[1] == '(' || s[1] == '{')) {
			char close = s[1] == '(' ? ')' : '}';
			const char *end = strchr(s + 2, close);
			size_t n = name_len(s + 2);
			char *name, *val = NULL, *exp = NULL;
			if (end == NULL || n == 0 || s + 2 + n != end) {
				bad = 1;
				break;
			}
			name = strndup(s + 2, n);
			if (name && strcmp(name, "CURDIR") == 0)
				exp = strdup(".");
			else if (name && (val = make_var(mk, name)) != NULL)
				exp = make_expand(mk, val, depth + 1);
			if (exp == NULL)
				bad = 1;
			else
				fputs(exp, out);
			free(exp);
			free(val);
			free(name);
			s = end + 1;
		} else {
			fputc(*s++, out);
		}
	}
	fclose(out);
	if (bad) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* The word after "--env-file" at s (quotes removed, parentheses kept). */
static char *env_file_word(const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	int depth = 0;
	char quote = 0;

	if (out == NULL)
		return NULL;
	if (*s == '=')
		s++;
	while (*s == ' ' || *s == '\t')
		s++;
	for (; *s && *s != '\n'; s++) {
		if (quote) {
			if (*s == quote)
				quote = 0;
			else
				fputc(*s, out);
			continue;
		}
		if (*s == '\'' || *s == '"') {
			quote = *s;
			continue;
		}
		if (*s == '(' || *s == '{')
			depth++;
		if ((*s == ')' || *s == '}') && depth > 0)
			depth--;
		if (depth == 0 && (isspace((unsigned char)*s) || strchr(";|&\\", *s)))
			break;
		fputc(*s, out);
	}
	fclose(out);
	return buf;
}

/* --- inputs ---------------------------------------------------------------- */

static int input_add(struct project_inputs *in, const struct project *p,
                     enum project_input_kind kind, const char *rel, const char *name,
                     const char *where, int outside, int optional)
{
	struct project_input *it, *nv;
	char full[PATH_MAX];

	for (size_t i = 0; i < in->n; i++)
		if (strcmp(in->v[i].path, rel) == 0)
			return 0;
	nv = realloc(in->v, (in->n + 1) * sizeof(*nv));
	if (nv == NULL)
		return -1;
	in->v = nv;
	it = &in->v[in->n];
	memset(it, 0, sizeof(*it));
	it->kind = kind;
	it->path = strdup(rel);
	it->name = strdup(name);
	it->where = strdup(where);
	if (!it->path || !it->name || !it->where) {
		free(it->path);
		free(it->name);
		free(it->where);
		return -1;
	}
	it->outside = outside;
	it->optional = optional;
	it->missing = path_join(full, sizeof(full), NULL, "%s%s%s", rel[0] == '/' ? "" : p->dir,
	                        rel[0] == '/' ? "" : "/", rel) < 0 ||
	              !is_file(full);
	in->n++;
	return 0;
}

void project_inputs_free(struct project_inputs *in)
{
	for (size_t i = 0; i < in->n; i++) {
		free(in->v[i].path);
		free(in->v[i].name);
		free(in->v[i].where);
	}
	free(in->v);
	in->v = NULL;
	in->n = 0;
}

/* The --env-file paths of the Makefile, as dotenv inputs. */
static int makefile_env_files(const struct project *p, struct project_inputs *in, struct err *e)
{
	char *mk = NULL, path[PATH_MAX];
	unsigned lineno = 1;
	int ret = 0;

	if (path_join(path, sizeof(path), e, "%s/Makefile", p->dir) < 0)
		return -1;
	if (!is_file(path))
		return 0;
	if (read_rel(p->dir, "Makefile", &mk, e) < 0)
		return -1;
	for (const char *line = mk; *line && ret == 0; lineno++) {
		const char *end = strchr(line, '\n'), *hit = line, *s = line;
		if (end == NULL)
			end = line + strlen(line);
		while (s < end && isspace((unsigned char)*s))
			s++;
		while (*s != '#' && (hit = strstr(hit, "--env-file")) != NULL && hit < end) {
			char *word = env_file_word(hit + 10), *exp = NULL, *rel = NULL, where[64];
			int outside = 0;
			hit += 10;
			if (word && word[0])
				exp = make_expand(mk, word, 0);
			if (exp && exp[0])
				rel = norm_path("", exp, &outside);
			snprintf(where, sizeof(where), "Makefile:%u", lineno);
			if (rel && input_add(in, p, PROJECT_DOTENV, rel, "--env-file", where,
			                     outside, 0) < 0)
				ret = oom(e);
			free(rel);
			free(exp);
			free(word);
		}
		line = *end ? end + 1 : end;
	}
	free(mk);
	return ret;
}

/* Whether text uses compose variables ($$ is an escape, not a use). */
static int uses_vars(const char *text)
{
	if (text == NULL)
		return 0;
	for (const char *s = text; *s; s++) {
		if (s[0] != '$')
			continue;
		if (s[1] == '$') {
			s++;
			continue;
		}
		if (s[1] == '{' || name_len(s + 1) > 0)
			return 1;
	}
	return 0;
}

/* Adds the path of an env_file or secret file found in the compose file. */
static int compose_path(const struct project *p, struct compose *c, struct project_inputs *in,
                        const struct vars *vs, enum project_input_kind kind, yaml_node_t *n,
                        const char *value, const char *name, int optional, struct err *e)
{
	int unresolved = 0, outside = 0, ret = 0;
	char *val = interp(value, vs, NULL, &unresolved), *rel = NULL, where[PATH_MAX + 16];

	snprintf(where, sizeof(where), "%s:%u", c->rel, line_of(n));
	if (val == NULL)
		return oom(e);
	if (unresolved || val[0] == '\0')
		ret = err_setc(e, EXIT_USAGE, "%s: \"%s\" uses a variable that has no value", where,
		               value);
	else if ((rel = norm_path(c->dir, val, &outside)) == NULL ||
	         input_add(in, p, kind, rel, name, where, outside, optional) < 0)
		ret = oom(e);
	free(rel);
	free(val);
	return ret;
}

/* env_file: a string, or a list of strings or {path, required} mappings. */
static int service_env_files(const struct project *p, struct compose *c, struct project_inputs *in,
                             const struct vars *vs, const char *svc, yaml_node_t *ef, struct err *e)
{
	if (ef == NULL)
		return 0;
	if (ef->type == YAML_SCALAR_NODE)
		return compose_path(p, c, in, vs, PROJECT_ENV_FILE, ef, scalar(ef), svc, 0, e);
	if (ef->type != YAML_SEQUENCE_NODE)
		return err_setc(e, EXIT_USAGE,
		                "%s:%u: services.%s.env_file: a path or a list of paths", c->rel,
		                line_of(ef), svc);
	for (yaml_node_item_t *it = ef->data.sequence.items.start; it < ef->data.sequence.items.top;
	     it++) {
		yaml_node_t *item = node(c, *it), *path = map_get(c, item, "path");
		const char *req = scalar(map_get(c, item, "required"));
		int optional = req && (strcmp(req, "false") == 0 || strcmp(req, "False") == 0);
		const char *v = scalar(item) ? scalar(item) : scalar(path);
		if (v == NULL)
			return err_setc(e, EXIT_USAGE,
			                "%s:%u: services.%s.env_file: an entry without a path",
			                c->rel, line_of(item), svc);
		if (compose_path(p, c, in, vs, PROJECT_ENV_FILE, scalar(item) ? item : path, v, svc,
		                 optional, e) < 0)
			return -1;
	}
	return 0;
}

/* Loads the first dotenv input that exists into vs (compose's .env). */
static int load_dotenv(const struct project *p, const struct project_inputs *in, struct vars *vs,
                       struct err *e)
{
	for (size_t i = 0; i < in->n; i++) {
		char *text = NULL;
		if (in->v[i].kind != PROJECT_DOTENV || in->v[i].missing || in->v[i].outside)
			continue;
		if (read_rel(p->dir, in->v[i].path, &text, e) < 0)
			return -1;
		if (dotenv_parse(text, vs) < 0) {
			free(text);
			return oom(e);
		}
		free(text);
		return 0;
	}
	return 0;
}

int project_inputs(const struct project *p, struct project_inputs *in, struct err *e)
{
	struct compose c;
	struct vars vs = {0};
	yaml_node_t *root, *services, *secrets;
	int ret = -1;

	memset(in, 0, sizeof(*in));
	if (compose_load(p, &c, e) < 0)
		return -1;
	if (makefile_env_files(p, in, e) < 0)
		goto done;
	if (in->n == 0 && uses_vars(c.text)) {
		char *rel = xasprintf("%s%s.env", c.dir, c.dir[0] ? "/" : "");
		int bad = rel == NULL || input_add(in, p, PROJECT_DOTENV, rel, "", c.rel, 0, 0) < 0;
		free(rel);
		if (bad) {
			oom(e);
			goto done;
		}
	}
	if (load_dotenv(p, in, &vs, e) < 0)
		goto done;
	root = yaml_document_get_root_node(&c.doc);
	services = map_get(&c, root, "services");
	if (services && services->type == YAML_MAPPING_NODE) {
		for (yaml_node_pair_t *pr = services->data.mapping.pairs.start;
		     pr < services->data.mapping.pairs.top; pr++) {
			const char *svc = scalar(node(&c, pr->key));
			yaml_node_t *def = node(&c, pr->value);
			if (svc && service_env_files(p, &c, in, &vs, svc,
			                             map_get(&c, def, "env_file"), e) < 0)
				goto done;
		}
	}
	secrets = map_get(&c, root, "secrets");
	if (secrets && secrets->type == YAML_MAPPING_NODE) {
		for (yaml_node_pair_t *pr = secrets->data.mapping.pairs.start;
		     pr < secrets->data.mapping.pairs.top; pr++) {
			const char *name = scalar(node(&c, pr->key));
			yaml_node_t *file = map_get(&c, node(&c, pr->value), "file");
			if (name && scalar(file) &&
			    compose_path(p, &c, in, &vs, PROJECT_SECRET, file, scalar(file), name,
			                 0, e) < 0)
				goto done;
		}
	}
	ret = 0;
done:
	if (ret < 0)
		project_inputs_free(in);
	vars_free(&vs);
	compose_free(&c);
	return ret;
}

void project_input_describe(const struct project_input *in, char *buf, size_t n)
{
	const char *what = in->kind == PROJECT_ENV_FILE ? "env_file of "
	                   : in->kind == PROJECT_SECRET ? "secret "
	                   : in->name[0]                ? ""
	                                                : "variables of ";

	snprintf(buf, n, "%s (%s%s%s%s%s%s)", in->path, what,
	         in->kind == PROJECT_DOTENV ? (in->name[0] ? "--env-file" : "") : in->name,
	         in->kind == PROJECT_DOTENV && !in->name[0] ? "" : ", ", in->where,
	         in->optional ? ", optional" : "", in->outside ? ", outside the project" : "");
}

/* --- base images ------------------------------------------------------------ */

struct blist {
	struct project_base *v;
	size_t n;
};

static int base_add(struct blist *b, const char *image, const char *file, unsigned line,
                    const char *service)
{
	struct project_base *nv = realloc(b->v, (b->n + 1) * sizeof(*nv)), *it;

	if (nv == NULL)
		return -1;
	b->v = nv;
	it = &b->v[b->n];
	it->image = strdup(image);
	it->file = strdup(file);
	it->service = strdup(service);
	it->line = line;
	if (!it->image || !it->file || !it->service) {
		free(it->image);
		free(it->file);
		free(it->service);
		return -1;
	}
	b->n++;
	return 0;
}

void project_bases_free(struct project_base *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].image);
		free(v[i].file);
		free(v[i].service);
	}
	free(v);
}

/* Shell and Docker names that are never the project's settings. */
static int well_known(const char *name)
{
	static const char *const known[] = {
	    "PATH",
	    "HOME",
	    "PWD",
	    "OLDPWD",
	    "SHELL",
	    "IFS",
	    "TERM",
	    "LANG",
	    "HOSTNAME",
	    "UID",
	    "EUID",
	    "PPID",
	    "RANDOM",
	    "OPTARG",
	    "OPTIND",
	    "TMPDIR",
	    "DEBIAN_FRONTEND",
	    "TARGETPLATFORM",
	    "TARGETOS",
	    "TARGETARCH",
	    "TARGETVARIANT",
	    "BUILDPLATFORM",
	    "BUILDOS",
	    "BUILDARCH",
	    "BUILDVARIANT",
	    NULL,
	};
	for (size_t i = 0; known[i]; i++)
		if (strcmp(known[i], name) == 0)
			return 1;
	return 0;
}

/* What one Dockerfile tells: its bases, and the names it needs from outside
 * (ARGs without a default, $NAMEs it does not define itself). */
struct dscan {
	struct blist *bases;
	struct sv *needs; /* may be NULL */
	const char *file; /* relative to the project */
	const char *service;
	const struct vars *args; /* the service's build args */
	unsigned line0;          /* added to line numbers (dockerfile_inline) */
};

/* Splits an instruction's arguments into words (quotes kept as is). */
static int words(const char *s, struct sv *w)
{
	while (*s) {
		const char *start;
		char *word;
		while (isspace((unsigned char)*s))
			s++;
		if (!*s)
			break;
		start = s;
		while (*s && !isspace((unsigned char)*s))
			s++;
		word = strndup(start, (size_t)(s - start));
		if (word == NULL || sv_push(w, word) < 0) {
			free(word);
			return -1;
		}
		free(word);
	}
	return 0;
}

static char *unquote(const char *s)
{
	size_t n = strlen(s);
	if (n >= 2 && (s[0] == '"' || s[0] == '\'') && s[n - 1] == s[0])
		return strndup(s + 1, n - 2);
	return strdup(s);
}

/* ARG NAME[=default]...: before the first FROM into globals. */
static int scan_arg(struct dscan *d, const struct sv *w, int global, struct vars *globals,
                    struct sv *defined, struct sv *undefined)
{
	for (size_t i = 1; i < w->n; i++) {
		char *eq = strchr(w->v[i], '=');
		char *name = eq ? strndup(w->v[i], (size_t)(eq - w->v[i])) : strdup(w->v[i]);
		char *def = eq ? unquote(eq + 1) : NULL;
		const char *given = name ? vars_get(d->args, name) : NULL;
		int bad = name == NULL || (eq && def == NULL);

		if (!bad && global && (given || def))
			bad = vars_set(globals, name, given ? given : def) < 0;
		if (!bad)
			bad = sv_add_unique(eq ? defined : undefined, name) < 0;
		free(name);
		free(def);
		if (bad)
			return -1;
	}
	return 0;
}

/* FROM [--platform=P] IMAGE [AS NAME] */
static int scan_from(struct dscan *d, const struct sv *w, unsigned line, const struct vars *globals,
                     struct sv *stages, struct err *e)
{
	size_t i = 1;
	char *image, *lower;
	int unresolved = 0, ret = 0;

	while (i < w->n && strncmp(w->v[i], "--", 2) == 0)
		i++;
	if (i >= w->n)
		return err_setc(e, EXIT_USAGE, "%s:%u: FROM without an image", d->file, line);
	if ((image = interp(w->v[i], globals, NULL, &unresolved)) == NULL)
		return oom(e);
	if (unresolved || image[0] == '\0') {
		ret =
		    err_setc(e, EXIT_USAGE,
		             "%s:%u: FROM %s: a variable has no value (an ARG before FROM needs a "
		             "default or a build arg)",
		             d->file, line, w->v[i]);
		free(image);
		return ret;
	}
	if ((lower = strdup(image)) == NULL) {
		free(image);
		return oom(e);
	}
	for (char *c = lower; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	if (strcmp(lower, "scratch") != 0 && !sv_has(stages, lower) &&
	    base_add(d->bases, image, d->file, line, d->service) < 0)
		ret = oom(e);
	if (ret == 0 && i + 2 < w->n && strcasecmp(w->v[i + 1], "AS") == 0) {
		for (char *c = w->v[i + 2]; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		if (sv_add_unique(stages, w->v[i + 2]) < 0)
			ret = oom(e);
	}
	free(lower);
	free(image);
	return ret;
}

/* COPY/ADD --from=X: X is a base when it is no stage and no stage number. */
static int scan_copy_from(struct dscan *d, const struct sv *w, unsigned line,
                          const struct sv *stages, struct err *e)
{
	for (size_t i = 1; i < w->n && strncmp(w->v[i], "--", 2) == 0; i++) {
		const char *from = w->v[i] + 7;
		char lower[256];
		size_t j = 0;
		int digits = 1;

		if (strncmp(w->v[i], "--from=", 7) != 0)
			continue;
		for (; j < sizeof(lower) - 1 && from[j]; j++) {
			lower[j] = (char)tolower((unsigned char)from[j]);
			digits = digits && isdigit((unsigned char)from[j]);
		}
		lower[j] = '\0';
		if (j > 0 && !digits && !sv_has(stages, lower) &&
		    base_add(d->bases, from, d->file, line, d->service) < 0)
			return oom(e);
	}
	return 0;
}

/* Names a text refers to as $NAME or ${NAME...}. */
static void refs(const char *s, struct sv *out)
{
	struct vars none = {0};
	int unresolved = 0;
	char *ignored = interp(s, &none, out, &unresolved);
	free(ignored);
}

/*
 * Reads one Dockerfile as logical lines: comment lines are dropped (also
 * inside a continuation), a trailing backslash joins the next line; each
 * instruction keeps the line it starts on.  (Not split: assembling lines
 * and the per-instruction state share one pass.)
 */
static int scan_dockerfile(struct dscan *d, const char *text, struct err *e)
{
	struct vars globals = {0};
	struct sv stages = {0}, defined = {0}, undefined = {0}, used = {0};
	char *buf = NULL;
	size_t blen = 0;
	FILE *cur = NULL;
	unsigned lineno = 0, start = 0;
	int seen_from = 0, ret = 0;
	const char *line = text;

	while (ret == 0 && *line) {
		const char *end = strchr(line, '\n'), *s = line, *te;
		int cont;
		if (end == NULL)
			end = line + strlen(line);
		lineno++;
		while (s < end && isspace((unsigned char)*s))
			s++;
		te = end;
		while (te > s && isspace((unsigned char)te[-1]))
			te--;
		line = *end ? end + 1 : end;
		if (*s == '#' || (s == te && cur == NULL))
			continue;
		cont = te > s && te[-1] == '\\';
		if (cur == NULL) {
			if ((cur = open_memstream(&buf, &blen)) == NULL)
				ret = oom(e);
			start = lineno + d->line0;
		}
		if (cur == NULL)
			break;
		fwrite(s, 1, (size_t)(te - s) - (cont ? 1 : 0), cur);
		fputc(' ', cur);
		if (cont && *line)
			continue;
		fclose(cur);
		cur = NULL;
		{
			struct sv w = {0};
			if (words(buf, &w) < 0) {
				ret = oom(e);
			} else if (w.n > 0) {
				const char *ins = w.v[0];
				if (strcasecmp(ins, "FROM") == 0) {
					ret = scan_from(d, &w, start, &globals, &stages, e);
					seen_from = 1;
				} else if (strcasecmp(ins, "ARG") == 0) {
					if (scan_arg(d, &w, !seen_from, &globals, &defined,
					             &undefined) < 0)
						ret = oom(e);
				} else if (strcasecmp(ins, "COPY") == 0 ||
				           strcasecmp(ins, "ADD") == 0) {
					ret = scan_copy_from(d, &w, start, &stages, e);
					refs(buf + strlen(ins), &used);
				} else {
					if (strcasecmp(ins, "ENV") == 0)
						for (size_t i = 1; i < w.n; i++) {
							size_t n = name_len(w.v[i]);
							char *nm = n ? strndup(w.v[i], n) : NULL;
							if (nm)
								sv_add_unique(&defined, nm);
							free(nm);
						}
					refs(buf + strlen(ins), &used);
				}
			}
			sv_free(&w);
		}
		free(buf);
		buf = NULL;
	}
	if (cur)
		fclose(cur);
	free(buf);
	if (ret == 0 && d->needs) {
		for (size_t i = 0; i < undefined.n; i++)
			if (!sv_has(&defined, undefined.v[i]) && !well_known(undefined.v[i]))
				sv_add_unique(d->needs, undefined.v[i]);
		for (size_t i = 0; i < used.n; i++)
			if (!sv_has(&defined, used.v[i]) && !sv_has(&undefined, used.v[i]) &&
			    !well_known(used.v[i]))
				sv_add_unique(d->needs, used.v[i]);
	}
	vars_free(&globals);
	sv_free(&stages);
	sv_free(&defined);
	sv_free(&undefined);
	sv_free(&used);
	return ret;
}

/* build.args: a mapping, or a list of "NAME=value" (a bare NAME takes no
 * value here: it would come from the shell running compose). */
static int build_args(struct compose *c, yaml_node_t *args, const struct vars *env,
                      struct vars *out, struct err *e)
{
	int unresolved = 0;

	if (args == NULL)
		return 0;
	if (args->type == YAML_MAPPING_NODE) {
		for (yaml_node_pair_t *pr = args->data.mapping.pairs.start;
		     pr < args->data.mapping.pairs.top; pr++) {
			const char *k = scalar(node(c, pr->key)), *v = scalar(node(c, pr->value));
			char *val;
			if (k == NULL || v == NULL)
				continue;
			if ((val = interp(v, env, NULL, &unresolved)) == NULL ||
			    vars_set(out, k, val) < 0) {
				free(val);
				return oom(e);
			}
			free(val);
		}
	} else if (args->type == YAML_SEQUENCE_NODE) {
		for (yaml_node_item_t *it = args->data.sequence.items.start;
		     it < args->data.sequence.items.top; it++) {
			const char *kv = scalar(node(c, *it)), *eq = kv ? strchr(kv, '=') : NULL;
			char *k, *val;
			if (eq == NULL)
				continue;
			k = strndup(kv, (size_t)(eq - kv));
			val = interp(eq + 1, env, NULL, &unresolved);
			if (k == NULL || val == NULL || vars_set(out, k, val) < 0) {
				free(k);
				free(val);
				return oom(e);
			}
			free(k);
			free(val);
		}
	}
	return 0;
}

/* One service: its image (not built) or its Dockerfile.  (The three forms
 * of build: share one cleanup, hence one function.) */
static int scan_service(const struct project *p, struct compose *c, const struct vars *env,
                        const char *svc, yaml_node_t *def, struct blist *bases, struct sv *needs,
                        struct err *e)
{
	yaml_node_t *build = map_get(c, def, "build"), *image = map_get(c, def, "image");
	yaml_node_t *ctxn = NULL, *dfn = NULL, *inl = NULL;
	struct vars args = {0};
	char *ctx = NULL, *ctx_rel = NULL, *df_rel = NULL, *text = NULL, where[PATH_MAX + 16];
	int unresolved = 0, outside = 0, ret = -1;

	if (build == NULL) {
		char *img;
		if (scalar(image) == NULL)
			return 0;
		if ((img = interp(scalar(image), env, NULL, &unresolved)) == NULL)
			return oom(e);
		ret = base_add(bases, img, c->rel, line_of(image), svc) < 0 ? oom(e) : 0;
		free(img);
		return ret;
	}
	if (build->type == YAML_SCALAR_NODE) {
		ctxn = build;
	} else {
		ctxn = map_get(c, build, "context");
		dfn = map_get(c, build, "dockerfile");
		inl = map_get(c, build, "dockerfile_inline");
		if (build_args(c, map_get(c, build, "args"), env, &args, e) < 0)
			goto done;
	}
	snprintf(where, sizeof(where), "%s:%u", c->rel, line_of(ctxn ? ctxn : build));
	if ((ctx = interp(scalar(ctxn) ? scalar(ctxn) : ".", env, NULL, &unresolved)) == NULL) {
		oom(e);
		goto done;
	}
	if (strstr(ctx, "://") || strncmp(ctx, "git@", 4) == 0) {
		err_setc(e, EXIT_USAGE,
		         "%s: services.%s.build: a remote context (%s) is not supported", where,
		         svc, ctx);
		goto done;
	}
	if ((ctx_rel = norm_path(c->dir, ctx, &outside)) == NULL) {
		oom(e);
		goto done;
	}
	if (scalar(inl)) {
		/* a block scalar's text starts on the line after its "|" */
		int block = inl->data.scalar.style == YAML_LITERAL_SCALAR_STYLE ||
		            inl->data.scalar.style == YAML_FOLDED_SCALAR_STYLE;
		struct dscan d = {bases, needs, c->rel, svc, &args, line_of(inl) - (block ? 0 : 1)};
		ret = scan_dockerfile(&d, scalar(inl), e);
		goto done;
	}
	{
		const char *df = scalar(dfn) ? scalar(dfn) : "Dockerfile";
		int o2 = 0;
		df_rel = df[0] == '/' ? strdup(df) : norm_path(ctx_rel, df, &o2);
		if (df_rel == NULL) {
			oom(e);
			goto done;
		}
	}
	{
		char full[PATH_MAX];
		if (path_join(full, sizeof(full), e, "%s%s%s", df_rel[0] == '/' ? "" : p->dir,
		              df_rel[0] == '/' ? "" : "/", df_rel) < 0)
			goto done;
		if (!is_file(full)) {
			err_setc(e, EXIT_USAGE, "%s: services.%s.build: no Dockerfile at %s", where,
			         svc, df_rel);
			goto done;
		}
	}
	if (read_rel(p->dir, df_rel, &text, e) < 0)
		goto done;
	{
		struct dscan d = {bases, needs, df_rel, svc, &args, 0};
		ret = scan_dockerfile(&d, text, e);
	}
done:
	free(text);
	free(df_rel);
	free(ctx_rel);
	free(ctx);
	vars_free(&args);
	return ret;
}

/* Bases of every service; names the compose file and Dockerfiles need. */
static int scan_project(const struct project *p, struct blist *bases, struct sv *needs,
                        struct err *e)
{
	struct compose c;
	struct project_inputs in = {0};
	struct vars env = {0};
	yaml_node_t *services;
	int ret = -1;

	if (project_inputs(p, &in, e) < 0)
		return -1;
	if (load_dotenv(p, &in, &env, e) < 0 || compose_load(p, &c, e) < 0) {
		project_inputs_free(&in);
		vars_free(&env);
		return -1;
	}
	if (needs)
		refs(c.text, needs);
	services = map_get(&c, yaml_document_get_root_node(&c.doc), "services");
	if (services == NULL || services->type != YAML_MAPPING_NODE) {
		err_setc(e, EXIT_USAGE, "%s: no services", c.rel);
		goto done;
	}
	for (yaml_node_pair_t *pr = services->data.mapping.pairs.start;
	     pr < services->data.mapping.pairs.top; pr++) {
		const char *svc = scalar(node(&c, pr->key));
		if (svc && scan_service(p, &c, &env, svc, node(&c, pr->value), bases, needs, e) < 0)
			goto done;
	}
	ret = 0;
done:
	compose_free(&c);
	project_inputs_free(&in);
	vars_free(&env);
	return ret;
}

int project_bases(const struct project *p, struct project_base **v, size_t *n, struct err *e)
{
	struct blist b = {0};

	*v = NULL;
	*n = 0;
	if (scan_project(p, &b, NULL, e) < 0) {
		project_bases_free(b.v, b.n);
		return -1;
	}
	*v = b.v;
	*n = b.n;
	return 0;
}

int project_image_buildable(const char *image)
{
	static const char *const repos[] = {
	    "debian:", "docker.io/library/debian:", "library/debian:", NULL};
	static const char *const tags[] = {"bookworm",      "trixie",      "12", "13",
	                                   "bookworm-slim", "trixie-slim", NULL};

	for (size_t i = 0; repos[i]; i++) {
		size_t rl = strlen(repos[i]);
		if (strncmp(image, repos[i], rl) != 0)
			continue;
		for (size_t j = 0; tags[j]; j++)
			if (strcmp(image + rl, tags[j]) == 0)
				return 1;
	}
	return 0;
}

int project_bases_check(const struct project_base *v, size_t n,
                        int (*have)(const char *image, void *ctx), void *ctx, struct err *e)
{
	size_t bad = 0;

	for (size_t i = 0; i < n; i++) {
		if (project_image_buildable(v[i].image) || (have && have(v[i].image, ctx)))
			continue;
		if (bad++ == 0) {
			err_set(
			    e,
			    "%s:%u: %s: no local copy and no registry reachable; only "
			    "debian:bookworm and debian:trixie can be built from the Debian mirror",
			    v[i].file, v[i].line, v[i].image);
		} else {
			size_t len = strlen(e->msg);
			snprintf(e->msg + len, sizeof(e->msg) - len, "%s%s:%u (%s)",
			         bad == 2 ? "; also " : ", ", v[i].file, v[i].line, v[i].image);
		}
	}
	return bad ? -1 : 0;
}

/* --- generating what is missing ---------------------------------------------- */

/* A random password: 24 letters and digits (RAND_bytes, no modulo bias). */
static int random_password(char out[25], struct err *e)
{
	static const char set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	size_t n = 0;

	while (n < 24) {
		unsigned char b[32];
		if (RAND_bytes(b, sizeof(b)) != 1)
			return err_set(e, "RAND_bytes failed");
		for (size_t i = 0; i < sizeof(b) && n < 24; i++)
			if (b[i] < 248) /* 248 = 4 * 62 */
				out[n++] = set[b[i] % 62];
	}
	out[24] = '\0';
	return 0;
}

static int name_has(const char *name, const char *part)
{
	return strcasestr(name, part) != NULL;
}

static int looks_secret(const char *name)
{
	return name_has(name, "PASS") || name_has(name, "KEY") || name_has(name, "SECRET");
}

/* Whether an example value is only a placeholder ("", changeme, <...>,
 * __X__, xxx, ...). */
static int placeholder(const char *v)
{
	size_t n = strlen(v);

	return n == 0 || strcasecmp(v, "changeme") == 0 || strcasecmp(v, "change_me") == 0 ||
	       strcasecmp(v, "xxx") == 0 || strcasecmp(v, "todo") == 0 || strcmp(v, "...") == 0 ||
	       (v[0] == '<' && v[n - 1] == '>') ||
	       (n > 4 && strncmp(v, "__", 2) == 0 && strcmp(v + n - 2, "__") == 0);
}

/* v with the login placeholders replaced by login. */
static char *fill_login(const char *v, const char *login)
{
	static const char *const marks[] = {"<your_login>", "<login>",    "__LOGIN__",
	                                    "{login}",      "your_login", NULL};
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	if (out == NULL)
		return NULL;
	while (*v) {
		size_t i;
		for (i = 0; marks[i]; i++)
			if (strncasecmp(v, marks[i], strlen(marks[i])) == 0)
				break;
		if (marks[i]) {
			fputs(login, out);
			v += strlen(marks[i]);
		} else {
			fputc(*v++, out);
		}
	}
	fclose(out);
	return buf;
}

char *project_env_value(const char *name, const char *example, const struct project_gen *g,
                        unsigned *users)
{
	char domain[256], pw[25], *filled, *lower;
	struct err ignore = {.msg = ""};

	snprintf(domain, sizeof(domain), "%s", g->domain ? g->domain : "");
	if (!g->domain)
		snprintf(domain, sizeof(domain), "%s.42.fr", g->login);
	if (looks_secret(name))
		return random_password(pw, &ignore) < 0 ? NULL : strdup(pw);
	if (strcasecmp(name, "LOGIN") == 0)
		return strdup(g->login);
	if (strcasecmp(name, "DOMAIN_NAME") == 0 || strcasecmp(name, "DOMAIN") == 0)
		return strdup(domain);
	if (strlen(name) > 4 && strcasecmp(name + strlen(name) - 4, "_URL") == 0)
		return xasprintf("https://%s", domain);
	if ((filled = fill_login(example ? example : "", g->login)) == NULL)
		return NULL;
	if (!placeholder(filled))
		return filled;
	free(filled);
	if ((lower = strdup(name)) == NULL)
		return NULL;
	for (char *c = lower; *c; c++)
		*c = *c == '_' ? '-' : (char)tolower((unsigned char)*c);
	if (name_has(name, "MAIL")) {
		char *mail = xasprintf("%s@%s", lower, domain);
		free(lower);
		return mail;
	}
	if (name_has(name, "USER") || name_has(name, "LOGIN")) {
		/* distinct users: login, login2, login3, ...; the subject forbids
		 * "admin" in the administrator's name */
		free(lower);
		if (name_has(name, "ADMIN") && strcasestr(g->login, "admin"))
			return strdup("owner42");
		return ++*users == 1 ? strdup(g->login) : xasprintf("%s%u", g->login, *users);
	}
	if (name_has(name, "DATABASE") || name_has(name, "DB_NAME")) {
		free(lower);
		return strdup("wordpress");
	}
	return lower;
}

/* The example a generated env file is made from: REL.example/.sample, the
 * same names next to it, then at the top and in srcs/. */
static char *find_example(const struct project *p, const char *rel)
{
	char *dir = dir_of(rel), *cands[8] = {0}, *found = NULL;
	size_t n = 0;

	if (dir == NULL)
		return NULL;
	cands[n++] = xasprintf("%s.example", rel);
	cands[n++] = xasprintf("%s.sample", rel);
	cands[n++] = xasprintf("%s%s.env.example", dir, dir[0] ? "/" : "");
	cands[n++] = xasprintf("%s%s.env.sample", dir, dir[0] ? "/" : "");
	cands[n++] = strdup(".env.example");
	cands[n++] = strdup(".env.sample");
	cands[n++] = strdup("srcs/.env.example");
	cands[n++] = strdup("srcs/.env.sample");
	for (size_t i = 0; i < n; i++) {
		char full[PATH_MAX];
		if (found == NULL && cands[i] &&
		    path_join(full, sizeof(full), NULL, "%s/%s", p->dir, cands[i]) == 0 &&
		    is_file(full))
			found = strdup(cands[i]);
		free(cands[i]);
	}
	free(dir);
	return found;
}

/* An env file from the example: each NAME=VALUE line gets its value from
 * project_env_value; comments and blank lines are kept. */
static char *env_from_example(const char *example_rel, const char *text,
                              const struct project_gen *g)
{
	char *buf = NULL;
	size_t len = 0;
	unsigned users = 0;
	FILE *out = open_memstream(&buf, &len);
	int bad = 0;

	if (out == NULL)
		return NULL;
	fprintf(out, "# Generated by inception from %s.\n", example_rel);
	for (const char *line = text; *line && !bad;) {
		const char *end = strchr(line, '\n'), *s = line, *eq;
		size_t nl;
		if (end == NULL)
			end = line + strlen(line);
		while (s < end && isspace((unsigned char)*s))
			s++;
		eq = memchr(s, '=', (size_t)(end - s));
		nl = eq ? name_len(s) : 0;
		if (*s != '#' && eq && nl > 0 && s + nl == eq) {
			struct vars one = {0};
			char *lt = strndup(s, (size_t)(end - s)), *name = strndup(s, nl),
			     *val = NULL;
			bad = lt == NULL || name == NULL || dotenv_parse(lt, &one) < 0 ||
			      one.k.n != 1 ||
			      (val = project_env_value(name, one.v.v[0], g, &users)) == NULL;
			if (!bad)
				fprintf(out, "%s=%s\n", name, val);
			free(val);
			free(name);
			free(lt);
			vars_free(&one);
		} else {
			fwrite(line, 1, (size_t)(end - line), out);
			fputc('\n', out);
		}
		line = *end ? end + 1 : end;
	}
	fclose(out);
	if (bad) {
		free(buf);
		return NULL;
	}
	return buf;
}

static char *env_from_names(const struct sv *names, const struct project_gen *g)
{
	char *buf = NULL;
	size_t len = 0;
	unsigned users = 0;
	FILE *out = open_memstream(&buf, &len);
	int bad = 0;

	if (out == NULL)
		return NULL;
	fputs("# Generated by inception from the variables the compose file and the\n"
	      "# Dockerfiles use (the project has no .env.example).\n",
	      out);
	for (size_t i = 0; i < names->n && !bad; i++) {
		char *val = project_env_value(names->v[i], "", g, &users);
		if (val == NULL)
			bad = 1;
		else
			fprintf(out, "%s=%s\n", names->v[i], val);
		free(val);
	}
	fclose(out);
	if (bad) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* Writes out_dir/rel (0600) with its directories (0700). */
static int write_generated(const char *out_dir, const char *rel, const char *data, struct err *e)
{
	char path[PATH_MAX], *dir;

	if (path_join(path, sizeof(path), e, "%s/%s", out_dir, rel) < 0)
		return -1;
	if ((dir = strdup(path)) == NULL)
		return oom(e);
	*strrchr(dir, '/') = '\0';
	if (mkdir_p(dir, 0700, e) < 0) {
		free(dir);
		return -1;
	}
	free(dir);
	return write_file_atomic(path, data, strlen(data), 0600, e);
}

/* (One pass over the inputs with one cleanup; each kind is a few lines.) */
int project_generate_missing(const struct project *p, const struct project_inputs *in,
                             const struct project_gen *g, const char *out_dir, char ***made,
                             size_t *n_made, struct err *e)
{
	struct sv names = {0}, done = {0};
	struct blist bases = {0};
	char real_out[PATH_MAX];
	size_t dl = strlen(p->dir);
	int scanned = 0, ret = -1;

	if (made) {
		*made = NULL;
		*n_made = 0;
	}
	if (mkdir_p(out_dir, 0700, e) < 0)
		return -1;
	if (realpath(out_dir, real_out) == NULL)
		return err_set(e, "%s: %s", out_dir, strerror(errno));
	if (strncmp(real_out, p->dir, dl) == 0 && (real_out[dl] == '/' || !real_out[dl]))
		return err_set(e, "%s is inside the project: generated files go elsewhere",
		               out_dir);
	for (size_t i = 0; i < in->n; i++) {
		const struct project_input *it = &in->v[i];
		char *data = NULL;

		if (!it->missing || it->optional)
			continue;
		if (it->outside) {
			char what[PATH_MAX + 128];
			project_input_describe(it, what, sizeof(what));
			err_setc(e, EXIT_USAGE, "cannot generate %s: it is outside the project",
			         what);
			goto done;
		}
		if (it->kind == PROJECT_SECRET) {
			char pw[25];
			if (random_password(pw, e) < 0)
				goto done;
			data = strdup(pw);
			OPENSSL_cleanse(pw, sizeof(pw));
		} else {
			char *ex = find_example(p, it->path), *text = NULL;
			if (ex) {
				if (read_rel(p->dir, ex, &text, e) < 0) {
					free(ex);
					goto done;
				}
				data = env_from_example(ex, text, g);
				free(text);
				free(ex);
			} else {
				if (!scanned && scan_project(p, &bases, &names, e) < 0)
					goto done;
				scanned = 1;
				data = env_from_names(&names, g);
			}
		}
		if (data == NULL) {
			oom(e);
			goto done;
		}
		if (write_generated(out_dir, it->path, data, e) < 0) {
			OPENSSL_cleanse(data, strlen(data));
			free(data);
			goto done;
		}
		OPENSSL_cleanse(data, strlen(data));
		free(data);
		if (sv_push(&done, it->path) < 0) {
			oom(e);
			goto done;
		}
	}
	ret = 0;
	if (made) {
		*made = done.v;
		*n_made = done.n;
		memset(&done, 0, sizeof(done));
	}
done:
	sv_free(&done);
	sv_free(&names);
	project_bases_free(bases.v, bases.n);
	return ret;
}

/* --- what the agent is told: services, bind directories, domain ---------- */

/* Reads an input from gen_dir when it was generated there, else from the
 * project; NULL (no error) when neither has it. */
static char *read_input(const struct project *p, const char *gen_dir, const char *rel)
{
	char path[PATH_MAX], *text = NULL;
	size_t len;
	struct err ignore = {.msg = ""};

	if (gen_dir && path_join(path, sizeof(path), NULL, "%s/%s", gen_dir, rel) == 0 &&
	    is_file(path) && read_file_max(path, &text, &len, FILE_MAX, &ignore) == 0)
		return text;
	if (path_join(path, sizeof(path), NULL, "%s/%s", p->dir, rel) == 0 && is_file(path) &&
	    read_file_max(path, &text, &len, FILE_MAX, &ignore) == 0)
		return text;
	return NULL;
}

/* Appends an interpolated absolute path to the data dirs (unresolved or
 * relative values are left to the project's own Makefile). */
static int data_dir_add(struct sv *dirs, const char *value, const struct vars *vs)
{
	int unresolved = 0, ret = 0;
	char *v = interp(value, vs, NULL, &unresolved);

	if (v == NULL)
		return -1;
	if (!unresolved && v[0] == '/' && strchr(v, ':') == NULL && strchr(v, '\n') == NULL)
		ret = sv_add_unique(dirs, v);
	free(v);
	return ret;
}

/* The bind sources of one service's volumes: "/abs:/x[:ro]" or
 * {type: bind, source: /abs}. */
static int service_binds(struct compose *c, yaml_node_t *vols, const struct vars *vs,
                         struct sv *dirs)
{
	if (vols == NULL || vols->type != YAML_SEQUENCE_NODE)
		return 0;
	for (yaml_node_item_t *it = vols->data.sequence.items.start;
	     it < vols->data.sequence.items.top; it++) {
		yaml_node_t *item = node(c, *it);
		const char *s = scalar(item), *type = scalar(map_get(c, item, "type"));

		if (s) {
			char *src = strdup(s), *colon;
			int bad;

			if (src == NULL)
				return -1;
			/* the source ends at the first ':' after any ${...} */
			colon = src;
			while ((colon = strchr(colon, ':')) != NULL) {
				char *open = strstr(src, "${");
				if (open == NULL || open > colon || strchr(open, '}') < colon)
					break;
				colon++;
			}
			if (colon)
				*colon = '\0';
			bad = colon && data_dir_add(dirs, src, vs) < 0;
			free(src);
			if (bad)
				return -1;
		} else if (type && strcmp(type, "bind") == 0) {
			const char *src = scalar(map_get(c, item, "source"));
			if (src && data_dir_add(dirs, src, vs) < 0)
				return -1;
		}
	}
	return 0;
}

/* Joins v with sep into a malloc'd string. */
static char *sv_join(const struct sv *v, const char *sep)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < v->n; i++)
		fprintf(out, "%s%s", i ? sep : "", v->v[i]);
	if (fclose(out) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* The compose variables: the first dotenv input (generated or the
 * project's); DOMAIN_NAME also from the env files when the dotenv lacks it. */
static int info_vars(const struct project *p, const struct project_inputs *in, const char *gen_dir,
                     struct vars *vs, char **domain)
{
	int have_dotenv = 0;

	*domain = NULL;
	for (size_t i = 0; i < in->n; i++) {
		const struct project_input *x = &in->v[i];
		struct vars one = {0};
		char *text;
		const char *d;

		if (x->outside || (x->kind == PROJECT_DOTENV && have_dotenv) ||
		    x->kind == PROJECT_SECRET || (x->kind == PROJECT_ENV_FILE && *domain))
			continue;
		if ((text = read_input(p, gen_dir, x->path)) == NULL)
			continue;
		if (dotenv_parse(text, x->kind == PROJECT_DOTENV ? vs : &one) < 0) {
			free(text);
			vars_free(&one);
			return -1;
		}
		free(text);
		d = vars_get(x->kind == PROJECT_DOTENV ? vs : &one, "DOMAIN_NAME");
		if (d && d[0] && *domain == NULL && (*domain = strdup(d)) == NULL) {
			vars_free(&one);
			return -1;
		}
		have_dotenv |= x->kind == PROJECT_DOTENV;
		vars_free(&one);
	}
	return 0;
}

/* (One walk of the compose file: services, their volumes, the top-level
 * volumes' bind devices, with one cleanup.) */
int project_compose_info(const struct project *p, const struct project_inputs *in,
                         const char *gen_dir, struct project_info *info, struct err *e)
{
	struct compose c;
	struct vars vs = {0};
	struct sv names = {0}, dirs = {0};
	yaml_node_t *root, *services, *volumes;
	int ret = -1;

	memset(info, 0, sizeof(*info));
	if (compose_load(p, &c, e) < 0)
		return -1;
	if (info_vars(p, in, gen_dir, &vs, &info->domain) < 0)
		goto oom;
	root = yaml_document_get_root_node(&c.doc);
	services = map_get(&c, root, "services");
	if (services && services->type == YAML_MAPPING_NODE) {
		for (yaml_node_pair_t *pr = services->data.mapping.pairs.start;
		     pr < services->data.mapping.pairs.top; pr++) {
			const char *svc = scalar(node(&c, pr->key));
			if (svc == NULL || strpbrk(svc, ",\n ") != NULL)
				continue;
			if (sv_push(&names, svc) < 0 ||
			    service_binds(&c, map_get(&c, node(&c, pr->value), "volumes"), &vs,
			                  &dirs) < 0)
				goto oom;
		}
	}
	volumes = map_get(&c, root, "volumes");
	if (volumes && volumes->type == YAML_MAPPING_NODE) {
		for (yaml_node_pair_t *pr = volumes->data.mapping.pairs.start;
		     pr < volumes->data.mapping.pairs.top; pr++) {
			yaml_node_t *opts = map_get(&c, node(&c, pr->value), "driver_opts");
			const char *o = scalar(map_get(&c, opts, "o"));
			const char *dev = scalar(map_get(&c, opts, "device"));
			if (o && dev && strstr(o, "bind") && data_dir_add(&dirs, dev, &vs) < 0)
				goto oom;
		}
	}
	if ((info->services = sv_join(&names, ",")) == NULL ||
	    (info->data_dirs = sv_join(&dirs, ":")) == NULL)
		goto oom;
	ret = 0;
	goto done;
oom:
	oom(e);
done:
	if (ret < 0)
		project_info_free(info);
	sv_free(&names);
	sv_free(&dirs);
	vars_free(&vs);
	compose_free(&c);
	return ret;
}

void project_info_free(struct project_info *info)
{
	free(info->services);
	free(info->data_dirs);
	free(info->domain);
	memset(info, 0, sizeof(*info));
}
