/*
 * main.c - the dsm command: make sure descriptors 0-2 are open, parse the
 * command line, check the environment, find the program, run the job. See
 * dsm(1) and docs/design.md.
 */
#include <bsd/unistd.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "job.h"
#include "joblog.h"
#include "launch/launch.h"
#include "options.h"

extern char **environ;

/*
 * Open /dev/null on whichever of descriptors 0, 1 and 2 is closed, before
 * anything else opens a file. Otherwise the next file dsm opens (the -l log,
 * the signalfd, a socket) would become its standard output or error: node
 * output and dsm's messages would go into it, or be lost without a word.
 * With stdout closed, node output is thrown away, as for any program.
 * 0, or -1 (nothing can be said: stderr may be what is closed).
 */
static int keep_std_fds_open(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		int null;

		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		/* the lowest free descriptor: fd, as the ones below it are open */
		null = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
		if (null != fd)
			return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct options opt;
	char err[512];
	char *exe;
	int status;

	if (keep_std_fds_open() < 0)
		return 1;
	if (options_parse(argc, argv, &opt, err, sizeof(err)) < 0) {
		report("%s", err);
		fprintf(stderr, "Try 'dsm -h' for more information.\n");
		return 2;
	}
	if (opt.help) {
		fputs(options_usage, stdout);
		return 0;
	}
	if (launch_check_env(err, sizeof(err)) < 0) {
		report("%s", err);
		return 2;
	}
	exe = resolve_executable(opt.executable);
	if (!exe) {
		if (errno == EACCES)
			report("%s: not an executable file", opt.executable);
		else
			report_errno("%s", opt.executable);
		return 2;
	}
	if (opt.logfile && joblog_open(opt.logfile) < 0) {
		report_errno("cannot open log file %s", opt.logfile);
		free(exe);
		return 2;
	}
	setproctitle_init(argc, argv, environ);
	status = job_run(&opt, exe);
	free(exe);
	return status;
}
