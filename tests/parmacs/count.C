/*
 * count.C - SPLASH-2 style without barriers: the master creates P-1
 * processes one call at a time and then runs the worker itself. Each process
 * takes a number from a counter under a lock, adds its node id + 1 to a
 * total, allocates memory of its own (after the processes started, each
 * allocation is private to its process) and takes subscripts 0 .. LAST from
 * a global subscript until it gets -1. The master checks the numbers, the
 * total, that the allocations are distinct and hold what their owner wrote,
 * and that every subscript was handed out exactly once.
 *
 * usage: dsm -n P ./parmacs-count P
 */
#include <stdio.h>
#include <stdlib.h>

#include "pmcheck.h"

MAIN_ENV

#define MAX_PROCS 1024
#define LAST 299

struct global {
	LOCKDEC(count_lock)
	GSDEC(sub)
	long next_id;                   /* numbers handed out */
	long total;                     /* of node id + 1 */
	long *own[MAX_PROCS];           /* per process number: its allocation */
	long handed[LAST + 1];          /* how often each subscript was handed out */
};

static struct global *gl;
static long nprocs;

static void Work(void)
{
	long me, pid, s, *mem;
	unsigned long before, after;

	CLOCK(before)
	AUG_ON
	GET_PID(pid);
	LOCK(gl->count_lock)
	me = gl->next_id++;
	gl->total += pid + 1;
	UNLOCK(gl->count_lock)
	if (me >= MAX_PROCS)
		fail("process number %ld", me);
	mem = (long *) G_MALLOC(64 * sizeof(long));
	if (mem == NULL)
		fail("out of shared memory");
	for (s = 0; s < 64; s++)
		mem[s] = me * 1000 + s;
	gl->own[me] = mem;
	for (;;) {
		GETSUB(gl->sub, s, LAST, nprocs)
		if (s < 0)
			break;
		if (s > LAST)
			fail("subscript %ld", s);
		__atomic_fetch_add(&gl->handed[s], 1, __ATOMIC_SEQ_CST);
	}
	AUG_OFF
	CLOCK(after)
	if (after < before)
		fail("the clock went back from %lu to %lu", before, after);
}

int main(int argc, char **argv)
{
	long i, j;

	program_name = "parmacs-count";
	if (argc != 2)
		fail("usage: parmacs-count P");
	nprocs = number(argv[1], 1, MAX_PROCS, "P");
	MAIN_INITENV(,1000000)
	gl = (struct global *) G_MALLOC(sizeof(struct global));
	if (gl == NULL)
		fail("out of shared memory");
	LOCKINIT(gl->count_lock)
	GSINIT(gl->sub)

	for (i = 1; i < nprocs; i++)
		CREATE(Work)
	Work();
	WAIT_FOR_END(nprocs - 1)

	if (gl->next_id != nprocs || gl->total != nprocs * (nprocs + 1) / 2)
		fail("%ld numbers handed out, node ids + 1 add up to %ld; expected %ld and %ld",
		     gl->next_id, gl->total, nprocs, nprocs * (nprocs + 1) / 2);
	for (i = 0; i < nprocs; i++)
		for (j = 0; j < 64; j++)
			if (gl->own[i][j] != i * 1000 + j)
				fail("the memory of process %ld holds %ld at %ld, expected %ld (shared "
				     "with another?)", i, gl->own[i][j], j, i * 1000 + j);
	for (i = 0; i <= LAST; i++)
		if (gl->handed[i] != 1)
			fail("subscript %ld was handed out %ld times", i, gl->handed[i]);
	printf("parmacs-count: ok: %ld processes, total %ld, %d subscripts once each\n", nprocs,
	       gl->total, LAST + 1);
	MAIN_END
}
