/*
 * test_coherence.c - the page protocol state machine (allocator/coherence.c)
 * driven through a fake coherence_io that records every message sent:
 * grants, revokes, invalidations (all at once, WANT_DATA only to a writer),
 * upgrades without data, the per-page FIFO of waiting faults, replies that
 * were never asked for, unallocated pages, pages lost with a dead writer,
 * write-back on exit, fresh chunks, and nodes that vanish mid-transaction.
 */
#include <criterion/criterion.h>
#include <stdatomic.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../../allocator/pages/coherence.h"
#include "../../common/message.h"

#define NN 8u   /* nodes */
#define NP 16u  /* pages */
#define BASE 0x600000000000ull
#define MAXREC 64
#define RUNMAX 8u /* the longest run a test sends */

struct rec {
	uint32_t to;
	uint8_t type, flags;
	uint32_t page, node, length;
	uint64_t arg;
	int has_payload;
	int result;
	uint8_t data[RUNMAX * DSM_PAGE_SIZE];
};

static struct rec recs[MAXREC];
static int nrec;
static int gone[NN];
static int nlog;
static struct pagetable *pt;

static int fake_send(struct coherence_io *io, uint32_t node, const struct msg *m,
		     const void *payload)
{
	(void)io;
	cr_assert_lt(nrec, MAXREC, "too many messages sent (a loop?)");
	cr_assert_lt(node, NN, "send to node %u out of range", node);
	struct rec *r = &recs[nrec++];

	r->to = node;
	r->type = m->type;
	r->flags = m->flags;
	r->page = m->page;
	r->node = m->node;
	r->length = m->length;
	r->arg = m->arg;
	r->has_payload = payload != NULL;
	cr_assert_leq(m->length, sizeof(r->data), "a run longer than the tests use");
	if (payload && m->length)
		memcpy(r->data, payload, m->length);
	r->result = gone[node] ? -1 : 0;
	return r->result;
}

static void fake_log(struct coherence_io *io, uint32_t node, int64_t page, enum log_action action,
		     int64_t peer, int64_t us)
{
	(void)io;
	(void)node;
	(void)page;
	(void)peer;
	(void)us;
	cr_assert_lt((unsigned)action, LOG_NACTIONS);
	nlog++;
}

static struct coherence_io io = {.send = fake_send, .log = fake_log};

/* Node n has left or died: sends to it fail, and the engine sends none. */
static void go_away(uint32_t n)
{
	gone[n] = 1;
	pt->nodes[n].state = NODE_DIED;
}

static void setup(void)
{
	pt = pt_create(NN, NP, BASE);
	cr_assert_not_null(pt);
	pt_entries_init(pt, 0, NP);
	atomic_store(&pt->allocated, NP);
	nrec = 0;
	nlog = 0;
	memset(gone, 0, sizeof(gone));
}

static void teardown(void)
{
	pt_destroy(pt);
}

TestSuite(coherence, .init = setup, .fini = teardown, .timeout = 10);

/* ---- helpers ---------------------------------------------------------- */

/* A fault that the engine must accept. */
static void fault_ok(struct pagetable *t, struct coherence_io *o, uint32_t node, uint32_t page,
		     int write)
{
	const char *why = NULL;

	cr_assert_eq(coh_fault(t, o, node, page, 1, write, 7, &why), 0, "fault rejected: %s",
		     why ? why : "?");
}

static struct page_entry *E(uint32_t page)
{
	return pt_entry(pt, page);
}

/* The node of a waiter in a page's queue (a node may wait several times:
 * one waiter per outstanding fault, its threads'). */
static int32_t waiter_node(int32_t w)
{
	return w == PT_NONE ? PT_NONE : w / (int32_t)DSM_MAX_NODE_FAULTS;
}

/* Pages of node's outstanding faults not yet answered, all slots together. */
static int faulting(uint32_t node)
{
	int n = 0;

	for (uint32_t f = 0; f < DSM_MAX_NODE_FAULTS; f++)
		n += atomic_load(&pt->nodes[node].faults[f].pending);
	return n;
}

static int is_reader(uint32_t page, uint32_t node)
{
	return bit_test(pt_readers(pt, E(page)), node);
}

static int nreaders(uint32_t page)
{
	int n = 0;

	for (uint32_t i = 0; i < NN; i++)
		n += is_reader(page, i);
	return n;
}

static void expect_msg(int i, uint32_t to, uint8_t type, uint8_t flags, uint32_t page,
		       uint32_t length)
{
	cr_assert_lt(i, nrec, "message %d was not sent (only %d)", i, nrec);
	struct rec *r = &recs[i];

	cr_assert_eq(r->to, to, "message %d: to node %u, want %u", i, r->to, to);
	cr_assert_eq(r->type, type, "message %d: type %s, want %s", i, msg_type_name(r->type),
		     msg_type_name(type));
	cr_assert_eq(r->flags, flags, "message %d: flags 0x%x, want 0x%x", i, r->flags, flags);
	cr_assert_eq(r->page, page, "message %d: page %u, want %u", i, r->page, page);
	cr_assert_eq(r->length, length, "message %d: length %u, want %u", i, r->length, length);
	if (length)
		cr_assert(r->has_payload, "message %d: payload pointer missing", i);
}

static void expect_payload(int i, uint8_t byte)
{
	cr_assert_eq(recs[i].length, DSM_PAGE_SIZE);
	for (unsigned k = 0; k < DSM_PAGE_SIZE; k++)
		cr_assert_eq(recs[i].data[k], byte, "message %d payload byte %u: 0x%x, want 0x%x", i,
			     k, recs[i].data[k], byte);
}

/*
 * Message i grants page to node, writable or not, carrying the page with
 * every byte equal to byte (byte < 0: an upgrade, no data); and the page
 * table agrees: node is now the writer and nobody reads, or node is one of
 * the readers and nobody writes.
 */
static void expect_granted(int i, uint32_t node, uint32_t page, int write, int byte)
{
	expect_msg(i, node, MSG_GRANT, write ? MSGF_WRITE : 0, page, byte < 0 ? 0 : DSM_PAGE_SIZE);
	if (byte < 0)
		cr_assert(!recs[i].has_payload, "message %d: an upgrade carries no page", i);
	else
		expect_payload(i, (uint8_t)byte);
	if (write) {
		cr_assert_eq(E(page)->writer, (int32_t)node, "page %u: writer %d, want %u", page,
			     E(page)->writer, node);
		cr_assert_eq(nreaders(page), 0, "page %u: readers besides its writer", page);
	} else {
		cr_assert(is_reader(page, node), "page %u: node %u is not a reader", page, node);
		cr_assert_eq(E(page)->writer, PT_NONE, "page %u: a writer besides readers", page);
	}
}

static void expect_count(int n)
{
	cr_assert_eq(nrec, n, "%d messages sent, want %d", nrec, n);
}

static void set_store(uint32_t page, uint8_t byte)
{
	memset(pt_page_data(pt, page), byte, DSM_PAGE_SIZE);
}

static void expect_store(uint32_t page, uint8_t byte)
{
	const uint8_t *d = pt_page_data(pt, page);

	for (unsigned k = 0; k < DSM_PAGE_SIZE; k++)
		cr_assert_eq(d[k], byte, "store of page %u byte %u: 0x%x, want 0x%x", page, k, d[k],
			     byte);
}

/* Give node a writable copy of a fresh page, then forget the messages. */
static void make_writer(uint32_t node, uint32_t page)
{
	fault_ok(pt, &io, node, page, 1);
	cr_assert_eq(E(page)->writer, (int32_t)node);
	nrec = 0;
}

static void make_reader(uint32_t node, uint32_t page)
{
	fault_ok(pt, &io, node, page, 0);
	cr_assert(is_reader(page, node));
	nrec = 0;
}

static void reply_ok(uint32_t node, uint32_t page, const uint8_t *data)
{
	const char *why = NULL;
	int rc = coh_reply(pt, &io, node, page, 1, data, &why);

	cr_assert_eq(rc, 0, "coh_reply from %u: %s", node, why ? why : "");
}

/* ---- faults on idle pages --------------------------------------------- */

