/* A signed-message channel on one connection. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "err.h"
#include "msg.h"

/* Set up C on FD/SSL for messages from SELF_ID. */
void
conn_init(struct conn *c, int fd, SSL *ssl, uint32_t max_json,
    uint32_t max_chunk, const char *self_id, const char *self_name)
{
	memset(c, 0, sizeof(*c));
	c->fc.fd = fd;
	c->fc.ssl = ssl;
	c->limits.max_json = max_json;
	c->limits.max_chunk = max_chunk;
	snprintf(c->self_id, sizeof(c->self_id), "%s", self_id);
	if (self_name != NULL)
		snprintf(c->self_name, sizeof(c->self_name), "%s", self_name);
}

/* Switch to the rotating keys of CONN_KEY. */
void
conn_set_keys(struct conn *c, const uint8_t conn_key[TR_KEY_LEN],
    enum tr_dir tx_dir, uint32_t rotate_every)
{
	enum tr_dir rx_dir = tx_dir == TR_DIR_H2C ? TR_DIR_C2H : TR_DIR_H2C;

	kdf_msgkey_init(&c->tx, conn_key, tx_dir, rotate_every);
	kdf_msgkey_init(&c->rx, conn_key, rx_dir, rotate_every);
	c->keyed = 1;
}

/* Forget every key. */
void
conn_clear(struct conn *c)
{
	kdf_msgkey_clear(&c->tx);
	kdf_msgkey_clear(&c->rx);
	c->keyed = 0;
}

/* Sign, encode and send ENV as one 'J' frame. */
int
conn_send(struct conn *c, json_object *env, const uint8_t *key, size_t keylen)
{
	uint8_t mk[TR_KEY_LEN];
	char *text = NULL;
	size_t len;
	int rc;

	if (c->keyed) {
		if ((rc = kdf_msgkey_next(&c->tx, mk)) != 0)
			goto out;
		key = mk;
		keylen = sizeof(mk);
	}
	if ((rc = msg_sign(env, key, keylen)) != 0)
		goto out;
	if ((rc = msg_encode(env, &text, &len)) != 0)
		goto out;
	if (len > UINT32_MAX) {
		rc = TR_ETOOBIG;
		goto out;
	}
	rc = frame_write(&c->fc, TR_FRAME_JSON, text, (uint32_t)len);
out:
	kdf_cleanse(mk, sizeof(mk));
	free(text);
	return rc;
}

/* Build, sign and send a message of TYPE. */
int
conn_send_msg(struct conn *c, const char *type, const char *in_reply_to,
    json_object *payload, const uint8_t *key, size_t keylen, char *msgid)
{
	json_object *env;
	int rc;

	env = msg_new(type, c->self_id, c->self_name[0] != '\0' ?
	    c->self_name : NULL, in_reply_to, payload);
	if (env == NULL)
		return TR_ENOMEM;
	if (msgid != NULL)
		snprintf(msgid, TR_UUID_LEN + 1, "%s", msg_id(env));
	rc = conn_send(c, env, key, keylen);
	json_object_put(env);
	return rc;
}

/* Send an ERROR answering IN_REPLY_TO. */
int
conn_send_error(struct conn *c, const char *in_reply_to, const char *code,
    const char *message, json_object *details, const uint8_t *key,
    size_t keylen)
{
	json_object *payload = msg_error_payload(code, message, details);

	if (payload == NULL)
		return TR_ENOMEM;
	return conn_send_msg(c, TR_MSG_ERROR, in_reply_to, payload, key,
	    keylen, NULL);
}

/* Read one 'J' frame and parse it. */
int
conn_recv(struct conn *c, json_object **env, uint8_t *rxkey, uint32_t *max)
{
	char *body = NULL;
	size_t len;
	int rc;

	*env = NULL;
	if ((rc = frame_read_json(&c->fc, &c->limits, &body, &len, max)) != 0)
		return rc;
	if (c->keyed && (rc = kdf_msgkey_next(&c->rx, rxkey)) != 0)
		goto out;
	rc = msg_parse(body, len, env);
out:
	free(body);
	return rc;
}
