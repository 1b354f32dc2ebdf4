/*
 * net.c - the socket helpers of net.h: non-blocking, signal-driven I/O with
 * an owner, TCP_NODELAY.
 */
#include "net.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

/* "<call>: strerror(errno)" into err; errno kept; -1. */
static int fail(char *err, const char *call)
{
	int saved = errno;

	if (err)
		snprintf(err, NET_ERR_LEN, "%s: %s", call, strerror(saved));
	errno = saved;
	return -1;
}

static int add_flags(char *err, int fd, int add)
{
	int flags = fcntl(fd, F_GETFL);

	if (flags < 0)
		return fail(err, "fcntl(F_GETFL)");
	if ((flags & add) != add && fcntl(fd, F_SETFL, flags | add) < 0)
		return fail(err, add & O_ASYNC ? "fcntl(F_SETFL, O_ASYNC)" : "fcntl(F_SETFL, O_NONBLOCK)");
	return 0;
}

int net_nonblock(char *err, int fd)
{
	return add_flags(err, fd, O_NONBLOCK);
}

int net_async(char *err, int fd, enum net_owner kind, pid_t id)
{
	struct f_owner_ex owner = {.type = kind == NET_OWNER_THREAD ? F_OWNER_TID : F_OWNER_PID,
				   .pid = id};

	if (fcntl(fd, F_SETOWN_EX, &owner) < 0)
		return fail(err, "fcntl(F_SETOWN_EX)");
	return add_flags(err, fd, O_NONBLOCK | O_ASYNC);
}

int net_nodelay(char *err, int fd)
{
	int one = 1;

	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
		return fail(err, "setsockopt(TCP_NODELAY)");
	return 0;
}
