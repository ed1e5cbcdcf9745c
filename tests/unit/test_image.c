/*
 * test_image.c: the checksums-file parser (every line format, malformed and
 * conflicting lines), SHA512 of known files, url file names, and the cache
 * rules that need no network: a cached image for a url is used as it is, an
 * unreachable url with --no-build-fallback fails with one clear message.
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

#include "image.h"
#include "report.h"
#include "util.h"

#define H1 "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"
#define H2 "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"

static int find(const char *text, const char *name, char hex[IMAGE_SHA512_HEX + 1],
		struct err *e)
{
	err_clear(e);
	return image_sums_find(text, strlen(text), name, hex, e);
}

static void test_sums_gnu(void **state)
{
	char hex[IMAGE_SHA512_HEX + 1];
	struct err e;
	const char *text = H1 "  debian-13-genericcloud-amd64.qcow2\n"
			   H2 "  debian-13-genericcloud-amd64.raw\n";

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
	const char *text = "# comment line\r\n"
			   "\r\n"
			   "CF83E1357EEFB8BDF1542850D66D8007D620E4050B5715DC83F4A921D36CE9CE47D0D13C5D85F2B0FF8318D2877EEC2F63B931BD47417A81A538327AF927DA3E *bin.qcow2\r\n"
			   "SHA512 (bsd.qcow2) = " H2 "\r\n"
			   "  " H2 "  ./dotted.qcow2   \n"
			   H1 "  sub/dir/nested.qcow2";

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
		"deadbeef  img.qcow2\n"                                        /* short */
		H1 "0  img.qcow2\n"                                            /* long */
		"zz" H1 "  img.qcow2\n"                                        /* not hex */
		"gf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e  img.qcow2\n" /* bad digit */
		H1 "\n"                                                        /* no name */
		H1 "  \n"                                                      /* blank name */
		"SHA512 (img.qcow2) = 1234\n"                                  /* bsd short */
		"SHA256 (img.qcow2) = " H1 "\n"                                /* other algo */
		"SHA512 () = " H1 "\n"                                         /* no name */
		"\x01\x02\xff garbage\n"
		H2 "  img.qcow2\n";

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
		char *const argv[] = { "sha512sum", path, NULL };
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
	};

	report_init(REPORT_HUMAN, -1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
