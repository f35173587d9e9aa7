/* The discovery thread: one UDP socket on discovery_port for DISCOVERY_BROADCAST, node HEARTBEATs and the hub's announcements. */
#ifndef TROSYN_DISCOVERY_H
#define TROSYN_DISCOVERY_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>
#include <netinet/in.h>

#include "conf.h"

struct hub;
struct discovery;

/* Why a datagram got no answer (counted for metrics). */
enum disc_drop {
	DISC_DROP_OVERSIZE,		/* more than 512 bytes */
	DISC_DROP_MALFORMED,		/* not an envelope, or a bad payload */
	DISC_DROP_SKEW,			/* timestamp outside max_clock_skew */
	DISC_DROP_SIGNATURE,		/* unsigned or badly signed */
	DISC_DROP_REPLAY,		/* message_id seen within 2 x skew */
	DISC_DROP_SITE,			/* another site_id */
	DISC_DROP_SESSION,		/* heartbeat of an unknown, expired or revoked session */
	DISC_DROP_SEQ,			/* heartbeat seq not above the last */
	DISC_DROP_TYPE,			/* a type the hub does not take on UDP */
	DISC_DROP_N
};

/* Counters of the discovery thread (a snapshot). */
struct disc_stats {
	uint64_t received;
	uint64_t answered;		/* DISCOVERY_RESPONSEs sent */
	uint64_t heartbeats;		/* node heartbeats accepted */
	uint64_t announced;		/* hub HEARTBEATs sent */
	uint64_t dropped[DISC_DROP_N];
};

/* The metrics label of a drop reason ("oversize", "replay", ...). */
const char *discovery_drop_name(int reason);

/*
 * Open the UDP socket: bound to 0.0.0.0:C->discovery_port (multicast and
 * broadcast reach only a wildcard socket), joined to C->multicast_group
 * on C->multicast_interface, multicast TTL and interface set for the
 * hub's announcements.  *BOUND gets the port (useful with port 0 in tests).
 * NULL with the reason in ERR.
 */
struct discovery *discovery_open(const struct conf *c, uint16_t *bound,
    char *err, size_t errlen);

/* Start the thread "hub-discovery" serving HUB; 0 or TR_ESYS. */
int discovery_start(struct discovery *d, struct hub *hub);

/* Stop the thread (within its 200 ms receive timeout). */
void discovery_stop(struct discovery *d);

/* Close the socket and free D (stopped first when running). */
void discovery_free(struct discovery *d);

/*
 * Handle one datagram of LEN bytes from FROM at NOW_MS: verify it and
 * answer or absorb it.  Returns 0 when it was taken, or the
 * enum disc_drop reason + 1 when it was dropped.  Used by the thread, and
 * by tests and benchmarks that drive it without a socket read.
 */
int discovery_handle(struct discovery *d, const char *buf, size_t len,
    const struct sockaddr_in *from, int64_t now_ms);

/* Multicast the hub's HEARTBEAT (role hub) to the group; 0 or a TR_E* code. */
int discovery_announce(struct discovery *d);

/* A snapshot of D's counters. */
void discovery_stats(struct discovery *d, struct disc_stats *st);

#endif /* TROSYN_DISCOVERY_H */
