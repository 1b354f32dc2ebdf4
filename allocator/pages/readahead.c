/*
 * readahead.c - each node's run window: the readahead streams of its node
 * slot, one per sequential scan in progress, whose window grows on
 * sequential faults and falls back to one page on any other (as Linux's
 * mm/readahead.c does). The coherence engine asks it how many pages a
 * fault may take along (coherence.c).
 */
#include "readahead.h"

/*
 * The stream node's fault on page continues: the one whose next page it is,
 * or else the least recently used one, restarted. Sets *window to the run
 * window: twice the stream's last one when the fault continues it (a
 * sequential scan), one page otherwise, as Linux readahead grows and drops
 * its window.
 */
struct ra_stream *ra_find_stream(const struct pagetable *pt, struct node_slot *s,
				     uint32_t page, uint32_t *window)
{
	uint32_t max = pt->prefetch < PT_MAX_WINDOW ? pt->prefetch : PT_MAX_WINDOW;
	struct ra_stream *lru = &s->ra[0];

	s->ra_clock++;
	for (int i = 0; i < PT_STREAMS; i++) {
		struct ra_stream *r = &s->ra[i];

		if (r->window && r->next == page) {
			r->used = s->ra_clock;
			*window = max <= 1 ? 1 : r->window >= max / 2 ? max : 2 * r->window;
			return r;
		}
		if (r->used < lru->used)
			lru = r;
	}
	lru->used = s->ra_clock;
	*window = 1;
	return lru;
}
