/*
 * sync.c - sm_barrier and sm_bcast, both served by the allocator, and what a
 * node says when the allocator refuses a collective. While a node waits here
 * it keeps answering revokes and invalidations.
 */
#include <stdio.h>
#include <stdlib.h>

#include "libsm.h"
#include "sm.h"


/* The allocator refused the collective: say why and end this node. */
void sm__collective_failed(const char *call, const struct msg *e, int root)
{
	char a[24];

	switch (e->arg) {
	case DSM_ERR_COLLECTIVE_MISMATCH:
		sm__say(call, ": other nodes are in a different collective (sm_barrier, "
			"sm_bcast, sm_bcast_buf and sm_malloc_collective must be called in the "
			"same order on every node)", NULL);
		break;
	case DSM_ERR_BCAST_MISMATCH:
		sm__say(call, ": nodes disagree on the root (this node gave ",
			sm__fmt_u64(a, (uint64_t)root), ")", NULL);
		break;
	case DSM_ERR_BCAST_ROOT:
		sm__say(call, ": root ", sm__fmt_u64(a, e->node),
			" has left the job (sm_node_exit)", NULL);
		break;
	default:
		sm__say(call, ": refused by dsm (error ", sm__fmt_u64(a, e->arg), ")", NULL);
	}
	exit(1);
}

SM_API void sm_barrier(void)
{
	struct msg m = {.type = MSG_BARRIER};
	struct msg reply;

	if (!sm__st.joined || sm__st.exited)
		return;
	sm__caller_check("sm_barrier", 0);
	sm__txn_forbid("sm_barrier");
	sm__request(&m, MSG_BARRIER_DONE, &reply);
	if (reply.type == MSG_ERROR)
		sm__collective_failed("sm_barrier", &reply, -1);
}

SM_API void sm_bcast(void **addr, int root_nid)
{
	struct msg m = {.type = MSG_BCAST};
	struct msg reply;

	if (!sm__st.joined || sm__st.exited)
		return;
	sm__caller_check("sm_bcast", 0);
	sm__txn_forbid("sm_bcast");
	if (root_nid < 0 || (uint32_t)root_nid >= sm__st.nnodes) {
		fprintf(stderr, "dsm: node %u: sm_bcast: root %d is not a node id (0..%u)\n",
			sm__st.nid, root_nid, sm__st.nnodes - 1);
		exit(1);
	}
	if (!addr) {
		fprintf(stderr, "dsm: node %u: sm_bcast: addr is NULL\n", sm__st.nid);
		exit(1);
	}
	m.node = (uint32_t)root_nid;
	if ((uint32_t)root_nid == sm__st.nid)
		m.arg = (uint64_t)(uintptr_t)*addr; /* may fault: before blocking SIGIO */
	sm__request(&m, MSG_BCAST_DONE, &reply);
	if (reply.type == MSG_ERROR)
		sm__collective_failed("sm_bcast", &reply, root_nid);
	if ((uint32_t)root_nid != sm__st.nid)
		*addr = (void *)(uintptr_t)reply.arg;
}
