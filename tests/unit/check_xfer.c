/* Unit tests of the node's file transfer (client/xfer.c) against a scripted hub on socketpairs. */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "chunk.h"
#include "conn.h"
#include "err.h"
#include "frame.h"
#include "hex.h"
#include "jcs.h"
#include "kdf.h"
#include "link.h"
#include "msg.h"
#include "testutil.h"
#include "thr.h"
#include "xfer.h"

#define NODE		"node-1"
#define HUB		"hub-1"
#define CS		65536
#define KEY_BYTE	0x6b
#define MAX_ATTEMPTS	8

/* What the scripted hub does on one connection. */
enum hub_act {
	ACT_GET,		/* serve the blob */
	ACT_PUT,		/* receive into the blob */
	ACT_BUSY,		/* ERROR BUSY */
	ACT_NOT_FOUND		/* ERROR NOT_FOUND */
};

/* One connection's script. */
struct hub_step {
	enum hub_act act;
	int64_t expect_offset;	/* the request's offset must be this (-1: any) */
	int64_t held;		/* put: READY's offset */
	int64_t cut_after;	/* get: close after this many chunks (-1: never) */
	int64_t flip_chunk;	/* get: flip a bit in this chunk (-1: none) */
	int wrong_data;		/* get: serve other bytes than the blob */
};

/* The hub's side of the test: a blob store of one file and the scripts of successive connections. */
struct hub {
	uint8_t *blob;		/* the file the hub holds or receives */
	int64_t size;
	char sha_hex[2 * TR_HASH_LEN + 1];
	struct hub_step steps[MAX_ATTEMPTS];
	int nsteps;
	int next;
	pthread_t th[MAX_ATTEMPTS];
	int nth;
	char err[512];		/* the first complaint */
	/* Seen by the hub. */
	int64_t first_put_index;
	char complete_status[16];
	char error_reason[64];
	int64_t streamed;	/* chunks sent or received on the last connection */
};

/* One connection of the hub. */
struct hub_conn {
	struct hub *h;
	struct hub_step st;
	struct conn c;
	int fd;
	uint8_t key[TR_KEY_LEN];
};

static char *tmpdir;
static char partial[512], out[512], src[512];

