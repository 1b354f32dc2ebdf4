/*
 * services.c - sm_malloc, the collectives (sm_barrier, sm_bcast,
 * sm_malloc_collective, sm_bcast_buf) and node exits, served by the
 * allocator (see services.h).
 */
#include "services.h"

#include <stdlib.h>
#include <string.h>

#include "joblog.h"
#include "util.h"

int services_init(struct services *s, struct pagetable *pt, struct coherence_io *io)
{
	memset(s, 0, sizeof(*s));
	s->pt = pt;
	s->io = io;
	s->nnodes = s->live = pt->nnodes;
	s->in_job = malloc(pt->nnodes);
	s->arrived = calloc(pt->nnodes, 1);
	s->arrived_at = calloc(pt->nnodes, sizeof(*s->arrived_at));
	s->asked = calloc(pt->nnodes, sizeof(*s->asked));
	if (!s->in_job || !s->arrived || !s->arrived_at || !s->asked)
		return -1;
	memset(s->in_job, 1, pt->nnodes);
	s->root = -1;
	return 0;
}

void services_free(struct services *s)
{
	free(s->in_job);
	free(s->arrived);
	free(s->arrived_at);
	free(s->asked);
}

uint32_t arena_take(uint32_t *next_page, uint32_t npages, uint64_t bytes, uint32_t *first)
{
	uint64_t need = bytes / DSM_PAGE_SIZE + (bytes % DSM_PAGE_SIZE != 0); /* no overflow */
	uint64_t left = npages - *next_page;
	uint64_t give;

	if (need == 0)
		need = 1;
	if (need > left)
		return 0;
	give = need < CHUNK_PAGES ? CHUNK_PAGES : need;
	if (give > left)
		give = need;
	*first = *next_page;
	*next_page += (uint32_t)give;
	return (uint32_t)give;
}

void services_malloc(struct services *s, uint32_t node, uint64_t bytes)
{
	uint64_t t0 = mono_us();
	uint32_t first = 0, count = arena_take(&s->next_page, s->pt->npages, bytes, &first);

	if (count == 0) {
		struct msg m = {.type = MSG_CHUNK, .arg = 0};

		s->io->send(s->io, node, &m, NULL);
		joblog_write(node, LOG_MALLOC_FAILED, -1, -1, (int64_t)(mono_us() - t0));
		return;
	}
	/* large allocations are placed where they are first touched (alone,
	 * a node would only fault to claim what it may have at once) */
	coh_grant_chunk(s->pt, s->io, node, first, count,
			s->nnodes > 1 && bytes > (uint64_t)DSM_FIRST_TOUCH_PAGES * DSM_PAGE_SIZE);
	joblog_write(node, LOG_MALLOC, first, -1, (int64_t)(mono_us() - t0));
}

uint64_t coll_arena_take(struct services *s, uint64_t bytes, uint32_t *first, uint32_t *count)
{
	uint64_t region = (uint64_t)s->pt->npages * DSM_PAGE_SIZE, need;

	*count = 0;
	if (bytes > region)
		return UINT64_MAX; /* (and rounding it up cannot overflow below) */
	bytes = bytes ? (bytes + COLL_ALIGN - 1) / COLL_ALIGN * COLL_ALIGN : COLL_ALIGN;
	need = (bytes + DSM_PAGE_SIZE - 1) / DSM_PAGE_SIZE;
	if (need > DSM_FIRST_TOUCH_PAGES) {
		/* its own pages, exactly: nothing is carved after it */
		if (need > s->pt->npages - s->next_page)
			return UINT64_MAX;
		*first = s->next_page;
		*count = (uint32_t)need;
		s->next_page += (uint32_t)need;
		return (uint64_t)*first * DSM_PAGE_SIZE;
	}
	if (bytes > s->coll_end - s->coll_next) {
		/* a new chunk; what the old one had left is not used again */
		*count = arena_take(&s->next_page, s->pt->npages, bytes, first);
		if (*count == 0)
			return UINT64_MAX;
		s->coll_next = (uint64_t)*first * DSM_PAGE_SIZE;
		s->coll_end = s->coll_next + (uint64_t)*count * DSM_PAGE_SIZE;
	}
	s->coll_next += bytes;
	return s->coll_next - bytes;
}

