/* The hub's record journal: current state of every record, a global seq, tombstones and their retention. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "err.h"
#include "jcs.h"
#include "journal.h"
#include "log.h"
#include "msg.h"

/*
 * Schema step 1 -> 2.  seq is UNIQUE, which gives it its index; the
 * partial index on changed_ms serves the purge.  changed_ms is the hub's
 * clock when the change was applied: retention counts from it, never from
 * the writer's modified_at.  journal_state holds the head (highest seq
 * ever assigned) and the floor (highest seq of a purged tombstone).
 */
const char *const journal_schema =
	"CREATE TABLE records ("
	" collection TEXT NOT NULL,"
	" id TEXT NOT NULL,"
	" version INTEGER NOT NULL CHECK (version >= 1),"
	" deleted INTEGER NOT NULL CHECK (deleted IN (0, 1)),"
	" modified_at INTEGER NOT NULL,"
	" origin TEXT NOT NULL,"
	" data TEXT,"
	" file_sha256 TEXT,"
	" file_size INTEGER,"
	" file_name TEXT,"
	" seq INTEGER NOT NULL UNIQUE,"
	" changed_ms INTEGER NOT NULL,"
	" PRIMARY KEY (collection, id),"
	" CHECK ((deleted = 1) = (data IS NULL)));"
	"CREATE INDEX records_collection_seq ON records (collection, seq);"
	"CREATE INDEX records_tombstones ON records (changed_ms) "
	" WHERE deleted = 1;"
	"CREATE TABLE journal_state ("
	" id INTEGER PRIMARY KEY CHECK (id = 1),"
	" head INTEGER NOT NULL,"
	" floor INTEGER NOT NULL);"
	"INSERT INTO journal_state (id, head, floor) VALUES (1, 0, 0);";

#define JOURNAL_COLS "collection, id, version, deleted, modified_at, " \
	"origin, data, file_sha256, file_size, file_name, seq"

#define JOURNAL_COPY_TAG "~conflict~"

/* Read one integer column of journal_state. */
static int
journal_state_get(sqlite3 *db, const char *sql, int64_t *out)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = db_prepare(db, sql, &st)) != 0)
		return rc;
	if (sqlite3_step(st) == SQLITE_ROW) {
		*out = sqlite3_column_int64(st, 0);
		rc = 0;
	} else {
		log_err("database: reading the journal state: %s",
		    sqlite3_errmsg(db));
		rc = TR_EDB;
	}
	sqlite3_finalize(st);
	return rc;
}

/* Highest seq ever assigned. */
int
journal_head(sqlite3 *db, int64_t *head)
{
	return journal_state_get(db, "SELECT head FROM journal_state "
	    "WHERE id = 1", head);
}

/* Highest seq of a purged tombstone. */
int
journal_floor(sqlite3 *db, int64_t *floor)
{
	return journal_state_get(db, "SELECT floor FROM journal_state "
	    "WHERE id = 1", floor);
}

/* A malloc'd copy of text column COL (NULL stays NULL); TR_ENOMEM. */
static int
journal_col_dup(sqlite3_stmt *st, int col, char **out)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	int n = sqlite3_column_bytes(st, col);

	*out = NULL;
	if (t == NULL)
		return 0;
	if ((*out = malloc((size_t)n + 1)) == NULL)
		return TR_ENOMEM;
	memcpy(*out, t, (size_t)n);
	(*out)[n] = '\0';
	return 0;
}

/* Fill REC from the current row of ST (columns of JOURNAL_COLS). */
static int
journal_row(sqlite3_stmt *st, struct jrec *rec)
{
	const unsigned char *t;

	memset(rec, 0, sizeof(*rec));
	snprintf(rec->collection, sizeof(rec->collection), "%s",
	    (const char *)sqlite3_column_text(st, 0));
	rec->version = sqlite3_column_int64(st, 2);
	rec->deleted = sqlite3_column_int(st, 3);
	rec->modified_at = sqlite3_column_int64(st, 4);
	snprintf(rec->origin, sizeof(rec->origin), "%s",
	    (const char *)sqlite3_column_text(st, 5));
	rec->seq = sqlite3_column_int64(st, 10);
	if ((t = sqlite3_column_text(st, 7)) != NULL) {
		rec->has_file = 1;
		snprintf(rec->file_sha256, sizeof(rec->file_sha256), "%s",
		    (const char *)t);
		rec->file_size = sqlite3_column_int64(st, 8);
	}
	if (journal_col_dup(st, 1, &rec->id) != 0 ||
	    journal_col_dup(st, 6, &rec->data) != 0 ||
	    journal_col_dup(st, 9, &rec->file_name) != 0) {
		journal_rec_free(rec);
		return TR_ENOMEM;
	}
	return 0;
}

