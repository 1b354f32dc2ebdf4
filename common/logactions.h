/*
 * logactions.h - the one list of `dsm -l` log action names: the ACTION
 * column of the log (docs/protocol.md, "The `dsm -l` log", and dsm(1)).
 *
 * Writers in the allocator pass an enum log_action; readers (dsm-plot) turn
 * the column back into one. The names are the log's stable format (version
 * 1): rename one and old logs stop meaning the same thing. Adding an action
 * means a line here and a row in docs/protocol.md's log table;
 * tests/logactions.sh checks that the two lists agree.
 *
 * Header only (static inline), so that dsm, the unit tests and dsm-plot use it
 * without another object to link.
 */
#ifndef DSM_LOGACTIONS_H
#define DSM_LOGACTIONS_H

#include <stdbool.h>
#include <string.h>

/* X(ENUM_SUFFIX, "name"), in the order of docs/protocol.md's table */
#define LOG_ACTIONS(X)                                   \
	X(JOIN, "join")                                  \
	X(REFUSED, "refused")                            \
	X(READ_FAULT, "read-fault")                      \
	X(WRITE_FAULT, "write-fault")                    \
	X(UPGRADE, "upgrade")                            \
	X(REVOKE, "revoke")                              \
	X(INVALIDATE, "invalidate")                      \
	X(LOST, "lost")                                  \
	X(RELEASE, "release")                            \
	X(MALLOC, "malloc")                              \
	X(MALLOC_FAILED, "malloc-failed")                \
	X(MALLOC_COLLECTIVE, "malloc-collective")        \
	X(BARRIER, "barrier")                            \
	X(BCAST, "bcast")                                \
	X(BCAST_BUF, "bcast-buf")                        \
	X(COLLECTIVE_FAILED, "collective-failed")        \
	X(PING, "ping")                                  \
	X(PREFETCH, "prefetch")                          \
	X(LOCK, "lock")                                  \
	X(LOCK_WAIT, "lock-wait")                        \
	X(UNLOCK, "unlock")                              \
	X(COND_WAIT, "cond-wait")                        \
	X(COND_SIGNAL, "cond-signal")                    \
	X(EXIT, "exit")                                  \
	X(LINK_LOST, "link-lost")

#define LOG_ACTION_ENUM_(id, name) LOG_##id,
enum log_action { LOG_ACTIONS(LOG_ACTION_ENUM_) LOG_NACTIONS };
#undef LOG_ACTION_ENUM_

/* The name written in the log; "?" for a value outside the list. */
static inline const char *log_action_name(enum log_action a)
{
#define LOG_ACTION_NAME_(id, name) [LOG_##id] = name,
	static const char *const names[LOG_NACTIONS] = {LOG_ACTIONS(LOG_ACTION_NAME_)};
#undef LOG_ACTION_NAME_

	return (unsigned)a < LOG_NACTIONS ? names[a] : "?";
}

/* The action named s; false (and *a untouched) when s names none. */
static inline bool log_action_parse(const char *s, enum log_action *a)
{
	for (unsigned i = 0; i < LOG_NACTIONS; i++) {
		if (strcmp(s, log_action_name((enum log_action)i)) == 0) {
			*a = (enum log_action)i;
			return true;
		}
	}
	return false;
}

#endif /* DSM_LOGACTIONS_H */
