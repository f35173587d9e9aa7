/* Unit tests of envelopes: validators, time, signing, strict parsing, accessors. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "frame.h"
#include "jcs.h"
#include "msg.h"
#include "testutil.h"

/* The signature vector's key (site_key). */
static void
site_key(uint8_t key[TR_KEY_LEN])
{
	tu_unhex(tu_vec_str("inputs.site_key"), key, TR_KEY_LEN);
}

/* Parse JSON TEXT with jcs_parse; fails the test on error. */
static json_object *
parse_ok(const char *text)
{
	json_object *v = NULL;

	ck_assert_int_eq(jcs_parse(text, strlen(text), &v), 0);
	return v;
}

/* The vector's signed message, freshly parsed. */
static json_object *
signed_env(void)
{
	return parse_ok(tu_vec_str("signature.signed_message_json"));
}

/* msg_parse of TEXT; *GOT tells whether an envelope came back. */
static int
parse_text(const char *text, int *got)
{
	json_object *env = (json_object *)1;
	int rc = msg_parse(text, strlen(text), &env);

	*got = env != NULL;
	if (rc == 0)
		ck_assert_ptr_nonnull(env);
	json_object_put(env);
	return rc;
}

/*
 * msg_parse of the signed vector with MEMBER ("source.node_id" for a
 * nested one) set to the JSON VALUE, or removed when VALUE is NULL.
 */
static int
parse_mod(const char *member, const char *value, int *got)
{
	json_object *env = signed_env(), *obj = env;
	const char *dot = strchr(member, '.'), *key = member;
	char *text = NULL, parent[32];
	int rc;

	if (dot != NULL) {
		snprintf(parent, sizeof(parent), "%.*s", (int)(dot - member),
		    member);
		ck_assert(json_object_object_get_ex(env, parent, &obj));
		key = dot + 1;
	}
	if (value == NULL)
		json_object_object_del(obj, key);
	else
		json_object_object_add(obj, key, parse_ok(value));
	ck_assert_int_eq(jcs_serialize(env, &text, NULL), 0);
	rc = parse_text(text, got);
	free(text);
	json_object_put(env);
	return rc;
}

/* Expect parse_mod(MEMBER, VALUE) to give RC, with an envelope back when GOT. */
#define ck_mod(member, value, rc, got) do {				\
	int got_;							\
	ck_assert_int_eq(parse_mod(member, value, &got_), rc);		\
	ck_assert_int_eq(got_, got);					\
} while (0)

START_TEST(test_signature_vector)
{
	json_object *env;
	uint8_t key[TR_KEY_LEN];
	const char *plain;
	char *out = NULL;
	size_t len = 0;

	site_key(key);
	plain = json_object_to_json_string_ext(tu_vec("signature.message"),
	    JSON_C_TO_STRING_PRETTY);
	env = parse_ok(plain);
	ck_assert_int_eq(msg_encode(env, &out, &len), 0);
	ck_assert_str_eq(out, tu_vec_str("signature.canonical"));
	ck_assert_uint_eq(len, strlen(out));
	free(out);
	ck_assert_int_eq(msg_verify(env, key, sizeof(key)), TR_ESIG);

	ck_assert_int_eq(msg_sign(env, key, sizeof(key)), 0);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(env,
	    "signature")), tu_vec_str("signature.signature"));
	ck_assert_int_eq(msg_encode(env, &out, &len), 0);
	ck_assert_str_eq(out, tu_vec_str("signature.signed_message_json"));
	free(out);
	ck_assert_int_eq(msg_verify(env, key, sizeof(key)), 0);

	/* Signing again replaces the signature with the same value. */
	ck_assert_int_eq(msg_sign(env, key, sizeof(key)), 0);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(env,
	    "signature")), tu_vec_str("signature.signature"));
	ck_assert_int_eq(msg_verify(env, key, sizeof(key)), 0);
	json_object_put(env);
}
END_TEST

START_TEST(test_parse_vector)
{
	json_object *env = NULL;
	uint8_t key[TR_KEY_LEN];
	const char *text = tu_vec_str("signature.signed_message_json");
	int64_t ms;

	site_key(key);
	ck_assert_int_eq(msg_parse(text, strlen(text), &env), 0);
	ck_assert_int_eq(msg_verify(env, key, sizeof(key)), 0);
	ck_assert_str_eq(msg_type(env), "SYNC_REQUEST");
	ck_assert_str_eq(msg_id(env), "3f1c2a9e-7b4d-4e8a-9c61-2d5f0b8e7a14");
	ck_assert_str_eq(msg_source_id(env), "node-7");
	ck_assert_ptr_null(msg_in_reply_to(env));
	ck_assert_ptr_nonnull(msg_payload(env));
	ck_assert_int_eq(msg_timestamp(env, &ms), 0);
	ck_assert_int_eq(ms, 1795704097123LL);
	json_object_put(env);
}
END_TEST

START_TEST(test_verify_canonical_not_raw)
{
	json_object *env = NULL;
	uint8_t key[TR_KEY_LEN];
	const char *text;

	/* Reordered, indented, with escapes: the same message to the signature. */
	site_key(key);
	text = " {\n\t\"version\" : \"1.0\", \"type\":\"SYNC_REQUEST\",\r\n"
	    "\"signature\":\"4ed9ccca87fc814f615e090cdc9769969676162535473921e74ec1683130cd7a\","
	    "\"source\":{\"node_name\":\"Front desk \\u00e9\",\"node_id\":\"node\\u002d7\"},"
	    "\"payload\":{\"window\":4,\"since\":-0,\"batch_size\":5e2,"
	    "\"direction\":\"pull\",\"sync_id\":\"0b6e5c1a-1d2f-4a3b-8c4d-5e6f7a8b9c0d\"},"
	    "\"timestamp\":\"2026-11-26T14:41:37.123Z\","
	    "\"message_id\":\"3f1c2a9e-7b4d-4e8a-9c61-2d5f0b8e7a14\"} \n";
	ck_assert_int_eq(msg_parse(text, strlen(text), &env), 0);
	ck_assert_int_eq(msg_verify(env, key, sizeof(key)), 0);
	json_object_put(env);
}
END_TEST

