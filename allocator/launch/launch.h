/*
 * launch.h - the interface of allocator/launch/, getting the nodes of a job
 * going: which hosts they run on (a hosts file, else the batch system's
 * hosts), the address they connect back to, starting them, forwarding their
 * output, and their joining. Code outside this folder includes only this
 * header; hostfile.h, clusterhosts.h and shellwords.h are the folder's own
 * (and its unit tests'). All of it runs in the dsm process.
 */
#ifndef DSM_LAUNCH_H
#define DSM_LAUNCH_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../../common/protocol.h"

/* ---- hosts (hostfile.c, clusterhosts.c) --------------------------------- */
/*
 * The hosts file: one host per line, optional `slots=N`, `#` comments and
 * blank lines ignored (format in the shipped `hostfile` and in dsm-hosts(5)).
 * Nodes are placed by walking the lines and giving each host its slots (1 if
 * not given) of consecutive node ids, cycling when the lines run out: without
 * slots that is round-robin.
 */

#define HOST_NAME_LEN 256

struct host {
	char name[HOST_NAME_LEN];
	uint32_t slots;
};

struct hostlist {
	struct host *hosts;
	size_t count;
};

/* Read and parse a hosts file; a missing file gives an empty list. 0, or -1
 * with a message in err. An empty list means localhost. */
int hostfile_load(const char *path, struct hostlist *out, char *err, size_t errlen);

/*
 * Hosts from a batch system, for when there is no -H and ./hosts is missing
 * or empty: SLURM_JOB_NODELIST if set and not empty (each host with its
 * slots from SLURM_TASKS_PER_NODE when that is set), else the file named by
 * PBS_NODEFILE if set and not empty. Returns 0 with an empty list when
 * neither is set, 0 with the hosts, or -1 with a message in err for a
 * malformed value or an unreadable node file.
 */
int clusterhosts_load(struct hostlist *out, char *err, size_t errlen);

/*
 * The task count of the Slurm allocation dsm runs in, the default node
 * count when nodes go where Slurm says (like mpirun's): SLURM_NTASKS, else
 * the sum of SLURM_TASKS_PER_NODE. 1 with *count set, 0 when neither is
 * set, -1 with a message in err for a malformed value.
 */
int clusterhosts_task_count(uint32_t *count, char *err, size_t errlen);

void hostlist_free(struct hostlist *l);

/* The host of node `node` (never NULL: "localhost" for an empty list). */
const char *hostlist_place(const struct hostlist *l, uint32_t node);

/* ---- the allocator's address (address.c) -------------------------------- */
/*
 * Where the allocator listens and which address the nodes are told to
 * connect to. With -A ADDR, that address. Otherwise loopback when every host
 * is this machine or a loopback address (127.0.0.0/8), else this machine's
 * address on the route to the first remote host, listening on all interfaces
 * (the job secret keeps strangers out). IPv4. Ports are always chosen by the
 * kernel.
 */

struct job_address {
	struct in_addr listen_on;
	char connect_host[HOST_NAME_LEN];
};

/* 0, or -1 with a message in err. */
int address_choose(const struct hostlist *hosts, uint32_t nnodes, const char *requested,
		   struct job_address *out, char *err, size_t errlen);

/* Listen on out->listen_on with a kernel-chosen port; the fd, or -1 with errno. */
int address_listen(const struct job_address *a, unsigned *port);

/* ---- starting a node (launch.c) ----------------------------------------- */
/*
 * Fork, a process group of its own (so ^C reaches dsm, which ends the job in
 * order), PR_SET_PDEATHSIG so nothing outlives a killed dsm, stdout and
 * stderr into pipes that dsm forwards line by line, then exec of either the
 * program itself (this machine) or the ssh client running it on another
 * host. The program gets the one argument dsm adds (see client/args.c); the
 * job secret goes in the environment locally and through ssh's standard
 * input remotely, never on a command line.
 */

struct node_proc {
	pid_t pid;
	int out_fd, err_fd; /* read ends; -1 once at EOF */
	const char *host;
	int reaped;
	int status;        /* wait status once reaped */
	int joined;
	int link_lost;     /* its link closed without MSG_EXIT */
	uint64_t lost_at;  /* ... at this time (mono_us, from its proxy) */
	int remote;        /* started through ssh */
	int stdin_fd;      /* remote: ssh's standard input, open until the job ends */
	int via_srun;      /* a task of the job's one srun step: pid 0, no pipes */
	int status_known;  /* via_srun: its shim said how it ended (in status) */
	int no_status;     /* via_srun: reaped without a word; status is srun's */
};

/* launch_spec.stdin_node: every node reads dsm's standard input (dsm -i all) */
#define LAUNCH_STDIN_ALL UINT32_MAX