/* Free what REC owns. */
void
journal_rec_free(struct jrec *rec)
{
	if (rec == NULL)
		return;
	free(rec->id);
	free(rec->data);
	free(rec->file_name);
	rec->id = rec->data = rec->file_name = NULL;
}

/* The current state of (COLLECTION, ID). */
int
journal_get(sqlite3 *db, const char *collection, const char *id,
    struct jrec *out)
{
	sqlite3_stmt *st = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = db_prepare(db, "SELECT " JOURNAL_COLS " FROM records "
	    "WHERE collection = ? AND id = ?", &st)) != 0)
		return rc;
	sqlite3_bind_text(st, 1, collection, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		rc = journal_row(st, out);
		break;
	case SQLITE_DONE:
		rc = TR_ENOTFOUND;
		break;
	default:
		log_err("database: reading a record: %s", sqlite3_errmsg(db));
		rc = TR_EDB;
	}
	sqlite3_finalize(st);
	return rc;
}

/* Take the next seq: the journal head + 1. */
static int
journal_next_seq(sqlite3 *db, int64_t *seq)
{
	if (db_exec(db, "UPDATE journal_state SET head = head + 1 "
	    "WHERE id = 1") != 0)
		return TR_EDB;
	return journal_head(db, seq);
}

/* Write CHG as record ID (its own or a copy id) at VERSION with a new *SEQ. */
static int
journal_put(sqlite3 *db, const struct jchange *chg, const char *id,
    int64_t version, int64_t *seq)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = journal_next_seq(db, seq)) != 0)
		return rc;
	if ((rc = db_prepare(db, "INSERT OR REPLACE INTO records (collection, "
	    "id, version, deleted, modified_at, origin, data, file_sha256, "
	    "file_size, file_name, seq, changed_ms) VALUES "
	    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", &st)) != 0)
		return rc;
	sqlite3_bind_text(st, 1, chg->collection, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, version);
	sqlite3_bind_int(st, 4, chg->deleted ? 1 : 0);
	sqlite3_bind_int64(st, 5, chg->modified_at);
	sqlite3_bind_text(st, 6, chg->origin, -1, SQLITE_STATIC);
	if (chg->deleted || chg->data == NULL)
		sqlite3_bind_null(st, 7);
	else
		sqlite3_bind_text(st, 7, chg->data, -1, SQLITE_STATIC);
	if (chg->has_file) {
		sqlite3_bind_text(st, 8, chg->file_sha256, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 9, chg->file_size);
		sqlite3_bind_text(st, 10, chg->file_name, -1, SQLITE_STATIC);
	} else {
		sqlite3_bind_null(st, 8);
		sqlite3_bind_null(st, 9);
		sqlite3_bind_null(st, 10);
	}
	sqlite3_bind_int64(st, 11, *seq);
	sqlite3_bind_int64(st, 12, msg_now_ms());
	if (sqlite3_step(st) != SQLITE_DONE) {
		log_err("database: writing %s record: %s", chg->collection,
		    sqlite3_errmsg(db));
		rc = TR_EDB;
	}
	sqlite3_finalize(st);
	return rc;
}

/* Non-zero when CHG's content (deleted, data, file) and origin equal REC's. */
static int
journal_same(const struct jrec *rec, const struct jchange *chg)
{
	if ((rec->deleted != 0) != (chg->deleted != 0) ||
	    strcmp(rec->origin, chg->origin) != 0)
		return 0;
	if ((rec->data == NULL) != (chg->deleted || chg->data == NULL))
		return 0;
	if (rec->data != NULL && strcmp(rec->data, chg->data) != 0)
		return 0;
	if ((rec->has_file != 0) != (chg->has_file != 0))
		return 0;
	return !rec->has_file ||
	    (strcmp(rec->file_sha256, chg->file_sha256) == 0 &&
	    rec->file_size == chg->file_size &&
	    strcmp(rec->file_name != NULL ? rec->file_name : "",
	    chg->file_name) == 0);
}

/* Non-zero when CHG is later than REC (modified_at, then origin bytewise). */
static int
journal_newer(const struct jchange *chg, const struct jrec *rec)
{
	if (chg->modified_at != rec->modified_at)
		return chg->modified_at > rec->modified_at;
	return strcmp(chg->origin, rec->origin) > 0;
}

/* The keep-both copy id of ID by ORIGIN on BASE_VERSION. */
int
journal_copy_id(const char *id, const char *origin, int64_t base_version,
    char *out, size_t len)
{
	int n = snprintf(out, len, "%s" JOURNAL_COPY_TAG "%s~%" PRId64, id,
	    origin, base_version);

	if (n < 0 || (size_t)n >= len || n > TR_RECORD_ID_MAX) {
		if (len > 0)
			out[0] = '\0';
		return TR_ETOOBIG;
	}
	return 0;
}

/* Set RES to rejected with REASON. */
static void
journal_reject(struct jresult *res, const char *reason)
{
	memset(res, 0, sizeof(*res));
	res->status = J_REJECTED;
	res->reason = reason;
}

/* Keep-both: store CHG as the copy record and name it in RES. */
static int
journal_keep_copy(sqlite3 *db, const struct jchange *chg,
    struct jresult *res)
{
	char id[TR_RECORD_ID_MAX + 1];
	struct jrec copy;
	int64_t seq;
	int rc;

	if (journal_copy_id(chg->id, chg->origin, chg->base_version, id,
	    sizeof(id)) != 0) {
		journal_reject(res, JOURNAL_INVALID_RECORD);
		return 0;
	}
	/* An earlier copy is replaced unless this is a retry of it. */
	rc = journal_get(db, chg->collection, id, &copy);
	if (rc == TR_ENOTFOUND)
		rc = journal_put(db, chg, id, 1, &seq);
	else if (rc == 0 && !journal_same(&copy, chg))
		rc = journal_put(db, chg, id, copy.version + 1, &seq);
	journal_rec_free(&copy);
	if (rc == 0)
		memcpy(res->conflict_id, id, sizeof(res->conflict_id));
	return rc;
}

/* Apply CHG under POLICY. */
int
journal_apply(sqlite3 *db, enum conf_policy policy,
    const struct jchange *chg, journal_blob_fn blob_exists, void *blob_arg,
    struct jresult *res)
{
	struct jrec cur;
	int64_t curver, seq;
	int rc, found;

	memset(res, 0, sizeof(*res));
	memset(&cur, 0, sizeof(cur));
	if (chg->has_file && (blob_exists == NULL ||
	    !blob_exists(blob_arg, chg->file_sha256))) {
		journal_reject(res, JOURNAL_MISSING_FILE);
		return 0;
	}
	rc = journal_get(db, chg->collection, chg->id, &cur);
	if (rc != 0 && rc != TR_ENOTFOUND)
		return rc;
	found = rc == 0;
	rc = 0;
	if (found && journal_same(&cur, chg)) {
		/* A retry of a change the hub already holds. */
		res->status = J_APPLIED;
		res->version = cur.version;
		res->seq = cur.seq;
		goto out;
	}
	curver = found ? cur.version : 0;
	if (chg->base_version == curver ||
	    (policy == CONF_LAST_WRITER_WINS &&
	    (!found || journal_newer(chg, &cur)))) {
		if ((rc = journal_put(db, chg, chg->id, curver + 1,
		    &seq)) != 0)
			goto out;
		res->status = J_APPLIED;
		res->version = curver + 1;
		res->seq = seq;
		goto out;
	}
	res->status = J_CONFLICT;
	res->version = curver;
	res->seq = found ? cur.seq : 0;
	res->reason = conf_policy_name(policy);
	if (policy == CONF_KEEP_BOTH)
		rc = journal_keep_copy(db, chg, res);
out:
	journal_rec_free(&cur);
	return rc;
}

/* Run prepared statement ST handing each row to FN; *COUNT gets how many. */
static int
journal_each(sqlite3 *db, sqlite3_stmt *st,
    int (*fn)(void *arg, const struct jrec *rec), void *arg, int *count)
{
	struct jrec rec;
	int rc = 0, step, n = 0;

	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if ((rc = journal_row(st, &rec)) != 0)
			break;
		n++;
		rc = fn(arg, &rec);
		journal_rec_free(&rec);
		if (rc != 0)
			break;
	}
	if (rc == 0 && step != SQLITE_DONE && step != SQLITE_ROW) {
		log_err("database: reading records: %s", sqlite3_errmsg(db));
		rc = TR_EDB;
	}
	if (count != NULL)
		*count = n;
	return rc < 0 ? rc : 0;
}

/* Records of COLLECTIONS with seq in (AFTER, UPTO], in seq order. */
int
journal_scan(sqlite3 *db, const char *const *collections, size_t n,
    int64_t after, int64_t upto, int limit,
    int (*fn)(void *arg, const struct jrec *rec), void *arg, int *count)
{
	static const char head[] = "SELECT " JOURNAL_COLS " FROM records "
	    "WHERE seq > ? AND seq <= ?";
	static const char tail[] = " ORDER BY seq LIMIT ?";
	sqlite3_stmt *st = NULL;
	char *sql;
	size_t len;
	int rc, col = 3;

	if (count != NULL)
		*count = 0;
	if (n > 32000)
		return TR_EINVAL;
	len = sizeof(head) + sizeof(" AND collection IN ()") + 2 * n +
	    sizeof(tail);
	if ((sql = malloc(len)) == NULL)
		return TR_ENOMEM;
	strcpy(sql, head);
	if (n > 0) {
		strcat(sql, " AND collection IN (");
		for (size_t i = 0; i < n; i++)
			strcat(sql, i == 0 ? "?" : ",?");
		strcat(sql, ")");
	}
	strcat(sql, tail);
	rc = db_prepare(db, sql, &st);
	free(sql);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(st, 1, after);
	sqlite3_bind_int64(st, 2, upto);
	for (size_t i = 0; i < n; i++)
		sqlite3_bind_text(st, col++, collections[i], -1, SQLITE_STATIC);
	sqlite3_bind_int(st, col, limit > 0 ? limit : -1);
	rc = journal_each(db, st, fn, arg, count);
	sqlite3_finalize(st);
	return rc;
}

/* Records of COLLECTION in id order. */
int
journal_list(sqlite3 *db, const char *collection, int with_deleted,
    int (*fn)(void *arg, const struct jrec *rec), void *arg)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = db_prepare(db, with_deleted ?
	    "SELECT " JOURNAL_COLS " FROM records WHERE collection = ? "
	    "ORDER BY id" :
	    "SELECT " JOURNAL_COLS " FROM records WHERE collection = ? "
	    "AND deleted = 0 ORDER BY id", &st)) != 0)
		return rc;
	sqlite3_bind_text(st, 1, collection, -1, SQLITE_STATIC);
	rc = journal_each(db, st, fn, arg, NULL);
	sqlite3_finalize(st);
	return rc;
}

