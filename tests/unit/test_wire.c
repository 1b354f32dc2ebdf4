/*
 * test_wire.c - the send and receive path (common/wire.c) over real
 * AF_UNIX stream socketpairs: wire_send/wire_send_simple to a wire_reader,
 * hundreds of messages back to back from a child process (a full
 * non-blocking socket, the reader's buffer compaction), a partial write
 * forced and seen to happen, messages trickling in a byte at a time, end of
 * file, malformed input and a vanished peer. Runs of up to DSM_MAX_RUN pages (the longest messages) go
 * through whole, in pieces, and back to back through the smallest reader.
 * wire_batch: nothing sent before the flush, a full batch sent before the
 * next message, 32 longest runs in one sendmsg through a tiny socket buffer,
 * and a flush to a vanished peer.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../common/wire.h"

static uint8_t rbuf[WIRE_READER_CAPACITY];
static int sv[2];

static void open_pair(void)
{
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0, "socketpair: %s",
		     strerror(errno));
}

static void close_pair(void)
{
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
}

TestSuite(wire, .init = open_pair, .fini = close_pair, .timeout = 20);

static void set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	cr_assert_geq(fl, 0);
	cr_assert_eq(fcntl(fd, F_SETFL, fl | O_NONBLOCK), 0);
}

/* Deterministic page contents for message i. */
static void fill_pattern(uint8_t *p, size_t len, unsigned i)
{
	for (size_t k = 0; k < len; k++)
		p[k] = (uint8_t)(k * 13u + i * 101u + (k >> 8));
}

static int check_pattern(const uint8_t *p, size_t len, unsigned i)
{
	for (size_t k = 0; k < len; k++)
		if (p[k] != (uint8_t)(k * 13u + i * 101u + (k >> 8)))
			return 0;
	return 1;
}

/* Wait for and return the next message; fails the test on BAD or EOF. */
static void recv_one(struct wire_reader *r, struct msg *m, const uint8_t **payload)
{
	for (;;) {
		const char *why = NULL;
		enum decode_result d = wire_next(r, m, payload, &why);

		if (d == DECODE_OK)
			return;
		cr_assert_eq(d, DECODE_INCOMPLETE, "wire_next: %s", why ? why : "?");
		enum fill_result f = wire_fill(r);

		if (f == FILL_AGAIN) {
			struct pollfd p = {.fd = r->fd, .events = POLLIN};

			cr_assert_eq(poll(&p, 1, 10000), 1, "no data within 10 s");
			continue;
		}
		cr_assert_eq(f, FILL_DATA, "wire_fill returned %d", f);
	}
}

Test(wire, send_then_receive_page_message)
{
	/* a run of 3 pages */
	static uint8_t page[3 * DSM_PAGE_SIZE];
	struct wire_reader r;
	struct msg in = {.type = MSG_PAGE_DATA, .page = 42, .node = 3, .length = 3 * DSM_PAGE_SIZE,
			 .arg = 0x0123456789abcdefull};
	struct msg out;
	const uint8_t *payload = NULL;

	fill_pattern(page, sizeof(page), 9);
	cr_assert_eq(wire_send(sv[0], &in, page), 0);
	wire_reader_init(&r, sv[1], FROM_NODE, rbuf, sizeof(rbuf));
	recv_one(&r, &out, &payload);
	cr_assert_eq(out.type, MSG_PAGE_DATA);
	cr_assert_eq(out.flags, 0);
	cr_assert_eq(out.page, 42u);
	cr_assert_eq(out.node, 3u);
	cr_assert_eq(out.length, 3 * DSM_PAGE_SIZE);
	cr_assert_eq(out.arg, 0x0123456789abcdefull);
	cr_assert_not_null(payload);
	cr_assert(check_pattern(payload, 3 * DSM_PAGE_SIZE, 9), "payload differs");
	/* nothing else was sent */
	set_nonblock(sv[1]);
	cr_assert_eq(wire_fill(&r), FILL_AGAIN);
}

Test(wire, send_simple_header_only)
{
	struct wire_reader r;
	struct msg out;
	const uint8_t *payload;
	const char *why = NULL;

	cr_assert_eq(wire_send_simple(sv[0], MSG_GRANT, MSGF_WRITE, 5, 6, 0x77), 0);
	cr_assert_eq(wire_send_simple(sv[0], MSG_CHUNK, 0, 16, 0, 0x600000000000ull), 0);
	wire_reader_init(&r, sv[1], FROM_ALLOCATOR, rbuf, sizeof(rbuf));
	recv_one(&r, &out, &payload);
	cr_assert_eq(out.type, MSG_GRANT);
	cr_assert_eq(out.flags, MSGF_WRITE);
	cr_assert_eq(out.page, 5u);
	cr_assert_eq(out.node, 6u);
	cr_assert_eq(out.length, 0u);
	cr_assert_eq(out.arg, 0x77u);
	recv_one(&r, &out, &payload);
	cr_assert_eq(out.type, MSG_CHUNK);
	cr_assert_eq(out.page, 16u);
	cr_assert_eq(out.arg, 0x600000000000ull);
	cr_assert_eq(wire_next(&r, &out, &payload, &why), DECODE_INCOMPLETE);
}

