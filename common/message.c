/*
 * message.c - header encoding and the table-driven validation of every
 * message type. See protocol.h for the layout.
 */
#include "message.h"

#include <endian.h>
#include <string.h>

enum payload_rule {
	PAYLOAD_NONE,   /* length must be 0 */
	PAYLOAD_SECRET, /* length must be DSM_SECRET_LEN */
	PAYLOAD_RUN,    /* count * DSM_PAGE_SIZE (run messages) */
	PAYLOAD_RUN_OPTIONAL, /* 0 or count * DSM_PAGE_SIZE */
	PAYLOAD_ADDRESS, /* 8 bytes: an address, little-endian */
	PAYLOAD_DATA,    /* 1 .. DSM_MAX_RUN * DSM_PAGE_SIZE bytes */
};

enum page_rule {
	PAGE_ANY = 0, /* not a page index */
	PAGE_INDEX,   /* page < npages */
	PAGE_RUN,     /* node = count in 1..DSM_MAX_RUN, page + count <= npages */
	PAGE_FAULT,   /* node = count in 1..DSM_MAX_FAULT_PAGES, page + count <= npages */
};

struct type_rule {
	const char *name;
	unsigned origin;       /* FROM_* mask of legal senders */
	unsigned flags;        /* legal flag bits */
	enum payload_rule payload;
	unsigned char page_rule;     /* enum page_rule */
	unsigned char node_is_id;    /* node must be < nnodes */
};

static const struct type_rule rules[MSG_TYPE_COUNT] = {
	[MSG_HELLO] = {"HELLO", FROM_NODE, 0, PAYLOAD_SECRET, 0, 1},
	[MSG_WELCOME] = {"WELCOME", FROM_ALLOCATOR, 0, PAYLOAD_NONE, 0, 0},
	[MSG_FAULT] = {"FAULT", FROM_NODE, MSGF_WRITE, PAYLOAD_NONE, PAGE_FAULT, 0},
	[MSG_GRANT] = {"GRANT", FROM_ALLOCATOR, MSGF_WRITE, PAYLOAD_RUN_OPTIONAL, PAGE_RUN, 0},
	[MSG_REVOKE] = {"REVOKE", FROM_ALLOCATOR, 0, PAYLOAD_NONE, PAGE_RUN, 0},
	[MSG_INVALIDATE] = {"INVALIDATE", FROM_ALLOCATOR, MSGF_WANT_DATA, PAYLOAD_NONE, PAGE_RUN, 0},
	[MSG_PAGE_DATA] = {"PAGE_DATA", FROM_NODE, 0, PAYLOAD_RUN, PAGE_RUN, 0},
	[MSG_INVALIDATE_ACK] = {"INVALIDATE_ACK", FROM_NODE, 0, PAYLOAD_NONE, PAGE_RUN, 0},
	[MSG_RELEASE] = {"RELEASE", FROM_NODE, 0, PAYLOAD_RUN, PAGE_RUN, 0},
	/* MALLOC, BARRIER, BCAST and EXIT reach the allocator through the
	 * node's proxy, which forwards them on its control channel */
	[MSG_MALLOC] = {"MALLOC", FROM_NODE | FROM_PROXY, MSGF_COLLECTIVE, PAYLOAD_NONE, 0, 0},
	[MSG_CHUNK] = {"CHUNK", FROM_ALLOCATOR, MSGF_FRESH | MSGF_COLLECTIVE, PAYLOAD_NONE, 0, 0},
	[MSG_BARRIER] = {"BARRIER", FROM_NODE | FROM_PROXY, 0, PAYLOAD_NONE, 0, 0},
	[MSG_BARRIER_DONE] = {"BARRIER_DONE", FROM_ALLOCATOR, 0, PAYLOAD_NONE, 0, 0},
	/* the root of a bcast is checked by the allocator, which reports a bad
	 * root to every node instead of ending the link */
	[MSG_BCAST] = {"BCAST", FROM_NODE | FROM_PROXY, 0, PAYLOAD_NONE, 0, 0},
	[MSG_BCAST_DONE] = {"BCAST_DONE", FROM_ALLOCATOR, 0, PAYLOAD_NONE, 0, 0},
	[MSG_EXIT] = {"EXIT", FROM_NODE | FROM_PROXY, 0, PAYLOAD_NONE, 0, 0},
	[MSG_EXIT_ACK] = {"EXIT_ACK", FROM_ALLOCATOR, 0, PAYLOAD_NONE, 0, 0},
	[MSG_ERROR] = {"ERROR", FROM_ALLOCATOR, 0, PAYLOAD_NONE, 0, 0},
	[MSG_PING] = {"PING", FROM_ALLOCATOR, 0, PAYLOAD_NONE, 0, 0},
	[MSG_PONG] = {"PONG", FROM_NODE, 0, PAYLOAD_NONE, 0, 0},
	[MSG_LINK_LOST] = {"LINK_LOST", FROM_PROXY, 0, PAYLOAD_NONE, 0, 0},
	[MSG_LOCK] = {"LOCK", FROM_NODE, MSGF_TRY, PAYLOAD_NONE, 0, 0},
	[MSG_LOCK_GRANT] = {"LOCK_GRANT", FROM_ALLOCATOR, MSGF_BUSY, PAYLOAD_NONE, 0, 0},
	[MSG_UNLOCK] = {"UNLOCK", FROM_NODE, 0, PAYLOAD_NONE, 0, 0},
	[MSG_COND_WAIT] = {"COND_WAIT", FROM_NODE, 0, PAYLOAD_ADDRESS, 0, 0},
	[MSG_COND_SIGNAL] = {"COND_SIGNAL", FROM_NODE, MSGF_ALL, PAYLOAD_NONE, 0, 0},
	/* the root and length are checked by the allocator, which reports a
	 * mismatch to every node instead of ending the link */
	[MSG_BCAST_BUF] = {"BCAST_BUF", FROM_NODE | FROM_PROXY, 0, PAYLOAD_NONE, 0, 0},
	[MSG_BCAST_BUF_GO] = {"BCAST_BUF_GO", FROM_ALLOCATOR, 0, PAYLOAD_NONE, 0, 0},
	[MSG_BCAST_DATA] = {"BCAST_DATA", FROM_NODE | FROM_ALLOCATOR, 0, PAYLOAD_DATA, 0, 0},
};

