/*
 * protocol.h - the dsm wire protocol: message types, the header layout, and
 * the fixed limits every side agrees on. This is the single definition of the
 * protocol; docs/protocol.md describes the same messages for people.
 *
 * Every message is a 24-byte header, little-endian on the wire, optionally
 * followed by a payload of exactly `length` bytes:
 *
 *   offset size field
 *        0    1 type     (enum msg_type)
 *        1    1 flags    (per type, see MSGF_*)
 *        2    2 reserved (must be zero)
 *        4    4 page     (page index into the shared region, or a count)
 *        8    4 node     (node id, or a count; for run messages the number
 *                         of consecutive pages from `page`, 1..DSM_MAX_RUN)
 *       12    4 length   (payload bytes following the header)
 *       16    8 arg      (a size, an address or a pointer value)
 */
#ifndef DSM_PROTOCOL_H
#define DSM_PROTOCOL_H

#include <stdint.h>

/*
 * Bumped whenever a message changes meaning. A node sends it in HELLO.arg;
 * dsm refuses a node linked with a libsm of another version (static
 * linking makes stale programs common). 2: FAULT.arg numbers the fault and
 * GRANT.arg echoes it (0 for prefetched pages); PING/PONG. 3: page runs
 * (GRANT, REVOKE, INVALIDATE, PAGE_DATA, INVALIDATE_ACK and RELEASE carry a
 * count of consecutive pages in `node`), CHUNK's FRESH flag (first touch).
 * 4: FAULT carries a count in `node`, 1 or 2 (a pair: one instruction whose
 * access spans two pages). 5: locks and conditions (LOCK, LOCK_GRANT,
 * UNLOCK, COND_WAIT, COND_SIGNAL), collective allocation (MALLOC and CHUNK
 * with MSGF_COLLECTIVE), buffer broadcast (BCAST_BUF, BCAST_BUF_GO,
 * BCAST_DATA). 6: threads inside a node: up to DSM_MAX_NODE_FAULTS FAULTs
 * outstanding per node, each with its own number (a second FAULT no longer
 * ends the link); a fault error is matched to its fault by its page.
 */
#define DSM_PROTOCOL_VERSION 6u

#define DSM_PAGE_SIZE 4096u
#define DSM_HEADER_SIZE 24u
#define DSM_SECRET_LEN 32u       /* bytes of the per-job secret */
#define DSM_MAX_NODES 1024u
#define DSM_DEFAULT_PAGES 0xffffu
/*
 * Where the region lives in every node. Above the highest address ASLR gives
 * a PIE binary (about 0x5655_0000_0000), clear of AddressSanitizer's
 * allocator (0x6000_0000_0000) and inside ThreadSanitizer's application range
 * (0x5500_0000_0000 - 0x5680_0000_0000), so sanitizer builds work too. The
 * largest region (64 GiB) ends at 0x5670_0000_0000.
 */
#define DSM_REGION_BASE 0x566000000000ull
#define DSM_MAX_REGION (64ull << 30) /* 64 GiB */
/* The longest run of consecutive pages one message may carry. */
#define DSM_MAX_RUN 64u
#define DSM_MAX_MESSAGE (DSM_HEADER_SIZE + DSM_MAX_RUN * DSM_PAGE_SIZE)
/* The most pages one FAULT asks for: an instruction whose access spans two. */
#define DSM_MAX_FAULT_PAGES 2u
/*
 * The most FAULTs one node may have outstanding at once (threads inside a
 * node fault in parallel, each FAULT with its own number). One more before
 * an earlier one is answered is a protocol violation: the link is closed.
 */
#define DSM_MAX_NODE_FAULTS 16u
/* sm_malloc requests of more pages than this are placed on first touch */
#define DSM_FIRST_TOUCH_PAGES 8u

/* Who may send a message: checked by every receiver. */
enum msg_origin {
	FROM_NODE = 1,      /* a node's libsm */
	FROM_ALLOCATOR = 2, /* the allocator or a proxy, to a node */
	FROM_PROXY = 4,     /* a proxy, on its control channel to the allocator */
};