Test(coherence, read_fault_fresh_page_grants_at_once)
{
	set_store(3, 0x5a);
	fault_ok(pt, &io, 2, 3, 0);
	expect_count(1);
	expect_granted(0, 2, 3, 0, 0x5a);
	cr_assert_eq(nreaders(3), 1);
	cr_assert_eq(E(3)->requester, PT_NONE);
	cr_assert_gt(nlog, 0, "the log hook was never called");
}

Test(coherence, write_fault_fresh_page_grants_write_with_data)
{
	set_store(4, 0x11);
	fault_ok(pt, &io, 5, 4, 1);
	expect_count(1);
	expect_granted(0, 5, 4, 1, 0x11);
	cr_assert_eq(E(4)->requester, PT_NONE);
}

Test(coherence, second_reader_gets_data_without_messages_to_first)
{
	set_store(0, 0x21);
	make_reader(1, 0);
	fault_ok(pt, &io, 2, 0, 0);
	expect_count(1);
	expect_granted(0, 2, 0, 0, 0x21);
	cr_assert(is_reader(0, 1));
	cr_assert_eq(nreaders(0), 2);
}

/* ---- revoke and invalidate -------------------------------------------- */

Test(coherence, read_fault_on_written_page_revokes_writer)
{
	static uint8_t data[DSM_PAGE_SIZE];

	set_store(6, 0x00);
	make_writer(1, 6);
	fault_ok(pt, &io, 2, 6, 0);
	expect_count(1);
	expect_msg(0, 1, MSG_REVOKE, 0, 6, 0);
	cr_assert_eq(E(6)->requester, 2);
	cr_assert(bit_test(pt_pending(pt, E(6)), 1));
	cr_assert(!is_reader(6, 2), "no copy before the grant");

	memset(data, 0xcd, sizeof(data));
	reply_ok(1, 6, data);
	expect_store(6, 0xcd);
	expect_count(2);
	expect_granted(1, 2, 6, 0, 0xcd);
	cr_assert(is_reader(6, 1), "a revoked writer keeps a read copy");
	cr_assert_eq(nreaders(6), 2);
	cr_assert_eq(E(6)->requester, PT_NONE);
}

Test(coherence, write_fault_with_three_readers_invalidates_all_at_once)
{
	set_store(2, 0x42);
	make_reader(1, 2);
	make_reader(3, 2);
	make_reader(6, 2);
	fault_ok(pt, &io, 4, 2, 1);
	/* all three invalidations are out before any reply */
	expect_count(3);
	int seen[NN] = {0};

	for (int i = 0; i < 3; i++) {
		expect_msg(i, recs[i].to, MSG_INVALIDATE, 0, 2, 0);
		seen[recs[i].to]++;
	}
	cr_assert(seen[1] == 1 && seen[3] == 1 && seen[6] == 1, "invalidated %d %d %d", seen[1],
		  seen[3], seen[6]);
	cr_assert_eq(E(2)->requester, 4);

	reply_ok(3, 2, NULL);
	expect_count(3);
	reply_ok(1, 2, NULL);
	expect_count(3);
	reply_ok(6, 2, NULL);
	expect_count(4);
	expect_granted(3, 4, 2, 1, 0x42);
	cr_assert_eq(E(2)->requester, PT_NONE);
}

Test(coherence, upgrade_by_reader_grants_without_data)
{
	make_reader(1, 5);
	make_reader(2, 5);
	fault_ok(pt, &io, 1, 5, 1);
	expect_count(1);
	expect_msg(0, 2, MSG_INVALIDATE, 0, 5, 0); /* not to the requester itself */
	reply_ok(2, 5, NULL);
	expect_count(2);
	expect_granted(1, 1, 5, 1, -1);
}

Test(coherence, upgrade_by_only_reader_is_immediate)
{
	make_reader(3, 7);
	fault_ok(pt, &io, 3, 7, 1);
	expect_count(1);
	expect_granted(0, 3, 7, 1, -1);
}

Test(coherence, write_fault_on_written_page_wants_data)
{
	static uint8_t data[DSM_PAGE_SIZE];

	make_writer(1, 9);
	fault_ok(pt, &io, 2, 9, 1);
	expect_count(1);
	expect_msg(0, 1, MSG_INVALIDATE, MSGF_WANT_DATA, 9, 0);
	memset(data, 0x77, sizeof(data));
	reply_ok(1, 9, data);
	/* the page goes on to the new writer as it came: the store, which
	 * holds only what nobody writes, is not copied to */
	expect_count(2);
	expect_granted(1, 2, 9, 1, 0x77);
	cr_assert(!is_reader(9, 1), "an invalidated writer keeps nothing");
}

/* ---- queueing ---------------------------------------------------------- */

Test(coherence, concurrent_faults_on_one_page_are_queued)
{
	static uint8_t data[DSM_PAGE_SIZE];

	make_writer(1, 4);
	fault_ok(pt, &io, 2, 4, 0);
	expect_count(1);
	expect_msg(0, 1, MSG_REVOKE, 0, 4, 0);
	fault_ok(pt, &io, 3, 4, 1);
	expect_count(1); /* queued: nothing sent for node 3 yet */
	cr_assert_eq(E(4)->requester, 2);
	cr_assert_eq(waiter_node(E(4)->queue_head), 3);

	memset(data, 0x3c, sizeof(data));
	reply_ok(1, 4, data);
	/* node 2 is granted, then node 3's write fault starts by itself and
	 * invalidates both readers, 1 (kept a copy) and 2 (just granted) */
	expect_count(4);
	expect_msg(1, 2, MSG_GRANT, 0, 4, DSM_PAGE_SIZE);
	expect_payload(1, 0x3c);
	cr_assert(recs[2].to != recs[3].to);
	for (int i = 2; i < 4; i++) {
		cr_assert(recs[i].to == 1 || recs[i].to == 2, "invalidate to %u", recs[i].to);
		expect_msg(i, recs[i].to, MSG_INVALIDATE, 0, 4, 0);
	}
	cr_assert_eq(E(4)->requester, 3);
	cr_assert_eq(E(4)->queue_head, PT_NONE);

	reply_ok(1, 4, NULL);
	expect_count(4);
	reply_ok(2, 4, NULL);
	expect_count(5);
	expect_granted(4, 3, 4, 1, 0x3c);
	cr_assert_eq(E(4)->requester, PT_NONE);
}

Test(coherence, second_fault_waits_until_first_completes)
{
	/* two write faults on a page held by node 1 */
	static uint8_t data[DSM_PAGE_SIZE];

	make_writer(1, 4);
	fault_ok(pt, &io, 2, 4, 1);
	fault_ok(pt, &io, 3, 4, 1);
	expect_count(1);
	expect_msg(0, 1, MSG_INVALIDATE, MSGF_WANT_DATA, 4, 0);
	memset(data, 0x5e, sizeof(data));
	reply_ok(1, 4, data);
	/* 2 gets the page, then 3's transaction takes it from 2 */
	expect_count(3);
	expect_granted(1, 2, 4, 1, 0x5e);
	expect_msg(2, 2, MSG_INVALIDATE, MSGF_WANT_DATA, 4, 0);
	cr_assert_eq(E(4)->requester, 3);
	memset(data, 0x5f, sizeof(data));
	reply_ok(2, 4, data);
	expect_count(4);
	expect_granted(3, 3, 4, 1, 0x5f);
}

Test(coherence, waiting_readers_granted_in_fifo_order)
{
	static uint8_t data[DSM_PAGE_SIZE];

	make_writer(1, 8);
	fault_ok(pt, &io, 5, 8, 0);
	fault_ok(pt, &io, 3, 8, 0);
	fault_ok(pt, &io, 7, 8, 0);
	fault_ok(pt, &io, 2, 8, 0);
	expect_count(1);
	memset(data, 0x99, sizeof(data));
	reply_ok(1, 8, data);
	expect_count(5);
	expect_granted(1, 5, 8, 0, 0x99);
	expect_granted(2, 3, 8, 0, 0x99);
	expect_granted(3, 7, 8, 0, 0x99);
	expect_granted(4, 2, 8, 0, 0x99);
	cr_assert_eq(nreaders(8), 5);
	cr_assert_eq(E(8)->queue_head, PT_NONE);
	cr_assert_eq(E(8)->queue_tail, PT_NONE);
}

