/*
 * test_golden.c: the golden layer's and the Docker cache's keys and names
 * (image.c, vm_cache.c), which VM uses what (vm.state), the newest snapshot
 * and the prune rules against libvirt's test driver (test:///default), the
 * Docker disk in the domain XML, and when a golden layer applies.
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

#include "config.h"
#include "domxml.h"
#include "image.h"
#include "util.h"
#include "virt.h"
#include "vm_cache.h"
#include "vmstate.h"

static char tmpdir[] = "/tmp/test_golden.XXXXXX";

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

static void test_layer_key(void **state)
{
	struct err e = {"", 0};
	char plain[17], golden[17], other[17], again[17];
	const char *m = "http://deb.debian.org/debian";
	(void)state;

	assert_int_equal(image_layer_key("trixie", m, "script", 6, NULL, plain, &e), 0);
	assert_int_equal(strlen(plain), 16);
	assert_int_equal(image_layer_key("trixie", m, "script", 6, NULL, again, &e), 0);
	assert_string_equal(plain, again);
	/* the golden layer has its own key, over the same inputs */
	assert_int_equal(image_layer_key("trixie", m, "script", 6, "golden debian", golden, &e), 0);
	assert_string_not_equal(plain, golden);
	/* another mirror, suite or script: another layer */
	assert_int_equal(
	    image_layer_key("trixie", "http://x/debian", "script", 6, "golden debian", other, &e),
	    0);
	assert_string_not_equal(golden, other);
	assert_int_equal(image_layer_key("bookworm", m, "script", 6, "golden debian", other, &e),
	                 0);
	assert_string_not_equal(golden, other);
	assert_int_equal(image_layer_key("trixie", m, "scripT", 6, "golden debian", other, &e), 0);
	assert_string_not_equal(golden, other);
	/* the fields are delimited: moving a byte from suite to mirror differs */
	assert_int_equal(image_layer_key("trixi",
	                                 "e"
	                                 "http://deb.debian.org/debian",
	                                 "script", 6, NULL, other, &e),
	                 0);
	assert_string_not_equal(plain, other);
}

static void test_golden_applies(void **state)
{
	struct config c;
	char why[256];
	(void)state;

	memset(&c, 0, sizeof(c));
	c.docker_source = DOCKER_DEBIAN;
	assert_int_equal(image_golden_why(&c, why, sizeof(why)), 1); /* built, debian */
	c.image_build = "trixie";
	c.image_url = "https://example.org/x.qcow2";
	assert_int_equal(image_golden_why(&c, why, sizeof(why)), 1); /* build wins over url */
	c.image_build = NULL;
	assert_int_equal(image_golden_why(&c, why, sizeof(why)), 0); /* downloaded */
	assert_non_null(strstr(why, "image.url"));
	c.image_url = NULL;
	c.docker_source = DOCKER_DOCKER;
	assert_int_equal(image_golden_why(&c, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "docker.source docker"));
}

static void test_cache_names(void **state)
{
	struct err e = {"", 0};
	char k1[17], k2[17], name[96], out[96];
	char *names[] = {"dcache-aaaaaaaaaaaaaaaa-0000000000200.qcow2",
	                 "dcache-aaaaaaaaaaaaaaaa-0000000000300.qcow2",
	                 "dcache-bbbbbbbbbbbbbbbb-0000000000900.qcow2",
	                 "dcache-aaaaaaaaaaaaaaaa-999.qcow2",               /* malformed */
	                 "dcache-aaaaaaaaaaaaaaaa-0000000000400.qcow2.tmp", /* partial */
	                 "dcache-aaaaaaaaaaaaaaaa-0000000000100.qcow2"};
	(void)state;

	assert_int_equal(vm_cache_key_of("project=/a\nguest_dir=/home/x/inception\n", k1, &e), 0);
	assert_int_equal(vm_cache_key_of("project=/b\nguest_dir=/home/x/inception\n", k2, &e), 0);
	assert_int_equal(strlen(k1), 16);
	assert_string_not_equal(k1, k2);
	assert_int_equal(vm_cache_key_of("project=/a\nguest_dir=/home/x/inception\n", k2, &e), 0);
	assert_string_equal(k1, k2);

	assert_int_equal(vm_cache_name("aaaaaaaaaaaaaaaa", 1764672000123LL, name, sizeof(name), &e),
	                 0);
	assert_string_equal(name, "dcache-aaaaaaaaaaaaaaaa-1764672000123.qcow2");

	assert_int_equal(vm_cache_newest(names, 6, "aaaaaaaaaaaaaaaa", out, sizeof(out)), 1);
	assert_string_equal(out, "dcache-aaaaaaaaaaaaaaaa-0000000000300.qcow2");
	assert_int_equal(vm_cache_newest(names, 6, "bbbbbbbbbbbbbbbb", out, sizeof(out)), 1);
	assert_string_equal(out, "dcache-bbbbbbbbbbbbbbbb-0000000000900.qcow2");
	assert_int_equal(vm_cache_newest(names, 6, "cccccccccccccccc", out, sizeof(out)), 0);
	assert_int_equal(vm_cache_newest(names, 0, "aaaaaaaaaaaaaaaa", out, sizeof(out)), 0);
}

static void test_base_names(void **state)
{
	struct err e = {"", 0};
	char vol[160], ok[160];
	(void)state;

	assert_int_equal(vm_base_names("/c/golden-trixie-0123456789abcdef.qcow2", vol, sizeof(vol),
	                               ok, sizeof(ok), &e),
	                 0);
	assert_string_equal(vol, "base-golden-trixie-0123456789abcdef.qcow2");
	assert_string_equal(ok, "base-golden-trixie-0123456789abcdef.ok");
}

