/*
 * digest.h: SHA-256 as lowercase hex, of a file or of bytes in memory
 * (OpenSSL's EVP).  Used by the push manifest, the lab's inputs and the
 * image transfer.
 */
#ifndef INCEPTION_DIGEST_H
#define INCEPTION_DIGEST_H

#include <stddef.h>

#include "err.h"

#define SHA256_HEX_LEN 64

/* The SHA-256 of the file at path (read in 64 KiB blocks) into hex (65
 * bytes, terminated).  -1 with "read PATH: reason" when it cannot be read. */
int sha256_file(const char *path, char hex[SHA256_HEX_LEN + 1], struct err *e);

/* The SHA-256 of n bytes at p into hex (65 bytes, terminated). */
void sha256_mem(const void *p, size_t n, char hex[SHA256_HEX_LEN + 1]);

#endif
