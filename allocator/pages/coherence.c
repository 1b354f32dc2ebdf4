/*
 * coherence.c - the page protocol's state machine (see coherence.h and the
 * transitions in docs/protocol.md): per-page transactions, page runs, first
 * touch; the run window is readahead.c's.
 */
#include "coherence.h"
#include "readahead.h"

#include <string.h>

#include "../util.h"

static void log_action(struct coherence_io *io, uint32_t node, int64_t page,
		       enum log_action action, int64_t peer, int64_t us)
{
	if (io->log)
		io->log(io, node, page, action, peer, us);
}

/* Whether messages to node can still be sent (it has neither left nor died). */
static int node_live(const struct pagetable *pt, uint32_t node)
{
	return __atomic_load_n(&pt->nodes[node].state, __ATOMIC_ACQUIRE) == NODE_LIVE;
}

/*
 * A page's FIFO of waiting faults is linked through the faults' slots in
 * the node slots (a node may have several outstanding: threads). A pair
 * fault waits in two pages' queues at once, page and page+1, so each fault
 * slot has two links: a page's queue uses link page % 2.
 */
static struct node_fault *waiter_fault(struct pagetable *pt, int32_t w)
{
	return &pt->nodes[(uint32_t)w / DSM_MAX_NODE_FAULTS].faults[(uint32_t)w % DSM_MAX_NODE_FAULTS];
}

static void enqueue(struct pagetable *pt, struct page_entry *e, uint32_t page, uint32_t node,
		    uint32_t fault)
{
	int32_t w = pt_waiter(node, fault);

	pt->nodes[node].faults[fault].wait_next[page % 2] = PT_NONE;
	if (e->queue_tail == PT_NONE)
		e->queue_head = w;
	else
		waiter_fault(pt, e->queue_tail)->wait_next[page % 2] = w;
	e->queue_tail = w;
}

static int dequeue(struct pagetable *pt, struct page_entry *e, uint32_t page, uint32_t *node,
		   uint32_t *fault)
{
	int32_t w = e->queue_head;

	if (w == PT_NONE)
		return 0;
	e->queue_head = waiter_fault(pt, w)->wait_next[page % 2];
	if (e->queue_head == PT_NONE)
		e->queue_tail = PT_NONE;
	*node = (uint32_t)w / DSM_MAX_NODE_FAULTS;
	*fault = (uint32_t)w % DSM_MAX_NODE_FAULTS;
	return 1;
}

/* Is node's own copy of the page valid (so a grant needs no data)? */
static int has_copy(const struct pagetable *pt, struct page_entry *e, uint32_t node)
{
	return e->fresh || e->writer == (int32_t)node || bit_test(pt_readers(pt, e), node);
}

/*
 * Start node's transaction on an idle page for its fault slot `fault`: ask
 * every other holder (queued, to go out as runs). prefetch: nobody waits
 * for it (it rides on that fault's run).
 */
static void begin_txn(struct pagetable *pt, struct coherence_io *io, uint32_t page,
		      struct page_entry *e, uint32_t node, uint32_t fault, int write, int prefetch)
{
	uint64_t *readers = pt_readers(pt, e), *pending = pt_pending(pt, e);
	int32_t w = e->writer;

	e->requester = (int32_t)node;
	e->txn_fault = (uint8_t)fault;
	e->txn_write = (uint8_t)write;
	e->txn_prefetch = (uint8_t)prefetch;
	e->txn_had_copy = (uint8_t)has_copy(pt, e, node);
	e->txn_from = w;
	e->txn_t0 = mono_us();
	bits_zero(pending, pt->words);
	if (e->lost_by != PT_NONE)
		return;
	if (w != PT_NONE && w != (int32_t)node) {
		if (node_live(pt, (uint32_t)w)) {
			run_queue(io, (uint32_t)w, write ? MSG_INVALIDATE : MSG_REVOKE,
				  write ? MSGF_WANT_DATA : 0, page, 0, NULL);
			atomic_fetch_add(write ? &pt->nodes[w].stats.invalidations_received
					       : &pt->nodes[w].stats.revokes_received, 1);
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
			if (node_live(pt, r)) {
				run_queue(io, r, MSG_INVALIDATE, 0, page, 0, NULL);
				bit_set(pending, r);
			}
		}
	}
}

/* The page's contents to grant: forwarded from a writer's answer in this
 * call, or the store. */
static const uint8_t *page_source(const struct pagetable *pt, const struct coherence_io *io,
				  uint32_t page)
{
	if (io->fwd_data && page - io->fwd_first < io->fwd_count)
		return io->fwd_data + (size_t)(page - io->fwd_first) * DSM_PAGE_SIZE;
	return pt_page_data(pt, page);
}

