/*
 * launch.h - starting a node: fork, a process group of its own (so ^C
 * reaches dsm, which ends the job in order), PR_SET_PDEATHSIG so nothing
 * outlives a killed dsm, stdout and stderr into pipes that dsm forwards line
 * by line, then exec of either the program itself (this machine) or the ssh
 * client running it on another host. The program gets the one argument dsm
 * adds (see client/args.c); the job secret goes in the environment locally
 * and through ssh's standard input remotely, never on a command line.
 */
#ifndef DSM_LAUNCH_H
#define DSM_LAUNCH_H

#include <stdint.h>
#include <sys/types.h>

struct node_proc {
	pid_t pid;
	int out_fd, err_fd; /* read ends; -1 once at EOF */
	const char *host;
	int reaped;
	int status;        /* wait status once reaped */
	int joined;
	int link_lost;     /* its link closed without MSG_EXIT */
	uint64_t lost_at;  /* ... at this time (mono_us, from its proxy) */
	int remote;        /* started through ssh */
	int stdin_fd;      /* remote: ssh's standard input, open until the job ends */
};

struct launch_spec {
	const char *executable; /* absolute or relative path that exists */
	char **user_argv;       /* NODE-OPTIONs, NULL-terminated */
	int user_argc;
	uint32_t nnodes;
	const char *connect_host; /* where nodes reach the allocator */
	unsigned port;
	const char *secret_hex;
	const char *cwd;          /* the nodes' working directory */
};

/*
 * Start node `nid` on `host` (by fork/exec when host_is_local, else ssh).
 * 0, or -1 with errno (nothing started).
 */
int launch_node(const struct launch_spec *spec, uint32_t nid, const char *host,
		struct node_proc *np);

/*
 * Resolve the executable like execvp would (a name without '/' is searched
 * in PATH). Returns a malloc'ed path, or NULL with errno (ENOENT, EACCES).
 */
char *resolve_executable(const char *name);

#endif /* DSM_LAUNCH_H */
