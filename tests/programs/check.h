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

#include "sm.h"

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

/* Join the job (sm_node_init), or fail saying why. */
static void join(int *argc, char ***argv) __attribute__((unused));
static void join(int *argc, char ***argv)
{
	if (sm_node_init(argc, argv, &nodes, &nid) != 0)
		fail("sm_node_init failed");
	if (nodes < 1 || nid < 0 || nid >= nodes)
		fail("sm_node_init gave nid %d of %d nodes", nid, nodes);
}

/* argv[1] as a number from lo to hi, def when absent; "usage: USAGE" otherwise. */
static long number_arg(int argc, char **argv, long def, long lo, long hi, const char *usage)
	__attribute__((unused));
static long number_arg(int argc, char **argv, long def, long lo, long hi, const char *usage)
{
	char *end;
	long v;

	if (argc <= 1)
		return def;
	v = strtol(argv[1], &end, 10);
	if (*argv[1] == '\0' || *end != '\0' || v < lo || v > hi)
		fail("usage: %s (got '%s')", usage, argv[1]);
	return v;
}

#endif /* DSM_TEST_CHECK_H */
