/*
 * test_virt.c: virt.c's define/start/shutdown/remove and volume logic
 * against libvirt's own test driver (test:///default), which keeps its
 * objects in memory: fast, no daemon, but the real libvirt API and its
 * error codes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "domxml.h"
#include "virt.h"

static struct forward fw[] = {{"127.0.0.1", 2222, 22}};

static char *test_domain_xml_type(const char *name, const char *type)
{
	struct domspec s = {0};
	struct err e = {"", 0};
	char *xml = NULL;

	s.name = name;
	s.domtype = type;
	s.memory = 512ULL << 20;
	s.cpus = 1;
	s.pool = "default-pool";
	s.disk_vol = "t-disk.qcow2";
	s.seed_vol = "t-seed.iso";
	s.console_log = "/tmp/console.log";
	s.net = NET_USER;
	s.usernet = USERNET_QEMU_ARGS;
	s.forwards = fw;
	s.nforwards = 1;
	assert_int_equal(domxml_domain(&s, &xml, &e), 0);
	return xml;
}

static char *test_domain_xml(const char *name)
{
	return test_domain_xml_type(name, "test");
}

static int setup(void **state)
{
	static struct virt v;
	struct err e = {"", 0};

	if (virt_open("test:///default", &v, &e) < 0) {
		fprintf(stderr, "%s\n", e.msg);
		return -1;
	}
	*state = &v;
	return 0;
}

static int teardown(void **state)
{
	virt_close(*state);
	return 0;
}

static void test_open(void **state)
{
	struct virt *v = *state;
	struct virt bad;
	struct err e = {"", 0};

	assert_string_equal(v->uri, "test:///default");
	assert_true(v->local);
	assert_true(v->libver >= 9000000);
	/* a daemon socket that does not exist: the message names the fix */
	assert_int_equal(virt_open("qemu+unix:///system?socket=/nonexistent/sock", &bad, &e), -1);
	assert_non_null(strstr(e.msg, "libvirtd is not running"));
}

static void test_domain_lifecycle(void **state)
{
	struct virt *v = *state;
	struct err e = {"", 0};
	enum virt_dom_state st;
	char *xml = test_domain_xml("inception-unit-1");
	char type[16];
	int forced = -1;

	assert_int_equal(virt_dom_state(v, "inception-unit-1", &st, &e), 0);
	assert_int_equal(st, VIRT_DOM_ABSENT);
	assert_int_equal(virt_dom_define(v, xml, &e), 0);
	assert_int_equal(virt_dom_state(v, "inception-unit-1", &st, &e), 0);
	assert_int_equal(st, VIRT_DOM_OFF);
	assert_int_equal(virt_dom_type(v, "inception-unit-1", type, sizeof(type), &e), 0);
	assert_string_equal(type, "test");
	assert_int_equal(virt_dom_start(v, "inception-unit-1", &e), 0);
	assert_int_equal(virt_dom_state(v, "inception-unit-1", &st, &e), 0);
	assert_int_equal(st, VIRT_DOM_RUNNING);
	/* starting a running domain is an error with libvirt's reason */
	assert_int_equal(virt_dom_start(v, "inception-unit-1", &e), -1);
	assert_non_null(strstr(e.msg, "inception-unit-1"));
	/* the test driver's guests obey ACPI at once */
	assert_int_equal(virt_dom_shutdown(v, "inception-unit-1", 5, &forced, &e), 0);
	assert_int_equal(forced, 0);
	assert_int_equal(virt_dom_state(v, "inception-unit-1", &st, &e), 0);
	assert_int_equal(st, VIRT_DOM_OFF);
	/* shutting down a stopped domain is a no-op */
	assert_int_equal(virt_dom_shutdown(v, "inception-unit-1", 5, &forced, &e), 0);
	assert_int_equal(virt_dom_start(v, "inception-unit-1", &e), 0);
	/* remove powers off and undefines; twice is fine */
	assert_int_equal(virt_dom_remove(v, "inception-unit-1", &e), 0);
	assert_int_equal(virt_dom_state(v, "inception-unit-1", &st, &e), 0);
	assert_int_equal(st, VIRT_DOM_ABSENT);
	assert_int_equal(virt_dom_remove(v, "inception-unit-1", &e), 0);
	assert_int_equal(virt_dom_poweroff(v, "inception-unit-1", &e), 0);
	/* operations that need the domain name it */
	assert_int_equal(virt_dom_start(v, "inception-unit-1", &e), -1);
	assert_non_null(strstr(e.msg, "inception-unit-1"));
	free(xml);
}

static void test_redefine_changes_type(void **state)
{
	struct virt *v = *state;
	struct err e = {"", 0};
	char *xml = test_domain_xml("inception-unit-2");
	char *bad;
	char type[16];

	assert_int_equal(virt_dom_define(v, xml, &e), 0);
	/* a definition libvirt refuses is reported, the old one stays */
	bad = test_domain_xml_type("inception-unit-2", "nope");
	assert_int_equal(virt_dom_define(v, bad, &e), -1);
	assert_non_null(strstr(e.msg, "define domain"));
	assert_int_equal(virt_dom_type(v, "inception-unit-2", type, sizeof(type), &e), 0);
	assert_string_equal(type, "test");
	assert_int_equal(virt_dom_remove(v, "inception-unit-2", &e), 0);
	free(bad);
	free(xml);
}