/*
 * Message i of a stream: kind 0 a PAGE_DATA run of 1..7 pages, kind 1 an
 * INVALIDATE_ACK run of 1..7 pages, kind 2 a HELLO (node = an id), kind 3 a
 * PAGE_DATA run of DSM_MAX_RUN pages (the longest message).
 */
static void stream_msg(unsigned i, unsigned kinds, struct msg *m)
{
	unsigned kind = i % kinds;

	*m = (struct msg){.page = i, .node = 1 + i % 7, .arg = (uint64_t)i * 1000003u};
	if (kind == 0) {
		m->type = MSG_PAGE_DATA;
		m->length = m->node * DSM_PAGE_SIZE;
	} else if (kind == 1) {
		m->type = MSG_INVALIDATE_ACK;
	} else if (kind == 2) {
		m->type = MSG_HELLO;
		m->node = i % 7;
		m->length = DSM_SECRET_LEN;
	} else {
		m->type = MSG_PAGE_DATA;
		m->node = DSM_MAX_RUN;
		m->length = DSM_MAX_RUN * DSM_PAGE_SIZE;
	}
}

/*
 * Child: send n messages (stream_msg with `kinds` kinds) as fast as a
 * non-blocking socket takes them. With small_buf the socket's send buffer is
 * the smallest possible, so the kernel accepts page messages in pieces:
 * wire_send must finish partial writes and wait in poll() when the socket
 * is full.
 */
static pid_t spawn_sender(unsigned n, unsigned kinds, int small_buf)
{
	pid_t pid = fork();

	cr_assert_geq(pid, 0);
	if (pid > 0) {
		close(sv[0]);
		sv[0] = -1;
		return pid;
	}
	static uint8_t page[DSM_MAX_RUN * DSM_PAGE_SIZE];
	int fl;

	close(sv[1]);
	if (small_buf) {
		int one = 1;

		if (setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &one, sizeof(one)) < 0)
			_exit(4);
	}
	fl = fcntl(sv[0], F_GETFL);
	if (fl < 0 || fcntl(sv[0], F_SETFL, fl | O_NONBLOCK) < 0)
		_exit(3);
	for (unsigned i = 0; i < n; i++) {
		struct msg m;

		stream_msg(i, kinds, &m);
		fill_pattern(page, m.length, i);
		if (wire_send(sv[0], &m, m.length ? page : NULL) != 0)
			_exit(1);
	}
	_exit(0);
}

static void receive_stream(size_t cap, unsigned n, unsigned kinds, int small_buf)
{
	struct wire_reader r;
	unsigned got = 0;
	pid_t pid;
	int status;

	pid = spawn_sender(n, kinds, small_buf);
	set_nonblock(sv[1]);
	wire_reader_init(&r, sv[1], FROM_NODE, rbuf, cap);
	for (;;) {
		struct msg m;
		const uint8_t *payload;
		const char *why = NULL;
		enum decode_result d;

		while ((d = wire_next(&r, &m, &payload, &why)) == DECODE_OK) {
			struct msg want;

			stream_msg(got, kinds, &want);
			cr_assert_lt(got, n, "more messages than were sent");
			cr_assert_eq(m.type, want.type, "message %u type", got);
			cr_assert_eq(m.page, got, "message %u out of order (page %u)", got, m.page);
			cr_assert_eq(m.node, want.node, "message %u node", got);
			cr_assert_eq(m.arg, (uint64_t)got * 1000003u);
			cr_assert_eq(m.length, want.length, "message %u length", got);
			cr_assert(payload >= r.buf && payload + m.length <= r.buf + cap,
				  "payload of message %u outside the reader's buffer", got);
			cr_assert(check_pattern(payload, m.length, got), "payload of message %u", got);
			got++;
		}
		cr_assert_eq(d, DECODE_INCOMPLETE, "%s", why ? why : "?");
		enum fill_result f = wire_fill(&r);

		if (f == FILL_EOF)
			break;
		if (f == FILL_AGAIN) {
			struct pollfd p = {.fd = sv[1], .events = POLLIN};

			cr_assert_eq(poll(&p, 1, 10000), 1);
			continue;
		}
		cr_assert_eq(f, FILL_DATA);
	}
	cr_assert_eq(got, n, "received %u of %u messages", got, n);
	cr_assert_eq(r.start, r.end, "bytes left over after EOF");
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "sender failed: 0x%x", status);
}

Test(wire, hundred_page_messages_in_order)
{
	receive_stream(sizeof(rbuf), 100, 1, 0);
}

/*
 * A partial write, made certain. An AF_UNIX stream socket takes a sendmsg()
 * in pieces of at most half its send buffer, and takes another piece only
 * while what it holds for the sender (counted with overhead) is below
 * SO_SNDBUF. With the smallest buffer (4608 bytes, pieces of 2240) and a few
 * small messages already queued unread, the first piece of a page message
 * (4120 bytes) uses up the budget: sendmsg() returns having written part of
 * it, and wire_send must send the rest.
 *
 * The reader is a SIGIO handler, as in libsm, aimed at this thread: the
 * signal raised while one sendmsg() queues data runs the handler as that
 * call returns, before wire_send goes on. So each run of the handler sees
 * exactly what one sendmsg() wrote; it empties the socket, and the rest of
 * the message can follow.
 */
