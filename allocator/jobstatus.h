/*
 * jobstatus.h - how a job ends and with what status (jobstatus.c): ending
 * it, reaping nodes and proxies, judging each node's end, blaming the node
 * whose link closed first, and what signals and the job's timer mean.
 */
#ifndef DSM_JOBSTATUS_H
#define DSM_JOBSTATUS_H

#include <stdint.h>

#include "events.h"

struct job;

/*
 * End the job with this status (the first call decides): local nodes get
 * SIGTERM and SIGCONT now, remote ones the same from their remote shell
 * (their ssh standard input is closed, and ssh gets SIGTERM unless the
 * node's link closed already), and every node SIGKILL after a grace
 * period; the proxies are killed and every node's link is shut down.
 */
void job_end(struct job *j, int status);

/* The job's timer: fires once after `seconds`; 0 disarms it. */
void job_arm_timer(struct job *j, int seconds);

/* node's proxy saw its link close without EXIT at time `at` (mono_us). */
void job_link_lost(struct job *j, uint32_t node, uint64_t at);

/*
 * Reap every child that has ended (and, with srun, every node whose status
 * came), then judge the nodes among them, the one whose link closed first
 * before the others.
 */
void job_reap(struct job *j);

/* Handlers for the job's signalfd and timerfd (ctx: the job). */
void job_on_signal(struct ev_loop *loop, int fd, void *ctx);
void job_on_timer(struct ev_loop *loop, int fd, void *ctx);

#endif /* DSM_JOBSTATUS_H */
