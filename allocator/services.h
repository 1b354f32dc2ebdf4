/*
 * services.h - what the allocator itself serves: sm_malloc (the region's
 * arena), the collectives (one at a time): sm_barrier, sm_bcast,
 * sm_malloc_collective (with its own arena of fresh pages) and sm_bcast_buf,
 * and the count of nodes still in the job, which collectives wait for.
 */
#ifndef DSM_SERVICES_H
#define DSM_SERVICES_H

#include <stdint.h>

#include "../common/protocol.h"
#include "pages/pages.h"

/* Pages handed out per sm_malloc chunk (fewer when the region runs low). */
#define CHUNK_PAGES 16u

/* Collective allocations are 16-byte aligned. */
#define COLL_ALIGN 16u

enum collective_kind { COLL_NONE, COLL_BARRIER, COLL_BCAST, COLL_MALLOC, COLL_BCAST_BUF };

struct services {
	struct pagetable *pt;
	struct coherence_io *io;
	uint32_t nnodes;
	uint32_t live;          /* nodes that have not left */
	uint32_t next_page;     /* arena: first page not yet handed out */
	uint8_t *in_job;        /* per node: 1 until it leaves */
	uint8_t *arrived;       /* per node: waiting in the current collective */
	uint64_t *arrived_at;   /* per node: when it arrived (mono_us) */
	uint32_t arrivals;
	enum collective_kind kind;
	int32_t root;           /* bcast: the root everyone named so far */
	int root_mismatch;
	uint64_t value;         /* bcast: the root's value */
	int root_arrived;
	uint64_t *asked;        /* per node: the size (malloc) or length (bcast_buf) it gave */
	/* the collective arena: bytes [coll_next, coll_end) of the region are
	 * handed out (fresh, in a job of several nodes) and not carved yet */
	uint64_t coll_next, coll_end;
};

int services_init(struct services *s, struct pagetable *pt, struct coherence_io *io);
void services_free(struct services *s);

/* The requests a node's proxy forwards (dispatched by control.c). */

/* sm_malloc: a chunk of at least `bytes`, or CHUNK 0 when the region is exhausted. */
void services_malloc(struct services *s, uint32_t node, uint64_t bytes);
/*
 * A node arrives at a collective: sm_barrier (COLL_BARRIER), sm_bcast
 * (COLL_BCAST: m->node is the root, m->arg the root's value),
 * sm_malloc_collective (COLL_MALLOC: m->arg the size) or sm_bcast_buf
 * (COLL_BCAST_BUF: m->node the root, m->arg the length). When every node
 * still in the job has arrived, each gets the answer, or an ERROR when they
 * disagree (docs/protocol.md, "Error codes").
 */
void services_arrive(struct services *s, uint32_t node, enum collective_kind kind,
		     const struct msg *m);
/* sm_node_exit: collectives stop waiting for node. */
void services_leave(struct services *s, uint32_t node);
/* node is gone without leaving (its process ended): collectives stop
 * waiting for it too; no log line, since it never said goodbye. */
void services_gone(struct services *s, uint32_t node);

/*
 * Pages for a request of `bytes`: *first and *count, or 0 when the region is
 * exhausted. Pure arena arithmetic, exposed for the unit tests.
 */
uint32_t arena_take(uint32_t *next_page, uint32_t npages, uint64_t bytes, uint32_t *first);

/*
 * Where a collective allocation of `bytes` goes: its offset in the region,
 * or UINT64_MAX when the region is exhausted. Small ones (at most
 * DSM_FIRST_TOUCH_PAGES pages) are carved from the collective arena's chunk,
 * COLL_ALIGN-aligned, and a new chunk is taken (arena_take) when it has no
 * room; larger ones get pages of their own. *first and *count: the pages
 * newly taken from the region (count 0: none, carved from the chunk).
 */
uint64_t coll_arena_take(struct services *s, uint64_t bytes, uint32_t *first, uint32_t *count);

#endif /* DSM_SERVICES_H */
