/*
 * faults.c - the cost of each kind of page fault, timed around one access
 * per page inside a dsm job. Every phase touches P fresh pages and reports
 * the median, min and max of the single accesses.
 *
 *   dsm -n 4 faults basic [P]    read_fresh, upgrade, read_revoke, write_revoke
 *   dsm -n 16 faults fanout [P]  write with invalidation of K = 1, 3, 7, 15 readers
 *   dsm -n 3 faults threads [P]  read faults revoking a writer, by one thread
 *                                alone, by two threads of a node at once, and
 *                                by two nodes at once
 *
 * basic, with 4 nodes:
 *   node 3 writes region F and leaves (sm_node_exit writes it back), so the
 *   allocator holds the only copy: node 1's reads are read faults on a page
 *   the allocator holds fresh (read_fresh); node 1's writes to those pages,
 *   of which it is the only reader, are upgrades (upgrade); node 2's reads
 *   must revoke node 1 (read_revoke); region W is written by node 0 and then
 *   by node 1, which must take each page from a writer (write_revoke).
 * fanout: region G_K is written by node 0 and read by nodes 1..K; then
 *   node 0's write to each page must invalidate K readers (fanout_K).
 * threads: node 0 writes regions A, B, C, D and E; node 1 reads A with one
 *   thread (fault_1thread: each read revokes node 0), then B and C with two
 *   threads at once, one region each, every fault of one thread while the
 *   other's is on its way (fault_2threads: the latencies of both threads'
 *   faults); then nodes 1 and 2 read D and E at once, one thread each
 *   (fault_2nodes: what two faults at once cost with no thread of a node
 *   waiting for another). bench/run.sh puts the others beside the first.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sm.h"
#include "stats.h"

#define PAGE 4096

static int nodes, me;

static uint8_t *alloc_pages(size_t p)
{
	uint8_t *r = sm_malloc(p * PAGE);

	if (!r) {
		fprintf(stderr, "faults: sm_malloc failed\n");
		exit(1);
	}
	return r;
}

/* Time one read (or write) of the first word of each page. */
static void timed_pass(const char *name, volatile uint8_t *r, size_t p, int write)
{
	double *s = malloc(p * sizeof(double));

	for (size_t i = 0; i < p; i++) {
		double t0 = now_us();

		if (write)
			r[i * PAGE] = (uint8_t)(i + 1);
		else
			(void)r[i * PAGE];
		s[i] = now_us() - t0;
	}
	report_samples(name, s, p);
	free(s);
}

static void touch(volatile uint8_t *r, size_t p, int write)
{
	for (size_t i = 0; i < p; i++)
		if (write)
			r[i * PAGE] = (uint8_t)i;
		else
			(void)r[i * PAGE];
}

static void basic(size_t p)
{
	uint8_t *f = NULL, *w = NULL;

	if (nodes < 4) {
		fprintf(stderr, "faults basic needs 4 nodes\n");
		exit(2);
	}
	if (me == 3) {
		f = alloc_pages(p);
		touch(f, p, 1);
	}
	sm_bcast((void **)&f, 3);
	if (me == 3) {
		sm_node_exit(); /* F goes back to the allocator */
		exit(0);
	}
	if (me == 0) {
		w = alloc_pages(p);
		touch(w, p, 1);
	}
	sm_bcast((void **)&w, 0);
	sm_barrier(); /* node 3 has left: F has no holder */
	if (me == 1) {
		timed_pass("read_fresh", f, p, 0);
		timed_pass("upgrade", f, p, 1);
	}
	sm_barrier();
	if (me == 2)
		timed_pass("read_revoke", f, p, 0);
	sm_barrier();
	if (me == 1)
		timed_pass("write_revoke", w, p, 1);
	sm_barrier();
}

struct pass {
	const char *name;
	volatile uint8_t *r;
	size_t p;
	double *s; /* p samples */
};

static pthread_barrier_t together;

static void *timed_reads(void *arg)
{
	struct pass *x = arg;

	pthread_barrier_wait(&together);
	for (size_t i = 0; i < x->p; i++) {
		double t0 = now_us();

		(void)x->r[i * PAGE];
		x->s[i] = now_us() - t0;
	}
	return NULL;
}

static void threads(size_t p)
{
	uint8_t *r[5] = {NULL, NULL, NULL, NULL, NULL};

	if (nodes < 3) {
		fprintf(stderr, "faults threads needs 3 nodes\n");
		exit(2);
	}
	for (int k = 0; k < 5; k++) {
		if (me == 0) {
			r[k] = alloc_pages(p);
			touch(r[k], p, 1);
		}
		sm_bcast((void **)&r[k], 0);
	}
	if (me == 1) {
		struct pass one = {"fault_1thread", r[0], p, malloc(p * sizeof(double))};
		struct pass two[2] = {{"", r[1], p, malloc(2 * p * sizeof(double))},
				      {"", r[2], p, NULL}};
		pthread_t th;

		two[1].s = two[0].s + p;
		pthread_barrier_init(&together, NULL, 1);
		timed_reads(&one);
		report_samples(one.name, one.s, p);
		pthread_barrier_destroy(&together);
		pthread_barrier_init(&together, NULL, 2);
		if (pthread_create(&th, NULL, timed_reads, &two[1]) != 0) {
			fprintf(stderr, "faults: pthread_create failed\n");
			exit(1);
		}
		timed_reads(&two[0]);
		pthread_join(th, NULL);
		report_samples("fault_2threads", two[0].s, 2 * p);
		free(one.s);
		free(two[0].s);
	}
	sm_barrier();
	if (me == 1 || me == 2) {
		struct pass one = {"fault_2nodes", r[2 + me], p, malloc(p * sizeof(double))};

		pthread_barrier_init(&together, NULL, 1);
		timed_reads(&one);
		/* node 2's faults, as long, run at the same time */
		if (me == 1)
			report_samples(one.name, one.s, p);
		free(one.s);
	}
	sm_barrier();
}

static void fanout(size_t p)
{
	static const int ks[] = {1, 3, 7, 15};

	for (size_t k = 0; k < sizeof(ks) / sizeof(ks[0]); k++) {
		uint8_t *g = NULL;
		char name[32];

		if (ks[k] >= nodes)
			break;
		if (me == 0) {
			g = alloc_pages(p);
			touch(g, p, 1);
		}
		sm_bcast((void **)&g, 0);
		if (me >= 1 && me <= ks[k])
			touch(g, p, 0);
		sm_barrier();
		/* node 0 holds a read copy too: an upgrade that invalidates K readers */
		snprintf(name, sizeof(name), "fanout_%d", ks[k]);
		if (me == 0)
			timed_pass(name, g, p, 1);
		sm_barrier();
	}
}

int main(int argc, char **argv)
{
	size_t p;

	if (sm_node_init(&argc, &argv, &nodes, &me) != 0)
		return 1;
	p = argc > 2 ? (size_t)atol(argv[2]) : 500;
	if (argc > 1 && strcmp(argv[1], "fanout") == 0)
		fanout(p);
	else if (argc > 1 && strcmp(argv[1], "threads") == 0)
		threads(p);
	else
		basic(p);
	sm_node_exit();
	return 0;
}
