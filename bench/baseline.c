/*
 * baseline.c - what the hardware allows, measured the way dsm would use it,
 * so fault costs can be read as ratios taken in the same run:
 *  - a raw round trip between two processes over TCP loopback with
 *    TCP_NODELAY (dsm's transport): a 16-byte request answered by a 4 KiB +
 *    24-byte-header reply, and a 16-byte request answered by 16 bytes;
 *  - the bandwidth of the same pattern with replies of 4, 16, 64 and 256 KiB
 *    (+ header): tcp_bw_SIZE, the round trip's distribution and the MB/s of
 *    its median, to set beside dsm's remote reads (bench/remote.c);
 *  - a SIGSEGV whose handler makes the page accessible with one mprotect;
 *  - a 4 KiB memcpy.
 * No dsm involved. Usage: baseline [ITERATIONS [BW_MIB]]: ITERATIONS samples
 * of each latency, BW_MIB MiB of replies (at least 20) for each bandwidth.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "stats.h"

#define PAGE 4096
#define HEADER 24
#define MAX_REPLY (HEADER + 256 * 1024)

static void die(const char *what)
{
	fprintf(stderr, "baseline: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void full(int fd, void *buf, size_t len, int writing)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = writing ? write(fd, p, len) : read(fd, p, len);

		if (n <= 0)
			die(writing ? "write" : "read");
		p += n;
		len -= (size_t)n;
	}
}

static void nodelay(int fd)
{
	int one = 1;

	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
		die("setsockopt(TCP_NODELAY)");
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n);

	if (!p)
		die("malloc");
	return p;
}

static int tcp_pair(int *client, pid_t *server, size_t reply)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int lfd = socket(AF_INET, SOCK_STREAM, 0);

	if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(lfd, 1) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&a, &len) < 0)
		die("listen");
	*server = fork();
	if (*server < 0)
		die("fork");
	if (*server == 0) {
		static uint8_t buf[MAX_REPLY];
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0)
			die("accept");
		nodelay(fd);
		for (;;) {
			uint8_t req[16];
			ssize_t n = read(fd, req, sizeof(req));

			if (n <= 0)
				_exit(0);
			if (n < 16)
				full(fd, req + n, 16 - (size_t)n, 0);
			full(fd, buf, reply, 1);
		}
	}
	close(lfd);
	*client = socket(AF_INET, SOCK_STREAM, 0);
	if (*client < 0 || connect(*client, (struct sockaddr *)&a, sizeof(a)) < 0)
		die("connect");
	nodelay(*client);
	return 0;
}

/* payload > 0: also report the bandwidth of the median (payload bytes per trip) */
static void round_trips(const char *name, size_t reply, int iters, size_t payload)
{
	static uint8_t buf[MAX_REPLY];
	double *s = xmalloc(sizeof(double) * (size_t)iters);
	int fd;
	pid_t server;

	tcp_pair(&fd, &server, reply);
	for (int i = -100; i < iters; i++) {
		uint8_t req[16] = {0};
		double t0 = now_us();

		full(fd, req, sizeof(req), 1);
		full(fd, buf, reply, 0);
		if (i >= 0)
			s[i] = now_us() - t0;
	}
	if (close(fd) < 0 || waitpid(server, NULL, 0) < 0)
		die("close");
	report_bandwidth(name, s, (size_t)iters, (double)payload);
	free(s);
}

static volatile uint8_t *segv_page;

static void on_segv(int sig, siginfo_t *si, void *ctx)
{
	(void)sig, (void)si, (void)ctx;
	if (mprotect((void *)segv_page, PAGE, PROT_READ | PROT_WRITE) < 0)
		_exit(1); /* else the access would fault again forever */
}

static void segv_cost(int iters)
{
	struct sigaction sa;
	double *s = xmalloc(sizeof(double) * (size_t)iters);

	segv_page = mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (segv_page == MAP_FAILED)
		die("mmap");
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO;
	if (sigaction(SIGSEGV, &sa, NULL) < 0)
		die("sigaction");
	for (int i = -100; i < iters; i++) {
		double t0;

		if (mprotect((void *)segv_page, PAGE, PROT_NONE) < 0)
			die("mprotect");
		t0 = now_us();
		segv_page[0] = (uint8_t)i; /* faults, the handler opens the page */
		if (i >= 0)
			s[i] = now_us() - t0;
	}
	report_samples("segv_mprotect", s, (size_t)iters);
	free(s);
}

static void memcpy_cost(int iters)
{
	static uint8_t a[PAGE], b[PAGE];
	double *s = xmalloc(sizeof(double) * (size_t)iters);

	for (int i = 0; i < iters; i++) {
		double t0 = now_us();

		memcpy(a, b, PAGE);
		__asm__ volatile("" ::"r"(a) : "memory");
		s[i] = now_us() - t0;
		b[i % PAGE] = (uint8_t)i;
	}
	report_samples("memcpy_4k", s, (size_t)iters);
	free(s);
}

int main(int argc, char **argv)
{
	static const size_t kib[] = {4, 16, 64, 256};
	int iters = argc > 1 ? atoi(argv[1]) : 5000;
	size_t bw = (size_t)(argc > 2 ? atol(argv[2]) : 32) << 20;

	if (iters < 10)
		iters = 10;
	round_trips("rtt_4k", HEADER + PAGE, iters, 0);
	round_trips("rtt_16", 16, iters, 0);
	for (size_t i = 0; i < sizeof(kib) / sizeof(kib[0]); i++) {
		size_t size = kib[i] * 1024, trips = bw / size;
		char name[32];

		snprintf(name, sizeof(name), "tcp_bw_%zuk", kib[i]);
		round_trips(name, HEADER + size, trips < 20 ? 20 : (int)trips, size);
	}
	segv_cost(iters);
	memcpy_cost(iters);
	return 0;
}
