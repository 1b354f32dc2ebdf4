/*
 * test_output.c - allocator/launch/output.c, the forwarding of node output.
 *
 * Most tests send a node's pipe into a sink on a SOCK_SEQPACKET socket,
 * which keeps every write() a record of its own, so they see exactly what
 * went out in which write: complete lines together, a partial line held
 * back until its newline or end of file, the tag before every line (and
 * only there), a line longer than the buffer in pieces, a gone writer's
 * pipe read to the end without waiting for a writer that lives on, and
 * dsm's own messages. A sink that cannot take more is test_outputstuck.c.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../allocator/launch/launch.h"
#include "../../allocator/util.h"

static int in[2] = {-1, -1};  /* the node's pipe: in[1] is the node's end */
static int out[2] = {-1, -1}; /* out[0] is dsm's stdout, read here from out[1] */
static struct output_sink sink;
static struct output_stream st;
static char rec[2 * OUTPUT_LINE_MAX];
static int reading_calls, writing_on;

static void hook_reading(void *ctx, struct output_stream *s, int on)
{
	(void)ctx;
	(void)s;
	(void)on;
	reading_calls++;
}

static void hook_writing(void *ctx, struct output_sink *k, int on)
{
	(void)ctx;
	(void)k;
	writing_on = on;
}

static const struct output_hooks hooks = {.reading = hook_reading, .writing = hook_writing};

static void setup(void)
{
	signal(SIGPIPE, SIG_IGN); /* as in dsm */
	cr_assert_eq(pipe(in), 0);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, out), 0);
	memset(&st, 0, sizeof(st));
	memset(&sink, 0, sizeof(sink));
	st.in_fd = -1;
	reading_calls = writing_on = 0;
}

static void teardown(void)
{
	output_free(&st);
	output_sink_free(&sink);
	if (in[1] >= 0)
		close(in[1]);
	close(out[0]);
	close(out[1]);
}

TestSuite(output, .init = setup, .fini = teardown, .timeout = 10);

static void start(const char *tag)
{
	cr_assert_eq(output_sink_init(&sink, out[0], &hooks), 0);
	cr_assert_eq(output_init(&st, in[0], &sink, tag), 0);
	cr_assert(st.reading, "the stream does not watch its pipe");
}

static void node_writes(const char *s)
{
	size_t n = strlen(s);

	cr_assert_eq(write(in[1], s, n), (ssize_t)n);
}

static void node_closes(void)
{
	close(in[1]);
	in[1] = -1;
}

/* The next record written out must be exactly `want`. */
static void expect_record(const char *want)
{
	ssize_t n = recv(out[1], rec, sizeof(rec) - 1, MSG_DONTWAIT);

	cr_assert_geq(n, 0, "nothing written out, want \"%s\" (%s)", want, strerror(errno));
	rec[n] = '\0';
	cr_assert_eq((size_t)n, strlen(want), "wrote %zd bytes \"%.80s\", want \"%.80s\"", n, rec,
		     want);
	cr_assert_str_eq(rec, want);
}

static void expect_nothing(void)
{
	ssize_t n = recv(out[1], rec, sizeof(rec) - 1, MSG_DONTWAIT);

	if (n >= 0)
		rec[n] = '\0';
	cr_assert(n < 0 && errno == EAGAIN, "wrote %zd bytes \"%s\", want nothing", n,
		  n >= 0 ? rec : "");
}

Test(output, complete_lines_go_out_in_one_write)
{
	start(NULL);
	node_writes("one\ntwo\n");
	output_pump(&st);
	expect_record("one\ntwo\n");
	expect_nothing();
	cr_assert(output_sink_idle(&sink));
}

Test(output, partial_line_waits_for_its_newline)
{
	start(NULL);
	node_writes("abc");
	output_pump(&st);
	expect_nothing();
	node_writes("def\nxy");
	output_pump(&st);
	expect_record("abcdef\n");
	expect_nothing();
	node_writes("z\nw");
	output_pump(&st);
	expect_record("xyz\n");
	expect_nothing();
}

Test(output, end_of_file_flushes_the_last_line_and_closes)
{
	start(NULL);
	node_writes("a\nno newline");
	output_pump(&st);
	expect_record("a\n");
	cr_assert_not(output_done(&st));
	node_closes();
	output_pump(&st);
	expect_record("no newline");
	expect_nothing();
	cr_assert_eq(st.in_fd, -1);
	cr_assert_not(st.reading, "a closed pipe is still watched");
	cr_assert(output_done(&st));
}

Test(output, nothing_to_read_is_not_end_of_file)
{
	start(NULL);
	output_pump(&st);
	cr_assert_eq(st.in_fd, in[0]);
	node_writes("late\n");
	output_pump(&st);
	expect_record("late\n");
}

Test(output, tag_before_every_line)
{
	start("[node 1@h] ");
	node_writes("x\ny\n");
	output_pump(&st);
	expect_record("[node 1@h] x\n[node 1@h] y\n");
	expect_nothing();
	/* a line that arrives in parts is tagged once */
	node_writes("ab");
	output_pump(&st);
	expect_nothing();
	node_writes("c\n\nd");
	output_pump(&st);
	expect_record("[node 1@h] abc\n[node 1@h] \n");
	expect_nothing();
	node_closes();
	output_pump(&st);
	expect_record("[node 1@h] d");
	expect_nothing();
}

Test(output, tag_is_copied)
{
	char tag[] = "[node 0@a] ";

	start(tag);
	tag[1] = 'X';
	node_writes("q\n");
	output_pump(&st);
	expect_record("[node 0@a] q\n");
}

