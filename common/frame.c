/* Reading and writing the 5-byte-header 'J' and 'C' frames over a socket or TLS. */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "err.h"
#include "frame.h"

/* Bodies up to this size leave in the same write as their header. */
#define FRAME_COALESCE	16384

/* Decode a 5-byte header. */
void
frame_parse_header(const uint8_t hdr[TR_FRAME_HDR_LEN], uint8_t *type,
    uint32_t *len)
{
	*type = hdr[0];
	*len = (uint32_t)hdr[1] << 24 | (uint32_t)hdr[2] << 16 |
	    (uint32_t)hdr[3] << 8 | (uint32_t)hdr[4];
}

/* Encode a 5-byte header. */
void
frame_build_header(uint8_t hdr[TR_FRAME_HDR_LEN], uint8_t type, uint32_t len)
{
	hdr[0] = type;
	hdr[1] = (uint8_t)(len >> 24);
	hdr[2] = (uint8_t)(len >> 16);
	hdr[3] = (uint8_t)(len >> 8);
	hdr[4] = (uint8_t)len;
}

/* Check a header against the limits before anything of its body is read. */
int
frame_check(const struct frame_limits *limits, uint8_t type, uint32_t len,
    uint32_t *max)
{
	switch (type) {
	case TR_FRAME_JSON:
		if (len > limits->max_json) {
			if (max != NULL)
				*max = limits->max_json;
			return TR_ETOOBIG;
		}
		return 0;
	case TR_FRAME_CHUNK:
		if (limits->max_chunk == 0)
			return TR_EFRAMETYPE;
		if (len > limits->max_chunk) {
			if (max != NULL)
				*max = limits->max_chunk;
			return TR_ETOOBIG;
		}
		return 0;
	default:
		return TR_EFRAMETYPE;
	}
}

/*
 * Map a failed SSL_read_ex/SSL_write_ex to a TR_E* code: 1 means retry
 * (EINTR), TR_ECLOSED stands for any end of stream.  A close without
 * close_notify counts as an end of stream too: frames delimit themselves,
 * so the caller still tells a clean end from a truncated frame.
 */
static int
frame_ssl_error(SSL *ssl, int ret)
{
	int e = SSL_get_error(ssl, ret), saved = errno;
	unsigned long code;

	switch (e) {
	case SSL_ERROR_ZERO_RETURN:
		return TR_ECLOSED;
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		if (saved == EINTR)
			return 1;
		return TR_ETIMEDOUT;
	case SSL_ERROR_SYSCALL:
		if (saved == EINTR)
			return 1;
		if (saved == EAGAIN || saved == EWOULDBLOCK)
			return TR_ETIMEDOUT;
		if (saved == 0 && ERR_peek_error() == 0)
			return TR_ECLOSED;
		return TR_EIO;
	case SSL_ERROR_SSL:
		code = ERR_peek_error();
		if (ERR_GET_LIB(code) == ERR_LIB_SSL &&
		    ERR_GET_REASON(code) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
			return TR_ECLOSED;
		return TR_ETLS;
	default:
		return TR_ETLS;
	}
}

/* Read up to LEN bytes once: the count, 0 at end of stream, or a TR_E* code. */
static ssize_t
frame_recv(struct frame_conn *c, void *buf, size_t len)
{
	for (;;) {
		if (c->ssl != NULL) {
			size_t n = 0;
			int rc;

			ERR_clear_error();
			errno = 0;
			if (SSL_read_ex(c->ssl, buf, len, &n) == 1)
				return (ssize_t)n;
			if ((rc = frame_ssl_error(c->ssl, 0)) == 1)
				continue;
			return rc == TR_ECLOSED ? 0 : rc;
		} else {
			ssize_t n = recv(c->fd, buf, len, 0);

			if (n >= 0)
				return n;
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return TR_ETIMEDOUT;
			return TR_EIO;
		}
	}
}

/* Write up to LEN bytes once: the count or a TR_E* code. */
static ssize_t
frame_send(struct frame_conn *c, const void *buf, size_t len)
{
	for (;;) {
		if (c->ssl != NULL) {
			size_t n = 0;
			int rc;

			ERR_clear_error();
			errno = 0;
			if (SSL_write_ex(c->ssl, buf, len, &n) == 1)
				return (ssize_t)n;
			if ((rc = frame_ssl_error(c->ssl, 0)) == 1)
				continue;
			/* The peer went away: for a writer that is an I/O error. */
			return rc == TR_ECLOSED ? TR_EIO : rc;
		} else {
			ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);

			if (n >= 0)
				return n;
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return TR_ETIMEDOUT;
			return TR_EIO;
		}
	}
}

