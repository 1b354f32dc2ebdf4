/*
 * srunoutput.c - the output of the one srun step that runs every node (dsm
 * -L srun) split back into each node's own stdout and stderr streams, and
 * the lines the task shim (srun.c) adds: where a node runs, how it ended
 * (see launch.h).
 *
 * srun --label puts "K: " before every line of task K, cuts a line longer
 * than SRUN_PIECE bytes into pieces of exactly that many (each labelled),
 * holds a partial line until its newline, and ends a last line that has none
 * with one. A piece of exactly SRUN_PIECE bytes is therefore always
 * continued by the next line of the same task, even by an empty one. The
 * shim writes its end line straight after the program's output, so a last
 * line without a newline comes back as "K: tail<MARK>end 0": the tail goes
 * out without a newline, as it would from the node's own pipe. Lines
 * without a label are srun's (or slurmstepd's) own.
 */
#include "launch.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MARK_LEN (sizeof(SRUN_TASK_MARK) - 1)
/* room for the longest line srun writes with a label, and more */
#define BUF_LEN 8192

struct srun_node_part {
	char carry[MARK_LEN]; /* a piece's tail that may begin a marker */
	size_t carry_len;
	int closed;           /* the shim's end line came: drop the rest */
};

int srun_output_init(struct srun_output *o, int in_fd, int which, uint32_t nnodes,
		     struct output_stream *nodes, struct output_stream *own,
		     const struct srun_output_hooks *hooks)
{
	int fl = fcntl(in_fd, F_GETFL);

	memset(o, 0, sizeof(*o));
	o->in_fd = in_fd;
	o->which = which;
	o->nnodes = nnodes;
	o->nodes = nodes;
	o->own = own;
	o->hooks = *hooks;
	o->buf = malloc(BUF_LEN);
	o->part = calloc(nnodes, sizeof(*o->part));
	if (!o->buf || !o->part || fl < 0 || fcntl(in_fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -1;
	for (uint32_t k = 0; k < nnodes; k++) {
		nodes[2 * k + (uint32_t)which].room = srun_output_resume;
		nodes[2 * k + (uint32_t)which].room_ctx = o;
	}
	own->room = srun_output_resume;
	own->room_ctx = o;
	o->reading = 1;
	o->hooks.reading(o->hooks.ctx, o, 1);
	return 0;
}

/* "K: " at the start of line[0..len): the node and where its text starts. */
static int label_of(const struct srun_output *o, const char *line, size_t len, uint32_t *node,
		    size_t *text)
{
	size_t i = 0, digits = 0;
	uint32_t k = 0;

	while (i < len && line[i] == ' ')
		i++;
	while (i < len && line[i] >= '0' && line[i] <= '9' && digits < 5) {
		k = k * 10 + (uint32_t)(line[i] - '0');
		i++;
		digits++;
	}
	if (!digits || i + 2 > len || line[i] != ':' || line[i + 1] != ' ' || k >= o->nnodes)
		return 0;
	*node = k;
	*text = i + 2;
	return 1;
}

/* How many bytes at the end of p[0..n) could begin the marker. */
static size_t marker_prefix_at_end(const char *p, size_t n)
{
	for (size_t keep = n < MARK_LEN - 1 ? n : MARK_LEN - 1; keep > 0; keep--)
		if (memcmp(p + n - keep, SRUN_TASK_MARK, keep) == 0)
			return keep;
	return 0;
}

/* The shim's line after the marker: "start HOST" or "end STATUS". */
static void shim_line(struct srun_output *o, uint32_t k, const char *p, size_t n)
{
	char host[HOST_NAME_LEN];

	if (n > 6 && memcmp(p, "start ", 6) == 0 && n - 6 < sizeof(host)) {
		memcpy(host, p + 6, n - 6);
		host[n - 6] = '\0';
		o->hooks.started(o->hooks.ctx, k, host);
	} else if (n > 4 && n < 8 && memcmp(p, "end ", 4) == 0) {
		int code = 0;

		for (size_t i = 4; i < n; i++) {
			if (p[i] < '0' || p[i] > '9')
				return;
			code = code * 10 + (p[i] - '0');
		}
		o->part[k].closed = 1;
		output_fed_close(&o->nodes[2 * k + (uint32_t)o->which]);
		if (o->which == 1 && code <= 255)
			o->hooks.ended(o->hooks.ctx, k, code);
	}
}

/* A line of node k (text[0..n), without label and newline): 0 when taken,
 * -1 when its stream has no room yet. */
static int node_line(struct srun_output *o, uint32_t k, const char *text, size_t n)
{
	struct srun_node_part *part = &o->part[k];
	struct output_stream *s = &o->nodes[2 * k + (uint32_t)o->which];
	char line[MARK_LEN + BUF_LEN];
	size_t len = part->carry_len + n, keep = 0;
	const char *mark;
	int piece = n == SRUN_PIECE;

	if (part->closed)
		return 0; /* after the shim's end: a child the program left behind */
	memcpy(line, part->carry, part->carry_len);
	memcpy(line + part->carry_len, text, n);
	mark = memmem(line, len, SRUN_TASK_MARK, MARK_LEN);
	if (!mark && piece)
		keep = marker_prefix_at_end(line, len);
	if (output_room(s) < len + 1)
		return -1;
	if (mark) {
		size_t before = (size_t)(mark - line);

		output_put(s, line, before); /* a last line without its newline */
		part->carry_len = 0;
		shim_line(o, k, mark + MARK_LEN, len - before - MARK_LEN);
		return 0;
	}
	output_put(s, line, len - keep);
	if (!piece)
		output_put(s, "\n", 1);
	memcpy(part->carry, line + len - keep, keep);
	part->carry_len = keep;
	return 0;
}

/* One line of srun's (complete: it ended with a newline, not at the end of
 * the buffer or the input): 0 when taken, -1 when there is no room yet. */
static int take_line(struct srun_output *o, const char *line, size_t len, int complete)
{
	uint32_t k;
	size_t text;

	if (complete && label_of(o, line, len, &k, &text))
		return node_line(o, k, line + text, len - text);
	if (output_room(o->own) < len + 1)
		return -1;
	output_put(o->own, line, len);
	if (complete)
		output_put(o->own, "\n", 1);
	return 0;
}

/* Hand on what the buffer holds, line by line, while there is room; at
 * the end of the input, what is left too, and close every stream. */
static void process(struct srun_output *o)
{
	size_t at = 0;

	if (o->busy) {
		o->again = 1;
		return;
	}
	o->busy = 1;
	do {
		o->again = 0;
		o->paused = 0;
		while (at < o->len) {
			char *nl = memchr(o->buf + at, '\n', o->len - at);
			size_t end = nl ? (size_t)(nl - o->buf) : o->len;

			if (!nl && !o->eof && !(at == 0 && o->len == BUF_LEN))
				break; /* the rest of the line is still coming */
			if (take_line(o, o->buf + at, end - at, nl != NULL) < 0) {
				o->paused = 1;
				break;
			}
			at = nl ? end + 1 : end;
		}
		memmove(o->buf, o->buf + at, o->len - at);
		o->len -= at;
		at = 0;
	} while (o->paused && o->again);
	o->busy = 0;
	if (o->eof && !o->paused && o->len == 0 && !o->done) {
		o->done = 1;
		for (uint32_t k = 0; k < o->nnodes; k++) {
			struct srun_node_part *part = &o->part[k];
			struct output_stream *s = &o->nodes[2 * k + (uint32_t)o->which];

			if (part->carry_len && !part->closed)
				output_put(s, part->carry, part->carry_len);
			part->carry_len = 0;
			output_fed_close(s);
		}
		output_fed_close(o->own);
		o->hooks.closed(o->hooks.ctx, o);
	}
}

static void set_reading(struct srun_output *o, int on)
{
	if (o->in_fd >= 0 && o->reading != on) {
		o->reading = on;
		o->hooks.reading(o->hooks.ctx, o, on);
	}
}

static void close_input(struct srun_output *o)
{
	set_reading(o, 0);
	close(o->in_fd);
	o->in_fd = -1;
	o->eof = 1;
}

void srun_output_pump(struct srun_output *o)
{
	while (o->in_fd >= 0 && !o->paused && o->len < BUF_LEN) {
		ssize_t n = read(o->in_fd, o->buf + o->len, BUF_LEN - o->len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			if (o->gone)
				close_input(o);
			break;
		}
		if (n <= 0) {
			close_input(o);
			break;
		}
		o->len += (size_t)n;
		process(o);
		if (!o->gone)
			break; /* one read per turn, as for a node's pipe */
	}
	process(o);
	if (o->in_fd >= 0)
		set_reading(o, !o->paused);
}

void srun_output_resume(void *ctx)
{
	struct srun_output *o = ctx;

	if (!o->paused)
		return;
	process(o);
	if (!o->paused && o->gone)
		srun_output_pump(o);
	else if (o->in_fd >= 0)
		set_reading(o, !o->paused);
}

void srun_output_writer_gone(struct srun_output *o)
{
	o->gone = 1;
	srun_output_pump(o);
}

int srun_output_done(const struct srun_output *o)
{
	return o->done;
}

void srun_output_free(struct srun_output *o)
{
	if (o->in_fd >= 0)
		close_input(o);
	free(o->buf);
	free(o->part);
	o->buf = NULL;
	o->part = NULL;
}
