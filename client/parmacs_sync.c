/*
 * parmacs_sync.c - the PARMACS synchronization objects that are more than a
 * lock: event flags (PAUSEDEC, SETPAUSE, CLEARPAUSE, WAITPAUSE) on a lock and
 * a condition, so a waiter blocks at dsm instead of spinning on a shared page,
 * and global subscripts (GSDEC, GETSUB) under a lock.
 */
#include "libsm.h"
#include "sm.h"
#include "sm_parmacs.h"

/*
 * Every node runs the start-up; an initialization there is written by the
 * master alone (CREATE's barrier makes it visible to all), since the others'
 * identical writes would only take the page away from it.
 */
static int skip_startup_write(void)
{
	return sm__parmacs_in_startup() && sm__st.nid != 0;
}

SM_API void sm_parmacs_pauseinit(sm_parmacs_pause_t *p)
{
	if (skip_startup_write())
		return;
	sm_lock(&p->lock);
	p->flag = 0;
	sm_unlock(&p->lock);
}

SM_API void sm_parmacs_setpause(sm_parmacs_pause_t *p)
{
	sm_lock(&p->lock);
	p->flag = 1;
	sm_cond_broadcast(&p->set);
	sm_unlock(&p->lock);
}

SM_API void sm_parmacs_clearpause(sm_parmacs_pause_t *p)
{
	sm_lock(&p->lock);
	p->flag = 0;
	sm_unlock(&p->lock);
}

SM_API void sm_parmacs_waitpause(sm_parmacs_pause_t *p)
{
	sm_lock(&p->lock);
	while (!p->flag)
		sm_cond_wait(&p->set, &p->lock);
	sm_unlock(&p->lock);
}

SM_API void sm_parmacs_gsinit(sm_parmacs_gs_t *g)
{
	if (skip_startup_write())
		return;
	sm_lock(&g->lock);
	g->next = 0;
	g->finished = 0;
	sm_unlock(&g->lock);
}

SM_API long sm_parmacs_getsub(sm_parmacs_gs_t *g, long last, long nprocs)
{
	long sub;

	sm_lock(&g->lock);
	if (g->next <= last) {
		sub = g->next++;
	} else {
		sub = -1;
		if (++g->finished >= nprocs) {
			g->next = 0;
			g->finished = 0;
		}
	}
	sm_unlock(&g->lock);
	return sub;
}