#define PREFILL 3 /* header-only messages queued before the page message */
#define ONE_PAGE_MESSAGE (DSM_HEADER_SIZE + DSM_PAGE_SIZE)

static int io_fd = -1;
static uint8_t io_got[PREFILL * DSM_HEADER_SIZE + ONE_PAGE_MESSAGE + 64];
static size_t io_len;
static size_t io_runs[64]; /* bytes read by each run of the handler */
static unsigned io_nruns;

static void on_sigio(int sig)
{
	int saved = errno;
	size_t before = io_len;
	ssize_t n;

	(void)sig;
	while (io_len < sizeof(io_got) &&
	       (n = read(io_fd, io_got + io_len, sizeof(io_got) - io_len)) > 0)
		io_len += (size_t)n;
	if (io_len > before && io_nruns < sizeof(io_runs) / sizeof(io_runs[0]))
		io_runs[io_nruns++] = io_len - before;
	errno = saved;
}

Test(wire, partial_write_is_forced_and_completed)
{
	static uint8_t page[DSM_PAGE_SIZE];
	struct msg pm = {.type = MSG_PAGE_DATA, .page = 5, .node = 1, .length = DSM_PAGE_SIZE,
			 .arg = 0xabcdef};
	struct sigaction sa = {.sa_handler = on_sigio}, old;
	struct f_owner_ex owner = {.type = F_OWNER_TID, .pid = gettid()};
	sigset_t io;
	int one = 1, queued = -1;
	size_t at = 0;

	cr_assert_eq(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &one, sizeof(one)), 0);
	set_nonblock(sv[0]);
	set_nonblock(sv[1]);
	for (unsigned i = 0; i < PREFILL; i++)
		cr_assert_eq(wire_send_simple(sv[0], MSG_BARRIER, 0, 0, 0, i), 0);
	cr_assert_eq(ioctl(sv[0], TIOCOUTQ, &queued), 0);
	cr_assert_gt(queued, 0, "the small messages are not queued");

	io_fd = sv[1];
	io_len = 0;
	io_nruns = 0;
	sigemptyset(&sa.sa_mask);
	cr_assert_eq(sigaction(SIGIO, &sa, &old), 0);
	sigemptyset(&io);
	sigaddset(&io, SIGIO);
	cr_assert_eq(sigprocmask(SIG_UNBLOCK, &io, NULL), 0);
	cr_assert_eq(fcntl(sv[1], F_SETOWN_EX, &owner), 0);
	cr_assert_eq(fcntl(sv[1], F_SETFL, fcntl(sv[1], F_GETFL) | O_ASYNC), 0);

	fill_pattern(page, sizeof(page), 11);
	cr_assert_eq(wire_send(sv[0], &pm, page), 0);

	cr_assert_eq(fcntl(sv[1], F_SETFL, fcntl(sv[1], F_GETFL) & ~O_ASYNC), 0);
	cr_assert_eq(sigaction(SIGIO, &old, NULL), 0);
	on_sigio(SIGIO); /* anything not yet read */

	/* the first sendmsg() wrote only part of the page message */
	cr_assert_geq(io_nruns, 2u, "the page message went out in one sendmsg(): nothing forced");
	cr_assert_gt(io_runs[0], PREFILL * DSM_HEADER_SIZE, "first sendmsg() wrote nothing");
	cr_assert_lt(io_runs[0], PREFILL * DSM_HEADER_SIZE + ONE_PAGE_MESSAGE,
		     "first sendmsg() wrote the whole message");

	/* and everything arrived, in order and intact */
	cr_assert_eq(io_len, PREFILL * DSM_HEADER_SIZE + ONE_PAGE_MESSAGE, "%zu bytes arrived",
		     io_len);
	for (unsigned i = 0; i <= PREFILL; i++) {
		struct msg_limits lim = {0};
		struct msg m;
		size_t total = 0;
		const char *why = NULL;

		cr_assert_eq(msg_decode(io_got + at, io_len - at, FROM_NODE, &lim, &m, &total, &why),
			     DECODE_OK, "message %u: %s", i, why ? why : "incomplete");
		if (i < PREFILL) {
			cr_assert_eq(m.type, MSG_BARRIER);
			cr_assert_eq(m.arg, i);
		} else {
			cr_assert_eq(m.type, MSG_PAGE_DATA);
			cr_assert_eq(m.page, 5u);
			cr_assert_eq(m.node, 1u);
			cr_assert_eq(m.arg, 0xabcdefu);
			cr_assert_eq(m.length, DSM_PAGE_SIZE);
			cr_assert(check_pattern(io_got + at + DSM_HEADER_SIZE, DSM_PAGE_SIZE, 11),
				  "payload differs");
		}
		at += total;
	}
	cr_assert_eq(at, io_len);
}

Test(wire, mixed_sizes_with_smallest_buffer)
{
	/* 300 messages of three kinds through a reader of the minimum size */
	receive_stream(2 * DSM_MAX_MESSAGE, 300, 3, 1);
}

Test(wire, longest_runs_mixed_with_small_messages)
{
	/* every fourth message is a 64-page run: the reader must make room for
	 * a whole longest message behind whatever is left in its buffer */
	cr_assert_eq(WIRE_READER_CAPACITY, 2 * DSM_MAX_MESSAGE);
	receive_stream(2 * DSM_MAX_MESSAGE, 200, 4, 1);
	close_pair();
	open_pair();
	receive_stream(sizeof(rbuf), 200, 4, 0);
}

