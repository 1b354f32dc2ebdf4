/*
 * test_txnlog.c - a transaction's page marks and undo store
 * (client/txnlog.c): marks go up (untouched, read, written) and never down
 * until cleared; a page's pre-image is its contents at its first write, not
 * a later one; restoring puts every pre-image back exactly and leaves other
 * pages alone; clearing forgets everything, and the log is reusable.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "txnlog.h"

#define NPAGES 256u
#define PS 4096u

static uint8_t region[NPAGES * PS];
static struct txn_log l;

static void setup(void)
{
	for (unsigned p = 0; p < NPAGES; p++)
		memset(region + p * PS, (int)(p & 0xff), PS);
	cr_assert_eq(txn_log_init(&l, NPAGES, PS), 0);
}

static void teardown(void)
{
	txn_log_destroy(&l);
}

TestSuite(txnlog, .init = setup, .fini = teardown);

static uint8_t *page(unsigned p)
{
	return region + p * PS;
}

Test(txnlog, marks_go_up_only)
{
	cr_assert_eq(txn_log_mark(&l, 7), TM_NONE);
	txn_log_read(&l, 7);
	cr_assert_eq(txn_log_mark(&l, 7), TM_READ);
	txn_log_write(&l, 7, page(7));
	cr_assert_eq(txn_log_mark(&l, 7), TM_WRITE);
	txn_log_read(&l, 7);
	cr_assert_eq(txn_log_mark(&l, 7), TM_WRITE, "a read after a write lowered the mark");
	cr_assert_eq(l.ntouched, 1, "page 7 listed %u times", l.ntouched);
	cr_assert_eq(l.nwritten, 1);
	cr_assert_eq(txn_log_mark(&l, 6), TM_NONE);
	cr_assert_eq(txn_log_mark(&l, 8), TM_NONE);
}

Test(txnlog, pre_image_is_the_first_write)
{
	txn_log_write(&l, 3, page(3));
	memset(page(3), 0xaa, PS);          /* the transaction writes */
	txn_log_write(&l, 3, page(3));      /* a second write: no new pre-image */
	memset(page(3), 0xbb, 100);
	txn_log_restore(&l, region);
	for (unsigned i = 0; i < PS; i++)
		cr_assert_eq(page(3)[i], 3, "byte %u is %#x after the restore", i, page(3)[i]);
	cr_assert_eq(l.nwritten, 1);
}

Test(txnlog, restore_puts_back_only_written_pages)
{
	unsigned written[] = {0, 255, 64, 65, 1};

	for (unsigned i = 0; i < 5; i++)
		txn_log_write(&l, written[i], page(written[i]));
	txn_log_read(&l, 100);
	for (unsigned p = 0; p < NPAGES; p++)
		memset(page(p), 0xee, PS); /* everything changes */
	txn_log_restore(&l, region);
	for (unsigned p = 0; p < NPAGES; p++) {
		int w = txn_log_mark(&l, p) == TM_WRITE;
		uint8_t want = w ? (uint8_t)p : 0xee;

		cr_assert_eq(page(p)[0], want, "page %u", p);
		cr_assert_eq(page(p)[PS - 1], want, "page %u", p);
	}
	cr_assert_eq(l.ntouched, 6);
}

Test(txnlog, clear_forgets_and_the_log_is_reused)
{
	for (unsigned p = 0; p < 100; p++)
		txn_log_write(&l, p, page(p)); /* more than it keeps after clearing */
	txn_log_read(&l, 200);
	txn_log_clear(&l);
	cr_assert_eq(l.ntouched, 0);
	cr_assert_eq(l.nwritten, 0);
	for (unsigned p = 0; p < NPAGES; p++)
		cr_assert_eq(txn_log_mark(&l, p), TM_NONE, "page %u still marked", p);
	/* a new transaction: its pre-image, not the old one's */
	memset(page(50), 0x11, PS);
	txn_log_write(&l, 50, page(50));
	memset(page(50), 0x22, PS);
	txn_log_restore(&l, region);
	cr_assert_eq(page(50)[123], 0x11);
	cr_assert_eq(page(10)[0], 10, "a page of the cleared transaction was restored");
}

Test(txnlog, every_page_can_be_written)
{
	for (unsigned p = 0; p < NPAGES; p++)
		txn_log_write(&l, p, page(p));
	memset(region, 0, sizeof(region));
	txn_log_restore(&l, region);
	for (unsigned p = 0; p < NPAGES; p++)
		cr_assert_eq(page(p)[PS / 2], (uint8_t)p, "page %u", p);
}
