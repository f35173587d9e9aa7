/* The acceptor thread: accept, refuse banned addresses, enqueue on a pool or the rejection path. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "acceptor.h"
#include "err.h"
#include "log.h"
#include "msg.h"
#include "thr.h"

struct acceptor {
	char name[32];
	pthread_t thread;
	int fd;
	int stop;			/* atomic */
	struct pool *pool;
	struct pool *reject;
	struct authfail *af;
	uint64_t accepted, banned, rejected, dropped;	/* atomic */
};

/* Open a listening socket on BIND:PORT. */
int
acceptor_listen(const char *bind_addr, uint16_t port, int *fd,
    uint16_t *bound_port, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t sslen;
	int s = -1, one = 1;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, bind_addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		sslen = sizeof(*sin);
	} else if (inet_pton(AF_INET6, bind_addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		sslen = sizeof(*sin6);
	} else {
		snprintf(err, errlen, "bind address '%s' is not an IP address",
		    bind_addr);
		return TR_EINVAL;
	}
	/* Non-blocking: a peer gone between poll and accept never blocks us. */
	s = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s < 0)
		goto fail;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s, (struct sockaddr *)&ss, sslen) != 0 || listen(s, 128) != 0)
		goto fail;
	if (bound_port != NULL) {
		sslen = sizeof(ss);
		if (getsockname(s, (struct sockaddr *)&ss, &sslen) != 0)
			goto fail;
		*bound_port = ntohs(ss.ss_family == AF_INET ? sin->sin_port :
		    sin6->sin6_port);
	}
	*fd = s;
	return 0;
fail:
	snprintf(err, errlen, "cannot listen on %s port %u: %s", bind_addr,
	    (unsigned)port, strerror(errno));
	if (s >= 0)
		close(s);
	return TR_ESYS;
}

/* Fill ITEM's printable peer address. */
static void
acceptor_name_peer(struct pool_item *item)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (item->addr.ss_family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&item->addr;

		inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
		port = ntohs(sin->sin_port);
	} else if (item->addr.ss_family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&item->addr;

		inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip));
		port = ntohs(sin6->sin6_port);
	}
	snprintf(item->ip, sizeof(item->ip), "%s", ip);
	if (item->addr.ss_family == AF_INET6)
		snprintf(item->peer, sizeof(item->peer), "[%s]:%u", ip, port);
	else
		snprintf(item->peer, sizeof(item->peer), "%s:%u", ip, port);
}

/* Accept until stopped; never blocks on a peer. */
static void *
acceptor_main(void *arg)
{
	struct acceptor *a = arg;
	struct pollfd pfd = { .fd = a->fd, .events = POLLIN };

	while (!__atomic_load_n(&a->stop, __ATOMIC_ACQUIRE)) {
		struct pool_item item;
		int fd;

		if (poll(&pfd, 1, 200) <= 0)
			continue;
		memset(&item, 0, sizeof(item));
		item.addrlen = sizeof(item.addr);
		fd = accept4(a->fd, (struct sockaddr *)&item.addr,
		    &item.addrlen, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE) {
				log_warn("%s: out of file descriptors", a->name);
				usleep(100000);
			}
			continue;
		}
		item.fd = fd;
		item.accepted_ms = thr_mono_ms();
		acceptor_name_peer(&item);
		__atomic_add_fetch(&a->accepted, 1, __ATOMIC_RELAXED);
		if (a->af != NULL && authfail_banned(a->af, item.ip,
		    msg_now_ms())) {
			__atomic_add_fetch(&a->banned, 1, __ATOMIC_RELAXED);
			log_info("connection from %s refused: address banned "
			    "after failed logins", item.peer);
			close(fd);
			continue;
		}
		if (pool_submit(a->pool, &item) == 0)
			continue;
		/*
		 * Counted before the hand-off: once submitted, the rejection
		 * path may finish with the socket before this thread runs on,
		 * and whoever reads the counters must already see it.
		 */
		__atomic_add_fetch(&a->rejected, 1, __ATOMIC_RELAXED);
		if (a->reject != NULL && pool_submit(a->reject, &item) == 0) {
			log_info("connection from %s: workers saturated, "
			    "answering BUSY", item.peer);
			continue;
		}
		__atomic_sub_fetch(&a->rejected, 1, __ATOMIC_RELAXED);
		__atomic_add_fetch(&a->dropped, 1, __ATOMIC_RELAXED);
		log_warn("connection from %s dropped: workers and rejection "
		    "path saturated", item.peer);
		close(fd);
	}
	return NULL;
}

/* Start the acceptor thread NAME on LISTEN_FD. */
struct acceptor *
acceptor_start(const char *name, int listen_fd, struct pool *pool,
    struct pool *reject, struct authfail *af)
{
	struct acceptor *a = calloc(1, sizeof(*a));

	if (a == NULL) {
		close(listen_fd);
		return NULL;
	}
	snprintf(a->name, sizeof(a->name), "%s", name);
	a->fd = listen_fd;
	a->pool = pool;
	a->reject = reject;
	a->af = af;
	if (thr_create(&a->thread, name, acceptor_main, a) != 0) {
		close(listen_fd);
		free(a);
		return NULL;
	}
	return a;
}

/* Stop accepting and join. */
void
acceptor_stop(struct acceptor *a)
{
	if (a == NULL)
		return;
	__atomic_store_n(&a->stop, 1, __ATOMIC_RELEASE);
	pthread_join(a->thread, NULL);
	close(a->fd);
	free(a);
}

/* Counters since start. */
void
acceptor_stats(struct acceptor *a, uint64_t *accepted, uint64_t *banned,
    uint64_t *rejected_busy, uint64_t *dropped)
{
	*accepted = __atomic_load_n(&a->accepted, __ATOMIC_RELAXED);
	*banned = __atomic_load_n(&a->banned, __ATOMIC_RELAXED);
	*rejected_busy = __atomic_load_n(&a->rejected, __ATOMIC_RELAXED);
	*dropped = __atomic_load_n(&a->dropped, __ATOMIC_RELAXED);
}
