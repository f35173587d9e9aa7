/* Unit tests of TLS contexts, handshakes, pins, peer names and site certificates. */
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

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "err.h"
#include "frame.h"
#include "hex.h"
#include "testutil.h"
#include "tls.h"

/* Socket timeout of a test connection, seconds. */
#define IO_TIMEOUT	5

/* One PEM certificate and its key. */
struct pem_pair {
	char *cert;
	char *key;
};

/* The site CA with a hub and a node, and a foreign CA with the same. */
static struct {
	struct pem_pair ca, hub, node;
	struct pem_pair ca2, hub2, node2;
} pki;

/* Both ends of one test connection. */
struct pair {
	SSL_CTX *sctx;
	int sfd, cfd;
	SSL *s, *c;
	int srv, crv;
	int cnrv;
	char cn[TR_ID_MAX + 1];
};

/* Make the site PKI once, before any test forks. */
static void
pki_make(void)
{
	if (tls_make_ca("site-ca", &pki.ca.cert, &pki.ca.key) != 0 ||
	    tls_make_cert(pki.ca.cert, pki.ca.key, "hub-1", 1, &pki.hub.cert,
	    &pki.hub.key) != 0 ||
	    tls_make_cert(pki.ca.cert, pki.ca.key, "node-7", 0, &pki.node.cert,
	    &pki.node.key) != 0 ||
	    tls_make_ca("other-ca", &pki.ca2.cert, &pki.ca2.key) != 0 ||
	    tls_make_cert(pki.ca2.cert, pki.ca2.key, "hub-1", 1,
	    &pki.hub2.cert, &pki.hub2.key) != 0 ||
	    tls_make_cert(pki.ca2.cert, pki.ca2.key, "node-7", 0,
	    &pki.node2.cert, &pki.node2.key) != 0)
		abort();
}

/* Free the PEM texts of one pair. */
static void
pem_pair_free(struct pem_pair *p)
{
	free(p->cert);
	free(p->key);
}

/* Free the site PKI. */
static void
pki_free(void)
{
	pem_pair_free(&pki.ca);
	pem_pair_free(&pki.hub);
	pem_pair_free(&pki.node);
	pem_pair_free(&pki.ca2);
	pem_pair_free(&pki.hub2);
	pem_pair_free(&pki.node2);
}

/* Parse a PEM certificate. */
static X509 *
pem_x509(const char *pem)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	X509 *x;

	ck_assert_ptr_nonnull(bio);
	x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	ck_assert_ptr_nonnull(x);
	return x;
}

/* SHA-256 of the DER of a PEM certificate, computed without tls.c. */
static void
independent_sha256(const char *pem, char hex[65])
{
	X509 *x = pem_x509(pem);
	unsigned char *der = NULL, md[32];
	unsigned int mdlen = 0;
	int len;

	len = i2d_X509(x, &der);
	ck_assert_int_gt(len, 0);
	ck_assert(EVP_Digest(der, (size_t)len, md, &mdlen, EVP_sha256(), NULL));
	ck_assert_uint_eq(mdlen, 32);
	hex_encode(md, 32, hex);
	OPENSSL_free(der);
	X509_free(x);
}

/* Hub context from PEM texts; fails the test when it cannot be made. */
static SSL_CTX *
server_ctx(const struct pem_pair *leaf, const char *ca, int request)
{
	struct tls_creds creds = { leaf->cert, leaf->key, ca };
	char err[256];
	SSL_CTX *ctx = tls_server_ctx_new(&creds, request, err, sizeof(err));

	ck_assert_msg(ctx != NULL, "server ctx: %s", err);
	return ctx;
}

/* Node context; LEAF may be NULL. */
static SSL_CTX *
client_ctx(const struct pem_pair *leaf, const char *ca)
{
	struct tls_creds creds = { leaf ? leaf->cert : NULL,
	    leaf ? leaf->key : NULL, ca };
	char err[256];
	SSL_CTX *ctx = tls_client_ctx_new(&creds, err, sizeof(err));

	ck_assert_msg(ctx != NULL, "client ctx: %s", err);
	return ctx;
}

/* A connected socket pair with send and receive timeouts of SECS seconds. */
static void
make_socketpair(int fds[2], int secs)
{
	struct timeval tv = { secs, 0 };

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(setsockopt(fds[i], SOL_SOCKET, SO_RCVTIMEO,
		    &tv, sizeof(tv)), 0);
		ck_assert_int_eq(setsockopt(fds[i], SOL_SOCKET, SO_SNDTIMEO,
		    &tv, sizeof(tv)), 0);
	}
}

