/*
 * test_message.c - msg_encode/msg_decode/msg_type_name (common/message.c):
 * round trips of every message type, the exact little-endian header layout,
 * and every rejection rule of the decoder (type, origin, reserved bytes,
 * flags, payload length, page and node limits) plus DECODE_INCOMPLETE.
 * Run messages (GRANT, REVOKE, INVALIDATE, PAGE_DATA, INVALIDATE_ACK,
 * RELEASE: `node` = count of pages from `page`): the count's limits
 * (1..DSM_MAX_RUN, page + count <= npages) and the payload rule (count pages,
 * or for GRANT none); FAULT's count (1 or 2: a pair); CHUNK's FRESH flag.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "../../common/message.h"

/* What the protocol says about each type, written down independently. */
struct spec {
	uint8_t type;
	const char *name;
	enum msg_origin from;
	uint8_t flags;   /* a legal non-zero flag set, or 0 */
	uint32_t count;  /* run types: a legal page count (the node field); 0: not a run */
	uint32_t length; /* a legal payload length (for runs: for that count) */
};

#define RUN_PAGES(n) ((n) * DSM_PAGE_SIZE)

static const struct spec specs[] = {
	{MSG_HELLO, "HELLO", FROM_NODE, 0, 0, DSM_SECRET_LEN},
	{MSG_WELCOME, "WELCOME", FROM_ALLOCATOR, 0, 0, 0},
	{MSG_FAULT, "FAULT", FROM_NODE, MSGF_WRITE, 2, 0},
	{MSG_GRANT, "GRANT", FROM_ALLOCATOR, MSGF_WRITE, 3, RUN_PAGES(3)},
	{MSG_REVOKE, "REVOKE", FROM_ALLOCATOR, 0, 5, 0},
	{MSG_INVALIDATE, "INVALIDATE", FROM_ALLOCATOR, MSGF_WANT_DATA, 2, 0},
	{MSG_PAGE_DATA, "PAGE_DATA", FROM_NODE, 0, 4, RUN_PAGES(4)},
	{MSG_INVALIDATE_ACK, "INVALIDATE_ACK", FROM_NODE, 0, 1, 0},
	{MSG_RELEASE, "RELEASE", FROM_NODE, 0, 2, RUN_PAGES(2)},
	{MSG_MALLOC, "MALLOC", FROM_NODE, MSGF_COLLECTIVE, 0, 0},
	{MSG_CHUNK, "CHUNK", FROM_ALLOCATOR, MSGF_FRESH | MSGF_COLLECTIVE, 0, 0},
	{MSG_BARRIER, "BARRIER", FROM_NODE, 0, 0, 0},
	{MSG_BARRIER_DONE, "BARRIER_DONE", FROM_ALLOCATOR, 0, 0, 0},
	{MSG_BCAST, "BCAST", FROM_NODE, 0, 0, 0},
	{MSG_BCAST_DONE, "BCAST_DONE", FROM_ALLOCATOR, 0, 0, 0},
	{MSG_EXIT, "EXIT", FROM_NODE, 0, 0, 0},
	{MSG_EXIT_ACK, "EXIT_ACK", FROM_ALLOCATOR, 0, 0, 0},
	{MSG_ERROR, "ERROR", FROM_ALLOCATOR, 0, 0, 0},
	{MSG_PING, "PING", FROM_ALLOCATOR, 0, 0, 0},
	{MSG_PONG, "PONG", FROM_NODE, 0, 0, 0},
	{MSG_LINK_LOST, "LINK_LOST", FROM_PROXY, 0, 0, 0},
	{MSG_LOCK, "LOCK", FROM_NODE, MSGF_TRY, 0, 0},
	{MSG_LOCK_GRANT, "LOCK_GRANT", FROM_ALLOCATOR, MSGF_BUSY, 0, 0},
	{MSG_UNLOCK, "UNLOCK", FROM_NODE, 0, 0, 0},
	{MSG_COND_WAIT, "COND_WAIT", FROM_NODE, 0, 0, 8},
	{MSG_COND_SIGNAL, "COND_SIGNAL", FROM_NODE, MSGF_ALL, 0, 0},
	{MSG_BCAST_BUF, "BCAST_BUF", FROM_NODE, 0, 0, 0},
	{MSG_BCAST_BUF_GO, "BCAST_BUF_GO", FROM_ALLOCATOR, 0, 0, 0},
	{MSG_BCAST_DATA, "BCAST_DATA", FROM_NODE, 0, 0, 100},
};
#define NSPECS (sizeof(specs) / sizeof(specs[0]))

/* The run types, written down here independently of message.c's table. */
static const struct {
	uint8_t type;
	enum msg_origin from;
	int payload; /* RUN_DATA: exactly count pages; RUN_DATA_OPTIONAL: 0 or that; 0: none */
} runs[] = {
#define RUN_DATA 1
#define RUN_DATA_OPTIONAL 2
	{MSG_GRANT, FROM_ALLOCATOR, RUN_DATA_OPTIONAL},
	{MSG_REVOKE, FROM_ALLOCATOR, 0},
	{MSG_INVALIDATE, FROM_ALLOCATOR, 0},
	{MSG_PAGE_DATA, FROM_NODE, RUN_DATA},
	{MSG_INVALIDATE_ACK, FROM_NODE, 0},
	{MSG_RELEASE, FROM_NODE, RUN_DATA},
};
#define NRUNS (sizeof(runs) / sizeof(runs[0]))

