/* The file channel: gets and puts of blobs as AES-256-GCM chunks, one reusable buffer per transfer worker. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "blob.h"
#include "chunk.h"
#include "err.h"
#include "hex.h"
#include "hubdb.h"
#include "journal.h"
#include "kdf.h"
#include "log.h"
#include "msg.h"
#include "session.h"
#include "thr.h"
#include "tls.h"
#include "transfer.h"

/* What BUSY tells a node whose blob another node is putting right now. */
#define TRANSFER_RETRY_AFTER_MS	1000
/* How long a refused stream is drained before the close. */
#define TRANSFER_LINGER_MS	1000

/* One worker's reusable state. */
struct transfer_worker {
	struct chunk_ctx *cc;
	uint8_t *body;			/* a 'C' frame body */
	uint8_t *plain;			/* its plaintext */
	size_t cap;			/* chunk size both hold */
};

struct transfer {
	int n;
	struct transfer_worker *w;
};

/* A request being served. */
struct transfer_req {
	char id[TR_UUID_LEN + 1];
	const char *op;
	char sha[BLOB_HEX_LEN + 1];
	uint8_t sha_raw[TR_HASH_LEN];
	int64_t size;			/* put: the claimed size */
	int64_t offset;
	uint32_t chunk;			/* the chunk size chosen */
	uint8_t key[TR_KEY_LEN];	/* the file key */
	long long started_ms;
	int64_t rate;			/* bytes/s, 0 = unlimited */
	int64_t moved;			/* file bytes moved */
};

/* Per-worker state for NWORKERS workers. */
struct transfer *
transfer_new(int nworkers)
{
	struct transfer *x = calloc(1, sizeof(*x));

	if (x == NULL || (x->w = calloc((size_t)nworkers,
	    sizeof(*x->w))) == NULL) {
		free(x);
		return NULL;
	}
	x->n = nworkers;
	for (int i = 0; i < nworkers; i++)
		if ((x->w[i].cc = chunk_ctx_new()) == NULL) {
			transfer_free(x);
			return NULL;
		}
	return x;
}

/* Free X. */
void
transfer_free(struct transfer *x)
{
	if (x == NULL)
		return;
	for (int i = 0; i < x->n; i++) {
		chunk_ctx_free(x->w[i].cc);
		free(x->w[i].body);
		free(x->w[i].plain);
	}
	free(x->w);
	free(x);
}

/* Make worker W's buffers hold chunks of CHUNK bytes (grows, never shrinks). */
static int
transfer_buffers(struct transfer_worker *w, uint32_t chunk)
{
	uint8_t *b, *p;

	if (w->cap >= chunk)
		return 0;
	if ((b = realloc(w->body, chunk_body_len(chunk))) == NULL)
		return TR_ENOMEM;
	w->body = b;
	if ((p = realloc(w->plain, chunk)) == NULL)
		return TR_ENOMEM;
	w->plain = p;
	w->cap = chunk;
	return 0;
}

/* Number of chunks of a SIZE-byte file (a 0-byte file has one empty chunk). */
static int64_t
transfer_chunks(int64_t size, uint32_t chunk)
{
	return size == 0 ? 1 : (size + chunk - 1) / chunk;
}

/* Sleep as long as the rate limit asks after R moved its bytes. */
static void
transfer_throttle(struct transfer_req *r)
{
	long long due, now;

	if (r->rate <= 0)
		return;
	due = r->started_ms + (long long)(r->moved * 1000 / r->rate);
	now = thr_mono_ms();
	if (due > now) {
		struct timespec ts = { (due - now) / 1000,
		    ((due - now) % 1000) * 1000000 };

		nanosleep(&ts, NULL);
	}
}

