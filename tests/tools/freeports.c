/* freeports: print N distinct loopback port numbers free for both TCP and UDP right now. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_PORTS 16

/* Bind a socket of TYPE to 127.0.0.1:PORT (0 = any); returns the fd or -1. */
static int
bind_port(int type, unsigned short *port)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, type, 0);

	if (fd < 0)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(*port);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) != 0) {
		close(fd);
		return -1;
	}
	*port = ntohs(sin.sin_port);
	return fd;
}

int
main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 1, fds[2 * MAX_PORTS], got = 0;
	unsigned short ports[MAX_PORTS];

	if (n < 1 || n > MAX_PORTS) {
		fprintf(stderr, "usage: freeports [1-%d]\n", MAX_PORTS);
		return 2;
	}
	/* Keep every socket open until all are chosen, so they differ. */
	for (int tries = 0; got < n && tries < 100; tries++) {
		unsigned short port = 0;
		int t = bind_port(SOCK_STREAM, &port), u;

		if (t < 0)
			continue;
		u = bind_port(SOCK_DGRAM, &port);
		if (u < 0) {
			close(t);
			continue;
		}
		fds[2 * got] = t;
		fds[2 * got + 1] = u;
		ports[got++] = port;
	}
	for (int i = 0; i < got; i++) {
		printf("%s%u", i > 0 ? " " : "", ports[i]);
		close(fds[2 * i]);
		close(fds[2 * i + 1]);
	}
	printf("\n");
	return got == n ? 0 : 1;
}