/* Answer node n, waiting in the collective; log and count how long it waited. */
static void answer(struct services *s, uint32_t n, const struct msg *m, enum log_action what,
		   int64_t page, int64_t peer)
{
	uint64_t now = mono_us();

	s->io->send(s->io, n, m, NULL);
	atomic_fetch_add(&s->pt->nodes[n].stats.barrier_wait_us, now - s->arrived_at[n]);
	joblog_write(n, m->type == MSG_ERROR ? LOG_COLLECTIVE_FAILED : what,
		     m->type == MSG_ERROR ? -1 : page, peer, (int64_t)(now - s->arrived_at[n]));
}

/* The peer column of a collective's log lines: the root, if it has one. */
static int64_t log_peer(const struct services *s)
{
	return s->kind == COLL_BCAST || s->kind == COLL_BCAST_BUF ? s->root : -1;
}

/* Answer every waiting node with m. */
static void send_all_arrived(struct services *s, const struct msg *m, enum log_action what)
{
	for (uint32_t n = 0; n < s->nnodes; n++)
		if (s->arrived[n])
			answer(s, n, m, what, -1, log_peer(s));
}

static void reset_collective(struct services *s)
{
	memset(s->arrived, 0, s->nnodes);
	s->arrivals = 0;
	s->kind = COLL_NONE;
	s->root = -1;
	s->root_mismatch = 0;
	s->root_arrived = 0;
	s->value = 0;
}

static void fail_collective(struct services *s, uint32_t code, uint32_t detail)
{
	struct msg m = {.type = MSG_ERROR, .arg = code, .node = detail};

	send_all_arrived(s, &m, LOG_COLLECTIVE_FAILED);
	reset_collective(s);
}

/*
 * The waiting nodes gave different sizes (lengths): each gets ERROR
 * SIZE_MISMATCH naming a node that gave another size than its own (the
 * lowest such node) and that size (UINT32_MAX when it does not fit), so
 * each can say what it asked for and what another node did. 1 if they
 * disagree (and were answered), 0 if they agree.
 */
static int sizes_disagree(struct services *s)
{
	int disagree = 0;

	for (uint32_t n = 0; n < s->nnodes; n++) {
		struct msg m = {.type = MSG_ERROR, .arg = DSM_ERR_SIZE_MISMATCH};
		uint32_t k = 0;

		if (!s->arrived[n])
			continue;
		while (k < s->nnodes && (!s->arrived[k] || s->asked[k] == s->asked[n]))
			k++;
		if (k == s->nnodes)
			continue; /* all agree with n; then all agree */
		disagree = 1;
		m.node = k;
		m.page = s->asked[k] < UINT32_MAX ? (uint32_t)s->asked[k] : UINT32_MAX;
		answer(s, n, &m, LOG_COLLECTIVE_FAILED, -1, -1);
	}
	if (disagree)
		reset_collective(s);
	return disagree;
}

/*
 * sm_malloc_collective: every node asked for the same size; carve it and give
 * every node its address (CHUNK COLLECTIVE; address 0: exhausted). In a job
 * of several nodes new pages are fresh: nobody's until first touched, so
 * there is nothing any node must hear before its CHUNK. In a job of one they
 * are the node's at once (faulting to claim them would only cost time).
 */
static void malloc_collective(struct services *s, uint64_t bytes)
{
	struct msg m = {.type = MSG_CHUNK, .flags = MSGF_COLLECTIVE};
	uint32_t first = 0, count = 0;
	uint64_t off = coll_arena_take(s, bytes, &first, &count);

	if (off == UINT64_MAX) {
		send_all_arrived(s, &m, LOG_MALLOC_FAILED);
		return;
	}
	m.arg = s->pt->base + off;
	m.page = count;
	if (s->nnodes > 1)
		m.flags |= MSGF_FRESH;
	if (count)
		coh_hand_out(s->pt, s->io, first, count, s->nnodes > 1 ? PT_NONE : 0, 0, NULL);
	for (uint32_t n = 0; n < s->nnodes; n++)
		if (s->arrived[n])
			answer(s, n, &m, LOG_MALLOC_COLLECTIVE, (int64_t)(off / DSM_PAGE_SIZE), -1);
}

