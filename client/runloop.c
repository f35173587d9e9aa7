/* The schedule of the node's service loop: when to sync, back off, log in again and rediscover. */
#include "config.h"

#include "link.h"
#include "runloop.h"
#include "trosyn-protocol.h"

/* Start a schedule. */
void
runloop_init(struct runloop *rl, int interval_s, long long now)
{
	rl->interval_ms = (long long)(interval_s > 0 ? interval_s : 60) * 1000;
	rl->next_sync_ms = now;
	rl->failures = 0;
	rl->fail_since_ms = 0;
	rl->heartbeat_s = TR_DEF_HEARTBEAT;
}

/* The backoff after FAILURES failures in a row. */
int64_t
runloop_backoff_ms(int failures)
{
	return link_backoff(RUNLOOP_BACKOFF_FIRST_MS,
	    failures > 0 ? failures - 1 : 0, RUNLOOP_BACKOFF_MAX_MS);
}

/* Record an attempt. */
void
runloop_done(struct runloop *rl, int ok, long long now)
{
	if (ok) {
		rl->failures = 0;
		rl->fail_since_ms = 0;
		rl->next_sync_ms = now + rl->interval_ms;
		return;
	}
	if (rl->failures++ == 0)
		rl->fail_since_ms = now;
	rl->next_sync_ms = now + runloop_backoff_ms(rl->failures);
}

/* Non-zero when it is time to look for another hub. */
int
runloop_rediscover_due(struct runloop *rl, long long now)
{
	long long window = (long long)RUNLOOP_OFFLINE_BEATS *
	    (rl->heartbeat_s > 0 ? rl->heartbeat_s : TR_DEF_HEARTBEAT) * 1000;

	if (rl->fail_since_ms == 0 || now - rl->fail_since_ms < window)
		return 0;
	rl->fail_since_ms = now;
	return 1;
}

/* When to replace a session by a new login. */
int64_t
runloop_relogin_at(int64_t login_ms, int64_t expires_ms)
{
	int64_t margin = (expires_ms - login_ms) / 5;

	if (margin > RUNLOOP_RELOGIN_MARGIN_MS)
		margin = RUNLOOP_RELOGIN_MARGIN_MS;
	if (margin < 1000)
		margin = 1000;
	return expires_ms - margin;
}
