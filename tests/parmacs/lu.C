/*
 * lu.C - blocked LU factorization (no pivoting) of a diagonally dominant
 * matrix, in the SPLASH-2 style of the SPLASH LU kernel: main is written the
 * old way, the master creates P-1 processes one call at a time and then runs
 * the worker itself, and each process takes its number from a counter under
 * a lock. The matrix and its copy are allocated in the start-up and filled by
 * the master only; the steps of the factorization are separated by barriers.
 *
 * Checks: the process numbers from the counter and the node ids the run-time gives are
 * each 0 .. P-1 once; the result is bitwise equal to the same blocked
 * factorization run by the master alone (every element sees the same
 * operations in the same order, whoever does them); and L*U equals the
 * original matrix to 1e-12 relative.
 *
 * usage: dsm -n P ./parmacs-lu P [N [BLOCK]]   (N a multiple of BLOCK)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pmcheck.h"

MAIN_ENV

#define MAX_PROCS 1024

struct global {
	LOCKDEC(id_lock)
	BARDEC(step)
	long next_id;               /* the counter processes take numbers from */
	long id_seen[MAX_PROCS];    /* per node id: 1 + its process number */
	long pid_seen[MAX_PROCS];   /* per process number: 1 + its node id */
};

static struct global *gl;
static double *a;               /* n x n, row-major: factored in place */
static double *orig;            /* the matrix before */
static long n, bs, nb, nprocs;

/* the owner of block (bi, bj): the processes dealt round-robin */
static long owner(long bi, long bj)
{
	return (bi * nb + bj) % nprocs;
}

#define A(m, i, j) ((m)[(i) * n + (j)])

/* the diagonal block k: L and U in place (L unit lower) */
static void factor_diagonal(double *m, long k)
{
	long lo = k * bs, hi = lo + bs;

	for (long kk = lo; kk < hi; kk++)
		for (long i = kk + 1; i < hi; i++) {
			A(m, i, kk) /= A(m, kk, kk);
			for (long j = kk + 1; j < hi; j++)
				A(m, i, j) -= A(m, i, kk) * A(m, kk, j);
		}
}

/* block (k, bj) right of the diagonal: L_kk X = A */
static void solve_row_block(double *m, long k, long bj)
{
	long lo = k * bs, hi = lo + bs;

	for (long kk = lo; kk < hi; kk++)
		for (long i = kk + 1; i < hi; i++)
			for (long j = bj * bs; j < (bj + 1) * bs; j++)
				A(m, i, j) -= A(m, i, kk) * A(m, kk, j);
}

/* block (bi, k) below the diagonal: X U_kk = A */
static void solve_column_block(double *m, long bi, long k)
{
	long lo = k * bs, hi = lo + bs;

	for (long kk = lo; kk < hi; kk++)
		for (long i = bi * bs; i < (bi + 1) * bs; i++) {
			A(m, i, kk) /= A(m, kk, kk);
			for (long j = kk + 1; j < hi; j++)
				A(m, i, j) -= A(m, i, kk) * A(m, kk, j);
		}
}

/* block (bi, bj) below and right: A -= A_ik A_kj */
static void update_interior(double *m, long bi, long bj, long k)
{
	for (long i = bi * bs; i < (bi + 1) * bs; i++)
		for (long kk = k * bs; kk < (k + 1) * bs; kk++)
			for (long j = bj * bs; j < (bj + 1) * bs; j++)
				A(m, i, j) -= A(m, i, kk) * A(m, kk, j);
}

/* one step k of the factorization, the blocks of process me (all: -1) */
static int mine(long me, long bi, long bj)
{
	return me < 0 || owner(bi, bj) == me;
}

static void step(double *m, long k, long me)
{
	if (mine(me, k, k))
		factor_diagonal(m, k);
	if (me >= 0)
		BARRIER(gl->step, nprocs)
	for (long b = k + 1; b < nb; b++) {
		if (mine(me, k, b))
			solve_row_block(m, k, b);
		if (mine(me, b, k))
			solve_column_block(m, b, k);
	}
	if (me >= 0)
		BARRIER(gl->step, nprocs)
	for (long bi = k + 1; bi < nb; bi++)
		for (long bj = k + 1; bj < nb; bj++)
			if (mine(me, bi, bj))
				update_interior(m, bi, bj, k);
	if (me >= 0)
		BARRIER(gl->step, nprocs)
}

