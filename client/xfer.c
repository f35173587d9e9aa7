/* The node's side of file transfer: TRANSFER_REQUEST/READY/COMPLETE and 'C' frames over the file channel. */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "chunk.h"
#include "err.h"
#include "hex.h"
#include "kdf.h"
#include "log.h"
#include "msg.h"
#include "xfer.h"

#define XFER_HASH_BUF		65536
#define XFER_BODY_ROOM(cs)	((size_t)(cs) + TR_CHUNK_HDR_LEN + TR_GCM_TAG_LEN)

/* One attempt of a transfer on one connection. */
struct xfer_run {
	const struct xfer_opts *o;
	struct xfer_result *res;
	struct link *l;
	struct chunk_ctx *cc;
	EVP_MD_CTX *md;
	uint8_t key[TR_KEY_LEN];	/* file_key */
	uint8_t sha[TR_HASH_LEN];
	const char *sha_hex;
	char tid[TR_UUID_LEN + 1];
	char reqid[TR_UUID_LEN + 1];
	uint8_t *buf;			/* the one buffer: body, then plaintext */
	size_t bodycap;
	int64_t size;
	int64_t offset;
	int64_t chunks;
	uint32_t cs;
};

/* Set RES->err (printf-style). */
static void
xfer_seterr(struct xfer_result *res, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void
xfer_seterr(struct xfer_result *res, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(res->err, sizeof(res->err), fmt, ap);
	va_end(ap);
}

/* Non-zero when V is a chunk size the protocol allows. */
static int
xfer_valid_cs(int64_t v)
{
	return v >= TR_MIN_CHUNK_SIZE && v <= TR_MAX_CHUNK_SIZE &&
	    (v & (v - 1)) == 0;
}

/* Chunks of a file of SIZE bytes: a 0-byte file has one empty chunk. */
static int64_t
xfer_nchunks(int64_t size, uint32_t cs)
{
	return size == 0 ? 1 : (size + (int64_t)cs - 1) / (int64_t)cs;
}

/* Report progress DONE of TOTAL bytes. */
static void
xfer_progress(const struct xfer_run *x, const char *what, int64_t done)
{
	if (x->o->progress != NULL)
		x->o->progress(x->o->progress_arg, what, done, x->size);
}

/* Check a file name for materializing in a files directory. */
int
xfer_name_check(const char *name, size_t len, const char **why)
{
	*why = "the name is empty";
	if (name == NULL || len == 0)
		return TR_EINVAL;
	*why = "the name is \".\" or \"..\"";
	if ((len == 1 && name[0] == '.') ||
	    (len == 2 && name[0] == '.' && name[1] == '.'))
		return TR_EINVAL;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		*why = "the name holds a '/'";
		if (c == '/')
			return TR_EINVAL;
		*why = "the name holds a NUL byte";
		if (c == 0)
			return TR_EINVAL;
		*why = "the name holds a control character";
		if (c < 0x20 || c == 0x7f)
			return TR_EINVAL;
	}
	*why = NULL;
	return 0;
}

/* Hash the file PATH. */
int
xfer_hash_file(const char *path, char hex[2 * TR_HASH_LEN + 1],
    int64_t *size, char *err, size_t errlen)
{
	uint8_t *buf = NULL, md[TR_HASH_LEN];
	EVP_MD_CTX *ctx = NULL;
	struct stat st;
	int64_t total = 0;
	ssize_t n;
	int fd, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return errno == ENOENT ? TR_ENOTFOUND : TR_ESYS;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		rc = TR_EINVAL;
		goto out;
	}
	if ((buf = malloc(XFER_HASH_BUF)) == NULL ||
	    (ctx = EVP_MD_CTX_new()) == NULL) {
		snprintf(err, errlen, "%s", tr_strerror(TR_ENOMEM));
		rc = TR_ENOMEM;
		goto out;
	}
	rc = TR_ECRYPTO;
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		goto out;
	while ((n = read(fd, buf, XFER_HASH_BUF)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			rc = TR_ESYS;
			goto out;
		}
		if (EVP_DigestUpdate(ctx, buf, (size_t)n) != 1)
			goto out;
		total += n;
	}
	if (EVP_DigestFinal_ex(ctx, md, NULL) != 1)
		goto out;
	hex_encode(md, sizeof(md), hex);
	*size = total;
	rc = 0;
