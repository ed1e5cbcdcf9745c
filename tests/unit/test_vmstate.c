/*
 * test_vmstate.c: the VM state file (format/parse round trip, hostile and
 * broken input), the per-VM lock, the SSH target and the generated
 * known_hosts/ssh_config, in a temporary XDG_STATE_HOME.
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

#include "cli.h"
#include "util.h"
#include "vmstate.h"

static char tmpdir[] = "/tmp/test_vmstate.XXXXXX";

static int setup(void **state)
{
	(void)state;
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	setenv("XDG_STATE_HOME", tmpdir, 1);
	return 0;
}

static int teardown(void **state)
{
	char *argv[] = {"rm", "-rf", tmpdir, NULL};
	(void)state;
	return run_argv(argv, NULL, NULL);
}

static void fill(struct vm_state *s)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->uri, sizeof(s->uri), "qemu+ssh://root@host/system?keyfile=/k=v");
	snprintf(s->domain, sizeof(s->domain), "vm1");
	snprintf(s->pool, sizeof(s->pool), "inception");
	snprintf(s->base_vol, sizeof(s->base_vol), "base-x.qcow2");
	snprintf(s->disk_vol, sizeof(s->disk_vol), "vm1.qcow2");
	snprintf(s->seed_vol, sizeof(s->seed_vol), "vm1-seed.iso");
	snprintf(s->net, sizeof(s->net), "user");
	snprintf(s->ssh_host, sizeof(s->ssh_host), "127.0.0.1");
	s->ssh_port = 2222;
	snprintf(s->login, sizeof(s->login), "alice");
	snprintf(s->accel, sizeof(s->accel), "qemu");
	snprintf(s->forwards, sizeof(s->forwards), "127.0.0.1:2222->22 127.0.0.1:8443->443");
	snprintf(s->phase, sizeof(s->phase), "ready");
	snprintf(s->project, sizeof(s->project), "file:///srv/git/student.git");
	snprintf(s->project_dir, sizeof(s->project_dir), "/c/projects/student-0123");
	snprintf(s->project_compose, sizeof(s->project_compose), "srcs/compose.yaml");
	snprintf(s->project_commit, sizeof(s->project_commit), "%040d", 7);
	snprintf(s->project_ref, sizeof(s->project_ref), "v1.2");
	s->project_dirty = 1;
	snprintf(s->project_gen, sizeof(s->project_gen), "/s/vm1/inputs/0123456789abcdef");
}

static void test_roundtrip(void **state)
{
	struct vm_state a, b;
	struct err e = {"", 0};
	char buf[4096];

	(void)state;
	fill(&a);
	assert_int_equal(vmstate_format(&a, buf, sizeof(buf), &e), 0);
	assert_non_null(strstr(buf, "ssh_port=2222\n"));
	/* '=' in a value stays in the value */
	assert_non_null(strstr(buf, "uri=qemu+ssh://root@host/system?keyfile=/k=v\n"));
	assert_non_null(strstr(buf, "project=file:///srv/git/student.git\nproject_dir="));
	assert_non_null(strstr(buf, "\nproject_ref=v1.2\nproject_dirty=1\n"));
	assert_int_equal(vmstate_parse(buf, &b, &e), 0);
	assert_memory_equal(&a, &b, sizeof(a));
}

static void test_parse_errors(void **state)
{
	struct vm_state s;
	struct err e = {"", 0};
	char big[400];

	(void)state;
	/* unknown keys and a missing final newline are fine */
	assert_int_equal(vmstate_parse("future=1\ndomain=x", &s, &e), 0);
	assert_string_equal(s.domain, "x");
	assert_int_equal(vmstate_parse("domain=x\nno equals sign\n", &s, &e), -1);
	assert_non_null(strstr(e.msg, "line 2"));
	assert_int_equal(vmstate_parse("ssh_port=22x\n", &s, &e), -1);
	assert_int_equal(vmstate_parse("ssh_port=70000\n", &s, &e), -1);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "domain=", 7);
	assert_int_equal(vmstate_parse(big, &s, &e), -1);
	assert_non_null(strstr(e.msg, "too long"));
}

static void test_format_rejects_newline(void **state)
{
	struct vm_state s;
	struct err e = {"", 0};
	char buf[4096];

	(void)state;
	fill(&s);
	snprintf(s.domain, sizeof(s.domain), "a\nphase=ready");
	assert_int_equal(vmstate_format(&s, buf, sizeof(buf), &e), -1);
	assert_non_null(strstr(e.msg, "domain"));
	fill(&s);
	assert_int_equal(vmstate_format(&s, buf, 40, &e), -1);
}

