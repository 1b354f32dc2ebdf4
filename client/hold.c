/*
 * hold.c - forward progress, per thread: the pages a thread just faulted in
 * stay held until its faulting instruction has run, and a revoke or
 * invalidation of a held page waits (is deferred) meanwhile.
 *
 * If a revoke of the page just granted were served before the faulting
 * instruction re-ran, two writers could steal the page from each other
 * forever. So a page is held from its grant on, by the thread that fetched
 * it and by every thread that waited for that fetch (each has its own
 * faulting instruction); holders[] counts them per page. A revoke of a held
 * page is kept in deferred[] and served when the page's last holder lets
 * go. A holder lets go when its instruction has run:
 *  - the trap flag (x86-64 EFLAGS.TF): the thread that defers a revoke
 *    pokes each holder with SM_HOLD_SIGNAL (unless the holder is in its
 *    SIGSEGV or SIGIO handler, which look before they return, as a node of
 *    one thread always does); in the holder's own context its
 *    handler sees whether the instruction has run (the interrupted context
 *    has moved on: let go at once) or not (set TF: the instruction runs
 *    once, SIGTRAP follows, and its handler lets go; under
 *    ThreadSanitizer, which runs the handler only once the thread has
 *    reached a blocking call or an interceptor, on a copy of its context,
 *    it lets go at once);
 *  - where single-stepping fails (valgrind), a window of HOLD_NS of the
 *    thread's own CPU time, ended by a timer of its own that raises the
 *    same signal; and since a thread that blocks right after its
 *    instruction (in pthread_barrier_wait, say) uses no CPU time, the poke
 *    also ends the hold once the thread has moved on, and a poke that finds
 *    it still at its instruction looks again RECHECK_NS later (wall clock);
 *  - and in any case when the thread faults again, calls an sm_ function or
 *    exits: its instruction has run by then.
 * sm_node_init checks that single-stepping works here (the self-test).
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "libsm.h"

#define EFLAGS_TF 0x100
#define HOLD_NS 2000000 /* 2 ms of CPU time: the fallback hold window */
#define RECHECK_NS 1000000 /* the fallback looks again at a thread 1 ms later */

#ifndef sigev_notify_thread_id /* glibc < 2.35 names it only this way */
#define sigev_notify_thread_id _sigev_un._tid
#endif

static struct sigaction previous_trap;
static volatile sig_atomic_t selftest_phase;

void sm__hold_page(struct sm_thread *t, uint32_t page)
{
	/* a fetcher's pages keep their place (a pair's lower page in [0]) */
	int i = t->waiting == SM_WAIT_FAULT ? (int)(page - (uint32_t)t->fault_page) : 0;

	if (i < 0 || i > 1 || t->held[i] == (int32_t)page)
		return;
	if (t->held[i] >= 0)
		sm__st.holders[t->held[i]]--; /* cannot happen: a fault's own places */
	t->held[i] = (int32_t)page;
	sm__st.holders[page]++;
}

void sm__hold_start(struct sm_thread *t, uint64_t ip, uintptr_t addr, int write)
{
	t->held_ip = ip;
	t->held_addr = addr;
	t->held_write = write;
	if (!sm__st.trap_works && t->have_timer) {
		struct itimerspec once = {.it_value = {.tv_nsec = HOLD_NS}};

		t->window_on = timer_settime(t->hold_timer, 0, &once, NULL) == 0;
	}
}

/* Serve the revoke deferred for page, if one waits. */
static int serve(uint32_t page)
{
	for (uint32_t i = 0; i < sizeof(sm__st.deferred) / sizeof(sm__st.deferred[0]) &&
			     sm__st.ndeferred; i++) {
		struct sm_deferred *d = &sm__st.deferred[i];

		if (d->page == (int32_t)page) {
			struct msg m = d->m;

			d->page = -1;
			sm__st.ndeferred--;
			sm__dispatch(&m); /* nobody holds it now: answered */
			return 1;
		}
	}
	return 0;
}

