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

/* A request from node (forwarded by its proxy). */
void services_handle(struct services *s, uint32_t node, const struct msg *m);

/*
 * Pages for a request of `bytes`: *first and *count, or 0 when the region is
 * exhausted. Pure arena arithmetic, exposed for the unit tests.
 */
uint32_t arena_take(uint32_t *next_page, uint32_t npages, uint64_t bytes, uint32_t *first);

#endif /* DSM_SERVICES_H */
