/*
 * test_hostmap.c: host.map_domain on a real file: the address chosen per
 * network mode, the line recorded only when `up` added it, and destroy's
 * undo giving back the file byte for byte; a symlinked hosts file keeps its
 * link, its target is edited and `up` says so.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "hostmap.h"
#include "util.h"

#define ORIG "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n"

static struct config C;
static struct err E;
static char dir[64], file[128];

static int setup(void **state)
{
	(void)state;
	config_defaults(&C);
	err_clear(&E);
	snprintf(dir, sizeof(dir), "/tmp/inc-hostmap.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/hosts", dir);
	assert_int_equal(write_file_atomic(file, ORIG, strlen(ORIG), 0644, &E), 0);
	assert_int_equal(config_set(&C, "host.map_domain", "true", "--map-domain", &E), 0);
	assert_int_equal(config_set(&C, "host.hosts_file", file, "--hosts-file", &E), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(file);
	rmdir(dir);
	config_free(&C);
	return 0;
}

static char *contents(void)
{
	char *d = NULL;

	assert_int_equal(read_file(file, &d, NULL, &E), 0);
	return d;
}

static void test_user_mode_add_and_undo(void **state)
{
	struct vm_state s;
	struct stat st;
	char *d;

	(void)state;
	memset(&s, 0, sizeof(s));
	snprintf(s.net, sizeof(s.net), "user");
	assert_int_equal(hostmap_precheck(&C, &E), 0);
	assert_int_equal(hostmap_apply(&C, "jdoe.42.fr", &s, &E), 0);
	d = contents();
	assert_string_equal(d, ORIG "127.0.0.1\tjdoe.42.fr\n");
	free(d);
	assert_string_equal(s.hosts_file, file);
	assert_string_equal(s.hosts_name, "jdoe.42.fr");
	assert_int_equal(stat(file, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	/* again: nothing changes */
	assert_int_equal(hostmap_apply(&C, "jdoe.42.fr", &s, &E), 0);
	d = contents();
	assert_string_equal(d, ORIG "127.0.0.1\tjdoe.42.fr\n");
	free(d);
	assert_int_equal(hostmap_undo(&s, &E), 0);
	d = contents();
	assert_string_equal(d, ORIG);
	free(d);
}

/* Runs hostmap_apply with stderr (the human report) captured into out. */
static int apply_captured(struct vm_state *s, char *out, size_t n)
{
	char path[160];
	ssize_t got;
	int fd, saved, rc;

	snprintf(path, sizeof(path), "%s/stderr", dir);
	fflush(stderr);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	saved = dup(2);
	assert_true(saved >= 0);
	assert_int_equal(dup2(fd, 2), 2);
	rc = hostmap_apply(&C, "jdoe.42.fr", s, &E);
	fflush(stderr);
	assert_int_equal(dup2(saved, 2), 2);
	close(saved);
	got = pread(fd, out, n - 1, 0);
	assert_true(got >= 0);
	out[got] = '\0';
	close(fd);
	unlink(path);
	return rc;
}

static void test_symlinked_hosts_file(void **state)
{
	char link[160], out[1024], want[512];
	struct vm_state s;
	struct stat st;
	char *d;

	(void)state;
	snprintf(link, sizeof(link), "%s/hosts-link", dir);
	assert_int_equal(symlink(file, link), 0);
	assert_int_equal(config_set(&C, "host.hosts_file", link, "--hosts-file", &E), 0);
	memset(&s, 0, sizeof(s));
	snprintf(s.net, sizeof(s.net), "user");
	assert_int_equal(hostmap_precheck(&C, &E), 0);
	assert_int_equal(apply_captured(&s, out, sizeof(out)), 0);
	snprintf(want, sizeof(want),
	         "jdoe.42.fr -> 127.0.0.1 in %s (a symlink: %s is edited) (added; `inception "
	         "destroy` removes it)",
	         link, file);
	if (strstr(out, want) == NULL)
		fail_msg("output \"%s\" lacks \"%s\"", out, want);
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	d = contents();
	assert_string_equal(d, ORIG "127.0.0.1\tjdoe.42.fr\n");
	free(d);
	assert_int_equal(hostmap_undo(&s, &E), 0);
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	d = contents();
	assert_string_equal(d, ORIG);
	free(d);
	unlink(link);
}

