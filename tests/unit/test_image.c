/*
 * test_image.c: the checksums-file parser (every line format, malformed and
 * conflicting lines), SHA512 of known files, url file names, and the cache
 * rules that need no network: a cached image for a url is used as it is, an
 * unreachable url with --no-build-fallback fails with one clear message.
 * Also the redirect policy (https stays https), the free-space message with
 * the numbers injected, and the verified record of a cached image (written on
 * first use, a new mtime re-hashes, changed content is deleted, never used).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "image.h"
#include "report.h"
#include "util.h"

#define H1                                                                                         \
	"cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2" \
	"877eec2f63b931bd47417a81a538327af927da3e"
#define H2                                                                                         \
	"ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23" \
	"a3feebbd454d4423643ce80e2a9ac94fa54ca49f"

static int find(const char *text, const char *name, char hex[IMAGE_SHA512_HEX + 1], struct err *e)
{
	err_clear(e);
	return image_sums_find(text, strlen(text), name, hex, e);
}

static void test_sums_gnu(void **state)
{
	char hex[IMAGE_SHA512_HEX + 1];
	struct err e;
	const char *text =
	    H1 "  debian-13-genericcloud-amd64.qcow2\n" H2 "  debian-13-genericcloud-amd64.raw\n";

	(void)state;
	assert_int_equal(find(text, "debian-13-genericcloud-amd64.qcow2", hex, &e), 0);
	assert_string_equal(hex, H1);
	assert_int_equal(find(text, "debian-13-genericcloud-amd64.raw", hex, &e), 0);
	assert_string_equal(hex, H2);
}

static void test_sums_binary_bsd_crlf_case(void **state)
{
	char hex[IMAGE_SHA512_HEX + 1];
	struct err e;
	/* '*' binary marker, BSD style, CRLF endings, upper-case hex, no final newline */
	const char *text =
	    "# comment line\r\n"
	    "\r\n"
	    "CF83E1357EEFB8BDF1542850D66D8007D620E4050B5715DC83F4A921D36CE9CE47D0D13C5D85F2B0FF8318"
	    "D2877EEC2F63B931BD47417A81A538327AF927DA3E *bin.qcow2\r\n"
	    "SHA512 (bsd.qcow2) = " H2 "\r\n"
	    "  " H2 "  ./dotted.qcow2   \n" H1 "  sub/dir/nested.qcow2";

	(void)state;
	assert_int_equal(find(text, "bin.qcow2", hex, &e), 0);
	assert_string_equal(hex, H1);
	assert_int_equal(find(text, "bsd.qcow2", hex, &e), 0);
	assert_string_equal(hex, H2);
	assert_int_equal(find(text, "dotted.qcow2", hex, &e), 0);
	assert_string_equal(hex, H2);
	assert_int_equal(find(text, "nested.qcow2", hex, &e), 0);
	assert_string_equal(hex, H1);
}

static void test_sums_malformed_lines_skipped(void **state)
{
	char hex[IMAGE_SHA512_HEX + 1];
	struct err e;
	/* each bad line names img.qcow2 too; only the good one may count */
	const char *text =
	    "deadbeef  img.qcow2\n" /* short */
	    H1 "0  img.qcow2\n"     /* long */
	    "zz" H1 "  img.qcow2\n" /* not hex */
	    "gf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318"
	    "d2877eec2f63b931bd47417a81a538327af927da3e  img.qcow2\n" /* bad digit */
	    H1 "\n"                                                   /* no name */
	    H1 "  \n"                                                 /* blank name */
	    "SHA512 (img.qcow2) = 1234\n"                             /* bsd short */
	    "SHA256 (img.qcow2) = " H1 "\n"                           /* other algo */
	    "SHA512 () = " H1 "\n"                                    /* no name */
	    "\x01\x02\xff garbage\n" H2 "  img.qcow2\n";

	(void)state;
	assert_int_equal(find(text, "img.qcow2", hex, &e), 0);
	assert_string_equal(hex, H2);
}

