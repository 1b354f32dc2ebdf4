/*
 * exit_race.c - nodes leave while other nodes take pages they hold read
 * copies of: every write fault must still be answered.
 *
 * Node 0 fills a 1024-page array; the odd nodes (the leavers) read all of
 * it, so each holds a read copy of every page. After a barrier the leavers
 * leave at once (nodes 1, 5, 9, 13 with sm_node_exit, nodes 3, 7, 11, 15 by
 * returning from main) while the even nodes (the writers) each rewrite one
 * word of every page of their share, front to back: write faults that
 * invalidate the leavers' copies, racing their departures. A writer gives up
 * after 30 s with "a write fault was not answered" (a hang); otherwise,
 * after a barrier that waits for everyone to have left, every writer checks
 * every page.
 *
 * The race it is after (see tests/integration.sh, which runs it with short
 * runs, dsm -P 4, where it is most likely): the engine finds a reader live
 * and queues its INVALIDATE; the reader's EXIT is handled before the queued
 * run is sent; the send is dropped, but the page still waits for the
 * answer, for ever. It does not happen on every run.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "sm.h"
#include "check.h"

#define PAGES 1024
#define GIVE_UP_S 30

static size_t ps, pw;

static uint64_t val(unsigned ver, size_t page, size_t word)
{
	return 0xe100000000000000ull | ((uint64_t)ver << 40) | ((uint64_t)page << 16) | word;
}

static void on_alarm(int sig)
{
	static const char msg[] = ": a write fault was not answered within 30 s while other nodes "
				  "left (hang)\n";
	char line[128] = "node ";
	size_t n = 5;

	(void)sig;
	if (nid >= 10)
		line[n++] = (char)('0' + nid / 10);
	line[n++] = (char)('0' + nid % 10);
	memcpy(line + n, msg, sizeof(msg) - 1);
	n += sizeof(msg) - 1;
	if (write(STDERR_FILENO, line, n) < 0)
		_exit(1);
	_exit(1);
}

int main(int argc, char *argv[])
{
	uint64_t *a = NULL;
	size_t writers, w = 0;

	join(&argc, &argv);
	ps = page_size();
	pw = ps / sizeof(uint64_t);
	writers = (size_t)(nodes + 1) / 2;
	if (argc != 1)
		fail("usage: exit_race");
	if (nid == 0) {
		a = shared_alloc(PAGES * ps);
		for (size_t p = 0; p < PAGES; p++)
			for (size_t i = 0; i < pw; i++)
				a[p * pw + i] = val(0, p, i);
	}
	bcast_pointer(&a, 0);
	if (nid % 2)
		for (size_t p = 0; p < PAGES; p++)
			for (size_t i = 0; i < pw; i++)
				if (a[p * pw + i] != val(0, p, i))
					fail("page %zu word %zu = 0x%016llx before the race", p, i,
					     (unsigned long long)a[p * pw + i]);
	sm_barrier();
	if (nid % 2) {
		if (nid % 4 == 1)
			sm_node_exit();
		return 0; /* nodes 3, 7, ...: the exit hook leaves */
	}
	{
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_alarm;
		sigemptyset(&sa.sa_mask);
		if (sigaction(SIGALRM, &sa, NULL) < 0)
			fail("sigaction(SIGALRM)");
	}
	alarm(GIVE_UP_S);
	w = (size_t)nid / 2;
	for (size_t p = w * PAGES / writers; p < (w + 1) * PAGES / writers; p++)
		a[p * pw + 1] = val(1, p, 1);
	alarm(0);
	sm_barrier(); /* every leaver has left */
	for (size_t p = 0; p < PAGES; p++)
		for (size_t i = 0; i < pw; i++) {
			uint64_t want = i == 1 ? val(1, p, 1) : val(0, p, i);

			if (a[p * pw + i] != want)
				fail("page %zu word %zu = 0x%016llx, expected 0x%016llx", p, i,
				     (unsigned long long)a[p * pw + i], (unsigned long long)want);
		}
	sm_node_exit();
	return 0;
}
