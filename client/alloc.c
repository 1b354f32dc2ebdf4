/*
 * alloc.c - sm_malloc: bump allocation inside chunks the allocator hands out.
 *
 * Small requests are carved from this node's current chunk without any
 * message; only when it runs out does the node ask the allocator for a new
 * chunk (MSG_MALLOC -> MSG_CHUNK). Pages of a fresh chunk arrive writable at
 * this node, so first writes do not fault. Requests larger than half a chunk
 * get pages of their own, contiguous, and leave the current chunk in use.
 */
#include <stdint.h>

#include "libsm.h"
#include "sm.h"

#define ALIGNMENT 16u
#define LARGE (8u * DSM_PAGE_SIZE)

static uint8_t *chunk_next, *chunk_end;

/* Ask the allocator for at least `bytes`; NULL when the region is exhausted. */
static uint8_t *request_chunk(uint64_t bytes, uint8_t **end)
{
	sigset_t old;
	struct msg m = {.type = MSG_MALLOC, .arg = bytes};
	struct msg reply;
	uint8_t *start = NULL;

	sm__caller_check("sm_malloc", 0);
	/* the chunk's pages are marked ours before any revoke of them is served */
	sm__block_sigio(&old);
	sm__request(&m, MSG_CHUNK, &reply);
	if (reply.flags & MSGF_COLLECTIVE)
		sm__die("dsm answered sm_malloc with a chunk for sm_malloc_collective", NULL);
	if (reply.arg != 0) {
		uint64_t first = (reply.arg - (uintptr_t)sm__st.base) / DSM_PAGE_SIZE;

		if (reply.arg < (uintptr_t)sm__st.base || reply.arg % DSM_PAGE_SIZE ||
		    first + reply.page > sm__st.npages || reply.page == 0)
			sm__die("dsm answered sm_malloc with a chunk outside the region", NULL);
		sm__region_chunk((uint32_t)first, reply.page, reply.flags & MSGF_FRESH);
		start = (uint8_t *)(uintptr_t)reply.arg;
		*end = start + (size_t)reply.page * DSM_PAGE_SIZE;
	}
	sm__restore_sigmask(&old);
	return start;
}

SM_API void *sm_malloc(size_t size)
{
	uint8_t *p, *end;
	uint64_t bytes;

	if (!sm__st.joined || sm__st.exited)
		return NULL;
	/* no system call here: most calls cost none (request_chunk checks fully) */
	sm__caller_check("sm_malloc", 1);
	if (size > sm__st.size)
		return NULL;
	bytes = ((uint64_t)(size ? size : 1) + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
	if (chunk_next && bytes <= (uint64_t)(chunk_end - chunk_next)) {
		p = chunk_next;
		chunk_next += bytes;
		return p;
	}
	p = request_chunk(bytes, &end);
	if (!p)
		return NULL;
	/* keep whichever chunk has more room left for small requests */
	if (bytes <= LARGE && (!chunk_next || (uint64_t)(end - p) - bytes >
					      (uint64_t)(chunk_end - chunk_next))) {
		chunk_next = p + bytes;
		chunk_end = end;
	}
	return p;
}

void sm__alloc_mark(struct sm_alloc_mark *m)
{
	m->next = chunk_next;
	m->end = chunk_end;
}

/* A rolled-back transaction's allocations from the chunk it began in are
 * free again; a chunk fetched meanwhile is not given back (sm_txn(3)). */
void sm__alloc_rewind(const struct sm_alloc_mark *m)
{
	chunk_next = m->next;
	chunk_end = m->end;
}
