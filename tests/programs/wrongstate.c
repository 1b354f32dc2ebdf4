/*
 * wrongstate.c - node 0 breaks the protocol's order on purpose, and the
 * other nodes check that it cannot release them from a barrier early.
 *
 * usage: dsm -n N ./wrongstate WHAT
 *
 * Node 0 writes a raw EXIT on its link and then the message WHAT names
 * ("barrier", "malloc" or "fault"), which no proxy may accept after EXIT;
 * or, for "exitdied", one EXIT with flag 0x04 (the DIED flag of protocol
 * version 2, which no node may set). Its proxy must close the link with one
 * message naming the node, the type and the state, and the job must fail;
 * node 0 never finishes on its own.
 *
 * The other nodes each write their value 1 into a shared slot and wait in a
 * barrier; node 1 first sleeps 2 s, so the barrier cannot complete before
 * then. Node 0's EXIT takes it out of the barrier, but its BARRIER must not
 * count as an arrival (nor its MALLOC, nor its EXIT twice): had any of them
 * completed the barrier, the others would find node 1's slot still 0 and
 * fail with "released from the barrier early". dsm ends the job long before
 * node 1 wakes.
 */
#include <string.h>

#include "rawlink.h"

int main(int argc, char *argv[])
{
	uint8_t msgs[2 * RAW_HEADER];
	size_t len = sizeof(msgs);
	volatile long *slots;
	const char *what;
	int fd;

	join(&argc, &argv);
	what = argc > 1 ? argv[1] : "barrier";
	/* the last node owns the page, so node 0 (which stops answering
	 * revokes below) never holds a slot the others need */
	slots = NULL;
	if (nid == nodes - 1)
		slots = shared_alloc((size_t)nodes * sizeof(long));
	bcast_pointer(&slots, nodes - 1);
	if (nid != 0) {
		if (nid == 1)
			sleep_seconds(2); /* through SIGIO's interruptions */
		slots[nid] = 1;
		sm_barrier();
		for (int k = 1; k < nodes; k++)
			if (slots[k] != 1)
				fail("released from the barrier early: node %d's slot holds %ld, not 1",
				     k, slots[k]);
		return 0;
	}
	fd = link_fd();
	/* libsm must not read the EXIT_ACK (and die of it) before the proxy has
	 * judged the second message: keep its SIGIO handler out */
	block_sigio();
	put_header(msgs, RAW_EXIT, 0, 0, 0);
	if (strcmp(what, "fault") == 0) {
		put_header(msgs + RAW_HEADER, RAW_FAULT, 0, 0, 1);
		msgs[RAW_HEADER + 8] = 1; /* `node`: a FAULT for one page */
	} else if (strcmp(what, "malloc") == 0) {
		put_header(msgs + RAW_HEADER, RAW_MALLOC, 0, 0, 64);
	} else if (strcmp(what, "barrier") == 0) {
		put_header(msgs + RAW_HEADER, RAW_BARRIER, 0, 0, 0);
	} else if (strcmp(what, "exitdied") == 0) {
		put_header(msgs, RAW_EXIT, 0x04, 0, 0);
		len = RAW_HEADER;
	} else {
		fail("usage: wrongstate barrier|malloc|fault|exitdied (got '%s')", what);
	}
	if (write(fd, msgs, len) != (ssize_t)len)
		fail("write to the link");
	for (;;)
		pause(); /* dsm ends the job */
}
