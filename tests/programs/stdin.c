/*
 * stdin.c - what each node reads on its standard input, for the standard
 * input checks of tests/integration.sh (dsm -i).
 *
 * usage: dsm -n N ./stdin
 *
 * The nodes read in turn, node N-1 first and node 0 last, with a barrier
 * between turns: each reads its standard input to the end and prints
 * "stdin: node K read B bytes: TEXT" on stdout, TEXT being what it read
 * (at most 64 bytes, newline as \n, other control bytes as \xHH). Were all
 * nodes to share one input, the first to read would take it all, so node 0,
 * reading last, would see nothing. A failed read is "node K: ...", exit 1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sm.h"
#include "check.h"

/* Read fd 0 to its end: the byte count, the first 64 bytes in text. */
static size_t read_all(char *text, size_t cap)
{
	char buf[4096];
	size_t total = 0, kept = 0;

	for (;;) {
		ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			fail("read of standard input: %s", strerror(errno));
		if (n == 0)
			return total;
		for (ssize_t i = 0; i < n && kept + 5 < cap; i++) {
			unsigned char c = (unsigned char)buf[i];

			if (c == '\n')
				kept += (size_t)snprintf(text + kept, cap - kept, "\\n");
			else if (c < 0x20 || c >= 0x7f || c == '\\')
				kept += (size_t)snprintf(text + kept, cap - kept, "\\x%02x", c);
			else
				text[kept++] = (char)c;
			text[kept] = '\0';
		}
		total += (size_t)n;
	}
}

int main(int argc, char *argv[])
{
	char text[64 * 4 + 8] = "";
	size_t got = 0;

	join(&argc, &argv);
	for (int turn = nodes - 1; turn >= 0; turn--) {
		if (turn == nid)
			got = read_all(text, sizeof(text));
		sm_barrier();
	}
	printf("stdin: node %d read %zu bytes: %s\n", nid, got, text);
	if (fflush(stdout) != 0)
		fail("writing to standard output: %s", strerror(errno));
	sm_node_exit();
	return 0;
}
