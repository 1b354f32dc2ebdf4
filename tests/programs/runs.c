/*
 * runs.c - page runs (several consecutive pages granted, revoked,
 * invalidated, written back in one message) under workloads whose memory
 * contents are checked word for word.
 *
 *  scan       one node writes a 600-page array (long enough for the window
 *             to reach 256 pages, several run messages per fault); every
 *             other node but one scans it at once (read runs, revoke runs);
 *             then the one that did not read rewrites its odd words (write
 *             runs invalidating the same readers on every page) and node 0
 *             its even words (write runs taken from that writer).
 *  readersets node k reads the 16-page blocks b with b % N <= k, so each
 *             block has its own readers; then the last node rewrites two
 *             blocks of every three: write runs that must stop where the
 *             set of readers to invalidate changes.
 *  streams    every node adds three arrays into a fourth, page by page:
 *             four interleaved sequential streams, each its own window.
 *  takeover   a 192-page array written whole by one node, then its even
 *             words by a second node and its odd words by the first again:
 *             write runs taken from another writer, the pages travelling in
 *             the invalidation answers (a lost half-page shows).
 *  boundary   a small allocation and two adjacent 40-page ones: one node
 *             writes both big ones, another takes a stretch across their
 *             boundary, then everyone scans all three as one range.
 *  holders    pages written in blocks of 1 and of 3 pages by node (block %
 *             N): a run of pages held by different nodes; node 0 reads all,
 *             then the others.
 *  exit       (last) every node writes its own 100-page slice; node 0 reads
 *             every third page of the others' slices (revoking single
 *             pages). Then the odd nodes leave at once (sm_node_exit) while
 *             node 0 rewrites the odd words of their slices and the even
 *             nodes read the even slices; the even nodes then return from
 *             main (the exit hook leaves) while node 0 reads the even slices
 *             too; node 0 checks everything once all have left. The pages
 *             come back as runs, some crossing invalidations and revokes.
 *
 * `runs end` (run with dsm -s 1M) does the same at the end of the region:
 * node 0 allocates what is left of it in one piece, so the runs end at the
 * region's last page: written, scanned, taken over by another writer and
 * written back at exit.
 *
 * Which node holds which page is never assumed; only the values are.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <string.h>

#include "sm.h"
#include "check.h"

static size_t ps, pw; /* page size, 64-bit words per page */

/* The value of word `word` of page `page` of array `tag` in version `ver`:
 * never zero, and it says where it belongs. */
static uint64_t val(unsigned tag, unsigned ver, size_t page, size_t word)
{
	return ((uint64_t)(tag & 0xff) << 56) | ((uint64_t)(ver & 0xff) << 48) |
	       ((uint64_t)(page & 0xffffff) << 24) | ((uint64_t)(word & 0xfff) << 12) | 0xabc;
}

static uint64_t *word_at(uint64_t *a, size_t page, size_t word)
{
	return a + page * pw + word;
}

/* Write version ver to pages [first, first+n) of a; words with (word % step
 * == phase) only. */
static void write_pages(uint64_t *a, unsigned tag, unsigned ver, size_t first, size_t n,
			size_t step, size_t phase)
{
	for (size_t p = first; p < first + n; p++)
		for (size_t i = phase; i < pw; i += step)
			*word_at(a, p, i) = val(tag, ver, p, i);
}

static void mismatch(const char *what, size_t page, size_t word, uint64_t got, uint64_t want)
{
	fail("%s: page %zu word %zu = 0x%016llx, expected 0x%016llx", what, page, word,
	     (unsigned long long)got, (unsigned long long)want);
}

/* Read pages [first, first+n) in order and check them: version
 * ver_of(page, word) (0: the word must be zero). */
typedef unsigned (*version_fn)(size_t page, size_t word);

static void check_pages(const char *what, uint64_t *a, unsigned tag, size_t first, size_t n,
			version_fn ver_of)
{
	for (size_t p = first; p < first + n; p++)
		for (size_t i = 0; i < pw; i++) {
			unsigned v = ver_of(p, i);
			uint64_t want = v ? val(tag, v, p, i) : 0, got = *word_at(a, p, i);

			if (got != want)
				mismatch(what, p, i, got, want);
		}
}

/* ---- scan -------------------------------------------------------------- */

/* a window grows 1, 2, 4 ... 256 pages: past 511 pages a fault moves 256 */
#define SCAN_PAGES 600

static unsigned v1(size_t page, size_t word)
{
	(void)page, (void)word;
	return 1;
}

