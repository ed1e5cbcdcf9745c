/*
 * push.c: SFTP sync of the project tree with a manifest (see push.h).
 *
 * The local side is collected first (path, mode, size, mtime, SHA-256 of
 * the content), then compared with the remote manifest.  Everything goes
 * through one SFTP session; writes are temp file + rename so the agent
 * never sees half a file, and the new manifest is written last, so an
 * interrupted push is simply redone (files already sent match again).
 */
#include "push.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libssh/sftp.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "agentrun.h"
#include "report.h"
#include "digest.h"
#include "util.h"

#define TMP_SUFFIX ".inception-tmp"
#define MANIFEST "manifest"       /* in META */
#define TREE_DIGEST "tree.digest" /* in META */
/* Paths in the item list and the manifest name their root: "tree/PATH" is
 * REMOTE/PATH, "meta/PATH" is META/PATH. */
#define TREE_PFX "tree/"
#define META_PFX "meta/"

struct item {
	struct push_entry en;
	char *local;      /* file to read, or NULL when data or link is set */
	const char *data; /* in-memory content (agent.conf) */
	char *link;       /* a symlink's target (en.mode has PUSH_MODE_LINK) */
	int dir_mode;     /* mode for its parent directory (0700 for secrets) */
};

struct items {
	struct item *v;
	size_t n, cap;
};

static struct item *items_add(struct items *it, const char *rel, struct err *e)
{
	struct item *x;

	if (it->n == it->cap) {
		size_t cap = it->cap ? it->cap * 2 : 64;
		struct item *v = realloc(it->v, cap * sizeof(*v));

		if (v == NULL) {
			err_set(e, "out of memory");
			return NULL;
		}
		it->v = v;
		it->cap = cap;
	}
	x = &it->v[it->n];
	memset(x, 0, sizeof(*x));
	x->en.path = strdup(rel);
	if (x->en.path == NULL) {
		err_set(e, "out of memory");
		return NULL;
	}
	it->n++;
	return x;
}

static void items_free(struct items *it)
{
	size_t i;

	for (i = 0; i < it->n; i++) {
		free(it->v[i].en.path);
		free(it->v[i].local);
		free(it->v[i].link);
	}
	free(it->v);
	memset(it, 0, sizeof(*it));
}

