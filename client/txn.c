/*
 * txn.c - transactions on the shared region: their life (begin, commit,
 * cancel, retry, rollback, back-off) and the hooks through which the region
 * and the fault handler keep their marks (docs/design.md, "Transactions").
 *
 * While a transaction runs, the program's view of every page is its access
 * capped by the transaction's mark (sm__txn_cap), so the first access to each
 * page in the transaction faults and is recorded (sm__txn_fault_local,
 * sm__txn_faulted). A revoke or invalidation that conflicts dooms it
 * (sm__txn_taking): its pre-images go back before the answer, and every page
 * closes, so its next shared access faults and rolls it back.
 *
 * Threads: a node runs one transaction at a time, in the thread that began
 * it (the owner). Page protections belong to the whole process, so its cap
 * applies to every thread: another thread's access to shared memory while
 * it runs faults, and waits for it to end (sm__txn_wait_turn), as do
 * another thread's SM_TXN_BEGIN and sm_malloc (which a rollback rewinds).
 * Locks, conditions and collectives from other threads go on meanwhile.
 *
 * All the state below is read and written under the state lock
 * (statelock.c), with libsm's signals blocked; `owner` is also read
 * without it, by sm_malloc.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "libsm.h"
#include "sm.h"
#include "txnlog.h"

#define BACKOFF_BASE_NS 10000ull    /* 10 us, doubled per abort in a row ... */
#define BACKOFF_CAP_NS 2000000ull   /* ... up to 2 ms */

static struct txn_log txlog;
static int have_log;
static struct sm_thread *_Atomic owner; /* the thread whose transaction runs */
/* nesting: 0 when none runs; read without the lock too (sm__txn_running,
 * sm__txn_forbid), hence the atomic accesses */
static int depth;
static volatile sig_atomic_t doomed;
static int restored;                /* the pre-images are back (at the doom) */
static sm_txn_t *outermost;
static struct sm_alloc_mark alloc_at_begin;
/* each thread's own: */
static __thread unsigned cancelled_levels; /* enclosing commits still to answer CANCELLED */
static __thread uint32_t aborts_in_row;
static __thread uint64_t rng;

int sm__txn_running(void)
{
	return __atomic_load_n(&depth, __ATOMIC_RELAXED) > 0;
}

int sm__txn_mine(const struct sm_thread *me)
{
	return sm__txn_running() && me && atomic_load(&owner) == me;
}

int sm__txn_other(const struct sm_thread *me)
{
	struct sm_thread *o = atomic_load(&owner);

	return o && o != me;
}

/* Under the state lock: while another thread's transaction runs, sleep
 * (holding nothing) until it ends. */
void sm__txn_wait_turn(struct sm_thread *me)
{
	/* its last instruction has run: a revoke of the page it held must not
	 * wait for the end of someone else's transaction */
	if (sm__txn_other(me))
		sm__hold_end(me);
	while (sm__txn_other(me)) {
		uint32_t seen = atomic_load(&me->wake);

		me->waiting = SM_WAIT_TXN;
		sm__unlock();
		sm__futex_wait(&me->wake, seen);
		sm__lock();
	}
	me->waiting = SM_WAIT_NONE;
}

/* The same from an API call (no lock taken). */
/* This thread's slot, with libsm's signals blocked and the state lock taken. */
static struct sm_thread *lock_self(const char *call, sigset_t *old)
{
	struct sm_thread *me;

	sm__block_sigio(old);
	me = sm__self();
	if (!me)
		sm__die(call, ": no slot for this thread", NULL);
	sm__lock();
	return me;
}

static void unlock_self(const sigset_t *old)
{
	sm__release();
	sm__restore_sigmask(old);
}

void sm__txn_wait_outside(const char *call)
{
	sigset_t old;

	sm__txn_wait_turn(lock_self(call, &old));
	unlock_self(&old);
}

/* Under the state lock: the transaction is over; the threads waiting for
 * its end go on. */
static void end_turn(void)
{
	uint32_t n = atomic_load(&sm__st.nthreads);

	__atomic_store_n(&depth, 0, __ATOMIC_RELAXED);
	atomic_store(&owner, NULL);
	for (uint32_t k = 0; k < n; k++)
		if (sm__st.threads[k].waiting == SM_WAIT_TXN)
			sm__wake(&sm__st.threads[k]);
}

uint8_t sm__txn_cap(uint32_t page)
{
	static const uint8_t cap[] = {[TM_NONE] = PA_NONE, [TM_READ] = PA_READ,
				      [TM_WRITE] = PA_WRITE};

	if (!sm__txn_running())
		return PA_WRITE;
	if (doomed)
		return PA_NONE;
	return cap[txn_log_mark(&txlog, page)];
}

static void not_in_transaction(const char *call) __attribute__((noreturn));
static void not_in_transaction(const char *call)
{
	sm__die(call, " called outside a transaction", NULL);
}

/* A call that talks to other nodes: a restart would repeat it. */
void sm__txn_forbid(const char *call)
{
	if (sm__txn_mine(sm__self_known()))
		sm__die(call, " called inside a transaction (a restart would repeat it; "
			"see sm_txn(3))", NULL);
}

