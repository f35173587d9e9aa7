/* Unit tests of the record journal: versions, seq, conflict policies, retries, tombstones, scans, wire forms. */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "err.h"
#include "hubdb.h"
#include "jcs.h"
#include "journal.h"
#include "log.h"
#include "msg.h"
#include "sync.h"
#include "testutil.h"

#define T0	1767225600000LL		/* 2026-01-01T00:00:00.000Z */
#define SHA_A	"00112233445566778899aabbccddeeff" \
		"00112233445566778899aabbccddeeff"

static char *tmpdir;
static sqlite3 *db;

/* A fresh hub.db per test. */
static void
setup(void)
{
	log_init("check_journal", LOG_LEVEL_ERROR, 0);
	tmpdir = tu_tmpdir();
	ck_assert_int_eq(hubdb_open(tmpdir, 1, &db), 0);
}

/* Close and remove it. */
static void
teardown(void)
{
	db_close(db);
	db = NULL;
	tu_rmtree(tmpdir);
	free(tmpdir);
	tmpdir = NULL;
}

/* A change of COLL/ID on BASE by ORIGIN at MS with DATA (NULL: a delete). */
static struct jchange
change(const char *coll, const char *id, int64_t base, const char *origin,
    int64_t ms, const char *data)
{
	struct jchange c;

	memset(&c, 0, sizeof(c));
	c.collection = coll;
	c.id = id;
	c.base_version = base;
	c.origin = origin;
	c.modified_at = ms;
	c.deleted = data == NULL;
	c.data = data;
	return c;
}

/* Apply C under POLICY in its own transaction; fails the test on error. */
static struct jresult
apply_blob(enum conf_policy policy, const struct jchange *c,
    journal_blob_fn fn, void *arg)
{
	struct jresult r;

	ck_assert_int_eq(db_begin(db), 0);
	ck_assert_int_eq(journal_apply(db, policy, c, fn, arg, &r), 0);
	ck_assert_int_eq(db_commit(db), 0);
	return r;
}

/* Apply C under POLICY without a blob store. */
static struct jresult
apply(enum conf_policy policy, const struct jchange *c)
{
	return apply_blob(policy, c, NULL, NULL);
}

/* The journal head. */
static int64_t
head(void)
{
	int64_t h = -1;

	ck_assert_int_eq(journal_head(db, &h), 0);
	return h;
}

/* The journal floor. */
static int64_t
floor_of(void)
{
	int64_t f = -1;

	ck_assert_int_eq(journal_floor(db, &f), 0);
	return f;
}

/* Assert R is applied with VERSION and SEQ. */
static void
assert_applied(const struct jresult *r, int64_t version, int64_t seq)
{
	ck_assert_int_eq(r->status, J_APPLIED);
	ck_assert_int_eq(r->version, version);
	ck_assert_int_eq(r->seq, seq);
	ck_assert_ptr_null(r->reason);
	ck_assert_str_eq(r->conflict_id, "");
}

/* Assert R is rejected with REASON. */
static void
assert_rejected(const struct jresult *r, const char *reason)
{
	ck_assert_int_eq(r->status, J_REJECTED);
	ck_assert_int_eq(r->version, 0);
	ck_assert_int_eq(r->seq, 0);
	ck_assert_str_eq(r->reason, reason);
	ck_assert_str_eq(r->conflict_id, "");
}

/* The record COLL/ID; fails when absent. */
static struct jrec
get(const char *coll, const char *id)
{
	struct jrec r;

	ck_assert_int_eq(journal_get(db, coll, id, &r), 0);
	return r;
}

/* Non-zero when COLL/ID is in the journal (tombstones included). */
static int
exists(const char *coll, const char *id)
{
	struct jrec r;
	int rc = journal_get(db, coll, id, &r);

	ck_assert(rc == 0 || rc == TR_ENOTFOUND);
	journal_rec_free(&r);
	return rc == 0;
}

/* --- versions and seq --- */

START_TEST(test_empty)
{
	struct jrec r;
	int64_t live = -1, dead = -1;

	ck_assert_int_eq(head(), 0);
	ck_assert_int_eq(floor_of(), 0);
	ck_assert_int_eq(journal_count(db, &live, &dead), 0);
	ck_assert_int_eq(live, 0);
	ck_assert_int_eq(dead, 0);
	ck_assert_int_eq(journal_get(db, "docs", "x", &r), TR_ENOTFOUND);
	ck_assert_ptr_null(r.id);
	ck_assert_int_eq(journal_count(db, NULL, NULL), 0);
}
END_TEST

START_TEST(test_schema_version)
{
	sqlite3_stmt *st;

	/* hub.db is at schema 3 and opening it again migrates nothing. */
	ck_assert_int_eq(db_prepare(db, "PRAGMA user_version", &st), 0);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	ck_assert_int_eq(sqlite3_column_int(st, 0), 3);
	sqlite3_finalize(st);
	db_close(db);
	ck_assert_int_eq(hubdb_open(tmpdir, 0, &db), 0);
	ck_assert_int_eq(head(), 0);
}
END_TEST

START_TEST(test_new_and_update)
{
	struct jchange c = change("docs", "a", 0, "node-1", T0, "{\"n\":1}");
	struct jresult r;
	struct jrec rec;

	r = apply(CONF_HUB_WINS, &c);
	assert_applied(&r, 1, 1);
	rec = get("docs", "a");
	ck_assert_str_eq(rec.collection, "docs");
	ck_assert_str_eq(rec.id, "a");
	ck_assert_int_eq(rec.version, 1);
	ck_assert_int_eq(rec.deleted, 0);
	ck_assert_int_eq(rec.modified_at, T0);
	ck_assert_str_eq(rec.origin, "node-1");
	ck_assert_str_eq(rec.data, "{\"n\":1}");
	ck_assert_int_eq(rec.has_file, 0);
	ck_assert_ptr_null(rec.file_name);
	ck_assert_int_eq(rec.seq, 1);
	journal_rec_free(&rec);
	journal_rec_free(&rec);		/* twice is harmless */

	/* Every applied change: version + 1, the next seq. */
	c = change("docs", "a", 1, "node-2", T0 + 5, "{\"n\":2}");
	r = apply(CONF_HUB_WINS, &c);
	assert_applied(&r, 2, 2);
	rec = get("docs", "a");
	ck_assert_str_eq(rec.origin, "node-2");
	ck_assert_str_eq(rec.data, "{\"n\":2}");
	ck_assert_int_eq(rec.modified_at, T0 + 5);
	journal_rec_free(&rec);

	/* A delete is a change too and leaves a tombstone. */
	c = change("docs", "a", 2, "node-1", T0 + 9, NULL);
	r = apply(CONF_HUB_WINS, &c);
	assert_applied(&r, 3, 3);
	rec = get("docs", "a");
	ck_assert_int_eq(rec.deleted, 1);
	ck_assert_ptr_null(rec.data);
	ck_assert_int_eq(rec.version, 3);
	journal_rec_free(&rec);

	/* A write on the tombstone revives the record. */
	c = change("docs", "a", 3, "node-1", T0 + 10, "{}");
	r = apply(CONF_HUB_WINS, &c);
	assert_applied(&r, 4, 4);
	ck_assert_int_eq(head(), 4);
}
END_TEST

