/*
 * test_push.c: the push manifest (format, parse, round trip, malformed
 * input, paths that would leave push.dir), the path check and the tree
 * digest the agent uses to decide whether to run make.
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
	    {.path = (char *)"Makefile",
	     .digest = D1,
	     .size = 12,
	     .mtime = 1700000000,
	     .mode = 0644},
	    {.path = (char *)"srcs/a dir/with space.sh",
	     .digest = D2,
	     .size = 0,
	     .mtime = 1,
	     .mode = 0755},
	};
	struct push_entry *back = NULL;
	struct err e = {.msg = ""};
	char *text = push_manifest_format(v, 2);
	long n;

	(void)state;
	assert_non_null(text);
	assert_string_equal(text, D1 " 12 1700000000 0644 Makefile\n" D2
	                             " 0 1 0755 srcs/a%20dir/with%20space.sh\n");
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
	struct err e = {.msg = ""};
	long n = push_manifest_parse(
	    "\n" D2 " 1 1 0600 secrets/z.txt\n\n" D1 " 1 1 0644 Makefile\n", &v, &e);

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
	struct err e = {.msg = ""};

	(void)state;
	assert_int_equal(push_manifest_parse("garbage\n", &v, &e), -1);
	assert_non_null(strstr(e.msg, "line 1"));
	assert_int_equal(push_manifest_parse(D1 " 1 1 0644\n", &v, &e), -1);
	assert_int_equal(push_manifest_parse("abc 1 1 0644 x\n", &v, &e), -1);
	assert_int_equal(push_manifest_parse(D1 " 1 1 0644 ok\n" D1 " x 1 0644 y\n", &v, &e), -1);
	assert_non_null(strstr(e.msg, "line 2"));
	assert_int_equal(push_manifest_parse("", &v, &e), 0);
}

/* A name with a newline was two manifest lines, the second one chosen by
 * the name (the next push removed "../../.bashrc"): now it is one word. */
static void test_format_newline_is_one_entry(void **state)
{
	struct push_entry v[1] = {
	    {.path = (char *)"srcs/x\n" D1 " 1 1 0644 ../../.bashrc",
	     .digest = D2,
	     .size = 1,
	     .mtime = 1,
	     .mode = 0644},
	};
	struct push_entry *back = NULL;
	struct err e = {.msg = ""};
	char *text = push_manifest_format(v, 1);

	(void)state;
	assert_non_null(text);
	assert_ptr_equal(strchr(text, '\n'), text + strlen(text) - 1);
	assert_non_null(strstr(text, "srcs/x%0A" D1 "%201%201%200644%20../../.bashrc\n"));
	/* read back: refused as a whole (a control character), never an entry */
	assert_int_equal(push_manifest_parse(text, &back, &e), -1);
	assert_null(back);
	assert_string_equal(e.msg, "manifest line 1: srcs/x\\x0a" D1
	                           " 1 1 0644 ../../.bashrc: the name holds a control character");
	free(text);
}

static void test_round_trip_odd_names_and_links(void **state)
{
	struct push_entry v[3] = {
	    {.path = (char *)"srcs/100%", .digest = D1, .size = 1, .mtime = 1, .mode = 0644},
	    {.path = (char *)"srcs/link",
	     .digest = D2,
	     .size = 6,
	     .mtime = 0,
	     .mode = PUSH_MODE_LINK | 0777},
	    {.path = (char *)"srcs/\xc3\xa9t\xc3\xa9",
	     .digest = D1,
	     .size = 2,
	     .mtime = 3,
	     .mode = 0600},
	};
	struct push_entry *back = NULL;
	struct err e = {.msg = ""};
	char *text = push_manifest_format(v, 3);
	long n;

	(void)state;
	assert_string_equal(text, D1 " 1 1 0644 srcs/100%25\n" D2 " 6 0 120777 srcs/link\n" D1
	                             " 2 3 0600 srcs/\xc3\xa9t\xc3\xa9\n");
	n = push_manifest_parse(text, &back, &e);
	assert_int_equal(n, 3);
	assert_string_equal(back[0].path, "srcs/100%");
	assert_string_equal(back[1].path, "srcs/link");
	assert_int_equal(back[1].mode, PUSH_MODE_LINK | 0777);
	assert_string_equal(back[2].path, "srcs/\xc3\xa9t\xc3\xa9");
	push_entries_free(back, (size_t)n);
	free(text);
}

