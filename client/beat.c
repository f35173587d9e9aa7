/* The node's HEARTBEAT (PROTOCOL.md section 8): its encoding, and a thread that sends one every heartbeat_interval. */
#include "config.h"

#include <sys/socket.h>
#include <sys/statvfs.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "beat.h"
#include "err.h"
#include "kdf.h"
#include "log.h"
#include "msg.h"
#include "thr.h"

#define BEAT_WAIT_MAX_MS	1000	/* longest sleep, so a stop is prompt */

struct beat {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	int stop;			/* under lock */
	char *disk_path;

	/* Under lock. */
	struct beat_session s;
	int has_session;
	int interval_s;
	struct sockaddr_storage to;
	socklen_t tolen;		/* 0 = no target */
	struct beat_figures f;
	long long next_ms;		/* monotonic time of the next heartbeat */
	uint64_t sent;
	int fd;				/* socket of the target's family, -1 = none */
	int fd_family;
	int last_errno;			/* of the last failed send, logged once */
};

/* The name of a state. */
const char *
beat_state_name(enum beat_state st)
{
	switch (st) {
	case BEAT_SYNCING:
		return "syncing";
	case BEAT_ERROR:
		return "error";
	default:
		return "idle";
	}
}

/* Start heartbeats of a session. */
int
beat_session_init(struct beat_session *s, const char *node_id,
    const char *session_id, const uint8_t session_root[TR_KEY_LEN])
{
	memset(s, 0, sizeof(*s));
	if (!msg_valid_id(node_id) || !msg_valid_uuid(session_id))
		return TR_EINVAL;
	snprintf(s->node_id, sizeof(s->node_id), "%s", node_id);
	snprintf(s->session_id, sizeof(s->session_id), "%s", session_id);
	return kdf_heartbeat_key(session_root, s->key);
}

/* Zeroize S. */
void
beat_session_clear(struct beat_session *s)
{
	kdf_cleanse(s, sizeof(*s));
}

/* Non-zero when S may go out as last_error: 1-63 printable ASCII characters, no space. */
static int
beat_valid_error(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > BEAT_ERR_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x21 || s[i] > 0x7e)
			return 0;
	return 1;
}

/* Encode the next heartbeat. */
int
beat_encode(struct beat_session *s, const struct beat_figures *f, char *buf,
    size_t *len)
{
	json_object *env = NULL, *p;
	int rc;

	if (s->seq >= (uint64_t)TR_JSON_INT_MAX || f->cursor < 0 ||
	    f->pending < 0 || f->cursor > TR_JSON_INT_MAX ||
	    f->pending > TR_JSON_INT_MAX || f->disk_free > TR_JSON_INT_MAX)
		return TR_EINVAL;
	if ((p = json_object_new_object()) == NULL)
		return TR_ENOMEM;
	json_object_object_add(p, "role", json_object_new_string("node"));
	json_object_object_add(p, "session_id",
	    json_object_new_string(s->session_id));
	json_object_object_add(p, "seq",
	    json_object_new_int64((int64_t)s->seq + 1));
	json_object_object_add(p, "state",
	    json_object_new_string(beat_state_name(f->state)));
	json_object_object_add(p, "cursor", json_object_new_int64(f->cursor));
	json_object_object_add(p, "pending",
	    json_object_new_int64(f->pending));
	json_object_object_add(p, "last_error",
	    beat_valid_error(f->last_error) ?
	    json_object_new_string(f->last_error) : NULL);
	json_object_object_add(p, "disk_free", f->disk_free >= 0 ?
	    json_object_new_int64(f->disk_free) : NULL);
	/* node_name stays out of UDP to save room (section 5). */
	if ((env = msg_new(TR_MSG_HEARTBEAT, s->node_id, NULL, NULL,
	    p)) == NULL)
		return TR_ENOMEM;
	p = msg_payload(env);
	if ((rc = msg_encode_udp(env, s->key, buf, len)) == TR_ETOOBIG) {
		json_object_object_del(p, "last_error");
		if ((rc = msg_encode_udp(env, s->key, buf, len)) == TR_ETOOBIG) {
			json_object_object_del(p, "disk_free");
			rc = msg_encode_udp(env, s->key, buf, len);
		}
	}
	if (rc == 0)
		s->seq++;
	json_object_put(env);
	return rc;
}

/* Free bytes for unprivileged users on the file system of PATH. */
int64_t
beat_disk_free(const char *path)
{
	struct statvfs sv;
	unsigned long long v;

	if (path == NULL || statvfs(path, &sv) != 0)
		return -1;
	v = (unsigned long long)sv.f_bavail * sv.f_frsize;
	return v > (unsigned long long)TR_JSON_INT_MAX ? TR_JSON_INT_MAX :
	    (int64_t)v;
}

