/*
 * coherence.c - the page protocol's state machine (see coherence.h and the
 * transitions in docs/protocol.md).
 */
#include "coherence.h"

#include <string.h>

#include "../util.h"

static void log_action(struct coherence_io *io, uint32_t node, int64_t page,
		       enum log_action action, int64_t peer, int64_t us)
{
	if (io->log)
		io->log(io, node, page, action, peer, us);
}

static int send_simple(struct coherence_io *io, uint32_t node, uint8_t type, uint8_t flags,
		       uint32_t page, uint32_t detail_node, uint64_t arg)
{
	struct msg m = {.type = type, .flags = flags, .page = page, .node = detail_node, .arg = arg};

	return io->send(io, node, &m, NULL);
}

static void enqueue(struct pagetable *pt, struct page_entry *e, uint32_t page, uint32_t node,
		    int write)
{
	struct node_slot *s = &pt->nodes[node];

	s->wait_page = page;
	s->wait_write = (uint8_t)write;
	s->wait_next = PT_NONE;
	if (e->queue_tail == PT_NONE)
		e->queue_head = (int32_t)node;
	else
		pt->nodes[e->queue_tail].wait_next = (int32_t)node;
	e->queue_tail = (int32_t)node;
}

static int dequeue(struct pagetable *pt, struct page_entry *e, uint32_t *node, int *write)
{
	int32_t n = e->queue_head;

	if (n == PT_NONE)
		return 0;
	e->queue_head = pt->nodes[n].wait_next;
	if (e->queue_head == PT_NONE)
		e->queue_tail = PT_NONE;
	*node = (uint32_t)n;
	*write = pt->nodes[n].wait_write;
	return 1;
}

/* Start node's transaction on an idle page: ask every other holder. */
static void begin_txn(struct pagetable *pt, struct coherence_io *io, uint32_t page,
		      struct page_entry *e, uint32_t node, int write)
{
	uint64_t *readers = pt_readers(pt, e), *pending = pt_pending(pt, e);
	int32_t w = e->writer;

	e->requester = (int32_t)node;
	e->txn_write = (uint8_t)write;
	e->txn_prefetch = 0;
	e->txn_had_copy = (uint8_t)(w == (int32_t)node || bit_test(readers, node));
	e->txn_from = w;
	e->txn_t0 = mono_us();
	bits_zero(pending, pt->words);
	if (e->lost_by != PT_NONE)
		return;
	if (w != PT_NONE && w != (int32_t)node) {
		int rc = write ? send_simple(io, (uint32_t)w, MSG_INVALIDATE, MSGF_WANT_DATA, page, 0, 0)
			       : send_simple(io, (uint32_t)w, MSG_REVOKE, 0, page, 0, 0);

		atomic_fetch_add(write ? &pt->nodes[w].stats.invalidations_received
				       : &pt->nodes[w].stats.revokes_received, 1);
		if (rc == 0) {
			bit_set(pending, (uint32_t)w);
		} else {
			/* the writer vanished without writing the page back */
			e->lost_by = w;
			e->writer = PT_NONE;
		}
	}
	if (!write)
		return;
	/* invalidate every other reader at once: all sends, then all replies */
	for (uint32_t i = 0; i < pt->words; i++) {
		uint64_t others = readers[i];

		if (i == node / 64)
			others &= ~(1ull << (node % 64));
		while (others) {
			uint32_t r = i * 64 + (uint32_t)__builtin_ctzll(others);

			others &= others - 1;
			bit_clear(readers, r);
			atomic_fetch_add(&pt->nodes[r].stats.invalidations_received, 1);
			if (send_simple(io, r, MSG_INVALIDATE, 0, page, 0, 0) == 0)
				bit_set(pending, r);
		}
	}
}

/* Every reply is in: grant the page to the requester. */
static void finish_txn(struct pagetable *pt, struct coherence_io *io, uint32_t page,
		       struct page_entry *e)
{
	uint32_t node = (uint32_t)e->requester;
	uint64_t *readers = pt_readers(pt, e);

	struct node_slot *slot = &pt->nodes[node];
	int prefetch = e->txn_prefetch;
	uint64_t waited = mono_us() - (prefetch ? e->txn_t0 : slot->fault_t0);

	e->requester = PT_NONE;
	e->txn_prefetch = 0;
	/* before the answer goes out: the node's next FAULT may follow at once */
	if (!prefetch)
		atomic_store(&slot->faulting, 0);
	if (e->lost_by != PT_NONE) {
		if (prefetch)
			return; /* nobody asked: nothing to report */
		send_simple(io, node, MSG_ERROR, 0, page, (uint32_t)e->lost_by, DSM_ERR_PAGE_LOST);
		log_action(io, node, page, LOG_LOST, e->lost_by, (int64_t)waited);
		return;
	}
	struct msg m = {
		.type = MSG_GRANT,
		.flags = e->txn_write ? MSGF_WRITE : 0,
		.page = page,
		.length = e->txn_had_copy ? 0 : DSM_PAGE_SIZE,
		.arg = prefetch ? 0 : slot->fault_seq,
	};
	int sent = io->send(io, node, &m, m.length ? pt_page_data(pt, page) : NULL) == 0;
	int upgrade = e->txn_write && e->txn_had_copy;

