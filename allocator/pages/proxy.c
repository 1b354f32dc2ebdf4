/*
 * proxy.c - the proxy event loop (see proxy.h).
 */
#include "proxy.h"

#include <bsd/unistd.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../util.h"
#include "../../common/dispatch.h"
#include "../../common/message.h"
#include "../../common/net.h"
#include "../../common/wire.h"
#include "coherence.h"
#include "../joblog.h"
#include "../locks/locks.h"
#include "nodelink.h"

struct proxy {
	struct pagetable *pt;
	uint32_t node;
	int control_fd;
	int left; /* the node sent MSG_EXIT */
	struct coherence_io io;
};

static struct wire_reader reader;
static uint8_t reader_buf[WIRE_READER_CAPACITY];

static void to_allocator(struct proxy *p, const struct msg *m)
{
	if (wire_send(p->control_fd, m, NULL) < 0)
		die_errno("proxy for node %u: writing to the allocator", p->node);
}

/* The link is over: clean up after the node and tell the allocator. */
static noreturn void finish(struct proxy *p, int status)
{
	if (!p->left) {
		/* arg: when the link closed, so the allocator can tell who went first */
		struct msg gone = {.type = MSG_LINK_LOST, .arg = mono_us()};

		/* tell the allocator first, before even marking the node died:
		 * from that mark on, other proxies answer faults on its pages
		 * with "page lost", which can make other nodes die, and the
		 * allocator must already know whose link closed first (see
		 * node_ended in jobstatus.c) */
		to_allocator(p, &gone);
		node_mark_died(p->pt, p->node);
	}
	/* after EXIT too: a revoke or invalidation queued for the node while it
	 * left was dropped (it was no longer live when it went out), and its
	 * pending bit would hold the page for ever; nothing is lost then, the
	 * node wrote back every page it held writable */
	coh_node_died(p->pt, &p->io, p->node);
	lock_node_gone(p->pt, &p->io, p->node); /* nothing left after EXIT */
	__atomic_store_n(&p->pt->nodes[p->node].proxy, 0, __ATOMIC_RELEASE);
	_exit(status);
}

static void bad_message(struct proxy *p, const char *what, const char *why)
{
	report("node %u sent %s: %s; closing its link", p->node, what, why);
	shutdown(p->pt->nodes[p->node].fd, SHUT_RDWR);
	finish(p, 1);
}

/* ---- the proxy's dispatch table: what a node may send, and when -------- */

enum proxy_state {
	PROXY_LIVE, /* the node is in the job */
	PROXY_LEFT, /* it sent EXIT: only answers to what crossed its EXIT */
	PROXY_STATES
};

static const char *const proxy_state_names[PROXY_STATES] = {
	[PROXY_LIVE] = "in the job",
	[PROXY_LEFT] = "after EXIT",
};

static int on_fault(void *ctx, const struct msg *m, const uint8_t *payload, const char **why)
{
	struct proxy *p = ctx;

	(void)payload;
	return coh_fault(p->pt, &p->io, p->node, m->page, m->node, m->flags & MSGF_WRITE, m->arg,
			 why);
}

/* PAGE_DATA or INVALIDATE_ACK: the node's answer to a revoke/invalidation */
static int on_page_reply(void *ctx, const struct msg *m, const uint8_t *payload, const char **why)
{
	struct proxy *p = ctx;

	return coh_reply(p->pt, &p->io, p->node, m->page, m->node,
			 m->type == MSG_PAGE_DATA ? payload : NULL,
			 why);
}

static int on_release(void *ctx, const struct msg *m, const uint8_t *payload, const char **why)
{
	struct proxy *p = ctx;

	return coh_release(p->pt, &p->io, p->node, m->page, m->node, payload, why);
}

/* MALLOC, BARRIER, BCAST, BCAST_BUF: served by the allocator */
static int on_service(void *ctx, const struct msg *m, const uint8_t *payload, const char **why)
{
	(void)payload, (void)why;
	to_allocator(ctx, m);
	return 0;
}

/* sm_bcast_buf: a piece of the root's buffer, to every other node */
static int on_bcast_data(void *ctx, const struct msg *m, const uint8_t *payload, const char **why)
{
	struct proxy *p = ctx;

	return node_bcast_forward(p->pt, p->node, m, payload, why);
}

static int on_pong(void *ctx, const struct msg *m, const uint8_t *payload, const char **why)
{
	struct proxy *p = ctx;
	uint64_t now = mono_us();

	(void)payload, (void)why;
	node_pong(p->pt, p->node);
	if (m->arg <= now) {
		stats_ping(&p->pt->nodes[p->node].stats, now - m->arg);
		joblog_write(p->node, LOG_PING, -1, -1, (int64_t)(now - m->arg));
	}
	return 0;
}

static int on_node_exit(void *ctx, const struct msg *m, const uint8_t *payload, const char **why)
{
	struct proxy *p = ctx;

	(void)payload, (void)why;
	/* a node that sent EXIT and does not read its EXIT_ACK is cut off
	 * like any other that stopped reading: it has not left */
	if (node_send_exit_ack(p->pt, p->node) < 0 && node_stopped_reading(p->pt, p->node))
		finish(p, 0);
	p->left = 1;
	/* the locks it holds are orphaned, their waiters told */
	lock_node_gone(p->pt, &p->io, p->node);
	to_allocator(p, m);
	return 0;
}

