/*
 * libsm.h - state and internal functions shared by the files of libsm.
 * Nothing here is exported: the library is built with -fvisibility=hidden and
 * only the sm_ functions of sm.h and sm_parmacs.h are visible to programs,
 * and the sigaction() and signal() that sigchain.c interposes.
 *
 * Concurrency model (docs/design.md, "Threads inside a node"): any thread of
 * the node may fault or call an sm_ function, and SIGIO goes to whichever
 * thread does not block it. Everything libsm shares between threads is
 * guarded by one state lock (statelock.c), an async-signal-safe futex lock
 * taken only with libsm's signals (SIGIO, SM_HOLD_SIGNAL) blocked and never
 * held across anything that can fault, so no signal handler ever waits for
 * a lock its own thread holds. The link is read by one thread at a time,
 * the leader (wait.c): a thread that waits in libsm reads for everyone,
 * dispatches every message and hands each reply to the thread that waits
 * for it; SIGIO's handler reads only when no thread is waiting.
 */
#ifndef LIBSM_H
#define LIBSM_H

#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "../common/protocol.h"
#include "../common/wire.h"

/* Marks what libsm exports: the functions of sm.h and sm_parmacs.h,
 * sigaction, signal. */
#define SM_API __attribute__((visibility("default")))

/*
 * ThreadSanitizer runs a signal handler only when its thread next enters
 * the runtime or an interceptor: a SIGIO the kernel gave a thread that is
 * computing may not be seen for a long time. In such builds the leader
 * waits for the link's data itself (poll), not for SIGIO (wait.c).
 */
#if defined(__SANITIZE_THREAD__)
#define SM_DEFERRED_SIGNALS 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SM_DEFERRED_SIGNALS 1
#endif
#endif
#ifndef SM_DEFERRED_SIGNALS
#define SM_DEFERRED_SIGNALS 0
#endif

/* The most threads of one node that use libsm at once (a slot each). */
#define SM_MAX_THREADS 256

enum page_access {
	PA_NONE = 0,
	PA_READ = 1,
	PA_WRITE = 2,
};

/* What dsm told this node in the argument it added (see args.c). */
struct node_args {
	uint32_t nid;
	uint32_t nnodes;
	char host[256];
	char port[16];
};

/* What a thread waits for in libsm (struct sm_thread.waiting). */
enum sm_wait {
	SM_WAIT_NONE = 0,
	SM_WAIT_FAULT,  /* the grants of its own FAULT */
	SM_WAIT_FOLLOW, /* another thread's fetch of the page it faulted on */
	SM_WAIT_SLOT,   /* a free fault slot: DSM_MAX_NODE_FAULTS are out */
	SM_WAIT_REPLY,  /* the reply to an API call (CHUNK, BARRIER_DONE, ...) */
	SM_WAIT_TXN,    /* the end of another thread's transaction (txn.c): on
			 * its futex word only, never the leader */
};

/*
 * One thread that uses libsm (threads.c). Every field but tid is read and
 * written under the state lock.
 */
struct sm_thread {
	_Atomic pid_t tid;      /* 0: the slot is free */
	/* its wait in progress */
	uint8_t waiting;        /* enum sm_wait */
	int done;               /* ... is over (woken) */
	_Atomic uint32_t wake;  /* futex word: bumped to wake the thread */
	/* a fault: fault_count pages from fault_page (2: a pair, one
	 * instruction whose access spans two pages) */
	int32_t fault_page;
	uint32_t fault_count;
	uint32_t fault_granted; /* bit i: page fault_page + i is granted */
	int fault_write;
	uint64_t fault_seq;     /* its number: only a GRANT echoing it answers it */
	struct msg fault_error; /* MSG_ERROR answering the fault, if any */
	/* an API call: the type of reply, its order among the calls, and the
	 * tag that tells a LOCK_GRANT for this thread apart */
	uint8_t awaited_type;
	uint64_t order;
	uint32_t tag;
	struct msg reply;
	/*
	 * Forward progress: the pages just granted stay held until the
	 * faulting instruction has run (hold.c); a revoke of a held page waits
	 * meanwhile (hold_wanted says one does).
	 */
	int32_t held[2];        /* the held pages (-1: none) */
	uint64_t held_ip;       /* the instruction that faulted on them */
	uintptr_t held_addr;    /* ... at this address */
	int held_write;         /* they were faulted in for writing */
	int hold_wanted;        /* a deferred revoke waits for this hold to end */
	int looks_at_hold;      /* its SIGSEGV or SIGIO handler runs, and looks at
				 * its hold before it returns: no poke needed */
	volatile sig_atomic_t trap_armed; /* EFLAGS.TF set to end the hold */
	int window_on;          /* the fallback's window runs for this hold */
	int have_timer;         /* the hold's timers, this thread's: */
	timer_t hold_timer;     /* the fallback's window (its CPU time) */
	timer_t recheck_timer;  /* a look at where it is again (wall clock) */
};

