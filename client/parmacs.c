/*
 * parmacs.c - the process model behind the PARMACS macros (c.m4.dsm,
 * sm_parmacs.h): joining before the program's own main runs, the start-up
 * that every node runs, CREATE turning the nodes into the program's
 * processes, G_MALLOC, the master's WAIT_FOR_END and MAIN_END, and the checks
 * that the program runs as many processes as dsm started nodes.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "libsm.h"
#include "sm.h"
#include "sm_parmacs.h"

extern char **environ;

enum create_style {
	STYLE_NONE, /* no CREATE yet */
	STYLE_ALL,  /* SPLASH-3: CREATE(f, P) once, every node runs f */
	STYLE_ONE,  /* SPLASH-2: CREATE(f) once per created process */
};

static enum create_style style;
static long creates;  /* CREATE(f) calls so far */
static int parallel;  /* the first CREATE has run: the start-up is over */

int sm__parmacs_in_startup(void)
{
	return !parallel;
}

static const char *plural(long n, const char *one, const char *more)
{
	return n == 1 ? one : more;
}

/*
 * The program cannot run as it is: node 0 prints why (one line, whichever
 * nodes found it) and exits 1; the others wait until it has left and exit
 * 0, so that node 0 is the only node that failed: dsm then waits for node 0's
 * end, with its line, instead of ending the job at the first other node's
 * status, which over ssh can arrive before node 0's line does.
 */
static void job_error(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void job_error(const char *fmt, ...)
{
	char why[512];
	va_list ap;

	if (sm__st.nid != 0) {
		sm_barrier();
		exit(0);
	}
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	fprintf(stderr, "dsm: node 0: %s\n", why);
	exit(1);
}

/*
 * The program says it runs nprocs processes (`what` is the macro call, then
 * `how` says more about them, `why` about the nodes).
 */
static void check_nprocs(const char *what, long nprocs, const char *how, const char *why)
{
	if (nprocs == (long)sm__st.nnodes)
		return;
	job_error("%s: the program runs %ld %s%s but dsm started %u %s%s; run it with dsm -n %ld",
		  what, nprocs, plural(nprocs, "process", "processes"), how, sm__st.nnodes,
		  plural(sm__st.nnodes, "node", "nodes"), why, nprocs);
}

/* MAIN_ENV must be in the file that defines main, or nothing joined. */
static void need_joined(const char *macro)
{
	if (sm__st.joined && !sm__st.exited)
		return;
	fprintf(stderr, "dsm: %s used %s: MAIN_ENV must be in the file that defines main "
		"(see dsm-porting(7))\n", macro,
		sm__st.exited ? "after this node left the job" : "before the program joined the job");
	exit(1);
}

SM_API int sm_parmacs_start(int *argc, char ***argv, int (*main_args)(int, char **),
			   int (*main_void)(void), int (*main_env)(int, char **, char **))
{
	int nodes, nid;

	if (sm_node_init(argc, argv, &nodes, &nid) != 0)
		exit(1);
	if (main_args)
		return main_args(*argc, *argv);
	if (main_void)
		return main_void();
	return main_env(*argc, *argv, environ);
}

SM_API void sm_parmacs_create_all(long nprocs)
{
	char what[64];

	need_joined("CREATE");
	snprintf(what, sizeof(what), "CREATE(f, %ld)", nprocs);
	if (style == STYLE_ALL)
		job_error("%s called a second time: on dsm a program has one parallel section "
			  "(the other nodes left when their f returned)", what);
	if (style == STYLE_ONE)
		job_error("%s after CREATE(f): use one form of CREATE in a program", what);
	check_nprocs(what, nprocs, "", "");
	style = STYLE_ALL;
	parallel = 1;
	sm_barrier(); /* the start-up is over on every node */
}

SM_API int sm_parmacs_create_one(void)
{
	need_joined("CREATE");
	if (style == STYLE_ALL)
		job_error("CREATE(f) after CREATE(f, P): use one form of CREATE in a program");
	style = STYLE_ONE;
	creates++;
	if (creates == 1) {
		parallel = 1;
		sm_barrier(); /* the start-up is over on every node */
	}
	/* every other node is running f now: only the master gets here */
	if (creates >= (long)sm__st.nnodes)
		job_error("CREATE(f): the program runs more processes than the %u %s dsm started "
			  "(at least %ld); run it with dsm -n P, P being its number of processes",
			  sm__st.nnodes, plural(sm__st.nnodes, "node", "nodes"), creates + 1);
	return (long)sm__st.nid == creates;
}

SM_API void sm_parmacs_create_done(void)
{
	if (sm__st.nid == 0)
		return;
	sm_node_exit();
	exit(0);
}

/*
 * With CREATE(f) (or none) the number of processes shows only at the end:
 * the master and one per call. A node that was never picked (dsm started
 * more nodes than that) ran the master's part too and gets here as well.
 */
static void check_created(const char *macro)
{
	char how[64];

	if (style == STYLE_ALL)
		return; /* checked by CREATE(f, P) */
	snprintf(how, sizeof(how), " (the master and %ld from CREATE)", creates);
	check_nprocs(macro, creates + 1, how, "");
}

/*
 * dsm's barrier returns once every node still in the job has arrived: the
 * other nodes never arrive (they leave when f returns, in CREATE), so it
 * returns exactly when the last of them has left, having written back every
 * page it held (sm_node_exit).
 */
SM_API void sm_parmacs_wait_for_end(void)
{
	need_joined("WAIT_FOR_END");
	check_created("WAIT_FOR_END");
	sm_barrier();
}

SM_API void sm_parmacs_end(void)
{
	need_joined("MAIN_END");
	check_created("MAIN_END");
	sm_node_exit();
	exit(0);
}

SM_API void *sm_parmacs_g_malloc(size_t size)
{
	need_joined("G_MALLOC");
	/* the start-up runs on every node: each gets the same memory */
	if (!parallel)
		return sm_malloc_collective(size);
	return sm_malloc(size);
}

SM_API void sm_parmacs_barinit(long nprocs)
{
	char what[64];

	need_joined("BARINIT");
	snprintf(what, sizeof(what), "BARINIT(b, %ld)", nprocs);
	check_nprocs(what, nprocs, "", "");
}

SM_API void sm_parmacs_barrier(long nprocs)
{
	char what[64];

	need_joined("BARRIER");
	snprintf(what, sizeof(what), "BARRIER(b, %ld)", nprocs);
	check_nprocs(what, nprocs, "", " (a dsm barrier waits for every node)");
	sm_barrier();
}

SM_API int sm_parmacs_node_id(void)
{
	return (int)sm__st.nid;
}

SM_API int sm_parmacs_nodes(void)
{
	return (int)sm__st.nnodes;
}

SM_API int sm_parmacs_is_master(void)
{
	return sm__st.nid == 0;
}
