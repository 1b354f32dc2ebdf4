/*
 * test_jobstats.c - the latency histogram behind dsm -S: every value lands
 * in a bucket whose representative is within 1/8 of it, buckets are
 * monotonic, and quantiles come out of the right bucket.
 */
#include <criterion/criterion.h>
#include <stdatomic.h>

#include "../../allocator/jobstats.h"

Test(jobstats, small_values_are_exact)
{
	for (uint64_t v = 0; v < STATS_SUB; v++) {
		cr_assert_eq(stats_bucket(v), v);
		cr_assert_eq(stats_bucket_value(stats_bucket(v)), v);
	}
}

Test(jobstats, buckets_are_within_an_eighth_and_monotonic)
{
	unsigned last = 0;

	for (uint64_t v = 1; v < (1ull << 24); v = v * 9 / 8 + 1) {
		unsigned b = stats_bucket(v);
		uint64_t rep = stats_bucket_value(b);
		double err = (double)(rep > v ? rep - v : v - rep) / (double)v;

		cr_assert(b >= last, "bucket of %lu went down", (unsigned long)v);
		cr_assert(err <= 0.125, "value %lu -> %lu (%.3f)", (unsigned long)v,
			  (unsigned long)rep, err);
		last = b;
	}
	cr_assert_eq(stats_bucket(UINT64_MAX), STATS_BUCKETS - 1, "huge values saturate");
}

Test(jobstats, quantiles)
{
	static _Atomic uint32_t hist[STATS_BUCKETS];
	struct node_stats s = {0};

	cr_assert_eq(stats_quantile(hist, 0.5), 0, "empty");
	for (int i = 0; i < 90; i++)
		atomic_fetch_add(&hist[stats_bucket(100)], 1);
	for (int i = 0; i < 10; i++)
		atomic_fetch_add(&hist[stats_bucket(5000)], 1);
	cr_assert_eq(stats_quantile(hist, 0.5), stats_bucket_value(stats_bucket(100)));
	cr_assert_eq(stats_quantile(hist, 0.95), stats_bucket_value(stats_bucket(5000)));

	stats_fault(&s, 1, 1, 40);
	stats_fault(&s, 1, 0, 50);
	stats_fault(&s, 0, 0, 60);
	cr_assert_eq(atomic_load(&s.upgrades), 1);
	cr_assert_eq(atomic_load(&s.write_faults), 1);
	cr_assert_eq(atomic_load(&s.read_faults), 1);
	cr_assert_eq(atomic_load(&s.fault_wait_us), 150);
	stats_ping(&s, 30);
	stats_ping(&s, 10);
	cr_assert_eq(atomic_load(&s.ping_min_us), 10);
	cr_assert_eq(atomic_load(&s.ping_max_us), 30);
	cr_assert_eq(atomic_load(&s.ping_count), 2);
}
