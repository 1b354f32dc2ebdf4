/*
 * jobstart.h - how a job gets going (jobstart.c): nodes join through the
 * rendezvous on the job's listening socket; once all have, the proxies are
 * forked, every node is welcomed, and with -S the pings begin.
 */
#ifndef DSM_JOBSTART_H
#define DSM_JOBSTART_H

#include <stdint.h>

#include "events.h"
#include "launch/launch.h"

struct job;

/*
 * Listen where addr says (the kernel picks *port) and watch for joining
 * nodes in the job's loop; the proxies start when the last one has joined.
 * Dies on failure.
 */
void job_listen(struct job *j, const struct job_address *addr, unsigned *port, uint32_t npages);

/* Handler for the -S ping timer (ctx: the job): one PING to every node. */
void job_on_ping(struct ev_loop *loop, int fd, void *ctx);

#endif /* DSM_JOBSTART_H */
