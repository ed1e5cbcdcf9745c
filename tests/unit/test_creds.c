/*
 * test_creds.c: a project's missing inputs for a VM (creds.h): which inputs
 * the push carries (work tree, git's tree, the bundled stack's Makefile and
 * srcs/ only), the exact lines listing the missing ones, generation into
 * STATE/inputs/<project> (0600 files, 0700 dirs), kept across calls, and
 * the bundled stack's srcs/.env and passwords as `inception creds` and
 * `inception check` read them.
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

static void rm_rf(const char *dir)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static unsigned mode_of(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_mode & 07777;
}

static void resolve(const char *dir, struct project *p)
{
	struct project_req r;
	struct err e = {.msg = ""};

	memset(&r, 0, sizeof(r));
	r.spec = dir;
	assert_int_equal(project_resolve(&r, p, &e), 0);
}

/* The bundled stack: srcs/.env and the four secrets generated whatever the
 * host's own tree holds, from srcs/.env.example, and read back the way
 * `inception creds` does. */
static void test_bundled(void **state)
{
	char dir[] = "/tmp/inception-creds-XXXXXX", path[PATH_MAX + 64], val[128], pw1[64], pw2[64];
	struct config c;
	struct project p;
	struct project_inputs in;
	struct creds_inputs ci;
	struct creds_paths cp;
	struct err e = {.msg = ""};

	(void)state;
	assert_non_null(mkdtemp(dir));
	memset(&c, 0, sizeof(c));
	c.login = (char *)"jdoe";
	resolve(".", &p);
	p.bundled = 1;
	assert_int_equal(project_inputs(&p, &in, &e), 0);
	assert_int_equal(creds_ensure(&c, &p, &in, NULL, 0, dir, 0, &ci, &e), 0);
	snprintf(path, sizeof(path), "%s/inputs/bundled", dir);
	assert_string_equal(ci.gen, path);
	assert_int_equal(ci.nmissing, 0);
	assert_int_equal(ci.nmade, 5);
	assert_int_equal(ci.n, 5);
	assert_string_equal(ci.paths[0], "secrets/db_password.txt");
	assert_string_equal(ci.paths[3], "secrets/wp_user_password.txt");
	assert_string_equal(ci.paths[4], "srcs/.env");
	snprintf(path, sizeof(path), "%s/inputs/bundled/secrets", dir);
	assert_int_equal(mode_of(path), 0700);
	snprintf(path, sizeof(path), "%s/inputs/bundled/secrets/db_password.txt", dir);
	assert_int_equal(mode_of(path), 0600);
	creds_inputs_free(&ci);

	/* what creds and check read (no vm.state: the bundled stack's) */
	assert_int_equal(creds_paths(dir, &cp, &e), 0);
	assert_int_equal(creds_env_get(cp.env, "DOMAIN_NAME", val, sizeof(val), &e), 0);
	assert_string_equal(val, "jdoe.42.fr");
	assert_int_equal(creds_env_get(cp.env, "WP_ADMIN_USER", val, sizeof(val), &e), 0);
	assert_string_equal(val, "jdoe");
	assert_int_equal(creds_env_get(cp.env, "WP_USER", val, sizeof(val), &e), 0);
	assert_string_equal(val, "writer");
	assert_int_equal(creds_env_get(cp.env, "NOPE", val, sizeof(val), &e), -1);
	assert_int_equal(creds_secret(&cp, "db_password", pw1, sizeof(pw1), &e), 0);
	assert_int_equal(creds_secret(&cp, "db_root_password", pw2, sizeof(pw2), &e), 0);
	assert_int_equal(strlen(pw1), 24);
	assert_int_equal(
	    strspn(pw1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"), 24);
	assert_string_not_equal(pw1, pw2);

	/* a second up keeps them */
	assert_int_equal(creds_ensure(&c, &p, &in, NULL, 0, dir, 0, &ci, &e), 0);
	assert_int_equal(ci.nmade, 0);
	assert_int_equal(ci.n, 5);
	assert_int_equal(creds_secret(&cp, "db_password", pw2, sizeof(pw2), &e), 0);
	assert_string_equal(pw1, pw2);
	creds_inputs_free(&ci);
	project_inputs_free(&in);
	rm_rf(dir);
}

/* Fixture a: its secrets are listed up front, exactly; --generate-missing
 * makes them (and later calls keep them); the committed .env is carried. */
static void test_fixture(void **state)
{
	char dir[] = "/tmp/inception-creds-XXXXXX", path[PATH_MAX + 64];
	struct config c;
	struct project p;
	struct project_inputs in;
	struct creds_inputs ci;
	struct err e = {.msg = ""};

	(void)state;
	assert_non_null(mkdtemp(dir));
	memset(&c, 0, sizeof(c));
	c.login = (char *)"jdoe";
	resolve("tests/projects/a-secrets", &p);
	assert_int_equal(project_inputs(&p, &in, &e), 0);
	assert_int_equal(creds_ensure(&c, &p, &in, NULL, 0, dir, 0, &ci, &e), 0);
	assert_int_equal(ci.nmissing, 2);
	assert_string_equal(ci.missing[0],
	                    "secrets/db_password.txt (secret db_password, srcs/compose.yaml:71)");
	assert_string_equal(
	    ci.missing[1],
	    "secrets/db_root_password.txt (secret db_root_password, srcs/compose.yaml:73)");
	assert_int_equal(ci.n, 0);
	assert_int_equal(ci.nmade, 0);
	assert_int_equal(strncmp(ci.gen, dir, strlen(dir)), 0);
	assert_null(strstr(ci.gen, "bundled"));
	snprintf(path, sizeof(path), "%s/secrets", ci.gen);
	assert_int_equal(access(path, F_OK), -1); /* nothing made without the flag */
	creds_inputs_free(&ci);

	assert_int_equal(creds_ensure(&c, &p, &in, NULL, 0, dir, 1, &ci, &e), 0);
	assert_int_equal(ci.nmissing, 0);
	assert_int_equal(ci.nmade, 2);
	assert_int_equal(ci.n, 2);
	assert_string_equal(ci.paths[0], "secrets/db_password.txt");
	snprintf(path, sizeof(path), "%s/secrets/db_root_password.txt", ci.gen);
	assert_int_equal(mode_of(path), 0600);
	creds_inputs_free(&ci);

	/* kept: no flag needed any more */
	assert_int_equal(creds_ensure(&c, &p, &in, NULL, 0, dir, 0, &ci, &e), 0);
	assert_int_equal(ci.nmissing, 0);
	assert_int_equal(ci.nmade, 0);
	assert_int_equal(ci.n, 2);
	creds_inputs_free(&ci);
	project_inputs_free(&in);
	rm_rf(dir);
}

/* --committed: what git's tree lacks is missing even when the work tree
 * has it. */
static void test_committed(void **state)
{
	char dir[] = "/tmp/inception-creds-XXXXXX";
	char *files[] = {(char *)"Makefile", (char *)"srcs/compose.yaml"};
	struct config c;
	struct project p;
	struct project_inputs in;
	struct creds_inputs ci;
	struct err e = {.msg = ""};

	(void)state;
	assert_non_null(mkdtemp(dir));
	memset(&c, 0, sizeof(c));
	c.login = (char *)"jdoe";
	resolve("tests/projects/a-secrets", &p);
	assert_int_equal(project_inputs(&p, &in, &e), 0);
	assert_int_equal(creds_ensure(&c, &p, &in, files, 2, dir, 0, &ci, &e), 0);
	assert_int_equal(ci.nmissing, 3);
	assert_string_equal(ci.missing[0], "srcs/.env (variables of srcs/compose.yaml)");
	creds_inputs_free(&ci);
	project_inputs_free(&in);
	rm_rf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bundled),
	    cmocka_unit_test(test_fixture),
	    cmocka_unit_test(test_committed),
	};

	return cmocka_run_group_tests_name("creds", tests, NULL, NULL);
}
