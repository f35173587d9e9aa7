/* The node's hub discovery: DISCOVERY_BROADCAST out, checked DISCOVERY_RESPONSEs in (PROTOCOL.md section 8). */
#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "disc.h"
#include "err.h"
#include "hex.h"
#include "kdf.h"
#include "log.h"
#include "msg.h"
#include "thr.h"

#define DISC_DEF_TIMEOUT_MS	(TR_DEF_DISCOVERY_TIMEOUT * 1000)
#define DISC_DEF_ATTEMPTS	4	/* one broadcast and 3 retries */
#define DISC_MAX_DEST		3	/* group or unicast host, broadcast */

/* Write a reason into ERR. */
static void
disc_seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void
disc_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Copy the dotted IPv4 address S (DEF when NULL) into BUF; -1 when it is none, or not multicast with MCAST. */
static int
disc_ipv4(const char *s, const char *def, int mcast, char *buf, size_t len)
{
	struct in_addr a;

	if (s == NULL)
		s = def;
	if (inet_pton(AF_INET, s, &a) != 1 || strlen(s) >= len)
		return -1;
	if (mcast && !IN_MULTICAST(ntohl(a.s_addr)))
		return -1;
	snprintf(buf, len, "%s", s);
	return 0;
}

/* Settle the public options D into O. */
int
disc_opts_set(struct disc_opts *o, const struct trosyn_discovery *d,
    char *err, size_t errlen)
{
	struct trosyn_discovery none;

	memset(&none, 0, sizeof(none));
	if (d == NULL)
		d = &none;
	memset(o, 0, sizeof(*o));
	o->port = d->port != 0 ? d->port : TR_DEF_DISCOVERY_PORT;
	if (disc_ipv4(d->group, TR_DEF_MCAST_GROUP, 1, o->group,
	    sizeof(o->group)) != 0) {
		disc_seterr(err, errlen, "multicast group %s is not an IPv4 "
		    "multicast address", d->group);
		return TR_EINVAL;
	}
	if (disc_ipv4(d->interface, "0.0.0.0", 0, o->iface,
	    sizeof(o->iface)) != 0) {
		disc_seterr(err, errlen, "multicast interface %s is not an "
		    "IPv4 address", d->interface);
		return TR_EINVAL;
	}
	if (d->broadcast != NULL && *d->broadcast != '\0' &&
	    disc_ipv4(d->broadcast, NULL, 0, o->broadcast,
	    sizeof(o->broadcast)) != 0) {
		disc_seterr(err, errlen, "broadcast %s is not an IPv4 address",
		    d->broadcast);
		return TR_EINVAL;
	}
	if (d->unicast != NULL && *d->unicast != '\0') {
		if (strlen(d->unicast) > DISC_HOST_MAX) {
			disc_seterr(err, errlen, "hub host name too long");
			return TR_EINVAL;
		}
		snprintf(o->unicast, sizeof(o->unicast), "%s", d->unicast);
	}
	if (d->ttl < 0 || d->ttl > 255 || d->timeout_ms < 0 ||
	    d->attempts < 0 || d->attempts > DISC_MAX_ATTEMPTS ||
	    d->max_clock_skew_s < 0) {
		disc_seterr(err, errlen, "discovery ttl, timeout, attempts or "
		    "clock skew out of range");
		return TR_EINVAL;
	}
	o->ttl = d->ttl != 0 ? d->ttl : TR_DEF_MCAST_TTL;
	o->timeout_ms = d->timeout_ms != 0 ? d->timeout_ms :
	    DISC_DEF_TIMEOUT_MS;
	o->attempts = d->attempts != 0 ? d->attempts : DISC_DEF_ATTEMPTS;
	o->skew_ms = (int64_t)(d->max_clock_skew_s != 0 ?
	    d->max_clock_skew_s : TR_DEF_CLOCK_SKEW) * 1000;
	return 0;
}

