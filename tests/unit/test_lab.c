/*
 * test_lab.c: the lab file (every error path with the exact message users
 * see), the seats' configurations, the port allocation (collisions between
 * seats, recorded ports, ports in use on the host, a real bind test), the
 * per-seat configuration file (read back by the configuration loader) and
 * the LAB.lock differences.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "lab.h"
#include "labfile.h"
#include "util.h"

static struct lab L;
static struct err E;

static int load(const char *yaml)
{
	err_clear(&E);
	return lab_load_buffer(&L, "LAB.yaml", yaml, strlen(yaml), &E);
}

#define EXPECT_ERR(yaml, want)                                                                     \
	do {                                                                                       \
		assert_int_equal(load(yaml), -1);                                                  \
		assert_string_equal(E.msg, (want));                                                \
		assert_int_equal(E.code, EXIT_USAGE);                                              \
	} while (0)

#define GOOD                                                                                       \
	"lab: ws\n"                                                                                \
	"forwards_from: 21000\n"                                                                   \
	"defaults:\n"                                                                              \
	"  image: trixie\n"                                                                        \
	"  memory: 1G\n"                                                                           \
	"  vm_only: true\n"                                                                        \
	"seats:\n"                                                                                 \
	"  - name: s1\n"                                                                           \
	"    login: alice\n"                                                                       \
	"  - name: s2\n"                                                                           \
	"    memory: 2G\n"                                                                         \
	"    vm_only: false\n"                                                                     \
	"    project: ../student\n"                                                                \
	"    ref: main\n"

static void test_valid(void **state)
{
	struct config c;

	(void)state;
	assert_int_equal(load(GOOD), 0);
	assert_string_equal(L.name, "ws");
	assert_int_equal(L.from, 21000);
	assert_int_equal(L.to, 21999);
	assert_int_equal(L.nseats, 2);
	assert_string_equal(L.seats[0].vm, "ws-s1");
	assert_string_equal(L.seats[0].login, "alice");
	assert_string_equal(L.seats[1].login, "s2"); /* the seat's name when none */
	assert_int_equal(lab_vm_only(&L, &L.seats[0]), 1);
	assert_int_equal(lab_vm_only(&L, &L.seats[1]), 0);
	assert_string_equal(lab_get(&L, &L.seats[1], LK_PROJECT), "../student");
	assert_null(lab_get(&L, &L.seats[0], LK_PROJECT));
	assert_int_equal(lab_find(&L, "s2"), 1);
	assert_int_equal(lab_find(&L, "s3"), -1);
	config_defaults(&c);
	assert_int_equal(lab_seat_config(&L, &L.seats[1], &c, &E), 0);
	assert_string_equal(c.vm_name, "ws-s2");
	assert_string_equal(c.login, "s2");
	assert_int_equal(c.memory, 2ULL << 30);
	assert_string_equal(c.image_build, "trixie");
	assert_null(c.image_url);
	config_free(&c);
	lab_free(&L);
}

