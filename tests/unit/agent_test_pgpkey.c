/*
 * agent_test_pgpkey.c: the OpenPGP fingerprint check that guards Docker's
 * apt key.  The fixtures in tests/unit/data are real keys made with GnuPG
 * (an ed25519 and an RSA key: one- and two-byte packet lengths); the .fpr
 * files hold the fingerprints GnuPG printed for them.  A corrupted key, a
 * wrong pin, a truncated armor and non-key data must all be refused.
 * pgp-test-sub is a key with its own signing subkey (pgp-test-sub.gpg: its
 * binary export); pgp-test-two-keys.asc holds it and another key in one
 * armor block; pgp-test-foreign-sub.asc is pgp-test-sub's primary key with
 * the other key's subkey and binding signature grafted on.  Only the pinned
 * key, alone, is accepted, and the keyring written holds nothing else.
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
	struct err e = {.msg = ""};
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
	struct err e = {.msg = ""};
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
	struct err e = {.msg = ""};
	char *key, other[41];
	size_t n;

	(void)state;
	key = slurp("tests/unit/data/pgp-test-key.asc", &n);
	fpr_of("pgp-test-rsa", other);
	assert_int_equal(pgp_check_fingerprint((unsigned char *)key, n, other, &e), -1);
	assert_non_null(strstr(e.msg, "is not the pinned"));
	assert_non_null(strstr(e.msg, other));
	assert_int_equal(pgp_check_fingerprint((unsigned char *)key, n, DOCKER_KEY_FINGERPRINT, &e),
	                 -1);
	assert_int_equal(pgp_check_fingerprint((unsigned char *)key, n, "1234", &e), -1);
	assert_non_null(strstr(e.msg, "invalid pinned fingerprint"));
	free(key);
}

static void test_corrupted_body_refused(void **state)
{
	struct err e = {.msg = ""};
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
	static const unsigned char bin_short[] = {0x99, 0x01};
	struct err e = {.msg = ""};
	char got[41], *key;
	size_t n;

	(void)state;
	assert_int_equal(
	    pgp_fingerprint((const unsigned char *)garbage, sizeof(garbage) - 1, got, &e), -1);
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

/* Concatenates two fixture files. */
static char *cat2(const char *a, const char *b, size_t *len)
{
	char pa[256], pb[256], *x, *y, *out;
	size_t na, nb;

	snprintf(pa, sizeof(pa), "tests/unit/data/%s", a);
	snprintf(pb, sizeof(pb), "tests/unit/data/%s", b);
	x = slurp(pa, &na);
	y = slurp(pb, &nb);
	out = malloc(na + nb + 1);
	assert_non_null(out);
	memcpy(out, x, na);
	memcpy(out + na, y, nb + 1);
	*len = na + nb;
	free(x);
	free(y);
	return out;
}

static void refused(const char *key, size_t n, const char *pin, const char *needle)
{
	struct err e = {.msg = ""};
	unsigned char *kr = (unsigned char *)"untouched";
	size_t krlen = 7;

	assert_int_equal(pgp_pinned_keyring((const unsigned char *)key, n, pin, &kr, &krlen, &e),
	                 -1);
	if (strstr(e.msg, needle) == NULL)
		fail_msg("error \"%s\" does not say \"%s\"", e.msg, needle);
	assert_string_equal((char *)kr, "untouched");
	assert_int_equal(krlen, 7);
	assert_int_equal(pgp_check_fingerprint((const unsigned char *)key, n, pin, &e), -1);
}

static void test_appended_key_refused(void **state)
{
	char pin[41], other[41], *key;
	size_t n;

	(void)state;
	fpr_of("pgp-test-key", pin);
	fpr_of("pgp-test-rsa", other);
	key = cat2("pgp-test-key.asc", "pgp-test-rsa.asc", &n);
	refused(key, n, pin, "another key");
	refused(key, n, pin, other);
	free(key);
}

