/*
 * test_outputstuck.c - allocator/launch/output.c when dsm's own output is
 * not read: the sink is a small pipe (one page) that the test reads only
 * when it chooses. Nothing may block (a blocked write hangs the test into
 * its timeout): the sink waits for room, a stream whose buffer fills stops
 * reading its pipe, and once the reader reads, everything comes out whole
 * and in order, the lines of two nodes never mixed. A sink that is
 * abandoned or whose reader is gone drops output and lets the nodes go on.
 * The sink gets a non-blocking description of its own: the caller's stays
 * as it was.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../allocator/launch/launch.h"

#define WIDTH 150 /* bytes per line, with the newline */

static int a[2] = {-1, -1}, b[2] = {-1, -1}; /* two nodes' pipes */
static int sk[2] = {-1, -1};                 /* dsm's stdout: sk[0] is read here */
static struct output_sink sink;
static struct output_stream sa, sb;
static int writing_on;
static char *got;
static size_t got_len, got_cap;

static void hook_reading(void *ctx, struct output_stream *s, int on)
{
	(void)ctx, (void)s, (void)on;
}

static void hook_writing(void *ctx, struct output_sink *k, int on)
{
	(void)ctx, (void)k;
	writing_on = on;
}

static const struct output_hooks hooks = {.reading = hook_reading, .writing = hook_writing};

static void setup(void)
{
	signal(SIGPIPE, SIG_IGN); /* as in dsm */
	cr_assert_eq(pipe(a), 0);
	cr_assert_eq(pipe(b), 0);
	cr_assert_eq(pipe(sk), 0);
	cr_assert_geq(fcntl(a[1], F_SETPIPE_SZ, 1 << 18), 1 << 18);
	cr_assert_geq(fcntl(b[1], F_SETPIPE_SZ, 1 << 18), 1 << 18);
	cr_assert_eq(fcntl(sk[1], F_SETPIPE_SZ, 4096), 4096);
	cr_assert_eq(fcntl(sk[0], F_SETFL, O_NONBLOCK), 0);
	memset(&sa, 0, sizeof(sa));
	memset(&sb, 0, sizeof(sb));
	sa.in_fd = sb.in_fd = -1;
	writing_on = 0;
	got_cap = 4u << 20;
	got_len = 0;
	got = malloc(got_cap);
	cr_assert_not_null(got);
	cr_assert_eq(output_sink_init(&sink, sk[1], &hooks), 0);
}

static void teardown(void)
{
	output_free(&sa);
	output_free(&sb);
	output_sink_free(&sink);
	for (int i = 0; i < 2; i++) {
		close(a[i]);
		close(b[i]);
		close(sk[i]);
	}
	free(got);
}

TestSuite(outputstuck, .init = setup, .fini = teardown, .timeout = 10);

/* `lines` lines of WIDTH bytes of character c into fd */
static size_t node_writes(int fd, char c, int lines)
{
	char line[WIDTH];

	memset(line, c, WIDTH - 1);
	line[WIDTH - 1] = '\n';
	for (int i = 0; i < lines; i++)
		cr_assert_eq(write(fd, line, WIDTH), WIDTH);
	return (size_t)lines * WIDTH;
}

/* The reader reads what is there; returns how much. */
static size_t reader_reads(void)
{
	ssize_t n;
	size_t before = got_len;

	while ((n = read(sk[0], got + got_len, got_cap - got_len)) > 0)
		got_len += (size_t)n;
	cr_assert(n < 0 && errno == EAGAIN, "reading the sink: %s", strerror(errno));
	return got_len - before;
}

/* Read on and serve the sink until `want` bytes came out or nothing moves. */
static void run_until(size_t want)
{
	for (int idle = 0; got_len < want && idle < 3;) {
		size_t n = reader_reads();

		output_sink_ready(&sink);
		if (sa.in_fd >= 0 && sa.reading)
			output_pump(&sa);
		if (sb.in_fd >= 0 && sb.reading)
			output_pump(&sb);
		idle = n ? 0 : idle + 1;
	}
	cr_assert_eq(got_len, want, "%zu bytes came out, want %zu", got_len, want);
}

