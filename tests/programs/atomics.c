/*
 * atomics.c - atomic read-modify-write on shared memory is atomic across
 * nodes, in four forms, each on a page of its own, one after the other:
 *
 *   1. C11 atomic_fetch_add on an _Atomic counter (K per node); the values
 *      each node gets back must rise strictly;
 *   2. a counter built from __atomic_compare_exchange_n loops (K per node);
 *   3. a test-and-set spinlock (atomic_exchange; it spins on a plain load,
 *      yielding the CPU, and gives up after 60 s) protecting a counter that
 *      is not atomic at all: a load, an add and a store (K/4 per node);
 *   4. `lock xadd` of 8 bytes on an operand that straddles a page boundary
 *      (4 bytes on each page: one locked instruction that needs two pages),
 *      L per node (default 10: a locked access split across cache lines is
 *      slow on purpose, with or without dsm, see straddle.c). The kernel's
 *      split-lock detection may forbid it (split_lock_detect=fatal: SIGBUS);
 *      then every node says so once and the part's count is not checked.
 *
 * After a barrier every node checks that each counter is exactly N times
 * the count per node.
 *
 * usage: atomics [K [L]]     (K default 1000, L default 10)
 */
#define _GNU_SOURCE
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "sm.h"
#include "check.h"

_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "64-bit atomics must be lock-free");

static sigjmp_buf on_bus;

static void bus_error(int sig)
{
	(void)sig;
	siglongjmp(on_bus, 1);
}

static double now(void)
{
	struct timespec t;

	if (clock_gettime(CLOCK_MONOTONIC, &t) < 0)
		fail("clock_gettime");
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void check(const char *what, uint64_t got, uint64_t want)
{
	if (got != want)
		fail("%s: %llu, expected %d * %llu = %llu", what, (unsigned long long)got, nodes,
		     (unsigned long long)(want / (uint64_t)nodes), (unsigned long long)want);
}

static void spin_lock(atomic_int *lock)
{
	double t0 = now();
	unsigned long spins = 0;

	while (atomic_exchange_explicit(lock, 1, memory_order_acquire)) {
		/* test before test-and-set: spin on a read copy of the page */
		while (atomic_load_explicit(lock, memory_order_relaxed)) {
			sched_yield();
			if (++spins % 1024 == 0 && now() - t0 > 60)
				fail("spinlock: not acquired in 60 s");
		}
	}
}

static uint64_t lock_xadd(unsigned char *p, uint64_t add)
{
	__asm__ volatile("lock xaddq %0, (%1)" : "+r"(add) : "r"(p) : "memory", "cc");
	return add; /* the value before */
}

int main(int argc, char *argv[])
{
	join(&argc, &argv);

	long k = number_arg(argc, argv, 1000, 4, 10000000, "atomics [K [L]]");
	long l = number_arg(argc - 1, argv + 1, 10, 0, 1000000, "atomics [K [L]]");
	size_t ps = page_size();
	/* seven pages, the same everywhere: six whole ones after the alignment */
	unsigned char *base = page_align(sm_malloc_collective(7 * ps));
	_Atomic uint64_t *added = (_Atomic uint64_t *)base;
	uint64_t *cas = (uint64_t *)(base + ps);
	atomic_int *lock = (atomic_int *)(base + 2 * ps);
	volatile uint64_t *locked = (volatile uint64_t *)(base + 3 * ps);
	unsigned char *straddling = base + 5 * ps - 4; /* pages 4 and 5 */
	volatile int *bus = (volatile int *)(base + 5 * ps + 64); /* per node: SIGBUS */
	uint64_t total = (uint64_t)nodes * (uint64_t)k, prev = 0;
	long done = 0;

	if (!atomic_is_lock_free(added))
		fail("atomic_is_lock_free is false for the shared counter");

	/* 1. atomic_fetch_add */
	sm_barrier();
	for (long i = 0; i < k; i++) {
		uint64_t v = atomic_fetch_add(added, 1);

		if (v >= total || (i > 0 && v <= prev))
			fail("atomic_fetch_add %ld returned %llu (the last one %llu, all end below %llu)",
			     i, (unsigned long long)v, (unsigned long long)prev,
			     (unsigned long long)total);
		prev = v;
	}

	/* 2. compare-and-swap loops */
	sm_barrier();
	for (long i = 0; i < k; i++) {
		uint64_t old = __atomic_load_n(cas, __ATOMIC_RELAXED);

		while (!__atomic_compare_exchange_n(cas, &old, old + 1, 0, __ATOMIC_SEQ_CST,
						    __ATOMIC_RELAXED))
			if (old >= total)
				fail("compare-and-swap: the counter is %llu, beyond %llu",
				     (unsigned long long)old, (unsigned long long)total);
	}

	/* 3. a spinlock around a plain counter */
	sm_barrier();
	for (long i = 0; i < k / 4; i++) {
		spin_lock(lock);
		*locked = *locked + 1;
		atomic_store_explicit(lock, 0, memory_order_release);
	}

	/* 4. lock xadd across two pages, unless the kernel forbids it */
	struct sigaction sa, old_sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = bus_error;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, &old_sa) < 0)
		fail("sigaction(SIGBUS)");
	sm_barrier();
	prev = 0;
	if (sigsetjmp(on_bus, 1) == 0) {
		for (; done < l; done++) {
			uint64_t v = lock_xadd(straddling, 1);

			if (v >= (uint64_t)nodes * (uint64_t)l || (done > 0 && v <= prev))
				fail("lock xadd %ld across pages returned %llu (the last one %llu)",
				     done, (unsigned long long)v, (unsigned long long)prev);
			prev = v;
		}
	} else {
		bus[nid] = 1;
		printf("atomics: node %d: lock xadd on an operand across two pages got SIGBUS: "
		       "the kernel's split-lock detection (split_lock_detect=fatal) forbids a locked "
		       "instruction across cache lines; its count is not checked\n", nid);
	}
	if (sigaction(SIGBUS, &old_sa, NULL) < 0)
		fail("sigaction(SIGBUS)");
	sm_barrier();

	check("atomic_fetch_add counter", atomic_load(added), total);
	check("compare-and-swap counter", __atomic_load_n(cas, __ATOMIC_SEQ_CST), total);
	check("counter under the spinlock", *locked, (uint64_t)nodes * (uint64_t)(k / 4));
	if (atomic_load(lock) != 0)
		fail("the spinlock is still held at the end");
	int any_bus = 0;
	for (int n = 0; n < nodes; n++)
		any_bus |= bus[n];
	if (!any_bus) {
		uint64_t v;

		memcpy(&v, straddling, sizeof(v));
		check("lock xadd counter across pages 4|5", v, (uint64_t)nodes * (uint64_t)l);
	}
	sm_barrier();
	sm_node_exit();
	return 0;
}
