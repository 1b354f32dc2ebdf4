/*
 * node.c - joining and leaving the job: sm_node_init and sm_node_exit, also
 * run at exit() (but not in a forked child, which is not a node: caller.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libsm.h"
#include "sm.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int take_secret(uint8_t secret[DSM_SECRET_LEN])
{
	const char *hex = getenv("DSM_SECRET");

	if (!hex || strlen(hex) != 2 * DSM_SECRET_LEN)
		return -1;
	for (unsigned i = 0; i < DSM_SECRET_LEN; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		secret[i] = (uint8_t)(hi * 16 + lo);
	}
	/* keep it out of the environment of anything this program starts */
	unsetenv("DSM_SECRET");
	return 0;
}

/*
 * Leave the job, from any thread. The program's other threads are expected
 * to be done with shared memory: one that faults from now on is told
 * "shared memory used after sm_node_exit" and dies of it.
 */
static void leave(void)
{
	struct msg exit_msg = {.type = MSG_EXIT}, ack;
	uint32_t n;
	sigset_t old;

	sm__block_sigio(&old);
	sm__lock();
	sm__st.closing = 1; /* no fault from here on */
	/* no instruction needs a page any more: every deferred revoke is
	 * answered, so its page goes back with it, before the rest */
	n = atomic_load(&sm__st.nthreads);
	for (uint32_t k = 0; k < n; k++)
		sm__hold_end(&sm__st.threads[k]);
	sm__txn_abandon(); /* an unfinished transaction's writes are not written back */
	sm__region_release_all();
	sm__st.leaving = 1; /* from here EXIT_ACK is what it waits for */
	sm__release();
	/* answer revokes until dsm confirms we are out */
	sm__request(&exit_msg, MSG_EXIT_ACK, &ack);
	sm__lock();
	sm__st.exited = 1;
	close(sm__st.fd);
	sm__st.fd = -1;
	sm__release();
	sm__restore_sigmask(&old);
}

/* exit() or a return from main: in a forked child this is not a node's exit */
static void leave_at_exit(void)
{
	if (!sm__st.joined || sm__st.exited)
		return;
	/* exit() in any thread of the node leaves the job */
	if (sm__caller(0) == SM_CALLER_NODE)
		leave();
}

SM_API int sm_node_init(int *argc, char **argv[], int *nodes, int *nid)
{
	struct node_args a;
	uint8_t secret[DSM_SECRET_LEN];
	sigset_t old;
	int taken = -1;

	if (sm__st.joined || sm__st.exited) {
		if (sm__caller(0) == SM_CALLER_CHILD)
			sm__say("sm_node_init called in a forked child: a forked child is not a node "
				"(see sm(3), Fork)", NULL);
		else
			sm__say("sm_node_init called twice", NULL);
		return -1;
	}
	if (nodes && nid && (taken = sm__args_take(argc, argv, &a)) == -2) {
		fprintf(stderr, "dsm: sm_node_init: started by srun for dsm, but SLURM_PROCID is "
				"missing or not a node id below the node count\n");
		return -1;
	}
	if (!nodes || !nid || taken < 0) {
		fprintf(stderr, "dsm: sm_node_init: this program must be started by dsm, "
				"e.g. dsm -n 4 %s\n", argc && argv && *argv && **argv ? (*argv)[0] : "PROGRAM");
		return -1;
	}
	sm__st.nid = a.nid;
	if (take_secret(secret) < 0) {
		sm__say("sm_node_init: DSM_SECRET is missing or malformed", NULL);
		return -1;
	}
	if (sm__fault_install() < 0 || sm__link_connect(&a, secret) < 0 ||
	    sm__caller_init() < 0 || sm__threads_init() < 0)
		return -1;
	explicit_bzero(secret, sizeof(secret));
	sm__block_sigio(&old);
	sm__lock();
	sm__install_sigio();
	sm__st.joined = 1;
	/* what came before O_ASYNC was on (a PING right after WELCOME) raised
	 * no SIGIO: read it now, or it waits until something else arrives */
	sm__pump();
	sm__release();
	sm__restore_sigmask(&old);
	if (atexit(leave_at_exit) != 0) {
		sm__say("atexit failed", NULL);
		return -1;
	}
	/* node output is forwarded line by line by dsm; do not hold lines back */
	setvbuf(stdout, NULL, _IOLBF, 0);
	*nodes = (int)sm__st.nnodes;
	*nid = (int)sm__st.nid;
	return 0;
}

/* In a forked child it does nothing: the child never joined. */
SM_API void sm_node_exit(void)
{
	if (!sm__st.joined || sm__st.exited || sm__caller(0) == SM_CALLER_CHILD)
		return;
	sm__caller_check("sm_node_exit", 0);
	leave();
}
