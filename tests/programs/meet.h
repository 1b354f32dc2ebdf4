/*
 * meet.h - a barrier among the threads of one node, for the test programs
 * that run threads inside a node (threads.c, threadsync.c).
 */
#ifndef DSM_TEST_MEET_H
#define DSM_TEST_MEET_H

#include <pthread.h>

/*
 * The threads of a node meet at a barrier of a mutex and a condition rather
 * than a pthread_barrier_t: ThreadSanitizer delivers signals to a thread
 * asleep in pthread_cond_wait(), not in pthread_barrier_wait(), and a
 * thread asleep with a page held for its last instruction must take
 * libsm's signal that ends the hold (see docs/design.md, ThreadSanitizer).
 */
struct meet {
	pthread_mutex_t lock;
	pthread_cond_t all_here;
	int parties, waiting;
	unsigned long round;
};

static void meet(struct meet *m) __attribute__((unused));
static void meet(struct meet *m)
{
	unsigned long round;

	pthread_mutex_lock(&m->lock);
	round = m->round;
	if (++m->waiting == m->parties) {
		m->waiting = 0;
		m->round++;
		pthread_cond_broadcast(&m->all_here);
	}
	while (m->round == round)
		pthread_cond_wait(&m->all_here, &m->lock);
	pthread_mutex_unlock(&m->lock);
}

#define MEET_INITIALIZER {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0}

#endif /* DSM_TEST_MEET_H */
