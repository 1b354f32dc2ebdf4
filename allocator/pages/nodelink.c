/*
 * nodelink.c - locked writes to nodes' links (see nodelink.h).
 */
#include "nodelink.h"

#include "../../common/wire.h"
#include "../joblog.h"

int node_send(struct pagetable *pt, uint32_t node, const struct msg *m, const void *payload)
{
	int rc = -1;

	pt_lock_node(pt, node);
	if (pt->nodes[node].state == NODE_LIVE)
		rc = wire_send(pt->nodes[node].fd, m, payload) < 0 ? -1 : 0;
	pt_unlock_node(pt, node);
	return rc;
}

int node_send_exit_ack(struct pagetable *pt, uint32_t node)
{
	struct msg m = {.type = MSG_EXIT_ACK};
	int rc = -1;

	pt_lock_node(pt, node);
	if (pt->nodes[node].state == NODE_LIVE) {
		pt->nodes[node].state = NODE_EXITED;
		rc = wire_send(pt->nodes[node].fd, &m, NULL) < 0 ? -1 : 0;
	}
	pt_unlock_node(pt, node);
	return rc;
}

void node_mark_died(struct pagetable *pt, uint32_t node)
{
	pt_lock_node(pt, node);
	if (pt->nodes[node].state == NODE_LIVE)
		pt->nodes[node].state = NODE_DIED;
	pt_unlock_node(pt, node);
}

static int io_send(struct coherence_io *io, uint32_t node, const struct msg *m, const void *payload)
{
	return node_send(io->ctx, node, m, payload);
}

static void io_log(struct coherence_io *io, uint32_t node, int64_t page, enum log_action action,
		   int64_t peer, int64_t us)
{
	(void)io;
	joblog_write(node, action, page, peer, us);
}

void nodelink_io_init(struct coherence_io *io, struct pagetable *pt)
{
	io->send = io_send;
	io->log = joblog_enabled() ? io_log : NULL;
	io->ctx = pt;
}
