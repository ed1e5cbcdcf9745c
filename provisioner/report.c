/*
 * report.c: rendering for people or for machines (see report.h).
 *
 * Human output goes to stderr for chatter (progress, steps, warnings) and to
 * stdout for results (config, status), so `inception status > file` keeps
 * only the result.  JSON output is one object per line on stdout.
 */
#include "report.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define KV_MAX 64

static struct {
	enum report_mode mode;
	int verbosity;
	bool tty;
	bool progress_shown;
	long progress_last_ms;
	uint64_t progress_start_done; /* bytes already there (resumed) */
	long progress_start_ms;
	/* buffered key/value pairs, so columns can be aligned */
	int nkv;
	char *kv_key[KV_MAX];
	char *kv_val[KV_MAX];
	char *kv_note[KV_MAX];
	bool kv_raw[KV_MAX];
	bool kv_any_note;
	/* the message of the last step shown as failed: the error main()
	 * reports next is the same one, and is not printed twice */
	char failed_msg[1024];
} R;

long report_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void report_init(enum report_mode mode, int verbosity)
{
	R.mode = mode;
	R.verbosity = verbosity;
	R.tty = isatty(STDERR_FILENO) == 1;
}

enum report_mode report_mode(void)
{
	return R.mode;
}
int report_verbosity(void)
{
	return R.verbosity;
}

/* Length (1-4) of the well-formed UTF-8 sequence at p, with its code point
 * in *cp; 0 when p does not start one (overlong forms, surrogates and
 * values past U+10FFFF included). */
static int utf8_seq(const unsigned char *p, unsigned *cp)
{
	unsigned c = p[0], v, min;
	int len, i;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2, v = c & 0x1f, min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3, v = c & 0x0f, min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4, v = c & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (p[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return len;
}

void json_write_string(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	fputc('"', f);
	while (*p) {
		unsigned cp;
		int len = utf8_seq(p, &cp);

		if (len == 0) { /* not UTF-8: the replacement character */
			fputs("\\ufffd", f);
			p++;
			continue;
		}
		switch (cp) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		default:
			if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
				fprintf(f, "\\u%04x", cp);
			else
				fwrite(p, 1, (size_t)len, f);
		}
		p += len;
	}
	fputc('"', f);
}

size_t report_sanitize(const char *s, char *out, size_t n)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t o = 0;

	if (n == 0)
		return 0;
	while (*p) {
		char piece[8];
		unsigned cp;
		int len = utf8_seq(p, &cp);
		size_t pl;

		if (len == 0) {
			snprintf(piece, sizeof(piece), "\\x%02x", *p);
			len = 1;
		} else if (cp == '\t') {
			snprintf(piece, sizeof(piece), " ");
		} else if (cp < 0x20 || cp == 0x7f) {
			snprintf(piece, sizeof(piece), "\\x%02x", cp);
		} else if (cp >= 0x80 && cp <= 0x9f) { /* C1 controls (CSI, OSC as one code) */
			snprintf(piece, sizeof(piece), "\\u%04x", cp);
		} else {
			memcpy(piece, p, (size_t)len);
			piece[len] = '\0';
		}
		pl = strlen(piece);
		if (o + pl >= n)
			break;
		memcpy(out + o, piece, pl);
		o += pl;
		p += len;
	}
	out[o] = '\0';
	return o;
}

/* The single way human output reaches the terminal: every control
 * character escaped (the text may come from the guest or a console). */
static void human_line(FILE *f, const char *text)
{
	char safe[4 * 4096 + 1];

	report_sanitize(text, safe, sizeof(safe));
	fputs(safe, f);
	fputc('\n', f);
}

static void clear_progress(void)
{
	if (R.progress_shown && R.tty && R.mode == REPORT_HUMAN) {
		fputs("\r\033[K", stderr);
		R.progress_shown = false;
	}
}

static void json_event(const char *type, const char *msg)
{
	fputs("{\"type\":", stdout);
	json_write_string(stdout, type);
	fputs(",\"msg\":", stdout);
	json_write_string(stdout, msg);
	fputs("}\n", stdout);
	fflush(stdout);
}

