/*
 * nodelink.c - locked writes to nodes' links (see nodelink.h). Every write
 * is bounded: a node whose link takes no byte for NODE_STALL_SECONDS is not
 * reading, and is cut off instead of blocking its writer (docs/design.md,
 * "Deadlock freedom", point 4).
 */
#include "nodelink.h"

#include <errno.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../common/wire.h"
#include "../joblog.h"
#include "../util.h"

/* This process's: readable when a signal that ends the job is pending. */
static int stop_fd = -1;

int node_send_stop_on_signals(void)
{
	sigset_t sigs;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	/* never read: the job's own signalfd consumes the signal */
	stop_fd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	return stop_fd < 0 ? -1 : 0;
}

int node_stopped_reading(const struct pagetable *pt, uint32_t node)
{
	return __atomic_load_n(&pt->nodes[node].state, __ATOMIC_ACQUIRE) == NODE_STALLED;
}

/*
 * The node is not reading (under its send lock): nobody writes to it again,
 * its link is shut down, and its proxy, which reports it to the allocator, is
 * woken: it may be asleep waiting for the node, and a shutdown raises no
 * SIGIO. A proxy's pid cannot have been reused here: a proxy that died was
 * reaped by the allocator, which then shut every link down first (job_end),
 * so no send can have waited 2 s on one since.
 */
static void cut_off(struct pagetable *pt, uint32_t node)
{
	struct node_slot *s = &pt->nodes[node];
	pid_t proxy = __atomic_load_n(&s->proxy, __ATOMIC_ACQUIRE);

	__atomic_store_n(&s->state, NODE_STALLED, __ATOMIC_RELEASE);
	if (shutdown(s->fd, SHUT_RDWR) < 0 && errno != ENOTCONN)
		report_errno("node %u: shutting its link down", node);
	if (proxy > 0 && kill(proxy, SIGIO) < 0 && errno != ESRCH)
		report_errno("node %u: waking its proxy", node);
}

/* One whole message into node's link, whose send lock the caller holds. */
static int send_locked(struct pagetable *pt, uint32_t node, const struct msg *m,
		       const void *payload)
{
	struct wire_limit limit = {.stall_ms = NODE_STALL_SECONDS * 1000, .stop_fd = stop_fd};
	int fd = pt->nodes[node].fd;
	size_t sent = 0;

	if (wire_send_limited(fd, m, payload, &limit, &sent) == 0)
		return 0;
	if (errno == ETIMEDOUT) {
		cut_off(pt, node);
	} else if (errno == ECANCELED && sent > 0) {
		/* the job is ending; the link now ends inside a message, so
		 * nothing may follow it */
		if (shutdown(fd, SHUT_RDWR) < 0 && errno != ENOTCONN)
			report_errno("node %u: shutting its link down", node);
	}
	return -1;
}

int node_send(struct pagetable *pt, uint32_t node, const struct msg *m, const void *payload)
{
	int rc = -1;

	pt_lock_node(pt, node);
	if (pt->nodes[node].state == NODE_LIVE)
		rc = send_locked(pt, node, m, payload);
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
		rc = send_locked(pt, node, &m, NULL);
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

int node_send_ping(struct pagetable *pt, uint32_t node, uint64_t now)
{
	struct msg m = {.type = MSG_PING, .arg = now};

	/* one PING on its way at a time: a stopped node would otherwise
	 * collect one a second, without bound */
	if (atomic_exchange(&pt->nodes[node].ping_out, 1))
		return 0;
	return node_send(pt, node, &m, NULL);
}

void node_pong(struct pagetable *pt, uint32_t node)
{
	atomic_store(&pt->nodes[node].ping_out, 0);
}

void node_bcast_allow(struct pagetable *pt, uint32_t node, uint64_t len)
{
	pt_lock_node(pt, node);
	pt->nodes[node].bcast_next = 0;
	pt->nodes[node].bcast_end = len;
	pt_unlock_node(pt, node);
}

int node_bcast_forward(struct pagetable *pt, uint32_t root, const struct msg *m,
		       const void *payload, const char **why)
{
	struct node_slot *s = &pt->nodes[root];
	int ok = 0;

	/* the piece must be the next one its GO allowed: a node cannot make
	 * its proxy write into the others' links what nobody waits for */
	pt_lock_node(pt, root);
	if (s->bcast_next == s->bcast_end)
		*why = "a broadcast piece no BCAST_BUF_GO allowed";
	else if (m->arg != s->bcast_next)
		*why = "a broadcast piece out of order (not at the offset where the last one ended)";
	else if (m->length > s->bcast_end - s->bcast_next)
		*why = "a broadcast piece past the length BCAST_BUF_GO allowed";
	else
		ok = 1, s->bcast_next += m->length;
	pt_unlock_node(pt, root);
	if (!ok)
		return -1;
	/* to every other node still in the job: all of them wait for it (a
	 * node that left, died or was cut off is skipped by node_send) */
	for (uint32_t n = 0; n < pt->nnodes; n++)
		if (n != root)
			node_send(pt, n, m, payload);
	return 0;
}

size_t node_link_bound(const struct pagetable *pt)
{
	size_t window = pt->prefetch > 1 ? pt->prefetch : 1;
	size_t runs = (window + DSM_MAX_RUN - 1) / DSM_MAX_RUN;

	/* the grant runs of its one fault; a revoke or invalidation run per
	 * run of every other node's fault; one reply, EXIT_ACK, a PING */
	return window * DSM_PAGE_SIZE + (pt->nnodes + 3) * runs * DSM_HEADER_SIZE;
}

int node_link_reserve(struct pagetable *pt, uint32_t node)
{
	int fd = pt->nodes[node].fd, have;
	size_t need = node_link_bound(pt);
	socklen_t len = sizeof(have);

	if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &have, &len) < 0)
		return -1;
	if ((size_t)have >= need)
		return 0; /* keep the kernel's autotuning, which has room already */
	have = need > (size_t)INT32_MAX ? INT32_MAX : (int)need;
	/* the kernel caps it at net.core.wmem_max (then doubles it) */
	return setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &have, sizeof(have));
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
