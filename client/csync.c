/* The node's pull and push drivers of PROTOCOL.md section 7 on a logged-in link. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csync.h"
#include "err.h"
#include "jcs.h"
#include "log.h"
#include "msg.h"

/* The batch size and window of O, clamped to the protocol and to L's max_batch. */
static void
csync_limits(const struct link *l, const struct csync_opts *o,
    int *batch_size, int *window)
{
	*batch_size = o != NULL && o->batch_size > 0 ? o->batch_size :
	    TR_DEF_BATCH_SIZE;
	if (*batch_size > l->max_batch)
		*batch_size = l->max_batch;
	*window = o != NULL && o->window > 0 ? o->window : TR_DEF_WINDOW;
	if (*window > TR_MAX_WINDOW)
		*window = TR_MAX_WINDOW;
}

/* Report progress. */
static void
csync_progress(const struct csync_opts *o, const char *dir, int64_t done,
    int64_t total)
{
	if (o != NULL && o->progress != NULL)
		o->progress(o->progress_arg, dir, done, total);
}

/* Non-zero when ENV answers the message ID. */
static int
csync_answers(json_object *env, const char *id)
{
	const char *irt = msg_in_reply_to(env);

	return irt != NULL && strcmp(irt, id) == 0;
}

/* Non-zero when PAYLOAD's sync_id is SYNC_ID. */
static int
csync_same_sync(json_object *payload, const char *sync_id)
{
	const char *s;

	return msg_get_str(payload, "sync_id", &s) == 0 &&
	    strcmp(s, sync_id) == 0;
}

/* Add the string S to the array ARR; TR_ENOMEM on failure. */
static int
csync_array_add_str(json_object *arr, const char *s)
{
	json_object *v = json_object_new_string(s);

	if (v == NULL || json_object_array_add(arr, v) != 0) {
		json_object_put(v);
		return TR_ENOMEM;
	}
	return 0;
}

/* The N collection names as a JSON array without duplicates. */
static json_object *
csync_names_json(const char *const *names, size_t n)
{
	json_object *arr = json_object_new_array();

	if (arr == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		size_t j;

		for (j = 0; j < i; j++)
			if (strcmp(names[i], names[j]) == 0)
				break;
		if (j == i && csync_array_add_str(arr, names[i]) != 0) {
			json_object_put(arr);
			return NULL;
		}
	}
	return arr;
}

/* Non-zero when NAME is one of the N COLLECTIONS (N = 0: any). */
static int
csync_in_set(const char *name, const char *const *collections, size_t n)
{
	if (n == 0)
		return 1;
	for (size_t i = 0; i < n; i++)
		if (strcmp(name, collections[i]) == 0)
			return 1;
	return 0;
}

/* What a pull keeps between messages. */
struct csync_pull {
	struct link *l;
	struct replica *r;
	const char *const *collections;
	size_t n;
	const char *set;
	const char *roles;
	char sync_id[TR_UUID_LEN + 1];
	char reqid[TR_UUID_LEN + 1];
	int64_t since;
	int64_t last_seq;		/* of the last batch applied */
	int64_t batches;
	int64_t records;
	int reset;
};

