/*
 * test_agentrun.c: parsing the agent's event lines (strict JSON, as the
 * runner does), rendering them (re-encoded JSON, escaped text: nothing the
 * guest sends reaches the terminal raw) and quoting for the remote shell.
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

#include "agentrun.h"
#include "report.h"

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
	assert_int_equal(
	    agent_event_parse("{\"step\":\"make\",\"state\":\"fail\",\"ms\":5,\"msg\":"
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
	assert_int_equal(
	    agent_event_parse("  {\"step\":\"hosts\",\"state\":\"start\",\"msg\":\"x\"}", &ev), 0);
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
	assert_int_equal(
	    agent_event_parse("{\"extra\":{\"step\":\"no\"},\"step\":\"a\",\"state\":\"ok\"}", &ev),
	    0);
	assert_string_equal(ev.step, "a");
}

/* Only strict JSON is an event: YAML flow mappings parsed before. */
static void test_strict_json_only(void **state)
{
	static const char *const bad[] = {
	    "{step: docker, state: fail, msg: forged}",
	    "{\"step\": docker, \"state\": \"ok\"}",
	    "{'step':'docker','state':'ok'}",
	    "{\"step\":\"docker\",\"state\":\"ok\",}",
	    "{\"step\":\"docker\",\"state\":\"ok\"} trailing",
	    "{\"step\":\"docker\",\"state\":\"ok\"}{}",
	    "{\"step\":\"docker\" \"state\":\"ok\"}",
	    "{\"step\":\"docker\",\"state\":\"ok\",\"ms\":1.5}",
	    "{\"step\":\"docker\",\"state\":\"ok\",\"ms\":-3}",
	    "{\"step\":\"docker\",\"state\":\"ok\",\"ms\":\"12\"}",
	    "{\"step\":1,\"state\":\"ok\"}",
	    "{\"step\":\"docker\",\"state\":\"ok\",\"msg\":\"raw \x1b[31m escape\"}",
	    "{\"step\":\"docker\",\"state\":\"ok\",\"msg\":\"nul \\u0000 cut\"}",
	    "{\"step\":\"docker\",\"state\":\"ok\",\"msg\":\"lone \\udc00\"}",
	    "{\"step\":\"docker\",\"state\":\"ok\",\"msg\":\"bad \\x41\"}",
	    "{\"step\":\"docker\",\"state\":\"ok\",\"x\":tru}",
	    "{\"step\":\"docker\",\"state\":\"ok\",\"x\":01}",
	    "{\"step\":\"docker\",\"state\":\"ok\",\"x\":[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]}",
	    "{\"step\":\"docker\",\"state\":\"ok\" # comment\n}",
	};
	struct agent_event ev;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (agent_event_parse(bad[i], &ev) != -1)
			fail_msg("accepted: %s", bad[i]);
		assert_string_equal(ev.step, "");
	}
	assert_int_equal(agent_event_parse("{\"step\":\"a\",\"state\":\"ok\",\"x\":[1,-2.5e3,true,"
	                                   "false,null,{\"y\":[]}],\"ms\":0}",
	                                   &ev),
	                 0);
	assert_int_equal(ev.ms, 0);
	/* \u escapes decode to UTF-8, surrogate pairs included */
	assert_int_equal(agent_event_parse("{\"step\":\"a\",\"state\":\"ok\",\"msg\":"
	                                   "\"\\u00e9\\ud83d\\ude00\\/\"}",
	                                   &ev),
	                 0);
	assert_string_equal(ev.msg, "\xc3\xa9\xf0\x9f\x98\x80/");
}

/* A field longer than its buffer is cut at a whole character. */
static void test_long_fields_cut(void **state)
{
	char line[4096], *p = line;
	struct agent_event ev;
	int i;

	(void)state;
	p += sprintf(p, "{\"step\":\"");
	for (i = 0; i < 40; i++)
		p += sprintf(p, "\\u00e9");
	sprintf(p, "\",\"state\":\"ok\"}");
	assert_int_equal(agent_event_parse(line, &ev), 0);
	assert_int_equal(strlen(ev.step), 30); /* 15 whole characters of 2 bytes */
}

/* Runs fn with stdout and stderr going to a file; returns what was written. */
static char *captured(void (*fn)(void))
{
	FILE *tmp = tmpfile();
	int o = dup(1), e = dup(2);
	char *buf = calloc(1, 65536);
	size_t n;

	assert_non_null(tmp);
	assert_non_null(buf);
	fflush(stdout);
	fflush(stderr);
	dup2(fileno(tmp), 1);
	dup2(fileno(tmp), 2);
	fn();
	fflush(stdout);
	fflush(stderr);
	dup2(o, 1);
	dup2(e, 2);
	close(o);
	close(e);
	rewind(tmp);
	n = fread(buf, 1, 65535, tmp);
	buf[n] = '\0';
	fclose(tmp);
	return buf;
}

/* OSC (set the title), CSI (clear the screen), BEL, C1 CSI, a bad byte */
#define HOSTILE "\\u001b]0;pwned\\u0007 \\u001b[2J \\u009b31m \\u007f"