START_TEST(test_seq_across_collections)
{
	static const char *const colls[] = { "a", "b", "c.d", "a" };
	char id[16];
	int64_t last = 0;

	/* One seq for the whole hub, strictly increasing. */
	for (int i = 0; i < 40; i++) {
		struct jchange c;
		struct jresult r;

		snprintf(id, sizeof(id), "r%d", i % 7);
		c = change(colls[i % 4], id, 0, "n", T0, "{}");
		if (exists(c.collection, id)) {
			struct jrec cur = get(c.collection, id);

			c.base_version = cur.version;
			c.data = i % 2 ? "{\"odd\":true}" : "{\"odd\":false}";
			journal_rec_free(&cur);
		}
		r = apply(CONF_HUB_WINS, &c);
		ck_assert_int_eq(r.status, J_APPLIED);
		if (r.seq != last) {
			ck_assert_int_gt(r.seq, last);
			last = r.seq;
		}
	}
	ck_assert_int_eq(head(), last);
	ck_assert_int_gt(last, 20);
}
END_TEST

START_TEST(test_rollback_gives_back_seq)
{
	struct jchange c = change("docs", "a", 0, "n", T0, "{}");
	struct jresult r;

	ck_assert_int_eq(db_begin(db), 0);
	ck_assert_int_eq(journal_apply(db, CONF_HUB_WINS, &c, NULL, NULL, &r),
	    0);
	assert_applied(&r, 1, 1);
	ck_assert_int_eq(db_rollback(db), 0);
	ck_assert_int_eq(head(), 0);
	ck_assert(!exists("docs", "a"));
	r = apply(CONF_HUB_WINS, &c);
	assert_applied(&r, 1, 1);
}
END_TEST

/* --- conflict policies --- */

/* Make docs/a at version 2 by node-1 at T0 + 100; returns its seq. */
static int64_t
two_versions(void)
{
	struct jchange c = change("docs", "a", 0, "node-1", T0, "{\"v\":1}");
	struct jresult r;

	apply(CONF_HUB_WINS, &c);
	c = change("docs", "a", 1, "node-1", T0 + 100, "{\"v\":2}");
	r = apply(CONF_HUB_WINS, &c);
	assert_applied(&r, 2, 2);
	return r.seq;
}

START_TEST(test_hub_wins)
{
	int64_t seq = two_versions();
	struct jchange c = change("docs", "a", 1, "node-2", T0 + 999,
	    "{\"v\":\"late\"}");
	struct jresult r = apply(CONF_HUB_WINS, &c);
	struct jrec rec;

	ck_assert_int_eq(r.status, J_CONFLICT);
	ck_assert_int_eq(r.version, 2);
	ck_assert_int_eq(r.seq, seq);
	ck_assert_str_eq(r.reason, "hub-wins");
	ck_assert_str_eq(r.conflict_id, "");
	rec = get("docs", "a");
	ck_assert_str_eq(rec.data, "{\"v\":2}");
	ck_assert_str_eq(rec.origin, "node-1");
	journal_rec_free(&rec);
	ck_assert_int_eq(head(), seq);

	/* A base from the future is no better. */
	c.base_version = 7;
	r = apply(CONF_HUB_WINS, &c);
	ck_assert_int_eq(r.status, J_CONFLICT);
	ck_assert_int_eq(head(), seq);
}
END_TEST

START_TEST(test_last_writer_wins)
{
	struct jchange c;
	struct jresult r;
	struct jrec rec;

	two_versions();			/* node-1 at T0 + 100, version 2 */
	/* Older: conflict, nothing written. */
	c = change("docs", "a", 1, "node-2", T0 + 99, "{\"v\":\"old\"}");
	r = apply(CONF_LAST_WRITER_WINS, &c);
	ck_assert_int_eq(r.status, J_CONFLICT);
	ck_assert_str_eq(r.reason, "last-writer-wins");
	ck_assert_int_eq(r.version, 2);
	ck_assert_int_eq(r.seq, 2);
	ck_assert_int_eq(head(), 2);
	/* Same instant: the origin decides bytewise ("node-0" < "node-1"). */
	c = change("docs", "a", 1, "node-0", T0 + 100, "{\"v\":\"tie\"}");
	r = apply(CONF_LAST_WRITER_WINS, &c);
	ck_assert_int_eq(r.status, J_CONFLICT);
	c.origin = "node-2";
	r = apply(CONF_LAST_WRITER_WINS, &c);
	assert_applied(&r, 3, 3);
	rec = get("docs", "a");
	ck_assert_str_eq(rec.origin, "node-2");
	ck_assert_str_eq(rec.data, "{\"v\":\"tie\"}");
	journal_rec_free(&rec);
	/* Newer wins even on a stale base; a stale delete too. */
	c = change("docs", "a", 1, "node-0", T0 + 101, NULL);
	r = apply(CONF_LAST_WRITER_WINS, &c);
	assert_applied(&r, 4, 4);
	rec = get("docs", "a");
	ck_assert_int_eq(rec.deleted, 1);
	journal_rec_free(&rec);
	/* A matching base applies whatever the clock says. */
	c = change("docs", "a", 4, "node-0", T0, "{}");
	r = apply(CONF_LAST_WRITER_WINS, &c);
	assert_applied(&r, 5, 5);
	/* Bytewise means unsigned: "\xc3..." sorts after ASCII. */
	c = change("docs", "a", 1, "node-\xc3\xa9", T0, "{\"u\":1}");
	r = apply(CONF_LAST_WRITER_WINS, &c);
	assert_applied(&r, 6, 6);
}
END_TEST