/* Build the signed DISCOVERY_BROADCAST of CR's node into BUF. */
int
disc_broadcast_new(const struct link_creds *cr, char *buf, size_t *len,
    char msgid[TR_UUID_LEN + 1])
{
	json_object *env = NULL, *p;
	int rc;

	if ((p = json_object_new_object()) == NULL)
		return TR_ENOMEM;
	if (json_object_object_add(p, "site_id",
	    json_object_new_string(cr->site_id)) != 0) {
		json_object_put(p);
		return TR_ENOMEM;
	}
	/* node_name stays out of UDP to save room (section 5). */
	if ((env = msg_new(TR_MSG_DISCOVERY_BROADCAST, cr->node_id, NULL, NULL,
	    p)) == NULL)
		return TR_ENOMEM;
	if ((rc = msg_encode_udp(env, cr->site_key, buf, len)) == 0)
		snprintf(msgid, TR_UUID_LEN + 1, "%s", msg_id(env));
	json_object_put(env);
	return rc;
}

/* An integer member KEY of P within MIN..MAX into *OUT; -1 when not. */
static int
disc_get_range(json_object *p, const char *key, int64_t min, int64_t max,
    int64_t *out)
{
	if (msg_get_int(p, key, out) != 0 || *out < min || *out > max)
		return -1;
	return 0;
}

/* Check one answer. */
int
disc_response_check(const char *buf, size_t len, const char *from_ip,
    const struct link_creds *cr, const char (*ids)[TR_UUID_LEN + 1],
    size_t nids, int64_t now_ms, int64_t skew_ms, struct trosyn_hub *hub,
    const char **why)
{
	json_object *env = NULL, *p;
	const char *irt, *fp;
	int64_t ts, port, file_port, load;
	size_t i;
	int rc = TR_EINVAL;

	memset(hub, 0, sizeof(*hub));
	*why = "larger than 512 bytes";
	if (len > TR_UDP_MAX)
		return TR_EINVAL;
	*why = "malformed";
	if (msg_parse(buf, len, &env) != 0)
		goto out;
	*why = "not a DISCOVERY_RESPONSE";
	if (strcmp(msg_type(env), TR_MSG_DISCOVERY_RESPONSE) != 0)
		goto out;
	*why = "not signed with the site key";
	if (msg_verify(env, cr->site_key, TR_KEY_LEN) != 0)
		goto out;
	*why = "not an answer to our broadcast";
	if ((irt = msg_in_reply_to(env)) == NULL)
		goto out;
	for (i = 0; i < nids; i++)
		if (strcmp(irt, ids[i]) == 0)
			break;
	if (i == nids)
		goto out;
	*why = "outside the clock-skew window";
	if (msg_timestamp(env, &ts) != 0 || ts - now_ms > skew_ms ||
	    now_ms - ts > skew_ms)
		goto out;
	p = msg_payload(env);
	*why = "bad payload";
	if (disc_get_range(p, "port", 1, 65535, &port) != 0 ||
	    disc_get_range(p, "file_port", 1, 65535, &file_port) != 0 ||
	    disc_get_range(p, "load", 0, 100, &load) != 0 ||
	    msg_get_str(p, "cert_sha256", &fp) != 0 ||
	    !hex_valid(fp, strlen(fp), TR_HASH_LEN) ||
	    !msg_valid_id(msg_source_id(env)) ||
	    strlen(from_ip) >= sizeof(hub->address))
		goto out;
	snprintf(hub->hub_id, sizeof(hub->hub_id), "%s", msg_source_id(env));
	snprintf(hub->address, sizeof(hub->address), "%s", from_ip);
	hub->port = (uint16_t)port;
	hub->file_port = (uint16_t)file_port;
	snprintf(hub->cert_sha256, sizeof(hub->cert_sha256), "%s", fp);
	hub->load = (int)load;
	hub->pinned = strcmp(fp, cr->hub_cert_sha256) == 0;
	*why = NULL;
	rc = 0;
out:
	json_object_put(env);
	return rc;
}

/* Sort hubs: pinned first, then by load, stable. */
void
disc_sort(struct trosyn_hub *hubs, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		struct trosyn_hub h = hubs[i];
		size_t j = i;

		while (j > 0 && (hubs[j - 1].pinned < h.pinned ||
		    (hubs[j - 1].pinned == h.pinned &&
		    hubs[j - 1].load > h.load))) {
			hubs[j] = hubs[j - 1];
			j--;
		}
		hubs[j] = h;
	}
}

