/*
 * test_keys.c: per-VM keys: files and modes, keys that libssh (and so sshd
 * and ssh) can load, pairs that belong together, and no regeneration.
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
#include <libssh/libssh.h>

#include "keys.h"
#include "util.h"

static char base[64];
static char dir[128];

static int setup(void **state)
{
	(void)state;
	snprintf(base, sizeof(base), "/tmp/test_keys.XXXXXX");
	assert_non_null(mkdtemp(base));
	/* a state dir that does not exist yet, two levels down */
	snprintf(dir, sizeof(dir), "%s/inception/vm1", base);
	return 0;
}

static int teardown(void **state)
{
	char *const argv[] = {"rm", "-rf", base, NULL};

	(void)state;
	return run_argv(argv, NULL, NULL);
}

static char *slurp(const char *name)
{
	char path[256];
	char *data = NULL;
	struct err e;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(read_file(path, &data, NULL, &e), 0);
	return data;
}

static mode_t mode_of(const char *name)
{
	char path[256];
	struct stat st;

	if (name)
		snprintf(path, sizeof(path), "%s/%s", dir, name);
	else
		snprintf(path, sizeof(path), "%s", dir);
	assert_int_equal(stat(path, &st), 0);
	return st.st_mode & 07777;
}

/* The public file's key equals the one derived from the private file. */
static void assert_pair(const char *priv_name, const char *pub_name)
{
	char path[256];
	ssh_key priv = NULL, pub = NULL;
	char *pubtext = slurp(pub_name);

	snprintf(path, sizeof(path), "%s/%s", dir, priv_name);
	assert_int_equal(ssh_pki_import_privkey_file(path, NULL, NULL, NULL, &priv), SSH_OK);
	assert_int_equal(ssh_key_type(priv), SSH_KEYTYPE_ED25519);
	assert_true(strncmp(pubtext, "ssh-ed25519 ", 12) == 0);
	{
		char *sp = strchr(pubtext + 12, ' ');
		if (sp)
			*sp = '\0';
	}
	assert_int_equal(ssh_pki_import_pubkey_base64(pubtext + 12, SSH_KEYTYPE_ED25519, &pub),
	                 SSH_OK);
	assert_int_equal(ssh_key_cmp(priv, pub, SSH_KEY_CMP_PUBLIC), 0);
	ssh_key_free(priv);
	ssh_key_free(pub);
	free(pubtext);
}

static void test_generate(void **state)
{
	struct err e;
	char *priv;

	(void)state;
	err_clear(&e);
	assert_int_equal(keys_ensure(dir, &e), 0);
	assert_int_equal(mode_of(NULL), 0700);
	assert_int_equal(mode_of(KEYS_USER), 0600);
	assert_int_equal(mode_of(KEYS_USER_PUB), 0600);
	assert_int_equal(mode_of(KEYS_HOST), 0600);
	assert_int_equal(mode_of(KEYS_HOST_PUB), 0600);
	priv = slurp(KEYS_HOST);
	assert_non_null(strstr(priv, "-----BEGIN OPENSSH PRIVATE KEY-----"));
	free(priv);
	assert_pair(KEYS_USER, KEYS_USER_PUB);
	assert_pair(KEYS_HOST, KEYS_HOST_PUB);
	/* two different keys */
	{
		char *u = slurp(KEYS_USER_PUB), *h = slurp(KEYS_HOST_PUB);
		assert_string_not_equal(u + 12, h + 12);
		free(u);
		free(h);
	}
}

static void test_never_regenerated(void **state)
{
	struct err e;
	char *u1, *h1, *hp1, *u2, *h2, *hp2, path[256];

	(void)state;
	assert_int_equal(keys_ensure(dir, &e), 0);
	u1 = slurp(KEYS_USER);
	h1 = slurp(KEYS_HOST);
	hp1 = slurp(KEYS_HOST_PUB);
	/* loosened modes are tightened, contents kept */
	snprintf(path, sizeof(path), "%s/%s", dir, KEYS_USER);
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(chmod(dir, 0755), 0);
	assert_int_equal(keys_ensure(dir, &e), 0);
	assert_int_equal(mode_of(KEYS_USER), 0600);
	assert_int_equal(mode_of(NULL), 0700);
	/* a lost public half is derived from the private key, not a new pair */
	snprintf(path, sizeof(path), "%s/%s", dir, KEYS_HOST_PUB);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(keys_ensure(dir, &e), 0);
	u2 = slurp(KEYS_USER);
	h2 = slurp(KEYS_HOST);
	hp2 = slurp(KEYS_HOST_PUB);
	assert_string_equal(u1, u2);
	assert_string_equal(h1, h2);
	assert_memory_equal(hp1, hp2, strlen("ssh-ed25519 ") + 68);
	assert_pair(KEYS_HOST, KEYS_HOST_PUB);
	free(u1);
	free(h1);
	free(hp1);
	free(u2);
	free(h2);
	free(hp2);
}

static void test_bad_private_key(void **state)
{
	struct err e;
	char path[256];

	(void)state;
	assert_int_equal(keys_ensure(dir, &e), 0);
	snprintf(path, sizeof(path), "%s/%s", dir, KEYS_USER);
	assert_int_equal(write_file_atomic(path, "garbage\n", 8, 0600, &e), 0);
	snprintf(path, sizeof(path), "%s/%s", dir, KEYS_USER_PUB);
	assert_int_equal(unlink(path), 0);
	err_clear(&e);
	assert_int_equal(keys_ensure(dir, &e), -1);
	assert_non_null(strstr(e.msg, "is not a readable private key"));
	/* and the garbage was not replaced behind the user's back */
	{
		char *u = slurp(KEYS_USER);
		assert_string_equal(u, "garbage\n");
		free(u);
	}
}

static void test_unwritable_dir(void **state)
{
	struct err e;

	(void)state;
	err_clear(&e);
	assert_int_equal(keys_ensure("/proc/inception-test/vm", &e), -1);
	assert_true(strlen(e.msg) > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_generate, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_never_regenerated, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_private_key, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unwritable_dir, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
