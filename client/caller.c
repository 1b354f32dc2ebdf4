/*
 * caller.c - who may use libsm: the thread that called sm_node_init. Anyone
 * else gets a clear error at once instead of a hang or a corrupted link
 * (sm(3), "Threads").
 *
 * Another thread of the node is not supported yet: SIGIO goes to the thread
 * that joined, and the link has one reader. An sm_ function called by
 * another thread, or a fault in the region taken by one, ends the node with
 * a message that says so.
 */
#include <pthread.h>
#include <signal.h>

#include "libsm.h"

static int joined;            /* sm_node_init has run */
static pthread_t node_thread; /* the thread that called it */

int sm__caller_init(void)
{
	node_thread = pthread_self();
	joined = 1;
	return 0;
}

enum sm_caller sm__caller(void)
{
	if (!joined)
		return SM_CALLER_NODE; /* not joined: nothing to protect yet */
	if (!pthread_equal(pthread_self(), node_thread))
		return SM_CALLER_THREAD;
	return SM_CALLER_NODE;
}

static const char no_threads[] = " by a thread other than the one that called sm_node_init "
				 "(threads are not supported yet)";

void sm__caller_check(const char *call)
{
	if (sm__caller() == SM_CALLER_THREAD)
		sm__die(call, " called", no_threads, NULL);
}

int sm__caller_fault(const void *addr)
{
	char a[24];

	if (sm__caller() == SM_CALLER_NODE)
		return 0;
	sm__say("shared memory touched", no_threads, ", at ", sm__fmt_hex(a, (uintptr_t)addr), NULL);
	return 1;
}
