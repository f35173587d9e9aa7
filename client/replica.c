/* The node's local replica: the hub's records as last pulled, per-set cursors, queued local changes. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "err.h"
#include "hex.h"
#include "jcs.h"
#include "log.h"
#include "msg.h"
#include "replica.h"

struct replica {
	sqlite3 *db;
	char node_id[TR_ID_MAX + 1];
	sqlite3_stmt *store;		/* the record upsert, prepared once */
};

/* Schema step 0 -> 1. */
static const char replica_step_1[] =
	"CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE records ("
	" collection TEXT NOT NULL,"
	" id TEXT NOT NULL,"
	" version INTEGER NOT NULL,"
	" deleted INTEGER NOT NULL,"
	" modified_at INTEGER NOT NULL,"
	" origin TEXT NOT NULL,"
	" data TEXT,"
	" file_sha256 TEXT,"
	" file_size INTEGER,"
	" file_name TEXT,"
	" seq INTEGER NOT NULL,"
	" PRIMARY KEY (collection, id)) WITHOUT ROWID;"
	"CREATE TABLE cursors ("
	" setkey TEXT PRIMARY KEY,"
	" cursor INTEGER NOT NULL,"
	" roles TEXT NOT NULL,"
	" updated_at INTEGER NOT NULL);"
	"CREATE TABLE pending ("
	" qorder INTEGER PRIMARY KEY AUTOINCREMENT,"
	" collection TEXT NOT NULL,"
	" id TEXT NOT NULL,"
	" base_version INTEGER NOT NULL,"
	" deleted INTEGER NOT NULL,"
	" data TEXT,"
	" modified_at INTEGER NOT NULL,"
	" rev INTEGER NOT NULL,"
	" UNIQUE (collection, id));"
	"CREATE TABLE sync_log ("
	" n INTEGER PRIMARY KEY AUTOINCREMENT,"
	" at INTEGER NOT NULL,"
	" collection TEXT NOT NULL,"
	" id TEXT NOT NULL,"
	" status TEXT NOT NULL,"
	" reason TEXT,"
	" conflict_id TEXT,"
	" version INTEGER);";

/* Schema step 1 -> 2: a queued change may name a file. */
static const char replica_step_2[] =
	"ALTER TABLE pending ADD COLUMN file_sha256 TEXT;"
	"ALTER TABLE pending ADD COLUMN file_size INTEGER;"
	"ALTER TABLE pending ADD COLUMN file_name TEXT;";

/* Columns of a record row, in the order replica_row_view reads them. */
#define REPLICA_REC_COLS \
	"version, deleted, modified_at, origin, data, file_sha256, file_size, " \
	"file_name, seq"

/* Log a failed step of STMT and return TR_EDB. */
static int
replica_step_err(struct replica *r, const char *what)
{
	log_err("replica: %s: %s", what, sqlite3_errmsg(r->db));
	return TR_EDB;
}

/* Run a prepared statement that answers no rows; finalizes it. */
static int
replica_step_done(struct replica *r, sqlite3_stmt *st, const char *what)
{
	int rc = 0;

	if (sqlite3_step(st) != SQLITE_DONE)
		rc = replica_step_err(r, what);
	sqlite3_finalize(st);
	return rc;
}

/* Copy column I of ST (NULL stays NULL) into *OUT. */
static int
replica_col_dup(sqlite3_stmt *st, int i, char **out)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	*out = NULL;
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return 0;
	if (s == NULL || (*out = strdup((const char *)s)) == NULL)
		return TR_ENOMEM;
	return 0;
}

/* Copy column I of ST into the fixed buffer BUF. */
static void
replica_col_copy(sqlite3_stmt *st, int i, char *buf, size_t len)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	snprintf(buf, len, "%s", s != NULL ? (const char *)s : "");
}

/* Check a collection name and a record id. */
static int
replica_valid_key(const char *collection, const char *id)
{
	if (collection == NULL || id == NULL ||
	    !msg_valid_collection(collection) ||
	    !msg_valid_record_id(id, strlen(id)))
		return TR_EINVAL;
	return 0;
}

/* Parse TEXT strictly as a JSON object and write its canonical form into *OUT. */
static int
replica_canon(const char *text, char **out)
{
	json_object *obj = NULL;
	int rc;

	*out = NULL;
	if (text == NULL)
		return TR_EINVAL;
	if ((rc = jcs_parse(text, strlen(text), &obj)) != 0)
		goto out;
	if (!json_object_is_type(obj, json_type_object)) {
		rc = TR_EINVAL;
		goto out;
	}
	rc = jcs_serialize(obj, out, NULL);
out:
	json_object_put(obj);
	return rc == TR_EJSON || rc == TR_EDUPKEY || rc == TR_ERANGE ?
	    TR_EINVAL : rc;
}

/* Open DIR/replica.db for NODE_ID. */
int
replica_open(const char *dir, const char *node_id, struct replica **out)
{
	static const char *const steps[] = { replica_step_1,
	    replica_step_2 };
	struct replica *r = NULL;
	sqlite3_stmt *st = NULL;
	char path[4096];
	char *owner = NULL;
	int rc, n;

	*out = NULL;
	if (dir == NULL || node_id == NULL || !msg_valid_id(node_id))
		return TR_EINVAL;
	n = snprintf(path, sizeof(path), "%s/%s", dir, REPLICA_FILE);
	if (n < 0 || (size_t)n >= sizeof(path))
		return TR_EINVAL;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return TR_ENOMEM;
	snprintf(r->node_id, sizeof(r->node_id), "%s", node_id);
	if ((rc = db_open(path, 1, &r->db)) != 0)
		goto out;
	if ((rc = db_migrate(r->db, steps, (int)(sizeof(steps) /
	    sizeof(steps[0])))) != 0)
		goto out;
	/* The replica belongs to one node. */
	if ((rc = db_begin(r->db)) != 0)
		goto out;
	rc = replica_meta_get(r, "node_id", &owner);
	if (rc == TR_ENOTFOUND) {
		if ((rc = db_prepare(r->db, "INSERT INTO meta (key, value) "
		    "VALUES ('node_id', ?)", &st)) != 0)
			goto out;
		sqlite3_bind_text(st, 1, node_id, -1, SQLITE_STATIC);
		rc = replica_step_done(r, st, "recording the node");
		st = NULL;
	} else if (rc == 0 && strcmp(owner, node_id) != 0) {
		log_err("replica %s belongs to node %s, not %s", path, owner,
		    node_id);
		rc = TR_EINVAL;
	}
	if (rc != 0)
		goto out;
	if ((rc = db_commit(r->db)) != 0)
		goto out;
	*out = r;
	r = NULL;
out:
	free(owner);
	if (r != NULL) {
		if (r->db != NULL)
			db_rollback(r->db);
		db_close(r->db);
		free(r);
	}
	return rc;
}