static void vmessage(const char *type, const char *prefix, const char *fmt, va_list ap)
{
	char buf[4096];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	if (R.mode == REPORT_JSON) {
		json_event(type, buf);
		return;
	}
	clear_progress();
	fputs(prefix, stderr);
	human_line(stderr, buf);
}

void report_info(const char *fmt, ...)
{
	va_list ap;

	if (R.verbosity < 0)
		return;
	va_start(ap, fmt);
	vmessage("info", "", fmt, ap);
	va_end(ap);
}

void report_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage("warning", "warning: ", fmt, ap);
	va_end(ap);
}

void report_debug(const char *fmt, ...)
{
	va_list ap;

	if (R.verbosity < 1)
		return;
	va_start(ap, fmt);
	vmessage("debug", "debug: ", fmt, ap);
	va_end(ap);
}

/* 1 if msg is (or ends with) the message a failed step line already showed */
static bool shown_as_failed_step(const char *msg)
{
	size_t n = strlen(msg), f = strlen(R.failed_msg);

	return f > 0 && n >= f && strcmp(msg + n - f, R.failed_msg) == 0;
}

void report_error(const char *msg)
{
	clear_progress();
	if (R.mode == REPORT_JSON)
		json_event("error", msg);
	else if (shown_as_failed_step(msg))
		return;
	fputs("inception: error: ", stderr);
	human_line(stderr, msg);
}

void report_step_begin(const char *step, const char *what)
{
	if (R.mode == REPORT_JSON) {
		fputs("{\"type\":\"step\",\"step\":", stdout);
		json_write_string(stdout, step);
		fputs(",\"state\":\"start\",\"msg\":", stdout);
		json_write_string(stdout, what);
		fputs("}\n", stdout);
		fflush(stdout);
		return;
	}
	if (R.verbosity < 0)
		return;
	clear_progress();
	{
		char line[4096];

		snprintf(line, sizeof(line), "==> %-8s %s", step, what ? what : "");
		human_line(stderr, line);
	}
}

void report_step_end(const char *step, const char *state, long ms, const char *msg)
{
	if (R.mode == REPORT_JSON) {
		fputs("{\"type\":\"step\",\"step\":", stdout);
		json_write_string(stdout, step);
		fputs(",\"state\":", stdout);
		json_write_string(stdout, state);
		fprintf(stdout, ",\"ms\":%ld,\"msg\":", ms);
		json_write_string(stdout, msg);
		fputs("}\n", stdout);
		fflush(stdout);
		return;
	}
	if (R.verbosity < 0 && strcmp(state, "fail") != 0)
		return;
	clear_progress();
	{
		char line[4096];

		snprintf(line, sizeof(line), "    %-8s %-6s %6.1fs  %s", step, state,
		         (double)ms / 1000.0, msg ? msg : "");
		human_line(stderr, line);
	}
	if (strcmp(state, "fail") == 0)
		snprintf(R.failed_msg, sizeof(R.failed_msg), "%s", msg ? msg : "");
}

static void human_size(char *buf, size_t n, double v)
{
	const char *unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	int i = 0;

	while (v >= 1024.0 && i < 4) {
		v /= 1024.0;
		i++;
	}
	snprintf(buf, n, i ? "%.1f %s" : "%.0f %s", v, unit[i]);
}