/* after the rewrites: odd words by node z (2), even words by node 0 (3) */
static unsigned v_rewritten(size_t page, size_t word)
{
	(void)page;
	return word % 2 ? 2 : 3;
}

static void scan(void)
{
	uint64_t *a = shared_pages_from_node0(SCAN_PAGES);
	int w = 1 % nodes, z = nodes >= 3 ? nodes - 1 : 0;

	if (nid == w)
		write_pages(a, 1, 1, 0, SCAN_PAGES, 1, 0);
	sm_barrier();
	/* everyone but z reads: read runs, revoke runs from w */
	if (nid != z || nodes < 3)
		check_pages("scan", a, 1, 0, SCAN_PAGES, v1);
	sm_barrier();
	/* z, with no copy, rewrites the odd words: write runs that invalidate
	 * the same readers on every page, the pages coming from the store */
	if (nid == z)
		write_pages(a, 1, 2, 0, SCAN_PAGES, 2, 1);
	sm_barrier();
	/* node 0 the even words: write runs taken from z, the data in z's answer */
	if (nid == 0)
		write_pages(a, 1, 3, 0, SCAN_PAGES, 2, 0);
	sm_barrier();
	check_pages("scan, rewritten", a, 1, 0, SCAN_PAGES, v_rewritten);
	sm_barrier();
}

/* ---- readersets ---------------------------------------------------------- */

#define RS_PAGES 256
#define RS_BLOCK 16

/* Node k reads block b when (b % N) <= k: each block of 16 pages has its
 * own set of readers, so a write run must stop where the set changes. */
static int reads_block(int k, size_t b)
{
	return (int)(b % (size_t)nodes) <= k;
}

static unsigned rs_before(size_t page, size_t word)
{
	(void)page, (void)word;
	return 1;
}

static unsigned rs_after(size_t page, size_t word)
{
	(void)word;
	return (page / RS_BLOCK) % 3 == 2 ? 1 : 2; /* every third block kept */
}

static void readersets(void)
{
	uint64_t *a = shared_pages_from_node0(RS_PAGES);
	int w = nodes - 1;

	if (nid == 0)
		write_pages(a, 9, 1, 0, RS_PAGES, 1, 0);
	sm_barrier();
	for (size_t b = 0; b < RS_PAGES / RS_BLOCK; b++)
		if (reads_block(nid, b))
			check_pages("readersets, reading", a, 9, b * RS_BLOCK, RS_BLOCK, rs_before);
	sm_barrier();
	/* the last node (a reader of every block) rewrites two of every three
	 * blocks, front to back */
	if (nid == w)
		for (size_t b = 0; b < RS_PAGES / RS_BLOCK; b++)
			if (b % 3 != 2)
				write_pages(a, 9, 2, b * RS_BLOCK, RS_BLOCK, 1, 0);
	sm_barrier();
	check_pages("readersets", a, 9, 0, RS_PAGES, rs_after);
	sm_barrier();
}

/* ---- streams ------------------------------------------------------------- */

#define ST_PAGES 96 /* per node: three inputs read and one output written */

/* Every node sums three arrays node 0 wrote into a fourth, page by page,
 * interleaved: four sequential streams at once, each with its own window. */
static void streams(void)
{
	size_t n = ST_PAGES * (size_t)nodes;
	uint64_t *in[3], *out;

	for (int k = 0; k < 3; k++)
		in[k] = shared_pages_from_node0(n);
	out = shared_pages_from_node0(n);
	if (nid == 0)
		for (int k = 0; k < 3; k++)
			write_pages(in[k], (unsigned)(10 + k), 1, 0, n, 1, 0);
	sm_barrier();
	for (size_t p = (size_t)nid * ST_PAGES; p < (size_t)(nid + 1) * ST_PAGES; p++)
		for (size_t i = 0; i < pw; i++)
			*word_at(out, p, i) = *word_at(in[0], p, i) + *word_at(in[1], p, i) +
					      *word_at(in[2], p, i);
	sm_barrier();
	for (size_t p = 0; p < n; p++)
		for (size_t i = 0; i < pw; i++) {
			uint64_t want = val(10, 1, p, i) + val(11, 1, p, i) + val(12, 1, p, i);

			if (*word_at(out, p, i) != want)
				mismatch("streams", p, i, *word_at(out, p, i), want);
		}
	sm_barrier();
}

/* ---- takeover ---------------------------------------------------------- */

#define TAKE_PAGES 192

static unsigned take_final(size_t page, size_t word)
{
	(void)page;
	return word % 2 == 0 ? 2 : 3;
}