/* ERROR with a details object of one string member KEY = VALUE. */
static void
transfer_error(struct hub_conn *hc, json_object *env, const char *code,
    const char *message, const char *key, const char *value)
{
	json_object *d = NULL;

	if (key != NULL && (d = json_object_new_object()) != NULL)
		json_object_object_add(d, key, json_object_new_string(value));
	session_error(hc, env, code, message, d);
}

/* Send TRANSFER_READY for R answering ENV. */
static int
transfer_ready(struct hub_conn *hc, json_object *env, struct transfer_req *r,
    int64_t size)
{
	json_object *p = json_object_new_object();

	if (p == NULL)
		return TR_ENOMEM;
	json_object_object_add(p, "transfer_id", json_object_new_string(r->id));
	json_object_object_add(p, "size", json_object_new_int64(size));
	json_object_object_add(p, "chunk_size", json_object_new_int64(r->chunk));
	json_object_object_add(p, "offset", json_object_new_int64(r->offset));
	json_object_object_add(p, "chunks",
	    json_object_new_int64(transfer_chunks(size, r->chunk)));
	return conn_send_msg(&hc->c, TR_MSG_TRANSFER_READY, msg_id(env), p,
	    NULL, 0, NULL);
}

/* Send TRANSFER_COMPLETE with STATUS for a put. */
static int
transfer_complete(struct hub_conn *hc, json_object *env,
    const struct transfer_req *r, const char *status)
{
	json_object *p = json_object_new_object();

	if (p == NULL)
		return TR_ENOMEM;
	json_object_object_add(p, "transfer_id", json_object_new_string(r->id));
	json_object_object_add(p, "sha256", json_object_new_string(r->sha));
	json_object_object_add(p, "size", json_object_new_int64(r->size));
	json_object_object_add(p, "status", json_object_new_string(status));
	return conn_send_msg(&hc->c, TR_MSG_TRANSFER_COMPLETE, msg_id(env), p,
	    NULL, 0, NULL);
}

/* Log the summary line of a transfer. */
static void
transfer_log(struct hub_conn *hc, const struct transfer_req *r,
    const char *result)
{
	long long ms = thr_mono_ms() - r->started_ms;

	log_info("transfer %s: node %s sha256 %.12s offset %" PRId64 ", %"
	    PRId64 " bytes in %lld ms: %s", r->op, hc->session.node_id,
	    r->sha, r->offset, r->moved, ms, result);
	__atomic_add_fetch(strcmp(result, "ok") == 0 ?
	    &hc->hub->stats.transfers_ok : &hc->hub->stats.transfers_failed, 1,
	    __ATOMIC_RELAXED);
}

/* A collection name. */
struct transfer_name {
	char s[65];
};

/*
 * The collections the session may read (WRITE: write) into *OUT
 * (malloc'd, free(); NULL when none) and their number; TR_ENOMEM.
 */
static int
transfer_colls(struct hub_conn *hc, int write, struct transfer_name **out,
    size_t *n)
{
	struct hub *hub = hc->hub;
	struct transfer_name *arr = NULL;
	const char *roles[CONF_MAX_ROLES];
	int nroles = hc->session.nroles;
	size_t found = 0;
	int rc = 0;

	for (int i = 0; i < nroles; i++)
		roles[i] = hc->session.roles[i];
	thr_rdlock(&hub->conf_lock);
	if (hub->conf.ncollections > 0 && (arr = calloc(hub->conf.ncollections,
	    sizeof(*arr))) == NULL)
		rc = TR_ENOMEM;
	for (size_t i = 0; arr != NULL && i < hub->conf.ncollections; i++) {
		const struct conf_collection *c = &hub->conf.collections[i];

		if (write ? conf_roles_match(c->write, c->nwrite, roles,
		    nroles) : conf_roles_match(c->read, c->nread, roles, nroles))
			memcpy(arr[found++].s, c->name, sizeof(arr[0].s));
	}
	thr_rwunlock(&hub->conf_lock);
	if (found == 0) {
		free(arr);
		arr = NULL;
	}
	*out = arr;
	*n = found;
	return rc;
}

