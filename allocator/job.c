/*
 * job.c - setting a job up and tearing it down (see job.h). Everything the
 * allocator waits for is a registration in one event loop (events.h): the
 * listening socket and half-joined connections (jobstart.c), the nodes'
 * output pipes (here), the proxies' control sockets (control.c), a signalfd
 * (SIGCHLD, SIGINT, SIGTERM, SIGHUP) and a timerfd (the join deadline, then
 * the grace period before SIGKILL; both jobstatus.c), and with -S the ping
 * timer (jobstart.c).
 */
#include "job.h"

#include <bsd/libutil.h>
#include <bsd/stdlib.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "jobsrun.h"
#include "jobstart.h"
#include "jobstats.h"
#include "jobstatus.h"
#include "locks/locks.h"
#include "util.h"

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);

	if (!p)
		die(1, "out of memory");
	return p;
}

/* ---- setup -------------------------------------------------------------- */

static void raise_fd_limit(uint32_t n)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 5ull * n + 64)
		die(1, "%u node%s about %u open files; the limit is %llu (ulimit -n)", n,
		    n == 1 ? " needs" : "s need", 5 * n + 64, (unsigned long long)rl.rlim_cur);
}

/* -L as asked, else srun inside a Slurm allocation and ssh elsewhere. */
static int resolve_launcher(const struct options *opt)
{
	const char *id = getenv("SLURM_JOB_ID");

	if (opt->launcher != LAUNCHER_DEFAULT)
		return opt->launcher;
	return id && *id ? LAUNCHER_SRUN : LAUNCHER_SSH;
}

/* Without -n, when nodes go where Slurm says: the allocation's task count. */
static uint32_t node_count(const struct options *opt, int from_slurm)
{
	char err[512];
	uint32_t n;
	int rc;

	if (opt->nodes_given || !from_slurm)
		return opt->nodes;
	rc = clusterhosts_task_count(&n, err, sizeof(err));
	if (rc < 0)
		die(2, "%s", err);
	if (rc == 0)
		return opt->nodes;
	if (n > DSM_MAX_NODES)
		die(2, "the Slurm allocation has %u tasks and dsm runs at most %u nodes: use -n", n,
		    DSM_MAX_NODES);
	return n;
}

/*
 * srun places the nodes on any host of the allocation: where to listen is
 * chosen for all of them (one slot each). Outside an allocation the hosts
 * are unknown: nodes connect to this machine's name.
 */
static int srun_address(const struct options *opt, const struct hostlist *hosts,
			struct job_address *addr, char *err, size_t errlen)
{
	struct hostlist each = {.count = hosts->count};
	char self[HOST_NAME_LEN];
	int rc;

	if (opt->address || hosts->count == 0) {
		if (!opt->address && gethostname(self, sizeof(self)) < 0)
			die_errno("gethostname");
		self[sizeof(self) - 1] = '\0';
		return address_choose(hosts, 0, opt->address ? opt->address : self, addr, err,
				      errlen);
	}
	each.hosts = calloc(hosts->count, sizeof(*each.hosts));
	if (!each.hosts)
		die(1, "out of memory");
	for (size_t i = 0; i < hosts->count; i++) {
		each.hosts[i] = hosts->hosts[i];
		each.hosts[i].slots = 1;
	}
	rc = address_choose(&each, (uint32_t)(hosts->count > DSM_MAX_NODES ? DSM_MAX_NODES
									 : hosts->count),
			    NULL, addr, err, errlen);
	free(each.hosts);
	return rc;
}

/*
 * The hosts (the hosts file, else the batch system's; Slurm's alone with
 * srun; none with -L local), the node count, and the address to listen on.
 */
static uint32_t find_hosts(const struct options *opt, int launcher, struct hostlist *hosts,
			   struct job_address *addr)
{
	const char *slurm = getenv("SLURM_JOB_NODELIST");
	struct hostlist none = {0};
	struct options checked = *opt;
	char err[512];
	uint32_t n;

