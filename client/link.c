/* A node's logged-in connection to the hub: TCP, TLS 1.3, the login of section 6, verified messages. */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "hex.h"
#include "jcs.h"
#include "kdf.h"
#include "link.h"
#include "log.h"
#include "msg.h"
#include "tls.h"

#define LINK_CREDS_MAX		(1024 * 1024)	/* largest credentials file */
#define LINK_BUSY_MAX_MS	60000		/* longest BUSY wait honoured */

/* Set L->err. */
void
link_seterr(struct link *l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(l->err, sizeof(l->err), fmt, ap);
	va_end(ap);
}

/* Write a reason into ERR. */
static void
link_credserr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void
link_credserr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Read the whole file PATH (at most LINK_CREDS_MAX bytes) into a malloc'd buffer. */
static int
link_read_file(const char *path, char **buf, size_t *len, char *err,
    size_t errlen)
{
	struct stat st;
	FILE *f = NULL;
	char *b = NULL;
	int rc;

	*buf = NULL;
	if ((f = fopen(path, "re")) == NULL) {
		link_credserr(err, errlen, "%s: %s", path, strerror(errno));
		return errno == ENOENT ? TR_ENOTFOUND : TR_EIO;
	}
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > LINK_CREDS_MAX) {
		link_credserr(err, errlen, "%s: not a credentials file", path);
		rc = TR_EINVAL;
		goto out;
	}
	if ((b = malloc((size_t)st.st_size + 1)) == NULL) {
		rc = TR_ENOMEM;
		goto out;
	}
	*len = fread(b, 1, (size_t)st.st_size, f);
	if (ferror(f)) {
		link_credserr(err, errlen, "%s: %s", path, strerror(errno));
		rc = TR_EIO;
		goto out;
	}
	b[*len] = '\0';
	*buf = b;
	b = NULL;
	rc = 0;
out:
	free(b);
	fclose(f);
	return rc;
}

/* A required string member of the credentials, copied into a malloc'd *OUT. */
static int
link_creds_pem(json_object *o, const char *key, char **out)
{
	const char *s;

	if (msg_get_str(o, key, &s) != 0 || *s == '\0')
		return TR_EINVAL;
	if ((*out = strdup(s)) == NULL)
		return TR_ENOMEM;
	return 0;
}

/* Read the credentials file PATH into CR. */
int
link_creds_load(const char *path, struct link_creds *cr, char *err,
    size_t errlen)
{
	json_object *o = NULL;
	const char *s, *what = NULL;
	char *text = NULL;
	size_t len = 0;
	int rc;

	memset(cr, 0, sizeof(*cr));
	if ((rc = link_read_file(path, &text, &len, err, errlen)) != 0)
		return rc;
	if (jcs_parse(text, len, &o) != 0 ||
	    !json_object_is_type(o, json_type_object)) {
		link_credserr(err, errlen, "%s: not a JSON object", path);
		rc = TR_EINVAL;
		goto out;
	}
	rc = TR_EINVAL;
	what = "site_id";
	if (msg_get_str(o, "site_id", &s) != 0 || !msg_valid_id(s))
		goto bad;
	snprintf(cr->site_id, sizeof(cr->site_id), "%s", s);
	what = "node_id";
	if (msg_get_str(o, "node_id", &s) != 0 || !msg_valid_id(s))
		goto bad;
	snprintf(cr->node_id, sizeof(cr->node_id), "%s", s);
	what = "node_name";
	if (msg_get_str(o, "node_name", &s) == 0) {
		if (!msg_valid_name(s, strlen(s)))
			goto bad;
		snprintf(cr->node_name, sizeof(cr->node_name), "%s", s);
	}
	what = "site_key";
	if (msg_get_hex(o, "site_key", cr->site_key, TR_KEY_LEN) != 0)
		goto bad;
	what = "hub_cert_sha256";
	if (msg_get_str(o, "hub_cert_sha256", &s) != 0 ||
	    !hex_valid(s, strlen(s), TR_HASH_LEN))
		goto bad;
	snprintf(cr->hub_cert_sha256, sizeof(cr->hub_cert_sha256), "%s", s);
	what = "method";
	if (msg_get_str(o, "method", &s) != 0)
		goto bad;
	if (strcmp(s, "psk") == 0) {
		cr->method = LINK_PSK;
		what = "node_key";
		if (msg_get_hex(o, "node_key", cr->node_key, TR_KEY_LEN) != 0)
			goto bad;
	} else if (strcmp(s, "certificate") == 0) {
		cr->method = LINK_CERT;
		what = "cert_pem";
		if ((rc = link_creds_pem(o, "cert_pem", &cr->cert_pem)) != 0)
			goto bad;
		what = "key_pem";
		if ((rc = link_creds_pem(o, "key_pem", &cr->key_pem)) != 0)
			goto bad;
		what = "ca_pem";
		if ((rc = link_creds_pem(o, "ca_pem", &cr->ca_pem)) != 0)
			goto bad;
	} else
		goto bad;
	rc = 0;
	goto out;
bad:
	if (rc != TR_ENOMEM) {
		link_credserr(err, errlen, "%s: missing or invalid %s", path,
		    what);
		rc = TR_EINVAL;
	}
	link_creds_free(cr);
out:
	if (text != NULL) {
		kdf_cleanse(text, len);
		free(text);
	}
	json_object_put(o);
	return rc;
}

