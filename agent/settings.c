/*
 * settings.c: the agent's settings file and --set overrides (see settings.h).
 */
#include "settings.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
	s->pull_timeout = 30;
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
    STR(login),       STR(domain),    STR(tree),         STR(meta),          STR(compose),
    STR(services),    STR(bases),     STR(data_dirs),    STR(docker_source), STR(docker_cache),
    STR(apt_mirror),  STR(apt_proxy), STR(hosts_file),   STR(cloud_cfg_dir), STR(state_file),
    STR(log_dir),     STR(cert_file), INT(pull_timeout), INT(health_tries),  INT(health_wait),
    INT(health_port),
};

/* A path with no "." or ".." component and no empty one inside. */
static int path_clean(const char *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t j = i;

		while (j < n && p[j] != '/')
			j++;
		if ((j - i == 1 && p[i] == '.') || (j - i == 2 && p[i] == '.' && p[i + 1] == '.'))
			return 0;
		if (j == i && i != 0 && j != n) /* "//" */
			return 0;
		i = j + 1;
	}
	return 1;
}

static int image_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-' || c == '/' || c == ':' || c == '@';
}

int settings_next_base(const char **p, struct base_ref *b, struct err *e)
{
	const char *s = *p, *end, *bar, *colon, *q;
	size_t len;

	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '\0') {
		*p = s;
		return 0;
	}
	end = s + strcspn(s, " \t");
	len = (size_t)(end - s);
	*p = end;
	bar = memchr(s, '|', len);
	if (bar == NULL || bar == s)
		return err_set(e, "setting bases: \"%.*s\": expected IMAGE|FILE:LINE", (int)len, s);
	for (q = s; q < bar; q++)
		if (!image_char(*q))
			return err_set(e, "setting bases: \"%.*s\": invalid image name \"%.*s\"",
			               (int)len, s, (int)(bar - s), s);
	colon = NULL;
	for (q = bar + 1; q < end; q++)
		if (*q == ':')
			colon = q;
	if (colon == NULL || colon == bar + 1 || colon + 1 == end ||
	    strspn(colon + 1, "0123456789") != (size_t)(end - colon - 1) || colon[1] == '0')
		return err_set(e, "setting bases: \"%.*s\": expected FILE:LINE after the |",
		               (int)len, s);
	if (bar[1] == '/' || !path_clean(bar + 1, (size_t)(colon - bar - 1)))
		return err_set(e,
		               "setting bases: \"%.*s\": FILE must be a path relative to the tree "
		               "(no \".\" or \"..\")",
		               (int)len, s);
	if ((size_t)(bar - s) >= sizeof(b->image) || (size_t)(end - bar - 1) >= sizeof(b->where))
		return err_set(e, "setting bases: \"%.*s\": too long", (int)len, s);
	snprintf(b->image, sizeof(b->image), "%.*s", (int)(bar - s), s);
	snprintf(b->where, sizeof(b->where), "%.*s", (int)(end - bar - 1), bar + 1);
	return 1;
}

int settings_next_dir(const char **p, char *dir, size_t n, struct err *e)
{
	const char *s = *p;
	size_t len;

	if (*s == '\0')
		return 0;
	len = strcspn(s, ":");
	*p = s[len] == ':' ? s + len + 1 : s + len;
	if (len == 0 || (s[len] == ':' && s[len + 1] == '\0'))
		return err_set(e, "setting data_dirs: an empty entry (two colons, or a colon at an "
		                  "end)");
	if (s[0] != '/')
		return err_set(e, "setting data_dirs: \"%.*s\" is not an absolute path", (int)len,
		               s);
	if (!path_clean(s, len))
		return err_set(e,
		               "setting data_dirs: \"%.*s\": \".\", \"..\" and \"//\" are not "
		               "allowed",
		               (int)len, s);
	if (len >= n)
		return err_set(e, "setting data_dirs: \"%.*s\": too long", (int)len, s);
	snprintf(dir, n, "%.*s", (int)len, s);
	return 1;
}

