/*
 * pgpkey.h: the fingerprint of an OpenPGP public key, to pin Docker's apt key.
 *
 * With docker.source = docker the agent downloads Docker's signing key and
 * must not let apt trust it unless it is the key we expect.  This module
 * decodes every ASCII armor block in the file (checking each CRC-24), reads
 * every packet, and computes fingerprints as RFC 4880 12.2 defines them:
 * SHA-1 over 0x99, the two-byte body length and the body of a version 4
 * key packet (40 upper-case hex digits, as `gpg --fingerprint` prints them
 * without spaces).  The file is accepted only when it holds exactly one
 * key, the pinned one, with its own user IDs, signatures and subkeys; apt
 * is then given a keyring made of those packets alone.
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

/* 0 when the file (armored or binary) holds exactly the key whose
 * fingerprint is want (case and spaces ignored) and nothing else: a second
 * primary key anywhere in it, a subkey signed by another key, or a packet
 * that does not belong in a public key refuses it (-1, the message names
 * the fingerprints).  On success, when out is not NULL, *out (malloc'd) is
 * a binary keyring holding only that key's packets, *outlen its size. */
int pgp_pinned_keyring(const unsigned char *data, size_t len, const char *want, unsigned char **out,
                       size_t *outlen, struct err *e);

/* pgp_pinned_keyring without the keyring. */
int pgp_check_fingerprint(const unsigned char *data, size_t len, const char *want, struct err *e);

#endif