/* Adds one local regular file as rel; mode 0 = the file's own. */
static int add_file(struct items *it, const char *local, const char *rel, unsigned mode,
                    int dir_mode, struct err *e)
{
	struct stat st;
	struct item *x;

	if (stat(local, &st) < 0)
		return err_set(e, "stat %s: %s", local, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return err_set(e, "%s is not a regular file", local);
	x = items_add(it, rel, e);
	if (x == NULL)
		return -1;
	x->local = strdup(local);
	if (x->local == NULL)
		return err_set(e, "out of memory");
	x->en.size = (uint64_t)st.st_size;
	x->en.mtime = (long long)st.st_mtime;
	x->en.mode = mode ? mode : (unsigned)(st.st_mode & 0777);
	x->dir_mode = dir_mode;
	return sha256_file(local, x->en.digest, e);
}

static int add_mem(struct items *it, const char *data, const char *rel, unsigned mode,
                   struct err *e)
{
	struct item *x = items_add(it, rel, e);

	if (x == NULL)
		return -1;
	x->data = data;
	x->en.size = strlen(data);
	x->en.mtime = 0;
	x->en.mode = mode;
	x->dir_mode = 0755;
	sha256_mem(data, strlen(data), x->en.digest);
	return 0;
}

/* Writes s for an error message, control characters as \xNN. */
static void show_name(const char *s, char *out, size_t n)
{
	size_t o = 0;

	for (; *s && o + 5 < n; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f)
			o += (size_t)snprintf(out + o, n - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	out[o] = '\0';
}

int push_path_check(const char *rel, struct err *e)
{
	const char *p, *comp = rel;
	char shown[PATH_MAX];

	show_name(rel, shown, sizeof(shown));
	if (*rel == '\0')
		return err_set(e, "an empty path");
	if (strlen(rel) > PUSH_PATH_MAX)
		return err_set(e, "%.60s...: path longer than %d bytes", shown, PUSH_PATH_MAX);
	if (*rel == '/')
		return err_set(e, "%s: an absolute path", shown);
	for (p = rel;; p++) {
		unsigned char c = (unsigned char)*p;

		if (c != '\0' && (c < 0x20 || c == 0x7f))
			return err_set(e, "%s: the name holds a control character", shown);
		if (c != '/' && c != '\0')
			continue;
		if (p == comp || (p - comp == 1 && comp[0] == '.') ||
		    (p - comp == 2 && comp[0] == '.' && comp[1] == '.'))
			return err_set(e, "%s: an empty, . or .. path component", shown);
		if (c == '\0')
			return 0;
		comp = p + 1;
	}
}

/* Resolves a symlink's target against the link's directory, lexically, and
 * checks that it stays under root (a relative path such as "srcs").  The
 * tree is pushed as it is, so a link to inside it works the same way in the
 * guest; one to outside would point at whatever the guest has there. */
static int link_inside(const char *rel, const char *target, const char *root)
{
	char buf[2 * PATH_MAX + 2], joined[2 * PATH_MAX + 2], *comp[PATH_MAX / 2], *tok;
	char *save = NULL;
	size_t rootlen = strlen(root), o = 0;
	int n = 0, i;

	if (target[0] == '/' || target[0] == '\0')
		return 0;
	for (i = 0; target[i]; i++)
		if ((unsigned char)target[i] < 0x20 || target[i] == 0x7f)
			return 0;
	/* "rel/.." is the link's directory */
	if (snprintf(buf, sizeof(buf), "%s/../%s", rel, target) >= (int)sizeof(buf))
		return 0;
	for (tok = strtok_r(buf, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
		if (strcmp(tok, ".") == 0)
			continue;
		if (strcmp(tok, "..") == 0) {
			if (n == 0)
				return 0;
			n--;
			continue;
		}
		if (n == (int)(sizeof(comp) / sizeof(comp[0])))
			return 0;
		comp[n++] = tok;
	}
	joined[0] = '\0';
	for (i = 0; i < n; i++)
		o +=
		    (size_t)snprintf(joined + o, sizeof(joined) - o, "%s%s", i ? "/" : "", comp[i]);
	return strncmp(joined, root, rootlen) == 0 &&
	       (joined[rootlen] == '/' || joined[rootlen] == '\0');
}

static int add_link(struct items *it, const char *local, const char *rel, const char *root,
                    struct err *e)
{
	char target[PATH_MAX], shown[PATH_MAX];
	ssize_t r = readlink(local, target, sizeof(target) - 1);
	struct item *x;

	if (r < 0)
		return err_set(e, "readlink %s: %s", local, strerror(errno));
	target[r] = '\0';
	if (!link_inside(rel, target, root)) {
		/* root is "tree/srcs", "meta/agent-src" or "tree" (the whole project) */
		const char *in = strchr(root, '/');

		show_name(target, shown, sizeof(shown));
		return err_set(e,
		               "push: %s is a symlink to %s, which is outside %s%s: only links "
		               "inside the tree are sent (replace it with the file itself)",
		               local, shown, in ? in + 1 : "the project", in ? "/" : "");
	}
	x = items_add(it, rel, e);
	if (x == NULL)
		return -1;
	x->link = strdup(target);
	if (x->link == NULL)
		return err_set(e, "out of memory");
	x->en.size = (uint64_t)r;
	x->en.mtime = 0;
	x->en.mode = PUSH_MODE_LINK | 0777;
	x->dir_mode = 0755;
	sha256_mem(target, (size_t)r, x->en.digest);
	return 0;
}

/* Walks dir (relative rel, under the walk's root) adding regular files and
 * symlinks, never a .git; skip is a name to leave out at the top level
 * (srcs/.env). */
static int add_tree(struct items *it, const char *dir, const char *rel, const char *root,
                    const char *skip, struct err *e)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int rc = -1;

	if (d == NULL)
		return err_set(e, "open %s: %s", dir, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		char lp[PATH_MAX], rp[PATH_MAX];
		struct stat st;
		struct err pe = {.msg = ""};

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if ((skip && strcmp(de->d_name, skip) == 0) || strcmp(de->d_name, ".git") == 0)
			continue;
		if (path_join(lp, sizeof(lp), e, "%s/%s", dir, de->d_name) < 0 ||
		    path_join(rp, sizeof(rp), e, "%s/%s", rel, de->d_name) < 0)
			goto done;
		if (push_path_check(rp, &pe) < 0) {
			char shown[PATH_MAX];

			show_name(lp, shown, sizeof(shown));
			err_set(e, "push: refusing %s: %s", shown,
			        strstr(pe.msg, ": ") ? strstr(pe.msg, ": ") + 2 : pe.msg);
			goto done;
		}
		if (lstat(lp, &st) < 0) {
			err_set(e, "stat %s: %s", lp, strerror(errno));
			goto done;
		}
		if (S_ISDIR(st.st_mode)) {
			if (add_tree(it, lp, rp, root, NULL, e) < 0)
				goto done;
		} else if (S_ISREG(st.st_mode)) {
			if (add_file(it, lp, rp, 0, 0755, e) < 0)
				goto done;
		} else if (S_ISLNK(st.st_mode)) {
			if (add_link(it, lp, rp, root, e) < 0)
				goto done;
		}
	}
	rc = 0;
done:
	closedir(d);
	return rc;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct push_entry *)a)->path, ((const struct push_entry *)b)->path);
}

static int cmp_item(const void *a, const void *b)
{
	return strcmp(((const struct item *)a)->en.path, ((const struct item *)b)->en.path);
}

/* The project's files: the bundled stack's Makefile and srcs/ (without the
 * host's own srcs/.env), the listed paths (git's tree), or the whole work
 * tree without .git. */
static int collect_project(const struct push_src *src, struct items *it, struct err *e)
{
	char p[PATH_MAX], rel[PATH_MAX + 8];
	size_t i;

	if (src->bundled) {
		if (path_join(p, sizeof(p), e, "%s/Makefile", src->top) < 0 ||
		    add_file(it, p, TREE_PFX "Makefile", 0, 0755, e) < 0 ||
		    path_join(p, sizeof(p), e, "%s/srcs", src->top) < 0)
			return -1;
		return add_tree(it, p, TREE_PFX "srcs", TREE_PFX "srcs", ".env", e);
	}
	if (src->paths == NULL)
		return add_tree(it, src->top, "tree", "tree", NULL, e);
	for (i = 0; i < src->npaths; i++) {
		struct err pe = {.msg = ""};

		if (push_path_check(src->paths[i], &pe) < 0)
			return err_set(e, "push: refusing %s", pe.msg);
		if (path_join(p, sizeof(p), e, "%s/%s", src->top, src->paths[i]) < 0 ||
		    path_join(rel, sizeof(rel), e, TREE_PFX "%s", src->paths[i]) < 0 ||
		    add_file(it, p, rel, 0, 0755, e) < 0)
			return -1;
	}
	return 0;
}

