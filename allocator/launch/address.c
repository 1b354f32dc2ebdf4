/*
 * address.c - choosing the allocator's address (see launch.h).
 */
#include "launch.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hostfile.h"

static int resolve4(const char *host, struct in_addr *out)
{
	struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM};
	struct addrinfo *res;

	if (getaddrinfo(host, NULL, &hints, &res) != 0)
		return -1;
	*out = ((struct sockaddr_in *)res->ai_addr)->sin_addr;
	freeaddrinfo(res);
	return 0;
}

static int is_loopback(struct in_addr a)
{
	return (ntohl(a.s_addr) >> 24) == 127;
}

/* The local address the kernel would use to reach `to` (no packet is sent). */
static int route_source(struct in_addr to, struct in_addr *from)
{
	struct sockaddr_in peer = {.sin_family = AF_INET, .sin_port = htons(9), .sin_addr = to};
	struct sockaddr_in self;
	socklen_t len = sizeof(self);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = -1;

	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&peer, sizeof(peer)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&self, &len) == 0) {
		*from = self.sin_addr;
		rc = 0;
	}
	close(fd);
	return rc;
}

/* Can this machine bind that address? */
static int is_own_address(struct in_addr a)
{
	struct sockaddr_in s = {.sin_family = AF_INET, .sin_addr = a};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), ok;

	if (fd < 0)
		return 0;
	ok = bind(fd, (struct sockaddr *)&s, sizeof(s)) == 0;
	close(fd);
	return ok;
}

int address_choose(const struct hostlist *hosts, uint32_t nnodes, const char *requested,
		   struct job_address *out, char *err, size_t errlen)
{
	struct in_addr a, first_remote = {0};
	int have_remote = 0, all_loopback = 1;

	if (requested) {
		if (resolve4(requested, &a) < 0) {
			snprintf(err, errlen, "-A %s: cannot resolve that address", requested);
			return -1;
		}
		snprintf(out->connect_host, sizeof(out->connect_host), "%s", inet_ntoa(a));
		out->listen_on.s_addr = is_own_address(a) ? a.s_addr : htonl(INADDR_ANY);
		return 0;
	}
	for (uint32_t i = 0; i < nnodes; i++) {
		const char *h = hostlist_place(hosts, i);

		if (host_is_local(h))
			continue;
		if (resolve4(h, &a) < 0)
			continue; /* ssh will report it by name */
		if (!is_loopback(a)) {
			all_loopback = 0;
			if (!have_remote) {
				first_remote = a;
				have_remote = 1;
			}
		}
	}
	if (all_loopback) {
		out->listen_on.s_addr = htonl(INADDR_LOOPBACK);
		snprintf(out->connect_host, sizeof(out->connect_host), "127.0.0.1");
		return 0;
	}
	out->listen_on.s_addr = htonl(INADDR_ANY);
	if (route_source(first_remote, &a) < 0) {
		snprintf(err, errlen, "cannot find this machine's address towards %s (use -A ADDR)",
			 inet_ntoa(first_remote));
		return -1;
	}
	snprintf(out->connect_host, sizeof(out->connect_host), "%s", inet_ntoa(a));
	return 0;
}

int address_listen(const struct job_address *a, unsigned *port)
{
	struct sockaddr_in s = {.sin_family = AF_INET, .sin_addr = a->listen_on};
	socklen_t len = sizeof(s);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&s, sizeof(s)) < 0 || listen(fd, 1024) < 0 ||
	    getsockname(fd, (struct sockaddr *)&s, &len) < 0) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	*port = ntohs(s.sin_port);
	return fd;
}
