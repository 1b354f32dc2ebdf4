/* dsm-plot.c - draw a `dsm -l` log as an SVG picture a person reads at a
 * glance: a summary, the faults of every node over time (with the barriers),
 * and a heatmap of how often each page moved to each node.
 *
 * usage: dsm-plot [-o FILE] LOG
 *
 * The log format (version 1) is in docs/protocol.md, "The `dsm -l` log": an
 * optional '#' header, then lines of six space-separated columns
 * TIME NODE ACTION PAGE PEER MICROS with '-' where a column does not apply.
 * Every line is checked; a malformed one ends the run with its line number
 * and exit status 2, before the output file is touched. Lines are read into a
 * fixed buffer (at most MAX_LINE bytes), node ids are below MAX_NODES and
 * pages below 2^32, so no input can make a line cost more than that buffer.
 * Memory grows with the number of faults, barriers and distinct (page, node)
 * pairs only, and the SVG is bounded by the picture's size in pixels, not by
 * the length of the log.
 *
 * libc only: no libm, no plotting library; the SVG is written directly.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_LINE  1024          /* bytes in a line, without its newline */
#define MAX_NODES 1024          /* node ids are 0 .. MAX_NODES-1 */
#define MAX_COLS  200           /* heatmap columns before pages are binned */
#define MAX_SECONDS 100000000000ULL  /* TIME's seconds: keeps microseconds in int64 */

/* the picture */
#define WIDTH   1000            /* whole picture */
#define LEFT    84              /* lane and row labels */
#define PLOT_W  780             /* both panels' plotting width */
#define MAX_CELL_W 40           /* a heatmap column is never wider */

enum kind { K_READ, K_WRITE, K_UPGRADE, K_BARRIER, K_NKINDS };

static const char *const kind_colour[K_NKINDS] = {
	"#0072b2", "#d55e00", "#009e73", "#222222"
};
static const char *const kind_label[K_NKINDS] = {
	"read fault", "write fault", "upgrade", "barrier"
};

struct event {
	int64_t t;              /* microseconds, as in the log */
	uint16_t node;
	uint8_t kind;
};

/* open addressing, linear probing; count == 0 marks a free slot */
struct slot {
	uint64_t key;
	uint64_t count;
};

struct table {
	struct slot *slot;
	size_t cap;             /* a power of two, or 0 */
	size_t used;
};

struct log {
	const char *path;       /* for messages */
	char title[128];        /* the log's name, safe inside SVG text */
	uint64_t lines;         /* data lines (not comments) */
	bool have_time;
	int64_t tmin, tmax;
	int nodes;              /* highest node id seen + 1 */
	struct event *ev;
	size_t nev, evcap;
	uint64_t nkind[K_NKINDS];
	uint64_t moves;         /* revoke/invalidate lines with a PEER */
	struct table pairs;     /* (page << 11 | destination) -> moves */
	struct table pages;     /* page -> moves */
};

static const char *prog = "dsm-plot";

static void usage(FILE *f)
{
	fprintf(f,
		"usage: dsm-plot [-o FILE] LOG\n"
		"Draw a dsm -l log as an SVG picture: the faults of every node over time,\n"
		"and a heatmap of how often each page moved to each node.\n"
		"  -o FILE  write the picture to FILE (default traffic.svg; - for stdout)\n"
		"  -h       print this help\n"
		"LOG may be - for standard input.\n");
}

static void die(int status, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), noreturn));

static void die(int status, const char *what, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: %s: ", prog, what);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}

static void usage_error(const char *what, const char *why)
{
	fprintf(stderr, "%s: %s: %s\n", prog, what, why);
	fprintf(stderr, "usage: dsm-plot [-o FILE] LOG   (dsm-plot -h for help)\n");
	exit(2);
}

static void *xrealloc(void *p, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		die(1, "memory", "%s", strerror(ENOMEM));
	p = realloc(p, n * size);
	if (!p)
		die(1, "memory", "%s", strerror(ENOMEM));
	return p;
}

/* ---- the table ---------------------------------------------------------- */

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static struct slot *table_find(struct table *t, uint64_t key)
{
	size_t i = (size_t)mix(key) & (t->cap - 1);

	while (t->slot[i].count && t->slot[i].key != key)
		i = (i + 1) & (t->cap - 1);
	return &t->slot[i];
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
				*table_find(&bigger, t->slot[i].key) = t->slot[i];
		free(t->slot);
		*t = bigger;
	}
	s = table_find(t, key);
	if (!s->count) {
		s->key = key;
		t->used++;
	}
	s->count++;
}

