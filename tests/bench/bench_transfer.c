/*
 * bench_transfer: MB/s of a put and a get of one file through a running
 * hub's file channel (libtrosyn trosyn_upload / trosyn_fetch), each beside
 * two references measured in the same run on loopback: a bare OpenSSL TLS
 * 1.3 stream (TLS_AES_256_GCM_SHA384, 64 KiB writes) of the same number of
 * bytes, and the same stream with one AES-256-GCM pass per 1 MiB chunk
 * (the cost the chunk layer cannot avoid).  Prints figures and ratios;
 * never fails on a time.
 *
 * Usage: bench_transfer --size BYTES [--hub HOST --port N --file-port N
 *        --creds FILE --state DIR --file PATH]   (run-transfer-bench.sh)
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "chunk.h"
#include "err.h"
#include "kdf.h"
#include "tls.h"
#include "trosyn.h"

#define WRITE_SIZE	65536
#define GCM_CHUNK	1048576

/* One reference stream. */
struct stream {
	SSL_CTX *server_ctx;
	int lfd;
	int64_t bytes;
	int gcm;			/* seal every 1 MiB before writing */
	int64_t received;
};

/* Exit with a message. */
static void __attribute__((noreturn))
fail(const char *what)
{
	fprintf(stderr, "bench_transfer: %s\n", what);
	exit(1);
}

/* Seconds of a monotonic clock. */
static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The receiving side: accept one connection, TLS, read everything. */
static void *
stream_server(void *arg)
{
	struct stream *s = arg;
	static unsigned char buf[WRITE_SIZE * 4];
	SSL *ssl = NULL;
	int fd = accept(s->lfd, NULL, NULL), n;

	if (fd < 0 || tls_accept(s->server_ctx, fd, &ssl) != 0)
		fail("reference: accept");
	while (s->received < s->bytes &&
	    (n = SSL_read(ssl, buf, sizeof(buf))) > 0)
		s->received += n;
	SSL_shutdown(ssl);
	SSL_free(ssl);
	close(fd);
	return NULL;
}

