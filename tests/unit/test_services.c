/*
 * test_services.c - what the allocator serves itself (allocator/services.c),
 * driven through a fake coherence_io that records every message sent:
 * barriers (complete only when every live node arrived, a node leaving or
 * gone lets the others go), broadcasts (the root's value to every node), the errors
 * every waiting node gets for a root mismatch, a missing root and a barrier
 * mixed with a bcast, and sm_malloc's chunks down to exhaustion, large
 * ones placed on first touch (MSGF_FRESH) when the job has several nodes;
 * sm_malloc_collective (one address for all, small ones packed in the
 * collective arena, large ones on pages of their own, sizes that disagree,
 * exhaustion, nodes leaving meanwhile) and sm_bcast_buf (the checks on
 * arrival, GO to the root last, after its allowance is set; the root's
 * proxy forwarding only what the allowance permits).
 */
#include <criterion/criterion.h>
#include <stdatomic.h>
#include <string.h>

#include "../../allocator/pages/nodelink.h"
#include "../../allocator/services.h"
#include "../../common/message.h"

#define NN 4u   /* nodes */
#define NP 64u  /* pages */
#define BASE 0x600000000000ull
#define MAXREC 64

struct rec {
	uint32_t to;
	uint8_t type, flags;
	uint32_t page, node, length;
	uint64_t arg;
	uint64_t allowed; /* the node's sm_bcast_buf allowance when it was sent */
};

static struct rec recs[MAXREC];
/* whose sm_bcast_buf allowance each record notes: this node's, or (-1)
 * the receiver's */
static int32_t watch = -1;
static int nrec;
static struct pagetable *pt;
static struct services svc;

static int fake_send(struct coherence_io *io, uint32_t node, const struct msg *m,
		     const void *payload)
{
	(void)io;
	(void)payload;
	cr_assert_lt(nrec, MAXREC, "too many messages sent (a loop?)");
	cr_assert_lt(node, NN, "send to node %u out of range", node);
	recs[nrec++] = (struct rec){.to = node, .type = m->type, .flags = m->flags,
				    .page = m->page,
				    .node = m->node, .length = m->length, .arg = m->arg,
				    .allowed = pt->nodes[watch < 0 ? node : (uint32_t)watch].bcast_end -
					       pt->nodes[watch < 0 ? node : (uint32_t)watch].bcast_next};
	return 0;
}

static struct coherence_io io;

static void setup(void)
{
	watch = -1;
	io = (struct coherence_io){.send = fake_send};
	pt = pt_create(NN, NP, BASE);
	cr_assert_not_null(pt);
	cr_assert_eq(services_init(&svc, pt, &io), 0);
	nrec = 0;
}

static void teardown(void)
{
	services_free(&svc);
	pt_destroy(pt);
}

TestSuite(services, .init = setup, .fini = teardown, .timeout = 10);

/*
 * The one place a request reaches the services: node sends a message of
 * `type` with the given node field and arg, handed on as control.c's
 * dispatch table does. Adapt only this if the entry point changes.
 */
static void deliver_flags(uint32_t node, uint8_t type, uint8_t flags, uint32_t node_field,
			  uint64_t arg)
{
	struct msg m = {.type = type, .flags = flags, .node = node_field, .arg = arg};

	switch (type) {
	case MSG_MALLOC:
		if (m.flags & MSGF_COLLECTIVE)
			services_arrive(&svc, node, COLL_MALLOC, &m);
		else
			services_malloc(&svc, node, m.arg);
		break;
	case MSG_BCAST_BUF:
		services_arrive(&svc, node, COLL_BCAST_BUF, &m);
		break;
	case MSG_BARRIER:
		services_arrive(&svc, node, COLL_BARRIER, &m);
		break;
	case MSG_BCAST:
		services_arrive(&svc, node, COLL_BCAST, &m);
		break;
	case MSG_EXIT:
		services_leave(&svc, node);
		break;
	default:
		cr_assert_fail("%s is not a request the services serve", msg_type_name(type));
	}
}

static void deliver(uint32_t node, uint8_t type, uint32_t node_field, uint64_t arg)
{
	deliver_flags(node, type, 0, node_field, arg);
}

static void barrier(uint32_t node)
{
	deliver(node, MSG_BARRIER, 0, 0);
}

static void bcast(uint32_t node, uint32_t root, uint64_t value)
{
	deliver(node, MSG_BCAST, root, value);
}

static void node_exit(uint32_t node)
{
	deliver(node, MSG_EXIT, 0, 0);
}

static void expect_count(int n)
{
	cr_assert_eq(nrec, n, "%d messages sent, want %d", nrec, n);
}

/* Messages [from, nrec) went one to each node in `nodes` (a bitmask), in any
 * order, each of the given type, arg and node field. */
