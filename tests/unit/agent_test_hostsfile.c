/*
 * agent_test_hostsfile.c: the /etc/hosts editor, one test per edge case of
 * the issue (no trailing newline, another IP, alias on another line, CRLF,
 * empty, huge) and a few more; every case also checks that editing the
 * result again changes nothing.  The file wrapper is tested on real files:
 * a symlink's target edited, extended attributes kept, the lock that keeps
 * two editors from losing each other's lines, stale temp files removed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cmocka.h>

#include "hostsfile.h"

#define NAME "jdoe.42.fr"

/* Edits in, compares with want, then checks idempotence. */
static void check_edit(const char *in, size_t inlen, const char *want, size_t wantlen,
                       int want_changed)
{
	struct err e = {.msg = ""};
	char *out = NULL, *again = NULL;
	size_t outlen = 0, againlen = 0;
	int changed = -1, changed2 = -1;

	assert_int_equal(hosts_edit(in, inlen, NAME, "127.0.0.1", &out, &outlen, &changed, &e), 0);
	assert_int_equal(outlen, wantlen);
	assert_memory_equal(out, want, wantlen);
	assert_int_equal(out[outlen], '\0');
	assert_int_equal(changed, want_changed);
	assert_int_equal(
	    hosts_edit(out, outlen, NAME, "127.0.0.1", &again, &againlen, &changed2, &e), 0);
	assert_int_equal(changed2, 0);
	assert_int_equal(againlen, outlen);
	assert_memory_equal(again, out, outlen);
	free(out);
	free(again);
}

#define CHECK(in, want, ch) check_edit(in, sizeof(in) - 1, want, sizeof(want) - 1, ch)

static void test_empty(void **state)
{
	(void)state;
	CHECK("", "127.0.0.1\t" NAME "\n", 1);
}

static void test_typical_debian(void **state)
{
	(void)state;
	CHECK("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n",
	      "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.0.1\t" NAME
	      "\n",
	      1);
}

static void test_no_trailing_newline(void **state)
{
	(void)state;
	CHECK("127.0.0.1 localhost", "127.0.0.1 localhost\n127.0.0.1\t" NAME "\n", 1);
}

static void test_already_there_kept_byte_for_byte(void **state)
{
	(void)state;
	CHECK("# static\n127.0.0.1   localhost  " NAME "   www  # mine\n10.0.0.2 db\n",
	      "# static\n127.0.0.1   localhost  " NAME "   www  # mine\n10.0.0.2 db\n", 0);
}

static void test_already_there_no_newline(void **state)
{
	(void)state;
	CHECK("127.0.0.1 " NAME, "127.0.0.1 " NAME, 0);
}

static void test_other_ip(void **state)
{
	(void)state;
	CHECK("127.0.0.1 localhost\n10.0.0.5 " NAME "\n10.0.0.6 other\n",
	      "127.0.0.1 localhost\n10.0.0.6 other\n127.0.0.1\t" NAME "\n", 1);
}

static void test_other_ip_with_comment(void **state)
{
	(void)state;
	CHECK("10.0.0.5\t" NAME "\t# old VM\n", "# old VM\n127.0.0.1\t" NAME "\n", 1);
}

static void test_alias_on_other_line(void **state)
{
	(void)state;
	CHECK("10.0.0.5 web " NAME " api # lab\n127.0.0.1 localhost\n",
	      "10.0.0.5\tweb api # lab\n127.0.0.1 localhost\n127.0.0.1\t" NAME "\n", 1);
}

static void test_alias_on_right_ip_kept(void **state)
{
	(void)state;
	CHECK("127.0.0.1 localhost " NAME "\n", "127.0.0.1 localhost " NAME "\n", 0);
}

static void test_duplicates_removed(void **state)
{
	(void)state;
	CHECK("127.0.0.1 " NAME "\n::1 " NAME "\n127.0.0.1 " NAME " x\n",
	      "127.0.0.1 " NAME "\n127.0.0.1\tx\n", 1);
}

static void test_case_insensitive(void **state)
{
	(void)state;
	CHECK("127.0.0.1 JDoe.42.FR\n10.1.1.1 JDOE.42.FR\n", "127.0.0.1 JDoe.42.FR\n", 1);
}

static void test_similar_names_untouched(void **state)
{
	(void)state;
	CHECK("10.0.0.1 x" NAME " " NAME ".example\n# 10.0.0.9 " NAME "\n",
	      "10.0.0.1 x" NAME " " NAME ".example\n# 10.0.0.9 " NAME "\n127.0.0.1\t" NAME "\n", 1);
}

