/*
 * exit_grant.c - a node that leaves right after a long write fault must not
 * take pages of that fault with it.
 *
 * A write fault that continues a sequential stream may move up to 256
 * pages, as several run messages; the fault is answered by the first, the
 * others may still be on their way. Node 0 fills one 600-page array per
 * other node. Then every other node k writes one word of the first 256
 * pages of its array, front to back (its window grows to 256 pages), and
 * leaves at once (odd nodes with sm_node_exit, even ones by returning from
 * main): its last fault took pages 255..510 from node 0 (its window), of
 * which it wrote one. Node 0, once everyone has left, reads every array:
 * node k's words where it wrote them, node 0's values everywhere else.
 * A page granted to k after it had written its pages back is lost with it
 * ("shared page ... was lost"), or reads old data.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <string.h>

#include "sm.h"
#include "check.h"

#define PAGES 600
#define WRITTEN 256 /* pages 0..255: the last fault's window is 256 pages */

static size_t ps, pw;

static uint64_t val(int k, size_t page, size_t word)
{
	return 0xe200000000000000ull | ((uint64_t)k << 40) | ((uint64_t)page << 16) | word;
}

int main(int argc, char *argv[])
{
	uint64_t **arrays = NULL;

	join(&argc, &argv);
	ps = page_size();
	pw = ps / sizeof(uint64_t);
	if (argc != 1)
		fail("usage: exit_grant");
	if (nid == 0) {
		arrays = shared_alloc((size_t)nodes * sizeof(*arrays));
		for (int k = 1; k < nodes; k++) {
			uint64_t *a = shared_alloc(PAGES * ps);

			for (size_t p = 0; p < PAGES; p++)
				for (size_t i = 0; i < pw; i++)
					a[p * pw + i] = val(0, p, i);
			arrays[k] = a;
		}
	}
	bcast_pointer(&arrays, 0);
	if (nid != 0) {
		uint64_t *a = arrays[nid];

		for (size_t p = 0; p < WRITTEN; p++)
			a[p * pw + 3] = val(nid, p, 3);
		if (nid % 2)
			sm_node_exit();
		return 0;
	}
	sm_barrier(); /* completes once every other node has left */
	for (int k = 1; k < nodes; k++) {
		const uint64_t *a = arrays[k];

		for (size_t p = 0; p < PAGES; p++)
			for (size_t i = 0; i < pw; i++) {
				uint64_t want = p < WRITTEN && i == 3 ? val(k, p, 3) : val(0, p, i);

				if (a[p * pw + i] != want)
					fail("node %d's array, page %zu word %zu = 0x%016llx, "
					     "expected 0x%016llx",
					     k, p, i, (unsigned long long)a[p * pw + i],
					     (unsigned long long)want);
			}
	}
	sm_node_exit();
	return 0;
}