static unsigned take_middle(size_t page, size_t word)
{
	(void)page;
	return word % 2 == 0 ? 2 : 1;
}

static void takeover(void)
{
	uint64_t *a = shared_pages_from_node0(TAKE_PAGES);
	int w1 = 1 % nodes, w2 = 2 % nodes;

	if (nid == w1)
		write_pages(a, 2, 1, 0, TAKE_PAGES, 1, 0);
	sm_barrier();
	if (nid == w2) {
		write_pages(a, 2, 2, 0, TAKE_PAGES, 2, 0);
		check_pages("takeover, even words rewritten", a, 2, 0, TAKE_PAGES, take_middle);
	}
	sm_barrier();
	if (nid == w1)
		write_pages(a, 2, 3, 0, TAKE_PAGES, 2, 1);
	sm_barrier();
	check_pages("takeover", a, 2, 0, TAKE_PAGES, take_final);
	sm_barrier();
}

/* ---- boundary ---------------------------------------------------------- */

#define BIG 40
#define CROSS_FIRST 28 /* pages [28, 52) of the two big arrays as one */
#define CROSS_END 52

static unsigned cross_ver(size_t page, size_t word)
{
	(void)word;
	return page >= CROSS_FIRST && page < CROSS_END ? 5 : 4;
}

static void boundary(void)
{
	uint64_t *small = NULL, *c1 = NULL, *c2 = NULL;
	int w1 = 1 % nodes, w2 = 2 % nodes;

	if (nid == 0) {
		/* a small allocation: a chunk of pages node 0 holds writable */
		small = shared_alloc(64);
		c1 = shared_alloc(BIG * ps);
		c2 = shared_alloc(BIG * ps);
		if ((uintptr_t)c1 % ps || (uint8_t *)c2 != (uint8_t *)c1 + BIG * ps)
			fail("two %d-page sm_mallocs in a row are not adjacent: %p, %p", BIG,
			     (void *)c1, (void *)c2);
		for (size_t i = 0; i < 8; i++)
			small[i] = 0x5a5a000000000000ull | i;
	}
	bcast_pointer(&small, 0);
	bcast_pointer(&c1, 0);
	bcast_pointer(&c2, 0);
	(void)c2; /* from here on c1 is one 80-page range */

	if (nid == w1)
		write_pages(c1, 3, 4, 0, 2 * BIG, 1, 0);
	sm_barrier();
	/* pages held by w1, no readers: a write run across the boundary */
	if (nid == w2)
		write_pages(c1, 3, 5, CROSS_FIRST, CROSS_END - CROSS_FIRST, 1, 0);
	sm_barrier();
	/* the small allocation's page, then both arrays in one sweep */
	for (size_t i = 0; i < 8; i++)
		if (small[i] != (0x5a5a000000000000ull | i))
			fail("boundary: small allocation word %zu = 0x%016llx", i,
			     (unsigned long long)small[i]);
	check_pages("boundary", c1, 3, 0, 2 * BIG, cross_ver);
	sm_barrier();
}

/* ---- holders ----------------------------------------------------------- */

#define HOLD_PAGES 240

static size_t block_size;

static unsigned holder_ver(size_t page, size_t word)
{
	(void)word;
	return 1 + (unsigned)((page / block_size) % (size_t)nodes);
}

static void holders(size_t block)
{
	uint64_t *a = shared_pages_from_node0(HOLD_PAGES);

	block_size = block;
	for (size_t b = (size_t)nid; b * block < HOLD_PAGES; b += (size_t)nodes)
		write_pages(a, 6, 1 + (unsigned)nid, b * block, block, 1, 0);
	sm_barrier();
	if (nid == 0)
		check_pages("holders, node 0 first", a, 6, 0, HOLD_PAGES, holder_ver);
	sm_barrier();
	if (nid != 0)
		check_pages("holders", a, 6, 0, HOLD_PAGES, holder_ver);
	sm_barrier();
}

/* ---- exit -------------------------------------------------------------- */

#define SLICE 100 /* more than a run: written back as two runs or more */

static unsigned slice_ver(size_t page, size_t word)
{
	(void)word;
	return 1 + (unsigned)(page / SLICE);
}

/* The other nodes leave; node 0 alone checks what they wrote. */
static void leave_then_check(uint64_t *a, unsigned tag, size_t first, size_t n,
			     version_fn ver_of, const char *what)
{
	if (nid != 0) {
		if (nid % 2)
			sm_node_exit();
		return; /* even nodes: the exit hook writes their pages back */
	}
	sm_barrier(); /* completes once every other node has left */
	check_pages(what, a, tag, first, n, ver_of);
	sm_node_exit();
}