/* Server side of a pair: handshake, then the peer's CN. */
static void *
server_main(void *arg)
{
	struct pair *p = arg;

	p->srv = tls_accept(p->sctx, p->sfd, &p->s);
	if (p->srv == 0)
		p->cnrv = tls_peer_cn(p->s, p->cn, sizeof(p->cn));
	return NULL;
}

/* Start the server side of P on a fresh socket pair. */
static pthread_t
pair_start(struct pair *p, SSL_CTX *sctx)
{
	pthread_t th;
	int fds[2];

	memset(p, 0, sizeof(*p));
	p->sctx = sctx;
	p->srv = p->crv = p->cnrv = 1;
	make_socketpair(fds, IO_TIMEOUT);
	p->sfd = fds[0];
	p->cfd = fds[1];
	ck_assert_int_eq(pthread_create(&th, NULL, server_main, p), 0);
	return th;
}

/* Wait for the server side; a failed client first hangs up its end. */
static void
pair_join(struct pair *p, pthread_t th, int client_failed)
{
	if (client_failed)
		shutdown(p->cfd, SHUT_RDWR);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
}

/* Handshake tls_connect against tls_accept. */
static void
pair_run(struct pair *p, SSL_CTX *sctx, SSL_CTX *cctx, const char *pin)
{
	pthread_t th = pair_start(p, sctx);

	p->crv = tls_connect(cctx, p->cfd, pin, &p->c);
	pair_join(p, th, p->crv != 0);
	if (p->crv != 0)
		ck_assert_ptr_null(p->c);
	if (p->srv != 0)
		ck_assert_ptr_null(p->s);
}

/* Handshake a raw OpenSSL client against tls_accept; returns SSL_connect's result. */
static int
pair_run_raw(struct pair *p, SSL_CTX *sctx, SSL_CTX *raw)
{
	pthread_t th = pair_start(p, sctx);
	int ret;

	ck_assert_ptr_nonnull(p->c = SSL_new(raw));
	ck_assert_int_eq(SSL_set_fd(p->c, p->cfd), 1);
	ret = SSL_connect(p->c);
	pair_join(p, th, ret != 1);
	return ret;
}

/* Close both ends of a pair. */
static void
pair_free(struct pair *p)
{
	tls_close(p->c);
	tls_close(p->s);
	p->c = p->s = NULL;
	close(p->cfd);
	close(p->sfd);
}

/* A raw client context: any verification off, versions and suites as given. */
static SSL_CTX *
raw_client(int max_version, const char *suites)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	ck_assert_ptr_nonnull(ctx);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	if (max_version != 0)
		ck_assert_int_eq(SSL_CTX_set_max_proto_version(ctx, max_version),
		    1);
	if (suites != NULL)
		ck_assert_int_eq(SSL_CTX_set_ciphersuites(ctx, suites), 1);
	return ctx;
}

/* The hub certificate's fingerprint. */
static void
hub_pin(char pin[65])
{
	ck_assert_int_eq(tls_pem_sha256(pki.hub.cert, pin), 0);
}

/* Private key of a PEM text. */
static EVP_PKEY *
pem_key(const char *pem)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *k;

	ck_assert_ptr_nonnull(bio);
	k = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	ck_assert_ptr_nonnull(k);
	return k;
}

/* Malloc'd text of a memory BIO. */
static char *
bio_text(BIO *bio)
{
	char *data, *s;
	long len = BIO_get_mem_data(bio, &data);

	ck_assert_int_gt(len, 0);
	s = malloc((size_t)len + 1);
	ck_assert_ptr_nonnull(s);
	memcpy(s, data, (size_t)len);
	s[len] = '\0';
	return s;
}

/*
 * A client certificate made with raw OpenSSL and signed by the site CA whose
 * subject has NCN common names of the CNLEN raw bytes at CN (a NUL may be
 * among them).
 */
