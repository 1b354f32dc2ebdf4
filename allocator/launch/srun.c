/*
 * srun.c - starting every node of a job with one srun step (dsm -L srun;
 * see launch.h): srun's command line, the shim each task runs, and srun's
 * standard input. What srun writes back is srunoutput.c's.
 */
#include "launch.h"

#include <bsd/unistd.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "launchchild.h"
#include "nodeinput.h"
#include "shellwords.h"

/*
 * The shim, run by /bin/sh -c in every task: "$@" is the program's command
 * line. The shell's own messages (a "Killed" for the program) go to
 * /dev/null, the program's stderr is the task's (fd 3 meanwhile). The
 * program runs in a subshell that execs it: the subshell has the trap
 * undone (the program gets SIGTERM as usual), and no shell that prints a
 * "Segmentation fault" of its own stands between. The end line follows the
 * program's output at once, with no newline before it, so that a last line
 * without one is told apart (srunoutput.c).
 */
static const char shim[] =
	"h=${SLURMD_NODENAME:-$(hostname)}; exec 3>&2 2>/dev/null; "
	"printf '\\001dsm-srun-task start %s\\n' \"$h\"; "
	"printf '\\001dsm-srun-task start %s\\n' \"$h\" >&3; "
	"trap : TERM INT HUP; "
	"(exec \"$@\" 2>&3 3>&-); s=$?; "
	"printf '\\001dsm-srun-task end %s\\n' $s; "
	"printf '\\001dsm-srun-task end %s\\n' $s >&3; "
	"exit $s";

/* In the child: SRUN OPTIONS /bin/sh -c SHIM dsm-node PROGRAM... */
static char **srun_argv(const struct launch_spec *spec, const char *token)
{
	const char *srun = getenv("DSM_SRUN");
	const char *name = strrchr(spec->executable, '/');
	char **words, **prog = launch_program_argv(spec, token), **argv;
	char *ntasks, *input, *jobname;
	size_t nw, np = launch_argv_count(prog), k = 0;

	if (shellwords_split(srun && *srun ? srun : "srun", &words) < 1) {
		errno = EINVAL;
		launch_child_fail("cannot parse DSM_SRUN to start", spec->executable);
	}
	if (asprintf(&ntasks, "--ntasks=%u", spec->nnodes) < 0 ||
	    (spec->stdin_node == LAUNCH_STDIN_ALL ? asprintf(&input, "--input=all")
						  : asprintf(&input, "--input=%u", spec->stdin_node)) < 0 ||
	    asprintf(&jobname, "--job-name=%s", name ? name + 1 : spec->executable) < 0)
		launch_child_fail("cannot start", spec->executable);
	nw = launch_argv_count(words);
	argv = calloc(nw + 11 + np, sizeof(*argv));
	if (!argv)
		launch_child_fail("cannot start", spec->executable);
	for (size_t i = 0; i < nw; i++)
		argv[k++] = words[i];
	argv[k++] = ntasks;
	argv[k++] = "--kill-on-bad-exit=1";
	argv[k++] = "--label";
	argv[k++] = "--export=ALL";
	argv[k++] = input;
	argv[k++] = jobname;
	argv[k++] = "/bin/sh";
	argv[k++] = "-c";
	argv[k++] = (char *)shim;
	argv[k++] = "dsm-node";
	for (size_t i = 0; i < np; i++)
		argv[k++] = prog[i];
	return argv;
}

int launch_srun(const struct launch_spec *spec, pid_t *pid_out, int *out_fd, int *err_fd)
{
	int fds[5] = {-1, -1, -1, -1, -1}; /* out[2], err[2], relay */
	int *out = fds, *err = fds + 2, *relay = fds + 4;
	uint32_t reader = spec->stdin_node == LAUNCH_STDIN_ALL ? 0 : spec->stdin_node;
	pid_t parent = getpid(), pid = -1;

	if (pipe2(out, O_CLOEXEC) == 0 && pipe2(err, O_CLOEXEC) == 0 &&
	    nodeinput_relay(spec, reader, relay) == 0)
		pid = fork();
	if (pid < 0)
		return launch_close_fds(fds, sizeof(fds) / sizeof(fds[0]));
	if (pid == 0) {
		char *token, **argv;

		/* srun ends its step on SIGTERM: a killed dsm leaves no task behind */
		launch_child_begin(parent, SIGTERM, out[1], err[1]);
		/* srun reads what the node that reads dsm's standard input gets */
		if (nodeinput_child(spec, reader, *relay) < 0)
			launch_child_fail("cannot set up the standard input of", "srun");
		launch_child_clean_slate();
		if (asprintf(&token, "--dsm-node=slurm,%u,%u,%s", spec->nnodes, spec->port,
			     spec->connect_host) < 0)
			launch_child_fail("cannot start", spec->executable);
		/* srun passes its environment on to every task (--export=ALL) */
		if (setenv("DSM_SECRET", spec->secret_hex, 1) < 0)
			launch_child_fail("cannot start", spec->executable);
		argv = srun_argv(spec, token);
		execvp(argv[0], argv);
		launch_child_fail("cannot execute srun:", argv[0]);
	}
	setpgid(pid, pid);
	close(out[1]);
	close(err[1]);
	if (*relay >= 0)
		close(*relay);
	*pid_out = pid;
	*out_fd = out[0];
	*err_fd = err[0];
	return 0;
}
