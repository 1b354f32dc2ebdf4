/*
 * net.h - tiny socket helpers shared by dsm and libsm, in the manner of
 * Redis's anet.c: each does one thing to a descriptor it is given and
 * returns 0, or -1 with errno set by the failing call and "<call>: <why>"
 * in the caller's err buffer (NET_ERR_LEN bytes, or NULL for none), so the
 * caller can say "dsm: <what it was doing>: <err>" in its own words.
 *
 * Not for signal handlers (snprintf); libsm calls them while joining.
 */
#ifndef DSM_NET_H
#define DSM_NET_H

#include <sys/types.h>

#define NET_ERR_LEN 256

/* Who SIGIO goes to: one thread, or a process (libsm and the proxies: the
 * kernel picks a thread that does not block it). */
enum net_owner {
	NET_OWNER_PROCESS,
	NET_OWNER_THREAD,
};

/* O_NONBLOCK on fd (a socket or a pipe). */
int net_nonblock(char *err, int fd);

/*
 * Signal-driven I/O: SIGIO goes to `id` (a pid or, with NET_OWNER_THREAD, a
 * tid) whenever fd becomes readable; fd is made non-blocking too. The owner
 * is set before O_ASYNC, so no signal goes nowhere in between.
 */
int net_async(char *err, int fd, enum net_owner kind, pid_t id);

/* TCP_NODELAY: dsm's messages are small and answered at once. */
int net_nodelay(char *err, int fd);

#endif /* DSM_NET_H */
