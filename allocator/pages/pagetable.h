/*
 * pagetable.h - the job's shared state: created by the allocator in one
 * MAP_SHARED|MAP_ANONYMOUS mapping before the proxies are forked, so every
 * proxy sees the same page table, node slots and page store, and nothing is
 * left in the file system.
 *
 *  - page entries: per page, the writer, the readers (a bitmap), the
 *    transaction in progress (requester, kind, nodes whose reply is pending),
 *    the FIFO of nodes waiting for the page, and whether the page was lost;
 *  - node slots: per node, its link's fd, the lock that serialises writes to
 *    it, whether it has left, and its place in a page's wait queue;
 *  - the page store: the allocator's copy of every page, up to date whenever
 *    the page has no writer.
 *
 * Locking: page entries are guarded by striped robust mutexes (page %
 * PT_STRIPES); a node slot's send lock is always taken after, never before, a
 * stripe lock, and nothing else is locked while holding a send lock.
 */
#ifndef DSM_PAGETABLE_H
#define DSM_PAGETABLE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../../common/protocol.h"
#include "../jobstats.h"

#define PT_STRIPES 1024u
#define PT_NONE (-1)
/* The most pages one fault may move (dsm -P): several run messages of at
 * most DSM_MAX_RUN pages, so the node works on the first while the next
 * ones arrive. Below PT_STRIPES, so a fault's pages never share a stripe. */
#define PT_MAX_WINDOW 256u
/* Sequential streams tracked per node: a stencil reads three rows of one
 * array and writes a fourth, interleaved; each is a stream of its own. */
#define PT_STREAMS 8

struct locktable;

enum node_state {
	NODE_LIVE = 0,
	NODE_EXITED = 1, /* left with sm_node_exit: wrote back everything */
	NODE_DIED = 2,   /* link closed without leaving: its writable pages are lost */
	NODE_STALLED = 3, /* stopped reading its link: cut off, then as NODE_DIED */
};

struct node_slot {
	pthread_mutex_t send_lock;
	int fd;              /* the node's link; the same number in every process */
	int state;           /* enum node_state, changed under send_lock */
	pid_t proxy;         /* the node's proxy, woken when a writer cuts the node off */
	_Atomic uint8_t ping_out; /* a PING is on its way and not answered yet */
	/* next node in a page's wait queue: a page's queue uses link page % 2,
	 * so a pair fault can wait in the queues of page and page+1 at once */
	int32_t wait_next[2];
	uint8_t wait_write;  /* whether the node waits for writing */
	/* pages of this node's FAULT not yet answered (1 or 2; 0: none) */
	_Atomic uint8_t faulting;
	uint64_t fault_t0;   /* when its fault reached the proxy (mono_us) */
	uint64_t fault_seq;  /* the node's number for that fault, echoed in the GRANT */
	/* the node's sequential streams (only its own proxy touches them), as
	 * Linux readahead keeps one per open file: a fault at a stream's `next`
	 * continues it and doubles its window, up to pt->prefetch; any other
	 * fault starts a stream (replacing the least recently used) at one page */
	struct ra_stream {
		uint32_t next, window, used;
	} ra[PT_STREAMS];
	uint32_t ra_clock;
	/* sm_bcast_buf: what this node, as the root, may still send, under
	 * send_lock. Set by the allocator just before it sends the root
	 * BCAST_BUF_GO (node_bcast_allow); the root's proxy forwards a
	 * BCAST_DATA only at offset bcast_next and up to bcast_end */
	uint64_t bcast_next, bcast_end;
	struct node_stats stats;
};

struct page_entry {
	int32_t writer;      /* node holding the page writable, or PT_NONE */
	int32_t requester;   /* node whose transaction is in progress, or PT_NONE */
	int32_t queue_head;  /* first node waiting for the page, or PT_NONE */
	int32_t queue_tail;
	int32_t lost_by;     /* node that died holding the only copy, or PT_NONE */
	uint8_t txn_write;   /* the transaction is a write fault */
	uint8_t txn_had_copy; /* requester's copy was valid when the txn started */
	uint8_t txn_prefetch; /* nobody waits for it: it rides on a neighbour's fault */
	uint8_t fresh;       /* never touched since sm_malloc: zero everywhere */
	int32_t txn_from;    /* the writer the transaction takes the page from */
	uint64_t txn_t0;     /* when the transaction began (mono_us) */
	uint64_t bits[];     /* readers[words] then pending[words] */
};

struct pagetable {
	uint32_t nnodes;
	uint32_t npages;
	uint32_t words;       /* 64-bit words per node bitmap */
	uint32_t entry_size;
	uint64_t base;        /* the region's address in the nodes */
	_Atomic uint32_t allocated; /* pages [0, allocated) were handed out */
	uint32_t prefetch;    /* dsm -P: the longest run a fault may grow to (0: one page) */
	size_t map_size;
	/* the job's lock table (allocator/locks/), in a mapping of its own,
	 * created and destroyed beside this one (job.c); NULL in unit tests */
	struct locktable *locks;
	pthread_mutex_t stripes[PT_STRIPES];
	struct page_entry *entries;
	uint8_t *store;
	struct node_slot nodes[];
};

/* Set up the entries of pages [first, first+count): idle, nobody's. The
 * table is mapped but never written before (pt_create), so it costs memory
 * only for pages sm_malloc has handed out. */
void pt_entries_init(struct pagetable *pt, uint32_t first, uint32_t count);

static inline struct page_entry *pt_entry(const struct pagetable *pt, uint32_t page)
{
	return (struct page_entry *)((uint8_t *)pt->entries + (size_t)page * pt->entry_size);
}

static inline uint8_t *pt_page_data(const struct pagetable *pt, uint32_t page)
{
	return pt->store + (size_t)page * DSM_PAGE_SIZE;
}

static inline uint64_t *pt_readers(const struct pagetable *pt, struct page_entry *e)
{
	(void)pt;
	return e->bits;
}

static inline uint64_t *pt_pending(const struct pagetable *pt, struct page_entry *e)
{
	return e->bits + pt->words;
}

/* Lock / unlock one stripe; several only ever in ascending order. */
void pt_lock_stripe(struct pagetable *pt, uint32_t stripe);
void pt_unlock_stripe(struct pagetable *pt, uint32_t stripe);

/* Lock / unlock the stripes of pages [first, first+count), count <=
 * PT_MAX_WINDOW, in ascending stripe order like every multi-stripe lock. */
void pt_lock_run(struct pagetable *pt, uint32_t first, uint32_t count);
void pt_unlock_run(struct pagetable *pt, uint32_t first, uint32_t count);

/* Lock / unlock the stripe that guards a page (robust: see pagetable.c). */
void pt_lock_page(struct pagetable *pt, uint32_t page);
void pt_unlock_page(struct pagetable *pt, uint32_t page);

/* Node slot send lock. */
void pt_lock_node(struct pagetable *pt, uint32_t node);
void pt_unlock_node(struct pagetable *pt, uint32_t node);

/* Bitmaps of nodes. */
static inline int bit_test(const uint64_t *b, uint32_t i)
{
	return (int)((b[i / 64] >> (i % 64)) & 1u);
}
static inline void bit_set(uint64_t *b, uint32_t i)
{
	b[i / 64] |= 1ull << (i % 64);
}
static inline void bit_clear(uint64_t *b, uint32_t i)
{
	b[i / 64] &= ~(1ull << (i % 64));
}
int bits_empty(const uint64_t *b, uint32_t words);
void bits_zero(uint64_t *b, uint32_t words);

#endif /* DSM_PAGETABLE_H */