/* Free and zeroize a PEM text. */
static void
link_free_secret(char **p)
{
	if (*p != NULL) {
		kdf_cleanse(*p, strlen(*p));
		free(*p);
		*p = NULL;
	}
}

/* Free and zeroize CR. */
void
link_creds_free(struct link_creds *cr)
{
	if (cr == NULL)
		return;
	free(cr->cert_pem);
	cr->cert_pem = NULL;
	link_free_secret(&cr->key_pem);
	free(cr->ca_pem);
	cr->ca_pem = NULL;
	kdf_cleanse(cr, sizeof(*cr));
}

/* Set both socket timeouts of FD to S seconds. */
static void
link_set_timeouts(int fd, int s)
{
	struct timeval tv;

	tv.tv_sec = s > 0 ? s : 1;
	tv.tv_usec = 0;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* TCP connect to T (every address of the host in turn) into L->fd. */
static int
link_tcp(struct link *l, const struct link_target *t)
{
	struct addrinfo hints, *res = NULL, *ai;
	char port[8];
	int fd = -1, one = 1, gai, saved = 0, rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%u", (unsigned)t->port);
	if ((gai = getaddrinfo(t->host, port, &hints, &res)) != 0) {
		link_seterr(l, "cannot resolve %s: %s", t->host,
		    gai == EAI_SYSTEM ? strerror(errno) : gai_strerror(gai));
		return gai == EAI_AGAIN ? TR_EIO : TR_ENOTFOUND;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd < 0) {
			saved = errno;
			continue;
		}
		link_set_timeouts(fd, t->timeout_s);
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		/* A connect that ran into SO_SNDTIMEO reports EINPROGRESS. */
		if (saved == EINPROGRESS || saved == EAGAIN ||
		    saved == ETIMEDOUT) {
			link_seterr(l, "connect to %s port %u: timed out",
			    t->host, (unsigned)t->port);
			rc = TR_ETIMEDOUT;
		} else {
			link_seterr(l, "connect to %s port %u: %s", t->host,
			    (unsigned)t->port, strerror(saved));
			rc = TR_EIO;
		}
		return rc;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	l->fd = fd;
	return 0;
}

/* TLS 1.3 to the hub: pinned (psk), or chained to the site CA and pinned (certificate). */
static int
link_tls(struct link *l)
{
	const struct link_creds *cr = l->creds;
	struct tls_creds tc;
	char err[256], fp[2 * TR_HASH_LEN + 1];
	int rc;

	memset(&tc, 0, sizeof(tc));
	if (cr->method == LINK_CERT) {
		tc.cert_pem = cr->cert_pem;
		tc.key_pem = cr->key_pem;
		tc.ca_pem = cr->ca_pem;
	}
	if ((l->ctx = tls_client_ctx_new(&tc, err, sizeof(err))) == NULL) {
		link_seterr(l, "TLS setup: %s", err);
		return TR_ETLS;
	}
	rc = tls_connect(l->ctx, l->fd, cr->method == LINK_PSK ?
	    cr->hub_cert_sha256 : NULL, &l->ssl);
	if (rc == 0 && cr->method == LINK_CERT) {
		/* The chain verified against the site CA; the pin must hold too. */
		X509 *peer = SSL_get0_peer_certificate(l->ssl);

		if (peer == NULL || tls_cert_sha256(peer, fp) != 0 ||
		    strcmp(fp, cr->hub_cert_sha256) != 0)
			rc = TR_EPIN;
	}
	switch (rc) {
	case 0:
		break;
	case TR_EPIN:
		link_seterr(l, "TLS: the hub's certificate does not match "
		    "hub_cert_sha256 of the credentials");
		break;
	case TR_ETLS:
		link_seterr(l, "TLS handshake failed: %s", cr->method ==
		    LINK_CERT ? "the hub's certificate does not verify "
		    "against the site CA, or the hub refused ours" :
		    tls_last_error(err, sizeof(err)));
		break;
	default:
		link_seterr(l, "TLS handshake: %s", tr_strerror(rc));
		break;
	}
	return rc;
}

/* Receive one message before the keys are set, for the login. */
static int
link_recv_plain(struct link *l, const char *what, json_object **env)
{
	uint32_t max = 0;
	int rc;

	*env = NULL;
	rc = conn_recv(&l->c, env, NULL, &max);
	if (rc == 0)
		return 0;
	json_object_put(*env);
	*env = NULL;
	switch (rc) {
	case TR_ECLOSED:
	case TR_ETRUNC:
	case TR_EIO:
	case TR_ETIMEDOUT:
	case TR_ETLS:
		link_seterr(l, "waiting for %s: %s", what, tr_strerror(rc));
		return rc == TR_ETLS ? TR_EIO : rc;
	default:
		link_seterr(l, "waiting for %s: the hub sent a bad message: "
		    "%s", what, tr_strerror(rc));
		return TR_EPROTO;
	}
}

/* Copy S with control characters replaced into BUF. */
static void
link_sanitize(const char *s, char *buf, size_t len)
{
	snprintf(buf, len, "%s", s);
	for (char *p = buf; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
}

/* The TR_E* code of a protocol error code name. */
int
link_code_err(const char *code)
{
	static const struct {
		const char *code;
		int err;
	} map[] = {
		{ TR_CODE_AUTH_REQUIRED, TR_EACCES },
		{ TR_CODE_INVALID_TOKEN, TR_ETOKEN },
		{ TR_CODE_ACCESS_DENIED, TR_EACCES },
		{ TR_CODE_INVALID_REQUEST, TR_EINVAL },
		{ TR_CODE_INTERNAL_ERROR, TR_EIO },
		{ TR_CODE_UNSUPPORTED_VERSION, TR_EVERSION },
		{ TR_CODE_CLOCK_SKEW, TR_ESKEW },
		{ TR_CODE_TOO_LARGE, TR_ETOOBIG },
		{ TR_CODE_NOT_FOUND, TR_ENOTFOUND },
		{ TR_CODE_BUSY, TR_EBUSY },
	};

	if (code == NULL)
		return TR_EPROTO;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(code, map[i].code) == 0)
			return map[i].err;
	return TR_EPROTO;
}

/* The TR_E* code of an ERROR message. */
int
link_error(struct link *l, json_object *env)
{
	json_object *e = NULL, *details = NULL;
	const char *code = NULL, *message = "", *when;
	char ccode[40], cmsg[256], cwhen[40], extra[96];
	int64_t v;

	l->retry_after_ms = 0;
	if (msg_get_obj(msg_payload(env), "error", &e) != 0 ||
	    msg_get_str(e, "code", &code) != 0) {
		link_seterr(l, "the hub sent a malformed ERROR");
		return TR_EPROTO;
	}
	msg_get_str(e, "message", &message);
	msg_get_obj(e, "details", &details);
	extra[0] = '\0';
	if (strcmp(code, TR_CODE_BUSY) == 0) {
		if (msg_get_int(details, "retry_after_ms", &v) == 0 && v > 0)
			l->retry_after_ms = v < LINK_BUSY_MAX_MS ? v :
			    LINK_BUSY_MAX_MS;
		snprintf(extra, sizeof(extra), " (retry after %lld ms)",
		    (long long)l->retry_after_ms);
	} else if (strcmp(code, TR_CODE_CLOCK_SKEW) == 0 &&
	    msg_get_str(details, "hub_time", &when) == 0) {
		link_sanitize(when, cwhen, sizeof(cwhen));
		snprintf(extra, sizeof(extra), " (hub time %s)", cwhen);
	} else if (strcmp(code, TR_CODE_TOO_LARGE) == 0 &&
	    msg_get_int(details, "max", &v) == 0)
		snprintf(extra, sizeof(extra), " (max %lld)", (long long)v);
	link_sanitize(code, ccode, sizeof(ccode));
	link_sanitize(message, cmsg, sizeof(cmsg));
	link_seterr(l, "hub: %s%s%s%s", ccode, *cmsg != '\0' ? ": " : "",
	    cmsg, extra);
	return link_code_err(code);
}

/* Non-zero when the array ARR holds the string S. */
static int
link_array_has(json_object *arr, const char *s)
{
	size_t n = json_object_array_length(arr);

	for (size_t i = 0; i < n; i++) {
		json_object *v = json_object_array_get_idx(arr, i);

		if (json_object_is_type(v, json_type_string) &&
		    strcmp(json_object_get_string(v), s) == 0)
			return 1;
	}
	return 0;
}

/* An integer member of P in MIN..MAX into *OUT. */
static int
link_get_range(json_object *p, const char *key, int64_t min, int64_t max,
    int64_t *out)
{
	if (msg_get_int(p, key, out) != 0 || *out < min || *out > max)
		return TR_EPROTO;
	return 0;
}

/* Read AUTH_RESPONSE's payload P into L. */
static int
link_take_response(struct link *l, json_object *p)
{
	json_object *roles;
	const char *s, *what;
	int64_t v;
	size_t n;

	what = "status";
	if (msg_get_str(p, "status", &s) != 0 || strcmp(s, "ok") != 0)
		goto bad;
	what = "session_id";
	if (msg_get_str(p, "session_id", &s) != 0 || !msg_valid_uuid(s))
		goto bad;
	snprintf(l->session_id, sizeof(l->session_id), "%s", s);
	what = "session_token";
	if (msg_get_hex(p, "session_token", l->session_token,
	    TR_TOKEN_LEN) != 0)
		goto bad;
	what = "expires_at";
	if (msg_get_str(p, "expires_at", &s) != 0 ||
	    msg_parse_time(s, &l->expires_ms) != 0)
		goto bad;
	what = "roles";
	if (msg_get_array(p, "roles", &roles) != 0 ||
	    (n = json_object_array_length(roles)) > LINK_MAX_ROLES)
		goto bad;
	for (size_t i = 0; i < n; i++) {
		json_object *r = json_object_array_get_idx(roles, i);

		if (!json_object_is_type(r, json_type_string) ||
		    json_object_get_string_len(r) < 1 ||
		    json_object_get_string_len(r) > LINK_ROLE_MAX ||
		    strchr(json_object_get_string(r), ',') != NULL)
			goto bad;
		snprintf(l->roles[i], sizeof(l->roles[i]), "%s",
		    json_object_get_string(r));
	}
	l->nroles = (int)n;
	what = "rotate_every";
	if (link_get_range(p, "rotate_every", 1, UINT32_MAX, &v) != 0)
		goto bad;
	l->rotate_every = (uint32_t)v;
	what = "max_message_size";
	if (link_get_range(p, "max_message_size", 4096, 268435456, &v) != 0)
		goto bad;
	l->max_message_size = (uint32_t)v;
	what = "max_batch";
	if (link_get_range(p, "max_batch", 1, 1000000, &v) != 0)
		goto bad;
	l->max_batch = (int)v;
	what = "heartbeat_interval";
	if (link_get_range(p, "heartbeat_interval", 1, 86400, &v) != 0)
		goto bad;
	l->heartbeat_interval = (int)v;
	what = "chunk_size";
	if (link_get_range(p, "chunk_size", 1, UINT32_MAX, &v) != 0)
		goto bad;
	l->chunk_size = (uint32_t)v;
	return 0;
bad:
	link_seterr(l, "login: AUTH_RESPONSE has a missing or invalid %s",
	    what);
	return TR_EPROTO;
}

/* The login of section 6 on an established TLS connection; with SESS, by its token. */
static int
link_login(struct link *l, const struct link_session *sess)
{
	const struct link_creds *cr = l->creds;
	uint8_t nh[TR_NONCE_LEN], nc[TR_NONCE_LEN], e[TR_KEY_LEN];
	uint8_t proof[TR_MAC_LEN], want[TR_MAC_LEN], got[TR_MAC_LEN];
	uint8_t root[TR_KEY_LEN], conn_key[TR_KEY_LEN], mk[TR_KEY_LEN];
	char hex[2 * TR_KEY_LEN + 1], reqid[TR_UUID_LEN + 1];
	const char *method = sess != NULL ? "token" :
	    cr->method == LINK_PSK ? "psk" : "certificate";
	const uint8_t *sign_key;
	json_object *env = NULL, *p, *methods, *payload = NULL;
	const char *s, *hub_id;
	int rc;

	if ((rc = tls_exporter(l->ssl, e)) != 0) {
		link_seterr(l, "TLS exporter failed");
		goto out;
	}
	conn_init(&l->c, l->fd, l->ssl, TR_DEF_MAX_MESSAGE, 0, cr->node_id,
	    cr->node_name[0] != '\0' ? cr->node_name : NULL);

	/* 1: AUTH_CHALLENGE (or a BUSY), signed with the site key. */
	if ((rc = link_recv_plain(l, "AUTH_CHALLENGE", &env)) != 0)
		goto out;
	if (msg_verify(env, cr->site_key, TR_KEY_LEN) != 0) {
		link_seterr(l, "login: the hub's %s is not signed with the "
		    "site key of the credentials", msg_type(env));
		rc = TR_ESIG;
		goto out;
	}
	if (strcmp(msg_type(env), TR_MSG_ERROR) == 0) {
		rc = link_error(l, env);
		goto out;
	}
	p = msg_payload(env);
	if (strcmp(msg_type(env), TR_MSG_AUTH_CHALLENGE) != 0 ||
	    msg_get_hex(p, "nonce", nh, sizeof(nh)) != 0 ||
	    msg_get_str(p, "hub_id", &hub_id) != 0 || !msg_valid_id(hub_id) ||
	    strcmp(hub_id, msg_source_id(env)) != 0 ||
	    msg_get_array(p, "methods", &methods) != 0) {
		link_seterr(l, "login: expected a well-formed AUTH_CHALLENGE, "
		    "got %s", msg_type(env));
		rc = TR_EPROTO;
		goto out;
	}
	if (!link_array_has(methods, method)) {
		link_seterr(l, "login: the hub does not offer the %s method",
		    method);
		rc = TR_EACCES;
		goto out;
	}
	snprintf(l->hub_id, sizeof(l->hub_id), "%s", hub_id);

	/* 2: AUTH_REQUEST. */
	if ((rc = kdf_random(nc, sizeof(nc))) != 0 ||
	    (payload = json_object_new_object()) == NULL) {
		rc = rc != 0 ? rc : TR_ENOMEM;
		goto out;
	}
	json_object_object_add(payload, "method",
	    json_object_new_string(method));
	json_object_object_add(payload, "node_id",
	    json_object_new_string(cr->node_id));
	hex_encode(nc, sizeof(nc), hex);
	json_object_object_add(payload, "nonce", json_object_new_string(hex));
	hex_encode(nh, sizeof(nh), hex);
	json_object_object_add(payload, "challenge",
	    json_object_new_string(hex));
	if (sess != NULL) {
		if ((rc = kdf_token_proof(sess->root, nh, nc, e, proof)) != 0)
			goto out;
		hex_encode(proof, sizeof(proof), hex);
		json_object_object_add(payload, "proof",
		    json_object_new_string(hex));
		hex_encode(sess->token, sizeof(sess->token), hex);
		json_object_object_add(payload, "session_token",
		    json_object_new_string(hex));
		sign_key = sess->root;
	} else if (cr->method == LINK_PSK) {
		if ((rc = kdf_client_proof(cr->node_key, nh, nc, e,
		    proof)) != 0)
			goto out;
		hex_encode(proof, sizeof(proof), hex);
		json_object_object_add(payload, "proof",
		    json_object_new_string(hex));
		sign_key = cr->node_key;
	} else
		sign_key = cr->site_key;
	rc = conn_send_msg(&l->c, TR_MSG_AUTH_REQUEST, msg_id(env), payload,
	    sign_key, TR_KEY_LEN, reqid);
	payload = NULL;
	if (rc != 0) {
		link_seterr(l, "login: sending AUTH_REQUEST: %s",
		    tr_strerror(rc));
		goto out;
	}
	json_object_put(env);
	env = NULL;

	/* Keys of the connection; a token login keeps the session's root. */
	if (sess != NULL) {
		memcpy(root, sess->root, TR_KEY_LEN);
		rc = 0;
	} else if (cr->method == LINK_PSK)
		rc = kdf_session_root_psk(cr->node_key, nh, nc, root);
	else
		rc = kdf_session_root_cert(e, nh, nc, root);
	if (rc != 0 || (rc = kdf_conn_key(root, nh, nc, e, conn_key)) != 0 ||
	    (rc = kdf_msg_key(conn_key, TR_DIR_H2C, 0, 1, mk)) != 0)
		goto out;

	/* 3: AUTH_RESPONSE, the hub's n = 0, or an ERROR with the site key. */
	if ((rc = link_recv_plain(l, "AUTH_RESPONSE", &env)) != 0)
		goto out;
	if (strcmp(msg_type(env), TR_MSG_ERROR) == 0) {
		if (msg_verify(env, cr->site_key, TR_KEY_LEN) != 0) {
			link_seterr(l, "login: the hub's ERROR is not signed "
			    "with the site key");
			rc = TR_ESIG;
		} else
			rc = link_error(l, env);
		goto out;
	}
	if (strcmp(msg_type(env), TR_MSG_AUTH_RESPONSE) != 0) {
		link_seterr(l, "login: expected AUTH_RESPONSE, got %s",
		    msg_type(env));
		rc = TR_EPROTO;
		goto out;
	}
	if (msg_verify(env, mk, sizeof(mk)) != 0) {
		link_seterr(l, "login: AUTH_RESPONSE does not verify with "
		    "the connection's key");
		rc = TR_ESIG;
		goto out;
	}
	p = msg_payload(env);
	if ((s = msg_in_reply_to(env)) == NULL || strcmp(s, reqid) != 0 ||
	    strcmp(msg_source_id(env), l->hub_id) != 0) {
		link_seterr(l, "login: AUTH_RESPONSE does not answer our "
		    "AUTH_REQUEST");
		rc = TR_EPROTO;
		goto out;
	}
	/* Mutual authentication before anything else is sent. */
	if (sess == NULL && cr->method == LINK_PSK)
		rc = kdf_hub_proof(cr->node_key, nh, nc, e, want);
	else
		rc = kdf_hub_proof(root, nh, nc, e, want);
	if (rc != 0)
		goto out;
	if (msg_get_hex(p, "hub_proof", got, sizeof(got)) != 0 ||
	    !kdf_ct_equal(want, got, sizeof(want))) {
		link_seterr(l, "login: the hub's proof does not verify: "
		    "not the hub of these credentials");
		rc = TR_ESIG;
		goto out;
	}
	if ((rc = link_take_response(l, p)) != 0)
		goto out;
	if (sess != NULL && strcmp(l->session_id, sess->session_id) != 0) {
		link_seterr(l, "login: the hub answered the token login with "
		    "another session");
		rc = TR_EPROTO;
		goto out;
	}
	conn_set_keys(&l->c, conn_key, TR_DIR_C2H, l->rotate_every);
	l->c.rx.n = 1;		/* AUTH_RESPONSE was n = 0 */
	l->c.limits.max_json = l->max_message_size;
	memcpy(l->session_root, root, TR_KEY_LEN);
	memcpy(l->conn_key, conn_key, TR_KEY_LEN);
	l->authed = 1;
	log_debug("logged in to hub %s as %s (%s), session %s", l->hub_id,
	    cr->node_id, method, l->session_id);
out:
	json_object_put(payload);
	json_object_put(env);
	kdf_cleanse(e, sizeof(e));
	kdf_cleanse(root, sizeof(root));
	kdf_cleanse(conn_key, sizeof(conn_key));
	kdf_cleanse(mk, sizeof(mk));
	kdf_cleanse(proof, sizeof(proof));
	return rc;
}

/* One connection and login attempt, by token with SESS. */
static int
link_attempt(struct link *l, const struct link_creds *cr,
    const struct link_target *t, const struct link_session *sess)
{
	int rc;

	memset(l, 0, sizeof(*l));
	l->fd = -1;
	l->creds = cr;
	if (t == NULL || t->host == NULL || t->port == 0) {
		link_seterr(l, "no hub address");
		return TR_EINVAL;
	}
	if ((rc = link_tcp(l, t)) != 0 || (rc = link_tls(l)) != 0 ||
	    (rc = link_login(l, sess)) != 0) {
		char keep[LINK_ERR_LEN];
		int64_t retry = l->retry_after_ms;

		memcpy(keep, l->err, sizeof(keep));
		link_close(l);
		memcpy(l->err, keep, sizeof(keep));
		l->retry_after_ms = retry;
		return rc;
	}
	return 0;
}

/* One connection and login attempt. */
int
link_open_once(struct link *l, const struct link_creds *cr,
    const struct link_target *t)
{
	return link_attempt(l, cr, t, NULL);
}

/* One connection and login attempt with the token of session S. */
int
link_open_token_once(struct link *l, const struct link_creds *cr,
    const struct link_target *t, const struct link_session *s)
{
	return link_attempt(l, cr, t, s);
}

/* The session L logged in to. */
void
link_session_get(const struct link *l, struct link_session *s)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->session_id, sizeof(s->session_id), "%s", l->session_id);
	memcpy(s->token, l->session_token, sizeof(s->token));
	memcpy(s->root, l->session_root, sizeof(s->root));
	s->login_ms = msg_now_ms();
	s->expires_ms = l->expires_ms;
	s->heartbeat_interval = l->heartbeat_interval;
}

