/*
 * lockops.c - the operations on the lock table (see locks.h): lock, trylock,
 * unlock with FIFO handoff, condition wait and signal, and a node that goes.
 * Each takes the table's mutex, changes the table in O(1) (a node that goes:
 * one scan), and leaves what must be sent in the outbox; none sends.
 *
 * Invariants, with the mutex held:
 *  - a lock's entry has a holder, or is orphaned (then its queue is empty);
 *  - a condition's entry has at least one waiter;
 *  - t->node[n] counts the locks n holds and its waiter records.
 */
#include "locktable.h"

#include <stdlib.h>

#include "../util.h"

static int is_cond(uint64_t key)
{
	return (key & 1u) != 0;
}

/* ERROR code to node/tag about addr, naming detail. Returns code. */
static int fail(struct lock_outbox *out, uint32_t node, uint32_t tag, uint64_t addr,
		enum dsm_error code, uint32_t detail)
{
	struct lock_note *n = lock_outbox_add(out, LOCK_NOTE_ERROR, node, tag, addr);

	n->code = code;
	n->detail = detail;
	return (int)code;
}

/* The lock of entry e becomes node/tag's: a LOCK_GRANT. */
static void take(struct locktable *t, struct lt_entry *e, uint32_t node, uint32_t tag,
		 int32_t peer, int64_t waited_us, struct lock_outbox *out)
{
	struct lock_note *n = lock_outbox_add(out, LOCK_NOTE_GRANT, node, tag, e->key);

	e->holder = (int32_t)node;
	e->holder_tag = tag;
	t->node[node].held++;
	n->peer = peer;
	n->waited_us = waited_us;
}

/* A waiter record leaves the table: its node waits for nothing more there. */
static void drop_waiter(struct locktable *t, uint32_t w)
{
	t->node[lt_waiter(t, w)->node].waiting--;
	lt_waiter_free(t, w);
}

/* The lock of e was released by `from`: to its first waiter, or gone. */
static void hand_over(struct locktable *t, struct lt_entry *e, uint32_t from, uint64_t now,
		      struct lock_outbox *out)
{
	uint32_t w = lt_queue_pop(t, e);
	struct lt_waiter *r;

	e->holder = LT_NONE;
	if (w == LT_NIL) {
		lt_delete(t, e); /* a free lock nobody waits for has no entry */
		return;
	}
	r = lt_waiter(t, w);
	take(t, e, (uint32_t)r->node, r->tag, (int32_t)from, (int64_t)(now - r->since), out);
	drop_waiter(t, w);
}

int lt_lock(struct locktable *t, uint32_t node, uint32_t tag, uint64_t lock, int try,
	    uint64_t now, struct lock_outbox *out)
{
	struct lt_entry *e;
	uint32_t w;
	int rc = 0;

	lt_enter(t);
	e = lt_find(t, lock);
	if (!e) {
		e = lt_insert(t, lock);
		if (e)
			take(t, e, node, tag, -1, -1, out);
		else
			rc = fail(out, node, tag, lock, DSM_ERR_SYNC_TABLE_FULL, node);
	} else if (e->orphaned_by != LT_NONE) {
		rc = fail(out, node, tag, lock, DSM_ERR_LOCK_OWNER_GONE, (uint32_t)e->orphaned_by);
	} else if (e->holder == (int32_t)node && e->holder_tag == tag) {
		rc = fail(out, node, tag, lock, DSM_ERR_LOCK_RELOCK, node);
	} else if (try) {
		lock_outbox_add(out, LOCK_NOTE_GRANT, node, tag, lock)->busy = 1;
	} else if ((w = lt_waiter_new(t, (int32_t)node, tag, lock, now)) == LT_NIL) {
		rc = fail(out, node, tag, lock, DSM_ERR_SYNC_TABLE_FULL, node);
	} else {
		lt_queue_push(t, e, w);
		t->node[node].waiting++;
	}
	lt_leave(t);
	return rc;
}

static int holds(const struct lt_entry *e, uint32_t node, uint32_t tag)
{
	return e && e->holder == (int32_t)node && e->holder_tag == tag;
}

