/* Unit tests of the blob store: put, resume from whole chunks, corrupt data, one put per blob, write failures, store_file, count. */
#include "config.h"

#include <sys/resource.h>
#include <sys/stat.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "blob.h"
#include "err.h"
#include "hex.h"
#include "log.h"
#include "testutil.h"

#define CHUNK 65536

/* SHA-256 of DATA as hex into HEX. */
static void
sha_hex(const void *data, size_t len, char hex[BLOB_HEX_LEN + 1])
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int dl = 0;

	ck_assert(EVP_Digest(data, len, d, &dl, EVP_sha256(), NULL));
	hex_encode(d, 32, hex);
}

/* LEN bytes of a fixed pattern. */
static unsigned char *
pattern(size_t len, unsigned seed)
{
	unsigned char *p = malloc(len > 0 ? len : 1);

	ck_assert_ptr_nonnull(p);
	for (size_t i = 0; i < len; i++)
		p[i] = (unsigned char)((i * 31 + seed) ^ (i >> 8));
	return p;
}

/* A store in a new temp state dir (*DIR to remove). */
static struct blob_store *
new_store(char **dir)
{
	char err[256];
	struct blob_store *bs;

	*dir = tu_tmpdir();
	bs = blob_store_open(*dir, err, sizeof(err));
	ck_assert_msg(bs != NULL, "%s", err);
	return bs;
}

