/*
 * test_sendlimit.c - bounded sends, over real AF_UNIX stream socketpairs.
 * common/wire.c's wire_send_limited(): a peer that reads nothing ends the
 * wait with ETIMEDOUT after the stall time, a slow reader that keeps taking
 * bytes never does (each byte resets it), and a readable stop descriptor
 * ends only a wait (ECANCELED), not a send that has room. And
 * allocator/pages/nodelink.c on top: a node whose link stays full is cut off
 * (NODE_STALLED, its link shut down, its proxy woken by SIGIO), is never
 * written to again, and gets one unanswered PING at a time.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../allocator/pages/nodelink.h"
#include "../../common/wire.h"

static int sv[2] = {-1, -1};

static void open_pair(void)
{
	int small = 1; /* the kernel's minimum: fills after a few messages */

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0, "socketpair: %s",
		     strerror(errno));
	cr_assert_eq(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
	cr_assert_eq(fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK), 0);
}

static void close_pair(void)
{
	for (int i = 0; i < 2; i++)
		if (sv[i] >= 0)
			close(sv[i]);
	sv[0] = sv[1] = -1;
}

static int64_t now_ms(void)
{
	struct timespec t;

	cr_assert_eq(clock_gettime(CLOCK_MONOTONIC, &t), 0);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Send header-only messages until the socket has no room left. */
static void fill(int fd)
{
	struct msg m = {.type = MSG_BARRIER};
	uint8_t header[DSM_HEADER_SIZE];
	unsigned n = 0;

	msg_encode(&m, header);
	while (send(fd, header, sizeof(header), MSG_DONTWAIT) == (ssize_t)sizeof(header))
		cr_assert_lt(++n, 1000000u, "the socket never fills");
	cr_assert(errno == EAGAIN || errno == EWOULDBLOCK, "send: %s", strerror(errno));
}

static const struct msg page_msg = {.type = MSG_PAGE_DATA, .page = 0, .node = 1,
				    .length = DSM_PAGE_SIZE};
static uint8_t page[DSM_PAGE_SIZE];

TestSuite(wire_limit, .init = open_pair, .fini = close_pair, .timeout = 20);

Test(wire_limit, peer_that_reads_nothing_times_out)
{
	struct wire_limit limit = {.stall_ms = 300, .stop_fd = -1};
	size_t sent = 1234;
	int64_t t0, took;

	fill(sv[0]);
	t0 = now_ms();
	cr_assert_eq(wire_send_limited(sv[0], &page_msg, page, &limit, &sent), -1);
	took = now_ms() - t0;
	cr_assert_eq(errno, ETIMEDOUT, "errno %s", strerror(errno));
	cr_assert_eq(sent, 0u, "%zu bytes went into a full socket", sent);
	cr_assert_geq(took, 300, "gave up after %lld ms", (long long)took);
	cr_assert_lt(took, 3000, "took %lld ms", (long long)took);
}

/* A child that takes 2 KiB of fd every 50 ms for `ms` milliseconds, then
 * everything until EOF. */
static pid_t slow_reader(int fd, int ms)
{
	pid_t pid = fork();

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		static uint8_t buf[1 << 16];
		int64_t end = now_ms() + ms;

		/* EOF once the parent closes its end; gone if the parent dies */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || close(sv[0]) < 0)
			_exit(1);

		while (now_ms() < end) {
			struct timespec t = {.tv_nsec = 50 * 1000000};

			if (read(fd, buf, 2048) <= 0)
				_exit(1);
			nanosleep(&t, NULL);
		}
		while (read(fd, buf, sizeof(buf)) > 0)
			;
		_exit(0);
	}
	return pid;
}

