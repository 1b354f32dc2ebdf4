/*
 * condvar.c - sm_cond_wait, sm_cond_signal and sm_cond_broadcast
 * (sm_cond_wait(3)).
 *
 * usage: dsm -n N ./condvar [ITEMS]        (items per producer, default 400)
 *
 *  1. A bounded queue (4 slots) in shared memory with one lock and two
 *     conditions, "not full" and "not empty", all in zeroed memory from
 *     sm_malloc. Even nodes produce ITEMS items each (distinct values),
 *     odd nodes consume until every item is taken (one node alone does
 *     both, in turns that never wait). Each item must be consumed exactly
 *     once (a count per item) and the sum of what the consumers took must
 *     be the sum of what was produced.
 *  2. Broadcast: every node but 0 waits on one condition until a flag is
 *     set; node 0 waits (on a second condition) until all of them are
 *     waiting, sets the flag and broadcasts once. A broadcast that woke
 *     fewer leaves a node waiting for ever (the run times out). Three
 *     rounds, on the same condition. A signal with nobody waiting must do
 *     nothing.
 */
#include <stdint.h>
#include <stdio.h>

#include "sm.h"
#include "check.h"

#define QSLOTS 4

struct queue {
	sm_lock_t lock;
	sm_cond_t not_full, not_empty;
	long slot[QSLOTS];
	int head, count;
	long produced, consumed; /* items so far, of total */
	long total;
	long sum[64];            /* what each node consumed, summed */
	unsigned char seen[];    /* per item: how often consumed */
};

static long item_value(int producer, long i, long items)
{
	return (long)producer * items + i + 1; /* 1 .. nodes * items, distinct */
}

static void put(struct queue *q, long v)
{
	sm_lock(&q->lock);
	while (q->count == QSLOTS)
		sm_cond_wait(&q->not_full, &q->lock);
	q->slot[(q->head + q->count) % QSLOTS] = v;
	q->count++;
	q->produced++;
	sm_cond_signal(&q->not_empty);
	sm_unlock(&q->lock);
}

/* The next item, or 0 once every item was consumed. */
static long get(struct queue *q)
{
	long v = 0;

	sm_lock(&q->lock);
	while (q->count == 0 && q->consumed < q->total)
		sm_cond_wait(&q->not_empty, &q->lock);
	if (q->count > 0) {
		v = q->slot[q->head];
		q->head = (q->head + 1) % QSLOTS;
		q->count--;
		q->consumed++;
		if (v < 1 || v > q->total)
			fail("took item %ld, not one that was produced", v);
		q->seen[v - 1]++;
		q->sum[nid] += v;
		sm_cond_signal(&q->not_full);
		if (q->consumed == q->total) /* the other consumers stop waiting */
			sm_cond_broadcast(&q->not_empty);
	}
	sm_unlock(&q->lock);
	return v;
}

static void producer_consumer(long items)
{
	int producers = nodes == 1 ? 1 : (nodes + 1) / 2;
	long total = producers * items;
	struct queue *q = shared_from_node0(sizeof(*q) + (size_t)total);
	long want = 0;

	if (nid == 0)
		q->total = total;
	sm_barrier();
	if (nodes == 1) {
		for (long i = 0; i < items; i += QSLOTS) {
			for (long j = i; j < items && j < i + QSLOTS; j++)
				put(q, item_value(0, j, items));
			for (long j = i; j < items && j < i + QSLOTS; j++)
				get(q);
		}
	} else if (nid % 2 == 0) {
		for (long i = 0; i < items; i++)
			put(q, item_value(nid / 2, i, items));
	} else {
		while (get(q) != 0)
			;
	}
	sm_barrier();
	if (nid != 0)
		return;
	for (long v = 1; v <= total; v++) {
		if (q->seen[v - 1] != 1)
			fail("item %ld was consumed %d times", v, q->seen[v - 1]);
		want += v;
	}
	long got = 0;
	for (int n = 0; n < nodes; n++)
		got += q->sum[n];
	if (got != want || q->produced != total || q->consumed != total || q->count != 0)
		fail("consumed sum %ld (expected %ld), produced %ld, consumed %ld of %ld, %d left",
		     got, want, q->produced, q->consumed, total, q->count);
}

struct gate {
	sm_lock_t lock;
	sm_cond_t go, all_waiting;
	int round, waiting;
	int woke[64];
};

static void broadcast(void)
{
	struct gate *g = shared_from_node0(sizeof(*g));

	for (int round = 1; round <= 3; round++) {
		sm_lock(&g->lock);
		if (nid == 0) {
			sm_cond_signal(&g->go); /* nobody waits on it yet: nothing */
			while (g->waiting < nodes - 1)
				sm_cond_wait(&g->all_waiting, &g->lock);
			g->waiting = 0;
			g->round = round;
			sm_cond_broadcast(&g->go);
		} else {
			if (++g->waiting == nodes - 1)
				sm_cond_signal(&g->all_waiting);
			while (g->round < round)
				sm_cond_wait(&g->go, &g->lock);
			g->woke[nid] = round;
		}
		sm_unlock(&g->lock);
		sm_barrier();
		for (int n = 1; n < nodes; n++)
			if (g->woke[n] != round)
				fail("round %d: node %d did not wake (woke[%d] = %d)", round, n, n,
				     g->woke[n]);
		sm_barrier();
	}
}

int main(int argc, char *argv[])
{
	join(&argc, &argv);
	long items = number_arg(argc, argv, 400, 1, 1000000, "condvar [ITEMS]");

	if (nodes > 64)
		fail("at most 64 nodes");
	producer_consumer(items);
	broadcast();
	if (nid == 0)
		printf("condvar: ok, %d nodes\n", nodes);
	sm_node_exit();
	return 0;
}
