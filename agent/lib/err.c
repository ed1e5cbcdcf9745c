/*
 * err.c: filling in struct err (see err.h).
 */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void err_vset(struct err *e, const char *fmt, va_list ap)
{
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
}

int err_set(struct err *e, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return -1;
	va_start(ap, fmt);
	err_vset(e, fmt, ap);
	va_end(ap);
	return -1;
}

int err_setc(struct err *e, int code, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return -1;
	va_start(ap, fmt);
	err_vset(e, fmt, ap);
	va_end(ap);
	e->code = code;
	return -1;
}

int err_wrap(struct err *e, const char *fmt, ...)
{
	char buf[2 * ERR_MSG_MAX + 2];
	size_t n;
	va_list ap;

	if (e == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(buf, ERR_MSG_MAX, fmt, ap);
	va_end(ap);
	n = strlen(buf);
	buf[n++] = ':';
	buf[n++] = ' ';
	memcpy(buf + n, e->msg, sizeof(e->msg));
	buf[n + sizeof(e->msg) - 1] = '\0';
	memcpy(e->msg, buf, sizeof(e->msg));
	e->msg[sizeof(e->msg) - 1] = '\0';
	return -1;
}

void err_clear(struct err *e)
{
	if (e != NULL) {
		e->msg[0] = '\0';
		e->code = 0;
	}
}
