/*
 * wire.h - the one send path and the one receive path for dsm links.
 *
 * wire_send() writes a header and an optional payload with a single writev()
 * and finishes partial writes, waiting in poll() (never spinning) when a
 * non-blocking socket is full; wire_send_limited() bounds that wait. A wire_reader accumulates bytes from a
 * non-blocking socket (signals are not queued: one SIGIO may stand for many
 * messages) and hands out complete, validated messages one at a time.
 * Everything here is async-signal-safe: no malloc, no stdio, no locks.
 */
#ifndef DSM_WIRE_H
#define DSM_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "message.h"

/* Room for two of the longest messages (runs of DSM_MAX_RUN pages) */
#define WIRE_READER_CAPACITY (2u * DSM_MAX_MESSAGE)

struct wire_reader {
	int fd;
	enum msg_origin peer; /* who is on the other end */
	struct msg_limits limits;
	size_t start, end; /* unconsumed bytes are buf[start..end) */
	size_t cap;        /* at least 2 * DSM_MAX_MESSAGE */
	uint8_t *buf;
	int drained;       /* the last read returned less than it asked for */
};

enum fill_result {
	FILL_DATA = 1,    /* read some bytes */
	FILL_AGAIN = 0,   /* nothing available now (EAGAIN) */
	FILL_EOF = -1,    /* peer closed the link */
	FILL_ERROR = -2,  /* read failed, errno set */
};

/* buf must hold cap >= 2 * DSM_MAX_MESSAGE bytes and outlive the reader. */
void wire_reader_init(struct wire_reader *r, int fd, enum msg_origin peer, uint8_t *buf,
		      size_t cap);

/*
 * One read() into the free space of the buffer. A read that returns less
 * than it asked for drained the socket (r->drained): whatever arrives later
 * raises a new SIGIO, so an O_ASYNC reader need not read again until then.
 */
enum fill_result wire_fill(struct wire_reader *r);

/*
 * Take the next complete message. DECODE_OK: *m is set and *payload points at
 * its payload inside the reader (valid until the next wire_fill/wire_next).
 * DECODE_INCOMPLETE: fill again. DECODE_BAD: *why says what is wrong.
 */
enum decode_result wire_next(struct wire_reader *r, struct msg *m, const uint8_t **payload,
			     const char **why);

/*
 * Send a message; payload may be NULL when m->length is 0. Returns 0, or -1
 * with errno set (EPIPE/ECONNRESET when the peer is gone).
 */
int wire_send(int fd, const struct msg *m, const void *payload);

/*
 * What may end a send's wait for room in a full socket, other than room:
 * stall_ms milliseconds in which not one byte went out (the peer is not
 * reading: ETIMEDOUT), or stop_fd becoming readable (ECANCELED). A negative
 * stall_ms waits for ever, a negative stop_fd is not watched.
 */
struct wire_limit {
	int stall_ms;
	int stop_fd;
};

/*
 * wire_send() with its waits bounded by *limit (NULL: unbounded). Returns 0,
 * or -1 with errno set; *sent (may be NULL) says how many bytes of the
 * message went out, so a caller knows whether the link now ends in the
 * middle of a message.
 */
int wire_send_limited(int fd, const struct msg *m, const void *payload,
		      const struct wire_limit *limit, size_t *sent);

/*
 * Messages written together: what one receiver answers to one batch of
 * arrivals goes out in one sendmsg(). A payload is not copied: it must stay
 * unchanged until the flush.
 */
#define WIRE_BATCH_MAX 32
struct wire_batch {
	unsigned count, niov;
	size_t bytes;          /* payload bytes queued */
	uint8_t headers[WIRE_BATCH_MAX][DSM_HEADER_SIZE];
	struct iovec iov[2 * WIRE_BATCH_MAX];
};

/* Add a message (flushing first when the batch is full). 0, or -1 + errno. */
int wire_batch_add(int fd, struct wire_batch *b, const struct msg *m, const void *payload);
/* Send what the batch holds. 0, or -1 + errno (the batch is emptied either way). */
int wire_batch_flush(int fd, struct wire_batch *b);

/* Convenience: send a header-only message. */
int wire_send_simple(int fd, uint8_t type, uint8_t flags, uint32_t page, uint32_t node,
		     uint64_t arg);

#endif /* DSM_WIRE_H */
