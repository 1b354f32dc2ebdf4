/*
 * caller.c - who may use libsm: any thread of the process that called
 * sm_node_init. A forked child gets a clear error at once instead of a hang
 * or a corrupted link (sm(3), "Fork").
 *
 * A forked child is not a node. At fork() (pthread_atfork) the child closes
 * its copy of the link, so it can never send a byte on its parent's link; its
 * view of the shared region is replaced by an inaccessible private reservation
 * (the pages are not even copied into it: region.c marks both views
 * MADV_DONTFORK), so it can neither see nor change the parent's pages behind
 * the protocol; and it is made to die (PR_SET_PDEATHSIG, SIGKILL) when the
 * process that forked it ends, so nothing forked from a node outlives it,
 * even in a session of its own. sm_node_exit, and libsm's exit() hook, do
 * nothing in it; the other sm_ functions, and any touch of the region, end
 * it with a message. A fork the handlers did not see (a raw clone) is caught
 * by comparing process ids where it costs nothing that matters.
 *
 * Every thread of the node may use libsm (docs/design.md, "Threads inside a
 * node").
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "libsm.h"

static pid_t node_pid;            /* 0 until sm_node_init */
static volatile sig_atomic_t forked; /* this process is a forked child of the node */
static pid_t fork_parent;         /* the process forking, set just before fork() */

/* In a child: close the link and the views. Async-signal-safe. */
static void become_child(void)
{
	forked = 1;
	if (sm__st.fd >= 0) {
		close(sm__st.fd);
		sm__st.fd = -1;
	}
	if (!sm__st.base)
		return;
	/* keep the range reserved, so nothing else is mapped where the
	 * program's pointers point and a touch faults into on_segv */
	if (mmap(sm__st.base, sm__st.size, PROT_NONE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0) == MAP_FAILED &&
	    munmap(sm__st.base, sm__st.size) < 0)
		sm__die("cannot drop the shared region in a forked child: ", strerror(errno), NULL);
	if (sm__st.alias && munmap(sm__st.alias, sm__st.size) < 0)
		sm__die("cannot drop the shared region in a forked child: ", strerror(errno), NULL);
	sm__st.alias = NULL;
}

static void before_fork(void)
{
	fork_parent = getpid();
}

static void in_child(void)
{
	become_child();
	/* end with the process that forked it, which is the node or one of
	 * its descendants: nothing forked from a node outlives it */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		sm__say("forked child: prctl(PR_SET_PDEATHSIG): ", strerror(errno), NULL);
	else if (getppid() != fork_parent)
		raise(SIGKILL); /* the parent ended before the line above */
}

int sm__caller_init(void)
{
	static int registered;
	int rc;

	node_pid = getpid();
	if (!registered && (rc = pthread_atfork(before_fork, NULL, in_child)) != 0) {
		sm__say("pthread_atfork: ", strerror(rc), NULL);
		return -1;
	}
	registered = 1;
	return 0;
}

enum sm_caller sm__caller(int cheap)
{
	if (!node_pid)
		return SM_CALLER_NODE; /* not joined: nothing to protect yet */
	if (forked)
		return SM_CALLER_CHILD;
	if (!cheap && getpid() != node_pid) {
		become_child(); /* forked without the fork handlers (a raw clone) */
		return SM_CALLER_CHILD;
	}
	return SM_CALLER_NODE;
}

static const char not_a_node[] = ": a forked child is not a node (see sm(3), Fork)";

void sm__caller_check(const char *call, int cheap)
{
	char pid[24];

	if (sm__caller(cheap) == SM_CALLER_CHILD)
		sm__die(call, " called in a forked child (pid ",
			sm__fmt_u64(pid, (uint64_t)getpid()), ")", not_a_node, NULL);
}

int sm__caller_fault(const void *addr)
{
	char pid[24], a[24];

	if (sm__caller(0) == SM_CALLER_NODE)
		return 0;
	sm__say("shared memory touched in a forked child (pid ", sm__fmt_u64(pid, (uint64_t)getpid()),
		") at ", sm__fmt_hex(a, (uintptr_t)addr),
		": a forked child is not a node and has no shared memory (see sm(3), Fork)", NULL);
	return 1;
}
