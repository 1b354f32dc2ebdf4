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
 * closes, so its next shared access faults and rolls it back. A transaction
 * is the node's: one at a time, run by the thread that joined.
 *
 * All the state below changes with SIGIO blocked: in the API calls by
 * sigprocmask, in the handlers by their sa_mask.
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
static int depth;                   /* nesting: 0 when none runs */
static unsigned cancelled_levels;   /* enclosing commits still to answer CANCELLED */
static volatile sig_atomic_t doomed;
static int restored;                /* the pre-images are back (at the doom) */
static sm_txn_t *outermost;
static struct sm_alloc_mark alloc_at_begin;
static uint32_t aborts_in_row;
static uint64_t rng;

int sm__txn_running(void)
{
	return depth > 0;
}

uint8_t sm__txn_cap(uint32_t page)
{
	static const uint8_t cap[] = {[TM_NONE] = PA_NONE, [TM_READ] = PA_READ,
				      [TM_WRITE] = PA_WRITE};

	if (depth == 0)
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
	if (depth > 0)
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
	txn_log_restore(&txlog, sm__st.alias);
	restored = 1;
	/* every page closes (the cap of a doomed transaction is none) */
	close_view();
}

/*
 * A revoke (someone reads) or an invalidation (someone writes) of pages
 * [first, first+count), before it is answered from the alias: one that
 * takes a page the transaction wrote, or invalidates one it read, dooms it.
 */
void sm__txn_taking(uint32_t first, uint32_t count, int invalidate)
{
	if (depth == 0 || doomed)
		return;
	for (uint32_t p = first; p < first + count; p++) {
		uint8_t m = txn_log_mark(&txlog, p);

		if (m == TM_WRITE || (m == TM_READ && invalidate)) {
			doom();
			return;
		}
	}
}

/* End the transaction, its writes discarded (SIGIO blocked). */
static void roll_back(void)
{
	sm__serve_deferred();
	if (!restored)
		txn_log_restore(&txlog, sm__st.alias);
	txn_log_clear(&txlog);
	sm__alloc_rewind(&alloc_at_begin);
	depth = 0;
	doomed = 0;
	restored = 0;
	sm__txn_signals_off();
}

/* Roll back and run the transaction again from its outermost begin. The
 * mask that sigsetjmp saved comes back: SIGIO is unblocked there. */
static void restart(void) __attribute__((noreturn));
static void restart(void)
{
	sm_txn_t *t = outermost;

	roll_back();
	aborts_in_row++;
	siglongjmp(t->sm_env, 1);
}

void sm__txn_restart(void)
{
	restart();
}

void sm__txn_abandon(void)
{
	if (depth > 0)
		roll_back();
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
int sm__txn_fault_local(uint32_t page, int write)
{
	if (doomed)
		restart();
	if (sm__st.access[page] < (write ? PA_WRITE : PA_READ))
		return 0;
	record(page, write);
	sm__region_view(page, 1);
	return 1;
}

/* Pages [first, first+count) were fetched for the transaction: mark them. */
void sm__txn_faulted(uint32_t first, uint32_t count, int write)
{
	if (doomed)
		restart();
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
	struct timespec now;

	if (txn_log_init(&txlog, sm__st.npages, DSM_PAGE_SIZE) < 0)
		sm__die("cannot reserve a transaction's undo store: ", strerror(errno), NULL);
	if (clock_gettime(CLOCK_MONOTONIC, &now) < 0)
		sm__die("clock_gettime: ", strerror(errno), NULL);
	rng = ((uint64_t)sm__st.nid + 1) * 0x9e3779b97f4a7c15ull ^ (uint64_t)now.tv_nsec;
	if (rng == 0)
		rng = 1;
	have_log = 1;
}

SM_API void sm_txn_begin_(sm_txn_t *t, int restarted)
{
	sigset_t old;

	enter("SM_TXN_BEGIN");
	if (depth > 0) {
		depth++; /* flattened into the outermost */
		return;
	}
	if (restarted)
		back_off();
	sm__block_sigio(&old);
	if (!have_log)
		first_use();
	outermost = t;
	depth = 1;
	doomed = 0;
	restored = 0;
	sm__alloc_mark(&alloc_at_begin);
	sm__txn_signals_on();
	/* every page closes: its first access in the transaction faults */
	close_view();
	sm__restore_sigmask(&old);
}

SM_API int sm_txn_commit(sm_txn_t *t)
{
	sigset_t old;

	enter("sm_txn_commit");
	if (depth == 0) {
		if (cancelled_levels == 0)
			not_in_transaction("sm_txn_commit");
		cancelled_levels--;
		return SM_TXN_CANCELLED;
	}
	if (depth > 1) {
		depth--;
		return 0;
	}
	if (t != outermost)
		sm__die("sm_txn_commit: not the transaction that SM_TXN_BEGIN began", NULL);
	sm__block_sigio(&old);
	if (doomed)
		restart();
	/* nobody took a page from it: its writes become everyone's now */
	txn_log_clear(&txlog);
	depth = 0;
	aborts_in_row = 0;
	sm__txn_signals_off();
	sm__txn_signals_reset();
	sm__restore_sigmask(&old);
	return 0;
}

SM_API void sm_txn_cancel(sm_txn_t *t)
{
	sigset_t old;

	(void)t;
	enter("sm_txn_cancel");
	if (depth == 0)
		not_in_transaction("sm_txn_cancel");
	sm__block_sigio(&old);
	cancelled_levels += (unsigned)depth - 1;
	roll_back();
	aborts_in_row = 0;
	sm__txn_signals_reset();
	sm__restore_sigmask(&old);
}

SM_API void sm_txn_retry(sm_txn_t *t)
{
	sigset_t old;

	(void)t;
	enter("sm_txn_retry");
	if (depth == 0)
		not_in_transaction("sm_txn_retry");
	sm__block_sigio(&old);
	restart();
}
