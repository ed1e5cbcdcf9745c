/*
 * checkstatic.h: the static half of `inception check`: what an evaluator
 * reads in the project's files, as pure functions over text.
 *
 * - findings: "file:line: what" lists, the evidence of a static point;
 * - variable expansion shared by Dockerfile ARGs and compose's ${VAR}
 *   (with :-, -, :?, ?, :+ and $$), which says when a name stayed unknown;
 * - Dockerfiles: logical lines (continuations, comments, `# escape=`),
 *   FROM with ARG substitution, ENTRYPOINT/CMD in JSON and shell form,
 *   COPY/ADD sources to find the entrypoint script in the build context;
 * - the PID-1 scan of an entrypoint (argv or script): a program put in the
 *   background with `&`, `tail -f`, `sleep infinity`, infinite loops, a
 *   bare bash/sh that runs no script;
 * - the penultimate stable Debian and Alpine releases, from dated tables;
 * - compose files (libyaml): services, build contexts, images, ports,
 *   networks, named volumes, and the keys the sheet forbids;
 * - credentials: a password-like literal in a line of a tracked file.
 * Nothing here runs a program or touches Docker; check.c does that.
 */
#ifndef INCEPTION_CHECKSTATIC_H
#define INCEPTION_CHECKSTATIC_H

#include <stddef.h>

#include "err.h"

