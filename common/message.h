/*
 * message.h - encoding, decoding and validation of dsm messages.
 *
 * Every byte that arrives from a socket goes through msg_decode() before any
 * field is used: it checks the type, the flags, the reserved bits, the payload
 * length the type requires, who may send it, and that page and node fields are
 * within the job's limits. Pure functions, no I/O: unit-tested and fuzzed.
 */
#ifndef DSM_MESSAGE_H
#define DSM_MESSAGE_H

#include <stddef.h>
#include <stdint.h>

#include "protocol.h"

/* What the receiver knows of the job; zero means "not known yet, unchecked". */
struct msg_limits {
	uint32_t npages;
	uint32_t nnodes;
};

enum decode_result {
	DECODE_OK = 0,
	DECODE_INCOMPLETE = 1, /* need more bytes: not an error */
	DECODE_BAD = -1,       /* malformed or not allowed: end the link */
};

/* Write m's header into out[DSM_HEADER_SIZE]. */
void msg_encode(const struct msg *m, uint8_t out[DSM_HEADER_SIZE]);

/*
 * Decode the message at the start of buf[0..len). On DECODE_OK fills *m, sets
 * *total to header + payload bytes (the payload starts at buf +
 * DSM_HEADER_SIZE). `from` is who the sender is supposed to be. On DECODE_BAD
 * *why says what is wrong (a static string).
 */
enum decode_result msg_decode(const uint8_t *buf, size_t len, enum msg_origin from,
			      const struct msg_limits *lim, struct msg *m, size_t *total,
			      const char **why);

/* The name of a message type, for logs and errors ("FAULT"); "?" if unknown. */
const char *msg_type_name(unsigned type);

#endif /* DSM_MESSAGE_H */