static void test_crlf(void **state)
{
	(void)state;
	CHECK("127.0.0.1 localhost\r\n10.0.0.5 " NAME " web\r\n",
	      "127.0.0.1 localhost\r\n10.0.0.5\tweb\r\n127.0.0.1\t" NAME "\r\n", 1);
}

static void test_crlf_no_trailing_newline(void **state)
{
	(void)state;
	CHECK("127.0.0.1 localhost\r\n::1 localhost",
	      "127.0.0.1 localhost\r\n::1 localhost\r\n127.0.0.1\t" NAME "\r\n", 1);
}

static void test_crlf_kept_line(void **state)
{
	(void)state;
	CHECK("127.0.0.1 " NAME "\r\n", "127.0.0.1 " NAME "\r\n", 0);
}

static void test_blank_and_weird_whitespace(void **state)
{
	(void)state;
	CHECK("\n\n   \t\n\v127.0.0.1\f" NAME "\n", "\n\n   \t\n\v127.0.0.1\f" NAME "\n", 0);
}

static void test_nul_bytes_kept(void **state)
{
	static const char in[] = "10.0.0.1 a\0b\n";
	static const char want[] = "10.0.0.1 a\0b\n127.0.0.1\t" NAME "\n";

	(void)state;
	check_edit(in, sizeof(in) - 1, want, sizeof(want) - 1, 1);
}

static void test_huge_file(void **state)
{
	const size_t lines = 200000;
	const char tail[] = "10.9.9.9 " NAME "\n";
	char *in, *want, *p;
	size_t i, inlen, wantlen;

	(void)state;
	in = malloc(lines * 32 + 64);
	want = malloc(lines * 32 + 64);
	assert_non_null(in);
	assert_non_null(want);
	p = in;
	for (i = 0; i < lines; i++)
		p += sprintf(p, "10.%zu.%zu.%zu host%zu\n", i >> 16, (i >> 8) & 255, i & 255, i);
	memcpy(want, in, (size_t)(p - in));
	wantlen = (size_t)(p - in);
	memcpy(p, tail, sizeof(tail) - 1);
	inlen = (size_t)(p - in) + sizeof(tail) - 1;
	memcpy(want + wantlen, "127.0.0.1\t" NAME "\n", sizeof("127.0.0.1\t" NAME "\n") - 1);
	wantlen += sizeof("127.0.0.1\t" NAME "\n") - 1;
	check_edit(in, inlen, want, wantlen, 1);
	free(in);
	free(want);
}

static void test_many_fields_line(void **state)
{
	/* More fields than the editor splits: nothing may be lost. */
	size_t n = 5000, i;
	char *in = malloc(n * 8 + 64), *out = NULL, *p = in;
	size_t outlen;
	struct err e = {.msg = ""};
	int changed;

	(void)state;
	p += sprintf(p, "10.0.0.1 " NAME);
	for (i = 0; i < n; i++)
		p += sprintf(p, " h%zu", i);
	*p++ = '\n';
	assert_int_equal(
	    hosts_edit(in, (size_t)(p - in), NAME, "127.0.0.1", &out, &outlen, &changed, &e), 0);
	assert_non_null(strstr(out, " h4999\n"));
	assert_non_null(strstr(out, "\th0 h1 "));
	assert_non_null(strstr(out, "\n127.0.0.1\t" NAME "\n"));
	free(in);
	free(out);
}

static void test_invalid_input(void **state)
{
	struct err e = {.msg = ""};
	char *out = NULL;
	size_t outlen;
	int changed;

	(void)state;
	assert_int_equal(hosts_edit("", 0, "bad name", "127.0.0.1", &out, &outlen, &changed, &e),
	                 -1);
	assert_non_null(strstr(e.msg, "invalid host name"));
	assert_int_equal(hosts_edit("", 0, NAME, "127.0.0.300", &out, &outlen, &changed, &e), -1);
	assert_non_null(strstr(e.msg, "invalid address"));
	assert_null(out);
}

/* ip NULL: the mapping is undone, every other byte kept. */
static void check_remove(const char *in, size_t inlen, const char *want, size_t wantlen,
                         int want_changed)
{
	struct err e = {.msg = ""};
	char *out = NULL;
	size_t outlen = 0;
	int changed = -1;

	assert_int_equal(hosts_edit(in, inlen, NAME, NULL, &out, &outlen, &changed, &e), 0);
	assert_int_equal(outlen, wantlen);
	assert_memory_equal(out, want, wantlen);
	assert_int_equal(changed, want_changed);
	free(out);
}