START_TEST(test_keep_both)
{
	struct jchange c;
	struct jresult r;
	struct jrec rec;
	int64_t h;

	two_versions();
	c = change("docs", "a", 1, "node-2", T0 + 50, "{\"v\":\"mine\"}");
	r = apply(CONF_KEEP_BOTH, &c);
	ck_assert_int_eq(r.status, J_CONFLICT);
	ck_assert_str_eq(r.reason, "keep-both");
	ck_assert_int_eq(r.version, 2);
	ck_assert_int_eq(r.seq, 2);
	ck_assert_str_eq(r.conflict_id, "a~conflict~node-2~1");
	/* The original stays; the copy is a new record by the pusher. */
	rec = get("docs", "a");
	ck_assert_str_eq(rec.data, "{\"v\":2}");
	journal_rec_free(&rec);
	rec = get("docs", "a~conflict~node-2~1");
	ck_assert_int_eq(rec.version, 1);
	ck_assert_int_eq(rec.seq, 3);
	ck_assert_str_eq(rec.origin, "node-2");
	ck_assert_str_eq(rec.data, "{\"v\":\"mine\"}");
	ck_assert_int_eq(rec.modified_at, T0 + 50);
	journal_rec_free(&rec);

	/* The same conflict retried: the copy is not written again. */
	r = apply(CONF_KEEP_BOTH, &c);
	ck_assert_int_eq(r.status, J_CONFLICT);
	ck_assert_str_eq(r.conflict_id, "a~conflict~node-2~1");
	ck_assert_int_eq(head(), 3);

	/* Other content on the same base replaces the copy, version + 1. */
	c.data = "{\"v\":\"mine again\"}";
	r = apply(CONF_KEEP_BOTH, &c);
	ck_assert_str_eq(r.conflict_id, "a~conflict~node-2~1");
	rec = get("docs", "a~conflict~node-2~1");
	ck_assert_int_eq(rec.version, 2);
	ck_assert_int_eq(rec.seq, 4);
	ck_assert_str_eq(rec.data, "{\"v\":\"mine again\"}");
	journal_rec_free(&rec);

	/* Another base or origin is another copy; a losing delete is a tombstone copy. */
	c = change("docs", "a", 0, "node-3", T0, NULL);
	r = apply(CONF_KEEP_BOTH, &c);
	ck_assert_str_eq(r.conflict_id, "a~conflict~node-3~0");
	rec = get("docs", "a~conflict~node-3~0");
	ck_assert_int_eq(rec.deleted, 1);
	ck_assert_int_eq(rec.version, 1);
	journal_rec_free(&rec);
	h = head();
	ck_assert_int_eq(h, 5);

	/* A matching base is simply applied. */
	c = change("docs", "a", 2, "node-2", T0, "{\"v\":3}");
	r = apply(CONF_KEEP_BOTH, &c);
	assert_applied(&r, 3, 6);
}
END_TEST

START_TEST(test_keep_both_copy_id_longest)
{
	char id[TR_RECORD_ID_MAX + 1];
	struct jchange c;
	struct jresult r;
	struct jrec rec;
	size_t n = TR_RECORD_ID_MAX - strlen("~conflict~node-2~1");

	/* A copy id of exactly 256 bytes is fine. */
	memset(id, 'x', n);
	id[n] = '\0';
	c = change("docs", id, 0, "node-1", T0, "{}");
	apply(CONF_KEEP_BOTH, &c);
	c = change("docs", id, 1, "node-1", T0, "{\"v\":2}");
	apply(CONF_KEEP_BOTH, &c);
	c = change("docs", id, 1, "node-2", T0, "{\"v\":\"mine\"}");
	r = apply(CONF_KEEP_BOTH, &c);
	ck_assert_int_eq(r.status, J_CONFLICT);
	ck_assert_uint_eq(strlen(r.conflict_id), TR_RECORD_ID_MAX);
	rec = get("docs", r.conflict_id);
	ck_assert_str_eq(rec.data, "{\"v\":\"mine\"}");
	journal_rec_free(&rec);
	ck_assert_int_eq(head(), 3);
}
END_TEST

START_TEST(test_copy_id)
{
	char out[TR_RECORD_ID_MAX + 1], id[TR_RECORD_ID_MAX + 1];
	size_t n = TR_RECORD_ID_MAX - strlen("~conflict~n~12");

	ck_assert_int_eq(journal_copy_id("r\xc3\xa9", "node.1", 42, out,
	    sizeof(out)), 0);
	ck_assert_str_eq(out, "r\xc3\xa9~conflict~node.1~42");
	memset(id, 'i', n);
	id[n] = '\0';
	ck_assert_int_eq(journal_copy_id(id, "n", 12, out, sizeof(out)), 0);
	ck_assert_uint_eq(strlen(out), TR_RECORD_ID_MAX);
	ck_assert_int_eq(journal_copy_id(id, "n", 123, out, sizeof(out)),
	    TR_ETOOBIG);
	ck_assert_str_eq(out, "");
	/* A small buffer is refused, not overrun. */
	ck_assert_int_eq(journal_copy_id("a", "n", 1, out, 8), TR_ETOOBIG);
}
END_TEST

/* --- the copy id over 256 bytes --- */

START_TEST(test_keep_both_copy_rejected)
{
	char id[TR_RECORD_ID_MAX + 1];
	struct jchange c;
	struct jresult r;
	struct jrec rec;
	size_t n = TR_RECORD_ID_MAX - strlen("~conflict~node-2~1") + 1;

	memset(id, 'z', n);
	id[n] = '\0';
	c = change("docs", id, 0, "node-1", T0, "{}");
	apply(CONF_KEEP_BOTH, &c);
	c = change("docs", id, 1, "node-1", T0, "{\"v\":2}");
	apply(CONF_KEEP_BOTH, &c);		/* version 2 */
	c = change("docs", id, 1, "node-2", T0, "{\"v\":\"mine\"}");
	r = apply(CONF_KEEP_BOTH, &c);
	assert_rejected(&r, JOURNAL_INVALID_RECORD);
	ck_assert_int_eq(head(), 2);
	rec = get("docs", id);
	ck_assert_str_eq(rec.data, "{\"v\":2}");
	journal_rec_free(&rec);
	/* Under the other policies the long id is no problem. */
	r = apply(CONF_HUB_WINS, &c);
	ck_assert_int_eq(r.status, J_CONFLICT);
	c.modified_at = T0 - 1;
	r = apply(CONF_LAST_WRITER_WINS, &c);
	ck_assert_int_eq(r.status, J_CONFLICT);
	ck_assert_int_eq(head(), 2);
}
END_TEST

static int blob_calls;
static char blob_seen[65];

/* A blob store holding what ARG (an int *) says. */
static int
blob_fn(void *arg, const char *sha256)
{
	blob_calls++;
	snprintf(blob_seen, sizeof(blob_seen), "%s", sha256);
	return *(int *)arg;
}

