/* Hub side of sync (PROTOCOL.md section 7): pull and push on an authenticated main-channel connection. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blob.h"
#include "db.h"
#include "err.h"
#include "hubdb.h"
#include "jcs.h"
#include "journal.h"
#include "log.h"
#include "msg.h"
#include "registry.h"
#include "session.h"
#include "sync.h"
#include "thr.h"

/* Digits of the largest seq or version a record can carry (2^53 - 1). */
#define SYNC_INT_DIGITS		16
/* The longest reason of a push result. */
#define SYNC_LONGEST_REASON	"last-writer-wins"

/* Direction of a sync. */
enum sync_dir {
	SYNC_PULL = 1,
	SYNC_PUSH = 2
};

/* A collection of a sync, with its policy as configured when the sync started. */
struct sync_coll {
	char name[TR_ID_MAX + 1];
	enum conf_policy policy;
};

/* A pull batch sent and not acknowledged yet. */
struct sync_sent {
	int64_t batch;
	int64_t last_seq;
	char msg_id[TR_UUID_LEN + 1];
};

/* The running sync of one connection (hc->sync). */
struct sync_state {
	enum sync_dir dir;
	char sync_id[TR_UUID_LEN + 1];
	char request_id[TR_UUID_LEN + 1];	/* message_id of the SYNC_REQUEST */
	long long started_ms;			/* monotonic */
	struct sync_coll *colls;
	const char **names;			/* colls[i].name for journal_scan */
	size_t ncolls;
	size_t overhead;			/* sync_data_overhead() */
	int64_t batches;			/* sent (pull) or received (push) */
	int64_t records;

	/* pull */
	int64_t since;
	int64_t head;				/* journal head at request time */
	int64_t scanned;			/* highest seq put in a batch */
	int reset;
	int scan_done;
	int locked;				/* holds hub->journal_lock */
	int batch_size;
	int window;
	struct sync_sent sent[TR_MAX_WINDOW];	/* unacknowledged, oldest first */
	int nsent;

	/* push */
	int64_t applied;
	int64_t conflicts;
	int64_t rejected;
	int64_t last_seq;			/* highest seq assigned, 0 = none */
};

/* What a pull batch collects while the journal is scanned. */
struct sync_fill {
	json_object *records;
	size_t bytes;				/* bound of the encoded SYNC_DATA */
	size_t max;
	int n;
	int full;				/* the next record would not fit */
	int64_t last_seq;
};

/* Name of a direction. */
static const char *
sync_dir_name(enum sync_dir dir)
{
	return dir == SYNC_PULL ? "pull" : "push";
}

/* Milliseconds since the sync started. */
static long long
sync_elapsed(const struct sync_state *s)
{
	return thr_mono_ms() - s->started_ms;
}

/* Free HC's sync state, releasing the journal lock a pull holds. */
static void
sync_free(struct hub_conn *hc)
{
	struct sync_state *s = hc->sync;

	if (s == NULL)
		return;
	if (s->locked)
		thr_rwunlock(&hc->hub->journal_lock);
	free(s->colls);
	free(s->names);
	free(s);
	hc->sync = NULL;
}

/* End the running sync before its end, logging WHY. */
static void
sync_abort(struct hub_conn *hc, const char *why)
{
	struct sync_state *s = hc->sync;

	if (s == NULL)
		return;
	__atomic_add_fetch(&hc->hub->stats.syncs_failed, 1, __ATOMIC_RELAXED);
	if (s->dir == SYNC_PULL)
		log_info("sync pull: node %s: ended early: %s; %" PRId64
		    " records in %" PRId64 " batches, %lld ms",
		    hc->session.node_id, why, s->records, s->batches,
		    sync_elapsed(s));
	else
		log_info("sync push: node %s: ended early: %s; %" PRId64
		    " records in %" PRId64 " batches, applied %" PRId64
		    ", conflicts %" PRId64 ", rejected %" PRId64 ", %lld ms",
		    hc->session.node_id, why, s->records, s->batches,
		    s->applied, s->conflicts, s->rejected, sync_elapsed(s));
	sync_free(hc);
}

/* Answer ENV with INVALID_REQUEST and end the running sync (connection stays). */
static int
sync_invalid(struct hub_conn *hc, json_object *env, const char *why)
{
	int rc = session_error(hc, env, TR_CODE_INVALID_REQUEST, why, NULL);

	sync_abort(hc, why);
	return rc;
}

/* Answer ENV with INTERNAL_ERROR for RC and end the sync (connection closes). */
static int
sync_internal(struct hub_conn *hc, json_object *env, int rc)
{
	session_error(hc, env, TR_CODE_INTERNAL_ERROR, "internal error", NULL);
	sync_abort(hc, tr_strerror(rc));
	return rc < 0 ? rc : TR_EPROTO;
}