/* Tamper with a parsed copy of the signed vector through FN and expect TR_ESIG. */
static void
check_tamper(void (*fn)(json_object *))
{
	json_object *env = signed_env();
	uint8_t key[TR_KEY_LEN];

	site_key(key);
	ck_assert_int_eq(msg_verify(env, key, sizeof(key)), 0);
	fn(env);
	ck_assert_int_eq(msg_verify(env, key, sizeof(key)), TR_ESIG);
	json_object_put(env);
}

/* Change payload.since from 0 to 1. */
static void
tamper_payload(json_object *env)
{
	json_object_object_add(msg_payload(env), "since",
	    json_object_new_int64(1));
}

/* Change the type. */
static void
tamper_type(json_object *env)
{
	json_object_object_add(env, "type", json_object_new_string("SYNC_DATA"));
}

/* Change source.node_name. */
static void
tamper_name(json_object *env)
{
	json_object_object_add(json_object_object_get(env, "source"),
	    "node_name", json_object_new_string("Front desk e"));
}

/* Drop source.node_name. */
static void
tamper_drop_name(json_object *env)
{
	json_object_object_del(json_object_object_get(env, "source"),
	    "node_name");
}

/* Add an unknown member. */
static void
tamper_add(json_object *env)
{
	json_object_object_add(env, "extra", json_object_new_boolean(1));
}

/* Add an in_reply_to. */
static void
tamper_reply(json_object *env)
{
	json_object_object_add(env, "in_reply_to",
	    json_object_new_string("3f1c2a9e-7b4d-4e8a-9c61-2d5f0b8e7a14"));
}

/* Turn the integer 500 into the double 500.5. */
static void
tamper_number(json_object *env)
{
	json_object_object_add(msg_payload(env), "batch_size",
	    json_object_new_double(500.5));
}

/* Flip the last signature digit. */
static void
tamper_sig(json_object *env)
{
	char sig[2 * TR_MAC_LEN + 1];

	snprintf(sig, sizeof(sig), "%s", tu_vec_str("signature.signature"));
	sig[2 * TR_MAC_LEN - 1] = sig[2 * TR_MAC_LEN - 1] == 'a' ? 'b' : 'a';
	json_object_object_add(env, "signature", json_object_new_string(sig));
}

