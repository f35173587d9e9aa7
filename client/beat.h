/* The node's HEARTBEAT (PROTOCOL.md section 8): its encoding, and a thread that sends one every heartbeat_interval. */
#ifndef TROSYN_BEAT_H
#define TROSYN_BEAT_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#include "trosyn-protocol.h"

#define BEAT_ERR_MAX	63	/* last_error: 1-63 printable ASCII, no space */

enum beat_state {
	BEAT_IDLE = 0,
	BEAT_SYNCING,
	BEAT_ERROR
};

/* What a heartbeat reports. */
struct beat_figures {
	enum beat_state state;
	int64_t cursor;			/* see runloop.h for which cursor */
	int64_t pending;		/* local changes not yet pushed */
	char last_error[BEAT_ERR_MAX + 1];	/* "" = null */
	int64_t disk_free;		/* bytes; -1 = unknown (null) */
};

/* The session heartbeats belong to. */
struct beat_session {
	char node_id[TR_ID_MAX + 1];
	char session_id[TR_UUID_LEN + 1];
	uint8_t key[TR_KEY_LEN];	/* HKDF(session_root, "", "trosyn/1 heartbeat", 32) */
	uint64_t seq;			/* of the last heartbeat encoded; 0 = none */
};

/*
 * Start heartbeats of session SESSION_ID of NODE_ID: derive the heartbeat
 * key from SESSION_ROOT and start seq over.
 */
int beat_session_init(struct beat_session *s, const char *node_id,
    const char *session_id, const uint8_t session_root[TR_KEY_LEN]);

/* Zeroize S. */
void beat_session_clear(struct beat_session *s);

/*
 * Encode the next HEARTBEAT of S (seq one above the last) reporting F,
 * signed with the heartbeat key, into BUF (TR_UDP_MAX bytes) as *LEN
 * bytes.  When it would exceed 512 bytes, last_error is left out, then
 * disk_free.  An invalid last_error is sent as null.  S->seq advances only
 * on success.
 */
int beat_encode(struct beat_session *s, const struct beat_figures *f,
    char *buf, size_t *len);

/* Free bytes for unprivileged users of the file system holding PATH, or -1. */
int64_t beat_disk_free(const char *path);

/* The name of a state ("idle", "syncing", "error"). */
const char *beat_state_name(enum beat_state st);

/*
 * The heartbeat thread.  Nothing is sent until both a session and a
 * target are set; the first heartbeat of a new session or target goes out
 * at once, the next ones every interval.  disk_free is measured on the
 * file system of DISK_PATH before each one.  Every function is
 * thread-safe.
 */
struct beat;

/* Start the thread; NULL on failure. */
struct beat *beat_start(const char *disk_path);

/* Send to TO (LEN bytes of address) from now on; TO NULL stops sending. */
void beat_set_target(struct beat *b, const struct sockaddr *to,
    socklen_t len);

/* Use session S (copied) every INTERVAL_S seconds from now on; S NULL stops sending. */
void beat_set_session(struct beat *b, const struct beat_session *s,
    int interval_s);

/* Report F from the next heartbeat on (disk_free is measured, not taken from F). */
void beat_set_figures(struct beat *b, const struct beat_figures *f);

/* Heartbeats sent so far, and the seq of the last one. */
void beat_stats(struct beat *b, uint64_t *sent, uint64_t *seq);

/* Stop the thread and free B (NULL is fine). */
void beat_stop(struct beat *b);

#endif /* TROSYN_BEAT_H */