/* Encoded length of the longest hub envelope of TYPE around PAYLOAD (owned). */
static size_t
sync_envelope_len(const char *type, json_object *payload)
{
	char id[TR_ID_MAX + 1], name[TR_NAME_MAX + 1], sig[2 * TR_MAC_LEN + 1];
	char reply[TR_UUID_LEN + 1], *text = NULL;
	json_object *env;
	size_t len = 0;

	/* A name of control characters is the longest to encode (\u0001). */
	memset(id, 'h', TR_ID_MAX);
	id[TR_ID_MAX] = '\0';
	memset(name, 0x01, TR_NAME_MAX);
	name[TR_NAME_MAX] = '\0';
	memset(sig, '0', sizeof(sig) - 1);
	sig[sizeof(sig) - 1] = '\0';
	msg_new_uuid(reply);
	if (payload == NULL || (env = msg_new(type, id, name, reply,
	    payload)) == NULL) {
		json_object_put(payload);
		return 0;
	}
	json_object_object_add(env, "signature", json_object_new_string(sig));
	if (msg_encode(env, &text, &len) != 0)
		len = 0;
	free(text);
	json_object_put(env);
	return len;
}

/* Bound of a hub SYNC_DATA around an empty records array. */
size_t
sync_data_overhead(void)
{
	json_object *p = json_object_new_object();
	char uuid[TR_UUID_LEN + 1];

	if (p == NULL)
		return 0;
	msg_new_uuid(uuid);
	json_object_object_add(p, "sync_id", json_object_new_string(uuid));
	json_object_object_add(p, "batch",
	    json_object_new_int64(TR_JSON_INT_MAX));
	json_object_object_add(p, "records", json_object_new_array());
	json_object_object_add(p, "last_seq",
	    json_object_new_int64(TR_JSON_INT_MAX));
	json_object_object_add(p, "reset", json_object_new_boolean(0));
	return sync_envelope_len(TR_MSG_SYNC_DATA, p);
}

/* Bound of a hub SYNC_ACK around an empty results array. */
static size_t
sync_ack_overhead(void)
{
	json_object *p = json_object_new_object();
	char uuid[TR_UUID_LEN + 1];

	if (p == NULL)
		return 0;
	msg_new_uuid(uuid);
	json_object_object_add(p, "sync_id", json_object_new_string(uuid));
	json_object_object_add(p, "batch",
	    json_object_new_int64(TR_JSON_INT_MAX));
	json_object_object_add(p, "results", json_object_new_array());
	return sync_envelope_len(TR_MSG_SYNC_ACK, p);
}

/* JCS length of VAL (owned), or 0 when it cannot be encoded. */
static size_t
sync_json_len(json_object *val)
{
	char *text = NULL;
	size_t len = 0;

	if (val == NULL || jcs_serialize(val, &text, &len) != 0)
		len = 0;
	free(text);
	json_object_put(val);
	return len;
}

/* Non-zero when CHG with the hub's members fits one SYNC_DATA. */
int
sync_change_fits(const struct jchange *chg, size_t overhead, uint32_t max)
{
	struct jrec rec;
	size_t len, slack;

	memset(&rec, 0, sizeof(rec));
	snprintf(rec.collection, sizeof(rec.collection), "%s",
	    chg->collection);
	snprintf(rec.origin, sizeof(rec.origin), "%s", chg->origin);
	rec.id = (char *)chg->id;
	rec.version = TR_JSON_INT_MAX;
	rec.seq = TR_JSON_INT_MAX;
	rec.deleted = chg->deleted;
	rec.modified_at = chg->modified_at;
	rec.data = chg->deleted ? NULL : (char *)chg->data;
	if ((rec.has_file = chg->has_file) != 0) {
		snprintf(rec.file_sha256, sizeof(rec.file_sha256), "%s",
		    chg->file_sha256);
		rec.file_size = chg->file_size;
		rec.file_name = (char *)chg->file_name;
	}
	if (overhead == 0 || (len = sync_json_len(journal_rec_json(&rec))) == 0)
		return 0;
	/* A keep-both copy id adds "~conflict~<origin>~<base_version>". */
	slack = strlen("~conflict~") + strlen(chg->origin) + 1 +
	    SYNC_INT_DIGITS;
	return overhead + len + slack <= max;
}

/* The result of one pushed record as sent in SYNC_ACK. */
static json_object *
sync_result_json(const char *coll, const char *id, const struct jresult *r)
{
	static const char *const status[] = {
		[J_APPLIED] = "applied",
		[J_CONFLICT] = "conflict",
		[J_REJECTED] = "rejected"
	};
	json_object *o = json_object_new_object();

	if (o == NULL)
		return NULL;
	json_object_object_add(o, "collection", coll != NULL ?
	    json_object_new_string(coll) : NULL);
	json_object_object_add(o, "id", id != NULL ?
	    json_object_new_string(id) : NULL);
	json_object_object_add(o, "status",
	    json_object_new_string(status[r->status]));
	json_object_object_add(o, "version", r->version > 0 ?
	    json_object_new_int64(r->version) : NULL);
	json_object_object_add(o, "seq", r->seq > 0 ?
	    json_object_new_int64(r->seq) : NULL);
	json_object_object_add(o, "reason", r->reason != NULL ?
	    json_object_new_string(r->reason) : NULL);
	json_object_object_add(o, "conflict_id", r->conflict_id[0] != '\0' ?
	    json_object_new_string(r->conflict_id) : NULL);
	return o;
}

