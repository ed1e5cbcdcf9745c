/*
 * agentrun.h: run the guest agent over SSH and show its steps live.
 *
 * The agent (agent/) prints one JSON event per line on stdout; this module
 * runs `sudo -n AGENT --json ARGS` on a channel with a pseudo-terminal,
 * parses each event as strict JSON (its own small reader: no YAML flow, no
 * trailing text) and renders it through the reporter (report_guest_event),
 * which re-encodes the parsed fields: with --json a JSON object of our own,
 * for a person text with every control character escaped.  The guest's
 * bytes never reach our stdout or the terminal as they are.  Lines that are
 * not events (the agent's stderr: the pty merges both) are kept, the last
 * 40, for the failure report, and shown with -v; a line longer than
 * AGENT_LINE_MAX bytes is cut and never taken for an event.
 *
 * Limits: the run ends after timeouts.agent seconds (EXIT_TIMEOUT, naming
 * the step that was running); remote_capture keeps at most 1 MiB of output
 * and a line of at most 64 KiB (sshc_run), and fails beyond that.
 *
 * Ctrl-C: the first SIGINT writes ^C to the pty (the guest's line
 * discipline turns it into SIGINT for sudo and the agent, which stops its
 * running command and exits 130) and also sends an SSH "INT" signal
 * request; a second Ctrl-C closes the channel.  If this process is killed,
 * the agent finishes its current step (it ignores SIGHUP) and the next run
 * waits for it on the agent's lock.
 */
#ifndef INCEPTION_AGENTRUN_H
#define INCEPTION_AGENTRUN_H

#include <libssh/libssh.h>

#include "err.h"

#define AGENT_LINE_MAX 8191 /* bytes of one line from the agent */

/* One parsed event line. */
struct agent_event {
	char step[32];
	char state[16];
	long ms; /* -1 when absent */
	char msg[1024];
	char log[256];
};

/* Parses one event line: a strict JSON object with string "step" and
 * "state" (and optional string "msg", "log", non-negative integer "ms";
 * other members ignored; strings longer than a field cut at a whole
 * character).  -1 if it is not an event. */
int agent_event_parse(const char *line, struct agent_event *ev);

struct agent_result {
	int exit_status;      /* the agent's exit status (130 = interrupted) */
	int interrupted;      /* Ctrl-C here */
	char failed_step[32]; /* "" when none */
	char failed_msg[1024];
	char failed_log[256]; /* the step's log in the guest */
	char last_step[32];   /* the last step that started */
	int steps_run;        /* ok events (not cached) */
	int steps_cached;
};

/* Runs `sudo -n AGENT --json ARGS` (args: already safe words, may be "").
 * timeout_s > 0: after that many seconds the agent is interrupted and the
 * run fails with e->code EXIT_TIMEOUT, naming the running step.  Returns 0
 * if the agent exited 0; else -1 with the failed step (or the reason) in e. */
int agent_run(ssh_session s, const char *agent_path, const char *args, int timeout_s,
              struct agent_result *r, struct err *e);

/* Single-quotes s for a POSIX shell into buf. */
int shell_quote(const char *s, char *buf, size_t n, struct err *e);

/* Runs cmd (a remote shell command), collecting stdout lines into out
 * (malloc'd, may be NULL); *status its exit status.  At most 1 MiB of
 * output, lines of at most 64 KiB, and timeout_s seconds (0 = no limit;
 * EXIT_TIMEOUT): beyond any of them, -1 and nothing in out. */
int remote_capture(ssh_session s, const char *cmd, int timeout_s, char **out, int *status,
                   struct err *e);

#endif
