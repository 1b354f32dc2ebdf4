/*
 * stats.h - the one way every benchmark reports a figure: collect samples
 * (microseconds), then print a RESULT line with the median, min and max that
 * bench/run.sh parses:
 *   RESULT name=NAME median_us=M min_us=A max_us=B n=N [bytes=S mb_s=R]
 * (bytes and mb_s for a bandwidth: S bytes moved per sample, R = S / M in
 * MB/s, 10^6 bytes per second)
 * Header-only so each benchmark program stays one file.
 */
#ifndef DSM_BENCH_STATS_H
#define DSM_BENCH_STATS_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static inline double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Sorts samples in place; bytes > 0 adds the bandwidth of the median. */
static inline void report_distribution(const char *name, double *samples, size_t n, double bytes)
{
	double median;

	if (n == 0)
		return;
	qsort(samples, n, sizeof(*samples), cmp_double);
	median = n % 2 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
	printf("RESULT name=%s median_us=%.3f min_us=%.3f max_us=%.3f n=%zu", name, median,
	       samples[0], samples[n - 1], n);
	if (bytes > 0 && median > 0)
		printf(" bytes=%.0f mb_s=%.1f", bytes, bytes / median);
	printf("\n");
	fflush(stdout);
}

static inline void report_samples(const char *name, double *samples, size_t n)
{
	report_distribution(name, samples, n, 0);
}

/* Each sample is the time to move `bytes` bytes. */
static inline void report_bandwidth(const char *name, double *samples, size_t n, double bytes)
{
	report_distribution(name, samples, n, bytes);
}

/* A figure that is a rate or a single duration, not a distribution. */
static inline void report_value(const char *name, const char *unit, double value)
{
	printf("RESULT name=%s %s=%.3f\n", name, unit, value);
	fflush(stdout);
}

#endif /* DSM_BENCH_STATS_H */
