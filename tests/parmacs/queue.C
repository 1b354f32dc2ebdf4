/*
 * queue.C - a shared work queue under a lock, SPLASH-3 style (the process
 * count P is the first argument, and the processes start with one call that
 * names it). Every process takes the next task number under the queue lock
 * until none is left, adds up the tasks it took and counts, per task, how
 * often it was taken (an atomic add: a task taken twice shows). After the
 * barrier every process sees the full sum; the master then checks that each
 * task was taken exactly once and the exact sum.
 *
 * usage: dsm -n P ./parmacs-queue P
 */
#include <stdio.h>
#include <stdlib.h>

#include "pmcheck.h"

MAIN_ENV

#define TASKS 1000

struct global {
	LOCKDEC(queue_lock)
	LOCKDEC(sum_lock)
	BARDEC(done)
	long next;              /* the next task to hand out */
	long long sum;          /* of every process part */
	long taken[TASKS];      /* how often each task was taken */
};

/* private to each node: set by the start-up, which every node runs */
static struct global *gl;
static long *tasks_of;          /* per process: how many tasks it took */
static long nprocs;

static long value_of(long task)
{
	return task * task % 1009 + 1;
}

static long long expected_sum(void)
{
	long long sum = 0;

	for (long t = 0; t < TASKS; t++)
		sum += value_of(t);
	return sum;
}

static void worker(void)
{
	long me, task, mine = 0;
	long long part = 0;

	GET_PID(me);
	for (;;) {
		LOCK(gl->queue_lock)
		task = gl->next;
		if (task < TASKS)
			gl->next = task + 1;
		UNLOCK(gl->queue_lock)
		if (task >= TASKS)
			break;
		__atomic_fetch_add(&gl->taken[task], 1, __ATOMIC_SEQ_CST);
		part += value_of(task);
		mine++;
	}
	tasks_of[me] = mine;
	LOCK(gl->sum_lock)
	gl->sum += part;
	UNLOCK(gl->sum_lock)
	BARRIER(gl->done, nprocs)
	if (gl->sum != expected_sum())
		fail("after the barrier the sum is %lld, expected %lld", gl->sum, expected_sum());
}

int main(int argc, char *argv[])
{
	long total = 0;

	program_name = "parmacs-queue";
	if (argc != 2)
		fail("usage: parmacs-queue P");
	nprocs = number(argv[1], 1, 1024, "P");
	MAIN_INITENV(,4000000)
	gl = (struct global *) G_MALLOC(sizeof(struct global));
	tasks_of = (long *) G_MALLOC(nprocs * sizeof(long));
	if (gl == NULL || tasks_of == NULL)
		fail("out of shared memory");
	LOCKINIT(gl->queue_lock)
	LOCKINIT(gl->sum_lock)
	BARINIT(gl->done, nprocs)

	CREATE(worker, nprocs)
	WAIT_FOR_END(nprocs)

	for (long t = 0; t < TASKS; t++)
		if (gl->taken[t] != 1)
			fail("task %ld was taken %ld times", t, gl->taken[t]);
	for (long p = 0; p < nprocs; p++)
		total += tasks_of[p];
	if (total != TASKS || gl->next != TASKS)
		fail("the processes took %ld tasks, the queue handed out %ld, expected %d",
		     total, gl->next, TASKS);
	if (gl->sum != expected_sum())
		fail("the sum is %lld, expected %lld", gl->sum, expected_sum());
	printf("parmacs-queue: ok: %ld processes took %d tasks once each, sum %lld\n",
	       nprocs, TASKS, gl->sum);
	MAIN_END
}
