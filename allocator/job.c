/*
 * job.c - the allocator's job (see job.h). Everything the allocator waits
 * for is a registration in one event loop (events.h): the listening socket
 * and half-joined connections, the proxies' control sockets, the nodes'
 * output pipes, a signalfd (SIGCHLD, SIGINT, SIGTERM, SIGHUP) and a timerfd
 * (the join deadline, then the grace period before SIGKILL).
 */
#include "job.h"

#include <arpa/inet.h>
#include <bsd/libutil.h>
#include <bsd/stdlib.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"
#include "../common/wire.h"
#include "events.h"
#include "joblog.h"
#include "jobstats.h"
#include "launch/launch.h"
#include "pages/pages.h"
#include "services.h"

#define KILL_GRACE_S 1
#define CONTROL_BUF (2 * DSM_MAX_MESSAGE)


struct job {
	const struct options *opt;
	struct pagetable *pt;
	struct coherence_io io;
	struct services svc;
	struct ev_loop *loop;
	uint32_t n;
	struct node_proc *procs;
	struct output_stream *outs; /* 2 per node: stdout, stderr */
	pid_t *proxies;
	int *proxy_reaped;
	int *control;               /* allocator end of each proxy's socket */
	struct wire_reader *control_readers;
	uint8_t *control_bufs;
	int listen_fd, signal_fd, timer_fd;
	struct rendezvous rv;
	int ping_fd;      /* -S: a periodic timer, one PING to every node a second */
	uint32_t joined;
	int started;      /* proxies forked, WELCOME sent */
	int ending;       /* teardown begun */
	int killed;       /* SIGKILL sent */
	int status;       /* dsm's exit status */
	uint32_t reaped;
	int32_t first_lost;  /* the node whose link closed first without leaving */
	int blame_deferred;  /* status is provisional until first_lost is reaped */
	uint8_t secret[DSM_SECRET_LEN];
};

static void arm_timer(struct job *j, int seconds)
{
	struct itimerspec t = {.it_value = {.tv_sec = seconds}};

	if (timerfd_settime(j->timer_fd, 0, &t, NULL) < 0)
		die_errno("timerfd_settime");
}

static void signal_nodes(struct job *j, int sig)
{
	for (uint32_t i = 0; i < j->n; i++)
		if (j->procs[i].pid > 0 && !j->procs[i].reaped)
			kill(-j->procs[i].pid, sig);
}

static void close_stdin(struct node_proc *p)
{
	if (p->stdin_fd >= 0) {
		close(p->stdin_fd);
		p->stdin_fd = -1;
	}
}

/*
 * End the job: local nodes (and the ssh clients of remote ones) get SIGTERM
 * now and SIGKILL after the grace period; every node's link is shut down,
 * which remote nodes notice at once (libsm exits when its link closes).
 */
static void end_job(struct job *j, int status)
{
	if (j->ending)
		return;
	j->ending = 1;
	j->status = status;
	signal_nodes(j, SIGTERM);
	for (uint32_t i = 0; i < j->n; i++) {
		close_stdin(&j->procs[i]); /* a remote node not yet joined learns it here */
		if (j->proxies[i] > 0 && !j->proxy_reaped[i])
			kill(j->proxies[i], SIGKILL);
		if (j->pt->nodes[i].fd >= 0)
			shutdown(j->pt->nodes[i].fd, SHUT_RDWR);
	}
	arm_timer(j, KILL_GRACE_S);
}

static void describe_status(const struct node_proc *p, int st, char *out, size_t len)
{
	int code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;

	if (p && p->remote && code == 255 && !p->joined)
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


/* The node is gone: everything it wrote is in its pipes already. */
static void drain_output(struct job *j, struct output_stream *s)
{
	if (s->in_fd < 0)
		return;
	ev_del(j->loop, s->in_fd);
	output_drain(s);
}

static void node_ended(struct job *j, uint32_t i, int st)
{
	struct node_proc *p = &j->procs[i];
	char how[128];

	p->reaped = 1;
	p->status = st;
	j->reaped++;
	close_stdin(p);
	drain_output(j, &j->outs[2 * i]);
	drain_output(j, &j->outs[2 * i + 1]);
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
		end_job(j, 255);
	} else if (!p->joined) {
		report("node %u (%s) %s before joining the job; is it linked with libsm and does "
		       "it call sm_node_init?", i, p->host, how);
		end_job(j, status_code(st) ? status_code(st) : 1);
	} else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		report("node %u (%s) %s", i, p->host, how);
		end_job(j, status_code(st));
		if (j->first_lost >= 0 && j->first_lost != (int32_t)i &&
		    !j->procs[j->first_lost].reaped)
			j->blame_deferred = 1;
	} else if (p->link_lost) {
		/* like mpirun's "exited without calling finalize": pages may be lost
		 * and the others may wait for it in a barrier forever */
		report("node %u (%s) exited without leaving the job (sm_node_exit was never "
		       "reached, e.g. _exit); ending the job", i, p->host);
		end_job(j, 1);
	} else if (j->opt->verbose) {
		report("node %u (%s) exited with status 0", i, p->host);
	}
}

