/*
 * txnmisc.c - the rest of sm_txn(3): cancel, retry, a transaction over many
 * pages, nesting, and signals that restart a transaction.
 *
 * usage: dsm -n N ./txnmisc
 *
 * Every node runs each check on memory it allocated itself (so the nodes
 * run them side by side), then the next node checks what it left:
 *  1. cancel: a write and an sm_malloc inside a cancelled transaction
 *     vanish: the value is as before and the next sm_malloc returns the
 *     same address (the chunk is rewound).
 *  2. retry: a transaction that retries itself twice runs three times and
 *     commits its increment once.
 *  3. 100 pages (fresh, first touched in the transaction): a transaction
 *     writes one word in each, then retries; its second run writes them
 *     again and commits; a cancelled one over the same pages changes
 *     nothing. The next node reads the 100 words.
 *  4. nesting is flattened: an inner commit returns 0 and commits nothing
 *     by itself; an inner cancel ends the whole transaction and the outer
 *     commit returns SM_TXN_CANCELLED; an inner retry restarts the outer.
 *  5. signals: a first run that follows a null pointer (SIGSEGV outside the
 *     region) or divides by zero (SIGFPE) after writing is rolled back and
 *     run again; the write counts once.
 */
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>

#include "sm.h"
#include "check.h"

#define PAGES 100

struct mine {
	long value;
	long counter;
	long nested[2];
	long signalled;
	long *pages; /* PAGES pages */
};

static volatile int runs;
static volatile long *volatile null_pointer;
static volatile long zero_divisor;
static volatile long sink;

static void check_cancel(struct mine *m)
{
	sm_txn_t t;
	void *inside, *after;

	m->value = 1;
	SM_TXN_BEGIN(&t);
	m->value = 7;
	inside = sm_malloc(32);
	if (!inside)
		fail("sm_malloc inside a transaction returned NULL");
	*(long *)inside = 5;
	sm_txn_cancel(&t);
	if (m->value != 1)
		fail("cancel: value %ld, not 1", m->value);
	after = sm_malloc(32);
	if (after != inside)
		fail("cancel: sm_malloc after the cancelled one gave %p, not %p", after, inside);
	if (*(long *)after != 0)
		fail("cancel: memory the cancelled transaction wrote reads %ld, not 0",
		     *(long *)after);
}

static void check_retry(struct mine *m)
{
	sm_txn_t t;

	runs = 0;
	SM_TXN_BEGIN(&t);
	m->counter++;
	if (++runs < 3)
		sm_txn_retry(&t);
	if (sm_txn_commit(&t) != 0)
		fail("retry: sm_txn_commit did not return 0");
	if (runs != 3 || m->counter != 1)
		fail("retry: %d runs, counter %ld (want 3 and 1)", runs, m->counter);
}

static long *word(long *pages, int i)
{
	return pages + (size_t)i * page_size() / sizeof(long);
}

static void check_pages(struct mine *m)
{
	sm_txn_t t;

	runs = 0;
	SM_TXN_BEGIN(&t);
	runs++;
	for (int i = 0; i < PAGES; i++)
		*word(m->pages, i) = (runs == 1 ? -1 : 1000 * nid + i);
	if (runs == 1)
		sm_txn_retry(&t);
	sm_txn_commit(&t);
	SM_TXN_BEGIN(&t);
	for (int i = 0; i < PAGES; i++)
		*word(m->pages, i) = -2;
	sm_txn_cancel(&t);
	for (int i = 0; i < PAGES; i++)
		if (*word(m->pages, i) != 1000 * nid + i)
			fail("pages: page %d holds %ld, not %d", i, *word(m->pages, i), 1000 * nid + i);
}

