/*
 * test_clusterhosts.c - hosts from batch systems (allocator/clusterhosts.c):
 * Slurm node lists (plain names, one bracket group with numbers, ranges and
 * zero padding, suffixes, malformed lists), PBS node files (repeated lines as
 * slots, blanks, bad names), and clusterhosts_load's choice between
 * SLURM_JOB_NODELIST, PBS_NODEFILE and nothing; Slurm's slots per host
 * (SLURM_TASKS_PER_NODE) and task count (SLURM_NTASKS), well-formed and
 * not. Criterion runs each test in
 * its own process, so setenv() here does not leak into other tests.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../allocator/launch/clusterhosts.h"

static struct hostlist l;
static char err[512];

static void cleanup(void)
{
	hostlist_free(&l);
}

TestSuite(clusterhosts, .fini = cleanup);

static void slurm_ok(const char *list)
{
	err[0] = '\0';
	cr_assert_eq(clusterhosts_parse_slurm(list, &l, err, sizeof(err)), 0, "'%s' refused: %s",
		     list, err);
}

static void slurm_bad(const char *list, const char *needle)
{
	err[0] = '\0';
	cr_assert_eq(clusterhosts_parse_slurm(list, &l, err, sizeof(err)), -1, "accepted '%s'",
		     list);
	cr_assert_eq(strncmp(err, "SLURM_JOB_NODELIST: ", 20), 0, "message '%s'", err);
	if (needle)
		cr_assert_not_null(strstr(err, needle), "message '%s' lacks '%s'", err, needle);
	cr_assert_eq(l.count, 0u, "list not emptied on error");
	cr_assert_null(l.hosts);
}

/* Expect exactly the hosts in names (a NULL-terminated list), one slot each. */
static void expect_names(const char *const *names)
{
	size_t n = 0;

	for (; names[n]; n++) {
		cr_assert_lt(n, l.count, "only %zu hosts, expected %s next", l.count, names[n]);
		cr_assert_str_eq(l.hosts[n].name, names[n]);
		cr_assert_eq(l.hosts[n].slots, 1u);
	}
	cr_assert_eq(l.count, n, "%zu hosts, expected %zu", l.count, n);
}

#define NAMES(...) ((const char *const[]){__VA_ARGS__, NULL})

Test(clusterhosts, slurm_single_name)
{
	slurm_ok("node07");
	expect_names(NAMES("node07"));
}

Test(clusterhosts, slurm_plain_names)
{
	slurm_ok("alpha,beta.example.org,gamma-1");
	expect_names(NAMES("alpha", "beta.example.org", "gamma-1"));
}

Test(clusterhosts, slurm_range_with_padding)
{
	slurm_ok("node[01-04,07]");
	expect_names(NAMES("node01", "node02", "node03", "node04", "node07"));
}

Test(clusterhosts, slurm_padding_follows_lower_bound)
{
	slurm_ok("n[8-10]");
	expect_names(NAMES("n8", "n9", "n10"));
	hostlist_free(&l);
	slurm_ok("n[008-010]");
	expect_names(NAMES("n008", "n009", "n010"));
}

Test(clusterhosts, slurm_groups_and_names_mixed)
{
	slurm_ok("a[1-2],b3,c[5]");
	expect_names(NAMES("a1", "a2", "b3", "c5"));
}

Test(clusterhosts, slurm_suffix_after_group)
{
	slurm_ok("rack[1-2]-ib");
	expect_names(NAMES("rack1-ib", "rack2-ib"));
}

Test(clusterhosts, slurm_surrounding_blanks)
{
	slurm_ok("  node[1-2]\n");
	expect_names(NAMES("node1", "node2"));
}

Test(clusterhosts, slurm_empty_is_empty_list)
{
	slurm_ok("");
	cr_assert_eq(l.count, 0u);
	cr_assert_eq(strcmp(hostlist_place(&l, 3), "localhost"), 0);
}

Test(clusterhosts, slurm_places_round_robin)
{
	slurm_ok("n[1-3]");
	cr_assert_str_eq(hostlist_place(&l, 0), "n1");
	cr_assert_str_eq(hostlist_place(&l, 2), "n3");
	cr_assert_str_eq(hostlist_place(&l, 3), "n1");
}

Test(clusterhosts, slurm_two_groups_refused)
{
	slurm_bad("rack[1-2]-n[01-02]", "only one");
}