Test(wire, bytes_split_across_reads)
{
	static uint8_t page[DSM_PAGE_SIZE];
	uint8_t hdr[DSM_HEADER_SIZE];
	struct wire_reader r;
	struct msg in = {.type = MSG_PAGE_DATA, .page = 7, .node = 1, .length = DSM_PAGE_SIZE,
			 .arg = 99};
	struct msg out;
	const uint8_t *payload;
	const char *why;

	set_nonblock(sv[1]);
	wire_reader_init(&r, sv[1], FROM_NODE, rbuf, sizeof(rbuf));
	cr_assert_eq(wire_fill(&r), FILL_AGAIN);
	msg_encode(&in, hdr);
	for (unsigned i = 0; i < DSM_HEADER_SIZE; i++) {
		cr_assert_eq(write(sv[0], hdr + i, 1), 1);
		cr_assert_eq(wire_fill(&r), FILL_DATA, "header byte %u", i);
		cr_assert_eq(wire_next(&r, &out, &payload, &why), DECODE_INCOMPLETE,
			     "header byte %u", i);
	}
	fill_pattern(page, sizeof(page), 3);
	for (size_t off = 0; off < DSM_PAGE_SIZE; off += 1000) {
		size_t n = DSM_PAGE_SIZE - off < 1000 ? DSM_PAGE_SIZE - off : 1000;

		cr_assert_eq(write(sv[0], page + off, n), (ssize_t)n);
		cr_assert_eq(wire_fill(&r), FILL_DATA);
		if (off + n < DSM_PAGE_SIZE)
			cr_assert_eq(wire_next(&r, &out, &payload, &why), DECODE_INCOMPLETE,
				     "after %zu payload bytes", off + n);
	}
	cr_assert_eq(wire_next(&r, &out, &payload, &why), DECODE_OK);
	cr_assert_eq(out.type, MSG_PAGE_DATA);
	cr_assert_eq(out.page, 7u);
	cr_assert_eq(out.arg, 99u);
	cr_assert(check_pattern(payload, DSM_PAGE_SIZE, 3));

	/* a header-only message is complete exactly at its 24th byte */
	struct msg ack = {.type = MSG_INVALIDATE_ACK, .page = 8, .node = 1};

	msg_encode(&ack, hdr);
	for (unsigned i = 0; i < DSM_HEADER_SIZE; i++) {
		cr_assert_eq(write(sv[0], hdr + i, 1), 1);
		cr_assert_eq(wire_fill(&r), FILL_DATA);
		if (i + 1 < DSM_HEADER_SIZE)
			cr_assert_eq(wire_next(&r, &out, &payload, &why), DECODE_INCOMPLETE,
				     "byte %u", i);
	}
	cr_assert_eq(wire_next(&r, &out, &payload, &why), DECODE_OK);
	cr_assert_eq(out.type, MSG_INVALIDATE_ACK);
	cr_assert_eq(out.page, 8u);
	cr_assert_eq(out.node, 1u);
	cr_assert_eq(wire_next(&r, &out, &payload, &why), DECODE_INCOMPLETE);
}

/* the longest message: a write GRANT of DSM_MAX_RUN pages ending at the
 * region's last page, as one wire_send */
Test(wire, longest_run_arrives_intact)
{
	static uint8_t pages[DSM_MAX_RUN * DSM_PAGE_SIZE];
	struct wire_reader r;
	struct msg in = {.type = MSG_GRANT, .flags = MSGF_WRITE, .page = 1000 - DSM_MAX_RUN,
			 .node = DSM_MAX_RUN, .length = DSM_MAX_RUN * DSM_PAGE_SIZE, .arg = 77};
	struct msg out;
	const uint8_t *payload = NULL;
	pid_t pid;
	int status;

	fill_pattern(pages, sizeof(pages), 5);
	/* more than a socket buffer: a child sends while this reads */
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		close(sv[1]);
		_exit(wire_send(sv[0], &in, pages) == 0 ? 0 : 1);
	}
	close(sv[0]);
	sv[0] = -1;
	wire_reader_init(&r, sv[1], FROM_ALLOCATOR, rbuf, 2 * DSM_MAX_MESSAGE);
	r.limits.npages = 1000;
	r.limits.nnodes = 4;
	recv_one(&r, &out, &payload);
	cr_assert_eq(out.type, MSG_GRANT);
	cr_assert_eq(out.flags, MSGF_WRITE);
	cr_assert_eq(out.page, 1000 - DSM_MAX_RUN);
	cr_assert_eq(out.node, DSM_MAX_RUN);
	cr_assert_eq(out.length, DSM_MAX_RUN * DSM_PAGE_SIZE);
	cr_assert_eq(out.arg, 77u);
	cr_assert(check_pattern(payload, DSM_MAX_RUN * DSM_PAGE_SIZE, 5), "payload differs");
	cr_assert(payload >= r.buf && payload + out.length <= r.buf + r.cap);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "sender failed: 0x%x", status);
	cr_assert_eq(wire_fill(&r), FILL_EOF);
}

