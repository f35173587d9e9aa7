/* TLS 1.3 contexts, handshakes, channel binding, fingerprints and site certificates. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "err.h"
#include "hex.h"
#include "tls.h"

/*
 * Identity: the hub is authenticated by its pinned leaf fingerprint or by a
 * chain to the site CA, never by host name, so no host name is checked.
 * Nodes are authenticated by a chain to the site CA and their subject CN.
 * Neither side trusts the system's default CA paths.
 */

#define TLS_CIPHERSUITES \
	"TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"
#define TLS_SID_CTX	"trosyn"
#define TLS_CERT_DAYS	(10 * 365 + 3)	/* ten years, leap days included */
#define TLS_BACKDATE	3600		/* notBefore, seconds in the past */

/* Kinds of certificate tls_make_* issue. */
enum tls_kind {
	TLS_KIND_CA,
	TLS_KIND_SERVER,
	TLS_KIND_CLIENT
};

/* What the pin verify callback of one tls_connect needs. */
struct tls_pin {
	const char *pin_hex;
	int mismatch;
};

static pthread_once_t tls_once = PTHREAD_ONCE_INIT;
static int tls_pin_idx = -1;	/* SSL ex_data slot of struct tls_pin */

/* Allocate the SSL ex_data slot of the pin callback; called once. */
static void
tls_init_once(void)
{
	tls_pin_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

/* Text of the last OpenSSL error of this thread (for logs), never NULL. */
const char *
tls_last_error(char *buf, size_t len)
{
	unsigned long e = ERR_peek_last_error();

	if (buf == NULL || len == 0)
		return "";
	if (e == 0)
		snprintf(buf, len, "no OpenSSL error");
	else
		ERR_error_string_n(e, buf, len);
	return buf;
}

/* Write "WHAT: <last OpenSSL error>" into ERR when there is room. */
static void
tls_seterr(char *err, size_t errlen, const char *what)
{
	char ebuf[256];

	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s: %s", what,
		    tls_last_error(ebuf, sizeof(ebuf)));
}

