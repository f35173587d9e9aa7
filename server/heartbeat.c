/* The heartbeat thread and node HEARTBEAT verification (PROTOCOL.md section 8). */
#include "config.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "discovery.h"
#include "err.h"
#include "heartbeat.h"
#include "hub.h"
#include "kdf.h"
#include "log.h"
#include "msg.h"
#include "registry.h"
#include "replay.h"
#include "thr.h"

/* How often liveness is checked, at most. */
#define HB_SWEEP_MS	1000

struct heartbeat {
	struct hub *hub;
	struct discovery *disc;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int stop;			/* under lock */
};

/* 3 x heartbeat_interval in milliseconds. */
int64_t
heartbeat_window_ms(struct hub *hub)
{
	int64_t ms;

	thr_rdlock(&hub->conf_lock);
	ms = (int64_t)hub->conf.heartbeat_interval * 3000;
	thr_rwunlock(&hub->conf_lock);
	return ms;
}

/* A non-negative integer member KEY of P, or -1 when absent or null (OPTIONAL); TR_EINVAL when malformed. */
static int
hb_get_count(json_object *p, const char *key, int optional, int64_t *out)
{
	int rc = msg_get_int(p, key, out);

	if (rc == TR_ENOTFOUND && optional) {
		*out = -1;
		return 0;
	}
	if (rc != 0 || *out < 0)
		return TR_EINVAL;
	return 0;
}

/* Read the figures of payload P into LIVE and *SEQ; TR_EINVAL when malformed. */
static int
hb_parse(json_object *p, struct reg_live *live, uint64_t *seq)
{
	const char *state, *err;
	int64_t v;

	if (msg_get_int(p, "seq", &v) != 0 || v < 1)
		return TR_EINVAL;
	*seq = (uint64_t)v;
	if (msg_get_str(p, "state", &state) != 0 ||
	    (strcmp(state, "idle") != 0 && strcmp(state, "syncing") != 0 &&
	    strcmp(state, "error") != 0))
		return TR_EINVAL;
	snprintf(live->state, sizeof(live->state), "%s", state);
	if (hb_get_count(p, "cursor", 0, &live->cursor) != 0 ||
	    hb_get_count(p, "pending", 0, &live->pending) != 0 ||
	    hb_get_count(p, "disk_free", 1, &live->disk_free) != 0)
		return TR_EINVAL;
	live->last_error[0] = '\0';
	switch (msg_get_str(p, "last_error", &err)) {
	case 0:
		if (*err == '\0' || strlen(err) >= sizeof(live->last_error))
			return TR_EINVAL;
		for (const char *c = err; *c != '\0'; c++)
			if (*c < 0x21 || *c > 0x7e)
				return TR_EINVAL;
		snprintf(live->last_error, sizeof(live->last_error), "%s", err);
		break;
	case TR_ENOTFOUND:		/* absent or null */
		break;
	default:
		return TR_EINVAL;
	}
	return 0;
}

/* Verify and record one node HEARTBEAT. */
int
heartbeat_absorb(struct hub *hub, json_object *env, const char *address,
    int64_t now_ms, struct replay *replay, int64_t ttl_ms)
{
	json_object *p = msg_payload(env);
	struct reg_session s;
	struct reg_live live;
	const char *sid;
	uint64_t seq;
	int rc;

	if (msg_get_str(p, "session_id", &sid) != 0 || !msg_valid_uuid(sid))
		return DISC_DROP_MALFORMED + 1;
	if (registry_session_get(hub->reg, sid, now_ms, &s) != 0)
		return DISC_DROP_SESSION + 1;
	rc = msg_verify(env, s.hb_key, sizeof(s.hb_key));
	kdf_cleanse(&s.token, sizeof(s.token));
	kdf_cleanse(&s.session_root, sizeof(s.session_root));
	kdf_cleanse(&s.hb_key, sizeof(s.hb_key));
	if (rc != 0)
		return DISC_DROP_SIGNATURE + 1;
	if (strcmp(msg_source_id(env), s.node_id) != 0)
		return DISC_DROP_SESSION + 1;
	if (replay_check(replay, msg_id(env), now_ms, ttl_ms))
		return DISC_DROP_REPLAY + 1;
	memset(&live, 0, sizeof(live));
	snprintf(live.node_id, sizeof(live.node_id), "%s", s.node_id);
	if (hb_parse(p, &live, &seq) != 0)
		return DISC_DROP_MALFORMED + 1;
	rc = registry_heartbeat(hub->reg, sid, s.node_id, seq, address, now_ms,
	    &live);
	if (rc == TR_EEXIST)
		return DISC_DROP_SEQ + 1;
	if (rc != 0)
		return DISC_DROP_SESSION + 1;
	log_debug("heartbeat: node %s from %s seq %" PRIu64 " state %s cursor "
	    "%" PRId64 " pending %" PRId64, s.node_id, address, seq,
	    live.state, live.cursor, live.pending);
	return 0;
}

