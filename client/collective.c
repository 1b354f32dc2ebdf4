/*
 * collective.c - sm_malloc_collective and sm_bcast_buf, collectives served
 * by the allocator like sm_barrier, and the two rows of the node's dispatch
 * table that sm_bcast_buf adds (BCAST_BUF_GO, BCAST_DATA). While a node waits
 * here it keeps answering revokes and invalidations.
 */
#include <stdlib.h>
#include <string.h>

#include "libsm.h"
#include "sm.h"

/* The most bytes one BCAST_DATA carries. */
#define PIECE ((uint64_t)DSM_MAX_RUN * DSM_PAGE_SIZE)

/* The sm_bcast_buf in progress at this node. */
static struct {
	uint64_t len;     /* what every node gave */
	int receiving;    /* a non-root, from its BCAST_BUF until the last byte */
	int go;           /* its BCAST_BUF_GO has been read */
	uint8_t *buf;     /* where the pieces go, in order ... */
	uint64_t got;     /* ... the next one at this offset */
} bb;

/* Nodes disagree on a size: this one's, and another node's (e->node gave
 * e->page bytes, UINT32_MAX meaning at least that many). Ends the node. */
static void size_mismatch(const char *call, const char *what, uint64_t mine, const struct msg *e)
{
	char a[24], b[24], k[24];

	sm__say(call, ": nodes disagree on the ", what, " (this node gave ", sm__fmt_u64(a, mine),
		" bytes, node ", sm__fmt_u64(k, e->node), " gave ", sm__fmt_u64(b, e->page),
		e->page == UINT32_MAX ? " or more" : "", " bytes); every node must call ", call,
		" with the same ", what, ", in the same order", NULL);
	exit(1);
}

SM_API void *sm_malloc_collective(size_t size)
{
	struct msg m = {.type = MSG_MALLOC, .flags = MSGF_COLLECTIVE, .arg = size};
	struct msg reply;
	sigset_t old;
	uint64_t at, end, first;

	if (!sm__st.joined || sm__st.exited)
		return NULL;
	sm__caller_check("sm_malloc_collective", 0);
	sm__txn_forbid("sm_malloc_collective");
	/* in a job of one node the pages are marked ours before any message
	 * about them is handled */
	sm__block_sigio(&old);
	sm__request(&m, MSG_CHUNK, &reply);
	if (reply.type == MSG_ERROR) {
		sm__restore_sigmask(&old);
		if (reply.arg == DSM_ERR_SIZE_MISMATCH)
			size_mismatch("sm_malloc_collective", "size", size, &reply);
		sm__collective_failed("sm_malloc_collective", &reply, -1);
	}
	if (!(reply.flags & MSGF_COLLECTIVE))
		sm__die("dsm answered sm_malloc_collective with a chunk for sm_malloc", NULL);
	/* its pages, if any, were marked ours when it was read (link.c) */
	at = reply.arg;
	if (at == 0) {
		sm__restore_sigmask(&old);
		return NULL;
	}
	/* inside the region, aligned, and the pages new to it (if any) start
	 * where the allocation does */
	end = (uint64_t)(uintptr_t)sm__st.base + sm__st.size;
	first = (at - (uintptr_t)sm__st.base) / DSM_PAGE_SIZE;
	if (at < (uintptr_t)sm__st.base || at >= end || at % 16 ||
	    (size ? size : 1) > end - at ||
	    (reply.page && (at % DSM_PAGE_SIZE || reply.page > sm__st.npages - first)))
		sm__die("dsm answered sm_malloc_collective with an address outside the region", NULL);
	sm__restore_sigmask(&old);
	return (void *)(uintptr_t)at;
}

/* BCAST_BUF_GO: the answer sm_bcast_buf waits for; pieces may follow it at
 * once, in the same read (a non-root's receiving is set up beforehand). */
int sm__on_bcast_go(void *ctx, const struct msg *m, const uint8_t *payload, const char **why)
{
	struct sm_thread *t = sm__reply_owner(m);

	(void)ctx, (void)payload;
	if (!t) {
		*why = "a reply nobody asked for";
		return -1;
	}
	if (m->arg != bb.len) {
		*why = "a BCAST_BUF_GO for another length";
		return -1;
	}
	bb.go = bb.receiving;
	sm__answer(t, m);
	return 0;
}

