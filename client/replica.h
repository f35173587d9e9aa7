/* The node's local replica: the hub's records as last pulled, per-set cursors, queued local changes. */
#ifndef TROSYN_REPLICA_H
#define TROSYN_REPLICA_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>
#include <sqlite3.h>

#include "trosyn-protocol.h"

/*
 * STATE_DIR/replica.db (WAL, synchronous=FULL) holds:
 *   records  the hub's state of every record pulled (tombstones included);
 *   cursors  one pull cursor per collection set (REPLICA_SET_ALL for the
 *            default set, else the sorted, comma-joined names) with the
 *            roles it was taken under;
 *   pending  local changes not yet acknowledged by the hub, in queue order;
 *   meta     last sync, last error, hub in use, the node the dir belongs to;
 *   sync_log the last REPLICA_LOG_KEEP conflicts and rejections.
 * Every write is one transaction: what a function changes is all there or
 * not at all.  Every function returns 0 or a negative TR_E* code.
 */

#define REPLICA_FILE		"replica.db"
#define REPLICA_SET_ALL		"*"
#define REPLICA_LOG_KEEP	100

struct replica;

/* A record in the section 7 form. */
struct replica_rec {
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
	char *file_name;		/* malloc'd; NULL without a file */
	int64_t seq;
};

/* A queued local change, as loaded for a push. */
struct replica_change {
	int64_t qorder;			/* queue position */
	int64_t rev;			/* bumped whenever the entry is replaced */
	char collection[TR_ID_MAX + 1];
	char *id;			/* malloc'd */
	int64_t base_version;		/* the replica's version when first queued; 0 = new */
	int deleted;
	char *data;			/* malloc'd canonical JSON object text; NULL when deleted */
	int64_t modified_at;		/* ms */
	int has_file;
	char file_sha256[2 * TR_HASH_LEN + 1];
	int64_t file_size;
	char *file_name;		/* malloc'd; NULL without a file */
};

enum replica_status {
	REPLICA_APPLIED = 0,
	REPLICA_CONFLICT,
	REPLICA_REJECTED
};

/* The hub's verdict on one pushed change (section 7, push step 3). */
struct replica_result {
	enum replica_status status;
	int64_t version;		/* applied: new version; conflict: hub's; rejected: 0 */
	int64_t seq;
	char reason[64];		/* "" when none */
	char conflict_id[TR_RECORD_ID_MAX + 1];	/* "" when none */
};

/*
 * Open (creating) DIR/replica.db for NODE_ID and bring its schema up to
 * date.  A replica made for another node is TR_EINVAL.
 */
int replica_open(const char *dir, const char *node_id, struct replica **out);

/* Close R (NULL is fine). */
void replica_close(struct replica *r);

/* The SQLite handle (tests). */
sqlite3 *replica_db(struct replica *r);

/* --- Local changes --- */

/*
 * Queue DATA_JSON (a JSON object, parsed strictly and stored canonically)
 * as the new data of (COLLECTION, ID) at MODIFIED_AT ms.  A new entry takes
 * the replica's current version as base_version (0 when the replica does
 * not hold the record); replacing a queued entry keeps its base_version and
 * queue position.  TR_EINVAL for a bad name, id or data.
 */
int replica_put(struct replica *r, const char *collection, const char *id,
    const char *data_json, int64_t modified_at);

/*
 * As replica_put, with the record naming the file {FILE_SHA256 (64
 * lowercase hex digits), FILE_SIZE, FILE_NAME}; FILE_SHA256 NULL means no
 * file (file: null).
 */
int replica_put_file(struct replica *r, const char *collection,
    const char *id, const char *data_json, const char *file_sha256,
    int64_t file_size, const char *file_name, int64_t modified_at);

/*
 * Queue the delete of (COLLECTION, ID).  A queued new record (base_version
 * 0) is simply dropped from the queue.  TR_ENOTFOUND when the node sees no
 * live record of that id.
 */
int replica_delete(struct replica *r, const char *collection, const char *id,
    int64_t modified_at);

/*
 * The record as the node sees it (queued change first, else the replica)
 * as a section 7 record object with "pending" added.  A queued change shows
 * base_version as version, the replica's seq (0 when new) and this node as
 * origin.  TR_ENOTFOUND when absent or deleted.
 */
int replica_get_json(struct replica *r, const char *collection,
    const char *id, json_object **out);

/*
 * Every record of COLLECTION as the node sees it, ordered by id (bytewise),
 * as a JSON array of section 7 records; tombstones only with
 * INCLUDE_DELETED.  With WITH_PENDING each record has "pending" too.
 */
