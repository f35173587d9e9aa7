/* The hub's SQLite database: schema, hub identity, enrolled nodes. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "err.h"
#include "hubdb.h"
#include "journal.h"
#include "kdf.h"
#include "log.h"
#include "statedir.h"

/* Schema step 0 -> 1: identity and enrolled nodes. */
static const char hubdb_step_nodes[] =
	"CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE nodes ("
	" node_id TEXT PRIMARY KEY,"
	" name TEXT NOT NULL DEFAULT '',"
	" roles TEXT NOT NULL,"
	" method TEXT NOT NULL CHECK (method IN ('psk', 'certificate')),"
	" node_key BLOB,"
	" cert_sha256 TEXT,"
	" revoked INTEGER NOT NULL DEFAULT 0,"
	" enrolled_ms INTEGER NOT NULL,"
	" last_seen_ms INTEGER NOT NULL DEFAULT 0,"
	" address TEXT NOT NULL DEFAULT '',"
	" last_sync_ms INTEGER NOT NULL DEFAULT 0);";

/*
 * Schema step 2 -> 3: who uploaded which blob (a node may fetch back what
 * it uploaded), and records found by the file they name.  The blob files
 * themselves stay the truth for existence.
 */
static const char hubdb_step_blobs[] =
	"CREATE TABLE blob_uploads ("
	" sha256 TEXT NOT NULL,"
	" node_id TEXT NOT NULL,"
	" size INTEGER NOT NULL,"
	" uploaded_ms INTEGER NOT NULL,"
	" PRIMARY KEY (sha256, node_id));"
	"CREATE INDEX records_file ON records (file_sha256) "
	" WHERE file_sha256 IS NOT NULL;";

/* Open DIR/hub.db, migrating it to the current schema. */
int
hubdb_open(const char *dir, int create, sqlite3 **db)
{
	/* Schema steps: step i moves the database from version i to i+1. */
	const char *const steps[] = {
		hubdb_step_nodes,	/* 0 -> 1 */
		journal_schema,		/* 1 -> 2: the record journal */
		hubdb_step_blobs,	/* 2 -> 3: blob uploads */
	};
	char path[4096];
	int rc;

	*db = NULL;
	if ((rc = statedir_path(dir, STATEDIR_DB, path, sizeof(path))) != 0)
		return rc;
	if ((rc = db_open(path, create, db)) != 0)
		return rc;
	rc = db_migrate(*db, steps, (int)(sizeof(steps) / sizeof(steps[0])));
	if (rc != 0) {
		db_close(*db);
		*db = NULL;
	}
	return rc;
}

/* Read meta KEY into OUT. */
int
hubdb_meta_get(sqlite3 *db, const char *key, char *out, size_t len)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = db_prepare(db, "SELECT value FROM meta WHERE key = ?",
	    &st)) != 0)
		return rc;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		snprintf(out, len, "%s", (const char *)sqlite3_column_text(st, 0));
		rc = 0;
		break;
	case SQLITE_DONE:
		rc = TR_ENOTFOUND;
		break;
	default:
		log_err("database: reading %s: %s", key, sqlite3_errmsg(db));
		rc = TR_EDB;
	}
	sqlite3_finalize(st);
	return rc;
}

/* Write meta KEY. */
int
hubdb_meta_set(sqlite3 *db, const char *key, const char *value)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = db_prepare(db, "INSERT OR REPLACE INTO meta (key, value) "
	    "VALUES (?, ?)", &st)) != 0)
		return rc;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : TR_EDB;
	if (rc != 0)
		log_err("database: writing %s: %s", key, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return rc;
}

/* Split a space-separated role list into NODE. */
static void
hubdb_parse_roles(struct hubdb_node *node, const char *text)
{
	char buf[CONF_MAX_ROLES * (CONF_ROLE_MAX + 1) + 1], *save = NULL, *tok;

	snprintf(buf, sizeof(buf), "%s", text != NULL ? text : "");
	node->nroles = 0;
	for (tok = strtok_r(buf, " ", &save); tok != NULL &&
	    node->nroles < CONF_MAX_ROLES; tok = strtok_r(NULL, " ", &save))
		snprintf(node->roles[node->nroles++], CONF_ROLE_MAX + 1, "%s",
		    tok);
}

