/*
 * rawlink.h - for test programs that break the protocol on purpose: the
 * node's link (the one socket a node has) and raw message headers, laid out
 * as common/protocol.h does, so a test can write what libsm never would.
 */
#ifndef DSM_TEST_RAWLINK_H
#define DSM_TEST_RAWLINK_H

#include <dirent.h>
#include <endian.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

/* Message types, as protocol.h numbers them. */
enum {
	RAW_FAULT = 3,
	RAW_MALLOC = 10,
	RAW_BARRIER = 12,
	RAW_EXIT = 16,
	RAW_BCAST_DATA = 29,
};
#define RAW_HEADER 24

/* The node's link: the one socket this process has. */
static int link_fd(void) __attribute__((unused));
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

/* A 24-byte header: type, flags, 0, page, node, length, arg (little-endian). */
static void put_header(uint8_t *out, uint8_t type, uint8_t flags, uint32_t page, uint64_t arg)
	__attribute__((unused));
static void put_header(uint8_t *out, uint8_t type, uint8_t flags, uint32_t page, uint64_t arg)
{
	uint32_t p = htole32(page);
	uint64_t a = htole64(arg);

	memset(out, 0, RAW_HEADER);
	out[0] = type;
	out[1] = flags;
	memcpy(out + 4, &p, 4);
	memcpy(out + 16, &a, 8);
}

/* Block SIGIO: libsm's handler then reads nothing from the link (nor dies
 * of an answer) while the test writes its own messages into it. */
static void block_sigio(void) __attribute__((unused));
static void block_sigio(void)
{
	sigset_t io;

	sigemptyset(&io);
	sigaddset(&io, SIGIO);
	if (sigprocmask(SIG_BLOCK, &io, NULL) < 0)
		fail("sigprocmask");
}

#endif /* DSM_TEST_RAWLINK_H */
