/*
 * main.c - dsm-plot's command line, its input and output files, and the
 * error exits the other parts use (die, xrealloc).
 *
 * usage: dsm-plot [-o FILE] LOG
 *
 * The whole log is read and checked (parse.c) before the output file is
 * touched, so a malformed log (exit status 2) never leaves a picture behind;
 * a picture cut short by a write error is removed. See dsm-plot(1).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "plot.h"

const char *prog = "dsm-plot";

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

void die(int status, const char *what, const char *fmt, ...)
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

void *xrealloc(void *p, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		die(1, "memory", "%s", strerror(ENOMEM));
	p = realloc(p, n * size);
	if (!p)
		die(1, "memory", "%s", strerror(ENOMEM));
	return p;
}

int main(int argc, char **argv)
{
	const char *in_path = NULL, *out_path = "traffic.svg";
	bool opts_done = false;
	struct log lg;
	FILE *in, *out;

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
	if (in != stdin && fclose(in) != 0)
		die(1, in_path, "%s", strerror(errno));

	/* the log is good: only now is the output touched */
	if (strcmp(out_path, "-") == 0)
		out = stdout;
	else if (!(out = fopen(out_path, "w")))
		die(1, out_path, "%s", strerror(errno));
	svg_out = out;
	if (lg.lines == 0)
		draw_empty(&lg);
	else
		draw(&lg);
	/* a picture cut short is removed, if it is a file of its own */
	struct stat st;
	bool regular = fstat(fileno(out), &st) == 0 && S_ISREG(st.st_mode);

	if (fflush(out) != 0 || ferror(out) || (out != stdout && fclose(out) != 0)) {
		int e = errno;

		if (out != stdout && regular && remove(out_path) != 0)
			fprintf(stderr, "%s: %s: cannot remove: %s\n", prog, out_path, strerror(errno));
		die(1, strcmp(out_path, "-") == 0 ? "stdout" : out_path, "write error: %s",
		    strerror(e ? e : EIO));
	}
	log_free(&lg);
	return 0;
}