/* Log the nodes whose liveness changed. */
static void
hb_sweep(struct heartbeat *hb)
{
	struct reg_transition *t = NULL;
	int64_t window = heartbeat_window_ms(hb->hub);
	size_t n = 0;

	if (registry_sweep(hb->hub->reg, msg_now_ms(), window, &t, &n) != 0)
		return;
	for (size_t i = 0; i < n; i++) {
		if (t[i].online)
			log_info("node %s is online", t[i].node_id);
		else
			log_info("node %s is offline: no heartbeat or login "
			    "for %" PRId64 " s", t[i].node_id, window / 1000);
	}
	free(t);
}

/* The thread: sweep every second, announce every heartbeat_interval. */
static void *
hb_main(void *arg)
{
	struct heartbeat *hb = arg;
	long long now, wait, next_announce = 0;
	int last_rc = 0, interval;

	thr_lock(&hb->lock);
	while (!hb->stop) {
		thr_unlock(&hb->lock);
		now = thr_mono_ms();
		if (now >= next_announce) {
			int rc = discovery_announce(hb->disc);

			if (rc != 0 && rc != last_rc)
				log_warn("heartbeat: cannot multicast the hub's "
				    "heartbeat: %s", tr_strerror(rc));
			last_rc = rc;
			thr_rdlock(&hb->hub->conf_lock);
			interval = hb->hub->conf.heartbeat_interval;
			thr_rwunlock(&hb->hub->conf_lock);
			next_announce = now + (long long)interval * 1000;
		}
		hb_sweep(hb);
		wait = next_announce - thr_mono_ms();
		if (wait > HB_SWEEP_MS)
			wait = HB_SWEEP_MS;
		if (wait < 1)
			wait = 1;
		thr_lock(&hb->lock);
		if (!hb->stop)
			thr_cond_timedwait_ms(&hb->cond, &hb->lock, (long)wait);
	}
	thr_unlock(&hb->lock);
	return NULL;
}

/* Start the heartbeat thread. */
struct heartbeat *
heartbeat_start(struct hub *hub, struct discovery *disc)
{
	struct heartbeat *hb = calloc(1, sizeof(*hb));

	if (hb == NULL)
		return NULL;
	hb->hub = hub;
	hb->disc = disc;
	pthread_mutex_init(&hb->lock, NULL);
	if (thr_cond_init(&hb->cond) != 0)
		goto fail;
	if (thr_create(&hb->thread, "hub-heartbeat", hb_main, hb) != 0) {
		pthread_cond_destroy(&hb->cond);
		goto fail;
	}
	return hb;
fail:
	pthread_mutex_destroy(&hb->lock);
	free(hb);
	return NULL;
}

/* Stop and free. */
void
heartbeat_stop(struct heartbeat *hb)
{
	if (hb == NULL)
		return;
	thr_lock(&hb->lock);
	hb->stop = 1;
	pthread_cond_signal(&hb->cond);
	thr_unlock(&hb->lock);
	pthread_join(hb->thread, NULL);
	pthread_cond_destroy(&hb->cond);
	pthread_mutex_destroy(&hb->lock);
	free(hb);
}