static void test_sums_missing_and_similar_names(void **state)
{
	char hex[IMAGE_SHA512_HEX + 1];
	struct err e;
	const char *text = H1 "  xdebian.qcow2\n" H1 "  debian.qcow2.sig\n";

	(void)state;
	assert_int_equal(find(text, "debian.qcow2", hex, &e), -1);
	assert_non_null(strstr(e.msg, "no SHA512 line for debian.qcow2"));
	assert_int_equal(find("", "a.qcow2", hex, &e), -1);
	assert_int_equal(find(text, "", hex, &e), -1);
}

static void test_sums_duplicates(void **state)
{
	char hex[IMAGE_SHA512_HEX + 1];
	struct err e;

	(void)state;
	assert_int_equal(find(H1 "  a.qcow2\n" H1 " *a.qcow2\n", "a.qcow2", hex, &e), 0);
	assert_string_equal(hex, H1);
	assert_int_equal(find(H1 "  a.qcow2\n" H2 "  a.qcow2\n", "a.qcow2", hex, &e), -1);
	assert_non_null(strstr(e.msg, "listed twice"));
}

static void test_sha512_known_files(void **state)
{
	char dir[] = "/tmp/test_image.XXXXXX", path[256], hex[IMAGE_SHA512_HEX + 1];
	struct err e;
	char *big;
	size_t i;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/f", dir);
	assert_int_equal(write_file_atomic(path, "", 0, 0600, &e), 0);
	assert_int_equal(image_sha512_file(path, hex, &e), 0);
	assert_string_equal(hex, H1); /* SHA512("") */
	assert_int_equal(write_file_atomic(path, "abc", 3, 0600, &e), 0);
	assert_int_equal(image_sha512_file(path, hex, &e), 0);
	assert_string_equal(hex, H2); /* SHA512("abc") */
	/* a file bigger than the read buffer: 3 MiB of 'a' (checked with sha512sum) */
	big = malloc(3 << 20);
	assert_non_null(big);
	for (i = 0; i < (3u << 20); i++)
		big[i] = 'a';
	assert_int_equal(write_file_atomic(path, big, 3 << 20, 0600, &e), 0);
	free(big);
	assert_int_equal(image_sha512_file(path, hex, &e), 0);
	{
		char *const argv[] = {"sha512sum", path, NULL};
		char *out = NULL;

		assert_int_equal(run_argv_capture(argv, NULL, &out, &e), 0);
		assert_memory_equal(out, hex, IMAGE_SHA512_HEX);
		free(out);
	}
	unlink(path);
	assert_int_equal(image_sha512_file(path, hex, &e), -1);
	assert_non_null(strstr(e.msg, "No such file"));
	rmdir(dir);
}

static void test_url_basename(void **state)
{
	char b[64];
	struct err e;

	(void)state;
	assert_int_equal(image_url_basename("https://h/a/b/img.qcow2", b, sizeof(b), &e), 0);
	assert_string_equal(b, "img.qcow2");
	assert_int_equal(image_url_basename("http://h/x.qcow2?sig=1#f", b, sizeof(b), &e), 0);
	assert_string_equal(b, "x.qcow2");
	assert_int_equal(image_url_basename("file:///var/tmp/y.qcow2", b, sizeof(b), &e), 0);
	assert_string_equal(b, "y.qcow2");
	assert_int_equal(image_url_basename("https://h/dir/", b, sizeof(b), &e), -1);
	assert_int_equal(image_url_basename("https://h", b, sizeof(b), &e), -1);
}

/* A cache dir with one url image, as image_fetch leaves it. */
static void make_cached(const char *dir, const char *url, char *img, size_t n)
{
	char info[600], text[1024];
	struct err e;

	snprintf(img, n, "%s/sha512-%s.qcow2", dir, H2);
	assert_int_equal(write_file_atomic(img, "abc", 3, 0644, &e), 0);
	snprintf(info, sizeof(info), "%s.info", img);
	snprintf(text, sizeof(text), "kind=url\nurl=%s\nchecksums=x\ncreated=1\n", url);
	assert_int_equal(write_file_atomic(info, text, strlen(text), 0644, &e), 0);
}