/* Non-zero when CN is 1..TR_ID_MAX characters of [A-Za-z0-9._-]. */
static int
tls_cn_valid(const char *cn, size_t len)
{
	if (len == 0 || len > TR_ID_MAX)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = cn[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

/* A read-only memory BIO over the NUL-terminated PEM text. */
static BIO *
tls_pem_bio(const char *pem)
{
	if (pem == NULL)
		return NULL;
	return BIO_new_mem_buf(pem, -1);
}

/* Non-zero when the last PEM read failed only because the text ended. */
static int
tls_pem_at_end(void)
{
	unsigned long e = ERR_peek_last_error();

	return ERR_GET_LIB(e) == ERR_LIB_PEM &&
	    ERR_GET_REASON(e) == PEM_R_NO_START_LINE;
}

/* First certificate of a PEM text, or NULL. */
static X509 *
tls_read_cert(const char *pem)
{
	BIO *bio = tls_pem_bio(pem);
	X509 *x = NULL;

	if (bio != NULL)
		x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	return x;
}

/* Private key of a PEM text (never prompts for a passphrase), or NULL. */
static EVP_PKEY *
tls_read_key(const char *pem)
{
	BIO *bio = tls_pem_bio(pem);
	EVP_PKEY *k = NULL;
	char empty[] = "";

	if (bio != NULL)
		k = PEM_read_bio_PrivateKey(bio, NULL, NULL, empty);
	BIO_free(bio);
	return k;
}

/* Settings shared by hub and node contexts; 0 or TR_ETLS. */
static int
tls_ctx_common(SSL_CTX *ctx)
{
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_ciphersuites(ctx, TLS_CIPHERSUITES))
		return TR_ETLS;
	/* Sessions are never resumed: no tickets, no cache. */
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	if (!SSL_CTX_set_num_tickets(ctx, 0))
		return TR_ETLS;
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_mode(ctx, SSL_MODE_AUTO_RETRY);
	return 0;
}

/* Load the leaf certificate (then any chain certificates) and its key. */
static int
tls_ctx_load_cert(SSL_CTX *ctx, const char *cert_pem, const char *key_pem,
    char *err, size_t errlen)
{
	EVP_PKEY *key = NULL;
	BIO *bio = NULL;
	X509 *x = NULL;
	int rv = TR_ETLS;

	if ((bio = tls_pem_bio(cert_pem)) == NULL ||
	    (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL) {
		tls_seterr(err, errlen, "certificate");
		goto out;
	}
	if (!SSL_CTX_use_certificate(ctx, x)) {
		tls_seterr(err, errlen, "certificate");
		goto out;
	}
	X509_free(x);
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (!SSL_CTX_add0_chain_cert(ctx, x)) {
			tls_seterr(err, errlen, "certificate chain");
			goto out;
		}
		x = NULL;
	}
	if (!tls_pem_at_end()) {
		tls_seterr(err, errlen, "certificate chain");
		goto out;
	}
	ERR_clear_error();
	if ((key = tls_read_key(key_pem)) == NULL) {
		tls_seterr(err, errlen, "private key");
		goto out;
	}
	if (!SSL_CTX_use_PrivateKey(ctx, key) ||
	    !SSL_CTX_check_private_key(ctx)) {
		tls_seterr(err, errlen, "private key does not match certificate");
		goto out;
	}
	rv = 0;
out:
	X509_free(x);
	EVP_PKEY_free(key);
	BIO_free(bio);
	return rv;
}

/* Trust every certificate of CA_PEM (and, for a hub, name them to clients). */
static int
tls_ctx_load_ca(SSL_CTX *ctx, const char *ca_pem, int client_ca, char *err,
    size_t errlen)
{
	X509_STORE *store = SSL_CTX_get_cert_store(ctx);
	BIO *bio = NULL;
	X509 *x = NULL;
	int n = 0, rv = TR_ETLS;

	if ((bio = tls_pem_bio(ca_pem)) == NULL) {
		tls_seterr(err, errlen, "CA certificate");
		goto out;
	}
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (!X509_STORE_add_cert(store, x) ||
		    (client_ca && !SSL_CTX_add_client_CA(ctx, x))) {
			tls_seterr(err, errlen, "CA certificate");
			goto out;
		}
		X509_free(x);
		x = NULL;
		n++;
	}
	if (n == 0 || !tls_pem_at_end()) {
		tls_seterr(err, errlen, "CA certificate");
		goto out;
	}
	ERR_clear_error();
	rv = 0;
out:
	X509_free(x);
	BIO_free(bio);
	return rv;
}

/* Hub context: TLS 1.3 only, server cipher preference, optional client certificates. */
SSL_CTX *
tls_server_ctx_new(const struct tls_creds *creds, int request_client_cert,
    char *err, size_t errlen)
{
	SSL_CTX *ctx = NULL;
	int ok = 0;

	if (err != NULL && errlen > 0)
		*err = '\0';
	if (creds == NULL || creds->cert_pem == NULL || creds->key_pem == NULL ||
	    (request_client_cert && creds->ca_pem == NULL)) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s", request_client_cert ?
			    "certificate, key and CA are required" :
			    "certificate and key are required");
		return NULL;
	}
	ERR_clear_error();
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL ||
	    tls_ctx_common(ctx) != 0) {
		tls_seterr(err, errlen, "TLS context");
		goto out;
	}
	SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
	if (!SSL_CTX_set_session_id_context(ctx,
	    (const unsigned char *)TLS_SID_CTX, sizeof(TLS_SID_CTX) - 1)) {
		tls_seterr(err, errlen, "TLS context");
		goto out;
	}
	if (tls_ctx_load_cert(ctx, creds->cert_pem, creds->key_pem, err,
	    errlen) != 0)
		goto out;
	if (creds->ca_pem != NULL && tls_ctx_load_ca(ctx, creds->ca_pem,
	    request_client_cert, err, errlen) != 0)
		goto out;
	/* Requested, not required; one that is sent must verify. */
	SSL_CTX_set_verify(ctx, request_client_cert ? SSL_VERIFY_PEER :
	    SSL_VERIFY_NONE, NULL);
	ok = 1;
out:
	if (!ok) {
		SSL_CTX_free(ctx);
		ctx = NULL;
	}
	return ctx;
}