/* Bound of the encoded result of the pushed record REC. */
static size_t
sync_result_bound(json_object *rec, const char *origin)
{
	char copy[TR_RECORD_ID_MAX + TR_ID_MAX + 64];
	const char *coll = NULL, *id = NULL;
	struct jresult r;
	json_object *o;
	size_t len;

	if (msg_get_str(rec, "collection", &coll) != 0 ||
	    !msg_valid_collection(coll))
		coll = NULL;
	if (msg_get_strlen(rec, "id", &id, &len) != 0 ||
	    !msg_valid_record_id(id, len))
		id = NULL;
	memset(&r, 0, sizeof(r));
	r.status = J_CONFLICT;
	r.version = r.seq = TR_JSON_INT_MAX;
	r.reason = SYNC_LONGEST_REASON;
	o = sync_result_json(coll, id, &r);
	if (o != NULL && id != NULL) {
		snprintf(copy, sizeof(copy), "%s~conflict~%s~%lld", id, origin,
		    (long long)TR_JSON_INT_MAX);
		json_object_object_add(o, "conflict_id",
		    json_object_new_string(copy));
	}
	return sync_json_len(o);
}

/* The collection NAME of sync S, or NULL. */
static const struct sync_coll *
sync_coll_find(const struct sync_state *s, const char *name)
{
	for (size_t i = 0; i < s->ncolls; i++)
		if (strcmp(s->colls[i].name, name) == 0)
			return &s->colls[i];
	return NULL;
}

/* Add COL to S's collections unless it is there. */
static void
sync_coll_add(struct sync_state *s, const struct conf_collection *col)
{
	if (sync_coll_find(s, col->name) != NULL)
		return;
	snprintf(s->colls[s->ncolls].name, sizeof(s->colls[0].name), "%s",
	    col->name);
	s->colls[s->ncolls].policy = col->conflict;
	s->ncolls++;
}

/*
 * Fill S's collections from the request's ARR (NULL: every configured
 * collection the node may read), checking write access when WRITE.
 * TR_EINVAL for an entry that is no collection name, TR_EACCES with *BAD
 * naming the first collection that is not configured or not allowed
 * (*UNKNOWN set when it is not configured).
 */
static int
sync_pick(struct hub_conn *hc, struct sync_state *s, json_object *arr,
    int write, char *bad, size_t badlen, int *unknown)
{
	const char *roles[CONF_MAX_ROLES];
	const struct conf_collection *col;
	struct conf *conf = &hc->hub->conf;
	size_t n = arr != NULL ? json_object_array_length(arr) : 0, cap;
	int nroles = hc->session.nroles, rc = 0;

	for (int i = 0; i < nroles; i++)
		roles[i] = hc->session.roles[i];
	thr_rdlock(&hc->hub->conf_lock);
	cap = conf->ncollections > 0 ? conf->ncollections : 1;
	if ((s->colls = calloc(cap, sizeof(*s->colls))) == NULL ||
	    (s->names = calloc(cap, sizeof(*s->names))) == NULL) {
		rc = TR_ENOMEM;
		goto out;
	}
	if (arr == NULL) {
		for (size_t i = 0; i < conf->ncollections; i++) {
			col = &conf->collections[i];
			if (conf_roles_match(col->read, col->nread, roles,
			    nroles))
				sync_coll_add(s, col);
		}
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		json_object *v = json_object_array_get_idx(arr, i);
		const char *name = json_object_get_string(v);

		if (!json_object_is_type(v, json_type_string) ||
		    !msg_valid_collection(name) ||
		    strlen(name) != (size_t)json_object_get_string_len(v)) {
			rc = TR_EINVAL;
			goto out;
		}
		col = conf_collection(conf, name);
		if (col == NULL || !(write ?
		    conf_roles_match(col->write, col->nwrite, roles, nroles) :
		    conf_roles_match(col->read, col->nread, roles, nroles))) {
			snprintf(bad, badlen, "%s", name);
			*unknown = col == NULL;
			rc = TR_EACCES;
			goto out;
		}
		sync_coll_add(s, col);
	}
out:
	thr_rwunlock(&hc->hub->conf_lock);
	for (size_t i = 0; rc == 0 && i < s->ncolls; i++)
		s->names[i] = s->colls[i].name;
	return rc;
}

/* A new sync state for the request ENV of direction DIR (not yet installed). */
static struct sync_state *
sync_new(json_object *env, enum sync_dir dir, const char *sync_id)
{
	struct sync_state *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->dir = dir;
	snprintf(s->sync_id, sizeof(s->sync_id), "%s", sync_id);
	snprintf(s->request_id, sizeof(s->request_id), "%s", msg_id(env));
	s->started_ms = thr_mono_ms();
	return s;
}

