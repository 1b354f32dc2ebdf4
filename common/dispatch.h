/*
 * dispatch.h - one receiver's table of the messages it accepts, in the manner
 * of OpenSSH's monitor (mon_dispatch with MON_PERMIT): each row names a
 * message type, the function that handles it and the receiver states in which
 * it is allowed. A type that is not in the table, or arrives in a state its
 * row does not allow, is refused before any handler runs; the receiver ends
 * that link with one message naming the peer, the type and the state.
 *
 * Every receiver has its own table, next to its handlers: the proxy
 * (allocator/pages/proxy.c), the allocator's control channel
 * (allocator/control.c), a joining connection (allocator/launch/rendezvous.c)
 * and the node (client/link.c). docs/design.md lists them.
 *
 * Pure and async-signal-safe: libsm dispatches inside its signal handlers.
 */
#ifndef DSM_DISPATCH_H
#define DSM_DISPATCH_H

#include <stddef.h>
#include <stdint.h>

#include "protocol.h"

/* A state is one bit; a row's `states` is the set of them it is allowed in. */
#define DISPATCH_STATE(n) (1u << (n))

/* 0 when handled; -1 with *why set when the message is bad for this link. */
typedef int (*dispatch_fn)(void *ctx, const struct msg *m, const uint8_t *payload,
			   const char **why);

struct dispatch_row {
	uint8_t type;        /* enum msg_type */
	unsigned states;     /* DISPATCH_STATE() bits in which the type is allowed */
	dispatch_fn handler;
};

struct dispatch_table {
	const char *receiver;           /* "proxy", "node", ... for messages */
	const struct dispatch_row *rows;
	size_t nrows;
	const char *const *state_names; /* indexed by state number */
	unsigned nstates;
};

enum dispatch_result {
	DISPATCH_OK = 0,
	DISPATCH_UNKNOWN = -1,     /* the type has no row in this table */
	DISPATCH_WRONG_STATE = -2, /* it has, but not in the current state */
	DISPATCH_REFUSED = -3,     /* the handler found the message bad */
};

/* The row for a type, or NULL. */
const struct dispatch_row *dispatch_find(const struct dispatch_table *t, uint8_t type);

/*
 * Run the handler of m's row if the row allows `state` (a state number, not a
 * bit). On failure *why says what was wrong: "not accepted by <receiver>",
 * "not allowed in state <name>", or the handler's reason.
 */
enum dispatch_result dispatch_message(const struct dispatch_table *t, unsigned state, void *ctx,
				      const struct msg *m, const uint8_t *payload,
				      const char **why);

/* The name of a state of this table's receiver; "?" if out of range. */
const char *dispatch_state_name(const struct dispatch_table *t, unsigned state);

#endif /* DSM_DISPATCH_H */
