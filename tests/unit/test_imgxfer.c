/*
 * test_imgxfer.c: the image archive's MANIFEST (parse errors name the line
 * and the field, exactly), its round trip, the one-pass digests, and import
 * refusing an archive with a file extra to or missing from its MANIFEST,
 * leaving the cache as it was (real tar, a temporary cache directory).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imgxfer.h"
#include "report.h"

#define H1 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define HDR IMGXFER_MAGIC "\n"
#define IMG "build-trixie-0123456789abcdef.qcow2"

static const char *parse_err(const char *text)
{
	static struct err e;
	struct imgxfer x;

	memset(&e, 0, sizeof(e));
	if (imgxfer_manifest_parse(text, strlen(text), &x, &e) == 0)
		return "(accepted)";
	return e.msg;
}

static void test_parse_ok(void **state)
{
	const char *t = HDR H1 " 12 " IMG "\n" H1 " 3 " IMG ".info\n\n";
	struct imgxfer x, y;
	struct err e = {"", 0};
	char buf[1024];

	(void)state;
	assert_int_equal(imgxfer_manifest_parse(t, strlen(t), &x, &e), 0);
	assert_int_equal(x.n, 2);
	assert_string_equal(x.f[0].name, IMG);
	assert_true(x.f[0].size == 12);
	assert_string_equal(x.f[1].sha256, H1);
	/* what export writes, import reads back the same */
	assert_int_equal(imgxfer_manifest_format(&x, buf, sizeof(buf), &e), 0);
	assert_string_equal(buf, HDR H1 " 12 " IMG "\n" H1 " 3 " IMG ".info\n");
	assert_int_equal(imgxfer_manifest_parse(buf, strlen(buf), &y, &e), 0);
	assert_int_equal(y.n, 2);
	assert_true(y.f[1].size == 3);
	/* no final newline */
	assert_string_equal(parse_err(HDR H1 " 1 a.qcow2\n" H1 " 2 a.qcow2.info"), "(accepted)");
}

static void test_parse_errors(void **state)
{
	(void)state;
	assert_string_equal(parse_err(""), "MANIFEST line 1: expected \"" IMGXFER_MAGIC "\"");
	assert_string_equal(parse_err("inception-image-export 2\n"),
	                    "MANIFEST line 1: expected \"" IMGXFER_MAGIC "\"");
	assert_string_equal(parse_err(HDR), "MANIFEST: no file listed");
	assert_string_equal(parse_err(HDR "x\n"), "MANIFEST line 2: expected \"SHA256 SIZE NAME\"");
	assert_string_equal(parse_err(HDR "abc 1 a.qcow2\n"),
	                    "MANIFEST line 2: sha256: expected 64 hex digits");
	assert_string_equal(parse_err(HDR "0123456789ABCDEF0123456789abcdef0123456789abcdef01234567"
	                                  "89abcdef 1 a.qcow2\n"),
	                    "MANIFEST line 2: sha256: expected 64 hex digits");
	assert_string_equal(parse_err(HDR H1 " 1x a.qcow2\n"),
	                    "MANIFEST line 2: size: expected a number of bytes");
	assert_string_equal(parse_err(HDR H1 "  a.qcow2\n"),
	                    "MANIFEST line 2: size: expected a number of bytes");
	assert_string_equal(parse_err(HDR H1 " 99999999999999999999 a.qcow2\n"),
	                    "MANIFEST line 2: size: expected a number of bytes");
	assert_string_equal(parse_err(HDR H1 " 1 \n"), "MANIFEST line 2: name: empty or too long");
	assert_string_equal(parse_err(HDR "\n" H1 " 1 ../a.qcow2\n"),
	                    "MANIFEST line 3: name: \"../a.qcow2\" is not an image cache file "
	                    "(letters, digits, . _ -; ending .qcow2 or .qcow2.info)");
	assert_string_equal(parse_err(HDR H1 " 1 .a.qcow2\n"),
	                    "MANIFEST line 2: name: \".a.qcow2\" is not an image cache file "
	                    "(letters, digits, . _ -; ending .qcow2 or .qcow2.info)");
	assert_string_equal(parse_err(HDR H1 " 1 notes.txt\n"),
	                    "MANIFEST line 2: name: \"notes.txt\" is not an image cache file "
	                    "(letters, digits, . _ -; ending .qcow2 or .qcow2.info)");
	assert_string_equal(parse_err(HDR H1 " 1 a.qcow2\n" H1 " 2 a.qcow2\n"),
	                    "MANIFEST line 3: name: \"a.qcow2\" listed twice");
	assert_string_equal(parse_err(HDR H1 " 1 a.qcow2\n"),
	                    "MANIFEST: a.qcow2 is listed without a.qcow2.info");
	assert_string_equal(parse_err(HDR H1 " 1 a.qcow2.info\n"),
	                    "MANIFEST: a.qcow2.info is listed without a.qcow2");
}

