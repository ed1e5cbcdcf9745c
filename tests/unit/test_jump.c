/*
 * test_jump.c: the remote libvirt host as a jump host: which URIs name one
 * (user, host, port, keyfile, known_hosts, the defaults), the exact message
 * for each bad URI; the `forward` argument ([LOCAL:]GUEST) and the lookup
 * of a guest port in a VM's recorded forwards; the ProxyJump block of the
 * generated ssh_config.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "forward.h"
#include "jump.h"
#include "util.h"
#include "vmstate.h"

static void local_uris_have_no_jump(void **state)
{
	struct jump_host j;
	struct err e = {"", 0};

	(void)state;
	assert_int_equal(jump_parse_uri(NULL, &j, &e), 0);
	assert_int_equal(jump_parse_uri("", &j, &e), 0);
	assert_int_equal(jump_parse_uri("qemu:///system", &j, &e), 0);
	assert_int_equal(jump_parse_uri("qemu:///session", &j, &e), 0);
	assert_int_equal(jump_parse_uri("test:///default", &j, &e), 0);
	assert_int_equal(jump_parse_uri("qemu+unix:///system", &j, &e), 0);
}

static void ssh_uri_fields(void **state)
{
	struct jump_host j;
	struct err e = {"", 0};
	char who[400];

	(void)state;
	assert_int_equal(jump_parse_uri("qemu+ssh://ada@lab.example.org:2222/system?keyfile=/k/"
	                                "id%20x&known_hosts=/k/kh",
	                                &j, &e),
	                 1);
	assert_string_equal(j.user, "ada");
	assert_string_equal(j.host, "lab.example.org");
	assert_int_equal(j.port, 2222);
	assert_string_equal(j.keyfile, "/k/id x");
	assert_string_equal(j.known_hosts, "/k/kh");
	jump_describe(&j, who, sizeof(who));
	assert_string_equal(who, "ada@lab.example.org:2222");

	/* defaults: port 22, no keyfile, ~/.ssh/known_hosts */
	assert_int_equal(jump_parse_uri("qemu+ssh://bob@10.0.0.5/system", &j, &e), 1);
	assert_string_equal(j.user, "bob");
	assert_string_equal(j.host, "10.0.0.5");
	assert_int_equal(j.port, 22);
	assert_string_equal(j.keyfile, "");
	assert_non_null(strstr(j.known_hosts, "/.ssh/known_hosts"));

	/* the libssh transports too; no user = this user */
	assert_int_equal(
	    jump_parse_uri("qemu+libssh://srv/system?known_hosts_verify=normal", &j, &e), 1);
	assert_string_equal(j.host, "srv");
	assert_true(j.user[0] != '\0');
	assert_int_equal(jump_parse_uri("qemu+libssh2://root@srv:22/system", &j, &e), 1);
}

static void bad_uris(void **state)
{
	struct jump_host j;
	struct err e = {"", 0};

	(void)state;
	assert_int_equal(jump_parse_uri("qemu+tls://lab.example.org/system", &j, &e), -1);
	assert_int_equal(e.code, EXIT_USAGE);
	assert_string_equal(e.msg, "libvirt.uri \"qemu+tls://lab.example.org/system\": a remote "
	                           "host reached without SSH: inception reaches its VMs through "
	                           "SSH to that host; use qemu+ssh://USER@lab.example.org/system");
	assert_int_equal(jump_parse_uri("qemu://lab/system", &j, &e), -1);
	assert_string_equal(e.msg, "libvirt.uri \"qemu://lab/system\": a remote host reached "
	                           "without SSH: inception reaches its VMs through SSH to that "
	                           "host; use qemu+ssh://USER@lab/system");
	assert_int_equal(jump_parse_uri("qemu+ssh://root@h:70000/system", &j, &e), -1);
	assert_string_equal(e.msg,
	                    "libvirt.uri \"qemu+ssh://root@h:70000/system\": port 70000 is out of "
	                    "range (1..65535)");
	assert_int_equal(jump_parse_uri("no uri here", &j, &e), -1);
	assert_string_equal(e.msg, "libvirt.uri \"no uri here\": not a URI (e.g. qemu:///system "
	                           "or qemu+ssh://USER@HOST/system)");
	assert_int_equal(
	    jump_parse_uri(
	        "qemu+ssh://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	        "aaaaaaaaaaaaaaaa@h/system",
	        &j, &e),
	    -1);
	assert_non_null(strstr(e.msg, ": the user name is too long"));
}

