/*
 * control.h - the allocator's end of the proxies' control sockets. A proxy
 * forwards its node's MALLOC, BARRIER, BCAST and EXIT there and reports the
 * node's lost link with LINK_LOST; the allocator reads each socket as
 * FROM_PROXY and runs every message through a dispatch table (control.c,
 * common/dispatch.h) that knows in which state of the node each is allowed.
 */
#ifndef DSM_CONTROL_H
#define DSM_CONTROL_H

#include <stdint.h>

#include "../common/wire.h"
#include "events.h"
#include "services.h"

/* Room for a whole message and the next one's start. */
#define CONTROL_BUF (2 * DSM_MAX_MESSAGE)

/* A node as its control link sees it; names in control.c. */
enum control_state {
	CONTROL_IN_JOB,    /* joined, proxy started: requests are served */
	CONTROL_LEFT,      /* sent EXIT: nothing more may come */
	CONTROL_LINK_LOST, /* its link closed without EXIT: nothing more may come */
	CONTROL_STATES
};

struct job;

struct control_link {
	struct job *job;       /* ended when the link misbehaves; told of a lost link */
	struct services *svc;  /* serves the requests */
	struct ev_loop *loop;
	uint32_t node;
	int fd;                /* the allocator's end; -1 while not open or once closed */
	enum control_state state;
	struct wire_reader reader;
	uint8_t buf[CONTROL_BUF];
};

/* One link per node, none open yet; NULL when out of memory. */
struct control_link *control_new(uint32_t nnodes, struct job *j, struct services *svc,
				 struct ev_loop *loop);
/* Read fd, the allocator's end of this node's proxy socket, from now on.
 * 0, or -1 with errno (out of memory). */
int control_open(struct control_link *c, int fd);
/* Close the links still open and free them all. */
void control_free(struct control_link *links, uint32_t nnodes);

#endif /* DSM_CONTROL_H */