/* Fill NODE from the current row of ST (columns of HUBDB_NODE_COLS). */
static void
hubdb_row(sqlite3_stmt *st, struct hubdb_node *node)
{
	const void *key;

	memset(node, 0, sizeof(*node));
	snprintf(node->node_id, sizeof(node->node_id), "%s",
	    (const char *)sqlite3_column_text(st, 0));
	snprintf(node->name, sizeof(node->name), "%s",
	    (const char *)sqlite3_column_text(st, 1));
	hubdb_parse_roles(node, (const char *)sqlite3_column_text(st, 2));
	node->method = strcmp((const char *)sqlite3_column_text(st, 3),
	    "certificate") == 0 ? HUB_METHOD_CERT : HUB_METHOD_PSK;
	key = sqlite3_column_blob(st, 4);
	if (key != NULL && sqlite3_column_bytes(st, 4) == TR_KEY_LEN)
		memcpy(node->node_key, key, TR_KEY_LEN);
	if (sqlite3_column_type(st, 5) == SQLITE_TEXT)
		snprintf(node->cert_sha256, sizeof(node->cert_sha256), "%s",
		    (const char *)sqlite3_column_text(st, 5));
	node->revoked = sqlite3_column_int(st, 6);
	node->enrolled_ms = sqlite3_column_int64(st, 7);
	node->last_seen_ms = sqlite3_column_int64(st, 8);
	snprintf(node->address, sizeof(node->address), "%s",
	    (const char *)sqlite3_column_text(st, 9));
	node->last_sync_ms = sqlite3_column_int64(st, 10);
}

#define HUBDB_NODE_COLS "node_id, name, roles, method, node_key, cert_sha256, " \
	"revoked, enrolled_ms, last_seen_ms, address, last_sync_ms"

/* One node by id. */
int
hubdb_node_get(sqlite3 *db, const char *node_id, struct hubdb_node *out)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = db_prepare(db, "SELECT " HUBDB_NODE_COLS
	    " FROM nodes WHERE node_id = ?", &st)) != 0)
		return rc;
	sqlite3_bind_text(st, 1, node_id, -1, SQLITE_STATIC);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		hubdb_row(st, out);
		rc = 0;
		break;
	case SQLITE_DONE:
		rc = TR_ENOTFOUND;
		break;
	default:
		log_err("database: reading node: %s", sqlite3_errmsg(db));
		rc = TR_EDB;
	}
	sqlite3_finalize(st);
	return rc;
}

/* Enroll NODE. */
int
hubdb_node_add(sqlite3 *db, const struct hubdb_node *node)
{
	char roles[CONF_MAX_ROLES * (CONF_ROLE_MAX + 1) + 1] = "";
	sqlite3_stmt *st = NULL;
	int rc;

	for (int i = 0; i < node->nroles; i++) {
		if (i > 0)
			strcat(roles, " ");
		strcat(roles, node->roles[i]);
	}
	if ((rc = db_prepare(db, "INSERT INTO nodes (node_id, name, roles, "
	    "method, node_key, cert_sha256, enrolled_ms) VALUES "
	    "(?, ?, ?, ?, ?, ?, ?)", &st)) != 0)
		return rc;
	sqlite3_bind_text(st, 1, node->node_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, node->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, roles, -1, SQLITE_STATIC);
	if (node->method == HUB_METHOD_CERT) {
		sqlite3_bind_text(st, 4, "certificate", -1, SQLITE_STATIC);
		sqlite3_bind_null(st, 5);
		sqlite3_bind_text(st, 6, node->cert_sha256, -1, SQLITE_STATIC);
	} else {
		sqlite3_bind_text(st, 4, "psk", -1, SQLITE_STATIC);
		sqlite3_bind_blob(st, 5, node->node_key, TR_KEY_LEN,
		    SQLITE_STATIC);
		sqlite3_bind_null(st, 6);
	}
	sqlite3_bind_int64(st, 7, node->enrolled_ms);
	/* Extended result codes are on: compare the primary code. */
	switch (sqlite3_step(st) & 0xff) {
	case SQLITE_DONE:
		rc = 0;
		break;
	case SQLITE_CONSTRAINT:
		rc = TR_EEXIST;
		break;
	default:
		log_err("database: enrolling %s: %s", node->node_id,
		    sqlite3_errmsg(db));
		rc = TR_EDB;
	}
	sqlite3_finalize(st);
	return rc;
}

/* Run a one-row UPDATE of NODE_ID; TR_ENOTFOUND when no row changed. */
static int
hubdb_update(sqlite3 *db, sqlite3_stmt *st)
{
	int rc;

	if (sqlite3_step(st) != SQLITE_DONE) {
		log_err("database: updating node: %s", sqlite3_errmsg(db));
		rc = TR_EDB;
	} else
		rc = sqlite3_changes(db) > 0 ? 0 : TR_ENOTFOUND;
	sqlite3_finalize(st);
	return rc;
}