static void test_errors(void **state)
{
	(void)state;
	EXPECT_ERR("lab: [x\n",
	           "LAB.yaml:2:1: YAML syntax error: did not find expected ',' or ']'");
	EXPECT_ERR("- a\n", "LAB.yaml: expected a mapping with lab: and seats:");
	EXPECT_ERR("lab: w\nseats: []\n", "LAB.yaml:2:8: seats: the list is empty (a lab needs at "
	                                  "least one seat)");
	EXPECT_ERR("seats:\n  - name: a\n    vm_only: true\n",
	           "LAB.yaml:1:1: lab: missing (name the lab: `lab: NAME`)");
	EXPECT_ERR("lab: Big\nseats: []\n",
	           "LAB.yaml:1:6: lab: \"Big\" is not a lab name ([a-z0-9-], 1-20 characters)");
	EXPECT_ERR("lab: w\n", "LAB.yaml:1:1: seats: missing (a lab needs a list of seats)");
	EXPECT_ERR("lab: w\nlabs: x\n", "LAB.yaml:2:1: labs: unknown key (did you mean lab?)");
	EXPECT_ERR("lab: w\nforwards_from: 80\n",
	           "LAB.yaml:2:16: forwards_from: \"80\" is not a port in 1024..65535");
	EXPECT_ERR("lab: w\nforwards_from: 30000\nforwards_to: 30000\n",
	           "LAB.yaml:3:14: forwards_to: 30000 is below forwards_from + 1 (30001)");
	EXPECT_ERR("lab: w\njobs: 0\nseats: []\n",
	           "LAB.yaml:2:7: jobs: expected a number in 1..64");
	EXPECT_ERR("lab: w\nlab: v\n", "LAB.yaml:2:1: (top level): duplicate key lab (first at "
	                               "line 1)");
	EXPECT_ERR("lab: w\ndefaults:\n  memroy: 1G\nseats: []\n",
	           "LAB.yaml:3:3: defaults.memroy: unknown key (did you mean memory?)");
	EXPECT_ERR("lab: w\ndefaults:\n  name: x\nseats: []\n",
	           "LAB.yaml:3:3: defaults.name: only a seat has its own name");
	EXPECT_ERR("lab: w\ndefaults: 3\nseats: []\n",
	           "LAB.yaml:2:11: defaults: expected a mapping of keys, got a scalar");
	EXPECT_ERR("lab: w\nseats: x\n", "LAB.yaml:2:8: seats: expected a list of seats, got a "
	                                 "scalar");
	EXPECT_ERR("lab: w\nseats:\n  - login: bob\n",
	           "LAB.yaml:3:5: seats[1]: no name (every seat needs `name:`)");
	EXPECT_ERR("lab: w\nseats:\n  - name: Bob\n",
	           "LAB.yaml:3:11: seats[1].name: \"Bob\" is not a seat name ([a-z0-9-], 1-24 "
	           "characters, not starting with -)");
	EXPECT_ERR(
	    "lab: w\nseats:\n  - name: a\n    vm_only: true\n  - name: a\n    vm_only: true\n",
	    "LAB.yaml:5:5: seats[2]: duplicate seat name \"a\" (also seats[1])");
	EXPECT_ERR("lab: w\nseats:\n  - name: a\n    login: Root\n",
	           "LAB.yaml:4:12: seats[1].login: \"Root\" is not a 42 login (1-32 characters: "
	           "lowercase letters, digits, '-', starting with a letter)");
	EXPECT_ERR(
	    "lab: w\nseats:\n  - name: a\n",
	    "LAB.yaml:3:5: seats[1]: no project (set project: DIR or URL, or vm_only: true)");
	EXPECT_ERR("lab: w\nseats:\n  - name: a\n    vm_only: maybe\n",
	           "LAB.yaml:4:14: seats[1].vm_only: \"maybe\" is not true or false");
	EXPECT_ERR("lab: w\nseats:\n  - name: a\n    vm_only: true\n    memory: 64M\n",
	           "LAB.yaml:5:13: seats[1].memory: 64M is out of range (512M..256G)");
	EXPECT_ERR("lab: w\ndefaults:\n  cpus: 100\nseats:\n  - name: a\n    vm_only: true\n",
	           "LAB.yaml:3:9: defaults.cpus: 100 is out of range (1..64)");
	EXPECT_ERR("lab: w\nseats:\n  - name: a\n    vm_only: true\n    network: bridge\n",
	           "LAB.yaml:5:14: seats[1].network: \"bridge\" is not one of user, nat");
	EXPECT_ERR("lab: w\nseats:\n  - name: a\n    vm_only: true\n    cpu: 2\n",
	           "LAB.yaml:5:5: seats[1].cpu: unknown key (did you mean cpus?)");
	EXPECT_ERR("lab: w\nseats:\n  - name: a\n    vm_only: true\n    memory: [1]\n",
	           "LAB.yaml:5:13: seats[1].memory: expected a value, got a list");
	EXPECT_ERR("lab: w\nforwards_from: 30000\nforwards_to: 30002\nseats:\n"
	           "  - name: a\n    vm_only: true\n  - name: b\n    vm_only: true\n",
	           "LAB.yaml: forwards_from: 2 seats need 4 ports, 30000..30002 has 3");
	EXPECT_ERR("lab: w\nseats:\n  - name: a\n    vm_only: true\n    image: trixie\n"
	           "    checksums: https://x.example/SHA512SUMS\n",
	           "LAB.yaml:6:16: seats[1].checksums: checksums: only with an image url");
}

/* busy(): the ports listed in arg (0-terminated) are taken on the "host" */
static int fake_busy(unsigned port, void *arg)
{
	const unsigned *p;

	for (p = arg; *p; p++)
		if (*p == port)
			return 1;
	return 0;
}