const char *msg_type_name(unsigned type)
{
	if (type == MSG_NONE || type >= MSG_TYPE_COUNT)
		return "?";
	return rules[type].name;
}

void msg_encode(const struct msg *m, uint8_t out[DSM_HEADER_SIZE])
{
	uint16_t reserved = 0;
	uint32_t page = htole32(m->page), node = htole32(m->node), length = htole32(m->length);
	uint64_t arg = htole64(m->arg);

	out[0] = m->type;
	out[1] = m->flags;
	memcpy(out + 2, &reserved, 2);
	memcpy(out + 4, &page, 4);
	memcpy(out + 8, &node, 4);
	memcpy(out + 12, &length, 4);
	memcpy(out + 16, &arg, 8);
}

static int payload_ok(enum payload_rule rule, uint32_t length, uint32_t count)
{
	switch (rule) {
	case PAYLOAD_NONE:
		return length == 0;
	case PAYLOAD_SECRET:
		return length == DSM_SECRET_LEN;
	case PAYLOAD_RUN:
		return length == count * DSM_PAGE_SIZE;
	case PAYLOAD_RUN_OPTIONAL:
		return length == 0 || length == count * DSM_PAGE_SIZE;
	case PAYLOAD_ADDRESS:
		return length == 8;
	case PAYLOAD_DATA:
		return length >= 1 && length <= DSM_MAX_RUN * DSM_PAGE_SIZE;
	}
	return 0;
}

enum decode_result msg_decode(const uint8_t *buf, size_t len, enum msg_origin from,
			      const struct msg_limits *lim, struct msg *m, size_t *total,
			      const char **why)
{
	uint16_t reserved;
	uint32_t v32;
	uint64_t v64;
	const struct type_rule *r;

	if (len < DSM_HEADER_SIZE)
		return DECODE_INCOMPLETE;
	m->type = buf[0];
	m->flags = buf[1];
	memcpy(&reserved, buf + 2, 2);
	memcpy(&v32, buf + 4, 4);
	m->page = le32toh(v32);
	memcpy(&v32, buf + 8, 4);
	m->node = le32toh(v32);
	memcpy(&v32, buf + 12, 4);
	m->length = le32toh(v32);
	memcpy(&v64, buf + 16, 8);
	m->arg = le64toh(v64);

	if (m->type == MSG_NONE || m->type >= MSG_TYPE_COUNT) {
		*why = "unknown message type";
		return DECODE_BAD;
	}
	r = &rules[m->type];
	if (!(r->origin & from)) {
		*why = "message type not allowed from this sender";
		return DECODE_BAD;
	}
	if (reserved != 0) {
		*why = "reserved header bits set";
		return DECODE_BAD;
	}
	if (m->flags & ~r->flags) {
		*why = "invalid flags";
		return DECODE_BAD;
	}
	if (r->page_rule == PAGE_RUN && (m->node == 0 || m->node > DSM_MAX_RUN)) {
		*why = "page run of no pages or longer than DSM_MAX_RUN";
		return DECODE_BAD;
	}
	if (r->page_rule == PAGE_FAULT && (m->node == 0 || m->node > DSM_MAX_FAULT_PAGES)) {
		*why = "fault on no pages or on more than DSM_MAX_FAULT_PAGES";
		return DECODE_BAD;
	}
	if (!payload_ok(r->payload, m->length, m->node)) {
		*why = "wrong payload length for message type";
		return DECODE_BAD;
	}
	if (r->page_rule != PAGE_ANY && lim->npages &&
	    (m->page >= lim->npages ||
	     ((r->page_rule == PAGE_RUN || r->page_rule == PAGE_FAULT) &&
	      m->node > lim->npages - m->page))) {
		*why = "page index outside the shared region";
		return DECODE_BAD;
	}
	if (r->node_is_id && lim->nnodes && m->node >= lim->nnodes) {
		*why = "node id out of range";
		return DECODE_BAD;
	}
	if (len - DSM_HEADER_SIZE < m->length)
		return DECODE_INCOMPLETE;
	*total = DSM_HEADER_SIZE + m->length;
	return DECODE_OK;
}
