/*
 * joblog.h - the -l log: one line per allocator action, written with a
 * single write() to a file opened O_APPEND before the proxies are forked, so
 * lines from the allocator and every proxy never interleave.
 *
 * Line format (stable, documented in docs/protocol.md):
 *   SECONDS.MICROS node=N ACTION [page=P] [peer=Q] [bytes=B]
 */
#ifndef DSM_JOBLOG_H
#define DSM_JOBLOG_H

#include <stdint.h>

int joblog_open(const char *path); /* 0, or -1 with errno */
int joblog_enabled(void);
/* page/peer/bytes < 0 are left out */
void joblog_write(uint32_t node, const char *action, int64_t page, int64_t peer, int64_t bytes);

#endif /* DSM_JOBLOG_H */
