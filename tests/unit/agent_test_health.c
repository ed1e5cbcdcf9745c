/*
 * agent_test_health.c: the TLS 1.1 probe of the health step, against fake
 * servers on 127.0.0.1 that answer the probe's ClientHello with canned
 * bytes.  Only a fatal protocol_version or handshake_failure alert counts
 * as refusing TLS 1.1; a ServerHello for TLS 1.1 is an acceptance; another
 * alert, a closed connection, plain text or a ServerHello for another
 * version is a broken server, reported as such.  (The agent tier runs the
 * probe against real openssl servers.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "health.h"

/* Serves one connection: reads the ClientHello, checks that it offers TLS
 * 1.1 at most, answers with reply[0..n), closes.  Returns the port. */
static int serve_once(const unsigned char *reply, size_t n, pid_t *pid)
{
	struct sockaddr_in a;
	socklen_t al = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(s >= 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s, 1), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&a, &al), 0);
	*pid = fork();
	assert_true(*pid >= 0);
	if (*pid == 0) {
		unsigned char hello[11];
		size_t got = 0;
		int c = accept(s, NULL, NULL);

		while (c >= 0 && got < sizeof(hello)) {
			ssize_t r = read(c, hello + got, sizeof(hello) - got);

			if (r <= 0)
				_exit(2);
			got += (size_t)r;
		}
		/* a handshake record holding a ClientHello for TLS 1.1 */
		if (c < 0 || hello[0] != 0x16 || hello[5] != 1 || hello[9] != 3 || hello[10] != 2)
			_exit(3);
		/* the rest of the record: closing with unread data would be a reset */
		for (got = (size_t)hello[3] << 8 | hello[4], got -= sizeof(hello) - 5; got > 0;) {
			unsigned char rest[512];
			ssize_t r = read(c, rest, got < sizeof(rest) ? got : sizeof(rest));

			if (r <= 0)
				_exit(2);
			got -= (size_t)r;
		}
		if (n && write(c, reply, n) != (ssize_t)n)
			_exit(4);
		close(c);
		_exit(0);
	}
	close(s);
	return ntohs(a.sin_port);
}

/* The probe's result against a server answering reply; the fake server
 * must have seen a TLS 1.1 ClientHello. */
static int probe(const void *reply, size_t n, struct err *e)
{
	pid_t pid;
	int port = serve_once(reply, n, &pid), rc, status;

	err_clear(e);
	rc = health_old_tls_refused("127.0.0.1", port, e);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	return rc;
}

static void test_alerts_that_refuse(void **state)
{
	static const unsigned char version[] = {0x15, 3, 1, 0, 2, 2, 70};
	static const unsigned char handshake[] = {0x15, 3, 3, 0, 2, 2, 40};
	struct err e;

	(void)state;
	assert_int_equal(probe(version, sizeof(version), &e), 0);
	assert_int_equal(probe(handshake, sizeof(handshake), &e), 0);
}

static void test_tls11_accepted(void **state)
{
	static const unsigned char hello[] = {0x16, 3, 2, 0, 6, 2, 0, 0, 70, 3, 2};
	struct err e;

	(void)state;
	assert_int_equal(probe(hello, sizeof(hello), &e), -1);
	assert_non_null(strstr(e.msg, "accepted a TLS 1.1 handshake (must be TLS 1.2+ only)"));
}

static void test_broken_servers_are_not_refusals(void **state)
{
	static const unsigned char internal[] = {0x15, 3, 1, 0, 2, 2, 80};
	static const unsigned char warning[] = {0x15, 3, 1, 0, 2, 1, 70};
	static const unsigned char tls12[] = {0x16, 3, 3, 0, 6, 2, 0, 0, 70, 3, 3};
	static const char text[] = "HTTP/1.1 400 Bad Request\r\n\r\n";
	struct err e;

	(void)state;
	assert_int_equal(probe(internal, sizeof(internal), &e), -1);
	assert_non_null(strstr(e.msg, "the server sent TLS alert 80 (level 2), not a "
	                              "protocol_version or handshake_failure refusal"));
	assert_int_equal(probe(warning, sizeof(warning), &e), -1);
	assert_non_null(strstr(e.msg, "TLS alert 70 (level 1)"));
	assert_int_equal(probe(tls12, sizeof(tls12), &e), -1);
	assert_non_null(strstr(e.msg, "answered a TLS 1.1 hello with version 3.3 instead of "
	                              "refusing it"));
	assert_int_equal(probe(text, sizeof(text) - 1, &e), -1);
	assert_non_null(strstr(e.msg, "the answer is not a TLS alert or handshake (first bytes "
	                              "48 54 54)"));
	assert_int_equal(probe("", 0, &e), -1);
	assert_non_null(strstr(e.msg, "the server closed the connection without a TLS alert"));
	/* an alert cut short */
	assert_int_equal(probe(internal, 6, &e), -1);
	assert_non_null(
	    strstr(e.msg, "the server closed the connection in the middle of a record"));
}

static void test_nothing_listening(void **state)
{
	struct sockaddr_in a;
	socklen_t al = sizeof(a);
	struct err e = {.msg = ""};
	int s = socket(AF_INET, SOCK_STREAM, 0), port;

	(void)state;
	/* a port that was just free: bound, never listened on, closed */
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&a, &al), 0);
	port = ntohs(a.sin_port);
	close(s);
	assert_int_equal(health_old_tls_refused("127.0.0.1", port, &e), -1);
	assert_non_null(strstr(e.msg, "could not connect"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_alerts_that_refuse),
	    cmocka_unit_test(test_tls11_accepted),
	    cmocka_unit_test(test_broken_servers_are_not_refusals),
	    cmocka_unit_test(test_nothing_listening),
	};

	return cmocka_run_group_tests_name("agent_health", tests, NULL, NULL);
}