/* Whether a project item lives under the directory of rel ("tree/srcs" for
 * "tree/srcs/.env"): then that directory keeps the project's mode. */
static int dir_shared(const struct items *it, size_t nproject, const char *rel)
{
	const char *slash = strrchr(rel, '/');
	size_t dl = slash ? (size_t)(slash - rel) : 0, i;

	for (i = 0; i < nproject; i++)
		if (strncmp(it->v[i].en.path, rel, dl) == 0 && it->v[i].en.path[dl] == '/')
			return 1;
	return 0;
}

/* The generated inputs at their project paths, 0600, replacing a project
 * file of the same path; a directory only they live in is 0700. */
static int collect_generated(const struct push_src *src, struct items *it, struct err *e)
{
	size_t nproject = it->n, i;

	for (i = 0; i < src->ngen; i++) {
		char p[PATH_MAX], rel[PATH_MAX + 8];
		struct err pe = {.msg = ""};
		size_t j;

		if (push_path_check(src->gen[i], &pe) < 0)
			return err_set(e, "push: refusing %s", pe.msg);
		if (path_join(p, sizeof(p), e, "%s/%s", src->gen_dir, src->gen[i]) < 0 ||
		    path_join(rel, sizeof(rel), e, TREE_PFX "%s", src->gen[i]) < 0)
			return -1;
		for (j = 0; j < nproject; j++)
			if (strcmp(it->v[j].en.path, rel) == 0) {
				/* the generated one wins: drop the project's */
				free(it->v[j].local);
				free(it->v[j].link);
				free(it->v[j].en.path);
				it->v[j] = it->v[--it->n];
				if (nproject > it->n)
					nproject = it->n;
				break;
			}
		if (add_file(it, p, rel, 0600, dir_shared(it, nproject, rel) ? 0755 : 0700, e) < 0)
			return -1;
	}
	return 0;
}

static int collect(const struct push_src *src, struct items *it, struct err *e)
{
	char p[PATH_MAX];

	if (collect_project(src, it, e) < 0 || collect_generated(src, it, e) < 0)
		return -1;
	if (src->agent_bin && add_file(it, src->agent_bin, META_PFX "agent", 0755, 0755, e) < 0)
		return -1;
	if (src->agent_conf && add_mem(it, src->agent_conf, META_PFX "agent.conf", 0644, e) < 0)
		return -1;
	if (src->with_agent_src) {
		/* agent/ whole, its portable layer (lib/) included: what
		 * build-in-guest.sh compiles */
		const char *atop = src->agent_src_top ? src->agent_src_top : src->top;

		if (path_join(p, sizeof(p), e, "%s/agent", atop) < 0 ||
		    add_tree(it, p, META_PFX "agent-src", META_PFX "agent-src", NULL, e) < 0)
			return -1;
	}
	if (it->n > 0)
		qsort(it->v, it->n, sizeof(*it->v), cmp_item);
	return 0;
}

/* ---------------------------------------------------------------- manifest */

void push_entries_free(struct push_entry *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i].path);
	free(v);
}

/* Paths in the manifest: '%', space and control bytes as %XX, so that each
 * line is exactly five space-separated words whatever the names hold. */
static size_t path_encode(const char *path, char *out)
{
	size_t o = 0;

	for (; *path; path++) {
		unsigned char c = (unsigned char)*path;

		if (c <= 0x20 || c == 0x7f || c == '%')
			o += (size_t)sprintf(out + o, "%%%02X", c);
		else
			out[o++] = (char)c;
	}
	out[o] = '\0';
	return o;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes one encoded path word of len bytes; -1 if malformed. */
static int path_decode(const char *w, size_t len, char *out, size_t n)
{
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		int c = (unsigned char)w[i];

		if (c == '%') {
			if (i + 2 >= len || hexval(w[i + 1]) < 0 || hexval(w[i + 2]) < 0)
				return -1;
			c = hexval(w[i + 1]) * 16 + hexval(w[i + 2]);
			i += 2;
		} else if (c <= 0x20 || c == 0x7f) {
			return -1;
		}
		if (o + 1 >= n)
			return -1;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
}

static int mode_ok(unsigned long mode)
{
	return (mode & ~07777UL) == 0 || mode == (PUSH_MODE_LINK | 0777);
}

/* Longer than 60 lines: a loop over the manifest's lines, each line's five fields parsed and
 * checked in order with its own refusal. */
long push_manifest_parse(const char *text, struct push_entry **out, struct err *e)
{
	struct push_entry *v = NULL;
	size_t n = 0, cap = 0;
	const char *p = text;
	int lineno = 0;

	*out = NULL;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char line[3 * PUSH_PATH_MAX + 200], path[PUSH_PATH_MAX + 1];
		char *w[6], *save = NULL, *tok, *end;
		unsigned long long size;
		long long mtime;
		unsigned long mode;
		int nw = 0;
		struct push_entry en;
		struct err pe = {.msg = ""};

		lineno++;
		if (len >= sizeof(line)) {
			push_entries_free(v, n);
			return err_set(e, "manifest line %d too long", lineno);
		}
		memcpy(line, p, len);
		line[len] = '\0';
		p = nl ? nl + 1 : p + len;
		if (len == 0)
			continue;
		memset(&en, 0, sizeof(en));
		for (tok = strtok_r(line, " ", &save); tok && nw < 6;
		     tok = strtok_r(NULL, " ", &save))
			w[nw++] = tok;
		if (nw != 5 || strlen(w[0]) != 64 || strspn(w[0], "0123456789abcdef") != 64 ||
		    strspn(w[1], "0123456789") != strlen(w[1]) ||
		    strspn(w[2], "-0123456789") != strlen(w[2]) ||
		    strspn(w[3], "01234567") != strlen(w[3])) {
			push_entries_free(v, n);
			return err_set(e, "manifest line %d malformed", lineno);
		}
		errno = 0;
		size = strtoull(w[1], &end, 10);
		mtime = strtoll(w[2], &end, 10);
		mode = strtoul(w[3], &end, 8);
		if (errno || !mode_ok(mode) ||
		    path_decode(w[4], strlen(w[4]), path, sizeof(path)) < 0) {
			push_entries_free(v, n);
			return err_set(e, "manifest line %d malformed", lineno);
		}
		if (push_path_check(path, &pe) < 0) {
			push_entries_free(v, n);
			return err_set(e, "manifest line %d: %s", lineno, pe.msg);
		}
		if (n == cap) {
			struct push_entry *nv;

			cap = cap ? cap * 2 : 64;
			nv = realloc(v, cap * sizeof(*nv));
			if (nv == NULL) {
				push_entries_free(v, n);
				return err_set(e, "out of memory");
			}
			v = nv;
		}
		memcpy(en.digest, w[0], 65);
		en.size = size;
		en.mtime = mtime;
		en.mode = (unsigned)mode;
		en.path = strdup(path);
		if (en.path == NULL) {
			push_entries_free(v, n);
			return err_set(e, "out of memory");
		}
		v[n++] = en;
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_entry);
	*out = v;
	return (long)n;
}