/* A line of OUTPUT_LINE_MAX bytes and more: out in pieces, the tag only once. */
static void long_line(const char *tag)
{
	size_t tl = tag ? strlen(tag) : 0;
	char *big = malloc(OUTPUT_LINE_MAX + 1);
	char *want = malloc(tl + OUTPUT_LINE_MAX + 1);

	cr_assert(big && want);
	cr_assert_geq(fcntl(in[1], F_SETPIPE_SZ, 2 * OUTPUT_LINE_MAX), 2 * OUTPUT_LINE_MAX);
	start(tag);
	memset(big, 'a', OUTPUT_LINE_MAX);
	big[OUTPUT_LINE_MAX] = '\0';
	node_writes(big);
	node_writes("bb\n");
	output_pump(&st);
	memcpy(want, tag ? tag : "", tl);
	memcpy(want + tl, big, OUTPUT_LINE_MAX + 1);
	expect_record(want); /* the buffer is full: out it goes without a newline */
	output_pump(&st);
	expect_record("bb\n"); /* the rest of the same line: no tag */
	node_writes("next\n");
	output_pump(&st);
	snprintf(want, tl + OUTPUT_LINE_MAX + 1, "%snext\n", tag ? tag : "");
	expect_record(want);
	expect_nothing();
	free(big);
	free(want);
}

Test(output, long_line_goes_out_in_pieces)
{
	long_line(NULL);
}

Test(output, long_tagged_line_is_tagged_once)
{
	long_line("[node 7@far] ");
}

/* A full buffer that has newlines goes out up to the last one: the line cut
 * by the buffer's end waits for the rest of it. */
Test(output, full_buffer_is_cut_at_its_last_newline)
{
	enum { WIDTH = 100, LINES = 2 * OUTPUT_LINE_MAX / WIDTH };
	char line[WIDTH + 1];
	size_t total = 0;

	cr_assert_geq(fcntl(in[1], F_SETPIPE_SZ, 4 * OUTPUT_LINE_MAX), 4 * OUTPUT_LINE_MAX);
	start(NULL);
	memset(line, 'x', WIDTH - 1);
	line[WIDTH - 1] = '\n';
	line[WIDTH] = '\0';
	for (int i = 0; i < LINES; i++)
		node_writes(line);
	while (total < (size_t)LINES * WIDTH) {
		ssize_t n;

		output_pump(&st);
		n = recv(out[1], rec, sizeof(rec), MSG_DONTWAIT);
		cr_assert_gt(n, 0, "nothing more came out after %zu bytes", total);
		cr_assert_eq(n % WIDTH, 0, "a write of %zd bytes cuts a line", n);
		cr_assert_eq(rec[n - 1], '\n');
		total += (size_t)n;
	}
	expect_nothing();
}

/* ---- a gone writer ------------------------------------------------------ */

Test(output, writer_gone_reads_everything_while_a_grandchild_holds_the_pipe)
{
	enum { LINES = 10000, WIDTH = 10 }; /* 100000 bytes: more than one buffer */
	FILE *f = tmpfile();
	char *want = malloc(LINES * WIDTH + 16);
	size_t cap = (size_t)LINES * (WIDTH + 4) + 64; /* with the tags */
	char *got = malloc(cap);
	size_t len = 0, n = 0;
	ssize_t r;

	cr_assert(f && want && got);
	cr_assert_geq(fcntl(in[1], F_SETPIPE_SZ, 4 * OUTPUT_LINE_MAX), LINES * WIDTH + 4);
	cr_assert_eq(output_sink_init(&sink, fileno(f), &hooks), 0);
	cr_assert_eq(output_init(&st, in[0], &sink, "[t] "), 0);
	for (int i = 0; i < LINES; i++)
		len += (size_t)sprintf(want + len, "l%08d\n", i);
	memcpy(want + len, "tail", 4);
	cr_assert_eq(write(in[1], want, len + 4), (ssize_t)(len + 4));
	/* in[1] stays open (a grandchild may hold it): no waiting for EOF */
	output_writer_gone(&st);
	cr_assert_eq(st.in_fd, -1);
	cr_assert_eq(fcntl(in[0], F_GETFD), -1, "the pipe was not closed");
	cr_assert(output_done(&st));

	cr_assert_eq(lseek(fileno(f), 0, SEEK_SET), 0);
	while ((r = read(fileno(f), got + n, cap - n)) > 0)
		n += (size_t)r;
	cr_assert_eq(n, len + 4 + 4 * (LINES + 1), "forwarded %zu bytes", n);
	for (int i = 0; i < LINES; i++) {
		char line[32];

		snprintf(line, sizeof(line), "[t] l%08d\n", i);
		cr_assert(memcmp(got + (size_t)i * (WIDTH + 4), line, WIDTH + 4) == 0,
			  "line %d differs", i);
	}
	cr_assert(memcmp(got + (size_t)LINES * (WIDTH + 4), "[t] tail", 8) == 0, "no tail");
	fclose(f);
	free(want);
	free(got);
}

Test(output, writer_gone_after_end_of_file)
{
	start(NULL);
	node_writes("a\nb");
	node_closes();
	output_writer_gone(&st);
	expect_record("a\n");
	expect_record("b");
	expect_nothing();
	cr_assert_eq(st.in_fd, -1);
}

Test(output, writer_gone_with_an_empty_pipe)
{
	start(NULL);
	output_writer_gone(&st);
	expect_nothing();
	cr_assert_eq(st.in_fd, -1);
	cr_assert(output_done(&st));
}

/* ---- dsm's own messages ------------------------------------------------- */

Test(output, reports_go_through_the_stream_until_it_is_freed)
{
	start(NULL);
	output_take_reports(&st);
	report("hello %d", 1);
	expect_record("dsm: hello 1\n");
	output_free(&st);
	cr_assert_null(report_hook, "report() still goes to a freed stream");
}
