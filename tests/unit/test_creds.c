/*
 * test_creds.c: the VM's generated .env and passwords: rendered from the
 * committed example, the administrator rule, secrets 0600 in a 0700 dir,
 * kept across calls, random and never the same twice.
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

#include "creds.h"
#include "util.h"

static void test_render(void **state)
{
	char *s = creds_render_env(
	    "LOGIN=__LOGIN__\nDOMAIN_NAME=__LOGIN__.42.fr\nWP_ADMIN_USER=__ADMIN__\n", "jdoe");

	(void)state;
	assert_string_equal(s, "LOGIN=jdoe\nDOMAIN_NAME=jdoe.42.fr\nWP_ADMIN_USER=jdoe\n");
	free(s);
	s = creds_render_env("WP_ADMIN_USER=__ADMIN__ LOGIN=__LOGIN__", "badmin42");
	assert_string_equal(s, "WP_ADMIN_USER=owner42 LOGIN=badmin42");
	free(s);
}

static void test_ensure(void **state)
{
	char dir[] = "/tmp/inception-creds-XXXXXX", top[256], path[PATH_MAX + 300];
	char pw1[64], pw2[64], again[64], val[64];
	struct creds_paths cp;
	struct config c;
	struct err e = {.msg = ""};
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(top, sizeof(top), "%s/top", dir);
	snprintf(path, sizeof(path), "%s/srcs", top);
	assert_int_equal(mkdir_p(path, 0755, &e), 0);
	snprintf(path, sizeof(path), "%s/srcs/.env.example", top);
	assert_int_equal(
	    write_file_atomic(path, "LOGIN=__LOGIN__\nDOMAIN_NAME=__LOGIN__.42.fr\n", 43, 0644, &e),
	    0);
	memset(&c, 0, sizeof(c));
	c.login = (char *)"jdoe";
	snprintf(path, sizeof(path), "%s/state", dir);
	assert_int_equal(creds_ensure(&c, top, path, &cp, &e), 0);
	assert_int_equal(stat(cp.secrets, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	snprintf(path, sizeof(path), "%s/db_password.txt", cp.secrets);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, 32);
	assert_int_equal(creds_secret(&cp, "db_password", pw1, sizeof(pw1), &e), 0);
	assert_int_equal(creds_secret(&cp, "db_root_password", pw2, sizeof(pw2), &e), 0);
	assert_int_equal(strlen(pw1), 32);
	assert_int_equal(
	    strspn(pw1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"), 32);
	assert_string_not_equal(pw1, pw2);
	assert_int_equal(creds_env_get(cp.env, "DOMAIN_NAME", val, sizeof(val), &e), 0);
	assert_string_equal(val, "jdoe.42.fr");
	assert_int_equal(creds_env_get(cp.env, "NOPE", val, sizeof(val), &e), -1);
	/* a second call keeps what exists */
	snprintf(path, sizeof(path), "%s/state", dir);
	assert_int_equal(creds_ensure(&c, top, path, &cp, &e), 0);
	assert_int_equal(creds_secret(&cp, "db_password", again, sizeof(again), &e), 0);
	assert_string_equal(pw1, again);
	{
		char cmd[PATH_MAX + 16];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		assert_int_equal(system(cmd), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_render),
	    cmocka_unit_test(test_ensure),
	};

	return cmocka_run_group_tests_name("creds", tests, NULL, NULL);
}
