/*
 * fault.c - the SIGSEGV handler that faults shared pages in, in whichever
 * thread of the node takes the fault.
 *
 * A fault on a shared page sends one FAULT (a write fault straight away when
 * the CPU says the access was a write, so a write to an invalid page costs
 * one round trip, not two) and waits for the grant while answering everyone
 * else (wait.c). Threads fault in parallel, each FAULT with its own number;
 * a thread that faults on a page another thread of the node is already
 * fetching, with enough access, waits for that fetch instead of asking
 * again. A fault outside the region is not ours: it goes to the program's
 * own SIGSEGV handler (sigchain.c), or, without one, the default action is
 * restored and the access faults again, so the node dies of a genuine
 * SIGSEGV.
 *
 * The pages just granted are held until the faulting instruction has run
 * (hold.c). An instruction whose access spans two pages faults on the
 * second while it holds the first. Then the thread lets the first go and
 * asks for both in one FAULT (a pair), and holds each from its grant on
 * until the instruction has run; see docs/design.md, "Instructions that
 * need two pages".
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "libsm.h"

#define PF_WRITE 0x2

/* The address to name in a fault error: where the access faulted, or the
 * start of the pair's other page when the error is about that one. */
static uint8_t *error_addr(const struct msg *e, uint8_t *addr)
{
	if ((size_t)(addr - sm__st.base) / DSM_PAGE_SIZE != e->page)
		return sm__st.base + (size_t)e->page * DSM_PAGE_SIZE;
	return addr;
}

static void report_fault_error(const struct msg *e, uint8_t *addr)
{
	char a[24], b[24], c[24];

	addr = error_addr(e, addr);
	if (e->arg == DSM_ERR_PAGE_LOST)
		sm__say("shared page ", sm__fmt_u64(a, e->page), " (", sm__fmt_hex(b, (uintptr_t)addr),
			") was lost: node ", sm__fmt_u64(c, e->node),
			" held the only up-to-date copy and died", NULL);
	else
		sm__say("access to ", sm__fmt_hex(a, (uintptr_t)addr),
			", which is in the shared region but was never returned by sm_malloc", NULL);
}

/*
 * The faulting instruction (still at held_ip) holds the page next to this
 * one: its access spans both, and asking for them one at a time could let
 * two nodes take them from each other forever. Or it holds such a pair
 * and faults on one of its pages again (a locked add reads both pages
 * before it writes them): ask for the pair again, for writing. Sets *first
 * to the pair's lower page.
 */
static int wants_pair(const struct sm_thread *me, uint32_t page, uint64_t ip, uintptr_t addr,
		      uint32_t *first)
{
	int64_t h = me->held[0], h1 = me->held[1], p = page;

	if (ip != me->held_ip)
		return 0;
	/* one access reaches at most 64 bytes: a loop's next iteration at the
	 * same instruction, a page further on, is not a spanning access */
	if (h >= 0 && h1 < 0 && (p == h + 1 || p + 1 == h) &&
	    addr - me->held_addr + 64 < 128) {
		*first = (uint32_t)(p < h ? p : h);
		return 1;
	}
	if (h >= 0 && h1 == h + 1 && (p == h || p == h1)) {
		*first = (uint32_t)h;
		return 1;
	}
	return 0;
}

/* Does this node hold page with at least the access the fault needs? */
static int sufficient(uint32_t page, int write)
{
	return sm__st.access[page] == PA_WRITE || (sm__st.access[page] == PA_READ && !write);
}

/*
 * Get pages [first, first+count) for the faulting page, under the state
 * lock: wait for another thread's fetch of the page, or for a free fault
 * slot, or send a FAULT and wait for its grants. 0, or -1 with the fault's
 * error in *error.
 */