Test(clusterhosts, slurm_unbalanced_brackets)
{
	slurm_bad("node[1-2", "unclosed");
	slurm_bad("node1-2]", "unmatched");
	slurm_bad("node[[1]", "only one");
}

Test(clusterhosts, slurm_bad_ranges)
{
	slurm_bad("node[]", "[]");
	slurm_bad("node[4-2]", "[4-2]");
	slurm_bad("node[1-]", NULL);
	slurm_bad("node[-1]", NULL);
	slurm_bad("node[1,,2]", NULL);
	slurm_bad("node[a-b]", NULL);
	slurm_bad("node[1234567890]", NULL);
}

Test(clusterhosts, slurm_empty_names)
{
	slurm_bad(",node1", "empty");
	slurm_bad("node1,", "empty");
	slurm_bad("node1,,node2", "empty");
}

Test(clusterhosts, slurm_bad_names)
{
	slurm_bad("-oProxyCommand=x", "not a host name");
	slurm_bad("node1;reboot", "not a host name");
	slurm_bad("node 1", "not a host name");
	slurm_bad("[1-2]x;y", "not a host name");
}

Test(clusterhosts, slurm_too_many_hosts)
{
	slurm_bad("n[0-99999999]", "more than");
}

static void pbs_ok(const char *text)
{
	err[0] = '\0';
	cr_assert_eq(clusterhosts_parse_pbs(text, "nodefile", &l, err, sizeof(err)), 0,
		     "refused: %s", err);
}

Test(clusterhosts, pbs_repeated_lines_are_slots)
{
	pbs_ok("n1\nn1\nn1\nn2\nn2\nn3\n");
	cr_assert_eq(l.count, 3u);
	cr_assert_str_eq(l.hosts[0].name, "n1");
	cr_assert_eq(l.hosts[0].slots, 3u);
	cr_assert_str_eq(l.hosts[1].name, "n2");
	cr_assert_eq(l.hosts[1].slots, 2u);
	cr_assert_str_eq(l.hosts[2].name, "n3");
	cr_assert_eq(l.hosts[2].slots, 1u);
}

Test(clusterhosts, pbs_node_k_runs_on_line_k)
{
	const char *lines[] = {"a", "a", "b", "a", "c", "c"};

	pbs_ok("a\na\nb\na\nc\nc");
	cr_assert_eq(l.count, 4u, "non-adjacent repeats stay separate lines");
	for (uint32_t k = 0; k < 12; k++)
		cr_assert_str_eq(hostlist_place(&l, k), lines[k % 6], "node %u", k);
}

Test(clusterhosts, pbs_blanks_and_crlf)
{
	pbs_ok("\n  n1  \r\n\t\n n1\r\nn2");
	cr_assert_eq(l.count, 2u);
	cr_assert_eq(l.hosts[0].slots, 2u);
	cr_assert_str_eq(l.hosts[1].name, "n2");
}

Test(clusterhosts, pbs_bad_line_names_file_and_line)
{
	err[0] = '\0';
	cr_assert_eq(clusterhosts_parse_pbs("n1\nn1 n2\n", "nodefile", &l, err, sizeof(err)), -1);
	cr_assert_eq(strncmp(err, "nodefile:2:", 11), 0, "message '%s'", err);
	cr_assert_eq(l.count, 0u);
	cr_assert_null(l.hosts);
	cr_assert_eq(clusterhosts_parse_pbs("$(reboot)\n", "nodefile", &l, err, sizeof(err)), -1);
	cr_assert_eq(clusterhosts_parse_pbs("-oX\n", "nodefile", &l, err, sizeof(err)), -1);
}

Test(clusterhosts, pbs_empty_file)
{
	pbs_ok("");
	cr_assert_eq(l.count, 0u);
	pbs_ok("\n \n");
	cr_assert_eq(l.count, 0u);
}

Test(clusterhosts, load_neither_set)
{
	unsetenv("SLURM_JOB_NODELIST");
	unsetenv("PBS_NODEFILE");
	cr_assert_eq(clusterhosts_load(&l, err, sizeof(err)), 0);
	cr_assert_eq(l.count, 0u);
	setenv("SLURM_JOB_NODELIST", "", 1);
	setenv("PBS_NODEFILE", "", 1);
	cr_assert_eq(clusterhosts_load(&l, err, sizeof(err)), 0, "empty values count as unset");
	cr_assert_eq(l.count, 0u);
}