int lt_unlock(struct locktable *t, uint32_t node, uint32_t tag, uint64_t lock, uint64_t now,
	      struct lock_outbox *out)
{
	struct lt_entry *e;
	int rc = 0;

	lt_enter(t);
	e = lt_find(t, lock);
	if (!holds(e, node, tag)) {
		rc = fail(out, node, tag, lock, DSM_ERR_NOT_LOCK_HOLDER, node);
	} else {
		t->node[node].held--;
		hand_over(t, e, node, now, out);
	}
	lt_leave(t);
	return rc;
}

int lt_cond_wait(struct locktable *t, uint32_t node, uint32_t tag, uint64_t cond, uint64_t lock,
		 uint64_t now, struct lock_outbox *out)
{
	struct lt_entry *c;
	uint32_t w;
	int rc = 0;

	lt_enter(t);
	if (!holds(lt_find(t, lock), node, tag)) {
		rc = fail(out, node, tag, lock, DSM_ERR_NOT_LOCK_HOLDER, node);
		goto done;
	}
	/* everything that can fail first: on failure the node still holds the lock */
	w = lt_waiter_new(t, (int32_t)node, tag, lock, now);
	if (w == LT_NIL) {
		rc = fail(out, node, tag, cond, DSM_ERR_SYNC_TABLE_FULL, node);
		goto done;
	}
	c = lt_find(t, LT_COND_KEY(cond));
	if (!c && !(c = lt_insert(t, LT_COND_KEY(cond)))) {
		lt_waiter_free(t, w);
		rc = fail(out, node, tag, cond, DSM_ERR_SYNC_TABLE_FULL, node);
		goto done;
	}
	lt_queue_push(t, c, w);
	t->node[node].waiting++;
	/* an insertion moves no entry, but look the lock up again all the same */
	t->node[node].held--;
	hand_over(t, lt_find(t, lock), node, now, out);
done:
	lt_leave(t);
	return rc;
}

/* A signalled waiter (record w) queues for its lock again, at the tail. */
static void requeue(struct locktable *t, uint32_t w, uint64_t now, struct lock_outbox *out)
{
	struct lt_waiter *r = lt_waiter(t, w);
	struct lt_entry *l = lt_find(t, r->lock);

	if (!l && !(l = lt_insert(t, r->lock))) {
		fail(out, (uint32_t)r->node, r->tag, r->lock, DSM_ERR_SYNC_TABLE_FULL,
		     (uint32_t)r->node);
		drop_waiter(t, w);
	} else if (l->orphaned_by != LT_NONE) {
		fail(out, (uint32_t)r->node, r->tag, r->lock, DSM_ERR_LOCK_OWNER_GONE,
		     (uint32_t)l->orphaned_by);
		drop_waiter(t, w);
	} else if (l->holder == LT_NONE) {
		/* free: a new entry (or, never, a held-by-nobody one) */
		take(t, l, (uint32_t)r->node, r->tag, -1, -1, out);
		drop_waiter(t, w);
	} else {
		r->since = now; /* its lock wait starts now */
		lt_queue_push(t, l, w);
	}
}

uint32_t lt_cond_signal(struct locktable *t, uint32_t node, uint64_t cond, int all, uint64_t now,
			struct lock_outbox *out)
{
	uint32_t woken = 0;

	lt_enter(t);
	do {
		struct lt_entry *c = lt_find(t, LT_COND_KEY(cond));
		struct lock_note *n;
		struct lt_waiter *r;
		uint32_t w;

		if (!c)
			break; /* no waiter (left): nothing happens */
		w = lt_queue_pop(t, c);
		if (c->head == LT_NIL)
			lt_delete(t, c); /* before requeue: it may need the slot */
		r = lt_waiter(t, w);
		n = lock_outbox_add(out, LOCK_NOTE_WOKEN, (uint32_t)r->node, r->tag, cond);
		n->peer = (int32_t)node;
		n->waited_us = (int64_t)(now - r->since);
		woken++;
		requeue(t, w, now, out);
	} while (all);
	lt_leave(t);
	return woken;
}

