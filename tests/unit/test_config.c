/*
 * test_config.c: the configuration loader, one test per error path, each
 * checking the exact message users see, plus precedence and origins.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

static struct config C;
static struct err E;

static int setup(void **state)
{
	(void)state;
	config_defaults(&C);
	err_clear(&E);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	config_free(&C);
	return 0;
}

static int load(const char *yaml)
{
	return config_load_buffer(&C, "t.yaml", yaml, strlen(yaml), &E);
}

#define EXPECT_ERR(yaml, want)                                                                     \
	do {                                                                                       \
		assert_int_equal(load(yaml), -1);                                                  \
		assert_string_equal(E.msg, (want));                                                \
	} while (0)

static void test_full_valid_file(void **state)
{
	(void)state;
	assert_int_equal(
	    load("login: jdoe\n"
	         "vm:\n  name: eval-1\n  cpus: 4\n  memory: 6G\n  disk: 30GiB\n"
	         "image:\n  build: trixie\n"
	         "libvirt:\n  uri: qemu+ssh://lab7/system\n"
	         "network:\n  mode: user\n  forwards: [\"2200:22\", \"0.0.0.0:8443:443\"]\n"
	         "accel: tcg\n"
	         "apt:\n  mirror: http://mirror.example/debian\n  proxy: http://proxy:3128\n"
	         "docker:\n  source: docker\n"
	         "push:\n  dir: /srv/inception\n"
	         "timeouts:\n  ssh: 120\n  cloud_init: 300\n  agent: 1800\n"),
	    0);
	assert_string_equal(C.login, "jdoe");
	assert_string_equal(C.vm_name, "eval-1");
	assert_int_equal(C.cpus, 4);
	assert_true(C.memory == 6ULL << 30);
	assert_true(C.disk == 30ULL << 30);
	assert_string_equal(C.image_build, "trixie");
	assert_null(C.image_url);
	assert_string_equal(C.libvirt_uri, "qemu+ssh://lab7/system");
	assert_int_equal(C.nforwards, 2);
	assert_string_equal(C.forwards[0].addr, "127.0.0.1");
	assert_int_equal(C.forwards[0].host_port, 2200);
	assert_int_equal(C.forwards[0].guest_port, 22);
	assert_string_equal(C.forwards[1].addr, "0.0.0.0");
	assert_int_equal(C.accel, ACCEL_TCG);
	assert_int_equal(C.docker_source, DOCKER_DOCKER);
	assert_string_equal(C.apt_proxy, "http://proxy:3128");
	assert_string_equal(C.remote_dir, "/srv/inception");
	assert_int_equal(C.ssh_timeout, 120);
	assert_int_equal(C.cloud_init_timeout, 300);
	assert_int_equal(C.agent_timeout, 1800);
	assert_string_equal(config_origin(&C, "vm.cpus"), "t.yaml:4:9");
	assert_int_equal(config_validate(&C, &E), 0);
}

static void test_defaults_valid(void **state)
{
	char buf[256];

	(void)state;
	assert_int_equal(config_validate(&C, &E), 0);
	assert_string_equal(config_origin(&C, "vm.memory"), "default");
	config_format(&C, "vm.memory", buf, sizeof(buf));
	assert_string_equal(buf, "4G");
	config_format(&C, "network.forwards", buf, sizeof(buf));
	assert_string_equal(buf, "127.0.0.1:2222:22,127.0.0.1:8443:443");
}

static void test_empty_file_ok(void **state)
{
	(void)state;
	assert_int_equal(load(""), 0);
	assert_int_equal(load("# only a comment\n"), 0);
	assert_int_equal(load("---\n"), 0);
	assert_int_equal(C.cpus, 2);
}

static void test_unknown_key_did_you_mean(void **state)
{
	(void)state;
	EXPECT_ERR("vm:\n  memroy: 2G\n",
	           "t.yaml:2:3: vm.memroy: unknown key (did you mean vm.memory?)");
}

static void test_unknown_key_top(void **state)
{
	(void)state;
	EXPECT_ERR("logn: bob\n", "t.yaml:1:1: logn: unknown key (did you mean login?)");
}

static void test_unknown_key_no_hint(void **state)
{
	(void)state;
	EXPECT_ERR("colour: blue\n",
	           "t.yaml:1:1: colour: unknown key (see `inception config --keys`)");
}

static void test_wrong_type_int(void **state)
{
	(void)state;
	EXPECT_ERR("vm:\n  cpus: two\n", "t.yaml:2:9: vm.cpus: expected an integer, got \"two\"");
}

static void test_wrong_type_list_for_scalar(void **state)
{
	(void)state;
	EXPECT_ERR("vm:\n  cpus: [1, 2]\n", "t.yaml:2:9: vm.cpus: expected a value, got a list");
}

static void test_wrong_type_section(void **state)
{
	(void)state;
	EXPECT_ERR("vm: big\n", "t.yaml:1:5: vm: expected a mapping of vm.* keys, got a scalar");
}

static void test_wrong_type_forwards(void **state)
{
	(void)state;
	EXPECT_ERR("network:\n  forwards: 2222:22\n",
	           "t.yaml:2:13: network.forwards: expected a list of [ADDR:]HOSTPORT:GUESTPORT, "
	           "got a scalar");
}

static void test_top_level_not_mapping(void **state)
{
	(void)state;
	EXPECT_ERR("- a\n- b\n", "t.yaml:1:1: (top level): expected a mapping of keys, got a list");
}

static void test_cpus_out_of_range(void **state)
{
	(void)state;
	EXPECT_ERR("vm:\n  cpus: 0\n", "t.yaml:2:9: vm.cpus: 0 is out of range (1..64)");
}

static void test_memory_too_small(void **state)
{
	(void)state;
	EXPECT_ERR("vm:\n  memory: 64M\n",
	           "t.yaml:2:11: vm.memory: 64M is out of range (512M..256G)");
}

static void test_memory_bad_unit(void **state)
{
	(void)state;
	EXPECT_ERR("vm:\n  memory: 3Q\n", "t.yaml:2:11: vm.memory: invalid size \"3Q\" (a number "
	                                  "with an optional K, M, G or T suffix, e.g. 2G)");
}

static void test_disk_too_big(void **state)
{
	(void)state;
	EXPECT_ERR("vm:\n  disk: 3T\n", "t.yaml:2:9: vm.disk: 3T is out of range (4G..2T)");
}

static void test_size_units(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(parse_size("2G", &v, &E), 0);
	assert_true(v == 2ULL << 30);
	assert_int_equal(parse_size("1.5g", &v, &E), 0);
	assert_true(v == 3ULL << 29);
	assert_int_equal(parse_size("512MiB", &v, &E), 0);
	assert_true(v == 512ULL << 20);
	assert_int_equal(parse_size("4096", &v, &E), 0);
	assert_true(v == 4096);
	assert_int_equal(parse_size("99999999999999999999999G", &v, &E), -1);
	assert_int_equal(parse_size("", &v, &E), -1);
	assert_int_equal(parse_size("G", &v, &E), -1);
}

static void test_login_uppercase(void **state)
{
	(void)state;
	EXPECT_ERR("login: JDoe\n",
	           "t.yaml:1:8: login: \"JDoe\" is not a 42 login (1-32 characters: lowercase "
	           "letters, digits, '-', starting with a letter)");
}

static void test_login_too_long(void **state)
{
	(void)state;
	EXPECT_ERR("login: abcdefghijklmnopqrstuvwxyz0123456\n",
	           "t.yaml:1:8: login: \"abcdefghijklmnopqrstuvwxyz0123456\" is not a 42 login "
	           "(1-32 characters: lowercase letters, digits, '-', starting with a letter)");
}

static void test_login_underscore(void **state)
{
	(void)state;
	EXPECT_ERR("login: j_doe\n",
	           "t.yaml:1:8: login: \"j_doe\" is not a 42 login (1-32 characters: lowercase "
	           "letters, digits, '-', starting with a letter)");
}

static void test_url_bad_scheme(void **state)
{
	(void)state;
	EXPECT_ERR("image:\n  url: ftp://x/y.qcow2\n",
	           "t.yaml:2:8: image.url: \"ftp://x/y.qcow2\" is not a valid URL (use http://, "
	           "https:// or file:///)");
}

static void test_url_no_host(void **state)
{
	(void)state;
	EXPECT_ERR("apt:\n  mirror: http:///debian\n",
	           "t.yaml:2:11: apt.mirror: \"http:///debian\" is not a valid URL (no host)");
}

static void test_url_space(void **state)
{
	(void)state;
	EXPECT_ERR("apt:\n  proxy: \"http://proxy/a b\"\n",
	           "t.yaml:2:10: apt.proxy: \"http://proxy/a b\" is not a valid URL (space or "
	           "control character)");
}

static void test_duplicate_key(void **state)
{
	(void)state;
	EXPECT_ERR("vm:\n  cpus: 2\n  cpus: 4\n",
	           "t.yaml:3:3: vm.cpus: duplicate key (first set at line 2)");
}

static void test_duplicate_section(void **state)
{
	(void)state;
	EXPECT_ERR("vm:\n  cpus: 2\nvm:\n  disk: 8G\n",
	           "t.yaml:3:1: vm: duplicate key (first set at line 1)");
}

static void test_yaml_syntax_error(void **state)
{
	(void)state;
	EXPECT_ERR("vm:\n  cpus: [1, 2\n", "t.yaml:3:1: YAML syntax error: did not find expected "
	                                   "',' or ']' while parsing a flow sequence");
}

static void test_yaml_tab_indent(void **state)
{
	(void)state;
	assert_int_equal(load("vm:\n\tcpus: 2\n"), -1);
	assert_non_null(strstr(E.msg, "t.yaml:2:1: YAML syntax error: "));
}

static void test_two_documents(void **state)
{
	(void)state;
	EXPECT_ERR("login: a\n---\nlogin: b\n", "t.yaml:2:1: only one YAML document is allowed");
}

static void test_enum_bad(void **state)
{
	(void)state;
	EXPECT_ERR("accel: fast\n", "t.yaml:1:8: accel: \"fast\" is not one of auto, kvm, tcg");
	teardown(NULL);
	setup(NULL);
	EXPECT_ERR("network:\n  mode: bridge\n",
	           "t.yaml:2:9: network.mode: \"bridge\" is not one of user, nat");
	teardown(NULL);
	setup(NULL);
	EXPECT_ERR("docker:\n  source: snap\n",
	           "t.yaml:2:11: docker.source: \"snap\" is not one of debian, docker");
}

static void test_forward_bad(void **state)
{
	(void)state;
	EXPECT_ERR("network:\n  forwards: [\"2222:70000\"]\n",
	           "t.yaml:2:14: network.forwards: \"2222:70000\" is not a port forward "
	           "([ADDR:]HOSTPORT:GUESTPORT, ports 1-65535)");
}

static void test_forward_specs(void **state)
{
	struct forward f;

	(void)state;
	assert_int_equal(parse_forward("8443:443", &f, &E), 0);
	assert_string_equal(f.addr, "127.0.0.1");
	assert_int_equal(f.host_port, 8443);
	assert_int_equal(f.guest_port, 443);
	assert_int_equal(parse_forward("[::1]:2222:22", &f, &E), 0);
	assert_string_equal(f.addr, "::1");
	assert_int_equal(parse_forward("0:22", &f, &E), -1);
	assert_int_equal(parse_forward("22", &f, &E), -1);
	assert_int_equal(parse_forward(":22:22", &f, &E), -1);
	assert_int_equal(parse_forward("host.name:22:22", &f, &E), -1);
	assert_int_equal(parse_forward("a:b", &f, &E), -1);
}

static void test_image_url_and_build_exclusive(void **state)
{
	(void)state;
	EXPECT_ERR(
	    "image:\n  url: https://x/a.qcow2\n  build: trixie\n",
	    "t.yaml:3:3: image.build: image.url and image.build cannot both be set (choose one)");
}

static void test_suite_bad(void **state)
{
	(void)state;
	EXPECT_ERR(
	    "image:\n  build: Trixie13\n",
	    "t.yaml:2:10: image.build: \"Trixie13\" is not a Debian suite name (e.g. trixie)");
}

static void test_uri_bad(void **state)
{
	(void)state;
	EXPECT_ERR("libvirt:\n  uri: system\n",
	           "t.yaml:2:8: libvirt.uri: \"system\" is not a libvirt URI (e.g. qemu:///system, "
	           "qemu+ssh://host/system)");
}

static void test_vm_name_bad(void **state)
{
	(void)state;
	EXPECT_ERR("vm:\n  name: ../etc\n",
	           "t.yaml:2:9: vm.name: \"../etc\" is not a valid VM name (1-48 characters: "
	           "letters, digits, '-', '_', '.', starting with a letter or digit)");
}

static void test_push_dir_relative(void **state)
{
	(void)state;
	EXPECT_ERR("push:\n  dir: inception\n",
	           "t.yaml:2:8: push.dir: \"inception\" is not an absolute path");
}

static void test_bool(void **state)
{
	char buf[16];

	(void)state;
	assert_int_equal(C.map_domain, 0);
	assert_string_equal(C.hosts_file, "/etc/hosts");
	assert_int_equal(load("host:\n  map_domain: yes\n  hosts_file: /etc/hostname\n"), 0);
	assert_int_equal(C.map_domain, 1);
	assert_string_equal(C.hosts_file, "/etc/hostname");
	assert_int_equal(config_format(&C, "host.map_domain", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "true");
	assert_int_equal(config_set(&C, "host.map_domain", "False", "--map-domain", &E), 0);
	assert_int_equal(C.map_domain, 0);
	EXPECT_ERR("host:\n  map_domain: 1\n",
	           "t.yaml:2:15: host.map_domain: expected true or false, got \"1\"");
}

static void test_login_leading_dash(void **state)
{
	(void)state;
	EXPECT_ERR("login: -oroot\n",
	           "t.yaml:1:8: login: \"-oroot\" is not a 42 login (1-32 characters: lowercase "
	           "letters, digits, '-', starting with a letter)");
	teardown(NULL);
	setup(NULL);
	EXPECT_ERR("login: 42jdoe\n",
	           "t.yaml:1:8: login: \"42jdoe\" is not a 42 login (1-32 characters: lowercase "
	           "letters, digits, '-', starting with a letter)");
	teardown(NULL);
	setup(NULL);
	assert_int_equal(load("login: j-doe42\n"), 0);
}

static void test_uri_transport_refused(void **state)
{
	(void)state;
	EXPECT_ERR(
	    "libvirt:\n  uri: qemu+ext:///system?command=/tmp/x\n",
	    "t.yaml:2:8: libvirt.uri: \"qemu+ext:///system?command=/tmp/x\": transport qemu+ext is "
	    "not supported (use qemu, qemu+ssh, qemu+libssh, qemu+tls, qemu+unix or test)");
	teardown(NULL);
	setup(NULL);
	EXPECT_ERR("libvirt:\n  uri: xen:///system\n",
	           "t.yaml:2:8: libvirt.uri: \"xen:///system\": transport xen is not supported "
	           "(use qemu, qemu+ssh, qemu+libssh, qemu+tls, qemu+unix or test)");
	teardown(NULL);
	setup(NULL);
	EXPECT_ERR("libvirt:\n  uri: qemu+sshx://h/system\n",
	           "t.yaml:2:8: libvirt.uri: \"qemu+sshx://h/system\": transport qemu+sshx is not "
	           "supported (use qemu, qemu+ssh, qemu+libssh, qemu+tls, qemu+unix or test)");
	teardown(NULL);
	setup(NULL);
	assert_int_equal(
	    config_set(&C, "libvirt.uri", "qemu+ext:///system?command=/tmp/x", "--uri", &E), -1);
	assert_string_equal(
	    E.msg, "--uri: \"qemu+ext:///system?command=/tmp/x\": transport qemu+ext is not "
	           "supported (use qemu, qemu+ssh, qemu+libssh, qemu+tls, qemu+unix or test)");
	for (const char *const *u =
	         (const char *const[]){"qemu:///system", "qemu+ssh://u@h/system",
	                               "qemu+libssh://h/system", "qemu+tls://h/system",
	                               "qemu+unix:///session", "test:///default", NULL};
	     *u; u++)
		assert_int_equal(config_set(&C, "libvirt.uri", *u, "--uri", &E), 0);
}

static void test_apt_url_characters(void **state)
{
	(void)state;
	EXPECT_ERR(
	    "apt:\n  proxy: 'http://p:3128/\";Dpkg::Pre-Invoke{\"x\"}'\n",
	    "t.yaml:2:10: apt.proxy: \"http://p:3128/\";Dpkg::Pre-Invoke{\"x\"}\" is not a valid "
	    "apt URL ('\"' is not allowed: letters, digits, %XX and -._~:/?#[]@!$&'()*+,= only)");
	teardown(NULL);
	setup(NULL);
	EXPECT_ERR("apt:\n  mirror: http://m/debian;x\n",
	           "t.yaml:2:11: apt.mirror: \"http://m/debian;x\" is not a valid apt URL (';' is "
	           "not allowed: letters, digits, %XX and -._~:/?#[]@!$&'()*+,= only)");
	teardown(NULL);
	setup(NULL);
	EXPECT_ERR("apt:\n  mirror: http://m/{debian}\n",
	           "t.yaml:2:11: apt.mirror: \"http://m/{debian}\" is not a valid apt URL ('{' is "
	           "not allowed: letters, digits, %XX and -._~:/?#[]@!$&'()*+,= only)");
	teardown(NULL);
	setup(NULL);
	EXPECT_ERR("apt:\n  mirror: http://m/deb%zz\n",
	           "t.yaml:2:11: apt.mirror: \"http://m/deb%zz\" is not a valid apt URL ('%' is "
	           "not allowed: letters, digits, %XX and -._~:/?#[]@!$&'()*+,= only)");
	teardown(NULL);
	setup(NULL);
	EXPECT_ERR("apt:\n  proxy: \"http://p/\\tx\"\n",
	           "t.yaml:2:10: apt.proxy: \"http://p/\tx\" is not a valid URL (space or control "
	           "character)");
	teardown(NULL);
	setup(NULL);
	assert_int_equal(load("apt:\n  proxy: http://user:p%40ss@[::1]:3128/\n"
	                      "  mirror: https://deb.example.org/debian/~x_y-z.1?a=b&c=d\n"),
	                 0);
	/* image URLs keep the general URL rules: ';' is fine there */
	assert_int_equal(load("image:\n  url: https://x/a;b.qcow2\n"), 0);
}