static void
raw_client_cert(const char *cn, int cnlen, int ncn, struct pem_pair *out)
{
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	EVP_PKEY *ca_key = pem_key(pki.ca.key);
	X509 *ca = pem_x509(pki.ca.cert), *x = X509_new();
	X509_NAME *name = X509_get_subject_name(x);
	BIO *cb = BIO_new(BIO_s_mem()), *kb = BIO_new(BIO_s_mem());

	ck_assert_ptr_nonnull(key);
	ck_assert_ptr_nonnull(x);
	ck_assert_int_eq(X509_set_version(x, X509_VERSION_3), 1);
	ck_assert_int_eq(ASN1_INTEGER_set(X509_get_serialNumber(x), 7), 1);
	for (int i = 0; i < ncn; i++)
		ck_assert_int_eq(X509_NAME_add_entry_by_NID(name,
		    NID_commonName, V_ASN1_UTF8STRING,
		    (const unsigned char *)cn, cnlen, -1, 0), 1);
	ck_assert_int_eq(X509_set_issuer_name(x, X509_get_subject_name(ca)),
	    1);
	ck_assert_ptr_nonnull(X509_gmtime_adj(X509_getm_notBefore(x), -60));
	ck_assert_ptr_nonnull(X509_gmtime_adj(X509_getm_notAfter(x), 3600));
	ck_assert_int_eq(X509_set_pubkey(x, key), 1);
	ck_assert_int_gt(X509_sign(x, ca_key, EVP_sha256()), 0);
	ck_assert_int_eq(PEM_write_bio_X509(cb, x), 1);
	ck_assert_int_eq(PEM_write_bio_PrivateKey(kb, key, NULL, NULL, 0, NULL,
	    NULL), 1);
	out->cert = bio_text(cb);
	out->key = bio_text(kb);
	BIO_free(cb);
	BIO_free(kb);
	X509_free(x);
	X509_free(ca);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(key);
}

START_TEST(test_make_ca)
{
	X509 *ca = pem_x509(pki.ca.cert);
	EVP_PKEY *pub = X509_get0_pubkey(ca);
	char name[64];
	int days = 0, secs = 0;
	BIGNUM *serial;

	ck_assert_int_eq(X509_get_version(ca), X509_VERSION_3);
	ck_assert_int_eq(X509_check_ca(ca), 1);
	ck_assert(X509_get_extension_flags(ca) & EXFLAG_CA);
	ck_assert(X509_get_key_usage(ca) & KU_KEY_CERT_SIGN);
	ck_assert_int_eq(X509_verify(ca, pub), 1);
	ck_assert_int_eq(X509_NAME_cmp(X509_get_subject_name(ca),
	    X509_get_issuer_name(ca)), 0);
	ck_assert_int_gt(X509_NAME_get_text_by_NID(X509_get_subject_name(ca),
	    NID_commonName, name, sizeof(name)), 0);
	ck_assert_str_eq(name, "site-ca");
	ck_assert_int_eq(EVP_PKEY_get_base_id(pub), EVP_PKEY_EC);
	ck_assert_int_eq(EVP_PKEY_get_bits(pub), 256);
	ck_assert_int_eq(X509_get_signature_nid(ca), NID_ecdsa_with_SHA256);
	/* Valid now, for about ten years. */
	ck_assert_int_lt(X509_cmp_current_time(X509_get0_notBefore(ca)), 0);
	ck_assert(ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(ca)));
	ck_assert_int_ge(days, 3650);
	ck_assert_int_le(days, 3655);
	serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(ca), NULL);
	ck_assert_ptr_nonnull(serial);
	ck_assert_int_eq(BN_num_bits(serial), 128);
	ck_assert(!BN_is_negative(serial));
	BN_free(serial);
	ck_assert_ptr_nonnull(strstr(pki.ca.key, "-----BEGIN PRIVATE KEY-----"));
	X509_free(ca);
}
END_TEST

