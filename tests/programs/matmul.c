/*
 * matmul.c - C = A x B with doubles, rows split among the nodes.
 *
 * Node 0 allocates A, B and C (n x n, n = 96 or argv[1]) and a struct holding
 * n and the three pointers, fills A and B with small integer values (so every
 * product is exact) and broadcasts the struct. Each node computes its block
 * of rows of C. After a barrier every node checks every element of C, A and
 * B against values computed sequentially in private memory.
 */
#define _GNU_SOURCE
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

int main(int argc, char *argv[])
{
	join(&argc, &argv);

	long n = number_arg(argc, argv, 96, 1, 2000, "matmul [N], 1 <= N <= 2000");
	size_t nn = (size_t)n * (size_t)n;

	struct job *job = NULL;
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

	/* Compute rows [lo, hi) into a private row, then store it. */
	long lo = (long)nid * n / nodes, hi = (long)(nid + 1) * n / nodes;
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
				int owner = 0;
				while ((long)(owner + 1) * n / nodes <= i)
					owner++;
				fail("C[%ld][%ld] = %g, expected %g (a row of node %d)", i, j,
				     c[i * n + j], pc[i * n + j], owner);
			}
			if (a[i * n + j] != pa[i * n + j])
				fail("A[%ld][%ld] = %g, expected %g", i, j, a[i * n + j], pa[i * n + j]);
			if (b[i * n + j] != pb[i * n + j])
				fail("B[%ld][%ld] = %g, expected %g", i, j, b[i * n + j], pb[i * n + j]);
		}

	free(row);
	free(pa);
	free(pb);
	free(pc);
	sm_barrier();
	sm_node_exit();
	return 0;
}
