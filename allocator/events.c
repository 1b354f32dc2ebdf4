/*
 * events.c - the fd -> handler event loop around one poll() (see events.h).
 *
 * Registrations are kept in registration order. ev_del() only marks one dead
 * (fd -1), so indices stay put during a turn and the pollfd built at its start
 * still lines up with them; dead ones are swept out when the next turn builds
 * its pollfd. The pollfd array grows with the registrations, so a turn never
 * allocates.
 */
#include "events.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>

struct ev_reg {
	int fd; /* -1: deleted */
	int late;
	short events; /* POLLIN, or POLLOUT */
	ev_handler fn;
	void *ctx;
};

struct ev_loop {
	struct ev_reg *regs;
	struct pollfd *pfd;
	size_t nregs, cap;
};

struct ev_loop *ev_create(void)
{
	return calloc(1, sizeof(struct ev_loop));
}

void ev_destroy(struct ev_loop *loop)
{
	if (!loop)
		return;
	free(loop->regs);
	free(loop->pfd);
	free(loop);
}

static struct ev_reg *find(struct ev_loop *loop, int fd)
{
	for (size_t k = 0; k < loop->nregs; k++)
		if (loop->regs[k].fd == fd)
			return &loop->regs[k];
	return NULL;
}

static int grow(struct ev_loop *loop)
{
	size_t cap = loop->cap ? 2 * loop->cap : 16;
	struct ev_reg *regs = realloc(loop->regs, cap * sizeof(*regs));
	struct pollfd *pfd;

	if (!regs)
		return -1;
	loop->regs = regs;
	pfd = realloc(loop->pfd, cap * sizeof(*pfd));
	if (!pfd)
		return -1;
	loop->pfd = pfd;
	loop->cap = cap;
	return 0;
}

static int add(struct ev_loop *loop, int fd, int late, short events, ev_handler fn, void *ctx)
{
	if (fd < 0) {
		errno = EBADF;
		return -1;
	}
	if (find(loop, fd)) {
		errno = EEXIST;
		return -1;
	}
	if (loop->nregs == loop->cap && grow(loop) < 0) {
		errno = ENOMEM;
		return -1;
	}
	loop->regs[loop->nregs++] =
		(struct ev_reg){.fd = fd, .late = late, .events = events, .fn = fn, .ctx = ctx};
	return 0;
}

int ev_add(struct ev_loop *loop, int fd, ev_handler fn, void *ctx)
{
	return add(loop, fd, 0, POLLIN, fn, ctx);
}

int ev_add_late(struct ev_loop *loop, int fd, ev_handler fn, void *ctx)
{
	return add(loop, fd, 1, POLLIN, fn, ctx);
}

int ev_add_writable(struct ev_loop *loop, int fd, ev_handler fn, void *ctx)
{
	return add(loop, fd, 0, POLLOUT, fn, ctx);
}

void ev_del(struct ev_loop *loop, int fd)
{
	struct ev_reg *r = fd >= 0 ? find(loop, fd) : NULL;

	if (r)
		r->fd = -1;
}

/* Sweep out the dead registrations and fill the pollfd; how many were filled. */
static size_t build(struct ev_loop *loop)
{
	size_t n = 0;

	for (size_t k = 0; k < loop->nregs; k++) {
		if (loop->regs[k].fd < 0)
			continue;
		loop->regs[n] = loop->regs[k];
		loop->pfd[n] = (struct pollfd){.fd = loop->regs[n].fd, .events = loop->regs[n].events};
		n++;
	}
	loop->nregs = n;
	return n;
}

int ev_run(struct ev_loop *loop, int (*done)(void *ctx), void *ctx)
{
	while (!done(ctx)) {
		size_t n = build(loop);

		if (poll(loop->pfd, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		for (int late = 0; late <= 1; late++)
			for (size_t k = 0; k < n; k++) {
				/* by index: a handler may add, which can move regs */
				struct ev_reg r = loop->regs[k];

				if (loop->pfd[k].revents && r.fd == loop->pfd[k].fd && r.late == late)
					r.fn(loop, r.fd, r.ctx);
			}
	}
	return 0;
}
