/*
 * region.c - the shared region in this node: two views of one memfd.
 *
 * The program's view sits at the job's fixed address and its protections
 * follow the page protocol (none / read / read-write). libsm's alias view of
 * the same pages is always writable: incoming pages are written through it
 * before the program's view is opened, so the program never sees a page
 * half-filled, and outgoing pages are read from it whatever the program's
 * protection is. Neither view is inherited by a forked child (MADV_DONTFORK;
 * caller.c reserves the range there).
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "libsm.h"

/*
 * Under valgrind, memcheck marks the PROT_NONE region unaddressable at mmap
 * and does not follow mprotect, so every fault would be reported as an
 * invalid access. The client request (a no-op outside valgrind) says the
 * region is ours. The header comes with valgrind; without it, nothing changes.
 */
#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define SM_TELL_MEMCHECK(addr, len) VALGRIND_MAKE_MEM_DEFINED(addr, len)
#endif
#endif
#ifndef SM_TELL_MEMCHECK
#define SM_TELL_MEMCHECK(addr, len) ((void)0)
#endif

static void protect(uint32_t first, size_t count, int prot)
{
	if (mprotect(sm__st.base + (size_t)first * DSM_PAGE_SIZE, count * DSM_PAGE_SIZE, prot) < 0) {
		if (errno == ENOMEM)
			sm__die("mprotect: too many mappings; raise vm.max_map_count", NULL);
		sm__die("mprotect: ", strerror(errno), NULL);
	}
}

