/* Unit tests of file chunk sealing and opening against the protocol vectors. */
#include "config.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "chunk.h"
#include "err.h"
#include "hex.h"
#include "testutil.h"

/* OpenSSL allocations made through the counting hooks installed by main(). */
static atomic_ulong ossl_allocs;
static int ossl_hooked;

/* Counting malloc for OpenSSL. */
static void *
count_malloc(size_t n, const char *file, int line)
{
	atomic_fetch_add(&ossl_allocs, 1);
	return malloc(n);
}

/* Counting realloc for OpenSSL. */
static void *
count_realloc(void *p, size_t n, const char *file, int line)
{
	atomic_fetch_add(&ossl_allocs, 1);
	return realloc(p, n);
}

/* Free for OpenSSL. */
static void
count_free(void *p, const char *file, int line)
{
	free(p);
}

/* The key, transfer id and file of the vectors. */
struct fixture {
	uint8_t key[TR_KEY_LEN];
	char tid[TR_UUID_LEN + 1];
	uint8_t *file;
	size_t filelen;
	size_t chunk_size;
};

/* Load key, transfer id, file and chunk size of the file_chunks vectors. */
static void
load_fixture(struct fixture *f)
{
	const char *tid = tu_vec_str("file_chunks.transfer_id");

	tu_unhex(tu_vec_str("file_chunks.file_key"), f->key, TR_KEY_LEN);
	ck_assert_uint_eq(strlen(tid), TR_UUID_LEN);
	memcpy(f->tid, tid, sizeof(f->tid));
	f->filelen = tu_unhex_alloc(tu_vec_str("file_chunks.file_plaintext_hex"),
	    &f->file);
	f->chunk_size = (size_t)json_object_get_int(
	    tu_vec("file_chunks.chunk_size"));
}

/* Integer member NAME of the vector object O. */
static int64_t
vec_int(json_object *o, const char *name)
{
	json_object *v;

	ck_assert(json_object_object_get_ex(o, name, &v));
	return json_object_get_int64(v);
}

/* String member NAME of the vector object O. */
static const char *
vec_str(json_object *o, const char *name)
{
	json_object *v;

	ck_assert(json_object_object_get_ex(o, name, &v));
	return json_object_get_string(v);
}

START_TEST(test_vectors)
{
	json_object *chunks = tu_vec("file_chunks.chunks");
	struct chunk_ctx *ctx = chunk_ctx_new();
	struct fixture f;
	size_t n = json_object_array_length(chunks);

	ck_assert_ptr_nonnull(ctx);
	ck_assert_uint_eq(n, 4);
	load_fixture(&f);
	for (size_t i = 0; i < n; i++) {
		json_object *c = json_object_array_get_idx(chunks, i);
		uint64_t index = (uint64_t)vec_int(c, "index");
		enum tr_dir dir = (enum tr_dir)vec_int(c, "direction");
		int last = (int)vec_int(c, "last");
		uint8_t *plain, *want, *frame, body[256], back[256];
		uint8_t nonce[12], aad[45], hdr[5];
		size_t plen, wlen, flen, blen = 0, backlen = 0;
		char *hex;

		plen = tu_unhex_alloc(vec_str(c, "plaintext_hex"), &plain);
		wlen = tu_unhex_alloc(vec_str(c, "frame_body_hex"), &want);
		flen = tu_unhex_alloc(vec_str(c, "frame_hex"), &frame);
		ck_assert_uint_eq(chunk_body_len(plen), wlen);

		ck_assert_int_eq(chunk_seal(ctx, f.key, f.tid, dir, index,
		    last, plain, plen, body, &blen), 0);
		ck_assert_uint_eq(blen, wlen);
		hex = malloc(2 * blen + 1);
		ck_assert_ptr_nonnull(hex);
		hex_encode(body, blen, hex);
		ck_assert_str_eq(hex, vec_str(c, "frame_body_hex"));
		free(hex);

		/* frame_hex is the 'C' header followed by the body. */
		hdr[0] = TR_FRAME_CHUNK;
		hdr[1] = (uint8_t)(blen >> 24);
		hdr[2] = (uint8_t)(blen >> 16);
		hdr[3] = (uint8_t)(blen >> 8);
		hdr[4] = (uint8_t)blen;
		ck_assert_uint_eq(flen, sizeof(hdr) + blen);
		ck_assert_mem_eq(frame, hdr, sizeof(hdr));
		ck_assert_mem_eq(frame + sizeof(hdr), body, blen);

		/* The nonce and AAD the vector lists are the ones of the spec. */
		tu_unhex(vec_str(c, "nonce_hex"), nonce, sizeof(nonce));
		ck_assert_uint_eq(nonce[3], dir);
		ck_assert_mem_eq(nonce + 4, body, 8);
		tu_unhex(vec_str(c, "aad_hex"), aad, sizeof(aad));
		ck_assert_mem_eq(aad, f.tid, TR_UUID_LEN);
		ck_assert_mem_eq(aad + TR_UUID_LEN, body, 8);
		ck_assert_uint_eq(aad[44], last);

		memset(back, 0, sizeof(back));
		ck_assert_int_eq(chunk_open(ctx, f.key, f.tid, dir, index, last,
		    want, wlen, back, &backlen), 0);
		ck_assert_uint_eq(backlen, plen);
		ck_assert_mem_eq(back, plain, plen);
		ck_assert_mem_eq(plain, f.file + index * f.chunk_size, plen);
		free(plain);
		free(want);
		free(frame);
	}
	free(f.file);
	chunk_ctx_free(ctx);
}
END_TEST

