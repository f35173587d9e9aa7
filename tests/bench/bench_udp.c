/*
 * bench_udp: how many valid signed node heartbeats the hub's discovery
 * thread absorbs per second, beside the rate a bare recvfrom loop reaches
 * with the same sender in the same run; and the discovery round trip
 * (p50, p99) beside a bare UDP echo's.  Prints figures; never fails on
 * a time.  Usage: bench_udp [HEARTBEATS] [ROUND_TRIPS]
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conf.h"
#include "discovery.h"
#include "err.h"
#include "hub.h"
#include "kdf.h"
#include "log.h"
#include "msg.h"
#include "registry.h"

/* One prepared datagram. */
struct dgram {
	char *buf;
	size_t len;
};

/* The sender's job: every datagram once, as fast as the socket takes them. */
struct sender {
	struct dgram *d;
	size_t n;
	uint16_t port;
};

/* Exit with a message. */
static void __attribute__((noreturn))
fail(const char *what)
{
	fprintf(stderr, "bench_udp: %s\n", what);
	exit(1);
}

/* A UDP socket bound to 127.0.0.1:0; *PORT gets its port. */
static int
udp_bound(uint16_t *port)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_DGRAM, 0), big = 1 << 20;

	if (fd < 0)
		fail("socket");
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) != 0)
		fail("bind");
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	*port = ntohs(sin.sin_port);
	return fd;
}

/* 127.0.0.1:PORT. */
static struct sockaddr_in
loopback(uint16_t port)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(port);
	return sin;
}

/* Send every datagram of the job to 127.0.0.1:port. */
static void *
send_all(void *arg)
{
	struct sender *s = arg;
	struct sockaddr_in to = loopback(s->port);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	for (size_t i = 0; i < s->n; i++)
		while (sendto(fd, s->d[i].buf, s->d[i].len, 0,
		    (struct sockaddr *)&to, sizeof(to)) < 0 && errno == ENOBUFS)
			;
	close(fd);
	return NULL;
}

/* Microseconds of a monotonic clock. */
static long long
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Bare loop: receive the job's datagrams; datagrams per second while they arrived. */
static double
bare_rate(struct dgram *d, size_t n, size_t *got)
{
	char buf[TR_UDP_MAX + 1];
	struct sender s;
	pthread_t t;
	uint16_t port;
	long long first = 0, last = 0;
	int fd = udp_bound(&port);

	s.d = d;
	s.n = n;
	s.port = port;
	*got = 0;
	pthread_create(&t, NULL, send_all, &s);
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, 300) <= 0)
			break;
		if (recvfrom(fd, buf, sizeof(buf), MSG_TRUNC, NULL, NULL) < 0)
			continue;
		last = now_us();
		if ((*got)++ == 0)
			first = last;
	}
	pthread_join(t, NULL);
	close(fd);
	return last > first ? (double)(*got - 1) * 1e6 / (double)(last - first)
	    : 0;
}

/* Hub: send the job to the discovery thread; heartbeats absorbed per second. */
static double
hub_rate(struct discovery *disc, uint16_t port, struct dgram *d, size_t n,
    size_t *got)
{
	struct disc_stats st;
	struct sender s;
	pthread_t t;
	uint64_t base, seen, prev;
	long long start, last;

	discovery_stats(disc, &st);
	base = prev = st.heartbeats;
	s.d = d;
	s.n = n;
	s.port = port;
	start = last = now_us();
	pthread_create(&t, NULL, send_all, &s);
	for (;;) {
		usleep(2000);
		discovery_stats(disc, &st);
		seen = st.heartbeats;
		if (seen != prev) {
			prev = seen;
			last = now_us();
		} else if (now_us() - last > 300000)
			break;
	}
	pthread_join(t, NULL);
	*got = (size_t)(prev - base);
	return last > start ? (double)*got * 1e6 / (double)(last - start) : 0;
}