static void expect_each(int from, unsigned nodes, uint8_t type, uint64_t arg, uint32_t node_field)
{
	unsigned seen = 0;

	cr_assert_eq(nrec - from, __builtin_popcount(nodes), "%d messages, want one to each of 0x%x",
		     nrec - from, nodes);
	for (int i = from; i < nrec; i++) {
		struct rec *r = &recs[i];

		cr_assert(nodes & (1u << r->to), "message %d to node %u, not waiting", i, r->to);
		cr_assert_not(seen & (1u << r->to), "node %u answered twice", r->to);
		seen |= 1u << r->to;
		cr_assert_eq(r->type, type, "message %d to node %u: %s, want %s", i, r->to,
			     msg_type_name(r->type), msg_type_name(type));
		cr_assert_eq(r->arg, arg, "message %d to node %u: arg %llu, want %llu", i, r->to,
			     (unsigned long long)r->arg, (unsigned long long)arg);
		cr_assert_eq(r->node, node_field, "message %d to node %u: node %u, want %u", i,
			     r->to, r->node, node_field);
		cr_assert_eq(r->flags, 0u, "message %d to node %u: flags 0x%x", i, r->to, r->flags);
		cr_assert_eq(r->length, 0u);
	}
}

#define ALL ((1u << NN) - 1)

/* ---- barrier ------------------------------------------------------------ */

Test(services, barrier_waits_for_every_node)
{
	barrier(2);
	barrier(0);
	barrier(3);
	expect_count(0);
	barrier(1);
	expect_each(0, ALL, MSG_BARRIER_DONE, 0, 0);
}

Test(services, barriers_repeat_without_leftovers)
{
	for (int round = 0; round < 3; round++) {
		int before = nrec;

		for (uint32_t n = NN; n-- > 1;)
			barrier(n);
		cr_assert_eq(nrec, before, "round %d completed early", round);
		barrier(0);
		expect_each(before, ALL, MSG_BARRIER_DONE, 0, 0);
	}
}

Test(services, exit_while_others_wait_completes_the_barrier)
{
	barrier(0);
	barrier(1);
	barrier(3);
	expect_count(0);
	node_exit(2);
	expect_each(0, 0xbu, MSG_BARRIER_DONE, 0, 0);

	/* the next barrier needs only the three left */
	barrier(1);
	barrier(0);
	cr_assert_eq(nrec, 3);
	barrier(3);
	expect_each(3, 0xbu, MSG_BARRIER_DONE, 0, 0);
}

/* a node reaped without leaving (services_gone) no longer holds the others */
Test(services, node_gone_while_others_wait_completes_the_barrier)
{
	barrier(0);
	barrier(1);
	barrier(3);
	expect_count(0);
	services_gone(&svc, 2);
	expect_each(0, 0xbu, MSG_BARRIER_DONE, 0, 0);
	services_gone(&svc, 2);
	node_exit(2); /* a late EXIT after it is gone changes nothing */
	barrier(0);
	barrier(1);
	cr_assert_eq(nrec, 3);
	barrier(3);
	expect_each(3, 0xbu, MSG_BARRIER_DONE, 0, 0);
}

Test(services, exit_counts_once)
{
	node_exit(3);
	node_exit(3);
	barrier(0);
	barrier(1);
	expect_count(0); /* a second EXIT must not lower the count again */
	barrier(2);
	expect_each(0, 0x7u, MSG_BARRIER_DONE, 0, 0);
}

Test(services, exit_without_collective_sends_nothing)
{
	node_exit(1);
	node_exit(0);
	expect_count(0);
	barrier(3);
	expect_count(0);
	barrier(2);
	expect_each(0, 0xcu, MSG_BARRIER_DONE, 0, 0);
}

Test(services, last_node_alone_passes_its_barrier)
{
	node_exit(0);
	node_exit(1);
	node_exit(3);
	barrier(2);
	expect_each(0, 0x4u, MSG_BARRIER_DONE, 0, 0);
}

/* ---- bcast -------------------------------------------------------------- */

Test(services, bcast_root_last_delivers_its_value)
{
	/* non-roots' args are not the value: only the root's counts */
	bcast(1, 2, 111);
	bcast(3, 2, 333);
	bcast(0, 2, 0);
	expect_count(0);
	bcast(2, 2, 0xfeedface12345678ull);
	expect_each(0, ALL, MSG_BCAST_DONE, 0xfeedface12345678ull, 0);
}

Test(services, bcast_root_first_delivers_its_value)
{
	bcast(0, 0, 42);
	bcast(1, 0, 7);
	bcast(2, 0, 7);
	expect_count(0);
	bcast(3, 0, 7);
	expect_each(0, ALL, MSG_BCAST_DONE, 42, 0);
}

Test(services, bcasts_in_a_row_carry_their_own_values)
{
	bcast(0, 0, 10);
	bcast(1, 0, 0);
	bcast(2, 0, 0);
	bcast(3, 0, 0);
	expect_each(0, ALL, MSG_BCAST_DONE, 10, 0);
	/* a new root and value: nothing of the first one is left over */
	bcast(0, 3, 0);
	bcast(1, 3, 0);
	bcast(2, 3, 0);
	cr_assert_eq(nrec, 4);
	bcast(3, 3, 20);
	expect_each(4, ALL, MSG_BCAST_DONE, 20, 0);
}

Test(services, bcast_completes_when_a_non_root_leaves)
{
	bcast(0, 1, 0);
	bcast(1, 1, 99);
	bcast(3, 1, 0);
	expect_count(0);
	node_exit(2);
	expect_each(0, 0xbu, MSG_BCAST_DONE, 99, 0);
}