START_TEST(test_make_cert)
{
	X509 *ca = pem_x509(pki.ca.cert), *hub = pem_x509(pki.hub.cert);
	X509 *node = pem_x509(pki.node.cert), *hub2 = pem_x509(pki.hub2.cert);
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *sctx = X509_STORE_CTX_new();
	char *c = NULL, *k = NULL, longcn[TR_ID_MAX + 2];

	ck_assert_ptr_nonnull(store);
	ck_assert_ptr_nonnull(sctx);
	/* Leaves: v3, not CAs, signed by the site CA, chain to it. */
	ck_assert_int_eq(X509_get_version(hub), X509_VERSION_3);
	ck_assert_int_eq(X509_check_ca(hub), 0);
	ck_assert_int_eq(X509_check_ca(node), 0);
	ck_assert_int_eq(X509_verify(hub, X509_get0_pubkey(ca)), 1);
	ck_assert_int_eq(X509_verify(node, X509_get0_pubkey(ca)), 1);
	ck_assert_int_ne(X509_verify(hub2, X509_get0_pubkey(ca)), 1);
	ck_assert_int_eq(X509_check_issued(ca, hub), X509_V_OK);
	ck_assert(X509_get_key_usage(hub) & KU_DIGITAL_SIGNATURE);
	ck_assert_int_eq(X509_get_signature_nid(hub), NID_ecdsa_with_SHA256);
	ck_assert_int_eq(ASN1_INTEGER_cmp(X509_get0_serialNumber(hub),
	    X509_get0_serialNumber(node)) != 0, 1);

	/* Extended key usage: server vs client. */
	ck_assert_uint_eq(X509_get_extended_key_usage(hub), XKU_SSL_SERVER);
	ck_assert_uint_eq(X509_get_extended_key_usage(node), XKU_SSL_CLIENT);
	ck_assert_int_eq(X509_check_purpose(hub, X509_PURPOSE_SSL_SERVER, 0), 1);
	ck_assert_int_eq(X509_check_purpose(node, X509_PURPOSE_SSL_CLIENT, 0),
	    1);
	ck_assert_int_ne(X509_check_purpose(node, X509_PURPOSE_SSL_SERVER, 0),
	    1);

	/* subjectAltName on server certificates only. */
	ck_assert_int_eq(X509_check_host(hub, "hub-1", 0, 0, NULL), 1);
	ck_assert_int_eq(X509_check_host(hub, "localhost", 0, 0, NULL), 1);
	ck_assert_int_eq(X509_check_ip_asc(hub, "127.0.0.1", 0), 1);
	ck_assert_int_eq(X509_check_host(hub, "example.org", 0, 0, NULL), 0);
	ck_assert_ptr_null(X509_get_ext_d2i(node, NID_subject_alt_name, NULL,
	    NULL));

	ck_assert_int_eq(X509_STORE_add_cert(store, ca), 1);
	ck_assert_int_eq(X509_STORE_CTX_init(sctx, store, node, NULL), 1);
	ck_assert_int_eq(X509_verify_cert(sctx), 1);

	/* CNs that are not node ids; a CA key that is not the CA's. */
	ck_assert_int_eq(tls_make_cert(pki.ca.cert, pki.ca.key, "bad cn", 0,
	    &c, &k), TR_EINVAL);
	ck_assert_ptr_null(c);
	ck_assert_ptr_null(k);
	ck_assert_int_eq(tls_make_cert(pki.ca.cert, pki.ca.key, "", 0, &c, &k),
	    TR_EINVAL);
	memset(longcn, 'a', sizeof(longcn) - 1);
	longcn[sizeof(longcn) - 1] = '\0';
	ck_assert_int_eq(tls_make_ca(longcn, &c, &k), TR_EINVAL);
	longcn[TR_ID_MAX] = '\0';
	ck_assert_int_eq(tls_make_cert(pki.ca.cert, pki.ca.key, longcn, 0, &c,
	    &k), 0);
	free(c);
	free(k);
	ck_assert_int_eq(tls_make_cert(pki.ca.cert, pki.ca2.key, "node-8", 0,
	    &c, &k), TR_EINVAL);
	ck_assert_ptr_null(c);
	/* A leaf is no CA. */
	ck_assert_int_eq(tls_make_cert(pki.hub.cert, pki.hub.key, "node-8", 0,
	    &c, &k), TR_EINVAL);
	ck_assert_int_eq(tls_make_cert("junk", pki.ca.key, "node-8", 0, &c,
	    &k), TR_EINVAL);

	X509_STORE_CTX_free(sctx);
	X509_STORE_free(store);
	X509_free(ca);
	X509_free(hub);
	X509_free(node);
	X509_free(hub2);
}
END_TEST

START_TEST(test_fingerprint)
{
	char want[65], got[65], pem[65];
	X509 *x = pem_x509(pki.hub.cert);

	independent_sha256(pki.hub.cert, want);
	ck_assert_int_eq(tls_cert_sha256(x, got), 0);
	ck_assert_str_eq(got, want);
	ck_assert_int_eq(tls_pem_sha256(pki.hub.cert, pem), 0);
	ck_assert_str_eq(pem, want);
	ck_assert(hex_valid(pem, strlen(pem), 32));
	ck_assert_int_eq(tls_pem_sha256(pki.node.cert, pem), 0);
	ck_assert_str_ne(pem, want);
	ck_assert_int_eq(tls_pem_sha256("not a certificate", pem), TR_EINVAL);
	ck_assert_int_eq(tls_pem_sha256(NULL, pem), TR_EINVAL);
	ck_assert_int_eq(tls_cert_sha256(NULL, got), TR_EINVAL);
	X509_free(x);
}
END_TEST