/* Mark NODE_ID revoked. */
int
hubdb_node_revoke(sqlite3 *db, const char *node_id)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = db_prepare(db, "UPDATE nodes SET revoked = 1 "
	    "WHERE node_id = ?", &st)) != 0)
		return rc;
	sqlite3_bind_text(st, 1, node_id, -1, SQLITE_STATIC);
	return hubdb_update(db, st);
}

/* Record a login or heartbeat of NODE_ID. */
int
hubdb_node_seen(sqlite3 *db, const char *node_id, const char *address,
    int64_t ms)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = db_prepare(db, "UPDATE nodes SET last_seen_ms = ?, "
	    "address = ? WHERE node_id = ?", &st)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, ms);
	sqlite3_bind_text(st, 2, address != NULL ? address : "", -1,
	    SQLITE_STATIC);
	sqlite3_bind_text(st, 3, node_id, -1, SQLITE_STATIC);
	return hubdb_update(db, st);
}

/* Record a completed pull of NODE_ID at MS. */
int
hubdb_node_synced(sqlite3 *db, const char *node_id, int64_t ms)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = db_prepare(db, "UPDATE nodes SET last_sync_ms = ? "
	    "WHERE node_id = ?", &st)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, ms);
	sqlite3_bind_text(st, 2, node_id, -1, SQLITE_STATIC);
	return hubdb_update(db, st);
}

/* Record that NODE_ID uploaded blob SHA256 of SIZE bytes at MS. */
int
hubdb_upload_add(sqlite3 *db, const char *sha256, const char *node_id,
    int64_t size, int64_t ms)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = db_prepare(db, "INSERT INTO blob_uploads (sha256, node_id, "
	    "size, uploaded_ms) VALUES (?, ?, ?, ?) ON CONFLICT (sha256, "
	    "node_id) DO UPDATE SET uploaded_ms = excluded.uploaded_ms",
	    &st)) != 0)
		return rc;
	sqlite3_bind_text(st, 1, sha256, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, node_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, size);
	sqlite3_bind_int64(st, 4, ms);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : TR_EDB;
	sqlite3_finalize(st);
	return rc;
}

/* Non-zero when NODE_ID uploaded blob SHA256. */
int
hubdb_upload_by(sqlite3 *db, const char *sha256, const char *node_id)
{
	sqlite3_stmt *st = NULL;
	int found;

	if (db_prepare(db, "SELECT 1 FROM blob_uploads WHERE sha256 = ? AND "
	    "node_id = ?", &st) != 0)
		return 0;
	sqlite3_bind_text(st, 1, sha256, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, node_id, -1, SQLITE_STATIC);
	found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return found;
}

/* All nodes ordered by id. */
int
hubdb_node_list(sqlite3 *db, struct hubdb_node **out, size_t *n)
{
	struct hubdb_node *arr = NULL, *tmp;
	size_t count = 0, cap = 0;
	sqlite3_stmt *st = NULL;
	int rc, step;

	*out = NULL;
	*n = 0;
	if ((rc = db_prepare(db, "SELECT " HUBDB_NODE_COLS
	    " FROM nodes ORDER BY node_id", &st)) != 0)
		return rc;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if (count == cap) {
			cap = cap > 0 ? cap * 2 : 16;
			if ((tmp = realloc(arr, cap * sizeof(*arr))) == NULL) {
				rc = TR_ENOMEM;
				goto out;
			}
			arr = tmp;
		}
		hubdb_row(st, &arr[count++]);
	}
	if (step != SQLITE_DONE) {
		log_err("database: listing nodes: %s", sqlite3_errmsg(db));
		rc = TR_EDB;
		goto out;
	}
	*out = arr;
	*n = count;
	arr = NULL;
out:
	hubdb_nodes_free(arr, count);
	sqlite3_finalize(st);
	return rc;
}

/* Free a node list, zeroizing keys. */
void
hubdb_nodes_free(struct hubdb_node *nodes, size_t n)
{
	if (nodes == NULL)
		return;
	kdf_cleanse(nodes, n * sizeof(*nodes));
	free(nodes);
}

/* Non-zero when NODE has ROLE. */
int
hubdb_node_has_role(const struct hubdb_node *node, const char *role)
{
	for (int i = 0; i < node->nroles; i++)
		if (strcmp(node->roles[i], role) == 0)
			return 1;
	return 0;
}
