/*
 * check.h - what every test program shares: the node's id and the node
 * count, and fail(), which reports "node K: ..." on stderr in one write()
 * (so messages of several nodes never interleave) and exits 1; joining, the
 * argument, checked allocation and broadcast, page alignment, the pid file
 * a test script waits for, and a sleep that signals do not cut short.
 */
#ifndef DSM_TEST_CHECK_H
#define DSM_TEST_CHECK_H

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
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

/* The machine's page size. */
static size_t page_size(void) __attribute__((unused));
static size_t page_size(void)
{
	long ps = sysconf(_SC_PAGESIZE);

	if (ps <= 0)
		fail("sysconf(_SC_PAGESIZE) failed");
	return (size_t)ps;
}

/* p rounded up to a page boundary: the first whole page of an allocation. */
static void *page_align(const void *p) __attribute__((unused));
static void *page_align(const void *p)
{
	uintptr_t ps = page_size();

	return (void *)(((uintptr_t)p + ps - 1) & ~(ps - 1));
}

/* sm_malloc(size), or fail: NULL, or not 16-byte aligned as sm.h promises. */
static void *shared_alloc(size_t size) __attribute__((unused));
static void *shared_alloc(size_t size)
{
	void *p = sm_malloc(size);

	if (p == NULL)
		fail("sm_malloc(%zu) returned NULL", size);
	if ((uintptr_t)p % 16 != 0)
		fail("sm_malloc(%zu) = %p is not 16-byte aligned", size, p);
	return p;
}

/* sm_bcast(addr, root), or fail if the pointer it leaves is NULL. */
static void bcast_pointer(void *addr, int root) __attribute__((unused));
static void bcast_pointer(void *addr, int root)
{
	sm_bcast(addr, root);
	if (*(void **)addr == NULL)
		fail("sm_bcast gave NULL");
}

/* The usual start: node 0 allocates size bytes, every node gets the pointer. */
static void *shared_from_node0(size_t size) __attribute__((unused));
static void *shared_from_node0(size_t size)
{
	void *p = NULL;

	if (nid == 0)
		p = shared_alloc(size);
	bcast_pointer(&p, 0);
	return p;
}

/* Node 0 allocates n whole pages (page-aligned, as every allocation of
 * pages is), every node gets the pointer. */
static void *shared_pages_from_node0(size_t n) __attribute__((unused));
static void *shared_pages_from_node0(size_t n)
{
	size_t ps = page_size();
	void *p = NULL;

	if (nid == 0) {
		p = shared_alloc(n * ps);
		if ((uintptr_t)p % ps)
			fail("sm_malloc of %zu pages is not page-aligned: %p", n, p);
	}
	bcast_pointer(&p, 0);
	return p;
}

/* Write pid into DIR/node.K through a temporary name and rename(), so a
 * reader never sees a partial file; fail() on any error. */
static void write_pid_file(const char *dir) __attribute__((unused));
static void write_pid_file(const char *dir)
{
	char tmp[4096], final[4096];
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%s/.node.%d.tmp", dir, nid) >= (int)sizeof(tmp) ||
	    snprintf(final, sizeof(final), "%s/node.%d", dir, nid) >= (int)sizeof(final))
		fail("%s: name too long", dir);
	f = fopen(tmp, "w");
	if (!f || fprintf(f, "%ld\n", (long)getpid()) < 0 || fclose(f) != 0)
		fail("writing %s", tmp);
	if (rename(tmp, final) < 0)
		fail("renaming %s", tmp);
}

/* Sleep the whole of seconds: traffic from dsm (SIGIO) interrupts
 * nanosleep, so sleep what is left; fail() on any other error. */
static void sleep_seconds(time_t seconds) __attribute__((unused));
static void sleep_seconds(time_t seconds)
{
	struct timespec t = {.tv_sec = seconds};

	while (nanosleep(&t, &t) < 0)
		if (errno != EINTR)
			fail("nanosleep");
}

#endif /* DSM_TEST_CHECK_H */
