/*
 * locks.h - the interface of allocator/locks/: sm_lock_t and sm_cond_t,
 * served by the proxies against the job's lock table, as pages are served
 * against the page table (docs/design.md, "Locks and conditions").
 *
 *  - The table (locktable.c) lives in its own MAP_SHARED|MAP_ANONYMOUS
 *    mapping, created by dsm before the proxies are forked and destroyed
 *    with the page table. One robust process-shared mutex guards it. A lock
 *    or a condition is named by its address in the region; it has an entry
 *    only while a lock is held or waited for, or a condition has waiters
 *    (plus "orphaned" entries: a lock whose holder left the job or died).
 *    Waiters are records from a pool, in FIFO queues per entry.
 *  - Its operations (lt_lock() ...) take the mutex, change the table and
 *    return what must be sent, as notes in an outbox; they never send. The
 *    caller sends after they return, so no message is ever written while
 *    the mutex is held, and the mutex is never taken while a send lock is.
 *  - The proxy's side (lockserve.c) validates a node's LOCK, UNLOCK,
 *    COND_WAIT or COND_SIGNAL, runs the operation, and writes the notes into
 *    the nodes' links (node_send), with the log lines and statistics.
 *
 * Code outside this folder includes only this header.
 */
#ifndef DSM_LOCKS_H
#define DSM_LOCKS_H

#include <stddef.h>
#include <stdint.h>

#include "../../common/protocol.h"
#include "../pages/pages.h"

/*
 * The job's table: 2^17 slots of 32 bytes (at most 2^16 entries in use,
 * half full, so probes stay short) and 2^16 waiter records of 32 bytes:
 * 6 MiB of address space, MAP_NORESERVE; only the pages touched cost memory.
 */
#define LT_SLOTS (1u << 17)
#define LT_WAITERS (1u << 16)

struct locktable;

/*
 * The table for nnodes nodes: slots (a power of two, at least 2; at most
 * slots / 2 entries are used at once) and waiter records. NULL + errno.
 */
struct locktable *lt_create(uint32_t nnodes, uint32_t slots, uint32_t waiters);
void lt_destroy(struct locktable *t);

/* ---- what an operation asks to be sent ---------------------------------- */

enum lock_note_kind {
	/* LOCK_GRANT of `addr` to node/tag (MSGF_BUSY when `busy`) */
	LOCK_NOTE_GRANT,
	/* ERROR `code` to node/tag, detail node `detail` */
	LOCK_NOTE_ERROR,
	/* nothing to send: node/tag, waiting on the condition `addr` since
	 * `waited_us` ago, was signalled by `peer` (for the log) */
	LOCK_NOTE_WOKEN,
};

struct lock_note {
	uint8_t kind;      /* enum lock_note_kind */
	uint8_t busy;      /* GRANT: a try found the lock held; not granted */
	uint32_t node, tag;
	uint64_t addr;     /* GRANT: the lock; ERROR: the lock or condition; WOKEN: the condition */
	uint32_t code;     /* ERROR: enum dsm_error */
	uint32_t detail;   /* ERROR: the node the error names (OWNER_GONE: the holder) */
	int32_t peer;      /* GRANT: the node that handed the lock over; WOKEN: the
			    * signaller; -1: none */
	int64_t waited_us; /* GRANT: time queued for the lock, -1 when taken at
			    * once; WOKEN: time on the condition */
};

/* A growable list of notes, in the order they must be sent. */
struct lock_outbox {
	struct lock_note *v;
	size_t n, cap;
};

void lock_outbox_clear(struct lock_outbox *o); /* n = 0, keeps the memory */
void lock_outbox_free(struct lock_outbox *o);

/* ---- the operations (locktable.c) ---------------------------------------
 * node/tag: who asks (the tag is the message's `page`: the thread inside
 * the node, its slot + 1, echoed in LOCK_GRANT; a lock is a thread's). lock, cond: addresses, 8-byte
 * aligned (the caller checks them). now: mono_us(). Each returns 0 when it
 * did what was asked, or the enum dsm_error it answered the requester with
 * (a LOCK_NOTE_ERROR in the outbox).
 */

/* Take lock: granted at once if free, else queued (FIFO); with try, a held
 * lock is answered with a busy grant instead. */
int lt_lock(struct locktable *t, uint32_t node, uint32_t tag, uint64_t lock, int try,
	    uint64_t now, struct lock_outbox *out);
/* Release lock, handing it to its first waiter if any. */
int lt_unlock(struct locktable *t, uint32_t node, uint32_t tag, uint64_t lock, uint64_t now,
	      struct lock_outbox *out);
/* Release lock (which node must hold) and wait on cond; the grant of lock
 * answers it once signalled and relocked. */
int lt_cond_wait(struct locktable *t, uint32_t node, uint32_t tag, uint64_t cond, uint64_t lock,
		 uint64_t now, struct lock_outbox *out);
/* Move cond's first waiter (all of them with all) to the tail of its lock's
 * queue, granting at once a lock that is free. Returns how many were woken. */
uint32_t lt_cond_signal(struct locktable *t, uint32_t node, uint64_t cond, int all, uint64_t now,
			struct lock_outbox *out);
/*
 * node left the job or died: its waiter records vanish, the locks it held
 * become orphaned (later lockers get DSM_ERR_LOCK_OWNER_GONE naming it), and
 * so does every waiter of them, and every condition waiter whose lock it
 * is. Cheap when the node held nothing and waited nowhere.
 */
void lt_node_gone(struct locktable *t, uint32_t node, struct lock_outbox *out);

/* For the unit tests: the slot a key hashes to, entries in use, records in
 * use, and what the table holds for node. */
uint32_t lt_home(const struct locktable *t, uint64_t key);
uint32_t lt_entries(struct locktable *t);
uint32_t lt_waiters_used(struct locktable *t);
void lt_node_counts(struct locktable *t, uint32_t node, uint32_t *held, uint32_t *waiting);
/* A condition's key: its address with the low bit set (a lock's is its
 * address), so one address may name a lock and a condition apart. */
#define LT_COND_KEY(addr) ((addr) | 1u)

/* ---- the proxy's side (lockserve.c) -------------------------------------- */

/*
 * LOCK, UNLOCK, COND_WAIT or COND_SIGNAL from node (its proxy, in the job):
 * check the addresses are 8-byte aligned and inside the region (else ERROR
 * DSM_ERR_SYNC_ADDRESS to the node), run the operation on pt->locks, then
 * send its notes through io, log them and count them in the statistics.
 */
void lock_serve(struct pagetable *pt, struct coherence_io *io, uint32_t node,
		const struct msg *m, const uint8_t *payload);
/* node left (EXIT) or its link closed: lt_node_gone, and the errors sent. */
void lock_node_gone(struct pagetable *pt, struct coherence_io *io, uint32_t node);

#endif /* DSM_LOCKS_H */
