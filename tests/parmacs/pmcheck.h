/*
 * pmcheck.h - what the PARMACS test programs share (a plain C header: the C
 * preprocessor includes it after m4 has run, so it uses no PARMACS macro):
 * fail(), which reports "PROGRAM: node K: ..." on stderr in one write() and
 * exits 1, and a number from the command line.
 */
#ifndef DSM_PARMACS_CHECK_H
#define DSM_PARMACS_CHECK_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <sm_parmacs.h>

static const char *program_name = "parmacs";

static void fail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2), unused));
static void fail(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	int len;

	len = snprintf(msg, sizeof(msg), "%s: node %d: ", program_name, sm_parmacs_node_id());
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

/* s as a whole number from lo to hi, or fail naming what it is. */
static long number(const char *s, long lo, long hi, const char *what) __attribute__((unused));
static long number(const char *s, long lo, long hi, const char *what)
{
	char *end;
	long v;

	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v < lo || v > hi)
		fail("%s must be a number from %ld to %ld, not '%s'", what, lo, hi, s);
	return v;
}

#endif /* DSM_PARMACS_CHECK_H */