/* A whole put, then exists, read back, count; a second put finds it held. */
START_TEST(test_put_whole)
{
	char *dir, hex[BLOB_HEX_LEN + 1], buf[16];
	struct blob_store *bs = new_store(&dir);
	unsigned char *data = pattern(3 * CHUNK + 5, 1);
	struct blob_put *p = NULL;
	uint32_t chunk;
	int64_t off, size, n;
	int corrupt = 1, fd;

	sha_hex(data, 3 * CHUNK + 5, hex);
	ck_assert_int_eq(blob_exists(bs, hex, NULL), TR_ENOTFOUND);
	ck_assert_int_eq(blob_put_begin(bs, hex, 3 * CHUNK + 5, CHUNK, &p,
	    &chunk, &off), 0);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(off, 0);
	ck_assert_uint_eq(chunk, CHUNK);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(blob_put_write(p, data + i * CHUNK, CHUNK), 0);
	ck_assert_int_eq(blob_put_write(p, data + 3 * CHUNK, 6), TR_ETOOBIG);
	ck_assert_int_eq(blob_put_write(p, data + 3 * CHUNK, 5), 0);
	ck_assert_int_eq(blob_put_finish(p, &corrupt), 0);
	ck_assert_int_eq(corrupt, 0);
	ck_assert_int_eq(blob_exists(bs, hex, &size), 0);
	ck_assert_int_eq(size, 3 * CHUNK + 5);
	ck_assert_int_eq(blob_open_read(bs, hex, &fd, &size), 0);
	ck_assert_int_eq(pread(fd, buf, 5, 3 * CHUNK), 5);
	ck_assert_mem_eq(buf, data + 3 * CHUNK, 5);
	close(fd);
	ck_assert_int_eq(blob_count(dir, &n), 0);
	ck_assert_int_eq(n, 1);
	/* Held: offset = size and no put object. */
	ck_assert_int_eq(blob_put_begin(bs, hex, 3 * CHUNK + 5, CHUNK, &p,
	    &chunk, &off), 0);
	ck_assert_ptr_null(p);
	ck_assert_int_eq(off, 3 * CHUNK + 5);
	/* The same hash claimed with another size is refused. */
	ck_assert_int_eq(blob_put_begin(bs, hex, 7, CHUNK, &p, &chunk, &off),
	    TR_EEXIST);
	ck_assert_int_eq(blob_put_begin(bs, "ABCD", 7, CHUNK, &p, &chunk,
	    &off), TR_EINVAL);
	free(data);
	blob_store_close(bs);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

/* An aborted put resumes from its whole chunks with its own chunk size. */
START_TEST(test_resume)
{
	char *dir, hex[BLOB_HEX_LEN + 1];
	struct blob_store *bs = new_store(&dir);
	unsigned char *data = pattern(4 * CHUNK, 2);
	struct blob_put *p = NULL;
	uint32_t chunk;
	int64_t off;
	int corrupt;

	sha_hex(data, 4 * CHUNK, hex);
	ck_assert_int_eq(blob_put_begin(bs, hex, 4 * CHUNK, CHUNK, &p, &chunk,
	    &off), 0);
	ck_assert_int_eq(blob_put_write(p, data, CHUNK), 0);
	ck_assert_int_eq(blob_put_write(p, data + CHUNK, CHUNK), 0);
	/* A torn third chunk: only part of it reached the disk. */
	ck_assert_int_eq(blob_put_write(p, data + 2 * CHUNK, 100), 0);
	blob_put_abort(p);
	ck_assert_int_eq(blob_exists(bs, hex, NULL), TR_ENOTFOUND);
	/* Asked with another chunk size: the partial's is kept. */
	ck_assert_int_eq(blob_put_begin(bs, hex, 4 * CHUNK, 4 * CHUNK, &p,
	    &chunk, &off), 0);
	ck_assert_uint_eq(chunk, CHUNK);
	ck_assert_int_eq(off, 2 * CHUNK);
	ck_assert_int_eq(blob_put_write(p, data + 2 * CHUNK, 2 * CHUNK), 0);
	ck_assert_int_eq(blob_put_finish(p, &corrupt), 0);
	ck_assert_int_eq(corrupt, 0);
	ck_assert_int_eq(blob_exists(bs, hex, NULL), 0);
	free(data);
	blob_store_close(bs);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

/* Data that does not hash to the claim is corrupt: discarded, nothing published. */
START_TEST(test_corrupt)
{
	char *dir, hex[BLOB_HEX_LEN + 1], path[4300];
	struct blob_store *bs = new_store(&dir);
	unsigned char *data = pattern(1000, 3);
	struct blob_put *p = NULL;
	uint32_t chunk;
	int64_t off;
	int corrupt = 0;

	sha_hex(data, 1000, hex);
	data[500] ^= 1;
	ck_assert_int_eq(blob_put_begin(bs, hex, 1000, CHUNK, &p, &chunk,
	    &off), 0);
	ck_assert_int_eq(blob_put_write(p, data, 1000), 0);
	ck_assert_int_eq(blob_put_finish(p, &corrupt), 0);
	ck_assert_int_eq(corrupt, 1);
	ck_assert_int_eq(blob_exists(bs, hex, NULL), TR_ENOTFOUND);
	snprintf(path, sizeof(path), "%s/blobs/partial/%s.%d.part", dir, hex,
	    CHUNK);
	ck_assert_int_ne(access(path, F_OK), 0);
	/* A fresh put starts from 0. */
	ck_assert_int_eq(blob_put_begin(bs, hex, 1000, CHUNK, &p, &chunk,
	    &off), 0);
	ck_assert_int_eq(off, 0);
	blob_put_abort(p);
	free(data);
	blob_store_close(bs);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

/* Two puts of one blob at once: the second is BUSY until the first ends. */
START_TEST(test_one_put_per_blob)
{
	char *dir, hex[BLOB_HEX_LEN + 1];
	struct blob_store *bs = new_store(&dir);
	unsigned char *data = pattern(10, 4);
	struct blob_put *p = NULL, *q = NULL;
	uint32_t chunk;
	int64_t off;
	int corrupt;

	sha_hex(data, 10, hex);
	ck_assert_int_eq(blob_put_begin(bs, hex, 10, CHUNK, &p, &chunk, &off),
	    0);
	ck_assert_int_eq(blob_put_begin(bs, hex, 10, CHUNK, &q, &chunk, &off),
	    TR_EBUSY);
	ck_assert_int_eq(blob_put_write(p, data, 10), 0);
	ck_assert_int_eq(blob_put_finish(p, &corrupt), 0);
	ck_assert_int_eq(blob_put_begin(bs, hex, 10, CHUNK, &q, &chunk, &off),
	    0);
	ck_assert_ptr_null(q);
	ck_assert_int_eq(off, 10);
	free(data);
	blob_store_close(bs);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

/* A write that fails (file size limit as a stand-in for a full disk) keeps the whole chunks. */
START_TEST(test_write_failure)
{
	char *dir, hex[BLOB_HEX_LEN + 1];
	struct blob_store *bs = new_store(&dir);
	unsigned char *data = pattern(4 * CHUNK, 5);
	struct blob_put *p = NULL;
	struct rlimit old, lim;
	uint32_t chunk;
	int64_t off;

	sha_hex(data, 4 * CHUNK, hex);
	signal(SIGXFSZ, SIG_IGN);
	ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
	ck_assert_int_eq(blob_put_begin(bs, hex, 4 * CHUNK, CHUNK, &p, &chunk,
	    &off), 0);
	ck_assert_int_eq(blob_put_write(p, data, CHUNK), 0);
	lim = old;
	lim.rlim_cur = CHUNK + CHUNK / 2;
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
	ck_assert_int_eq(blob_put_write(p, data + CHUNK, CHUNK), TR_EIO);
	ck_assert_int_eq(errno, EFBIG);
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
	blob_put_abort(p);
	ck_assert_int_eq(blob_exists(bs, hex, NULL), TR_ENOTFOUND);
	ck_assert_int_eq(blob_put_begin(bs, hex, 4 * CHUNK, CHUNK, &p, &chunk,
	    &off), 0);
	ck_assert_int_eq(off, CHUNK);
	blob_put_abort(p);
	free(data);
	blob_store_close(bs);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

/* blob_store_file stores a file under its hash; a missing file is an error. */
START_TEST(test_store_file)
{
	char *dir, hex[BLOB_HEX_LEN + 1], want[BLOB_HEX_LEN + 1];
	char src[4200], err[256];
	struct blob_store *bs = new_store(&dir);
	unsigned char *data = pattern(200000, 6);
	int64_t size = 0, n;

	snprintf(src, sizeof(src), "%s/src.bin", dir);
	tu_write_file(src, data, 200000);
	sha_hex(data, 200000, want);
	ck_assert_int_eq(blob_store_file(dir, src, hex, &size, err,
	    sizeof(err)), 0);
	ck_assert_str_eq(hex, want);
	ck_assert_int_eq(size, 200000);
	ck_assert_int_eq(blob_exists(bs, want, NULL), 0);
	/* Again: same blob, still one. */
	ck_assert_int_eq(blob_store_file(dir, src, hex, &size, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(blob_count(dir, &n), 0);
	ck_assert_int_eq(n, 1);
	snprintf(src, sizeof(src), "%s/missing", dir);
	ck_assert_int_eq(blob_store_file(dir, src, hex, &size, err,
	    sizeof(err)), TR_ENOTFOUND);
	ck_assert_ptr_nonnull(strstr(err, "missing"));
	free(data);
	blob_store_close(bs);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

/* The suite. */
static Suite *
blob_suite(void)
{
	Suite *s = suite_create("blob");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_put_whole);
	tcase_add_test(tc, test_resume);
	tcase_add_test(tc, test_corrupt);
	tcase_add_test(tc, test_one_put_per_blob);
	tcase_add_test(tc, test_write_failure);
	tcase_add_test(tc, test_store_file);
	suite_add_tcase(s, tc);
	return s;
}

/* Run the suite. */
int
main(void)
{
	log_init("check_blob", LOG_LEVEL_ERROR, 0);
	return tu_run(blob_suite());
}
