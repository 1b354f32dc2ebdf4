/*
 * runbatch.c - coalescing page messages into run messages (see runbatch.h).
 */
#include "runbatch.h"

#include "pages.h"

/* Send one slot's run (a node that is gone is the coherence engine's
 * business: it checks before it queues, and coh_node_died cleans up). */
static void send_slot(struct coherence_io *io, struct run_slot *s)
{
	if (s->count == 0)
		return;
	s->m.node = s->count;
	s->m.length = s->payload ? s->count * DSM_PAGE_SIZE : 0;
	io->send(io, s->dest, &s->m, s->payload);
	s->count = 0;
}

void run_flush(struct coherence_io *io)
{
	for (int i = 0; i < RUNBATCH_SLOTS; i++)
		send_slot(io, &io->batch.slot[i]);
}

static int continues(const struct run_slot *s, uint8_t type, uint8_t flags, uint32_t page,
		     uint64_t arg, const uint8_t *data)
{
	return s->count < DSM_MAX_RUN && s->m.type == type && s->m.flags == flags &&
	       page == s->m.page + s->count && arg == 0 &&
	       (data ? s->payload && data == s->payload + (size_t)s->count * DSM_PAGE_SIZE
		     : !s->payload);
}

void run_queue(struct coherence_io *io, uint32_t dest, uint8_t type, uint8_t flags,
	       uint32_t page, uint64_t arg, const uint8_t *data)
{
	struct run_slot *slot = NULL, *empty = NULL;

	for (int i = 0; i < RUNBATCH_SLOTS; i++) {
		struct run_slot *s = &io->batch.slot[i];

		if (s->count && s->dest == dest)
			slot = s;
		else if (!s->count && !empty)
			empty = s;
	}
	if (slot && continues(slot, type, flags, page, arg, data)) {
		slot->count++;
		return;
	}
	if (slot) {
		send_slot(io, slot); /* dest's earlier message goes first */
	} else if (!empty) {
		run_flush(io);
		slot = &io->batch.slot[0];
	} else {
		slot = empty;
	}
	slot->count = 1;
	slot->dest = dest;
	slot->m = (struct msg){.type = type, .flags = flags, .page = page, .arg = arg};
	slot->payload = data;
}