/* May this node get blob SHA: it uploaded it, or a live record it may read names it. */
static int
transfer_may_get(struct hub_conn *hc, const char *sha)
{
	struct transfer_name *colls = NULL;
	const char **names = NULL;
	size_t n = 0;
	int ok = 0;

	if (hubdb_upload_by(hc->db, sha, hc->session.node_id))
		return 1;
	if (transfer_colls(hc, 0, &colls, &n) != 0 || n == 0 ||
	    (names = calloc(n, sizeof(*names))) == NULL)
		goto out;
	for (size_t i = 0; i < n; i++)
		names[i] = colls[i].s;
	ok = journal_file_named(hc->db, sha, names, n);
out:
	free(names);
	free(colls);
	return ok;
}

/* Serve a get: READY, then the chunks from the request's offset. */
static int
transfer_get(struct hub_conn *hc, struct transfer_worker *w, json_object *env,
    struct transfer_req *r)
{
	json_object *done = NULL;
	int64_t size, first, chunks;
	size_t bodylen;
	int fd = -1, rc;

	if (!transfer_may_get(hc, r->sha) ||
	    blob_open_read(hc->hub->blobs, r->sha, &fd, &size) != 0) {
		transfer_log(hc, r, "not found");
		return session_error(hc, env, TR_CODE_NOT_FOUND, "no such file",
		    NULL);
	}
	if (r->offset % r->chunk != 0 || r->offset > size) {
		close(fd);
		transfer_log(hc, r, "bad offset");
		return session_error(hc, env, TR_CODE_INVALID_REQUEST,
		    "offset must be a multiple of chunk_size and at most size",
		    NULL);
	}
	if ((rc = transfer_buffers(w, r->chunk)) != 0 ||
	    (rc = transfer_ready(hc, env, r, size)) != 0)
		goto out;
	chunks = transfer_chunks(size, r->chunk);
	for (first = r->offset / r->chunk; first < chunks; first++) {
		int64_t at = first * (int64_t)r->chunk;
		size_t len = size - at < (int64_t)r->chunk ?
		    (size_t)(size - at) : r->chunk, got = 0;

		while (got < len) {
			ssize_t n = pread(fd, w->plain + got, len - got,
			    (off_t)(at + (int64_t)got));

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				rc = TR_EIO;
				goto out;
			}
			got += (size_t)n;
		}
		if ((rc = chunk_seal(w->cc, r->key, r->id, TR_DIR_H2C,
		    (uint64_t)first, first == chunks - 1, w->plain, len,
		    w->body, &bodylen)) != 0 ||
		    (rc = frame_write(&hc->c.fc, TR_FRAME_CHUNK, w->body,
		    (uint32_t)bodylen)) != 0)
			goto out;
		r->moved += (int64_t)len;
		__atomic_add_fetch(&hc->hub->stats.file_bytes_out, len,
		    __ATOMIC_RELAXED);
		transfer_throttle(r);
	}
	/* The node answers with TRANSFER_COMPLETE; the hub does not reply. */
	if ((rc = session_recv(hc, &done)) != 0)
		goto out;
	if (strcmp(msg_type(done), TR_MSG_TRANSFER_COMPLETE) != 0) {
		rc = session_error(hc, done, TR_CODE_INVALID_REQUEST,
		    "TRANSFER_COMPLETE expected", NULL);
		rc = rc != 0 ? rc : TR_EPROTO;
	}
out:
	close(fd);
	transfer_log(hc, r, rc == 0 ? "ok" : tr_strerror(rc));
	json_object_put(done);
	return rc;
}

/*
 * Receive chunks FIRST .. CHUNKS-1 of put R into P (NULL: verify the
 * single empty chunk of a 0-byte blob already held).  0, or a negative
 * code after any ERROR was sent.
 */
