/*
 * hello.c - the smallest dsm program: every node says hello, node 0 shares
 * an array, every node writes its own slot, and node 0 prints the result.
 * Run it with: dsm -n 4 ./hello
 */
#include <stdio.h>

#include "sm.h"

int main(int argc, char *argv[])
{
	int nodes, me;
	int *slots = NULL;

	if (sm_node_init(&argc, &argv, &nodes, &me) != 0)
		return 1;
	printf("hello from node %d of %d\n", me, nodes);
	if (me == 0)
		slots = sm_malloc(nodes * sizeof(int));
	sm_bcast((void **)&slots, 0);   /* now every node has the same pointer */
	slots[me] = 100 + me;           /* each node writes its own slot */
	sm_barrier();                   /* wait until all have written */
	if (me == 0)
		for (int i = 0; i < nodes; i++)
			printf("slot %d holds %d\n", i, slots[i]);
	sm_node_exit();
	return 0;
}
