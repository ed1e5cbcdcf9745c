/*
 * creds.h: the stack's generated settings and passwords for a VM.
 *
 * The stack in the VM needs srcs/.env (not secret: login, domain, user
 * names) and secrets/NAME.txt (passwords, read by Docker as secrets).  They
 * are made on the host, once per VM, in the VM's state directory:
 *   STATE/stack.env                 from TOP/srcs/.env.example, __LOGIN__ and
 *                                   __ADMIN__ replaced as the root Makefile does
 *   STATE/secrets/NAME.txt          32 random letters and digits, 0600 (dir 0700)
 * and pushed into the guest (push.h).  They are never printed, except by
 * `inception creds`, and live as long as the VM (destroy removes the state
 * directory).
 */
#ifndef INCEPTION_CREDS_H
#define INCEPTION_CREDS_H

#include <limits.h>
#include <stddef.h>

#include "config.h"
#include "err.h"

/* The secret files the compose file declares (srcs/docker-compose.yml). */
#define CREDS_SECRETS                                                                              \
	{                                                                                          \
		"db_password", "db_root_password", "wp_admin_password", "wp_user_password", NULL   \
	}

struct creds_paths {
	char env[PATH_MAX];     /* STATE/stack.env */
	char secrets[PATH_MAX]; /* STATE/secrets */
};

/* Creates what is missing (existing files are kept as they are). */
int creds_ensure(const struct config *c, const char *top, const char *state_dir,
                 struct creds_paths *out, struct err *e);

/* Paths only, no file access. */
int creds_paths(const char *state_dir, struct creds_paths *out, struct err *e);

/* KEY's value in an env file ("KEY=value" lines) into buf; -1 if absent. */
int creds_env_get(const char *env_path, const char *key, char *buf, size_t n, struct err *e);

/* Reads secret NAME (without newline) into buf. */
int creds_secret(const struct creds_paths *p, const char *name, char *buf, size_t n, struct err *e);

/* The .env text made from the example: pure, for the unit tests. Caller frees. */
char *creds_render_env(const char *example, const char *login);

#endif