	hosts->hosts = NULL;
	hosts->count = 0;
	if (launcher != LAUNCHER_SSH && opt->hostfile_given)
		die(2, "-H %s: with -L %s, %s", opt->hostfile, launcher_name(launcher),
		    launcher == LAUNCHER_LOCAL ? "every node runs on this machine"
					       : "Slurm places the nodes (-L ssh starts them "
						 "on the hosts of a file)");
	if (launcher == LAUNCHER_SSH && hostfile_load(opt->hostfile, hosts, err, sizeof(err)) < 0)
		die(2, "%s", err);
	if ((launcher == LAUNCHER_SSH || (launcher == LAUNCHER_SRUN && slurm && *slurm)) &&
	    !opt->hostfile_given && hosts->count == 0 &&
	    clusterhosts_load(hosts, err, sizeof(err)) < 0)
		die(2, "%s", err);
	if (opt->hostfile_given && hosts->count == 0 && access(opt->hostfile, R_OK) < 0)
		die(2, "%s: %s", opt->hostfile, strerror(errno));
	/* from Slurm: srun, or ssh to the hosts of SLURM_JOB_NODELIST */
	n = node_count(opt, launcher == LAUNCHER_SRUN ||
				    (launcher == LAUNCHER_SSH && hosts->count > 0 &&
				     !opt->hostfile_given && slurm && *slurm &&
				     access(opt->hostfile, F_OK) < 0));
	checked.nodes = n;
	if (options_check_stdin(&checked, err, sizeof(err)) < 0)
		die(2, "%s", err);
	if (launcher == LAUNCHER_SRUN) {
		if (srun_address(opt, hosts, addr, err, sizeof(err)) < 0)
			die(2, "%s", err);
		/* every node reads what srun passes on: no host rules apply */
		if (launch_check_stdin(opt->stdin_node, opt->stdin_given, &none, n, err,
				       sizeof(err)) < 0)
			die(2, "%s", err);
		return n;
	}
	if (address_choose(hosts, n, opt->address, addr, err, sizeof(err)) < 0)
		die(2, "%s", err);
	if (launch_check_stdin(opt->stdin_node, opt->stdin_given, hosts, n, err, sizeof(err)) < 0)
		die(2, "%s", err);
	return n;
}

/* The shared page table, the services, and the job's own bookkeeping. */
static void create_state(struct job *j, uint32_t npages)
{
	raise_fd_limit(j->n);
	j->pt = pt_create(j->n, npages, DSM_REGION_BASE);
	if (!j->pt)
		die_errno("cannot create the page table for %u page%s", npages,
			  npages == 1 ? "" : "s");
	j->pt->prefetch = j->opt->prefetch;
	/* the lock table: beside the page table, before the proxies fork */
	j->pt->locks = lt_create(j->n, LT_SLOTS, LT_WAITERS);
	if (!j->pt->locks)
		die_errno("cannot create the lock table");
	nodelink_io_init(&j->io, j->pt);
	j->loop = ev_create();
	if (services_init(&j->svc, j->pt, &j->io) < 0 || !j->loop)
		die(1, "out of memory");
	j->procs = xcalloc(j->n, sizeof(*j->procs));
	j->outs = xcalloc(2 * (size_t)j->n, sizeof(*j->outs));
	j->proxies = xcalloc(j->n, sizeof(*j->proxies));
	j->proxy_reaped = xcalloc(j->n, sizeof(*j->proxy_reaped));
	j->reap_batch = xcalloc(j->n, sizeof(*j->reap_batch));
	j->control = control_new(j->n, j, &j->svc, j->loop);
	if (!j->control)
		die(1, "out of memory");
	arc4random_buf(j->secret, sizeof(j->secret));
}

/*
 * Signals and timers are handled late in a turn: a node's death is judged
 * after every LINK_LOST notice read in the same turn (so the right node is
 * blamed), the join deadline after every join.
 */
static void watch_signals_and_timers(struct job *j)
{
	sigset_t sigs;

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
	j->ping_fd = j->opt->stats ? timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC) : -1;
	if (j->signal_fd < 0 || j->timer_fd < 0 || (j->opt->stats && j->ping_fd < 0))
		die_errno("signalfd/timerfd");
	/* in this order within the late round, as ever */
	if ((j->ping_fd >= 0 && ev_add_late(j->loop, j->ping_fd, job_on_ping, j) < 0) ||
	    ev_add_late(j->loop, j->timer_fd, job_on_timer, j) < 0 ||
	    ev_add_late(j->loop, j->signal_fd, job_on_signal, j) < 0)
		die_errno("cannot watch the signalfd and timers");
}

