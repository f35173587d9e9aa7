/* HMAC-SHA256, HKDF-SHA256 and the Trosyn key schedule over OpenSSL 3 EVP_MAC / EVP_KDF. */
#include "config.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "err.h"
#include "kdf.h"

/* Longest HKDF info of the key schedule ("trosyn/1 file " || transfer_id). */
#define KDF_INFO_MAX	128

struct kdf_hmac_ctx {
	EVP_MAC_CTX *mac;
};

static pthread_once_t kdf_once = PTHREAD_ONCE_INIT;
static EVP_MAC *kdf_mac;	/* "HMAC", fetched once */
static EVP_KDF *kdf_kdf;	/* "HKDF", fetched once */
static pthread_key_t kdf_thread_key;	/* each thread's HMAC context */
static int kdf_have_key;
static char kdf_digest[] = "SHA256";

/* Free a thread's HMAC context when the thread ends. */
static void
kdf_thread_free(void *p)
{
	EVP_MAC_CTX_free(p);
}

/* Fetch the HMAC and HKDF implementations; called once per process. */
static void
kdf_fetch(void)
{
	kdf_mac = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL);
	kdf_kdf = EVP_KDF_fetch(NULL, OSSL_KDF_NAME_HKDF, NULL);
	kdf_have_key = pthread_key_create(&kdf_thread_key,
	    kdf_thread_free) == 0;
}

/* Make sure the algorithms are fetched; 0 or TR_ECRYPTO. */
static int
kdf_init(void)
{
	if (pthread_once(&kdf_once, kdf_fetch) != 0)
		return TR_ECRYPTO;
	if (kdf_mac == NULL || kdf_kdf == NULL)
		return TR_ECRYPTO;
	return 0;
}

/* OUT = HMAC-SHA256(KEY, DATA). */
int
kdf_hmac(const uint8_t *key, size_t keylen, const void *data, size_t len,
    uint8_t out[TR_MAC_LEN])
{
	struct kdf_part part = { data, len };

	return kdf_hmacv(key, keylen, &part, 1, out);
}

/* Key CTX with KEY and MAC the NPARTS pieces of PARTS into OUT. */
static int
kdf_mac_run(EVP_MAC_CTX *ctx, const OSSL_PARAM *params, const uint8_t *key,
    size_t keylen, const struct kdf_part *parts, size_t n,
    uint8_t out[TR_MAC_LEN])
{
	size_t outlen = 0;

	if (!EVP_MAC_init(ctx, key, keylen, params))
		return TR_ECRYPTO;
	for (size_t i = 0; i < n; i++)
		if (parts[i].len > 0 &&
		    !EVP_MAC_update(ctx, parts[i].data, parts[i].len))
			return TR_ECRYPTO;
	if (!EVP_MAC_final(ctx, out, &outlen, TR_MAC_LEN) ||
	    outlen != TR_MAC_LEN)
		return TR_ECRYPTO;
	return 0;
}

/* OUT = HMAC-SHA256(KEY, PARTS[0] || ... || PARTS[N-1]). */
int
kdf_hmacv(const uint8_t *key, size_t keylen, const struct kdf_part *parts,
    size_t n, uint8_t out[TR_MAC_LEN])
{
	OSSL_PARAM params[] = {
		OSSL_PARAM_utf8_string(OSSL_MAC_PARAM_DIGEST, kdf_digest, 0),
		OSSL_PARAM_END
	};
	EVP_MAC_CTX *ctx;
	int rv;

	if (key == NULL || (parts == NULL && n > 0) || out == NULL)
		return TR_EINVAL;
	if ((rv = kdf_init()) != 0)
		return rv;
	/*
	 * One context per thread, re-keyed for every message.  The digest is
	 * set once when the context is made: passing it to every
	 * EVP_MAC_init would fetch SHA-256 again each time.
	 */
	ctx = kdf_have_key ? pthread_getspecific(kdf_thread_key) : NULL;
	if (ctx == NULL) {
		if ((ctx = EVP_MAC_CTX_new(kdf_mac)) == NULL)
			return TR_ECRYPTO;
		if (!EVP_MAC_CTX_set_params(ctx, params)) {
			EVP_MAC_CTX_free(ctx);
			return TR_ECRYPTO;
		}
		if (!kdf_have_key ||
		    pthread_setspecific(kdf_thread_key, ctx) != 0) {
			rv = kdf_mac_run(ctx, NULL, key, keylen, parts, n, out);
			EVP_MAC_CTX_free(ctx);
			return rv;
		}
	}
	return kdf_mac_run(ctx, NULL, key, keylen, parts, n, out);
}

