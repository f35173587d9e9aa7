/* The hub's record journal: the current state of every record, a global seq, tombstones and their retention. */
#ifndef TROSYN_JOURNAL_H
#define TROSYN_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>
#include <sqlite3.h>

#include "conf.h"
#include "trosyn-protocol.h"

/*
 * Storage (hub.db, schema step 2): one row per (collection, id) holding the
 * record's current state and the seq of its latest change; a delete keeps
 * the row as a tombstone.  The journal head (the highest seq ever assigned)
 * and the tombstone floor (the highest seq of a purged tombstone) live in
 * the one-row journal_state table.  A pull from since < floor cannot be answered
 * incrementally and gets reset: true.
 *
 * Every write function must run inside a transaction the caller opened
 * (db_begin) on its own connection; seq values are assigned in commit order
 * because SQLite admits one writer at a time (BEGIN IMMEDIATE).
 */

/* A record as in PROTOCOL.md section 7. */
struct jrec {
	char collection[TR_ID_MAX + 1];
	char *id;			/* malloc'd, 1-256 bytes of UTF-8 */
	int64_t version;
	int deleted;
	int64_t modified_at;		/* ms since the epoch */
	char origin[TR_ID_MAX + 1];
	char *data;			/* malloc'd canonical JSON object text; NULL when deleted */
	int has_file;
	char file_sha256[2 * TR_HASH_LEN + 1];
	int64_t file_size;
	char *file_name;		/* malloc'd */
	int64_t seq;
};

/* Reasons of a rejected change (PROTOCOL.md section 7, push step 3). */
#define JOURNAL_MISSING_FILE	"missing_file"
#define JOURNAL_INVALID_RECORD	"invalid_record"
#define JOURNAL_NOT_WRITABLE	"not_writable"
#define JOURNAL_TOO_LARGE	"too_large"

/* Longest file name of a record, in bytes of UTF-8. */
#define JOURNAL_FILE_NAME_MAX	255

/* A change to apply: pushed by a node or written by the administrator. */
struct jchange {
	const char *collection;
	const char *id;
	int64_t base_version;		/* version the writer last saw; 0 = new */
	int deleted;
	int64_t modified_at;		/* ms */
	const char *origin;		/* authenticated node_id, or the hub_id */
	const char *data;		/* canonical JSON object text, NULL when deleted */
	int has_file;
	const char *file_sha256;
	int64_t file_size;
	const char *file_name;
};

enum jstatus {
	J_APPLIED = 0,
	J_CONFLICT,
	J_REJECTED
};

/* The result of one change (PROTOCOL.md section 7, push step 3). */
struct jresult {
	enum jstatus status;
	int64_t version;		/* 0 when rejected */
	int64_t seq;			/* 0 when rejected */
	const char *reason;		/* static string or NULL */
	char conflict_id[TR_RECORD_ID_MAX + 1];	/* "" unless keep-both */
};

/* Non-zero when the hub holds the blob SHA256 (64 hex); ARG is the caller's. */
typedef int (*journal_blob_fn)(void *arg, const char *sha256);

/* The schema step that adds the journal to hub.db (used by hubdb_open). */
extern const char *const journal_schema;

/* Highest seq ever assigned (0 for an empty journal). */
int journal_head(sqlite3 *db, int64_t *head);

/* Highest seq of a purged tombstone (0 when none was purged). */
int journal_floor(sqlite3 *db, int64_t *floor);

/*
 * Apply CHG under POLICY (section 7): a new record gets version 1, every
 * applied change the current version + 1 and the next seq.  When
 * base_version is not the current version the policy decides; a change
 * identical to the current state by the same origin is reported applied
 * without a new version (a retried push).  A record naming a file
 * BLOB_EXISTS says the hub lacks (or BLOB_EXISTS is NULL) is rejected with
 * missing_file.  A record the hub does not hold (never written, or its
 * tombstone purged) counts as version 0 older than any write: base_version
 * 0 creates it (a delete creates a tombstone), any other base_version is
 * a conflict the policy decides (last-writer-wins applies it as version 1;
 * hub-wins and keep-both report version and seq 0).  A conflict's reason
 * is the policy's name.  Fills *RES; returns 0, or TR_EDB / TR_ENOMEM
 * (the caller rolls back).
 */