static int valid_service(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') ||
	                (s[0] >= '0' && s[0] <= '9')))
		return 0;
	for (i = 1; i < n; i++)
		if (!image_char(s[i]) || s[i] == '/' || s[i] == ':' || s[i] == '@')
			return 0;
	return 1;
}

/* The list keys are checked whole when set: a bad entry is reported with
 * the settings file's line, not half-way through a step. */
static int check_list(const char *key, const char *v, struct err *e)
{
	if (strcmp(key, "bases") == 0) {
		struct base_ref b;
		int r;

		while ((r = settings_next_base(&v, &b, e)) == 1)
			;
		return r;
	}
	if (strcmp(key, "data_dirs") == 0) {
		char dir[SET_STR];
		int r;

		while ((r = settings_next_dir(&v, dir, sizeof(dir), e)) == 1)
			;
		return r;
	}
	if (strcmp(key, "services") == 0) {
		while (*v) {
			size_t len = strcspn(v, ",");

			if (!valid_service(v, len))
				return err_set(e, "setting services: invalid service name \"%.*s\"",
				               (int)len, v);
			v += len;
			if (*v == ',' && *++v == '\0')
				return err_set(e, "setting services: invalid service name \"\"");
		}
		return 0;
	}
	if (strcmp(key, "compose") == 0 && v[0] != '\0' &&
	    (v[0] == '/' || !path_clean(v, strlen(v))))
		return err_set(e, "setting compose: \"%s\" must be a path relative to the tree", v);
	return 0;
}

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
		if (check_list(keys[i].name, eq + 1, e) < 0)
			return -1;
		snprintf(field, keys[i].size, "%s", eq + 1);
		return 0;
	}
	return err_set(e, "unknown setting \"%.*s\"", (int)klen, kv);
}

int settings_load(struct settings *s, const char *path, int required, struct err *e)
{
	char line[8192];
	const char *slash = strrchr(path, '/');
	FILE *f;
	int lineno = 0, rc = -1;

	/* meta's default: the settings file's directory, loaded or not */
	if (slash == NULL)
		snprintf(s->conf_dir, sizeof(s->conf_dir), ".");
	else
		snprintf(s->conf_dir, sizeof(s->conf_dir), "%.*s", (int)(slash - path), path);
	f = fopen(path, "r");
	if (f == NULL) {
		if (!required && errno == ENOENT)
			return 0;
		return err_set(e, "settings %s: %s", path, strerror(errno));
	}
	while (fgets(line, sizeof(line), f)) {
		size_t n = strlen(line);

		lineno++;
		if (n == sizeof(line) - 1 && line[n - 1] != '\n') {
			err_set(e, "%s:%d: line too long", path, lineno);
			goto done;
		}
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
	if (!s->meta[0])
		snprintf(s->meta, sizeof(s->meta), "%s", s->conf_dir[0] ? s->conf_dir : ".");
	if (!s->compose[0]) {
		static const char *const names[] = {"srcs/docker-compose.yml",
		                                    "srcs/docker-compose.yaml", "srcs/compose.yaml",
		                                    "srcs/compose.yml", NULL};
		char p[2 * SET_STR];
		int i;

		snprintf(s->compose, sizeof(s->compose), "%s", names[0]);
		for (i = 0; names[i]; i++) {
			snprintf(p, sizeof(p), "%s/%s", s->tree, names[i]);
			if (access(p, F_OK) == 0) {
				snprintf(s->compose, sizeof(s->compose), "%s", names[i]);
				break;
			}
		}
	}
	if (strcmp(s->docker_source, "debian") != 0 && strcmp(s->docker_source, "docker") != 0)
		return err_set(e, "docker_source \"%s\": expected debian or docker",
		               s->docker_source);
	if (s->health_tries < 1)
		s->health_tries = 1;
	if (s->health_port < 1 || s->health_port > 65535)
		return err_set(e, "health_port %d out of range", s->health_port);
	return 0;
}