/* node 0 rewrites the odd words of the odd nodes' slices as they leave */
#define NODE0_VER 0x80

static unsigned slice_final(size_t page, size_t word)
{
	size_t k = page / SLICE;

	return k % 2 && word % 2 ? NODE0_VER : 1 + (unsigned)k;
}

static void check_even_slices(uint64_t *a, const char *what)
{
	for (size_t k = 0; k < (size_t)nodes; k += 2)
		check_pages(what, a, 7, k * SLICE, SLICE, slice_ver);
}

static void exit_writeback(void)
{
	uint64_t *a = shared_pages_from_node0((size_t)nodes * SLICE);
	size_t all = (size_t)nodes * SLICE;

	write_pages(a, 7, 1 + (unsigned)nid, (size_t)nid * SLICE, SLICE, 1, 0);
	sm_barrier();
	/* single pages revoked: the writers' writable pages come in pieces */
	if (nid == 0)
		for (size_t p = SLICE; p < all; p += 3)
			check_pages("exit, before leaving", a, 7, p, 1, slice_ver);
	sm_barrier();
	/* the odd nodes leave at once while node 0 rewrites the odd words of
	 * their slices (invalidations crossing write-backs) and everyone else
	 * reads the even nodes' slices; then the even nodes leave through the
	 * exit hook while node 0 may still be reading */
	if (nid != 0) {
		if (nid % 2) {
			sm_node_exit();
			return;
		}
		check_even_slices(a, "exit, while odd nodes leave");
		return;
	}
	for (size_t k = 1; k < (size_t)nodes; k += 2)
		write_pages(a, 7, NODE0_VER, k * SLICE, SLICE, 2, 1);
	check_even_slices(a, "exit, while the others leave");
	sm_barrier(); /* completes once every other node has left */
	check_pages("exit, after leaving", a, 7, 0, all, slice_final);
	sm_node_exit();
}

/* ---- the end of the region --------------------------------------------- */

static size_t end_pages;

static unsigned end_ver(size_t page, size_t word)
{
	(void)page, (void)word;
	return 9;
}

static void region_end(void)
{
	uint64_t *a = NULL;
	void *count = NULL;
	/* w3 takes the pages from w2, then leaves (unless it is node 0) */
	int w1 = 1 % nodes, w2 = (nodes - 1) % nodes, w3 = nodes > 2 ? 1 : 0;

	if (nid == 0) {
		/* the largest allocation that fits is the rest of the region */
		for (size_t n = 256; n > 8 && !a; n--)
			if ((a = sm_malloc(n * ps)) != NULL)
				end_pages = n;
		if (!a)
			fail("end: not even 9 pages left in the region (run with dsm -s 1M)");
		if (sm_malloc(ps) != NULL)
			fail("end: the region is not exhausted after %zu pages (run with dsm -s 1M)",
			     end_pages);
		count = (void *)(uintptr_t)end_pages;
	}
	bcast_pointer(&a, 0);
	sm_bcast(&count, 0);
	end_pages = (size_t)(uintptr_t)count;

	if (nid == w1)
		write_pages(a, 8, 7, 0, end_pages, 1, 0);
	sm_barrier();
	if (nid != w1)
		for (size_t p = 0; p < end_pages; p++)
			for (size_t i = 0; i < pw; i++)
				if (*word_at(a, p, i) != val(8, 7, p, i))
					mismatch("end, scan", p, i, *word_at(a, p, i), val(8, 7, p, i));
	sm_barrier();
	if (nid == w2)
		write_pages(a, 8, 8, 0, end_pages, 1, 0); /* takes every read copy */
	sm_barrier();
	if (nid == w3)
		write_pages(a, 8, 9, 0, end_pages, 1, 0); /* write runs from w2 */
	sm_barrier();
	leave_then_check(a, 8, 0, end_pages, end_ver, "end, after leaving");
}

int main(int argc, char *argv[])
{
	join(&argc, &argv);
	ps = page_size();
	pw = ps / sizeof(uint64_t);
	if (argc > 2 || (argc == 2 && strcmp(argv[1], "end") != 0))
		fail("usage: runs [end]");
	if (argc == 2) {
		region_end();
		return 0;
	}
	scan();
	readersets();
	streams();
	takeover();
	boundary();
	holders(1);
	holders(3);
	exit_writeback();
	return 0;
}