static void test_volumes(void **state)
{
	struct virt *v = *state;
	struct err e = {"", 0};
	char path[512];
	int users = -1;

	assert_int_equal(virt_pool_ensure(v, "default-pool", "/default-pool", &e), 0);
	assert_int_equal(virt_vol_exists(v, "default-pool", "t-base.qcow2", NULL, 0, &e), 0);
	assert_int_equal(virt_vol_create(v, "default-pool", "t-base.qcow2", 1ULL << 30, NULL, &e),
	                 0);
	assert_int_equal(virt_vol_exists(v, "default-pool", "t-base.qcow2", path, sizeof(path), &e),
	                 1);
	assert_non_null(strstr(path, "t-base.qcow2"));
	/* creating it again fails and says which volume */
	assert_int_equal(virt_vol_create(v, "default-pool", "t-base.qcow2", 1ULL << 30, NULL, &e),
	                 -1);
	assert_non_null(strstr(e.msg, "t-base.qcow2"));
	/* an overlay needs its backing volume to exist */
	assert_int_equal(virt_vol_create(v, "default-pool", "t-o.qcow2", 2ULL << 30, "nope", &e),
	                 -1);
	assert_non_null(strstr(e.msg, "nope"));
	assert_int_equal(virt_vol_users(v, "default-pool", "t-base.qcow2", &users, &e), 0);
	assert_int_equal(users, 0);
	/* overlays count as users of their backing volume only: one, then two;
	 * an overlay of another base counts for that base */
	assert_int_equal(virt_vol_create(v, "default-pool", "t-other.qcow2", 1ULL << 30, NULL, &e),
	                 0);
	assert_int_equal(
	    virt_vol_create(v, "default-pool", "t-u1.qcow2", 2ULL << 30, "t-base.qcow2", &e), 0);
	assert_int_equal(
	    virt_vol_create(v, "default-pool", "t-x1.qcow2", 2ULL << 30, "t-other.qcow2", &e), 0);
	assert_int_equal(virt_vol_users(v, "default-pool", "t-base.qcow2", &users, &e), 0);
	assert_int_equal(users, 1);
	assert_int_equal(
	    virt_vol_create(v, "default-pool", "t-u2.qcow2", 2ULL << 30, "t-base.qcow2", &e), 0);
	assert_int_equal(virt_vol_users(v, "default-pool", "t-base.qcow2", &users, &e), 0);
	assert_int_equal(users, 2);
	assert_int_equal(virt_vol_users(v, "default-pool", "t-other.qcow2", &users, &e), 0);
	assert_int_equal(users, 1);
	/* and back down as they go */
	assert_int_equal(virt_vol_delete(v, "default-pool", "t-u2.qcow2", &e), 0);
	assert_int_equal(virt_vol_users(v, "default-pool", "t-base.qcow2", &users, &e), 0);
	assert_int_equal(users, 1);
	assert_int_equal(virt_vol_delete(v, "default-pool", "t-u1.qcow2", &e), 0);
	assert_int_equal(virt_vol_users(v, "default-pool", "t-base.qcow2", &users, &e), 0);
	assert_int_equal(users, 0);
	assert_int_equal(virt_vol_delete(v, "default-pool", "t-x1.qcow2", &e), 0);
	assert_int_equal(virt_vol_delete(v, "default-pool", "t-other.qcow2", &e), 0);
	assert_int_equal(virt_vol_users(v, "default-pool", "missing.qcow2", &users, &e), 0);
	assert_int_equal(users, 0);
	assert_int_equal(virt_vol_delete(v, "default-pool", "t-base.qcow2", &e), 0);
	assert_int_equal(virt_vol_exists(v, "default-pool", "t-base.qcow2", NULL, 0, &e), 0);
	/* deleting what is not there (volume or pool) is fine: destroy is idempotent */
	assert_int_equal(virt_vol_delete(v, "default-pool", "t-base.qcow2", &e), 0);
	assert_int_equal(virt_vol_delete(v, "no-such-pool", "x", &e), 0);
	assert_int_equal(virt_vol_exists(v, "no-such-pool", "x", NULL, 0, &e), -1);
	assert_non_null(strstr(e.msg, "no-such-pool"));
}

static void test_new_pool(void **state)
{
	struct virt *v = *state;
	struct err e = {"", 0};

	assert_int_equal(virt_pool_ensure(v, "inception-unit", "/inception-unit", &e), 0);
	/* idempotent */
	assert_int_equal(virt_pool_ensure(v, "inception-unit", "/inception-unit", &e), 0);
	assert_int_equal(virt_vol_create(v, "inception-unit", "a.qcow2", 1ULL << 30, NULL, &e), 0);
	assert_int_equal(virt_vol_exists(v, "inception-unit", "a.qcow2", NULL, 0, &e), 1);
	assert_int_equal(virt_vol_delete(v, "inception-unit", "a.qcow2", &e), 0);
}

static void test_network(void **state)
{
	struct virt *v = *state;
	struct err e = {"", 0};

	assert_int_equal(virt_net_ensure(v, "inception-unit-net", "virbr-iu", "192.168.151", &e),
	                 0);
	assert_int_equal(virt_net_ensure(v, "inception-unit-net", "virbr-iu", "192.168.151", &e),
	                 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_open),
	    cmocka_unit_test(test_domain_lifecycle),
	    cmocka_unit_test(test_redefine_changes_type),
	    cmocka_unit_test(test_volumes),
	    cmocka_unit_test(test_new_pool),
	    cmocka_unit_test(test_network),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
