/*
 * cli.c: option parsing shared by the command handlers (see cli.h).
 *
 * Each handler passes its own short and long options; cli_getopt appends
 * one long option per configuration key (--memory, --login, ...) and applies
 * those itself, so every command accepts every config flag.  When the
 * options end, the finished configuration is validated once.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONFIG_OPT_BASE 1000
#define MAX_OPTS 64

static char **last_argv;
static struct option merged[MAX_OPTS];
static char shortbuf[64];

static int build_options(const char *shortopts, const struct option *longopts)
{
	const char *const *keys = config_keys();
	size_t n = 0, i;

	if (longopts)
		for (; n < MAX_OPTS / 2 && longopts[n].name; n++)
			merged[n] = longopts[n];
	for (i = 0; keys[i] && n < MAX_OPTS - 1; i++, n++) {
		merged[n].name = config_key_flag(keys[i]);
		merged[n].has_arg = required_argument;
		merged[n].flag = NULL;
		merged[n].val = CONFIG_OPT_BASE + (int)i;
	}
	memset(&merged[n], 0, sizeof(merged[n]));
	snprintf(shortbuf, sizeof(shortbuf), ":%s", shortopts ? shortopts : "");
	return 0;
}

int cli_getopt(struct cli *cli, int argc, char **argv, const char *shortopts,
	       const struct option *longopts, struct err *e)
{
	int c, idx = -1;

	if (argv != last_argv) {
		last_argv = argv;
		optind = 0; /* GNU: full re-initialisation for a new argv */
		build_options(shortopts, longopts);
	}
	opterr = 0;
	c = getopt_long(argc, argv, shortbuf, merged, &idx);
	if (c == -1) {
		last_argv = NULL;
		if (config_validate(&cli->cfg, e) < 0)
			return (e->code = EXIT_USAGE, '?');
		return -1;
	}
	if (c == '?') {
		const char *bad = argv[optind - 1];
		if (optopt && optopt < CONFIG_OPT_BASE && (bad == NULL || bad[0] != '-' || bad[1] != '-'))
			err_setc(e, EXIT_USAGE, "%s: unknown option -%c (see `inception help %s`)",
				 argv[0], optopt, argv[0]);
		else
			err_setc(e, EXIT_USAGE, "%s: unknown option %s (see `inception help %s`)",
				 argv[0], bad ? bad : "?", argv[0]);
		last_argv = NULL;
		return '?';
	}
	if (c == ':') {
		err_setc(e, EXIT_USAGE, "%s: option %s needs a value", argv[0], argv[optind - 1]);
		last_argv = NULL;
		return '?';
	}
	if (c >= CONFIG_OPT_BASE && c < CONFIG_OPT_BASE + MAX_OPTS) {
		const char *key = config_keys()[c - CONFIG_OPT_BASE];
		char where[80];

		snprintf(where, sizeof(where), "--%s", config_key_flag(key));
		if (config_set(&cli->cfg, key, optarg, where, e) < 0) {
			e->code = EXIT_USAGE;
			last_argv = NULL;
			return '?';
		}
		return cli_getopt(cli, argc, argv, shortopts, longopts, e);
	}
	return c;
}
