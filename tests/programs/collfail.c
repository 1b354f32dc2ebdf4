/*
 * collfail.c - sm_malloc_collective and sm_bcast_buf called wrongly, for
 * tests/failures.d/collective.sh.
 *
 * usage: dsm -n N ./collfail WHAT
 *
 *   size     every node calls sm_malloc_collective(100), but node N-1 asks
 *            for 116 bytes: every node is told, naming both sizes, and
 *            exits 1
 *   length   sm_bcast_buf of 64 bytes, but node N-1 gives 65
 *   root     sm_bcast_buf from root 0, but node N-1 names root 1
 *   shared   every node passes sm_bcast_buf a buffer in shared memory
 *   hostile  node 0 writes a raw BCAST_DATA (100 bytes at offset 0) into its
 *            link, which no BCAST_BUF_GO allowed: its proxy must close its
 *            link (the job ends) and forward nothing. The others wait in a
 *            barrier, and would die of an "unexpected message" had any
 *            piece reached them; node 1 sleeps 2 s first, so the barrier
 *            cannot complete before dsm ends the job.
 *
 * Each node writes "collfail: node K returned" if a call it should not
 * return from returns.
 */
#include <string.h>

#include "rawlink.h"

static void hostile(void)
{
	uint8_t msg[RAW_HEADER + 100];
	uint32_t len = htole32(100);
	int fd;

	if (nid != 0) {
		if (nid == 1)
			sleep_seconds(2); /* through SIGIO's interruptions */
		sm_barrier();
		return;
	}
	fd = link_fd();
	block_sigio();
	put_header(msg, RAW_BCAST_DATA, 0, 0, 0);
	memcpy(msg + 12, &len, 4);
	memset(msg + RAW_HEADER, 0x77, 100);
	if (write(fd, msg, sizeof(msg)) != (ssize_t)sizeof(msg))
		fail("write to the link");
	for (;;)
		pause(); /* dsm ends the job */
}

int main(int argc, char *argv[])
{
	static char buf[65];
	const char *what;
	int last;

	join(&argc, &argv);
	what = argc > 1 ? argv[1] : "";
	last = nid == nodes - 1;
	if (strcmp(what, "size") == 0) {
		sm_malloc_collective(last ? 116 : 100);
	} else if (strcmp(what, "length") == 0) {
		sm_bcast_buf(buf, last ? 65 : 64, 0);
	} else if (strcmp(what, "root") == 0) {
		sm_bcast_buf(buf, 64, last ? 1 : 0);
	} else if (strcmp(what, "shared") == 0) {
		char *shared = sm_malloc_collective(64);

		sm_bcast_buf(shared + 8, 16, 0);
	} else if (strcmp(what, "hostile") == 0) {
		hostile();
	} else {
		fail("usage: collfail size|length|root|shared|hostile (got '%s')", what);
	}
	printf("collfail: node %d returned\n", nid);
	sm_node_exit();
	return 0;
}
