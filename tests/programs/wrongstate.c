/*
 * wrongstate.c - node 0 breaks the protocol's order on purpose: it writes a
 * raw EXIT on its link and then the message named by argv[1] ("barrier",
 * "malloc" or "fault"), which no proxy may accept after EXIT. The proxy must
 * close the link with one message naming the node, the type and the state,
 * and the job must fail (integration.sh checks both); node 0 never finishes
 * on its own. Other nodes wait in a barrier, which node 0's EXIT completes.
 */
#include <dirent.h>
#include <signal.h>
#include <endian.h>
#include <stdint.h>
#include <string.h>

#include "check.h"

/* The node's link: the one socket this process has. */
static int link_fd(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int found = -1;

	if (!d)
		fail("opendir /proc/self/fd");
	while ((e = readdir(d))) {
		char path[300], target[64];
		ssize_t n;

		snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
		n = readlink(path, target, sizeof(target) - 1);
		if (n > 0 && (target[n] = 0, strncmp(target, "socket:", 7) == 0))
			found = atoi(e->d_name);
	}
	closedir(d);
	if (found < 0)
		fail("no socket: is this a node?");
	return found;
}

/* A 24-byte header as protocol.h lays it out: type, flags, 0, page, node, length, arg. */
static void put(uint8_t *out, uint8_t type, uint32_t page, uint32_t node, uint64_t arg)
{
	uint32_t p = htole32(page), n = htole32(node), zero = 0;
	uint64_t a = htole64(arg);

	memset(out, 0, 24);
	out[0] = type;
	memcpy(out + 4, &p, 4);
	memcpy(out + 8, &n, 4);
	memcpy(out + 12, &zero, 4);
	memcpy(out + 16, &a, 8);
}

int main(int argc, char *argv[])
{
	uint8_t msgs[48];
	const char *what;
	int fd;

	join(&argc, &argv);
	if (nid != 0) {
		sm_barrier();
		return 0;
	}
	what = argc > 1 ? argv[1] : "barrier";
	fd = link_fd();
	/* libsm must not read the EXIT_ACK (and die of it) before the proxy has
	 * judged the second message: keep its SIGIO handler out */
	{
		sigset_t io;

		sigemptyset(&io);
		sigaddset(&io, SIGIO);
		if (sigprocmask(SIG_BLOCK, &io, NULL) < 0)
			fail("sigprocmask");
	}
	put(msgs, 16 /* EXIT */, 0, 0, 0);
	if (strcmp(what, "fault") == 0)
		put(msgs + 24, 3 /* FAULT */, 0, 1 /* one page */, 1);
	else if (strcmp(what, "malloc") == 0)
		put(msgs + 24, 10 /* MALLOC */, 0, 0, 64);
	else
		put(msgs + 24, 12 /* BARRIER */, 0, 0, 0);
	if (write(fd, msgs, sizeof(msgs)) != (ssize_t)sizeof(msgs))
		fail("write to the link");
	for (;;)
		pause(); /* dsm ends the job */
}
