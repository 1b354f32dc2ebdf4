/*
 * fault.c - the SIGSEGV handler that faults shared pages in, and the SIGTRAP
 * handler that guarantees forward progress.
 *
 * A fault on a shared page sends one FAULT (a write fault straight away when
 * the CPU says the access was a write, so a write to an invalid page costs
 * one round trip, not two) and waits for the grant while answering everyone
 * else. A fault outside the region is not ours: it goes to the program's own
 * SIGSEGV handler (sigchain.c), or, without one, the default action is
 * restored and the access faults again, so the node dies of a genuine SIGSEGV.
 *
 * Forward progress: if a revoke of the page just granted were served before
 * the faulting instruction re-ran, two writers could steal the page from each
 * other forever. So after a grant the handler sets the trap flag (x86-64
 * EFLAGS.TF) in the interrupted context: the instruction runs once, SIGTRAP
 * follows, and only then is a revoke of that page that arrived meanwhile
 * served. sm_node_init checks that single-stepping works here. Where it does
 * not (valgrind cannot single-step), the page is instead held for a short
 * window that a one-shot POSIX timer ends: the other classic cure, used only
 * as the fallback. The window is HOLD_NS of this thread's own CPU time, so it
 * cannot run out while the node is descheduled before its instruction ran;
 * every blocking libsm call serves a deferred revoke before it waits.
 *
 * An instruction whose access spans two pages faults on the second while it
 * holds the first. Then the node lets the first go and asks for both in one
 * FAULT (a pair), and holds each from its grant on until the instruction has
 * run; see docs/design.md, "Instructions that need two pages".
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

#define EFLAGS_TF 0x100
#define PF_WRITE 0x2
#define HOLD_NS 2000000 /* 2 ms of CPU time: the fallback hold window */

#ifndef sigev_notify_thread_id /* glibc < 2.35 names it only this way */
#define sigev_notify_thread_id _sigev_un._tid
#endif

static timer_t hold_timer;
static int have_hold_timer;

static struct sigaction previous_trap;
static volatile sig_atomic_t trap_armed;
static volatile sig_atomic_t selftest_phase;

void sm__serve_deferred(void)
{
	int served = 0;

	sm__st.held[0] = sm__st.held[1] = -1;
	for (int i = 0; i < 2; i++)
		if (sm__st.have_deferred[i]) {
			sm__st.have_deferred[i] = 0;
			sm__dispatch(&sm__st.deferred[i]);
			served = 1;
		}
	if (served)
		sm__flush();
}

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
static int wants_pair(uint32_t page, uint64_t ip, uintptr_t addr, uint32_t *first)
{
	int64_t h = sm__st.held[0], h1 = sm__st.held[1], p = page;

	if (ip != sm__st.held_ip)
		return 0;
	/* one access reaches at most 64 bytes: a loop's next iteration at the
	 * same instruction, a page further on, is not a spanning access */
	if (h >= 0 && h1 < 0 && (p == h + 1 || p + 1 == h) &&
	    addr - sm__st.held_addr + 64 < 128) {
		*first = (uint32_t)(p < h ? p : h);
		return 1;
	}
	if (h >= 0 && h1 == h + 1 && (p == h || p == h1)) {
		*first = (uint32_t)h;
		return 1;
	}
	return 0;
}

static void on_segv(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;
	uint8_t *addr = si->si_addr;
	int saved = errno;
	uint64_t ip = (uint64_t)uc->uc_mcontext.gregs[REG_RIP];
	uint32_t page, first, count = 1;
	int write;

	/* not ours (sent by kill(), or outside the region): the program's,
	 * unless a transaction runs, which restarts (txnsig.c) */
	if (si->si_code <= 0 || !sm__st.base || addr < sm__st.base ||
	    addr >= sm__st.base + sm__st.size) {
		if (!sm__txn_signal(sig, si))
			sm__segv_chain(sig, si, ctx);
		errno = saved;
		return;
	}
	/* a forked child or another thread: say so and die of it (caller.c) */
	if (sm__caller_fault(addr)) {
		sm__segv_default();
		errno = saved;
		return;
	}
	if (sm__st.exited || sm__st.fd < 0) {
		sm__say("shared memory used after sm_node_exit", NULL);
		sm__segv_default();
		errno = saved;
		return;
	}
	page = (uint32_t)((size_t)(addr - sm__st.base) / DSM_PAGE_SIZE);
	write = (uc->uc_mcontext.gregs[REG_ERR] & PF_WRITE) != 0;
	first = page;
	if (wants_pair(page, ip, (uintptr_t)addr, &first)) {
		count = 2;
		write |= sm__st.held_write;
	}
	/* the hold ends (a nested fault of one instruction: a pair asks for
	 * both pages again below, holding nothing while it waits) */
	sm__serve_deferred();
	/* a transaction's first access to a page it holds: marked, no message */
	if (sm__txn_running() && sm__txn_fault_local(page, write)) {
		errno = saved;
		return;
	}
	if (sm__st.access[page] == PA_WRITE || (sm__st.access[page] == PA_READ && !write)) {
		/* already granted meanwhile, or left closed by a transaction */
		sm__region_view(page, 1);
		errno = saved;
		return;
	}
	/* a pair never asks to read a page this node holds writable */
	for (uint32_t p = first; p < first + count; p++)
		if (sm__st.access[p] == PA_WRITE)
			write = 1;
	sm__st.fault_page = (int32_t)first;
	sm__st.fault_count = count;
	sm__st.fault_granted = 0;
	sm__st.fault_done = 0;
	sm__st.fault_error.type = MSG_NONE;
	{
		struct msg m = {.type = MSG_FAULT, .flags = write ? MSGF_WRITE : 0, .page = first,
				.node = count, .arg = ++sm__st.fault_seq};

		sm__send(&m, NULL);
	}
	sm__wait_fault();
	sm__st.fault_page = -1;
	if (sm__st.fault_error.type == MSG_ERROR) {
		report_fault_error(&sm__st.fault_error, addr);
		sm__segv_default();
		errno = saved;
		return;
	}
	if (sm__txn_running())
		sm__txn_faulted(first, count, write); /* marked, or rolled back */
	if (sm__holding()) {
		sm__st.held_ip = ip;
		sm__st.held_addr = (uintptr_t)addr;
		sm__st.held_write = write;
		if (have_hold_timer) {
			struct itimerspec once = {.it_value = {.tv_nsec = HOLD_NS}};

			timer_settime(hold_timer, 0, &once, NULL);
		} else {
			sm__hold_arm(uc); /* a revoke may have come right behind the grant */
		}
	}
	errno = saved;
}

