/*
 * threads.c - threads inside a node: every thread of every node uses shared
 * memory and the sm_ functions (sm(3), Threads).
 *
 * usage: dsm -n N ./threads MODE [THREADS]      (THREADS: 1..16, default 4)
 *
 *   atomic     every thread of every node does COUNT __atomic_fetch_add on
 *              one shared counter; the values each gets back rise strictly,
 *              the counter ends at N*T*COUNT, and node 0 checks that every
 *              value from 0 to N*T*COUNT-1 was returned exactly once;
 *   falseshare word i of two shared pages belongs to thread i % T of node
 *              (i / T) % N: each writes its words every round, re-reads its
 *              own (exactly this round's value) and the others' (0, or a
 *              round no earlier than the last it saw there), and at the end
 *              every node checks every word's final value;
 *   samepage   in each round all threads of all nodes add 1, at once, to a
 *              word of each of 8 pages (write faults on the same pages at
 *              the same moment, in every node), then read them back at once
 *              (read faults on the same pages) and find exactly round*N*T;
 *   calls      every thread calls sm_malloc, concurrently, and writes its
 *              allocations, which must not overlap; a thread other than the
 *              main one calls sm_barrier and sm_bcast for its node;
 *   blocked    every thread of every node but 0 writes its word of its
 *              node's pages, then blocks in read() on a FIFO, the main
 *              thread too; meanwhile node 0 reads those pages and writes
 *              them (a revoke, then an invalidation, to nodes all of whose
 *              threads sit in read()), and only then writes the FIFOs: a
 *              node that could not answer would hang the job;
 *   collective two threads of node 0 call a collective at once: libsm ends
 *              the node with a message (one thread per node calls them);
 *   private    threads compute in private memory while the main thread
 *              uses shared memory.
 * Exits 0 when every check holds (collective: the node must die).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "check.h"
#include "meet.h"

static struct meet step = MEET_INITIALIZER;

#define MAX_THREADS 16
#define COUNT 400
#define ROUNDS 200
#define SAME_PAGES 8
#define SAME_ROUNDS 20
#define CALLS 40

static const char *mode;
static int nthreads;
static size_t ps;

/* ---- atomic ------------------------------------------------------------ */

static uint64_t *counter;
static uint32_t *got; /* per (node, thread): the values it was given */

static void atomic_worker(int t)
{
	uint64_t total = (uint64_t)nodes * (uint64_t)nthreads * COUNT, prev = 0;
	uint32_t mine[COUNT];

	meet(&step);
	for (int i = 0; i < COUNT; i++) {
		uint64_t v = __atomic_fetch_add(counter, 1, __ATOMIC_SEQ_CST);

		if (v >= total || (i > 0 && v <= prev))
			fail("thread %d increment %d: fetch_add returned %llu after %llu (total %llu)",
			     t, i, (unsigned long long)v, (unsigned long long)prev,
			     (unsigned long long)total);
		prev = v;
		mine[i] = (uint32_t)v;
	}
	memcpy(got + ((size_t)nid * (size_t)nthreads + (size_t)t) * COUNT, mine, sizeof(mine));
}

static void atomic_check(void)
{
	uint64_t total = (uint64_t)nodes * (uint64_t)nthreads * COUNT;
	uint64_t c = __atomic_load_n(counter, __ATOMIC_SEQ_CST);
	unsigned char *seen;

	if (c != total)
		fail("counter = %llu, expected %llu", (unsigned long long)c,
		     (unsigned long long)total);
	if (nid != 0)
		return;
	seen = calloc((size_t)total, 1);
	if (!seen)
		fail("out of private memory");
	for (uint64_t i = 0; i < total; i++) {
		if (got[i] >= total || seen[got[i]])
			fail("value %u returned twice or out of range (slot %llu)", got[i],
			     (unsigned long long)i);
		seen[got[i]] = 1;
	}
	free(seen);
}

/* ---- falseshare -------------------------------------------------------- */

static uint64_t *words;

static size_t nwords(void)
{
	return 2 * ps / sizeof(uint64_t);
}

static int owner_of(size_t i)
{
	return (int)(i % ((size_t)nodes * (size_t)nthreads));
}

static uint64_t val(size_t i, long r)
{
	return ((uint64_t)i << 32) | (uint64_t)r;
}