/* Non-zero when a failed attempt with RC may be tried again. */
static int
link_retryable(int rc)
{
	switch (rc) {
	case TR_ECLOSED:
	case TR_ETRUNC:
	case TR_EIO:
	case TR_ETIMEDOUT:
	case TR_EBUSY:
	case TR_ESYS:
		return 1;
	default:
		return 0;
	}
}

/* Sleep MS milliseconds (signals do not cut it short). */
void
link_sleep_ms(int64_t ms)
{
	struct timespec ts, rem;

	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &rem) != 0 && errno == EINTR)
		ts = rem;
}

/* The delay before retry ATTEMPT (0-based): FIRST_MS doubling up to MAX_MS, +-20% jitter. */
int64_t
link_backoff(int64_t first_ms, int attempt, int64_t max_ms)
{
	int64_t base = first_ms;
	uint32_t r = 0;

	for (int i = 0; i < attempt && base < max_ms; i++)
		base *= 2;
	if (base > max_ms)
		base = max_ms;

	kdf_random(&r, sizeof(r));
	/* A factor in [0.8, 1.2]. */
	return base * 80 / 100 + (int64_t)(r % (uint32_t)(base * 40 / 100 + 1));
}

/* Connect and log in with the retries of section 11. */
int
link_open(struct link *l, const struct link_creds *cr,
    const struct link_target *t)
{
	int64_t delay;
	int rc, attempt;

	for (attempt = 0;; attempt++) {
		if ((rc = link_open_once(l, cr, t)) == 0)
			return 0;
		if (!link_retryable(rc) || attempt == LINK_RETRIES)
			break;
		delay = link_backoff(LINK_BACKOFF_MS, attempt, INT64_MAX / 4);
		if (rc == TR_EBUSY && l->retry_after_ms > delay)
			delay = l->retry_after_ms;
		log_debug("connecting to the hub failed (%s), retrying in "
		    "%lld ms", l->err, (long long)delay);
		link_sleep_ms(delay);
	}
	if (attempt > 0) {
		size_t len = strlen(l->err);

		snprintf(l->err + len, sizeof(l->err) - len,
		    " (after %d retries)", attempt);
	}
	return rc;
}

