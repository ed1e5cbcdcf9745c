/*
 * imgxfer.c: image export and import (see imgxfer.h).
 */
#include "imgxfer.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "image.h"
#include "report.h"
#include "util.h"

#define TAR_TIMEOUT_MS (60 * 60 * 1000)

/* --- MANIFEST ------------------------------------------------------------- */

static int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* A plain cache file name: [A-Za-z0-9._-], no leading dot, an image or its
 * .info. */
static int cache_name_ok(const char *s)
{
	const char *p;

	if (s[0] == '\0' || s[0] == '.' || strlen(s) > 200)
		return 0;
	for (p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '_' && *p != '-')
			return 0;
	return ends_with(s, ".qcow2") || ends_with(s, ".qcow2.info");
}

static int find_name(const struct imgxfer *x, const char *name)
{
	size_t i;

	for (i = 0; i < x->n; i++)
		if (strcmp(x->f[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* One "HEX SIZE NAME" line into x. */
static int parse_line(const char *l, size_t len, int no, struct imgxfer *x, struct err *e)
{
	struct imgxfer_file *f = &x->f[x->n];
	const char *sp1 = memchr(l, ' ', len), *sp2, *end = l + len;
	unsigned long long size = 0;
	size_t i, nl;

	if (sp1 == NULL || (sp2 = memchr(sp1 + 1, ' ', (size_t)(end - sp1 - 1))) == NULL)
		return err_set(e, "MANIFEST line %d: expected \"SHA256 SIZE NAME\"", no);
	if (sp1 - l != 64)
		return err_set(e, "MANIFEST line %d: sha256: expected 64 hex digits", no);
	for (i = 0; i < 64; i++) {
		if (!isxdigit((unsigned char)l[i]) || isupper((unsigned char)l[i]))
			return err_set(e, "MANIFEST line %d: sha256: expected 64 hex digits", no);
		f->sha256[i] = l[i];
	}
	f->sha256[64] = '\0';
	if (sp2 == sp1 + 1 || sp2 - sp1 - 1 > 20)
		return err_set(e, "MANIFEST line %d: size: expected a number of bytes", no);
	for (i = 1; sp1 + i < sp2; i++) {
		unsigned d = (unsigned)(sp1[i] - '0');

		if (d > 9 || size > (UINT64_MAX - d) / 10)
			return err_set(e, "MANIFEST line %d: size: expected a number of bytes", no);
		size = size * 10 + d;
	}
	f->size = size;
	nl = (size_t)(end - sp2 - 1);
	if (nl == 0 || nl >= sizeof(f->name))
		return err_set(e, "MANIFEST line %d: name: empty or too long", no);
	memcpy(f->name, sp2 + 1, nl);
	f->name[nl] = '\0';
	if (!cache_name_ok(f->name))
		return err_set(e,
		               "MANIFEST line %d: name: \"%s\" is not an image cache file "
		               "(letters, digits, . _ -; ending .qcow2 or .qcow2.info)",
		               no, f->name);
	if (find_name(x, f->name) >= 0)
		return err_set(e, "MANIFEST line %d: name: \"%s\" listed twice", no, f->name);
	f->state = "";
	x->n++;
	return 0;
}

int imgxfer_manifest_parse(const char *text, size_t len, struct imgxfer *x, struct err *e)
{
	size_t pos = 0, i;
	int no = 0;

	x->n = 0;
	while (pos < len) {
		const char *l = text + pos, *nlp = memchr(l, '\n', len - pos);
		size_t ll = nlp ? (size_t)(nlp - l) : len - pos;

		pos += ll + (nlp ? 1 : 0);
		no++;
		if (memchr(l, '\0', ll) != NULL)
			return err_set(e, "MANIFEST line %d: a NUL byte", no);
		if (no == 1) {
			if (ll != strlen(IMGXFER_MAGIC) || memcmp(l, IMGXFER_MAGIC, ll) != 0)
				return err_set(e, "MANIFEST line 1: expected \"%s\"",
				               IMGXFER_MAGIC);
			continue;
		}
		if (ll == 0)
			continue;
		if (x->n == IMGXFER_MAX)
			return err_set(e, "MANIFEST line %d: more than %d files", no, IMGXFER_MAX);
		if (parse_line(l, ll, no, x, e) < 0)
			return -1;
	}
	if (no == 0)
		return err_set(e, "MANIFEST line 1: expected \"%s\"", IMGXFER_MAGIC);
	if (x->n == 0)
		return err_set(e, "MANIFEST: no file listed");
	/* an image travels with its .info, and an .info with its image */
	for (i = 0; i < x->n; i++) {
		char other[300];
		size_t l = strlen(x->f[i].name);

		if (ends_with(x->f[i].name, ".info"))
			snprintf(other, sizeof(other), "%.*s", (int)(l - 5), x->f[i].name);
		else
			snprintf(other, sizeof(other), "%s.info", x->f[i].name);
		if (find_name(x, other) < 0)
			return err_set(e, "MANIFEST: %s is listed without %s", x->f[i].name, other);
	}
	return 0;
}

int imgxfer_manifest_format(const struct imgxfer *x, char *buf, size_t n, struct err *e)
{
	size_t len, i;
	int r = snprintf(buf, n, "%s\n", IMGXFER_MAGIC);

	if (r < 0 || (size_t)r >= n)
		return err_set(e, "MANIFEST too long");
	len = (size_t)r;
	for (i = 0; i < x->n; i++) {
		r = snprintf(buf + len, n - len, "%s %llu %s\n", x->f[i].sha256,
		             (unsigned long long)x->f[i].size, x->f[i].name);
		if (r < 0 || (size_t)r >= n - len)
			return err_set(e, "MANIFEST too long");
		len += (size_t)r;
	}
	return 0;
}

/* --- files ---------------------------------------------------------------- */

int imgxfer_hash_file(const char *path, char sha256[65], char *sha512, uint64_t *size,
                      struct err *e)
{
	EVP_MD_CTX *c256 = EVP_MD_CTX_new(), *c512 = sha512 ? EVP_MD_CTX_new() : NULL;
	unsigned char *buf = malloc(1 << 20), d[64];
	unsigned int dl = 0;
	uint64_t got = 0, total = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret = -1;
	struct stat st;

	if (fd < 0) {
		err_set(e, "open %s: %s", path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) == 0)
		total = (uint64_t)st.st_size;
	if (buf == NULL || c256 == NULL || (sha512 && c512 == NULL) ||
	    EVP_DigestInit_ex(c256, EVP_sha256(), NULL) != 1 ||
	    (c512 && EVP_DigestInit_ex(c512, EVP_sha512(), NULL) != 1)) {
		err_set(e, "digest of %s: out of memory", path);
		goto out;
	}
	for (;;) {
		ssize_t r = read(fd, buf, 1 << 20);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err_set(e, "read %s: %s", path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		EVP_DigestUpdate(c256, buf, (size_t)r);
		if (c512)
			EVP_DigestUpdate(c512, buf, (size_t)r);
		got += (uint64_t)r;
		if (total > (64u << 20))
			report_progress("SHA-256", got, total);
	}
	if (total > (64u << 20))
		report_progress_done();
	EVP_DigestFinal_ex(c256, d, &dl);
	hex_encode(d, 32, sha256);
	if (c512) {
		EVP_DigestFinal_ex(c512, d, &dl);
		hex_encode(d, 64, sha512);
	}
	if (size)
		*size = got;
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	EVP_MD_CTX_free(c256);
	EVP_MD_CTX_free(c512);
	return ret;
}

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	remove(p);
	return 0;
}

static void rm_rf(const char *path)
{
	nftw(path, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

/* Runs tar: 0, or -1 with why (tar's first line of output) when it failed,
 * and with e set only when it could not start. */
static int run_tar(char *const argv[], char *why, size_t n, struct err *e)
{
	char *out = NULL, *first, *p;
	int status = 0;

	why[0] = '\0';
	if (run_argv_output(argv, TAR_TIMEOUT_MS, 64 * 1024, &out, &status, e) < 0) {
		snprintf(why, n, "%.400s", e->msg);
		return -1;
	}
	if (status == 0) {
		free(out);
		return 0;
	}
	/* the first line tar wrote says the most ("Unexpected EOF in archive") */
	first = out ? out : "";
	while (*first == '\n')
		first++;
	if ((p = strchr(first, '\n')) != NULL)
		*p = '\0';
	snprintf(why, n, "%.400s", first[0] ? first : "tar exited with an error");
	free(out);
	return -1;
}

/* --- export --------------------------------------------------------------- */

static int add_file(struct imgxfer *x, const char *dir, const char *name, struct err *e)
{
	char path[PATH_MAX];
	struct imgxfer_file *f = &x->f[x->n];

	if (x->n == IMGXFER_MAX)
		return err_set(e, "image export: too many files");
	if (path_join(path, sizeof(path), e, "%s/%s", dir, name) < 0 ||
	    path_join(f->name, sizeof(f->name), e, "%s", name) < 0 ||
	    imgxfer_hash_file(path, f->sha256, NULL, &f->size, e) < 0)
		return -1;
	f->state = "";
	x->n++;
	return 0;
}

/* The cached images c uses into x (the plain image, then its golden layer). */
static int export_collect(const struct config *c, const char *dir, struct imgxfer *x, struct err *e)
{
	char path[PATH_MAX], info[PATH_MAX + 8], why[256];
	int golden;

	for (golden = 0; golden <= 1; golden++) {
		const char *base;
		int r = image_cached(c, golden, path, sizeof(path), e);

		if (r < 0)
			return -1;
		if (r == 0 && !golden)
			report_info("image export: no plain image cached (%s)",
			            path[0] ? path : "none");
		if (r == 0 && golden && image_golden_why(c, why, sizeof(why)))
			report_info("image export: no golden layer cached (%s)", path);
		else if (r == 0 && golden)
			report_info("image export: no golden layer: %s", why);
		if (r == 0)
			continue;
		snprintf(info, sizeof(info), "%s.info", path);
		if (access(info, F_OK) != 0)
			return err_set(e, "image export: %s has no record (%s missing)", path,
			               info);
		base = strrchr(path, '/') + 1;
		if (add_file(x, dir, base, e) < 0 ||
		    add_file(x, dir, strrchr(info, '/') + 1, e) < 0)
			return -1;
	}
	if (x->n == 0)
		return err_set(e, "image export: the image this configuration uses is not cached: "
		                  "run `inception image build` (image.build) or `inception image "
		                  "fetch` (image.url) first");
	return 0;
}

static int fsync_path(const char *path, struct err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fsync(fd) < 0) {
		err_set(e, "fsync %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* Longer than 60 lines: the manifest, tar, the digest and the rename are one
 * sequence sharing the temporary names that must be cleaned on every path. */
int imgxfer_export(const struct config *c, const char *file, struct imgxfer *x, struct err *e)
{
	char dir[PATH_MAX], stage[PATH_MAX], manifest[PATH_MAX], tmp[PATH_MAX], text[8192];
	char why[512];
	char *argv[12 + IMGXFER_MAX];
	size_t i, a = 0;
	int ret = -1;

	memset(x, 0, sizeof(*x));
	stage[0] = '\0';
	if (image_cache_dir(dir, sizeof(dir), e) < 0 ||
	    path_join(tmp, sizeof(tmp), e, "%s.tmp", file) < 0 ||
	    path_join(stage, sizeof(stage), e, "%s/.export-XXXXXX", dir) < 0)
		return -1;
	if (export_collect(c, dir, x, e) < 0)
		return -1;
	if (mkdtemp(stage) == NULL) {
		err_set(e, "mkdtemp %s: %s", stage, strerror(errno));
		return -1;
	}
	if (imgxfer_manifest_format(x, text, sizeof(text), e) < 0 ||
	    path_join(manifest, sizeof(manifest), e, "%s/MANIFEST", stage) < 0 ||
	    write_file_atomic(manifest, text, strlen(text), 0644, e) < 0)
		goto out;
	argv[a++] = "tar";
	argv[a++] = "--create";
	argv[a++] = "--format=gnu";
	argv[a++] = "--file";
	argv[a++] = tmp;
	argv[a++] = "--directory";
	argv[a++] = stage;
	argv[a++] = "MANIFEST";
	/* the images' directory: GNU tar takes a second -C for the names after it */
	argv[a++] = "--directory";
	argv[a++] = dir;
	for (i = 0; i < x->n; i++)
		argv[a++] = x->f[i].name;
	argv[a] = NULL;
	report_info("image export: writing %s", tmp);
	if (run_tar(argv, why, sizeof(why), e) < 0) {
		err_set(e, "image export: writing %s failed (%s)", tmp, why);
		goto out;
	}
	if (fsync_path(tmp, e) < 0 || imgxfer_hash_file(tmp, x->sha256, NULL, &x->size, e) < 0)
		goto out;
	if (rename(tmp, file) < 0) {
		err_set(e, "rename %s to %s: %s", tmp, file, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (ret < 0)
		unlink(tmp);
	rm_rf(stage);
	return ret;
}

/* --- import --------------------------------------------------------------- */

/* Every file unpacked into stage is in the MANIFEST, and every MANIFEST file
 * was unpacked, as a regular file. */
static int import_members(const char *file, const char *stage, const struct imgxfer *x,
                          struct err *e)
{
	DIR *d = opendir(stage);
	struct dirent *de;
	size_t i;

	if (d == NULL)
		return err_set(e, "open %s: %s", stage, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		    strcmp(de->d_name, "MANIFEST") == 0)
			continue;
		if (find_name(x, de->d_name) < 0) {
			err_set(e, "%s: %s is not in the MANIFEST: refused, nothing imported", file,
			        de->d_name);
			closedir(d);
			return -1;
		}
	}
	closedir(d);
	for (i = 0; i < x->n; i++) {
		char path[PATH_MAX];
		struct stat st;

		if (path_join(path, sizeof(path), e, "%s/%s", stage, x->f[i].name) < 0)
			return -1;
		if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
			return err_set(e,
			               "%s: %s is in the MANIFEST but not in the archive: refused, "
			               "nothing imported",
			               file, x->f[i].name);
	}
	return 0;
}

/* An unpacked image's SHA512 against the one its .info records. */
static int check_record(const char *file, const char *stage, const struct imgxfer_file *f,
                        struct err *e)
{
	char info[PATH_MAX], *text = NULL, *rec;
	int ok;

	if (path_join(info, sizeof(info), e, "%s/%s.info", stage, f->name) < 0 ||
	    read_file_max(info, &text, NULL, 1 << 20, e) < 0)
		return -1;
	if (strncmp(text, "sha512=", 7) == 0)
		rec = text + 7;
	else if ((rec = strstr(text, "\nsha512=")) != NULL)
		rec += 8;
	ok = rec != NULL && strncmp(rec, f->sha512, 128) == 0 &&
	     (rec[128] == '\n' || rec[128] == '\0');
	if (!ok)
		err_set(e, "%s: %s: SHA512 %s, its .info records %.128s: refused, nothing imported",
		        file, f->name, f->sha512, rec ? rec : "none");
	free(text);
	return ok ? 0 : -1;
}

/* The size and SHA-256 of every unpacked file against the MANIFEST, then
 * each image's SHA512 against its .info; then each image's record is
 * renewed (its size and mtime are this host's). */
static int import_check(const char *file, const char *stage, struct imgxfer *x, struct err *e)
{
	char path[PATH_MAX], got[65];
	size_t i;

	for (i = 0; i < x->n; i++) {
		int image = ends_with(x->f[i].name, ".qcow2");
		uint64_t size = 0;

		if (path_join(path, sizeof(path), e, "%s/%s", stage, x->f[i].name) < 0 ||
		    imgxfer_hash_file(path, got, image ? x->f[i].sha512 : NULL, &size, e) < 0)
			return -1;
		if (size != x->f[i].size)
			return err_set(e,
			               "%s: %s: %llu bytes, the MANIFEST says %llu: refused, "
			               "nothing imported",
			               file, x->f[i].name, (unsigned long long)size,
			               (unsigned long long)x->f[i].size);
		if (strcmp(got, x->f[i].sha256) != 0)
			return err_set(e,
			               "%s: %s: SHA-256 %s, the MANIFEST says %s: refused, "
			               "nothing imported",
			               file, x->f[i].name, got, x->f[i].sha256);
	}
	for (i = 0; i < x->n; i++)
		if (ends_with(x->f[i].name, ".qcow2") && check_record(file, stage, &x->f[i], e) < 0)
			return -1;
	for (i = 0; i < x->n; i++) {
		if (!ends_with(x->f[i].name, ".qcow2"))
			continue;
		if (path_join(path, sizeof(path), e, "%s/%s", stage, x->f[i].name) < 0 ||
		    image_record(path, x->f[i].sha512, e) < 0)
			return -1;
	}
	return 0;
}

/* 1 when cache/name holds the same bytes (kept), 0 when absent, -1 (e)
 * when a different file is there. */
static int import_conflict(const char *dir, const struct imgxfer_file *f, struct err *e)
{
	char path[PATH_MAX], got[65];
	uint64_t size = 0;

	if (path_join(path, sizeof(path), e, "%s/%s", dir, f->name) < 0)
		return -1;
	if (access(path, F_OK) != 0)
		return 0;
	if (imgxfer_hash_file(path, got, NULL, &size, e) < 0)
		return -1;
	if (strcmp(got, f->sha256) == 0)
		return 1;
	return err_set(e,
	               "%s exists with other content (SHA-256 %s, the archive's %s): nothing "
	               "imported; move it away or run `inception image prune --all`, then "
	               "import again",
	               path, got, f->sha256);
}

/* Renames the images (each .info first, then its image) into dir, unless
 * the same image is already there.  Conflicts are found before anything
 * moves. */
static int import_install(const char *stage, const char *dir, struct imgxfer *x, struct err *e)
{
	size_t i, j;
	int pass;

	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < x->n; i++) {
			char info[300];
			int r;

			if (!ends_with(x->f[i].name, ".qcow2"))
				continue;
			snprintf(info, sizeof(info), "%s.info", x->f[i].name);
			j = (size_t)find_name(x, info);
			if (pass == 0) {
				r = import_conflict(dir, &x->f[i], e);
				if (r < 0)
					return -1;
				x->f[i].state = x->f[j].state = r ? "already cached" : "imported";
				continue;
			}
			if (strcmp(x->f[i].state, "imported") != 0)
				continue;
			{
				char from[PATH_MAX], to[PATH_MAX], ifrom[PATH_MAX], ito[PATH_MAX];

				if (path_join(from, sizeof(from), e, "%s/%s", stage, x->f[i].name) <
				        0 ||
				    path_join(to, sizeof(to), e, "%s/%s", dir, x->f[i].name) < 0 ||
				    path_join(ifrom, sizeof(ifrom), e, "%s/%s", stage, info) < 0 ||
				    path_join(ito, sizeof(ito), e, "%s/%s", dir, info) < 0)
					return -1;
				if (rename(ifrom, ito) < 0 || rename(from, to) < 0)
					return err_set(e, "rename %s into %s: %s", x->f[i].name,
					               dir, strerror(errno));
			}
		}
	}
	return 0;
}

static int check_archive_digest(const char *file, const char *want, struct imgxfer *x,
                                struct err *e)
{
	char low[65];
	size_t i;

	if (strlen(want) != 64)
		return err_setc(e, EXIT_USAGE, "image import: --sha256: expected 64 hex digits");
	for (i = 0; i < 64; i++) {
		if (!isxdigit((unsigned char)want[i]))
			return err_setc(e, EXIT_USAGE,
			                "image import: --sha256: expected 64 hex digits");
		low[i] = (char)tolower((unsigned char)want[i]);
	}
	low[64] = '\0';
	if (imgxfer_hash_file(file, x->sha256, NULL, &x->size, e) < 0)
		return -1;
	if (strcmp(x->sha256, low) != 0)
		return err_set(e, "%s: SHA-256 %s, --sha256 says %s: refused, nothing imported",
		               file, x->sha256, low);
	return 0;
}

/* Longer than 60 lines: the checks run in order on one temporary directory
 * that every path must remove. */
int imgxfer_import(const char *file, const char *want_sha256, struct imgxfer *x, struct err *e)
{
	char dir[PATH_MAX], stage[PATH_MAX], manifest[PATH_MAX], why[512], *text = NULL;
	size_t len = 0;
	struct stat st;
	uint64_t avail = 0;
	int ret = -1;

	memset(x, 0, sizeof(*x));
	if (stat(file, &st) < 0)
		return err_set(e, "%s: %s", file, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return err_set(e, "%s: not a regular file", file);
	if (want_sha256 != NULL && check_archive_digest(file, want_sha256, x, e) < 0)
		return -1;
	if (want_sha256 == NULL && imgxfer_hash_file(file, x->sha256, NULL, &x->size, e) < 0)
		return -1;
	if (image_cache_dir(dir, sizeof(dir), e) < 0 || image_space_free(dir, &avail, e) < 0 ||
	    image_space_check(dir, (uint64_t)st.st_size, avail, e) < 0 ||
	    path_join(stage, sizeof(stage), e, "%s/.import-XXXXXX", dir) < 0)
		return -1;
	if (mkdtemp(stage) == NULL)
		return err_set(e, "mkdtemp %s: %s", stage, strerror(errno));
	{
		char *argv[] = {
		    "tar",         "--extract", "--file",          (char *)file,
		    "--directory", stage,       "--no-same-owner", "--no-same-permissions",
		    NULL};

		report_info("image import: unpacking %s into %s", file, stage);
		if (run_tar(argv, why, sizeof(why), e) < 0) {
			err_set(e,
			        "%s: not a complete image archive (%s): refused, nothing imported",
			        file, why);
			goto out;
		}
	}
	if (path_join(manifest, sizeof(manifest), e, "%s/MANIFEST", stage) < 0)
		goto out;
	if (read_file_max(manifest, &text, &len, 1 << 20, e) < 0) {
		err_set(e, "%s: no MANIFEST in the archive: refused, nothing imported", file);
		goto out;
	}
	if (imgxfer_manifest_parse(text, len, x, e) < 0) {
		char msg[sizeof(e->msg)];

		snprintf(msg, sizeof(msg), "%s", e->msg);
		err_set(e, "%s: %s: refused, nothing imported", file, msg);
		goto out;
	}
	if (import_members(file, stage, x, e) < 0 || import_check(file, stage, x, e) < 0 ||
	    import_install(stage, dir, x, e) < 0)
		goto out;
	ret = 0;
out:
	free(text);
	rm_rf(stage);
	return ret;
}