/* --- retries --- */

START_TEST(test_idempotent_retry)
{
	static const enum conf_policy policies[] = { CONF_HUB_WINS,
	    CONF_LAST_WRITER_WINS, CONF_KEEP_BOTH };

	for (size_t i = 0; i < 3; i++) {
		struct jresult r, again;
		struct jchange c;
		char coll[16];
		int64_t h;

		snprintf(coll, sizeof(coll), "c%zu", i);
		c = change(coll, "a", 0, "node-1", T0, "{\"v\":1}");
		r = apply(policies[i], &c);
		c = change(coll, "a", 1, "node-1", T0 + 1, "{\"v\":2}");
		r = apply(policies[i], &c);
		ck_assert_int_eq(r.status, J_APPLIED);
		/*
		 * The node crashed before it saw the ACK and pushes the same
		 * change again on the same base: applied, same version and
		 * seq, nothing new (no keep-both copy either).
		 */
		h = head();
		again = apply(policies[i], &c);

		assert_applied(&again, r.version, r.seq);
		ck_assert_int_eq(head(), h);
		ck_assert(!exists(coll, "a~conflict~node-1~1"));
		/* The same content from someone else is a real change. */
		c.origin = "node-9";
		c.base_version = r.version;
		again = apply(policies[i], &c);
		assert_applied(&again, r.version + 1, h + 1);
	}
}
END_TEST

START_TEST(test_idempotent_retry_delete_and_file)
{
	struct jchange c = change("docs", "a", 0, "n", T0, "{}");
	struct jresult r;
	int have = 1;

	apply(CONF_HUB_WINS, &c);
	c = change("docs", "a", 1, "n", T0, NULL);
	r = apply(CONF_HUB_WINS, &c);
	assert_applied(&r, 2, 2);
	r = apply(CONF_HUB_WINS, &c);
	assert_applied(&r, 2, 2);

	/* A retried keep-both conflict on a delete: no second copy. */
	c = change("docs", "a", 1, "m", T0, NULL);
	r = apply(CONF_KEEP_BOTH, &c);
	ck_assert_str_eq(r.conflict_id, "a~conflict~m~1");
	ck_assert_int_eq(head(), 3);
	r = apply(CONF_KEEP_BOTH, &c);
	ck_assert_int_eq(r.status, J_CONFLICT);
	ck_assert_int_eq(head(), 3);

	/* With a file: the file is part of the content. */
	c = change("docs", "f", 0, "n", T0, "{}");
	c.has_file = 1;
	c.file_sha256 = SHA_A;
	c.file_size = 10;
	c.file_name = "a.txt";
	r = apply_blob(CONF_HUB_WINS, &c, blob_fn, &have);
	assert_applied(&r, 1, 4);
	r = apply_blob(CONF_HUB_WINS, &c, blob_fn, &have);
	assert_applied(&r, 1, 4);
	c.file_size = 11;
	r = apply_blob(CONF_HUB_WINS, &c, blob_fn, &have);
	ck_assert_int_eq(r.status, J_CONFLICT);
}
END_TEST

/* --- files --- */

START_TEST(test_missing_file)
{
	struct jchange c = change("docs", "f", 0, "n", T0, "{\"k\":1}");
	struct jresult r;
	struct jrec rec;
	int have = 0;

	c.has_file = 1;
	c.file_sha256 = SHA_A;
	c.file_size = 1234;
	c.file_name = "r\xc3\xa9sum\xc3\xa9.pdf";
	/* No blob store at all: every record with a file is rejected. */
	r = apply(CONF_HUB_WINS, &c);
	assert_rejected(&r, JOURNAL_MISSING_FILE);
	/* A store without the blob. */
	r = apply_blob(CONF_HUB_WINS, &c, blob_fn, &have);
	assert_rejected(&r, JOURNAL_MISSING_FILE);
	ck_assert_int_eq(blob_calls, 1);
	ck_assert_str_eq(blob_seen, SHA_A);
	ck_assert_int_eq(head(), 0);
	/* With the blob: stored with its file. */
	have = 1;
	r = apply_blob(CONF_HUB_WINS, &c, blob_fn, &have);
	assert_applied(&r, 1, 1);
	rec = get("docs", "f");
	ck_assert_int_eq(rec.has_file, 1);
	ck_assert_str_eq(rec.file_sha256, SHA_A);
	ck_assert_int_eq(rec.file_size, 1234);
	ck_assert_str_eq(rec.file_name, "r\xc3\xa9sum\xc3\xa9.pdf");
	journal_rec_free(&rec);
	/* Retry: same file, same origin. */
	r = apply_blob(CONF_HUB_WINS, &c, blob_fn, &have);
	assert_applied(&r, 1, 1);
	/* Another name is another content. */
	c.file_name = "other.pdf";
	c.base_version = 1;
	r = apply_blob(CONF_HUB_WINS, &c, blob_fn, &have);
	assert_applied(&r, 2, 2);
	/* Dropping the file is a change too, and needs no blob. */
	c.has_file = 0;
	c.base_version = 2;
	have = 0;
	r = apply_blob(CONF_HUB_WINS, &c, blob_fn, &have);
	assert_applied(&r, 3, 3);
	rec = get("docs", "f");
	ck_assert_int_eq(rec.has_file, 0);
	ck_assert_ptr_null(rec.file_name);
	journal_rec_free(&rec);
}
END_TEST

/* --- records the hub does not hold --- */

START_TEST(test_absent_record)
{
	struct jchange c;
	struct jresult r;
	struct jrec rec;

	/* base 0 on an absent record: created (a delete as a tombstone). */
	c = change("docs", "gone", 0, "n", T0, NULL);
	r = apply(CONF_HUB_WINS, &c);
	assert_applied(&r, 1, 1);
	rec = get("docs", "gone");
	ck_assert_int_eq(rec.deleted, 1);
	journal_rec_free(&rec);

	/* base > 0 on an absent record is a conflict the policy decides. */
	c = change("docs", "x", 4, "n", T0, "{}");
	r = apply(CONF_HUB_WINS, &c);
	ck_assert_int_eq(r.status, J_CONFLICT);
	ck_assert_int_eq(r.version, 0);
	ck_assert_int_eq(r.seq, 0);
	ck_assert(!exists("docs", "x"));
	r = apply(CONF_KEEP_BOTH, &c);
	ck_assert_int_eq(r.status, J_CONFLICT);
	ck_assert_str_eq(r.conflict_id, "x~conflict~n~4");
	ck_assert_int_eq(r.version, 0);
	ck_assert(!exists("docs", "x"));
	ck_assert(exists("docs", "x~conflict~n~4"));
	r = apply(CONF_LAST_WRITER_WINS, &c);
	assert_applied(&r, 1, 3);
}
END_TEST

