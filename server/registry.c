/* The node registry: live sessions, connections and heartbeat figures under one mutex. */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "err.h"
#include "kdf.h"
#include "msg.h"
#include "registry.h"
#include "thr.h"

struct reg_conn {
	uint64_t handle;
	int fd;
	struct reg_sess *sess;
	struct reg_conn *next;
};

struct reg_sess {
	struct reg_session s;
	struct reg_sess *next;
};

struct reg_node_live {
	struct reg_live l;
	int online;			/* as the last sweep saw it */
	struct reg_node_live *next;
};

struct registry {
	pthread_mutex_t lock;
	struct reg_sess *sessions;
	struct reg_conn *conns;
	struct reg_node_live *lives;
	uint64_t next_handle;
};

/* A new, empty registry. */
struct registry *
registry_new(void)
{
	struct registry *reg = calloc(1, sizeof(*reg));

	if (reg == NULL)
		return NULL;
	pthread_mutex_init(&reg->lock, NULL);
	reg->next_handle = 1;
	return reg;
}

/* Free a session entry, zeroizing its secrets. */
static void
reg_sess_free(struct reg_sess *rs)
{
	kdf_cleanse(&rs->s, sizeof(rs->s));
	free(rs);
}

/* Free REG and everything in it. */
void
registry_free(struct registry *reg)
{
	if (reg == NULL)
		return;
	while (reg->sessions != NULL) {
		struct reg_sess *rs = reg->sessions;

		reg->sessions = rs->next;
		reg_sess_free(rs);
	}
	while (reg->conns != NULL) {
		struct reg_conn *rc = reg->conns;

		reg->conns = rc->next;
		free(rc);
	}
	while (reg->lives != NULL) {
		struct reg_node_live *nl = reg->lives;

		reg->lives = nl->next;
		free(nl);
	}
	pthread_mutex_destroy(&reg->lock);
	free(reg);
}

/* Create a session for NODE_ID. */
int
registry_session_new(struct registry *reg, const char *node_id,
    const char roles[][CONF_ROLE_MAX + 1], int nroles,
    const uint8_t session_root[TR_KEY_LEN], int64_t now_ms, int lifetime_s,
    const char *address, struct reg_session *out)
{
	struct reg_sess *rs = calloc(1, sizeof(*rs));
	int rc;

	if (rs == NULL)
		return TR_ENOMEM;
	if ((rc = kdf_random(rs->s.token, sizeof(rs->s.token))) != 0) {
		free(rs);
		return rc;
	}
	if ((rc = kdf_heartbeat_key(session_root, rs->s.hb_key)) != 0) {
		reg_sess_free(rs);
		return rc;
	}
	msg_new_uuid(rs->s.session_id);
	memcpy(rs->s.session_root, session_root, TR_KEY_LEN);
	snprintf(rs->s.node_id, sizeof(rs->s.node_id), "%s", node_id);
	if (nroles > CONF_MAX_ROLES)
		nroles = CONF_MAX_ROLES;
	for (int i = 0; i < nroles; i++)
		memcpy(rs->s.roles[i], roles[i], sizeof(rs->s.roles[i]));
	rs->s.nroles = nroles;
	rs->s.created_ms = now_ms;
	rs->s.expires_ms = now_ms + (int64_t)lifetime_s * 1000;
	snprintf(rs->s.address, sizeof(rs->s.address), "%s",
	    address != NULL ? address : "");
	thr_lock(&reg->lock);
	rs->next = reg->sessions;
	reg->sessions = rs;
	*out = rs->s;
	thr_unlock(&reg->lock);
	return 0;
}

/* Copy of the session with TOKEN. */
int
registry_session_by_token(struct registry *reg,
    const uint8_t token[TR_TOKEN_LEN], int64_t now_ms, struct reg_session *out)
{
	int rc = TR_ETOKEN;

	thr_lock(&reg->lock);
	for (struct reg_sess *rs = reg->sessions; rs != NULL; rs = rs->next) {
		if (kdf_ct_equal(rs->s.token, token, TR_TOKEN_LEN)) {
			if (rs->s.expires_ms > now_ms) {
				*out = rs->s;
				rc = 0;
			}
			break;
		}
	}
	thr_unlock(&reg->lock);
	return rc;
}

