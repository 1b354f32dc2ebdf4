/*
 * test_args.c - sm__args_take (client/args.c): removing the one
 * `--dsm-node=NID,NODES,PORT,HOST` argument dsm puts at argv[1], leaving the
 * user's arguments exactly as they were, and refusing (with argv untouched)
 * every malformed or misplaced token; and `--dsm-node=slurm,...`, whose node
 * id is the task's SLURM_PROCID (dsm -L srun).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "libsm.h"

#define MAXARGS 16

static char *saved[MAXARGS];
static int saved_argc;

static void save(int argc, char **argv)
{
	saved_argc = argc;
	for (int i = 0; i <= argc; i++)
		saved[i] = argv[i];
}

static void expect_unchanged(int argc, char **argv)
{
	cr_assert_eq(argc, saved_argc, "argc changed");
	for (int i = 0; i <= argc; i++)
		cr_assert_eq(argv[i], saved[i], "argv[%d] changed", i);
}

/* Expect the token to be refused, alone after argv[0]. */
static void expect_reject(const char *token)
{
	char *argv[] = {"prog", (char *)token, "user", NULL};
	char **av = argv;
	int argc = 3;
	struct node_args a;

	save(argc, av);
	cr_assert_eq(sm__args_take(&argc, &av, &a), -1, "accepted '%s'", token);
	cr_assert_eq(av, argv);
	expect_unchanged(argc, av);
}

static void expect_accept(const char *token, struct node_args *a)
{
	char *argv[] = {"prog", (char *)token, NULL};
	char **av = argv;
	int argc = 2;

	cr_assert_eq(sm__args_take(&argc, &av, a), 0, "refused '%s'", token);
	cr_assert_eq(argc, 1);
	cr_assert_str_eq(av[0], "prog");
	cr_assert_null(av[1]);
}

Test(args, strips_token_and_keeps_user_args)
{
	char *argv[] = {"./prog", "--dsm-node=3,8,4242,node7.example", "", "a b", "-n", "5",
			"--dsm-node=0,1,1,h", NULL};
	char *orig[8];
	char **av = argv;
	int argc = 7;
	struct node_args a;

	memcpy(orig, argv, sizeof(orig));
	cr_assert_eq(sm__args_take(&argc, &av, &a), 0);
	cr_assert_eq(argc, 6);
	cr_assert_eq(av, argv);
	cr_assert_eq(av[0], orig[0]);
	for (int i = 1; i < 6; i++)
		cr_assert_eq(av[i], orig[i + 1], "argv[%d] is not the user's argument", i);
	cr_assert_null(av[6], "argv must stay NULL-terminated");
	cr_assert_str_eq(av[1], "");
	cr_assert_str_eq(av[2], "a b");
	cr_assert_str_eq(av[3], "-n");
	cr_assert_str_eq(av[4], "5");
	cr_assert_str_eq(av[5], "--dsm-node=0,1,1,h");
	cr_assert_eq(a.nid, 3u);
	cr_assert_eq(a.nnodes, 8u);
	cr_assert_str_eq(a.port, "4242");
	cr_assert_str_eq(a.host, "node7.example");
}

Test(args, token_alone)
{
	struct node_args a;

	expect_accept("--dsm-node=0,1,65535,127.0.0.1", &a);
	cr_assert_eq(a.nid, 0u);
	cr_assert_eq(a.nnodes, 1u);
	cr_assert_str_eq(a.port, "65535");
	cr_assert_str_eq(a.host, "127.0.0.1");
}

Test(args, boundaries_accepted)
{
	struct node_args a;

	expect_accept("--dsm-node=1023,1024,1,h", &a);
	cr_assert_eq(a.nid, 1023u);
	cr_assert_eq(a.nnodes, DSM_MAX_NODES);
	cr_assert_str_eq(a.port, "1");
	cr_assert_str_eq(a.host, "h");
	expect_accept("--dsm-node=1,2,80,::1", &a);
	cr_assert_eq(a.nid, 1u);
	cr_assert_eq(a.nnodes, 2u);
	cr_assert_str_eq(a.host, "::1");
}

Test(args, longest_port_and_host_accepted)
{
	struct node_args a;
	char token[512];
	char host[256];

	/* 15 characters of port, 255 of host: just fit their buffers */
	memset(host, 'h', 255);
	host[255] = '\0';
	snprintf(token, sizeof(token), "--dsm-node=0,1,000000000008080,%s", host);
	expect_accept(token, &a);
	cr_assert_str_eq(a.port, "000000000008080");
	cr_assert_str_eq(a.host, host);
}

Test(args, missing_token)
{
	char *argv[] = {"prog", NULL};
	char **av = argv;
	int argc = 1;
	struct node_args a;

	save(argc, av);
	cr_assert_eq(sm__args_take(&argc, &av, &a), -1);
	expect_unchanged(argc, av);
	expect_reject("user-arg");
	expect_reject("");
}

Test(args, null_arguments)
{
	char *argv[] = {"prog", "--dsm-node=0,1,1,h", NULL};
	char **av = argv;
	char **nullv = NULL;
	int argc = 2;
	struct node_args a;

	cr_assert_eq(sm__args_take(NULL, &av, &a), -1);
	cr_assert_eq(sm__args_take(&argc, NULL, &a), -1);
	cr_assert_eq(sm__args_take(&argc, &nullv, &a), -1);
	cr_assert_eq(argc, 2);
	cr_assert_str_eq(av[1], "--dsm-node=0,1,1,h");
}

