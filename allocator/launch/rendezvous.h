/*
 * rendezvous.h - how nodes join a job. The allocator's listening socket and
 * the connections that have not yet said who they are: each is read without
 * ever blocking until it holds a whole HELLO, which must carry this job's
 * secret (compared in constant time), this dsm's protocol version and a node
 * id that has not joined yet. A connection failing any check, sending
 * garbage, or arriving when every node has joined is refused and logged; the
 * job goes on.
 */
#ifndef DSM_RENDEZVOUS_H
#define DSM_RENDEZVOUS_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#include "../../common/protocol.h"

struct pending_conn;

struct rendezvous {
	int listen_fd;
	uint32_t nnodes, npages;
	int closed;              /* every node joined: refuse all newcomers */
	uint8_t secret[DSM_SECRET_LEN];
	struct pending_conn *pending;
	size_t npending, cap;
	/* the node id joined with this link; -1 refuses it (id taken) */
	int (*joined)(void *ctx, uint32_t node, int fd);
	void *ctx;
};

/* 0, or -1 when out of memory. At most `cap` connections are half-open. */
int rendezvous_init(struct rendezvous *r, int listen_fd, uint32_t nnodes, uint32_t npages,
		    const uint8_t secret[DSM_SECRET_LEN], size_t cap);
void rendezvous_free(struct rendezvous *r);

/* How many pollfds rendezvous_pollfds may fill: the listener and the pending. */
size_t rendezvous_max_pollfds(const struct rendezvous *r);
/* Fill the poll set; returns how many were filled. */
size_t rendezvous_pollfds(const struct rendezvous *r, struct pollfd *out);
/* Handle what poll() reported for the entries rendezvous_pollfds filled. */
void rendezvous_events(struct rendezvous *r, const struct pollfd *in, size_t n);

/* From now on every connection is refused ("all nodes have joined"). */
void rendezvous_close(struct rendezvous *r);

#endif /* DSM_RENDEZVOUS_H */