static uint64_t table_get(struct table *t, uint64_t key)
{
	return t->cap ? table_find(t, key)->count : 0;
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

	const char *a = col[2];
	enum kind k = K_NKINDS;

	if (strcmp(a, "read-fault") == 0)
		k = K_READ;
	else if (strcmp(a, "write-fault") == 0)
		k = K_WRITE;
	else if (strcmp(a, "upgrade") == 0)
		k = K_UPGRADE;
	else if (strcmp(a, "barrier") == 0)
		k = K_BARRIER;
	if (k != K_NKINDS && k != K_BARRIER && no_page)
		bad_line(lg, line, "%s without a PAGE", a);
	if (k != K_NKINDS)
		add_event(lg, t, (int)node, k);

	if (strcmp(a, "revoke") == 0 || strcmp(a, "invalidate") == 0) {
		if (no_page)
			bad_line(lg, line, "%s without a PAGE", a);
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

static void read_log(struct log *lg, FILE *f)
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

/* ---- writing ------------------------------------------------------------ */

static FILE *out;

static void put(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void put(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
}

/* the log's name, printable ASCII only, escaped for XML */
static void set_title(struct log *lg, const char *path)
{
	const char *base = strcmp(path, "-") == 0 ? "standard input" : path;
	const char *slash = strrchr(base, '/');
	size_t n = 0;

	if (slash && slash[1])
		base = slash + 1;
	for (; *base && n + 8 < sizeof lg->title; base++) {
		unsigned char c = (unsigned char)*base;
		const char *esc = c == '&' ? "&amp;" : c == '<' ? "&lt;" : c == '>' ? "&gt;" : NULL;

		if (esc) {
			memcpy(lg->title + n, esc, strlen(esc));
			n += strlen(esc);
		} else {
			lg->title[n++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
		}
	}
	lg->title[n] = '\0';
}

/* a duration in words: "812 us", "52.31 ms", "4.21 s" */
static const char *duration(int64_t us, char buf[32])
{
	if (us < 1000)
		snprintf(buf, 32, "%" PRId64 " us", us);
	else if (us < 1000000)
		snprintf(buf, 32, "%.2f ms", (double)us / 1e3);
	else
		snprintf(buf, 32, "%.2f s", (double)us / 1e6);
	return buf;
}

/* v (a multiple of step, both >= 0) in units of unit (10^3 or 10^6), with as
 * many decimals as step needs */
static const char *tick_label(int64_t v, int64_t step, int64_t unit, char buf[64])
{
	char frac[8];
	int dec = 0;

	for (int64_t u = unit; dec < 6 && u > 1 && step % u; u /= 10)
		dec++;
	int64_t rest = v % unit;

	for (int k = 0, u = (int)unit / 10; k < dec; k++, u /= 10)  /* rest / unit */
		frac[k] = (char)('0' + rest / u % 10);
	frac[dec] = '\0';
	snprintf(buf, 64, "%" PRId64 "%s%s", v / unit, dec ? "." : "", frac);
	return buf;
}

/* the smallest 1, 2, 5 x 10^k with at most max_ticks steps in span */
static int64_t nice_step(uint64_t span, uint64_t max_ticks)
{
	static const int m[3] = { 1, 2, 5 };

	for (uint64_t p = 1;; p *= 10)
		for (int i = 0; i < 3; i++)
			if (span / (p * (uint64_t)m[i]) < max_ticks || p > UINT64_MAX / 100)
				return (int64_t)(p * (uint64_t)m[i]);
}

/* lanes and heatmap rows: height per node, and which nodes get a label */
static double lane_height(int nodes)
{
	double h = 480.0 / nodes;

	return h > 26 ? 26 : h < 2 ? 2 : h;
}

static int label_every(double h)
{
	int k = 1;

	while (k * h < 13)
		k = k < 5 ? k + (k == 1 ? 1 : 3) : k * 2;  /* 1, 2, 5, 10, 20, ... */
	return k;
}

static void node_labels(int nodes, double top, double h)
{
	int every = label_every(h);

	for (int i = 0; i < nodes; i++)
		if (i % every == 0)
			put("<text x=\"%d\" y=\"%.1f\" class=\"lab\" text-anchor=\"end\" "
			    "dominant-baseline=\"central\">node %d</text>\n",
			    LEFT - 8, top + (i + 0.5) * h, i);
}

/* colour of a heatmap cell: t in (0, 1], pale yellow to dark red */
static void heat_colour(double t, char buf[8])
{
	static const unsigned char stop[5][3] = {
		{ 0xff, 0xed, 0xa0 }, { 0xfe, 0xb2, 0x4c }, { 0xfd, 0x8d, 0x3c },
		{ 0xe3, 0x1a, 0x1c }, { 0x80, 0x00, 0x26 },
	};
	double x = (t < 0 ? 0 : t > 1 ? 1 : t) * 4;
	int i = (int)x;

	if (i > 3)
		i = 3;
	x -= i;
	int c[3];

	for (int j = 0; j < 3; j++)
		c[j] = (int)(stop[i][j] + (stop[i + 1][j] - stop[i][j]) * x + 0.5);
	snprintf(buf, 8, "#%02x%02x%02x", c[0] & 0xff, c[1] & 0xff, c[2] & 0xff);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* index of page in the sorted array p[0..n) (it is there) */
static size_t page_index(const uint64_t *p, size_t n, uint64_t page)
{
	size_t lo = 0, hi = n;

	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (p[mid] <= page)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

static void svg_begin(int height)
{
	put("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
	    "viewBox=\"0 0 %d %d\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n"
	    "<style>\n"
	    "  .title { font-size: 18px; font-weight: bold; fill: #111; }\n"
	    "  .head { font-size: 15px; font-weight: bold; fill: #111; }\n"
	    "  .sum { font-size: 13px; fill: #222; }\n"
	    "  .note { font-size: 11.5px; fill: #555; }\n"
	    "  .lab { font-size: 11.5px; fill: #333; }\n"
	    "  .tick { font-size: 10.5px; fill: #444; }\n"
	    "  .axis { font-size: 12px; fill: #333; }\n"
	    "</style>\n"
	    "<rect width=\"100%%\" height=\"100%%\" fill=\"#ffffff\"/>\n",
	    WIDTH, height, WIDTH, height);
}

static void draw_empty(const struct log *lg)
{
	svg_begin(110);
	put("<text x=\"20\" y=\"32\" class=\"title\">dsm traffic: %s</text>\n", lg->title);
	put("<text x=\"20\" y=\"66\" class=\"sum\">no actions: the log has no lines after its header.</text>\n");
	put("</svg>\n");
}

/* ---- the picture -------------------------------------------------------- */

static const char *plural(uint64_t n)
{
	return n == 1 ? "" : "s";
}

static void draw(struct log *lg)
{
	const int nodes = lg->nodes;
	const double lh = lane_height(nodes);
	char b1[64], b2[64], b3[64];

	/* the pages that moved, sorted: the heatmap's columns */
	size_t npages = lg->pages.used, ncols = 0, per_col = 1;
	uint64_t *pages = NULL;

	if (npages) {
		pages = xrealloc(NULL, npages, sizeof *pages);
		size_t j = 0;

		for (size_t i = 0; i < lg->pages.cap; i++)
			if (lg->pages.slot[i].count)
				pages[j++] = lg->pages.slot[i].key;
		qsort(pages, npages, sizeof *pages, cmp_u64);
		per_col = npages <= MAX_COLS ? 1 : (npages + MAX_COLS - 1) / MAX_COLS;
		ncols = (npages + per_col - 1) / per_col;
	}

	/* vertical layout */
	const double sum_y = 56;
	const double p1_head = 150;
	const double lanes_top = p1_head + 14;
	const double lanes_h = nodes * lh;
	const double p2_head = lanes_top + lanes_h + 64;
	const double rows_top = p2_head + 34;
	const double rows_h = nodes * lh;
	const int height = (int)(rows_top + (npages ? rows_h + 56 : 30) + 0.5);

	svg_begin(height);

	/* ---- summary ---- */
	uint64_t faults = lg->nkind[K_READ] + lg->nkind[K_WRITE] + lg->nkind[K_UPGRADE];
	uint64_t busiest = 0, busiest_n = 0;
	int busiest_to = 0;

	for (size_t i = 0; i < lg->pages.cap; i++) {
		const struct slot *s = &lg->pages.slot[i];

		if (s->count > busiest_n || (s->count == busiest_n && s->count && s->key < busiest)) {
			busiest = s->key;
			busiest_n = s->count;
		}
	}
	for (int d = 0; busiest_n && d < nodes; d++)
		busiest_to += table_get(&lg->pairs, busiest << 11 | (uint64_t)d) > 0;

	put("<text x=\"20\" y=\"30\" class=\"title\">dsm traffic: %s</text>\n", lg->title);
	put("<text x=\"20\" y=\"%.0f\" class=\"sum\">%d node%s, %s from the first to the last "
	    "line, %" PRIu64 " action%s, %" PRIu64 " barrier release%s.</text>\n",
	    sum_y, nodes, plural((uint64_t)nodes), duration(lg->tmax - lg->tmin, b1), lg->lines,
	    plural(lg->lines), lg->nkind[K_BARRIER], plural(lg->nkind[K_BARRIER]));
	put("<text x=\"20\" y=\"%.0f\" class=\"sum\">Faults: %" PRIu64 " (%" PRIu64 " read, %"
	    PRIu64 " write, %" PRIu64 " upgrade%s).</text>\n", sum_y + 20, faults,
	    lg->nkind[K_READ], lg->nkind[K_WRITE], lg->nkind[K_UPGRADE],
	    plural(lg->nkind[K_UPGRADE]));
	if (lg->moves)
		put("<text x=\"20\" y=\"%.0f\" class=\"sum\">Pages moved: %" PRIu64 " time%s, %zu "
		    "distinct page%s. Busiest page: <tspan font-weight=\"bold\">page %" PRIu64
		    ", moved %" PRIu64 " time%s</tspan> (%.0f%% of all moves) to %d node%s.</text>\n",
		    sum_y + 40, lg->moves, plural(lg->moves), npages, plural(npages), busiest,
		    busiest_n, plural(busiest_n), 100.0 * (double)busiest_n / (double)lg->moves,
		    busiest_to, plural((uint64_t)busiest_to));
	else
		put("<text x=\"20\" y=\"%.0f\" class=\"sum\">Pages moved: none (no revoke or "
		    "invalidate line names a PEER).</text>\n", sum_y + 40);
	put("<text x=\"20\" y=\"%.0f\" class=\"note\">False sharing shows as a few hot pages "
	    "moved many times among many nodes: dark columns in the heatmap below.</text>\n",
	    sum_y + 60);

	/* ---- panel 1: faults over time ---- */
	const int64_t span = lg->tmax - lg->tmin > 0 ? lg->tmax - lg->tmin : 1;
	const int64_t unit = span >= 10000000 ? 1000000 : 1000;  /* s from 10 s on */

	put("<text x=\"20\" y=\"%.0f\" class=\"head\">Faults over time, per node</text>\n", p1_head - 6);
	{       /* legend, right-aligned on the heading's line */
		double x = LEFT + PLOT_W - 388;

		for (int k = 0; k < K_NKINDS; k++) {
			if (k == K_BARRIER)
				put("<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" stroke=\"%s\" "
				    "stroke-width=\"1.5\"/>\n", x + 5, p1_head - 19, x + 5, p1_head - 5,
				    kind_colour[k]);
			else
				put("<rect x=\"%.1f\" y=\"%.0f\" width=\"10\" height=\"10\" fill=\"%s\"/>\n",
				    x, p1_head - 17, kind_colour[k]);
			put("<text x=\"%.1f\" y=\"%.0f\" class=\"lab\">%s</text>\n", x + 14,
			    p1_head - 7, kind_label[k]);
			x += k == K_READ ? 92 : k == K_WRITE ? 100 : 80;
		}
	}
	for (int i = 0; i < nodes; i++)
		put("<rect x=\"%d\" y=\"%.2f\" width=\"%d\" height=\"%.2f\" fill=\"%s\"/>\n", LEFT,
		    lanes_top + i * lh, PLOT_W, lh, i % 2 ? "#ffffff" : "#eef1f5");
	/* x axis: grid lines and ticks */
	int64_t step = nice_step((uint64_t)span, 9);

	for (int64_t v = 0; v <= span; v += step) {
		double x = LEFT + (double)v * PLOT_W / (double)span;

		put("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#c8cdd4\" "
		    "stroke-width=\"0.6\"/>\n", x, lanes_top, x, lanes_top + lanes_h + 4);
		put("<text x=\"%.1f\" y=\"%.1f\" class=\"tick\" text-anchor=\"middle\">%s</text>\n",
		    x, lanes_top + lanes_h + 16, tick_label(v, step, unit, b2));
		if (v > INT64_MAX - step)
			break;
	}
	put("<text x=\"%.1f\" y=\"%.1f\" class=\"axis\" text-anchor=\"middle\">time since the "
	    "first log line (%s)</text>\n", LEFT + PLOT_W / 2.0, lanes_top + lanes_h + 34,
	    unit == 1000 ? "ms" : "s");
	node_labels(nodes, lanes_top, lh);

	/* marks: one bit per (node, kind, pixel column); runs become one rect */
	if (faults + lg->nkind[K_BARRIER] == 0) {
		put("<text x=\"%.1f\" y=\"%.1f\" class=\"note\" text-anchor=\"middle\" "
		    "dominant-baseline=\"central\">no faults and no barriers</text>\n",
		    LEFT + PLOT_W / 2.0, lanes_top + lanes_h / 2);
	} else {
		unsigned char *bit = xrealloc(NULL, (size_t)nodes * K_NKINDS, PLOT_W);

		memset(bit, 0, (size_t)nodes * K_NKINDS * PLOT_W);
		for (size_t i = 0; i < lg->nev; i++) {
			const struct event *e = &lg->ev[i];
			int px = (int)((double)(e->t - lg->tmin) * PLOT_W / (double)span);

			px = px < 0 ? 0 : px >= PLOT_W ? PLOT_W - 1 : px;
			bit[((size_t)e->node * K_NKINDS + e->kind) * PLOT_W + (size_t)px] = 1;
		}
		/* three bands in a lane: read on top, write in the middle, upgrade
		 * below; in thin lanes every kind fills the lane. Barriers go
		 * first, under the faults, and span the whole lane, so they show
		 * above and below the bands even where faults are dense. */
		const bool bands = lh >= 12;
		const double pad = lh >= 12 ? 3 : lh >= 4 ? 0.5 : 0;
		const double band = bands ? (lh - 2 * pad) / 3 : lh - 2 * pad;
		static const enum kind order[K_NKINDS] = { K_BARRIER, K_READ, K_WRITE, K_UPGRADE };

		for (int i = 0; i < nodes; i++) {
			for (int o = 0; o < K_NKINDS; o++) {
				const enum kind k = order[o];
				const unsigned char *row = bit + ((size_t)i * K_NKINDS + (size_t)k) * PLOT_W;
				const double top = lanes_top + i * lh;

				for (int x = 0; x < PLOT_W;) {
					if (!row[x]) {
						x++;
						continue;
					}
					int x0 = x;

					while (x < PLOT_W && row[x])
						x++;
					if (k == K_BARRIER)  /* 1.2 px wide per pixel column */
						put("<rect x=\"%.1f\" y=\"%.2f\" width=\"%.1f\" height=\"%.2f\" "
						    "fill=\"%s\"/>\n", LEFT + x0 - 0.1, top, x - x0 + 0.2, lh,
						    kind_colour[k]);
					else        /* 2 px wide at least, never past the axis */
						put("<rect x=\"%d\" y=\"%.2f\" width=\"%d\" height=\"%.2f\" "
						    "fill=\"%s\"/>\n", LEFT + x0,
						    top + pad + (bands ? (int)k * band : 0),
						    x < PLOT_W ? x - x0 + 1 : x - x0, band, kind_colour[k]);
				}
			}
		}
		free(bit);
	}

	/* ---- panel 2: heatmap of pages moved to each node ---- */
	put("<text x=\"20\" y=\"%.0f\" class=\"head\">Pages moved to each node</text>\n", p2_head - 6);
	put("<text x=\"20\" y=\"%.0f\" class=\"note\">One cell per page and destination node: how "
	    "many times the page went to that node (revoke and invalidate lines with a PEER).</text>\n",
	    p2_head + 12);
	if (!npages) {
		put("<text x=\"%d\" y=\"%.0f\" class=\"note\">no pages moved</text>\n", LEFT, rows_top + 10);
	} else {
		double cw = (double)PLOT_W / (double)ncols;

		if (cw > MAX_CELL_W)
			cw = MAX_CELL_W;
		const double hw = cw * (double)ncols;
		uint64_t *grid = xrealloc(NULL, (size_t)nodes * ncols, sizeof *grid);
		uint64_t max = 0;

		memset(grid, 0, (size_t)nodes * ncols * sizeof *grid);
		for (size_t i = 0; i < lg->pairs.cap; i++) {
			const struct slot *s = &lg->pairs.slot[i];

			if (!s->count)
				continue;
			size_t col = page_index(pages, npages, s->key >> 11) / per_col;
			uint64_t *g = &grid[(size_t)(s->key & 2047) * ncols + col];

			*g += s->count;
			if (*g > max)
				max = *g;
		}
		put("<rect x=\"%d\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"#f3f4f6\" "
		    "stroke=\"#c8cdd4\" stroke-width=\"0.6\"/>\n", LEFT, rows_top, hw, rows_h);
		for (int r = 0; r < nodes; r++)
			for (size_t c = 0; c < ncols; c++) {
				uint64_t n = grid[(size_t)r * ncols + c];
				char colour[8];

				if (!n)
					continue;
				heat_colour(max > 1 ? (double)(n - 1) / (double)(max - 1) : 1.0, colour);
				uint64_t first = pages[c * per_col];
				size_t lastix = (c + 1) * per_col - 1;
				uint64_t last = pages[lastix < npages ? lastix : npages - 1];

				put("<rect class=\"cell\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" "
				    "fill=\"%s\">",
				    LEFT + c * cw, rows_top + r * lh, cw, lh, colour);
				if (first == last)
					put("<title>page %" PRIu64 " to node %d: %" PRIu64 " moves</title></rect>\n",
					    first, r, n);
				else
					put("<title>pages %" PRIu64 "-%" PRIu64 " to node %d: %" PRIu64
					    " moves</title></rect>\n", first, last, r, n);
			}
		/* white lines between cells when they are big enough to need them */
		if (lh >= 6)
			for (int r = 1; r < nodes; r++)
				put("<line x1=\"%d\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#ffffff\" "
				    "stroke-width=\"1\"/>\n", LEFT, rows_top + r * lh, LEFT + hw,
				    rows_top + r * lh);
		if (cw >= 6)
			for (size_t c = 1; c < ncols; c++)
				put("<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#ffffff\" "
				    "stroke-width=\"1\"/>\n", LEFT + c * cw, rows_top, LEFT + c * cw,
				    rows_top + rows_h);
		node_labels(nodes, rows_top, lh);

		/* page ticks: a label every `every` columns, never crowded */
		int digits = snprintf(b3, sizeof b3, "%" PRIu64, pages[npages - 1]);
		double need = digits * 6.5 + 10;
		size_t every = 1;

		while (every * cw < need)
			every = every < 5 ? every + (every == 1 ? 1 : 3) : every * 2;
		for (size_t c = 0; c < ncols; c += every) {
			double x = LEFT + c * cw + (per_col == 1 ? cw / 2 : 0);

			put("<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#444\" "
			    "stroke-width=\"0.8\"/>\n", x, rows_top + rows_h, x, rows_top + rows_h + 4);
			put("<text x=\"%.2f\" y=\"%.2f\" class=\"tick\" text-anchor=\"middle\">%" PRIu64
			    "</text>\n", x, rows_top + rows_h + 15, pages[c * per_col]);
		}
		bool contiguous = pages[npages - 1] - pages[0] == npages - 1;

		if (per_col > 1)
			put("<text x=\"%d\" y=\"%.2f\" class=\"axis\">page: binned, %zu consecutive pages "
			    "per column (%zu pages moved, %" PRIu64 " to %" PRIu64 "%s)</text>\n", LEFT,
			    rows_top + rows_h + 33, per_col, npages, pages[0], pages[npages - 1],
			    contiguous ? "" : ", only those that moved");
		else if (contiguous)
			put("<text x=\"%d\" y=\"%.2f\" class=\"axis\">page</text>\n", LEFT,
			    rows_top + rows_h + 33);
		else
			put("<text x=\"%d\" y=\"%.2f\" class=\"axis\">page (only the %zu pages that "
			    "moved, in order)</text>\n", LEFT, rows_top + rows_h + 33, npages);

		/* colour scale, right of the heatmap: 1 at the bottom, max on top */
		const double lx = LEFT + hw + 36, lw = 14, lt = rows_top;
		const double lhgt = max == 1 ? 14 : rows_h < 80 ? 80 : rows_h > 220 ? 220 : rows_h;

		put("<defs><linearGradient id=\"scale\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">\n");
		for (int i = 0; i <= 8; i++) {
			char colour[8];

			heat_colour(max == 1 ? 1.0 : i / 8.0, colour);
			put("<stop offset=\"%.3f\" stop-color=\"%s\"/>\n", i / 8.0, colour);
		}
		put("</linearGradient></defs>\n");
		put("<text x=\"%.1f\" y=\"%.1f\" class=\"lab\">moves</text>\n", lx - 4, lt - 8);
		put("<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"url(#scale)\" "
		    "stroke=\"#888\" stroke-width=\"0.6\"/>\n", lx, lt, lw, lhgt);
		put("<text x=\"%.1f\" y=\"%.1f\" class=\"tick\" dominant-baseline=\"central\">%" PRIu64
		    "</text>\n", lx + lw + 5, max == 1 ? lt + 7 : lt + 4, max);
		if (max > 2) {
			uint64_t mid = (max + 1) / 2;

			put("<text x=\"%.1f\" y=\"%.1f\" class=\"tick\" dominant-baseline=\"central\">%"
			    PRIu64 "</text>\n", lx + lw + 5,
			    lt + lhgt - lhgt * (double)(mid - 1) / (double)(max - 1), mid);
		}
		if (max > 1)
			put("<text x=\"%.1f\" y=\"%.1f\" class=\"tick\" dominant-baseline=\"central\">1"
			    "</text>\n", lx + lw + 5, lt + lhgt - 4);
		put("<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"10\" fill=\"#f3f4f6\" "
		    "stroke=\"#c8cdd4\" stroke-width=\"0.6\"/>\n", lx, lt + lhgt + 10, lw);
		put("<text x=\"%.1f\" y=\"%.1f\" class=\"tick\" dominant-baseline=\"central\">0</text>\n",
		    lx + lw + 5, lt + lhgt + 15);
		free(grid);
	}
	put("</svg>\n");
	free(pages);
}

int main(int argc, char **argv)
{
	const char *in_path = NULL, *out_path = "traffic.svg";
	bool opts_done = false;
	struct log lg;
	FILE *in;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!opts_done && a[0] == '-' && a[1]) {
			if (strcmp(a, "--") == 0) {
				opts_done = true;
			} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
				usage(stdout);
				return 0;
			} else if (a[1] == 'o') {
				if (a[2])
					out_path = a + 2;
				else if (i + 1 < argc)
					out_path = argv[++i];
				else
					usage_error("-o", "needs a file name");
				if (!*out_path)
					usage_error("-o", "empty file name");
			} else {
				usage_error(a, "unknown option");
			}
		} else if (in_path) {
			usage_error(a, "only one LOG can be given");
		} else {
			in_path = a;
		}
	}
	if (!in_path)
		usage_error("LOG", "missing");

	memset(&lg, 0, sizeof lg);
	lg.path = strcmp(in_path, "-") == 0 ? "stdin" : in_path;
	set_title(&lg, in_path);
	if (strcmp(in_path, "-") == 0) {
		in = stdin;
	} else if (!(in = fopen(in_path, "r"))) {
		die(1, in_path, "%s", strerror(errno));
	}
	read_log(&lg, in);
	if (in != stdin)
		fclose(in);

	/* the log is good: only now is the output touched */
	if (strcmp(out_path, "-") == 0)
		out = stdout;
	else if (!(out = fopen(out_path, "w")))
		die(1, out_path, "%s", strerror(errno));
	if (lg.lines == 0)
		draw_empty(&lg);
	else
		draw(&lg);
	/* a picture cut short is removed, if it is a file of its own */
	struct stat st;
	bool regular = fstat(fileno(out), &st) == 0 && S_ISREG(st.st_mode);

	if (fflush(out) != 0 || ferror(out) || (out != stdout && fclose(out) != 0)) {
		int e = errno;

		if (out != stdout && regular)
			remove(out_path);
		die(1, strcmp(out_path, "-") == 0 ? "stdout" : out_path, "write error: %s",
		    strerror(e ? e : EIO));
	}
	free(lg.ev);
	free(lg.pairs.slot);
	free(lg.pages.slot);
	return 0;
}
