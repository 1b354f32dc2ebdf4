/*
 * threadsync.c - locks, conditions and transactions used by every thread of
 * every node (sm(3), Threads; sm_lock(3), sm_txn(3)).
 *
 * usage: dsm -n N ./threadsync MODE [THREADS]   (THREADS: 1..16, default 4)
 *
 *   locks  every thread of every node takes one sm_lock_t ROUNDS times and,
 *          holding it, checks that nobody else is inside (an owner word),
 *          and adds 1 to a plain counter in a read, a pause and a write; the
 *          counter ends at N*T*ROUNDS exactly. Every other round it first
 *          tries a second lock that its own node's thread 0 holds meanwhile
 *          some of the time: a try must never succeed while another thread
 *          of the node holds it;
 *   cond   half of all the threads produce ITEMS values each into a queue of
 *          8 slots under one lock with two conditions, the other half
 *          consume as many: every value is taken exactly once;
 *   txn    every thread makes TRANSFERS transfers between ACCOUNTS accounts
 *          on one page, each in a transaction that also counts itself in
 *          the thread's slot; some also sm_malloc and fill a block inside,
 *          some are cancelled. Meanwhile the main thread of each node
 *          allocates with sm_malloc and fills its blocks, outside any
 *          transaction, each on a page of its own (sm_txn(3), Threads). At the end the sum of the balances is unchanged,
 *          every thread's slot equals the transfers it saw committed, and
 *          every block still holds what its owner wrote (a rollback gave
 *          back only the transaction's own allocations).
 *   mallocs thread 0 of every node calls sm_malloc_collective over and over
 *          while the node's other threads call sm_malloc: each waits for a
 *          CHUNK, and each gets its own (the same collective addresses at
 *          every node, plain blocks that nobody else writes).
 * Exits 0 when every check holds.
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "meet.h"

#define MAX_THREADS 16
#define ROUNDS 300
#define ITEMS 200
#define QUEUE 8
#define ACCOUNTS 64
#define TRANSFERS 300
#define START_BALANCE 1000
#define MAIN_BLOCKS 200
#define TXN_BLOCKS (TRANSFERS / 10)

static const char *mode;
static int nthreads;
static size_t ps;
static struct meet step = MEET_INITIALIZER;

/* what node 0 allocates and broadcasts: everything every mode shares */
struct shared {
	sm_lock_t lock, second;
	sm_cond_t not_empty, not_full;
	uint64_t owner;      /* 1 + the global thread inside, or 0 */
	uint64_t counter;
	uint64_t queue[QUEUE];
	uint32_t head, count;
	uint64_t committed[MAX_THREADS * 16]; /* per global thread (txn) */
	int64_t balance[ACCOUNTS];
	uint8_t seen[]; /* per value (cond) */
};
static struct shared *sh;

static int global(int t)
{
	return nid * nthreads + t;
}

/* ---- locks ------------------------------------------------------------- */

static volatile int second_held; /* this node's thread 0 holds `second` */

static void locks_worker(int t)
{
	uint64_t me = (uint64_t)global(t) + 1;

	meet(&step);
	for (int r = 0; r < ROUNDS; r++) {
		volatile uint64_t v;

		if (t == 0 && r % 4 == 0) {
			sm_lock(&sh->second);
			second_held = 1;
		} else if (t != 0 && r % 2 == 0 && sm_trylock(&sh->second) == 0) {
			if (second_held)
				fail("thread %d took a lock its node's thread 0 holds", t);
			sm_unlock(&sh->second);
		}
		sm_lock(&sh->lock);
		if (sh->owner != 0)
			fail("thread %d round %d: global thread %llu is inside the lock too", t, r,
			     (unsigned long long)sh->owner - 1);
		sh->owner = me;
		v = sh->counter;
		for (int i = 0; i < 50; i++)
			__asm__ volatile("" ::: "memory");
		sh->counter = v + 1;
		if (sh->owner != me)
			fail("thread %d round %d: the owner word changed under the lock", t, r);
		sh->owner = 0;
		sm_unlock(&sh->lock);
		if (t == 0 && r % 4 == 0) {
			second_held = 0;
			sm_unlock(&sh->second);
		}
	}
}

static void locks_check(void)
{
	uint64_t want = (uint64_t)nodes * (uint64_t)nthreads * ROUNDS;

	if (sh->counter != want)
		fail("counter = %llu under the lock, expected %llu",
		     (unsigned long long)sh->counter, (unsigned long long)want);
}

/* ---- cond -------------------------------------------------------------- */

