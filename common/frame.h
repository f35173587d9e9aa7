/* Reading and writing the 5-byte-header 'J' and 'C' frames (PROTOCOL.md section 4). */
#ifndef TROSYN_FRAME_H
#define TROSYN_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "trosyn-protocol.h"

/*
 * A connection frames travel on: a TLS connection when SSL is set, else the
 * plain socket FD.  Timeouts come from the socket (SO_RCVTIMEO/SO_SNDTIMEO).
 *
 * Errors of every read and write:
 *   TR_ECLOSED   the peer closed cleanly before the first byte of a frame;
 *   TR_ETRUNC    the peer closed in the middle of a frame;
 *   TR_ETIMEDOUT the socket timeout expired (nothing or part read);
 *   TR_EIO       any other socket error, TR_ETLS a TLS failure.
 * EINTR is retried.
 */
struct frame_conn {
	int fd;
	SSL *ssl;
	uint64_t bytes_in;		/* counted by frame_read_full / frame_write_full */
	uint64_t bytes_out;
};

/* Limits a received header is checked against before any body is read. */
struct frame_limits {
	uint32_t max_json;	/* max_message_size */
	uint32_t max_chunk;	/* chunk_size + TR_CHUNK_OVERHEAD; 0 = no 'C' allowed */
};

/* Decode a 5-byte header into *TYPE and *LEN. */
void frame_parse_header(const uint8_t hdr[TR_FRAME_HDR_LEN], uint8_t *type,
    uint32_t *len);

/* Encode TYPE and LEN into HDR. */
void frame_build_header(uint8_t hdr[TR_FRAME_HDR_LEN], uint8_t type,
    uint32_t len);

/*
 * Check a header against LIMITS: 0 when acceptable; TR_EFRAMETYPE for an
 * unknown type or 'C' where max_chunk is 0; TR_ETOOBIG for a body over its
 * limit (the limit is then in *MAX when MAX is not NULL).
 */
int frame_check(const struct frame_limits *limits, uint8_t type, uint32_t len,
    uint32_t *max);

/* Read exactly LEN bytes (first byte EOF is TR_ECLOSED, later TR_ETRUNC). */
int frame_read_full(struct frame_conn *c, void *buf, size_t len);

/* Write exactly LEN bytes. */
int frame_write_full(struct frame_conn *c, const void *buf, size_t len);

/*
 * Read one header and check it against LIMITS (see frame_check; on
 * TR_ETOOBIG or TR_EFRAMETYPE the body has not been read).
 */
int frame_read_header(struct frame_conn *c, const struct frame_limits *limits,
    uint8_t *type, uint32_t *len, uint32_t *max);

/*
 * Read a whole 'J' frame whose header passed LIMITS into a malloc'd,
 * NUL-terminated buffer.  A 'C' frame here is TR_EFRAMETYPE.
 */
int frame_read_json(struct frame_conn *c, const struct frame_limits *limits,
    char **body, size_t *len, uint32_t *max);

/* Write one frame (header and body in one write where possible). */
int frame_write(struct frame_conn *c, uint8_t type, const void *body,
    uint32_t len);

#endif /* TROSYN_FRAME_H */
