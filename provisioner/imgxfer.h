/*
 * imgxfer.h: `inception image export FILE` / `image import FILE`: the cached
 * image(s) one configuration uses, carried to another host in one tar file,
 * checked by digest.
 *
 * The archive (made and unpacked by the packaged tar) holds MANIFEST first,
 * then each image with its .info (its source and verified record):
 *
 *   inception-image-export 1
 *   <sha256 hex> <size> <name>          one line per file, names unique
 *
 * Import unpacks into a temporary directory inside the image cache, refuses
 * a file missing from or extra to the MANIFEST, a size or SHA-256 that
 * differs, and an image whose SHA512 is not the one its .info records; then
 * it renews each image's verified record and renames the .info, then the
 * image, into the cache (an image already there with the same content is
 * kept; one with other content stops the import before anything moves).
 */
#ifndef INCEPTION_IMGXFER_H
#define INCEPTION_IMGXFER_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "err.h"

#define IMGXFER_MAGIC "inception-image-export 1"
#define IMGXFER_MAX 16 /* files in one archive */

struct imgxfer_file {
	char name[256];
	uint64_t size;
	char sha256[65];
	char sha512[129];  /* import: an image's, as checked against its .info */
	const char *state; /* import: "imported" or "already cached"; export: "" */
};

struct imgxfer {
	struct imgxfer_file f[IMGXFER_MAX];
	size_t n;
	char sha256[65]; /* the archive's own */
	uint64_t size;
};

/* Parses MANIFEST text into x (f, n).  Errors name the line and the field:
 * "MANIFEST line N: FIELD: why". */
int imgxfer_manifest_parse(const char *text, size_t len, struct imgxfer *x, struct err *e);

/* Writes the MANIFEST text for x into buf. */
int imgxfer_manifest_format(const struct imgxfer *x, char *buf, size_t n, struct err *e);

/* The image c uses (and its golden layer when one applies and is cached)
 * into file (written as FILE.tmp, then renamed); x gets what went in. */
int imgxfer_export(const struct config *c, const char *file, struct imgxfer *x, struct err *e);

/* file into the image cache; want_sha256: the archive's digest, checked
 * first, or NULL. */
int imgxfer_import(const char *file, const char *want_sha256, struct imgxfer *x, struct err *e);

/* SHA-256 (and SHA512 when sha512 is not NULL) of a file, in one pass. */
int imgxfer_hash_file(const char *path, char sha256[65], char *sha512, uint64_t *size,
                      struct err *e);

#endif