static void test_users_own_line_is_kept(void **state)
{
	static const char mine[] = ORIG "127.0.0.1 jdoe.42.fr # mine\n";
	struct vm_state s;
	char *d;

	(void)state;
	assert_int_equal(write_file_atomic(file, mine, strlen(mine), 0644, &E), 0);
	memset(&s, 0, sizeof(s));
	snprintf(s.net, sizeof(s.net), "user");
	assert_int_equal(hostmap_apply(&C, "jdoe.42.fr", &s, &E), 0);
	assert_string_equal(s.hosts_file, ""); /* not ours: destroy leaves it */
	assert_int_equal(hostmap_undo(&s, &E), 0);
	d = contents();
	assert_string_equal(d, mine);
	free(d);
}

static void test_nat_uses_the_guest_address(void **state)
{
	struct vm_state s;
	char *d;

	(void)state;
	memset(&s, 0, sizeof(s));
	snprintf(s.net, sizeof(s.net), "nat");
	snprintf(s.ssh_host, sizeof(s.ssh_host), "192.168.122.40");
	/* an old mapping to another address is replaced */
	assert_int_equal(write_file_atomic(file, ORIG "10.0.0.9 jdoe.42.fr\n",
	                                   strlen(ORIG "10.0.0.9 jdoe.42.fr\n"), 0644, &E),
	                 0);
	assert_int_equal(hostmap_apply(&C, "jdoe.42.fr", &s, &E), 0);
	d = contents();
	assert_string_equal(d, ORIG "192.168.122.40\tjdoe.42.fr\n");
	free(d);
}

static void test_forward_choice_and_errors(void **state)
{
	struct vm_state s;
	char *d;

	(void)state;
	memset(&s, 0, sizeof(s));
	snprintf(s.net, sizeof(s.net), "user");
	/* the forward on host port 443 wins over another one to guest 443 */
	C.nforwards = 0;
	assert_int_equal(parse_forward("2222:22", &C.forwards[C.nforwards++], &E), 0);
	assert_int_equal(parse_forward("127.0.0.3:8443:443", &C.forwards[C.nforwards++], &E), 0);
	assert_int_equal(parse_forward("127.0.0.2:443:443", &C.forwards[C.nforwards++], &E), 0);
	assert_int_equal(hostmap_apply(&C, "jdoe.42.fr", &s, &E), 0);
	d = contents();
	assert_string_equal(d, ORIG "127.0.0.2\tjdoe.42.fr\n");
	free(d);
	/* no forward to 443: refused, file untouched */
	C.nforwards = 1;
	assert_int_equal(hostmap_apply(&C, "other.42.fr", &s, &E), -1);
	assert_string_equal(E.msg, "host.map_domain: no forward to guest port 443 in "
	                           "network.forwards (add e.g. 127.0.0.1:443:443)");
	/* off: nothing at all */
	C.map_domain = 0;
	C.nforwards = 0;
	assert_int_equal(hostmap_apply(&C, "other.42.fr", &s, &E), 0);
	/* a missing file is an error that names it */
	C.map_domain = 1;
	unlink(file);
	assert_int_equal(hostmap_precheck(&C, &E), -1);
	assert_non_null(strstr(E.msg, "host.map_domain: cannot write"));
	assert_non_null(strstr(E.msg, "sudo inception up"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_user_mode_add_and_undo, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_symlinked_hosts_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_users_own_line_is_kept, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_nat_uses_the_guest_address, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_forward_choice_and_errors, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
