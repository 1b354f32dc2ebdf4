/*
 * launch.c - local nodes by fork/exec (see launch.h).
 */
#include "launch.h"

#include <bsd/unistd.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

static int is_executable_file(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return 0;
	if (!S_ISREG(st.st_mode)) {
		errno = EACCES;
		return 0;
	}
	return access(path, X_OK) == 0;
}

char *resolve_executable(const char *name)
{
	const char *path = getenv("PATH");
	int saved = ENOENT;

	if (!*name) {
		errno = ENOENT;
		return NULL;
	}
	if (strchr(name, '/')) {
		char *abs = realpath(name, NULL);

		if (!abs)
			return NULL;
		if (!is_executable_file(abs)) {
			saved = errno;
			free(abs);
			errno = saved;
			return NULL;
		}
		return abs;
	}
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		const char *colon = strchr(path, ':');
		size_t len = colon ? (size_t)(colon - path) : strlen(path);
		char *candidate;

		if (asprintf(&candidate, "%.*s/%s", (int)len, len ? path : ".", name) < 0)
			return NULL;
		if (is_executable_file(candidate)) {
			char *abs = realpath(candidate, NULL);

			free(candidate);
			return abs;
		}
		if (errno == EACCES)
			saved = EACCES;
		free(candidate);
		path += len + (colon ? 1 : 0);
	}
	errno = saved;
	return NULL;
}

static void child_fail(const char *what, const char *exe)
{
	char line[512];
	int n = snprintf(line, sizeof(line), "dsm: %s %s: %s\n", what, exe, strerror(errno));

	if (n > 0 && write(STDERR_FILENO, line, (size_t)n) < 0)
		_exit(127);
	_exit(127);
}

int launch_local(const struct launch_spec *spec, uint32_t nid, struct node_proc *np)
{
	int out[2], err[2];
	pid_t parent = getpid(), pid;

	if (pipe2(out, O_CLOEXEC) < 0)
		return -1;
	if (pipe2(err, O_CLOEXEC) < 0) {
		close(out[0]);
		close(out[1]);
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		int saved = errno;

		close(out[0]), close(out[1]), close(err[0]), close(err[1]);
		errno = saved;
		return -1;
	}
	if (pid == 0) {
		char *arg, **argv;
		sigset_t none;

		setpgid(0, 0);
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
			_exit(127);
		if (dup2(out[1], STDOUT_FILENO) < 0 || dup2(err[1], STDERR_FILENO) < 0)
			_exit(127);
		closefrom(3);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		if (setenv("DSM_SECRET", spec->secret_hex, 1) < 0)
			child_fail("cannot start", spec->executable);
		if (asprintf(&arg, "--dsm-node=%u,%u,%u,%s", nid, spec->nnodes, spec->port,
			     spec->connect_host) < 0)
			child_fail("cannot start", spec->executable);
		/* DSM_WRAPPER="valgrind -q": run each node as `valgrind -q PROG ...` */
		const char *wrapper = getenv("DSM_WRAPPER");
		char *words = wrapper ? strdup(wrapper) : NULL, *save = NULL;
		int nwords = 0;

		argv = calloc((size_t)spec->user_argc + 3 + (wrapper ? strlen(wrapper) : 0),
			      sizeof(*argv));
		if (!argv || (wrapper && !words))
			child_fail("cannot start", spec->executable);
		for (char *w = words ? strtok_r(words, " \t", &save) : NULL; w;
		     w = strtok_r(NULL, " \t", &save))
			argv[nwords++] = w;
		argv[nwords] = (char *)spec->executable;
		argv[nwords + 1] = arg;
		for (int i = 0; i < spec->user_argc; i++)
			argv[nwords + 2 + i] = spec->user_argv[i];
		if (nwords) {
			execvp(argv[0], argv);
			child_fail("cannot execute DSM_WRAPPER", argv[0]);
		}
		execv(spec->executable, argv);
		child_fail("cannot execute", spec->executable);
	}
	/* also in the parent, so a signal to the group never races the child's setpgid */
	setpgid(pid, pid);
	close(out[1]);
	close(err[1]);
	np->pid = pid;
	np->out_fd = out[0];
	np->err_fd = err[0];
	np->reaped = 0;
	np->joined = 0;
	np->link_lost = 0;
	np->status = 0;
	return 0;
}
