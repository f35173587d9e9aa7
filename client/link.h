/* A node's logged-in connection to the hub: TCP, TLS 1.3, the login of section 6, verified messages. */
#ifndef TROSYN_LINK_H
#define TROSYN_LINK_H

#include <stddef.h>
#include <stdint.h>

#include <signal.h>

#include <json-c/json.h>
#include <openssl/ssl.h>

#include "conn.h"
#include "trosyn-protocol.h"

#define LINK_ERR_LEN		512
#define LINK_MAX_ROLES		16
#define LINK_ROLE_MAX		32
#define LINK_RETRIES		3	/* retries after the first attempt */
#define LINK_BACKOFF_MS		500	/* first retry delay; doubles */

enum link_method {
	LINK_PSK = 1,
	LINK_CERT
};

/* A credentials file from trosyn-admin enroll (PROTOCOL.md section 3). */
struct link_creds {
	char site_id[TR_ID_MAX + 1];
	char node_id[TR_ID_MAX + 1];
	char node_name[TR_NAME_MAX + 1];	/* "" when absent */
	enum link_method method;
	uint8_t site_key[TR_KEY_LEN];
	uint8_t node_key[TR_KEY_LEN];		/* psk */
	char hub_cert_sha256[2 * TR_HASH_LEN + 1];
	char *cert_pem;				/* certificate: malloc'd PEM texts */
	char *key_pem;
	char *ca_pem;
};

/* Where the hub is and how long to wait for it. */
struct link_target {
	const char *host;	/* IPv4 or IPv6 address or host name */
	uint16_t port;
	int timeout_s;		/* socket timeouts (SO_RCVTIMEO/SO_SNDTIMEO) */
};

/* One logged-in connection. */
struct link {
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
	struct conn c;
	const struct link_creds *creds;
	int authed;

	/* Learned at login. */
	char hub_id[TR_ID_MAX + 1];
	char session_id[TR_UUID_LEN + 1];
	uint8_t session_token[TR_TOKEN_LEN];
	uint8_t session_root[TR_KEY_LEN];
	uint8_t conn_key[TR_KEY_LEN];		/* this connection's, for file keys */
	int64_t expires_ms;
	uint32_t rotate_every;
	uint32_t max_message_size;
	int max_batch;
	int heartbeat_interval;
	uint32_t chunk_size;
	char roles[LINK_MAX_ROLES][LINK_ROLE_MAX + 1];
	int nroles;

	/* The last failure. */
	int64_t retry_after_ms;		/* from a BUSY, else 0 */
	char err[LINK_ERR_LEN];
};

/* A session kept for later connections (token logins, heartbeats); holds secrets. */
struct link_session {
	char session_id[TR_UUID_LEN + 1];
	uint8_t token[TR_TOKEN_LEN];
	uint8_t root[TR_KEY_LEN];
	int64_t login_ms;		/* wall clock of the login that made it */
	int64_t expires_ms;
	int heartbeat_interval;
};

/*
 * Read the credentials file PATH into CR.  On failure a one-line reason is
 * in ERR (TR_ENOTFOUND for a missing file, TR_EINVAL for bad contents).
 */
int link_creds_load(const char *path, struct link_creds *cr, char *err,
    size_t errlen);

/* Free and zeroize what CR holds. */
void link_creds_free(struct link_creds *cr);

/*
 * Connect to the hub and log in, retrying a connection or login that
 * failed on the way (closed, timed out, refused, BUSY) after 500 ms, 1 s
 * and 2 s (+-20% jitter; a BUSY waits at least its retry_after_ms); a hard
 * failure (bad pin, bad signature or hub proof, a refusal by the hub) is
 * not retried.  On failure L->err says why and L holds no connection.
 */
int link_open(struct link *l, const struct link_creds *cr,
    const struct link_target *t);

/* One attempt of link_open, without retries. */
int link_open_once(struct link *l, const struct link_creds *cr,
    const struct link_target *t);

/*
 * One attempt to connect and log in with the token of session S (method
 * token, section 6): the connection keeps S's session_root, and the hub
 * must answer with S's session_id.  TR_ETOKEN when the hub no longer knows
 * the session.
 */
int link_open_token_once(struct link *l, const struct link_creds *cr,
    const struct link_target *t, const struct link_session *s);

/* The session L logged in to, copied into S (LOGIN_MS set to now). */
void link_session_get(const struct link *l, struct link_session *s);

/*
 * The delay before retry ATTEMPT (0-based): FIRST_MS doubling up to MAX_MS,
 * then +-20% at random.
 */
int64_t link_backoff(int64_t first_ms, int attempt, int64_t max_ms);

/* Sleep MS milliseconds (signals do not cut it short). */
void link_sleep_ms(int64_t ms);

/*
 * Send a message of TYPE answering IN_REPLY_TO (may be NULL), signed with
 * the next send key.  Takes ownership of PAYLOAD.  The new message_id is
 * copied to MSGID (37 bytes) when it is not NULL.
 */
int link_send(struct link *l, const char *type, const char *in_reply_to,
    json_object *payload, char *msgid);

/*
 * Receive the next message, verified with the receive key and coming from
 * the hub.  A frame, parse or signature failure is a hard error: the hub
 * is told (best effort) and the caller closes.
 */
int link_recv(struct link *l, json_object **env);

/*
 * Receive the next frame of a file channel: a 'C' body of at most CAP
 * bytes into CBUF (*CLEN set, *ENV NULL), or a 'J' message verified as by
 * link_recv into *ENV.  A 'C' frame over L->c.limits.max_chunk, or where
 * none is allowed, is a hard error as in link_recv.
 */
int link_recv_frame(struct link *l, uint8_t *cbuf, size_t cap,
    uint32_t *clen, json_object **env);

/*
 * The TR_E* code of an ERROR message ENV (ACCESS_DENIED -> TR_EACCES,
 * INVALID_TOKEN -> TR_ETOKEN, CLOCK_SKEW -> TR_ESKEW, BUSY -> TR_EBUSY,
 * ...); its code and message are kept in L->err, a BUSY's retry_after_ms
 * in L->retry_after_ms.
 */
int link_error(struct link *l, json_object *env);

/* The TR_E* code of a protocol error code name (TR_EPROTO when unknown). */
int link_code_err(const char *code);

/* Set L->err (printf-style). */
void link_seterr(struct link *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The signal mask saved while SIGPIPE is blocked. */
struct link_sigpipe {
	sigset_t old;
	int was_pending;
};

/*
 * Block SIGPIPE in the calling thread around network use (a write to a
 * closed TLS connection must not kill the embedding program), and restore
 * the mask after, dropping a SIGPIPE raised meanwhile.
 */
void link_sigpipe_block(struct link_sigpipe *sp);
void link_sigpipe_restore(struct link_sigpipe *sp);

/* Close with close_notify and free everything but L->err. */
void link_close(struct link *l);

#endif /* TROSYN_LINK_H */