/* Purge tombstones older than the retention and raise the floor. */
int
journal_purge(sqlite3 *db, int64_t now_ms, int64_t retain_s, int *purged)
{
	sqlite3_stmt *st = NULL;
	int64_t cutoff, top = 0;
	int rc, n = 0;

	if (purged != NULL)
		*purged = 0;
	if (retain_s < 0 || retain_s > INT64_MAX / 1000)
		return TR_EINVAL;
	cutoff = now_ms - retain_s * 1000;
	if ((rc = db_prepare(db, "SELECT count(*), coalesce(max(seq), 0) "
	    "FROM records WHERE deleted = 1 AND changed_ms < ?", &st)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, cutoff);
	if (sqlite3_step(st) != SQLITE_ROW) {
		rc = TR_EDB;
		goto fail;
	}
	n = sqlite3_column_int(st, 0);
	top = sqlite3_column_int64(st, 1);
	sqlite3_finalize(st);
	st = NULL;
	if (n == 0)
		return 0;
	if ((rc = db_prepare(db, "DELETE FROM records WHERE deleted = 1 AND "
	    "changed_ms < ?", &st)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, cutoff);
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = TR_EDB;
		goto fail;
	}
	sqlite3_finalize(st);
	st = NULL;
	if ((rc = db_prepare(db, "UPDATE journal_state SET floor = ? "
	    "WHERE id = 1 AND floor < ?", &st)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, top);
	sqlite3_bind_int64(st, 2, top);
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = TR_EDB;
		goto fail;
	}
	sqlite3_finalize(st);
	if (purged != NULL)
		*purged = n;
	return 0;
fail:
	log_err("database: purging tombstones: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return rc;
}

/* Does a live record of COLLECTIONS name the file SHA256? */
int
journal_file_named(sqlite3 *db, const char *sha256,
    const char *const *collections, size_t n)
{
	sqlite3_stmt *st = NULL;
	int found = 0;

	if (db_prepare(db, "SELECT collection FROM records WHERE "
	    "file_sha256 = ? AND deleted = 0", &st) != 0)
		return 0;
	sqlite3_bind_text(st, 1, sha256, -1, SQLITE_STATIC);
	while (!found && sqlite3_step(st) == SQLITE_ROW) {
		const char *c = (const char *)sqlite3_column_text(st, 0);

		for (size_t i = 0; c != NULL && i < n && !found; i++)
			found = strcmp(c, collections[i]) == 0;
	}
	sqlite3_finalize(st);
	return found;
}

/* Counts of live records and tombstones. */
int
journal_count(sqlite3 *db, int64_t *live, int64_t *tombstones)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = db_prepare(db, "SELECT coalesce(sum(deleted = 0), 0), "
	    "coalesce(sum(deleted = 1), 0) FROM records", &st)) != 0)
		return rc;
	if (sqlite3_step(st) == SQLITE_ROW) {
		if (live != NULL)
			*live = sqlite3_column_int64(st, 0);
		if (tombstones != NULL)
			*tombstones = sqlite3_column_int64(st, 1);
	} else {
		log_err("database: counting records: %s", sqlite3_errmsg(db));
		rc = TR_EDB;
	}
	sqlite3_finalize(st);
	return rc;
}

