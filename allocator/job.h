/*
 * job.h - one dsm job from the allocator's side: the nodes it started, the
 * rendezvous where they join, the proxies it forks once all have joined, and
 * the event loop that serves requests, forwards output, reaps processes and
 * decides how the job ends.
 *
 * job_run() is all main.c needs. struct job is the state shared by the files
 * that make up the job: job.c (setting up, tearing down), jobstart.c
 * (joining, starting the proxies), jobstatus.c (how it ends and with what
 * status) and, through its links, control.c (what the proxies forward).
 */
#ifndef DSM_JOB_H
#define DSM_JOB_H

#include <stdint.h>
#include <sys/types.h>

#include "control.h"
#include "events.h"
#include "launch/launch.h"
#include "options.h"
#include "pages/pages.h"
#include "services.h"

struct srun_step;

struct job {
	const struct options *opt;
	struct pagetable *pt;
	struct coherence_io io;
	struct services svc;
	struct ev_loop *loop;
	uint32_t n;
	int launcher;     /* enum launcher, as resolved: ssh, srun or local */
	struct srun_step *srun; /* -L srun: the one srun and its output (jobsrun.h) */
	struct node_proc *procs;
	struct output_stream *outs; /* 2 per node: stdout, stderr */
	struct output_sink sinks[2];  /* dsm's stdout, stderr */
	struct output_stream reports; /* dsm's own messages, into sinks[1] */
	pid_t *proxies;
	int *proxy_reaped;
	struct control_link *control; /* one per node, open once its proxy runs */
	int listen_fd, signal_fd, timer_fd;
	struct rendezvous rv;
	int ping_fd;      /* -S: a periodic timer, one PING to every node a second */
	uint32_t joined;
	int started;      /* proxies forked, WELCOME sent */
	int ending;       /* teardown begun */
	int killed;       /* SIGKILL sent */
	int signalled;    /* SIGINT, SIGTERM or SIGHUP: end without waiting for output */
	int status;       /* dsm's exit status */
	uint32_t reaped;
	int32_t first_lost;  /* the node whose link closed first without leaving */
	int blame_deferred;  /* status is provisional until first_lost is reaped */
	uint32_t *reap_batch; /* nodes reaped in one go, judged in order (jobstatus.c) */
	uint8_t secret[DSM_SECRET_LEN];
};

/* Run the whole job; returns dsm's exit status. */
int job_run(const struct options *opt, const char *executable);

#endif /* DSM_JOB_H */
