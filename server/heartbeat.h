/* The heartbeat thread: node liveness (online/offline transitions) and the hub's periodic announcement; node HEARTBEAT verification. */
#ifndef TROSYN_HEARTBEAT_H
#define TROSYN_HEARTBEAT_H

#include <stdint.h>

#include <json-c/json.h>

struct hub;
struct discovery;
struct replay;
struct heartbeat;

/*
 * Absorb the node HEARTBEAT ENV (already parsed, timestamp already inside
 * the skew window) sent from ADDRESS ("ip:port") at NOW_MS: verify it with
 * its session's heartbeat key, drop a replayed message_id (REPLAY, kept
 * for TTL_MS), check the payload, and record it in the registry.
 * 0, or the enum disc_drop reason + 1 (discovery.h).
 */
int heartbeat_absorb(struct hub *hub, json_object *env, const char *address,
    int64_t now_ms, struct replay *replay, int64_t ttl_ms);

/*
 * Start the thread "hub-heartbeat": every second it logs the nodes that
 * went online or offline (offline after 3 x heartbeat_interval without a
 * login or valid heartbeat), and every heartbeat_interval it multicasts
 * the hub's HEARTBEAT through DISC.  NULL when it cannot start.
 */
struct heartbeat *heartbeat_start(struct hub *hub, struct discovery *disc);

/* Stop the thread and free HB (NULL is fine). */
void heartbeat_stop(struct heartbeat *hb);

/* 3 x the hub's heartbeat_interval, in milliseconds: how long a node stays online. */
int64_t heartbeat_window_ms(struct hub *hub);

#endif /* TROSYN_HEARTBEAT_H */
