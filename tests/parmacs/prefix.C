/*
 * prefix.C - a parallel prefix sum over an array of locks, SPLASH-3 style,
 * with main(void): P is the number of nodes, asked of the run-time.
 * The input is cut into BLOCKS blocks, dealt to the processes round-robin.
 * Each process sums its blocks in place (a running sum inside the block) and
 * adds each block total into the offset of every later block, each offset
 * under its own lock of the lock array (many processes add into the same
 * offsets at once). After a barrier each process adds its blocks offsets.
 * The master checks every element against a sequential prefix sum, exactly.
 * The input is written in the start-up by the master only.
 *
 * usage: dsm -n P ./parmacs-prefix
 */
#include <stdio.h>
#include <stdlib.h>

#include "pmcheck.h"

MAIN_ENV

#define BLOCKS 32
#define BLOCK_LEN 500
#define ELEMENTS (BLOCKS * BLOCK_LEN)

struct global {
	ALOCKDEC(offset_lock, BLOCKS)
	BARDEC(phase)
	long offset[BLOCKS];    /* sum of every element before the block */
};

static struct global *gl;
static long *data;              /* ELEMENTS: the input, then its prefix sums */
static long nprocs;

static long input(long i)
{
	return (i * 7919) % 1000 - 500;
}

static void worker(void)
{
	long me, b, q, i;

	GET_PID(me);
	for (b = me; b < BLOCKS; b += nprocs) {
		long *block = data + b * BLOCK_LEN;

		for (i = 1; i < BLOCK_LEN; i++)
			block[i] += block[i - 1];
		for (q = b + 1; q < BLOCKS; q++) {
			ALOCK(gl->offset_lock, q)
			gl->offset[q] += block[BLOCK_LEN - 1];
			AULOCK(gl->offset_lock, q)
		}
	}
	BARRIER(gl->phase, nprocs)
	for (b = me; b < BLOCKS; b += nprocs)
		for (i = 0; i < BLOCK_LEN; i++)
			data[b * BLOCK_LEN + i] += gl->offset[b];
}

int main(void)
{
	long i, sum = 0;

	program_name = "parmacs-prefix";
	MAIN_INITENV(,4000000)
	nprocs = sm_parmacs_nodes();
	gl = (struct global *) G_MALLOC(sizeof(struct global));
	data = (long *) G_MALLOC(ELEMENTS * sizeof(long));
	if (gl == NULL || data == NULL)
		fail("out of shared memory");
	ALOCKINIT(gl->offset_lock, BLOCKS)
	BARINIT(gl->phase, nprocs)
	/* shared writes in the start-up: the master only */
	if (sm_parmacs_is_master())
		for (i = 0; i < ELEMENTS; i++)
			data[i] = input(i);

	CREATE(worker, nprocs)
	WAIT_FOR_END(nprocs)

	for (i = 0; i < ELEMENTS; i++) {
		sum += input(i);
		if (data[i] != sum)
			fail("element %ld is %ld, expected %ld", i, data[i], sum);
	}
	printf("parmacs-prefix: ok: %ld processes, %d elements in %d blocks, last sum %ld\n",
	       nprocs, ELEMENTS, BLOCKS, sum);
	MAIN_END
}