/* Every reply is in: grant the page to the requester. */
static void finish_txn(struct pagetable *pt, struct coherence_io *io, uint32_t page,
		       struct page_entry *e)
{
	uint32_t node = (uint32_t)e->requester;
	uint64_t *readers = pt_readers(pt, e);
	struct node_slot *slot = &pt->nodes[node];
	struct node_fault *f = &slot->faults[e->txn_fault];
	int prefetch = e->txn_prefetch;
	/* read before the slot is given back below: the node may reuse it */
	uint64_t seq = prefetch ? 0 : f->seq;
	uint64_t waited = mono_us() - (prefetch ? e->txn_t0 : f->t0);
	int upgrade = e->txn_write && e->txn_had_copy && !e->fresh; /* first touch is no upgrade */
	const uint8_t *data = e->txn_had_copy ? NULL : page_source(pt, io, page);
	int live = node_live(pt, node);

	e->requester = PT_NONE;
	e->txn_prefetch = 0;
	atomic_fetch_sub(&slot->run_pages, 1);
	/* before the answer goes out: the node may use the slot for its next
	 * FAULT at once (after a pair's second answer: it counts the pages
	 * still to answer) */
	if (!prefetch)
		atomic_fetch_sub(&f->pending, 1);
	if (e->lost_by != PT_NONE) {
		if (prefetch)
			return; /* nobody asked: nothing to report */
		run_flush(io);
		struct msg m = {.type = MSG_ERROR, .page = page, .node = (uint32_t)e->lost_by,
				.arg = DSM_ERR_PAGE_LOST};

		io->send(io, node, &m, NULL);
		log_action(io, node, page, LOG_LOST, e->lost_by, (int64_t)waited);
		return;
	}
	if (data && data != pt_page_data(pt, page) && !live)
		memcpy(pt_page_data(pt, page), data, DSM_PAGE_SIZE); /* nobody else has it */
	if (live)
		run_queue(io, node, MSG_GRANT, e->txn_write ? MSGF_WRITE : 0, page, seq, data);
	log_action(io, node, page,
		   prefetch ? LOG_PREFETCH : upgrade ? LOG_UPGRADE
		   : e->txn_write ? LOG_WRITE_FAULT : LOG_READ_FAULT,
		   e->txn_from, (int64_t)waited);
	if (!prefetch)
		stats_fault(&slot->stats, e->txn_write, upgrade, waited);
	if (data && live)
		atomic_fetch_add(&slot->stats.pages_in, 1);
	e->fresh = 0;
	if (e->txn_write) {
		bits_zero(readers, pt->words);
		e->writer = live ? (int32_t)node : PT_NONE;
	} else if (live && e->writer != (int32_t)node) {
		/* a read fault of the writer itself (another thread's, queued
		 * behind the node's write or its prefetched run) leaves it the
		 * writer, and only that: were it a reader too, the next write
		 * fault would invalidate it twice, once for the data and once
		 * as a reader, and its second answer would be one too many */
		bit_set(readers, node);
	}
}

/* Finish transactions whose replies are all in, and start queued ones. */
static void advance(struct pagetable *pt, struct coherence_io *io, uint32_t page,
		    struct page_entry *e)
{
	while (e->requester != PT_NONE && bits_empty(pt_pending(pt, e), pt->words)) {
		uint32_t next, fault;

		finish_txn(pt, io, page, e);
		while (dequeue(pt, e, page, &next, &fault)) {
			if (pt->nodes[next].state != NODE_LIVE)
				continue; /* left while waiting: nobody to grant to */
			begin_txn(pt, io, page, e, next, fault,
				  pt->nodes[next].faults[fault].write, 0);
			break;
		}
	}
}

/* What the first page of a run looked like; the others must match it. */
struct run_class {
	int32_t writer;
	uint8_t fresh, had_copy, write;
	uint64_t others[DSM_MAX_NODES / 64]; /* write: readers besides the node */
};

/* The readers of e besides node, into out[0..words). */
static void other_readers(const struct pagetable *pt, struct page_entry *e, uint32_t node,
			  uint64_t *out)
{
	const uint64_t *readers = pt_readers(pt, e);

	for (uint32_t i = 0; i < pt->words; i++)
		out[i] = readers[i] & (i == node / 64 ? ~(1ull << (node % 64)) : ~0ull);
}

static int joins_run(const struct pagetable *pt, struct page_entry *e, uint32_t node,
		     const struct run_class *c)
{
	uint64_t others[DSM_MAX_NODES / 64];

	if (e->requester != PT_NONE || e->queue_head != PT_NONE || e->lost_by != PT_NONE ||
	    e->writer != c->writer || e->fresh != c->fresh ||
	    (uint8_t)has_copy(pt, e, node) != c->had_copy)
		return 0;
	if (!c->write)
		return e->writer != (int32_t)node;
	/* a write run invalidates the same readers on every page, so each
	 * gets one run of invalidations */
	other_readers(pt, e, node, others);
	return memcmp(others, c->others, pt->words * sizeof(uint64_t)) == 0;
}

