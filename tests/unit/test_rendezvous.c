/*
 * test_rendezvous.c - allocator/launch/rendezvous.c, nodes joining a job,
 * over a real listening socket on 127.0.0.1 (a port the kernel picks) with
 * the job's part played as jobstart.c plays it: the listener and the
 * connections the rendezvous asks to watch (watch/unwatch) in one poll(),
 * and rendezvous_ready() for every ready one. A HELLO with the
 * job's secret joins the node id it names with that very connection, also
 * when it arrives in pieces; a wrong secret, another protocol version, a bad
 * node id, garbage, a message other than HELLO and a second HELLO for a
 * joined id are refused (the peer sees its connection closed, stderr says
 * why) and the rendezvous goes on; so are connections once every node
 * joined. Strangers cannot keep the nodes out: a full table of half-open
 * connections evicts its oldest for a newcomer, and a connection without a
 * whole HELLO by its deadline is dropped (a short deadline, so poll() blocks
 * on the rendezvous' timerfd for a fraction of a second). Refusals print at
 * most a few lines a window, then a count. Exactly the half-open connections
 * and the timerfd are watched, each unwatched before it is closed or joins.
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../allocator/launch/launch.h"
#include "../../common/message.h"

#define NN 3u   /* nodes */
#define NP 100u /* pages */
#define CAP 4u  /* half-open connections */

static struct rendezvous rv;
static int listen_fd = -1;
static struct sockaddr_in addr;
static uint8_t secret[DSM_SECRET_LEN];

/* what the job learns: node -> its link (-1: not joined), in join order */
static int link_of[NN];
static uint32_t join_order[NN];
static unsigned njoined;

/* stderr goes to a pipe, so the tests can read why a connection was refused */
static int saved_stderr = -1;
static int err_pipe[2] = {-1, -1};
static char err_text[8192];
static size_t err_len;

/*
 * The fds the rendezvous asked to watch, as the job's event loop keeps them
 * (the listener it watches itself): the half-open connections and, once
 * armed, its timer. During a turn of step(), `turn` holds
 * what poll() was given: an fd unwatched during the turn is struck from it,
 * so it is not handed on even when its number is reused at once (as
 * events.c does); one watched during the turn waits for the next.
 */
static int watched[CAP + 1];
static size_t nwatched;
static struct pollfd *turn;
static size_t nturn;

static int fd_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

static size_t find_watched(int fd)
{
	for (size_t i = 0; i < nwatched; i++)
		if (watched[i] == fd)
			return i;
	return nwatched;
}

/* How many connections (not the timer) are watched. */
static size_t conns_watched(void)
{
	return nwatched - (find_watched(rv.timer_fd) < nwatched);
}

static void on_watch(void *ctx, int fd)
{
	cr_assert_eq(ctx, (void *)&rv, "callback got the wrong context");
	cr_assert_geq(fd, 0);
	cr_assert(fd_open(fd), "watch of fd %d, which is not open", fd);
	cr_assert_neq(fd, listen_fd, "the listener is the job's to watch");
	cr_assert_eq(find_watched(fd), nwatched, "fd %d watched twice", fd);
	cr_assert_lt(nwatched, CAP + 1, "more than %u connections watched", CAP);
	watched[nwatched++] = fd;
}

static void on_unwatch(void *ctx, int fd)
{
	size_t i = find_watched(fd);

	cr_assert_eq(ctx, (void *)&rv, "callback got the wrong context");
	cr_assert_lt(i, nwatched, "unwatch of fd %d, which is not watched", fd);
	cr_assert(fd_open(fd), "fd %d closed before it was unwatched", fd);
	watched[i] = watched[--nwatched];
	for (size_t k = 0; k < nturn; k++)
		if (turn[k].fd == fd)
			turn[k].fd = -1;
}

static int on_joined(void *ctx, uint32_t node, int fd)
{
	cr_assert_eq(ctx, (void *)&rv, "callback got the wrong context");
	cr_assert_lt(node, NN, "node %u joined, beyond the job", node);
	cr_assert_lt(find_watched(fd), nwatched, "fd %d joined without being watched", fd);
	if (link_of[node] >= 0)
		return -1; /* as the job does: an id joins once */
	link_of[node] = fd;
	join_order[njoined++] = node;
	return 0;
}