/* N heartbeats of session S signed with its heartbeat key; adds their bytes to *TOTAL. */
static struct dgram *
prepare(const struct reg_session *s, size_t n, size_t *total)
{
	struct dgram *d = calloc(n, sizeof(*d));

	if (d == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		json_object *p = json_object_new_object(), *env;
		char buf[TR_UDP_MAX];

		json_object_object_add(p, "role", json_object_new_string("node"));
		json_object_object_add(p, "session_id",
		    json_object_new_string(s->session_id));
		json_object_object_add(p, "seq",
		    json_object_new_int64((int64_t)i + 1));
		json_object_object_add(p, "state", json_object_new_string("idle"));
		json_object_object_add(p, "cursor",
		    json_object_new_int64(123456));
		json_object_object_add(p, "pending", json_object_new_int64(0));
		json_object_object_add(p, "last_error", NULL);
		json_object_object_add(p, "disk_free",
		    json_object_new_int64(INT64_C(50000000000)));
		env = msg_new(TR_MSG_HEARTBEAT, "bench-node", NULL, NULL, p);
		if (env == NULL || msg_encode_udp(env, s->hb_key, buf,
		    &d[i].len) != 0 || (d[i].buf = malloc(d[i].len)) == NULL)
			fail("encode");
		memcpy(d[i].buf, buf, d[i].len);
		*total += d[i].len;
		json_object_put(env);
	}
	return d;
}

/* Compare two longs for qsort. */
static int
cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

/* Round trips of ROUNDS signed DISCOVERY_BROADCASTs to PORT; sorted times in RTT. */
static void
discovery_rtts(struct hub *hub, uint16_t port, long long *rtt, int rounds)
{
	struct sockaddr_in to = loopback(port);
	char buf[TR_UDP_MAX + 1], out[TR_UDP_MAX];
	uint16_t mine;
	int fd = udp_bound(&mine);

	for (int i = 0; i < rounds; i++) {
		json_object *p = json_object_new_object(), *env;
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		size_t len;
		long long t0;

		json_object_object_add(p, "site_id",
		    json_object_new_string(hub->keys.site_id));
		env = msg_new(TR_MSG_DISCOVERY_BROADCAST, "bench-node", NULL,
		    NULL, p);
		if (msg_encode_udp(env, hub->keys.site_key, out, &len) != 0)
			fail("encode");
		json_object_put(env);
		t0 = now_us();
		sendto(fd, out, len, 0, (struct sockaddr *)&to, sizeof(to));
		if (poll(&pf, 1, 1000) <= 0)
			fail("no discovery answer");
		recv(fd, buf, sizeof(buf), 0);
		rtt[i] = now_us() - t0;
	}
	close(fd);
	qsort(rtt, (size_t)rounds, sizeof(*rtt), cmp_ll);
}

/* A bare echo thread: bounce every datagram back. */
static void *
echo_main(void *arg)
{
	int fd = *(int *)arg;
	char buf[TR_UDP_MAX + 1];
	struct sockaddr_in from;
	socklen_t flen;
	ssize_t n;

	for (;;) {
		flen = sizeof(from);
		n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from,
		    &flen);
		if (n == 1 && buf[0] == 'Q')
			break;
		if (n > 0)
			sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from,
			    flen);
	}
	return NULL;
}

/* Round trips of ROUNDS datagrams of LEN bytes through a bare echo; sorted. */
static void
echo_rtts(long long *rtt, int rounds, size_t len)
{
	char buf[TR_UDP_MAX + 1];
	uint16_t eport, mine;
	int efd = udp_bound(&eport), fd = udp_bound(&mine);
	struct sockaddr_in to = loopback(eport);
	pthread_t t;

	memset(buf, 'x', sizeof(buf));
	pthread_create(&t, NULL, echo_main, &efd);
	for (int i = 0; i < rounds; i++) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		long long t0 = now_us();

		sendto(fd, buf, len, 0, (struct sockaddr *)&to, sizeof(to));
		if (poll(&pf, 1, 1000) <= 0)
			fail("no echo");
		recv(fd, buf, sizeof(buf), 0);
		rtt[i] = now_us() - t0;
	}
	sendto(fd, "Q", 1, 0, (struct sockaddr *)&to, sizeof(to));
	pthread_join(t, NULL);
	close(fd);
	close(efd);
}