out:
	if (rc == TR_ECRYPTO)
		snprintf(err, errlen, "SHA-256 failed");
	EVP_MD_CTX_free(ctx);
	free(buf);
	close(fd);
	return rc;
}

/* Send TRANSFER_REQUEST for OP with OFFSET (and the size, for a put). */
static int
xfer_request(struct xfer_run *x, const char *op, int64_t offset)
{
	json_object *p;
	int rc;

	msg_new_uuid(x->tid);
	if ((p = json_object_new_object()) == NULL)
		return TR_ENOMEM;
	json_object_object_add(p, "transfer_id",
	    json_object_new_string(x->tid));
	json_object_object_add(p, "op", json_object_new_string(op));
	json_object_object_add(p, "sha256",
	    json_object_new_string(x->sha_hex));
	if (strcmp(op, "put") == 0)
		json_object_object_add(p, "size",
		    json_object_new_int64(x->size));
	json_object_object_add(p, "offset", json_object_new_int64(offset));
	json_object_object_add(p, "chunk_size",
	    json_object_new_int64(x->cs));
	if ((rc = link_send(x->l, TR_MSG_TRANSFER_REQUEST, NULL, p,
	    x->reqid)) != 0)
		xfer_seterr(x->res, "%s", x->l->err);
	return rc;
}

/* Receive the answer to the request: a message of TYPE, or the hub's ERROR as its code. */
static int
xfer_answer(struct xfer_run *x, const char *type, json_object **env)
{
	const char *irt, *tid;
	int rc;

	if ((rc = link_recv(x->l, env)) != 0) {
		xfer_seterr(x->res, "waiting for %s: %s", type, x->l->err);
		return rc;
	}
	irt = msg_in_reply_to(*env);
	if (irt == NULL || strcmp(irt, x->reqid) != 0) {
		xfer_seterr(x->res, "the hub's %s does not answer our "
		    "TRANSFER_REQUEST", msg_type(*env));
		rc = TR_EPROTO;
	} else if (strcmp(msg_type(*env), TR_MSG_ERROR) == 0) {
		rc = link_error(x->l, *env);
		xfer_seterr(x->res, "%s", x->l->err);
	} else if (strcmp(msg_type(*env), type) != 0) {
		xfer_seterr(x->res, "expected %s, got %s", type,
		    msg_type(*env));
		rc = TR_EPROTO;
	} else if (msg_get_str(msg_payload(*env), "transfer_id", &tid) != 0 ||
	    strcmp(tid, x->tid) != 0) {
		xfer_seterr(x->res, "%s names another transfer", type);
		rc = TR_EPROTO;
	}
	if (rc != 0) {
		json_object_put(*env);
		*env = NULL;
	}
	return rc;
}

/* Read TRANSFER_READY into X (size, chunk_size, offset, chunks) and set up the keys and buffer. */
static int
xfer_ready(struct xfer_run *x, int64_t want_size)
{
	json_object *env = NULL, *p;
	int64_t size, cs, offset, chunks;
	const char *what;
	int rc;

	if ((rc = xfer_answer(x, TR_MSG_TRANSFER_READY, &env)) != 0)
		return rc;
	p = msg_payload(env);
	rc = TR_EPROTO;
	what = "size";
	if (msg_get_int(p, "size", &size) != 0 || size < 0 ||
	    (want_size >= 0 && size != want_size))
		goto bad;
	what = "chunk_size";
	if (msg_get_int(p, "chunk_size", &cs) != 0 || !xfer_valid_cs(cs))
		goto bad;
	what = "offset";
	if (msg_get_int(p, "offset", &offset) != 0 || offset < 0 ||
	    offset > size || (offset % cs != 0 && offset != size))
		goto bad;
	what = "chunks";
	if (msg_get_int(p, "chunks", &chunks) != 0 ||
	    chunks != xfer_nchunks(size, (uint32_t)cs))
		goto bad;
	x->size = size;
	x->cs = (uint32_t)cs;
	x->offset = offset;
	x->chunks = chunks;
	x->bodycap = XFER_BODY_ROOM(cs);
	if ((x->buf = malloc(x->bodycap + (size_t)cs)) == NULL) {
		rc = TR_ENOMEM;
		xfer_seterr(x->res, "%s", tr_strerror(rc));
		goto out;
	}
	if ((rc = kdf_file_key(x->l->conn_key, x->sha, x->tid, x->key)) != 0) {
		xfer_seterr(x->res, "file key: %s", tr_strerror(rc));
		goto out;
	}
	x->l->c.limits.max_chunk = (uint32_t)cs + TR_CHUNK_OVERHEAD;
	rc = 0;
	goto out;
bad:
	xfer_seterr(x->res, "TRANSFER_READY has a missing or invalid %s", what);
out:
	json_object_put(env);
	return rc;
}

