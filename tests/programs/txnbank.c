/*
 * txnbank.c - the bank test of transactions (sm_txn(3)).
 *
 * usage: dsm -n N ./txnbank [T [spread]]   (T transfers per node, default 2000)
 *
 * 1,000 accounts of 1,000 each in shared memory, packed (8 bytes each, two
 * pages) or, with "spread", one per page. Every node makes T random
 * transfers (from, to, amount 1..100), each in a transaction that cancels
 * itself when the source cannot pay. Each node logs the transfers it
 * committed in private memory. At the end the logs are gathered with
 * sm_bcast_buf and every node checks that:
 *  - the sum of the balances is unchanged (1,000,000);
 *  - replaying every node's log from the initial balances gives exactly the
 *    final balance of every account;
 *  - no balance is negative (a transfer that would overdraw is cancelled).
 * Node 0 prints one line: committed, cancelled and attempts (restarts
 * included) of every node.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sm.h"
#include "check.h"

#define ACCOUNTS 1000
#define INITIAL 1000
#define SPREAD 512 /* int64 per page */

struct transfer {
	uint16_t from, to;
	uint32_t amount;
};

static int64_t *accounts;
static size_t stride = 1;

static int64_t *account(unsigned k)
{
	return &accounts[k * stride];
}

static uint64_t rng;
static uint32_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

/* counted by the transaction's code itself: each run, restarts included */
static volatile unsigned long attempts;

/* One transfer in a transaction: 1 committed, 0 cancelled (no funds). */
static int transfer(unsigned from, unsigned to, int64_t amount)
{
	sm_txn_t t;

	SM_TXN_BEGIN(&t);
	attempts++;
	if (*account(from) < amount) {
		sm_txn_cancel(&t);
		return 0;
	}
	*account(from) -= amount;
	*account(to) += amount;
	if (sm_txn_commit(&t) != 0)
		fail("sm_txn_commit of a flat transaction did not return 0");
	return 1;
}

int main(int argc, char **argv)
{
	long per_node;
	struct transfer *log;
	uint32_t committed = 0, cancelled = 0;
	int64_t *replay;
	unsigned long stats[3];

	join(&argc, &argv);
	per_node = number_arg(argc, argv, 2000, 1, 1000000, "txnbank [T [spread]]");
	if (argc > 2) {
		if (strcmp(argv[2], "spread") != 0)
			fail("usage: txnbank [T [spread]] (got '%s')", argv[2]);
		stride = SPREAD;
	}
	accounts = shared_from_node0(ACCOUNTS * stride * sizeof(int64_t));
	if (nid == 0)
		for (unsigned k = 0; k < ACCOUNTS; k++)
			*account(k) = INITIAL;
	sm_barrier();

	log = malloc((size_t)per_node * sizeof(*log));
	replay = calloc(ACCOUNTS, sizeof(*replay));
	if (!log || !replay)
		fail("out of memory");
	rng = 0x9e3779b97f4a7c15ull * (uint64_t)(nid + 1);
	for (long i = 0; i < per_node; i++) {
		unsigned from = next() % ACCOUNTS, to = next() % (ACCOUNTS - 1);
		uint32_t amount = 1 + next() % 100;

		if (to >= from)
			to++;
		if (transfer(from, to, amount)) {
			log[committed].from = (uint16_t)from;
			log[committed].to = (uint16_t)to;
			log[committed].amount = amount;
			committed++;
		} else {
			cancelled++;
		}
	}
	sm_barrier();

	/* every node's log, to everyone; replayed from the initial balances */
	for (unsigned k = 0; k < ACCOUNTS; k++)
		replay[k] = INITIAL;
	for (int root = 0; root < nodes; root++) {
		uint32_t count = committed;
		struct transfer *theirs = log;

		sm_bcast_buf(&count, sizeof(count), root);
		if (root != nid) {
			theirs = malloc((size_t)count * sizeof(*theirs) + 1);
			if (!theirs)
				fail("out of memory");
		}
		sm_bcast_buf(theirs, (size_t)count * sizeof(*theirs), root);
		for (uint32_t i = 0; i < count; i++) {
			replay[theirs[i].from] -= theirs[i].amount;
			replay[theirs[i].to] += theirs[i].amount;
		}
		if (theirs != log)
			free(theirs);
		stats[0] = committed, stats[1] = cancelled, stats[2] = attempts;
		sm_bcast_buf(stats, sizeof(stats), root);
		if (nid == 0)
			printf("txnbank: node %d: %lu committed, %lu cancelled, %lu attempts\n", root,
			       stats[0], stats[1], stats[2]);
	}
	{
		int64_t sum = 0;

		for (unsigned k = 0; k < ACCOUNTS; k++) {
			int64_t have = *account(k);

			sum += have;
			if (have != replay[k])
				fail("account %u holds %lld, but the logs replay to %lld", k,
				     (long long)have, (long long)replay[k]);
			if (have < 0)
				fail("account %u is overdrawn: %lld", k, (long long)have);
		}
		if (sum != (int64_t)ACCOUNTS * INITIAL)
			fail("the balances sum to %lld, not %d", (long long)sum, ACCOUNTS * INITIAL);
	}
	free(log);
	free(replay);
	sm_barrier();
	if (nid == 0)
		printf("txnbank: ok: %d nodes, %ld transfers each, %s\n", nodes, per_node,
		       stride == 1 ? "packed" : "spread");
	sm_node_exit();
	return 0;
}
