/*
 * image.c: the cache of base images (see image.h for the layout).
 *
 * Downloads: the checksums file is read first, so the image's name in the
 * cache (its SHA512) is known before a byte of it is fetched.  The image goes
 * to <name>.part; after a cut, libcurl resumes it with a Range request (a
 * server that ignores ranges makes us start over).  Only a file whose SHA512
 * matches is renamed into place; a mismatch deletes the part file.
 *
 * Builds: image-build.sh runs with an argv array, its output goes to a log
 * in the cache and its "@@ " lines are shown as progress.  The result is
 * named after a SHA256 of (suite, mirror, script content): the script holds
 * the package list, so changing any input makes a new image.  A lock file
 * keeps two processes from building the same image at once.
 */
#include "image.h"

#include "buf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "report.h"
#include "seed.h"
#include "util.h"

#define DEFAULT_SUITE "trixie"
#define DEFAULT_MIRROR "http://deb.debian.org/debian"
#define SUMS_MAX ((size_t)4 << 20)
#define DOWNLOAD_TRIES 6    /* attempts in a row without progress */
#define DOWNLOAD_RESTARTS 3 /* starts from byte 0 in one download */
/* what a build needs free at its peak (trixie: a 300 MiB rootfs, its ext4
 * disk and the qcow2 made from it, apt's downloads), with room to spare */
#define IMAGE_BUILD_SPACE ((uint64_t)1536 << 20)

/* --- small helpers ------------------------------------------------------ */

static int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

static int is_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

int image_cache_dir(char *buf, size_t n, struct err *e)
{
	const char *env = getenv("INCEPTION_IMAGE_CACHE");

	if (env != NULL && env[0] == '/') {
		if (path_join(buf, n, e, "%s", env) < 0)
			return -1;
	} else if (xdg_cache_dir(buf, n, "images", e) < 0) {
		return -1;
	}
	return mkdir_p(buf, 0755, e);
}

/* --- checksums ------------------------------------------------------------ */

/* Copies a 128-digit hex digest (lowercased) if s starts with exactly one. */
static int take_hex(const char *s, size_t len, char hex[IMAGE_SHA512_HEX + 1])
{
	size_t i;

	if (len != IMAGE_SHA512_HEX)
		return -1;
	for (i = 0; i < len; i++) {
		int v = hexval((unsigned char)s[i]);
		if (v < 0)
			return -1;
		hex[i] = "0123456789abcdef"[v];
	}
	hex[len] = '\0';
	return 0;
}

/* Does a listed file name mean `name`? ("./name", "dir/name" count too.) */
static int name_matches(const char *listed, size_t len, const char *name)
{
	size_t n = strlen(name);

	if (len < n || memcmp(listed + len - n, name, n) != 0)
		return 0;
	return len == n || listed[len - n - 1] == '/';
}

/* Parses one line: 0 with hex and name set, -1 when it is no checksum line. */
static int parse_sums_line(const char *l, size_t len, char hex[IMAGE_SHA512_HEX + 1],
                           const char **name, size_t *name_len)
{
	const char *sp, *eq;

	while (len > 0 && (*l == ' ' || *l == '\t'))
		l++, len--;
	while (len > 0 && (l[len - 1] == ' ' || l[len - 1] == '\t' || l[len - 1] == '\r'))
		len--;
	if (len == 0 || *l == '#')
		return -1;
	/* BSD style: SHA512 (NAME) = HEX */
	if (len > 8 && memcmp(l, "SHA512 (", 8) == 0) {
		for (eq = l + len - 1; eq > l && *eq != '='; eq--)
			;
		if (eq - l < 10 || eq[-1] != ' ' || eq[-2] != ')')
			return -1;
		sp = eq + 1;
		while (sp < l + len && *sp == ' ')
			sp++;
		if (take_hex(sp, (size_t)(l + len - sp), hex) < 0)
			return -1;
		*name = l + 8;
		*name_len = (size_t)(eq - 2 - *name);
		return *name_len > 0 ? 0 : -1;
	}
	/* GNU style: HEX, one space, then ' ' (text) or '*' (binary), NAME */
	sp = memchr(l, ' ', len);
	if (sp == NULL || take_hex(l, (size_t)(sp - l), hex) < 0)
		return -1;
	sp++;
	if (sp < l + len && (*sp == ' ' || *sp == '*'))
		sp++;
	if (sp >= l + len)
		return -1;
	*name = sp;
	*name_len = (size_t)(l + len - sp);
	return 0;
}

int image_sums_find(const char *text, size_t len, const char *name, char hex[IMAGE_SHA512_HEX + 1],
                    struct err *e)
{
	const char *p = text, *end = text + len;
	char cur[IMAGE_SHA512_HEX + 1];
	int found = 0;

	if (name == NULL || name[0] == '\0')
		return err_set(e, "checksums: no file name to look up");
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
		const char *lname;
		size_t lname_len;

		if (parse_sums_line(p, l, cur, &lname, &lname_len) == 0 &&
		    name_matches(lname, lname_len, name)) {
			if (found && strcmp(cur, hex) != 0)
				return err_set(e,
				               "checksums: %s is listed twice with different "
				               "SHA512 digests",
				               name);
			memcpy(hex, cur, sizeof(cur));
			found = 1;
		}
		p += l + 1;
	}
	if (!found)
		return err_set(e, "checksums: no SHA512 line for %s", name);
	return 0;
}

static int sha_file(const char *path, const EVP_MD *md, const char *progress, char *hex,
                    struct err *e)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	EVP_MD_CTX *ctx = NULL;
	unsigned char *buf = NULL;
	uint64_t done = 0, total = 0;
	struct stat st;
	int fd = -1, ret = -1;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, "open %s: %s", path, strerror(errno));
	if (fstat(fd, &st) == 0)
		total = (uint64_t)st.st_size;
	buf = malloc(1 << 20);
	ctx = EVP_MD_CTX_new();
	if (buf == NULL || ctx == NULL || EVP_DigestInit_ex(ctx, md, NULL) != 1) {
		err_set(e, "digest of %s: out of memory", path);
		goto done;
	}
	for (;;) {
		ssize_t r = read(fd, buf, 1 << 20);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err_set(e, "read %s: %s", path, strerror(errno));
			goto done;
		}
		if (r == 0)
			break;
		if (EVP_DigestUpdate(ctx, buf, (size_t)r) != 1) {
			err_set(e, "digest of %s failed", path);
			goto done;
		}
		done += (uint64_t)r;
		if (progress)
			report_progress(progress, done, total);
	}
	if (EVP_DigestFinal_ex(ctx, digest, &dlen) != 1) {
		err_set(e, "digest of %s failed", path);
		goto done;
	}
	hex_encode(digest, dlen, hex);
	ret = 0;
done:
	if (progress)
		report_progress_done();
	EVP_MD_CTX_free(ctx);
	free(buf);
	close(fd);
	return ret;
}

int image_sha512_file(const char *path, char hex[IMAGE_SHA512_HEX + 1], struct err *e)
{
	return sha_file(path, EVP_sha512(), NULL, hex, e);
}

