/*
 * flood.c - node 0 floods its link with MALLOC requests and never reads an
 * answer, for tests/failures.sh.
 *
 * usage: dsm -n N ./flood DIR
 *
 * Every node joins and writes its pid into DIR/node.K; all meet in a
 * barrier. Then node 0 blocks SIGIO (so libsm never reads its link) and
 * writes raw MALLOC headers into the link for ever; the others wait in a
 * second barrier that node 0 never reaches. Each CHUNK dsm answers stays in
 * node 0's link, which fills: dsm must cut node 0 off and end the job rather
 * than block. When its link is shut down, node 0 waits to be killed.
 */
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>

#include "rawlink.h"

#define BATCH 512 /* headers per write */

int main(int argc, char *argv[])
{
	static uint8_t batch[BATCH * RAW_HEADER];
	size_t off = 0;
	int fd;

	join(&argc, &argv);
	if (argc != 2)
		fail("usage: dsm -n N flood DIR");
	write_pid_file(argv[1]);
	sm_barrier();
	if (nid != 0) {
		sm_barrier(); /* node 0 never comes: dsm ends the job */
		fail("released from a barrier node 0 never reached");
	}
	block_sigio();
	fd = link_fd(); /* non-blocking: libsm's */
	for (int i = 0; i < BATCH; i++)
		put_header(batch + i * RAW_HEADER, RAW_MALLOC, 0, 0, 64);
	for (;;) {
		ssize_t n = send(fd, batch + off, sizeof(batch) - off, MSG_NOSIGNAL);
		struct pollfd p = {.fd = fd, .events = POLLOUT};

		if (n > 0) {
			off = (off + (size_t)n) % sizeof(batch);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
			break; /* dsm shut the link down */
		if (poll(&p, 1, -1) < 0 && errno != EINTR)
			fail("poll");
	}
	for (;;)
		pause(); /* dsm ends the job */
}
