/*
 * locktable.c - the lock table's mapping, its mutex, the open-addressing
 * hash table (linear probing, backward-shift deletion), the pool of waiter
 * records with their FIFO queues, and the outbox (see locktable.h).
 */
#include "locktable.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "../util.h"

static size_t round_up(size_t v, size_t to)
{
	return (v + to - 1) / to * to;
}

struct locktable *lt_create(uint32_t nnodes, uint32_t slots, uint32_t waiters)
{
	size_t head = round_up(sizeof(struct locktable) + nnodes * sizeof(struct lt_node_count), 64);
	size_t slots_off = head;
	size_t waiters_off = round_up(slots_off + (size_t)slots * sizeof(struct lt_entry), 64);
	size_t total = waiters_off + (size_t)waiters * sizeof(struct lt_waiter);
	struct locktable *t;
	int rc;

	if (slots < 2 || (slots & (slots - 1)) || waiters == 0 || waiters == LT_NIL) {
		errno = EINVAL;
		return NULL;
	}
	/* zero-filled: every slot empty (key 0), every count 0; the records
	 * are set up when first used, so untouched pages cost nothing */
	t = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE,
		 -1, 0);
	if (t == MAP_FAILED)
		return NULL;
	t->nnodes = nnodes;
	t->slots = slots;
	t->bits = (uint32_t)__builtin_ctz(slots);
	t->max_entries = slots / 2;
	t->nwaiters = waiters;
	t->free_head = LT_NIL;
	t->map_size = total;
	t->slot = (struct lt_entry *)((uint8_t *)t + slots_off);
	t->waiter = (struct lt_waiter *)((uint8_t *)t + waiters_off);
	if ((rc = robust_mutex_init(&t->mutex)) != 0) {
		munmap(t, total);
		errno = rc;
		return NULL;
	}
	return t;
}

void lt_destroy(struct locktable *t)
{
	if (t)
		munmap(t, t->map_size);
}

void lt_enter(struct locktable *t)
{
	robust_mutex_lock(&t->mutex);
}

void lt_leave(struct locktable *t)
{
	pthread_mutex_unlock(&t->mutex);
}

/* ---- the hash table ----------------------------------------------------- */

/* Fibonacci hashing: locks in an array (keys 8 or 16 bytes apart) spread
 * over the whole table instead of filling one run of slots. */
uint32_t lt_home(const struct locktable *t, uint64_t key)
{
	return (uint32_t)((key * 0x9E3779B97F4A7C15ull) >> (64 - t->bits));
}

struct lt_entry *lt_find(struct locktable *t, uint64_t key)
{
	uint32_t mask = t->slots - 1;

	/* at most half full: an empty slot always ends the probe */
	for (uint32_t i = lt_home(t, key);; i = (i + 1) & mask) {
		if (t->slot[i].key == key)
			return &t->slot[i];
		if (t->slot[i].key == 0)
			return NULL;
	}
}

struct lt_entry *lt_insert(struct locktable *t, uint64_t key)
{
	uint32_t mask = t->slots - 1, i = lt_home(t, key);

	if (t->entries >= t->max_entries)
		return NULL;
	while (t->slot[i].key != 0)
		i = (i + 1) & mask;
	t->slot[i] = (struct lt_entry){.key = key, .holder = LT_NONE, .orphaned_by = LT_NONE,
				       .head = LT_NIL, .tail = LT_NIL};
	t->entries++;
	return &t->slot[i];
}

/*
 * Backward-shift deletion: the entries after the hole, up to the next
 * empty slot, move back into it when their home slot allows, so that no
 * probe for them ever meets an empty slot before it reaches them. No
 * tombstones: the table never fills up with them.
 */
