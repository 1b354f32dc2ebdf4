/*
 * syscalls.c - what sm(3) says about system calls on shared memory and about
 * sleeping in a node, and that its remedies work.
 *
 * usage: dsm -n N ./syscalls efault       (N >= 2)
 *        dsm -S -n N ./syscalls sleep     (-S: dsm pings every node each second)
 *
 * efault  Node 0 allocates two pages, fills the first with a pattern and
 *         broadcasts them; node 1 holds neither. Node 1's write(2) from the
 *         first page and read(2) into the second must fail with EFAULT;
 *         after touching the buffer as sm(3) says (read one byte per page
 *         before a write(2), write one byte per page before a read(2)) both
 *         must succeed, and every node must then read the pattern in the
 *         second page.
 * sleep   Traffic from dsm (a ping) interrupts a node's nanosleep(2): a
 *         3-second sleep must return early with EINTR, and sleeping until
 *         a deadline with clock_nanosleep(TIMER_ABSTIME) in a loop, as
 *         sm(3) says, must sleep the whole 3 seconds.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "check.h"

#define PAGE 4096

static unsigned char pattern(size_t i)
{
	return (unsigned char)(i * 7 + 3);
}

/* sm(3): before a read(2) into shared memory, write one byte of each page */
static void touch_for_writing(void *buf, size_t len)
{
	volatile unsigned char *p = buf;

	for (size_t off = 0; off < len; off += PAGE)
		p[off] = p[off];
	if (len)
		p[len - 1] = p[len - 1];
}

/* sm(3): before a write(2) from shared memory, read one byte of each page */
static void touch_for_reading(const void *buf, size_t len)
{
	const volatile unsigned char *p = buf;
	unsigned char sum = 0;

	for (size_t off = 0; off < len; off += PAGE)
		sum ^= p[off];
	if (len)
		sum ^= p[len - 1];
	(void)sum;
}

static void efault(void)
{
	unsigned char *a, *b, priv[PAGE];
	int fds[2];
	ssize_t n;

	if (nodes < 2)
		fail("syscalls efault needs at least 2 nodes");
	a = page_align(shared_from_node0(3 * PAGE));
	b = a + PAGE;
	if (nid == 0)
		for (size_t i = 0; i < PAGE; i++)
			a[i] = pattern(i);
	sm_barrier();
	if (nid == 1) {
		if (pipe(fds) < 0)
			fail("pipe: %s", strerror(errno));
		n = write(fds[1], a, PAGE);
		if (n != -1 || errno != EFAULT)
			fail("write(2) from an unheld shared page: %zd (%s), expected EFAULT", n,
			     n < 0 ? strerror(errno) : "no error");
		touch_for_reading(a, PAGE);
		n = write(fds[1], a, PAGE);
		if (n != PAGE)
			fail("write(2) from a touched shared page: %zd (%s)", n, strerror(errno));
		if (read(fds[0], priv, PAGE) != PAGE)
			fail("read(2) from the pipe: %s", strerror(errno));
		for (size_t i = 0; i < PAGE; i++)
			if (priv[i] != pattern(i))
				fail("byte %zu through the pipe: %u, expected %u", i, priv[i],
				     pattern(i));
		/* the same bytes back, into the second page */
		if (write(fds[1], priv, PAGE) != PAGE)
			fail("write(2) into the pipe: %s", strerror(errno));
		n = read(fds[0], b, PAGE);
		if (n != -1 || errno != EFAULT)
			fail("read(2) into an unheld shared page: %zd (%s), expected EFAULT", n,
			     n < 0 ? strerror(errno) : "no error");
		touch_for_writing(b, PAGE);
		n = read(fds[0], b, PAGE);
		if (n != PAGE)
			fail("read(2) into a touched shared page: %zd (%s)", n, strerror(errno));
	}
	sm_barrier();
	for (size_t i = 0; i < PAGE; i++)
		if (b[i] != pattern(i))
			fail("byte %zu of the page node 1 read into: %u, expected %u", i, b[i],
			     pattern(i));
}

static double now(void)
{
	struct timespec t;

	if (clock_gettime(CLOCK_MONOTONIC, &t) < 0)
		fail("clock_gettime: %s", strerror(errno));
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void sleep_test(void)
{
	struct timespec want = {.tv_sec = 3}, rem, deadline;
	double t0 = now();
	int r, interrupted = 0;

	r = nanosleep(&want, &rem);
	if (r != -1 || errno != EINTR)
		fail("nanosleep(3 s) was not interrupted (%d, after %.2f s): run with dsm -S", r,
		     now() - t0);
	/* sm(3): sleep until a deadline, again after every interruption */
	if (clock_gettime(CLOCK_MONOTONIC, &deadline) < 0)
		fail("clock_gettime: %s", strerror(errno));
	t0 = now();
	deadline.tv_sec += 3;
	while ((r = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, NULL)) == EINTR)
		interrupted++;
	if (r != 0)
		fail("clock_nanosleep: %s", strerror(r));
	if (now() - t0 < 3.0 - 1e-3)
		fail("the sleep until a deadline ended after %.3f s, not 3", now() - t0);
	if (interrupted == 0)
		fail("no ping interrupted 3 s of sleep: run with dsm -S");
	sm_barrier();
}

int main(int argc, char *argv[])
{
	join(&argc, &argv);
	if (argc == 2 && strcmp(argv[1], "efault") == 0)
		efault();
	else if (argc == 2 && strcmp(argv[1], "sleep") == 0)
		sleep_test();
	else
		fail("usage: syscalls efault|sleep");
	printf("syscalls: node %d %s ok\n", nid, argv[1]);
	return 0;
}