static void say_starting(const struct job *j, const char *executable, uint32_t npages,
			 const struct launch_spec *spec)
{
	char size[7]; /* 6 characters make humanize_number say "2.0GiB", not "2048MiB" */

	if (humanize_number(size, sizeof(size), (int64_t)j->opt->region_size, "B", HN_AUTOSCALE,
			    HN_NOSPACE | HN_DECIMAL | HN_IEC_PREFIXES) < 0)
		snprintf(size, sizeof(size), "?");
	report("starting %u node%s of %s with %s; shared region of %s (%u page%s) at %#llx; "
	       "nodes connect to %s:%u", j->n, j->n == 1 ? "" : "s", executable,
	       j->launcher == LAUNCHER_SRUN ? "srun" : j->launcher == LAUNCHER_LOCAL ?
	       "fork/exec" : "fork/exec or ssh", size, npages,
	       npages == 1 ? "" : "s", (unsigned long long)DSM_REGION_BASE, spec->connect_host,
	       spec->port);
}

/* ---- node output (launch.h): the loop serves the streams and sinks ------ */

/* A node's stdout or stderr is readable. */
static void on_output(struct ev_loop *loop, int fd, void *ctx)
{
	(void)loop;
	(void)fd;
	output_pump(ctx);
}

/* dsm's stdout or stderr has room again. */
static void on_sink(struct ev_loop *loop, int fd, void *ctx)
{
	(void)loop;
	(void)fd;
	output_sink_ready(ctx);
}

static void watch_output(void *ctx, struct output_stream *s, int on)
{
	struct job *j = ctx;

	if (!on)
		ev_del(j->loop, s->in_fd);
	else if (ev_add(j->loop, s->in_fd, on_output, s) < 0)
		die_errno("cannot watch a node's output");
}

static void watch_sink(void *ctx, struct output_sink *k, int on)
{
	struct job *j = ctx;

	if (!on)
		ev_del(j->loop, k->fd);
	else if (ev_add_writable(j->loop, k->fd, on_sink, k) < 0)
		die_errno("cannot watch dsm's own output");
}

/*
 * dsm's stdout and stderr as sinks that never block, and its own messages
 * into the stderr one, queued with the nodes' lines: before anything is
 * forked, so the proxies inherit the non-blocking descriptions too.
 */
static void open_sinks(struct job *j)
{
	struct output_hooks hooks = {.reading = watch_output, .writing = watch_sink, .ctx = j};

	if (output_sink_init(&j->sinks[0], STDOUT_FILENO, &hooks) < 0 ||
	    output_sink_init(&j->sinks[1], STDERR_FILENO, &hooks) < 0 ||
	    output_init(&j->reports, -1, &j->sinks[1], NULL) < 0)
		die(1, "out of memory");
	output_take_reports(&j->reports);
}

/* Everything read from the nodes, and every message, is written out. */
static int output_flushed(const struct job *j)
{
	for (uint32_t k = 0; k < 2 * j->n; k++)
		if (!output_done(&j->outs[k]))
			return 0;
	if (j->srun && !jobsrun_output_done(j))
		return 0;
	return output_done(&j->reports) && output_sink_idle(&j->sinks[0]) &&
	       output_sink_idle(&j->sinks[1]);
}

/* Start every node and forward its output; a node that cannot be started ends the job. */
static void launch_nodes(struct job *j, const struct launch_spec *spec,
			 const struct hostlist *hosts)
{
	for (uint32_t i = 0; i < j->n; i++) {
		const char *host = hostlist_place(hosts, i);
		char tag[HOST_NAME_LEN + 32];
		const char *t = j->opt->tag_output ? tag : NULL;

		if (launch_node(spec, i, host, &j->procs[i]) < 0) {
			report_errno("cannot start node %u on %s", i, host);
			j->n = i; /* only the ones started need reaping */
			job_end(j, 1);
			break;
		}
		snprintf(tag, sizeof(tag), "[node %u@%s] ", i, host);
		if (output_init(&j->outs[2 * i], j->procs[i].out_fd, &j->sinks[0], t) < 0 ||
		    output_init(&j->outs[2 * i + 1], j->procs[i].err_fd, &j->sinks[1], t) < 0)
			die_errno("cannot forward node %u's output", i);
	}
}

/* ---- teardown ----------------------------------------------------------- */

static int reports_have_room(void *ctx)
{
	const struct job *j = ctx;

	return j->signalled || j->reports.len < OUTPUT_LINE_MAX;
}

/* Queue text of any length with dsm's messages, waiting for room as needed. */
static void put_reports(struct job *j, const char *p, size_t n)
{
	while (n > 0 && !j->signalled) {
		size_t room = OUTPUT_LINE_MAX - j->reports.len;

		if (room == 0) {
			if (ev_run(j->loop, reports_have_room, j) < 0)
				die_errno("poll");
			continue;
		}
		if (room > n)
			room = n;
		output_put(&j->reports, p, room);
		p += room;
		n -= room;
	}
}