/* Check, apply and acknowledge one SYNC_DATA of a pull. */
static int
csync_pull_data(struct csync_pull *p, json_object *env)
{
	struct link *l = p->l;
	json_object *payload = msg_payload(env), *arr, *ack = NULL;
	struct replica_rec *recs = NULL;
	int64_t batch, last_seq, prev;
	const char *why;
	size_t n = 0, i;
	int reset = 0, rc;

	if (!csync_answers(env, p->reqid) ||
	    !csync_same_sync(payload, p->sync_id)) {
		link_seterr(l, "SYNC_DATA of another sync");
		return TR_EPROTO;
	}
	if (msg_get_int(payload, "batch", &batch) != 0 ||
	    batch != p->batches) {
		link_seterr(l, "SYNC_DATA out of order (expected batch %lld)",
		    (long long)p->batches);
		return TR_EPROTO;
	}
	if ((rc = msg_get_bool(payload, "reset", &reset)) != 0 &&
	    rc != TR_ENOTFOUND) {
		link_seterr(l, "SYNC_DATA batch %lld: reset is not a boolean",
		    (long long)batch);
		return TR_EPROTO;
	}
	/* A reset starts over from the beginning of the journal. */
	if (reset && batch == 0)
		p->last_seq = 0;
	if (msg_get_array(payload, "records", &arr) != 0 ||
	    msg_get_int(payload, "last_seq", &last_seq) != 0 ||
	    last_seq < p->last_seq || (reset && batch != 0)) {
		link_seterr(l, "SYNC_DATA batch %lld is malformed",
		    (long long)batch);
		return TR_EPROTO;
	}
	n = json_object_array_length(arr);
	if (n > 0 && (recs = calloc(n, sizeof(*recs))) == NULL)
		return TR_ENOMEM;
	prev = p->last_seq;
	for (i = 0; i < n; i++) {
		rc = replica_rec_from_json(json_object_array_get_idx(arr, i),
		    &recs[i], &why);
		if (rc == TR_ENOMEM)
			goto out;
		if (rc == 0 && !csync_in_set(recs[i].collection,
		    p->collections, p->n)) {
			why = "collection not requested";
			rc = TR_EINVAL;
		} else if (rc == 0 && (recs[i].seq <= prev ||
		    recs[i].seq > last_seq)) {
			why = "seq out of order";
			rc = TR_EINVAL;
		}
		if (rc != 0) {
			link_seterr(l, "SYNC_DATA batch %lld record %zu: %s",
			    (long long)batch, i, why);
			rc = TR_EPROTO;
			goto out;
		}
		prev = recs[i].seq;
	}
	/* Durable before acknowledged. */
	rc = replica_pull_batch(p->r, p->set, p->roles, p->collections, p->n,
	    batch == 0 && (reset || p->since == 0), recs, n, last_seq);
	if (rc != 0) {
		link_seterr(l, "storing batch %lld: %s", (long long)batch,
		    tr_strerror(rc));
		goto out;
	}
	p->last_seq = last_seq;
	p->batches++;
	p->records += (int64_t)n;
	p->reset |= reset;
	if ((ack = json_object_new_object()) == NULL) {
		rc = TR_ENOMEM;
		goto out;
	}
	json_object_object_add(ack, "sync_id",
	    json_object_new_string(p->sync_id));
	json_object_object_add(ack, "batch", json_object_new_int64(batch));
	json_object_object_add(ack, "last_seq",
	    json_object_new_int64(last_seq));
	rc = link_send(l, TR_MSG_SYNC_ACK, msg_id(env), ack, NULL);
out:
	for (i = 0; i < n && recs != NULL; i++)
		replica_rec_free(&recs[i]);
	free(recs);
	return rc;
}

/* Check and store a pull's SYNC_COMPLETE. */
static int
csync_pull_complete(struct csync_pull *p, json_object *env, int64_t *cursor)
{
	struct link *l = p->l;
	json_object *payload = msg_payload(env);
	int64_t batches, records;
	int rc;

	if (!csync_answers(env, p->reqid) ||
	    !csync_same_sync(payload, p->sync_id)) {
		link_seterr(l, "SYNC_COMPLETE of another sync");
		return TR_EPROTO;
	}
	if (msg_get_int(payload, "cursor", cursor) != 0 ||
	    *cursor < p->last_seq || *cursor < p->since ||
	    msg_get_int(payload, "batches", &batches) != 0 ||
	    batches != p->batches ||
	    msg_get_int(payload, "records", &records) != 0 ||
	    records != p->records) {
		link_seterr(l, "SYNC_COMPLETE does not match the %lld "
		    "batches and %lld records received",
		    (long long)p->batches, (long long)p->records);
		return TR_EPROTO;
	}
	rc = replica_pull_complete(p->r, p->set, p->roles, p->collections,
	    p->n, p->since == 0 && p->batches == 0, *cursor, msg_now_ms());
	if (rc != 0)
		link_seterr(l, "storing the cursor: %s", tr_strerror(rc));
	return rc;
}