static void test_forward_address_inet_pton(void **state)
{
	(void)state;
	EXPECT_ERR("network:\n  forwards: [\"abc:2222:22\"]\n",
	           "t.yaml:2:14: network.forwards: \"abc:2222:22\" is not a port forward (\"abc\" "
	           "is not an IPv4 or IPv6 address)");
	teardown(NULL);
	setup(NULL);
	EXPECT_ERR("network:\n  forwards: [\"127.0.0.256:2222:22\"]\n",
	           "t.yaml:2:14: network.forwards: \"127.0.0.256:2222:22\" is not a port forward "
	           "(\"127.0.0.256\" is not an IPv4 or IPv6 address)");
	teardown(NULL);
	setup(NULL);
	EXPECT_ERR("network:\n  forwards: [\"[fe::1::2]:2222:22\"]\n",
	           "t.yaml:2:14: network.forwards: \"[fe::1::2]:2222:22\" is not a port forward "
	           "(\"fe::1::2\" is not an IPv4 or IPv6 address)");
}

static void test_hosts_file_must_exist(void **state)
{
	char dir[] = "/tmp/inception-cfg-XXXXXX", file[64], link[64], msg[256];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/hosts", dir);
	snprintf(link, sizeof(link), "%s/link", dir);
	assert_int_equal(config_set(&C, "host.hosts_file", file, "--hosts-file", &E), -1);
	snprintf(msg, sizeof(msg),
	         "--hosts-file: \"%s\": No such file or directory (an existing file is needed)",
	         file);
	assert_string_equal(E.msg, msg);
	assert_int_equal(config_set(&C, "host.hosts_file", dir, "--hosts-file", &E), -1);
	snprintf(msg, sizeof(msg),
	         "--hosts-file: \"%s\" is not a regular file (nor a symlink to one)", dir);
	assert_string_equal(E.msg, msg);
	/* a symlink to a directory is refused, a symlink to a file accepted */
	assert_int_equal(symlink(dir, link), 0);
	assert_int_equal(config_set(&C, "host.hosts_file", link, "--hosts-file", &E), -1);
	snprintf(msg, sizeof(msg),
	         "--hosts-file: \"%s\" is not a regular file (nor a symlink to one)", link);
	assert_string_equal(E.msg, msg);
	assert_int_equal(unlink(link), 0);
	{
		FILE *f = fopen(file, "w");

		assert_non_null(f);
		fclose(f);
	}
	assert_int_equal(symlink(file, link), 0);
	assert_int_equal(config_set(&C, "host.hosts_file", link, "--hosts-file", &E), 0);
	assert_int_equal(config_set(&C, "host.hosts_file", file, "--hosts-file", &E), 0);
	unlink(link);
	unlink(file);
	rmdir(dir);
	EXPECT_ERR("host:\n  hosts_file: /nonexistent/hosts\n",
	           "t.yaml:2:15: host.hosts_file: \"/nonexistent/hosts\": No such file or "
	           "directory (an existing file is needed)");
}

