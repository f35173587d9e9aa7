/* Hub side of the login exchange: challenge, checks in the order of PROTOCOL.md section 6, response. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "err.h"
#include "hex.h"
#include "hubdb.h"
#include "kdf.h"
#include "log.h"
#include "metrics.h"
#include "msg.h"
#include "tls.h"

/* What the hub learned from one AUTH_REQUEST. */
struct auth_req {
	const char *method;
	const char *node_id;
	uint8_t nc[TR_NONCE_LEN];
	uint8_t challenge[TR_NONCE_LEN];
	uint8_t proof[TR_MAC_LEN];
	int has_proof;
	uint8_t token[TR_TOKEN_LEN];
	int has_token;
};

/* Refuse the login: ERROR signed with the site key, count, log. */
static int
auth_refuse(struct hub_conn *hc, json_object *req, const char *node_id,
    const char *code, const char *why, json_object *details, int rc)
{
	struct hub *hub = hc->hub;

	conn_send_error(&hc->c, req != NULL ? msg_id(req) : NULL, code, why,
	    details, hub->keys.site_key, TR_KEY_LEN);
	__atomic_add_fetch(&hub->stats.logins_failed, 1, __ATOMIC_RELAXED);
	metrics_auth_failed(hub, code);
	if (authfail_record(hub->af, hc->item->ip, msg_now_ms()))
		log_warn("address %s banned for 60 s after repeated failed "
		    "logins", hc->item->ip);
	log_info("auth failed: peer %s node %s: %s (%s)", hc->item->peer,
	    node_id != NULL ? node_id : "-", code, why);
	return rc;
}

/* Check the payload of an AUTH_REQUEST for well-formedness (step 3.1). */
static int
auth_parse(json_object *payload, struct auth_req *r, const char **why)
{
	int rc;

	memset(r, 0, sizeof(*r));
	*why = "method must be a string";
	if (msg_get_str(payload, "method", &r->method) != 0)
		return TR_EINVAL;
	*why = "node_id must be 1-64 characters of [A-Za-z0-9._-]";
	if (msg_get_str(payload, "node_id", &r->node_id) != 0 ||
	    !msg_valid_id(r->node_id))
		return TR_EINVAL;
	*why = "nonce must be 64 lowercase hex digits";
	if (msg_get_hex(payload, "nonce", r->nc, sizeof(r->nc)) != 0)
		return TR_EINVAL;
	*why = "challenge must be 64 lowercase hex digits";
	if (msg_get_hex(payload, "challenge", r->challenge,
	    sizeof(r->challenge)) != 0)
		return TR_EINVAL;
	rc = msg_get_hex(payload, "proof", r->proof, sizeof(r->proof));
	*why = "proof must be 64 lowercase hex digits";
	if (rc == 0)
		r->has_proof = 1;
	else if (rc != TR_ENOTFOUND)
		return TR_EINVAL;
	rc = msg_get_hex(payload, "session_token", r->token, sizeof(r->token));
	*why = "session_token must be 64 lowercase hex digits";
	if (rc == 0)
		r->has_token = 1;
	else if (rc != TR_ENOTFOUND)
		return TR_EINVAL;
	*why = "psk needs a proof";
	if (strcmp(r->method, "psk") == 0 && !r->has_proof)
		return TR_EINVAL;
	*why = "token needs session_token and proof";
	if (strcmp(r->method, "token") == 0 && (!r->has_proof || !r->has_token))
		return TR_EINVAL;
	*why = NULL;
	return 0;
}