void report_progress(const char *what, uint64_t done, uint64_t total)
{
	long now = report_now_ms();
	char d[32], t[32], r[32], w[256];
	double rate, secs;

	if (!R.progress_shown && R.progress_start_ms == 0) {
		R.progress_start_ms = now;
		R.progress_start_done = done;
		R.progress_last_ms = 0;
	}
	secs = (double)(now - R.progress_start_ms) / 1000.0;
	rate = secs > 0.2 && done >= R.progress_start_done
	           ? (double)(done - R.progress_start_done) / secs
	           : 0.0;
	if (R.mode == REPORT_JSON) {
		if (now - R.progress_last_ms < 1000 && done != total)
			return;
		R.progress_last_ms = now;
		fputs("{\"type\":\"progress\",\"what\":", stdout);
		json_write_string(stdout, what);
		fprintf(stdout, ",\"done\":%llu,\"total\":%llu,\"rate\":%.0f}\n",
		        (unsigned long long)done, (unsigned long long)total, rate);
		fflush(stdout);
		return;
	}
	if (R.verbosity < 0)
		return;
	if (!R.tty && now - R.progress_last_ms < 5000 && done != total)
		return;
	if (R.tty && now - R.progress_last_ms < 100 && done != total)
		return;
	R.progress_last_ms = now;
	report_sanitize(what, w, sizeof(w));
	human_size(d, sizeof(d), (double)done);
	human_size(r, sizeof(r), rate);
	if (total > 0) {
		int pct = (int)(done * 100 / total);
		double eta = rate > 0 ? (double)(total - done) / rate : 0;
		char bar[21];
		int fill = pct / 5;

		human_size(t, sizeof(t), (double)total);
		memset(bar, '#', (size_t)fill);
		memset(bar + fill, '.', (size_t)(20 - fill));
		bar[20] = '\0';
		fprintf(stderr, "%s%s [%s] %3d%% %s / %s  %s/s  ETA %.0fs%s",
		        R.tty ? "\r\033[K" : "", w, bar, pct, d, t, r, eta, R.tty ? "" : "\n");
	} else {
		fprintf(stderr, "%s%s %s  %s/s%s", R.tty ? "\r\033[K" : "", w, d, r,
		        R.tty ? "" : "\n");
	}
	R.progress_shown = true;
}

void report_progress_done(void)
{
	if (R.progress_shown && R.tty && R.mode == REPORT_HUMAN)
		fputc('\n', stderr);
	R.progress_shown = false;
	R.progress_start_ms = 0;
}

static char *dupstr(const char *s)
{
	return s ? strdup(s) : NULL;
}

void report_kv_begin(const char *title)
{
	R.nkv = 0;
	R.kv_any_note = false;
	if (R.mode == REPORT_HUMAN && title && R.verbosity >= 0)
		human_line(stdout, title);
}

static void kv_add(const char *key, const char *value, const char *note, bool raw)
{
	if (R.nkv >= KV_MAX)
		return;
	R.kv_key[R.nkv] = dupstr(key);
	R.kv_val[R.nkv] = dupstr(value ? value : "");
	R.kv_note[R.nkv] = dupstr(note);
	R.kv_raw[R.nkv] = raw;
	if (note)
		R.kv_any_note = true;
	R.nkv++;
}

void report_kv(const char *key, const char *value, const char *note)
{
	kv_add(key, value, note, false);
}

void report_kv_raw(const char *key, const char *raw_json, const char *note)
{
	kv_add(key, raw_json, note, true);
}

void report_kv_end(void)
{
	int i, width = 0;

	for (i = 0; i < R.nkv; i++)
		if ((int)strlen(R.kv_key[i]) > width)
			width = (int)strlen(R.kv_key[i]);
	if (R.mode == REPORT_JSON)
		fputc('{', stdout);
	for (i = 0; i < R.nkv; i++) {
		if (R.mode == REPORT_JSON) {
			if (i)
				fputc(',', stdout);
			json_write_string(stdout, R.kv_key[i]);
			fputc(':', stdout);
			if (R.kv_any_note)
				fputs("{\"value\":", stdout);
			if (R.kv_raw[i])
				fputs(R.kv_val[i], stdout);
			else
				json_write_string(stdout, R.kv_val[i]);
			if (R.kv_any_note) {
				fputs(",\"note\":", stdout);
				if (R.kv_note[i])
					json_write_string(stdout, R.kv_note[i]);
				else
					fputs("null", stdout);
				fputc('}', stdout);
			}
		} else {
			char line[4096];

			if (R.kv_note[i])
				snprintf(line, sizeof(line), "  %-*s  %-40s  (%s)", width,
				         R.kv_key[i], R.kv_val[i], R.kv_note[i]);
			else
				snprintf(line, sizeof(line), "  %-*s  %s", width, R.kv_key[i],
				         R.kv_val[i]);
			human_line(stdout, line);
		}
		free(R.kv_key[i]);
		free(R.kv_val[i]);
		free(R.kv_note[i]);
	}
	if (R.mode == REPORT_JSON)
		fputs("}\n", stdout);
	fflush(stdout);
	R.nkv = 0;
}