/* Uppercase the signature. */
static void
tamper_sig_upper(json_object *env)
{
	char sig[2 * TR_MAC_LEN + 1];

	snprintf(sig, sizeof(sig), "%s", tu_vec_str("signature.signature"));
	for (char *p = sig; *p != '\0'; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	json_object_object_add(env, "signature", json_object_new_string(sig));
}

/* Remove the signature. */
static void
tamper_sig_drop(json_object *env)
{
	json_object_object_del(env, "signature");
}

/* Make the signature a number. */
static void
tamper_sig_type(json_object *env)
{
	json_object_object_add(env, "signature", json_object_new_int(1));
}

/* Make the signature a prefix of itself. */
static void
tamper_sig_short(json_object *env)
{
	char sig[2 * TR_MAC_LEN + 1];

	snprintf(sig, sizeof(sig), "%s", tu_vec_str("signature.signature"));
	sig[2 * TR_MAC_LEN - 2] = '\0';
	json_object_object_add(env, "signature", json_object_new_string(sig));
}

START_TEST(test_tamper)
{
	check_tamper(tamper_payload);
	check_tamper(tamper_type);
	check_tamper(tamper_name);
	check_tamper(tamper_drop_name);
	check_tamper(tamper_add);
	check_tamper(tamper_reply);
	check_tamper(tamper_number);
	check_tamper(tamper_sig);
	check_tamper(tamper_sig_upper);
	check_tamper(tamper_sig_drop);
	check_tamper(tamper_sig_type);
	check_tamper(tamper_sig_short);
}
END_TEST

START_TEST(test_wrong_key)
{
	json_object *env = signed_env(), *arr;
	uint8_t key[TR_KEY_LEN], other[TR_KEY_LEN];

	site_key(key);
	tu_unhex(tu_vec_str("inputs.node_key"), other, sizeof(other));
	ck_assert_int_eq(msg_verify(env, other, sizeof(other)), TR_ESIG);
	ck_assert_int_eq(msg_verify(env, key, sizeof(key) - 1), TR_ESIG);
	key[0] ^= 1;
	ck_assert_int_eq(msg_verify(env, key, sizeof(key)), TR_ESIG);
	ck_assert_int_eq(msg_verify(NULL, key, sizeof(key)), TR_ESIG);
	arr = json_object_new_array();
	ck_assert_int_eq(msg_verify(arr, key, sizeof(key)), TR_ESIG);
	ck_assert_int_eq(msg_sign(arr, key, sizeof(key)), TR_EINVAL);
	json_object_put(arr);
	json_object_put(env);
}
END_TEST

START_TEST(test_frame_vector)
{
	uint8_t hdr[TR_FRAME_HDR_LEN], *want;
	json_object *env = signed_env();
	char *out = NULL;
	size_t len = 0, wlen;

	json_object_object_del(env, "signature");
	ck_assert_int_eq(msg_encode(env, &out, &len), 0);
	frame_build_header(hdr, TR_FRAME_JSON, (uint32_t)len);
	wlen = tu_unhex_alloc(tu_vec_str("frame.hex"), &want);
	ck_assert_uint_eq(wlen, TR_FRAME_HDR_LEN + len);
	ck_assert_mem_eq(want, hdr, TR_FRAME_HDR_LEN);
	ck_assert_mem_eq(want + TR_FRAME_HDR_LEN, out, len);
	free(want);
	free(out);
	json_object_put(env);
}
END_TEST

START_TEST(test_new_roundtrip)
{
	json_object *env, *back = NULL, *pl;
	uint8_t key[TR_KEY_LEN];
	char *text = NULL, reply[TR_UUID_LEN + 1];
	size_t len = 0;
	int64_t ms, now = msg_now_ms();

	site_key(key);
	pl = json_object_new_object();
	json_object_object_add(pl, "since", json_object_new_int64(7));
	msg_new_uuid(reply);
	env = msg_new(TR_MSG_SYNC_REQUEST, "node-7", "Front desk \xc3\xa9",
	    reply, pl);
	ck_assert_ptr_nonnull(env);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(env,
	    "version")), TR_PROTO_VERSION);
	ck_assert(msg_valid_uuid(msg_id(env)));
	ck_assert_str_ne(msg_id(env), reply);
	ck_assert_str_eq(msg_in_reply_to(env), reply);
	ck_assert_int_eq(msg_timestamp(env, &ms), 0);
	ck_assert(ms >= now - 1000 && ms <= now + 60000);
	ck_assert_int_eq(msg_sign(env, key, sizeof(key)), 0);
	ck_assert_int_eq(msg_encode(env, &text, &len), 0);
	ck_assert_int_eq(msg_parse(text, len, &back), 0);
	ck_assert_int_eq(msg_verify(back, key, sizeof(key)), 0);
	ck_assert_str_eq(msg_type(back), TR_MSG_SYNC_REQUEST);
	ck_assert_str_eq(msg_source_id(back), "node-7");
	ck_assert_str_eq(msg_in_reply_to(back), reply);
	ck_assert_str_eq(msg_id(back), msg_id(env));
	ck_assert_int_eq(msg_get_int(msg_payload(back), "since", &ms), 0);
	ck_assert_int_eq(ms, 7);
	free(text);
	json_object_put(back);
	json_object_put(env);

	/* No name, no reply, no payload: {} and the optional members absent. */
	env = msg_new(TR_MSG_HEARTBEAT, "hub-1", NULL, NULL, NULL);
	ck_assert_ptr_nonnull(env);
	ck_assert_ptr_null(msg_in_reply_to(env));
	ck_assert(!json_object_object_get_ex(json_object_object_get(env,
	    "source"), "node_name", NULL));
	ck_assert_int_eq(json_object_object_length(msg_payload(env)), 0);
	ck_assert_int_eq(msg_sign(env, key, sizeof(key)), 0);
	ck_assert_int_eq(msg_encode(env, &text, &len), 0);
	ck_assert_int_eq(msg_parse(text, len, &back), 0);
	free(text);
	json_object_put(back);
	json_object_put(env);

	/* Without a type there is no envelope (and PAYLOAD is not leaked). */
	ck_assert_ptr_null(msg_new(NULL, "hub-1", NULL, NULL,
	    json_object_new_object()));
	ck_assert_ptr_null(msg_new("ERROR", NULL, NULL, NULL, NULL));
}
END_TEST

START_TEST(test_parse_envelope_ok)
{
	ck_mod("version", "\"1.5\"", 0, 1);
	ck_mod("version", "\"1.10\"", 0, 1);
	ck_mod("timestamp", "\"2026-11-26T14:41:37Z\"", 0, 1);
	ck_mod("timestamp", "\"2026-11-26T14:41:37.123456789+00:00\"", 0, 1);
	ck_mod("source.node_name", NULL, 0, 1);
	ck_mod("source.extra", "[1]", 0, 1);
	ck_mod("in_reply_to", "\"0b6e5c1a-1d2f-4a3b-8c4d-5e6f7a8b9c0d\"", 0, 1);
	ck_mod("type", "\"ABCDEFGHIJKLMNOPQRSTUVWXYZ_ABCDE\"", 0, 1);
	ck_mod("payload", "{}", 0, 1);
	ck_mod("unknown", "{\"x\":null}", 0, 1);
}
END_TEST

START_TEST(test_parse_version)
{
	ck_mod("version", "\"2.0\"", TR_EVERSION, 1);
	ck_mod("version", "\"0.9\"", TR_EVERSION, 1);
	ck_mod("version", "\"10.0\"", TR_EVERSION, 1);
	ck_mod("version", "\"99999999999999999999.0\"", TR_EVERSION, 1);
	ck_mod("version", "\"1\"", TR_EINVAL, 1);
	ck_mod("version", "\"1.x\"", TR_EINVAL, 1);
	ck_mod("version", "\"1.\"", TR_EINVAL, 1);
	ck_mod("version", "\".0\"", TR_EINVAL, 1);
	ck_mod("version", "\"1.0.0\"", TR_EINVAL, 1);
	ck_mod("version", "\"v1.0\"", TR_EINVAL, 1);
	ck_mod("version", "\" 1.0\"", TR_EINVAL, 1);
	ck_mod("version", "\"1.0 \"", TR_EINVAL, 1);
	ck_mod("version", "\"-1.0\"", TR_EINVAL, 1);
	ck_mod("version", "\"\"", TR_EINVAL, 1);
	ck_mod("version", "\"1.0\\u0000\"", TR_EINVAL, 1);
	ck_mod("version", "1.0", TR_EINVAL, 1);
	ck_mod("version", "1", TR_EINVAL, 1);
	ck_mod("version", "null", TR_EINVAL, 1);
	ck_mod("version", NULL, TR_EINVAL, 1);
}
END_TEST