static void falseshare_worker(int t)
{
	int me = nid * nthreads + t, owners = nodes * nthreads;
	long *last = calloc(nwords(), sizeof(*last));

	if (!last)
		fail("out of private memory");
	meet(&step);
	for (long r = 1; r <= ROUNDS; r++) {
		/* relaxed atomics: threads read each other's words (no data race
		 * for ThreadSanitizer; plain moves on x86) */
		for (size_t i = (size_t)me; i < nwords(); i += (size_t)owners)
			__atomic_store_n(&words[i], val(i, r), __ATOMIC_RELAXED);
		if (r % 25 != 0)
			continue;
		for (size_t i = 0; i < nwords(); i++) {
			uint64_t v = __atomic_load_n(&words[i], __ATOMIC_RELAXED);
			long seen = (long)(v & 0xffffffffu);

			if (owner_of(i) == me && v != val(i, r))
				fail("thread %d round %ld: own word %zu = 0x%llx", t, r, i,
				     (unsigned long long)v);
			if (v != 0 && ((v >> 32) != i || seen < last[i] || seen > ROUNDS))
				fail("thread %d round %ld: word %zu = 0x%llx after round %ld", t, r, i,
				     (unsigned long long)v, last[i]);
			last[i] = seen;
		}
	}
	free(last);
}

static void falseshare_check(void)
{
	for (size_t i = 0; i < nwords(); i++)
		if (words[i] != val(i, ROUNDS))
			fail("word %zu = 0x%llx at the end", i, (unsigned long long)words[i]);
}

/* ---- samepage ---------------------------------------------------------- */

static uint64_t *same; /* SAME_PAGES pages; word 0 of each is its counter */

static void samepage_worker(int t)
{
	uint64_t want;

	for (int r = 1; r <= SAME_ROUNDS; r++) {
		meet(&step); /* all at once */
		for (int p = 0; p < SAME_PAGES; p++)
			__atomic_fetch_add(&same[(size_t)p * ps / 8], 1, __ATOMIC_SEQ_CST);
		meet(&step);
		meet(&step); /* every node is done: the main thread's barrier */
		want = (uint64_t)r * (uint64_t)nodes * (uint64_t)nthreads;
		for (int p = 0; p < SAME_PAGES; p++) {
			uint64_t v = __atomic_load_n(&same[(size_t)p * ps / 8], __ATOMIC_SEQ_CST);

			if (v != want || same[(size_t)p * ps / 8 + 1] != (uint64_t)p + 7)
				fail("thread %d round %d: page %d counts %llu, expected %llu", t, r, p,
				     (unsigned long long)v, (unsigned long long)want);
		}
		meet(&step);
	}
}

/* The main thread's part: the barriers among nodes between the steps. */
static void samepage_main(void)
{
	for (int r = 1; r <= SAME_ROUNDS; r++) {
		meet(&step);
		meet(&step);
		sm_barrier();
		meet(&step);
		meet(&step);
		sm_barrier(); /* nobody adds again before everyone has read */
	}
}

/* ---- calls ------------------------------------------------------------- */

struct span {
	uintptr_t start, end;
};
static struct span spans[MAX_THREADS][CALLS];

static void calls_worker(int t)
{
	meet(&step);
	for (int i = 0; i < CALLS; i++) {
		size_t size = 16 + (size_t)((t * 131 + i * 977) % 3) * 1000 + (i % 7 == 0 ? 40000 : 0);
		uint8_t *p = shared_alloc(size);

		memset(p, (t * CALLS + i) & 0xff, size);
		spans[t][i] = (struct span){(uintptr_t)p, (uintptr_t)p + size};
	}
	for (int i = 0; i < CALLS; i++)
		for (uintptr_t a = spans[t][i].start; a < spans[t][i].end; a += 499)
			if (*(uint8_t *)a != ((t * CALLS + i) & 0xff))
				fail("thread %d: allocation %d changed at %#lx", t, i, (unsigned long)a);
	if (t == nthreads - 1) {
		/* the node's collectives, from another thread than main's */
		void *p = nid == 0 ? (void *)spans[t][0].start : NULL;

		sm_barrier();
		sm_bcast(&p, 0);
		if (*(uint8_t *)p != ((t * CALLS) & 0xff))
			fail("thread %d: node 0's allocation reads %u", t, *(uint8_t *)p);
		sm_barrier();
	}
}