/* COND_WAIT carries exactly an address; BCAST_DATA 1 .. DSM_MAX_RUN pages of bytes */
Test(message, address_and_data_payload_lengths)
{
	static const struct {
		uint8_t type;
		enum msg_origin from;
		uint32_t length;
		int ok;
	} cases[] = {
		{MSG_COND_WAIT, FROM_NODE, 8, 1},
		{MSG_COND_WAIT, FROM_NODE, 0, 0},
		{MSG_COND_WAIT, FROM_NODE, 7, 0},
		{MSG_COND_WAIT, FROM_NODE, 16, 0},
		{MSG_BCAST_DATA, FROM_NODE, 1, 1},
		{MSG_BCAST_DATA, FROM_ALLOCATOR, DSM_MAX_RUN * DSM_PAGE_SIZE, 1},
		{MSG_BCAST_DATA, FROM_NODE, 0, 0},
		{MSG_BCAST_DATA, FROM_NODE, DSM_MAX_RUN * DSM_PAGE_SIZE + 1, 0},
		{MSG_BCAST_DATA, FROM_PROXY, 1, 0},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		static uint8_t b[DSM_MAX_MESSAGE + 8];
		struct msg in = {.type = cases[i].type, .length = cases[i].length}, out;
		size_t total = 0;
		const char *why = NULL;
		const struct msg_limits lim = {0, 0};

		msg_encode(&in, b);
		enum decode_result d = msg_decode(b, DSM_HEADER_SIZE + cases[i].length,
						  cases[i].from, &lim, &out, &total, &why);
		cr_expect_eq(d, cases[i].ok ? DECODE_OK : DECODE_BAD, "%s length %u from %d",
			     msg_type_name(cases[i].type), cases[i].length, cases[i].from);
	}
}

static const struct msg_limits no_limits = {0, 0};
static const struct msg_limits limits = {.npages = 100, .nnodes = 8};

/* room for the longest message and some bytes of a next one */
static uint8_t buf[DSM_MAX_MESSAGE + 64];

/* Encode a header into buf and return what msg_decode says about buf[0..len). */
static enum decode_result decode_hdr(const struct msg *in, size_t len, enum msg_origin from,
				     const struct msg_limits *lim, struct msg *out, size_t *total,
				     const char **why)
{
	msg_encode(in, buf);
	*why = NULL;
	return msg_decode(buf, len, from, lim, out, total, why);
}

/* Assert that the header in buf is rejected. */
static void expect_bad_buf(size_t len, enum msg_origin from, const struct msg_limits *lim,
			   const char *what)
{
	struct msg out;
	size_t total = 12345;
	const char *why = NULL;
	enum decode_result d = msg_decode(buf, len, from, lim, &out, &total, &why);

	cr_assert_eq(d, DECODE_BAD, "%s: expected DECODE_BAD, got %d", what, d);
	cr_assert_not_null(why, "%s: no reason given", what);
	cr_assert_gt(strlen(why), 0, "%s: empty reason", what);
}

static void expect_bad(const struct msg *m, enum msg_origin from, const struct msg_limits *lim,
		       const char *what)
{
	msg_encode(m, buf);
	expect_bad_buf(DSM_HEADER_SIZE + m->length, from, lim, what);
}

static void expect_ok(const struct msg *m, enum msg_origin from, const struct msg_limits *lim,
		      const char *what)
{
	struct msg out;
	size_t total = 0;
	const char *why = NULL;
	enum decode_result d = decode_hdr(m, DSM_HEADER_SIZE + m->length, from, lim, &out, &total,
					  &why);

	cr_assert_eq(d, DECODE_OK, "%s: expected DECODE_OK, got %d (%s)", what, d,
		     why ? why : "");
	cr_assert_eq(total, DSM_HEADER_SIZE + m->length, "%s: total", what);
}

Test(message, round_trip_every_type)
{
	for (size_t i = 0; i < NSPECS; i++) {
		const struct spec *s = &specs[i];
		struct msg in = {
			.type = s->type,
			.flags = s->flags,
			/* < npages: legal even where page is an index; a run ends
			 * at the region's last page */
			.page = s->count ? limits.npages - s->count : 99,
			/* < nnodes: legal even where node is an id; else the count */
			.node = s->count ? s->count : 7,
			.length = s->length,
			.arg = 0xfedcba9876543210ull + i,
		};
		struct msg out;
		size_t total = 0;
		const char *why = NULL;

		memset(&out, 0xee, sizeof(out));
		msg_encode(&in, buf);
		for (uint32_t k = 0; k < s->length; k++)
			buf[DSM_HEADER_SIZE + k] = (uint8_t)(k * 7 + i);
		cr_assert_eq(msg_decode(buf, DSM_HEADER_SIZE + s->length, s->from, &limits, &out,
					&total, &why),
			     DECODE_OK, "%s: %s", s->name, why ? why : "");
		cr_assert_eq(out.type, in.type, "%s type", s->name);
		cr_assert_eq(out.flags, in.flags, "%s flags", s->name);
		cr_assert_eq(out.page, in.page, "%s page", s->name);
		cr_assert_eq(out.node, in.node, "%s node", s->name);
		cr_assert_eq(out.length, in.length, "%s length", s->name);
		cr_assert_eq(out.arg, in.arg, "%s arg", s->name);
		cr_assert_eq(total, DSM_HEADER_SIZE + s->length, "%s total", s->name);
	}
}

