/*
 * agent_test_pgpkey.c: the OpenPGP fingerprint check that guards Docker's
 * apt key.  The fixtures in tests/unit/data are real keys made with GnuPG
 * (an ed25519 and an RSA key: one- and two-byte packet lengths); the .fpr
 * files hold the fingerprints GnuPG printed for them.  A corrupted key, a
 * wrong pin, a truncated armor and non-key data must all be refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pgpkey.h"

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static void fpr_of(const char *name, char want[41])
{
	char path[256], *s;
	size_t n;

	snprintf(path, sizeof(path), "tests/unit/data/%s.fpr", name);
	s = slurp(path, &n);
	assert_true(n >= 40);
	memcpy(want, s, 40);
	want[40] = '\0';
	free(s);
}

static void check_key(const char *name)
{
	char path[256], want[41], got[41], *key;
	struct err e = { .msg = "" };
	size_t n;

	snprintf(path, sizeof(path), "tests/unit/data/%s.asc", name);
	key = slurp(path, &n);
	fpr_of(name, want);
	assert_int_equal(pgp_fingerprint((unsigned char *)key, n, got, &e), 0);
	assert_string_equal(got, want);
	assert_int_equal(pgp_check_fingerprint((unsigned char *)key, n, want, &e), 0);
	free(key);
}

static void test_ed25519_key(void **state)
{
	(void)state;
	check_key("pgp-test-key");
}

static void test_rsa_key(void **state)
{
	(void)state;
	check_key("pgp-test-rsa");
}

static void test_pin_with_spaces_and_lower_case(void **state)
{
	char want[41], spaced[64], *key;
	struct err e = { .msg = "" };
	size_t n, i, o = 0;

	(void)state;
	fpr_of("pgp-test-rsa", want);
	for (i = 0; i < 40; i++) {
		if (i && i % 4 == 0)
			spaced[o++] = ' ';
		spaced[o++] = (char)(want[i] >= 'A' ? want[i] + 32 : want[i]);
	}
	spaced[o] = '\0';
	key = slurp("tests/unit/data/pgp-test-rsa.asc", &n);
	assert_int_equal(pgp_check_fingerprint((unsigned char *)key, n, spaced, &e), 0);
	free(key);
}

static void test_wrong_pin_refused(void **state)
{
	struct err e = { .msg = "" };
	char *key, other[41];
	size_t n;

	(void)state;
	key = slurp("tests/unit/data/pgp-test-key.asc", &n);
	fpr_of("pgp-test-rsa", other);
	assert_int_equal(pgp_check_fingerprint((unsigned char *)key, n, other, &e), -1);
	assert_non_null(strstr(e.msg, "is not the pinned"));
	assert_non_null(strstr(e.msg, other));
	assert_int_equal(
		pgp_check_fingerprint((unsigned char *)key, n, DOCKER_KEY_FINGERPRINT, &e), -1);
	assert_int_equal(pgp_check_fingerprint((unsigned char *)key, n, "1234", &e), -1);
	assert_non_null(strstr(e.msg, "invalid pinned fingerprint"));
	free(key);
}

static void test_corrupted_body_refused(void **state)
{
	struct err e = { .msg = "" };
	char want[41], got[41], *key, *line;
	size_t n;

	(void)state;
	key = slurp("tests/unit/data/pgp-test-rsa.asc", &n);
	fpr_of("pgp-test-rsa", want);
	/* Flip one base64 character inside the key material (third body line). */
	line = strstr(key, "\n\n");
	assert_non_null(line);
	line = strchr(line + 2, '\n');
	line = strchr(line + 1, '\n');
	line[10] = line[10] == 'A' ? 'B' : 'A';
	/* Either the armor checksum catches it or the fingerprint differs. */
	if (pgp_fingerprint((unsigned char *)key, n, got, &e) == 0)
		assert_string_not_equal(got, want);
	else
		assert_non_null(strstr(e.msg, "checksum"));
	assert_int_equal(pgp_check_fingerprint((unsigned char *)key, n, want, &e), -1);
	free(key);
}

static void test_truncated_and_garbage(void **state)
{
	static const char garbage[] = "<html>404 not found</html>";
	static const char noend[] = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQENBGsK\n";
	static const unsigned char bin_short[] = { 0x99, 0x01 };
	struct err e = { .msg = "" };
	char got[41], *key;
	size_t n;

	(void)state;
	assert_int_equal(pgp_fingerprint((const unsigned char *)garbage, sizeof(garbage) - 1, got,
					 &e),
			 -1);
	assert_int_equal(pgp_fingerprint((const unsigned char *)noend, sizeof(noend) - 1, got, &e),
			 -1);
	assert_int_equal(pgp_fingerprint(bin_short, sizeof(bin_short), got, &e), -1);
	assert_int_equal(pgp_fingerprint((const unsigned char *)"", 0, got, &e), -1);
	/* The armor cut in the middle of the key material. */
	key = slurp("tests/unit/data/pgp-test-rsa.asc", &n);
	{
		char *end = strstr(key, "-----END");
		char *mid = strstr(key, "\n\n") + 40;

		assert_non_null(end);
		memmove(mid, end, strlen(end) + 1);
	}
	assert_int_equal(pgp_fingerprint((unsigned char *)key, strlen(key), got, &e), -1);
	free(key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ed25519_key),
		cmocka_unit_test(test_rsa_key),
		cmocka_unit_test(test_pin_with_spaces_and_lower_case),
		cmocka_unit_test(test_wrong_pin_refused),
		cmocka_unit_test(test_corrupted_body_refused),
		cmocka_unit_test(test_truncated_and_garbage),
	};

	return cmocka_run_group_tests_name("agent_pgpkey", tests, NULL, NULL);
}
