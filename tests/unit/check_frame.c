/* Unit tests of the frame layer over socket pairs, plain and TLS. */
#include "config.h"

#include <sys/socket.h>
#include <sys/time.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "err.h"
#include "frame.h"
#include "testutil.h"

static const struct frame_limits lim_main = { 4096, 0 };
static const struct frame_limits lim_file = { 4096, 1024 };

/* A connected AF_UNIX stream pair with 1 s receive and send timeouts. */
static void
make_pair(int sv[2])
{
	struct timeval tv = { 1, 0 };

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(setsockopt(sv[i], SOL_SOCKET, SO_RCVTIMEO,
		    &tv, sizeof(tv)), 0);
		ck_assert_int_eq(setsockopt(sv[i], SOL_SOCKET, SO_SNDTIMEO,
		    &tv, sizeof(tv)), 0);
	}
}

/* Send raw bytes on FD. */
static void
put_raw(int fd, const void *buf, size_t len)
{
	ck_assert_int_eq(send(fd, buf, len, 0), (ssize_t)len);
}

/* Assert the next bytes waiting on FD are exactly WANT (nothing consumed before them). */
static void
assert_pending(int fd, const char *want)
{
	char buf[64];
	size_t n = strlen(want);
	ssize_t got;

	got = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	ck_assert_int_eq(got, (ssize_t)n);
	ck_assert_mem_eq(buf, want, n);
}

