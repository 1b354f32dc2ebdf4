/*
 * jacobi.c - a 2-D Jacobi stencil with the rows of the grid split among the
 * nodes.
 *
 * The grid is a square plate whose top edge is held at 100 degrees and the
 * other edges at 0. Each iteration replaces every inner point by the mean of
 * its four neighbours, reading one grid and writing the other, then swapping
 * them. A node reads one row above and below its block, which other nodes
 * wrote: the pages holding those rows move between the two nodes every
 * iteration. A barrier separates the iterations. Node 0 finally repeats the
 * whole computation alone, in private memory, and compares.
 *
 * Run it with: dsm -n 4 ./jacobi        (prints "jacobi: ok")
 */
#include <stdio.h>

#include "sm.h"

#define N     64   /* inner points per side; the grid has a border around them */
#define ITERS 20

typedef double grid[N + 2][N + 2];

/* One sweep over rows [first, last) of the inner points: from `in` to `out`. */
static void sweep(grid in, grid out, int first, int last)
{
	for (int i = first; i < last; i++)
		for (int j = 1; j <= N; j++)
			out[i][j] = 0.25 * (in[i - 1][j] + in[i + 1][j] + in[i][j - 1] + in[i][j + 1]);
}

/* The starting plate: hot top edge, everything else 0. */
static void init(grid g)
{
	for (int i = 0; i < N + 2; i++)
		for (int j = 0; j < N + 2; j++)
			g[i][j] = i == 0 ? 100.0 : 0.0;
}

int main(int argc, char *argv[])
{
	int nodes, me;
	grid *g = NULL;   /* g[0] and g[1]: two grids in shared memory */

	if (sm_node_init(&argc, &argv, &nodes, &me) != 0)
		return 1;
	if (me == 0) {
		g = sm_malloc(2 * sizeof(grid));
		if (!g) {
			fprintf(stderr, "jacobi: out of shared memory\n");
			return 1;
		}
		init(g[0]);
		init(g[1]);   /* the borders of both grids never change */
	}
	sm_bcast((void **)&g, 0);

	/* this node's inner rows: [first, last), inner rows are 1..N */
	int first = 1 + N * me / nodes, last = 1 + N * (me + 1) / nodes;

	for (int it = 0; it < ITERS; it++) {
		sweep(g[it % 2], g[(it + 1) % 2], first, last);
		sm_barrier();   /* nobody reads the new grid before it is complete */
	}

	if (me == 0) {
		static grid s[2];   /* the sequential run, private to node 0 */
		double worst = 0;

		init(s[0]);
		init(s[1]);
		for (int it = 0; it < ITERS; it++)
			sweep(s[it % 2], s[(it + 1) % 2], 1, N + 1);
		for (int i = 0; i < N + 2; i++)
			for (int j = 0; j < N + 2; j++) {
				double d = s[ITERS % 2][i][j] - g[ITERS % 2][i][j];

				if (d < 0)
					d = -d;
				if (d > worst)
					worst = d;
			}
		if (worst > 1e-12) {
			printf("jacobi: differs from the sequential run by %g\n", worst);
			return 1;
		}
		double sum = 0;   /* the mean temperature of the inner points */

		for (int i = 1; i <= N; i++)
			for (int j = 1; j <= N; j++)
				sum += g[ITERS % 2][i][j];
		printf("jacobi: ok (%dx%d, %d iterations, %d node(s), mean %.6f)\n", N, N, ITERS,
		       nodes, sum / (N * N));
	}
	sm_node_exit();
	return 0;
}
