/*
 * project.h: which Inception project `up` runs, and what it needs.
 *
 * A project is a directory with a Makefile and a compose file under srcs/
 * (docker-compose.yml/.yaml or compose.yml/.yaml).  It is named by a
 * directory or a git URL; a URL (or a local repository with --ref) is cloned
 * on the host into a directory the caller owns, never into the user's tree.
 * Everything here only reads the project:
 *   project_resolve   PROJECT -> directory + commit (+ dirty)
 *   project_files     the files to push (working tree, or exactly git's tree)
 *   project_inputs    the env files and secret files the project reads, from
 *                     its compose file (libyaml) and its Makefile, and which
 *                     of them are missing
 *   project_generate_missing  creates the missing ones in a directory of the
 *                     caller's (0600), never in the project
 *   project_bases     every base image its Dockerfiles build FROM, with
 *                     file:line, ARG defaults and compose build args resolved
 * Paths in results are relative to the project directory.
 */
#ifndef INCEPTION_PROJECT_H
#define INCEPTION_PROJECT_H

#include <limits.h>
#include <stddef.h>

#include "err.h"

struct project {
	char dir[PATH_MAX];    /* absolute path of the project's top directory */
	char compose[64];      /* its compose file, relative to dir */
	char source[PATH_MAX]; /* PROJECT as given; "" when it was the default */
	char commit[41];       /* HEAD (or --ref) commit; "" outside git */
	int dirty;             /* tracked files differ from commit */
	int cloned;            /* dir is a clone made by project_resolve */
	int bundled;           /* no PROJECT and cwd is no project: the bundled stack */
};

struct project_req {
	const char *spec;        /* PROJECT: directory or git URL; NULL = default */
	const char *ref;         /* --ref REV; NULL = HEAD */
	const char *cwd;         /* the default candidate; NULL = getcwd() */
	const char *bundled_dir; /* the bundled stack, when cwd is no project */
	const char *clone_dir;   /* clones go under here (a cache or state dir) */
	const char *log_path;    /* git's output; NULL = discarded */
};

/* Resolves r into p.  Not an Inception project, no such directory, --ref
 * without git: exit code EXIT_USAGE, one line saying what is missing. */
int project_resolve(const struct project_req *r, struct project *p, struct err *e);

/* Whether dir is an Inception project: 0 and the compose file (relative to
 * dir) in compose, or -1 naming what is missing (EXIT_USAGE). */
int project_check(const char *dir, char *compose, size_t n, struct err *e);

/* --- what is pushed ------------------------------------------------------ */

struct project_files {
	char root[PATH_MAX]; /* the files are read from root/PATH */
	char **paths;        /* sorted, relative, regular files only */
	size_t n;
};

/* committed = 0: every regular file of the working tree, without any .git.
 * committed = 1: exactly the regular files of git's tree at p->commit (what
 * a fresh clone holds); when the work tree is dirty, that tree is exported
 * with `git archive` into export_dir (emptied first) and root points there. */
int project_files(const struct project *p, int committed, const char *export_dir,
                  const char *log_path, struct project_files *f, struct err *e);
void project_files_free(struct project_files *f);

/* --- inputs: env files and secrets ---------------------------------------- */

enum project_input_kind {
	PROJECT_ENV_FILE, /* a service's env_file: */
	PROJECT_SECRET,   /* a top-level secrets: NAME: file: */
	PROJECT_DOTENV,   /* the --env-file of the Makefile, or srcs/.env */
};

struct project_input {
	enum project_input_kind kind;
	char *path;   /* relative to the project dir, normalised */
	char *name;   /* the service (env_file), the secret, or "" (dotenv) */
	char *where;  /* "srcs/compose.yaml:12", "Makefile:7" */
	int missing;  /* no such file in the project */
	int optional; /* env_file with required: false */
	int outside;  /* the path leaves the project (absolute or ../) */
};

struct project_inputs {
	struct project_input *v;
	size_t n;
};

int project_inputs(const struct project *p, struct project_inputs *in, struct err *e);
void project_inputs_free(struct project_inputs *in);

/* One line for a user: "srcs/.env (env_file of wordpress,
 * srcs/docker-compose.yml:30)", "secrets/db_password.txt (secret
 * db_password, srcs/compose.yaml:60)", "srcs/.env (--env-file, Makefile:7)". */
void project_input_describe(const struct project_input *in, char *buf, size_t n);

struct project_gen {
	const char *login;  /* for LOGIN and in place of login placeholders */
	const char *domain; /* DOMAIN_NAME, *_URL; NULL = LOGIN.42.fr */
};

/* Creates every missing, required input under out_dir/PATH (mode 0600,
 * directories 0700): secrets as random passwords; env files from the
 * project's .env.example/.env.sample when there is one, else from the
 * variables its compose file and Dockerfiles use.  out_dir must not be
 * inside the project.  *made (may be NULL) gets the relative paths written;
 * free with project_strv_free. */
int project_generate_missing(const struct project *p, const struct project_inputs *in,
                             const struct project_gen *g, const char *out_dir, char ***made,
                             size_t *n_made, struct err *e);
void project_strv_free(char **v, size_t n);

/* The value a generated .env gives NAME when the example has none (or a
 * placeholder): exposed for the unit tests.  Caller frees. */
char *project_env_value(const char *name, const char *example, const struct project_gen *g,
                        unsigned *users);

/* --- what the agent is told ---------------------------------------------- */

struct project_info {
	char *services;  /* compose service names, in order, comma-separated */
	char *data_dirs; /* absolute bind sources (short and long syntax, and
	                  * named volumes with o: bind), colon-separated */
	char *domain;    /* DOMAIN_NAME of the dotenv (else of an env file); NULL */
};

/* Reads the compose file with the project's variables: its dotenv (and env
 * files for DOMAIN_NAME) taken from gen_dir when generated there, else from
 * the project.  A bind source whose variables have no value is left out. */
int project_compose_info(const struct project *p, const struct project_inputs *in,
                         const char *gen_dir, struct project_info *info, struct err *e);
void project_info_free(struct project_info *info);

/* --- base images ---------------------------------------------------------- */

struct project_base {
	char *image;   /* as the build will ask for it, ARGs resolved */
	char *file;    /* Dockerfile (or compose file for image: only), relative */
	unsigned line; /* 1-based */
	char *service;
};

/* Every FROM (and COPY --from) image of the compose file's build contexts,
 * in compose order, plus the image: of services that are not built.  Stage
 * names, scratch and --platform are handled; ARGs before the first FROM take
 * their default or the service's build args. */
int project_bases(const struct project *p, struct project_base **v, size_t *n, struct err *e);
void project_bases_free(struct project_base *v, size_t n);

/* Whether image can be built from the Debian mirror (debian:bookworm,
 * debian:trixie, their numbers and -slim). */
int project_image_buildable(const char *image);

/* Fails with "FILE:LINE: IMAGE: ..." for the first base that have() does
 * not know and that cannot be built from the mirror (the others are named
 * after it).  have may be NULL (nothing is local). */
int project_bases_check(const struct project_base *v, size_t n,
                        int (*have)(const char *image, void *ctx), void *ctx, struct err *e);

#endif
