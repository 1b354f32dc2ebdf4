/*
 * test_shellwords.c - allocator/launch/shellwords.c: splitting DSM_SSH and
 * DSM_WRAPPER into words like sh does (blanks, single and double quotes,
 * backslashes, empty words, errors for unterminated quotes and a trailing
 * backslash, many and long words), and quoting words so that /bin/sh gives
 * back exactly the words it was handed.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../allocator/launch/shellwords.h"

TestSuite(shellwords, .timeout = 10);

/* s must split into exactly the n words given. */
static void expect_split(const char *s, int n, const char *const *want)
{
	char **words = NULL;
	int got = shellwords_split(s, &words);

	cr_assert_eq(got, n, "split(\"%s\") gave %d words, want %d", s, got, n);
	cr_assert_not_null(words);
	for (int i = 0; i < n; i++) {
		cr_assert_not_null(words[i], "split(\"%s\"): word %d missing", s, i);
		cr_assert_str_eq(words[i], want[i], "split(\"%s\"): word %d", s, i);
	}
	cr_assert_null(words[n], "split(\"%s\"): array not NULL-terminated", s);
	shellwords_free(words);
}

#define SPLIT(s, ...)                                                                      \
	do {                                                                               \
		static const char *const want_[] = {__VA_ARGS__};                          \
		expect_split(s, (int)(sizeof(want_) / sizeof(want_[0])), want_);           \
	} while (0)

static void expect_fail(const char *s)
{
	char **words = NULL;

	cr_assert_eq(shellwords_split(s, &words), -1, "split(\"%s\") should fail", s);
}

Test(shellwords, empty_and_blank_input_has_no_words)
{
	expect_split("", 0, NULL);
	expect_split("   ", 0, NULL);
	expect_split(" \t\n \t", 0, NULL);
}

Test(shellwords, blanks_separate_words)
{
	SPLIT("ssh", "ssh");
	SPLIT("ssh -p 2222 -o BatchMode=yes", "ssh", "-p", "2222", "-o", "BatchMode=yes");
	SPLIT("  a\t\tb\nc  ", "a", "b", "c");
}

Test(shellwords, single_quotes_keep_everything_literal)
{
	SPLIT("'a b' c", "a b", "c");
	SPLIT("'a\\b' '\"x\"' '$HOME'", "a\\b", "\"x\"", "$HOME");
	SPLIT("'tab\there'", "tab\there");
}

Test(shellwords, double_quotes_and_their_escapes)
{
	SPLIT("\"a b\"", "a b");
	/* only \" \\ \$ \` are escapes inside double quotes */
	SPLIT("\"a\\\"b\" \"c\\\\d\" \"\\$x\" \"\\`y\"", "a\"b", "c\\d", "$x", "`y");
	SPLIT("\"\\n\\a\"", "\\n\\a");
	SPLIT("\"it's\"", "it's");
}

Test(shellwords, backslash_outside_quotes_escapes_one_character)
{
	SPLIT("a\\ b", "a b");
	SPLIT("\\'x\\'", "'x'");
	SPLIT("\\\\", "\\");
	SPLIT("\\\"", "\"");
	SPLIT("a\\\tb c", "a\tb", "c");
}

Test(shellwords, adjacent_parts_form_one_word)
{
	SPLIT("a'b c'\"d e\"f\\ g", "ab cd ef g");
	SPLIT("--opt='x y'", "--opt=x y");
}

Test(shellwords, empty_quotes_are_empty_words)
{
	SPLIT("''", "");
	SPLIT("\"\"", "");
	SPLIT("a '' b \"\" c", "a", "", "b", "", "c");
}

Test(shellwords, unterminated_quotes_and_trailing_backslash_fail)
{
	expect_fail("'abc");
	expect_fail("a 'b c");
	expect_fail("\"abc");
	expect_fail("\"abc\\\"");   /* the closing quote is escaped */
	expect_fail("x \"a'b");
	expect_fail("abc\\");
	expect_fail("'a' \\");
}

