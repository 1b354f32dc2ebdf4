/*
 * test_launchcheck.c - the checks allocator/launch/ makes before any node
 * starts: launch_check_env (DSM_WRAPPER, DSM_SSH and DSM_SRUN must split into words,
 * with the reason when they do not) and launch_check_stdin (dsm -i: a node
 * on another host cannot be given dsm's standard input; -i all needs a
 * regular file and nodes on this machine only). Criterion runs every test
 * in a process of its own, so each may set the environment and fd 0.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../allocator/launch/launch.h"

static char err[512];

static void env_ok(void)
{
	err[0] = '\0';
	cr_assert_eq(launch_check_env(err, sizeof(err)), 0, "refused: %s", err);
}

static void env_bad(const char *want)
{
	err[0] = '\0';
	cr_assert_eq(launch_check_env(err, sizeof(err)), -1, "accepted (want '%s')", want);
	cr_assert_str_eq(err, want);
}

Test(launchcheck, env_unset_empty_and_good_values)
{
	unsetenv("DSM_WRAPPER");
	unsetenv("DSM_SSH");
	env_ok();
	setenv("DSM_WRAPPER", "", 1);
	setenv("DSM_SSH", "", 1); /* empty: plain ssh */
	env_ok();
	setenv("DSM_WRAPPER", "   ", 1); /* blanks: no wrapper */
	setenv("DSM_SSH", "ssh -F 'my config' -o \"User=x y\"", 1);
	env_ok();
}

Test(launchcheck, env_wrapper_that_does_not_parse)
{
	unsetenv("DSM_SSH");
	setenv("DSM_WRAPPER", "valgrind 'abc", 1);
	env_bad("cannot parse DSM_WRAPPER=valgrind 'abc: unterminated single quote");
	setenv("DSM_WRAPPER", "strace \\", 1);
	env_bad("cannot parse DSM_WRAPPER=strace \\: trailing backslash");
}

Test(launchcheck, env_ssh_that_does_not_parse_or_names_nothing)
{
	unsetenv("DSM_WRAPPER");
	setenv("DSM_SSH", "ssh -F \"x", 1);
	env_bad("cannot parse DSM_SSH=ssh -F \"x: unterminated double quote");
	setenv("DSM_SSH", " \t", 1);
	env_bad("cannot parse DSM_SSH= \t: it names no command");
}

Test(launchcheck, env_srun)
{
	unsetenv("DSM_WRAPPER");
	unsetenv("DSM_SSH");
	setenv("DSM_SRUN", "", 1); /* empty: plain srun */
	env_ok();
	setenv("DSM_SRUN", "srun --quiet --partition='my part'", 1);
	env_ok();
	setenv("DSM_SRUN", "srun --comment='x", 1);
	env_bad("cannot parse DSM_SRUN=srun --comment='x: unterminated single quote");
	setenv("DSM_SRUN", "  ", 1);
	env_bad("cannot parse DSM_SRUN=  : it names no command");
}

/* ---- launch_check_stdin ------------------------------------------------ */

static struct host local_and_remote[] = {{"localhost", 1}, {"far.invalid", 1}};
static const struct hostlist mixed = {local_and_remote, 2}; /* node 1 is remote */
static const struct hostlist here = {NULL, 0};              /* all on localhost */

/* fd 0 becomes path (opened read-only) */
static void stdin_is(const char *path)
{
	int fd = open(path, O_RDONLY);

	cr_assert_geq(fd, 0, "%s", path);
	cr_assert_eq(dup2(fd, 0), 0);
	close(fd);
}

Test(launchcheck, stdin_node_on_another_host)
{
	/* the default (node 0) is fine even when node 0 is remote */
	cr_assert_eq(launch_check_stdin(1, 0, &mixed, 2, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(launch_check_stdin(0, 1, &mixed, 2, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(launch_check_stdin(1, 1, &mixed, 2, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "-i 1: node 1 runs on far.invalid through ssh, and nodes on "
			      "other hosts read /dev/null");
	cr_assert_eq(launch_check_stdin(2, 1, &mixed, 3, err, sizeof(err)), 0, "%s", err);
}

Test(launchcheck, stdin_all_needs_a_regular_file)
{
	char path[] = "/tmp/dsm-stdin-XXXXXX";
	int fd = mkstemp(path), p[2];

	cr_assert_geq(fd, 0);
	close(fd);
	stdin_is(path);
	unlink(path); /* open again through /proc even so */
	cr_assert_eq(launch_check_stdin(LAUNCH_STDIN_ALL, 1, &here, 4, err, sizeof(err)), 0,
		     "%s", err);

	stdin_is("/dev/null");
	cr_assert_eq(launch_check_stdin(LAUNCH_STDIN_ALL, 1, &here, 4, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "-i all: standard input is a character device; every node reads "
			      "it from its start, so it must be a regular file (dsm -i all ... <FILE)");

	cr_assert_eq(pipe(p), 0);
	cr_assert_eq(dup2(p[0], 0), 0);
	cr_assert_eq(launch_check_stdin(LAUNCH_STDIN_ALL, 1, &here, 4, err, sizeof(err)), -1);
	cr_assert_not_null(strstr(err, "-i all: standard input is a pipe; "), "%s", err);

	stdin_is("/tmp");
	cr_assert_eq(launch_check_stdin(LAUNCH_STDIN_ALL, 1, &here, 4, err, sizeof(err)), -1);
	cr_assert_not_null(strstr(err, "-i all: standard input is a directory; "), "%s", err);
}

Test(launchcheck, stdin_all_with_a_remote_node)
{
	stdin_is("/etc/passwd"); /* a regular file: the host is what is wrong */
	cr_assert_eq(launch_check_stdin(LAUNCH_STDIN_ALL, 1, &mixed, 1, err, sizeof(err)), 0,
		     "%s", err);
	cr_assert_eq(launch_check_stdin(LAUNCH_STDIN_ALL, 1, &mixed, 2, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "-i all: node 1 runs on far.invalid through ssh, and nodes on "
			      "other hosts read /dev/null");
}