static void test_save_load_and_target(void **state)
{
	struct vm_paths p;
	struct vm_state a, b;
	struct vm_target t;
	struct config cfg;
	struct err e = {"", 0};
	struct stat st;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	cfg.vm_name = "vm1";
	assert_int_equal(vm_paths("vm1", &p, &e), 0);
	assert_non_null(strstr(p.dir, tmpdir));
	/* no state yet: "no such VM" */
	assert_int_equal(vm_target(&cfg, &t, &e), -1);
	assert_int_equal(e.code, EXIT_NOVM);
	assert_int_equal(mkdir_p(p.dir, 0700, &e), 0);
	fill(&a);
	assert_int_equal(vmstate_save(&p, &a, &e), 0);
	assert_int_equal(stat(p.state, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(vmstate_load(&p, &b, &e), 0);
	assert_memory_equal(&a, &b, sizeof(a));
	assert_int_equal(vm_target(&cfg, &t, &e), 0);
	assert_string_equal(t.t.host, "127.0.0.1");
	assert_int_equal(t.t.port, 2222);
	assert_string_equal(t.t.user, "alice");
	assert_string_equal(t.t.identity, p.identity);
	assert_string_equal(t.t.hostkey_pub, p.hostkey_pub);
	assert_non_null(strstr(t.t.hostkey_pub, "/vm1/ssh_host_ed25519_key.pub"));
}

static void test_names(void **state)
{
	struct vm_paths p;
	struct err e = {"", 0};

	(void)state;
	assert_int_equal(vm_paths("../x", &p, &e), -1);
	assert_int_equal(vm_paths(".hidden", &p, &e), -1);
	assert_int_equal(vm_paths("", &p, &e), -1);
	assert_int_equal(vm_paths(NULL, &p, &e), -1);
}

static void test_lock(void **state)
{
	struct vm_paths p;
	struct err e = {"", 0};
	int a = -1, b = -1;
	char pid[32];

	(void)state;
	assert_int_equal(vm_paths("locked", &p, &e), 0);
	assert_int_equal(vm_lock(&p, &a, &e), 0);
	/* a second holder (another open file description) is refused at once,
	 * with the first holder's pid */
	assert_int_equal(vm_lock(&p, &b, &e), -1);
	snprintf(pid, sizeof(pid), "pid %ld", (long)getpid());
	assert_non_null(strstr(e.msg, pid));
	vm_unlock(a);
	assert_int_equal(vm_lock(&p, &b, &e), 0);
	vm_unlock(b);
}

static void test_ssh_files(void **state)
{
	struct vm_paths p;
	struct vm_state s;
	struct err e = {"", 0};
	const char *pub = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTheTest host\n";
	char *text = NULL;

	(void)state;
	assert_int_equal(vm_paths("files", &p, &e), 0);
	assert_int_equal(mkdir_p(p.dir, 0700, &e), 0);
	assert_int_equal(write_file_atomic(p.hostkey_pub, pub, strlen(pub), 0600, &e), 0);
	fill(&s);
	assert_int_equal(vm_write_ssh_files(&p, &s, "files", &e), 0);
	assert_int_equal(read_file(p.known_hosts, &text, NULL, &e), 0);
	assert_string_equal(
	    text, "[127.0.0.1]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTheTest host\n");
	free(text);
	assert_int_equal(read_file(p.ssh_config, &text, NULL, &e), 0);
	assert_non_null(strstr(text, "\nHost files\n"));
	assert_non_null(strstr(text, "  Port 2222\n"));
	assert_non_null(strstr(text, "  User alice\n"));
	assert_non_null(strstr(text, "  StrictHostKeyChecking yes\n"));
	assert_non_null(strstr(text, p.known_hosts));
	free(text);
	/* port 22 (nat mode): a plain host name in known_hosts */
	s.ssh_port = 22;
	snprintf(s.ssh_host, sizeof(s.ssh_host), "192.168.150.101");
	assert_int_equal(vm_write_ssh_files(&p, &s, "files", &e), 0);
	assert_int_equal(read_file(p.known_hosts, &text, NULL, &e), 0);
	assert_true(strncmp(text, "192.168.150.101 ssh-ed25519 ", 28) == 0);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_roundtrip),
	    cmocka_unit_test(test_parse_errors),
	    cmocka_unit_test(test_format_rejects_newline),
	    cmocka_unit_test(test_save_load_and_target),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_lock),
	    cmocka_unit_test(test_ssh_files),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