static void SlaveStart(void)
{
	long me, pid;

	LOCK(gl->id_lock)
	me = gl->next_id++;
	UNLOCK(gl->id_lock)
	GET_PID(pid);
	if (me >= MAX_PROCS || pid < 0 || pid >= MAX_PROCS)
		fail("process number %ld, pid %ld: out of range", me, pid);
	gl->pid_seen[me] = pid + 1;
	gl->id_seen[pid] = me + 1;
	BARRIER(gl->step, nprocs)
	for (long k = 0; k < nb; k++)
		step(a, k, me);
}

/* each of the P entries holds 1..P once */
static void check_permutation(const long *seen, const char *what)
{
	long count[MAX_PROCS] = {0};

	for (long p = 0; p < nprocs; p++) {
		if (seen[p] < 1 || seen[p] > nprocs || count[seen[p] - 1]++)
			fail("%s: entry %ld is %ld (not 1..%ld once each)", what, p, seen[p], nprocs);
	}
}

static void check_result(void)
{
	double *seq = malloc(n * n * sizeof(double));
	double worst = 0, scale = 0;

	if (seq == NULL)
		fail("out of memory");
	memcpy(seq, orig, n * n * sizeof(double));
	for (long k = 0; k < nb; k++)
		step(seq, k, -1);
	for (long i = 0; i < n * n; i++)
		if (memcmp(&seq[i], &a[i], sizeof(double)) != 0)
			fail("element (%ld, %ld) is %.17g, the sequential factorization gives %.17g",
			     i / n, i % n, a[i], seq[i]);
	free(seq);
	for (long i = 0; i < n; i++)
		for (long j = 0; j < n; j++) {
			double lu = 0;

			for (long k = 0; k <= (i < j ? i : j); k++)
				lu += (k == i ? 1.0 : A(a, i, k)) * A(a, k, j);
			if (fabs(lu - A(orig, i, j)) > worst)
				worst = fabs(lu - A(orig, i, j));
			if (fabs(A(orig, i, j)) > scale)
				scale = fabs(A(orig, i, j));
		}
	if (!(worst <= 1e-12 * scale))
		fail("L*U differs from the matrix by %g (largest element %g)", worst, scale);
	printf("parmacs-lu: ok: %ld processes, n %ld, blocks of %ld, max |LU - A| %.3g\n",
	       nprocs, n, bs, worst);
}

int main(argc, argv)
int argc;
char *argv[];
{
	long i, j;
	unsigned long seed = 12345;

	program_name = "parmacs-lu";
	if (argc < 2 || argc > 4)
		fail("usage: parmacs-lu P [N [BLOCK]]");
	nprocs = number(argv[1], 1, MAX_PROCS, "P");
	n = argc > 2 ? number(argv[2], 1, 2048, "N") : 96;
	bs = argc > 3 ? number(argv[3], 1, 2048, "BLOCK") : 16;
	if (n % bs != 0)
		fail("N (%ld) must be a multiple of BLOCK (%ld)", n, bs);
	nb = n / bs;
	MAIN_INITENV(,8000000)
	gl = (struct global *) G_MALLOC(sizeof(struct global));
	a = (double *) G_MALLOC(n * n * sizeof(double));
	orig = (double *) G_MALLOC(n * n * sizeof(double));
	if (gl == NULL || a == NULL || orig == NULL)
		fail("out of shared memory");
	LOCKINIT(gl->id_lock)
	BARINIT(gl->step)
	/* shared writes in the start-up: the master only */
	if (sm_parmacs_is_master()) {
		for (i = 0; i < n; i++)
			for (j = 0; j < n; j++) {
				seed = seed * 6364136223846793005ul + 1442695040888963407ul;
				A(orig, i, j) = (double)(seed >> 11) / (double)(1ul << 53) * 2 - 1;
				if (i == j)
					A(orig, i, j) += n;
			}
		memcpy(a, orig, n * n * sizeof(double));
	}

	for (i = 1; i < nprocs; i++)
		CREATE(SlaveStart)
	SlaveStart();
	WAIT_FOR_END(nprocs - 1)

	check_permutation(gl->pid_seen, "the node id of each process number");
	check_permutation(gl->id_seen, "the process number of each node id");
	check_result();
	MAIN_END
}
