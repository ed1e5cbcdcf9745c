/*
 * test_accel.c: the accelerator decision for the three kinds of host
 * (KVM usable; KVM present but failing; no KVM device or no access),
 * with the device's presence and access injected, and the boot verdict.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "accel.h"

static void test_kvm_device_check(void **state)
{
	char why[ACCEL_WHY_MAX], dir[] = "/tmp/accel-test.XXXXXX", path[64];
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/kvm", dir);
	/* no device at all */
	assert_int_equal(kvm_device_check(path, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "no KVM device"));
	assert_non_null(strstr(why, path));
	/* something that is not a character device */
	f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(kvm_device_check(path, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "not a character device"));
	unlink(path);
	rmdir(dir);
	/* a character device we can open (a stand-in for a usable /dev/kvm) */
	assert_int_equal(kvm_device_check("/dev/null", why, sizeof(why)), 1);
	assert_string_equal(why, "");
}

static void test_kvm_usable(void **state)
{
	struct accel_host h = {1, "", 1, 0, NULL};
	struct accel_plan p;
	struct err e = {"", 0};

	(void)state;
	assert_int_equal(accel_decide(ACCEL_AUTO, &h, &p, &e), 0);
	assert_string_equal(p.first, "kvm");
	assert_int_equal(p.fallback_tcg, 1);
	assert_string_equal(p.why, "");
	assert_int_equal(accel_decide(ACCEL_KVM, &h, &p, &e), 0);
	assert_string_equal(p.first, "kvm");
	assert_int_equal(p.fallback_tcg, 0);
	assert_int_equal(accel_decide(ACCEL_TCG, &h, &p, &e), 0);
	assert_string_equal(p.first, "qemu");
	assert_int_equal(p.fallback_tcg, 0);
}

static void test_kvm_present_but_failing(void **state)
{
	struct accel_host h = {1, "", 1, 1, "/state/kvm-hangs"};
	struct accel_plan p;
	struct err e = {"", 0};

	(void)state;
	/* auto: TCG from the start, with the reason and the marker to delete */
	assert_int_equal(accel_decide(ACCEL_AUTO, &h, &p, &e), 0);
	assert_string_equal(p.first, "qemu");
	assert_int_equal(p.fallback_tcg, 0);
	assert_string_equal(p.why, "KVM hung or failed on this host before "
	                           "(/state/kvm-hangs; delete it to probe KVM again)");
	/* accel kvm asked for explicitly: the user's choice wins */
	assert_int_equal(accel_decide(ACCEL_KVM, &h, &p, &e), 0);
	assert_string_equal(p.first, "kvm");
	/* libvirt without a kvm domain type */
	h.hung_before = 0;
	h.libvirt_kvm = 0;
	assert_int_equal(accel_decide(ACCEL_AUTO, &h, &p, &e), 0);
	assert_string_equal(p.first, "qemu");
	assert_non_null(strstr(p.why, "libvirt reports no kvm domain type"));
}

static void test_no_kvm_device(void **state)
{
	struct accel_host h = {0, "no KVM device (/dev/kvm does not exist: ...)", 0, 0, NULL};
	struct accel_plan p;
	struct err e = {"", 0};

	(void)state;
	assert_int_equal(accel_decide(ACCEL_AUTO, &h, &p, &e), 0);
	assert_string_equal(p.first, "qemu");
	assert_int_equal(p.fallback_tcg, 0);
	assert_string_equal(p.why, "no KVM device (/dev/kvm does not exist: ...)");
	/* never a kvm domain without the device, even with an old marker */
	h.hung_before = 1;
	h.marker = "/state/kvm-hangs";
	assert_int_equal(accel_decide(ACCEL_AUTO, &h, &p, &e), 0);
	assert_string_equal(p.first, "qemu");
	assert_non_null(strstr(p.why, "no KVM device"));
	assert_int_equal(accel_decide(ACCEL_KVM, &h, &p, &e), -1);
	assert_string_equal(e.msg, "accel kvm: no KVM device (/dev/kvm does not exist: ...) "
	                           "(use accel: auto or tcg)");
	/* no access: the reason given by the device check is kept */
	h.dev_why = "no access to the KVM device (/dev/kvm mode 0600: Permission denied; ...)";
	assert_int_equal(accel_decide(ACCEL_AUTO, &h, &p, &e), 0);
	assert_string_equal(p.first, "qemu");
	assert_non_null(strstr(p.why, "no access to the KVM device"));
	/* TCG asked for: no reason needed */
	assert_int_equal(accel_decide(ACCEL_TCG, &h, &p, &e), 0);
	assert_string_equal(p.first, "qemu");
	assert_string_equal(p.why, "");
}

static void test_boot_verdict(void **state)
{
	const char *grub =
	    "SeaBIOS (version 1.16)\r\nBooting from Hard Disk...\r\nLoading Linux ...\r\n";
	const char *kernel = "Loading Linux\n[    0.000000] Linux version 6.12.0 (gcc)\n";
	const char *panic = "[   10.2] Kernel panic - not syncing: Fatal exception\n";

	(void)state;
	assert_int_equal(boot_verdict("", 1000, 30000), BOOT_WAIT);
	assert_int_equal(boot_verdict(NULL, 1000, 30000), BOOT_WAIT);
	/* firmware and boot loader output alone is not a running kernel */
	assert_int_equal(boot_verdict(grub, 29999, 30000), BOOT_WAIT);
	assert_int_equal(boot_verdict(grub, 30000, 30000), BOOT_HUNG);
	assert_int_equal(boot_verdict(kernel, 90000, 30000), BOOT_ALIVE);
	assert_int_equal(boot_verdict(panic, 5000, 30000), BOOT_PANIC);
	assert_int_equal(boot_verdict("ok\nWelcome to Debian GNU/Linux 13!\n", 100, 30000),
	                 BOOT_ALIVE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_kvm_device_check),
	    cmocka_unit_test(test_kvm_usable),
	    cmocka_unit_test(test_kvm_present_but_failing),
	    cmocka_unit_test(test_no_kvm_device),
	    cmocka_unit_test(test_boot_verdict),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
