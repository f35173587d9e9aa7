/* Unit tests of the node side: the replica (queue, pulls, cursors, push results), the sync drivers against a scripted hub, the link's helpers. */
#include "config.h"

#include <sys/stat.h>

#include <sys/socket.h>
#include <sys/time.h>

#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conn.h"
#include "csync.h"
#include "db.h"
#include "err.h"
#include "jcs.h"
#include "link.h"
#include "log.h"
#include "msg.h"
#include "replica.h"
#include "testutil.h"

#define NODE "node-1"

static char *tmpdir;
static struct replica *rep;

/* A fresh temp dir and replica per test. */
static void
setup(void)
{
	log_init("check_replica", -1, 0);
	tmpdir = tu_tmpdir();
	ck_assert_int_eq(replica_open(tmpdir, NODE, &rep), 0);
}

/* Close the replica and remove the temp dir. */
static void
teardown(void)
{
	replica_close(rep);
	rep = NULL;
	tu_rmtree(tmpdir);
	free(tmpdir);
	tmpdir = NULL;
}

/* The integer answer of a one-row query. */
static long long
q_int(const char *sql)
{
	sqlite3_stmt *st;
	long long v;

	ck_assert_int_eq(db_prepare(replica_db(rep), sql, &st), 0);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* The text answer of a one-row query (malloc'd; NULL for SQL NULL). */
static char *
q_text(const char *sql)
{
	sqlite3_stmt *st;
	char *v = NULL;

	ck_assert_int_eq(db_prepare(replica_db(rep), sql, &st), 0);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	if (sqlite3_column_type(st, 0) != SQLITE_NULL)
		v = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return v;
}

/* Run SQL on the replica's database. */
static void
q_exec(const char *sql)
{
	ck_assert_int_eq(db_exec(replica_db(rep), sql), 0);
}

/* A record to pull (DATA NULL for a tombstone); free with replica_rec_free. */
static struct replica_rec
mkrec(const char *collection, const char *id, int64_t version, int64_t seq,
    const char *data)
{
	struct replica_rec r;

	memset(&r, 0, sizeof(r));
	snprintf(r.collection, sizeof(r.collection), "%s", collection);
	r.id = strdup(id);
	r.version = version;
	r.deleted = data == NULL;
	r.modified_at = 1700000000000LL + seq;
	snprintf(r.origin, sizeof(r.origin), "hub-1");
	r.data = data != NULL ? strdup(data) : NULL;
	r.seq = seq;
	return r;
}

/* Pull one record into the default set. */
static void
pull_one(const char *collection, const char *id, int64_t version,
    int64_t seq, const char *data)
{
	struct replica_rec r = mkrec(collection, id, version, seq, data);

	ck_assert_int_eq(replica_pull_batch(rep, REPLICA_SET_ALL, "child",
	    NULL, 0, 0, &r, 1, seq), 0);
	replica_rec_free(&r);
}

/* The record as the node sees it (must exist). */
static json_object *
get(const char *collection, const char *id)
{
	json_object *o = NULL;

	ck_assert_int_eq(replica_get_json(rep, collection, id, &o), 0);
	ck_assert_ptr_nonnull(o);
	return o;
}

/* Integer member KEY of O. */
static int64_t
member_int(json_object *o, const char *key)
{
	int64_t v = -1;

	ck_assert_int_eq(msg_get_int(o, key, &v), 0);
	return v;
}

/* Boolean member KEY of O. */
static int
member_bool(json_object *o, const char *key)
{
	int v = -1;

	ck_assert_int_eq(msg_get_bool(o, key, &v), 0);
	return v;
}

/* Canonical text of member KEY of O (malloc'd). */
static char *
member_canon(json_object *o, const char *key)
{
	json_object *v = NULL;
	char *s = NULL;

	ck_assert(json_object_object_get_ex(o, key, &v));
	ck_assert_int_eq(jcs_serialize(v, &s, NULL), 0);
	return s;
}

/* Number of queued changes. */
static int64_t
npending(void)
{
	int64_t n = -1;

	ck_assert_int_eq(replica_pending_count(rep, &n), 0);
	return n;
}

/* The cursor of SET under ROLES. */
static int64_t
cursor_of(const char *set, const char *roles)
{
	int64_t c = -1;

	ck_assert_int_eq(replica_cursor_get(rep, set, roles, &c), 0);
	return c;
}

START_TEST(test_open)
{
	struct replica *other = NULL;
	struct stat st;
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, REPLICA_FILE);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(q_int("PRAGMA user_version"), 2);
	ck_assert_int_eq(q_int("SELECT count(*) FROM sqlite_master WHERE "
	    "name IN ('records', 'cursors', 'pending', 'meta', 'sync_log')"),
	    5);
	{
		char *mode = q_text("PRAGMA journal_mode");

		ck_assert_str_eq(mode, "wal");
		free(mode);
	}
	/* The same node opens it again (a second handle beside the first). */
	ck_assert_int_eq(replica_open(tmpdir, NODE, &other), 0);
	replica_close(other);
	/* Another node may not. */
	other = (struct replica *)1;
	ck_assert_int_eq(replica_open(tmpdir, "node-2", &other), TR_EINVAL);
	ck_assert_ptr_null(other);
	ck_assert_int_eq(replica_open(NULL, NODE, &other), TR_EINVAL);
	ck_assert_int_eq(replica_open(tmpdir, "bad id!", &other), TR_EINVAL);
	ck_assert_int_eq(replica_open(tmpdir, NULL, &other), TR_EINVAL);
	snprintf(path, sizeof(path), "%s/missing/dir", tmpdir);
	ck_assert_int_eq(replica_open(path, NODE, &other), TR_EDB);
	ck_assert_ptr_null(other);
	replica_close(NULL);
}
END_TEST

START_TEST(test_put_new)
{
	json_object *o;
	char *s;

	ck_assert_int_eq(replica_put(rep, "docs", "a", " {\"b\":2, \"a\":1} ",
	    1700000000123LL), 0);
	ck_assert_int_eq(npending(), 1);
	ck_assert_int_eq(q_int("SELECT base_version FROM pending"), 0);
	s = q_text("SELECT data FROM pending");
	ck_assert_str_eq(s, "{\"a\":1,\"b\":2}");
	free(s);
	o = get("docs", "a");
	ck_assert_int_eq(member_bool(o, "pending"), 1);
	ck_assert_int_eq(member_int(o, "version"), 0);
	ck_assert_int_eq(member_int(o, "seq"), 0);
	ck_assert_int_eq(member_bool(o, "deleted"), 0);
	s = member_canon(o, "origin");
	ck_assert_str_eq(s, "\"" NODE "\"");
	free(s);
	s = member_canon(o, "modified_at");
	ck_assert_str_eq(s, "\"2023-11-14T22:13:20.123Z\"");
	free(s);
	s = member_canon(o, "data");
	ck_assert_str_eq(s, "{\"a\":1,\"b\":2}");
	free(s);
	s = member_canon(o, "file");
	ck_assert_str_eq(s, "null");
	free(s);
	json_object_put(o);
}
END_TEST

START_TEST(test_put_twice_keeps_base)
{
	int64_t q1;
	json_object *o;
	char *s;

	pull_one("docs", "a", 3, 10, "{\"v\":3}");
	ck_assert_int_eq(replica_put(rep, "docs", "z", "{}", 1), 0);
	ck_assert_int_eq(replica_put(rep, "docs", "a", "{\"v\":\"mine\"}", 2),
	    0);
	ck_assert_int_eq(q_int("SELECT base_version FROM pending WHERE "
	    "id = 'a'"), 3);
	q1 = q_int("SELECT qorder FROM pending WHERE id = 'a'");
	/* The hub moves on; the queued change keeps what it was based on. */
	pull_one("docs", "a", 5, 11, "{\"v\":5}");
	ck_assert_int_eq(replica_put(rep, "docs", "a", "{\"v\":\"again\"}", 3),
	    0);
	ck_assert_int_eq(npending(), 2);
	ck_assert_int_eq(q_int("SELECT base_version FROM pending WHERE "
	    "id = 'a'"), 3);
	ck_assert_int_eq(q_int("SELECT rev FROM pending WHERE id = 'a'"), 2);
	ck_assert_int_eq(q_int("SELECT qorder FROM pending WHERE id = 'a'"),
	    q1);
	ck_assert_int_eq(q_int("SELECT modified_at FROM pending WHERE "
	    "id = 'a'"), 3);
	o = get("docs", "a");
	ck_assert_int_eq(member_bool(o, "pending"), 1);
	ck_assert_int_eq(member_int(o, "version"), 3);
	ck_assert_int_eq(member_int(o, "seq"), 11);
	s = member_canon(o, "data");
	ck_assert_str_eq(s, "{\"v\":\"again\"}");
	free(s);
	json_object_put(o);
	/* A put over a queued delete keeps the delete's base too. */
	ck_assert_int_eq(replica_delete(rep, "docs", "a", 4), 0);
	ck_assert_int_eq(replica_put(rep, "docs", "a", "{}", 5), 0);
	ck_assert_int_eq(q_int("SELECT base_version FROM pending WHERE "
	    "id = 'a'"), 3);
	ck_assert_int_eq(q_int("SELECT deleted FROM pending WHERE id = 'a'"),
	    0);
}
END_TEST

START_TEST(test_put_invalid)
{
	char longid[TR_RECORD_ID_MAX + 2];

	memset(longid, 'x', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	ck_assert_int_eq(replica_put(rep, "Docs", "a", "{}", 1), TR_EINVAL);
	ck_assert_int_eq(replica_put(rep, "", "a", "{}", 1), TR_EINVAL);
	ck_assert_int_eq(replica_put(rep, NULL, "a", "{}", 1), TR_EINVAL);
	ck_assert_int_eq(replica_put(rep, "docs", "", "{}", 1), TR_EINVAL);
	ck_assert_int_eq(replica_put(rep, "docs", NULL, "{}", 1), TR_EINVAL);
	ck_assert_int_eq(replica_put(rep, "docs", longid, "{}", 1), TR_EINVAL);
	longid[TR_RECORD_ID_MAX] = '\0';
	ck_assert_int_eq(replica_put(rep, "docs", longid, "{}", 1), 0);
	ck_assert_int_eq(replica_put(rep, "docs", "\xff", "{}", 1), TR_EINVAL);
	ck_assert_int_eq(replica_put(rep, "docs", "a", NULL, 1), TR_EINVAL);
	ck_assert_int_eq(replica_put(rep, "docs", "a", "", 1), TR_EINVAL);
	ck_assert_int_eq(replica_put(rep, "docs", "a", "[1]", 1), TR_EINVAL);
	ck_assert_int_eq(replica_put(rep, "docs", "a", "\"s\"", 1), TR_EINVAL);
	ck_assert_int_eq(replica_put(rep, "docs", "a", "{\"a\":1,\"a\":2}", 1),
	    TR_EINVAL);
	ck_assert_int_eq(replica_put(rep, "docs", "a",
	    "{\"a\":9007199254740992}", 1), TR_EINVAL);
	ck_assert_int_eq(replica_put(rep, "docs", "a", "{} x", 1), TR_EINVAL);
	ck_assert_int_eq(npending(), 1);
}
END_TEST

START_TEST(test_delete)
{
	json_object *o = NULL;

	ck_assert_int_eq(replica_delete(rep, "docs", "nope", 1), TR_ENOTFOUND);
	ck_assert_int_eq(replica_delete(rep, "Bad", "a", 1), TR_EINVAL);
	ck_assert_int_eq(replica_delete(rep, "docs", "", 1), TR_EINVAL);
	/* A record of the replica: a queued delete based on its version. */
	pull_one("docs", "a", 4, 7, "{}");
	ck_assert_int_eq(replica_delete(rep, "docs", "a", 9), 0);
	ck_assert_int_eq(npending(), 1);
	ck_assert_int_eq(q_int("SELECT base_version FROM pending"), 4);
	ck_assert_int_eq(q_int("SELECT deleted FROM pending"), 1);
	ck_assert_int_eq(q_int("SELECT data IS NULL FROM pending"), 1);
	ck_assert_int_eq(replica_get_json(rep, "docs", "a", &o), TR_ENOTFOUND);
	ck_assert_ptr_null(o);
	ck_assert_int_eq(replica_delete(rep, "docs", "a", 10), TR_ENOTFOUND);
	/* A queued put of a replica record becomes a delete, base kept. */
	pull_one("docs", "b", 2, 8, "{}");
	ck_assert_int_eq(replica_put(rep, "docs", "b", "{\"x\":1}", 1), 0);
	ck_assert_int_eq(replica_delete(rep, "docs", "b", 2), 0);
	ck_assert_int_eq(q_int("SELECT base_version FROM pending WHERE "
	    "id = 'b'"), 2);
	ck_assert_int_eq(q_int("SELECT deleted FROM pending WHERE id = 'b'"),
	    1);
	ck_assert_int_eq(q_int("SELECT rev FROM pending WHERE id = 'b'"), 2);
	/* A record the hub never saw just leaves the queue. */
	ck_assert_int_eq(replica_put(rep, "docs", "new", "{}", 1), 0);
	ck_assert_int_eq(npending(), 3);
	ck_assert_int_eq(replica_delete(rep, "docs", "new", 2), 0);
	ck_assert_int_eq(npending(), 2);
	ck_assert_int_eq(replica_get_json(rep, "docs", "new", &o),
	    TR_ENOTFOUND);
	/* A tombstone of the replica is not there to delete. */
	pull_one("docs", "gone", 3, 9, NULL);
	ck_assert_int_eq(replica_delete(rep, "docs", "gone", 1), TR_ENOTFOUND);
	ck_assert_int_eq(replica_get_json(rep, "docs", "gone", &o),
	    TR_ENOTFOUND);
	/* ... but may be written again, based on the tombstone's version. */
	ck_assert_int_eq(replica_put(rep, "docs", "gone", "{}", 1), 0);
	ck_assert_int_eq(q_int("SELECT base_version FROM pending WHERE "
	    "id = 'gone'"), 3);
}
END_TEST

START_TEST(test_pull_batch)
{
	struct replica_rec recs[3];
	json_object *o;
	char *s;

	recs[0] = mkrec("docs", "a", 1, 5, "{\"n\":1}");
	recs[1] = mkrec("docs", "b", 2, 6, NULL);
	recs[2] = mkrec("notes", "c", 1, 9, "{}");
	recs[2].has_file = 1;
	memset(recs[2].file_sha256, 'a', 64);
	recs[2].file_size = 12;
	recs[2].file_name = strdup("c.txt");
	ck_assert_int_eq(replica_pull_batch(rep, REPLICA_SET_ALL, "child",
	    NULL, 0, 0, recs, 3, 12), 0);
	ck_assert_int_eq(cursor_of(REPLICA_SET_ALL, "child"), 12);
	ck_assert_int_eq(q_int("SELECT count(*) FROM records"), 3);
	o = get("docs", "a");
	ck_assert_int_eq(member_bool(o, "pending"), 0);
	ck_assert_int_eq(member_int(o, "version"), 1);
	ck_assert_int_eq(member_int(o, "seq"), 5);
	s = member_canon(o, "origin");
	ck_assert_str_eq(s, "\"hub-1\"");
	free(s);
	json_object_put(o);
	o = get("notes", "c");
	s = member_canon(o, "file");
	ck_assert_str_eq(s, "{\"name\":\"c.txt\",\"sha256\":\"aaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\"size\":12}");
	free(s);
	json_object_put(o);
	/* An older state (lower seq) never replaces a newer one. */
	replica_rec_free(&recs[0]);
	recs[0] = mkrec("docs", "a", 9, 4, "{\"old\":true}");
	ck_assert_int_eq(replica_pull_batch(rep, REPLICA_SET_ALL, "child",
	    NULL, 0, 0, recs, 1, 13), 0);
	ck_assert_int_eq(q_int("SELECT version FROM records WHERE id = 'a'"),
	    1);
	ck_assert_int_eq(cursor_of(REPLICA_SET_ALL, "child"), 13);
	/* An empty batch still moves the cursor. */
	ck_assert_int_eq(replica_pull_batch(rep, REPLICA_SET_ALL, "child",
	    NULL, 0, 0, NULL, 0, 20), 0);
	ck_assert_int_eq(cursor_of(REPLICA_SET_ALL, "child"), 20);
	/* Bad arguments. */
	ck_assert_int_eq(replica_pull_batch(rep, NULL, "child", NULL, 0, 0,
	    NULL, 0, 1), TR_EINVAL);
	ck_assert_int_eq(replica_pull_batch(rep, "*", NULL, NULL, 0, 0, NULL,
	    0, 1), TR_EINVAL);
	ck_assert_int_eq(replica_pull_batch(rep, "*", "", NULL, 0, 0, NULL,
	    1, 1), TR_EINVAL);
	ck_assert_int_eq(replica_pull_batch(rep, "*", "", NULL, 0, 0, NULL,
	    0, -1), TR_EINVAL);
	for (int i = 0; i < 3; i++)
		replica_rec_free(&recs[i]);
}
END_TEST

START_TEST(test_pull_batch_one_transaction)
{
	struct replica_rec recs[2];

	pull_one("docs", "x", 1, 3, "{}");
	recs[0] = mkrec("docs", "a", 1, 5, "{}");
	recs[1] = mkrec("docs", "boom", 1, 6, "{}");
	/* The second record fails: nothing of the batch stays, cursor included. */
	q_exec("CREATE TRIGGER boom BEFORE INSERT ON records WHEN"
	    " NEW.id = 'boom' BEGIN SELECT RAISE(ABORT, 'boom'); END");
	ck_assert_int_eq(replica_pull_batch(rep, REPLICA_SET_ALL, "child",
	    NULL, 0, 1, recs, 2, 6), TR_EDB);
	ck_assert_int_eq(cursor_of(REPLICA_SET_ALL, "child"), 3);
	ck_assert_int_eq(q_int("SELECT count(*) FROM records"), 1);
	ck_assert_int_eq(q_int("SELECT count(*) FROM records WHERE id = 'x'"),
	    1);
	/* The same batch again, once it can be stored: all of it. */
	q_exec("DROP TRIGGER boom");
	ck_assert_int_eq(replica_pull_batch(rep, REPLICA_SET_ALL, "child",
	    NULL, 0, 0, recs, 2, 6), 0);
	ck_assert_int_eq(cursor_of(REPLICA_SET_ALL, "child"), 6);
	ck_assert_int_eq(q_int("SELECT count(*) FROM records"), 3);
	replica_rec_free(&recs[0]);
	replica_rec_free(&recs[1]);
}
END_TEST

START_TEST(test_reset)
{
	const char *const set[] = { "docs" };
	struct replica_rec r;

	pull_one("docs", "a", 1, 1, "{}");
	pull_one("docs", "b", 1, 2, "{}");
	pull_one("notes", "n", 1, 3, "{}");
	ck_assert_int_eq(replica_put(rep, "docs", "a", "{\"mine\":1}", 1), 0);
	/* A reset of the set {docs}: docs replaced, notes and the queue kept. */
	r = mkrec("docs", "c", 1, 40, "{}");
	ck_assert_int_eq(replica_pull_batch(rep, "docs", "child", set, 1, 1,
	    &r, 1, 40), 0);
	replica_rec_free(&r);
	ck_assert_int_eq(q_int("SELECT count(*) FROM records WHERE "
	    "collection = 'docs'"), 1);
	ck_assert_int_eq(q_int("SELECT count(*) FROM records WHERE id = 'c'"),
	    1);
	ck_assert_int_eq(q_int("SELECT count(*) FROM records WHERE "
	    "collection = 'notes'"), 1);
	ck_assert_int_eq(npending(), 1);
	ck_assert_int_eq(cursor_of("docs", "child"), 40);
	ck_assert_int_eq(cursor_of(REPLICA_SET_ALL, "child"), 3);
	/* A reset of the default set replaces every collection. */
	r = mkrec("other", "o", 1, 50, "{}");
	ck_assert_int_eq(replica_pull_batch(rep, REPLICA_SET_ALL, "child",
	    NULL, 0, 1, &r, 1, 50), 0);
	replica_rec_free(&r);
	ck_assert_int_eq(q_int("SELECT count(*) FROM records"), 1);
	ck_assert_int_eq(npending(), 1);
	/* A pull from 0 that brought nothing empties the set at completion. */
	pull_one("docs", "d", 1, 51, "{}");
	ck_assert_int_eq(replica_pull_complete(rep, "docs", "child", set, 1, 1,
	    51, 1000), 0);
	ck_assert_int_eq(q_int("SELECT count(*) FROM records WHERE "
	    "collection = 'docs'"), 0);
	ck_assert_int_eq(q_int("SELECT count(*) FROM records"), 1);
}
END_TEST

START_TEST(test_pull_complete)
{
	char *v = NULL;

	ck_assert_int_eq(replica_pull_complete(rep, REPLICA_SET_ALL, "child",
	    NULL, 0, 0, 77, 1700000000000LL), 0);
	ck_assert_int_eq(cursor_of(REPLICA_SET_ALL, "child"), 77);
	ck_assert_int_eq(replica_meta_get(rep, "last_sync", &v), 0);
	ck_assert_str_eq(v, "1700000000000");
	free(v);
	ck_assert_int_eq(replica_pull_complete(rep, NULL, "child", NULL, 0, 0,
	    1, 1), TR_EINVAL);
	ck_assert_int_eq(replica_pull_complete(rep, "*", NULL, NULL, 0, 0, 1,
	    1), TR_EINVAL);
	ck_assert_int_eq(replica_pull_complete(rep, "*", "child", NULL, 0, 0,
	    -1, 1), TR_EINVAL);
	ck_assert_int_eq(cursor_of(REPLICA_SET_ALL, "child"), 77);
}
END_TEST

START_TEST(test_cursors_per_set_and_roles)
{
	const char *const a[] = { "notes", "docs" };
	json_object *o = NULL;
	char *s;

	ck_assert_int_eq(cursor_of(REPLICA_SET_ALL, "child"), 0);
	ck_assert_int_eq(replica_pull_complete(rep, REPLICA_SET_ALL, "child",
	    NULL, 0, 0, 10, 1), 0);
	ck_assert_int_eq(replica_pull_complete(rep, "docs,notes", "child", a,
	    2, 0, 20, 1), 0);
	ck_assert_int_eq(cursor_of(REPLICA_SET_ALL, "child"), 10);
	ck_assert_int_eq(cursor_of("docs,notes", "child"), 20);
	ck_assert_int_eq(cursor_of("docs", "child"), 0);
	/* Other roles: pull from 0. */
	ck_assert_int_eq(cursor_of(REPLICA_SET_ALL, "admin,child"), 0);
	ck_assert_int_eq(cursor_of(REPLICA_SET_ALL, ""), 0);
	/* A pull under the new roles takes over the set's cursor. */
	ck_assert_int_eq(replica_pull_complete(rep, REPLICA_SET_ALL,
	    "admin,child", NULL, 0, 0, 30, 1), 0);
	ck_assert_int_eq(cursor_of(REPLICA_SET_ALL, "admin,child"), 30);
	ck_assert_int_eq(cursor_of(REPLICA_SET_ALL, "child"), 0);
	ck_assert_int_eq(replica_cursors_json(rep, &o), 0);
	ck_assert_int_eq(jcs_serialize(o, &s, NULL), 0);
	ck_assert_str_eq(s, "{\"*\":30,\"docs,notes\":20}");
	free(s);
	json_object_put(o);
	ck_assert_int_eq(replica_cursor_get(rep, NULL, "x", &(int64_t){ 0 }),
	    TR_EINVAL);
	ck_assert_int_eq(replica_cursor_get(rep, "*", NULL, &(int64_t){ 0 }),
	    TR_EINVAL);
}
END_TEST

START_TEST(test_cursor_report)
{
	const char *const a[] = { "docs" };
	const char *const b[] = { "kb" };
	int64_t c = -1;

	ck_assert_int_eq(replica_cursor_report(rep, "child", &c), 0);
	ck_assert_int_eq(c, 0);
	/* Without the default set: the lowest cursor. */
	ck_assert_int_eq(replica_pull_complete(rep, "docs", "child", a, 1, 0,
	    25, 1), 0);
	ck_assert_int_eq(replica_pull_complete(rep, "kb", "child", b, 1, 0,
	    15, 1), 0);
	ck_assert_int_eq(replica_cursor_report(rep, "child", &c), 0);
	ck_assert_int_eq(c, 15);
	/* The default set wins, above or below the others. */
	ck_assert_int_eq(replica_pull_complete(rep, REPLICA_SET_ALL, "child",
	    NULL, 0, 0, 40, 1), 0);
	ck_assert_int_eq(replica_cursor_report(rep, "child", &c), 0);
	ck_assert_int_eq(c, 40);
	ck_assert_int_eq(replica_pull_complete(rep, REPLICA_SET_ALL, "child",
	    NULL, 0, 0, 5, 1), 0);
	ck_assert_int_eq(replica_cursor_report(rep, "child", &c), 0);
	ck_assert_int_eq(c, 5);
	/* Cursors taken under other roles do not count. */
	ck_assert_int_eq(replica_cursor_report(rep, "admin,child", &c), 0);
	ck_assert_int_eq(c, 0);
	ck_assert_int_eq(replica_cursor_report(rep, NULL, &c), TR_EINVAL);
}
END_TEST

START_TEST(test_set_key)
{
	const char *const cols[] = { "notes", "docs", "notes", "a.b" };
	const char *const bad[] = { "docs", "Docs" };
	const char *const roles[] = { "child", "admin" };
	const char *const badroles[] = { "a,b" };
	char *k = NULL;

	ck_assert_int_eq(replica_set_key(NULL, 0, &k), 0);
	ck_assert_str_eq(k, REPLICA_SET_ALL);
	free(k);
	ck_assert_int_eq(replica_set_key(cols, 4, &k), 0);
	ck_assert_str_eq(k, "a.b,docs,notes");
	free(k);
	ck_assert_int_eq(replica_set_key(cols, 1, &k), 0);
	ck_assert_str_eq(k, "notes");
	free(k);
	ck_assert_int_eq(replica_set_key(bad, 2, &k), TR_EINVAL);
	ck_assert_ptr_null(k);
	ck_assert_int_eq(replica_set_key(NULL, 2, &k), TR_EINVAL);
	ck_assert_int_eq(replica_roles_key(roles, 2, &k), 0);
	ck_assert_str_eq(k, "admin,child");
	free(k);
	ck_assert_int_eq(replica_roles_key(NULL, 0, &k), 0);
	ck_assert_str_eq(k, "");
	free(k);
	ck_assert_int_eq(replica_roles_key(badroles, 1, &k), TR_EINVAL);
	ck_assert_int_eq(replica_roles_key(NULL, 1, &k), TR_EINVAL);
}
END_TEST

/* Load the queue (expecting N entries). */
static struct replica_change *
load(size_t want)
{
	struct replica_change *c = NULL;
	size_t n = 99;

	ck_assert_int_eq(replica_pending_load(rep, &c, &n), 0);
	ck_assert_uint_eq(n, want);
	return c;
}

START_TEST(test_pending_load)
{
	struct replica_change *c;

	c = load(0);
	ck_assert_ptr_null(c);
	pull_one("docs", "b", 6, 1, "{}");
	ck_assert_int_eq(replica_put(rep, "docs", "z", "{\"z\":1}", 11), 0);
	ck_assert_int_eq(replica_delete(rep, "docs", "b", 12), 0);
	ck_assert_int_eq(replica_put(rep, "notes", "a", "{}", 13), 0);
	ck_assert_int_eq(replica_put(rep, "docs", "z", "{\"z\":2}", 14), 0);
	c = load(3);
	/* Queue order: a replaced entry keeps its place. */
	ck_assert_str_eq(c[0].id, "z");
	ck_assert_str_eq(c[0].collection, "docs");
	ck_assert_str_eq(c[0].data, "{\"z\":2}");
	ck_assert_int_eq(c[0].rev, 2);
	ck_assert_int_eq(c[0].base_version, 0);
	ck_assert_int_eq(c[0].modified_at, 14);
	ck_assert_int_eq(c[0].deleted, 0);
	ck_assert_str_eq(c[1].id, "b");
	ck_assert_int_eq(c[1].deleted, 1);
	ck_assert_ptr_null(c[1].data);
	ck_assert_int_eq(c[1].base_version, 6);
	ck_assert_str_eq(c[2].collection, "notes");
	ck_assert(c[0].qorder < c[1].qorder && c[1].qorder < c[2].qorder);
	replica_changes_free(c, 3);
	replica_changes_free(NULL, 0);
}
END_TEST

START_TEST(test_push_ack_applied)
{
	struct replica_change *c;
	struct replica_result res[2];
	json_object *o;
	char *s;

	pull_one("docs", "b", 6, 1, "{}");
	ck_assert_int_eq(replica_put(rep, "docs", "a", "{\"x\":1}", 5), 0);
	ck_assert_int_eq(replica_delete(rep, "docs", "b", 6), 0);
	c = load(2);
	memset(res, 0, sizeof(res));
	res[0].status = REPLICA_APPLIED;
	res[0].version = 1;
	res[0].seq = 42;
	res[1].status = REPLICA_APPLIED;
	res[1].version = 7;
	res[1].seq = 43;
	ck_assert_int_eq(replica_push_ack(rep, c, res, 2, 100), 0);
	ck_assert_int_eq(npending(), 0);
	o = get("docs", "a");
	ck_assert_int_eq(member_bool(o, "pending"), 0);
	ck_assert_int_eq(member_int(o, "version"), 1);
	ck_assert_int_eq(member_int(o, "seq"), 42);
	s = member_canon(o, "origin");
	ck_assert_str_eq(s, "\"" NODE "\"");
	free(s);
	s = member_canon(o, "data");
	ck_assert_str_eq(s, "{\"x\":1}");
	free(s);
	json_object_put(o);
	ck_assert_int_eq(q_int("SELECT deleted FROM records WHERE id = 'b'"),
	    1);
	ck_assert_int_eq(q_int("SELECT version FROM records WHERE id = 'b'"),
	    7);
	ck_assert_int_eq(q_int("SELECT data IS NULL FROM records WHERE "
	    "id = 'b'"), 1);
	ck_assert_int_eq(q_int("SELECT count(*) FROM sync_log"), 0);
	/* Nothing to process is fine; missing arrays are not. */
	ck_assert_int_eq(replica_push_ack(rep, NULL, NULL, 0, 1), 0);
	ck_assert_int_eq(replica_push_ack(rep, NULL, res, 1, 1), TR_EINVAL);
	replica_changes_free(c, 2);
}
END_TEST

START_TEST(test_push_ack_conflict_rejected)
{
	struct replica_change *c;
	struct replica_result res[2];
	json_object *log = NULL, *e;
	char *s;

	pull_one("docs", "a", 2, 1, "{\"hub\":1}");
	ck_assert_int_eq(replica_put(rep, "docs", "a", "{\"mine\":1}", 5), 0);
	ck_assert_int_eq(replica_put(rep, "docs", "b", "{}", 6), 0);
	c = load(2);
	memset(res, 0, sizeof(res));
	res[0].status = REPLICA_CONFLICT;
	res[0].version = 3;
	res[0].seq = 9;
	snprintf(res[0].reason, sizeof(res[0].reason), "stale base_version");
	snprintf(res[0].conflict_id, sizeof(res[0].conflict_id),
	    "a~conflict~node-1~2");
	res[1].status = REPLICA_REJECTED;
	snprintf(res[1].reason, sizeof(res[1].reason), "missing_file");
	ck_assert_int_eq(replica_push_ack(rep, c, res, 2, 1700000000000LL), 0);
	/* The hub's state wins: both leave the queue, the replica is as pulled. */
	ck_assert_int_eq(npending(), 0);
	ck_assert_int_eq(q_int("SELECT version FROM records WHERE id = 'a'"),
	    2);
	s = q_text("SELECT data FROM records WHERE id = 'a'");
	ck_assert_str_eq(s, "{\"hub\":1}");
	free(s);
	ck_assert_int_eq(q_int("SELECT count(*) FROM records WHERE id = 'b'"),
	    0);
	ck_assert_int_eq(replica_log_json(rep, &log), 0);
	ck_assert_uint_eq(json_object_array_length(log), 2);
	e = json_object_array_get_idx(log, 0);
	ck_assert_int_eq(jcs_serialize(e, &s, NULL), 0);
	ck_assert_str_eq(s, "{\"at\":\"2023-11-14T22:13:20.000Z\","
	    "\"collection\":\"docs\",\"conflict_id\":\"a~conflict~node-1~2\","
	    "\"id\":\"a\",\"reason\":\"stale base_version\","
	    "\"status\":\"conflict\",\"version\":3}");
	free(s);
	e = json_object_array_get_idx(log, 1);
	ck_assert_int_eq(jcs_serialize(e, &s, NULL), 0);
	ck_assert_str_eq(s, "{\"at\":\"2023-11-14T22:13:20.000Z\","
	    "\"collection\":\"docs\",\"conflict_id\":null,\"id\":\"b\","
	    "\"reason\":\"missing_file\",\"status\":\"rejected\","
	    "\"version\":null}");
	free(s);
	json_object_put(log);
	replica_changes_free(c, 2);
}
END_TEST

START_TEST(test_push_ack_changed_meanwhile)
{
	struct replica_change *c;
	struct replica_result res[2];

	ck_assert_int_eq(replica_put(rep, "docs", "a", "{\"v\":1}", 1), 0);
	ck_assert_int_eq(replica_put(rep, "docs", "b", "{\"v\":1}", 1), 0);
	c = load(2);
	/* The user changes both while the push is under way. */
	ck_assert_int_eq(replica_put(rep, "docs", "a", "{\"v\":2}", 2), 0);
	ck_assert_int_eq(replica_put(rep, "docs", "b", "{\"v\":2}", 2), 0);
	memset(res, 0, sizeof(res));
	res[0].status = REPLICA_APPLIED;
	res[0].version = 1;
	res[0].seq = 5;
	res[1].status = REPLICA_CONFLICT;
	res[1].version = 4;
	res[1].seq = 6;
	ck_assert_int_eq(replica_push_ack(rep, c, res, 2, 1), 0);
	/* Both newer changes stay queued; a's now builds on the applied version. */
	ck_assert_int_eq(npending(), 2);
	ck_assert_int_eq(q_int("SELECT base_version FROM pending WHERE "
	    "id = 'a'"), 1);
	ck_assert_int_eq(q_int("SELECT base_version FROM pending WHERE "
	    "id = 'b'"), 0);
	ck_assert_int_eq(q_int("SELECT version FROM records WHERE id = 'a'"),
	    1);
	/* A change deleted from the queue meanwhile is simply gone. */
	q_exec("DELETE FROM pending");
	ck_assert_int_eq(replica_push_ack(rep, c, res, 2, 1), 0);
	ck_assert_int_eq(npending(), 0);
	replica_changes_free(c, 2);
}
END_TEST

START_TEST(test_push_ack_one_transaction)
{
	struct replica_change *c;
	struct replica_result res[2];

	ck_assert_int_eq(replica_put(rep, "docs", "a", "{}", 1), 0);
	ck_assert_int_eq(replica_put(rep, "docs", "boom", "{}", 1), 0);
	c = load(2);
	memset(res, 0, sizeof(res));
	res[0].status = REPLICA_APPLIED;
	res[0].version = 1;
	res[0].seq = 5;
	res[1].status = REPLICA_APPLIED;
	res[1].version = 1;
	res[1].seq = 6;
	q_exec("CREATE TRIGGER boom BEFORE INSERT ON records WHEN"
	    " NEW.id = 'boom' BEGIN SELECT RAISE(ABORT, 'boom'); END");
	ck_assert_int_eq(replica_push_ack(rep, c, res, 2, 1), TR_EDB);
	ck_assert_int_eq(npending(), 2);
	ck_assert_int_eq(q_int("SELECT count(*) FROM records"), 0);
	replica_changes_free(c, 2);
}
END_TEST

START_TEST(test_log_trim)
{
	struct replica_change *c;
	struct replica_result res;
	json_object *log = NULL;
	char id[16];

	memset(&res, 0, sizeof(res));
	res.status = REPLICA_REJECTED;
	snprintf(res.reason, sizeof(res.reason), "invalid_record");
	for (int i = 0; i < REPLICA_LOG_KEEP + 5; i++) {
		snprintf(id, sizeof(id), "r%d", i);
		ck_assert_int_eq(replica_put(rep, "docs", id, "{}", 1), 0);
		c = load(1);
		ck_assert_int_eq(replica_push_ack(rep, c, &res, 1, i), 0);
		replica_changes_free(c, 1);
	}
	ck_assert_int_eq(replica_log_json(rep, &log), 0);
	ck_assert_uint_eq(json_object_array_length(log), REPLICA_LOG_KEEP);
	json_object_put(log);
	ck_assert_int_eq(q_int("SELECT min(id = 'r5') FROM (SELECT id FROM "
	    "sync_log ORDER BY n LIMIT 1)"), 1);
}
END_TEST

START_TEST(test_list_merge)
{
	json_object *arr = NULL, *e;
	char *s;

	pull_one("docs", "b", 1, 1, "{\"b\":1}");
	pull_one("docs", "a", 2, 2, "{\"a\":1}");
	pull_one("docs", "dead", 3, 3, NULL);
	pull_one("docs", "gone", 1, 4, "{}");
	pull_one("notes", "n", 1, 5, "{}");
	ck_assert_int_eq(replica_put(rep, "docs", "B", "{\"B\":1}", 9), 0);
	ck_assert_int_eq(replica_put(rep, "docs", "a", "{\"a\":2}", 9), 0);
	ck_assert_int_eq(replica_delete(rep, "docs", "gone", 9), 0);

	ck_assert_int_eq(replica_list_json(rep, "docs", 0, 0, &arr), 0);
	ck_assert_uint_eq(json_object_array_length(arr), 3);
	/* Ordered by id, bytewise: "B" < "a" < "b". */
	e = json_object_array_get_idx(arr, 0);
	s = member_canon(e, "id");
	ck_assert_str_eq(s, "\"B\"");
	free(s);
	ck_assert(!json_object_object_get_ex(e, "pending", NULL));
	e = json_object_array_get_idx(arr, 1);
	s = member_canon(e, "data");
	ck_assert_str_eq(s, "{\"a\":2}");
	free(s);
	ck_assert_int_eq(member_int(e, "version"), 2);
	e = json_object_array_get_idx(arr, 2);
	ck_assert_int_eq(jcs_serialize(e, &s, NULL), 0);
	ck_assert_str_eq(s, "{\"collection\":\"docs\",\"data\":{\"b\":1},"
	    "\"deleted\":false,\"file\":null,\"id\":\"b\","
	    "\"modified_at\":\"2023-11-14T22:13:20.001Z\",\"origin\":\"hub-1\","
	    "\"seq\":1,\"version\":1}");
	free(s);
	json_object_put(arr);

	/* Tombstones and queued deletes with INCLUDE_DELETED; pending flags. */
	ck_assert_int_eq(replica_list_json(rep, "docs", 1, 1, &arr), 0);
	ck_assert_uint_eq(json_object_array_length(arr), 5);
	e = json_object_array_get_idx(arr, 0);
	ck_assert_int_eq(member_bool(e, "pending"), 1);
	e = json_object_array_get_idx(arr, 3);
	s = member_canon(e, "id");
	ck_assert_str_eq(s, "\"dead\"");
	free(s);
	ck_assert_int_eq(member_bool(e, "deleted"), 1);
	ck_assert_int_eq(member_bool(e, "pending"), 0);
	s = member_canon(e, "data");
	ck_assert_str_eq(s, "null");
	free(s);
	e = json_object_array_get_idx(arr, 4);
	ck_assert_int_eq(member_bool(e, "deleted"), 1);
	ck_assert_int_eq(member_bool(e, "pending"), 1);
	json_object_put(arr);

	ck_assert_int_eq(replica_list_json(rep, "empty", 0, 0, &arr), 0);
	ck_assert_uint_eq(json_object_array_length(arr), 0);
	json_object_put(arr);
	arr = NULL;
	ck_assert_int_eq(replica_list_json(rep, "Bad", 0, 0, &arr), TR_EINVAL);
	ck_assert_int_eq(replica_list_json(rep, NULL, 0, 0, &arr), TR_EINVAL);
	ck_assert_ptr_null(arr);
	ck_assert_int_eq(replica_get_json(rep, "docs", "nope", &arr),
	    TR_ENOTFOUND);
	ck_assert_int_eq(replica_get_json(rep, "docs", "", &arr), TR_EINVAL);
	ck_assert_ptr_null(arr);
}
END_TEST

START_TEST(test_meta)
{
	char *v = (char *)1;

	ck_assert_int_eq(replica_meta_get(rep, "hub", &v), TR_ENOTFOUND);
	ck_assert_ptr_null(v);
	ck_assert_int_eq(replica_meta_set(rep, "hub", "10.0.0.1:5001"), 0);
	ck_assert_int_eq(replica_meta_set(rep, "hub", "10.0.0.2:5001"), 0);
	ck_assert_int_eq(replica_meta_get(rep, "hub", &v), 0);
	ck_assert_str_eq(v, "10.0.0.2:5001");
	free(v);
	ck_assert_int_eq(replica_meta_set(rep, "hub", NULL), 0);
	ck_assert_int_eq(replica_meta_get(rep, "hub", &v), TR_ENOTFOUND);
	ck_assert_int_eq(replica_meta_get(rep, "node_id", &v), 0);
	ck_assert_str_eq(v, NODE);
	free(v);
	ck_assert_int_eq(replica_meta_set(rep, NULL, "x"), TR_EINVAL);
	ck_assert_int_eq(replica_meta_get(rep, NULL, &v), TR_EINVAL);
}
END_TEST

/* Parse TEXT as a wire record; returns the code, *WHY the reason. */
static int
rec_parse(const char *text, struct replica_rec *rec, const char **why)
{
	json_object *o = NULL;
	int rc;

	ck_assert_int_eq(jcs_parse(text, strlen(text), &o), 0);
	rc = replica_rec_from_json(o, rec, why);
	json_object_put(o);
	return rc;
}

#define WIRE_HEAD "{\"collection\":\"docs\",\"id\":\"r1\",\"version\":2," \
	"\"deleted\":false,\"modified_at\":\"2026-11-26T14:41:37.123456Z\"," \
	"\"origin\":\"hub-1\",\"seq\":9"

START_TEST(test_put_file)
{
	static const char sha[] =
	    "5a2cda2351d1cdd9dd7957e57c0b3c8522451f25b6494569b7e94388c46f0980";
	struct replica_change *chg = NULL;
	struct replica_result res;
	struct replica_rec *recs = NULL;
	json_object *o, *f;
	size_t n = 0;

	ck_assert_int_eq(replica_put_file(rep, "docs", "a", "{}", sha, 100,
	    "menu.pdf", 1000), 0);
	ck_assert_int_eq(replica_put_file(rep, "docs", "b", "{}", "XYZ", 1,
	    "x", 1000), TR_EINVAL);
	/* The pending view and the push form carry the file. */
	o = get("docs", "a");
	ck_assert(json_object_object_get_ex(o, "file", &f) && f != NULL);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(f,
	    "sha256")), sha);
	json_object_put(o);
	ck_assert_int_eq(replica_pending_load(rep, &chg, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert(chg[0].has_file);
	o = replica_change_json(&chg[0]);
	f = json_object_object_get(o, "file");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(json_object_get_int64(json_object_object_get(f,
	    "size")), 100);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(f,
	    "name")), "menu.pdf");
	json_object_put(o);
	/* Applied: the record keeps the file, and lists among the files. */
	memset(&res, 0, sizeof(res));
	res.status = REPLICA_APPLIED;
	res.version = 1;
	res.seq = 7;
	ck_assert_int_eq(replica_push_ack(rep, chg, &res, 1, 2000), 0);
	replica_changes_free(chg, n);
	pull_one("docs", "nofile", 1, 8, "{}");
	ck_assert_int_eq(replica_files_load(rep, &recs, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(recs[0].id, "a");
	ck_assert_str_eq(recs[0].file_sha256, sha);
	ck_assert_int_eq(recs[0].file_size, 100);
	ck_assert_str_eq(recs[0].file_name, "menu.pdf");
	replica_recs_free(recs, n);
}
END_TEST

START_TEST(test_rec_file_name_nul)
{
	struct replica_rec rec;
	json_object *o = NULL;
	const char *why = NULL;
	static const char text[] = "{\"collection\":\"docs\",\"id\":\"a\","
	    "\"version\":1,\"deleted\":false,"
	    "\"modified_at\":\"2026-01-01T00:00:00.000Z\",\"origin\":\"hub-1\","
	    "\"data\":{},\"file\":{\"sha256\":\"5a2cda2351d1cdd9dd7957e57c0b3c85"
	    "22451f25b6494569b7e94388c46f0980\",\"size\":1,"
	    "\"name\":\"a\\u0000/../b\"},\"seq\":1}";

	/* A NUL is never cut short: kept as a byte the name check refuses. */
	memset(&rec, 0, sizeof(rec));
	ck_assert_int_eq(jcs_parse(text, strlen(text), &o), 0);
	ck_assert_int_eq(replica_rec_from_json(o, &rec, &why), 0);
	ck_assert_uint_eq(strlen(rec.file_name), 7);
	ck_assert_int_eq(rec.file_name[1], 0x7f);
	replica_rec_free(&rec);
	json_object_put(o);
}
END_TEST

START_TEST(test_rec_from_json)
{
	static const char *const bad[] = {
		"[]",
		"{\"collection\":\"Docs\",\"id\":\"r1\",\"version\":2,"
		    "\"deleted\":false,\"modified_at\":\"2026-11-26T14:41:37Z\","
		    "\"origin\":\"hub-1\",\"seq\":9,\"data\":{}}",
		"{\"collection\":\"docs\",\"id\":\"\",\"version\":2,"
		    "\"deleted\":false,\"modified_at\":\"2026-11-26T14:41:37Z\","
		    "\"origin\":\"hub-1\",\"seq\":9,\"data\":{}}",
		"{\"collection\":\"docs\",\"id\":\"r1\",\"version\":0,"
		    "\"deleted\":false,\"modified_at\":\"2026-11-26T14:41:37Z\","
		    "\"origin\":\"hub-1\",\"seq\":9,\"data\":{}}",
		"{\"collection\":\"docs\",\"id\":\"r1\",\"version\":1,"
		    "\"deleted\":0,\"modified_at\":\"2026-11-26T14:41:37Z\","
		    "\"origin\":\"hub-1\",\"seq\":9,\"data\":{}}",
		"{\"collection\":\"docs\",\"id\":\"r1\",\"version\":1,"
		    "\"deleted\":false,\"modified_at\":1764168097000,"
		    "\"origin\":\"hub-1\",\"seq\":9,\"data\":{}}",
		"{\"collection\":\"docs\",\"id\":\"r1\",\"version\":1,"
		    "\"deleted\":false,\"modified_at\":\"2026-11-26T14:41:37Z\","
		    "\"origin\":\"hub 1\",\"seq\":9,\"data\":{}}",
		"{\"collection\":\"docs\",\"id\":\"r1\",\"version\":1,"
		    "\"deleted\":false,\"modified_at\":\"2026-11-26T14:41:37Z\","
		    "\"origin\":\"hub-1\",\"seq\":0,\"data\":{}}",
		WIRE_HEAD ",\"data\":[1]}",
		WIRE_HEAD ",\"data\":null}",
		WIRE_HEAD "}",
		"{\"collection\":\"docs\",\"id\":\"r1\",\"version\":2,"
		    "\"deleted\":true,\"modified_at\":\"2026-11-26T14:41:37Z\","
		    "\"origin\":\"hub-1\",\"seq\":9,\"data\":{}}",
		WIRE_HEAD ",\"data\":{},\"file\":\"x\"}",
		WIRE_HEAD ",\"data\":{},\"file\":{\"sha256\":\"AB\",\"size\":1,"
		    "\"name\":\"f\"}}",
		WIRE_HEAD ",\"data\":{},\"file\":{\"sha256\":\"" \
		    "0000000000000000000000000000000000000000000000000000000000000000"
		    "\",\"size\":-1,\"name\":\"f\"}}",
		WIRE_HEAD ",\"data\":{},\"file\":{\"sha256\":\"" \
		    "0000000000000000000000000000000000000000000000000000000000000000"
		    "\",\"size\":1}}",
	};
	struct replica_rec rec;
	const char *why = NULL;
	json_object *o;
	char *s;

	ck_assert_int_eq(rec_parse(WIRE_HEAD ",\"data\":{\"b\":[1,2],\"a\":"
	    "\"\\u00e9\"},\"file\":null,\"extra\":1}", &rec, &why), 0);
	ck_assert_ptr_null(why);
	ck_assert_str_eq(rec.collection, "docs");
	ck_assert_str_eq(rec.id, "r1");
	ck_assert_int_eq(rec.version, 2);
	ck_assert_int_eq(rec.deleted, 0);
	ck_assert_int_eq(rec.modified_at, 1795704097123LL);
	ck_assert_str_eq(rec.origin, "hub-1");
	ck_assert_str_eq(rec.data, "{\"a\":\"\xc3\xa9\",\"b\":[1,2]}");
	ck_assert_int_eq(rec.has_file, 0);
	ck_assert_int_eq(rec.seq, 9);
	/* And back to the wire form. */
	o = replica_rec_json(&rec);
	ck_assert_ptr_nonnull(o);
	ck_assert_int_eq(jcs_serialize(o, &s, NULL), 0);
	ck_assert_str_eq(s, "{\"collection\":\"docs\",\"data\":{\"a\":"
	    "\"\xc3\xa9\",\"b\":[1,2]},\"deleted\":false,\"file\":null,"
	    "\"id\":\"r1\",\"modified_at\":\"2026-11-26T14:41:37.123Z\","
	    "\"origin\":\"hub-1\",\"seq\":9,\"version\":2}");
	free(s);
	json_object_put(o);
	replica_rec_free(&rec);

	/* A tombstone may leave data out; a file is read whole. */
	ck_assert_int_eq(rec_parse("{\"collection\":\"docs\",\"id\":\"r1\","
	    "\"version\":3,\"deleted\":true,\"modified_at\":"
	    "\"2026-11-26T14:41:37+00:00\",\"origin\":\"n\",\"seq\":4,"
	    "\"file\":{\"sha256\":\"" 
	    "00000000000000000000000000000000000000000000000000000000000000ff"
	    "\",\"size\":5,\"name\":\"a b.txt\"}}", &rec, &why), 0);
	ck_assert_int_eq(rec.deleted, 1);
	ck_assert_ptr_null(rec.data);
	ck_assert_int_eq(rec.has_file, 1);
	ck_assert_int_eq(rec.file_size, 5);
	ck_assert_str_eq(rec.file_name, "a b.txt");
	replica_rec_free(&rec);
	replica_rec_free(NULL);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		ck_assert_msg(rec_parse(bad[i], &rec, &why) == TR_EINVAL,
		    "accepted: %s", bad[i]);
		ck_assert_ptr_nonnull(why);
		ck_assert_ptr_null(rec.id);
		ck_assert_ptr_null(rec.data);
		ck_assert_ptr_null(rec.file_name);
	}
}
END_TEST

START_TEST(test_change_json)
{
	struct replica_change c;
	json_object *o;
	char *s;

	memset(&c, 0, sizeof(c));
	snprintf(c.collection, sizeof(c.collection), "docs");
	c.id = (char *)"x";
	c.base_version = 4;
	c.data = (char *)"{\"k\":true}";
	c.modified_at = 1700000000000LL;
	o = replica_change_json(&c);
	ck_assert_ptr_nonnull(o);
	ck_assert_int_eq(jcs_serialize(o, &s, NULL), 0);
	ck_assert_str_eq(s, "{\"base_version\":4,\"collection\":\"docs\","
	    "\"data\":{\"k\":true},\"deleted\":false,\"file\":null,\"id\":\"x\","
	    "\"modified_at\":\"2023-11-14T22:13:20.000Z\"}");
	free(s);
	json_object_put(o);
	c.deleted = 1;
	c.data = NULL;
	o = replica_change_json(&c);
	ck_assert_int_eq(jcs_serialize(o, &s, NULL), 0);
	ck_assert_str_eq(s, "{\"base_version\":4,\"collection\":\"docs\","
	    "\"data\":null,\"deleted\":true,\"file\":null,\"id\":\"x\","
	    "\"modified_at\":\"2023-11-14T22:13:20.000Z\"}");
	free(s);
	json_object_put(o);
	/* A live change without data, or with broken data, has no push form. */
	c.deleted = 0;
	ck_assert_ptr_null(replica_change_json(&c));
	c.data = (char *)"{";
	ck_assert_ptr_null(replica_change_json(&c));
	c.id = NULL;
	ck_assert_ptr_null(replica_change_json(&c));
}
END_TEST

START_TEST(test_database_errors)
{
	struct replica_change *c = NULL, one;
	struct replica_result res;
	struct replica_rec r = mkrec("docs", "a", 1, 1, "{}");
	json_object *o = NULL;
	int64_t v;
	size_t n;
	char *s = NULL;

	memset(&one, 0, sizeof(one));
	snprintf(one.collection, sizeof(one.collection), "docs");
	one.id = (char *)"a";
	memset(&res, 0, sizeof(res));
	res.status = REPLICA_REJECTED;
	/* Every table gone: each function fails cleanly with TR_EDB. */
	q_exec("DROP TABLE records; DROP TABLE pending; DROP TABLE cursors;"
	    " DROP TABLE sync_log; DROP TABLE meta");
	ck_assert_int_eq(replica_put(rep, "docs", "a", "{}", 1), TR_EDB);
	ck_assert_int_eq(replica_delete(rep, "docs", "a", 1), TR_EDB);
	ck_assert_int_eq(replica_get_json(rep, "docs", "a", &o), TR_EDB);
	ck_assert_int_eq(replica_list_json(rep, "docs", 1, 1, &o), TR_EDB);
	ck_assert_ptr_null(o);
	ck_assert_int_eq(replica_pending_count(rep, &v), TR_EDB);
	ck_assert_int_eq(replica_pending_load(rep, &c, &n), TR_EDB);
	ck_assert_ptr_null(c);
	ck_assert_int_eq(replica_cursor_get(rep, "*", "", &v), TR_EDB);
	ck_assert_int_eq(replica_pull_batch(rep, "*", "", NULL, 0, 1, &r, 1,
	    1), TR_EDB);
	ck_assert_int_eq(replica_pull_batch(rep, "docs", "", NULL, 0, 0, &r, 1,
	    1), TR_EDB);
	ck_assert_int_eq(replica_pull_complete(rep, "*", "", NULL, 0, 0, 1, 1),
	    TR_EDB);
	ck_assert_int_eq(replica_push_ack(rep, &one, &res, 1, 1), TR_EDB);
	ck_assert_int_eq(replica_meta_set(rep, "k", "v"), TR_EDB);
	ck_assert_int_eq(replica_meta_get(rep, "k", &s), TR_EDB);
	ck_assert_ptr_null(s);
	ck_assert_int_eq(replica_cursors_json(rep, &o), TR_EDB);
	ck_assert_int_eq(replica_log_json(rep, &o), TR_EDB);
	ck_assert_ptr_null(o);
	replica_rec_free(&r);
}
END_TEST

START_TEST(test_busy_writer)
{
	sqlite3 *other = NULL;
	char path[4096];

	/* Another connection holds the write lock: writes fail after the busy timeout. */
	snprintf(path, sizeof(path), "%s/%s", tmpdir, REPLICA_FILE);
	ck_assert_int_eq(db_open(path, 0, &other), 0);
	ck_assert_int_eq(sqlite3_busy_timeout(replica_db(rep), 50), SQLITE_OK);
	ck_assert_int_eq(db_begin(other), 0);
	ck_assert_int_eq(replica_delete(rep, "docs", "a", 1), TR_EDB);
	ck_assert_int_eq(replica_pull_complete(rep, "*", "", NULL, 0, 0, 1, 1),
	    TR_EDB);
	ck_assert_int_eq(db_rollback(other), 0);
	ck_assert_int_eq(replica_pull_complete(rep, "*", "", NULL, 0, 0, 1, 1),
	    0);
	db_close(other);
}
END_TEST

/* --- The sync drivers against a scripted hub on a socketpair --- */

#define HUB_KEY_BYTE	0x5a
#define HUB_ROTATE	3	/* small, so the keys rotate during a test */

/* A scripted hub: the other end of a link, run in a thread. */
struct fakehub {
	struct conn c;
	int fd;
	void (*script)(struct fakehub *);
	pthread_t th;
	char err[512];			/* the script's first complaint */
	char sync_id[TR_UUID_LEN + 1];
	char reqid[TR_UUID_LEN + 1];
	int64_t want_since;
	int n;				/* a figure a script may need */
};

/* Record the script's first complaint. */
static void
hub_fail(struct fakehub *h, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void
hub_fail(struct fakehub *h, const char *fmt, ...)
{
	va_list ap;

	if (h->err[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(h->err, sizeof(h->err), fmt, ap);
	va_end(ap);
}

/* Receive a verified message of TYPE from the node, or NULL with a complaint. */
static json_object *
hub_recv(struct fakehub *h, const char *type)
{
	uint8_t key[TR_KEY_LEN];
	json_object *env = NULL;
	int rc;

	if ((rc = conn_recv(&h->c, &env, key, NULL)) != 0) {
		hub_fail(h, "waiting for %s: %s", type, tr_strerror(rc));
		json_object_put(env);
		return NULL;
	}
	if (msg_verify(env, key, sizeof(key)) != 0 ||
	    strcmp(msg_source_id(env), NODE) != 0) {
		hub_fail(h, "%s: bad signature or source", msg_type(env));
		json_object_put(env);
		return NULL;
	}
	if (strcmp(msg_type(env), type) != 0) {
		hub_fail(h, "expected %s, got %s", type, msg_type(env));
		json_object_put(env);
		return NULL;
	}
	return env;
}

/* Send TYPE answering IRT (may be NULL) with the payload printed from FMT; the id goes to ID. */
static void
hub_send(struct fakehub *h, const char *type, const char *irt, char *id,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void
hub_send(struct fakehub *h, const char *type, const char *irt, char *id,
    const char *fmt, ...)
{
	json_object *p = NULL;
	char *text = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&text, fmt, ap);
	va_end(ap);
	if (n < 0 || jcs_parse(text, strlen(text), &p) != 0) {
		hub_fail(h, "bad script payload: %s", text != NULL ? text : "");
		free(text);
		return;
	}
	free(text);
	if (conn_send_msg(&h->c, type, irt, p, NULL, 0, id) != 0)
		hub_fail(h, "sending %s failed", type);
}

/* Send TYPE answering IRT with the payload TEXT, "@" standing for the sync_id. */
static void
hub_send_text(struct fakehub *h, const char *type, const char *irt,
    const char *text)
{
	json_object *p = NULL;
	char *buf, *at;

	buf = malloc(strlen(text) + sizeof(h->sync_id));
	ck_assert_ptr_nonnull(buf);
	if ((at = strchr(text, '@')) != NULL)
		sprintf(buf, "%.*s%s%s", (int)(at - text), text, h->sync_id,
		    at + 1);
	else
		strcpy(buf, text);
	if (jcs_parse(buf, strlen(buf), &p) != 0)
		hub_fail(h, "bad script payload: %s", buf);
	else if (conn_send_msg(&h->c, type, irt, p, NULL, 0, NULL) != 0)
		hub_fail(h, "sending %s failed", type);
	free(buf);
}

/* The node must close without sending anything more. */
static void
hub_expect_close(struct fakehub *h)
{
	uint8_t key[TR_KEY_LEN];
	json_object *env = NULL;
	int rc = conn_recv(&h->c, &env, key, NULL);

	if (rc != TR_ECLOSED)
		hub_fail(h, "expected the node to close, got %s %s",
		    tr_strerror(rc), env != NULL ? msg_type(env) : "");
	json_object_put(env);
}

/* Integer member KEY of the payload of ENV, or -1. */
static int64_t
hub_int(json_object *env, const char *key)
{
	int64_t v = -1;

	msg_get_int(msg_payload(env), key, &v);
	return v;
}

/* Read a SYNC_REQUEST and keep its ids; checks DIRECTION. */
static json_object *
hub_request(struct fakehub *h, const char *direction)
{
	json_object *env = hub_recv(h, TR_MSG_SYNC_REQUEST);
	const char *s;

	if (env == NULL)
		return NULL;
	if (msg_get_str(msg_payload(env), "direction", &s) != 0 ||
	    strcmp(s, direction) != 0 ||
	    msg_get_str(msg_payload(env), "sync_id", &s) != 0 ||
	    !msg_valid_uuid(s)) {
		hub_fail(h, "bad SYNC_REQUEST");
		json_object_put(env);
		return NULL;
	}
	snprintf(h->sync_id, sizeof(h->sync_id), "%s", s);
	snprintf(h->reqid, sizeof(h->reqid), "%s", msg_id(env));
	return env;
}

/* Read a pull SYNC_ACK of BATCH for the SYNC_DATA DATAID with LAST_SEQ. */
static void
hub_pull_ack(struct fakehub *h, const char *dataid, int64_t batch,
    int64_t last_seq)
{
	json_object *env = hub_recv(h, TR_MSG_SYNC_ACK);
	const char *s;

	if (env == NULL)
		return;
	if (msg_in_reply_to(env) == NULL ||
	    strcmp(msg_in_reply_to(env), dataid) != 0 ||
	    hub_int(env, "batch") != batch ||
	    hub_int(env, "last_seq") != last_seq ||
	    msg_get_str(msg_payload(env), "sync_id", &s) != 0 ||
	    strcmp(s, h->sync_id) != 0)
		hub_fail(h, "bad SYNC_ACK of batch %lld", (long long)batch);
	json_object_put(env);
}

/* A live wire record and a tombstone of docs. */
#define HUB_REC(id, version, seq) \
	"{\"collection\":\"docs\",\"id\":\"" id "\",\"version\":" #version \
	",\"deleted\":false,\"modified_at\":\"2026-11-26T10:00:00.000Z\"," \
	"\"origin\":\"hub-1\",\"data\":{\"v\":" #version "},\"file\":null," \
	"\"seq\":" #seq "}"
#define HUB_DEL(id, version, seq) \
	"{\"collection\":\"docs\",\"id\":\"" id "\",\"version\":" #version \
	",\"deleted\":true,\"modified_at\":\"2026-11-26T10:00:00.000Z\"," \
	"\"origin\":\"hub-1\",\"data\":null,\"file\":null,\"seq\":" #seq "}"

/* Two batches sent ahead of their ACKs (window), then SYNC_COMPLETE. */
static void
script_pull_ok(struct fakehub *h)
{
	char d0[TR_UUID_LEN + 1], d1[TR_UUID_LEN + 1];
	json_object *req = hub_request(h, "pull");
	json_object *cols;

	if (req == NULL)
		return;
	if (hub_int(req, "since") != h->want_since ||
	    hub_int(req, "batch_size") != 2 || hub_int(req, "window") != 4 ||
	    msg_get_array(msg_payload(req), "collections", &cols) !=
	    TR_ENOTFOUND)
		hub_fail(h, "bad pull request");
	json_object_put(req);
	hub_send(h, TR_MSG_SYNC_DATA, h->reqid, d0, "{\"sync_id\":\"%s\","
	    "\"batch\":0,\"records\":[%s,%s],\"last_seq\":5,\"reset\":false}",
	    h->sync_id, HUB_REC("a", 1, 4), HUB_REC("b", 2, 5));
	hub_send(h, TR_MSG_SYNC_DATA, h->reqid, d1, "{\"sync_id\":\"%s\","
	    "\"batch\":1,\"records\":[%s],\"last_seq\":9,\"reset\":false}",
	    h->sync_id, HUB_DEL("c", 3, 9));
	hub_pull_ack(h, d0, 0, 5);
	hub_pull_ack(h, d1, 1, 9);
	hub_send(h, TR_MSG_SYNC_COMPLETE, h->reqid, NULL, "{\"sync_id\":\"%s\","
	    "\"cursor\":11,\"records\":3,\"batches\":2}", h->sync_id);
}

/* Nothing new: SYNC_COMPLETE straight away. */
static void
script_pull_nothing(struct fakehub *h)
{
	json_object *req = hub_request(h, "pull");

	if (req == NULL)
		return;
	if (hub_int(req, "since") != h->want_since)
		hub_fail(h, "since %lld, wanted %lld",
		    (long long)hub_int(req, "since"), (long long)h->want_since);
	/* No wish of the node's: the hub's batch_size applies. */
	if (json_object_object_get_ex(msg_payload(req), "batch_size", NULL))
		hub_fail(h, "batch_size sent without a wish");
	json_object_put(req);
	hub_send(h, TR_MSG_SYNC_COMPLETE, h->reqid, NULL, "{\"sync_id\":\"%s\","
	    "\"cursor\":%d,\"records\":0,\"batches\":0}", h->sync_id, h->n);
}

/* A reset: batch 0 replaces the set. */
static void
script_pull_reset(struct fakehub *h)
{
	char d0[TR_UUID_LEN + 1];
	json_object *req = hub_request(h, "pull"), *cols;

	if (req == NULL)
		return;
	if (msg_get_array(msg_payload(req), "collections", &cols) != 0 ||
	    json_object_array_length(cols) != 1 ||
	    strcmp(json_object_get_string(json_object_array_get_idx(cols, 0)),
	    "docs") != 0)
		hub_fail(h, "collections not sent once");
	json_object_put(req);
	hub_send(h, TR_MSG_SYNC_DATA, h->reqid, d0, "{\"sync_id\":\"%s\","
	    "\"batch\":0,\"records\":[%s],\"last_seq\":30,\"reset\":true}",
	    h->sync_id, HUB_REC("new", 1, 30));
	hub_pull_ack(h, d0, 0, 30);
	hub_send(h, TR_MSG_SYNC_COMPLETE, h->reqid, NULL, "{\"sync_id\":\"%s\","
	    "\"cursor\":30,\"records\":1,\"batches\":1}", h->sync_id);
}

/* One good batch, then the hub goes away. */
static void
script_pull_cut(struct fakehub *h)
{
	char d0[TR_UUID_LEN + 1];
	json_object *req = hub_request(h, "pull");

	json_object_put(req);
	hub_send(h, TR_MSG_SYNC_DATA, h->reqid, d0, "{\"sync_id\":\"%s\","
	    "\"batch\":0,\"records\":[%s],\"last_seq\":4,\"reset\":false}",
	    h->sync_id, HUB_REC("a", 1, 4));
	hub_pull_ack(h, d0, 0, 4);
}

/* A broken SYNC_DATA chosen by h->n; the node must stop without an ACK. */
static void
script_pull_bad(struct fakehub *h)
{
	static const char *const bad[] = {
		/* batch numbering starts at 0 */
		"{\"sync_id\":\"@\",\"batch\":1,\"records\":[],"
		    "\"last_seq\":4}",
		/* a malformed record */
		"{\"sync_id\":\"@\",\"batch\":0,\"records\":[{\"id\":1}],"
		    "\"last_seq\":4}",
		/* seq beyond last_seq */
		"{\"sync_id\":\"@\",\"batch\":0,\"records\":["
		    HUB_REC("a", 1, 9) "],\"last_seq\":4}",
		/* seq going backwards */
		"{\"sync_id\":\"@\",\"batch\":0,\"records\":["
		    HUB_REC("a", 1, 4) "," HUB_REC("b", 1, 3) "],"
		    "\"last_seq\":4}",
		/* another sync */
		"{\"sync_id\":\"00000000-0000-4000-8000-000000000000\","
		    "\"batch\":0,\"records\":[],\"last_seq\":4}",
		/* reset is not a boolean */
		"{\"sync_id\":\"@\",\"batch\":0,\"records\":[],"
		    "\"last_seq\":4,\"reset\":\"yes\"}",
		/* a collection not asked for (the node asks for docs) */
		"{\"sync_id\":\"@\",\"batch\":0,\"records\":["
		    "{\"collection\":\"other\",\"id\":\"x\",\"version\":1,"
		    "\"deleted\":true,\"modified_at\":\"2026-11-26T10:00:00Z\","
		    "\"origin\":\"hub-1\",\"data\":null,\"file\":null,"
		    "\"seq\":2}],\"last_seq\":4}",
		/* last_seq missing */
		"{\"sync_id\":\"@\",\"batch\":0,\"records\":[]}",
	};
	json_object *req = hub_request(h, "pull");

	json_object_put(req);
	if (h->n < 0 || (size_t)h->n >= sizeof(bad) / sizeof(bad[0])) {
		hub_fail(h, "no such case");
		return;
	}
	hub_send_text(h, TR_MSG_SYNC_DATA, h->reqid, bad[h->n]);
	hub_expect_close(h);
}

/* The pull is refused with an ERROR. */
static void
script_pull_denied(struct fakehub *h)
{
	json_object *req = hub_request(h, "pull");

	json_object_put(req);
	hub_send(h, TR_MSG_ERROR, h->reqid, NULL, "{\"error\":{\"code\":"
	    "\"ACCESS_DENIED\",\"message\":\"collection notes is not "
	    "readable\\n by this node\",\"details\":{}}}");
	hub_expect_close(h);
}

/* A SYNC_COMPLETE that does not add up. */
static void
script_pull_bad_complete(struct fakehub *h)
{
	json_object *req = hub_request(h, "pull");

	json_object_put(req);
	hub_send(h, TR_MSG_SYNC_COMPLETE, h->reqid, NULL, "{\"sync_id\":\"%s\","
	    "\"cursor\":3,\"records\":0,\"batches\":1}", h->sync_id);
	hub_expect_close(h);
}

/* Hub thread. */
static void *
hub_main(void *arg)
{
	struct fakehub *h = arg;

	h->script(h);
	conn_clear(&h->c);
	close(h->fd);
	return NULL;
}

/* Connect L and the scripted hub H (running SCRIPT) over a socketpair. */
static void
hub_start(struct link *l, struct fakehub *h, void (*script)(struct fakehub *))
{
	struct timeval tv = { 10, 0 };
	uint8_t key[TR_KEY_LEN];
	int sv[2];

	memset(key, HUB_KEY_BYTE, sizeof(key));
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	for (int i = 0; i < 2; i++) {
		setsockopt(sv[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(sv[i], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	memset(l, 0, sizeof(*l));
	l->fd = sv[0];
	conn_init(&l->c, sv[0], NULL, 1 << 20, 0, NODE, NULL);
	conn_set_keys(&l->c, key, TR_DIR_C2H, HUB_ROTATE);
	l->authed = 1;
	snprintf(l->hub_id, sizeof(l->hub_id), "hub-1");
	l->rotate_every = HUB_ROTATE;
	l->max_message_size = 1 << 20;
	l->max_batch = 1000;
	snprintf(l->roles[0], sizeof(l->roles[0]), "child");
	l->nroles = 1;
	h->fd = sv[1];
	h->script = script;
	conn_init(&h->c, sv[1], NULL, 1 << 20, 0, "hub-1", "Test Hub");
	conn_set_keys(&h->c, key, TR_DIR_H2C, HUB_ROTATE);
	ck_assert_int_eq(pthread_create(&h->th, NULL, hub_main, h), 0);
}

/* Close the node's end, wait for the hub and check that its script held. */
static void
hub_finish(struct link *l, struct fakehub *h)
{
	link_close(l);
	ck_assert_int_eq(pthread_join(h->th, NULL), 0);
	ck_assert_msg(h->err[0] == '\0', "hub script: %s", h->err);
}

/* Progress calls counted. */
static int progress_calls;
static int64_t progress_last;

/* A progress callback. */
static void
count_progress(void *arg, const char *direction, int64_t done, int64_t total)
{
	(void)arg;
	(void)direction;
	(void)total;
	progress_calls++;
	progress_last = done;
}

START_TEST(test_csync_pull)
{
	struct trosyn_sync_result res;
	struct csync_opts o;
	struct fakehub h;
	struct link l;

	memset(&o, 0, sizeof(o));
	o.batch_size = 2;
	o.progress = count_progress;
	memset(&h, 0, sizeof(h));
	progress_calls = 0;
	hub_start(&l, &h, script_pull_ok);
	ck_assert_int_eq(csync_pull(&l, rep, NULL, 0, &o, &res), 0);
	hub_finish(&l, &h);
	ck_assert_int_eq(res.cursor, 11);
	ck_assert_int_eq(res.records, 3);
	ck_assert_int_eq(res.batches, 2);
	ck_assert_int_eq(res.reset, 0);
	ck_assert_int_eq(progress_calls, 2);
	ck_assert_int_eq(progress_last, 3);
	ck_assert_int_eq(cursor_of(REPLICA_SET_ALL, "child"), 11);
	ck_assert_int_eq(q_int("SELECT count(*) FROM records"), 3);
	ck_assert_int_eq(q_int("SELECT deleted FROM records WHERE id = 'c'"),
	    1);

	/* The next pull goes on from the stored cursor. */
	memset(&h, 0, sizeof(h));
	h.want_since = 11;
	h.n = 12;
	hub_start(&l, &h, script_pull_nothing);
	ck_assert_int_eq(csync_pull(&l, rep, NULL, 0, NULL, &res), 0);
	hub_finish(&l, &h);
	ck_assert_int_eq(res.cursor, 12);
	ck_assert_int_eq(res.batches, 0);
	ck_assert_int_eq(q_int("SELECT count(*) FROM records"), 3);

	/* Other roles: from 0 again, and nothing back means an empty set. */
	memset(&h, 0, sizeof(h));
	h.want_since = 0;
	h.n = 12;
	hub_start(&l, &h, script_pull_nothing);
	snprintf(l.roles[0], sizeof(l.roles[0]), "admin");
	ck_assert_int_eq(csync_pull(&l, rep, NULL, 0, NULL, &res), 0);
	hub_finish(&l, &h);
	ck_assert_int_eq(q_int("SELECT count(*) FROM records"), 0);
	ck_assert_int_eq(cursor_of(REPLICA_SET_ALL, "admin"), 12);
}
END_TEST

START_TEST(test_csync_pull_reset)
{
	const char *const set[] = { "docs", "docs" };
	struct trosyn_sync_result res;
	struct fakehub h;
	struct link l;

	pull_one("docs", "old", 1, 3, "{}");
	pull_one("notes", "keep", 1, 4, "{}");
	ck_assert_int_eq(replica_pull_complete(rep, "docs", "child", set, 1, 0,
	    4, 1), 0);
	memset(&h, 0, sizeof(h));
	hub_start(&l, &h, script_pull_reset);
	ck_assert_int_eq(csync_pull(&l, rep, set, 2, NULL, &res), 0);
	hub_finish(&l, &h);
	ck_assert_int_eq(res.reset, 1);
	ck_assert_int_eq(res.cursor, 30);
	ck_assert_int_eq(q_int("SELECT count(*) FROM records WHERE "
	    "collection = 'docs'"), 1);
	ck_assert_int_eq(q_int("SELECT count(*) FROM records WHERE id = 'new'"),
	    1);
	ck_assert_int_eq(q_int("SELECT count(*) FROM records WHERE "
	    "collection = 'notes'"), 1);
	ck_assert_int_eq(cursor_of("docs", "child"), 30);
}
END_TEST

START_TEST(test_csync_pull_interrupted)
{
	struct trosyn_sync_result res;
	struct fakehub h;
	struct link l;

	memset(&h, 0, sizeof(h));
	hub_start(&l, &h, script_pull_cut);
	ck_assert_int_eq(csync_pull(&l, rep, NULL, 0, NULL, &res), TR_ECLOSED);
	hub_finish(&l, &h);
	/* The acknowledged batch stays, with its cursor: the next pull resumes there. */
	ck_assert_int_eq(res.records, 1);
	ck_assert_int_eq(res.cursor, 4);
	ck_assert_int_eq(cursor_of(REPLICA_SET_ALL, "child"), 4);
	ck_assert_int_eq(q_int("SELECT count(*) FROM records"), 1);
	ck_assert_ptr_nonnull(strstr(l.err, "closed"));
}
END_TEST

START_TEST(test_csync_pull_bad)
{
	const char *const docs[] = { "docs" };
	struct trosyn_sync_result res;
	struct fakehub h;
	struct link l;

	memset(&h, 0, sizeof(h));
	h.n = _i;
	hub_start(&l, &h, script_pull_bad);
	ck_assert_int_eq(csync_pull(&l, rep, docs, 1, NULL, &res), TR_EPROTO);
	hub_finish(&l, &h);
	ck_assert(l.err[0] != '\0');
	ck_assert_int_eq(res.batches, 0);
	ck_assert_int_eq(q_int("SELECT count(*) FROM records"), 0);
	ck_assert_int_eq(q_int("SELECT count(*) FROM cursors"), 0);
}
END_TEST

START_TEST(test_csync_pull_errors)
{
	const char *const bad[] = { "No" };
	struct trosyn_sync_result res;
	struct fakehub h;
	struct link l;

	memset(&h, 0, sizeof(h));
	hub_start(&l, &h, script_pull_denied);
	ck_assert_int_eq(csync_pull(&l, rep, NULL, 0, NULL, &res), TR_EACCES);
	hub_finish(&l, &h);
	ck_assert_str_eq(l.err, "hub: ACCESS_DENIED: collection notes is not "
	    "readable? by this node");

	memset(&h, 0, sizeof(h));
	hub_start(&l, &h, script_pull_bad_complete);
	ck_assert_int_eq(csync_pull(&l, rep, NULL, 0, NULL, &res), TR_EPROTO);
	hub_finish(&l, &h);
	ck_assert_int_eq(q_int("SELECT count(*) FROM cursors"), 0);

	/* A bad name never reaches the hub. */
	memset(&h, 0, sizeof(h));
	hub_start(&l, &h, hub_expect_close);
	ck_assert_int_eq(csync_pull(&l, rep, bad, 1, NULL, &res), TR_EINVAL);
	hub_finish(&l, &h);
}
END_TEST

/* Read a push SYNC_DATA of BATCH with N records; its id goes to ID. */
static void
hub_push_data(struct fakehub *h, int64_t batch, size_t n, char *id)
{
	json_object *env = hub_recv(h, TR_MSG_SYNC_DATA), *recs, *r;
	const char *s;

	if (env == NULL)
		return;
	snprintf(id, TR_UUID_LEN + 1, "%s", msg_id(env));
	if (hub_int(env, "batch") != batch ||
	    msg_get_str(msg_payload(env), "sync_id", &s) != 0 ||
	    strcmp(s, h->sync_id) != 0 ||
	    msg_get_array(msg_payload(env), "records", &recs) != 0 ||
	    json_object_array_length(recs) != n) {
		hub_fail(h, "bad SYNC_DATA of batch %lld", (long long)batch);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		r = json_object_array_get_idx(recs, i);
		if (!json_object_object_get_ex(r, "base_version", NULL) ||
		    json_object_object_get_ex(r, "version", NULL) ||
		    json_object_object_get_ex(r, "seq", NULL) ||
		    !json_object_object_get_ex(r, "file", NULL))
			hub_fail(h, "pushed record %zu is not in push form", i);
	}
out:
	json_object_put(env);
}

/* 5 changes in batches of 2 with a window of 2: conflicts, rejections, applies. */
static void
script_push_ok(struct fakehub *h)
{
	char d0[TR_UUID_LEN + 1], d1[TR_UUID_LEN + 1], d2[TR_UUID_LEN + 1];
	char cid[TR_UUID_LEN + 1];
	json_object *req = hub_request(h, "push"), *cols, *env;
	const char *s;

	if (req == NULL)
		return;
	if (hub_int(req, "records") != 5 || hub_int(req, "window") != 2 ||
	    msg_get_array(msg_payload(req), "collections", &cols) != 0 ||
	    strcmp(json_object_to_json_string_ext(cols,
	    JSON_C_TO_STRING_PLAIN), "[\"docs\",\"notes\"]") != 0)
		hub_fail(h, "bad push request");
	json_object_put(req);
	/* Two batches come before any ACK; the third waits for one. */
	hub_push_data(h, 0, 2, d0);
	hub_push_data(h, 1, 2, d1);
	hub_send(h, TR_MSG_SYNC_ACK, d0, NULL, "{\"sync_id\":\"%s\",\"batch\":0,"
	    "\"results\":[{\"collection\":\"docs\",\"id\":\"a\",\"status\":"
	    "\"applied\",\"version\":1,\"seq\":20,\"reason\":null,"
	    "\"conflict_id\":null},{\"collection\":\"docs\",\"id\":\"b\","
	    "\"status\":\"conflict\",\"version\":9,\"seq\":19,\"reason\":"
	    "\"hub-wins\",\"conflict_id\":null}]}", h->sync_id);
	hub_push_data(h, 2, 1, d2);
	hub_send(h, TR_MSG_SYNC_ACK, d1, NULL, "{\"sync_id\":\"%s\",\"batch\":1,"
	    "\"results\":[{\"collection\":\"docs\",\"id\":\"c\",\"status\":"
	    "\"rejected\",\"version\":null,\"seq\":null,\"reason\":"
	    "\"missing_file\",\"conflict_id\":null},{\"collection\":\"docs\","
	    "\"id\":\"d\",\"status\":\"applied\",\"version\":4,\"seq\":21,"
	    "\"reason\":null,\"conflict_id\":null}]}", h->sync_id);
	hub_send(h, TR_MSG_SYNC_ACK, d2, NULL, "{\"sync_id\":\"%s\",\"batch\":2,"
	    "\"results\":[{\"collection\":\"notes\",\"id\":\"e\",\"status\":"
	    "\"conflict\",\"version\":2,\"seq\":7,\"reason\":\"keep-both\","
	    "\"conflict_id\":\"e~conflict~node-1~0\"}]}", h->sync_id);
	if ((env = hub_recv(h, TR_MSG_SYNC_COMPLETE)) == NULL)
		return;
	snprintf(cid, sizeof(cid), "%s", msg_id(env));
	if (hub_int(env, "batches") != 3 ||
	    msg_get_str(msg_payload(env), "sync_id", &s) != 0 ||
	    strcmp(s, h->sync_id) != 0)
		hub_fail(h, "bad node SYNC_COMPLETE");
	json_object_put(env);
	hub_send(h, TR_MSG_SYNC_COMPLETE, cid, NULL, "{\"sync_id\":\"%s\","
	    "\"last_seq\":21,\"applied\":2,\"conflicts\":2,\"rejected\":1}",
	    h->sync_id);
}

/* The push request is refused. */
static void
script_push_denied(struct fakehub *h)
{
	json_object *req = hub_request(h, "push");
	char id[TR_UUID_LEN + 1];

	json_object_put(req);
	hub_push_data(h, 0, 3, id);
	hub_send(h, TR_MSG_ERROR, h->reqid, NULL, "{\"error\":{\"code\":"
	    "\"ACCESS_DENIED\",\"message\":\"collection notes is not "
	    "writable\",\"details\":{}}}");
	hub_expect_close(h);
}

/* The first ACK arrives, then the hub goes away. */
static void
script_push_cut(struct fakehub *h)
{
	char d0[TR_UUID_LEN + 1], d1[TR_UUID_LEN + 1];
	json_object *req = hub_request(h, "push");

	json_object_put(req);
	hub_push_data(h, 0, 2, d0);
	hub_push_data(h, 1, 1, d1);
	hub_send(h, TR_MSG_SYNC_ACK, d0, NULL, "{\"sync_id\":\"%s\",\"batch\":0,"
	    "\"results\":[{\"collection\":\"docs\",\"id\":\"a\",\"status\":"
	    "\"applied\",\"version\":1,\"seq\":20},{\"collection\":\"docs\","
	    "\"id\":\"b\",\"status\":\"applied\",\"version\":1,\"seq\":21}]}",
	    h->sync_id);
}

/* An ACK whose results do not match the batch. */
static void
script_push_bad_ack(struct fakehub *h)
{
	char d0[TR_UUID_LEN + 1];
	json_object *req = hub_request(h, "push");

	json_object_put(req);
	hub_push_data(h, 0, 3, d0);
	hub_send(h, TR_MSG_SYNC_ACK, d0, NULL, "{\"sync_id\":\"%s\",\"batch\":0,"
	    "\"results\":[{\"collection\":\"docs\",\"id\":\"b\",\"status\":"
	    "\"applied\",\"version\":1,\"seq\":20},{\"collection\":\"docs\","
	    "\"id\":\"a\",\"status\":\"applied\",\"version\":1,\"seq\":21},"
	    "{\"collection\":\"docs\",\"id\":\"c\",\"status\":\"applied\","
	    "\"version\":1,\"seq\":22}]}", h->sync_id);
	hub_expect_close(h);
}

/* Only the small change travels; the big one never could. */
static void
script_push_small(struct fakehub *h)
{
	char d0[TR_UUID_LEN + 1], cid[TR_UUID_LEN + 1];
	json_object *req = hub_request(h, "push"), *env;

	if (hub_int(req, "records") != 1)
		hub_fail(h, "the big change was announced");
	json_object_put(req);
	hub_push_data(h, 0, 1, d0);
	hub_send(h, TR_MSG_SYNC_ACK, d0, NULL, "{\"sync_id\":\"%s\",\"batch\":0,"
	    "\"results\":[{\"collection\":\"docs\",\"id\":\"small\",\"status\":"
	    "\"applied\",\"version\":1,\"seq\":20}]}", h->sync_id);
	if ((env = hub_recv(h, TR_MSG_SYNC_COMPLETE)) == NULL)
		return;
	snprintf(cid, sizeof(cid), "%s", msg_id(env));
	json_object_put(env);
	hub_send(h, TR_MSG_SYNC_COMPLETE, cid, NULL, "{\"sync_id\":\"%s\","
	    "\"last_seq\":20,\"applied\":1,\"conflicts\":0,\"rejected\":0}",
	    h->sync_id);
}

/* Queue a, b, c in docs. */
static void
queue_abc(void)
{
	ck_assert_int_eq(replica_put(rep, "docs", "a", "{\"a\":1}", 1), 0);
	ck_assert_int_eq(replica_put(rep, "docs", "b", "{\"b\":1}", 2), 0);
	ck_assert_int_eq(replica_put(rep, "docs", "c", "{\"c\":1}", 3), 0);
}

START_TEST(test_csync_push)
{
	struct trosyn_sync_result res;
	struct csync_opts o;
	struct fakehub h;
	struct link l;
	json_object *log = NULL;

	queue_abc();
	pull_one("docs", "d", 3, 1, "{}");
	ck_assert_int_eq(replica_delete(rep, "docs", "d", 4), 0);
	ck_assert_int_eq(replica_put(rep, "notes", "e", "{}", 5), 0);
	memset(&o, 0, sizeof(o));
	o.batch_size = 2;
	o.window = 2;
	o.progress = count_progress;
	progress_calls = 0;
	memset(&h, 0, sizeof(h));
	hub_start(&l, &h, script_push_ok);
	ck_assert_int_eq(csync_push(&l, rep, &o, NULL, &res), 0);
	hub_finish(&l, &h);
	ck_assert_int_eq(res.records, 5);
	ck_assert_int_eq(res.batches, 3);
	ck_assert_int_eq(res.applied, 2);
	ck_assert_int_eq(res.conflicts, 2);
	ck_assert_int_eq(res.rejected, 1);
	ck_assert_int_eq(progress_calls, 3);
	ck_assert_int_eq(progress_last, 5);
	ck_assert_int_eq(npending(), 0);
	ck_assert_int_eq(q_int("SELECT seq FROM records WHERE id = 'a'"), 20);
	ck_assert_int_eq(q_int("SELECT version FROM records WHERE id = 'd'"),
	    4);
	ck_assert_int_eq(q_int("SELECT deleted FROM records WHERE id = 'd'"),
	    1);
	ck_assert_int_eq(q_int("SELECT count(*) FROM records WHERE id = 'b'"),
	    0);
	ck_assert_int_eq(replica_log_json(rep, &log), 0);
	ck_assert_uint_eq(json_object_array_length(log), 3);
	json_object_put(log);
}
END_TEST

START_TEST(test_csync_push_nothing)
{
	struct trosyn_sync_result res;
	struct fakehub h;
	struct link l;

	memset(&h, 0, sizeof(h));
	hub_start(&l, &h, hub_expect_close);
	ck_assert_int_eq(csync_push(&l, rep, NULL, NULL, &res), 0);
	hub_finish(&l, &h);
	ck_assert_int_eq(res.records, 0);
	ck_assert_int_eq(res.batches, 0);
}
END_TEST

START_TEST(test_csync_push_denied)
{
	struct trosyn_sync_result res;
	struct fakehub h;
	struct link l;

	queue_abc();
	memset(&h, 0, sizeof(h));
	hub_start(&l, &h, script_push_denied);
	ck_assert_int_eq(csync_push(&l, rep, NULL, NULL, &res), TR_EACCES);
	hub_finish(&l, &h);
	/* Nothing was applied: every change stays queued. */
	ck_assert_int_eq(npending(), 3);
	ck_assert_int_eq(res.applied + res.conflicts + res.rejected, 0);
	ck_assert_str_eq(l.err, "hub: ACCESS_DENIED: collection notes is not "
	    "writable");
}
END_TEST

START_TEST(test_csync_push_interrupted)
{
	struct trosyn_sync_result res;
	struct csync_opts o;
	struct fakehub h;
	struct link l;

	queue_abc();
	memset(&o, 0, sizeof(o));
	o.batch_size = 2;
	memset(&h, 0, sizeof(h));
	hub_start(&l, &h, script_push_cut);
	ck_assert_int_eq(csync_push(&l, rep, &o, NULL, &res), TR_ECLOSED);
	hub_finish(&l, &h);
	/* The acknowledged batch left the queue; the other did not. */
	ck_assert_int_eq(res.applied, 2);
	ck_assert_int_eq(npending(), 1);
	ck_assert_int_eq(q_int("SELECT count(*) FROM pending WHERE id = 'c'"),
	    1);
	ck_assert_int_eq(q_int("SELECT count(*) FROM records"), 2);
}
END_TEST

START_TEST(test_csync_push_bad_ack)
{
	struct trosyn_sync_result res;
	struct fakehub h;
	struct link l;

	queue_abc();
	memset(&h, 0, sizeof(h));
	hub_start(&l, &h, script_push_bad_ack);
	ck_assert_int_eq(csync_push(&l, rep, NULL, NULL, &res), TR_EPROTO);
	hub_finish(&l, &h);
	ck_assert_int_eq(npending(), 3);
	ck_assert_int_eq(q_int("SELECT count(*) FROM records"), 0);
}
END_TEST

START_TEST(test_csync_push_too_large)
{
	struct trosyn_sync_result res;
	struct fakehub h;
	struct link l;
	char *big;
	size_t len = 6000;

	big = malloc(len + 16);
	ck_assert_ptr_nonnull(big);
	strcpy(big, "{\"s\":\"");
	memset(big + 6, 'x', len);
	strcpy(big + 6 + len, "\"}");
	ck_assert_int_eq(replica_put(rep, "docs", "big", big, 1), 0);
	ck_assert_int_eq(replica_put(rep, "docs", "small", "{}", 2), 0);
	free(big);
	memset(&h, 0, sizeof(h));
	hub_start(&l, &h, script_push_small);
	l.max_message_size = 4096;
	ck_assert_int_eq(csync_push(&l, rep, NULL, NULL, &res), 0);
	hub_finish(&l, &h);
	ck_assert_int_eq(res.records, 1);
	ck_assert_int_eq(res.applied, 1);
	ck_assert_int_eq(res.rejected, 1);
	ck_assert_int_eq(npending(), 0);
	ck_assert_int_eq(q_int("SELECT count(*) FROM sync_log WHERE "
	    "id = 'big' AND reason = 'too_large'"), 1);
}
END_TEST

START_TEST(test_link_errors)
{
	static const struct {
		const char *code;
		int err;
	} map[] = {
		{ "ACCESS_DENIED", TR_EACCES },
		{ "INVALID_TOKEN", TR_ETOKEN },
		{ "CLOCK_SKEW", TR_ESKEW },
		{ "BUSY", TR_EBUSY },
		{ "INVALID_REQUEST", TR_EINVAL },
		{ "INTERNAL_ERROR", TR_EIO },
		{ "UNSUPPORTED_VERSION", TR_EVERSION },
		{ "TOO_LARGE", TR_ETOOBIG },
		{ "NOT_FOUND", TR_ENOTFOUND },
		{ "AUTH_REQUIRED", TR_EACCES },
		{ "SOMETHING_NEW", TR_EPROTO },
	};
	struct link l;
	json_object *env, *d;

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		ck_assert_int_eq(link_code_err(map[i].code), map[i].err);
	ck_assert_int_eq(link_code_err(NULL), TR_EPROTO);

	memset(&l, 0, sizeof(l));
	d = json_object_new_object();
	json_object_object_add(d, "retry_after_ms", json_object_new_int(1500));
	env = msg_new(TR_MSG_ERROR, "hub-1", NULL, NULL,
	    msg_error_payload("BUSY", "hub busy", d));
	ck_assert_int_eq(link_error(&l, env), TR_EBUSY);
	ck_assert_int_eq(l.retry_after_ms, 1500);
	ck_assert_str_eq(l.err, "hub: BUSY: hub busy (retry after 1500 ms)");
	json_object_put(env);

	d = json_object_new_object();
	json_object_object_add(d, "hub_time",
	    json_object_new_string("2026-11-26T10:00:00.000Z"));
	env = msg_new(TR_MSG_ERROR, "hub-1", NULL, NULL,
	    msg_error_payload("CLOCK_SKEW", "clock skew too large", d));
	ck_assert_int_eq(link_error(&l, env), TR_ESKEW);
	ck_assert_int_eq(l.retry_after_ms, 0);
	ck_assert_str_eq(l.err, "hub: CLOCK_SKEW: clock skew too large (hub "
	    "time 2026-11-26T10:00:00.000Z)");
	json_object_put(env);

	env = msg_new(TR_MSG_ERROR, "hub-1", NULL, NULL, NULL);
	ck_assert_int_eq(link_error(&l, env), TR_EPROTO);
	json_object_put(env);

	/* Sending or receiving without a login is refused. */
	memset(&l, 0, sizeof(l));
	l.fd = -1;
	ck_assert_int_eq(link_send(&l, TR_MSG_SYNC_ACK, NULL,
	    json_object_new_object(), NULL), TR_EINVAL);
	ck_assert_int_eq(link_recv(&l, &env), TR_EINVAL);
	ck_assert_ptr_null(env);
	link_close(&l);
	link_close(NULL);
}
END_TEST

/* Write the credentials TEXT to DIR/creds.json and load them. */
static int
creds_try(const char *text, struct link_creds *cr, char *err, size_t len)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/creds.json", tmpdir);
	tu_write_file(path, text, strlen(text));
	return link_creds_load(path, cr, err, len);
}

#define CREDS_KEY "1111111111111111111111111111111111111111111111111111111111111111"
#define CREDS_PIN "2222222222222222222222222222222222222222222222222222222222222222"

START_TEST(test_link_creds)
{
	static const char *const bad[] = {
		"[]",
		"{\"site_id\":\"s\",\"node_id\":\"n\",\"method\":\"psk\","
		    "\"site_key\":\"" CREDS_KEY "\",\"node_key\":\"" CREDS_KEY "\"}",
		"{\"site_id\":\"s\",\"node_id\":\"n n\",\"method\":\"psk\","
		    "\"site_key\":\"" CREDS_KEY "\",\"hub_cert_sha256\":\""
		    CREDS_PIN "\",\"node_key\":\"" CREDS_KEY "\"}",
		"{\"site_id\":\"s\",\"node_id\":\"n\",\"method\":\"psk\","
		    "\"site_key\":\"" CREDS_KEY "\",\"hub_cert_sha256\":\""
		    CREDS_PIN "\"}",
		"{\"site_id\":\"s\",\"node_id\":\"n\",\"method\":\"psk\","
		    "\"site_key\":\"ABCD\",\"hub_cert_sha256\":\""
		    CREDS_PIN "\",\"node_key\":\"" CREDS_KEY "\"}",
		"{\"site_id\":\"s\",\"node_id\":\"n\",\"method\":\"token\","
		    "\"site_key\":\"" CREDS_KEY "\",\"hub_cert_sha256\":\""
		    CREDS_PIN "\",\"node_key\":\"" CREDS_KEY "\"}",
		"{\"site_id\":\"s\",\"node_id\":\"n\",\"method\":\"certificate\","
		    "\"site_key\":\"" CREDS_KEY "\",\"hub_cert_sha256\":\""
		    CREDS_PIN "\",\"cert_pem\":\"c\",\"key_pem\":\"k\"}",
	};
	struct link_creds cr;
	char err[512], path[4096];

	ck_assert_int_eq(creds_try("{\"site_id\":\"site-1\",\"node_id\":"
	    "\"node-1\",\"node_name\":\"Front desk\",\"method\":\"psk\","
	    "\"roles\":[\"child\"],\"site_key\":\"" CREDS_KEY "\","
	    "\"hub_cert_sha256\":\"" CREDS_PIN "\",\"node_key\":\"" CREDS_KEY
	    "\"}", &cr, err, sizeof(err)), 0);
	ck_assert_str_eq(cr.node_id, "node-1");
	ck_assert_str_eq(cr.node_name, "Front desk");
	ck_assert_int_eq(cr.method, LINK_PSK);
	ck_assert_int_eq(cr.node_key[0], 0x11);
	ck_assert_str_eq(cr.hub_cert_sha256, CREDS_PIN);
	link_creds_free(&cr);
	ck_assert_int_eq(creds_try("{\"site_id\":\"s\",\"node_id\":\"n\","
	    "\"method\":\"certificate\",\"site_key\":\"" CREDS_KEY "\","
	    "\"hub_cert_sha256\":\"" CREDS_PIN "\",\"cert_pem\":\"C\","
	    "\"key_pem\":\"K\",\"ca_pem\":\"A\"}", &cr, err, sizeof(err)), 0);
	ck_assert_int_eq(cr.method, LINK_CERT);
	ck_assert_str_eq(cr.ca_pem, "A");
	link_creds_free(&cr);
	link_creds_free(NULL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		ck_assert_msg(creds_try(bad[i], &cr, err, sizeof(err)) ==
		    TR_EINVAL, "accepted: %s", bad[i]);
		ck_assert(err[0] != '\0');
		ck_assert_ptr_null(cr.cert_pem);
	}
	snprintf(path, sizeof(path), "%s/none.json", tmpdir);
	ck_assert_int_eq(link_creds_load(path, &cr, err, sizeof(err)),
	    TR_ENOTFOUND);
	ck_assert_ptr_nonnull(strstr(err, "none.json"));
	ck_assert_int_eq(link_creds_load(tmpdir, &cr, err, sizeof(err)),
	    TR_EINVAL);
}
END_TEST

START_TEST(test_link_refused)
{
	struct link_target t = { "127.0.0.1", 1, 2 };
	struct link_creds cr;
	struct link l;

	memset(&cr, 0, sizeof(cr));
	snprintf(cr.node_id, sizeof(cr.node_id), NODE);
	cr.method = LINK_PSK;
	/* Port 1 on loopback refuses at once: one attempt, no retries. */
	ck_assert_int_eq(link_open_once(&l, &cr, &t), TR_EIO);
	ck_assert_ptr_nonnull(strstr(l.err, "connect to 127.0.0.1 port 1"));
	ck_assert_int_eq(l.fd, -1);
	t.host = "no-such-host.invalid";
	ck_assert_int_eq(link_open(&l, &cr, &t), TR_ENOTFOUND);
	ck_assert_ptr_nonnull(strstr(l.err, "cannot resolve"));
	t.host = NULL;
	ck_assert_int_eq(link_open_once(&l, &cr, &t), TR_EINVAL);
}
END_TEST

/* Build the suite. */
static Suite *
replica_suite(void)
{
	Suite *s = suite_create("replica");
	TCase *tq = tcase_create("queue");
	TCase *tp = tcase_create("pull");
	TCase *tu = tcase_create("push");
	TCase *tw = tcase_create("wire");
	TCase *te = tcase_create("errors");
	TCase *ts = tcase_create("csync");
	TCase *tl = tcase_create("link");

	tcase_add_checked_fixture(tq, setup, teardown);
	tcase_add_test(tq, test_open);
	tcase_add_test(tq, test_put_new);
	tcase_add_test(tq, test_put_twice_keeps_base);
	tcase_add_test(tq, test_put_invalid);
	tcase_add_test(tq, test_delete);
	tcase_add_test(tq, test_put_file);
	tcase_add_test(tq, test_rec_file_name_nul);
	tcase_add_test(tq, test_list_merge);
	tcase_add_test(tq, test_meta);
	suite_add_tcase(s, tq);

	tcase_add_checked_fixture(tp, setup, teardown);
	tcase_add_test(tp, test_pull_batch);
	tcase_add_test(tp, test_pull_batch_one_transaction);
	tcase_add_test(tp, test_reset);
	tcase_add_test(tp, test_pull_complete);
	tcase_add_test(tp, test_cursors_per_set_and_roles);
	tcase_add_test(tp, test_cursor_report);
	tcase_add_test(tp, test_set_key);
	suite_add_tcase(s, tp);

	tcase_add_checked_fixture(tu, setup, teardown);
	tcase_set_timeout(tu, 30);
	tcase_add_test(tu, test_pending_load);
	tcase_add_test(tu, test_push_ack_applied);
	tcase_add_test(tu, test_push_ack_conflict_rejected);
	tcase_add_test(tu, test_push_ack_changed_meanwhile);
	tcase_add_test(tu, test_push_ack_one_transaction);
	tcase_add_test(tu, test_log_trim);
	suite_add_tcase(s, tu);

	tcase_add_checked_fixture(tw, setup, teardown);
	tcase_add_test(tw, test_rec_from_json);
	tcase_add_test(tw, test_change_json);
	suite_add_tcase(s, tw);

	tcase_add_checked_fixture(te, setup, teardown);
	tcase_set_timeout(te, 30);
	tcase_add_test(te, test_database_errors);
	tcase_add_test(te, test_busy_writer);
	suite_add_tcase(s, te);

	tcase_add_checked_fixture(ts, setup, teardown);
	tcase_set_timeout(ts, 30);
	tcase_add_test(ts, test_csync_pull);
	tcase_add_test(ts, test_csync_pull_reset);
	tcase_add_test(ts, test_csync_pull_interrupted);
	tcase_add_loop_test(ts, test_csync_pull_bad, 0, 8);
	tcase_add_test(ts, test_csync_pull_errors);
	tcase_add_test(ts, test_csync_push);
	tcase_add_test(ts, test_csync_push_nothing);
	tcase_add_test(ts, test_csync_push_denied);
	tcase_add_test(ts, test_csync_push_interrupted);
	tcase_add_test(ts, test_csync_push_bad_ack);
	tcase_add_test(ts, test_csync_push_too_large);
	suite_add_tcase(s, ts);

	tcase_add_checked_fixture(tl, setup, teardown);
	tcase_set_timeout(tl, 30);
	tcase_add_test(tl, test_link_errors);
	tcase_add_test(tl, test_link_creds);
	tcase_add_test(tl, test_link_refused);
	suite_add_tcase(s, tl);
	return s;
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	return tu_run(replica_suite());
}