/* Close R. */
void
replica_close(struct replica *r)
{
	if (r == NULL)
		return;
	sqlite3_finalize(r->store);
	db_close(r->db);
	free(r);
}

/* The SQLite handle. */
sqlite3 *
replica_db(struct replica *r)
{
	return r->db;
}

/* Queue a put of (COLLECTION, ID). */
int
replica_put(struct replica *r, const char *collection, const char *id,
    const char *data_json, int64_t modified_at)
{
	return replica_put_file(r, collection, id, data_json, NULL, 0, NULL,
	    modified_at);
}

/* Queue a put of (COLLECTION, ID) naming a file. */
int
replica_put_file(struct replica *r, const char *collection, const char *id,
    const char *data_json, const char *file_sha256, int64_t file_size,
    const char *file_name, int64_t modified_at)
{
	sqlite3_stmt *st = NULL;
	char *data = NULL;
	int rc;

	if ((rc = replica_valid_key(collection, id)) != 0 ||
	    (rc = replica_canon(data_json, &data)) != 0)
		goto out;
	if (file_sha256 != NULL && (file_name == NULL || file_size < 0 ||
	    !hex_valid(file_sha256, strlen(file_sha256), TR_HASH_LEN))) {
		rc = TR_EINVAL;
		goto out;
	}
	/* One statement: the base version is read and kept atomically. */
	if ((rc = db_prepare(r->db,
	    "INSERT INTO pending (collection, id, base_version, deleted, data,"
	    " modified_at, rev, file_sha256, file_size, file_name)"
	    " VALUES (?1, ?2, COALESCE((SELECT version FROM"
	    " records WHERE collection = ?1 AND id = ?2), 0), 0, ?3, ?4, 1,"
	    " ?5, ?6, ?7)"
	    " ON CONFLICT (collection, id) DO UPDATE SET deleted = 0,"
	    " data = excluded.data, modified_at = excluded.modified_at,"
	    " file_sha256 = excluded.file_sha256,"
	    " file_size = excluded.file_size, file_name = excluded.file_name,"
	    " rev = rev + 1", &st)) != 0)
		goto out;
	sqlite3_bind_text(st, 1, collection, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, data, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, modified_at);
	if (file_sha256 != NULL) {
		sqlite3_bind_text(st, 5, file_sha256, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 6, file_size);
		sqlite3_bind_text(st, 7, file_name, -1, SQLITE_STATIC);
	}
	rc = replica_step_done(r, st, "queueing a put");
out:
	free(data);
	return rc;
}

