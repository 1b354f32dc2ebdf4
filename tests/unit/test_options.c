/*
 * test_options.c - dsm's command line (allocator/options.c): defaults, -n,
 * -s with every size spelling, -H/-l/-v/-h, -i (the node that reads
 * stdin), that parsing stops at the executable and leaves the nodes'
 * options untouched, the usage errors, and parse_size on its own.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "../../allocator/options.h"
#include "../../common/protocol.h"

#define ARGC(v) ((int)(sizeof(v) / sizeof((v)[0])) - 1)

static struct options o;
static char err[256];

static int parse(int argc, char **argv)
{
	memset(err, 0, sizeof(err));
	return options_parse(argc, argv, &o, err, sizeof(err));
}

static void expect_error(int argc, char **argv, const char *needle)
{
	cr_assert_eq(parse(argc, argv), -1, "accepted (wanted error containing '%s')", needle);
	cr_assert_neq(err[0], '\0', "no message");
	cr_assert_not_null(strstr(err, needle), "message '%s' lacks '%s'", err, needle);
}

Test(options, defaults)
{
	char *argv[] = {"dsm", "./prog", NULL};

	cr_assert_eq(parse(ARGC(argv), argv), 0, "%s", err);
	cr_assert_str_eq(o.hostfile, "hosts");
	cr_assert_eq(o.hostfile_given, 0);
	cr_assert_eq(o.nodes, 1u);
	cr_assert_null(o.logfile);
	cr_assert_eq(o.region_size, 65535ull * 4096);
	cr_assert_eq(o.verbose, 0);
	cr_assert_eq(o.help, 0);
	cr_assert_str_eq(o.executable, "./prog");
	cr_assert_eq(o.node_argc, 0);
	cr_assert_not_null(o.node_argv);
	cr_assert_null(o.node_argv[0]);
	cr_assert_eq(o.stdin_node, 0u);
	cr_assert_eq(o.stdin_given, 0);
}

Test(options, node_count)
{
	char *argv[] = {"dsm", "-n", "4", "./prog", NULL};
	char *joined[] = {"dsm", "-n1024", "./prog", NULL};

	cr_assert_eq(parse(ARGC(argv), argv), 0, "%s", err);
	cr_assert_eq(o.nodes, 4u);
	cr_assert_str_eq(o.executable, "./prog");
	cr_assert_eq(parse(ARGC(joined), joined), 0, "%s", err);
	cr_assert_eq(o.nodes, 1024u);
}

Test(options, bad_node_counts)
{
	static const char *bad[] = {"0", "x", "1025", "", "-1", "4x", "99999999999999999999"};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *argv[] = {"dsm", "-n", (char *)bad[i], "./prog", NULL};

		expect_error(ARGC(argv), argv, "-n");
	}
}

Test(options, all_flags)
{
	char *argv[] = {"dsm", "-H", "myhosts", "-l", "job.log", "-v", "-s", "64M", "-n", "3",
			"./prog", NULL};

	cr_assert_eq(parse(ARGC(argv), argv), 0, "%s", err);
	cr_assert_str_eq(o.hostfile, "myhosts");
	cr_assert_eq(o.hostfile_given, 1);
	cr_assert_str_eq(o.logfile, "job.log");
	cr_assert_eq(o.verbose, 1);
	cr_assert_eq(o.region_size, 64ull << 20);
	cr_assert_eq(o.nodes, 3u);
	cr_assert_str_eq(o.executable, "./prog");
}

static void expect_size(const char *s, uint64_t bytes)
{
	char *argv[] = {"dsm", "-s", (char *)s, "./prog", NULL};

	cr_assert_eq(parse(ARGC(argv), argv), 0, "-s %s: %s", s, err);
	cr_assert_eq(o.region_size, bytes, "-s %s gave %llu, want %llu", s,
		     (unsigned long long)o.region_size, (unsigned long long)bytes);
}

Test(options, sizes_accepted)
{
	expect_size("2G", 2ull << 30);
	expect_size("64M", 64ull << 20);
	expect_size("64MiB", 64ull << 20);
	expect_size("64MB", 64ull << 20);
	expect_size("4096", 4096);
	expect_size("1", 4096);
	expect_size("5p", 5 * 4096);
	expect_size("4K", 4096);
	expect_size("64G", 64ull << 30);
}

Test(options, sizes_rejected)
{
	static const char *bad[] = {"0", "", "12Q", "-1", "65G", "1.5G"};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *argv[] = {"dsm", "-s", (char *)bad[i], "./prog", NULL};

		expect_error(ARGC(argv), argv, "-s");
	}
}

Test(options, stops_at_the_executable)
{
	char *argv[] = {"dsm", "-n", "2", "./prog", "-n", "5", "-s", "x", NULL};
	char *orig[9];

	memcpy(orig, argv, sizeof(orig));
	cr_assert_eq(parse(ARGC(argv), argv), 0, "%s", err);
	cr_assert_eq(o.nodes, 2u);
	cr_assert_eq(o.region_size, 65535ull * 4096, "the node's -s must not apply to dsm");
	cr_assert_str_eq(o.executable, "./prog");
	cr_assert_eq(o.node_argc, 4);
	cr_assert_eq(o.node_argv, argv + 4);
	cr_assert_str_eq(o.node_argv[0], "-n");
	cr_assert_str_eq(o.node_argv[1], "5");
	cr_assert_str_eq(o.node_argv[2], "-s");
	cr_assert_str_eq(o.node_argv[3], "x");
	cr_assert_null(o.node_argv[4]);
	for (int i = 0; i < 9; i++)
		cr_assert_eq(argv[i], orig[i], "argv[%d] was permuted", i);
}

Test(options, node_options_that_look_like_errors)
{
	/* an unknown option or a missing argument after the executable is the node's */
	char *argv[] = {"dsm", "./prog", "-z", "-n", NULL};

	cr_assert_eq(parse(ARGC(argv), argv), 0, "%s", err);
	cr_assert_str_eq(o.executable, "./prog");
	cr_assert_eq(o.node_argc, 2);
	cr_assert_str_eq(o.node_argv[0], "-z");
	cr_assert_str_eq(o.node_argv[1], "-n");
}

