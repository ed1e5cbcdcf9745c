/*
 * steps.h: the agent's bootstrap steps, in order.
 *
 *   hosts   DOMAIN -> 127.0.0.1 on exactly one /etc/hosts line (hostsfile.h),
 *           written atomically with its mode and owner kept; a cloud-init
 *           drop-in (manage_etc_hosts: false) and the same edit of
 *           cloud-init's hosts template keep it across reboots
 *   docker  engine + compose v2: Debian's docker.io docker-cli docker-buildx
 *           docker-compose, or Docker's own repository (key fingerprint pinned,
 *           pgpkey.h); dockerd enabled and answering; LOGIN in group docker
 *   data    DATA_DIR/{wordpress,mariadb}, created owned by LOGIN
 *   base    debian:bookworm in the engine, through the tree's
 *           srcs/requirements/tools/base-image.sh (pull, else mmdebstrap)
 *   make    `make` in the pushed tree; redone when the tree changed (its key is
 *           TREE/.inception/tree.digest, a digest of every pushed file's path,
 *           mode and content, written by the push)
 *   health  https://DOMAIN/ answers over TLS 1.2+ with the stack's own
 *           certificate, TLS 1.1 refused (health.h); never cached
 *
 * Each step decides itself whether there is anything to do: it returns
 * "cached" when the recorded state and a cheap check say it is done.
 */
#ifndef INCEPTION_AGENT_STEPS_H
#define INCEPTION_AGENT_STEPS_H

#include <stddef.h>

#include "agstate.h"
#include "err.h"
#include "settings.h"

struct agent {
	struct settings s;
	struct agstate st;
	int force;        /* --force: ignore recorded state */
	const char *step; /* the running step (for its log) */
	char step_log[512];
	long last_progress_ms;
	int lock_fd; /* the run's lock, inherited by the commands it runs */
};

enum step_outcome { STEP_OK, STEP_CACHED };

struct step {
	const char *name;
	const char *what;
	/* Fills msg; returns 0 (*outcome set) or -1. */
	int (*run)(struct agent *a, enum step_outcome *outcome, char *msg, size_t n, struct err *e);
};

/* The steps in order, NULL-terminated by name. */
const struct step *steps_table(void);
const struct step *step_find(const char *name);

/* 1 when the engine has the image (asked over /run/docker.sock). */
int image_present(const char *tag);

/* Key of the "make" step: TREE/.inception/tree.digest ("-" if none). */
void tree_key(const struct settings *s, char *key, size_t n);

#endif
