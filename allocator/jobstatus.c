/*
 * jobstatus.c - how a job ends and with what status (see jobstatus.h).
 *
 * The job ends when a node exits non-zero, is killed, exits before joining
 * or exits 0 without leaving; when a proxy fails; on a signal to dsm; or when
 * the join deadline passes. dsm's status is that of the first node to fail,
 * "first" by when its link closed (the proxies' LINK_LOST notices), not by
 * the order in which processes are reaped.
 */
#include "jobstatus.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "job.h"
#include "joblog.h"
#include "jobsrun.h"
#include "util.h"

#define KILL_GRACE_S 1
/* After the grace period: how much longer the ssh client of the node that
 * failed first may take to bring back its program's status */
#define BLAME_WAIT_S 5

void job_arm_timer(struct job *j, int seconds)
{
	struct itimerspec t = {.it_value = {.tv_sec = seconds}};

	if (timerfd_settime(j->timer_fd, 0, &t, NULL) < 0)
		die_errno("timerfd_settime");
}

/* The remote node (or srun task) whose status decides the job's and is
 * still on its way. */
static int32_t awaited(const struct job *j)
{
	int32_t f = j->first_lost;

	return j->blame_deferred && f >= 0 && (j->procs[f].remote || j->procs[f].via_srun) &&
	       !j->procs[f].reaped ? f : -1;
}

/*
 * A remote node's process here is its ssh client. One whose link closed
 * already is ending by itself, and its ssh is about to bring back how: a
 * signal would make ssh exit 255 and hide that status, which may be the
 * job's. So it gets only SIGKILL, at the end of the grace period, and the
 * one whose status the job waits for even later (job_on_timer). Other
 * remote nodes get SIGTERM (ssh ends at once; the remote shell then ends
 * the program, see launch.c), but no SIGCONT, which only a program needs.
 */
static void signal_nodes(struct job *j, int sig, int32_t spare)
{
	for (uint32_t i = 0; i < j->n; i++) {
		const struct node_proc *p = &j->procs[i];

		if (p->pid <= 0 || p->reaped || (int32_t)i == spare)
			continue;
		if (p->remote && sig != SIGKILL && (p->link_lost || sig == SIGCONT))
			continue;
		kill(-p->pid, sig);
	}
}

static void close_stdin(struct node_proc *p)
{
	if (p->stdin_fd >= 0) {
		close(p->stdin_fd);
		p->stdin_fd = -1;
	}
}

/*
 * Shutting every node's link down reaches remote nodes at once (libsm exits
 * when its link closes); closing a remote node's ssh standard input reaches
 * one that has not joined yet.
 */
void job_end(struct job *j, int status)
{
	if (j->ending)
		return;
	j->ending = 1;
	j->status = status;
	signal_nodes(j, SIGTERM, -1);
	signal_nodes(j, SIGCONT, -1); /* a stopped node must see it too */
	for (uint32_t i = 0; i < j->n; i++) {
		close_stdin(&j->procs[i]); /* a remote node not yet joined learns it here */
		if (j->proxies[i] > 0 && !j->proxy_reaped[i])
			kill(j->proxies[i], SIGKILL);
		if (j->pt->nodes[i].fd >= 0)
			shutdown(j->pt->nodes[i].fd, SHUT_RDWR);
	}
	if (j->srun)
		jobsrun_end(j);
	job_arm_timer(j, KILL_GRACE_S);
}

void job_link_lost(struct job *j, uint32_t node, uint64_t at)
{
	j->procs[node].link_lost = 1;
	j->procs[node].lost_at = at;
	/* by time, not by arrival: notices read in one batch come in proxy order */
	if (j->first_lost < 0 || at < j->procs[j->first_lost].lost_at)
		j->first_lost = (int32_t)node;
	joblog_write(node, LOG_LINK_LOST, -1, -1, -1);
}

/*
 * Whether a joined node left the job with sm_node_exit: its proxy marks its
 * slot NODE_EXITED before sending EXIT_ACK, which sm_node_exit waits for. So
 * this holds once the node is reaped, whether or not its EXIT (forwarded by
 * the proxy) or, for one that did not leave, its proxy's LINK_LOST has been
 * read yet: the judgement does not depend on the order these arrive in.
 */
