/*
 * creds.c: generated .env and passwords for a VM's stack (see creds.h).
 */
#include "creds.h"

#include <errno.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

int creds_paths(const char *state_dir, struct creds_paths *out, struct err *e)
{
	if (path_join(out->env, sizeof(out->env), e, "%s/stack.env", state_dir) < 0 ||
	    path_join(out->secrets, sizeof(out->secrets), e, "%s/secrets", state_dir) < 0)
		return -1;
	return 0;
}

/* Replaces every needle in s (malloc'd result). */
static char *replace_all(const char *s, const char *needle, const char *with)
{
	size_t nl = strlen(needle), wl = strlen(with), count = 0, len;
	const char *p;
	char *out, *o;

	for (p = s; (p = strstr(p, needle)) != NULL; p += nl)
		count++;
	len = strlen(s) + count * wl + 1;
	out = malloc(len);
	if (out == NULL)
		return NULL;
	o = out;
	while ((p = strstr(s, needle)) != NULL) {
		memcpy(o, s, (size_t)(p - s));
		o += p - s;
		memcpy(o, with, wl);
		o += wl;
		s = p + nl;
	}
	strcpy(o, s);
	return out;
}

char *creds_render_env(const char *example, const char *login)
{
	/* Same rule as the root Makefile: the WordPress administrator's login
	 * must not contain "admin". */
	const char *admin = strstr(login, "admin") ? "owner42" : login;
	char *a = replace_all(example, "__LOGIN__", login), *b;

	if (a == NULL)
		return NULL;
	b = replace_all(a, "__ADMIN__", admin);
	free(a);
	return b;
}

static int make_secret(const char *path, struct err *e)
{
	static const char alnum[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char rnd[64];
	char pw[33];
	size_t i, k = 0;

	while (k < 32) {
		if (RAND_bytes(rnd, sizeof(rnd)) != 1)
			return err_set(e, "no randomness for %s", path);
		for (i = 0; i < sizeof(rnd) && k < 32; i++)
			if (rnd[i] < 248) /* 248 = 4 * 62: no modulo bias */
				pw[k++] = alnum[rnd[i] % 62];
	}
	pw[32] = '\0';
	return write_file_atomic(path, pw, 32, 0600, e);
}

int creds_ensure(const struct config *c, const char *top, const char *state_dir,
                 struct creds_paths *out, struct err *e)
{
	static const char *const names[] = CREDS_SECRETS;
	char path[PATH_MAX], *example = NULL, *env = NULL;
	size_t len;
	int i, rc = -1;

	if (creds_paths(state_dir, out, e) < 0 || mkdir_p(out->secrets, 0700, e) < 0)
		return -1;
	if (chmod(out->secrets, 0700) < 0)
		return err_set(e, "chmod %s: %s", out->secrets, strerror(errno));
	for (i = 0; names[i]; i++) {
		if (path_join(path, sizeof(path), e, "%s/%s.txt", out->secrets, names[i]) < 0)
			return -1;
		if (access(path, F_OK) == 0)
			continue;
		if (make_secret(path, e) < 0)
			return -1;
	}
	if (access(out->env, F_OK) == 0)
		return 0;
	if (path_join(path, sizeof(path), e, "%s/srcs/.env.example", top) < 0 ||
	    read_file(path, &example, &len, e) < 0)
		return -1;
	env = creds_render_env(example, c->login);
	if (env == NULL) {
		err_set(e, "out of memory");
		goto done;
	}
	if (write_file_atomic(out->env, env, strlen(env), 0600, e) < 0)
		goto done;
	rc = 0;
done:
	free(example);
	free(env);
	return rc;
}

int creds_env_get(const char *env_path, const char *key, char *buf, size_t n, struct err *e)
{
	char *data = NULL, *line, *save = NULL;
	size_t len, kl = strlen(key);
	int rc = -1;

	if (read_file(env_path, &data, &len, e) < 0)
		return -1;
	for (line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, key, kl) == 0 && line[kl] == '=') {
			snprintf(buf, n, "%s", line + kl + 1);
			buf[strcspn(buf, "\r")] = '\0';
			rc = 0;
		}
	}
	if (rc < 0)
		err_set(e, "%s: no %s", env_path, key);
	free(data);
	return rc;
}

int creds_secret(const struct creds_paths *p, const char *name, char *buf, size_t n, struct err *e)
{
	char path[PATH_MAX], *data = NULL;
	size_t len;

	if (path_join(path, sizeof(path), e, "%s/%s.txt", p->secrets, name) < 0 ||
	    read_file(path, &data, &len, e) < 0)
		return -1;
	data[strcspn(data, "\r\n")] = '\0';
	snprintf(buf, n, "%s", data);
	free(data);
	return 0;
}