Test(services, bcast_root_mismatch_fails_everyone)
{
	bcast(0, 0, 5);
	bcast(1, 0, 0);
	bcast(2, 1, 0); /* disagrees */
	expect_count(0); /* judged when everyone is there */
	bcast(3, 0, 0);
	expect_each(0, ALL, MSG_ERROR, DSM_ERR_BCAST_MISMATCH, 0);

	/* the next collective starts clean */
	for (uint32_t n = 0; n < NN; n++)
		barrier(n);
	expect_each(4, ALL, MSG_BARRIER_DONE, 0, 0);
}

Test(services, bcast_root_that_left_fails_everyone)
{
	node_exit(3);
	bcast(0, 3, 0);
	bcast(1, 3, 0);
	expect_count(0);
	bcast(2, 3, 0);
	expect_each(0, 0x7u, MSG_ERROR, DSM_ERR_BCAST_ROOT, 3);
}

Test(services, bcast_root_leaving_while_others_wait_fails_them)
{
	bcast(0, 1, 0);
	bcast(2, 1, 0);
	bcast(3, 1, 0);
	expect_count(0);
	node_exit(1);
	expect_each(0, 0xdu, MSG_ERROR, DSM_ERR_BCAST_ROOT, 1);
}

Test(services, bcast_root_out_of_range_fails_everyone)
{
	for (uint32_t n = 0; n < NN - 1; n++)
		bcast(n, 77, 0);
	expect_count(0);
	bcast(NN - 1, 77, 0);
	expect_each(0, ALL, MSG_ERROR, DSM_ERR_BCAST_ROOT, 77);
}

/* ---- barrier mixed with bcast ------------------------------------------ */

Test(services, bcast_into_a_barrier_fails_at_once)
{
	barrier(0);
	barrier(3);
	expect_count(0);
	bcast(1, 0, 0);
	/* those waiting and the newcomer, without waiting for node 2 */
	expect_each(0, 0xbu, MSG_ERROR, DSM_ERR_COLLECTIVE_MISMATCH, 1);

	/* node 2 then starts a fresh collective with everyone */
	barrier(2);
	barrier(0);
	barrier(1);
	cr_assert_eq(nrec, 3);
	barrier(3);
	expect_each(3, ALL, MSG_BARRIER_DONE, 0, 0);
}

Test(services, barrier_into_a_bcast_fails_at_once)
{
	bcast(2, 2, 5);
	bcast(1, 2, 0);
	barrier(0);
	expect_each(0, 0x7u, MSG_ERROR, DSM_ERR_COLLECTIVE_MISMATCH, 0);
}

/* ---- sm_malloc ---------------------------------------------------------- */

/*
 * Message i is node `to`'s CHUNK of pages [first, first+count): held
 * writable by `to`, or, when fresh (MSGF_FRESH), by nobody until first
 * touched; no readers either way.
 */
static void expect_chunk(int i, uint32_t to, uint32_t first, uint32_t count, int fresh)
{
	cr_assert_lt(i, nrec, "message %d was not sent", i);
	cr_assert_eq(recs[i].to, to, "chunk to node %u, want %u", recs[i].to, to);
	cr_assert_eq(recs[i].type, MSG_CHUNK, "%s, want CHUNK", msg_type_name(recs[i].type));
	cr_assert_eq(recs[i].flags, fresh ? MSGF_FRESH : 0u, "chunk flags 0x%x, want %s",
		     recs[i].flags, fresh ? "FRESH" : "none");
	cr_assert_eq(recs[i].page, count, "chunk of %u pages, want %u", recs[i].page, count);
	cr_assert_eq(recs[i].arg, BASE + (uint64_t)first * DSM_PAGE_SIZE,
		     "chunk at 0x%llx, want page %u", (unsigned long long)recs[i].arg, first);
	cr_assert_eq(recs[i].node, 0u);
	cr_assert_eq(recs[i].length, 0u);
	for (uint32_t p = first; p < first + count; p++) {
		struct page_entry *e = pt_entry(pt, p);
		int32_t want = fresh ? PT_NONE : (int32_t)to;

		cr_assert_eq(e->writer, want, "page %u writer %d, want %d", p, e->writer, want);
		cr_assert_eq(e->fresh, (uint8_t)fresh, "page %u fresh %u, want %d", p, e->fresh,
			     fresh);
		cr_assert(bits_empty(pt_readers(pt, e), pt->words), "page %u has readers", p);
	}
}

/* Message i refuses node `to`'s request: CHUNK 0. */
static void expect_no_chunk(int i, uint32_t to)
{
	cr_assert_lt(i, nrec, "message %d was not sent", i);
	cr_assert_eq(recs[i].to, to);
	cr_assert_eq(recs[i].type, MSG_CHUNK);
	cr_assert_eq(recs[i].flags, 0u);
	cr_assert_eq(recs[i].arg, 0u);
	cr_assert_eq(recs[i].page, 0u);
}