/* Node context: TLS 1.3 only, optional client certificate and site CA. */
SSL_CTX *
tls_client_ctx_new(const struct tls_creds *creds, char *err, size_t errlen)
{
	SSL_CTX *ctx = NULL;
	int ok = 0;

	if (err != NULL && errlen > 0)
		*err = '\0';
	if (creds != NULL && (creds->cert_pem == NULL) !=
	    (creds->key_pem == NULL)) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen,
			    "client certificate and key go together");
		return NULL;
	}
	ERR_clear_error();
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    tls_ctx_common(ctx) != 0) {
		tls_seterr(err, errlen, "TLS context");
		goto out;
	}
	if (creds != NULL && creds->cert_pem != NULL &&
	    tls_ctx_load_cert(ctx, creds->cert_pem, creds->key_pem, err,
	    errlen) != 0)
		goto out;
	if (creds != NULL && creds->ca_pem != NULL &&
	    tls_ctx_load_ca(ctx, creds->ca_pem, 0, err, errlen) != 0)
		goto out;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	ok = 1;
out:
	if (!ok) {
		SSL_CTX_free(ctx);
		ctx = NULL;
	}
	return ctx;
}

/* Map a failed SSL_accept/SSL_connect (RET, errno SAVED) to a TR_E* code. */
static int
tls_handshake_error(SSL *ssl, int ret, int saved)
{
	unsigned long e;

	switch (SSL_get_error(ssl, ret)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		return TR_ETIMEDOUT;
	case SSL_ERROR_ZERO_RETURN:
		return TR_ECLOSED;
	case SSL_ERROR_SYSCALL:
		if (saved == EAGAIN || saved == EWOULDBLOCK)
			return TR_ETIMEDOUT;
		if (ERR_peek_error() == 0 && (ret == 0 || saved == 0 ||
		    saved == ECONNRESET || saved == EPIPE))
			return TR_ECLOSED;
		return TR_ETLS;
	case SSL_ERROR_SSL:
		e = ERR_peek_error();
		if (ERR_GET_LIB(e) == ERR_LIB_SSL &&
		    ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
			return TR_ECLOSED;
		return TR_ETLS;
	default:
		return TR_ETLS;
	}
}

/* Run SSL_accept or SSL_connect to the end; 0 or a TR_E* code. */
static int
tls_handshake(SSL *ssl, int server)
{
	int ret, saved;

	for (;;) {
		ERR_clear_error();
		errno = 0;
		ret = server ? SSL_accept(ssl) : SSL_connect(ssl);
		saved = errno;
		if (ret == 1)
			return 0;
		/* A signal is not the socket timeout: go on. */
		if (saved == EINTR && ERR_peek_error() == 0) {
			int e = SSL_get_error(ssl, ret);

			if (e == SSL_ERROR_WANT_READ ||
			    e == SSL_ERROR_WANT_WRITE ||
			    e == SSL_ERROR_SYSCALL)
				continue;
		}
		return tls_handshake_error(ssl, ret, saved);
	}
}

/* Server handshake on FD; the SSL is freed on failure. */
int
tls_accept(SSL_CTX *ctx, int fd, SSL **out)
{
	SSL *ssl = NULL;
	int rv;

	if (out != NULL)
		*out = NULL;
	if (ctx == NULL || fd < 0 || out == NULL)
		return TR_EINVAL;
	ERR_clear_error();
	if ((ssl = SSL_new(ctx)) == NULL || !SSL_set_fd(ssl, fd)) {
		rv = TR_ETLS;
		goto out;
	}
	if ((rv = tls_handshake(ssl, 1)) != 0)
		goto out;
	*out = ssl;
	ssl = NULL;
out:
	SSL_free(ssl);
	return rv;
}

/* Fingerprint of CERT equals PIN_HEX. */
static int
tls_pin_match(X509 *cert, const char *pin_hex)
{
	char hex[2 * TR_HASH_LEN + 1];

	if (cert == NULL || tls_cert_sha256(cert, hex) != 0)
		return 0;
	return CRYPTO_memcmp(hex, pin_hex, sizeof(hex) - 1) == 0;
}

/* Verify callback of a pinned connect: the leaf's fingerprint decides alone. */
static int
tls_pin_verify(int preverify_ok, X509_STORE_CTX *xctx)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(xctx,
	    SSL_get_ex_data_X509_STORE_CTX_idx());
	struct tls_pin *pin = ssl == NULL ? NULL :
	    SSL_get_ex_data(ssl, tls_pin_idx);

	if (pin == NULL)
		return preverify_ok;
	if (tls_pin_match(X509_STORE_CTX_get0_cert(xctx), pin->pin_hex))
		return 1;
	pin->mismatch = 1;
	return 0;
}