static void write_state(const char *vm, const char *base, const char *cache_from)
{
	struct vm_paths p;
	struct vm_state s;
	struct err e = {"", 0};

	memset(&s, 0, sizeof(s));
	snprintf(s.domain, sizeof(s.domain), "%s", vm);
	snprintf(s.base_vol, sizeof(s.base_vol), "%s", base);
	snprintf(s.docker_vol, sizeof(s.docker_vol), "%s-docker.qcow2", vm);
	snprintf(s.cache_from, sizeof(s.cache_from), "%s", cache_from);
	assert_int_equal(vm_paths(vm, &p, &e), 0);
	assert_int_equal(mkdir_p(p.dir, 0700, &e), 0);
	assert_int_equal(vmstate_save(&p, &s, &e), 0);
}

static int count_cb(const char *vm, const struct vm_state *s, void *arg)
{
	(void)vm;
	if (strcmp(s->cache_from, "dcache-aaaaaaaaaaaaaaaa-0000000000100.qcow2") == 0)
		(*(int *)arg)++;
	return 0;
}

/* Snapshots of two projects in a pool of the test driver, one of them the
 * backing of a VM's Docker disk: latest, prune and prune --all. */
static void test_cache_pool(void **state)
{
	struct virt v;
	struct err e = {"", 0};
	char out[160];
	size_t removed = 9, i;
	int users = 0;
	const char *pool = "golden-unit";
	static const char *const vols[] = {
	    "dcache-aaaaaaaaaaaaaaaa-0000000000100.qcow2", /* old, a VM uses it */
	    "dcache-aaaaaaaaaaaaaaaa-0000000000200.qcow2", /* old, unused */
	    "dcache-aaaaaaaaaaaaaaaa-0000000000300.qcow2", /* project a's newest */
	    "dcache-bbbbbbbbbbbbbbbb-0000000000050.qcow2", /* project b's newest */
	    "other.qcow2",
	};
	(void)state;

	assert_int_equal(virt_open("test:///default", &v, &e), 0);
	assert_int_equal(virt_pool_ensure(&v, pool, "/golden-unit", &e), 0);
	for (i = 0; i < sizeof(vols) / sizeof(vols[0]); i++)
		assert_int_equal(virt_vol_create(&v, pool, vols[i], 1ULL << 30, NULL, &e), 0);
	assert_int_equal(vm_cache_latest(&v, pool, "aaaaaaaaaaaaaaaa", out, sizeof(out), &e), 1);
	assert_string_equal(out, "dcache-aaaaaaaaaaaaaaaa-0000000000300.qcow2");
	assert_int_equal(vm_cache_latest(&v, pool, "cccccccccccccccc", out, sizeof(out), &e), 0);

	write_state("vm-one", "base-golden-trixie-x.qcow2", vols[0]);
	write_state("vm-two", "base-build-trixie-y.qcow2", "none");
	assert_int_equal(vm_states_each(count_cb, &users, &e), 0);
	assert_int_equal(users, 1);

	/* prune: the unused old one goes; the used one and each newest stay */
	assert_int_equal(vm_cache_prune(&v, pool, 0, &removed, &e), 0);
	assert_int_equal(removed, 1);
	assert_int_equal(virt_vol_exists(&v, pool, vols[1], NULL, 0, &e), 0);
	assert_int_equal(virt_vol_exists(&v, pool, vols[0], NULL, 0, &e), 1);
	assert_int_equal(virt_vol_exists(&v, pool, vols[2], NULL, 0, &e), 1);
	assert_int_equal(virt_vol_exists(&v, pool, vols[3], NULL, 0, &e), 1);
	/* --all: the newest too, never what a VM uses (by its state, or a
	 * volume of the pool backed by it: a VM of another state directory),
	 * never other volumes */
	assert_int_equal(
	    virt_vol_create(&v, pool, "elsewhere-docker.qcow2", 1ULL << 30, vols[3], &e), 0);
	assert_int_equal(vm_cache_prune(&v, pool, 1, &removed, &e), 0);
	assert_int_equal(removed, 1);
	assert_int_equal(virt_vol_exists(&v, pool, vols[0], NULL, 0, &e), 1);
	assert_int_equal(virt_vol_exists(&v, pool, vols[2], NULL, 0, &e), 0);
	assert_int_equal(virt_vol_exists(&v, pool, vols[3], NULL, 0, &e), 1);
	assert_int_equal(virt_vol_exists(&v, pool, vols[4], NULL, 0, &e), 1);
	virt_close(&v);
}

static void test_docker_disk_xml(void **state)
{
	struct domspec s = {0};
	struct err e = {"", 0};
	char *xml = NULL;
	(void)state;

	s.name = "g";
	s.domtype = "qemu";
	s.memory = 512ULL << 20;
	s.cpus = 1;
	s.pool = "inception";
	s.disk_vol = "g.qcow2";
	s.docker_vol = "g-docker.qcow2";
	s.net = NET_USER;
	assert_int_equal(domxml_domain(&s, &xml, &e), 0);
	assert_non_null(strstr(xml, "<source pool=\"inception\" volume=\"g-docker.qcow2\"/>"));
	assert_non_null(strstr(xml, "<target dev=\"vdb\" bus=\"virtio\"/>"));
	assert_non_null(strstr(xml, "<serial>docker</serial>"));
	free(xml);
	s.docker_vol = NULL;
	assert_int_equal(domxml_domain(&s, &xml, &e), 0);
	assert_null(strstr(xml, "vdb"));
	free(xml);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_layer_key),   cmocka_unit_test(test_golden_applies),
	    cmocka_unit_test(test_cache_names), cmocka_unit_test(test_base_names),
	    cmocka_unit_test(test_cache_pool),  cmocka_unit_test(test_docker_disk_xml),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