static void test_validate_needs_ssh_forward(void **state)
{
	(void)state;
	assert_int_equal(load("network:\n  forwards: [\"8443:443\"]\n"), 0);
	assert_int_equal(config_validate(&C, &E), -1);
	assert_string_equal(E.msg, "network.forwards (t.yaml:2:13): user mode needs a forward to "
	                           "guest port 22 (e.g. 2222:22)");
}

static void test_validate_duplicate_host_port(void **state)
{
	(void)state;
	assert_int_equal(load("network:\n  forwards: [\"2222:22\", \"2222:443\"]\n"), 0);
	assert_int_equal(config_validate(&C, &E), -1);
	assert_string_equal(E.msg,
	                    "network.forwards (t.yaml:2:13): host port 2222 is forwarded twice");
}

static void test_precedence(void **state)
{
	char *env[] = {"INCEPTION_VM_CPUS=6", "INCEPTION_LOGIN=envlogin",
	               "INCEPTION_NETWORK_FORWARDS=2200:22,8000:80", "OTHER=1", NULL};

	(void)state;
	assert_int_equal(load("login: filelogin\nvm:\n  cpus: 3\n  memory: 2G\n"), 0);
	assert_int_equal(config_load_env(&C, env, &E), 0);
	assert_int_equal(config_set(&C, "login", "flaglogin", "--login", &E), 0);
	assert_string_equal(C.login, "flaglogin");
	assert_string_equal(config_origin(&C, "login"), "--login");
	assert_int_equal(C.cpus, 6);
	assert_string_equal(config_origin(&C, "vm.cpus"), "environment INCEPTION_VM_CPUS");
	assert_true(C.memory == 2ULL << 30);
	assert_string_equal(config_origin(&C, "vm.memory"), "t.yaml:4:11");
	assert_int_equal(C.nforwards, 2);
	assert_int_equal(C.forwards[1].host_port, 8000);
	assert_string_equal(config_origin(&C, "vm.disk"), "default");
}