/* Send AUTH_RESPONSE for a successful login. */
static int
auth_respond(struct hub_conn *hc, json_object *req,
    const struct hubdb_node *node, const uint8_t hub_proof[TR_MAC_LEN])
{
	char tok[2 * TR_TOKEN_LEN + 1], proof[2 * TR_MAC_LEN + 1], when[32];
	json_object *p = json_object_new_object(), *roles;
	int rc;

	if (p == NULL || (roles = json_object_new_array()) == NULL) {
		json_object_put(p);
		return TR_ENOMEM;
	}
	for (int i = 0; i < node->nroles; i++)
		json_object_array_add(roles,
		    json_object_new_string(node->roles[i]));
	hex_encode(hc->session.token, TR_TOKEN_LEN, tok);
	hex_encode(hub_proof, TR_MAC_LEN, proof);
	msg_format_time(hc->session.expires_ms, when, sizeof(when));
	json_object_object_add(p, "status", json_object_new_string("ok"));
	json_object_object_add(p, "session_id",
	    json_object_new_string(hc->session.session_id));
	json_object_object_add(p, "session_token", json_object_new_string(tok));
	json_object_object_add(p, "expires_at", json_object_new_string(when));
	json_object_object_add(p, "hub_proof", json_object_new_string(proof));
	json_object_object_add(p, "roles", roles);
	json_object_object_add(p, "rotate_every",
	    json_object_new_int64(hc->lim.rotate_every));
	json_object_object_add(p, "heartbeat_interval",
	    json_object_new_int64(hc->lim.heartbeat_interval));
	json_object_object_add(p, "max_message_size",
	    json_object_new_int64(hc->lim.max_message_size));
	json_object_object_add(p, "max_batch",
	    json_object_new_int64(hc->lim.max_batch));
	json_object_object_add(p, "chunk_size",
	    json_object_new_int64(hc->lim.chunk_size));
	rc = conn_send_msg(&hc->c, TR_MSG_AUTH_RESPONSE, msg_id(req), p, NULL,
	    0, NULL);
	kdf_cleanse(tok, sizeof(tok));
	return rc;
}

/* Send AUTH_CHALLENGE with a fresh nonce NH. */
static int
auth_challenge(struct hub_conn *hc, uint8_t nh[TR_NONCE_LEN])
{
	char nonce[2 * TR_NONCE_LEN + 1], now[32];
	json_object *p, *methods;
	int rc;

	if ((rc = kdf_random(nh, TR_NONCE_LEN)) != 0)
		return rc;
	hex_encode(nh, TR_NONCE_LEN, nonce);
	msg_format_time(msg_now_ms(), now, sizeof(now));
	if ((p = json_object_new_object()) == NULL ||
	    (methods = json_object_new_array()) == NULL) {
		json_object_put(p);
		return TR_ENOMEM;
	}
	if (hc->channel == HUB_CHANNEL_MAIN) {
		json_object_array_add(methods, json_object_new_string("psk"));
		json_object_array_add(methods,
		    json_object_new_string("certificate"));
	}
	json_object_array_add(methods, json_object_new_string("token"));
	json_object_object_add(p, "nonce", json_object_new_string(nonce));
	json_object_object_add(p, "hub_id",
	    json_object_new_string(hc->hub->keys.hub_id));
	json_object_object_add(p, "hub_time", json_object_new_string(now));
	json_object_object_add(p, "methods", methods);
	return conn_send_msg(&hc->c, TR_MSG_AUTH_CHALLENGE, NULL, p,
	    hc->hub->keys.site_key, TR_KEY_LEN, NULL);
}

/* Answer a frame or parse failure before login; returns the close code. */
static int
auth_bad_frame(struct hub_conn *hc, json_object *env, int rc, uint32_t max)
{
	json_object *d;

	switch (rc) {
	case TR_ETOOBIG:
		d = json_object_new_object();
		json_object_object_add(d, "max", json_object_new_int64(max));
		return auth_refuse(hc, NULL, NULL, TR_CODE_TOO_LARGE,
		    "frame too large", d, rc);
	case TR_EFRAMETYPE:
		return auth_refuse(hc, NULL, NULL, TR_CODE_INVALID_REQUEST,
		    "unknown or misplaced frame type", NULL, rc);
	case TR_EVERSION:
		return auth_refuse(hc, env, NULL, TR_CODE_UNSUPPORTED_VERSION,
		    "unsupported protocol version", NULL, rc);
	default:
		return auth_refuse(hc, env, NULL, TR_CODE_INVALID_REQUEST,
		    tr_strerror(rc), NULL, rc);
	}
}

