/*
 * draw_heatmap.c - the picture's third part, "Pages moved to each node":
 * one row per node and one column per page that moved (consecutive pages
 * binned into a column past MAX_COLS), each cell coloured by how many times
 * its page went to its node, with page ticks below and the colour scale at
 * the right.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "plot.h"

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

void draw_heatmap(const struct log *lg, const struct picture *pic)
{
	const int nodes = pic->nodes;
	const double lh = pic->lh;
	const double p2_head = pic->p2_head, rows_top = pic->rows_top, rows_h = pic->rows_h;
	const uint64_t *pages = pic->pages;
	const size_t npages = pic->npages, ncols = pic->ncols, per_col = pic->per_col;
	char b3[64];

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
}