int image_url_basename(const char *url, char *buf, size_t n, struct err *e)
{
	const char *end = url + strcspn(url, "?#"), *start = end, *path = strstr(url, "://");

	/* the name is in the path, never in "scheme://host" */
	path = path ? strchr(path + 3, '/') : url;
	if (path == NULL || path >= end)
		return err_set(e, "%s: no file name at the end of the url", url);
	while (start > path && start[-1] != '/')
		start--;
	if (start == end || (size_t)(end - start) >= n || memchr(start, ':', (size_t)(end - start)))
		return err_set(e, "%s: no file name at the end of the url", url);
	memcpy(buf, start, (size_t)(end - start));
	buf[end - start] = '\0';
	return 0;
}

/* --- .info files: where an image came from --------------------------------- */

static int write_info(const char *image, const char *kind, const char *k1, const char *v1,
                      const char *k2, const char *v2, struct err *e)
{
	char path[PATH_MAX], text[4096];
	int r;

	if (path_join(path, sizeof(path), e, "%s.info", image) < 0)
		return -1;
	r = snprintf(text, sizeof(text), "kind=%s\n%s=%s\n%s=%s\ncreated=%lld\n", kind, k1,
	             v1 ? v1 : "", k2, v2 ? v2 : "", (long long)time(NULL));
	if (r < 0 || (size_t)r >= sizeof(text))
		return err_set(e, "%s: source too long", path);
	return write_file_atomic(path, text, (size_t)r, 0644, e);
}

/* The value of key in an .info file (newline-free), or -1. */
static int info_get(const char *info_path, const char *key, char *out, size_t n)
{
	char *text = NULL, *line, *save = NULL;
	size_t klen = strlen(key);
	int ret = -1;

	if (read_file(info_path, &text, NULL, NULL) < 0)
		return -1;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, key, klen) == 0 && line[klen] == '=') {
			if (strlen(line + klen + 1) < n) {
				strcpy(out, line + klen + 1);
				ret = 0;
			}
			break;
		}
	}
	free(text);
	return ret;
}

/* The newest cached image downloaded from url, if any. */
static int find_cached_url(const char *dir, const char *url, char *path, size_t n)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	time_t best = 0;
	int found = -1;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		char info[PATH_MAX], img[PATH_MAX], val[2048];
		struct stat st;

		if (!ends_with(de->d_name, ".qcow2.info"))
			continue;
		if (snprintf(info, sizeof(info), "%s/%s", dir, de->d_name) >= (int)sizeof(info))
			continue;
		if (info_get(info, "kind", val, sizeof(val)) < 0 || strcmp(val, "url") != 0 ||
		    info_get(info, "url", val, sizeof(val)) < 0 || strcmp(val, url) != 0)
			continue;
		snprintf(img, sizeof(img), "%.*s", (int)(strlen(info) - 5), info);
		if (stat(img, &st) < 0 || !S_ISREG(st.st_mode) || st.st_mtime < best)
			continue;
		if (snprintf(path, n, "%s", img) >= (int)n)
			continue;
		best = st.st_mtime;
		found = 0;
	}
	closedir(d);
	return found;
}

/* --- verified records ------------------------------------------------------ */

/* Each image's .info ends with the record of its last verification: sha512=,
 * size= and mtime= (seconds.nanoseconds).  A cached image whose size or mtime
 * no longer matches is hashed again before it is used, and deleted when its
 * digest changed (a tampered or corrupted file is never booted). */

static void stat_record(const struct stat *st, char *size, size_t sn, char *mtime, size_t mn)
{
	snprintf(size, sn, "%llu", (unsigned long long)st->st_size);
	snprintf(mtime, mn, "%lld.%09ld", (long long)st->st_mtim.tv_sec, (long)st->st_mtim.tv_nsec);
}

/* Rewrites image's .info with a fresh record for digest hex. */
static int record_set(const char *image, const char *hex, struct err *e)
{
	char info[PATH_MAX], size[32], mtime[48], *old = NULL, *text = NULL, *line, *save = NULL;
	struct stat st;
	size_t cap, len = 0;
	int ret;

	if (stat(image, &st) < 0)
		return err_set(e, "stat %s: %s", image, strerror(errno));
	if (path_join(info, sizeof(info), e, "%s.info", image) < 0)
		return -1;
	if (read_file(info, &old, NULL, NULL) < 0)
		old = NULL;
	cap = (old ? strlen(old) : 0) + IMAGE_SHA512_HEX + 128;
	text = malloc(cap);
	if (text == NULL) {
		free(old);
		return err_set(e, "out of memory");
	}
	text[0] = '\0';
	for (line = old ? strtok_r(old, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save))
		if (strncmp(line, "sha512=", 7) != 0 && strncmp(line, "size=", 5) != 0 &&
		    strncmp(line, "mtime=", 6) != 0)
			len += (size_t)snprintf(text + len, cap - len, "%s\n", line);
	stat_record(&st, size, sizeof(size), mtime, sizeof(mtime));
	len += (size_t)snprintf(text + len, cap - len, "sha512=%s\nsize=%s\nmtime=%s\n", hex, size,
	                        mtime);
	ret = write_file_atomic(info, text, len, 0644, e);
	free(old);
	free(text);
	return ret;
}

/* The digest in a downloaded image's name (sha512-HEX.qcow2), or -1. */
static int name_digest(const char *image, char hex[IMAGE_SHA512_HEX + 1])
{
	const char *b = strrchr(image, '/');

	b = b ? b + 1 : image;
	if (strncmp(b, "sha512-", 7) != 0 || strcmp(b + 7 + IMAGE_SHA512_HEX, ".qcow2") != 0)
		return -1;
	return take_hex(b + 7, IMAGE_SHA512_HEX, hex);
}

/* 0: image matches its record (re-hashed if its size or mtime changed, and
 * the record renewed); 1: its content changed (e says how); -1: error.  The
 * digest it must have: its name's, else the recorded one; an image with
 * neither (a build cached before records) is recorded as it is. */
static int verify_cached(const char *image, struct err *e)
{
	char info[PATH_MAX], want[IMAGE_SHA512_HEX + 1], got[IMAGE_SHA512_HEX + 1];
	char rec[IMAGE_SHA512_HEX + 2], rsize[32], rmtime[48], size[32], mtime[48];
	const char *base = strrchr(image, '/') ? strrchr(image, '/') + 1 : image;
	struct stat st;
	int have, named;

	if (stat(image, &st) < 0)
		return err_set(e, "stat %s: %s", image, strerror(errno));
	if (path_join(info, sizeof(info), e, "%s.info", image) < 0)
		return -1;
	named = name_digest(image, want) == 0;
	have = info_get(info, "sha512", rec, sizeof(rec)) == 0 && strlen(rec) == IMAGE_SHA512_HEX;
	stat_record(&st, size, sizeof(size), mtime, sizeof(mtime));
	if (have && (!named || strcmp(rec, want) == 0) &&
	    info_get(info, "size", rsize, sizeof(rsize)) == 0 && strcmp(rsize, size) == 0 &&
	    info_get(info, "mtime", rmtime, sizeof(rmtime)) == 0 && strcmp(rmtime, mtime) == 0)
		return 0;
	if (!named && have)
		memcpy(want, rec, sizeof(want));
	report_info("%s: %s; checking its SHA512 again", base,
	            have ? "changed on disk since it was verified (size or mtime)"
	                 : "no record of its verification");
	if (sha_file(image, EVP_sha512(), "verify SHA512", got, e) < 0)
		return -1;
	if ((named || have) && strcmp(got, want) != 0) {
		err_set(e, "cached image %s was changed on disk: SHA512 %s, expected %s", image,
		        got, want);
		return 1;
	}
	return record_set(image, got, e);
}

