/*
 * proc.h: running the commands a step needs (apt-get, systemctl, docker,
 * make, the base-image script), always from an argv array, never a shell.
 *
 * The child gets its own process group, stdin from /dev/null, and its
 * stdout+stderr through a pipe: every line is appended to the step's log
 * file, optionally kept (capture) and passed to on_line (progress).  When
 * the agent is interrupted (proc_interrupted set by main's SIGINT/SIGTERM
 * handler) the whole group gets SIGTERM, then SIGKILL after 10 s.
 */
#ifndef INCEPTION_AGENT_PROC_H
#define INCEPTION_AGENT_PROC_H

#include <signal.h>
#include <stddef.h>

#include "err.h"

extern volatile sig_atomic_t proc_interrupted;

typedef void (*proc_line_fn)(const char *line, void *arg);

struct proc_opts {
	const char *const *env; /* extra "K=V" entries, NULL-terminated, or NULL */
	const char *log_path;   /* appended to; NULL = discard */
	proc_line_fn on_line;   /* may be NULL */
	void *arg;
	char **capture;  /* if not NULL: all output, malloc'd */
	int timeout_s;   /* 0 = none */
	const char *cwd; /* NULL = inherit */
	int keep_fd;     /* > 2: handed on to the command as fd 3 (the
	                  * agent's lock); every other fd above 2 is closed */
};

/* Runs argv; returns 0 if it exited 0, else -1 with "NAME exited with
 * status N" (or was interrupted / timed out) in e. */
int proc_run(const char *const argv[], const struct proc_opts *o, struct err *e);

/* Shorthand: run, capture output, no log.  *out malloc'd (may be NULL). */
int proc_capture(const char *const argv[], char **out, struct err *e);

#endif
