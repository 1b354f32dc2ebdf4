/*
 * pages.h - the interface of allocator/pages/, the page side of a job: the
 * page table every allocator-side process shares, the locked writes into a
 * node's link, the one page operation the allocator itself performs (handing
 * out a chunk), and forking the proxies that run the page protocol. Code
 * outside this folder includes only this header; coherence.h, nodelink.h and
 * proxy.h are the folder's own (and its unit tests'). The page table and the
 * link writes are used in the dsm process and in every proxy; the coherence
 * engine and proxy.c run in the proxies.
 */
#ifndef DSM_PAGES_H
#define DSM_PAGES_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../../common/logactions.h"
#include "../../common/protocol.h"
#include "runbatch.h"
/* struct pagetable: the allocator reads and sets node slots (link fd,
 * statistics) and the region's size directly */
#include "pagetable.h"

/* ---- the shared state (pagetable.c) ------------------------------------- */

/*
 * Create the shared state for nnodes nodes and npages pages. NULL + errno.
 * Only mapped: page entries and the store cost memory once their pages are
 * handed out, so a big region costs nothing up front and starts at once.
 */
struct pagetable *pt_create(uint32_t nnodes, uint32_t npages, uint64_t base);
void pt_destroy(struct pagetable *pt);

/* ---- writing to a node (nodelink.c) ------------------------------------- */

/* How the coherence engine reaches the world; a fake in the unit tests. */
struct coherence_io {
	/* Send to a node. 0 when written, -1 when the node is gone. */
	int (*send)(struct coherence_io *io, uint32_t node, const struct msg *m,
		    const void *payload);
	/* One log line per action; may be NULL. page, peer, us: -1 if none. */
	void (*log)(struct coherence_io *io, uint32_t node, int64_t page, enum log_action action,
		    int64_t peer, int64_t us);
	void *ctx;
	/* the engine's own: the run being coalesced, and pages that a writer's
	 * answer carries and that go on to the next writer without a copy
	 * into the store (valid during one call) */
	struct run_batch batch;
	uint32_t fwd_first, fwd_count;
	const uint8_t *fwd_data;
};

/*
 * Write one whole message into node's link under its send lock. 0 when
 * written, -1 when the node has left or its link is broken, or when the
 * node is not reading: its link took no byte for NODE_STALL_SECONDS. Then
 * the node is cut off: its link is shut down, nothing is written to it
 * again, and its proxy reports it to the allocator as a lost link, for
 * which node_stopped_reading() is true.
 */
#define NODE_STALL_SECONDS 2
int node_send(struct pagetable *pt, uint32_t node, const struct msg *m, const void *payload);
int node_stopped_reading(const struct pagetable *pt, uint32_t node);

/*
 * In this process (the allocator, once the proxies are forked), a pending
 * SIGINT, SIGTERM or SIGHUP also ends the wait of a send into a full link,
 * which then fails: the job is ending. 0, or -1 with errno (signalfd).
 */
int node_send_stop_on_signals(void);

/* MSG_PING to node with the allocator's clock, unless the last one is
 * unanswered. 0 when written or skipped, -1 as node_send(). */
int node_send_ping(struct pagetable *pt, uint32_t node, uint64_t now);

/*
 * sm_bcast_buf: node, the root, may now send len bytes in BCAST_DATA pieces,
 * in order from offset 0 (checked by its proxy, node_bcast_forward). Set
 * under its send lock, before the allocator sends it BCAST_BUF_GO.
 */
void node_bcast_allow(struct pagetable *pt, uint32_t node, uint64_t len);

/* The coherence engine's transport: node_send(), and the job log. */
void nodelink_io_init(struct coherence_io *io, struct pagetable *pt);

/* ---- handing pages out: sm_malloc, sm_malloc_collective (chunks.c) ----- */

/*
 * Hand pages [first, first+count) to node and send it MSG_CHUNK: held
 * writable by node, or, when fresh, by nobody until first touched (MSGF_FRESH).
 * 0, or -1 if the node is gone.
 */
int coh_grant_chunk(struct pagetable *pt, struct coherence_io *io, uint32_t node, uint32_t first,
		    uint32_t count, int fresh);

/*
 * The same for any message: pages [first, first+count) handed out, held
 * writable by `writer`, or fresh (writer PT_NONE: nobody holds them, zero
 * everywhere); m, when not NULL, is sent to node `to` while the pages'
 * stripes are held, so it reaches `to` before any revoke of them can.
 * 0, or -1 if m could not be sent (the node is gone).
 */
int coh_hand_out(struct pagetable *pt, struct coherence_io *io, uint32_t first, uint32_t count,
		 int32_t writer, uint32_t to, const struct msg *m);

/* ---- the proxies (proxystart.c, proxy.c) -------------------------------- */

/*
 * Fork one proxy per node of pt, once every node has joined (so each
 * inherits every node's link), each with a control socketpair to the
 * allocator. A proxy keeps only the links, its own control socket and the
 * log: it closes close_fds[0..nclose) (entries < 0 are skipped: the
 * allocator's pipes, listener, signalfd and timers) and the allocator's ends
 * of the control sockets. Fills pids[i] and control[i], the allocator's end of
 * proxy i's socket (blocking, close-on-exec). Dies when a fork fails.
 */
void proxies_start(struct pagetable *pt, const int *close_fds, size_t nclose, pid_t *pids,
		   int *control);

#endif /* DSM_PAGES_H */