/* The least-loaded pinned hub, or -1. */
int
disc_pick(const struct trosyn_hub *hubs, size_t n)
{
	int best = -1;

	for (size_t i = 0; i < n && i < (size_t)DISC_MAX_HUBS; i++)
		if (hubs[i].pinned && (best < 0 || hubs[i].load <
		    hubs[best].load))
			best = (int)i;
	return best;
}

/* The destinations of O into DEST; their number, or a negative code with ERR. */
static int
disc_dests(const struct disc_opts *o, struct sockaddr_in *dest, char *err,
    size_t errlen)
{
	struct addrinfo hints, *res = NULL;
	int n = 0, gai;

	memset(dest, 0, sizeof(*dest) * DISC_MAX_DEST);
	if (o->unicast[0] != '\0') {
		memset(&hints, 0, sizeof(hints));
		hints.ai_family = AF_INET;
		hints.ai_socktype = SOCK_DGRAM;
		if ((gai = getaddrinfo(o->unicast, NULL, &hints, &res)) != 0 ||
		    res == NULL) {
			disc_seterr(err, errlen, "cannot resolve %s: %s",
			    o->unicast, gai == EAI_SYSTEM ? strerror(errno) :
			    gai_strerror(gai));
			if (res != NULL)
				freeaddrinfo(res);
			return TR_ENOTFOUND;
		}
		memcpy(&dest[n], res->ai_addr, sizeof(dest[n]));
		freeaddrinfo(res);
	} else
		inet_pton(AF_INET, o->group, &dest[n].sin_addr);
	dest[n].sin_family = AF_INET;
	dest[n++].sin_port = htons(o->port);
	if (o->broadcast[0] != '\0') {
		dest[n].sin_family = AF_INET;
		inet_pton(AF_INET, o->broadcast, &dest[n].sin_addr);
		dest[n++].sin_port = htons(o->port);
	}
	return n;
}

/* A UDP socket for discovery: multicast TTL and interface, broadcast allowed. */
static int
disc_socket(const struct disc_opts *o, char *err, size_t errlen)
{
	struct sockaddr_in sin;
	struct in_addr ifaddr;
	unsigned char ttl = (unsigned char)o->ttl, loop = 1;
	int fd, one = 1;

	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		goto fail;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	inet_pton(AF_INET, o->iface, &ifaddr);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl,
	    sizeof(ttl)) != 0 ||
	    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &loop,
	    sizeof(loop)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one)) != 0)
		goto fail;
	if (setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &ifaddr,
	    sizeof(ifaddr)) != 0) {
		disc_seterr(err, errlen, "multicast interface %s: %s",
		    o->iface, strerror(errno));
		close(fd);
		return TR_EINVAL;
	}
	return fd;
fail:
	disc_seterr(err, errlen, "discovery socket: %s", strerror(errno));
	if (fd >= 0)
		close(fd);
	return TR_ESYS;
}

/* Send BUF to each of the N destinations; the number that went out. */
static int
disc_send(int fd, const char *buf, size_t len, const struct sockaddr_in *dest,
    int n, int *lasterr)
{
	char ip[INET_ADDRSTRLEN];
	int sent = 0;

	for (int i = 0; i < n; i++) {
		if (sendto(fd, buf, len, 0, (const struct sockaddr *)&dest[i],
		    sizeof(dest[i])) == (ssize_t)len) {
			sent++;
			continue;
		}
		*lasterr = errno;
		inet_ntop(AF_INET, &dest[i].sin_addr, ip, sizeof(ip));
		log_debug("discovery: cannot send to %s:%u: %s", ip,
		    (unsigned)ntohs(dest[i].sin_port), strerror(errno));
	}
	return sent;
}