static void cond_worker(int t)
{
	int g = global(t);

	meet(&step);
	for (int i = 0; i < ITEMS; i++) {
		sm_lock(&sh->lock);
		if (g % 2 == 0) {
			while (sh->count == QUEUE)
				sm_cond_wait(&sh->not_full, &sh->lock);
			sh->queue[(sh->head + sh->count) % QUEUE] = (uint64_t)g / 2 * ITEMS + (uint64_t)i;
			sh->count++;
			sm_cond_signal(&sh->not_empty);
		} else {
			uint64_t v;

			while (sh->count == 0)
				sm_cond_wait(&sh->not_empty, &sh->lock);
			v = sh->queue[sh->head];
			sh->head = (sh->head + 1) % QUEUE;
			sh->count--;
			if (v >= (uint64_t)nodes * (uint64_t)nthreads / 2 * ITEMS || sh->seen[v])
				fail("thread %d took value %llu twice or out of range", t,
				     (unsigned long long)v);
			sh->seen[v] = 1;
			sm_cond_signal(&sh->not_full);
		}
		sm_unlock(&sh->lock);
	}
}

static void cond_check(void)
{
	uint64_t values = (uint64_t)nodes * (uint64_t)nthreads / 2 * ITEMS;

	if (sh->count != 0)
		fail("%u values left in the queue", sh->count);
	for (uint64_t v = 0; v < values; v++)
		if (!sh->seen[v])
			fail("value %llu was never taken", (unsigned long long)v);
}

/* ---- txn --------------------------------------------------------------- */

static uint64_t mine_committed[MAX_THREADS];
static volatile int txn_threads_done;

/* A block's contents: who wrote it and which one. */
static void fill(uint64_t *b, uint64_t tag)
{
	for (int i = 0; i < 8; i++)
		b[i] = tag * 8 + (uint64_t)i;
}

static void check_block(const uint64_t *b, uint64_t tag, const char *whose)
{
	for (int i = 0; i < 8; i++)
		if (b[i] != tag * 8 + (uint64_t)i)
			fail("%s block %llx: word %d is %llx, expected %llx", whose,
			     (unsigned long long)tag, i, (unsigned long long)b[i],
			     (unsigned long long)(tag * 8 + (uint64_t)i));
}

static void txn_worker(int t)
{
	int g = global(t);
	uint64_t *blocks[TXN_BLOCKS];
	uint64_t tags[TXN_BLOCKS];
	int nblocks = 0;

	meet(&step);
	for (int i = 0; i < TRANSFERS; i++) {
		/* everything the transaction uses comes from i: a restart
		 * computes it again */
		uint32_t h = (uint32_t)(g * 7919 + i * 104729) * 2654435761u;
		int a = (int)(h % ACCOUNTS), b = (int)((h >> 8) % ACCOUNTS);
		int64_t amount = (int64_t)(h >> 16) % 50;
		uint64_t *volatile block = NULL;
		sm_txn_t tx;

		SM_TXN_BEGIN(&tx);
		sh->balance[a] -= amount;
		sh->balance[b] += amount;
		sh->committed[g]++;
		if (i % 10 == 3) {
			block = sm_malloc(8 * sizeof(uint64_t));
			if (!block)
				fail("sm_malloc in a transaction returned NULL");
			fill(block, (uint64_t)g << 32 | (uint64_t)i);
		}
		if (i % 7 == 5) {
			sm_txn_cancel(&tx);
			continue;
		}
		if (sm_txn_commit(&tx) != 0)
			fail("sm_txn_commit returned non-zero");
		mine_committed[t]++;
		if (block) {
			blocks[nblocks] = block;
			tags[nblocks++] = (uint64_t)g << 32 | (uint64_t)i;
		}
	}
	for (int k = 0; k < nblocks; k++)
		check_block(blocks[k], tags[k], "a transaction's");
	__atomic_add_fetch(&txn_threads_done, 1, __ATOMIC_SEQ_CST);
}

/* The main thread: plain allocations while the others run transactions. */
static uint64_t *main_blocks[MAIN_BLOCKS];
static int main_nblocks;

static uint64_t main_tag(int k)
{
	return (uint64_t)0xfeedu << 40 | (uint64_t)nid << 20 | (uint64_t)k;
}

static void txn_main(void)
{
	while (__atomic_load_n(&txn_threads_done, __ATOMIC_SEQ_CST) < nthreads &&
	       main_nblocks < MAIN_BLOCKS) {
		/* a page of its own: outside a transaction, a thread must not
		 * write a page another thread's transaction writes (sm_txn(3)) */
		uint64_t *b = sm_malloc(2 * ps);

		if (!b)
			fail("sm_malloc beside transactions returned NULL");
		b = page_align(b);
		fill(b, main_tag(main_nblocks));
		main_blocks[main_nblocks++] = b;
	}
}