/* Seconds elapsed since *T0. */
static double
elapsed(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) +
	    (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

START_TEST(test_header_encoding)
{
	uint8_t hdr[TR_FRAME_HDR_LEN], type;
	uint32_t len;

	frame_build_header(hdr, TR_FRAME_JSON, 0x01020304);
	ck_assert_mem_eq(hdr, "\x4a\x01\x02\x03\x04", 5);
	frame_parse_header(hdr, &type, &len);
	ck_assert_uint_eq(type, 'J');
	ck_assert_uint_eq(len, 0x01020304);

	frame_build_header(hdr, TR_FRAME_CHUNK, 0xfffffffe);
	ck_assert_mem_eq(hdr, "\x43\xff\xff\xff\xfe", 5);
	frame_parse_header(hdr, &type, &len);
	ck_assert_uint_eq(type, 'C');
	ck_assert_uint_eq(len, 0xfffffffeu);

	frame_parse_header((const uint8_t *)"\x4a\x00\x00\x01\x00", &type, &len);
	ck_assert_uint_eq(len, 256);
}
END_TEST

START_TEST(test_check)
{
	uint32_t max = 0;

	ck_assert_int_eq(frame_check(&lim_main, 'J', 0, &max), 0);
	ck_assert_int_eq(frame_check(&lim_main, 'J', 4096, &max), 0);
	ck_assert_int_eq(frame_check(&lim_main, 'J', 4097, &max), TR_ETOOBIG);
	ck_assert_uint_eq(max, 4096);
	ck_assert_int_eq(frame_check(&lim_main, 'J', 0xffffffff, NULL),
	    TR_ETOOBIG);
	ck_assert_int_eq(frame_check(&lim_main, 'C', 1, &max), TR_EFRAMETYPE);
	ck_assert_int_eq(frame_check(&lim_main, 'C', 0, &max), TR_EFRAMETYPE);
	ck_assert_int_eq(frame_check(&lim_file, 'C', 1024, &max), 0);
	max = 0;
	ck_assert_int_eq(frame_check(&lim_file, 'C', 1025, &max), TR_ETOOBIG);
	ck_assert_uint_eq(max, 1024);
	ck_assert_int_eq(frame_check(&lim_file, 'j', 1, &max), TR_EFRAMETYPE);
	ck_assert_int_eq(frame_check(&lim_file, 0, 0, &max), TR_EFRAMETYPE);
	ck_assert_int_eq(frame_check(&lim_file, 0xff, 0, &max), TR_EFRAMETYPE);
}
END_TEST

START_TEST(test_roundtrip_json)
{
	struct frame_conn a, b;
	char *body;
	size_t len;
	uint32_t max;
	int sv[2];

	make_pair(sv);
	a = (struct frame_conn){ sv[0], NULL };
	b = (struct frame_conn){ sv[1], NULL };
	ck_assert_int_eq(frame_write(&a, 'J', "{\"a\":1}", 7), 0);
	ck_assert_int_eq(frame_write(&a, 'J', NULL, 0), 0);
	ck_assert_int_eq(frame_write(&a, 'J', "{}", 2), 0);

	ck_assert_int_eq(frame_read_json(&b, &lim_main, &body, &len, &max), 0);
	ck_assert_uint_eq(len, 7);
	ck_assert_str_eq(body, "{\"a\":1}");
	free(body);
	ck_assert_int_eq(frame_read_json(&b, &lim_main, &body, &len, &max), 0);
	ck_assert_uint_eq(len, 0);
	ck_assert_ptr_nonnull(body);
	ck_assert_str_eq(body, "");
	free(body);
	ck_assert_int_eq(frame_read_json(&b, &lim_main, &body, &len, &max), 0);
	ck_assert_str_eq(body, "{}");
	free(body);
	close(sv[0]);
	ck_assert_int_eq(frame_read_json(&b, &lim_main, &body, &len, &max),
	    TR_ECLOSED);
	ck_assert_ptr_null(body);
	close(sv[1]);
}
END_TEST

START_TEST(test_roundtrip_chunk)
{
	struct frame_conn a, b;
	uint8_t data[1024], back[1024], type;
	uint32_t len, max;
	int sv[2];

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 3);
	make_pair(sv);
	a = (struct frame_conn){ sv[0], NULL };
	b = (struct frame_conn){ sv[1], NULL };
	ck_assert_int_eq(frame_write(&a, 'C', data, sizeof(data)), 0);
	ck_assert_int_eq(frame_write(&a, 'C', NULL, 0), 0);

	ck_assert_int_eq(frame_read_header(&b, &lim_file, &type, &len, &max), 0);
	ck_assert_uint_eq(type, TR_FRAME_CHUNK);
	ck_assert_uint_eq(len, sizeof(data));
	ck_assert_int_eq(frame_read_full(&b, back, len), 0);
	ck_assert_mem_eq(back, data, sizeof(data));
	ck_assert_int_eq(frame_read_header(&b, &lim_file, &type, &len, &max), 0);
	ck_assert_uint_eq(type, TR_FRAME_CHUNK);
	ck_assert_uint_eq(len, 0);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(test_oversized_json)
{
	struct frame_conn b;
	uint8_t hdr[TR_FRAME_HDR_LEN], type;
	uint32_t len, max = 0;
	char *body = (char *)1;
	size_t blen = 99;
	int sv[2];

	make_pair(sv);
	b = (struct frame_conn){ sv[1], NULL };
	frame_build_header(hdr, 'J', 4097);
	put_raw(sv[0], hdr, sizeof(hdr));
	put_raw(sv[0], "next", 4);
	ck_assert_int_eq(frame_read_header(&b, &lim_main, &type, &len, &max),
	    TR_ETOOBIG);
	ck_assert_uint_eq(type, 'J');
	ck_assert_uint_eq(len, 4097);
	ck_assert_uint_eq(max, 4096);
	assert_pending(sv[1], "next");

	/* The same through frame_read_json: no body read, nothing returned. */
	frame_build_header(hdr, 'J', 0x7fffffff);
	put_raw(sv[0], hdr, sizeof(hdr));
	put_raw(sv[0], "rest", 4);
	max = 0;
	ck_assert_int_eq(frame_read_json(&b, &lim_main, &body, &blen, &max),
	    TR_ETOOBIG);
	ck_assert_uint_eq(max, 4096);
	ck_assert_ptr_null(body);
	ck_assert_uint_eq(blen, 0);
	assert_pending(sv[1], "rest");
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(test_oversized_chunk)
{
	struct frame_conn b;
	uint8_t hdr[TR_FRAME_HDR_LEN], type;
	uint32_t len, max = 0;
	char *body;
	size_t blen;
	int sv[2];

	make_pair(sv);
	b = (struct frame_conn){ sv[1], NULL };
	frame_build_header(hdr, 'C', 1025);
	put_raw(sv[0], hdr, sizeof(hdr));
	put_raw(sv[0], "abc", 3);
	ck_assert_int_eq(frame_read_header(&b, &lim_file, &type, &len, &max),
	    TR_ETOOBIG);
	ck_assert_uint_eq(type, 'C');
	ck_assert_uint_eq(max, 1024);
	assert_pending(sv[1], "abc");

	/* An oversized 'C' met where JSON was expected is still TOO_LARGE. */
	put_raw(sv[0], hdr, sizeof(hdr));
	put_raw(sv[0], "xyz", 3);
	max = 0;
	ck_assert_int_eq(frame_read_json(&b, &lim_file, &body, &blen, &max),
	    TR_ETOOBIG);
	ck_assert_uint_eq(max, 1024);
	assert_pending(sv[1], "xyz");
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(test_bad_type)
{
	struct frame_conn b;
	uint8_t hdr[TR_FRAME_HDR_LEN], type;
	uint32_t len, max = 7;
	char *body;
	size_t blen;
	int sv[2];

	make_pair(sv);
	b = (struct frame_conn){ sv[1], NULL };

	/* Unknown type. */
	frame_build_header(hdr, 'X', 3);
	put_raw(sv[0], hdr, sizeof(hdr));
	put_raw(sv[0], "123", 3);
	ck_assert_int_eq(frame_read_header(&b, &lim_file, &type, &len, &max),
	    TR_EFRAMETYPE);
	ck_assert_uint_eq(type, 'X');
	ck_assert_uint_eq(max, 0);
	assert_pending(sv[1], "123");

	/* 'C' on a channel that takes none. */
	frame_build_header(hdr, 'C', 3);
	put_raw(sv[0], hdr, sizeof(hdr));
	put_raw(sv[0], "456", 3);
	ck_assert_int_eq(frame_read_header(&b, &lim_main, &type, &len, &max),
	    TR_EFRAMETYPE);
	assert_pending(sv[1], "456");

	/* An acceptable 'C' handed to frame_read_json: body left alone. */
	put_raw(sv[0], hdr, sizeof(hdr));
	put_raw(sv[0], "789", 3);
	ck_assert_int_eq(frame_read_json(&b, &lim_file, &body, &blen, &max),
	    TR_EFRAMETYPE);
	ck_assert_ptr_null(body);
	assert_pending(sv[1], "789");

	/* Unknown type through frame_read_json. */
	frame_build_header(hdr, 0, 0);
	put_raw(sv[0], hdr, sizeof(hdr));
	ck_assert_int_eq(frame_read_json(&b, &lim_file, &body, &blen, &max),
	    TR_EFRAMETYPE);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(test_closed_at_boundary)
{
	struct frame_conn b;
	uint8_t type;
	uint32_t len, max;
	int sv[2];

	make_pair(sv);
	b = (struct frame_conn){ sv[1], NULL };
	close(sv[0]);
	ck_assert_int_eq(frame_read_header(&b, &lim_main, &type, &len, &max),
	    TR_ECLOSED);
	ck_assert_int_eq(frame_read_full(&b, &type, 1), TR_ECLOSED);
	ck_assert_int_eq(frame_read_full(&b, NULL, 0), 0);
	close(sv[1]);
}
END_TEST

START_TEST(test_truncated_header)
{
	struct frame_conn b;
	uint8_t type;
	uint32_t len, max;
	char *body = (char *)1;
	size_t blen;
	int sv[2];

	make_pair(sv);
	b = (struct frame_conn){ sv[1], NULL };
	put_raw(sv[0], "J\x00\x00", 3);
	close(sv[0]);
	ck_assert_int_eq(frame_read_header(&b, &lim_main, &type, &len, &max),
	    TR_ETRUNC);
	close(sv[1]);

	make_pair(sv);
	b = (struct frame_conn){ sv[1], NULL };
	put_raw(sv[0], "J", 1);
	close(sv[0]);
	ck_assert_int_eq(frame_read_json(&b, &lim_main, &body, &blen, &max),
	    TR_ETRUNC);
	ck_assert_ptr_null(body);
	close(sv[1]);
}
END_TEST

START_TEST(test_truncated_body)
{
	struct frame_conn b;
	uint8_t hdr[TR_FRAME_HDR_LEN];
	uint32_t max;
	char *body = (char *)1;
	size_t blen;
	int sv[2];

	make_pair(sv);
	b = (struct frame_conn){ sv[1], NULL };
	frame_build_header(hdr, 'J', 10);
	put_raw(sv[0], hdr, sizeof(hdr));
	put_raw(sv[0], "{\"a\":", 5);
	close(sv[0]);
	ck_assert_int_eq(frame_read_json(&b, &lim_main, &body, &blen, &max),
	    TR_ETRUNC);
	ck_assert_ptr_null(body);
	close(sv[1]);

	/* Header complete, no body byte at all: still mid-frame. */
	make_pair(sv);
	b = (struct frame_conn){ sv[1], NULL };
	put_raw(sv[0], hdr, sizeof(hdr));
	close(sv[0]);
	ck_assert_int_eq(frame_read_json(&b, &lim_main, &body, &blen, &max),
	    TR_ETRUNC);
	close(sv[1]);
}
END_TEST

START_TEST(test_timeout)
{
	struct frame_conn b;
	struct timespec t0;
	char *body;
	size_t blen;
	uint32_t max;
	double dt;
	int sv[2];

	make_pair(sv);
	b = (struct frame_conn){ sv[1], NULL };
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(frame_read_json(&b, &lim_main, &body, &blen, &max),
	    TR_ETIMEDOUT);
	dt = elapsed(&t0);
	ck_assert_msg(dt > 0.8 && dt < 3.0, "timeout after %.2f s", dt);

	/* Part of a body, then silence. */
	put_raw(sv[0], "J\x00\x00\x00\x08{\"a\"", 9);
	ck_assert_int_eq(frame_read_json(&b, &lim_main, &body, &blen, &max),
	    TR_ETIMEDOUT);
	ck_assert_ptr_null(body);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(test_write_closed_peer)
{
	struct frame_conn a;
	static uint8_t big[100000];
	int sv[2];

	/* MSG_NOSIGNAL, not a caller's SIG_IGN, must keep the process alive. */
	signal(SIGPIPE, SIG_DFL);
	make_pair(sv);
	a = (struct frame_conn){ sv[0], NULL };
	close(sv[1]);
	ck_assert_int_eq(frame_write(&a, 'J', "{}", 2), TR_EIO);
	ck_assert_int_eq(frame_write(&a, 'C', big, sizeof(big)), TR_EIO);
	ck_assert_int_eq(frame_write_full(&a, "x", 1), TR_EIO);
	close(sv[0]);
	signal(SIGPIPE, SIG_IGN);
}
END_TEST

START_TEST(test_write_timeout)
{
	struct frame_conn a;
	static uint8_t big[1 << 20];
	int sv[2];

	/* Nobody reads: the socket buffer fills and the send timeout expires. */
	make_pair(sv);
	a = (struct frame_conn){ sv[0], NULL };
	ck_assert_int_eq(frame_write(&a, 'C', big, sizeof(big)), TR_ETIMEDOUT);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

struct dribble {
	int fd;
	const uint8_t *data;
	size_t len;
	size_t step;
};

/* Send D->data in D->step-byte pieces with short pauses. */
static void *
dribble_main(void *arg)
{
	struct dribble *d = arg;

	for (size_t off = 0; off < d->len; off += d->step) {
		size_t n = d->len - off < d->step ? d->len - off : d->step;

		if (send(d->fd, d->data + off, n, 0) != (ssize_t)n)
			return (void *)1;
		if (off % (d->step * 16) == 0)
			usleep(1000);
	}
	return NULL;
}

START_TEST(test_split_writes)
{
	struct frame_conn b;
	struct dribble d;
	pthread_t th;
	uint8_t *wire;
	char *body;
	size_t blen, n = 3000;
	uint32_t max;
	void *ret;
	int sv[2];

	wire = malloc(TR_FRAME_HDR_LEN + n);
	ck_assert_ptr_nonnull(wire);
	frame_build_header(wire, 'J', (uint32_t)n);
	for (size_t i = 0; i < n; i++)
		wire[TR_FRAME_HDR_LEN + i] = (uint8_t)('a' + i % 26);
	make_pair(sv);
	b = (struct frame_conn){ sv[1], NULL };
	d = (struct dribble){ sv[0], wire, TR_FRAME_HDR_LEN + n, 7 };
	ck_assert_int_eq(pthread_create(&th, NULL, dribble_main, &d), 0);
	ck_assert_int_eq(frame_read_json(&b, &lim_main, &body, &blen, &max), 0);
	ck_assert_int_eq(pthread_join(th, &ret), 0);
	ck_assert_ptr_null(ret);
	ck_assert_uint_eq(blen, n);
	ck_assert_mem_eq(body, wire + TR_FRAME_HDR_LEN, n);
	ck_assert_int_eq(body[n], '\0');
	free(body);
	free(wire);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

struct bigwrite {
	struct frame_conn *c;
	const uint8_t *data;
	uint32_t len;
	int rc;
};

/* Write one large frame. */
static void *
bigwrite_main(void *arg)
{
	struct bigwrite *w = arg;

	w->rc = frame_write(w->c, 'J', w->data, w->len);
	return NULL;
}

START_TEST(test_large_frame)
{
	struct frame_limits lim = { 1 << 20, 0 };
	struct frame_conn a, b;
	struct bigwrite w;
	pthread_t th;
	uint8_t *data;
	char *body;
	size_t blen, n = 300000;
	uint32_t max;
	int sv[2];

	data = malloc(n);
	ck_assert_ptr_nonnull(data);
	for (size_t i = 0; i < n; i++)
		data[i] = (uint8_t)(i ^ (i >> 8));
	make_pair(sv);
	a = (struct frame_conn){ sv[0], NULL };
	b = (struct frame_conn){ sv[1], NULL };
	w = (struct bigwrite){ &a, data, (uint32_t)n, -100 };
	ck_assert_int_eq(pthread_create(&th, NULL, bigwrite_main, &w), 0);
	ck_assert_int_eq(frame_read_json(&b, &lim, &body, &blen, &max), 0);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	ck_assert_int_eq(w.rc, 0);
	ck_assert_uint_eq(blen, n);
	ck_assert_mem_eq(body, data, n);
	free(body);
	free(data);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/* --- the same rules over TLS 1.3 --- */

struct tls_pair {
	SSL_CTX *sctx, *cctx;
	SSL *server, *client;
	int sv[2];
};

/* A throw-away P-256 key and self-signed certificate for the server side. */
static void
tls_make_identity(SSL_CTX *ctx)
{
	EVP_PKEY *pkey = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *name;

	ck_assert_ptr_nonnull(pkey);
	ck_assert_ptr_nonnull(x);
	ck_assert_int_eq(X509_set_version(x, 2), 1);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)"frame-test", -1, -1, 0);
	ck_assert_int_eq(X509_set_issuer_name(x, name), 1);
	ck_assert_int_eq(X509_set_pubkey(x, pkey), 1);
	ck_assert_int_ne(X509_sign(x, pkey, EVP_sha256()), 0);
	ck_assert_int_eq(SSL_CTX_use_certificate(ctx, x), 1);
	ck_assert_int_eq(SSL_CTX_use_PrivateKey(ctx, pkey), 1);
	X509_free(x);
	EVP_PKEY_free(pkey);
}

/* Run the server half of the handshake. */
static void *
tls_accept_main(void *arg)
{
	struct tls_pair *tp = arg;

	return SSL_accept(tp->server) == 1 ? NULL : (void *)1;
}

/* Connect a TLS 1.3 client and server over a fresh socket pair. */
static void
tls_pair_open(struct tls_pair *tp)
{
	pthread_t th;
	void *ret;

	make_pair(tp->sv);
	tp->sctx = SSL_CTX_new(TLS_server_method());
	tp->cctx = SSL_CTX_new(TLS_client_method());
	ck_assert_ptr_nonnull(tp->sctx);
	ck_assert_ptr_nonnull(tp->cctx);
	SSL_CTX_set_min_proto_version(tp->sctx, TLS1_3_VERSION);
	SSL_CTX_set_min_proto_version(tp->cctx, TLS1_3_VERSION);
	SSL_CTX_set_num_tickets(tp->sctx, 0);
	tls_make_identity(tp->sctx);
	SSL_CTX_set_verify(tp->cctx, SSL_VERIFY_NONE, NULL);
	tp->server = SSL_new(tp->sctx);
	tp->client = SSL_new(tp->cctx);
	ck_assert_int_eq(SSL_set_fd(tp->server, tp->sv[0]), 1);
	ck_assert_int_eq(SSL_set_fd(tp->client, tp->sv[1]), 1);
	ck_assert_int_eq(pthread_create(&th, NULL, tls_accept_main, tp), 0);
	ck_assert_int_eq(SSL_connect(tp->client), 1);
	ck_assert_int_eq(pthread_join(th, &ret), 0);
	ck_assert_ptr_null(ret);
}

/* Free both ends. */
static void
tls_pair_close(struct tls_pair *tp)
{
	SSL_free(tp->server);
	SSL_free(tp->client);
	SSL_CTX_free(tp->sctx);
	SSL_CTX_free(tp->cctx);
	close(tp->sv[0]);
	close(tp->sv[1]);
}

START_TEST(test_tls_roundtrip)
{
	struct tls_pair tp;
	struct frame_conn s, c;
	uint8_t data[1000], back[1000], type;
	uint32_t len, max;
	char *body;
	size_t blen;

	tls_pair_open(&tp);
	s = (struct frame_conn){ -1, tp.server };
	c = (struct frame_conn){ -1, tp.client };
	memset(data, 0x5a, sizeof(data));
	ck_assert_int_eq(frame_write(&c, 'J', "{\"x\":true}", 10), 0);
	ck_assert_int_eq(frame_write(&c, 'C', data, sizeof(data)), 0);
	ck_assert_int_eq(frame_write(&c, 'J', NULL, 0), 0);
	ck_assert_int_eq(frame_read_json(&s, &lim_file, &body, &blen, &max), 0);
	ck_assert_str_eq(body, "{\"x\":true}");
	free(body);
	ck_assert_int_eq(frame_read_header(&s, &lim_file, &type, &len, &max), 0);
	ck_assert_uint_eq(type, 'C');
	ck_assert_int_eq(frame_read_full(&s, back, len), 0);
	ck_assert_mem_eq(back, data, sizeof(data));
	ck_assert_int_eq(frame_read_json(&s, &lim_file, &body, &blen, &max), 0);
	ck_assert_uint_eq(blen, 0);
	free(body);

	/* Nothing more comes: the socket timeout. */
	ck_assert_int_eq(frame_read_json(&s, &lim_file, &body, &blen, &max),
	    TR_ETIMEDOUT);

	/* close_notify at a frame boundary is a clean close. */
	ck_assert_int_ge(SSL_shutdown(tp.client), 0);
	ck_assert_int_eq(frame_read_json(&s, &lim_file, &body, &blen, &max),
	    TR_ECLOSED);
	tls_pair_close(&tp);
}
END_TEST

START_TEST(test_tls_truncated)
{
	struct tls_pair tp;
	struct frame_conn s, c;
	uint8_t hdr[TR_FRAME_HDR_LEN];
	uint32_t max;
	char *body;
	size_t blen;

	/* close_notify after part of a body. */
	tls_pair_open(&tp);
	s = (struct frame_conn){ -1, tp.server };
	c = (struct frame_conn){ -1, tp.client };
	frame_build_header(hdr, 'J', 20);
	ck_assert_int_eq(frame_write_full(&c, hdr, sizeof(hdr)), 0);
	ck_assert_int_eq(frame_write_full(&c, "{\"a\"", 4), 0);
	ck_assert_int_ge(SSL_shutdown(tp.client), 0);
	ck_assert_int_eq(frame_read_json(&s, &lim_file, &body, &blen, &max),
	    TR_ETRUNC);
	ck_assert_ptr_null(body);
	tls_pair_close(&tp);

	/* A bare TCP close (no close_notify) at a boundary, then mid-header. */
	tls_pair_open(&tp);
	s = (struct frame_conn){ -1, tp.server };
	c = (struct frame_conn){ -1, tp.client };
	ck_assert_int_eq(frame_write(&c, 'J', "{}", 2), 0);
	ck_assert_int_eq(frame_write_full(&c, hdr, 2), 0);
	shutdown(tp.sv[1], SHUT_WR);
	ck_assert_int_eq(frame_read_json(&s, &lim_file, &body, &blen, &max), 0);
	free(body);
	ck_assert_int_eq(frame_read_json(&s, &lim_file, &body, &blen, &max),
	    TR_ETRUNC);
	tls_pair_close(&tp);

	tls_pair_open(&tp);
	s = (struct frame_conn){ -1, tp.server };
	shutdown(tp.sv[1], SHUT_WR);
	ck_assert_int_eq(frame_read_json(&s, &lim_file, &body, &blen, &max),
	    TR_ECLOSED);
	tls_pair_close(&tp);
}
END_TEST

START_TEST(test_tls_garbage)
{
	struct tls_pair tp;
	struct frame_conn s;
	uint32_t max;
	char *body;
	size_t blen;

	/* Bytes that are no TLS record: a TLS failure, not an EOF. */
	tls_pair_open(&tp);
	s = (struct frame_conn){ -1, tp.server };
	put_raw(tp.sv[1], "\x17\x03\x03\x00\x20garbage-garbage-garbage-garbage!", 37);
	ck_assert_int_eq(frame_read_json(&s, &lim_file, &body, &blen, &max),
	    TR_ETLS);
	tls_pair_close(&tp);
}
END_TEST

/* Build the suite. */
static Suite *
frame_suite(void)
{
	Suite *s = suite_create("frame");
	TCase *tc = tcase_create("plain");
	TCase *tt = tcase_create("tls");

	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_header_encoding);
	tcase_add_test(tc, test_check);
	tcase_add_test(tc, test_roundtrip_json);
	tcase_add_test(tc, test_roundtrip_chunk);
	tcase_add_test(tc, test_oversized_json);
	tcase_add_test(tc, test_oversized_chunk);
	tcase_add_test(tc, test_bad_type);
	tcase_add_test(tc, test_closed_at_boundary);
	tcase_add_test(tc, test_truncated_header);
	tcase_add_test(tc, test_truncated_body);
	tcase_add_test(tc, test_timeout);
	tcase_add_test(tc, test_write_closed_peer);
	tcase_add_test(tc, test_write_timeout);
	tcase_add_test(tc, test_split_writes);
	tcase_add_test(tc, test_large_frame);
	suite_add_tcase(s, tc);
	tcase_set_timeout(tt, 20);
	tcase_add_test(tt, test_tls_roundtrip);
	tcase_add_test(tt, test_tls_truncated);
	tcase_add_test(tt, test_tls_garbage);
	suite_add_tcase(s, tt);
	return s;
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	return tu_run(frame_suite());
}