/* Record the hub's first complaint. */
static void
hub_fail(struct hub *h, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void
hub_fail(struct hub *h, const char *fmt, ...)
{
	va_list ap;

	if (h->err[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(h->err, sizeof(h->err), fmt, ap);
	va_end(ap);
}

/* Receive one verified message from the node (any type), or NULL at a close. */
static json_object *
hub_recv(struct hub_conn *hc)
{
	uint8_t key[TR_KEY_LEN];
	json_object *env = NULL;

	if (conn_recv(&hc->c, &env, key, NULL) != 0) {
		json_object_put(env);
		return NULL;
	}
	if (msg_verify(env, key, sizeof(key)) != 0 ||
	    strcmp(msg_source_id(env), NODE) != 0) {
		hub_fail(hc->h, "%s: bad signature", msg_type(env));
		json_object_put(env);
		return NULL;
	}
	return env;
}

/* Send TYPE answering IRT with payload P (owned). */
static void
hub_send(struct hub_conn *hc, const char *type, const char *irt,
    json_object *p)
{
	if (conn_send_msg(&hc->c, type, irt, p, NULL, 0, NULL) != 0)
		hub_fail(hc->h, "sending %s failed", type);
}

/* The file key of transfer TID. */
static void
hub_file_key(struct hub_conn *hc, const char *tid, uint8_t key[TR_KEY_LEN])
{
	uint8_t sha[TR_HASH_LEN];

	hex_decode(hc->h->sha_hex, 64, sha, sizeof(sha));
	ck_assert_int_eq(kdf_file_key(hc->key, sha, tid, key), 0);
}

/* Send TRANSFER_READY. */
static void
hub_ready(struct hub_conn *hc, const char *irt, const char *tid,
    int64_t size, int64_t offset)
{
	json_object *p = json_object_new_object();

	json_object_object_add(p, "transfer_id", json_object_new_string(tid));
	json_object_object_add(p, "size", json_object_new_int64(size));
	json_object_object_add(p, "chunk_size", json_object_new_int64(CS));
	json_object_object_add(p, "offset", json_object_new_int64(offset));
	json_object_object_add(p, "chunks", json_object_new_int64(size == 0 ?
	    1 : (size + CS - 1) / CS));
	hub_send(hc, TR_MSG_TRANSFER_READY, irt, p);
}

/* Send TRANSFER_COMPLETE with STATUS. */
static void
hub_complete(struct hub_conn *hc, const char *irt, const char *tid,
    const char *status)
{
	json_object *p = json_object_new_object();

	json_object_object_add(p, "transfer_id", json_object_new_string(tid));
	json_object_object_add(p, "sha256",
	    json_object_new_string(hc->h->sha_hex));
	json_object_object_add(p, "size", json_object_new_int64(hc->h->size));
	json_object_object_add(p, "status", json_object_new_string(status));
	hub_send(hc, TR_MSG_TRANSFER_COMPLETE, irt, p);
}

/* Send an ERROR with CODE and DETAILS (owned, may be NULL). */
static void
hub_error(struct hub_conn *hc, const char *irt, const char *code,
    json_object *details)
{
	if (conn_send_error(&hc->c, irt, code, "scripted", details, NULL,
	    0) != 0)
		hub_fail(hc->h, "sending ERROR failed");
}

/* Serve the blob for a get. */
static void
hub_get(struct hub_conn *hc, json_object *req, const char *tid,
    int64_t offset)
{
	struct hub *h = hc->h;
	struct chunk_ctx *cc = chunk_ctx_new();
	uint8_t key[TR_KEY_LEN], *body = malloc(CS + 64), *plain = malloc(CS);
	int64_t chunks = h->size == 0 ? 1 : (h->size + CS - 1) / CS;
	json_object *env;
	const char *s;
	size_t blen;

	hub_ready(hc, msg_id(req), tid, h->size, offset);
	hub_file_key(hc, tid, key);
	h->streamed = 0;
	for (int64_t i = offset / CS; i < chunks; i++) {
		int last = i == chunks - 1;
		size_t n = last ? (size_t)(h->size - i * CS) : CS;

		if (hc->st.cut_after >= 0 && h->streamed == hc->st.cut_after)
			goto out;
		memcpy(plain, h->blob + i * CS, n);
		if (hc->st.wrong_data && n > 0)
			plain[0] ^= 0x01;
		ck_assert_int_eq(chunk_seal(cc, key, tid, TR_DIR_H2C,
		    (uint64_t)i, last, plain, n, body, &blen), 0);
		if (i == hc->st.flip_chunk)
			body[TR_CHUNK_HDR_LEN] ^= 0x10;
		if (frame_write(&hc->c.fc, TR_FRAME_CHUNK, body,
		    (uint32_t)blen) != 0)
			goto out;
		h->streamed++;
	}
	/* A get ends with the node's TRANSFER_COMPLETE, or its ERROR. */
	if ((env = hub_recv(hc)) == NULL)
		goto out;
	if (strcmp(msg_type(env), TR_MSG_TRANSFER_COMPLETE) == 0 &&
	    msg_get_str(msg_payload(env), "status", &s) == 0)
		snprintf(h->complete_status, sizeof(h->complete_status), "%s",
		    s);
	else if (strcmp(msg_type(env), TR_MSG_ERROR) == 0) {
		json_object *e = NULL, *d = NULL;

		msg_get_obj(msg_payload(env), "error", &e);
		msg_get_obj(e, "details", &d);
		if (msg_get_str(d, "reason", &s) == 0)
			snprintf(h->error_reason, sizeof(h->error_reason),
			    "%s", s);
	}
	json_object_put(env);
out:
	chunk_ctx_free(cc);
	free(body);
	free(plain);
}

/* Receive an upload into the blob. */
static void
hub_put(struct hub_conn *hc, json_object *req, const char *tid, int64_t size)
{
	struct hub *h = hc->h;
	struct chunk_ctx *cc = chunk_ctx_new();
	uint8_t key[TR_KEY_LEN], md[TR_HASH_LEN], want[TR_HASH_LEN];
	uint8_t *body = malloc(CS + 64);
	int64_t chunks = size == 0 ? 1 : (size + CS - 1) / CS;
	uint32_t len;
	uint8_t type;
	size_t plen;

	h->size = size;
	h->blob = realloc(h->blob, size > 0 ? (size_t)size : 1);
	hub_ready(hc, msg_id(req), tid, size, hc->st.held);
	h->streamed = 0;
	if (hc->st.held == size && size > 0) {
		hub_complete(hc, msg_id(req), tid, "ok");
		goto out;
	}
	hub_file_key(hc, tid, key);
	hc->c.limits.max_chunk = CS + TR_CHUNK_OVERHEAD;
	for (int64_t i = hc->st.held / CS; i < chunks; i++) {
		if (frame_read_header(&hc->c.fc, &hc->c.limits, &type, &len,
		    NULL) != 0 || type != TR_FRAME_CHUNK ||
		    frame_read_full(&hc->c.fc, body, len) != 0) {
			hub_fail(h, "chunk %lld did not come", (long long)i);
			goto out;
		}
		if (h->streamed == 0)
			h->first_put_index = i;
		if (chunk_open(cc, key, tid, TR_DIR_C2H, (uint64_t)i,
		    i == chunks - 1, body, len, h->blob + i * CS, &plen) != 0) {
			hub_fail(h, "chunk %lld does not open", (long long)i);
			goto out;
		}
		h->streamed++;
	}
	SHA256(h->blob, (size_t)size, md);
	hex_decode(h->sha_hex, 64, want, sizeof(want));
	hub_complete(hc, msg_id(req), tid, memcmp(md, want, sizeof(md)) == 0 ?
	    "ok" : "corrupt");
out:
	chunk_ctx_free(cc);
	free(body);
}

/* One connection of the hub: read the TRANSFER_REQUEST and act on it. */
static void *
hub_main(void *arg)
{
	struct hub_conn *hc = arg;
	struct hub *h = hc->h;
	json_object *req, *p, *d;
	const char *op, *tid, *sha;
	int64_t offset = -1, size = -1, cs = 0;

	if ((req = hub_recv(hc)) == NULL) {
		hub_fail(h, "no TRANSFER_REQUEST");
		goto out;
	}
	p = msg_payload(req);
	if (strcmp(msg_type(req), TR_MSG_TRANSFER_REQUEST) != 0 ||
	    msg_get_str(p, "op", &op) != 0 ||
	    msg_get_str(p, "transfer_id", &tid) != 0 || !msg_valid_uuid(tid) ||
	    msg_get_str(p, "sha256", &sha) != 0 ||
	    msg_get_int(p, "offset", &offset) != 0 ||
	    msg_get_int(p, "chunk_size", &cs) != 0 || cs != CS) {
		hub_fail(h, "bad TRANSFER_REQUEST");
		goto out;
	}
	if (hc->st.expect_offset >= 0 && offset != hc->st.expect_offset)
		hub_fail(h, "request offset %lld, expected %lld",
		    (long long)offset, (long long)hc->st.expect_offset);
	switch (hc->st.act) {
	case ACT_BUSY:
		d = json_object_new_object();
		json_object_object_add(d, "retry_after_ms",
		    json_object_new_int64(200));
		hub_error(hc, msg_id(req), TR_CODE_BUSY, d);
		break;
	case ACT_NOT_FOUND:
		hub_error(hc, msg_id(req), TR_CODE_NOT_FOUND, NULL);
		break;
	case ACT_GET:
		if (strcmp(op, "get") != 0 || strcmp(sha, h->sha_hex) != 0)
			hub_fail(h, "expected a get of the blob");
		else
			hub_get(hc, req, tid, offset);
		break;
	case ACT_PUT:
		if (strcmp(op, "put") != 0 ||
		    msg_get_int(p, "size", &size) != 0 || offset != 0)
			hub_fail(h, "expected a put from offset 0");
		else {
			snprintf(h->sha_hex, sizeof(h->sha_hex), "%s", sha);
			hub_put(hc, req, tid, size);
		}
		break;
	}
out:
	json_object_put(req);
	conn_clear(&hc->c);
	close(hc->fd);
	free(hc);
	return NULL;
}

/* The connect callback: a socketpair to a new hub thread running the next step. */
static int
hub_connect(void *arg, struct link *l)
{
	struct hub *h = arg;
	struct timeval tv = { 10, 0 };
	struct hub_conn *hc;
	int sv[2];

	if (h->next >= h->nsteps) {
		link_seterr(l, "no more scripted connections");
		return TR_EIO;
	}
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	for (int i = 0; i < 2; i++) {
		setsockopt(sv[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(sv[i], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	hc = calloc(1, sizeof(*hc));
	ck_assert_ptr_nonnull(hc);
	hc->h = h;
	hc->st = h->steps[h->next++];
	hc->fd = sv[1];
	memset(hc->key, KEY_BYTE, sizeof(hc->key));
	conn_init(&hc->c, sv[1], NULL, 1 << 20, 0, HUB, NULL);
	conn_set_keys(&hc->c, hc->key, TR_DIR_H2C, 3);

	memset(l, 0, sizeof(*l));
	l->fd = sv[0];
	conn_init(&l->c, sv[0], NULL, 1 << 20, 0, NODE, NULL);
	conn_set_keys(&l->c, hc->key, TR_DIR_C2H, 3);
	memcpy(l->conn_key, hc->key, sizeof(l->conn_key));
	l->authed = 1;
	l->rotate_every = 3;
	snprintf(l->hub_id, sizeof(l->hub_id), HUB);
	ck_assert_int_eq(pthread_create(&h->th[h->nth++], NULL, hub_main, hc),
	    0);
	return 0;
}

/* Add a step to H's script. */
static struct hub_step *
hub_step(struct hub *h, enum hub_act act)
{
	struct hub_step *st = &h->steps[h->nsteps++];

	memset(st, 0, sizeof(*st));
	st->act = act;
	st->expect_offset = -1;
	st->cut_after = -1;
	st->flip_chunk = -1;
	return st;
}

/* Wait for every hub thread and check that the scripts held; starts a new script. */
static void
hub_join(struct hub *h)
{
	for (int i = 0; i < h->nth; i++)
		pthread_join(h->th[i], NULL);
	h->nth = 0;
	h->nsteps = 0;
	h->next = 0;
	ck_assert_msg(h->err[0] == '\0', "hub: %s", h->err);
}

/* Options for transfers to H, without retries unless asked. */
static void
opts(struct xfer_opts *o, struct hub *h, int retries)
{
	memset(o, 0, sizeof(*o));
	o->connect = hub_connect;
	o->connect_arg = h;
	o->chunk_size = CS;
	o->partial_dir = partial;
	o->retries = retries;
	o->backoff_ms = 10;
}

/* Deterministic test bytes. */
static uint8_t *
pattern(int64_t size, unsigned seed)
{
	uint8_t *b = malloc(size > 0 ? (size_t)size : 1);

	for (int64_t i = 0; i < size; i++)
		b[i] = (uint8_t)((i * 31 + seed * 7 + (i >> 8)) & 0xff);
	return b;
}

/* Put the blob of SIZE bytes into H as if uploaded earlier. */
static void
hub_hold(struct hub *h, int64_t size, unsigned seed)
{
	uint8_t md[TR_HASH_LEN];

	free(h->blob);
	h->blob = pattern(size, seed);
	h->size = size;
	SHA256(h->blob, (size_t)size, md);
	hex_encode(md, sizeof(md), h->sha_hex);
}

/* Non-zero when PATH exists. */
static int
exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* Size of PATH, -1 when absent. */
static int64_t
fsize(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (int64_t)st.st_size : -1;
}

/* Non-zero when PATH holds exactly the LEN bytes of DATA. */
static int
same_content(const char *path, const uint8_t *data, int64_t len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *b = malloc(len + 1);
	size_t n;
	int ok;

	if (f == NULL)
		return 0;
	n = fread(b, 1, (size_t)len + 1, f);
	fclose(f);
	ok = (int64_t)n == len && memcmp(b, data, (size_t)len) == 0;
	free(b);
	return ok;
}

/* The partial path of the blob of H. */
static void
partial_path(const struct hub *h, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s.%d.part", partial, h->sha_hex, CS);
}

static struct hub hub;

/* A fresh temp dir and hub per test. */
static void
setup(void)
{
	tmpdir = tu_tmpdir();
	snprintf(partial, sizeof(partial), "%s/partial", tmpdir);
	snprintf(out, sizeof(out), "%s/out.bin", tmpdir);
	snprintf(src, sizeof(src), "%s/src.bin", tmpdir);
	memset(&hub, 0, sizeof(hub));
}

/* Remove the temp dir. */
static void
teardown(void)
{
	free(hub.blob);
	tu_rmtree(tmpdir);
	free(tmpdir);
}

/* Sizes around the chunk size. */
static const int64_t sizes[] = { 0, 1, CS - 1, CS, CS + 1, 3 * CS + 17 };

START_TEST(test_put_then_get)
{
	int64_t size = sizes[_i];
	uint8_t *data = pattern(size, 1);
	char hex[65], err[256];
	struct xfer_result res;
	struct xfer_opts o;
	int64_t got = -1;

	tu_write_file(src, data, (size_t)size);
	ck_assert_int_eq(xfer_hash_file(src, hex, &got, err, sizeof(err)), 0);
	ck_assert_int_eq(got, size);

	/* Upload: every chunk streamed, the empty file as one empty chunk. */
	opts(&o, &hub, 0);
	hub_step(&hub, ACT_PUT);
	ck_assert_int_eq(xfer_upload(&o, src, hex, size, &res), 0);
	hub_join(&hub);
	ck_assert_str_eq(hub.sha_hex, hex);
	ck_assert_int_eq(hub.streamed, size == 0 ? 1 : (size + CS - 1) / CS);
	ck_assert_int_eq(hub.first_put_index, 0);
	ck_assert_int_eq(res.moved, size);
	ck_assert_int_eq(res.already, 0);
	ck_assert(memcmp(hub.blob, data, (size_t)size) == 0);

	/* Fetch it back. */
	hub_step(&hub, ACT_GET)->expect_offset = 0;
	ck_assert_msg(xfer_fetch(&o, hex, size, out, &res) == 0, "%s",
	    res.err);
	hub_join(&hub);
	ck_assert(same_content(out, data, size));
	ck_assert_str_eq(hub.complete_status, "ok");
	ck_assert_int_eq(res.size, size);
	ck_assert_int_eq(res.offset, 0);
	ck_assert_int_eq(res.moved, size);
	free(data);
}
END_TEST

START_TEST(test_fetch_resume)
{
	struct xfer_result res;
	struct xfer_opts o;
	char ppath[600];

	hub_hold(&hub, 3 * CS + 100, 2);
	partial_path(&hub, ppath, sizeof(ppath));
	opts(&o, &hub, 0);
	/* The hub goes away after two chunks: the fetch fails, the partial holds them. */
	hub_step(&hub, ACT_GET)->cut_after = 2;
	ck_assert_int_ne(xfer_fetch(&o, hub.sha_hex, -1, out, &res), 0);
	hub_join(&hub);
	ck_assert(!exists(out));
	ck_assert_int_eq(fsize(ppath), 2 * CS);

	/* A torn tail is dropped; the next fetch asks from the last whole chunk. */
	{
		FILE *f = fopen(ppath, "ab");

		fputs("torn", f);
		fclose(f);
	}
	hub_step(&hub, ACT_GET)->expect_offset = 2 * CS;
	ck_assert_msg(xfer_fetch(&o, hub.sha_hex, -1, out, &res) == 0, "%s",
	    res.err);
	hub_join(&hub);
	ck_assert_int_eq(res.offset, 2 * CS);
	ck_assert_int_eq(res.moved, CS + 100);
	ck_assert_int_eq(hub.streamed, 2);
	ck_assert(same_content(out, hub.blob, hub.size));
	ck_assert(!exists(ppath));
}
END_TEST

START_TEST(test_fetch_resume_retry)
{
	struct xfer_result res;
	struct xfer_opts o;

	/* Within one fetch: the retry resumes where the broken connection stopped. */
	hub_hold(&hub, 2 * CS + 5, 3);
	opts(&o, &hub, 2);
	hub_step(&hub, ACT_GET)->cut_after = 1;
	hub_step(&hub, ACT_GET)->expect_offset = CS;
	ck_assert_msg(xfer_fetch(&o, hub.sha_hex, hub.size, out, &res) == 0,
	    "%s", res.err);
	hub_join(&hub);
	ck_assert_int_eq(res.attempts, 2);
	ck_assert_int_eq(res.offset, CS);
	ck_assert(same_content(out, hub.blob, hub.size));
}
END_TEST

START_TEST(test_upload_resume)
{
	struct xfer_result res;
	struct xfer_opts o;
	uint8_t *data;
	int64_t size = 4 * CS + 3;

	/* The hub holds two verified chunks: the node sends from chunk 2. */
	hub_hold(&hub, size, 4);
	data = malloc((size_t)size);
	memcpy(data, hub.blob, (size_t)size);
	tu_write_file(src, data, (size_t)size);
	memset(hub.blob + 2 * CS, 0, (size_t)(size - 2 * CS));
	opts(&o, &hub, 0);
	hub_step(&hub, ACT_PUT)->held = 2 * CS;
	ck_assert_msg(xfer_upload(&o, src, hub.sha_hex, size, &res) == 0,
	    "%s", res.err);
	hub_join(&hub);
	ck_assert_int_eq(res.offset, 2 * CS);
	ck_assert_int_eq(res.moved, size - 2 * CS);
	ck_assert_int_eq(hub.first_put_index, 2);
	ck_assert_int_eq(hub.streamed, 3);
	ck_assert(memcmp(hub.blob, data, (size_t)size) == 0);
	free(data);
}
END_TEST

START_TEST(test_upload_already_held)
{
	struct xfer_result res;
	struct xfer_opts o;

	hub_hold(&hub, CS + 1, 5);
	tu_write_file(src, hub.blob, (size_t)hub.size);
	opts(&o, &hub, 0);
	hub_step(&hub, ACT_PUT)->held = CS + 1;
	ck_assert_msg(xfer_upload(&o, src, hub.sha_hex, hub.size, &res) == 0,
	    "%s", res.err);
	hub_join(&hub);
	ck_assert_int_eq(res.already, 1);
	ck_assert_int_eq(res.moved, 0);
	ck_assert_int_eq(hub.streamed, 0);
}
END_TEST

START_TEST(test_upload_corrupt)
{
	struct xfer_result res;
	struct xfer_opts o;
	char hex[65];

	/* The node claims a hash the bytes do not have: the hub says corrupt. */
	hub_hold(&hub, 10, 6);
	tu_write_file(src, hub.blob, 10);
	memset(hex, 'a', 64);
	hex[64] = '\0';
	opts(&o, &hub, 0);
	hub_step(&hub, ACT_PUT);
	ck_assert_int_eq(xfer_upload(&o, src, hex, 10, &res), TR_EPROTO);
	hub_join(&hub);
	ck_assert_ptr_nonnull(strstr(res.err, "corrupt"));
}
END_TEST

START_TEST(test_fetch_flipped_bit)
{
	struct xfer_result res;
	struct xfer_opts o;
	char ppath[600];

	hub_hold(&hub, 3 * CS, 7);
	partial_path(&hub, ppath, sizeof(ppath));
	opts(&o, &hub, 3);
	hub_step(&hub, ACT_GET)->flip_chunk = 1;
	ck_assert_int_eq(xfer_fetch(&o, hub.sha_hex, -1, out, &res),
	    TR_EAUTHTAG);
	hub_join(&hub);
	/* Not retried; the hub was told; nothing published; chunk 0 kept. */
	ck_assert_int_eq(res.attempts, 1);
	ck_assert_ptr_nonnull(strstr(res.err, "chunk_auth_failed"));
	ck_assert_str_eq(hub.error_reason, "chunk_auth_failed");
	ck_assert(!exists(out));
	ck_assert_int_eq(fsize(ppath), CS);
}
END_TEST

START_TEST(test_fetch_wrong_sha)
{
	struct xfer_result res;
	struct xfer_opts o;
	char ppath[600];

	/* Authentic chunks of other bytes: the whole-file hash catches them. */
	hub_hold(&hub, CS + 9, 8);
	partial_path(&hub, ppath, sizeof(ppath));
	opts(&o, &hub, 3);
	hub_step(&hub, ACT_GET)->wrong_data = 1;
	ck_assert_int_eq(xfer_fetch(&o, hub.sha_hex, -1, out, &res),
	    TR_EPROTO);
	hub_join(&hub);
	ck_assert_int_eq(res.attempts, 1);
	ck_assert(!exists(out));
	ck_assert(!exists(ppath));
	ck_assert_str_eq(hub.complete_status, "corrupt");
}
END_TEST

START_TEST(test_fetch_wrong_size)
{
	struct xfer_result res;
	struct xfer_opts o;

	/* The record said another size than the hub: refused at READY. */
	hub_hold(&hub, 100, 9);
	opts(&o, &hub, 0);
	hub_step(&hub, ACT_GET)->cut_after = 0;
	ck_assert_int_eq(xfer_fetch(&o, hub.sha_hex, 101, out, &res),
	    TR_EPROTO);
	hub_join(&hub);
	ck_assert(!exists(out));
}
END_TEST

START_TEST(test_not_found)
{
	struct xfer_result res;
	struct xfer_opts o;
	char ppath[600];

	hub_hold(&hub, 5, 10);
	partial_path(&hub, ppath, sizeof(ppath));
	opts(&o, &hub, 3);
	hub_step(&hub, ACT_NOT_FOUND);
	ck_assert_int_eq(xfer_fetch(&o, hub.sha_hex, -1, out, &res),
	    TR_ENOTFOUND);
	hub_join(&hub);
	ck_assert_int_eq(res.attempts, 1);
	ck_assert_ptr_nonnull(strstr(res.err, "NOT_FOUND"));
	ck_assert(!exists(out));
	ck_assert(!exists(ppath));
}
END_TEST

START_TEST(test_busy_then_ok)
{
	struct xfer_result res;
	struct xfer_opts o;
	long long t0;

	/* BUSY waits at least retry_after_ms (200), then the next attempt works. */
	hub_hold(&hub, 2 * CS, 11);
	tu_write_file(src, hub.blob, (size_t)hub.size);
	opts(&o, &hub, 3);
	hub_step(&hub, ACT_BUSY);
	hub_step(&hub, ACT_PUT);
	t0 = thr_mono_ms();
	ck_assert_msg(xfer_upload(&o, src, hub.sha_hex, hub.size, &res) == 0,
	    "%s", res.err);
	ck_assert_int_ge(thr_mono_ms() - t0, 200);
	hub_join(&hub);
	ck_assert_int_eq(res.attempts, 2);

	/* BUSY every time: given up after the retries. */
	hub_step(&hub, ACT_BUSY);
	hub_step(&hub, ACT_BUSY);
	opts(&o, &hub, 1);
	ck_assert_int_eq(xfer_fetch(&o, hub.sha_hex, -1, out, &res), TR_EBUSY);
	hub_join(&hub);
	ck_assert_int_eq(res.attempts, 2);
	ck_assert_ptr_nonnull(strstr(res.err, "BUSY"));
	ck_assert(!exists(out));
}
END_TEST

START_TEST(test_bad_sha_arg)
{
	struct xfer_result res;
	struct xfer_opts o;

	opts(&o, &hub, 0);
	ck_assert_int_eq(xfer_fetch(&o, "ABC", -1, out, &res), TR_EINVAL);
	ck_assert_int_eq(xfer_fetch(&o, "0123456789ABCDEF0123456789abcdef"
	    "0123456789abcdef0123456789abcdef", -1, out, &res), TR_EINVAL);
	ck_assert_int_eq(hub.nth, 0);
}
END_TEST

START_TEST(test_hash_vector)
{
	uint8_t *plain;
	size_t n = tu_unhex_alloc(tu_vec_str("file_chunks.file_plaintext_hex"),
	    &plain);
	char hex[65], err[256];
	int64_t size;

	tu_write_file(src, plain, n);
	ck_assert_int_eq(xfer_hash_file(src, hex, &size, err, sizeof(err)), 0);
	ck_assert_str_eq(hex, tu_vec_str("file_chunks.file_sha256"));
	ck_assert_int_eq(size, 100);
	ck_assert_int_eq(xfer_hash_file(tmpdir, hex, &size, err, sizeof(err)),
	    TR_EINVAL);
	free(plain);
}
END_TEST

START_TEST(test_name_check)
{
	static const struct {
		const char *name;
		size_t len;
		int ok;
	} cases[] = {
		{ "report.pdf", 10, 1 },
		{ "a", 1, 1 },
		{ "..x", 3, 1 },
		{ "x..", 3, 1 },
		{ "...", 3, 1 },
		{ ".hidden", 7, 1 },
		{ "caf\xc3\xa9 menu.txt", 14, 1 },
		{ "", 0, 0 },
		{ ".", 1, 0 },
		{ "..", 2, 0 },
		{ "../etc/passwd", 13, 0 },
		{ "a/b", 3, 0 },
		{ "/abs", 4, 0 },
		{ "dir/", 4, 0 },
		{ "a/../b", 6, 0 },
		{ "nul\0x", 5, 0 },
		{ "tab\there", 8, 0 },
		{ "new\nline", 8, 0 },
		{ "esc\x1b[0m", 8, 0 },
		{ "del\x7f", 4, 0 },
		{ "\x01", 1, 0 },
	};
	const char *why;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = xfer_name_check(cases[i].name, cases[i].len, &why);

		ck_assert_msg((rc == 0) == cases[i].ok, "case %zu", i);
		if (!cases[i].ok)
			ck_assert_ptr_nonnull(why);
	}
	ck_assert_int_eq(xfer_name_check(NULL, 0, &why), TR_EINVAL);
}
END_TEST

/* The suite. */
static Suite *
xfer_suite(void)
{
	Suite *s = suite_create("xfer");
	TCase *tc = tcase_create("xfer");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_put_then_get, 0,
	    (int)(sizeof(sizes) / sizeof(sizes[0])));
	tcase_add_test(tc, test_fetch_resume);
	tcase_add_test(tc, test_fetch_resume_retry);
	tcase_add_test(tc, test_upload_resume);
	tcase_add_test(tc, test_upload_already_held);
	tcase_add_test(tc, test_upload_corrupt);
	tcase_add_test(tc, test_fetch_flipped_bit);
	tcase_add_test(tc, test_fetch_wrong_sha);
	tcase_add_test(tc, test_fetch_wrong_size);
	tcase_add_test(tc, test_not_found);
	tcase_add_test(tc, test_busy_then_ok);
	tcase_add_test(tc, test_bad_sha_arg);
	tcase_add_test(tc, test_hash_vector);
	tcase_add_test(tc, test_name_check);
	suite_add_tcase(s, tc);
	return s;
}

/* Run the suite. */
int
main(void)
{
	return tu_run(xfer_suite());
}
