/* AES-256-GCM sealing and opening of file chunks with one reusable cipher context. */
#include "config.h"

#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "chunk.h"
#include "err.h"

#define CHUNK_NONCE_LEN	12
#define CHUNK_AAD_LEN	(TR_UUID_LEN + 8 + 1)
#define CHUNK_MIN_BODY	(TR_CHUNK_HDR_LEN + TR_GCM_TAG_LEN)

struct chunk_ctx {
	EVP_CIPHER_CTX *cipher;	/* AES-256-GCM, re-keyed per chunk */
};

static pthread_once_t chunk_once = PTHREAD_ONCE_INIT;
static EVP_CIPHER *chunk_aes;	/* "AES-256-GCM", fetched once */

/* Fetch AES-256-GCM; called once per process. */
static void
chunk_fetch(void)
{
	chunk_aes = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
}

/* Write V big-endian into 8 bytes at P. */
static void
chunk_put64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)(v & 0xff);
		v >>= 8;
	}
}

/* Read 8 big-endian bytes at P. */
static uint64_t
chunk_get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* Build the nonce and AAD of chunk INDEX; TR_EINVAL for a bad direction. */
static int
chunk_params(const char transfer_id[TR_UUID_LEN], enum tr_dir dir,
    uint64_t index, int last, uint8_t nonce[CHUNK_NONCE_LEN],
    uint8_t aad[CHUNK_AAD_LEN])
{
	if (dir != TR_DIR_H2C && dir != TR_DIR_C2H)
		return TR_EINVAL;
	nonce[0] = 0;
	nonce[1] = 0;
	nonce[2] = 0;
	nonce[3] = (uint8_t)dir;
	chunk_put64(nonce + 4, index);
	memcpy(aad, transfer_id, TR_UUID_LEN);
	chunk_put64(aad + TR_UUID_LEN, index);
	aad[TR_UUID_LEN + 8] = last ? 1 : 0;
	return 0;
}

/* A chunk context with its cipher context bound to AES-256-GCM. */
struct chunk_ctx *
chunk_ctx_new(void)
{
	struct chunk_ctx *ctx;

	if (pthread_once(&chunk_once, chunk_fetch) != 0 || chunk_aes == NULL)
		return NULL;
	if ((ctx = calloc(1, sizeof(*ctx))) == NULL)
		return NULL;
	/* Bind the cipher once; every chunk then only sets key and nonce. */
	if ((ctx->cipher = EVP_CIPHER_CTX_new()) == NULL ||
	    !EVP_CipherInit_ex2(ctx->cipher, chunk_aes, NULL, NULL, 1, NULL)) {
		chunk_ctx_free(ctx);
		return NULL;
	}
	return ctx;
}

/* Free a chunk context. */
void
chunk_ctx_free(struct chunk_ctx *ctx)
{
	if (ctx == NULL)
		return;
	EVP_CIPHER_CTX_free(ctx->cipher);
	free(ctx);
}

/* Bytes of a 'C' body carrying PLAIN_LEN bytes of plaintext. */
size_t
chunk_body_len(size_t plain_len)
{
	return plain_len + CHUNK_MIN_BODY;
}

/* Seal PLAIN as chunk INDEX into BODY = index || ciphertext || tag. */
int
chunk_seal(struct chunk_ctx *ctx, const uint8_t key[TR_KEY_LEN],
    const char transfer_id[TR_UUID_LEN], enum tr_dir dir, uint64_t index,
    int last, const uint8_t *plain, size_t len, uint8_t *body,
    size_t *bodylen)
{
	uint8_t nonce[CHUNK_NONCE_LEN], aad[CHUNK_AAD_LEN];
	uint8_t *ct = body + TR_CHUNK_HDR_LEN;
	int outl, rv;

	if (ctx == NULL || key == NULL || transfer_id == NULL ||
	    (plain == NULL && len > 0) || body == NULL || bodylen == NULL ||
	    len > INT_MAX - CHUNK_MIN_BODY)
		return TR_EINVAL;
	if ((rv = chunk_params(transfer_id, dir, index, last, nonce, aad)) != 0)
		return rv;

	rv = TR_ECRYPTO;
	if (!EVP_CipherInit_ex2(ctx->cipher, NULL, key, nonce, 1, NULL))
		goto out;
	if (!EVP_CipherUpdate(ctx->cipher, NULL, &outl, aad, sizeof(aad)))
		goto out;
	if (len > 0 && (!EVP_CipherUpdate(ctx->cipher, ct, &outl, plain,
	    (int)len) || (size_t)outl != len))
		goto out;
	if (!EVP_CipherFinal_ex(ctx->cipher, ct + len, &outl) || outl != 0)
		goto out;
	if (!EVP_CIPHER_CTX_ctrl(ctx->cipher, EVP_CTRL_AEAD_GET_TAG,
	    TR_GCM_TAG_LEN, ct + len))
		goto out;
	chunk_put64(body, index);
	*bodylen = chunk_body_len(len);
	rv = 0;
out:
	return rv;
}

/* Authenticate and decrypt BODY; the index it carries is checked last. */
int
chunk_open(struct chunk_ctx *ctx, const uint8_t key[TR_KEY_LEN],
    const char transfer_id[TR_UUID_LEN], enum tr_dir dir,
    uint64_t expect_index, int last, const uint8_t *body, size_t bodylen,
    uint8_t *plain, size_t *plainlen)
{
	uint8_t nonce[CHUNK_NONCE_LEN], aad[CHUNK_AAD_LEN];
	uint8_t tag[TR_GCM_TAG_LEN], fin[TR_GCM_TAG_LEN];
	const uint8_t *ct;
	uint64_t index;
	size_t len;
	int outl, rv;

	if (ctx == NULL || key == NULL || transfer_id == NULL ||
	    body == NULL || plainlen == NULL || bodylen < CHUNK_MIN_BODY ||
	    bodylen > INT_MAX)
		return TR_EINVAL;
	len = bodylen - CHUNK_MIN_BODY;
	if (plain == NULL && len > 0)
		return TR_EINVAL;
	index = chunk_get64(body);
	if ((rv = chunk_params(transfer_id, dir, index, last, nonce, aad)) != 0)
		return rv;
	ct = body + TR_CHUNK_HDR_LEN;
	memcpy(tag, ct + len, sizeof(tag));

	rv = TR_ECRYPTO;
	if (!EVP_CipherInit_ex2(ctx->cipher, NULL, key, nonce, 0, NULL))
		goto out;
	if (!EVP_CIPHER_CTX_ctrl(ctx->cipher, EVP_CTRL_AEAD_SET_TAG,
	    sizeof(tag), tag))
		goto out;
	if (!EVP_CipherUpdate(ctx->cipher, NULL, &outl, aad, sizeof(aad)))
		goto out;
	if (len > 0 && (!EVP_CipherUpdate(ctx->cipher, plain, &outl, ct,
	    (int)len) || (size_t)outl != len))
		goto out;
	if (EVP_CipherFinal_ex(ctx->cipher, fin, &outl) <= 0) {
		rv = TR_EAUTHTAG;
		goto out;
	}
	if (index != expect_index) {
		rv = TR_EPROTO;
		goto out;
	}
	*plainlen = len;
	rv = 0;
out:
	if (rv != 0 && len > 0)
		OPENSSL_cleanse(plain, len);
	return rv;
}