	log_action(io, node, page,
		   prefetch ? LOG_PREFETCH : upgrade ? LOG_UPGRADE
		   : e->txn_write ? LOG_WRITE_FAULT : LOG_READ_FAULT,
		   e->txn_from, (int64_t)waited);
	if (!prefetch)
		stats_fault(&slot->stats, e->txn_write, upgrade, waited);
	if (m.length)
		atomic_fetch_add(&slot->stats.pages_in, 1);
	if (e->txn_write) {
		bits_zero(readers, pt->words);
		e->writer = sent ? (int32_t)node : PT_NONE;
	} else if (sent) {
		bit_set(readers, node);
	}
}

/* Finish transactions whose replies are all in, and start queued ones. */
static void advance(struct pagetable *pt, struct coherence_io *io, uint32_t page,
		    struct page_entry *e)
{
	while (e->requester != PT_NONE && bits_empty(pt_pending(pt, e), pt->words)) {
		uint32_t next;
		int write;

		finish_txn(pt, io, page, e);
		while (dequeue(pt, e, &next, &write)) {
			if (pt->nodes[next].state != NODE_LIVE)
				continue; /* left while waiting: nobody to grant to */
			begin_txn(pt, io, page, e, next, write);
			break;
		}
	}
}

/*
 * A read transaction nobody waits for, on an idle page that writer `from`
 * holds (or nobody, when `from` is PT_NONE), for node. Page lock held.
 * Returns 0 when it started, -1 when the page does not qualify.
 */
static int begin_prefetch(struct pagetable *pt, struct coherence_io *io, uint32_t page,
			  struct page_entry *e, uint32_t node, int32_t from)
{
	uint64_t *readers = pt_readers(pt, e);

	if (e->requester != PT_NONE || e->lost_by != PT_NONE || e->writer != from ||
	    bit_test(readers, node))
		return -1;
	e->requester = (int32_t)node;
	e->txn_write = 0;
	e->txn_prefetch = 1;
	e->txn_had_copy = 0;
	e->txn_from = from;
	e->txn_t0 = mono_us();
	bits_zero(pt_pending(pt, e), pt->words);
	if (from != PT_NONE) {
		if (send_simple(io, (uint32_t)from, MSG_REVOKE, 0, page, 0, 0) < 0) {
			e->requester = PT_NONE; /* the writer is going: leave the page alone */
			e->txn_prefetch = 0;
			return -1;
		}
		atomic_fetch_add(&pt->nodes[from].stats.revokes_received, 1);
		bit_set(pt_pending(pt, e), (uint32_t)from);
	}
	advance(pt, io, page, e);
	return 0;
}

/*
 * After a read fault on `page` taken from `from`: fetch the following pages
 * that the same writer (or nobody) holds, one lock at a time (never two
 * stripes at once), stopping at the first that does not qualify.
 */
static void prefetch_after(struct pagetable *pt, struct coherence_io *io, uint32_t node,
			   uint32_t page, int32_t from)
{
	uint32_t allocated = atomic_load_explicit(&pt->allocated, memory_order_acquire);

	for (uint32_t q = page + 1; q <= page + pt->prefetch && q < allocated; q++) {
		int rc;

		pt_lock_page(pt, q);
		rc = begin_prefetch(pt, io, q, pt_entry(pt, q), node, from);
		pt_unlock_page(pt, q);
		if (rc < 0)
			break;
	}
}

int coh_fault(struct pagetable *pt, struct coherence_io *io, uint32_t node, uint32_t page,
	      int write, uint64_t seq, const char **why)
{
	struct page_entry *e = pt_entry(pt, page);
	int32_t from = PT_NONE;
	int started = 0;

	/* one fault at a time per node: a second would corrupt the wait queues */
	if (atomic_exchange(&pt->nodes[node].faulting, 1)) {
		*why = "a second fault while the first is not answered";
		return -1;
	}
	pt->nodes[node].fault_t0 = mono_us();
	pt->nodes[node].fault_seq = seq;
	if (page >= atomic_load_explicit(&pt->allocated, memory_order_acquire)) {
		atomic_store(&pt->nodes[node].faulting, 0);
		send_simple(io, node, MSG_ERROR, 0, page, node, DSM_ERR_UNALLOCATED);
		return 0;
	}
	pt_lock_page(pt, page);
	if (e->requester != PT_NONE) {
		enqueue(pt, e, page, node, write);
	} else {
		from = e->writer;
		started = e->lost_by == PT_NONE;
		begin_txn(pt, io, page, e, node, write);
		advance(pt, io, page, e);
	}
	pt_unlock_page(pt, page);
	if (pt->prefetch && !write && started && from != (int32_t)node)
		prefetch_after(pt, io, node, page, from);
	return 0;
}

