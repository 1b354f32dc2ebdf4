/*
 * openmp.c - an OpenMP program inside every node (built with -fopenmp:
 * libgomp with gcc, libomp with clang): OpenMP's threads share the node's
 * copy of every page.
 *
 * usage: dsm -n N ./openmp [THREADS]      (THREADS: 1..16, default 4)
 *
 * Node 0 allocates x (X doubles) and fills it; every node computes its
 * block of rows of y = A x (A from a formula, so every value is an exact
 * integer) with `omp parallel for`, its threads writing y in shared memory,
 * and counts every row in one shared counter with `omp atomic`. After a
 * barrier every node checks each element of y, the counter (exactly X),
 * and a sum of y computed with an OpenMP reduction.
 */
#include <omp.h>
#include <stdint.h>

#include "check.h"

#define X 4096

struct data {
	double x[X], y[X];
	long rows; /* rows computed, all nodes together */
};

static double a_val(long i, long j)
{
	return (double)((i * 3 + j * 7) % 5 - 2);
}

int main(int argc, char *argv[])
{
	struct data *d = NULL;
	double want_sum = 0, sum = 0;

	join(&argc, &argv);
	int threads = (int)number_arg(argc, argv, 4, 1, 16, "openmp [THREADS]");

	omp_set_num_threads(threads);
	if (nid == 0) {
		d = shared_alloc(sizeof(*d));
		for (long j = 0; j < X; j++)
			d->x[j] = (double)(j % 9);
	}
	bcast_pointer(&d, 0);
	long lo = (long)nid * X / nodes, hi = (long)(nid + 1) * X / nodes;

#pragma omp parallel for schedule(static)
	for (long i = lo; i < hi; i++) {
		double s = 0;

		for (long j = 0; j < X; j += 16)
			s += a_val(i, j) * d->x[j];
		d->y[i] = s;
#pragma omp atomic
		d->rows++;
	}
	sm_barrier();

	for (long i = 0; i < X; i++) {
		double s = 0;

		for (long j = 0; j < X; j += 16)
			s += a_val(i, j) * (double)(j % 9);
		if (d->y[i] != s)
			fail("y[%ld] = %g, expected %g", i, d->y[i], s);
		want_sum += s;
	}
	if (d->rows != X)
		fail("rows = %ld, expected %d", d->rows, X);
#pragma omp parallel for reduction(+ : sum)
	for (long i = 0; i < X; i++)
		sum += d->y[i];
	if (sum != want_sum)
		fail("the reduction gave %g, expected %g", sum, want_sum);
	sm_barrier();
	printf("openmp: node %d, %d threads ok\n", nid, threads);
	return 0;
}