/* Send one heartbeat (B->lock held). */
static void
beat_send_locked(struct beat *b)
{
	char buf[TR_UDP_MAX];
	size_t len = 0;
	int rc;

	if (b->fd < 0 || b->fd_family != b->to.ss_family) {
		if (b->fd >= 0)
			close(b->fd);
		b->fd_family = b->to.ss_family;
		if ((b->fd = socket(b->fd_family, SOCK_DGRAM | SOCK_CLOEXEC,
		    0)) < 0) {
			log_warn("heartbeat: socket: %s", strerror(errno));
			return;
		}
	}
	b->f.disk_free = beat_disk_free(b->disk_path);
	if ((rc = beat_encode(&b->s, &b->f, buf, &len)) != 0) {
		log_warn("heartbeat: cannot encode: %s", tr_strerror(rc));
		return;
	}
	if (sendto(b->fd, buf, len, MSG_DONTWAIT, (struct sockaddr *)&b->to,
	    b->tolen) != (ssize_t)len) {
		if (errno != b->last_errno)
			log_warn("heartbeat: cannot send: %s", strerror(errno));
		b->last_errno = errno;
		return;
	}
	b->last_errno = 0;
	b->sent++;
	log_debug("heartbeat: seq %llu state %s cursor %lld pending %lld",
	    (unsigned long long)b->s.seq, beat_state_name(b->f.state),
	    (long long)b->f.cursor, (long long)b->f.pending);
}

/* The thread: a heartbeat whenever one is due, waking at least every second. */
static void *
beat_main(void *arg)
{
	struct beat *b = arg;
	long long now, wait;

	thr_lock(&b->lock);
	while (!b->stop) {
		now = thr_mono_ms();
		if (b->has_session && b->tolen > 0 && now >= b->next_ms) {
			beat_send_locked(b);
			b->next_ms = now + (long long)b->interval_s * 1000;
		}
		wait = b->has_session && b->tolen > 0 ? b->next_ms - now :
		    BEAT_WAIT_MAX_MS;
		if (wait > BEAT_WAIT_MAX_MS)
			wait = BEAT_WAIT_MAX_MS;
		if (wait < 1)
			wait = 1;
		thr_cond_timedwait_ms(&b->cond, &b->lock, (long)wait);
	}
	thr_unlock(&b->lock);
	return NULL;
}

/* Start the thread. */
struct beat *
beat_start(const char *disk_path)
{
	struct beat *b = calloc(1, sizeof(*b));

	if (b == NULL)
		return NULL;
	b->fd = -1;
	b->f.disk_free = -1;
	if (disk_path != NULL && (b->disk_path = strdup(disk_path)) == NULL)
		goto fail;
	if (pthread_mutex_init(&b->lock, NULL) != 0)
		goto fail;
	if (thr_cond_init(&b->cond) != 0) {
		pthread_mutex_destroy(&b->lock);
		goto fail;
	}
	if (thr_create(&b->thread, "trosyn-beat", beat_main, b) != 0) {
		pthread_cond_destroy(&b->cond);
		pthread_mutex_destroy(&b->lock);
		goto fail;
	}
	return b;
fail:
	free(b->disk_path);
	free(b);
	return NULL;
}

/* Set where heartbeats go. */
void
beat_set_target(struct beat *b, const struct sockaddr *to, socklen_t len)
{
	thr_lock(&b->lock);
	if (to == NULL || len == 0 || len > sizeof(b->to))
		b->tolen = 0;
	else {
		memcpy(&b->to, to, len);
		b->tolen = len;
	}
	b->next_ms = 0;
	pthread_cond_signal(&b->cond);
	thr_unlock(&b->lock);
}

/* Set the session of the heartbeats. */
void
beat_set_session(struct beat *b, const struct beat_session *s, int interval_s)
{
	thr_lock(&b->lock);
	beat_session_clear(&b->s);
	b->has_session = s != NULL;
	if (s != NULL)
		b->s = *s;
	b->interval_s = interval_s > 0 ? interval_s : TR_DEF_HEARTBEAT;
	b->next_ms = 0;
	pthread_cond_signal(&b->cond);
	thr_unlock(&b->lock);
}

/* Set the figures of the next heartbeats. */
void
beat_set_figures(struct beat *b, const struct beat_figures *f)
{
	thr_lock(&b->lock);
	b->f = *f;
	thr_unlock(&b->lock);
}

/* Heartbeats sent and the last seq. */
void
beat_stats(struct beat *b, uint64_t *sent, uint64_t *seq)
{
	thr_lock(&b->lock);
	*sent = b->sent;
	*seq = b->s.seq;
	thr_unlock(&b->lock);
}

/* Stop the thread and free B. */
void
beat_stop(struct beat *b)
{
	if (b == NULL)
		return;
	thr_lock(&b->lock);
	b->stop = 1;
	pthread_cond_signal(&b->cond);
	thr_unlock(&b->lock);
	pthread_join(b->thread, NULL);
	pthread_cond_destroy(&b->cond);
	pthread_mutex_destroy(&b->lock);
	if (b->fd >= 0)
		close(b->fd);
	beat_session_clear(&b->s);
	free(b->disk_path);
	free(b);
}