START_TEST(test_parse_version_last)
{
	int got;

	/* A bad member wins over an unsupported version. */
	ck_assert_int_eq(parse_text("{\"version\":\"2.0\","
	    "\"message_id\":\"3f1c2a9e-7b4d-4e8a-9c61-2d5f0b8e7a14\","
	    "\"timestamp\":\"2026-11-26T14:41:37.123Z\","
	    "\"source\":{\"node_id\":\"node-7\"},\"type\":\"bad\","
	    "\"payload\":{},\"signature\":"
	    "\"4ed9ccca87fc814f615e090cdc9769969676162535473921e74ec1683130cd7a\"}",
	    &got), TR_EINVAL);
	ck_assert(got);
	ck_assert_int_eq(parse_text("{\"version\":\"3.1\","
	    "\"message_id\":\"3f1c2a9e-7b4d-4e8a-9c61-2d5f0b8e7a14\","
	    "\"timestamp\":\"2026-11-26T14:41:37.123Z\","
	    "\"source\":{\"node_id\":\"node-7\"},\"type\":\"FUTURE\","
	    "\"payload\":{},\"signature\":"
	    "\"4ed9ccca87fc814f615e090cdc9769969676162535473921e74ec1683130cd7a\"}",
	    &got), TR_EVERSION);
	ck_assert(got);
}
END_TEST

START_TEST(test_parse_message_id)
{
	/* Without a usable message_id there is nothing to answer. */
	ck_mod("message_id", "\"3F1C2A9E-7B4D-4E8A-9C61-2D5F0B8E7A14\"",
	    TR_EINVAL, 0);
	ck_mod("message_id", "\"3f1c2a9e-7b4d-3e8a-9c61-2d5f0b8e7a14\"",
	    TR_EINVAL, 0);
	ck_mod("message_id", "\"3f1c2a9e-7b4d-4e8a-cc61-2d5f0b8e7a14\"",
	    TR_EINVAL, 0);
	ck_mod("message_id", "\"3f1c2a9e-7b4d-4e8a-9c61-2d5f0b8e7a1\"",
	    TR_EINVAL, 0);
	ck_mod("message_id", "\"3f1c2a9e-7b4d-4e8a-9c61-2d5f0b8e7a145\"",
	    TR_EINVAL, 0);
	ck_mod("message_id", "\"3f1c2a9e-7b4d-4e8a-9c61-2d5f0b8e7a14\\u0000\"",
	    TR_EINVAL, 0);
	ck_mod("message_id", "42", TR_EINVAL, 0);
	ck_mod("message_id", "null", TR_EINVAL, 0);
	ck_mod("message_id", NULL, TR_EINVAL, 0);
}
END_TEST

START_TEST(test_parse_timestamp)
{
	static const char *const bad[] = {
		"\"2026-11-26T14:41:37.123\"",		/* no zone */
		"\"2026-11-26T14:41:37\"",
		"\"2026-11-26T14:41:37.123+01:00\"",
		"\"2026-11-26T14:41:37.123-00:00\"",
		"\"2026-11-26T14:41:37.123+0000\"",
		"\"2026-11-26T14:41:37.123z\"",
		"\"2026-02-30T14:41:37.123Z\"",		/* Feb 30 */
		"\"2026-11-26T24:00:00.000Z\"",
		"\"2026-11-26T14:41:37.1234567890Z\"",	/* 10 digits */
		"\"2026-11-26 14:41:37.123Z\"",		/* no T */
		"\"2026-11-2614:41:37.123Z\"",
		"\"20261126T144137Z\"",
		"\"\"",
		"1795704097123",
		"null",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int got;

		ck_assert_msg(parse_mod("timestamp", bad[i], &got) == TR_EINVAL &&
		    got, "accepted #%zu: %s", i, bad[i]);
	}
	ck_mod("timestamp", NULL, TR_EINVAL, 1);
}
END_TEST

