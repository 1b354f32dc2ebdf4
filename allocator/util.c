/*
 * util.c - error reporting, the clock and robust mutexes (see util.h).
 */
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

char dsm_msg_prefix[48] = "dsm";
void (*report_hook)(const char *line, size_t len);

static void vreport(int code, const char *fmt, va_list ap)
{
	char line[1024];
	int n = snprintf(line, sizeof(line), "%s: ", dsm_msg_prefix);

	if (n < 0)
		return;
	n += vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	if (code && (size_t)n < sizeof(line))
		n += snprintf(line + n, sizeof(line) - (size_t)n, ": %s", strerror(code));
	if ((size_t)n >= sizeof(line) - 1)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	if (report_hook)
		report_hook(line, (size_t)n);
	else if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return; /* nowhere left to report to */
}

void report(const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	vreport(0, fmt, ap);
	va_end(ap);
	errno = saved;
}

void report_errno(const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	vreport(saved, fmt, ap);
	va_end(ap);
	errno = saved;
}

void report_code(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(code, fmt, ap);
	va_end(ap);
}

void die(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(0, fmt, ap);
	va_end(ap);
	exit(status);
}

void die_errno(const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	vreport(saved, fmt, ap);
	va_end(ap);
	exit(1);
}

void die_errno_code(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(code, fmt, ap);
	va_end(ap);
	exit(1);
}

uint64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int robust_mutex_init(pthread_mutex_t *m)
{
	pthread_mutexattr_t a;
	int rc = pthread_mutexattr_init(&a);

	if (rc == 0)
		rc = pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	if (rc == 0)
		rc = pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	if (rc == 0)
		rc = pthread_mutex_init(m, &a);
	pthread_mutexattr_destroy(&a);
	return rc;
}

void robust_mutex_lock(pthread_mutex_t *m)
{
	int rc = pthread_mutex_lock(m);

	if (rc == EOWNERDEAD)
		pthread_mutex_consistent(m);
	else if (rc != 0)
		die_errno_code(rc, "pthread_mutex_lock");
}