/* A reusable HMAC-SHA256 context with the digest already set. */
struct kdf_hmac_ctx *
kdf_hmac_ctx_new(void)
{
	OSSL_PARAM params[] = {
		OSSL_PARAM_utf8_string(OSSL_MAC_PARAM_DIGEST, kdf_digest, 0),
		OSSL_PARAM_END
	};
	struct kdf_hmac_ctx *ctx;

	if (kdf_init() != 0)
		return NULL;
	if ((ctx = calloc(1, sizeof(*ctx))) == NULL)
		return NULL;
	if ((ctx->mac = EVP_MAC_CTX_new(kdf_mac)) == NULL ||
	    !EVP_MAC_CTX_set_params(ctx->mac, params)) {
		kdf_hmac_ctx_free(ctx);
		return NULL;
	}
	return ctx;
}

/* Free a context made by kdf_hmac_ctx_new. */
void
kdf_hmac_ctx_free(struct kdf_hmac_ctx *ctx)
{
	if (ctx == NULL)
		return;
	EVP_MAC_CTX_free(ctx->mac);
	free(ctx);
}

/* OUT = HMAC-SHA256(KEY, DATA), re-keying CTX without allocating. */
int
kdf_hmac_ctx_mac(struct kdf_hmac_ctx *ctx, const uint8_t *key,
    size_t keylen, const void *data, size_t len, uint8_t out[TR_MAC_LEN])
{
	struct kdf_part part = { data, len };

	if (ctx == NULL || key == NULL || out == NULL ||
	    (data == NULL && len > 0))
		return TR_EINVAL;
	return kdf_mac_run(ctx->mac, NULL, key, keylen, &part, 1, out);
}

/* RFC 5869 HKDF-SHA256 (extract then expand); SALTLEN 0 is the default salt. */
int
kdf_hkdf(const uint8_t *ikm, size_t ikmlen, const uint8_t *salt,
    size_t saltlen, const void *info, size_t infolen, uint8_t *out,
    size_t outlen)
{
	OSSL_PARAM params[5], *p = params;
	EVP_KDF_CTX *ctx = NULL;
	int rv;

	if (ikm == NULL || (salt == NULL && saltlen > 0) ||
	    (info == NULL && infolen > 0) || out == NULL || outlen == 0)
		return TR_EINVAL;
	if ((rv = kdf_init()) != 0)
		return rv;
	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
	    kdf_digest, 0);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
	    (void *)ikm, ikmlen);
	/* No salt parameter at all gives RFC 5869's HashLen zero bytes. */
	if (saltlen > 0)
		*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
		    (void *)salt, saltlen);
	if (infolen > 0)
		*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
		    (void *)info, infolen);
	*p = OSSL_PARAM_construct_end();

	if ((ctx = EVP_KDF_CTX_new(kdf_kdf)) == NULL) {
		rv = TR_ECRYPTO;
		goto out;
	}
	if (EVP_KDF_derive(ctx, out, outlen, params) <= 0) {
		rv = TR_ECRYPTO;
		goto out;
	}
	rv = 0;
out:
	EVP_KDF_CTX_free(ctx);
	return rv;
}

/* HMAC(KEY, LABEL || Nh || Nc || E). */
static int
kdf_proof(const uint8_t key[TR_KEY_LEN], const char *label,
    const uint8_t nh[TR_NONCE_LEN], const uint8_t nc[TR_NONCE_LEN],
    const uint8_t e[TR_KEY_LEN], uint8_t out[TR_MAC_LEN])
{
	struct kdf_part parts[] = {
		{ label, strlen(label) },
		{ nh, TR_NONCE_LEN },
		{ nc, TR_NONCE_LEN },
		{ e, TR_KEY_LEN }
	};

	if (nh == NULL || nc == NULL || e == NULL)
		return TR_EINVAL;
	return kdf_hmacv(key, TR_KEY_LEN, parts, 4, out);
}

/* HMAC(node_key, "trosyn/1 client-proof" || Nh || Nc || E). */
int
kdf_client_proof(const uint8_t node_key[TR_KEY_LEN],
    const uint8_t nh[TR_NONCE_LEN], const uint8_t nc[TR_NONCE_LEN],
    const uint8_t e[TR_KEY_LEN], uint8_t out[TR_MAC_LEN])
{
	return kdf_proof(node_key, TR_LABEL_CLIENT_PROOF, nh, nc, e, out);
}