static int
transfer_recv_chunks(struct hub_conn *hc, struct transfer_worker *w,
    json_object *env, struct transfer_req *r, struct blob_put *p,
    int64_t first, int64_t chunks)
{
	uint8_t type;
	uint32_t len, max;
	size_t plen;
	int rc;

	for (int64_t i = first; i < chunks; i++) {
		int last = i == chunks - 1;
		int64_t want = last ? r->size - i * (int64_t)r->chunk :
		    (int64_t)r->chunk;

		rc = frame_read_header(&hc->c.fc, &hc->c.limits, &type, &len,
		    &max);
		if (rc == 0 && (type != TR_FRAME_CHUNK ||
		    len > chunk_body_len(r->chunk))) {
			transfer_error(hc, env, TR_CODE_INVALID_REQUEST,
			    "a chunk frame of at most chunk_size was expected",
			    "reason", "chunk_frame");
			return TR_EPROTO;
		}
		if (rc != 0 || (rc = frame_read_full(&hc->c.fc, w->body,
		    len)) != 0)
			return rc;	/* the sender stalled or vanished */
		rc = chunk_open(w->cc, r->key, r->id, TR_DIR_C2H, (uint64_t)i,
		    last, w->body, len, w->plain, &plen);
		if (rc == TR_EAUTHTAG || rc == TR_EPROTO || rc == TR_EINVAL) {
			transfer_error(hc, env, TR_CODE_INVALID_REQUEST,
			    rc == TR_EAUTHTAG ? "chunk authentication failed" :
			    "chunk out of order", "reason", rc == TR_EAUTHTAG ?
			    "chunk_auth_failed" : "chunk_index");
			return rc;
		}
		if (rc != 0)
			return rc;
		if ((int64_t)plen != want) {
			transfer_error(hc, env, TR_CODE_INVALID_REQUEST,
			    "chunk of the wrong length", "reason",
			    "chunk_length");
			return TR_EPROTO;
		}
		if (p != NULL && (rc = blob_put_write(p, w->plain, plen)) != 0) {
			char why[160];

			snprintf(why, sizeof(why), "cannot store the file: %s",
			    rc == TR_EIO ? strerror(errno) : tr_strerror(rc));
			log_err("transfer put: node %s sha256 %.12s: %s",
			    hc->session.node_id, r->sha, why);
			session_error(hc, env, TR_CODE_INTERNAL_ERROR, why, NULL);
			return rc;
		}
		r->moved += (int64_t)plen;
		__atomic_add_fetch(&hc->hub->stats.file_bytes_in, plen,
		    __ATOMIC_RELAXED);
		transfer_throttle(r);
	}
	return 0;
}

/* Serve a put: READY with what the hub holds, the chunks, then COMPLETE. */
static int
transfer_put(struct hub_conn *hc, struct transfer_worker *w, json_object *env,
    struct transfer_req *r)
{
	struct blob_put *p = NULL;
	struct transfer_name *colls = NULL;
	int64_t max_size, chunks;
	size_t nwrite = 0;
	int corrupt = 0, rc;