Test(message, round_trip_extreme_values)
{
	/* fields that are counts or addresses are not limit-checked */
	struct msg in = {.type = MSG_CHUNK, .page = 0xffffffffu, .node = 0xffffffffu,
			 .arg = 0xffffffffffffffffull};
	struct msg out;
	size_t total = 0;
	const char *why = NULL;

	cr_assert_eq(decode_hdr(&in, DSM_HEADER_SIZE, FROM_ALLOCATOR, &limits, &out, &total, &why),
		     DECODE_OK);
	cr_assert_eq(out.page, 0xffffffffu);
	cr_assert_eq(out.node, 0xffffffffu);
	cr_assert_eq(out.arg, 0xffffffffffffffffull);
	cr_assert_eq(total, DSM_HEADER_SIZE);
}

Test(message, flags_zero_also_legal_where_flags_exist)
{
	struct msg m = {.type = MSG_FAULT, .flags = 0, .page = 1, .node = 1};

	expect_ok(&m, FROM_NODE, &limits, "FAULT read");
	m.type = MSG_INVALIDATE;
	m.node = 1; /* a run of one page */
	expect_ok(&m, FROM_ALLOCATOR, &limits, "INVALIDATE without WANT_DATA");
}

/* The control channel has its own origin: what only a proxy may say (the
 * node's link was lost) is refused from a node, and no flag of EXIT makes a
 * node's EXIT mean anything else. */
Test(message, proxy_only_messages_are_refused_from_nodes)
{
	struct msg lost = {.type = MSG_LINK_LOST, .arg = 12345};
	struct msg exit_flagged = {.type = MSG_EXIT, .flags = 0x04};
	struct msg forwarded = {.type = MSG_BARRIER};

	expect_ok(&lost, FROM_PROXY, &limits, "LINK_LOST from a proxy");
	expect_bad(&lost, FROM_NODE, &limits, "LINK_LOST from a node");
	expect_bad(&lost, FROM_ALLOCATOR, &limits, "LINK_LOST to a node");
	expect_bad(&exit_flagged, FROM_NODE, &limits, "EXIT with the old DIED flag");
	expect_bad(&exit_flagged, FROM_PROXY, &limits, "EXIT with the old DIED flag, forwarded");
	expect_ok(&forwarded, FROM_PROXY, &limits, "BARRIER forwarded by a proxy");
	forwarded.type = MSG_FAULT;
	forwarded.page = 1;
	forwarded.node = 1;
	expect_bad(&forwarded, FROM_PROXY, &limits, "FAULT on the control channel");
}

Test(message, encode_layout_is_little_endian)
{
	struct msg m = {
		.type = MSG_GRANT,
		.flags = MSGF_WRITE,
		.page = 0x01020304u,
		.node = 0x0a0b0c0du,
		.length = 0x00001000u,
		.arg = 0x1122334455667788ull,
	};
	static const uint8_t want[DSM_HEADER_SIZE] = {
		0x04, 0x01, 0x00, 0x00,                         /* type, flags, reserved */
		0x04, 0x03, 0x02, 0x01,                         /* page */
		0x0d, 0x0c, 0x0b, 0x0a,                         /* node */
		0x00, 0x10, 0x00, 0x00,                         /* length */
		0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, /* arg */
	};
	uint8_t out[DSM_HEADER_SIZE];

	memset(out, 0xaa, sizeof(out));
	msg_encode(&m, out);
	for (unsigned i = 0; i < DSM_HEADER_SIZE; i++)
		cr_assert_eq(out[i], want[i], "byte %u: got 0x%02x, want 0x%02x", i, out[i], want[i]);
}

Test(message, decode_known_bytes)
{
	/* FAULT write, page 0x0102, node 0x02 (a pair), arg 0x0405060708090a0b */
	static const uint8_t in[DSM_HEADER_SIZE] = {
		0x03, 0x01, 0x00, 0x00, 0x02, 0x01, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x0b, 0x0a, 0x09, 0x08, 0x07, 0x06, 0x05, 0x04,
	};
	struct msg m;
	size_t total = 0;
	const char *why = NULL;

	cr_assert_eq(msg_decode(in, sizeof(in), FROM_NODE, &no_limits, &m, &total, &why),
		     DECODE_OK);
	cr_assert_eq(m.type, MSG_FAULT);
	cr_assert_eq(m.flags, MSGF_WRITE);
	cr_assert_eq(m.page, 0x0102u);
	cr_assert_eq(m.node, 2u);
	cr_assert_eq(m.length, 0u);
	cr_assert_eq(m.arg, 0x0405060708090a0bull);
	cr_assert_eq(total, 24u);
}

Test(message, wire_type_numbers_are_stable)
{
	/* the numbers are on the wire: changing them breaks mixed versions */
	cr_assert_eq(MSG_HELLO, 1);
	cr_assert_eq(MSG_FAULT, 3);
	cr_assert_eq(MSG_GRANT, 4);
	cr_assert_eq(MSG_PAGE_DATA, 7);
	cr_assert_eq(MSG_ERROR, 18);
	cr_assert_eq(MSG_PING, 19);
	cr_assert_eq(MSG_PONG, 20);
	cr_assert_eq(MSG_LINK_LOST, 21);
	cr_assert_eq(MSG_LOCK, 22);
	cr_assert_eq(MSG_COND_WAIT, 25);
	cr_assert_eq(MSG_BCAST_DATA, 29);
	cr_assert_eq(MSG_TYPE_COUNT, 30);
	cr_assert_eq(DSM_HEADER_SIZE, 24u);
}

