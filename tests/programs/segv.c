/*
 * segv.c - a node that faults outside the shared region must die of SIGSEGV.
 *
 * All nodes call sm_node_init. Node N-1 (node 0 when N = 1) then writes to
 * address 16, far outside the shared region, and must be killed by SIGSEGV;
 * the other nodes wait in sm_barrier(), which must never complete. dsm must
 * exit non-zero, naming the node and "signal 11". With argv[1] == "inside"
 * node 0 first allocates and fills a page and broadcasts it, and the dying
 * node first reads and rewrites that shared page (faults the runtime must
 * handle) before its wild write.
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
	int inside = argc > 1 && strcmp(argv[1], "inside") == 0;
	if (argc > 1 && !inside)
		fail("usage: segv [inside]");
	int victim = nodes - 1;

	if (inside) {
		size_t ps = page_size();
		uint32_t *buf = NULL;
		if (nid == 0) {
			buf = shared_alloc(ps);
			for (size_t i = 0; i < ps / sizeof(*buf); i++)
				buf[i] = (uint32_t)i ^ 0x5e65e65eu;
		}
		bcast_pointer(&buf, 0);
		if (nid == victim) {
			for (size_t i = 0; i < ps / sizeof(*buf); i++)
				if (buf[i] != ((uint32_t)i ^ 0x5e65e65eu))
					fail("shared word %zu = 0x%08x, expected 0x%08x", i, buf[i],
					     (uint32_t)i ^ 0x5e65e65eu);
			for (size_t i = 0; i < ps / sizeof(*buf); i++)
				buf[i] = ~(uint32_t)i;
			for (size_t i = 0; i < ps / sizeof(*buf); i++)
				if (buf[i] != ~(uint32_t)i)
					fail("shared word %zu = 0x%08x right after writing 0x%08x", i,
					     buf[i], ~(uint32_t)i);
		}
	}

	if (nid == victim) {
		fprintf(stderr, "node %d: writing to address 16, expecting SIGSEGV\n", nid);
		/* Through a volatile so the compiler cannot see the address. */
		volatile uintptr_t wild = 16;
		*(volatile int *)wild = 1;
		fail("still alive after writing to address 16");
	}

	sm_barrier();  /* must never complete: node N-1 never arrives */
	fail("sm_barrier completed although node %d died", victim);
}
