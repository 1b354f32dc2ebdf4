/*
 * exit_writeback.c - what a node wrote survives its departure.
 *
 * Node 0 allocates a page-aligned region of 3 pages per node plus one common
 * page, fills all of it with 0xee bytes and broadcasts it. Every node then
 * overwrites its own 3 pages with its own values and its own word of the
 * common page; a barrier tells node 0 the writes are done. Nodes 1..N-2 then
 * call sm_node_exit() and return 0 at once; node N-1 returns from main
 * WITHOUT calling sm_node_exit(), so the library's exit hook must write its
 * pages back. Node 0 waits in a second sm_barrier(), which completes only
 * once every other node has left, and only then reads and checks every
 * value. At N = 1 node 0 just checks its own values across the barriers.
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


#define PAGES_PER_NODE 3

static uint64_t val(int k, size_t i)
{
	return ((uint64_t)(k + 1) << 48) | ((uint64_t)i << 8) | 0xab;
}

static uint64_t common_val(int k)
{
	return 0xc0de000000000000ull | ((uint64_t)(k + 1) << 16) | 0x77;
}

int main(int argc, char *argv[])
{
	join(&argc, &argv);

	size_t ps = page_size();
	size_t per_node = PAGES_PER_NODE * ps / sizeof(uint64_t);  /* words */
	size_t npages = (size_t)nodes * PAGES_PER_NODE + 1;
	unsigned char *base = NULL;
	if (nid == 0) {
		base = shared_alloc((npages + 1) * ps);
		memset(page_align(base), 0xee, npages * ps);
	}
	bcast_pointer(&base, 0);
	uint64_t *region = page_align(base);
	uint64_t *common = region + (size_t)nodes * per_node;
	uint64_t *own = region + (size_t)nid * per_node;

	for (size_t i = 0; i < per_node; i++)
		own[i] = val(nid, i);
	common[nid] = common_val(nid);
	sm_barrier();  /* node 0 now knows every node's writes are done */

	if (nid != 0 && nid != nodes - 1) {
		sm_node_exit();
		return 0;
	}
	if (nid != 0)
		return 0;  /* node N-1: no sm_node_exit(), the exit hook must do it */

	/* Node 0: this barrier completes once all the other nodes have left. */
	sm_barrier();
	for (int k = 0; k < nodes; k++) {
		const uint64_t *p = region + (size_t)k * per_node;
		for (size_t i = 0; i < per_node; i++)
			if (p[i] != val(k, i))
				fail("word %zu of node %d's pages = 0x%016llx, expected 0x%016llx "
				     "(node %d %s)", i, k, (unsigned long long)p[i],
				     (unsigned long long)val(k, i), k,
				     k == 0 ? "is this node" : k == nodes - 1 ?
				     "returned without sm_node_exit" : "called sm_node_exit");
	}
	const unsigned char *rest = (const unsigned char *)common;
	for (size_t j = 0; j < ps; j++) {
		size_t w = j / sizeof(uint64_t);
		if (w < (size_t)nodes) {
			if (common[w] != common_val((int)w))
				fail("common word %zu = 0x%016llx, expected 0x%016llx (node %zu's)",
				     w, (unsigned long long)common[w],
				     (unsigned long long)common_val((int)w), w);
		} else if (rest[j] != 0xee) {
			fail("common page byte %zu = 0x%02x, expected 0xee", j, rest[j]);
		}
	}

	sm_node_exit();
	return 0;
}