Test(options, double_dash_ends_options)
{
	char *argv[] = {"dsm", "-n", "2", "--", "-prog", "a", NULL};

	cr_assert_eq(parse(ARGC(argv), argv), 0, "%s", err);
	cr_assert_str_eq(o.executable, "-prog");
	cr_assert_eq(o.node_argc, 1);
	cr_assert_str_eq(o.node_argv[0], "a");
}

Test(options, missing_executable)
{
	char *argv[] = {"dsm", "-n", "2", NULL};
	char *bare[] = {"dsm", NULL};

	expect_error(ARGC(argv), argv, "no executable");
	expect_error(ARGC(bare), bare, "no executable");
}

Test(options, unknown_option)
{
	char *argv[] = {"dsm", "-x", "./prog", NULL};

	expect_error(ARGC(argv), argv, "unknown option -x");
}

Test(options, option_missing_argument)
{
	char *n[] = {"dsm", "-n", NULL};
	char *s[] = {"dsm", "-s", NULL};
	char *h[] = {"dsm", "-H", NULL};

	expect_error(ARGC(n), n, "-n needs an argument");
	expect_error(ARGC(s), s, "-s needs an argument");
	expect_error(ARGC(h), h, "-H needs an argument");
}

Test(options, help)
{
	char *argv[] = {"dsm", "-h", NULL};

	cr_assert_eq(parse(ARGC(argv), argv), 0, "%s", err);
	cr_assert_eq(o.help, 1);
	cr_assert_not_null(strstr(options_usage, "Usage: dsm"));
}

Test(options, help_after_other_options)
{
	char *argv[] = {"dsm", "-n", "3", "-h", "./prog", NULL};

	cr_assert_eq(parse(ARGC(argv), argv), 0, "%s", err);
	cr_assert_eq(o.help, 1);
	cr_assert_eq(o.nodes, 3u);
}

Test(options, repeated_calls_start_over)
{
	char *first[] = {"dsm", "-n", "7", "-v", "./a", "x", NULL};
	char *second[] = {"dsm", "./b", NULL};

	cr_assert_eq(parse(ARGC(first), first), 0, "%s", err);
	cr_assert_eq(o.nodes, 7u);
	cr_assert_eq(parse(ARGC(second), second), 0, "%s", err);
	cr_assert_eq(o.nodes, 1u);
	cr_assert_eq(o.verbose, 0);
	cr_assert_str_eq(o.executable, "./b");
	cr_assert_eq(o.node_argc, 0);
}

/* ---- parse_size -------------------------------------------------------- */

static void size_ok(const char *s, uint64_t want)
{
	uint64_t got = 0xdeadbeef;

	cr_assert_eq(parse_size(s, &got), 0, "'%s' refused", s);
	cr_assert_eq(got, want, "'%s' gave %llu, want %llu", s, (unsigned long long)got,
		     (unsigned long long)want);
}

