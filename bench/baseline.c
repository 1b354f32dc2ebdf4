/*
 * baseline.c - what the hardware allows, measured the way dsm would use it,
 * so fault costs can be read as ratios taken in the same run:
 *  - a raw round trip between two processes over TCP loopback with
 *    TCP_NODELAY (dsm's transport): a 16-byte request answered by a 4 KiB +
 *    24-byte-header reply, and a 16-byte request answered by 16 bytes;
 *  - a SIGSEGV whose handler makes the page accessible with one mprotect;
 *  - a 4 KiB memcpy.
 * No dsm involved. Usage: baseline [ITERATIONS]
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

static int tcp_pair(int *client, pid_t *server, size_t reply)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int one = 1, lfd = socket(AF_INET, SOCK_STREAM, 0);

	if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(lfd, 1) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&a, &len) < 0)
		die("listen");
	*server = fork();
	if (*server < 0)
		die("fork");
	if (*server == 0) {
		static uint8_t buf[HEADER + PAGE];
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0)
			die("accept");
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
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
	setsockopt(*client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return 0;
}

static void round_trips(const char *name, size_t reply, int iters)
{
	static uint8_t buf[HEADER + PAGE];
	double *s = malloc(sizeof(double) * (size_t)iters);
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
	close(fd);
	waitpid(server, NULL, 0);
	report_samples(name, s, (size_t)iters);
	free(s);
}

static volatile uint8_t *segv_page;

static void on_segv(int sig, siginfo_t *si, void *ctx)
{
	(void)sig, (void)si, (void)ctx;
	mprotect((void *)segv_page, PAGE, PROT_READ | PROT_WRITE);
}

static void segv_cost(int iters)
{
	struct sigaction sa;
	double *s = malloc(sizeof(double) * (size_t)iters);

	segv_page = mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (segv_page == MAP_FAILED)
		die("mmap");
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGSEGV, &sa, NULL);
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
	double *s = malloc(sizeof(double) * (size_t)iters);

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
	int iters = argc > 1 ? atoi(argv[1]) : 5000;

	if (iters < 10)
		iters = 10;
	round_trips("rtt_4k", HEADER + PAGE, iters);
	round_trips("rtt_16", 16, iters);
	segv_cost(iters);
	memcpy_cost(iters);
	return 0;
}
