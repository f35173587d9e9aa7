/* Unit tests of the hub's state directory (init, check, load, atomic writes) and its database. */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "err.h"
#include "hex.h"
#include "hubdb.h"
#include "log.h"
#include "statedir.h"
#include "testutil.h"
#include "tls.h"

static char *tmpdir;

/* A fresh temp dir per test. */
static void
setup(void)
{
	tmpdir = tu_tmpdir();
	log_init("check_hubdb", LOG_LEVEL_ERROR, 0);
}

/* Remove the test's temp dir. */
static void
teardown(void)
{
	chmod(tmpdir, 0700);
	tu_rmtree(tmpdir);
	free(tmpdir);
	tmpdir = NULL;
}

/* Path of NAME in the test's temp dir (malloc'd). */
static char *
tmppath(const char *name)
{
	char *p;

	ck_assert_int_ne(asprintf(&p, "%s/%s", tmpdir, name), -1);
	return p;
}

/* Path of NAME inside directory DIR (malloc'd). */
static char *
join(const char *dir, const char *name)
{
	char *p;

	ck_assert_int_ne(asprintf(&p, "%s/%s", dir, name), -1);
	return p;
}

/* Permission bits of DIR/NAME (NAME may be NULL for DIR itself); fails when missing. */
static unsigned
mode_of(const char *dir, const char *name)
{
	char *p = name != NULL ? join(dir, name) : strdup(dir);
	struct stat st;

	ck_assert_msg(stat(p, &st) == 0, "%s: %s", p, strerror(errno));
	free(p);
	return (unsigned)(st.st_mode & 07777);
}

/* Whole contents of DIR/NAME (malloc'd, NUL-terminated). */
static char *
slurp(const char *dir, const char *name)
{
	char *p = join(dir, name), *out = NULL;

	ck_assert_int_eq(statedir_read_file(p, 1 << 20, &out, NULL), 0);
	free(p);
	return out;
}

/* Number of entries of DIR whose name contains NEEDLE. */
static int
count_entries(const char *dir, const char *needle)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL)
		if (strstr(de->d_name, needle) != NULL)
			n++;
	closedir(d);
	return n;
}

/* Make a state directory DIR with the given ids; fails the test on error. */
static void
init_ok(const char *dir, const char *site, const char *hub, const char *name)
{
	char err[512] = "";

	ck_assert_msg(statedir_init(dir, site, hub, name, err,
	    sizeof(err)) == 0, "statedir_init: %s", err);
}

