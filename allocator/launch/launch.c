/*
 * launch.c - starting a node by fork/exec here or through ssh, and checking
 * DSM_WRAPPER, DSM_SSH and DSM_SRUN before any starts (see launch.h); and
 * what a launcher's child shares with srun.c's (launchchild.h). Which node
 * reads dsm's standard input is nodeinput.c's; one srun step for every node
 * is srun.c's.
 */
#include "launch.h"

#include <stdnoreturn.h>

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

#include "../../common/protocol.h"
#include "hostfile.h"
#include "launchchild.h"
#include "nodeinput.h"
#include "shellwords.h"

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

noreturn void launch_child_fail(const char *what, const char *exe)
{
	char line[512];
	int n = snprintf(line, sizeof(line), "dsm: %s %s: %s\n", what, exe, strerror(errno));

	if (n > 0 && write(STDERR_FILENO, line, (size_t)n) < 0)
		_exit(127);
	_exit(127);
}

/* DSM_WRAPPER's words, or an empty list. */
static char **wrapper_words(const char *exe)
{
	const char *w = getenv("DSM_WRAPPER");
	char **words;

	if (shellwords_split(w ? w : "", &words) < 0) {
		errno = EINVAL;
		launch_child_fail("cannot parse DSM_WRAPPER to start", exe);
	}
	return words;
}

int launch_check_env(char *err, size_t errlen)
{
	static const char *const vars[] = {"DSM_WRAPPER", "DSM_SSH", "DSM_SRUN"};

	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		const char *value = getenv(vars[i]), *why;
		char **words;
		int n;

		if (!value)
			continue;
		n = shellwords_split_why(value, &words, &why);
		if (n < 0) {
			snprintf(err, errlen, "cannot parse %s=%s: %s", vars[i], value, why);
			return -1;
		}
		shellwords_free(words);
		/* an empty DSM_SSH means plain ssh; one of blanks names nothing */
		if (n == 0 && *value && strcmp(vars[i], "DSM_WRAPPER") != 0) {
			snprintf(err, errlen, "cannot parse %s=%s: it names no command", vars[i],
				 value);
			return -1;
		}
	}
	return 0;
}

