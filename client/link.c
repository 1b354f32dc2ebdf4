/*
 * link.c - libsm's link to its proxy: connecting, the SIGIO handler, and the
 * one receive path (sm__pump) that the SIGIO handler, the fault handler and
 * every blocking API call share. Unsolicited messages (revoke, invalidate) are
 * handled the moment they are read, whoever is reading, so a node waiting for
 * its own reply always keeps answering others: no A-waits-for-B-waits-for-A.
 */
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../common/dispatch.h"
#include "../common/net.h"
#include "libsm.h"

struct sm_state sm__st = {.fd = -1, .fault_page = -1, .held = {-1, -1}};

void sm__link_signals(sigset_t *set)
{
	sigaddset(set, SIGIO);
	sigaddset(set, SM_HOLD_SIGNAL);
}

void sm__block_sigio(sigset_t *old)
{
	sigset_t s;

	sigemptyset(&s);
	sm__link_signals(&s);
	if (sigprocmask(SIG_BLOCK, &s, old) < 0)
		sm__die("sigprocmask: ", strerror(errno), NULL);
}

void sm__restore_sigmask(const sigset_t *old)
{
	if (sigprocmask(SIG_SETMASK, old, NULL) < 0)
		sm__die("sigprocmask: ", strerror(errno), NULL);
}

static void send_failed(void) __attribute__((noreturn));
static void send_failed(void)
{
	if (errno == EPIPE || errno == ECONNRESET)
		sm__die("the connection to dsm closed; the job has ended", NULL);
	sm__die("sending to dsm failed: ", strerror(errno), NULL);
}

/* Send the answers queued so far (sm__queue), in one sendmsg(). */
void sm__flush(void)
{
	if (wire_batch_flush(sm__st.fd, &sm__st.out) < 0)
		send_failed();
}

/* Queue an answer: what one batch of arrivals asks for goes out together. */
static void sm__queue(const struct msg *m, const void *payload)
{
	if (wire_batch_add(sm__st.fd, &sm__st.out, m, payload) < 0)
		send_failed();
	/* a full run's worth goes at once: its requester is waiting for it,
	 * and batching brings nothing at that size */
	if (sm__st.out.bytes >= DSM_MAX_RUN * DSM_PAGE_SIZE)
		sm__flush();
}

void sm__send(const struct msg *m, const void *payload)
{
	sm__flush(); /* what was queued goes first */
	if (wire_send(sm__st.fd, m, payload) < 0)
		send_failed();
}

/* ---- the node's dispatch table: what dsm may send, and when ------------ */

enum link_state {
	LINK_JOINING, /* HELLO sent: only WELCOME */
	LINK_IN_JOB,  /* joined */
	LINK_LEAVING, /* EXIT sent: answers to what crossed it, then EXIT_ACK */
	LINK_STATES
};

static const char *const link_state_names[LINK_STATES] = {
	[LINK_JOINING] = "joining",
	[LINK_IN_JOB] = "in the job",
	[LINK_LEAVING] = "leaving",
};

static unsigned link_state(void)
{
	if (!sm__st.base)
		return LINK_JOINING;
	return sm__st.leaving ? LINK_LEAVING : LINK_IN_JOB;
}

/* WELCOME: the job's size and where the region lives */
static int on_welcome(void *ctx, const struct msg *m, const uint8_t *payload, const char **why)
{
	(void)ctx, (void)payload;
	if (m->node != sm__st.nnodes || m->page == 0) {
		*why = "a WELCOME for another job size";
		return -1;
	}
	sm__st.npages = m->page;
	sm__st.region_base = m->arg;
	return 0;
}

/*
 * A run of pages granted. When it starts at a page of the fault (the
 * faulting page, or either page of a pair) and echoes the fault's number it
 * answers the fault for that page; otherwise (prefetched, seq 0) it is taken
 * as it is. The fault is done when each of its pages is granted. A read
 * grant never downgrades a page held writable.
 */