void sm__hold_end(struct sm_thread *t)
{
	int served = 0;

	for (int i = 0; i < 2; i++) {
		int32_t p = t->held[i];

		t->held[i] = -1;
		if (p >= 0 && --sm__st.holders[p] == 0 && sm__st.ndeferred)
			served |= serve((uint32_t)p);
	}
	t->hold_wanted = 0;
	t->window_on = 0;
	if (served)
		sm__flush();
}

/*
 * Keep a revoke of page for when its holders let go, and tell each holder.
 * A holder that cannot be told (its thread ended without libsm seeing it)
 * lets go here; 0 when nobody holds the page any more: answer it now.
 */
int sm__hold_defer(const struct msg *m, uint32_t page)
{
	uint32_t n = atomic_load(&sm__st.nthreads);

	for (uint32_t k = 0; k < n && sm__st.holders[page]; k++) {
		struct sm_thread *t = &sm__st.threads[k];

		for (int i = 0; i < 2; i++) {
			if (t->held[i] != (int32_t)page)
				continue;
			t->hold_wanted = 1;
			/* a thread in its SIGSEGV or SIGIO handler looks itself */
			if (!t->looks_at_hold && sm__poke(t) < 0) {
				t->held[i] = -1;
				sm__st.holders[page]--;
			}
		}
	}
	if (!sm__st.holders[page])
		return 0;
	for (uint32_t i = 0; i < sizeof(sm__st.deferred) / sizeof(sm__st.deferred[0]); i++) {
		struct sm_deferred *d = &sm__st.deferred[i];

		if (d->page < 0) {
			d->m = *m;
			d->m.page = page;
			d->m.node = 1;
			d->page = (int32_t)page;
			sm__st.ndeferred++;
			return 1;
		}
	}
	/* two per thread: cannot run out, a page is deferred at most once */
	sm__die("no room to defer a revoke", NULL);
}

/* ---- the signals that end holds --------------------------------------- */

static int timer_over(struct sm_thread *t)
{
	struct itimerspec left;

	return timer_gettime(t->hold_timer, &left) == 0 && left.it_value.tv_sec == 0 &&
	       left.it_value.tv_nsec == 0;
}

void sm__hold_look(struct sm_thread *me, void *ctx, int async)
{
	ucontext_t *uc = ctx;
	struct itimerspec once = {.it_value = {.tv_nsec = RECHECK_NS}};

	if (!sm__holding(me) || !me->hold_wanted)
		return;
	/* ThreadSanitizer runs the handler of an asynchronous signal only in
	 * a blocking system call or as the thread leaves an interceptor, on a
	 * copy of its context: either way the thread is past its instruction */
	if ((SM_DEFERRED_SIGNALS && async) ||
	    (uint64_t)uc->uc_mcontext.gregs[REG_RIP] != me->held_ip) {
		sm__hold_end(me); /* the instruction has run */
		return;
	}
	if (sm__st.trap_works && !me->trap_armed) {
		me->trap_armed = 1;
		uc->uc_mcontext.gregs[REG_EFL] |= EFLAGS_TF;
	}
	/* without single-stepping, look again later, in case the thread
	 * blocks right after its instruction (its window, CPU time, would
	 * never end); not under ThreadSanitizer: the window's signal ends the
	 * hold whenever its handler runs */
	if (!sm__st.trap_works && !SM_DEFERRED_SIGNALS && me->have_timer)
		timer_settime(me->recheck_timer, 0, &once, NULL);
}

/*
 * SM_HOLD_SIGNAL: a poke, or a timer of the hold's: this thread looks at its
 * hold where it is now. And for the fallback, every hold whose window is
 * over ends (a window of an earlier fault that expired while a fault armed
 * the timer again is not).
 */
