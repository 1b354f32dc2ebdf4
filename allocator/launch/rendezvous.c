/*
 * rendezvous.c - nodes joining a job (see launch.h): the half-open
 * connections and their HELLO, the deadline each HELLO must meet, eviction
 * of the oldest when the table is full, and refusals reported on stderr at a
 * bounded rate (each one is logged with -l).
 */
#include "launch.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "../../common/dispatch.h"
#include "../../common/message.h"
#include "../../common/net.h"
#include "../joblog.h"
#include "../util.h"

#define HELLO_SIZE (DSM_HEADER_SIZE + DSM_SECRET_LEN)

struct pending_conn {
	int fd;
	uint64_t accepted; /* mono_us() */
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
	r->hello_timeout_us = RENDEZVOUS_HELLO_TIMEOUT_US;
	r->refusal_window_us = RENDEZVOUS_REFUSAL_WINDOW_US;
	r->pending = calloc(cap ? cap : 1, sizeof(*r->pending));
	if (!r->pending) {
		errno = ENOMEM;
		return -1;
	}
	r->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (r->timer_fd < 0) {
		free(r->pending);
		r->pending = NULL;
		return -1;
	}
	return 0;
}

/* ---- refusals: every one logged, at most a few lines a window on stderr -- */

static void say_suppressed(struct rendezvous *r)
{
	if (!r->window_suppressed)
		return;
	report("%llu more connection%s refused", (unsigned long long)r->window_suppressed,
	       r->window_suppressed == 1 ? "" : "s");
	r->window_suppressed = 0;
}

static void refuse(struct rendezvous *r, const char *peer, const char *why)
{
	uint64_t now = mono_us();

	joblog_write(0, LOG_REFUSED, -1, -1, -1);
	r->refused++;
	if (r->window_lines == 0 || now - r->window_start >= r->refusal_window_us) {
		say_suppressed(r); /* the last window's, if its timer has not fired yet */
		r->window_start = now;
		r->window_lines = 0;
	}
	if (r->window_lines < RENDEZVOUS_REFUSAL_LINES) {
		r->window_lines++;
		report("refused a connection from %s: %s", peer, why);
	} else {
		r->window_suppressed++;
		r->suppressed++;
	}
}

/*
 * Arm the timer for the earliest of: a pending connection's HELLO deadline,
 * the end of a window whose refusals were not all shown. It is watched from
 * the first time it is armed.
 */
static void rearm(struct rendezvous *r)
{
	uint64_t next = UINT64_MAX;
	struct itimerspec t = {0};

	if (r->timer_fd < 0)
		return;
	for (size_t k = 0; k < r->npending; k++)
		if (r->pending[k].accepted + r->hello_timeout_us < next)
			next = r->pending[k].accepted + r->hello_timeout_us;
	if (r->window_suppressed && r->window_start + r->refusal_window_us < next)
		next = r->window_start + r->refusal_window_us;
	if (next != UINT64_MAX) {
		t.it_value.tv_sec = (time_t)(next / 1000000u);
		t.it_value.tv_nsec = (long)(next % 1000000u) * 1000 + 1; /* never 0: disarms */
		if (!r->timer_watched) {
			r->watch(r->ctx, r->timer_fd);
			r->timer_watched = 1;
		}
	}
	if (timerfd_settime(r->timer_fd, TFD_TIMER_ABSTIME, &t, NULL) < 0)
		report_errno("cannot arm the timer of the joining connections");
}

/* Close pending connection k (refusing it when why is set); keeps the array dense. */
static void drop(struct rendezvous *r, size_t k, const char *why)
{
	if (why)
		refuse(r, r->pending[k].peer, why);
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
	rearm(r);
}

void rendezvous_free(struct rendezvous *r)
{
	while (r->npending)
		drop(r, r->npending - 1, NULL);
	free(r->pending);
	r->pending = NULL;
	if (r->suppressed) {
		say_suppressed(r);
		report("%llu connections refused in all, %llu of them without a line of their own",
		       (unsigned long long)r->refused, (unsigned long long)r->suppressed);
		r->suppressed = 0;
	}
	if (r->timer_watched)
		r->unwatch(r->ctx, r->timer_fd);
	r->timer_watched = 0;
	if (r->timer_fd >= 0)
		close(r->timer_fd);
	r->timer_fd = -1;
}

/* The pending connection accepted first. */
static size_t oldest(const struct rendezvous *r)
{
	size_t o = 0;

	for (size_t k = 1; k < r->npending; k++)
		if (r->pending[k].accepted < r->pending[o].accepted)
			o = k;
	return o;
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
	if (r->closed || r->cap == 0) {
		refuse(r, peer, r->closed ? "all nodes have joined" : "too many half-open connections");
		close(fd);
		return;
	}
	if (net_nodelay(err, fd) < 0) {
		refuse(r, peer, err);
		close(fd);
		return;
	}
	/* a full table makes room: a real node's HELLO follows its connect at once */
	if (r->npending == r->cap)
		drop(r, oldest(r), "evicted for a newer one: too many half-open connections");
	struct pending_conn *c = &r->pending[r->npending++];

	c->fd = fd;
	c->accepted = mono_us();
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

/* The timer fired: drop whoever missed the HELLO deadline, say what was not shown. */
static void on_timer(struct rendezvous *r)
{
	uint64_t expirations, now;
	char why[64];

	if (read(r->timer_fd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN &&
	    errno != EINTR)
		report_errno("cannot read the timer of the joining connections");
	now = mono_us();
	snprintf(why, sizeof(why), "no HELLO within %g s", (double)r->hello_timeout_us / 1e6);
	for (size_t k = r->npending; k-- > 0;)
		if (now - r->pending[k].accepted >= r->hello_timeout_us)
			drop(r, k, why);
	if (r->window_suppressed && now - r->window_start >= r->refusal_window_us)
		say_suppressed(r);
}

void rendezvous_ready(struct rendezvous *r, int fd)
{
	if (fd == r->listen_fd) {
		on_accept(r);
	} else if (fd == r->timer_fd) {
		on_timer(r);
	} else {
		for (size_t k = 0; k < r->npending; k++)
			if (r->pending[k].fd == fd) {
				on_hello_data(r, k);
				break;
			}
	}
	rearm(r);
}