static void print_stats(struct job *j)
{
	struct node_stats **st = xcalloc(j->n ? j->n : 1, sizeof(*st));
	const char **names = xcalloc(j->n ? j->n : 1, sizeof(*names));
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		die(1, "out of memory");
	for (uint32_t i = 0; i < j->n; i++) {
		st[i] = &j->pt->nodes[i].stats;
		names[i] = j->procs[i].host;
	}
	fprintf(f, "dsm: statistics\n");
	stats_print(f, st, names, j->n);
	if (fclose(f) != 0)
		die(1, "out of memory");
	put_reports(j, text, len);
	free(text);
	free(st);
	free(names);
}

/* Every node is gone; proxies end when their links close. */
static void stop_proxies(struct job *j)
{
	for (uint32_t i = 0; i < j->n; i++)
		if (j->proxies[i] > 0 && !j->proxy_reaped[i]) {
			int st;

			kill(j->proxies[i], SIGKILL);
			while (waitpid(j->proxies[i], &st, 0) < 0 && errno == EINTR)
				;
		}
}

static void teardown(struct job *j)
{
	jobsrun_free(j);
	rendezvous_free(&j->rv);
	control_free(j->control, j->n);
	close(j->listen_fd);
	if (j->ping_fd >= 0)
		close(j->ping_fd);
	for (uint32_t k = 0; k < 2 * j->n; k++)
		output_free(&j->outs[k]);
	output_free(&j->reports); /* report() writes to stderr itself again */
	output_sink_free(&j->sinks[0]);
	output_sink_free(&j->sinks[1]);
	ev_destroy(j->loop);
	free(j->procs);
	free(j->outs);
	free(j->proxies);
	free(j->proxy_reaped);
	free(j->reap_batch);
	services_free(&j->svc);
	lt_destroy(j->pt->locks);
	pt_destroy(j->pt);
}

/* Every node reaped and its output written out, unless dsm was told to end. */
static int job_finished(void *ctx)
{
	const struct job *j = ctx;

	return j->reaped == j->n && (!j->srun || j->srun->reaped) &&
	       (j->signalled || output_flushed(j));
}

static int all_written(void *ctx)
{
	const struct job *j = ctx;

	return j->signalled || output_flushed(j);
}

int job_run(const struct options *opt, const char *executable)
{
	struct job job = {.opt = opt, .listen_fd = -1, .first_lost = -1};
	struct job *j = &job;
	struct hostlist hosts;
	struct job_address addr;
	char secret_hex[2 * DSM_SECRET_LEN + 1], cwd[4096];
	unsigned port;
	uint32_t npages = (uint32_t)(opt->region_size / DSM_PAGE_SIZE);

	j->launcher = resolve_launcher(opt);
	j->n = find_hosts(opt, j->launcher, &hosts, &addr);
	if (!getcwd(cwd, sizeof(cwd)))
		die_errno("getcwd");
	create_state(j, npages);
	for (unsigned i = 0; i < DSM_SECRET_LEN; i++)
		snprintf(secret_hex + 2 * i, 3, "%02x", j->secret[i]);
	watch_signals_and_timers(j);
	open_sinks(j);
	job_listen(j, &addr, &port, npages);

	struct launch_spec spec = {
		.executable = executable,
		.user_argv = opt->node_argv,
		.user_argc = opt->node_argc,
		.nnodes = j->n,
		.connect_host = addr.connect_host,
		.port = port,
		.secret_hex = secret_hex,
		.cwd = cwd,
		.stdin_node = opt->stdin_node == OPTIONS_STDIN_ALL ? LAUNCH_STDIN_ALL : opt->stdin_node,
	};
	if (opt->verbose)
		say_starting(j, executable, npages, &spec);
	job_arm_timer(j, (int)opt->join_timeout);
	if (j->launcher == LAUNCHER_SRUN)
		jobsrun_start(j, &spec);
	else
		launch_nodes(j, &spec, &hosts);
	explicit_bzero(secret_hex, sizeof(secret_hex));

	if (ev_run(j->loop, job_finished, j) < 0)
		die_errno("poll");
	stop_proxies(j);
	if (j->opt->stats)
		print_stats(j);
	if (ev_run(j->loop, all_written, j) < 0)
		die_errno("poll");
	teardown(j);
	hostlist_free(&hosts);
	return j->status;
}
