/*
 * test_agentrun.c: parsing the agent's event lines (with libyaml, as the
 * runner does) and quoting for the remote shell.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "agentrun.h"

static void test_event_ok(void **state)
{
	struct agent_event ev;

	(void)state;
	assert_int_equal(agent_event_parse("{\"step\":\"docker\",\"state\":\"ok\",\"ms\":41234,"
					   "\"msg\":\"installed, compose 2.26.1 (debian)\"}",
					   &ev),
			 0);
	assert_string_equal(ev.step, "docker");
	assert_string_equal(ev.state, "ok");
	assert_int_equal(ev.ms, 41234);
	assert_string_equal(ev.msg, "installed, compose 2.26.1 (debian)");
	assert_string_equal(ev.log, "");
}

static void test_event_escapes_and_log(void **state)
{
	struct agent_event ev;

	(void)state;
	assert_int_equal(agent_event_parse("{\"step\":\"make\",\"state\":\"fail\",\"ms\":5,\"msg\":"
					   "\"a \\\"quoted\\\" word\\nline2\\ttab \\u0001 x: y, z\","
					   "\"log\":\"/var/log/inception/make.log\"}",
					   &ev),
			 0);
	assert_string_equal(ev.state, "fail");
	assert_string_equal(ev.msg, "a \"quoted\" word\nline2\ttab \001 x: y, z");
	assert_string_equal(ev.log, "/var/log/inception/make.log");
}

static void test_event_start_without_ms(void **state)
{
	struct agent_event ev;

	(void)state;
	assert_int_equal(agent_event_parse("  {\"step\":\"hosts\",\"state\":\"start\",\"msg\":\"x\"}",
					   &ev),
			 0);
	assert_int_equal(ev.ms, -1);
	assert_string_equal(ev.step, "hosts");
}

static void test_not_events(void **state)
{
	struct agent_event ev;

	(void)state;
	assert_int_equal(agent_event_parse("agent: step hosts: start", &ev), -1);
	assert_int_equal(agent_event_parse("", &ev), -1);
	assert_int_equal(agent_event_parse("{\"state\":\"ok\"}", &ev), -1);
	assert_int_equal(agent_event_parse("{\"step\":\"x\"}", &ev), -1);
	assert_int_equal(agent_event_parse("{\"step\":\"x\",\"state\":", &ev), -1);
	assert_int_equal(agent_event_parse("{not json at all: [", &ev), -1);
	/* a nested value does not confuse the keys */
	assert_int_equal(agent_event_parse("{\"extra\":{\"step\":\"no\"},\"step\":\"a\",\"state\":\"ok\"}",
					   &ev),
			 0);
	assert_string_equal(ev.step, "a");
}

static void test_shell_quote(void **state)
{
	struct err e = { .msg = "" };
	char buf[64];

	(void)state;
	assert_int_equal(shell_quote("/home/jdoe/inception/.inception/agent", buf, sizeof(buf), &e), 0);
	assert_string_equal(buf, "'/home/jdoe/inception/.inception/agent'");
	assert_int_equal(shell_quote("it's $(x) `y`", buf, sizeof(buf), &e), 0);
	assert_string_equal(buf, "'it'\\''s $(x) `y`'");
	assert_int_equal(shell_quote("", buf, sizeof(buf), &e), 0);
	assert_string_equal(buf, "''");
	assert_int_equal(shell_quote("0123456789012345678901234567890123456789012345678901234567890123",
				     buf, sizeof(buf), &e),
			 -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_event_ok),
		cmocka_unit_test(test_event_escapes_and_log),
		cmocka_unit_test(test_event_start_without_ms),
		cmocka_unit_test(test_not_events),
		cmocka_unit_test(test_shell_quote),
	};

	return cmocka_run_group_tests_name("agentrun", tests, NULL, NULL);
}
