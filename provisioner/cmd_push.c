/*
 * cmd_push.c: `inception push` (re-sync the tree, make, health) and
 * `inception creds` (the generated credentials, on request).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "creds.h"
#include "report.h"
#include "stack.h"
#include "vmstate.h"

int cmd_push(struct cli *cli, int argc, char **argv, struct err *e)
{
	static const struct option opts[] = {{NULL, 0, NULL, 0}};
	struct vm_paths p;
	int ch, lock = -1, rc;

	while ((ch = cli_getopt(cli, argc, argv, "", opts, e)) != -1)
		if (ch == '?')
			return -1;
	if (optind < argc)
		return err_setc(e, EXIT_USAGE, "push: unexpected argument \"%s\"", argv[optind]);
	/* The same per-VM lock as up: a push never races an up. */
	if (vm_paths(cli->cfg.vm_name, &p, e) < 0 || vm_lock(&p, &lock, e) < 0)
		return -1;
	rc = stack_push(cli, e);
	vm_unlock(lock);
	return rc;
}

int cmd_creds(struct cli *cli, int argc, char **argv, struct err *e)
{
	static const struct option opts[] = {{NULL, 0, NULL, 0}};
	static const struct {
		const char *label, *user_key, *secret;
	} rows[] = {
	    {"wordpress admin", "WP_ADMIN_USER", "wp_admin_password"},
	    {"wordpress user", "WP_USER", "wp_user_password"},
	    {"database user", "MYSQL_USER", "db_password"},
	    {"database root", NULL, "db_root_password"},
	};
	struct vm_paths p;
	struct creds_paths cp;
	char domain[128], url[160], user[128], pw[128], key[64];
	size_t i;
	int ch;

	while ((ch = cli_getopt(cli, argc, argv, "", opts, e)) != -1)
		if (ch == '?')
			return -1;
	if (optind < argc)
		return err_setc(e, EXIT_USAGE, "creds: unexpected argument \"%s\"", argv[optind]);
	if (vm_paths(cli->cfg.vm_name, &p, e) < 0 || creds_paths(p.dir, &cp, e) < 0)
		return -1;
	if (access(cp.env, R_OK) != 0)
		return err_setc(e, EXIT_NOVM,
		                "VM %s has no generated credentials yet: run "
		                "`inception up` first",
		                cli->cfg.vm_name);
	if (creds_env_get(cp.env, "DOMAIN_NAME", domain, sizeof(domain), e) < 0)
		return -1;
	snprintf(url, sizeof(url), "https://%s/", domain);
	report_kv_begin("credentials (keep them private)");
	report_kv("url", url, NULL);
	snprintf(url, sizeof(url), "https://%s/wp-admin/", domain);
	report_kv("login page", url, NULL);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (rows[i].user_key) {
			if (creds_env_get(cp.env, rows[i].user_key, user, sizeof(user), e) < 0)
				return -1;
		} else {
			snprintf(user, sizeof(user), "root");
		}
		if (creds_secret(&cp, rows[i].secret, pw, sizeof(pw), e) < 0)
			return -1;
		snprintf(key, sizeof(key), "%s", rows[i].label);
		report_kv(key, user, NULL);
		snprintf(key, sizeof(key), "%s password", rows[i].label);
		report_kv(key, pw, NULL);
	}
	report_kv("files", cp.secrets, NULL);
	report_kv_end();
	memset(pw, 0, sizeof(pw));
	return 0;
}