Test(coherence, waiter_that_left_is_skipped)
{
	static uint8_t data[DSM_PAGE_SIZE];

	make_writer(1, 8);
	fault_ok(pt, &io, 2, 8, 0);
	fault_ok(pt, &io, 3, 8, 0);
	fault_ok(pt, &io, 4, 8, 0);
	pt->nodes[3].state = NODE_DIED;
	reply_ok(1, 8, data);
	expect_count(3);
	expect_granted(1, 2, 8, 0, 0);
	expect_granted(2, 4, 8, 0, 0);
	cr_assert(!is_reader(8, 3));
}

Test(coherence, different_pages_proceed_independently)
{
	static uint8_t data[DSM_PAGE_SIZE];

	make_writer(1, 0);
	fault_ok(pt, &io, 1, 1, 1);
	nrec = 0;
	fault_ok(pt, &io, 2, 0, 0);
	fault_ok(pt, &io, 3, 1, 0);
	expect_count(2);
	expect_msg(0, 1, MSG_REVOKE, 0, 0, 0);
	expect_msg(1, 1, MSG_REVOKE, 0, 1, 0);
	/* page 1 completes while page 0 still waits */
	memset(data, 0xb1, sizeof(data));
	reply_ok(1, 1, data);
	expect_count(3);
	expect_granted(2, 3, 1, 0, 0xb1);
	cr_assert_eq(E(0)->requester, 2);
	cr_assert_eq(E(1)->requester, PT_NONE);
	/* and a third page needs nobody */
	fault_ok(pt, &io, 4, 2, 1);
	expect_count(4);
	expect_granted(3, 4, 2, 1, 0);
	memset(data, 0xb0, sizeof(data));
	reply_ok(1, 0, data);
	expect_count(5);
	expect_granted(4, 2, 0, 0, 0xb0);
}

/* ---- misbehaving replies ----------------------------------------------- */

Test(coherence, reply_never_asked_for)
{
	static uint8_t data[DSM_PAGE_SIZE];
	const char *why = NULL;

	/* idle page */
	cr_assert_eq(coh_reply(pt, &io, 2, 3, 1, NULL, &why), -1);
	cr_assert_not_null(why);
	why = NULL;
	cr_assert_eq(coh_reply(pt, &io, 2, 3, 1, data, &why), -1);
	cr_assert_not_null(why);
	expect_count(0);
	/* page in a transaction, but this node was not asked */
	make_writer(1, 3);
	fault_ok(pt, &io, 2, 3, 0);
	nrec = 0;
	why = NULL;
	cr_assert_eq(coh_reply(pt, &io, 5, 3, 1, NULL, &why), -1);
	cr_assert_not_null(why);
	why = NULL;
	cr_assert_eq(coh_reply(pt, &io, 2, 3, 1, data, &why), -1);
	cr_assert_not_null(why);
	expect_count(0);
	cr_assert_eq(E(3)->requester, 2);
	cr_assert(bit_test(pt_pending(pt, E(3)), 1), "still waiting for the writer");
}

Test(coherence, second_reply_from_same_node_rejected)
{
	const char *why = NULL;

	make_reader(1, 3);
	make_reader(2, 3);
	fault_ok(pt, &io, 4, 3, 1);
	reply_ok(1, 3, NULL);
	cr_assert_eq(coh_reply(pt, &io, 1, 3, 1, NULL, &why), -1);
	cr_assert_not_null(why);
	cr_assert_eq(E(3)->requester, 4, "a duplicate must not complete the transaction");
	expect_count(2);
}

Test(coherence, data_from_a_reader_rejected)
{
	static uint8_t data[DSM_PAGE_SIZE];
	const char *why = NULL;

	set_store(10, 0x10);
	make_reader(1, 10);
	make_reader(2, 10);
	fault_ok(pt, &io, 3, 10, 1);
	nrec = 0;
	memset(data, 0xee, sizeof(data));
	cr_assert_eq(coh_reply(pt, &io, 1, 10, 1, data, &why), -1);
	cr_assert_not_null(why);
	expect_store(10, 0x10);
	cr_assert(bit_test(pt_pending(pt, E(10)), 1), "the bad reply must not count");
	reply_ok(1, 10, NULL);
	reply_ok(2, 10, NULL);
	expect_count(1);
	expect_granted(0, 3, 10, 1, 0x10);
}

Test(coherence, ack_from_the_writer_rejected)
{
	static uint8_t data[DSM_PAGE_SIZE];
	const char *why = NULL;

	make_writer(1, 11);
	fault_ok(pt, &io, 2, 11, 0);
	nrec = 0;
	cr_assert_eq(coh_reply(pt, &io, 1, 11, 1, NULL, &why), -1);
	cr_assert_not_null(why);
	expect_count(0);
	cr_assert_eq(E(11)->writer, 1);
	memset(data, 0x44, sizeof(data));
	reply_ok(1, 11, data);
	expect_count(1);
	expect_granted(0, 2, 11, 0, 0x44);
}

/* ---- unallocated and lost pages ---------------------------------------- */

Test(coherence, fault_beyond_allocated_is_an_error)
{
	atomic_store(&pt->allocated, 4);
	fault_ok(pt, &io, 2, 4, 0);
	expect_count(1);
	expect_msg(0, 2, MSG_ERROR, 0, 4, 0);
	cr_assert_eq(recs[0].arg, DSM_ERR_UNALLOCATED);
	fault_ok(pt, &io, 3, NP - 1, 1);
	expect_count(2);
	expect_msg(1, 3, MSG_ERROR, 0, NP - 1, 0);
	cr_assert_eq(recs[1].arg, DSM_ERR_UNALLOCATED);
	cr_assert_eq(E(4)->requester, PT_NONE);
	cr_assert_eq(E(NP - 1)->writer, PT_NONE);
	/* the last allocated page is fine */
	fault_ok(pt, &io, 2, 3, 0);
	expect_count(3);
	expect_msg(2, 2, MSG_GRANT, 0, 3, DSM_PAGE_SIZE);
}

Test(coherence, nothing_allocated_yet)
{
	atomic_store(&pt->allocated, 0);
	fault_ok(pt, &io, 0, 0, 1);
	expect_count(1);
	expect_msg(0, 0, MSG_ERROR, 0, 0, 0);
	cr_assert_eq(recs[0].arg, DSM_ERR_UNALLOCATED);
}

Test(coherence, dead_writer_with_pending_revoke_loses_page)
{
	make_writer(1, 12);
	fault_ok(pt, &io, 2, 12, 0);
	expect_count(1);
	expect_msg(0, 1, MSG_REVOKE, 0, 12, 0);
	coh_node_died(pt, &io, 1);
	expect_count(2);
	expect_msg(1, 2, MSG_ERROR, 0, 12, 0);
	cr_assert_eq(recs[1].arg, DSM_ERR_PAGE_LOST);
	cr_assert_eq(recs[1].node, 1u, "the error names the dead node");
	cr_assert_eq(E(12)->writer, PT_NONE);
	cr_assert_eq(E(12)->requester, PT_NONE);
	cr_assert_eq(E(12)->lost_by, 1);
	cr_assert(!is_reader(12, 2));

	/* later faults, read or write, get the same error */
	fault_ok(pt, &io, 3, 12, 0);
	fault_ok(pt, &io, 4, 12, 1);
	expect_count(4);
	expect_msg(2, 3, MSG_ERROR, 0, 12, 0);
	cr_assert_eq(recs[2].arg, DSM_ERR_PAGE_LOST);
	cr_assert_eq(recs[2].node, 1u);
	expect_msg(3, 4, MSG_ERROR, 0, 12, 0);
	cr_assert_eq(recs[3].arg, DSM_ERR_PAGE_LOST);
	cr_assert_eq(recs[3].node, 1u);
	cr_assert_eq(E(12)->writer, PT_NONE);
}

Test(coherence, dead_writer_queued_waiters_all_get_error)
{
	make_writer(1, 12);
	fault_ok(pt, &io, 2, 12, 0);
	fault_ok(pt, &io, 3, 12, 1);
	coh_node_died(pt, &io, 1);
	expect_count(3);
	expect_msg(1, 2, MSG_ERROR, 0, 12, 0);
	expect_msg(2, 3, MSG_ERROR, 0, 12, 0);
	cr_assert_eq(recs[1].arg, DSM_ERR_PAGE_LOST);
	cr_assert_eq(recs[2].arg, DSM_ERR_PAGE_LOST);
	cr_assert_eq(recs[2].node, 1u);
}

