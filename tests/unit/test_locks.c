/*
 * test_locks.c - the lock table (allocator/locks/): its operations checked
 * through the notes they leave in the outbox, without sockets: FIFO handoff,
 * trylock on a free and a held lock, relocking, unlocking a lock not held,
 * deletion that keeps colliding keys findable (backward shift, wrapping
 * round the end), a full table and a full pool of waiters, condition wait,
 * signal and broadcast order, a node that goes holding locks and waiting,
 * orphaned locks. test_lockserve.c has the proxy's side.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "../../allocator/locks/locktable.h"

#define NN 8u
#define BASE 0x566000000000ull
#define L(i) (BASE + 8u * (uint64_t)(i)) /* lock or condition number i */

static struct locktable *t;
static struct lock_outbox out;

static void setup(void)
{
	t = lt_create(NN, 64, 16);
	cr_assert_not_null(t);
	out = (struct lock_outbox){0};
}

static void teardown(void)
{
	lt_destroy(t);
	lock_outbox_free(&out);
}

TestSuite(locks, .init = setup, .fini = teardown, .timeout = 10);

/* ---- helpers ------------------------------------------------------------ */

static void expect_notes(size_t n)
{
	cr_assert_eq(out.n, n, "%zu notes, expected %zu", out.n, n);
}

static const struct lock_note *note(size_t i)
{
	cr_assert_lt(i, out.n, "note %zu missing (%zu notes)", i, out.n);
	return &out.v[i];
}

static void expect_grant(size_t i, uint32_t node, uint64_t lock, int32_t peer)
{
	const struct lock_note *n = note(i);

	cr_assert_eq(n->kind, LOCK_NOTE_GRANT, "note %zu: kind %d, not a grant", i, n->kind);
	cr_assert_eq(n->node, node, "note %zu: grant to node %u, expected %u", i, n->node, node);
	cr_assert_eq(n->addr, lock, "note %zu: grant of %#llx, expected %#llx", i,
		     (unsigned long long)n->addr, (unsigned long long)lock);
	cr_assert_eq(n->busy, 0, "note %zu: busy", i);
	cr_assert_eq(n->peer, peer, "note %zu: peer %d, expected %d", i, n->peer, peer);
}

static void expect_error(size_t i, uint32_t node, enum dsm_error code, uint64_t addr,
			 uint32_t detail)
{
	const struct lock_note *n = note(i);

	cr_assert_eq(n->kind, LOCK_NOTE_ERROR, "note %zu: kind %d, not an error", i, n->kind);
	cr_assert_eq(n->node, node, "note %zu: error to node %u, expected %u", i, n->node, node);
	cr_assert_eq(n->code, code, "note %zu: error %u, expected %u", i, n->code, code);
	cr_assert_eq(n->addr, addr, "note %zu: about %#llx", i, (unsigned long long)n->addr);
	cr_assert_eq(n->detail, detail, "note %zu: names node %u, expected %u", i, n->detail,
		     detail);
}

static void lock_ok(uint32_t node, uint64_t lock)
{
	cr_assert_eq(lt_lock(t, node, 0, lock, 0, 100, &out), 0);
}

static void unlock_ok(uint32_t node, uint64_t lock)
{
	cr_assert_eq(lt_unlock(t, node, 0, lock, 200, &out), 0);
}

/* nothing held, nothing waiting, no entry, no record */
static void expect_empty(void)
{
	for (uint32_t n = 0; n < NN; n++) {
		uint32_t held, waiting;

		lt_node_counts(t, n, &held, &waiting);
		cr_assert_eq(held + waiting, 0, "node %u: %u held, %u waiting", n, held, waiting);
	}
	cr_assert_eq(lt_entries(t), 0, "%u entries left", lt_entries(t));
	cr_assert_eq(lt_waiters_used(t), 0, "%u waiter records left", lt_waiters_used(t));
}

