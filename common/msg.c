/* Message envelopes: building, strict parsing and validation, HMAC signatures. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <uuid/uuid.h>

#include "err.h"
#include "hex.h"
#include "jcs.h"
#include "kdf.h"
#include "msg.h"

#define MSG_TYPE_MAX	32
#define MSG_MS_PER_DAY	86400000LL

/* --- Field validators --- */

/* Non-zero when S is 1-MAX chars, each one accepted by OK. */
static int
msg_valid_chars(const char *s, size_t max, int (*ok)(char))
{
	size_t i;

	if (s == NULL)
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if (i >= max || !ok(s[i]))
			return 0;
	return i > 0;
}

/* [A-Za-z0-9._-]. */
static int
msg_id_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

/* [a-z0-9_.-]. */
static int
msg_collection_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
	    c == '_' || c == '-';
}

/* [A-Z_]. */
static int
msg_type_char(char c)
{
	return (c >= 'A' && c <= 'Z') || c == '_';
}

/* Non-zero when S (LEN bytes) is 1-MAX bytes of UTF-8 without NUL. */
static int
msg_valid_utf8(const char *s, size_t len, size_t max)
{
	return s != NULL && len > 0 && len <= max &&
	    memchr(s, '\0', len) == NULL && jcs_utf8_valid(s, len);
}

/* node_id, hub_id, site_id: 1-64 chars of [A-Za-z0-9._-]. */
int
msg_valid_id(const char *s)
{
	return msg_valid_chars(s, TR_ID_MAX, msg_id_char);
}

/* node_name: 1-64 bytes of valid UTF-8 (no NUL). */
int
msg_valid_name(const char *s, size_t len)
{
	return msg_valid_utf8(s, len, TR_NAME_MAX);
}

/* Lowercase UUID version 4 (36 chars, variant 8/9/a/b). */
int
msg_valid_uuid(const char *s)
{
	if (s == NULL)
		return 0;
	for (int i = 0; i < TR_UUID_LEN; i++) {
		char c = s[i];

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (c != '-')
				return 0;
		} else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return 0;
	}
	return s[TR_UUID_LEN] == '\0' && s[14] == '4' &&
	    (s[19] == '8' || s[19] == '9' || s[19] == 'a' || s[19] == 'b');
}

/* Collection name: 1-64 chars of [a-z0-9_.-]. */
int
msg_valid_collection(const char *s)
{
	return msg_valid_chars(s, TR_ID_MAX, msg_collection_char);
}

/* Record id: 1-256 bytes of valid UTF-8, no NUL. */
int
msg_valid_record_id(const char *s, size_t len)
{
	return msg_valid_utf8(s, len, TR_RECORD_ID_MAX);
}

/* --- Time --- */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static int64_t
msg_days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* The date of day Z since 1970-01-01 (H. Hinnant's algorithm). */
static void
msg_civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* Milliseconds since the epoch, UTC wall clock. */
int64_t
msg_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Write MS as YYYY-MM-DDTHH:MM:SS.sssZ into BUF. */
void
msg_format_time(int64_t ms, char *buf, size_t len)
{
	int64_t days = ms / MSG_MS_PER_DAY, rem = ms % MSG_MS_PER_DAY, y;
	int m, d;

	if (rem < 0) {
		rem += MSG_MS_PER_DAY;
		days--;
	}
	msg_civil_from_days(days, &y, &m, &d);
	snprintf(buf, len, "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    (long long)y, m, d, (int)(rem / 3600000), (int)(rem / 60000 % 60),
	    (int)(rem / 1000 % 60), (int)(rem % 1000));
}

/* Read exactly N decimal digits at S into *V; 0 when one is not a digit. */
static int
msg_digits(const char *s, int n, int *v)
{
	int r = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		r = r * 10 + (s[i] - '0');
	}
	*v = r;
	return 1;
}