static void reap(struct job *j)
{
	int st;
	pid_t pid;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		for (uint32_t i = 0; i < j->n; i++) {
			if (j->procs[i].pid == pid) {
				node_ended(j, i, st);
				goto next;
			}
			if (j->proxies && j->proxies[i] == pid) {
				j->proxy_reaped[i] = 1;
				if (!j->ending && (!WIFEXITED(st) || WEXITSTATUS(st) != 0)) {
					char how[128];

					describe_status(NULL, st, how, sizeof(how));
					report("proxy for node %u %s; ending the job", i, how);
					end_job(j, 1);
				}
				goto next;
			}
		}
next:;
	}
	if (pid < 0 && errno != ECHILD)
		die_errno("waitpid");
}

static void on_signal(struct ev_loop *loop, int fd, void *ctx)
{
	struct job *j = ctx;
	struct signalfd_siginfo si;

	(void)loop;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGCHLD) {
			reap(j);
		} else if (!j->ending) {
			report("%s: ending the job", strsignal((int)si.ssi_signo));
			end_job(j, 128 + (int)si.ssi_signo);
		} else if (!j->killed) {
			signal_nodes(j, SIGKILL); /* asked twice: do not wait */
			j->killed = 1;
		}
	}
}

static void on_timer(struct ev_loop *loop, int fd, void *ctx)
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
		end_job(j, 1);
		return;
	}
	signal_nodes(j, SIGKILL);
	j->killed = 1;
}

/* Measure every node's response time, like a message switch's timing service. */
static void on_ping_timer(struct ev_loop *loop, int fd, void *ctx)
{
	struct job *j = ctx;
	uint64_t expirations;

	(void)loop;
	if (read(fd, &expirations, sizeof(expirations)) < 0 || j->ending)
		return;
	for (uint32_t i = 0; i < j->n; i++) {
		struct msg m = {.type = MSG_PING, .arg = mono_us()};

		node_send(j->pt, i, &m, NULL); /* a node that has left is skipped */
	}
}

/* ---- the rendezvous (allocator/rendezvous.c) ---------------------------- */

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

static void on_control(struct ev_loop *loop, int fd, void *ctx)
{
	struct job *j = ctx;
	uint32_t i = 0;

	while (j->control[i] != fd)
		i++;

	struct wire_reader *r = &j->control_readers[i];
	struct msg m;
	const uint8_t *payload;
	const char *why;
	enum fill_result f = wire_fill(r);

	while (wire_next(r, &m, &payload, &why) == DECODE_OK) {
		if (m.type == MSG_LINK_LOST) {
			/* judged when its process is reaped: see node_ended() */
			j->procs[i].link_lost = 1;
			j->procs[i].lost_at = m.arg;
			/* by time, not by arrival: notices read in one batch come in
			 * proxy order */
			if (j->first_lost < 0 || m.arg < j->procs[j->first_lost].lost_at)
				j->first_lost = (int32_t)i;
			joblog_write(i, "link-lost", -1, -1, -1);
			continue;
		}
		services_handle(&j->svc, i, &m);
	}
	if (f == FILL_EOF || f == FILL_ERROR) {
		ev_del(loop, fd);
		close(j->control[i]);
		j->control[i] = -1;
	}
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);

	if (!p)
		die(1, "out of memory");
	return p;
}