static void test_cached_url_used_offline(void **state)
{
	char dir[] = "/tmp/test_image.XXXXXX", img[512], path[512];
	/* port 9 on 127.0.0.1: nothing listens, any network use would fail */
	char url[] = "http://127.0.0.1:9/img.qcow2", sums[] = "http://127.0.0.1:9/SHA512SUMS";
	struct config c;
	struct err e;

	(void)state;
	assert_non_null(mkdtemp(dir));
	setenv("INCEPTION_IMAGE_CACHE", dir, 1);
	memset(&c, 0, sizeof(c));
	c.image_url = url;
	c.image_checksums = sums;
	make_cached(dir, url, img, sizeof(img));
	err_clear(&e);
	assert_int_equal(image_ensure(&c, 1, path, sizeof(path), &e), 0);
	assert_string_equal(path, img);

	/* list shows it with its source */
	{
		struct image_entry *v = NULL;
		size_t n = 0;

		assert_int_equal(image_list(&v, &n, &e), 0);
		assert_int_equal(n, 1);
		assert_string_equal(v[0].kind, "url");
		assert_string_equal(v[0].source, url);
		assert_int_equal(v[0].size, 3);
		free(v);
	}
	/* prune keeps the image this config uses, --all removes it */
	{
		size_t removed;
		uint64_t freed;
		char part[600];

		snprintf(part, sizeof(part), "%s/sha512-%s.qcow2.part", dir, H1);
		assert_int_equal(write_file_atomic(part, "x", 1, 0644, &e), 0);
		assert_int_equal(image_prune(&c, 0, &removed, &freed, &e), 0);
		assert_int_equal(removed, 1);
		assert_int_equal(access(part, F_OK), -1);
		assert_int_equal(access(img, F_OK), 0);
		assert_int_equal(image_prune(&c, 1, &removed, &freed, &e), 0);
		assert_int_equal(removed, 1);
		assert_int_equal(access(img, F_OK), -1);
	}
	/* nothing cached, url unreachable, no fallback: one clear error */
	err_clear(&e);
	assert_int_equal(image_ensure(&c, 1, path, sizeof(path), &e), -1);
	assert_non_null(strstr(e.msg, "--no-build-fallback"));
	assert_non_null(strstr(e.msg, "127.0.0.1:9/SHA512SUMS"));
	unsetenv("INCEPTION_IMAGE_CACHE");
	rmdir(dir);
}

static void test_redirect_protocols(void **state)
{
	(void)state;
	/* an https url may only be redirected to https; a plain http url (the
	 * user's choice, warned about) to either */
	assert_string_equal(image_redirect_protocols("https://cloud.debian.org/x.qcow2"), "https");
	assert_string_equal(image_redirect_protocols("HTTPS://h/x.qcow2"), "https");
	assert_string_equal(image_redirect_protocols("http://127.0.0.1/x.qcow2"), "http,https");
	assert_string_equal(image_redirect_protocols("HTTP://h/x.qcow2"), "http,https");
	assert_string_equal(image_redirect_protocols("file:///var/tmp/x.qcow2"), "https");
	assert_string_equal(image_redirect_protocols("httpx://h/x"), "https");
}

static void test_space_check(void **state)
{
	struct err e;
	uint64_t avail = 0;

	(void)state;
	err_clear(&e);
	assert_int_equal(image_space_check("/c", 100, 100, &e), 0);
	assert_int_equal(image_space_check("/c", 0, 0, &e), 0);
	assert_int_equal(image_space_check("/c", (uint64_t)1536 << 20, (uint64_t)300 << 20, &e),
	                 -1);
	assert_string_equal(e.msg, "not enough space in /c: 1.5 GiB needed, 300.0 MiB free");
	err_clear(&e);
	assert_int_equal(image_space_check("/var/cache/x", 101, 100, &e), -1);
	assert_string_equal(e.msg,
	                    "not enough space in /var/cache/x: 101 bytes needed, 100 bytes free");
	err_clear(&e);
	assert_int_equal(image_space_check("/c", (uint64_t)5 << 30, (uint64_t)3 << 30, &e), -1);
	assert_string_equal(e.msg, "not enough space in /c: 5.0 GiB needed, 3.0 GiB free");
	/* the real number: /tmp has some room, a missing dir is an error */
	assert_int_equal(image_space_free("/tmp", &avail, &e), 0);
	assert_true(avail > 0);
	assert_int_equal(image_space_free("/nonexistent/dir", &avail, &e), -1);
	assert_non_null(strstr(e.msg, "statvfs /nonexistent/dir"));
}