/* Parse a section 2 timestamp into milliseconds since the epoch. */
int
msg_parse_time(const char *s, int64_t *ms)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	int y, mo, d, h, mi, sec, frac = 0, nfrac = 0, leap;
	const char *p;

	if (s == NULL ||
	    !msg_digits(s, 4, &y) || s[4] != '-' ||
	    !msg_digits(s + 5, 2, &mo) || s[7] != '-' ||
	    !msg_digits(s + 8, 2, &d) || s[10] != 'T' ||
	    !msg_digits(s + 11, 2, &h) || s[13] != ':' ||
	    !msg_digits(s + 14, 2, &mi) || s[16] != ':' ||
	    !msg_digits(s + 17, 2, &sec))
		return TR_EINVAL;
	p = s + 19;
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++) {
			if (++nfrac > 9)
				return TR_EINVAL;
			if (nfrac <= 3)
				frac = frac * 10 + (*p - '0');
		}
		if (nfrac == 0)
			return TR_EINVAL;
		for (int i = nfrac; i < 3; i++)
			frac *= 10;
	}
	if (strcmp(p, "Z") != 0 && strcmp(p, "+00:00") != 0)
		return TR_EINVAL;
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (mo < 1 || mo > 12 || d < 1 ||
	    d > mdays[mo - 1] + (mo == 2 && leap) || h > 23 || mi > 59 ||
	    sec > 59)
		return TR_EINVAL;
	*ms = msg_days_from_civil(y, mo, d) * MSG_MS_PER_DAY +
	    (int64_t)h * 3600000 + (int64_t)mi * 60000 + (int64_t)sec * 1000 +
	    frac;
	return 0;
}

/* Write a new lowercase UUID v4 into OUT. */
void
msg_new_uuid(char out[TR_UUID_LEN + 1])
{
	uuid_t u;

	uuid_generate_random(u);
	uuid_unparse_lower(u, out);
}

/* --- Envelopes --- */

/* Add VAL (owned; NULL means it could not be made) as KEY of OBJ. */
static int
msg_add(json_object *obj, const char *key, json_object *val)
{
	if (val == NULL)
		return TR_ENOMEM;
	if (json_object_object_add(obj, key, val) != 0) {
		json_object_put(val);
		return TR_ENOMEM;
	}
	return 0;
}

/* Add the string S as KEY of OBJ. */
static int
msg_add_str(json_object *obj, const char *key, const char *s)
{
	return msg_add(obj, key, json_object_new_string(s));
}

/* Build an unsigned envelope. */
json_object *
msg_new(const char *type, const char *node_id, const char *node_name,
    const char *in_reply_to, json_object *payload)
{
	json_object *env = NULL, *src = NULL;
	char id[TR_UUID_LEN + 1], ts[32];
	int rc;

	if (payload == NULL && (payload = json_object_new_object()) == NULL)
		return NULL;
	if (type == NULL || node_id == NULL ||
	    (env = json_object_new_object()) == NULL ||
	    (src = json_object_new_object()) == NULL)
		goto fail;
	msg_new_uuid(id);
	msg_format_time(msg_now_ms(), ts, sizeof(ts));
	if (msg_add_str(src, "node_id", node_id) != 0 ||
	    (node_name != NULL && msg_add_str(src, "node_name", node_name) != 0))
		goto fail;
	rc = msg_add(env, "source", src);
	src = NULL;
	if (rc != 0)
		goto fail;
	rc = msg_add(env, "payload", payload);
	payload = NULL;
	if (rc != 0 ||
	    msg_add_str(env, "version", TR_PROTO_VERSION) != 0 ||
	    msg_add_str(env, "message_id", id) != 0 ||
	    msg_add_str(env, "timestamp", ts) != 0 ||
	    msg_add_str(env, "type", type) != 0 ||
	    (in_reply_to != NULL &&
	    msg_add_str(env, "in_reply_to", in_reply_to) != 0))
		goto fail;
	return env;
fail:
	json_object_put(payload);
	json_object_put(src);
	json_object_put(env);
	return NULL;
}