/*
 * A 64-page run written in pieces of odd sizes, read as they come: it is
 * incomplete until its very last byte, then whole. In rounds 1 and 2 a
 * smaller message comes first in the same pieces and is taken while the
 * run is still arriving, so the reader has to move the run's first bytes to
 * the front of its buffer to make room for the rest.
 */
Test(wire, longest_run_in_pieces)
{
	static uint8_t stream[DSM_PAGE_SIZE + 2 * DSM_HEADER_SIZE + DSM_MAX_RUN * DSM_PAGE_SIZE];
	struct wire_reader r;
	struct msg run = {.type = MSG_RELEASE, .page = 3, .node = DSM_MAX_RUN,
			  .length = DSM_MAX_RUN * DSM_PAGE_SIZE, .arg = 0};
	static const size_t pieces[] = {1, 23, 4096, 4095, 10007, 3, 65536, 77777};

	set_nonblock(sv[1]);
	wire_reader_init(&r, sv[1], FROM_NODE, rbuf, 2 * DSM_MAX_MESSAGE);
	r.limits.npages = 3 + DSM_MAX_RUN;
	for (unsigned round = 0; round < 3; round++) {
		/* round 1: an INVALIDATE_ACK first; round 2: a one-page PAGE_DATA */
		struct msg small = {.type = round == 1 ? MSG_INVALIDATE_ACK : MSG_PAGE_DATA,
				    .page = round, .node = 1,
				    .length = round == 2 ? DSM_PAGE_SIZE : 0};
		size_t len = 0, off = 0, k = 0, small_end = 0;
		int got_small = round == 0, got_run = 0;

		if (round > 0) {
			msg_encode(&small, stream);
			fill_pattern(stream + DSM_HEADER_SIZE, small.length, 30 + round);
			len = small_end = DSM_HEADER_SIZE + small.length;
		}
		msg_encode(&run, stream + len);
		fill_pattern(stream + len + DSM_HEADER_SIZE, run.length, 11 + round);
		len += DSM_MAX_MESSAGE;
		while (off < len) {
			size_t n = pieces[k++ % (sizeof(pieces) / sizeof(pieces[0]))];
			struct msg out;
			const uint8_t *payload;
			const char *why = NULL;
			enum decode_result d;

			if (n > len - off)
				n = len - off;
			cr_assert_eq(write(sv[0], stream + off, n), (ssize_t)n);
			off += n;
			while (wire_fill(&r) == FILL_DATA)
				;
			while ((d = wire_next(&r, &out, &payload, &why)) == DECODE_OK) {
				if (!got_small) {
					cr_assert_geq(off, small_end, "round %u: early", round);
					cr_assert_eq(out.type, small.type, "round %u", round);
					cr_assert_eq(out.page, round);
					cr_assert_eq(out.node, 1u);
					cr_assert(check_pattern(payload, out.length, 30 + round));
					got_small = 1;
					continue;
				}
				cr_assert_not(got_run, "round %u: a second run", round);
				cr_assert_eq(off, len, "round %u: complete after %zu of %zu bytes",
					     round, off, len);
				cr_assert_eq(out.type, MSG_RELEASE);
				cr_assert_eq(out.page, 3u);
				cr_assert_eq(out.node, DSM_MAX_RUN);
				cr_assert_eq(out.length, DSM_MAX_RUN * DSM_PAGE_SIZE);
				cr_assert(payload >= r.buf && payload + out.length <= r.buf + r.cap);
				cr_assert(check_pattern(payload, out.length, 11 + round),
					  "round %u: payload differs", round);
				got_run = 1;
			}
			cr_assert_eq(d, DECODE_INCOMPLETE, "round %u: %s", round, why ? why : "");
		}
		cr_assert(got_small && got_run, "round %u: small %d run %d", round, got_small,
			  got_run);
	}
}

/* two longest runs sent back to back fill the smallest reader exactly */
Test(wire, two_longest_runs_fill_the_smallest_reader)
{
	static uint8_t pages[DSM_MAX_RUN * DSM_PAGE_SIZE];
	struct wire_reader r;
	struct msg out;
	const uint8_t *payload;
	const char *why = NULL;
	pid_t pid;
	int status;

	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		close(sv[1]);
		for (unsigned i = 0; i < 2; i++) {
			struct msg m = {.type = MSG_PAGE_DATA, .page = i * DSM_MAX_RUN,
					.node = DSM_MAX_RUN, .length = sizeof(pages)};

			fill_pattern(pages, sizeof(pages), 20 + i);
			if (wire_send(sv[0], &m, pages) != 0)
				_exit(1);
		}
		_exit(0);
	}
	close(sv[0]);
	sv[0] = -1;
	wire_reader_init(&r, sv[1], FROM_NODE, rbuf, 2 * DSM_MAX_MESSAGE);
	r.limits.npages = 2 * DSM_MAX_RUN;
	/* read (blocking) until both are in, consuming nothing yet */
	while (r.end < 2 * DSM_MAX_MESSAGE) {
		enum fill_result f = wire_fill(&r);

		cr_assert_eq(f, FILL_DATA, "after %zu bytes: %d", r.end, f);
	}
	cr_assert_eq(r.end, r.cap, "the buffer is exactly full");
	for (unsigned i = 0; i < 2; i++) {
		cr_assert_eq(wire_next(&r, &out, &payload, &why), DECODE_OK, "%s", why ? why : "");
		cr_assert_eq(out.page, i * DSM_MAX_RUN);
		cr_assert_eq(out.node, DSM_MAX_RUN);
		cr_assert(check_pattern(payload, out.length, 20 + i), "run %u", i);
	}
	cr_assert_eq(wire_next(&r, &out, &payload, &why), DECODE_INCOMPLETE);
	cr_assert_eq(wire_fill(&r), FILL_EOF);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "sender failed: 0x%x", status);
}