/* Pull a collection set into the replica. */
int
csync_pull(struct link *l, struct replica *r,
    const char *const *collections, size_t n, const struct csync_opts *o,
    struct trosyn_sync_result *res)
{
	const char *role_names[LINK_MAX_ROLES];
	struct csync_pull p;
	json_object *req = NULL, *names, *env = NULL;
	char *set = NULL, *roles = NULL;
	int64_t cursor = 0;
	int rc, batch_size, window;

	memset(&p, 0, sizeof(p));
	memset(res, 0, sizeof(*res));
	if ((rc = replica_set_key(collections, n, &set)) != 0) {
		link_seterr(l, "bad collection name");
		goto out;
	}
	for (int i = 0; i < l->nroles; i++)
		role_names[i] = l->roles[i];
	if ((rc = replica_roles_key(role_names, (size_t)l->nroles,
	    &roles)) != 0 ||
	    (rc = replica_cursor_get(r, set, roles, &p.since)) != 0) {
		link_seterr(l, "reading the cursor: %s", tr_strerror(rc));
		goto out;
	}
	p.l = l;
	p.r = r;
	p.collections = collections;
	p.n = n;
	p.set = set;
	p.roles = roles;
	p.last_seq = p.since;
	csync_limits(l, o, &batch_size, &window);
	msg_new_uuid(p.sync_id);

	if ((req = json_object_new_object()) == NULL) {
		rc = TR_ENOMEM;
		goto out;
	}
	json_object_object_add(req, "sync_id",
	    json_object_new_string(p.sync_id));
	json_object_object_add(req, "direction",
	    json_object_new_string("pull"));
	json_object_object_add(req, "since", json_object_new_int64(p.since));
	if (n > 0) {
		if ((names = csync_names_json(collections, n)) == NULL) {
			rc = TR_ENOMEM;
			goto out;
		}
		json_object_object_add(req, "collections", names);
	}
	/* Without a wish of ours the hub's configured batch_size applies. */
	if (o != NULL && o->batch_size > 0)
		json_object_object_add(req, "batch_size",
		    json_object_new_int64(batch_size));
	json_object_object_add(req, "window", json_object_new_int64(window));
	rc = link_send(l, TR_MSG_SYNC_REQUEST, NULL, req, p.reqid);
	req = NULL;
	if (rc != 0)
		goto out;
	log_debug("pull %s of set %s since %lld", p.sync_id, set,
	    (long long)p.since);

	for (;;) {
		if ((rc = link_recv(l, &env)) != 0)
			goto out;
		if (strcmp(msg_type(env), TR_MSG_ERROR) == 0) {
			rc = link_error(l, env);
			goto out;
		} else if (strcmp(msg_type(env), TR_MSG_SYNC_DATA) == 0) {
			if ((rc = csync_pull_data(&p, env)) != 0)
				goto out;
			csync_progress(o, "pull", p.records, -1);
		} else if (strcmp(msg_type(env), TR_MSG_SYNC_COMPLETE) == 0) {
			rc = csync_pull_complete(&p, env, &cursor);
			break;
		} else {
			link_seterr(l, "unexpected %s during a pull",
			    msg_type(env));
			rc = TR_EPROTO;
			goto out;
		}
		json_object_put(env);
		env = NULL;
	}
out:
	res->cursor = rc == 0 ? cursor : p.last_seq;
	res->records = p.records;
	res->batches = p.batches;
	res->reset = p.reset;
	json_object_put(env);
	json_object_put(req);
	free(set);
	free(roles);
	return rc;
}

/* A batch of a push: changes [first, first + count) of the send list. */
struct csync_batch {
	size_t first;
	size_t count;
	char msgid[TR_UUID_LEN + 1];
};