Test(wire_limit, slow_reader_resets_the_stall_time)
{
	struct wire_limit limit = {.stall_ms = 300, .stop_fd = -1};
	struct msg run = {.type = MSG_PAGE_DATA, .page = 0, .node = 16,
			  .length = 16 * DSM_PAGE_SIZE};
	static uint8_t pages[16 * DSM_PAGE_SIZE];
	size_t sent = 0;
	int64_t t0 = now_ms();
	pid_t child = slow_reader(sv[1], 1500);
	int st;

	/* 64 KiB at about 40 KiB/s: far longer than 300 ms, never 300 ms idle */
	cr_assert_eq(wire_send_limited(sv[0], &run, pages, &limit, &sent), 0, "%s",
		     strerror(errno));
	cr_assert_eq(sent, DSM_HEADER_SIZE + sizeof(pages));
	cr_assert_gt(now_ms() - t0, 300, "the send never had to wait: nothing tested");
	close(sv[0]);
	sv[0] = -1;
	cr_assert_eq(waitpid(child, &st, 0), child);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

Test(wire_limit, readable_stop_fd_ends_a_wait)
{
	int stop[2];
	struct wire_limit limit = {.stall_ms = 10000, .stop_fd = -1};
	int64_t t0;

	cr_assert_eq(pipe(stop), 0);
	limit.stop_fd = stop[0];
	cr_assert_eq(write(stop[1], "x", 1), 1);
	/* room: the stop descriptor is not even looked at */
	cr_assert_eq(wire_send_limited(sv[0], &page_msg, page, &limit, NULL), 0);
	fill(sv[0]);
	t0 = now_ms();
	cr_assert_eq(wire_send_limited(sv[0], &page_msg, page, &limit, NULL), -1);
	cr_assert_eq(errno, ECANCELED, "errno %s", strerror(errno));
	cr_assert_lt(now_ms() - t0, 1000, "waited %lld ms", (long long)(now_ms() - t0));
	close(stop[0]);
	close(stop[1]);
}

/* ---- nodelink.c: cutting off a node that does not read ----------------- */

static struct pagetable *pt;

static void open_table(void)
{
	open_pair();
	pt = pt_create(2, 16, 0x566000000000ull);
	cr_assert_not_null(pt);
	pt->nodes[0].fd = sv[0];
}

static void close_table(void)
{
	pt_destroy(pt);
	close_pair();
}

TestSuite(nodelink, .init = open_table, .fini = close_table, .timeout = 20);

Test(nodelink, full_link_cuts_the_node_off)
{
	struct msg m = {.type = MSG_CHUNK, .arg = 0};
	struct timespec none = {0};
	uint8_t buf[4096];
	sigset_t io;
	ssize_t n;
	int64_t t0 = now_ms();

	/* this process stands for node 0's proxy, asleep with SIGIO blocked */
	sigemptyset(&io);
	sigaddset(&io, SIGIO);
	cr_assert_eq(sigprocmask(SIG_BLOCK, &io, NULL), 0);
	pt->nodes[0].proxy = getpid();
	fill(sv[0]);
	cr_assert_eq(node_send(pt, 0, &m, NULL), -1);
	cr_assert_geq(now_ms() - t0, NODE_STALL_SECONDS * 1000);
	cr_assert(node_stopped_reading(pt, 0));
	cr_assert_eq(sigtimedwait(&io, NULL, &none), SIGIO, "the proxy was not woken");
	/* never written to again: at once, whatever the link */
	t0 = now_ms();
	cr_assert_eq(node_send(pt, 0, &m, NULL), -1);
	cr_assert_lt(now_ms() - t0, 500);
	/* and its link is shut down: the node reads what was queued, then EOF */
	while ((n = read(sv[1], buf, sizeof(buf))) > 0)
		;
	cr_assert_eq(n, 0, "read: %s", strerror(errno));
	cr_assert_eq(sigprocmask(SIG_UNBLOCK, &io, NULL), 0);
}

Test(nodelink, exit_ack_to_a_full_link_cuts_the_node_off)
{
	pt->nodes[0].proxy = 0; /* no proxy to wake */
	fill(sv[0]);
	cr_assert_eq(node_send_exit_ack(pt, 0), -1);
	cr_assert(node_stopped_reading(pt, 0), "the node counts as having left");
}

Test(nodelink, one_ping_on_its_way_at_a_time)
{
	uint8_t buf[4 * DSM_HEADER_SIZE];

	cr_assert_eq(node_send_ping(pt, 0, 1), 0);
	cr_assert_eq(node_send_ping(pt, 0, 2), 0); /* skipped: the first is unanswered */
	cr_assert_eq(read(sv[1], buf, sizeof(buf)), DSM_HEADER_SIZE, "not exactly one PING");
	node_pong(pt, 0);
	cr_assert_eq(node_send_ping(pt, 0, 3), 0);
	cr_assert_eq(read(sv[1], buf, sizeof(buf)), DSM_HEADER_SIZE);
	cr_assert_eq(buf[0], MSG_PING);
	cr_assert_eq(buf[16], 3);
}

Test(nodelink, bound_covers_the_window_and_every_node)
{
	pt->prefetch = 256;
	/* four runs of 64 pages and a pair for each other outstanding fault,
	 * and as many messages for each node (revokes for the others' faults),
	 * a reply per fault slot, EXIT_ACK and PING */
	cr_assert_eq(node_link_bound(pt), (256u + 32) * DSM_PAGE_SIZE +
						  (3 * (4 + 32) + 16 + 2) * DSM_HEADER_SIZE);
	pt->prefetch = 0;
	cr_assert_eq(node_link_bound(pt),
		     (1u + 32) * DSM_PAGE_SIZE + (3 * (1 + 32) + 16 + 2) * DSM_HEADER_SIZE);
}
