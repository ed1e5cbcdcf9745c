/*
 * agstate.c: step state file and atomic writes (see agstate.h).
 */
#include "agstate.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int agstate_load(struct agstate *s, const char *path, struct err *e)
{
	char line[256];
	FILE *f;

	memset(s, 0, sizeof(*s));
	f = fopen(path, "r");
	if (f == NULL) {
		if (errno == ENOENT)
			return 0;
		return err_set(e, "read %s: %s", path, strerror(errno));
	}
	while (s->n < AGSTATE_MAX && fgets(line, sizeof(line), f)) {
		struct agstate_entry *en = &s->e[s->n];

		if (sscanf(line, "%15s %15s %lld %79s", en->step, en->state, &en->when, en->key) ==
		    4)
			s->n++;
	}
	fclose(f);
	return 0;
}

const struct agstate_entry *agstate_get(const struct agstate *s, const char *step)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->e[i].step, step) == 0)
			return &s->e[i];
	return NULL;
}

int agstate_done(const struct agstate *s, const char *step, const char *key)
{
	const struct agstate_entry *en = agstate_get(s, step);

	return en && strcmp(en->state, "ok") == 0 && (key == NULL || strcmp(en->key, key) == 0);
}

int agstate_put(struct agstate *s, const char *path, const char *step, const char *state,
                const char *key, struct err *e)
{
	struct agstate_entry *en = (struct agstate_entry *)agstate_get(s, step);
	char buf[AGSTATE_MAX * 160], dir[PATH_MAX], *slash;
	size_t off = 0;
	int i;

	if (en == NULL) {
		if (s->n == AGSTATE_MAX)
			return err_set(e, "state table full");
		en = &s->e[s->n++];
	}
	snprintf(en->step, sizeof(en->step), "%s", step);
	snprintf(en->state, sizeof(en->state), "%s", state);
	snprintf(en->key, sizeof(en->key), "%s", key && *key ? key : "-");
	en->when = (long long)time(NULL);
	for (i = 0; i < s->n; i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s %s %lld %s\n",
		                        s->e[i].step, s->e[i].state, s->e[i].when, s->e[i].key);
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir_p(dir, 0755, e) < 0)
			return -1;
	}
	return write_file_atomic_owner(path, buf, off, 0644, -1, -1, e);
}