static void start_proxies(struct job *j)
{
	size_t nclose = 0;
	int *close_fds = xcalloc(3 * (size_t)j->n + 4, sizeof(*close_fds));

	rendezvous_close(&j->rv);
	/* what a proxy must not hold: the allocator's own descriptors */
	for (uint32_t k = 0; k < 2 * j->n; k++)
		close_fds[nclose++] = j->outs[k].in_fd;
	for (uint32_t k = 0; k < j->n; k++)
		close_fds[nclose++] = j->procs[k].stdin_fd;
	close_fds[nclose++] = j->listen_fd;
	close_fds[nclose++] = j->signal_fd;
	close_fds[nclose++] = j->timer_fd;
	close_fds[nclose++] = j->ping_fd;
	proxies_start(j->pt, close_fds, nclose, j->proxies, j->control);
	free(close_fds);
	for (uint32_t i = 0; i < j->n; i++) {
		wire_reader_init(&j->control_readers[i], j->control[i], FROM_PROXY,
				 j->control_bufs + (size_t)i * CONTROL_BUF, CONTROL_BUF);
		if (ev_add(j->loop, j->control[i], on_control, j) < 0)
			die_errno("cannot watch proxy %u's control socket", i);
	}
	for (uint32_t i = 0; i < j->n; i++) {
		struct msg m = {.type = MSG_WELCOME, .node = j->n, .page = j->pt->npages,
				.arg = j->pt->base};

		node_send(j->pt, i, &m, NULL);
	}
	j->started = 1;
	arm_timer(j, 0); /* the join deadline no longer applies */
	if (j->ping_fd >= 0) {
		/* the first ping at once, then one a second */
		struct itimerspec t = {.it_value = {.tv_nsec = 1}, .it_interval = {.tv_sec = 1}};

		if (timerfd_settime(j->ping_fd, 0, &t, NULL) < 0)
			die_errno("timerfd_settime");
	}
	if (j->opt->verbose)
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

/* A node's stdout or stderr is readable. */
static void on_output(struct ev_loop *loop, int fd, void *ctx)
{
	if (output_pump(ctx) < 0)
		ev_del(loop, fd); /* at its end: the stream closed fd */
}

/* ---- setup and the loop ------------------------------------------------ */

static void raise_fd_limit(uint32_t n)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 5ull * n + 64)
		die(1, "%u nodes need about %u open files; the limit is %llu (ulimit -n)", n,
		    5 * n + 64, (unsigned long long)rl.rlim_cur);
}

static int job_finished(void *ctx)
{
	const struct job *j = ctx;

	return j->reaped == j->n;
}

