/*
 * locktable.h - the lock table's layout and its primitives, private to
 * allocator/locks/ (locks.h is the folder's interface): the open-addressing
 * hash table of entries keyed by address, the pool of waiter records, the
 * per-entry FIFO queues, and the outbox. locktable.c implements them;
 * lockops.c builds the operations of locks.h on top.
 *
 * Everything here is called with the table's mutex held (lt_enter/lt_leave).
 */
#ifndef DSM_LOCKTABLE_H
#define DSM_LOCKTABLE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "locks.h"

#define LT_NONE (-1)
#define LT_NIL UINT32_MAX /* no waiter record */

/*
 * One lock or condition. A lock's entry exists while it is held or waited
 * for (holder != LT_NONE), or while it is orphaned; a condition's while it
 * has waiters. 32 bytes.
 */
struct lt_entry {
	uint64_t key;        /* the lock's address, LT_COND_KEY(a condition's); 0: empty */
	int32_t holder;      /* lock: the node holding it, or LT_NONE */
	uint32_t holder_tag;
	int32_t orphaned_by; /* lock: the node that left or died holding it, or LT_NONE */
	uint32_t head, tail; /* the FIFO of waiter records, LT_NIL when empty */
	uint32_t unused;
};

/* A node waiting for a lock, or on a condition. 32 bytes. */
struct lt_waiter {
	uint64_t lock;  /* the lock it waits for, or will retake once signalled */
	uint64_t since; /* when it joined its queue (mono_us) */
	uint32_t next;  /* the next in its queue, or in the free list; LT_NIL */
	int32_t node;
	uint32_t tag;
	uint32_t unused;
};

/* What the table holds for one node, so that a node that goes costs
 * nothing when it held no lock and waited nowhere. */
struct lt_node_count {
	uint32_t held;    /* locks it holds */
	uint32_t waiting; /* its waiter records, in lock or condition queues */
};

struct locktable {
	pthread_mutex_t mutex;
	uint32_t nnodes;
	uint32_t slots, bits;  /* slots = 2^bits */
	uint32_t max_entries;  /* slots / 2 */
	uint32_t entries;      /* in use */
	uint32_t nwaiters;     /* waiter records */
	uint32_t waiters_used; /* in use */
	uint32_t fresh;        /* records [fresh, nwaiters) were never used */
	uint32_t free_head;    /* records freed since, LT_NIL when none */
	size_t map_size;
	struct lt_entry *slot;
	struct lt_waiter *waiter;
	struct lt_node_count node[];
};

void lt_enter(struct locktable *t);
void lt_leave(struct locktable *t);

/* The slot holding key, or NULL. */
struct lt_entry *lt_find(struct locktable *t, uint64_t key);
/* A new entry for key (not in the table): holder none, not orphaned, no
 * waiters. NULL when the table is full. Other entries do not move. */
struct lt_entry *lt_insert(struct locktable *t, uint64_t key);
/* Remove an entry (backward-shift deletion: every other key stays
 * findable). Other entries may move: pointers into the table are stale. */
void lt_delete(struct locktable *t, struct lt_entry *e);
/* slot i, for a scan over the whole table */
static inline struct lt_entry *lt_slot(struct locktable *t, uint32_t i)
{
	return &t->slot[i];
}

/* A waiter record for node/tag (next = LT_NIL), or LT_NIL when none is left. */
uint32_t lt_waiter_new(struct locktable *t, int32_t node, uint32_t tag, uint64_t lock,
		       uint64_t since);
void lt_waiter_free(struct locktable *t, uint32_t w);
static inline struct lt_waiter *lt_waiter(struct locktable *t, uint32_t w)
{
	return &t->waiter[w];
}

/* The entry's queue: append at the tail, take from the head (LT_NIL when
 * empty), unlink record w whose predecessor is prev (LT_NIL: the head). */
void lt_queue_push(struct locktable *t, struct lt_entry *e, uint32_t w);
uint32_t lt_queue_pop(struct locktable *t, struct lt_entry *e);
void lt_queue_unlink(struct locktable *t, struct lt_entry *e, uint32_t prev, uint32_t w);

/* Append a note to the outbox (dies when out of memory). */
struct lock_note *lock_outbox_add(struct lock_outbox *o, enum lock_note_kind kind, uint32_t node,
				  uint32_t tag, uint64_t addr);

#endif /* DSM_LOCKTABLE_H */
