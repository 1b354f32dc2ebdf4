/*
 * output.c - line-by-line forwarding of node output (see launch.h).
 */
#include "launch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../common/net.h"

int output_init(struct output_stream *s, int in_fd, int out_fd, const char *tag)
{
	s->in_fd = in_fd;
	s->out_fd = out_fd;
	s->len = 0;
	s->at_line_start = 1;
	s->buf = malloc(OUTPUT_LINE_MAX);
	s->tag = tag ? strdup(tag) : NULL;
	return s->buf && (!tag || s->tag) ? 0 : -1;
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* our own output is gone (closed pipe): drop, keep running */
		p += w;
		n -= (size_t)w;
	}
}

/* Write buf[0..n) with the tag before each line; one write per line. */
static void write_tagged(struct output_stream *s, size_t n)
{
	size_t tag_len = strlen(s->tag), at = 0;

	while (at < n) {
		char *nl = memchr(s->buf + at, '\n', n - at);
		size_t end = nl ? (size_t)(nl - s->buf) + 1 : n;
		char line[OUTPUT_LINE_MAX + 128];
		size_t k = 0;

		if (s->at_line_start) {
			memcpy(line, s->tag, tag_len);
			k = tag_len;
		}
		memcpy(line + k, s->buf + at, end - at);
		write_all(s->out_fd, line, k + end - at);
		s->at_line_start = nl != NULL;
		at = end;
	}
}

static void flush_upto(struct output_stream *s, size_t n)
{
	if (s->tag)
		write_tagged(s, n);
	else
		write_all(s->out_fd, s->buf, n);
	memmove(s->buf, s->buf + n, s->len - n);
	s->len -= n;
}

int output_pump(struct output_stream *s)
{
	ssize_t n;
	char *nl;

	do
		n = read(s->in_fd, s->buf + s->len, OUTPUT_LINE_MAX - s->len);
	while (n < 0 && errno == EINTR);
	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (s->len)
			flush_upto(s, s->len);
		close(s->in_fd);
		s->in_fd = -1;
		return -1;
	}
	s->len += (size_t)n;
	nl = memrchr(s->buf, '\n', s->len);
	if (nl)
		flush_upto(s, (size_t)(nl - s->buf) + 1);
	else if (s->len == OUTPUT_LINE_MAX)
		flush_upto(s, s->len);
	return 1;
}

void output_drain(struct output_stream *s)
{
	if (s->in_fd < 0)
		return;
	if (net_nonblock(NULL, s->in_fd) < 0) {
		close(s->in_fd); /* cannot happen on a pipe we own; never block here */
		s->in_fd = -1;
		return;
	}
	while (output_pump(s) > 0)
		;
	if (s->in_fd >= 0) { /* EAGAIN: a grandchild may hold the pipe open */
		if (s->len)
			flush_upto(s, s->len);
		close(s->in_fd);
		s->in_fd = -1;
	}
}

void output_free(struct output_stream *s)
{
	if (s->in_fd >= 0)
		close(s->in_fd);
	free(s->buf);
	free(s->tag);
	s->buf = NULL;
	s->tag = NULL;
}
