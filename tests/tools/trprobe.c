/*
 * trprobe: a scriptable test client of the hub's login exchange and sync,
 * written from PROTOCOL.md alone, that can also misbehave on purpose.  It
 * prints one line per event ("challenge ok", "login ok ...", "error CODE
 * ...", "data batch=...", "result {...}", "closed", ...) for the
 * integration tests to check, and exits 0 when the scenario ran (whatever
 * the hub answered) or 1 when the probe itself failed.
 *
 * Sync (after login):
 *   --pull COLLS      pull COLLS (comma-separated; "*" omits the member)
 *                     with --since N, --batch-size N, --window N; prints
 *                     each SYNC_DATA ("data ..." and one "record JCS" line
 *                     per record), acks each batch, prints "complete ...".
 *   --push FILE       push the records of FILE (JSON Lines, pushed form) in
 *                     batches of --batch-size (default 100) to --collections
 *                     (default: those the records name); prints "result
 *                     JCS" per record and "push-complete JCS".
 *   --sync-fault F    misbehave: ack-wrong-last-seq, ack-unsent,
 *                     ack-other-sync, ack-bad-reply, second-request,
 *                     data-in-pull, hold-window (pull); batch-1-first,
 *                     complete-wrong-batches, data-without-push,
 *                     ack-in-push (push).
 *   --ack-delay S     sleep S seconds before the first ack of a pull.
 *   --then-request    after the sync, send a new pull SYNC_REQUEST.
 *   --send TYPE --payload JSON   send one message with that payload.
 *
 * File channel (after a token login on the file port):
 *   --put FILE        put FILE (--chunk-size N, --offset N); prints
 *                     "ready ...", then "complete status=S" or the error.
 *   --get SHA256 --output PATH   get a blob from --offset; prints "ready
 *                     ...", "got size=N sha256=HEX" and sends
 *                     TRANSFER_COMPLETE.  Both may be given: put first.
 *   --xfer-fault F    flip-ct, flip-tag, flip-index, flip-last (in the
 *                     first chunk sent), die-after:N (exit without a word
 *                     after N chunks of a put or a get), wrong-sha (claim
 *                     another sha256), wrong-size (claim one byte more),
 *                     huge-size (claim 2^40 bytes), skip-first (an
 *                     authentic chunk with the next index), short-chunk
 *                     (a first chunk one byte short), json-frame (a 'J'
 *                     frame instead of the first chunk).
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <openssl/evp.h>

#include "chunk.h"
#include "conn.h"
#include "err.h"
#include "frame.h"
#include "hex.h"
#include "jcs.h"
#include "kdf.h"
#include "msg.h"
#include "tls.h"
#include "trosyn-protocol.h"

struct probe {
	const char *host;
	int port;
	const char *creds_path;
	const char *method;
	const char *session_in;
	const char *session_out;
	const char *fault;
	const char *send_type;
	int tls12;
	int idle;
	int connect_only;
	double hold;
	int rotate_test;
	const char *payload;

	/* sync */
	const char *pull;
	const char *push;
	const char *collections;
	const char *sync_fault;
	int64_t since;
	int batch_size;
	int window;
	double ack_delay;
	int then_request;

	/* file channel */
	const char *put_path;
	const char *get_sha;
	const char *output;
	const char *xfer_fault;
	int64_t chunk_size;
	int64_t offset;
	uint8_t conn_key[TR_KEY_LEN];

	/* from the credentials file */
	json_object *creds;
	const char *node_id;
	uint8_t site_key[TR_KEY_LEN];
	uint8_t node_key[TR_KEY_LEN];
	int has_node_key;
	const char *pin;
	const char *cert_pem, *key_pem, *ca_pem;

	/* token login */
	uint8_t token[TR_TOKEN_LEN];
	uint8_t root[TR_KEY_LEN];

	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
	struct conn c;
	uint8_t exporter[TR_KEY_LEN];
};

