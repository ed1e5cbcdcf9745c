/*
 * agent_test_buf.c: the growable buffer's contract: always terminated,
 * length tracked, the hard cap refused without changing the buffer,
 * consume, detach, and reading a descriptor to its end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"

static void test_add_and_terminate(void **state)
{
	struct buf b;
	struct err e = {"", 0};
	size_t i, len = 0;
	char *p;

	(void)state;
	buf_init(&b, SIZE_MAX);
	assert_null(b.p);
	assert_int_equal(buf_add(&b, "abc", 3, "x", &e), 0);
	assert_int_equal(b.len, 3);
	assert_string_equal(b.p, "abc");
	/* growth past the first allocation keeps every byte and the NUL */
	for (i = 0; i < 1000; i++)
		assert_int_equal(buf_add(&b, "0123456789", 10, "x", &e), 0);
	assert_int_equal(b.len, 10003);
	assert_int_equal(b.p[b.len], '\0');
	assert_memory_equal(b.p + 9993, "0123456789", 10);
	buf_consume(&b, 10000);
	assert_string_equal(b.p, "789");
	p = buf_detach(&b, &len);
	assert_string_equal(p, "789");
	assert_int_equal(len, 3);
	assert_null(b.p);
	assert_int_equal(b.len, 0);
	free(p);
	/* nothing added: detach still gives an empty string */
	p = buf_detach(&b, &len);
	assert_non_null(p);
	assert_string_equal(p, "");
	assert_int_equal(len, 0);
	free(p);
}

static void test_cap(void **state)
{
	struct buf b;
	struct err e = {"", 0};

	(void)state;
	buf_init(&b, 8);
	assert_int_equal(buf_add(&b, "12345678", 8, "manifest", &e), 0);
	assert_int_equal(buf_add(&b, "9", 1, "manifest", &e), -1);
	assert_string_equal(e.msg, "manifest: larger than 8 bytes");
	/* a refused append leaves the buffer as it was */
	assert_int_equal(b.len, 8);
	assert_string_equal(b.p, "12345678");
	/* no overflow in the check itself */
	assert_int_equal(buf_add(&b, "x", SIZE_MAX, NULL, &e), -1);
	assert_string_equal(e.msg, "data: larger than 8 bytes");
	buf_free(&b);
	assert_null(b.p);
}

static void test_read_fd(void **state)
{
	struct buf b;
	struct err e = {"", 0};
	int fds[2];
	char big[40000];

	(void)state;
	memset(big, 'z', sizeof(big));
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], big, 30000), 30000);
	close(fds[1]);
	buf_init(&b, SIZE_MAX);
	assert_int_equal(buf_read_fd(&b, fds[0], "pipe", &e), 0);
	close(fds[0]);
	assert_int_equal(b.len, 30000);
	assert_int_equal(b.p[30000], '\0');
	buf_free(&b);
	/* over the cap: refused with the name */
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], big, 20000), 20000);
	close(fds[1]);
	buf_init(&b, 10000);
	assert_int_equal(buf_read_fd(&b, fds[0], "tree.digest", &e), -1);
	close(fds[0]);
	assert_string_equal(e.msg, "tree.digest: larger than 10000 bytes");
	buf_free(&b);
	/* an empty input is an empty, terminated buffer */
	assert_int_equal(pipe(fds), 0);
	close(fds[1]);
	buf_init(&b, 10);
	assert_int_equal(buf_read_fd(&b, fds[0], "empty", &e), 0);
	close(fds[0]);
	assert_non_null(b.p);
	assert_string_equal(b.p, "");
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_add_and_terminate),
	    cmocka_unit_test(test_cap),
	    cmocka_unit_test(test_read_fd),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