void lt_delete(struct locktable *t, struct lt_entry *e)
{
	uint32_t mask = t->slots - 1, hole = (uint32_t)(e - t->slot), j = hole;

	for (;;) {
		uint32_t home;

		j = (j + 1) & mask;
		if (t->slot[j].key == 0)
			break;
		home = lt_home(t, t->slot[j].key);
		/* stays when its home lies cyclically in (hole, j]: moving it
		 * before its home would hide it from its probes */
		if (hole <= j ? (hole < home && home <= j) : (hole < home || home <= j))
			continue;
		t->slot[hole] = t->slot[j];
		hole = j;
	}
	memset(&t->slot[hole], 0, sizeof(t->slot[hole]));
	t->entries--;
}

uint32_t lt_entries(struct locktable *t)
{
	uint32_t n;

	lt_enter(t);
	n = t->entries;
	lt_leave(t);
	return n;
}

/* ---- waiter records and queues ------------------------------------------ */

uint32_t lt_waiter_new(struct locktable *t, int32_t node, uint32_t tag, uint64_t lock,
		       uint64_t since)
{
	uint32_t w;

	if (t->free_head != LT_NIL) {
		w = t->free_head;
		t->free_head = t->waiter[w].next;
	} else if (t->fresh < t->nwaiters) {
		w = t->fresh++;
	} else {
		return LT_NIL;
	}
	t->waiter[w] = (struct lt_waiter){.lock = lock, .since = since, .next = LT_NIL,
					  .node = node, .tag = tag};
	t->waiters_used++;
	return w;
}

void lt_waiter_free(struct locktable *t, uint32_t w)
{
	t->waiter[w].node = LT_NONE;
	t->waiter[w].next = t->free_head;
	t->free_head = w;
	t->waiters_used--;
}

uint32_t lt_waiters_used(struct locktable *t)
{
	uint32_t n;

	lt_enter(t);
	n = t->waiters_used;
	lt_leave(t);
	return n;
}

void lt_node_counts(struct locktable *t, uint32_t node, uint32_t *held, uint32_t *waiting)
{
	lt_enter(t);
	*held = t->node[node].held;
	*waiting = t->node[node].waiting;
	lt_leave(t);
}

void lt_queue_push(struct locktable *t, struct lt_entry *e, uint32_t w)
{
	t->waiter[w].next = LT_NIL;
	if (e->tail == LT_NIL)
		e->head = w;
	else
		t->waiter[e->tail].next = w;
	e->tail = w;
}

uint32_t lt_queue_pop(struct locktable *t, struct lt_entry *e)
{
	uint32_t w = e->head;

	if (w != LT_NIL)
		lt_queue_unlink(t, e, LT_NIL, w);
	return w;
}

void lt_queue_unlink(struct locktable *t, struct lt_entry *e, uint32_t prev, uint32_t w)
{
	uint32_t next = t->waiter[w].next;

	if (prev == LT_NIL)
		e->head = next;
	else
		t->waiter[prev].next = next;
	if (e->tail == w)
		e->tail = prev;
	t->waiter[w].next = LT_NIL;
}

/* ---- the outbox --------------------------------------------------------- */

struct lock_note *lock_outbox_add(struct lock_outbox *o, enum lock_note_kind kind, uint32_t node,
				  uint32_t tag, uint64_t addr)
{
	if (o->n == o->cap) {
		size_t cap = o->cap ? 2 * o->cap : 16;
		struct lock_note *v = realloc(o->v, cap * sizeof(*v));

		if (!v)
			die(1, "out of memory for the lock table's answers");
		o->v = v;
		o->cap = cap;
	}
	o->v[o->n] = (struct lock_note){.kind = (uint8_t)kind, .node = node, .tag = tag,
					.addr = addr, .peer = -1, .waited_us = -1};
	return &o->v[o->n++];
}

void lock_outbox_clear(struct lock_outbox *o)
{
	o->n = 0;
}

void lock_outbox_free(struct lock_outbox *o)
{
	free(o->v);
	o->v = NULL;
	o->n = o->cap = 0;
}
