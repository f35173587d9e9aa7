/* AES-256-GCM sealing and opening of file chunks (PROTOCOL.md section 9). */
#ifndef TROSYN_CHUNK_H
#define TROSYN_CHUNK_H

#include <stddef.h>
#include <stdint.h>

#include "trosyn-protocol.h"

/*
 * A 'C' frame body is index (uint64 BE) || ciphertext || tag (16 B), with
 *   nonce = direction (uint32 BE) || index (uint64 BE)
 *   AAD   = transfer_id (36 ASCII) || index (uint64 BE) || last (1 byte)
 *
 * A chunk context holds one cipher context and is reused for every chunk of
 * a transfer worker: sealing and opening allocate nothing.  Not thread-safe.
 */
struct chunk_ctx;

struct chunk_ctx *chunk_ctx_new(void);
void chunk_ctx_free(struct chunk_ctx *ctx);

/* Bytes of a 'C' body carrying PLAIN_LEN bytes of plaintext. */
size_t chunk_body_len(size_t plain_len);

/*
 * Seal LEN bytes of PLAIN as chunk INDEX into BODY, which must hold
 * chunk_body_len(LEN) bytes; *BODYLEN gets that length.  LAST is 1 on the
 * final chunk of the file.  Returns 0 or TR_ECRYPTO / TR_EINVAL.
 */
int chunk_seal(struct chunk_ctx *ctx, const uint8_t key[TR_KEY_LEN],
    const char transfer_id[TR_UUID_LEN], enum tr_dir dir, uint64_t index,
    int last, const uint8_t *plain, size_t len, uint8_t *body,
    size_t *bodylen);

/*
 * Open BODY (BODYLEN bytes) into PLAIN, which must hold BODYLEN - 24 bytes;
 * *PLAINLEN gets the plaintext length.  The index written in the body is
 * authenticated first: any change to index, ciphertext, tag, transfer id,
 * direction or LAST is TR_EAUTHTAG.  An authentic chunk whose index is not
 * EXPECT_INDEX is TR_EPROTO; a body shorter than 24 bytes is TR_EINVAL.
 * PLAIN holds nothing usable unless it returns 0.
 */
int chunk_open(struct chunk_ctx *ctx, const uint8_t key[TR_KEY_LEN],
    const char transfer_id[TR_UUID_LEN], enum tr_dir dir,
    uint64_t expect_index, int last, const uint8_t *body, size_t bodylen,
    uint8_t *plain, size_t *plainlen);

#endif /* TROSYN_CHUNK_H */
