/*
 * falseshare.c - every node writes its own interleaved words of two shared
 * pages, 1,000 rounds, with no synchronisation between rounds.
 *
 * Word i (a uint64_t) of the two pages belongs to node i % N. In round r
 * (1..R, R = 1000 or argv[1]) node k writes (i << 32) | (r * 64 + k) into each
 * of its words. Every 100 rounds (and half-way) a node re-reads its own words,
 * which must hold exactly this round's values, and every other word, which
 * must be 0 or a value written by that word's owner in a round no earlier
 * than the last one this node saw there (sequential consistency). After the
 * last round and a barrier every node checks every word holds its owner's
 * final value.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "sm.h"
#include "check.h"


static uint64_t val(size_t i, long r, int k)
{
	return ((uint64_t)i << 32) | (uint64_t)(r * 64 + k);
}

int main(int argc, char *argv[])
{
	join(&argc, &argv);
	if (nodes > 64)
		fail("at most 64 nodes");

	long rounds = number_arg(argc, argv, 1000, 1, 1000000, "falseshare [ROUNDS]");

	size_t ps = page_size();
	size_t nwords = 2 * ps / sizeof(uint64_t);
	volatile uint64_t *w = page_align(shared_from_node0(3 * ps));

	long *last = calloc(nwords, sizeof(*last));  /* last round seen per word */
	if (last == NULL)
		fail("out of private memory");

	for (long r = 1; r <= rounds; r++) {
		for (size_t i = (size_t)nid; i < nwords; i += (size_t)nodes)
			w[i] = val(i, r, nid);
		if (r % 100 != 0 && r != rounds / 2)
			continue;
		for (size_t i = 0; i < nwords; i++) {
			uint64_t v = w[i];
			int owner = (int)(i % (size_t)nodes);
			if (owner == nid) {
				if (v != val(i, r, nid))
					fail("round %ld: own word %zu = 0x%016llx, expected 0x%016llx",
					     r, i, (unsigned long long)v,
					     (unsigned long long)val(i, r, nid));
				last[i] = r;
				continue;
			}
			if (v == 0) {
				if (last[i] != 0)
					fail("round %ld: word %zu of node %d reads 0 after round %ld was seen",
					     r, i, owner, last[i]);
				continue;
			}
			uint64_t low = v & 0xffffffffu;
			long vr = (long)(low / 64);
			if ((v >> 32) != i || (int)(low % 64) != owner || vr < 1 || vr > rounds)
				fail("round %ld: word %zu of node %d = 0x%016llx, not a value node %d writes there",
				     r, i, owner, (unsigned long long)v, owner);
			if (vr < last[i])
				fail("round %ld: word %zu of node %d went back from round %ld to round %ld",
				     r, i, owner, last[i], vr);
			last[i] = vr;
		}
	}
	sm_barrier();

	for (size_t i = 0; i < nwords; i++) {
		int owner = (int)(i % (size_t)nodes);
		if (w[i] != val(i, rounds, owner))
			fail("final word %zu (node %d's) = 0x%016llx, expected 0x%016llx", i, owner,
			     (unsigned long long)w[i], (unsigned long long)val(i, rounds, owner));
	}

	free(last);
	sm_barrier();
	sm_node_exit();
	return 0;
}
