/*
 * health.h: is the stack answering, the way a browser would see it?
 *
 * A libcurl GET of https://DOMAIN:PORT/ sent to 127.0.0.1 (CURLOPT_RESOLVE:
 * SNI and Host are DOMAIN), the server certificate verified against the
 * project's own certificate (cafile), or, when none could be found (cafile
 * NULL), the handshake only; TLS 1.2 as the minimum.  Then a TLS 1.1 ClientHello must be
 * refused by the server with what a TLS server sends when it will not
 * speak that version: a fatal protocol_version (or handshake_failure)
 * alert.  A server that closes the connection, answers in plain text or
 * fails with another alert is broken, not refusing TLS 1.1.
 */
#ifndef INCEPTION_AGENT_HEALTH_H
#define INCEPTION_AGENT_HEALTH_H

#include "err.h"

struct health_result {
	long http_code;
	char tls_version[16]; /* "TLSv1.3" ... */
};

/* One GET; 0 when the status is 200..399.  cafile NULL: not verified. */
int health_get(const char *domain, int port, const char *cafile, struct health_result *r,
               struct err *e);

/* 0 when the server answers a TLS 1.1 ClientHello with a fatal
 * protocol_version or handshake_failure alert; -1 with a message when it
 * accepts it or answers anything else (the message says what). */
int health_old_tls_refused(const char *domain, int port, struct err *e);

#endif
