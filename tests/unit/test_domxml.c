/*
 * test_domxml.c: the libvirt documents written by domxml.c, parsed back
 * with libxml2 and checked element by element; forward specs; the
 * user-network backend choice; accelerator planning and boot verdicts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include "domxml.h"

/* Evaluates xpath on xml and returns a malloc'd string value. */
static char *xp(const char *xml, const char *xpath)
{
	xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "t.xml", NULL, XML_PARSE_NONET);
	xmlXPathContextPtr ctx;
	xmlXPathObjectPtr obj;
	char *s;

	assert_non_null(doc);
	ctx = xmlXPathNewContext(doc);
	xmlXPathRegisterNs(ctx, (const xmlChar *)"qemu",
	                   (const xmlChar *)"http://libvirt.org/schemas/domain/qemu/1.0");
	obj = xmlXPathEvalExpression((const xmlChar *)xpath, ctx);
	assert_non_null(obj);
	assert_int_equal(obj->type, XPATH_STRING);
	s = strdup((const char *)obj->stringval);
	xmlXPathFreeObject(obj);
	xmlXPathFreeContext(ctx);
	xmlFreeDoc(doc);
	return s;
}

static void check(const char *xml, const char *xpath, const char *want)
{
	char *got = xp(xml, xpath);

	if (strcmp(got, want) != 0)
		fail_msg("%s: got '%s', want '%s'", xpath, got, want);
	free(got);
}

static struct forward fw[] = {
    {"127.0.0.1", 2222, 22},
    {"127.0.0.1", 8443, 443},
};

static struct domspec base_spec(void)
{
	struct domspec s = {0};

	s.name = "vm<&'\"one";
	s.domtype = "qemu";
	s.memory = 2ULL << 30;
	s.cpus = 2;
	s.pool = "inception";
	s.disk_vol = "vm1.qcow2";
	s.seed_vol = "vm1-seed.iso";
	s.console_log = "/state/dir with space/console.log";
	s.net = NET_USER;
	s.usernet = USERNET_QEMU_ARGS;
	s.forwards = fw;
	s.nforwards = 2;
	return s;
}

static void test_domain_user_qemu_args(void **state)
{
	struct domspec s = base_spec();
	struct err e = {"", 0};
	char *xml = NULL;

	(void)state;
	assert_int_equal(domxml_domain(&s, &xml, &e), 0);
	check(xml, "string(/domain/@type)", "qemu");
	/* hostile characters survive as data */
	check(xml, "string(/domain/name)", "vm<&'\"one");
	check(xml, "string(/domain/memory)", "2097152");
	check(xml, "string(/domain/memory/@unit)", "KiB");
	check(xml, "string(/domain/vcpu)", "2");
	check(xml, "string(/domain/os/type)", "hvm");
	check(xml, "string(/domain/os/type/@machine)", "q35");
	check(xml, "string(/domain/os/boot/@dev)", "hd");
	check(xml, "string(count(/domain/features/acpi))", "1");
	check(xml, "string(/domain/devices/disk[@device='disk']/source/@pool)", "inception");
	check(xml, "string(/domain/devices/disk[@device='disk']/source/@volume)", "vm1.qcow2");
	check(xml, "string(/domain/devices/disk[@device='disk']/driver/@type)", "qcow2");
	check(xml, "string(/domain/devices/disk[@device='disk']/target/@bus)", "virtio");
	check(xml, "string(/domain/devices/disk[@device='cdrom']/source/@volume)", "vm1-seed.iso");
	check(xml, "string(count(/domain/devices/disk[@device='cdrom']/readonly))", "1");
	check(xml, "string(/domain/devices/serial/log/@file)", "/state/dir with space/console.log");
	check(xml, "string(/domain/devices/console/target/@type)", "serial");
	check(xml, "string(/domain/devices/channel/target/@name)", "org.qemu.guest_agent.0");
	check(xml, "string(count(/domain/devices/graphics))", "0");
	check(xml, "string(count(/domain/devices/interface))", "0");
	/* the user network is in qemu's own arguments, forwards on 127.0.0.1 */
	check(xml, "string(count(/domain/qemu:commandline/qemu:arg))", "4");
	check(xml, "string(/domain/qemu:commandline/qemu:arg[1]/@value)", "-netdev");
	check(xml, "string(/domain/qemu:commandline/qemu:arg[2]/@value)",
	      "user,id=inet0,hostfwd=tcp:127.0.0.1:2222-:22,hostfwd=tcp:127.0.0.1:8443-:443");
	check(xml, "string(/domain/qemu:commandline/qemu:arg[3]/@value)", "-device");
	check(xml, "string(/domain/qemu:commandline/qemu:arg[4]/@value)",
	      "virtio-net-pci,netdev=inet0,bus=pcie.0,addr=0x10");
	free(xml);
}

static void test_domain_passt(void **state)
{
	struct domspec s = base_spec();
	struct err e = {"", 0};
	char *xml = NULL;

	(void)state;
	s.usernet = USERNET_PASST;
	assert_int_equal(domxml_domain(&s, &xml, &e), 0);
	check(xml, "string(/domain/devices/interface/@type)", "user");
	check(xml, "string(/domain/devices/interface/backend/@type)", "passt");
	check(xml, "string(count(/domain/devices/interface/portForward))", "2");
	check(xml, "string(/domain/devices/interface/portForward[1]/@address)", "127.0.0.1");
	check(xml, "string(/domain/devices/interface/portForward[2]/range/@start)", "8443");
	check(xml, "string(/domain/devices/interface/portForward[2]/range/@to)", "443");
	check(xml, "string(count(/domain/qemu:commandline))", "0");
	free(xml);
}