/*
 * Pick the collections of the new sync S from ARR; on refusal answer ENV
 * (INVALID_REQUEST or ACCESS_DENIED, the connection stays), free S and
 * set *RC.  Returns 0 when S may go on.
 */
static int
sync_pick_or_refuse(struct hub_conn *hc, json_object *env,
    struct sync_state *s, json_object *arr, int write, int *rc)
{
	char bad[TR_ID_MAX + 1] = "", why[160];
	int unknown = 0, r;

	r = sync_pick(hc, s, arr, write, bad, sizeof(bad), &unknown);
	if (r == 0)
		return 0;
	free(s->colls);
	free(s->names);
	free(s);
	if (r == TR_EINVAL)
		*rc = session_error(hc, env, TR_CODE_INVALID_REQUEST,
		    "collections must be an array of collection names", NULL);
	else if (r == TR_EACCES) {
		/* Unknown and forbidden collections get the same answer. */
		log_info("sync: node %s asked to %s collection %s, which %s",
		    hc->session.node_id, write ? "write" : "read", bad,
		    unknown ? "is not configured" :
		    "none of its roles may access");
		snprintf(why, sizeof(why), "collection %s is not %s by this "
		    "node", bad, write ? "writable" : "readable");
		*rc = session_error(hc, env, TR_CODE_ACCESS_DENIED, why, NULL);
	} else {
		session_error(hc, env, TR_CODE_INTERNAL_ERROR,
		    "internal error", NULL);
		*rc = r;
	}
	return r;
}

/* Optional integer KEY of P clamped to LO..HI, DEF when absent; else TR_EINVAL. */
static int
sync_opt_int(json_object *p, const char *key, int64_t lo, int64_t hi,
    int64_t def, int *out)
{
	int64_t v;
	int rc = msg_get_int(p, key, &v);

	if (rc == TR_ENOTFOUND)
		v = def;
	else if (rc != 0)
		return TR_EINVAL;
	*out = (int)(v < lo ? lo : v > hi ? hi : v);
	return 0;
}

/* journal_scan callback: add REC to the batch unless it would not fit. */
static int
sync_fill_one(void *arg, const struct jrec *rec)
{
	struct sync_fill *f = arg;
	json_object *o;
	char *text = NULL;
	size_t len = 0, need;

	if ((o = journal_rec_json(rec)) == NULL ||
	    jcs_serialize(o, &text, &len) != 0) {
		log_err("sync: record %s/%s (seq %" PRId64 ") cannot be "
		    "encoded", rec->collection, rec->id, rec->seq);
		json_object_put(o);
		return TR_EDB;
	}
	free(text);
	need = len + (f->n > 0 ? 1 : 0);
	if (f->bytes + need > f->max) {
		json_object_put(o);
		if (f->n == 0) {
			log_err("sync: record %s/%s (seq %" PRId64 ") does not "
			    "fit one SYNC_DATA within max_message_size %zu",
			    rec->collection, rec->id, rec->seq, f->max);
			return TR_ETOOBIG;
		}
		f->full = 1;
		return 1;
	}
	json_object_array_add(f->records, o);
	f->bytes += need;
	f->n++;
	f->last_seq = rec->seq;
	return 0;
}

/*
 * Scan and send the next batch of the pull, setting scan_done after the
 * last one.  *SENDING is set when sending (not scanning) failed.
 */
static int
sync_pull_batch(struct hub_conn *hc, int *sending)
{
	struct sync_state *s = hc->sync;
	struct sync_sent *b = &s->sent[s->nsent];
	struct sync_fill f;
	json_object *p;
	int rc, reset = s->reset && s->batches == 0;

	*sending = 0;
	memset(&f, 0, sizeof(f));
	f.max = hc->lim.max_message_size;
	f.bytes = s->overhead;
	if ((f.records = json_object_new_array()) == NULL)
		return TR_ENOMEM;
	rc = journal_scan(hc->db, s->names, s->ncolls, s->scanned, s->head,
	    s->batch_size, sync_fill_one, &f, NULL);
	if (rc != 0) {
		json_object_put(f.records);
		return rc;
	}
	if (!f.full && f.n < s->batch_size)
		s->scan_done = 1;
	if (f.n == 0) {
		/* A reset is announced even when no record follows it. */
		if (!reset) {
			json_object_put(f.records);
			return 0;
		}
		f.last_seq = s->head;
	}
	if ((p = json_object_new_object()) == NULL) {
		json_object_put(f.records);
		return TR_ENOMEM;
	}
	json_object_object_add(p, "sync_id", json_object_new_string(s->sync_id));
	json_object_object_add(p, "batch", json_object_new_int64(s->batches));
	json_object_object_add(p, "records", f.records);
	json_object_object_add(p, "last_seq", json_object_new_int64(f.last_seq));
	json_object_object_add(p, "reset", json_object_new_boolean(reset));
	*sending = 1;
	if ((rc = conn_send_msg(&hc->c, TR_MSG_SYNC_DATA, s->request_id, p,
	    NULL, 0, b->msg_id)) != 0)
		return rc;
	b->batch = s->batches++;
	b->last_seq = f.last_seq;
	s->nsent++;
	s->records += f.n;
	__atomic_add_fetch(&hc->hub->stats.records_out, (uint64_t)f.n,
	    __ATOMIC_RELAXED);
	s->scanned = f.last_seq;
	return 0;
}

