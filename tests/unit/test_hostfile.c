/*
 * test_hostfile.c - the hosts file (allocator/hostfile.c): comments, blank
 * lines, CRLF, slots=N, placement of nodes on hosts (round-robin, slots
 * filled consecutively then cycling), errors with file:line, rejection of
 * names that could inject ssh options or shell syntax, host_is_local, and
 * loading from real and missing files, and refusing files with a NUL byte.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../allocator/launch/hostfile.h"

static struct hostlist l;
static char err[512];

static void cleanup(void)
{
	hostlist_free(&l);
}

TestSuite(hostfile, .fini = cleanup);

static void parse_ok(const char *text)
{
	err[0] = '\0';
	cr_assert_eq(hostfile_parse(text, "hosts", &l, err, sizeof(err)), 0, "refused: %s", err);
}

/* Expect an error whose message starts with prefix and contains needle. */
static void parse_bad(const char *text, const char *prefix, const char *needle)
{
	err[0] = '\0';
	cr_assert_eq(hostfile_parse(text, "hosts", &l, err, sizeof(err)), -1,
		     "accepted '%s'", text);
	cr_assert_eq(strncmp(err, prefix, strlen(prefix)), 0, "message '%s' does not start '%s'",
		     err, prefix);
	if (needle)
		cr_assert_not_null(strstr(err, needle), "message '%s' lacks '%s'", err, needle);
	cr_assert_eq(l.count, 0u, "list not emptied on error");
	cr_assert_null(l.hosts);
}

static void expect_host(size_t i, const char *name, uint32_t slots)
{
	cr_assert_lt(i, l.count);
	cr_assert_str_eq(l.hosts[i].name, name);
	cr_assert_eq(l.hosts[i].slots, slots, "%s: slots %u, want %u", name, l.hosts[i].slots,
		     slots);
}

Test(hostfile, one_host_per_line)
{
	parse_ok("alpha\nbeta\ngamma\n");
	cr_assert_eq(l.count, 3u);
	expect_host(0, "alpha", 1);
	expect_host(1, "beta", 1);
	expect_host(2, "gamma", 1);
}

Test(hostfile, last_line_without_newline)
{
	parse_ok("alpha\nbeta");
	cr_assert_eq(l.count, 2u);
	expect_host(1, "beta", 1);
}

Test(hostfile, comments_and_blank_lines)
{
	parse_ok("# the cluster\n"
		 "\n"
		 "   \t \n"
		 "alpha   # the first one\n"
		 "  # indented comment\n"
		 "\tbeta slots=2# no space before the hash\n"
		 "#gamma\n"
		 "delta#\n");
	cr_assert_eq(l.count, 3u);
	expect_host(0, "alpha", 1);
	expect_host(1, "beta", 2);
	expect_host(2, "delta", 1);
}

Test(hostfile, crlf_line_endings)
{
	parse_ok("alpha\r\nbeta slots=3\r\n\r\n# c\r\ngamma\r\n");
	cr_assert_eq(l.count, 3u);
	expect_host(0, "alpha", 1);
	expect_host(1, "beta", 3);
	expect_host(2, "gamma", 1);
}

Test(hostfile, slots_and_name_forms)
{
	parse_ok("n1.example.org slots=4\n"
		 "10.0.0.7 slots=1\n"
		 "user@host_2\n"
		 "[::1]\n"
		 "fe80::1 slots=1048576\n");
	cr_assert_eq(l.count, 5u);
	expect_host(0, "n1.example.org", 4);
	expect_host(1, "10.0.0.7", 1);
	expect_host(2, "user@host_2", 1);
	expect_host(3, "[::1]", 1);
	expect_host(4, "fe80::1", 1u << 20);
}

Test(hostfile, many_hosts_grow_the_list)
{
	char text[4096];
	size_t off = 0;

	for (int i = 0; i < 100; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off, "h%d slots=%d\n", i, i + 1);
	parse_ok(text);
	cr_assert_eq(l.count, 100u);
	for (int i = 0; i < 100; i++) {
		char name[16];

		snprintf(name, sizeof(name), "h%d", i);
		expect_host((size_t)i, name, (uint32_t)i + 1);
	}
}

Test(hostfile, round_robin_without_slots)
{
	parse_ok("a\nb\nc\n");
	static const char *want[] = {"a", "b", "c", "a", "b", "c", "a"};

	for (uint32_t n = 0; n < 7; n++)
		cr_assert_str_eq(hostlist_place(&l, n), want[n], "node %u", n);
	cr_assert_str_eq(hostlist_place(&l, 1023), "a"); /* 1023 % 3 == 0 */
}

