/*
 * output.c - forwarding node output to dsm's stdout and stderr in whole
 * lines, never blocking, with backpressure on the nodes (see launch.h); and
 * dsm's own messages, queued in the stderr sink.
 *
 * A stream holds what it read from its pipe. Its complete part goes to the
 * sink as chunks of whole lines, staged (tagged) in the sink's one pending
 * buffer and written from there; a chunk is always finished before the next
 * one is staged, so a partial write never lets another node's line in. When
 * a write would block, the sink waits for room (hooks.writing) and the
 * streams with lines queue for it; a stream whose buffer fills stops reading
 * (hooks.reading) until a chunk of it has been staged.
 */
#include "launch.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../util.h"

/* room for the longest piece of a line and its tag (HOST_NAME_LEN + 32) */
#define PEND_MAX (OUTPUT_LINE_MAX + HOST_NAME_LEN + 64)

enum sink_mode {
	SINK_NONBLOCK, /* our own O_NONBLOCK description (pipe, FIFO, terminal) */
	SINK_SOCKET,   /* send(MSG_DONTWAIT) */
	SINK_FILE,     /* a regular file or block device: write() does not block */
	SINK_POLL,     /* could not reopen: poll() first, at most PIPE_BUF bytes */
};

/* ---- the sink ----------------------------------------------------------- */

int output_sink_init(struct output_sink *k, int fd, const struct output_hooks *hooks)
{
	struct stat st;
	char path[64];
	int nfd;

	memset(k, 0, sizeof(*k));
	k->fd = fd;
	k->hooks = *hooks;
	k->pend = malloc(PEND_MAX);
	if (!k->pend)
		return -1;
	if (fstat(fd, &st) < 0) {
		k->dead = 1; /* not open: nothing can be written */
		return 0;
	}
	if (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode)) {
		k->mode = SINK_FILE;
		return 0;
	}
	if (S_ISSOCK(st.st_mode)) {
		k->mode = SINK_SOCKET;
		return 0;
	}
	/* a description of our own: O_NONBLOCK on the shared one would reach
	 * the shell and everyone else writing to the same terminal or pipe */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	nfd = open(path, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (nfd >= 0 && dup2(nfd, fd) == fd) {
		k->mode = SINK_NONBLOCK;
		close(nfd);
		return 0;
	}
	if (nfd >= 0)
		close(nfd);
	k->mode = SINK_POLL;
	return 0;
}

/* One write without blocking: bytes written, or -1 with errno (EAGAIN: no room). */
static ssize_t sink_write(struct output_sink *k, const char *p, size_t n)
{
	ssize_t w;

	for (;;) {
		if (k->mode == SINK_SOCKET) {
			w = send(k->fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		} else if (k->mode == SINK_POLL) {
			struct pollfd pfd = {.fd = k->fd, .events = POLLOUT};
			int r = poll(&pfd, 1, 0);

			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				errno = r == 0 ? EAGAIN : errno;
				return -1;
			}
			w = write(k->fd, p, n < PIPE_BUF ? n : PIPE_BUF);
		} else {
			w = write(k->fd, p, n);
		}
		if (w >= 0 || errno != EINTR)
			return w;
	}
}

static void watch(struct output_sink *k, int on)
{
	if (k->watching != on) {
		k->watching = on;
		k->hooks.writing(k->hooks.ctx, k, on);
	}
}

static void set_reading(struct output_stream *s, int on)
{
	if (s->in_fd >= 0 && s->reading != on) {
		s->reading = on;
		s->sink->hooks.reading(s->sink->hooks.ctx, s, on);
	}
}

/* The bytes of s that may go out now: up to the last newline; everything
 * when the stream is closed, or when the buffer is full without a newline
 * (a line longer than it goes out in pieces). */
static size_t complete_part(const struct output_stream *s)
{
	char *nl;

	if (s->len == 0)
		return 0;
	if (s->in_fd < 0 && !s->held)
		return s->len;
	nl = memrchr(s->buf, '\n', s->len);
	if (nl)
		return (size_t)(nl - s->buf) + 1;
	return s->len == OUTPUT_LINE_MAX ? s->len : 0;
}