/* The wire form of REC. */
json_object *
journal_rec_json(const struct jrec *rec)
{
	json_object *o = NULL, *data = NULL, *file = NULL;
	char when[32];

	if (rec->data != NULL &&
	    (jcs_parse(rec->data, strlen(rec->data), &data) != 0 ||
	    !json_object_is_type(data, json_type_object)))
		goto fail;
	if (rec->has_file) {
		if ((file = json_object_new_object()) == NULL)
			goto fail;
		json_object_object_add(file, "sha256",
		    json_object_new_string(rec->file_sha256));
		json_object_object_add(file, "size",
		    json_object_new_int64(rec->file_size));
		json_object_object_add(file, "name", json_object_new_string(
		    rec->file_name != NULL ? rec->file_name : ""));
	}
	if ((o = json_object_new_object()) == NULL)
		goto fail;
	msg_format_time(rec->modified_at, when, sizeof(when));
	json_object_object_add(o, "collection",
	    json_object_new_string(rec->collection));
	json_object_object_add(o, "id", json_object_new_string(rec->id));
	json_object_object_add(o, "version",
	    json_object_new_int64(rec->version));
	json_object_object_add(o, "deleted",
	    json_object_new_boolean(rec->deleted));
	json_object_object_add(o, "modified_at", json_object_new_string(when));
	json_object_object_add(o, "origin", json_object_new_string(rec->origin));
	json_object_object_add(o, "data", data);
	json_object_object_add(o, "file", file);
	json_object_object_add(o, "seq", json_object_new_int64(rec->seq));
	return o;
fail:
	json_object_put(data);
	json_object_put(file);
	return NULL;
}