/* ---- locks -------------------------------------------------------------- */

Test(locks, free_lock_granted_at_once_and_entry_gone_after_unlock)
{
	lock_ok(3, L(1));
	expect_notes(1);
	expect_grant(0, 3, L(1), -1);
	cr_assert_eq(note(0)->waited_us, -1, "taken at once");
	cr_assert_eq(lt_entries(t), 1);
	lock_outbox_clear(&out);
	unlock_ok(3, L(1));
	expect_notes(0);
	expect_empty();
}

Test(locks, waiters_are_granted_in_fifo_order_one_handoff_each)
{
	lock_ok(0, L(1));
	lock_ok(5, L(1));
	lock_ok(2, L(1));
	lock_ok(7, L(1));
	expect_notes(1); /* only node 0's grant: the others wait */
	lock_outbox_clear(&out);
	unlock_ok(0, L(1));
	expect_notes(1);
	expect_grant(0, 5, L(1), 0);
	cr_assert_eq(note(0)->waited_us, 100, "queued at 100, granted at 200");
	lock_outbox_clear(&out);
	unlock_ok(5, L(1));
	expect_grant(0, 2, L(1), 5);
	lock_outbox_clear(&out);
	unlock_ok(2, L(1));
	expect_grant(0, 7, L(1), 2);
	lock_outbox_clear(&out);
	unlock_ok(7, L(1));
	expect_notes(0);
	expect_empty();
}

Test(locks, grant_echoes_the_tag)
{
	cr_assert_eq(lt_lock(t, 1, 0, L(2), 0, 0, &out), 0);
	cr_assert_eq(lt_lock(t, 4, 9, L(2), 0, 0, &out), 0);
	lock_outbox_clear(&out);
	cr_assert_eq(lt_unlock(t, 1, 0, L(2), 0, &out), 0);
	expect_grant(0, 4, L(2), 1);
	cr_assert_eq(note(0)->tag, 9);
	/* the holder is node 4 with tag 9: the same node with another tag is not */
	lock_outbox_clear(&out);
	cr_assert_eq(lt_unlock(t, 4, 0, L(2), 0, &out), DSM_ERR_NOT_LOCK_HOLDER);
	cr_assert_eq(lt_unlock(t, 4, 9, L(2), 0, &out), 0);
}

Test(locks, trylock_takes_a_free_lock_and_is_busy_on_a_held_one)
{
	cr_assert_eq(lt_lock(t, 1, 0, L(3), 1, 0, &out), 0);
	expect_grant(0, 1, L(3), -1);
	cr_assert_eq(lt_lock(t, 2, 0, L(3), 1, 0, &out), 0);
	expect_notes(2);
	cr_assert_eq(note(1)->kind, LOCK_NOTE_GRANT);
	cr_assert_eq(note(1)->node, 2);
	cr_assert_eq(note(1)->busy, 1, "a try on a held lock is answered busy");
	cr_assert_eq(lt_waiters_used(t), 0, "a busy try does not wait");
	lock_outbox_clear(&out);
	unlock_ok(1, L(3));
	expect_notes(0); /* nobody waits: node 2 was not queued */
	expect_empty();
}

Test(locks, relock_by_the_holder_is_an_error_not_a_deadlock)
{
	lock_ok(4, L(5));
	lock_outbox_clear(&out);
	cr_assert_eq(lt_lock(t, 4, 0, L(5), 0, 0, &out), DSM_ERR_LOCK_RELOCK);
	expect_notes(1);
	expect_error(0, 4, DSM_ERR_LOCK_RELOCK, L(5), 4);
	cr_assert_eq(lt_lock(t, 4, 0, L(5), 1, 0, &out), DSM_ERR_LOCK_RELOCK, "trylock too");
	cr_assert_eq(lt_waiters_used(t), 0);
	unlock_ok(4, L(5));
	expect_empty();
}