char *push_manifest_format(const struct push_entry *v, size_t n)
{
	size_t i, cap = 1, off = 0;
	char *s;

	for (i = 0; i < n; i++)
		cap += 3 * strlen(v[i].path) + 128;
	s = malloc(cap);
	if (s == NULL)
		return NULL;
	s[0] = '\0';
	for (i = 0; i < n; i++) {
		off += (size_t)snprintf(s + off, cap - off, "%s %llu %lld %04o ", v[i].digest,
		                        (unsigned long long)v[i].size, v[i].mtime, v[i].mode);
		off += path_encode(v[i].path, s + off);
		s[off++] = '\n';
		s[off] = '\0';
	}
	return s;
}

void push_tree_digest(const struct push_entry *v, size_t n, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t i;

	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	for (i = 0; i < n; i++) {
		char line[64];

		snprintf(line, sizeof(line), " %04o ", v[i].mode);
		EVP_DigestUpdate(ctx, v[i].digest, strlen(v[i].digest));
		EVP_DigestUpdate(ctx, line, strlen(line));
		EVP_DigestUpdate(ctx, v[i].path, strlen(v[i].path));
		EVP_DigestUpdate(ctx, "\n", 1);
	}
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	hex_encode(md, mdlen, out);
}

/* -------------------------------------------------------------------- sftp */

static int sftp_fail(sftp_session sf, ssh_session s, struct err *e, const char *what,
                     const char *path)
{
	return err_set(e, "sftp %s %s: %s (sftp error %d)", what, path, ssh_get_error(s),
	               sftp_get_error(sf));
}

/* root with duplicate and trailing slashes dropped; -1 unless it is
 * absolute, with no . or .. component and no control character. */
static int normalise_root(const char *dir, char *out, size_t n, struct err *e)
{
	struct err pe = {.msg = ""};
	size_t o = 0;

	if (dir[0] != '/')
		return err_set(e, "push.dir %s is not an absolute path", dir);
	for (; *dir; dir++) {
		if (*dir == '/' && (dir[1] == '/' || dir[1] == '\0'))
			continue;
		if (o + 1 >= n)
			return err_set(e, "push.dir is too long");
		out[o++] = *dir;
	}
	out[o] = '\0';
	if (o == 0)
		return err_set(e, "push.dir must not be /");
	if (push_path_check(out + 1, &pe) < 0)
		return err_set(e, "push.dir /%s", pe.msg);
	return 0;
}

/* root/rel for a path from our tree or from the remote manifest: rel is
 * checked again (relative, no . or .., no control character), and the
 * joined path, normalised, must still lie under root. */
static int remote_path(const char *root, const char *rel, char *out, size_t n, struct err *e)
{
	struct err pe = {.msg = ""};
	size_t rl = strlen(root);
	char norm[PATH_MAX];

	if (push_path_check(rel, &pe) < 0)
		return err_set(e, "push: refusing a remote path: %s", pe.msg);
	if (path_join(out, n, e, "%s/%s", root, rel) < 0 ||
	    normalise_root(out, norm, sizeof(norm), e) < 0)
		return -1;
	if (strncmp(norm, root, rl) != 0 || norm[rl] != '/' || strcmp(norm, out) != 0)
		return err_set(e, "push: refusing %s: not inside push.dir %s", out, root);
	return 0;
}

/* The two roots: REMOTE (push.dir, the project) and META (ours). */
struct roots {
	char tree[PATH_MAX], meta[PATH_MAX];
};

/* The remote path of an item ("tree/PATH" or "meta/PATH"). */
static int item_dst(const struct roots *r, const char *path, char *out, size_t n, struct err *e)
{
	if (strncmp(path, TREE_PFX, 5) == 0)
		return remote_path(r->tree, path + 5, out, n, e);
	if (strncmp(path, META_PFX, 5) == 0)
		return remote_path(r->meta, path + 5, out, n, e);
	return err_set(e, "push: refusing a remote path outside tree/ and meta/: %s", path);
}

/* Refuses a push.dir that others could change under us, before anything
 * is created: one of its existing parents writable by others without the
 * sticky bit (they could rename it away). */
