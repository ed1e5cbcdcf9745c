/*
 * engine.c: the Docker engine's API over its unix socket (see engine.h).
 */
#include "engine.h"

#include <curl/curl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SVC_LABEL "com.docker.compose.service"
#define WD_LABEL "com.docker.compose.project.working_dir"
#define CF_LABEL "com.docker.compose.project.config_files"

const char *engine_sock(void)
{
	const char *s = getenv("INCEPTION_DOCKER_SOCK");

	return s && s[0] ? s : "/run/docker.sock";
}

static size_t discard_body(char *p, size_t size, size_t nmemb, void *arg)
{
	(void)p;
	(void)arg;
	return size * nmemb;
}

static size_t mem_write(char *p, size_t size, size_t nmemb, void *arg)
{
	size_t add = size * nmemb;

	return buf_add(arg, p, add, NULL, NULL) == 0 ? add : 0;
}

long engine_get(const char *path, struct buf *m)
{
	char url[32768], errbuf[CURL_ERROR_SIZE];
	long code = 0;
	CURL *c;

	if (snprintf(url, sizeof(url), "http://localhost%s", path) >= (int)sizeof(url))
		return 0;
	c = curl_easy_init();
	if (c == NULL)
		return 0;
	curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, engine_sock());
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, m ? mem_write : discard_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, m);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(c);
	return code;
}

int engine_answers(void)
{
	return engine_get("/_ping", NULL) == 200;
}

int image_present(const char *tag)
{
	char path[600];

	if (snprintf(path, sizeof(path), "/images/%s/json", tag) >= (int)sizeof(path))
		return 0;
	return engine_get(path, NULL) == 200;
}

void project_ref(const struct settings *s, struct project_ref *p)
{
	char joined[2 * SET_STR + 2], *slash;

	snprintf(joined, sizeof(joined), "%s/%s", s->tree, s->compose);
	/* compose writes the paths as the kernel sees them (getcwd): resolved */
	if (realpath(joined, p->config_file) == NULL)
		snprintf(p->config_file, sizeof(p->config_file), "%s", joined);
	snprintf(p->working_dir, sizeof(p->working_dir), "%s", p->config_file);
	slash = strrchr(p->working_dir, '/');
	if (slash && slash != p->working_dir)
		*slash = '\0';
	if (realpath(s->tree, p->tree) == NULL)
		snprintf(p->tree, sizeof(p->tree), "%s", s->tree);
}

/* Appends s to the JSON string being built, escaped. */
static void json_str(char *out, size_t n, const char *s)
{
	size_t len = strlen(out);

	while (*s && len + 3 < n) {
		if (*s == '"' || *s == '\\')
			out[len++] = '\\';
		out[len++] = *s++;
	}
	out[len] = '\0';
}

/* GET /containers/json?all=1&filters=... with the project's label (by
 * working_dir, then by config_files, then working_dir = the tree), SERVICE's label when not NULL,
 * and the extra filter members (",\"status\":[...]" or ""), the body in *m. Returns the number of
 * containers listed, -1 when the engine does not answer. */
static int list_project(const struct project_ref *p, const char *service, const char *extra,
                        struct buf *m)
{
	int pass;

	for (pass = 0; pass < 3; pass++) {
		char filters[9000] = "{\"label\":[\"", path[9000 * 3 + 64], *esc;
		const char *q;
		int count = 0;
		long code;
		CURL *c;

		json_str(filters, sizeof(filters), pass == 1 ? CF_LABEL "=" : WD_LABEL "=");
		json_str(filters, sizeof(filters),
		         pass == 0   ? p->working_dir
		         : pass == 1 ? p->config_file
		                     : p->tree);
		if (service) {
			strncat(filters, "\",\"", sizeof(filters) - strlen(filters) - 1);
			json_str(filters, sizeof(filters), SVC_LABEL "=");
			json_str(filters, sizeof(filters), service);
		}
		strncat(filters, "\"]", sizeof(filters) - strlen(filters) - 1);
		strncat(filters, extra, sizeof(filters) - strlen(filters) - 1);
		strncat(filters, "}", sizeof(filters) - strlen(filters) - 1);
		c = curl_easy_init();
		if (c == NULL)
			return -1;
		esc = curl_easy_escape(c, filters, 0);
		curl_easy_cleanup(c);
		if (esc == NULL)
			return -1;
		snprintf(path, sizeof(path), "/containers/json?all=1&filters=%s", esc);
		curl_free(esc);
		buf_free(m);
		buf_init(m, 16u << 20);
		code = engine_get(path, m);
		if (code != 200)
			return -1;
		/* Every container of the list is an object that starts with its
		 * Id; the pattern cannot occur inside a JSON string (its quotes
		 * would be escaped there). */
		for (q = m->p ? m->p : ""; (q = strstr(q, "{\"Id\":\"")) != NULL; q += 7)
			count++;
		if (count > 0 || pass == 2)
			return count;
	}
	return 0;
}