/* BCAST_DATA: the next piece of the root's buffer, copied into ours. */
int sm__on_bcast_data(void *ctx, const struct msg *m, const uint8_t *payload, const char **why)
{
	(void)ctx;
	if (!bb.receiving || !bb.go) {
		*why = "a broadcast piece nobody waits for";
		return -1;
	}
	if (m->arg != bb.got) {
		*why = "a broadcast piece out of order";
		return -1;
	}
	if (m->length > bb.len - bb.got) {
		*why = "a broadcast piece past the end of the buffer";
		return -1;
	}
	memcpy(bb.buf + bb.got, payload, m->length);
	bb.got += m->length;
	if (bb.got == bb.len) {
		/* all in: the thread in sm_bcast_buf goes on (if it waits yet) */
		struct sm_thread *t = sm__reply_owner(m);

		if (t)
			sm__answer(t, m);
	}
	return 0;
}

/* Every byte of the sm_bcast_buf in progress has come. */
static int all_in(void)
{
	return bb.got >= bb.len;
}

/* The root sends its buffer, in order, answering revokes between pieces. */
static void send_pieces(const uint8_t *buf, uint64_t len)
{
	for (uint64_t off = 0; off < len; off += PIECE) {
		uint64_t n = len - off < PIECE ? len - off : PIECE;
		struct msg d = {.type = MSG_BCAST_DATA, .length = (uint32_t)n, .arg = off};

		sm__send(&d, buf + off);
		sm__pump_now();
	}
}

/* A call that is no good: say why, end the node. */
static void bad_call(const char *why, const void *buf, size_t len)
{
	char a[24], b[24];

	sm__say("sm_bcast_buf: ", why, " (buf ", sm__fmt_hex(a, (uintptr_t)buf), ", len ",
		sm__fmt_u64(b, len), ")", NULL);
	exit(1);
}

SM_API void sm_bcast_buf(void *buf, size_t len, int root)
{
	struct msg m = {.type = MSG_BCAST_BUF, .arg = len};
	struct msg reply;
	uintptr_t start = (uintptr_t)buf, base = (uintptr_t)sm__st.base;
	sigset_t old;

	if (!sm__st.joined || sm__st.exited)
		return;
	sm__caller_check("sm_bcast_buf", 0);
	sm__txn_forbid("sm_bcast_buf");
	if (root < 0 || (uint32_t)root >= sm__st.nnodes) {
		char r[24], last[24];

		sm__say("sm_bcast_buf: root ", root < 0 ? "-" : "",
			sm__fmt_u64(r, root < 0 ? -(uint64_t)root : (uint64_t)root),
			" is not a node id (0..", sm__fmt_u64(last, sm__st.nnodes - 1), ")", NULL);
		exit(1);
	}
	if (len > 0 && !buf)
		bad_call("buf is NULL", buf, len);
	if (len > 0 && len - 1 > UINTPTR_MAX - start)
		bad_call("buf + len wraps around the address space", buf, len);
	if (len > 0 && (start < base ? base - start < len : start - base < sm__st.size))
		bad_call("buf is in shared memory, which every node already sees: "
			 "share a pointer to it with sm_bcast instead", buf, len);
	m.node = (uint32_t)root;
	sm__block_sigio(&old);
	bb.len = len;
	bb.buf = buf;
	bb.got = 0;
	bb.go = 0;
	bb.receiving = (uint32_t)root != sm__st.nid;
	sm__request(&m, MSG_BCAST_BUF_GO, &reply);
	if (reply.type == MSG_ERROR) {
		bb.receiving = 0;
		sm__restore_sigmask(&old);
		if (reply.arg == DSM_ERR_SIZE_MISMATCH)
			size_mismatch("sm_bcast_buf", "length", len, &reply);
		sm__collective_failed("sm_bcast_buf", &reply, root);
	}
	if (bb.receiving)
		sm__wait_for(MSG_BCAST_DATA, all_in);
	else if (sm__st.nnodes > 1) /* alone, nobody would get them */
		send_pieces(buf, len);
	bb.receiving = 0;
	sm__restore_sigmask(&old);
}