/* ---- doom and rollback ---------------------------------------------- */

/* Every page closed: what the cap says of each at a begin (all untouched)
 * and after a doom (all none), in one mprotect. */
static void close_view(void)
{
	sm__region_close();
}

static void doom(void)
{
	doomed = 1;
	/* every page closes (the cap of a doomed transaction is none) before
	 * the pre-images go back: the thread that reads the link may not be
	 * the owner, which may be writing on another CPU meanwhile; once
	 * mprotect returns, each of its writes either landed or faults */
	close_view();
	txn_log_restore(&txlog, sm__st.alias);
	restored = 1;
}

/*
 * A revoke (someone reads) or an invalidation (someone writes) of pages
 * [first, first+count), before it is answered from the alias: one that
 * takes a page the transaction wrote, or invalidates one it read, dooms it.
 */
void sm__txn_taking(uint32_t first, uint32_t count, int invalidate)
{
	if (!sm__txn_running() || doomed)
		return;
	for (uint32_t p = first; p < first + count; p++) {
		uint8_t m = txn_log_mark(&txlog, p);

		if (m == TM_WRITE || (m == TM_READ && invalidate)) {
			doom();
			return;
		}
	}
}

/*
 * End the transaction, its writes discarded (under the state lock); with
 * rewind, what it allocated is free again. sm_malloc's chunk mutex is
 * taken with the state lock let go (a thread that holds the mutex for a
 * look at `owner` may be in a handler that waits for the state lock), but
 * before the transaction's end lets other threads allocate. The owner
 * does not hold the mutex where it rolls back.
 */
static void roll_back(int rewind)
{
	struct sm_thread *o = atomic_load(&owner);

	if (o) {
		sm__hold_end(o); /* its instruction will not run again */
		o->trap_armed = 0; /* a trap flag set for it is gone with it */
	}
	if (!restored)
		txn_log_restore(&txlog, sm__st.alias);
	txn_log_clear(&txlog);
	if (rewind) {
		sm__release();
		sm__alloc_rewind(&alloc_at_begin);
		sm__lock();
	}
	doomed = 0;
	restored = 0;
	sm__txn_signals_off();
	end_turn();
}

/* Roll back and run the transaction again from its outermost begin, from
 * under the state lock, which is let go. The mask that sigsetjmp saved
 * comes back: SIGIO is unblocked there. */
static void restart(struct sm_thread *me) __attribute__((noreturn));
static void restart(struct sm_thread *me)
{
	sm_txn_t *t = outermost;

	roll_back(1);
	aborts_in_row++;
	me->looks_at_hold = 0;
	sm__release();
	siglongjmp(t->sm_env, 1);
}

void sm__txn_restart(struct sm_thread *me)
{
	restart(me);
}

/* Leaving, or the owner's thread exits: no rewind (the owner may be
 * another thread, inside sm_malloc; and nothing allocates any more). */
void sm__txn_abandon(void)
{
	if (sm__txn_running()) {
		close_view(); /* the owner may be another thread, still running */
		roll_back(0);
	}
}

/* ---- the fault handler's hooks ---------------------------------------- */

static void record(uint32_t page, int write)
{
	if (write)
		txn_log_write(&txlog, page, sm__st.alias + (size_t)page * DSM_PAGE_SIZE);
	else
		txn_log_read(&txlog, page);
}

/*
 * A fault on page `page` inside a transaction, before any message: a doomed
 * transaction rolls back here; a page the node holds well enough is marked
 * and opened to its cap (1: done). 0: it must be fetched first.
 */
int sm__txn_fault_local(struct sm_thread *me, uint32_t page, int write)
{
	if (doomed)
		restart(me);
	if (sm__st.access[page] < (write ? PA_WRITE : PA_READ))
		return 0;
	record(page, write);
	sm__region_view(page, 1);
	return 1;
}

/* Pages [first, first+count) were fetched for the transaction: mark them. */
void sm__txn_faulted(struct sm_thread *me, uint32_t first, uint32_t count, int write)
{
	if (doomed)
		restart(me);
	for (uint32_t p = first; p < first + count; p++)
		if (sm__st.access[p] >= (write ? PA_WRITE : PA_READ))
			record(p, write);
		else if (sm__st.access[p] == PA_READ)
			record(p, 0);
	sm__region_view(first, count);
}

/* ---- back-off ---------------------------------------------------------- */

static uint64_t next_random(void)
{
	/* xorshift64*: enough to break two nodes' symmetry */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dull;
}

/* A random delay that doubles its range with each abort in a row, slept to
 * a deadline: SIGIO interrupts the sleep, the node serves, and sleeps on. */