static void test_domain_nat_kvm(void **state)
{
	struct domspec s = base_spec();
	struct err e = {"", 0};
	char *xml = NULL;

	(void)state;
	s.net = NET_NAT;
	s.network = "inception";
	s.domtype = "kvm";
	s.seed_vol = NULL;
	assert_int_equal(domxml_domain(&s, &xml, &e), 0);
	check(xml, "string(/domain/@type)", "kvm");
	check(xml, "string(/domain/cpu/@mode)", "host-passthrough");
	check(xml, "string(/domain/devices/interface/@type)", "network");
	check(xml, "string(/domain/devices/interface/source/@network)", "inception");
	check(xml, "string(/domain/devices/interface/model/@type)", "virtio");
	check(xml, "string(count(/domain/devices/disk[@device='cdrom']))", "0");
	check(xml, "string(count(/domain/qemu:commandline))", "0");
	free(xml);

	s.network = NULL;
	assert_int_equal(domxml_domain(&s, &xml, &e), -1);
	assert_non_null(strstr(e.msg, "network"));
}

static void test_domain_rejects(void **state)
{
	struct domspec s = base_spec();
	struct forward bad[] = {{"127.0.0.1,hostfwd=tcp::1-:1", 1, 2}};
	struct err e = {"", 0};
	char *xml = NULL;

	(void)state;
	s.cpus = 0;
	assert_int_equal(domxml_domain(&s, &xml, &e), -1);
	s = base_spec();
	s.forwards = bad;
	s.nforwards = 1;
	/* an address cannot smuggle more qemu options in */
	assert_int_equal(domxml_domain(&s, &xml, &e), -1);
	assert_non_null(strstr(e.msg, "address"));
	assert_null(xml);
}

static void test_hostfwd(void **state)
{
	struct forward f = {"", 8080, 80}, g = {"127.0.0.1", 0, 22}, h = {"127.0.0.1", 70000, 22};
	struct err e = {"", 0};
	char buf[64];

	(void)state;
	assert_int_equal(domxml_hostfwd(&f, buf, sizeof(buf), &e), 0);
	assert_string_equal(buf, "tcp:127.0.0.1:8080-:80");
	assert_int_equal(domxml_hostfwd(&g, buf, sizeof(buf), &e), -1);
	assert_int_equal(domxml_hostfwd(&h, buf, sizeof(buf), &e), -1);
	assert_int_equal(domxml_hostfwd(&fw[0], buf, 8, &e), -1);
}

static void test_pool_volume_network(void **state)
{
	struct err e = {"", 0};
	char *xml = NULL;

	(void)state;
	assert_int_equal(domxml_pool("inception", "/var/lib/libvirt/images/inception", &xml, &e),
	                 0);
	check(xml, "string(/pool/@type)", "dir");
	check(xml, "string(/pool/name)", "inception");
	check(xml, "string(/pool/target/path)", "/var/lib/libvirt/images/inception");
	free(xml);

	assert_int_equal(domxml_volume("o.qcow2", 20ULL << 30, "qcow2", "/p/base.qcow2", &xml, &e),
	                 0);
	check(xml, "string(/volume/name)", "o.qcow2");
	check(xml, "string(/volume/capacity)", "21474836480");
	check(xml, "string(/volume/capacity/@unit)", "bytes");
	check(xml, "string(/volume/target/format/@type)", "qcow2");
	check(xml, "string(/volume/backingStore/path)", "/p/base.qcow2");
	check(xml, "string(/volume/backingStore/format/@type)", "qcow2");
	free(xml);

	assert_int_equal(domxml_volume("seed.iso", 366592, "raw", NULL, &xml, &e), 0);
	check(xml, "string(count(/volume/backingStore))", "0");
	check(xml, "string(/volume/target/format/@type)", "raw");
	free(xml);

	assert_int_equal(domxml_network("incnet", "virbr-inc", "192.168.150", &xml, &e), 0);
	check(xml, "string(/network/forward/@mode)", "nat");
	check(xml, "string(/network/bridge/@name)", "virbr-inc");
	check(xml, "string(/network/ip/@address)", "192.168.150.1");
	check(xml, "string(/network/ip/dhcp/range/@start)", "192.168.150.100");
	check(xml, "string(/network/ip/dhcp/range/@end)", "192.168.150.254");
	free(xml);
}

static void test_usernet_choice(void **state)
{
	(void)state;
	/* libvirt 9.0 rejects the passt backend */
	assert_int_equal(domxml_usernet_for(9000000, 1), USERNET_QEMU_ARGS);
	assert_int_equal(domxml_usernet_for(9002000, 0), USERNET_QEMU_ARGS);
	assert_int_equal(domxml_usernet_for(9002000, 1), USERNET_PASST);
	assert_int_equal(domxml_usernet_for(10000000, 1), USERNET_PASST);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_domain_user_qemu_args),
	    cmocka_unit_test(test_domain_passt),
	    cmocka_unit_test(test_domain_nat_kvm),
	    cmocka_unit_test(test_domain_rejects),
	    cmocka_unit_test(test_hostfwd),
	    cmocka_unit_test(test_pool_volume_network),
	    cmocka_unit_test(test_usernet_choice),
	};
	int r = cmocka_run_group_tests(tests, NULL, NULL);

	xmlCleanupParser();
	return r;
}