/* --- tombstones and purge --- */

START_TEST(test_purge_and_floor)
{
	struct jchange c;
	struct jresult r;
	int64_t live, dead, now;
	int purged = -1;

	for (int i = 0; i < 6; i++) {
		char id[8];

		snprintf(id, sizeof(id), "r%d", i);
		c = change("docs", id, 0, "n", T0, "{}");
		apply(CONF_HUB_WINS, &c);
	}
	/* Delete docs/r1 (seq 7), docs/r4 (seq 8) and other/r4 (seq 9). */
	c = change("docs", "r1", 1, "n", T0, NULL);
	apply(CONF_HUB_WINS, &c);
	c = change("docs", "r4", 1, "n", T0, NULL);
	r = apply(CONF_HUB_WINS, &c);
	assert_applied(&r, 2, 8);
	c = change("other", "r4", 0, "n", T0, NULL);
	r = apply(CONF_HUB_WINS, &c);
	assert_applied(&r, 1, 9);
	ck_assert_int_eq(journal_count(db, &live, &dead), 0);
	ck_assert_int_eq(live, 4);
	ck_assert_int_eq(dead, 3);

	/* Nothing is old enough yet (the hub's clock counts, not modified_at). */
	now = msg_now_ms();
	ck_assert_int_eq(db_begin(db), 0);
	ck_assert_int_eq(journal_purge(db, now, 3600, &purged), 0);
	ck_assert_int_eq(db_commit(db), 0);
	ck_assert_int_eq(purged, 0);
	ck_assert_int_eq(floor_of(), 0);

	/* An hour later with a retention of 10 minutes: all three go. */
	ck_assert_int_eq(db_begin(db), 0);
	ck_assert_int_eq(journal_purge(db, now + 3600 * 1000, 600, &purged),
	    0);
	ck_assert_int_eq(db_commit(db), 0);
	ck_assert_int_eq(purged, 3);
	ck_assert_int_eq(floor_of(), 9);
	ck_assert_int_eq(head(), 9);
	ck_assert(!exists("docs", "r1"));
	ck_assert(exists("docs", "r0"));
	ck_assert_int_eq(journal_count(db, &live, &dead), 0);
	ck_assert_int_eq(live, 4);
	ck_assert_int_eq(dead, 0);

	/* The floor never goes down; seq goes on above the head. */
	c = change("docs", "r2", 1, "n", T0, NULL);
	r = apply(CONF_HUB_WINS, &c);
	assert_applied(&r, 2, 10);
	ck_assert_int_eq(db_begin(db), 0);
	ck_assert_int_eq(journal_purge(db, now + 7200 * 1000, 600, NULL), 0);
	ck_assert_int_eq(db_commit(db), 0);
	ck_assert_int_eq(floor_of(), 10);
	ck_assert_int_eq(db_begin(db), 0);
	ck_assert_int_eq(journal_purge(db, now + 9000 * 1000, 600, &purged),
	    0);
	ck_assert_int_eq(db_commit(db), 0);
	ck_assert_int_eq(purged, 0);
	ck_assert_int_eq(floor_of(), 10);
	/* A purged record is new again: version 1. */
	c = change("docs", "r1", 0, "n", T0, "{}");
	r = apply(CONF_HUB_WINS, &c);
	assert_applied(&r, 1, 11);
	ck_assert_int_eq(journal_purge(db, now, -1, NULL), TR_EINVAL);
}
END_TEST

/* --- scans --- */

/* What a scan saw. */
struct seen {
	int n;
	int stop_after;			/* 0: never */
	int fail_after;
	int64_t seq[64];
	char ids[64][16];
	char colls[64][16];
};

/* journal_scan callback recording into ARG. */
static int
seen_fn(void *arg, const struct jrec *rec)
{
	struct seen *s = arg;

	ck_assert_int_lt(s->n, 64);
	s->seq[s->n] = rec->seq;
	snprintf(s->ids[s->n], sizeof(s->ids[0]), "%.15s", rec->id);
	snprintf(s->colls[s->n], sizeof(s->colls[0]), "%.15s",
	    rec->collection);
	s->n++;
	if (s->fail_after > 0 && s->n == s->fail_after)
		return TR_EIO;
	if (s->stop_after > 0 && s->n == s->stop_after)
		return 1;
	return 0;
}

/* Ten changes over three collections; b/x is updated last. */
static void
scan_fixture(void)
{
	static const char *const colls[] = { "a", "b", "c" };
	struct jchange c;
	char id[8];

	for (int i = 0; i < 9; i++) {
		snprintf(id, sizeof(id), "%c", 'p' + i);
		c = change(colls[i % 3], i == 4 ? "x" : id, 0, "n", T0, "{}");
		apply(CONF_HUB_WINS, &c);
	}
	/* b/x (seq 5) changes again: it is now seq 10, seq 5 is gone. */
	c = change("b", "x", 1, "n", T0, NULL);
	apply(CONF_HUB_WINS, &c);
}

START_TEST(test_scan)
{
	const char *ab[] = { "a", "b" }, *none[] = { "zz" };
	struct seen s;
	int count = -1;

	scan_fixture();
	/* Everything, in seq order, each record once. */
	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(journal_scan(db, NULL, 0, 0, 100, 0, seen_fn, &s,
	    &count), 0);
	ck_assert_int_eq(count, 9);
	ck_assert_int_eq(s.n, 9);
	for (int i = 1; i < s.n; i++)
		ck_assert_int_gt(s.seq[i], s.seq[i - 1]);
	ck_assert_int_eq(s.seq[4], 6);
	ck_assert_int_eq(s.seq[8], 10);
	ck_assert_str_eq(s.ids[8], "x");
	/* (after, upto]: both ends. */
	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(journal_scan(db, NULL, 0, 3, 7, 0, seen_fn, &s,
	    &count), 0);
	ck_assert_int_eq(count, 3);
	ck_assert_int_eq(s.seq[0], 4);
	ck_assert_int_eq(s.seq[2], 7);
	/* Collections filter. */
	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(journal_scan(db, ab, 2, 0, 100, 0, seen_fn, &s,
	    &count), 0);
	ck_assert_int_eq(count, 6);
	for (int i = 0; i < s.n; i++)
		ck_assert(strcmp(s.colls[i], "c") != 0);
	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(journal_scan(db, none, 1, 0, 100, 0, seen_fn, &s,
	    &count), 0);
	ck_assert_int_eq(count, 0);
	/* Limit. */
	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(journal_scan(db, ab, 2, 1, 100, 2, seen_fn, &s,
	    &count), 0);
	ck_assert_int_eq(count, 2);
	ck_assert_int_eq(s.seq[0], 2);
	ck_assert_int_eq(s.seq[1], 4);
	/* FN stops early with 1, aborts with a negative code. */
	memset(&s, 0, sizeof(s));
	s.stop_after = 3;
	ck_assert_int_eq(journal_scan(db, NULL, 0, 0, 100, 0, seen_fn, &s,
	    &count), 0);
	ck_assert_int_eq(count, 3);
	memset(&s, 0, sizeof(s));
	s.fail_after = 2;
	ck_assert_int_eq(journal_scan(db, NULL, 0, 0, 100, 0, seen_fn, &s,
	    NULL), TR_EIO);
	ck_assert_int_eq(s.n, 2);
	/* An empty range. */
	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(journal_scan(db, NULL, 0, 10, 10, 0, seen_fn, &s,
	    &count), 0);
	ck_assert_int_eq(count, 0);
}
END_TEST

