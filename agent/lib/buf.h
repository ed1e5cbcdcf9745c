/*
 * buf.h: the one growable byte buffer (in the manner of git's strbuf and
 * curl's dynbuf), used wherever data of unknown length is collected.
 *
 * Invariants: p is NULL until the first append, then always
 * NUL-terminated (p[len] == '\0', not counted in len); len never exceeds
 * max, the hard cap given to buf_init: an append that would pass it, or
 * that finds no memory, fails and leaves the buffer as it was (the caller
 * decides whether that is an error), so no caller writes its own realloc
 * loop, cap check or terminator.
 */
#ifndef INCEPTION_BUF_H
#define INCEPTION_BUF_H

#include <stddef.h>

#include "err.h"

struct buf {
	char *p;    /* the bytes, NUL-terminated once anything was added */
	size_t len; /* bytes held */
	size_t cap; /* bytes allocated (len + 1 <= cap once allocated) */
	size_t max; /* hard cap on len */
};

/* An empty buffer that may hold up to max bytes. */
void buf_init(struct buf *b, size_t max);

/* Appends n bytes: 0, or -1 (e: "WHAT: larger than MAX bytes" or out of
 * memory; what names the data for the message, may be NULL). */
int buf_add(struct buf *b, const void *data, size_t n, const char *what, struct err *e);

/* Reads fd until end of file (EINTR retried): 0, or -1 on a read error or
 * over the cap. */
int buf_read_fd(struct buf *b, int fd, const char *what, struct err *e);

/* Drops the first n bytes (n <= len). */
void buf_consume(struct buf *b, size_t n);

/* Hands the bytes over (caller frees; "" allocated if nothing was added,
 * NULL only when out of memory) and leaves the buffer empty. */
char *buf_detach(struct buf *b, size_t *len);

void buf_free(struct buf *b);

#endif