int job_run(const struct options *opt, const char *executable)
{
	struct job job = {.opt = opt, .n = opt->nodes, .listen_fd = -1, .first_lost = -1};
	struct job *j = &job;
	struct hostlist hosts;
	struct launch_spec spec;
	struct job_address addr;
	char err[512], secret_hex[2 * DSM_SECRET_LEN + 1], cwd[4096];
	unsigned port;
	sigset_t sigs;
	uint32_t npages = (uint32_t)(opt->region_size / DSM_PAGE_SIZE);

	if (hostfile_load(opt->hostfile, &hosts, err, sizeof(err)) < 0)
		die(2, "%s", err);
	if (!opt->hostfile_given && hosts.count == 0 &&
	    clusterhosts_load(&hosts, err, sizeof(err)) < 0)
		die(2, "%s", err);
	if (opt->hostfile_given && hosts.count == 0 && access(opt->hostfile, R_OK) < 0)
		die(2, "%s: %s", opt->hostfile, strerror(errno));
	if (address_choose(&hosts, j->n, opt->address, &addr, err, sizeof(err)) < 0)
		die(2, "%s", err);
	if (!getcwd(cwd, sizeof(cwd)))
		die_errno("getcwd");
	raise_fd_limit(j->n);
	j->pt = pt_create(j->n, npages, DSM_REGION_BASE);
	if (!j->pt)
		die_errno("cannot create the page table for %u pages", npages);
	j->pt->prefetch = opt->prefetch;
	nodelink_io_init(&j->io, j->pt);
	j->loop = ev_create();
	if (services_init(&j->svc, j->pt, &j->io) < 0 || !j->loop)
		die(1, "out of memory");
	j->procs = xcalloc(j->n, sizeof(*j->procs));
	j->outs = xcalloc(2 * (size_t)j->n, sizeof(*j->outs));
	j->proxies = xcalloc(j->n, sizeof(*j->proxies));
	j->proxy_reaped = xcalloc(j->n, sizeof(*j->proxy_reaped));
	j->control = xcalloc(j->n, sizeof(*j->control));
	j->control_readers = xcalloc(j->n, sizeof(*j->control_readers));
	j->control_bufs = xcalloc(j->n, CONTROL_BUF);
	for (uint32_t i = 0; i < j->n; i++)
		j->control[i] = -1;

	arc4random_buf(j->secret, sizeof(j->secret));
	for (unsigned i = 0; i < DSM_SECRET_LEN; i++)
		snprintf(secret_hex + 2 * i, 3, "%02x", j->secret[i]);

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGCHLD);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &sigs, NULL) < 0)
		die_errno("sigprocmask");
	signal(SIGPIPE, SIG_IGN);
	j->signal_fd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	j->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	j->ping_fd = opt->stats ? timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC) : -1;
	if (j->signal_fd < 0 || j->timer_fd < 0 || (opt->stats && j->ping_fd < 0))
		die_errno("signalfd/timerfd");
	/*
	 * Late in a turn, in this order: a node's death is judged after every
	 * LINK_LOST notice read in the same turn (so the right node is blamed),
	 * the join deadline after every join.
	 */
	if ((j->ping_fd >= 0 && ev_add_late(j->loop, j->ping_fd, on_ping_timer, j) < 0) ||
	    ev_add_late(j->loop, j->timer_fd, on_timer, j) < 0 ||
	    ev_add_late(j->loop, j->signal_fd, on_signal, j) < 0)
		die_errno("cannot watch the signalfd and timers");
	j->listen_fd = address_listen(&addr, &port);
	if (j->listen_fd < 0)
		die_errno("cannot listen on %s", inet_ntoa(addr.listen_on));
	if (rendezvous_init(&j->rv, j->listen_fd, j->n, npages, j->secret, 2 * (size_t)j->n + 16) < 0)
		die(1, "out of memory");
	j->rv.joined = node_joined;
	j->rv.watch = watch_joining;
	j->rv.unwatch = unwatch_joining;
	j->rv.ctx = j;
	if (ev_add(j->loop, j->listen_fd, on_joining, j) < 0)
		die_errno("cannot watch the listening socket");

	spec = (struct launch_spec){
		.executable = executable,
		.user_argv = opt->node_argv,
		.user_argc = opt->node_argc,
		.nnodes = j->n,
		.connect_host = addr.connect_host,
		.port = port,
		.secret_hex = secret_hex,
		.cwd = cwd,
	};
	if (opt->verbose) {
		char size[7]; /* 6 characters make humanize_number say "2.0GiB", not "2048MiB" */

		if (humanize_number(size, sizeof(size), (int64_t)opt->region_size, "B", HN_AUTOSCALE,
				    HN_NOSPACE | HN_DECIMAL | HN_IEC_PREFIXES) < 0)
			snprintf(size, sizeof(size), "?");
		report("starting %u node%s of %s; shared region of %s (%u pages) at %#llx; "
		       "nodes connect to %s:%u", j->n, j->n == 1 ? "" : "s", executable, size, npages,
		       (unsigned long long)DSM_REGION_BASE, addr.connect_host, port);
	}
	arm_timer(j, (int)opt->join_timeout);
	for (uint32_t i = 0; i < j->n; i++) {
		const char *host = hostlist_place(&hosts, i);
		char tag[HOST_NAME_LEN + 32];

		if (launch_node(&spec, i, host, &j->procs[i]) < 0) {
			report_errno("cannot start node %u on %s", i, host);
			j->n = i; /* only the ones started need reaping */
			end_job(j, 1);
			break;
		}
		snprintf(tag, sizeof(tag), "[node %u@%s] ", i, host);
		if (output_init(&j->outs[2 * i], j->procs[i].out_fd, STDOUT_FILENO,
				opt->tag_output ? tag : NULL) < 0 ||
		    output_init(&j->outs[2 * i + 1], j->procs[i].err_fd, STDERR_FILENO,
				opt->tag_output ? tag : NULL) < 0)
			die(1, "out of memory");
		if (ev_add(j->loop, j->outs[2 * i].in_fd, on_output, &j->outs[2 * i]) < 0 ||
		    ev_add(j->loop, j->outs[2 * i + 1].in_fd, on_output, &j->outs[2 * i + 1]) < 0)
			die_errno("cannot watch node %u's output", i);
	}
	explicit_bzero(secret_hex, sizeof(secret_hex));

	if (ev_run(j->loop, job_finished, j) < 0)
		die_errno("poll");

	/* every node is gone; proxies end when their links close */
	for (uint32_t i = 0; i < j->n; i++)
		if (j->proxies[i] > 0 && !j->proxy_reaped[i]) {
			int st;

			kill(j->proxies[i], SIGKILL);
			while (waitpid(j->proxies[i], &st, 0) < 0 && errno == EINTR)
				;
		}
	if (opt->stats) {
		struct node_stats **st = xcalloc(j->n ? j->n : 1, sizeof(*st));
		const char **names = xcalloc(j->n ? j->n : 1, sizeof(*names));

		for (uint32_t i = 0; i < j->n; i++) {
			st[i] = &j->pt->nodes[i].stats;
			names[i] = j->procs[i].host;
		}
		fprintf(stderr, "dsm: statistics\n");
		stats_print(stderr, st, names, j->n);
		free(st);
		free(names);
	}
	rendezvous_free(&j->rv);
	close(j->listen_fd);
	if (j->ping_fd >= 0)
		close(j->ping_fd);
	for (uint32_t k = 0; k < 2 * j->n; k++)
		output_free(&j->outs[k]);
	free(j->procs);
	free(j->outs);
	free(j->proxies);
	free(j->proxy_reaped);
	free(j->control);
	free(j->control_readers);
	free(j->control_bufs);
	ev_destroy(j->loop);
	services_free(&j->svc);
	hostlist_free(&hosts);
	pt_destroy(j->pt);
	return j->status;
}
