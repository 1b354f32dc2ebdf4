/*
 * shellwords.h - the two shell-syntax jobs dsm has: splitting DSM_SSH and
 * DSM_WRAPPER into words the way a POSIX shell would (quotes and
 * backslashes, no expansions), and quoting words for the command line ssh
 * hands to the remote shell, so no argument is ever re-interpreted there.
 */
#ifndef DSM_SHELLWORDS_H
#define DSM_SHELLWORDS_H

#include <stddef.h>

/*
 * Split s into a malloc'ed NULL-terminated array of malloc'ed words (free
 * with shellwords_free). Returns the word count, or -1 on an unterminated
 * quote or out of memory.
 */
int shellwords_split(const char *s, char ***words);
/* The same; on -1, *why says what is wrong: "unterminated single quote",
 * "unterminated double quote", "trailing backslash" or "out of memory". */
int shellwords_split_why(const char *s, char ***words, const char **why);
void shellwords_free(char **words);

/* Append word to *buf (malloc'ed, grown as needed) quoted for sh, after a space
 * if *buf is not empty. 0, or -1 when out of memory. */
int shellwords_append_quoted(char **buf, size_t *len, const char *word);

#endif /* DSM_SHELLWORDS_H */
