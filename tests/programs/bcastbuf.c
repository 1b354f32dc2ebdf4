/*
 * bcastbuf.c - sm_bcast_buf: private buffers copied from a root to every node.
 *
 *   bcastbuf              buffers of 0, 1, 4095, 4096, 4097, 300000 and 8 MiB
 *                         bytes, each from roots 0, N-1 and N/2, interleaved
 *                         with sm_barrier and sm_bcast calls
 *   bcastbuf big [MIB]    one buffer of MIB MiB (default 64) from root N-1
 *   bcastbuf rate BYTES [REPS]
 *                         REPS (default 10) broadcasts of BYTES from root 0,
 *                         timed; node 0 prints "bcastbuf: N nodes, BYTES
 *                         bytes: X MB/s" (not judged)
 *
 * The root fills its buffer with a pattern that depends on the call; every
 * other node fills its own with 0xee first, plus 64 guard bytes after the
 * end. After the call every node checks every byte of the buffer, and that
 * the guard bytes are untouched.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sm.h"
#include "check.h"

#define GUARD 64

static uint8_t pattern(size_t i, unsigned call)
{
	uint32_t x = (uint32_t)i * 2654435761u ^ call * 40503u;

	return (uint8_t)(x >> 13 ^ x);
}

/* One broadcast of len bytes from root, checked byte by byte. */
static void one(uint8_t *buf, size_t len, int root, unsigned call)
{
	if (nid == root)
		for (size_t i = 0; i < len; i++)
			buf[i] = pattern(i, call);
	else
		memset(buf, 0xee, len);
	memset(buf + len, 0xee, GUARD);
	sm_bcast_buf(buf, len, root);
	for (size_t i = 0; i < len; i++)
		if (buf[i] != pattern(i, call))
			fail("call %u (%zu bytes from root %d): byte %zu is 0x%02x, not 0x%02x", call,
			     len, root, i, buf[i], pattern(i, call));
	for (size_t i = len; i < len + GUARD; i++)
		if (buf[i] != 0xee)
			fail("call %u (%zu bytes from root %d): byte %zu past the end was written", call,
			     len, root, i);
}

static double now(void)
{
	struct timespec t;

	if (clock_gettime(CLOCK_MONOTONIC, &t) < 0)
		fail("clock_gettime");
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static uint8_t *buffer(size_t len)
{
	uint8_t *buf = malloc(len + GUARD);

	if (!buf)
		fail("out of private memory (%zu bytes)", len + GUARD);
	return buf;
}

static void rate(size_t len, long reps)
{
	uint8_t *buf = buffer(len);
	double t0;

	memset(buf, nid == 0 ? 0x5a : 0, len);
	sm_bcast_buf(buf, len, 0); /* warm up */
	sm_barrier();
	t0 = now();
	for (long r = 0; r < reps; r++)
		sm_bcast_buf(buf, len, 0);
	sm_barrier();
	if (nid == 0)
		printf("bcastbuf: %d nodes, %zu bytes: %.0f MB/s\n", nodes, len,
		       (double)len * (double)reps / (now() - t0) / 1e6);
	for (size_t i = 0; i < len; i++)
		if (buf[i] != 0x5a)
			fail("rate: byte %zu is 0x%02x, not 0x5a", i, buf[i]);
	free(buf);
}

int main(int argc, char *argv[])
{
	static const size_t sizes[] = {0, 1, 4095, 4096, 4097, 300000, 8u << 20};
	const char *mode;
	unsigned call = 0;

	join(&argc, &argv);
	mode = argc > 1 ? argv[1] : "all";
	if (strcmp(mode, "big") == 0) {
		long mib = number_arg(argc - 1, argv + 1, 64, 1, 4096, "bcastbuf big [MIB]");
		size_t len = (size_t)mib << 20;
		uint8_t *buf = buffer(len);

		one(buf, len, nodes - 1, 1);
		free(buf);
	} else if (strcmp(mode, "rate") == 0) {
		if (argc < 3)
			fail("usage: bcastbuf rate BYTES [REPS]");
		long len = number_arg(2, argv + 1, 0, 0, 1l << 32, "bcastbuf rate BYTES [REPS]");
		long reps = number_arg(argc - 2, argv + 2, 10, 1, 100000, "bcastbuf rate BYTES [REPS]");

		rate((size_t)len, reps);
	} else if (strcmp(mode, "all") == 0) {
		uint8_t *buf = buffer(8u << 20);
		int roots[3] = {0, nodes - 1, nodes / 2};

		for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
			for (int r = 0; r < 3; r++) {
				int other = roots[(r + 1) % 3];
				void *want, *v;

				one(buf, sizes[s], roots[r], ++call);
				/* the other collectives between them */
				want = (void *)(uintptr_t)(call * 1000 + 7);
				v = nid == other ? want : NULL;
				if (call % 2) {
					sm_barrier();
				} else {
					sm_bcast(&v, other);
					if (v != want)
						fail("sm_bcast from %d after call %u gave %p, not %p",
						     other, call, v, want);
				}
			}
		free(buf);
	} else {
		fail("usage: bcastbuf [big [MIB] | rate BYTES [REPS]] (got '%s')", mode);
	}
	sm_barrier();
	sm_node_exit();
	return 0;
}
