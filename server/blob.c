/* The blob store: content-addressed files with SHA-256 checked before an atomic rename. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "blob.h"
#include "err.h"
#include "hex.h"
#include "statedir.h"
#include "thr.h"

/* Puts of one process that may run at once (one per transfer worker in practice). */
#define BLOB_MAX_ACTIVE	256
/* Copy and hash buffer. */
#define BLOB_IO_BUF	65536

struct blob_store {
	char dir[4096];			/* DIR/blobs */
	pthread_mutex_t lock;		/* guards active */
	char active[BLOB_MAX_ACTIVE][BLOB_HEX_LEN + 1];
};

struct blob_put {
	struct blob_store *bs;
	char hex[BLOB_HEX_LEN + 1];
	char path[4200];		/* the partial */
	int fd;
	int64_t size;
	int64_t written;
	EVP_MD_CTX *md;
};

/* Non-zero when HEX is 64 lowercase hex digits. */
int
blob_valid_hex(const char *hex)
{
	if (hex == NULL || strlen(hex) != BLOB_HEX_LEN)
		return 0;
	for (const char *c = hex; *c != '\0'; c++)
		if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f')))
			return 0;
	return 1;
}

/*
 * Give PATH the owner of directory PARENT when we run as root, so that
 * trosyn-admin run as root leaves files the hub's user can use.
 */
static void
blob_own_like(const char *path, const char *parent)
{
	struct stat st;

	if (geteuid() == 0 && stat(parent, &st) == 0 &&
	    chown(path, st.st_uid, st.st_gid) != 0)
		(void)0;
}

/* Make directory PATH (mode 0700) unless it exists, owned like its parent PARENT. */
static int
blob_mkdir_in(const char *path, const char *parent)
{
	if (mkdir(path, 0700) != 0) {
		if (errno != EEXIST)
			return TR_ESYS;
		return 0;
	}
	if (parent != NULL)
		blob_own_like(path, parent);
	return 0;
}

/* Make directory PATH (mode 0700) unless it exists. */
static int
blob_mkdir(const char *path)
{
	return blob_mkdir_in(path, NULL);
}

/* fsync the directory PATH, so a rename in it is durable. */
static int
blob_sync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;

	if (fd < 0)
		return TR_ESYS;
	if (fsync(fd) != 0)
		rc = TR_EIO;
	close(fd);
	return rc;
}

/* The store of DIR. */
struct blob_store *
blob_store_open(const char *dir, char *err, size_t errlen)
{
	struct blob_store *bs = calloc(1, sizeof(*bs));
	char part[4200];

	if (bs == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&bs->lock, NULL);
	if (statedir_path(dir, STATEDIR_BLOBS, bs->dir, sizeof(bs->dir)) != 0 ||
	    blob_mkdir(bs->dir) != 0 ||
	    snprintf(part, sizeof(part), "%s/partial", bs->dir) >=
	    (int)sizeof(part) || blob_mkdir(part) != 0) {
		snprintf(err, errlen, "%s: cannot make the blob store: %s",
		    dir, strerror(errno));
		blob_store_close(bs);
		return NULL;
	}
	return bs;
}

/* Free BS. */
void
blob_store_close(struct blob_store *bs)
{
	if (bs == NULL)
		return;
	pthread_mutex_destroy(&bs->lock);
	free(bs);
}

/* The path of blob HEX under BLOBS (DIR/blobs). */
static void
blob_path(const char *blobs, const char *hex, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%.2s/%s", blobs, hex, hex + 2);
}

/* Does blob HEX exist? */
int
blob_exists(struct blob_store *bs, const char *hex, int64_t *size)
{
	char path[4200];
	struct stat st;

	if (!blob_valid_hex(hex))
		return TR_EINVAL;
	blob_path(bs->dir, hex, path, sizeof(path));
	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return TR_ENOTFOUND;
	if (size != NULL)
		*size = (int64_t)st.st_size;
	return 0;
}