/* Non-zero when NAME (LEN bytes) is a file name a node accepts. */
int
journal_valid_file_name(const char *name, size_t len)
{
	const unsigned char *p = (const unsigned char *)name;

	if (len == 0 || len > JOURNAL_FILE_NAME_MAX ||
	    !jcs_utf8_valid(name, len) || strcmp(name, ".") == 0 ||
	    strstr(name, "..") != NULL || strlen(name) != len)
		return 0;
	for (size_t i = 0; i < len; i++) {
		/* C0 controls, '/', DEL, and C1 controls (U+0080-U+009F). */
		if (p[i] < 0x20 || p[i] == '/' || p[i] == 0x7f)
			return 0;
		if (p[i] == 0xc2 && i + 1 < len && p[i + 1] >= 0x80 &&
		    p[i + 1] <= 0x9f)
			return 0;
	}
	return 1;
}

/* Read the "file" member of a pushed record into CHG. */
static int
journal_file_from_json(json_object *file, struct jchange *chg,
    const char **why)
{
	uint8_t sha[TR_HASH_LEN];
	const char *s;
	size_t len;
	int64_t size;

	*why = "file.sha256 must be 64 lowercase hex digits";
	if (msg_get_hex(file, "sha256", sha, sizeof(sha)) != 0 ||
	    msg_get_str(file, "sha256", &chg->file_sha256) != 0)
		return TR_EINVAL;
	*why = "file.size must be an integer >= 0";
	if (msg_get_int(file, "size", &size) != 0 || size < 0)
		return TR_EINVAL;
	*why = "file.name must be 1-255 bytes of UTF-8 without '/', '..', "
	    "NUL or control characters";
	if (msg_get_strlen(file, "name", &s, &len) != 0 ||
	    !journal_valid_file_name(s, len))
		return TR_EINVAL;
	chg->has_file = 1;
	chg->file_size = size;
	chg->file_name = s;
	return 0;
}