static int check_parents(sftp_session sf, const char *root, struct err *e)
{
	char up[PATH_MAX], *slash;

	snprintf(up, sizeof(up), "%s", root);
	while ((slash = strrchr(up, '/')) != NULL) {
		sftp_attributes a;

		*(slash == up ? slash + 1 : slash) = '\0';
		a = sftp_stat(sf, up);
		if (a != NULL) {
			unsigned m = a->permissions & 07777;

			sftp_attributes_free(a);
			if ((m & 0002) && !(m & 01000))
				return err_set(
				    e,
				    "push.dir %s is under %s, which is writable by others "
				    "(mode %04o): choose a directory only the login can write",
				    root, up, m);
		}
		if (slash == up)
			break;
	}
	return 0;
}

/* ... and, once it exists: push.dir writable by others itself (like /tmp),
 * or owned by someone else than the login (the owner of the SFTP
 * session's home) or root. */
static int check_root(sftp_session sf, ssh_session s, const char *root, struct err *e)
{
	sftp_attributes a = sftp_stat(sf, root), home;
	unsigned perm, uid;
	int dir;

	if (a == NULL)
		return sftp_fail(sf, s, e, "stat", root);
	perm = a->permissions & 07777;
	uid = a->uid;
	dir = a->type == SSH_FILEXFER_TYPE_DIRECTORY;
	sftp_attributes_free(a);
	if (!dir)
		return err_set(e, "push.dir %s is not a directory", root);
	if (perm & 0002)
		return err_set(e,
		               "push.dir %s is writable by others (mode %04o): choose a "
		               "directory only the login can write, such as /home/LOGIN/inception",
		               root, perm);
	home = sftp_stat(sf, ".");
	if (home != NULL) {
		unsigned me = home->uid;

		sftp_attributes_free(home);
		if (uid != me && uid != 0)
			return err_set(e,
			               "push.dir %s belongs to uid %u, not to the login (uid %u): "
			               "refusing to write into it",
			               root, uid, me);
	}
	return 0;
}

/* mkdir -p of root itself (existing dirs left alone). */
static int remote_mkdir_root(sftp_session sf, ssh_session s, const char *root, struct err *e)
{
	char tmp[PATH_MAX];
	char *p;

	if (path_join(tmp, sizeof(tmp), e, "%s", root) < 0)
		return -1;
	for (p = tmp + 1;; p++) {
		char c = *p;
		sftp_attributes a;

		if (c != '/' && c != '\0')
			continue;
		*p = '\0';
		a = sftp_stat(sf, tmp);
		if (a == NULL) {
			if (sftp_mkdir(sf, tmp, 0755) < 0)
				return sftp_fail(sf, s, e, "mkdir", tmp);
		} else {
			sftp_attributes_free(a);
		}
		*p = c;
		if (c == '\0')
			break;
	}
	return 0;
}

/* The directories of rel below root, created with mode where missing.  One
 * that exists must be a real directory: a symlink there (or a file) would
 * take the write elsewhere, so it is refused. */
static int remote_mkdirs(sftp_session sf, ssh_session s, const char *root, const char *rel,
                         unsigned mode, struct err *e)
{
	char tmp[PATH_MAX];
	size_t rl = strlen(root);
	char *p, *last;

	if (path_join(tmp, sizeof(tmp), e, "%s/%s", root, rel) < 0)
		return -1;
	last = strrchr(tmp, '/');
	for (p = tmp + rl + 1; p <= last; p++) {
		sftp_attributes a;

		if (*p != '/')
			continue;
		*p = '\0';
		a = sftp_lstat(sf, tmp);
		if (a == NULL) {
			if (sftp_mkdir(sf, tmp, (mode_t)mode) < 0)
				return sftp_fail(sf, s, e, "mkdir", tmp);
		} else {
			int dir = a->type == SSH_FILEXFER_TYPE_DIRECTORY;

			sftp_attributes_free(a);
			if (!dir)
				return err_set(
				    e,
				    "push: %s in the VM is not a directory (a symlink?): "
				    "refusing to write through it",
				    tmp);
		}
		*p = '/';
	}
	return 0;
}

/* Opens path for writing as a new file (O_EXCL): a leftover of an
 * interrupted push, or anything else in the way, is removed first (unlink
 * removes a symlink, never what it points to). */
static sftp_file open_new(sftp_session sf, const char *path, unsigned mode)
{
	sftp_file f = sftp_open(sf, path, O_WRONLY | O_CREAT | O_EXCL, (mode_t)mode);

	if (f == NULL && sftp_unlink(sf, path) == 0)
		f = sftp_open(sf, path, O_WRONLY | O_CREAT | O_EXCL, (mode_t)mode);
	return f;
}

/* Longer than 60 lines: one file sent as a temp name (O_EXCL), its mode and mtime set, then
 * renamed: the SFTP handles of the one transfer stay in one function. */
static int upload(sftp_session sf, ssh_session s, const struct item *x, const char *dst,
                  struct push_stats *st, struct err *e)
{
	char tmp[PATH_MAX], buf[32768];
	sftp_file f = NULL;
	int fd = -1, rc = -1;
	struct timeval tv[2];

