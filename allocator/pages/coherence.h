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
 * fault, echoed in the GRANT that answers it. -1 with *why when the node
 * already has a fault in progress (libsm never does that). With
 * pt->prefetch > 0, a read fault also fetches up to that many following
 * pages that the same writer holds (or nobody does), in transactions of
 * their own whose GRANTs carry seq 0: nobody waits for them.
 */
int coh_fault(struct pagetable *pt, struct coherence_io *io, uint32_t node, uint32_t page,
	      int write, uint64_t seq, const char **why);

/*
 * node answers a revoke/invalidate of page: data is the page for
 * MSG_PAGE_DATA, NULL for MSG_INVALIDATE_ACK. -1 with *why if the reply was
 * not asked for (a misbehaving node).
 */
int coh_reply(struct pagetable *pt, struct coherence_io *io, uint32_t node, uint32_t page,
	      const uint8_t *data, const char **why);

/* node writes page back while leaving the job. -1 with *why if it did not hold it. */
int coh_release(struct pagetable *pt, struct coherence_io *io, uint32_t node, uint32_t page,
		const uint8_t *data, const char **why);

/*
 * node's link closed without sm_node_exit: pages it held writable are lost,
 * transactions waiting for its reply go on without it.
 */
void coh_node_died(struct pagetable *pt, struct coherence_io *io, uint32_t node);

#endif /* DSM_COHERENCE_H */
