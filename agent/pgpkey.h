/*
 * pgpkey.h: the fingerprint of an OpenPGP public key, to pin Docker's apt key.
 *
 * With docker.source = docker the agent downloads Docker's signing key and
 * must not let apt trust it unless it is the key we expect.  This module
 * decodes the ASCII armor (checking its CRC-24), reads the first packet,
 * which must be a version 4 public-key packet, and computes its fingerprint
 * as RFC 4880 12.2 defines it: SHA-1 over 0x99, the two-byte body length
 * and the body.  The result is 40 upper-case hex digits, as `gpg
 * --fingerprint` prints them without spaces.
 */
#ifndef INCEPTION_AGENT_PGPKEY_H
#define INCEPTION_AGENT_PGPKEY_H

#include <stddef.h>

#include "err.h"

/* Docker's release key (https://download.docker.com/linux/debian/gpg). */
#define DOCKER_KEY_FINGERPRINT "9DC858229FC7DD38854AE2D88D81803C0EBFCD88"

/* Fingerprint of the primary key in an armored or binary key. fpr gets 41
 * bytes (40 hex + NUL). */
int pgp_fingerprint(const unsigned char *data, size_t len, char fpr[41], struct err *e);

/* 0 when the key's fingerprint equals want (case and spaces ignored), else
 * -1 with both fingerprints in the message. */
int pgp_check_fingerprint(const unsigned char *data, size_t len, const char *want,
			  struct err *e);

#endif
