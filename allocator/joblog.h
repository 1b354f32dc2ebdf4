/*
 * joblog.h - the -l log: one line per allocator action, written with a
 * single write() to a file opened O_APPEND before the proxies are forked, so
 * lines from the allocator and every proxy never interleave.
 *
 * Line format (stable, version 1, documented in dsm(1) and docs/protocol.md):
 * one action per line, six space-separated columns, "-" where a column does
 * not apply; the file starts with one "#" comment line naming the columns.
 *   TIME NODE ACTION PAGE PEER MICROS
 *   1795318484.406758 2 read-fault 17 0 153
 * The ACTION names are the list in common/logactions.h.
 */
#ifndef DSM_JOBLOG_H
#define DSM_JOBLOG_H

#include <stdint.h>

#include "../common/logactions.h"

int joblog_open(const char *path); /* 0, or -1 with errno */
int joblog_enabled(void);
/* page, peer, micros < 0 are written as "-" */
void joblog_write(uint32_t node, enum log_action action, int64_t page, int64_t peer,
		  int64_t micros);

#endif /* DSM_JOBLOG_H */
