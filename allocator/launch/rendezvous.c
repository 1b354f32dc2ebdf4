/*
 * rendezvous.c - nodes joining a job (see launch.h).
 */
#include "launch.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../common/dispatch.h"
#include "../../common/message.h"
#include "../../common/net.h"
#include "../util.h"
#include "../joblog.h"

#define HELLO_SIZE (DSM_HEADER_SIZE + DSM_SECRET_LEN)

struct pending_conn {
	int fd;
	size_t len;
	uint8_t buf[HELLO_SIZE];
	char peer[64];
};

int rendezvous_init(struct rendezvous *r, int listen_fd, uint32_t nnodes, uint32_t npages,
		    const uint8_t secret[DSM_SECRET_LEN], size_t cap)
{
	memset(r, 0, sizeof(*r));
	r->listen_fd = listen_fd;
	r->nnodes = nnodes;
	r->npages = npages;
	memcpy(r->secret, secret, DSM_SECRET_LEN);
	r->cap = cap;
	r->pending = calloc(cap, sizeof(*r->pending));
	return r->pending ? 0 : -1;
}

static void refuse(const char *peer, const char *why)
{
	report("refused a connection from %s: %s", peer, why);
	joblog_write(0, LOG_REFUSED, -1, -1, -1);
}

/* Close pending connection k (refusing it when why is set); keeps the array dense. */
static void drop(struct rendezvous *r, size_t k, const char *why)
{
	if (why)
		refuse(r->pending[k].peer, why);
	if (r->pending[k].fd >= 0) {
		r->unwatch(r->ctx, r->pending[k].fd);
		close(r->pending[k].fd);
	}
	r->pending[k] = r->pending[--r->npending];
}

void rendezvous_close(struct rendezvous *r)
{
	r->closed = 1;
	while (r->npending)
		drop(r, r->npending - 1, "all nodes have joined");
}

void rendezvous_free(struct rendezvous *r)
{
	while (r->npending)
		drop(r, r->npending - 1, NULL);
	free(r->pending);
	r->pending = NULL;
}

static void on_accept(struct rendezvous *r)
{
	struct sockaddr_in addr;
	socklen_t alen = sizeof(addr);
	int fd = accept4(r->listen_fd, (struct sockaddr *)&addr, &alen, SOCK_NONBLOCK | SOCK_CLOEXEC);
	char peer[64], err[NET_ERR_LEN];

	if (fd < 0)
		return; /* EAGAIN, or the peer already gave up */
	snprintf(peer, sizeof(peer), "%s:%u", inet_ntoa(addr.sin_addr), ntohs(addr.sin_port));
	if (r->closed || r->npending == r->cap) {
		refuse(peer, r->closed ? "all nodes have joined" : "too many half-open connections");
		close(fd);
		return;
	}
	if (net_nodelay(err, fd) < 0) {
		refuse(peer, err);
		close(fd);
		return;
	}
	struct pending_conn *c = &r->pending[r->npending++];

	c->fd = fd;
	c->len = 0;
	snprintf(c->peer, sizeof(c->peer), "%s", peer);
	r->watch(r->ctx, fd);
}

/* Constant-time comparison (libbsd 0.11 has no timingsafe_bcmp). */
static int secret_equal(const uint8_t *a, const uint8_t *b)
{
	uint8_t diff = 0;

	for (unsigned i = 0; i < DSM_SECRET_LEN; i++)
		diff |= a[i] ^ b[i];
	return diff == 0;
}

/* ---- a joining connection's dispatch table: HELLO, once ---------------- */

enum join_state { JOIN_WAITING, JOIN_STATES };

static const char *const join_state_names[JOIN_STATES] = {
	[JOIN_WAITING] = "waiting for HELLO",
};

struct hello_ctx {
	struct rendezvous *r;
	struct pending_conn *c;
	char version[160];
};

static int on_hello(void *ctx, const struct msg *m, const uint8_t *secret, const char **why)
{
	struct hello_ctx *h = ctx;

	if (m->arg != DSM_PROTOCOL_VERSION) {
		snprintf(h->version, sizeof(h->version),
			 "node %u speaks protocol %llu, this dsm speaks %u: rebuild the program "
			 "against this libsm", m->node, (unsigned long long)m->arg,
			 DSM_PROTOCOL_VERSION);
		*why = h->version;
		return -1;
	}
	if (!secret_equal(secret, h->r->secret)) {
		*why = "wrong job secret";
		return -1;
	}
	if (h->r->joined(h->r->ctx, m->node, h->c->fd) < 0) {
		*why = "node id already joined";
		return -1;
	}
	h->r->unwatch(h->r->ctx, h->c->fd);
	h->c->fd = -1; /* the link belongs to the job now */
	joblog_write(m->node, LOG_JOIN, -1, -1, -1);
	return 0;
}

static const struct dispatch_row join_rows[] = {
	{MSG_HELLO, DISPATCH_STATE(JOIN_WAITING), on_hello},
};

static const struct dispatch_table join_table = {
	.receiver = "joining connection",
	.rows = join_rows,
	.nrows = 1,
	.state_names = join_state_names,
	.nstates = JOIN_STATES,
};

static void on_hello_data(struct rendezvous *r, size_t k)
{
	struct pending_conn *c = &r->pending[k];
	ssize_t n = read(c->fd, c->buf + c->len, HELLO_SIZE - c->len);
	struct msg_limits lim = {.npages = r->npages, .nnodes = r->nnodes};
	struct hello_ctx h = {.r = r, .c = c};
	struct msg m;
	size_t total;
	const char *why;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		drop(r, k, NULL);
		return;
	}
	c->len += (size_t)n;
	if (msg_decode(c->buf, c->len, FROM_NODE, &lim, &m, &total, &why) == DECODE_BAD) {
		drop(r, k, why);
		return;
	}
	if (c->len < HELLO_SIZE)
		return;
	if (dispatch_message(&join_table, JOIN_WAITING, &h, &m, c->buf + DSM_HEADER_SIZE, &why) !=
	    DISPATCH_OK)
		drop(r, k, m.type == MSG_HELLO ? why : "did not start with HELLO");
	else
		drop(r, k, NULL);
}

void rendezvous_ready(struct rendezvous *r, int fd)
{
	if (fd == r->listen_fd) {
		on_accept(r);
		return;
	}
	for (size_t k = 0; k < r->npending; k++)
		if (r->pending[k].fd == fd) {
			on_hello_data(r, k);
			return;
		}
}