struct launch_spec {
	const char *executable; /* absolute or relative path that exists */
	char **user_argv;       /* NODE-OPTIONs, NULL-terminated */
	int user_argc;
	uint32_t nnodes;
	const char *connect_host; /* where nodes reach the allocator */
	unsigned port;
	const char *secret_hex;
	const char *cwd;          /* the nodes' working directory */
	uint32_t stdin_node;      /* the one that reads dsm's stdin, or LAUNCH_STDIN_ALL */
};

/*
 * Standard input (dsm -i), as mpirun does it: node spec->stdin_node reads
 * dsm's, every other node /dev/null. A terminal reaches the node through a
 * relay process in dsm's process group (the node, in a group of its own,
 * would be stopped by SIGTTIN), which dsm's exit ends. LAUNCH_STDIN_ALL:
 * every node opens the regular file dsm's standard input is anew and reads
 * it from its start. Nodes on other hosts always read /dev/null: ssh's
 * standard input carries the secret and tells the remote side when the job
 * is over.
 */

/*
 * Whether that can be done, before any node starts: -i all needs a regular
 * file and every node on this machine; a node named with -i (`given`) must
 * be on this machine. 0, or -1 with a message in err (a usage error).
 */
int launch_check_stdin(uint32_t stdin_node, int given, const struct hostlist *hosts,
		       uint32_t nnodes, char *err, size_t errlen);

/*
 * Whether DSM_WRAPPER, DSM_SSH and DSM_SRUN split into words
 * (shellwords.h), and DSM_SSH and DSM_SRUN, when not empty, name a command. 0, or -1 with "cannot parse
 * VAR=VALUE: why" in err (a usage error).
 */
int launch_check_env(char *err, size_t errlen);

/*
 * Start node `nid` on `host` (by fork/exec when it is this machine, else
 * ssh). 0, or -1 with errno (nothing started).
 */
int launch_node(const struct launch_spec *spec, uint32_t nid, const char *host,
		struct node_proc *np);

/*
 * Resolve the executable like execvp would (a name without '/' is searched
 * in PATH). Returns a malloc'ed path, or NULL with errno (ENOENT, EACCES).
 */
char *resolve_executable(const char *name);

/* ---- node output (output.c) --------------------------------------------- */
/*
 * Forwarding of node stdout/stderr to dsm's own, in whole lines, without
 * ever blocking the event loop. Each node stream collects what its pipe
 * gives; whatever is complete (up to the last newline) goes to its sink,
 * dsm's stdout or stderr, as one chunk of whole lines (with -t, each line
 * tagged like mpirun --tag-output) in one write(). A sink writes without
 * blocking (see output_sink_init); a chunk it could only partly write is
 * finished before any other, so lines of different nodes never interleave.
 * While a sink cannot take more, streams with complete lines queue for it
 * in turn, and a stream whose buffer is full stops reading its pipe, so the
 * node blocks in write(): backpressure instead of a blocked dsm. A line
 * longer than the buffer goes out in pieces; the tail is flushed at EOF.
 * dsm's own messages (report(), util.h) go through the stderr sink too.
 */

#define OUTPUT_LINE_MAX 65536

struct output_sink;
struct output_stream;

/* What the sink asks of the event loop; ctx is the caller's. */
struct output_hooks {
	void (*reading)(void *ctx, struct output_stream *s, int on); /* watch s->in_fd, or not */
	void (*writing)(void *ctx, struct output_sink *k, int on);   /* watch k->fd for room */
	void *ctx;
};

struct output_sink {
	int fd;          /* dsm's stdout or stderr, set up by output_sink_init */
	int mode;        /* how a write avoids blocking (output.c) */
	int dead;        /* broken or abandoned: output is dropped from now on */
	int watching;    /* hooks.writing(on) in effect: waiting for room */
	int running;
	char *pend;      /* a chunk being written, pend_off of pend_len bytes done */
	size_t pend_len, pend_off;
	struct output_stream *head, *tail; /* streams with lines waiting, in turn */
	struct output_hooks hooks;
};

struct output_stream {
	int in_fd;       /* read end of the node's pipe; -1 once closed (or none) */
	struct output_sink *sink;
	size_t len;
	char *buf;       /* OUTPUT_LINE_MAX bytes read and not yet handed to the sink */
	char *tag;       /* "[node K@host] " before every line, or NULL */
	size_t tag_len;
	int at_line_start;
	int reading;     /* in_fd is watched (not paused for a full buffer) */
	int gone;        /* the writer is gone: read what is there, then close */
	int queued;
	int held;        /* fed by hand, yet only whole lines go out until closed */
	void (*room)(void *ctx); /* fed by hand: some of buf went to the sink */
	void *room_ctx;
	struct output_stream *next;
};

