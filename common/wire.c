/*
 * wire.c - implementation of the single send and receive path (see wire.h).
 */
#include "wire.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

void wire_reader_init(struct wire_reader *r, int fd, enum msg_origin peer, uint8_t *buf,
		      size_t cap)
{
	r->buf = buf;
	r->cap = cap;
	r->fd = fd;
	r->peer = peer;
	r->limits.npages = 0;
	r->limits.nnodes = 0;
	r->start = r->end = 0;
	r->drained = 0;
}

enum fill_result wire_fill(struct wire_reader *r)
{
	ssize_t n;

	if (r->start > 0 && (r->start == r->end || r->end > r->cap - DSM_MAX_MESSAGE)) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->start = 0;
	}
	if (r->end == r->cap)
		return FILL_AGAIN; /* full: consume first (cannot happen with valid messages) */
	do
		n = read(r->fd, r->buf + r->end, r->cap - r->end);
	while (n < 0 && errno == EINTR);
	if (n > 0) {
		r->drained = (size_t)n < r->cap - r->end;
		r->end += (size_t)n;
		return FILL_DATA;
	}
	if (n == 0)
		return FILL_EOF;
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return FILL_AGAIN;
	return FILL_ERROR;
}

enum decode_result wire_next(struct wire_reader *r, struct msg *m, const uint8_t **payload,
			     const char **why)
{
	size_t total = 0;
	enum decode_result d = msg_decode(r->buf + r->start, r->end - r->start, r->peer,
					  &r->limits, m, &total, why);

	if (d != DECODE_OK)
		return d;
	*payload = r->buf + r->start + DSM_HEADER_SIZE;
	r->start += total;
	return DECODE_OK;
}

/* Milliseconds on CLOCK_MONOTONIC (async-signal-safe). */
static int64_t now_ms(void)
{
	struct timespec t = {0};

	/* cannot fail: the clock exists and &t is valid (were it to, t stays
	 * 0 and the wait has no deadline, as an unbounded one) */
	(void)clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/*
 * Wait in poll() until fd has room. With a limit: ETIMEDOUT once
 * limit->stall_ms have passed since `since` (when the socket was first found
 * full after the last byte went out), ECANCELED when limit->stop_fd is
 * readable.
 */
static int wait_writable(int fd, const struct wire_limit *limit, int64_t since)
{
	struct pollfd p[2] = {
		{.fd = fd, .events = POLLOUT},
		{.fd = limit ? limit->stop_fd : -1, .events = POLLIN}, /* < 0: ignored */
	};

	for (;;) {
		int timeout = -1, rc;

		if (limit && limit->stall_ms >= 0) {
			int64_t left = since + limit->stall_ms - now_ms();

			if (left <= 0) {
				errno = ETIMEDOUT;
				return -1;
			}
			timeout = (int)left;
		}
		rc = poll(p, 2, timeout);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0)
			return -1;
		if (p[1].revents) {
			errno = ECANCELED;
			return -1;
		}
		if (p[0].revents)
			return 0; /* room, or an error sendmsg() will report */
	}
}

/* Write every byte of iov[0..n), finishing partial writes; *sent counts them. */
static int send_iov(int fd, struct iovec *iov, size_t n, const struct wire_limit *limit,
		    size_t *sent_total)
{
	struct msghdr mh = {.msg_iov = iov, .msg_iovlen = n};
	int64_t full_since = -1; /* read the clock only when the socket is full */

	*sent_total = 0;
	while (mh.msg_iovlen > 0) {
		/* MSG_NOSIGNAL: a vanished peer is EPIPE, not SIGPIPE */
		ssize_t sent = sendmsg(fd, &mh, MSG_NOSIGNAL);

		if (sent < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return -1;
			if (full_since < 0 && limit && limit->stall_ms >= 0)
				full_since = now_ms();
			if (wait_writable(fd, limit, full_since) < 0)
				return -1;
			continue;
		}
		*sent_total += (size_t)sent;
		if (sent > 0)
			full_since = -1; /* progress: a new wait starts its own clock */
		/* advance over what was written: drop finished iovecs, trim the next */
		while (mh.msg_iovlen > 0 && (size_t)sent >= mh.msg_iov->iov_len) {
			sent -= (ssize_t)mh.msg_iov->iov_len;
			mh.msg_iov++;
			mh.msg_iovlen--;
		}
		if (mh.msg_iovlen > 0) {
			mh.msg_iov->iov_base = (uint8_t *)mh.msg_iov->iov_base + sent;
			mh.msg_iov->iov_len -= (size_t)sent;
		}
	}
	return 0;
}

int wire_send_limited(int fd, const struct msg *m, const void *payload,
		      const struct wire_limit *limit, size_t *sent)
{
	uint8_t header[DSM_HEADER_SIZE];
	struct iovec iov[2];
	size_t ignored;

	msg_encode(m, header);
	iov[0].iov_base = header;
	iov[0].iov_len = sizeof(header);
	iov[1].iov_base = (void *)payload;
	iov[1].iov_len = m->length;
	return send_iov(fd, iov, m->length ? 2 : 1, limit, sent ? sent : &ignored);
}

int wire_send(int fd, const struct msg *m, const void *payload)
{
	return wire_send_limited(fd, m, payload, NULL, NULL);
}

int wire_batch_flush(int fd, struct wire_batch *b)
{
	int rc;

	size_t sent;

	if (b->count == 0)
		return 0;
	rc = send_iov(fd, b->iov, b->niov, NULL, &sent);
	b->count = 0;
	b->niov = 0;
	b->bytes = 0;
	return rc;
}

int wire_batch_add(int fd, struct wire_batch *b, const struct msg *m, const void *payload)
{
	if (b->count == WIRE_BATCH_MAX && wire_batch_flush(fd, b) < 0)
		return -1;
	msg_encode(m, b->headers[b->count]);
	b->iov[b->niov].iov_base = b->headers[b->count];
	b->iov[b->niov++].iov_len = DSM_HEADER_SIZE;
	if (m->length) {
		b->iov[b->niov].iov_base = (void *)payload;
		b->iov[b->niov++].iov_len = m->length;
		b->bytes += m->length;
	}
	b->count++;
	return 0;
}

int wire_send_simple(int fd, uint8_t type, uint8_t flags, uint32_t page, uint32_t node,
		     uint64_t arg)
{
	struct msg m = {.type = type, .flags = flags, .page = page, .node = node, .arg = arg};

	return wire_send(fd, &m, NULL);
}
