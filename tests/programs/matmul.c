/*
 * matmul.c - C = A x B with doubles, rows split among the nodes and, inside
 * each node, among its threads.
 *
 * usage: matmul [N [THREADS]]   (N = 96, THREADS = 1 by default; 1..16)
 *
 * Node 0 allocates A, B and C (n x n) and a struct holding n and the three
 * pointers, fills A and B with small integer values (so every product is
 * exact) and broadcasts the struct. Each of the N x THREADS workers (worker
 * nid * THREADS + t) computes its block of rows of C, threads of one node
 * and of different nodes writing rows that share pages. After a barrier
 * every node checks every element of C, A and B against values computed
 * sequentially in private memory.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sm.h"
#include "check.h"


struct job {
	long n;
	double *a, *b, *c;
};

static double a_val(long i, long j)
{
	return (double)((i * 7 + j * 3) % 11 - 5);
}

static double b_val(long i, long j)
{
	return (double)((i * 5 + j * 2) % 13 - 6);
}

static void *xmalloc(size_t size)
{
	void *p = malloc(size);
	if (p == NULL)
		fail("out of private memory");
	return p;
}

#define MAX_THREADS 16

static struct job *job;
static long nthreads = 1;

/* Worker t of this node: rows [lo, hi) of C, through a private row. */
static void *rows(void *arg)
{
	long t = (long)(intptr_t)arg, n = job->n, workers = (long)nodes * nthreads;
	long w = (long)nid * nthreads + t;
	long lo = w * n / workers, hi = (w + 1) * n / workers;
	const double *a = job->a, *b = job->b;
	double *c = job->c;
	double *row = xmalloc((size_t)n * sizeof(double));

	for (long i = lo; i < hi; i++) {
		for (long j = 0; j < n; j++)
			row[j] = 0.0;
		for (long k = 0; k < n; k++) {
			double aik = a[i * n + k];
			for (long j = 0; j < n; j++)
				row[j] += aik * b[k * n + j];
		}
		for (long j = 0; j < n; j++) {
			if (c[i * n + j] != 0.0)
				fail("fresh C[%ld][%ld] = %g, expected 0", i, j, c[i * n + j]);
			c[i * n + j] = row[j];
		}
	}
	free(row);
	return NULL;
}

int main(int argc, char *argv[])
{
	pthread_t th[MAX_THREADS];

	join(&argc, &argv);

	long n = number_arg(argc > 2 ? 2 : argc, argv, 96, 1, 2000,
			    "matmul [N [THREADS]], 1 <= N <= 2000");
	size_t nn = (size_t)n * (size_t)n;

	if (argc > 3)
		fail("usage: matmul [N [THREADS]]");
	if (argc == 3) {
		char *end;

		nthreads = strtol(argv[2], &end, 10);
		if (*argv[2] == '\0' || *end != '\0' || nthreads < 1 || nthreads > MAX_THREADS)
			fail("usage: matmul [N [THREADS]], 1 <= THREADS <= %d (got '%s')",
			     MAX_THREADS, argv[2]);
	}

	if (nid == 0) {
		job = shared_alloc(sizeof(*job));
		job->n = n;
		job->a = shared_alloc(nn * sizeof(double));
		job->b = shared_alloc(nn * sizeof(double));
		job->c = shared_alloc(nn * sizeof(double));
		for (long i = 0; i < n; i++)
			for (long j = 0; j < n; j++) {
				job->a[i * n + j] = a_val(i, j);
				job->b[i * n + j] = b_val(i, j);
			}
	}
	sm_bcast((void **)&job, 0);
	if (job == NULL)
		fail("sm_bcast gave a NULL job pointer");
	if (job->n != n)
		fail("job->n = %ld, expected %ld", job->n, n);
	const double *a = job->a, *b = job->b;
	double *c = job->c;

	/* the main thread is worker 0 of its node */
	for (long t = 1; t < nthreads; t++)
		if (pthread_create(&th[t], NULL, rows, (void *)(intptr_t)t) != 0)
			fail("pthread_create failed");
	rows((void *)0);
	for (long t = 1; t < nthreads; t++)
		pthread_join(th[t], NULL);
	sm_barrier();

	/* Sequential reference in private memory, from the formulas. */
	double *pa = xmalloc(nn * sizeof(double));
	double *pb = xmalloc(nn * sizeof(double));
	double *pc = xmalloc(nn * sizeof(double));
	for (long i = 0; i < n; i++)
		for (long j = 0; j < n; j++) {
			pa[i * n + j] = a_val(i, j);
			pb[i * n + j] = b_val(i, j);
			pc[i * n + j] = 0.0;
		}
	for (long i = 0; i < n; i++)
		for (long k = 0; k < n; k++)
			for (long j = 0; j < n; j++)
				pc[i * n + j] += pa[i * n + k] * pb[k * n + j];

	for (long i = 0; i < n; i++)
		for (long j = 0; j < n; j++) {
			if (c[i * n + j] != pc[i * n + j]) {
				long workers = (long)nodes * nthreads, owner = 0;
				while ((owner + 1) * n / workers <= i)
					owner++;
				fail("C[%ld][%ld] = %g, expected %g (a row of node %ld, thread %ld)", i,
				     j, c[i * n + j], pc[i * n + j], owner / nthreads, owner % nthreads);
			}
			if (a[i * n + j] != pa[i * n + j])
				fail("A[%ld][%ld] = %g, expected %g", i, j, a[i * n + j], pa[i * n + j]);
			if (b[i * n + j] != pb[i * n + j])
				fail("B[%ld][%ld] = %g, expected %g", i, j, b[i * n + j], pb[i * n + j]);
		}

	free(pa);
	free(pb);
	free(pc);
	sm_barrier();
	sm_node_exit();
	return 0;
}