/* Tell the hub why this side ends the transfer (best effort): INVALID_REQUEST with REASON. */
static void
xfer_complain(struct xfer_run *x, const char *message, const char *reason)
{
	json_object *d = json_object_new_object();

	if (d != NULL && reason != NULL)
		json_object_object_add(d, "reason",
		    json_object_new_string(reason));
	conn_send_error(&x->l->c, x->reqid, TR_CODE_INVALID_REQUEST, message,
	    d, NULL, 0);
}

/* Send TRANSFER_COMPLETE for a get with STATUS. */
static int
xfer_send_complete(struct xfer_run *x, const char *status)
{
	json_object *p;

	if ((p = json_object_new_object()) == NULL)
		return TR_ENOMEM;
	json_object_object_add(p, "transfer_id",
	    json_object_new_string(x->tid));
	json_object_object_add(p, "sha256",
	    json_object_new_string(x->sha_hex));
	json_object_object_add(p, "size", json_object_new_int64(x->size));
	json_object_object_add(p, "status", json_object_new_string(status));
	return link_send(x->l, TR_MSG_TRANSFER_COMPLETE, x->reqid, p, NULL);
}

/* Write LEN bytes of BUF at OFF of FD. */
static int
xfer_pwrite(int fd, const uint8_t *buf, size_t len, int64_t off)
{
	while (len > 0) {
		ssize_t n = pwrite(fd, buf, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return TR_ESYS;
		buf += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

/* Read exactly LEN bytes at OFF of FD into BUF (a short file is TR_ETRUNC). */
static int
xfer_pread(int fd, uint8_t *buf, size_t len, int64_t off)
{
	while (len > 0) {
		ssize_t n = pread(fd, buf, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return TR_ESYS;
		if (n == 0)
			return TR_ETRUNC;
		buf += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

/* The partial file of SHA_HEX in DIR for chunk size CS into PATH. */
static void
xfer_partial_name(const char *dir, const char *sha_hex, uint32_t cs,
    char *path, size_t len)
{
	snprintf(path, len, "%s/%s.%u.part", dir, sha_hex, (unsigned)cs);
}

/* An existing partial of SHA_HEX in DIR: its chunk size into *CS (0 when none). */
static void
xfer_partial_find(const char *dir, const char *sha_hex, uint32_t *cs)
{
	struct dirent *de;
	size_t hl = strlen(sha_hex);
	DIR *d;

	*cs = 0;
	if ((d = opendir(dir)) == NULL)
		return;
	while (*cs == 0 && (de = readdir(d)) != NULL) {
		char *end;
		long long v;

		if (strncmp(de->d_name, sha_hex, hl) != 0 ||
		    de->d_name[hl] != '.')
			continue;
		errno = 0;
		v = strtoll(de->d_name + hl + 1, &end, 10);
		if (errno == 0 && strcmp(end, ".part") == 0 &&
		    xfer_valid_cs(v))
			*cs = (uint32_t)v;
	}
	closedir(d);
}

/* Make DIR (one level) with mode 0700 unless it exists. */
static int
xfer_mkdir(const char *dir, struct xfer_result *res)
{
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		xfer_seterr(res, "%s: %s", dir, strerror(errno));
		return TR_ESYS;
	}
	return 0;
}

/* fsync the directory holding PATH. */
static void
xfer_sync_dir(const char *path)
{
	char *copy = strdup(path);
	int fd;

	if (copy == NULL)
		return;
	if ((fd = open(dirname(copy), O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) >= 0) {
		fsync(fd);
		close(fd);
	}
	free(copy);
}

/* Copy the verified partial PFD into OUT through a temp file beside it (another file system). */
static int
xfer_copy_out(struct xfer_run *x, int pfd, const char *out)
{
	char *tmp = NULL;
	int64_t off = 0;
	size_t cap = x->bodycap + x->cs;
	int fd = -1, rc;

	if (asprintf(&tmp, "%s.XXXXXX", out) < 0) {
		tmp = NULL;
		return TR_ENOMEM;
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		rc = TR_ESYS;
		goto out;
	}
	while (off < x->size) {
		size_t n = (size_t)(x->size - off) < cap ?
		    (size_t)(x->size - off) : cap;

		if ((rc = xfer_pread(pfd, x->buf, n, off)) != 0 ||
		    (rc = xfer_pwrite(fd, x->buf, n, off)) != 0)
			goto out;
		off += (int64_t)n;
	}
	if (fchmod(fd, 0644) != 0 || fsync(fd) != 0 ||
	    rename(tmp, out) != 0) {
		rc = TR_ESYS;
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (rc != 0 && tmp != NULL)
		unlink(tmp);
	free(tmp);
	return rc;
}

/* Hash the HELD bytes of the partial PFD into X->md. */
static int
xfer_hash_held(struct xfer_run *x, int pfd, int64_t held)
{
	int64_t off = 0;
	int rc;

	while (off < held) {
		size_t n = (size_t)(held - off) < x->bodycap ?
		    (size_t)(held - off) : x->bodycap;

		if ((rc = xfer_pread(pfd, x->buf, n, off)) != 0)
			return rc;
		if (EVP_DigestUpdate(x->md, x->buf, n) != 1)
			return TR_ECRYPTO;
		off += (int64_t)n;
	}
	return 0;
}

/* Receive chunks OFFSET/CS .. CHUNKS-1 into the partial PFD, hashing them. */
static int
xfer_get_chunks(struct xfer_run *x, int pfd)
{
	uint8_t *body = x->buf, *plain = x->buf + x->bodycap;
	json_object *env = NULL;
	size_t plen;
	uint32_t blen;
	int rc;

	for (int64_t i = x->offset / x->cs; i < x->chunks; i++) {
		int last = i == x->chunks - 1;
		int64_t at = i * (int64_t)x->cs;
		size_t want = last ? (size_t)(x->size - at) : x->cs;

		if ((rc = link_recv_frame(x->l, body, x->bodycap, &blen,
		    &env)) != 0) {
			xfer_seterr(x->res, "chunk %lld: %s", (long long)i,
			    x->l->err);
			return rc;
		}
		if (env != NULL) {
			if (strcmp(msg_type(env), TR_MSG_ERROR) == 0)
				rc = link_error(x->l, env);
			else {
				link_seterr(x->l, "expected chunk %lld, got %s",
				    (long long)i, msg_type(env));
				rc = TR_EPROTO;
			}
			json_object_put(env);
			xfer_seterr(x->res, "%s", x->l->err);
			return rc;
		}
		rc = chunk_open(x->cc, x->key, x->tid, TR_DIR_H2C, (uint64_t)i,
		    last, body, blen, plain, &plen);
		if (rc == TR_EAUTHTAG) {
			xfer_complain(x, "chunk authentication failed",
			    "chunk_auth_failed");
			xfer_seterr(x->res, "chunk %lld failed authentication "
			    "(chunk_auth_failed)", (long long)i);
			return rc;
		}
		if (rc == 0 && plen != want)
			rc = TR_EPROTO;
		if (rc != 0) {
			xfer_complain(x, "bad chunk", NULL);
			xfer_seterr(x->res, "chunk %lld: %s", (long long)i,
			    rc == TR_EPROTO ? "wrong index or length" :
			    tr_strerror(rc));
			return rc == TR_ECRYPTO ? rc : TR_EPROTO;
		}
		if ((rc = xfer_pwrite(pfd, plain, plen, at)) != 0) {
			xfer_seterr(x->res, "writing the partial file: %s",
			    strerror(errno));
			return rc;
		}
		if (EVP_DigestUpdate(x->md, plain, plen) != 1)
			return TR_ECRYPTO;
		x->res->moved += (int64_t)plen;
		xfer_progress(x, "fetch", at + (int64_t)plen);
	}
	return 0;
}

/* One attempt of a fetch on the logged-in L. */
static int
xfer_fetch_once(struct xfer_run *x, int64_t want_size, const char *out)
{
	char ppath[4096], npath[4096];
	uint8_t md[TR_HASH_LEN];
	struct stat st;
	int64_t held = 0;
	uint32_t cs;
	int pfd = -1, rc;

	xfer_partial_find(x->o->partial_dir, x->sha_hex, &cs);
	if (cs == 0)
		cs = x->cs;
	xfer_partial_name(x->o->partial_dir, x->sha_hex, cs, ppath,
	    sizeof(ppath));
	if ((pfd = open(ppath, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0 ||
	    fstat(pfd, &st) != 0) {
		xfer_seterr(x->res, "%s: %s", ppath, strerror(errno));
		rc = TR_ESYS;
		goto out;
	}
	/* Whole chunks only: a torn tail is dropped. */
	held = (int64_t)st.st_size - (int64_t)st.st_size % cs;
	if (held != st.st_size && ftruncate(pfd, (off_t)held) != 0) {
		xfer_seterr(x->res, "%s: %s", ppath, strerror(errno));
		rc = TR_ESYS;
		goto out;
	}
	x->cs = cs;
	rc = xfer_request(x, "get", held);
	if (rc == 0)
		rc = xfer_ready(x, want_size);
	if (rc == TR_EINVAL && held > 0) {
		/*
		 * The hub refused to resume where the partial ends (it is
		 * longer than the blob, or of another chunk size): a stale
		 * partial must not block every later fetch, so start over.
		 */
		log_debug("fetch %s: the hub refused offset %lld; starting "
		    "again from 0", x->sha_hex, (long long)held);
		if (ftruncate(pfd, 0) != 0) {
			xfer_seterr(x->res, "%s: %s", ppath, strerror(errno));
			rc = TR_ESYS;
			goto out;
		}
		held = 0;
		rc = xfer_request(x, "get", held);
		if (rc == 0)
			rc = xfer_ready(x, want_size);
	}
	if (rc != 0)
		goto out;
	if (x->offset != held) {
		xfer_seterr(x->res, "TRANSFER_READY offset %lld, asked %lld",
		    (long long)x->offset, (long long)held);
		rc = TR_EPROTO;
		goto out;
	}
	if (x->cs != cs) {
		/* The hub chose another chunk size; the held bytes still count. */
		xfer_partial_name(x->o->partial_dir, x->sha_hex, x->cs, npath,
		    sizeof(npath));
		if (rename(ppath, npath) == 0)
			memcpy(ppath, npath, sizeof(ppath));
	}
	x->res->size = x->size;
	x->res->offset = held;
	if (held > 0)
		log_debug("fetch %s: resuming at %lld of %lld bytes",
		    x->sha_hex, (long long)held, (long long)x->size);
	xfer_progress(x, "fetch", held);
	if (EVP_DigestInit_ex(x->md, EVP_sha256(), NULL) != 1 ||
	    (rc = xfer_hash_held(x, pfd, held)) != 0 ||
	    (rc = xfer_get_chunks(x, pfd)) != 0) {
		if (rc == TR_ECRYPTO || rc == TR_ESYS || rc == TR_ETRUNC) {
			xfer_seterr(x->res, "the partial file: %s",
			    tr_strerror(rc));
			rc = rc == TR_ETRUNC ? TR_ESYS : rc;
		}
		goto out;
	}
	if (EVP_DigestFinal_ex(x->md, md, NULL) != 1) {
		rc = TR_ECRYPTO;
		goto out;
	}
	if (!kdf_ct_equal(md, x->sha, sizeof(md))) {
		/* Verified chunks of the wrong file: start over next time. */
		unlink(ppath);
		xfer_send_complete(x, "corrupt");
		xfer_seterr(x->res, "the received file does not have SHA-256 "
		    "%s; nothing was written to %s", x->sha_hex, out);
		rc = TR_EPROTO;
		goto out;
	}
	if (fsync(pfd) != 0) {
		xfer_seterr(x->res, "%s: %s", ppath, strerror(errno));
		rc = TR_ESYS;
		goto out;
	}
	if (fchmod(pfd, 0644) != 0 || rename(ppath, out) != 0) {
		if (errno != EXDEV || (rc = xfer_copy_out(x, pfd, out)) != 0) {
			xfer_seterr(x->res, "%s: %s", out, strerror(errno));
			rc = TR_ESYS;
			goto out;
		}
		unlink(ppath);
	}
	xfer_sync_dir(out);
	if (xfer_send_complete(x, "ok") != 0)
		log_debug("fetch %s: TRANSFER_COMPLETE not sent: %s",
		    x->sha_hex, x->l->err);
	rc = 0;
out:
	/* Nothing held: leave no empty partial behind. */
	if (rc != 0 && pfd >= 0 && fstat(pfd, &st) == 0 && st.st_size == 0)
		unlink(ppath);
	if (pfd >= 0)
		close(pfd);
	return rc;
}

/* Read the hub's TRANSFER_COMPLETE of a put. */
static int
xfer_put_complete(struct xfer_run *x)
{
	json_object *env = NULL, *p;
	const char *status, *sha;
	int64_t size;
	int rc;

	if ((rc = xfer_answer(x, TR_MSG_TRANSFER_COMPLETE, &env)) != 0)
		return rc;
	p = msg_payload(env);
	if (msg_get_str(p, "status", &status) != 0 ||
	    msg_get_str(p, "sha256", &sha) != 0 ||
	    msg_get_int(p, "size", &size) != 0 ||
	    strcmp(sha, x->sha_hex) != 0 || size != x->size) {
		xfer_seterr(x->res, "TRANSFER_COMPLETE is malformed or names "
		    "another file");
		rc = TR_EPROTO;
	} else if (strcmp(status, "ok") != 0) {
		xfer_seterr(x->res, "the hub found the upload %s (did the "
		    "file change while it was sent?)", strcmp(status,
		    "corrupt") == 0 ? "corrupt" : "not ok");
		rc = TR_EPROTO;
	}
	json_object_put(env);
	return rc;
}

/* One attempt of an upload of the open file FD on the logged-in L. */
static int
xfer_upload_once(struct xfer_run *x, int fd)
{
	uint8_t *body = x->buf, *plain;
	size_t blen;
	int rc;

	if ((rc = xfer_request(x, "put", 0)) != 0 ||
	    (rc = xfer_ready(x, x->size)) != 0)
		return rc;
	body = x->buf;
	plain = x->buf + x->bodycap;
	x->res->size = x->size;
	x->res->offset = x->offset;
	xfer_progress(x, "upload", x->offset);
	if (x->offset == x->size && x->size > 0) {
		/* The hub holds the blob: nothing is streamed. */
		x->res->already = 1;
		return xfer_put_complete(x);
	}
	for (int64_t i = x->offset / x->cs; i < x->chunks; i++) {
		int last = i == x->chunks - 1;
		int64_t at = i * (int64_t)x->cs;
		size_t n = last ? (size_t)(x->size - at) : x->cs;

		if ((rc = xfer_pread(fd, plain, n, at)) != 0) {
			xfer_seterr(x->res, "reading the file: %s", rc ==
			    TR_ETRUNC ? "it shrank while being sent" :
			    strerror(errno));
			return TR_ESYS;
		}
		if ((rc = chunk_seal(x->cc, x->key, x->tid, TR_DIR_C2H,
		    (uint64_t)i, last, plain, n, body, &blen)) != 0) {
			xfer_seterr(x->res, "sealing chunk %lld: %s",
			    (long long)i, tr_strerror(rc));
			return rc;
		}
		if ((rc = frame_write(&x->l->c.fc, TR_FRAME_CHUNK, body,
		    (uint32_t)blen)) != 0) {
			xfer_seterr(x->res, "sending chunk %lld: %s",
			    (long long)i, tr_strerror(rc));
			return rc;
		}
		x->res->moved += (int64_t)n;
		xfer_progress(x, "upload", at + (int64_t)n);
	}
	return xfer_put_complete(x);
}

/* Non-zero when a failed attempt with RC is worth another (section 11). */
static int
xfer_retryable(int rc)
{
	switch (rc) {
	case TR_ECLOSED:
	case TR_ETRUNC:
	case TR_EIO:
	case TR_ETIMEDOUT:
	case TR_EBUSY:
		return 1;
	default:
		return 0;
	}
}

/* Run attempts of a fetch (OUT set) or an upload (FD set) with the retries of section 11. */
static int
xfer_loop(const struct xfer_opts *o, const char *sha_hex, int64_t size,
    const char *out, int fd, struct xfer_result *res)
{
	struct xfer_run x;
	struct link l;
	int64_t delay;
	int rc, retries = o->retries < 0 ? LINK_RETRIES : o->retries;

	memset(&x, 0, sizeof(x));
	x.o = o;
	x.res = res;
	x.l = &l;
	x.sha_hex = sha_hex;
	if (hex_decode(sha_hex, strlen(sha_hex), x.sha, sizeof(x.sha)) != 0 ||
	    !hex_valid(sha_hex, strlen(sha_hex), TR_HASH_LEN)) {
		xfer_seterr(res, "%s: not a SHA-256 (64 lowercase hex digits)",
		    sha_hex);
		return TR_EINVAL;
	}
	if ((x.cc = chunk_ctx_new()) == NULL || (x.md = EVP_MD_CTX_new()) ==
	    NULL) {
		rc = TR_ENOMEM;
		xfer_seterr(res, "%s", tr_strerror(rc));
		goto out;
	}
	for (res->attempts = 0;; ) {
		res->attempts++;
		res->moved = 0;
		x.cs = o->chunk_size != 0 ? o->chunk_size : TR_DEF_CHUNK_SIZE;
		x.size = size;
		memset(&l, 0, sizeof(l));
		l.fd = -1;
		if ((rc = o->connect(o->connect_arg, &l)) != 0)
			xfer_seterr(res, "%s", l.err);
		else if (out != NULL)
			rc = xfer_fetch_once(&x, size, out);
		else
			rc = xfer_upload_once(&x, fd);
		link_close(&l);
		free(x.buf);
		x.buf = NULL;
		kdf_cleanse(x.key, sizeof(x.key));
		if (rc == 0 || !xfer_retryable(rc) || res->attempts > retries)
			break;
		delay = link_backoff(o->backoff_ms > 0 ? o->backoff_ms :
		    LINK_BACKOFF_MS, res->attempts - 1, INT64_MAX / 4);
		if (rc == TR_EBUSY && l.retry_after_ms > delay)
			delay = l.retry_after_ms;
		log_debug("%s %s failed (%s), retrying in %lld ms",
		    out != NULL ? "fetch" : "upload", sha_hex, res->err,
		    (long long)delay);
		link_sleep_ms(delay);
	}
	if (rc != 0 && res->attempts > 1) {
		size_t len = strlen(res->err);

		snprintf(res->err + len, sizeof(res->err) - len,
		    " (after %d attempts)", res->attempts);
	}
out:
	EVP_MD_CTX_free(x.md);
	chunk_ctx_free(x.cc);
	return rc;
}

/* Fetch a blob into OUT_PATH. */
int
xfer_fetch(const struct xfer_opts *o, const char *sha256_hex,
    int64_t want_size, const char *out_path, struct xfer_result *res)
{
	int rc;

	memset(res, 0, sizeof(*res));
	if (o->partial_dir == NULL || out_path == NULL) {
		xfer_seterr(res, "no partial directory or output path");
		return TR_EINVAL;
	}
	if ((rc = xfer_mkdir(o->partial_dir, res)) != 0)
		return rc;
	return xfer_loop(o, sha256_hex, want_size, out_path, -1, res);
}

/* Upload the file PATH. */
int
xfer_upload(const struct xfer_opts *o, const char *path,
    const char *sha256_hex, int64_t size, struct xfer_result *res)
{
	struct stat st;
	int fd, rc;

	memset(res, 0, sizeof(*res));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		xfer_seterr(res, "%s: %s", path, strerror(errno));
		return errno == ENOENT ? TR_ENOTFOUND : TR_ESYS;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (int64_t)st.st_size != size) {
		xfer_seterr(res, "%s: not a regular file of %lld bytes (did "
		    "it change?)", path, (long long)size);
		rc = TR_EINVAL;
		goto out;
	}
	rc = xfer_loop(o, sha256_hex, size, NULL, fd, res);
out:
	close(fd);
	return rc;
}
