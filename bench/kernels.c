/*
 * kernels.c - real kernels, timed end to end inside a dsm job and, built
 * with -DSEQUENTIAL, as the same code in plain C with malloc and no dsm:
 *   matmul N      C = A x B, doubles, i-k-j order, rows split among nodes
 *   matmul_ijk N  the same in the naive i-j-k order (B read by columns)
 *   jacobi N IT   2-D Jacobi stencil on an N x N grid, IT iterations, rows
 *                 split among nodes, a barrier per iteration
 * With -t T each node (or plain C) splits its rows among T threads, which
 * share the node's pages; the names of the figures get _tT.
 * Node 0 prints a RESULT line with the time of the parallel part (setup by
 * node 0 excluded) and a CHECK line with a checksum of the answer, read
 * after the timed part; bench/run.sh compares it with the plain C one.
 * Usage: dsm -n P kernels [-t T] matmul 512 | matmul_ijk 512 | jacobi 2048 100 ;
 *        kernels_seq the same
 */
#include <pthread.h>
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
static int nthreads = 1; /* -t: threads per node */
static pthread_barrier_t step;
static char suffix[16];  /* "_tT" with threads, "" without */

/* Run fn(t, arg) in threads 0..nthreads-1 (0: the calling thread). */
struct run {
	void (*fn)(int t, void *arg);
	void *arg;
	int t;
};

static void *run_one(void *p)
{
	struct run *r = p;

	r->fn(r->t, r->arg);
	return NULL;
}

static void in_threads(void (*fn)(int t, void *arg), void *arg)
{
	pthread_t th[64];
	struct run r[64];

	for (int t = 1; t < nthreads; t++) {
		r[t] = (struct run){fn, arg, t};
		if (pthread_create(&th[t], NULL, run_one, &r[t]) != 0) {
			fprintf(stderr, "kernels: pthread_create failed\n");
			exit(1);
		}
	}
	fn(0, arg);
	for (int t = 1; t < nthreads; t++)
		pthread_join(th[t], NULL);
}

/* Rows [*lo, *hi) of rows [first, first+count) for thread t of this node. */
static void my_rows(int first, int count, int t, int *lo, int *hi)
{
	int w = me * nthreads + t, workers = nodes * nthreads;

	*lo = first + (int)((long)count * w / workers);
	*hi = first + (int)((long)count * (w + 1) / workers);
}

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

struct mm_job {
	struct mm *m;
	int n, ijk;
};

/* ijk = 0: i-k-j, rows of B streamed; ijk = 1: i-j-k, a dot product per element */
static void matmul_rows(int t, void *arg)
{
	struct mm_job *j = arg;
	struct mm *m = j->m;
	int n = j->n, lo, hi;

	my_rows(0, n, t, &lo, &hi);
	for (int i = lo; i < hi && j->ijk; i++) {
		const double *ai = m->a + (size_t)i * (size_t)n;

		for (int c = 0; c < n; c++) {
			double sum = 0;

			for (int k = 0; k < n; k++)
				sum += ai[k] * m->b[(size_t)k * (size_t)n + (size_t)c];
			m->c[(size_t)i * (size_t)n + (size_t)c] = sum;
		}
	}
	for (int i = lo; i < hi && !j->ijk; i++) {
		double *ci = m->c + (size_t)i * (size_t)n;

		for (int c = 0; c < n; c++)
			ci[c] = 0;
		for (int k = 0; k < n; k++) {
			double aik = m->a[(size_t)i * (size_t)n + (size_t)k];
			const double *bk = m->b + (size_t)k * (size_t)n;

			for (int c = 0; c < n; c++)
				ci[c] += aik * bk[c];
		}
	}
}