/* Queue a delete of (COLLECTION, ID). */
int
replica_delete(struct replica *r, const char *collection, const char *id,
    int64_t modified_at)
{
	sqlite3_stmt *st = NULL;
	int64_t base = 0;
	int64_t version = 0;
	int rc, step, has_pending = 0, pending_deleted = 0, rec_live = 0;

	if ((rc = replica_valid_key(collection, id)) != 0)
		return rc;
	if ((rc = db_begin(r->db)) != 0)
		return rc;
	if ((rc = db_prepare(r->db, "SELECT base_version, deleted FROM pending"
	    " WHERE collection = ? AND id = ?", &st)) != 0)
		goto out;
	sqlite3_bind_text(st, 1, collection, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	if ((step = sqlite3_step(st)) == SQLITE_ROW) {
		has_pending = 1;
		base = sqlite3_column_int64(st, 0);
		pending_deleted = sqlite3_column_int(st, 1);
	} else if (step != SQLITE_DONE) {
		rc = replica_step_err(r, "reading the queue");
		goto out;
	}
	sqlite3_finalize(st);
	if ((rc = db_prepare(r->db, "SELECT version, deleted FROM records"
	    " WHERE collection = ? AND id = ?", &st)) != 0)
		goto out;
	sqlite3_bind_text(st, 1, collection, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	if ((step = sqlite3_step(st)) == SQLITE_ROW) {
		version = sqlite3_column_int64(st, 0);
		rec_live = !sqlite3_column_int(st, 1);
	} else if (step != SQLITE_DONE) {
		rc = replica_step_err(r, "reading a record");
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;

	if (has_pending ? pending_deleted : !rec_live) {
		rc = TR_ENOTFOUND;
		goto out;
	}
	if (has_pending && base == 0 && !rec_live) {
		/* A record the hub never saw: forget it. */
		rc = db_prepare(r->db, "DELETE FROM pending WHERE"
		    " collection = ?1 AND id = ?2", &st);
	} else if (has_pending) {
		rc = db_prepare(r->db, "UPDATE pending SET deleted = 1,"
		    " data = NULL, modified_at = ?3, rev = rev + 1"
		    " WHERE collection = ?1 AND id = ?2", &st);
	} else {
		rc = db_prepare(r->db, "INSERT INTO pending (collection, id,"
		    " base_version, deleted, data, modified_at, rev)"
		    " VALUES (?1, ?2, ?4, 1, NULL, ?3, 1)", &st);
	}
	if (rc != 0)
		goto out;
	/* Each statement uses the parameters up to its highest index. */
	sqlite3_bind_text(st, 1, collection, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	if (sqlite3_bind_parameter_count(st) >= 3)
		sqlite3_bind_int64(st, 3, modified_at);
	if (sqlite3_bind_parameter_count(st) >= 4)
		sqlite3_bind_int64(st, 4, version);
	rc = replica_step_done(r, st, "queueing a delete");
	st = NULL;
	if (rc == 0)
		rc = db_commit(r->db);
out:
	sqlite3_finalize(st);
	if (rc != 0)
		db_rollback(r->db);
	return rc;
}

/*
 * The merged view of one row of a query whose column 0 is the id, columns
 * 1-9 the record (REPLICA_REC_COLS, NULL when absent) and columns 10-14
 * the queue entry (qorder, base_version, deleted, data, modified_at; NULL
 * when absent).  *PENDING says whether the queue entry won.
 */
static int
replica_row_view(struct replica *r, sqlite3_stmt *st, const char *collection,
    struct replica_rec *rec, int *pending)
{
	int has_rec = sqlite3_column_type(st, 1) != SQLITE_NULL;
	int rc;

	memset(rec, 0, sizeof(*rec));
	*pending = sqlite3_column_type(st, 10) != SQLITE_NULL;
	snprintf(rec->collection, sizeof(rec->collection), "%s", collection);
	if ((rc = replica_col_dup(st, 0, &rec->id)) != 0)
		goto out;
	if (has_rec)
		rec->seq = sqlite3_column_int64(st, 9);
	if (*pending) {
		rec->version = sqlite3_column_int64(st, 11);
		rec->deleted = sqlite3_column_int(st, 12);
		rec->modified_at = sqlite3_column_int64(st, 14);
		snprintf(rec->origin, sizeof(rec->origin), "%s", r->node_id);
		if ((rc = replica_col_dup(st, 13, &rec->data)) != 0)
			goto out;
		if (sqlite3_column_type(st, 15) != SQLITE_NULL) {
			rec->has_file = 1;
			replica_col_copy(st, 15, rec->file_sha256,
			    sizeof(rec->file_sha256));
			rec->file_size = sqlite3_column_int64(st, 16);
			rc = replica_col_dup(st, 17, &rec->file_name);
		}
		goto out;
	}
	rec->version = sqlite3_column_int64(st, 1);
	rec->deleted = sqlite3_column_int(st, 2);
	rec->modified_at = sqlite3_column_int64(st, 3);
	replica_col_copy(st, 4, rec->origin, sizeof(rec->origin));
	if ((rc = replica_col_dup(st, 5, &rec->data)) != 0)
		goto out;
	if (sqlite3_column_type(st, 6) != SQLITE_NULL) {
		rec->has_file = 1;
		replica_col_copy(st, 6, rec->file_sha256,
		    sizeof(rec->file_sha256));
		rec->file_size = sqlite3_column_int64(st, 7);
		rc = replica_col_dup(st, 8, &rec->file_name);
	}
out:
	return rc;
}

/* The JSON of a merged view, with "pending" when WITH_PENDING. */
static json_object *
replica_view_json(const struct replica_rec *rec, int pending,
    int with_pending)
{
	json_object *o = replica_rec_json(rec);

	if (o != NULL && with_pending &&
	    json_object_object_add(o, "pending",
	    json_object_new_boolean(pending)) != 0) {
		json_object_put(o);
		o = NULL;
	}
	return o;
}

/* One record as the node sees it. */
int
replica_get_json(struct replica *r, const char *collection, const char *id,
    json_object **out)
{
	sqlite3_stmt *st = NULL;
	struct replica_rec rec;
	int rc, pending, step;

	*out = NULL;
	memset(&rec, 0, sizeof(rec));
	if ((rc = replica_valid_key(collection, id)) != 0)
		return rc;
	if ((rc = db_prepare(r->db, "SELECT ?2, r.version, r.deleted,"
	    " r.modified_at, r.origin, r.data, r.file_sha256, r.file_size,"
	    " r.file_name, r.seq, p.qorder, p.base_version, p.deleted, p.data,"
	    " p.modified_at, p.file_sha256, p.file_size, p.file_name FROM (SELECT 1) LEFT JOIN records r"
	    " ON r.collection = ?1 AND r.id = ?2 LEFT JOIN pending p"
	    " ON p.collection = ?1 AND p.id = ?2", &st)) != 0)
		return rc;
	sqlite3_bind_text(st, 1, collection, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	if ((step = sqlite3_step(st)) != SQLITE_ROW) {
		rc = replica_step_err(r, "reading a record");
		goto out;
	}
	if (sqlite3_column_type(st, 1) == SQLITE_NULL &&
	    sqlite3_column_type(st, 10) == SQLITE_NULL) {
		rc = TR_ENOTFOUND;
		goto out;
	}
	if ((rc = replica_row_view(r, st, collection, &rec, &pending)) != 0)
		goto out;
	if (rec.deleted) {
		rc = TR_ENOTFOUND;
		goto out;
	}
	if ((*out = replica_view_json(&rec, pending, 1)) == NULL)
		rc = TR_ENOMEM;
out:
	replica_rec_free(&rec);
	sqlite3_finalize(st);
	return rc;
}

/* Every record of COLLECTION as the node sees it. */
int
replica_list_json(struct replica *r, const char *collection,
    int include_deleted, int with_pending, json_object **out)
{
	sqlite3_stmt *st = NULL;
	struct replica_rec rec;
	json_object *arr = NULL, *o;
	int rc, pending, step;

	*out = NULL;
	memset(&rec, 0, sizeof(rec));
	if (collection == NULL || !msg_valid_collection(collection))
		return TR_EINVAL;
	if ((rc = db_prepare(r->db, "SELECT k.id, r.version, r.deleted,"
	    " r.modified_at, r.origin, r.data, r.file_sha256, r.file_size,"
	    " r.file_name, r.seq, p.qorder, p.base_version, p.deleted, p.data,"
	    " p.modified_at, p.file_sha256, p.file_size, p.file_name FROM (SELECT id FROM records WHERE collection = ?1"
	    " UNION SELECT id FROM pending WHERE collection = ?1) k"
	    " LEFT JOIN records r ON r.collection = ?1 AND r.id = k.id"
	    " LEFT JOIN pending p ON p.collection = ?1 AND p.id = k.id"
	    " ORDER BY k.id", &st)) != 0)
		return rc;
	sqlite3_bind_text(st, 1, collection, -1, SQLITE_STATIC);
	if ((arr = json_object_new_array()) == NULL) {
		rc = TR_ENOMEM;
		goto out;
	}
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if ((rc = replica_row_view(r, st, collection, &rec,
		    &pending)) != 0)
			goto out;
		if (!rec.deleted || include_deleted) {
			o = replica_view_json(&rec, pending, with_pending);
			if (o == NULL || json_object_array_add(arr, o) != 0) {
				json_object_put(o);
				rc = TR_ENOMEM;
				goto out;
			}
		}
		replica_rec_free(&rec);
	}
	if (step != SQLITE_DONE) {
		rc = replica_step_err(r, "listing records");
		goto out;
	}
	*out = arr;
	arr = NULL;
	rc = 0;
out:
	replica_rec_free(&rec);
	json_object_put(arr);
	sqlite3_finalize(st);
	return rc;
}

/* Number of queued changes. */
int
replica_pending_count(struct replica *r, int64_t *count)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = db_prepare(r->db, "SELECT count(*) FROM pending", &st)) != 0)
		return rc;
	if (sqlite3_step(st) == SQLITE_ROW)
		*count = sqlite3_column_int64(st, 0);
	else
		rc = replica_step_err(r, "counting the queue");
	sqlite3_finalize(st);
	return rc;
}

/* Every queued change in queue order. */
int
replica_pending_load(struct replica *r, struct replica_change **out,
    size_t *n)
{
	struct replica_change *arr = NULL, *grown, *c;
	sqlite3_stmt *st = NULL;
	size_t len = 0, cap = 0;
	int rc, step;

	*out = NULL;
	*n = 0;
	if ((rc = db_prepare(r->db, "SELECT qorder, rev, collection, id,"
	    " base_version, deleted, data, modified_at, file_sha256, file_size,"
	    " file_name FROM pending ORDER BY qorder", &st)) != 0)
		return rc;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if (len == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			grown = realloc(arr, cap * sizeof(*arr));
			if (grown == NULL) {
				rc = TR_ENOMEM;
				goto out;
			}
			arr = grown;
		}
		c = &arr[len];
		memset(c, 0, sizeof(*c));
		len++;
		c->qorder = sqlite3_column_int64(st, 0);
		c->rev = sqlite3_column_int64(st, 1);
		replica_col_copy(st, 2, c->collection, sizeof(c->collection));
		c->base_version = sqlite3_column_int64(st, 4);
		c->deleted = sqlite3_column_int(st, 5);
		c->modified_at = sqlite3_column_int64(st, 7);
		if ((rc = replica_col_dup(st, 3, &c->id)) != 0 ||
		    (rc = replica_col_dup(st, 6, &c->data)) != 0)
			goto out;
		if (sqlite3_column_type(st, 8) != SQLITE_NULL) {
			c->has_file = 1;
			replica_col_copy(st, 8, c->file_sha256,
			    sizeof(c->file_sha256));
			c->file_size = sqlite3_column_int64(st, 9);
			if ((rc = replica_col_dup(st, 10, &c->file_name)) != 0)
				goto out;
		}
		if (c->id == NULL) {
			rc = TR_EDB;
			goto out;
		}
	}
	if (step != SQLITE_DONE) {
		rc = replica_step_err(r, "reading the queue");
		goto out;
	}
	*out = arr;
	*n = len;
	arr = NULL;
	len = 0;
	rc = 0;
out:
	replica_changes_free(arr, len);
	sqlite3_finalize(st);
	return rc;
}

