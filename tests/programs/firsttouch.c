/*
 * firsttouch.c - large sm_mallocs are placed on first touch: their pages
 * belong to nobody until a node touches one, which then gets it (zero) with
 * no data on the wire; a write fault claims a run of such pages.
 *
 *  zero     a fresh 64-page array reads as zero on every node, all reading
 *           at once, twice, in opposite directions on odd nodes.
 *  slices   a 4 MiB array (broadcast with sm_bcast): every node writes its
 *           own slice (all words but the last of each page), leaving the
 *           last 8 pages untouched; after a barrier every node checks every
 *           slice, the last words and the untouched pages (zero).
 *  race     all nodes write at once to the same fresh pages, each its own
 *           two words of every page (one near the start, one near the end):
 *           once all starting at page 0, once each starting elsewhere and
 *           odd nodes going backwards. Every node then checks every word of
 *           every page: each node's words, zero elsewhere; nothing lost.
 *  readfirst  fresh pages read by one node, then written by another (half
 *           of each page), then read by everyone; also a fresh page read by
 *           every node at once, then written by one.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <string.h>

#include "sm.h"
#include "check.h"

static size_t ps, pw; /* page size, 64-bit words per page */

static uint64_t val(unsigned tag, unsigned who, size_t page, size_t word)
{
	return ((uint64_t)(tag & 0xff) << 56) | ((uint64_t)(who & 0xffff) << 40) |
	       ((uint64_t)(page & 0xffffff) << 16) | ((uint64_t)(word & 0xfff) << 4) | 0x9;
}

static void mismatch(const char *what, size_t page, size_t word, uint64_t got, uint64_t want)
{
	fail("%s: page %zu word %zu = 0x%016llx, expected 0x%016llx", what, page, word,
	     (unsigned long long)got, (unsigned long long)want);
}

static void check_zero(const char *what, const uint64_t *a, size_t first, size_t n, int backwards)
{
	for (size_t k = 0; k < n; k++) {
		size_t p = backwards ? first + n - 1 - k : first + k;

		for (size_t i = 0; i < pw; i++)
			if (a[p * pw + i] != 0)
				mismatch(what, p, i, a[p * pw + i], 0);
	}
}

/* ---- zero -------------------------------------------------------------- */

static void zero(void)
{
	uint64_t *a = shared_pages_from_node0(64);

	check_zero("fresh memory", a, 0, 64, nid % 2);
	check_zero("fresh memory, again", a, 0, 64, !(nid % 2));
	sm_barrier();
}

/* ---- slices ------------------------------------------------------------ */

#define BIG_BYTES (4u << 20)
#define UNTOUCHED 8 /* pages at the end nobody writes */

static void slices(void)
{
	void *p = NULL;
	size_t npages = BIG_BYTES / ps, used = npages - UNTOUCHED;
	size_t per = used / (size_t)nodes;

	if (nid == 0)
		p = shared_alloc(BIG_BYTES);
	sm_bcast(&p, 0);
	if (p == NULL || (uintptr_t)p % ps)
		fail("slices: sm_bcast gave %p (want a page-aligned pointer)", p);
	uint64_t *a = p;
	/* node k writes pages [k*per, (k+1)*per); the last node also the rest */
	size_t first = (size_t)nid * per, end = nid == nodes - 1 ? used : first + per;

	for (size_t pg = first; pg < end; pg++)
		for (size_t i = 0; i + 1 < pw; i++)
			a[pg * pw + i] = val(1, (unsigned)nid, pg, i);
	sm_barrier();
	for (size_t pg = 0; pg < used; pg++) {
		unsigned owner = (unsigned)(pg / per < (size_t)nodes ? pg / per : (size_t)nodes - 1);

		for (size_t i = 0; i + 1 < pw; i++)
			if (a[pg * pw + i] != val(1, owner, pg, i))
				mismatch("slices", pg, i, a[pg * pw + i], val(1, owner, pg, i));
		if (a[pg * pw + pw - 1] != 0)
			mismatch("slices, last word never written", pg, pw - 1, a[pg * pw + pw - 1], 0);
	}
	check_zero("slices, untouched pages", a, used, UNTOUCHED, 0);
	sm_barrier();
}