static void test_ports_fresh(void **state)
{
	struct lab_ports p[3];
	unsigned busy[] = {20001, 20004, 0};

	(void)state;
	memset(p, 0, sizeof(p));
	assert_int_equal(lab_ports_assign(p, 3, 20000, 20999, fake_busy, busy, &E), 0);
	assert_int_equal(p[0].ssh, 20000);
	assert_int_equal(p[0].https, 20002); /* 20001 is in use on the host */
	assert_int_equal(p[1].ssh, 20003);
	assert_int_equal(p[1].https, 20005);
	assert_int_equal(p[2].ssh, 20006);
	assert_int_equal(p[2].https, 20007);
}

static void test_ports_recorded(void **state)
{
	/* seat 0's VM exists: it keeps its ports even though they are "busy"
	 * (its own qemu holds them); seat 1 recorded a port another seat
	 * owns; seat 2 recorded one the host took meanwhile */
	struct lab_ports p[3] = {{20010, 20011, 1}, {20011, 20020, 0}, {20030, 20031, 0}};
	unsigned busy[] = {20010, 20011, 20030, 0};

	(void)state;
	assert_int_equal(lab_ports_assign(p, 3, 20000, 20999, fake_busy, busy, &E), 0);
	assert_int_equal(p[0].ssh, 20010);
	assert_int_equal(p[0].https, 20011);
	assert_int_equal(p[1].ssh, 20000); /* 20011 is seat 0's: a new one */
	assert_int_equal(p[1].https, 20020);
	assert_int_equal(p[2].ssh, 20001); /* 20030 is busy on the host */
	assert_int_equal(p[2].https, 20031);
}

static void test_ports_collision_kept(void **state)
{
	/* two existing VMs recorded the same port (a hand-edited state): the
	 * second gets a new one, never a duplicate */
	struct lab_ports p[2] = {{20000, 20001, 1}, {20001, 20002, 1}};
	unsigned busy[] = {0};

	(void)state;
	assert_int_equal(lab_ports_assign(p, 2, 20000, 20999, fake_busy, busy, &E), 0);
	assert_int_equal(p[0].ssh, 20000);
	assert_int_equal(p[0].https, 20001);
	assert_int_not_equal(p[1].ssh, 20001);
	assert_int_not_equal(p[1].ssh, 20000);
	assert_int_equal(p[1].https, 20002);
}

static void test_ports_exhausted(void **state)
{
	struct lab_ports p[2];
	unsigned busy[] = {20001, 0};

	(void)state;
	memset(p, 0, sizeof(p));
	assert_int_equal(lab_ports_assign(p, 2, 20000, 20003, fake_busy, busy, &E), -1);
	assert_string_equal(E.msg, "no free port left in 20000..20003 (forwards_from/forwards_to)");
}

static void test_ports_real_bind(void **state)
{
	struct sockaddr_in a;
	socklen_t al = sizeof(a);
	struct lab_ports p[1];
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	unsigned taken;

	(void)state;
	assert_true(fd >= 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 1), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
	taken = ntohs(a.sin_port);
	assert_int_equal(lab_port_busy(taken, NULL), 1);
	memset(p, 0, sizeof(p));
	if (taken < 65534) {
		assert_int_equal(lab_ports_assign(p, 1, taken, taken + 2, lab_port_busy, NULL, &E),
		                 0);
		assert_int_not_equal(p[0].ssh, taken);
		assert_int_not_equal(p[0].https, taken);
	}
	close(fd);
	assert_int_equal(lab_port_busy(taken, NULL), 0);
}

static void test_seat_file_roundtrip(void **state)
{
	char path[] = "/tmp/test_lab_cfg.XXXXXX", *text = NULL;
	struct config c, back;
	size_t len;
	int fd;

	(void)state;
	assert_int_equal(load(GOOD), 0);
	config_defaults(&c);
	assert_int_equal(lab_seat_config(&L, &L.seats[1], &c, &E), 0);
	assert_int_equal(config_set(&c, "network.forwards", "127.0.0.1:21000:22", "t", &E), 0);
	assert_int_equal(config_set(&c, "network.forwards", "127.0.0.1:21001:443", "t", &E), 0);
	assert_int_equal(config_set(&c, "push.dir", "/srv/a b: #d {x} [y], &z", "t", &E), 0);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(lab_write_config(&c, path, &E), 0);
	assert_int_equal(read_file(path, &text, &len, &E), 0);
	config_defaults(&back);
	assert_int_equal(config_load_buffer(&back, path, text, len, &E), 0);
	assert_string_equal(back.vm_name, "ws-s2");
	assert_string_equal(back.login, "s2");
	assert_int_equal(back.memory, c.memory);
	assert_string_equal(back.image_build, "trixie");
	assert_null(back.image_url);
	assert_string_equal(back.remote_dir, "/srv/a b: #d {x} [y], &z");
	assert_int_equal(back.nforwards, 2);
	assert_int_equal(back.forwards[1].host_port, 21001);
	assert_int_equal(back.forwards[1].guest_port, 443);
	free(text);
	unlink(path);
	config_free(&c);
	config_free(&back);
	lab_free(&L);
}

