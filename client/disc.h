/* The node's hub discovery: DISCOVERY_BROADCAST out, checked DISCOVERY_RESPONSEs in (PROTOCOL.md section 8). */
#ifndef TROSYN_DISC_H
#define TROSYN_DISC_H

#include <stddef.h>
#include <stdint.h>

#include "link.h"
#include "trosyn-protocol.h"
#include "trosyn.h"

#define DISC_MAX_ATTEMPTS	8	/* broadcasts remembered for in_reply_to */
#define DISC_MAX_HUBS		64	/* answers kept (distinct hub ids) */
#define DISC_HOST_MAX		255

/* Settled discovery options: every default filled in, addresses checked. */
struct disc_opts {
	uint16_t port;
	char group[16];			/* dotted IPv4 multicast group */
	char iface[16];			/* dotted IPv4 interface address */
	int ttl;
	char broadcast[16];		/* "" = none */
	char unicast[DISC_HOST_MAX + 1];	/* "" = use the group */
	int timeout_ms;
	int attempts;			/* 1..DISC_MAX_ATTEMPTS */
	int64_t skew_ms;
};

/*
 * Settle the public options D (NULL: all defaults) into O.  TR_EINVAL with
 * a reason in ERR when an address is not what its member needs.
 */
int disc_opts_set(struct disc_opts *o, const struct trosyn_discovery *d,
    char *err, size_t errlen);

/*
 * The DISCOVERY_BROADCAST of CR's node: {"site_id"} signed with the site
 * key, source.node_id only, encoded into BUF (TR_UDP_MAX bytes) as *LEN
 * bytes; its message_id goes to MSGID.
 */
int disc_broadcast_new(const struct link_creds *cr, char *buf, size_t *len,
    char msgid[TR_UUID_LEN + 1]);

/*
 * Check one datagram of LEN bytes from FROM_IP: at most TR_UDP_MAX bytes,
 * a valid envelope of type DISCOVERY_RESPONSE signed with CR's site key,
 * in_reply_to one of the NIDS message ids IDS, a timestamp within SKEW_MS
 * of NOW_MS, and payload {port, file_port, cert_sha256, load}.  Fills HUB
 * (pinned when cert_sha256 is CR's pin) and returns 0, or TR_EINVAL with a
 * short reason in *WHY.
 */
int disc_response_check(const char *buf, size_t len, const char *from_ip,
    const struct link_creds *cr, const char (*ids)[TR_UUID_LEN + 1],
    size_t nids, int64_t now_ms, int64_t skew_ms, struct trosyn_hub *hub,
    const char **why);

/*
 * Discover: send the broadcast to every destination of O, wait
 * O->timeout_ms (plus up to a quarter more of random jitter) for answers,
 * and try again with a fresh broadcast, up to O->attempts in all, while
 * none came.  *HUBS (malloc'd) gets the valid answers, one per hub id,
 * sorted by disc_sort; *N their number.  TR_ENOTFOUND when none answered,
 * TR_EIO when nothing could be sent, TR_ECLOSED when STOPFD (-1: none)
 * became readable.  ERR says why on failure.
 */
int disc_run(const struct link_creds *cr, const struct disc_opts *o,
    int stopfd, struct trosyn_hub **hubs, size_t *n, char *err,
    size_t errlen);

/* Sort N HUBS: pinned first, then by load, ties in their present order. */
void disc_sort(struct trosyn_hub *hubs, size_t n);

/* Index of the least-loaded pinned hub among N HUBS (first on a tie), or -1. */
int disc_pick(const struct trosyn_hub *hubs, size_t n);

#endif /* TROSYN_DISC_H */