Test(hostfile, slots_fill_consecutively_then_cycle)
{
	parse_ok("a slots=2\nb\nc slots=3\n");
	static const char *want[] = {"a", "a", "b", "c", "c", "c", "a", "a", "b", "c", "c", "c"};

	for (uint32_t n = 0; n < 12; n++)
		cr_assert_str_eq(hostlist_place(&l, n), want[n], "node %u", n);
}

Test(hostfile, single_host_takes_everything)
{
	parse_ok("only slots=2\n");
	for (uint32_t n = 0; n < 10; n++)
		cr_assert_str_eq(hostlist_place(&l, n), "only");
}

Test(hostfile, empty_text_means_localhost)
{
	parse_ok("");
	cr_assert_eq(l.count, 0u);
	cr_assert_str_eq(hostlist_place(&l, 0), "localhost");
	cr_assert_str_eq(hostlist_place(&l, 5), "localhost");
	parse_ok("# nothing\n\n   \n");
	cr_assert_eq(l.count, 0u);
	cr_assert_str_eq(hostlist_place(&l, 3), "localhost");
}

Test(hostfile, bad_slots)
{
	parse_bad("a\nb slots=0\n", "hosts:2: ", "'0'");
	parse_bad("a slots=x\n", "hosts:1: ", "'x'");
	parse_bad("\n\na slots=\n", "hosts:3: ", "slots");
	parse_bad("a slots=-1\n", "hosts:1: ", "'-1'");
	parse_bad("a slots=2x\n", "hosts:1: ", "'2x'");
	parse_bad("a slots=1048577\n", "hosts:1: ", "slots");
}

Test(hostfile, unknown_tokens)
{
	parse_bad("a\nb\nc cpus=4\n", "hosts:3: ", "'cpus=4'");
	parse_bad("a slots\n", "hosts:1: ", "'slots'");
	parse_bad("a slots=2 extra\n", "hosts:1: ", "'extra'");
	parse_bad("host extra\n", "hosts:1: ", "'extra'");
}

Test(hostfile, names_that_would_inject_ssh_options)
{
	parse_bad("-oProxyCommand=touch\n", "hosts:1: ", "not a host name");
	parse_bad("ok\n-p\n", "hosts:2: ", "'-p'");
	parse_bad("-\n", "hosts:1: ", "not a host name");
}

Test(hostfile, names_with_shell_metacharacters)
{
	parse_bad("a;reboot\n", "hosts:1: ", "not a host name");
	parse_bad("$(id)\n", "hosts:1: ", "not a host name");
	parse_bad("h$HOME\n", "hosts:1: ", "not a host name");
	parse_bad("`id`\n", "hosts:1: ", "not a host name");
	parse_bad("a|b\n", "hosts:1: ", "not a host name");
	parse_bad("a&\n", "hosts:1: ", "not a host name");
	parse_bad("a>b\n", "hosts:1: ", "not a host name");
	parse_bad("a'b\n", "hosts:1: ", "not a host name");
	parse_bad("a\"b\n", "hosts:1: ", "not a host name");
	parse_bad("a\\b\n", "hosts:1: ", "not a host name");
	parse_bad("a*\n", "hosts:1: ", "not a host name");
	/* a space splits the line: the second word is an unexpected token */
	parse_bad("good ;reboot\n", "hosts:1: ", "';reboot'");
}

Test(hostfile, overlong_name_and_line)
{
	char text[2048];

	memset(text, 'h', 256);
	strcpy(text + 256, "\n");
	parse_bad(text, "hosts:1: ", "not a host name");
	memset(text, 'h', 255);
	strcpy(text + 255, "\n");
	parse_ok(text);
	cr_assert_eq(l.count, 1u);
	cr_assert_eq(strlen(l.hosts[0].name), 255u);
	hostlist_free(&l);
	/* a line of 1100 characters, mostly comment */
	strcpy(text, "a\n");
	memset(text + 2, '#', 1100);
	strcpy(text + 1102, "\n");
	parse_bad(text, "hosts:2: ", "too long");
}

Test(hostfile, origin_names_the_file)
{
	cr_assert_eq(hostfile_parse("a slots=0\n", "/etc/dsm/cluster", &l, err, sizeof(err)), -1);
	cr_assert_eq(strncmp(err, "/etc/dsm/cluster:1: ", 20), 0, "%s", err);
}

Test(hostfile, local_names)
{
	char self[HOST_NAME_LEN];

	cr_assert_eq(host_is_local("localhost"), 1);
	cr_assert_eq(host_is_local("127.0.0.1"), 1);
	cr_assert_eq(host_is_local("::1"), 1);
	cr_assert_eq(host_is_local("example.invalid"), 0);
	cr_assert_eq(host_is_local(""), 0);
	cr_assert_eq(host_is_local("localhost.invalid"), 0);
	cr_assert_eq(gethostname(self, sizeof(self)), 0);
	self[sizeof(self) - 1] = '\0';
	cr_assert_eq(host_is_local(self), 1, "this machine's own name '%s'", self);
}

