/*
 * nodelink.h - writing to a node's link from any process of the allocator.
 *
 * A node's link is read only by its proxy, but written by whichever proxy
 * moves a page transaction forward and by the allocator (replies to
 * sm_malloc, barriers, broadcasts). Each write of a whole message happens
 * under the node's send lock, and a node that has left is never written to:
 * the check and the write are one step under that lock, and a write never
 * waits more than NODE_STALL_SECONDS for a node that does not read.
 * node_send() and the other functions the allocator uses too are declared in
 * pages.h.
 */
#ifndef DSM_NODELINK_H
#define DSM_NODELINK_H

#include <stddef.h>
#include <stdint.h>

#include "../../common/protocol.h"
#include "pages.h"     /* node_send(), nodelink_io_init() */
#include "pagetable.h"

/* Mark the node as having left cleanly and send it MSG_EXIT_ACK, atomically. */
int node_send_exit_ack(struct pagetable *pt, uint32_t node);

/* Mark the node as gone without leaving; later sends to it fail. */
void node_mark_died(struct pagetable *pt, uint32_t node);

/* The node answered its PING: the next one may go. */
void node_pong(struct pagetable *pt, uint32_t node);

/*
 * sm_bcast_buf: a BCAST_DATA piece from root (m: its header, arg = offset;
 * payload: m->length bytes) goes to every other node still in the job, if
 * it is the next piece the root's allowance (node_bcast_allow, pages.h)
 * permits: at the offset where the last one ended, within the length. 0, or
 * -1 with *why (nothing is sent then).
 */
int node_bcast_forward(struct pagetable *pt, uint32_t root, const struct msg *m,
		       const void *payload, const char **why);

/*
 * The most bytes the protocol can have on their way to one node at once
 * (docs/design.md, "Deadlock freedom", point 4), and making node's link
 * buffer that much where the kernel allows: a node that is stopped (in a
 * debugger, say) then never fills its link, so it is never taken for one
 * that stopped reading. node_link_reserve: 0, or -1 with errno.
 */
size_t node_link_bound(const struct pagetable *pt);
int node_link_reserve(struct pagetable *pt, uint32_t node);

#endif /* DSM_NODELINK_H */