/* Move whole lines of s's complete part (at least one) into the empty
 * pending buffer, a tag before each line start; a dead sink drops them. */
static void stage(struct output_sink *k, struct output_stream *s)
{
	size_t done = complete_part(s), at = 0;

	if (!k->dead) {
		k->pend_len = k->pend_off = 0;
		while (at < done) {
			char *nl = memchr(s->buf + at, '\n', done - at);
			size_t end = nl ? (size_t)(nl - s->buf) + 1 : done;
			size_t tag = s->at_line_start ? s->tag_len : 0;

			if (k->pend_len && k->pend_len + tag + (end - at) > PEND_MAX)
				break; /* the next chunk takes it */
			if (tag)
				memcpy(k->pend + k->pend_len, s->tag, tag);
			memcpy(k->pend + k->pend_len + tag, s->buf + at, end - at);
			k->pend_len += tag + (end - at);
			s->at_line_start = nl != NULL;
			at = end;
		}
		done = at;
	}
	memmove(s->buf, s->buf + done, s->len - done);
	s->len -= done;
	if (done && s->room)
		s->room(s->room_ctx); /* its feeder may go on */
	/* room again: read on (a gone writer's pipe at once: it may never
	 * become readable again, and only EAGAIN closes it) */
	if (s->in_fd >= 0 && s->len < OUTPUT_LINE_MAX) {
		if (s->gone)
			output_pump(s);
		else
			set_reading(s, 1);
	}
}

static struct output_stream *dequeue(struct output_sink *k)
{
	struct output_stream *s = k->head;

	if (s) {
		k->head = s->next;
		if (!k->head)
			k->tail = NULL;
		s->next = NULL;
		s->queued = 0;
	}
	return s;
}

static void enqueue(struct output_sink *k, struct output_stream *s)
{
	if (s->queued)
		return;
	s->queued = 1;
	s->next = NULL;
	if (k->tail)
		k->tail->next = s;
	else
		k->head = s;
	k->tail = s;
}

static void drop_all(struct output_sink *k)
{
	struct output_stream *s;
	int was_running = k->running;

	k->dead = 1;
	k->running = 1;
	k->pend_len = k->pend_off = 0;
	while ((s = dequeue(k)))
		stage(k, s);
	watch(k, 0);
	k->running = was_running;
}

/* Write the pending chunk, then the queued streams in turn, until the sink
 * has no room (wait for it) or nothing is left. */
static void sink_run(struct output_sink *k)
{
	struct output_stream *s;

	if (k->running)
		return; /* reached again from within: a gone writer's stream read on
			 * while staged, or report() from a hook; the loop below
			 * takes what they queued */
	k->running = 1;
	for (;;) {
		while (!k->dead && k->pend_off < k->pend_len) {
			ssize_t w = sink_write(k, k->pend + k->pend_off, k->pend_len - k->pend_off);

			if (w < 0 && errno == EAGAIN) {
				watch(k, 1);
				k->running = 0;
				return;
			}
			if (w <= 0) {
				drop_all(k); /* our output is gone (closed pipe): drop, keep running */
				break;
			}
			k->pend_off += (size_t)w;
		}
		s = dequeue(k);
		if (!s)
			break;
		stage(k, s);
		if (complete_part(s))
			enqueue(k, s); /* more of it: after the others */
	}
	watch(k, 0);
	k->running = 0;
}

void output_sink_ready(struct output_sink *k)
{
	sink_run(k);
}

int output_sink_idle(const struct output_sink *k)
{
	return k->dead || (k->pend_off == k->pend_len && !k->head);
}

void output_sink_abandon_if_stuck(struct output_sink *k)
{
	if (k->watching)
		drop_all(k);
}

void output_sink_free(struct output_sink *k)
{
	free(k->pend);
	k->pend = NULL;
}

