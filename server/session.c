/* Per-connection state machine of the hub's main channel. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "auth.h"
#include "err.h"
#include "log.h"
#include "msg.h"
#include "session.h"
#include "sync.h"
#include "thr.h"
#include "tls.h"

/* How long the rejection path gives a peer to finish TLS and read BUSY. */
#define SESSION_BUSY_TIMEOUT_MS	2000
/* What BUSY tells the peer to wait before it tries again. */
#define SESSION_RETRY_AFTER_MS	1000

/* A message type served after login. */
struct session_handler {
	const char *type;
	session_handler_fn fn;
};

/*
 * Message types served on the main channel after login; a type that is
 * not listed is answered INVALID_REQUEST.
 */
static const struct session_handler session_handlers[] = {
	{ TR_MSG_SYNC_REQUEST, sync_on_request },
	{ TR_MSG_SYNC_ACK, sync_on_ack },
	{ TR_MSG_SYNC_DATA, sync_on_data },
	{ TR_MSG_SYNC_COMPLETE, sync_on_complete },
	{ NULL, NULL }
};

/*
 * Non-zero when ENV may still be served although the session is gone:
 * the session expired (it was not ended) and ENV continues the sync in
 * progress.  A new request gets INVALID_TOKEN (PROTOCOL.md section 6).
 */
static int
session_may_finish(struct hub_conn *hc, json_object *env)
{
	const char *type = msg_type(env);

	return sync_running(hc) && msg_now_ms() >= hc->session.expires_ms &&
	    (strcmp(type, TR_MSG_SYNC_ACK) == 0 ||
	    strcmp(type, TR_MSG_SYNC_DATA) == 0 ||
	    strcmp(type, TR_MSG_SYNC_COMPLETE) == 0);
}