START_TEST(test_parse_members)
{
	ck_mod("source", NULL, TR_EINVAL, 1);
	ck_mod("source", "\"node-7\"", TR_EINVAL, 1);
	ck_mod("source", "[]", TR_EINVAL, 1);
	ck_mod("source", "null", TR_EINVAL, 1);
	ck_mod("source.node_id", NULL, TR_EINVAL, 1);
	ck_mod("source.node_id", "\"node 7\"", TR_EINVAL, 1);
	ck_mod("source.node_id", "\"\"", TR_EINVAL, 1);
	ck_mod("source.node_id", "\"n\\u0000\"", TR_EINVAL, 1);
	ck_mod("source.node_id",
	    "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"",
	    TR_EINVAL, 1);
	ck_mod("source.node_id", "7", TR_EINVAL, 1);
	ck_mod("source.node_name", "\"\"", TR_EINVAL, 1);
	ck_mod("source.node_name", "null", TR_EINVAL, 1);
	ck_mod("source.node_name", "1", TR_EINVAL, 1);
	ck_mod("source.node_name", "\"a\\u0000b\"", TR_EINVAL, 1);
	/* 64 bytes of UTF-8 is the most a name may have. */
	ck_mod("source.node_name",
	    "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\\u00e9\"",
	    0, 1);
	ck_mod("source.node_name",
	    "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\\u00e9\"",
	    TR_EINVAL, 1);
	ck_mod("type", NULL, TR_EINVAL, 1);
	ck_mod("type", "\"sync_request\"", TR_EINVAL, 1);
	ck_mod("type", "\"SYNC-REQUEST\"", TR_EINVAL, 1);
	ck_mod("type", "\"\"", TR_EINVAL, 1);
	ck_mod("type", "\"ABCDEFGHIJKLMNOPQRSTUVWXYZ_ABCDEF\"", TR_EINVAL, 1);
	ck_mod("type", "1", TR_EINVAL, 1);
	ck_mod("in_reply_to", "\"0B6E5C1A-1D2F-4A3B-8C4D-5E6F7A8B9C0D\"",
	    TR_EINVAL, 1);
	ck_mod("in_reply_to", "null", TR_EINVAL, 1);
	ck_mod("in_reply_to", "\"\"", TR_EINVAL, 1);
	ck_mod("in_reply_to", "[]", TR_EINVAL, 1);
	ck_mod("payload", NULL, TR_EINVAL, 1);
	ck_mod("payload", "[]", TR_EINVAL, 1);
	ck_mod("payload", "null", TR_EINVAL, 1);
	ck_mod("payload", "\"{}\"", TR_EINVAL, 1);
	ck_mod("signature", NULL, TR_EINVAL, 1);
	ck_mod("signature",
	    "\"4ED9CCCA87FC814F615E090CDC9769969676162535473921E74EC1683130CD7A\"",
	    TR_EINVAL, 1);
	ck_mod("signature",
	    "\"4ed9ccca87fc814f615e090cdc9769969676162535473921e74ec1683130cd7\"",
	    TR_EINVAL, 1);
	ck_mod("signature",
	    "\"4ed9ccca87fc814f615e090cdc9769969676162535473921e74ec1683130cd7a0\"",
	    TR_EINVAL, 1);
	ck_mod("signature",
	    "\"4ed9ccca87fc814f615e090cdc9769969676162535473921e74ec1683130cd7g\"",
	    TR_EINVAL, 1);
	ck_mod("signature", "null", TR_EINVAL, 1);
	ck_mod("signature", "1", TR_EINVAL, 1);
}
END_TEST

START_TEST(test_parse_not_envelope)
{
	json_object *env = (json_object *)1;
	int got;

	ck_assert_int_eq(parse_text("[]", &got), TR_EINVAL);
	ck_assert(!got);
	ck_assert_int_eq(parse_text("null", &got), TR_EINVAL);
	ck_assert(!got);
	ck_assert_int_eq(parse_text("\"x\"", &got), TR_EINVAL);
	ck_assert(!got);
	ck_assert_int_eq(parse_text("{}", &got), TR_EINVAL);
	ck_assert(!got);
	/* Section 2 breaches come through with their own codes and no envelope. */
	ck_assert_int_eq(parse_text("", &got), TR_EJSON);
	ck_assert(!got);
	ck_assert_int_eq(parse_text("{\"message_id\":"
	    "\"3f1c2a9e-7b4d-4e8a-9c61-2d5f0b8e7a14\",\"a\":1,\"a\":1}", &got),
	    TR_EDUPKEY);
	ck_assert(!got);
	ck_assert_int_eq(parse_text("{\"message_id\":"
	    "\"3f1c2a9e-7b4d-4e8a-9c61-2d5f0b8e7a14\",\"payload\":{\"n\":"
	    "9007199254740992}}", &got), TR_ERANGE);
	ck_assert(!got);
	ck_assert_int_eq(parse_text("{\"message_id\":\"\xff\"}", &got),
	    TR_EJSON);
	ck_assert(!got);
	ck_assert_int_eq(msg_parse(
	    tu_vec_str("signature.signed_message_json"),
	    strlen(tu_vec_str("signature.signed_message_json")) - 1, &env),
	    TR_EJSON);
	ck_assert_ptr_null(env);
}
END_TEST