static void check_nesting(struct mine *m)
{
	sm_txn_t outer, inner;
	int r;

	m->nested[0] = m->nested[1] = 0;
	SM_TXN_BEGIN(&outer);
	m->nested[0] = 1;
	SM_TXN_BEGIN(&inner);
	m->nested[1] = 2;
	if ((r = sm_txn_commit(&inner)) != 0)
		fail("nesting: the inner commit returned %d", r);
	if ((r = sm_txn_commit(&outer)) != 0)
		fail("nesting: the outer commit returned %d", r);
	if (m->nested[0] != 1 || m->nested[1] != 2)
		fail("nesting: committed %ld %ld, not 1 2", m->nested[0], m->nested[1]);

	SM_TXN_BEGIN(&outer);
	m->nested[0] = 3;
	SM_TXN_BEGIN(&inner);
	m->nested[1] = 4;
	sm_txn_cancel(&inner);
	if ((r = sm_txn_commit(&outer)) != SM_TXN_CANCELLED)
		fail("nesting: the outer commit after an inner cancel returned %d", r);
	if (m->nested[0] != 1 || m->nested[1] != 2)
		fail("nesting: after an inner cancel %ld %ld, not 1 2", m->nested[0], m->nested[1]);

	runs = 0;
	SM_TXN_BEGIN(&outer);
	runs++;
	m->nested[0]++;
	SM_TXN_BEGIN(&inner);
	if (runs == 1)
		sm_txn_retry(&inner);
	m->nested[1]++;
	sm_txn_commit(&inner);
	sm_txn_commit(&outer);
	if (runs != 2 || m->nested[0] != 2 || m->nested[1] != 3)
		fail("nesting: an inner retry: %d runs, %ld %ld (want 2 runs, 2 3)", runs,
		     m->nested[0], m->nested[1]);
}

/* (UBSan would stop the node before the signal, which is what is tested) */
__attribute__((no_sanitize("null", "integer-divide-by-zero"))) static void
check_signals(struct mine *m)
{
	sm_txn_t t;

	m->signalled = 0;
	runs = 0;
	SM_TXN_BEGIN(&t);
	m->signalled++;
	if (++runs == 1)
		sink = *null_pointer; /* SIGSEGV outside the region */
	sm_txn_commit(&t);
	if (runs != 2 || m->signalled != 1)
		fail("SIGSEGV: %d runs, %ld (want 2 and 1)", runs, m->signalled);

	runs = 0;
	SM_TXN_BEGIN(&t);
	m->signalled++;
	zero_divisor = runs++;
	sink = 100 / zero_divisor; /* SIGFPE at the first run */
	sm_txn_commit(&t);
	if (runs != 2 || m->signalled != 2)
		fail("SIGFPE: %d runs, %ld (want 2 and 2)", runs, m->signalled);
}

int main(int argc, char **argv)
{
	struct mine **all, *m, *next;

	join(&argc, &argv);
	all = shared_from_node0((size_t)nodes * sizeof(*all));
	m = shared_alloc(sizeof(*m));
	m->pages = shared_alloc(PAGES * page_size());
	all[nid] = m;
	sm_barrier();

	check_cancel(m);
	check_retry(m);
	check_pages(m);
	check_nesting(m);
	check_signals(m);
	sm_barrier();

	/* what the node before this one committed, seen from here */
	next = all[(nid + nodes - 1) % nodes];
	{
		int owner = (nid + nodes - 1) % nodes;

		for (int i = 0; i < PAGES; i++)
			if (*word(next->pages, i) != 1000 * owner + i)
				fail("node %d's page %d reads %ld here, not %d", owner, i,
				     *word(next->pages, i), 1000 * owner + i);
		if (next->value != 1 || next->counter != 1 || next->nested[0] != 2 ||
		    next->nested[1] != 3 || next->signalled != 2)
			fail("node %d's results read %ld %ld %ld %ld %ld here", owner, next->value,
			     next->counter, next->nested[0], next->nested[1], next->signalled);
	}
	sm_barrier();
	if (nid == 0)
		printf("txnmisc: ok: %d nodes\n", nodes);
	sm_node_exit();
	return 0;
}
