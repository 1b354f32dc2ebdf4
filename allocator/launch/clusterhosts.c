/*
 * clusterhosts.c - hosts from Slurm (SLURM_JOB_NODELIST) and PBS/Torque
 * (PBS_NODEFILE), the fallback when dsm has no hosts file (see
 * clusterhosts.h and dsm-hosts(5)), with Slurm's slots per host
 * (SLURM_TASKS_PER_NODE) and task count (SLURM_NTASKS). Only parsing: name checks, growing the
 * list, walking lines and reading the node file are hostfile.c's, placement
 * and starting nodes are hostfile.c's and launch.c's.
 */
#include "clusterhosts.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLURM_VAR "SLURM_JOB_NODELIST"
#define TASKS_VAR "SLURM_TASKS_PER_NODE"
#define NTASKS_VAR "SLURM_NTASKS"
#define PBS_VAR   "PBS_NODEFILE"

/* Append a host with one slot; -1 with a message when the list is full. */
static int add_host(struct hostlist *out, size_t *cap, const char *name, size_t len,
		    const char *origin, char *err, size_t errlen)
{
	if (out->count >= CLUSTERHOSTS_MAX) {
		snprintf(err, errlen, "%s: more than %d hosts", origin, CLUSTERHOSTS_MAX);
		return -1;
	}
	if (!hostlist_append(out, cap, name, len)) {
		snprintf(err, errlen, "%s: out of memory", origin);
		return -1;
	}
	return 0;
}

/* Read 1 to 9 digits at *p: the value, and their count in *width. */
static int read_number(const char **p, unsigned long *v, int *width)
{
	const char *s = *p;

	*v = 0;
	*width = 0;
	while (isdigit((unsigned char)*s) && *width < 10) {
		*v = *v * 10 + (unsigned long)(*s - '0');
		(*width)++;
		s++;
	}
	if (*width == 0 || *width > 9)
		return -1;
	*p = s;
	return 0;
}

/* Expand prefix[ranges]suffix, where ranges is "1,3-5,08-10". */
static int expand_group(struct hostlist *out, size_t *cap, const char *prefix, size_t plen,
			const char *ranges, size_t rlen, const char *suffix, size_t slen,
			char *err, size_t errlen)
{
	const char *p = ranges, *end = ranges + rlen;

	for (;;) {
		unsigned long lo, hi;
		int width, hiwidth;

		if (read_number(&p, &lo, &width) < 0)
			goto bad;
		hi = lo;
		if (p < end && *p == '-') {
			p++;
			if (read_number(&p, &hi, &hiwidth) < 0 || hi < lo)
				goto bad;
		}
		if (hi - lo >= CLUSTERHOSTS_MAX) {
			snprintf(err, errlen, SLURM_VAR ": more than %d hosts", CLUSTERHOSTS_MAX);
			return -1;
		}
		for (unsigned long v = lo; v <= hi; v++) {
			char name[HOST_NAME_LEN + 32];
			int n = snprintf(name, sizeof(name), "%.*s%0*lu%.*s", (int)plen, prefix,
					 width, v, (int)slen, suffix);

			if (n < 0 || !host_name_valid(name, (size_t)n, 0)) {
				snprintf(err, errlen, SLURM_VAR ": '%.*s' is not a host name",
					 n < 0 ? 0 : n, name);
				return -1;
			}
			if (add_host(out, cap, name, (size_t)n, SLURM_VAR, err, errlen) < 0)
				return -1;
		}
		if (p == end)
			return 0;
		if (*p != ',')
			goto bad;
		p++;
	}
bad:
	snprintf(err, errlen, SLURM_VAR ": '[%.*s]' is not a list of numbers and ranges such as [1-4,7]",
		 (int)rlen, ranges);
	return -1;
}

