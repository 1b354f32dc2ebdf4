/*
 * options.c - parsing of dsm's command line and of region sizes.
 */
#include "options.h"

#include <bsd/stdlib.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/protocol.h"
#include "pages/pages.h"

const char options_usage[] =
	"Usage: dsm [OPTION]... EXECUTABLE [NODE-OPTION]...\n"
	"Run EXECUTABLE as N nodes that share one region of memory (see sm.h).\n"
	"\n"
	"  -H HOSTFILE  hosts to start nodes on (default: ./hosts; when it is\n"
	"               missing or empty, the hosts in SLURM_JOB_NODELIST or\n"
	"               PBS_NODEFILE, else localhost only)\n"
	"  -n N         number of nodes to start (at most 1024; default: the task\n"
	"               count of the Slurm allocation dsm runs in when the nodes\n"
	"               go where Slurm says, else 1)\n"
	"  -L, --launcher=ssh|srun|local\n"
	"               how nodes are started: srun (one Slurm job step; the\n"
	"               default inside a Slurm allocation), ssh (this machine by\n"
	"               fork/exec, other hosts by ssh; the default elsewhere) or\n"
	"               local (every node on this machine)\n"
	"  -l LOGFILE   write one line per allocator action to LOGFILE\n"
	"  -s SIZE      size of the shared region, e.g. 64M or 2G\n"
	"               (default 65535 pages, 256M less one page)\n"
	"  -A ADDR      address nodes use to reach dsm (default: loopback when every\n"
	"               host is this machine, else this machine's address towards\n"
	"               the first remote host)\n"
	"  -T SECONDS   how long nodes may take to join (default 30)\n"
	"  -i NODE      the node that reads dsm's standard input (default 0); the\n"
	"               others read /dev/null. -i all: every node reads it from\n"
	"               its start (a regular file only, as in dsm -i all <FILE).\n"
	"               Nodes on other hosts always read /dev/null\n"
	"  -t           prefix every output line with [node K@host]\n"
	"  -P PAGES     the longest run of pages one fault may move: faults that\n"
	"               continue a sequential scan grow their run up to PAGES\n"
	"               (default 256, the most; 0 or 1: one page per fault)\n"
	"  -S           print per-node statistics at the end (faults, pages moved,\n"
	"               waiting time, fault latency, ping time)\n"
	"  -v           say what dsm is doing on stderr\n"
	"  -h           show this help and exit\n"
	"\n"
	"Hosts other than this machine are started with ssh (BatchMode); set\n"
	"DSM_SSH to replace the ssh command, e.g. DSM_SSH=\"ssh -F my_config\",\n"
	"and DSM_SRUN to replace srun, e.g. DSM_SRUN=\"srun --quiet\".\n"
	"The executable must exist at the same absolute path on every host.\n"
	"\n"
	"NODE-OPTIONs are passed to every node unchanged. dsm exits 0 when every\n"
	"node exits 0, otherwise with the status of the first node that failed\n"
	"(128+N if it was killed by signal N), and 2 for usage errors.\n";

int parse_size(const char *s, uint64_t *bytes)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	if (!s || !isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 'p': case 'P': shift = 12; end++; break; /* pages */
	default: break;
	}
	/* a multiple may be spelt 64M, 64MB or 64MiB */
	if (shift && shift != 12 && strcmp(end, "iB") == 0)
		end += 2;
	else if (shift && shift != 12 && strcmp(end, "B") == 0)
		end++;
	if (*end != '\0' || v == 0 || v > (DSM_MAX_REGION >> shift))
		return -1;
	v <<= shift;
	v = (v + DSM_PAGE_SIZE - 1) / DSM_PAGE_SIZE * DSM_PAGE_SIZE;
	if (v > DSM_MAX_REGION)
		return -1;
	*bytes = v;
	return 0;
}

static const char *const launcher_names[] = {
	[LAUNCHER_DEFAULT] = "default",
	[LAUNCHER_SSH] = "ssh",
	[LAUNCHER_SRUN] = "srun",
	[LAUNCHER_LOCAL] = "local",
};

const char *launcher_name(int launcher)
{
	if (launcher < 0 || launcher > LAUNCHER_LOCAL)
		return "?";
	return launcher_names[launcher];
}

static int parse_launcher(const char *s)
{
	for (int l = LAUNCHER_SSH; l <= LAUNCHER_LOCAL; l++)
		if (strcmp(s, launcher_names[l]) == 0)
			return l;
	return -1;
}