START_TEST(test_vectors_independent)
{
	/* Decrypt a vector body with raw OpenSSL from its nonce_hex and aad_hex. */
	json_object *c = json_object_array_get_idx(tu_vec("file_chunks.chunks"),
	    2);
	EVP_CIPHER_CTX *cc = EVP_CIPHER_CTX_new();
	uint8_t nonce[12], aad[45], *body, *plain, out[128];
	size_t blen, plen;
	struct fixture f;
	int outl;

	load_fixture(&f);
	tu_unhex(vec_str(c, "nonce_hex"), nonce, sizeof(nonce));
	tu_unhex(vec_str(c, "aad_hex"), aad, sizeof(aad));
	blen = tu_unhex_alloc(vec_str(c, "frame_body_hex"), &body);
	plen = tu_unhex_alloc(vec_str(c, "plaintext_hex"), &plain);
	ck_assert_uint_eq(blen, plen + 24);
	ck_assert_ptr_nonnull(cc);
	ck_assert(EVP_DecryptInit_ex(cc, EVP_aes_256_gcm(), NULL, f.key,
	    nonce));
	ck_assert(EVP_DecryptUpdate(cc, NULL, &outl, aad, sizeof(aad)));
	ck_assert(EVP_DecryptUpdate(cc, out, &outl, body + 8, (int)plen));
	ck_assert(EVP_CIPHER_CTX_ctrl(cc, EVP_CTRL_AEAD_SET_TAG, 16,
	    body + 8 + plen));
	ck_assert_int_eq(EVP_DecryptFinal_ex(cc, out + outl, &outl), 1);
	ck_assert_mem_eq(out, plain, plen);
	EVP_CIPHER_CTX_free(cc);
	free(body);
	free(plain);
	free(f.file);
}
END_TEST

START_TEST(test_file_roundtrip)
{
	struct chunk_ctx *ctx = chunk_ctx_new();
	uint8_t body[128], got[128], sha[32], want_sha[32], *copy;
	size_t nchunks, blen, glen, off = 0;
	unsigned int shalen = 0;
	struct fixture f;

	ck_assert_ptr_nonnull(ctx);
	load_fixture(&f);
	ck_assert_uint_eq(f.filelen,
	    (size_t)json_object_get_int(tu_vec("file_chunks.file_size")));
	ck_assert_uint_eq(f.chunk_size, 64);
	copy = calloc(1, f.filelen);
	ck_assert_ptr_nonnull(copy);
	nchunks = (f.filelen + f.chunk_size - 1) / f.chunk_size;
	ck_assert_uint_eq(nchunks, 2);
	for (uint64_t i = 0; i < nchunks; i++) {
		size_t n = f.filelen - off < f.chunk_size ? f.filelen - off :
		    f.chunk_size;
		int last = i == nchunks - 1;

		ck_assert_int_eq(chunk_seal(ctx, f.key, f.tid, TR_DIR_C2H, i,
		    last, f.file + off, n, body, &blen), 0);
		ck_assert_uint_eq(blen, n + 24);
		ck_assert_int_eq(chunk_open(ctx, f.key, f.tid, TR_DIR_C2H, i,
		    last, body, blen, got, &glen), 0);
		ck_assert_uint_eq(glen, n);
		memcpy(copy + off, got, glen);
		off += glen;
	}
	ck_assert_uint_eq(off, f.filelen);
	ck_assert_mem_eq(copy, f.file, f.filelen);
	ck_assert(EVP_Digest(copy, off, sha, &shalen, EVP_sha256(), NULL));
	ck_assert_uint_eq(shalen, 32);
	tu_unhex(tu_vec_str("file_chunks.file_sha256"), want_sha,
	    sizeof(want_sha));
	ck_assert_mem_eq(sha, want_sha, sizeof(sha));
	free(copy);
	free(f.file);
	chunk_ctx_free(ctx);
}
END_TEST

