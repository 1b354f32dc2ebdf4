/*
 * getopt.C - a main that parses its arguments with getopt() before the
 * environment is set up, SPLASH style: the arguments must arrive exactly as
 * typed (the run-time joined the job before main and took the argument dsm
 * added out of argv). Every node parses them; each process then checks that
 * its node parsed the same as the master, and the master prints them.
 *
 * usage: dsm -n P ./parmacs-getopt -p P -s "two words" -v -- last "-n 5"
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pmcheck.h"

MAIN_ENV

struct global {
	BARDEC(start)
	char master_args[1024];    /* the arguments as the master parsed them */
	long agreed;               /* processes whose node parsed the same */
	LOCKDEC(agreed_lock)
};

static struct global *gl;
static long nprocs;
static char parsed[1024];       /* what this node parsed, in one line */

static void worker(void)
{
	if (strcmp(parsed, gl->master_args) != 0)
		fail("parsed [%s], the master parsed [%s]", parsed, gl->master_args);
	LOCK(gl->agreed_lock)
	gl->agreed++;
	UNLOCK(gl->agreed_lock)
}

int main(int argc, char *argv[])
{
	const char *s = NULL;
	int c, verbose = 0;
	size_t len;

	program_name = "parmacs-getopt";
	nprocs = 0;
	while ((c = getopt(argc, argv, "p:s:v")) != -1) {
		switch (c) {
		case 'p':
			nprocs = number(optarg, 1, 1024, "-p");
			break;
		case 's':
			s = optarg;
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			fail("usage: parmacs-getopt -p P -s STRING -v -- ARG...");
		}
	}
	if (nprocs == 0 || s == NULL || !verbose)
		fail("-p, -s and -v are all needed");
	if (strcmp(s, "two words") != 0)
		fail("-s gave [%s], expected [two words]", s);
	if (argc - optind != 2 || strcmp(argv[optind], "last") != 0 ||
	    strcmp(argv[optind + 1], "-n 5") != 0)
		fail("%d arguments after the options (expected 2: [last] [-n 5]), the first [%s]",
		     argc - optind, optind < argc ? argv[optind] : "");
	if (strcmp(argv[optind - 1], "--") != 0)
		fail("the argument before [last] is [%s], expected [--]", argv[optind - 1]);
	len = strlen(argv[0]);
	if (len < 14 || strcmp(argv[0] + len - 14, "parmacs-getopt") != 0)
		fail("argv[0] is [%s]", argv[0]);
	snprintf(parsed, sizeof(parsed), "argc %d, -p %ld, -s [%s], -v, then [%s] [%s]", argc,
		 nprocs, s, argv[optind], argv[optind + 1]);

	MAIN_INITENV(,1000000)
	gl = (struct global *) G_MALLOC(sizeof(struct global));
	if (gl == NULL)
		fail("out of shared memory");
	if (sm_parmacs_is_master())
		strcpy(gl->master_args, parsed);

	CREATE(worker, nprocs)
	WAIT_FOR_END(nprocs)

	if (gl->agreed != nprocs)
		fail("%ld of %ld processes agreed", gl->agreed, nprocs);
	printf("parmacs-getopt: ok: %ld processes parsed %s\n", nprocs, parsed);
	MAIN_END
}
