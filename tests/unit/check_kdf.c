/* Unit tests of HMAC, HKDF and the key schedule against RFC and protocol vectors. */
#include "config.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "hex.h"
#include "kdf.h"
#include "testutil.h"

/* The shared inputs of protocol-vectors.json. */
struct inputs {
	uint8_t site_key[TR_KEY_LEN];
	uint8_t node_key[TR_KEY_LEN];
	uint8_t nh[TR_NONCE_LEN];
	uint8_t nc[TR_NONCE_LEN];
	uint8_t e[TR_KEY_LEN];
};

/* Load the vector inputs. */
static void
load_inputs(struct inputs *in)
{
	tu_unhex(tu_vec_str("inputs.site_key"), in->site_key, TR_KEY_LEN);
	tu_unhex(tu_vec_str("inputs.node_key"), in->node_key, TR_KEY_LEN);
	tu_unhex(tu_vec_str("inputs.hub_nonce_Nh"), in->nh, TR_NONCE_LEN);
	tu_unhex(tu_vec_str("inputs.client_nonce_Nc"), in->nc, TR_NONCE_LEN);
	tu_unhex(tu_vec_str("inputs.tls_exporter_E"), in->e, TR_KEY_LEN);
}

/* Assert that 32 bytes at GOT equal the hex vector at PATH. */
static void
assert_vec32(const uint8_t *got, const char *path)
{
	char hex[2 * 32 + 1];

	hex_encode(got, 32, hex);
	ck_assert_msg(strcmp(hex, tu_vec_str(path)) == 0, "%s: got %s want %s",
	    path, hex, tu_vec_str(path));
}

/* The psk session root of the vectors. */
static void
psk_session_root(uint8_t sr[TR_KEY_LEN])
{
	tu_unhex(tu_vec_str("auth_psk.session_root"), sr, TR_KEY_LEN);
}

START_TEST(test_hmac_rfc4231)
{
	/* RFC 4231 test case 2. */
	static const char want[] =
	    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
	const char *msg = "what do ya want for nothing?";
	struct kdf_part parts[] = {
		{ msg, 4 }, { "", 0 }, { msg + 4, 10 }, { msg + 14, 14 }
	};
	uint8_t mac[TR_MAC_LEN], mac2[TR_MAC_LEN];
	char hex[2 * TR_MAC_LEN + 1];

	ck_assert_int_eq(kdf_hmac((const uint8_t *)"Jefe", 4, msg,
	    strlen(msg), mac), 0);
	hex_encode(mac, sizeof(mac), hex);
	ck_assert_str_eq(hex, want);

	memset(mac2, 0, sizeof(mac2));
	ck_assert_int_eq(kdf_hmacv((const uint8_t *)"Jefe", 4, parts, 4,
	    mac2), 0);
	ck_assert_mem_eq(mac, mac2, sizeof(mac));

	/* A different key gives a different MAC. */
	ck_assert_int_eq(kdf_hmac((const uint8_t *)"Jeff", 4, msg,
	    strlen(msg), mac2), 0);
	ck_assert(memcmp(mac, mac2, sizeof(mac)) != 0);
}
END_TEST