/* Send a message of TYPE. */
int
link_send(struct link *l, const char *type, const char *in_reply_to,
    json_object *payload, char *msgid)
{
	int rc;

	if (!l->authed) {
		json_object_put(payload);
		link_seterr(l, "not logged in");
		return TR_EINVAL;
	}
	rc = conn_send_msg(&l->c, type, in_reply_to, payload, NULL, 0, msgid);
	if (rc != 0)
		link_seterr(l, "sending %s: %s", type, tr_strerror(rc));
	return rc;
}

/* Tell the hub (best effort) why this side closes. */
static void
link_complain(struct link *l, json_object *env, const char *code,
    const char *message, json_object *details)
{
	conn_send_error(&l->c, env != NULL ? msg_id(env) : NULL, code,
	    message, details, NULL, 0);
}

/* Check what conn_recv (or link_recv_frame) returned as RC: a verified message from the hub. */
static int
link_take(struct link *l, int rc, json_object **env, const uint8_t *rxkey,
    uint32_t max)
{
	json_object *d;

	switch (rc) {
	case 0:
		break;
	case TR_ECLOSED:
	case TR_ETRUNC:
	case TR_EIO:
	case TR_ETIMEDOUT:
	case TR_ETLS:
		link_seterr(l, "receiving from the hub: %s", tr_strerror(rc));
		goto out;
	case TR_ETOOBIG:
		if ((d = json_object_new_object()) != NULL)
			json_object_object_add(d, "max",
			    json_object_new_int64(max));
		link_complain(l, NULL, TR_CODE_TOO_LARGE, "frame too large",
		    d);
		link_seterr(l, "the hub sent a frame over %u bytes",
		    (unsigned)max);
		goto out;
	case TR_EVERSION:
		link_complain(l, *env, TR_CODE_UNSUPPORTED_VERSION,
		    "unsupported protocol version", NULL);
		link_seterr(l, "the hub speaks another protocol version");
		goto out;
	default:
		link_complain(l, *env, TR_CODE_INVALID_REQUEST,
		    tr_strerror(rc), NULL);
		link_seterr(l, "the hub sent a bad message: %s",
		    tr_strerror(rc));
		rc = TR_EPROTO;
		goto out;
	}
	if (msg_verify(*env, rxkey, TR_KEY_LEN) != 0) {
		link_complain(l, *env, TR_CODE_ACCESS_DENIED, "bad signature",
		    NULL);
		link_seterr(l, "the hub's %s has a bad signature",
		    msg_type(*env));
		rc = TR_ESIG;
		goto out;
	}
	if (strcmp(msg_source_id(*env), l->hub_id) != 0) {
		link_seterr(l, "a message claims to come from %s, not the hub",
		    msg_source_id(*env));
		rc = TR_EPROTO;
		goto out;
	}
out:
	if (rc != 0) {
		json_object_put(*env);
		*env = NULL;
	}
	return rc;
}