void sm__hold_check(void *ctx)
{
	ucontext_t *uc = ctx;

	if (sm__holding() && sm__st.trap_works && !trap_armed &&
	    (uint64_t)uc->uc_mcontext.gregs[REG_RIP] != sm__st.held_ip)
		sm__st.held[0] = sm__st.held[1] = -1; /* the faulting instruction has run */
}

void sm__hold_arm(void *ctx)
{
	ucontext_t *uc = ctx;

	if (sm__holding() && (sm__st.have_deferred[0] || sm__st.have_deferred[1]) &&
	    sm__st.trap_works && !trap_armed) {
		trap_armed = 1;
		uc->uc_mcontext.gregs[REG_EFL] |= EFLAGS_TF;
	}
}

/*
 * The fallback hold window is over: serve what was deferred. An expiry of
 * an earlier window that was pending while a fault armed the timer again is
 * stale: the window it would end is still running.
 */
static void on_hold_timer(int sig)
{
	int saved = errno;
	struct itimerspec left;

	(void)sig;
	if (timer_gettime(hold_timer, &left) == 0 &&
	    (left.it_value.tv_sec != 0 || left.it_value.tv_nsec != 0)) {
		errno = saved;
		return;
	}
	sm__serve_deferred();
	errno = saved;
}

static int install_hold_timer(void)
{
	struct sigaction sa;
	struct sigevent ev;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_hold_timer;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sm__link_signals(&sa.sa_mask);
	if (sigaction(SM_HOLD_SIGNAL, &sa, NULL) < 0)
		return -1;
	/* to the thread that joined, or (valgrind refuses that) to the process */
	memset(&ev, 0, sizeof(ev));
	ev.sigev_notify = SIGEV_THREAD_ID;
	ev.sigev_signo = SM_HOLD_SIGNAL;
	ev.sigev_notify_thread_id = (pid_t)syscall(SYS_gettid);
	if (timer_create(CLOCK_THREAD_CPUTIME_ID, &ev, &hold_timer) < 0) {
		ev.sigev_notify = SIGEV_SIGNAL;
		if (timer_create(CLOCK_THREAD_CPUTIME_ID, &ev, &hold_timer) < 0)
			return -1;
	}
	have_hold_timer = 1;
	return 0;
}

static void on_trap(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;
	int saved = errno;

	if (selftest_phase == 1) {
		/* self-test: single-step the instruction after raise() */
		selftest_phase = 2;
		uc->uc_mcontext.gregs[REG_EFL] |= EFLAGS_TF;
		return;
	}
	if (selftest_phase == 2) {
		selftest_phase = 3;
		uc->uc_mcontext.gregs[REG_EFL] &= ~EFLAGS_TF;
		return;
	}
	if (!trap_armed) {
		/* not ours (a breakpoint, say): behave as if we were not here */
		if (previous_trap.sa_flags & SA_SIGINFO && previous_trap.sa_sigaction) {
			previous_trap.sa_sigaction(sig, si, ctx);
		} else if (previous_trap.sa_handler != SIG_IGN && previous_trap.sa_handler != SIG_DFL) {
			previous_trap.sa_handler(sig);
		} else if (previous_trap.sa_handler == SIG_DFL) {
			signal(SIGTRAP, SIG_DFL);
			raise(SIGTRAP);
		}
		errno = saved;
		return;
	}
	trap_armed = 0;
	uc->uc_mcontext.gregs[REG_EFL] &= ~EFLAGS_TF;
	sm__serve_deferred();
	errno = saved;
}

int sm__fault_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_trap;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sm__link_signals(&sa.sa_mask);
	if (sigaction(SIGTRAP, &sa, &previous_trap) < 0) {
		sm__say("sigaction(SIGTRAP): ", strerror(errno), NULL);
		return -1;
	}
	/* does single-stepping through the signal context work here? */
	selftest_phase = 1;
	raise(SIGTRAP);
	__asm__ volatile("nop" ::: "memory");
	sm__st.trap_works = selftest_phase == 3;
	selftest_phase = 0;
	/* DSM_TRAP=0 turns the deferral off (to test the protocol without it) */
	{
		const char *t = getenv("DSM_TRAP");

		if (t && strcmp(t, "0") == 0)
			sm__st.trap_works = 0;
	}
	if (sm__st.trap_works)
		sm__st.holds_pages = 1;
	else if (install_hold_timer() == 0)
		sm__st.holds_pages = 1;
	else
		sm__say("no single-stepping and no timer for the hold window: ", strerror(errno),
			"; forward progress under contention is not guaranteed", NULL);

	if (sm__segv_install(on_segv, &sa.sa_mask) < 0) {
		sm__say("sigaction(SIGSEGV): ", strerror(errno), NULL);
		return -1;
	}
	return 0;
}
