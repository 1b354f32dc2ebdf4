/*
 * address.h - where the allocator listens and which address the nodes are
 * told to connect to. With -A ADDR, that address. Otherwise loopback when
 * every host is this machine or a loopback address (127.0.0.0/8), else this
 * machine's address on the route to the first remote host, listening on all
 * interfaces (the job secret keeps strangers out). IPv4. Ports are always
 * chosen by the kernel.
 */
#ifndef DSM_ADDRESS_H
#define DSM_ADDRESS_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "hostfile.h"

struct job_address {
	struct in_addr listen_on;
	char connect_host[HOST_NAME_LEN];
};

/* 0, or -1 with a message in err. */
int address_choose(const struct hostlist *hosts, uint32_t nnodes, const char *requested,
		   struct job_address *out, char *err, size_t errlen);

/* Listen on out->listen_on with a kernel-chosen port; the fd, or -1 with errno. */
int address_listen(const struct job_address *a, unsigned *port);

#endif /* DSM_ADDRESS_H */
