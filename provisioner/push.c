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
#include "util.h"

#define TMP_SUFFIX ".inception-tmp"
#define MANIFEST ".inception/manifest"
#define TREE_DIGEST ".inception/tree.digest"

struct item {
	struct push_entry en;
	char *local;        /* file to read, or NULL when data is set */
	const char *data;   /* in-memory content (agent.conf) */
	int dir_mode;       /* mode for its parent directory (0700 for secrets) */
};

struct items {
	struct item *v;
	size_t n, cap;
};

static int digest_file(const char *path, char out[65], struct err *e)
{
	unsigned char buf[65536], md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = -1;
	ssize_t r;

	if (fd < 0 || ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		err_set(e, "read %s: %s", path, fd < 0 ? strerror(errno) : "digest init failed");
		goto done;
	}
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		EVP_DigestUpdate(ctx, buf, (size_t)r);
	if (r < 0) {
		err_set(e, "read %s: %s", path, strerror(errno));
		goto done;
	}
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	hex_encode(md, mdlen, out);
	rc = 0;
done:
	if (fd >= 0)
		close(fd);
	EVP_MD_CTX_free(ctx);
	return rc;
}

static void digest_mem(const void *p, size_t n, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	EVP_Digest(p, n, md, &mdlen, EVP_sha256(), NULL);
	hex_encode(md, mdlen, out);
}

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
	return digest_file(local, x->en.digest, e);
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
	digest_mem(data, strlen(data), x->en.digest);
	return 0;
}

/* Walks dir (relative rel) adding regular files; skip is a name to leave out
 * at the top level (srcs/.env). */
