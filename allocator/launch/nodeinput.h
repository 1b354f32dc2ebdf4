/*
 * nodeinput.h - inside allocator/launch/: the standard input of the nodes
 * started on this machine, for launch.c (the rules, and checking them
 * before anything starts, are in launch.h: launch_check_stdin).
 */
#ifndef DSM_NODEINPUT_H
#define DSM_NODEINPUT_H

#include <stdint.h>

#include "launch.h"

/*
 * In dsm, before forking local node nid: when it is the one to read dsm's
 * standard input and that is a terminal, start the relay and set *fd to the
 * read end of its pipe (close-on-exec) for nodeinput_child(); otherwise
 * *fd = -1. 0, or -1 with errno when the relay cannot be started.
 */
int nodeinput_relay(const struct launch_spec *spec, uint32_t nid, int *fd);

/*
 * In the forked child, before exec: make descriptor 0 what node nid reads
 * (relay_fd from nodeinput_relay(), or -1). 0, or -1 with errno.
 */
int nodeinput_child(const struct launch_spec *spec, uint32_t nid, int relay_fd);

#endif /* DSM_NODEINPUT_H */
