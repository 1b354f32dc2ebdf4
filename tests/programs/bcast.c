/*
 * bcast.c - sm_bcast of pointers, from root 0 and from root N-1.
 *
 * Node 0 allocates an array of a little more than 3 pages, fills it with a
 * known pattern and broadcasts the pointer (root 0); every node checks every
 * element. Each node then overwrites its own disjoint slice and, after a
 * barrier, every node checks the whole array. Node N-1 then allocates a second
 * array, fills it and broadcasts it (root N-1); every node checks it, checks
 * that it is disjoint from the first one, that every node received the same
 * pointer, and that the first array is still intact.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "sm.h"
#include "check.h"


/* Bogus value a non-root node holds before sm_bcast; must be overwritten. */
#define NOT_YET ((void *)(uintptr_t)0xdead0)

static uint32_t pat1(size_t i)
{
	return (uint32_t)(i * 2654435761u) ^ 0xa5a5a5a5u;
}

static uint32_t pat2(size_t i, int owner)
{
	return 0x80000000u | ((uint32_t)owner << 24) | (uint32_t)i;
}

static uint64_t pat3(size_t i)
{
	return ((uint64_t)(nodes - 1) << 56) ^ ((uint64_t)i * 0x9e3779b97f4a7c15ull);
}

static size_t slice_lo(int k, size_t count)
{
	return (size_t)k * count / (size_t)nodes;
}

static void check_pointer(const void *p, const char *what, const void *before)
{
	if (p == NULL)
		fail("%s: sm_bcast left NULL", what);
	if (p == before)
		fail("%s: sm_bcast did not overwrite this node's value %p", what, p);
	if ((uintptr_t)p % 16 != 0)
		fail("%s: pointer %p is not 16-byte aligned", what, p);
}

static void check_sliced(const uint32_t *a, size_t count, const char *when)
{
	for (int k = 0; k < nodes; k++)
		for (size_t i = slice_lo(k, count); i < slice_lo(k + 1, count); i++)
			if (a[i] != pat2(i, k))
				fail("%s: a[%zu] = 0x%08x, expected 0x%08x (slice of node %d)",
				     when, i, a[i], pat2(i, k), k);
}

int main(int argc, char *argv[])
{
	join(&argc, &argv);

	size_t ps = page_size();
	size_t count = 3 * ps / sizeof(uint32_t) + 37;   /* 3 pages + 148 bytes */
	size_t count2 = 2 * ps / sizeof(uint64_t) + 5;   /* 2 pages + 40 bytes */

	/* Part 1: root 0. */
	uint32_t *a = NOT_YET;
	if (nid == 0) {
		a = shared_alloc(count * sizeof(*a));
		for (size_t i = 0; i < count; i++) {
			if (a[i] != 0)
				fail("fresh a[%zu] = 0x%08x, expected 0", i, a[i]);
			a[i] = pat1(i);
		}
	}
	sm_bcast((void **)&a, 0);
	if (nid != 0)
		check_pointer(a, "first array (root 0)", NOT_YET);
	for (size_t i = 0; i < count; i++)
		if (a[i] != pat1(i))
			fail("after bcast: a[%zu] = 0x%08x, expected 0x%08x", i, a[i], pat1(i));
	sm_barrier();

	/* Each node rewrites its own slice; then everybody checks everything. */
	for (size_t i = slice_lo(nid, count); i < slice_lo(nid + 1, count); i++)
		a[i] = pat2(i, nid);
	for (size_t i = slice_lo(nid, count); i < slice_lo(nid + 1, count); i++)
		if (a[i] != pat2(i, nid))
			fail("own slice: a[%zu] = 0x%08x right after writing 0x%08x",
			     i, a[i], pat2(i, nid));
	sm_barrier();
	check_sliced(a, count, "after slice writes");

	/* A table (root 0) where every node records the pointer it receives. */
	uintptr_t *seen = NOT_YET;
	if (nid == 0)
		seen = shared_alloc((size_t)nodes * sizeof(*seen));
	sm_bcast((void **)&seen, 0);
	if (nid != 0)
		check_pointer(seen, "table (root 0)", NOT_YET);

	/* Part 2: root N-1. */
	uint64_t *b = NOT_YET;
	if (nid == nodes - 1) {
		b = shared_alloc(count2 * sizeof(*b));
		for (size_t i = 0; i < count2; i++) {
			if (b[i] != 0)
				fail("fresh b[%zu] = 0x%016llx, expected 0", i,
				     (unsigned long long)b[i]);
			b[i] = pat3(i);
		}
	}
	sm_bcast((void **)&b, nodes - 1);
	if (nid != nodes - 1)
		check_pointer(b, "second array (root N-1)", NOT_YET);
	for (size_t i = 0; i < count2; i++)
		if (b[i] != pat3(i))
			fail("after bcast from node %d: b[%zu] = 0x%016llx, expected 0x%016llx",
			     nodes - 1, i, (unsigned long long)b[i], (unsigned long long)pat3(i));

	uintptr_t a0 = (uintptr_t)a, a1 = a0 + count * sizeof(*a);
	uintptr_t b0 = (uintptr_t)b, b1 = b0 + count2 * sizeof(*b);
	uintptr_t s0 = (uintptr_t)seen, s1 = s0 + (size_t)nodes * sizeof(*seen);
	if ((a0 < b1 && b0 < a1) || (a0 < s1 && s0 < a1) || (b0 < s1 && s0 < b1))
		fail("allocations overlap: a [%p,%p) b [%p,%p) table [%p,%p)",
		     (void *)a0, (void *)a1, (void *)b0, (void *)b1, (void *)s0, (void *)s1);

	seen[nid] = (uintptr_t)b;
	sm_barrier();
	for (int k = 0; k < nodes; k++)
		if (seen[k] != (uintptr_t)b)
			fail("node %d received %p from the root N-1 bcast, this node got %p",
			     k, (void *)seen[k], (void *)b);
	check_sliced(a, count, "at the end");

	sm_barrier();
	sm_node_exit();
	return 0;
}