/* 1: image is cached and verified; 0: it is not (a changed one is deleted,
 * with a warning, so that it is fetched or built again); -1: error. */
static int cached_ok(const char *image, const char *again, struct err *e)
{
	char info[PATH_MAX + 8];
	int r;

	if (!is_file(image))
		return 0;
	r = verify_cached(image, e);
	if (r <= 0)
		return r == 0 ? 1 : -1;
	report_warn("%s: deleted, %s", e->msg, again);
	err_clear(e);
	unlink(image);
	snprintf(info, sizeof(info), "%s.info", image);
	unlink(info);
	return 0;
}

/* --- downloads ------------------------------------------------------------ */

struct xfer {
	FILE *f;          /* file sink, or NULL for memory */
	struct buf mem;   /* memory sink (bounded) */
	uint64_t base;    /* bytes already in the part file */
	const char *what; /* progress label, NULL = none */
	const char *dir;  /* file sink: its directory, for the free-space check */
	uint64_t got;     /* bytes received this attempt */
	/* the current response's headers (reset at each status line, so after a
	 * redirect they are the final response's) */
	long status;
	int64_t clen;               /* Content-Length, -1 if none */
	int64_t cr_start, cr_total; /* Content-Range "bytes S-E/T", -1 if none */
	int started;                /* the first body byte has been seen */
	uint64_t limit;             /* file sink: the announced size, or with no
	                             * size announced what fits in dir (0 = none) */
	int unsized;                /* no size announced: limit is the free space */
	int drop;                   /* the server misbehaved: delete the part file */
	char why[1024];             /* why a callback stopped the transfer */
};

static size_t on_header(char *p, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * nmemb;
	char line[256];
	long long a, b, t;
	int code;

	snprintf(line, sizeof(line), "%.*s", (int)(len < sizeof(line) ? len : sizeof(line) - 1), p);
	if (strncmp(line, "HTTP/", 5) == 0) {
		x->status = sscanf(line, "HTTP/%*s %d", &code) == 1 ? code : 0;
		x->clen = x->cr_start = x->cr_total = -1;
	} else if (strncasecmp(line, "content-length:", 15) == 0) {
		if (sscanf(line + 15, " %lld", &a) == 1 && a >= 0)
			x->clen = a;
	} else if (strncasecmp(line, "content-range:", 14) == 0) {
		if (sscanf(line + 14, " bytes %lld-%lld/%lld", &a, &b, &t) == 3 && a >= 0 &&
		    t > 0) {
			x->cr_start = a;
			x->cr_total = t;
		} else if (sscanf(line + 14, " bytes */%lld", &t) == 1 && t >= 0) {
			x->cr_total = t;
		}
	}
	return len;
}

static void fmt_bytes(char *buf, size_t n, uint64_t v)
{
	if (v < (uint64_t)1 << 20)
		snprintf(buf, n, "%llu bytes", (unsigned long long)v);
	else if (v >= (uint64_t)1 << 30)
		snprintf(buf, n, "%.1f GiB", (double)v / (double)(1 << 30));
	else
		snprintf(buf, n, "%.1f MiB", (double)v / (double)(1 << 20));
}

int image_space_check(const char *dir, uint64_t need, uint64_t avail, struct err *e)
{
	char a[32], b[32];

	if (need <= avail)
		return 0;
	fmt_bytes(a, sizeof(a), need);
	fmt_bytes(b, sizeof(b), avail);
	return err_set(e, "not enough space in %s: %s needed, %s free", dir, a, b);
}

int image_space_free(const char *dir, uint64_t *avail, struct err *e)
{
	struct statvfs sv;

	if (statvfs(dir, &sv) < 0)
		return err_set(e, "statvfs %s: %s", dir, strerror(errno));
	*avail = (uint64_t)sv.f_bavail * (uint64_t)sv.f_frsize;
	return 0;
}

/* At the first body byte of a file download: the file's announced size
 * (Content-Range total, else Content-Length), checked against the range we
 * asked for and against the free space.  -1 with x->why set to refuse. */
static int check_announced(struct xfer *x)
{
	struct err e;
	uint64_t total = 0, avail = 0;

	if (x->status == 206) {
		if (x->cr_start >= 0 && (uint64_t)x->cr_start != x->base) {
			snprintf(x->why, sizeof(x->why),
			         "the server sent bytes from %lld, not from "
			         "%llu as asked",
			         (long long)x->cr_start, (unsigned long long)x->base);
			x->drop = 1;
			return -1;
		}
		if (x->cr_total > 0)
			total = (uint64_t)x->cr_total;
		else if (x->clen >= 0)
			total = x->base + (uint64_t)x->clen;
		if (x->clen >= 0 && x->base + (uint64_t)x->clen > total) {
			snprintf(x->why, sizeof(x->why),
			         "the server announces a %llu-byte file but "
			         "%lld bytes from byte %llu: refused",
			         (unsigned long long)total, (long long)x->clen,
			         (unsigned long long)x->base);
			x->drop = 1;
			return -1;
		}
	} else if (x->clen >= 0) {
		total = x->base + (uint64_t)x->clen;
	}
	x->limit = total;
	if (x->dir == NULL || total < x->base)
		return 0;
	err_clear(&e);
	if (image_space_free(x->dir, &avail, &e) < 0 ||
	    (total > 0 && image_space_check(x->dir, total - x->base, avail, &e) < 0)) {
		snprintf(x->why, sizeof(x->why), "%s", e.msg);
		return -1;
	}
	if (total == 0) { /* no size announced: never more than fits */
		x->limit = x->base + avail;
		x->unsized = 1;
	}
	return 0;
}

static size_t on_data(char *p, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * nmemb;

	if (x->f != NULL) {
		if (!x->started) {
			x->started = 1;
			if (check_announced(x) < 0)
				return 0;
		}
		/* never more than announced: the part file stays at its size */
		if (x->limit > 0 && x->base + x->got + len > x->limit) {
			if (x->unsized)
				snprintf(x->why, sizeof(x->why),
				         "the server announced no size and "
				         "sent more than fits in %s: cut off",
				         x->dir);
			else
				snprintf(x->why, sizeof(x->why),
				         "the server sent more than the "
				         "announced %llu bytes: cut off",
				         (unsigned long long)x->limit);
			x->drop = 1;
			return 0;
		}
		if (fwrite(p, 1, len, x->f) != len)
			return 0;
	} else {
		if (buf_add(&x->mem, p, len, NULL, NULL) < 0)
			return 0;
	}
	x->got += len;
	return len;
}

static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
	struct xfer *x = arg;

	(void)ultotal;
	(void)ulnow;
	if (x->what != NULL && dlnow > 0)
		report_progress(x->what, x->base + (uint64_t)dlnow,
		                dltotal > 0 ? x->base + (uint64_t)dltotal : 0);
	return 0;
}

