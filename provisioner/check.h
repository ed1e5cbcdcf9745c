/*
 * check.h: the 42 Inception evaluation sheet as a table of points.
 *
 * Each point is one row {section, point, function, ends_evaluation,
 * flags}, in the order of the sheet, in the manner of the agent's step
 * table: the function returns PASS, FAIL, MANUAL or SKIP and one line of
 * evidence (the command run and what it showed, or file:line).  check_run
 * walks the table over a project directory (Makefile + srcs/) and, unless
 * static_only, the project's containers on this machine's Docker engine
 * (the `docker` CLI, argv only), its TLS port (libssl) and its site
 * (libcurl, always to 127.0.0.1 with the Host/SNI set: the name is never
 * resolved).  Points flagged CKP_DISRUPTS (kill -9 of each PID 1) or
 * CKP_EVALUATE (the sheet's cleanup command, a timed make) run only with
 * evaluate or when their section is asked for by `only`.
 */
#ifndef INCEPTION_CHECK_H
#define INCEPTION_CHECK_H

#include <stddef.h>

#include "err.h"

enum ck_state { CK_PASS, CK_FAIL, CK_MANUAL, CK_SKIP };

#define CKP_STATIC 1u   /* reads files and git only */
#define CKP_DISRUPTS 2u /* disturbs the running stack */
#define CKP_EVALUATE 4u /* the evaluator's flow: only with evaluate */

struct check_opts {
	const char *dir;                   /* the project (Makefile + srcs/) */
	const char *env_file;              /* NULL: DIR/srcs/.env */
	const char *project;               /* compose project; NULL: by the compose dir label */
	const char *data_dir;              /* NULL: /home/LOGIN/data */
	const char *login;                 /* NULL: the env file's LOGIN, else DOMAIN_NAME's */
	const char *login_default;         /* when neither login nor the env file names one */
	const char *wp_user, *wp_password; /* a WordPress user (comment) */
	const char *wp_admin, *wp_admin_password; /* the administrator (page edit) */
	const char *today;                        /* YYYY-MM-DD; NULL: today */
	const char *only;                         /* comma-separated sections, NULL: all */
	const char *exclude;                      /* comma-separated path prefixes the credential
	                                           * scans skip (said in their evidence) */
	int static_only;
	int evaluate;
	/* Where the engine runs.  NULL: this machine (the `docker` CLI, kill(2),
	 * 127.0.0.1:80).  Else every runtime command (docker, kill, curl) goes
	 * through exec, with run()'s contract: the exit status, -1 on a timeout,
	 * -2 when it could not start, *out always set (caller frees); env, when
	 * not NULL, is one "NAME=VALUE" the command gets in its environment. */
	int (*exec)(void *arg, const char *env, char *const argv[], int timeout_s, char **out);
	void *exec_arg;
	const char
	    *runtime_srcs; /* srcs/ as the engine sees it (its compose label); NULL: DIR/srcs */
	int https_port;    /* the port on 127.0.0.1 that reaches the project's 443 (a VM's
	                    * forward); 0: the port nginx's container publishes */
	const char *where; /* for the evidence: "in the VM" etc.; NULL: "on this host" */
	/* evaluate's whole flow, where the engine's machine is ours (the VM):
	 * make_dir is the project there (NULL: this flow is not run: --local);
	 * save_base keeps the base images before the sheet's cleanup (NULL:
	 * nothing kept), restore_base brings them back after it,
	 * reboot reboots that machine and reconnects (bounded); both return 0
	 * or -1, with what they did or what failed in msg. */
	const char *make_dir;
	const char *make_login; /* make gets this login's HOME, USER, LOGNAME (NULL: as is) */
	int (*save_base)(void *arg, char *msg, size_t n);
	int (*restore_base)(void *arg, char *msg, size_t n);
	int (*reboot)(void *arg, char *msg, size_t n);
};

struct check_ctx;
typedef enum ck_state (*check_fn)(struct check_ctx *c, char *ev, size_t n);

struct check_point {
	const char *section;
	const char *point;
	check_fn fn;
	int ends; /* a FAIL ends the evaluation on the real sheet */
	unsigned flags;
};

struct check_row {
	const struct check_point *pt;
	enum ck_state state;
	char evidence[1536];
};

/* The table, NULL-terminated by point. */
const struct check_point *check_points(void);
const char *ck_state_name(enum ck_state s);
/* 0 when every name in the comma list is a section, else -1 naming it. */
int check_sections_valid(const char *only, struct err *e);

/* Runs every selected point in order, calling row() after each.  -1 only
 * when the project cannot be checked at all (no such directory). */
int check_run(const struct check_opts *o, void (*row)(const struct check_row *r, void *arg),
              void *arg, struct err *e);

/* A Markdown report of rows (a title, the options, one table row per
 * point, the totals).  Caller frees. */
char *check_markdown(const struct check_opts *o, const struct check_row *rows, size_t n);

#endif