/* Client handshake on FD, the hub checked by pin or by the context's CA. */
int
tls_connect(SSL_CTX *ctx, int fd, const char *pin_hex, SSL **out)
{
	struct tls_pin pin = { pin_hex, 0 };
	SSL *ssl = NULL;
	int rv;

	if (out != NULL)
		*out = NULL;
	if (ctx == NULL || fd < 0 || out == NULL ||
	    (pin_hex != NULL && !hex_valid(pin_hex, strlen(pin_hex),
	    TR_HASH_LEN)))
		return TR_EINVAL;
	if (pthread_once(&tls_once, tls_init_once) != 0 || tls_pin_idx < 0)
		return TR_ETLS;
	ERR_clear_error();
	if ((ssl = SSL_new(ctx)) == NULL || !SSL_set_fd(ssl, fd)) {
		rv = TR_ETLS;
		goto out;
	}
	if (pin_hex != NULL) {
		if (!SSL_set_ex_data(ssl, tls_pin_idx, &pin)) {
			rv = TR_ETLS;
			goto out;
		}
		SSL_set_verify(ssl, SSL_VERIFY_PEER, tls_pin_verify);
	} else
		SSL_set_verify(ssl, SSL_VERIFY_PEER, NULL);

	rv = tls_handshake(ssl, 0);
	if (pin_hex != NULL) {
		if (pin.mismatch)
			rv = TR_EPIN;
		else if (rv == 0 &&
		    !tls_pin_match(SSL_get0_peer_certificate(ssl), pin_hex))
			rv = TR_EPIN;
		SSL_set_ex_data(ssl, tls_pin_idx, NULL);
	}
	if (rv != 0)
		goto out;
	*out = ssl;
	ssl = NULL;
out:
	SSL_free(ssl);
	return rv;
}

/* Send close_notify once, without waiting for the peer's, and free SSL. */
void
tls_close(SSL *ssl)
{
	if (ssl == NULL)
		return;
	ERR_clear_error();
	if (SSL_is_init_finished(ssl) &&
	    !(SSL_get_shutdown(ssl) & SSL_SENT_SHUTDOWN))
		(void)SSL_shutdown(ssl);
	ERR_clear_error();
	SSL_free(ssl);
}

/* E = TLS-Exporter("EXPORTER-trosyn-v1", no context, 32). */
int
tls_exporter(SSL *ssl, uint8_t out[TR_KEY_LEN])
{
	if (ssl == NULL || out == NULL)
		return TR_EINVAL;
	if (SSL_export_keying_material(ssl, out, TR_KEY_LEN, TR_LABEL_EXPORTER,
	    sizeof(TR_LABEL_EXPORTER) - 1, NULL, 0, 0) != 1)
		return TR_ETLS;
	return 0;
}