/* HMAC of the canonical form of ENV without its "signature" into MAC. */
static int
msg_mac(json_object *env, const uint8_t *key, size_t keylen,
    uint8_t mac[TR_MAC_LEN])
{
	char *text = NULL;
	size_t len;
	int rc;

	if (!json_object_is_type(env, json_type_object) || key == NULL)
		return TR_EINVAL;
	if ((rc = jcs_serialize_without(env, "signature", &text, &len)) != 0)
		return rc;
	rc = kdf_hmac(key, keylen, text, len, mac);
	free(text);
	return rc;
}

/* Sign ENV: set "signature" to hex HMAC(KEY, JCS(ENV without "signature")). */
int
msg_sign(json_object *env, const uint8_t *key, size_t keylen)
{
	uint8_t mac[TR_MAC_LEN];
	char hex[2 * TR_MAC_LEN + 1];
	int rc;

	if ((rc = msg_mac(env, key, keylen, mac)) != 0)
		return rc;
	hex_encode(mac, sizeof(mac), hex);
	return msg_add_str(env, "signature", hex);
}

/* Verify ENV's signature against KEY in constant time. */
int
msg_verify(json_object *env, const uint8_t *key, size_t keylen)
{
	uint8_t mac[TR_MAC_LEN], want[TR_MAC_LEN];
	json_object *sig;
	int rc;

	if (!json_object_is_type(env, json_type_object) ||
	    !json_object_object_get_ex(env, "signature", &sig) ||
	    !json_object_is_type(sig, json_type_string) ||
	    hex_decode(json_object_get_string(sig),
	    (size_t)json_object_get_string_len(sig), want, sizeof(want)) != 0)
		return TR_ESIG;
	rc = msg_mac(env, key, keylen, mac);
	if (rc == TR_ENOMEM || rc == TR_ECRYPTO)
		return rc;
	if (rc != 0 || !kdf_ct_equal(mac, want, sizeof(mac)))
		return TR_ESIG;
	return 0;
}

/* Sign ENV and encode it as one datagram of at most TR_UDP_MAX bytes. */
int
msg_encode_udp(json_object *env, const uint8_t *key, char *buf, size_t *len)
{
	char *text = NULL;
	size_t n = 0;
	int rc;

	if ((rc = msg_sign(env, key, TR_KEY_LEN)) != 0 ||
	    (rc = msg_encode(env, &text, &n)) != 0)
		return rc;
	if (n > TR_UDP_MAX)
		rc = TR_ETOOBIG;
	else {
		memcpy(buf, text, n);
		*len = n;
	}
	free(text);
	return rc;
}

/* Canonical (JCS) text of the whole ENV into a malloc'd buffer. */
int
msg_encode(json_object *env, char **out, size_t *len)
{
	return jcs_serialize(env, out, len);
}

