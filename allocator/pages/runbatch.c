/*
 * runbatch.c - coalescing page messages into run messages (see runbatch.h).
 */
#include "runbatch.h"

#include "coherence.h"

int run_flush(struct coherence_io *io)
{
	struct run_batch *b = &io->batch;
	int rc;

	if (b->count == 0)
		return 0;
	b->m.node = b->count;
	b->m.length = b->payload ? b->count * DSM_PAGE_SIZE : 0;
	rc = io->send(io, b->dest, &b->m, b->payload);
	b->count = 0;
	return rc;
}

void run_queue(struct coherence_io *io, uint32_t dest, uint8_t type, uint8_t flags,
	       uint32_t page, uint64_t arg, const uint8_t *data)
{
	struct run_batch *b = &io->batch;

	if (b->count && b->count < DSM_MAX_RUN && b->dest == dest && b->m.type == type &&
	    b->m.flags == flags && page == b->m.page + b->count && arg == 0 &&
	    (data ? b->payload && data == b->payload + (size_t)b->count * DSM_PAGE_SIZE
		  : !b->payload)) {
		b->count++;
		return;
	}
	run_flush(io);
	b->count = 1;
	b->dest = dest;
	b->m = (struct msg){.type = type, .flags = flags, .page = page, .arg = arg};
	b->payload = data;
}