/*
 * Make fd (STDOUT_FILENO or STDERR_FILENO) a sink. A pipe, FIFO or
 * terminal is reopened through /proc/self/fd with O_NONBLOCK and the new
 * description put in place of fd, so nothing in this process blocks on it
 * while the caller's shell keeps its own description untouched; a socket is
 * written with MSG_DONTWAIT; a regular file is written as it is (it does not
 * block). Where reopening fails, each write is at most PIPE_BUF bytes and
 * only after poll() said there is room. 0, or -1 when out of memory.
 */
int output_sink_init(struct output_sink *k, int fd, const struct output_hooks *hooks);
/* k->fd has room (the loop saw POLLOUT or an error). */
void output_sink_ready(struct output_sink *k);
/* Nothing waits to be written (or the sink is dead). */
int output_sink_idle(const struct output_sink *k);
/* The caller stops waiting for this sink: if it is waiting for room now,
 * drop what it holds and everything later (dsm was told to end). */
void output_sink_abandon_if_stuck(struct output_sink *k);
void output_sink_free(struct output_sink *k);

/* A stream from in_fd (made non-blocking; -1: a stream fed by output_put)
 * into sink k; tag may be NULL, it is copied. 0, or -1 when out of memory. */
int output_init(struct output_stream *s, int in_fd, struct output_sink *k, const char *tag);
/* in_fd is readable (or at its end): read, and hand complete lines on. */
void output_pump(struct output_stream *s);
/* The writer is gone: read what is still in the pipe without waiting for a
 * writer that may live on (a grandchild), hand it all on and close. */
void output_writer_gone(struct output_stream *s);
/* Everything read is handed on and the pipe closed. */
int output_done(const struct output_stream *s);
/* Append n bytes to a stream fed by hand (what does not fit is dropped). */
void output_put(struct output_stream *s, const char *p, size_t n);
/*
 * A stream fed by hand (output_put) that, like one reading a pipe, hands
 * on only whole lines (or a full buffer) until output_fed_close(), which
 * hands on the rest; done only once closed and empty. 0, or -1 when out of
 * memory. The feeder may set s->room, called whenever part of the buffer
 * went to the sink, to go on after output_room() said it was full.
 */
int output_init_fed(struct output_stream *s, struct output_sink *k, const char *tag);
void output_fed_close(struct output_stream *s);
/* How many bytes output_put() takes now. */
size_t output_room(const struct output_stream *s);
/* Put tag (copied; NULL: none) before the lines from now on; 0, or -1 when
 * out of memory (the old tag stays). */
int output_set_tag(struct output_stream *s, const char *tag);
/* report() in this process (not in its children) writes into s from now on;
 * output_free(s) ends that. */
void output_take_reports(struct output_stream *s);
void output_free(struct output_stream *s);

/* ---- one srun step for every node (srun.c, srunoutput.c) ---------------- */
/*
 * dsm -L srun starts every node with one `srun --ntasks=N
 * --kill-on-bad-exit=1 --label --export=ALL --input=K ...` (DSM_SRUN
 * replaces the srun command). srun exports its environment to the tasks,
 * so DSM_SECRET reaches them without being on any command line. Each task
 * runs a small shim, `/bin/sh -c SHIM`, that says where it runs, runs the
 * program (with --dsm-node=slurm,N,PORT,HOST: libsm takes its node id from
 * SLURM_PROCID), waits for it and says how it ended, on both its stdout and
 * stderr, as lines starting with SRUN_TASK_MARK: "start HOST" and "end
 * STATUS" (the shell's $?, 128+N for a program killed by signal N). So dsm
 * learns each node's status from the one srun it started, as it would from
 * one ssh per node. The shim ignores SIGTERM, SIGINT and SIGHUP itself, so
 * that it outlives a program Slurm signals and can say how it ended.
 */

#define SRUN_TASK_MARK "\001dsm-srun-task "
/* srun --label cuts lines into pieces of this many bytes (Slurm's
 * SLURM_IO_MAX_MSG_LEN) */
#define SRUN_PIECE 1024

/*
 * Fork and exec srun, in a process group of its own, with
 * PR_SET_PDEATHSIG(SIGTERM) (on which srun ends its step), stdout and
 * stderr into pipes whose read ends go into *out_fd and *err_fd, and the
 * standard input of spec->stdin_node (srun --input). 0, or -1 with errno.
 */
int launch_srun(const struct launch_spec *spec, pid_t *pid, int *out_fd, int *err_fd);

struct srun_output;
struct srun_node_part;

struct srun_output_hooks {
	void (*reading)(void *ctx, struct srun_output *o, int on); /* watch o->in_fd */
	void (*started)(void *ctx, uint32_t node, const char *host);
	void (*ended)(void *ctx, uint32_t node, int status_code);   /* from stderr only */
	void (*closed)(void *ctx, struct srun_output *o);           /* all read and handed on */
	void *ctx;
};

