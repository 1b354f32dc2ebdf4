/*
 * jobsrun.c - a job whose nodes one srun step runs (see jobsrun.h): srun
 * and its two output pipes in the event loop, each node's host and status
 * from its shim's lines, and ending the step.
 *
 * A status is judged in the late round of the loop (an eventfd registered
 * with ev_add_late), like the SIGCHLD of a node dsm started itself, so that
 * it is judged after every LINK_LOST notice read in the same turn.
 */
#include "jobsrun.h"

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "job.h"
#include "jobstatus.h"
#include "util.h"

/* after SIGTERM, how long srun may take to end its step before SIGKILL */
#define SRUN_TERM_WAIT_S 5
/* how long the status of the node that failed first may take to come */
#define SRUN_BLAME_WAIT_S 5

static char *host_of(struct srun_step *s, uint32_t node)
{
	return s->hosts + (size_t)node * HOST_NAME_LEN;
}

static void wake(struct srun_step *s)
{
	uint64_t one = 1;

	if (write(s->ended_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		die_errno("eventfd");
}

/* ---- srun's output hooks ------------------------------------------------ */

static void on_output(struct ev_loop *loop, int fd, void *ctx)
{
	(void)loop;
	(void)fd;
	srun_output_pump(ctx);
}

static void watch_output(void *ctx, struct srun_output *o, int on)
{
	struct job *j = ctx;

	if (!on)
		ev_del(j->loop, o->in_fd);
	else if (ev_add(j->loop, o->in_fd, on_output, o) < 0)
		die_errno("cannot watch srun's output");
}

static void set_tags(struct job *j, uint32_t node)
{
	char tag[HOST_NAME_LEN + 32];

	if (!j->opt->tag_output)
		return;
	snprintf(tag, sizeof(tag), "[node %u@%s] ", node, j->procs[node].host);
	if (output_set_tag(&j->outs[2 * node], tag) < 0 ||
	    output_set_tag(&j->outs[2 * node + 1], tag) < 0)
		die(1, "out of memory");
}

/* The shim said where node runs (a name to show, not to use: printable
 * characters only, else it stays "?"). */
static void node_started(void *ctx, uint32_t node, const char *host)
{
	struct job *j = ctx;
	char *h = host_of(j->srun, node);

	if (!*host || strcmp(h, "?") != 0)
		return;
	for (const char *c = host; *c; c++)
		if (!isgraph((unsigned char)*c))
			return;
	snprintf(h, HOST_NAME_LEN, "%s", host);
	set_tags(j, node);
}

/* The shim said how node's program ended: the shell's $?. */
static void node_status(void *ctx, uint32_t node, int code)
{
	struct job *j = ctx;
	struct srun_step *s = j->srun;
	struct node_proc *p = &j->procs[node];

	if (p->reaped || p->status_known)
		return;
	p->status_known = 1;
	p->status = W_EXITCODE(code, 0);
	s->ended[s->nended++] = node;
	wake(s);
}

static void output_closed(void *ctx, struct srun_output *o)
{
	struct job *j = ctx;

	(void)o;
	if (++j->srun->closed == 2 && j->srun->reaped)
		wake(j->srun);
}

static void on_ended(struct ev_loop *loop, int fd, void *ctx)
{
	uint64_t n;

	(void)loop;
	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		die_errno("eventfd");
	job_reap(ctx);
}

/* ---- starting ----------------------------------------------------------- */

void jobsrun_start(struct job *j, const struct launch_spec *spec)
{
	struct srun_step *s = calloc(1, sizeof(*s));
	struct srun_output_hooks hooks = {.reading = watch_output, .started = node_started,
					  .ended = node_status, .closed = output_closed, .ctx = j};
	int fds[2];

	if (!s || !(s->ended = calloc(j->n, sizeof(*s->ended))) ||
	    !(s->hosts = calloc(j->n, HOST_NAME_LEN)))
		die(1, "out of memory");
	j->srun = s;
	s->ended_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->ended_fd < 0 || ev_add_late(j->loop, s->ended_fd, on_ended, j) < 0)
		die_errno("eventfd");
	for (uint32_t i = 0; i < j->n; i++) {
		struct node_proc *p = &j->procs[i];

		strcpy(host_of(s, i), "?");
		memset(p, 0, sizeof(*p));
		p->stdin_fd = -1;
		p->out_fd = p->err_fd = -1;
		p->via_srun = 1;
		p->host = host_of(s, i);
		if (output_init_fed(&j->outs[2 * i], &j->sinks[0], NULL) < 0 ||
		    output_init_fed(&j->outs[2 * i + 1], &j->sinks[1], NULL) < 0)
			die(1, "out of memory");
		set_tags(j, i);
	}
	if (output_init_fed(&s->own[0], &j->sinks[0], NULL) < 0 ||
	    output_init_fed(&s->own[1], &j->sinks[1], NULL) < 0)
		die(1, "out of memory");
	if (launch_srun(spec, &s->pid, &fds[0], &fds[1]) < 0) {
		report_errno("cannot start srun for %u node%s", j->n, j->n == 1 ? "" : "s");
		s->out[0].in_fd = s->out[1].in_fd = -1;
		s->reaped = 1;
		s->closed = 2;
		s->status = W_EXITCODE(1, 0);
		s->out[0].done = s->out[1].done = 1;
		output_fed_close(&s->own[0]);
		output_fed_close(&s->own[1]);
		for (uint32_t i = 0; i < 2 * j->n; i++)
			output_fed_close(&j->outs[i]);
		job_end(j, 1);
		wake(s);
		return;
	}
	for (int w = 0; w < 2; w++)
		if (srun_output_init(&s->out[w], fds[w], w, j->n, j->outs, &s->own[w], &hooks) < 0)
			die_errno("cannot forward srun's output");
}

/* ---- ending ------------------------------------------------------------- */

void jobsrun_reaped(struct job *j, int st)
{
	struct srun_step *s = j->srun;

	s->reaped = 1;
	s->status = st;
	/* everything srun wrote is in its pipes: read it (statuses too) */
	srun_output_writer_gone(&s->out[0]);
	srun_output_writer_gone(&s->out[1]);
}

void jobsrun_collect(struct job *j, uint32_t *nbatch)
{
	struct srun_step *s = j->srun;

	for (uint32_t k = 0; k < s->nended; k++) {
		struct node_proc *p = &j->procs[s->ended[k]];

		if (!p->reaped) {
			p->reaped = 1;
			j->reaped++;
			j->reap_batch[(*nbatch)++] = s->ended[k];
		}
	}
	s->nended = 0;
	if (!s->reaped || s->closed < 2)
		return;
	/* srun is gone and said all it had: the others have no status */
	for (uint32_t i = 0; i < j->n; i++) {
		struct node_proc *p = &j->procs[i];

		if (p->reaped)
			continue;
		p->reaped = 1;
		p->no_status = 1;
		p->status = s->status;
		j->reaped++;
		j->reap_batch[(*nbatch)++] = i;
	}
}

int jobsrun_output_done(const struct job *j)
{
	const struct srun_step *s = j->srun;

	return srun_output_done(&s->out[0]) && srun_output_done(&s->out[1]) &&
	       output_done(&s->own[0]) && output_done(&s->own[1]);
}

static void term(struct srun_step *s)
{
	if (!s->reaped && !s->term_sent) {
		kill(s->pid, SIGTERM); /* srun: "forcing job termination" */
		s->term_sent = 1;
	}
}

void jobsrun_end(struct job *j)
{
	if (j->signalled)
		term(j->srun);
}

int jobsrun_on_grace(struct job *j, int32_t awaited)
{
	struct srun_step *s = j->srun;

	if (s->reaped)
		return 0;
	if (!s->term_sent && awaited >= 0 && !s->waited) {
		s->waited = 1;
		return SRUN_BLAME_WAIT_S;
	}
	if (!s->term_sent) {
		term(s);
		return SRUN_TERM_WAIT_S;
	}
	jobsrun_kill(j);
	return 0;
}

void jobsrun_kill(struct job *j)
{
	if (!j->srun->reaped)
		kill(-j->srun->pid, SIGKILL);
}

void jobsrun_fds(const struct job *j, int *fds, size_t *n)
{
	fds[(*n)++] = j->srun->out[0].in_fd;
	fds[(*n)++] = j->srun->out[1].in_fd;
	fds[(*n)++] = j->srun->ended_fd;
}

void jobsrun_free(struct job *j)
{
	struct srun_step *s = j->srun;

	if (!s)
		return;
	ev_del(j->loop, s->ended_fd);
	close(s->ended_fd);
	srun_output_free(&s->out[0]);
	srun_output_free(&s->out[1]);
	output_free(&s->own[0]);
	output_free(&s->own[1]);
	free(s->ended);
	free(s->hosts);
	free(s);
	j->srun = NULL;
}
