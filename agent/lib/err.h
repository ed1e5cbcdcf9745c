/*
 * err.h: the error value every module fills in.
 *
 * Functions return 0 on success and -1 on failure after writing one line
 * into a struct err that says what went wrong and, where it helps, what to do
 * next.  Only main() turns an error into output and an exit code, so modules
 * never print and never exit.
 */
#ifndef INCEPTION_ERR_H
#define INCEPTION_ERR_H

#include <stddef.h>

#define ERR_MSG_MAX 1024

/* Exit codes (documented in `inception --help`), set with err_setc(). */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,      /* the operation failed; the message says why */
	EXIT_USAGE = 2,     /* bad flag, bad config or bad input */
	EXIT_HOSTKEY = 3,   /* the guest's SSH host key is not the pinned one */
	EXIT_TIMEOUT = 4,   /* a wait ran out of time */
	EXIT_UNHEALTHY = 5, /* the VM runs but the stack is not healthy */
	EXIT_NOVM = 6,      /* no such VM (status/ssh/... before up) */
};

struct err {
	char msg[ERR_MSG_MAX];
	int code; /* exit code main() should use; 0 = default (1) */
};

/* Sets e->msg from the format (if e is not NULL) and returns -1. */
int err_set(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Like err_set, also sets the exit code main() should use. */
int err_setc(struct err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Prefixes the existing message with "what: " (context from the caller). */
int err_wrap(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void err_clear(struct err *e);

#endif
