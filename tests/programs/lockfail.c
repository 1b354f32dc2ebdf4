/*
 * lockfail.c - misuse of sm_lock_t and sm_cond_t, and locks whose holder
 * goes, for tests/failures.d/locks.sh. Each mode must end the job with
 * status 1 (137 for "killed") and a message from libsm naming the lock.
 *
 * usage: dsm -n N ./lockfail MODE [DIR]
 *
 *   unlock      node N-1 unlocks a lock it never took
 *   relock      node N-1 locks a lock twice
 *   outside     node N-1 locks an sm_lock_t on its stack
 *   misaligned  node N-1 locks an address 4 bytes into shared memory
 *   condwait    node N-1 waits on a condition without holding the lock
 *   before      every node calls sm_lock before sm_node_init
 *   exit        node 1 takes a lock and leaves (sm_node_exit) holding it;
 *               every other node then locks it and must fail, naming node 1
 *   killed      node 1 takes a lock; after a barrier every node writes its
 *               pid into DIR/node.K and the others lock it; the test kills
 *               node 1, and the others must fail, naming node 1
 * (exit and killed need at least 2 nodes)
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sm.h"
#include "check.h"

int main(int argc, char *argv[])
{
	const char *mode;
	struct {
		sm_lock_t lock;
		sm_cond_t cond;
	} *s;
	sm_lock_t mine = SM_LOCK_INITIALIZER;

	/* (before sm_node_init, dsm's own argument comes first) */
	if (argc > 2 && strcmp(argv[2], "before") == 0)
		sm_lock(&mine); /* ends the process */
	join(&argc, &argv);
	mode = argc > 1 ? argv[1] : "";
	s = shared_from_node0(sizeof(*s));
	int last = nid == nodes - 1;

	if (strcmp(mode, "unlock") == 0) {
		if (last)
			sm_unlock(&s->lock);
	} else if (strcmp(mode, "relock") == 0) {
		if (last) {
			sm_lock(&s->lock);
			sm_lock(&s->lock);
		}
	} else if (strcmp(mode, "outside") == 0) {
		if (last)
			sm_lock(&mine);
	} else if (strcmp(mode, "misaligned") == 0) {
		if (last)
			sm_lock((sm_lock_t *)((char *)s + 4));
	} else if (strcmp(mode, "condwait") == 0) {
		if (last)
			sm_cond_wait(&s->cond, &s->lock);
	} else if (strcmp(mode, "exit") == 0 || strcmp(mode, "killed") == 0) {
		int killed = mode[0] == 'k';

		if (nodes < 2 || (killed && argc < 3))
			fail("usage: lockfail %s%s with at least 2 nodes", mode, killed ? " DIR" : "");
		if (nid == 1)
			sm_lock(&s->lock);
		sm_barrier();
		if (killed)
			write_pid_file(argv[2]);
		if (nid == 1) {
			if (killed)
				for (;;)
					pause(); /* until killed */
			sm_node_exit();
			return 0;
		}
		sm_lock(&s->lock); /* must fail: node 1 never unlocks it */
		fail("sm_lock returned a lock its holder took away");
	} else {
		fail("usage: lockfail unlock|relock|outside|misaligned|condwait|before|exit|killed "
		     "[DIR]");
	}
	if (last)
		fail("mode %s: no error", mode);
	/* the others wait (outside libsm) for dsm to end the job */
	for (;;)
		pause();
}