/* What a push keeps between messages. */
struct csync_push {
	struct link *l;
	struct replica *r;
	const struct csync_opts *o;
	struct replica_change *send;	/* shallow copies of the changes sent */
	json_object **wire;		/* their push form */
	size_t nsend;
	struct csync_batch *batches;
	size_t nbatches;
	char sync_id[TR_UUID_LEN + 1];
	char reqid[TR_UUID_LEN + 1];
	struct trosyn_sync_result *res;
	int64_t done;
};

/* Read one result of a SYNC_ACK for the change CHG into RES. */
static int
csync_result(json_object *o, const struct replica_change *chg,
    struct replica_result *res, const char **why)
{
	const char *s;
	int rc;

	memset(res, 0, sizeof(*res));
	*why = "result must be an object naming the pushed record";
	if (!json_object_is_type(o, json_type_object) ||
	    msg_get_str(o, "collection", &s) != 0 ||
	    strcmp(s, chg->collection) != 0 ||
	    msg_get_str(o, "id", &s) != 0 || strcmp(s, chg->id) != 0)
		return TR_EINVAL;
	*why = "status must be applied, conflict or rejected";
	if (msg_get_str(o, "status", &s) != 0)
		return TR_EINVAL;
	if (strcmp(s, "applied") == 0)
		res->status = REPLICA_APPLIED;
	else if (strcmp(s, "conflict") == 0)
		res->status = REPLICA_CONFLICT;
	else if (strcmp(s, "rejected") == 0)
		res->status = REPLICA_REJECTED;
	else
		return TR_EINVAL;
	*why = "version and seq must be integers";
	if (res->status == REPLICA_APPLIED) {
		if (msg_get_int(o, "version", &res->version) != 0 ||
		    res->version < 1 ||
		    msg_get_int(o, "seq", &res->seq) != 0 || res->seq < 1)
			return TR_EINVAL;
	} else if (res->status == REPLICA_CONFLICT) {
		if (((rc = msg_get_int(o, "version", &res->version)) != 0 &&
		    rc != TR_ENOTFOUND) ||
		    ((rc = msg_get_int(o, "seq", &res->seq)) != 0 &&
		    rc != TR_ENOTFOUND))
			return TR_EINVAL;
	}
	*why = "reason and conflict_id must be strings or null";
	if ((rc = msg_get_str(o, "reason", &s)) == 0)
		snprintf(res->reason, sizeof(res->reason), "%s", s);
	else if (rc != TR_ENOTFOUND)
		return TR_EINVAL;
	if ((rc = msg_get_str(o, "conflict_id", &s)) == 0)
		snprintf(res->conflict_id, sizeof(res->conflict_id), "%s", s);
	else if (rc != TR_ENOTFOUND)
		return TR_EINVAL;
	*why = NULL;
	return 0;
}

/* Send SYNC_DATA batch I of a push. */
static int
csync_push_send(struct csync_push *p, size_t i)
{
	struct csync_batch *b = &p->batches[i];
	json_object *payload, *arr;

	if ((payload = json_object_new_object()) == NULL ||
	    (arr = json_object_new_array()) == NULL) {
		json_object_put(payload);
		return TR_ENOMEM;
	}
	json_object_object_add(payload, "sync_id",
	    json_object_new_string(p->sync_id));
	json_object_object_add(payload, "batch", json_object_new_int64(
	    (int64_t)i));
	for (size_t k = b->first; k < b->first + b->count; k++)
		json_object_array_add(arr, json_object_get(p->wire[k]));
	json_object_object_add(payload, "records", arr);
	return link_send(p->l, TR_MSG_SYNC_DATA, NULL, payload, b->msgid);
}

