/*
 * hostfile.h - the hosts file: one host per line, optional `slots=N`, `#`
 * comments and blank lines ignored (format in the shipped `hostfile` and in
 * dsm-hosts(5)). Nodes are placed by walking the lines and giving each host
 * its slots (1 if not given) of consecutive node ids, cycling when the lines
 * run out: without slots that is round-robin.
 */
#ifndef DSM_HOSTFILE_H
#define DSM_HOSTFILE_H

#include <stddef.h>
#include <stdint.h>

#define HOST_NAME_LEN 256

struct host {
	char name[HOST_NAME_LEN];
	uint32_t slots;
};

struct hostlist {
	struct host *hosts;
	size_t count;
};

/*
 * Parse hosts-file text. origin names the file in messages ("hosts:3: ...").
 * Returns 0, or -1 with a message in err. An empty list means localhost.
 */
int hostfile_parse(const char *text, const char *origin, struct hostlist *out, char *err,
		   size_t errlen);

/* Read and parse a file; a missing file gives an empty list. */
int hostfile_load(const char *path, struct hostlist *out, char *err, size_t errlen);

void hostlist_free(struct hostlist *l);

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

/* The whole of a file as a NUL-terminated string to free(); NULL with errno set. */
char *read_text_file(const char *path);

/* The host of node `node` (never NULL: "localhost" for an empty list). */
const char *hostlist_place(const struct hostlist *l, uint32_t node);

/* Whether a host name means this machine (started by fork/exec, no ssh). */
int host_is_local(const char *name);

#endif /* DSM_HOSTFILE_H */
