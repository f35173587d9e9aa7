/* Message envelopes: build, strict parse and validation, signing (PROTOCOL.md sections 2, 5, 10). */
#ifndef TROSYN_MSG_H
#define TROSYN_MSG_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "trosyn-protocol.h"

/* --- Field validators of section 2; each returns non-zero when valid. --- */

/* node_id, hub_id, site_id: 1-64 chars of [A-Za-z0-9._-]. */
int msg_valid_id(const char *s);
/* node_name: 1-64 bytes of valid UTF-8 (no NUL). */
int msg_valid_name(const char *s, size_t len);
/* Lowercase UUID version 4 (36 chars, variant 8/9/a/b). */
int msg_valid_uuid(const char *s);
/* Collection name: 1-64 chars of [a-z0-9_.-]. */
int msg_valid_collection(const char *s);
/* Record id: 1-256 bytes of valid UTF-8, no NUL. */
int msg_valid_record_id(const char *s, size_t len);

/* --- Time --- */

/* Milliseconds since the epoch, UTC wall clock. */
int64_t msg_now_ms(void);
/* Write MS as YYYY-MM-DDTHH:MM:SS.sssZ into BUF (at least 25 bytes). */
void msg_format_time(int64_t ms, char *buf, size_t len);
/*
 * Parse a section 2 timestamp (optional fraction of 1-9 digits, zone Z or
 * +00:00, a real calendar date) into milliseconds; 0 or TR_EINVAL.
 */
int msg_parse_time(const char *s, int64_t *ms);

/* Write a new lowercase UUID v4 into OUT (37 bytes). */
void msg_new_uuid(char out[TR_UUID_LEN + 1]);

/* --- Envelopes --- */

/*
 * Build an unsigned envelope of TYPE from NODE_ID (NODE_NAME may be NULL)
 * with a new message_id and the current time; IN_REPLY_TO may be NULL.
 * Takes ownership of PAYLOAD (NULL means {}).  Returns NULL on ENOMEM.
 */
json_object *msg_new(const char *type, const char *node_id,
    const char *node_name, const char *in_reply_to, json_object *payload);

/* Sign ENV: set "signature" to hex HMAC(KEY, JCS(ENV without "signature")). */
int msg_sign(json_object *env, const uint8_t *key, size_t keylen);

/*
 * Verify ENV's signature against KEY in constant time over the canonical
 * form of what was parsed.  0, or TR_ESIG (also when it is missing).
 */
int msg_verify(json_object *env, const uint8_t *key, size_t keylen);

/*
 * Sign ENV with KEY (TR_KEY_LEN bytes) and write its canonical text into
 * BUF (TR_UDP_MAX bytes), *LEN its length: one datagram of section 8.
 * TR_ETOOBIG when it would exceed TR_UDP_MAX bytes (BUF untouched).
 */
int msg_encode_udp(json_object *env, const uint8_t *key, char *buf,
    size_t *len);

/* Canonical (JCS) text of the whole ENV into a malloc'd buffer. */
int msg_encode(json_object *env, char **out, size_t *len);

/*
 * Strictly parse and validate one envelope from LEN bytes of BUF:
 *   TR_EJSON / TR_EDUPKEY / TR_ERANGE  the text breaks section 2;
 *   TR_EINVAL   not an object, or a member missing or malformed: version
 *               ("MAJOR.MINOR" digits), message_id (UUID v4), timestamp,
 *               source {node_id, optional node_name}, type (A-Z and _,
 *               1-32 chars), optional in_reply_to (UUID v4), payload
 *               (object), signature (64 lowercase hex);
 *   TR_EVERSION well-formed but MAJOR is not 1.
 * When an envelope was at least an object with a valid message_id, *ENV is
 * still set on TR_EINVAL and TR_EVERSION so the caller can answer it with
 * in_reply_to; otherwise *ENV is NULL.  The caller puts *ENV.
 */
int msg_parse(const char *buf, size_t len, json_object **env);

/* Accessors of a parsed or built envelope (pointers into ENV; NULL if absent). */
const char *msg_type(json_object *env);
const char *msg_id(json_object *env);
const char *msg_source_id(json_object *env);
const char *msg_in_reply_to(json_object *env);
json_object *msg_payload(json_object *env);
/* Timestamp in milliseconds; 0 or TR_EINVAL. */
int msg_timestamp(json_object *env, int64_t *ms);

/*
 * Build the payload of an ERROR: {"error": {"code", "message", "details"}}.
 * Takes ownership of DETAILS (NULL means {}).
 */
json_object *msg_error_payload(const char *code, const char *message,
    json_object *details);

/* --- Typed member access for payloads; each returns 0, TR_ENOTFOUND when
 * absent (or null for the _opt forms' "null" reading), TR_EINVAL when the
 * member has the wrong type or form. --- */

/* A string member. */
int msg_get_str(json_object *obj, const char *key, const char **out);
/* A string member of LEN bytes, possibly with NUL inside. */
int msg_get_strlen(json_object *obj, const char *key, const char **out,
    size_t *len);
/* An integer member (a JSON number without fraction or exponent). */
int msg_get_int(json_object *obj, const char *key, int64_t *out);
/* A boolean member. */
int msg_get_bool(json_object *obj, const char *key, int *out);
/* An object member (borrowed). */
int msg_get_obj(json_object *obj, const char *key, json_object **out);
/* An array member (borrowed). */
int msg_get_array(json_object *obj, const char *key, json_object **out);
/* A hex member of exactly N bytes, lowercase, decoded into OUT. */
int msg_get_hex(json_object *obj, const char *key, uint8_t *out, size_t n);
/* Non-zero when KEY is present with the value null. */
int msg_is_null(json_object *obj, const char *key);

#endif /* TROSYN_MSG_H */