/* 0 = running and healthy where checked; else 1 with why. -1 engine. */
static int one_ok(const struct project_ref *p, const char *service, char *why, size_t n)
{
	static const char ok[] = ",\"status\":[\"running\"],\"health\":[\"healthy\",\"none\"]";
	struct buf m;
	int r;

	buf_init(&m, 16u << 20);
	r = list_project(p, service, ok, &m);
	if (r > 0) {
		r = 0;
		goto done;
	}
	if (r < 0)
		goto done;
	r = 1;
	if (list_project(p, service, "", &m) == 0)
		snprintf(why, n, "no container");
	else if (list_project(p, service, ",\"status\":[\"running\"]", &m) == 0)
		snprintf(why, n, "not running");
	else if (list_project(p, service, ",\"health\":[\"starting\"]", &m) > 0)
		snprintf(why, n, "health check still starting");
	else
		snprintf(why, n, "unhealthy");
done:
	buf_free(&m);
	return r;
}

/* Longer than 60 lines: the two cases (a list of services, or every
 * container of the project when there is none) share their counting and
 * their message, kept side by side. */
int services_check(const struct settings *s, const struct project_ref *p, char *why, size_t n,
                   int *n_ok)
{
	const char *v = s->services;
	char one[128];
	int bad = 0, good = 0;

	why[0] = '\0';
	if (n_ok)
		*n_ok = 0;
	if (!s->services[0]) {
		/* no list: every container of the project, and at least one */
		struct buf m;
		int all, fine;

		buf_init(&m, 16u << 20);
		all = list_project(p, NULL, "", &m);
		fine = all > 0 ? list_project(p, NULL,
		                              ",\"status\":[\"running\"],\"health\":[\"healthy\","
		                              "\"none\"]",
		                              &m)
		               : all;
		buf_free(&m);
		if (all < 0 || fine < 0)
			return -1;
		if (n_ok)
			*n_ok = fine;
		if (all == 0) {
			snprintf(why, n, "no container of the project (compose file %s)",
			         p->config_file);
			return 1;
		}
		if (fine < all) {
			snprintf(why, n, "%d of %d containers of the project not running healthy",
			         all - fine, all);
			return 1;
		}
		return 0;
	}
	while (*v) {
		size_t len = strcspn(v, ",");
		char svc[128];
		int r;

		snprintf(svc, sizeof(svc), "%.*s", (int)(len < sizeof(svc) ? len : sizeof(svc) - 1),
		         v);
		v += len;
		if (*v == ',')
			v++;
		if (!svc[0])
			continue;
		r = one_ok(p, svc, one, sizeof(one));
		if (r < 0)
			return -1;
		if (r == 0) {
			good++;
			continue;
		}
		bad++;
		snprintf(why + strlen(why), n - strlen(why), "%s%s: %s", why[0] ? "; " : "", svc,
		         one);
	}
	if (n_ok)
		*n_ok = good;
	return bad ? 1 : 0;
}

int project_publisher(const struct project_ref *p, int port, char *id, size_t idn, char *service,
                      size_t sn)
{
	struct buf m;
	char pub[48];
	const char *q;
	int r, found = 1;

	buf_init(&m, 16u << 20);
	r = list_project(p, NULL, ",\"status\":[\"running\"]", &m);
	if (r < 0) {
		buf_free(&m);
		return -1;
	}
	/* Ports entries are {"IP":..,"PrivatePort":443,"PublicPort":443,"Type":"tcp"} */
	snprintf(pub, sizeof(pub), "\"PublicPort\":%d,", port);
	for (q = m.p ? strstr(m.p, "{\"Id\":\"") : NULL; q && found;) {
		const char *next = strstr(q + 7, "{\"Id\":\""), *hit = strstr(q, pub);

		if (hit && (next == NULL || hit < next)) {
			const char *sv = strstr(q, "\"" SVC_LABEL "\":\"");
			size_t len = strcspn(q + 7, "\"");

			snprintf(id, idn, "%.*s", (int)len, q + 7);
			service[0] = '\0';
			if (sv && (next == NULL || sv < next)) {
				sv += sizeof(SVC_LABEL) + 4 - 1;
				snprintf(service, sn, "%.*s", (int)strcspn(sv, "\""), sv);
			}
			found = 0;
		}
		q = next;
	}
	buf_free(&m);
	return found;
}
