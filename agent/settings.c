/*
 * settings.c: the agent's settings file and --set overrides (see settings.h).
 */
#include "settings.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"
#include "hostsfile.h"

void settings_defaults(struct settings *s)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->docker_source, sizeof(s->docker_source), "debian");
	snprintf(s->hosts_file, sizeof(s->hosts_file), "/etc/hosts");
	snprintf(s->cloud_cfg_dir, sizeof(s->cloud_cfg_dir), "/etc/cloud/cloud.cfg.d");
	snprintf(s->state_file, sizeof(s->state_file), "/var/lib/inception/state");
	snprintf(s->log_dir, sizeof(s->log_dir), "/var/log/inception");
	snprintf(s->cert_container, sizeof(s->cert_container), "nginx");
	snprintf(s->stack_containers, sizeof(s->stack_containers), "nginx,wordpress,mariadb");
	s->health_tries = 30;
	s->health_wait = 2;
	s->health_port = 443;
}

struct key {
	const char *name;
	size_t off, size; /* size 0 = int */
};

#define STR(f)                                                                                     \
	{                                                                                          \
#f, offsetof(struct settings, f), sizeof(((struct settings *)0)->f)                \
	}
#define INT(f)                                                                                     \
	{                                                                                          \
#f, offsetof(struct settings, f), 0                                                \
	}
static const struct key keys[] = {
    STR(login),         STR(domain),        STR(tree),
    STR(docker_source), STR(apt_mirror),    STR(apt_proxy),
    STR(hosts_file),    STR(cloud_cfg_dir), STR(state_file),
    STR(log_dir),       STR(data_dir),      STR(cert_container),
    STR(cert_path),     STR(cert_file),     STR(stack_containers),
    INT(health_tries),  INT(health_wait),   INT(health_port),
};

int settings_set(struct settings *s, const char *kv, struct err *e)
{
	const char *eq = strchr(kv, '=');
	size_t klen, i;

	if (eq == NULL)
		return err_set(e, "setting \"%s\": expected key=value", kv);
	klen = (size_t)(eq - kv);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		char *field = (char *)s + keys[i].off;

		if (strlen(keys[i].name) != klen || strncmp(keys[i].name, kv, klen) != 0)
			continue;
		if (keys[i].size == 0) {
			char *end;
			long v;

			errno = 0;
			v = strtol(eq + 1, &end, 10);
			if (errno || *end || end == eq + 1 || v < 0 || v > 100000)
				return err_set(e, "setting %s: \"%s\" is not a number",
				               keys[i].name, eq + 1);
			*(int *)(void *)field = (int)v;
			return 0;
		}
		if (strlen(eq + 1) >= keys[i].size)
			return err_set(e, "setting %s: value too long", keys[i].name);
		snprintf(field, keys[i].size, "%s", eq + 1);
		return 0;
	}
	return err_set(e, "unknown setting \"%.*s\"", (int)klen, kv);
}

int settings_load(struct settings *s, const char *path, int required, struct err *e)
{
	char line[1024];
	FILE *f = fopen(path, "r");
	int lineno = 0, rc = -1;

	if (f == NULL) {
		if (!required && errno == ENOENT)
			return 0;
		return err_set(e, "settings %s: %s", path, strerror(errno));
	}
	while (fgets(line, sizeof(line), f)) {
		size_t n = strlen(line);

		lineno++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n == 0 || line[0] == '#')
			continue;
		if (settings_set(s, line, e) < 0) {
			err_wrap(e, "%s:%d", path, lineno);
			goto done;
		}
	}
	rc = 0;
done:
	fclose(f);
	return rc;
}

static int valid_login(const char *l)
{
	size_t n = strlen(l), i;

	if (n == 0 || n > 32)
		return 0;
	for (i = 0; i < n; i++)
		if (!((l[i] >= 'a' && l[i] <= 'z') || (l[i] >= '0' && l[i] <= '9') || l[i] == '-'))
			return 0;
	return 1;
}

int settings_finish(struct settings *s, struct err *e)
{
	if (!valid_login(s->login))
		return err_set(e,
		               "login \"%s\" is missing or invalid (need [a-z0-9-]{1,32}; set "
		               "login= in the settings file or --login)",
		               s->login);
	if (!s->domain[0])
		snprintf(s->domain, sizeof(s->domain), "%s" DOMAIN_SUFFIX, s->login);
	if (!hosts_name_valid(s->domain))
		return err_set(e, "invalid domain \"%s\"", s->domain);
	if (!s->tree[0])
		snprintf(s->tree, sizeof(s->tree), "/home/%s/inception", s->login);
	if (!s->data_dir[0])
		snprintf(s->data_dir, sizeof(s->data_dir), "/home/%s/data", s->login);
	if (!s->cert_path[0]) /* where srcs/requirements/nginx/tools/entrypoint.sh makes it */
		snprintf(s->cert_path, sizeof(s->cert_path), "/etc/nginx/ssl/inception.crt");
	if (strcmp(s->docker_source, "debian") != 0 && strcmp(s->docker_source, "docker") != 0)
		return err_set(e, "docker_source \"%s\": expected debian or docker",
		               s->docker_source);
	if (s->health_tries < 1)
		s->health_tries = 1;
	if (s->health_port < 1 || s->health_port > 65535)
		return err_set(e, "health_port %d out of range", s->health_port);
	return 0;
}
