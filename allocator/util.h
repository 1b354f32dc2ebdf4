/*
 * util.h - the allocator's small helpers: the monotonic clock, and error
 * reporting in the one format dsm uses everywhere, "dsm: <what failed>: <why>"
 * on stderr. Messages are formatted into a stack buffer and written with a
 * single write(), so lines from many processes do not interleave. And the
 * robust process-shared mutexes of the shared tables (the page table's, the
 * lock table's).
 */
#ifndef DSM_UTIL_H
#define DSM_UTIL_H

#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdnoreturn.h>

/* Printed before every message; "dsm" by default, "dsm: node 3" in libsm. */
extern char dsm_msg_prefix[48];

/* Where a formatted message line goes instead of write(STDERR_FILENO), when
 * set: dsm queues its messages with node output that way (launch.h,
 * output_take_reports), so it never blocks on a stderr nobody reads. */
extern void (*report_hook)(const char *line, size_t len);

/* "PREFIX: message" */
void report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "PREFIX: message: strerror(errno)" */
void report_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void report_code(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Report and exit(status). */
noreturn void die(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
noreturn void die_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
noreturn void die_errno_code(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Microseconds on CLOCK_MONOTONIC. */
uint64_t mono_us(void);

/* A robust, process-shared mutex in shared memory: 0, or an errno value. */
int robust_mutex_init(pthread_mutex_t *m);
/*
 * Lock one (dies if pthread_mutex_lock fails). Only a proxy can die holding
 * one, and the allocator ends the whole job when a proxy dies, so the state
 * it guarded is only read for the teardown: an EOWNERDEAD is marked
 * consistent and the caller goes on rather than wedge everyone.
 */
void robust_mutex_lock(pthread_mutex_t *m);

#endif /* DSM_UTIL_H */