/* Assert that opening BODY fails with WANT; after decrypting, PLAIN must be wiped. */
static void
assert_open_fails(struct chunk_ctx *ctx, const uint8_t *key, const char *tid,
    enum tr_dir dir, uint64_t expect, int last, const uint8_t *body,
    size_t blen, int want)
{
	uint8_t plain[128];
	size_t plen = 12345;

	memset(plain, 0x5a, sizeof(plain));
	ck_assert_int_eq(chunk_open(ctx, key, tid, dir, expect, last, body,
	    blen, plain, &plen), want);
	ck_assert_uint_eq(plen, 12345);
	if (want == TR_EAUTHTAG || want == TR_EPROTO)
		for (size_t i = 0; i < blen - 24; i++)
			ck_assert_uint_eq(plain[i], 0);
}

START_TEST(test_tamper)
{
	struct chunk_ctx *ctx = chunk_ctx_new();
	uint8_t body[128], bad[128], key2[TR_KEY_LEN], got[128];
	char tid2[TR_UUID_LEN + 1];
	size_t blen, glen;
	struct fixture f;

	ck_assert_ptr_nonnull(ctx);
	load_fixture(&f);
	ck_assert_int_eq(chunk_seal(ctx, f.key, f.tid, TR_DIR_H2C, 3, 0,
	    f.file, 64, body, &blen), 0);
	ck_assert_uint_eq(blen, 88);
	ck_assert_int_eq(chunk_open(ctx, f.key, f.tid, TR_DIR_H2C, 3, 0, body,
	    blen, got, &glen), 0);

	/* A bit of the ciphertext. */
	memcpy(bad, body, blen);
	bad[8 + 10] ^= 0x04;
	assert_open_fails(ctx, f.key, f.tid, TR_DIR_H2C, 3, 0, bad, blen,
	    TR_EAUTHTAG);
	/* A bit of the tag. */
	memcpy(bad, body, blen);
	bad[blen - 1] ^= 0x80;
	assert_open_fails(ctx, f.key, f.tid, TR_DIR_H2C, 3, 0, bad, blen,
	    TR_EAUTHTAG);
	/* A bit of the index, expected either way. */
	memcpy(bad, body, blen);
	bad[7] ^= 0x01;
	assert_open_fails(ctx, f.key, f.tid, TR_DIR_H2C, 3, 0, bad, blen,
	    TR_EAUTHTAG);
	assert_open_fails(ctx, f.key, f.tid, TR_DIR_H2C, 2, 0, bad, blen,
	    TR_EAUTHTAG);
	/* The last flag, the direction, the transfer id, the key. */
	assert_open_fails(ctx, f.key, f.tid, TR_DIR_H2C, 3, 1, body, blen,
	    TR_EAUTHTAG);
	assert_open_fails(ctx, f.key, f.tid, TR_DIR_C2H, 3, 0, body, blen,
	    TR_EAUTHTAG);
	memcpy(tid2, f.tid, sizeof(tid2));
	tid2[35] = tid2[35] == 'e' ? 'f' : 'e';
	assert_open_fails(ctx, f.key, tid2, TR_DIR_H2C, 3, 0, body, blen,
	    TR_EAUTHTAG);
	memcpy(key2, f.key, sizeof(key2));
	key2[0] ^= 1;
	assert_open_fails(ctx, key2, f.tid, TR_DIR_H2C, 3, 0, body, blen,
	    TR_EAUTHTAG);
	/* Truncated: one byte short still parses but fails; under 24 is malformed. */
	assert_open_fails(ctx, f.key, f.tid, TR_DIR_H2C, 3, 0, body, blen - 1,
	    TR_EAUTHTAG);
	assert_open_fails(ctx, f.key, f.tid, TR_DIR_H2C, 3, 0, body, 23,
	    TR_EINVAL);
	assert_open_fails(ctx, f.key, f.tid, TR_DIR_H2C, 3, 0, body, 0,
	    TR_EINVAL);
	/* Authentic but not the chunk expected. */
	assert_open_fails(ctx, f.key, f.tid, TR_DIR_H2C, 4, 0, body, blen,
	    TR_EPROTO);
	assert_open_fails(ctx, f.key, f.tid, TR_DIR_H2C, 2, 0, body, blen,
	    TR_EPROTO);
	/* Bad directions are malformed input. */
	assert_open_fails(ctx, f.key, f.tid, (enum tr_dir)0, 3, 0, body, blen,
	    TR_EINVAL);
	ck_assert_int_eq(chunk_seal(ctx, f.key, f.tid, (enum tr_dir)3, 0, 0,
	    f.file, 1, bad, &glen), TR_EINVAL);

	/* The context still works after all those failures. */
	ck_assert_int_eq(chunk_open(ctx, f.key, f.tid, TR_DIR_H2C, 3, 0, body,
	    blen, got, &glen), 0);
	ck_assert_uint_eq(glen, 64);
	ck_assert_mem_eq(got, f.file, 64);
	free(f.file);
	chunk_ctx_free(ctx);
}
END_TEST

