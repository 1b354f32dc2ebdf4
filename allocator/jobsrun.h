/*
 * jobsrun.h - a job whose nodes one srun step runs (dsm -L srun; jobsrun.c):
 * starting srun, taking each node's host and status from what srun writes
 * back (launch.h: srun_output), and ending the step. dsm has one child,
 * srun, for every node: a node counts as reaped when its task's shim said
 * how it ended, or, for one that said nothing, when srun has exited and
 * everything it wrote has been read.
 */
#ifndef DSM_JOBSRUN_H
#define DSM_JOBSRUN_H

#include <stdint.h>
#include <sys/types.h>

#include "launch/launch.h"

struct job;

struct srun_step {
	pid_t pid;
	int reaped;
	int status;                 /* srun's wait status once reaped */
	int closed;                 /* how many of its two pipes are read to the end */
	struct srun_output out[2];  /* its stdout and stderr, split by node */
	struct output_stream own[2]; /* srun's own lines, into dsm's stdout, stderr */
	int ended_fd;               /* eventfd: some node's status came; judged late */
	uint32_t *ended;            /* those nodes, in order */
	uint32_t nended;
	char *hosts;                /* HOST_NAME_LEN per node: where it runs */
	int term_sent;              /* SIGTERM sent: srun is ending the step */
	int waited;                 /* the grace period was extended once for a status */
};

/* Start srun for every node and forward its output; dies on failure. */
void jobsrun_start(struct job *j, const struct launch_spec *spec);

/* srun (pid) was reaped with wait status st. */
void jobsrun_reaped(struct job *j, int st);

/*
 * Move the nodes whose status is known (and, once srun is gone and its
 * output read, every other one, without a status) into j->reap_batch from
 * *nbatch on, marking them reaped. Called by reap() (jobstatus.c).
 */
void jobsrun_collect(struct job *j, uint32_t *nbatch);

/* Everything srun wrote has been handed on. */
int jobsrun_output_done(const struct job *j);

/*
 * The job ends (first call): on a signal to dsm, srun is told at once
 * (SIGTERM: it kills every task); otherwise the nodes end by themselves as
 * their links close, and jobsrun_on_grace() ends the rest.
 */
void jobsrun_end(struct job *j);

/*
 * The grace period is over: SIGTERM to srun, unless the status of the node
 * that failed first is still on its way (then later); SIGKILL if srun is
 * still there after SIGTERM. Returns the seconds until the next call is
 * needed, or 0.
 */
int jobsrun_on_grace(struct job *j, int32_t awaited);

/* A second signal to dsm: SIGKILL to srun. */
void jobsrun_kill(struct job *j);

/* The fds a proxy must not inherit: *n of them into fds. */
void jobsrun_fds(const struct job *j, int *fds, size_t *n);

void jobsrun_free(struct job *j);

#endif /* DSM_JOBSRUN_H */