/* A revoke or invalidation of one held page, waiting for its holders. */
struct sm_deferred {
	int32_t page;           /* -1: a free entry */
	struct msg m;           /* narrowed to that page */
};

struct sm_state {
	int fd;                 /* link to this node's proxy; -1 when not joined */
	uint32_t nid, nnodes, npages;
	uint8_t *base;          /* the program's view of the region */
	uint8_t *alias;         /* libsm's always-writable view of the same pages */
	size_t size;
	uint8_t *access;        /* enum page_access per page */
	uint16_t *holders;      /* per page: threads holding it (hold.c) */
	uint64_t region_base;   /* where WELCOME said the region lives */
	int joined, exited;
	int closing;            /* sm_node_exit began: no more faults */
	int leaving;            /* EXIT sent, EXIT_ACK not yet read */

	/* the state lock (statelock.c) and the leader: the thread that reads
	 * the link for every waiting thread (wait.c), -1 for none */
	_Atomic uint32_t lock;
	_Atomic int leader;
	_Atomic int need_pump;  /* SIGIO came while someone else held the lock */

	/* faults and calls in flight */
	uint32_t faults_out;    /* FAULTs sent and not yet answered */
	uint64_t next_seq;      /* the last fault number used */
	uint64_t next_order;    /* the last API call's order */

	int trap_works;         /* single-stepping (EFLAGS.TF) ends a hold */
	int holds_pages;        /* ... or else the fallback timer does */
	int timers_to_process;  /* the fallback's timers signal the process (valgrind) */
	uint32_t ndeferred;     /* entries of deferred[] in use */
	struct sm_deferred deferred[2 * SM_MAX_THREADS];

	_Atomic uint32_t nthreads; /* slots [0, nthreads) have been used */
	struct sm_thread threads[SM_MAX_THREADS];

	struct wire_batch out;  /* answers queued until the end of a read */
	struct wire_reader reader;
	uint8_t reader_buf[WIRE_READER_CAPACITY];
};

extern struct sm_state sm__st;

/* args.c: find and remove the argument dsm added. 0, or -1 if absent/bad;
 * -2 when it says the id comes from Slurm and SLURM_PROCID is not set or
 * not a node id of the job (the argument is left in place). */
int sm__args_take(int *argc, char ***argv, struct node_args *out);

/*
 * The signal that ends a hold (hold.c): sent by the fallback window's
 * timer, and by a thread that defers a revoke of a page another thread
 * holds, to make that thread look at where it is. It is blocked wherever
 * SIGIO is, so it never interrupts a pump, a send or a deferral.
 */
#define SM_HOLD_SIGNAL (SIGRTMAX - 2) /* valgrind keeps SIGRTMAX for itself */

/* Add SIGIO and SM_HOLD_SIGNAL to a set: what every user of the state blocks. */
void sm__link_signals(sigset_t *set);
void sm__block_sigio(sigset_t *old);
void sm__restore_sigmask(const sigset_t *old);

/* statelock.c: the state lock; every caller has libsm's signals blocked */
void sm__lock(void);
int sm__trylock(void);  /* 1 when taken */
void sm__unlock(void);  /* just that: see sm__release() */
/* unlock, then read the link if a SIGIO came meanwhile and nobody leads */
void sm__release(void);
void sm__futex_wait(_Atomic uint32_t *word, uint32_t seen);
void sm__futex_wake(_Atomic uint32_t *word);

/* threads.c: the calling thread's slot, claimed on first use (NULL: every
 * slot is taken, said on stderr); async-signal-safe */
struct sm_thread *sm__self(void);
struct sm_thread *sm__self_known(void);  /* the slot if it has one, or NULL */
int sm__threads_init(void);               /* in sm_node_init */
/* make t look at its hold (SM_HOLD_SIGNAL); 0, or -1 when it is gone */
int sm__poke(struct sm_thread *t);
/* wake t from its wait (under the state lock) */
void sm__wake(struct sm_thread *t);