/* One transfer; *http gets the HTTP status (0 if none). */
static CURLcode transfer(const char *url, struct xfer *x, long *http, char *errbuf)
{
	CURL *h = curl_easy_init();
	CURLcode rc;

	*http = 0;
	errbuf[0] = '\0';
	if (h == NULL)
		return CURLE_OUT_OF_MEMORY;
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, image_redirect_protocols(url));
	/* like the curl tool: a CA bundle for a mirror behind a TLS proxy */
	{
		const char *ca = getenv("CURL_CA_BUNDLE");

		if (ca != NULL && ca[0] != '\0')
			curl_easy_setopt(h, CURLOPT_CAINFO, ca);
	}
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(h, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 15L);
	/* a stalled transfer (under 1 KiB/s for 30 s) counts as cut */
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1024L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 30L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "inception/" INCEPTION_VERSION);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, x);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	if (x->base > 0)
		curl_easy_setopt(h, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)x->base);
	x->status = 0;
	x->clen = x->cr_start = x->cr_total = -1;
	x->started = x->unsized = x->drop = 0;
	x->limit = 0;
	x->why[0] = '\0';
	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, http);
	if (rc == CURLE_UNSUPPORTED_PROTOCOL) {
		char *to = NULL;

		/* a redirect that image_redirect_protocols refused */
		if (curl_easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &to) == CURLE_OK && to != NULL &&
		    strcmp(to, url) != 0)
			snprintf(errbuf, CURL_ERROR_SIZE,
			         "redirected to %.160s: refused (an https url "
			         "may only redirect to https)",
			         to);
	}
	curl_easy_cleanup(h);
	return rc;
}

const char *image_redirect_protocols(const char *url)
{
	return strncasecmp(url, "http://", 7) == 0 ? "http,https" : "https";
}

static const char *curl_msg(CURLcode rc, const char *errbuf)
{
	return errbuf[0] ? errbuf : curl_easy_strerror(rc);
}

/* Errors worth a retry (the connection broke or stalled, the server hiccuped). */
static int transient(CURLcode rc, long http)
{
	switch (rc) {
	case CURLE_PARTIAL_FILE:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_GOT_NOTHING:
	case CURLE_COULDNT_CONNECT:
	case CURLE_SSL_CONNECT_ERROR: return 1;
	case CURLE_HTTP_RETURNED_ERROR: return http >= 500 || http == 408 || http == 429;
	default: return 0;
	}
}

/* Errors that mean "this url cannot be reached from here". */
static int unreachable_error(CURLcode rc)
{
	return rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_COULDNT_RESOLVE_PROXY ||
	       rc == CURLE_COULDNT_CONNECT || rc == CURLE_OPERATION_TIMEDOUT ||
	       rc == CURLE_HTTP_RETURNED_ERROR || rc == CURLE_SSL_CONNECT_ERROR ||
	       rc == CURLE_RECV_ERROR || rc == CURLE_GOT_NOTHING ||
	       rc == CURLE_FILE_COULDNT_READ_FILE;
}

static int fetch_text(const char *url, char **out, size_t *len, int *unreachable, struct err *e)
{
	struct xfer x = {0};
	char errbuf[CURL_ERROR_SIZE];
	long http;
	CURLcode rc;
	int tries;

	buf_init(&x.mem, SUMS_MAX);
	for (tries = 0;; tries++) {
		buf_consume(&x.mem, x.mem.len);
		x.got = 0;
		rc = transfer(url, &x, &http, errbuf);
		if (rc == CURLE_OK || tries >= 1 || !transient(rc, http) ||
		    rc == CURLE_COULDNT_CONNECT)
			break;
		sleep(1);
	}
	if (rc != CURLE_OK) {
		buf_free(&x.mem);
		*unreachable = unreachable_error(rc);
		return err_set(e, "cannot get %s: %s", url, curl_msg(rc, errbuf));
	}
	*out = buf_detach(&x.mem, len);
	return *out ? 0 : err_set(e, "out of memory");
}

static uint64_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

/* Downloads url into part, resuming what is there.  Retries while the
 * transfer makes progress; gives up after DOWNLOAD_TRIES failures in a row,
 * or after DOWNLOAD_RESTARTS starts from byte 0 (a server that ignores Range
 * and keeps cutting would otherwise be retried for ever).  The part file
 * never grows past the size the server announces.
 * Longer than 60 lines: the resume loop (range, restart, progress, limits) keeps one part file and
 * one curl handle. */
static int download(const char *url, const char *part, const char *label, struct err *e)
{
	char errbuf[CURL_ERROR_SIZE], dir[PATH_MAX];
	int fails = 0, restarts = 0;
	const char *slash = strrchr(part, '/');

	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - part) : 1, slash ? part : ".");
	for (;;) {
		struct xfer x = {.what = label, .dir = dir};
		long http;
		CURLcode rc;
		const char *restart = NULL;

		x.base = file_size(part);
		x.f = fopen(part, "ab");
		if (x.f == NULL)
			return err_set(e, "open %s: %s", part, strerror(errno));
		if (x.base > 0)
			report_debug("resuming %s at byte %llu", url, (unsigned long long)x.base);
		rc = transfer(url, &x, &http, errbuf);
		if (fclose(x.f) != 0 && rc == CURLE_OK)
			return err_set(e, "write %s: %s", part, strerror(errno));
		report_progress_done();
		if (rc == CURLE_OK)
			return 0;
		if (rc == CURLE_WRITE_ERROR && x.why[0] != '\0') {
			/* refused by on_data; a misbehaving server's bytes are not kept */
			if (!x.drop)
				return err_set(e, "download %s: %s", url, x.why);
			unlink(part);
			return err_set(e, "download %s: %s (the partial download was deleted)", url,
			               x.why);
		}
		if (rc == CURLE_HTTP_RETURNED_ERROR && http == 416 && x.base > 0) {
			if (x.cr_total >= 0 && (uint64_t)x.cr_total == x.base)
				return 0; /* nothing left to fetch: the digest decides */
			if (x.cr_total >= 0)
				report_warn(
				    "%s: the partial download (%llu bytes) is larger than the "
				    "file on the server (%lld bytes): starting over",
				    label, (unsigned long long)x.base, (long long)x.cr_total);
			else
				report_warn("%s: the server refuses to resume at byte %llu (416): "
				            "starting over",
				            label, (unsigned long long)x.base);
			restart = "answers 416 (range not satisfiable) to every resume";
		} else if (rc == CURLE_RANGE_ERROR) {
			report_warn("%s: the server cannot resume; downloading from the start",
			            url);
			restart = "ignores Range requests and cut every transfer";
		}
		if (restart != NULL) {
			if (++restarts > DOWNLOAD_RESTARTS)
				return err_set(
				    e,
				    "download %s: the server %s; gave up after %d starts "
				    "from the beginning",
				    url, restart, restarts);
			if (truncate(part, 0) < 0)
				return err_set(e, "truncate %s: %s", part, strerror(errno));
			continue;
		}
		if (!transient(rc, http))
			return err_set(e, "download %s: %s", url, curl_msg(rc, errbuf));
		fails = x.got > 0 ? 1 : fails + 1;
		if (fails >= DOWNLOAD_TRIES)
			return err_set(e,
			               "download %s: %s (gave up after %d tries; run the command "
			               "again to resume)",
			               url, curl_msg(rc, errbuf), fails);
		report_warn("download cut at %llu bytes (%s): resuming",
		            (unsigned long long)file_size(part), curl_msg(rc, errbuf));
		sleep((unsigned)(fails > 3 ? 8 : 1 << (fails - 1)));
	}
}

