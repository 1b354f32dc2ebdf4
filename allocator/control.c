/*
 * control.c - the allocator's control channel: what the proxies forward and
 * report (see control.h), one dispatch table. A message that the table does
 * not accept, or not in the node's current state, or that does not decode,
 * is fatal for that link: one message naming the proxy, the type and the
 * state, and the job ends, as when a proxy fails.
 */
#include "control.h"

#include <stdlib.h>
#include <unistd.h>

#include "../common/dispatch.h"
#include "job.h"
#include "jobstatus.h"
#include "util.h"

static const char *const state_names[CONTROL_STATES] = {
	[CONTROL_IN_JOB] = "IN_JOB",
	[CONTROL_LEFT] = "LEFT",
	[CONTROL_LINK_LOST] = "LINK_LOST",
};

static int on_malloc(void *ctx, const struct msg *m, const uint8_t *payload, const char **why)
{
	struct control_link *c = ctx;

	(void)payload;
	(void)why;
	if (m->flags & MSGF_COLLECTIVE)
		services_arrive(c->svc, c->node, COLL_MALLOC, m); /* sm_malloc_collective */
	else
		services_malloc(c->svc, c->node, m->arg);
	return 0;
}

static int on_barrier(void *ctx, const struct msg *m, const uint8_t *payload, const char **why)
{
	struct control_link *c = ctx;

	(void)payload;
	(void)why;
	services_arrive(c->svc, c->node, COLL_BARRIER, m);
	return 0;
}

static int on_bcast(void *ctx, const struct msg *m, const uint8_t *payload, const char **why)
{
	struct control_link *c = ctx;

	(void)payload;
	(void)why;
	services_arrive(c->svc, c->node, COLL_BCAST, m);
	return 0;
}

static int on_bcast_buf(void *ctx, const struct msg *m, const uint8_t *payload, const char **why)
{
	struct control_link *c = ctx;

	(void)payload;
	(void)why;
	services_arrive(c->svc, c->node, COLL_BCAST_BUF, m);
	return 0;
}

static int on_exit_msg(void *ctx, const struct msg *m, const uint8_t *payload, const char **why)
{
	struct control_link *c = ctx;

	(void)m;
	(void)payload;
	(void)why;
	services_leave(c->svc, c->node);
	c->state = CONTROL_LEFT;
	return 0;
}

/* Judged when the node's process is reaped (jobstatus.c), unless the node
 * was cut off for not reading; arg: when it closed. */
static int on_link_lost(void *ctx, const struct msg *m, const uint8_t *payload, const char **why)
{
	struct control_link *c = ctx;

	(void)payload;
	(void)why;
	job_link_lost(c->job, c->node, m->arg);
	c->state = CONTROL_LINK_LOST;
	/* a writer cut it off (pages.h): it will not end by itself */
	if (node_stopped_reading(c->svc->pt, c->node) && !c->job->ending) {
		report("node %u stopped reading its link (its socket buffer stayed full for %d s); "
		       "ending the job", c->node, NODE_STALL_SECONDS);
		job_end(c->job, 1);
	}
	return 0;
}

#define IN_JOB DISPATCH_STATE(CONTROL_IN_JOB)

/* After EXIT or LINK_LOST a proxy has nothing more to say: no row allows it. */
static const struct dispatch_row rows[] = {
	{MSG_MALLOC, IN_JOB, on_malloc},
	{MSG_BARRIER, IN_JOB, on_barrier},
	{MSG_BCAST, IN_JOB, on_bcast},
	{MSG_BCAST_BUF, IN_JOB, on_bcast_buf},
	{MSG_EXIT, IN_JOB, on_exit_msg},
	{MSG_LINK_LOST, IN_JOB, on_link_lost},
};

static const struct dispatch_table table = {
	.receiver = "allocator",
	.rows = rows,
	.nrows = sizeof(rows) / sizeof(rows[0]),
	.state_names = state_names,
	.nstates = CONTROL_STATES,
};

static void close_link(struct control_link *c)
{
	ev_del(c->loop, c->fd);
	close(c->fd);
	c->fd = -1;
}

static void refuse(struct control_link *c, const char *what, const char *why)
{
	report("proxy for node %u sent %s in state %s: %s", c->node, what,
	       dispatch_state_name(&table, c->state), why);
	close_link(c);
	job_end(c->job, 1);
}

static void on_readable(struct ev_loop *loop, int fd, void *ctx)
{
	struct control_link *c = ctx;
	struct msg m;
	const uint8_t *payload;
	const char *why;
	enum decode_result d;
	enum fill_result f = wire_fill(&c->reader);

	(void)loop;
	(void)fd;
	while ((d = wire_next(&c->reader, &m, &payload, &why)) == DECODE_OK) {
		if (dispatch_message(&table, c->state, c, &m, payload, &why) != DISPATCH_OK) {
			refuse(c, msg_type_name(m.type), why);
			return;
		}
	}
	if (d == DECODE_BAD)
		refuse(c, "a malformed message", why);
	else if (f == FILL_EOF || f == FILL_ERROR)
		close_link(c);
}

struct control_link *control_new(uint32_t nnodes, struct job *j, struct services *svc,
				 struct ev_loop *loop)
{
	struct control_link *links = calloc(nnodes ? nnodes : 1, sizeof(*links));

	if (!links)
		return NULL;
	for (uint32_t i = 0; i < nnodes; i++) {
		links[i].job = j;
		links[i].svc = svc;
		links[i].loop = loop;
		links[i].node = i;
		links[i].fd = -1;
		links[i].state = CONTROL_IN_JOB;
	}
	return links;
}

int control_open(struct control_link *c, int fd)
{
	c->fd = fd;
	wire_reader_init(&c->reader, fd, FROM_PROXY, c->buf, sizeof(c->buf));
	return ev_add(c->loop, fd, on_readable, c);
}

void control_free(struct control_link *links, uint32_t nnodes)
{
	if (!links)
		return;
	for (uint32_t i = 0; i < nnodes; i++)
		if (links[i].fd >= 0)
			close_link(&links[i]);
	free(links);
}
