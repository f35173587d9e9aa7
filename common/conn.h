/* A signed-message channel on one connection: frames, envelopes and the rotating message keys. */
#ifndef TROSYN_CONN_H
#define TROSYN_CONN_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>
#include <openssl/ssl.h>

#include "frame.h"
#include "kdf.h"
#include "trosyn-protocol.h"

/*
 * Before conn_set_keys() every message is signed and verified with a key the
 * caller passes (site_key, node_key, session_root).  After it, the n-th 'J'
 * frame each side sends is signed with the direction's rotating msg_key
 * (PROTOCOL.md section 6): conn_send() takes the next send key, and
 * conn_recv() takes the next receive key for every 'J' frame it reads, even
 * one that then fails to parse, so both sides stay in step.
 */
struct conn {
	struct frame_conn fc;
	struct frame_limits limits;
	struct kdf_msgkey tx;
	struct kdf_msgkey rx;
	int keyed;
	char self_id[TR_ID_MAX + 1];
	char self_name[TR_NAME_MAX + 1];	/* empty: node_name omitted */
};

/*
 * Set up C on FD/SSL (SSL may be NULL for a plain socket) for messages from
 * SELF_ID (SELF_NAME may be NULL) with the receive limits MAX_JSON and
 * MAX_CHUNK (0 when 'C' frames are not allowed).
 */
void conn_init(struct conn *c, int fd, SSL *ssl, uint32_t max_json,
    uint32_t max_chunk, const char *self_id, const char *self_name);

/* Switch to the rotating keys of CONN_KEY; TX_DIR is the direction this side sends. */
void conn_set_keys(struct conn *c, const uint8_t conn_key[TR_KEY_LEN],
    enum tr_dir tx_dir, uint32_t rotate_every);

/* Forget every key (zeroized). */
void conn_clear(struct conn *c);

/*
 * Sign ENV (with KEY of KEYLEN bytes before conn_set_keys, with the next
 * send key after it; KEY is then ignored), encode it canonically and send it
 * as one 'J' frame.  ENV stays the caller's.
 */
int conn_send(struct conn *c, json_object *env, const uint8_t *key,
    size_t keylen);

/*
 * Build, sign and send a message of TYPE answering IN_REPLY_TO (may be
 * NULL).  Takes ownership of PAYLOAD.  When MSGID is not NULL the new
 * message_id is copied there (37 bytes).
 */
int conn_send_msg(struct conn *c, const char *type, const char *in_reply_to,
    json_object *payload, const uint8_t *key, size_t keylen, char *msgid);

/*
 * Send an ERROR with protocol CODE, MESSAGE and DETAILS (owned; NULL = {}),
 * answering IN_REPLY_TO (may be NULL).
 */
int conn_send_error(struct conn *c, const char *in_reply_to, const char *code,
    const char *message, json_object *details, const uint8_t *key,
    size_t keylen);

/*
 * Read one 'J' frame and parse it (msg_parse).  Returns 0 with *ENV, or the
 * error of frame_read_json (TR_ETOOBIG with *MAX, TR_EFRAMETYPE, I/O) or of
 * msg_parse (*ENV may then still be set: see msg_parse).  After
 * conn_set_keys the frame's receive key is in RXKEY (TR_KEY_LEN bytes) for
 * every frame read, parsed or not.
 */
int conn_recv(struct conn *c, json_object **env, uint8_t *rxkey,
    uint32_t *max);

#endif /* TROSYN_CONN_H */