/*
 * sm_bcast_buf: everyone agrees. GO to every node but the root first, then
 * the root's allowance, then the root's GO: a BCAST_DATA its proxy forwards
 * always follows the receiver's GO in the receiver's link, and the root's
 * proxy forwards nothing no GO allowed.
 */
static void bcast_buf_go(struct services *s, uint64_t len)
{
	struct msg m = {.type = MSG_BCAST_BUF_GO, .arg = len};
	uint32_t root = (uint32_t)s->root;

	for (uint32_t n = 0; n < s->nnodes; n++)
		if (s->arrived[n] && n != root)
			answer(s, n, &m, LOG_BCAST_BUF, -1, root);
	node_bcast_allow(s->pt, root, len);
	answer(s, root, &m, LOG_BCAST_BUF, -1, root);
}

/* Complete the collective if every node still in the job has arrived. */
static void maybe_complete(struct services *s)
{
	struct msg m = {0};

	if (s->kind == COLL_NONE || s->arrivals < s->live)
		return;
	switch (s->kind) {
	case COLL_BARRIER:
		m.type = MSG_BARRIER_DONE;
		send_all_arrived(s, &m, LOG_BARRIER);
		break;
	case COLL_MALLOC:
		if (sizes_disagree(s))
			return;
		for (uint32_t n = 0; n < s->nnodes; n++)
			if (s->arrived[n]) {
				malloc_collective(s, s->asked[n]);
				break;
			}
		break;
	case COLL_BCAST:
	case COLL_BCAST_BUF:
		if (s->root_mismatch) {
			fail_collective(s, DSM_ERR_BCAST_MISMATCH, (uint32_t)s->root);
			return;
		}
		if (!s->root_arrived) {
			fail_collective(s, DSM_ERR_BCAST_ROOT, (uint32_t)s->root);
			return;
		}
		if (s->kind == COLL_BCAST) {
			m.type = MSG_BCAST_DONE;
			m.arg = s->value;
			send_all_arrived(s, &m, LOG_BCAST);
		} else if (!sizes_disagree(s)) {
			bcast_buf_go(s, s->asked[s->root]);
		} else {
			return;
		}
		break;
	case COLL_NONE:
		return;
	}
	reset_collective(s);
}

void services_arrive(struct services *s, uint32_t node, enum collective_kind kind,
		     const struct msg *m)
{
	if (s->arrived[node])
		return; /* cannot happen with libsm: one call at a time */
	if (s->kind != COLL_NONE && s->kind != kind) {
		s->arrived[node] = 1;
		s->arrived_at[node] = mono_us();
		fail_collective(s, DSM_ERR_COLLECTIVE_MISMATCH, node);
		return;
	}
	s->kind = kind;
	s->arrived[node] = 1;
	s->arrived_at[node] = mono_us();
	s->arrivals++;
	s->asked[node] = m->arg;
	if (kind == COLL_BCAST || kind == COLL_BCAST_BUF) {
		if (s->root == -1)
			s->root = (int32_t)m->node;
		else if (s->root != (int32_t)m->node)
			s->root_mismatch = 1;
		if (m->node == node) {
			s->root_arrived = 1;
			s->value = m->arg;
		}
	}
	maybe_complete(s);
}

/* A node left with sm_node_exit: collectives stop waiting for it. */
void services_leave(struct services *s, uint32_t node)
{
	if (s->in_job[node])
		joblog_write(node, LOG_EXIT, -1, -1, -1);
	services_gone(s, node);
}

void services_gone(struct services *s, uint32_t node)
{
	if (!s->in_job[node])
		return;
	s->in_job[node] = 0;
	s->live--;
	if (s->arrived[node]) {
		s->arrived[node] = 0;
		s->arrivals--;
		/* a root that is gone sends nothing (libsm's never leaves while
		 * it waits, a node that breaks the protocol might) */
		if (s->root == (int32_t)node)
			s->root_arrived = 0;
	}
	maybe_complete(s);
}
