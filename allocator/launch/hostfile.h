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

/*
 * Append name[0..len) with one slot, growing l (whose capacity *cap tracks);
 * the new host, or NULL when out of memory.
 */
struct host *hostlist_append(struct hostlist *l, size_t *cap, const char *name, size_t len);

/*
 * Whether h[0..len) may be a host name. Names go on an ssh command line, so
 * only what names and addresses use: letters, digits and ".-_:@" (and "[]"
 * with brackets, for "[::1]"); not empty, not starting with '-', shorter
 * than HOST_NAME_LEN.
 */
int host_name_valid(const char *h, size_t len, int brackets);

/*
 * The next line of *text in *line and *len (without its newline), moving
 * *text past it; 0 when no line is left.
 */
int text_next_line(const char **text, const char **line, size_t *len);

/*
 * The whole of a file as a NUL-terminated string to free(), its length in
 * *len (which a NUL byte in the file makes differ from strlen); NULL with
 * errno set.
 */
char *read_text_file(const char *path, size_t *len);

/*
 * 0 when text[0..len) holds no NUL byte (which would cut the text short
 * unseen); else -1 with "ORIGIN:LINE: a NUL byte; ..." in err.
 */
int text_check_nul(const char *text, size_t len, const char *origin, char *err, size_t errlen);

/* Whether a host name means this machine (started by fork/exec, no ssh). */
int host_is_local(const char *name);

#endif /* DSM_HOSTFILE_H */
