/*
 * jobstats.c - per-node statistics for dsm -S (see jobstats.h).
 */
#include "jobstats.h"

/* Bucket = 8 * (position of the top bit) + the next three bits. */
unsigned stats_bucket(uint64_t us)
{
	unsigned top, b;

	if (us < STATS_SUB)
		return (unsigned)us;
	top = 63u - (unsigned)__builtin_clzll(us);
	b = top * STATS_SUB + (unsigned)((us >> (top - 3)) & (STATS_SUB - 1));
	return b < STATS_BUCKETS ? b : STATS_BUCKETS - 1;
}

uint64_t stats_bucket_value(unsigned bucket)
{
	unsigned top = bucket / STATS_SUB, frac = bucket % STATS_SUB;

	if (bucket < STATS_SUB)
		return bucket;
	/* the middle of the bucket */
	return ((uint64_t)(STATS_SUB + frac) << (top - 3)) + ((1ull << (top - 3)) >> 1);
}

uint64_t stats_quantile(const _Atomic uint32_t *hist, double q)
{
	uint64_t total = 0, seen = 0, want;

	for (unsigned b = 0; b < STATS_BUCKETS; b++)
		total += atomic_load(&hist[b]);
	if (total == 0)
		return 0;
	want = (uint64_t)(q * (double)total);
	if (want >= total)
		want = total - 1;
	for (unsigned b = 0; b < STATS_BUCKETS; b++) {
		seen += atomic_load(&hist[b]);
		if (seen > want)
			return stats_bucket_value(b);
	}
	return stats_bucket_value(STATS_BUCKETS - 1);
}

void stats_fault(struct node_stats *s, int write, int upgrade, uint64_t us)
{
	if (upgrade)
		atomic_fetch_add(&s->upgrades, 1);
	else if (write)
		atomic_fetch_add(&s->write_faults, 1);
	else
		atomic_fetch_add(&s->read_faults, 1);
	atomic_fetch_add(&s->fault_wait_us, us);
	atomic_fetch_add(&s->latency[stats_bucket(us)], 1);
}

void stats_ping(struct node_stats *s, uint64_t us)
{
	uint64_t min = atomic_load(&s->ping_min_us);

	if (atomic_fetch_add(&s->ping_count, 1) == 0 || us < min)
		atomic_store(&s->ping_min_us, us);
	if (us > atomic_load(&s->ping_max_us))
		atomic_store(&s->ping_max_us, us);
	atomic_fetch_add(&s->ping_sum_us, us);
}

static double ms(uint64_t us)
{
	return (double)us / 1000.0;
}

void stats_print(FILE *out, struct node_stats *const *nodes, const char *const *hosts,
		 uint32_t n)
{
	fprintf(out, "%-5s %-12s %7s %7s %7s %7s %7s %9s %9s %9s %9s %8s %8s %9s %7s %9s\n",
		"node", "host", "rfault", "wfault", "upgr", "inval", "revoke", "pages-in",
		"pages-out", "fault-ms", "barr-ms", "p50-us", "p95-us", "ping-us", "locks",
		"lock-ms");
	for (uint32_t i = 0; i < n; i++) {
		struct node_stats *s = nodes[i];
		uint64_t pings = atomic_load(&s->ping_count);
		char ping[32];

		if (pings)
			snprintf(ping, sizeof(ping), "%llu",
				 (unsigned long long)(atomic_load(&s->ping_sum_us) / pings));
		else
			snprintf(ping, sizeof(ping), "-");
		fprintf(out,
			"%-5u %-12.12s %7llu %7llu %7llu %7llu %7llu %9llu %9llu %9.1f %9.1f %8llu "
			"%8llu %9s %7llu %9.1f\n",
			i, hosts[i], (unsigned long long)atomic_load(&s->read_faults),
			(unsigned long long)atomic_load(&s->write_faults),
			(unsigned long long)atomic_load(&s->upgrades),
			(unsigned long long)atomic_load(&s->invalidations_received),
			(unsigned long long)atomic_load(&s->revokes_received),
			(unsigned long long)atomic_load(&s->pages_in),
			(unsigned long long)atomic_load(&s->pages_out),
			ms(atomic_load(&s->fault_wait_us)), ms(atomic_load(&s->barrier_wait_us)),
			(unsigned long long)stats_quantile(s->latency, 0.5),
			(unsigned long long)stats_quantile(s->latency, 0.95), ping,
			(unsigned long long)atomic_load(&s->locks_taken),
			ms(atomic_load(&s->lock_wait_us)));
	}
	fprintf(out, "pages-in: pages sent to the node (grants with data); pages-out: pages it "
		     "gave back; fault-ms, barr-ms: time spent waiting; p50/p95: fault latency "
		     "(+-12%%); ping: mean round trip to the node's libsm; locks: sm_lock/sm_trylock/"
		     "sm_cond_wait grants; lock-ms: time queued for them\n");
}
