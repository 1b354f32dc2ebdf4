/*
 * jobstart.c - how a job gets going (see jobstart.h). The rendezvous
 * (launch.h) checks each joining connection; the job takes the link of every
 * node that proves who it is, and when the last one has joined it refuses
 * every other connection, forks the proxies (pages.h), opens their control
 * links (control.h) and sends WELCOME.
 */
#include "jobstart.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "job.h"
#include "jobsrun.h"
#include "jobstatus.h"
#include "util.h"

/* A node proved who it is: its link joins the job, unless its id already did. */
static int node_joined(void *ctx, uint32_t node, int fd)
{
	struct job *j = ctx;

	if (j->procs[node].joined)
		return -1;
	j->pt->nodes[node].fd = fd;
	j->procs[node].joined = 1;
	j->joined++;
	return 0;
}

static void start_proxies(struct job *j)
{
	size_t nclose = 0;
	int *close_fds = calloc(3 * (size_t)j->n + 8, sizeof(*close_fds));
	int *control = calloc(j->n, sizeof(*control));

	if (!close_fds || !control)
		die(1, "out of memory");
	rendezvous_close(&j->rv);
	/* what a proxy must not hold: the allocator's own descriptors */
	for (uint32_t k = 0; k < 2 * j->n; k++)
		close_fds[nclose++] = j->outs[k].in_fd;
	for (uint32_t k = 0; k < j->n; k++)
		close_fds[nclose++] = j->procs[k].stdin_fd;
	close_fds[nclose++] = j->listen_fd;
	close_fds[nclose++] = j->rv.timer_fd;
	close_fds[nclose++] = j->signal_fd;
	close_fds[nclose++] = j->timer_fd;
	close_fds[nclose++] = j->ping_fd;
	if (j->srun)
		jobsrun_fds(j, close_fds, &nclose);
	proxies_start(j->pt, close_fds, nclose, j->proxies, control);
	for (uint32_t i = 0; i < j->n; i++)
		if (control_open(&j->control[i], control[i]) < 0)
			die_errno("cannot watch proxy %u's control socket", i);
	free(close_fds);
	free(control);
	/* from now on this process writes into links: a signal that ends the
	 * job must not wait for a node that does not read */
	if (node_send_stop_on_signals() < 0)
		die_errno("signalfd");
	for (uint32_t i = 0; i < j->n; i++) {
		struct msg m = {.type = MSG_WELCOME, .node = j->n, .page = j->pt->npages,
				.arg = j->pt->base};

		node_send(j->pt, i, &m, NULL);
	}
	j->started = 1;
	job_arm_timer(j, 0); /* the join deadline no longer applies */
	if (j->ping_fd >= 0) {
		/* the first ping at once, then one a second */
		struct itimerspec t = {.it_value = {.tv_nsec = 1}, .it_interval = {.tv_sec = 1}};

		if (timerfd_settime(j->ping_fd, 0, &t, NULL) < 0)
			die_errno("timerfd_settime");
	}
	if (j->opt->verbose && j->n == 1)
		report("1 node joined");
	else if (j->opt->verbose)
		report("all %u nodes joined", j->n);
}

/* The listener or a half-joined connection is readable. */
static void on_joining(struct ev_loop *loop, int fd, void *ctx)
{
	struct job *j = ctx;

	(void)loop;
	rendezvous_ready(&j->rv, fd);
	if (!j->started && !j->ending && j->joined == j->n)
		start_proxies(j);
}

static void watch_joining(void *ctx, int fd)
{
	struct job *j = ctx;

	if (ev_add(j->loop, fd, on_joining, j) < 0)
		die_errno("cannot watch a joining connection");
}

static void unwatch_joining(void *ctx, int fd)
{
	struct job *j = ctx;

	ev_del(j->loop, fd);
}

void job_listen(struct job *j, const struct job_address *addr, unsigned *port, uint32_t npages)
{
	j->listen_fd = address_listen(addr, port);
	if (j->listen_fd < 0)
		die_errno("cannot listen on %s", inet_ntoa(addr->listen_on));
	if (rendezvous_init(&j->rv, j->listen_fd, j->n, npages, j->secret, 2 * (size_t)j->n + 16) < 0)
		die_errno("cannot set up the rendezvous");
	j->rv.joined = node_joined;
	j->rv.watch = watch_joining;
	j->rv.unwatch = unwatch_joining;
	j->rv.ctx = j;
	if (ev_add(j->loop, j->listen_fd, on_joining, j) < 0)
		die_errno("cannot watch the listening socket");
}

/* Measure every node's response time, like a message switch's timing service. */
void job_on_ping(struct ev_loop *loop, int fd, void *ctx)
{
	struct job *j = ctx;
	uint64_t expirations;

	(void)loop;
	if (read(fd, &expirations, sizeof(expirations)) < 0 || j->ending)
		return;
	for (uint32_t i = 0; i < j->n; i++)
		node_send_ping(j->pt, i, mono_us()); /* a node that has left is skipped */
}