static void size_bad(const char *s)
{
	uint64_t got = 0xdeadbeef;

	cr_assert_eq(parse_size(s, &got), -1, "'%s' accepted as %llu", s ? s : "(null)",
		     (unsigned long long)got);
	cr_assert_eq(got, 0xdeadbeefu, "'%s': output written on failure", s ? s : "(null)");
}

Test(parse_size, plain_bytes_round_up_to_pages)
{
	size_ok("1", 4096);
	size_ok("4095", 4096);
	size_ok("4096", 4096);
	size_ok("4097", 8192);
	size_ok("1000000", 1003520);
	size_ok("68719476736", 64ull << 30);
}

Test(parse_size, suffixes)
{
	size_ok("4k", 4096);
	size_ok("1K", 4096); /* 1024 rounds up to a page */
	size_ok("8K", 8192);
	size_ok("64m", 64ull << 20);
	size_ok("64M", 64ull << 20);
	size_ok("64MB", 64ull << 20);
	size_ok("64MiB", 64ull << 20);
	size_ok("3KiB", 4096);
	size_ok("2g", 2ull << 30);
	size_ok("2GiB", 2ull << 30);
	size_ok("64G", 64ull << 30);
	size_ok("5p", 5 * 4096);
	size_ok("5P", 5 * 4096);
	size_ok("16777216p", 64ull << 30);
}

Test(parse_size, rejected)
{
	size_bad(NULL);
	size_bad("");
	size_bad("0");
	size_bad("0K");
	size_bad("12Q");
	size_bad("-1");
	size_bad("+1");
	size_bad(" 1");
	size_bad("65G");
	size_bad("1.5G");
	size_bad("G");
	size_bad("64 M");
	size_bad("64MiBx");
	size_bad("64Mb");
	size_bad("64Mi");
	size_bad("5pB");
	size_bad("5piB");
	size_bad("0x10");
	size_bad("16777217p");
	size_bad("68719476737"); /* rounds up past 64G */
	size_bad("65537M");
	size_bad("18446744073709551616");
	size_bad("18446744073709551615G");
}

Test(options, a_second_parse_starts_afresh)
{
	char *first[] = {"dsm", "-hv", "./a", NULL};
	char *second[] = {"dsm", "./b", NULL};

	cr_assert_eq(parse(ARGC(first), first), 0, "%s", err);
	cr_assert_eq(parse(ARGC(second), second), 0, "%s", err);
	cr_assert_str_eq(o.executable, "./b");
	cr_assert_eq(o.verbose, 0);
}

Test(options, remote_options)
{
	char *argv[] = {"dsm", "-A", "10.1.2.3", "-T", "5", "-t", "./p", NULL};
	char *bad_t[] = {"dsm", "-T", "0", "./p", NULL};

	cr_assert_eq(parse(ARGC(argv), argv), 0, "%s", err);
	cr_assert_str_eq(o.address, "10.1.2.3");
	cr_assert_eq(o.join_timeout, 5u);
	cr_assert_eq(o.tag_output, 1);
	cr_assert_eq(parse(ARGC(bad_t), bad_t), -1);
	cr_assert(strstr(err, "-T"), "%s", err);
}

Test(options, stdin_node)
{
	char *argv[] = {"dsm", "-n", "4", "-i", "3", "./p", NULL};
	char *before_n[] = {"dsm", "-i", "2", "-n", "3", "./p", NULL}; /* order does not matter */
	char *all[] = {"dsm", "-i", "all", "-n", "2", "./p", NULL};
	char *zero[] = {"dsm", "-i0", "./p", NULL};

	cr_assert_eq(parse(ARGC(argv), argv), 0, "%s", err);
	cr_assert_eq(o.stdin_node, 3u);
	cr_assert_eq(o.stdin_given, 1);
	cr_assert_eq(parse(ARGC(before_n), before_n), 0, "%s", err);
	cr_assert_eq(o.stdin_node, 2u);
	cr_assert_eq(parse(ARGC(all), all), 0, "%s", err);
	cr_assert_eq(o.stdin_node, OPTIONS_STDIN_ALL);
	cr_assert_eq(parse(ARGC(zero), zero), 0, "%s", err);
	cr_assert_eq(o.stdin_node, 0u);
	cr_assert_eq(o.stdin_given, 1);
}