static void txn_check(void)
{
	int64_t sum = 0;

	for (int k = 0; k < main_nblocks; k++)
		check_block(main_blocks[k], main_tag(k), "the main thread's");
	for (int a = 0; a < ACCOUNTS; a++)
		sum += sh->balance[a];
	if (sum != (int64_t)ACCOUNTS * START_BALANCE)
		fail("the balances sum to %lld, expected %lld", (long long)sum,
		     (long long)ACCOUNTS * START_BALANCE);
	for (int t = 0; t < nthreads; t++)
		if (sh->committed[global(t)] != mine_committed[t])
			fail("thread %d counted %llu commits in shared memory, %llu seen", t,
			     (unsigned long long)sh->committed[global(t)],
			     (unsigned long long)mine_committed[t]);
}

/* ---- mallocs ------------------------------------------------------------ */

#define COLL_ALLOCS 40
#define PLAIN_ALLOCS 120

/* Node 0's collective allocations, which every node compares with its own. */
static uintptr_t *coll_addr;

/* Thread 0: sm_malloc_collective, the node's one collective caller; the
 * others: sm_malloc at the same time. Both wait for a CHUNK, and each must
 * get its own. */
static void mallocs_worker(int t)
{
	meet(&step);
	if (t == 0) {
		for (int k = 0; k < COLL_ALLOCS; k++) {
			uintptr_t a = (uintptr_t)sm_malloc_collective((size_t)(k % 3 + 1) * 4096);

			if (!a)
				fail("sm_malloc_collective returned NULL");
			if (nid == 0)
				coll_addr[k] = a;
			sm_barrier();
			if (coll_addr[k] != a)
				fail("collective allocation %d: %#lx here, %#lx at node 0", k,
				     (unsigned long)a, (unsigned long)coll_addr[k]);
		}
		return;
	}
	uint64_t *mine[PLAIN_ALLOCS];

	for (int k = 0; k < PLAIN_ALLOCS; k++) {
		/* every fourth one larger than 8 pages: a MALLOC of its own */
		mine[k] = sm_malloc(k % 4 == 0 ? 9 * 4096 : 8 * sizeof(uint64_t));
		if (!mine[k])
			fail("sm_malloc returned NULL");
		fill(mine[k], (uint64_t)global(t) << 32 | (uint64_t)k);
	}
	for (int k = 0; k < PLAIN_ALLOCS; k++)
		check_block(mine[k], (uint64_t)global(t) << 32 | (uint64_t)k, "an sm_malloc");
}

/* ---- main -------------------------------------------------------------- */

static void *worker(void *arg)
{
	int t = (int)(intptr_t)arg;

	if (strcmp(mode, "locks") == 0)
		locks_worker(t);
	else if (strcmp(mode, "cond") == 0)
		cond_worker(t);
	else if (strcmp(mode, "mallocs") == 0)
		mallocs_worker(t);
	else
		txn_worker(t);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t th[MAX_THREADS];
	size_t values;

	join(&argc, &argv);
	if (argc < 2 || argc > 3 ||
	    (strcmp(argv[1], "locks") != 0 && strcmp(argv[1], "cond") != 0 &&
	     strcmp(argv[1], "txn") != 0 && strcmp(argv[1], "mallocs") != 0))
		fail("usage: threadsync locks|cond|txn|mallocs [THREADS]");
	mode = argv[1];
	nthreads = argc == 3 ? atoi(argv[2]) : 4;
	if (nthreads < 1 || nthreads > MAX_THREADS || nodes > 16)
		fail("THREADS must be 1..%d, and at most 16 nodes", MAX_THREADS);
	if (strcmp(mode, "cond") == 0 && nodes * nthreads % 2 != 0)
		fail("cond needs an even number of threads in all");
	ps = page_size();
	values = (size_t)nodes * (size_t)nthreads / 2 * ITEMS;
	sh = shared_from_node0(sizeof(*sh) + values);
	coll_addr = shared_from_node0(COLL_ALLOCS * sizeof(*coll_addr));
	if (nid == 0)
		for (int a = 0; a < ACCOUNTS; a++)
			sh->balance[a] = START_BALANCE;
	sm_barrier();
	step.parties = nthreads;
	for (int t = 0; t < nthreads; t++)
		if (pthread_create(&th[t], NULL, worker, (void *)(intptr_t)t) != 0)
			fail("pthread_create failed");
	if (strcmp(mode, "txn") == 0)
		txn_main();
	for (int t = 0; t < nthreads; t++)
		pthread_join(th[t], NULL);
	sm_barrier();
	if (strcmp(mode, "locks") == 0)
		locks_check();
	else if (strcmp(mode, "cond") == 0)
		cond_check();
	else
		txn_check();
	sm_barrier();
	printf("threadsync: node %d %s with %d threads ok\n", nid, mode, nthreads);
	return 0;
}