Test(services, malloc_hands_out_consecutive_chunks)
{
	deliver(2, MSG_MALLOC, 0, 100);
	expect_count(1);
	expect_chunk(0, 2, 0, CHUNK_PAGES, 0);
	deliver(1, MSG_MALLOC, 0, 5ull * DSM_PAGE_SIZE + 1);
	expect_count(2);
	expect_chunk(1, 1, CHUNK_PAGES, CHUNK_PAGES, 0);
	/* bigger than a chunk: exactly its pages (and large: placed on first touch) */
	deliver(2, MSG_MALLOC, 0, (CHUNK_PAGES + 3ull) * DSM_PAGE_SIZE);
	expect_count(3);
	expect_chunk(2, 2, 2 * CHUNK_PAGES, CHUNK_PAGES + 3, 1);
	cr_assert_eq(atomic_load(&pt->allocated), 3 * CHUNK_PAGES + 3);
	/* beyond the chunk the table was never written (it costs no memory) */
	{
		const uint8_t *raw = (const uint8_t *)pt_entry(pt, 3 * CHUNK_PAGES + 3);

		for (uint32_t k = 0; k < pt->entry_size; k++)
			cr_assert_eq(raw[k], 0, "entry beyond the chunk written (byte %u)", k);
	}
}

Test(services, malloc_when_exhausted_gets_chunk_zero)
{
	/* too big for the whole region: refused, nothing handed out */
	deliver(0, MSG_MALLOC, 0, (uint64_t)NP * DSM_PAGE_SIZE + 1);
	expect_count(1);
	expect_no_chunk(0, 0);
	cr_assert_eq(atomic_load(&pt->allocated), 0u);

	/* all but one page (large: fresh), then the last page (less than a
	 * chunk is left) */
	deliver(3, MSG_MALLOC, 0, (NP - 1ull) * DSM_PAGE_SIZE);
	expect_chunk(1, 3, 0, NP - 1, 1);
	deliver(1, MSG_MALLOC, 0, 1);
	expect_chunk(2, 1, NP - 1, 1, 0);
	cr_assert_eq(atomic_load(&pt->allocated), NP);

	/* now even one byte is refused */
	deliver(2, MSG_MALLOC, 0, 1);
	expect_count(4);
	expect_no_chunk(3, 2);
}

Test(services, malloc_does_not_disturb_a_waiting_barrier)
{
	barrier(0);
	barrier(1);
	deliver(2, MSG_MALLOC, 0, 1);
	expect_count(1);
	expect_chunk(0, 2, 0, CHUNK_PAGES, 0);
	barrier(2);
	cr_assert_eq(nrec, 1);
	barrier(3);
	expect_each(1, ALL, MSG_BARRIER_DONE, 0, 0);
}

/* ---- first touch --------------------------------------------------------- */

#define FT_BYTES ((uint64_t)DSM_FIRST_TOUCH_PAGES * DSM_PAGE_SIZE)

Test(services, malloc_larger_than_the_first_touch_limit_is_fresh)
{
	/* up to DSM_FIRST_TOUCH_PAGES pages: the caller's at once */
	deliver(0, MSG_MALLOC, 0, FT_BYTES);
	expect_chunk(0, 0, 0, CHUNK_PAGES, 0);
	/* one byte more: nobody's until first touched */
	deliver(3, MSG_MALLOC, 0, FT_BYTES + 1);
	expect_chunk(1, 3, CHUNK_PAGES, CHUNK_PAGES, 1);
	/* the rule is the size asked for, not the size handed out */
	deliver(1, MSG_MALLOC, 0, 1);
	expect_chunk(2, 1, 2 * CHUNK_PAGES, CHUNK_PAGES, 0);
	expect_count(3);
	cr_assert_eq(atomic_load(&pt->allocated), 3 * CHUNK_PAGES);
}

Test(services, malloc_in_a_job_of_one_node_is_never_fresh)
{
	struct pagetable *pt1 = pt_create(1, NP, BASE);
	struct services s1;

	cr_assert_not_null(pt1);
	cr_assert_eq(services_init(&s1, pt1, &io), 0);
	services_malloc(&s1, 0, FT_BYTES + 1);
	services_malloc(&s1, 0, (uint64_t)(NP - CHUNK_PAGES) * DSM_PAGE_SIZE);
	expect_count(2);
	for (int i = 0; i < 2; i++) {
		uint32_t first = i ? CHUNK_PAGES : 0, count = i ? NP - CHUNK_PAGES : CHUNK_PAGES;

		cr_assert_eq(recs[i].to, 0u);
		cr_assert_eq(recs[i].type, MSG_CHUNK);
		cr_assert_eq(recs[i].flags, 0u, "chunk %d is fresh in a job of one node", i);
		cr_assert_eq(recs[i].page, count);
		cr_assert_eq(recs[i].arg, BASE + (uint64_t)first * DSM_PAGE_SIZE);
		for (uint32_t p = first; p < first + count; p++) {
			cr_assert_eq(pt_entry(pt1, p)->writer, 0, "page %u not node 0's", p);
			cr_assert_eq(pt_entry(pt1, p)->fresh, 0u, "page %u fresh", p);
		}
	}
	cr_assert_eq(atomic_load(&pt1->allocated), NP);
	services_free(&s1);
	pt_destroy(pt1);
}

/* ---- sm_malloc_collective ------------------------------------------------ */

static void malloc_coll(uint32_t node, uint64_t size)
{
	deliver_flags(node, MSG_MALLOC, MSGF_COLLECTIVE, 0, size);
}

