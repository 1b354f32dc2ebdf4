/*
 * check.h - what every test program shares: the node's id and the node
 * count, and fail(), which reports "node K: ..." on stderr in one write()
 * (so messages of several nodes never interleave) and exits 1.
 */
#ifndef DSM_TEST_CHECK_H
#define DSM_TEST_CHECK_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int nid = -1;
static int nodes;

static void fail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2), unused));
static void fail(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	int len;

	if (nid >= 0)
		len = snprintf(msg, sizeof(msg), "node %d: ", nid);
	else
		len = snprintf(msg, sizeof(msg), "node ?: ");
	va_start(ap, fmt);
	len += vsnprintf(msg + len, sizeof(msg) - (size_t)len - 1, fmt, ap);
	va_end(ap);
	if (len > (int)sizeof(msg) - 2)
		len = (int)sizeof(msg) - 2;
	msg[len++] = '\n';
	if (write(STDERR_FILENO, msg, (size_t)len) < 0)
		_exit(1);
	exit(1);
}

#endif /* DSM_TEST_CHECK_H */