/* Read exactly LEN bytes; end of stream before the first is TR_ECLOSED, later TR_ETRUNC. */
int
frame_read_full(struct frame_conn *c, void *buf, size_t len)
{
	uint8_t *p = buf;
	size_t got = 0;

	while (got < len) {
		ssize_t n = frame_recv(c, p + got, len - got);

		if (n < 0)
			return (int)n;
		if (n == 0)
			return got == 0 ? TR_ECLOSED : TR_ETRUNC;
		got += (size_t)n;
		c->bytes_in += (uint64_t)n;
	}
	return 0;
}

/* Write exactly LEN bytes. */
int
frame_write_full(struct frame_conn *c, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	size_t done = 0;

	while (done < len) {
		ssize_t n = frame_send(c, p + done, len - done);

		if (n < 0)
			return (int)n;
		if (n == 0)
			return TR_EIO;
		done += (size_t)n;
		c->bytes_out += (uint64_t)n;
	}
	return 0;
}

/* Read one header and check it; the body stays unread. */
int
frame_read_header(struct frame_conn *c, const struct frame_limits *limits,
    uint8_t *type, uint32_t *len, uint32_t *max)
{
	uint8_t hdr[TR_FRAME_HDR_LEN];
	int rc;

	if (max != NULL)
		*max = 0;
	if ((rc = frame_read_full(c, hdr, sizeof(hdr))) != 0)
		return rc;
	frame_parse_header(hdr, type, len);
	return frame_check(limits, *type, *len, max);
}

/* Read one whole 'J' frame into a malloc'd, NUL-terminated buffer. */
int
frame_read_json(struct frame_conn *c, const struct frame_limits *limits,
    char **body, size_t *len, uint32_t *max)
{
	char *buf = NULL;
	uint32_t n;
	uint8_t type;
	int rc;

	*body = NULL;
	*len = 0;
	if ((rc = frame_read_header(c, limits, &type, &n, max)) != 0)
		goto out;
	if (type != TR_FRAME_JSON) {
		rc = TR_EFRAMETYPE;
		goto out;
	}
	if ((buf = malloc((size_t)n + 1)) == NULL) {
		rc = TR_ENOMEM;
		goto out;
	}
	if ((rc = frame_read_full(c, buf, n)) != 0) {
		if (rc == TR_ECLOSED)
			rc = TR_ETRUNC;
		goto out;
	}
	buf[n] = '\0';
	*body = buf;
	*len = n;
	buf = NULL;
out:
	free(buf);
	return rc;
}

/* Write one frame; a small body shares the header's write. */
int
frame_write(struct frame_conn *c, uint8_t type, const void *body, uint32_t len)
{
	uint8_t buf[FRAME_COALESCE];
	int rc;

	frame_build_header(buf, type, len);
	if (len <= sizeof(buf) - TR_FRAME_HDR_LEN) {
		if (len > 0)
			memcpy(buf + TR_FRAME_HDR_LEN, body, len);
		return frame_write_full(c, buf, TR_FRAME_HDR_LEN + (size_t)len);
	}
	if ((rc = frame_write_full(c, buf, TR_FRAME_HDR_LEN)) != 0)
		return rc;
	return frame_write_full(c, body, len);
}