/* Write all LEN bytes of BUF to the socket FD (no SIGPIPE). */
int
session_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return TR_EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Set both socket timeouts of FD to MS milliseconds. */
void
session_set_timeouts(int fd, long ms)
{
	struct timeval tv;

	if (ms < 1)
		ms = 1;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* Send an ERROR on an authenticated connection. */
int
session_error(struct hub_conn *hc, json_object *env, const char *code,
    const char *message, json_object *details)
{
	log_info("peer %s node %s: %s (%s)", hc->item->peer,
	    hc->session.node_id, code, message);
	return conn_send_error(&hc->c, env != NULL ? msg_id(env) : NULL, code,
	    message, details, NULL, 0);
}

/* The handler of TYPE, or NULL. */
static session_handler_fn
session_find(const char *type)
{
	for (const struct session_handler *h = session_handlers;
	    h->type != NULL; h++)
		if (strcmp(h->type, type) == 0)
			return h->fn;
	return NULL;
}

/* Read, verify and check the session of the next message. */
int
session_recv(struct hub_conn *hc, json_object **out)
{
	uint8_t rxkey[TR_KEY_LEN];
	struct reg_session cur;
	json_object *env = NULL, *d;
	uint32_t max = 0;
	int rc;

	*out = NULL;
	rc = conn_recv(&hc->c, &env, rxkey, &max);
	switch (rc) {
	case 0:
		break;
	case TR_ECLOSED:
	case TR_ETRUNC:
	case TR_EIO:
	case TR_ETLS:
		goto out;
	case TR_ETIMEDOUT:
		log_info("peer %s node %s: idle for %d s, closing",
		    hc->item->peer, hc->session.node_id, hc->lim.idle_timeout);
		goto out;
	case TR_ETOOBIG:
		d = json_object_new_object();
		json_object_object_add(d, "max", json_object_new_int64(max));
		session_error(hc, NULL, TR_CODE_TOO_LARGE, "frame too large", d);
		goto out;
	case TR_EVERSION:
		session_error(hc, env, TR_CODE_UNSUPPORTED_VERSION,
		    "unsupported protocol version", NULL);
		goto out;
	default:
		session_error(hc, env, TR_CODE_INVALID_REQUEST,
		    tr_strerror(rc), NULL);
		goto out;
	}
	if (msg_verify(env, rxkey, sizeof(rxkey)) != 0 ||
	    strcmp(msg_source_id(env), hc->session.node_id) != 0) {
		rc = TR_ESIG;
		session_error(hc, env, TR_CODE_ACCESS_DENIED, "bad signature",
		    NULL);
		goto out;
	}
	if (registry_session_get(hc->hub->reg, hc->session.session_id,
	    msg_now_ms(), &cur) != 0 && !session_may_finish(hc, env)) {
		rc = TR_ETOKEN;
		session_error(hc, env, TR_CODE_INVALID_TOKEN,
		    "session expired or ended", NULL);
		goto out;
	}
	kdf_cleanse(&cur, sizeof(cur));
	*out = env;
	env = NULL;
out:
	kdf_cleanse(rxkey, sizeof(rxkey));
	json_object_put(env);
	return rc;
}

/*
 * Read and serve one request; returns 0 to go on, a negative code to close.
 */
static int
session_step(struct hub_conn *hc)
{
	json_object *env = NULL;
	session_handler_fn fn;
	int rc;

	if ((rc = session_recv(hc, &env)) != 0)
		return rc;
	if ((fn = session_find(msg_type(env))) == NULL) {
		char why[96];

		snprintf(why, sizeof(why), "message type %s is not served on "
		    "this channel", msg_type(env));
		rc = session_error(hc, env, TR_CODE_INVALID_REQUEST, why, NULL);
		goto out;
	}
	rc = fn(hc, env);
out:
	json_object_put(env);
	return rc;
}

/* Add the frame bytes HC moved since the last call to the hub's counters. */
static void
session_count_bytes(struct hub_conn *hc)
{
	struct frame_conn *fc = &hc->c.fc;

	__atomic_add_fetch(&hc->hub->stats.bytes_in, fc->bytes_in,
	    __ATOMIC_RELAXED);
	__atomic_add_fetch(&hc->hub->stats.bytes_out, fc->bytes_out,
	    __ATOMIC_RELAXED);
	fc->bytes_in = fc->bytes_out = 0;
}

/* Open HC's connection: auth_timeout deadline, TLS, login, registration. */
int
session_open(struct hub_conn *hc, struct pool *pool, SSL_CTX *ctx,
    uint32_t max_chunk)
{
	struct hub *hub = hc->hub;
	struct pool_item *item = hc->item;
	const char *what = hc->channel == HUB_CHANNEL_FILE ?
	    "file connection" : "connection";
	long left;
	int rc;

	hub_limits_get(hub, &hc->lim);
	/* auth_timeout counts from accept, queueing included. */
	left = (long)hc->lim.auth_timeout * 1000 -
	    (long)(thr_mono_ms() - item->accepted_ms);
	if (left <= 0) {
		log_info("%s from %s waited past auth_timeout in the queue, "
		    "closing", what, item->peer);
		return TR_ETIMEDOUT;
	}
	log_info("%s from %s accepted by worker %d", what, item->peer,
	    hc->worker);
	/* A deadline, not only per-read timeouts: trickling cannot stretch it. */
	pool_set_deadline(pool, hc->worker, item->accepted_ms +
	    (long long)hc->lim.auth_timeout * 1000);
	session_set_timeouts(item->fd, left);
	if ((rc = tls_accept(ctx, item->fd, &hc->ssl)) != 0) {
		log_info("TLS handshake with %s failed: %s", item->peer,
		    tr_strerror(rc));
		return rc;
	}
	conn_init(&hc->c, item->fd, hc->ssl, hc->lim.max_message_size,
	    max_chunk, hub->keys.hub_id, hub->keys.hub_name);
	if ((rc = tls_exporter(hc->ssl, hc->exporter)) != 0 ||
	    (rc = auth_login(hc)) != 0)
		return rc;
	pool_set_deadline(pool, hc->worker, 0);
	if ((rc = registry_conn_add(hub->reg, hc->session.session_id, item->fd,
	    &hc->reg_handle)) != 0)
		return rc;
	session_set_timeouts(item->fd, (long)hc->lim.idle_timeout * 1000);
	return 0;
}

/* Undo session_open: unregister, forget the keys, close TLS. */
void
session_close(struct hub_conn *hc)
{
	if (hc->reg_handle != 0)
		registry_conn_remove(hc->hub->reg, hc->reg_handle);
	hc->reg_handle = 0;
	conn_clear(&hc->c);
	kdf_cleanse(&hc->session, sizeof(hc->session));
	kdf_cleanse(hc->exporter, sizeof(hc->exporter));
	kdf_cleanse(hc->conn_key, sizeof(hc->conn_key));
	tls_close(hc->ssl);
	hc->ssl = NULL;
}

/* Serve one main-channel connection. */
void
session_serve_main(void *arg, struct pool_item *item, int worker)
{
	struct hub *hub = arg;
	struct hub_conn hc;

	memset(&hc, 0, sizeof(hc));
	hc.hub = hub;
	hc.item = item;
	hc.worker = worker;
	hc.channel = HUB_CHANNEL_MAIN;
	hc.db = hub->main_dbs[worker];
	__atomic_add_fetch(&hub->stats.conns_served, 1, __ATOMIC_RELAXED);
	if (session_open(&hc, hub->main_pool, hub->tls_main, 0) == 0)
		while (!hub_stopping(hub) && session_step(&hc) == 0)
			session_count_bytes(&hc);
	session_count_bytes(&hc);
	sync_conn_end(&hc);
	session_close(&hc);
}

/* Answer a connection the saturated pool could not take. */
void
session_serve_busy(void *arg, struct pool_item *item, int worker)
{
	struct hub *hub = arg;
	json_object *d;
	struct conn c;
	SSL *ssl = NULL;

	__atomic_add_fetch(&hub->stats.busy_rejected, 1, __ATOMIC_RELAXED);
	pool_set_deadline(hub->reject_pool, worker, thr_mono_ms() +
	    SESSION_BUSY_TIMEOUT_MS);
	session_set_timeouts(item->fd, SESSION_BUSY_TIMEOUT_MS);
	if (tls_accept(hub->tls_main, item->fd, &ssl) != 0)
		return;
	conn_init(&c, item->fd, ssl, 4096, 0, hub->keys.hub_id,
	    hub->keys.hub_name);
	if ((d = json_object_new_object()) != NULL)
		json_object_object_add(d, "retry_after_ms",
		    json_object_new_int64(SESSION_RETRY_AFTER_MS));
	conn_send_error(&c, NULL, TR_CODE_BUSY, "hub busy, try again later",
	    d, hub->keys.site_key, TR_KEY_LEN);
	tls_close(ssl);
}