Test(locks, unlock_of_a_lock_not_held_is_an_error)
{
	cr_assert_eq(lt_unlock(t, 2, 0, L(6), 0, &out), DSM_ERR_NOT_LOCK_HOLDER, "free lock");
	expect_error(0, 2, DSM_ERR_NOT_LOCK_HOLDER, L(6), 2);
	lock_ok(1, L(6));
	lock_ok(2, L(6)); /* waiting is not holding */
	lock_outbox_clear(&out);
	cr_assert_eq(lt_unlock(t, 2, 0, L(6), 0, &out), DSM_ERR_NOT_LOCK_HOLDER);
	expect_notes(1);
	expect_error(0, 2, DSM_ERR_NOT_LOCK_HOLDER, L(6), 2);
	lock_outbox_clear(&out);
	unlock_ok(1, L(6)); /* the holder still has it, and hands it on */
	expect_grant(0, 2, L(6), 1);
}

/* ---- the hash table ------------------------------------------------------ */

/* the n-th address (from from on) whose home slot is home */
static uint64_t key_at(uint32_t home, uint64_t *from)
{
	for (;; *from += 8)
		if (lt_home(t, *from) == home) {
			uint64_t k = *from;

			*from += 8;
			return k;
		}
}

static void expect_held_by(uint64_t lock, uint32_t node)
{
	struct lt_entry *e;

	lt_enter(t);
	e = lt_find(t, lock);
	cr_assert_not_null(e, "%#llx not found", (unsigned long long)lock);
	cr_assert_eq(e->holder, (int32_t)node, "%#llx held by %d, expected %u",
		     (unsigned long long)lock, e->holder, node);
	lt_leave(t);
}

Test(locks, deleting_an_entry_keeps_colliding_keys_findable)
{
	uint64_t from = BASE, k[5];

	/* three keys for slot 10, one for 11 and one for 12: a run 10..14 */
	k[0] = key_at(10, &from);
	k[1] = key_at(10, &from);
	k[2] = key_at(11, &from);
	k[3] = key_at(10, &from);
	k[4] = key_at(12, &from);
	for (int i = 0; i < 5; i++)
		lock_ok((uint32_t)i, k[i]);
	/* the first of the run goes: all the others move back or stay findable */
	unlock_ok(0, k[0]);
	for (int i = 1; i < 5; i++)
		expect_held_by(k[i], (uint32_t)i);
	unlock_ok(2, k[2]);
	expect_held_by(k[1], 1);
	expect_held_by(k[3], 3);
	expect_held_by(k[4], 4);
	unlock_ok(3, k[3]);
	unlock_ok(1, k[1]);
	expect_held_by(k[4], 4);
	unlock_ok(4, k[4]);
	expect_empty();
}

Test(locks, deletion_wraps_round_the_end_of_the_table)
{
	uint64_t from = BASE, k[4];

	k[0] = key_at(63, &from); /* slot 63 */
	k[1] = key_at(63, &from); /* wraps to 0 */
	k[2] = key_at(0, &from);  /* home 0, placed at 1 */
	k[3] = key_at(63, &from); /* wraps to 2 */
	for (int i = 0; i < 4; i++)
		lock_ok((uint32_t)i, k[i]);
	unlock_ok(0, k[0]);
	for (int i = 1; i < 4; i++)
		expect_held_by(k[i], (uint32_t)i);
	unlock_ok(1, k[1]);
	expect_held_by(k[2], 2);
	expect_held_by(k[3], 3);
	unlock_ok(3, k[3]);
	expect_held_by(k[2], 2);
	unlock_ok(2, k[2]);
	expect_empty();
}