/*
 * Messages [from, nrec) answer a collective allocation: one CHUNK COLLECTIVE
 * to each node of `nodes`, all with address `at` (0: exhausted) and `count`
 * new pages, FRESH when `fresh`.
 */
static void expect_coll_chunks(int from, unsigned nodes, uint64_t at, uint32_t count, int fresh)
{
	unsigned seen = 0;
	unsigned flags = MSGF_COLLECTIVE | (fresh ? MSGF_FRESH : 0u);

	cr_assert_eq(nrec - from, __builtin_popcount(nodes), "%d answers, want one to each of 0x%x",
		     nrec - from, nodes);
	for (int i = from; i < nrec; i++) {
		struct rec *r = &recs[i];

		cr_assert(nodes & (1u << r->to), "answer %d to node %u, not waiting", i, r->to);
		cr_assert_not(seen & (1u << r->to), "node %u answered twice", r->to);
		seen |= 1u << r->to;
		cr_assert_eq(r->type, MSG_CHUNK, "%s, want CHUNK", msg_type_name(r->type));
		cr_assert_eq(r->flags, flags, "node %u: flags 0x%x, want 0x%x", r->to, r->flags, flags);
		cr_assert_eq(r->arg, at, "node %u: address 0x%llx, want 0x%llx", r->to,
			     (unsigned long long)r->arg, (unsigned long long)at);
		cr_assert_eq(r->page, count, "node %u: %u new pages, want %u", r->to, r->page, count);
		cr_assert_eq(r->node, 0u);
		cr_assert_eq(r->length, 0u);
	}
}

/* Every node asks for size; each gets the same address, which is returned. */
static uint64_t coll_all(uint64_t size)
{
	int from = nrec;

	for (uint32_t n = 0; n < NN - 1; n++)
		malloc_coll(n, size);
	cr_assert_eq(nrec, from, "answered before every node arrived");
	malloc_coll(NN - 1, size);
	cr_assert_eq(nrec - from, (int)NN);
	for (int i = from + 1; i < nrec; i++)
		cr_assert_eq(recs[i].arg, recs[from].arg, "node %u got 0x%llx, node %u 0x%llx",
			     recs[i].to, (unsigned long long)recs[i].arg, recs[from].to,
			     (unsigned long long)recs[from].arg);
	return recs[from].arg;
}

static void expect_fresh_pages(uint32_t first, uint32_t count)
{
	for (uint32_t p = first; p < first + count; p++) {
		struct page_entry *e = pt_entry(pt, p);

		cr_assert_eq(e->writer, PT_NONE, "page %u has writer %d", p, e->writer);
		cr_assert_eq(e->fresh, 1u, "page %u is not fresh", p);
		cr_assert(bits_empty(pt_readers(pt, e), pt->words), "page %u has readers", p);
	}
}

Test(services, malloc_collective_gives_every_node_the_same_fresh_address)
{
	malloc_coll(2, 100);
	malloc_coll(0, 100);
	malloc_coll(3, 100);
	expect_count(0);
	malloc_coll(1, 100);
	/* a new chunk of the collective arena, nobody's until touched */
	expect_coll_chunks(0, ALL, BASE, CHUNK_PAGES, 1);
	expect_fresh_pages(0, CHUNK_PAGES);
	cr_assert_eq(atomic_load(&pt->allocated), CHUNK_PAGES);

	/* the next one is carved from the same chunk, 16-byte aligned, no new pages */
	for (uint32_t n = 0; n < NN; n++)
		malloc_coll(n, 1);
	expect_coll_chunks(4, ALL, BASE + 112, 0, 1);
	cr_assert_eq(atomic_load(&pt->allocated), CHUNK_PAGES);
}

Test(services, small_collective_allocations_are_packed_and_aligned)
{
	uint64_t expect = BASE;

	for (uint64_t size = 0; size <= 100; size++) {
		uint64_t at = coll_all(size);

		cr_assert_eq(at, expect, "size %llu at 0x%llx, want 0x%llx", (unsigned long long)size,
			     (unsigned long long)at, (unsigned long long)expect);
		cr_assert_eq(at % COLL_ALIGN, 0u);
		cr_assert_eq(recs[nrec - 1].page, size == 0 ? CHUNK_PAGES : 0u);
		expect += size ? (size + 15) / 16 * 16 : 16; /* 0 bytes: still its own 16 */
		nrec = 0;
	}
	/* 101 allocations in one chunk: still one chunk */
	cr_assert_eq(atomic_load(&pt->allocated), CHUNK_PAGES);
}