size_t launch_argv_count(char **v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

int launch_close_fds(const int *fds, size_t n)
{
	int saved = errno;

	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	errno = saved;
	return -1;
}

void launch_child_begin(pid_t parent, int deathsig, int out_fd, int err_fd)
{
	setpgid(0, 0);
	if (prctl(PR_SET_PDEATHSIG, deathsig) < 0 || getppid() != parent)
		_exit(127);
	if (dup2(out_fd, STDOUT_FILENO) < 0 || dup2(err_fd, STDERR_FILENO) < 0)
		_exit(127);
}

void launch_child_clean_slate(void)
{
	sigset_t none;

	closefrom(3);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
}

char **launch_program_argv(const struct launch_spec *spec, const char *token)
{
	char **wrap = wrapper_words(spec->executable);
	size_t nw = launch_argv_count(wrap), k = 0;
	char **argv = calloc(nw + 3 + (size_t)spec->user_argc, sizeof(*argv));

	if (!argv)
		launch_child_fail("cannot start", spec->executable);
	for (size_t i = 0; i < nw; i++)
		argv[k++] = wrap[i];
	argv[k++] = (char *)spec->executable;
	argv[k++] = (char *)token;
	for (int i = 0; i < spec->user_argc; i++)
		argv[k++] = spec->user_argv[i];
	return argv;
}

/*
 * In the child: ssh [options] HOST 'cd DIR && read the secret && run
 * PROGRAM in the background, watch standard input, wait'. Standard input is
 * a pipe from dsm that stays open for the whole job: when dsm ends the job
 * or dies, the pipe closes, ssh passes the end of input on, and the watcher
 * ends the program, even one that has not joined yet (nothing else reaches
 * a remote process: ssh -T gives it no terminal to hang up): SIGTERM and
 * SIGCONT (a stopped program must see it), SIGKILL 2 s later. The shell
 * waits for the program, so a node killed by signal N comes back as ssh's
 * status 128+N (dsm does not signal the ssh client of a node whose link
 * closed, which would make it 255 instead).
 */
static const char remote_prologue[] =
	" && IFS= read -r DSM_SECRET && export DSM_SECRET && exec 3<&0 && set -m && {";
/* set -m: the program, and then the watcher, get a process group of their
 * own, which is killed whole (a wrapper's children too, the watcher's
 * sleep); the shell's own stderr then goes to /dev/null, so its job reports
 * do not mix with the program's output. set +m before `wait`: with job
 * control on, `wait` would return when the program is stopped (kill -STOP)
 * as if it had ended with status 128+SIGSTOP; a stopped node is waited for,
 * as on this machine. */
static const char remote_epilogue[] =
	" </dev/null & p=$!; exec 2>/dev/null; { while IFS= read -r _ <&3; do :; done;"
	" kill -TERM -$p; kill -CONT -$p; sleep 2; kill -KILL -$p; } >/dev/null 2>&1 & w=$!;"
	" exec 3<&-; set +m; wait $p; s=$?; kill -TERM -$w 2>/dev/null; exit $s; }";
static char **ssh_argv(const struct launch_spec *spec, const char *host, const char *token)
{
	const char *ssh = getenv("DSM_SSH");
	char **words, **prog = launch_program_argv(spec, token), **argv, *cmd = NULL;
	size_t len = 0, nw, k = 0;
	static const char *const options[] = {"-o", "BatchMode=yes", "-T", "-x"};

	if (shellwords_split(ssh && *ssh ? ssh : "ssh", &words) < 1) {
		errno = EINVAL;
		launch_child_fail("cannot parse DSM_SSH to start", spec->executable);
	}
	if (shellwords_append_quoted(&cmd, &len, "cd") < 0 ||
	    shellwords_append_quoted(&cmd, &len, spec->cwd) < 0)
		launch_child_fail("cannot start", spec->executable);
	if (!(cmd = realloc(cmd, len + sizeof(remote_prologue))))
		launch_child_fail("cannot start", spec->executable);
	strcpy(cmd + len, remote_prologue);
	len += strlen(remote_prologue);
	for (char **p = prog; *p; p++)
		if (shellwords_append_quoted(&cmd, &len, *p) < 0)
			launch_child_fail("cannot start", spec->executable);
	if (!(cmd = realloc(cmd, len + sizeof(remote_epilogue))))
		launch_child_fail("cannot start", spec->executable);
	strcpy(cmd + len, remote_epilogue);
	nw = launch_argv_count(words);
	argv = calloc(nw + 4 + 3, sizeof(*argv));
	if (!argv)
		launch_child_fail("cannot start", spec->executable);
	for (size_t i = 0; i < nw; i++)
		argv[k++] = words[i];
	for (size_t i = 0; i < 4; i++)
		argv[k++] = (char *)options[i];
	argv[k++] = (char *)host;
	argv[k++] = cmd;
	return argv;
}

int launch_node(const struct launch_spec *spec, uint32_t nid, const char *host,
		struct node_proc *np)
{
	int fds[7] = {-1, -1, -1, -1, -1, -1, -1}; /* out[2], err[2], in[2], relay */
	int *out = fds, *err = fds + 2, *in = fds + 4, *relay = fds + 6;
	int remote = !host_is_local(host);
	pid_t parent = getpid(), pid = -1;

	if (pipe2(out, O_CLOEXEC) == 0 && pipe2(err, O_CLOEXEC) == 0 &&
	    (!remote || pipe2(in, O_CLOEXEC) == 0) &&
	    (remote || nodeinput_relay(spec, nid, relay) == 0))
		pid = fork();
	if (pid < 0)
		return launch_close_fds(fds, sizeof(fds) / sizeof(fds[0]));
	if (pid == 0) {
		char *token, **argv;

		launch_child_begin(parent, SIGKILL, out[1], err[1]);
		if (remote && dup2(in[0], STDIN_FILENO) < 0)
			_exit(127);
		if (!remote && nodeinput_child(spec, nid, *relay) < 0)
			launch_child_fail("cannot set up the standard input of", spec->executable);
		launch_child_clean_slate();
		if (asprintf(&token, "--dsm-node=%u,%u,%u,%s", nid, spec->nnodes, spec->port,
			     spec->connect_host) < 0)
			launch_child_fail("cannot start", spec->executable);
		if (remote) {
			argv = ssh_argv(spec, host, token);
			execvp(argv[0], argv);
			launch_child_fail("cannot execute the ssh client", argv[0]);
		}
		if (setenv("DSM_SECRET", spec->secret_hex, 1) < 0)
			launch_child_fail("cannot start", spec->executable);
		argv = launch_program_argv(spec, token);
		if (argv[0] != spec->executable) {
			execvp(argv[0], argv);
			launch_child_fail("cannot execute DSM_WRAPPER", argv[0]);
		}
		execv(spec->executable, argv);
		launch_child_fail("cannot execute", spec->executable);
	}
	/* also in the parent, so a signal to the group never races the child's setpgid */
	setpgid(pid, pid);
	close(out[1]);
	close(err[1]);
	if (*relay >= 0)
		close(*relay);
	if (remote) {
		/* the secret, through ssh to the remote shell's `read` (a pipe of
		 * 64 KiB takes these 65 bytes without blocking) */
		char line[2 * DSM_SECRET_LEN + 2];
		int n = snprintf(line, sizeof(line), "%s\n", spec->secret_hex);

		close(in[0]);
		if (write(in[1], line, (size_t)n) != n) {
			/* ssh died already: its exit status will tell */
		}
		explicit_bzero(line, sizeof(line));
		/* in[1] stays open: its closing tells the remote side the job is over */
	}
	memset(np, 0, sizeof(*np));
	np->pid = pid;
	np->out_fd = out[0];
	np->err_fd = err[0];
	np->host = host;
	np->remote = remote;
	np->stdin_fd = remote ? in[1] : -1;
	return 0;
}
