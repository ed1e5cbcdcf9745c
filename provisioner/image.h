/*
 * image.h: the base disk image every VM boots from, kept in a local cache.
 *
 * Cache: $XDG_CACHE_HOME/inception/images (override: $INCEPTION_IMAGE_CACHE).
 *   sha512-<digest>.qcow2       a downloaded image, named by its verified SHA512
 *   build-<suite>-<key>.qcow2   an image built from the apt mirror, named by a
 *                               digest of its inputs (suite, mirror, packages,
 *                               the build script's content)
 *   golden-<suite>-<key>.qcow2  the golden layer: the same build plus Docker
 *                               Engine, CLI, buildx and compose v2 from the
 *                               mirror (the key adds the variant and
 *                               docker.source); every VM's overlay is backed
 *                               by it, unless up --clean
 *   <image>.info                where it came from (key=value lines)
 *   *.part, logs/               partial downloads, build logs
 *
 * url mode: the SHA512SUMS file names the digest; the image is downloaded with
 * libcurl into a .part file (resumed with HTTP Range after a cut), hashed with
 * OpenSSL EVP and renamed only when the digest matches.  A cached image for
 * the same url is used without touching the network, after a look at its
 * verified record (sha512, size, mtime in its .info): when size or mtime
 * changed it is hashed again, and deleted and fetched again if its content
 * changed.  Redirects from an https url stay https; a plain-http url warns.
 * The part file never grows past the size the server announces, and the
 * cache's filesystem must have room for it.  When the checksums file has a
 * detached signature next to it (URL.sign, as Debian publishes), gpgv checks
 * it against the pinned Debian CD signing keys; without one, a warning says
 * so.  CURL_CA_BUNDLE names extra CA certificates (as for the curl tool).
 * build mode: provisioner/image-build.sh (mmdebstrap, mkfs.ext4 -d, sfdisk,
 * GRUB; no loop mounts) makes a bootable Debian qcow2.
 */
#ifndef INCEPTION_IMAGE_H
#define INCEPTION_IMAGE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "config.h"
#include "err.h"

#define IMAGE_SHA512_HEX 128

/* The image for c: cached, downloaded or built.  path gets the absolute path
 * of a verified qcow2.  In url mode, when the url cannot be reached and
 * nothing is cached, says so in one line and builds a trixie image instead,
 * unless no_build_fallback. */
int image_ensure(const struct config *c, int no_build_fallback, char *path, size_t n,
                 struct err *e);

/* url mode: asks the checksums file for the current digest (network), uses
 * the cached image with that digest or downloads and verifies it. */
int image_fetch(const struct config *c, char *path, size_t n, struct err *e);

/* build mode: the cached build for these inputs, or builds it now
 * (suite = c->image_build, default "trixie"). */
int image_build(const struct config *c, char *path, size_t n, struct err *e);

/* The golden layer for c (Debian + Docker, built natively on the host with
 * mmdebstrap), cached or built now.  Fails when none applies (see
 * image_golden_why). */
int image_golden(const struct config *c, char *path, size_t n, struct err *e);

/* 1 when c gets a golden layer (image built from the mirror, docker.source
 * debian), else 0 with the reason in why. */
int image_golden_why(const struct config *c, char *why, size_t n);

/* The cached image c uses (golden: its golden layer), without building or
 * network: 1 with its path (verified against its record), 0 when it is not
 * cached or no golden layer applies, -1 on error.  In url mode with no
 * download cached, the build image_ensure would fall back to. */
int image_cached(const struct config *c, int golden, char *path, size_t n, struct err *e);

/* Writes image's verified record (sha512, size, mtime) into its .info. */
int image_record(const char *image, const char *sha512_hex, struct err *e);

/* The cache directory (created 0755 if missing). */
int image_cache_dir(char *buf, size_t n, struct err *e);

struct image_entry {
	char name[256];    /* file name in the cache */
	char kind[8];      /* "url", "build", "golden" or "part" */
	char source[1024]; /* url, or "suite @ mirror" (+ what the golden layer adds) */
	char sha512[IMAGE_SHA512_HEX + 1]; /* its recorded digest, or "" */
	uint64_t size;                     /* bytes on disk */
	time_t mtime;
};

/* Lists the cache (images and partial downloads).  *out is malloc'ed. */
int image_list(struct image_entry **out, size_t *count, struct err *e);

/* Removes partial downloads, stale build directories and logs, and every
 * image that c would not use (all: every image too). */
int image_prune(const struct config *c, int all, size_t *removed, uint64_t *freed, struct err *e);

/* --- exposed for tests --- */

/* Finds the SHA512 for file name `name` in a checksums file's text (GNU
 * "HEX  NAME" / "HEX *NAME" or BSD "SHA512 (NAME) = HEX" lines; comments,
 * blank and malformed lines are skipped).  hex gets 128 lowercase digits.
 * Fails if the name is missing or listed twice with different digests. */
int image_sums_find(const char *text, size_t len, const char *name, char hex[IMAGE_SHA512_HEX + 1],
                    struct err *e);

/* The 16-hex-digit key of a build: SHA-256 over suite, mirror and the build
 * script's text, plus variant when not NULL (the golden layer). */
int image_layer_key(const char *suite, const char *mirror, const char *script, size_t script_len,
                    const char *variant, char hex[17], struct err *e);

/* SHA512 of a file, 128 lowercase hex digits. */
int image_sha512_file(const char *path, char hex[IMAGE_SHA512_HEX + 1], struct err *e);

/* The file name a url points at (last path segment, no query). */
int image_url_basename(const char *url, char *buf, size_t n, struct err *e);

/* The protocols a redirect may lead to from url (libcurl's list): "https",
 * or "http,https" when url itself is plain http. */
const char *image_redirect_protocols(const char *url);

/* Fails with "not enough space in DIR: N needed, M free" when need > avail. */
int image_space_check(const char *dir, uint64_t need, uint64_t avail, struct err *e);

/* The bytes an unprivileged writer may still use in dir's filesystem. */
int image_space_free(const char *dir, uint64_t *avail, struct err *e);

#endif
