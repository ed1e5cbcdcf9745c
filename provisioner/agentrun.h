/*
 * agentrun.h: run the guest agent over SSH and show its steps live.
 *
 * The agent (agent/) prints one JSON event per line on stdout; this module
 * runs `sudo -n AGENT --json ARGS` on a channel with a pseudo-terminal,
 * parses each event with libyaml (a JSON object is a YAML flow mapping) and
 * renders it through the reporter: "start" -> report_step_begin, "ok",
 * "cached", "fail" -> report_step_end, "progress" -> a debug line.  With
 * --json the event lines are passed through unchanged.  Lines that are not
 * events (the agent's stderr: the pty merges both) are kept, the last 40,
 * for the failure report, and shown with -v.
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

/* One parsed event line. */
struct agent_event {
	char step[32];
	char state[16];
	long ms;          /* -1 when absent */
	char msg[1024];
	char log[256];
};

/* Parses one event line; -1 if it is not an event (no "step" or "state"). */
int agent_event_parse(const char *line, struct agent_event *ev);

struct agent_result {
	int exit_status;         /* the agent's exit status (130 = interrupted) */
	int interrupted;         /* Ctrl-C here */
	char failed_step[32];    /* "" when none */
	char failed_msg[1024];
	char failed_log[256];    /* the step's log in the guest */
	char last_step[32];      /* the last step that started */
	int steps_run;           /* ok events (not cached) */
	int steps_cached;
};

/* Runs `sudo -n AGENT --json ARGS` (args: already safe words, may be "").
 * json: pass the events through. Returns 0 if the agent exited 0; else -1
 * with the failed step (or the reason) in e. */
int agent_run(ssh_session s, const char *agent_path, const char *args, int json,
	      struct agent_result *r, struct err *e);

/* Single-quotes s for a POSIX shell into buf. */
int shell_quote(const char *s, char *buf, size_t n, struct err *e);

/* Runs cmd (a remote shell command), collecting stdout lines into out
 * (malloc'd, may be NULL); *status its exit status. */
int remote_capture(ssh_session s, const char *cmd, char **out, int *status, struct err *e);

#endif
