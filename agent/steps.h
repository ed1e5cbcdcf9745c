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
 *   data    the `data_dirs` (the compose file's bind-mounted host directories),
 *           each directory created owned by LOGIN
 *   base    every `bases` image (the Dockerfiles' FROM) in the engine: present,
 *           else `docker pull` (pull_timeout), else for debian:<suite>
 *           (bullseye, bookworm, trixie, 11-13, -slim) built from the Debian
 *           mirror (mmdebstrap minbase | docker import), else one error naming
 *           FILE:LINE and the image (the others after it), before any make
 *   make    `make -C TREE`; redone when the tree changed (its key is
 *           META/tree.digest, a digest of every pushed file's path, mode and
 *           content, written by the push) or when a service of the project
 *           is not running healthy (engine.h: found by compose labels)
 *   health  every service running, healthy where it has a check (polled);
 *           then https://DOMAIN/ on 127.0.0.1:health_port over TLS 1.2+, TLS
 *           1.1 refused (health.h), the certificate verified when it can be
 *           found: cert_file, else the one the project serves (the container
 *           publishing the port, its `nginx -T` ssl_certificate, docker cp);
 *           else the handshake only, and the message says "certificate not
 *           verified: WHY"; never cached
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

/* Prints the `bases` images the engine lacks, one per line. */
int steps_missing_bases(const struct settings *s, struct err *e);

/* Key of the "make" step: META/tree.digest ("-" if none). */
void tree_key(const struct settings *s, char *key, size_t n);

#endif