static void read_info(const char *img, char *buf, size_t n)
{
	char info[600], *text = NULL;
	struct err e;

	snprintf(info, sizeof(info), "%s.info", img);
	assert_int_equal(read_file(info, &text, NULL, &e), 0);
	snprintf(buf, n, "%s", text);
	free(text);
}

/* The verified record: written on first use, a changed mtime re-hashes (same
 * content: used), a changed content is deleted and never used. */
static void test_cached_record(void **state)
{
	char dir[] = "/tmp/test_image.XXXXXX", img[512], path[512], info[2048], want[600];
	char url[] = "http://127.0.0.1:9/img.qcow2", sums[] = "http://127.0.0.1:9/SHA512SUMS";
	struct config c;
	struct err e;
	struct stat st;
	struct timespec ts[2] = {{1000000000, 0}, {1000000000, 0}};
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	setenv("INCEPTION_IMAGE_CACHE", dir, 1);
	memset(&c, 0, sizeof(c));
	c.image_url = url;
	c.image_checksums = sums;
	make_cached(dir, url, img, sizeof(img)); /* "abc", named SHA512("abc") */

	/* no record yet: hashed, matches its name, recorded */
	err_clear(&e);
	assert_int_equal(image_ensure(&c, 1, path, sizeof(path), &e), 0);
	assert_string_equal(path, img);
	read_info(img, info, sizeof(info));
	assert_non_null(strstr(info, "url=http://127.0.0.1:9/img.qcow2\n"));
	assert_non_null(strstr(info, "sha512=" H2 "\nsize=3\nmtime="));

	/* a new mtime, same content: hashed again, used, record renewed */
	assert_int_equal(utimensat(AT_FDCWD, img, ts, 0), 0);
	assert_int_equal(image_ensure(&c, 1, path, sizeof(path), &e), 0);
	read_info(img, info, sizeof(info));
	assert_non_null(strstr(info, "mtime=1000000000.000000000\n"));

	/* the content changed (same size): deleted, and with the url
	 * unreachable and no fallback, nothing is used */
	f = fopen(img, "r+");
	assert_non_null(f);
	assert_true(fputs("abd", f) >= 0);
	assert_int_equal(fclose(f), 0);
	err_clear(&e);
	assert_int_equal(image_ensure(&c, 1, path, sizeof(path), &e), -1);
	assert_int_equal(stat(img, &st), -1);
	snprintf(want, sizeof(want), "%s.info", img);
	assert_int_equal(access(want, F_OK), -1);
	assert_non_null(strstr(e.msg, "--no-build-fallback"));

	/* a record whose digest differs from the name is not trusted either */
	make_cached(dir, url, img, sizeof(img));
	{
		char text[1024];

		assert_int_equal(stat(img, &st), 0);
		snprintf(text, sizeof(text),
		         "kind=url\nurl=%s\nsha512=" H1 "\nsize=3\nmtime=%lld.%09ld\n", url,
		         (long long)st.st_mtim.tv_sec, (long)st.st_mtim.tv_nsec);
		assert_int_equal(write_file_atomic(want, text, strlen(text), 0644, &e), 0);
	}
	assert_int_equal(image_ensure(&c, 1, path, sizeof(path), &e), 0);
	read_info(img, info, sizeof(info));
	assert_non_null(strstr(info, "sha512=" H2 "\n"));
	unlink(want);
	unlink(img);
	unsetenv("INCEPTION_IMAGE_CACHE");
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sums_gnu),
	    cmocka_unit_test(test_sums_binary_bsd_crlf_case),
	    cmocka_unit_test(test_sums_malformed_lines_skipped),
	    cmocka_unit_test(test_sums_missing_and_similar_names),
	    cmocka_unit_test(test_sums_duplicates),
	    cmocka_unit_test(test_sha512_known_files),
	    cmocka_unit_test(test_url_basename),
	    cmocka_unit_test(test_cached_url_used_offline),
	    cmocka_unit_test(test_redirect_protocols),
	    cmocka_unit_test(test_space_check),
	    cmocka_unit_test(test_cached_record),
	};

	report_init(REPORT_HUMAN, -1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
