/*
 * runbatch.h - coalescing the coherence engine's page messages into runs.
 *
 * The engine decides page by page; this layer turns what it sends in one
 * step (a fault, a reply, a release) into as few messages as possible:
 * consecutive pages with the same type and flags to the same node go out as
 * one run message (GRANT, REVOKE, INVALIDATE with `node` = count), a GRANT's
 * payload being the pages' contiguous data. One pending run per destination
 * (a write run invalidates each reader with a run of its own); messages to
 * one node keep their order. The engine flushes before it lets go of the
 * pages' locks, so a run reaches its node before anything another proxy may
 * send about those pages.
 */
#ifndef DSM_RUNBATCH_H
#define DSM_RUNBATCH_H

#include <stdint.h>

#include "../../common/protocol.h"

struct coherence_io;

/* Destinations with a pending run at once; one more flushes them all. */
#define RUNBATCH_SLOTS 8

struct run_slot {
	uint32_t count;          /* pages in the pending run; 0 when empty */
	uint32_t dest;           /* the node it goes to */
	struct msg m;            /* type, flags, first page, arg */
	const uint8_t *payload;  /* the run's data (count pages), or NULL */
};

struct run_batch {
	struct run_slot slot[RUNBATCH_SLOTS];
};

/*
 * Queue page's message for dest; data is the page's contents to send, or
 * NULL. Joins dest's pending run when it continues it (next page, same type
 * and flags, arg 0, data right after the run's), otherwise sends that run
 * first.
 */
void run_queue(struct coherence_io *io, uint32_t dest, uint8_t type, uint8_t flags,
	       uint32_t page, uint64_t arg, const uint8_t *data);

/* Send every pending run. */
void run_flush(struct coherence_io *io);

#endif /* DSM_RUNBATCH_H */
