/*
 * options.h - the dsm command line: `dsm [OPTION]... EXECUTABLE [NODE-OPTION]...`
 * Parsing stops at the executable; everything after it belongs to the nodes.
 */
#ifndef DSM_OPTIONS_H
#define DSM_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

struct options {
	const char *hostfile;  /* -H */
	int hostfile_given;
	uint32_t nodes;        /* -n (1 when not given; the job may take Slurm's count) */
	int nodes_given;       /* -n was given */
	int launcher;          /* -L / --launcher: enum launcher */
	const char *logfile;   /* -l */
	uint64_t region_size;  /* -s, bytes, a multiple of the page size */
	int verbose;           /* -v */
	const char *address;   /* -A: where nodes reach the allocator */
	unsigned join_timeout; /* -T, seconds */
	int tag_output;        /* -t */
	int stats;             /* -S */
	uint32_t prefetch;     /* -P: the longest run a fault may grow to */
	uint32_t stdin_node;   /* -i: the node that reads dsm's stdin (default 0),
				* or OPTIONS_STDIN_ALL */
	int stdin_given;       /* -i was given */
	int help;              /* -h */
	const char *executable;
	char **node_argv;      /* the NODE-OPTIONs, NULL-terminated */
	int node_argc;
};

/*
 * How nodes are started (-L, --launcher). LAUNCHER_DEFAULT: srun inside a
 * Slurm allocation (SLURM_JOB_ID set), ssh otherwise; the job decides
 * (job.c), options_parse only records what was asked for.
 */
enum launcher {
	LAUNCHER_DEFAULT,
	LAUNCHER_SSH,   /* fork/exec for this machine, ssh for other hosts */
	LAUNCHER_SRUN,  /* one srun step runs every node */
	LAUNCHER_LOCAL, /* fork/exec, every node on this machine */
};

/* The launcher's name as -L spells it ("ssh", "srun", "local"). */
const char *launcher_name(int launcher);

/* -i all: every node reads (a regular file) from its start */
#define OPTIONS_STDIN_ALL UINT32_MAX

/*
 * Parse argv. Returns 0, or -1 after writing a message into err (the caller
 * prints it and exits with status 2).
 */
int options_parse(int argc, char **argv, struct options *o, char *err, size_t errlen);

/*
 * -i K names a node that exists (K < o->nodes); 0, or -1 with a message in
 * err. options_parse checks it when -n was given, the job once it knows the
 * count otherwise.
 */
int options_check_stdin(const struct options *o, char *err, size_t errlen);

/*
 * Parse a size such as 4096, 64K, 256M or 2G (binary multiples) and round it
 * up to whole pages. 0 on success, -1 if malformed or outside 1 page .. the
 * maximum region size.
 */
int parse_size(const char *s, uint64_t *bytes);

/* The usage text for -h. */
extern const char options_usage[];

#endif /* DSM_OPTIONS_H */