/* Free an array of changes. */
void
replica_changes_free(struct replica_change *chg, size_t n)
{
	if (chg == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		free(chg[i].id);
		free(chg[i].data);
		free(chg[i].file_name);
	}
	free(chg);
}

/* Every live record that names a file. */
int
replica_files_load(struct replica *r, struct replica_rec **out, size_t *n)
{
	struct replica_rec *arr = NULL, *grown, *c;
	sqlite3_stmt *st = NULL;
	size_t len = 0, cap = 0;
	int rc, step;

	*out = NULL;
	*n = 0;
	if ((rc = db_prepare(r->db, "SELECT collection, id, file_sha256,"
	    " file_size, file_name, seq FROM records WHERE deleted = 0 AND"
	    " file_sha256 IS NOT NULL ORDER BY seq", &st)) != 0)
		return rc;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if (len == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			grown = realloc(arr, cap * sizeof(*arr));
			if (grown == NULL) {
				rc = TR_ENOMEM;
				goto out;
			}
			arr = grown;
		}
		c = &arr[len];
		memset(c, 0, sizeof(*c));
		len++;
		replica_col_copy(st, 0, c->collection, sizeof(c->collection));
		c->has_file = 1;
		replica_col_copy(st, 2, c->file_sha256, sizeof(c->file_sha256));
		c->file_size = sqlite3_column_int64(st, 3);
		c->seq = sqlite3_column_int64(st, 5);
		if ((rc = replica_col_dup(st, 1, &c->id)) != 0 ||
		    (rc = replica_col_dup(st, 4, &c->file_name)) != 0)
			goto out;
	}
	if (step != SQLITE_DONE) {
		rc = replica_step_err(r, "files");
		goto out;
	}
	*out = arr;
	*n = len;
	arr = NULL;
	len = 0;
	rc = 0;
out:
	replica_recs_free(arr, len);
	sqlite3_finalize(st);
	return rc;
}

