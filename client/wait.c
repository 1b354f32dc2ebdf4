/*
 * wait.c - waiting in libsm, whoever waits: a thread for the grants of its
 * fault, for another thread's fetch of the page it needs, for a free fault
 * slot, or for the reply to an API call.
 *
 * Leader and followers: the link has one reader at a time, the leader, the
 * first thread that had to wait. It reads and dispatches everything that
 * arrives (link.c), for everyone: a revoke is answered at once whoever it
 * concerns, a reply is stored in the thread that waits for it, which is
 * woken on its futex word. Followers sleep on their own word. When the
 * leader's own wait is over it passes the role to a thread still waiting,
 * or to nobody; then SIGIO's handler reads, in whichever thread the kernel
 * picks. The leader sleeps in sigwaitinfo() for SIGIO, which consumes the
 * signal the news raised, as the one thread of a node always did. SIGIO
 * goes to the process, so the kernel may hand it to another thread instead
 * (one computing, say): that thread's handler passes it on to the leader
 * (link.c), with tgkill.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>

#include "libsm.h"

static int self_of(const struct sm_thread *t)
{
	return (int)(t - sm__st.threads);
}

/*
 * Sleep until the link has news. SIGIO is blocked here, so waiting for it
 * consumes the signal the news raised (pending for the process, or passed
 * on to this thread by another's handler), and no handler runs for it
 * later. "The link is drained or a SIGIO is pending" holds throughout: the
 * leader drains it before it sleeps.
 */
static void wait_for_link(void)
{
	sigset_t io;

	if (SM_DEFERRED_SIGNALS) {
		/* the SIGIO may sit in another thread: wait for the data */
		struct pollfd p = {.fd = sm__st.fd, .events = POLLIN};

		while (poll(&p, 1, -1) < 0)
			if (errno != EINTR)
				sm__die("poll: ", strerror(errno), NULL);
		return;
	}
	sigemptyset(&io);
	sigaddset(&io, SIGIO);
	while (sigwaitinfo(&io, NULL) < 0)
		if (errno != EINTR)
			sm__die("sigwaitinfo: ", strerror(errno), NULL);
}

/* The leader's wait is over: the next thread still waiting leads. */
static void pass_on(struct sm_thread *me)
{
	uint32_t n = atomic_load(&sm__st.nthreads);

	atomic_store(&sm__st.leader, -1);
	for (uint32_t k = 0; k < n; k++) {
		struct sm_thread *t = &sm__st.threads[k];

		/* (one waiting for a transaction's end sleeps on its word only) */
		if (t != me && t->waiting != SM_WAIT_NONE && t->waiting != SM_WAIT_TXN && !t->done) {
			atomic_store(&sm__st.leader, (int)k);
			sm__wake(t);
			return;
		}
	}
}

void sm__wait(struct sm_thread *me)
{
	int idx = self_of(me);

	while (!me->done) {
		int l = atomic_load(&sm__st.leader);

		if (l < 0) {
			atomic_store(&sm__st.leader, idx);
			l = idx;
		}
		if (l == idx) {
			/* news whose SIGIO found the lock taken is read at once;
			 * where SIGIO may not be seen at all, everything is */
			if (SM_DEFERRED_SIGNALS) {
				sm__pump();
				if (me->done)
					break;
			}
			if (SM_DEFERRED_SIGNALS || !atomic_load(&sm__st.need_pump)) {
				sm__unlock();
				wait_for_link();
				sm__lock();
			}
			sm__pump();
		} else {
			uint32_t seen = atomic_load(&me->wake);

			sm__unlock();
			sm__futex_wait(&me->wake, seen);
			sm__lock();
		}
	}
	me->waiting = SM_WAIT_NONE;
	me->done = 0;
	if (atomic_load(&sm__st.leader) == idx)
		pass_on(me);
}

/* ---- who a message is for -------------------------------------------- */

struct sm_thread *sm__fault_by_seq(uint64_t seq)
{
	uint32_t n = atomic_load(&sm__st.nthreads);

