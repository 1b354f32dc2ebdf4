/*
 * draw_timeline.c - the picture's second part, "Faults over time, per
 * node": one lane per node, time across, a mark for every read fault, write
 * fault and upgrade in its kind's colour, and a tick for every release from
 * a barrier. Marks are merged per pixel column, so the SVG's size is bounded
 * by the picture's, not by the log's length.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "plot.h"

static const char *const kind_colour[K_NKINDS] = {
	"#0072b2", "#d55e00", "#009e73", "#222222"
};
static const char *const kind_label[K_NKINDS] = {
	"read fault", "write fault", "upgrade", "barrier"
};

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

void draw_timeline(const struct log *lg, const struct picture *pic)
{
	const int nodes = pic->nodes;
	const double lh = pic->lh;
	const double p1_head = pic->p1_head, lanes_top = pic->lanes_top, lanes_h = pic->lanes_h;
	const uint64_t faults = pic->faults;
	char b2[64];

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
}