/* Note a completed pull: the node's last_sync in the database and registry. */
static void
sync_note_synced(struct hub_conn *hc)
{
	struct reg_live live;
	int64_t now = msg_now_ms();

	if (hubdb_node_synced(hc->db, hc->session.node_id, now) != 0)
		log_warn("sync: cannot record the last sync of node %s",
		    hc->session.node_id);
	if (registry_live_get(hc->hub->reg, hc->session.node_id, &live) != 0) {
		memset(&live, 0, sizeof(live));
		snprintf(live.node_id, sizeof(live.node_id), "%s",
		    hc->session.node_id);
		live.cursor = live.pending = live.disk_free = -1;
	}
	live.last_sync_ms = now;
	registry_live_update(hc->hub->reg, &live);
}

/* Everything is acknowledged: send SYNC_COMPLETE and end the pull. */
static int
sync_pull_complete(struct hub_conn *hc)
{
	struct sync_state *s = hc->sync;
	json_object *p = json_object_new_object();
	int rc;

	if (p == NULL)
		return TR_ENOMEM;
	json_object_object_add(p, "sync_id", json_object_new_string(s->sync_id));
	json_object_object_add(p, "cursor", json_object_new_int64(s->head));
	json_object_object_add(p, "records", json_object_new_int64(s->records));
	json_object_object_add(p, "batches", json_object_new_int64(s->batches));
	if ((rc = conn_send_msg(&hc->c, TR_MSG_SYNC_COMPLETE, s->request_id, p,
	    NULL, 0, NULL)) != 0) {
		sync_abort(hc, tr_strerror(rc));
		return rc;
	}
	sync_note_synced(hc);
	__atomic_add_fetch(&hc->hub->stats.syncs_pull, 1, __ATOMIC_RELAXED);
	log_info("sync pull: node %s, %zu collection(s), since %" PRId64
	    "%s: %" PRId64 " records in %" PRId64 " batches, cursor %" PRId64
	    ", %lld ms", hc->session.node_id, s->ncolls, s->since,
	    s->reset ? " (reset)" : "", s->records, s->batches, s->head,
	    sync_elapsed(s));
	sync_free(hc);
	return 0;
}

/* Keep up to window batches in flight; complete the pull when all are acked. */
static int
sync_pull_fill(struct hub_conn *hc, json_object *env)
{
	struct sync_state *s = hc->sync;
	int rc, sending;

	while (!s->scan_done && s->nsent < s->window) {
		if ((rc = sync_pull_batch(hc, &sending)) == 0)
			continue;
		if (!sending)
			return sync_internal(hc, env, rc);
		sync_abort(hc, tr_strerror(rc));
		return rc;
	}
	if (s->scan_done && s->nsent == 0)
		return sync_pull_complete(hc);
	return 0;
}

/* SYNC_REQUEST of a pull. */
static int
sync_pull_start(struct hub_conn *hc, json_object *env, const char *sync_id)
{
	json_object *p = msg_payload(env), *arr = NULL;
	struct sync_state *s;
	int64_t since, floor;
	char why[128];
	int rc, batch_size, window;

	if (msg_get_int(p, "since", &since) != 0 || since < 0)
		return session_error(hc, env, TR_CODE_INVALID_REQUEST,
		    "since must be an integer >= 0", NULL);
	rc = msg_get_array(p, "collections", &arr);
	if ((rc != 0 && rc != TR_ENOTFOUND) ||
	    (arr != NULL && json_object_array_length(arr) == 0))
		return session_error(hc, env, TR_CODE_INVALID_REQUEST,
		    "collections must be an array naming at least one "
		    "collection", NULL);
	if (sync_opt_int(p, "batch_size", 1, hc->lim.max_batch,
	    hc->lim.batch_size, &batch_size) != 0 ||
	    sync_opt_int(p, "window", 1, TR_MAX_WINDOW, TR_DEF_WINDOW,
	    &window) != 0)
		return session_error(hc, env, TR_CODE_INVALID_REQUEST,
		    "batch_size and window must be integers", NULL);
	if ((s = sync_new(env, SYNC_PULL, sync_id)) == NULL) {
		session_error(hc, env, TR_CODE_INTERNAL_ERROR, "internal error",
		    NULL);
		return TR_ENOMEM;
	}
	if (sync_pick_or_refuse(hc, env, s, arr, 0, &rc) != 0)
		return rc;
	s->since = since;
	s->batch_size = batch_size;
	s->window = window;
	hc->sync = s;
	/* No tombstone is purged while a pull runs (hubd.c). */
	thr_rdlock(&hc->hub->journal_lock);
	s->locked = 1;
	if ((rc = journal_head(hc->db, &s->head)) != 0 ||
	    (rc = journal_floor(hc->db, &floor)) != 0)
		return sync_internal(hc, env, rc);
	if (since > s->head) {
		snprintf(why, sizeof(why), "since %" PRId64 " is past the "
		    "journal head %" PRId64, since, s->head);
		return sync_invalid(hc, env, why);
	}
	s->reset = since > 0 && since < floor;
	s->scanned = s->reset ? 0 : since;
	/* No readable collection: nothing to send (journal_scan's 0 means all). */
	if (s->ncolls == 0) {
		s->reset = 0;
		s->scan_done = 1;
	}
	if ((s->overhead = sync_data_overhead()) == 0)
		return sync_internal(hc, env, TR_ENOMEM);
	log_debug("sync pull: node %s: %zu collection(s) since %" PRId64
	    " up to %" PRId64 "%s, batch_size %d, window %d",
	    hc->session.node_id, s->ncolls, since, s->head,
	    s->reset ? " (reset)" : "", batch_size, window);
	return sync_pull_fill(hc, env);
}