Test(coherence, dead_writer_without_transaction_loses_page_quietly)
{
	make_writer(1, 13);
	make_reader(2, 14);
	coh_node_died(pt, &io, 1);
	expect_count(0);
	cr_assert_eq(E(13)->lost_by, 1);
	cr_assert_eq(E(14)->lost_by, PT_NONE, "a page it did not hold is not lost");
	fault_ok(pt, &io, 2, 13, 0);
	expect_count(1);
	expect_msg(0, 2, MSG_ERROR, 0, 13, 0);
	cr_assert_eq(recs[0].arg, DSM_ERR_PAGE_LOST);
	cr_assert_eq(recs[0].node, 1u);
}

Test(coherence, dead_reader_does_not_block_invalidation)
{
	make_reader(1, 5);
	make_reader(2, 5);
	fault_ok(pt, &io, 3, 5, 1);
	expect_count(2);
	coh_node_died(pt, &io, 1);
	expect_count(2);
	reply_ok(2, 5, NULL);
	expect_count(3);
	expect_granted(2, 3, 5, 1, 0);
	cr_assert_eq(E(5)->lost_by, PT_NONE, "readers dying lose nothing");
}

Test(coherence, gone_writer_on_revoke_loses_page)
{
	make_writer(1, 6);
	go_away(1);
	fault_ok(pt, &io, 2, 6, 0);
	expect_count(1); /* nothing is sent to a node that is gone */
	expect_msg(0, 2, MSG_ERROR, 0, 6, 0);
	cr_assert_eq(recs[0].arg, DSM_ERR_PAGE_LOST);
	cr_assert_eq(recs[0].node, 1u, "the error names the gone writer");
	cr_assert_eq(E(6)->requester, PT_NONE);
}

/* ---- release ----------------------------------------------------------- */

Test(coherence, release_by_writer_updates_store)
{
	static uint8_t data[DSM_PAGE_SIZE];
	const char *why = NULL;

	make_writer(1, 7);
	memset(data, 0x6e, sizeof(data));
	cr_assert_eq(coh_release(pt, &io, 1, 7, 1, data, &why), 0);
	expect_store(7, 0x6e);
	cr_assert_eq(E(7)->writer, PT_NONE);
	expect_count(0);
	/* the next reader is served from the store, nobody is asked */
	fault_ok(pt, &io, 2, 7, 0);
	expect_count(1);
	expect_granted(0, 2, 7, 0, 0x6e);
}

Test(coherence, release_by_non_writer_rejected)
{
	static uint8_t data[DSM_PAGE_SIZE];
	const char *why = NULL;

	set_store(7, 0x01);
	cr_assert_eq(coh_release(pt, &io, 1, 7, 1, data, &why), -1);
	cr_assert_not_null(why);
	make_writer(2, 7);
	make_reader(3, 8);
	why = NULL;
	cr_assert_eq(coh_release(pt, &io, 1, 7, 1, data, &why), -1);
	cr_assert_not_null(why);
	why = NULL;
	cr_assert_eq(coh_release(pt, &io, 3, 8, 1, data, &why), -1, "a reader holds nothing writable");
	cr_assert_not_null(why);
	expect_store(7, 0x01);
	cr_assert_eq(E(7)->writer, 2);
}

Test(coherence, release_during_revoke_waits_for_the_reply)
{
	static uint8_t data[DSM_PAGE_SIZE];
	const char *why = NULL;

	set_store(7, 0x00);
	make_writer(1, 7);
	fault_ok(pt, &io, 2, 7, 0);
	memset(data, 0x12, sizeof(data));
	cr_assert_eq(coh_release(pt, &io, 1, 7, 1, data, &why), 0);
	expect_store(7, 0x00);
	cr_assert_eq(E(7)->writer, 1, "the answer to the revoke carries the page");
	memset(data, 0x13, sizeof(data));
	reply_ok(1, 7, data);
	expect_count(2);
	expect_granted(1, 2, 7, 0, 0x13);
}

/* ---- chunks ------------------------------------------------------------ */

Test(coherence, grant_chunk_hands_out_writable_pages)
{
	atomic_store(&pt->allocated, 0);
	cr_assert_eq(coh_grant_chunk(pt, &io, 2, 0, 5, 0), 0);
	expect_count(1);
	expect_msg(0, 2, MSG_CHUNK, 0, 5, 0);
	cr_assert_eq(recs[0].arg, BASE);
	cr_assert_eq(atomic_load(&pt->allocated), 5u);
	for (uint32_t p = 0; p < 5; p++)
		cr_assert_eq(E(p)->writer, 2, "page %u", p);
	cr_assert_eq(E(5)->writer, PT_NONE);

	cr_assert_eq(coh_grant_chunk(pt, &io, 3, 5, 4, 0), 0);
	expect_count(2);
	expect_msg(1, 3, MSG_CHUNK, 0, 4, 0);
	cr_assert_eq(recs[1].arg, BASE + 5ull * DSM_PAGE_SIZE);
	cr_assert_eq(atomic_load(&pt->allocated), 9u);
	for (uint32_t p = 5; p < 9; p++)
		cr_assert_eq(E(p)->writer, 3, "page %u", p);
	cr_assert_eq(E(9)->writer, PT_NONE);

	/* the owner of a fresh page is asked for it like any writer */
	fault_ok(pt, &io, 4, 6, 1);
	expect_count(3);
	expect_msg(2, 3, MSG_INVALIDATE, MSGF_WANT_DATA, 6, 0);
	/* and a page past the chunks is still unallocated (node 4 still waits: ask with 5) */
	fault_ok(pt, &io, 5, 9, 0);
	expect_count(4);
	expect_msg(3, 5, MSG_ERROR, 0, 9, 0);
	cr_assert_eq(recs[3].arg, DSM_ERR_UNALLOCATED);
}

Test(coherence, grant_chunk_to_gone_node_fails)
{
	atomic_store(&pt->allocated, 0);
	gone[4] = 1;
	cr_assert_eq(coh_grant_chunk(pt, &io, 4, 0, 3, 0), -1);
	expect_count(1);
	expect_msg(0, 4, MSG_CHUNK, 0, 3, 0);
}

Test(coherence, grant_chunk_larger_than_stripes, .timeout = 10)
{
	/* more pages than stripes: every stripe locked once and unlocked again */
	struct pagetable *big = pt_create(NN, 2 * PT_STRIPES + 10, BASE);

	cr_assert_not_null(big);
	cr_assert_eq(coh_grant_chunk(big, &io, 1, 7, PT_STRIPES + 100, 0), 0);
	expect_count(1);
	expect_msg(0, 1, MSG_CHUNK, 0, PT_STRIPES + 100, 0);
	cr_assert_eq(recs[0].arg, BASE + 7ull * DSM_PAGE_SIZE);
	cr_assert_eq(atomic_load(&big->allocated), 7u + PT_STRIPES + 100);
	for (uint32_t p = 7; p < 7 + PT_STRIPES + 100; p++)
		cr_assert_eq(pt_entry(big, p)->writer, 1, "page %u", p);
	/* every stripe is free again: faults on all of them go through */
	for (uint32_t p = 7; p < 7 + PT_STRIPES; p++) {
		nrec = 0;
		/* the revokes are never answered here: free node 2's fault
		 * slots, or its 17th fault would be one too many */
		for (uint32_t f = 0; f < DSM_MAX_NODE_FAULTS; f++)
			atomic_store(&big->nodes[2].faults[f].pending, 0);
		fault_ok(big, &io, 2, p, 0);
		expect_count(1);
		expect_msg(0, 1, MSG_REVOKE, 0, p, 0);
	}
	pt_destroy(big);
}

/* ---- nodes that vanish ------------------------------------------------- */

Test(coherence, gone_reader_does_not_leave_transaction_waiting)
{
	set_store(3, 0x2f);
	make_reader(1, 3);
	make_reader(2, 3);
	make_reader(5, 3);
	go_away(2);
	fault_ok(pt, &io, 4, 3, 1);
	expect_count(2);
	cr_assert(!bit_test(pt_pending(pt, E(3)), 2), "no reply expected from a gone node");
	reply_ok(1, 3, NULL);
	expect_count(2);
	reply_ok(5, 3, NULL);
	expect_count(3);
	expect_granted(2, 4, 3, 1, 0x2f);
}

