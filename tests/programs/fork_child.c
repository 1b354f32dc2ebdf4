/*
 * fork_child.c - a node that fork()s: the child is not a node (sm(3), Fork).
 *
 * usage: dsm -n N ./fork_child exit|touch|call|daemon DIR
 *
 * Node 0 allocates one page per node and broadcasts it; every node writes its
 * own page (so it holds it writable) and the nodes meet in a barrier. Then
 * every node forks, and:
 *   exit    one child returns through exit(), another calls sm_node_exit()
 *           and then exit(): both must exit 0 without a word on the parent's
 *           link (libsm's exit handling must not run in a child);
 *   touch   one child reads the page its parent holds writable, one writes
 *           it, one reads the next node's page (which the parent does not
 *           hold): each must die of SIGSEGV (with libsm's message, which
 *           integration.sh checks), and the parent's page must be unchanged;
 *   call    one child calls sm_barrier(), one sm_malloc(), one sm_bcast():
 *           each must exit with status 1 (libsm's message: integration.sh);
 *   daemon  the child starts a session of its own, writes its pid into
 *           DIR/child.K and sleeps for 10 minutes holding the node's output
 *           pipes; the node writes DIR/node.K and returns from main without
 *           waiting for it. tests/failures.sh checks that dsm ends at once
 *           with status 0 and that no child is left behind.
 * In every mode but daemon the parents then keep using shared memory (a
 * second round of writes, barriers, node 0 checks every page) and leave
 * through exit(): the job must succeed.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

#define WORDS (4096 / sizeof(uint64_t))

static uint64_t value(int k, size_t i, int round)
{
	return ((uint64_t)(k + 1) << 40) | ((uint64_t)round << 32) | i;
}

/* fork; in the child run fn(arg) and exit 0 */
static pid_t spawn(void (*fn)(void *), void *arg)
{
	pid_t pid = fork();

	if (pid < 0)
		fail("fork: %s", strerror(errno));
	if (pid == 0) {
		fn(arg);
		exit(0);
	}
	return pid;
}

/* wait for pid; it must have exited with code, or (code < 0) died of -code */
static void expect_child(pid_t pid, int code, const char *what)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			fail("waitpid: %s", strerror(errno));
	if (code >= 0 && !(WIFEXITED(st) && WEXITSTATUS(st) == code))
		fail("the child that %s: status 0x%x, expected exit %d", what, st, code);
	if (code < 0 && !(WIFSIGNALED(st) && WTERMSIG(st) == -code))
		fail("the child that %s: status 0x%x, expected signal %d", what, st, -code);
}

static void child_exits(void *arg)
{
	(void)arg;
	printf("fork_child: a child of node %d returns through exit()\n", nid);
}

static void child_leaves(void *arg)
{
	(void)arg;
	sm_node_exit(); /* not a node: nothing to leave, nothing sent */
}

static void child_reads(void *arg)
{
	volatile uint64_t *p = arg;

	printf("fork_child: read %llx\n", (unsigned long long)p[1]);
	_exit(3); /* not reached: the read kills it */
}

static void child_writes(void *arg)
{
	volatile uint64_t *p = arg;

	p[1] = 0xbad;
	_exit(3);
}

static void child_barrier(void *arg)
{
	(void)arg;
	sm_barrier();
	_exit(3);
}

static void child_malloc(void *arg)
{
	(void)arg;
	sm_malloc(16);
	_exit(3);
}

static void child_bcast(void *arg)
{
	void *p = arg;

	sm_bcast(&p, 0);
	_exit(3);
}

static void write_file(const char *dir, const char *name, int k, long v)
{
	char tmp[4096], final[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s/.%s.%d.tmp", dir, name, k);
	snprintf(final, sizeof(final), "%s/%s.%d", dir, name, k);
	f = fopen(tmp, "w");
	if (!f || fprintf(f, "%ld\n", v) < 0 || fclose(f) != 0 || rename(tmp, final) != 0)
		fail("cannot write %s: %s", final, strerror(errno));
}

static void daemon_child(void *arg)
{
	const char *dir = arg;

	if (setsid() < 0)
		fail("setsid: %s", strerror(errno));
	write_file(dir, "child", nid, (long)getpid());
	sleep(600);
	fail("the daemon-style child of node %d outlived its node by 10 minutes", nid);
}

int main(int argc, char *argv[])
{
	uint64_t *pages;
	const char *mode;
	int r;

	join(&argc, &argv);
	if (argc < 2 || (strcmp(argv[1], "daemon") == 0 && argc != 3))
		fail("usage: fork_child exit|touch|call|daemon DIR");
	mode = argv[1];
	pages = page_align(shared_from_node0((size_t)(nodes + 1) * 4096));
	for (size_t i = 0; i < WORDS; i++)
		pages[(size_t)nid * WORDS + i] = value(nid, i, 1);
	sm_barrier();

	if (strcmp(mode, "exit") == 0) {
		expect_child(spawn(child_exits, NULL), 0, "returned through exit()");
		expect_child(spawn(child_leaves, NULL), 0, "called sm_node_exit()");
	} else if (strcmp(mode, "touch") == 0) {
		uint64_t *mine = pages + (size_t)nid * WORDS;
		uint64_t *next = pages + (size_t)((nid + 1) % nodes) * WORDS;

		expect_child(spawn(child_reads, mine), -SIGSEGV, "read its parent's page");
		expect_child(spawn(child_writes, mine), -SIGSEGV, "wrote its parent's page");
		if (nodes > 1)
			expect_child(spawn(child_reads, next), -SIGSEGV, "read an unheld page");
		if (mine[1] != value(nid, 1, 1))
			fail("a child's write changed the parent's page: %llx",
			     (unsigned long long)mine[1]);
	} else if (strcmp(mode, "call") == 0) {
		expect_child(spawn(child_barrier, NULL), 1, "called sm_barrier()");
		expect_child(spawn(child_malloc, NULL), 1, "called sm_malloc()");
		expect_child(spawn(child_bcast, pages), 1, "called sm_bcast()");
	} else if (strcmp(mode, "daemon") == 0) {
		char name[4096];

		spawn(daemon_child, argv[2]);
		snprintf(name, sizeof(name), "%s/child.%d", argv[2], nid);
		/* until the child is findable by the test (no protocol path) */
		for (int tries = 0; access(name, F_OK) != 0; tries++) {
			if (tries == 1000)
				fail("the child did not write %s within 10 s", name);
			nanosleep(&(struct timespec){.tv_nsec = 10000000}, NULL);
		}
		write_file(argv[2], "node", nid, (long)getpid());
		return 0; /* without waiting for the child */
	} else {
		fail("unknown mode '%s'", mode);
	}

	/* the parents are still nodes: a second round, checked by node 0 */
	sm_barrier();
	for (size_t i = 0; i < WORDS; i++)
		pages[(size_t)((nid + 1) % nodes) * WORDS + i] = value(nid, i, 2);
	sm_barrier();
	if (nid == 0)
		for (int k = 0; k < nodes; k++)
			for (size_t i = 0; i < WORDS; i++) {
				int writer = (k + nodes - 1) % nodes;

				r = pages[(size_t)k * WORDS + i] == value(writer, i, 2);
				if (!r)
					fail("page %d word %zu: %llx, expected %llx", k, i,
					     (unsigned long long)pages[(size_t)k * WORDS + i],
					     (unsigned long long)value(writer, i, 2));
			}
	printf("fork_child: node %d %s ok\n", nid, mode);
	return 0;
}
