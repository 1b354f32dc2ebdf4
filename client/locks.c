/*
 * locks.c - sm_lock, sm_trylock, sm_unlock and sm_cond_wait, sm_cond_signal,
 * sm_cond_broadcast: requests to the node's proxy, which serves them against
 * the job's lock table (allocator/locks/). A lock or condition is named by
 * its address; its bytes are never read or written, so taking a lock moves
 * no page. Taking a free lock is one round trip (the node keeps answering
 * revokes meanwhile, sm__request); unlocking and signalling are one message
 * each, sent at once and not waited for.
 *
 * Misuse is reported here, in the caller, before anything is sent: an
 * address outside the region or not 8-byte aligned, unlocking a lock this
 * node does not hold, locking one it holds, waiting without the lock
 * (heldlocks.c keeps the set of locks held), and any call outside the job.
 * Each, like an error dsm answers with, prints "dsm: node K: CALL: ..." and
 * ends the node with exit(1).
 */
#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libsm.h"
#include "sm.h"

/* Say why call failed on the lock or condition (what) at addr, and exit(1).
 * node: the node an error from dsm names. */
static void refuse(const char *call, const char *what, enum dsm_error code, uint64_t addr,
		   uint32_t node) __attribute__((noreturn));
static void refuse(const char *call, const char *what, enum dsm_error code, uint64_t addr,
		   uint32_t node)
{
	char a[24], k[24];

	switch (code) {
	case DSM_ERR_LOCK_OWNER_GONE:
		sm__say(call, ": the lock at ", sm__fmt_hex(a, addr), " was held by node ",
			sm__fmt_u64(k, node), ", which left the job without unlocking it", NULL);
		break;
	case DSM_ERR_NOT_LOCK_HOLDER:
		sm__say(call, ": the lock at ", sm__fmt_hex(a, addr), " is not held by this node",
			NULL);
		break;
	case DSM_ERR_LOCK_RELOCK:
		sm__say(call, ": the lock at ", sm__fmt_hex(a, addr),
			" is already held by this node (locking it again would wait for ever)",
			NULL);
		break;
	case DSM_ERR_SYNC_ADDRESS: /* libsm checks first: only dsm's own check */
		sm__say(call, ": the ", what, " at ", sm__fmt_hex(a, addr),
			" is outside the shared region or not 8-byte aligned", NULL);
		break;
	case DSM_ERR_SYNC_TABLE_FULL:
		sm__say(call, ": dsm's lock table is full (too many locks held or waited for "
			"at once)", NULL);
		break;
	default:
		sm__say(call, ": refused by dsm (error ", sm__fmt_u64(k, code), ")", NULL);
	}
	exit(1);
}

/* Every call: a node in the job, from its own thread and process. */
static void enter(const char *call)
{
	if (!sm__st.joined) {
		fprintf(stderr, "dsm: %s called before sm_node_init\n", call);
		exit(1);
	}
	sm__caller_check(call, 0);
	sm__txn_forbid(call);
	if (sm__st.exited) {
		sm__say(call, " called after sm_node_exit: this node has left the job", NULL);
		exit(1);
	}
}

/* The address of an sm_lock_t or sm_cond_t, which must lie in the region. */
static uint64_t address(const char *call, const char *what, const void *p)
{
	uintptr_t a = (uintptr_t)p, base = (uintptr_t)sm__st.base;
	char hex[24];

	if (a < base || a - base > sm__st.size - sizeof(uint64_t)) {
		sm__say(call, ": the ", what, " at ", sm__fmt_hex(hex, a),
			" is outside the shared region (an sm_", what[0] == 'l' ? "lock_t" : "cond_t",
			" must live in memory from sm_malloc)", NULL);
		exit(1);
	}
	if (a % sizeof(uint64_t)) {
		sm__say(call, ": the ", what, " at ", sm__fmt_hex(hex, a),
			" is not 8-byte aligned", NULL);
		exit(1);
	}
	return a;
}