Test(coherence, only_reader_gone_grants_at_once)
{
	make_reader(1, 3);
	go_away(1);
	fault_ok(pt, &io, 4, 3, 1);
	expect_count(1);
	expect_granted(0, 4, 3, 1, 0);
	cr_assert_eq(E(3)->requester, PT_NONE);
}

Test(coherence, write_grant_to_gone_requester_leaves_no_writer)
{
	go_away(2);
	fault_ok(pt, &io, 2, 1, 1);
	expect_count(0); /* no grant to a node that is gone */
	cr_assert_eq(E(1)->writer, PT_NONE, "nobody holds the page the grant never reached");
	go_away(3);
	fault_ok(pt, &io, 3, 1, 0);
	expect_count(0);
	cr_assert(!is_reader(1, 3), "nor is a gone node a reader");
}

Test(coherence, next_fault_accepted_after_grant)
{
	fault_ok(pt, &io, 1, 0, 0);
	fault_ok(pt, &io, 1, 1, 0);     /* the first was answered: a new one is fine */
	fault_ok(pt, &io, 1, 0, 1);
}

/* ---- page runs, the run window and first touch ------------------------ */

/* Message i is a run of count pages (its `node` field) and, when byte >= 0,
 * carries count pages whose page k is filled with byte + k. */
static void expect_run(int i, uint32_t count, int byte)
{
	cr_assert_eq(recs[i].node, count, "message %d: run of %u pages, want %u", i, recs[i].node,
		     count);
	if (byte < 0) {
		cr_assert_eq(recs[i].length, 0u, "message %d carries no pages", i);
		return;
	}
	cr_assert_eq(recs[i].length, count * DSM_PAGE_SIZE);
	for (uint32_t k = 0; k < count; k++)
		cr_assert_eq(recs[i].data[k * DSM_PAGE_SIZE + 17], (uint8_t)(byte + (int)k),
			     "message %d page %u", i, k);
}

/* count pages, page k filled with byte + k */
static const uint8_t *run_bytes(uint32_t count, uint8_t byte)
{
	static uint8_t pages[RUNMAX * DSM_PAGE_SIZE];

	for (uint32_t k = 0; k < count; k++)
		memset(pages + k * DSM_PAGE_SIZE, byte + (int)k, DSM_PAGE_SIZE);
	return pages;
}

/* The next fault of node continues a sequential run of `window` pages. */
static void set_window(uint32_t node, uint32_t next, uint32_t window)
{
	pt->nodes[node].ra[0].next = next;
	pt->nodes[node].ra[0].window = window;
	pt->nodes[node].ra[0].used = ++pt->nodes[node].ra_clock;
}

Test(coherence, grant_echoes_the_fault_number)
{
	const char *why;

	cr_assert_eq(coh_fault(pt, &io, 1, 0, 1, 0, 41, &why), 0);
	expect_count(1);
	expect_msg(0, 1, MSG_GRANT, 0, 0, DSM_PAGE_SIZE);
	cr_assert_eq(recs[0].arg, 41u);
}

Test(coherence, run_window_grows_on_sequential_faults_and_falls_back)
{
	pt->prefetch = 8;
	for (uint32_t p = 0; p < NP; p++)
		set_store(p, (uint8_t)(0x40 + p));
	fault_ok(pt, &io, 1, 0, 0); /* one page */
	fault_ok(pt, &io, 1, 1, 0); /* continues: two */
	fault_ok(pt, &io, 1, 3, 0); /* four */
	fault_ok(pt, &io, 1, 7, 0); /* eight, the most */
	expect_count(4);
	expect_msg(0, 1, MSG_GRANT, 0, 0, DSM_PAGE_SIZE);
	expect_run(0, 1, 0x40);
	expect_msg(1, 1, MSG_GRANT, 0, 1, 2 * DSM_PAGE_SIZE);
	expect_run(1, 2, 0x41);
	expect_run(2, 4, 0x43);
	expect_run(3, 8, 0x47);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(recs[i].arg, 7u, "a run starting at the fault answers it");
	for (uint32_t p = 0; p < 15; p++)
		cr_assert(is_reader(p, 1), "page %u granted", p);
	cr_assert_not(is_reader(15, 1), "no further than the window");
	/* page 15 is the last: the window stops at the region's end */
	fault_ok(pt, &io, 1, 15, 0);
	expect_count(5);
	expect_run(4, 1, 0x4f);
}

Test(coherence, interleaved_scans_are_streams_of_their_own)
{
	pt->prefetch = 8;
	for (uint32_t p = 0; p < NP; p++)
		set_store(p, (uint8_t)p);
	/* two arrays read in step, as a stencil reads rows of one array and
	 * writes another: each scan grows its own window */
	fault_ok(pt, &io, 1, 0, 0);  /* stream A: 1 page */
	fault_ok(pt, &io, 1, 8, 0);  /* stream B: 1 page */
	fault_ok(pt, &io, 1, 1, 0);  /* A: 2 */
	fault_ok(pt, &io, 1, 9, 0);  /* B: 2 */
	fault_ok(pt, &io, 1, 3, 0);  /* A: 4 */
	fault_ok(pt, &io, 1, 11, 0); /* B: 4 */
	expect_count(6);
	expect_run(0, 1, 0);
	expect_run(1, 1, 8);
	expect_run(2, 2, 1);
	expect_run(3, 2, 9);
	expect_run(4, 4, 3);
	expect_run(5, 4, 11);
	/* a fault that continues neither starts a third at one page */
	fault_ok(pt, &io, 1, 15, 0);
	expect_run(6, 1, 15);
}

Test(coherence, no_runs_with_prefetch_off)
{
	pt->prefetch = 0;
	set_window(1, 0, 4);
	fault_ok(pt, &io, 1, 0, 0);
	expect_count(1);
	expect_run(0, 1, 0);
}

Test(coherence, read_run_from_one_writer_is_one_revoke_and_one_grant)
{
	const char *why = NULL;

	pt->prefetch = 8;
	for (uint32_t p = 0; p < 3; p++)
		make_writer(2, p);
	make_writer(3, 3); /* another writer: the run stops here */
	make_writer(2, 4);
	set_window(1, 0, 4);
	fault_ok(pt, &io, 1, 0, 0);
	expect_count(1);
	expect_msg(0, 2, MSG_REVOKE, 0, 0, 0);
	expect_run(0, 3, -1);
	cr_assert_eq(coh_reply(pt, &io, 2, 0, 3, run_bytes(3, 0x10), &why), 0, "%s", why);
	expect_count(2);
	expect_msg(1, 1, MSG_GRANT, 0, 0, 3 * DSM_PAGE_SIZE);
	expect_run(1, 3, 0x10);
	cr_assert_eq(recs[1].arg, 7u);
	for (uint32_t p = 0; p < 3; p++) {
		cr_assert(is_reader(p, 1) && is_reader(p, 2), "page %u shared by both", p);
		cr_assert_eq(pt_page_data(pt, p)[5], (uint8_t)(0x10 + p), "the store has page %u", p);
	}
	cr_assert_eq(E(3)->writer, 3, "untouched");
	cr_assert_eq(E(4)->writer, 2, "beyond the first page that did not qualify");
	cr_assert_eq(pt->nodes[1].ra[0].next, 3u, "the next sequential fault is at page 3");
}

Test(coherence, write_run_is_forwarded_from_the_old_writer_without_the_store)
{
	const char *why = NULL;

	pt->prefetch = 4;
	for (uint32_t p = 4; p < 8; p++) {
		make_writer(2, p);
		set_store(p, 0xee);
	}
	set_window(1, 4, 2);
	fault_ok(pt, &io, 1, 4, 1);
	expect_count(1);
	expect_msg(0, 2, MSG_INVALIDATE, MSGF_WANT_DATA, 4, 0);
	expect_run(0, 4, -1);
	cr_assert_eq(coh_reply(pt, &io, 2, 4, 4, run_bytes(4, 0x60), &why), 0, "%s", why);
	expect_count(2);
	expect_msg(1, 1, MSG_GRANT, MSGF_WRITE, 4, 4 * DSM_PAGE_SIZE);
	expect_run(1, 4, 0x60);
	for (uint32_t p = 4; p < 8; p++) {
		cr_assert_eq(E(p)->writer, 1);
		cr_assert_eq(nreaders(p), 0);
		expect_store(p, 0xee); /* stale, and nobody reads it: node 1 writes it */
	}
}