/* ------------------------------------------------------------ findings */
struct ck_finding {
	char *file; /* may be NULL */
	int line;   /* 0: no line */
	char *msg;
};
struct ck_findings {
	struct ck_finding *v;
	size_t n, cap;
};
void ck_add(struct ck_findings *f, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void ck_findings_free(struct ck_findings *f);
/* "file:line: msg; file:line: msg (+N more)" in at most n bytes. */
void ck_findings_format(const struct ck_findings *f, char *buf, size_t n);

/* ------------------------------------------------------------ variables */
struct ck_env {
	char **key, **val;
	size_t n, cap;
};
void ck_env_set(struct ck_env *env, const char *key, const char *val);
const char *ck_env_get(const struct ck_env *env, const char *key);
void ck_env_free(struct ck_env *env);
/* KEY=VALUE lines of a .env file (comments, blank lines, `export `,
 * quotes handled as compose does). */
void ck_env_parse(struct ck_env *env, const char *text);

/* Expands $NAME, ${NAME}, ${NAME:-x}, ${NAME-x}, ${NAME:?m}, ${NAME?m},
 * ${NAME:+x} and $$ (when dollar_escape) from env.  *unknown is set to 1
 * when a name without a default was not set (it expands to ""). Caller
 * frees. */
char *ck_expand(const char *s, const struct ck_env *env, int dollar_escape, int *unknown);

/* ----------------------------------------------------------- Dockerfile */
struct df_instr {
	int line;   /* first line of the instruction */
	char *kw;   /* upper case: FROM, RUN, ... */
	char *args; /* continuations joined, comments inside them dropped */
};
struct dockerfile {
	struct df_instr *v;
	size_t n, cap;
};
int dockerfile_parse(const char *text, struct dockerfile *df);
void dockerfile_free(struct dockerfile *df);

struct df_from {
	int line;
	char *image; /* ARGs substituted, --platform dropped */
	char *stage; /* AS name, or NULL */
	int unknown; /* an ARG without value was used */
};
/* Every FROM, in order. Caller frees with df_froms_free. */
int dockerfile_froms(const struct dockerfile *df, struct df_from **out, size_t *n);
void df_froms_free(struct df_from *v, size_t n);

/* ENTRYPOINT/CMD arguments: a JSON array is the exec form; anything else
 * the shell form, {"/bin/sh", "-c", args}. */
struct ck_argv {
	char **v;
	size_t n;
	int shell_form;
};
int cmdline_parse(const char *args, struct ck_argv *out);
void ck_argv_free(struct ck_argv *a);

/* The last ENTRYPOINT and CMD of the final stage (index into df->v, or -1). */
void dockerfile_entry(const struct dockerfile *df, long *entrypoint, long *cmd);

/* The file in the build context that COPY/ADD put at container path dest
 * (WORKDIR applied), as a path relative to the context, or NULL.  ctxdir
 * is used to tell a copied directory from a file.  Caller frees. */
char *dockerfile_copy_source(const struct dockerfile *df, const char *ctxdir, const char *dest);

/* Password-like ENV/ARG literals (ENV DB_PASSWORD=x, ARG ROOT_PWD=x). */
void dockerfile_scan_secrets(const struct dockerfile *df, const char *file, struct ck_findings *f);

/* ------------------------------------------------------- PID-1 scanning */
/* A shell script (entrypoint): backgrounded programs, tail -f, sleep
 * infinity, while true / while : / until false / for (;;), a bare shell. */
void script_scan(const char *file, int first_line, const char *text, struct ck_findings *f);
/* An ENTRYPOINT/CMD argv: a bare shell (["bash"], ["sh","-c","bash"]),
 * and the -c string through script_scan. */
void argv_scan(const char *file, int line, const struct ck_argv *a, struct ck_findings *f);
/* The script an argv runs: argv[0] when it is not a shell, else the
 * shell's first operand (not after -c).  NULL when there is none. */
const char *argv_script(const struct ck_argv *a);

/* ------------------------------------------------- penultimate stable */
struct ck_release {
	const char *version;  /* "12", "3.21" */
	const char *codename; /* "bookworm", or NULL */
	const char *date;     /* first release, YYYY-MM-DD */
};
/* The penultimate stable release of distro ("debian", "alpine") on
 * date today (YYYY-MM-DD): the release before the newest one released on
 * or before today.  NULL when the table has fewer than two by then. */
const struct ck_release *ck_penultimate(const char *distro, const char *today,
                                        const struct ck_release **stable);
/* The date the tables were last brought up to date (said in evidence). */
const char *ck_release_table_date(void);
/* 1 when image is debian:<penultimate> (version, codename, or either with
 * a suffix such as -slim, bookworm-20240101, 12.5) or alpine:<penultimate>
 * (3.21, 3.21.3), 0 otherwise; why says which was expected. */
int ck_image_is_penultimate(const char *image, const char *today, char *why, size_t n);
/* The tag of an image reference ("latest" when none; NULL for a digest). */
const char *ck_image_tag(const char *image, char *buf, size_t n);
/* The repository's last path component without tag or digest. */
void ck_image_name(const char *image, char *buf, size_t n);

/* --------------------------------------------------------------- compose */
struct cs_port {
	int line;
	char *spec; /* as written, expanded */
	int target; /* container port, 0 when unknown */
};
struct cs_service {
	char *name;
	int line;
	char *image; /* expanded, or NULL */
	int image_line;
	int image_unknown;
	char *build_ctx;  /* relative to the compose file's directory, or NULL */
	char *dockerfile; /* "Dockerfile" unless build.dockerfile */
	struct cs_port *ports;
	size_t nports;
	int has_networks;
	char **volumes; /* "SOURCE" of each "SOURCE:TARGET" (short or long form) */
	size_t nvolumes;
};
struct cs_volume {
	char *name;
	int line;
	char *device; /* driver_opts.device, expanded, or NULL */
	int device_unknown;
};
struct compose {
	struct cs_service *svc;
	size_t nsvc;
	struct cs_volume *vol;
	size_t nvol;
	int networks_line;            /* line of top-level networks:, 0 if none */
	struct ck_findings forbidden; /* network_mode/network: host, links, external_links */
};
/* Parses a compose file; env expands ${VAR}. -1 with file:line:col on a
 * YAML error or a document that is not a mapping with services. */
int compose_parse(const char *file, const char *text, const struct ck_env *env, struct compose *c,
                  struct err *e);
void compose_free(struct compose *c);
const struct cs_service *compose_service(const struct compose *c, const char *name);
/* Which of the mandatory three a service name is: "nginx", "wordpress",
 * "mariadb", or NULL for any other (a bonus service). */
const char *ck_mandatory_role(const char *service);

/* Which of the mandatory three a service is from what its Dockerfile
 * installs (comments left out): "mariadb" (mariadb-server, mysql-server, FROM
 * mariadb/mysql), else "wordpress" (php with fpm), else "nginx", else NULL.
 * For a project whose services are named otherwise (web, php, db...). */
const char *ck_content_role(const char *dockerfile);

/* What a bonus service is, from its name: "redis", "ftp", "adminer",
 * "site" (a static website), or NULL (a mandatory one, or another). */
const char *ck_bonus_role(const char *service);

/* ----------------------------------------------------------- runtime text */
/* The published ports of a container as the check's docker inspect format
 * gives them ("8080/tcp=127.0.0.1:29080, 443/tcp=0.0.0.0:8443,:::8443, "):
 * at most max {container port, host port} pairs, in that order (tcp only;
 * the first host binding of each).  Returns how many. */
struct ck_port {
	int ctr, host;
};
size_t ck_published_ports(const char *ports, struct ck_port *out, size_t max);
/* The value of FIELD in redis INFO output ("keyspace_hits:12\r\n" lines):
 * -1 when absent or not a number. */
long ck_info_field(const char *info, const char *field);

/* ----------------------------------------------------------- credentials */
/* A password-like KEY=literal / KEY: literal, IDENTIFIED BY 'literal' or a
 * private key block in one line of a file. 1 and what in why when found. */
int cred_line(const char *line, char *why, size_t n);
/* 1 for a tracked path that is itself a secret: .env (not .env.example
 * and the like), anything under a secrets/ directory, *.key, *.pem. */
int cred_path(const char *path);

#endif