Test(message, reject_unknown_types)
{
	static const unsigned bad[] = {MSG_NONE, MSG_TYPE_COUNT, MSG_TYPE_COUNT + 1, 0x7f, 0xff};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct msg m = {.type = (uint8_t)bad[i]};

		msg_encode(&m, buf);
		expect_bad_buf(DSM_HEADER_SIZE, FROM_NODE, &no_limits, "unknown type from node");
		expect_bad_buf(DSM_HEADER_SIZE, FROM_ALLOCATOR, &no_limits,
			       "unknown type from allocator");
	}
}

Test(message, reject_wrong_origin_for_every_type)
{
	for (size_t i = 0; i < NSPECS; i++) {
		const struct spec *s = &specs[i];
		struct msg m = {.type = s->type, .flags = s->flags, .page = 1,
				.node = s->count ? s->count : 1, .length = s->length};
		enum msg_origin wrong = s->from == FROM_NODE ? FROM_ALLOCATOR : FROM_NODE;

		expect_ok(&m, s->from, &limits, s->name);
		/* the root's pieces go on from its proxy to the others */
		if (s->type == MSG_BCAST_DATA)
			wrong = FROM_PROXY;
		expect_bad(&m, wrong, &limits, s->name);
	}
}

Test(message, reject_grant_from_node_and_fault_from_allocator)
{
	/* legal in every other respect: only the sender is wrong */
	struct msg grant = {.type = MSG_GRANT, .page = 1, .node = 1};
	struct msg fault = {.type = MSG_FAULT, .page = 1, .node = 1};

	expect_ok(&grant, FROM_ALLOCATOR, &no_limits, "GRANT from the allocator");
	expect_ok(&fault, FROM_NODE, &no_limits, "FAULT from a node");
	expect_bad(&grant, FROM_NODE, &no_limits, "GRANT from a node");
	expect_bad(&fault, FROM_ALLOCATOR, &no_limits, "FAULT from the allocator");
}

Test(message, reject_nonzero_reserved_bytes)
{
	struct msg m = {.type = MSG_BARRIER};

	expect_ok(&m, FROM_NODE, &no_limits, "clean BARRIER");
	msg_encode(&m, buf);
	buf[2] = 0x01;
	expect_bad_buf(DSM_HEADER_SIZE, FROM_NODE, &no_limits, "reserved byte 2");
	msg_encode(&m, buf);
	buf[3] = 0x80;
	expect_bad_buf(DSM_HEADER_SIZE, FROM_NODE, &no_limits, "reserved byte 3");
}

Test(message, reject_illegal_flags)
{
	static const struct {
		uint8_t type;
		enum msg_origin from;
		uint8_t flags;
	} bad[] = {
		{MSG_FAULT, FROM_NODE, MSGF_WANT_DATA},
		{MSG_FAULT, FROM_NODE, MSGF_WRITE | 0x04},
		{MSG_GRANT, FROM_ALLOCATOR, MSGF_WANT_DATA},
		{MSG_INVALIDATE, FROM_ALLOCATOR, MSGF_WRITE},
		{MSG_REVOKE, FROM_ALLOCATOR, MSGF_WRITE},
		{MSG_EXIT, FROM_NODE, MSGF_WRITE},
		{MSG_BARRIER, FROM_NODE, 0x80},
		{MSG_INVALIDATE_ACK, FROM_NODE, MSGF_WANT_DATA},
		{MSG_ERROR, FROM_ALLOCATOR, 0x04},
		/* FRESH belongs to CHUNK alone */
		{MSG_GRANT, FROM_ALLOCATOR, MSGF_FRESH},
		{MSG_GRANT, FROM_ALLOCATOR, MSGF_WRITE | MSGF_FRESH},
		{MSG_FAULT, FROM_NODE, MSGF_FRESH},
		{MSG_MALLOC, FROM_NODE, MSGF_FRESH},
		{MSG_RELEASE, FROM_NODE, MSGF_FRESH},
		{MSG_PAGE_DATA, FROM_NODE, MSGF_FRESH},
		{MSG_INVALIDATE, FROM_ALLOCATOR, MSGF_WANT_DATA | MSGF_FRESH},
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* a run of one page where the node field is a count */
		struct msg m = {.type = bad[i].type, .flags = 0, .page = 1, .node = 1};
		int data = m.type == MSG_PAGE_DATA || m.type == MSG_RELEASE;

		m.length = data ? DSM_PAGE_SIZE : 0;
		/* the same message without the flags is fine: the flags are what is wrong */
		expect_ok(&m, bad[i].from, &limits, msg_type_name(m.type));
		m.flags = bad[i].flags;
		expect_bad(&m, bad[i].from, &limits, msg_type_name(m.type));
	}
}

Test(message, chunk_fresh_flag_legal_other_flags_not)
{
	static const uint8_t bad[] = {MSGF_WRITE, MSGF_WANT_DATA, MSGF_TRY, MSGF_BUSY, MSGF_ALL,
				      0x80, MSGF_FRESH | MSGF_WRITE, MSGF_FRESH | MSGF_TRY, 0xff};
	struct msg m = {.type = MSG_CHUNK, .page = 64, .arg = 0x566000010000ull};

	expect_ok(&m, FROM_ALLOCATOR, &limits, "CHUNK");
	m.flags = MSGF_FRESH;
	expect_ok(&m, FROM_ALLOCATOR, &limits, "CHUNK FRESH");
	/* CHUNK.page is a count of pages, not an index: a fresh chunk bigger
	 * than a run or than what the limits say is not the decoder's business */
	m.page = 100000;
	expect_ok(&m, FROM_ALLOCATOR, &limits, "big CHUNK FRESH");
	m.flags = MSGF_FRESH | MSGF_COLLECTIVE;
	expect_ok(&m, FROM_ALLOCATOR, &limits, "CHUNK FRESH COLLECTIVE");
	for (size_t i = 0; i < sizeof(bad); i++) {
		m.flags = bad[i];
		expect_bad(&m, FROM_ALLOCATOR, &limits, "CHUNK with an unknown flag");
	}
	m.flags = MSGF_FRESH;
	expect_bad(&m, FROM_NODE, &limits, "CHUNK FRESH from a node");
	cr_assert_eq(MSGF_FRESH, 0x04u, "the flag's value is on the wire");
}