START_TEST(test_validators)
{
	char big[300];

	ck_assert(msg_valid_id("node-7"));
	ck_assert(msg_valid_id("A.b_c-9"));
	memset(big, 'a', 64);
	big[64] = '\0';
	ck_assert(msg_valid_id(big));
	ck_assert(msg_valid_collection(big));
	big[64] = 'a';
	big[65] = '\0';
	ck_assert(!msg_valid_id(big));
	ck_assert(!msg_valid_collection(big));
	ck_assert(!msg_valid_id(""));
	ck_assert(!msg_valid_id("a b"));
	ck_assert(!msg_valid_id("a/b"));
	ck_assert(!msg_valid_id("n\xc3\xa9"));
	ck_assert(!msg_valid_id(NULL));

	ck_assert(msg_valid_collection("notes"));
	ck_assert(msg_valid_collection("a.b_c-1"));
	ck_assert(!msg_valid_collection("Notes"));
	ck_assert(!msg_valid_collection("a b"));
	ck_assert(!msg_valid_collection(""));
	ck_assert(!msg_valid_collection(NULL));

	ck_assert(msg_valid_name("Front desk \xc3\xa9", 13));
	ck_assert(!msg_valid_name("", 0));
	ck_assert(!msg_valid_name("a\0b", 3));
	ck_assert(!msg_valid_name("\xc3", 1));
	ck_assert(!msg_valid_name("\xed\xa0\x80", 3));
	ck_assert(!msg_valid_name(NULL, 0));
	memset(big, 'x', sizeof(big));
	ck_assert(msg_valid_name(big, 64));
	ck_assert(!msg_valid_name(big, 65));

	ck_assert(msg_valid_record_id(big, 256));
	ck_assert(!msg_valid_record_id(big, 257));
	ck_assert(msg_valid_record_id("\xf0\x9f\x98\x80~x", 6));
	ck_assert(!msg_valid_record_id("", 0));
	ck_assert(!msg_valid_record_id("a\0", 2));
	ck_assert(!msg_valid_record_id("\xc0\x80", 2));

	ck_assert(msg_valid_uuid("3f1c2a9e-7b4d-4e8a-9c61-2d5f0b8e7a14"));
	ck_assert(msg_valid_uuid("00000000-0000-4000-8000-000000000000"));
	ck_assert(msg_valid_uuid("ffffffff-ffff-4fff-bfff-ffffffffffff"));
	ck_assert(!msg_valid_uuid("3F1C2A9E-7B4D-4E8A-9C61-2D5F0B8E7A14"));
	ck_assert(!msg_valid_uuid("3f1c2a9e-7b4d-4e8A-9c61-2d5f0b8e7a14"));
	ck_assert(!msg_valid_uuid("3f1c2a9e-7b4d-1e8a-9c61-2d5f0b8e7a14"));
	ck_assert(!msg_valid_uuid("3f1c2a9e-7b4d-5e8a-9c61-2d5f0b8e7a14"));
	ck_assert(!msg_valid_uuid("3f1c2a9e-7b4d-4e8a-7c61-2d5f0b8e7a14"));
	ck_assert(!msg_valid_uuid("3f1c2a9e-7b4d-4e8a-cc61-2d5f0b8e7a14"));
	ck_assert(!msg_valid_uuid("3f1c2a9e-7b4d-4e8a-9c61-2d5f0b8e7a1"));
	ck_assert(!msg_valid_uuid("3f1c2a9e-7b4d-4e8a-9c61-2d5f0b8e7a145"));
	ck_assert(!msg_valid_uuid("3f1c2a9e7b4d-4e8a-9c61-2d5f0b8e7a14-"));
	ck_assert(!msg_valid_uuid("3f1c2a9e-7b4d-4e8a-9c61-2d5f0b8e7a1g"));
	ck_assert(!msg_valid_uuid("{3f1c2a9e-7b4d-4e8a-9c61-2d5f0b8e7a1}"));
	ck_assert(!msg_valid_uuid(""));
	ck_assert(!msg_valid_uuid(NULL));
}
END_TEST

START_TEST(test_new_uuid)
{
	char a[TR_UUID_LEN + 1], b[TR_UUID_LEN + 1];

	for (int i = 0; i < 1000; i++) {
		msg_new_uuid(a);
		ck_assert_msg(msg_valid_uuid(a), "bad uuid %s", a);
	}
	msg_new_uuid(b);
	ck_assert_str_ne(a, b);
}
END_TEST

/* Expect msg_parse_time(S) to give MS. */
static void
check_time(const char *s, int64_t want)
{
	int64_t ms = -12345;

	ck_assert_msg(msg_parse_time(s, &ms) == 0, "refused %s", s);
	ck_assert_msg(ms == want, "%s: %lld, not %lld", s, (long long)ms,
	    (long long)want);
}

