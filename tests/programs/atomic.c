/*
 * atomic.c - __atomic_fetch_add on one shared counter from every node.
 *
 * Every node does COUNT (2000 or argv[1]) __atomic_fetch_add(counter, 1,
 * __ATOMIC_SEQ_CST) on the same shared counter, checking that the values it
 * gets back are strictly increasing and below N*COUNT. After a barrier every
 * node checks counter == N*COUNT, and node 0 checks that the values returned
 * to all nodes together are exactly 0 .. N*COUNT-1, each once.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sm.h"
#include "check.h"


int main(int argc, char *argv[])
{
	join(&argc, &argv);

	long count = number_arg(argc, argv, 2000, 1, 10000000, "atomic [COUNT]");
	uint64_t total = (uint64_t)nodes * (uint64_t)count;

	/* Page 0: the counter alone; then the table of returned values. */
	size_t ps = page_size();
	size_t tbytes = (size_t)total * sizeof(uint32_t);
	size_t size = ps + ((tbytes + ps - 1) / ps) * ps + ps;
	unsigned char *page = page_align(shared_from_node0(size));
	uint64_t *counter = (uint64_t *)page;
	uint32_t *got = (uint32_t *)(page + ps);

	uint32_t *mine = malloc((size_t)count * sizeof(*mine));
	if (mine == NULL)
		fail("out of private memory");
	uint64_t prev = 0;
	for (long i = 0; i < count; i++) {
		uint64_t v = __atomic_fetch_add(counter, 1, __ATOMIC_SEQ_CST);
		if (v >= total)
			fail("increment %ld: fetch_add returned %llu, beyond N*COUNT = %llu", i,
			     (unsigned long long)v, (unsigned long long)total);
		if (i > 0 && v <= prev)
			fail("increment %ld: fetch_add returned %llu after %llu", i,
			     (unsigned long long)v, (unsigned long long)prev);
		prev = v;
		mine[i] = (uint32_t)v;
	}
	memcpy(got + (size_t)nid * (size_t)count, mine, (size_t)count * sizeof(*mine));
	sm_barrier();

	uint64_t c = __atomic_load_n(counter, __ATOMIC_SEQ_CST);
	if (c != total)
		fail("counter = %llu, expected %d * %ld = %llu", (unsigned long long)c, nodes,
		     count, (unsigned long long)total);

	if (nid == 0) {
		unsigned char *seen = calloc((size_t)total, 1);
		if (seen == NULL)
			fail("out of private memory");
		for (uint64_t i = 0; i < total; i++) {
			uint32_t v = got[i];
			if (v >= total)
				fail("node %llu recorded %u, beyond N*COUNT",
				     (unsigned long long)(i / (uint64_t)count), v);
			if (seen[v])
				fail("value %u was returned twice (second time to node %llu)", v,
				     (unsigned long long)(i / (uint64_t)count));
			seen[v] = 1;
		}
		free(seen);
	}

	free(mine);
	sm_barrier();
	sm_node_exit();
	return 0;
}
