/*
 * kernels.c - real kernels, timed end to end inside a dsm job and, built
 * with -DSEQUENTIAL, as the same code in plain C with malloc and no dsm:
 *   matmul N      C = A x B, doubles, i-k-j order, rows split among nodes
 *   matmul_ijk N  the same in the naive i-j-k order (B read by columns)
 *   jacobi N IT   2-D Jacobi stencil on an N x N grid, IT iterations, rows
 *                 split among nodes, a barrier per iteration
 * Node 0 prints a RESULT line with the time of the parallel part (setup by
 * node 0 excluded) and a CHECK line with a checksum of the answer, read
 * after the timed part; bench/run.sh compares it with the plain C one.
 * Usage: dsm -n P kernels matmul 512 | matmul_ijk 512 | jacobi 2048 100 ;
 *        kernels_seq the same
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"
#ifndef SEQUENTIAL
#include "sm.h"
#else
/* one node, no dsm: the same code paths with plain memory */
static int sm_node_init(int *c, char ***v, int *n, int *id) { (void)c, (void)v; *n = 1; *id = 0; return 0; }
static void *sm_malloc(size_t n) { return calloc(1, n); }
static void sm_barrier(void) {}
static void sm_bcast(void **a, int r) { (void)a, (void)r; }
static void sm_node_exit(void) {}
#endif

static int nodes, me;

#ifdef SEQUENTIAL
#define VARIANT "seq"
#else
#define VARIANT "dsm"
#endif

struct mm { double *a, *b, *c; };

static void *shared(size_t size)
{
	void *p = sm_malloc(size);

	if (!p) {
		fprintf(stderr, "kernels: out of shared memory (%zu bytes)\n", size);
		exit(1);
	}
	return p;
}

/* ijk = 0: i-k-j, rows of B streamed; ijk = 1: i-j-k, a dot product per element */
static void matmul(int n, int ijk)
{
	struct mm *m = NULL;
	int lo = n * me / nodes, hi = n * (me + 1) / nodes;
	double t0, t;

	if (me == 0) {
		m = shared(sizeof(*m));
		m->a = shared(sizeof(double) * (size_t)n * (size_t)n);
		m->b = shared(sizeof(double) * (size_t)n * (size_t)n);
		m->c = shared(sizeof(double) * (size_t)n * (size_t)n);
		for (int i = 0; i < n * n; i++) {
			m->a[i] = (double)(i % 7);
			m->b[i] = (double)(i % 5);
		}
	}
	sm_bcast((void **)&m, 0);
	t0 = now_us();
	for (int i = lo; i < hi && ijk; i++) {
		const double *ai = m->a + (size_t)i * (size_t)n;

		for (int j = 0; j < n; j++) {
			double sum = 0;

			for (int k = 0; k < n; k++)
				sum += ai[k] * m->b[(size_t)k * (size_t)n + (size_t)j];
			m->c[(size_t)i * (size_t)n + (size_t)j] = sum;
		}
	}
	for (int i = lo; i < hi && !ijk; i++) {
		double *ci = m->c + (size_t)i * (size_t)n;

		for (int j = 0; j < n; j++)
			ci[j] = 0;
		for (int k = 0; k < n; k++) {
			double aik = m->a[(size_t)i * (size_t)n + (size_t)k];
			const double *bk = m->b + (size_t)k * (size_t)n;

			for (int j = 0; j < n; j++)
				ci[j] += aik * bk[j];
		}
	}
	sm_barrier();
	t = now_us() - t0;
	if (me == 0) {
		double sum = 0;

		for (int i = 0; i < n * n; i++)
			sum += m->c[i];
		printf("RESULT name=%s_%d_%s_p%d seconds=%.4f\n", ijk ? "matmul_ijk" : "matmul", n,
		       VARIANT, nodes, t / 1e6);
		printf("CHECK name=%s_%d checksum=%.1f\n", ijk ? "matmul_ijk" : "matmul", n, sum);
	}
}

static void jacobi(int n, int iters)
{
	double **g = NULL;
	int lo = 1 + (n - 2) * me / nodes, hi = 1 + (n - 2) * (me + 1) / nodes;
	double t0, t;

	if (me == 0) {
		g = shared(2 * sizeof(double *));
		g[0] = shared(sizeof(double) * (size_t)n * (size_t)n);
		g[1] = shared(sizeof(double) * (size_t)n * (size_t)n);
		for (int j = 0; j < n; j++) /* hot top edge */
			g[0][j] = g[1][j] = 100.0;
	}
	sm_bcast((void **)&g, 0);
	t0 = now_us();
	for (int it = 0; it < iters; it++) {
		const double *in = g[it % 2];
		double *out = g[(it + 1) % 2];

		for (int i = lo; i < hi; i++)
			for (int j = 1; j < n - 1; j++)
				out[(size_t)i * n + j] = 0.25 * (in[(size_t)(i - 1) * n + j] +
								 in[(size_t)(i + 1) * n + j] +
								 in[(size_t)i * n + j - 1] +
								 in[(size_t)i * n + j + 1]);
		sm_barrier();
	}
	t = now_us() - t0;
	if (me == 0) {
		double sum = 0;
		const double *last = g[iters % 2];

		for (int i = 0; i < n * n; i++)
			sum += last[i];
		printf("RESULT name=jacobi_%d_%s_p%d seconds=%.4f\n", n, VARIANT, nodes, t / 1e6);
		printf("CHECK name=jacobi_%d_%d checksum=%.6f\n", n, iters, sum);
	}
}

int main(int argc, char **argv)
{
	if (sm_node_init(&argc, &argv, &nodes, &me) != 0)
		return 1;
	if (argc > 2 && strcmp(argv[1], "matmul") == 0)
		matmul(atoi(argv[2]), 0);
	else if (argc > 2 && strcmp(argv[1], "matmul_ijk") == 0)
		matmul(atoi(argv[2]), 1);
	else if (argc > 3 && strcmp(argv[1], "jacobi") == 0)
		jacobi(atoi(argv[2]), atoi(argv[3]));
	else {
		fprintf(stderr, "usage: kernels matmul N | matmul_ijk N | jacobi N ITERATIONS\n");
		return 2;
	}
	sm_node_exit();
	return 0;
}