static void test_prepended_key_refused(void **state)
{
	char pin[41], other[41], *key;
	size_t n;

	(void)state;
	fpr_of("pgp-test-key", pin);
	fpr_of("pgp-test-rsa", other);
	key = cat2("pgp-test-rsa.asc", "pgp-test-key.asc", &n);
	refused(key, n, pin, other);
	refused(key, n, pin, "refusing to trust it");
	free(key);
}

static void test_two_keys_in_one_block_refused(void **state)
{
	char pin[41], *key;
	size_t n;

	(void)state;
	fpr_of("pgp-test-sub", pin);
	key = slurp("tests/unit/data/pgp-test-two-keys.asc", &n);
	refused(key, n, pin, "another key");
	free(key);
}

static void test_foreign_subkey_refused(void **state)
{
	char pin[41], *key;
	size_t n;

	(void)state;
	fpr_of("pgp-test-sub", pin);
	key = slurp("tests/unit/data/pgp-test-foreign-sub.asc", &n);
	refused(key, n, pin, "foreign subkey");
	free(key);
}

static void test_unbound_subkey_and_secret_packet_refused(void **state)
{
	char pin[41], *key;
	size_t n;

	(void)state;
	fpr_of("pgp-test-sub", pin);
	key = slurp("tests/unit/data/pgp-test-sub.gpg", &n);
	/* the subkey packet is at 238 (51 bytes + 2 header), its binding
	 * signature starts at 291: cut it off */
	assert_int_equal((unsigned char)key[238], 0xB8);
	assert_int_equal((unsigned char)key[291], 0x88);
	refused(key, 291, pin, "has no binding signature");
	/* the user ID packet (old format tag 13 at 53) turned into a secret key
	 * packet (tag 5) */
	assert_int_equal((unsigned char)key[53], 0xB4);
	key[53] = (char)0x94;
	refused(key, n, pin, "unexpected OpenPGP packet (tag 5)");
	free(key);
}

/* The keyring written for apt is the pinned key's packets and nothing
 * else: byte for byte what GnuPG exports for that key, whatever text
 * surrounds the armor. */
static void test_keyring_holds_only_the_pinned_key(void **state)
{
	struct err e = {.msg = ""};
	char pin[41], *asc, *gpg, *wrapped;
	unsigned char *kr = NULL;
	size_t n, gn, krlen = 0;

	(void)state;
	fpr_of("pgp-test-sub", pin);
	asc = slurp("tests/unit/data/pgp-test-sub.asc", &n);
	gpg = slurp("tests/unit/data/pgp-test-sub.gpg", &gn);
	wrapped = malloc(n + 64);
	assert_non_null(wrapped);
	n = (size_t)snprintf(wrapped, n + 64, "junk before\n%strailing junk\n", asc);
	assert_int_equal(pgp_pinned_keyring((unsigned char *)wrapped, n, pin, &kr, &krlen, &e), 0);
	assert_int_equal(krlen, gn);
	assert_memory_equal(kr, gpg, gn);
	free(kr);
	kr = NULL;
	/* the binary export itself gives the same keyring */
	assert_int_equal(pgp_pinned_keyring((unsigned char *)gpg, gn, pin, &kr, &krlen, &e), 0);
	assert_int_equal(krlen, gn);
	assert_memory_equal(kr, gpg, gn);
	free(kr);
	free(wrapped);
	free(gpg);
	free(asc);
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
	    cmocka_unit_test(test_appended_key_refused),
	    cmocka_unit_test(test_prepended_key_refused),
	    cmocka_unit_test(test_two_keys_in_one_block_refused),
	    cmocka_unit_test(test_foreign_subkey_refused),
	    cmocka_unit_test(test_unbound_subkey_and_secret_packet_refused),
	    cmocka_unit_test(test_keyring_holds_only_the_pinned_key),
	};

	return cmocka_run_group_tests_name("agent_pgpkey", tests, NULL, NULL);
}