/* Read a pushed record into CHG. */
int
journal_change_from_json(json_object *rec, const char *origin,
    struct jchange *chg, char **data_buf, const char **why)
{
	static const char *const hub_members[] = { "version", "seq", "origin" };
	json_object *data = NULL, *file = NULL;
	const char *ts;
	size_t len;
	int rc;

	memset(chg, 0, sizeof(*chg));
	*data_buf = NULL;
	*why = "record must be an object";
	if (!json_object_is_type(rec, json_type_object))
		return TR_EINVAL;
	*why = "collection must be 1-64 characters of [a-z0-9_.-]";
	if (msg_get_str(rec, "collection", &chg->collection) != 0 ||
	    !msg_valid_collection(chg->collection))
		return TR_EINVAL;
	*why = "id must be 1-256 bytes of UTF-8 without NUL";
	if (msg_get_strlen(rec, "id", &chg->id, &len) != 0 ||
	    !msg_valid_record_id(chg->id, len))
		return TR_EINVAL;
	*why = "pushed records carry base_version, not version, seq or origin";
	for (size_t i = 0; i < sizeof(hub_members) / sizeof(hub_members[0]);
	    i++)
		if (json_object_object_get_ex(rec, hub_members[i], NULL))
			return TR_EINVAL;
	*why = "base_version must be an integer >= 0";
	if (msg_get_int(rec, "base_version", &chg->base_version) != 0 ||
	    chg->base_version < 0)
		return TR_EINVAL;
	*why = "deleted must be a boolean";
	if (msg_get_bool(rec, "deleted", &chg->deleted) != 0)
		return TR_EINVAL;
	*why = "modified_at must be a timestamp";
	if (msg_get_str(rec, "modified_at", &ts) != 0 ||
	    msg_parse_time(ts, &chg->modified_at) != 0)
		return TR_EINVAL;
	if (chg->deleted) {
		*why = "data must be null when deleted";
		if (!msg_is_null(rec, "data"))
			return TR_EINVAL;
	} else {
		*why = "data must be an object";
		if (msg_get_obj(rec, "data", &data) != 0)
			return TR_EINVAL;
	}
	*why = "file must be null or an object";
	if (!msg_is_null(rec, "file")) {
		if (msg_get_obj(rec, "file", &file) != 0)
			return TR_EINVAL;
		*why = "a deleted record names no file";
		if (chg->deleted)
			return TR_EINVAL;
		if ((rc = journal_file_from_json(file, chg, why)) != 0)
			return rc;
	}
	if (data != NULL) {
		*why = "data cannot be canonicalized";
		if ((rc = jcs_serialize(data, data_buf, NULL)) != 0)
			return rc == TR_ENOMEM ? rc : TR_EINVAL;
		chg->data = *data_buf;
	}
	chg->origin = origin;
	*why = NULL;
	return 0;
}
