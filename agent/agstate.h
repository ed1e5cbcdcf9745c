/*
 * agstate.h: the agent's memory of finished steps (/var/lib/inception/state).
 *
 * One line per step: "STEP STATE EPOCH KEY", where KEY says what the step
 * was done for (e.g. the digest of the pushed tree for "make", "-" when it
 * does not matter).  A step whose recorded state is "ok" with the same KEY,
 * and whose cheap check still passes, is not run again.  The file is
 * rewritten whole through a temp file and rename(2), so a kill at any
 * moment leaves the old or the new version.
 */
#ifndef INCEPTION_AGENT_AGSTATE_H
#define INCEPTION_AGENT_AGSTATE_H

#include "err.h"
#include "util.h"

#define AGSTATE_MAX 16

struct agstate_entry {
	char step[16];
	char state[16];
	long long when;
	char key[80];
};

struct agstate {
	struct agstate_entry e[AGSTATE_MAX];
	int n;
};

/* A missing file is an empty state; malformed lines are ignored. */
int agstate_load(struct agstate *s, const char *path, struct err *e);

/* The entry for step, or NULL. */
const struct agstate_entry *agstate_get(const struct agstate *s, const char *step);

/* 1 when step is recorded "ok" with this key (NULL key = any). */
int agstate_done(const struct agstate *s, const char *step, const char *key);

/* Records step and writes the file atomically (dirs created 0755). */
int agstate_put(struct agstate *s, const char *path, const char *step, const char *state,
                const char *key, struct err *e);

/* Atomic writes and mkdir -p come from agent/lib/util.h (write_file_atomic_owner,
 * mkdir_p), shared with the host side. */

#endif