Test(clusterhosts, load_slurm_first)
{
	setenv("SLURM_JOB_NODELIST", "c[1-2]", 1);
	setenv("PBS_NODEFILE", "/nonexistent/dsm-nodefile", 1);
	cr_assert_eq(clusterhosts_load(&l, err, sizeof(err)), 0, "%s", err);
	expect_names(NAMES("c1", "c2"));
}

Test(clusterhosts, load_slurm_malformed)
{
	setenv("SLURM_JOB_NODELIST", "c[1-", 1);
	cr_assert_eq(clusterhosts_load(&l, err, sizeof(err)), -1);
	cr_assert_not_null(strstr(err, "SLURM_JOB_NODELIST"));
}

Test(clusterhosts, load_pbs_file)
{
	char path[] = "/tmp/dsm-nodefile-XXXXXX";
	int fd = mkstemp(path);
	const char text[] = "p1\np1\np2\n";

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, sizeof(text) - 1), (ssize_t)(sizeof(text) - 1));
	close(fd);
	unsetenv("SLURM_JOB_NODELIST");
	setenv("PBS_NODEFILE", path, 1);
	cr_assert_eq(clusterhosts_load(&l, err, sizeof(err)), 0, "%s", err);
	unlink(path);
	cr_assert_eq(l.count, 2u);
	cr_assert_str_eq(l.hosts[0].name, "p1");
	cr_assert_eq(l.hosts[0].slots, 2u);
	cr_assert_str_eq(l.hosts[1].name, "p2");
}

Test(clusterhosts, load_pbs_missing_file)
{
	unsetenv("SLURM_JOB_NODELIST");
	setenv("PBS_NODEFILE", "/nonexistent/dsm-nodefile", 1);
	cr_assert_eq(clusterhosts_load(&l, err, sizeof(err)), -1);
	cr_assert_not_null(strstr(err, "PBS_NODEFILE=/nonexistent/dsm-nodefile"), "%s", err);
	cr_assert_not_null(strstr(err, "No such file"), "%s", err);
	cr_assert_eq(l.count, 0u);
}

Test(clusterhosts, load_pbs_directory)
{
	unsetenv("SLURM_JOB_NODELIST");
	setenv("PBS_NODEFILE", "/tmp", 1);
	cr_assert_eq(clusterhosts_load(&l, err, sizeof(err)), -1);
	cr_assert_not_null(strstr(err, "PBS_NODEFILE=/tmp"), "%s", err);
}

Test(clusterhosts, load_pbs_file_with_a_nul_byte)
{
	char path[] = "/tmp/dsm-nodefile-XXXXXX";
	int fd = mkstemp(path);
	const char text[] = "p1\np\0x\np2\n"; /* was cut to "p1\np" */
	char want[128];

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, sizeof(text) - 1), (ssize_t)(sizeof(text) - 1));
	close(fd);
	unsetenv("SLURM_JOB_NODELIST");
	setenv("PBS_NODEFILE", path, 1);
	cr_assert_eq(clusterhosts_load(&l, err, sizeof(err)), -1);
	unlink(path);
	snprintf(want, sizeof(want), "%s:2: a NUL byte; the file must be text", path);
	cr_assert_str_eq(err, want);
	cr_assert_eq(l.count, 0u);
}

/* ---- Slurm's slots per host and task count ------------------------------ */

static uint32_t slots[8];

static void tasks_ok(const char *value, size_t nhosts, const uint32_t *want)
{
	memset(slots, 0, sizeof(slots));
	err[0] = '\0';
	cr_assert_eq(clusterhosts_parse_tasks(value, slots, nhosts, err, sizeof(err)), 0,
		     "'%s' refused: %s", value, err);
	for (size_t i = 0; i < nhosts; i++)
		cr_assert_eq(slots[i], want[i], "'%s': host %zu has %u slots, not %u", value, i,
			     slots[i], want[i]);
}

static void tasks_bad(const char *value, size_t nhosts, const char *want)
{
	err[0] = '\0';
	cr_assert_eq(clusterhosts_parse_tasks(value, slots, nhosts, err, sizeof(err)), -1,
		     "accepted '%s'", value);
	cr_assert_str_eq(err, want);
}