static void setup(void)
{
	socklen_t alen = sizeof(addr);

	for (unsigned i = 0; i < DSM_SECRET_LEN; i++)
		secret[i] = (uint8_t)(0xa5 ^ (i * 37));
	for (unsigned i = 0; i < NN; i++)
		link_of[i] = -1;
	njoined = 0;
	nwatched = 0;
	turn = NULL;
	nturn = 0;

	cr_assert_eq(pipe2(err_pipe, O_NONBLOCK | O_CLOEXEC), 0);
	saved_stderr = dup(STDERR_FILENO);
	cr_assert_geq(saved_stderr, 0);
	cr_assert_eq(dup2(err_pipe[1], STDERR_FILENO), STDERR_FILENO);
	err_len = 0;
	err_text[0] = '\0';

	listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	cr_assert_geq(listen_fd, 0);
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(listen_fd, (struct sockaddr *)&addr, sizeof(addr)), 0, "bind: %s",
		     strerror(errno));
	cr_assert_eq(listen(listen_fd, 64), 0);
	cr_assert_eq(getsockname(listen_fd, (struct sockaddr *)&addr, &alen), 0);
	cr_assert_eq(rendezvous_init(&rv, listen_fd, NN, NP, secret, CAP), 0);
	cr_assert_eq(rv.hello_timeout_us, RENDEZVOUS_HELLO_TIMEOUT_US);
	/* a loaded machine must not miss the deadline: tests of it shorten it */
	rv.hello_timeout_us = 60000000u;
	rv.joined = on_joined;
	rv.watch = on_watch;
	rv.unwatch = on_unwatch;
	rv.ctx = &rv;
}

static void teardown(void)
{
	rendezvous_free(&rv);
	cr_expect_eq(nwatched, 0u, "rendezvous_free left %zu connections watched", nwatched);
	close(listen_fd);
	for (unsigned i = 0; i < NN; i++)
		if (link_of[i] >= 0)
			close(link_of[i]);
	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	close(err_pipe[0]);
	close(err_pipe[1]);
}

TestSuite(rendezvous, .init = setup, .fini = teardown, .timeout = 20);

/* ---- helpers ------------------------------------------------------------ */

/* Everything written to stderr so far. */
static const char *stderr_text(void)
{
	ssize_t n;

	while ((n = read(err_pipe[0], err_text + err_len, sizeof(err_text) - 1 - err_len)) > 0)
		err_len += (size_t)n;
	err_text[err_len] = '\0';
	return err_text;
}

static int connect_client(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	cr_assert_geq(fd, 0);
	cr_assert_eq(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), 0, "connect: %s",
		     strerror(errno));
	return fd;
}

static void send_bytes(int fd, const void *p, size_t n)
{
	cr_assert_eq(write(fd, p, n), (ssize_t)n, "write: %s", strerror(errno));
}

/* A HELLO as libsm sends it, into out[DSM_HEADER_SIZE + DSM_SECRET_LEN]. */
static void make_hello(uint8_t *out, uint32_t node, uint64_t version, const uint8_t *key)
{
	struct msg m = {.type = MSG_HELLO, .node = node, .length = DSM_SECRET_LEN, .arg = version};

	msg_encode(&m, out);
	memcpy(out + DSM_HEADER_SIZE, key, DSM_SECRET_LEN);
}

#define HELLO_BYTES (DSM_HEADER_SIZE + DSM_SECRET_LEN)

static void send_hello(int fd, uint32_t node)
{
	uint8_t h[HELLO_BYTES];

	make_hello(h, node, DSM_PROTOCOL_VERSION, secret);
	send_bytes(fd, h, sizeof(h));
}

/*
 * One turn of the job's loop: poll the listener, the watched connections
 * (and `watch`, if not -1) and hand every ready one of the first two to
 * rendezvous_ready(). Fails when nothing happens within 5 s. Returns the
 * revents of `watch`.
 */
static short step(int watch)
{
	struct pollfd pfd[1 + CAP + 1 + 1];
	size_t n = 0;
	short watch_revents;
	int rc;

	cr_assert_eq(conns_watched(), rv.npending, "%zu connections watched, %zu half-open",
		     conns_watched(), rv.npending);
	pfd[n++] = (struct pollfd){.fd = listen_fd, .events = POLLIN};
	for (size_t i = 0; i < nwatched; i++)
		pfd[n++] = (struct pollfd){.fd = watched[i], .events = POLLIN};
	pfd[n] = (struct pollfd){.fd = watch, .events = POLLIN};
	do
		rc = poll(pfd, n + 1, 5000);
	while (rc < 0 && errno == EINTR);
	cr_assert_gt(rc, 0, "nothing happened within 5 s (poll: %d)", rc);
	watch_revents = pfd[n].revents;
	turn = pfd;
	nturn = n;
	for (size_t i = 0; i < n; i++)
		if (pfd[i].fd >= 0 && pfd[i].revents)
			rendezvous_ready(&rv, pfd[i].fd);
	turn = NULL;
	nturn = 0;
	cr_assert_eq(conns_watched(), rv.npending, "%zu connections watched, %zu half-open",
		     conns_watched(), rv.npending);
	return watch_revents;
}