int journal_apply(sqlite3 *db, enum conf_policy policy,
    const struct jchange *chg, journal_blob_fn blob_exists, void *blob_arg,
    struct jresult *res);

/* The current state of (COLLECTION, ID), tombstones included: 0 or TR_ENOTFOUND. */
int journal_get(sqlite3 *db, const char *collection, const char *id,
    struct jrec *out);

/*
 * Call FN(ARG, rec) for up to LIMIT records (LIMIT <= 0: no limit) of the
 * N COLLECTIONS whose seq lies in (AFTER, UPTO], in seq order (N = 0 means
 * every collection).  FN returns 0 to go on, 1 to stop early, or a
 * negative code to abort with it.  *COUNT (may be NULL) gets the number of
 * records handed to FN.  REC is only valid during the call.
 */
int journal_scan(sqlite3 *db, const char *const *collections, size_t n,
    int64_t after, int64_t upto, int limit,
    int (*fn)(void *arg, const struct jrec *rec), void *arg, int *count);

/*
 * Call FN(ARG, rec) for every record of COLLECTION in id order (bytewise),
 * tombstones only when WITH_DELETED; FN as for journal_scan.
 */
int journal_list(sqlite3 *db, const char *collection, int with_deleted,
    int (*fn)(void *arg, const struct jrec *rec), void *arg);

/*
 * The keep-both copy id of ID pushed by ORIGIN on BASE_VERSION
 * ("<id>~conflict~<origin>~<base_version>") into OUT; TR_ETOOBIG when it
 * is over TR_RECORD_ID_MAX bytes.
 */
int journal_copy_id(const char *id, const char *origin, int64_t base_version,
    char *out, size_t len);

/*
 * Purge tombstones whose change is older than NOW_MS - RETAIN_S seconds
 * (by the hub's clock when the change was applied, not the writer's
 * modified_at), raising the floor to the highest purged seq.  *PURGED
 * (may be NULL) gets the count.
 */
int journal_purge(sqlite3 *db, int64_t now_ms, int64_t retain_s,
    int *purged);

/*
 * Non-zero when a live record of one of the N COLLECTIONS names the file
 * SHA256 (64 hex): what lets a node fetch a blob.
 */
int journal_file_named(sqlite3 *db, const char *sha256,
    const char *const *collections, size_t n);

/*
 * Non-zero when NAME (LEN bytes) is a file name a node accepts: 1-255
 * bytes of UTF-8 without '/', "..", NUL or control characters.
 */
int journal_valid_file_name(const char *name, size_t len);

/* Counts of live records and tombstones (either pointer may be NULL). */
int journal_count(sqlite3 *db, int64_t *live, int64_t *tombstones);

/* Free what REC owns (id, data, file_name). */
void journal_rec_free(struct jrec *rec);

/*
 * The wire form of REC (section 7: collection, id, version, deleted,
 * modified_at as a timestamp, origin, data or null, file or null, seq).
 */
json_object *journal_rec_json(const struct jrec *rec);

/*
 * Read a pushed record (section 7 push step 2) into CHG, pointing into REC
 * (which must outlive CHG); DATA_BUF gets the canonical data text
 * (malloc'd, caller frees; NULL for a delete).  Anything malformed is
 * TR_EINVAL with a short reason in *WHY (the record is then rejected
 * invalid_record): collection, id, base_version (integer >= 0), deleted
 * (boolean), modified_at (timestamp) and file (null, or sha256 of 64
 * lowercase hex, size integer >= 0 and a name of 1-255 bytes of UTF-8
 * without '/', "..", NUL or control characters, not ".") are required;
 * data must be an object, or null when deleted, and a delete names no
 * file; version, seq and origin must be absent.  Other members are
 * ignored.  TR_ENOMEM when out of memory.
 */
int journal_change_from_json(json_object *rec, const char *origin,
    struct jchange *chg, char **data_buf, const char **why);

#endif /* TROSYN_JOURNAL_H */