/* Lengths judged for a run of `count` pages at page 1. */
static void check_lengths_run(uint8_t type, enum msg_origin from, uint32_t count,
			      const uint32_t *good, size_t ngood, const uint32_t *badl, size_t nbad)
{
	for (size_t i = 0; i < ngood; i++) {
		struct msg m = {.type = type, .page = 1, .node = count, .length = good[i]};

		expect_ok(&m, from, &limits, msg_type_name(type));
	}
	for (size_t i = 0; i < nbad; i++) {
		struct msg m = {.type = type, .page = 1, .node = count, .length = badl[i]};

		msg_encode(&m, buf);
		/* the length is judged from the header alone, payload present or not */
		expect_bad_buf(DSM_HEADER_SIZE, from, &limits, msg_type_name(type));
		if (badl[i] <= sizeof(buf) - DSM_HEADER_SIZE)
			expect_bad_buf(DSM_HEADER_SIZE + badl[i], from, &limits, msg_type_name(type));
	}
}

static void check_lengths(uint8_t type, enum msg_origin from, const uint32_t *good, size_t ngood,
			  const uint32_t *badl, size_t nbad)
{
	check_lengths_run(type, from, 1, good, ngood, badl, nbad);
}

Test(message, payload_page_must_be_exactly_one_page)
{
	/* a run of one page carries exactly one page */
	static const uint32_t good[] = {DSM_PAGE_SIZE};
	static const uint32_t bad[] = {0, 1, DSM_SECRET_LEN, DSM_PAGE_SIZE - 1, DSM_PAGE_SIZE + 1,
				       2 * DSM_PAGE_SIZE, 0xffffffffu};

	check_lengths(MSG_PAGE_DATA, FROM_NODE, good, 1, bad, sizeof(bad) / sizeof(bad[0]));
	check_lengths(MSG_RELEASE, FROM_NODE, good, 1, bad, sizeof(bad) / sizeof(bad[0]));
}

Test(message, payload_of_a_run_is_exactly_count_pages)
{
	static const uint32_t counts[] = {2, 3, 17, 63, DSM_MAX_RUN};

	for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
		uint32_t n = counts[c];
		const uint32_t good[] = {n * DSM_PAGE_SIZE};
		const uint32_t bad[] = {0,
					DSM_PAGE_SIZE,
					(n - 1) * DSM_PAGE_SIZE,
					(n + 1) * DSM_PAGE_SIZE,
					n * DSM_PAGE_SIZE - 1,
					n * DSM_PAGE_SIZE + 1,
					DSM_MAX_RUN * DSM_PAGE_SIZE + DSM_PAGE_SIZE,
					0x80000000u,
					0xffffffffu};
		size_t nbad = sizeof(bad) / sizeof(bad[0]);

		check_lengths_run(MSG_PAGE_DATA, FROM_NODE, n, good, 1, bad, nbad);
		check_lengths_run(MSG_RELEASE, FROM_NODE, n, good, 1, bad, nbad);
		/* the header-only run types stay header-only whatever the count */
		const uint32_t none[] = {0};
		const uint32_t some[] = {DSM_PAGE_SIZE, n * DSM_PAGE_SIZE};

		check_lengths_run(MSG_REVOKE, FROM_ALLOCATOR, n, none, 1, some, 2);
		check_lengths_run(MSG_INVALIDATE, FROM_ALLOCATOR, n, none, 1, some, 2);
		check_lengths_run(MSG_INVALIDATE_ACK, FROM_NODE, n, none, 1, some, 2);
	}
}

Test(message, grant_payload_is_none_or_count_pages)
{
	static const uint32_t counts[] = {1, 2, 5, 32, DSM_MAX_RUN};

	for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
		uint32_t n = counts[c];
		const uint32_t good[] = {0, n * DSM_PAGE_SIZE};
		const uint32_t bad[] = {1,
					DSM_SECRET_LEN,
					n * DSM_PAGE_SIZE - 1,
					n * DSM_PAGE_SIZE + 1,
					(n + 1) * DSM_PAGE_SIZE,
					n > 1 ? DSM_PAGE_SIZE : 2 * DSM_PAGE_SIZE,
					n > 1 ? (n - 1) * DSM_PAGE_SIZE : 3 * DSM_PAGE_SIZE,
					0xffffffffu};

		check_lengths_run(MSG_GRANT, FROM_ALLOCATOR, n, good, 2, bad,
				  sizeof(bad) / sizeof(bad[0]));
	}
}

Test(message, payload_secret_must_be_exactly_32)
{
	static const uint32_t good[] = {DSM_SECRET_LEN};
	static const uint32_t bad[] = {0, 1, DSM_SECRET_LEN - 1, DSM_SECRET_LEN + 1, DSM_PAGE_SIZE};

	check_lengths(MSG_HELLO, FROM_NODE, good, 1, bad, sizeof(bad) / sizeof(bad[0]));
}