int replica_list_json(struct replica *r, const char *collection,
    int include_deleted, int with_pending, json_object **out);

/* Number of queued changes. */
int replica_pending_count(struct replica *r, int64_t *count);

/* Every queued change in queue order into a malloc'd array (*N entries). */
int replica_pending_load(struct replica *r, struct replica_change **out,
    size_t *n);

/* Free an array from replica_pending_load. */
void replica_changes_free(struct replica_change *chg, size_t n);

/* --- Pull --- */

/*
 * The set key of the N COLLECTIONS: REPLICA_SET_ALL when N is 0, else the
 * sorted, de-duplicated, comma-joined names (malloc'd).  TR_EINVAL for a
 * bad name.
 */
int replica_set_key(const char *const *collections, size_t n, char **key);

/* The roles key: ROLES sorted and comma-joined (malloc'd). */
int replica_roles_key(const char *const *roles, size_t n, char **key);

/*
 * The cursor stored for SET, or 0 when none is stored or it was taken
 * under other roles than ROLES (a roles key).
 */
int replica_cursor_get(struct replica *r, const char *set, const char *roles,
    int64_t *cursor);

/*
 * The cursor a heartbeat reports, for the lag the hub computes (journal
 * head - cursor): the default set's cursor when one is stored under ROLES
 * (it covers every collection the node may read), else the lowest cursor
 * stored under ROLES (a lag never understated), else 0.
 */
int replica_cursor_report(struct replica *r, const char *roles,
    int64_t *cursor);

/*
 * Apply one pulled batch of N records in one transaction together with
 * SET's cursor = LAST_SEQ (under ROLES).  With WIPE (batch 0 of a reset or
 * of a pull from 0) the set's collections are emptied first: every
 * collection for REPLICA_SET_ALL, else the NC COLLECTIONS.  A record older
 * (by seq) than the one held is skipped.
 */
int replica_pull_batch(struct replica *r, const char *set, const char *roles,
    const char *const *collections, size_t nc, int wipe,
    const struct replica_rec *recs, size_t n, int64_t last_seq);

/*
 * End of a pull: store CURSOR for SET under ROLES and the last sync time
 * NOW_MS; with WIPE (a pull from 0 that brought nothing) empty the set's
 * collections in the same transaction.
 */
int replica_pull_complete(struct replica *r, const char *set,
    const char *roles, const char *const *collections, size_t nc, int wipe,
    int64_t cursor, int64_t now_ms);

/* --- Push --- */

/*
 * Process the hub's results RES for the N pushed changes CHG in one
 * transaction: an applied change updates the record (the pushed content,
 * the hub's version and seq, this node as origin) and leaves the queue;
 * a conflict or rejection is logged and leaves the queue (the hub's state
 * wins; the next pull brings it).  A queue entry replaced since it was
 * loaded stays queued (rebased on the applied version).
 */
int replica_push_ack(struct replica *r, const struct replica_change *chg,
    const struct replica_result *res, size_t n, int64_t now_ms);

/*
 * Every live record of the replica that names a file, in seq order, into a
 * malloc'd array *OUT of *N entries (collection, id, file_* and seq set;
 * release with replica_recs_free).
 */
int replica_files_load(struct replica *r, struct replica_rec **out,
    size_t *n);

/* Free an array from replica_files_load. */
void replica_recs_free(struct replica_rec *recs, size_t n);

/* --- Meta --- */

/* Set meta KEY to VALUE (NULL deletes it). */
int replica_meta_set(struct replica *r, const char *key, const char *value);

/* Meta KEY into *VALUE (malloc'd), or TR_ENOTFOUND. */
int replica_meta_get(struct replica *r, const char *key, char **value);

/* Every stored cursor as a JSON object {set: cursor}. */
int replica_cursors_json(struct replica *r, json_object **out);

/* The conflict and rejection log, oldest first, as a JSON array. */
int replica_log_json(struct replica *r, json_object **out);

/* --- Records --- */

/*
 * Read a wire record (section 7, as the hub sends it) into REC; anything
 * malformed is TR_EINVAL with a short reason in *WHY.
 */
int replica_rec_from_json(json_object *obj, struct replica_rec *rec,
    const char **why);

/* The wire form of REC (modified_at as a timestamp); NULL on ENOMEM. */
json_object *replica_rec_json(const struct replica_rec *rec);

/*
 * The push form of CHG: collection, id, base_version, deleted, modified_at,
 * data, file (null unless the change names one).  NULL on ENOMEM or unparseable data.
 */
json_object *replica_change_json(const struct replica_change *chg);

/* Free what REC owns. */
void replica_rec_free(struct replica_rec *rec);

#endif /* TROSYN_REPLICA_H */
