/*
 * launchchild.h - inside allocator/launch/: what launch.c and srun.c share
 * in a forked child before it execs (a node, ssh or srun): the program's
 * command line and dying with a message.
 */
#ifndef DSM_LAUNCHCHILD_H
#define DSM_LAUNCHCHILD_H

#include <stdnoreturn.h>

#include "launch.h"

/* "dsm: WHAT EXE: strerror(errno)" on stderr, then _exit(127). */
noreturn void launch_child_fail(const char *what, const char *exe);

/* [DSM_WRAPPER's words...] EXE TOKEN NODE-OPTIONS..., NULL-terminated. */
char **launch_program_argv(const struct launch_spec *spec, const char *token);

#endif /* DSM_LAUNCHCHILD_H */