/* SYNC_REQUEST of a push: check write access and wait for SYNC_DATA. */
static int
sync_push_start(struct hub_conn *hc, json_object *env, const char *sync_id)
{
	json_object *p = msg_payload(env), *arr = NULL;
	struct sync_state *s;
	int64_t total = 0;
	int rc, window;

	if (msg_get_array(p, "collections", &arr) != 0 ||
	    json_object_array_length(arr) == 0)
		return session_error(hc, env, TR_CODE_INVALID_REQUEST,
		    "collections must be an array naming at least one "
		    "collection", NULL);
	rc = msg_get_int(p, "records", &total);
	if ((rc != 0 && rc != TR_ENOTFOUND) || total < 0)
		return session_error(hc, env, TR_CODE_INVALID_REQUEST,
		    "records must be an integer >= 0", NULL);
	if (sync_opt_int(p, "window", 1, TR_MAX_WINDOW, TR_DEF_WINDOW,
	    &window) != 0)
		return session_error(hc, env, TR_CODE_INVALID_REQUEST,
		    "window must be an integer", NULL);
	if ((s = sync_new(env, SYNC_PUSH, sync_id)) == NULL) {
		session_error(hc, env, TR_CODE_INTERNAL_ERROR, "internal error",
		    NULL);
		return TR_ENOMEM;
	}
	if (sync_pick_or_refuse(hc, env, s, arr, 1, &rc) != 0)
		return rc;
	s->window = window;
	hc->sync = s;
	if ((s->overhead = sync_data_overhead()) == 0)
		return sync_internal(hc, env, TR_ENOMEM);
	log_debug("sync push: node %s: %zu collection(s), %" PRId64
	    " records announced", hc->session.node_id, s->ncolls, total);
	return 0;
}

/* Dispatch a SYNC_REQUEST. */
int
sync_on_request(struct hub_conn *hc, json_object *env)
{
	json_object *p = msg_payload(env);
	const char *id, *dir;

	if (hc->sync != NULL)
		return session_error(hc, env, TR_CODE_INVALID_REQUEST,
		    "a sync is already running on this connection", NULL);
	if (msg_get_str(p, "sync_id", &id) != 0 || !msg_valid_uuid(id))
		return session_error(hc, env, TR_CODE_INVALID_REQUEST,
		    "sync_id must be a lowercase UUID v4", NULL);
	if (msg_get_str(p, "direction", &dir) == 0 &&
	    strcmp(dir, "pull") == 0)
		return sync_pull_start(hc, env, id);
	if (msg_get_str(p, "direction", &dir) == 0 &&
	    strcmp(dir, "push") == 0)
		return sync_push_start(hc, env, id);
	return session_error(hc, env, TR_CODE_INVALID_REQUEST,
	    "direction must be pull or push", NULL);
}

/*
 * The running sync of direction DIR that ENV's payload names.  Otherwise
 * answer INVALID_REQUEST, set *RC and return NULL: a message that names
 * no running sync leaves the running one alone; one of the running sync
 * that belongs to the other direction ends it.
 */
static struct sync_state *
sync_find(struct hub_conn *hc, json_object *env, enum sync_dir dir, int *rc)
{
	const char *id;
	char why[96];

	if (msg_get_str(msg_payload(env), "sync_id", &id) != 0 ||
	    !msg_valid_uuid(id)) {
		*rc = session_error(hc, env, TR_CODE_INVALID_REQUEST,
		    "sync_id must be a lowercase UUID v4", NULL);
		return NULL;
	}
	if (hc->sync == NULL || strcmp(hc->sync->sync_id, id) != 0) {
		*rc = session_error(hc, env, TR_CODE_INVALID_REQUEST,
		    hc->sync == NULL ? "no sync is running on this connection" :
		    "sync_id does not name the running sync", NULL);
		return NULL;
	}
	if (hc->sync->dir != dir) {
		snprintf(why, sizeof(why), "%s is not part of a %s",
		    msg_type(env), sync_dir_name(hc->sync->dir));
		*rc = sync_invalid(hc, env, why);
		return NULL;
	}
	return hc->sync;
}