Test(message, payload_optional_is_zero_or_one_page)
{
	/* a GRANT of one page */
	static const uint32_t good[] = {0, DSM_PAGE_SIZE};
	static const uint32_t bad[] = {1, DSM_SECRET_LEN, DSM_PAGE_SIZE - 1, DSM_PAGE_SIZE + 1,
				       0x80000000u};

	check_lengths(MSG_GRANT, FROM_ALLOCATOR, good, 2, bad, sizeof(bad) / sizeof(bad[0]));
}

Test(message, payload_none_must_be_empty)
{
	static const uint32_t good[] = {0};
	static const uint32_t bad[] = {1, DSM_SECRET_LEN, DSM_PAGE_SIZE};

	for (size_t i = 0; i < NSPECS; i++) {
		if (specs[i].length != 0)
			continue;
		check_lengths(specs[i].type, specs[i].from, good, 1, bad,
			      sizeof(bad) / sizeof(bad[0]));
	}
}

Test(message, page_index_checked_against_npages)
{
	static const struct {
		uint8_t type;
		enum msg_origin from;
		uint32_t length;
	} indexed[] = {
		{MSG_FAULT, FROM_NODE, 0},
		{MSG_GRANT, FROM_ALLOCATOR, 0},
		{MSG_REVOKE, FROM_ALLOCATOR, 0},
		{MSG_INVALIDATE, FROM_ALLOCATOR, 0},
		{MSG_PAGE_DATA, FROM_NODE, DSM_PAGE_SIZE},
		{MSG_INVALIDATE_ACK, FROM_NODE, 0},
		{MSG_RELEASE, FROM_NODE, DSM_PAGE_SIZE},
	};

	for (size_t i = 0; i < sizeof(indexed) / sizeof(indexed[0]); i++) {
		/* node 1: a run of one page (for FAULT: one page) */
		struct msg m = {.type = indexed[i].type, .node = 1, .length = indexed[i].length};
		const char *name = msg_type_name(m.type);

		m.page = limits.npages - 1;
		expect_ok(&m, indexed[i].from, &limits, name);
		m.page = limits.npages;
		expect_bad(&m, indexed[i].from, &limits, name);
		m.page = 0xffffffffu;
		expect_bad(&m, indexed[i].from, &limits, name);
		/* npages unknown: not checked */
		expect_ok(&m, indexed[i].from, &no_limits, name);
	}
}

/* A run message of count pages at page, with the payload its type requires
 * (GRANT: with data when with_data). */
static struct msg run_msg(size_t i, uint32_t page, uint32_t count, int with_data)
{
	struct msg m = {.type = runs[i].type, .page = page, .node = count};

	if (runs[i].payload == RUN_DATA || (runs[i].payload == RUN_DATA_OPTIONAL && with_data))
		m.length = count * DSM_PAGE_SIZE;
	return m;
}

Test(message, run_count_from_1_to_max_run)
{
	for (size_t i = 0; i < NRUNS; i++) {
		const char *name = msg_type_name(runs[i].type);
		struct msg m;

		for (uint32_t n = 1; n <= DSM_MAX_RUN; n++) {
			m = run_msg(i, 0, n, 1);
			expect_ok(&m, runs[i].from, &limits, name);
			m = run_msg(i, 0, n, 0);
			expect_ok(&m, runs[i].from, &no_limits, name);
		}
		/* no pages: whatever the payload */
		m = run_msg(i, 0, 0, 1);
		expect_bad(&m, runs[i].from, &limits, name);
		expect_bad(&m, runs[i].from, &no_limits, name);
		m.length = DSM_PAGE_SIZE;
		expect_bad(&m, runs[i].from, &no_limits, name);
		/* one page more than a run may have, with its payload */
		m = run_msg(i, 0, DSM_MAX_RUN + 1, 1);
		expect_bad(&m, runs[i].from, &limits, name);
		expect_bad(&m, runs[i].from, &no_limits, name);
		/* counts whose page total would overflow 32 bits */
		static const uint32_t huge[] = {0x100000u, 0x80000000u, 0xffffffffu};

		for (size_t k = 0; k < sizeof(huge) / sizeof(huge[0]); k++) {
			m = run_msg(i, 0, 1, 0);
			m.node = huge[k];
			m.length = huge[k] * DSM_PAGE_SIZE; /* wraps to 0 for some */
			expect_bad(&m, runs[i].from, &no_limits, name);
			m.length = 0;
			expect_bad(&m, runs[i].from, &no_limits, name);
		}
	}
}