/* HMAC(key, "trosyn/1 hub-proof" || Nh || Nc || E). */
int
kdf_hub_proof(const uint8_t key[TR_KEY_LEN], const uint8_t nh[TR_NONCE_LEN],
    const uint8_t nc[TR_NONCE_LEN], const uint8_t e[TR_KEY_LEN],
    uint8_t out[TR_MAC_LEN])
{
	return kdf_proof(key, TR_LABEL_HUB_PROOF, nh, nc, e, out);
}

/* HMAC(session_root, "trosyn/1 token-proof" || Nh || Nc || E). */
int
kdf_token_proof(const uint8_t session_root[TR_KEY_LEN],
    const uint8_t nh[TR_NONCE_LEN], const uint8_t nc[TR_NONCE_LEN],
    const uint8_t e[TR_KEY_LEN], uint8_t out[TR_MAC_LEN])
{
	return kdf_proof(session_root, TR_LABEL_TOKEN_PROOF, nh, nc, e, out);
}

/* HKDF(IKM, Nh || Nc, INFO, 32). */
static int
kdf_nonce_salted(const uint8_t ikm[TR_KEY_LEN], const uint8_t nh[TR_NONCE_LEN],
    const uint8_t nc[TR_NONCE_LEN], const void *info, size_t infolen,
    uint8_t out[TR_KEY_LEN])
{
	uint8_t salt[2 * TR_NONCE_LEN];

	if (nh == NULL || nc == NULL)
		return TR_EINVAL;
	memcpy(salt, nh, TR_NONCE_LEN);
	memcpy(salt + TR_NONCE_LEN, nc, TR_NONCE_LEN);
	return kdf_hkdf(ikm, TR_KEY_LEN, salt, sizeof(salt), info, infolen,
	    out, TR_KEY_LEN);
}

/* HKDF(node_key, Nh || Nc, "trosyn/1 session-root", 32). */
int
kdf_session_root_psk(const uint8_t node_key[TR_KEY_LEN],
    const uint8_t nh[TR_NONCE_LEN], const uint8_t nc[TR_NONCE_LEN],
    uint8_t out[TR_KEY_LEN])
{
	return kdf_nonce_salted(node_key, nh, nc, TR_LABEL_SESSION_ROOT,
	    strlen(TR_LABEL_SESSION_ROOT), out);
}

/* HKDF(E, Nh || Nc, "trosyn/1 session-root", 32). */
int
kdf_session_root_cert(const uint8_t e[TR_KEY_LEN],
    const uint8_t nh[TR_NONCE_LEN], const uint8_t nc[TR_NONCE_LEN],
    uint8_t out[TR_KEY_LEN])
{
	return kdf_nonce_salted(e, nh, nc, TR_LABEL_SESSION_ROOT,
	    strlen(TR_LABEL_SESSION_ROOT), out);
}

/* HKDF(session_root, Nh || Nc, "trosyn/1 conn" || E, 32). */
int
kdf_conn_key(const uint8_t session_root[TR_KEY_LEN],
    const uint8_t nh[TR_NONCE_LEN], const uint8_t nc[TR_NONCE_LEN],
    const uint8_t e[TR_KEY_LEN], uint8_t out[TR_KEY_LEN])
{
	uint8_t info[sizeof(TR_LABEL_CONN) - 1 + TR_KEY_LEN];

	if (e == NULL)
		return TR_EINVAL;
	memcpy(info, TR_LABEL_CONN, sizeof(TR_LABEL_CONN) - 1);
	memcpy(info + sizeof(TR_LABEL_CONN) - 1, e, TR_KEY_LEN);
	return kdf_nonce_salted(session_root, nh, nc, info, sizeof(info), out);
}

