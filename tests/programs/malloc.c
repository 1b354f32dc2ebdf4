/*
 * malloc.c - concurrent sm_malloc on every node, then exhaustion.
 *
 * Run with a small region (dsm -s 4M). First every node checks that three
 * consecutive 16-byte allocations are disjoint and that two of them share a
 * page (small allocations are packed). Phase 1: every node makes 200
 * allocations of 1..300 bytes, three of 5000 and two of 20000 bytes, checks
 * 16-byte alignment and that each reads as zero, fills every byte with a
 * signature of (node, index) and records (ptr, size) in a shared table that
 * node 0 allocated and broadcast. After a barrier every node sorts all
 * ranges of all nodes, checks they are pairwise disjoint and that every byte
 * still holds its signature. Phase 2: every node allocates 4096-byte blocks
 * until sm_malloc returns NULL, filling each block completely; then a second
 * sm_malloc(4096) must also return NULL, and sm_malloc(0) / sm_malloc(1)
 * must not crash (NULL or a sane pointer). After a barrier each node checks
 * its blocks and its phase-1 ranges are intact (an overlap with any other
 * node's block would have overwritten them); node 0 reports the totals.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sm.h"
#include "check.h"

static size_t ps;

#define NSMALL 3                /* the three 16-byte allocations */
#define NALLOC 200              /* phase 1 allocations per node */
#define CAP (NSMALL + NALLOC)   /* table entries per node */
#define BLOCK 4096              /* phase 2 block size */
#define MAX_BLOCKS (1L << 16)   /* 256 MiB per node: the region is far smaller */

struct rec {
	uintptr_t ptr;
	size_t size;
};

struct range {
	uintptr_t ptr;
	size_t size;
	int node, idx;
};

static size_t size_of(int idx, int node)
{
	if (idx < NSMALL)
		return 16;
	int k = idx - NSMALL;
	if (k % 67 == 33)   /* k = 33, 100, 167 */
		return 5000;
	if (k % 100 == 50)  /* k = 50, 150 */
		return 20000;
	return 1 + (size_t)((k * 37 + node * 11) % 300);
}

static unsigned char sig(int node, int idx, size_t j)
{
	uint32_t h = (uint32_t)(node + 1) * 0x9e3779b1u;
	h ^= (uint32_t)(idx + 1) * 0x85ebca77u;
	h ^= (uint32_t)j * 0xc2b2ae3du;
	h ^= h >> 15;
	h *= 0x27d4eb2fu;
	h ^= h >> 13;
	return (unsigned char)h;
}

static uint64_t block_word(int node, long idx, size_t j)
{
	return ((uint64_t)(node + 1) << 48) | ((uint64_t)idx << 16) | (uint64_t)j;
}

static void *xmalloc(size_t size)
{
	void *p = malloc(size);
	if (p == NULL)
		fail("out of private memory");
	return p;
}

/* Allocate, check alignment and zero contents, fill with the signature. */
static struct rec alloc_signed(int idx)
{
	size_t size = size_of(idx, nid);
	unsigned char *p = sm_malloc(size);
	if (p == NULL)
		fail("phase 1: sm_malloc(%zu) (allocation %d) returned NULL; "
		     "the region should be large enough (run with -s 4M)", size, idx);
	if ((uintptr_t)p % 16 != 0)
		fail("phase 1: sm_malloc(%zu) = %p is not 16-byte aligned", size, (void *)p);
	for (size_t j = 0; j < size; j++)
		if (p[j] != 0)
			fail("phase 1: sm_malloc(%zu) = %p: byte %zu reads %u, expected 0",
			     size, (void *)p, j, p[j]);
	for (size_t j = 0; j < size; j++)
		p[j] = sig(nid, idx, j);
	return (struct rec){ (uintptr_t)p, size };
}

