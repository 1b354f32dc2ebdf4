/*
 * list.c - a linked list in shared memory, built by every node and walked by
 * pointer on every node. Shows that a pointer stored in shared memory means
 * the same thing on every node.
 *
 * The protocol is the simplest one that is safe: the nodes take turns. In
 * turn t, node t appends its items at the tail of the one shared list while
 * the others wait in sm_barrier(). Afterwards every node walks the list and
 * prints a checksum that depends on every value and on the order.
 *
 * Run it with: dsm -n 4 ./list
 */
#include <stdio.h>

#include "sm.h"

#define ITEMS_PER_NODE 5

struct item {
	long value;
	struct item *next;     /* points into shared memory: valid on every node */
};

struct list {
	struct item *head;
	struct item *tail;
	long count;
};

int main(int argc, char *argv[])
{
	int nodes, me;
	struct list *list = NULL;

	if (sm_node_init(&argc, &argv, &nodes, &me) != 0)
		return 1;

	/* node 0 makes the (empty) list header and tells everyone where it is */
	if (me == 0)
		list = sm_malloc(sizeof(*list));   /* zeroed: head = tail = NULL */
	sm_bcast((void **)&list, 0);

	/* take turns: in turn t only node t touches the list */
	for (int turn = 0; turn < nodes; turn++) {
		if (turn == me) {
			for (int i = 1; i <= ITEMS_PER_NODE; i++) {
				/* any node may allocate; the item is visible to all */
				struct item *it = sm_malloc(sizeof(*it));

				if (!it) {
					fprintf(stderr, "node %d: out of shared memory\n", me);
					return 1;
				}
				it->value = 100L * me + i;
				it->next = NULL;
				if (list->tail)
					list->tail->next = it;
				else
					list->head = it;
				list->tail = it;
				list->count++;
			}
		}
		sm_barrier();   /* the next node starts only after this one is done */
	}

	/*
	 * Every node walks the whole list, following pointers written by other
	 * nodes. The checksum weights each value by its position, so it also
	 * checks the order: sum of position * value, positions from 1.
	 */
	long n = 0, sum = 0;

	for (struct item *it = list->head; it; it = it->next) {
		n++;
		sum += n * it->value;
	}
	printf("list: node %d walked %ld items, checksum %ld\n", me, n, sum);
	if (n != list->count || n != (long)nodes * ITEMS_PER_NODE) {
		fprintf(stderr, "node %d: expected %ld items\n", me, (long)nodes * ITEMS_PER_NODE);
		return 1;
	}
	sm_node_exit();
	return 0;
}