Test(outputstuck, a_full_sink_waits_and_the_full_stream_stops_reading)
{
	size_t sent;

	cr_assert_eq(output_init(&sa, a[0], &sink, NULL), 0);
	sent = node_writes(a[1], 'a', 100);
	output_pump(&sa); /* more than the sink's pipe holds: must not block */
	cr_assert(writing_on, "the sink does not wait for room");
	cr_assert_not(output_sink_idle(&sink));
	sent += node_writes(a[1], 'a', 1000); /* 150000 bytes more */
	for (int i = 0; i < 4 && sa.reading; i++)
		output_pump(&sa);
	cr_assert_not(sa.reading, "a full stream still reads its pipe");
	cr_assert_eq(sa.len, (size_t)OUTPUT_LINE_MAX);

	run_until(sent);
	for (size_t i = 0; i < sent; i++)
		cr_assert_eq(got[i], (i % WIDTH == WIDTH - 1) ? '\n' : 'a', "byte %zu", i);
	cr_assert(sa.reading, "the stream did not read on once the sink took its lines");
	cr_assert(output_sink_idle(&sink));
	cr_assert_not(writing_on);
}

Test(outputstuck, lines_of_two_nodes_never_mix)
{
	size_t sent;
	int na = 0, nb = 0;

	cr_assert_eq(output_init(&sa, a[0], &sink, "[a] "), 0);
	cr_assert_eq(output_init(&sb, b[0], &sink, "[b] "), 0);
	sent = node_writes(a[1], 'a', 700) + node_writes(b[1], 'b', 700);
	output_pump(&sa);
	output_pump(&sb);
	run_until(sent + 1400 * 4);
	for (size_t at = 0; at < got_len; at += WIDTH + 4) {
		char c = got[at + 1];

		cr_assert(c == 'a' || c == 'b', "line at %zu: \"%.20s\"", at, got + at);
		cr_assert(got[at] == '[' && got[at + 2] == ']' && got[at + 3] == ' ');
		for (size_t i = 4; i < WIDTH + 3; i++)
			cr_assert_eq(got[at + i], c, "line at %zu is mixed at %zu", at, i);
		cr_assert_eq(got[at + WIDTH + 3], '\n');
		if (c == 'a')
			na++;
		else
			nb++;
	}
	cr_assert_eq(na, 700);
	cr_assert_eq(nb, 700);
}

Test(outputstuck, abandoned_sink_drops_and_the_nodes_go_on)
{
	cr_assert_eq(output_init(&sa, a[0], &sink, NULL), 0);
	node_writes(a[1], 'a', 1000);
	for (int i = 0; i < 4 && sa.reading; i++)
		output_pump(&sa);
	cr_assert_not(sa.reading);
	output_sink_abandon_if_stuck(&sink);
	cr_assert(sink.dead);
	cr_assert(sa.reading, "the stream does not read on");
	cr_assert(output_sink_idle(&sink));
	close(a[1]);
	a[1] = -1;
	for (int i = 0; i < 10 && sa.in_fd >= 0; i++)
		output_pump(&sa);
	cr_assert(output_done(&sa), "the stream did not read to the end");
	cr_assert_not(writing_on);
}

Test(outputstuck, an_idle_sink_is_not_abandoned)
{
	cr_assert_eq(output_init(&sa, a[0], &sink, NULL), 0);
	node_writes(a[1], 'a', 2);
	output_pump(&sa);
	output_sink_abandon_if_stuck(&sink);
	cr_assert_not(sink.dead);
	reader_reads();
	cr_assert_eq(got_len, 2 * WIDTH);
}

Test(outputstuck, reader_gone_drops_output_without_a_signal)
{
	cr_assert_eq(output_init(&sa, a[0], &sink, NULL), 0);
	close(sk[0]);
	sk[0] = -1;
	node_writes(a[1], 'a', 10);
	output_pump(&sa);
	cr_assert(sink.dead, "writing into a closed pipe did not end the sink");
	close(a[1]);
	a[1] = -1;
	output_pump(&sa);
	cr_assert(output_done(&sa));
}

Test(outputstuck, sink_has_a_description_of_its_own)
{
	int fresh[2], orig;

	cr_assert_eq(pipe(fresh), 0);
	orig = dup(fresh[1]); /* the description the caller's shell would hold */
	cr_assert_geq(orig, 0);
	output_sink_free(&sink);
	cr_assert_eq(output_sink_init(&sink, fresh[1], &hooks), 0);
	cr_assert(fcntl(fresh[1], F_GETFL) & O_NONBLOCK, "the sink's fd blocks");
	cr_assert_not(fcntl(orig, F_GETFL) & O_NONBLOCK, "the caller's description changed");
	close(fresh[0]);
	close(fresh[1]);
	close(orig);
}
