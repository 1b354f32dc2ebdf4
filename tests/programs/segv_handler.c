/*
 * segv_handler.c - a program's own SIGSEGV handler keeps working under libsm.
 *
 * usage: segv_handler [before | dfl | ign]
 *
 * Every node installs a SA_SIGINFO handler for SIGSEGV: after sm_node_init,
 * or with "before" before it. sigaction() must report the disposition the
 * program had before sm_node_init, as if libsm's handler were not there.
 * Then, while the nodes fill two shared pages word by word (word i belongs
 * to node i % N, a new value each round):
 *  - a read of an address this node just unmapped runs the handler once,
 *    with that si_addr and SEGV_MAPERR, and it siglongjmps back;
 *  - raise(SIGSEGV) runs it with si_code SI_TKILL, and it returns;
 *  - a plain handler installed with signal() (which must return the
 *    SA_SIGINFO one) runs for the next wild read;
 *  - after each round and a barrier every node checks every word exactly,
 *    and the handlers never ran for the faults on shared pages.
 * With "dfl" or "ign", node N-1 (node 0 when N = 1) then sets SIGSEGV to
 * SIG_DFL or SIG_IGN and reads the unmapped address again: it must die of
 * SIGSEGV (a genuine fault kills even when ignored), while the other nodes
 * wait in a barrier that must never complete.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "sm.h"
#include "check.h"

static sigjmp_buf back;
static volatile sig_atomic_t info_hits, plain_hits;
static void *volatile seen_addr;
static volatile int seen_code;

static void on_segv_info(int sig, siginfo_t *si, void *ctx)
{
	(void)ctx;
	if (sig != SIGSEGV)
		_exit(3);
	info_hits++;
	seen_addr = si->si_addr;
	seen_code = si->si_code;
	if (si->si_code > 0)
		siglongjmp(back, 1); /* a real fault: do not run the access again */
}

static void on_segv_plain(int sig)
{
	if (sig != SIGSEGV)
		_exit(3);
	plain_hits++;
	siglongjmp(back, 2);
}