Test(locks, random_inserts_and_deletes_agree_with_a_plain_set)
{
	enum { KEYS = 48 };
	uint64_t key[KEYS];
	int present[KEYS] = {0}, collisions = 0;
	unsigned seed = 12345;

	/* 48 random addresses, up to 32 of them (the most) in 64 slots at once:
	 * long runs of colliding keys */
	for (int i = 0; i < KEYS; i++) {
		key[i] = BASE + 8u * (uint64_t)(rand_r(&seed) % (1 << 20)) * 2u + 8u * (uint64_t)i;
		for (int j = 0; j < i; j++)
			collisions += lt_home(t, key[j]) == lt_home(t, key[i]);
	}
	cr_assert_gt(collisions, 10, "too few collisions (%d) to test anything", collisions);
	for (int step = 0; step < 20000; step++) {
		int i = rand_r(&seed) % KEYS;

		lt_enter(t);
		if (present[i]) {
			lt_delete(t, lt_find(t, key[i]));
			present[i] = 0;
		} else if (t->entries < t->max_entries) {
			cr_assert_null(lt_find(t, key[i]));
			cr_assert_not_null(lt_insert(t, key[i]));
			present[i] = 1;
		}
		for (int j = 0; j < KEYS; j++)
			cr_assert_eq(lt_find(t, key[j]) != NULL, present[j], "step %d: key %d %s",
				     step, j, present[j] ? "lost" : "found but deleted");
		lt_leave(t);
	}
}

Test(locks, a_full_table_answers_table_full)
{
	/* 64 slots: at most 32 entries */
	for (uint32_t i = 0; i < 32; i++)
		lock_ok(i % NN, L(100 + i));
	lock_outbox_clear(&out);
	cr_assert_eq(lt_lock(t, 1, 0, L(200), 0, 0, &out), DSM_ERR_SYNC_TABLE_FULL);
	expect_error(0, 1, DSM_ERR_SYNC_TABLE_FULL, L(200), 1);
	/* one released: room again */
	unlock_ok(0, L(100));
	lock_outbox_clear(&out);
	lock_ok(1, L(200));
	expect_grant(0, 1, L(200), -1);
}

Test(locks, a_full_pool_of_waiters_answers_table_full)
{
	lock_ok(0, L(1));
	for (uint32_t i = 0; i < 16; i++) /* the pool: 16 records */
		cr_assert_eq(lt_lock(t, 1 + i % 7, i, L(1), 0, 0, &out), 0);
	lock_outbox_clear(&out);
	cr_assert_eq(lt_lock(t, 2, 99, L(1), 0, 0, &out), DSM_ERR_SYNC_TABLE_FULL);
	expect_error(0, 2, DSM_ERR_SYNC_TABLE_FULL, L(1), 2);
	cr_assert_eq(lt_waiters_used(t), 16);
}

/* ---- conditions ------------------------------------------------------- */

#define C(i) L(1000 + (i))

/* node takes lock (free) and waits on cond */
static void wait_on(uint32_t node, uint64_t cond, uint64_t lock)
{
	lock_ok(node, lock);
	cr_assert_eq(lt_cond_wait(t, node, 0, cond, lock, 100, &out), 0);
}

Test(locks, cond_wait_releases_the_lock_to_the_next_waiter)
{
	lock_ok(1, L(1));
	lock_ok(2, L(1));
	lock_outbox_clear(&out);
	cr_assert_eq(lt_cond_wait(t, 1, 0, C(1), L(1), 150, &out), 0);
	expect_notes(1);
	expect_grant(0, 2, L(1), 1);
	uint32_t held, waiting;

	lt_node_counts(t, 1, &held, &waiting);
	cr_assert_eq(held, 0);
	cr_assert_eq(waiting, 1);
}

Test(locks, cond_wait_without_the_lock_is_an_error)
{
	cr_assert_eq(lt_cond_wait(t, 3, 0, C(1), L(1), 0, &out), DSM_ERR_NOT_LOCK_HOLDER);
	expect_error(0, 3, DSM_ERR_NOT_LOCK_HOLDER, L(1), 3);
	lock_ok(4, L(1));
	cr_assert_eq(lt_cond_wait(t, 3, 0, C(1), L(1), 0, &out), DSM_ERR_NOT_LOCK_HOLDER,
		     "another node's lock");
	cr_assert_eq(lt_waiters_used(t), 0);
}

