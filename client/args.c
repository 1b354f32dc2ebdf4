/*
 * args.c - the one argument dsm adds to a node's command line.
 *
 * dsm starts a node as `EXECUTABLE --dsm-node=NID,NODES,PORT,HOST ARGS...`:
 * always exactly one argument, always right after argv[0], so removing it
 * leaves the user's arguments untouched whatever they look like (empty
 * strings, spaces, "-n 5", even another "--dsm-node=..."). The job secret is
 * not on the command line (it would show in ps): it comes in DSM_SECRET.
 *
 * Started by one srun step (dsm -L srun), every node has the same command
 * line, `--dsm-node=slurm,NODES,PORT,HOST`: the node id is then the task's
 * rank, SLURM_PROCID, which Slurm sets for every task of a step.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "libsm.h"

#define ARG_PREFIX "--dsm-node="
#define FROM_SLURM "slurm,"

/* SLURM_PROCID as a node id: digits only, below DSM_MAX_NODES; 0 or -1. */
static int slurm_rank(uint32_t *out)
{
	const char *s = getenv("SLURM_PROCID");
	char *end;
	unsigned long v;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v >= DSM_MAX_NODES)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int take_u32(const char **s, uint32_t *out)
{
	char *end;
	unsigned long v;

	if (**s < '0' || **s > '9')
		return -1;
	errno = 0;
	v = strtoul(*s, &end, 10);
	if (errno || v > UINT32_MAX || *end != ',')
		return -1;
	*out = (uint32_t)v;
	*s = end + 1;
	return 0;
}

int sm__args_take(int *argc, char ***argv, struct node_args *out)
{
	const char *s;
	const char *comma;
	uint32_t port;
	int from_slurm = 0;

	if (!argc || !argv || !*argv || *argc < 2 || !(*argv)[1])
		return -1;
	s = (*argv)[1];
	if (strncmp(s, ARG_PREFIX, strlen(ARG_PREFIX)) != 0)
		return -1;
	s += strlen(ARG_PREFIX);
	if (strncmp(s, FROM_SLURM, strlen(FROM_SLURM)) == 0) {
		s += strlen(FROM_SLURM);
		from_slurm = 1;
	} else if (take_u32(&s, &out->nid) < 0) {
		return -1;
	}
	if (take_u32(&s, &out->nnodes) < 0)
		return -1;
	comma = s;
	if (take_u32(&comma, &port) < 0 || port == 0 || port > 65535 ||
	    (size_t)(comma - 1 - s) >= sizeof(out->port))
		return -1;
	memcpy(out->port, s, (size_t)(comma - 1 - s));
	out->port[comma - 1 - s] = '\0';
	if (!*comma || strlen(comma) >= sizeof(out->host))
		return -1;
	strcpy(out->host, comma);
	if (out->nnodes == 0 || out->nnodes > DSM_MAX_NODES)
		return -1;
	if (from_slurm && (slurm_rank(&out->nid) < 0 || out->nid >= out->nnodes))
		return -2;
	if (out->nid >= out->nnodes)
		return -1;
	/* remove argv[1], keeping argv NULL-terminated */
	for (int i = 1; i < *argc; i++)
		(*argv)[i] = (*argv)[i + 1];
	(*argc)--;
	return 0;
}
