/*
 * readers_writer.c - up to 15 readers share a page, then one writer takes it.
 *
 * Node 0 allocates a page-aligned page, fills it with pattern 0 and
 * broadcasts it. In each round every node (nodes 1..N-1 are the readers)
 * reads and checks the whole page; after a barrier one node (the writer)
 * rewrites the whole page with the next pattern; after another barrier all
 * check again. The writer is node 0 for the first 4 rounds and node N-1 (a
 * node that holds a read copy, so its write is an upgrade) for the last 2.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "sm.h"
#include "check.h"


#define VERSIONS 7  /* pattern 0 plus 6 rewrites */

static int writer_of(int v)
{
	return v <= 4 ? 0 : nodes - 1;
}

static uint32_t pat(int v, size_t i)
{
	return ((uint32_t)(v + 1) * 0x9e3779b1u) ^ ((uint32_t)i * 0x85ebca77u) ^
	       ((uint32_t)writer_of(v) << 27);
}

static void fill(uint32_t *buf, size_t words, int v)
{
	for (size_t i = 0; i < words; i++)
		buf[i] = pat(v, i);
}

static void check(const uint32_t *buf, size_t words, int v)
{
	for (size_t i = 0; i < words; i++)
		if (buf[i] != pat(v, i))
			fail("version %d (written by node %d): word %zu = 0x%08x, expected 0x%08x",
			     v, writer_of(v), i, buf[i], pat(v, i));
}

int main(int argc, char *argv[])
{
	join(&argc, &argv);

	size_t ps = page_size();
	size_t words = ps / sizeof(uint32_t);
	unsigned char *base = NULL;
	uint32_t *buf = NULL;
	if (nid == 0) {
		base = shared_alloc(2 * ps);
		buf = page_align(base);
		for (size_t i = 0; i < words; i++)
			if (buf[i] != 0)
				fail("fresh word %zu = 0x%08x, expected 0", i, buf[i]);
		fill(buf, words, 0);
	}
	bcast_pointer(&base, 0);
	buf = page_align(base);

	for (int v = 0;; v++) {
		check(buf, words, v);
		check(buf, words, v);  /* again, from the copy this node now holds */
		sm_barrier();
		if (v == VERSIONS - 1)
			break;
		if (nid == writer_of(v + 1)) {
			fill(buf, words, v + 1);
			check(buf, words, v + 1);
		}
		sm_barrier();
	}

	sm_node_exit();
	return 0;
}
