/*
 * proxystart.c - forking the proxies (see pages.h): one per node, each with
 * a control socketpair to the allocator, and nothing of the allocator's
 * besides the links, its own control socket and the log; first each link's
 * send buffer is sized for what the protocol can have on its way to the
 * node (nodelink.c). What a proxy then does is proxy.c.
 */
#include "pages.h"

#include <sys/socket.h>
#include <unistd.h>

#include "../util.h"
#include "nodelink.h"
#include "proxy.h"

void proxies_start(struct pagetable *pt, const int *close_fds, size_t nclose, pid_t *pids,
		   int *control)
{
	pid_t self = getpid();

	for (uint32_t i = 0; i < pt->nnodes; i++)
		if (node_link_reserve(pt, i) < 0)
			report_errno("node %u: sizing its link's send buffer", i);
	for (uint32_t i = 0; i < pt->nnodes; i++) {
		int sv[2];
		pid_t pid;

		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
			die_errno("socketpair");
		pid = fork();
		if (pid < 0)
			die_errno("fork");
		if (pid == 0) {
			/* keep only the links, our control socket and the log */
			for (size_t k = 0; k < nclose; k++)
				if (close_fds[k] >= 0)
					close(close_fds[k]);
			for (uint32_t k = 0; k < i; k++)
				close(control[k]);
			close(sv[0]);
			proxy_run(pt, i, sv[1], self);
		}
		close(sv[1]);
		control[i] = sv[0];
		pids[i] = pid;
	}
}