Test(shellwords, many_words_grow_the_array)
{
	enum { N = 1000 };
	char *s = malloc(N * 8);
	char **words = NULL;
	size_t at = 0;

	cr_assert_not_null(s);
	for (int i = 0; i < N; i++)
		at += (size_t)sprintf(s + at, "%s%d", i ? " " : "", i);
	cr_assert_eq(shellwords_split(s, &words), N);
	for (int i = 0; i < N; i++) {
		char want[16];

		snprintf(want, sizeof(want), "%d", i);
		cr_assert_str_eq(words[i], want, "word %d", i);
	}
	cr_assert_null(words[N]);
	shellwords_free(words);
	free(s);
}

Test(shellwords, one_long_word)
{
	enum { LEN = 100000 };
	char *s = malloc(LEN + 3);
	char **words = NULL;

	cr_assert_not_null(s);
	s[0] = '\'';
	memset(s + 1, 'x', LEN);
	s[LEN + 1] = '\'';
	s[LEN + 2] = '\0';
	cr_assert_eq(shellwords_split(s, &words), 1);
	cr_assert_eq(strlen(words[0]), (size_t)LEN);
	cr_assert_eq(strspn(words[0], "x"), (size_t)LEN);
	shellwords_free(words);
	free(s);
}

Test(shellwords, free_accepts_null)
{
	shellwords_free(NULL);
}

/* ---- quoting ------------------------------------------------------------ */

Test(shellwords, quoting_is_exact)
{
	char *buf = NULL;
	size_t len = 0;

	cr_assert_eq(shellwords_append_quoted(&buf, &len, "plain"), 0);
	cr_assert_str_eq(buf, "'plain'");
	cr_assert_eq(len, strlen(buf));
	cr_assert_eq(shellwords_append_quoted(&buf, &len, "it's"), 0);
	cr_assert_str_eq(buf, "'plain' 'it'\\''s'");
	cr_assert_eq(shellwords_append_quoted(&buf, &len, ""), 0);
	cr_assert_str_eq(buf, "'plain' 'it'\\''s' ''");
	cr_assert_eq(len, strlen(buf));
	free(buf);
}

static const char *const tricky[] = {
	"a b", "it's", "''", "\"", "$HOME", "`id`", "$(id)", "*", "?", "~", "\\", "a\nb",
	"\t", "", ";", "&&", "|", ">x", "#c", "-n", "'\\''",
};
#define NTRICKY (sizeof(tricky) / sizeof(tricky[0]))

Test(shellwords, quoted_words_split_back_to_themselves)
{
	char *buf = NULL;
	size_t len = 0;
	char **words = NULL;

	for (size_t i = 0; i < NTRICKY; i++)
		cr_assert_eq(shellwords_append_quoted(&buf, &len, tricky[i]), 0);
	cr_assert_eq(shellwords_split(buf, &words), (int)NTRICKY, "from: %s", buf);
	for (size_t i = 0; i < NTRICKY; i++)
		cr_assert_str_eq(words[i], tricky[i], "word %zu", i);
	shellwords_free(words);
	free(buf);
}

/* What ssh's remote shell does with the quoted line: every word unchanged. */
Test(shellwords, sh_gives_back_the_quoted_words)
{
	char *buf = NULL, *cmd = NULL;
	size_t len = 0;
	char out[4096];
	size_t n;
	FILE *p;

	cr_assert_eq(shellwords_append_quoted(&buf, &len, "printf"), 0);
	cr_assert_eq(shellwords_append_quoted(&buf, &len, "[%s]"), 0);
	for (size_t i = 0; i < NTRICKY; i++)
		cr_assert_eq(shellwords_append_quoted(&buf, &len, tricky[i]), 0);
	/* the line itself quoted once more for popen's own sh -c */
	len = 0;
	cr_assert_eq(shellwords_append_quoted(&cmd, &len, "sh"), 0);
	cr_assert_eq(shellwords_append_quoted(&cmd, &len, "-c"), 0);
	cr_assert_eq(shellwords_append_quoted(&cmd, &len, buf), 0);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	cr_assert_eq(pclose(p), 0);

	char want[4096];
	size_t at = 0;

	for (size_t i = 0; i < NTRICKY; i++)
		at += (size_t)snprintf(want + at, sizeof(want) - at, "[%s]", tricky[i]);
	cr_assert_str_eq(out, want);
	free(buf);
	free(cmd);
}
