/*
 * threads.c - the threads of the node that use libsm: a fixed table of
 * SM_MAX_THREADS slots (in sm__st), one claimed by each thread the first
 * time it faults on shared memory or calls an sm_ function, and given back
 * when it exits. A slot holds what libsm knows of its thread: its wait in
 * progress (wait.c) and its hold (hold.c). Everything here is
 * async-signal-safe, since the first use may be a fault.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "libsm.h"

/* 1 + the index of this thread's slot; 0 until it claims one */
static __thread int self_index __attribute__((tls_model("initial-exec")));
static pthread_key_t exit_key;
static int have_exit_key;

static pid_t gettid_raw(void)
{
	return (pid_t)syscall(SYS_gettid);
}

/* Under the state lock: the slot is free again (its thread is gone). */
static void give_back(struct sm_thread *t)
{
	sm__hold_end(t);
	sm__hold_timer_delete(t);
	t->waiting = SM_WAIT_NONE;
	t->done = 0;
	t->trap_armed = 0;
	atomic_store(&t->tid, 0);
}

/* A thread that used libsm exits: its slot is free for the next one. */
static void on_thread_exit(void *unused)
{
	struct sm_thread *t;
	sigset_t old;

	(void)unused;
	if (!self_index)
		return;
	t = &sm__st.threads[self_index - 1];
	sm__block_sigio(&old);
	sm__lock();
	if (sm__txn_mine(t))
		sm__txn_abandon(); /* it exits inside its transaction: rolled back */
	give_back(t);
	self_index = 0;
	sm__release();
	sm__restore_sigmask(&old);
}

int sm__threads_init(void)
{
	int rc = pthread_key_create(&exit_key, on_thread_exit);

	/* before any thread can claim a slot: no slot holds a page */
	for (uint32_t k = 0; k < SM_MAX_THREADS; k++)
		sm__st.threads[k].held[0] = sm__st.threads[k].held[1] = -1;

	if (rc != 0) {
		sm__say("pthread_key_create: ", strerror(rc), NULL);
		return -1;
	}
	have_exit_key = 1;
	return sm__self() ? 0 : -1;
}

static struct sm_thread *claim(pid_t tid)
{
	for (uint32_t k = 0; k < SM_MAX_THREADS; k++) {
		struct sm_thread *t = &sm__st.threads[k];
		pid_t none = 0;
		uint32_t n;

		sigset_t old;

		if (!atomic_compare_exchange_strong(&t->tid, &none, tid))
			continue;
		/* under the state lock, as every reader of a slot: a slot below
		 * nthreads (another thread claimed a higher one first) is looked
		 * at by whoever dispatches. It is idle already: no hold (set up in
		 * sm__threads_init, and by give_back), no wait */
		sm__block_sigio(&old);
		sm__lock();
		t->held[0] = t->held[1] = -1;
		if (sm__st.holds_pages && !t->have_timer && sm__hold_timer_create(t) < 0)
			sm__say("no timer for the hold window of a thread: ", strerror(errno),
				"; its forward progress under contention is not guaranteed", NULL);
		while ((n = atomic_load(&sm__st.nthreads)) < k + 1 &&
		       !atomic_compare_exchange_weak(&sm__st.nthreads, &n, k + 1))
			;
		sm__release();
		sm__restore_sigmask(&old);
		self_index = (int)k + 1;
		/* at its exit the slot is given back (keys below 32 cost no
		 * allocation in glibc, and libsm's is made early) */
		if (have_exit_key)
			pthread_setspecific(exit_key, t);
		return t;
	}
	return NULL;
}

/* Slots of threads that ended without their exit hook (none, normally). */
static void reclaim_dead(void)
{
	sigset_t old;
	pid_t pid = getpid();

	sm__block_sigio(&old);
	sm__lock();
	for (uint32_t k = 0; k < atomic_load(&sm__st.nthreads); k++) {
		struct sm_thread *t = &sm__st.threads[k];
		pid_t tid = atomic_load(&t->tid);

		if (tid && t->waiting == SM_WAIT_NONE && syscall(SYS_tgkill, pid, tid, 0) < 0 &&
		    errno == ESRCH)
			give_back(t);
	}
	sm__release();
	sm__restore_sigmask(&old);
}

struct sm_thread *sm__self(void)
{
	struct sm_thread *t;
	pid_t tid;
	char num[24];

	if (self_index)
		return &sm__st.threads[self_index - 1];
	tid = gettid_raw();
	if ((t = claim(tid)) != NULL)
		return t;
	reclaim_dead();
	if ((t = claim(tid)) != NULL)
		return t;
	sm__say("more than ", sm__fmt_u64(num, SM_MAX_THREADS),
		" threads of this node use shared memory at once", NULL);
	return NULL;
}

struct sm_thread *sm__self_known(void)
{
	return self_index ? &sm__st.threads[self_index - 1] : NULL;
}

int sm__poke(struct sm_thread *t)
{
	pid_t tid = atomic_load(&t->tid);

	if (!tid || syscall(SYS_tgkill, getpid(), tid, SM_HOLD_SIGNAL) < 0)
		return -1;
	return 0;
}

void sm__wake(struct sm_thread *t)
{
	atomic_fetch_add(&t->wake, 1);
	/* the thread that reads for everyone finds its own wait over itself */
	if (!self_index || t != &sm__st.threads[self_index - 1])
		sm__futex_wake(&t->wake);
}