/* link.c (everything under the state lock) */
int sm__link_connect(const struct node_args *a, const uint8_t secret[DSM_SECRET_LEN]);
void sm__pump(void);                      /* handle everything that arrived */
/* send m after what is queued: with the state lock held, or taking it */
void sm__send_held(const struct msg *m, const void *payload);
void sm__send(const struct msg *m, const void *payload);
void sm__flush(void);                     /* send the queued answers */
/* answer a revoke/invalidation of a run: data is count pages, or NULL */
void sm__region_reply(uint8_t type, uint32_t first, uint32_t count, const void *data);
void sm__dispatch(const struct msg *m);   /* run a (deferred) message's row again */
void sm__install_sigio(void);

/* wait.c: waiting in libsm, as the leader or for it (state lock held; the
 * thread's `waiting` set) */
void sm__wait(struct sm_thread *me);
/*
 * Send m and wait for its answer (a message of reply_type, or MSG_ERROR),
 * answering everyone else meanwhile; the answer in *reply. Any thread may
 * call it; libsm's signals are blocked throughout. The reply is handled
 * (link.c's row) by whichever thread reads it, before anything read after
 * it: what must happen before the next message is served belongs there.
 */
void sm__request(const struct msg *m, uint8_t reply_type, struct msg *reply);
/* the same with a payload of m->length bytes */
void sm__request_payload(const struct msg *m, const void *payload, uint8_t reply_type,
			 struct msg *reply);
/*
 * The calling thread's tag (its slot + 1): what LOCK, UNLOCK and COND_WAIT
 * carry in `page`, so that the allocator tells the threads of a node apart
 * and a LOCK_GRANT (which echoes it) reaches the thread that waits for it.
 * sm__request puts it in a LOCK's or COND_WAIT's page when that is 0.
 */
uint32_t sm__tag(void);
/* the dispatcher's side: the thread whose fault number is seq, whose fault
 * covers page (an error), or that waits for a reply like m; NULL if none */
struct sm_thread *sm__fault_by_seq(uint64_t seq);
struct sm_thread *sm__fault_by_page(uint32_t page);
struct sm_thread *sm__reply_owner(const struct msg *m);
/* a thread's fault is over (granted or failed): wake it and its followers */
void sm__fault_over(struct sm_thread *t);
/* the thread fetching page with at least this access, or NULL */
struct sm_thread *sm__fetching(uint32_t page, int write);
/* wait, as for a reply of type, unless over() (under the state lock) says
 * it came already: the last piece of an sm_bcast_buf (collective.c) */
void sm__wait_for(uint8_t type, int (*over)(void));
/* the reply m to thread t's call: stored, t woken (link.c) */
void sm__answer(struct sm_thread *t, const struct msg *m);
/* read what arrived, unless a leader does (takes the state lock) */
void sm__pump_now(void);

/* sync.c: a collective refused by the allocator (e: its ERROR): say why, exit(1) */
void sm__collective_failed(const char *call, const struct msg *e, int root)
	__attribute__((noreturn));

/* collective.c: the node's dispatch rows for sm_bcast_buf */
int sm__on_bcast_go(void *ctx, const struct msg *m, const uint8_t *payload, const char **why);
int sm__on_bcast_data(void *ctx, const struct msg *m, const uint8_t *payload, const char **why);

/* region.c */
int sm__region_map(uint64_t base, uint32_t npages);
void sm__region_grant(uint32_t first, uint32_t count, int write, const uint8_t *data);
void sm__region_revoke(uint32_t first, uint32_t count);   /* keep read copies, send */
void sm__region_invalidate(uint32_t first, uint32_t count, int want_data); /* drop */
void sm__region_chunk(uint32_t first, uint32_t count, int fresh);
void sm__region_late_grant(uint32_t first, uint32_t count, int write, const uint8_t *data);
void sm__region_release_all(void);

/*
 * sigchain.c: the program's SIGSEGV handler next to libsm's. sm__sigaction
 * is the C library's sigaction(), past libsm's interposed one.
 */
int sm__sigaction(int sig, const struct sigaction *act, struct sigaction *old);
/* install libsm's handler, keeping the program's as the one to chain to */
int sm__segv_install(void (*handler)(int, siginfo_t *, void *), const sigset_t *mask);
/* a SIGSEGV that is not libsm's: to the program's handler, or die of it */
void sm__segv_chain(int sig, siginfo_t *si, void *ctx);
/* the default action back: the access faults again and the node dies */
void sm__segv_default(void);

/* fault.c */
int sm__fault_install(void);

