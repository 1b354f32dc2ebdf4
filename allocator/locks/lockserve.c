/*
 * lockserve.c - the proxy's side of locks and conditions (see locks.h): a
 * node's LOCK, UNLOCK, COND_WAIT and COND_SIGNAL checked, run on the job's
 * lock table, and answered. The table's mutex is released before anything
 * is sent: the operations leave their answers in an outbox, written here
 * into the nodes' links (each under that node's send lock), so the lock
 * table's mutex and a send lock are never held together.
 */
#include <endian.h>
#include <stdatomic.h>
#include <string.h>

#include "../util.h"
#include "locks.h"

/* this process's: a proxy serves one message at a time */
static struct lock_outbox outbox;

/* An sm_lock_t or sm_cond_t (8 bytes, 8-byte aligned) inside the region. */
static int in_region(const struct pagetable *pt, uint64_t addr)
{
	uint64_t size = (uint64_t)pt->npages * DSM_PAGE_SIZE;

	return addr % sizeof(uint64_t) == 0 && addr >= pt->base &&
	       addr - pt->base <= size - sizeof(uint64_t);
}

static int64_t page_of(const struct pagetable *pt, uint64_t addr)
{
	return (int64_t)((addr - pt->base) / DSM_PAGE_SIZE);
}

static void log_action(struct coherence_io *io, uint32_t node, int64_t page,
		       enum log_action action, int64_t peer, int64_t us)
{
	if (io->log)
		io->log(io, node, page, action, peer, us);
}

/* Send what the operation left in the outbox, log it, count it. */
static void deliver(struct pagetable *pt, struct coherence_io *io)
{
	for (size_t i = 0; i < outbox.n; i++) {
		const struct lock_note *n = &outbox.v[i];
		struct node_stats *st = &pt->nodes[n->node].stats;
		struct msg m = {.page = n->tag};

		switch (n->kind) {
		case LOCK_NOTE_GRANT:
			m.type = MSG_LOCK_GRANT;
			m.flags = n->busy ? MSGF_BUSY : 0;
			m.arg = n->addr;
			/* a node that has gone is skipped (-1): its proxy orphans
			 * the lock when it cleans up after it (lt_node_gone) */
			io->send(io, n->node, &m, NULL);
			if (n->busy)
				break;
			atomic_fetch_add(&st->locks_taken, 1);
			if (n->waited_us > 0)
				atomic_fetch_add(&st->lock_wait_us, (uint64_t)n->waited_us);
			log_action(io, n->node, page_of(pt, n->addr),
				   n->waited_us < 0 ? LOG_LOCK : LOG_LOCK_WAIT, n->peer, n->waited_us);
			break;
		case LOCK_NOTE_ERROR:
			m.type = MSG_ERROR;
			m.node = n->detail;
			m.arg = n->code;
			io->send(io, n->node, &m, NULL);
			break;
		case LOCK_NOTE_WOKEN:
			log_action(io, n->node, page_of(pt, n->addr), LOG_COND_WAIT, n->peer,
				   n->waited_us);
			break;
		}
	}
	lock_outbox_clear(&outbox);
}

/* The first node the operation granted a lock to, or -1. */
static int64_t first_grantee(void)
{
	for (size_t i = 0; i < outbox.n; i++)
		if (outbox.v[i].kind == LOCK_NOTE_GRANT && !outbox.v[i].busy)
			return outbox.v[i].node;
	return -1;
}

static int64_t first_woken(void)
{
	for (size_t i = 0; i < outbox.n; i++)
		if (outbox.v[i].kind == LOCK_NOTE_WOKEN)
			return outbox.v[i].node;
	return -1;
}

void lock_serve(struct pagetable *pt, struct coherence_io *io, uint32_t node,
		const struct msg *m, const uint8_t *payload)
{
	struct locktable *t = pt->locks;
	uint64_t now = mono_us(), lock = m->arg, cond = 0;
	int64_t peer;

	if (m->type == MSG_COND_WAIT) {
		cond = m->arg;
		memcpy(&lock, payload, sizeof(lock));
		lock = le64toh(lock);
	}
	if (!in_region(pt, m->arg) || !in_region(pt, lock)) {
		struct msg e = {.type = MSG_ERROR, .page = m->page, .node = node,
				.arg = DSM_ERR_SYNC_ADDRESS};

		io->send(io, node, &e, NULL);
		return;
	}
	switch (m->type) {
	case MSG_LOCK:
		lt_lock(t, node, m->page, lock, (m->flags & MSGF_TRY) != 0, now, &outbox);
		break;
	case MSG_UNLOCK:
		if (lt_unlock(t, node, m->page, lock, now, &outbox) == 0)
			log_action(io, node, page_of(pt, lock), LOG_UNLOCK, first_grantee(), -1);
		break;
	case MSG_COND_WAIT:
		lt_cond_wait(t, node, m->page, cond, lock, now, &outbox);
		break;
	case MSG_COND_SIGNAL:
		lt_cond_signal(t, node, m->arg, (m->flags & MSGF_ALL) != 0, now, &outbox);
		peer = first_woken();
		log_action(io, node, page_of(pt, m->arg), LOG_COND_SIGNAL, peer, -1);
		break;
	default:
		return; /* the proxy's table sends only these here */
	}
	deliver(pt, io);
}

void lock_node_gone(struct pagetable *pt, struct coherence_io *io, uint32_t node)
{
	if (!pt->locks)
		return;
	lt_node_gone(pt->locks, node, &outbox);
	deliver(pt, io);
}
