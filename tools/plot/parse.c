/*
 * parse.c - reading a `dsm -l` log into a struct log (plot.h): every line
 * checked, the events the timeline draws, and the counts of page moves kept
 * in two hash tables (open addressing), which are here too.
 *
 * The format (version 1) is docs/protocol.md, "The `dsm -l` log": an
 * optional '#' header, then lines of six space-separated columns
 * TIME NODE ACTION PAGE PEER MICROS with '-' where a column does not apply.
 * A malformed line ends the run with its line number and exit status 2.
 * Lines are read into a fixed buffer (at most MAX_LINE bytes), node ids are
 * below MAX_NODES and pages below 2^32, so no input can make a line cost more
 * than that buffer. Memory grows with the number of faults, barriers and
 * distinct (page, node) pairs only. Action names are common/logactions.h;
 * a well-formed name that is not there is accepted and not drawn, so a newer
 * dsm's log still reads.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "plot.h"

/* ---- the table ---------------------------------------------------------- */

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* where key is, or the free slot where it would go; t->cap > 0 */
static size_t table_find(const struct table *t, uint64_t key)
{
	size_t i = (size_t)mix(key) & (t->cap - 1);

	while (t->slot[i].count && t->slot[i].key != key)
		i = (i + 1) & (t->cap - 1);
	return i;
}

static void table_add(struct table *t, uint64_t key)
{
	struct slot *s;

	if (2 * (t->used + 1) > t->cap) {
		struct table bigger = { NULL, t->cap ? 2 * t->cap : 64, t->used };

		if (bigger.cap < t->cap)
			die(1, "memory", "%s", strerror(ENOMEM));
		bigger.slot = xrealloc(NULL, bigger.cap, sizeof *bigger.slot);
		memset(bigger.slot, 0, bigger.cap * sizeof *bigger.slot);
		for (size_t i = 0; i < t->cap; i++)
			if (t->slot[i].count)
				bigger.slot[table_find(&bigger, t->slot[i].key)] = t->slot[i];
		free(t->slot);
		*t = bigger;
	}
	s = &t->slot[table_find(t, key)];
	if (!s->count) {
		s->key = key;
		t->used++;
	}
	s->count++;
}

uint64_t table_get(const struct table *t, uint64_t key)
{
	return t->cap ? t->slot[table_find(t, key)].count : 0;
}

/* ---- reading ------------------------------------------------------------ */

/* The first 32 bytes of s, with anything but printable ASCII as '?'. */
static const char *shown(const char *s)
{
	static char buf[40];
	size_t i;

	for (i = 0; s[i] && i < 32; i++)
		buf[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	if (s[i]) {
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = '\0';
	return buf;
}

static void bad_line(const struct log *lg, uint64_t line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), noreturn));

static void bad_line(const struct log *lg, uint64_t line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: %s:%" PRIu64 ": ", prog, lg->path, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

/* A decimal number of at most max, digits only. */
static bool parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		if (v > (max - (uint64_t)(*s - '0')) / 10)
			return false;
		v = 10 * v + (uint64_t)(*s - '0');
	}
	*out = v;
	return true;
}

/* "-" (returns false with *dash set) or a number up to max */
static bool parse_opt(const char *s, uint64_t max, uint64_t *out, bool *dash)
{
	*dash = strcmp(s, "-") == 0;
	return *dash || parse_uint(s, max, out);
}

/* SECONDS[.FRACTION] to microseconds; fraction digits past the sixth are
 * dropped (up to nine are accepted). */
static bool parse_time(const char *s, int64_t *us)
{
	uint64_t sec = 0, frac = 0;
	size_t n = 0, nfrac = 0;

	for (; s[n] >= '0' && s[n] <= '9'; n++) {
		if (sec > MAX_SECONDS / 10)
			return false;
		sec = 10 * sec + (uint64_t)(s[n] - '0');
	}
	if (n == 0 || sec > MAX_SECONDS)
		return false;
	if (s[n] == '.') {
		for (n++; s[n] >= '0' && s[n] <= '9'; n++, nfrac++)
			if (nfrac < 6)
				frac = 10 * frac + (uint64_t)(s[n] - '0');
		if (nfrac < 1 || nfrac > 9)
			return false;
		for (size_t i = nfrac; i < 6; i++)
			frac *= 10;
	}
	if (s[n])
		return false;
	*us = (int64_t)(sec * 1000000 + frac);
	return true;
}

static bool is_action_word(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-'))
			return false;
	return true;
}

static void add_event(struct log *lg, int64_t t, int node, enum kind k)
{
	if (lg->nev == lg->evcap) {
		lg->evcap = lg->evcap ? 2 * lg->evcap : 1024;
		lg->ev = xrealloc(lg->ev, lg->evcap, sizeof *lg->ev);
	}
	lg->ev[lg->nev++] = (struct event){ t, (uint16_t)node, (uint8_t)k };
	lg->nkind[k]++;
}