int sm__region_map(uint64_t base, uint32_t npages)
{
	size_t size = (size_t)npages * DSM_PAGE_SIZE;
	char num[24];
	int fd;
	void *view, *alias, *access, *holders;

	if (sysconf(_SC_PAGESIZE) != DSM_PAGE_SIZE) {
		sm__say("dsm needs 4096-byte pages; this machine uses ",
			sm__fmt_u64(num, (uint64_t)sysconf(_SC_PAGESIZE)), NULL);
		return -1;
	}
	fd = memfd_create("dsm-region", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, (off_t)size) < 0) {
		sm__say("cannot create the shared region: ", strerror(errno), NULL);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	view = mmap((void *)(uintptr_t)base, size, PROT_NONE, MAP_SHARED | MAP_FIXED_NOREPLACE, fd, 0);
	if (view == MAP_FAILED || view != (void *)(uintptr_t)base) {
		sm__say("cannot map the shared region at ", sm__fmt_hex(num, base),
			": the address range is already in use or unavailable: ",
			view == MAP_FAILED ? strerror(errno) : "kernel chose another address", NULL);
		if (view != MAP_FAILED)
			munmap(view, size);
		close(fd);
		return -1;
	}
	alias = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	access = mmap(NULL, npages, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	holders = mmap(NULL, npages * sizeof(uint16_t), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	close(fd);
	if (alias == MAP_FAILED || access == MAP_FAILED || holders == MAP_FAILED) {
		sm__say("cannot map the shared region: ", strerror(errno), NULL);
		munmap(view, size);
		if (alias != MAP_FAILED)
			munmap(alias, size);
		if (access != MAP_FAILED)
			munmap(access, npages);
		if (holders != MAP_FAILED)
			munmap(holders, npages * sizeof(uint16_t));
		return -1;
	}
	/* a forked child gets neither view (caller.c): it is not a node */
	if (madvise(view, size, MADV_DONTFORK) < 0 || madvise(alias, size, MADV_DONTFORK) < 0) {
		sm__say("cannot map the shared region: madvise: ", strerror(errno), NULL);
		munmap(view, size);
		munmap(alias, size);
		munmap(access, npages);
		munmap(holders, npages * sizeof(uint16_t));
		return -1;
	}
	SM_TELL_MEMCHECK(view, size);
	sm__st.base = view;
	sm__st.alias = alias;
	sm__st.access = access;
	sm__st.holders = holders;
	sm__st.size = size;
	return 0;
}

static const int prot[] = {[PA_NONE] = PROT_NONE, [PA_READ] = PROT_READ,
			   [PA_WRITE] = PROT_READ | PROT_WRITE};

/* What the program may do with a page: the node's access, capped by a
 * running transaction's mark. */
static uint8_t view_of(uint32_t page)
{
	uint8_t a = sm__st.access[page], cap = sm__txn_cap(page);

	return a < cap ? a : cap;
}

void sm__region_view(uint32_t first, uint32_t count)
{
	uint32_t end = first + count, p = first;

	while (p < end) {
		uint8_t v = view_of(p);
		uint32_t q = p + 1;

		while (q < end && view_of(q) == v)
			q++;
		protect(p, q - p, prot[v]);
		p = q;
	}
}

/* Close the whole view: a transaction begins, or is doomed. */
void sm__region_close(void)
{
	protect(0, sm__st.npages, PROT_NONE);
}

/* Set the program's protection of pages [first, first+count) whose access
 * is not `keep`, one mprotect per stretch of such pages. */
static void set_access(uint32_t first, uint32_t count, uint8_t access, uint8_t keep)
{
	uint32_t end = first + count, p = first;

	while (p < end) {
		uint32_t q;

		if (sm__st.access[p] == keep || sm__st.access[p] == access) {
			p++;
			continue;
		}
		for (q = p; q < end && sm__st.access[q] != keep && sm__st.access[q] != access; q++)
			sm__st.access[q] = access;
		if (sm__txn_running())
			sm__region_view(p, q - p); /* capped by the transaction's marks */
		else
			protect(p, q - p, prot[access]);
		p = q;
	}
}

/*
 * A run granted: fill it through the alias (data is NULL when this node's
 * copies are valid), then open the program's view. A read grant never
 * downgrades a page this node already holds writable.
 */
void sm__region_grant(uint32_t first, uint32_t count, int write, const uint8_t *data)
{
	for (uint32_t i = 0; data && i < count; i++)
		if (write || sm__st.access[first + i] != PA_WRITE)
			memcpy(sm__st.alias + (size_t)(first + i) * DSM_PAGE_SIZE,
			       data + (size_t)i * DSM_PAGE_SIZE, DSM_PAGE_SIZE);
	set_access(first, count, write ? PA_WRITE : PA_READ, PA_WRITE);
}

static const uint8_t *alias_of(uint32_t page)
{
	return sm__st.alias + (size_t)page * DSM_PAGE_SIZE;
}

/* A revoke of a run: keep read copies, send the pages in one message. */
void sm__region_revoke(uint32_t first, uint32_t count)
{
	sm__txn_taking(first, count, 0); /* a page it wrote: its pre-image goes */
	set_access(first, count, PA_READ, PA_NONE);
	sm__region_reply(MSG_PAGE_DATA, first, count, alias_of(first));
}

/* An invalidation of a run: drop it; send it if asked (it was the writer's). */
void sm__region_invalidate(uint32_t first, uint32_t count, int want_data)
{
	sm__txn_taking(first, count, 1);
	set_access(first, count, PA_NONE, PA_NONE);
	if (want_data)
		sm__region_reply(MSG_PAGE_DATA, first, count, alias_of(first));
	else
		sm__region_reply(MSG_INVALIDATE_ACK, first, count, NULL);
}

/*
 * A grant that reaches a node which has already written its pages back and
 * sent EXIT (the later messages of a window): the node takes nothing; pages
 * granted writable go straight back in a RELEASE (their contents: the
 * grant's data, or this node's copy, which was valid), read copies are
 * forgotten (the proxy drops the node's reader bits when its link closes).
 */
void sm__region_late_grant(uint32_t first, uint32_t count, int write, const uint8_t *data)
{
	struct msg m = {.type = MSG_RELEASE, .page = first, .node = count,
			.length = count * DSM_PAGE_SIZE};

	if (!write)
		return;
	if (data)
		memcpy(sm__st.alias + (size_t)first * DSM_PAGE_SIZE, data,
		       (size_t)count * DSM_PAGE_SIZE);
	sm__send_held(&m, alias_of(first));
}

/* A chunk from sm_malloc: writable here, unless placed on first touch. */
void sm__region_chunk(uint32_t first, uint32_t count, int fresh)
{
	if (!fresh)
		set_access(first, count, PA_WRITE, PA_WRITE);
}

/* Leaving: write every writable page back in runs, then close the view. */
void sm__region_release_all(void)
{
	uint32_t page = 0;

	while (page < sm__st.npages) {
		uint32_t count = 0;

		while (page + count < sm__st.npages && count < DSM_MAX_RUN &&
		       sm__st.access[page + count] == PA_WRITE)
			count++;
		if (count == 0) {
			page++;
			continue;
		}
		struct msg m = {.type = MSG_RELEASE, .page = page, .node = count,
				.length = count * DSM_PAGE_SIZE};

		sm__send_held(&m, alias_of(page));
		page += count;
	}
	protect(0, sm__st.npages, PROT_NONE);
	memset(sm__st.access, PA_NONE, sm__st.npages);
}