Test(services, big_collective_allocations_get_pages_of_their_own)
{
	uint64_t small = coll_all(40), big, eight, after;

	cr_assert_eq(small, BASE);
	/* more than DSM_FIRST_TOUCH_PAGES pages: exactly its pages, after the chunk */
	nrec = 0;
	big = coll_all((uint64_t)DSM_FIRST_TOUCH_PAGES * DSM_PAGE_SIZE + 1);
	expect_coll_chunks(0, ALL, BASE + (uint64_t)CHUNK_PAGES * DSM_PAGE_SIZE,
			   DSM_FIRST_TOUCH_PAGES + 1, 1);
	expect_fresh_pages(CHUNK_PAGES, DSM_FIRST_TOUCH_PAGES + 1);
	cr_assert_eq(atomic_load(&pt->allocated), CHUNK_PAGES + DSM_FIRST_TOUCH_PAGES + 1);
	/* exactly DSM_FIRST_TOUCH_PAGES pages is small: carved from the chunk */
	nrec = 0;
	eight = coll_all((uint64_t)DSM_FIRST_TOUCH_PAGES * DSM_PAGE_SIZE);
	expect_coll_chunks(0, ALL, BASE + 48, 0, 1);
	/* and the chunk goes on after it */
	nrec = 0;
	after = coll_all(1);
	cr_assert_eq(after, BASE + 48 + (uint64_t)DSM_FIRST_TOUCH_PAGES * DSM_PAGE_SIZE);
	cr_assert_eq(atomic_load(&pt->allocated), CHUNK_PAGES + DSM_FIRST_TOUCH_PAGES + 1);
	(void)big, (void)eight;
}

Test(services, collective_chunk_runs_out_and_a_new_one_follows)
{
	uint64_t at;

	/* 7 pages twice fit in the 16-page chunk; the third does not */
	coll_all(7ull * DSM_PAGE_SIZE);
	nrec = 0;
	coll_all(7ull * DSM_PAGE_SIZE);
	nrec = 0;
	at = coll_all(7ull * DSM_PAGE_SIZE);
	expect_coll_chunks(0, ALL, BASE + (uint64_t)CHUNK_PAGES * DSM_PAGE_SIZE, CHUNK_PAGES, 1);
	cr_assert_eq(at, BASE + (uint64_t)CHUNK_PAGES * DSM_PAGE_SIZE);
	cr_assert_eq(atomic_load(&pt->allocated), 2 * CHUNK_PAGES);
}

Test(services, sm_malloc_and_collective_allocations_never_overlap)
{
	deliver(1, MSG_MALLOC, 0, 64); /* node 1's chunk: pages 0..15 */
	expect_chunk(0, 1, 0, CHUNK_PAGES, 0);
	nrec = 0;
	cr_assert_eq(coll_all(64), BASE + (uint64_t)CHUNK_PAGES * DSM_PAGE_SIZE);
	nrec = 0;
	deliver(2, MSG_MALLOC, 0, 64); /* after the collective chunk */
	expect_chunk(0, 2, 2 * CHUNK_PAGES, CHUNK_PAGES, 0);
}

Test(services, collective_sizes_that_disagree_fail_every_node)
{
	malloc_coll(0, 100);
	malloc_coll(1, 100);
	malloc_coll(3, 200);
	expect_count(0); /* judged when everyone is there */
	malloc_coll(2, 100);
	expect_count((int)NN);
	for (int i = 0; i < nrec; i++) {
		struct rec *r = &recs[i];
		/* each is told of a node that gave another size, and that size */
		uint32_t other = r->to == 3 ? 0 : 3, size = r->to == 3 ? 100 : 200;

		cr_assert_eq(r->type, MSG_ERROR, "node %u: %s", r->to, msg_type_name(r->type));
		cr_assert_eq(r->arg, DSM_ERR_SIZE_MISMATCH);
		cr_assert_eq(r->node, other, "node %u told of node %u, want %u", r->to, r->node, other);
		cr_assert_eq(r->page, size, "node %u told of size %u, want %u", r->to, r->page, size);
	}
	cr_assert_eq(atomic_load(&pt->allocated), 0u, "pages handed out for a failed collective");

	/* a size that does not fit 32 bits is told as UINT32_MAX; then it starts clean */
	nrec = 0;
	malloc_coll(0, 1ull << 40);
	malloc_coll(1, 16);
	malloc_coll(2, 16);
	malloc_coll(3, 16);
	cr_assert_eq(recs[1].to, 1u);
	cr_assert_eq(recs[1].page, UINT32_MAX);
	nrec = 0;
	cr_assert_eq(coll_all(16), BASE);
}

Test(services, collective_exhausted_region_gives_zero_to_every_node)
{
	/* more than the region: refused, nothing handed out */
	coll_all((uint64_t)NP * DSM_PAGE_SIZE + 1);
	expect_coll_chunks(0, ALL, 0, 0, 0);
	cr_assert_eq(atomic_load(&pt->allocated), 0u);
	nrec = 0;
	coll_all(UINT64_MAX); /* no overflow on the way */
	expect_coll_chunks(0, ALL, 0, 0, 0);

	/* leave 3 pages: 4 are refused, then one byte still fits (one page) */
	nrec = 0;
	deliver(0, MSG_MALLOC, 0, (NP - 3ull) * DSM_PAGE_SIZE);
	nrec = 0;
	coll_all(4ull * DSM_PAGE_SIZE);
	expect_coll_chunks(0, ALL, 0, 0, 0);
	nrec = 0;
	coll_all(1);
	expect_coll_chunks(0, ALL, BASE + (NP - 3ull) * DSM_PAGE_SIZE, 1, 1);
	cr_assert_eq(atomic_load(&pt->allocated), NP - 2);
}

