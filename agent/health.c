/*
 * health.c: HTTPS checks with libcurl, and a hand-made TLS 1.1 probe (see
 * health.h).
 */
#include "health.h"

#include <curl/curl.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

static CURL *easy(const char *domain, int port, const char *cafile, char *url, size_t urln,
                  char *errbuf, struct curl_slist **resolve)
{
	CURL *c = curl_easy_init();
	char entry[300];

	if (c == NULL)
		return NULL;
	snprintf(url, urln, "https://%s:%d/", domain, port);
	/* the domain on 127.0.0.1, whatever /etc/hosts says: SNI and Host stay */
	snprintf(entry, sizeof(entry), "%s:%d:127.0.0.1", domain, port);
	*resolve = curl_slist_append(NULL, entry);
	curl_easy_setopt(c, CURLOPT_RESOLVE, *resolve);
	curl_easy_setopt(c, CURLOPT_URL, url);
	if (cafile) {
		curl_easy_setopt(c, CURLOPT_CAINFO, cafile);
		curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	} else { /* no certificate to verify against: the handshake only */
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	}
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
	struct curl_slist *resolve = NULL;
	CURL *c = easy(domain, port, cafile, url, sizeof(url), errbuf, &resolve);
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
	curl_slist_free_all(resolve);
	return ret;
}

/* ---- the TLS 1.1 probe ----------------------------------------------------
 *
 * A hand-made TLS 1.1 ClientHello over a plain socket, and the first record
 * of the answer read by hand: libcurl reports every failed handshake the
 * same way, and a server that breaks for any other reason (closes the
 * connection, answers in plain text, fails with an internal error) must not
 * pass for one that refuses TLS 1.1. */

#define PROBE_TIMEOUT_MS 10000

static int connect_to(const char *host, int port, char *why, size_t whyn)
{
	struct addrinfo hints, *res = NULL, *ai;
	char portstr[16];
	int fd = -1, rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(portstr, sizeof(portstr), "%d", port);
	rc = getaddrinfo(host, portstr, &hints, &res);
	if (rc != 0) {
		snprintf(why, whyn, "resolve %s: %s", host, gai_strerror(rc));
		return -1;
	}
	snprintf(why, whyn, "no address");
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		struct pollfd pfd;
		int soerr = 0;
		socklen_t sl = sizeof(soerr);

		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
		            ai->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		if (errno == EINPROGRESS) {
			pfd.fd = fd;
			pfd.events = POLLOUT;
			if (poll(&pfd, 1, PROBE_TIMEOUT_MS) == 1 &&
			    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0)
				break;
			errno = soerr ? soerr : ETIMEDOUT;
		}
		snprintf(why, whyn, "%s", strerror(errno));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

/* Reads exactly n bytes before the deadline; 0, or -1 with why. */
static int read_n(int fd, unsigned char *p, size_t n, char *why, size_t whyn)
{
	size_t got = 0;

	while (got < n) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		ssize_t r;

		if (poll(&pfd, 1, PROBE_TIMEOUT_MS) != 1) {
			snprintf(why, whyn, "no answer within %d s", PROBE_TIMEOUT_MS / 1000);
			return -1;
		}
		r = read(fd, p + got, n - got);
		if (r == 0) {
			snprintf(why, whyn, "the server closed the connection %s",
			         got ? "in the middle of a record" : "without a TLS alert");
			return -1;
		}
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			if (errno == ECONNRESET)
				snprintf(why, whyn, "the server reset the connection %s",
				         got ? "in the middle of a record" : "without a TLS alert");
			else
				snprintf(why, whyn, "read: %s", strerror(errno));
			return -1;
		}
		got += (size_t)r;
	}
	return 0;
}