/*
 * A pair: one instruction of node needs page and page+1 at once. Each page
 * gets a transaction the node waits for (both grants echo the fault's
 * number), begun or queued while both pages' stripes are held, so any two
 * pair faults stand in the same order in both pages' queues: the node that
 * holds one page of its pair and waits for the other only ever waits for
 * older requests (docs/design.md, "Instructions that need two pages"). The
 * pages need not be alike as a run's must, and a pair is not a run: nothing
 * is prefetched and the run window stays as it is.
 */
static void fault_pair(struct pagetable *pt, struct coherence_io *io, uint32_t node,
		       uint32_t fault, uint32_t page, int write)
{
	pt_lock_run(pt, page, 2);
	for (uint32_t p = page; p < page + 2; p++) {
		struct page_entry *e = pt_entry(pt, p);

		if (e->requester != PT_NONE) {
			enqueue(pt, e, p, node, fault);
		} else {
			begin_txn(pt, io, p, e, node, fault, write, 0);
			advance(pt, io, p, e);
		}
	}
	run_flush(io);
	pt_unlock_run(pt, page, 2);
}

/*
 * A free fault slot of node, claimed for a fault of count pages; -1 when all
 * DSM_MAX_NODE_FAULTS are in use. Only the node's own proxy claims (it reads
 * the node's FAULTs); any process frees one, answering its last page. *busy
 * is how many others were in use.
 */
static int claim_fault(struct node_slot *slot, uint32_t count, uint32_t *busy)
{
	int found = -1;

	*busy = 0;
	for (uint32_t f = 0; f < DSM_MAX_NODE_FAULTS; f++) {
		uint8_t idle = 0;

		if (found < 0 &&
		    atomic_compare_exchange_strong(&slot->faults[f].pending, &idle, (uint8_t)count))
			found = (int)f;
		else if (atomic_load(&slot->faults[f].pending))
			(*busy)++;
	}
	return found;
}

int coh_fault(struct pagetable *pt, struct coherence_io *io, uint32_t node, uint32_t page,
	      uint32_t count, int write, uint64_t seq, const char **why)
{
	struct node_slot *slot = &pt->nodes[node];
	struct page_entry *e = pt_entry(pt, page);
	uint32_t allocated = atomic_load_explicit(&pt->allocated, memory_order_acquire);
	uint32_t window, run = 1, busy, in_flight;
	struct ra_stream *stream;
	struct node_fault *f;
	int fault;

	if (count < 1 || count > DSM_MAX_FAULT_PAGES) {
		*why = "a fault on no pages or on more than two";
		return -1;
	}
	/* the slot counts the fault's pages not yet answered */
	fault = claim_fault(slot, count, &busy);
	if (fault < 0) {
		*why = "more faults outstanding than DSM_MAX_NODE_FAULTS";
		return -1;
	}
	f = &slot->faults[fault];
	f->t0 = mono_us();
	f->seq = seq;
	f->write = (uint8_t)write;
	f->first = page;
	f->count = count;
	if (page >= allocated || count > allocated - page) {
		struct msg m = {.type = MSG_ERROR, .page = page >= allocated ? page : allocated,
				.node = node, .arg = DSM_ERR_UNALLOCATED};

		atomic_store(&f->pending, 0);
		io->send(io, node, &m, NULL);
		return 0;
	}
	if (busy + 1 > atomic_load(&slot->stats.faults_at_once))
		atomic_store(&slot->stats.faults_at_once, busy + 1);
	if (count == 2) {
		atomic_fetch_add(&slot->run_pages, 2);
		fault_pair(pt, io, node, (uint32_t)fault, page, write);
		return 0;
	}
	stream = ra_find_stream(pt, slot, page, &window);
	if (window > allocated - page)
		window = allocated - page;
	/* with other faults of the node on their way, their runs and this one
	 * together stay within the window (node_link_bound()) */
	in_flight = atomic_load(&slot->run_pages);
	if (busy && window > 1) {
		uint32_t left = pt->prefetch > in_flight + 1 ? pt->prefetch - in_flight : 1;

		if (window > left)
			window = left;
	}
	pt_lock_run(pt, page, window);
	if (e->requester != PT_NONE) {
		atomic_fetch_add(&slot->run_pages, 1);
		enqueue(pt, e, page, node, (uint32_t)fault);
	} else {
		struct run_class c = {.writer = e->writer, .fresh = e->fresh,
				      .had_copy = (uint8_t)has_copy(pt, e, node),
				      .write = (uint8_t)write};
		int alone;

		other_readers(pt, e, node, c.others);
		alone = e->lost_by != PT_NONE || !joins_run(pt, e, node, &c);
		/* counted before any page of the run can be answered */
		while (!alone && run < window && joins_run(pt, pt_entry(pt, page + run), node, &c))
			run++;
		atomic_fetch_add(&slot->run_pages, run);
		begin_txn(pt, io, page, e, node, (uint32_t)fault, write, 0);
		advance(pt, io, page, e);
		for (uint32_t i = 1; i < run; i++) {
			begin_txn(pt, io, page + i, pt_entry(pt, page + i), node, (uint32_t)fault,
				  write, 1);
			advance(pt, io, page + i, pt_entry(pt, page + i));
		}
	}
	run_flush(io);
	pt_unlock_run(pt, page, window);
	stream->window = run;
	stream->next = page + run;
	return 0;
}