static void test_parse_nul(void **state)
{
	static const char t[] = HDR H1 " 1 a\0.qcow2\n";
	struct imgxfer x;
	struct err e = {"", 0};

	(void)state;
	assert_int_equal(imgxfer_manifest_parse(t, sizeof(t) - 1, &x, &e), -1);
	assert_string_equal(e.msg, "MANIFEST line 2: a NUL byte");
}

static void test_hash_file(void **state)
{
	char path[] = "/tmp/imgxfer-test.XXXXXX", h256[65], h512[129];
	uint64_t size = 0;
	struct err e = {"", 0};
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "abc", 3), 3);
	close(fd);
	assert_int_equal(imgxfer_hash_file(path, h256, h512, &size, &e), 0);
	assert_true(size == 3);
	assert_string_equal(h256,
	                    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_memory_equal(h512,
	                    "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a", 64);
	unlink(path);
	assert_int_equal(imgxfer_hash_file(path, h256, NULL, &size, &e), -1);
}

/* The cache holds nothing but what it held: no .import-* directory. */
static int entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void test_import_refuses(void **state)
{
	char top[] = "/tmp/imgxfer-imp.XXXXXX", cmd[2048], cache[128], tar[160], want[512];
	struct imgxfer x;
	struct err e = {"", 0};
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(top));
	snprintf(cache, sizeof(cache), "%s/cache", top);
	snprintf(cmd, sizeof(cmd),
	         "mkdir -p %s/src %s && cd %s/src && printf abc >a.qcow2 && "
	         "printf 'kind=build\\n' >a.qcow2.info && printf x >extra.qcow2",
	         top, cache, top);
	assert_int_equal(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "%s/src/MANIFEST", top);
	f = fopen(cmd, "w");
	assert_non_null(f);
	fprintf(f, HDR "%s 3 a.qcow2\n%s 10 a.qcow2.info\n",
	        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
	        "0000000000000000000000000000000000000000000000000000000000000000");
	fclose(f);
	setenv("INCEPTION_IMAGE_CACHE", cache, 1);

	/* a file the MANIFEST does not list */
	snprintf(tar, sizeof(tar), "%s/extra.tar", top);
	snprintf(cmd, sizeof(cmd), "tar -cf %s -C %s/src MANIFEST a.qcow2 a.qcow2.info extra.qcow2",
	         tar, top);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(imgxfer_import(tar, NULL, &x, &e), -1);
	snprintf(want, sizeof(want),
	         "%s: extra.qcow2 is not in the MANIFEST: refused, nothing imported", tar);
	assert_string_equal(e.msg, want);
	assert_int_equal(entries(cache), 0);

	/* a file the MANIFEST lists, missing */
	snprintf(tar, sizeof(tar), "%s/missing.tar", top);
	snprintf(cmd, sizeof(cmd), "tar -cf %s -C %s/src MANIFEST a.qcow2", tar, top);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(imgxfer_import(tar, NULL, &x, &e), -1);
	snprintf(want, sizeof(want),
	         "%s: a.qcow2.info is in the MANIFEST but not in the archive: refused, nothing "
	         "imported",
	         tar);
	assert_string_equal(e.msg, want);
	assert_int_equal(entries(cache), 0);

	/* the .info's size differs from the MANIFEST's */
	snprintf(tar, sizeof(tar), "%s/size.tar", top);
	snprintf(cmd, sizeof(cmd), "tar -cf %s -C %s/src MANIFEST a.qcow2 a.qcow2.info", tar, top);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(imgxfer_import(tar, NULL, &x, &e), -1);
	snprintf(want, sizeof(want),
	         "%s: a.qcow2.info: 11 bytes, the MANIFEST says 10: refused, nothing imported",
	         tar);
	assert_string_equal(e.msg, want);
	assert_int_equal(entries(cache), 0);

	/* not an archive at all */
	assert_int_equal(imgxfer_import(top, NULL, &x, &e), -1);
	snprintf(want, sizeof(want), "%s: not a regular file", top);
	assert_string_equal(e.msg, want);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", top);
	assert_int_equal(system(cmd), 0);
	unsetenv("INCEPTION_IMAGE_CACHE");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_ok),       cmocka_unit_test(test_parse_errors),
	    cmocka_unit_test(test_parse_nul),      cmocka_unit_test(test_hash_file),
	    cmocka_unit_test(test_import_refuses),
	};
	report_init(REPORT_HUMAN, -1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