/* Downloads the image to dir and verifies it; expected NULL (a file:// url
 * without checksums) trusts the file and names it after its digest.
 * Longer than 60 lines: checksums, signature, download and verification in order, over one part
 * file. */
static int fetch_verify(const char *dir, const struct config *c, const char *expected, char *path,
                        size_t n, struct err *e)
{
	char part[PATH_MAX], lock[PATH_MAX], label[300], got[IMAGE_SHA512_HEX + 1], base[256];
	int ret = -1, lockfd = -1;

	if (image_url_basename(c->image_url, base, sizeof(base), e) < 0)
		return -1;
	if (expected != NULL) {
		if (path_join(part, sizeof(part), e, "%s/sha512-%s.qcow2.part", dir, expected) < 0)
			return -1;
	} else {
		char key[65];
		unsigned char d[32];
		unsigned int dl = 0;

		EVP_Digest(c->image_url, strlen(c->image_url), d, &dl, EVP_sha256(), NULL);
		hex_encode(d, 16, key);
		if (path_join(part, sizeof(part), e, "%s/url-%s.qcow2.part", dir, key) < 0)
			return -1;
	}
	/* one downloader per part file; a second process waits, then finds
	 * the image cached */
	if (path_join(lock, sizeof(lock), e, "%s.lock", part) < 0)
		return -1;
	lockfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (lockfd < 0)
		return err_set(e, "open %s: %s", lock, strerror(errno));
	if (flock(lockfd, LOCK_EX | LOCK_NB) < 0) {
		report_info("another process is downloading %s; waiting", base);
		if (flock(lockfd, LOCK_EX) < 0) {
			err_set(e, "lock %s: %s", lock, strerror(errno));
			goto done;
		}
	}
	if (expected != NULL) {
		if (path_join(path, n, e, "%s/sha512-%s.qcow2", dir, expected) < 0)
			goto done;
		ret = cached_ok(path, "downloading it again", e);
		if (ret != 0) {
			ret = ret > 0 ? 0 : -1;
			goto done;
		}
		ret = -1;
	}
	snprintf(label, sizeof(label), "download %s", base);
	if (download(c->image_url, part, label, e) < 0)
		goto done; /* the part file stays: the next run resumes it */
	if (sha_file(part, EVP_sha512(), "verify SHA512", got, e) < 0)
		goto done;
	if (expected != NULL && strcmp(got, expected) != 0) {
		unlink(part);
		err_set(e,
		        "%s: SHA512 mismatch, nothing cached (the download was deleted): "
		        "expected %s, got %s",
		        base, expected, got);
		goto done;
	}
	if (path_join(path, n, e, "%s/sha512-%s.qcow2", dir, got) < 0)
		goto done;
	if (rename(part, path) < 0) {
		err_set(e, "rename %s -> %s: %s", part, path, strerror(errno));
		goto done;
	}
	if (write_info(path, "url", "url", c->image_url, "checksums", c->image_checksums, e) < 0 ||
	    record_set(path, got, e) < 0)
		goto done;
	ret = 0;
done:
	if (lockfd >= 0) {
		/* after success a waiter finds the image; after a failure the
		 * lock stays, so no two processes ever resume one part file */
		if (ret == 0)
			unlink(lock);
		close(lockfd);
	}
	return ret;
}

/* --- signed checksums -------------------------------------------------------- */

/* Debian signs its checksum files with a detached OpenPGP signature next to
 * them (SHA512SUMS.sign), made with the Debian CD signing key; the key is in
 * the debian-keyring package's role keyring.  Pinned: the primary keys listed
 * on https://www.debian.org/CD/verify. */
#define SIGN_SUFFIX ".sign"
#define SIGN_KEYRING "/usr/share/keyrings/debian-role-keys.gpg"
static const char *const sign_keys[] = {
    "DF9B9C49EAA9298432589D76DA87E80D6294BE9B", /* Debian CD signing key (2011) */
    "10460DAD76165AD81FBC0CE9988021A964E6EA7D", /* Debian CD signing key (2009) */
    "F41D30342F3546695F65C66942468F4009EA8AC3", /* Debian Testing CDs automatic key */
};

static int in_path(const char *prog)
{
	const char *p = getenv("PATH");
	char dir[PATH_MAX];

	for (p = p ? p : "/usr/bin:/bin"; *p != '\0';) {
		size_t l = strcspn(p, ":");

		if (snprintf(dir, sizeof(dir), "%.*s/%s", (int)l, p, prog) < (int)sizeof(dir) &&
		    access(dir, X_OK) == 0)
			return 1;
		p += l + (p[l] == ':');
	}
	return 0;
}

/* Is one of gpgv's VALIDSIG lines (status-fd output) by a pinned key? */
static int validsig_pinned(const char *status)
{
	const char *l;
	size_t i;

	for (l = status; (l = strstr(l, "[GNUPG:] VALIDSIG ")) != NULL; l++) {
		const char *end = l + strcspn(l, "\n"), *primary = end;

		/* the last field is the primary key's fingerprint */
		while (primary > l && primary[-1] != ' ')
			primary--;
		for (i = 0; i < sizeof(sign_keys) / sizeof(sign_keys[0]); i++)
			if ((size_t)(end - primary) == strlen(sign_keys[i]) &&
			    strncasecmp(primary, sign_keys[i], strlen(sign_keys[i])) == 0)
				return 1;
	}
	return 0;
}

/* Checks the checksums file's signature, if its source publishes one.  No
 * signature, or nothing to check it with: one warning line, naming what is
 * missing.  A signature that does not verify with a pinned key: refused. */
static int check_sums_signature(const char *dir, const char *sums_url, const char *sums,
                                size_t sums_len, struct err *e)
{
	char sign_url[4096], sig_path[PATH_MAX], sums_path[PATH_MAX], *sig = NULL, *out = NULL;
	size_t sig_len = 0;
	struct err e2;
	int unreachable, ret = -1;

	sig_path[0] = sums_path[0] = '\0';
	if (snprintf(sign_url, sizeof(sign_url), "%s%s", sums_url, SIGN_SUFFIX) >=
	    (int)sizeof(sign_url))
		return err_set(e, "%s: url too long", sums_url);
	err_clear(&e2);
	if (fetch_text(sign_url, &sig, &sig_len, &unreachable, &e2) < 0) {
		report_warn("%s: the checksums' signature is not checked", e2.msg);
		return 0;
	}
	if (!is_file(SIGN_KEYRING) || !in_path("gpgv")) {
		report_warn("cannot check %s: no %s (apt install debian-keyring gpgv)", sign_url,
		            !is_file(SIGN_KEYRING) ? SIGN_KEYRING : "gpgv");
		free(sig);
		return 0;
	}
	if (path_join(sig_path, sizeof(sig_path), e, "%s/.sums-sig.%ld", dir, (long)getpid()) < 0 ||
	    path_join(sums_path, sizeof(sums_path), e, "%s/.sums.%ld", dir, (long)getpid()) < 0 ||
	    write_file_atomic(sig_path, sig, sig_len, 0600, e) < 0 ||
	    write_file_atomic(sums_path, sums, sums_len, 0600, e) < 0)
		goto done;
	{
		char *const argv[] = {"gpgv",       "--status-fd", "1",       "--keyring",
		                      SIGN_KEYRING, sig_path,      sums_path, NULL};

		err_clear(&e2);
		if (run_argv_capture(argv, NULL, &out, &e2) < 0 || !validsig_pinned(out)) {
			err_set(e,
			        "%s: the signature of %s does not verify with the Debian CD "
			        "signing key (%s): refused",
			        sign_url, sums_url, SIGN_KEYRING);
			goto done;
		}
	}
	report_debug("%s: signed by the Debian CD signing key", sums_url);
	ret = 0;
done:
	if (sig_path[0])
		unlink(sig_path);
	if (sums_path[0])
		unlink(sums_path);
	free(out);
	free(sig);
	return ret;
}