static void run_until_joined(unsigned count)
{
	while (njoined < count)
		step(-1);
}

static void run_until_pending(size_t count)
{
	while (rv.npending != count)
		step(-1);
}

/* The rendezvous closes fd's connection: the peer reads end of file (or a
 * reset, when bytes it sent were never read). Closes fd. */
static void expect_refused(int fd)
{
	char c;
	ssize_t n;

	while (!step(fd))
		;
	n = read(fd, &c, 1);
	cr_assert(n == 0 || (n < 0 && errno == ECONNRESET), "connection still open: read %zd (%s)",
		  n, n < 0 ? strerror(errno) : "data");
	close(fd);
}

static void expect_stderr(const char *why)
{
	const char *text = stderr_text();

	cr_assert(strstr(text, "refused a connection from 127.0.0.1:"),
		  "no refusal on stderr: \"%s\"", text);
	cr_assert(strstr(text, why), "stderr does not say \"%s\": \"%s\"", why, text);
}

/* fd (the client's end) and link (the job's end) are one connection. */
static void expect_linked(int fd, int link)
{
	char c = 0;

	cr_assert_geq(link, 0);
	cr_assert_eq(find_watched(link), nwatched, "the joined link is still watched");
	send_bytes(link, "L", 1);
	cr_assert_eq(read(fd, &c, 1), 1);
	cr_assert_eq(c, 'L', "the joined link is another connection");
}

/* ---- joining ------------------------------------------------------------- */

Test(rendezvous, hello_with_the_secret_joins_its_node_id)
{
	int c1 = connect_client();

	send_hello(c1, 1);
	run_until_joined(1);
	cr_assert_eq(join_order[0], 1u);
	cr_assert_eq(link_of[0], -1);
	cr_assert_eq(link_of[2], -1);
	cr_assert_eq(rv.npending, 0u, "the joined link is still pending");
	expect_linked(c1, link_of[1]);
	cr_assert_str_eq(stderr_text(), "");
	close(c1);
}

Test(rendezvous, every_node_joins_in_any_order)
{
	int c[NN];
	uint32_t order[NN] = {2, 0, 1};

	for (unsigned i = 0; i < NN; i++)
		c[i] = connect_client();
	/* all connected first, then the HELLOs in another order */
	run_until_pending(NN);
	for (unsigned i = 0; i < NN; i++)
		send_hello(c[i], order[i]);
	run_until_joined(NN);
	for (unsigned i = 0; i < NN; i++)
		expect_linked(c[i], link_of[order[i]]);
	cr_assert_eq(rv.npending, 0u);
	cr_assert_str_eq(stderr_text(), "");
	for (unsigned i = 0; i < NN; i++)
		close(c[i]);
}

Test(rendezvous, hello_in_pieces_joins)
{
	uint8_t h[HELLO_BYTES];
	int c = connect_client();
	size_t cuts[] = {0, 1, 10, DSM_HEADER_SIZE, DSM_HEADER_SIZE + 5, HELLO_BYTES - 1,
			 HELLO_BYTES};

	make_hello(h, 2, DSM_PROTOCOL_VERSION, secret);
	run_until_pending(1);
	for (unsigned i = 0; i + 1 < sizeof(cuts) / sizeof(cuts[0]); i++) {
		cr_assert_eq(njoined, 0u, "joined after %zu bytes", cuts[i]);
		cr_assert_eq(rv.npending, 1u, "dropped after %zu bytes", cuts[i]);
		send_bytes(c, h + cuts[i], cuts[i + 1] - cuts[i]);
		/* until the rendezvous has read these bytes (nothing to see yet) */
		if (cuts[i + 1] < HELLO_BYTES)
			step(-1);
	}
	run_until_joined(1);
	cr_assert_eq(join_order[0], 2u);
	expect_linked(c, link_of[2]);
	close(c);
}

/* ---- refusals ------------------------------------------------------------- */

/* After a refusal the rendezvous goes on: node `node` can still join. */
static void still_joins(uint32_t node)
{
	unsigned before = njoined;
	int c = connect_client();

	send_hello(c, node);
	run_until_joined(before + 1);
	cr_assert_eq(join_order[before], node);
	expect_linked(c, link_of[node]);
	close(c);
}