	for (uint32_t k = 0; k < n; k++) {
		struct sm_thread *t = &sm__st.threads[k];

		if (t->waiting == SM_WAIT_FAULT && !t->done && t->fault_seq == seq)
			return t;
	}
	return NULL;
}

struct sm_thread *sm__fault_by_page(uint32_t page)
{
	uint32_t n = atomic_load(&sm__st.nthreads);

	for (uint32_t k = 0; k < n; k++) {
		struct sm_thread *t = &sm__st.threads[k];

		if (t->waiting == SM_WAIT_FAULT && !t->done &&
		    page - (uint32_t)t->fault_page < t->fault_count)
			return t;
	}
	return NULL;
}

struct sm_thread *sm__fetching(uint32_t page, int write)
{
	uint32_t n = atomic_load(&sm__st.nthreads);

	for (uint32_t k = 0; k < n; k++) {
		struct sm_thread *t = &sm__st.threads[k];

		if (t->waiting == SM_WAIT_FAULT && !t->done &&
		    page - (uint32_t)t->fault_page < t->fault_count && (t->fault_write || !write))
			return t;
	}
	return NULL;
}

/* Codes that answer a lock or condition call, not a collective. */
static int lock_error(uint64_t code)
{
	return code >= DSM_ERR_LOCK_OWNER_GONE && code <= DSM_ERR_SYNC_TABLE_FULL;
}

/* Codes that answer a collective (sm_barrier, sm_bcast, sm_bcast_buf,
 * sm_malloc_collective), not a plain call. */
static int collective_error(uint64_t code)
{
	return code >= DSM_ERR_BCAST_ROOT && code <= DSM_ERR_SIZE_MISMATCH;
}

/* Does thread t wait in a collective? (A collective allocation waits for
 * its CHUNK with tag 0, a plain one with its own tag.) */
static int in_collective(const struct sm_thread *t)
{
	return t->awaited_type == MSG_BARRIER_DONE || t->awaited_type == MSG_BCAST_DONE ||
	       t->awaited_type == MSG_BCAST_BUF_GO || (t->awaited_type == MSG_CHUNK && t->tag == 0);
}

/*
 * The thread whose call m answers: the oldest waiting for its type (calls
 * of one type are answered in the order they were sent: MALLOC and the
 * collectives are served in order), or for a LOCK_GRANT the one whose tag
 * it echoes in `page`. An ERROR answers, by its code, a lock call (by
 * tag, else the oldest), a collective, or any other call; a CHUNK answers
 * sm_malloc_collective or sm_malloc, as its flag says.
 */
struct sm_thread *sm__reply_owner(const struct msg *m)
{
	uint32_t n = atomic_load(&sm__st.nthreads);
	struct sm_thread *best = NULL, *any = NULL;
	int error = m->type == MSG_ERROR;

	for (uint32_t k = 0; k < n; k++) {
		struct sm_thread *t = &sm__st.threads[k];
		int locking;

		if (t->waiting != SM_WAIT_REPLY || t->done)
			continue;
		if (!any || t->order < any->order)
			any = t;
		locking = t->awaited_type == MSG_LOCK_GRANT;
		if (error ? locking != lock_error(m->arg) ||
				    (!locking && in_collective(t) != collective_error(m->arg))
			  : t->awaited_type != m->type)
			continue;
		/* sm_malloc and sm_malloc_collective both wait for a CHUNK: the
		 * flag tells which one it answers */
		if (m->type == MSG_CHUNK && ((m->flags & MSGF_COLLECTIVE) != 0) != (t->tag == 0))
			continue;
		if (locking && t->tag == m->page)
			return t;
		if (m->type == MSG_LOCK_GRANT)
			continue; /* a grant names its thread */
		if (!best || t->order < best->order)
			best = t;
	}
	return best ? best : error ? any : NULL;
}

