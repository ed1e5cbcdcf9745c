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

int mkdirs(const char *path, unsigned mode, struct err *e)
{
	char tmp[PATH_MAX];
	char *p;

	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
		return err_set(e, "path too long");
	for (p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, (mode_t)mode) < 0 && errno != EEXIST)
			return err_set(e, "mkdir %s: %s", tmp, strerror(errno));
		*p = '/';
	}
	if (mkdir(tmp, (mode_t)mode) < 0 && errno != EEXIST)
		return err_set(e, "mkdir %s: %s", tmp, strerror(errno));
	return 0;
}

int write_atomic(const char *path, const void *data, size_t len, unsigned mode, long uid,
		 long gid, struct err *e)
{
	char tmp[PATH_MAX];
	const char *p = data;
	int fd, rc = -1;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >= (int)sizeof(tmp))
		return err_set(e, "path too long: %s", path);
	fd = mkstemp(tmp);
	if (fd < 0)
		return err_set(e, "create %s: %s", tmp, strerror(errno));
	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			err_set(e, "write %s: %s", tmp, strerror(errno));
			goto done;
		}
		p += w;
		len -= (size_t)w;
	}
	if (fchmod(fd, (mode_t)mode) < 0 ||
	    ((uid >= 0 || gid >= 0) && fchown(fd, (uid_t)uid, (gid_t)gid) < 0)) {
		err_set(e, "chmod/chown %s: %s", tmp, strerror(errno));
		goto done;
	}
	if (fsync(fd) < 0) {
		err_set(e, "fsync %s: %s", tmp, strerror(errno));
		goto done;
	}
	if (close(fd) < 0) {
		fd = -1;
		err_set(e, "close %s: %s", tmp, strerror(errno));
		goto done;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		err_set(e, "rename %s -> %s: %s", tmp, path, strerror(errno));
		goto done;
	}
	rc = 0;
done:
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		unlink(tmp);
	return rc;
}

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

		if (sscanf(line, "%15s %15s %lld %79s", en->step, en->state, &en->when, en->key) == 4)
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
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s %s %lld %s\n", s->e[i].step,
					s->e[i].state, s->e[i].when, s->e[i].key);
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdirs(dir, 0755, e) < 0)
			return -1;
	}
	return write_atomic(path, buf, off, 0644, -1, -1, e);
}
