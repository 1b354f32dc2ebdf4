/*
 * dispatch.c - look a message up in its receiver's table and run its handler
 * if the receiver's state allows it (see dispatch.h).
 */
#include "dispatch.h"

const struct dispatch_row *dispatch_find(const struct dispatch_table *t, uint8_t type)
{
	for (size_t i = 0; i < t->nrows; i++)
		if (t->rows[i].type == type)
			return &t->rows[i];
	return NULL;
}

const char *dispatch_state_name(const struct dispatch_table *t, unsigned state)
{
	if (state >= t->nstates || !t->state_names[state])
		return "?";
	return t->state_names[state];
}

enum dispatch_result dispatch_message(const struct dispatch_table *t, unsigned state, void *ctx,
				      const struct msg *m, const uint8_t *payload,
				      const char **why)
{
	const struct dispatch_row *row = dispatch_find(t, m->type);

	if (!row) {
		*why = "a message type this receiver does not accept";
		return DISPATCH_UNKNOWN;
	}
	if (state >= 32 || !(row->states & DISPATCH_STATE(state))) {
		*why = "a message not allowed in this state";
		return DISPATCH_WRONG_STATE;
	}
	if (row->handler(ctx, m, payload, why) < 0)
		return DISPATCH_REFUSED;
	return DISPATCH_OK;
}
