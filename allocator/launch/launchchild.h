/*
 * launchchild.h - inside allocator/launch/: what launch.c and srun.c share
 * around the fork of a child that execs (a node, ssh or srun): closing the
 * pipes when the fork cannot happen, and in the child its start (process
 * group, death signal, output), a clean slate of descriptors and signals,
 * the program's command line and dying with a message.
 */
#ifndef DSM_LAUNCHCHILD_H
#define DSM_LAUNCHCHILD_H

#include <stddef.h>
#include <stdnoreturn.h>
#include <sys/types.h>

#include "launch.h"

/* In the parent, when the child cannot be forked: close the descriptors of
 * fds[0..n-1] that are open (>= 0). Returns -1 with errno as it was. */
int launch_close_fds(const int *fds, size_t n);

/* In the child, first: a process group of its own; deathsig when dsm
 * (parent) dies, or _exit(127) at once if it is gone already; out_fd and
 * err_fd as its standard output and error (_exit(127) if that fails). */
void launch_child_begin(pid_t parent, int deathsig, int out_fd, int err_fd);

/* In the child, once its standard descriptors are set: close every other
 * descriptor, unblock every signal and give SIGPIPE, SIGINT and SIGHUP
 * their default action, as a program started from a shell has them. */
void launch_child_clean_slate(void);

/* "dsm: WHAT EXE: strerror(errno)" on stderr, then _exit(127). */
noreturn void launch_child_fail(const char *what, const char *exe);

/* [DSM_WRAPPER's words...] EXE TOKEN NODE-OPTIONS..., NULL-terminated. */
char **launch_program_argv(const struct launch_spec *spec, const char *token);

/* The length of a NULL-terminated list (0 for NULL). */
size_t launch_argv_count(char **v);

#endif /* DSM_LAUNCHCHILD_H */