static int fetch_impl(const struct config *c, char *path, size_t n, int *unreachable, struct err *e)
{
	char dir[PATH_MAX], base[256] = "", hex[IMAGE_SHA512_HEX + 1];
	char *sums = NULL;
	size_t sums_len = 0;
	int ret = -1;

	*unreachable = 0;
	if (c->image_url == NULL)
		return err_set(e, "image.url is not set (image.build is used: `inception image "
		                  "build`)");
	if (image_cache_dir(dir, sizeof(dir), e) < 0 ||
	    image_url_basename(c->image_url, base, sizeof(base), e) < 0)
		return -1;
	if (c->image_checksums != NULL && strncasecmp(c->image_checksums, "http://", 7) == 0)
		report_warn("image.checksums is plain http (%s): the checksums, and so the image, "
		            "can be changed on the way; use https",
		            c->image_checksums);
	else if (strncasecmp(c->image_url, "http://", 7) == 0)
		report_warn("image.url is plain http (%s): its redirects may lead to http too; use "
		            "https",
		            c->image_url);
	if (c->image_checksums == NULL)
		return fetch_verify(dir, c, NULL, path, n, e);
	if (fetch_text(c->image_checksums, &sums, &sums_len, unreachable, e) < 0)
		return -1;
	if (check_sums_signature(dir, c->image_checksums, sums, sums_len, e) < 0)
		goto done;
	if (image_sums_find(sums, sums_len, base, hex, e) < 0) {
		err_wrap(e, "%s", c->image_checksums);
		goto done;
	}
	if (path_join(path, n, e, "%s/sha512-%s.qcow2", dir, hex) < 0)
		goto done;
	ret = cached_ok(path, "downloading it again", e);
	if (ret != 0) {
		/* same content already cached (maybe from another url) */
		if (ret > 0)
			ret = write_info(path, "url", "url", c->image_url, "checksums",
			                 c->image_checksums, e) < 0 ||
			              record_set(path, hex, e) < 0
			          ? -1
			          : 0;
		goto done;
	}
	ret = fetch_verify(dir, c, hex, path, n, e);
done:
	free(sums);
	return ret;
}

int image_fetch(const struct config *c, char *path, size_t n, struct err *e)
{
	int unreachable;

	return fetch_impl(c, path, n, &unreachable, e);
}

/* --- builds --------------------------------------------------------------- */

/* Runs argv, its output appended to log; "@@ " lines are reported. */
static int run_build(char *const argv[], const char *log_path, const char *proxy, char *last,
                     size_t last_n, struct err *e)
{
	int fds[2], logfd, status;
	pid_t pid;
	FILE *in;
	char line[4096];

	logfd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (logfd < 0)
		return err_set(e, "open %s: %s", log_path, strerror(errno));
	if (pipe(fds) < 0) {
		close(logfd);
		return err_set(e, "pipe: %s", strerror(errno));
	}
	{
		char hp[1100], hsp[1100];
		const char *env[] = {hp, hsp, NULL};
		/* mmdebstrap, mkfs and sfdisk live in sbin */
		struct spawn_opts so = {fds[1], SPAWN_SAME_AS_OUT, -1, 0, proxy ? env : NULL,
		                        NULL,   "/usr/sbin:/sbin"};

		snprintf(hp, sizeof(hp), "http_proxy=%s", proxy ? proxy : "");
		snprintf(hsp, sizeof(hsp), "https_proxy=%s", proxy ? proxy : "");
		if (spawn_argv(argv, &so, &pid, e) < 0) {
			close(logfd);
			close(fds[0]);
			close(fds[1]);
			return -1;
		}
	}
	close(fds[1]);
	in = fdopen(fds[0], "r");
	last[0] = '\0';
	while (in && fgets(line, sizeof(line), in) != NULL) {
		size_t l = strlen(line);

		if (write(logfd, line, l) < 0)
			break;
		while (l > 0 && (line[l - 1] == '\n' || line[l - 1] == '\r'))
			line[--l] = '\0';
		if (strncmp(line, "@@ ", 3) == 0)
			report_info("image build: %s", line + 3);
		else if (l > 0) {
			size_t k = l < last_n - 1 ? l : last_n - 1;
			memcpy(last, line, k);
			last[k] = '\0';
		}
	}
	if (in)
		fclose(in);
	else
		close(fds[0]);
	close(logfd);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return err_set(e, "waitpid: %s", strerror(errno));
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	return err_set(e, "image build failed: %s (log: %s)", last[0] ? last : "no output",
	               log_path);
}

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p) < 0 && errno != ENOENT ? -1 : 0;
}