/* Copy of session SESSION_ID. */
int
registry_session_get(struct registry *reg, const char *session_id,
    int64_t now_ms, struct reg_session *out)
{
	int rc = TR_ETOKEN;

	thr_lock(&reg->lock);
	for (struct reg_sess *rs = reg->sessions; rs != NULL; rs = rs->next) {
		if (strcmp(rs->s.session_id, session_id) == 0) {
			if (rs->s.expires_ms > now_ms) {
				*out = rs->s;
				rc = 0;
			}
			break;
		}
	}
	thr_unlock(&reg->lock);
	return rc;
}

/* Register connection FD of SESSION_ID. */
int
registry_conn_add(struct registry *reg, const char *session_id, int fd,
    uint64_t *handle)
{
	struct reg_conn *rc = calloc(1, sizeof(*rc));
	struct reg_sess *rs;

	if (rc == NULL)
		return TR_ENOMEM;
	thr_lock(&reg->lock);
	for (rs = reg->sessions; rs != NULL; rs = rs->next)
		if (strcmp(rs->s.session_id, session_id) == 0)
			break;
	if (rs == NULL) {
		thr_unlock(&reg->lock);
		free(rc);
		return TR_ETOKEN;
	}
	rc->handle = reg->next_handle++;
	rc->fd = fd;
	rc->sess = rs;
	rc->next = reg->conns;
	reg->conns = rc;
	rs->s.connections++;
	*handle = rc->handle;
	thr_unlock(&reg->lock);
	return 0;
}

/* Forget connection HANDLE. */
void
registry_conn_remove(struct registry *reg, uint64_t handle)
{
	thr_lock(&reg->lock);
	for (struct reg_conn **pp = &reg->conns; *pp != NULL;
	    pp = &(*pp)->next) {
		struct reg_conn *rc = *pp;

		if (rc->handle != handle)
			continue;
		*pp = rc->next;
		if (rc->sess != NULL)
			rc->sess->s.connections--;
		free(rc);
		break;
	}
	thr_unlock(&reg->lock);
}

/* Unlink and free every session matching NODE_ID (or expired, when NODE_ID is NULL); lock held. */
static int
reg_drop_sessions(struct registry *reg, const char *node_id, int64_t now_ms)
{
	int n = 0;

	for (struct reg_sess **pp = &reg->sessions; *pp != NULL;) {
		struct reg_sess *rs = *pp;
		int drop;

		if (node_id != NULL)
			drop = strcmp(rs->s.node_id, node_id) == 0;
		else
			drop = rs->s.expires_ms <= now_ms &&
			    rs->s.connections == 0;
		if (!drop) {
			pp = &rs->next;
			continue;
		}
		for (struct reg_conn *rc = reg->conns; rc != NULL;
		    rc = rc->next) {
			if (rc->sess != rs)
				continue;
			/* Wake the worker: its next read or write fails. */
			shutdown(rc->fd, SHUT_RDWR);
			rc->sess = NULL;
		}
		*pp = rs->next;
		reg_sess_free(rs);
		n++;
	}
	return n;
}

/* End every session of NODE_ID. */
int
registry_revoke(struct registry *reg, const char *node_id)
{
	int n;

	thr_lock(&reg->lock);
	n = reg_drop_sessions(reg, node_id, 0);
	thr_unlock(&reg->lock);
	return n;
}

/* Drop expired sessions without connections. */
void
registry_expire(struct registry *reg, int64_t now_ms)
{
	thr_lock(&reg->lock);
	reg_drop_sessions(reg, NULL, now_ms);
	thr_unlock(&reg->lock);
}