#define REMOVE(in, want, ch) check_remove(in, sizeof(in) - 1, want, sizeof(want) - 1, ch)

static void test_remove(void **state)
{
	(void)state;
	/* what the add made is taken away again, byte for byte */
	REMOVE("127.0.0.1\tlocalhost\n127.0.0.1\t" NAME "\n", "127.0.0.1\tlocalhost\n", 1);
	/* an alias goes, the rest of its line stays */
	REMOVE("10.0.0.5 web " NAME " # lab\n", "10.0.0.5\tweb # lab\n", 1);
	/* nothing to remove: unchanged, no newline added */
	REMOVE("127.0.0.1 localhost", "127.0.0.1 localhost", 0);
	REMOVE("", "", 0);
	/* every line that has it, CRLF kept */
	REMOVE("127.0.0.1 " NAME "\r\n::1 " NAME "\r\n", "", 1);
}

static void test_name_valid(void **state)
{
	(void)state;
	assert_true(hosts_name_valid("jdoe.42.fr"));
	assert_true(hosts_name_valid("a-b.c"));
	assert_false(hosts_name_valid(""));
	assert_false(hosts_name_valid("-a.fr"));
	assert_false(hosts_name_valid("a..fr"));
	assert_false(hosts_name_valid("a.fr."));
	assert_false(hosts_name_valid("a_b.fr"));
	assert_false(hosts_name_valid("a-.fr"));
	assert_false(hosts_name_valid("a b"));
}

/* A scratch directory with a hosts file in it. */
static char dir[64], file[128];

static int file_setup(void **state)
{
	FILE *f;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/inc-hosts.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/hosts", dir);
	f = fopen(file, "w");
	assert_non_null(f);
	fputs("127.0.0.1\tlocalhost\n", f);
	fclose(f);
	return 0;
}

static int file_teardown(void **state)
{
	char cmd[160];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static char *slurp(const char *path)
{
	static char buf[4096];
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void test_file_symlink_target_edited(void **state)
{
	struct err e = {.msg = ""};
	char link[160], target[256];
	struct stat st;
	int changed = 0;

	(void)state;
	snprintf(link, sizeof(link), "%s/link", dir);
	assert_int_equal(symlink("hosts", link), 0);
	assert_int_equal(hosts_edit_file(link, NAME, "127.0.0.1", 1, &changed, &e), 0);
	assert_int_equal(changed, 1);
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_string_equal(slurp(file), "127.0.0.1\tlocalhost\n127.0.0.1\t" NAME "\n");
	assert_int_equal(hosts_file_target(link, target, sizeof(target), &e), 0);
	assert_string_equal(target, file);
	/* undo through the link too */
	assert_int_equal(hosts_edit_file(link, NAME, NULL, 1, &changed, &e), 0);
	assert_int_equal(changed, 1);
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_string_equal(slurp(file), "127.0.0.1\tlocalhost\n");
}

static void test_file_xattrs_kept(void **state)
{
	static const char label[] = "system_u:object_r:net_conf_t:s0";
	struct err e = {.msg = ""};
	char got[128];
	ssize_t n;
	int changed = 0, selinux;

	(void)state;
	if (setxattr(file, "user.inception", "kept", 4, 0) < 0)
		skip(); /* a file system without user attributes */
	/* security.* needs root (CAP_SYS_ADMIN) when no LSM owns it */
	selinux = setxattr(file, "security.selinux", label, sizeof(label), 0) == 0;
	assert_int_equal(hosts_edit_file(file, NAME, "127.0.0.1", 1, &changed, &e), 0);
	assert_int_equal(changed, 1);
	n = getxattr(file, "user.inception", got, sizeof(got));
	assert_int_equal(n, 4);
	assert_memory_equal(got, "kept", 4);
	if (selinux) {
		n = getxattr(file, "security.selinux", got, sizeof(got));
		assert_int_equal(n, sizeof(label));
		assert_string_equal(got, label);
	}
}

/* Another editor holds the lock and replaces the file (as hosts_edit_file
 * does: a new file renamed over it) while we wait: our edit must be made
 * on its result, not on the content we would have read before. */
static void test_file_lock_no_lost_update(void **state)
{
	char tmp[160];
	struct stat before;
	pid_t pid;
	int fd, status;
	FILE *f;

	(void)state;
	fd = open(file, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct err e = {.msg = ""};
		int changed = 0;

		close(fd);
		_exit(hosts_edit_file(file, NAME, "127.0.0.1", 1, &changed, &e) == 0 && changed
		          ? 0
		          : 1);
	}
	usleep(300 * 1000);
	/* the child waits: nothing written yet */
	assert_string_equal(slurp(file), "127.0.0.1\tlocalhost\n");
	assert_int_equal(stat(file, &before), 0);
	snprintf(tmp, sizeof(tmp), "%s/other-editor", dir);
	f = fopen(tmp, "w");
	assert_non_null(f);
	fputs("127.0.0.1\tlocalhost\n10.0.0.9\tother.42.fr\n", f);
	fclose(f);
	assert_int_equal(rename(tmp, file), 0);
	close(fd); /* releases the lock on the replaced file */
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_string_equal(slurp(file),
	                    "127.0.0.1\tlocalhost\n10.0.0.9\tother.42.fr\n127.0.0.1\t" NAME "\n");
}

static void test_file_stale_temps_removed(void **state)
{
	static const char *const stale[] = {"hosts.tmp.Ab3xY9", "hosts.tmp.000000", NULL};
	static const char *const keep[] = {"hosts.tmp.keep", "other.tmp.Ab3xY9",
	                                   "hosts.tmp.Ab3xY9x", NULL};
	struct err e = {.msg = ""};
	char p[192];
	int changed = 0, i;

	(void)state;
	for (i = 0; stale[i]; i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, stale[i]);
		fclose(fopen(p, "w"));
	}
	for (i = 0; keep[i]; i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, keep[i]);
		fclose(fopen(p, "w"));
	}
	/* removed even when the file itself needs no change */
	assert_int_equal(hosts_edit_file(file, NAME, NULL, 1, &changed, &e), 0);
	assert_int_equal(changed, 0);
	for (i = 0; stale[i]; i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, stale[i]);
		assert_int_equal(access(p, F_OK), -1);
	}
	for (i = 0; keep[i]; i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, keep[i]);
		assert_int_equal(access(p, F_OK), 0);
	}
}

