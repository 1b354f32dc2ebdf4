/*
 * locks.c - what sm_lock costs inside a dsm job:
 *   lock_pair_N     one sm_lock + sm_unlock of a free lock on node 0 while
 *                   the others wait in a barrier (one round trip to the
 *                   node's proxy; the unlock is not waited for)
 *   lock_handoff_N  every node takes and releases one lock in a loop, with
 *                   nothing in between: each grant is a handoff from the
 *                   node that released it; per grant, from batches of
 *                   BATCH grants per node timed on node 0
 * N = the job's node count. Usage: dsm -n N locks [ITERATIONS]
 */
#include <stdio.h>
#include <stdlib.h>

#include "sm.h"
#include "stats.h"

#define BATCH 50

int main(int argc, char **argv)
{
	int nodes, me, iters, batches;
	double *s;
	char name[32];
	sm_lock_t *lock = NULL;

	if (sm_node_init(&argc, &argv, &nodes, &me) != 0)
		return 1;
	iters = argc > 1 ? atoi(argv[1]) : 2000;
	batches = iters / BATCH > 5 ? iters / BATCH : 5;
	s = malloc(sizeof(double) * (size_t)(iters > batches ? iters : batches));
	if (!s)
		return 1;
	if (me == 0)
		lock = sm_malloc(sizeof(*lock));
	sm_bcast((void **)&lock, 0);
	if (me == 0) {
		for (int i = -20; i < iters; i++) {
			double t0 = now_us();

			sm_lock(lock);
			sm_unlock(lock);
			if (i >= 0)
				s[i] = now_us() - t0;
		}
		snprintf(name, sizeof(name), "lock_pair_%d", nodes);
		report_samples(name, s, (size_t)iters);
	}
	for (int b = -2; b < batches; b++) {
		double t0;

		sm_barrier();
		t0 = now_us();
		for (int k = 0; k < BATCH; k++) {
			sm_lock(lock);
			sm_unlock(lock);
		}
		if (b >= 0)
			s[b] = (now_us() - t0) / (BATCH * nodes);
	}
	snprintf(name, sizeof(name), "lock_handoff_%d", nodes);
	if (me == 0)
		report_samples(name, s, (size_t)batches);
	sm_barrier();
	free(s);
	sm_node_exit();
	return 0;
}