Test(clusterhosts, tasks_per_node_forms)
{
	tasks_ok("4", 1, (uint32_t[]){4});
	tasks_ok("1(x2)", 2, (uint32_t[]){1, 1});
	tasks_ok("2(x3),1", 4, (uint32_t[]){2, 2, 2, 1});
	tasks_ok("3,1(x2),16", 4, (uint32_t[]){3, 1, 1, 16});
}

Test(clusterhosts, tasks_per_node_malformed)
{
	static const char *const bad[] = {"", "x", "0", "2(x0)", "2(3)", "2(x3", "2x3", "2(x3),",
					  ",2", "2,,1", "-1", " 2", "2 ", "2(x)", "99999999999"};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char want[128];

		snprintf(want, sizeof(want), "SLURM_TASKS_PER_NODE=%s: expected task counts per "
			 "host such as 2(x3),1", bad[i]);
		tasks_bad(bad[i], 4, want);
	}
}

Test(clusterhosts, tasks_per_node_must_match_the_hosts)
{
	tasks_bad("2(x3)", 2, "SLURM_TASKS_PER_NODE=2(x3) names more hosts than the 2 of "
		  "SLURM_JOB_NODELIST");
	tasks_bad("2,1", 3, "SLURM_TASKS_PER_NODE=2,1 names 2 hosts, SLURM_JOB_NODELIST 3");
	tasks_bad("4", 2, "SLURM_TASKS_PER_NODE=4 names 1 host, SLURM_JOB_NODELIST 2");
}

Test(clusterhosts, load_slurm_with_slots)
{
	setenv("SLURM_JOB_NODELIST", "c[1-4]", 1);
	setenv("SLURM_TASKS_PER_NODE", "2(x3),1", 1);
	cr_assert_eq(clusterhosts_load(&l, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(l.count, 4u);
	for (size_t i = 0; i < 4; i++) {
		char name[8];

		snprintf(name, sizeof(name), "c%zu", i + 1);
		cr_assert_str_eq(l.hosts[i].name, name);
		cr_assert_eq(l.hosts[i].slots, i < 3 ? 2u : 1u, "c%zu", i + 1);
	}
	/* node K runs on the host whose slots K falls into: c1 c1 c2 c2 c3 c3 c4 */
	cr_assert_str_eq(hostlist_place(&l, 1), "c1");
	cr_assert_str_eq(hostlist_place(&l, 2), "c2");
	cr_assert_str_eq(hostlist_place(&l, 5), "c3");
	cr_assert_str_eq(hostlist_place(&l, 6), "c4");
	cr_assert_str_eq(hostlist_place(&l, 7), "c1");
}

Test(clusterhosts, load_slurm_with_bad_slots)
{
	setenv("SLURM_JOB_NODELIST", "c[1-2]", 1);
	setenv("SLURM_TASKS_PER_NODE", "2(x3)", 1);
	cr_assert_eq(clusterhosts_load(&l, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "SLURM_TASKS_PER_NODE=2(x3) names more hosts than the 2 of "
		     "SLURM_JOB_NODELIST");
	cr_assert_eq(l.count, 0u);
}

Test(clusterhosts, task_count)
{
	uint32_t n = 0;

	unsetenv("SLURM_NTASKS");
	unsetenv("SLURM_TASKS_PER_NODE");
	cr_assert_eq(clusterhosts_task_count(&n, err, sizeof(err)), 0);
	setenv("SLURM_TASKS_PER_NODE", "2(x3),1", 1);
	cr_assert_eq(clusterhosts_task_count(&n, err, sizeof(err)), 1, "%s", err);
	cr_assert_eq(n, 7u, "the sum of SLURM_TASKS_PER_NODE");
	setenv("SLURM_NTASKS", "5", 1);
	cr_assert_eq(clusterhosts_task_count(&n, err, sizeof(err)), 1, "%s", err);
	cr_assert_eq(n, 5u, "SLURM_NTASKS comes first");
	setenv("SLURM_NTASKS", "5x", 1);
	cr_assert_eq(clusterhosts_task_count(&n, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "SLURM_NTASKS=5x: expected a task count");
	unsetenv("SLURM_NTASKS");
	setenv("SLURM_TASKS_PER_NODE", "2(x", 1);
	cr_assert_eq(clusterhosts_task_count(&n, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "SLURM_TASKS_PER_NODE=2(x: expected task counts per host such as "
		     "2(x3),1");
}