/* The string member KEY of OBJ (no NUL inside; length in *LEN), or NULL. */
static const char *
msg_str(json_object *obj, const char *key, size_t *len)
{
	json_object *v;
	const char *s;
	size_t n;

	if (!json_object_object_get_ex(obj, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	s = json_object_get_string(v);
	n = (size_t)json_object_get_string_len(v);
	if (memchr(s, '\0', n) != NULL)
		return NULL;
	if (len != NULL)
		*len = n;
	return s;
}

/*
 * Non-zero when S is "MAJOR.MINOR" (decimal digits); *MAJOR is the major
 * number, or -1 when it has too many digits to be 1.
 */
static int
msg_valid_version(const char *s, long *major)
{
	const char *p = s;
	long v = 0;

	if (s == NULL)
		return 0;
	for (; *p >= '0' && *p <= '9'; p++)
		if (v >= 0)
			v = p - s < 9 ? v * 10 + (*p - '0') : -1;
	if (p == s || *p++ != '.' || *p < '0' || *p > '9')
		return 0;
	while (*p >= '0' && *p <= '9')
		p++;
	if (*p != '\0')
		return 0;
	*major = v;
	return 1;
}

/* Check every member of an envelope but message_id; 0, TR_EINVAL or TR_EVERSION. */
static int
msg_check_envelope(json_object *env)
{
	json_object *src, *v;
	const char *s;
	size_t len;
	int64_t ms;
	long major = -1;

	if (!msg_valid_version(msg_str(env, "version", NULL), &major) ||
	    msg_parse_time(msg_str(env, "timestamp", NULL), &ms) != 0)
		return TR_EINVAL;
	if (!json_object_object_get_ex(env, "source", &src) ||
	    !json_object_is_type(src, json_type_object) ||
	    !msg_valid_id(msg_str(src, "node_id", NULL)))
		return TR_EINVAL;
	if (json_object_object_get_ex(src, "node_name", NULL) &&
	    ((s = msg_str(src, "node_name", &len)) == NULL ||
	    !msg_valid_name(s, len)))
		return TR_EINVAL;
	if (!msg_valid_chars(msg_str(env, "type", NULL), MSG_TYPE_MAX,
	    msg_type_char))
		return TR_EINVAL;
	if (json_object_object_get_ex(env, "in_reply_to", NULL) &&
	    !msg_valid_uuid(msg_str(env, "in_reply_to", NULL)))
		return TR_EINVAL;
	if (!json_object_object_get_ex(env, "payload", &v) ||
	    !json_object_is_type(v, json_type_object))
		return TR_EINVAL;
	if ((s = msg_str(env, "signature", &len)) == NULL ||
	    !hex_valid(s, len, TR_MAC_LEN))
		return TR_EINVAL;
	if (major != TR_PROTO_MAJOR)
		return TR_EVERSION;
	return 0;
}

/* Strictly parse and validate one envelope. */
int
msg_parse(const char *buf, size_t len, json_object **env)
{
	json_object *obj = NULL;
	int rc;

	*env = NULL;
	if ((rc = jcs_parse(buf, len, &obj)) != 0)
		return rc;
	if (!json_object_is_type(obj, json_type_object) ||
	    !msg_valid_uuid(msg_str(obj, "message_id", NULL))) {
		rc = TR_EINVAL;
		goto out;
	}
	/* From here on the caller can answer it, even when it is refused. */
	rc = msg_check_envelope(obj);
	*env = obj;
	obj = NULL;
out:
	json_object_put(obj);
	return rc;
}

/* The "type" of ENV. */
const char *
msg_type(json_object *env)
{
	return msg_str(env, "type", NULL);
}

/* The "message_id" of ENV. */
const char *
msg_id(json_object *env)
{
	return msg_str(env, "message_id", NULL);
}

/* The "source.node_id" of ENV. */
const char *
msg_source_id(json_object *env)
{
	json_object *src;

	if (!json_object_object_get_ex(env, "source", &src))
		return NULL;
	return msg_str(src, "node_id", NULL);
}

/* The "in_reply_to" of ENV. */
const char *
msg_in_reply_to(json_object *env)
{
	return msg_str(env, "in_reply_to", NULL);
}

/* The "payload" object of ENV. */
json_object *
msg_payload(json_object *env)
{
	json_object *v;

	if (!json_object_object_get_ex(env, "payload", &v) ||
	    !json_object_is_type(v, json_type_object))
		return NULL;
	return v;
}

/* The "timestamp" of ENV in milliseconds. */
int
msg_timestamp(json_object *env, int64_t *ms)
{
	return msg_parse_time(msg_str(env, "timestamp", NULL), ms);
}

/* Build the payload of an ERROR. */
json_object *
msg_error_payload(const char *code, const char *message,
    json_object *details)
{
	json_object *pl = NULL, *err = NULL;
	int rc;

	if (details == NULL && (details = json_object_new_object()) == NULL)
		return NULL;
	if (code == NULL || !json_object_is_type(details, json_type_object) ||
	    (pl = json_object_new_object()) == NULL ||
	    (err = json_object_new_object()) == NULL ||
	    msg_add_str(err, "code", code) != 0 ||
	    msg_add_str(err, "message", message != NULL ? message : "") != 0)
		goto fail;
	rc = msg_add(err, "details", details);
	details = NULL;
	if (rc != 0)
		goto fail;
	rc = msg_add(pl, "error", err);
	err = NULL;
	if (rc != 0)
		goto fail;
	return pl;
fail:
	json_object_put(details);
	json_object_put(err);
	json_object_put(pl);
	return NULL;
}

/* --- Typed member access --- */

/* Member KEY of OBJ into *V: 0, TR_ENOTFOUND when absent or null, TR_EINVAL when OBJ is no object. */
static int
msg_member(json_object *obj, const char *key, json_object **v)
{
	if (!json_object_is_type(obj, json_type_object) || key == NULL)
		return TR_EINVAL;
	if (!json_object_object_get_ex(obj, key, v) || *v == NULL)
		return TR_ENOTFOUND;
	return 0;
}

/* A string member (one with U+0000 inside is TR_EINVAL: see msg_get_strlen). */
int
msg_get_str(json_object *obj, const char *key, const char **out)
{
	size_t len;
	int rc;

	if ((rc = msg_get_strlen(obj, key, out, &len)) != 0)
		return rc;
	if (memchr(*out, '\0', len) != NULL) {
		*out = NULL;
		return TR_EINVAL;
	}
	return 0;
}

/* A string member of LEN bytes, possibly with NUL inside. */
int
msg_get_strlen(json_object *obj, const char *key, const char **out,
    size_t *len)
{
	json_object *v;
	int rc;

	if ((rc = msg_member(obj, key, &v)) != 0)
		return rc;
	if (!json_object_is_type(v, json_type_string))
		return TR_EINVAL;
	*out = json_object_get_string(v);
	*len = (size_t)json_object_get_string_len(v);
	return 0;
}

/* An integer member (a JSON number without fraction or exponent). */
int
msg_get_int(json_object *obj, const char *key, int64_t *out)
{
	json_object *v;
	int64_t i;
	int rc;

	if ((rc = msg_member(obj, key, &v)) != 0)
		return rc;
	if (!json_object_is_type(v, json_type_int))
		return TR_EINVAL;
	i = json_object_get_int64(v);
	if (i > TR_JSON_INT_MAX || i < -TR_JSON_INT_MAX)
		return TR_EINVAL;
	*out = i;
	return 0;
}

/* A boolean member. */
int
msg_get_bool(json_object *obj, const char *key, int *out)
{
	json_object *v;
	int rc;

	if ((rc = msg_member(obj, key, &v)) != 0)
		return rc;
	if (!json_object_is_type(v, json_type_boolean))
		return TR_EINVAL;
	*out = json_object_get_boolean(v) ? 1 : 0;
	return 0;
}

/* An object member (borrowed). */
int
msg_get_obj(json_object *obj, const char *key, json_object **out)
{
	json_object *v;
	int rc;

	if ((rc = msg_member(obj, key, &v)) != 0)
		return rc;
	if (!json_object_is_type(v, json_type_object))
		return TR_EINVAL;
	*out = v;
	return 0;
}

/* An array member (borrowed). */
int
msg_get_array(json_object *obj, const char *key, json_object **out)
{
	json_object *v;
	int rc;

	if ((rc = msg_member(obj, key, &v)) != 0)
		return rc;
	if (!json_object_is_type(v, json_type_array))
		return TR_EINVAL;
	*out = v;
	return 0;
}

/* A hex member of exactly N bytes, lowercase, decoded into OUT. */
int
msg_get_hex(json_object *obj, const char *key, uint8_t *out, size_t n)
{
	const char *s;
	size_t len;
	int rc;

	if ((rc = msg_get_strlen(obj, key, &s, &len)) != 0)
		return rc;
	if (hex_decode(s, len, out, n) != 0)
		return TR_EINVAL;
	return 0;
}

/* Non-zero when KEY is present with the value null. */
int
msg_is_null(json_object *obj, const char *key)
{
	json_object *v;

	return json_object_is_type(obj, json_type_object) && key != NULL &&
	    json_object_object_get_ex(obj, key, &v) && v == NULL;
}