/* LOCK, UNLOCK, COND_WAIT, COND_SIGNAL: served against the lock table; a bad
 * address is answered with an ERROR, the link stays */
static int on_lock(void *ctx, const struct msg *m, const uint8_t *payload, const char **why)
{
	struct proxy *p = ctx;

	(void)why;
	lock_serve(p->pt, &p->io, p->node, m, payload);
	return 0;
}

#define LIVE DISPATCH_STATE(PROXY_LIVE)
#define LEFT DISPATCH_STATE(PROXY_LEFT)
static const struct dispatch_row proxy_rows[] = {
	{MSG_FAULT, LIVE, on_fault},
	{MSG_PAGE_DATA, LIVE | LEFT, on_page_reply},
	{MSG_INVALIDATE_ACK, LIVE | LEFT, on_page_reply},
	/* after EXIT: pages of a window still arriving when the node left */
	{MSG_RELEASE, LIVE | LEFT, on_release},
	{MSG_MALLOC, LIVE, on_service},
	{MSG_BARRIER, LIVE, on_service},
	{MSG_BCAST, LIVE, on_service},
	{MSG_BCAST_BUF, LIVE, on_service},
	{MSG_BCAST_DATA, LIVE, on_bcast_data},
	{MSG_PONG, LIVE | LEFT, on_pong},
	{MSG_EXIT, LIVE, on_node_exit},
	{MSG_LOCK, LIVE, on_lock},
	{MSG_UNLOCK, LIVE, on_lock},
	{MSG_COND_WAIT, LIVE, on_lock},
	{MSG_COND_SIGNAL, LIVE, on_lock},
};
#undef LIVE
#undef LEFT

static const struct dispatch_table proxy_table = {
	.receiver = "proxy",
	.rows = proxy_rows,
	.nrows = sizeof(proxy_rows) / sizeof(proxy_rows[0]),
	.state_names = proxy_state_names,
	.nstates = PROXY_STATES,
};

static void handle(struct proxy *p, const struct msg *m, const uint8_t *payload)
{
	unsigned state = p->left ? PROXY_LEFT : PROXY_LIVE;
	const char *why;
	char what[64];

	if (node_stopped_reading(p->pt, p->node))
		finish(p, 0); /* what it still sent goes unread */
	if (dispatch_message(&proxy_table, state, p, m, payload, &why) == DISPATCH_OK)
		return;
	snprintf(what, sizeof(what), "%s (%s)", msg_type_name(m->type),
		 dispatch_state_name(&proxy_table, state));
	bad_message(p, what, why);
}

noreturn void proxy_run(struct pagetable *pt, uint32_t node, int control_fd, pid_t allocator)
{
	struct proxy p = {.pt = pt, .node = node, .control_fd = control_fd};
	int fd = pt->nodes[node].fd;
	char err[NET_ERR_LEN];
	sigset_t sigio;

	setproctitle("proxy for node %u", node);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		die_errno("proxy for node %u: prctl", node);
	if (getppid() != allocator)
		_exit(1); /* the allocator is already gone */
	/* the allocator decides how the job ends, even when a batch system
	 * (scancel) sends SIGTERM to every process of the job at once */
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sigio);
	sigaddset(&sigio, SIGIO);
	/* exactly SIGIO blocked: the allocator's blocked set is not ours */
	if (sigprocmask(SIG_SETMASK, &sigio, NULL) < 0)
		die_errno("proxy for node %u: sigprocmask", node);
	if (net_async(err, fd, NET_OWNER_PROCESS, getpid()) < 0)
		die(1, "proxy for node %u: %s", node, err);
	/* with SIGIO blocked: a writer that cuts the node off wakes us with it */
	__atomic_store_n(&pt->nodes[node].proxy, getpid(), __ATOMIC_RELEASE);
	nodelink_io_init(&p.io, pt);
	wire_reader_init(&reader, fd, FROM_NODE, reader_buf, sizeof(reader_buf));
	reader.limits.npages = pt->npages;
	reader.limits.nnodes = pt->nnodes;
	for (;;) {
		struct msg m;
		const uint8_t *payload;
		const char *why;
		enum decode_result d;
		enum fill_result f;

		/* cut off by a writer (nodelink.c): report it as a lost link */
		if (node_stopped_reading(pt, node))
			finish(&p, 0);
		f = wire_fill(&reader);
		if (f == FILL_EOF)
			finish(&p, 0);
		if (f == FILL_ERROR) {
			if (errno == ECONNRESET)
				finish(&p, 0);
			report_errno("proxy for node %u: reading the link", node);
			finish(&p, 1);
		}
		while ((d = wire_next(&reader, &m, &payload, &why)) == DECODE_OK)
			handle(&p, &m, payload);
		if (d == DECODE_BAD)
			bad_message(&p, "a malformed message", why);
		/* empty (EAGAIN): what comes next raises SIGIO, which stays
		 * pending while it is blocked, so nothing is missed. A short read
		 * is not enough: the FIN that came with the last data raised its
		 * SIGIO together with the data's (signals merge), so after a short
		 * read only one more read() can tell "no more yet" from "closed" */
		if (f == FILL_AGAIN)
			while (sigwaitinfo(&sigio, NULL) < 0)
				if (errno != EINTR)
					die_errno("proxy for node %u: sigwaitinfo", node);
	}
}