Test(args, token_not_at_argv1)
{
	char *argv[] = {"prog", "x", "--dsm-node=0,2,5000,h", NULL};
	char **av = argv;
	int argc = 3;
	struct node_args a;

	save(argc, av);
	cr_assert_eq(sm__args_take(&argc, &av, &a), -1);
	expect_unchanged(argc, av);
}

Test(args, nid_not_below_nodes)
{
	expect_reject("--dsm-node=2,2,5000,h");
	expect_reject("--dsm-node=9,4,5000,h");
	expect_reject("--dsm-node=1024,1024,5000,h");
}

Test(args, bad_node_count)
{
	expect_reject("--dsm-node=0,0,5000,h");
	expect_reject("--dsm-node=0,1025,5000,h");
	expect_reject("--dsm-node=0,4294967295,5000,h");
	expect_reject("--dsm-node=0,4294967296,5000,h");
	expect_reject("--dsm-node=0,18446744073709551617,5000,h");
}

Test(args, bad_port)
{
	expect_reject("--dsm-node=0,1,0,h");
	expect_reject("--dsm-node=0,1,65536,h");
	expect_reject("--dsm-node=0,1,99999999999,h");
	expect_reject("--dsm-node=0,1,http,h");
	expect_reject("--dsm-node=0,1,80x,h");
	expect_reject("--dsm-node=0,1,-80,h");
	expect_reject("--dsm-node=0,1,,h");
	/* 16 characters: does not fit the port buffer even though it is 8080 */
	expect_reject("--dsm-node=0,1,0000000000008080,h");
}

Test(args, bad_numbers)
{
	expect_reject("--dsm-node=-1,2,5000,h");
	expect_reject("--dsm-node= 1,2,5000,h");
	expect_reject("--dsm-node=+1,2,5000,h");
	expect_reject("--dsm-node=1, 2,5000,h");
	expect_reject("--dsm-node=a,2,5000,h");
	expect_reject("--dsm-node=4294967296,4294967295,5000,h");
}

Test(args, host_too_long)
{
	char token[512];
	char host[257];

	memset(host, 'h', 256);
	host[256] = '\0';
	snprintf(token, sizeof(token), "--dsm-node=0,1,5000,%s", host);
	expect_reject(token);
}

Test(args, missing_fields)
{
	expect_reject("--dsm-node=");
	expect_reject("--dsm-node=0");
	expect_reject("--dsm-node=0,");
	expect_reject("--dsm-node=0,1");
	expect_reject("--dsm-node=0,1,");
	expect_reject("--dsm-node=0,1,5000");
	expect_reject("--dsm-node=0,1,5000,");
	expect_reject("--dsm-node=,1,5000,h");
	expect_reject("--dsm-node");
	expect_reject("--dsm-node0,1,5000,h");
	expect_reject("-dsm-node=0,1,5000,h");
	expect_reject("--DSM-NODE=0,1,5000,h");
}

/* ---- the node id from Slurm (dsm -L srun) -------------------------------- */

Test(args, node_id_from_slurm)
{
	struct node_args a;
	char *argv[] = {"prog", "--dsm-node=slurm,8,4242,head", "x", NULL};
	char **av = argv;
	int argc = 3;

	setenv("SLURM_PROCID", "5", 1);
	cr_assert_eq(sm__args_take(&argc, &av, &a), 0);
	cr_assert_eq(a.nid, 5u);
	cr_assert_eq(a.nnodes, 8u);
	cr_assert_str_eq(a.port, "4242");
	cr_assert_str_eq(a.host, "head");
	cr_assert_eq(argc, 2);
	cr_assert_str_eq(av[1], "x");
	setenv("SLURM_PROCID", "0", 1);
	expect_accept("--dsm-node=slurm,1,1,h", &a);
	cr_assert_eq(a.nid, 0u);
}

/* SLURM_PROCID missing or not a node of the job: -2, argv untouched */
Test(args, node_id_from_slurm_refused)
{
	static const char *const bad[] = {"8", "9", "-1", "", "x", "3x", " 3", "99999999999"};
	char *argv[] = {"prog", "--dsm-node=slurm,8,4242,head", NULL};
	char **av = argv;
	int argc = 2;
	struct node_args a;

	save(argc, av);
	unsetenv("SLURM_PROCID");
	cr_assert_eq(sm__args_take(&argc, &av, &a), -2, "accepted without SLURM_PROCID");
	expect_unchanged(argc, av);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setenv("SLURM_PROCID", bad[i], 1);
		cr_assert_eq(sm__args_take(&argc, &av, &a), -2, "SLURM_PROCID=%s accepted", bad[i]);
		expect_unchanged(argc, av);
	}
	/* the rest of the token is checked as ever */
	setenv("SLURM_PROCID", "1", 1);
	expect_reject("--dsm-node=slurm,0,4242,head");
	expect_reject("--dsm-node=slurm,8,0,head");
	expect_reject("--dsm-node=slurm,8,4242,");
	expect_reject("--dsm-node=slurm8,4242,head");
	expect_reject("--dsm-node=SLURM,8,4242,head");
}
