/*
 * remote.c - reading memory another node wrote, in a 2-node dsm job:
 *   remote_seq_read    node 1 reads the whole region in order, 8 bytes at a
 *                      time: the time of a pass, and MB/s
 *   remote_rand_read   node 1 reads ACCESSES 8-byte words at offsets drawn
 *                      from a fixed-seed PRNG: microseconds per access (the
 *                      time of a pass divided by ACCESSES)
 * Before every pass node 0 writes every byte of the region with a pattern
 * of its own for that pass, then a barrier. Node 1 checks a sum of what it
 * read, weighted by position, against the pattern (after the timed part), so
 * the reads cannot be optimised away and stale or misplaced pages are caught.
 * Nothing assumes which node holds which page: the phases are separated by
 * barriers only.
 * Usage: dsm -n 2 remote [MIB [PASSES [ACCESSES]]]   (default 64 3 20000)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "sm.h"
#include "stats.h"

static int nodes, me;

/* the word at index w in pass p: every byte depends on both */
static inline uint64_t pattern(uint64_t w, uint64_t p)
{
	uint64_t z = w + (p + 1) * 0x9e3779b97f4a7c15ULL;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* xorshift64*: the same offsets in every run and every pass */
static inline uint64_t next_random(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

#define SEED 0x5eed5eed5eedULL

static void fail(const char *what, uint64_t got, uint64_t want)
{
	fprintf(stderr, "remote: %s: sum %016llx, expected %016llx\n", what,
		(unsigned long long)got, (unsigned long long)want);
	exit(1);
}

/* node 0: a fresh pattern in every byte of the region */
static void fill(uint64_t *r, size_t words, uint64_t pass)
{
	for (size_t w = 0; w < words; w++)
		r[w] = pattern(w, pass);
}

static double seq_pass(const uint64_t *r, size_t words, uint64_t pass)
{
	uint64_t sum = 0, want = 0;
	double t0 = now_us(), t;

	for (size_t w = 0; w < words; w++)
		sum += r[w] ^ w;
	t = now_us() - t0;
	for (size_t w = 0; w < words; w++)
		want += pattern(w, pass) ^ w;
	if (sum != want)
		fail("sequential read", sum, want);
	return t;
}

static double random_pass(const uint64_t *r, size_t words, uint64_t pass, int accesses)
{
	uint64_t sum = 0, want = 0, s = SEED;
	double t0 = now_us(), t;

	for (int i = 0; i < accesses; i++) {
		uint64_t w = next_random(&s) % words;

		sum += r[w] ^ w;
	}
	t = now_us() - t0;
	s = SEED;
	for (int i = 0; i < accesses; i++) {
		uint64_t w = next_random(&s) % words;

		want += pattern(w, pass) ^ w;
	}
	if (sum != want)
		fail("random read", sum, want);
	return t;
}

int main(int argc, char **argv)
{
	uint64_t *r = NULL;
	size_t bytes, words;
	int passes, accesses;
	double *seq, *rnd;

	if (sm_node_init(&argc, &argv, &nodes, &me) != 0)
		return 1;
	bytes = (size_t)(argc > 1 ? atol(argv[1]) : 64) << 20;
	passes = argc > 2 ? atoi(argv[2]) : 3;
	accesses = argc > 3 ? atoi(argv[3]) : 20000;
	if (nodes != 2 || bytes == 0 || passes < 1 || accesses < 1) {
		fprintf(stderr, "usage: dsm -n 2 remote [MIB [PASSES [ACCESSES]]]\n");
		return 2;
	}
	words = bytes / sizeof(uint64_t);
	seq = malloc(sizeof(double) * (size_t)passes);
	rnd = malloc(sizeof(double) * (size_t)passes);
	if (!seq || !rnd) {
		perror("remote: malloc");
		return 1;
	}
	if (me == 0) {
		r = sm_malloc(bytes);
		if (!r) {
			fprintf(stderr, "remote: sm_malloc(%zu) failed\n", bytes);
			return 1;
		}
	}
	sm_bcast((void **)&r, 0);
	/* passes 0, 2, 4...: sequential; 1, 3, 5...: random */
	for (int p = 0; p < 2 * passes; p++) {
		if (me == 0)
			fill(r, words, (uint64_t)p);
		sm_barrier(); /* the region is written */
		if (me == 1) {
			if (p % 2 == 0)
				seq[p / 2] = seq_pass(r, words, (uint64_t)p);
			else
				rnd[p / 2] = random_pass(r, words, (uint64_t)p, accesses) / accesses;
		}
		sm_barrier(); /* node 0 may write again */
	}
	if (me == 1) {
		report_bandwidth("remote_seq_read", seq, (size_t)passes, (double)bytes);
		report_samples("remote_rand_read", rnd, (size_t)passes);
	}
	free(seq);
	free(rnd);
	sm_node_exit();
	return 0;
}
