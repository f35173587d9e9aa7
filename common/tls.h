/* TLS 1.3 contexts, handshakes, channel binding, fingerprints and site certificates. */
#ifndef TROSYN_TLS_H
#define TROSYN_TLS_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "trosyn-protocol.h"

/* PEM texts (NUL-terminated) a context is built from; NULL when absent. */
struct tls_creds {
	const char *cert_pem;	/* leaf certificate */
	const char *key_pem;	/* its private key */
	const char *ca_pem;	/* site CA: verifies the peer */
};

/*
 * Hub context: TLS 1.3 only, ciphersuites TLS_AES_256_GCM_SHA384 then
 * TLS_CHACHA20_POLY1305_SHA256 with server preference, certificate and key
 * from CREDS.  With REQUEST_CLIENT_CERT a client certificate is requested
 * (not required) and verified against CREDS->ca_pem; a presented
 * certificate that does not verify fails the handshake.  On failure
 * returns NULL and writes a reason to ERR.
 */
SSL_CTX *tls_server_ctx_new(const struct tls_creds *creds,
    int request_client_cert, char *err, size_t errlen);

/*
 * Node context: TLS 1.3 only, the same ciphersuites; CREDS->cert_pem and
 * key_pem (optional) are the client certificate; CREDS->ca_pem (optional)
 * is what tls_connect verifies the hub against when no pin is given.
 */
SSL_CTX *tls_client_ctx_new(const struct tls_creds *creds, char *err,
    size_t errlen);

/*
 * Server handshake on FD (blocking; the caller sets SO_RCVTIMEO/SO_SNDTIMEO).
 * Returns 0 and *OUT, or TR_ETIMEDOUT, TR_ECLOSED or TR_ETLS.  FD stays the
 * caller's.
 */
int tls_accept(SSL_CTX *ctx, int fd, SSL **out);

/*
 * Client handshake on FD.  With PIN_HEX (64 lowercase hex digits) the hub's
 * leaf certificate must have that SHA-256 fingerprint (TR_EPIN otherwise);
 * without it the chain must verify against the context's CA.
 */
int tls_connect(SSL_CTX *ctx, int fd, const char *pin_hex, SSL **out);

/* Send close_notify (best effort, bounded by the socket timeouts) and free SSL; FD stays open. */
void tls_close(SSL *ssl);

/* E = TLS-Exporter("EXPORTER-trosyn-v1", no context, 32). */
int tls_exporter(SSL *ssl, uint8_t out[TR_KEY_LEN]);

/* Lowercase hex SHA-256 of the DER encoding of CERT into HEX (65 bytes). */
int tls_cert_sha256(X509 *cert, char hex[2 * TR_HASH_LEN + 1]);

/* As tls_cert_sha256 for a PEM certificate text. */
int tls_pem_sha256(const char *cert_pem, char hex[2 * TR_HASH_LEN + 1]);

/*
 * Subject CN of the peer's certificate when the peer presented one and it
 * verified against the site CA; TR_ENOTFOUND when it presented none.
 */
int tls_peer_cn(SSL *ssl, char *cn, size_t cnlen);

/*
 * Make a self-signed site CA (EC P-256, 10 years) with common name CN.
 * *CERT_PEM and *KEY_PEM are malloc'd PEM texts.
 */
int tls_make_ca(const char *cn, char **cert_pem, char **key_pem);

/*
 * Issue a leaf certificate for CN signed by the CA (EC P-256, 10 years).
 * SERVER non-zero makes a server certificate (with subjectAltName
 * DNS:CN, DNS:localhost, IP:127.0.0.1), zero a client certificate.
 */
int tls_make_cert(const char *ca_cert_pem, const char *ca_key_pem,
    const char *cn, int server, char **cert_pem, char **key_pem);

/* Text of the last OpenSSL error of this thread (for logs), never NULL. */
const char *tls_last_error(char *buf, size_t len);

#endif /* TROSYN_TLS_H */