	if (path_join(tmp, sizeof(tmp), e, "%s%s", dst, TMP_SUFFIX) < 0)
		return -1;
	if (x->link) {
		sftp_unlink(sf, tmp);
		if (sftp_symlink(sf, x->link, tmp) < 0)
			return sftp_fail(sf, s, e, "symlink", tmp);
		st->bytes += x->en.size;
		goto rename;
	}
	f = open_new(sf, tmp, x->en.mode & 0700);
	if (f == NULL)
		return sftp_fail(sf, s, e, "open", tmp);
	if (x->data) {
		size_t len = strlen(x->data);

		if (sftp_write(f, x->data, len) != (ssize_t)len) {
			sftp_fail(sf, s, e, "write", tmp);
			goto done;
		}
		st->bytes += len;
	} else {
		ssize_t r;

		fd = open(x->local, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			err_set(e, "open %s: %s", x->local, strerror(errno));
			goto done;
		}
		while ((r = read(fd, buf, sizeof(buf))) > 0) {
			if (sftp_write(f, buf, (size_t)r) != r) {
				sftp_fail(sf, s, e, "write", tmp);
				goto done;
			}
			st->bytes += (uint64_t)r;
		}
		if (r < 0) {
			err_set(e, "read %s: %s", x->local, strerror(errno));
			goto done;
		}
	}
	if (sftp_close(f) < 0) {
		f = NULL;
		sftp_fail(sf, s, e, "close", tmp);
		goto done;
	}
	f = NULL;
	/* The mode exactly (the remote umask applied at open), the local mtime. */
	if (sftp_chmod(sf, tmp, (mode_t)x->en.mode) < 0) {
		sftp_fail(sf, s, e, "chmod", tmp);
		goto done;
	}
	if (x->en.mtime > 0) {
		tv[0].tv_sec = tv[1].tv_sec = (time_t)x->en.mtime;
		tv[0].tv_usec = tv[1].tv_usec = 0;
		if (sftp_utimes(sf, tmp, tv) < 0) {
			sftp_fail(sf, s, e, "utimes", tmp);
			goto done;
		}
	}
rename:
	if (sftp_rename(sf, tmp, dst) < 0) {
		/* Plain SFTP v3 rename refuses to replace: unlink, then rename. */
		if (sftp_unlink(sf, dst) < 0 || sftp_rename(sf, tmp, dst) < 0) {
			sftp_fail(sf, s, e, "rename", dst);
			goto done;
		}
	}
	rc = 0;
done:
	if (f)
		sftp_close(f);
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		sftp_unlink(sf, tmp);
	return rc;
}

static int put_text(sftp_session sf, ssh_session s, const char *dst, const char *text,
                    struct push_stats *st, struct err *e)
{
	struct item x;

	memset(&x, 0, sizeof(x));
	x.data = text;
	x.en.mode = 0644;
	return upload(sf, s, &x, dst, st, e);
}

/* A remote file of ours, at most max bytes: 0 with *out NULL when it cannot
 * be opened (none yet), -1 when it is larger or cannot be read. */
static int read_remote(sftp_session sf, ssh_session s, const char *path, size_t max, char **out,
                       struct err *e)
{
	sftp_file f = sftp_open(sf, path, O_RDONLY, 0);
	sftp_attributes a;
	char *buf = NULL;
	size_t n = 0;
	int rc = -1;

	*out = NULL;
	if (f == NULL)
		return 0;
	a = sftp_fstat(f);
	if (a != NULL) {
		uint64_t size = a->size;

		sftp_attributes_free(a);
		if (size > max) {
			err_set(e,
			        "push: %s in the VM is %llu bytes, more than the %zu expected: "
			        "refusing to read it (remove it, or `inception destroy`)",
			        path, (unsigned long long)size, max);
			goto done;
		}
	}
	buf = malloc(max + 1);
	if (buf == NULL) {
		err_set(e, "out of memory");
		goto done;
	}
	for (;;) {
		ssize_t r = sftp_read(f, buf + n, max + 1 - n);

		if (r < 0) {
			sftp_fail(sf, s, e, "read", path);
			goto done;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max) {
			err_set(e,
			        "push: %s in the VM is larger than the %zu bytes expected: "
			        "refusing to read it (remove it, or `inception destroy`)",
			        path, max);
			goto done;
		}
	}
	buf[n] = '\0';
	*out = buf;
	buf = NULL;
	rc = 0;
done:
	free(buf);
	sftp_close(f);
	return rc;
}

static const struct push_entry *find_entry(const struct push_entry *v, size_t n, const char *path)
{
	struct push_entry key = {.path = (char *)path};

	return n ? bsearch(&key, v, n, sizeof(*v), cmp_entry) : NULL;
}

/* Type, size and mode of every remote file and symlink under dir, in one
 * round trip (`find -printf` in the guest) instead of one SFTP stat per
 * file.  Returns the count (sorted by path; digest unused), -1 when the
 * listing cannot be had (the caller then stats each file), or -2 with e set
 * when the guest answered too much or too late. */
static long remote_listing(ssh_session s, const char *dir, const char *prefix, int timeout_s,
                           struct push_entry **out, struct err *e)
{
	char q[PATH_MAX + 64], cmd[2 * PATH_MAX + 256], *text = NULL, *line, *save = NULL;
	struct push_entry *v = NULL;
	size_t n = 0, cap = 0;
	int status = -1;