static void test_lock_diff(void **state)
{
	struct lab_ctx x;
	struct lab_seat_run r[2];
	char *lock = NULL, diff[512];

	(void)state;
	assert_int_equal(load(GOOD), 0);
	memset(&x, 0, sizeof(x));
	memset(r, 0, sizeof(r));
	x.l = &L;
	x.r = r;
	r[0].seat = &L.seats[0];
	r[0].vm_only = 1;
	r[1].seat = &L.seats[1];
	snprintf(r[0].image, sizeof(r[0].image), "build-trixie-aa.qcow2");
	snprintf(r[0].image_sha, sizeof(r[0].image_sha), "11");
	snprintf(r[0].golden, sizeof(r[0].golden), "golden-trixie-ab.qcow2");
	snprintf(r[0].golden_sha, sizeof(r[0].golden_sha), "g1");
	snprintf(r[0].golden_pkgs, sizeof(r[0].golden_pkgs), "312:p1");
	r[1] = r[0];
	r[1].seat = &L.seats[1];
	r[1].vm_only = 0;
	snprintf(r[1].base, sizeof(r[1].base), "sha256:bb");
	snprintf(r[1].commit, sizeof(r[1].commit), "c0ffee");
	assert_int_equal(lab_lock_format(&x, &lock, &E), 0);
	assert_non_null(strstr(lock, "seat.s2.commit: c0ffee\n"));
	assert_non_null(strstr(lock, "seat.s1.base_image: none\n"));
	assert_non_null(strstr(lock, "seat.s1.golden: golden-trixie-ab.qcow2\n"
	                             "seat.s1.golden_sha256: g1\n"
	                             "seat.s1.golden_packages: 312:p1\n"));
	lab_lock_diff(&x, 0, lock, diff, sizeof(diff));
	assert_string_equal(diff, "");
	lab_lock_diff(&x, 1, lock, diff, sizeof(diff));
	assert_string_equal(diff, "");
	/* the student pushed a commit, and the host's base image changed */
	snprintf(r[1].commit, sizeof(r[1].commit), "deadbeef");
	snprintf(r[1].base, sizeof(r[1].base), "sha256:cc");
	lab_lock_diff(&x, 1, lock, diff, sizeof(diff));
	assert_string_equal(diff, "base_image: LAB.lock has sha256:bb, now sha256:cc; commit: "
	                          "LAB.lock has c0ffee, now deadbeef");
	/* another image for every seat */
	snprintf(r[0].image_sha, sizeof(r[0].image_sha), "22");
	lab_lock_diff(&x, 0, lock, diff, sizeof(diff));
	assert_string_equal(diff, "image_sha256: LAB.lock has 11, now 22");
	/* the golden layer rebuilt from a mirror that moved on: other packages */
	snprintf(r[0].image_sha, sizeof(r[0].image_sha), "11");
	snprintf(r[0].golden_sha, sizeof(r[0].golden_sha), "g2");
	snprintf(r[0].golden_pkgs, sizeof(r[0].golden_pkgs), "313:p2");
	lab_lock_diff(&x, 0, lock, diff, sizeof(diff));
	assert_string_equal(diff,
	                    "golden_sha256: LAB.lock has g1, now g2; golden_packages: LAB.lock "
	                    "has 312:p1, now 313:p2");
	lab_lock_diff(&x, 0, "lab: ws\n", diff, sizeof(diff));
	assert_string_equal(diff, "not in LAB.lock");
	free(lock);
	lab_free(&L);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_ports_fresh),
	    cmocka_unit_test(test_ports_recorded),
	    cmocka_unit_test(test_ports_collision_kept),
	    cmocka_unit_test(test_ports_exhausted),
	    cmocka_unit_test(test_ports_real_bind),
	    cmocka_unit_test(test_seat_file_roundtrip),
	    cmocka_unit_test(test_lock_diff),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