void report_status(const char *phase, long elapsed_ms, const char *detail)
{
	long now = report_now_ms();
	char raw[1024], line[4 * sizeof(raw)];

	if (R.mode == REPORT_JSON) {
		if (now - R.progress_last_ms < 2000)
			return;
		R.progress_last_ms = now;
		fputs("{\"type\":\"wait\",\"step\":", stdout);
		json_write_string(stdout, phase);
		fprintf(stdout, ",\"ms\":%ld,\"msg\":", elapsed_ms);
		json_write_string(stdout, detail);
		fputs("}\n", stdout);
		fflush(stdout);
		return;
	}
	if (R.verbosity < 0)
		return;
	if (now - R.progress_last_ms < (R.tty ? 250 : 10000))
		return;
	R.progress_last_ms = now;
	snprintf(raw, sizeof(raw), "    %-10s %4lds  %s", phase, elapsed_ms / 1000,
	         detail ? detail : "");
	/* console lines may hold control characters; on a TTY, one terminal
	 * line (80 columns at most), so \r redraws it */
	report_sanitize(raw, line, R.tty ? 80 : sizeof(line));
	if (R.tty) {
		fprintf(stderr, "\r\033[K%s", line);
		R.progress_shown = true;
	} else {
		fprintf(stderr, "%s\n", line);
	}
}

void report_guest_event(const char *step, const char *state, long ms, const char *msg,
                        const char *log)
{
	if (R.mode == REPORT_JSON) {
		fputs("{\"type\":\"step\",\"step\":", stdout);
		json_write_string(stdout, step);
		fputs(",\"state\":", stdout);
		json_write_string(stdout, state);
		if (ms >= 0)
			fprintf(stdout, ",\"ms\":%ld", ms);
		fputs(",\"msg\":", stdout);
		json_write_string(stdout, msg);
		if (log && *log) {
			fputs(",\"log\":", stdout);
			json_write_string(stdout, log);
		}
		fputs("}\n", stdout);
		fflush(stdout);
		return;
	}
	if (strcmp(state, "start") == 0)
		report_step_begin(step, msg);
	else if (strcmp(state, "progress") == 0)
		report_info("    %-8s ... %s", step, msg);
	else
		report_step_end(step, state, ms < 0 ? 0 : ms, msg);
}

void report_check_row(const char *section, const char *point, const char *state, int ends,
                      const char *evidence)
{
	static char last_section[64];
	char ev[2048];

	if (R.mode == REPORT_JSON) {
		fputs("{\"type\":\"check\",\"section\":", stdout);
		json_write_string(stdout, section);
		fputs(",\"point\":", stdout);
		json_write_string(stdout, point);
		fputs(",\"state\":", stdout);
		json_write_string(stdout, state);
		fprintf(stdout, ",\"ends_evaluation\":%s,\"evidence\":", ends ? "true" : "false");
		json_write_string(stdout, evidence);
		fputs("}\n", stdout);
		fflush(stdout);
		return;
	}
	report_sanitize(evidence ? evidence : "", ev, sizeof(ev));
	clear_progress();
	if (strcmp(last_section, section) != 0) {
		snprintf(last_section, sizeof(last_section), "%s", section);
		printf("%s\n", section);
	}
	printf("  %-46s %-6s %-4s %s\n", point, state, ends ? "ends" : "", ev);
	fflush(stdout);
}

void report_check_summary(int pass, int fail, int manual, int skip)
{
	if (R.mode == REPORT_JSON) {
		fprintf(stdout,
		        "{\"type\":\"check-summary\",\"pass\":%d,\"fail\":%d,\"manual\":%d,"
		        "\"skip\":%d}\n",
		        pass, fail, manual, skip);
		fflush(stdout);
		return;
	}
	printf("%d PASS, %d FAIL, %d MANUAL, %d SKIP\n", pass, fail, manual, skip);
	fflush(stdout);
}