	*out = NULL;
	if (shell_quote(dir, q, sizeof(q), e) < 0)
		return -1;
	if (snprintf(
	        cmd, sizeof(cmd),
	        "test -d %s && find %s \\( -type f -o -type l \\) -printf '%%y %%s %%m %%P\\n'", q,
	        q) >= (int)sizeof(cmd))
		return -1;
	if (remote_capture(s, cmd, timeout_s, &text, &status, e) < 0)
		return -2;
	if (status != 0) {
		free(text);
		return -1;
	}
	for (line = text ? strtok_r(text, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		unsigned long long size;
		unsigned mode;
		char type;
		int off = 0;

		if (sscanf(line, "%c %llu %o %n", &type, &size, &mode, &off) != 3 || off == 0 ||
		    (type != 'f' && type != 'l'))
			continue;
		if (n == cap) {
			struct push_entry *nv;

			cap = cap ? cap * 2 : 128;
			nv = realloc(v, cap * sizeof(*nv));
			if (nv == NULL)
				break;
			v = nv;
		}
		memset(&v[n], 0, sizeof(v[n]));
		if (asprintf(&v[n].path, "%s%s", prefix, line + off) < 0) {
			v[n].path = NULL;
			break;
		}
		v[n].size = size;
		v[n].mode = (type == 'l' ? PUSH_MODE_LINK : 0) | (mode & 07777);
		n++;
	}
	free(text);
	if (n)
		qsort(v, n, sizeof(*v), cmp_entry);
	*out = v;
	return (long)n;
}

/* Is the remote file at dst (rel) still what x says? */
static int remote_same(sftp_session sf, const struct push_entry *listing, long nlist,
                       const struct item *x, const char *dst)
{
	const struct push_entry *r;
	sftp_attributes a;
	unsigned mode;
	int same;

	if (nlist >= 0) { /* the remote file as it is now, from the listing */
		r = find_entry(listing, (size_t)nlist, x->en.path);
		return r && r->size == x->en.size && r->mode == x->en.mode;
	}
	a = sftp_lstat(sf, dst);
	if (a == NULL)
		return 0;
	mode =
	    (a->type == SSH_FILEXFER_TYPE_SYMLINK ? PUSH_MODE_LINK : 0) | (a->permissions & 07777);
	same = a->size == x->en.size && mode == x->en.mode;
	sftp_attributes_free(a);
	return same;
}

/* The directories of a removed file that it left empty, up to (not
 * including) its root: rmdir refuses a directory that is not empty. */
static void rmdir_emptied(sftp_session sf, const struct roots *root, const char *path, char *dst)
{
	size_t rl = strlen(strncmp(path, META_PFX, 5) == 0 ? root->meta : root->tree);
	char *slash;

	while ((slash = strrchr(dst, '/')) != NULL && (size_t)(slash - dst) > rl) {
		*slash = '\0';
		if (sftp_rmdir(sf, dst) < 0)
			break;
	}
}

/* Removes the files of the old manifest that are no longer in the tree (and
 * the directories they leave empty). */
static int remove_gone(sftp_session sf, ssh_session s, const struct roots *root,
                       const struct push_entry *old, long nold, const struct items *it,
                       struct push_stats *st, struct err *e)
{
	long i;

	for (i = 0; old != NULL && i < nold; i++) {
		struct item key;
		char dst[PATH_MAX];

		memset(&key, 0, sizeof(key));
		key.en.path = old[i].path;
		if (it->n && bsearch(&key, it->v, it->n, sizeof(*it->v), cmp_item))
			continue;
		if (item_dst(root, old[i].path, dst, sizeof(dst), e) < 0)
			return -1;
		if (sftp_unlink(sf, dst) < 0 && sftp_get_error(sf) != SSH_FX_NO_SUCH_FILE)
			return sftp_fail(sf, s, e, "unlink", dst);
		st->removed++;
		rmdir_emptied(sf, root, old[i].path, dst);
	}
	return 0;
}

/* Both listings (REMOTE as tree/, META as meta/) merged and sorted; -1
 * when either cannot be had (then each file is stat'ed), -2 on an error. */
static long listing_both(ssh_session s, const struct roots *r, int timeout_s,
                         struct push_entry **out, struct err *e)
{
	struct push_entry *a = NULL, *b = NULL, *v;
	long na, nb;

	*out = NULL;
	if ((na = remote_listing(s, r->tree, TREE_PFX, timeout_s, &a, e)) < 0)
		return na;
	if ((nb = remote_listing(s, r->meta, META_PFX, timeout_s, &b, e)) < 0) {
		push_entries_free(a, (size_t)na);
		return nb;
	}
	v = realloc(a, (size_t)(na + nb + 1) * sizeof(*v));
	if (v == NULL) {
		push_entries_free(a, (size_t)na);
		push_entries_free(b, (size_t)nb);
		return -1;
	}
	if (nb)
		memcpy(v + na, b, (size_t)nb * sizeof(*v));
	free(b);
	if (na + nb)
		qsort(v, (size_t)(na + nb), sizeof(*v), cmp_entry);
	*out = v;
	return na + nb;
}

/* Checks a root (push.dir or META) before anything is written, creates it,
 * and checks it again once it exists. */
static int prepare_root(sftp_session sf, ssh_session s, const char *root, struct err *e)
{
	return check_parents(sf, root, e) < 0 || remote_mkdir_root(sf, s, root, e) < 0 ||
	               check_root(sf, s, root, e) < 0
	           ? -1
	           : 0;
}

/* The old manifest of META (NULL, 0 when none or damaged: a full push that
 * removes nothing). */
static long old_manifest(sftp_session sf, ssh_session s, const struct roots *r,
                         struct push_entry **old, struct err *e)
{
	char path[PATH_MAX], *text = NULL;
	long nold = 0, i;

