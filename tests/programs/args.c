/*
 * args.c - the program sees exactly the arguments the user typed.
 *
 * Run as: dsm -n N ./args "" "a b" -n 5 -- -H x --dsm-fake
 * After sm_node_init, argv[1..] must be exactly those 8 strings (empty
 * string, embedded space, options that look like dsm's own and "--" all
 * passed through untouched), so argc == 9, argv[argc] == NULL and argv[0]
 * names the program. Every node checks.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sm.h"
#include "check.h"


static const char *const expected[] = {
	"", "a b", "-n", "5", "--", "-H", "x", "--dsm-fake",
};
#define NEXPECTED ((int)(sizeof(expected) / sizeof(expected[0])))

static void dump(int argc, char **argv)
{
	char msg[1024];
	size_t len = (size_t)snprintf(msg, sizeof(msg), "node %d: argc = %d:", nid, argc);

	for (int i = 0; i < argc && len < sizeof(msg); i++)
		len += (size_t)snprintf(msg + len, sizeof(msg) - len, " [%s]",
					argv[i] ? argv[i] : "(null)");
	if (len > sizeof(msg) - 2)
		len = sizeof(msg) - 2;
	msg[len++] = '\n';
	if (write(STDERR_FILENO, msg, len) < 0)
		_exit(1);
}

int main(int argc, char *argv[])
{
	join(&argc, &argv);

	if (argc != NEXPECTED + 1) {
		dump(argc, argv);
		fail("argc = %d, expected %d", argc, NEXPECTED + 1);
	}
	if (argv[0] == NULL) {
		dump(argc, argv);
		fail("argv[0] is NULL");
	}
	const char *slash = strrchr(argv[0], '/');
	const char *name = slash ? slash + 1 : argv[0];
	if (strncmp(name, "args", 4) != 0) {
		dump(argc, argv);
		fail("argv[0] = '%s' does not name the program", argv[0]);
	}
	for (int i = 1; i < argc; i++)
		if (argv[i] == NULL || strcmp(argv[i], expected[i - 1]) != 0) {
			dump(argc, argv);
			fail("argv[%d] = '%s', expected '%s'", i, argv[i] ? argv[i] : "(null)",
			     expected[i - 1]);
		}
	if (argv[argc] != NULL) {
		dump(argc, argv);
		fail("argv[argc] = '%s', expected NULL", argv[argc]);
	}

	sm_barrier();
	sm_node_exit();
	return 0;
}