/* Lowercase hex SHA-256 of the DER encoding of CERT. */
int
tls_cert_sha256(X509 *cert, char hex[2 * TR_HASH_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (cert == NULL || hex == NULL)
		return TR_EINVAL;
	if (!X509_digest(cert, EVP_sha256(), md, &mdlen) ||
	    mdlen != TR_HASH_LEN)
		return TR_ECRYPTO;
	hex_encode(md, TR_HASH_LEN, hex);
	return 0;
}

/* Lowercase hex SHA-256 of the DER of the first certificate of CERT_PEM. */
int
tls_pem_sha256(const char *cert_pem, char hex[2 * TR_HASH_LEN + 1])
{
	X509 *x;
	int rv;

	if (cert_pem == NULL || hex == NULL)
		return TR_EINVAL;
	if ((x = tls_read_cert(cert_pem)) == NULL)
		return TR_EINVAL;
	rv = tls_cert_sha256(x, hex);
	X509_free(x);
	return rv;
}

/* Subject CN of a verified peer certificate; it must be a valid node id. */
int
tls_peer_cn(SSL *ssl, char *cn, size_t cnlen)
{
	X509_NAME *name;
	X509_NAME_ENTRY *ent;
	ASN1_STRING *data;
	X509 *peer;
	int idx, len;

	if (ssl == NULL || cn == NULL || cnlen == 0)
		return TR_EINVAL;
	if ((peer = SSL_get0_peer_certificate(ssl)) == NULL)
		return TR_ENOTFOUND;
	if (SSL_get_verify_result(ssl) != X509_V_OK)
		return TR_EACCES;
	name = X509_get_subject_name(peer);
	if ((idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1)) < 0)
		return TR_ENOTFOUND;
	/* Two CNs would be ambiguous. */
	if (X509_NAME_get_index_by_NID(name, NID_commonName, idx) >= 0)
		return TR_EINVAL;
	if ((ent = X509_NAME_get_entry(name, idx)) == NULL ||
	    (data = X509_NAME_ENTRY_get_data(ent)) == NULL)
		return TR_EINVAL;
	len = ASN1_STRING_length(data);
	if (len < 0 || !tls_cn_valid((const char *)ASN1_STRING_get0_data(data),
	    (size_t)len))
		return TR_EINVAL;
	if ((size_t)len >= cnlen)
		return TR_ETOOBIG;
	memcpy(cn, ASN1_STRING_get0_data(data), (size_t)len);
	cn[len] = '\0';
	return 0;
}

/* Copy the contents of a memory BIO into a malloc'd NUL-terminated string. */
static int
tls_bio_string(BIO *bio, char **out)
{
	char *data;
	long len;

	if ((len = BIO_get_mem_data(bio, &data)) <= 0)
		return TR_ECRYPTO;
	if ((*out = malloc((size_t)len + 1)) == NULL)
		return TR_ENOMEM;
	memcpy(*out, data, (size_t)len);
	(*out)[len] = '\0';
	return 0;
}

/* Add extension NID = VALUE (openssl.cnf syntax) to X. */
static int
tls_add_ext(X509 *x, X509V3_CTX *v3, int nid, const char *value)
{
	X509_EXTENSION *ext;
	int ok;

	if ((ext = X509V3_EXT_conf_nid(NULL, v3, nid, value)) == NULL)
		return TR_ECRYPTO;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : TR_ECRYPTO;
}

/* Give X a random positive 128-bit serial number. */
static int
tls_set_serial(X509 *x)
{
	BIGNUM *bn = BN_new();
	int rv = TR_ECRYPTO;

	if (bn == NULL)
		return TR_ENOMEM;
	if (!BN_rand(bn, 128, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY))
		goto out;
	if (BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL)
		goto out;
	rv = 0;
out:
	BN_free(bn);
	return rv;
}

