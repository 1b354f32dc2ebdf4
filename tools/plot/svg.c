/*
 * svg.c - writing the SVG: the output stream and put(), the document's
 * head and styles, the picture's title, and the small pieces of text and
 * labelling more than one drawing uses (durations, plurals, node labels).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include "plot.h"

FILE *svg_out;

void put(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(svg_out, fmt, ap);
	va_end(ap);
}

/* the log's name, printable ASCII only, escaped for XML */
void set_title(struct log *lg, const char *path)
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

/* the document's head: size, fonts and styles, a white background */
void svg_begin(int height)
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

const char *plural(uint64_t n)
{
	return n == 1 ? "" : "s";
}

/* a duration in words: "812 us", "52.31 ms", "4.21 s" */
const char *duration(int64_t us, char buf[32])
{
	if (us < 1000)
		snprintf(buf, 32, "%" PRId64 " us", us);
	else if (us < 1000000)
		snprintf(buf, 32, "%.2f ms", (double)us / 1e3);
	else
		snprintf(buf, 32, "%.2f s", (double)us / 1e6);
	return buf;
}

/* label every k-th of lanes h high, so labels are 13 px apart at least */
static int label_every(double h)
{
	int k = 1;

	while (k * h < 13)
		k = k < 5 ? k + (k == 1 ? 1 : 3) : k * 2;  /* 1, 2, 5, 10, 20, ... */
	return k;
}

/* "node K" left of the lanes or rows that start at top, h high; as many as fit */
void node_labels(int nodes, double top, double h)
{
	int every = label_every(h);

	for (int i = 0; i < nodes; i++)
		if (i % every == 0)
			put("<text x=\"%d\" y=\"%.1f\" class=\"lab\" text-anchor=\"end\" "
			    "dominant-baseline=\"central\">node %d</text>\n",
			    LEFT - 8, top + (i + 0.5) * h, i);
}