/* Free an array of records. */
void
replica_recs_free(struct replica_rec *recs, size_t n)
{
	if (recs == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		replica_rec_free(&recs[i]);
	free(recs);
}

/* qsort comparison of two C strings. */
static int
replica_strcmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorted, de-duplicated, comma-joined copy of the N strings NAMES. */
static int
replica_join(const char *const *names, size_t n, char **key)
{
	const char **sorted = NULL;
	size_t len = 1, at = 0;
	char *s = NULL;
	int rc = TR_ENOMEM;

	*key = NULL;
	if (n > 0 && (sorted = calloc(n, sizeof(*sorted))) == NULL)
		goto out;
	for (size_t i = 0; i < n; i++) {
		sorted[i] = names[i];
		len += strlen(names[i]) + 1;
	}
	if (n > 0)
		qsort(sorted, n, sizeof(*sorted), replica_strcmp);
	if ((s = malloc(len)) == NULL)
		goto out;
	s[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(sorted[i]);

		if (i > 0 && strcmp(sorted[i], sorted[i - 1]) == 0)
			continue;
		if (at > 0)
			s[at++] = ',';
		memcpy(s + at, sorted[i], l);
		at += l;
		s[at] = '\0';
	}
	*key = s;
	rc = 0;
out:
	free(sorted);
	return rc;
}

/* The set key of N collections. */
int
replica_set_key(const char *const *collections, size_t n, char **key)
{
	*key = NULL;
	if (n == 0) {
		if ((*key = strdup(REPLICA_SET_ALL)) == NULL)
			return TR_ENOMEM;
		return 0;
	}
	if (collections == NULL)
		return TR_EINVAL;
	for (size_t i = 0; i < n; i++)
		if (collections[i] == NULL ||
		    !msg_valid_collection(collections[i]))
			return TR_EINVAL;
	return replica_join(collections, n, key);
}

/* The roles key of N roles. */
int
replica_roles_key(const char *const *roles, size_t n, char **key)
{
	*key = NULL;
	if (n > 0 && roles == NULL)
		return TR_EINVAL;
	for (size_t i = 0; i < n; i++)
		if (roles[i] == NULL || strchr(roles[i], ',') != NULL)
			return TR_EINVAL;
	return replica_join(roles, n, key);
}

/* The cursor of SET, or 0. */
int
replica_cursor_get(struct replica *r, const char *set, const char *roles,
    int64_t *cursor)
{
	sqlite3_stmt *st = NULL;
	int rc, step;

	*cursor = 0;
	if (set == NULL || roles == NULL)
		return TR_EINVAL;
	if ((rc = db_prepare(r->db, "SELECT cursor, roles FROM cursors"
	    " WHERE setkey = ?", &st)) != 0)
		return rc;
	sqlite3_bind_text(st, 1, set, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		const unsigned char *had = sqlite3_column_text(st, 1);

		if (had != NULL && strcmp((const char *)had, roles) == 0)
			*cursor = sqlite3_column_int64(st, 0);
	} else if (step != SQLITE_DONE)
		rc = replica_step_err(r, "reading a cursor");
	sqlite3_finalize(st);
	return rc;
}

/* The cursor a heartbeat reports under ROLES: the default set's, else the lowest, else 0. */
int
replica_cursor_report(struct replica *r, const char *roles, int64_t *cursor)
{
	sqlite3_stmt *st = NULL;
	int rc, step;

	*cursor = 0;
	if (roles == NULL)
		return TR_EINVAL;
	/* The default set first: it covers every collection the node reads. */
	if ((rc = db_prepare(r->db, "SELECT cursor FROM cursors WHERE roles = ?"
	    " ORDER BY setkey = '" REPLICA_SET_ALL "' DESC, cursor ASC"
	    " LIMIT 1", &st)) != 0)
		return rc;
	sqlite3_bind_text(st, 1, roles, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW)
		*cursor = sqlite3_column_int64(st, 0);
	else if (step != SQLITE_DONE)
		rc = replica_step_err(r, "reading the cursors");
	sqlite3_finalize(st);
	return rc;
}

/* Empty the collections of SET (inside a transaction). */
static int
replica_wipe(struct replica *r, const char *set,
    const char *const *collections, size_t nc)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (strcmp(set, REPLICA_SET_ALL) == 0)
		return db_exec(r->db, "DELETE FROM records");
	for (size_t i = 0; i < nc; i++) {
		if ((rc = db_prepare(r->db, "DELETE FROM records"
		    " WHERE collection = ?", &st)) != 0)
			return rc;
		sqlite3_bind_text(st, 1, collections[i], -1, SQLITE_STATIC);
		rc = replica_step_done(r, st, "emptying a collection");
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* Store SET's cursor (inside a transaction). */
static int
replica_cursor_put(struct replica *r, const char *set, const char *roles,
    int64_t cursor)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = db_prepare(r->db, "INSERT INTO cursors (setkey, cursor,"
	    " roles, updated_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (setkey)"
	    " DO UPDATE SET cursor = excluded.cursor, roles = excluded.roles,"
	    " updated_at = excluded.updated_at", &st)) != 0)
		return rc;
	sqlite3_bind_text(st, 1, set, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, cursor);
	sqlite3_bind_text(st, 3, roles, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, msg_now_ms());
	return replica_step_done(r, st, "storing a cursor");
}