static void forward_specs(void **state)
{
	unsigned l, g;
	struct err e = {"", 0};

	(void)state;
	assert_int_equal(forward_spec_parse("443", &l, &g, &e), 0);
	assert_int_equal(l, 0);
	assert_int_equal(g, 443);
	assert_int_equal(forward_spec_parse("9443:443", &l, &g, &e), 0);
	assert_int_equal(l, 9443);
	assert_int_equal(g, 443);
	assert_int_equal(forward_spec_parse("https", &l, &g, &e), -1);
	assert_int_equal(e.code, EXIT_USAGE);
	assert_string_equal(e.msg,
	                    "forward: \"https\": the guest port is not a port number (1..65535)");
	assert_int_equal(forward_spec_parse("0:443", &l, &g, &e), -1);
	assert_string_equal(e.msg,
	                    "forward: \"0:443\": the local port is not a port number (1..65535)");
	assert_int_equal(forward_spec_parse("443:70000", &l, &g, &e), -1);
	assert_int_equal(forward_spec_parse("1:2:3", &l, &g, &e), -1);
	assert_string_equal(e.msg, "forward: \"1:2:3\": give [LOCAL:]GUEST, e.g. 443 or 9443:443");
	assert_int_equal(forward_spec_parse(":443", &l, &g, &e), -1);
}

static void forward_lookup(void **state)
{
	char addr[64];
	unsigned p = 0;

	(void)state;
	assert_int_equal(
	    forward_find("127.0.0.1:2222->22 0.0.0.0:8443->443", 443, addr, sizeof(addr), &p), 1);
	assert_string_equal(addr, "0.0.0.0");
	assert_int_equal(p, 8443);
	assert_int_equal(
	    forward_find("127.0.0.1:2222->22 0.0.0.0:8443->443", 22, addr, sizeof(addr), &p), 1);
	assert_string_equal(addr, "127.0.0.1");
	assert_int_equal(p, 2222);
	assert_int_equal(forward_find("127.0.0.1:2222->22", 80, addr, sizeof(addr), &p), 0);
	assert_int_equal(forward_find("", 22, addr, sizeof(addr), &p), 0);
	assert_int_equal(forward_find("garbage->x 1:->22", 22, addr, sizeof(addr), &p), 0);
}

/* ssh_config: ProxyJump through the libvirt host with the URI's key and
 * known_hosts, strict; none for a local VM. */
static void ssh_config_proxyjump(void **state)
{
	char base[] = "/tmp/test_jump.XXXXXX";
	struct vm_paths p;
	struct vm_state s;
	struct err e = {"", 0};
	char *cfg = NULL;
	char *const rm[] = {"rm", "-rf", base, NULL};

	(void)state;
	assert_non_null(mkdtemp(base));
	memset(&p, 0, sizeof(p));
	memset(&s, 0, sizeof(s));
	snprintf(p.hostkey_pub, sizeof(p.hostkey_pub), "%s/hk.pub", base);
	snprintf(p.known_hosts, sizeof(p.known_hosts), "%s/known_hosts", base);
	snprintf(p.ssh_config, sizeof(p.ssh_config), "%s/ssh_config", base);
	snprintf(p.identity, sizeof(p.identity), "%s/id", base);
	assert_int_equal(write_file_atomic(p.hostkey_pub, "ssh-ed25519 AAAA x\n", 19, 0600, &e), 0);
	snprintf(s.uri, sizeof(s.uri),
	         "qemu+ssh://ada@lab:2200/system?keyfile=/k/id&known_hosts=/k/kh");
	snprintf(s.ssh_host, sizeof(s.ssh_host), "127.0.0.1");
	s.ssh_port = 2222;
	snprintf(s.login, sizeof(s.login), "ada");
	assert_int_equal(vm_write_ssh_files(&p, &s, "seat1", &e), 0);
	assert_int_equal(read_file(p.ssh_config, &cfg, NULL, &e), 0);
	assert_non_null(strstr(cfg, "  ProxyJump inception-jump-seat1\n"
	                            "Host inception-jump-seat1\n"
	                            "  HostName lab\n"
	                            "  Port 2200\n"
	                            "  User ada\n"
	                            "  IdentityFile \"/k/id\"\n"
	                            "  IdentitiesOnly yes\n"
	                            "  UserKnownHostsFile \"/k/kh\"\n"
	                            "  StrictHostKeyChecking yes\n"));
	free(cfg);
	snprintf(s.uri, sizeof(s.uri), "qemu:///system");
	assert_int_equal(vm_write_ssh_files(&p, &s, "seat1", &e), 0);
	assert_int_equal(read_file(p.ssh_config, &cfg, NULL, &e), 0);
	assert_null(strstr(cfg, "ProxyJump"));
	free(cfg);
	assert_int_equal(run_argv(rm, NULL, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(local_uris_have_no_jump),
	    cmocka_unit_test(ssh_uri_fields),
	    cmocka_unit_test(bad_uris),
	    cmocka_unit_test(forward_specs),
	    cmocka_unit_test(forward_lookup),
	    cmocka_unit_test(ssh_config_proxyjump),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