/* Were pages [first, first+count) handed out by sm_malloc? Else *why = what. */
static int handed_out(struct pagetable *pt, uint32_t first, uint32_t count, const char **why,
		      const char *what)
{
	if (first + count <= atomic_load_explicit(&pt->allocated, memory_order_acquire))
		return 1;
	*why = what;
	return 0;
}

int coh_reply(struct pagetable *pt, struct coherence_io *io, uint32_t node, uint32_t first,
	      uint32_t count, const uint8_t *data, const char **why)
{
	int rc = 0;

	if (!handed_out(pt, first, count, why, "reply about a page never handed out"))
		return -1;
	pt_lock_run(pt, first, count);
	for (uint32_t i = 0; i < count && rc == 0; i++) {
		struct page_entry *e = pt_entry(pt, first + i);

		if (e->requester == PT_NONE || !bit_test(pt_pending(pt, e), node)) {
			*why = "reply to a request that was never sent";
			rc = -1;
		} else if ((e->writer == (int32_t)node) != (data != NULL)) {
			*why = data ? "page data from a node that was not the writer"
				    : "acknowledgement without the page from the writer";
			rc = -1;
		}
	}
	if (rc == 0) {
		io->fwd_first = first;
		io->fwd_count = count;
		io->fwd_data = data;
		for (uint32_t i = 0; i < count; i++) {
			uint32_t page = first + i;
			struct page_entry *e = pt_entry(pt, page);

			bit_clear(pt_pending(pt, e), node);
			if (data) {
				/* the store holds what nobody writes; a page that
				 * goes on to a new writer now is forwarded instead */
				if (!e->txn_write || !bits_empty(pt_pending(pt, e), pt->words))
					memcpy(pt_page_data(pt, page), data + (size_t)i * DSM_PAGE_SIZE,
					       DSM_PAGE_SIZE);
				e->writer = PT_NONE;
				if (!e->txn_write) /* a revoked writer keeps a read copy */
					bit_set(pt_readers(pt, e), node);
				atomic_fetch_add(&pt->nodes[node].stats.pages_out, 1);
			}
			log_action(io, node, page, e->txn_write ? LOG_INVALIDATE : LOG_REVOKE,
				   e->requester, (int64_t)(mono_us() - e->txn_t0));
			advance(pt, io, page, e);
		}
		run_flush(io);
		io->fwd_data = NULL;
	}
	pt_unlock_run(pt, first, count);
	return rc;
}

int coh_release(struct pagetable *pt, struct coherence_io *io, uint32_t node, uint32_t first,
		uint32_t count, const uint8_t *data, const char **why)
{
	int rc = 0;

	if (!handed_out(pt, first, count, why, "write-back of a page never handed out"))
		return -1;
	pt_lock_run(pt, first, count);
	for (uint32_t i = 0; i < count && rc == 0; i++)
		if (pt_entry(pt, first + i)->writer != (int32_t)node) {
			*why = "write-back of a page the node does not hold writable";
			rc = -1;
		}
	for (uint32_t i = 0; i < count && rc == 0; i++) {
		uint32_t page = first + i;
		struct page_entry *e = pt_entry(pt, page);

		if (e->requester != PT_NONE && bit_test(pt_pending(pt, e), node))
			continue; /* a revoke is on its way: its answer carries the page */
		memcpy(pt_page_data(pt, page), data + (size_t)i * DSM_PAGE_SIZE, DSM_PAGE_SIZE);
		e->writer = PT_NONE;
		atomic_fetch_add(&pt->nodes[node].stats.pages_out, 1);
		log_action(io, node, page, LOG_RELEASE, -1, -1);
	}
	pt_unlock_run(pt, first, count);
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
		run_flush(io);
		pt_unlock_page(pt, page);
	}
}