Test(locks, signal_with_no_waiter_does_nothing)
{
	cr_assert_eq(lt_cond_signal(t, 0, C(1), 0, 0, &out), 0);
	cr_assert_eq(lt_cond_signal(t, 0, C(1), 1, 0, &out), 0);
	expect_notes(0);
	expect_empty();
}

Test(locks, signal_grants_a_free_lock_at_once)
{
	wait_on(1, C(1), L(1)); /* L(1) is free again, and has no entry */
	cr_assert_eq(lt_entries(t), 1, "only the condition's");
	lock_outbox_clear(&out);
	cr_assert_eq(lt_cond_signal(t, 5, C(1), 0, 300, &out), 1);
	expect_notes(2);
	cr_assert_eq(note(0)->kind, LOCK_NOTE_WOKEN);
	cr_assert_eq(note(0)->node, 1);
	cr_assert_eq(note(0)->peer, 5, "signalled by node 5");
	cr_assert_eq(note(0)->waited_us, 200);
	expect_grant(1, 1, L(1), -1);
	cr_assert_eq(lt_entries(t), 1, "the condition's entry went, the lock's came");
	unlock_ok(1, L(1));
	expect_empty();
}

Test(locks, signalled_waiter_queues_behind_earlier_lockers)
{
	wait_on(1, C(1), L(1));
	lock_ok(0, L(1)); /* holds it */
	lock_ok(4, L(1)); /* waits */
	lock_outbox_clear(&out);
	cr_assert_eq(lt_cond_signal(t, 0, C(1), 0, 0, &out), 1);
	expect_notes(1); /* only the WOKEN: the lock is held */
	lock_outbox_clear(&out);
	unlock_ok(0, L(1));
	expect_grant(0, 4, L(1), 0);
	lock_outbox_clear(&out);
	unlock_ok(4, L(1));
	expect_grant(0, 1, L(1), 4);
	lock_outbox_clear(&out);
	unlock_ok(1, L(1));
	expect_empty();
}

Test(locks, signal_wakes_the_first_waiter_and_broadcast_the_rest_in_order)
{
	wait_on(3, C(2), L(1));
	wait_on(1, C(2), L(1));
	wait_on(6, C(2), L(1));
	wait_on(2, C(2), L(1));
	lock_outbox_clear(&out);
	lock_ok(0, L(1));
	lock_outbox_clear(&out);
	cr_assert_eq(lt_cond_signal(t, 0, C(2), 0, 0, &out), 1);
	cr_assert_eq(note(0)->node, 3, "the first to wait is the first woken");
	lock_outbox_clear(&out);
	cr_assert_eq(lt_cond_signal(t, 0, C(2), 1, 0, &out), 3);
	expect_notes(3);
	cr_assert_eq(note(0)->node, 1);
	cr_assert_eq(note(1)->node, 6);
	cr_assert_eq(note(2)->node, 2);
	/* every one of them now waits for the lock, in that order */
	uint32_t order[] = {3, 1, 6, 2}, prev = 0;

	for (int i = 0; i < 4; i++) {
		lock_outbox_clear(&out);
		unlock_ok(prev, L(1));
		expect_notes(1);
		expect_grant(0, order[i], L(1), (int32_t)prev);
		prev = order[i];
	}
	lock_outbox_clear(&out);
	unlock_ok(prev, L(1));
	expect_notes(0);
	expect_empty();
}

/* ---- nodes that go ------------------------------------------------------- */

Test(locks, a_node_that_goes_owning_nothing_costs_nothing)
{
	lock_ok(1, L(1));
	lock_outbox_clear(&out);
	lt_node_gone(t, 2, &out);
	expect_notes(0);
	expect_held_by(L(1), 1);
}

