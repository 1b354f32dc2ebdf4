/*
 * test_srunoutput.c - allocator/launch/srunoutput.c, srun's labelled output
 * split back into the nodes' streams: labels to nodes, srun's own lines
 * apart, pieces of SRUN_PIECE bytes joined into one line, the shim's start
 * and end lines (a last line without a newline kept as it is, the status
 * from stderr only, a marker cut in two by a piece's end), lines after the
 * end dropped, a full stream pausing the pipe until it has room, and the
 * end of the pipe closing every stream.
 *
 * srun's pipe is a real pipe written here; every stream goes into one sink
 * on a socket read back at the end, each stream tagged "[K.W] " (node K,
 * W 0 stdout, 1 stderr) so that every line says where it went.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../allocator/launch/launch.h"

#define NODES 3

static int in[2] = {-1, -1};  /* srun's pipe: in[1] is srun's end */
static int out[2] = {-1, -1}; /* the sink writes out[0]; read back from out[1] */
static struct output_sink sink;
static struct output_stream streams[2 * NODES], own;
static struct srun_output so;
static int reading_on, started[NODES], ended[NODES], closed;
static char hosts[NODES][64];

static void hook_stream_reading(void *ctx, struct output_stream *s, int on)
{
	(void)ctx;
	(void)s;
	(void)on;
}

static void hook_writing(void *ctx, struct output_sink *k, int on)
{
	(void)ctx;
	(void)k;
	(void)on;
}

static void hook_reading(void *ctx, struct srun_output *o, int on)
{
	(void)ctx;
	(void)o;
	reading_on = on;
}

static void hook_started(void *ctx, uint32_t node, const char *host)
{
	(void)ctx;
	started[node]++;
	snprintf(hosts[node], sizeof(hosts[node]), "%s", host);
}

static void hook_ended(void *ctx, uint32_t node, int code)
{
	(void)ctx;
	ended[node] = code + 1000;
}

static void hook_closed(void *ctx, struct srun_output *o)
{
	(void)ctx;
	(void)o;
	closed++;
}

static const struct output_hooks sink_hooks = {.reading = hook_stream_reading,
					       .writing = hook_writing};
static const struct srun_output_hooks hooks = {.reading = hook_reading, .started = hook_started,
					       .ended = hook_ended, .closed = hook_closed};

static void setup(void)
{
	signal(SIGPIPE, SIG_IGN);
	cr_assert_eq(pipe(in), 0);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, out), 0);
	memset(started, 0, sizeof(started));
	memset(ended, 0, sizeof(ended));
	closed = reading_on = 0;
}

static void teardown(void)
{
	srun_output_free(&so);
	for (int i = 0; i < 2 * NODES; i++)
		output_free(&streams[i]);
	output_free(&own);
	output_sink_free(&sink);
	if (in[1] >= 0)
		close(in[1]);
	close(out[0]);
	close(out[1]);
}

TestSuite(srunoutput, .init = setup, .fini = teardown, .timeout = 10);

/* The streams of srun's stderr (which = 1) or stdout, and the splitter. */
static void start(int which)
{
	cr_assert_eq(output_sink_init(&sink, out[0], &sink_hooks), 0);
	for (int k = 0; k < NODES; k++)
		for (int w = 0; w < 2; w++) {
			char tag[32];

			snprintf(tag, sizeof(tag), "[%d.%d] ", k, w);
			cr_assert_eq(output_init_fed(&streams[2 * k + w], &sink, tag), 0);
		}
	cr_assert_eq(output_init_fed(&own, &sink, "[srun] "), 0);
	cr_assert_eq(srun_output_init(&so, in[0], which, NODES, streams, &own, &hooks), 0);
	cr_assert(reading_on);
}

/* srun writes s; the splitter reads it (all of it, unless a stream is full) */
static void srun_writes(const char *s, size_t n)
{
	int left;

	cr_assert_eq(write(in[1], s, n), (ssize_t)n);
	do {
		srun_output_pump(&so);
		cr_assert_eq(ioctl(in[0], FIONREAD, &left), 0);
	} while (left > 0 && !so.paused);
}

static void srun_says(const char *s)
{
	srun_writes(s, strlen(s));
}

/* srun exits: end of its pipe */
static void srun_ends(void)
{
	close(in[1]);
	in[1] = -1;
	srun_output_writer_gone(&so);
}

