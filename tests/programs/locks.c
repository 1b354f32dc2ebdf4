/*
 * locks.c - sm_lock, sm_unlock and sm_trylock (sm_lock(3)).
 *
 * usage: dsm -n N ./locks [K]          (K increments per node, default 300)
 *
 *  1. One counter, on the same page as its lock and as a slot per node that
 *     every node writes outside the lock: each node adds 1 to it K times
 *     under the lock with a plain read-modify-write (load, a pause that
 *     lets others run, store). The result must be exactly N*K, and every
 *     slot must hold what its node last wrote.
 *  2. 64 locks in an array (zeroed memory from sm_malloc), each guarding
 *     its own counter; every node takes them all, in an order of its own,
 *     K/10 rounds: every counter must end at N*(K/10).
 *  3. sm_trylock: while node 0 holds a lock (SM_LOCK_INITIALIZER, written by
 *     node 0) every other node's try must return -1 (barriers order it),
 *     and then, one node at a time, a try on the free lock must return 0.
 */
#include <sched.h>
#include <stdint.h>
#include <stdio.h>

#include "sm.h"
#include "check.h"

#define NLOCKS 64

struct hot {
	sm_lock_t lock;
	long counter;
	long slot[64]; /* one per node, next to the counter */
};

/* a plain, non-atomic increment, slow enough that another node's would
 * overlap it without the lock */
static void add_one(volatile long *v)
{
	long x = *v;

	sched_yield();
	*v = x + 1;
}

static void counter_under_one_lock(struct hot *h, long k)
{
	for (long i = 0; i < k; i++) {
		h->slot[nid] = i; /* outside the lock: page traffic on the same page */
		sm_lock(&h->lock);
		add_one(&h->counter);
		sm_unlock(&h->lock);
	}
	sm_barrier();
	if (h->counter != (long)nodes * k)
		fail("counter = %ld under one lock, expected %d * %ld = %ld", h->counter, nodes, k,
		     (long)nodes * k);
	for (int n = 0; n < nodes; n++)
		if (h->slot[n] != k - 1)
			fail("slot %d = %ld, expected %ld", n, h->slot[n], k - 1);
}

static void array_of_locks(long rounds)
{
	struct {
		sm_lock_t lock[NLOCKS];
		long counter[NLOCKS];
	} *a = shared_from_node0(sizeof(*a));

	for (long r = 0; r < rounds; r++)
		for (int i = 0; i < NLOCKS; i++) {
			int j = (i * 7 + nid * 13 + (int)r) % NLOCKS;

			sm_lock(&a->lock[j]);
			add_one(&a->counter[j]);
			sm_unlock(&a->lock[j]);
		}
	sm_barrier();
	for (int i = 0; i < NLOCKS; i++)
		if (a->counter[i] != (long)nodes * rounds)
			fail("counter %d = %ld, expected %d * %ld", i, a->counter[i], nodes, rounds);
}

static void trylock(void)
{
	sm_lock_t *l = shared_from_node0(sizeof(*l));

	if (nid == 0) {
		*l = (sm_lock_t)SM_LOCK_INITIALIZER;
		sm_lock(l);
	}
	sm_barrier(); /* node 0 holds it */
	if (nid != 0 && sm_trylock(l) != -1)
		fail("sm_trylock took a lock node 0 holds");
	sm_barrier();
	if (nid == 0)
		sm_unlock(l); /* sent before its BARRIER, served first by its proxy */
	for (int n = 0; n < nodes; n++) {
		sm_barrier();
		if (nid == n) {
			if (sm_trylock(l) != 0)
				fail("sm_trylock of a free lock returned -1");
			sm_unlock(l);
		}
	}
	sm_barrier();
}

int main(int argc, char *argv[])
{
	join(&argc, &argv);
	long k = number_arg(argc, argv, 300, 10, 1000000, "locks [K]");
	if (nodes > 64)
		fail("at most 64 nodes");
	/* within one page: the lock, the counter and every node's slot */
	struct hot *h = page_align(shared_from_node0(sizeof(*h) + page_size()));

	counter_under_one_lock(h, k);
	array_of_locks(k / 10);
	trylock();
	if (nid == 0)
		printf("locks: ok, %d nodes, %ld increments each\n", nodes, k);
	sm_node_exit();
	return 0;
}