int clusterhosts_parse_slurm(const char *list, struct hostlist *out, char *err, size_t errlen)
{
	size_t cap = 0;
	const char *p = list, *stop;

	out->hosts = NULL;
	out->count = 0;
	/* blanks around the whole list are tolerated, nowhere else */
	while (isspace((unsigned char)*p))
		p++;
	stop = p + strlen(p);
	while (stop > p && isspace((unsigned char)stop[-1]))
		stop--;
	while (p < stop) {
		const char *start = p, *lb = NULL, *rb = NULL;

		/* one item: up to a comma outside brackets */
		for (; p < stop && (*p != ',' || (lb && !rb)); p++) {
			if (*p == '[') {
				if (lb) {
					snprintf(err, errlen, SLURM_VAR ": '%.*s': only one [...] group per name is supported",
						 (int)(stop - start), start);
					goto fail;
				}
				lb = p;
			} else if (*p == ']') {
				if (!lb || rb) {
					snprintf(err, errlen, SLURM_VAR ": unmatched ']' in '%.*s'",
						 (int)(stop - start), start);
					goto fail;
				}
				rb = p;
			}
		}
		if (lb && !rb) {
			snprintf(err, errlen, SLURM_VAR ": unclosed '[' in '%.*s'", (int)(p - start),
				 start);
			goto fail;
		}
		if (p == start) {
			snprintf(err, errlen, SLURM_VAR ": empty host name in '%s'", list);
			goto fail;
		}
		if (!lb) {
			if (!host_name_valid(start, (size_t)(p - start), 0)) {
				snprintf(err, errlen, SLURM_VAR ": '%.*s' is not a host name",
					 (int)(p - start), start);
				goto fail;
			}
			if (add_host(out, &cap, start, (size_t)(p - start), SLURM_VAR, err, errlen) < 0)
				goto fail;
		} else if (expand_group(out, &cap, start, (size_t)(lb - start), lb + 1,
					(size_t)(rb - lb - 1), rb + 1, (size_t)(p - rb - 1), err,
					errlen) < 0) {
			goto fail;
		}
		if (p < stop) { /* at a comma: another name must follow */
			p++;
			if (p == stop) {
				snprintf(err, errlen, SLURM_VAR ": empty host name in '%s'", list);
				goto fail;
			}
		}
	}
	return 0;
fail:
	hostlist_free(out);
	return -1;
}

int clusterhosts_parse_pbs(const char *text, const char *origin, struct hostlist *out,
			   char *err, size_t errlen)
{
	size_t cap = 0, lineno = 0, len;
	const char *s;

	out->hosts = NULL;
	out->count = 0;
	while (text_next_line(&text, &s, &len)) {
		const char *e = s + len;

		lineno++;
		while (s < e && isspace((unsigned char)*s))
			s++;
		while (e > s && isspace((unsigned char)e[-1]))
			e--;
		if (s == e)
			continue;
		if (!host_name_valid(s, (size_t)(e - s), 0)) {
			snprintf(err, errlen, "%s:%zu: '%.*s' is not a host name", origin, lineno,
				 (int)(e - s > 64 ? 64 : e - s), s);
			goto fail;
		}
		/* the same host on consecutive lines: one more slot */
		if (out->count > 0) {
			struct host *last = &out->hosts[out->count - 1];

			if (strlen(last->name) == (size_t)(e - s) &&
			    memcmp(last->name, s, (size_t)(e - s)) == 0) {
				last->slots++;
				continue;
			}
		}
		if (add_host(out, &cap, s, (size_t)(e - s), origin, err, errlen) < 0)
			goto fail;
	}
	return 0;
fail:
	hostlist_free(out);
	return -1;
}

/* A count from 1 to CLUSTERHOSTS_MAX at *p, moving *p past it; -1 if none. */
static int read_count(const char **p, uint32_t *v)
{
	unsigned long n;
	int width;

	if (read_number(p, &n, &width) < 0 || n == 0 || n > CLUSTERHOSTS_MAX)
		return -1;
	*v = (uint32_t)n;
	return 0;
}

/* The item of SLURM_TASKS_PER_NODE at *p, "COUNT" or "COUNT(xTIMES)", and
 * the comma after it unless it is the last: 1, 0 at the end, -1 if malformed. */