/* hold.c: forward progress, per thread (state lock held unless said) */
int sm__hold_install(void);               /* the self-test, SIGTRAP, the timer signal */
int sm__hold_timer_create(struct sm_thread *t); /* a thread's, at its first use */
void sm__hold_timer_delete(struct sm_thread *t);
/* t holds page from its grant on */
void sm__hold_page(struct sm_thread *t, uint32_t page);
/* the faulting instruction of t is at ip (its hold starts: timer, or TF) */
void sm__hold_start(struct sm_thread *t, uint64_t ip, uintptr_t addr, int write);
/* t's hold ends: serve what waited only for it */
void sm__hold_end(struct sm_thread *t);
/* the calling thread, interrupted at ctx, looks at its hold when a revoke
 * waits for it: past its instruction, the hold ends; at it, the trap flag
 * is set (without single-stepping, it looks again later). async: from an
 * asynchronous signal's handler (not the fault's) */
void sm__hold_look(struct sm_thread *me, void *ctx, int async);
/* a revoke or invalidation of page, held by some thread: keep it for when
 * its holders let go (1), or 0 when none is left to hold it: answer now */
int sm__hold_defer(const struct msg *m, uint32_t page);
static inline int sm__holding(const struct sm_thread *t)
{
	return t->held[0] >= 0 || t->held[1] >= 0;
}

/*
 * caller.c: only the process that called sm_node_init uses libsm (any of
 * its threads); a forked child gets a clear error.
 */
enum sm_caller {
	SM_CALLER_NODE,   /* a thread of the node (or not joined yet) */
	SM_CALLER_CHILD,  /* a forked child: not a node */
};
int sm__caller_init(void); /* in sm_node_init */
/* who calls; cheap: without a system call (a raw clone goes unseen) */
enum sm_caller sm__caller(int cheap);
/* an sm_ function `call` called by anyone but the node: say so and _exit(1) */
void sm__caller_check(const char *call, int cheap);
/* a fault in the region taken by anyone but the node: say so and return 1
 * (the SIGSEGV handler then lets the access kill the process) */
int sm__caller_fault(const void *addr);

/* heldlocks.c: the set of locks this node holds (their addresses), so that
 * misuse is reported in the caller before any message goes out */
int sm__held_has(uint64_t lock);
void sm__held_add(uint64_t lock);
void sm__held_remove(uint64_t lock);

/* alloc.c: where sm_malloc's current chunk stands, to rewind a rolled-back
 * transaction's allocations */
struct sm_alloc_mark {
	uint8_t *next, *end;
};
void sm__alloc_mark(struct sm_alloc_mark *m);
void sm__alloc_rewind(const struct sm_alloc_mark *m);

/* region.c: set the program's view of pages [first, first+count) to what
 * the node holds, capped by a running transaction (sm__txn_cap) */
void sm__region_view(uint32_t first, uint32_t count);
void sm__region_close(void); /* the whole view closed */

/*
 * txn.c: transactions (docs/design.md, "Transactions"). The hooks: the cap
 * on a page's view while one runs (PA_WRITE: none); a revoke or invalidation
 * about to be answered; a fault inside one, before any message (1: served
 * locally) and after its pages came.
 */
int sm__txn_running(void);                   /* in any thread */
int sm__txn_mine(const struct sm_thread *me);  /* in this one */
int sm__txn_other(const struct sm_thread *me); /* in another one (no lock needed) */
void sm__txn_wait_turn(struct sm_thread *me);  /* until another's ends (locked) */
void sm__txn_wait_outside(const char *call);   /* the same, not locked */
uint8_t sm__txn_cap(uint32_t page);
void sm__txn_taking(uint32_t first, uint32_t count, int invalidate);
int sm__txn_fault_local(struct sm_thread *me, uint32_t page, int write);
void sm__txn_faulted(struct sm_thread *me, uint32_t first, uint32_t count, int write);
void sm__txn_forbid(const char *call);      /* a call that talks to other nodes */
void sm__txn_abandon(void);                 /* roll back, no restart (leaving; locked) */
/* roll back, let the state lock go, run again */
void sm__txn_restart(struct sm_thread *me) __attribute__((noreturn));
/* txnsig.c: a synchronous signal inside a transaction restarts it (no
 * return); 0: not the transaction's, the signal keeps its meaning */
int sm__txn_signal(int sig, const siginfo_t *si);
void sm__txn_signals_on(void);
void sm__txn_signals_off(void);
void sm__txn_signals_reset(void);

/* report.c: async-signal-safe messages */
/* sm__say("a", "b", NULL) prints "dsm: node K: ab" */
void sm__say(const char *first, ...) __attribute__((sentinel));
void sm__die(const char *first, ...) __attribute__((sentinel, noreturn));
char *sm__fmt_u64(char buf[24], uint64_t v);
char *sm__fmt_hex(char buf[24], uint64_t v);

/* parmacs.c: no CREATE has run yet (the PARMACS start-up, sm_parmacs.h) */
int sm__parmacs_in_startup(void);

#endif /* LIBSM_H */
