/*
 * txnfail.c - transactions that end badly (tests/failures.d/txn.sh).
 *
 * usage: dsm -n N ./txnfail MODE [DIR]
 *
 *   killed DIR FIFOS  (4 nodes) node 0 writes A = 1, B = 2 and C = 3 (three
 *               pages). Node 1 begins a transaction, reads C, writes
 *               A = 101 and B = 102, writes its pid file DIR/node.1 and
 *               waits inside the transaction until it is killed. The
 *               others write their pid files and wait on the fifos
 *               FIFOS/go.K, whose lines the test writes:
 *                 go.2 (node 1 alive, inside): node 2 reads A and prints it;
 *                 then node 1 is killed;
 *                 go.0: node 0 reads A and C and prints them;
 *                 go.3: node 3 reads B: node 1 held it writable and died.
 *               Every value printed is the one before the transaction.
 *   barrier     node 0 calls sm_barrier inside a transaction.
 *   commit      node 0 calls sm_txn_commit outside any transaction.
 *   fpe         node 0's transaction divides by zero at every run.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sm.h"
#include "check.h"

/* Block until the test writes a line into FIFOS/go.K. */
static void wait_go(const char *dir)
{
	char path[4096], line[16];
	FILE *f;

	snprintf(path, sizeof(path), "%s/go.%d", dir, nid);
	f = fopen(path, "r");
	if (!f || !fgets(line, sizeof(line), f))
		fail("cannot read %s", path);
	fclose(f);
}

static volatile long divisor;
static volatile long sink;

__attribute__((no_sanitize("integer-divide-by-zero"))) static void divide_by_zero(void)
{
	sink = 100 / divisor;
}

int main(int argc, char *argv[])
{
	const char *mode;
	volatile long *volatile page;
	sm_txn_t t;

	join(&argc, &argv);
	mode = argc > 1 ? argv[1] : "";
	if (strcmp(mode, "barrier") == 0) {
		if (nid == 0) {
			SM_TXN_BEGIN(&t);
			sm_barrier();
			sm_txn_commit(&t);
		}
		sm_barrier();
	} else if (strcmp(mode, "commit") == 0) {
		if (nid == 0)
			sm_txn_commit(&t);
	} else if (strcmp(mode, "fpe") == 0) {
		if (nid == 0) {
			page = shared_alloc(sizeof(long));
			SM_TXN_BEGIN(&t);
			*page = 1;
			divide_by_zero();
			sm_txn_commit(&t);
		}
	} else if (strcmp(mode, "killed") == 0 && argc > 3 && nodes == 4) {
		volatile long *volatile a, *volatile b, *volatile c;
		long seen;

		page = shared_pages_from_node0(3);
		a = page;
		b = page + page_size() / sizeof(long);
		c = page + 2 * page_size() / sizeof(long);
		if (nid == 0) {
			*a = 1;
			*b = 2;
			*c = 3;
		}
		sm_barrier();
		if (nid == 1) {
			SM_TXN_BEGIN(&t);
			seen = *c;
			*a = 100 + seen - 2;
			*b = 102;
			write_pid_file(argv[2]);
			for (;;)
				pause(); /* until killed, inside the transaction */
		}
		write_pid_file(argv[2]);
		wait_go(argv[3]);
		if (nid == 2) {
			printf("txnfail: node 2: A = %ld while node 1 was inside its transaction\n", *a);
		} else if (nid == 0) {
			printf("txnfail: node 0: A = %ld, C = %ld after node 1 died\n", *a, *c);
		} else {
			seen = *b;
			printf("txnfail: node 3: B = %ld after node 1 died\n", seen);
		}
		for (;;)
			pause(); /* until the job ends */
	} else {
		fail("usage: txnfail killed DIR FIFOS (4 nodes) | barrier | commit | fpe");
	}
	sm_node_exit();
	return 0;
}