/* Check and commit the SYNC_ACK of batch I of a push. */
static int
csync_push_ack(struct csync_push *p, json_object *env, size_t i)
{
	struct csync_batch *b = &p->batches[i];
	struct replica_result *results = NULL;
	json_object *payload = msg_payload(env), *arr;
	const char *why;
	int64_t batch;
	int rc;

	if (!csync_answers(env, b->msgid) ||
	    !csync_same_sync(payload, p->sync_id) ||
	    msg_get_int(payload, "batch", &batch) != 0 ||
	    batch != (int64_t)i) {
		link_seterr(p->l, "SYNC_ACK out of order (expected batch %zu)",
		    i);
		return TR_EPROTO;
	}
	if (msg_get_array(payload, "results", &arr) != 0 ||
	    json_object_array_length(arr) != b->count) {
		link_seterr(p->l, "SYNC_ACK of batch %zu does not have one "
		    "result per record", i);
		return TR_EPROTO;
	}
	if ((results = calloc(b->count, sizeof(*results))) == NULL)
		return TR_ENOMEM;
	for (size_t k = 0; k < b->count; k++) {
		if (csync_result(json_object_array_get_idx(arr, k),
		    &p->send[b->first + k], &results[k], &why) != 0) {
			link_seterr(p->l, "SYNC_ACK of batch %zu, result %zu: "
			    "%s", i, k, why);
			rc = TR_EPROTO;
			goto out;
		}
	}
	rc = replica_push_ack(p->r, &p->send[b->first], results, b->count,
	    msg_now_ms());
	if (rc != 0) {
		link_seterr(p->l, "storing the results of batch %zu: %s", i,
		    tr_strerror(rc));
		goto out;
	}
	for (size_t k = 0; k < b->count; k++) {
		switch (results[k].status) {
		case REPLICA_APPLIED:
			p->res->applied++;
			break;
		case REPLICA_CONFLICT:
			p->res->conflicts++;
			log_debug("push: %s/%s: conflict (%s)",
			    p->send[b->first + k].collection,
			    p->send[b->first + k].id, results[k].reason);
			break;
		default:
			p->res->rejected++;
			log_debug("push: %s/%s: rejected (%s)",
			    p->send[b->first + k].collection,
			    p->send[b->first + k].id, results[k].reason);
			break;
		}
	}
	p->done += (int64_t)b->count;
	csync_progress(p->o, "push", p->done, (int64_t)p->nsend);
out:
	free(results);
	return rc;
}

/* Send the batches up to the window ahead and process the ACKs. */
static int
csync_push_exchange(struct csync_push *p, int window)
{
	json_object *env = NULL;
	size_t next = 0, acked = 0;
	int rc = 0;

	while (acked < p->nbatches) {
		while (next < p->nbatches && next - acked < (size_t)window) {
			if ((rc = csync_push_send(p, next)) != 0)
				goto out;
			next++;
		}
		if ((rc = link_recv(p->l, &env)) != 0)
			goto out;
		if (strcmp(msg_type(env), TR_MSG_ERROR) == 0) {
			rc = link_error(p->l, env);
			if (csync_answers(env, p->reqid))
				log_debug("push refused: nothing was applied");
			goto out;
		}
		if (strcmp(msg_type(env), TR_MSG_SYNC_ACK) != 0) {
			link_seterr(p->l, "unexpected %s during a push",
			    msg_type(env));
			rc = TR_EPROTO;
			goto out;
		}
		if ((rc = csync_push_ack(p, env, acked)) != 0)
			goto out;
		acked++;
		json_object_put(env);
		env = NULL;
	}
out:
	json_object_put(env);
	return rc;
}