/* The live entry of NODE_ID, created when CREATE; lock held. */
static struct reg_node_live *
reg_live_find(struct registry *reg, const char *node_id, int create)
{
	struct reg_node_live *nl;

	for (nl = reg->lives; nl != NULL; nl = nl->next)
		if (strcmp(nl->l.node_id, node_id) == 0)
			return nl;
	if (!create || (nl = calloc(1, sizeof(*nl))) == NULL)
		return NULL;
	snprintf(nl->l.node_id, sizeof(nl->l.node_id), "%s", node_id);
	nl->l.cursor = nl->l.pending = nl->l.disk_free = -1;
	nl->next = reg->lives;
	reg->lives = nl;
	return nl;
}

/* Record that NODE_ID was seen at NOW_MS from ADDRESS. */
void
registry_touch(struct registry *reg, const char *node_id, const char *address,
    int64_t now_ms)
{
	struct reg_node_live *nl;

	thr_lock(&reg->lock);
	if ((nl = reg_live_find(reg, node_id, 1)) != NULL) {
		nl->l.last_seen_ms = now_ms;
		if (address != NULL && *address != '\0')
			snprintf(nl->l.address, sizeof(nl->l.address), "%s",
			    address);
	}
	thr_unlock(&reg->lock);
}

/* Replace the heartbeat figures of LIVE->node_id. */
void
registry_live_update(struct registry *reg, const struct reg_live *live)
{
	struct reg_node_live *nl;

	thr_lock(&reg->lock);
	if ((nl = reg_live_find(reg, live->node_id, 1)) != NULL) {
		nl->l.cursor = live->cursor;
		nl->l.pending = live->pending;
		nl->l.disk_free = live->disk_free;
		if (live->last_sync_ms > 0)
			nl->l.last_sync_ms = live->last_sync_ms;
		memcpy(nl->l.last_error, live->last_error,
		    sizeof(nl->l.last_error));
		memcpy(nl->l.state, live->state, sizeof(nl->l.state));
	}
	thr_unlock(&reg->lock);
}

/* Accept one verified heartbeat. */
int
registry_heartbeat(struct registry *reg, const char *session_id,
    const char *node_id, uint64_t seq, const char *address, int64_t now_ms,
    const struct reg_live *live)
{
	struct reg_node_live *nl;
	struct reg_sess *rs;
	int rc = TR_ETOKEN;

	thr_lock(&reg->lock);
	for (rs = reg->sessions; rs != NULL; rs = rs->next)
		if (strcmp(rs->s.session_id, session_id) == 0)
			break;
	if (rs == NULL || rs->s.expires_ms <= now_ms ||
	    strcmp(rs->s.node_id, node_id) != 0)
		goto out;
	rc = TR_EEXIST;
	if (seq <= rs->s.hb_seq)
		goto out;
	rc = TR_ENOMEM;
	if ((nl = reg_live_find(reg, node_id, 1)) == NULL)
		goto out;
	rs->s.hb_seq = seq;
	nl->l.last_seen_ms = now_ms;
	snprintf(nl->l.address, sizeof(nl->l.address), "%s", address);
	nl->l.cursor = live->cursor;
	nl->l.pending = live->pending;
	nl->l.disk_free = live->disk_free;
	memcpy(nl->l.last_error, live->last_error, sizeof(nl->l.last_error));
	memcpy(nl->l.state, live->state, sizeof(nl->l.state));
	rc = 0;
out:
	thr_unlock(&reg->lock);
	return rc;
}

/* A node's liveness at NOW_MS. */
const char *
registry_live_state(const struct reg_live *l, int64_t now_ms,
    int64_t window_ms)
{
	if (l == NULL || l->last_seen_ms <= 0)
		return "never";
	return now_ms - l->last_seen_ms <= window_ms ? "online" : "offline";
}

