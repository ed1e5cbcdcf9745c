/*
 * hostsfile.c: the /etc/hosts editor (see hostsfile.h).
 *
 * One pass over the lines.  Each line is split into its body, an optional
 * comment (from the first '#') and its ending ("\n", "\r\n" or none for a
 * last line without newline); the body into whitespace-separated fields.
 * Only lines that list NAME are rebuilt; every other byte is copied.
 */
#include "hostsfile.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "buf.h"
#include "util.h"

#define HOSTS_MAX (64u << 20)
/* how long an editor waits for another one's lock */
#define HOSTS_LOCK_WAIT_MS 30000

/* The edit's output: appends stop at the first failure (out of memory),
 * reported once at the end. */
struct out {
	struct buf b;
	int failed;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (!o->failed && buf_add(&o->b, s, n, NULL, NULL) < 0)
		o->failed = 1;
}

static void put_str(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

int hosts_name_valid(const char *name)
{
	size_t n = strlen(name), label = 0, i;

	if (n == 0 || n > 253 || name[0] == '-' || name[0] == '.' || name[n - 1] == '-' ||
	    name[n - 1] == '.')
		return 0;
	for (i = 0; i < n; i++) {
		char c = name[i];

		if (c == '.') {
			if (label == 0 || name[i - 1] == '-' || name[i + 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-'))
			return 0;
		if (++label > 63)
			return 0;
	}
	return 1;
}

static int ip_valid(const char *ip)
{
	unsigned char a[16];

	return inet_pton(AF_INET, ip, a) == 1 || inet_pton(AF_INET6, ip, a) == 1;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

#define MAX_FIELDS 4096

struct field {
	const char *p;
	size_t n;
};

/* Splits body[0..n) into fields; returns the count (capped, the rest is
 * kept as one last field so nothing is lost when a line is rebuilt). */
static size_t split(const char *body, size_t n, struct field *f)
{
	size_t i = 0, nf = 0;

	while (i < n) {
		size_t start;

		while (i < n && is_space(body[i]))
			i++;
		if (i >= n)
			break;
		start = i;
		if (nf == MAX_FIELDS - 1) {
			size_t end = n;

			while (end > start && is_space(body[end - 1]))
				end--;
			f[nf].p = body + start;
			f[nf].n = end - start;
			return nf + 1;
		}
		while (i < n && !is_space(body[i]))
			i++;
		f[nf].p = body + start;
		f[nf].n = i - start;
		nf++;
	}
	return nf;
}

static int field_is(const struct field *f, const char *s, size_t n)
{
	return f->n == n && strncasecmp(f->p, s, n) == 0 && memchr(f->p, '\0', n) == NULL;
}

/* Longer than 60 lines: one pass over the lines with one output buffer; each kind of line (ours,
 * another address, a comment) is a few lines of the loop, and its contract (hostsfile.h) reads top
 * to bottom here. */
int hosts_edit(const char *in, size_t len, const char *name, const char *ip, char **out,
               size_t *outlen, int *changed, struct err *e)
{
	struct out b = {.failed = 0};
	struct field *f = NULL;
	const char *eol = "\n", *nl;
	size_t pos = 0, name_n = strlen(name), ip_n = ip ? strlen(ip) : 0;
	int found = 0, rc = -1;

	if (!hosts_name_valid(name))
		return err_set(e, "invalid host name \"%s\"", name);
	if (ip && !ip_valid(ip))
		return err_set(e, "invalid address \"%s\"", ip);
	f = malloc(MAX_FIELDS * sizeof(*f));
	if (f == NULL)
		return err_set(e, "out of memory");
	buf_init(&b.b, SIZE_MAX);
	nl = memchr(in, '\n', len);
	if (nl && nl > in && nl[-1] == '\r')
		eol = "\r\n";
	put(&b, "", 0);

	while (pos < len) {
		const char *line = in + pos, *hash, *body_end;
		size_t rest = len - pos, line_n, full_n, body_n, nf, i, keep;
		const char *line_eol;
		int has_name = 0;

		nl = memchr(line, '\n', rest);
		full_n = nl ? (size_t)(nl - line) + 1 : rest;
		line_n = nl ? (size_t)(nl - line) : rest;
		line_eol = nl ? (line_n > 0 && line[line_n - 1] == '\r' ? "\r\n" : "\n") : "";
		if (nl && line_n > 0 && line[line_n - 1] == '\r')
			line_n--;
		pos += full_n;

		hash = memchr(line, '#', line_n);
		body_end = hash ? hash : line + line_n;
		body_n = (size_t)(body_end - line);
		nf = split(line, body_n, f);
		for (i = 1; i < nf; i++)
			if (field_is(&f[i], name, name_n))
				has_name = 1;
		if (!has_name) {
			put(&b, line, full_n);
			continue;
		}
		if (ip && !found && field_is(&f[0], ip, ip_n) && f[0].n == ip_n &&
		    memcmp(f[0].p, ip, ip_n) == 0) {
			found = 1;
			put(&b, line, full_n);
			continue;
		}
		/* Rebuild the line without NAME. */
		keep = 0;
		for (i = 1; i < nf; i++)
			if (!field_is(&f[i], name, name_n))
				keep++;
		if (keep) {
			size_t written = 0;

			put(&b, f[0].p, f[0].n);
			put_str(&b, "\t");
			for (i = 1; i < nf; i++) {
				if (field_is(&f[i], name, name_n))
					continue;
				if (written++)
					put_str(&b, " ");
				put(&b, f[i].p, f[i].n);
			}
			if (hash) {
				put_str(&b, " ");
				put(&b, hash, (size_t)(line + line_n - hash));
			}
			put_str(&b, *line_eol ? line_eol : eol);
		} else if (hash) {
			put(&b, hash, (size_t)(line + line_n - hash));
			put_str(&b, *line_eol ? line_eol : eol);
		}
	}
	if (ip && !found) {
		if (b.b.len > 0 && b.b.p[b.b.len - 1] != '\n')
			put_str(&b, eol);
		put_str(&b, ip);
		put_str(&b, "\t");
		put_str(&b, name);
		put_str(&b, eol);
	}
	if (b.failed) {
		err_set(e, "out of memory");
		goto done;
	}
	*changed = b.b.len != len || memcmp(b.b.p, in, len) != 0;
	*outlen = b.b.len;
	*out = buf_detach(&b.b, NULL);
	rc = 0;
done:
	buf_free(&b.b);
	free(f);
	return rc;
}

int hosts_file_target(const char *path, char *target, size_t n, struct err *e)
{
	char real[PATH_MAX];

	if (realpath(path, real) == NULL)
		return err_set(e, "%s: %s", path, strerror(errno));
	if (strlen(real) >= n)
		return err_set(e, "%s: path too long", real);
	memcpy(target, real, strlen(real) + 1);
	return 0;
}

/* Opens and locks the file at path, retrying when it was replaced while we
 * waited (the previous holder renamed a new file over the one we locked).
 * The lock is released when fd is closed. */
static int lock_file(const char *path, int *fdp, struct err *e)
{
	struct stat a, b;
	int fd, waited;

	for (waited = 0;; waited++) {
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0)
			return err_set(e, "open %s: %s", path, strerror(errno));
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			if (fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
			    a.st_ino == b.st_ino) {
				*fdp = fd;
				return 0;
			}
		} else if (errno != EWOULDBLOCK) {
			err_set(e, "lock %s: %s", path, strerror(errno));
			close(fd);
			return -1;
		}
		close(fd);
		if (waited >= HOSTS_LOCK_WAIT_MS / 50)
			return err_set(e, "%s is locked by another editor (waited %d s)", path,
			               HOSTS_LOCK_WAIT_MS / 1000);
		usleep(50 * 1000);
	}
}

static int read_fd(int fd, const char *path, char **data, size_t *len, struct err *e)
{
	struct buf b;

	buf_init(&b, HOSTS_MAX);
	if (buf_read_fd(&b, fd, path, e) < 0) {
		buf_free(&b);
		return -1;
	}
	*data = buf_detach(&b, len);
	return *data ? 0 : err_set(e, "out of memory reading %s", path);
}

/* Gives the new file every extended attribute of the old one: the SELinux
 * label (security.selinux), ACLs, user.* attributes. */
static int copy_xattrs(int from, int to, const char *path, struct err *e)
{
	char *names = NULL, *val = NULL, *name;
	ssize_t n, vn;
	int rc = -1;

	n = flistxattr(from, NULL, 0);
	if (n < 0 && (errno == ENOTSUP || errno == ENOSYS))
		return 0;
	if (n <= 0)
		return n == 0 ? 0 : err_set(e, "list attributes of %s: %s", path, strerror(errno));
	names = malloc((size_t)n);
	if (names == NULL || (n = flistxattr(from, names, (size_t)n)) < 0) {
		err_set(e, "list attributes of %s: %s", path, strerror(errno));
		goto done;
	}
	for (name = names; name < names + n; name += strlen(name) + 1) {
		vn = fgetxattr(from, name, NULL, 0);
		if (vn < 0) {
			err_set(e, "read attribute %s of %s: %s", name, path, strerror(errno));
			goto done;
		}
		free(val);
		val = malloc((size_t)vn + 1);
		if (val == NULL || (vn = fgetxattr(from, name, val, (size_t)vn)) < 0 ||
		    fsetxattr(to, name, val, (size_t)vn, 0) < 0) {
			err_set(e, "copy attribute %s of %s: %s", name, path, strerror(errno));
			goto done;
		}
	}
	rc = 0;
done:
	free(names);
	free(val);
	return rc;
}

/* dir gets the directory of an absolute path (PATH_MAX bytes). */
static void parent_dir(const char *path, char dir[PATH_MAX])
{
	const char *slash = strrchr(path, '/');
	size_t n = slash && slash > path ? (size_t)(slash - path) : 1;

	memcpy(dir, slash ? path : "/", n);
	dir[n] = '\0';
}

/* Removes temp files a killed editor left next to the file: ours
 * ("NAME.tmp.XXXXXX", as util.c's atomic writer names them too).  Called
 * with the lock held, when no other editor of ours has one open. */
static void remove_stale_temps(const char *dir, const char *base)
{
	size_t bl = strlen(base);
	struct dirent *d;
	DIR *dp = opendir(dir);

	if (dp == NULL)
		return;
	while ((d = readdir(dp)) != NULL) {
		char p[PATH_MAX];
		struct stat st;
		size_t i;
		int ours = strncmp(d->d_name, base, bl) == 0 &&
		           strncmp(d->d_name + bl, ".tmp.", 5) == 0 &&
		           strlen(d->d_name + bl + 5) == 6;

		for (i = 0; ours && i < 6; i++)
			ours = isalnum((unsigned char)d->d_name[bl + 5 + i]);
		if (!ours || snprintf(p, sizeof(p), "%s/%s", dir, d->d_name) >= (int)sizeof(p))
			continue;
		if (lstat(p, &st) == 0 && S_ISREG(st.st_mode))
			unlink(p);
	}
	closedir(dp);
}

/* The new content next to the old file (same directory: rename is atomic),
 * with its mode, owner and extended attributes, synced, renamed over it,
 * and the directory synced so the rename survives a crash. */
static int replace_file(const char *path, int oldfd, const struct stat *st, const char *data,
                        size_t len, struct err *e)
{
	char dir[PATH_MAX], tmp[PATH_MAX];
	size_t off = 0;
	int fd, dfd, rc = -1;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >= (int)sizeof(tmp))
		return err_set(e, "%s: path too long", path);
	parent_dir(path, dir);
	fd = mkstemp(tmp);
	if (fd < 0)
		return err_set(e, "create %s: %s", tmp, strerror(errno));
	if (fchown(fd, st->st_uid, st->st_gid) < 0 || fchmod(fd, st->st_mode & 07777) < 0) {
		err_set(e, "chmod/chown %s: %s", tmp, strerror(errno));
		goto done;
	}
	if (copy_xattrs(oldfd, fd, path, e) < 0)
		goto done;
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			err_set(e, "write %s: %s", tmp, strerror(errno));
			goto done;
		}
		off += (size_t)w;
	}
	if (fsync(fd) < 0) {
		err_set(e, "fsync %s: %s", tmp, strerror(errno));
		goto done;
	}
	if (rename(tmp, path) < 0) {
		err_set(e, "rename %s -> %s: %s", tmp, path, strerror(errno));
		goto done;
	}
	tmp[0] = '\0';
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) < 0) {
		err_set(e, "fsync %s: %s", dir, strerror(errno));
		if (dfd >= 0)
			close(dfd);
		goto done;
	}
	close(dfd);
	rc = 0;
