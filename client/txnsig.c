/*
 * txnsig.c - synchronous signals inside a transaction. A division by zero
 * (SIGFPE), a bad pointer followed out of the region (SIGSEGV), a bus error
 * or an illegal instruction raised while a transaction runs may come from
 * data it read inconsistently: the transaction rolls back and runs again
 * instead of the node dying. libsm's handlers for SIGFPE, SIGBUS and SIGILL
 * are installed only from a transaction's outermost begin to its end (the
 * program's dispositions are put back then); SIGSEGV goes through libsm's
 * own handler (fault.c), which asks sm__txn_signal first.
 *
 * A transaction that is not doomed read consistent data, so its fault may be
 * genuine and would come back at every restart: after SIGNAL_LIMIT restarts
 * in a row for signals, the transaction is rolled back (nobody sees its
 * writes) and the signal takes its normal course.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "libsm.h"

#define SIGNAL_LIMIT 100

static const int txn_signals[] = {SIGFPE, SIGBUS, SIGILL};
#define NSIGNALS (sizeof(txn_signals) / sizeof(txn_signals[0]))

static struct sigaction program_action[NSIGNALS];
static int installed;
static uint32_t signals_in_row;

static const char *signal_name(int sig)
{
	switch (sig) {
	case SIGFPE:
		return "SIGFPE";
	case SIGBUS:
		return "SIGBUS";
	case SIGILL:
		return "SIGILL";
	default:
		return "SIGSEGV";
	}
}

int sm__txn_signal(int sig, const siginfo_t *si)
{
	struct sm_thread *me = sm__self_known();

	/* (no lock for a node without a transaction: the signal may come from
	 * a thread that holds it, say a stack overflow inside libsm) */
	if (si->si_code <= 0 || !me || !sm__txn_running())
		return 0; /* not a transaction's: its normal meaning */
	sm__lock();
	if (!sm__txn_mine(me)) {
		sm__release();
		return 0; /* another thread's signal: the program's */
	}
	if (++signals_in_row > SIGNAL_LIMIT) {
		signals_in_row = 0;
		sm__txn_abandon();
		sm__release();
		sm__say(signal_name(sig), " in a transaction at every one of its last 100 runs: "
			"not a conflict; the transaction is rolled back and the signal takes its course",
			NULL);
		return 0;
	}
	sm__txn_restart(me);
}

/* The program's own handler for a signal raised outside the transaction
 * (in another thread): 1 if it had one and it ran. */
static int program_handler(int sig, siginfo_t *si, void *ctx)
{
	for (size_t i = 0; i < NSIGNALS; i++) {
		const struct sigaction *a = &program_action[i];

		if (txn_signals[i] != sig)
			continue;
		if (a->sa_flags & SA_SIGINFO) {
			a->sa_sigaction(sig, si, ctx);
			return 1;
		}
		if (a->sa_handler != SIG_DFL && a->sa_handler != SIG_IGN) {
			a->sa_handler(sig);
			return 1;
		}
	}
	return 0;
}

static void on_signal(int sig, siginfo_t *si, void *ctx)
{
	int saved = errno;

	if (!sm__txn_signal(sig, si) && !program_handler(sig, si, ctx)) {
		/* the program's disposition is back (or was never ours to
		 * change): returning runs the faulting instruction again under
		 * it; a signal sent by kill() is delivered again the same way */
		sm__txn_signals_off();
		if (si->si_code <= 0 && raise(sig) != 0)
			sm__die("cannot raise a signal again", NULL);
	}
	errno = saved;
}

void sm__txn_signals_on(void)
{
	struct sigaction sa;

	if (installed)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_signal;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sm__link_signals(&sa.sa_mask);
	for (size_t i = 0; i < NSIGNALS; i++)
		if (sm__sigaction(txn_signals[i], &sa, &program_action[i]) < 0)
			sm__die("sigaction: ", strerror(errno), NULL);
	installed = 1;
}

void sm__txn_signals_off(void)
{
	if (!installed)
		return;
	for (size_t i = 0; i < NSIGNALS; i++)
		if (sm__sigaction(txn_signals[i], &program_action[i], NULL) < 0)
			sm__die("sigaction: ", strerror(errno), NULL);
	installed = 0;
}

void sm__txn_signals_reset(void)
{
	signals_in_row = 0;
}
