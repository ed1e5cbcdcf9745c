/*
 * cmd_check.c: `inception check --local [DIR]`, the evaluation sheet run
 * against a project on this machine's Docker engine.
 *
 * Parses the flags, runs the point table (check.h) and hands each row to
 * the reporter as it comes (a table, or one JSON object per point); with
 * --report FILE.md the rows also go to a Markdown report written
 * atomically at the end.  Exit 0 when no point FAILs, else 1.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cli.h"
#include "report.h"
#include "util.h"

struct collect {
	struct check_row *rows;
	size_t n;
	int count[4];
};

static void on_row(const struct check_row *r, void *arg)
{
	struct collect *col = arg;
	struct check_row *nr = realloc(col->rows, (col->n + 1) * sizeof(*nr));

	if (nr == NULL)
		abort();
	col->rows = nr;
	col->rows[col->n++] = *r;
	col->count[r->state]++;
	report_check_row(r->pt->section, r->pt->point, ck_state_name(r->state), r->pt->ends,
			 r->evidence);
}

/* The first line of a password file (a secret: never printed). */
static int read_password(const char *path, const char *flag, char *buf, size_t n, struct err *e)
{
	char *data = NULL;
	size_t len = 0, l;

	if (read_file_max(path, &data, &len, 4096, e) < 0)
		return err_setc(e, EXIT_USAGE, "check: %s %s: cannot read it", flag, path);
	l = strcspn(data, "\r\n");
	if (l == 0 || l >= n) {
		memset(data, 0, len);
		free(data);
		return err_setc(e, EXIT_USAGE, "check: %s %s: %s", flag, path,
				l == 0 ? "the first line is empty" : "the password is too long");
	}
	memcpy(buf, data, l);
	buf[l] = '\0';
	memset(data, 0, len);
	free(data);
	return 0;
}

/* Flag parsing (a switch of one-liners) and the run; long but flat. */
int cmd_check(struct cli *cli, int argc, char **argv, struct err *e)
{
	enum { O_LOCAL = 300, O_REPORT, O_ONLY, O_STATIC, O_EVALUATE, O_ENVFILE, O_PROJECT,
	       O_DATADIR, O_WPUSER, O_WPPW, O_WPADMIN, O_WPADMINPW, O_TODAY, O_EXCLUDE, O_WPPWFILE, O_WPADMINPWFILE };
	static const struct option opts[] = {
		{ "local", no_argument, NULL, O_LOCAL },
		{ "report", required_argument, NULL, O_REPORT },
		{ "only", required_argument, NULL, O_ONLY },
		{ "static", no_argument, NULL, O_STATIC },
		{ "evaluate", no_argument, NULL, O_EVALUATE },
		{ "env-file", required_argument, NULL, O_ENVFILE },
		{ "project", required_argument, NULL, O_PROJECT },
		{ "data-dir", required_argument, NULL, O_DATADIR },
		{ "wp-user", required_argument, NULL, O_WPUSER },
		{ "wp-password", required_argument, NULL, O_WPPW },
		{ "wp-admin", required_argument, NULL, O_WPADMIN },
		{ "wp-admin-password", required_argument, NULL, O_WPADMINPW },
		{ "today", required_argument, NULL, O_TODAY },
		{ "exclude", required_argument, NULL, O_EXCLUDE },
		{ "wp-password-file", required_argument, NULL, O_WPPWFILE },
		{ "wp-admin-password-file", required_argument, NULL, O_WPADMINPWFILE },
		{ NULL, 0, NULL, 0 },
	};
	struct check_opts o;
	struct collect col;
	const char *report = NULL;
	char absdir[PATH_MAX], wp_pw[256] = "", admin_pw[256] = "";
	int c, local = 0, ret = -1;

	memset(&o, 0, sizeof(o));
	memset(&col, 0, sizeof(col));
	while ((c = cli_getopt(cli, argc, argv, "", opts, e)) != -1) {
		switch (c) {
		case '?': return -1;
		case O_LOCAL: local = 1; break;
		case O_REPORT: report = optarg; break;
		case O_ONLY: o.only = optarg; break;
		case O_STATIC: o.static_only = 1; break;
		case O_EVALUATE: o.evaluate = 1; break;
		case O_ENVFILE: o.env_file = optarg; break;
		case O_PROJECT: o.project = optarg; break;
		case O_DATADIR: o.data_dir = optarg; break;
		case O_WPUSER: o.wp_user = optarg; break;
		case O_WPPW: o.wp_password = optarg; break;
		case O_WPADMIN: o.wp_admin = optarg; break;
		case O_WPADMINPW: o.wp_admin_password = optarg; break;
		case O_TODAY: o.today = optarg; break;
		case O_EXCLUDE: o.exclude = optarg; break;
		case O_WPPWFILE:
			if (read_password(optarg, "--wp-password-file", wp_pw, sizeof(wp_pw), e) < 0)
				return -1;
			o.wp_password = wp_pw;
			break;
		case O_WPADMINPWFILE:
			if (read_password(optarg, "--wp-admin-password-file", admin_pw, sizeof(admin_pw),
					  e) < 0)
				return -1;
			o.wp_admin_password = admin_pw;
			break;
		}
	}
	if (!local)
		return err_setc(e, EXIT_USAGE, "check: only --local is available (the project on this "
					       "machine's Docker); the in-VM check comes with the agent");
	if (optind + 1 < argc)
		return err_setc(e, EXIT_USAGE, "check: unexpected argument \"%s\"", argv[optind + 1]);
	o.dir = optind < argc ? argv[optind] : ".";
	if (o.login == NULL && cli->cfg.login && strcmp(config_origin(&cli->cfg, "login"), "default") != 0)
		o.login = cli->cfg.login;
	if (o.today && (strlen(o.today) != 10 || o.today[4] != '-' || o.today[7] != '-'))
		return err_setc(e, EXIT_USAGE, "check: --today %s: use YYYY-MM-DD", o.today);
	if (!!o.wp_user != !!o.wp_password)
		return err_setc(e, EXIT_USAGE, "check: --wp-user and --wp-password go together");
	if (!!o.wp_admin != !!o.wp_admin_password)
		return err_setc(e, EXIT_USAGE, "check: --wp-admin and --wp-admin-password go together");
	if (check_sections_valid(o.only, e) < 0)
		return -1;
	if (realpath(o.dir, absdir) != NULL) /* the report names the project */
		o.dir = absdir;
	if (check_run(&o, on_row, &col, e) < 0)
		goto done;
	report_check_summary(col.count[CK_PASS], col.count[CK_FAIL], col.count[CK_MANUAL],
			     col.count[CK_SKIP]);
	if (report) {
		char *md = check_markdown(&o, col.rows, col.n);
		int w = write_file_atomic(report, md, strlen(md), 0644, e);

		free(md);
		if (w < 0) {
			err_wrap(e, "check: --report");
			goto done;
		}
	}
	ret = col.count[CK_FAIL] ? EXIT_FAIL : EXIT_OK;
done:
	memset(wp_pw, 0, sizeof(wp_pw));
	memset(admin_pw, 0, sizeof(admin_pw));
	free(col.rows);
	return ret;
}
