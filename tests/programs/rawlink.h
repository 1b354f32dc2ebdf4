/*
 * rawlink.h - for test programs that break the protocol on purpose: the
 * node's link (the one socket a node has) and raw message headers, laid out
 * as common/protocol.h does, so a test can write what libsm never would.
 */
#ifndef DSM_TEST_RAWLINK_H
#define DSM_TEST_RAWLINK_H

#include <dirent.h>
#include <endian.h>
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

/* Write pid into DIR/node.K through a temporary name and rename(), so a
 * reader never sees a partial file; fail() on any error. */
static void write_pid_file(const char *dir) __attribute__((unused));
static void write_pid_file(const char *dir)
{
	char tmp[4096], final[4096];
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%s/.node.%d.tmp", dir, nid) >= (int)sizeof(tmp) ||
	    snprintf(final, sizeof(final), "%s/node.%d", dir, nid) >= (int)sizeof(final))
		fail("%s: name too long", dir);
	f = fopen(tmp, "w");
	if (!f || fprintf(f, "%ld\n", (long)getpid()) < 0 || fclose(f) != 0)
		fail("writing %s", tmp);
	if (rename(tmp, final) < 0)
		fail("renaming %s", tmp);
}

#endif /* DSM_TEST_RAWLINK_H */