static int on_grant(void *ctx, const struct msg *m, const uint8_t *payload, const char **why)
{
	int write = (m->flags & MSGF_WRITE) != 0;
	uint32_t i = m->page - (uint32_t)sm__st.fault_page;

	(void)ctx, (void)why;
	if (sm__st.leaving) {
		/* the rest of a window, arriving after this node wrote its pages
		 * back: hand what is writable straight back too */
		sm__region_late_grant(m->page, m->node, write, m->length ? payload : NULL);
		return 0;
	}
	sm__region_grant(m->page, m->node, write, m->length ? payload : NULL);
	if (sm__st.fault_page >= 0 && m->arg == sm__st.fault_seq && i < sm__st.fault_count) {
		/* hold the page until the faulting instruction has run: from
		 * now on, while the fault waits for its other page too */
		if (sm__st.holds_pages)
			sm__st.held[i] = (int32_t)m->page;
		sm__st.fault_granted |= 1u << i;
		if (sm__st.fault_granted == (1u << sm__st.fault_count) - 1)
			sm__st.fault_done = 1;
	}
	return 0;
}

/* Answer a revoke or invalidation for pages [first, first+count). */
static void take(const struct msg *m, uint32_t first, uint32_t count)
{
	if (count == 0)
		return;
	if (m->type == MSG_REVOKE)
		sm__region_revoke(first, count);
	else
		sm__region_invalidate(first, count, m->flags & MSGF_WANT_DATA);
}

/*
 * REVOKE or INVALIDATE. A held page's part waits until the faulting
 * instruction has run (sm__serve_deferred() dispatches it again); the rest
 * of the run is answered now, so a transaction that is older than the
 * hold, on a page this node does not hold, never waits for the hold
 * (docs/design.md, "Instructions that need two pages").
 */
static int on_take(void *ctx, const struct msg *m, const uint8_t *payload, const char **why)
{
	uint32_t from = m->page, end = m->page + m->node;

	(void)ctx, (void)payload, (void)why;
	for (uint32_t p = m->page; p < end && sm__holding(); p++) {
		int i = sm__st.held[0] == (int32_t)p ? 0 : sm__st.held[1] == (int32_t)p ? 1 : -1;

		if (i < 0 || sm__st.have_deferred[i])
			continue;
		take(m, from, p - from);
		sm__st.deferred[i] = *m;
		sm__st.deferred[i].page = p;
		sm__st.deferred[i].node = 1;
		sm__st.have_deferred[i] = 1;
		from = p + 1;
	}
	take(m, from, end - from);
	return 0;
}

static int on_ping(void *ctx, const struct msg *m, const uint8_t *payload, const char **why)
{
	struct msg pong = {.type = MSG_PONG, .arg = m->arg};

	(void)ctx, (void)payload, (void)why;
	sm__queue(&pong, NULL);
	return 0;
}

static int on_error(void *ctx, const struct msg *m, const uint8_t *payload, const char **why)
{
	(void)ctx, (void)payload;
	if (m->arg == DSM_ERR_PAGE_LOST || m->arg == DSM_ERR_UNALLOCATED) {
		if (sm__st.fault_page < 0) {
			*why = "a fault error while no fault is waiting";
			return -1;
		}
		sm__st.fault_error = *m;
		sm__st.fault_done = 1;
		return 0;
	}
	/* the answer to the blocked API call (a bad sm_bcast, say) */
	if (sm__st.awaited_type == MSG_NONE) {
		*why = "an error while no call is waiting";
		return -1;
	}
	sm__st.reply = *m;
	sm__st.reply_ready = 1;
	return 0;
}

/* CHUNK, BARRIER_DONE, BCAST_DONE, EXIT_ACK, LOCK_GRANT: the reply a blocked
 * call waits for */
static int on_reply(void *ctx, const struct msg *m, const uint8_t *payload, const char **why)
{
	(void)ctx, (void)payload;
	if (m->type != sm__st.awaited_type) {
		*why = "a reply nobody asked for";
		return -1;
	}
	sm__st.reply = *m;
	sm__st.reply_ready = 1;
	return 0;
}