	if (transfer_colls(hc, 1, &colls, &nwrite) != 0 || nwrite == 0) {
		free(colls);
		transfer_log(hc, r, "access denied");
		return session_error(hc, env, TR_CODE_ACCESS_DENIED,
		    "the node may not write any collection", NULL);
	}
	free(colls);
	thr_rdlock(&hc->hub->conf_lock);
	max_size = hc->hub->conf.max_file_size;
	thr_rwunlock(&hc->hub->conf_lock);
	if (r->size > max_size) {
		json_object *d = json_object_new_object();

		json_object_object_add(d, "max", json_object_new_int64(max_size));
		transfer_log(hc, r, "too large");
		return session_error(hc, env, TR_CODE_TOO_LARGE,
		    "file larger than max_file_size", d);
	}
	rc = blob_put_begin(hc->hub->blobs, r->sha, r->size, r->chunk, &p,
	    &r->chunk, &r->offset);
	if (rc == TR_EBUSY) {
		json_object *d = json_object_new_object();

		json_object_object_add(d, "retry_after_ms",
		    json_object_new_int(TRANSFER_RETRY_AFTER_MS));
		transfer_log(hc, r, "busy");
		return session_error(hc, env, TR_CODE_BUSY,
		    "this file is being received from another node", d);
	}
	if (rc == TR_EEXIST) {
		transfer_log(hc, r, "size mismatch");
		return session_error(hc, env, TR_CODE_INVALID_REQUEST,
		    "size does not match the stored file", NULL);
	}
	if (rc != 0) {
		log_err("transfer put: node %s sha256 %.12s: cannot begin: %s",
		    hc->session.node_id, r->sha, rc == TR_ESYS ?
		    strerror(errno) : tr_strerror(rc));
		return session_error(hc, env, TR_CODE_INTERNAL_ERROR,
		    "cannot store the file", NULL);
	}
	chunks = transfer_chunks(r->size, r->chunk);
	if ((rc = transfer_buffers(w, r->chunk)) != 0 ||
	    (rc = transfer_ready(hc, env, r, r->size)) != 0)
		goto fail;
	if (p == NULL) {
		/* Held already; a 0-byte file still streams its empty chunk. */
		if (r->size == 0 && (rc = transfer_recv_chunks(hc, w, env, r,
		    NULL, 0, 1)) != 0)
			goto fail;
	} else {
		if ((rc = transfer_recv_chunks(hc, w, env, r, p,
		    r->offset / r->chunk, chunks)) != 0)
			goto fail;
		rc = blob_put_finish(p, &corrupt);
		p = NULL;
		if (rc != 0) {
			log_err("transfer put: node %s sha256 %.12s: cannot "
			    "publish: %s", hc->session.node_id, r->sha,
			    rc == TR_ESYS || rc == TR_EIO ? strerror(errno) :
			    tr_strerror(rc));
			session_error(hc, env, TR_CODE_INTERNAL_ERROR,
			    "cannot store the file", NULL);
			goto fail;
		}
	}
	if (!corrupt && hubdb_upload_add(hc->db, r->sha, hc->session.node_id,
	    r->size, msg_now_ms()) != 0)
		log_warn("transfer put: cannot record the upload of %.12s by "
		    "%s", r->sha, hc->session.node_id);
	rc = transfer_complete(hc, env, r, corrupt ? "corrupt" : "ok");
	transfer_log(hc, r, corrupt ? "corrupt" : "ok");
	return rc;
fail:
	blob_put_abort(p);	/* the verified chunks stay for a resume */
	transfer_log(hc, r, tr_strerror(rc));
	return rc;
}

/* Check a TRANSFER_REQUEST into R: 0, or a reason in *WHY. */
static int
transfer_parse(struct hub_conn *hc, json_object *env, struct transfer_req *r,
    const char **why)
{
	json_object *p = msg_payload(env);
	const char *s;
	int64_t v;

	memset(r, 0, sizeof(*r));
	r->started_ms = thr_mono_ms();
	r->op = "?";
	*why = "transfer_id must be a UUID v4";
	if (msg_get_str(p, "transfer_id", &s) != 0 || !msg_valid_uuid(s))
		return TR_EINVAL;
	memcpy(r->id, s, TR_UUID_LEN + 1);
	*why = "op must be \"get\" or \"put\"";
	if (msg_get_str(p, "op", &r->op) != 0 || (strcmp(r->op, "get") != 0 &&
	    strcmp(r->op, "put") != 0))
		return TR_EINVAL;
	*why = "sha256 must be 64 lowercase hex digits";
	if (msg_get_str(p, "sha256", &s) != 0 || !blob_valid_hex(s) ||
	    hex_decode(s, BLOB_HEX_LEN, r->sha_raw, TR_HASH_LEN) != 0)
		return TR_EINVAL;
	memcpy(r->sha, s, BLOB_HEX_LEN + 1);
	*why = "offset must be an integer of at least 0";
	if (msg_get_int(p, "offset", &r->offset) != 0 || r->offset < 0)
		return TR_EINVAL;
	*why = "size must be an integer of at least 0";
	if (strcmp(r->op, "put") == 0 && (msg_get_int(p, "size",
	    &r->size) != 0 || r->size < 0))
		return TR_EINVAL;
	/* The request's chunk size when it is a power of two in range. */
	r->chunk = hc->lim.chunk_size;
	if (msg_get_int(p, "chunk_size", &v) == 0 && v >= TR_MIN_CHUNK_SIZE &&
	    v <= TR_MAX_CHUNK_SIZE && (v & (v - 1)) == 0)
		r->chunk = (uint32_t)v;
	thr_rdlock(&hc->hub->conf_lock);
	r->rate = hc->hub->conf.transfer_rate_limit;
	thr_rwunlock(&hc->hub->conf_lock);
	return 0;
}

