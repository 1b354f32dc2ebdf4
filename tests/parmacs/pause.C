/*
 * pause.C - producers and consumers over event flags, SPLASH-3 style, with a
 * main that takes no arguments (so P is the number of nodes, asked of the
 * run-time). Process p sends ITEMS items to process p+1 (mod P) through a
 * one-item mailbox with two flags: the sender waits until the mailbox is
 * empty, clears that flag, writes the item and sets full; the receiver waits
 * until it is full, clears that flag, reads and sets empty. Every item must
 * arrive in order; the master checks each process sum, exactly. The empty
 * flags are set in the start-up, by the master only.
 *
 * usage: dsm -n P ./parmacs-pause
 */
#include <stdio.h>
#include <stdlib.h>

#include "pmcheck.h"

MAIN_ENV

#define ITEMS 200

struct mailbox {
	PAUSEDEC(full)
	PAUSEDEC(empty)
	long item;
};

struct global {
	BARDEC(start)
	long received[1024];    /* per process: the sum of what it received */
};

static struct global *gl;
static struct mailbox *box;     /* one per process: what it receives */
static long nprocs;

static long item_of(long sender, long i)
{
	return sender * 100000 + i;
}

static void worker(void)
{
	long me, to, from, i, got, sum = 0;

	GET_PID(me);
	to = (me + 1) % nprocs;
	from = (me + nprocs - 1) % nprocs;
	for (i = 0; i < ITEMS; i++) {
		WAITPAUSE(box[to].empty)
		CLEARPAUSE(box[to].empty)
		box[to].item = item_of(me, i);
		SETPAUSE(box[to].full)

		WAITPAUSE(box[me].full)
		CLEARPAUSE(box[me].full)
		got = box[me].item;
		SETPAUSE(box[me].empty)
		if (got != item_of(from, i))
			fail("item %ld from process %ld is %ld, expected %ld", i, from, got,
			     item_of(from, i));
		sum += got;
	}
	gl->received[me] = sum;
}

int main()
{
	long p;

	program_name = "parmacs-pause";
	MAIN_INITENV(,4000000)
	nprocs = sm_parmacs_nodes();
	gl = (struct global *) G_MALLOC(sizeof(struct global));
	box = (struct mailbox *) G_MALLOC(nprocs * sizeof(struct mailbox));
	if (gl == NULL || box == NULL)
		fail("out of shared memory");
	for (p = 0; p < nprocs; p++) {
		PAUSEINIT(box[p].full)
		PAUSEINIT(box[p].empty)
	}
	/* shared writes in the start-up: the master only */
	if (sm_parmacs_is_master())
		for (p = 0; p < nprocs; p++)
			SETPAUSE(box[p].empty)

	CREATE(worker, nprocs)
	WAIT_FOR_END(nprocs)

	for (p = 0; p < nprocs; p++) {
		long from = (p + nprocs - 1) % nprocs;
		long want = from * 100000 * ITEMS + (long)ITEMS * (ITEMS - 1) / 2;

		if (gl->received[p] != want)
			fail("process %ld received %ld in sum, expected %ld", p, gl->received[p], want);
	}
	printf("parmacs-pause: ok: %ld processes passed %d items each\n", nprocs, ITEMS);
	MAIN_END
}
