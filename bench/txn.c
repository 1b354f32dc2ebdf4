/*
 * txn.c - transfers between 1,000 accounts, three ways (sm_txn(3)):
 *   txn     each transfer in a transaction
 *   global  each under one sm_lock_t that every node takes
 *   per     each under the locks of its two accounts (lower index first)
 * with the accounts packed (8 bytes each: two pages) or spread (one per
 * page). Every node makes T random transfers; node 0 times the whole job
 * between two barriers and prints
 *   RESULT name=txn_bank_MODE_LAYOUT_N per_s=TRANSFERS_PER_SECOND
 *   TXN mode=MODE layout=LAYOUT nodes=N per_s=R aborts=A abort_pct=P
 * (aborts: transaction runs that did not commit, all nodes together; 0 for
 * the locks). Usage: dsm -n N txn MODE LAYOUT [T]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sm.h"
#include "stats.h"

#define ACCOUNTS 1000
#define SPREAD 512 /* int64 per page */

static int64_t *accounts;
static size_t stride = 1;
static sm_lock_t *locks, *global;
static volatile unsigned long runs;

static uint64_t rng;
static uint32_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

static void move(unsigned from, unsigned to, int64_t amount)
{
	accounts[from * stride] -= amount;
	accounts[to * stride] += amount;
}

static void by_txn(unsigned from, unsigned to, int64_t amount)
{
	sm_txn_t t;

	SM_TXN_BEGIN(&t);
	runs++;
	move(from, to, amount);
	sm_txn_commit(&t);
}

static void by_global(unsigned from, unsigned to, int64_t amount)
{
	sm_lock(global);
	move(from, to, amount);
	sm_unlock(global);
}

static void by_account(unsigned from, unsigned to, int64_t amount)
{
	unsigned lo = from < to ? from : to, hi = from < to ? to : from;

	sm_lock(&locks[lo]);
	sm_lock(&locks[hi]);
	move(from, to, amount);
	sm_unlock(&locks[hi]);
	sm_unlock(&locks[lo]);
}

int main(int argc, char **argv)
{
	int nodes, me;
	long per_node;
	void (*transfer)(unsigned, unsigned, int64_t);
	unsigned long *slots;
	double t0 = 0;
	char name[64];

	if (sm_node_init(&argc, &argv, &nodes, &me) != 0)
		return 1;
	if (argc < 3) {
		fprintf(stderr, "usage: txn txn|global|per packed|spread [T]\n");
		return 2;
	}
	transfer = strcmp(argv[1], "txn") == 0 ? by_txn
		   : strcmp(argv[1], "global") == 0 ? by_global : by_account;
	if (strcmp(argv[2], "spread") == 0)
		stride = SPREAD;
	per_node = argc > 3 ? atol(argv[3]) : 2000;
	accounts = sm_malloc_collective(ACCOUNTS * stride * sizeof(int64_t));
	locks = sm_malloc_collective(ACCOUNTS * sizeof(sm_lock_t));
	global = sm_malloc_collective(sizeof(sm_lock_t));
	slots = sm_malloc_collective((size_t)nodes * 64);
	if (!accounts || !locks || !global || !slots)
		return 1;
	if (me == 0)
		for (unsigned k = 0; k < ACCOUNTS; k++)
			accounts[k * stride] = 1000;
	rng = 0x9e3779b97f4a7c15ull * (uint64_t)(me + 1);
	sm_barrier();
	if (me == 0)
		t0 = now_us();
	for (long i = 0; i < per_node; i++) {
		unsigned from = next() % ACCOUNTS, to = next() % (ACCOUNTS - 1);

		if (to >= from)
			to++;
		transfer(from, to, 1 + next() % 100);
	}
	slots[me * 8] = runs;
	sm_barrier();
	if (me == 0) {
		double us = now_us() - t0, rate = (double)nodes * per_node / (us / 1e6);
		unsigned long all = 0, aborts;
		int64_t sum = 0;

		for (int k = 0; k < nodes; k++)
			all += slots[k * 8];
		aborts = transfer == by_txn ? all - (unsigned long)nodes * per_node : 0;
		for (unsigned k = 0; k < ACCOUNTS; k++)
			sum += accounts[k * stride];
		if (sum != (int64_t)ACCOUNTS * 1000) {
			fprintf(stderr, "txn: the balances sum to %lld\n", (long long)sum);
			return 1;
		}
		snprintf(name, sizeof(name), "txn_bank_%s_%s_%d", argv[1], argv[2], nodes);
		report_value(name, "per_s", rate);
		printf("TXN mode=%s layout=%s nodes=%d per_s=%.0f aborts=%lu abort_pct=%.1f\n",
		       argv[1], argv[2], nodes, rate, aborts,
		       all ? 100.0 * (double)aborts / (double)all : 0.0);
	}
	sm_node_exit();
	return 0;
}
