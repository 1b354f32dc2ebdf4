/*
 * services.c - sm_malloc, sm_barrier, sm_bcast and node exits, served by the
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
	if (!s->in_job || !s->arrived || !s->arrived_at)
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

/* Answer every waiting node; log and count how long each waited. */
static void send_all_arrived(struct services *s, const struct msg *m)
{
	enum log_action what = s->kind == COLL_BCAST ? LOG_BCAST : LOG_BARRIER;
	uint64_t now = mono_us();

	for (uint32_t n = 0; n < s->nnodes; n++) {
		if (!s->arrived[n])
			continue;
		s->io->send(s->io, n, m, NULL);
		atomic_fetch_add(&s->pt->nodes[n].stats.barrier_wait_us, now - s->arrived_at[n]);
		joblog_write(n, m->type == MSG_ERROR ? LOG_COLLECTIVE_FAILED : what, -1,
			     s->kind == COLL_BCAST ? s->root : -1, (int64_t)(now - s->arrived_at[n]));
	}
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

	send_all_arrived(s, &m);
	reset_collective(s);
}

/* Complete the collective if every node still in the job has arrived. */
static void maybe_complete(struct services *s)
{
	struct msg m = {0};

	if (s->kind == COLL_NONE || s->arrivals < s->live)
		return;
	if (s->kind == COLL_BARRIER) {
		m.type = MSG_BARRIER_DONE;
	} else if (s->root_mismatch) {
		fail_collective(s, DSM_ERR_BCAST_MISMATCH, (uint32_t)s->root);
		return;
	} else if (!s->root_arrived) {
		fail_collective(s, DSM_ERR_BCAST_ROOT, (uint32_t)s->root);
		return;
	} else {
		m.type = MSG_BCAST_DONE;
		m.arg = s->value;
	}
	send_all_arrived(s, &m);
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
	if (kind == COLL_BCAST) {
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
	}
	maybe_complete(s);
}