int coh_reply(struct pagetable *pt, struct coherence_io *io, uint32_t node, uint32_t page,
	      const uint8_t *data, const char **why)
{
	struct page_entry *e = pt_entry(pt, page);
	int rc = -1;

	pt_lock_page(pt, page);
	if (e->requester == PT_NONE || !bit_test(pt_pending(pt, e), node)) {
		*why = "reply to a request that was never sent";
	} else if ((e->writer == (int32_t)node) != (data != NULL)) {
		*why = data ? "page data from a node that was not the writer"
			    : "acknowledgement without the page from the writer";
	} else {
		if (data) {
			memcpy(pt_page_data(pt, page), data, DSM_PAGE_SIZE);
			e->writer = PT_NONE;
			if (!e->txn_write) /* a revoked writer keeps a read copy */
				bit_set(pt_readers(pt, e), node);
			atomic_fetch_add(&pt->nodes[node].stats.pages_out, 1);
		}
		log_action(io, node, page, e->txn_write ? LOG_INVALIDATE : LOG_REVOKE, e->requester,
			   (int64_t)(mono_us() - e->txn_t0));
		bit_clear(pt_pending(pt, e), node);
		advance(pt, io, page, e);
		rc = 0;
	}
	pt_unlock_page(pt, page);
	return rc;
}

int coh_release(struct pagetable *pt, struct coherence_io *io, uint32_t node, uint32_t page,
		const uint8_t *data, const char **why)
{
	struct page_entry *e = pt_entry(pt, page);
	int rc = 0;

	pt_lock_page(pt, page);
	if (e->writer != (int32_t)node) {
		*why = "write-back of a page the node does not hold writable";
		rc = -1;
	} else if (e->requester != PT_NONE && bit_test(pt_pending(pt, e), node)) {
		/* a revoke is on its way to the node: its answer carries the page */
	} else {
		memcpy(pt_page_data(pt, page), data, DSM_PAGE_SIZE);
		e->writer = PT_NONE;
		atomic_fetch_add(&pt->nodes[node].stats.pages_out, 1);
		log_action(io, node, page, LOG_RELEASE, -1, -1);
	}
	pt_unlock_page(pt, page);
	return rc;
}

void coh_node_died(struct pagetable *pt, struct coherence_io *io, uint32_t node)
{
	uint32_t allocated = atomic_load_explicit(&pt->allocated, memory_order_acquire);

	for (uint32_t page = 0; page < allocated; page++) {
		struct page_entry *e = pt_entry(pt, page);

		pt_lock_page(pt, page);
		bit_clear(pt_readers(pt, e), node);
		if (e->writer == (int32_t)node) {
			e->writer = PT_NONE;
			e->lost_by = (int32_t)node;
			log_action(io, node, page, LOG_LOST, node, -1);
		}
		if (e->requester != PT_NONE && bit_test(pt_pending(pt, e), node)) {
			bit_clear(pt_pending(pt, e), node);
			advance(pt, io, page, e);
		}
		pt_unlock_page(pt, page);
	}
}

/*
 * The CHUNK message must reach the node before any revoke of those pages can:
 * every revoke is sent under its page's stripe lock, so hold all the chunk's
 * stripes (in ascending order, the only order in which more than one stripe
 * is ever held) while marking the pages and sending.
 */
int coh_grant_chunk(struct pagetable *pt, struct coherence_io *io, uint32_t node, uint32_t first,
		    uint32_t count)
{
	struct msg m = {.type = MSG_CHUNK, .page = count,
			.arg = pt->base + (uint64_t)first * DSM_PAGE_SIZE};
	uint32_t stripes = count >= PT_STRIPES ? PT_STRIPES : count;
	int rc;

	for (uint32_t s = 0; s < PT_STRIPES; s++)
		if ((s + PT_STRIPES - first % PT_STRIPES) % PT_STRIPES < stripes)
			pt_lock_stripe(pt, s);
	for (uint32_t page = first; page < first + count; page++) {
		struct page_entry *e = pt_entry(pt, page);

		e->writer = (int32_t)node;
		bits_zero(pt_readers(pt, e), pt->words);
	}
	atomic_store_explicit(&pt->allocated, first + count, memory_order_release);
	rc = io->send(io, node, &m, NULL);
	for (uint32_t s = 0; s < PT_STRIPES; s++)
		if ((s + PT_STRIPES - first % PT_STRIPES) % PT_STRIPES < stripes)
			pt_unlock_stripe(pt, s);
	return rc;
}
