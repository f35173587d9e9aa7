/* The content-addressed blob store under DIR/blobs: verified partial files, atomic publication, resume. */
#ifndef TROSYN_BLOB_H
#define TROSYN_BLOB_H

#include <stddef.h>
#include <stdint.h>

#include "trosyn-protocol.h"

/*
 * Layout under the state directory:
 *   blobs/ab/cdef...            the blob whose SHA-256 is abcdef... (hex)
 *   blobs/partial/HEX.N.part    a put in progress with chunk size N: its
 *                               bytes are plaintext of chunks whose tags
 *                               verified, so a resume continues from the
 *                               last whole chunk
 *   blobs/partial/tmp.XXXXXX    a file being stored by trosyn-admin
 * A blob appears only by rename(2) after its SHA-256 was checked and the
 * data and the directory were fsynced: a crash or a full disk leaves at
 * most a partial, never a wrong or half-written blob.
 */

#define BLOB_HEX_LEN	(2 * TR_HASH_LEN)

struct blob_store;
struct blob_put;

/*
 * The store of state directory DIR (creating blobs/partial when missing).
 * NULL with the reason in ERR.
 */
struct blob_store *blob_store_open(const char *dir, char *err, size_t errlen);
void blob_store_close(struct blob_store *bs);

/* Non-zero when HEX is 64 lowercase hex digits. */
int blob_valid_hex(const char *hex);

/* 0 when blob HEX exists (its size in *SIZE when not NULL), else TR_ENOTFOUND. */
int blob_exists(struct blob_store *bs, const char *hex, int64_t *size);

/* Open blob HEX for reading: *FD and *SIZE; TR_ENOTFOUND when absent. */
int blob_open_read(struct blob_store *bs, const char *hex, int *fd,
    int64_t *size);

/* Number of blobs in the store of state directory DIR (walks blobs/). */
int blob_count(const char *dir, int64_t *n);

/*
 * Begin or resume the put of blob HEX of SIZE bytes.  The chunk size is
 * that of an existing partial, else CHUNK_SIZE; *CHUNK gets it and
 * *OFFSET the verified bytes held (a multiple of the chunk size, at most
 * SIZE).  When the blob already exists *OFFSET is SIZE and *OUT is NULL.
 * TR_EBUSY when another put of HEX is running in this process.
 */
int blob_put_begin(struct blob_store *bs, const char *hex, int64_t size,
    uint32_t chunk_size, struct blob_put **out, uint32_t *chunk,
    int64_t *offset);

/* Append LEN verified bytes; TR_EIO (errno kept) on a write error, TR_ETOOBIG past SIZE. */
int blob_put_write(struct blob_put *p, const void *data, size_t len);

/*
 * Finish a put that received all SIZE bytes: fsync, check the SHA-256,
 * rename into place, fsync the directory; the put is freed.  *CORRUPT is
 * set (and the partial removed) when the data does not hash to HEX.
 */
int blob_put_finish(struct blob_put *p, int *corrupt);

/* Stop a put, keeping its verified bytes for a resume; the put is freed. */
void blob_put_abort(struct blob_put *p);

/*
 * Store the file at PATH (trosyn-admin publish --file): copy it into a
 * temporary file while hashing, fsync, rename to its hash.  *HEX (65
 * bytes) and *SIZE describe it.  Works without a running hub.
 */
int blob_store_file(const char *dir, const char *path, char *hex,
    int64_t *size, char *err, size_t errlen);

#endif /* TROSYN_BLOB_H */
