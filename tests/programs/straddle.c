/*
 * straddle.c - every node adds 1 to a 64-bit word that crosses a page
 * boundary, K times: one instruction that needs two shared pages at once.
 *
 *   straddle lock  [K]  `lock addq $1` on the word at offset 4094 of a page
 *   straddle plain [K]  the same without the lock prefix: one instruction,
 *                       so still atomic between nodes (pages move between
 *                       instructions, never inside one)
 *   straddle cross [K]  three words, crossing boundaries 0|1, 1|2 and 3|4,
 *                       plain adds; even nodes add to them in that order, odd
 *                       nodes in the reverse order, so pairs that share a
 *                       page and pairs that do not are wanted in different
 *                       orders (a deadlock would hang here)
 *
 * Each of the K rounds starts with a barrier, so every node wants the pair
 * at the same moment. K is 100 unless given, 5 for lock: a locked access
 * that splits across cache lines is slow on purpose, with or without dsm
 * (Linux's split-lock mitigation; about 1 to 6 ms each on the test machine,
 * and one at a time machine-wide). After a barrier every node checks that
 * each word holds exactly N*K. Without forward progress for a pair of
 * pages, two nodes take the two pages from each other forever and the run
 * never ends (dsm before protocol 4: 8 or 16 nodes hung in the first few
 * rounds).
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <string.h>

#include "sm.h"
#include "check.h"

/* The word at p, which need not be aligned (it crosses a page boundary). */
static uint64_t load(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static void add_lock(unsigned char *p)
{
	__asm__ volatile("lock addq $1, (%0)" : : "r"(p) : "memory", "cc");
}

static void add_plain(unsigned char *p)
{
	__asm__ volatile("addq $1, (%0)" : : "r"(p) : "memory", "cc");
}

int main(int argc, char *argv[])
{
	join(&argc, &argv);
	if (argc < 2)
		fail("usage: straddle lock|plain|cross [K]");

	const char *mode = argv[1];
	int cross = strcmp(mode, "cross") == 0;
	int lock = strcmp(mode, "lock") == 0;
	void (*add)(unsigned char *) = lock ? add_lock : add_plain;

	if (!lock && !cross && strcmp(mode, "plain") != 0)
		fail("usage: straddle lock|plain|cross [K] (got '%s')", mode);

	long k = number_arg(argc - 1, argv + 1, lock ? 5 : 100, 1, 100000000, "straddle MODE [K]");
	size_t ps = page_size();
	/* 6 pages from node 0's chunk: 5 whole ones after the alignment */
	unsigned char *base = page_align(shared_from_node0(6 * ps));
	unsigned char *word[3] = {base + ps - 2, base + 2 * ps - 2, base + 4 * ps - 2};
	int nwords = cross ? 3 : 1;

	for (long i = 0; i < k; i++) {
		/* every node wants the pair at the same moment, every round */
		sm_barrier();
		if (nid % 2 == 0)
			for (int w = 0; w < nwords; w++)
				add(word[w]);
		else
			for (int w = nwords - 1; w >= 0; w--)
				add(word[w]);
	}
	sm_barrier();

	uint64_t want = (uint64_t)nodes * (uint64_t)k;

	for (int w = 0; w < nwords; w++) {
		uint64_t got = load(word[w]);

		if (got != want)
			fail("word %d (crossing pages %d|%d): %llu, expected %d * %ld = %llu", w,
			     w == 2 ? 3 : w, w == 2 ? 4 : w + 1, (unsigned long long)got, nodes, k,
			     (unsigned long long)want);
	}
	sm_barrier();
	sm_node_exit();
	return 0;
}
