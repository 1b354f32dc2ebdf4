/*
 * clusterhosts.h - hosts from a batch system, used when there is no -H and
 * ./hosts is missing or empty: Slurm's SLURM_JOB_NODELIST, else the file
 * named by PBS/Torque's PBS_NODEFILE. Owns the parsing of both into a
 * struct hostlist (see launch.h and dsm-hosts(5)); clusterhosts_load(), the
 * part the job uses, is declared in launch.h.
 */
#ifndef DSM_CLUSTERHOSTS_H
#define DSM_CLUSTERHOSTS_H

#include <stddef.h>
#include <stdint.h>

#include "hostfile.h"
#include "launch.h"

/* More hosts than this in one list is refused (dsm runs at most 1024 nodes). */
#define CLUSTERHOSTS_MAX 65536

/*
 * Expand a Slurm node list such as "node[01-04,07],login1" into out, one slot
 * per host, in the order written. Each comma-separated name may hold at most
 * one bracket group of numbers and ranges (lo-hi); a range is padded with
 * zeros to the width of its lower bound ("[08-10]" gives 08 09 10). Returns
 * 0, or -1 with a message in err (and an empty list).
 */
int clusterhosts_parse_slurm(const char *list, struct hostlist *out, char *err, size_t errlen);

/*
 * Parse SLURM_TASKS_PER_NODE ("2(x3),1": two tasks on each of three hosts,
 * then one; "4"; "1(x2)") into slots[0..nhosts), one count per host of
 * SLURM_JOB_NODELIST in its order; it must name exactly nhosts hosts.
 * Returns 0, or -1 with a message in err.
 */
int clusterhosts_parse_tasks(const char *value, uint32_t *slots, size_t nhosts, char *err,
			     size_t errlen);

/*
 * Parse the text of a PBS node file: one host per line, surrounding blanks and
 * blank lines ignored. Each line is one slot; consecutive lines naming the
 * same host become one host with that many slots, so node K runs on the host
 * of line K (counting from 0, cycling). origin names the file in messages.
 * Returns 0, or -1 with a message in err (and an empty list).
 */
int clusterhosts_parse_pbs(const char *text, const char *origin, struct hostlist *out,
			   char *err, size_t errlen);

#endif /* DSM_CLUSTERHOSTS_H */