/* what the timeline draws for action a; K_NKINDS when nothing */
static enum kind timeline_kind(enum log_action a)
{
	switch (a) {
	case LOG_READ_FAULT:
		return K_READ;
	case LOG_WRITE_FAULT:
		return K_WRITE;
	case LOG_UPGRADE:
		return K_UPGRADE;
	case LOG_BARRIER:
		return K_BARRIER;
	default:
		return K_NKINDS;
	}
}

static void parse_line(struct log *lg, uint64_t line, char *s)
{
	char *col[6];
	int n = 0;
	uint64_t node, page = 0, peer = 0, micros;
	bool no_page, no_peer, no_micros;
	int64_t t;

	for (char *p = s;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		if (n < 6)
			col[n] = p;
		n++;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		if (*p)
			*p++ = '\0';
	}
	if (n != 6)
		bad_line(lg, line, "expected 6 columns (TIME NODE ACTION PAGE PEER MICROS), found %d", n);
	if (!parse_time(col[0], &t))
		bad_line(lg, line, "TIME '%s' is not SECONDS.MICROS", shown(col[0]));
	if (!parse_uint(col[1], MAX_NODES - 1, &node))
		bad_line(lg, line, "NODE '%s' is not a node id (0 to %d)", shown(col[1]), MAX_NODES - 1);
	if (!is_action_word(col[2]))
		bad_line(lg, line, "ACTION '%s' is not an action name", shown(col[2]));
	if (!parse_opt(col[3], UINT32_MAX, &page, &no_page))
		bad_line(lg, line, "PAGE '%s' is not a page number (0 to %" PRIu32 ") or -",
			 shown(col[3]), UINT32_MAX);
	if (!parse_opt(col[4], MAX_NODES - 1, &peer, &no_peer))
		bad_line(lg, line, "PEER '%s' is not a node id (0 to %d) or -", shown(col[4]), MAX_NODES - 1);
	if (!parse_opt(col[5], INT64_MAX, &micros, &no_micros))
		bad_line(lg, line, "MICROS '%s' is not a number or -", shown(col[5]));

	lg->lines++;
	if (!lg->have_time || t < lg->tmin)
		lg->tmin = t;
	if (!lg->have_time || t > lg->tmax)
		lg->tmax = t;
	lg->have_time = true;
	if ((int)node >= lg->nodes)
		lg->nodes = (int)node + 1;
	if (!no_peer && (int)peer >= lg->nodes)
		lg->nodes = (int)peer + 1;

	enum log_action a;

	if (!log_action_parse(col[2], &a))
		return;  /* an action this dsm-plot does not know: counted only */
	enum kind k = timeline_kind(a);

	if (k != K_NKINDS && k != K_BARRIER && no_page)
		bad_line(lg, line, "%s without a PAGE", log_action_name(a));
	if (k != K_NKINDS)
		add_event(lg, t, (int)node, k);

	if (a == LOG_REVOKE || a == LOG_INVALIDATE) {
		if (no_page)
			bad_line(lg, line, "%s without a PAGE", log_action_name(a));
		if (!no_peer) {  /* the page went from NODE to PEER */
			lg->moves++;
			table_add(&lg->pairs, page << 11 | peer);
			table_add(&lg->pages, page);
		}
	}
}

/* Reads one line into buf (NUL-terminated, newline dropped). Returns 1 for
 * a line, 0 at the end, -1 for a line longer than MAX_LINE, -2 for a NUL. */
static int read_line(FILE *f, char buf[MAX_LINE + 1])
{
	size_t n = 0;
	int c;

	while ((c = getc(f)) != EOF && c != '\n') {
		if (c == '\0')
			return -2;
		if (n == MAX_LINE)
			return -1;
		buf[n++] = (char)c;
	}
	buf[n] = '\0';
	return c == EOF && n == 0 ? 0 : 1;
}

void read_log(struct log *lg, FILE *f)
{
	char buf[MAX_LINE + 1];
	uint64_t line = 0;
	int r;

	while ((r = read_line(f, buf)) != 0) {
		line++;
		if (r == -1)
			bad_line(lg, line, "line longer than %d bytes", MAX_LINE);
		if (r == -2)
			bad_line(lg, line, "NUL byte in line");
		if (buf[0] == '#')
			continue;
		parse_line(lg, line, buf);
	}
	if (ferror(f))
		die(1, lg->path, "read error: %s", strerror(errno));
}

void log_free(struct log *lg)
{
	free(lg->ev);
	free(lg->pairs.slot);
	free(lg->pages.slot);
}