static int left_the_job(const struct job *j, uint32_t i)
{
	return __atomic_load_n(&j->pt->nodes[i].state, __ATOMIC_ACQUIRE) == NODE_EXITED;
}

/* A node that exited 0 without leaving (see left_the_job). */
static int exited_without_leaving(const struct job *j, uint32_t i, int st)
{
	return j->procs[i].joined && !j->procs[i].no_status && WIFEXITED(st) &&
	       WEXITSTATUS(st) == 0 && !left_the_job(j, i);
}

/* How srun itself ended (st: its wait status), for a node it said nothing of. */
static void describe_srun(int st, char *out, size_t len)
{
	if (WIFEXITED(st))
		snprintf(out, len, "srun exited with status %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(out, len, "srun was killed by signal %d (%s)", WTERMSIG(st),
			 strsignal(WTERMSIG(st)));
	else
		snprintf(out, len, "srun ended");
}

static void describe_status(const struct node_proc *p, int st, char *out, size_t len)
{
	int code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	char srun[96];

	if (p && p->no_status) {
		describe_srun(st, srun, sizeof(srun));
		snprintf(out, len, "ended without its shim saying how (%s)", srun);
	} else if (p && p->via_srun && code > 128 && code < 128 + NSIG)
		snprintf(out, len, "killed by signal %d (%s)", code - 128, strsignal(code - 128));
	else if (p && p->remote && code == 255 && !p->joined)
		snprintf(out, len, "could not be started: ssh failed (status 255)");
	else if (p && p->remote && code == 255)
		snprintf(out, len, "lost: its ssh connection failed (status 255)");
	else if (p && p->remote && code > 128 && code < 128 + NSIG)
		snprintf(out, len, "killed by signal %d (%s)", code - 128, strsignal(code - 128));
	else if (code == 127)
		snprintf(out, len, "exited with status 127 (program not found; it must exist at "
			 "the same path on every host)");
	else if (WIFEXITED(st))
		snprintf(out, len, "exited with status %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(out, len, "killed by signal %d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
	else
		snprintf(out, len, "stopped");
}

static int status_code(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return 1;
}

static void node_ended(struct job *j, uint32_t i, int st)
{
	struct node_proc *p = &j->procs[i];
	char how[192];

	close_stdin(p);
	/* the node is gone: everything it wrote is in its pipes already */
	output_writer_gone(&j->outs[2 * i]);
	output_writer_gone(&j->outs[2 * i + 1]);
	if (exited_without_leaving(j, i, st))
		snprintf(how, sizeof(how), "exited without leaving the job (sm_node_exit was never "
			 "reached, e.g. _exit)");
	else
		describe_status(p, st, how, sizeof(how));
	if (j->ending) {
		/* a node failed after another's link closed (e.g. it lost a page
		 * the other held): the job failed because of the other one */
		if (j->blame_deferred && (int32_t)i == j->first_lost) {
			report("node %u (%s) %s; it was the first to fail", i, p->host, how);
			j->status = status_code(st) ? status_code(st) : 1;
			j->blame_deferred = 0;
		}
		return;
	}
	if (!p->joined && p->remote && WIFEXITED(st) && WEXITSTATUS(st) == 255) {
		report("node %u (%s) %s; see ssh's message above", i, p->host, how);
		job_end(j, 255);
	} else if (!p->joined && p->no_status) {
		describe_srun(st, how, sizeof(how));
		report("node %u could not be started: %s; see srun's message above", i, how);
		job_end(j, status_code(st) ? status_code(st) : 1);
	} else if (!p->joined) {
		report("node %u (%s) %s before joining the job; is it linked with libsm and does "
		       "it call sm_node_init?", i, p->host, how);
		job_end(j, status_code(st) ? status_code(st) : 1);
	} else if (WIFEXITED(st) && WEXITSTATUS(st) == 0 && left_the_job(j, i) &&
		   !p->no_status) {
		if (j->opt->verbose)
			report("node %u (%s) exited with status 0", i, p->host);
	} else {
		/* failed, or (like mpirun's "exited without calling finalize")
		 * exited 0 without leaving: pages may be lost and the others
		 * would wait for it in a barrier forever */
		report("node %u (%s) %s%s", i, p->host, how,
		       exited_without_leaving(j, i, st) ? "; ending the job" : "");
		job_end(j, status_code(st) ? status_code(st) : 1);
		if (j->first_lost >= 0 && j->first_lost != (int32_t)i &&
		    !j->procs[j->first_lost].reaped)
			j->blame_deferred = 1;
	}
}

/* A joined node is gone: one that did not leave stops counting in collectives. */
static void node_gone(struct job *j, uint32_t i)
{
	if (j->procs[i].joined && !left_the_job(j, i))
		services_gone(&j->svc, i);
}

static void proxy_ended(struct job *j, uint32_t i, int st)
{
	char how[192];

	j->proxy_reaped[i] = 1;
	if (j->ending || (WIFEXITED(st) && WEXITSTATUS(st) == 0))
		return;
	describe_status(NULL, st, how, sizeof(how));
	report("proxy for node %u %s; ending the job", i, how);
	job_end(j, 1);
}

/*
 * Every child that has ended. Nodes are judged after the waiting, the one
 * whose link closed first (if it is among them) before the others, so that
 * the node that failed first is named first, not one that died because of it.
 */
void job_reap(struct job *j)
{
	int st;
	pid_t pid;
	uint32_t nbatch = 0;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		if (j->srun && pid == j->srun->pid) {
			jobsrun_reaped(j, st);
			continue;
		}
		for (uint32_t i = 0; i < j->n; i++) {
			if (j->procs[i].pid == pid) {
				j->procs[i].reaped = 1;
				j->procs[i].status = st;
				j->reaped++;
				j->reap_batch[nbatch++] = i;
				break;
			}
			if (j->proxies[i] == pid) {
				proxy_ended(j, i, st);
				break;
			}
		}
	}
	if (pid < 0 && errno != ECHILD)
		die_errno("waitpid");
	if (j->srun)
		jobsrun_collect(j, &nbatch);
	for (uint32_t k = 0; k < nbatch; k++)
		if ((int32_t)j->reap_batch[k] == j->first_lost)
			node_ended(j, j->reap_batch[k], j->procs[j->reap_batch[k]].status);
	for (uint32_t k = 0; k < nbatch; k++)
		if ((int32_t)j->reap_batch[k] != j->first_lost)
			node_ended(j, j->reap_batch[k], j->procs[j->reap_batch[k]].status);
	for (uint32_t k = 0; k < nbatch; k++)
		node_gone(j, j->reap_batch[k]);
}