static void matmul(int n, int ijk)
{
	struct mm *m = NULL;
	struct mm_job job;
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
	job = (struct mm_job){m, n, ijk};
	t0 = now_us();
	in_threads(matmul_rows, &job);
	sm_barrier();
	t = now_us() - t0;
	if (me == 0) {
		double sum = 0;

		for (int i = 0; i < n * n; i++)
			sum += m->c[i];
		printf("RESULT name=%s_%d_%s_p%d%s seconds=%.4f\n", ijk ? "matmul_ijk" : "matmul", n,
		       VARIANT, nodes, suffix, t / 1e6);
		printf("CHECK name=%s_%d checksum=%.1f\n", ijk ? "matmul_ijk" : "matmul", n, sum);
	}
}

struct jacobi_job {
	double **g;
	int n, iters;
};

/* Thread t's rows, every iteration; the node's barrier from thread 0, with
 * the threads of the node meeting before and after it. */
static void jacobi_rows(int t, void *arg)
{
	struct jacobi_job *j = arg;
	int n = j->n, lo, hi;

	my_rows(1, n - 2, t, &lo, &hi);
	for (int it = 0; it < j->iters; it++) {
		const double *in = j->g[it % 2];
		double *out = j->g[(it + 1) % 2];

		for (int i = lo; i < hi; i++)
			for (int c = 1; c < n - 1; c++)
				out[(size_t)i * n + c] = 0.25 * (in[(size_t)(i - 1) * n + c] +
								 in[(size_t)(i + 1) * n + c] +
								 in[(size_t)i * n + c - 1] +
								 in[(size_t)i * n + c + 1]);
		if (nthreads > 1)
			pthread_barrier_wait(&step);
		if (t == 0)
			sm_barrier();
		if (nthreads > 1)
			pthread_barrier_wait(&step);
	}
}

static void jacobi(int n, int iters)
{
	double **g = NULL;
	struct jacobi_job job;
	double t0, t;

	if (me == 0) {
		g = shared(2 * sizeof(double *));
		g[0] = shared(sizeof(double) * (size_t)n * (size_t)n);
		g[1] = shared(sizeof(double) * (size_t)n * (size_t)n);
		for (int c = 0; c < n; c++) /* hot top edge */
			g[0][c] = g[1][c] = 100.0;
	}
	sm_bcast((void **)&g, 0);
	job = (struct jacobi_job){g, n, iters};
	t0 = now_us();
	in_threads(jacobi_rows, &job);
	t = now_us() - t0;
	if (me == 0) {
		double sum = 0;
		const double *last = g[iters % 2];

		for (int i = 0; i < n * n; i++)
			sum += last[i];
		printf("RESULT name=jacobi_%d_%s_p%d%s seconds=%.4f\n", n, VARIANT, nodes, suffix,
		       t / 1e6);
		printf("CHECK name=jacobi_%d_%d checksum=%.6f\n", n, iters, sum);
	}
}

int main(int argc, char **argv)
{
	if (sm_node_init(&argc, &argv, &nodes, &me) != 0)
		return 1;
	if (argc > 2 && strcmp(argv[1], "-t") == 0) {
		nthreads = atoi(argv[2]);
		if (nthreads < 1 || nthreads > 64) {
			fprintf(stderr, "kernels: -t wants 1 to 64 threads\n");
			return 2;
		}
		snprintf(suffix, sizeof(suffix), "_t%d", nthreads);
		argc -= 2;
		argv += 2;
	}
	if (pthread_barrier_init(&step, NULL, (unsigned)nthreads) != 0)
		return 1;
	if (argc > 2 && strcmp(argv[1], "matmul") == 0)
		matmul(atoi(argv[2]), 0);
	else if (argc > 2 && strcmp(argv[1], "matmul_ijk") == 0)
		matmul(atoi(argv[2]), 1);
	else if (argc > 3 && strcmp(argv[1], "jacobi") == 0)
		jacobi(atoi(argv[2]), atoi(argv[3]));
	else {
		fprintf(stderr, "usage: kernels [-t THREADS] matmul N | matmul_ijk N | "
				"jacobi N ITERATIONS\n");
		return 2;
	}
	sm_node_exit();
	return 0;
}