/* ---- race -------------------------------------------------------------- */

#define RACE_PAGES 24

/* node k's two words of each page */
static size_t word_lo(int k)
{
	return (size_t)k;
}

static size_t word_hi(int k)
{
	return pw - 1 - (size_t)k;
}

static void race(int staggered, unsigned tag)
{
	uint64_t *a = shared_pages_from_node0(RACE_PAGES);

	sm_barrier(); /* everyone starts at once */
	for (size_t k = 0; k < RACE_PAGES; k++) {
		size_t pg = k;

		if (staggered) {
			size_t start = (size_t)nid * RACE_PAGES / (size_t)nodes;

			pg = nid % 2 ? (start + RACE_PAGES - k) % RACE_PAGES : (start + k) % RACE_PAGES;
		}
		a[pg * pw + word_lo(nid)] = val(tag, (unsigned)nid, pg, word_lo(nid));
		a[pg * pw + word_hi(nid)] = val(tag, (unsigned)nid, pg, word_hi(nid));
	}
	sm_barrier();
	for (size_t pg = 0; pg < RACE_PAGES; pg++)
		for (size_t i = 0; i < pw; i++) {
			uint64_t want = 0;

			if (i < (size_t)nodes)
				want = val(tag, (unsigned)i, pg, i);
			else if (i >= pw - (size_t)nodes)
				want = val(tag, (unsigned)(pw - 1 - i), pg, i);
			if (a[pg * pw + i] != want)
				mismatch(staggered ? "race, staggered" : "race, all from page 0", pg, i,
					 a[pg * pw + i], want);
		}
	sm_barrier();
}

/* ---- readfirst --------------------------------------------------------- */

#define RF_PAGES 16

static void readfirst(void)
{
	uint64_t *a = shared_pages_from_node0(RF_PAGES);
	int reader = 0, writer = 1 % nodes;

	/* one node reads the fresh pages (a read run of pages nobody has) */
	if (nid == reader)
		check_zero("readfirst, fresh", a, 0, RF_PAGES, 0);
	sm_barrier();
	/* another writes half of every page: it needs the page, zero */
	if (nid == writer)
		for (size_t pg = 0; pg < RF_PAGES; pg++)
			for (size_t i = 0; i < pw; i += 2)
				a[pg * pw + i] = val(4, (unsigned)writer, pg, i);
	sm_barrier();
	for (size_t pg = 0; pg < RF_PAGES; pg++)
		for (size_t i = 0; i < pw; i++) {
			uint64_t want = i % 2 ? 0 : val(4, (unsigned)writer, pg, i);

			if (a[pg * pw + i] != want)
				mismatch("readfirst", pg, i, a[pg * pw + i], want);
		}
	sm_barrier();

	/* every node reads one fresh page at once, then the last node writes */
	uint64_t *b = shared_pages_from_node0(RF_PAGES);
	size_t pg = RF_PAGES / 2;

	sm_barrier();
	check_zero("readfirst, shared fresh page", b, pg, 1, 0);
	sm_barrier();
	if (nid == nodes - 1)
		b[pg * pw + 7] = val(5, (unsigned)nid, pg, 7);
	sm_barrier();
	for (size_t i = 0; i < pw; i++) {
		uint64_t want = i == 7 ? val(5, (unsigned)(nodes - 1), pg, 7) : 0;

		if (b[pg * pw + i] != want)
			mismatch("readfirst, shared fresh page after the write", pg, i,
				 b[pg * pw + i], want);
	}
	/* the pages around it were never touched */
	check_zero("readfirst, neighbours", b, 0, pg, 0);
	check_zero("readfirst, neighbours", b, pg + 1, RF_PAGES - pg - 1, 1);
	sm_barrier();
}

int main(int argc, char *argv[])
{
	join(&argc, &argv);
	ps = page_size();
	pw = ps / sizeof(uint64_t);
	if (argc != 1)
		fail("usage: firsttouch");
	zero();
	slices();
	race(0, 2);
	race(1, 3);
	readfirst();
	sm_node_exit();
	return 0;
}