/* Print an event line and flush (the tests read it as it comes). */
static void
say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void
say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* Fail the probe itself. */
static void
die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void
die(const char *fmt, ...)
{
	va_list ap;

	fputs("trprobe: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* A string member of the credentials, or NULL. */
static const char *
cred_str(struct probe *p, const char *key)
{
	const char *s;

	return msg_get_str(p->creds, key, &s) == 0 ? s : NULL;
}

/* Load the credentials file. */
static void
load_creds(struct probe *p)
{
	const char *s;

	if ((p->creds = json_object_from_file(p->creds_path)) == NULL)
		die("cannot read %s", p->creds_path);
	p->node_id = cred_str(p, "node_id");
	p->pin = cred_str(p, "hub_cert_sha256");
	if (p->node_id == NULL || p->pin == NULL ||
	    (s = cred_str(p, "site_key")) == NULL ||
	    hex_decode(s, strlen(s), p->site_key, TR_KEY_LEN) != 0)
		die("%s: incomplete credentials", p->creds_path);
	if ((s = cred_str(p, "node_key")) != NULL) {
		if (hex_decode(s, strlen(s), p->node_key, TR_KEY_LEN) != 0)
			die("bad node_key");
		p->has_node_key = 1;
	}
	p->cert_pem = cred_str(p, "cert_pem");
	p->key_pem = cred_str(p, "key_pem");
	p->ca_pem = cred_str(p, "ca_pem");
	if (p->method == NULL)
		p->method = cred_str(p, "method");
}

/* Load a saved session for a token login. */
static void
load_session(struct probe *p)
{
	json_object *s = json_object_from_file(p->session_in);
	const char *tok, *root;

	if (s == NULL || msg_get_str(s, "session_token", &tok) != 0 ||
	    msg_get_str(s, "session_root", &root) != 0 ||
	    hex_decode(tok, strlen(tok), p->token, TR_TOKEN_LEN) != 0 ||
	    hex_decode(root, strlen(root), p->root, TR_KEY_LEN) != 0)
		die("%s: not a saved session", p->session_in);
	json_object_put(s);
}

/* TCP connect with 10 s timeouts. */
static void
tcp_connect(struct probe *p)
{
	struct sockaddr_in sin;
	struct timeval tv = { 10, 0 };

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)p->port);
	if (inet_pton(AF_INET, p->host, &sin.sin_addr) != 1)
		die("bad host %s", p->host);
	if ((p->fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		die("socket: %s", strerror(errno));
	setsockopt(p->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(p->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(p->fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		say("connect-failed %s", strerror(errno));
		exit(0);
	}
}

/* A TLS 1.2-only handshake, which the hub must refuse. */
static void
tls12_attempt(struct probe *p)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl;

	SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
	SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, p->fd);
	if (SSL_connect(ssl) == 1)
		say("tls-ok version=%s", SSL_get_version(ssl));
	else
		say("tls-failed");
	SSL_free(ssl);
	SSL_CTX_free(ctx);
}

/* Set the socket read timeout to MS. */
static void
set_rcvtimeo(int fd, long ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

/* Print an ERROR message's code and details. */
static void
say_error(json_object *env)
{
	json_object *err = NULL, *details = NULL;
	const char *code = "?", *reply = msg_in_reply_to(env), *message = "";

	msg_get_obj(msg_payload(env), "error", &err);
	if (err != NULL) {
		msg_get_str(err, "code", &code);
		msg_get_obj(err, "details", &details);
		msg_get_str(err, "message", &message);
	}
	say("error %s in_reply_to=%s details=%s message=%s", code,
	    reply != NULL ? reply : "none",
	    details != NULL ? json_object_to_json_string_ext(details,
	    JSON_C_TO_STRING_PLAIN) : "none", message);
}

/* Wait up to MS for the hub to close; print "closed" or "open". */
static void
check_closed(struct probe *p, long ms)
{
	json_object *env = NULL;
	uint8_t rxkey[TR_KEY_LEN];
	long long t0 = 0;
	struct timespec ts;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	t0 = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	set_rcvtimeo(p->fd, ms);
	rc = conn_recv(&p->c, &env, rxkey, NULL);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (rc == TR_ETIMEDOUT)
		say("open");
	else if (rc == 0 && env != NULL && strcmp(msg_type(env), "ERROR") == 0) {
		say_error(env);
		json_object_put(env);
		check_closed(p, ms);
		return;
	} else
		say("closed after_ms=%lld",
		    (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 - t0);
	json_object_put(env);
}

/* Read the next message (pre-login: verified with KEY) and print it when it is an ERROR. */
static json_object *
recv_msg(struct probe *p, const uint8_t *key, int *verified)
{
	uint8_t rxkey[TR_KEY_LEN];
	json_object *env = NULL;
	int rc = conn_recv(&p->c, &env, rxkey, NULL);

	if (rc != 0) {
		if (rc == TR_ETIMEDOUT)
			say("no-reply");
		else
			say(rc == TR_ECLOSED || rc == TR_ETRUNC ||
			    rc == TR_EIO ? "closed" : "recv-failed %s",
			    tr_strerror(rc));
		json_object_put(env);
		return NULL;
	}
	*verified = msg_verify(env, p->c.keyed ? rxkey : key, TR_KEY_LEN) == 0;
	return env;
}

/* Replace member KEY of OBJ with a string. */
static void
set_str(json_object *obj, const char *key, const char *val)
{
	json_object_object_add(obj, key, json_object_new_string(val));
}

/* Do the login; returns 1 on success. */
static int
login(struct probe *p)
{
	uint8_t nh[TR_NONCE_LEN], nc[TR_NONCE_LEN], proof[TR_MAC_LEN];
	uint8_t root[TR_KEY_LEN], want[TR_MAC_LEN], got[TR_MAC_LEN];
	uint8_t conn_key[TR_KEY_LEN], sign_key[TR_KEY_LEN];
	char hex[2 * TR_KEY_LEN + 1], stamp[32];
	const char *fault = p->fault != NULL ? p->fault : "";
	json_object *env, *payload, *req;
	int verified;

	/* The challenge. */
	if ((env = recv_msg(p, p->site_key, &verified)) == NULL)
		return 0;
	if (strcmp(msg_type(env), TR_MSG_ERROR) == 0) {
		say_error(env);
		say("signed=%s", verified ? "yes" : "no");
		json_object_put(env);
		return 0;
	}
	if (strcmp(msg_type(env), TR_MSG_AUTH_CHALLENGE) != 0 || !verified ||
	    msg_get_hex(msg_payload(env), "nonce", nh, sizeof(nh)) != 0) {
		say("bad-challenge");
		json_object_put(env);
		return 0;
	}
	{
		json_object *m = NULL;

		msg_get_array(msg_payload(env), "methods", &m);
		say("challenge ok methods=%s", m != NULL ?
		    json_object_to_json_string_ext(m, JSON_C_TO_STRING_PLAIN) :
		    "none");
	}
	json_object_put(env);
	if (p->idle) {
		check_closed(p, 60000);
		return 0;
	}

	/* Misbehaviour before the AUTH_REQUEST. */
	if (strcmp(fault, "no-auth") == 0) {
		conn_send_msg(&p->c, TR_MSG_SYNC_REQUEST, NULL, NULL,
		    p->site_key, TR_KEY_LEN, NULL);
		check_closed(p, 5000);
		return 0;
	}
	if (strcmp(fault, "garbage-frame") == 0) {
		static const uint8_t junk[] = { 0x99, 0, 0, 0, 3, 'a', 'b', 'c' };

		frame_write_full(&p->c.fc, junk, sizeof(junk));
		check_closed(p, 5000);
		return 0;
	}
	if (strcmp(fault, "garbage-json") == 0) {
		frame_write(&p->c.fc, TR_FRAME_JSON, "{\"a\":1,\"a\":2}", 13);
		check_closed(p, 5000);
		return 0;
	}
	if (strcmp(fault, "oversize") == 0) {
		uint8_t hdr[TR_FRAME_HDR_LEN];

		frame_build_header(hdr, TR_FRAME_JSON, 64 * 1024 * 1024);
		frame_write_full(&p->c.fc, hdr, sizeof(hdr));
		check_closed(p, 5000);
		return 0;
	}

	/* The AUTH_REQUEST. */
	kdf_random(nc, sizeof(nc));
	if (strcmp(fault, "wrong-challenge") == 0)
		nh[0] ^= 1;
	payload = json_object_new_object();
	set_str(payload, "method", p->method);
	set_str(payload, "node_id", strcmp(fault, "unknown-node") == 0 ?
	    "ghost-node" : p->node_id);
	hex_encode(nc, sizeof(nc), hex);
	if (strcmp(fault, "uppercase-hex") == 0)
		for (char *c = hex; *c != '\0'; c++)
			if (*c >= 'a' && *c <= 'f')
				*c = (char)(*c - 'a' + 'A');
	set_str(payload, "nonce", hex);
	hex_encode(nh, sizeof(nh), hex);
	set_str(payload, "challenge", hex);
	if (strcmp(fault, "wrong-challenge") == 0)
		nh[0] ^= 1;
	if (strcmp(p->method, "psk") == 0) {
		memcpy(sign_key, p->node_key, TR_KEY_LEN);
		kdf_client_proof(p->node_key, nh, nc, p->exporter, proof);
	} else if (strcmp(p->method, "token") == 0) {
		memcpy(sign_key, p->root, TR_KEY_LEN);
		kdf_token_proof(p->root, nh, nc, p->exporter, proof);
		hex_encode(p->token, TR_TOKEN_LEN, hex);
		set_str(payload, "session_token", hex);
	} else
		memcpy(sign_key, p->site_key, TR_KEY_LEN);
	if (strcmp(p->method, "certificate") != 0) {
		if (strcmp(fault, "wrong-proof") == 0)
			proof[5] ^= 0x40;
		hex_encode(proof, sizeof(proof), hex);
		set_str(payload, "proof", hex);
	}
	req = msg_new(TR_MSG_AUTH_REQUEST, strcmp(fault, "wrong-source") == 0 ?
	    "someone-else" : p->node_id, NULL, NULL, payload);
	if (strcmp(fault, "skew") == 0) {
		msg_format_time(msg_now_ms() - 3600 * 1000, stamp, sizeof(stamp));
		set_str(req, "timestamp", stamp);
	}
	if (strcmp(fault, "bad-version") == 0)
		set_str(req, "version", "2.0");
	if (strcmp(fault, "bad-sig") == 0)
		sign_key[0] ^= 1;
	conn_send(&p->c, req, sign_key, TR_KEY_LEN);
	json_object_put(req);

	/* Keys of the connection, computed before the answer arrives. */
	if (strcmp(p->method, "psk") == 0)
		kdf_session_root_psk(p->node_key, nh, nc, root);
	else if (strcmp(p->method, "certificate") == 0)
		kdf_session_root_cert(p->exporter, nh, nc, root);
	else
		memcpy(root, p->root, TR_KEY_LEN);
	kdf_conn_key(root, nh, nc, p->exporter, conn_key);
	memcpy(p->conn_key, conn_key, TR_KEY_LEN);

	/* The answer: an ERROR signed with the site key, or AUTH_RESPONSE. */
	{
		char *body = NULL;
		size_t len;
		int rc = frame_read_json(&p->c.fc, &p->c.limits, &body, &len,
		    NULL);

		if (rc != 0) {
			say("closed before answer: %s", tr_strerror(rc));
			return 0;
		}
		rc = msg_parse(body, len, &env);
		free(body);
		if (rc != 0) {
			say("bad-answer %s", tr_strerror(rc));
			json_object_put(env);
			return 0;
		}
	}
	if (strcmp(msg_type(env), TR_MSG_ERROR) == 0) {
		say_error(env);
		say("signed=%s", msg_verify(env, p->site_key, TR_KEY_LEN) == 0 ?
		    "site_key" : "no");
		json_object_put(env);
		check_closed(p, 5000);
		return 0;
	}
	/* AUTH_RESPONSE is the hub's n = 0. */
	{
		int64_t rotate = TR_DEF_ROTATE_EVERY;
		uint8_t mk[TR_KEY_LEN];

		msg_get_int(msg_payload(env), "rotate_every", &rotate);
		kdf_msg_key(conn_key, TR_DIR_H2C, 0, (uint32_t)rotate, mk);
		if (strcmp(msg_type(env), TR_MSG_AUTH_RESPONSE) != 0 ||
		    msg_verify(env, mk, TR_KEY_LEN) != 0) {
			say("bad-response");
			json_object_put(env);
			return 0;
		}
		conn_set_keys(&p->c, conn_key, TR_DIR_C2H, (uint32_t)rotate);
		/* Our receive count already took n = 0. */
		p->c.rx.n = 1;
	}
	payload = msg_payload(env);
	if (msg_get_hex(payload, "hub_proof", got, sizeof(got)) != 0) {
		say("bad-response");
		json_object_put(env);
		return 0;
	}
	if (strcmp(p->method, "psk") == 0)
		kdf_hub_proof(p->node_key, nh, nc, p->exporter, want);
	else
		kdf_hub_proof(root, nh, nc, p->exporter, want);
	if (!kdf_ct_equal(want, got, sizeof(want))) {
		say("hub-proof-mismatch");
		json_object_put(env);
		return 0;
	}
	{
		const char *sid = "?", *exp = "?";
		json_object *roles = NULL;

		msg_get_str(payload, "session_id", &sid);
		msg_get_str(payload, "expires_at", &exp);
		msg_get_array(payload, "roles", &roles);
		say("login ok method=%s session=%s expires=%s roles=%s",
		    p->method, sid, exp, roles != NULL ?
		    json_object_to_json_string_ext(roles,
		    JSON_C_TO_STRING_PLAIN) : "none");
	}
	if (p->session_out != NULL) {
		json_object *s = json_object_new_object();
		const char *tok = NULL;

		msg_get_str(payload, "session_token", &tok);
		set_str(s, "session_token", tok != NULL ? tok : "");
		msg_get_str(payload, "session_id", &tok);
		set_str(s, "session_id", tok != NULL ? tok : "");
		set_str(s, "node_id", p->node_id);
		hex_encode(root, sizeof(root), hex);
		set_str(s, "session_root", hex);
		if (json_object_to_file_ext(p->session_out, s,
		    JSON_C_TO_STRING_PLAIN) != 0)
			die("cannot write %s", p->session_out);
		json_object_put(s);
	}
	json_object_put(env);
	return 1;
}

/* SHA-256 of LEN bytes of DATA as lowercase hex into HEX (65 bytes). */
static void
sha256_hex(const void *data, size_t len, char *hex)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int dl = 0;

	if (!EVP_Digest(data, len, d, &dl, EVP_sha256(), NULL))
		die("sha256");
	hex_encode(d, TR_HASH_LEN, hex);
}

/* Read the whole file PATH into a malloc'd buffer. */
static uint8_t *
read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0 ||
	    (buf = malloc(n > 0 ? (size_t)n : 1)) == NULL ||
	    (n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n))
		die("cannot read %s", path);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* Send a TRANSFER_REQUEST; the new transfer_id goes to ID. */
static void
xfer_request(struct probe *p, const char *op, const char *sha, int64_t size,
    char id[TR_UUID_LEN + 1], char *msgid)
{
	json_object *pl = json_object_new_object();

	msg_new_uuid(id);
	set_str(pl, "transfer_id", id);
	set_str(pl, "op", op);
	set_str(pl, "sha256", sha);
	if (size >= 0)
		json_object_object_add(pl, "size", json_object_new_int64(size));
	json_object_object_add(pl, "offset", json_object_new_int64(p->offset));
	json_object_object_add(pl, "chunk_size",
	    json_object_new_int64(p->chunk_size));
	conn_send_msg(&p->c, TR_MSG_TRANSFER_REQUEST, NULL, pl, NULL, 0, msgid);
}

/* Read TRANSFER_READY: 1 with its figures, 0 after printing what came instead. */
static int
xfer_ready(struct probe *p, int64_t *size, int64_t *chunk, int64_t *offset,
    int64_t *chunks)
{
	json_object *env;
	int verified;

	if ((env = recv_msg(p, NULL, &verified)) == NULL)
		return 0;
	if (strcmp(msg_type(env), TR_MSG_ERROR) == 0) {
		say_error(env);
		json_object_put(env);
		return 0;
	}
	if (!verified || strcmp(msg_type(env), TR_MSG_TRANSFER_READY) != 0 ||
	    msg_get_int(msg_payload(env), "size", size) != 0 ||
	    msg_get_int(msg_payload(env), "chunk_size", chunk) != 0 ||
	    msg_get_int(msg_payload(env), "offset", offset) != 0 ||
	    msg_get_int(msg_payload(env), "chunks", chunks) != 0) {
		say("unexpected %s", msg_type(env));
		json_object_put(env);
		return 0;
	}
	say("ready size=%" PRId64 " chunk_size=%" PRId64 " offset=%" PRId64
	    " chunks=%" PRId64, *size, *chunk, *offset, *chunks);
	json_object_put(env);
	return 1;
}

/* The number N of a die-after:N fault, or -1. */
static long
xfer_die_after(const struct probe *p)
{
	if (p->xfer_fault == NULL || strncmp(p->xfer_fault, "die-after:", 10))
		return -1;
	return atol(p->xfer_fault + 10);
}

/* Put P->put_path. */
static void
xfer_put(struct probe *p)
{
	char sha[2 * TR_HASH_LEN + 1], id[TR_UUID_LEN + 1], msgid[40];
	const char *fault = p->xfer_fault != NULL ? p->xfer_fault : "";
	uint8_t raw[TR_HASH_LEN], key[TR_KEY_LEN], *body;
	int64_t size, chunk, offset, chunks, sent = 0;
	struct chunk_ctx *cc = chunk_ctx_new();
	size_t len, blen;
	uint8_t *data = read_all(p->put_path, &len);
	json_object *env;
	int verified;

	sha256_hex(data, len, sha);
	if (strcmp(fault, "wrong-sha") == 0)
		sha[0] = sha[0] == '0' ? '1' : '0';
	xfer_request(p, "put", sha, strcmp(fault, "huge-size") == 0 ?
	    INT64_C(1) << 40 : (int64_t)len + (strcmp(fault, "wrong-size") == 0),
	    id, msgid);
	if (!xfer_ready(p, &size, &chunk, &offset, &chunks))
		goto out;
	hex_decode(sha, 2 * TR_HASH_LEN, raw, sizeof(raw));
	kdf_file_key(p->conn_key, raw, id, key);
	if ((body = malloc(chunk_body_len((size_t)chunk))) == NULL)
		die("out of memory");
	for (int64_t i = offset / chunk; i < chunks && !(size > 0 &&
	    offset == size); i++) {
		int64_t at = i * chunk;
		size_t n = size - at < chunk ? (size_t)(size - at) :
		    (size_t)chunk;
		int last = i == chunks - 1;

		if (at + (int64_t)n > (int64_t)len)
			n = at < (int64_t)len ? len - (size_t)at : 0;
		if (xfer_die_after(p) >= 0 && sent == xfer_die_after(p)) {
			say("dying after %" PRId64 " chunks", sent);
			_exit(0);
		}
		if (sent == 0 && strcmp(fault, "json-frame") == 0) {
			/* A message where the first chunk should be. */
			if (frame_write(&p->c.fc, TR_FRAME_JSON, "{}", 2) != 0)
				say("closed while sending");
			break;
		}
		if (sent == 0 && strcmp(fault, "short-chunk") == 0 && !last)
			n--;
		/* skip-first: an authentic chunk with the next index. */
		chunk_seal(cc, key, id, TR_DIR_C2H, (uint64_t)i + (sent == 0 &&
		    strcmp(fault, "skip-first") == 0),
		    strcmp(fault, "flip-last") == 0 && sent == 0 ? !last : last,
		    data + at, n, body, &blen);
		if (sent == 0 && strcmp(fault, "flip-ct") == 0 && blen > 24)
			body[TR_CHUNK_HDR_LEN] ^= 0x01;
		if (sent == 0 && strcmp(fault, "flip-tag") == 0)
			body[blen - 1] ^= 0x80;
		if (sent == 0 && strcmp(fault, "flip-index") == 0)
			body[TR_CHUNK_HDR_LEN - 1] ^= 0x01;
		if (frame_write(&p->c.fc, TR_FRAME_CHUNK, body,
		    (uint32_t)blen) != 0) {
			say("closed while sending");
			break;	/* the hub's ERROR may still be readable */
		}
		sent++;
	}
	free(body);
	say("sent %" PRId64 " chunks", sent);
	if ((env = recv_msg(p, NULL, &verified)) == NULL)
		goto out;
	if (strcmp(msg_type(env), TR_MSG_ERROR) == 0) {
		say_error(env);
		check_closed(p, 2000);
	} else {
		const char *status = "?";

		msg_get_str(msg_payload(env), "status", &status);
		say("complete status=%s sha256=%s verified=%d", status, sha,
		    verified);
	}
	json_object_put(env);
out:
	kdf_cleanse(key, sizeof(key));
	chunk_ctx_free(cc);
	free(data);
}

/* Get P->get_sha into P->output. */
static void
xfer_get(struct probe *p)
{
	char id[TR_UUID_LEN + 1], msgid[40], sha[2 * TR_HASH_LEN + 1];
	uint8_t raw[TR_HASH_LEN], key[TR_KEY_LEN], *body = NULL, *plain;
	int64_t size, chunk, offset, chunks, got = 0;
	struct chunk_ctx *cc = chunk_ctx_new();
	uint8_t *data = NULL;
	json_object *pl;
	FILE *f;

	xfer_request(p, "get", p->get_sha, -1, id, msgid);
	if (!xfer_ready(p, &size, &chunk, &offset, &chunks))
		goto out;
	hex_decode(p->get_sha, 2 * TR_HASH_LEN, raw, sizeof(raw));
	kdf_file_key(p->conn_key, raw, id, key);
	if ((data = calloc(1, size > 0 ? (size_t)size : 1)) == NULL ||
	    (body = malloc(chunk_body_len((size_t)chunk))) == NULL)
		die("out of memory");
	for (int64_t i = offset / chunk; i < chunks && !(size > 0 &&
	    offset == size); i++) {
		uint8_t type;
		uint32_t len;
		size_t plen;
		int rc;

		if (xfer_die_after(p) >= 0 && got == xfer_die_after(p)) {
			say("dying after %" PRId64 " chunks", got);
			_exit(0);
		}
		if (frame_read_header(&p->c.fc, &p->c.limits, &type, &len,
		    NULL) != 0 || type != TR_FRAME_CHUNK ||
		    frame_read_full(&p->c.fc, body, len) != 0) {
			say("bad chunk frame");
			goto out;
		}
		plain = data + i * chunk;
		if ((rc = chunk_open(cc, key, id, TR_DIR_H2C, (uint64_t)i,
		    i == chunks - 1, body, len, plain, &plen)) != 0) {
			say("chunk %" PRId64 " failed: %s", i, tr_strerror(rc));
			goto out;
		}
		got++;
	}
	sha256_hex(data, (size_t)size, sha);
	if ((f = fopen(p->output, "wb")) == NULL ||
	    fwrite(data, 1, (size_t)size, f) != (size_t)size || fclose(f) != 0)
		die("cannot write %s", p->output);
	say("got size=%" PRId64 " chunks=%" PRId64 " sha256=%s", size, got, sha);
	pl = json_object_new_object();
	set_str(pl, "transfer_id", id);
	set_str(pl, "sha256", sha);
	json_object_object_add(pl, "size", json_object_new_int64(size));
	set_str(pl, "status", strcmp(sha, p->get_sha) == 0 ? "ok" : "corrupt");
	conn_send_msg(&p->c, TR_MSG_TRANSFER_COMPLETE, msgid, pl, NULL, 0, NULL);
out:
	kdf_cleanse(key, sizeof(key));
	chunk_ctx_free(cc);
	free(body);
	free(data);
}

/* Parse the JSON text S or die. */
static json_object *
parse_json(const char *s)
{
	json_object *v = NULL;

	if (jcs_parse(s, strlen(s), &v) != 0)
		die("not valid JSON: %.80s", s);
	return v;
}

/* After login: send a message of TYPE (with --payload) and print the answer. */
static void
send_after(struct probe *p, const char *type)
{
	json_object *env;
	int verified;

	if (conn_send_msg(&p->c, type, NULL, p->payload != NULL ?
	    parse_json(p->payload) : NULL, NULL, 0, NULL) != 0) {
		say("send-failed");
		return;
	}
	set_rcvtimeo(p->fd, 3000);
	if ((env = recv_msg(p, NULL, &verified)) == NULL)
		return;
	if (strcmp(msg_type(env), TR_MSG_ERROR) == 0)
		say_error(env);
	else
		say("reply %s", msg_type(env));
	say("verified=%s", verified ? "yes" : "no");
	json_object_put(env);
}

/* --- sync --- */

/* Print "record JCS" for each record of the array RECS. */
static void
say_records(json_object *recs)
{
	for (size_t i = 0; i < json_object_array_length(recs); i++) {
		char *text = NULL;

		if (jcs_serialize(json_object_array_get_idx(recs, i), &text,
		    NULL) == 0)
			say("record %s", text);
		free(text);
	}
}

/* JCS of VAL (static buffer, for printing). */
static const char *
jcs_text(json_object *val)
{
	static char *text;

	free(text);
	text = NULL;
	if (jcs_serialize(val, &text, NULL) != 0)
		return "?";
	return text;
}

/* Read one message with a timeout of MS; NULL on timeout or close (printed). */
static json_object *
sync_recv(struct probe *p, long ms, int quiet_timeout)
{
	uint8_t rxkey[TR_KEY_LEN];
	json_object *env = NULL;
	int rc;

	set_rcvtimeo(p->fd, ms);
	rc = conn_recv(&p->c, &env, rxkey, NULL);
	if (rc == TR_ETIMEDOUT) {
		if (!quiet_timeout)
			say("no-reply");
		return NULL;
	}
	if (rc != 0) {
		say(rc == TR_ECLOSED || rc == TR_ETRUNC || rc == TR_EIO ?
		    "closed" : "recv-failed %s", tr_strerror(rc));
		json_object_put(env);
		return NULL;
	}
	if (msg_verify(env, rxkey, TR_KEY_LEN) != 0)
		say("unverified %s", msg_type(env));
	return env;
}

/* Split a comma-separated list into a JSON array of strings. */
static json_object *
name_array(const char *list)
{
	json_object *arr = json_object_new_array();
	char *copy = strdup(list), *save = NULL;

	for (char *t = strtok_r(copy, ",", &save); t != NULL;
	    t = strtok_r(NULL, ",", &save))
		json_object_array_add(arr, json_object_new_string(t));
	free(copy);
	return arr;
}

/* Send a pull SYNC_REQUEST with sync id SID; REQ_ID gets its message_id. */
static void
send_pull_request(struct probe *p, const char *sid, char *req_id)
{
	json_object *pl = json_object_new_object();

	set_str(pl, "sync_id", sid);
	set_str(pl, "direction", "pull");
	json_object_object_add(pl, "since", json_object_new_int64(p->since));
	if (p->pull != NULL && strcmp(p->pull, "*") != 0)
		json_object_object_add(pl, "collections", name_array(p->pull));
	if (p->batch_size != 0)
		json_object_object_add(pl, "batch_size",
		    json_object_new_int64(p->batch_size));
	if (p->window != 0)
		json_object_object_add(pl, "window",
		    json_object_new_int64(p->window));
	if (conn_send_msg(&p->c, TR_MSG_SYNC_REQUEST, NULL, pl, NULL, 0,
	    req_id) != 0)
		die("send failed");
}

/* Send SYNC_ACK for BATCH/LAST_SEQ of sync SID answering REPLY. */
static void
send_ack(struct probe *p, const char *sid, int64_t batch, int64_t last_seq,
    const char *reply)
{
	json_object *pl = json_object_new_object();

	set_str(pl, "sync_id", sid);
	json_object_object_add(pl, "batch", json_object_new_int64(batch));
	json_object_object_add(pl, "last_seq", json_object_new_int64(last_seq));
	conn_send_msg(&p->c, TR_MSG_SYNC_ACK, reply, pl, NULL, 0, NULL);
}

/* Read the answer to a faulty message: print an ERROR, or what came instead. */
static void
expect_error(struct probe *p)
{
	json_object *env = sync_recv(p, 3000, 0);

	if (env == NULL)
		return;
	if (strcmp(msg_type(env), TR_MSG_ERROR) == 0)
		say_error(env);
	else
		say("unexpected %s", msg_type(env));
	json_object_put(env);
}

/* A batch received and not yet acknowledged. */
struct held {
	int64_t batch;
	int64_t last_seq;
	char msg_id[TR_UUID_LEN + 1];
};

/* Print a SYNC_DATA of a pull and note it in H. */
static void
say_data(json_object *env, const char *req_id, struct held *h)
{
	json_object *pl = msg_payload(env), *recs = NULL, *v;
	int reset = -1;
	char *text = NULL;
	size_t len = 0;

	msg_get_int(pl, "batch", &h->batch);
	msg_get_int(pl, "last_seq", &h->last_seq);
	msg_get_array(pl, "records", &recs);
	if (json_object_object_get_ex(pl, "reset", &v) &&
	    json_object_is_type(v, json_type_boolean))
		reset = json_object_get_boolean(v);
	msg_encode(env, &text, &len);
	free(text);
	snprintf(h->msg_id, sizeof(h->msg_id), "%s", msg_id(env));
	say("data batch=%lld records=%zu last_seq=%lld reset=%s bytes=%zu "
	    "irt=%s", (long long)h->batch, recs != NULL ?
	    json_object_array_length(recs) : 0, (long long)h->last_seq,
	    reset < 0 ? "absent" : reset ? "true" : "false", len,
	    msg_in_reply_to(env) != NULL &&
	    strcmp(msg_in_reply_to(env), req_id) == 0 ? "ok" : "bad");
	if (recs != NULL)
		say_records(recs);
}

/* The pull fault of batch H, if any; returns 1 when the pull is over. */
static int
pull_fault(struct probe *p, const char *sid, const struct held *h,
    const char *req_id)
{
	const char *f = p->sync_fault != NULL ? p->sync_fault : "";
	char other[TR_UUID_LEN + 1];
	json_object *pl;

	if (h->batch != 0 || *f == '\0')
		return 0;
	if (strcmp(f, "second-request") == 0 ||
	    strcmp(f, "ack-other-sync") == 0) {
		/* A stray message: the running pull goes on. */
		msg_new_uuid(other);
		if (strcmp(f, "second-request") == 0)
			send_pull_request(p, other, NULL);
		else
			send_ack(p, other, h->batch, h->last_seq, h->msg_id);
		expect_error(p);
		return 0;
	}
	if (strcmp(f, "ack-wrong-last-seq") == 0)
		send_ack(p, sid, h->batch, h->last_seq + 1, h->msg_id);
	else if (strcmp(f, "ack-unsent") == 0)
		send_ack(p, sid, 999, h->last_seq, h->msg_id);
	else if (strcmp(f, "ack-bad-reply") == 0)
		send_ack(p, sid, h->batch, h->last_seq, req_id);
	else if (strcmp(f, "data-in-pull") == 0) {
		pl = json_object_new_object();
		set_str(pl, "sync_id", sid);
		json_object_object_add(pl, "batch", json_object_new_int64(0));
		json_object_object_add(pl, "records", json_object_new_array());
		conn_send_msg(&p->c, TR_MSG_SYNC_DATA, NULL, pl, NULL, 0, NULL);
	} else
		return 0;
	/* The ERROR ends the pull: a correct ACK now names no sync. */
	expect_error(p);
	send_ack(p, sid, h->batch, h->last_seq, h->msg_id);
	expect_error(p);
	return 1;
}

/* Pull as --pull says, acking each batch. */
static void
pull(struct probe *p)
{
	char sid[TR_UUID_LEN + 1], req_id[TR_UUID_LEN + 1];
	const char *f = p->sync_fault != NULL ? p->sync_fault : "";
	struct held held[64];
	int nheld = 0, acks = 0;
	json_object *env;

	msg_new_uuid(sid);
	send_pull_request(p, sid, req_id);
	for (;;) {
		if ((env = sync_recv(p, 10000, 0)) == NULL)
			return;
		if (strcmp(msg_type(env), TR_MSG_ERROR) == 0) {
			say_error(env);
			json_object_put(env);
			return;
		}
		if (strcmp(msg_type(env), TR_MSG_SYNC_COMPLETE) == 0) {
			json_object *pl = msg_payload(env);
			int64_t cursor = -1, records = -1, batches = -1;

			msg_get_int(pl, "cursor", &cursor);
			msg_get_int(pl, "records", &records);
			msg_get_int(pl, "batches", &batches);
			say("complete cursor=%lld records=%lld batches=%lld irt=%s",
			    (long long)cursor, (long long)records,
			    (long long)batches, msg_in_reply_to(env) != NULL &&
			    strcmp(msg_in_reply_to(env), req_id) == 0 ? "ok" :
			    "bad");
			json_object_put(env);
			return;
		}
		if (strcmp(msg_type(env), TR_MSG_SYNC_DATA) != 0) {
			say("unexpected %s", msg_type(env));
			json_object_put(env);
			return;
		}
		say_data(env, req_id, &held[nheld]);
		json_object_put(env);
		if (pull_fault(p, sid, &held[nheld], req_id))
			return;
		nheld++;
		if (strcmp(f, "hold-window") == 0 && acks == 0) {
			/* Read what comes without acking: at most window batches. */
			while (nheld < 64 && (env = sync_recv(p, 1500, 1)) !=
			    NULL) {
				if (strcmp(msg_type(env), TR_MSG_SYNC_DATA) == 0)
					say_data(env, req_id, &held[nheld++]);
				json_object_put(env);
			}
			say("held batches=%d", nheld);
		}
		if (p->ack_delay > 0 && acks == 0)
			usleep((useconds_t)(p->ack_delay * 1e6));
		for (int i = 0; i < nheld; i++, acks++)
			send_ack(p, sid, held[i].batch, held[i].last_seq,
			    held[i].msg_id);
		nheld = 0;
	}
}

/* Read the records of the JSON Lines file PATH into a new array. */
static json_object *
read_records(const char *path)
{
	json_object *arr = json_object_new_array();
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	FILE *f = fopen(path, "r");

	if (f == NULL)
		die("%s: %s", path, strerror(errno));
	while ((len = getline(&line, &cap, f)) >= 0) {
		json_object *v = NULL;

		if (strspn(line, " \t\r\n") == (size_t)len)
			continue;
		if (jcs_parse(line, (size_t)len, &v) != 0)
			die("%s: a line is not JSON", path);
		json_object_array_add(arr, v);
	}
	free(line);
	fclose(f);
	return arr;
}

/* Non-zero when NAME is one of the comma-separated LIST. */
static int
in_list(const char *list, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = list; p != NULL && *p != '\0';) {
		if (strncmp(p, name, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return 1;
		p = strchr(p, ',');
		p = p != NULL ? p + 1 : NULL;
	}
	return 0;
}

/* The collections RECS name, comma-separated, in order of appearance. */
static char *
record_collections(json_object *recs)
{
	char *out = calloc(1, 1), *tmp;
	size_t len = 0;

	for (size_t i = 0; out != NULL && i < json_object_array_length(recs);
	    i++) {
		const char *c;

		if (msg_get_str(json_object_array_get_idx(recs, i),
		    "collection", &c) != 0 || *c == '\0' ||
		    strchr(c, ',') != NULL || in_list(out, c))
			continue;
		if ((tmp = realloc(out, len + strlen(c) + 2)) == NULL)
			die("out of memory");
		out = tmp;
		if (len > 0)
			out[len++] = ',';
		strcpy(out + len, c);
		len += strlen(c);
	}
	if (out == NULL)
		die("out of memory");
	return out;
}

/* Send SYNC_DATA batch BATCH of sync SID with RECS[FROM..TO). */
static void
send_push_batch(struct probe *p, const char *sid, int64_t batch,
    json_object *recs, size_t from, size_t to)
{
	json_object *pl = json_object_new_object(), *arr;

	arr = json_object_new_array();
	for (size_t i = from; i < to; i++)
		json_object_array_add(arr,
		    json_object_get(json_object_array_get_idx(recs, i)));
	set_str(pl, "sync_id", sid);
	json_object_object_add(pl, "batch", json_object_new_int64(batch));
	json_object_object_add(pl, "records", arr);
	if (conn_send_msg(&p->c, TR_MSG_SYNC_DATA, NULL, pl, NULL, 0,
	    NULL) != 0)
		die("send failed");
}

/* Push the records of --push. */
static void
push(struct probe *p)
{
	const char *f = p->sync_fault != NULL ? p->sync_fault : "";
	json_object *recs = read_records(p->push), *pl, *env;
	char sid[TR_UUID_LEN + 1], *colls;
	size_t n = json_object_array_length(recs), size, from;
	int64_t batch = 0;

	size = p->batch_size > 0 ? (size_t)p->batch_size : 100;
	colls = p->collections != NULL ? strdup(p->collections) :
	    record_collections(recs);
	msg_new_uuid(sid);
	if (strcmp(f, "data-without-push") == 0) {
		send_push_batch(p, sid, 0, recs, 0, n);
		expect_error(p);
		goto out;
	}
	pl = json_object_new_object();
	set_str(pl, "sync_id", sid);
	set_str(pl, "direction", "push");
	json_object_object_add(pl, "collections", name_array(colls));
	json_object_object_add(pl, "records", json_object_new_int64((int64_t)n));
	json_object_object_add(pl, "window", json_object_new_int64(1));
	if (conn_send_msg(&p->c, TR_MSG_SYNC_REQUEST, NULL, pl, NULL, 0,
	    NULL) != 0)
		die("send failed");
	/* A refused push is answered; an accepted one is not. */
	if ((env = sync_recv(p, 300, 1)) != NULL) {
		if (strcmp(msg_type(env), TR_MSG_ERROR) == 0)
			say_error(env);
		else
			say("unexpected %s", msg_type(env));
		json_object_put(env);
		goto out;
	}
	say("push accepted collections=%s records=%zu", colls, n);
	if (strcmp(f, "batch-1-first") == 0) {
		send_push_batch(p, sid, 1, recs, 0, n);
		expect_error(p);
		goto out;
	}
	if (strcmp(f, "ack-in-push") == 0) {
		send_ack(p, sid, 0, 0, NULL);
		expect_error(p);
		goto out;
	}
	for (from = 0; from < n || (n == 0 && batch == 0); from += size) {
		size_t to = from + size < n ? from + size : n;
		json_object *results = NULL;
		int64_t b = -1;

		send_push_batch(p, sid, batch, recs, from, to);
		if ((env = sync_recv(p, 10000, 0)) == NULL)
			goto out;
		if (strcmp(msg_type(env), TR_MSG_ERROR) == 0) {
			say_error(env);
			json_object_put(env);
			goto out;
		}
		msg_get_int(msg_payload(env), "batch", &b);
		msg_get_array(msg_payload(env), "results", &results);
		say("ack type=%s batch=%lld results=%zu", msg_type(env),
		    (long long)b, results != NULL ?
		    json_object_array_length(results) : 0);
		for (size_t i = 0; results != NULL &&
		    i < json_object_array_length(results); i++)
			say("result %s", jcs_text(json_object_array_get_idx(
			    results, i)));
		json_object_put(env);
		batch++;
		if (n == 0)
			break;
	}
	pl = json_object_new_object();
	set_str(pl, "sync_id", sid);
	json_object_object_add(pl, "batches", json_object_new_int64(
	    strcmp(f, "complete-wrong-batches") == 0 ? batch + 1 : batch));
	{
		char cid[TR_UUID_LEN + 1];

		conn_send_msg(&p->c, TR_MSG_SYNC_COMPLETE, NULL, pl, NULL, 0,
		    cid);
		if ((env = sync_recv(p, 10000, 0)) == NULL)
			goto out;
		if (strcmp(msg_type(env), TR_MSG_ERROR) == 0)
			say_error(env);
		else
			say("push-complete %s irt=%s",
			    jcs_text(msg_payload(env)),
			    msg_in_reply_to(env) != NULL &&
			    strcmp(msg_in_reply_to(env), cid) == 0 ? "ok" :
			    "bad");
		json_object_put(env);
	}
out:
	free(colls);
	json_object_put(recs);
}

/* After a sync: a new pull request (with --then-request). */
static void
then_request(struct probe *p)
{
	char sid[TR_UUID_LEN + 1];
	json_object *env;

	msg_new_uuid(sid);
	send_pull_request(p, sid, NULL);
	if ((env = sync_recv(p, 5000, 0)) == NULL)
		return;
	if (strcmp(msg_type(env), TR_MSG_ERROR) == 0)
		say_error(env);
	else
		say("reply %s", msg_type(env));
	json_object_put(env);
	check_closed(p, 2000);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "host", required_argument, NULL, 'H' },
		{ "port", required_argument, NULL, 'p' },
		{ "creds", required_argument, NULL, 'k' },
		{ "method", required_argument, NULL, 'm' },
		{ "session", required_argument, NULL, 's' },
		{ "save-session", required_argument, NULL, 'S' },
		{ "fault", required_argument, NULL, 'f' },
		{ "send", required_argument, NULL, 'x' },
		{ "tls12", no_argument, NULL, '2' },
		{ "idle", no_argument, NULL, 'i' },
		{ "connect-only", no_argument, NULL, 'C' },
		{ "hold", required_argument, NULL, 'w' },
		{ "rotate-test", required_argument, NULL, 'R' },
		{ "payload", required_argument, NULL, 'P' },
		{ "pull", required_argument, NULL, 'L' },
		{ "push", required_argument, NULL, 'U' },
		{ "collections", required_argument, NULL, 'c' },
		{ "since", required_argument, NULL, 'n' },
		{ "batch-size", required_argument, NULL, 'b' },
		{ "window", required_argument, NULL, 'W' },
		{ "sync-fault", required_argument, NULL, 'F' },
		{ "ack-delay", required_argument, NULL, 'D' },
		{ "then-request", no_argument, NULL, 'T' },
		{ "put", required_argument, NULL, 1001 },
		{ "get", required_argument, NULL, 1002 },
		{ "output", required_argument, NULL, 1003 },
		{ "xfer-fault", required_argument, NULL, 1004 },
		{ "chunk-size", required_argument, NULL, 1005 },
		{ "offset", required_argument, NULL, 1006 },
		{ NULL, 0, NULL, 0 }
	};
	struct tls_creds tc;
	struct probe p;
	char err[256];
	int c, rc;

	memset(&p, 0, sizeof(p));
	p.host = "127.0.0.1";
	signal(SIGPIPE, SIG_IGN);
	while ((c = getopt_long(argc, argv, "H:p:k:", longopts, NULL)) != -1) {
		switch (c) {
		case 'H': p.host = optarg; break;
		case 'p': p.port = atoi(optarg); break;
		case 'k': p.creds_path = optarg; break;
		case 'm': p.method = optarg; break;
		case 's': p.session_in = optarg; break;
		case 'S': p.session_out = optarg; break;
		case 'f': p.fault = optarg; break;
		case 'x': p.send_type = optarg; break;
		case '2': p.tls12 = 1; break;
		case 'i': p.idle = 1; break;
		case 'C': p.connect_only = 1; break;
		case 'w': p.hold = atof(optarg); break;
		case 'R': p.rotate_test = atoi(optarg); break;
		case 'P': p.payload = optarg; break;
		case 'L': p.pull = optarg; break;
		case 'U': p.push = optarg; break;
		case 'c': p.collections = optarg; break;
		case 'n': p.since = strtoll(optarg, NULL, 10); break;
		case 'b': p.batch_size = atoi(optarg); break;
		case 'W': p.window = atoi(optarg); break;
		case 'F': p.sync_fault = optarg; break;
		case 'D': p.ack_delay = atof(optarg); break;
		case 'T': p.then_request = 1; break;
		case 1001: p.put_path = optarg; break;
		case 1002: p.get_sha = optarg; break;
		case 1003: p.output = optarg; break;
		case 1004: p.xfer_fault = optarg; break;
		case 1005: p.chunk_size = strtoll(optarg, NULL, 10); break;
		case 1006: p.offset = strtoll(optarg, NULL, 10); break;
		default: return 2;
		}
	}
	if (p.port <= 0 || p.creds_path == NULL)
		die("usage: trprobe --port N --creds FILE [options]");
	load_creds(&p);
	if (p.session_in != NULL) {
		load_session(&p);
		p.method = "token";
	}
	tcp_connect(&p);
	if (p.connect_only) {
		say("connected");
		sleep((unsigned)(p.hold > 0 ? p.hold : 5));
		return 0;
	}
	if (p.tls12) {
		tls12_attempt(&p);
		return 0;
	}
	memset(&tc, 0, sizeof(tc));
	if (strcmp(p.method, "certificate") == 0) {
		tc.cert_pem = p.cert_pem;
		tc.key_pem = p.key_pem;
	}
	tc.ca_pem = p.ca_pem;
	if ((p.ctx = tls_client_ctx_new(&tc, err, sizeof(err))) == NULL)
		die("TLS context: %s", err);
	if ((rc = tls_connect(p.ctx, p.fd, p.pin, &p.ssl)) != 0) {
		say("tls-failed %s", tr_strerror(rc));
		return 0;
	}
	say("tls ok cipher=%s", SSL_get_cipher_name(p.ssl));
	if (tls_exporter(p.ssl, p.exporter) != 0)
		die("exporter");
	conn_init(&p.c, p.fd, p.ssl, 16 * 1024 * 1024,
	    TR_MAX_CHUNK_SIZE + TR_CHUNK_OVERHEAD, p.node_id, NULL);
	if (!login(&p))
		goto out;
	for (int i = 0; i < p.rotate_test; i++) {
		json_object *env;
		int verified;

		/* Many requests: both sides cross rotate_every boundaries. */
		conn_send_msg(&p.c, "NO_SUCH_TYPE", NULL, NULL, NULL, 0, NULL);
		if ((env = recv_msg(&p, NULL, &verified)) == NULL)
			goto out;
		if (!verified) {
			say("rotate-failed at %d", i);
			json_object_put(env);
			goto out;
		}
		json_object_put(env);
	}
	if (p.rotate_test > 0)
		say("rotate ok %d", p.rotate_test);
	if (p.send_type != NULL) {
		send_after(&p, p.send_type);
		check_closed(&p, 1000);
	}
	if (p.put_path != NULL)
		xfer_put(&p);
	if (p.get_sha != NULL && p.output != NULL)
		xfer_get(&p);
	if (p.pull != NULL)
		pull(&p);
	if (p.push != NULL)
		push(&p);
	if (p.then_request)
		then_request(&p);
	else if (p.pull != NULL || p.push != NULL)
		check_closed(&p, 300);
	if (p.hold > 0)
		check_closed(&p, (long)(p.hold * 1000));
out:
	if (p.ssl != NULL) {
		SSL_shutdown(p.ssl);
		SSL_free(p.ssl);
	}
	SSL_CTX_free(p.ctx);
	close(p.fd);
	json_object_put(p.creds);
	return 0;
}
