/*
 * test_push.c: the push manifest (format, parse, round trip, malformed
 * input) and the tree digest the agent uses to decide whether to run make.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "push.h"

#define D1 "0000000000000000000000000000000000000000000000000000000000000001"
#define D2 "00000000000000000000000000000000000000000000000000000000000000ff"

static void test_round_trip(void **state)
{
	struct push_entry v[2] = {
		{ .path = (char *)"Makefile", .digest = D1, .size = 12, .mtime = 1700000000, .mode = 0644 },
		{ .path = (char *)"srcs/a dir/with space.sh", .digest = D2, .size = 0, .mtime = 1, .mode = 0755 },
	};
	struct push_entry *back = NULL;
	struct err e = { .msg = "" };
	char *text = push_manifest_format(v, 2);
	long n;

	(void)state;
	assert_non_null(text);
	assert_string_equal(text, D1 " 12 1700000000 0644 Makefile\n" D2
				  " 0 1 0755 srcs/a dir/with space.sh\n");
	n = push_manifest_parse(text, &back, &e);
	assert_int_equal(n, 2);
	assert_string_equal(back[1].path, "srcs/a dir/with space.sh");
	assert_int_equal(back[1].mode, 0755);
	assert_int_equal(back[0].size, 12);
	assert_int_equal(back[0].mtime, 1700000000);
	assert_string_equal(back[0].digest, D1);
	push_entries_free(back, (size_t)n);
	free(text);
}

static void test_parse_sorts_and_skips_blank(void **state)
{
	struct push_entry *v = NULL;
	struct err e = { .msg = "" };
	long n = push_manifest_parse("\n" D2 " 1 1 0600 secrets/z.txt\n\n" D1 " 1 1 0644 Makefile\n",
				     &v, &e);

	(void)state;
	assert_int_equal(n, 2);
	assert_string_equal(v[0].path, "Makefile");
	assert_string_equal(v[1].path, "secrets/z.txt");
	assert_int_equal(v[1].mode, 0600);
	push_entries_free(v, (size_t)n);
}

static void test_parse_malformed(void **state)
{
	struct push_entry *v = NULL;
	struct err e = { .msg = "" };

	(void)state;
	assert_int_equal(push_manifest_parse("garbage\n", &v, &e), -1);
	assert_non_null(strstr(e.msg, "line 1"));
	assert_int_equal(push_manifest_parse(D1 " 1 1 0644\n", &v, &e), -1);
	assert_int_equal(push_manifest_parse("abc 1 1 0644 x\n", &v, &e), -1);
	assert_int_equal(push_manifest_parse(D1 " 1 1 0644 ok\n" D1 " x 1 0644 y\n", &v, &e), -1);
	assert_non_null(strstr(e.msg, "line 2"));
	assert_int_equal(push_manifest_parse("", &v, &e), 0);
}

static void test_tree_digest(void **state)
{
	struct push_entry a[2] = {
		{ .path = (char *)"Makefile", .digest = D1, .size = 1, .mtime = 1, .mode = 0644 },
		{ .path = (char *)"srcs/x", .digest = D2, .size = 1, .mtime = 1, .mode = 0644 },
	};
	struct push_entry b[2];
	char d1[65], d2[65];

	(void)state;
	memcpy(b, a, sizeof(a));
	push_tree_digest(a, 2, d1);
	assert_int_equal(strlen(d1), 64);
	/* mtime and size alone do not change it (content identity) */
	b[0].mtime = 999;
	push_tree_digest(b, 2, d2);
	assert_string_equal(d1, d2);
	/* content, mode and path do */
	b[0].mode = 0755;
	push_tree_digest(b, 2, d2);
	assert_string_not_equal(d1, d2);
	memcpy(b, a, sizeof(a));
	memcpy(b[1].digest, D1, sizeof(D1));
	push_tree_digest(b, 2, d2);
	assert_string_not_equal(d1, d2);
	memcpy(b, a, sizeof(a));
	b[1].path = (char *)"srcs/y";
	push_tree_digest(b, 2, d2);
	assert_string_not_equal(d1, d2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_parse_sorts_and_skips_blank),
		cmocka_unit_test(test_parse_malformed),
		cmocka_unit_test(test_tree_digest),
	};

	return cmocka_run_group_tests_name("push", tests, NULL, NULL);
}