/* Receive the next verified message from the hub. */
int
link_recv(struct link *l, json_object **env)
{
	uint8_t rxkey[TR_KEY_LEN];
	uint32_t max = 0;
	int rc;

	*env = NULL;
	if (!l->authed) {
		link_seterr(l, "not logged in");
		return TR_EINVAL;
	}
	rc = conn_recv(&l->c, env, rxkey, &max);
	rc = link_take(l, rc, env, rxkey, max);
	kdf_cleanse(rxkey, sizeof(rxkey));
	return rc;
}

/* Receive a 'C' body into CBUF or a verified 'J' message into *ENV. */
int
link_recv_frame(struct link *l, uint8_t *cbuf, size_t cap, uint32_t *clen,
    json_object **env)
{
	uint8_t rxkey[TR_KEY_LEN];
	char *body = NULL;
	uint32_t len = 0, max = 0;
	uint8_t type = 0;
	int rc;

	*env = NULL;
	*clen = 0;
	if (!l->authed) {
		link_seterr(l, "not logged in");
		return TR_EINVAL;
	}
	rc = frame_read_header(&l->c.fc, &l->c.limits, &type, &len, &max);
	if (rc == TR_EFRAMETYPE) {
		link_complain(l, NULL, TR_CODE_INVALID_REQUEST,
		    "unexpected frame type", NULL);
		link_seterr(l, "the hub sent a frame of type 0x%02x here",
		    (unsigned)type);
		return TR_EPROTO;
	}
	if (rc == 0 && type == TR_FRAME_CHUNK) {
		if (len > cap) {
			link_seterr(l, "a chunk of %u bytes does not fit",
			    (unsigned)len);
			return TR_ETOOBIG;
		}
		if ((rc = frame_read_full(&l->c.fc, cbuf, len)) == 0) {
			*clen = len;
			return 0;
		}
		if (rc == TR_ECLOSED)
			rc = TR_ETRUNC;
		return link_take(l, rc, env, NULL, 0);
	}
	if (rc == 0) {
		if ((body = malloc((size_t)len + 1)) == NULL)
			return TR_ENOMEM;
		if ((rc = frame_read_full(&l->c.fc, body, len)) == TR_ECLOSED)
			rc = TR_ETRUNC;
		if (rc == 0)
			rc = kdf_msgkey_next(&l->c.rx, rxkey);
		if (rc == 0)
			rc = msg_parse(body, len, env);
		free(body);
	}
	rc = link_take(l, rc, env, rxkey, max);
	kdf_cleanse(rxkey, sizeof(rxkey));
	return rc;
}

