/*
 * pingpong.c - two nodes alternately rewrite one page, 10,000 rounds in all.
 *
 * The rewritten page is a whole page-aligned page of payload; the turn word
 * lives on the page before it. (With the turn word on the payload page, the
 * waiting node's spin reads would steal the page after every single store of
 * the writer: correct under sequential consistency, but ~1000 faults per
 * round.) Round r (1..R, R = 10000 or argv[1])
 * belongs to node (r-1) % 2, or to node 0 alone when N = 1: it waits until the
 * turn word is r-1, checks that the whole payload still holds r-1, fills it
 * with r and then sets the turn word to r. Nodes 2..N-1 only wait at the
 * final barrier. Finally every node checks the whole page holds R and that
 * the rest of the allocation is still zero.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "sm.h"
#include "check.h"


int main(int argc, char *argv[])
{
	join(&argc, &argv);

	long rounds = number_arg(argc, argv, 10000, 1, 100000000, "pingpong [ROUNDS]");

	size_t ps = page_size();
	size_t words = ps / sizeof(uint32_t);
	unsigned char *base = shared_from_node0(3 * ps);
	/* the second page-aligned page inside the allocation is the payload */
	uint32_t *page = (uint32_t *)((unsigned char *)page_align(base) + ps);
	volatile uint32_t *payload = page;
	uint32_t *turn = page - 1; /* last word of the page before */

	if (nid < 2) {
		long step = nodes == 1 ? 1 : 2;
		for (long r = nid + 1; r <= rounds; r += step) {
			uint32_t prev = (uint32_t)(r - 1), cur = (uint32_t)r;
			uint32_t t;
			while ((t = __atomic_load_n(turn, __ATOMIC_ACQUIRE)) != prev) {
				if (t > prev)
					fail("round %ld: turn word is %u, ahead of %u", r, t, prev);
				sched_yield();
			}
			for (size_t i = 0; i < words; i++)
				if (payload[i] != prev)
					fail("round %ld: payload word %zu = %u, expected %u",
					     r, i, payload[i], prev);
			for (size_t i = 0; i < words; i++)
				payload[i] = cur;
			__atomic_store_n(turn, cur, __ATOMIC_RELEASE);
		}
	}
	sm_barrier();

	if (*turn != (uint32_t)rounds)
		fail("final turn word = %u, expected %ld", *turn, rounds);
	for (size_t i = 0; i < words; i++)
		if (payload[i] != (uint32_t)rounds)
			fail("final payload word %zu = %u, expected %ld", i, payload[i], rounds);
	for (unsigned char *p = base; p < base + 3 * ps; p++)
		if ((p < (unsigned char *)page || p >= (unsigned char *)page + ps) &&
		    (p < (unsigned char *)turn || p >= (unsigned char *)(turn + 1)) && *p != 0)
			fail("byte at offset %zu outside the page and turn word = %u, expected 0",
			     (size_t)(p - base), *p);

	sm_barrier();
	sm_node_exit();
	return 0;
}
