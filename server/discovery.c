/* The discovery thread: verify each datagram on discovery_port, answer DISCOVERY_BROADCAST, hand node HEARTBEATs to heartbeat.c. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "discovery.h"
#include "err.h"
#include "heartbeat.h"
#include "hub.h"
#include "log.h"
#include "msg.h"
#include "replay.h"
#include "thr.h"

/* How long the thread blocks in one receive, so a stop is prompt. */
#define DISC_RECV_TIMEOUT_MS	200
/* Ids remembered for replay detection (a flood evicts the oldest). */
#define DISC_REPLAY_CAPACITY	65536
/* Datagrams taken per receive call. */
#define DISC_BATCH		32
/* Receive buffer, so a burst of heartbeats is not lost while one is verified. */
#define DISC_RCVBUF		(1 << 20)

struct discovery {
	int fd;
	uint16_t port;
	struct sockaddr_in group;
	struct hub *hub;
	struct replay *replay;
	pthread_t thread;
	int started;
	int stop;			/* atomic */
	struct disc_stats st;		/* atomic counters */
};

static const char *const disc_drop_names[DISC_DROP_N] = {
	[DISC_DROP_OVERSIZE] = "oversize",
	[DISC_DROP_MALFORMED] = "malformed",
	[DISC_DROP_SKEW] = "clock_skew",
	[DISC_DROP_SIGNATURE] = "signature",
	[DISC_DROP_REPLAY] = "replay",
	[DISC_DROP_SITE] = "site",
	[DISC_DROP_SESSION] = "session",
	[DISC_DROP_SEQ] = "seq",
	[DISC_DROP_TYPE] = "type",
};

/* The metrics label of a drop reason. */
const char *
discovery_drop_name(int reason)
{
	if (reason < 0 || reason >= DISC_DROP_N)
		return "unknown";
	return disc_drop_names[reason];
}

/* Add N to counter *C. */
static void
disc_count(uint64_t *c, uint64_t n)
{
	__atomic_add_fetch(c, n, __ATOMIC_RELAXED);
}