void sm__fault_over(struct sm_thread *t)
{
	uint32_t n = atomic_load(&sm__st.nthreads);

	t->done = 1;
	sm__st.faults_out--;
	sm__wake(t);
	for (uint32_t k = 0; k < n; k++) {
		struct sm_thread *u = &sm__st.threads[k];
		uint32_t page = (uint32_t)u->fault_page;

		if (u->done)
			continue;
		if (u->waiting == SM_WAIT_FOLLOW && page - (uint32_t)t->fault_page < t->fault_count) {
			/* it holds the page from now on, as its fetcher does */
			if (sm__st.holds_pages && sm__st.access[page] >= (u->fault_write ? PA_WRITE
											 : PA_READ))
				sm__hold_page(u, page);
		} else if (u->waiting != SM_WAIT_SLOT) {
			continue;
		}
		u->done = 1;
		sm__wake(u);
	}
}

/* ---- calls ------------------------------------------------------------ */

static int collective(const struct msg *m)
{
	return m->type == MSG_BARRIER || m->type == MSG_BCAST || m->type == MSG_BCAST_BUF ||
	       (m->type == MSG_MALLOC && (m->flags & MSGF_COLLECTIVE));
}

/* Collectives are among nodes: one thread per node calls them. */
static void one_collective_at_a_time(const struct msg *m)
{
	uint32_t n = atomic_load(&sm__st.nthreads);

	if (!collective(m))
		return;
	for (uint32_t k = 0; k < n; k++) {
		struct sm_thread *t = &sm__st.threads[k];

		if (t->waiting == SM_WAIT_REPLY && !t->done && in_collective(t))
			sm__die("two threads of this node are in collectives at once (", msg_type_name(m->type),
				" and the reply ", msg_type_name(t->awaited_type),
				"): sm_barrier, sm_bcast and the other collectives are called by one "
				"thread per node (see sm(3), Threads)", NULL);
	}
}

uint32_t sm__tag(void)
{
	struct sm_thread *me = sm__self();

	if (!me)
		sm__die("no slot for this thread", NULL);
	return (uint32_t)self_of(me) + 1;
}

void sm__request_payload(const struct msg *m, const void *payload, uint8_t reply_type,
			 struct msg *reply)
{
	struct msg out = *m;
	struct sm_thread *me;
	sigset_t old;

	sm__block_sigio(&old);
	me = sm__self();
	if (!me)
		sm__die(msg_type_name(m->type), ": no slot for this thread", NULL);
	sm__lock();
	/* the instruction that last faulted in this thread has long run */
	sm__hold_end(me);
	one_collective_at_a_time(m);
	me->waiting = SM_WAIT_REPLY;
	me->done = 0;
	me->awaited_type = reply_type;
	me->order = ++sm__st.next_order;
	/* a collective allocation waits with tag 0: seen as a collective */
	me->tag = collective(m) ? 0 : (uint32_t)self_of(me) + 1;
	if ((out.type == MSG_LOCK || out.type == MSG_COND_WAIT) && out.page == 0)
		out.page = me->tag; /* echoed in the LOCK_GRANT */
	else if (out.type == MSG_LOCK || out.type == MSG_COND_WAIT)
		me->tag = out.page;
	sm__send_held(&out, payload);
	sm__wait(me);
	*reply = me->reply;
	me->awaited_type = MSG_NONE;
	sm__release();
	sm__restore_sigmask(&old);
}

void sm__wait_for(uint8_t type, int (*over)(void))
{
	struct sm_thread *me = sm__self();
	sigset_t old;

	if (!me)
		sm__die("no slot for this thread", NULL);
	sm__block_sigio(&old);
	sm__lock();
	if (over()) {
		sm__release();
		sm__restore_sigmask(&old);
		return;
	}
	me->waiting = SM_WAIT_REPLY;
	me->done = 0;
	me->awaited_type = type;
	me->order = ++sm__st.next_order;
	me->tag = 0;
	sm__wait(me);
	me->awaited_type = MSG_NONE;
	sm__release();
	sm__restore_sigmask(&old);
}

void sm__request(const struct msg *m, uint8_t reply_type, struct msg *reply)
{
	sm__request_payload(m, NULL, reply_type, reply);
}
