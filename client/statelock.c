/*
 * statelock.c - the one lock that guards libsm's shared state (the link,
 * the region's bookkeeping, the threads' waits and holds), and the futex
 * waits built on it.
 *
 * A futex lock (Drepper, "Futexes are tricky", mutex 2) rather than a
 * pthread mutex, because signal handlers take it: the SIGSEGV handler, the
 * SIGTRAP handler, the hold signal's and SIGIO's. That is safe because a
 * thread holds it only with SIGIO and SM_HOLD_SIGNAL blocked and never
 * across an access that can fault or be single-stepped, so a handler never
 * waits for its own thread. Nobody sleeps holding it: the leader sleeps in
 * poll() with the lock free, others on their own futex word (wait.c). The
 * only long waits under it are sends into the link, which its proxy always
 * drains (docs/design.md, "Deadlock freedom").
 */
#include <errno.h>
#include <linux/futex.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "libsm.h"

static long futex(_Atomic uint32_t *word, int op, uint32_t val)
{
	return syscall(SYS_futex, (uint32_t *)word, op | FUTEX_PRIVATE_FLAG, val, NULL, NULL, 0);
}

void sm__futex_wait(_Atomic uint32_t *word, uint32_t seen)
{
	/* EAGAIN: the word changed already; EINTR: a signal; either way the
	 * caller looks again */
	if (futex(word, FUTEX_WAIT, seen) < 0 && errno != EAGAIN && errno != EINTR)
		sm__die("futex wait: ", strerror(errno), NULL);
}

void sm__futex_wake(_Atomic uint32_t *word)
{
	if (futex(word, FUTEX_WAKE, 1) < 0)
		sm__die("futex wake: ", strerror(errno), NULL);
}

/* 0: free, 1: taken, 2: taken and someone may sleep on it */
void sm__lock(void)
{
	uint32_t c = 0;
	int saved = errno;

	if (atomic_compare_exchange_strong_explicit(&sm__st.lock, &c, 1, memory_order_acquire,
						    memory_order_relaxed))
		return;
	if (c != 2)
		c = atomic_exchange_explicit(&sm__st.lock, 2, memory_order_acquire);
	while (c != 0) {
		sm__futex_wait(&sm__st.lock, 2);
		c = atomic_exchange_explicit(&sm__st.lock, 2, memory_order_acquire);
	}
	errno = saved;
}

int sm__trylock(void)
{
	uint32_t c = 0;

	return atomic_compare_exchange_strong_explicit(&sm__st.lock, &c, 1, memory_order_acquire,
						       memory_order_relaxed);
}

void sm__unlock(void)
{
	if (atomic_fetch_sub_explicit(&sm__st.lock, 1, memory_order_release) != 1) {
		atomic_store_explicit(&sm__st.lock, 0, memory_order_release);
		sm__futex_wake(&sm__st.lock);
	}
}

/*
 * A SIGIO that found the lock taken set need_pump and left the reading to
 * whoever held it. So after letting go, read if one came and no leader is
 * there to see the data in its poll(); need_pump is looked at after the
 * unlock, so either the SIGIO's handler got the lock or this sees its flag.
 */
void sm__release(void)
{
	int saved = errno;

	for (;;) {
		sm__unlock();
		if (!atomic_load(&sm__st.need_pump) || atomic_load(&sm__st.leader) >= 0 ||
		    sm__st.fd < 0 || !sm__trylock())
			break;
		if (atomic_load(&sm__st.leader) < 0 && sm__st.fd >= 0)
			sm__pump();
	}
	errno = saved;
}
