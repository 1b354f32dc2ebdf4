/*
 * plot.h - what the parts of dsm-plot share: the log as read (struct log,
 * filled by parse.c), the picture's layout (struct picture, set by draw.c),
 * the SVG writing helpers (svg.c), and the three drawings (draw_summary.c,
 * draw_timeline.c, draw_heatmap.c). main.c owns the command line, the files
 * and the error exits.
 *
 * dsm-plot draws a `dsm -l` log as an SVG picture; libc only (no libm, no
 * plotting library). The log format is docs/protocol.md, "The `dsm -l` log";
 * its action names are common/logactions.h.
 */
#ifndef DSM_PLOT_H
#define DSM_PLOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../../common/logactions.h"

#define MAX_LINE  1024          /* bytes in a line, without its newline */
#define MAX_NODES 1024          /* node ids are 0 .. MAX_NODES-1 */
#define MAX_COLS  200           /* heatmap columns before pages are binned */
#define MAX_SECONDS 100000000000ULL  /* TIME's seconds: keeps microseconds in int64 */

/* the picture */
#define WIDTH   1000            /* whole picture */
#define LEFT    84              /* lane and row labels */
#define PLOT_W  780             /* both panels' plotting width */
#define MAX_CELL_W 40           /* a heatmap column is never wider */

/* what the timeline draws: the fault kinds and barrier releases */
enum kind { K_READ, K_WRITE, K_UPGRADE, K_BARRIER, K_NKINDS };

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

/* The layout of a picture of a log with lines, and what the parts share. */
struct picture {
	int nodes;
	double lh;              /* height of a lane and of a heatmap row */
	uint64_t *pages;        /* the pages that moved, sorted: heatmap columns */
	size_t npages, ncols, per_col;
	uint64_t faults;        /* read + write + upgrade */
	double sum_y;           /* the summary's first line */
	double p1_head, lanes_top, lanes_h;     /* faults over time */
	double p2_head, rows_top, rows_h;       /* the heatmap */
	int height;
};

/* main.c */
extern const char *prog;
void die(int status, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), noreturn));
void *xrealloc(void *p, size_t n, size_t size);

/* parse.c: reading the log; a bad line exits 2 naming it */
void read_log(struct log *lg, FILE *f);
void log_free(struct log *lg);
uint64_t table_get(const struct table *t, uint64_t key);

/* svg.c: writing to svg_out, and what more than one drawing needs */
extern FILE *svg_out;
void put(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void set_title(struct log *lg, const char *path);
void svg_begin(int height);
const char *plural(uint64_t n);
const char *duration(int64_t us, char buf[32]);
void node_labels(int nodes, double top, double h);

/* draw.c: the whole picture, or the one of a log without lines */
void draw(const struct log *lg);
void draw_empty(const struct log *lg);

/* the three drawings, top to bottom */
void draw_summary(const struct log *lg, const struct picture *pic);
void draw_timeline(const struct log *lg, const struct picture *pic);
void draw_heatmap(const struct log *lg, const struct picture *pic);

#endif /* DSM_PLOT_H */
