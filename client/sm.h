/*
 * sm.h - the whole public interface of libsm, the dsm client library.
 *
 * A program includes only this header and links with -lsm (see sm.pc). It is
 * compatible with the classic COMP9243 sm.h: the same five functions with the
 * same signatures and meaning.
 *
 * Shared memory returned by sm_malloc() lives at the same virtual address on
 * every node, so pointers into it may be stored in it and followed anywhere.
 * Memory is sequentially consistent (single writer / multiple readers,
 * write-invalidate with read-revoke).
 *
 * Limits worth knowing:
 *  - Threads: every thread of a node (pthreads, OpenMP) shares the node's
 *    copy of every page and may touch shared memory and call sm_malloc, the
 *    locks (a lock is a thread's) and transactions (one at a time per node;
 *    the other threads wait), and sm_node_exit, once the others are done
 *    with shared memory. The collectives are among nodes: one thread per
 *    node calls them (two threads of a node in them at once end the node
 *    with a message). A thread that touches shared memory must not block
 *    SIGRTMAX-2, and not every thread may block SIGIO. At most 256 threads
 *    of a node use libsm at once.
 *  - A child made with fork() is not a node and has no shared memory: it
 *    dies of SIGSEGV if it touches the region, sm_node_exit and the exit()
 *    hook do nothing in it, and it is killed when the process that forked
 *    it ends. Copy what it needs before forking (sm(3), Fork).
 *  - A system call given a pointer into a shared page this node does not hold
 *    (e.g. read(fd, shared_buf, n)) fails with EFAULT instead of faulting the
 *    page in, and libsm cannot notice. Touch the buffer first (write one byte
 *    per page for a read(), read one byte per page for a write()) and retry
 *    on EFAULT.
 *  - sleep(), nanosleep(), poll(), select() and other waits return early when
 *    a message for this node arrives (libsm's SIGIO handler): sleep until a
 *    deadline, e.g. clock_nanosleep(TIMER_ABSTIME) in a loop (sm(3)).
 *  - A program may have its own SIGSEGV handler, installed before or after
 *    sm_node_init: libsm's handler serves the shared region and passes every
 *    other SIGSEGV on to the program's (SA_SIGINFO or not; SIG_DFL and
 *    SIG_IGN: the node dies of a genuine fault, as without libsm). To see a
 *    handler installed after sm_node_init, libsm defines sigaction() and
 *    signal() on top of the C library's; for SIGSEGV they record the
 *    program's handler and report the one it had, as if libsm's were not
 *    there. sysv_signal(), sigset() and the signal() of strict ISO C
 *    (-std=c11 without _DEFAULT_SOURCE, which glibc maps to __sysv_signal)
 *    are not seen: a SIGSEGV handler installed with them after
 *    sm_node_init replaces libsm's, and shared memory stops working.
 *    SIGIO, SIGTRAP and SIGRTMAX-2 are libsm's alone.
 */
#ifndef SM_H
#define SM_H

#include <setjmp.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Join the job. Must be called before any other sm_ function. Removes the
 * arguments dsm added from *argc and *argv, so the program sees exactly the
 * NODE-OPTIONs the user typed. Stores the number of nodes in *nodes and this
 * node's id (0 .. *nodes-1) in *nid. Returns 0 on success, -1 on failure (with
 * a message on stderr).
 */
int sm_node_init(int *argc, char **argv[], int *nodes, int *nid);

/*
 * Leave the job. Every page this node holds writable is written back first,
 * so other nodes can still read everything this node wrote. Called
 * automatically at exit() if the program does not call it.
 */
void sm_node_exit(void);

/*
 * Allocate size bytes of shared memory, 16-byte aligned, reading as zero.
 * Any node may call it at any time. Returns NULL when the shared region is
 * exhausted. There is no sm_free.
 */
void *sm_malloc(size_t size);

/* Wait until every node (that has not yet left with sm_node_exit) arrives. */
void sm_barrier(void);

/*
 * Copy the pointer value *addr of node root_nid into *addr on every other
 * node. Every node must call it with the same root; it is also a barrier.
 */
void sm_bcast(void **addr, int root_nid);

/*
 * ---- Beyond COMP9243 ----------------------------------------------------
 * Synchronization and collectives that dsm adds beside the five classic
 * functions (sm(3) lists them apart). Each has its own manual page.
 */

