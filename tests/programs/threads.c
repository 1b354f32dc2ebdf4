/*
 * threads.c - threads in a node: only the thread that called sm_node_init
 * may use shared memory and the sm_ functions (sm(3), Threads).
 *
 * usage: dsm -n N ./threads touch|barrier|malloc|bcast|private
 *
 * Node 0 allocates one page per node, writes them all and broadcasts the
 * pointer; the nodes meet in a barrier. Then node N-1 starts threads (every
 * node does in private mode; the other modes need N >= 2), and:
 *   touch    four threads each read a page this node does not hold: the
 *            node must die of SIGSEGV at once, with libsm's message about
 *            threads (integration.sh checks both);
 *   barrier, malloc, bcast
 *            one thread calls that function: the node must exit with status
 *            1 and libsm's message;
 *   private  four threads compute in private memory while the node's own
 *            thread uses shared memory: allowed, the job must succeed.
 * In the failing modes the other nodes wait in a barrier node N-1 never
 * reaches, so the job ends only because node N-1 died (the only node that
 * fails, so dsm's status is its status); a hang is the failure this guards
 * against.
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "check.h"

#define THREADS 4
#define WORDS (4096 / sizeof(uint64_t))

static uint64_t *pages;
static const char *mode;
static volatile uint64_t sink;

static void *worker(void *arg)
{
	int t = (int)(intptr_t)arg;

	if (strcmp(mode, "touch") == 0) {
		/* node 0 wrote every page, so this node holds none of them */
		sink = pages[(size_t)(t % nodes) * WORDS + (size_t)t];
		fail("thread %d read shared memory and lived", t);
	} else if (strcmp(mode, "barrier") == 0) {
		sm_barrier();
		fail("sm_barrier returned in a thread");
	} else if (strcmp(mode, "malloc") == 0) {
		sm_malloc(16);
		fail("sm_malloc returned in a thread");
	} else if (strcmp(mode, "bcast") == 0) {
		void *p = pages;

		sm_bcast(&p, 0);
		fail("sm_bcast returned in a thread");
	} else {
		uint64_t x = (uint64_t)t;

		for (int i = 0; i < 1000000; i++)
			x = x * 6364136223846793005u + 1442695040888963407u;
		sink = x;
	}
	return NULL;
}

int main(int argc, char *argv[])
{
	pthread_t th[THREADS];
	int n = 1, ok;

	join(&argc, &argv);
	if (argc != 2)
		fail("usage: threads touch|barrier|malloc|bcast|private");
	mode = argv[1];
	ok = strcmp(mode, "private") == 0;
	if (!ok && nodes < 2)
		fail("threads %s needs at least 2 nodes", mode);
	if (strcmp(mode, "touch") == 0 || ok)
		n = THREADS;
	pages = shared_from_node0((size_t)nodes * 4096 + 4096);
	pages = page_align(pages);
	if (nid == 0)
		for (size_t i = 0; i < (size_t)nodes * WORDS; i++)
			pages[i] = i;
	sm_barrier();
	if (nid == nodes - 1 || ok) {
		for (int t = 0; t < n; t++)
			if (pthread_create(&th[t], NULL, worker, (void *)(intptr_t)t) != 0)
				fail("pthread_create failed");
		if (ok)
			/* the node's own thread keeps using shared memory meanwhile */
			for (size_t i = 0; i < WORDS; i++)
				pages[(size_t)nid * WORDS + i] += 1;
		for (int t = 0; t < n; t++)
			pthread_join(th[t], NULL);
		if (!ok)
			fail("every thread came back");
	}
	sm_barrier();
	if (!ok)
		fail("the barrier completed although node %d failed", nodes - 1);
	if (nid == 0)
		for (int k = 0; k < nodes; k++)
			for (size_t i = 0; i < WORDS; i++)
				if (pages[(size_t)k * WORDS + i] != (size_t)k * WORDS + i + 1)
					fail("page %d word %zu: %llu", k, i,
					     (unsigned long long)pages[(size_t)k * WORDS + i]);
	printf("threads: node %d private ok\n", nid);
	return 0;
}
