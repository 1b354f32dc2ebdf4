/*
 * txnlog.h - what a transaction touched: a mark per page (untouched, read,
 * written), the list of pages marked, and the undo store of pre-images (the
 * contents of each written page before its first write in the transaction).
 * Plain data, no libsm state, so the unit tests use it as it is
 * (tests/unit/test_txnlog.c). Everything here is async-signal-safe after
 * txn_log_init: the fault handler records marks and pre-images.
 */
#ifndef TXNLOG_H
#define TXNLOG_H

#include <stdint.h>

enum txn_mark {
	TM_NONE = 0,  /* untouched in this transaction */
	TM_READ = 1,  /* read */
	TM_WRITE = 2, /* written: its pre-image is in the undo store */
};

struct txn_log {
	uint32_t npages;
	uint8_t *mark;      /* enum txn_mark per page */
	uint32_t *touched;  /* the pages marked, in the order they were */
	uint32_t ntouched;
	uint32_t *written;  /* the pages written, in order ... */
	uint32_t nwritten;
	uint8_t *undo;      /* ... written[i]'s pre-image at undo + i pages */
	uint32_t page_size;
};

/* Reserve room for npages pages of page_size bytes (MAP_NORESERVE: only
 * what is used costs memory). 0, or -1 with errno set. */
int txn_log_init(struct txn_log *l, uint32_t npages, uint32_t page_size);
void txn_log_destroy(struct txn_log *l);

static inline uint8_t txn_log_mark(const struct txn_log *l, uint32_t page)
{
	return l->mark[page];
}

/* The page was read: untouched becomes read; read or written stays. */
void txn_log_read(struct txn_log *l, uint32_t page);
/* The page is about to be written; contents is what it holds now. The
 * first time, contents is kept as its pre-image. */
void txn_log_write(struct txn_log *l, uint32_t page, const uint8_t *contents);
/* Put every pre-image back into region (page p at region + p pages). */
void txn_log_restore(const struct txn_log *l, uint8_t *region);
/* Forget everything: every page untouched, the store empty. */
void txn_log_clear(struct txn_log *l);

#endif /* TXNLOG_H */