START_TEST(test_list)
{
	static const char *const ids[] = { "b", "a", "\xc3\xa9t\xc3\xa9",
	    "Z", "a b" };
	struct jchange c;
	struct seen s;

	for (size_t i = 0; i < 5; i++) {
		c = change("docs", ids[i], 0, "n", T0, "{}");
		apply(CONF_HUB_WINS, &c);
	}
	c = change("docs", "b", 1, "n", T0, NULL);
	apply(CONF_HUB_WINS, &c);
	c = change("else", "a", 0, "n", T0, "{}");
	apply(CONF_HUB_WINS, &c);
	/* Live records in bytewise id order. */
	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(journal_list(db, "docs", 0, seen_fn, &s), 0);
	ck_assert_int_eq(s.n, 4);
	ck_assert_str_eq(s.ids[0], "Z");
	ck_assert_str_eq(s.ids[1], "a");
	ck_assert_str_eq(s.ids[2], "a b");
	ck_assert_str_eq(s.ids[3], "\xc3\xa9t\xc3\xa9");
	/* With tombstones. */
	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(journal_list(db, "docs", 1, seen_fn, &s), 0);
	ck_assert_int_eq(s.n, 5);
	ck_assert_str_eq(s.ids[3], "b");
	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(journal_list(db, "nothing", 1, seen_fn, &s), 0);
	ck_assert_int_eq(s.n, 0);
}
END_TEST

/* --- wire forms --- */

START_TEST(test_rec_json)
{
	struct jchange c = change("docs", "r\xc3\xa9", 0, "node-1",
	    T0 + 1234, "{\"a\":[1,2.5,\"x\"],\"b\":{\"c\":null}}");
	struct jrec rec;
	json_object *o;
	char *text = NULL;
	int have = 1;

	c.has_file = 1;
	c.file_sha256 = SHA_A;
	c.file_size = 77;
	c.file_name = "a.txt";
	apply_blob(CONF_HUB_WINS, &c, blob_fn, &have);
	rec = get("docs", "r\xc3\xa9");
	o = journal_rec_json(&rec);
	ck_assert_ptr_nonnull(o);
	ck_assert_int_eq(jcs_serialize(o, &text, NULL), 0);
	ck_assert_str_eq(text, "{\"collection\":\"docs\","
	    "\"data\":{\"a\":[1,2.5,\"x\"],\"b\":{\"c\":null}},"
	    "\"deleted\":false,"
	    "\"file\":{\"name\":\"a.txt\",\"sha256\":\"" SHA_A "\","
	    "\"size\":77},"
	    "\"id\":\"r\xc3\xa9\",\"modified_at\":\"2026-01-01T00:00:01.234Z\","
	    "\"origin\":\"node-1\",\"seq\":1,\"version\":1}");
	free(text);
	json_object_put(o);
	journal_rec_free(&rec);

	/* A tombstone: data and file null. */
	c = change("docs", "r\xc3\xa9", 1, "node-2", T0, NULL);
	apply(CONF_HUB_WINS, &c);
	rec = get("docs", "r\xc3\xa9");
	o = journal_rec_json(&rec);
	ck_assert_int_eq(jcs_serialize(o, &text, NULL), 0);
	ck_assert_str_eq(text, "{\"collection\":\"docs\",\"data\":null,"
	    "\"deleted\":true,\"file\":null,\"id\":\"r\xc3\xa9\","
	    "\"modified_at\":\"2026-01-01T00:00:00.000Z\","
	    "\"origin\":\"node-2\",\"seq\":2,\"version\":2}");
	free(text);
	json_object_put(o);
	journal_rec_free(&rec);
}
END_TEST

/* A pushed record with every member valid, as JSON text. */
#define GOOD "{\"collection\":\"docs\",\"id\":\"a\",\"base_version\":3," \
	"\"deleted\":false,\"modified_at\":\"2026-01-01T00:00:00.5+00:00\"," \
	"\"data\":{\"z\":1,\"a\":[true,null]},\"file\":null,\"extra\":1}"

/* Parse TEXT; fails the test when it is not JSON. */
static json_object *
parse(const char *text)
{
	json_object *v = NULL;

	ck_assert_msg(jcs_parse(text, strlen(text), &v) == 0, "%s", text);
	return v;
}

START_TEST(test_change_from_json)
{
	json_object *rec = parse(GOOD), *file;
	struct jchange c;
	const char *why = "x";
	char *data = NULL;

	ck_assert_int_eq(journal_change_from_json(rec, "node-1", &c, &data,
	    &why), 0);
	ck_assert_ptr_null(why);
	ck_assert_str_eq(c.collection, "docs");
	ck_assert_str_eq(c.id, "a");
	ck_assert_int_eq(c.base_version, 3);
	ck_assert_int_eq(c.deleted, 0);
	ck_assert_int_eq(c.modified_at, T0 + 500);
	ck_assert_str_eq(c.origin, "node-1");
	/* Canonical data: members sorted, no whitespace. */
	ck_assert_str_eq(c.data, "{\"a\":[true,null],\"z\":1}");
	ck_assert_ptr_eq(c.data, data);
	ck_assert_int_eq(c.has_file, 0);
	free(data);

	/* With a file. */
	file = parse("{\"sha256\":\"" SHA_A "\",\"size\":0,"
	    "\"name\":\"\xc3\xbc ber.txt\"}");
	json_object_object_add(rec, "file", file);
	ck_assert_int_eq(journal_change_from_json(rec, "node-1", &c, &data,
	    &why), 0);
	ck_assert_int_eq(c.has_file, 1);
	ck_assert_str_eq(c.file_sha256, SHA_A);
	ck_assert_int_eq(c.file_size, 0);
	ck_assert_str_eq(c.file_name, "\xc3\xbc ber.txt");
	free(data);

	/* A delete. */
	json_object_put(rec);
	rec = parse("{\"collection\":\"d.x_1-2\",\"id\":\"a\","
	    "\"base_version\":0,\"deleted\":true,"
	    "\"modified_at\":\"2026-01-01T00:00:00Z\",\"data\":null,"
	    "\"file\":null}");
	ck_assert_int_eq(journal_change_from_json(rec, "n", &c, &data, &why),
	    0);
	ck_assert_int_eq(c.deleted, 1);
	ck_assert_ptr_null(c.data);
	ck_assert_ptr_null(data);
	json_object_put(rec);
}
END_TEST

