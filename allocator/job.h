/*
 * job.h - one dsm job from the allocator's side: the nodes it started, the
 * rendezvous where they join, the proxies it forks once all have joined, and
 * the event loop that serves requests, forwards output, reaps processes and
 * decides how the job ends.
 */
#ifndef DSM_JOB_H
#define DSM_JOB_H

#include <stdint.h>

#include "options.h"

/* Run the whole job; returns dsm's exit status. */
int job_run(const struct options *opt, const char *executable);

#endif /* DSM_JOB_H */