static void on_hold_signal(int sig, siginfo_t *si, void *ctx)
{
	int saved = errno;
	struct sm_thread *me;

	(void)sig, (void)si;
	if (sm__st.fd < 0) {
		errno = saved;
		return;
	}
	sm__lock();
	me = sm__self_known();
	if (me)
		sm__hold_look(me, ctx, 1);
	if (!sm__st.trap_works) {
		uint32_t n = atomic_load(&sm__st.nthreads);

		for (uint32_t k = 0; k < n; k++) {
			struct sm_thread *t = &sm__st.threads[k];

			/* a pair's first page, held while the second is on its
			 * way, has no window yet */
			if (!sm__holding(t) || !t->window_on)
				continue;
			if (timer_over(t))
				sm__hold_end(t);
			else if (sm__st.timers_to_process && t != me && t->hold_wanted)
				sm__poke(t); /* the signal was its timer's, maybe */
		}
	}
	sm__release();
	errno = saved;
}

/* A timer on clock that raises SM_HOLD_SIGNAL in this thread, or (valgrind
 * refuses that) in the process. */
static int make_timer(clockid_t clock, timer_t *out)
{
	struct sigevent ev;

	memset(&ev, 0, sizeof(ev));
	ev.sigev_notify = SIGEV_THREAD_ID;
	ev.sigev_signo = SM_HOLD_SIGNAL;
	ev.sigev_notify_thread_id = (pid_t)syscall(SYS_gettid);
	if (timer_create(clock, &ev, out) == 0)
		return 0;
	ev.sigev_notify = SIGEV_SIGNAL;
	if (timer_create(clock, &ev, out) < 0)
		return -1;
	sm__st.timers_to_process = 1;
	return 0;
}

int sm__hold_timer_create(struct sm_thread *t)
{
	if (make_timer(CLOCK_THREAD_CPUTIME_ID, &t->hold_timer) < 0)
		return -1;
	if (make_timer(CLOCK_MONOTONIC, &t->recheck_timer) < 0) {
		int e = errno;

		timer_delete(t->hold_timer);
		errno = e;
		return -1;
	}
	t->have_timer = 1;
	return 0;
}

void sm__hold_timer_delete(struct sm_thread *t)
{
	if (t->have_timer) {
		timer_delete(t->hold_timer);
		timer_delete(t->recheck_timer);
	}
	t->have_timer = 0;
}

static void on_trap(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;
	int saved = errno;
	struct sm_thread *me;

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
	me = sm__st.fd >= 0 ? sm__self_known() : NULL;
	if (!me || !me->trap_armed) {
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
	me->trap_armed = 0;
	uc->uc_mcontext.gregs[REG_EFL] &= ~EFLAGS_TF;
	sm__lock();
	sm__hold_end(me);
	sm__release();
	errno = saved;
}

int sm__hold_install(void)
{
	struct sigaction sa;
	struct sm_thread probe = {.held = {-1, -1}};

	for (uint32_t i = 0; i < sizeof(sm__st.deferred) / sizeof(sm__st.deferred[0]); i++)
		sm__st.deferred[i].page = -1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_trap;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sm__link_signals(&sa.sa_mask);
	if (sigaction(SIGTRAP, &sa, &previous_trap) < 0) {
		sm__say("sigaction(SIGTRAP): ", strerror(errno), NULL);
		return -1;
	}
	sa.sa_sigaction = on_hold_signal;
	if (sigaction(SM_HOLD_SIGNAL, &sa, NULL) < 0) {
		sm__say("sigaction(SIGRTMAX-2): ", strerror(errno), NULL);
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
	if (sm__st.trap_works) {
		sm__st.holds_pages = 1;
	} else if (sm__hold_timer_create(&probe) == 0) {
		sm__hold_timer_delete(&probe);
		sm__st.holds_pages = 1; /* each thread gets a timer of its own */
	} else {
		sm__say("no single-stepping and no timer for the hold window: ", strerror(errno),
			"; forward progress under contention is not guaranteed", NULL);
	}
	return 0;
}