START_TEST(test_ctx_errors)
{
	struct tls_creds creds = { pki.hub.cert, pki.node.key, pki.ca.cert };
	char err[256];

	/* A key that is not the certificate's. */
	err[0] = '\0';
	ck_assert_ptr_null(tls_server_ctx_new(&creds, 0, err, sizeof(err)));
	ck_assert_int_gt(strlen(err), 0);
	/* Garbage PEM. */
	creds.cert_pem = "-----BEGIN CERTIFICATE-----\nAAAA\n"
	    "-----END CERTIFICATE-----\n";
	creds.key_pem = pki.hub.key;
	err[0] = '\0';
	ck_assert_ptr_null(tls_server_ctx_new(&creds, 0, err, sizeof(err)));
	ck_assert_int_gt(strlen(err), 0);
	/* Client certificates requested but no CA to verify them. */
	creds.cert_pem = pki.hub.cert;
	creds.ca_pem = NULL;
	ck_assert_ptr_null(tls_server_ctx_new(&creds, 1, err, sizeof(err)));
	creds.ca_pem = "junk";
	ck_assert_ptr_null(tls_server_ctx_new(&creds, 1, err, sizeof(err)));
	/* A client certificate without its key. */
	creds.cert_pem = pki.node.cert;
	creds.key_pem = NULL;
	creds.ca_pem = pki.ca.cert;
	ck_assert_ptr_null(tls_client_ctx_new(&creds, err, sizeof(err)));
	ck_assert_int_gt(strlen(err), 0);
}
END_TEST

START_TEST(test_pin_ok)
{
	SSL_CTX *sctx = server_ctx(&pki.hub, pki.ca.cert, 1);
	SSL_CTX *cctx = client_ctx(NULL, NULL);
	uint8_t es[TR_KEY_LEN], ec[TR_KEY_LEN], zero[TR_KEY_LEN] = { 0 };
	uint8_t es2[TR_KEY_LEN];
	struct pair p;
	char pin[65], cn[TR_ID_MAX + 1];

	hub_pin(pin);
	pair_run(&p, sctx, cctx, pin);
	ck_assert_int_eq(p.crv, 0);
	ck_assert_int_eq(p.srv, 0);
	ck_assert_int_eq(SSL_version(p.c), TLS1_3_VERSION);
	ck_assert_int_eq(tls_exporter(p.s, es), 0);
	ck_assert_int_eq(tls_exporter(p.c, ec), 0);
	ck_assert_mem_eq(es, ec, sizeof(es));
	ck_assert(memcmp(es, zero, sizeof(es)) != 0);
	/* No client certificate was sent. */
	ck_assert_int_eq(p.cnrv, TR_ENOTFOUND);
	/* Pinned without a CA: the hub's chain is not verified, so no CN. */
	ck_assert_int_eq(tls_peer_cn(p.c, cn, sizeof(cn)), TR_EACCES);
	pair_free(&p);

	/* Another connection has another exporter value. */
	pair_run(&p, sctx, cctx, pin);
	ck_assert_int_eq(p.crv, 0);
	ck_assert_int_eq(tls_exporter(p.c, es2), 0);
	ck_assert(memcmp(es, es2, sizeof(es)) != 0);
	pair_free(&p);
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
}
END_TEST

START_TEST(test_pin_wrong)
{
	SSL_CTX *sctx = server_ctx(&pki.hub, NULL, 0);
	SSL_CTX *cctx = client_ctx(NULL, pki.ca.cert);
	SSL *ssl = (SSL *)1;
	struct pair p;
	char pin[65];
	int fds[2];

	/* A valid chain does not help when the pin is another certificate's. */
	ck_assert_int_eq(tls_pem_sha256(pki.hub2.cert, pin), 0);
	pair_run(&p, sctx, cctx, pin);
	ck_assert_int_eq(p.crv, TR_EPIN);
	ck_assert_int_eq(p.srv, TR_ETLS);
	pair_free(&p);

	/* Same certificate, one hex digit off. */
	hub_pin(pin);
	pin[10] = pin[10] == '0' ? '1' : '0';
	pair_run(&p, sctx, cctx, pin);
	ck_assert_int_eq(p.crv, TR_EPIN);
	pair_free(&p);

	/* Malformed pins are refused before any I/O. */
	make_socketpair(fds, IO_TIMEOUT);
	hub_pin(pin);
	pin[0] = 'A';
	ck_assert_int_eq(tls_connect(cctx, fds[1], pin, &ssl), TR_EINVAL);
	ck_assert_ptr_null(ssl);
	ck_assert_int_eq(tls_connect(cctx, fds[1], "abcd", &ssl), TR_EINVAL);
	close(fds[0]);
	close(fds[1]);
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
}
END_TEST