#define JOINING DISPATCH_STATE(LINK_JOINING)
#define IN_JOB DISPATCH_STATE(LINK_IN_JOB)
#define LEAVING DISPATCH_STATE(LINK_LEAVING)
static const struct dispatch_row link_rows[] = {
	{MSG_WELCOME, JOINING, on_welcome},
	{MSG_GRANT, IN_JOB | LEAVING, on_grant},
	{MSG_REVOKE, IN_JOB | LEAVING, on_take},
	{MSG_INVALIDATE, IN_JOB | LEAVING, on_take},
	{MSG_PING, IN_JOB | LEAVING, on_ping},
	{MSG_ERROR, IN_JOB, on_error},
	{MSG_CHUNK, IN_JOB, on_reply},
	{MSG_BARRIER_DONE, IN_JOB, on_reply},
	{MSG_BCAST_DONE, IN_JOB, on_reply},
	{MSG_BCAST_BUF_GO, IN_JOB, sm__on_bcast_go},   /* collective.c */
	{MSG_BCAST_DATA, IN_JOB, sm__on_bcast_data},
	{MSG_EXIT_ACK, LEAVING, on_reply},
	/* sm_lock, sm_trylock, sm_cond_wait (locks.c checks which lock) */
	{MSG_LOCK_GRANT, IN_JOB, on_reply},
};
#undef JOINING
#undef IN_JOB
#undef LEAVING

static const struct dispatch_table link_table = {
	.receiver = "node",
	.rows = link_rows,
	.nrows = sizeof(link_rows) / sizeof(link_rows[0]),
	.state_names = link_state_names,
	.nstates = LINK_STATES,
};

/* Run m's row, or end this node naming the message and the state. */
static int dispatch(const struct msg *m, const uint8_t *payload, int fatal)
{
	unsigned state = link_state();
	const char *why;
	char num[24];

	if (dispatch_message(&link_table, state, NULL, m, payload, &why) == DISPATCH_OK)
		return 0;
	if (!fatal) {
		sm__say("unexpected message from dsm: ", msg_type_name(m->type), " ",
			sm__fmt_u64(num, m->type), " (", dispatch_state_name(&link_table, state),
			"): ", why, NULL);
		return -1;
	}
	sm__die("unexpected message from dsm: ", msg_type_name(m->type), " ",
		sm__fmt_u64(num, m->type), " (", dispatch_state_name(&link_table, state), "): ", why,
		NULL);
}

void sm__dispatch(const struct msg *m)
{
	dispatch(m, NULL, 1);
}

void sm__region_reply(uint8_t type, uint32_t first, uint32_t count, const void *data)
{
	struct msg m = {.type = type, .page = first, .node = count,
			.length = data ? count * DSM_PAGE_SIZE : 0};

	sm__queue(&m, data);
}

/*
 * The one receive path. Reads until a read comes back short (the socket is
 * drained; anything newer raises SIGIO again) and handles every complete
 * message. Invariant kept by every caller: either the socket is drained, or
 * a SIGIO is pending.
 */
void sm__pump(void)
{
	struct wire_reader *r = &sm__st.reader;

	for (;;) {
		struct msg m;
		const uint8_t *payload;
		const char *why;
		enum decode_result d;
		enum fill_result f = wire_fill(r);

		if (f == FILL_EOF)
			sm__die("the connection to dsm closed; the job has ended", NULL);
		if (f == FILL_ERROR)
			sm__die("reading from dsm failed: ", strerror(errno), NULL);
		while ((d = wire_next(r, &m, &payload, &why)) == DECODE_OK)
			dispatch(&m, payload, 1);
		/* the answers to what this read brought go out together */
		sm__flush();
		if (d == DECODE_BAD)
			sm__die("malformed message from dsm: ", why, NULL);
		if (f == FILL_AGAIN || r->drained)
			return;
	}
}

/*
 * Sleep until the link has news. SIGIO is blocked here, so waiting for it
 * consumes the signal the news raised, and no handler runs for it later.
 * Only the thread that joined gets here (caller.c ends any other before it
 * can wait), and SIGIO is aimed at that thread.
 */
static void wait_for_link(void)
{
	sigset_t io;

	sigemptyset(&io);
	sigaddset(&io, SIGIO);
	while (sigwaitinfo(&io, NULL) < 0)
		if (errno != EINTR)
			sm__die("sigwaitinfo: ", strerror(errno), NULL);
}