/* One malformed pushed record: member KEY set to VALUE (JSON; NULL: removed). */
struct bad_case {
	const char *key;
	const char *value;
	const char *why;		/* a substring of the reason */
};

START_TEST(test_change_from_json_negatives)
{
	char long_id[300], long_name[300], id257[310];
	static struct bad_case cases[] = {
		{ "collection", NULL, "collection" },
		{ "collection", "\"Docs\"", "collection" },
		{ "collection", "\"\"", "collection" },
		{ "collection", "7", "collection" },
		{ "collection", "null", "collection" },
		{ "collection", "\"a/b\"", "collection" },
		{ "collection", "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		    "aaaaaaaaaaaaaaaaaaa\"", "collection" },
		{ "id", NULL, "id must" },
		{ "id", "\"\"", "id must" },
		{ "id", "\"a\\u0000b\"", "id must" },
		{ "id", "1", "id must" },
		{ "id", "ID257", "id must" },
		{ "version", "1", "base_version, not version" },
		{ "seq", "1", "base_version, not version" },
		{ "origin", "\"me\"", "base_version, not version" },
		{ "version", "null", "base_version, not version" },
		{ "base_version", NULL, "base_version must" },
		{ "base_version", "-1", "base_version must" },
		{ "base_version", "1.5", "base_version must" },
		{ "base_version", "\"1\"", "base_version must" },
		{ "deleted", NULL, "deleted must" },
		{ "deleted", "0", "deleted must" },
		{ "deleted", "\"false\"", "deleted must" },
		{ "modified_at", NULL, "modified_at" },
		{ "modified_at", "\"yesterday\"", "modified_at" },
		{ "modified_at", "\"2026-01-01T00:00:00+01:00\"",
		    "modified_at" },
		{ "modified_at", "\"2026-02-30T00:00:00Z\"", "modified_at" },
		{ "modified_at", "1767225600000", "modified_at" },
		{ "data", NULL, "data must be an object" },
		{ "data", "null", "data must be an object" },
		{ "data", "[]", "data must be an object" },
		{ "data", "\"{}\"", "data must be an object" },
		{ "file", NULL, "file must be null or an object" },
		{ "file", "\"a.txt\"", "file must be null or an object" },
		{ "file", "[]", "file must be null or an object" },
		{ "file", "{\"size\":1,\"name\":\"a\"}", "file.sha256" },
		{ "file", "{\"sha256\":\"" "00112233445566778899AABBCCDDEEFF"
		    "00112233445566778899aabbccddeeff" "\",\"size\":1,"
		    "\"name\":\"a\"}", "file.sha256" },
		{ "file", "{\"sha256\":\"0011\",\"size\":1,\"name\":\"a\"}",
		    "file.sha256" },
		{ "file", "{\"sha256\":\"" SHA_A "\",\"name\":\"a\"}",
		    "file.size" },
		{ "file", "{\"sha256\":\"" SHA_A "\",\"size\":-1,"
		    "\"name\":\"a\"}", "file.size" },
		{ "file", "{\"sha256\":\"" SHA_A "\",\"size\":\"1\","
		    "\"name\":\"a\"}", "file.size" },
		{ "file", "{\"sha256\":\"" SHA_A "\",\"size\":1}",
		    "file.name" },
		{ "file", "{\"sha256\":\"" SHA_A "\",\"size\":1,"
		    "\"name\":\"\"}", "file.name" },
		{ "file", "{\"sha256\":\"" SHA_A "\",\"size\":1,"
		    "\"name\":\"a/b\"}", "file.name" },
		{ "file", "{\"sha256\":\"" SHA_A "\",\"size\":1,"
		    "\"name\":\"..\"}", "file.name" },
		{ "file", "{\"sha256\":\"" SHA_A "\",\"size\":1,"
		    "\"name\":\"a..b\"}", "file.name" },
		{ "file", "{\"sha256\":\"" SHA_A "\",\"size\":1,"
		    "\"name\":\".\"}", "file.name" },
		{ "file", "{\"sha256\":\"" SHA_A "\",\"size\":1,"
		    "\"name\":\"a\\nb\"}", "file.name" },
		{ "file", "{\"sha256\":\"" SHA_A "\",\"size\":1,"
		    "\"name\":\"a\\u0000b\"}", "file.name" },
		{ "file", "{\"sha256\":\"" SHA_A "\",\"size\":1,"
		    "\"name\":\"a\\u007fb\"}", "file.name" },
		{ "file", "{\"sha256\":\"" SHA_A "\",\"size\":1,"
		    "\"name\":\"a\\u0085b\"}", "file.name" },
		{ "file", "{\"sha256\":\"" SHA_A "\",\"size\":1,"
		    "\"name\":7}", "file.name" },
		{ "file", "LONGNAME", "file.name" },
	};
	char buf[1024];

	memset(long_id, 'i', 257);
	long_id[257] = '\0';
	snprintf(id257, sizeof(id257), "\"%s\"", long_id);
	memset(long_name, 'n', 256);
	long_name[256] = '\0';
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_object *rec = parse(GOOD);
		const char *v = cases[i].value, *why = NULL;
		struct jchange c;
		char *data = (char *)1;

		if (v != NULL && strcmp(v, "ID257") == 0)
			v = id257;
		if (v != NULL && strcmp(v, "LONGNAME") == 0) {
			snprintf(buf, sizeof(buf), "{\"sha256\":\"" SHA_A "\","
			    "\"size\":1,\"name\":\"%s\"}", long_name);
			v = buf;
		}
		if (v == NULL)
			json_object_object_del(rec, cases[i].key);
		else
			json_object_object_add(rec, cases[i].key, parse(v));
		ck_assert_msg(journal_change_from_json(rec, "n", &c, &data,
		    &why) == TR_EINVAL, "case %zu (%s) accepted", i,
		    cases[i].key);
		ck_assert_msg(why != NULL && strstr(why, cases[i].why) != NULL,
		    "case %zu (%s): reason '%s'", i, cases[i].key,
		    why != NULL ? why : "(null)");
		ck_assert_ptr_null(data);
		json_object_put(rec);
	}

	/* Not an object. */
	{
		json_object *arr = parse("[1]");
		const char *why = NULL;
		struct jchange c;
		char *data;

		ck_assert_int_eq(journal_change_from_json(arr, "n", &c, &data,
		    &why), TR_EINVAL);
		ck_assert_str_eq(why, "record must be an object");
		json_object_put(arr);
	}
	/* Delete with data, delete with a file. */
	{
		json_object *rec = parse(GOOD);
		const char *why = NULL;
		struct jchange c;
		char *data;

		json_object_object_add(rec, "deleted",
		    json_object_new_boolean(1));
		ck_assert_int_eq(journal_change_from_json(rec, "n", &c, &data,
		    &why), TR_EINVAL);
		ck_assert_str_eq(why, "data must be null when deleted");
		json_object_object_add(rec, "data", NULL);
		json_object_object_add(rec, "file", parse("{\"sha256\":\""
		    SHA_A "\",\"size\":1,\"name\":\"a\"}"));
		ck_assert_int_eq(journal_change_from_json(rec, "n", &c, &data,
		    &why), TR_EINVAL);
		ck_assert_str_eq(why, "a deleted record names no file");
		json_object_put(rec);
	}
	/* The longest id and file name are fine. */
	{
		json_object *rec = parse(GOOD);
		const char *why = NULL;
		struct jchange c;
		char *data = NULL;

		long_id[256] = '\0';
		long_name[255] = '\0';
		json_object_object_add(rec, "id",
		    json_object_new_string(long_id));
		snprintf(buf, sizeof(buf), "{\"sha256\":\"" SHA_A "\","
		    "\"size\":9007199254740991,\"name\":\"%s\"}", long_name);
		json_object_object_add(rec, "file", parse(buf));
		ck_assert_int_eq(journal_change_from_json(rec, "n", &c, &data,
		    &why), 0);
		ck_assert_int_eq(c.file_size, 9007199254740991LL);
		free(data);
		json_object_put(rec);
	}
}
END_TEST

