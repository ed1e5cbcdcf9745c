/*
 * util.h: small helpers every module needs: directories, atomic files,
 * XDG paths, and running a program from an argv array.
 */
#ifndef INCEPTION_UTIL_H
#define INCEPTION_UTIL_H

#include <stddef.h>
#include <sys/types.h>

#include "err.h"

/* mkdir -p with the given mode for the directories it creates. */
int mkdir_p(const char *path, mode_t mode, struct err *e);

/* Writes data to path through a temp file in the same directory, fsync,
 * rename: readers see the old or the new content, never half. */
int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode, struct err *e);

/* The same, and the new file gets owner uid/gid (-1 = unchanged) before it
 * replaces the old one. */
int write_file_atomic_owner(const char *path, const void *data, size_t len, mode_t mode, long uid,
                            long gid, struct err *e);

/* Reads a whole file (NUL-terminated; *len without the NUL). Caller frees. */
int read_file(const char *path, char **data, size_t *len, struct err *e);

/* The same, refusing files larger than max bytes. */
int read_file_max(const char *path, char **data, size_t *len, size_t max, struct err *e);

/* $XDG_STATE_HOME/inception[/sub], $XDG_CACHE_HOME/inception[/sub],
 * $XDG_CONFIG_HOME/inception (with the usual ~/.local/state, ~/.cache,
 * ~/.config fallbacks).  sub may be NULL. */
int xdg_state_dir(char *buf, size_t n, const char *sub, struct err *e);
int xdg_cache_dir(char *buf, size_t n, const char *sub, struct err *e);
int xdg_config_dir(char *buf, size_t n, struct err *e);

/* How spawn_argv sets up the child.  It always gets /dev/null as stdin,
 * default signal dispositions, and no descriptor but 0-2 (and keep_fd as
 * 3): tools such as mmdebstrap hand the next free fd number to `sh -c
 * 'cat >&N'`, and dash reads only one digit. */
#define SPAWN_SAME_AS_OUT (-2)
struct spawn_opts {
	int out_fd;             /* the child's stdout; -1 = /dev/null */
	int err_fd;             /* its stderr; -1 = /dev/null, SPAWN_SAME_AS_OUT = with stdout */
	int keep_fd;            /* > 2: passed on as fd 3 (the agent's lock); else -1 */
	int new_pgrp;           /* the child leads its own process group (kill(-pid, sig)) */
	const char *const *env; /* "NAME=VALUE" strings to set, NULL-terminated; or NULL */
	const char *cwd;        /* working directory, or NULL */
	const char *path_extra; /* appended to PATH (e.g. "/usr/sbin:/sbin"), or NULL */
};

/* fork + execvp(argv[0]) with no shell; *pid is the child.  An exec failure
 * shows as exit status 127 ("exec NAME: why" on its stderr). */
int spawn_argv(char *const argv[], const struct spawn_opts *o, pid_t *pid, struct err *e);

/* Waits for pid: 0 if it exited 0, else -1 with "NAME exited with status
 * N (see LOG)" or "NAME killed by signal N" in e. */
int reap_argv(pid_t pid, char *const argv[], const char *log_path, struct err *e);

/* Runs argv[0] (PATH lookup) with no shell; stdout+stderr appended to
 * log_path (or discarded if NULL).  Returns 0 if it exited 0, else -1 with
 * "NAME exited with status N (see LOG)" in e. */
int run_argv(char *const argv[], const char *log_path, struct err *e);

/* Like run_argv but captures stdout into *out (caller frees); stderr to log. */
int run_argv_capture(char *const argv[], const char *log_path, char **out, struct err *e);

/* Runs argv with stdout and stderr captured together into *out (at most
 * max bytes kept; caller frees), killing it after timeout_ms.  *status:
 * the exit status, 128+N after signal N, -1 on the timeout.  Returns 0
 * when it ran, whatever its status; -1 when it could not start. */
int run_argv_output(char *const argv[], int timeout_ms, size_t max, char **out, int *status,
                    struct err *e);

/* Writes n bytes as 2n lowercase hex digits and a NUL into out. */
void hex_encode(const unsigned char *d, size_t n, char *out);

/* Sleeps ms milliseconds. */
void sleep_ms(long ms);

/* snprintf that fails with an error instead of truncating. */
int path_join(char *buf, size_t n, struct err *e, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
