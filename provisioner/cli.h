/*
 * cli.h: what the command handlers share.
 *
 * main() parses the global flags, loads the configuration (defaults < file
 * < INCEPTION_* environment < flags) and calls one handler from the command
 * table.  A handler parses its own arguments with cli_getopt(), which also
 * accepts every configuration flag, so `inception up --memory 4G` and
 * `inception --memory 4G up` mean the same.
 */
#ifndef INCEPTION_CLI_H
#define INCEPTION_CLI_H

#include <getopt.h>

#include "config.h"
#include "err.h"

struct cli {
	struct config cfg;
	const char *config_path; /* -c FILE, or NULL */
	int json;
	int verbosity;
	const char *prog;
};

struct command {
	const char *name;
	int (*fn)(struct cli *cli, int argc, char **argv, struct err *e);
	const char *usage;   /* arguments after the command name */
	const char *help;    /* one line */
	const char *details; /* longer text for `inception help CMD`, may be NULL */
};

/* The long options: own (may be NULL) followed by one per configuration
 * key (--memory, --login, ...) whose val is CLI_CONFIG_OPT + index, into
 * out (max entries, the last a zero terminator).  Returns the count. */
#define CLI_CONFIG_OPT 1000
size_t cli_options(struct option *out, size_t max, const struct option *own);

/* The configuration key of a getopt value from cli_options, or NULL. */
const char *cli_config_key(int c);

/* getopt_long over argv with the command's own options plus the config
 * flags.  Returns the option character like getopt_long, -1 at the end, or
 * '?' after setting e for a bad option or value.  Config flags are applied
 * to cli->cfg and not returned. */
int cli_getopt(struct cli *cli, int argc, char **argv, const char *shortopts,
               const struct option *longopts, struct err *e);

/* The project options up, rebuild and push share: [PROJECT], --ref REV,
 * --committed, --generate-missing (and --project, the config key's flag). */
#define CLI_PROJECT_OPTS                                                                           \
	{"ref", required_argument, NULL, 'R'}, {"committed", no_argument, NULL, 'C'},              \
	{                                                                                          \
		"generate-missing", no_argument, NULL, 'G'                                         \
	}
struct stack_opts;
/* Applies one of them (1), or 0 when c is none of them. */
int cli_project_opt(int c, struct stack_opts *so);
/* The optional PROJECT operand (else the project key); more is an error. */
int cli_project_arg(struct cli *cli, int argc, char **argv, struct stack_opts *so, struct err *e);

/* Handlers, one per command (cmd_*.c). */
int cmd_up(struct cli *cli, int argc, char **argv, struct err *e);
int cmd_status(struct cli *cli, int argc, char **argv, struct err *e);
int cmd_ssh(struct cli *cli, int argc, char **argv, struct err *e);
int cmd_forward(struct cli *cli, int argc, char **argv, struct err *e);
int cmd_console(struct cli *cli, int argc, char **argv, struct err *e);
int cmd_push(struct cli *cli, int argc, char **argv, struct err *e);
int cmd_down(struct cli *cli, int argc, char **argv, struct err *e);
int cmd_destroy(struct cli *cli, int argc, char **argv, struct err *e);
int cmd_rebuild(struct cli *cli, int argc, char **argv, struct err *e);
int cmd_image(struct cli *cli, int argc, char **argv, struct err *e);
int cmd_config(struct cli *cli, int argc, char **argv, struct err *e);
int cmd_check(struct cli *cli, int argc, char **argv, struct err *e);
int cmd_creds(struct cli *cli, int argc, char **argv, struct err *e);
int cmd_lab(struct cli *cli, int argc, char **argv, struct err *e);

#endif