Test(locks, a_node_that_goes_orphans_its_locks_and_fails_their_waiters)
{
	lock_ok(1, L(1));      /* node 1 holds L1 ... */
	lock_ok(0, L(2));
	cr_assert_eq(lt_lock(t, 1, 5, L(2), 0, 0, &out), 0); /* ... and waits for L2 */
	lock_ok(2, L(1));      /* node 2 waits for L1 */
	wait_on(3, C(1), L(3)); /* node 3 waits on C1, to retake L3 ... */
	lock_ok(1, L(3));      /* ... which node 1 takes */
	cr_assert_eq(lt_lock(t, 1, 0, L(3), 0, 0, &out), DSM_ERR_LOCK_RELOCK);
	wait_on(4, C(2), L(4)); /* node 4's condition wait has nothing to do with node 1 */
	lock_outbox_clear(&out);

	lt_node_gone(t, 1, &out);
	/* node 2 (waiting for L1) and node 3 (to retake L3) are told, naming node 1 */
	expect_notes(2);
	for (size_t i = 0; i < 2; i++) {
		const struct lock_note *n = note(i);

		if (n->node == 2)
			expect_error(i, 2, DSM_ERR_LOCK_OWNER_GONE, L(1), 1);
		else
			expect_error(i, 3, DSM_ERR_LOCK_OWNER_GONE, L(3), 1);
	}
	uint32_t held, waiting;

	lt_node_counts(t, 1, &held, &waiting);
	cr_assert_eq(held + waiting, 0, "node 1 left %u held, %u waiting", held, waiting);
	lt_node_counts(t, 2, &held, &waiting);
	cr_assert_eq(held + waiting, 0);
	lt_node_counts(t, 3, &held, &waiting);
	cr_assert_eq(held + waiting, 0);

	/* its place in L2's queue is gone: node 0's unlock frees L2 */
	lock_outbox_clear(&out);
	unlock_ok(0, L(2));
	expect_notes(0);
	/* later lockers of its locks fail, naming it; nobody may unlock them */
	cr_assert_eq(lt_lock(t, 5, 0, L(1), 0, 0, &out), DSM_ERR_LOCK_OWNER_GONE);
	expect_error(0, 5, DSM_ERR_LOCK_OWNER_GONE, L(1), 1);
	cr_assert_eq(lt_lock(t, 5, 0, L(3), 1, 0, &out), DSM_ERR_LOCK_OWNER_GONE, "trylock too");
	cr_assert_eq(lt_unlock(t, 5, 0, L(1), 0, &out), DSM_ERR_NOT_LOCK_HOLDER);
	/* C1 had only node 3: gone; C2 still has node 4, which a signal wakes */
	lock_outbox_clear(&out);
	cr_assert_eq(lt_cond_signal(t, 0, C(1), 1, 0, &out), 0);
	cr_assert_eq(lt_cond_signal(t, 0, C(2), 0, 0, &out), 1);
	expect_grant(1, 4, L(4), -1);
	/* what is left: the two orphaned locks and node 4's */
	cr_assert_eq(lt_entries(t), 3);
	cr_assert_eq(lt_waiters_used(t), 0);
}

Test(locks, a_node_that_goes_while_waiting_leaves_no_trace)
{
	lock_ok(0, L(1));
	lock_ok(1, L(1));
	lock_ok(2, L(1));
	wait_on(1, C(1), L(2)); /* not possible for one thread; the table allows it */
	lock_outbox_clear(&out);
	lt_node_gone(t, 1, &out);
	expect_notes(0);
	unlock_ok(0, L(1));
	expect_grant(0, 2, L(1), 0); /* node 1 was skipped */
	lock_outbox_clear(&out);
	unlock_ok(2, L(1));
	expect_notes(0);
	expect_empty(); /* C1's entry went with its only waiter */
}