Test(wire, two_messages_in_one_read)
{
	struct wire_reader r;
	struct msg out;
	const uint8_t *payload;
	const char *why;

	cr_assert_eq(wire_send_simple(sv[0], MSG_BARRIER, 0, 0, 0, 0), 0);
	cr_assert_eq(wire_send_simple(sv[0], MSG_MALLOC, 0, 0, 0, 12345), 0);
	wire_reader_init(&r, sv[1], FROM_NODE, rbuf, sizeof(rbuf));
	cr_assert_eq(wire_fill(&r), FILL_DATA);
	cr_assert_eq(r.end - r.start, 2 * DSM_HEADER_SIZE, "both should arrive in one read");
	cr_assert_eq(wire_next(&r, &out, &payload, &why), DECODE_OK);
	cr_assert_eq(out.type, MSG_BARRIER);
	cr_assert_eq(wire_next(&r, &out, &payload, &why), DECODE_OK);
	cr_assert_eq(out.type, MSG_MALLOC);
	cr_assert_eq(out.arg, 12345u);
	cr_assert_eq(wire_next(&r, &out, &payload, &why), DECODE_INCOMPLETE);
}

Test(wire, eof_after_peer_closes)
{
	struct wire_reader r;
	struct msg out;
	const uint8_t *payload;
	const char *why;

	cr_assert_eq(wire_send_simple(sv[0], MSG_EXIT, 0, 0, 0, 0), 0);
	close(sv[0]);
	sv[0] = -1;
	wire_reader_init(&r, sv[1], FROM_NODE, rbuf, sizeof(rbuf));
	cr_assert_eq(wire_fill(&r), FILL_DATA);
	cr_assert_eq(wire_next(&r, &out, &payload, &why), DECODE_OK);
	cr_assert_eq(out.type, MSG_EXIT);
	cr_assert_eq(wire_next(&r, &out, &payload, &why), DECODE_INCOMPLETE);
	cr_assert_eq(wire_fill(&r), FILL_EOF);
}

Test(wire, eof_with_nothing_sent)
{
	struct wire_reader r;

	close(sv[0]);
	sv[0] = -1;
	wire_reader_init(&r, sv[1], FROM_ALLOCATOR, rbuf, sizeof(rbuf));
	cr_assert_eq(wire_fill(&r), FILL_EOF);
}

Test(wire, fill_error_on_bad_fd)
{
	struct wire_reader r;

	wire_reader_init(&r, -1, FROM_NODE, rbuf, sizeof(rbuf));
	errno = 0;
	cr_assert_eq(wire_fill(&r), FILL_ERROR);
	cr_assert_eq(errno, EBADF);
}

static void expect_bad_bytes(const uint8_t *bytes, size_t n, enum msg_origin peer,
			     uint32_t npages)
{
	struct wire_reader r;
	struct msg out;
	const uint8_t *payload;
	const char *why = NULL;

	cr_assert_eq(write(sv[0], bytes, n), (ssize_t)n);
	wire_reader_init(&r, sv[1], peer, rbuf, sizeof(rbuf));
	r.limits.npages = npages;
	cr_assert_eq(wire_fill(&r), FILL_DATA);
	cr_assert_eq(wire_next(&r, &out, &payload, &why), DECODE_BAD);
	cr_assert_not_null(why);
}

Test(wire, malformed_type_is_bad)
{
	uint8_t hdr[DSM_HEADER_SIZE] = {0};

	expect_bad_bytes(hdr, sizeof(hdr), FROM_NODE, 0);
}

Test(wire, reserved_bits_are_bad)
{
	uint8_t hdr[DSM_HEADER_SIZE];
	struct msg m = {.type = MSG_BARRIER};

	msg_encode(&m, hdr);
	hdr[2] = 1;
	expect_bad_bytes(hdr, sizeof(hdr), FROM_NODE, 0);
}

Test(wire, wrong_sender_is_bad)
{
	uint8_t hdr[DSM_HEADER_SIZE];
	struct msg m = {.type = MSG_GRANT, .page = 1, .node = 1};

	msg_encode(&m, hdr);
	expect_bad_bytes(hdr, sizeof(hdr), FROM_NODE, 0); /* a node may not send GRANT */
}

Test(wire, run_past_the_region_is_bad)
{
	uint8_t hdr[DSM_HEADER_SIZE];
	struct msg m = {.type = MSG_INVALIDATE, .page = 90, .node = 11};

	msg_encode(&m, hdr);
	expect_bad_bytes(hdr, sizeof(hdr), FROM_ALLOCATOR, 100); /* pages 90..100 */
}

