/*
 * services.h - what the allocator itself serves: sm_malloc (the region's
 * arena), sm_barrier and sm_bcast (one collective at a time), and the count
 * of nodes still in the job, which collectives wait for.
 */
#ifndef DSM_SERVICES_H
#define DSM_SERVICES_H

#include <stdint.h>

#include "../common/protocol.h"
#include "pages/pages.h"

/* Pages handed out per sm_malloc chunk (fewer when the region runs low). */
#define CHUNK_PAGES 16u

enum collective_kind { COLL_NONE, COLL_BARRIER, COLL_BCAST };

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
};

int services_init(struct services *s, struct pagetable *pt, struct coherence_io *io);
void services_free(struct services *s);

/* The requests a node's proxy forwards (dispatched by control.c). */

/* sm_malloc: a chunk of at least `bytes`, or CHUNK 0 when the region is exhausted. */
void services_malloc(struct services *s, uint32_t node, uint64_t bytes);
/* sm_barrier (COLL_BARRIER) or sm_bcast (COLL_BCAST: m->node is the root,
 * m->arg the root's value) */
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

#endif /* DSM_SERVICES_H */
