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
	static const char header[] = "# dsm log 1: time node action page peer micros\n";

	log_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
	if (log_fd < 0)
		return -1;
	if (write(log_fd, header, sizeof(header) - 1) < 0)
		return -1;
	return 0;
}

int joblog_enabled(void)
{
	return log_fd >= 0;
}

static int column(char *out, size_t len, int64_t v)
{
	return v < 0 ? snprintf(out, len, " -") : snprintf(out, len, " %" PRId64, v);
}

void joblog_write(uint32_t node, enum log_action action, int64_t page, int64_t peer,
		  int64_t micros)
{
	char line[256];
	struct timespec ts;
	int n;

	if (log_fd < 0)
		return;
	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		ts = (struct timespec){0}; /* cannot happen with CLOCK_REALTIME */
	n = snprintf(line, sizeof(line), "%lld.%06ld %" PRIu32 " %s", (long long)ts.tv_sec,
		     ts.tv_nsec / 1000, node, log_action_name(action));
	n += column(line + n, sizeof(line) - (size_t)n, page);
	n += column(line + n, sizeof(line) - (size_t)n, peer);
	n += column(line + n, sizeof(line) - (size_t)n, micros);
	line[n++] = '\n';
	if (write(log_fd, line, (size_t)n) < 0)
		log_fd = -1; /* a log that cannot be written is given up, not fatal */
}