static int next_tasks(const char **p, uint32_t *count, uint32_t *times)
{
	*times = 1;
	if (read_count(p, count) < 0)
		return -1;
	if (**p == '(') {
		(*p)++;
		if (*(*p)++ != 'x' || read_count(p, times) < 0 || *(*p)++ != ')')
			return -1;
	}
	if (**p == ',' && (*p)[1])
		(*p)++;
	else if (**p)
		return -1;
	return 1;
}

#define TASKS_BAD TASKS_VAR "=%s: expected task counts per host such as 2(x3),1"

int clusterhosts_parse_tasks(const char *value, uint32_t *slots, size_t nhosts, char *err,
			     size_t errlen)
{
	const char *p = value;
	size_t at = 0;
	uint32_t count, times;

	do {
		if (next_tasks(&p, &count, &times) < 0) {
			snprintf(err, errlen, TASKS_BAD, value);
			return -1;
		}
		if (times > nhosts - at) {
			snprintf(err, errlen, TASKS_VAR "=%s names more hosts than the %zu of "
				 SLURM_VAR, value, nhosts);
			return -1;
		}
		while (times--)
			slots[at++] = count;
	} while (*p);
	if (at != nhosts) {
		snprintf(err, errlen, TASKS_VAR "=%s names %zu host%s, " SLURM_VAR " %zu", value,
			 at, at == 1 ? "" : "s", nhosts);
		return -1;
	}
	return 0;
}

int clusterhosts_task_count(uint32_t *count, char *err, size_t errlen)
{
	const char *ntasks = getenv(NTASKS_VAR), *tasks = getenv(TASKS_VAR), *p;
	uint64_t sum = 0;
	uint32_t n, times;

	if (ntasks && *ntasks) {
		p = ntasks;
		if (read_count(&p, count) < 0 || *p) {
			snprintf(err, errlen, NTASKS_VAR "=%s: expected a task count", ntasks);
			return -1;
		}
		return 1;
	}
	if (!tasks || !*tasks)
		return 0;
	/* the sum of "2(x3),1": no host list needed for that */
	p = tasks;
	do {
		if (next_tasks(&p, &n, &times) < 0) {
			snprintf(err, errlen, TASKS_BAD, tasks);
			return -1;
		}
		sum += (uint64_t)n * times;
	} while (*p);
	*count = sum > UINT32_MAX ? UINT32_MAX : (uint32_t)sum;
	return 1;
}

/* Slurm's hosts, each with its slots from SLURM_TASKS_PER_NODE when set. */
static int load_slurm(const char *list, struct hostlist *out, char *err, size_t errlen)
{
	const char *tasks = getenv(TASKS_VAR);
	uint32_t *slots;

	if (clusterhosts_parse_slurm(list, out, err, errlen) < 0)
		return -1;
	if (!tasks || !*tasks || out->count == 0)
		return 0;
	slots = calloc(out->count, sizeof(*slots));
	if (!slots) {
		snprintf(err, errlen, TASKS_VAR ": out of memory");
		hostlist_free(out);
		return -1;
	}
	if (clusterhosts_parse_tasks(tasks, slots, out->count, err, errlen) < 0) {
		free(slots);
		hostlist_free(out);
		return -1;
	}
	for (size_t i = 0; i < out->count; i++)
		out->hosts[i].slots = slots[i];
	free(slots);
	return 0;
}

int clusterhosts_load(struct hostlist *out, char *err, size_t errlen)
{
	const char *slurm = getenv(SLURM_VAR), *pbs = getenv(PBS_VAR);
	char *text;
	size_t len;
	int rc;

	out->hosts = NULL;
	out->count = 0;
	if (slurm && *slurm)
		return load_slurm(slurm, out, err, errlen);
	if (!pbs || !*pbs)
		return 0;
	text = read_text_file(pbs, &len);
	if (!text) {
		snprintf(err, errlen, PBS_VAR "=%s: %s", pbs, strerror(errno));
		return -1;
	}
	rc = text_check_nul(text, len, pbs, err, errlen);
	if (rc == 0)
		rc = clusterhosts_parse_pbs(text, pbs, out, err, errlen);
	free(text);
	return rc;
}