Test(services, node_leaving_mid_collective_allocation_lets_the_others_go)
{
	malloc_coll(0, 32);
	malloc_coll(1, 32);
	malloc_coll(3, 32);
	expect_count(0);
	node_exit(2);
	expect_coll_chunks(0, 0xbu, BASE, CHUNK_PAGES, 1);

	/* nodes gone without leaving, the same, one of them after arriving */
	nrec = 0;
	malloc_coll(3, 32);
	malloc_coll(0, 32);
	services_gone(&svc, 0);
	expect_count(0);
	services_gone(&svc, 1);
	expect_coll_chunks(0, 0x8u, BASE + 32, 0, 1);
}

Test(services, collective_malloc_into_a_barrier_fails_at_once)
{
	barrier(0);
	malloc_coll(1, 16);
	expect_each(0, 0x3u, MSG_ERROR, DSM_ERR_COLLECTIVE_MISMATCH, 1);
	nrec = 0;
	malloc_coll(0, 16);
	malloc_coll(1, 16);
	bcast(2, 0, 0);
	expect_each(0, 0x7u, MSG_ERROR, DSM_ERR_COLLECTIVE_MISMATCH, 2);
	cr_assert_eq(atomic_load(&pt->allocated), 0u);
}

Test(services, collective_malloc_in_a_job_of_one_node_is_writable_at_once)
{
	struct pagetable *pt1 = pt_create(1, NP, BASE);
	struct msg m = {.type = MSG_MALLOC, .flags = MSGF_COLLECTIVE, .arg = 100};
	struct services s1;

	cr_assert_not_null(pt1);
	cr_assert_eq(services_init(&s1, pt1, &io), 0);
	services_arrive(&s1, 0, COLL_MALLOC, &m);
	m.arg = 9ull * DSM_PAGE_SIZE; /* large: pages of its own, still the node's */
	services_arrive(&s1, 0, COLL_MALLOC, &m);
	m.arg = 5;
	services_arrive(&s1, 0, COLL_MALLOC, &m);
	expect_count(3);
	cr_assert_eq(recs[0].flags, MSGF_COLLECTIVE, "fresh in a job of one node");
	cr_assert_eq(recs[0].arg, BASE);
	cr_assert_eq(recs[0].page, CHUNK_PAGES);
	cr_assert_eq(recs[1].flags, MSGF_COLLECTIVE);
	cr_assert_eq(recs[1].arg, BASE + (uint64_t)CHUNK_PAGES * DSM_PAGE_SIZE);
	cr_assert_eq(recs[1].page, 9u);
	cr_assert_eq(recs[2].arg, BASE + 112);
	cr_assert_eq(recs[2].page, 0u);
	for (uint32_t p = 0; p < CHUNK_PAGES + 9; p++) {
		cr_assert_eq(pt_entry(pt1, p)->writer, 0, "page %u not node 0's", p);
		cr_assert_eq(pt_entry(pt1, p)->fresh, 0u, "page %u fresh", p);
	}
	services_free(&s1);
	pt_destroy(pt1);
}

/* ---- sm_bcast_buf ----------------------------------------------------------- */

static void bcast_buf(uint32_t node, uint32_t root, uint64_t len)
{
	deliver(node, MSG_BCAST_BUF, root, len);
}

/* Every waiting node of `nodes` got BCAST_BUF_GO with len, the root last,
 * and the root's allowance was len when (and only when) its GO went out
 * (`watch` must be the root, and its allowance 0 before). */
static void expect_go(unsigned nodes, uint32_t root, uint64_t len)
{
	cr_assert_eq(watch, (int32_t)root);
	cr_assert_eq(nrec, __builtin_popcount(nodes));
	for (int i = 0; i < nrec; i++) {
		struct rec *r = &recs[i];

		cr_assert(nodes & (1u << r->to), "GO to node %u, not waiting", r->to);
		cr_assert_eq(r->type, MSG_BCAST_BUF_GO, "node %u: %s", r->to, msg_type_name(r->type));
		cr_assert_eq(r->arg, len);
		cr_assert_eq(r->flags, 0u);
		cr_assert_eq(r->node, 0u);
		cr_assert_eq(r->to == root, i == nrec - 1, "the root's GO is not the last one");
		cr_assert_eq(r->allowed, r->to == root ? len : 0u,
			     "the root's allowance %llu when node %u's GO went out",
			     (unsigned long long)r->allowed, r->to);
	}
	cr_assert_eq(pt->nodes[root].bcast_next, 0u);
	cr_assert_eq(pt->nodes[root].bcast_end, len);
}

Test(services, bcast_buf_sends_go_to_the_root_last_with_its_allowance)
{
	watch = 1;
	bcast_buf(2, 1, 300000);
	bcast_buf(1, 1, 300000);
	bcast_buf(0, 1, 300000);
	expect_count(0);
	bcast_buf(3, 1, 300000);
	expect_go(ALL, 1, 300000);

	/* the next one (here root 3, 0 bytes) starts clean */
	nrec = 0;
	watch = 3;
	node_bcast_allow(pt, 3, 0);
	for (uint32_t n = 0; n < NN; n++)
		bcast_buf(n, 3, 77);
	expect_go(ALL, 3, 77);
	/* 0 bytes: GO alone, an allowance of nothing */
	nrec = 0;
	node_bcast_allow(pt, 3, 0);
	for (uint32_t n = 0; n < NN; n++)
		bcast_buf(n, 3, 0);
	expect_go(ALL, 3, 0);
}

