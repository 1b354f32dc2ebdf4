/*
 * hostfile.h - inside allocator/launch/: parsing hosts-file text and telling
 * whether a host is this machine. The format, struct hostlist and placement
 * are in launch.h, the folder's interface.
 */
#ifndef DSM_HOSTFILE_H
#define DSM_HOSTFILE_H

#include <stddef.h>

#include "launch.h"

/*
 * Parse hosts-file text. origin names the file in messages ("hosts:3: ...").
 * Returns 0, or -1 with a message in err. An empty list means localhost.
 */
int hostfile_parse(const char *text, const char *origin, struct hostlist *out, char *err,
		   size_t errlen);

/* Whether a host name means this machine (started by fork/exec, no ssh). */
int host_is_local(const char *name);

#endif /* DSM_HOSTFILE_H */