static void test_env_error(void **state)
{
	char *env[] = {"INCEPTION_VM_MEMORY=lots", NULL};

	(void)state;
	assert_int_equal(config_load_env(&C, env, &E), -1);
	assert_string_equal(E.msg,
	                    "environment INCEPTION_VM_MEMORY: vm.memory: invalid size \"lots\" (a "
	                    "number with an optional K, M, G or T suffix, e.g. 2G)");
}

static void test_flag_error_and_repeat(void **state)
{
	(void)state;
	assert_int_equal(config_set(&C, "vm.cpus", "100", "--cpus", &E), -1);
	assert_string_equal(E.msg, "--cpus: 100 is out of range (1..64)");
	assert_int_equal(config_set(&C, "network.forwards", "2201:22", "--forward", &E), 0);
	assert_int_equal(config_set(&C, "network.forwards", "8444:443", "--forward", &E), 0);
	assert_int_equal(C.nforwards, 2);
	assert_int_equal(C.forwards[0].host_port, 2201);
	assert_int_equal(C.forwards[1].host_port, 8444);
	assert_int_equal(config_set(&C, "vm.colour", "x", "--colour", &E), -1);
}

static void test_build_overrides_default_url(void **state)
{
	(void)state;
	assert_non_null(C.image_url);
	assert_int_equal(load("image:\n  build: trixie\n"), 0);
	assert_null(C.image_url);
	assert_null(C.image_checksums);
	assert_int_equal(config_validate(&C, &E), 0);
	assert_int_equal(config_set(&C, "image.url", "https://h/x.qcow2", "--image-url", &E), 0);
	assert_null(C.image_build);
	assert_int_equal(config_validate(&C, &E), -1);
	assert_string_equal(
	    E.msg, "image.checksums: required with image.url (--image-url: https://h/x.qcow2)");
}

