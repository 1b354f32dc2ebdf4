/*
 * txnconsistent.c - a transaction never sees a half-done update, and a
 * signal raised by inconsistent data rolls it back (sm_txn(3)).
 *
 * usage: dsm -n N ./txnconsistent [K]      (K transactions each, default 2000)
 *
 * x and y live on two pages; x + y == 100 is the invariant.
 *  1. Node 0 moves a random amount from x to y (or back) in K transactions;
 *     every other node (node 0 too, at N=1, between its moves) reads x and y
 *     in K transactions, yielding the CPU between the two reads; every
 *     other one divides 100 by (x + y == 100): a transaction that saw the
 *     two inconsistent would raise SIGFPE and be rolled back. After each
 *     commit the values it read must add up to 100, and no node may die. (Transactions are opaque: one that saw x after a move and y
 *     before it would have been doomed before its next access, so no
 *     SIGFPE is expected here.)
 *  2. A non-transactional writer breaks the invariant on purpose: node 0
 *     writes x = 40 (y is still 50... of 60 wanted) outside any transaction.
 *     Then the last node reads x and y in a transaction that first adds 1
 *     to z, then divides by (x + y == 100): the first run raises SIGFPE and
 *     is rolled back and run again; the second run cancels itself. z must
 *     be unchanged (the rolled-back run's increment vanished). Node 0 then
 *     writes y = 60, and the same transaction commits at its first run:
 *     z == 1 and it read 40 + 60.
 */
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>

#include "sm.h"
#include "check.h"

struct shared {
	volatile long *x, *y, *z;
};

static uint64_t rng;
static long next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (long)(rng >> 33);
}

static volatile int sink;
static volatile long divisor; /* volatile: the division really happens */

/* 100 / (consistent ? 1 : 0): SIGFPE on inconsistent data (UBSan would
 * stop the node first: the signal is what is tested) */
__attribute__((no_sanitize("integer-divide-by-zero"))) static void divide(long sum)
{
	divisor = sum == 100;
	sink = (int)(100 / divisor);
}

static void move(struct shared *s)
{
	long d = next() % 41 - 20;
	sm_txn_t t;

	SM_TXN_BEGIN(&t);
	*s->x -= d;
	*s->y += d;
	sm_txn_commit(&t);
}

static void check_sum(struct shared *s, int with_division)
{
	volatile long a, b;
	sm_txn_t t;

	SM_TXN_BEGIN(&t);
	a = *s->x;
	sched_yield(); /* room for a move between the two reads */
	b = *s->y;
	if (with_division)
		divide(a + b);
	sm_txn_commit(&t);
	if (a + b != 100)
		fail("a committed transaction read x = %ld, y = %ld", (long)a, (long)b);
}

/* Phase 2: 1 committed, 0 cancelled; *runs: how many times it ran */
static int guarded_read(struct shared *s, int cancel_at, volatile int *runs, volatile long *sum)
{
	sm_txn_t t;

	*runs = 0;
	SM_TXN_BEGIN(&t);
	++*s->z;
	if (++*runs == cancel_at) {
		sm_txn_cancel(&t);
		return 0;
	}
	*sum = *s->x + *s->y;
	divide(*sum);
	sm_txn_commit(&t);
	return 1;
}

int main(int argc, char **argv)
{
	long k;
	struct shared s;
	volatile long *base;
	volatile int runs;
	volatile long sum;
	int reader = 0;

	join(&argc, &argv);
	k = number_arg(argc, argv, 2000, 1, 1000000, "txnconsistent [K]");
	base = shared_pages_from_node0(3);
	s.x = base;
	s.y = base + page_size() / sizeof(long);
	s.z = base + 2 * page_size() / sizeof(long);
	if (nid == 0) {
		*s.x = 50;
		*s.y = 50;
	}
	sm_barrier();

	rng = 0x2545f4914f6cdd1dull * (uint64_t)(nid + 1);
	for (long i = 0; i < k; i++) {
		if (nid == 0)
			move(&s);
		if (nid != 0 || nodes == 1)
			check_sum(&s, i % 2);
	}
	sm_barrier();
	if (*s.x + *s.y != 100)
		fail("x + y = %ld after phase 1", *s.x + *s.y);
	sm_barrier();

	/* phase 2: x = 40, y = 50 written outside transactions */
	if (nid == 0) {
		*s.x = 40;
		*s.y = 50;
		*s.z = 0;
	}
	sm_barrier();
	if (nid == nodes - 1) {
		reader = 1;
		if (guarded_read(&s, 2, &runs, &sum) != 0)
			fail("the transaction that read x + y = 90 committed");
		if (runs != 2)
			fail("the transaction ran %d times, not 2 (SIGFPE, then cancelled)", runs);
		if (*s.z != 0)
			fail("z = %ld after a rolled-back and a cancelled increment", *s.z);
	}
	sm_barrier();
	if (nid == 0)
		*s.y = 60;
	sm_barrier();
	if (reader) {
		if (guarded_read(&s, -1, &runs, &sum) != 1 || runs != 1 || sum != 100)
			fail("the transaction on consistent data: ran %d times, read %ld", runs, sum);
		if (*s.z != 1)
			fail("z = %ld after one committed increment", *s.z);
	}
	sm_barrier();
	if (nid == 0)
		printf("txnconsistent: ok: %d nodes, %ld transactions each\n", nodes, k);
	sm_node_exit();
	return 0;
}