/* The extensions of a certificate of KIND for CN. */
static int
tls_add_exts(X509 *x, X509 *issuer, enum tls_kind kind, const char *cn)
{
	X509V3_CTX v3;
	char san[3 * TR_ID_MAX];
	int rv;

	X509V3_set_ctx(&v3, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
	if (kind == TLS_KIND_CA) {
		if ((rv = tls_add_ext(x, &v3, NID_basic_constraints,
		    "critical,CA:TRUE,pathlen:0")) != 0 ||
		    (rv = tls_add_ext(x, &v3, NID_key_usage,
		    "critical,keyCertSign,cRLSign")) != 0)
			return rv;
	} else {
		if ((rv = tls_add_ext(x, &v3, NID_basic_constraints,
		    "critical,CA:FALSE")) != 0 ||
		    (rv = tls_add_ext(x, &v3, NID_key_usage,
		    "critical,digitalSignature")) != 0 ||
		    (rv = tls_add_ext(x, &v3, NID_ext_key_usage,
		    kind == TLS_KIND_SERVER ? "serverAuth" : "clientAuth")) != 0)
			return rv;
	}
	if (kind == TLS_KIND_SERVER) {
		snprintf(san, sizeof(san), "DNS:%s,DNS:localhost,IP:127.0.0.1",
		    cn);
		if ((rv = tls_add_ext(x, &v3, NID_subject_alt_name, san)) != 0)
			return rv;
	}
	if ((rv = tls_add_ext(x, &v3, NID_subject_key_identifier,
	    "hash")) != 0)
		return rv;
	return tls_add_ext(x, &v3, NID_authority_key_identifier,
	    "keyid:always");
}

/*
 * Make a certificate of KIND for CN with a new P-256 key, signed by
 * ISSUER/ISSUER_KEY (self-signed when ISSUER is NULL), as PEM texts.
 */
static int
tls_issue(X509 *issuer, EVP_PKEY *issuer_key, enum tls_kind kind,
    const char *cn, char **cert_pem, char **key_pem)
{
	EVP_PKEY *key = NULL;
	X509_NAME *name = NULL;
	BIO *cbio = NULL, *kbio = NULL;
	X509 *x = NULL;
	int rv = TR_ECRYPTO;

	if (cert_pem == NULL || key_pem == NULL)
		return TR_EINVAL;
	*cert_pem = NULL;
	*key_pem = NULL;
	if (cn == NULL || !tls_cn_valid(cn, strlen(cn)))
		return TR_EINVAL;

	if ((key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")) == NULL ||
	    (x = X509_new()) == NULL || !X509_set_version(x, X509_VERSION_3))
		goto out;
	if ((rv = tls_set_serial(x)) != 0)
		goto out;
	rv = TR_ECRYPTO;
	if ((name = X509_NAME_new()) == NULL ||
	    !X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0) ||
	    !X509_set_subject_name(x, name) ||
	    !X509_set_issuer_name(x, issuer != NULL ?
	    X509_get_subject_name(issuer) : name))
		goto out;
	if (X509_gmtime_adj(X509_getm_notBefore(x), -TLS_BACKDATE) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), TLS_CERT_DAYS, 0,
	    NULL) == NULL ||
	    !X509_set_pubkey(x, key))
		goto out;
	if ((rv = tls_add_exts(x, issuer, kind, cn)) != 0)
		goto out;
	rv = TR_ECRYPTO;
	if (X509_sign(x, issuer_key != NULL ? issuer_key : key,
	    EVP_sha256()) <= 0)
		goto out;

	if ((cbio = BIO_new(BIO_s_mem())) == NULL ||
	    (kbio = BIO_new(BIO_s_secmem())) == NULL ||
	    !PEM_write_bio_X509(cbio, x) ||
	    !PEM_write_bio_PrivateKey(kbio, key, NULL, NULL, 0, NULL, NULL))
		goto out;
	if ((rv = tls_bio_string(cbio, cert_pem)) != 0 ||
	    (rv = tls_bio_string(kbio, key_pem)) != 0)
		goto out;
	rv = 0;
out:
	if (rv != 0) {
		free(*cert_pem);
		*cert_pem = NULL;
		if (*key_pem != NULL) {
			OPENSSL_cleanse(*key_pem, strlen(*key_pem));
			free(*key_pem);
			*key_pem = NULL;
		}
	}
	BIO_free(cbio);
	BIO_free(kbio);
	X509_NAME_free(name);
	X509_free(x);
	EVP_PKEY_free(key);
	return rv;
}

/* Make a self-signed site CA (EC P-256, 10 years) with common name CN. */
int
tls_make_ca(const char *cn, char **cert_pem, char **key_pem)
{
	return tls_issue(NULL, NULL, TLS_KIND_CA, cn, cert_pem, key_pem);
}

/* Issue a server or client leaf certificate for CN signed by the site CA. */
int
tls_make_cert(const char *ca_cert_pem, const char *ca_key_pem,
    const char *cn, int server, char **cert_pem, char **key_pem)
{
	EVP_PKEY *ca_key = NULL;
	X509 *ca = NULL;
	int rv;

	if (cert_pem != NULL)
		*cert_pem = NULL;
	if (key_pem != NULL)
		*key_pem = NULL;
	if ((ca = tls_read_cert(ca_cert_pem)) == NULL ||
	    (ca_key = tls_read_key(ca_key_pem)) == NULL ||
	    X509_check_private_key(ca, ca_key) != 1 ||
	    X509_check_ca(ca) == 0) {
		rv = TR_EINVAL;
		goto out;
	}
	rv = tls_issue(ca, ca_key, server ? TLS_KIND_SERVER : TLS_KIND_CLIENT,
	    cn, cert_pem, key_pem);
out:
	EVP_PKEY_free(ca_key);
	X509_free(ca);
	return rv;
}