START_TEST(test_empty_final)
{
	struct chunk_ctx *ctx = chunk_ctx_new();
	uint8_t body[32], got[8];
	size_t blen = 0, glen = 99;
	struct fixture f;

	ck_assert_ptr_nonnull(ctx);
	load_fixture(&f);
	ck_assert_uint_eq(chunk_body_len(0), 24);
	ck_assert_int_eq(chunk_seal(ctx, f.key, f.tid, TR_DIR_C2H, 0, 1, NULL,
	    0, body, &blen), 0);
	ck_assert_uint_eq(blen, 24);
	ck_assert_int_eq(chunk_open(ctx, f.key, f.tid, TR_DIR_C2H, 0, 1, body,
	    blen, got, &glen), 0);
	ck_assert_uint_eq(glen, 0);
	glen = 99;
	ck_assert_int_eq(chunk_open(ctx, f.key, f.tid, TR_DIR_C2H, 0, 1, body,
	    blen, NULL, &glen), 0);
	ck_assert_uint_eq(glen, 0);
	/* Even with no ciphertext the tag covers last, index and direction. */
	ck_assert_int_eq(chunk_open(ctx, f.key, f.tid, TR_DIR_C2H, 0, 0, body,
	    blen, got, &glen), TR_EAUTHTAG);
	ck_assert_int_eq(chunk_open(ctx, f.key, f.tid, TR_DIR_H2C, 0, 1, body,
	    blen, got, &glen), TR_EAUTHTAG);
	body[20] ^= 1;
	ck_assert_int_eq(chunk_open(ctx, f.key, f.tid, TR_DIR_C2H, 0, 1, body,
	    blen, got, &glen), TR_EAUTHTAG);
	free(f.file);
	chunk_ctx_free(ctx);
}
END_TEST

START_TEST(test_no_alloc_per_chunk)
{
	struct chunk_ctx *ctx = chunk_ctx_new();
	static uint8_t plain[65536], body[65536 + 24], back[65536];
	size_t blen, glen;
	unsigned long before, after;
	struct fixture f;

	ck_assert_msg(ossl_hooked, "OpenSSL allocation hooks not installed");
	ck_assert_ptr_nonnull(ctx);
	load_fixture(&f);
	for (size_t i = 0; i < sizeof(plain); i++)
		plain[i] = (uint8_t)(i * 7);
	/* Warm up both directions once, then count. */
	ck_assert_int_eq(chunk_seal(ctx, f.key, f.tid, TR_DIR_H2C, 0, 0, plain,
	    sizeof(plain), body, &blen), 0);
	ck_assert_int_eq(chunk_open(ctx, f.key, f.tid, TR_DIR_H2C, 0, 0, body,
	    blen, back, &glen), 0);
	before = atomic_load(&ossl_allocs);
	for (uint64_t i = 1; i <= 100; i++) {
		ck_assert_int_eq(chunk_seal(ctx, f.key, f.tid, TR_DIR_H2C, i,
		    i == 100, plain, sizeof(plain), body, &blen), 0);
		ck_assert_int_eq(chunk_open(ctx, f.key, f.tid, TR_DIR_H2C, i,
		    i == 100, body, blen, back, &glen), 0);
		ck_assert_uint_eq(glen, sizeof(plain));
	}
	after = atomic_load(&ossl_allocs);
	ck_assert_uint_eq(after, before);
	ck_assert_mem_eq(back, plain, sizeof(plain));
	free(f.file);
	chunk_ctx_free(ctx);
}
END_TEST

/* Build the suite. */
static Suite *
chunk_suite(void)
{
	Suite *s = suite_create("chunk");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_vectors);
	tcase_add_test(tc, test_vectors_independent);
	tcase_add_test(tc, test_file_roundtrip);
	tcase_add_test(tc, test_tamper);
	tcase_add_test(tc, test_empty_final);
	tcase_add_test(tc, test_no_alloc_per_chunk);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	/* Count OpenSSL's allocations; only possible before its first one. */
	ossl_hooked = CRYPTO_set_mem_functions(count_malloc, count_realloc,
	    count_free);
	return tu_run(chunk_suite());
}
