/* HMAC-SHA256, HKDF-SHA256 and the Trosyn key schedule (PROTOCOL.md sections 6, 8, 9). */
#ifndef TROSYN_KDF_H
#define TROSYN_KDF_H

#include <stddef.h>
#include <stdint.h>

#include "trosyn-protocol.h"

/*
 * Every function returns 0 or a negative TR_E* code (TR_ECRYPTO when
 * OpenSSL fails).  Keys, nonces and the exporter value E are raw bytes of
 * TR_KEY_LEN / TR_NONCE_LEN; outputs are TR_KEY_LEN / TR_MAC_LEN bytes.
 * All functions are thread-safe: the HMAC and HKDF implementations are
 * fetched once per process and never per call.
 */

/* One piece of a message given to kdf_hmacv. */
struct kdf_part {
	const void *data;
	size_t len;
};

/* OUT = HMAC-SHA256(KEY, DATA). */
int kdf_hmac(const uint8_t *key, size_t keylen, const void *data, size_t len,
    uint8_t out[TR_MAC_LEN]);

/* OUT = HMAC-SHA256(KEY, PARTS[0] || ... || PARTS[N-1]). */
int kdf_hmacv(const uint8_t *key, size_t keylen, const struct kdf_part *parts,
    size_t n, uint8_t out[TR_MAC_LEN]);

/*
 * A reusable HMAC-SHA256 context for a hot path (one per thread): keeps the
 * fetched algorithm and re-keys without allocating.  Not thread-safe.
 */
struct kdf_hmac_ctx;
struct kdf_hmac_ctx *kdf_hmac_ctx_new(void);
void kdf_hmac_ctx_free(struct kdf_hmac_ctx *ctx);
int kdf_hmac_ctx_mac(struct kdf_hmac_ctx *ctx, const uint8_t *key,
    size_t keylen, const void *data, size_t len, uint8_t out[TR_MAC_LEN]);

/* RFC 5869 HKDF-SHA256; SALTLEN 0 means the RFC's default salt. */
int kdf_hkdf(const uint8_t *ikm, size_t ikmlen, const uint8_t *salt,
    size_t saltlen, const void *info, size_t infolen, uint8_t *out,
    size_t outlen);

/* HMAC(node_key, "trosyn/1 client-proof" || Nh || Nc || E). */
int kdf_client_proof(const uint8_t node_key[TR_KEY_LEN],
    const uint8_t nh[TR_NONCE_LEN], const uint8_t nc[TR_NONCE_LEN],
    const uint8_t e[TR_KEY_LEN], uint8_t out[TR_MAC_LEN]);

/* HMAC(key, "trosyn/1 hub-proof" || Nh || Nc || E); KEY is node_key (psk) or session_root. */
int kdf_hub_proof(const uint8_t key[TR_KEY_LEN], const uint8_t nh[TR_NONCE_LEN],
    const uint8_t nc[TR_NONCE_LEN], const uint8_t e[TR_KEY_LEN],
    uint8_t out[TR_MAC_LEN]);

/* HMAC(session_root, "trosyn/1 token-proof" || Nh || Nc || E). */
int kdf_token_proof(const uint8_t session_root[TR_KEY_LEN],
    const uint8_t nh[TR_NONCE_LEN], const uint8_t nc[TR_NONCE_LEN],
    const uint8_t e[TR_KEY_LEN], uint8_t out[TR_MAC_LEN]);

/* HKDF(node_key, Nh || Nc, "trosyn/1 session-root", 32). */
int kdf_session_root_psk(const uint8_t node_key[TR_KEY_LEN],
    const uint8_t nh[TR_NONCE_LEN], const uint8_t nc[TR_NONCE_LEN],
    uint8_t out[TR_KEY_LEN]);

/* HKDF(E, Nh || Nc, "trosyn/1 session-root", 32). */
int kdf_session_root_cert(const uint8_t e[TR_KEY_LEN],
    const uint8_t nh[TR_NONCE_LEN], const uint8_t nc[TR_NONCE_LEN],
    uint8_t out[TR_KEY_LEN]);

/* HKDF(session_root, Nh || Nc, "trosyn/1 conn" || E, 32). */
int kdf_conn_key(const uint8_t session_root[TR_KEY_LEN],
    const uint8_t nh[TR_NONCE_LEN], const uint8_t nc[TR_NONCE_LEN],
    const uint8_t e[TR_KEY_LEN], uint8_t out[TR_KEY_LEN]);

/*
 * HKDF(conn_key, "", "trosyn/1 msg " || dir || " " || decimal(n / rotate_every), 32)
 * with dir "h2c" or "c2h".  ROTATE_EVERY 0 is TR_EINVAL.
 */
int kdf_msg_key(const uint8_t conn_key[TR_KEY_LEN], enum tr_dir dir,
    uint64_t n, uint32_t rotate_every, uint8_t out[TR_KEY_LEN]);

/* HKDF(session_root, "", "trosyn/1 heartbeat", 32). */
int kdf_heartbeat_key(const uint8_t session_root[TR_KEY_LEN],
    uint8_t out[TR_KEY_LEN]);

/* HKDF(conn_key, sha256-of-file, "trosyn/1 file " || transfer_id, 32). */
int kdf_file_key(const uint8_t conn_key[TR_KEY_LEN],
    const uint8_t file_sha256[TR_HASH_LEN], const char transfer_id[TR_UUID_LEN],
    uint8_t out[TR_KEY_LEN]);

/*
 * The rotating message key of one direction of one connection: the n-th
 * 'J' frame of that direction is signed with kdf_msg_key(conn_key, dir, n,
 * rotate_every).  kdf_msgkey_next() returns the key of the next frame and
 * advances the count; a new key is derived only when the epoch changes.
 */
struct kdf_msgkey {
	uint8_t conn_key[TR_KEY_LEN];
	uint8_t key[TR_KEY_LEN];
	uint64_t n;		/* frames of this direction counted so far */
	uint64_t epoch;		/* epoch KEY belongs to, UINT64_MAX when none */
	uint32_t rotate_every;
	enum tr_dir dir;
};

void kdf_msgkey_init(struct kdf_msgkey *mk, const uint8_t conn_key[TR_KEY_LEN],
    enum tr_dir dir, uint32_t rotate_every);
int kdf_msgkey_next(struct kdf_msgkey *mk, uint8_t out[TR_KEY_LEN]);
void kdf_msgkey_clear(struct kdf_msgkey *mk);

/* Fill BUF with LEN bytes from the OpenSSL CSPRNG. */
int kdf_random(void *buf, size_t len);

/* Zeroize LEN bytes at P in a way the compiler cannot drop. */
void kdf_cleanse(void *p, size_t len);

/* Constant-time comparison: 1 when equal, 0 otherwise. */
int kdf_ct_equal(const void *a, const void *b, size_t len);

#endif /* TROSYN_KDF_H */
