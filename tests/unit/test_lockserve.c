/*
 * test_lockserve.c - the proxy's side of locks (allocator/locks/lockserve.c)
 * with a fake transport: address checks, the COND_WAIT payload, a handoff
 * and a condition sent, logged and counted in the statistics, and a node
 * that goes. test_locks.c has the lock table's operations.
 */
#include <criterion/criterion.h>
#include <endian.h>
#include <stdatomic.h>

#include "../../allocator/locks/locks.h"
#include "../../allocator/pages/pagetable.h"

#define NN 8u
#define BASE 0x566000000000ull

#define MAXSENT 16
static struct {
	uint32_t to;
	struct msg m;
} sent[MAXSENT];
static int nsent;
static enum log_action logged[MAXSENT];
static int64_t logged_peer[MAXSENT];
static int nlogged;

static int fake_send(struct coherence_io *io, uint32_t node, const struct msg *m,
		     const void *payload)
{
	(void)io, (void)payload;
	cr_assert_lt(nsent, MAXSENT);
	sent[nsent].to = node;
	sent[nsent++].m = *m;
	return 0;
}

static void fake_log(struct coherence_io *io, uint32_t node, int64_t page, enum log_action a,
		     int64_t peer, int64_t us)
{
	(void)io, (void)node, (void)page, (void)us;
	cr_assert_lt(nlogged, MAXSENT);
	logged_peer[nlogged] = peer;
	logged[nlogged++] = a;
}

static struct coherence_io io = {.send = fake_send, .log = fake_log};
static struct pagetable *pt;

static void serve_setup(void)
{
	pt = pt_create(NN, 4, BASE);
	cr_assert_not_null(pt);
	pt->locks = lt_create(NN, 64, 16);
	cr_assert_not_null(pt->locks);
	nsent = nlogged = 0;
}

static void serve_teardown(void)
{
	lt_destroy(pt->locks);
	pt_destroy(pt);
}

TestSuite(lockserve, .init = serve_setup, .fini = serve_teardown, .timeout = 10);

static void serve(uint32_t node, uint8_t type, uint8_t flags, uint64_t arg, uint64_t lock)
{
	struct msg m = {.type = type, .flags = flags, .arg = arg};
	uint64_t le = htole64(lock);

	if (type == MSG_COND_WAIT)
		m.length = 8;
	lock_serve(pt, &io, node, &m, (const uint8_t *)&le);
}

static void expect_sent(int i, uint32_t to, uint8_t type, uint8_t flags, uint64_t arg)
{
	cr_assert_lt(i, nsent, "message %d not sent (%d)", i, nsent);
	cr_assert_eq(sent[i].to, to, "message %d to %u", i, sent[i].to);
	cr_assert_eq(sent[i].m.type, type, "message %d: type %u", i, sent[i].m.type);
	cr_assert_eq(sent[i].m.flags, flags, "message %d: flags %#x", i, sent[i].m.flags);
	cr_assert_eq(sent[i].m.arg, arg, "message %d: arg %#llx", i,
		     (unsigned long long)sent[i].m.arg);
}

Test(lockserve, addresses_outside_the_region_or_misaligned_are_refused)
{
	uint64_t end = BASE + 4 * DSM_PAGE_SIZE;

	serve(2, MSG_LOCK, 0, BASE - 8, 0);
	serve(2, MSG_LOCK, 0, end, 0);
	serve(2, MSG_UNLOCK, 0, BASE + 4, 0);
	serve(2, MSG_COND_SIGNAL, 0, 8, 0);
	serve(2, MSG_COND_WAIT, 0, BASE, end); /* the lock in the payload */
	cr_assert_eq(nsent, 5);
	for (int i = 0; i < 5; i++) {
		expect_sent(i, 2, MSG_ERROR, 0, DSM_ERR_SYNC_ADDRESS);
		cr_assert_eq(sent[i].m.node, 2);
	}
	cr_assert_eq(nlogged, 0);
	/* the last word of the region is a valid lock */
	serve(2, MSG_LOCK, 0, end - 8, 0);
	expect_sent(5, 2, MSG_LOCK_GRANT, 0, end - 8);
}

Test(lockserve, handoff_and_cond_are_sent_logged_and_counted)
{
	serve(1, MSG_LOCK, 0, BASE + 16, 0);
	serve(2, MSG_LOCK, 0, BASE + 16, 0);
	serve(3, MSG_LOCK, MSGF_TRY, BASE + 16, 0);
	serve(1, MSG_UNLOCK, 0, BASE + 16, 0);
	cr_assert_eq(nsent, 3);
	expect_sent(0, 1, MSG_LOCK_GRANT, 0, BASE + 16);
	expect_sent(1, 3, MSG_LOCK_GRANT, MSGF_BUSY, BASE + 16);
	expect_sent(2, 2, MSG_LOCK_GRANT, 0, BASE + 16);
	cr_assert_eq(nlogged, 3);
	cr_assert_eq(logged[0], LOG_LOCK);
	cr_assert_eq(logged[1], LOG_UNLOCK);
	cr_assert_eq(logged_peer[1], 2, "the unlock names whom it went to");
	cr_assert_eq(logged[2], LOG_LOCK_WAIT);
	cr_assert_eq(logged_peer[2], 1);
	cr_assert_eq(atomic_load(&pt->nodes[1].stats.locks_taken), 1);
	cr_assert_eq(atomic_load(&pt->nodes[2].stats.locks_taken), 1);
	cr_assert_eq(atomic_load(&pt->nodes[3].stats.locks_taken), 0, "a busy try takes none");

	/* node 2 waits on a condition (lock in the payload), node 4 signals */
	serve(2, MSG_COND_WAIT, 0, BASE + 64, BASE + 16);
	serve(4, MSG_COND_SIGNAL, MSGF_ALL, BASE + 64, 0);
	expect_sent(3, 2, MSG_LOCK_GRANT, 0, BASE + 16);
	cr_assert_eq(logged[3], LOG_COND_SIGNAL);
	cr_assert_eq(logged_peer[3], 2);
	cr_assert_eq(logged[4], LOG_COND_WAIT);
	cr_assert_eq(logged[5], LOG_LOCK);
	cr_assert_eq(atomic_load(&pt->nodes[2].stats.locks_taken), 2);

	/* node 2 leaves holding it: a later locker is told */
	lock_node_gone(pt, &io, 2);
	serve(5, MSG_LOCK, 0, BASE + 16, 0);
	expect_sent(4, 5, MSG_ERROR, 0, DSM_ERR_LOCK_OWNER_GONE);
	cr_assert_eq(sent[4].m.node, 2, "naming node 2");
}