/* Run both measurements. */
int
main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 300000;
	int rounds = argc > 2 ? atoi(argv[2]) : 2000;
	struct hub hub;
	struct reg_session sess, sess2;
	struct discovery *disc;
	struct dgram *d, *d2;
	double inproc;
	uint8_t root[TR_KEY_LEN];
	static const char roles[][CONF_ROLE_MAX + 1] = { "child" };
	char err[256];
	size_t bare_got, hub_got, total = 0;
	double bare, rate;
	long long *rtt, *ertt;

	if (n < 1000 || rounds < 100)
		fail("usage: bench_udp [HEARTBEATS >= 1000] [ROUND_TRIPS >= 100]");
	log_init("bench_udp", LOG_LEVEL_ERROR, 0);
	memset(&hub, 0, sizeof(hub));
	pthread_rwlock_init(&hub.conf_lock, NULL);
	conf_defaults(&hub.conf, CONF_HUB);
	hub.conf.discovery_port = 0;
	snprintf(hub.conf.multicast_interface,
	    sizeof(hub.conf.multicast_interface), "127.0.0.1");
	snprintf(hub.keys.site_id, sizeof(hub.keys.site_id), "bench-site");
	snprintf(hub.keys.hub_id, sizeof(hub.keys.hub_id), "bench-hub");
	memset(hub.keys.hub_cert_sha256, 'a', 64);
	if (kdf_random(hub.keys.site_key, TR_KEY_LEN) != 0 ||
	    kdf_random(root, sizeof(root)) != 0)
		fail("random");
	hub.port = 5001;
	hub.file_port = 5002;
	if ((hub.reg = registry_new()) == NULL ||
	    registry_session_new(hub.reg, "bench-node", roles, 1, root,
	    msg_now_ms(), 86400, "127.0.0.1:1", &sess) != 0 ||
	    registry_session_new(hub.reg, "bench-node", roles, 1, root,
	    msg_now_ms(), 86400, "127.0.0.1:1", &sess2) != 0)
		fail("registry");
	if ((disc = discovery_open(&hub.conf, &hub.discovery_port, err,
	    sizeof(err))) == NULL)
		fail(err);
	hub.disc = disc;

	/* N signed heartbeats with increasing seq for each of two sessions. */
	if ((d = prepare(&sess, n, &total)) == NULL ||
	    (d2 = prepare(&sess2, n, &total)) == NULL)
		fail("cannot prepare the heartbeats");
	total /= 2;
	if (discovery_start(disc, &hub) != 0)
		fail("cannot start the discovery thread");
	/* In-process: the cost of discovery_handle alone, no socket. */
	{
		struct sockaddr_in from = loopback(40000);
		long long t0 = now_us();
		size_t ok = 0;

		for (size_t i = 0; i < n; i++)
			ok += discovery_handle(disc, d2[i].buf, d2[i].len,
			    &from, msg_now_ms()) == 0;
		inproc = (double)ok * 1e6 / (double)(now_us() - t0);
		if (ok != n)
			fail("in-process heartbeats were refused");
	}

	printf("heartbeats: %zu prepared, %zu bytes each on average\n", n,
	    total / n);
	printf("in-process:         %10.0f heartbeats/s (discovery_handle "
	    "alone, %.2f us each)\n", inproc, 1e6 / inproc);
	bare = bare_rate(d, n, &bare_got);
	rate = hub_rate(disc, hub.discovery_port, d, n, &hub_got);
	printf("bare recvfrom loop: %10.0f datagrams/s (%zu of %zu received)\n",
	    bare, bare_got, n);
	printf("hub absorbed:       %10.0f heartbeats/s (%zu of %zu accepted)\n",
	    rate, hub_got, n);
	printf("ratio hub/bare:     %10.2f\n", bare > 0 ? rate / bare : 0);

	rtt = calloc((size_t)rounds, sizeof(*rtt));
	ertt = calloc((size_t)rounds, sizeof(*ertt));
	if (rtt == NULL || ertt == NULL)
		fail("out of memory");
	discovery_rtts(&hub, hub.discovery_port, rtt, rounds);
	echo_rtts(ertt, rounds, 280);
	qsort(ertt, (size_t)rounds, sizeof(*ertt), cmp_ll);
	printf("discovery round trip (%d): p50 %lld us, p99 %lld us\n", rounds,
	    rtt[rounds / 2], rtt[rounds * 99 / 100]);
	printf("bare UDP echo round trip:  p50 %lld us, p99 %lld us\n",
	    ertt[rounds / 2], ertt[rounds * 99 / 100]);

	discovery_free(disc);
	kdf_cleanse(&sess, sizeof(sess));
	registry_free(hub.reg);
	for (size_t i = 0; i < n; i++) {
		free(d[i].buf);
		free(d2[i].buf);
	}
	free(d);
	free(d2);
	kdf_cleanse(&sess2, sizeof(sess2));
	free(rtt);
	free(ertt);
	conf_free(&hub.conf);
	pthread_rwlock_destroy(&hub.conf_lock);
	return hub_got > 0 ? 0 : 1;
}
