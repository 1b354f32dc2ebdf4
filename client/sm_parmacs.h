/*
 * sm_parmacs.h - the run-time behind dsm's PARMACS macros (c.m4.dsm), with
 * which SPLASH-2 and SPLASH-3 programs run on dsm: m4 turns the macros into
 * calls of the functions below, in libsm next to the sm.h API. Programs do not
 * call them directly, except sm_parmacs_is_master() to guard the start-up's
 * writes to shared memory (dsm-porting(7), docs/porting.md).
 *
 * In dsm every node runs the whole program from main: the start-up (the code
 * before CREATE) runs on every node, then each node runs the worker function
 * once as one of the program's P processes. Node 0 is the master: the only
 * node that returns from CREATE and goes on to WAIT_FOR_END and MAIN_END.
 */
#ifndef SM_PARMACS_H
#define SM_PARMACS_H

#include <stddef.h>

#include "sm.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The real main, which MAIN_ENV defines, calls this: join the job
 * (sm_node_init, which takes dsm's argument out of *argc and *argv), then run
 * the program's own main, renamed by MAIN_ENV, and return what it returns. Of
 * the three pointers, the one of main's type is set (SM_PARMACS_MAINS), the
 * others are NULL, so main is called through its own type: int main(int,
 * char **) or old style, int main(void), or anything else with three
 * arguments (argc, argv, environ). A node that cannot join exits 1.
 */
int sm_parmacs_start(int *argc, char ***argv, int (*main_args)(int, char **),
		     int (*main_void)(void), int (*main_env)(int, char **, char **));

#define SM_PARMACS_TAKES_ARGS(f) __builtin_types_compatible_p(__typeof__(f), int(int, char **))
#define SM_PARMACS_TAKES_VOID(f) \
	(!SM_PARMACS_TAKES_ARGS(f) && __builtin_types_compatible_p(__typeof__(f), int(void)))
#define SM_PARMACS_AS(f, type, yes) __builtin_choose_expr(yes, (type)(void (*)(void))(f), (type)0)
/* sm_parmacs_start's last three arguments for the program's main f */
#define SM_PARMACS_MAINS(f) \
	SM_PARMACS_AS(f, int (*)(int, char **), SM_PARMACS_TAKES_ARGS(f)), \
	SM_PARMACS_AS(f, int (*)(void), SM_PARMACS_TAKES_VOID(f)), \
	SM_PARMACS_AS(f, int (*)(int, char **, char **), \
		      !SM_PARMACS_TAKES_ARGS(f) && !SM_PARMACS_TAKES_VOID(f))

/*
 * CREATE(f, P), SPLASH-3: called on every node before f runs there. The
 * start-up is over on every node when it returns (a barrier); P must be the
 * number of nodes, or the job ends with a message naming both.
 */
void sm_parmacs_create_all(long nprocs);
/*
 * CREATE(f), SPLASH-2, called once per process the program creates: the k-th
 * call returns 1 on node k (which then runs f), 0 on every other node. The
 * first call is also the start-up's barrier.
 */
int sm_parmacs_create_one(void);
/* After f: every node but the master leaves the job and exits 0. */
void sm_parmacs_create_done(void);

/* WAIT_FOR_END: the master waits until every other node has left. */
void sm_parmacs_wait_for_end(void);
/* MAIN_END: leave the job and exit 0. */
void sm_parmacs_end(void) __attribute__((noreturn));

/*
 * G_MALLOC: before the first CREATE every node allocates together
 * (sm_malloc_collective: the same address on every node), afterwards each
 * process for itself (sm_malloc). Memory reads as zero. NULL if exhausted.
 */
void *sm_parmacs_g_malloc(size_t size);

/* BARINIT(b, P) and BARRIER(b, P): P must be the number of nodes (dsm's
 * barrier waits for every node); BARRIER then waits for them. */
void sm_parmacs_barinit(long nprocs);
void sm_parmacs_barrier(long nprocs);

/* GET_PID and friends: this node's id, the number of nodes, node 0 or not. */
int sm_parmacs_node_id(void);
int sm_parmacs_nodes(void);
int sm_parmacs_is_master(void);

/*
 * An event flag (PAUSEDEC): zeroed memory is a clear flag. SETPAUSE sets it
 * and wakes every waiter, CLEARPAUSE clears it, WAITPAUSE waits until it is
 * set (each takes and releases the flag's lock; nobody spins).
 */
typedef struct {
	sm_lock_t lock;
	sm_cond_t set;
	unsigned long flag;
} sm_parmacs_pause_t;

/* PAUSEINIT: clear the flag (in the start-up, on the master only: see
 * sm_parmacs_gsinit) */
void sm_parmacs_pauseinit(sm_parmacs_pause_t *p);
void sm_parmacs_setpause(sm_parmacs_pause_t *p);
void sm_parmacs_clearpause(sm_parmacs_pause_t *p);
void sm_parmacs_waitpause(sm_parmacs_pause_t *p);

/*
 * A global subscript (GSDEC): GETSUB(g, s, last, P) hands out 0, 1, ... last,
 * one per call, then -1 to each of the P processes, and starts again at 0
 * once all P have had their -1. Zeroed memory starts at 0.
 */
typedef struct {
	sm_lock_t lock;
	long next;
	long finished; /* processes that have had their -1 */
} sm_parmacs_gs_t;

/* GSINIT: back to 0. In the start-up only the master writes (every node
 * runs the start-up; the others would only move the page), after it the
 * caller does. */
void sm_parmacs_gsinit(sm_parmacs_gs_t *g);
long sm_parmacs_getsub(sm_parmacs_gs_t *g, long last, long nprocs);

#ifdef __cplusplus
}
#endif

#endif /* SM_PARMACS_H */
