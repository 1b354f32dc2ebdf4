/*
 * matmul.c - C = A x B with the rows of C split among the nodes.
 *
 * Node 0 allocates the three matrices in shared memory, fills A and B, and
 * broadcasts one pointer to a struct that holds them. Each node computes its
 * own block of rows of C; a barrier waits for all of them. Node 0 then
 * multiplies again on its own and compares.
 *
 * Run it with: dsm -n 4 ./matmul        (prints "matmul: ok")
 */
#include <stdio.h>

#include "sm.h"

#define N 128   /* the matrices are N x N doubles: 128 KiB each */

struct matrices {
	double a[N][N], b[N][N], c[N][N];
};

int main(int argc, char *argv[])
{
	int nodes, me;
	struct matrices *m = NULL;

	if (sm_node_init(&argc, &argv, &nodes, &me) != 0)
		return 1;

	if (me == 0) {
		m = sm_malloc(sizeof(*m));
		if (!m) {
			fprintf(stderr, "matmul: out of shared memory\n");
			return 1;
		}
		/* small integers, so every product and sum is exact */
		for (int i = 0; i < N; i++)
			for (int j = 0; j < N; j++) {
				m->a[i][j] = (i + j) % 7;
				m->b[i][j] = (i * j) % 5;
			}
	}
	sm_bcast((void **)&m, 0);   /* also a barrier: A and B are ready */

	/* this node's rows: [first, last) */
	int first = N * me / nodes, last = N * (me + 1) / nodes;

	for (int i = first; i < last; i++)
		for (int j = 0; j < N; j++) {
			double sum = 0;

			for (int k = 0; k < N; k++)
				sum += m->a[i][k] * m->b[k][j];
			m->c[i][j] = sum;   /* pages of C move to this node on demand */
		}
	sm_barrier();   /* every row of C is done */

	if (me == 0) {
		/* the same product again, sequentially, by node 0 alone */
		int bad = 0;

		for (int i = 0; i < N; i++)
			for (int j = 0; j < N; j++) {
				double sum = 0;

				for (int k = 0; k < N; k++)
					sum += m->a[i][k] * m->b[k][j];
				if (sum != m->c[i][j])
					bad++;
			}
		if (bad) {
			printf("matmul: %d wrong elements\n", bad);
			return 1;
		}
		printf("matmul: ok (%dx%d, %d node(s))\n", N, N, nodes);
	}
	sm_node_exit();
	return 0;
}
