/*
 * pagetable.c - creation of the job's shared state and its locks.
 */
#include "pagetable.h"
#include "pages.h" /* pt_create(), pt_destroy() */

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "../util.h"

static size_t round_up(size_t v, size_t to)
{
	return (v + to - 1) / to * to;
}

struct pagetable *pt_create(uint32_t nnodes, uint32_t npages, uint64_t base)
{
	uint32_t words = (nnodes + 63) / 64;
	size_t entry_size = round_up(sizeof(struct page_entry) + 2 * words * sizeof(uint64_t), 8);
	size_t head = round_up(sizeof(struct pagetable) + nnodes * sizeof(struct node_slot), 64);
	size_t entries_off = head;
	size_t store_off = round_up(entries_off + (size_t)npages * entry_size, DSM_PAGE_SIZE);
	size_t total = store_off + (size_t)npages * DSM_PAGE_SIZE;
	struct pagetable *pt;
	int rc;

	pt = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE,
		  -1, 0);
	if (pt == MAP_FAILED)
		return NULL;
	pt->nnodes = nnodes;
	pt->npages = npages;
	pt->words = words;
	pt->entry_size = (uint32_t)entry_size;
	pt->base = base;
	atomic_init(&pt->allocated, 0);
	pt->map_size = total;
	pt->entries = (struct page_entry *)((uint8_t *)pt + entries_off);
	pt->store = (uint8_t *)pt + store_off;
	for (uint32_t i = 0; i < PT_STRIPES; i++)
		if ((rc = robust_mutex_init(&pt->stripes[i])) != 0)
			goto fail;
	for (uint32_t i = 0; i < nnodes; i++) {
		struct node_slot *s = &pt->nodes[i];

		if ((rc = robust_mutex_init(&s->send_lock)) != 0)
			goto fail;
		s->fd = -1;
		s->state = NODE_LIVE;
		s->wait_next[0] = s->wait_next[1] = PT_NONE;
	}
	/* page entries are set up when sm_malloc hands their pages out
	 * (coh_grant_chunk): the table costs memory only for pages in use */
	return pt;
fail:
	munmap(pt, total);
	errno = rc;
	return NULL;
}

void pt_destroy(struct pagetable *pt)
{
	if (pt)
		munmap(pt, pt->map_size);
}

void pt_lock_stripe(struct pagetable *pt, uint32_t stripe)
{
	robust_mutex_lock(&pt->stripes[stripe]);
}

void pt_unlock_stripe(struct pagetable *pt, uint32_t stripe)
{
	pthread_mutex_unlock(&pt->stripes[stripe]);
}

void pt_lock_page(struct pagetable *pt, uint32_t page)
{
	pt_lock_stripe(pt, page % PT_STRIPES);
}

void pt_unlock_page(struct pagetable *pt, uint32_t page)
{
	pt_unlock_stripe(pt, page % PT_STRIPES);
}

/*
 * The stripes of a run are consecutive modulo PT_STRIPES (count <=
 * PT_MAX_WINDOW < PT_STRIPES, so none twice): when the run wraps, the low
 * stripes come first, then the ones from first's stripe up.
 */
void pt_lock_run(struct pagetable *pt, uint32_t first, uint32_t count)
{
	uint32_t s0 = first % PT_STRIPES, end = s0 + count;

	for (uint32_t s = PT_STRIPES; s < end; s++)
		pt_lock_stripe(pt, s - PT_STRIPES);
	for (uint32_t s = s0; s < end && s < PT_STRIPES; s++)
		pt_lock_stripe(pt, s);
}

void pt_unlock_run(struct pagetable *pt, uint32_t first, uint32_t count)
{
	uint32_t s0 = first % PT_STRIPES, end = s0 + count;

	for (uint32_t s = s0; s < end && s < PT_STRIPES; s++)
		pt_unlock_stripe(pt, s);
	for (uint32_t s = PT_STRIPES; s < end; s++)
		pt_unlock_stripe(pt, s - PT_STRIPES);
}

void pt_entries_init(struct pagetable *pt, uint32_t first, uint32_t count)
{
	for (uint32_t page = first; page < first + count; page++) {
		struct page_entry *e = pt_entry(pt, page);

		e->writer = e->requester = e->queue_head = e->queue_tail = e->lost_by = PT_NONE;
		e->fresh = 0;
		bits_zero(pt_readers(pt, e), pt->words);
		bits_zero(pt_pending(pt, e), pt->words);
	}
}

void pt_lock_node(struct pagetable *pt, uint32_t node)
{
	robust_mutex_lock(&pt->nodes[node].send_lock);
}

void pt_unlock_node(struct pagetable *pt, uint32_t node)
{
	pthread_mutex_unlock(&pt->nodes[node].send_lock);
}

int bits_empty(const uint64_t *b, uint32_t words)
{
	for (uint32_t i = 0; i < words; i++)
		if (b[i])
			return 0;
	return 1;
}

void bits_zero(uint64_t *b, uint32_t words)
{
	memset(b, 0, words * sizeof(uint64_t));
}