static int rm_rf(const char *path)
{
	if (access(path, F_OK) < 0)
		return 0;
	return nftw(path, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

/* The cache name of the build for (suite, mirror, script, variant): the
 * plain image "build-SUITE-KEY.qcow2" (KEY over suite, mirror and the
 * script), the golden layer "golden-SUITE-KEY.qcow2" (KEY over the same plus
 * the variant and docker.source). */
static int build_name(const char *suite, const char *mirror, int golden, char *name, size_t n,
                      char *script, size_t script_n, struct err *e)
{
	char *text = NULL;
	size_t len;
	char hex[65];

	if (data_path("provisioner/image-build.sh", script, script_n, e) < 0 ||
	    read_file(script, &text, &len, e) < 0)
		return -1;
	if (image_layer_key(suite, mirror, text, len, golden ? "golden debian" : NULL, hex, e) <
	    0) {
		free(text);
		return -1;
	}
	free(text);
	return path_join(name, n, e, "%s-%s-%s.qcow2", golden ? "golden" : "build", suite, hex);
}

int image_layer_key(const char *suite, const char *mirror, const char *script, size_t script_len,
                    const char *variant, char hex[17], struct err *e)
{
	unsigned char d[32];
	unsigned int dl = 0;
	char full[65];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok;

	/* the plain image's key is what it always was (suite, mirror, script):
	 * the golden layer's adds its variant */
	ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
	     EVP_DigestUpdate(ctx, suite, strlen(suite) + 1) == 1 &&
	     EVP_DigestUpdate(ctx, mirror, strlen(mirror) + 1) == 1 &&
	     EVP_DigestUpdate(ctx, script, script_len) == 1 &&
	     (variant == NULL || EVP_DigestUpdate(ctx, variant, strlen(variant) + 1) == 1) &&
	     EVP_DigestFinal_ex(ctx, d, &dl) == 1;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return err_set(e, "digest of the build inputs failed");
	hex_encode(d, 8, full);
	memcpy(hex, full, 16);
	hex[16] = '\0';
	return 0;
}

/* Longer than 60 lines: checks (root, space), the build script with its log, then the record and
 * the rename, in the order a build happens under one lock. */
static int build_suite(const struct config *c, const char *suite, int golden, char *path, size_t n,
                       struct err *e)
{
	const char *mirror = c->apt_mirror ? c->apt_mirror : DEFAULT_MIRROR;
	char dir[PATH_MAX], name[256], script[PATH_MAX], lock[PATH_MAX], work[PATH_MAX];
	char logdir[PATH_MAX], log[PATH_MAX], last[512];
	int lockfd = -1, ret = -1;
	long t0;

	if (image_cache_dir(dir, sizeof(dir), e) < 0 ||
	    build_name(suite, mirror, golden, name, sizeof(name), script, sizeof(script), e) < 0 ||
	    path_join(path, n, e, "%s/%s", dir, name) < 0 ||
	    path_join(lock, sizeof(lock), e, "%s.lock", path) < 0 ||
	    path_join(work, sizeof(work), e, "%s.work", path) < 0 ||
	    path_join(logdir, sizeof(logdir), e, "%s/logs", dir) < 0 ||
	    path_join(log, sizeof(log), e, "%s/%.*s.log", logdir, (int)(strlen(name) - 6), name) <
	        0)
		return -1;
	ret = cached_ok(path, "building it again", e);
	if (ret != 0)
		return ret > 0 ? 0 : -1;
	ret = -1;
	lockfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (lockfd < 0)
		return err_set(e, "open %s: %s", lock, strerror(errno));
	if (flock(lockfd, LOCK_EX | LOCK_NB) < 0) {
		report_info("image build: another process is building %s; waiting", name);
		if (flock(lockfd, LOCK_EX) < 0) {
			err_set(e, "lock %s: %s", lock, strerror(errno));
			goto done;
		}
	}
	ret = cached_ok(path, "building it again", e); /* built while we waited? */
	if (ret != 0) {
		ret = ret > 0 ? 0 : -1;
		goto done;
	}
	ret = -1;
	if (mkdir_p(logdir, 0755, e) < 0)
		goto done;
	if (getuid() != 0) {
		err_set(e,
		        "building an image needs root (mmdebstrap, file ownership in the "
		        "image): run `sudo inception image build` once (the image is cached "
		        "in %s), or set image.url",
		        dir);
		goto done;
	}
	{
		uint64_t avail = 0;

		if (image_space_free(dir, &avail, e) < 0 ||
		    image_space_check(dir, IMAGE_BUILD_SPACE, avail, e) < 0)
			goto done;
	}
	if (truncate(log, 0) < 0 && errno != ENOENT) {
		err_set(e, "truncate %s: %s", log, strerror(errno));
		goto done;
	}
	report_info("image build: %sDebian %s from %s (log: %s)",
	            golden ? "golden layer (Debian + Docker), " : "", suite, mirror, log);
	t0 = report_now_ms();
	{
		char *const argv[] = {"sh",
		                      script,
		                      (char *)suite,
		                      (char *)mirror,
		                      path,
		                      work,
		                      golden ? "golden" : NULL,
		                      NULL};

		if (run_build(argv, log, c->apt_proxy, last, sizeof(last), e) < 0) {
			rm_rf(work);
			goto done;
		}
	}
	rm_rf(work);
	if (!is_file(path)) {
		err_set(e, "image build made no %s (log: %s)", path, log);
		goto done;
	}
	{
		char src[1024];
		char hex[IMAGE_SHA512_HEX + 1];

		snprintf(
		    src, sizeof(src), "%s @ %s%s", suite, mirror,
		    golden ? " + docker.io docker-cli docker-buildx docker-compose (docker.source "
		             "debian)"
		           : "");
		if (write_info(path, golden ? "golden" : "build", "source", src, "script", script,
		               e) < 0 ||
		    sha_file(path, EVP_sha512(), "record SHA512", hex, e) < 0 ||
		    record_set(path, hex, e) < 0)
			goto done;
	}
	report_debug("image build took %.0f s", (double)(report_now_ms() - t0) / 1000.0);
	ret = 0;
done:
	if (lockfd >= 0)
		close(lockfd);
	return ret;
}

int image_build(const struct config *c, char *path, size_t n, struct err *e)
{
	return build_suite(c, c->image_build ? c->image_build : DEFAULT_SUITE, 0, path, n, e);
}

int image_golden_why(const struct config *c, char *why, size_t n)
{
	if (c->image_build == NULL && c->image_url != NULL) {
		snprintf(why, n,
		         "image.url: a downloaded image gets no golden layer yet (the "
		         "one-boot install is not implemented); the agent installs Docker");
		return 0;
	}
	if (c->docker_source != DOCKER_DEBIAN) {
		snprintf(why, n,
		         "docker.source docker: Docker's own repository is installed by the "
		         "agent in the guest (it is not reachable at image build time here)");
		return 0;
	}
	why[0] = '\0';
	return 1;
}

int image_golden(const struct config *c, char *path, size_t n, struct err *e)
{
	char why[256];

	if (!image_golden_why(c, why, sizeof(why)))
		return err_set(e, "no golden layer: %s", why);
	return build_suite(c, c->image_build ? c->image_build : DEFAULT_SUITE, 1, path, n, e);
}

int image_ensure(const struct config *c, int no_build_fallback, char *path, size_t n, struct err *e)
{
	char dir[PATH_MAX];
	int unreachable = 0;

	if (c->image_build != NULL || c->image_url == NULL)
		return image_build(c, path, n, e);
	if (image_cache_dir(dir, sizeof(dir), e) < 0)
		return -1;
	if (find_cached_url(dir, c->image_url, path, n) == 0) {
		/* verified when it was cached: no network needed, unless it changed */
		int r = cached_ok(path, "downloading it again", e);

		if (r != 0)
			return r > 0 ? 0 : -1;
	}
	if (fetch_impl(c, path, n, &unreachable, e) == 0)
		return 0;
	if (!unreachable)
		return -1;
	if (no_build_fallback)
		return err_wrap(e, "image (--no-build-fallback: not building one instead)");
	report_warn("%s; building a Debian %s image from %s instead", e->msg, DEFAULT_SUITE,
	            c->apt_mirror ? c->apt_mirror : DEFAULT_MIRROR);
	err_clear(e);
	return build_suite(c, DEFAULT_SUITE, 0, path, n, e);
}

int image_cached(const struct config *c, int golden, char *path, size_t n, struct err *e)
{
	const char *mirror = c->apt_mirror ? c->apt_mirror : DEFAULT_MIRROR;
	char dir[PATH_MAX], name[256], script[PATH_MAX], why[256];

	if (image_cache_dir(dir, sizeof(dir), e) < 0)
		return -1;
	if (golden && !image_golden_why(c, why, sizeof(why)))
		return 0;
	path[0] = '\0';
	if (!golden && c->image_build == NULL && c->image_url != NULL &&
	    find_cached_url(dir, c->image_url, path, n) == 0) {
		int r = cached_ok(path, "downloading it again", e);

		if (r != 0)
			return r;
	}
	/* (url mode with nothing cached: the build image_ensure falls back to) */
	if (build_name(c->image_build ? c->image_build : DEFAULT_SUITE, mirror, golden, name,
	               sizeof(name), script, sizeof(script), e) < 0 ||
	    path_join(path, n, e, "%s/%s", dir, name) < 0)
		return -1;
	return cached_ok(path, "building it again", e);
}

int image_record(const char *image, const char *sha512_hex, struct err *e)
{
	return record_set(image, sha512_hex, e);
}

/* --- list and prune --------------------------------------------------------- */

static int list_impl(const char *dir, struct image_entry **out, size_t *count, struct err *e)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	struct image_entry *v = NULL;
	size_t nv = 0;

	if (d == NULL)
		return err_set(e, "open %s: %s", dir, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		struct image_entry ent;
		char p[PATH_MAX], info[PATH_MAX + 8];
		struct stat st;
		int part = ends_with(de->d_name, ".qcow2.part");

		if (!part && !ends_with(de->d_name, ".qcow2"))
			continue;
		if (snprintf(p, sizeof(p), "%s/%s", dir, de->d_name) >= (int)sizeof(p) ||
		    stat(p, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		memset(&ent, 0, sizeof(ent));
		snprintf(ent.name, sizeof(ent.name), "%s", de->d_name);
		ent.size = (uint64_t)st.st_size;
		ent.mtime = st.st_mtime;
		snprintf(info, sizeof(info), "%s.info", p);
		if (part) {
			snprintf(ent.kind, sizeof(ent.kind), "part");
		} else if (info_get(info, "kind", ent.kind, sizeof(ent.kind)) < 0) {
			snprintf(ent.kind, sizeof(ent.kind), "?");
		}
		if (info_get(info, "url", ent.source, sizeof(ent.source)) < 0)
			info_get(info, "source", ent.source, sizeof(ent.source));
		if (info_get(info, "sha512", ent.sha512, sizeof(ent.sha512)) < 0)
			ent.sha512[0] = '\0';
		{
			struct image_entry *nvp = realloc(v, (nv + 1) * sizeof(*v));
			if (nvp == NULL) {
				free(v);
				closedir(d);
				return err_set(e, "out of memory");
			}
			v = nvp;
		}
		v[nv++] = ent;
	}
	closedir(d);
	*out = v;
	*count = nv;
	return 0;
}

int image_list(struct image_entry **out, size_t *count, struct err *e)
{
	char dir[PATH_MAX];

	if (image_cache_dir(dir, sizeof(dir), e) < 0)
		return -1;
	return list_impl(dir, out, count, e);
}

/* Removes path if no process holds its build lock; counts what it freed. */
static void prune_one(const char *path, size_t *removed, uint64_t *freed)
{
	struct stat st;
	char info[PATH_MAX + 8];

	if (lstat(path, &st) < 0)
		return;
	if (S_ISDIR(st.st_mode) ? rm_rf(path) == 0 : unlink(path) == 0) {
		(*removed)++;
		*freed += (uint64_t)st.st_blocks * 512;
	}
	snprintf(info, sizeof(info), "%s.info", path);
	unlink(info);
	snprintf(info, sizeof(info), "%s.packages", path);
	unlink(info);
}

/* Longer than 60 lines: one directory walk deciding per file (in use, partial, stale) under one
 * lock. */
int image_prune(const struct config *c, int all, size_t *removed, uint64_t *freed, struct err *e)
{
	char dir[PATH_MAX], keep[PATH_MAX], keep_golden[PATH_MAX], script[PATH_MAX], name[256];
	DIR *d;
	struct dirent *de;

	*removed = 0;
	*freed = 0;
	keep[0] = '\0';
	keep_golden[0] = '\0';
	if (image_cache_dir(dir, sizeof(dir), e) < 0)
		return -1;
	if (!all) {
		if (c->image_build != NULL || c->image_url == NULL) {
			const char *suite = c->image_build ? c->image_build : DEFAULT_SUITE;
			const char *mirror = c->apt_mirror ? c->apt_mirror : DEFAULT_MIRROR;

			if (build_name(suite, mirror, 0, name, sizeof(name), script, sizeof(script),
			               e) < 0 ||
			    path_join(keep, sizeof(keep), e, "%s/%s", dir, name) < 0)
				return -1;
			if (c->docker_source == DOCKER_DEBIAN &&
			    (build_name(suite, mirror, 1, name, sizeof(name), script,
			                sizeof(script), e) < 0 ||
			     path_join(keep_golden, sizeof(keep_golden), e, "%s/%s", dir, name) <
			         0))
				return -1;
		} else if (find_cached_url(dir, c->image_url, keep, sizeof(keep)) < 0) {
			keep[0] = '\0';
		}
	}
	d = opendir(dir);
	if (d == NULL)
		return err_set(e, "open %s: %s", dir, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		char p[PATH_MAX], lock[PATH_MAX + 8];
		int fd;

		if (de->d_name[0] == '.' || ends_with(de->d_name, ".info") ||
		    ends_with(de->d_name, ".lock") || ends_with(de->d_name, ".packages") ||
		    strcmp(de->d_name, "logs") == 0)
			continue;
		if (snprintf(p, sizeof(p), "%s/%s", dir, de->d_name) >= (int)sizeof(p))
			continue;
		if (strcmp(p, keep) == 0 || strcmp(p, keep_golden) == 0)
			continue;
		/* a build in progress holds the lock of its image */
		snprintf(lock, sizeof(lock), "%.*s.lock",
		         (int)(strlen(p) - (ends_with(p, ".work") ? 5 : 0)), p);
		fd = open(lock, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			int busy = flock(fd, LOCK_EX | LOCK_NB) < 0;
			if (!busy)
				unlink(lock);
			close(fd);
			if (busy)
				continue;
		}
		if (ends_with(p, ".qcow2") || ends_with(p, ".part") || ends_with(p, ".work") ||
		    ends_with(p, ".tmp"))
			prune_one(p, removed, freed);
	}
	closedir(d);
	/* build logs of images that are gone */
	{
		char logdir[PATH_MAX];
		DIR *ld;

		if (path_join(logdir, sizeof(logdir), e, "%s/logs", dir) == 0 &&
		    (ld = opendir(logdir)) != NULL) {
			while ((de = readdir(ld)) != NULL) {
				char lp[PATH_MAX], img[PATH_MAX];
				if (!ends_with(de->d_name, ".log"))
					continue;
				if (path_join(lp, sizeof(lp), NULL, "%s/%s", logdir, de->d_name) <
				        0 ||
				    path_join(img, sizeof(img), NULL, "%s/%.*s.qcow2", dir,
				              (int)(strlen(de->d_name) - 4), de->d_name) < 0)
					continue;
				if (!is_file(img))
					prune_one(lp, removed, freed);
			}
			closedir(ld);
		}
	}
	return 0;
}
