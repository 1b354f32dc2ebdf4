/*
 * hostfile.c - parsing of hosts files and placement of nodes on hosts, and
 * what clusterhosts.c shares with it: host-name checks, growing a host
 * list, walking lines, reading a whole file.
 */
#include "hostfile.h"

#include <bsd/stdlib.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int host_name_valid(const char *h, size_t len, int brackets)
{
	if (len == 0 || len >= HOST_NAME_LEN || h[0] == '-')
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)h[i]) && !strchr(brackets ? ".-_:@[]" : ".-_:@", h[i]))
			return 0;
	return 1;
}

struct host *hostlist_append(struct hostlist *l, size_t *cap, const char *name, size_t len)
{
	if (l->count == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		struct host *n = reallocarray(l->hosts, ncap, sizeof(*n));

		if (!n)
			return NULL;
		l->hosts = n;
		*cap = ncap;
	}
	snprintf(l->hosts[l->count].name, HOST_NAME_LEN, "%.*s", (int)len, name);
	l->hosts[l->count].slots = 1;
	return &l->hosts[l->count++];
}

int text_next_line(const char **text, const char **line, size_t *len)
{
	const char *nl;

	if (!*text || !**text)
		return 0;
	nl = strchr(*text, '\n');
	*line = *text;
	*len = nl ? (size_t)(nl - *text) : strlen(*text);
	*text = nl ? nl + 1 : NULL;
	return 1;
}

char *read_text_file(const char *path, size_t *lenp)
{
	FILE *f = fopen(path, "r");
	char *text = NULL;
	size_t len = 0, cap = 0, n;

	if (!f)
		return NULL;
	errno = 0;
	do {
		if (cap - len < 4097) {
			char *t = realloc(text, cap ? cap * 2 : 8192);

			if (!t) {
				free(text);
				fclose(f);
				errno = ENOMEM;
				return NULL;
			}
			text = t;
			cap = cap ? cap * 2 : 8192;
		}
		n = fread(text + len, 1, 4096, f);
		len += n;
	} while (n > 0);
	if (ferror(f)) {
		int e = errno ? errno : EIO; /* e.g. EISDIR */

		free(text);
		fclose(f);
		errno = e;
		return NULL;
	}
	fclose(f);
	text[len] = '\0';
	*lenp = len;
	return text;
}

int text_check_nul(const char *text, size_t len, const char *origin, char *err, size_t errlen)
{
	const char *nul = memchr(text, '\0', len);
	size_t lineno = 1;

	if (!nul)
		return 0;
	for (const char *p = text; p < nul; p++)
		lineno += *p == '\n';
	snprintf(err, errlen, "%s:%zu: a NUL byte; the file must be text", origin, lineno);
	return -1;
}

int hostfile_parse(const char *text, const char *origin, struct hostlist *out, char *err,
		   size_t errlen)
{
	size_t cap = 0, lineno = 0, len;
	const char *line;

	out->hosts = NULL;
	out->count = 0;
	while (text_next_line(&text, &line, &len)) {
		char buf[1024], *tok, *save, *hash;
		struct host *h;

		lineno++;
		if (len >= sizeof(buf)) {
			snprintf(err, errlen, "%s:%zu: line too long", origin, lineno);
			goto fail;
		}
		memcpy(buf, line, len);
		buf[len] = '\0';
		if ((hash = strchr(buf, '#')))
			*hash = '\0';
		tok = strtok_r(buf, " \t\r", &save);
		if (!tok)
			continue;
		if (!host_name_valid(tok, strlen(tok), 1)) {
			snprintf(err, errlen, "%s:%zu: '%s' is not a host name", origin, lineno, tok);
			goto fail;
		}
		if (!(h = hostlist_append(out, &cap, tok, strlen(tok)))) {
			snprintf(err, errlen, "%s: out of memory", origin);
			goto fail;
		}
		while ((tok = strtok_r(NULL, " \t\r", &save))) {
			const char *errstr;

			if (strncmp(tok, "slots=", 6) != 0) {
				snprintf(err, errlen, "%s:%zu: unexpected '%s' (expected slots=N)",
					 origin, lineno, tok);
				goto fail;
			}
			h->slots = (uint32_t)strtonum(tok + 6, 1, 1 << 20, &errstr);
			if (errstr) {
				snprintf(err, errlen, "%s:%zu: slots must be a positive number, not '%s'",
					 origin, lineno, tok + 6);
				goto fail;
			}
		}
	}
	return 0;
fail:
	hostlist_free(out);
	return -1;
}

int hostfile_load(const char *path, struct hostlist *out, char *err, size_t errlen)
{
	size_t len;
	char *text = read_text_file(path, &len);
	int rc;

	out->hosts = NULL;
	out->count = 0;
	if (!text) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	rc = text_check_nul(text, len, path, err, errlen);
	if (rc == 0)
		rc = hostfile_parse(text, path, out, err, errlen);
	free(text);
	return rc;
}

void hostlist_free(struct hostlist *l)
{
	free(l->hosts);
	l->hosts = NULL;
	l->count = 0;
}

const char *hostlist_place(const struct hostlist *l, uint32_t node)
{
	uint64_t total = 0, at;

	if (l->count == 0)
		return "localhost";
	for (size_t i = 0; i < l->count; i++)
		total += l->hosts[i].slots;
	at = node % total;
	for (size_t i = 0; i < l->count; i++) {
		if (at < l->hosts[i].slots)
			return l->hosts[i].name;
		at -= l->hosts[i].slots;
	}
	return l->hosts[0].name; /* not reached */
}

int host_is_local(const char *name)
{
	char self[HOST_NAME_LEN];

	if (!strcmp(name, "localhost") || !strcmp(name, "127.0.0.1") || !strcmp(name, "::1"))
		return 1;
	if (gethostname(self, sizeof(self)) == 0) {
		self[sizeof(self) - 1] = '\0';
		if (!strcmp(name, self))
			return 1;
	}
	return 0;
}
