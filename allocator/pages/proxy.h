/*
 * proxy.h - a proxy: the process that owns the reading side of one node's
 * link. It is SIGIO-driven: SIGIO stays blocked and the proxy sleeps in
 * sigwaitinfo() until the kernel says the link has data, then drains it.
 * Page messages are handled on the spot against the shared page table (the
 * allocator is not a hop on the fault path); sm_malloc, barrier, bcast and
 * exit are forwarded to the allocator over the proxy's control socket.
 */
#ifndef DSM_PROXY_H
#define DSM_PROXY_H

#include <stdint.h>
#include <stdnoreturn.h>
#include <sys/types.h>

#include "pagetable.h"

noreturn void proxy_run(struct pagetable *pt, uint32_t node, int control_fd, pid_t allocator);

#endif /* DSM_PROXY_H */