START_TEST(test_parse_time)
{
	static const char *const bad[] = {
		"2026-11-26T14:41:37.123", "2026-11-26T14:41:37.123+01:00",
		"2026-11-26T14:41:37.123-00:00", "2026-11-26T14:41:37.123+00",
		"2026-11-26T14:41:37.123Z ", " 2026-11-26T14:41:37.123Z",
		"2026-11-26t14:41:37.123Z", "2026-11-26T14:41:37.123z",
		"2026-11-26 14:41:37.123Z", "2026-02-30T00:00:00Z",
		"2026-02-29T00:00:00Z", "1900-02-29T00:00:00Z",
		"2026-04-31T00:00:00Z", "2026-13-01T00:00:00Z",
		"2026-00-01T00:00:00Z", "2026-01-00T00:00:00Z",
		"2026-01-32T00:00:00Z", "2026-11-26T24:00:00Z",
		"2026-11-26T23:60:00Z", "2026-11-26T23:59:60Z",
		"2026-11-26T14:41:37.1234567890Z", "2026-11-26T14:41:37.Z",
		"2026-11-26T14:41:37,123Z", "2026-11-26T14:41Z",
		"2026-11-26T14:41:3Z", "2026-1-26T14:41:37Z",
		"+2026-11-26T14:41:37Z", "20261126T144137Z", "", "Z",
		"2026-11-26T14:41:37.123ZZ", "2026-11-26T14:41:37.123+00:00Z",
		"2026-11-26T14:41:37.-1Z", "2026-11-26T1a:41:37Z",
	};
	int64_t ms = 42;

	check_time("2026-11-26T14:41:37.123Z", 1795704097123LL);
	check_time("2026-11-26T14:41:37.123+00:00", 1795704097123LL);
	check_time("2026-11-26T14:41:37Z", 1795704097000LL);
	check_time("2026-11-26T14:41:37.1Z", 1795704097100LL);
	check_time("2026-11-26T14:41:37.12Z", 1795704097120LL);
	check_time("2026-11-26T14:41:37.123999999Z", 1795704097123LL);
	check_time("1970-01-01T00:00:00Z", 0);
	check_time("1969-12-31T23:59:59.999Z", -1);
	check_time("2000-02-29T00:00:00Z", 951782400000LL);
	check_time("2024-02-29T12:00:00.000Z", 1709208000000LL);
	check_time("9999-12-31T23:59:59.999Z", 253402300799999LL);
	check_time("0001-01-01T00:00:00Z", -62135596800000LL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(msg_parse_time(bad[i], &ms) == TR_EINVAL,
		    "accepted #%zu: %s", i, bad[i]);
	ck_assert_int_eq(msg_parse_time(NULL, &ms), TR_EINVAL);
	ck_assert_int_eq(ms, 42);
}
END_TEST

START_TEST(test_format_time)
{
	char buf[32];
	int64_t ms, back;

	msg_format_time(0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "1970-01-01T00:00:00.000Z");
	msg_format_time(-1, buf, sizeof(buf));
	ck_assert_str_eq(buf, "1969-12-31T23:59:59.999Z");
	msg_format_time(1795704097123LL, buf, sizeof(buf));
	ck_assert_str_eq(buf, "2026-11-26T14:41:37.123Z");
	msg_format_time(951782400000LL, buf, sizeof(buf));
	ck_assert_str_eq(buf, "2000-02-29T00:00:00.000Z");
	msg_format_time(253402300799999LL, buf, sizeof(buf));
	ck_assert_str_eq(buf, "9999-12-31T23:59:59.999Z");
	/* Every day and time of day over four centuries reads back. */
	for (ms = -62135596800000LL; ms <= 253402300799999LL;
	    ms += 86400000LL * 7 + 3600000 * 5 + 61001) {
		msg_format_time(ms, buf, sizeof(buf));
		ck_assert_uint_eq(strlen(buf), 24);
		ck_assert_int_eq(msg_parse_time(buf, &back), 0);
		ck_assert_int_eq(back, ms);
	}
	ms = msg_now_ms();
	ck_assert(ms > 1700000000000LL);
}
END_TEST

START_TEST(test_get)
{
	json_object *o = parse_ok("{\"s\":\"abc\",\"z\":\"a\\u0000b\","
	    "\"i\":42,\"neg\":-9007199254740991,\"f\":5.0,\"e\":1e2,\"b\":true,"
	    "\"o\":{},\"a\":[],\"n\":null,\"h\":\"00ff\",\"H\":\"00FF\","
	    "\"hs\":\"0f\",\"is\":\"5\"}"), *v;
	const char *s;
	size_t len;
	int64_t i;
	uint8_t h[2];
	int b;

	ck_assert_int_eq(msg_get_str(o, "s", &s), 0);
	ck_assert_str_eq(s, "abc");
	ck_assert_int_eq(msg_get_str(o, "z", &s), TR_EINVAL);
	ck_assert_int_eq(msg_get_strlen(o, "z", &s, &len), 0);
	ck_assert_uint_eq(len, 3);
	ck_assert_mem_eq(s, "a\0b", 3);
	ck_assert_int_eq(msg_get_str(o, "i", &s), TR_EINVAL);
	ck_assert_int_eq(msg_get_str(o, "n", &s), TR_ENOTFOUND);
	ck_assert_int_eq(msg_get_str(o, "nope", &s), TR_ENOTFOUND);

	ck_assert_int_eq(msg_get_int(o, "i", &i), 0);
	ck_assert_int_eq(i, 42);
	ck_assert_int_eq(msg_get_int(o, "neg", &i), 0);
	ck_assert_int_eq(i, -9007199254740991LL);
	ck_assert_int_eq(msg_get_int(o, "f", &i), TR_EINVAL);
	ck_assert_int_eq(msg_get_int(o, "e", &i), TR_EINVAL);
	ck_assert_int_eq(msg_get_int(o, "is", &i), TR_EINVAL);
	ck_assert_int_eq(msg_get_int(o, "b", &i), TR_EINVAL);
	ck_assert_int_eq(msg_get_int(o, "n", &i), TR_ENOTFOUND);
	ck_assert_int_eq(msg_get_int(o, "nope", &i), TR_ENOTFOUND);

	ck_assert_int_eq(msg_get_bool(o, "b", &b), 0);
	ck_assert_int_eq(b, 1);
	ck_assert_int_eq(msg_get_bool(o, "i", &b), TR_EINVAL);
	ck_assert_int_eq(msg_get_bool(o, "n", &b), TR_ENOTFOUND);

	ck_assert_int_eq(msg_get_obj(o, "o", &v), 0);
	ck_assert(json_object_is_type(v, json_type_object));
	ck_assert_int_eq(msg_get_obj(o, "a", &v), TR_EINVAL);
	ck_assert_int_eq(msg_get_obj(o, "n", &v), TR_ENOTFOUND);
	ck_assert_int_eq(msg_get_array(o, "a", &v), 0);
	ck_assert(json_object_is_type(v, json_type_array));
	ck_assert_int_eq(msg_get_array(o, "o", &v), TR_EINVAL);
	ck_assert_int_eq(msg_get_array(o, "nope", &v), TR_ENOTFOUND);

	ck_assert_int_eq(msg_get_hex(o, "h", h, 2), 0);
	ck_assert_uint_eq(h[0], 0x00);
	ck_assert_uint_eq(h[1], 0xff);
	ck_assert_int_eq(msg_get_hex(o, "H", h, 2), TR_EINVAL);
	ck_assert_int_eq(msg_get_hex(o, "hs", h, 2), TR_EINVAL);
	ck_assert_int_eq(msg_get_hex(o, "h", h, 1), TR_EINVAL);
	ck_assert_int_eq(msg_get_hex(o, "i", h, 2), TR_EINVAL);
	ck_assert_int_eq(msg_get_hex(o, "n", h, 2), TR_ENOTFOUND);

	ck_assert(msg_is_null(o, "n"));
	ck_assert(!msg_is_null(o, "nope"));
	ck_assert(!msg_is_null(o, "i"));
	ck_assert(!msg_is_null(NULL, "n"));

	/* Not an object at all. */
	ck_assert_int_eq(msg_get_int(NULL, "i", &i), TR_EINVAL);
	ck_assert_int_eq(msg_get_str(v, "s", &s), TR_EINVAL);
	json_object_put(o);

	/* Built values outside the JSON range are refused, too. */
	o = json_object_new_object();
	json_object_object_add(o, "big", json_object_new_int64(1LL << 53));
	ck_assert_int_eq(msg_get_int(o, "big", &i), TR_EINVAL);
	json_object_put(o);
}
END_TEST

START_TEST(test_accessors_missing)
{
	json_object *o = parse_ok("{\"type\":1,\"source\":[],\"payload\":[],"
	    "\"timestamp\":\"x\"}");
	int64_t ms;

	ck_assert_ptr_null(msg_type(o));
	ck_assert_ptr_null(msg_id(o));
	ck_assert_ptr_null(msg_source_id(o));
	ck_assert_ptr_null(msg_in_reply_to(o));
	ck_assert_ptr_null(msg_payload(o));
	ck_assert_int_eq(msg_timestamp(o, &ms), TR_EINVAL);
	ck_assert_ptr_null(msg_type(NULL));
	ck_assert_int_eq(msg_timestamp(NULL, &ms), TR_EINVAL);
	json_object_put(o);
}
END_TEST

/* One signed datagram: within 512 bytes it is written and verifies; over it, TR_ETOOBIG and BUF untouched. */
START_TEST(test_encode_udp)
{
	static const uint8_t key[TR_KEY_LEN] = { 7 };
	char buf[TR_UDP_MAX], big[600];
	json_object *env, *p = json_object_new_object(), *back = NULL;
	size_t len = 0;

	json_object_object_add(p, "site_id", json_object_new_string("s"));
	env = msg_new(TR_MSG_DISCOVERY_BROADCAST, "n1", NULL, NULL, p);
	ck_assert_int_eq(msg_encode_udp(env, key, buf, &len), 0);
	ck_assert_uint_le(len, TR_UDP_MAX);
	ck_assert_int_eq(msg_parse(buf, len, &back), 0);
	ck_assert_int_eq(msg_verify(back, key, TR_KEY_LEN), 0);
	json_object_put(back);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	json_object_object_add(msg_payload(env), "pad",
	    json_object_new_string(big));
	memset(buf, 0x55, sizeof(buf));
	len = 12345;
	ck_assert_int_eq(msg_encode_udp(env, key, buf, &len), TR_ETOOBIG);
	ck_assert_uint_eq(len, 12345);
	ck_assert_int_eq((unsigned char)buf[0], 0x55);
	json_object_put(env);
}
END_TEST

START_TEST(test_error_payload)
{
	json_object *pl, *d;
	char *out = NULL;

	pl = msg_error_payload(TR_CODE_NOT_FOUND, "no such blob", NULL);
	ck_assert_ptr_nonnull(pl);
	ck_assert_int_eq(jcs_serialize(pl, &out, NULL), 0);
	ck_assert_str_eq(out, "{\"error\":{\"code\":\"NOT_FOUND\","
	    "\"details\":{},\"message\":\"no such blob\"}}");
	free(out);
	json_object_put(pl);

	d = json_object_new_object();
	json_object_object_add(d, "max", json_object_new_int64(1048576));
	pl = msg_error_payload(TR_CODE_TOO_LARGE, NULL, d);
	ck_assert_int_eq(jcs_serialize(pl, &out, NULL), 0);
	ck_assert_str_eq(out, "{\"error\":{\"code\":\"TOO_LARGE\","
	    "\"details\":{\"max\":1048576},\"message\":\"\"}}");
	free(out);
	json_object_put(pl);

	/* details is always an object. */
	ck_assert_ptr_null(msg_error_payload(TR_CODE_BUSY, "x",
	    json_object_new_array()));
	ck_assert_ptr_null(msg_error_payload(NULL, "x", NULL));
}
END_TEST

/* Build the suite. */
static Suite *
msg_suite(void)
{
	Suite *s = suite_create("msg");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_signature_vector);
	tcase_add_test(tc, test_parse_vector);
	tcase_add_test(tc, test_verify_canonical_not_raw);
	tcase_add_test(tc, test_tamper);
	tcase_add_test(tc, test_wrong_key);
	tcase_add_test(tc, test_frame_vector);
	tcase_add_test(tc, test_new_roundtrip);
	tcase_add_test(tc, test_parse_envelope_ok);
	tcase_add_test(tc, test_parse_version);
	tcase_add_test(tc, test_parse_version_last);
	tcase_add_test(tc, test_parse_message_id);
	tcase_add_test(tc, test_parse_timestamp);
	tcase_add_test(tc, test_parse_members);
	tcase_add_test(tc, test_parse_not_envelope);
	tcase_add_test(tc, test_validators);
	tcase_add_test(tc, test_new_uuid);
	tcase_add_test(tc, test_parse_time);
	tcase_add_test(tc, test_format_time);
	tcase_add_test(tc, test_get);
	tcase_add_test(tc, test_accessors_missing);
	tcase_add_test(tc, test_error_payload);
	tcase_add_test(tc, test_encode_udp);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(msg_suite());
}