/*
 * One of srun's two output pipes (which: 0 stdout, 1 stderr), split by
 * label into the streams nodes[2K + which] (fed streams: output_init_fed),
 * srun's own lines into `own`. A stream without room stops the reading of
 * the pipe until it has some again (backpressure, as for a node's pipe).
 */
struct srun_output {
	int in_fd;       /* -1 once at its end */
	int which;
	uint32_t nnodes;
	struct output_stream *nodes;
	struct output_stream *own;
	struct srun_node_part *part; /* per node: state between its pieces */
	char *buf;
	size_t len;
	int reading, paused, busy, again, gone, eof, done;
	struct srun_output_hooks hooks;
};

/* 0, or -1 when out of memory (or in_fd is not open). */
int srun_output_init(struct srun_output *o, int in_fd, int which, uint32_t nnodes,
		     struct output_stream *nodes, struct output_stream *own,
		     const struct srun_output_hooks *hooks);
/* o->in_fd is readable. */
void srun_output_pump(struct srun_output *o);
/* A stream it feeds has room again (its room hook). */
void srun_output_resume(void *ctx);
/* srun has exited: read what is left without waiting, then close. */
void srun_output_writer_gone(struct srun_output *o);
/* Everything read, handed on, every stream closed. */
int srun_output_done(const struct srun_output *o);
void srun_output_free(struct srun_output *o);

/* ---- joining (rendezvous.c) --------------------------------------------- */
/*
 * The allocator's listening socket and the connections that have not yet
 * said who they are: each is read without ever blocking until it holds a
 * whole HELLO, which must carry this job's secret (compared in constant
 * time), this dsm's protocol version and a node id that has not joined yet.
 * A connection failing any check, sending garbage, or arriving when every
 * node has joined is refused and logged; the job goes on.
 *
 * Strangers cannot keep the nodes out: a HELLO must be whole within
 * hello_timeout_us of the accept (a node sends it right after connecting),
 * and when `cap` connections are half-open a new one evicts the oldest.
 * Both are refusals. Each refusal is logged (dsm -l), but stderr gets at most
 * RENDEZVOUS_REFUSAL_LINES lines about them per refusal_window_us, then one
 * "N more connections refused" when the window ends, and rendezvous_free()
 * prints the total if any were left unsaid.
 *
 * The caller owns the event loop: it watches listen_fd itself, is told
 * through watch/unwatch which other fds to watch too (the half-open
 * connections and timer_fd, the timerfd behind the deadlines), and hands
 * every ready one of these fds to rendezvous_ready().
 */

#define RENDEZVOUS_HELLO_TIMEOUT_US 2000000u   /* 2 s */
#define RENDEZVOUS_REFUSAL_WINDOW_US 1000000u  /* 1 s */
#define RENDEZVOUS_REFUSAL_LINES 5u

struct pending_conn;

struct rendezvous {
	int listen_fd;
	int timer_fd;            /* CLOCK_MONOTONIC timerfd: deadlines, window ends */
	int timer_watched;       /* handed to watch() (on first arming) */
	uint32_t nnodes, npages;
	int closed;              /* every node joined: refuse all newcomers */
	uint8_t secret[DSM_SECRET_LEN];
	struct pending_conn *pending;
	size_t npending, cap;
	uint64_t hello_timeout_us;   /* RENDEZVOUS_HELLO_TIMEOUT_US; tests shorten it */
	uint64_t refusal_window_us;  /* RENDEZVOUS_REFUSAL_WINDOW_US */
	uint64_t window_start;       /* mono_us() of the current window's first refusal */
	unsigned window_lines;       /* refusal lines printed in it */
	uint64_t window_suppressed;  /* refusals in it not printed (yet to be counted) */
	uint64_t refused, suppressed; /* totals */
	/* the node id joined with this link; -1 refuses it (id taken) */
	int (*joined)(void *ctx, uint32_t node, int fd);
	/* an fd to watch from now on; no longer (before close) */
	void (*watch)(void *ctx, int fd);
	void (*unwatch)(void *ctx, int fd);
	void *ctx;
};

/* 0, or -1 with errno. At most `cap` connections are half-open. */
int rendezvous_init(struct rendezvous *r, int listen_fd, uint32_t nnodes, uint32_t npages,
		    const uint8_t secret[DSM_SECRET_LEN], size_t cap);
/* Closes what is half-open and the timer; says the total refused if some were
 * not shown. Once is enough; again does nothing. */
void rendezvous_free(struct rendezvous *r);

/* fd (the listener, timer_fd or a watched connection) is readable: accept,
 * expire or read. */
void rendezvous_ready(struct rendezvous *r, int fd);

/* From now on every connection is refused ("all nodes have joined"). */
void rendezvous_close(struct rendezvous *r);

#endif /* DSM_LAUNCH_H */