/* Write REC into records unless the one held is newer (inside a transaction). */
static int
replica_rec_store(struct replica *r, const struct replica_rec *rec)
{
	sqlite3_stmt *st;
	int rc = 0;

	/* Prepared once per replica: preparing it per record cost as much as the insert. */
	if (r->store == NULL && sqlite3_prepare_v3(r->db, "INSERT INTO records "
	    "(collection, id, " REPLICA_REC_COLS ") VALUES (?1, ?2, ?3, ?4, ?5,"
	    " ?6, ?7, ?8, ?9, ?10, ?11) ON CONFLICT (collection, id) DO UPDATE"
	    " SET version = excluded.version, deleted = excluded.deleted,"
	    " modified_at = excluded.modified_at, origin = excluded.origin,"
	    " data = excluded.data, file_sha256 = excluded.file_sha256,"
	    " file_size = excluded.file_size, file_name = excluded.file_name,"
	    " seq = excluded.seq WHERE excluded.seq >= records.seq", -1,
	    SQLITE_PREPARE_PERSISTENT, &r->store, NULL) != SQLITE_OK)
		return replica_step_err(r, "preparing the record upsert");
	st = r->store;
	sqlite3_bind_text(st, 1, rec->collection, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, rec->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, rec->version);
	sqlite3_bind_int(st, 4, rec->deleted ? 1 : 0);
	sqlite3_bind_int64(st, 5, rec->modified_at);
	sqlite3_bind_text(st, 6, rec->origin, -1, SQLITE_STATIC);
	if (rec->data != NULL && !rec->deleted)
		sqlite3_bind_text(st, 7, rec->data, -1, SQLITE_STATIC);
	if (rec->has_file) {
		sqlite3_bind_text(st, 8, rec->file_sha256, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 9, rec->file_size);
		sqlite3_bind_text(st, 10, rec->file_name != NULL ?
		    rec->file_name : "", -1, SQLITE_STATIC);
	}
	sqlite3_bind_int64(st, 11, rec->seq);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = replica_step_err(r, "storing a record");
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

/* Apply one pulled batch with its cursor in one transaction. */
int
replica_pull_batch(struct replica *r, const char *set, const char *roles,
    const char *const *collections, size_t nc, int wipe,
    const struct replica_rec *recs, size_t n, int64_t last_seq)
{
	int rc;

	if (set == NULL || roles == NULL || (n > 0 && recs == NULL) ||
	    last_seq < 0)
		return TR_EINVAL;
	if ((rc = db_begin(r->db)) != 0)
		return rc;
	if (wipe && (rc = replica_wipe(r, set, collections, nc)) != 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		if ((rc = replica_rec_store(r, &recs[i])) != 0)
			goto out;
	if ((rc = replica_cursor_put(r, set, roles, last_seq)) != 0)
		goto out;
	rc = db_commit(r->db);
out:
	if (rc != 0)
		db_rollback(r->db);
	return rc;
}

/* Set meta KEY (inside or outside a transaction). */
static int
replica_meta_put(struct replica *r, const char *key, const char *value)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (value == NULL)
		rc = db_prepare(r->db, "DELETE FROM meta WHERE key = ?1", &st);
	else
		rc = db_prepare(r->db, "INSERT INTO meta (key, value) VALUES"
		    " (?1, ?2) ON CONFLICT (key) DO UPDATE SET"
		    " value = excluded.value", &st);
	if (rc != 0)
		return rc;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (value != NULL)
		sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	return replica_step_done(r, st, "writing meta");
}

/* End of a pull: the cursor and the last sync time. */
int
replica_pull_complete(struct replica *r, const char *set, const char *roles,
    const char *const *collections, size_t nc, int wipe, int64_t cursor,
    int64_t now_ms)
{
	char when[32];
	int rc;

	if (set == NULL || roles == NULL || cursor < 0)
		return TR_EINVAL;
	snprintf(when, sizeof(when), "%lld", (long long)now_ms);
	if ((rc = db_begin(r->db)) != 0)
		return rc;
	if (wipe && (rc = replica_wipe(r, set, collections, nc)) != 0)
		goto out;
	if ((rc = replica_cursor_put(r, set, roles, cursor)) != 0 ||
	    (rc = replica_meta_put(r, "last_sync", when)) != 0)
		goto out;
	rc = db_commit(r->db);
out:
	if (rc != 0)
		db_rollback(r->db);
	return rc;
}

/* Name of a result status. */
static const char *
replica_status_name(enum replica_status s)
{
	switch (s) {
	case REPLICA_APPLIED:
		return "applied";
	case REPLICA_CONFLICT:
		return "conflict";
	default:
		return "rejected";
	}
}

/* Log a conflict or rejection (inside a transaction). */
static int
replica_log_add(struct replica *r, const struct replica_change *chg,
    const struct replica_result *res, int64_t now_ms)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = db_prepare(r->db, "INSERT INTO sync_log (at, collection, id,"
	    " status, reason, conflict_id, version) VALUES (?, ?, ?, ?, ?, ?,"
	    " ?)", &st)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, now_ms);
	sqlite3_bind_text(st, 2, chg->collection, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, chg->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, replica_status_name(res->status), -1,
	    SQLITE_STATIC);
	if (res->reason[0] != '\0')
		sqlite3_bind_text(st, 5, res->reason, -1, SQLITE_STATIC);
	if (res->conflict_id[0] != '\0')
		sqlite3_bind_text(st, 6, res->conflict_id, -1, SQLITE_STATIC);
	if (res->status != REPLICA_REJECTED)
		sqlite3_bind_int64(st, 7, res->version);
	if ((rc = replica_step_done(r, st, "logging a conflict")) != 0)
		return rc;
	if ((rc = db_prepare(r->db, "DELETE FROM sync_log WHERE n <= (SELECT"
	    " max(n) FROM sync_log) - ?", &st)) != 0)
		return rc;
	sqlite3_bind_int(st, 1, REPLICA_LOG_KEEP);
	return replica_step_done(r, st, "trimming the log");
}

/* Process one result (inside a transaction). */
static int
replica_ack_one(struct replica *r, const struct replica_change *chg,
    const struct replica_result *res, int64_t now_ms)
{
	sqlite3_stmt *st = NULL;
	struct replica_rec rec;
	int rc, step, queued = 0, same = 0;

	if ((rc = db_prepare(r->db, "SELECT rev FROM pending WHERE"
	    " collection = ? AND id = ?", &st)) != 0)
		return rc;
	sqlite3_bind_text(st, 1, chg->collection, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, chg->id, -1, SQLITE_STATIC);
	if ((step = sqlite3_step(st)) == SQLITE_ROW) {
		queued = 1;
		same = sqlite3_column_int64(st, 0) == chg->rev;
	} else if (step != SQLITE_DONE)
		rc = replica_step_err(r, "reading the queue");
	sqlite3_finalize(st);
	st = NULL;
	if (rc != 0)
		return rc;

	if (res->status == REPLICA_APPLIED) {
		memset(&rec, 0, sizeof(rec));
		snprintf(rec.collection, sizeof(rec.collection), "%s",
		    chg->collection);
		rec.id = chg->id;
		rec.version = res->version;
		rec.deleted = chg->deleted;
		rec.modified_at = chg->modified_at;
		snprintf(rec.origin, sizeof(rec.origin), "%s", r->node_id);
		rec.data = chg->data;
		rec.seq = res->seq;
		if (chg->has_file && !chg->deleted) {
			rec.has_file = 1;
			memcpy(rec.file_sha256, chg->file_sha256,
			    sizeof(rec.file_sha256));
			rec.file_size = chg->file_size;
			rec.file_name = chg->file_name;
		}
		if ((rc = replica_rec_store(r, &rec)) != 0)
			return rc;
	} else if ((rc = replica_log_add(r, chg, res, now_ms)) != 0)
		return rc;

	if (!queued)
		return 0;
	if (same)
		rc = db_prepare(r->db, "DELETE FROM pending WHERE"
		    " collection = ?1 AND id = ?2", &st);
	else if (res->status == REPLICA_APPLIED)
		/* Changed again since: it now builds on the applied version. */
		rc = db_prepare(r->db, "UPDATE pending SET base_version = ?3"
		    " WHERE collection = ?1 AND id = ?2", &st);
	else
		return 0;
	if (rc != 0)
		return rc;
	sqlite3_bind_text(st, 1, chg->collection, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, chg->id, -1, SQLITE_STATIC);
	if (!same)
		sqlite3_bind_int64(st, 3, res->version);
	return replica_step_done(r, st, "updating the queue");
}