/* Send a LOCK or COND_WAIT and wait for the lock's LOCK_GRANT; 1 when
 * granted, 0 when a try found it held (BUSY). */
static int take(const char *call, struct msg *m, uint64_t lock)
{
	struct msg reply;
	uint64_t le = htole64(lock);

	if (m->type == MSG_COND_WAIT)
		m->length = sizeof(le);
	m->page = sm__tag(); /* the thread: the allocator echoes it in LOCK_GRANT */
	sm__request_payload(m, m->length ? &le : NULL, MSG_LOCK_GRANT, &reply);
	if (reply.type == MSG_ERROR)
		refuse(call, m->type == MSG_COND_WAIT && reply.arg == DSM_ERR_SYNC_ADDRESS ?
			     "condition" : "lock", (enum dsm_error)reply.arg,
		       reply.arg == DSM_ERR_SYNC_ADDRESS ? m->arg : lock, reply.node);
	if (reply.arg != lock || reply.page != m->page ||
	    ((reply.flags & MSGF_BUSY) && !(m->flags & MSGF_TRY)))
		sm__die(call, ": dsm answered with a grant of another lock", NULL);
	if (reply.flags & MSGF_BUSY)
		return 0;
	sm__held_add(lock);
	return 1;
}

SM_API void sm_lock(sm_lock_t *lock)
{
	struct msg m = {.type = MSG_LOCK};

	enter("sm_lock");
	m.arg = address("sm_lock", "lock", lock);
	if (sm__held_has(m.arg))
		refuse("sm_lock", "lock", DSM_ERR_LOCK_RELOCK, m.arg, 0);
	take("sm_lock", &m, m.arg);
}

SM_API int sm_trylock(sm_lock_t *lock)
{
	struct msg m = {.type = MSG_LOCK, .flags = MSGF_TRY};

	enter("sm_trylock");
	m.arg = address("sm_trylock", "lock", lock);
	if (sm__held_has(m.arg))
		refuse("sm_trylock", "lock", DSM_ERR_LOCK_RELOCK, m.arg, 0);
	return take("sm_trylock", &m, m.arg) ? 0 : -1;
}

/* UNLOCK or COND_SIGNAL: one message, at once (what is queued goes first,
 * sm__send), not waited for */
static void post(const struct msg *m)
{
	sigset_t old;

	sm__block_sigio(&old);
	sm__send(m, NULL);
	sm__restore_sigmask(&old);
}

SM_API void sm_unlock(sm_lock_t *lock)
{
	struct msg m = {.type = MSG_UNLOCK, .page = sm__tag()};

	enter("sm_unlock");
	m.arg = address("sm_unlock", "lock", lock);
	if (!sm__held_has(m.arg))
		refuse("sm_unlock", "lock", DSM_ERR_NOT_LOCK_HOLDER, m.arg, 0);
	sm__held_remove(m.arg);
	post(&m);
}

SM_API void sm_cond_wait(sm_cond_t *cond, sm_lock_t *lock)
{
	struct msg m = {.type = MSG_COND_WAIT};
	uint64_t l;

	enter("sm_cond_wait");
	m.arg = address("sm_cond_wait", "condition", cond);
	l = address("sm_cond_wait", "lock", lock);
	if (!sm__held_has(l))
		refuse("sm_cond_wait", "lock", DSM_ERR_NOT_LOCK_HOLDER, l, 0);
	/* the proxy releases it, and answers once it is this node's again */
	sm__held_remove(l);
	take("sm_cond_wait", &m, l);
}

static void signal_cond(const char *call, sm_cond_t *cond, uint8_t flags)
{
	struct msg m = {.type = MSG_COND_SIGNAL, .flags = flags};

	enter(call);
	m.arg = address(call, "condition", cond);
	post(&m);
}

SM_API void sm_cond_signal(sm_cond_t *cond)
{
	signal_cond("sm_cond_signal", cond, 0);
}

SM_API void sm_cond_broadcast(sm_cond_t *cond)
{
	signal_cond("sm_cond_broadcast", cond, MSGF_ALL);
}
