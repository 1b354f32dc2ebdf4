/*
 * draw_summary.c - the picture's first part: its title and a few lines of
 * text, the number of nodes, the time the log spans, the faults of each kind,
 * how many times pages moved, and the busiest page.
 */
#include <inttypes.h>

#include "plot.h"

void draw_summary(const struct log *lg, const struct picture *pic)
{
	const int nodes = pic->nodes;
	const double sum_y = pic->sum_y;
	const uint64_t faults = pic->faults;
	const size_t npages = pic->npages;
	uint64_t busiest = 0, busiest_n = 0;
	int busiest_to = 0;
	char b1[64];

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
}