static void test_file_mode_owner_kept(void **state)
{
	struct err e = {.msg = ""};
	struct stat st;
	int changed = 0;

	(void)state;
	assert_int_equal(chmod(file, 0640), 0);
	assert_int_equal(hosts_edit_file(file, NAME, "127.0.0.1", 1, &changed, &e), 0);
	assert_int_equal(stat(file, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	/* a missing file: an error only when it must exist */
	assert_int_equal(unlink(file), 0);
	assert_int_equal(hosts_edit_file(file, NAME, "127.0.0.1", 0, &changed, &e), 0);
	assert_int_equal(changed, 0);
	assert_int_equal(hosts_edit_file(file, NAME, "127.0.0.1", 1, &changed, &e), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_empty),
	    cmocka_unit_test(test_typical_debian),
	    cmocka_unit_test(test_no_trailing_newline),
	    cmocka_unit_test(test_already_there_kept_byte_for_byte),
	    cmocka_unit_test(test_already_there_no_newline),
	    cmocka_unit_test(test_other_ip),
	    cmocka_unit_test(test_other_ip_with_comment),
	    cmocka_unit_test(test_alias_on_other_line),
	    cmocka_unit_test(test_alias_on_right_ip_kept),
	    cmocka_unit_test(test_duplicates_removed),
	    cmocka_unit_test(test_case_insensitive),
	    cmocka_unit_test(test_similar_names_untouched),
	    cmocka_unit_test(test_crlf),
	    cmocka_unit_test(test_crlf_no_trailing_newline),
	    cmocka_unit_test(test_crlf_kept_line),
	    cmocka_unit_test(test_blank_and_weird_whitespace),
	    cmocka_unit_test(test_nul_bytes_kept),
	    cmocka_unit_test(test_huge_file),
	    cmocka_unit_test(test_many_fields_line),
	    cmocka_unit_test(test_invalid_input),
	    cmocka_unit_test(test_remove),
	    cmocka_unit_test(test_name_valid),
	    cmocka_unit_test_setup_teardown(test_file_symlink_target_edited, file_setup,
	                                    file_teardown),
	    cmocka_unit_test_setup_teardown(test_file_xattrs_kept, file_setup, file_teardown),
	    cmocka_unit_test_setup_teardown(test_file_lock_no_lost_update, file_setup,
	                                    file_teardown),
	    cmocka_unit_test_setup_teardown(test_file_stale_temps_removed, file_setup,
	                                    file_teardown),
	    cmocka_unit_test_setup_teardown(test_file_mode_owner_kept, file_setup, file_teardown),
	};

	return cmocka_run_group_tests_name("agent_hostsfile", tests, NULL, NULL);
}
