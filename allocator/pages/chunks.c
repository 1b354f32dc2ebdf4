/*
 * chunks.c - handing pages out (see pages.h): the one page operation the
 * allocator itself performs, for sm_malloc's chunks and the collective arena
 * of sm_malloc_collective. The pages' entries are set up (the table is mapped,
 * not initialised, before), marked held by one node or fresh, and the
 * allocated mark advanced, all under the pages' stripe locks.
 */
#include <stdatomic.h>

#include "pages.h"

/*
 * The CHUNK message must reach the node before any revoke of those pages can:
 * every revoke is sent under its page's stripe lock, so hold all the chunk's
 * stripes (in ascending order, the only order in which more than one stripe
 * is ever held) while marking the pages and sending.
 */
int coh_hand_out(struct pagetable *pt, struct coherence_io *io, uint32_t first, uint32_t count,
		 int32_t writer, uint32_t to, const struct msg *m)
{
	uint32_t stripes = count >= PT_STRIPES ? PT_STRIPES : count;
	int rc = 0;

	for (uint32_t s = 0; s < PT_STRIPES; s++)
		if ((s + PT_STRIPES - first % PT_STRIPES) % PT_STRIPES < stripes)
			pt_lock_stripe(pt, s);
	/* the entries' first use: the table is mapped, not initialised */
	pt_entries_init(pt, first, count);
	for (uint32_t page = first; page < first + count; page++) {
		struct page_entry *e = pt_entry(pt, page);

		e->writer = writer;
		e->fresh = writer == PT_NONE;
	}
	atomic_store_explicit(&pt->allocated, first + count, memory_order_release);
	if (m)
		rc = io->send(io, to, m, NULL);
	for (uint32_t s = 0; s < PT_STRIPES; s++)
		if ((s + PT_STRIPES - first % PT_STRIPES) % PT_STRIPES < stripes)
			pt_unlock_stripe(pt, s);
	return rc;
}

int coh_grant_chunk(struct pagetable *pt, struct coherence_io *io, uint32_t node, uint32_t first,
		    uint32_t count, int fresh)
{
	struct msg m = {.type = MSG_CHUNK, .flags = fresh ? MSGF_FRESH : 0, .page = count,
			.arg = pt->base + (uint64_t)first * DSM_PAGE_SIZE};

	return coh_hand_out(pt, io, first, count, fresh ? PT_NONE : (int32_t)node, node, &m);
}
