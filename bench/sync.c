/*
 * sync.c - synchronisation costs inside a dsm job:
 *   barrier_N   one sm_barrier, timed on node 0, N = the job's node count
 *   bcast_N     one sm_bcast from node 0, timed on node 0
 *   malloc_small_per_s   64-byte sm_malloc calls per second on one node
 *                        (carved from the node's chunk: no message)
 *   malloc_chunk_per_s   page-sized sm_malloc calls per second (each one
 *                        a round trip to the allocator)
 * Usage: dsm -n N sync [ITERATIONS]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "sm.h"
#include "stats.h"

int main(int argc, char **argv)
{
	int nodes, me, iters;
	double *s;
	char name[32];

	if (sm_node_init(&argc, &argv, &nodes, &me) != 0)
		return 1;
	iters = argc > 1 ? atoi(argv[1]) : 500;
	s = malloc(sizeof(double) * (size_t)iters);
	for (int i = -20; i < iters; i++) {
		double t0 = now_us();

		sm_barrier();
		if (i >= 0)
			s[i] = now_us() - t0;
	}
	snprintf(name, sizeof(name), "barrier_%d", nodes);
	if (me == 0)
		report_samples(name, s, (size_t)iters);
	for (int i = -20; i < iters; i++) {
		void *p = (void *)(uintptr_t)(i + 1);
		double t0 = now_us();

		sm_bcast(&p, 0);
		if (i >= 0)
			s[i] = now_us() - t0;
		if (p != (void *)(uintptr_t)(i + 1)) {
			fprintf(stderr, "sync: bcast delivered %p\n", p);
			return 1;
		}
	}
	snprintf(name, sizeof(name), "bcast_%d", nodes);
	if (me == 0)
		report_samples(name, s, (size_t)iters);
	sm_barrier();
	if (me == 0 && nodes == 2) {
		int n = 20000;
		double t0 = now_us();

		for (int i = 0; i < n; i++)
			if (!sm_malloc(64))
				return 1;
		report_value("malloc_small_per_s", "per_s", n / ((now_us() - t0) / 1e6));
		n = 2000;
		t0 = now_us();
		for (int i = 0; i < n; i++)
			if (!sm_malloc(40000)) /* larger than half a chunk: its own pages */
				return 1;
		report_value("malloc_chunk_per_s", "per_s", n / ((now_us() - t0) / 1e6));
	}
	sm_barrier();
	free(s);
	sm_node_exit();
	return 0;
}