/* ---- streams ------------------------------------------------------------ */

int output_init(struct output_stream *s, int in_fd, struct output_sink *k, const char *tag)
{
	memset(s, 0, sizeof(*s));
	s->in_fd = in_fd;
	s->sink = k;
	s->at_line_start = 1;
	s->buf = malloc(OUTPUT_LINE_MAX);
	s->tag = tag ? strdup(tag) : NULL;
	s->tag_len = tag ? strlen(tag) : 0;
	if (!s->buf || (tag && !s->tag))
		return -1;
	if (in_fd >= 0) {
		int fl = fcntl(in_fd, F_GETFL);

		/* our own pipe's read end: a read must never wait */
		if (fl < 0 || fcntl(in_fd, F_SETFL, fl | O_NONBLOCK) < 0)
			return -1;
		set_reading(s, 1);
	}
	return 0;
}

/* Hand the complete part to the sink, unless it is waiting for room. */
static void offer(struct output_stream *s)
{
	if (!complete_part(s))
		return;
	enqueue(s->sink, s);
	if (!s->sink->watching)
		sink_run(s->sink);
}

static void close_input(struct output_stream *s)
{
	set_reading(s, 0);
	close(s->in_fd);
	s->in_fd = -1;
}

void output_pump(struct output_stream *s)
{
	while (s->in_fd >= 0 && s->len < OUTPUT_LINE_MAX) {
		ssize_t n = read(s->in_fd, s->buf + s->len, OUTPUT_LINE_MAX - s->len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			if (s->gone)
				close_input(s); /* a grandchild may hold the pipe open */
			break;
		}
		if (n <= 0) {
			close_input(s); /* end of file */
			break;
		}
		s->len += (size_t)n;
		offer(s);
		if (!s->gone)
			break; /* one read per turn: the loop is fair to every pipe */
	}
	offer(s);
	if (s->in_fd >= 0 && s->len == OUTPUT_LINE_MAX)
		set_reading(s, 0); /* full: the node waits until the sink takes some */
}

void output_writer_gone(struct output_stream *s)
{
	s->gone = 1;
	output_pump(s);
}

int output_done(const struct output_stream *s)
{
	return s->in_fd < 0 && !s->held && s->len == 0;
}

int output_init_fed(struct output_stream *s, struct output_sink *k, const char *tag)
{
	if (output_init(s, -1, k, tag) < 0)
		return -1;
	s->held = 1;
	return 0;
}

void output_fed_close(struct output_stream *s)
{
	if (!s->held)
		return;
	s->held = 0;
	offer(s);
}

size_t output_room(const struct output_stream *s)
{
	return OUTPUT_LINE_MAX - s->len;
}

int output_set_tag(struct output_stream *s, const char *tag)
{
	char *t = tag ? strdup(tag) : NULL;

	if (tag && !t)
		return -1;
	free(s->tag);
	s->tag = t;
	s->tag_len = t ? strlen(t) : 0;
	return 0;
}

void output_put(struct output_stream *s, const char *p, size_t n)
{
	if (n > OUTPUT_LINE_MAX - s->len)
		n = OUTPUT_LINE_MAX - s->len;
	memcpy(s->buf + s->len, p, n);
	s->len += n;
	offer(s);
}

static struct output_stream *reports;
static pid_t reports_pid;

static void report_into_stream(const char *line, size_t len)
{
	if (reports && getpid() == reports_pid)
		output_put(reports, line, len);
	else if (write(STDERR_FILENO, line, len) < 0)
		return; /* nowhere left to report to */
}

void output_take_reports(struct output_stream *s)
{
	reports = s;
	reports_pid = getpid();
	report_hook = report_into_stream;
}

void output_free(struct output_stream *s)
{
	if (s == reports) {
		report_hook = NULL;
		reports = NULL;
	}
	if (s->in_fd >= 0)
		close_input(s);
	free(s->buf);
	free(s->tag);
	s->buf = NULL;
	s->tag = NULL;
}