/* MB/s of one reference stream of BYTES (GCM: with a chunk seal per MiB). */
static double
stream_rate(SSL_CTX *sctx, SSL_CTX *cctx, const char *pin, int64_t bytes,
    int gcm)
{
	static unsigned char plain[GCM_CHUNK], body[GCM_CHUNK + 64];
	struct sockaddr_in sin;
	socklen_t slen = sizeof(sin);
	struct stream s;
	struct chunk_ctx *cc = chunk_ctx_new();
	uint8_t key[TR_KEY_LEN];
	pthread_t t;
	SSL *ssl = NULL;
	int64_t sent = 0;
	uint64_t index = 0;
	double t0, t1;
	int fd;

	memset(&s, 0, sizeof(s));
	s.server_ctx = sctx;
	s.bytes = bytes;
	s.gcm = gcm;
	memset(plain, 0x5a, sizeof(plain));
	if (cc == NULL || kdf_random(key, sizeof(key)) != 0)
		fail("reference: setup");
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((s.lfd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    bind(s.lfd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    listen(s.lfd, 1) != 0 ||
	    getsockname(s.lfd, (struct sockaddr *)&sin, &slen) != 0)
		fail("reference: listen");
	pthread_create(&t, NULL, stream_server, &s);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    tls_connect(cctx, fd, pin, &ssl) != 0)
		fail("reference: connect");
	if (strcmp(SSL_get_cipher_name(ssl), "TLS_AES_256_GCM_SHA384") != 0)
		fail("reference: not TLS_AES_256_GCM_SHA384");
	t0 = now_s();
	while (sent < bytes) {
		size_t n = bytes - sent < GCM_CHUNK ? (size_t)(bytes - sent) :
		    GCM_CHUNK, blen = n, off = 0;
		const unsigned char *src = plain;

		if (gcm) {
			if (chunk_seal(cc, key, "00000000-0000-4000-8000-"
			    "000000000000", TR_DIR_C2H, index++, 0, plain, n,
			    body, &blen) != 0)
				fail("reference: seal");
			src = body;
		}
		while (off < blen) {
			int w = SSL_write(ssl, src + off, blen - off < WRITE_SIZE ?
			    (int)(blen - off) : WRITE_SIZE);

			if (w <= 0)
				fail("reference: write");
			off += (size_t)w;
		}
		sent += (int64_t)n;
	}
	pthread_join(t, NULL);
	t1 = now_s();
	SSL_free(ssl);
	close(fd);
	close(s.lfd);
	chunk_ctx_free(cc);
	return (double)bytes / 1e6 / (t1 - t0);
}

/* Both references for BYTES, printed; returns the bare stream's MB/s. */
static double
references(int64_t bytes, double *gcm_rate)
{
	char *ca_cert, *ca_key, *cert, *key, err[256], pin[65];
	struct tls_creds sc = { 0 }, cc = { 0 };
	SSL_CTX *sctx, *cctx;
	double bare;

	if (tls_make_ca("bench-ca", &ca_cert, &ca_key) != 0 ||
	    tls_make_cert(ca_cert, ca_key, "bench-hub", 1, &cert, &key) != 0 ||
	    tls_pem_sha256(cert, pin) != 0)
		fail("certificates");
	sc.cert_pem = cert;
	sc.key_pem = key;
	sc.ca_pem = ca_cert;
	cc.ca_pem = ca_cert;
	if ((sctx = tls_server_ctx_new(&sc, 0, err, sizeof(err))) == NULL ||
	    (cctx = tls_client_ctx_new(&cc, err, sizeof(err))) == NULL)
		fail(err);
	bare = stream_rate(sctx, cctx, pin, bytes, 0);
	*gcm_rate = stream_rate(sctx, cctx, pin, bytes, 1);
	SSL_CTX_free(sctx);
	SSL_CTX_free(cctx);
	free(ca_cert);
	free(ca_key);
	free(cert);
	free(key);
	return bare;
}

/*
 * Upload FILE (SIZE bytes) to the hub and fetch it back, timed, each
 * printed beside the references.  The upload time covers hashing the file
 * (a node must, to name it), the transfer and the hub's final check,
 * fsync and rename; the fetch covers the transfer and the node's check,
 * fsync and rename.
 */
static int
bench_hub(const char *hub, int port, int file_port, const char *creds,
    const char *state, const char *file, int64_t size, double bare,
    double gcm)
{
	struct trosyn_options o;
	char sha[65], out[4200], err[512];
	trosyn *t = NULL;
	double t0, put, get;
	int rc;

	if (creds == NULL || state == NULL || file == NULL)
		fail("--hub needs --creds, --state and --file");
	memset(&o, 0, sizeof(o));
	o.credentials = creds;
	o.state_dir = state;
	o.hub_host = hub;
	o.hub_port = (uint16_t)port;
	o.timeout_s = 60;
	if (trosyn_open(&o, &t, err, sizeof(err)) != 0)
		fail(err);
	trosyn_set_file_port(t, (uint16_t)file_port);
	t0 = now_s();
	if ((rc = trosyn_upload(t, file, sha)) != 0) {
		fprintf(stderr, "bench_transfer: upload: %s\n",
		    trosyn_last_error(t));
		trosyn_close(t);
		return 1;
	}
	put = (double)size / 1e6 / (now_s() - t0);
	snprintf(out, sizeof(out), "%s/fetched.bin", state);
	t0 = now_s();
	if ((rc = trosyn_fetch(t, sha, out)) != 0) {
		fprintf(stderr, "bench_transfer: fetch: %s\n",
		    trosyn_last_error(t));
		trosyn_close(t);
		return 1;
	}
	get = (double)size / 1e6 / (now_s() - t0);
	unlink(out);
	trosyn_close(t);
	printf("hub put (upload, hashing included):                %8.1f MB/s"
	    "  ratio %.2f of bare, %.2f of bare+GCM\n", put, put / bare,
	    put / gcm);
	printf("hub get (fetch):                                   %8.1f MB/s"
	    "  ratio %.2f of bare, %.2f of bare+GCM\n", get, get / bare,
	    get / gcm);
	return 0;
}

/* Run the references, then the hub's put and get when a hub is given. */
int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "size", required_argument, NULL, 's' },
		{ "hub", required_argument, NULL, 'H' },
		{ "port", required_argument, NULL, 'p' },
		{ "file-port", required_argument, NULL, 'f' },
		{ "creds", required_argument, NULL, 'k' },
		{ "state", required_argument, NULL, 'S' },
		{ "file", required_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 }
	};
	const char *hub = NULL, *creds = NULL, *state = NULL, *file = NULL;
	int64_t size = 0;
	int port = 0, file_port = 0, c;
	double bare, gcm;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 's': size = strtoll(optarg, NULL, 10); break;
		case 'H': hub = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 'f': file_port = atoi(optarg); break;
		case 'k': creds = optarg; break;
		case 'S': state = optarg; break;
		case 'F': file = optarg; break;
		default: return 2;
		}
	}
	if (size <= 0)
		fail("--size BYTES is required");
	printf("size: %" PRId64 " bytes\n", size);
	bare = references(size, &gcm);
	printf("bare TLS 1.3 stream (AES-256-GCM, 64 KiB writes): %8.1f MB/s\n",
	    bare);
	printf("  + one AES-256-GCM pass per 1 MiB chunk:           %8.1f MB/s"
	    "  (%.2f of bare)\n", gcm, gcm / bare);
	if (hub == NULL)
		return 0;
	return bench_hub(hub, port, file_port, creds, state, file, size, bare,
	    gcm);
}