Test(coherence, run_reply_with_one_page_not_asked_changes_nothing)
{
	const char *why = NULL;

	pt->prefetch = 4;
	make_writer(2, 0);
	make_writer(2, 1);
	fault_ok(pt, &io, 1, 0, 0); /* window 1: only page 0 is revoked */
	expect_count(1);
	expect_run(0, 1, -1);
	cr_assert_eq(coh_reply(pt, &io, 2, 0, 2, run_bytes(2, 0x30), &why), -1);
	cr_assert_not_null(why);
	cr_assert(bit_test(pt_pending(pt, E(0)), 2), "page 0 still waits for its answer");
	cr_assert_eq(E(0)->writer, 2);
	cr_assert_eq(E(1)->writer, 2);
	expect_count(1);
	reply_ok(2, 0, run_bytes(1, 0x30));
	expect_count(2);
	expect_granted(1, 1, 0, 0, 0x30);
}

Test(coherence, fresh_pages_are_claimed_by_the_first_writer_without_data)
{
	atomic_store(&pt->allocated, 0);
	cr_assert_eq(coh_grant_chunk(pt, &io, 1, 0, 12, 1), 0);
	expect_count(1);
	expect_msg(0, 1, MSG_CHUNK, MSGF_FRESH, 12, 0);
	for (uint32_t p = 0; p < 12; p++) {
		cr_assert_eq(E(p)->writer, PT_NONE, "fresh page %u belongs to nobody", p);
		cr_assert(E(p)->fresh);
	}
	pt->prefetch = 8;
	set_window(2, 0, 4);
	fault_ok(pt, &io, 2, 0, 1);
	expect_count(2);
	expect_msg(1, 2, MSG_GRANT, MSGF_WRITE, 0, 0);
	expect_run(1, 8, -1);
	for (uint32_t p = 0; p < 8; p++) {
		cr_assert_eq(E(p)->writer, 2, "page %u claimed", p);
		cr_assert_not(E(p)->fresh);
	}
	/* the others race for the rest: the first to touch a page wins it */
	set_window(3, 6, 4);
	fault_ok(pt, &io, 3, 6, 1); /* 6 and 7 are node 2's now: with data; 8 is fresh */
	expect_count(3);
	expect_msg(2, 2, MSG_INVALIDATE, MSGF_WANT_DATA, 6, 0);
	expect_run(2, 2, -1);
	set_window(4, 8, 2);
	fault_ok(pt, &io, 4, 8, 0); /* a read of fresh pages: still no data */
	expect_count(4);
	expect_msg(3, 4, MSG_GRANT, 0, 8, 0);
	expect_run(3, 4, -1);
	cr_assert(is_reader(11, 4));
	cr_assert_eq(pt->allocated, 12u);
}

Test(coherence, fault_on_a_page_of_a_pending_run_waits_for_it)
{
	const char *why = NULL;

	pt->prefetch = 2;
	make_writer(2, 0);
	make_writer(2, 1);
	set_window(1, 0, 1);
	fault_ok(pt, &io, 1, 0, 0); /* REVOKE 0..1 */
	expect_count(1);
	expect_run(0, 2, -1);
	/* node 3 wants page 1 of that run before its answer came */
	fault_ok(pt, &io, 3, 1, 1);
	expect_count(1);
	cr_assert_eq(coh_reply(pt, &io, 2, 0, 2, run_bytes(2, 0x70), &why), 0, "%s", why);
	/* the run to node 1, then node 3's transaction: invalidate 1 and 2 */
	cr_assert_geq(nrec, 2);
	expect_msg(1, 1, MSG_GRANT, 0, 0, 2 * DSM_PAGE_SIZE);
	expect_run(1, 2, 0x70);
	cr_assert_eq(E(1)->requester, 3, "node 3's transaction started");
}

Test(coherence, release_of_a_run_writes_every_page_back)
{
	const char *why = NULL;

	for (uint32_t p = 2; p < 6; p++)
		make_writer(1, p);
	cr_assert_eq(coh_release(pt, &io, 1, 2, 4, run_bytes(4, 0x21), &why), 0, "%s", why);
	for (uint32_t p = 2; p < 6; p++) {
		cr_assert_eq(E(p)->writer, PT_NONE);
		expect_store(p, (uint8_t)(0x21 + p - 2));
	}
	make_writer(1, 8);
	make_writer(2, 9);
	cr_assert_eq(coh_release(pt, &io, 1, 8, 2, run_bytes(2, 0x50), &why), -1,
		     "page 9 is not node 1's");
	cr_assert_eq(E(8)->writer, 1, "nothing changed");
}

/* ---- pair faults: one instruction that needs two pages ----------------- */

/* node faults on pages page and page+1 at once (a pair), which the engine
 * must accept. */
static void pair_ok(uint32_t node, uint32_t page, int write)
{
	const char *why = NULL;

	cr_assert_eq(coh_fault(pt, &io, node, page, 2, write, 7, &why), 0, "pair rejected: %s",
		     why ? why : "?");
}

Test(coherence, pair_fault_grants_both_pages_each_with_the_fault_number)
{
	const char *why = NULL;

	make_writer(2, 4);
	make_writer(3, 5);
	pair_ok(1, 4, 1);
	/* both pages' transactions start at once, whatever their states */
	expect_count(2);
	expect_msg(0, 2, MSG_INVALIDATE, MSGF_WANT_DATA, 4, 0);
	expect_msg(1, 3, MSG_INVALIDATE, MSGF_WANT_DATA, 5, 0);
	cr_assert_eq(faulting(1), 2);
	reply_ok(3, 5, run_bytes(1, 0x55));
	expect_count(3);
	expect_granted(2, 1, 5, 1, 0x55);
	cr_assert_eq(recs[2].arg, 7u, "the pair's second page answers the fault too");
	/* half answered: the pair still holds its fault slot; another thread's
	 * fault takes a slot of its own and is answered by itself */
	cr_assert_eq(faulting(1), 1);
	cr_assert_eq(coh_fault(pt, &io, 1, 9, 1, 0, 8, &why), 0, "%s", why);
	expect_count(4);
	expect_granted(3, 1, 9, 0, 0);
	cr_assert_eq(recs[3].arg, 8u);
	cr_assert_eq(faulting(1), 1);
	reply_ok(2, 4, run_bytes(1, 0x44));
	expect_count(5);
	expect_granted(4, 1, 4, 1, 0x44);
	cr_assert_eq(recs[4].arg, 7u);
	cr_assert_eq(faulting(1), 0);
}

Test(coherence, pair_fault_on_idle_pages_is_two_grants_not_a_run)
{
	pt->prefetch = 8;
	set_window(1, 3, 4); /* a pair never prefetches, even continuing a scan */
	set_store(3, 0x33);
	set_store(4, 0x34);
	pair_ok(1, 3, 0);
	expect_count(2);
	expect_granted(0, 1, 3, 0, 0x33);
	expect_granted(1, 1, 4, 0, 0x34);
	cr_assert_eq(recs[0].node, 1u);
	cr_assert_eq(recs[1].node, 1u);
	cr_assert_eq(recs[0].arg, 7u);
	cr_assert_eq(recs[1].arg, 7u);
	cr_assert_not(is_reader(5, 1), "nothing prefetched");
	cr_assert_eq(pt->nodes[1].ra[0].next, 3u, "the run window is left as it was");
	cr_assert_eq(faulting(1), 0);
}

/*
 * Two pair faults on the same pages wait in both pages' queues, in the same
 * order, while single faults wait in one of them: every slot's two queue
 * links (page % 2) keep the queues apart.
 */