/* SYNC_ACK of a pull batch. */
int
sync_on_ack(struct hub_conn *hc, json_object *env)
{
	json_object *p = msg_payload(env);
	struct sync_state *s;
	const char *reply = msg_in_reply_to(env);
	int64_t batch, last_seq;
	char why[128];
	int rc, i;

	if ((s = sync_find(hc, env, SYNC_PULL, &rc)) == NULL)
		return rc;
	if (msg_get_int(p, "batch", &batch) != 0 ||
	    msg_get_int(p, "last_seq", &last_seq) != 0)
		return sync_invalid(hc, env, "batch and last_seq must be "
		    "integers");
	for (i = 0; i < s->nsent; i++)
		if (s->sent[i].batch == batch)
			break;
	if (i == s->nsent) {
		snprintf(why, sizeof(why), "batch %" PRId64 " was not sent or "
		    "is already acknowledged", batch);
		return sync_invalid(hc, env, why);
	}
	if (s->sent[i].last_seq != last_seq) {
		snprintf(why, sizeof(why), "batch %" PRId64 " ends at seq %"
		    PRId64 ", not %" PRId64, batch, s->sent[i].last_seq,
		    last_seq);
		return sync_invalid(hc, env, why);
	}
	if (reply == NULL || strcmp(reply, s->sent[i].msg_id) != 0)
		return sync_invalid(hc, env, "in_reply_to must name the "
		    "acknowledged SYNC_DATA");
	memmove(&s->sent[i], &s->sent[i + 1],
	    (size_t)(s->nsent - i - 1) * sizeof(s->sent[0]));
	s->nsent--;
	return sync_pull_fill(hc, env);
}

/* journal_blob_fn: does the hub's blob store (ARG) hold SHA256? */
static int
sync_blob_exists(void *arg, const char *sha256)
{
	return arg != NULL && blob_exists(arg, sha256, NULL) == 0;
}

/*
 * Apply one pushed record REC into *RES, pointing *COLL and *ID at its
 * collection and id when they are well-formed (else NULL).  Returns 0 or
 * a database error.
 */
static int
sync_push_record(struct hub_conn *hc, json_object *rec, struct jresult *res,
    const char **coll, const char **id)
{
	struct sync_state *s = hc->sync;
	const struct sync_coll *c;
	struct jchange chg;
	const char *why;
	char *data = NULL;
	size_t len;
	int rc;

	memset(res, 0, sizeof(*res));
	res->status = J_REJECTED;
	if (msg_get_str(rec, "collection", coll) != 0 ||
	    !msg_valid_collection(*coll))
		*coll = NULL;
	if (msg_get_strlen(rec, "id", id, &len) != 0 ||
	    !msg_valid_record_id(*id, len))
		*id = NULL;
	if (*coll != NULL && sync_coll_find(s, *coll) == NULL) {
		res->reason = JOURNAL_NOT_WRITABLE;
		return 0;
	}
	rc = journal_change_from_json(rec, hc->session.node_id, &chg, &data,
	    &why);
	if (rc == TR_ENOMEM)
		return rc;
	if (rc != 0) {
		log_debug("sync push: node %s: invalid record: %s",
		    hc->session.node_id, why);
		res->reason = JOURNAL_INVALID_RECORD;
		return 0;
	}
	c = sync_coll_find(s, chg.collection);
	if (!sync_change_fits(&chg, s->overhead, hc->lim.max_message_size))
		res->reason = JOURNAL_TOO_LARGE;
	else
		rc = journal_apply(hc->db, c->policy, &chg, sync_blob_exists,
		    hc->hub->blobs, res);
	free(data);
	return rc;
}

