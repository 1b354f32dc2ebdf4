/*
 * readahead.h - the run window of a node's faults (readahead.c), for the
 * coherence engine.
 */
#ifndef DSM_READAHEAD_H
#define DSM_READAHEAD_H

#include <stdint.h>

#include "pagetable.h"

/*
 * The stream node's fault on page continues (slot s: the node's): the one
 * whose next page it is, or else the least recently used one, restarted.
 * *window: the run window, twice the stream's last when the fault continues
 * it, one page otherwise, at most pt->prefetch (and PT_MAX_WINDOW).
 */
struct ra_stream *ra_find_stream(const struct pagetable *pt, struct node_slot *s, uint32_t page,
				 uint32_t *window);

#endif /* DSM_READAHEAD_H */