enum msg_type {
	MSG_NONE = 0,
	/* node -> allocator, first message on a link: node id + secret,
	 * arg = DSM_PROTOCOL_VERSION */
	MSG_HELLO,
	/* allocator -> node: job starts. node = node count, page = region pages,
	 * arg = region base address */
	MSG_WELCOME,
	/* node -> proxy: fault on page (node = 1), or on the pair page, page+1
	 * (node = 2: one instruction needs both at once; each is granted
	 * with its own GRANT). MSGF_WRITE for a write fault; arg numbers it
	 * (not 0). Up to DSM_MAX_NODE_FAULTS outstanding per node */
	MSG_FAULT,
	/* proxy -> node: access to a run granted (run message: node = count).
	 * MSGF_WRITE for write access; payload is the pages' contents, or
	 * empty when the node's copies are valid. arg echoes the FAULT's number
	 * when the run starts at the faulting page, 0 for prefetched runs */
	MSG_GRANT,
	/* proxy -> node: downgrade a run to read-only, reply with MSG_PAGE_DATA */
	MSG_REVOKE,
	/* proxy -> node: drop a run; reply MSG_PAGE_DATA if MSGF_WANT_DATA,
	 * otherwise MSG_INVALIDATE_ACK (same run) */
	MSG_INVALIDATE,
	/* node -> proxy: a run's contents answering a revoke/invalidate */
	MSG_PAGE_DATA,
	/* node -> proxy: read copies of a run dropped */
	MSG_INVALIDATE_ACK,
	/* node -> proxy: write back a run of writable pages while leaving */
	MSG_RELEASE,
	/* node -> allocator: need arg bytes of fresh memory */
	MSG_MALLOC,
	/* allocator -> node: a chunk: arg = address (0 = region exhausted),
	 * page = number of pages; the node holds them writable, or, with
	 * MSGF_FRESH, nobody does until a node first touches them */
	MSG_CHUNK,
	/* node -> allocator: arrived at a barrier */
	MSG_BARRIER,
	/* allocator -> node: every live node arrived */
	MSG_BARRIER_DONE,
	/* node -> allocator: broadcast; node = root, arg = value (root only) */
	MSG_BCAST,
	/* allocator -> node: broadcast done, arg = the root's value */
	MSG_BCAST_DONE,
	/* node -> proxy: leaving the job (all writable pages released) */
	MSG_EXIT,
	/* proxy -> node: the node is out of the job; it may close the link */
	MSG_EXIT_ACK,
	/* allocator/proxy -> node: a request failed. arg = enum dsm_error,
	 * page/node give detail */
	MSG_ERROR,
	/* allocator -> node: how long does it take you to answer? arg = the
	 * allocator's clock (microseconds), to be echoed */
	MSG_PING,
	/* node -> proxy: the answer, arg echoed */
	MSG_PONG,
	/* proxy -> allocator (control channel only): the node's link closed
	 * without MSG_EXIT; arg = when (the proxy's CLOCK_MONOTONIC, us) */
	MSG_LINK_LOST,
	/*
	 * Locks and conditions (sm_lock(3), sm_cond_wait(3)), served by the
	 * node's proxy against the job's lock table; a lock or condition is
	 * named by its address in the region (arg). page = 0 (reserved: the
	 * waiting thread, for threads inside a node).
	 */
	/* node -> proxy: take the lock at arg; MSGF_TRY: do not wait */
	MSG_LOCK,
	/* proxy -> node: the lock at arg is this node's (answers LOCK and
	 * COND_WAIT); MSGF_BUSY: a try found it held, the node has not got it */
	MSG_LOCK_GRANT,
	/* node -> proxy: release the lock at arg (no answer) */
	MSG_UNLOCK,
	/* node -> proxy: release the lock whose address is the 8-byte
	 * little-endian payload and wait on the condition at arg; answered
	 * with LOCK_GRANT for that lock once signalled and relocked */
	MSG_COND_WAIT,
	/* node -> proxy: wake one waiter of the condition at arg, or every
	 * waiter with MSGF_ALL (no answer) */
	MSG_COND_SIGNAL,
	/* node -> allocator: sm_bcast_buf; node = root, arg = length */
	MSG_BCAST_BUF,
	/* allocator -> node: every node arrived; arg = length. The root now
	 * sends its buffer in BCAST_DATA pieces, the others receive them */
	MSG_BCAST_BUF_GO,
	/* root -> its proxy, then proxy -> every other node in the job: a
	 * piece of the root's buffer, arg = its offset, payload = the bytes
	 * (1 .. DSM_MAX_RUN * DSM_PAGE_SIZE) */
	MSG_BCAST_DATA,
	MSG_TYPE_COUNT
};

/* flags */
#define MSGF_WRITE 0x01u     /* MSG_FAULT, MSG_GRANT */
#define MSGF_WANT_DATA 0x02u /* MSG_INVALIDATE */
#define MSGF_FRESH 0x04u     /* MSG_CHUNK: placed on first touch, not at the caller */
#define MSGF_COLLECTIVE 0x08u /* MSG_MALLOC, MSG_CHUNK: sm_malloc_collective; the
				* CHUNK's arg is the allocation's address */
#define MSGF_TRY 0x10u       /* MSG_LOCK: sm_trylock */
#define MSGF_BUSY 0x20u      /* MSG_LOCK_GRANT: the try failed */
#define MSGF_ALL 0x40u       /* MSG_COND_SIGNAL: sm_cond_broadcast */

/* MSG_ERROR codes */
enum dsm_error {
	DSM_ERR_PAGE_LOST = 1,   /* page = lost page, node = node that died */
	DSM_ERR_UNALLOCATED = 2, /* page = page never handed out by sm_malloc */
	DSM_ERR_BCAST_ROOT = 3,  /* node = the root that is invalid or gone */
	DSM_ERR_BCAST_MISMATCH = 4, /* nodes disagree on the root */
	DSM_ERR_COLLECTIVE_MISMATCH = 5, /* some nodes in sm_barrier, others in sm_bcast */
	DSM_ERR_SIZE_MISMATCH = 6,  /* nodes disagree on the size of a collective
				     * allocation or of an sm_bcast_buf */
	DSM_ERR_LOCK_OWNER_GONE = 7, /* node = the node that left or died holding
				      * the lock (or the condition's lock) */
	DSM_ERR_NOT_LOCK_HOLDER = 8, /* UNLOCK or COND_WAIT of a lock the node
				      * does not hold */
	DSM_ERR_LOCK_RELOCK = 9,     /* LOCK of a lock the node already holds */
	DSM_ERR_SYNC_ADDRESS = 10,   /* a lock or condition outside the region */
	DSM_ERR_SYNC_TABLE_FULL = 11, /* too many locks held or waited for at once */
	DSM_ERR_COUNT
};

/* A decoded header. */
struct msg {
	uint8_t type;
	uint8_t flags;
	uint32_t page;
	uint32_t node;
	uint32_t length;
	uint64_t arg;
};

#endif /* DSM_PROTOCOL_H */
