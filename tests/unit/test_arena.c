/*
 * test_arena.c - arena_take (allocator/services.c), the page arithmetic of
 * sm_malloc: chunk size for small and large requests, shrinking near the end
 * of the region, exhaustion, zero-byte requests, and that successive chunks
 * are disjoint and contiguous.
 */
#include <criterion/criterion.h>
#include <stdint.h>

#include "../../allocator/services.h"

#define PG DSM_PAGE_SIZE

Test(arena, small_request_gets_a_whole_chunk)
{
	uint32_t next = 0, first = 999;

	cr_assert_eq(arena_take(&next, 1000, 1, &first), CHUNK_PAGES);
	cr_assert_eq(first, 0u);
	cr_assert_eq(next, CHUNK_PAGES);
	cr_assert_eq(arena_take(&next, 1000, PG, &first), CHUNK_PAGES);
	cr_assert_eq(first, CHUNK_PAGES);
	cr_assert_eq(next, 2 * CHUNK_PAGES);
	/* exactly one chunk's worth is still one chunk */
	cr_assert_eq(arena_take(&next, 1000, (uint64_t)CHUNK_PAGES * PG, &first), CHUNK_PAGES);
	cr_assert_eq(first, 2 * CHUNK_PAGES);
	cr_assert_eq(next, 3 * CHUNK_PAGES);
}

Test(arena, large_request_gets_exactly_its_pages)
{
	uint32_t next = 5, first = 0;

	cr_assert_eq(arena_take(&next, 1000, (uint64_t)CHUNK_PAGES * PG + 1, &first),
		     CHUNK_PAGES + 1);
	cr_assert_eq(first, 5u);
	cr_assert_eq(next, 5 + CHUNK_PAGES + 1);
	cr_assert_eq(arena_take(&next, 1000, 100ull * PG, &first), 100u);
	cr_assert_eq(first, 5 + CHUNK_PAGES + 1);
	cr_assert_eq(next, 5 + CHUNK_PAGES + 1 + 100);
	cr_assert_eq(arena_take(&next, 1000, 100ull * PG - 1, &first), 100u, "rounds up");
}

Test(arena, whole_region_in_one_request)
{
	uint32_t next = 0, first = 7;

	cr_assert_eq(arena_take(&next, 65535, 65535ull * PG, &first), 65535u);
	cr_assert_eq(first, 0u);
	cr_assert_eq(next, 65535u);
}

Test(arena, chunk_shrinks_near_exhaustion)
{
	uint32_t next = 90, first = 0;

	/* 10 pages left, fewer than a chunk: give just what is needed */
	cr_assert_eq(arena_take(&next, 100, 1, &first), 1u);
	cr_assert_eq(first, 90u);
	cr_assert_eq(next, 91u);
	cr_assert_eq(arena_take(&next, 100, 3ull * PG, &first), 3u);
	cr_assert_eq(first, 91u);
	cr_assert_eq(next, 94u);
	/* the last 6 pages exactly */
	cr_assert_eq(arena_take(&next, 100, 6ull * PG, &first), 6u);
	cr_assert_eq(first, 94u);
	cr_assert_eq(next, 100u);
}

Test(arena, exactly_one_chunk_left)
{
	uint32_t next = 100 - CHUNK_PAGES, first = 0;

	cr_assert_eq(arena_take(&next, 100, 1, &first), CHUNK_PAGES);
	cr_assert_eq(first, 100 - CHUNK_PAGES);
	cr_assert_eq(next, 100u);
}

Test(arena, exhausted_returns_zero_and_moves_nothing)
{
	uint32_t next = 100, first = 12345;

	cr_assert_eq(arena_take(&next, 100, 1, &first), 0u);
	cr_assert_eq(next, 100u);
	cr_assert_eq(first, 12345u, "first untouched on failure");
	cr_assert_eq(arena_take(&next, 100, 0, &first), 0u);
	cr_assert_eq(next, 100u);
}

Test(arena, too_large_for_what_is_left)
{
	uint32_t next = 90, first = 12345;

	cr_assert_eq(arena_take(&next, 100, 11ull * PG, &first), 0u);
	cr_assert_eq(next, 90u);
	cr_assert_eq(first, 12345u);
	cr_assert_eq(arena_take(&next, 100, 10ull * PG + 1, &first), 0u);
	cr_assert_eq(next, 90u);
	/* bigger than the whole region */
	next = 0;
	cr_assert_eq(arena_take(&next, 100, 101ull * PG, &first), 0u);
	cr_assert_eq(next, 0u);
	cr_assert_eq(arena_take(&next, 100, DSM_MAX_REGION, &first), 0u);
	cr_assert_eq(next, 0u);
	/* the request fits after all once it is exactly what is left */
	next = 90;
	cr_assert_eq(arena_take(&next, 100, 10ull * PG, &first), 10u);
	cr_assert_eq(first, 90u);
}

Test(arena, zero_bytes_takes_one_page)
{
	uint32_t next = 99, first = 0;

	/* one page left: a zero-byte request still needs (and gets) it */
	cr_assert_eq(arena_take(&next, 100, 0, &first), 1u);
	cr_assert_eq(first, 99u);
	cr_assert_eq(next, 100u);
	/* with room, it is served like any small request */
	next = 0;
	cr_assert_eq(arena_take(&next, 100, 0, &first), CHUNK_PAGES);
	cr_assert_eq(first, 0u);
}

Test(arena, consecutive_ranges_are_disjoint_and_contiguous)
{
	static const uint64_t sizes[] = {1, 0, 70000, 4096, 200000, 5, 123456, 1, 65536, 9};
	const uint32_t npages = 200;
	uint32_t next = 0, expect_first = 0, total = 0;
	int calls = 0;

	for (int round = 0;; round++) {
		uint32_t first = 0xffffffffu;
		uint64_t bytes = sizes[round % 10];
		uint32_t before = next;
		uint32_t got = arena_take(&next, npages, bytes, &first);
		uint64_t need = bytes ? (bytes + PG - 1) / PG : 1;

		if (got == 0) {
			cr_assert_eq(next, before);
			cr_assert_gt(need, npages - before, "refused although %u pages were left",
				     npages - before);
			break;
		}
		calls++;
		cr_assert_eq(first, expect_first, "call %d starts at %u, want %u", calls, first,
			     expect_first);
		uint64_t want = need < CHUNK_PAGES ? CHUNK_PAGES : need;

		if (want > npages - before)
			want = need;
		cr_assert_eq(got, want, "call %d got %u pages for %llu bytes", calls, got,
			     (unsigned long long)bytes);
		cr_assert_eq(next, first + got);
		cr_assert_leq(next, npages);
		expect_first = first + got;
		total += got;
	}
	cr_assert_gt(calls, 5);
	cr_assert_eq(total, next, "ranges cover [0, next) exactly once");
}

Test(arena, huge_request_does_not_wrap_around)
{
	uint32_t next = 0, first = 7;

	cr_assert_eq(arena_take(&next, 100, UINT64_MAX, &first), 0u);
	cr_assert_eq(arena_take(&next, 100, UINT64_MAX - 4094, &first), 0u);
	cr_assert_eq(next, 0u, "an impossible request must not move the arena");
	cr_assert_eq(first, 7u);
}