/* ---- a node that goes ----------------------------------------------------- */

/* A waiter whose lock `lock` was orphaned by `gone` is told so and dropped. */
static void fail_orphan_waiter(struct locktable *t, uint32_t w, uint32_t gone,
			       struct lock_outbox *out)
{
	struct lt_waiter *r = lt_waiter(t, w);

	fail(out, (uint32_t)r->node, r->tag, r->lock, DSM_ERR_LOCK_OWNER_GONE, gone);
	drop_waiter(t, w);
}

/* Drop from e's queue the records of node `gone` (orphans 0), or (orphans
 * 1) those that would retake a lock `gone` orphaned, which fail. */
static void sweep_queue(struct locktable *t, struct lt_entry *e, uint32_t gone, int orphans,
			struct lock_outbox *out)
{
	uint32_t prev = LT_NIL, w = e->head;

	while (w != LT_NIL) {
		struct lt_waiter *r = lt_waiter(t, w);
		uint32_t next = r->next;
		const struct lt_entry *l;

		if (!orphans && r->node == (int32_t)gone) {
			lt_queue_unlink(t, e, prev, w);
			drop_waiter(t, w);
		} else if (orphans && (l = lt_find(t, r->lock)) && l->orphaned_by == (int32_t)gone) {
			lt_queue_unlink(t, e, prev, w);
			fail_orphan_waiter(t, w, gone, out);
		} else {
			prev = w;
		}
		w = next;
	}
}

struct keys {
	uint64_t *v;
	size_t n, cap;
};

static void keys_add(struct keys *k, uint64_t key)
{
	if (k->n == k->cap) {
		size_t cap = k->cap ? 2 * k->cap : 16;
		uint64_t *v = realloc(k->v, cap * sizeof(*v));

		if (!v)
			die(1, "out of memory for the lock table");
		k->v = v;
		k->cap = cap;
	}
	k->v[k->n++] = key;
}

/*
 * Three passes over the table: nothing is deleted while scanning (a
 * deletion moves entries), only after. The scan touches every slot, so a
 * node that goes holding a lock makes the whole table resident (4 MiB for
 * the job's); one that held nothing and waited nowhere costs no scan.
 */
void lt_node_gone(struct locktable *t, uint32_t node, struct lock_outbox *out)
{
	struct keys empty = {0};

	lt_enter(t);
	if (t->node[node].held == 0 && t->node[node].waiting == 0) {
		lt_leave(t);
		return;
	}
	/* 1: its waiter records vanish; the locks it holds become orphaned */
	for (uint32_t i = 0; i < t->slots; i++) {
		struct lt_entry *e = lt_slot(t, i);

		if (e->key == 0)
			continue;
		sweep_queue(t, e, node, 0, out);
		if (!is_cond(e->key) && e->holder == (int32_t)node) {
			e->holder = LT_NONE;
			e->orphaned_by = (int32_t)node;
			t->node[node].held--;
		}
	}
	/* 2: the waiters of those locks fail, and the condition waiters that
	 * would retake one of them; conditions left without waiters go */
	for (uint32_t i = 0; i < t->slots; i++) {
		struct lt_entry *e = lt_slot(t, i);
		uint32_t w;

		if (e->key == 0)
			continue;
		if (!is_cond(e->key) && e->orphaned_by == (int32_t)node) {
			while ((w = lt_queue_pop(t, e)) != LT_NIL)
				fail_orphan_waiter(t, w, node, out);
		} else if (is_cond(e->key)) {
			sweep_queue(t, e, node, 1, out);
			if (e->head == LT_NIL)
				keys_add(&empty, e->key);
		}
	}
	/* 3: delete them (entries move now, so each is looked up again) */
	for (size_t k = 0; k < empty.n; k++) {
		struct lt_entry *e = lt_find(t, empty.v[k]);

		if (e && e->head == LT_NIL)
			lt_delete(t, e);
	}
	lt_leave(t);
	free(empty.v);
}
