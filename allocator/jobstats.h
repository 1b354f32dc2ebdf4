/*
 * jobstats.h - what `dsm -S` reports per node: fault counts by kind,
 * revokes and invalidations received, pages moved, time spent waiting in
 * faults and barriers, locks taken and time queued for them, fault latency (median, 95th percentile) from a
 * log-scale histogram, and the node's ping time. The counters sit in the
 * shared node slots, so every proxy updates them with atomic adds, and the
 * allocator prints them when the job is over.
 */
#ifndef DSM_JOBSTATS_H
#define DSM_JOBSTATS_H

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

/* 8 buckets per power of two up to 2^24 us: within 1/8 (12.5%) everywhere */
#define STATS_SUB 8
#define STATS_BUCKETS (25 * STATS_SUB)

struct node_stats {
	_Atomic uint64_t read_faults, write_faults, upgrades;
	_Atomic uint64_t revokes_received, invalidations_received;
	_Atomic uint64_t pages_in, pages_out; /* pages sent to / taken from the node */
	_Atomic uint64_t fault_wait_us, barrier_wait_us;
	_Atomic uint64_t ping_count, ping_sum_us, ping_min_us, ping_max_us;
	_Atomic uint64_t locks_taken, lock_wait_us; /* sm_lock grants, time queued */
	_Atomic uint32_t latency[STATS_BUCKETS];
};

/* The histogram bucket of a latency, and a representative value of one. */
unsigned stats_bucket(uint64_t us);
uint64_t stats_bucket_value(unsigned bucket);

/* The q-quantile (0..1) of a histogram, 0 when it is empty. */
uint64_t stats_quantile(const _Atomic uint32_t *hist, double q);

void stats_fault(struct node_stats *s, int write, int upgrade, uint64_t us);
void stats_ping(struct node_stats *s, uint64_t us);

/* One row per node: `hosts[i]` names node i's host. */
void stats_print(FILE *out, struct node_stats *const *nodes, const char *const *hosts,
		 uint32_t n);

#endif /* DSM_JOBSTATS_H */
