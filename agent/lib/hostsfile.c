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
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "util.h"

#define HOSTS_MAX (64u << 20)

struct buf {
	char *p;
	size_t len, cap;
	int oom;
};

static void buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->p, cap);
		if (p == NULL) {
			b->oom = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
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

int hosts_edit(const char *in, size_t len, const char *name, const char *ip, char **out,
	       size_t *outlen, int *changed, struct err *e)
{
	struct buf b = { 0 };
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
	nl = memchr(in, '\n', len);
	if (nl && nl > in && nl[-1] == '\r')
		eol = "\r\n";
	buf_add(&b, "", 0);

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
			buf_add(&b, line, full_n);
			continue;
		}
		if (ip && !found && field_is(&f[0], ip, ip_n) && f[0].n == ip_n &&
		    memcmp(f[0].p, ip, ip_n) == 0) {
			found = 1;
			buf_add(&b, line, full_n);
			continue;
		}
		/* Rebuild the line without NAME. */
		keep = 0;
		for (i = 1; i < nf; i++)
			if (!field_is(&f[i], name, name_n))
				keep++;
		if (keep) {
			size_t written = 0;

			buf_add(&b, f[0].p, f[0].n);
			buf_str(&b, "\t");
			for (i = 1; i < nf; i++) {
				if (field_is(&f[i], name, name_n))
					continue;
				if (written++)
					buf_str(&b, " ");
				buf_add(&b, f[i].p, f[i].n);
			}
			if (hash) {
				buf_str(&b, " ");
				buf_add(&b, hash, (size_t)(line + line_n - hash));
			}
			buf_str(&b, *line_eol ? line_eol : eol);
		} else if (hash) {
			buf_add(&b, hash, (size_t)(line + line_n - hash));
			buf_str(&b, *line_eol ? line_eol : eol);
		}
	}
	if (ip && !found) {
		if (b.len > 0 && b.p[b.len - 1] != '\n')
			buf_str(&b, eol);
		buf_str(&b, ip);
		buf_str(&b, "\t");
		buf_str(&b, name);
		buf_str(&b, eol);
	}
	if (b.oom) {
		err_set(e, "out of memory");
		goto done;
	}
	*changed = b.len != len || memcmp(b.p, in, len) != 0;
	*outlen = b.len;
	*out = b.p;
	b.p = NULL;
	rc = 0;
done:
	free(b.p);
	free(f);
	return rc;
}

int hosts_edit_file(const char *path, const char *name, const char *ip, int must_exist,
		    int *changed, struct err *e)
{
	char *in = NULL, *out = NULL;
	size_t inlen = 0, outlen = 0;
	struct stat st;
	int rc = -1;

	*changed = 0;
	if (stat(path, &st) < 0) {
		if (errno != ENOENT || must_exist)
			return err_set(e, "stat %s: %s", path, strerror(errno));
		return 0;
	}
	if (read_file_max(path, &in, &inlen, HOSTS_MAX, e) < 0)
		return -1;
	if (hosts_edit(in, inlen, name, ip, &out, &outlen, changed, e) < 0)
		goto done;
	if (*changed && write_file_atomic_owner(path, out, outlen, st.st_mode & 07777,
						(long)st.st_uid, (long)st.st_gid, e) < 0)
		goto done;
	rc = 0;
done:
	free(in);
	free(out);
	return rc;
}
