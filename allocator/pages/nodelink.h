/*
 * nodelink.h - writing to a node's link from any process of the allocator.
 *
 * A node's link is read only by its proxy, but written by whichever proxy
 * moves a page transaction forward and by the allocator (replies to
 * sm_malloc, barriers, broadcasts). Each write of a whole message happens
 * under the node's send lock, and a node that has left is never written to:
 * the check and the write are one step under that lock.
 */
#ifndef DSM_NODELINK_H
#define DSM_NODELINK_H

#include <stdint.h>

#include "../../common/protocol.h"
#include "coherence.h"
#include "pagetable.h"

/* 0 when written, -1 when the node has left or its link is broken. */
int node_send(struct pagetable *pt, uint32_t node, const struct msg *m, const void *payload);

/* Mark the node as having left cleanly and send it MSG_EXIT_ACK, atomically. */
int node_send_exit_ack(struct pagetable *pt, uint32_t node);

/* Mark the node as gone without leaving; later sends to it fail. */
void node_mark_died(struct pagetable *pt, uint32_t node);

/* The coherence engine's transport: these locked writes, and the job log. */
void nodelink_io_init(struct coherence_io *io, struct pagetable *pt);

#endif /* DSM_NODELINK_H */