START_TEST(test_ca_verify)
{
	SSL_CTX *sctx = server_ctx(&pki.hub, NULL, 0);
	SSL_CTX *sctx2 = server_ctx(&pki.hub2, NULL, 0);
	SSL_CTX *cctx = client_ctx(NULL, pki.ca.cert);
	SSL_CTX *noca = client_ctx(NULL, NULL);
	char cn[TR_ID_MAX + 1], small[4];
	struct pair p;

	pair_run(&p, sctx, cctx, NULL);
	ck_assert_int_eq(p.crv, 0);
	ck_assert_int_eq(p.srv, 0);
	ck_assert_int_eq(tls_peer_cn(p.c, cn, sizeof(cn)), 0);
	ck_assert_str_eq(cn, "hub-1");
	ck_assert_int_eq(tls_peer_cn(p.c, small, sizeof(small)), TR_ETOOBIG);
	pair_free(&p);

	/* A hub certificate of another CA does not verify. */
	pair_run(&p, sctx2, cctx, NULL);
	ck_assert_int_eq(p.crv, TR_ETLS);
	ck_assert_int_ne(p.srv, 0);
	pair_free(&p);

	/* Without pin and CA nothing can verify: the system CAs are not used. */
	pair_run(&p, sctx, noca, NULL);
	ck_assert_int_eq(p.crv, TR_ETLS);
	pair_free(&p);

	SSL_CTX_free(noca);
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx2);
	SSL_CTX_free(sctx);
}
END_TEST

START_TEST(test_client_cert)
{
	SSL_CTX *sctx = server_ctx(&pki.hub, pki.ca.cert, 1);
	SSL_CTX *cctx = client_ctx(&pki.node, pki.ca.cert);
	SSL_CTX *cctx2 = client_ctx(&pki.node2, pki.ca.cert);
	SSL_CTX *plain = server_ctx(&pki.hub, pki.ca.cert, 0);
	struct pair p;
	char buf[8];
	size_t n;

	pair_run(&p, sctx, cctx, NULL);
	ck_assert_int_eq(p.crv, 0);
	ck_assert_int_eq(p.srv, 0);
	ck_assert_int_eq(p.cnrv, 0);
	ck_assert_str_eq(p.cn, "node-7");
	pair_free(&p);

	/* A hub that does not ask gets no certificate. */
	pair_run(&p, plain, cctx, NULL);
	ck_assert_int_eq(p.srv, 0);
	ck_assert_int_eq(p.cnrv, TR_ENOTFOUND);
	pair_free(&p);

	/*
	 * A certificate of another CA fails the hub's handshake; the node's
	 * TLS 1.3 handshake may complete first, then its first read fails.
	 */
	pair_run(&p, sctx, cctx2, NULL);
	ck_assert_int_eq(p.srv, TR_ETLS);
	ck_assert(p.crv == 0 || p.crv == TR_ETLS);
	if (p.crv == 0)
		ck_assert_int_ne(SSL_read_ex(p.c, buf, sizeof(buf), &n), 1);
	pair_free(&p);

	SSL_CTX_free(plain);
	SSL_CTX_free(cctx2);
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
}
END_TEST

START_TEST(test_peer_cn_checked)
{
	static const struct {
		const char *cn;
		int len, ncn, want;
	} cases[] = {
		{ "node-9", 6, 1, 0 },
		{ "node-7\0evil", 11, 1, TR_EINVAL },
		{ "node 7", 6, 1, TR_EINVAL },
		{ "node-7", 6, 2, TR_EINVAL },
		{ "x", 1, 0, TR_ENOTFOUND }
	};
	SSL_CTX *sctx = server_ctx(&pki.hub, pki.ca.cert, 1), *cctx;
	struct pem_pair leaf;
	struct pair p;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		raw_client_cert(cases[i].cn, cases[i].len, cases[i].ncn, &leaf);
		cctx = client_ctx(&leaf, pki.ca.cert);
		pair_run(&p, sctx, cctx, NULL);
		ck_assert_int_eq(p.srv, 0);
		ck_assert_msg(p.cnrv == cases[i].want, "case %zu: %d", i,
		    p.cnrv);
		if (cases[i].want == 0)
			ck_assert_str_eq(p.cn, cases[i].cn);
		pair_free(&p);
		SSL_CTX_free(cctx);
		pem_pair_free(&leaf);
	}
	SSL_CTX_free(sctx);
}
END_TEST

