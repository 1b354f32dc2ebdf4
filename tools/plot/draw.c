/*
 * draw.c - the picture as a whole: its layout (struct picture: the lane
 * height, the heatmap's columns, where each part starts), then the three
 * drawings in order, summary, timeline and heatmap; and the small picture
 * of a log that has no lines.
 */
#include <stdlib.h>

#include "plot.h"

/* lanes and heatmap rows: height per node */
static double lane_height(int nodes)
{
	double h = 480.0 / nodes;

	return h > 26 ? 26 : h < 2 ? 2 : h;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

void draw_empty(const struct log *lg)
{
	svg_begin(110);
	put("<text x=\"20\" y=\"32\" class=\"title\">dsm traffic: %s</text>\n", lg->title);
	put("<text x=\"20\" y=\"66\" class=\"sum\">no actions: the log has no lines after its header.</text>\n");
	put("</svg>\n");
}

void draw(const struct log *lg)
{
	struct picture pic = { .nodes = lg->nodes, .lh = lane_height(lg->nodes), .per_col = 1 };

	/* the pages that moved, sorted: the heatmap's columns */
	pic.npages = lg->pages.used;
	if (pic.npages) {
		size_t j = 0;

		pic.pages = xrealloc(NULL, pic.npages, sizeof *pic.pages);
		for (size_t i = 0; i < lg->pages.cap; i++)
			if (lg->pages.slot[i].count)
				pic.pages[j++] = lg->pages.slot[i].key;
		qsort(pic.pages, pic.npages, sizeof *pic.pages, cmp_u64);
		pic.per_col = pic.npages <= MAX_COLS ? 1 : (pic.npages + MAX_COLS - 1) / MAX_COLS;
		pic.ncols = (pic.npages + pic.per_col - 1) / pic.per_col;
	}
	pic.faults = lg->nkind[K_READ] + lg->nkind[K_WRITE] + lg->nkind[K_UPGRADE];

	/* vertical layout */
	pic.sum_y = 56;
	pic.p1_head = 150;
	pic.lanes_top = pic.p1_head + 14;
	pic.lanes_h = pic.nodes * pic.lh;
	pic.p2_head = pic.lanes_top + pic.lanes_h + 64;
	pic.rows_top = pic.p2_head + 34;
	pic.rows_h = pic.nodes * pic.lh;
	pic.height = (int)(pic.rows_top + (pic.npages ? pic.rows_h + 56 : 30) + 0.5);

	svg_begin(pic.height);
	draw_summary(lg, &pic);
	draw_timeline(lg, &pic);
	draw_heatmap(lg, &pic);
	put("</svg>\n");
	free(pic.pages);
}