static const struct option long_options[] = {
	{"launcher", required_argument, NULL, 'L'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

int options_check_stdin(const struct options *o, char *err, size_t errlen)
{
	if (o->stdin_node == OPTIONS_STDIN_ALL || o->stdin_node < o->nodes)
		return 0;
	if (o->nodes == 1)
		snprintf(err, errlen, "-i %u: there is no node %u; the only node is 0",
			 o->stdin_node, o->stdin_node);
	else
		snprintf(err, errlen, "-i %u: there is no node %u; the nodes are 0 to %u",
			 o->stdin_node, o->stdin_node, o->nodes - 1);
	return -1;
}

int options_parse(int argc, char **argv, struct options *o, char *err, size_t errlen)
{
	int c, longind;
	const char *errstr;

	memset(o, 0, sizeof(*o));
	o->hostfile = "hosts";
	o->nodes = 1;
	o->region_size = (uint64_t)DSM_DEFAULT_PAGES * DSM_PAGE_SIZE;
	o->join_timeout = 30;
	o->prefetch = PT_MAX_WINDOW;
	opterr = 0;
	optind = 0; /* 0, not 1: glibc then also forgets a half-parsed "-hv" */
	/* '+': stop at the first non-option, the executable */
	while ((c = getopt_long(argc, argv, "+:H:n:l:s:A:T:P:i:L:tSvh", long_options,
				&longind)) != -1) {
		switch (c) {
		case 'H':
			o->hostfile = optarg;
			o->hostfile_given = 1;
			break;
		case 'n':
			o->nodes = (uint32_t)strtonum(optarg, 1, DSM_MAX_NODES, &errstr);
			if (errstr) {
				snprintf(err, errlen, "-n %s: the node count must be a number from 1 to %u",
					 optarg, DSM_MAX_NODES);
				return -1;
			}
			o->nodes_given = 1;
			break;
		case 'L':
			o->launcher = parse_launcher(optarg);
			if (o->launcher < 0) {
				snprintf(err, errlen, "-L %s: the launcher must be ssh, srun or local",
					 optarg);
				return -1;
			}
			break;
		case 'l':
			o->logfile = optarg;
			break;
		case 's':
			if (parse_size(optarg, &o->region_size) < 0) {
				snprintf(err, errlen,
					 "-s %s: expected a size from 4K to 64G such as 64M or 2G", optarg);
				return -1;
			}
			break;
		case 'A':
			o->address = optarg;
			break;
		case 'T':
			o->join_timeout = (unsigned)strtonum(optarg, 1, 86400, &errstr);
			if (errstr) {
				snprintf(err, errlen, "-T %s: the join timeout must be 1 to 86400 seconds",
					 optarg);
				return -1;
			}
			break;
		case 'i':
			o->stdin_given = 1;
			if (strcmp(optarg, "all") == 0) {
				o->stdin_node = OPTIONS_STDIN_ALL;
				break;
			}
			o->stdin_node = (uint32_t)strtonum(optarg, 0, DSM_MAX_NODES - 1, &errstr);
			if (errstr) {
				snprintf(err, errlen, "-i %s: expected a node number or 'all'", optarg);
				return -1;
			}
			break;
		case 't':
			o->tag_output = 1;
			break;
		case 'S':
			o->stats = 1;
			break;
		case 'P':
			o->prefetch = (uint32_t)strtonum(optarg, 0, PT_MAX_WINDOW, &errstr);
			if (errstr) {
				snprintf(err, errlen, "-P %s: the run length must be 0 to %u pages",
					 optarg, PT_MAX_WINDOW);
				return -1;
			}
			break;
		case 'v':
			o->verbose = 1;
			break;
		case 'h':
			o->help = 1;
			return 0;
		case ':':
			if (optopt == 'L' && argv[optind - 1][1] == '-')
				snprintf(err, errlen, "option --launcher needs an argument");
			else
				snprintf(err, errlen, "option -%c needs an argument", optopt);
			return -1;
		default:
			if (optopt)
				snprintf(err, errlen, "unknown option -%c", optopt);
			else
				snprintf(err, errlen, "unknown option %s", argv[optind - 1]);
			return -1;
		}
	}
	if (optind >= argc) {
		snprintf(err, errlen, "no executable given");
		return -1;
	}
	/* without -n the count may still come from Slurm: the job checks then */
	if (o->nodes_given && options_check_stdin(o, err, errlen) < 0)
		return -1;
	o->executable = argv[optind];
	o->node_argv = argv + optind + 1;
	o->node_argc = argc - optind - 1;
	return 0;
}