START_TEST(test_versions_and_suites)
{
	SSL_CTX *sctx = server_ctx(&pki.hub, pki.ca.cert, 1);
	SSL_CTX *cctx = client_ctx(NULL, pki.ca.cert);
	SSL_CTX *tls12 = raw_client(TLS1_2_VERSION, NULL);
	SSL_CTX *chacha_first = raw_client(0,
	    "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384");
	SSL_CTX *chacha = raw_client(0, "TLS_CHACHA20_POLY1305_SHA256");
	SSL_CTX *aes128 = raw_client(0, "TLS_AES_128_GCM_SHA256");
	struct pair p;

	pair_run(&p, sctx, cctx, NULL);
	ck_assert_int_eq(p.srv, 0);
	ck_assert_str_eq(SSL_CIPHER_get_name(SSL_get_current_cipher(p.s)),
	    "TLS_AES_256_GCM_SHA384");
	ck_assert_str_eq(SSL_CIPHER_get_name(SSL_get_current_cipher(p.c)),
	    "TLS_AES_256_GCM_SHA384");
	ck_assert_int_eq(SSL_version(p.s), TLS1_3_VERSION);
	pair_free(&p);

	/* TLS 1.2 is refused. */
	ck_assert_int_ne(pair_run_raw(&p, sctx, tls12), 1);
	ck_assert_int_eq(p.srv, TR_ETLS);
	pair_free(&p);

	/* The hub's preference wins over the client's order. */
	ck_assert_int_eq(pair_run_raw(&p, sctx, chacha_first), 1);
	ck_assert_int_eq(p.srv, 0);
	ck_assert_str_eq(SSL_CIPHER_get_name(SSL_get_current_cipher(p.s)),
	    "TLS_AES_256_GCM_SHA384");
	pair_free(&p);

	ck_assert_int_eq(pair_run_raw(&p, sctx, chacha), 1);
	ck_assert_int_eq(p.srv, 0);
	ck_assert_str_eq(SSL_CIPHER_get_name(SSL_get_current_cipher(p.s)),
	    "TLS_CHACHA20_POLY1305_SHA256");
	pair_free(&p);

	/* Any other suite is refused. */
	ck_assert_int_ne(pair_run_raw(&p, sctx, aes128), 1);
	ck_assert_int_eq(p.srv, TR_ETLS);
	pair_free(&p);

	SSL_CTX_free(aes128);
	SSL_CTX_free(chacha);
	SSL_CTX_free(chacha_first);
	SSL_CTX_free(tls12);
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
}
END_TEST

START_TEST(test_client_refuses_tls12_server)
{
	/* A raw TLS 1.2 server: tls_connect must not go below 1.3. */
	SSL_CTX *raw = SSL_CTX_new(TLS_server_method());
	SSL_CTX *cctx = client_ctx(NULL, pki.ca.cert);
	SSL_CTX *tmp = server_ctx(&pki.hub, NULL, 0);
	SSL *c = NULL;
	pthread_t th;
	struct pair p;

	ck_assert_ptr_nonnull(raw);
	ck_assert_int_eq(SSL_CTX_set_max_proto_version(raw, TLS1_2_VERSION), 1);
	ck_assert_int_eq(SSL_CTX_use_certificate(raw,
	    SSL_CTX_get0_certificate(tmp)), 1);
	ck_assert_int_eq(SSL_CTX_use_PrivateKey(raw,
	    SSL_CTX_get0_privatekey(tmp)), 1);
	/* tls_accept with RAW acts as a plain TLS 1.2-capable server. */
	th = pair_start(&p, raw);
	ck_assert_int_eq(tls_connect(cctx, p.cfd, NULL, &c), TR_ETLS);
	ck_assert_ptr_null(c);
	pair_join(&p, th, 1);
	ck_assert_int_ne(p.srv, 0);
	ck_assert_ptr_null(p.s);
	pair_free(&p);
	SSL_CTX_free(tmp);
	SSL_CTX_free(cctx);
	SSL_CTX_free(raw);
}
END_TEST

