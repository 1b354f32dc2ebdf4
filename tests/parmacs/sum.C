/*
 * sum.C - the worked example of docs/porting.md and dsm-porting(7), after
 * the port (keep the three in step): the master prints in the start-up,
 * writes shared memory there, and the time process 0 measures lives in
 * shared memory, not in a global of its node.
 *
 * usage: dsm -n 4 ./parmacs-sum -p 4
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

MAIN_ENV

#define N 100000

struct GlobalMemory {
	LOCKDEC(lock)
	BARDEC(start)
	double sum;
	long next_id;
	double elapsed;         /* written by process 0, read by the master */
} *Global;
double *a;
long P = 1;

void Work(void)
{
	long id, i;
	double part = 0;
	unsigned long t0, t1;

	LOCK(Global->lock)
	id = Global->next_id++;
	UNLOCK(Global->lock)
	BARRIER(Global->start, P)
	CLOCK(t0)
	for (i = id; i < N; i += P)
		part += a[i];
	LOCK(Global->lock)
	Global->sum += part;
	UNLOCK(Global->lock)
	BARRIER(Global->start, P)
	CLOCK(t1)
	if (id == 0)
		Global->elapsed = (t1 - t0) / 1e6;
}

int main(int argc, char *argv[])
{
	int c;
	long i;

	while ((c = getopt(argc, argv, "p:")) != -1)
		if (c == 'p')
			P = atol(optarg);
	MAIN_INITENV(,1000000)
	if (sm_parmacs_is_master())
		printf("summing %d numbers with %ld processes\n", N, P);
	Global = (struct GlobalMemory *) G_MALLOC(sizeof(struct GlobalMemory));
	a = (double *) G_MALLOC(N * sizeof(double));
	LOCKINIT(Global->lock)
	BARINIT(Global->start, P)
	if (sm_parmacs_is_master()) {
		Global->sum = 0;
		Global->next_id = 0;
		for (i = 0; i < N; i++)
			a[i] = i;
	}
	CREATE(Work, P)
	WAIT_FOR_END(P)
	printf("sum %.0f in %.6f s\n", Global->sum, Global->elapsed);
	MAIN_END
}
