/*
 * prefetch_inval.c - pages that came with a run but were not used yet are
 * invalidated, and runs are revoked while other nodes fault inside them.
 *
 *  ahead    node 0 writes a 192-page array (12 chunks of 16 pages). In
 *           round r the scanners (node 1 forwards; nodes 2.. forwards or
 *           backwards) read chunk r and check it; node 1's sequential scan
 *           makes its runs reach chunks ahead of r. After a barrier node 0
 *           rewrites the odd pages of chunk r+1 and the even pages of chunk
 *           r+2, invalidating copies the scanners got with their runs and
 *           have not read yet. So when chunk c is scanned its odd pages hold
 *           version c and its even pages version c-1 (0 before), and a
 *           stale prefetched copy shows.
 *  overlap  node 0 writes a 160-page array; then every other node reads a
 *           96-page range of it starting 8 pages after the previous node's,
 *           all at once, so a node faults on pages inside another's run
 *           while node 0 is answering that run's revoke; meanwhile node 0
 *           first-touches an array of its own, and node N-1 (N >= 3) writes
 *           one word in every fourth page of the ranges, which a reader may
 *           see old or new, and everyone must see new after the barrier.
 *           Four rounds, the ranges shifting each round.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <string.h>

#include "sm.h"
#include "check.h"

static size_t ps, pw; /* page size, 64-bit words per page */

static uint64_t val(unsigned tag, unsigned ver, size_t page, size_t word)
{
	return ((uint64_t)(tag & 0xff) << 56) | ((uint64_t)(ver & 0xff) << 48) |
	       ((uint64_t)(page & 0xffffff) << 24) | ((uint64_t)(word & 0xfff) << 12) | 0x5;
}

static void mismatch(const char *what, unsigned round, size_t page, size_t word, uint64_t got,
		     uint64_t want)
{
	fail("%s, round %u: page %zu word %zu = 0x%016llx, expected 0x%016llx", what, round, page,
	     word, (unsigned long long)got, (unsigned long long)want);
}

static void write_page(uint64_t *a, unsigned tag, unsigned ver, size_t page)
{
	for (size_t i = 0; i < pw; i++)
		a[page * pw + i] = val(tag, ver, page, i);
}

/* ---- ahead ------------------------------------------------------------- */

#define CHUNK 16
#define CHUNKS 12

/* The version of page p when its chunk is scanned, and at the end. */
static unsigned ahead_ver(size_t p)
{
	unsigned c = (unsigned)(p / CHUNK);

	if (p % 2)
		return c >= 1 ? c : 0;  /* rewritten in round c - 1 */
	return c >= 2 ? c - 1 : 0;      /* rewritten in round c - 2 */
}

static void check_ahead_page(const uint64_t *a, size_t p, unsigned round)
{
	for (size_t i = 0; i < pw; i++)
		if (a[p * pw + i] != val(1, ahead_ver(p), p, i))
			mismatch("ahead", round, p, i, a[p * pw + i], val(1, ahead_ver(p), p, i));
}

static void ahead(void)
{
	uint64_t *a = shared_pages_from_node0(CHUNK * CHUNKS);

	if (nid == 0)
		for (size_t p = 0; p < CHUNK * CHUNKS; p++)
			write_page(a, 1, 0, p);
	sm_barrier();
	for (unsigned r = 0; r < CHUNKS; r++) {
		if (nid != 0 || nodes == 1) {
			int backwards = nid >= 2 && nid % 2;

			for (size_t k = 0; k < CHUNK; k++)
				check_ahead_page(a, r * CHUNK + (backwards ? CHUNK - 1 - k : k), r);
		}
		sm_barrier();
		if (nid == 0) {
			for (size_t p = (r + 1) * CHUNK + 1; p < (r + 2) * CHUNK && r + 1 < CHUNKS; p += 2)
				write_page(a, 1, r + 1, p);
			for (size_t p = (r + 2) * CHUNK; p < (r + 3) * CHUNK && r + 2 < CHUNKS; p += 2)
				write_page(a, 1, r + 1, p);
		}
		sm_barrier();
	}
	for (size_t p = 0; p < CHUNK * CHUNKS; p++)
		check_ahead_page(a, p, CHUNKS);
	sm_barrier();
}

/* ---- overlap ----------------------------------------------------------- */

#define OV_PAGES 160
#define OV_RANGE 96
#define OV_ROUNDS 4
#define OV_WORD 3 /* the word node N-1 writes in every fourth page */

static size_t range_start(int k, unsigned round)
{
	return ((size_t)(k - 1) * 8 + round * 5) % (OV_PAGES - OV_RANGE + 1);
}

static void overlap(void)
{
	uint64_t *a = shared_pages_from_node0(OV_PAGES);
	int poker = nodes >= 3 ? nodes - 1 : -1;

	for (unsigned r = 0; r < OV_ROUNDS; r++) {
		uint64_t *own = NULL;

		if (nid == 0) {
			for (size_t p = 0; p < OV_PAGES; p++)
				write_page(a, 2, r, p);
			own = shared_alloc(32 * ps);
		}
		sm_barrier();
		if (nid == 0) {
			/* busy with faults of its own while it answers revokes */
			for (size_t p = 0; p < 32; p++)
				own[p * pw] = val(3, r, p, 0);
			for (size_t p = 0; p < 32; p++)
				if (own[p * pw] != val(3, r, p, 0) || own[p * pw + 1] != 0)
					fail("overlap, round %u: node 0's own page %zu", r, p);
		} else if (nid == poker) {
			for (size_t p = 0; p < OV_PAGES; p += 4)
				a[p * pw + OV_WORD] = val(4, r, p, OV_WORD);
		} else {
			size_t s = range_start(nid, r);

			for (size_t p = s; p < s + OV_RANGE; p++)
				for (size_t i = 0; i < pw; i++) {
					uint64_t got = a[p * pw + i], want = val(2, r, p, i);

					if (got != want &&
					    !(poker >= 0 && p % 4 == 0 && i == OV_WORD &&
					      got == val(4, r, p, OV_WORD)))
						mismatch("overlap, while others read", r, p, i, got, want);
				}
		}
		sm_barrier();
		for (size_t p = 0; p < OV_PAGES; p++)
			for (size_t i = 0; i < pw; i++) {
				uint64_t want = poker >= 0 && p % 4 == 0 && i == OV_WORD
							? val(4, r, p, OV_WORD)
							: val(2, r, p, i);

				if (a[p * pw + i] != want)
					mismatch("overlap, after the barrier", r, p, i, a[p * pw + i], want);
			}
		sm_barrier();
	}
}

int main(int argc, char *argv[])
{
	join(&argc, &argv);
	ps = page_size();
	pw = ps / sizeof(uint64_t);
	if (argc != 1)
		fail("usage: prefetch_inval");
	ahead();
	overlap();
	sm_node_exit();
	return 0;
}
