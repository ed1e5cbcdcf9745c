/*
 * events.c: event lines on stdout, free text on stderr + agent.log (see events.h).
 */
#include "events.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "agstate.h"

static struct {
	int json;
	FILE *log;
	char log_path[512];
} E;

long ev_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void ev_init(int json, const char *log_dir)
{
	E.json = json;
	if (log_dir && mkdir_p(log_dir, 0755, NULL) == 0) {
		snprintf(E.log_path, sizeof(E.log_path), "%s/agent.log", log_dir);
		E.log = fopen(E.log_path, "a");
	}
}

void ev_close(void)
{
	if (E.log)
		fclose(E.log);
	E.log = NULL;
}

const char *ev_log_path(void)
{
	return E.log_path[0] ? E.log_path : "(no log file)";
}

void ev_log(const char *fmt, ...)
{
	char buf[2048], stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fprintf(stderr, "agent: %s\n", buf);
	if (E.log) {
		gmtime_r(&now, &tm);
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
		fprintf(E.log, "%s %s\n", stamp, buf);
		fflush(E.log);
	}
}

static void json_str(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	fputc('"', f);
	for (; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", f);
		else if (*p == '\t')
			fputs("\\t", f);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

void ev_emit(const char *step, const char *state, long ms, const char *msg, const char *log)
{
	if (E.json) {
		fputs("{\"step\":", stdout);
		json_str(stdout, step);
		fputs(",\"state\":", stdout);
		json_str(stdout, state);
		if (ms >= 0)
			fprintf(stdout, ",\"ms\":%ld", ms);
		fputs(",\"msg\":", stdout);
		json_str(stdout, msg);
		if (log) {
			fputs(",\"log\":", stdout);
			json_str(stdout, log);
		}
		fputs("}\n", stdout);
	} else if (strcmp(state, "start") == 0) {
		fprintf(stdout, "==> %-7s %s\n", step, msg ? msg : "");
	} else if (strcmp(state, "progress") == 0) {
		fprintf(stdout, "    %-7s ... %s\n", step, msg ? msg : "");
	} else {
		fprintf(stdout, "    %-7s %-6s %6.1fs  %s%s%s\n", step, state,
		        ms >= 0 ? (double)ms / 1000.0 : 0.0, msg ? msg : "", log ? "  log: " : "",
		        log ? log : "");
	}
	fflush(stdout);
	if (E.log && strcmp(state, "progress") != 0) {
		fprintf(E.log, "event %s %s %ld %s\n", step, state, ms, msg ? msg : "");
		fflush(E.log);
	}
}