/* Non-zero when S is exactly 64 lowercase hex digits. */
static int
is_hex64(const char *s)
{
	if (strlen(s) != 64)
		return 0;
	for (; *s != '\0'; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return 0;
	return 1;
}

/* --- statedir --- */

START_TEST(test_statedir_init_layout)
{
	char *dir = tmppath("state"), *key, *ca, *blobs;
	struct stat st;
	mode_t old;

	/* Modes do not depend on the caller's umask. */
	old = umask(0);
	init_ok(dir, "acme", "hub-1", "Main hub");
	umask(old);
	ck_assert_uint_eq(mode_of(dir, NULL), 0700);
	ck_assert_uint_eq(mode_of(dir, STATEDIR_SITE_KEY), 0600);
	ck_assert_uint_eq(mode_of(dir, STATEDIR_CA_KEY), 0600);
	ck_assert_uint_eq(mode_of(dir, STATEDIR_HUB_KEY), 0600);
	ck_assert_uint_eq(mode_of(dir, STATEDIR_DB), 0600);
	ck_assert_uint_eq(mode_of(dir, STATEDIR_CA_CERT), 0644);
	ck_assert_uint_eq(mode_of(dir, STATEDIR_HUB_CERT), 0644);
	blobs = join(dir, STATEDIR_BLOBS);
	ck_assert_int_eq(stat(blobs, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 077, 0);
	free(blobs);
	/* No temp file of the atomic writes is left. */
	ck_assert_int_eq(count_entries(dir, ".tmp"), 0);

	key = slurp(dir, STATEDIR_SITE_KEY);
	ck_assert_uint_eq(strlen(key), 65);
	ck_assert_int_eq(key[64], '\n');
	key[64] = '\0';
	ck_assert(is_hex64(key));
	free(key);
	ca = slurp(dir, STATEDIR_CA_CERT);
	ck_assert_ptr_nonnull(strstr(ca, "-----BEGIN CERTIFICATE-----"));
	free(ca);
	key = slurp(dir, STATEDIR_HUB_KEY);
	ck_assert_ptr_nonnull(strstr(key, "PRIVATE KEY-----"));
	free(key);
	free(dir);
}
END_TEST

START_TEST(test_statedir_init_umask_077)
{
	char *dir = tmppath("state");
	mode_t old;

	old = umask(077);
	init_ok(dir, "acme", "hub-1", NULL);
	umask(old);
	ck_assert_uint_eq(mode_of(dir, NULL), 0700);
	ck_assert_uint_eq(mode_of(dir, STATEDIR_CA_CERT), 0644);
	ck_assert_uint_eq(mode_of(dir, STATEDIR_HUB_CERT), 0644);
	ck_assert_uint_eq(mode_of(dir, STATEDIR_HUB_KEY), 0600);
	free(dir);
}
END_TEST

START_TEST(test_statedir_init_empty_dir)
{
	char *dir = tmppath("state");
	char err[512];

	/* An existing empty directory is taken and tightened to 0700. */
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	ck_assert_int_eq(chmod(dir, 0755), 0);
	init_ok(dir, "acme", "hub-1", NULL);
	ck_assert_uint_eq(mode_of(dir, NULL), 0700);
	ck_assert_int_eq(statedir_check(dir, err, sizeof(err)), 0);
	free(dir);
}
END_TEST

START_TEST(test_statedir_init_twice)
{
	char *dir = tmppath("state"), *other = tmppath("other"), *junk;
	char *key1, *pem1, *key2, *pem2, err[512] = "";
	struct hub_keys k;

	init_ok(dir, "acme", "hub-1", NULL);
	key1 = slurp(dir, STATEDIR_SITE_KEY);
	pem1 = slurp(dir, STATEDIR_HUB_CERT);
	ck_assert_int_eq(statedir_init(dir, "evil", "hub-2", "x", err,
	    sizeof(err)), TR_EEXIST);
	ck_assert_ptr_nonnull(strstr(err, dir));
	/* Nothing changed. */
	key2 = slurp(dir, STATEDIR_SITE_KEY);
	pem2 = slurp(dir, STATEDIR_HUB_CERT);
	ck_assert_str_eq(key1, key2);
	ck_assert_str_eq(pem1, pem2);
	ck_assert_int_eq(statedir_load(dir, &k, err, sizeof(err)), 0);
	ck_assert_str_eq(k.site_id, "acme");
	ck_assert_str_eq(k.hub_id, "hub-1");
	statedir_free(&k);
	ck_assert_int_eq(count_entries(dir, ".tmp"), 0);

	/* A directory holding anything else is refused too, and left alone. */
	ck_assert_int_eq(mkdir(other, 0700), 0);
	junk = join(other, "notes.txt");
	tu_write_file(junk, "keep", 4);
	ck_assert_int_eq(statedir_init(other, "acme", "hub-1", NULL, err,
	    sizeof(err)), TR_EEXIST);
	ck_assert_int_eq(count_entries(other, ""), 3);	/* ., .., notes.txt */
	ck_assert_int_eq(access(junk, F_OK), 0);
	free(junk);
	free(key1);
	free(key2);
	free(pem1);
	free(pem2);
	free(dir);
	free(other);
}
END_TEST

START_TEST(test_statedir_init_bad_parent)
{
	char *dir = tmppath("no/such/state"), *parent = tmppath("no");
	char err[512] = "";

	ck_assert_int_eq(statedir_init(dir, "acme", "hub-1", NULL, err,
	    sizeof(err)), TR_ESYS);
	ck_assert_ptr_nonnull(strstr(err, dir));
	ck_assert_int_ne(access(parent, F_OK), 0);
	free(dir);
	free(parent);
}
END_TEST

START_TEST(test_statedir_check)
{
	static const char *const keys[] = {
		STATEDIR_SITE_KEY, STATEDIR_CA_KEY, STATEDIR_HUB_KEY,
		STATEDIR_DB,
	};
	char *dir = tmppath("state"), *p, *file = tmppath("plain");
	char err[512];

	init_ok(dir, "acme", "hub-1", NULL);
	err[0] = '\0';
	ck_assert_int_eq(statedir_check(dir, err, sizeof(err)), 0);

	/* Each secret file must have no group or other bits. */
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		p = join(dir, keys[i]);
		ck_assert_int_eq(chmod(p, 0644), 0);
		err[0] = '\0';
		ck_assert_int_eq(statedir_check(dir, err, sizeof(err)),
		    TR_EACCES);
		ck_assert_msg(strstr(err, keys[i]) != NULL, "err: %s", err);
		ck_assert_int_eq(chmod(p, 0640), 0);
		ck_assert_int_eq(statedir_check(dir, err, sizeof(err)),
		    TR_EACCES);
		ck_assert_int_eq(chmod(p, 0600), 0);
		ck_assert_int_eq(statedir_check(dir, err, sizeof(err)), 0);
		free(p);
	}
	/* 0400 is fine: no group or other bits. */
	p = join(dir, STATEDIR_HUB_KEY);
	ck_assert_int_eq(chmod(p, 0400), 0);
	ck_assert_int_eq(statedir_check(dir, err, sizeof(err)), 0);
	ck_assert_int_eq(chmod(p, 0600), 0);

	/* A key that is a symlink is refused. */
	ck_assert_int_eq(rename(p, file), 0);
	ck_assert_int_eq(symlink(file, p), 0);
	err[0] = '\0';
	ck_assert_int_eq(statedir_check(dir, err, sizeof(err)), TR_EACCES);
	ck_assert_ptr_nonnull(strstr(err, STATEDIR_HUB_KEY));
	/* A missing key. */
	ck_assert_int_eq(unlink(p), 0);
	err[0] = '\0';
	ck_assert_int_eq(statedir_check(dir, err, sizeof(err)), TR_ENOTFOUND);
	ck_assert_ptr_nonnull(strstr(err, STATEDIR_HUB_KEY));
	ck_assert_int_eq(rename(file, p), 0);
	ck_assert_int_eq(statedir_check(dir, err, sizeof(err)), 0);
	free(p);

	/* The directory must not be writable by group or others. */
	ck_assert_int_eq(chmod(dir, 0777), 0);
	err[0] = '\0';
	ck_assert_int_eq(statedir_check(dir, err, sizeof(err)), TR_EACCES);
	ck_assert_ptr_nonnull(strstr(err, dir));
	ck_assert_int_eq(chmod(dir, 0720), 0);
	ck_assert_int_eq(statedir_check(dir, err, sizeof(err)), TR_EACCES);
	ck_assert_int_eq(chmod(dir, 0702), 0);
	ck_assert_int_eq(statedir_check(dir, err, sizeof(err)), TR_EACCES);
	ck_assert_int_eq(chmod(dir, 0750), 0);
	ck_assert_int_eq(statedir_check(dir, err, sizeof(err)), 0);
	ck_assert_int_eq(chmod(dir, 0700), 0);

	/* Missing, or not a directory. */
	p = tmppath("nowhere");
	ck_assert_int_eq(statedir_check(p, err, sizeof(err)), TR_ENOTFOUND);
	free(p);
	tu_write_file(file, "x", 1);
	ck_assert_int_eq(statedir_check(file, err, sizeof(err)), TR_EACCES);
	free(file);
	free(dir);
}
END_TEST

START_TEST(test_statedir_load)
{
	char *dir = tmppath("state"), *site, *pem, *capem, *p;
	char err[512] = "", hex[2 * TR_HASH_LEN + 1];
	uint8_t key[TR_KEY_LEN];
	struct hub_keys k;

	init_ok(dir, "acme", "hub-1", "Main hub");
	ck_assert_msg(statedir_load(dir, &k, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(k.site_id, "acme");
	ck_assert_str_eq(k.hub_id, "hub-1");
	ck_assert_str_eq(k.hub_name, "Main hub");
	ck_assert(is_hex64(k.hub_cert_sha256));
	pem = slurp(dir, STATEDIR_HUB_CERT);
	ck_assert_int_eq(tls_pem_sha256(pem, hex), 0);
	ck_assert_str_eq(k.hub_cert_sha256, hex);
	ck_assert_str_eq(k.hub_cert_pem, pem);
	capem = slurp(dir, STATEDIR_CA_CERT);
	ck_assert_str_eq(k.ca_pem, capem);
	ck_assert_ptr_nonnull(k.ca_key_pem);
	ck_assert_ptr_nonnull(k.hub_key_pem);
	site = slurp(dir, STATEDIR_SITE_KEY);
	ck_assert_int_eq(hex_decode(site, 64, key, sizeof(key)), 0);
	ck_assert_mem_eq(k.site_key, key, TR_KEY_LEN);
	statedir_free(&k);
	ck_assert_ptr_null(k.ca_pem);
	ck_assert_ptr_null(k.ca_key_pem);
	ck_assert_ptr_null(k.hub_cert_pem);
	ck_assert_ptr_null(k.hub_key_pem);
	memset(key, 0, sizeof(key));
	ck_assert_mem_eq(k.site_key, key, TR_KEY_LEN);

	/* A bad site key. */
	p = join(dir, STATEDIR_SITE_KEY);
	ck_assert_int_eq(statedir_write_file(p, "xyz\n", 4, 0600), 0);
	err[0] = '\0';
	ck_assert_int_eq(statedir_load(dir, &k, err, sizeof(err)), TR_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, STATEDIR_SITE_KEY));
	ck_assert_int_eq(statedir_write_file(p, site, strlen(site), 0600), 0);
	free(p);

	/* A hub certificate that is not PEM. */
	p = join(dir, STATEDIR_HUB_CERT);
	ck_assert_int_eq(statedir_write_file(p, "garbage", 7, 0644), 0);
	err[0] = '\0';
	ck_assert_int_eq(statedir_load(dir, &k, err, sizeof(err)), TR_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, STATEDIR_HUB_CERT));
	ck_assert_ptr_null(k.ca_pem);
	ck_assert_ptr_null(k.hub_cert_pem);

	/* A missing file is named. */
	ck_assert_int_eq(unlink(p), 0);
	err[0] = '\0';
	ck_assert_int_eq(statedir_load(dir, &k, err, sizeof(err)),
	    TR_ENOTFOUND);
	ck_assert_ptr_nonnull(strstr(err, STATEDIR_HUB_CERT));
	ck_assert_ptr_null(k.ca_pem);
	ck_assert_int_eq(statedir_write_file(p, pem, strlen(pem), 0644), 0);
	free(p);

	/* No database. */
	p = join(dir, STATEDIR_DB);
	ck_assert_int_eq(unlink(p), 0);
	err[0] = '\0';
	ck_assert_int_eq(statedir_load(dir, &k, err, sizeof(err)),
	    TR_ENOTFOUND);
	ck_assert_ptr_nonnull(strstr(err, STATEDIR_DB));
	free(p);
	free(site);
	free(pem);
	free(capem);
	free(dir);
}
END_TEST

START_TEST(test_statedir_load_default_name)
{
	char *dir = tmppath("state"), err[512] = "";
	struct hub_keys k;

	init_ok(dir, "acme", "hub-7", NULL);
	ck_assert_int_eq(statedir_load(dir, &k, err, sizeof(err)), 0);
	ck_assert_str_eq(k.hub_name, "hub-7");
	statedir_free(&k);
	free(dir);
}
END_TEST

START_TEST(test_statedir_write_file)
{
	char *path = tmppath("data"), *out = NULL, *sub = tmppath("sub");
	char *bad = tmppath("no/such/file");
	size_t len = 0;
	mode_t old;

	old = umask(0);
	ck_assert_int_eq(statedir_write_file(path, "hello", 5, 0640), 0);
	umask(old);
	ck_assert_uint_eq(mode_of(path, NULL), 0640);
	ck_assert_int_eq(statedir_read_file(path, 100, &out, &len), 0);
	ck_assert_uint_eq(len, 5);
	ck_assert_str_eq(out, "hello");
	free(out);

	/* Replacing: new contents and the new mode, no temp file left. */
	ck_assert_int_eq(statedir_write_file(path, "bye", 3, 0600), 0);
	ck_assert_uint_eq(mode_of(path, NULL), 0600);
	ck_assert_int_eq(statedir_read_file(path, 100, &out, &len), 0);
	ck_assert_uint_eq(len, 3);
	ck_assert_str_eq(out, "bye");
	free(out);
	ck_assert_int_eq(statedir_write_file(path, "", 0, 0600), 0);
	ck_assert_int_eq(statedir_read_file(path, 100, &out, &len), 0);
	ck_assert_uint_eq(len, 0);
	ck_assert_str_eq(out, "");
	free(out);
	ck_assert_int_eq(count_entries(tmpdir, ".tmp"), 0);
	ck_assert_int_eq(count_entries(tmpdir, ""), 3);	/* ., .., data */

	/* Failures: a missing directory, a target that is a directory. */
	ck_assert_int_eq(statedir_write_file(bad, "x", 1, 0600), TR_ESYS);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	ck_assert_int_eq(statedir_write_file(sub, "x", 1, 0600), TR_ESYS);
	ck_assert_int_eq(count_entries(tmpdir, ".tmp"), 0);

	/* read_file limits. */
	ck_assert_int_eq(statedir_write_file(path, "0123456789", 10, 0600), 0);
	ck_assert_int_eq(statedir_read_file(path, 10, &out, NULL), 0);
	ck_assert_str_eq(out, "0123456789");
	free(out);
	ck_assert_int_eq(statedir_read_file(path, 9, &out, NULL), TR_ETOOBIG);
	ck_assert_ptr_null(out);
	ck_assert_int_eq(statedir_read_file(bad, 9, &out, NULL), TR_ENOTFOUND);
	free(path);
	free(sub);
	free(bad);
}
END_TEST

START_TEST(test_statedir_path)
{
	char buf[16];

	ck_assert_int_eq(statedir_path("/a", "b.key", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "/a/b.key");
	ck_assert_int_eq(statedir_path("/a/long/dir", "hub.key", buf,
	    sizeof(buf)), TR_ETOOBIG);
	/* 15 characters fit in 16 bytes, 16 do not. */
	ck_assert_int_eq(statedir_path("/a/long/dirs", "bc", buf, sizeof(buf)),
	    0);
	ck_assert_str_eq(buf, "/a/long/dirs/bc");
	ck_assert_int_eq(statedir_path("/a/long/dirs", "bcd", buf,
	    sizeof(buf)), TR_ETOOBIG);
}
END_TEST

/* --- hubdb --- */

/* A PSK node ID with roles sales and admin. */
static struct hubdb_node
psk_node(const char *id)
{
	struct hubdb_node n;

	memset(&n, 0, sizeof(n));
	snprintf(n.node_id, sizeof(n.node_id), "%s", id);
	snprintf(n.name, sizeof(n.name), "Laptop \xc3\x9c %s", id);
	snprintf(n.roles[0], sizeof(n.roles[0]), "sales");
	snprintf(n.roles[1], sizeof(n.roles[1]), "admin");
	n.nroles = 2;
	n.method = HUB_METHOD_PSK;
	for (int i = 0; i < TR_KEY_LEN; i++)
		n.node_key[i] = (uint8_t)(i * 37 + id[0]);
	n.node_key[3] = 0;
	n.enrolled_ms = 1700000000123LL;
	return n;
}

/* A certificate node ID with role ops. */
static struct hubdb_node
cert_node(const char *id)
{
	struct hubdb_node n;

	memset(&n, 0, sizeof(n));
	snprintf(n.node_id, sizeof(n.node_id), "%s", id);
	snprintf(n.name, sizeof(n.name), "Server %s", id);
	snprintf(n.roles[0], sizeof(n.roles[0]), "ops");
	n.nroles = 1;
	n.method = HUB_METHOD_CERT;
	snprintf(n.cert_sha256, sizeof(n.cert_sha256), "%s",
	    "00112233445566778899aabbccddeeff"
	    "0123456789abcdef0123456789abcdef");
	n.enrolled_ms = 1700000000999LL;
	return n;
}

/* Open a fresh hub.db in the test's temp dir. */
static sqlite3 *
open_db(void)
{
	sqlite3 *db = NULL;

	ck_assert_int_eq(hubdb_open(tmpdir, 1, &db), 0);
	ck_assert_ptr_nonnull(db);
	return db;
}

START_TEST(test_hubdb_open)
{
	sqlite3 *db = (sqlite3 *)1;
	char *missing = tmppath("missing"), buf[64];

	/* Without create: no directory, or no database in it. */
	ck_assert_int_eq(hubdb_open(missing, 0, &db), TR_ENOTFOUND);
	ck_assert_ptr_null(db);
	db = (sqlite3 *)1;
	ck_assert_int_eq(hubdb_open(tmpdir, 0, &db), TR_ENOTFOUND);
	ck_assert_ptr_null(db);
	ck_assert_int_eq(count_entries(tmpdir, STATEDIR_DB), 0);
	/* With create, the directory must exist. */
	db = (sqlite3 *)1;
	ck_assert_int_ne(hubdb_open(missing, 1, &db), 0);
	ck_assert_ptr_null(db);

	db = open_db();
	ck_assert_uint_eq(mode_of(tmpdir, STATEDIR_DB), 0600);
	ck_assert_int_eq(hubdb_meta_set(db, "site_id", "acme"), 0);
	db_close(db);
	/* Reopened without create: the data is there, migration is a no-op. */
	ck_assert_int_eq(hubdb_open(tmpdir, 0, &db), 0);
	ck_assert_int_eq(hubdb_meta_get(db, "site_id", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "acme");
	db_close(db);
	ck_assert_int_eq(hubdb_open(tmpdir, 1, &db), 0);
	ck_assert_int_eq(hubdb_meta_get(db, "site_id", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "acme");
	db_close(db);
	free(missing);
}
END_TEST

START_TEST(test_hubdb_meta)
{
	sqlite3 *db = open_db();
	char buf[64], small[4];

	strcpy(buf, "untouched");
	ck_assert_int_eq(hubdb_meta_get(db, "hub_id", buf, sizeof(buf)),
	    TR_ENOTFOUND);
	ck_assert_int_eq(hubdb_meta_set(db, "hub_id", "hub-1"), 0);
	ck_assert_int_eq(hubdb_meta_set(db, "hub_name", "Main hub"), 0);
	ck_assert_int_eq(hubdb_meta_get(db, "hub_id", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "hub-1");
	ck_assert_int_eq(hubdb_meta_get(db, "hub_name", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "Main hub");
	/* Set replaces. */
	ck_assert_int_eq(hubdb_meta_set(db, "hub_id", "hub-2"), 0);
	ck_assert_int_eq(hubdb_meta_get(db, "hub_id", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "hub-2");
	/* A short buffer gets a terminated prefix. */
	ck_assert_int_eq(hubdb_meta_get(db, "hub_name", small, sizeof(small)),
	    0);
	ck_assert_str_eq(small, "Mai");
	db_close(db);
}
END_TEST

/* Assert that nodes A and B hold the same fields. */
static void
assert_node_eq(const struct hubdb_node *a, const struct hubdb_node *b)
{
	ck_assert_str_eq(a->node_id, b->node_id);
	ck_assert_str_eq(a->name, b->name);
	ck_assert_int_eq(a->nroles, b->nroles);
	for (int i = 0; i < a->nroles; i++)
		ck_assert_str_eq(a->roles[i], b->roles[i]);
	ck_assert_int_eq(a->method, b->method);
	ck_assert_mem_eq(a->node_key, b->node_key, TR_KEY_LEN);
	ck_assert_str_eq(a->cert_sha256, b->cert_sha256);
	ck_assert_int_eq(a->revoked, b->revoked);
	ck_assert_int_eq(a->enrolled_ms, b->enrolled_ms);
	ck_assert_int_eq(a->last_seen_ms, b->last_seen_ms);
	ck_assert_str_eq(a->address, b->address);
	ck_assert_int_eq(a->last_sync_ms, b->last_sync_ms);
}

START_TEST(test_hubdb_node_roundtrip)
{
	sqlite3 *db = open_db();
	struct hubdb_node p = psk_node("laptop-1"), c = cert_node("srv.1");
	struct hubdb_node got;
	static const uint8_t zero[TR_KEY_LEN];

	ck_assert_int_eq(hubdb_node_add(db, &p), 0);
	ck_assert_int_eq(hubdb_node_add(db, &c), 0);
	memset(&got, 0x5a, sizeof(got));
	ck_assert_int_eq(hubdb_node_get(db, "laptop-1", &got), 0);
	assert_node_eq(&got, &p);
	ck_assert_int_eq(got.method, HUB_METHOD_PSK);
	ck_assert_str_eq(got.cert_sha256, "");
	ck_assert_str_eq(got.roles[0], "sales");
	ck_assert_str_eq(got.roles[1], "admin");
	ck_assert_int_eq(got.revoked, 0);
	ck_assert_int_eq(got.last_seen_ms, 0);
	ck_assert_str_eq(got.address, "");

	memset(&got, 0x5a, sizeof(got));
	ck_assert_int_eq(hubdb_node_get(db, "srv.1", &got), 0);
	assert_node_eq(&got, &c);
	ck_assert_int_eq(got.method, HUB_METHOD_CERT);
	ck_assert_mem_eq(got.node_key, zero, TR_KEY_LEN);
	ck_assert_int_eq(got.enrolled_ms, 1700000000999LL);

	ck_assert_int_eq(hubdb_node_get(db, "nobody", &got), TR_ENOTFOUND);
	ck_assert_int_eq(hubdb_node_get(db, "LAPTOP-1", &got), TR_ENOTFOUND);
	db_close(db);
}
END_TEST

START_TEST(test_hubdb_node_roles_edges)
{
	sqlite3 *db = open_db();
	struct hubdb_node n = psk_node("many"), z = psk_node("none"), got;

	/* Every slot filled with a role name of the longest length. */
	n.nroles = CONF_MAX_ROLES;
	for (int i = 0; i < CONF_MAX_ROLES; i++) {
		memset(n.roles[i], 'a' + i, CONF_ROLE_MAX);
		n.roles[i][CONF_ROLE_MAX] = '\0';
	}
	ck_assert_int_eq(hubdb_node_add(db, &n), 0);
	ck_assert_int_eq(hubdb_node_get(db, "many", &got), 0);
	assert_node_eq(&got, &n);
	z.nroles = 0;
	ck_assert_int_eq(hubdb_node_add(db, &z), 0);
	ck_assert_int_eq(hubdb_node_get(db, "none", &got), 0);
	ck_assert_int_eq(got.nroles, 0);
	ck_assert(!hubdb_node_has_role(&got, "sales"));
	db_close(db);
}
END_TEST

START_TEST(test_hubdb_node_duplicate)
{
	sqlite3 *db = open_db();
	struct hubdb_node p = psk_node("dup"), c = cert_node("dup"), got;

	ck_assert_int_eq(hubdb_node_add(db, &p), 0);
	/* Extended result codes are on: a taken id is TR_EEXIST, not TR_EDB. */
	ck_assert_int_eq(hubdb_node_add(db, &p), TR_EEXIST);
	ck_assert_int_eq(hubdb_node_add(db, &c), TR_EEXIST);
	/* Revoked ids stay taken. */
	ck_assert_int_eq(hubdb_node_revoke(db, "dup"), 0);
	ck_assert_int_eq(hubdb_node_add(db, &p), TR_EEXIST);
	/* The first enrollment is unchanged. */
	ck_assert_int_eq(hubdb_node_get(db, "dup", &got), 0);
	ck_assert_int_eq(got.method, HUB_METHOD_PSK);
	ck_assert_mem_eq(got.node_key, p.node_key, TR_KEY_LEN);
	db_close(db);
}
END_TEST

START_TEST(test_hubdb_node_revoke)
{
	sqlite3 *db = open_db();
	struct hubdb_node a = psk_node("a"), b = cert_node("b"), got;

	ck_assert_int_eq(hubdb_node_add(db, &a), 0);
	ck_assert_int_eq(hubdb_node_add(db, &b), 0);
	ck_assert_int_eq(hubdb_node_revoke(db, "a"), 0);
	ck_assert_int_eq(hubdb_node_get(db, "a", &got), 0);
	ck_assert_int_eq(got.revoked, 1);
	a.revoked = 1;
	assert_node_eq(&got, &a);
	ck_assert_int_eq(hubdb_node_get(db, "b", &got), 0);
	ck_assert_int_eq(got.revoked, 0);
	/* Again: still revoked, still found. */
	ck_assert_int_eq(hubdb_node_revoke(db, "a"), 0);
	ck_assert_int_eq(hubdb_node_revoke(db, "nobody"), TR_ENOTFOUND);
	db_close(db);
}
END_TEST

START_TEST(test_hubdb_node_seen)
{
	sqlite3 *db = open_db();
	struct hubdb_node a = psk_node("a"), b = psk_node("b"), got;

	ck_assert_int_eq(hubdb_node_add(db, &a), 0);
	ck_assert_int_eq(hubdb_node_add(db, &b), 0);
	ck_assert_int_eq(hubdb_node_seen(db, "a", "10.0.0.2:5000",
	    1700000005000LL), 0);
	ck_assert_int_eq(hubdb_node_get(db, "a", &got), 0);
	ck_assert_int_eq(got.last_seen_ms, 1700000005000LL);
	ck_assert_str_eq(got.address, "10.0.0.2:5000");
	a.last_seen_ms = got.last_seen_ms;
	snprintf(a.address, sizeof(a.address), "10.0.0.2:5000");
	assert_node_eq(&got, &a);
	/* The other node is untouched. */
	ck_assert_int_eq(hubdb_node_get(db, "b", &got), 0);
	assert_node_eq(&got, &b);
	/* A later one replaces; a NULL address stores "". */
	ck_assert_int_eq(hubdb_node_seen(db, "a", NULL, 1700000006000LL), 0);
	ck_assert_int_eq(hubdb_node_get(db, "a", &got), 0);
	ck_assert_int_eq(got.last_seen_ms, 1700000006000LL);
	ck_assert_str_eq(got.address, "");
	ck_assert_int_eq(hubdb_node_seen(db, "nobody", "x", 1), TR_ENOTFOUND);
	db_close(db);
}
END_TEST

START_TEST(test_hubdb_node_list)
{
	static const char *const ids[] = { "zeta", "alpha", "Mid", "beta-2",
	    "beta" };
	sqlite3 *db = open_db();
	struct hubdb_node *list = (struct hubdb_node *)1, n;
	size_t count = 99;
	char id[16];

	ck_assert_int_eq(hubdb_node_list(db, &list, &count), 0);
	ck_assert_uint_eq(count, 0);
	hubdb_nodes_free(list, count);

	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		n = i % 2 ? cert_node(ids[i]) : psk_node(ids[i]);
		ck_assert_int_eq(hubdb_node_add(db, &n), 0);
	}
	ck_assert_int_eq(hubdb_node_revoke(db, "beta"), 0);
	ck_assert_int_eq(hubdb_node_list(db, &list, &count), 0);
	ck_assert_uint_eq(count, 5);
	ck_assert_str_eq(list[0].node_id, "Mid");
	ck_assert_str_eq(list[1].node_id, "alpha");
	ck_assert_str_eq(list[2].node_id, "beta");
	ck_assert_str_eq(list[3].node_id, "beta-2");
	ck_assert_str_eq(list[4].node_id, "zeta");
	/* Revoked nodes are listed, with their flag; every field is filled. */
	ck_assert_int_eq(list[2].revoked, 1);
	ck_assert_int_eq(list[1].method, HUB_METHOD_CERT);
	n = cert_node("alpha");
	assert_node_eq(&list[1], &n);
	n = psk_node("zeta");
	assert_node_eq(&list[4], &n);
	hubdb_nodes_free(list, count);

	/* More than the first allocation holds. */
	for (int i = 0; i < 40; i++) {
		snprintf(id, sizeof(id), "n%02d", i);
		n = psk_node(id);
		ck_assert_int_eq(hubdb_node_add(db, &n), 0);
	}
	ck_assert_int_eq(hubdb_node_list(db, &list, &count), 0);
	ck_assert_uint_eq(count, 45);
	for (size_t i = 1; i < count; i++)
		ck_assert_int_lt(strcmp(list[i - 1].node_id, list[i].node_id),
		    0);
	ck_assert_str_eq(list[count - 1].node_id, "zeta");
	ck_assert_str_eq(list[count - 2].node_id, "n39");
	hubdb_nodes_free(list, count);
	hubdb_nodes_free(NULL, 0);
	db_close(db);
}
END_TEST

START_TEST(test_hubdb_has_role)
{
	struct hubdb_node n = psk_node("x");

	ck_assert(hubdb_node_has_role(&n, "sales"));
	ck_assert(hubdb_node_has_role(&n, "admin"));
	ck_assert(!hubdb_node_has_role(&n, "sale"));
	ck_assert(!hubdb_node_has_role(&n, "sales2"));
	ck_assert(!hubdb_node_has_role(&n, "Admin"));
	ck_assert(!hubdb_node_has_role(&n, ""));
	n.nroles = 1;
	ck_assert(!hubdb_node_has_role(&n, "admin"));
}
END_TEST

START_TEST(test_hubdb_after_init)
{
	char *dir = tmppath("state"), buf[64];
	struct hubdb_node n = psk_node("laptop"), got;
	sqlite3 *db = NULL;

	/* The database init makes is a working hub database. */
	init_ok(dir, "acme", "hub-1", "Main hub");
	ck_assert_int_eq(hubdb_open(dir, 0, &db), 0);
	ck_assert_int_eq(hubdb_meta_get(db, "site_id", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "acme");
	ck_assert_int_eq(hubdb_meta_get(db, "hub_id", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "hub-1");
	ck_assert_int_eq(hubdb_meta_get(db, "hub_name", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "Main hub");
	ck_assert_int_eq(hubdb_node_add(db, &n), 0);
	ck_assert_int_eq(hubdb_node_get(db, "laptop", &got), 0);
	db_close(db);
	ck_assert_uint_eq(mode_of(dir, STATEDIR_DB), 0600);
	free(dir);
}
END_TEST

/* Build the suite. */
static Suite *
hubdb_suite(void)
{
	Suite *s = suite_create("hubdb");
	TCase *ts = tcase_create("statedir");
	TCase *th = tcase_create("hubdb");

	tcase_add_checked_fixture(ts, setup, teardown);
	tcase_set_timeout(ts, 30);
	tcase_add_test(ts, test_statedir_init_layout);
	tcase_add_test(ts, test_statedir_init_umask_077);
	tcase_add_test(ts, test_statedir_init_empty_dir);
	tcase_add_test(ts, test_statedir_init_twice);
	tcase_add_test(ts, test_statedir_init_bad_parent);
	tcase_add_test(ts, test_statedir_check);
	tcase_add_test(ts, test_statedir_load);
	tcase_add_test(ts, test_statedir_load_default_name);
	tcase_add_test(ts, test_statedir_write_file);
	tcase_add_test(ts, test_statedir_path);
	suite_add_tcase(s, ts);

	tcase_add_checked_fixture(th, setup, teardown);
	tcase_set_timeout(th, 30);
	tcase_add_test(th, test_hubdb_open);
	tcase_add_test(th, test_hubdb_meta);
	tcase_add_test(th, test_hubdb_node_roundtrip);
	tcase_add_test(th, test_hubdb_node_roles_edges);
	tcase_add_test(th, test_hubdb_node_duplicate);
	tcase_add_test(th, test_hubdb_node_revoke);
	tcase_add_test(th, test_hubdb_node_seen);
	tcase_add_test(th, test_hubdb_node_list);
	tcase_add_test(th, test_hubdb_has_role);
	tcase_add_test(th, test_hubdb_after_init);
	suite_add_tcase(s, th);
	return s;
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	return tu_run(hubdb_suite());
}