static void put16(unsigned char *p, size_t v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

/* A TLS 1.1 ClientHello record for domain (SNI); returns its length. */
static size_t client_hello(const char *domain, unsigned char *out)
{
	static const unsigned char suites[] = {0xc0, 0x2b, 0xc0, 0x2f, 0xc0, 0x0a,
	                                       0xc0, 0x09, 0xc0, 0x14, 0xc0, 0x13,
	                                       0x00, 0x35, 0x00, 0x2f, 0x00, 0x0a};
	static const unsigned char ext_tail[] = {
	    0x00, 0x0a, 0x00, 0x06, 0x00, 0x04, 0x00, 0x17, 0x00, 0x18, /* groups */
	    0x00, 0x0b, 0x00, 0x02, 0x01, 0x00,                         /* point formats */
	    0xff, 0x01, 0x00, 0x01, 0x00,                               /* renegotiation */
	};
	size_t dn = strlen(domain), i = 0, hs, ext;

	out[i++] = 0x16; /* handshake record, TLS 1.0 framing */
	out[i++] = 0x03;
	out[i++] = 0x01;
	i += 2; /* record length */
	hs = i;
	out[i++] = 0x01; /* ClientHello */
	i += 3;          /* handshake length */
	out[i++] = 0x03; /* highest version offered: TLS 1.1 */
	out[i++] = 0x02;
	if (getrandom(out + i, 32, 0) != 32)
		memset(out + i, 0x42, 32); /* the random needs no secrecy here */
	i += 32;
	out[i++] = 0; /* no session id */
	put16(out + i, sizeof(suites));
	i += 2;
	memcpy(out + i, suites, sizeof(suites));
	i += sizeof(suites);
	out[i++] = 1; /* compression: null only */
	out[i++] = 0;
	ext = i;
	i += 2;
	put16(out + i, 0); /* server_name */
	put16(out + i + 2, dn + 5);
	put16(out + i + 4, dn + 3);
	out[i + 6] = 0; /* host_name */
	put16(out + i + 7, dn);
	memcpy(out + i + 9, domain, dn);
	i += 9 + dn;
	memcpy(out + i, ext_tail, sizeof(ext_tail));
	i += sizeof(ext_tail);
	put16(out + ext, i - ext - 2);
	out[hs + 1] = 0;
	put16(out + hs + 2, i - hs - 4);
	put16(out + 3, i - 5);
	return i;
}

/* Longer than 60 lines: one TLS 1.1 ClientHello written and one answer read on one socket; the
 * bytes of the record are easier to check against RFC 5246 in one place. */
int health_old_tls_refused(const char *domain, int port, struct err *e)
{
	unsigned char hello[512], rec[6];
	char why[256] = "";
	size_t n;
	int fd, ret = -1;

	if (strlen(domain) > 253)
		return err_set(e, "TLS 1.1 probe: domain name too long");
	fd = connect_to("127.0.0.1", port, why, sizeof(why)); /* domain: in the SNI */
	if (fd < 0)
		return err_set(e, "TLS 1.1 probe of %s:%d could not connect: %s", domain, port,
		               why);
	n = client_hello(domain, hello);
	if (send(fd, hello, n, MSG_NOSIGNAL) != (ssize_t)n) {
		err_set(e, "TLS 1.1 probe of %s:%d: send: %s", domain, port, strerror(errno));
		goto done;
	}
	if (read_n(fd, rec, 5, why, sizeof(why)) < 0) {
		err_set(e,
		        "TLS 1.1 probe of %s:%d: %s (a server that refuses TLS 1.1 sends a "
		        "protocol_version or handshake_failure alert)",
		        domain, port, why);
		goto done;
	}
	if (rec[0] == 0x15 && rec[1] == 3 && rec[3] == 0 && rec[4] == 2) { /* alert */
		if (read_n(fd, rec, 2, why, sizeof(why)) < 0) {
			err_set(e, "TLS 1.1 probe of %s:%d: %s", domain, port, why);
			goto done;
		}
		if (rec[0] == 2 && (rec[1] == 70 || rec[1] == 40)) {
			ret = 0; /* fatal protocol_version or handshake_failure */
			goto done;
		}
		err_set(e,
		        "TLS 1.1 probe of %s:%d: the server sent TLS alert %d (level %d), not a "
		        "protocol_version or handshake_failure refusal",
		        domain, port, rec[1], rec[0]);
		goto done;
	}
	if (rec[0] == 0x16 && rec[1] == 3) { /* handshake: the ServerHello's version */
		if (read_n(fd, rec, 6, why, sizeof(why)) == 0 && rec[0] == 2) {
			if (rec[4] == 3 && rec[5] <= 2)
				err_set(e,
				        "https://%s:%d/ accepted a TLS 1.1 handshake (must be TLS "
				        "1.2+ only)",
				        domain, port);
			else
				err_set(
				    e,
				    "TLS 1.1 probe of %s:%d: the server answered a TLS 1.1 hello "
				    "with version %d.%d instead of refusing it",
				    domain, port, rec[4], rec[5]);
			goto done;
		}
	}
	err_set(e,
	        "TLS 1.1 probe of %s:%d: the answer is not a TLS alert or handshake (first "
	        "bytes %02x %02x %02x)",
	        domain, port, rec[0], rec[1], rec[2]);
done:
	close(fd);
	return ret;
}