Test(message, run_must_end_inside_the_region)
{
	for (size_t i = 0; i < NRUNS; i++) {
		const char *name = msg_type_name(runs[i].type);
		uint32_t np = limits.npages;
		struct msg m;

		/* the longest run, ending exactly at the region's last page */
		m = run_msg(i, np - DSM_MAX_RUN, DSM_MAX_RUN, 1);
		expect_ok(&m, runs[i].from, &limits, name);
		/* one page further: its last page is outside */
		m = run_msg(i, np - DSM_MAX_RUN + 1, DSM_MAX_RUN, 1);
		expect_bad(&m, runs[i].from, &limits, name);
		/* short runs: ending at the end is fine, one past it is not */
		for (uint32_t n = 1; n <= 5; n++) {
			m = run_msg(i, np - n, n, 0);
			expect_ok(&m, runs[i].from, &limits, name);
			m = run_msg(i, np - n + 1, n, 0);
			expect_bad(&m, runs[i].from, &limits, name);
			m = run_msg(i, np - 1, n + 1, 1);
			expect_bad(&m, runs[i].from, &limits, name);
		}
		/* a first page past the end, and one that would wrap page + count */
		m = run_msg(i, np, 1, 0);
		expect_bad(&m, runs[i].from, &limits, name);
		m = run_msg(i, 0xffffffffu, 1, 0);
		expect_bad(&m, runs[i].from, &limits, name);
		m = run_msg(i, 0xffffffc1u, DSM_MAX_RUN, 0); /* page + count = 2^32 + 1 */
		expect_bad(&m, runs[i].from, &limits, name);
		/* npages unknown: the count is still checked, the page is not */
		m = run_msg(i, 0xffffffc0u, DSM_MAX_RUN, 0);
		expect_ok(&m, runs[i].from, &no_limits, name);
		m = run_msg(i, 0xffffffc0u, DSM_MAX_RUN + 1, 0);
		expect_bad(&m, runs[i].from, &no_limits, name);
	}
}

Test(message, run_in_a_region_smaller_than_a_run)
{
	const struct msg_limits tiny = {.npages = 10, .nnodes = 2};
	const struct msg_limits one = {.npages = 1, .nnodes = 1};

	for (size_t i = 0; i < NRUNS; i++) {
		const char *name = msg_type_name(runs[i].type);
		struct msg m;

		m = run_msg(i, 0, 10, 1);
		expect_ok(&m, runs[i].from, &tiny, name);
		m = run_msg(i, 0, 11, 1);
		expect_bad(&m, runs[i].from, &tiny, name);
		m = run_msg(i, 9, 1, 1);
		expect_ok(&m, runs[i].from, &tiny, name);
		m = run_msg(i, 9, 2, 1);
		expect_bad(&m, runs[i].from, &tiny, name);
		m = run_msg(i, 0, DSM_MAX_RUN, 0);
		expect_bad(&m, runs[i].from, &tiny, name);
		m = run_msg(i, 0, 1, 1);
		expect_ok(&m, runs[i].from, &one, name);
		m = run_msg(i, 0, 2, 1);
		expect_bad(&m, runs[i].from, &one, name);
	}
}

Test(message, fault_counts_one_page_or_a_pair)
{
	/* node = 1, or 2: one instruction needs page and page+1 at once */
	struct msg m = {.type = MSG_FAULT, .flags = MSGF_WRITE, .page = limits.npages - 1,
			.node = 1};

	expect_ok(&m, FROM_NODE, &limits, "FAULT on the last page");
	m.node = 2;
	expect_bad(&m, FROM_NODE, &limits, "FAULT pair past the last page");
	expect_ok(&m, FROM_NODE, &no_limits, "FAULT pair, npages unknown");
	m.page = limits.npages - 2;
	expect_ok(&m, FROM_NODE, &limits, "FAULT pair ending at the last page");
	m.node = 0;
	expect_bad(&m, FROM_NODE, &limits, "FAULT on no pages");
	expect_bad(&m, FROM_NODE, &no_limits, "FAULT on no pages, npages unknown");
	m.node = DSM_MAX_FAULT_PAGES + 1;
	expect_bad(&m, FROM_NODE, &limits, "FAULT on three pages");
	m.node = DSM_MAX_RUN;
	expect_bad(&m, FROM_NODE, &no_limits, "FAULT is no run");
	m.node = 0xffffffffu;
	m.page = 0;
	expect_bad(&m, FROM_NODE, &no_limits, "FAULT count that would wrap");
	cr_assert_eq(DSM_MAX_FAULT_PAGES, 2u);
}

Test(message, page_not_an_index_is_not_checked)
{
	/* WELCOME.page is the region size and CHUNK.page a count */
	struct msg m = {.type = MSG_WELCOME, .page = limits.npages, .node = 1000};

	expect_ok(&m, FROM_ALLOCATOR, &limits, "WELCOME");
	m.type = MSG_CHUNK;
	m.page = 5000;
	expect_ok(&m, FROM_ALLOCATOR, &limits, "CHUNK");
	m.type = MSG_ERROR;
	m.page = 0xffffffffu;
	expect_ok(&m, FROM_ALLOCATOR, &limits, "ERROR");
}

Test(message, hello_node_checked_against_nnodes)
{
	struct msg m = {.type = MSG_HELLO, .length = DSM_SECRET_LEN};

	m.node = limits.nnodes - 1;
	expect_ok(&m, FROM_NODE, &limits, "HELLO last node");
	m.node = 0;
	expect_ok(&m, FROM_NODE, &limits, "HELLO node 0");
	m.node = limits.nnodes;
	expect_bad(&m, FROM_NODE, &limits, "HELLO node == nnodes");
	m.node = 0xffffffffu;
	expect_bad(&m, FROM_NODE, &limits, "HELLO huge node");
	expect_ok(&m, FROM_NODE, &no_limits, "HELLO nnodes unknown");
}

Test(message, node_field_of_other_types_not_checked)
{
	/* BCAST's root is judged by the allocator; ERROR's node is detail */
	struct msg m = {.type = MSG_BCAST, .node = limits.nnodes + 5};

	expect_ok(&m, FROM_NODE, &limits, "BCAST");
	m.type = MSG_ERROR;
	expect_ok(&m, FROM_ALLOCATOR, &limits, "ERROR");
}