Test(rendezvous, wrong_secret_is_refused)
{
	uint8_t bad[DSM_SECRET_LEN], h[HELLO_BYTES];
	int c = connect_client();

	memcpy(bad, secret, sizeof(bad));
	bad[DSM_SECRET_LEN - 1] ^= 1; /* the very last bit counts */
	make_hello(h, 0, DSM_PROTOCOL_VERSION, bad);
	send_bytes(c, h, sizeof(h));
	expect_refused(c);
	cr_assert_eq(njoined, 0u);
	cr_assert_eq(rv.npending, 0u);
	expect_stderr("wrong job secret");
	still_joins(0);
}

Test(rendezvous, other_protocol_version_is_refused)
{
	uint8_t h[HELLO_BYTES];
	int c = connect_client();

	make_hello(h, 1, DSM_PROTOCOL_VERSION + 1, secret);
	send_bytes(c, h, sizeof(h));
	expect_refused(c);
	cr_assert_eq(njoined, 0u);
	expect_stderr("speaks protocol");
	still_joins(1);
}

Test(rendezvous, node_id_beyond_the_job_is_refused)
{
	int c = connect_client();

	send_hello(c, NN);
	expect_refused(c);
	cr_assert_eq(njoined, 0u);
	expect_stderr("refused");
	still_joins(NN - 1);
}

Test(rendezvous, garbage_is_refused)
{
	uint8_t junk[HELLO_BYTES];
	int c = connect_client();

	memset(junk, 0xff, sizeof(junk));
	send_bytes(c, junk, sizeof(junk));
	expect_refused(c);
	cr_assert_eq(njoined, 0u);
	cr_assert_eq(rv.npending, 0u);
	expect_stderr("refused");
	still_joins(2);
}

Test(rendezvous, garbage_header_is_refused_before_a_whole_hello)
{
	uint8_t junk[DSM_HEADER_SIZE];
	int c = connect_client();

	/* a bad header is judged at once: no need to wait for HELLO's size */
	memset(junk, 0xee, sizeof(junk));
	send_bytes(c, junk, sizeof(junk));
	expect_refused(c);
	expect_stderr("refused");
	still_joins(0);
}

Test(rendezvous, first_message_not_hello_is_refused)
{
	uint8_t bytes[HELLO_BYTES];
	struct msg m = {.type = MSG_BARRIER};
	int c = connect_client();

	memset(bytes, 0, sizeof(bytes));
	msg_encode(&m, bytes);
	send_bytes(c, bytes, sizeof(bytes));
	expect_refused(c);
	cr_assert_eq(njoined, 0u);
	expect_stderr("did not start with HELLO");
	still_joins(1);
}

Test(rendezvous, second_hello_for_a_joined_id_is_refused)
{
	int first = connect_client(), dup;

	send_hello(first, 1);
	run_until_joined(1);
	dup = connect_client();
	send_hello(dup, 1);
	expect_refused(dup);
	cr_assert_eq(njoined, 1u);
	expect_stderr("node id already joined");
	/* the first link is untouched */
	expect_linked(first, link_of[1]);
	still_joins(0);
	close(first);
}

Test(rendezvous, peer_leaving_halfway_is_dropped_quietly)
{
	uint8_t h[HELLO_BYTES];
	int c = connect_client();

	make_hello(h, 0, DSM_PROTOCOL_VERSION, secret);
	send_bytes(c, h, 20);
	run_until_pending(1);
	close(c);
	run_until_pending(0);
	cr_assert_eq(njoined, 0u);
	cr_assert_str_eq(stderr_text(), "", "a vanished peer is not a refusal");
	still_joins(0);
}

Test(rendezvous, connections_after_everyone_joined_are_refused)
{
	int c[NN], late, waiting;

	waiting = connect_client(); /* half-open when the job starts */
	run_until_pending(1);
	for (unsigned i = 0; i < NN; i++) {
		c[i] = connect_client();
		send_hello(c[i], i);
	}
	run_until_joined(NN);
	/* what the job does once all have joined */
	rendezvous_close(&rv);
	cr_assert_eq(rv.npending, 0u);
	cr_assert_eq(conns_watched(), 0u, "refused connections still watched");
	expect_stderr("all nodes have joined");
	expect_refused(waiting);

	err_len = 0;
	late = connect_client();
	send_hello(late, 0);
	expect_refused(late);
	expect_stderr("all nodes have joined");
	cr_assert_eq(njoined, NN);
	for (unsigned i = 0; i < NN; i++) {
		expect_linked(c[i], link_of[i]);
		close(c[i]);
	}
}

/* fd's connection is still open: nothing to read, no end of file. */
static void expect_still_open(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	cr_assert_eq(poll(&p, 1, 0), 0, "connection fd %d was closed", fd);
}