/* Serve one TRANSFER_REQUEST; 0 to go on, a negative code to close. */
static int
transfer_step(struct hub_conn *hc, struct transfer_worker *w)
{
	struct transfer_req r;
	json_object *env = NULL;
	const char *why;
	int rc;

	if ((rc = session_recv(hc, &env)) != 0)
		return rc;
	if (strcmp(msg_type(env), TR_MSG_TRANSFER_REQUEST) != 0) {
		rc = session_error(hc, env, TR_CODE_INVALID_REQUEST,
		    "only TRANSFER_REQUEST is served on the file channel", NULL);
		goto out;
	}
	if (transfer_parse(hc, env, &r, &why) != 0) {
		rc = session_error(hc, env, TR_CODE_INVALID_REQUEST, why, NULL);
		goto out;
	}
	if ((rc = kdf_file_key(hc->conn_key, r.sha_raw, r.id, r.key)) != 0)
		goto out;
	rc = strcmp(r.op, "get") == 0 ? transfer_get(hc, w, env, &r) :
	    transfer_put(hc, w, env, &r);
	kdf_cleanse(r.key, sizeof(r.key));
out:
	json_object_put(env);
	return rc;
}

/*
 * Close FD without losing what was just sent: stop writing, then read and
 * drop what the peer still sends (the rest of a refused stream) for at
 * most LINGER_MS, so that the kernel does not answer it with a reset that
 * could discard our ERROR before the peer reads it.
 */
static void
transfer_linger(int fd, long linger_ms)
{
	static __thread char sink[65536];
	long long until = thr_mono_ms() + linger_ms;

	if (shutdown(fd, SHUT_WR) != 0)
		return;
	session_set_timeouts(fd, 100);
	while (thr_mono_ms() < until && read(fd, sink, sizeof(sink)) > 0)
		;
}

/* Serve one file-channel connection. */
void
transfer_serve(void *arg, struct pool_item *item, int worker)
{
	struct hub *hub = arg;
	struct hub_conn hc;
	int rc = 0;

	memset(&hc, 0, sizeof(hc));
	hc.hub = hub;
	hc.item = item;
	hc.worker = worker;
	hc.channel = HUB_CHANNEL_FILE;
	hc.db = hub->file_dbs[worker];
	if (session_open(&hc, hub->file_pool, hub->tls_file,
	    TR_MAX_CHUNK_SIZE + TR_CHUNK_OVERHEAD) == 0)
		while (!hub_stopping(hub) && (rc = transfer_step(&hc,
		    &hub->xfer->w[worker])) == 0)
			;
	session_close(&hc);
	/* A refused stream: the node may still be sending chunks. */
	if (rc == TR_EAUTHTAG || rc == TR_EPROTO || rc == TR_EINVAL)
		transfer_linger(item->fd, TRANSFER_LINGER_MS);
}