/* Process the hub's results for one pushed batch in one transaction. */
int
replica_push_ack(struct replica *r, const struct replica_change *chg,
    const struct replica_result *res, size_t n, int64_t now_ms)
{
	int rc;

	if (n > 0 && (chg == NULL || res == NULL))
		return TR_EINVAL;
	if ((rc = db_begin(r->db)) != 0)
		return rc;
	for (size_t i = 0; i < n; i++)
		if ((rc = replica_ack_one(r, &chg[i], &res[i], now_ms)) != 0)
			goto out;
	rc = db_commit(r->db);
out:
	if (rc != 0)
		db_rollback(r->db);
	return rc;
}

/* Set meta KEY to VALUE (NULL deletes it). */
int
replica_meta_set(struct replica *r, const char *key, const char *value)
{
	if (key == NULL)
		return TR_EINVAL;
	return replica_meta_put(r, key, value);
}

/* Meta KEY into *VALUE. */
int
replica_meta_get(struct replica *r, const char *key, char **value)
{
	sqlite3_stmt *st = NULL;
	int rc, step;

	*value = NULL;
	if (key == NULL)
		return TR_EINVAL;
	if ((rc = db_prepare(r->db, "SELECT value FROM meta WHERE key = ?",
	    &st)) != 0)
		return rc;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if ((step = sqlite3_step(st)) == SQLITE_ROW)
		rc = replica_col_dup(st, 0, value);
	else if (step == SQLITE_DONE)
		rc = TR_ENOTFOUND;
	else
		rc = replica_step_err(r, "reading meta");
	sqlite3_finalize(st);
	return rc;
}

/* Every stored cursor as {set: cursor}. */
int
replica_cursors_json(struct replica *r, json_object **out)
{
	sqlite3_stmt *st = NULL;
	json_object *o = NULL, *v;
	int rc, step;

	*out = NULL;
	if ((rc = db_prepare(r->db, "SELECT setkey, cursor FROM cursors"
	    " ORDER BY setkey", &st)) != 0)
		return rc;
	if ((o = json_object_new_object()) == NULL) {
		rc = TR_ENOMEM;
		goto out;
	}
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		v = json_object_new_int64(sqlite3_column_int64(st, 1));
		if (v == NULL || json_object_object_add(o,
		    (const char *)sqlite3_column_text(st, 0), v) != 0) {
			json_object_put(v);
			rc = TR_ENOMEM;
			goto out;
		}
	}
	if (step != SQLITE_DONE) {
		rc = replica_step_err(r, "reading cursors");
		goto out;
	}
	*out = o;
	o = NULL;
out:
	json_object_put(o);
	sqlite3_finalize(st);
	return rc;
}

/* Add column I of ST to O as KEY: a string, or null. */
static int
replica_add_col_str(json_object *o, const char *key, sqlite3_stmt *st, int i)
{
	json_object *v = NULL;

	if (sqlite3_column_type(st, i) != SQLITE_NULL &&
	    (v = json_object_new_string((const char *)
	    sqlite3_column_text(st, i))) == NULL)
		return TR_ENOMEM;
	return json_object_object_add(o, key, v) != 0 ? TR_ENOMEM : 0;
}

/* The conflict and rejection log as a JSON array. */
int
replica_log_json(struct replica *r, json_object **out)
{
	sqlite3_stmt *st = NULL;
	json_object *arr = NULL, *o = NULL;
	char when[32];
	int rc, step;

	*out = NULL;
	if ((rc = db_prepare(r->db, "SELECT at, collection, id, status,"
	    " reason, conflict_id, version FROM sync_log ORDER BY n",
	    &st)) != 0)
		return rc;
	if ((arr = json_object_new_array()) == NULL) {
		rc = TR_ENOMEM;
		goto out;
	}
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if ((o = json_object_new_object()) == NULL) {
			rc = TR_ENOMEM;
			goto out;
		}
		msg_format_time(sqlite3_column_int64(st, 0), when,
		    sizeof(when));
		json_object_object_add(o, "at", json_object_new_string(when));
		if ((rc = replica_add_col_str(o, "collection", st, 1)) != 0 ||
		    (rc = replica_add_col_str(o, "id", st, 2)) != 0 ||
		    (rc = replica_add_col_str(o, "status", st, 3)) != 0 ||
		    (rc = replica_add_col_str(o, "reason", st, 4)) != 0 ||
		    (rc = replica_add_col_str(o, "conflict_id", st, 5)) != 0)
			goto out;
		json_object_object_add(o, "version",
		    sqlite3_column_type(st, 6) == SQLITE_NULL ? NULL :
		    json_object_new_int64(sqlite3_column_int64(st, 6)));
		if (json_object_array_add(arr, o) != 0) {
			rc = TR_ENOMEM;
			goto out;
		}
		o = NULL;
	}
	if (step != SQLITE_DONE) {
		rc = replica_step_err(r, "reading the log");
		goto out;
	}
	*out = arr;
	arr = NULL;
	rc = 0;
out:
	json_object_put(o);
	json_object_put(arr);
	sqlite3_finalize(st);
	return rc;
}

/* Read the "file" member of a wire record into REC. */
static int
replica_file_from_json(json_object *obj, struct replica_rec *rec,
    const char **why)
{
	json_object *file;
	const char *s;
	int64_t size;
	size_t len;
	int rc;

	rc = msg_get_obj(obj, "file", &file);
	if (rc == TR_ENOTFOUND)
		return 0;
	*why = "file must be an object or null";
	if (rc != 0)
		return TR_EINVAL;
	*why = "file.sha256 must be 64 lowercase hex digits";
	if (msg_get_str(file, "sha256", &s) != 0 ||
	    !hex_valid(s, strlen(s), TR_HASH_LEN))
		return TR_EINVAL;
	snprintf(rec->file_sha256, sizeof(rec->file_sha256), "%s", s);
	*why = "file.size must be a non-negative integer";
	if (msg_get_int(file, "size", &size) != 0 || size < 0)
		return TR_EINVAL;
	rec->file_size = size;
	*why = "file.name must be a string";
	if (msg_get_strlen(file, "name", &s, &len) != 0)
		return TR_EINVAL;
	if ((rec->file_name = malloc(len + 1)) == NULL)
		return TR_ENOMEM;
	/*
	 * A C string cannot hold a NUL: it is kept as 0x7f, which the name
	 * check refuses as well, rather than cut the name short.
	 */
	for (size_t i = 0; i < len; i++)
		rec->file_name[i] = s[i] != '\0' ? s[i] : 0x7f;
	rec->file_name[len] = '\0';
	rec->has_file = 1;
	return 0;
}