Test(rendezvous, full_table_evicts_the_oldest_and_a_real_hello_joins)
{
	int silent[CAP], node, later;

	for (unsigned i = 0; i < CAP; i++) {
		silent[i] = connect_client();
		run_until_pending(i + 1); /* accepted in this order */
	}
	cr_assert_eq(conns_watched(), CAP);

	/* a real node among strangers that never speak: the oldest makes room */
	node = connect_client();
	send_hello(node, 2);
	run_until_joined(1);
	expect_linked(node, link_of[2]);
	expect_refused(silent[0]);
	expect_stderr("evicted for a newer one: too many half-open connections");
	cr_assert_eq(rv.npending, CAP - 1);
	for (unsigned i = 1; i < CAP; i++)
		expect_still_open(silent[i]);

	/* and again, with the table full once more */
	later = connect_client();
	run_until_pending(CAP);
	send_hello(later, 0);
	run_until_joined(2);
	cr_assert_eq(join_order[1], 0u);
	expect_linked(later, link_of[0]);
	/* the evicted ones did not get in the way of the others either */
	send_hello(silent[3], 1);
	run_until_joined(3);
	expect_linked(silent[3], link_of[1]);
	close(node);
	close(later);
	for (unsigned i = 1; i < CAP; i++)
		close(silent[i]);
}

static uint64_t now_us(void)
{
	struct timespec ts;

	cr_assert_eq(clock_gettime(CLOCK_MONOTONIC, &ts), 0);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

Test(rendezvous, no_hello_by_the_deadline_is_refused)
{
	uint8_t h[HELLO_BYTES];
	int idle, slow;
	uint64_t t0;

	rv.hello_timeout_us = 200000u;
	t0 = now_us();
	idle = connect_client();
	run_until_pending(1);
	/* step() blocks in poll() until the timer fires: no sleeping here */
	expect_refused(idle);
	cr_assert_geq(now_us() - t0, rv.hello_timeout_us, "dropped before its deadline");
	expect_stderr("no HELLO within 0.2 s");
	cr_assert_eq(rv.npending, 0u);

	/* a trickle does not buy time: the whole HELLO must be there */
	make_hello(h, 0, DSM_PROTOCOL_VERSION, secret);
	slow = connect_client();
	send_bytes(slow, h, 20);
	run_until_pending(1);
	send_bytes(slow, h + 20, 1);
	expect_refused(slow);
	cr_assert_eq(njoined, 0u);
	still_joins(0);
	cr_assert_eq(rv.npending, 0u);
}

/* How many lines of stderr contain `what`; adds up the number each starts with
 * (after "dsm: ") into *sum when sum is not NULL. */
static unsigned count_lines(const char *what, unsigned long *sum)
{
	const char *p = stderr_text();
	unsigned n = 0;

	while (*p) {
		const char *end = strchr(p, '\n');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char line[512];

		snprintf(line, sizeof(line), "%.*s", (int)len, p);
		if (strstr(line, what)) {
			n++;
			if (sum)
				*sum += strtoul(line + strlen("dsm: "), NULL, 10);
		}
		p += len + (end != NULL);
	}
	return n;
}

Test(rendezvous, refusal_lines_are_rate_limited)
{
	enum { MANY = 40 };
	int c[MANY];
	unsigned long shown, summed = 0;
	unsigned windows;
	uint64_t t0 = now_us();
	char total[128];

	rendezvous_close(&rv);
	for (unsigned i = 0; i < MANY; i++)
		c[i] = connect_client();
	while (rv.refused < MANY)
		step(-1);
	windows = (unsigned)((now_us() - t0) / rv.refusal_window_us) + 1;
	shown = count_lines("refused a connection from", NULL);
	cr_assert_geq(shown, RENDEZVOUS_REFUSAL_LINES, "%s", stderr_text());
	cr_assert_leq(shown, RENDEZVOUS_REFUSAL_LINES * windows, "%lu lines in %u windows: %s",
		      shown, windows, stderr_text());
	/* the count of the rest comes when the window ends, without a new refusal */
	while (rv.window_suppressed)
		step(-1);
	cr_assert_geq(count_lines("more connections refused", &summed), 1u, "%s", stderr_text());
	cr_assert_eq(shown + summed, MANY, "%lu shown + %lu counted: %s", shown, summed,
		     stderr_text());
	rendezvous_free(&rv);
	snprintf(total, sizeof(total), "dsm: %d connections refused in all, %lu of them without a "
		 "line of their own\n", MANY, summed);
	cr_assert(strstr(stderr_text(), total), "no \"%s\": %s", total, stderr_text());
	for (unsigned i = 0; i < MANY; i++)
		close(c[i]);
}