static int add_tree(struct items *it, const char *dir, const char *rel, const char *skip,
		    struct err *e)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int rc = -1;

	if (d == NULL)
		return err_set(e, "open %s: %s", dir, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		char lp[PATH_MAX], rp[PATH_MAX];
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (skip && strcmp(de->d_name, skip) == 0)
			continue;
		if (path_join(lp, sizeof(lp), e, "%s/%s", dir, de->d_name) < 0 ||
		    path_join(rp, sizeof(rp), e, "%s/%s", rel, de->d_name) < 0)
			goto done;
		if (lstat(lp, &st) < 0) {
			err_set(e, "stat %s: %s", lp, strerror(errno));
			goto done;
		}
		if (S_ISDIR(st.st_mode)) {
			if (add_tree(it, lp, rp, NULL, e) < 0)
				goto done;
		} else if (S_ISREG(st.st_mode)) {
			if (add_file(it, lp, rp, 0, 0755, e) < 0)
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

static int collect(const struct push_src *src, struct items *it, struct err *e)
{
	char p[PATH_MAX];
	static const char *const makefiles[] = { "provisioner/build.mk", "tests/tests.mk", NULL };
	int i;

	if (path_join(p, sizeof(p), e, "%s/Makefile", src->top) < 0 ||
	    add_file(it, p, "Makefile", 0, 0755, e) < 0)
		return -1;
	for (i = 0; makefiles[i]; i++) {
		if (path_join(p, sizeof(p), e, "%s/%s", src->top, makefiles[i]) < 0)
			return -1;
		if (access(p, R_OK) == 0 && add_file(it, p, makefiles[i], 0, 0755, e) < 0)
			return -1;
	}
	if (path_join(p, sizeof(p), e, "%s/srcs", src->top) < 0 ||
	    add_tree(it, p, "srcs", ".env", e) < 0)
		return -1;
	if (src->env_file && add_file(it, src->env_file, "srcs/.env", 0644, 0755, e) < 0)
		return -1;
	if (src->secrets_dir) {
		DIR *d = opendir(src->secrets_dir);
		struct dirent *de;

		if (d == NULL)
			return err_set(e, "open %s: %s", src->secrets_dir, strerror(errno));
		while ((de = readdir(d)) != NULL) {
			char rel[PATH_MAX];
			size_t n = strlen(de->d_name);

			if (n < 5 || strcmp(de->d_name + n - 4, ".txt") != 0)
				continue;
			if (path_join(p, sizeof(p), e, "%s/%s", src->secrets_dir, de->d_name) < 0 ||
			    path_join(rel, sizeof(rel), e, "secrets/%s", de->d_name) < 0 ||
			    add_file(it, p, rel, 0600, 0700, e) < 0) {
				closedir(d);
				return -1;
			}
		}
		closedir(d);
	}
	if (src->agent_bin && add_file(it, src->agent_bin, ".inception/agent", 0755, 0755, e) < 0)
		return -1;
	if (src->agent_conf && add_mem(it, src->agent_conf, ".inception/agent.conf", 0644, e) < 0)
		return -1;
	if (src->with_agent_src) {
		static const char *const extra[] = { "provisioner/err.c", "provisioner/err.h",
						     "provisioner/util.c", "provisioner/util.h", NULL };
		const char *atop = src->agent_src_top ? src->agent_src_top : src->top;

		if (path_join(p, sizeof(p), e, "%s/agent", atop) < 0 ||
		    add_tree(it, p, ".inception/agent-src", NULL, e) < 0)
			return -1;
		for (i = 0; extra[i]; i++) {
			char rel[PATH_MAX];
			const char *base = strrchr(extra[i], '/');

			base = base ? base + 1 : extra[i];
			if (path_join(p, sizeof(p), e, "%s/%s", atop, extra[i]) < 0 ||
			    path_join(rel, sizeof(rel), e, ".inception/agent-src/%s", base) < 0 ||
			    add_file(it, p, rel, 0, 0755, e) < 0)
				return -1;
		}
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
		char line[PATH_MAX + 200], path[PATH_MAX + 1];
		unsigned long long size;
		long long mtime;
		unsigned mode;
		int off = 0;
		struct push_entry en;

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
		if (sscanf(line, "%64s %llu %lld %o %n", en.digest, &size, &mtime, &mode, &off) != 4 ||
		    off == 0 || strlen(en.digest) != 64 || line[off] == '\0') {
			push_entries_free(v, n);
			return err_set(e, "manifest line %d malformed", lineno);
		}
		snprintf(path, sizeof(path), "%s", line + off);
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
		en.size = size;
		en.mtime = mtime;
		en.mode = mode & 07777;
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
		cap += strlen(v[i].path) + 128;
	s = malloc(cap);
	if (s == NULL)
		return NULL;
	s[0] = '\0';
	for (i = 0; i < n; i++)
		off += (size_t)snprintf(s + off, cap - off, "%s %llu %lld %04o %s\n", v[i].digest,
					(unsigned long long)v[i].size, v[i].mtime, v[i].mode,
					v[i].path);
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

/* mkdir -p of REMOTE/dirname(rel) with mode (existing dirs left alone). */
static int remote_mkdirs(sftp_session sf, ssh_session s, const char *path, unsigned mode,
			 struct err *e)
{
	char tmp[PATH_MAX];
	char *p;

	if (path_join(tmp, sizeof(tmp), e, "%s", path) < 0)
		return -1;
	for (p = tmp + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		{
			char c = *p;
			sftp_attributes a;

			*p = '\0';
			a = sftp_stat(sf, tmp);
			if (a == NULL) {
				if (sftp_mkdir(sf, tmp, (mode_t)mode) < 0)
					return sftp_fail(sf, s, e, "mkdir", tmp);
			} else {
				sftp_attributes_free(a);
			}
			*p = c;
			if (c == '\0')
				break;
		}
	}
	return 0;
}

static int upload(sftp_session sf, ssh_session s, const struct item *x, const char *dst,
		  struct push_stats *st, struct err *e)
{
	char tmp[PATH_MAX], buf[32768];
	sftp_file f = NULL;
	int fd = -1, rc = -1;
	struct timeval tv[2];

	if (path_join(tmp, sizeof(tmp), e, "%s%s", dst, TMP_SUFFIX) < 0)
		return -1;
	f = sftp_open(sf, tmp, O_WRONLY | O_CREAT | O_TRUNC, (mode_t)(x->en.mode & 0700));
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

static char *read_remote(sftp_session sf, const char *path)
{
	sftp_file f = sftp_open(sf, path, O_RDONLY, 0);
	char *buf = NULL;
	size_t n = 0, cap = 0;

	if (f == NULL)
		return NULL;
	for (;;) {
		ssize_t r;

		if (n + 16384 + 1 > cap) {
			char *p;

			cap = cap ? cap * 2 : 65536;
			p = realloc(buf, cap);
			if (p == NULL) {
				free(buf);
				sftp_close(f);
				return NULL;
			}
			buf = p;
		}
		r = sftp_read(f, buf + n, 16384);
		if (r < 0) {
			free(buf);
			sftp_close(f);
			return NULL;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	sftp_close(f);
	if (buf == NULL)
		buf = calloc(1, 1);
	else
		buf[n] = '\0';
	return buf;
}

static const struct push_entry *find_entry(const struct push_entry *v, size_t n,
					   const char *path)
{
	struct push_entry key = { .path = (char *)path };

	return n ? bsearch(&key, v, n, sizeof(*v), cmp_entry) : NULL;
}

/* Sizes and modes of every remote file under dir, in one round trip
 * (`find -printf` in the guest) instead of one SFTP stat per file.
 * Returns the count (sorted by path; digest unused) or -1 when the listing
 * cannot be had (the caller then stats each file). */
static long remote_listing(ssh_session s, const char *dir, struct push_entry **out)
{
	char q[PATH_MAX + 64], cmd[2 * PATH_MAX + 256], *text = NULL, *line, *save = NULL;
	struct push_entry *v = NULL;
	size_t n = 0, cap = 0;
	int status = -1;
	struct err e = { .msg = "" };

	*out = NULL;
	if (shell_quote(dir, q, sizeof(q), &e) < 0)
		return -1;
	if (snprintf(cmd, sizeof(cmd), "test -d %s && find %s -type f -printf '%%s %%m %%P\\n'", q,
		     q) >= (int)sizeof(cmd))
		return -1;
	if (remote_capture(s, cmd, &text, &status, &e) < 0 || status != 0) {
		free(text);
		return -1;
	}
	for (line = text ? strtok_r(text, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		unsigned long long size;
		unsigned mode;
		int off = 0;

		if (sscanf(line, "%llu %o %n", &size, &mode, &off) != 2 || off == 0)
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
		v[n].path = strdup(line + off);
		if (v[n].path == NULL)
			break;
		v[n].size = size;
		v[n].mode = mode & 07777;
		n++;
	}
	free(text);
	if (n)
		qsort(v, n, sizeof(*v), cmp_entry);
	*out = v;
	return (long)n;
}

int push_tree(ssh_session s, const struct push_src *src, const char *remote_dir,
	      struct push_stats *st, struct err *e)
{
	struct items it = { 0 };
	struct push_entry *old = NULL, *cur = NULL, *listing = NULL;
	long nold = 0, nlist = -1;
	sftp_session sf = NULL;
	char path[PATH_MAX], *text = NULL, *manifest = NULL, digest_line[80];
	size_t i;
	int rc = -1;

	memset(st, 0, sizeof(*st));
	if (collect(src, &it, e) < 0)
		goto done;
	st->files = (unsigned)it.n;
	sf = sftp_new(s);
	if (sf == NULL || sftp_init(sf) < 0) {
		err_set(e, "SFTP session: %s", ssh_get_error(s));
		goto done;
	}
	if (remote_mkdirs(sf, s, remote_dir, 0755, e) < 0)
		goto done;
	if (path_join(path, sizeof(path), e, "%s/%s", remote_dir, MANIFEST) < 0)
		goto done;
	text = read_remote(sf, path);
	if (text && (nold = push_manifest_parse(text, &old, e)) < 0) {
		nold = 0; /* a damaged manifest only costs a full push */
		old = NULL;
	}
	if (nold > 0)
		nlist = remote_listing(s, remote_dir, &listing);

	for (i = 0; i < it.n; i++) {
		const struct item *x = &it.v[i];
		const struct push_entry *o = find_entry(old, (size_t)nold, x->en.path);
		char dst[PATH_MAX], dir[PATH_MAX], *slash;

		if (path_join(dst, sizeof(dst), e, "%s/%s", remote_dir, x->en.path) < 0)
			goto done;
		if (o && o->size == x->en.size && o->mode == x->en.mode &&
		    strcmp(o->digest, x->en.digest) == 0) {
			int same;

			if (nlist >= 0) { /* the remote file as it is now, from the listing */
				const struct push_entry *r = find_entry(listing, (size_t)nlist, x->en.path);

				same = r && r->size == x->en.size && r->mode == x->en.mode;
			} else {
				sftp_attributes a = sftp_stat(sf, dst);

				same = a && a->size == x->en.size && (a->permissions & 07777) == x->en.mode;
				if (a)
					sftp_attributes_free(a);
			}
			if (same) {
				st->skipped++;
				continue;
			}
		}
		snprintf(dir, sizeof(dir), "%s", dst);
		slash = strrchr(dir, '/');
		if (slash) {
			*slash = '\0';
			if (remote_mkdirs(sf, s, dir, (unsigned)(x->dir_mode ? x->dir_mode : 0755), e) <
			    0)
				goto done;
		}
		if (upload(sf, s, x, dst, st, e) < 0)
			goto done;
		st->sent++;
	}
	/* Files pushed before and gone locally. */
	for (i = 0; old != NULL && i < (size_t)nold; i++) {
		struct item key = { 0 };
		char dst[PATH_MAX];

		key.en.path = old[i].path;
		if (it.n && bsearch(&key, it.v, it.n, sizeof(*it.v), cmp_item))
			continue;
		if (path_join(dst, sizeof(dst), e, "%s/%s", remote_dir, old[i].path) < 0)
			goto done;
		if (sftp_unlink(sf, dst) < 0 && sftp_get_error(sf) != SSH_FX_NO_SUCH_FILE) {
			sftp_fail(sf, s, e, "unlink", dst);
			goto done;
		}
		st->removed++;
	}

	cur = calloc(it.n ? it.n : 1, sizeof(*cur));
	if (cur == NULL) {
		err_set(e, "out of memory");
		goto done;
	}
	for (i = 0; i < it.n; i++)
		cur[i] = it.v[i].en; /* shallow: paths stay owned by it */
	push_tree_digest(cur, it.n, st->tree_digest);
	manifest = push_manifest_format(cur, it.n);
	if (manifest == NULL) {
		err_set(e, "out of memory");
		goto done;
	}
	if (st->sent || st->removed || nold != (long)it.n) {
		if (path_join(path, sizeof(path), e, "%s/%s", remote_dir, MANIFEST) < 0 ||
		    put_text(sf, s, path, manifest, st, e) < 0)
			goto done;
	}
	/* tree.digest last: the agent redoes make only for a complete tree. */
	if (path_join(path, sizeof(path), e, "%s/%s", remote_dir, TREE_DIGEST) < 0)
		goto done;
	snprintf(digest_line, sizeof(digest_line), "%s\n", st->tree_digest);
	{
		char *old_digest = read_remote(sf, path);
		int same = old_digest && strcmp(old_digest, digest_line) == 0;

		free(old_digest);
		if (!same && put_text(sf, s, path, digest_line, st, e) < 0)
			goto done;
	}
	rc = 0;
done:
	if (sf)
		sftp_free(sf);
	free(cur);
	free(manifest);
	free(text);
	push_entries_free(old, (size_t)(nold > 0 ? nold : 0));
	push_entries_free(listing, (size_t)(nlist > 0 ? nlist : 0));
	items_free(&it);
	return rc;
}