/*
 * A lock that lives in shared memory: inside a structure from sm_malloc, in
 * an array, any number of them. Memory fresh from sm_malloc (all zero) is an
 * unlocked lock, and so is SM_LOCK_INITIALIZER. The lock is named by its
 * address; its bytes are never read or written, so taking a lock moves no
 * page. Waiters queue in FIFO order at dsm, without spinning.
 */
typedef struct {
	unsigned long long sm_opaque;
} sm_lock_t;
#define SM_LOCK_INITIALIZER {0}

/* Take the lock, waiting (FIFO) while another node holds it. sm_lock(3) */
void sm_lock(sm_lock_t *lock);
/* Release a lock this node holds; does not wait for dsm. */
void sm_unlock(sm_lock_t *lock);
/* Take the lock if it is free: 0 when taken, -1 when another node holds it. */
int sm_trylock(sm_lock_t *lock);

/*
 * A condition variable in shared memory, with pthread semantics; zeroed
 * memory and SM_COND_INITIALIZER are valid conditions. sm_cond_wait(3)
 */
typedef struct {
	unsigned long long sm_opaque;
} sm_cond_t;
#define SM_COND_INITIALIZER {0}

/* Release lock (held by this node), wait until signalled, take lock again. */
void sm_cond_wait(sm_cond_t *cond, sm_lock_t *lock);
/* Wake one node waiting on cond (none: nothing happens). */
void sm_cond_signal(sm_cond_t *cond);
/* Wake every node waiting on cond. */
void sm_cond_broadcast(sm_cond_t *cond);

/*
 * Allocate size bytes of shared memory, collectively: every node calls it
 * with the same size, in the same order, and every node gets the same
 * address (zeroed, 16-byte aligned). Like a barrier, it returns when every
 * node has called it. NULL when the region is exhausted (on every node).
 * sm_malloc_collective(3)
 */
void *sm_malloc_collective(size_t size);

/*
 * Copy len bytes of the root's private memory at buf into buf on every other
 * node (buf must not point into shared memory). Every node calls it with the
 * same len and root; it is also a barrier. sm_bcast_buf(3)
 */
void sm_bcast_buf(void *buf, size_t len, int root);

/*
 * Transactions: update shared memory atomically without choosing locks.
 * Optimistic: a transaction's writes stay private to this node until its
 * commit, which succeeds only if nothing it read or wrote was taken by
 * another node meanwhile, and then makes them all visible at once; a failed
 * commit rolls them back and runs the transaction again from its
 * SM_TXN_BEGIN. Nested transactions are flattened into the outermost.
 * sm_txn(3)
 *
 *	sm_txn_t t;
 *	SM_TXN_BEGIN(&t);
 *	a->balance -= 10;
 *	b->balance += 10;
 *	sm_txn_commit(&t);
 *
 * The function that runs SM_TXN_BEGIN must not return before the
 * transaction ends (a restart jumps back into it), and locals it changes
 * inside the transaction must be volatile to be read after a restart.
 */
typedef struct {
	sigjmp_buf sm_env;
} sm_txn_t;

/* Begin a transaction; a restart comes back here. */
#define SM_TXN_BEGIN(t)                            \
	do {                                       \
		if (sigsetjmp((t)->sm_env, 1) != 0) \
			sm_txn_begin_((t), 1);      \
		else                               \
			sm_txn_begin_((t), 0);      \
	} while (0)

/* What SM_TXN_BEGIN calls (restarted: 1 after a rollback); not for programs. */
void sm_txn_begin_(sm_txn_t *t, int restarted);

/* sm_txn_commit's value when a nested level cancelled the transaction */
#define SM_TXN_CANCELLED 1

/*
 * Commit: 0 when committed (or, nested, when this level is closed); a
 * commit that fails does not return, the transaction runs again.
 * SM_TXN_CANCELLED when an inner level's sm_txn_cancel ended it.
 */
int sm_txn_commit(sm_txn_t *t);
/* Discard the transaction's writes and end it; the program goes on after the call. */
void sm_txn_cancel(sm_txn_t *t);
/* Discard the transaction's writes and run it again from SM_TXN_BEGIN. */
void sm_txn_retry(sm_txn_t *t) __attribute__((noreturn));

#ifdef __cplusplus
}
#endif

#endif /* SM_H */