/* Run the login on HC. */
int
auth_login(struct hub_conn *hc)
{
	struct hub *hub = hc->hub;
	uint8_t nh[TR_NONCE_LEN], key[TR_KEY_LEN], root[TR_KEY_LEN];
	uint8_t want[TR_MAC_LEN], hub_proof[TR_MAC_LEN], conn_key[TR_KEY_LEN];
	struct hubdb_node node;
	struct reg_session sess;
	struct auth_req r;
	json_object *env = NULL, *payload;
	const char *why, *method_name;
	char cn[TR_ID_MAX + 1];
	int64_t ts, now;
	uint32_t max = 0;
	int rc, method, parse_rc;

	memset(&node, 0, sizeof(node));
	memset(&sess, 0, sizeof(sess));
	if ((rc = auth_challenge(hc, nh)) != 0)
		goto out;
	rc = conn_recv(&hc->c, &env, NULL, &max);
	if (rc == TR_ECLOSED || rc == TR_ETIMEDOUT || rc == TR_ETRUNC ||
	    rc == TR_EIO || rc == TR_ETLS) {
		log_info("connection from %s ended before login: %s",
		    hc->item->peer, tr_strerror(rc));
		goto out;
	}
	parse_rc = rc;
	if (rc != 0 && rc != TR_EVERSION) {
		rc = auth_bad_frame(hc, env, rc, max);
		goto out;
	}
	if (strcmp(msg_type(env), TR_MSG_AUTH_REQUEST) != 0) {
		rc = auth_refuse(hc, env, NULL, TR_CODE_AUTH_REQUIRED,
		    "log in first", NULL, TR_EACCES);
		goto out;
	}
	/* 1: well-formed, then the major version. */
	payload = msg_payload(env);
	if (auth_parse(payload, &r, &why) != 0) {
		rc = auth_refuse(hc, env, NULL, TR_CODE_INVALID_REQUEST, why,
		    NULL, TR_EINVAL);
		goto out;
	}
	if (parse_rc == TR_EVERSION) {
		rc = auth_bad_frame(hc, env, parse_rc, 0);
		goto out;
	}
	/* 2: method offered on this channel, then the key. */
	if (strcmp(r.method, "token") == 0)
		method = AUTH_METHOD_TOKEN;
	else if (strcmp(r.method, "psk") == 0 &&
	    hc->channel == HUB_CHANNEL_MAIN)
		method = HUB_METHOD_PSK;
	else if (strcmp(r.method, "certificate") == 0 &&
	    hc->channel == HUB_CHANNEL_MAIN)
		method = HUB_METHOD_CERT;
	else {
		rc = auth_refuse(hc, env, r.node_id, TR_CODE_ACCESS_DENIED,
		    "method not offered on this channel", NULL, TR_EACCES);
		goto out;
	}
	now = msg_now_ms();
	switch (method) {
	case HUB_METHOD_PSK:
		rc = hubdb_node_get(hc->db, r.node_id, &node);
		if (rc != 0 || node.method != HUB_METHOD_PSK) {
			rc = auth_refuse(hc, env, r.node_id,
			    TR_CODE_ACCESS_DENIED, rc == TR_EDB ?
			    "database error" : "unknown node", NULL,
			    TR_EACCES);
			goto out;
		}
		memcpy(key, node.node_key, TR_KEY_LEN);
		break;
	case HUB_METHOD_CERT:
		rc = tls_peer_cn(hc->ssl, cn, sizeof(cn));
		if (rc != 0 || strcmp(cn, r.node_id) != 0 ||
		    hubdb_node_get(hc->db, r.node_id, &node) != 0 ||
		    node.method != HUB_METHOD_CERT) {
			rc = auth_refuse(hc, env, r.node_id,
			    TR_CODE_ACCESS_DENIED, "no verified client "
			    "certificate for an enrolled certificate node",
			    NULL, TR_EACCES);
			goto out;
		}
		memcpy(key, hub->keys.site_key, TR_KEY_LEN);
		break;
	default:
		if (registry_session_by_token(hub->reg, r.token, now,
		    &sess) != 0) {
			rc = auth_refuse(hc, env, r.node_id,
			    TR_CODE_INVALID_TOKEN, "unknown or expired session "
			    "token", NULL, TR_ETOKEN);
			goto out;
		}
		memcpy(key, sess.session_root, TR_KEY_LEN);
		break;
	}
	/* 3: signature. */
	if (msg_verify(env, key, TR_KEY_LEN) != 0) {
		rc = auth_refuse(hc, env, r.node_id, TR_CODE_ACCESS_DENIED,
		    "bad signature", NULL, TR_ESIG);
		goto out;
	}
	/* 4: challenge echo, source, token owner. */
	if (!kdf_ct_equal(r.challenge, nh, TR_NONCE_LEN) ||
	    strcmp(msg_source_id(env), r.node_id) != 0 ||
	    (method == AUTH_METHOD_TOKEN && strcmp(sess.node_id,
	    r.node_id) != 0)) {
		rc = auth_refuse(hc, env, r.node_id, TR_CODE_ACCESS_DENIED,
		    "challenge, source or token owner mismatch", NULL,
		    TR_EACCES);
		goto out;
	}
	/* 5: not revoked (the database is the truth). */
	if (method == AUTH_METHOD_TOKEN &&
	    hubdb_node_get(hc->db, r.node_id, &node) != 0)
		node.revoked = 1;
	if (node.revoked) {
		rc = auth_refuse(hc, env, r.node_id, TR_CODE_ACCESS_DENIED,
		    "node revoked", NULL, TR_EACCES);
		goto out;
	}
	/* 6: clock skew. */
	if (msg_timestamp(env, &ts) != 0 ||
	    llabs(ts - now) > (long long)hc->lim.max_clock_skew * 1000) {
		char hub_time[32];
		json_object *d = json_object_new_object();

		msg_format_time(now, hub_time, sizeof(hub_time));
		json_object_object_add(d, "hub_time",
		    json_object_new_string(hub_time));
		rc = auth_refuse(hc, env, r.node_id, TR_CODE_CLOCK_SKEW,
		    "clock skew too large", d, TR_ESKEW);
		goto out;
	}
	/* 7: proof. */
	rc = 0;
	if (method == HUB_METHOD_PSK)
		rc = kdf_client_proof(key, nh, r.nc, hc->exporter, want);
	else if (method == AUTH_METHOD_TOKEN)
		rc = kdf_token_proof(key, nh, r.nc, hc->exporter, want);
	if (rc != 0 || (method != HUB_METHOD_CERT && (!r.has_proof ||
	    !kdf_ct_equal(want, r.proof, TR_MAC_LEN)))) {
		rc = auth_refuse(hc, env, r.node_id, TR_CODE_ACCESS_DENIED,
		    "wrong proof", NULL, TR_EACCES);
		goto out;
	}

	/* Keys, session, response. */
	switch (method) {
	case HUB_METHOD_PSK:
		method_name = "psk";
		rc = kdf_session_root_psk(key, nh, r.nc, root);
		if (rc == 0)
			rc = kdf_hub_proof(key, nh, r.nc, hc->exporter,
			    hub_proof);
		break;
	case HUB_METHOD_CERT:
		method_name = "certificate";
		rc = kdf_session_root_cert(hc->exporter, nh, r.nc, root);
		if (rc == 0)
			rc = kdf_hub_proof(root, nh, r.nc, hc->exporter,
			    hub_proof);
		break;
	default:
		method_name = "token";
		memcpy(root, sess.session_root, TR_KEY_LEN);
		rc = kdf_hub_proof(root, nh, r.nc, hc->exporter, hub_proof);
		break;
	}
	if (rc == 0 && method != AUTH_METHOD_TOKEN)
		rc = registry_session_new(hub->reg, node.node_id, node.roles,
		    node.nroles, root, now, hc->lim.session_lifetime,
		    hc->item->peer, &sess);
	if (rc == 0)
		rc = kdf_conn_key(root, nh, r.nc, hc->exporter, conn_key);
	if (rc != 0) {
		rc = auth_refuse(hc, env, r.node_id, TR_CODE_INTERNAL_ERROR,
		    "internal error", NULL, rc);
		goto out;
	}
	hc->session = sess;
	hc->method = method;
	conn_set_keys(&hc->c, conn_key, TR_DIR_H2C, hc->lim.rotate_every);
	/* The file channel derives each transfer's file key from it. */
	if (hc->channel == HUB_CHANNEL_FILE)
		memcpy(hc->conn_key, conn_key, sizeof(hc->conn_key));
	if ((rc = auth_respond(hc, env, &node, hub_proof)) != 0) {
		log_info("auth: cannot answer %s: %s", hc->item->peer,
		    tr_strerror(rc));
		goto out;
	}
	hc->authed = 1;
	__atomic_add_fetch(&hub->stats.logins_ok, 1, __ATOMIC_RELAXED);
	registry_touch(hub->reg, node.node_id, hc->item->peer, now);
	hubdb_node_seen(hc->db, node.node_id, hc->item->peer, now);
	log_info("auth ok: node %s method %s peer %s session %s",
	    node.node_id, method_name, hc->item->peer,
	    hc->session.session_id);
out:
	kdf_cleanse(key, sizeof(key));
	kdf_cleanse(root, sizeof(root));
	kdf_cleanse(conn_key, sizeof(conn_key));
	kdf_cleanse(&node, sizeof(node));
	kdf_cleanse(&sess, sizeof(sess));
	json_object_put(env);
	return rc;
}