static int by_start(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static void calls_check(void)
{
	struct span *all = &spans[0][0];
	size_t n = (size_t)nthreads * CALLS;

	qsort(all, n, sizeof(*all), by_start);
	for (size_t i = 1; i < n; i++)
		if (all[i].start < all[i - 1].end)
			fail("allocations overlap: %#lx..%#lx and %#lx", (unsigned long)all[i - 1].start,
			     (unsigned long)all[i - 1].end, (unsigned long)all[i].start);
}

/* ---- blocked ----------------------------------------------------------- */

#define BLOCK_PAGES 4

static uint64_t *blk; /* BLOCK_PAGES pages per node */
static int fifo_fd = -1;

static uint64_t *blk_page(int k, int p)
{
	return blk + ((size_t)k * BLOCK_PAGES + (size_t)p) * (ps / 8);
}

static uint64_t blk_val(int k, int t, int p)
{
	return ((uint64_t)k << 16 | (uint64_t)t << 8 | (uint64_t)p) + 1;
}

static void fifo_name(char *out, size_t len, long pid, int k)
{
	snprintf(out, len, "/tmp/dsm-threads-blocked-%ld-%d", pid, k);
}

/* Block in read() until node 0 writes a byte into this node's FIFO. */
static void block_in_read(int t)
{
	char c;
	ssize_t n;

	while ((n = read(fifo_fd, &c, 1)) < 0 && errno == EINTR)
		;
	if (n != 1)
		fail("thread %d: read from the FIFO: %s", t, n < 0 ? strerror(errno) : "end of file");
}

static void blocked_worker(int t)
{
	if (nid == 0)
		return;
	for (int p = 0; p < BLOCK_PAGES; p++)
		blk_page(nid, p)[t] = blk_val(nid, t, p);
	meet(&step); /* written */
	meet(&step); /* every node has: node 0 takes them now */
	block_in_read(t);
}

/* Node 0: sleep until a deadline (SIGIO cuts sleeps short: sm(3)). */
static void nap_ms(long ms)
{
	struct timespec until;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_nsec += ms * 1000000;
	until.tv_sec += until.tv_nsec / 1000000000;
	until.tv_nsec %= 1000000000;
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL) == EINTR)
		;
}

static void blocked_main(long pid)
{
	char name[96];

	if (nid != 0) {
		meet(&step);
		sm_barrier();
		meet(&step);
		block_in_read(nthreads);
		return;
	}
	sm_barrier();
	nap_ms(200); /* let the others reach their read()s */
	for (int k = 1; k < nodes; k++)
		for (int p = 0; p < BLOCK_PAGES; p++)
			for (int t = 0; t < nthreads; t++)
				if (blk_page(k, p)[t] != blk_val(k, t, p))
					fail("node %d page %d word %d = %llu", k, p, t,
					     (unsigned long long)blk_page(k, p)[t]);
	for (int k = 1; k < nodes; k++)
		for (int p = 0; p < BLOCK_PAGES; p++)
			blk_page(k, p)[nthreads] = 1; /* and their read copies go */
	for (int k = 1; k < nodes; k++) {
		char bytes[MAX_THREADS + 1];
		int fd;

		fifo_name(name, sizeof(name), pid, k);
		memset(bytes, 'x', sizeof(bytes));
		if ((fd = open(name, O_WRONLY)) < 0 ||
		    write(fd, bytes, (size_t)nthreads + 1) != nthreads + 1)
			fail("writing %s: %s", name, strerror(errno));
		close(fd);
		unlink(name);
	}
}

/* Node 0 makes a FIFO for each other node, which opens its own. */
static long blocked_setup(void)
{
	void *pid = (void *)(intptr_t)getpid();
	char name[96];

	blk = shared_pages_from_node0((size_t)nodes * BLOCK_PAGES);
	for (int k = 1; k < nodes && nid == 0; k++) {
		fifo_name(name, sizeof(name), (long)(intptr_t)pid, k);
		unlink(name);
		if (mkfifo(name, 0600) < 0)
			fail("mkfifo %s: %s", name, strerror(errno));
	}
	sm_bcast(&pid, 0);
	if (nid != 0) {
		fifo_name(name, sizeof(name), (long)(intptr_t)pid, nid);
		/* read and write: its read() waits for bytes, not for a writer */
		if ((fifo_fd = open(name, O_RDWR)) < 0)
			fail("open %s: %s", name, strerror(errno));
	}
	return (long)(intptr_t)pid;
}