	*old = NULL;
	if (remote_path(r->meta, MANIFEST, path, sizeof(path), e) < 0 ||
	    read_remote(sf, s, path, PUSH_MANIFEST_MAX, &text, e) < 0)
		return -1;
	if (text && (nold = push_manifest_parse(text, old, e)) >= 0) {
		for (i = 0; *old != NULL && i < nold; i++)
			if (strncmp((*old)[i].path, TREE_PFX, 5) != 0 &&
			    strncmp((*old)[i].path, META_PFX, 5) != 0) {
				err_set(e, "an entry outside tree/ and meta/");
				push_entries_free(*old, (size_t)nold);
				*old = NULL;
				nold = -1;
				break;
			}
	}
	if (nold < 0) {
		report_debug("push: ignoring the manifest in the VM: %s", e->msg);
		err_clear(e);
		nold = 0;
		*old = NULL;
	}
	free(text);
	return nold;
}

/* Writes the manifest when it changed, then tree.digest (last: the agent
 * redoes make only for a complete tree). */
static int write_manifest(sftp_session sf, ssh_session s, const struct roots *r,
                          const struct items *it, long nold, struct push_stats *st, struct err *e)
{
	struct push_entry *cur = calloc(it->n ? it->n : 1, sizeof(*cur));
	char path[PATH_MAX], digest_line[80], *manifest = NULL, *old_digest = NULL;
	size_t i;
	int rc = -1;

	if (cur == NULL)
		return err_set(e, "out of memory");
	for (i = 0; i < it->n; i++)
		cur[i] = it->v[i].en; /* shallow: paths stay owned by it */
	push_tree_digest(cur, it->n, st->tree_digest);
	manifest = push_manifest_format(cur, it->n);
	if (manifest == NULL) {
		err_set(e, "out of memory");
		goto done;
	}
	if (remote_path(r->meta, MANIFEST, path, sizeof(path), e) < 0)
		goto done;
	if ((st->sent || st->removed || nold != (long)it->n) &&
	    put_text(sf, s, path, manifest, st, e) < 0)
		goto done;
	if (remote_path(r->meta, TREE_DIGEST, path, sizeof(path), e) < 0 ||
	    read_remote(sf, s, path, PUSH_DIGEST_MAX, &old_digest, e) < 0)
		goto done;
	snprintf(digest_line, sizeof(digest_line), "%s\n", st->tree_digest);
	if ((old_digest == NULL || strcmp(old_digest, digest_line) != 0) &&
	    put_text(sf, s, path, digest_line, st, e) < 0)
		goto done;
	rc = 0;
done:
	free(cur);
	free(manifest);
	free(old_digest);
	return rc;
}

/* Longer than 60 lines: the push in order (collect, check both roots, read
 * the old manifest, remove, send, manifest, tree.digest), each step a call. */
int push_tree(ssh_session s, const struct push_src *src, const char *remote_dir,
              const char *meta_dir, struct push_stats *st, struct err *e)
{
	struct items it = {0};
	struct push_entry *old = NULL, *listing = NULL;
	long nold = 0, nlist = -1;
	sftp_session sf = NULL;
	struct roots r;
	size_t i, tl, ml;
	int rc = -1;

	memset(st, 0, sizeof(*st));
	if (normalise_root(remote_dir, r.tree, sizeof(r.tree), e) < 0 ||
	    normalise_root(meta_dir, r.meta, sizeof(r.meta), e) < 0)
		goto done;
	tl = strlen(r.tree);
	ml = strlen(r.meta);
	if ((strncmp(r.meta, r.tree, tl) == 0 && (r.meta[tl] == '/' || !r.meta[tl])) ||
	    (strncmp(r.tree, r.meta, ml) == 0 && (r.tree[ml] == '/' || !r.tree[ml]))) {
		err_set(e,
		        "push.dir %s and %s (the agent's files) must not contain each other: "
		        "choose another push.dir",
		        r.tree, r.meta);
		goto done;
	}
	if (collect(src, &it, e) < 0)
		goto done;
	st->files = (unsigned)it.n;
	sf = sftp_new(s);
	if (sf == NULL || sftp_init(sf) < 0) {
		err_set(e, "SFTP session: %s", ssh_get_error(s));
		goto done;
	}
	if (prepare_root(sf, s, r.tree, e) < 0 || prepare_root(sf, s, r.meta, e) < 0 ||
	    (nold = old_manifest(sf, s, &r, &old, e)) < 0)
		goto done;
	if (nold > 0 && (nlist = listing_both(s, &r, src->timeout_s, &listing, e)) == -2)
		goto done;
	/* Removals first: a path that was a symlink may be a directory now. */
	if (remove_gone(sf, s, &r, old, nold, &it, st, e) < 0)
		goto done;
	for (i = 0; i < it.n; i++) {
		const struct item *x = &it.v[i];
		const struct push_entry *o = find_entry(old, (size_t)nold, x->en.path);
		const char *root = strncmp(x->en.path, META_PFX, 5) == 0 ? r.meta : r.tree;
		char dst[PATH_MAX];

		if (item_dst(&r, x->en.path, dst, sizeof(dst), e) < 0)
			goto done;
		if (o && o->size == x->en.size && o->mode == x->en.mode &&
		    strcmp(o->digest, x->en.digest) == 0 &&
		    remote_same(sf, listing, nlist, x, dst)) {
			st->skipped++;
			continue;
		}
		if (remote_mkdirs(sf, s, root, x->en.path + 5,
		                  (unsigned)(x->dir_mode ? x->dir_mode : 0755), e) < 0 ||
		    upload(sf, s, x, dst, st, e) < 0)
			goto done;
		st->sent++;
	}
	if (write_manifest(sf, s, &r, &it, nold, st, e) < 0)
		goto done;
	rc = 0;
done:
	if (sf)
		sftp_free(sf);
	push_entries_free(old, (size_t)(nold > 0 ? nold : 0));
	push_entries_free(listing, (size_t)(nlist > 0 ? nlist : 0));
	items_free(&it);
	return rc;
}