/* Open blob HEX for reading. */
int
blob_open_read(struct blob_store *bs, const char *hex, int *fd, int64_t *size)
{
	char path[4200];
	struct stat st;
	int f;

	if (!blob_valid_hex(hex))
		return TR_EINVAL;
	blob_path(bs->dir, hex, path, sizeof(path));
	if ((f = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT ? TR_ENOTFOUND : TR_ESYS;
	if (fstat(f, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(f);
		return TR_ENOTFOUND;
	}
	*fd = f;
	*size = (int64_t)st.st_size;
	return 0;
}

/* Count the blobs of DIR. */
int
blob_count(const char *dir, int64_t *n)
{
	char blobs[4200], sub[4300];
	struct dirent *e, *f;
	DIR *d, *sd;

	*n = 0;
	if (statedir_path(dir, STATEDIR_BLOBS, blobs, sizeof(blobs)) != 0)
		return TR_EINVAL;
	if ((d = opendir(blobs)) == NULL)
		return errno == ENOENT ? 0 : TR_ESYS;
	while ((e = readdir(d)) != NULL) {
		if (strlen(e->d_name) != 2 ||
		    strspn(e->d_name, "0123456789abcdef") != 2)
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", blobs, e->d_name);
		if ((sd = opendir(sub)) == NULL)
			continue;
		while ((f = readdir(sd)) != NULL)
			if (strlen(f->d_name) == BLOB_HEX_LEN - 2 &&
			    strspn(f->d_name, "0123456789abcdef") ==
			    BLOB_HEX_LEN - 2)
				(*n)++;
		closedir(sd);
	}
	closedir(d);
	return 0;
}

/* Mark HEX as being put; TR_EBUSY when it already is. */
static int
blob_claim(struct blob_store *bs, const char *hex)
{
	int free_slot = -1, rc = 0;

	thr_lock(&bs->lock);
	for (int i = 0; i < BLOB_MAX_ACTIVE; i++) {
		if (bs->active[i][0] == '\0') {
			if (free_slot < 0)
				free_slot = i;
		} else if (strcmp(bs->active[i], hex) == 0) {
			rc = TR_EBUSY;
			break;
		}
	}
	if (rc == 0 && free_slot < 0)
		rc = TR_EBUSY;
	if (rc == 0)
		memcpy(bs->active[free_slot], hex, BLOB_HEX_LEN + 1);
	thr_unlock(&bs->lock);
	return rc;
}

/* Forget that HEX is being put. */
static void
blob_release(struct blob_store *bs, const char *hex)
{
	thr_lock(&bs->lock);
	for (int i = 0; i < BLOB_MAX_ACTIVE; i++)
		if (strcmp(bs->active[i], hex) == 0) {
			bs->active[i][0] = '\0';
			break;
		}
	thr_unlock(&bs->lock);
}

/* Find the partial of HEX: its path and chunk size, or TR_ENOTFOUND. */
static int
blob_find_partial(struct blob_store *bs, const char *hex, char *path,
    size_t len, uint32_t *chunk)
{
	char dir[4200];
	struct dirent *e;
	DIR *d;
	int rc = TR_ENOTFOUND, w;

	snprintf(dir, sizeof(dir), "%s/partial", bs->dir);
	if ((d = opendir(dir)) == NULL)
		return TR_ESYS;
	while ((e = readdir(d)) != NULL) {
		unsigned long n;
		char *end;

		if (strncmp(e->d_name, hex, BLOB_HEX_LEN) != 0 ||
		    e->d_name[BLOB_HEX_LEN] != '.')
			continue;
		n = strtoul(e->d_name + BLOB_HEX_LEN + 1, &end, 10);
		if (strcmp(end, ".part") != 0 || n < TR_MIN_CHUNK_SIZE ||
		    n > TR_MAX_CHUNK_SIZE || (n & (n - 1)) != 0)
			continue;
		if ((w = snprintf(path, len, "%s/%s", dir, e->d_name)) < 0 ||
		    (size_t)w >= len)
			continue;
		*chunk = (uint32_t)n;
		rc = 0;
		break;
	}
	closedir(d);
	return rc;
}

/* Hash the first LEN bytes of FD into MD. */
static int
blob_hash_prefix(int fd, int64_t len, EVP_MD_CTX *md)
{
	static __thread unsigned char buf[BLOB_IO_BUF];
	int64_t done = 0;

	while (done < len) {
		size_t want = len - done < (int64_t)sizeof(buf) ?
		    (size_t)(len - done) : sizeof(buf);
		ssize_t n = pread(fd, buf, want, (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return TR_EIO;
		if (!EVP_DigestUpdate(md, buf, (size_t)n))
			return TR_ECRYPTO;
		done += n;
	}
	return 0;
}

/* Free P (its fd closed, its claim released). */
static void
blob_put_free(struct blob_put *p)
{
	if (p->fd >= 0)
		close(p->fd);
	EVP_MD_CTX_free(p->md);
	blob_release(p->bs, p->hex);
	free(p);
}

/* Begin or resume a put. */
int
blob_put_begin(struct blob_store *bs, const char *hex, int64_t size,
    uint32_t chunk_size, struct blob_put **out, uint32_t *chunk,
    int64_t *offset)
{
	struct blob_put *p;
	int64_t have, held;
	struct stat st;
	int rc;

	*out = NULL;
	if (!blob_valid_hex(hex) || size < 0)
		return TR_EINVAL;
	if (blob_exists(bs, hex, &have) == 0) {
		if (have != size)
			return TR_EEXIST;	/* the claimed size is wrong */
		*chunk = chunk_size;
		*offset = size;
		return 0;
	}
	if ((rc = blob_claim(bs, hex)) != 0)
		return rc;
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		blob_release(bs, hex);
		return TR_ENOMEM;
	}
	p->bs = bs;
	p->fd = -1;
	p->size = size;
	memcpy(p->hex, hex, BLOB_HEX_LEN + 1);
	if ((p->md = EVP_MD_CTX_new()) == NULL ||
	    !EVP_DigestInit_ex(p->md, EVP_sha256(), NULL)) {
		rc = TR_ECRYPTO;
		goto fail;
	}
	if (blob_find_partial(bs, hex, p->path, sizeof(p->path), chunk) == 0) {
		if ((p->fd = open(p->path, O_RDWR | O_CLOEXEC)) < 0 ||
		    fstat(p->fd, &st) != 0) {
			rc = TR_ESYS;
			goto fail;
		}
		/* Whole chunks only: a torn last write is dropped. */
		held = (int64_t)st.st_size / *chunk * *chunk;
		if (held > size)
			held = size / *chunk * *chunk;
		if (ftruncate(p->fd, (off_t)held) != 0 ||
		    (rc = blob_hash_prefix(p->fd, held, p->md)) != 0) {
			rc = rc != 0 ? rc : TR_EIO;
			goto fail;
		}
		p->written = held;
	} else {
		*chunk = chunk_size;
		snprintf(p->path, sizeof(p->path), "%s/partial/%s.%u.part",
		    bs->dir, hex, (unsigned)chunk_size);
		if ((p->fd = open(p->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
		    0600)) < 0) {
			rc = TR_ESYS;
			goto fail;
		}
	}
	*offset = p->written;
	*out = p;
	return 0;
fail:
	blob_put_free(p);
	return rc;
}

/* Append verified bytes. */
int
blob_put_write(struct blob_put *p, const void *data, size_t len)
{
	const unsigned char *d = data;
	size_t done = 0;

	if ((int64_t)len > p->size - p->written)
		return TR_ETOOBIG;
	while (done < len) {
		ssize_t n = pwrite(p->fd, d + done, len - done,
		    (off_t)(p->written + (int64_t)done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int saved = n == 0 ? ENOSPC : errno;

			/* Keep the whole chunks written before for a resume. */
			if (ftruncate(p->fd, (off_t)p->written) != 0)
				(void)0;
			errno = saved;
			return TR_EIO;
		}
		done += (size_t)n;
	}
	if (!EVP_DigestUpdate(p->md, data, len))
		return TR_ECRYPTO;
	p->written += (int64_t)len;
	return 0;
}

/* Finish a complete put. */
int
blob_put_finish(struct blob_put *p, int *corrupt)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	char hex[BLOB_HEX_LEN + 1], final[4200], sub[4200];
	unsigned int dlen = 0;
	int rc;

	*corrupt = 0;
	if (p->written != p->size) {
		blob_put_abort(p);
		return TR_EINVAL;
	}
	if (fsync(p->fd) != 0) {
		rc = TR_EIO;
		goto out;
	}
	if (!EVP_DigestFinal_ex(p->md, digest, &dlen) || dlen != TR_HASH_LEN) {
		rc = TR_ECRYPTO;
		goto out;
	}
	hex_encode(digest, TR_HASH_LEN, hex);
	if (strcmp(hex, p->hex) != 0) {
		*corrupt = 1;
		unlink(p->path);
		rc = 0;
		goto out;
	}
	snprintf(sub, sizeof(sub), "%s/%.2s", p->bs->dir, p->hex);
	blob_path(p->bs->dir, p->hex, final, sizeof(final));
	if ((rc = blob_mkdir(sub)) != 0)
		goto out;
	if (rename(p->path, final) != 0) {
		rc = TR_ESYS;
		goto out;
	}
	rc = blob_sync_dir(sub);
	if (rc == 0) {
		snprintf(sub, sizeof(sub), "%s/partial", p->bs->dir);
		rc = blob_sync_dir(sub);
	}
out:
	blob_put_free(p);
	return rc;
}

/* Stop a put, keeping its partial. */
void
blob_put_abort(struct blob_put *p)
{
	if (p != NULL)
		blob_put_free(p);
}

/* Store the file at PATH by its hash. */
int
blob_store_file(const char *dir, const char *path, char *hex, int64_t *size,
    char *err, size_t errlen)
{
	char blobs[4096], sub[4200], tmp[4300], final[4300];
	unsigned char digest[EVP_MAX_MD_SIZE], *buf = NULL;
	unsigned int dlen = 0;
	EVP_MD_CTX *md = NULL;
	int in = -1, out = -1, rc = TR_ESYS;
	int64_t total = 0;
	ssize_t n;

	if (statedir_path(dir, STATEDIR_BLOBS, blobs, sizeof(blobs)) != 0) {
		snprintf(err, errlen, "%s: path too long", dir);
		return TR_EINVAL;
	}
	snprintf(sub, sizeof(sub), "%s/partial", blobs);
	snprintf(tmp, sizeof(tmp), "%s/tmp.XXXXXX", sub);
	if ((in = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		rc = errno == ENOENT ? TR_ENOTFOUND : TR_ESYS;
		goto out;
	}
	if (blob_mkdir_in(sub, blobs) != 0 || (out = mkstemp(tmp)) < 0) {
		snprintf(err, errlen, "%s: %s", sub, strerror(errno));
		tmp[0] = '\0';
		goto out;
	}
	if ((buf = malloc(BLOB_IO_BUF)) == NULL ||
	    (md = EVP_MD_CTX_new()) == NULL ||
	    !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
		snprintf(err, errlen, "out of memory");
		rc = TR_ENOMEM;
		goto out;
	}
	while ((n = read(in, buf, BLOB_IO_BUF)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (write(out, buf, (size_t)n) != n) {
			snprintf(err, errlen, "%s: %s", tmp, errno != 0 ?
			    strerror(errno) : "short write");
			rc = TR_EIO;
			goto out;
		}
		EVP_DigestUpdate(md, buf, (size_t)n);
		total += n;
	}
	if (fsync(out) != 0 || !EVP_DigestFinal_ex(md, digest, &dlen)) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		rc = TR_EIO;
		goto out;
	}
	hex_encode(digest, TR_HASH_LEN, hex);
	snprintf(sub, sizeof(sub), "%s/%.2s", blobs, hex);
	blob_path(blobs, hex, final, sizeof(final));
	blob_own_like(tmp, blobs);
	if (blob_mkdir_in(sub, blobs) != 0 || rename(tmp, final) != 0 ||
	    blob_sync_dir(sub) != 0) {
		snprintf(err, errlen, "%s: %s", final, strerror(errno));
		goto out;
	}
	tmp[0] = '\0';
	*size = total;
	rc = 0;
out:
	if (tmp[0] != '\0' && out >= 0)
		unlink(tmp);
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	EVP_MD_CTX_free(md);
	free(buf);
	return rc;
}