/* A manifest is read back from the guest: no entry may point outside. */
static void test_parse_refuses_escaping_paths(void **state)
{
	static const char *const bad[] = {
	    D1 " 1 1 0644 ../../.bashrc\n",
	    D1 " 1 1 0644 srcs/../../x\n",
	    D1 " 1 1 0644 /etc/passwd\n",
	    D1 " 1 1 0644 %2E%2E/x\n",
	    D1 " 1 1 0644 srcs/%2Fetc\n", /* decodes to srcs//etc */
	    D1 " 1 1 0644 a/./b\n",
	    D1 " 1 1 0644 x%0Ay\n",
	    D1 " 1 1 0644 x%zz\n",
	    D1 " 1 1 0644 x%4\n",
	    D1 " 1 1 0644 x y\n",
	    D1 " 1 1 0100644 x\n",
	    D1 " 1 1 0644 x\x1b[2J\n",
	    "0000000000000000000000000000000000000000000000000000000000000g01 1 1 0644 x\n",
	};
	struct push_entry *v = NULL;
	struct err e = {.msg = ""};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		e.msg[0] = '\0';
		if (push_manifest_parse(bad[i], &v, &e) != -1)
			fail_msg("accepted: %s", bad[i]);
		assert_null(v);
		assert_non_null(strstr(e.msg, "manifest line 1"));
	}
	push_manifest_parse(D1 " 1 1 0644 ../../.bashrc\n", &v, &e);
	assert_string_equal(e.msg,
	                    "manifest line 1: ../../.bashrc: an empty, . or .. path component");
}

static void test_path_check(void **state)
{
	struct err e = {.msg = ""};
	char longp[PUSH_PATH_MAX + 2];

	(void)state;
	assert_int_equal(push_path_check("srcs/requirements/nginx/Dockerfile", &e), 0);
	assert_int_equal(push_path_check(".inception/agent", &e), 0);
	assert_int_equal(push_path_check("srcs/..hidden/x..y", &e), 0);
	assert_int_equal(push_path_check("srcs/evil\nname", &e), -1);
	assert_string_equal(e.msg, "srcs/evil\\x0aname: the name holds a control character");
	assert_int_equal(push_path_check("srcs/\x7f", &e), -1);
	assert_string_equal(e.msg, "srcs/\\x7f: the name holds a control character");
	assert_int_equal(push_path_check("/etc/passwd", &e), -1);
	assert_string_equal(e.msg, "/etc/passwd: an absolute path");
	assert_int_equal(push_path_check("srcs//x", &e), -1);
	assert_int_equal(push_path_check("srcs/", &e), -1);
	assert_int_equal(push_path_check("srcs/.", &e), -1);
	assert_int_equal(push_path_check("..", &e), -1);
	assert_int_equal(push_path_check("", &e), -1);
	assert_string_equal(e.msg, "an empty path");
	memset(longp, 'a', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	assert_int_equal(push_path_check(longp, &e), -1);
	assert_non_null(strstr(e.msg, "path longer than 1024 bytes"));
}

static void test_tree_digest(void **state)
{
	struct push_entry a[2] = {
	    {.path = (char *)"Makefile", .digest = D1, .size = 1, .mtime = 1, .mode = 0644},
	    {.path = (char *)"srcs/x", .digest = D2, .size = 1, .mtime = 1, .mode = 0644},
	};
	struct push_entry b[2];
	char d1[65], d2[65];

	(void)state;
	memcpy(b, a, sizeof(a));
	push_tree_digest(a, 2, d1);
	assert_int_equal(strlen(d1), 64);
	/* mtime and size alone do not change it (content identity) */
	b[0].mtime = 999;
	b[0].size = 123456;
	b[1].size = 0;
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
	    cmocka_unit_test(test_format_newline_is_one_entry),
	    cmocka_unit_test(test_round_trip_odd_names_and_links),
	    cmocka_unit_test(test_parse_refuses_escaping_paths),
	    cmocka_unit_test(test_path_check),
	    cmocka_unit_test(test_tree_digest),
	};

	return cmocka_run_group_tests_name("push", tests, NULL, NULL);
}
