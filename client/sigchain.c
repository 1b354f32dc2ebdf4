/*
 * sigchain.c - the program's own SIGSEGV handler, kept working next to
 * libsm's.
 *
 * libsm's SIGSEGV handler must stay installed for shared memory to work, but
 * a fault outside the shared region is the program's business. So libsm keeps
 * the program's disposition for SIGSEGV here and hands such faults to it:
 *  - the handler installed before sm_node_init is what sigaction() returned
 *    when libsm installed its own;
 *  - one installed later is caught by the sigaction() and signal() defined
 *    below, which interpose on the C library's (as ArgoDSM does): for
 *    SIGSEGV, once libsm's handler is in, they record the program's
 *    disposition and report the one recorded before, as if libsm's handler
 *    were not there. Every other call goes on to the C library's (or to the
 *    next interposer, such as a sanitizer's), found with dlsym(RTLD_NEXT).
 * These two are the only symbols libsm exports besides the sm_ functions.
 * sysv_signal(), sigset() and the signal() of strict ISO C (glibc maps it to
 * __sysv_signal) are not intercepted: sm.h says so.
 */
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <ucontext.h>

#include "libsm.h"

typedef int (*sigaction_fn)(int, const struct sigaction *, struct sigaction *);
typedef sighandler_t (*signal_fn)(int, sighandler_t);

/* glibc's other name for sigaction(): where dlsym cannot look (a static executable) */
extern int __sigaction(int sig, const struct sigaction *act, struct sigaction *old);

static sigaction_fn next_sigaction;
static signal_fn next_signal; /* NULL where dlsym cannot look: emulated */
static volatile sig_atomic_t resolved;

static struct sigaction program_segv; /* what the program asked for */
static struct sigaction libsm_segv;   /* libsm's handler, as installed */
static volatile sig_atomic_t libsm_owns_segv;

/* Once, before main (dlsym is not async-signal-safe), or at the first call
 * if a constructor that ran earlier called sigaction() or signal(). */
static void resolve(void)
{
	if (resolved)
		return;
	next_sigaction = (sigaction_fn)dlsym(RTLD_NEXT, "sigaction");
	if (!next_sigaction)
		next_sigaction = __sigaction;
	next_signal = (signal_fn)dlsym(RTLD_NEXT, "signal");
	resolved = 1;
}

__attribute__((constructor)) static void resolve_early(void)
{
	resolve();
}

int sm__sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	resolve();
	return next_sigaction(sig, act, old);
}

int sm__segv_install(void (*handler)(int, siginfo_t *, void *), const sigset_t *mask)
{
	struct sigaction sa, previous;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = handler;
	sa.sa_mask = *mask;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	/* a program handler meant for an alternate stack (stack overflow)
	 * can only run there if libsm's does */
	if (sm__sigaction(SIGSEGV, NULL, &previous) < 0)
		return -1;
	sa.sa_flags |= previous.sa_flags & SA_ONSTACK;
	if (sm__sigaction(SIGSEGV, &sa, &previous) < 0)
		return -1;
	program_segv = previous;
	libsm_segv = sa;
	libsm_owns_segv = 1;
	return 0;
}

void sm__segv_default(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	libsm_owns_segv = 0;
	/* failing, the access would fault again into this handler forever */
	if (sm__sigaction(SIGSEGV, &sa, NULL) < 0)
		sm__die("cannot restore the default action of SIGSEGV", NULL);
}

void sm__segv_chain(int sig, siginfo_t *si, void *ctx)
{
	struct sigaction h = program_segv;
	ucontext_t *uc = ctx;
	sigset_t mask;

	if (h.sa_handler == SIG_DFL || h.sa_handler == SIG_IGN) {
		/* a genuine fault kills even when ignored (so the kernel does):
		 * fault again with the default action; a SIGSEGV sent by
		 * kill() or raise() is ignored, or kills as sent */
		if (si->si_code > 0 || h.sa_handler == SIG_DFL) {
			sm__segv_default();
			/* a sent one: delivered again once this handler returns */
			if (si->si_code <= 0 && raise(SIGSEGV) != 0)
				sm__die("cannot raise SIGSEGV again", NULL);
		}
		return;
	}
	/* run it as the kernel would have: the interrupted thread's mask plus
	 * its sa_mask and SIGSEGV itself (so SIGIO is blocked only if it was) */
	mask = uc->uc_sigmask;
	sigorset(&mask, &mask, &h.sa_mask);
	if (!(h.sa_flags & SA_NODEFER))
		sigaddset(&mask, SIGSEGV);
	if (h.sa_flags & SA_RESETHAND) {
		program_segv.sa_handler = SIG_DFL;
		program_segv.sa_flags &= ~SA_SIGINFO;
	}
	if (sigprocmask(SIG_SETMASK, &mask, NULL) < 0)
		sm__die("sigprocmask in the SIGSEGV handler failed", NULL);
	if (h.sa_flags & SA_SIGINFO)
		h.sa_sigaction(sig, si, ctx);
	else
		h.sa_handler(sig);
	/* returning: the kernel restores the interrupted mask */
}

/* ---- the interposed functions --------------------------------------- */

SM_API int sigaction(int sig, const struct sigaction *restrict act, struct sigaction *restrict old)
{
	sigset_t all, saved;

	if (sig != SIGSEGV || !libsm_owns_segv)
		return sm__sigaction(sig, act, old);
	/* no SIGSEGV handler of this thread sees the record half-written */
	sigfillset(&all);
	if (sigprocmask(SIG_BLOCK, &all, &saved) < 0)
		return -1;
	if (old)
		*old = program_segv;
	if (act) {
		program_segv = *act;
		if ((act->sa_flags ^ libsm_segv.sa_flags) & SA_ONSTACK) {
			libsm_segv.sa_flags ^= SA_ONSTACK;
			if (sm__sigaction(SIGSEGV, &libsm_segv, NULL) < 0) {
				int e = errno;

				sigprocmask(SIG_SETMASK, &saved, NULL);
				errno = e;
				return -1;
			}
		}
	}
	return sigprocmask(SIG_SETMASK, &saved, NULL);
}

SM_API sighandler_t signal(int sig, sighandler_t handler)
{
	struct sigaction sa, old;

	resolve();
	if ((sig != SIGSEGV || !libsm_owns_segv) && next_signal)
		return next_signal(sig, handler);
	/* glibc's signal(): BSD semantics */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, sig);
	sa.sa_flags = SA_RESTART;
	if (sigaction(sig, &sa, &old) < 0)
		return SIG_ERR;
	return old.sa_handler;
}
