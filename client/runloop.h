/* The schedule of the node's service loop: when to sync, back off, log in again and rediscover. */
#ifndef TROSYN_RUNLOOP_H
#define TROSYN_RUNLOOP_H

#include <stdint.h>

#define RUNLOOP_BACKOFF_FIRST_MS	1000
#define RUNLOOP_BACKOFF_MAX_MS		60000
#define RUNLOOP_RELOGIN_MARGIN_MS	60000	/* at most; a fifth of a short session */
#define RUNLOOP_OFFLINE_BEATS		3	/* unreachable this many heartbeat intervals: rediscover */

/*
 * Times are milliseconds of the monotonic clock (thr_mono_ms) unless
 * named wall (msg_now_ms).
 */
struct runloop {
	long long interval_ms;		/* between syncs */
	long long next_sync_ms;
	int failures;			/* failed attempts in a row */
	long long fail_since_ms;	/* first of them; 0 = none */
	int heartbeat_s;		/* the session's heartbeat_interval */
};

/* Start a schedule with syncs every INTERVAL_S seconds, the first at NOW. */
void runloop_init(struct runloop *rl, int interval_s, long long now);

/*
 * Record an attempt at NOW that reached the hub (OK) or not: the next sync
 * comes an interval later, or after the backoff of the failures so far.
 */
void runloop_done(struct runloop *rl, int ok, long long now);

/* The backoff after FAILURES failures in a row: 1 s doubling to 60 s, +-20%. */
int64_t runloop_backoff_ms(int failures);

/*
 * Non-zero when the hub has stayed unreachable for RUNLOOP_OFFLINE_BEATS
 * heartbeat intervals at NOW; the count then starts over.
 */
int runloop_rediscover_due(struct runloop *rl, long long now);

/*
 * The wall time at which a session logged in at LOGIN_MS and expiring at
 * EXPIRES_MS is replaced by a new login: a fifth of its life, at most 60 s,
 * at least 1 s, before it expires.
 */
int64_t runloop_relogin_at(int64_t login_ms, int64_t expires_ms);

#endif /* TROSYN_RUNLOOP_H */
