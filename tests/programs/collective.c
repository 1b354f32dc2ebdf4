/*
 * collective.c - sm_malloc_collective: many collective allocations of mixed
 * sizes (0 and 1 byte up to 3 MiB), interleaved with node 0's sm_malloc.
 *
 * Every node makes the same calls in the same order and checks that:
 *   - each allocation is non-NULL and 16-byte aligned;
 *   - every node got the same addresses (node 0's list, sent to all with
 *     sm_bcast_buf, equals this node's);
 *   - the allocations do not overlap each other nor node 0's sm_malloc;
 *   - the many small ones are packed (160 allocations of 16 bytes or less
 *     touch at most 2 pages, not 160);
 *   - fresh memory reads as zero;
 *   - each node writes its own slice of every allocation and, after a
 *     barrier, reads every other node's slice back;
 *   - a request larger than the region gives NULL on every node, and the
 *     next one works again.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sm.h"
#include "check.h"

#define SMALL 160

/* The sizes every node asks for, in order: mixed, then many small ones. */
static const size_t mixed[] = {
	1, 16, 8, 24, 100, 0, 4095, 4096, 4097, 8 * 4096, 8 * 4096 + 1, 3 << 20, 17, 1000,
	200000, 3, 64, 12345, (3 << 20) - 5, 40,
};
#define NMIXED (sizeof(mixed) / sizeof(mixed[0]))
#define NALL (NMIXED + SMALL)

static size_t size_of(size_t i)
{
	return i < NMIXED ? mixed[i] : 1 + (i * 7) % 16; /* 1 .. 16 bytes */
}

static uint8_t pattern(size_t alloc, size_t byte, int owner)
{
	return (uint8_t)(alloc * 31u + byte * 7u + (unsigned)owner * 101u + 1u);
}

/* The bytes of allocation i that node k writes. */
static void slice(size_t i, int k, size_t *lo, size_t *hi)
{
	size_t n = size_of(i);

	*lo = n * (size_t)k / (size_t)nodes;
	*hi = n * (size_t)(k + 1) / (size_t)nodes;
}

static size_t rounded(size_t n)
{
	return n ? (n + 15) / 16 * 16 : 16;
}

int main(int argc, char *argv[])
{
	static uintptr_t mine[NALL], node0s[NALL];
	uint8_t *p[NALL];
	uint8_t *plain = NULL;

	join(&argc, &argv);
	for (size_t i = 0; i < NALL; i++) {
		p[i] = sm_malloc_collective(size_of(i));
		if (p[i] == NULL)
			fail("sm_malloc_collective(%zu) (call %zu) returned NULL", size_of(i), i);
		if ((uintptr_t)p[i] % 16)
			fail("sm_malloc_collective(%zu) = %p is not 16-byte aligned", size_of(i),
			     (void *)p[i]);
		mine[i] = (uintptr_t)p[i];
		/* node 0's own sm_malloc now and then: another arena */
		if (i % 50 == 7 && nid == 0 && !plain)
			plain = shared_alloc(100);
	}
	bcast_pointer(&plain, 0);

	/* the same addresses everywhere: node 0's list against this node's */
	if (nid == 0)
		memcpy(node0s, mine, sizeof(mine));
	sm_bcast_buf(node0s, sizeof(node0s), 0);
	for (size_t i = 0; i < NALL; i++)
		if (node0s[i] != mine[i])
			fail("allocation %zu (%zu bytes): node 0 got %p, this node %p", i, size_of(i),
			     (void *)node0s[i], (void *)mine[i]);

	/* disjoint from each other and from node 0's sm_malloc */
	for (size_t i = 0; i < NALL; i++) {
		uintptr_t a0 = mine[i], a1 = a0 + rounded(size_of(i));

		if ((uintptr_t)plain < a1 && a0 < (uintptr_t)plain + 100)
			fail("allocation %zu [%p,%p) overlaps node 0's sm_malloc %p", i, (void *)a0,
			     (void *)a1, (void *)plain);
		for (size_t j = 0; j < i; j++) {
			uintptr_t b0 = mine[j], b1 = b0 + rounded(size_of(j));

			if (a0 < b1 && b0 < a1)
				fail("allocations %zu [%p,%p) and %zu [%p,%p) overlap", i, (void *)a0,
				     (void *)a1, j, (void *)b0, (void *)b1);
		}
	}

	/* the small ones share pages: they touch two at most */
	uintptr_t pages[2] = {0, 0};
	for (size_t i = NMIXED; i < NALL; i++) {
		uintptr_t pg = mine[i] / 4096, end = (mine[i] + size_of(i) - 1) / 4096;

		for (uintptr_t q = pg; q <= end; q++) {
			if (q == pages[0] || q == pages[1])
				continue;
			if (pages[1])
				fail("%d small allocations (at most 16 bytes) touch more than 2 pages: "
				     "not packed (allocation %zu at %p)", SMALL, i, (void *)mine[i]);
			pages[pages[0] ? 1 : 0] = q;
		}
	}

	/* zero when fresh */
	for (size_t i = 0; i < NALL; i++)
		for (size_t b = 0; b < size_of(i); b++)
			if (p[i][b] != 0)
				fail("allocation %zu (%zu bytes): byte %zu is 0x%02x, not 0", i,
				     size_of(i), b, p[i][b]);
	sm_barrier();

	/* each node its own slice, then everybody reads everything */
	for (size_t i = 0; i < NALL; i++) {
		size_t lo, hi;

		slice(i, nid, &lo, &hi);
		for (size_t b = lo; b < hi; b++)
			p[i][b] = pattern(i, b, nid);
	}
	sm_barrier();
	for (size_t i = 0; i < NALL; i++)
		for (int k = 0; k < nodes; k++) {
			size_t lo, hi;

			slice(i, k, &lo, &hi);
			for (size_t b = lo; b < hi; b++)
				if (p[i][b] != pattern(i, b, k))
					fail("allocation %zu: byte %zu (node %d's) is 0x%02x, not 0x%02x",
					     i, b, k, p[i][b], pattern(i, b, k));
		}

	/* more than the region: NULL everywhere; then it works again */
	if (sm_malloc_collective((size_t)1 << 40) != NULL)
		fail("sm_malloc_collective(1 TiB) did not return NULL");
	uint8_t *after = sm_malloc_collective(32);
	if (after == NULL || (uintptr_t)after % 16)
		fail("sm_malloc_collective(32) after an exhausted one gave %p", (void *)after);
	uintptr_t a = (uintptr_t)after;
	sm_bcast((void **)&a, nodes - 1);
	if (a != (uintptr_t)after)
		fail("sm_malloc_collective(32): node %d got %p, this node %p", nodes - 1, (void *)a,
		     (void *)after);
	for (int b = 0; b < 32; b++)
		if (after[b] != 0)
			fail("the allocation after an exhausted one is not zero at byte %d", b);

	sm_barrier();
	sm_node_exit();
	return 0;
}