Test(message, short_header_is_incomplete)
{
	struct msg m = {.type = MSG_BARRIER};
	struct msg out;

	msg_encode(&m, buf);
	for (size_t len = 0; len < DSM_HEADER_SIZE; len++) {
		size_t total = 777;
		const char *why = NULL;

		cr_assert_eq(msg_decode(buf, len, FROM_NODE, &limits, &out, &total, &why),
			     DECODE_INCOMPLETE, "len %zu", len);
		cr_assert_eq(total, 777u, "total must not be set for len %zu", len);
	}
	/* even a header that would be bad is only incomplete while short */
	buf[0] = 0;
	{
		size_t total = 0;
		const char *why = NULL;

		cr_assert_eq(msg_decode(buf, DSM_HEADER_SIZE - 1, FROM_NODE, &limits, &out, &total,
					&why),
			     DECODE_INCOMPLETE);
	}
}

Test(message, payload_incomplete_then_complete)
{
	struct msg m = {.type = MSG_PAGE_DATA, .page = 3, .node = 1, .length = DSM_PAGE_SIZE};
	struct msg out;
	size_t total = 0;
	const char *why = NULL;

	msg_encode(&m, buf);
	for (size_t len = DSM_HEADER_SIZE; len < DSM_HEADER_SIZE + DSM_PAGE_SIZE; len += 511)
		cr_assert_eq(msg_decode(buf, len, FROM_NODE, &limits, &out, &total, &why),
			     DECODE_INCOMPLETE, "len %zu", len);
	cr_assert_eq(msg_decode(buf, DSM_HEADER_SIZE + DSM_PAGE_SIZE - 1, FROM_NODE, &limits, &out,
				&total, &why),
		     DECODE_INCOMPLETE);
	cr_assert_eq(msg_decode(buf, DSM_HEADER_SIZE + DSM_PAGE_SIZE, FROM_NODE, &limits, &out,
				&total, &why),
		     DECODE_OK);
	cr_assert_eq(total, DSM_HEADER_SIZE + DSM_PAGE_SIZE);
	/* bytes of a following message do not change the total */
	cr_assert_eq(msg_decode(buf, sizeof(buf), FROM_NODE, &limits, &out, &total, &why),
		     DECODE_OK);
	cr_assert_eq(total, DSM_HEADER_SIZE + DSM_PAGE_SIZE);
}

Test(message, longest_run_incomplete_then_complete)
{
	struct msg m = {.type = MSG_RELEASE, .page = limits.npages - DSM_MAX_RUN,
			.node = DSM_MAX_RUN, .length = DSM_MAX_RUN * DSM_PAGE_SIZE};
	struct msg out;
	size_t total = 0;
	const char *why = NULL;

	cr_assert_eq(DSM_MAX_MESSAGE, DSM_HEADER_SIZE + DSM_MAX_RUN * DSM_PAGE_SIZE);
	msg_encode(&m, buf);
	for (size_t len = DSM_HEADER_SIZE; len < DSM_MAX_MESSAGE; len += 4093)
		cr_assert_eq(msg_decode(buf, len, FROM_NODE, &limits, &out, &total, &why),
			     DECODE_INCOMPLETE, "len %zu", len);
	cr_assert_eq(msg_decode(buf, DSM_MAX_MESSAGE - 1, FROM_NODE, &limits, &out, &total, &why),
		     DECODE_INCOMPLETE);
	cr_assert_eq(msg_decode(buf, DSM_MAX_MESSAGE, FROM_NODE, &limits, &out, &total, &why),
		     DECODE_OK, "%s", why ? why : "");
	cr_assert_eq(total, DSM_MAX_MESSAGE);
	cr_assert_eq(out.page, limits.npages - DSM_MAX_RUN);
	cr_assert_eq(out.node, DSM_MAX_RUN);
	cr_assert_eq(msg_decode(buf, sizeof(buf), FROM_NODE, &limits, &out, &total, &why),
		     DECODE_OK);
	cr_assert_eq(total, DSM_MAX_MESSAGE);
}

Test(message, hello_secret_incomplete)
{
	struct msg m = {.type = MSG_HELLO, .node = 2, .length = DSM_SECRET_LEN};
	struct msg out;
	size_t total = 0;
	const char *why = NULL;

	msg_encode(&m, buf);
	cr_assert_eq(msg_decode(buf, DSM_HEADER_SIZE + DSM_SECRET_LEN - 1, FROM_NODE, &limits, &out,
				&total, &why),
		     DECODE_INCOMPLETE);
	cr_assert_eq(msg_decode(buf, DSM_HEADER_SIZE + DSM_SECRET_LEN, FROM_NODE, &limits, &out,
				&total, &why),
		     DECODE_OK);
	cr_assert_eq(total, DSM_HEADER_SIZE + DSM_SECRET_LEN);
}

Test(message, type_names)
{
	for (size_t i = 0; i < NSPECS; i++)
		cr_assert_str_eq(msg_type_name(specs[i].type), specs[i].name);
	cr_assert_str_eq(msg_type_name(MSG_NONE), "?");
	cr_assert_str_eq(msg_type_name(MSG_TYPE_COUNT), "?");
	cr_assert_str_eq(msg_type_name(255), "?");
	cr_assert_str_eq(msg_type_name(0xffffffffu), "?");
	/* every type in the enum is covered by the table above */
	cr_assert_eq(NSPECS, (size_t)MSG_TYPE_COUNT - 1);
}
