/*
 * joblog.c - the -l log (see joblog.h).
 */
#include "joblog.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static int log_fd = -1;

int joblog_open(const char *path)
{
	log_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
	return log_fd < 0 ? -1 : 0;
}

int joblog_enabled(void)
{
	return log_fd >= 0;
}

void joblog_write(uint32_t node, const char *action, int64_t page, int64_t peer, int64_t bytes)
{
	char line[256];
	struct timespec ts;
	int n;

	if (log_fd < 0)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	n = snprintf(line, sizeof(line), "%lld.%06ld node=%" PRIu32 " %s", (long long)ts.tv_sec,
		     ts.tv_nsec / 1000, node, action);
	if (page >= 0)
		n += snprintf(line + n, sizeof(line) - (size_t)n, " page=%" PRId64, page);
	if (peer >= 0)
		n += snprintf(line + n, sizeof(line) - (size_t)n, " peer=%" PRId64, peer);
	if (bytes >= 0)
		n += snprintf(line + n, sizeof(line) - (size_t)n, " bytes=%" PRId64, bytes);
	line[n++] = '\n';
	if (write(log_fd, line, (size_t)n) < 0)
		log_fd = -1; /* a log that cannot be written is given up, not fatal */
}