static void back_off(void)
{
	struct timespec until;
	uint32_t k = aborts_in_row < 16 ? aborts_in_row : 16;
	uint64_t span = BACKOFF_BASE_NS << k, ns;
	int rc;

	if (span > BACKOFF_CAP_NS)
		span = BACKOFF_CAP_NS;
	ns = next_random() % span;
	if (clock_gettime(CLOCK_MONOTONIC, &until) < 0)
		sm__die("clock_gettime: ", strerror(errno), NULL);
	until.tv_sec += (time_t)((uint64_t)until.tv_nsec + ns) / 1000000000;
	until.tv_nsec = (long)(((uint64_t)until.tv_nsec + ns) % 1000000000);
	while ((rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL)) == EINTR)
		;
	if (rc != 0)
		sm__die("clock_nanosleep: ", strerror(rc), NULL);
}

/* ---- the API ------------------------------------------------------------ */

static void enter(const char *call)
{
	if (!sm__st.joined) {
		fprintf(stderr, "dsm: %s called before sm_node_init\n", call);
		exit(1);
	}
	sm__caller_check(call, 1);
	if (sm__st.exited) {
		sm__say(call, " called after sm_node_exit: this node has left the job", NULL);
		exit(1);
	}
}

static void first_use(void)
{
	if (txn_log_init(&txlog, sm__st.npages, DSM_PAGE_SIZE) < 0)
		sm__die("cannot reserve a transaction's undo store: ", strerror(errno), NULL);
	have_log = 1;
}

/* This thread's generator: nodes and threads start apart. */
static void seed(const struct sm_thread *me)
{
	struct timespec now;

	if (clock_gettime(CLOCK_MONOTONIC, &now) < 0)
		sm__die("clock_gettime: ", strerror(errno), NULL);
	rng = (((uint64_t)sm__st.nid + 1) * 0x9e3779b97f4a7c15ull ^ (uint64_t)now.tv_nsec) +
	      (uint64_t)atomic_load(&me->tid) * 0xbf58476d1ce4e5b9ull;
	if (rng == 0)
		rng = 1;
}

SM_API void sm_txn_begin_(sm_txn_t *t, int restarted)
{
	struct sm_thread *me;
	sigset_t old;

	enter("SM_TXN_BEGIN");
	me = lock_self("SM_TXN_BEGIN", &old);
	sm__hold_end(me); /* the instruction that last faulted has run */
	if (sm__txn_mine(me)) {
		__atomic_store_n(&depth, depth + 1, __ATOMIC_RELAXED); /* flattened */
		unlock_self(&old);
		return;
	}
	if (rng == 0)
		seed(me);
	if (restarted) {
		unlock_self(&old);
		back_off();
		me = lock_self("SM_TXN_BEGIN", &old);
	}
	/* one transaction at a time in a node */
	sm__txn_wait_turn(me);
	if (!have_log)
		first_use();
	atomic_store(&owner, me);
	__atomic_store_n(&depth, 1, __ATOMIC_RELAXED);
	doomed = 0;
	restored = 0;
	outermost = t;
	/* where sm_malloc stands (another thread's sm_malloc in progress ends
	 * first; from now on they wait for the end of this one) */
	sm__release();
	sm__alloc_mark(&alloc_at_begin);
	sm__lock();
	sm__txn_signals_on();
	/* every page closes: its first access in the transaction faults */
	close_view();
	unlock_self(&old);
}

SM_API int sm_txn_commit(sm_txn_t *t)
{
	struct sm_thread *me;
	sigset_t old;

	enter("sm_txn_commit");
	me = lock_self("sm_txn_commit", &old);
	if (!sm__txn_mine(me)) {
		unlock_self(&old);
		if (cancelled_levels == 0)
			not_in_transaction("sm_txn_commit");
		cancelled_levels--;
		return SM_TXN_CANCELLED;
	}
	if (depth > 1) {
		__atomic_store_n(&depth, depth - 1, __ATOMIC_RELAXED);
		unlock_self(&old);
		return 0;
	}
	if (t != outermost) {
		unlock_self(&old);
		sm__die("sm_txn_commit: not the transaction that SM_TXN_BEGIN began", NULL);
	}
	if (doomed)
		restart(me);
	/* nobody took a page from it: its writes become everyone's now */
	txn_log_clear(&txlog);
	sm__txn_signals_off();
	sm__txn_signals_reset();
	end_turn();
	aborts_in_row = 0;
	unlock_self(&old);
	return 0;
}

SM_API void sm_txn_cancel(sm_txn_t *t)
{
	struct sm_thread *me;
	sigset_t old;

	(void)t;
	enter("sm_txn_cancel");
	me = lock_self("sm_txn_cancel", &old);
	if (!sm__txn_mine(me)) {
		unlock_self(&old);
		not_in_transaction("sm_txn_cancel");
	}
	cancelled_levels += (unsigned)depth - 1;
	roll_back(1);
	aborts_in_row = 0;
	sm__txn_signals_reset();
	unlock_self(&old);
}

SM_API void sm_txn_retry(sm_txn_t *t)
{
	struct sm_thread *me;
	sigset_t old;

	(void)t;
	enter("sm_txn_retry");
	me = lock_self("sm_txn_retry", &old);
	if (!sm__txn_mine(me)) {
		unlock_self(&old);
		not_in_transaction("sm_txn_retry");
	}
	restart(me);
}