void job_on_signal(struct ev_loop *loop, int fd, void *ctx)
{
	struct job *j = ctx;
	struct signalfd_siginfo si;

	(void)loop;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGCHLD) {
			job_reap(j);
			continue;
		}
		/* told to end: output nobody reads no longer holds dsm up */
		j->signalled = 1;
		output_sink_abandon_if_stuck(&j->sinks[0]);
		output_sink_abandon_if_stuck(&j->sinks[1]);
		if (!j->ending) {
			report("%s: ending the job", strsignal((int)si.ssi_signo));
			job_end(j, 128 + (int)si.ssi_signo);
		} else {
			signal_nodes(j, SIGKILL, -1); /* asked twice: do not wait */
			if (j->srun)
				jobsrun_kill(j);
			j->killed = 1;
		}
	}
}

/* First the join deadline; once the job is ending, the grace period. */
void job_on_timer(struct ev_loop *loop, int fd, void *ctx)
{
	struct job *j = ctx;
	uint64_t expirations;

	(void)loop;
	if (read(fd, &expirations, sizeof(expirations)) < 0)
		return;
	if (!j->ending) {
		/* the join deadline passed */
		for (uint32_t i = 0; i < j->n; i++)
			if (!j->procs[i].joined)
				report("node %u (%s) did not join within %u s; is the program linked "
				       "with libsm and does it call sm_node_init?",
				       i, j->procs[i].host, j->opt->join_timeout);
		job_end(j, 1);
		return;
	}
	/* the grace period is over; the node awaited for the job's status
	 * gets a while longer, once */
	if (j->srun) {
		int again = jobsrun_on_grace(j, awaited(j));

		if (again)
			job_arm_timer(j, again);
	} else if (!j->killed && awaited(j) >= 0) {
		signal_nodes(j, SIGKILL, awaited(j));
		job_arm_timer(j, BLAME_WAIT_S);
	} else {
		signal_nodes(j, SIGKILL, -1);
	}
	j->killed = 1;
}
