/*
 * cmd_push.c: `inception push` (re-sync the project, make, health) and
 * `inception creds` (the project a VM runs and its generated inputs, on
 * request).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "creds.h"
#include "report.h"
#include "stack.h"
#include "util.h"
#include "vmstate.h"

int cmd_push(struct cli *cli, int argc, char **argv, struct err *e)
{
	static const struct option opts[] = {CLI_PROJECT_OPTS, {NULL, 0, NULL, 0}};
	struct stack_opts so;
	struct project proj;
	struct vm_paths p;
	struct vm_state vs;
	int ch, lock = -1, rc;

	memset(&so, 0, sizeof(so));
	while ((ch = cli_getopt(cli, argc, argv, "", opts, e)) != -1) {
		if (ch == '?')
			return -1;
		cli_project_opt(ch, &so);
	}
	if (cli_project_arg(cli, argc, argv, &so, e) < 0 || vm_paths(cli->cfg.vm_name, &p, e) < 0 ||
	    vmstate_load(&p, &vs, e) < 0)
		return -1;
	/* without PROJECT: the one this VM runs */
	if (so.project == NULL && strcmp(vs.project, "bundled stack") == 0)
		so.bundled = 1;
	else if (so.project == NULL && vs.project[0]) {
		so.project = vs.project;
		if (so.ref == NULL && vs.project_ref[0])
			so.ref = vs.project_ref; /* the revision it was pushed at */
	}
	if (stack_resolve(&so, &proj, e) < 0)
		return -1;
	/* The same per-VM lock as up: a push never races an up. */
	if (vm_lock(&p, &lock, e) < 0)
		return -1;
	rc = stack_push(cli, &so, &proj, e);
	vm_unlock(lock);
	return rc;
}

/* The WordPress and database logins the generated settings name (the
 * bundled stack's, or a project's .env made from its example): each
 * password from its secret file, else from the .env; a login whose name
 * or password is not there is left out. */
static int creds_wordpress(const struct creds_paths *cp, struct err *e)
{
	static const struct {
		const char *label, *user_key, *secret, *pw_key;
	} rows[] = {
	    {"wordpress admin", "WP_ADMIN_USER", "wp_admin_password", "WP_ADMIN_PASSWORD"},
	    {"wordpress user", "WP_USER", "wp_user_password", "WP_USER_PASSWORD"},
	    {"database user", "MYSQL_USER", "db_password", "MYSQL_PASSWORD"},
	    {"database root", NULL, "db_root_password", "MYSQL_ROOT_PASSWORD"},
	};
	char domain[128], url[160], user[128], pw[128], key[64];
	size_t i;

	if (access(cp->env, R_OK) != 0 ||
	    creds_env_get(cp->env, "WP_ADMIN_USER", user, sizeof(user), NULL) < 0)
		return 0;
	if (creds_env_get(cp->env, "DOMAIN_NAME", domain, sizeof(domain), e) < 0)
		return -1;
	snprintf(url, sizeof(url), "https://%s/", domain);
	report_kv("url", url, NULL);
	snprintf(url, sizeof(url), "https://%s/wp-admin/", domain);
	report_kv("login page", url, NULL);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (rows[i].user_key == NULL)
			snprintf(user, sizeof(user), "root");
		else if (creds_env_get(cp->env, rows[i].user_key, user, sizeof(user), NULL) < 0)
			continue;
		if (creds_secret(cp, rows[i].secret, pw, sizeof(pw), NULL) < 0 &&
		    creds_env_get(cp->env, rows[i].pw_key, pw, sizeof(pw), NULL) < 0)
			continue;
		snprintf(key, sizeof(key), "%s", rows[i].label);
		report_kv(key, user, NULL);
		snprintf(key, sizeof(key), "%s password", rows[i].label);
		report_kv(key, pw, NULL);
	}
	memset(pw, 0, sizeof(pw));
	return 0;
}

/* Every generated file under dir (rel below the gen directory), by its
 * project path, pointing at the file that holds it. */
static void list_generated(const char *gen, const char *rel)
{
	char dir[PATH_MAX];
	struct dirent **names = NULL;
	int n, i;

	if (path_join(dir, sizeof(dir), NULL, "%s%s%s", gen, rel[0] ? "/" : "", rel) < 0 ||
	    (n = scandir(dir, &names, NULL, alphasort)) < 0)
		return;
	for (i = 0; i < n; i++) {
		char child[PATH_MAX], full[PATH_MAX + 16], key[PATH_MAX + 16];

		if (strcmp(names[i]->d_name, ".") != 0 && strcmp(names[i]->d_name, "..") != 0 &&
		    path_join(child, sizeof(child), NULL, "%s%s%s", rel, rel[0] ? "/" : "",
		              names[i]->d_name) == 0 &&
		    path_join(full, sizeof(full), NULL, "%s/%s", gen, child) == 0) {
			if (names[i]->d_type == DT_DIR) {
				list_generated(gen, child);
			} else {
				snprintf(key, sizeof(key), "generated %s", child);
				report_kv(key, full, NULL);
			}
		}
		free(names[i]);
	}
	free(names);
}

int cmd_creds(struct cli *cli, int argc, char **argv, struct err *e)
{
	static const struct option opts[] = {{NULL, 0, NULL, 0}};
	struct vm_paths p;
	struct vm_state vs;
	struct creds_paths cp;
	char commit[96];
	int ch, rc;

	while ((ch = cli_getopt(cli, argc, argv, "", opts, e)) != -1)
		if (ch == '?')
			return -1;
	if (optind < argc)
		return err_setc(e, EXIT_USAGE, "creds: unexpected argument \"%s\"", argv[optind]);
	if (vm_paths(cli->cfg.vm_name, &p, e) < 0 || creds_paths(p.dir, &cp, e) < 0)
		return -1;
	if (vmstate_load(&p, &vs, NULL) < 0 || vs.project[0] == '\0' || access(cp.gen, R_OK) != 0)
		return err_setc(e, EXIT_NOVM,
		                "VM %s has no project pushed yet: run `inception up` first",
		                cli->cfg.vm_name);
	snprintf(commit, sizeof(commit), "%s%s", vs.project_commit[0] ? vs.project_commit : "-",
	         vs.project_dirty ? " (with uncommitted changes)" : "");
	report_kv_begin("credentials (keep them private)");
	report_kv("project", vs.project, NULL);
	report_kv("commit", commit, NULL);
	rc = creds_wordpress(&cp, e);
	if (rc == 0) {
		list_generated(cp.gen, "");
		report_kv("files", cp.gen, NULL);
	}
	report_kv_end();
	return rc;
}