static void check_signed(const struct range *r, const char *when)
{
	const unsigned char *p = (const unsigned char *)r->ptr;
	if (r->size != size_of(r->idx, r->node))
		fail("%s: allocation %d of node %d has size %zu in the table, expected %zu",
		     when, r->idx, r->node, r->size, size_of(r->idx, r->node));
	for (size_t j = 0; j < r->size; j++)
		if (p[j] != sig(r->node, r->idx, j))
			fail("%s: allocation %d of node %d [%p, +%zu): byte %zu = 0x%02x, expected 0x%02x",
			     when, r->idx, r->node, (void *)p, r->size, j, p[j],
			     sig(r->node, r->idx, j));
}

static int by_ptr(const void *x, const void *y)
{
	const struct range *a = x, *b = y;
	return (a->ptr > b->ptr) - (a->ptr < b->ptr);
}

int main(int argc, char *argv[])
{
	join(&argc, &argv);
	ps = page_size();

	struct rec mine[CAP];

	/* Three consecutive 16-byte allocations: disjoint, two in one page. */
	for (int i = 0; i < NSMALL; i++)
		mine[i] = alloc_signed(i);
	for (int i = 0; i < NSMALL; i++)
		for (int j = i + 1; j < NSMALL; j++)
			if (mine[i].ptr < mine[j].ptr + 16 && mine[j].ptr < mine[i].ptr + 16)
				fail("16-byte allocations %p and %p overlap",
				     (void *)mine[i].ptr, (void *)mine[j].ptr);
	if (mine[0].ptr / ps != mine[1].ptr / ps && mine[1].ptr / ps != mine[2].ptr / ps)
		fail("consecutive 16-byte allocations %p, %p, %p: no two consecutive ones "
		     "share a page", (void *)mine[0].ptr, (void *)mine[1].ptr,
		     (void *)mine[2].ptr);
	sm_barrier();

	/* The shared table, followed by one phase-2 count per node. */
	size_t tsize = (size_t)nodes * CAP * sizeof(struct rec) + (size_t)nodes * sizeof(uint64_t);
	struct rec *table = NULL;
	if (nid == 0)
		table = shared_alloc(tsize);
	sm_bcast((void **)&table, 0);
	if (table == NULL || (uintptr_t)table % 16 != 0)
		fail("sm_bcast gave a bad table pointer %p", (void *)table);
	uint64_t *nblocks = (uint64_t *)(table + (size_t)nodes * CAP);

	/* Phase 1. */
	for (int i = NSMALL; i < CAP; i++)
		mine[i] = alloc_signed(i);
	for (int i = 0; i < CAP; i++) {
		struct range r = { mine[i].ptr, mine[i].size, nid, i };
		check_signed(&r, "phase 1, own allocations");
	}
	for (int i = 0; i < CAP; i++) {
		struct rec *t = &table[(size_t)nid * CAP + (size_t)i];
		if (t->ptr != 0 || t->size != 0)
			fail("table entry %d of this node is not zero before being written", i);
	}
	memcpy(&table[(size_t)nid * CAP], mine, sizeof(mine));
	sm_barrier();

	size_t total = (size_t)nodes * CAP;
	struct range *all = xmalloc(total * sizeof(*all));
	for (int k = 0; k < nodes; k++)
		for (int i = 0; i < CAP; i++) {
			struct rec t = table[(size_t)k * CAP + (size_t)i];
			if (t.ptr == 0)
				fail("table entry %d of node %d is empty", i, k);
			all[(size_t)k * CAP + (size_t)i] = (struct range){ t.ptr, t.size, k, i };
		}
	for (size_t i = 0; i < total; i++)
		check_signed(&all[i], "phase 1, after the barrier");
	qsort(all, total, sizeof(*all), by_ptr);
	for (size_t i = 0; i + 1 < total; i++)
		if (all[i].ptr + all[i].size > all[i + 1].ptr)
			fail("allocation %d of node %d [%p, +%zu) overlaps allocation %d of node %d [%p, +%zu)",
			     all[i].idx, all[i].node, (void *)all[i].ptr, all[i].size,
			     all[i + 1].idx, all[i + 1].node, (void *)all[i + 1].ptr,
			     all[i + 1].size);
	free(all);
	sm_barrier();

	/* Phase 2: exhaust the region. */
	long n = 0, cap = 64;
	uint64_t **blocks = xmalloc((size_t)cap * sizeof(*blocks));
	for (;;) {
		uint64_t *b = sm_malloc(BLOCK);
		if (b == NULL)
			break;
		if ((uintptr_t)b % 16 != 0)
			fail("phase 2: sm_malloc(%d) = %p is not 16-byte aligned", BLOCK, (void *)b);
		if (n == MAX_BLOCKS)
			fail("phase 2: sm_malloc(%d) still succeeds after %ld blocks; "
			     "run with a small region (-s 4M)", BLOCK, n);
		if (n == cap) {
			cap *= 2;
			blocks = realloc(blocks, (size_t)cap * sizeof(*blocks));
			if (blocks == NULL)
				fail("out of private memory");
		}
		for (size_t j = 0; j < BLOCK / sizeof(uint64_t); j++)
			b[j] = block_word(nid, n, j);
		blocks[n++] = b;
	}
	void *again = sm_malloc(BLOCK);
	if (again != NULL)
		fail("phase 2: sm_malloc(%d) returned NULL, then %p", BLOCK, again);

	unsigned char *z = sm_malloc(0);
	if (z != NULL && (uintptr_t)z % 16 != 0)
		fail("phase 2: sm_malloc(0) = %p is not 16-byte aligned", (void *)z);
	unsigned char *one = sm_malloc(1);
	if (one != NULL) {
		if ((uintptr_t)one % 16 != 0)
			fail("phase 2: sm_malloc(1) = %p is not 16-byte aligned", (void *)one);
		for (long i = 0; i < n; i++)
			if ((uintptr_t)one >= (uintptr_t)blocks[i] &&
			    (uintptr_t)one < (uintptr_t)blocks[i] + BLOCK)
				fail("phase 2: sm_malloc(1) = %p lies in block %ld %p",
				     (void *)one, i, (void *)blocks[i]);
		for (int i = 0; i < CAP; i++)
			if ((uintptr_t)one >= mine[i].ptr && (uintptr_t)one < mine[i].ptr + mine[i].size)
				fail("phase 2: sm_malloc(1) = %p lies in allocation %d", (void *)one, i);
		if (*one != 0)
			fail("phase 2: sm_malloc(1) = %p reads %u, expected 0", (void *)one, *one);
		*one = 0x5a;
		if (*(volatile unsigned char *)one != 0x5a)
			fail("phase 2: sm_malloc(1) = %p does not keep a written byte", (void *)one);
	}
	nblocks[nid] = (uint64_t)n;
	sm_barrier();

	for (long i = 0; i < n; i++)
		for (size_t j = 0; j < BLOCK / sizeof(uint64_t); j++)
			if (blocks[i][j] != block_word(nid, i, j))
				fail("phase 2: block %ld %p word %zu = 0x%016llx, expected 0x%016llx "
				     "(overlapping allocation?)", i, (void *)blocks[i], j,
				     (unsigned long long)blocks[i][j],
				     (unsigned long long)block_word(nid, i, j));
	for (int i = 0; i < CAP; i++) {
		struct range r = { mine[i].ptr, mine[i].size, nid, i };
		check_signed(&r, "after phase 2");
	}
	if (nid == 0) {
		uint64_t sum = 0;
		for (int k = 0; k < nodes; k++)
			sum += nblocks[k];
		printf("malloc: %d nodes, phase 2 got %llu blocks of %d bytes (%llu KiB) "
		       "before sm_malloc returned NULL\n", nodes, (unsigned long long)sum,
		       BLOCK, (unsigned long long)sum * BLOCK / 1024);
	}
	free(blocks);
	sm_barrier();
	sm_node_exit();
	return 0;
}