Test(wire, run_of_no_pages_is_bad)
{
	uint8_t hdr[DSM_HEADER_SIZE];
	struct msg m = {.type = MSG_REVOKE, .page = 1, .node = 0};

	msg_encode(&m, hdr);
	expect_bad_bytes(hdr, sizeof(hdr), FROM_ALLOCATOR, 0);
}

Test(wire, run_longer_than_max_is_bad)
{
	uint8_t hdr[DSM_HEADER_SIZE];
	struct msg m = {.type = MSG_INVALIDATE_ACK, .page = 0, .node = DSM_MAX_RUN + 1};

	msg_encode(&m, hdr);
	expect_bad_bytes(hdr, sizeof(hdr), FROM_NODE, 0);
}

Test(wire, reader_limits_apply)
{
	struct wire_reader r;
	struct msg out;
	const uint8_t *payload;
	const char *why = NULL;

	cr_assert_eq(wire_send_simple(sv[0], MSG_FAULT, 0, 3, 1, 0), 0);
	cr_assert_eq(wire_send_simple(sv[0], MSG_FAULT, MSGF_WRITE, 4, 1, 0), 0);
	wire_reader_init(&r, sv[1], FROM_NODE, rbuf, sizeof(rbuf));
	r.limits.npages = 4;
	cr_assert_eq(wire_fill(&r), FILL_DATA);
	cr_assert_eq(wire_next(&r, &out, &payload, &why), DECODE_OK);
	cr_assert_eq(out.page, 3u);
	cr_assert_eq(wire_next(&r, &out, &payload, &why), DECODE_BAD);
	cr_assert_not_null(why);
}

Test(wire, send_to_closed_peer_fails_with_epipe)
{
	close(sv[1]);
	sv[1] = -1;
	/* the default action: a SIGPIPE (no MSG_NOSIGNAL) would kill this test */
	sigset_t pipe;

	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	cr_assert_eq(sigprocmask(SIG_UNBLOCK, &pipe, NULL), 0);
	signal(SIGPIPE, SIG_DFL);
	errno = 0;
	cr_assert_eq(wire_send_simple(sv[0], MSG_BARRIER, 0, 0, 0, 0), -1);
	cr_assert(errno == EPIPE || errno == ECONNRESET, "errno %d", errno);
}

/* ---- wire_batch: answers queued and sent with one sendmsg ---------------- */

/* Nothing is on the socket until the batch is flushed; then a header-only
 * message, a one-page run and a 64-page run arrive whole and in order. */
Test(wire, batch_sends_nothing_until_flushed)
{
	static uint8_t one[DSM_PAGE_SIZE], run[DSM_MAX_RUN * DSM_PAGE_SIZE];
	static struct wire_batch b;
	struct wire_reader r;
	struct msg ack = {.type = MSG_INVALIDATE_ACK, .page = 9, .node = 3};
	struct msg pd = {.type = MSG_PAGE_DATA, .page = 12, .node = 1, .length = sizeof(one)};
	struct msg big = {.type = MSG_PAGE_DATA, .page = 64, .node = DSM_MAX_RUN,
			  .length = sizeof(run)};
	struct msg out;
	const uint8_t *payload;
	pid_t pid;
	int status;

	fill_pattern(one, sizeof(one), 40);
	fill_pattern(run, sizeof(run), 41);
	memset(&b, 0, sizeof(b));
	set_nonblock(sv[1]);
	wire_reader_init(&r, sv[1], FROM_NODE, rbuf, 2 * DSM_MAX_MESSAGE);
	r.limits.npages = 128;
	cr_assert_eq(wire_batch_add(sv[0], &b, &ack, NULL), 0);
	cr_assert_eq(wire_batch_add(sv[0], &b, &pd, one), 0);
	cr_assert_eq(wire_fill(&r), FILL_AGAIN, "sent before the flush");
	cr_assert_eq(wire_batch_add(sv[0], &b, &big, run), 0);
	cr_assert_eq(b.count, 3u);
	cr_assert_eq(b.bytes, sizeof(one) + sizeof(run));
	cr_assert_eq(wire_fill(&r), FILL_AGAIN, "sent before the flush");
	/* 64 pages are more than the socket holds: a child flushes */
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0)
		_exit(wire_batch_flush(sv[0], &b) == 0 && b.count == 0 && b.bytes == 0 ? 0 : 1);
	recv_one(&r, &out, &payload);
	cr_assert_eq(out.type, MSG_INVALIDATE_ACK);
	cr_assert_eq(out.page, 9u);
	cr_assert_eq(out.node, 3u);
	recv_one(&r, &out, &payload);
	cr_assert_eq(out.type, MSG_PAGE_DATA);
	cr_assert_eq(out.page, 12u);
	cr_assert(check_pattern(payload, sizeof(one), 40));
	recv_one(&r, &out, &payload);
	cr_assert_eq(out.page, 64u);
	cr_assert_eq(out.node, DSM_MAX_RUN);
	cr_assert_eq(out.length, sizeof(run));
	cr_assert(check_pattern(payload, sizeof(run), 41), "64-page payload differs");
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "flush failed: 0x%x", status);
}

/* A full batch is sent before the next message is added; an empty flush
 * sends nothing. */
