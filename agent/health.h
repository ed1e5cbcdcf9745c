/*
 * health.h: is the stack answering, the way a browser would see it?
 *
 * A libcurl GET of https://DOMAIN:PORT/ with the name resolved the normal
 * way (so through /etc/hosts, which the hosts step wrote), the server
 * certificate verified against the stack's own certificate (cafile; never
 * "insecure"), TLS 1.2 as the minimum.  Then a second handshake limited to
 * TLS 1.0-1.1 (with OpenSSL's security level lowered so the client really
 * offers them) must be refused by the server.
 */
#ifndef INCEPTION_AGENT_HEALTH_H
#define INCEPTION_AGENT_HEALTH_H

#include "err.h"

struct health_result {
	long http_code;
	char tls_version[16]; /* "TLSv1.3" ... */
};

/* One GET; 0 when the status is 200..399. */
int health_get(const char *domain, int port, const char *cafile, struct health_result *r,
	       struct err *e);

/* 0 when a TLS <= 1.1 handshake is refused, -1 (with a message) if the
 * server accepts it. */
int health_old_tls_refused(const char *domain, int port, const char *cafile, struct err *e);

#endif
