/*
 * names.h: the names both programs must agree on.
 */
#ifndef INCEPTION_NAMES_H
#define INCEPTION_NAMES_H

/* The image every Dockerfile of the bundled stack builds FROM: streamed
 * from the host's Docker, or built in the guest from the Debian mirror. */
#define BASE_IMAGE "debian:bookworm"

/* The stack's domain is LOGIN DOMAIN_SUFFIX (DOMAIN_NAME in its .env). */
#define DOMAIN_SUFFIX ".42.fr"

#endif