static void wait_reply(uint8_t type)
{
	/* the instruction that faulted has long run: no page is held any more */
	sm__serve_deferred();
	sm__st.awaited_type = type;
	while (!sm__st.reply_ready) {
		wait_for_link();
		sm__pump();
	}
	sm__st.reply_ready = 0;
	sm__st.awaited_type = MSG_NONE;
}

void sm__wait_link(void)
{
	wait_for_link();
	sm__pump();
}

void sm__request_payload(const struct msg *m, const void *payload, uint8_t reply_type,
			 struct msg *reply)
{
	sigset_t old;

	sm__block_sigio(&old);
	sm__send(m, payload);
	wait_reply(reply_type);
	*reply = sm__st.reply;
	sm__restore_sigmask(&old);
}

void sm__request(const struct msg *m, uint8_t reply_type, struct msg *reply)
{
	sm__request_payload(m, NULL, reply_type, reply);
}

void sm__wait_fault(void)
{
	while (!sm__st.fault_done) {
		wait_for_link();
		sm__pump();
	}
}

static void on_sigio(int sig, siginfo_t *si, void *ctx)
{
	int saved = errno;

	(void)sig, (void)si;
	if (sm__st.fd >= 0) {
		sm__hold_check(ctx);
		sm__pump();
		sm__hold_arm(ctx);
	}
	errno = saved;
}

void sm__install_sigio(void)
{
	struct sigaction sa;
	char err[NET_ERR_LEN];

	sm__st.owner_tid = (pid_t)syscall(SYS_gettid);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigio;
	sa.sa_flags = SA_RESTART | SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sm__link_signals(&sa.sa_mask);
	if (sigaction(SIGIO, &sa, NULL) < 0)
		sm__die("sigaction(SIGIO): ", strerror(errno), NULL);
	/* SIGIO always goes to the thread that joined (see sm.h on threads) */
	if (net_async(err, sm__st.fd, NET_OWNER_THREAD, sm__st.owner_tid) < 0)
		sm__die(err, NULL);
}

static int read_exact(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int sm__link_connect(const struct node_args *a, const uint8_t secret[DSM_SECRET_LEN])
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	struct addrinfo *res, *ai;
	int fd = -1, rc;
	char err[NET_ERR_LEN];
	struct msg m = {.type = MSG_HELLO, .node = a->nid, .length = DSM_SECRET_LEN,
			.arg = DSM_PROTOCOL_VERSION};
	uint8_t header[DSM_HEADER_SIZE];
	struct msg_limits lim = {0, 0};
	size_t total;
	const char *why;

	if ((rc = getaddrinfo(a->host, a->port, &hints, &res)) != 0) {
		sm__say("cannot resolve dsm's address ", a->host, ": ", gai_strerror(rc), NULL);
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		sm__say("cannot connect to dsm at ", a->host, " port ", a->port, NULL);
		return -1;
	}
	if (net_nodelay(err, fd) < 0) {
		sm__say(err, NULL);
		close(fd);
		return -1;
	}
	if (wire_send(fd, &m, secret) < 0 || read_exact(fd, header, sizeof(header)) < 0) {
		sm__say("dsm refused this node or closed the connection while joining", NULL);
		close(fd);
		return -1;
	}
	sm__st.nnodes = a->nnodes;
	if (msg_decode(header, sizeof(header), FROM_ALLOCATOR, &lim, &m, &total, &why) != DECODE_OK) {
		sm__say("malformed answer from dsm while joining: ", why, NULL);
		close(fd);
		return -1;
	}
	if (dispatch(&m, NULL, 0) < 0) {
		close(fd);
		return -1;
	}
	sm__st.fd = fd;
	wire_reader_init(&sm__st.reader, fd, FROM_ALLOCATOR, sm__st.reader_buf,
			 sizeof(sm__st.reader_buf));
	sm__st.reader.limits.npages = sm__st.npages;
	sm__st.reader.limits.nnodes = sm__st.nnodes;
	return sm__region_map(sm__st.region_base, sm__st.npages);
}
