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

#define MAX_OPTS 64

static char **last_argv;
static struct option merged[MAX_OPTS];
static char shortbuf[64];

size_t cli_options(struct option *out, size_t max, const struct option *own)
{
	const char *const *keys = config_keys();
	size_t n = 0, i;

	if (own)
		for (; n < max / 2 && own[n].name; n++)
			out[n] = own[n];
	for (i = 0; keys[i] && n + 1 < max; i++, n++) {
		out[n].name = config_key_flag(keys[i]);
		out[n].has_arg = required_argument;
		out[n].flag = NULL;
		out[n].val = CLI_CONFIG_OPT + (int)i;
	}
	memset(&out[n], 0, sizeof(out[n]));
	return n;
}

const char *cli_config_key(int c)
{
	const char *const *keys = config_keys();
	int i;

	if (c < CLI_CONFIG_OPT)
		return NULL;
	for (i = 0; keys[i]; i++)
		if (i == c - CLI_CONFIG_OPT)
			return keys[i];
	return NULL;
}

int cli_getopt(struct cli *cli, int argc, char **argv, const char *shortopts,
               const struct option *longopts, struct err *e)
{
	int c, idx = -1;

	if (argv != last_argv) {
		last_argv = argv;
		optind = 0; /* GNU: full re-initialisation for a new argv */
		cli_options(merged, MAX_OPTS, longopts);
		snprintf(shortbuf, sizeof(shortbuf), ":%s", shortopts ? shortopts : "");
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
		if (optopt && optopt < CLI_CONFIG_OPT &&
		    (bad == NULL || bad[0] != '-' || bad[1] != '-'))
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
	if (cli_config_key(c) != NULL) {
		const char *key = cli_config_key(c);
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