static void emit_hostile(void)
{
	struct agent_event ev;

	assert_int_equal(
	    agent_event_parse("{\"step\":\"make\",\"state\":\"fail\",\"ms\":7,\"msg\":\"" HOSTILE
	                      " bad\xff\",\"log\":\"/var/log/x\\u001b[0m\"}",
	                      &ev),
	    0);
	assert_non_null(strchr(ev.msg, '\x1b'));
	report_guest_event(ev.step, ev.state, ev.ms, ev.msg, ev.log);
	assert_int_equal(
	    agent_event_parse("{\"step\":\"make\",\"state\":\"start\",\"msg\":\"" HOSTILE "\"}",
	                      &ev),
	    0);
	report_guest_event(ev.step, ev.state, ev.ms, ev.msg, ev.log);
	assert_int_equal(
	    agent_event_parse("{\"step\":\"make\",\"state\":\"progress\",\"msg\":\"" HOSTILE "\"}",
	                      &ev),
	    0);
	report_guest_event(ev.step, ev.state, ev.ms, ev.msg, ev.log);
	report_debug("guest: %s", "raw \x1b]52;c;Y2xpcA==\x07 line");
	report_error("step make failed: \x1b[2Jgone");
}

static int has_control(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; *p; p++) {
		if ((*p < 0x20 && *p != '\n') || *p == 0x7f)
			return 1;
		if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
			return 1;
	}
	return 0;
}

static void test_human_output_escaped(void **state)
{
	char *out;

	(void)state;
	report_init(REPORT_HUMAN, 1);
	out = captured(emit_hostile);
	assert_int_equal(has_control(out), 0);
	assert_null(strchr(out, '\xff'));
	assert_non_null(
	    strstr(out, "    make     fail      0.0s  \\x1b]0;pwned\\x07 \\x1b[2J \\u009b31m "
	                "\\x7f bad\\xff\n"));
	assert_non_null(strstr(out, "==> make     \\x1b]0;pwned"));
	assert_non_null(strstr(out, "make     ... \\x1b]0;pwned"));
	assert_non_null(strstr(out, "debug: guest: raw \\x1b]52;c;Y2xpcA==\\x07 line\n"));
	assert_non_null(strstr(out, "inception: error: step make failed: \\x1b[2Jgone\n"));
	free(out);
}

static void test_json_output_reencoded(void **state)
{
	char *out, *line, *save = NULL;
	int n = 0;

	(void)state;
	report_init(REPORT_JSON, 1);
	out = captured(emit_hostile);
	assert_int_equal(has_control(out), 0);
	assert_null(strchr(out, '\xff'));
	assert_non_null(strstr(out,
	                       "{\"type\":\"step\",\"step\":\"make\",\"state\":\"fail\",\"ms\":7,"
	                       "\"msg\":\"\\u001b]0;pwned\\u0007 \\u001b[2J \\u009b31m \\u007f "
	                       "bad\\ufffd\",\"log\":\"/var/log/x\\u001b[0m\"}\n"));
	assert_non_null(
	    strstr(out, "{\"type\":\"step\",\"step\":\"make\",\"state\":\"start\",\"msg\":"));
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct agent_event ev;

		if (strncmp(line, "inception: error:", 17) == 0)
			continue; /* stderr */
		/* every stdout line is strict JSON our own parser reads back */
		assert_true(line[0] == '{');
		if (strstr(line, "\"step\":"))
			assert_int_equal(agent_event_parse(line, &ev), 0);
		n++;
	}
	assert_int_equal(n, 5); /* 3 events, the debug line, the error */
	free(out);
	report_init(REPORT_HUMAN, 0);
}

static void test_sanitize_cuts_whole(void **state)
{
	char out[8];

	(void)state;
	assert_int_equal(report_sanitize("ab\x1b"
	                                 "cd",
	                                 out, sizeof(out)),
	                 7);
	assert_string_equal(out, "ab\\x1bc");
	assert_int_equal(report_sanitize("abcd\x1b", out, sizeof(out)), 4); /* no half escape */
	assert_string_equal(out, "abcd");
	assert_int_equal(report_sanitize("abcdef\xc3\xa9", out, sizeof(out)), 6);
	assert_string_equal(out, "abcdef");
	assert_int_equal(report_sanitize("\t\xc2\x9b", out, sizeof(out)), 7);
	assert_string_equal(out, " \\u009b");
}

static void test_shell_quote(void **state)
{
	struct err e = {.msg = ""};
	char buf[64];

	(void)state;
	assert_int_equal(shell_quote("/home/jdoe/inception/.inception/agent", buf, sizeof(buf), &e),
	                 0);
	assert_string_equal(buf, "'/home/jdoe/inception/.inception/agent'");
	assert_int_equal(shell_quote("it's $(x) `y`", buf, sizeof(buf), &e), 0);
	assert_string_equal(buf, "'it'\\''s $(x) `y`'");
	assert_int_equal(shell_quote("", buf, sizeof(buf), &e), 0);
	assert_string_equal(buf, "''");
	assert_int_equal(
	    shell_quote("0123456789012345678901234567890123456789012345678901234567890123", buf,
	                sizeof(buf), &e),
	    -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_event_ok),
	    cmocka_unit_test(test_event_escapes_and_log),
	    cmocka_unit_test(test_event_start_without_ms),
	    cmocka_unit_test(test_not_events),
	    cmocka_unit_test(test_strict_json_only),
	    cmocka_unit_test(test_long_fields_cut),
	    cmocka_unit_test(test_human_output_escaped),
	    cmocka_unit_test(test_json_output_reencoded),
	    cmocka_unit_test(test_sanitize_cuts_whole),
	    cmocka_unit_test(test_shell_quote),
	};

	return cmocka_run_group_tests_name("agentrun", tests, NULL, NULL);
}