/* Everything the sink wrote, as a string. */
static char *written(void)
{
	static char buf[4 * OUTPUT_LINE_MAX];
	size_t len = 0;
	ssize_t r;

	fcntl(out[1], F_SETFL, O_NONBLOCK);
	while ((r = read(out[1], buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)r;
	buf[len] = '\0';
	return buf;
}

Test(srunoutput, labels_route_lines_to_their_nodes)
{
	start(0);
	srun_says("0: zero\n2: two\nsrun: a message of srun's own\n 1: one\n1: \n");
	srun_ends();
	cr_assert_str_eq(written(), "[0.0] zero\n[2.0] two\n[srun] srun: a message of srun's own\n"
				    "[1.0] one\n[1.0] \n");
	cr_assert_eq(closed, 1);
	cr_assert(srun_output_done(&so));
	for (int i = 0; i < 2 * NODES; i++)
		cr_assert(i % 2 || output_done(&streams[i]), "stream %d not closed", i);
	cr_assert(output_done(&own));
}

Test(srunoutput, not_a_node_of_the_job_is_srun_own)
{
	start(1);
	srun_says("3: no node 3\n0:no blank\n12345678: long\n");
	srun_ends();
	cr_assert_str_eq(written(), "[srun] 3: no node 3\n[srun] 0:no blank\n[srun] 12345678: long\n");
}

Test(srunoutput, pieces_make_one_line)
{
	static char line[4 * SRUN_PIECE], want[4 * SRUN_PIECE];
	char *p = line;

	start(0);
	/* node 0: a line of 2 * SRUN_PIECE + 10 x's as srun cuts it, with a
	 * line of node 1 between its pieces; node 2: a line of exactly
	 * SRUN_PIECE y's, ended by an empty piece */
	p += sprintf(p, "0: ");
	memset(p, 'x', SRUN_PIECE);
	p += SRUN_PIECE;
	p += sprintf(p, "\n1: other\n0: ");
	memset(p, 'x', SRUN_PIECE);
	p += SRUN_PIECE;
	p += sprintf(p, "\n0: xxxxxxxxxx\n2: ");
	memset(p, 'y', SRUN_PIECE);
	p += SRUN_PIECE;
	p += sprintf(p, "\n2: \n");
	srun_writes(line, (size_t)(p - line));
	srun_ends();
	p = want;
	p += sprintf(p, "[1.0] other\n[0.0] ");
	memset(p, 'x', 2 * SRUN_PIECE + 10);
	p += 2 * SRUN_PIECE + 10;
	p += sprintf(p, "\n[2.0] ");
	memset(p, 'y', SRUN_PIECE);
	p += SRUN_PIECE;
	strcpy(p, "\n");
	cr_assert_str_eq(written(), want);
}

Test(srunoutput, the_shim_says_where_and_how)
{
	start(1);
	srun_says("0: \001dsm-srun-task start node7\n1: \001dsm-srun-task start node8\n"
		  "0: an error\n0: no newline\001dsm-srun-task end 137\n"
		  "0: after the end: dropped\n1: \001dsm-srun-task end 0\n");
	cr_assert_eq(started[0], 1);
	cr_assert_str_eq(hosts[0], "node7");
	cr_assert_str_eq(hosts[1], "node8");
	cr_assert_eq(ended[0], 1137);
	cr_assert_eq(ended[1], 1000);
	cr_assert_eq(ended[2], 0);
	cr_assert(output_done(&streams[1]), "node 0's stderr not closed at its end");
	cr_assert_str_eq(written(), "[0.1] an error\n[0.1] no newline");
	srun_ends();
}

Test(srunoutput, the_status_comes_from_stderr_only)
{
	start(0);
	srun_says("2: out\001dsm-srun-task end 3\n");
	cr_assert_eq(ended[2], 0);
	cr_assert(output_done(&streams[4]));
	srun_ends();
	cr_assert_str_eq(written(), "[2.0] out");
}

Test(srunoutput, a_marker_cut_by_a_piece_end)
{
	static char line[3 * SRUN_PIECE];
	char *p = line;

	start(1);
	/* 1020 bytes of text, then the marker: srun cuts after its 4th byte */
	p += sprintf(p, "1: ");
	memset(p, 'y', SRUN_PIECE - 4);
	p += SRUN_PIECE - 4;
	memcpy(p, "\001dsm", 4);
	p += 4;
	p += sprintf(p, "\n1: -srun-task end 5\n");
	srun_writes(line, (size_t)(p - line));
	cr_assert_eq(ended[1], 1005);
	p = written();
	cr_assert_eq(strlen(p), 6 + SRUN_PIECE - 4, "%zu bytes: %.40s", strlen(p), p);
	cr_assert_eq(p[strlen(p) - 1], 'y');
	srun_ends();
}

Test(srunoutput, a_piece_ending_like_a_marker_start_is_kept)
{
	static char line[3 * SRUN_PIECE];
	char *p = line;

	start(1);
	p += sprintf(p, "0: ");
	memset(p, 'z', SRUN_PIECE - 2);
	p += SRUN_PIECE - 2;
	memcpy(p, "\001d", 2);
	p += 2;
	p += sprintf(p, "\n0: ne\n");
	srun_writes(line, (size_t)(p - line));
	srun_ends();
	p = written();
	cr_assert_eq(strlen(p), 6 + SRUN_PIECE + 3);
	cr_assert_str_eq(p + 6 + SRUN_PIECE - 2, "\001dne\n");
	cr_assert_eq(ended[0], 0);
}

Test(srunoutput, a_full_stream_pauses_the_pipe)
{
	static char line[SRUN_PIECE + 8];
	size_t lines = 0;

	start(0);
	/* 100-byte lines of node 0 until its stream (OUTPUT_LINE_MAX) is full:
	 * nothing goes out while the sink is "waiting for room" */
	sink.watching = 1;
	snprintf(line, sizeof(line), "0: %095d\n", 0);
	while (!so.paused) {
		srun_says(line);
		lines++;
		cr_assert_lt(lines, 2 * OUTPUT_LINE_MAX / 96, "never paused");
	}
	cr_assert_eq(reading_on, 0, "the pipe is still read while node 0's stream is full");
	cr_assert_eq(lines, OUTPUT_LINE_MAX / 96 + 1);
	/* room again: the line held back goes in, and the pipe is read again */
	sink.watching = 0;
	output_sink_ready(&sink);
	cr_assert_eq(so.paused, 0);
	cr_assert_eq(reading_on, 1);
	srun_ends();
	cr_assert_eq(closed, 1);
	cr_assert_eq(strlen(written()), lines * (6 + 96));
}
