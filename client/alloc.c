/*
 * alloc.c - sm_malloc: bump allocation inside chunks the allocator hands out.
 *
 * Small requests are carved from this node's current chunk without any
 * message; only when it runs out does the node ask the allocator for a new
 * chunk (MSG_MALLOC -> MSG_CHUNK). Pages of a fresh chunk arrive writable at
 * this node, so first writes do not fault. Requests larger than half a chunk
 * get pages of their own, contiguous, and leave the current chunk in use.
 * Any thread may call it: the chunk is guarded by a mutex of its own, held
 * while a new chunk is asked for. A transaction's rollback gives back what
 * it allocated (txn.c): while one runs, sm_malloc from the node's other
 * threads waits for its end.
 */
#include <pthread.h>
#include <stdint.h>

#include "libsm.h"
#include "sm.h"

#define ALIGNMENT 16u
#define LARGE (8u * DSM_PAGE_SIZE)

static pthread_mutex_t chunk_lock = PTHREAD_MUTEX_INITIALIZER;
static uint8_t *chunk_next, *chunk_end;

/*
 * Ask the allocator for at least `bytes`; NULL when the region is exhausted.
 * The chunk's pages were marked ours when the CHUNK was read (link.c),
 * before any later message about them.
 */
static uint8_t *request_chunk(uint64_t bytes, uint8_t **end)
{
	struct msg m = {.type = MSG_MALLOC, .arg = bytes};
	struct msg reply;
	uint8_t *start = NULL;

	sm__caller_check("sm_malloc", 0);
	sm__request(&m, MSG_CHUNK, &reply);
	if (reply.flags & MSGF_COLLECTIVE)
		sm__die("dsm answered sm_malloc with a chunk for sm_malloc_collective", NULL);
	if (reply.type == MSG_CHUNK && reply.arg != 0) {
		start = (uint8_t *)(uintptr_t)reply.arg;
		*end = start + (size_t)reply.page * DSM_PAGE_SIZE;
	}
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
	pthread_mutex_lock(&chunk_lock);
	while (sm__txn_other(sm__self_known())) {
		pthread_mutex_unlock(&chunk_lock);
		sm__txn_wait_outside("sm_malloc");
		pthread_mutex_lock(&chunk_lock);
	}
	if (chunk_next && bytes <= (uint64_t)(chunk_end - chunk_next)) {
		p = chunk_next;
		chunk_next += bytes;
	} else if ((p = request_chunk(bytes, &end)) != NULL &&
		   /* keep whichever chunk has more room left for small requests */
		   bytes <= LARGE &&
		   (!chunk_next || (uint64_t)(end - p) - bytes > (uint64_t)(chunk_end - chunk_next))) {
		chunk_next = p + bytes;
		chunk_end = end;
	}
	pthread_mutex_unlock(&chunk_lock);
	return p;
}

void sm__alloc_mark(struct sm_alloc_mark *m)
{
	pthread_mutex_lock(&chunk_lock);
	m->next = chunk_next;
	m->end = chunk_end;
	pthread_mutex_unlock(&chunk_lock);
}

/* A rolled-back transaction's allocations from the chunk it began in are
 * free again; a chunk fetched meanwhile is not given back (sm_txn(3)). */
void sm__alloc_rewind(const struct sm_alloc_mark *m)
{
	/* not under the state lock: while a transaction runs, another thread
	 * holds chunk_lock only for a look at `owner` (txn.c, roll_back) */
	pthread_mutex_lock(&chunk_lock);
	chunk_next = m->next;
	chunk_end = m->end;
	pthread_mutex_unlock(&chunk_lock);
}