START_TEST(test_accept_timeout)
{
	SSL_CTX *sctx = server_ctx(&pki.hub, NULL, 0);
	struct timespec t0, t1;
	SSL *ssl = (SSL *)1;
	double elapsed;
	int fds[2];

	/* The peer connects but never sends a ClientHello. */
	make_socketpair(fds, 1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(tls_accept(sctx, fds[0], &ssl), TR_ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ck_assert_ptr_null(ssl);
	elapsed = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	ck_assert_msg(elapsed >= 0.9 && elapsed < 2.5, "elapsed %.3f s",
	    elapsed);
	close(fds[0]);
	close(fds[1]);
	SSL_CTX_free(sctx);
}
END_TEST

START_TEST(test_accept_eof_and_garbage)
{
	SSL_CTX *sctx = server_ctx(&pki.hub, NULL, 0);
	static const char http[] = "GET / HTTP/1.0\r\n\r\n";
	SSL *ssl = NULL;
	int fds[2];

	/* The peer hangs up before saying anything. */
	make_socketpair(fds, IO_TIMEOUT);
	close(fds[1]);
	ck_assert_int_eq(tls_accept(sctx, fds[0], &ssl), TR_ECLOSED);
	ck_assert_ptr_null(ssl);
	close(fds[0]);

	/* The peer speaks something else. */
	make_socketpair(fds, IO_TIMEOUT);
	ck_assert_int_eq(write(fds[1], http, sizeof(http) - 1),
	    (ssize_t)sizeof(http) - 1);
	ck_assert_int_eq(tls_accept(sctx, fds[0], &ssl), TR_ETLS);
	ck_assert_ptr_null(ssl);
	close(fds[0]);
	close(fds[1]);

	ck_assert_int_eq(tls_accept(NULL, 0, &ssl), TR_EINVAL);
	SSL_CTX_free(sctx);
}
END_TEST

START_TEST(test_frame_roundtrip)
{
	static const char req[] = "{\"type\":\"HEARTBEAT\",\"n\":1}";
	static const char resp[] = "{\"ok\":true}";
	struct frame_limits lim = { TR_DEF_MAX_MESSAGE, 0 };
	SSL_CTX *sctx = server_ctx(&pki.hub, pki.ca.cert, 1);
	SSL_CTX *cctx = client_ctx(&pki.node, NULL);
	struct frame_conn sc, cc;
	struct pair p;
	char pin[65], *body = NULL;
	size_t len = 0;
	uint32_t max = 0;

	hub_pin(pin);
	pair_run(&p, sctx, cctx, pin);
	ck_assert_int_eq(p.crv, 0);
	ck_assert_int_eq(p.srv, 0);
	ck_assert_str_eq(p.cn, "node-7");
	sc = (struct frame_conn){ p.sfd, p.s };
	cc = (struct frame_conn){ p.cfd, p.c };

	ck_assert_int_eq(frame_write(&cc, TR_FRAME_JSON, req, sizeof(req) - 1),
	    0);
	ck_assert_int_eq(frame_read_json(&sc, &lim, &body, &len, &max), 0);
	ck_assert_uint_eq(len, sizeof(req) - 1);
	ck_assert_str_eq(body, req);
	free(body);
	body = NULL;

	ck_assert_int_eq(frame_write(&sc, TR_FRAME_JSON, resp,
	    sizeof(resp) - 1), 0);
	ck_assert_int_eq(frame_read_json(&cc, &lim, &body, &len, &max), 0);
	ck_assert_str_eq(body, resp);
	free(body);
	body = NULL;
	/* No session ticket came with the data. */
	ck_assert_int_eq(SSL_SESSION_is_resumable(SSL_get0_session(p.c)), 0);

	/* tls_close sends close_notify: the hub sees a clean end. */
	tls_close(p.c);
	p.c = NULL;
	ck_assert_int_eq(frame_read_json(&sc, &lim, &body, &len, &max),
	    TR_ECLOSED);
	ck_assert_ptr_null(body);
	pair_free(&p);
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
}
END_TEST

START_TEST(test_last_error)
{
	char buf[128];

	ERR_clear_error();
	ck_assert_str_eq(tls_last_error(buf, sizeof(buf)), "no OpenSSL error");
	ck_assert_int_eq(tls_pem_sha256("junk", buf), TR_EINVAL);
	ck_assert_str_ne(tls_last_error(buf, sizeof(buf)), "no OpenSSL error");
	ck_assert_ptr_nonnull(tls_last_error(NULL, 0));
}
END_TEST

/* Build the suite. */
static Suite *
tls_suite(void)
{
	Suite *s = suite_create("tls");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_make_ca);
	tcase_add_test(tc, test_make_cert);
	tcase_add_test(tc, test_fingerprint);
	tcase_add_test(tc, test_ctx_errors);
	tcase_add_test(tc, test_pin_ok);
	tcase_add_test(tc, test_pin_wrong);
	tcase_add_test(tc, test_ca_verify);
	tcase_add_test(tc, test_client_cert);
	tcase_add_test(tc, test_peer_cn_checked);
	tcase_add_test(tc, test_versions_and_suites);
	tcase_add_test(tc, test_client_refuses_tls12_server);
	tcase_add_test(tc, test_accept_timeout);
	tcase_add_test(tc, test_accept_eof_and_garbage);
	tcase_add_test(tc, test_frame_roundtrip);
	tcase_add_test(tc, test_last_error);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	int rv;

	signal(SIGPIPE, SIG_IGN);
	pki_make();
	rv = tu_run(tls_suite());
	pki_free();
	return rv;
}
