/*
 * hostfile.c - parsing of hosts files and placement of nodes on hosts.
 */
#include "hostfile.h"

#include <bsd/stdlib.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Host names go on an ssh command line: allow only what names and addresses use. */
static int valid_host(const char *h)
{
	if (!*h || *h == '-' || strlen(h) >= HOST_NAME_LEN)
		return 0;
	for (; *h; h++)
		if (!isalnum((unsigned char)*h) && !strchr(".-_:@[]", *h))
			return 0;
	return 1;
}

int hostfile_parse(const char *text, const char *origin, struct hostlist *out, char *err,
		   size_t errlen)
{
	size_t cap = 0, lineno = 0;
	const char *line = text;

	out->hosts = NULL;
	out->count = 0;
	while (line && *line) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		char buf[1024], *tok, *save, *hash;

		lineno++;
		if (len >= sizeof(buf)) {
			snprintf(err, errlen, "%s:%zu: line too long", origin, lineno);
			goto fail;
		}
		memcpy(buf, line, len);
		buf[len] = '\0';
		line = nl ? nl + 1 : NULL;
		if ((hash = strchr(buf, '#')))
			*hash = '\0';
		tok = strtok_r(buf, " \t\r", &save);
		if (!tok)
			continue;
		if (!valid_host(tok)) {
			snprintf(err, errlen, "%s:%zu: '%s' is not a host name", origin, lineno, tok);
			goto fail;
		}
		if (out->count == cap) {
			struct host *n = reallocarray(out->hosts, cap ? cap * 2 : 8, sizeof(*n));

			if (!n) {
				snprintf(err, errlen, "%s: out of memory", origin);
				goto fail;
			}
			out->hosts = n;
			cap = cap ? cap * 2 : 8;
		}
		struct host *h = &out->hosts[out->count];

		snprintf(h->name, sizeof(h->name), "%s", tok);
		h->slots = 1;
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
		out->count++;
	}
	return 0;
fail:
	hostlist_free(out);
	return -1;
}

int hostfile_load(const char *path, struct hostlist *out, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *text = NULL;
	size_t len = 0;
	int rc;

	out->hosts = NULL;
	out->count = 0;
	if (!f) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	FILE *mem = open_memstream(&text, &len);
	char chunk[4096];
	size_t n;

	if (!mem) {
		snprintf(err, errlen, "open_memstream: %s", strerror(errno));
		fclose(f);
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		fwrite(chunk, 1, n, mem);
	rc = ferror(f) ? -1 : 0;
	fclose(f);
	fclose(mem);
	if (rc < 0) {
		snprintf(err, errlen, "%s: read error", path);
		free(text);
		return -1;
	}
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
