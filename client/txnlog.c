/*
 * txnlog.c - a transaction's page marks and its undo store (txnlog.h).
 * Three reservations made once, at the first transaction, each as large as
 * the region needs at most: the marks (a byte per page), the lists of pages
 * touched and written (a word per page each), and the pre-images (a page
 * per page). MAP_NORESERVE keeps the unused part free, so a transaction
 * costs memory in proportion to what it touches, and recording in the
 * fault handler never allocates.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "txnlog.h"

/* Above this many pre-images, clearing gives their memory back. */
#define KEEP_PAGES 64

static void *reserve(size_t bytes)
{
	void *p = mmap(NULL, bytes ? bytes : 1, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static void unreserve(void *p, size_t bytes)
{
	if (p)
		munmap(p, bytes ? bytes : 1);
}

int txn_log_init(struct txn_log *l, uint32_t npages, uint32_t page_size)
{
	memset(l, 0, sizeof(*l));
	l->npages = npages;
	l->page_size = page_size;
	l->mark = reserve(npages);
	l->touched = reserve((size_t)npages * sizeof(uint32_t));
	l->written = reserve((size_t)npages * sizeof(uint32_t));
	l->undo = reserve((size_t)npages * page_size);
	if (!l->mark || !l->touched || !l->written || !l->undo) {
		int e = errno;

		txn_log_destroy(l);
		errno = e;
		return -1;
	}
	return 0;
}

void txn_log_destroy(struct txn_log *l)
{
	unreserve(l->mark, l->npages);
	unreserve(l->touched, (size_t)l->npages * sizeof(uint32_t));
	unreserve(l->written, (size_t)l->npages * sizeof(uint32_t));
	unreserve(l->undo, (size_t)l->npages * l->page_size);
	memset(l, 0, sizeof(*l));
}

void txn_log_read(struct txn_log *l, uint32_t page)
{
	if (l->mark[page] != TM_NONE)
		return;
	l->mark[page] = TM_READ;
	l->touched[l->ntouched++] = page;
}

void txn_log_write(struct txn_log *l, uint32_t page, const uint8_t *contents)
{
	if (l->mark[page] == TM_WRITE)
		return;
	if (l->mark[page] == TM_NONE)
		l->touched[l->ntouched++] = page;
	l->mark[page] = TM_WRITE;
	memcpy(l->undo + (size_t)l->nwritten * l->page_size, contents, l->page_size);
	l->written[l->nwritten++] = page;
}

void txn_log_restore(const struct txn_log *l, uint8_t *region)
{
	for (uint32_t i = 0; i < l->nwritten; i++)
		memcpy(region + (size_t)l->written[i] * l->page_size,
		       l->undo + (size_t)i * l->page_size, l->page_size);
}

void txn_log_clear(struct txn_log *l)
{
	for (uint32_t i = 0; i < l->ntouched; i++)
		l->mark[l->touched[i]] = TM_NONE;
	/* a big transaction's pre-images: give the memory back (best effort:
	 * failing, it stays reserved and is reused) */
	if (l->nwritten > KEEP_PAGES) {
		size_t keep = (size_t)KEEP_PAGES * l->page_size;

		(void)madvise(l->undo + keep, (size_t)l->nwritten * l->page_size - keep,
			      MADV_DONTNEED);
	}
	l->ntouched = 0;
	l->nwritten = 0;
}