/* Block SIGPIPE in this thread while the network is used. */
void
link_sigpipe_block(struct link_sigpipe *sp)
{
	sigset_t set, pending;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	sigemptyset(&pending);
	sigpending(&pending);
	sp->was_pending = sigismember(&pending, SIGPIPE) == 1;
	pthread_sigmask(SIG_BLOCK, &set, &sp->old);
}

/* Drop a SIGPIPE raised meanwhile and restore the signal mask. */
void
link_sigpipe_restore(struct link_sigpipe *sp)
{
	struct timespec zero = { 0, 0 };
	sigset_t set, pending;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	sigemptyset(&pending);
	sigpending(&pending);
	if (!sp->was_pending && sigismember(&pending, SIGPIPE) == 1)
		while (sigtimedwait(&set, NULL, &zero) < 0 && errno == EINTR)
			;
	pthread_sigmask(SIG_SETMASK, &sp->old, NULL);
}

/* Close L (close_notify first). */
void
link_close(struct link *l)
{
	if (l == NULL)
		return;
	tls_close(l->ssl);
	l->ssl = NULL;
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
	SSL_CTX_free(l->ctx);
	l->ctx = NULL;
	conn_clear(&l->c);
	kdf_cleanse(l->session_token, sizeof(l->session_token));
	kdf_cleanse(l->session_root, sizeof(l->session_root));
	kdf_cleanse(l->conn_key, sizeof(l->conn_key));
	l->authed = 0;
}
