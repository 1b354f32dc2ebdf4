/*
 * report.c - messages from libsm that are safe inside signal handlers: no
 * stdio, no malloc; pieces are joined in a stack buffer and written with one
 * write() so they do not interleave with other nodes' output.
 */
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "libsm.h"

char *sm__fmt_u64(char buf[24], uint64_t v)
{
	char *p = buf + 23;

	*p = '\0';
	do
		*--p = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	return p;
}

char *sm__fmt_hex(char buf[24], uint64_t v)
{
	char *p = buf + 23;

	*p = '\0';
	do
		*--p = "0123456789abcdef"[v % 16];
	while ((v /= 16) != 0);
	*--p = 'x';
	*--p = '0';
	return p;
}

static size_t append(char *line, size_t at, size_t cap, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n > cap - at)
		n = cap - at;
	memcpy(line + at, s ? s : "", n);
	return at + n;
}

static void vsay(const char *first, va_list ap)
{
	char line[512], num[24];
	size_t n = 0;

	n = append(line, n, sizeof(line) - 1, "dsm: node ");
	n = append(line, n, sizeof(line) - 1, sm__fmt_u64(num, sm__st.nid));
	n = append(line, n, sizeof(line) - 1, ": ");
	for (const char *s = first; s; s = va_arg(ap, const char *))
		n = append(line, n, sizeof(line) - 1, s);
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, n) < 0)
		return; /* nowhere else to say it */
}

void sm__say(const char *first, ...)
{
	va_list ap;

	va_start(ap, first);
	vsay(first, ap);
	va_end(ap);
}

void sm__die(const char *first, ...)
{
	va_list ap;

	va_start(ap, first);
	vsay(first, ap);
	va_end(ap);
	_exit(1);
}