/* HKDF(conn_key, "", "trosyn/1 msg " || dir || " " || decimal(n / rotate_every), 32). */
int
kdf_msg_key(const uint8_t conn_key[TR_KEY_LEN], enum tr_dir dir,
    uint64_t n, uint32_t rotate_every, uint8_t out[TR_KEY_LEN])
{
	char info[KDF_INFO_MAX];
	const char *name;
	int len;

	if (rotate_every == 0)
		return TR_EINVAL;
	switch (dir) {
	case TR_DIR_H2C:
		name = "h2c";
		break;
	case TR_DIR_C2H:
		name = "c2h";
		break;
	default:
		return TR_EINVAL;
	}
	len = snprintf(info, sizeof(info), "%s%s %llu", TR_LABEL_MSG, name,
	    (unsigned long long)(n / rotate_every));
	if (len < 0 || (size_t)len >= sizeof(info))
		return TR_EINVAL;
	return kdf_hkdf(conn_key, TR_KEY_LEN, NULL, 0, info, (size_t)len, out,
	    TR_KEY_LEN);
}

/* HKDF(session_root, "", "trosyn/1 heartbeat", 32). */
int
kdf_heartbeat_key(const uint8_t session_root[TR_KEY_LEN],
    uint8_t out[TR_KEY_LEN])
{
	return kdf_hkdf(session_root, TR_KEY_LEN, NULL, 0, TR_LABEL_HEARTBEAT,
	    strlen(TR_LABEL_HEARTBEAT), out, TR_KEY_LEN);
}

/* HKDF(conn_key, sha256-of-file, "trosyn/1 file " || transfer_id, 32). */
int
kdf_file_key(const uint8_t conn_key[TR_KEY_LEN],
    const uint8_t file_sha256[TR_HASH_LEN], const char transfer_id[TR_UUID_LEN],
    uint8_t out[TR_KEY_LEN])
{
	uint8_t info[sizeof(TR_LABEL_FILE) - 1 + TR_UUID_LEN];

	if (file_sha256 == NULL || transfer_id == NULL)
		return TR_EINVAL;
	memcpy(info, TR_LABEL_FILE, sizeof(TR_LABEL_FILE) - 1);
	memcpy(info + sizeof(TR_LABEL_FILE) - 1, transfer_id, TR_UUID_LEN);
	return kdf_hkdf(conn_key, TR_KEY_LEN, file_sha256, TR_HASH_LEN, info,
	    sizeof(info), out, TR_KEY_LEN);
}

/* Start the message-key sequence of one direction at n = 0. */
void
kdf_msgkey_init(struct kdf_msgkey *mk, const uint8_t conn_key[TR_KEY_LEN],
    enum tr_dir dir, uint32_t rotate_every)
{
	memset(mk, 0, sizeof(*mk));
	memcpy(mk->conn_key, conn_key, TR_KEY_LEN);
	mk->epoch = UINT64_MAX;
	mk->rotate_every = rotate_every;
	mk->dir = dir;
}

/* Key of the next frame; derives only when the epoch changes, then advances. */
int
kdf_msgkey_next(struct kdf_msgkey *mk, uint8_t out[TR_KEY_LEN])
{
	uint64_t epoch;
	int rv;

	if (mk == NULL || out == NULL || mk->rotate_every == 0)
		return TR_EINVAL;
	epoch = mk->n / mk->rotate_every;
	if (epoch != mk->epoch) {
		if ((rv = kdf_msg_key(mk->conn_key, mk->dir, mk->n,
		    mk->rotate_every, mk->key)) != 0) {
			mk->epoch = UINT64_MAX;
			kdf_cleanse(mk->key, sizeof(mk->key));
			return rv;
		}
		mk->epoch = epoch;
	}
	memcpy(out, mk->key, TR_KEY_LEN);
	mk->n++;
	return 0;
}

/* Wipe the keys of a message-key sequence. */
void
kdf_msgkey_clear(struct kdf_msgkey *mk)
{
	if (mk == NULL)
		return;
	kdf_cleanse(mk, sizeof(*mk));
	mk->epoch = UINT64_MAX;
}

/* Fill BUF with LEN bytes from the OpenSSL CSPRNG. */
int
kdf_random(void *buf, size_t len)
{
	uint8_t *p = buf;

	if (buf == NULL && len > 0)
		return TR_EINVAL;
	while (len > 0) {
		int step = len > INT_MAX ? INT_MAX : (int)len;

		if (RAND_bytes(p, step) != 1)
			return TR_ECRYPTO;
		p += step;
		len -= (size_t)step;
	}
	return 0;
}

/* Zeroize LEN bytes at P in a way the compiler cannot drop. */
void
kdf_cleanse(void *p, size_t len)
{
	if (p != NULL)
		OPENSSL_cleanse(p, len);
}

/* Constant-time comparison: 1 when equal, 0 otherwise. */
int
kdf_ct_equal(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}