done:
	close(fd);
	if (tmp[0])
		unlink(tmp);
	return rc;
}

int hosts_edit_file(const char *path, const char *name, const char *ip, int must_exist,
                    int *changed, struct err *e)
{
	char target[PATH_MAX], *in = NULL, *out = NULL;
	size_t inlen = 0, outlen = 0;
	struct stat st;
	int fd = -1, rc = -1;

	*changed = 0;
	/* a symlinked hosts file: its target is edited, the link stays */
	if (realpath(path, target) == NULL) {
		if (errno != ENOENT || must_exist)
			return err_set(e, "stat %s: %s", path, strerror(errno));
		return 0;
	}
	if (lock_file(target, &fd, e) < 0)
		return -1;
	if (fstat(fd, &st) < 0) {
		err_set(e, "stat %s: %s", target, strerror(errno));
		goto done;
	}
	if (!S_ISREG(st.st_mode)) {
		err_set(e, "%s is not a regular file", target);
		goto done;
	}
	{
		char dir[PATH_MAX];

		parent_dir(target, dir);
		remove_stale_temps(dir, strrchr(target, '/') + 1);
	}
	if (read_fd(fd, target, &in, &inlen, e) < 0)
		goto done;
	if (hosts_edit(in, inlen, name, ip, &out, &outlen, changed, e) < 0)
		goto done;
	if (*changed && replace_file(target, fd, &st, out, outlen, e) < 0)
		goto done;
	rc = 0;
done:
	close(fd);
	free(in);
	free(out);
	return rc;
}