START_TEST(test_hmac_ctx)
{
	struct kdf_hmac_ctx *ctx = kdf_hmac_ctx_new();
	struct inputs in;
	uint8_t a[TR_MAC_LEN], b[TR_MAC_LEN];
	char hex[2 * TR_MAC_LEN + 1];

	ck_assert_ptr_nonnull(ctx);
	load_inputs(&in);
	/* Re-keying the one context alternately must match one-shot HMACs. */
	for (int i = 0; i < 50; i++) {
		const uint8_t *key = (i & 1) ? in.site_key : in.node_key;

		ck_assert_int_eq(kdf_hmac_ctx_mac(ctx, key, TR_KEY_LEN, in.nh,
		    (size_t)i % TR_NONCE_LEN, a), 0);
		ck_assert_int_eq(kdf_hmac(key, TR_KEY_LEN, in.nh,
		    (size_t)i % TR_NONCE_LEN, b), 0);
		ck_assert_mem_eq(a, b, sizeof(a));
	}
	ck_assert_int_eq(kdf_hmac_ctx_mac(ctx, (const uint8_t *)"Jefe", 4,
	    "what do ya want for nothing?", 28, a), 0);
	hex_encode(a, sizeof(a), hex);
	ck_assert_str_eq(hex,
	    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	ck_assert_int_eq(kdf_hmac_ctx_mac(NULL, in.site_key, TR_KEY_LEN, "x", 1,
	    a), TR_EINVAL);
	kdf_hmac_ctx_free(ctx);
	kdf_hmac_ctx_free(NULL);
}
END_TEST

START_TEST(test_hkdf_rfc5869)
{
	/* RFC 5869 A.1 (test case 1) and A.3 (test case 3, empty salt and info). */
	static const char okm1[] = "3cb25f25faacd57a90434f64d0362f2a"
	    "2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865";
	static const char okm3[] = "8da4e775a563c18f715f802a063c5a31"
	    "b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8";
	uint8_t ikm[22], salt[13], info[10], okm[42], zero_salt[32];
	uint8_t okm_z[42];
	char hex[2 * sizeof(okm) + 1];

	memset(ikm, 0x0b, sizeof(ikm));
	for (size_t i = 0; i < sizeof(salt); i++)
		salt[i] = (uint8_t)i;
	for (size_t i = 0; i < sizeof(info); i++)
		info[i] = (uint8_t)(0xf0 + i);

	ck_assert_int_eq(kdf_hkdf(ikm, sizeof(ikm), salt, sizeof(salt), info,
	    sizeof(info), okm, sizeof(okm)), 0);
	hex_encode(okm, sizeof(okm), hex);
	ck_assert_str_eq(hex, okm1);

	ck_assert_int_eq(kdf_hkdf(ikm, sizeof(ikm), NULL, 0, NULL, 0, okm,
	    sizeof(okm)), 0);
	hex_encode(okm, sizeof(okm), hex);
	ck_assert_str_eq(hex, okm3);

	/* The default salt is HashLen zero bytes. */
	memset(zero_salt, 0, sizeof(zero_salt));
	ck_assert_int_eq(kdf_hkdf(ikm, sizeof(ikm), zero_salt,
	    sizeof(zero_salt), NULL, 0, okm_z, sizeof(okm_z)), 0);
	ck_assert_mem_eq(okm, okm_z, sizeof(okm));

	ck_assert_int_eq(kdf_hkdf(ikm, sizeof(ikm), NULL, 1, NULL, 0, okm,
	    sizeof(okm)), TR_EINVAL);
}
END_TEST

START_TEST(test_auth_psk)
{
	struct inputs in;
	uint8_t out[TR_KEY_LEN];

	load_inputs(&in);
	ck_assert_int_eq(kdf_client_proof(in.node_key, in.nh, in.nc, in.e,
	    out), 0);
	assert_vec32(out, "auth_psk.proof");
	ck_assert_int_eq(kdf_hub_proof(in.node_key, in.nh, in.nc, in.e, out),
	    0);
	assert_vec32(out, "auth_psk.hub_proof");
	ck_assert_int_eq(kdf_session_root_psk(in.node_key, in.nh, in.nc, out),
	    0);
	assert_vec32(out, "auth_psk.session_root");
}
END_TEST

START_TEST(test_auth_certificate)
{
	struct inputs in;
	uint8_t out[TR_KEY_LEN];

	load_inputs(&in);
	ck_assert_int_eq(kdf_session_root_cert(in.e, in.nh, in.nc, out), 0);
	assert_vec32(out, "auth_certificate.session_root");
}
END_TEST

START_TEST(test_auth_token)
{
	struct inputs in;
	uint8_t sr[TR_KEY_LEN], out[TR_KEY_LEN];

	load_inputs(&in);
	ck_assert_str_eq(tu_vec_str("auth_token.session_root_used"),
	    "auth_psk.session_root");
	psk_session_root(sr);
	ck_assert_int_eq(kdf_token_proof(sr, in.nh, in.nc, in.e, out), 0);
	assert_vec32(out, "auth_token.proof");
	ck_assert_int_eq(kdf_hub_proof(sr, in.nh, in.nc, in.e, out), 0);
	assert_vec32(out, "auth_token.hub_proof");
}
END_TEST

START_TEST(test_conn_heartbeat_file_keys)
{
	struct inputs in;
	uint8_t sr[TR_KEY_LEN], ck[TR_KEY_LEN], out[TR_KEY_LEN];
	uint8_t sha[TR_HASH_LEN];
	const char *tid;

	load_inputs(&in);
	psk_session_root(sr);
	ck_assert_int_eq(kdf_conn_key(sr, in.nh, in.nc, in.e, ck), 0);
	assert_vec32(ck, "conn_key.conn_key");

	ck_assert_int_eq(kdf_heartbeat_key(sr, out), 0);
	assert_vec32(out, "heartbeat_key.key");

	tid = tu_vec_str("file_chunks.transfer_id");
	ck_assert_uint_eq(strlen(tid), TR_UUID_LEN);
	tu_unhex(tu_vec_str("file_chunks.file_sha256"), sha, sizeof(sha));
	ck_assert_int_eq(kdf_file_key(ck, sha, tid, out), 0);
	assert_vec32(out, "file_chunks.file_key");
}
END_TEST

START_TEST(test_msg_keys)
{
	json_object *keys = tu_vec("msg_keys");
	uint8_t ck[TR_KEY_LEN], out[TR_KEY_LEN];
	char hex[2 * TR_KEY_LEN + 1];
	int count = 0;

	tu_unhex(tu_vec_str("conn_key.conn_key"), ck, sizeof(ck));
	json_object_object_foreach(keys, name, val) {
		char dir[4];
		uint64_t n;
		uint32_t rot;

		ck_assert_int_eq(sscanf(name, "%3s n=%" SCNu64 " rotate_every=%"
		    SCNu32, dir, &n, &rot), 3);
		ck_assert_int_eq(kdf_msg_key(ck, strcmp(dir, "h2c") == 0 ?
		    TR_DIR_H2C : TR_DIR_C2H, n, rot, out), 0);
		hex_encode(out, sizeof(out), hex);
		ck_assert_msg(strcmp(hex, json_object_get_string(val)) == 0,
		    "msg_keys %s: got %s", name, hex);
		count++;
	}
	ck_assert_int_eq(count, 5);

	/* Both directions differ; rotate_every 0 and a bad direction are refused. */
	ck_assert_int_eq(kdf_msg_key(ck, TR_DIR_H2C, 0, 1000, out), 0);
	ck_assert_int_eq(kdf_msg_key(ck, TR_DIR_C2H, 0, 1000, ck), 0);
	ck_assert(memcmp(out, ck, sizeof(out)) != 0);
	ck_assert_int_eq(kdf_msg_key(ck, TR_DIR_H2C, 0, 0, out), TR_EINVAL);
	ck_assert_int_eq(kdf_msg_key(ck, (enum tr_dir)3, 0, 1000, out),
	    TR_EINVAL);
}
END_TEST

START_TEST(test_msgkey_next)
{
	static const uint32_t rotations[] = { 1000, 7, 1 };
	struct kdf_msgkey mk;
	uint8_t ck[TR_KEY_LEN], got[TR_KEY_LEN], want[TR_KEY_LEN];

	tu_unhex(tu_vec_str("conn_key.conn_key"), ck, sizeof(ck));
	for (size_t r = 0; r < sizeof(rotations) / sizeof(rotations[0]); r++) {
		for (int d = TR_DIR_H2C; d <= TR_DIR_C2H; d++) {
			kdf_msgkey_init(&mk, ck, (enum tr_dir)d, rotations[r]);
			ck_assert_uint_eq(mk.epoch, UINT64_MAX);
			for (uint64_t n = 0; n <= 2500; n++) {
				ck_assert_uint_eq(mk.n, n);
				ck_assert_int_eq(kdf_msgkey_next(&mk, got), 0);
				ck_assert_int_eq(kdf_msg_key(ck, (enum tr_dir)d,
				    n, rotations[r], want), 0);
				ck_assert_msg(memcmp(got, want, sizeof(got)) ==
				    0, "rot %u dir %d n %" PRIu64,
				    rotations[r], d, n);
				ck_assert_uint_eq(mk.epoch, n / rotations[r]);
			}
			if (rotations[r] == 1000 && d == TR_DIR_H2C)
				assert_vec32(got,
				    "msg_keys.h2c n=2500 rotate_every=1000");
			kdf_msgkey_clear(&mk);
			ck_assert_uint_eq(mk.epoch, UINT64_MAX);
			for (size_t i = 0; i < TR_KEY_LEN; i++) {
				ck_assert_uint_eq(mk.key[i], 0);
				ck_assert_uint_eq(mk.conn_key[i], 0);
			}
		}
	}

	kdf_msgkey_init(&mk, ck, TR_DIR_C2H, 0);
	ck_assert_int_eq(kdf_msgkey_next(&mk, got), TR_EINVAL);
	ck_assert_uint_eq(mk.n, 0);
}
END_TEST

START_TEST(test_random_cleanse_ct)
{
	uint8_t a[64], b[64];

	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	ck_assert_int_eq(kdf_random(a, sizeof(a)), 0);
	ck_assert_int_eq(kdf_random(b, sizeof(b)), 0);
	ck_assert(memcmp(a, b, sizeof(a)) != 0);
	ck_assert_int_eq(kdf_random(a, 0), 0);

	memcpy(b, a, sizeof(a));
	ck_assert_int_eq(kdf_ct_equal(a, b, sizeof(a)), 1);
	b[63] ^= 0x01;
	ck_assert_int_eq(kdf_ct_equal(a, b, sizeof(a)), 0);
	b[63] ^= 0x01;
	b[0] ^= 0x80;
	ck_assert_int_eq(kdf_ct_equal(a, b, sizeof(a)), 0);
	ck_assert_int_eq(kdf_ct_equal(a, b, 0), 1);

	memset(a, 0xa5, sizeof(a));
	kdf_cleanse(a, sizeof(a));
	for (size_t i = 0; i < sizeof(a); i++)
		ck_assert_uint_eq(a[i], 0);
}
END_TEST

/* Inputs and expected proof shared by the threads of test_threads. */
struct thread_arg {
	struct inputs in;
	uint8_t want[TR_MAC_LEN];
};

/* Compute the psk proof many times; returns non-NULL on a mismatch. */
static void *
hmac_thread(void *arg)
{
	const struct thread_arg *ta = arg;
	uint8_t got[TR_MAC_LEN];

	for (int i = 0; i < 200; i++) {
		if (kdf_client_proof(ta->in.node_key, ta->in.nh, ta->in.nc,
		    ta->in.e, got) != 0 ||
		    memcmp(got, ta->want, sizeof(got)) != 0)
			return (void *)1;
	}
	return NULL;
}

START_TEST(test_threads)
{
	struct thread_arg ta;
	pthread_t th[4];
	void *res;

	load_inputs(&ta.in);
	tu_unhex(tu_vec_str("auth_psk.proof"), ta.want, sizeof(ta.want));
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, hmac_thread, &ta),
		    0);
	for (int i = 0; i < 4; i++) {
		ck_assert_int_eq(pthread_join(th[i], &res), 0);
		ck_assert_ptr_null(res);
	}
}
END_TEST

/* Build the suite. */
static Suite *
kdf_suite(void)
{
	Suite *s = suite_create("kdf");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_hmac_rfc4231);
	tcase_add_test(tc, test_hmac_ctx);
	tcase_add_test(tc, test_hkdf_rfc5869);
	tcase_add_test(tc, test_auth_psk);
	tcase_add_test(tc, test_auth_certificate);
	tcase_add_test(tc, test_auth_token);
	tcase_add_test(tc, test_conn_heartbeat_file_keys);
	tcase_add_test(tc, test_msg_keys);
	tcase_add_test(tc, test_msgkey_next);
	tcase_add_test(tc, test_random_cleanse_ct);
	tcase_add_test(tc, test_threads);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(kdf_suite());
}
