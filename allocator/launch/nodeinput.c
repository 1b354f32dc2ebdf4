/*
 * nodeinput.c - which node reads dsm's standard input (dsm -i; the rules
 * are in launch.h): checking the choice before the job starts, the relay
 * that lets a node read dsm's terminal, and setting up descriptor 0 in a
 * forked local node. Nodes on other hosts read /dev/null (launch.c's remote
 * command), so none of this applies to them.
 */
#include "nodeinput.h"

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

#include "hostfile.h"

/* dsm's standard input opened anew: the same file, its own offset at 0 */
#define STDIN_AGAIN "/proc/self/fd/0"

static const char *file_kind(mode_t mode)
{
	if (S_ISFIFO(mode))
		return "a pipe";
	if (S_ISCHR(mode))
		return isatty(STDIN_FILENO) ? "a terminal" : "a character device";
	if (S_ISSOCK(mode))
		return "a socket";
	if (S_ISDIR(mode))
		return "a directory";
	return "not a regular file";
}

int launch_check_stdin(uint32_t stdin_node, int given, const struct hostlist *hosts,
		       uint32_t nnodes, char *err, size_t errlen)
{
	struct stat st;
	int fd;

	if (stdin_node != LAUNCH_STDIN_ALL) {
		const char *host = hostlist_place(hosts, stdin_node);

		if (given && !host_is_local(host)) {
			snprintf(err, errlen, "-i %u: node %u runs on %s through ssh, and nodes "
				 "on other hosts read /dev/null", stdin_node, stdin_node, host);
			return -1;
		}
		return 0;
	}
	for (uint32_t i = 0; i < nnodes; i++) {
		const char *host = hostlist_place(hosts, i);

		if (!host_is_local(host)) {
			snprintf(err, errlen, "-i all: node %u runs on %s through ssh, and nodes "
				 "on other hosts read /dev/null", i, host);
			return -1;
		}
	}
	if (fstat(STDIN_FILENO, &st) < 0) {
		snprintf(err, errlen, "-i all: standard input: %s", strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "-i all: standard input is %s; every node reads it from "
			 "its start, so it must be a regular file (dsm -i all ... <FILE)",
			 file_kind(st.st_mode));
		return -1;
	}
	fd = open(STDIN_AGAIN, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "-i all: cannot open standard input again: %s",
			 strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
}

/* The relay: copy fd 0 to fd `to` until either ends, then exit. */
static void relay(int to)
{
	char buf[4096];

	for (;;) {
		ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(n < 0);
		for (ssize_t at = 0; at < n;) {
			ssize_t w = write(to, buf + at, (size_t)(n - at));

			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				_exit(0); /* the node closed its end (EPIPE: dsm ignores SIGPIPE) */
			at += w;
		}
	}
}

int nodeinput_relay(const struct launch_spec *spec, uint32_t nid, int *fd)
{
	int p[2], saved;
	pid_t parent = getpid(), pid;

	*fd = -1;
	if (nid != spec->stdin_node || !isatty(STDIN_FILENO))
		return 0;
	/*
	 * The relay stays in dsm's process group, the terminal's foreground one
	 * when dsm is; reaped (and otherwise ignored) like any child of dsm;
	 * killed when dsm exits, blocked in read() or not.
	 */
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
			_exit(1);
		/* nothing of dsm's but the terminal and the pipe: fd 3 */
		if (p[1] != 3 && dup2(p[1], 3) < 0)
			_exit(1);
		closefrom(4);
		relay(3);
	}
	saved = errno;
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		errno = saved;
		return -1;
	}
	*fd = p[0];
	return 0;
}

/* Descriptor 0 becomes path opened read-only. */
static int stdin_from(const char *path)
{
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -1;
	if (fd != STDIN_FILENO) {
		if (dup2(fd, STDIN_FILENO) < 0)
			return -1;
		close(fd);
	}
	return 0;
}

int nodeinput_child(const struct launch_spec *spec, uint32_t nid, int relay_fd)
{
	if (spec->stdin_node == LAUNCH_STDIN_ALL)
		return stdin_from(STDIN_AGAIN);
	if (nid != spec->stdin_node)
		return stdin_from("/dev/null");
	if (relay_fd >= 0 && dup2(relay_fd, STDIN_FILENO) < 0)
		return -1;
	return 0;
}
