/*
 * buf.c: the growable byte buffer (see buf.h).  Capacity doubles from 256
 * bytes; the cap is checked before any allocation.
 */
#include "buf.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void buf_init(struct buf *b, size_t max)
{
	b->p = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

/* Room for len + n bytes and the terminator. */
static int grow(struct buf *b, size_t n)
{
	size_t want = b->len + n + 1, cap = b->cap ? b->cap : 256;
	char *np;

	if (want <= b->cap)
		return 0;
	while (cap < want)
		cap = cap > SIZE_MAX / 2 ? want : cap * 2;
	np = realloc(b->p, cap);
	if (np == NULL)
		return -1;
	b->p = np;
	b->cap = cap;
	return 0;
}

int buf_add(struct buf *b, const void *data, size_t n, const char *what, struct err *e)
{
	if (n > b->max || b->len > b->max - n)
		return err_set(e, "%s: larger than %zu bytes", what ? what : "data", b->max);
	if (grow(b, n) < 0)
		return err_set(e, "%s: out of memory", what ? what : "data");
	if (n)
		memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

int buf_read_fd(struct buf *b, int fd, const char *what, struct err *e)
{
	char chunk[16384];

	for (;;) {
		ssize_t r = read(fd, chunk, sizeof(chunk));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return err_set(e, "read %s: %s", what ? what : "data", strerror(errno));
		if (r == 0)
			return buf_add(b, "", 0, what, e); /* terminated even when empty */
		if (buf_add(b, chunk, (size_t)r, what, e) < 0)
			return -1;
	}
}

void buf_consume(struct buf *b, size_t n)
{
	if (n > b->len)
		n = b->len;
	if (b->p == NULL || n == 0)
		return;
	memmove(b->p, b->p + n, b->len - n);
	b->len -= n;
	b->p[b->len] = '\0';
}

char *buf_detach(struct buf *b, size_t *len)
{
	char *p = b->p;

	if (len)
		*len = b->len;
	if (p == NULL)
		p = calloc(1, 1);
	buf_init(b, b->max);
	return p;
}

void buf_free(struct buf *b)
{
	free(b->p);
	buf_init(b, b->max);
}