/* Read a wire record into REC. */
int
replica_rec_from_json(json_object *obj, struct replica_rec *rec,
    const char **why)
{
	json_object *data;
	const char *s;
	size_t len;
	int rc;

	memset(rec, 0, sizeof(*rec));
	*why = "record must be an object";
	if (!json_object_is_type(obj, json_type_object))
		return TR_EINVAL;
	*why = "collection must be 1-64 characters of [a-z0-9_.-]";
	if (msg_get_str(obj, "collection", &s) != 0 ||
	    !msg_valid_collection(s))
		goto bad;
	snprintf(rec->collection, sizeof(rec->collection), "%s", s);
	*why = "id must be 1-256 bytes of UTF-8 without NUL";
	if (msg_get_strlen(obj, "id", &s, &len) != 0 ||
	    !msg_valid_record_id(s, len))
		goto bad;
	if ((rec->id = strdup(s)) == NULL) {
		rc = TR_ENOMEM;
		goto fail;
	}
	*why = "version must be a positive integer";
	if (msg_get_int(obj, "version", &rec->version) != 0 ||
	    rec->version < 1)
		goto bad;
	*why = "deleted must be a boolean";
	if (msg_get_bool(obj, "deleted", &rec->deleted) != 0)
		goto bad;
	*why = "modified_at must be a timestamp";
	if (msg_get_str(obj, "modified_at", &s) != 0 ||
	    msg_parse_time(s, &rec->modified_at) != 0)
		goto bad;
	*why = "origin must be a node or hub id";
	if (msg_get_str(obj, "origin", &s) != 0 || !msg_valid_id(s))
		goto bad;
	snprintf(rec->origin, sizeof(rec->origin), "%s", s);
	*why = "seq must be a positive integer";
	if (msg_get_int(obj, "seq", &rec->seq) != 0 || rec->seq < 1)
		goto bad;
	rc = msg_get_obj(obj, "data", &data);
	if (rec->deleted) {
		*why = "data must be null when deleted";
		if (rc != TR_ENOTFOUND)
			goto bad;
	} else {
		*why = "data must be an object";
		if (rc != 0)
			goto bad;
		if ((rc = jcs_serialize(data, &rec->data, NULL)) != 0) {
			if (rc != TR_ENOMEM)
				goto bad;
			goto fail;
		}
	}
	if ((rc = replica_file_from_json(obj, rec, why)) != 0)
		goto fail;
	*why = NULL;
	return 0;
bad:
	rc = TR_EINVAL;
fail:
	replica_rec_free(rec);
	return rc;
}

/* Parse canonical data text into a JSON value (NULL text: null). */
static int
replica_data_value(const char *data, json_object **out)
{
	*out = NULL;
	if (data == NULL)
		return 0;
	return jcs_parse(data, strlen(data), out);
}

/* The wire form of REC. */
json_object *
replica_rec_json(const struct replica_rec *rec)
{
	json_object *o = json_object_new_object(), *data = NULL, *file = NULL;
	char when[32];

	if (o == NULL || rec->id == NULL)
		goto fail;
	if (!rec->deleted && replica_data_value(rec->data, &data) != 0)
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
	msg_format_time(rec->modified_at, when, sizeof(when));
	json_object_object_add(o, "collection",
	    json_object_new_string(rec->collection));
	json_object_object_add(o, "id", json_object_new_string(rec->id));
	json_object_object_add(o, "version",
	    json_object_new_int64(rec->version));
	json_object_object_add(o, "deleted",
	    json_object_new_boolean(rec->deleted));
	json_object_object_add(o, "modified_at", json_object_new_string(when));
	json_object_object_add(o, "origin",
	    json_object_new_string(rec->origin));
	json_object_object_add(o, "data", data);
	data = NULL;
	json_object_object_add(o, "file", file);
	file = NULL;
	json_object_object_add(o, "seq", json_object_new_int64(rec->seq));
	return o;
fail:
	json_object_put(data);
	json_object_put(file);
	json_object_put(o);
	return NULL;
}

/* The push form of CHG. */
json_object *
replica_change_json(const struct replica_change *chg)
{
	json_object *o = json_object_new_object(), *data = NULL, *file = NULL;
	char when[32];

	if (o == NULL || chg->id == NULL)
		goto fail;
	if (!chg->deleted && (chg->data == NULL ||
	    replica_data_value(chg->data, &data) != 0))
		goto fail;
	msg_format_time(chg->modified_at, when, sizeof(when));
	json_object_object_add(o, "collection",
	    json_object_new_string(chg->collection));
	json_object_object_add(o, "id", json_object_new_string(chg->id));
	json_object_object_add(o, "base_version",
	    json_object_new_int64(chg->base_version));
	json_object_object_add(o, "deleted",
	    json_object_new_boolean(chg->deleted));
	json_object_object_add(o, "modified_at", json_object_new_string(when));
	json_object_object_add(o, "data", data);
	data = NULL;
	if (chg->has_file && !chg->deleted) {
		if ((file = json_object_new_object()) == NULL)
			goto fail;
		json_object_object_add(file, "sha256",
		    json_object_new_string(chg->file_sha256));
		json_object_object_add(file, "size",
		    json_object_new_int64(chg->file_size));
		json_object_object_add(file, "name", json_object_new_string(
		    chg->file_name != NULL ? chg->file_name : ""));
	}
	json_object_object_add(o, "file", file);
	return o;
fail:
	json_object_put(data);
	json_object_put(o);
	return NULL;
}

/* Free what REC owns. */
void
replica_rec_free(struct replica_rec *rec)
{
	if (rec == NULL)
		return;
	free(rec->id);
	free(rec->data);
	free(rec->file_name);
	rec->id = NULL;
	rec->data = NULL;
	rec->file_name = NULL;
}
