/*
 * agentrun.c: the guest agent over SSH, events rendered live (see agentrun.h).
 */
#include "agentrun.h"

#include "buf.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "report.h"
#include "sshc.h"

#define TAIL_LINES 40
#define CAPTURE_MAX (1024 * 1024) /* bytes of output remote_capture keeps */

int shell_quote(const char *s, char *buf, size_t n, struct err *e)
{
	size_t o = 0;

	if (n < 3)
		return err_set(e, "quote: buffer too small");
	buf[o++] = '\'';
	for (; *s; s++) {
		const char *piece = *s == '\'' ? "'\\''" : NULL;
		size_t pl = piece ? 4 : 1;

		if (o + pl + 2 > n)
			return err_set(e, "quote: argument too long");
		if (piece) {
			memcpy(buf + o, piece, 4);
		} else {
			buf[o] = *s;
		}
		o += pl;
	}
	buf[o++] = '\'';
	buf[o] = '\0';
	return 0;
}

/* A strict JSON reader (RFC 8259) for one event line: an object whose
 * members are strings, numbers, true, false, null or nested values (read
 * and ignored, at most JSON_DEPTH deep), and nothing after it.  YAML flow
 * (`{step: x}`), single quotes, comments, trailing commas and control
 * characters inside strings are all refused. */
#define JSON_DEPTH 16

struct jr {
	const char *p;
};