/* Find the nodes whose liveness changed since the last sweep. */
int
registry_sweep(struct registry *reg, int64_t now_ms, int64_t window_ms,
    struct reg_transition **out, size_t *n)
{
	struct reg_transition *arr = NULL;
	size_t count = 0, i = 0;

	thr_lock(&reg->lock);
	for (struct reg_node_live *nl = reg->lives; nl != NULL; nl = nl->next)
		if (nl->l.last_seen_ms > 0 && nl->online !=
		    (now_ms - nl->l.last_seen_ms <= window_ms))
			count++;
	if (count > 0 && (arr = calloc(count, sizeof(*arr))) == NULL) {
		thr_unlock(&reg->lock);
		return TR_ENOMEM;
	}
	for (struct reg_node_live *nl = reg->lives; nl != NULL &&
	    i < count; nl = nl->next) {
		int online = now_ms - nl->l.last_seen_ms <= window_ms;

		if (nl->l.last_seen_ms <= 0 || nl->online == online)
			continue;
		nl->online = online;
		snprintf(arr[i].node_id, sizeof(arr[i].node_id), "%s",
		    nl->l.node_id);
		arr[i].online = online;
		arr[i].last_seen_ms = nl->l.last_seen_ms;
		i++;
	}
	thr_unlock(&reg->lock);
	*out = arr;
	*n = count;
	return 0;
}

/* Copy of NODE_ID's live figures. */
int
registry_live_get(struct registry *reg, const char *node_id,
    struct reg_live *out)
{
	struct reg_node_live *nl;
	int rc = TR_ENOTFOUND;

	thr_lock(&reg->lock);
	if ((nl = reg_live_find(reg, node_id, 0)) != NULL) {
		*out = nl->l;
		rc = 0;
	}
	thr_unlock(&reg->lock);
	return rc;
}

/* Copies of every live session. */
int
registry_sessions(struct registry *reg, int64_t now_ms,
    struct reg_session **out, size_t *n)
{
	size_t count = 0, i = 0;
	struct reg_session *arr;

	thr_lock(&reg->lock);
	for (struct reg_sess *rs = reg->sessions; rs != NULL; rs = rs->next)
		if (rs->s.expires_ms > now_ms)
			count++;
	arr = calloc(count > 0 ? count : 1, sizeof(*arr));
	if (arr == NULL) {
		thr_unlock(&reg->lock);
		return TR_ENOMEM;
	}
	for (struct reg_sess *rs = reg->sessions; rs != NULL; rs = rs->next)
		if (rs->s.expires_ms > now_ms)
			arr[i++] = rs->s;
	thr_unlock(&reg->lock);
	*out = arr;
	*n = count;
	return 0;
}

/* Free copies made by registry_sessions. */
void
registry_sessions_free(struct reg_session *s, size_t n)
{
	if (s == NULL)
		return;
	kdf_cleanse(s, n * sizeof(*s));
	free(s);
}

/* Copies of every node's live figures. */
int
registry_lives(struct registry *reg, struct reg_live **out, size_t *n)
{
	size_t count = 0, i = 0;
	struct reg_live *arr;

	thr_lock(&reg->lock);
	for (struct reg_node_live *nl = reg->lives; nl != NULL; nl = nl->next)
		count++;
	arr = calloc(count > 0 ? count : 1, sizeof(*arr));
	if (arr == NULL) {
		thr_unlock(&reg->lock);
		return TR_ENOMEM;
	}
	for (struct reg_node_live *nl = reg->lives; nl != NULL; nl = nl->next)
		arr[i++] = nl->l;
	thr_unlock(&reg->lock);
	*out = arr;
	*n = count;
	return 0;
}

/* Number of live sessions. */
size_t
registry_session_count(struct registry *reg, int64_t now_ms)
{
	size_t n = 0;

	thr_lock(&reg->lock);
	for (struct reg_sess *rs = reg->sessions; rs != NULL; rs = rs->next)
		if (rs->s.expires_ms > now_ms)
			n++;
	thr_unlock(&reg->lock);
	return n;
}
