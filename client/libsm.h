/*
 * libsm.h - state and internal functions shared by the files of libsm.
 * Nothing here is exported: the library is built with -fvisibility=hidden and
 * only the sm_ functions of sm.h and sm_parmacs.h are visible to programs,
 * and the sigaction() and signal() that sigchain.c interposes.
 *
 * Concurrency model: the program's thread, the SIGIO handler, the SIGSEGV
 * handler and the SIGTRAP handler all use the link. Every path that reads or
 * writes the link runs with SIGIO blocked (the handlers via sa_mask, the API
 * functions via sigprocmask), so they never race for bytes.
 */
#ifndef LIBSM_H
#define LIBSM_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../common/protocol.h"
#include "../common/wire.h"

/* Marks what libsm exports: the functions of sm.h and sm_parmacs.h,
 * sigaction, signal. */
#define SM_API __attribute__((visibility("default")))

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

struct sm_state {
	int fd;                 /* link to this node's proxy; -1 when not joined */
	uint32_t nid, nnodes, npages;
	uint8_t *base;          /* the program's view of the region */
	uint8_t *alias;         /* libsm's always-writable view of the same pages */
	size_t size;
	uint8_t *access;        /* enum page_access per page */
	uint64_t region_base;   /* where WELCOME said the region lives */
	int joined, exited;
	int leaving;            /* EXIT sent, EXIT_ACK not yet read */

	/* the reply a blocked API call waits for (CHUNK, BARRIER_DONE, ...) */
	uint8_t awaited_type;
	volatile sig_atomic_t reply_ready;
	struct msg reply;

	/* the fault in progress: fault_count pages from fault_page (2: a pair,
	 * one instruction whose access spans two pages) */
	int32_t fault_page;     /* -1 when no fault is waiting */
	uint32_t fault_count;
	uint32_t fault_granted; /* bit i: page fault_page + i is granted */
	uint64_t fault_seq;     /* its number: only a GRANT echoing it answers it */
	volatile sig_atomic_t fault_done; /* every page granted, or an error */
	struct msg fault_error; /* MSG_ERROR answering the fault, if any */

	/*
	 * Forward progress: the pages just granted stay held until the faulting
	 * instruction has run (SIGTRAP after one instruction); a revoke or
	 * invalidation of one that arrives meanwhile waits in its deferred slot.
	 * A pair fault holds both pages, each from its own grant on: the node
	 * waits for the second while holding the first.
	 */
	pid_t owner_tid;        /* the thread SIGIO goes to */
	int trap_works;         /* single-stepping (EFLAGS.TF) ends the hold */
	uint64_t held_ip;       /* the instruction that faulted on the held pages */
	uintptr_t held_addr;     /* ... at this address */
	int holds_pages;        /* ... or else the fallback timer does */
	int held_write;         /* they were faulted in for writing */
	int32_t held[2];        /* the held pages (-1: none): fault_page + i in [i] */
	int have_deferred[2];   /* a revoke/invalidation of held[i] waits ... */
	struct msg deferred[2]; /* ... here, narrowed to that one page */

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
 * The signal that ends the fallback hold window (fault.c). It is blocked
 * wherever SIGIO is, so it never interrupts a pump, a send or a deferral.
 */
#define SM_HOLD_SIGNAL (SIGRTMAX - 2) /* valgrind keeps SIGRTMAX for itself */

/* Add SIGIO and SM_HOLD_SIGNAL to a set: what every link user blocks. */
void sm__link_signals(sigset_t *set);

/* link.c */
int sm__link_connect(const struct node_args *a, const uint8_t secret[DSM_SECRET_LEN]);
void sm__pump(void);                      /* handle everything that arrived */
/*
 * Send m and wait for its answer (a message of reply_type, or MSG_ERROR),
 * answering everyone else meanwhile; the answer in *reply. SIGIO is blocked
 * throughout; a caller that must act on the answer before any other message
 * is handled blocks it around the call too (the blocks nest).
 */
void sm__request(const struct msg *m, uint8_t reply_type, struct msg *reply);
/* the same with a payload of m->length bytes */
void sm__request_payload(const struct msg *m, const void *payload, uint8_t reply_type,
			 struct msg *reply);
void sm__send(const struct msg *m, const void *payload); /* after what is queued */
void sm__flush(void);                     /* send the queued answers */
/* answer a revoke/invalidation of a run: data is count pages, or NULL */
void sm__region_reply(uint8_t type, uint32_t first, uint32_t count, const void *data);
void sm__dispatch(const struct msg *m);   /* run a (deferred) message's row again */
void sm__wait_fault(void);                /* inside the SIGSEGV handler */
void sm__block_sigio(sigset_t *old);
void sm__restore_sigmask(const sigset_t *old);
void sm__install_sigio(void);

/* wait for the link's next news and handle it (SIGIO blocked by the caller) */
void sm__wait_link(void);

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
/* end the hold: the faulting instruction has run; serve what was deferred */
void sm__serve_deferred(void);
/* around the SIGIO handler's pump: end the hold if the faulting instruction
 * has run; set the trap flag if a revoke of the held page was deferred */
void sm__hold_check(void *ucontext);
void sm__hold_arm(void *ucontext);

/* Is a page held for the faulting instruction? */
static inline int sm__holding(void)
{
	return sm__st.held[0] >= 0 || sm__st.held[1] >= 0;
}

/*
 * caller.c: only the thread that called sm_node_init, in its own process,
 * uses libsm; a forked child or another thread gets a clear error.
 */
enum sm_caller {
	SM_CALLER_NODE,   /* the node's own thread (or not joined yet) */
	SM_CALLER_CHILD,  /* a forked child: not a node */
	SM_CALLER_THREAD, /* another thread: not supported yet */
};
int sm__caller_init(void); /* in sm_node_init, by the joining thread */
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
int sm__txn_running(void);
uint8_t sm__txn_cap(uint32_t page);
void sm__txn_taking(uint32_t first, uint32_t count, int invalidate);
int sm__txn_fault_local(uint32_t page, int write);
void sm__txn_faulted(uint32_t first, uint32_t count, int write);
void sm__txn_forbid(const char *call);      /* a call that talks to other nodes */
void sm__txn_abandon(void);                 /* roll back, no restart (leaving) */
void sm__txn_restart(void) __attribute__((noreturn)); /* roll back, run again */
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