Test(options, stdin_node_errors)
{
	static const char *bad[] = {"x", "", "-1", "1x", "ALL", "1024", "99999999999"};
	char *past[] = {"dsm", "-n", "3", "-i", "3", "./p", NULL};
	char *only[] = {"dsm", "-i", "1", "./p", NULL};
	char *missing[] = {"dsm", "-i", NULL};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *argv[] = {"dsm", "-n", "8", "-i", (char *)bad[i], "./p", NULL};
		char want[64];

		snprintf(want, sizeof(want), "-i %s: expected a node number or 'all'", bad[i]);
		cr_assert_eq(parse(ARGC(argv), argv), -1, "-i '%s' accepted", bad[i]);
		cr_assert_str_eq(err, want);
	}
	cr_assert_eq(parse(ARGC(past), past), -1);
	cr_assert_str_eq(err, "-i 3: there is no node 3; the nodes are 0 to 2");
	/* without -n the count may come from Slurm: the job checks it later */
	cr_assert_eq(parse(ARGC(only), only), 0, "%s", err);
	cr_assert_eq(o.nodes_given, 0);
	cr_assert_eq(options_check_stdin(&o, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "-i 1: there is no node 1; the only node is 0");
	o.nodes = 2;
	cr_assert_eq(options_check_stdin(&o, err, sizeof(err)), 0);
	expect_error(ARGC(missing), missing, "-i needs an argument");
}

Test(options, launcher)
{
	static const struct {
		const char *arg;
		int want;
	} ok[] = {{"ssh", LAUNCHER_SSH}, {"srun", LAUNCHER_SRUN}, {"local", LAUNCHER_LOCAL}};
	char *none[] = {"dsm", "./p", NULL};

	cr_assert_eq(parse(ARGC(none), none), 0, "%s", err);
	cr_assert_eq(o.launcher, LAUNCHER_DEFAULT);
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		char joined[32], eq[32];
		char *shortopt[] = {"dsm", "-L", (char *)ok[i].arg, "./p", "-L", "x", NULL};
		char *glued[] = {"dsm", joined, "./p", NULL};
		char *longopt[] = {"dsm", "--launcher", (char *)ok[i].arg, "./p", NULL};
		char *longeq[] = {"dsm", eq, "-n", "2", "./p", NULL};

		snprintf(joined, sizeof(joined), "-L%s", ok[i].arg);
		snprintf(eq, sizeof(eq), "--launcher=%s", ok[i].arg);
		cr_assert_eq(parse(ARGC(shortopt), shortopt), 0, "%s", err);
		cr_assert_eq(o.launcher, ok[i].want);
		cr_assert_eq(o.node_argc, 2, "the node's own -L x is not dsm's");
		cr_assert_str_eq(launcher_name(o.launcher), ok[i].arg);
		cr_assert_eq(parse(ARGC(glued), glued), 0, "%s", err);
		cr_assert_eq(o.launcher, ok[i].want);
		cr_assert_eq(parse(ARGC(longopt), longopt), 0, "%s", err);
		cr_assert_eq(o.launcher, ok[i].want);
		cr_assert_eq(parse(ARGC(longeq), longeq), 0, "%s", err);
		cr_assert_eq(o.launcher, ok[i].want);
		cr_assert_eq(o.nodes, 2u);
		cr_assert_eq(o.nodes_given, 1);
	}
}

Test(options, launcher_errors)
{
	char *bad[] = {"dsm", "-L", "rsh", "./p", NULL};
	char *empty[] = {"dsm", "--launcher=", "./p", NULL};
	char *missing[] = {"dsm", "--launcher", NULL};
	char *missing_short[] = {"dsm", "-L", NULL};
	char *unknown_long[] = {"dsm", "--nodes=4", "./p", NULL};

	cr_assert_eq(parse(ARGC(bad), bad), -1);
	cr_assert_str_eq(err, "-L rsh: the launcher must be ssh, srun or local");
	cr_assert_eq(parse(ARGC(empty), empty), -1);
	cr_assert_str_eq(err, "-L : the launcher must be ssh, srun or local");
	cr_assert_eq(parse(ARGC(missing), missing), -1);
	cr_assert_str_eq(err, "option --launcher needs an argument");
	cr_assert_eq(parse(ARGC(missing_short), missing_short), -1);
	cr_assert_str_eq(err, "option -L needs an argument");
	cr_assert_eq(parse(ARGC(unknown_long), unknown_long), -1);
	cr_assert_str_eq(err, "unknown option --nodes=4");
}
