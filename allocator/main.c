/*
 * main.c - the dsm command: parse the command line, find the program, run
 * the job. See dsm(1) and docs/design.md.
 */
#include <bsd/unistd.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "job.h"
#include "joblog.h"
#include "launch/launch.h"
#include "options.h"

extern char **environ;

int main(int argc, char **argv)
{
	struct options opt;
	char err[512];
	char *exe;
	int status;

	if (options_parse(argc, argv, &opt, err, sizeof(err)) < 0) {
		report("%s", err);
		fprintf(stderr, "Try 'dsm -h' for more information.\n");
		return 2;
	}
	if (opt.help) {
		fputs(options_usage, stdout);
		return 0;
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
