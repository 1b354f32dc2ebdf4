/*
 * output.h - forwarding of node stdout/stderr to dsm's own, in whole lines:
 * bytes are collected per stream and written out up to the last newline in
 * one write(), so lines of different nodes never interleave mid-line. A
 * line longer than the buffer goes out in pieces; the tail is flushed at EOF.
 * With a tag (dsm -t), every line starts with it, like mpirun --tag-output.
 */
#ifndef DSM_OUTPUT_H
#define DSM_OUTPUT_H

#include <stddef.h>

#define OUTPUT_LINE_MAX 65536

struct output_stream {
	int in_fd;       /* read end of the node's pipe; -1 at EOF */
	int out_fd;      /* STDOUT_FILENO or STDERR_FILENO */
	size_t len;
	char *buf;       /* OUTPUT_LINE_MAX bytes */
	char *tag;       /* "[node K@host] " before every line, or NULL */
	int at_line_start;
};

/* tag may be NULL; it is copied. */
int output_init(struct output_stream *s, int in_fd, int out_fd, const char *tag);
/*
 * One read: 1 when bytes were read (complete lines written out), 0 when
 * nothing is available now (EAGAIN), -1 at EOF (stream flushed and closed).
 */
int output_pump(struct output_stream *s);
/*
 * The writer is gone: read everything still in the pipe without blocking,
 * write it out (a last line without newline too) and close the stream.
 */
void output_drain(struct output_stream *s);
void output_free(struct output_stream *s);

#endif /* DSM_OUTPUT_H */
