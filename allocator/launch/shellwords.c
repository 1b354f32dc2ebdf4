/*
 * shellwords.c - splitting and quoting shell words (see shellwords.h).
 */
#include "shellwords.h"

#include <stdlib.h>
#include <string.h>

void shellwords_free(char **words)
{
	if (!words)
		return;
	for (char **w = words; *w; w++)
		free(*w);
	free(words);
}

int shellwords_split(const char *s, char ***out)
{
	const char *why;

	return shellwords_split_why(s, out, &why);
}

int shellwords_split_why(const char *s, char ***out, const char **why)
{
	size_t n = 0, cap = 4, len = strlen(s);
	char **words = calloc(cap, sizeof(*words));
	char *cur = malloc(len + 1);

	*why = "out of memory"; /* unless a syntax error says otherwise */
	if (!words || !cur)
		goto fail;
	while (*s) {
		size_t k = 0;
		int have = 0;

		while (*s == ' ' || *s == '\t' || *s == '\n')
			s++;
		while (*s && *s != ' ' && *s != '\t' && *s != '\n') {
			have = 1;
			if (*s == '\'') {
				const char *end = strchr(s + 1, '\'');

				if (!end) {
					*why = "unterminated single quote";
					goto fail;
				}
				memcpy(cur + k, s + 1, (size_t)(end - s - 1));
				k += (size_t)(end - s - 1);
				s = end + 1;
			} else if (*s == '"') {
				for (s++; *s && *s != '"'; s++) {
					if (*s == '\\' && s[1] && strchr("\"\\$`", s[1]))
						s++;
					cur[k++] = *s;
				}
				if (*s != '"') {
					*why = "unterminated double quote";
					goto fail;
				}
				s++;
			} else if (*s == '\\') {
				if (!s[1]) {
					*why = "trailing backslash";
					goto fail;
				}
				cur[k++] = s[1];
				s += 2;
			} else {
				cur[k++] = *s++;
			}
		}
		if (!have)
			break;
		if (n + 1 >= cap) {
			char **more = realloc(words, 2 * cap * sizeof(*words));

			if (!more)
				goto fail;
			words = more;
			cap *= 2;
		}
		if (!(words[n] = strndup(cur, k)))
			goto fail;
		words[++n] = NULL;
	}
	free(cur);
	*out = words;
	return (int)n;
fail:
	free(cur);
	shellwords_free(words);
	return -1;
}

int shellwords_append_quoted(char **buf, size_t *len, const char *word)
{
	size_t need = *len + 3 + 4 * strlen(word) + 1;
	char *b = realloc(*buf, need + 1);
	size_t at = *len;

	if (!b)
		return -1;
	if (at)
		b[at++] = ' ';
	b[at++] = '\'';
	for (const char *p = word; *p; p++) {
		if (*p == '\'') {
			memcpy(b + at, "'\\''", 4); /* close, escaped quote, reopen */
			at += 4;
		} else {
			b[at++] = *p;
		}
	}
	b[at++] = '\'';
	b[at] = '\0';
	*buf = b;
	*len = at;
	return 0;
}
