/*
 * agentrun.c: the guest agent over SSH, events rendered live (see agentrun.h).
 */
#include "agentrun.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "report.h"
#include "sshc.h"

#define TAIL_LINES 40

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

int agent_event_parse(const char *line, struct agent_event *ev)
{
	yaml_parser_t p;
	yaml_event_t y;
	int depth = 0, done = 0, ok = 0, have_key = 0;
	char key[32] = "";

	memset(ev, 0, sizeof(*ev));
	ev->ms = -1;
	while (*line == ' ' || *line == '\t')
		line++;
	if (*line != '{')
		return -1;
	if (!yaml_parser_initialize(&p))
		return -1;
	yaml_parser_set_input_string(&p, (const unsigned char *)line, strlen(line));
	while (!done) {
		if (!yaml_parser_parse(&p, &y))
			break;
		switch (y.type) {
		case YAML_MAPPING_START_EVENT:
		case YAML_SEQUENCE_START_EVENT:
			depth++;
			have_key = 0;
			break;
		case YAML_MAPPING_END_EVENT:
		case YAML_SEQUENCE_END_EVENT:
			depth--;
			break;
		case YAML_SCALAR_EVENT: {
			const char *v = (const char *)y.data.scalar.value;

			if (depth != 1)
				break;
			if (!have_key) {
				snprintf(key, sizeof(key), "%s", v);
				have_key = 1;
				break;
			}
			have_key = 0;
			if (strcmp(key, "step") == 0)
				snprintf(ev->step, sizeof(ev->step), "%s", v);
			else if (strcmp(key, "state") == 0)
				snprintf(ev->state, sizeof(ev->state), "%s", v);
			else if (strcmp(key, "msg") == 0)
				snprintf(ev->msg, sizeof(ev->msg), "%s", v);
			else if (strcmp(key, "log") == 0)
				snprintf(ev->log, sizeof(ev->log), "%s", v);
			else if (strcmp(key, "ms") == 0)
				ev->ms = strtol(v, NULL, 10);
			break;
		}
		case YAML_STREAM_END_EVENT:
			done = 1;
			ok = 1;
			break;
		default:
			break;
		}
		yaml_event_delete(&y);
	}
	yaml_parser_delete(&p);
	return ok && ev->step[0] && ev->state[0] ? 0 : -1;
}

/* ------------------------------------------------------------------- run */

static volatile sig_atomic_t interrupts;

static void on_sigint(int sig)
{
	(void)sig;
	interrupts++;
}

struct runstate {
	int json;
	struct agent_result *r;
	char *tail[TAIL_LINES];
	int ntail;
	char line[8192];
	size_t n;
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
	if (rs->json) {
		fputs(line, stdout);
		fputc('\n', stdout);
		fflush(stdout);
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
	if (rs->json)
		return;
	if (strcmp(ev.state, "start") == 0)
		report_step_begin(ev.step, ev.msg);
	else if (strcmp(ev.state, "progress") == 0)
		report_info("    %-8s ... %s", ev.step, ev.msg);
	else
		report_step_end(ev.step, ev.state, ev.ms < 0 ? 0 : ev.ms, ev.msg);
}

static void feed(struct runstate *rs, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] == '\r')
			continue;
		if (p[i] == '\n' || rs->n == sizeof(rs->line) - 1) {
			rs->line[rs->n] = '\0';
			handle_line(rs, rs->line);
			rs->n = 0;
			if (p[i] == '\n')
				continue;
		}
		rs->line[rs->n++] = p[i];
	}
}

int agent_run(ssh_session s, const char *agent_path, const char *args, int json,
	      struct agent_result *r, struct err *e)
{
	struct sigaction sa, old_int, old_term;
	struct runstate rs;
	ssh_channel ch = NULL;
	char cmd[4096], q[1024];
	int ret = -1, i, seen = 0;

	memset(r, 0, sizeof(*r));
	memset(&rs, 0, sizeof(rs));
	rs.json = json;
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
				report_warn("interrupted: stopping the agent in the VM (Ctrl-C again to "
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
			err_set(e, "ssh: connection lost while the agent ran: %s", ssh_get_error(s));
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
	if (rs.n) {
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
		err_set(e, "the agent in the VM was killed%s%s (no exit status): `inception up` "
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

struct capture {
	char *buf;
	size_t n;
};

static void capture_line(const char *line, void *arg)
{
	struct capture *c = arg;
	size_t l = strlen(line);
	char *p = realloc(c->buf, c->n + l + 2);

	if (p == NULL)
		return;
	c->buf = p;
	memcpy(c->buf + c->n, line, l);
	c->n += l;
	c->buf[c->n++] = '\n';
	c->buf[c->n] = '\0';
}

static void ignore_line(const char *line, void *arg)
{
	(void)arg;
	report_debug("guest: %s", line);
}

int remote_capture(ssh_session s, const char *cmd, char **out, int *status, struct err *e)
{
	struct capture c = { 0 };
	int rc = sshc_exec(s, cmd, capture_line, ignore_line, &c, status, e);

	if (out)
		*out = c.buf;
	else
		free(c.buf);
	return rc;
}