static void j_ws(struct jr *j)
{
	while (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')
		j->p++;
}

static int j_hex4(struct jr *j, unsigned *v)
{
	int i;

	*v = 0;
	for (i = 0; i < 4; i++) {
		char c = *j->p;

		if (c >= '0' && c <= '9')
			*v = *v * 16 + (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			*v = *v * 16 + (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			*v = *v * 16 + (unsigned)(c - 'A' + 10);
		else
			return -1;
		j->p++;
	}
	return 0;
}

static size_t utf8_put(unsigned cp, char *b)
{
	if (cp < 0x80) {
		b[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		b[0] = (char)(0xc0 | (cp >> 6));
		b[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		b[0] = (char)(0xe0 | (cp >> 12));
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	b[0] = (char)(0xf0 | (cp >> 18));
	b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	b[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* A string into out (n bytes; NULL = skip it), cut at a whole character
 * when it does not fit.  \u0000 is refused (it would cut the text).
 * Longer than 60 lines: JSON's escapes, one case each. */
static int j_string(struct jr *j, char *out, size_t n)
{
	size_t o = 0;
	int full = 0;

	if (*j->p != '"')
		return -1;
	j->p++;
	for (;;) {
		unsigned char c = (unsigned char)*j->p;
		char enc[4];
		size_t el = 1;

		if (c < 0x20) /* control characters, the terminator included */
			return -1;
		j->p++;
		if (c == '"')
			break;
		enc[0] = (char)c;
		if (c == '\\') {
			unsigned cp;

			c = (unsigned char)*j->p++;
			switch (c) {
			case '"':
			case '\\':
			case '/': enc[0] = (char)c; break;
			case 'b': enc[0] = '\b'; break;
			case 'f': enc[0] = '\f'; break;
			case 'n': enc[0] = '\n'; break;
			case 'r': enc[0] = '\r'; break;
			case 't': enc[0] = '\t'; break;
			case 'u':
				if (j_hex4(j, &cp) < 0)
					return -1;
				if (cp >= 0xd800 && cp <= 0xdbff) {
					unsigned lo;

					if (j->p[0] != '\\' || j->p[1] != 'u')
						return -1;
					j->p += 2;
					if (j_hex4(j, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
						return -1;
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				} else if ((cp >= 0xdc00 && cp <= 0xdfff) || cp == 0) {
					return -1;
				}
				el = utf8_put(cp, enc);
				break;
			default: return -1;
			}
		}
		if (out == NULL || full)
			continue;
		if (o + el >= n) {
			full = 1;
			continue;
		}
		memcpy(out + o, enc, el);
		o += el;
	}
	if (out)
		out[o] = '\0';
	return 0;
}

/* A number; *v gets its integer part when it fits a long. */
static int j_number(struct jr *j, long *v, int *is_int)
{
	const char *s = j->p;
	char *end;

	*is_int = 1;
	if (*j->p == '-')
		j->p++;
	if (*j->p == '0')
		j->p++;
	else if (*j->p >= '1' && *j->p <= '9')
		while (*j->p >= '0' && *j->p <= '9')
			j->p++;
	else
		return -1;
	if (*j->p == '.') {
		*is_int = 0;
		j->p++;
		if (!(*j->p >= '0' && *j->p <= '9'))
			return -1;
		while (*j->p >= '0' && *j->p <= '9')
			j->p++;
	}
	if (*j->p == 'e' || *j->p == 'E') {
		*is_int = 0;
		j->p++;
		if (*j->p == '+' || *j->p == '-')
			j->p++;
		if (!(*j->p >= '0' && *j->p <= '9'))
			return -1;
		while (*j->p >= '0' && *j->p <= '9')
			j->p++;
	}
	errno = 0;
	*v = strtol(s, &end, 10);
	if (errno == ERANGE)
		*is_int = 0;
	return 0;
}

static int j_value(struct jr *j, int depth);

/* Members after '{' (or elements after '['), values read and ignored. */
static int j_skip_container(struct jr *j, char close, int depth)
{
	if (depth > JSON_DEPTH)
		return -1;
	j_ws(j);
	if (*j->p == close) {
		j->p++;
		return 0;
	}
	for (;;) {
		j_ws(j);
		if (close == '}') {
			if (j_string(j, NULL, 0) < 0)
				return -1;
			j_ws(j);
			if (*j->p++ != ':')
				return -1;
			j_ws(j);
		}
		if (j_value(j, depth) < 0)
			return -1;
		j_ws(j);
		if (*j->p == ',') {
			j->p++;
			continue;
		}
		if (*j->p++ != close)
			return -1;
		return 0;
	}
}

static int j_value(struct jr *j, int depth)
{
	long v;
	int is_int;

	switch (*j->p) {
	case '"': return j_string(j, NULL, 0);
	case '{': j->p++; return j_skip_container(j, '}', depth + 1);
	case '[': j->p++; return j_skip_container(j, ']', depth + 1);
	case 't': return strncmp(j->p, "true", 4) == 0 ? (j->p += 4, 0) : -1;
	case 'f': return strncmp(j->p, "false", 5) == 0 ? (j->p += 5, 0) : -1;
	case 'n': return strncmp(j->p, "null", 4) == 0 ? (j->p += 4, 0) : -1;
	default: return j_number(j, &v, &is_int);
	}
}

/* One member of the event object: the known keys into ev, others skipped. */
static int j_member(struct jr *j, struct agent_event *ev)
{
	char key[32];
	char *dst = NULL;
	size_t n = 0;

	if (j_string(j, key, sizeof(key)) < 0)
		return -1;
	j_ws(j);
	if (*j->p++ != ':')
		return -1;
	j_ws(j);
	if (strcmp(key, "step") == 0)
		dst = ev->step, n = sizeof(ev->step);
	else if (strcmp(key, "state") == 0)
		dst = ev->state, n = sizeof(ev->state);
	else if (strcmp(key, "msg") == 0)
		dst = ev->msg, n = sizeof(ev->msg);
	else if (strcmp(key, "log") == 0)
		dst = ev->log, n = sizeof(ev->log);
	if (dst != NULL) /* these must be strings */
		return j_string(j, dst, n);
	if (strcmp(key, "ms") == 0) {
		long v;
		int is_int;

		if (j_number(j, &v, &is_int) < 0 || !is_int || v < 0)
			return -1;
		ev->ms = v;
		return 0;
	}
	return j_value(j, 1);
}

int agent_event_parse(const char *line, struct agent_event *ev)
{
	struct jr j = {line};

	memset(ev, 0, sizeof(*ev));
	ev->ms = -1;
	j_ws(&j);
	if (*j.p++ != '{')
		goto bad;
	j_ws(&j);
	if (*j.p == '}') {
		j.p++;
	} else {
		for (;;) {
			j_ws(&j);
			if (j_member(&j, ev) < 0)
				goto bad;
			j_ws(&j);
			if (*j.p == ',') {
				j.p++;
				continue;
			}
			if (*j.p++ != '}')
				goto bad;
			break;
		}
	}
	j_ws(&j);
	if (*j.p != '\0' || !ev->step[0] || !ev->state[0])
		goto bad;
	return 0;
bad:
	memset(ev, 0, sizeof(*ev));
	ev->ms = -1;
	return -1;
}

/* ------------------------------------------------------------------- run */

static volatile sig_atomic_t interrupts;

static void on_sigint(int sig)
{
	(void)sig;
	interrupts++;
}

struct runstate {
	struct agent_result *r;
	char *tail[TAIL_LINES];
	int ntail;
	char line[AGENT_LINE_MAX + 1];
	size_t n;
	int overlong; /* dropping the rest of an over-long line */
};

static void keep_tail(struct runstate *rs, const char *line)
{
	int i = rs->ntail % TAIL_LINES;

	free(rs->tail[i]);
	rs->tail[i] = strdup(line);
	rs->ntail++;
}

static void handle_line(struct runstate *rs, const char *line)
{
	struct agent_event ev;

	if (agent_event_parse(line, &ev) < 0) {
		if (*line) {
			keep_tail(rs, line);
			report_debug("guest: %s", line);
		}
		return;
	}
	if (strcmp(ev.state, "start") == 0)
		snprintf(rs->r->last_step, sizeof(rs->r->last_step), "%s", ev.step);
	if (strcmp(ev.state, "fail") == 0) {
		snprintf(rs->r->failed_step, sizeof(rs->r->failed_step), "%s", ev.step);
		snprintf(rs->r->failed_msg, sizeof(rs->r->failed_msg), "%s", ev.msg);
		snprintf(rs->r->failed_log, sizeof(rs->r->failed_log), "%s", ev.log);
	} else if (strcmp(ev.state, "ok") == 0) {
		rs->r->steps_run++;
	} else if (strcmp(ev.state, "cached") == 0) {
		rs->r->steps_cached++;
	}
	/* re-encoded from the parsed fields, never the guest's own bytes */
	report_guest_event(ev.step, ev.state, ev.ms, ev.msg, ev.log);
}

/* Splits the stream into lines.  A line longer than the buffer is never an
 * event: its start is kept as a plain line, marked, and the rest of it is
 * dropped up to the next newline. */
static void feed(struct runstate *rs, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] == '\n') {
			rs->line[rs->n] = '\0';
			if (!rs->overlong)
				handle_line(rs, rs->line);
			rs->n = 0;
			rs->overlong = 0;
			continue;
		}
		if (rs->overlong || p[i] == '\r')
			continue;
		if (rs->n == sizeof(rs->line) - 1) {
			char cut[sizeof(rs->line) + 64];

			rs->line[rs->n] = '\0';
			snprintf(cut, sizeof(cut), "[line longer than %zu bytes, cut] %s",
			         sizeof(rs->line) - 1, rs->line);
			keep_tail(rs, cut);
			report_debug("guest: %s", cut);
			rs->overlong = 1;
			rs->n = 0;
			continue;
		}
		rs->line[rs->n++] = p[i];
	}
}

/* Longer than 60 lines: the read loop over the guest's lines (events, other lines, time limit,
 * interruption) shares the channel and the result it fills; each branch is a few lines. */
int agent_run(ssh_session s, const char *agent_path, const char *args, int timeout_s,
              struct agent_result *r, struct err *e)
{
	struct sigaction sa, old_int, old_term;
	struct runstate rs;
	ssh_channel ch = NULL;
	char cmd[4096], q[1024];
	int ret = -1, i, seen = 0;
	long deadline = timeout_s > 0 ? report_now_ms() + (long)timeout_s * 1000 : 0;

	memset(r, 0, sizeof(*r));
	memset(&rs, 0, sizeof(rs));
	rs.r = r;
	if (shell_quote(agent_path, q, sizeof(q), e) < 0)
		return -1;
	if (snprintf(cmd, sizeof(cmd), "sudo -n %s --json %s", q, args ? args : "") >=
	    (int)sizeof(cmd))
		return err_set(e, "agent command too long");
	ch = ssh_channel_new(s);
	if (ch == NULL)
		return err_set(e, "ssh: cannot create a channel: %s", ssh_get_error(s));
	if (ssh_channel_open_session(ch) != SSH_OK) {
		err_set(e, "ssh: cannot open a session: %s", ssh_get_error(s));
		goto done;
	}
	/* A pty, so that ^C reaches the agent as SIGINT whatever sshd thinks of
	 * signal requests; wide, so lines are not wrapped. */
	if (ssh_channel_request_pty_size(ch, "dumb", 1000, 50) != SSH_OK) {
		err_set(e, "ssh: cannot get a pty: %s", ssh_get_error(s));
		goto done;
	}
	if (ssh_channel_request_exec(ch, cmd) != SSH_OK) {
		err_set(e, "ssh: cannot run the agent: %s", ssh_get_error(s));
		goto done;
	}
	interrupts = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	for (;;) {
		char buf[16384];
		int n, rc = ssh_channel_poll_timeout(ch, 200, 0);

		if (interrupts > seen) {
			seen = interrupts;
			r->interrupted = 1;
			if (seen == 1) {
				report_warn(
				    "interrupted: stopping the agent in the VM (Ctrl-C again to "
				    "disconnect at once)");
				ssh_channel_write(ch, "\x03", 1);
				ssh_channel_request_send_signal(ch, "INT");
			} else {
				err_set(e, "interrupted: disconnected (the agent may still be "
				           "finishing its step in the VM)");
				goto restore;
			}
		}
		if (rc == SSH_ERROR) {
			err_set(e, "ssh: connection lost while the agent ran: %s",
			        ssh_get_error(s));
			goto restore;
		}
		if (deadline && report_now_ms() > deadline) {
			/* stop it as Ctrl-C would, then let go */
			ssh_channel_write(ch, "\x03", 1);
			ssh_channel_request_send_signal(ch, "INT");
			err_setc(e, EXIT_TIMEOUT,
			         "timed out: the agent's step %s did not finish within %d s "
			         "(timeouts.agent; raise it with --agent-timeout)",
			         r->last_step[0] ? r->last_step : "(none started)", timeout_s);
			goto restore;
		}
		n = ssh_channel_read_nonblocking(ch, buf, sizeof(buf), 0);
		if (n == SSH_ERROR) {
			err_set(e, "ssh: read error: %s", ssh_get_error(s));
			goto restore;
		}
		if (n > 0) {
			feed(&rs, buf, (size_t)n);
			continue;
		}
		/* stderr is merged into the pty; drain it anyway. */
		n = ssh_channel_read_nonblocking(ch, buf, sizeof(buf), 1);
		if (n > 0) {
			feed(&rs, buf, (size_t)n);
			continue;
		}
		if (ssh_channel_is_eof(ch) || ssh_channel_is_closed(ch))
			break;
	}
	if (rs.n && !rs.overlong) {
		rs.line[rs.n] = '\0';
		handle_line(&rs, rs.line);
	}
	r->exit_status = ssh_channel_get_exit_status(ch);
	if (r->exit_status == 0) {
		ret = 0;
	} else if (r->interrupted || r->exit_status == 130) {
		err_set(e, "interrupted: the agent stopped in the VM%s%s",
		        r->failed_step[0] ? " during step " : "", r->failed_step);
	} else if (r->failed_step[0]) {
		err_set(e, "step %s failed: %s", r->failed_step, r->failed_msg);
	} else if (r->exit_status < 0) {
		/* sshd sent a signal instead of a status: the agent was killed */
		err_set(e,
		        "the agent in the VM was killed%s%s (no exit status): `inception up` "
		        "again resumes where it stopped",
		        r->last_step[0] ? " during step " : "", r->last_step);
	} else {
		err_set(e, "the agent exited with status %d", r->exit_status);
	}
	if (ret < 0 && !r->failed_log[0] && rs.ntail) {
		/* No step log (e.g. refused to start): show what it printed. */
		int first = rs.ntail > 20 ? rs.ntail - 20 : 0;

		for (i = first; i < rs.ntail; i++)
			report_info("  | %s", rs.tail[i % TAIL_LINES]);
	}
restore:
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
done:
	for (i = 0; i < TAIL_LINES; i++)
		free(rs.tail[i]);
	if (ssh_channel_is_open(ch))
		ssh_channel_close(ch);
	ssh_channel_free(ch);
	return ret;
}

/* The command's stdout, line by line (sshc_run bounds it at max_output). */
static void capture_line(const char *line, void *arg)
{
	struct buf *c = arg;

	if (buf_add(c, line, strlen(line), NULL, NULL) == 0)
		buf_add(c, "\n", 1, NULL, NULL);
}

static void ignore_line(const char *line, void *arg)
{
	(void)arg;
	report_debug("guest: %s", line);
}

int remote_capture(ssh_session s, const char *cmd, int timeout_s, char **out, int *status,
                   struct err *e)
{
	struct buf c;
	struct sshc_opts o = {0};
	int rc;

	buf_init(&c, 2 * (size_t)CAPTURE_MAX); /* sshc_run stops the command first */

	o.on_line = capture_line;
	o.on_err_line = ignore_line;
	o.arg = &c;
	o.timeout_s = timeout_s;
	o.max_output = CAPTURE_MAX;
	rc = sshc_run(s, cmd, &o, status, e);
	if (rc == 0 && out)
		*out = c.p; /* NULL when the command printed nothing */
	else
		free(c.p);
	return rc;
}