Test(hostfile, load_missing_file_is_empty)
{
	char dir[] = "/tmp/dsm-hostfile-XXXXXX";
	char path[64];

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/none", dir);
	l.count = 99; /* must be reset */
	cr_assert_eq(hostfile_load(path, &l, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(l.count, 0u);
	cr_assert_null(l.hosts);
	cr_assert_str_eq(hostlist_place(&l, 2), "localhost");
	rmdir(dir);
}

static void write_temp(char *path, const char *text)
{
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

Test(hostfile, load_real_file)
{
	char path[] = "/tmp/dsm-hosts-XXXXXX";

	write_temp(path, "# test\nalpha slots=2\r\nbeta\n");
	cr_assert_eq(hostfile_load(path, &l, err, sizeof(err)), 0, "%s", err);
	unlink(path);
	cr_assert_eq(l.count, 2u);
	expect_host(0, "alpha", 2);
	expect_host(1, "beta", 1);
	cr_assert_str_eq(hostlist_place(&l, 2), "beta");
}

Test(hostfile, load_large_file)
{
	/* more than one 4 KiB read */
	char path[] = "/tmp/dsm-hosts-XXXXXX";
	static char text[20000];
	size_t off = 0;
	int n = 0;

	while (off < sizeof(text) - 64) {
		off += (size_t)snprintf(text + off, sizeof(text) - off, "host-%05d # pad pad\n", n);
		n++;
	}
	write_temp(path, text);
	cr_assert_eq(hostfile_load(path, &l, err, sizeof(err)), 0, "%s", err);
	unlink(path);
	cr_assert_eq(l.count, (size_t)n);
	expect_host((size_t)n - 1, l.hosts[n - 1].name, 1);
	char last[16];

	snprintf(last, sizeof(last), "host-%05d", n - 1);
	cr_assert_str_eq(l.hosts[n - 1].name, last);
}

Test(hostfile, load_bad_file_names_path_and_line)
{
	char path[] = "/tmp/dsm-hosts-XXXXXX";
	char prefix[64];

	write_temp(path, "alpha\nbeta slots=zero\n");
	cr_assert_eq(hostfile_load(path, &l, err, sizeof(err)), -1);
	unlink(path);
	snprintf(prefix, sizeof(prefix), "%s:2: ", path);
	cr_assert_eq(strncmp(err, prefix, strlen(prefix)), 0, "'%s' does not start '%s'", err,
		     prefix);
	cr_assert_eq(l.count, 0u);
}

Test(hostfile, load_directory_fails)
{
	char dir[] = "/tmp/dsm-hostfile-XXXXXX";

	cr_assert_not_null(mkdtemp(dir));
	err[0] = '\0';
	cr_assert_eq(hostfile_load(dir, &l, err, sizeof(err)), -1);
	cr_assert_not_null(strstr(err, dir), "message '%s' does not name the path", err);
	rmdir(dir);
}

/* write_temp with the len bytes of text, NULs included */
static void write_temp_bytes(char *path, const char *text, size_t len)
{
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, len), (ssize_t)len);
	close(fd);
}

Test(hostfile, load_refuses_a_nul_byte_naming_its_line)
{
	static const struct {
		const char *text;
		size_t len;
		int line;
	} cases[] = {
#define NUL_CASE(text, line) {text, sizeof(text) - 1, line}
		NUL_CASE("alpha\nbe\0ta\ngamma\n", 2), /* was cut to "alpha\nbe" */
		NUL_CASE("\0alpha\n", 1),
		NUL_CASE("alpha\nbeta\n\0", 3),       /* after the last newline */
		NUL_CASE("# c\n\n alpha #\0\n", 3),  /* in a comment too */
#undef NUL_CASE
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char path[] = "/tmp/dsm-hosts-XXXXXX";
		char want[128];

		write_temp_bytes(path, cases[i].text, cases[i].len);
		err[0] = '\0';
		cr_assert_eq(hostfile_load(path, &l, err, sizeof(err)), -1, "case %zu accepted", i);
		unlink(path);
		snprintf(want, sizeof(want), "%s:%d: a NUL byte; the file must be text", path,
			 cases[i].line);
		cr_assert_str_eq(err, want, "case %zu", i);
		cr_assert_eq(l.count, 0u);
		cr_assert_null(l.hosts);
	}
}

Test(hostfile, text_check_nul)
{
	cr_assert_eq(text_check_nul("a\nb\n", 4, "f", err, sizeof(err)), 0);
	cr_assert_eq(text_check_nul("", 0, "f", err, sizeof(err)), 0);
	cr_assert_eq(text_check_nul("a\nb\n\n\0", 6, "f", err, sizeof(err)), -1);
	cr_assert_str_eq(err, "f:4: a NUL byte; the file must be text");
}