/* Send our SYNC_COMPLETE and check the hub's. */
static int
csync_push_complete(struct csync_push *p)
{
	json_object *payload, *env = NULL;
	char cid[TR_UUID_LEN + 1];
	int64_t applied, conflicts, rejected, last_seq = 0;
	int rc;

	if ((payload = json_object_new_object()) == NULL)
		return TR_ENOMEM;
	json_object_object_add(payload, "sync_id",
	    json_object_new_string(p->sync_id));
	json_object_object_add(payload, "batches",
	    json_object_new_int64((int64_t)p->nbatches));
	if ((rc = link_send(p->l, TR_MSG_SYNC_COMPLETE, NULL, payload,
	    cid)) != 0)
		return rc;
	if ((rc = link_recv(p->l, &env)) != 0)
		return rc;
	if (strcmp(msg_type(env), TR_MSG_ERROR) == 0) {
		rc = link_error(p->l, env);
		goto out;
	}
	payload = msg_payload(env);
	if (strcmp(msg_type(env), TR_MSG_SYNC_COMPLETE) != 0 ||
	    !csync_answers(env, cid) ||
	    !csync_same_sync(payload, p->sync_id) ||
	    msg_get_int(payload, "applied", &applied) != 0 ||
	    msg_get_int(payload, "conflicts", &conflicts) != 0 ||
	    msg_get_int(payload, "rejected", &rejected) != 0 ||
	    ((rc = msg_get_int(payload, "last_seq", &last_seq)) != 0 &&
	    rc != TR_ENOTFOUND)) {
		link_seterr(p->l, "expected the hub's SYNC_COMPLETE, got a "
		    "malformed %s", msg_type(env));
		rc = TR_EPROTO;
		goto out;
	}
	rc = 0;
	log_debug("push %s complete: hub counts %lld applied, %lld "
	    "conflicts, %lld rejected, last_seq %lld", p->sync_id,
	    (long long)applied, (long long)conflicts, (long long)rejected,
	    (long long)last_seq);
out:
	json_object_put(env);
	return rc;
}

/* Cut the send list into batches of BATCH_SIZE records and LIMIT bytes (SIZES: canonical lengths). */
static int
csync_push_plan(struct csync_push *p, const size_t *sizes, int batch_size,
    size_t limit)
{
	size_t bytes = 0;

	if (p->nsend > 0 && (p->batches = calloc(p->nsend,
	    sizeof(*p->batches))) == NULL)
		return TR_ENOMEM;
	for (size_t i = 0; i < p->nsend; i++) {
		struct csync_batch *b = p->nbatches > 0 ?
		    &p->batches[p->nbatches - 1] : NULL;

		if (b == NULL || b->count == (size_t)batch_size ||
		    bytes + sizes[i] + 1 > limit) {
			b = &p->batches[p->nbatches++];
			b->first = i;
			bytes = 0;
		}
		b->count++;
		bytes += sizes[i] + 1;
	}
	return 0;
}

/* Add the sorted, distinct collections of P's send list to the array NAMES. */
static int
csync_push_names(struct csync_push *p, json_object *names)
{
	const char **cols;
	char *key = NULL, *tok, *save = NULL;
	int rc;

	if ((cols = calloc(p->nsend, sizeof(*cols))) == NULL)
		return TR_ENOMEM;
	for (size_t i = 0; i < p->nsend; i++)
		cols[i] = p->send[i].collection;
	rc = replica_set_key(cols, p->nsend, &key);
	free(cols);
	if (rc != 0)
		return rc;
	for (tok = strtok_r(key, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save))
		if ((rc = csync_array_add_str(names, tok)) != 0)
			break;
	free(key);
	return rc;
}

