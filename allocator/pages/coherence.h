/*
 * coherence.h - the page protocol: single writer / multiple readers,
 * write-invalidate with read-revoke, run by whichever proxy receives the
 * message that moves a page's transaction forward.
 *
 * Every function takes the page's stripe lock itself and never blocks while
 * holding it except to write a message into a node's link (bounded: see
 * docs/design.md). A transaction is a small state machine stored in the page
 * entry: begin (send revokes/invalidations, remember whose replies are
 * pending), then each reply clears one pending bit, and the reply that clears
 * the last one grants the page and starts the next queued request.
 */
#ifndef DSM_COHERENCE_H
#define DSM_COHERENCE_H

#include <stdint.h>

#include "../../common/protocol.h"
#include "pages.h"     /* struct coherence_io, coh_grant_chunk() */
#include "pagetable.h"

/*
 * node faults on page (write or read); seq is the node's number for this
 * fault, echoed in the GRANT that answers it. count is 1, or 2 for a pair:
 * pages page and page+1 that one instruction needs at once, each granted
 * with a GRANT of its own that echoes seq (or answered with an error); the
 * fault is answered when both are. A node may have up to
 * DSM_MAX_NODE_FAULTS faults outstanding (its threads), each in a fault slot
 * of its own, on any pages (a second fault on a page the node is already
 * faulting on queues behind the first and is granted without data); -1
 * with *why when all its slots are in use (libsm never does that).
 *
 * Runs: when the page is idle, the fault may take the pages after it along
 * (up to the node's run window, which grows on sequential faults up to
 * pt->prefetch and falls back to one page on any other; while other faults
 * of the node are outstanding, to what their runs leave of pt->prefetch),
 * as long as they are
 * idle and in the same state as the first: held by the same writer or by
 * nobody, fresh or not, the node's copies valid or not, and for a write no
 * other readers. Each page keeps its own transaction (the others' carry no
 * fault number: nobody waits for them), but the messages go out as runs.
 */
int coh_fault(struct pagetable *pt, struct coherence_io *io, uint32_t node, uint32_t page,
	      uint32_t count, int write, uint64_t seq, const char **why);

/*
 * node answers a revoke/invalidation of the run [first, first+count): data is
 * the pages for MSG_PAGE_DATA, NULL for MSG_INVALIDATE_ACK. -1 with *why, and
 * nothing changed, if any page's answer was not asked for.
 */
int coh_reply(struct pagetable *pt, struct coherence_io *io, uint32_t node, uint32_t first,
	      uint32_t count, const uint8_t *data, const char **why);

/* node writes a run back while leaving the job. -1 with *why, and nothing
 * changed, if it did not hold every page of it writable. */
int coh_release(struct pagetable *pt, struct coherence_io *io, uint32_t node, uint32_t first,
		uint32_t count, const uint8_t *data, const char **why);

/*
 * node's link closed without sm_node_exit: pages it held writable are lost,
 * transactions waiting for its reply go on without it.
 */
void coh_node_died(struct pagetable *pt, struct coherence_io *io, uint32_t node);

#endif /* DSM_COHERENCE_H */