Test(coherence, pair_faults_queue_in_both_pages_in_one_order)
{
	const char *why = NULL;

	make_writer(2, 6);
	make_writer(2, 7);
	pair_ok(3, 6, 1); /* invalidates node 2's pages 6 and 7: one run */
	expect_count(1);
	expect_msg(0, 2, MSG_INVALIDATE, MSGF_WANT_DATA, 6, 0);
	expect_run(0, 2, -1);
	pair_ok(4, 6, 1);     /* queued behind 3 on both pages */
	fault_ok(pt, &io, 5, 7, 1); /* behind 4 on page 7 */
	fault_ok(pt, &io, 6, 6, 1); /* behind 4 on page 6 */
	expect_count(1);
	cr_assert_eq(coh_reply(pt, &io, 2, 6, 2, run_bytes(2, 0x60), &why), 0, "%s", why);
	/* 3 gets both; 4's transactions start on both and take them from 3,
	 * each page's invalidation right behind its grant */
	expect_count(5);
	expect_msg(1, 3, MSG_GRANT, MSGF_WRITE, 6, DSM_PAGE_SIZE);
	expect_msg(2, 3, MSG_INVALIDATE, MSGF_WANT_DATA, 6, 0);
	expect_msg(3, 3, MSG_GRANT, MSGF_WRITE, 7, DSM_PAGE_SIZE);
	expect_msg(4, 3, MSG_INVALIDATE, MSGF_WANT_DATA, 7, 0);
	cr_assert_eq(recs[1].arg, 7u);
	cr_assert_eq(recs[3].arg, 7u);
	cr_assert_eq(E(6)->requester, 4);
	cr_assert_eq(E(7)->requester, 4);
	cr_assert_eq(waiter_node(E(6)->queue_head), 6);
	cr_assert_eq(waiter_node(E(7)->queue_head), 5);
	/* node 3 answers page 7 first (it held page 6 until its instruction
	 * ran, say): node 4 gets 7, and node 5's transaction on it starts */
	reply_ok(3, 7, run_bytes(1, 0x71));
	expect_count(7);
	expect_msg(5, 4, MSG_GRANT, MSGF_WRITE, 7, DSM_PAGE_SIZE);
	expect_payload(5, 0x71);
	cr_assert_eq(recs[5].arg, 7u);
	expect_msg(6, 4, MSG_INVALIDATE, MSGF_WANT_DATA, 7, 0);
	cr_assert_eq(faulting(4), 1, "node 4 still waits for page 6");
	cr_assert_eq(E(7)->requester, 5);
	cr_assert_eq(E(6)->requester, 4, "page 6 is still node 4's to get");
	reply_ok(3, 6, run_bytes(1, 0x61));
	expect_count(9);
	expect_msg(7, 4, MSG_GRANT, MSGF_WRITE, 6, DSM_PAGE_SIZE);
	expect_payload(7, 0x61);
	cr_assert_eq(recs[7].arg, 7u);
	expect_msg(8, 4, MSG_INVALIDATE, MSGF_WANT_DATA, 6, 0);
	cr_assert_eq(faulting(4), 0);
	cr_assert_eq(E(6)->requester, 6, "then node 6, queued on page 6 alone");
	cr_assert_eq(E(6)->queue_head, PT_NONE);
	cr_assert_eq(E(7)->queue_head, PT_NONE);
}

Test(coherence, pair_fault_reaching_past_the_allocated_pages_is_an_error)
{
	const char *why = NULL;

	atomic_store(&pt->allocated, 4);
	pair_ok(1, 3, 1); /* page 3 exists, page 4 was never handed out */
	expect_count(1);
	expect_msg(0, 1, MSG_ERROR, 0, 4, 0);
	cr_assert_eq(recs[0].arg, DSM_ERR_UNALLOCATED);
	cr_assert_eq(faulting(1), 0);
	cr_assert_eq(E(3)->requester, PT_NONE, "no transaction was started");
	cr_assert_eq(coh_fault(pt, &io, 1, 0, 3, 0, 7, &why), -1, "three pages is no pair");
	cr_assert_eq(coh_fault(pt, &io, 1, 0, 0, 0, 7, &why), -1, "nor is none");
}

Test(coherence, pair_with_a_lost_page_gets_the_error_and_the_other_page)
{
	make_writer(2, 9);
	coh_node_died(pt, &io, 2);
	expect_count(0);
	pair_ok(1, 8, 0);
	expect_count(2);
	expect_granted(0, 1, 8, 0, 0);
	expect_msg(1, 1, MSG_ERROR, 0, 9, 0);
	cr_assert_eq(recs[1].arg, DSM_ERR_PAGE_LOST);
	cr_assert_eq(recs[1].node, 2u, "the error names the dead node");
	cr_assert_eq(faulting(1), 0);
}

/* ---- several faults of one node at once (threads inside a node) ------- */

/* A fault with its own number, which the engine must accept. */
static void fault_seq_ok(uint32_t node, uint32_t page, int write, uint64_t seq)
{
	const char *why = NULL;

	cr_assert_eq(coh_fault(pt, &io, node, page, 1, write, seq, &why), 0, "fault rejected: %s",
		     why ? why : "?");
}

Test(coherence, faults_of_one_node_on_different_pages_proceed_in_parallel)
{
	static uint8_t data[DSM_PAGE_SIZE];

	make_writer(3, 2);
	make_writer(4, 5);
	fault_seq_ok(1, 2, 0, 11); /* a read taking page 2 from node 3 */
	fault_seq_ok(1, 5, 1, 12); /* a write taking page 5 from node 4 */
	expect_count(2);
	expect_msg(0, 3, MSG_REVOKE, 0, 2, 0);
	expect_msg(1, 4, MSG_INVALIDATE, MSGF_WANT_DATA, 5, 0);
	cr_assert_eq(faulting(1), 2, "two faults outstanding");
	/* answered in the other order: each grant echoes its own fault */
	memset(data, 0x55, sizeof(data));
	reply_ok(4, 5, data);
	expect_count(3);
	expect_granted(2, 1, 5, 1, 0x55);
	cr_assert_eq(recs[2].arg, 12u);
	cr_assert_eq(faulting(1), 1);
	memset(data, 0x22, sizeof(data));
	reply_ok(3, 2, data);
	expect_count(4);
	expect_granted(3, 1, 2, 0, 0x22);
	cr_assert_eq(recs[3].arg, 11u);
	cr_assert_eq(faulting(1), 0);
	cr_assert_eq(atomic_load(&pt->nodes[1].stats.faults_at_once), 2u);
}

/* The message sent to node of type, or fail. */
static int find_msg(uint32_t to, uint8_t type)
{
	for (int i = 0; i < nrec; i++)
		if (recs[i].to == to && recs[i].type == type)
			return i;
	cr_assert_fail("no %s to node %u among %d messages", msg_type_name(type), to, nrec);
	return -1;
}

Test(coherence, faults_of_one_node_queued_on_one_page_are_told_apart)
{
	static uint8_t data[DSM_PAGE_SIZE];
	int g;

	make_writer(2, 6);
	fault_seq_ok(3, 6, 0, 20); /* node 3 takes page 6 from node 2 */
	fault_seq_ok(1, 6, 0, 21); /* two threads of node 1 queue behind it */
	fault_seq_ok(4, 6, 0, 22);
	fault_seq_ok(1, 6, 1, 23);
	expect_count(1);
	cr_assert_eq(waiter_node(E(6)->queue_head), 1);
	cr_assert_neq(E(6)->queue_head, E(6)->queue_tail, "node 1 waits twice, as two waiters");
	memset(data, 0x66, sizeof(data));
	nrec = 0;
	reply_ok(2, 6, data);
	/* 3, 1 (read, 21) and 4 read at once; node 1's write (23) then
	 * invalidates the other readers: 2 (a revoked writer keeps a copy),
	 * 3 and 4 */
	expect_count(6);
	g = find_msg(3, MSG_GRANT);
	expect_msg(g, 3, MSG_GRANT, 0, 6, DSM_PAGE_SIZE);
	cr_assert_eq(recs[g].arg, 20u);
	g = find_msg(1, MSG_GRANT);
	expect_msg(g, 1, MSG_GRANT, 0, 6, DSM_PAGE_SIZE);
	expect_payload(g, 0x66);
	cr_assert_eq(recs[g].arg, 21u);
	g = find_msg(4, MSG_GRANT);
	cr_assert_eq(recs[g].arg, 22u);
	for (uint32_t n = 2; n <= 4; n++)
		expect_msg(find_msg(n, MSG_INVALIDATE), n, MSG_INVALIDATE, 0, 6, 0);
	cr_assert_eq(E(6)->requester, 1);
	/* once they answer, node 1's write is an upgrade: no data */
	nrec = 0;
	reply_ok(2, 6, NULL);
	reply_ok(3, 6, NULL);
	reply_ok(4, 6, NULL);
	expect_count(1);
	expect_granted(0, 1, 6, 1, -1);
	cr_assert_eq(recs[0].arg, 23u);
	cr_assert_eq(faulting(1), 0);
}