/* An address nothing is mapped at: a page of our own, unmapped again. */
static volatile int *unmapped(void)
{
	size_t ps = page_size();
	void *p = mmap(NULL, ps, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		fail("mmap: %s", strerror(errno));
	if (munmap(p, ps) != 0)
		fail("munmap: %s", strerror(errno));
	return (volatile int *)((char *)p + 8);
}

/* Read *p; which handler jumped back (1 or 2), or 0 if the read worked. */
static int wild_read(volatile int *p)
{
	int jumped = sigsetjmp(back, 1);

	if (jumped == 0) {
		int v = *p;

		(void)v;
	}
	return jumped;
}

static void same_action(const struct sigaction *a, const struct sigaction *b, const char *what)
{
	if (a->sa_handler != b->sa_handler || (a->sa_flags & SA_SIGINFO) != (b->sa_flags & SA_SIGINFO))
		fail("%s: sigaction reports handler %p, flags 0x%x; expected %p, flags 0x%x", what,
		     (void *)a->sa_handler, (unsigned)a->sa_flags, (void *)b->sa_handler,
		     (unsigned)b->sa_flags);
}

static uint32_t val(size_t i, int round)
{
	return (uint32_t)(i * 2654435761u) ^ (uint32_t)(round << 24) ^ 0x5e9f0000u;
}

/* One round: write this node's words, fault outside, then check everything. */
static void round_of(volatile uint32_t *w, size_t words, int round, int expect_handler)
{
	volatile int *wild = unmapped();
	int info_before = info_hits, plain_before = plain_hits;

	for (size_t i = (size_t)nid; i < words; i += (size_t)nodes)
		w[i] = val(i, round);
	int jumped = wild_read(wild);

	if (jumped != expect_handler)
		fail("round %d: reading %p came back through handler %d, expected %d", round,
		     (void *)wild, jumped, expect_handler);
	if (expect_handler == 1 && (seen_addr != (void *)wild || seen_code != SEGV_MAPERR))
		fail("round %d: handler saw si_addr %p, si_code %d; expected %p, SEGV_MAPERR",
		     round, seen_addr, seen_code, (void *)wild);
	sm_barrier();
	for (size_t i = 0; i < words; i++)
		if (w[i] != val(i, round))
			fail("round %d: word %zu (node %zu's) = 0x%08x, expected 0x%08x", round, i,
			     i % (size_t)nodes, w[i], val(i, round));
	if (info_hits - info_before != (expect_handler == 1) ||
	    plain_hits - plain_before != (expect_handler == 2))
		fail("round %d: handlers ran %d and %d times, expected once for the wild read only",
		     round, info_hits - info_before, plain_hits - plain_before);
	sm_barrier();
}

int main(int argc, char *argv[])
{
	struct sigaction info, at_start, now;
	/* dsm's own argument is argv[1] until sm_node_init removes it */
	int before = argc == 3 && strcmp(argv[2], "before") == 0;

	memset(&info, 0, sizeof(info));
	info.sa_sigaction = on_segv_info;
	info.sa_flags = SA_SIGINFO;
	sigemptyset(&info.sa_mask);
	if (before && sigaction(SIGSEGV, &info, NULL) != 0)
		fail("sigaction before sm_node_init: %s", strerror(errno));
	if (sigaction(SIGSEGV, NULL, &at_start) != 0)
		fail("sigaction: %s", strerror(errno));

	join(&argc, &argv);
	const char *mode = argc > 1 ? argv[1] : "";
	if (argc > 2 || (argc == 2 && strcmp(mode, "before") && strcmp(mode, "dfl") &&
			 strcmp(mode, "ign")))
		fail("usage: segv_handler [before | dfl | ign]");

	/* libsm's handler is not what the program sees */
	if (sigaction(SIGSEGV, before ? NULL : &info, &now) != 0)
		fail("sigaction after sm_node_init: %s", strerror(errno));
	same_action(&now, &at_start, "after sm_node_init");
	if (sigaction(SIGSEGV, NULL, &now) != 0)
		fail("sigaction: %s", strerror(errno));
	same_action(&now, &info, "after installing the handler");

	size_t words = 2 * page_size() / sizeof(uint32_t);
	volatile uint32_t *w = page_align(shared_from_node0(3 * page_size()));

	round_of(w, words, 1, 1);

	int hits = info_hits;
	if (raise(SIGSEGV) != 0)
		fail("raise: %s", strerror(errno));
	if (info_hits != hits + 1 || seen_code != SI_TKILL)
		fail("raise(SIGSEGV): handler ran %d times, si_code %d; expected once, SI_TKILL",
		     info_hits - hits, seen_code);

	/* (sa_handler and sa_sigaction share their storage) */
	sighandler_t prev = signal(SIGSEGV, on_segv_plain);
	if (prev != info.sa_handler)
		fail("signal() returned %p, not the handler installed with sigaction %p",
		     (void *)prev, (void *)info.sa_handler);
	round_of(w, words, 2, 2);

	int victim = nodes - 1;
	if (strcmp(mode, "dfl") == 0 || strcmp(mode, "ign") == 0) {
		if (nid == victim) {
			if (mode[0] == 'd' && signal(SIGSEGV, SIG_DFL) != on_segv_plain)
				fail("signal(SIGSEGV, SIG_DFL) did not return the plain handler");
			if (mode[0] == 'i' && signal(SIGSEGV, SIG_IGN) != on_segv_plain)
				fail("signal(SIGSEGV, SIG_IGN) did not return the plain handler");
			fprintf(stderr, "node %d: SIGSEGV set to %s, reading an unmapped address\n",
				nid, mode);
			volatile int *wild = unmapped();
			int v = *wild;
			(void)v;
			fail("still alive after reading %p", (void *)wild);
		}
		sm_barrier(); /* must never complete: the victim never arrives */
		fail("sm_barrier completed although node %d died", victim);
	}
	sm_node_exit();
	return 0;
}