/* --- the SYNC_DATA size bound (sync.h) --- */

START_TEST(test_sync_size_bound)
{
	size_t overhead = sync_data_overhead(), len = 0, big_len, sum = 0;
	char *big, *text = NULL, uuid[TR_UUID_LEN + 1];
	json_object *env, *p, *recs, *o;
	struct jchange c;
	struct jrec rec;
	int have = 1;

	ck_assert_uint_gt(overhead, 200);
	ck_assert_uint_lt(overhead, 1200);
	/* A real SYNC_DATA of two records stays within the bound. */
	big_len = 3000;
	big = malloc(big_len + 16);
	snprintf(big, 16, "{\"s\":\"");
	memset(big + 6, 'q', big_len);
	strcpy(big + 6 + big_len, "\"}");
	c = change("docs", "a~b", 0, "node-1", T0, big);
	ck_assert(sync_change_fits(&c, overhead, overhead + 3300));
	ck_assert(!sync_change_fits(&c, overhead, overhead + 3000));
	apply_blob(CONF_HUB_WINS, &c, blob_fn, &have);
	c.id = "second";
	apply_blob(CONF_HUB_WINS, &c, blob_fn, &have);
	recs = json_object_new_array();
	for (int i = 0; i < 2; i++) {
		rec = get("docs", i == 0 ? "a~b" : "second");
		o = journal_rec_json(&rec);
		ck_assert_int_eq(jcs_serialize(o, &text, &len), 0);
		sum += len + (i > 0 ? 1 : 0);
		free(text);
		json_object_array_add(recs, o);
		journal_rec_free(&rec);
	}
	p = json_object_new_object();
	msg_new_uuid(uuid);
	json_object_object_add(p, "sync_id", json_object_new_string(uuid));
	json_object_object_add(p, "batch", json_object_new_int64(12));
	json_object_object_add(p, "records", recs);
	json_object_object_add(p, "last_seq", json_object_new_int64(2));
	json_object_object_add(p, "reset", json_object_new_boolean(1));
	env = msg_new(TR_MSG_SYNC_DATA, "hub-1", "Hub \xc3\xa9", uuid, p);
	ck_assert_int_eq(msg_sign(env, (const uint8_t *)"k", 1), 0);
	ck_assert_int_eq(msg_encode(env, &text, &len), 0);
	ck_assert_uint_le(len, overhead + sum);
	free(text);
	json_object_put(env);
	free(big);
}
END_TEST

/* Build the suite. */
static Suite *
journal_suite(void)
{
	Suite *s = suite_create("journal");
	TCase *tc = tcase_create("core");
	TCase *tp = tcase_create("policies");
	TCase *tw = tcase_create("wire");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_schema_version);
	tcase_add_test(tc, test_new_and_update);
	tcase_add_test(tc, test_seq_across_collections);
	tcase_add_test(tc, test_rollback_gives_back_seq);
	tcase_add_test(tc, test_missing_file);
	tcase_add_test(tc, test_absent_record);
	tcase_add_test(tc, test_purge_and_floor);
	tcase_add_test(tc, test_scan);
	tcase_add_test(tc, test_list);
	suite_add_tcase(s, tc);

	tcase_add_checked_fixture(tp, setup, teardown);
	tcase_set_timeout(tp, 30);
	tcase_add_test(tp, test_hub_wins);
	tcase_add_test(tp, test_last_writer_wins);
	tcase_add_test(tp, test_keep_both);
	tcase_add_test(tp, test_keep_both_copy_id_longest);
	tcase_add_test(tp, test_keep_both_copy_rejected);
	tcase_add_test(tp, test_copy_id);
	tcase_add_test(tp, test_idempotent_retry);
	tcase_add_test(tp, test_idempotent_retry_delete_and_file);
	suite_add_tcase(s, tp);

	tcase_add_checked_fixture(tw, setup, teardown);
	tcase_set_timeout(tw, 30);
	tcase_add_test(tw, test_rec_json);
	tcase_add_test(tw, test_change_from_json);
	tcase_add_test(tw, test_change_from_json_negatives);
	tcase_add_test(tw, test_sync_size_bound);
	suite_add_tcase(s, tw);
	return s;
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	return tu_run(journal_suite());
}