static int fetch(struct sm_thread *me, uint32_t page, uint32_t first, uint32_t count, int write,
		 struct msg *error)
{
	for (;;) {
		struct msg m = {.type = MSG_FAULT, .page = first, .node = count};

		if (sufficient(page, write)) {
			/* granted meanwhile (to another thread), or left closed
			 * by a transaction that has ended */
			sm__region_view(page, 1);
			return 0;
		}
		/* a pair never asks to read a page this node holds writable */
		for (uint32_t p = first; p < first + count; p++)
			if (sm__st.access[p] == PA_WRITE)
				write = 1;
		me->done = 0;
		me->fault_write = write;
		if (count == 1 && sm__fetching(page, write)) {
			me->waiting = SM_WAIT_FOLLOW;
			me->fault_page = (int32_t)page;
			me->fault_count = 1;
			sm__wait(me);
			continue;
		}
		if (sm__st.faults_out >= DSM_MAX_NODE_FAULTS) {
			me->waiting = SM_WAIT_SLOT;
			sm__wait(me);
			continue;
		}
		me->waiting = SM_WAIT_FAULT;
		me->fault_page = (int32_t)first;
		me->fault_count = count;
		me->fault_granted = 0;
		me->fault_error.type = MSG_NONE;
		me->fault_seq = ++sm__st.next_seq;
		sm__st.faults_out++;
		m.flags = write ? MSGF_WRITE : 0;
		m.arg = me->fault_seq;
		sm__send_held(&m, NULL);
		sm__wait(me);
		me->fault_page = -1;
		if (me->fault_error.type == MSG_ERROR) {
			*error = me->fault_error;
			return -1;
		}
		return 0;
	}
}

/* Under the state lock: the node has left (sm_node_exit), so the fault
 * cannot be served: say so and die of it (1), or 0. */
static int used_after_exit(struct sm_thread *me)
{
	if (!sm__st.closing && !sm__st.exited && sm__st.fd >= 0)
		return 0;
	me->looks_at_hold = 0;
	sm__release();
	sm__say("shared memory used after sm_node_exit", NULL);
	sm__segv_default();
	return 1;
}

static void on_segv(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;
	uint8_t *addr = si->si_addr;
	int saved = errno;
	uint64_t ip = (uint64_t)uc->uc_mcontext.gregs[REG_RIP];
	uint32_t page, first, count = 1;
	int write;
	struct sm_thread *me;
	struct msg error;

	/* not ours (sent by kill(), or outside the region): the program's,
	 * unless this thread runs a transaction, which restarts (txnsig.c) */
	if (si->si_code <= 0 || !sm__st.base || addr < sm__st.base ||
	    addr >= sm__st.base + sm__st.size) {
		if (!sm__txn_signal(sig, si))
			sm__segv_chain(sig, si, ctx);
		errno = saved;
		return;
	}
	/* a forked child: say so and die of it (caller.c) */
	if (sm__caller_fault(addr) || !(me = sm__self())) {
		sm__segv_default();
		errno = saved;
		return;
	}
	sm__lock();
	me->looks_at_hold = 1; /* at the end, below: nobody need poke it */
	if (used_after_exit(me)) {
		errno = saved;
		return;
	}
	page = (uint32_t)((size_t)(addr - sm__st.base) / DSM_PAGE_SIZE);
	write = (uc->uc_mcontext.gregs[REG_ERR] & PF_WRITE) != 0;
	first = page;
	if (wants_pair(me, page, ip, (uintptr_t)addr, &first)) {
		count = 2;
		write |= me->held_write;
	}
	/* the hold ends (a nested fault of one instruction: a pair asks for
	 * both pages again below, holding nothing while it waits) */
	sm__hold_end(me);
	/* another thread's transaction caps the view: wait for its end (the
	 * node may have left meanwhile: sm_node_exit ends it) */
	if (sm__txn_other(me)) {
		sm__txn_wait_turn(me);
		if (used_after_exit(me)) {
			errno = saved;
			return;
		}
	}
	/* this thread's transaction: its first access to a page the node
	 * holds is marked, with no message; a doomed one restarts here */
	if (sm__txn_mine(me) && sm__txn_fault_local(me, page, write)) {
		me->looks_at_hold = 0;
		sm__release();
		errno = saved;
		return;
	}
	if (fetch(me, page, first, count, write, &error) < 0) {
		/* the hold of a pair's other page ends with the node */
		me->looks_at_hold = 0;
		sm__release();
		report_fault_error(&error, addr);
		sm__segv_default();
	} else {
		if (sm__txn_mine(me)) /* marked, or rolled back */
			sm__txn_faulted(me, first, count, write);
		if (sm__holding(me))
			sm__hold_start(me, ip, (uintptr_t)addr, write);
		/* a revoke may have come right behind the grant */
		sm__hold_look(me, uc, 0);
		me->looks_at_hold = 0;
		sm__release();
	}
	errno = saved;
}

int sm__fault_install(void)
{
	sigset_t mask;

	if (sm__hold_install() < 0)
		return -1;
	sigemptyset(&mask);
	sm__link_signals(&mask);
	if (sm__segv_install(on_segv, &mask) < 0) {
		sm__say("sigaction(SIGSEGV): ", strerror(errno), NULL);
		return -1;
	}
	return 0;
}