/* libsm lets a second thread wait for the first's grant instead of asking
 * again; a second FAULT on the page all the same is answered, not refused */
Test(coherence, second_fault_of_a_node_on_its_page_is_granted_without_data)
{
	static uint8_t data[DSM_PAGE_SIZE];

	make_writer(2, 3);
	fault_seq_ok(1, 3, 0, 30);
	fault_seq_ok(1, 3, 0, 31);
	expect_count(1);
	expect_msg(0, 2, MSG_REVOKE, 0, 3, 0);
	memset(data, 0x33, sizeof(data));
	reply_ok(2, 3, data);
	expect_count(3);
	expect_granted(1, 1, 3, 0, 0x33);
	cr_assert_eq(recs[1].arg, 30u);
	expect_granted(2, 1, 3, 0, -1); /* its copy is valid: no data */
	cr_assert_eq(recs[2].arg, 31u);
	cr_assert_eq(faulting(1), 0);
}

/*
 * A thread of node 1 write-faults page 0, whose run takes page 1 along
 * (prefetched, writable); another thread of node 1 read-faults page 1
 * before that grant arrives, so its FAULT queues behind the run. Its read
 * then leaves node 1 the writer and nothing else: a writer that were a
 * reader too would get two INVALIDATEs from the next write fault (one
 * WANT_DATA, one as a reader) and answer both, and its second answer, after
 * the first had ended its part, was "a reply to a request that was never
 * sent" (or, the other way round, "acknowledgement without the page from
 * the writer"), closing its link.
 */
Test(coherence, read_fault_of_the_writer_behind_its_run_leaves_it_writer_only)
{
	const char *why = NULL;

	pt->prefetch = 2;
	make_writer(2, 0);
	make_writer(2, 1);
	set_window(1, 0, 1);
	fault_seq_ok(1, 0, 1, 40); /* INVALIDATE WANT_DATA 0..1 to node 2 */
	expect_count(1);
	expect_msg(0, 2, MSG_INVALIDATE, MSGF_WANT_DATA, 0, 0);
	expect_run(0, 2, -1);
	fault_seq_ok(1, 1, 0, 41); /* queued behind the run's page 1 */
	expect_count(1);
	cr_assert_eq(coh_reply(pt, &io, 2, 0, 2, run_bytes(2, 0x40), &why), 0, "%s", why);
	/* the run, writable, then the read: no data, node 1's copy is valid */
	expect_count(3);
	expect_msg(1, 1, MSG_GRANT, MSGF_WRITE, 0, 2 * DSM_PAGE_SIZE);
	cr_assert_eq(recs[1].arg, 40u);
	expect_msg(2, 1, MSG_GRANT, 0, 1, 0);
	cr_assert_eq(recs[2].arg, 41u);
	cr_assert_eq(E(1)->writer, 1, "node 1 still writes page 1");
	cr_assert_eq(nreaders(1), 0, "page 1: its writer is no reader besides");
	cr_assert_eq(faulting(1), 0);
	/* node 3 writes page 1: one INVALIDATE WANT_DATA to node 1, whose one
	 * answer grants it */
	nrec = 0;
	set_window(3, 9, 1);
	fault_seq_ok(3, 1, 1, 42);
	expect_count(1);
	expect_msg(0, 1, MSG_INVALIDATE, MSGF_WANT_DATA, 1, 0);
	cr_assert_eq(coh_reply(pt, &io, 1, 1, 1, run_bytes(1, 0x51), &why), 0, "%s", why);
	expect_count(2);
	expect_msg(1, 3, MSG_GRANT, MSGF_WRITE, 1, DSM_PAGE_SIZE);
	cr_assert_eq(recs[1].arg, 42u);
	cr_assert_eq(E(1)->requester, PT_NONE, "nothing pending on page 1");
	/* a second answer from node 1 is one too many */
	cr_assert_eq(coh_reply(pt, &io, 1, 1, 1, NULL, &why), -1);
}

Test(coherence, more_faults_outstanding_than_slots_is_refused)
{
	const char *why = NULL;

	for (uint32_t p = 0; p < NP; p++)
		make_writer(2, p);
	for (uint32_t i = 0; i < DSM_MAX_NODE_FAULTS; i++)
		fault_seq_ok(3, i % NP, 0, 100 + i); /* unanswered: revokes to 2, or queued */
	cr_assert_eq(faulting(3), (int)DSM_MAX_NODE_FAULTS);
	cr_assert_eq(coh_fault(pt, &io, 3, 0, 1, 0, 200, &why), -1);
	cr_assert_str_eq(why, "more faults outstanding than DSM_MAX_NODE_FAULTS");
	cr_assert_eq(coh_fault(pt, &io, 4, 0, 1, 0, 200, &why), 0, "another node is not affected");
}

Test(coherence, a_freed_fault_slot_is_used_again)
{
	for (uint32_t i = 0; i < 3 * DSM_MAX_NODE_FAULTS; i++)
		fault_seq_ok(1, i % NP, (int)(i % 2), 1 + i); /* each answered at once */
	cr_assert_eq(faulting(1), 0);
}

/*
 * While a node has faults outstanding, a new one's run stops where the
 * runs of all of them would together exceed the window: what is on its way
 * to the node at once stays bounded (node_link_bound()).
 */
Test(coherence, runs_of_a_nodes_faults_together_stay_within_the_window)
{
	pt->prefetch = 8;
	for (uint32_t p = 4; p < 12; p++)
		set_store(p, (uint8_t)p);
	make_writer(2, 0);
	fault_seq_ok(1, 0, 0, 40); /* outstanding: a revoke to node 2 */
	cr_assert_eq(atomic_load(&pt->nodes[1].run_pages), 1u);
	set_window(1, 4, 8);       /* a scan at page 4 could take 8 pages ... */
	nrec = 0;
	fault_seq_ok(1, 4, 0, 41); /* ... but 1 is on its way: 7 at most */
	expect_count(1);
	expect_msg(0, 1, MSG_GRANT, 0, 4, 7 * DSM_PAGE_SIZE); /* pages 4..10 */
	expect_run(0, 7, 4);
	cr_assert_eq(recs[0].arg, 41u);
	cr_assert_eq(atomic_load(&pt->nodes[1].run_pages), 1u, "only the first fault's page left");
}

/* ---- the page table's cost ------------------------------------------- */

/* Resident bytes of this process (/proc/self/statm). */
static size_t resident_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long size = 0, resident = 0;

	cr_assert_not_null(f);
	cr_assert_eq(fscanf(f, "%lu %lu", &size, &resident), 2);
	fclose(f);
	return resident * (size_t)sysconf(_SC_PAGESIZE);
}

/*
 * A 64 GiB region at the most nodes costs at most 0.2% of its size up
 * front: pt_create maps the page entries and the store but writes none of
 * them (an entry is set up when sm_malloc hands its page out). Before, it
 * wrote every entry: 4.7 GB at 1024 nodes.
 */
Test(coherence, a_big_region_costs_little_up_front)
{
	uint32_t npages = (uint32_t)((64ull << 30) / DSM_PAGE_SIZE - 1);
	size_t before = resident_bytes();
	struct pagetable *big = pt_create(DSM_MAX_NODES, npages, BASE);
	size_t grown;

	cr_assert_not_null(big, "pt_create: %s", strerror(errno));
	grown = resident_bytes() - before;
	cr_assert_lt(grown, (64ull << 30) / 500, "%zu bytes resident for an empty 64 GiB region",
		     grown);
	/* handing out a chunk sets up its entries and nothing else */
	pt_entries_init(big, 0, 16);
	cr_assert_eq(pt_entry(big, 15)->writer, PT_NONE);
	cr_assert_lt(resident_bytes() - before, (64ull << 30) / 500);
	pt_destroy(big);
}