/* Take one datagram waiting on FD into the N HUBS collected so far. */
static void
disc_take(int fd, const struct link_creds *cr, const struct disc_opts *o,
    const char (*ids)[TR_UUID_LEN + 1], size_t nids, struct trosyn_hub *hubs,
    size_t *n)
{
	char buf[TR_UDP_MAX + 1], ip[INET_ADDRSTRLEN];
	struct sockaddr_in from;
	socklen_t flen = sizeof(from);
	struct trosyn_hub h;
	const char *why;
	ssize_t got;

	/* MSG_TRUNC: the length of the whole datagram, to refuse oversized ones. */
	got = recvfrom(fd, buf, sizeof(buf), MSG_TRUNC | MSG_DONTWAIT,
	    (struct sockaddr *)&from, &flen);
	if (got < 0 || flen != sizeof(from) || from.sin_family != AF_INET)
		return;
	inet_ntop(AF_INET, &from.sin_addr, ip, sizeof(ip));
	if (disc_response_check(buf, (size_t)got, ip, cr, ids, nids,
	    msg_now_ms(), o->skew_ms, &h, &why) != 0) {
		log_debug("discovery: ignored a datagram from %s: %s", ip, why);
		return;
	}
	for (size_t i = 0; i < *n; i++)
		if (strcmp(hubs[i].hub_id, h.hub_id) == 0)
			return;
	if (*n >= DISC_MAX_HUBS)
		return;
	log_debug("discovery: hub %s at %s port %u, load %d%s", h.hub_id,
	    h.address, (unsigned)h.port, h.load, h.pinned ? "" :
	    ", certificate not pinned");
	hubs[(*n)++] = h;
}

/* Random jitter of 0..MAX ms. */
static int64_t
disc_jitter(int64_t max)
{
	uint32_t r = 0;

	kdf_random(&r, sizeof(r));
	return max > 0 ? (int64_t)(r % (uint32_t)(max + 1)) : 0;
}

/* Discover the hubs. */
int
disc_run(const struct link_creds *cr, const struct disc_opts *o, int stopfd,
    struct trosyn_hub **hubs, size_t *n, char *err, size_t errlen)
{
	struct sockaddr_in dest[DISC_MAX_DEST];
	char ids[DISC_MAX_ATTEMPTS][TR_UUID_LEN + 1];
	char buf[TR_UDP_MAX];
	struct trosyn_hub *found = NULL;
	struct pollfd pfd[2];
	size_t len, nids = 0, nfound = 0;
	long long deadline, now;
	int fd = -1, ndest, rc, lasterr = 0, anysent = 0;

	*hubs = NULL;
	*n = 0;
	if ((found = calloc(DISC_MAX_HUBS, sizeof(*found))) == NULL)
		return TR_ENOMEM;
	if ((rc = ndest = disc_dests(o, dest, err, errlen)) < 0)
		goto out;
	if ((rc = fd = disc_socket(o, err, errlen)) < 0)
		goto out;
	for (int attempt = 0; attempt < o->attempts && nfound == 0;
	    attempt++) {
		if ((rc = disc_broadcast_new(cr, buf, &len, ids[nids])) != 0) {
			disc_seterr(err, errlen, "discovery: %s",
			    tr_strerror(rc));
			goto out;
		}
		nids++;
		if (disc_send(fd, buf, len, dest, ndest, &lasterr) > 0)
			anysent = 1;
		log_debug("discovery: broadcast %d of %d sent", attempt + 1,
		    o->attempts);
		deadline = thr_mono_ms() + o->timeout_ms +
		    disc_jitter(o->timeout_ms / 4);
		while ((now = thr_mono_ms()) < deadline) {
			pfd[0].fd = fd;
			pfd[0].events = POLLIN;
			pfd[1].fd = stopfd;
			pfd[1].events = POLLIN;
			pfd[0].revents = pfd[1].revents = 0;
			if (poll(pfd, stopfd >= 0 ? 2 : 1,
			    (int)(deadline - now)) < 0) {
				if (errno == EINTR)
					continue;
				disc_seterr(err, errlen, "discovery: poll: %s",
				    strerror(errno));
				rc = TR_ESYS;
				goto out;
			}
			if (stopfd >= 0 && pfd[1].revents != 0) {
				disc_seterr(err, errlen, "discovery stopped");
				rc = TR_ECLOSED;
				goto out;
			}
			if (pfd[0].revents != 0)
				disc_take(fd, cr, o, (const char (*)[
				    TR_UUID_LEN + 1])ids, nids, found, &nfound);
		}
	}
	if (nfound == 0) {
		if (!anysent) {
			disc_seterr(err, errlen, "cannot send the discovery "
			    "broadcast: %s", strerror(lasterr));
			rc = TR_EIO;
		} else {
			disc_seterr(err, errlen, "no hub answered");
			rc = TR_ENOTFOUND;
		}
		goto out;
	}
	disc_sort(found, nfound);
	*hubs = found;
	*n = nfound;
	found = NULL;
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(found);
	return rc;
}
