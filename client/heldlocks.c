/*
 * heldlocks.c - the set of locks this node holds, by address: an
 * open-addressing hash set (linear probing, backward-shift deletion) that
 * grows as needed. locks.c consults it so that unlocking a lock the node
 * does not hold, locking one it holds and waiting on a condition without
 * the lock are reported at once, in the caller, before any message goes
 * out. Used only from the API functions (the node's thread, never inside a
 * signal handler), so it may allocate.
 */
#include <stdlib.h>

#include "libsm.h"

static uint64_t *slot; /* 0: empty (no lock lives at address 0) */
static size_t cap, count;

static size_t home(uint64_t lock, size_t n)
{
	return (size_t)((lock * 0x9E3779B97F4A7C15ull) >> 32) & (n - 1);
}

/* where lock is, or the empty slot where it would go */
static size_t probe(const uint64_t *s, size_t n, uint64_t lock)
{
	size_t i = home(lock, n);

	while (s[i] != 0 && s[i] != lock)
		i = (i + 1) & (n - 1);
	return i;
}

int sm__held_has(uint64_t lock)
{
	return cap && slot[probe(slot, cap, lock)] == lock;
}

static void grow(void)
{
	size_t n = cap ? 2 * cap : 16;
	uint64_t *s = calloc(n, sizeof(*s));

	if (!s)
		sm__die("out of memory for the set of locks held", NULL);
	for (size_t i = 0; i < cap; i++)
		if (slot[i])
			s[probe(s, n, slot[i])] = slot[i];
	free(slot);
	slot = s;
	cap = n;
}

void sm__held_add(uint64_t lock)
{
	size_t i;

	if (2 * (count + 1) > cap)
		grow(); /* at most half full: probes stay short and end */
	i = probe(slot, cap, lock);
	if (slot[i] == 0) {
		slot[i] = lock;
		count++;
	}
}

void sm__held_remove(uint64_t lock)
{
	size_t mask = cap - 1, hole, j;

	if (!cap || slot[hole = probe(slot, cap, lock)] != lock)
		return;
	/* backward shift: what follows moves into the hole when its home allows */
	for (j = (hole + 1) & mask; slot[j] != 0; j = (j + 1) & mask) {
		size_t h = home(slot[j], cap);

		if (hole <= j ? (hole < h && h <= j) : (hole < h || h <= j))
			continue;
		slot[hole] = slot[j];
		hole = j;
	}
	slot[hole] = 0;
	count--;
}
