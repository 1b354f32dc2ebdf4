/*
 * linger.c - a node that stays in the job until told to stop, for
 * tests/failures.sh.
 *
 * usage: dsm -n N ./linger DIR [hold|exit]
 *
 * Every node joins and writes its pid into DIR/node.K (through a temporary
 * name and rename(), so a reader never sees a partial file). Node 0 allocates
 * a shared counter and broadcasts it. Then every node loops: add 1 to the
 * counter, sm_barrier(), stop once DIR/stop exists, sleep 20 ms. At the end
 * it leaves with sm_node_exit() and prints "linger: node K done".
 *
 * With "hold" (at least 3 nodes), node 2 writes a page of its own that
 * nobody else touches, so it holds the only copy; the loop has no barrier,
 * and once DIR/touch exists every other node reads that page. The test kills
 * node 2 first: the others then fault on a lost page and die too.
 *
 * With "exit" (at least 2 nodes), node 1 takes no part in the loop: after
 * the broadcast it creates DIR/ready.1, waits (without calling libsm) for
 * DIR/exit and ends with _exit(0), without sm_node_exit, while the others
 * wait for it in the first barrier. dsm must end the job ("exited without
 * leaving the job"), not let them wait forever.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sm.h"

static int write_pid(const char *dir, int nid)
{
	char tmp[4096], final[4096];
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%s/.node.%d.tmp", dir, nid) >= (int)sizeof(tmp) ||
	    snprintf(final, sizeof(final), "%s/node.%d", dir, nid) >= (int)sizeof(final))
		return -1;
	f = fopen(tmp, "w");
	if (!f)
		return -1;
	if (fprintf(f, "%ld\n", (long)getpid()) < 0) {
		fclose(f);
		return -1;
	}
	if (fclose(f) != 0)
		return -1;
	return rename(tmp, final);
}

int main(int argc, char *argv[])
{
	int nodes, nid;
	long *counter = NULL;
	char stop[4096], touch[4096], quit[4096], ready[4096];
	volatile long *hot = NULL;
	int hold, quit_early;

	if (sm_node_init(&argc, &argv, &nodes, &nid) != 0)
		return 1;
	hold = argc == 3 && strcmp(argv[2], "hold") == 0;
	quit_early = argc == 3 && strcmp(argv[2], "exit") == 0;
	if ((argc != 2 && !hold && !quit_early) || (hold && nodes < 3) ||
	    (quit_early && nodes < 2)) {
		fprintf(stderr, "usage: dsm -n N linger DIR [hold|exit] (hold: N >= 3; exit: N >= 2)\n");
		return 2;
	}
	if (snprintf(stop, sizeof(stop), "%s/stop", argv[1]) >= (int)sizeof(stop) ||
	    snprintf(touch, sizeof(touch), "%s/touch", argv[1]) >= (int)sizeof(touch) ||
	    snprintf(quit, sizeof(quit), "%s/exit", argv[1]) >= (int)sizeof(quit) ||
	    snprintf(ready, sizeof(ready), "%s/ready.1", argv[1]) >= (int)sizeof(ready)) {
		fprintf(stderr, "linger: %s: name too long\n", argv[1]);
		return 2;
	}
	if (write_pid(argv[1], nid) < 0) {
		perror("linger: writing the pid file");
		return 1;
	}
	if (nid == 0) {
		counter = sm_malloc(sizeof(*counter));
		if (!counter) {
			fprintf(stderr, "linger: sm_malloc failed\n");
			return 1;
		}
	}
	sm_bcast((void **)&counter, 0);
	if (quit_early && nid == 1) {
		int fd = open(ready, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd < 0 || close(fd) < 0) {
			perror("linger: creating ready.1");
			return 1;
		}
		while (access(quit, F_OK) != 0)
			usleep(20000);
		_exit(0); /* leaves without sm_node_exit */
	}
	if (hold) {
		if (nid == 2) {
			hot = sm_malloc(4096); /* fresh pages start writable here */
			if (!hot) {
				fprintf(stderr, "linger: sm_malloc failed\n");
				return 1;
			}
			*hot = 42;
		}
		sm_bcast((void **)&hot, 2);
		while (access(stop, F_OK) != 0) {
			if (nid != 2 && access(touch, F_OK) == 0 && *hot != 42)
				return 1;
			usleep(20000);
		}
		sm_node_exit();
		printf("linger: node %d done\n", nid);
		return 0;
	}
	for (;;) {
		__atomic_fetch_add(counter, 1, __ATOMIC_SEQ_CST);
		sm_barrier();
		if (access(stop, F_OK) == 0)
			break;
		usleep(20000);
	}
	sm_node_exit();
	printf("linger: node %d done\n", nid);
	return 0;
}