static void test_missing_file(void **state)
{
	(void)state;
	assert_int_equal(config_load_file(&C, "/nonexistent/inception.yaml", &E), -1);
	assert_string_equal(
	    E.msg, "config file (-c): open /nonexistent/inception.yaml: No such file or directory");
}

static void test_nul_in_value(void **state)
{
	static const char yaml[] = "login: \"a\\0b\"\n";

	(void)state;
	assert_int_equal(config_load_buffer(&C, "t.yaml", yaml, sizeof(yaml) - 1, &E), -1);
	assert_string_equal(E.msg, "t.yaml:1:8: login: value contains a NUL byte");
}

static void test_non_scalar_key(void **state)
{
	(void)state;
	EXPECT_ERR("? [a, b]\n: 1\n",
	           "t.yaml:1:3: (top level): keys must be plain names, got a list");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	    T(test_full_valid_file),
	    T(test_defaults_valid),
	    T(test_empty_file_ok),
	    T(test_unknown_key_did_you_mean),
	    T(test_unknown_key_top),
	    T(test_unknown_key_no_hint),
	    T(test_wrong_type_int),
	    T(test_wrong_type_list_for_scalar),
	    T(test_wrong_type_section),
	    T(test_wrong_type_forwards),
	    T(test_top_level_not_mapping),
	    T(test_cpus_out_of_range),
	    T(test_memory_too_small),
	    T(test_memory_bad_unit),
	    T(test_disk_too_big),
	    T(test_size_units),
	    T(test_login_uppercase),
	    T(test_login_too_long),
	    T(test_login_underscore),
	    T(test_url_bad_scheme),
	    T(test_url_no_host),
	    T(test_url_space),
	    T(test_duplicate_key),
	    T(test_duplicate_section),
	    T(test_yaml_syntax_error),
	    T(test_yaml_tab_indent),
	    T(test_two_documents),
	    T(test_enum_bad),
	    T(test_forward_bad),
	    T(test_forward_specs),
	    T(test_image_url_and_build_exclusive),
	    T(test_suite_bad),
	    T(test_uri_bad),
	    T(test_vm_name_bad),
	    T(test_push_dir_relative),
	    T(test_bool),
	    T(test_validate_needs_ssh_forward),
	    T(test_login_leading_dash),
	    T(test_uri_transport_refused),
	    T(test_apt_url_characters),
	    T(test_forward_address_inet_pton),
	    T(test_hosts_file_must_exist),
	    T(test_validate_duplicate_host_port),
	    T(test_precedence),
	    T(test_env_error),
	    T(test_flag_error_and_repeat),
	    T(test_build_overrides_default_url),
	    T(test_missing_file),
	    T(test_nul_in_value),
	    T(test_non_scalar_key),
	};
	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