Test(wire, batch_full_flushes_before_adding)
{
	static struct wire_batch b;
	struct wire_reader r;
	struct msg out;
	const uint8_t *payload;
	const char *why = NULL;

	memset(&b, 0, sizeof(b));
	set_nonblock(sv[1]);
	wire_reader_init(&r, sv[1], FROM_NODE, rbuf, sizeof(rbuf));
	cr_assert_eq(wire_batch_flush(sv[0], &b), 0);
	cr_assert_eq(wire_fill(&r), FILL_AGAIN, "an empty flush sent something");
	for (unsigned i = 0; i < WIRE_BATCH_MAX; i++) {
		struct msg m = {.type = MSG_PONG, .arg = i};

		cr_assert_eq(wire_batch_add(sv[0], &b, &m, NULL), 0);
	}
	cr_assert_eq(wire_fill(&r), FILL_AGAIN);
	{
		struct msg m = {.type = MSG_PONG, .arg = WIRE_BATCH_MAX};

		cr_assert_eq(wire_batch_add(sv[0], &b, &m, NULL), 0);
	}
	cr_assert_eq(b.count, 1u, "the full batch was not sent");
	cr_assert_eq(wire_fill(&r), FILL_DATA);
	for (unsigned i = 0; i < WIRE_BATCH_MAX; i++) {
		cr_assert_eq(wire_next(&r, &out, &payload, &why), DECODE_OK, "message %u", i);
		cr_assert_eq(out.type, MSG_PONG);
		cr_assert_eq(out.arg, i, "out of order");
	}
	cr_assert_eq(wire_next(&r, &out, &payload, &why), DECODE_INCOMPLETE,
		     "the 33rd message went out with the first 32");
	cr_assert_eq(wire_batch_flush(sv[0], &b), 0);
	recv_one(&r, &out, &payload);
	cr_assert_eq(out.arg, WIRE_BATCH_MAX);
}

/* A batch of 32 longest runs (8 MiB in one sendmsg) through the smallest
 * socket buffer: every partial write across the iovecs is finished. */
Test(wire, batch_of_longest_runs_through_small_buffer)
{
	static uint8_t pages[4][DSM_MAX_RUN * DSM_PAGE_SIZE];
	struct wire_reader r;
	unsigned got = 0;
	pid_t pid;
	int status;

	for (unsigned k = 0; k < 4; k++)
		fill_pattern(pages[k], sizeof(pages[k]), 50 + k);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		static struct wire_batch b;
		int one = 1, fl;

		close(sv[1]);
		if (setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &one, sizeof(one)) < 0)
			_exit(4);
		fl = fcntl(sv[0], F_GETFL);
		if (fl < 0 || fcntl(sv[0], F_SETFL, fl | O_NONBLOCK) < 0)
			_exit(3);
		for (unsigned i = 0; i < WIRE_BATCH_MAX; i++) {
			struct msg m = {.type = MSG_RELEASE, .page = i * DSM_MAX_RUN,
					.node = DSM_MAX_RUN, .length = sizeof(pages[0])};

			if (wire_batch_add(sv[0], &b, &m, pages[i % 4]) != 0)
				_exit(1);
		}
		_exit(wire_batch_flush(sv[0], &b) == 0 ? 0 : 2);
	}
	close(sv[0]);
	sv[0] = -1;
	wire_reader_init(&r, sv[1], FROM_NODE, rbuf, 2 * DSM_MAX_MESSAGE);
	r.limits.npages = WIRE_BATCH_MAX * DSM_MAX_RUN;
	for (;;) {
		struct msg m;
		const uint8_t *payload;
		const char *why = NULL;
		enum decode_result d;
		enum fill_result f;

		while ((d = wire_next(&r, &m, &payload, &why)) == DECODE_OK) {
			cr_assert_lt(got, WIRE_BATCH_MAX);
			cr_assert_eq(m.page, got * DSM_MAX_RUN, "run %u out of order", got);
			cr_assert_eq(m.node, DSM_MAX_RUN);
			cr_assert(check_pattern(payload, m.length, 50 + got % 4), "run %u differs", got);
			got++;
		}
		cr_assert_eq(d, DECODE_INCOMPLETE, "%s", why ? why : "?");
		f = wire_fill(&r);
		if (f == FILL_EOF)
			break;
		cr_assert_eq(f, FILL_DATA);
	}
	cr_assert_eq(got, WIRE_BATCH_MAX);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "sender failed: 0x%x", status);
}

/* A flush to a vanished peer fails with EPIPE and leaves the batch empty. */
Test(wire, batch_flush_to_closed_peer)
{
	static struct wire_batch b;
	struct msg m = {.type = MSG_BARRIER};
	sigset_t pipe;

	close(sv[1]);
	sv[1] = -1;
	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	cr_assert_eq(sigprocmask(SIG_UNBLOCK, &pipe, NULL), 0);
	signal(SIGPIPE, SIG_DFL);
	memset(&b, 0, sizeof(b));
	cr_assert_eq(wire_batch_add(sv[0], &b, &m, NULL), 0);
	errno = 0;
	cr_assert_eq(wire_batch_flush(sv[0], &b), -1);
	cr_assert(errno == EPIPE || errno == ECONNRESET, "errno %d", errno);
	cr_assert_eq(b.count, 0u);
	cr_assert_eq(b.niov, 0u);
	cr_assert_eq(wire_batch_flush(sv[0], &b), 0, "an emptied batch sends nothing");
}