/* Push every queued change. */
int
csync_push(struct link *l, struct replica *r, const struct csync_opts *o,
    const char *only, struct trosyn_sync_result *res)
{
	struct replica_change *chg = NULL, *toobig = NULL;
	struct replica_result *toobig_res = NULL;
	struct csync_push p;
	json_object *req = NULL, *names = NULL;
	size_t n = 0, ntoobig = 0, *sizes = NULL, limit;
	int rc, batch_size, window;

	memset(&p, 0, sizeof(p));
	memset(res, 0, sizeof(*res));
	p.l = l;
	p.r = r;
	p.o = o;
	p.res = res;
	if ((rc = replica_pending_load(r, &chg, &n)) != 0) {
		link_seterr(l, "reading the queue: %s", tr_strerror(rc));
		goto out;
	}
	if (n == 0)
		goto out;
	csync_limits(l, o, &batch_size, &window);
	limit = l->max_message_size > CSYNC_ENVELOPE_ROOM ?
	    l->max_message_size - CSYNC_ENVELOPE_ROOM : 0;
	if ((p.send = calloc(n, sizeof(*p.send))) == NULL ||
	    (p.wire = calloc(n, sizeof(*p.wire))) == NULL ||
	    (sizes = calloc(n, sizeof(*sizes))) == NULL ||
	    (toobig = calloc(n, sizeof(*toobig))) == NULL ||
	    (toobig_res = calloc(n, sizeof(*toobig_res))) == NULL) {
		rc = TR_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		json_object *w;
		char *text = NULL;
		size_t len = 0;

		if (only != NULL && strcmp(chg[i].collection, only) != 0)
			continue;
		w = replica_change_json(&chg[i]);
		if (w == NULL || jcs_serialize(w, &text, &len) != 0) {
			json_object_put(w);
			link_seterr(l, "encoding the change of %s/%s",
			    chg[i].collection, chg[i].id);
			rc = TR_ENOMEM;
			goto out;
		}
		free(text);
		if (len + 1 > limit) {
			/* It could never travel in one SYNC_DATA. */
			json_object_put(w);
			toobig[ntoobig] = chg[i];
			toobig_res[ntoobig].status = REPLICA_REJECTED;
			snprintf(toobig_res[ntoobig].reason,
			    sizeof(toobig_res[ntoobig].reason), "too_large");
			ntoobig++;
			continue;
		}
		p.send[p.nsend] = chg[i];
		p.wire[p.nsend] = w;
		sizes[p.nsend] = len;
		p.nsend++;
	}
	if (ntoobig > 0) {
		if ((rc = replica_push_ack(r, toobig, toobig_res, ntoobig,
		    msg_now_ms())) != 0) {
			link_seterr(l, "storing local rejections: %s",
			    tr_strerror(rc));
			goto out;
		}
		res->rejected += (int64_t)ntoobig;
		log_debug("push: %zu changes too large for one message "
		    "rejected", ntoobig);
	}
	if (p.nsend == 0)
		goto out;
	if ((rc = csync_push_plan(&p, sizes, batch_size, limit)) != 0)
		goto out;

	/* The request: the collections written, the record count. */
	msg_new_uuid(p.sync_id);
	if ((req = json_object_new_object()) == NULL ||
	    (names = json_object_new_array()) == NULL) {
		rc = TR_ENOMEM;
		goto out;
	}
	if ((rc = csync_push_names(&p, names)) != 0)
		goto out;
	json_object_object_add(req, "sync_id",
	    json_object_new_string(p.sync_id));
	json_object_object_add(req, "direction",
	    json_object_new_string("push"));
	json_object_object_add(req, "collections", names);
	names = NULL;
	json_object_object_add(req, "records",
	    json_object_new_int64((int64_t)p.nsend));
	json_object_object_add(req, "window", json_object_new_int64(window));
	rc = link_send(l, TR_MSG_SYNC_REQUEST, NULL, req, p.reqid);
	req = NULL;
	if (rc != 0)
		goto out;
	log_debug("push %s: %zu changes in %zu batches", p.sync_id, p.nsend,
	    p.nbatches);
	res->records = (int64_t)p.nsend;
	res->batches = (int64_t)p.nbatches;
	if ((rc = csync_push_exchange(&p, window)) != 0)
		goto out;
	rc = csync_push_complete(&p);
out:
	for (size_t i = 0; p.wire != NULL && i < p.nsend; i++)
		json_object_put(p.wire[i]);
	free(p.wire);
	free(p.send);
	free(p.batches);
	free(sizes);
	free(toobig);
	free(toobig_res);
	json_object_put(req);
	json_object_put(names);
	replica_changes_free(chg, n);
	return rc;
}
