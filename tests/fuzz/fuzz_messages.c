/*
 * fuzz_messages.c - libFuzzer target for everything that parses bytes from a
 * socket: msg_decode() and the wire_reader that frames a byte stream into
 * messages. The first input byte picks the sender (node, allocator or a
 * proxy on its control channel) and whether the job's limits are known; the
 * rest is the stream, fed to a reader through a pipe in pieces whose sizes
 * come from the input too, so partial headers and payloads split across
 * reads are covered. Input layout (the seeds in corpus/ follow it):
 *
 *   config byte, then pieces: a length byte L, then L + 1 bytes of stream
 *
 * Checked beyond "no crash", from rules written out here independently of
 * message.c's table: every accepted message has a known type, flags its
 * type allows, zero reserved bytes, a legal sender, a payload length its
 * type allows, a page and node inside the limits, and a payload inside the
 * reader's buffer. Run messages (GRANT, REVOKE, INVALIDATE, PAGE_DATA,
 * INVALIDATE_ACK, RELEASE) count 1..DSM_MAX_RUN pages in `node`, end inside
 * the region (page + count <= npages), and carry exactly count pages
 * (PAGE_DATA, RELEASE), none (REVOKE, INVALIDATE, INVALIDATE_ACK), or either
 * (GRANT). FAULT counts 1 or 2 pages (a pair) in `node`, inside the region.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../common/message.h"
#include "../../common/wire.h"

static uint8_t buf[2 * DSM_MAX_MESSAGE + 17];

/* The run types: `node` is the number of pages from `page`. */
static int run_type(uint8_t type)
{
	switch (type) {
	case MSG_GRANT:
	case MSG_REVOKE:
	case MSG_INVALIDATE:
	case MSG_PAGE_DATA:
	case MSG_INVALIDATE_ACK:
	case MSG_RELEASE:
		return 1;
	default:
		return 0;
	}
}

/*
 * Every type whose `page` field indexes the region, written out here rather
 * than read from message.c's table, so a new page-indexed type whose row
 * forgets the range check is caught (add it here when you add the type).
 */
static int page_indexed(uint8_t type)
{
	return type == MSG_FAULT || run_type(type);
}

/* The payload a message of this type and count may carry. */
static int length_allowed(const struct msg *m)
{
	uint64_t pages = (uint64_t)m->node * 4096u; /* a run's pages, in bytes */

	switch (m->type) {
	case MSG_HELLO:
		return m->length == 32;
	case MSG_PAGE_DATA:
	case MSG_RELEASE:
		return m->length == pages;
	case MSG_GRANT:
		return m->length == 0 || m->length == pages;
	case MSG_COND_WAIT:
		return m->length == 8;
	case MSG_BCAST_DATA:
		return m->length >= 1 && m->length <= 64u * 4096u;
	default:
		return m->length == 0;
	}
}

/* The flag bits each type may carry. */
static unsigned flags_allowed(uint8_t type)
{
	switch (type) {
	case MSG_FAULT:
	case MSG_GRANT:
		return 0x01; /* write */
	case MSG_INVALIDATE:
		return 0x02; /* the writer's data wanted */
	case MSG_CHUNK:
		return 0x04 | 0x08; /* fresh: placed on first touch; collective */
	case MSG_MALLOC:
		return 0x08; /* collective */
	case MSG_LOCK:
		return 0x10; /* try */
	case MSG_LOCK_GRANT:
		return 0x20; /* busy */
	case MSG_COND_SIGNAL:
		return 0x40; /* all */
	default:
		return 0;
	}
}

/* Who may send each type: an accepted message came from a legal sender. */
static int origin_allowed(uint8_t type, enum msg_origin from)
{
	switch (type) {
	case MSG_HELLO:
	case MSG_FAULT:
	case MSG_PAGE_DATA:
	case MSG_INVALIDATE_ACK:
	case MSG_RELEASE:
	case MSG_PONG:
	case MSG_LOCK:
	case MSG_UNLOCK:
	case MSG_COND_WAIT:
	case MSG_COND_SIGNAL:
		return from == FROM_NODE;
	case MSG_MALLOC:
	case MSG_BARRIER:
	case MSG_BCAST:
	case MSG_BCAST_BUF:
	case MSG_EXIT:
		return from == FROM_NODE || from == FROM_PROXY;
	case MSG_BCAST_DATA:
		return from == FROM_NODE || from == FROM_ALLOCATOR;
	case MSG_LINK_LOST:
		return from == FROM_PROXY;
	default:
		return from == FROM_ALLOCATOR;
	}
}

static void check(const struct wire_reader *r, const struct msg *m, const uint8_t *payload)
{
	const uint8_t *header = payload - DSM_HEADER_SIZE;

	if (m->type == MSG_NONE || m->type >= MSG_TYPE_COUNT)
		abort();
	if (header < r->buf || payload + m->length > r->buf + r->cap)
		abort();
	if (header[0] != m->type || header[1] != m->flags || header[2] != 0 || header[3] != 0)
		abort();
	if (m->flags & ~flags_allowed(m->type))
		abort();
	if (m->length > 64u * 4096u)
		abort();
	if (run_type(m->type) || m->type == MSG_FAULT) {
		if (m->node < 1 || m->node > (m->type == MSG_FAULT ? 2u : 64u))
			abort();
		if (r->limits.npages && (uint64_t)m->page + m->node > r->limits.npages)
			abort();
	}
	if (!length_allowed(m))
		abort();
	if (r->limits.npages && page_indexed(m->type) && m->page >= r->limits.npages)
		abort();
	if (!origin_allowed(m->type, r->peer))
		abort();
	if (r->limits.nnodes && m->type == MSG_HELLO && m->node >= r->limits.nnodes)
		abort();
	if (strcmp(msg_type_name(m->type), "?") == 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wire_reader r;
	int fds[2];
	size_t at = 1;

	if (size < 1)
		return 0;
	if (pipe2(fds, O_NONBLOCK) < 0)
		return 0;
	/* bit 0: from the allocator; else bit 7: from a proxy; else a node */
	wire_reader_init(&r, fds[0],
			 (data[0] & 1) ? FROM_ALLOCATOR : (data[0] & 0x80) ? FROM_PROXY : FROM_NODE,
			 buf, sizeof(buf));
	if (data[0] & 2) {
		r.limits.npages = 1u + (data[0] >> 2);
		r.limits.nnodes = 1u + (data[0] >> 4);
	}
	for (;;) {
		struct msg m;
		const uint8_t *payload;
		const char *why;
		enum decode_result d;

		while ((d = wire_next(&r, &m, &payload, &why)) == DECODE_OK)
			check(&r, &m, payload);
		if (d == DECODE_BAD) {
			if (!why || !*why)
				abort();
			break;
		}
		if (at >= size) {
			close(fds[1]);
			fds[1] = -1;
			while (wire_fill(&r) == FILL_DATA)
				;
			break;
		}
		/* next piece: the byte at the cursor says its length (1..256);
		 * the piece follows it */
		size_t piece = (size_t)data[at++] + 1;

		if (piece > size - at)
			piece = size - at;
		if (piece > 0 && write(fds[1], data + at, piece) != (ssize_t)piece)
			break;
		at += piece;
		if (wire_fill(&r) == FILL_ERROR)
			abort();
	}
	close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	return 0;
}
