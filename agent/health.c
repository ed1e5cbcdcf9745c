/*
 * health.c: HTTPS checks with libcurl (see health.h).
 */
#include "health.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

static CURL *easy(const char *domain, int port, const char *cafile, char *url, size_t urln,
		  char *errbuf)
{
	CURL *c = curl_easy_init();

	if (c == NULL)
		return NULL;
	snprintf(url, urln, "https://%s:%d/", domain, port);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CAINFO, cafile);
	curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "inception-agent");
	errbuf[0] = '\0';
	return c;
}

int health_get(const char *domain, int port, const char *cafile, struct health_result *r,
	       struct err *e)
{
	char url[512], errbuf[CURL_ERROR_SIZE];
	CURL *c = easy(domain, port, cafile, url, sizeof(url), errbuf);
	CURLcode rc;
	int ret = -1;

	memset(r, 0, sizeof(*r));
	if (c == NULL)
		return err_set(e, "curl_easy_init failed");
	curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	rc = curl_easy_perform(c);
	if (rc != CURLE_OK) {
		err_set(e, "GET %s: %s", url, errbuf[0] ? errbuf : curl_easy_strerror(rc));
		goto done;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->http_code);
	if (r->http_code < 200 || r->http_code > 399) {
		err_set(e, "GET %s: HTTP %ld", url, r->http_code);
		goto done;
	}
	ret = 0;
done:
	curl_easy_cleanup(c);
	return ret;
}

int health_old_tls_refused(const char *domain, int port, const char *cafile, struct err *e)
{
	char url[512], errbuf[CURL_ERROR_SIZE];
	CURL *c = easy(domain, port, cafile, url, sizeof(url), errbuf);
	CURLcode rc;

	if (c == NULL)
		return err_set(e, "curl_easy_init failed");
	curl_easy_setopt(c, CURLOPT_SSLVERSION,
			 (long)(CURL_SSLVERSION_TLSv1_0 | CURL_SSLVERSION_MAX_TLSv1_1));
	/* OpenSSL 3 disables TLS < 1.2 at the default security level: lower it so
	 * the refusal we see is the server's, not our own client's. */
	curl_easy_setopt(c, CURLOPT_SSL_CIPHER_LIST, "DEFAULT:@SECLEVEL=0");
	curl_easy_setopt(c, CURLOPT_CONNECT_ONLY, 1L);
	rc = curl_easy_perform(c);
	curl_easy_cleanup(c);
	if (rc == CURLE_OK)
		return err_set(e, "%s accepted a TLS 1.1 handshake (must be TLS 1.2+ only)", url);
	if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
	    rc == CURLE_OPERATION_TIMEDOUT)
		return err_set(e, "TLS 1.1 probe of %s could not connect: %s", url,
			       errbuf[0] ? errbuf : curl_easy_strerror(rc));
	return 0;
}