Test(services, bcast_buf_roots_that_disagree_fail_every_node)
{
	bcast_buf(0, 0, 10);
	bcast_buf(1, 0, 10);
	bcast_buf(2, 1, 10);
	expect_count(0);
	bcast_buf(3, 0, 10);
	expect_each(0, ALL, MSG_ERROR, DSM_ERR_BCAST_MISMATCH, 0);
	cr_assert_eq(pt->nodes[0].bcast_end, 0u, "an allowance for a failed bcast_buf");
}

Test(services, bcast_buf_lengths_that_disagree_fail_every_node)
{
	bcast_buf(0, 2, 4096);
	bcast_buf(1, 2, 4097);
	bcast_buf(2, 2, 4096);
	bcast_buf(3, 2, 4096);
	expect_count((int)NN);
	for (int i = 0; i < nrec; i++) {
		cr_assert_eq(recs[i].type, MSG_ERROR);
		cr_assert_eq(recs[i].arg, DSM_ERR_SIZE_MISMATCH);
		cr_assert_eq(recs[i].node, recs[i].to == 1 ? 0u : 1u);
		cr_assert_eq(recs[i].page, recs[i].to == 1 ? 4096u : 4097u);
	}
	cr_assert_eq(pt->nodes[2].bcast_end, 0u, "an allowance for a failed bcast_buf");
}

Test(services, bcast_buf_root_that_left_fails_every_node)
{
	node_exit(3);
	bcast_buf(0, 3, 8);
	bcast_buf(1, 3, 8);
	expect_count(0);
	bcast_buf(2, 3, 8);
	expect_each(0, 0x7u, MSG_ERROR, DSM_ERR_BCAST_ROOT, 3);
}

Test(services, bcast_buf_root_gone_after_arriving_fails_the_others)
{
	bcast_buf(1, 1, 8);
	bcast_buf(0, 1, 8);
	bcast_buf(2, 1, 8);
	services_gone(&svc, 1); /* it cannot send its buffer now */
	expect_count(0);
	bcast_buf(3, 1, 8);
	expect_each(0, 0xdu, MSG_ERROR, DSM_ERR_BCAST_ROOT, 1);
}

Test(services, bcast_buf_skips_nodes_that_left)
{
	watch = 0;
	node_exit(1);
	bcast_buf(3, 0, 5);
	bcast_buf(0, 0, 5);
	expect_count(0);
	bcast_buf(2, 0, 5);
	expect_go(0xdu, 0, 5);
}

Test(services, bcast_buf_and_bcast_are_different_collectives)
{
	bcast(0, 0, 1);
	bcast_buf(1, 0, 1);
	expect_each(0, 0x3u, MSG_ERROR, DSM_ERR_COLLECTIVE_MISMATCH, 1);
	nrec = 0;
	bcast_buf(1, 0, 1);
	malloc_coll(2, 1);
	expect_each(0, 0x6u, MSG_ERROR, DSM_ERR_COLLECTIVE_MISMATCH, 2);
}

/* ---- the root's proxy: only what the allowance permits goes out ---------- */

static int forward(uint32_t root, uint64_t offset, uint32_t length, const char **why)
{
	static uint8_t piece[DSM_MAX_RUN * DSM_PAGE_SIZE];
	struct msg m = {.type = MSG_BCAST_DATA, .length = length, .arg = offset};

	*why = NULL;
	return node_bcast_forward(pt, root, &m, piece, why);
}

Test(services, bcast_data_needs_an_allowance_and_comes_in_order)
{
	const char *why;

	/* nobody to send to here: the others have left (node_send skips them) */
	for (uint32_t n = 1; n < NN; n++)
		pt->nodes[n].state = NODE_EXITED;
	cr_assert_eq(forward(0, 0, 1, &why), -1, "a piece without GO was forwarded");
	cr_assert_str_eq(why, "a broadcast piece no BCAST_BUF_GO allowed");

	node_bcast_allow(pt, 0, 300000);
	cr_assert_eq(forward(0, 4096, 4096, &why), -1);
	cr_assert_str_eq(why, "a broadcast piece out of order (not at the offset where the last one "
			      "ended)");
	cr_assert_eq(forward(0, 0, DSM_MAX_RUN * DSM_PAGE_SIZE, &why), 0, "%s", why);
	cr_assert_eq(pt->nodes[0].bcast_next, DSM_MAX_RUN * DSM_PAGE_SIZE);
	cr_assert_eq(forward(0, DSM_MAX_RUN * DSM_PAGE_SIZE, 300000 - DSM_MAX_RUN * DSM_PAGE_SIZE + 1,
			     &why), -1);
	cr_assert_str_eq(why, "a broadcast piece past the length BCAST_BUF_GO allowed");
	cr_assert_eq(forward(0, DSM_MAX_RUN * DSM_PAGE_SIZE, 300000 - DSM_MAX_RUN * DSM_PAGE_SIZE,
			     &why), 0, "%s", why);
	/* all sent: nothing more */
	cr_assert_eq(forward(0, 300000, 1, &why), -1);
	cr_assert_str_eq(why, "a broadcast piece no BCAST_BUF_GO allowed");
	/* another node's allowance is its own */
	cr_assert_eq(forward(1, 0, 1, &why), -1);
}