/* ---- the rest ---------------------------------------------------------- */

static void collective_worker(int t)
{
	void *p = NULL;

	/* node 1 (the root) never comes: the first call waits, the second is
	 * refused */
	sm_bcast(&p, 1);
	fail("thread %d: sm_bcast returned", t);
}

static volatile uint64_t sink[MAX_THREADS];

static void *worker(void *arg)
{
	int t = (int)(intptr_t)arg;

	if (strcmp(mode, "atomic") == 0) {
		atomic_worker(t);
	} else if (strcmp(mode, "falseshare") == 0) {
		falseshare_worker(t);
	} else if (strcmp(mode, "samepage") == 0) {
		samepage_worker(t);
	} else if (strcmp(mode, "calls") == 0) {
		calls_worker(t);
	} else if (strcmp(mode, "blocked") == 0) {
		blocked_worker(t);
	} else if (strcmp(mode, "collective") == 0) {
		collective_worker(t);
	} else {
		uint64_t x = (uint64_t)t;

		for (int i = 0; i < 1000000; i++)
			x = x * 6364136223846793005u + 1442695040888963407u;
		sink[t] = x;
	}
	return NULL;
}

int main(int argc, char *argv[])
{
	pthread_t th[MAX_THREADS];
	int barrier_parties;
	long pid = 0;

	join(&argc, &argv);
	if (argc < 2 || argc > 3)
		fail("usage: threads atomic|falseshare|samepage|calls|blocked|collective|private "
		     "[THREADS]");
	mode = argv[1];
	nthreads = argc == 3 ? atoi(argv[2]) : 4;
	if (nthreads < 1 || nthreads > MAX_THREADS)
		fail("THREADS must be 1..%d", MAX_THREADS);
	ps = page_size();
	barrier_parties = strcmp(mode, "samepage") == 0 || strcmp(mode, "blocked") == 0
				  ? nthreads + 1
				  : nthreads;
	step.parties = barrier_parties;
	if (strcmp(mode, "atomic") == 0) {
		size_t table = (size_t)nodes * (size_t)nthreads * COUNT * sizeof(uint32_t);
		uint8_t *page = page_align(shared_from_node0(ps + table + 2 * ps));

		counter = (uint64_t *)page;
		got = (uint32_t *)(page + ps);
	} else if (strcmp(mode, "falseshare") == 0) {
		if (nodes * nthreads > 64)
			fail("at most 64 threads in all");
		words = page_align(shared_from_node0(3 * ps));
	} else if (strcmp(mode, "samepage") == 0) {
		same = shared_pages_from_node0(SAME_PAGES);
		if (nid == 0)
			for (int p = 0; p < SAME_PAGES; p++)
				same[(size_t)p * ps / 8 + 1] = (uint64_t)p + 7;
	} else if (strcmp(mode, "blocked") == 0) {
		pid = blocked_setup();
	} else if (strcmp(mode, "collective") == 0) {
		if (nodes < 2)
			fail("threads collective needs 2 nodes");
		if (nid != 0)
			for (;;)
				pause(); /* the job ends when node 0 dies */
		nthreads = 2;
	} else {
		sm_barrier();
	}
	for (int t = 0; t < nthreads; t++)
		if (pthread_create(&th[t], NULL, worker, (void *)(intptr_t)t) != 0)
			fail("pthread_create failed");
	if (strcmp(mode, "samepage") == 0)
		samepage_main();
	if (strcmp(mode, "blocked") == 0)
		blocked_main(pid);
	if (strcmp(mode, "private") == 0) {
		/* the main thread keeps using shared memory meanwhile */
		uint64_t *mine = shared_alloc(ps);

		for (size_t i = 0; i < ps / 8; i++)
			mine[i] = i;
	}
	for (int t = 0; t < nthreads; t++)
		pthread_join(th[t], NULL);
	sm_barrier();
	if (strcmp(mode, "atomic") == 0)
		atomic_check();
	else if (strcmp(mode, "falseshare") == 0)
		falseshare_check();
	else if (strcmp(mode, "calls") == 0)
		calls_check();
	sm_barrier();
	printf("threads: node %d %s with %d threads ok\n", nid, mode, nthreads);
	return 0;
}
