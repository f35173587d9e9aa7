/* The node's side of file transfer (PROTOCOL.md section 9): fetch and upload over the file channel. */
#ifndef TROSYN_XFER_H
#define TROSYN_XFER_H

#include <stddef.h>
#include <stdint.h>

#include "link.h"
#include "trosyn.h"

#define XFER_ERR_LEN		(LINK_ERR_LEN + 256)
#define XFER_PARTIAL_DIR	"partial"	/* under the state dir */

/*
 * Connect and log in on the file channel into L (a token login of the
 * node's session; L->conn_key set).  Returns 0 or a TR_E* code with L->err
 * set; TR_EBUSY with L->retry_after_ms for a saturated hub.
 */
typedef int (*xfer_connect_fn)(void *arg, struct link *l);

/* How to run a transfer. */
struct xfer_opts {
	xfer_connect_fn connect;	/* required */
	void *connect_arg;
	uint32_t chunk_size;		/* asked for; 0 = TR_DEF_CHUNK_SIZE */
	const char *partial_dir;	/* fetch: where partial files live (created 0700) */
	trosyn_progress_fn progress;	/* may be NULL; direction "fetch" or "upload", bytes */
	void *progress_arg;
	int retries;			/* after the first attempt; < 0 = LINK_RETRIES */
	int64_t backoff_ms;		/* first retry delay, doubling; 0 = LINK_BACKOFF_MS */
};

/* What a transfer did. */
struct xfer_result {
	int64_t size;			/* bytes of the file */
	int64_t offset;			/* where the last attempt started (a resume when > 0) */
	int64_t moved;			/* plaintext bytes streamed by the last attempt */
	int attempts;
	int already;			/* upload: the hub held the whole blob */
	char err[XFER_ERR_LEN];		/* why it failed */
};

/*
 * Fetch the blob SHA256_HEX (64 lowercase hex digits) into OUT_PATH.
 * WANT_SIZE is the size the node expects (-1: unknown; else READY must
 * agree).  Whole verified chunks accumulate in
 * PARTIAL_DIR/<sha256>.<chunk_size>.part and a later fetch resumes from
 * them; only a file whose SHA-256 matches is fsynced and renamed to
 * OUT_PATH, then the hub is told TRANSFER_COMPLETE.  Connection failures
 * and BUSY are retried (section 11); a chunk that fails authentication
 * (TR_EAUTHTAG) or a wrong whole-file hash (TR_EPROTO) is not, and
 * OUT_PATH is then left untouched.
 */
int xfer_fetch(const struct xfer_opts *o, const char *sha256_hex,
    int64_t want_size, const char *out_path, struct xfer_result *res);

/*
 * Upload the file PATH, whose SHA-256 is SHA256_HEX and size SIZE (from
 * xfer_hash_file), resuming from the offset the hub already holds, and wait
 * for the hub's TRANSFER_COMPLETE.  A "corrupt" verdict (the file changed
 * since it was hashed) is TR_EPROTO.  Retries as xfer_fetch.
 */
int xfer_upload(const struct xfer_opts *o, const char *path,
    const char *sha256_hex, int64_t size, struct xfer_result *res);

/* The lowercase hex SHA-256 and the size of the regular file PATH; ERR says why not. */
int xfer_hash_file(const char *path, char hex[2 * TR_HASH_LEN + 1],
    int64_t *size, char *err, size_t errlen);

/*
 * 0 when the file name NAME (LEN bytes) may be materialized in a files
 * directory, else TR_EINVAL with *WHY a short reason: it is empty, holds
 * '/', NUL or a control character (0x01-0x1f, 0x7f), or is "." or "..".
 */
int xfer_name_check(const char *name, size_t len, const char **why);

#endif /* TROSYN_XFER_H */