/* SYNC_DATA of a push: apply the batch in one transaction, then SYNC_ACK. */
int
sync_on_data(struct hub_conn *hc, json_object *env)
{
	json_object *p = msg_payload(env), *recs, *results = NULL, *ack;
	struct sync_state *s;
	int64_t batch, head0 = 0, head1 = 0, counts[3] = { 0, 0, 0 };
	size_t n, bound;
	char why[128];
	int rc;

	if ((s = sync_find(hc, env, SYNC_PUSH, &rc)) == NULL)
		return rc;
	if (msg_get_int(p, "batch", &batch) != 0)
		return sync_invalid(hc, env, "batch must be an integer");
	if (batch != s->batches) {
		snprintf(why, sizeof(why), "batch %" PRId64 " expected, not %"
		    PRId64, s->batches, batch);
		return sync_invalid(hc, env, why);
	}
	if (msg_get_array(p, "records", &recs) != 0)
		return sync_invalid(hc, env, "records must be an array");
	if ((n = json_object_array_length(recs)) > (size_t)hc->lim.max_batch) {
		snprintf(why, sizeof(why), "%zu records in one batch; max_batch "
		    "is %d", n, hc->lim.max_batch);
		return sync_invalid(hc, env, why);
	}
	/* The answer must fit too: refuse before applying anything. */
	bound = sync_ack_overhead();
	for (size_t i = 0; i < n; i++)
		bound += sync_result_bound(json_object_array_get_idx(recs, i),
		    hc->session.node_id) + 1;
	if (bound > hc->lim.max_message_size)
		return sync_invalid(hc, env, "the SYNC_ACK of this batch could "
		    "exceed max_message_size; send fewer records");
	if ((results = json_object_new_array()) == NULL) {
		rc = TR_ENOMEM;
		goto fail;
	}
	if ((rc = db_begin(hc->db)) != 0 ||
	    (rc = journal_head(hc->db, &head0)) != 0)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		const char *coll = NULL, *id = NULL;
		struct jresult res;
		json_object *o;

		if ((rc = sync_push_record(hc, json_object_array_get_idx(recs,
		    i), &res, &coll, &id)) != 0)
			goto fail;
		if ((o = sync_result_json(coll, id, &res)) == NULL) {
			rc = TR_ENOMEM;
			goto fail;
		}
		json_object_array_add(results, o);
		counts[res.status]++;
	}
	if ((rc = journal_head(hc->db, &head1)) != 0 ||
	    (rc = db_commit(hc->db)) != 0)
		goto fail;
	s->batches++;
	s->records += (int64_t)n;
	__atomic_add_fetch(&hc->hub->stats.records_in, (uint64_t)n,
	    __ATOMIC_RELAXED);
	s->applied += counts[J_APPLIED];
	s->conflicts += counts[J_CONFLICT];
	s->rejected += counts[J_REJECTED];
	if (head1 > head0)
		s->last_seq = head1;
	if ((ack = json_object_new_object()) == NULL) {
		json_object_put(results);
		return sync_internal(hc, env, TR_ENOMEM);
	}
	json_object_object_add(ack, "sync_id", json_object_new_string(s->sync_id));
	json_object_object_add(ack, "batch", json_object_new_int64(batch));
	json_object_object_add(ack, "results", results);
	if ((rc = conn_send_msg(&hc->c, TR_MSG_SYNC_ACK, msg_id(env), ack,
	    NULL, 0, NULL)) != 0)
		sync_abort(hc, tr_strerror(rc));
	return rc;
fail:
	db_rollback(hc->db);
	json_object_put(results);
	return sync_internal(hc, env, rc);
}

/* SYNC_COMPLETE of a push: the totals, then the push ends. */
int
sync_on_complete(struct hub_conn *hc, json_object *env)
{
	json_object *p;
	struct sync_state *s;
	int64_t batches;
	char why[96];
	int rc;

	if ((s = sync_find(hc, env, SYNC_PUSH, &rc)) == NULL)
		return rc;
	if (msg_get_int(msg_payload(env), "batches", &batches) != 0)
		return sync_invalid(hc, env, "batches must be an integer");
	if (batches != s->batches) {
		snprintf(why, sizeof(why), "%" PRId64 " batches were received, "
		    "not %" PRId64, s->batches, batches);
		return sync_invalid(hc, env, why);
	}
	if ((p = json_object_new_object()) == NULL)
		return sync_internal(hc, env, TR_ENOMEM);
	json_object_object_add(p, "sync_id", json_object_new_string(s->sync_id));
	json_object_object_add(p, "last_seq", s->last_seq > 0 ?
	    json_object_new_int64(s->last_seq) : NULL);
	json_object_object_add(p, "applied", json_object_new_int64(s->applied));
	json_object_object_add(p, "conflicts",
	    json_object_new_int64(s->conflicts));
	json_object_object_add(p, "rejected",
	    json_object_new_int64(s->rejected));
	if ((rc = conn_send_msg(&hc->c, TR_MSG_SYNC_COMPLETE, msg_id(env), p,
	    NULL, 0, NULL)) != 0) {
		sync_abort(hc, tr_strerror(rc));
		return rc;
	}
	__atomic_add_fetch(&hc->hub->stats.syncs_push, 1, __ATOMIC_RELAXED);
	log_info("sync push: node %s, %zu collection(s): %" PRId64 " records "
	    "in %" PRId64 " batches, applied %" PRId64 ", conflicts %" PRId64
	    ", rejected %" PRId64 ", %lld ms", hc->session.node_id, s->ncolls,
	    s->records, s->batches, s->applied, s->conflicts, s->rejected,
	    sync_elapsed(s));
	sync_free(hc);
	return 0;
}

/* Non-zero while a sync runs on HC. */
int
sync_running(const struct hub_conn *hc)
{
	return hc->sync != NULL;
}

/* Drop HC's sync state when the connection ends. */
void
sync_conn_end(struct hub_conn *hc)
{
	sync_abort(hc, "connection closed");
}
