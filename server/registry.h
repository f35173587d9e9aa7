/* The node registry: live sessions, their connections and each node's live state, shared by every hub thread. */
#ifndef TROSYN_REGISTRY_H
#define TROSYN_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "trosyn-protocol.h"

/*
 * Locking: one mutex guards the whole registry; it is a leaf lock (no other
 * lock is taken while it is held, and no I/O but shutdown(2) on a socket is
 * done under it).  Callers get copies, never pointers into the registry.
 * Lock order of the hub, outermost first:
 *   hub conf rwlock  ->  pool queue mutex  ->  authfail mutex  ->  registry mutex
 * (a thread never holds two of them at once today; the order is the rule if
 * that changes).  The hub journal rwlock stands outside that order: a
 * worker holds it for reading for a whole pull, taking the others
 * meanwhile; the main thread only try-locks it for writing (the tombstone
 * purge), holding nothing else.  Enrolled nodes live in SQLite (hubdb.h),
 * which is the source of truth for roles and revocation; the registry
 * keeps what is live: sessions, connections, heartbeat figures.
 */

/* A copy of one live session. */
struct reg_session {
	char session_id[TR_UUID_LEN + 1];
	uint8_t token[TR_TOKEN_LEN];
	uint8_t session_root[TR_KEY_LEN];
	char node_id[TR_ID_MAX + 1];
	char roles[CONF_MAX_ROLES][CONF_ROLE_MAX + 1];
	int nroles;
	int64_t created_ms;
	int64_t expires_ms;
	int connections;
	char address[64];
	uint64_t hb_seq;		/* last accepted heartbeat seq */
	uint8_t hb_key[TR_KEY_LEN];	/* HKDF(session_root, "trosyn/1 heartbeat") */
};

/* A copy of one node's live figures. */
struct reg_live {
	char node_id[TR_ID_MAX + 1];
	int64_t last_seen_ms;		/* login or valid heartbeat; 0 = never */
	char address[64];
	int64_t last_sync_ms;
	int64_t cursor;			/* -1 = unknown */
	int64_t pending;		/* -1 = unknown */
	int64_t disk_free;		/* -1 = unknown */
	char last_error[64];		/* "" = none */
	char state[16];			/* "idle", "syncing", "error", "" */
};

struct registry;

struct registry *registry_new(void);
void registry_free(struct registry *reg);

/*
 * Create a session for NODE_ID with ROLES, SESSION_ROOT and a fresh random
 * token, expiring LIFETIME_S seconds after NOW_MS.  *OUT gets a copy.
 */
int registry_session_new(struct registry *reg, const char *node_id,
    const char roles[][CONF_ROLE_MAX + 1], int nroles,
    const uint8_t session_root[TR_KEY_LEN], int64_t now_ms, int lifetime_s,
    const char *address, struct reg_session *out);

/* Copy of the session whose token is TOKEN: TR_ETOKEN when unknown or expired at NOW_MS. */
int registry_session_by_token(struct registry *reg,
    const uint8_t token[TR_TOKEN_LEN], int64_t now_ms, struct reg_session *out);

/* Copy of session SESSION_ID: TR_ETOKEN when unknown or expired at NOW_MS. */
int registry_session_get(struct registry *reg, const char *session_id,
    int64_t now_ms, struct reg_session *out);

/*
 * Register connection FD (a socket) of SESSION_ID so that revocation can
 * shut it down; *HANDLE identifies it for registry_conn_remove.
 * TR_ETOKEN when the session is gone.
 */
int registry_conn_add(struct registry *reg, const char *session_id, int fd,
    uint64_t *handle);
void registry_conn_remove(struct registry *reg, uint64_t handle);

/*
 * End every session of NODE_ID: tokens forgotten at once and every
 * connection shut down (shutdown(2), so a worker blocked on it wakes).
 * Returns the number of sessions ended.
 */
int registry_revoke(struct registry *reg, const char *node_id);

/* Drop sessions expired at NOW_MS that have no connection left. */
void registry_expire(struct registry *reg, int64_t now_ms);

/* Record that NODE_ID was seen (login, heartbeat) at NOW_MS from ADDRESS. */
void registry_touch(struct registry *reg, const char *node_id,
    const char *address, int64_t now_ms);

/*
 * Replace the heartbeat figures of LIVE->node_id (cursor, pending,
 * disk_free, last_error, state; last_sync_ms when set).  last_seen_ms and
 * address belong to registry_touch and are left alone.
 */
void registry_live_update(struct registry *reg, const struct reg_live *live);

/*
 * Accept heartbeat SEQ of session SESSION_ID, sent by NODE_ID from ADDRESS
 * at NOW_MS (its signature already verified with the session's hb_key):
 * records the figures of LIVE (cursor, pending, disk_free, last_error,
 * state) and marks the node seen.  TR_ETOKEN when the session is unknown,
 * expired or not NODE_ID's; TR_EEXIST when SEQ is not above the last one.
 */
int registry_heartbeat(struct registry *reg, const char *session_id,
    const char *node_id, uint64_t seq, const char *address, int64_t now_ms,
    const struct reg_live *live);

/* A node's liveness: "online" when seen within WINDOW_MS of NOW_MS, else "offline"; "never" before it is seen. */
const char *registry_live_state(const struct reg_live *l, int64_t now_ms,
    int64_t window_ms);

/* One change of a node's liveness found by registry_sweep. */
struct reg_transition {
	char node_id[TR_ID_MAX + 1];
	int online;			/* the new state */
	int64_t last_seen_ms;
};

/*
 * Compare each node's liveness at NOW_MS (online when seen within
 * WINDOW_MS) with the one the last sweep saw; *OUT (malloc'd, free())
 * gets the nodes that changed, *N how many.
 */
int registry_sweep(struct registry *reg, int64_t now_ms, int64_t window_ms,
    struct reg_transition **out, size_t *n);

/* Copy of NODE_ID's live figures: TR_ENOTFOUND when never seen. */
int registry_live_get(struct registry *reg, const char *node_id,
    struct reg_live *out);

/* Copies of every live session (*OUT malloc'd, keys zeroized by registry_sessions_free). */
int registry_sessions(struct registry *reg, int64_t now_ms,
    struct reg_session **out, size_t *n);
void registry_sessions_free(struct reg_session *s, size_t n);

/* Copies of every node's live figures (*OUT malloc'd, free()). */
int registry_lives(struct registry *reg, struct reg_live **out, size_t *n);

/* Number of live sessions. */
size_t registry_session_count(struct registry *reg, int64_t now_ms);

#endif /* TROSYN_REGISTRY_H */