/* Open and configure the UDP socket. */
struct discovery *
discovery_open(const struct conf *c, uint16_t *bound, char *err, size_t errlen)
{
	struct discovery *d = calloc(1, sizeof(*d));
	struct sockaddr_in sin;
	struct ip_mreq mreq;
	struct in_addr ifaddr;
	struct timeval tv = { 0, DISC_RECV_TIMEOUT_MS * 1000 };
	socklen_t slen = sizeof(sin);
	int rcvbuf = DISC_RCVBUF, one = 1;
	unsigned char ttl = (unsigned char)c->multicast_ttl, loop = 1;

	if (d == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	d->fd = -1;
	if ((d->replay = replay_new(DISC_REPLAY_CAPACITY)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	memset(&d->group, 0, sizeof(d->group));
	d->group.sin_family = AF_INET;
	if (inet_pton(AF_INET, c->multicast_group, &d->group.sin_addr) != 1 ||
	    inet_pton(AF_INET, c->multicast_interface, &ifaddr) != 1) {
		snprintf(err, errlen, "discovery: multicast_group '%s' or "
		    "multicast_interface '%s' is not an IPv4 address",
		    c->multicast_group, c->multicast_interface);
		goto fail;
	}
	if ((d->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		goto syserr;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_ANY);
	sin.sin_port = htons(c->discovery_port);
	if (bind(d->fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		snprintf(err, errlen, "cannot bind UDP port %u for discovery: "
		    "%s", (unsigned)c->discovery_port, strerror(errno));
		goto fail;
	}
	if (getsockname(d->fd, (struct sockaddr *)&sin, &slen) != 0)
		goto syserr;
	d->port = ntohs(sin.sin_port);
	d->group.sin_port = sin.sin_port;
	mreq.imr_multiaddr = d->group.sin_addr;
	mreq.imr_interface = ifaddr;
	if (setsockopt(d->fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq,
	    sizeof(mreq)) != 0) {
		if (ifaddr.s_addr != htonl(INADDR_ANY)) {
			snprintf(err, errlen, "cannot join multicast group %s "
			    "on interface %s: %s", c->multicast_group,
			    c->multicast_interface, strerror(errno));
			goto fail;
		}
		/* No multicast route: unicast discovery still works. */
		log_warn("discovery: cannot join multicast group %s (%s); "
		    "set multicast_interface to the LAN address; answering "
		    "unicast only", c->multicast_group, strerror(errno));
	}
	if (setsockopt(d->fd, IPPROTO_IP, IP_MULTICAST_IF, &ifaddr,
	    sizeof(ifaddr)) != 0 ||
	    setsockopt(d->fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl,
	    sizeof(ttl)) != 0 ||
	    setsockopt(d->fd, IPPROTO_IP, IP_MULTICAST_LOOP, &loop,
	    sizeof(loop)) != 0 ||
	    setsockopt(d->fd, SOL_SOCKET, SO_BROADCAST, &one,
	    sizeof(one)) != 0 ||
	    setsockopt(d->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0)
		goto syserr;
	/* Best effort: the kernel may cap it at rmem_max. */
	setsockopt(d->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	*bound = d->port;
	return d;
syserr:
	snprintf(err, errlen, "discovery socket: %s", strerror(errno));
fail:
	discovery_free(d);
	return NULL;
}

/* Sign ENV with the site key and send it to TO. */
static int
disc_send(struct discovery *d, json_object *env, const struct sockaddr_in *to)
{
	char buf[TR_UDP_MAX];
	size_t len;
	int rc;

	if ((rc = msg_encode_udp(env, d->hub->keys.site_key, buf,
	    &len)) != 0)
		return rc;
	if (sendto(d->fd, buf, len, 0, (const struct sockaddr *)to,
	    sizeof(*to)) < 0)
		return TR_ESYS;
	return 0;
}

/* Answer the verified DISCOVERY_BROADCAST ENV from FROM. */
static int
disc_answer(struct discovery *d, json_object *env,
    const struct sockaddr_in *from)
{
	struct hub *hub = d->hub;
	json_object *p = json_object_new_object(), *resp;
	int rc;

	if (p == NULL)
		return TR_ENOMEM;
	json_object_object_add(p, "port", json_object_new_int(hub->port));
	json_object_object_add(p, "file_port",
	    json_object_new_int(hub->file_port));
	json_object_object_add(p, "cert_sha256",
	    json_object_new_string(hub->keys.hub_cert_sha256));
	json_object_object_add(p, "load", json_object_new_int(
	    hub->main_pool != NULL ? pool_load(hub->main_pool) : 0));
	if ((resp = msg_new(TR_MSG_DISCOVERY_RESPONSE, hub->keys.hub_id, NULL,
	    msg_id(env), p)) == NULL)
		return TR_ENOMEM;
	rc = disc_send(d, resp, from);
	json_object_put(resp);
	return rc;
}

/* Handle a DISCOVERY_BROADCAST: 0 or the drop reason + 1. */
static int
disc_broadcast(struct discovery *d, json_object *env,
    const struct sockaddr_in *from, int64_t now_ms, int64_t ttl_ms)
{
	const char *site;
	int rc;

	if (msg_verify(env, d->hub->keys.site_key, TR_KEY_LEN) != 0)
		return DISC_DROP_SIGNATURE + 1;
	if (msg_get_str(msg_payload(env), "site_id", &site) != 0 ||
	    !msg_valid_id(site))
		return DISC_DROP_MALFORMED + 1;
	if (strcmp(site, d->hub->keys.site_id) != 0)
		return DISC_DROP_SITE + 1;
	if (replay_check(d->replay, msg_id(env), now_ms, ttl_ms))
		return DISC_DROP_REPLAY + 1;
	if ((rc = disc_answer(d, env, from)) != 0) {
		log_warn("discovery: cannot answer %s: %s",
		    inet_ntoa(from->sin_addr), tr_strerror(rc));
		return 0;
	}
	disc_count(&d->st.answered, 1);
	log_debug("discovery: answered %s:%u", inet_ntoa(from->sin_addr),
	    (unsigned)ntohs(from->sin_port));
	return 0;
}

/* Handle one datagram. */
int
discovery_handle(struct discovery *d, const char *buf, size_t len,
    const struct sockaddr_in *from, int64_t now_ms)
{
	struct hub *hub = d->hub;
	json_object *env = NULL, *p;
	const char *type, *role;
	char addr[64], ip[INET_ADDRSTRLEN];
	int64_t ts, skew_ms;
	int rc;

	if (len > TR_UDP_MAX) {
		disc_count(&d->st.dropped[DISC_DROP_OVERSIZE], 1);
		return DISC_DROP_OVERSIZE + 1;
	}
	thr_rdlock(&hub->conf_lock);
	skew_ms = (int64_t)hub->conf.max_clock_skew * 1000;
	thr_rwunlock(&hub->conf_lock);
	if (msg_parse(buf, len, &env) != 0) {
		rc = DISC_DROP_MALFORMED + 1;
		goto out;
	}
	if (msg_timestamp(env, &ts) != 0 || ts - now_ms > skew_ms ||
	    now_ms - ts > skew_ms) {
		rc = DISC_DROP_SKEW + 1;
		goto out;
	}
	type = msg_type(env);
	p = msg_payload(env);
	if (strcmp(type, TR_MSG_DISCOVERY_BROADCAST) == 0) {
		rc = disc_broadcast(d, env, from, now_ms, 2 * skew_ms);
	} else if (strcmp(type, TR_MSG_HEARTBEAT) == 0 &&
	    msg_get_str(p, "role", &role) == 0 && strcmp(role, "node") == 0) {
		inet_ntop(AF_INET, &from->sin_addr, ip, sizeof(ip));
		snprintf(addr, sizeof(addr), "%s:%u", ip,
		    (unsigned)ntohs(from->sin_port));
		rc = heartbeat_absorb(hub, env, addr, now_ms, d->replay,
		    2 * skew_ms);
		if (rc == 0)
			disc_count(&d->st.heartbeats, 1);
	} else if (strcmp(type, TR_MSG_HEARTBEAT) == 0 &&
	    strcmp(msg_source_id(env), hub->keys.hub_id) == 0) {
		rc = 0;		/* our own announcement, looped back */
	} else {
		rc = DISC_DROP_TYPE + 1;
	}
out:
	json_object_put(env);
	if (rc > 0)
		disc_count(&d->st.dropped[rc - 1], 1);
	return rc;
}

/* Multicast the hub's HEARTBEAT. */
int
discovery_announce(struct discovery *d)
{
	struct hub *hub = d->hub;
	json_object *p = json_object_new_object(), *env;
	int rc;

	if (p == NULL)
		return TR_ENOMEM;
	json_object_object_add(p, "role", json_object_new_string("hub"));
	json_object_object_add(p, "site_id",
	    json_object_new_string(hub->keys.site_id));
	json_object_object_add(p, "port", json_object_new_int(hub->port));
	json_object_object_add(p, "file_port",
	    json_object_new_int(hub->file_port));
	json_object_object_add(p, "load", json_object_new_int(
	    hub->main_pool != NULL ? pool_load(hub->main_pool) : 0));
	if ((env = msg_new(TR_MSG_HEARTBEAT, hub->keys.hub_id, NULL, NULL,
	    p)) == NULL)
		return TR_ENOMEM;
	rc = disc_send(d, env, &d->group);
	json_object_put(env);
	if (rc == 0)
		disc_count(&d->st.announced, 1);
	return rc;
}

/*
 * The thread: receive up to DISC_BATCH datagrams per system call (the
 * first one waits at most the receive timeout), handle each, until
 * stopped.
 */
static void *
disc_main(void *arg)
{
	struct discovery *d = arg;
	char bufs[DISC_BATCH][TR_UDP_MAX + 1];
	struct sockaddr_in from[DISC_BATCH];
	struct mmsghdr msgs[DISC_BATCH];
	struct iovec iov[DISC_BATCH];
	int n;

	while (!__atomic_load_n(&d->stop, __ATOMIC_ACQUIRE)) {
		memset(msgs, 0, sizeof(msgs));
		for (int i = 0; i < DISC_BATCH; i++) {
			iov[i].iov_base = bufs[i];
			iov[i].iov_len = sizeof(bufs[i]);
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
			msgs[i].msg_hdr.msg_name = &from[i];
			msgs[i].msg_hdr.msg_namelen = sizeof(from[i]);
		}
		n = recvmmsg(d->fd, msgs, DISC_BATCH, MSG_WAITFORONE, NULL);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				log_warn("discovery: receive failed: %s",
				    strerror(errno));
			continue;
		}
		disc_count(&d->st.received, (uint64_t)n);
		for (int i = 0; i < n; i++) {
			size_t len = msgs[i].msg_len;

			if (msgs[i].msg_hdr.msg_namelen != sizeof(from[i]) ||
			    from[i].sin_family != AF_INET)
				continue;
			/* Cut to the buffer: flag it so it counts as oversized. */
			if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC)
				len = TR_UDP_MAX + 1;
			discovery_handle(d, bufs[i], len, &from[i],
			    msg_now_ms());
		}
	}
	return NULL;
}

/* Start the thread. */
int
discovery_start(struct discovery *d, struct hub *hub)
{
	int rc;

	d->hub = hub;
	__atomic_store_n(&d->stop, 0, __ATOMIC_RELEASE);
	if ((rc = thr_create(&d->thread, "hub-discovery", disc_main, d)) != 0)
		return rc;
	d->started = 1;
	return 0;
}

/* Stop the thread. */
void
discovery_stop(struct discovery *d)
{
	if (d == NULL || !d->started)
		return;
	__atomic_store_n(&d->stop, 1, __ATOMIC_RELEASE);
	pthread_join(d->thread, NULL);
	d->started = 0;
}

/* Close and free D. */
void
discovery_free(struct discovery *d)
{
	if (d == NULL)
		return;
	discovery_stop(d);
	if (d->fd >= 0)
		close(d->fd);
	replay_free(d->replay);
	free(d);
}

/* A snapshot of the counters. */
void
discovery_stats(struct discovery *d, struct disc_stats *st)
{
	st->received = __atomic_load_n(&d->st.received, __ATOMIC_RELAXED);
	st->answered = __atomic_load_n(&d->st.answered, __ATOMIC_RELAXED);
	st->heartbeats = __atomic_load_n(&d->st.heartbeats, __ATOMIC_RELAXED);
	st->announced = __atomic_load_n(&d->st.announced, __ATOMIC_RELAXED);
	for (int i = 0; i < DISC_DROP_N; i++)
		st->dropped[i] = __atomic_load_n(&d->st.dropped[i],
		    __ATOMIC_RELAXED);
}
