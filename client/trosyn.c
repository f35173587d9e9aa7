/* libtrosyn: the public API of trosyn.h on top of the replica, the link and the sync drivers. */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "beat.h"
#include "csync.h"
#include "disc.h"
#include "err.h"
#include "hex.h"
#include "jcs.h"
#include "kdf.h"
#include "link.h"
#include "log.h"
#include "msg.h"
#include "replica.h"
#include "runloop.h"
#include "thr.h"
#include "trosyn.h"
#include "xfer.h"

#define TROSYN_DEF_TIMEOUT	30
#define TROSYN_ERR_LEN		(LINK_ERR_LEN + 128)

struct trosyn {
	struct link_creds creds;
	struct replica *rep;
	char *host;			/* NULL: no hub given */
	uint16_t port;
	struct disc_opts disc;
	struct trosyn_hub hub;		/* the hub discovery chose */
	int have_hub;
	int timeout_s;
	trosyn_progress_fn progress;
	void *progress_arg;
	char *state_dir;

	/* File transfer. */
	uint16_t file_port;		/* 0: discovery's, else the default */
	char *files_dir;		/* NULL: sync does not fetch files */
	struct link_session xsess;	/* a session for file channels outside run */
	int has_xsess;

	/* trosyn_run: the session kept, the heartbeat thread. */
	int run;
	struct link_session sess;
	int has_sess;
	char *roles_key;		/* roles of the last login, for the cursor */
	struct beat *beat;
	struct sockaddr_storage beat_to;
	int connected;			/* a login succeeded in this round */

	/* trosyn_stop, from another thread. */
	pthread_mutex_t lock;
	int stop_pipe[2];
	int stopping;			/* under lock */
	int live_fd;			/* under lock: the socket of a sync, -1 = none */
	char err[TROSYN_ERR_LEN];
};

static int trosyn_stopping(trosyn *t);
static int trosyn_upload_sized(trosyn *t, const char *path,
    char sha256_out[65], int64_t *size_out);

/* Set T->err and return RC. */
static int
trosyn_fail(trosyn *t, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int
trosyn_fail(trosyn *t, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->err, sizeof(t->err), fmt, ap);
	va_end(ap);
	return rc;
}

/* Create DIR and its missing parents, the ones made with mode 0700. */
static int
trosyn_mkdirs(const char *dir, char *err, size_t errlen)
{
	struct stat st;
	char *p = strdup(dir), *s;
	int rc = 0;

	if (p == NULL)
		return TR_ENOMEM;
	for (s = p + 1; *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) != 0 && errno != EEXIST) {
			snprintf(err, errlen, "%s: %s", p, strerror(errno));
			rc = TR_EIO;
			goto out;
		}
		*s = '/';
	}
	if (mkdir(p, 0700) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", p, strerror(errno));
		rc = TR_EIO;
		goto out;
	}
	if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: not a directory", p);
		rc = TR_EINVAL;
	}
out:
	free(p);
	return rc;
}

/* Open the node. */
int
trosyn_open(const struct trosyn_options *opts, trosyn **out, char *err,
    size_t errlen)
{
	char dummy[8];
	trosyn *t = NULL;
	int rc;

	if (err == NULL || errlen == 0) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	*err = '\0';
	if (out == NULL)
		return TR_EINVAL;
	*out = NULL;
	if (opts == NULL || opts->credentials == NULL ||
	    opts->state_dir == NULL || *opts->state_dir == '\0' ||
	    opts->timeout_s < 0) {
		snprintf(err, errlen, "credentials and state_dir are required");
		return TR_EINVAL;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		snprintf(err, errlen, "%s", tr_strerror(TR_ENOMEM));
		return TR_ENOMEM;
	}
	t->stop_pipe[0] = t->stop_pipe[1] = -1;
	t->live_fd = -1;
	pthread_mutex_init(&t->lock, NULL);
	if (pipe2(t->stop_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		rc = TR_ESYS;
		goto out;
	}
	t->port = opts->hub_port != 0 ? opts->hub_port : TR_DEF_PORT;
	t->timeout_s = opts->timeout_s > 0 ? opts->timeout_s :
	    TROSYN_DEF_TIMEOUT;
	if (opts->hub_host != NULL && *opts->hub_host != '\0' &&
	    (t->host = strdup(opts->hub_host)) == NULL) {
		rc = TR_ENOMEM;
		snprintf(err, errlen, "%s", tr_strerror(rc));
		goto out;
	}
	if ((rc = disc_opts_set(&t->disc, NULL, err, errlen)) != 0)
		goto out;
	if ((rc = link_creds_load(opts->credentials, &t->creds, err,
	    errlen)) != 0)
		goto out;
	if ((rc = trosyn_mkdirs(opts->state_dir, err, errlen)) != 0)
		goto out;
	if ((t->state_dir = strdup(opts->state_dir)) == NULL) {
		rc = TR_ENOMEM;
		snprintf(err, errlen, "%s", tr_strerror(rc));
		goto out;
	}
	if ((rc = replica_open(opts->state_dir, t->creds.node_id,
	    &t->rep)) != 0) {
		snprintf(err, errlen, "%s/%s: %s", opts->state_dir,
		    REPLICA_FILE, rc == TR_EINVAL ?
		    "the replica belongs to another node" : tr_strerror(rc));
		goto out;
	}
	*out = t;
	t = NULL;
out:
	trosyn_close(t);
	return rc;
}

/* Close the node. */
void
trosyn_close(trosyn *t)
{
	if (t == NULL)
		return;
	replica_close(t->rep);
	link_creds_free(&t->creds);
	kdf_cleanse(&t->sess, sizeof(t->sess));
	kdf_cleanse(&t->xsess, sizeof(t->xsess));
	free(t->files_dir);
	for (int i = 0; i < 2; i++)
		if (t->stop_pipe[i] >= 0)
			close(t->stop_pipe[i]);
	pthread_mutex_destroy(&t->lock);
	free(t->roles_key);
	free(t->state_dir);
	free(t->host);
	free(t);
}

/* The node id. */
const char *
trosyn_node_id(const trosyn *t)
{
	return t != NULL ? t->creds.node_id : "";
}

/* Check a collection name and a record id, with a reason in T->err. */
static int
trosyn_check_key(trosyn *t, const char *what, const char *collection,
    const char *id)
{
	if (collection == NULL || !msg_valid_collection(collection))
		return trosyn_fail(t, TR_EINVAL, "%s: invalid collection name "
		    "(1-64 characters of [a-z0-9_.-])", what);
	if (id == NULL || !msg_valid_record_id(id, strlen(id)))
		return trosyn_fail(t, TR_EINVAL, "%s: invalid record id "
		    "(1-256 bytes of UTF-8)", what);
	return 0;
}

/* Check DATA_JSON for a put: a JSON object. */
static int
trosyn_check_data(trosyn *t, const char *data_json)
{
	json_object *o = NULL;
	int rc;

	if (data_json == NULL ||
	    (rc = jcs_parse(data_json, strlen(data_json), &o)) != 0)
		return trosyn_fail(t, TR_EINVAL, "put: data is not valid "
		    "JSON: %s", tr_strerror(data_json == NULL ? TR_EINVAL :
		    rc));
	rc = json_object_is_type(o, json_type_object);
	json_object_put(o);
	if (!rc)
		return trosyn_fail(t, TR_EINVAL, "put: data must be a JSON "
		    "object");
	return 0;
}

/* Queue a local change. */
int
trosyn_put(trosyn *t, const char *collection, const char *id,
    const char *data_json)
{
	int rc;

	if (t == NULL)
		return TR_EINVAL;
	if ((rc = trosyn_check_key(t, "put", collection, id)) != 0 ||
	    (rc = trosyn_check_data(t, data_json)) != 0)
		return rc;
	if ((rc = replica_put(t->rep, collection, id, data_json,
	    msg_now_ms())) != 0)
		return trosyn_fail(t, rc, "put: %s", tr_strerror(rc));
	return 0;
}

/* Queue a local change naming the file PATH, uploaded first. */
int
trosyn_put_file(trosyn *t, const char *collection, const char *id,
    const char *data_json, const char *path)
{
	char sha[2 * TR_HASH_LEN + 1], err[TROSYN_ERR_LEN];
	const char *name, *why;
	int64_t size = 0;
	int rc;

	if (t == NULL)
		return TR_EINVAL;
	if ((rc = trosyn_check_key(t, "put", collection, id)) != 0 ||
	    (rc = trosyn_check_data(t, data_json)) != 0)
		return rc;
	if (path == NULL || *path == '\0')
		return trosyn_fail(t, TR_EINVAL, "put: no file");
	name = strrchr(path, '/') != NULL ? strrchr(path, '/') + 1 : path;
	if (xfer_name_check(name, strlen(name), &why) != 0)
		return trosyn_fail(t, TR_EINVAL, "put: file name \"%s\" "
		    "refused: %s", name, why);
	if ((rc = trosyn_upload_sized(t, path, sha, &size)) != 0) {
		snprintf(err, sizeof(err), "%s", t->err);
		return trosyn_fail(t, rc, "put: %s (nothing queued)", err);
	}
	if ((rc = replica_put_file(t->rep, collection, id, data_json, sha,
	    size, name, msg_now_ms())) != 0)
		return trosyn_fail(t, rc, "put: %s", tr_strerror(rc));
	return 0;
}

/* Queue a local delete. */
int
trosyn_delete(trosyn *t, const char *collection, const char *id)
{
	int rc;

	if (t == NULL)
		return TR_EINVAL;
	if ((rc = trosyn_check_key(t, "delete", collection, id)) != 0)
		return rc;
	rc = replica_delete(t->rep, collection, id, msg_now_ms());
	if (rc == TR_ENOTFOUND)
		return trosyn_fail(t, rc, "delete: %s/%s: no such record",
		    collection, id);
	if (rc != 0)
		return trosyn_fail(t, rc, "delete: %s", tr_strerror(rc));
	return 0;
}

/* Hand O out as a malloc'd compact JSON text. */
static int
trosyn_text(trosyn *t, json_object *o, char **out)
{
	const char *s = json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

	if (s == NULL || (*out = strdup(s)) == NULL)
		return trosyn_fail(t, TR_ENOMEM, "%s",
		    tr_strerror(TR_ENOMEM));
	return 0;
}

/* One record as the node sees it. */
int
trosyn_get(trosyn *t, const char *collection, const char *id,
    char **record_json)
{
	json_object *o = NULL;
	int rc;

	if (t == NULL || record_json == NULL)
		return TR_EINVAL;
	*record_json = NULL;
	if ((rc = trosyn_check_key(t, "get", collection, id)) != 0)
		return rc;
	rc = replica_get_json(t->rep, collection, id, &o);
	if (rc == TR_ENOTFOUND)
		return trosyn_fail(t, rc, "get: %s/%s: no such record",
		    collection, id);
	if (rc != 0)
		return trosyn_fail(t, rc, "get: %s", tr_strerror(rc));
	rc = trosyn_text(t, o, record_json);
	json_object_put(o);
	return rc;
}

/* Every record of COLLECTION. */
int
trosyn_list_flags(trosyn *t, const char *collection, unsigned flags,
    char **array_json)
{
	json_object *o = NULL;
	int rc;

	if (t == NULL || array_json == NULL)
		return TR_EINVAL;
	*array_json = NULL;
	if (collection == NULL || !msg_valid_collection(collection))
		return trosyn_fail(t, TR_EINVAL, "list: invalid collection "
		    "name (1-64 characters of [a-z0-9_.-])");
	rc = replica_list_json(t->rep, collection,
	    (flags & TROSYN_LIST_DELETED) != 0,
	    (flags & TROSYN_LIST_PENDING) != 0, &o);
	if (rc != 0)
		return trosyn_fail(t, rc, "list: %s", tr_strerror(rc));
	rc = trosyn_text(t, o, array_json);
	json_object_put(o);
	return rc;
}

/* Every live record of COLLECTION (and tombstones with INCLUDE_DELETED). */
int
trosyn_list(trosyn *t, const char *collection, int include_deleted,
    char **array_json)
{
	return trosyn_list_flags(t, collection, include_deleted ?
	    TROSYN_LIST_DELETED : 0, array_json);
}

/* Report progress to FN. */
void
trosyn_set_progress(trosyn *t, trosyn_progress_fn fn, void *arg)
{
	if (t == NULL)
		return;
	t->progress = fn;
	t->progress_arg = arg;
}

/* The hub in use: the one given, else the one discovery chose (NULL when none yet). */
static const char *
trosyn_hub_host(const trosyn *t, uint16_t *port)
{
	if (t->host != NULL) {
		*port = t->port;
		return t->host;
	}
	*port = t->hub.port;
	return t->have_hub ? t->hub.address : NULL;
}

/* "HOST:PORT" of the hub in use (IPv6 addresses in brackets) into BUF; "" when none. */
static void
trosyn_hub_name(const trosyn *t, char *buf, size_t len)
{
	const char *host;
	uint16_t port;

	if ((host = trosyn_hub_host(t, &port)) == NULL) {
		snprintf(buf, len, "%s", "");
		return;
	}
	snprintf(buf, len, strchr(host, ':') != NULL ? "[%s]:%u" : "%s:%u",
	    host, (unsigned)port);
}

/* Remember the outcome of a sync: the error (NULL on success) and, on success, the time. */
static void
trosyn_note(trosyn *t, const char *error, int set_time)
{
	char when[32];

	replica_meta_set(t->rep, "last_error", error);
	if (set_time) {
		snprintf(when, sizeof(when), "%lld", (long long)msg_now_ms());
		replica_meta_set(t->rep, "last_sync", when);
	}
}

/* Set how T discovers hubs. */
int
trosyn_set_discovery(trosyn *t, const struct trosyn_discovery *d)
{
	struct disc_opts o;
	char err[256];
	int rc;

	if (t == NULL)
		return TR_EINVAL;
	if ((rc = disc_opts_set(&o, d, err, sizeof(err))) != 0)
		return trosyn_fail(t, rc, "discovery: %s", err);
	t->disc = o;
	t->have_hub = 0;
	return 0;
}

/* Discover the hubs of the site, stopping early when STOPFD is readable. */
static int
trosyn_discover_fd(trosyn *t, int stopfd, struct trosyn_hub **hubs,
    size_t *n)
{
	char err[256];
	int rc;

	if ((rc = disc_run(&t->creds, &t->disc, stopfd, hubs, n, err,
	    sizeof(err))) != 0)
		return trosyn_fail(t, rc, "discover: %s", err);
	return 0;
}

/* Discover the hubs of the site. */
int
trosyn_discover(trosyn *t, struct trosyn_hub **hubs, size_t *n)
{
	if (t == NULL || hubs == NULL || n == NULL)
		return TR_EINVAL;
	return trosyn_discover_fd(t, -1, hubs, n);
}

/* Discover and keep the least-loaded hub whose certificate is pinned. */
static int
trosyn_choose_hub(trosyn *t, int stopfd)
{
	struct trosyn_hub *hubs = NULL;
	size_t n = 0;
	int rc, best;

	t->have_hub = 0;
	if ((rc = trosyn_discover_fd(t, stopfd, &hubs, &n)) != 0)
		return rc;
	if ((best = disc_pick(hubs, n)) < 0) {
		rc = trosyn_fail(t, TR_EPIN, "discover: %zu hub%s answered, "
		    "none with the certificate pinned in the credentials", n,
		    n == 1 ? "" : "s");
		goto out;
	}
	t->hub = hubs[best];
	t->have_hub = 1;
	log_debug("discover: using hub %s at %s port %u (load %d)",
	    t->hub.hub_id, t->hub.address, (unsigned)t->hub.port, t->hub.load);
out:
	free(hubs);
	return rc;
}

/* Point the heartbeats at the discovery port of the hub L is connected to. */
static void
trosyn_beat_target(trosyn *t, const struct link *l)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	memset(&ss, 0, sizeof(ss));
	if (getpeername(l->fd, (struct sockaddr *)&ss, &len) != 0)
		return;
	if (ss.ss_family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = htons(t->disc.port);
	else if (ss.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(t->disc.port);
	else
		return;
	if (memcmp(&ss, &t->beat_to, sizeof(ss)) == 0)
		return;
	t->beat_to = ss;
	beat_set_target(t->beat, (struct sockaddr *)&ss, len);
}

/* Keep the session of L (a login with the enrolled method) for later connections and heartbeats. */
static int
trosyn_keep_session(trosyn *t, const struct link *l)
{
	struct beat_session bs;
	int rc;

	link_session_get(l, &t->sess);
	t->has_sess = 1;
	if ((rc = beat_session_init(&bs, t->creds.node_id, t->sess.session_id,
	    t->sess.root)) != 0)
		return rc;
	beat_set_session(t->beat, &bs, t->sess.heartbeat_interval);
	beat_session_clear(&bs);
	log_info("logged in to hub %s, session %s for %lld s", l->hub_id,
	    t->sess.session_id, (long long)((t->sess.expires_ms -
	    t->sess.login_ms + 500) / 1000));
	return 0;
}

/* Log in for trosyn_run: by the kept session's token while it lasts, else with the enrolled method. */
static int
trosyn_run_login(trosyn *t, struct link *l, const struct link_target *target)
{
	int rc;

	if (t->has_sess && msg_now_ms() < runloop_relogin_at(t->sess.login_ms,
	    t->sess.expires_ms)) {
		rc = link_open_token_once(l, &t->creds, target, &t->sess);
		if (rc != TR_ETOKEN)
			return rc;
		log_info("the hub no longer knows session %s; logging in "
		    "again", t->sess.session_id);
	} else if (t->has_sess)
		log_info("session %s ends soon; logging in again",
		    t->sess.session_id);
	kdf_cleanse(&t->sess, sizeof(t->sess));
	t->has_sess = 0;
	beat_set_session(t->beat, NULL, 0);
	if ((rc = link_open_once(l, &t->creds, target)) != 0)
		return rc;
	if ((rc = trosyn_keep_session(t, l)) != 0)
		link_seterr(l, "heartbeat key: %s", tr_strerror(rc));
	return rc;
}

/* Remember the roles of L's login, which select the cursor heartbeats report. */
static void
trosyn_keep_roles(trosyn *t, const struct link *l)
{
	const char *roles[LINK_MAX_ROLES];
	char *key = NULL;

	for (int i = 0; i < l->nroles; i++)
		roles[i] = l->roles[i];
	if (replica_roles_key(roles, (size_t)l->nroles, &key) == 0) {
		free(t->roles_key);
		t->roles_key = key;
	}
}

/* Close L, first forgetting its socket for trosyn_stop. */
static void
trosyn_disconnect(trosyn *t, struct link *l)
{
	thr_lock(&t->lock);
	t->live_fd = -1;
	thr_unlock(&t->lock);
	link_close(l);
}

/* Connect and log in for a sync of direction WHAT. */
static int
trosyn_connect(trosyn *t, const char *what, struct link *l)
{
	struct link_target target;
	char hub[300];
	int rc, stopping;

	memset(l, 0, sizeof(*l));
	l->fd = -1;
	if (t->host == NULL && !t->have_hub &&
	    (rc = trosyn_choose_hub(t, t->run ? t->stop_pipe[0] : -1)) != 0)
		return rc;
	target.host = trosyn_hub_host(t, &target.port);
	target.timeout_s = t->timeout_s;
	/* The service loop retries on its own schedule, and keeps its session. */
	if (t->run)
		rc = trosyn_run_login(t, l, &target);
	else
		rc = link_open(l, &t->creds, &target);
	if (rc != 0)
		return trosyn_fail(t, rc, "%s: %s", what, l->err);
	thr_lock(&t->lock);
	if (!(stopping = t->stopping))
		t->live_fd = l->fd;
	thr_unlock(&t->lock);
	if (stopping) {
		link_close(l);
		return trosyn_fail(t, TR_ECLOSED, "%s: stopped", what);
	}
	t->connected = 1;
	trosyn_keep_roles(t, l);
	if (t->run)
		trosyn_beat_target(t, l);
	trosyn_hub_name(t, hub, sizeof(hub));
	replica_meta_set(t->rep, "hub", hub);
	replica_meta_set(t->rep, "hub_id", l->hub_id);
	return 0;
}

/* The options of one sync. */
static void
trosyn_sync_opts(const trosyn *t, struct csync_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->progress = t->progress;
	o->progress_arg = t->progress_arg;
}

/* Pull from the hub. */
int
trosyn_pull(trosyn *t, const char *const *collections, size_t n,
    struct trosyn_sync_result *res)
{
	struct trosyn_sync_result local;
	struct link_sigpipe sp;
	struct csync_opts o;
	struct link l;
	int rc;

	if (t == NULL)
		return TR_EINVAL;
	if (res == NULL)
		res = &local;
	memset(res, 0, sizeof(*res));
	if (n > 0 && collections == NULL)
		return trosyn_fail(t, TR_EINVAL, "pull: no collections");
	for (size_t i = 0; i < n; i++)
		if (collections[i] == NULL ||
		    !msg_valid_collection(collections[i]))
			return trosyn_fail(t, TR_EINVAL, "pull: invalid "
			    "collection name (1-64 characters of [a-z0-9_.-])");
	link_sigpipe_block(&sp);
	if ((rc = trosyn_connect(t, "pull", &l)) != 0)
		goto out;
	trosyn_sync_opts(t, &o);
	if ((rc = csync_pull(&l, t->rep, collections, n, &o, res)) != 0)
		trosyn_fail(t, rc, "pull: %s", l.err);
	trosyn_disconnect(t, &l);
out:
	link_sigpipe_restore(&sp);
	/* replica_pull_complete stored the time of a successful pull. */
	trosyn_note(t, rc != 0 ? t->err : NULL, 0);
	return rc;
}

/* Push the queued changes. */
/*
 * The hub refused a push naming every queued collection: push them one
 * collection at a time, so that the collections the node may write still
 * go through.  Each gets a connection of its own: batches sent ahead of a
 * refusal draw answers that would otherwise be read as the next push's.
 * The refused ones stay queued and their refusal is the result.
 */
static int
trosyn_push_each(trosyn *t, const struct csync_opts *o,
    struct trosyn_sync_result *res)
{
	struct replica_change *chg = NULL;
	struct trosyn_sync_result sub;
	struct link l;
	char refused[256] = "";
	size_t n = 0;
	int rc, denied = 0;

	memset(res, 0, sizeof(*res));
	if ((rc = replica_pending_load(t->rep, &chg, &n)) != 0)
		return trosyn_fail(t, rc, "push: %s", tr_strerror(rc));
	for (size_t i = 0; i < n; i++) {
		int seen = 0;

		for (size_t j = 0; j < i && !seen; j++)
			seen = strcmp(chg[j].collection, chg[i].collection) == 0;
		if (seen)
			continue;
		if ((rc = trosyn_connect(t, "push", &l)) != 0)
			goto out;
		rc = csync_push(&l, t->rep, o, chg[i].collection, &sub);
		if (rc != 0 && rc != TR_EACCES)
			trosyn_fail(t, rc, "push: %s", l.err);
		trosyn_disconnect(t, &l);
		if (rc == TR_EACCES) {
			denied++;
			if (strlen(refused) + strlen(chg[i].collection) + 2 <
			    sizeof(refused))
				snprintf(refused + strlen(refused),
				    sizeof(refused) - strlen(refused), "%s%s",
				    refused[0] != '\0' ? " " : "",
				    chg[i].collection);
			continue;
		}
		if (rc != 0)
			goto out;
		res->records += sub.records;
		res->batches += sub.batches;
		res->applied += sub.applied;
		res->conflicts += sub.conflicts;
		res->rejected += sub.rejected;
	}
	rc = 0;
	if (denied > 0)
		rc = trosyn_fail(t, TR_EACCES, "push: ACCESS_DENIED for %s "
		    "(the changes stay queued; the other collections were "
		    "pushed)", refused);
out:
	replica_changes_free(chg, n);
	return rc;
}

int
trosyn_push(trosyn *t, struct trosyn_sync_result *res)
{
	struct trosyn_sync_result local;
	struct link_sigpipe sp;
	struct csync_opts o;
	struct link l;
	int64_t pending = 0;
	int rc;

	if (t == NULL)
		return TR_EINVAL;
	if (res == NULL)
		res = &local;
	memset(res, 0, sizeof(*res));
	if ((rc = replica_pending_count(t->rep, &pending)) != 0)
		return trosyn_fail(t, rc, "push: %s", tr_strerror(rc));
	if (pending == 0)
		return 0;
	link_sigpipe_block(&sp);
	if ((rc = trosyn_connect(t, "push", &l)) != 0)
		goto out;
	trosyn_sync_opts(t, &o);
	rc = csync_push(&l, t->rep, &o, NULL, res);
	if (rc != 0 && rc != TR_EACCES)
		trosyn_fail(t, rc, "push: %s", l.err);
	trosyn_disconnect(t, &l);
	if (rc == TR_EACCES)
		rc = trosyn_push_each(t, &o, res);
out:
	link_sigpipe_restore(&sp);
	trosyn_note(t, rc != 0 ? t->err : NULL, rc == 0);
	return rc;
}

/* Use file-channel port PORT (0: discovery's, else the default). */
void
trosyn_set_file_port(trosyn *t, uint16_t port)
{
	if (t != NULL)
		t->file_port = port;
}

/* Materialize files of pulled records in DIR (NULL: off). */
int
trosyn_set_files_dir(trosyn *t, const char *dir)
{
	char *copy = NULL;

	if (t == NULL)
		return TR_EINVAL;
	if (dir != NULL && *dir != '\0' && (copy = strdup(dir)) == NULL)
		return trosyn_fail(t, TR_ENOMEM, "%s", tr_strerror(TR_ENOMEM));
	free(t->files_dir);
	t->files_dir = copy;
	return 0;
}

/* A session for a file channel into S: the run loop's, a kept one, or a new login. */
static int
trosyn_file_session(trosyn *t, const char *what, int fresh,
    struct link_session *s)
{
	struct link l;
	int rc;

	if (fresh) {
		t->has_xsess = 0;
		if (t->run && t->has_sess) {
			/* The service loop logs in again on its next connect. */
			t->sess.expires_ms = 0;
		}
	}
	if (t->run && t->has_sess && msg_now_ms() <
	    runloop_relogin_at(t->sess.login_ms, t->sess.expires_ms)) {
		*s = t->sess;
		return 0;
	}
	if (!t->run && t->has_xsess && msg_now_ms() <
	    runloop_relogin_at(t->xsess.login_ms, t->xsess.expires_ms)) {
		*s = t->xsess;
		return 0;
	}
	if ((rc = trosyn_connect(t, what, &l)) != 0)
		return rc;
	if (t->run && t->has_sess)
		*s = t->sess;
	else {
		link_session_get(&l, &t->xsess);
		t->has_xsess = 1;
		*s = t->xsess;
	}
	trosyn_disconnect(t, &l);
	return 0;
}

/* What the file-channel connect callback needs. */
struct trosyn_xconn {
	trosyn *t;
	const char *what;
};

/* Connect to the hub's file channel and log in with the session's token (xfer_connect_fn). */
static int
trosyn_xconnect(void *arg, struct link *l)
{
	struct trosyn_xconn *xc = arg;
	trosyn *t = xc->t;
	struct link_session s;
	struct link_target target;
	int rc;

	memset(l, 0, sizeof(*l));
	l->fd = -1;
	for (int fresh = 0; fresh < 2; fresh++) {
		if ((rc = trosyn_file_session(t, xc->what, fresh, &s)) != 0) {
			link_seterr(l, "%s", t->err);
			return rc;
		}
		target.host = trosyn_hub_host(t, &target.port);
		if (t->file_port != 0)
			target.port = t->file_port;
		else if (t->host == NULL && t->have_hub && t->hub.file_port != 0)
			target.port = t->hub.file_port;
		else
			target.port = TR_DEF_FILE_PORT;
		target.timeout_s = t->timeout_s;
		rc = link_open_token_once(l, &t->creds, &target, &s);
		kdf_cleanse(&s, sizeof(s));
		/* A session the hub forgot: one new login, then once more. */
		if (rc != TR_ETOKEN)
			break;
		log_debug("%s: the hub no longer knows the session; logging in "
		    "again", xc->what);
	}
	return rc;
}

/* The options of a transfer for WHAT. */
static void
trosyn_xfer_opts(trosyn *t, struct trosyn_xconn *xc, const char *what,
    char *partial, size_t plen, struct xfer_opts *o)
{
	xc->t = t;
	xc->what = what;
	snprintf(partial, plen, "%s/%s", t->state_dir, XFER_PARTIAL_DIR);
	memset(o, 0, sizeof(*o));
	o->connect = trosyn_xconnect;
	o->connect_arg = xc;
	o->partial_dir = partial;
	o->progress = t->progress;
	o->progress_arg = t->progress_arg;
	o->retries = -1;
}

/* Fetch one blob into OUT (WANT_SIZE -1 when unknown); T->err says why not. */
static int
trosyn_fetch_one(trosyn *t, const char *sha256_hex, int64_t want_size,
    const char *out, const char *what)
{
	struct trosyn_xconn xc;
	struct xfer_result res;
	struct xfer_opts o;
	char partial[4096];
	int rc;

	trosyn_xfer_opts(t, &xc, what, partial, sizeof(partial), &o);
	if ((rc = xfer_fetch(&o, sha256_hex, want_size, out, &res)) != 0)
		return trosyn_fail(t, rc, "%s: %s", what, res.err);
	if (res.offset > 0)
		log_info("%s %s: resumed at %lld of %lld bytes", what,
		    sha256_hex, (long long)res.offset, (long long)res.size);
	return 0;
}

/* Fetch a blob into OUTPUT_PATH. */
int
trosyn_fetch(trosyn *t, const char *sha256_hex, const char *output_path)
{
	struct link_sigpipe sp;
	int rc;

	if (t == NULL)
		return TR_EINVAL;
	if (sha256_hex == NULL || !hex_valid(sha256_hex, strlen(sha256_hex),
	    TR_HASH_LEN))
		return trosyn_fail(t, TR_EINVAL, "fetch: the blob name must be "
		    "a SHA-256 in 64 lowercase hex digits");
	if (output_path == NULL || *output_path == '\0')
		return trosyn_fail(t, TR_EINVAL, "fetch: no output path");
	link_sigpipe_block(&sp);
	rc = trosyn_fetch_one(t, sha256_hex, -1, output_path, "fetch");
	link_sigpipe_restore(&sp);
	return rc;
}

/* Upload the file PATH; its hash to SHA256_OUT, its size to *SIZE_OUT. */
static int
trosyn_upload_sized(trosyn *t, const char *path, char sha256_out[65],
    int64_t *size_out)
{
	struct trosyn_xconn xc;
	struct xfer_result res;
	struct link_sigpipe sp;
	struct xfer_opts o;
	char partial[4096], hex[2 * TR_HASH_LEN + 1], err[512];
	int64_t size = 0;
	int rc;

	if (t == NULL)
		return TR_EINVAL;
	if (path == NULL || *path == '\0')
		return trosyn_fail(t, TR_EINVAL, "upload: no file");
	if ((rc = xfer_hash_file(path, hex, &size, err, sizeof(err))) != 0)
		return trosyn_fail(t, rc, "upload: %s", err);
	link_sigpipe_block(&sp);
	trosyn_xfer_opts(t, &xc, "upload", partial, sizeof(partial), &o);
	rc = xfer_upload(&o, path, hex, size, &res);
	link_sigpipe_restore(&sp);
	if (rc != 0)
		return trosyn_fail(t, rc, "upload: %s", res.err);
	if (res.offset > 0)
		log_info("upload %s: %s", hex, res.already ? "the hub holds "
		    "it already" : "resumed at the hub's offset");
	if (sha256_out != NULL)
		memcpy(sha256_out, hex, sizeof(hex));
	*size_out = size;
	return 0;
}

/* Upload the file PATH. */
int
trosyn_upload(trosyn *t, const char *path, char sha256_out[65])
{
	int64_t size;

	return trosyn_upload_sized(t, path, sha256_out, &size);
}

/* The meta key remembering what a files-dir entry NAME was materialized as. */
static char *
trosyn_file_meta_key(const char *name)
{
	char *key = NULL;

	if (asprintf(&key, "file:%s", name) < 0)
		return NULL;
	return key;
}

/* Non-zero when PATH already holds the blob of REC (a remembered stat, else by hashing). */
static int
trosyn_file_present(trosyn *t, const char *path, const struct replica_rec *rec)
{
	char *key = trosyn_file_meta_key(rec->file_name), *seen = NULL;
	char stamp[256], hex[2 * TR_HASH_LEN + 1], err[256];
	struct stat st;
	int64_t size;
	int ok = 0;

	if (key == NULL || stat(path, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (int64_t)st.st_size != rec->file_size)
		goto out;
	snprintf(stamp, sizeof(stamp), "%s %lld %lld.%09ld %llu",
	    rec->file_sha256, (long long)st.st_size, (long long)st.st_mtim.tv_sec,
	    st.st_mtim.tv_nsec, (unsigned long long)st.st_ino);
	if (replica_meta_get(t->rep, key, &seen) == 0 &&
	    strcmp(seen, stamp) == 0) {
		ok = 1;
		goto out;
	}
	if (xfer_hash_file(path, hex, &size, err, sizeof(err)) == 0 &&
	    strcmp(hex, rec->file_sha256) == 0) {
		ok = 1;
		replica_meta_set(t->rep, key, stamp);
	}
out:
	free(seen);
	free(key);
	return ok;
}

/* Remember that PATH was just materialized from REC. */
static void
trosyn_file_note(trosyn *t, const char *path, const struct replica_rec *rec)
{
	char *key = trosyn_file_meta_key(rec->file_name);
	char stamp[256];
	struct stat st;

	if (key != NULL && stat(path, &st) == 0) {
		snprintf(stamp, sizeof(stamp), "%s %lld %lld.%09ld %llu",
		    rec->file_sha256, (long long)st.st_size,
		    (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
		    (unsigned long long)st.st_ino);
		replica_meta_set(t->rep, key, stamp);
	}
	free(key);
}

/* Copy NAME with control characters shown as '?' into BUF, for messages. */
static void
trosyn_show_name(const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s", name);
	for (char *p = buf; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
}

/* Keep the first problem of a files pass in FIRST (and its code in *FIRST_RC); log each. */
static void
trosyn_files_problem(char *first, size_t len, int *first_rc, int rc,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void
trosyn_files_problem(char *first, size_t len, int *first_rc, int rc,
    const char *fmt, ...)
{
	char msg[TROSYN_ERR_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_warn("%s", msg);
	if (*first_rc == 0) {
		*first_rc = rc;
		snprintf(first, len, "%s", msg);
	}
}

/* Bring the files of the replica's live records into the files dir. */
int
trosyn_fetch_files(trosyn *t, struct trosyn_files_result *res)
{
	struct trosyn_files_result local;
	struct replica_rec *recs = NULL;
	struct link_sigpipe sp;
	char first[TROSYN_ERR_LEN] = "", shown[300], *path = NULL;
	const char *why;
	size_t n = 0;
	int rc, first_rc = 0;

	if (t == NULL)
		return TR_EINVAL;
	if (res == NULL)
		res = &local;
	memset(res, 0, sizeof(*res));
	if (t->files_dir == NULL)
		return trosyn_fail(t, TR_EINVAL, "files: no files directory "
		    "set");
	if ((rc = trosyn_mkdirs(t->files_dir, first, sizeof(first))) != 0)
		return trosyn_fail(t, rc, "files: %s", first);
	if ((rc = replica_files_load(t->rep, &recs, &n)) != 0)
		return trosyn_fail(t, rc, "files: %s", tr_strerror(rc));
	link_sigpipe_block(&sp);
	res->files = (int64_t)n;
	for (size_t i = 0; i < n; i++) {
		const struct replica_rec *r = &recs[i];
		int clash = 0;

		trosyn_show_name(r->file_name, shown, sizeof(shown));
		if (xfer_name_check(r->file_name, strlen(r->file_name),
		    &why) != 0) {
			res->refused++;
			trosyn_files_problem(first, sizeof(first), &first_rc,
			    TR_EINVAL, "files: %s/%s: file name \"%s\" "
			    "refused: %s", r->collection, r->id, shown, why);
			continue;
		}
		for (size_t j = i + 1; j < n && !clash; j++)
			clash = strcmp(recs[j].file_name, r->file_name) == 0 &&
			    strcmp(recs[j].file_sha256, r->file_sha256) != 0 ?
			    (int)j : 0;
		if (clash) {
			res->refused++;
			trosyn_files_problem(first, sizeof(first), &first_rc,
			    TR_EINVAL, "files: %s/%s: file name \"%s\" "
			    "refused: %s/%s names other content with it",
			    r->collection, r->id, shown,
			    recs[clash].collection, recs[clash].id);
			continue;
		}
		free(path);
		if (asprintf(&path, "%s/%s", t->files_dir, r->file_name) < 0) {
			path = NULL;
			rc = trosyn_fail(t, TR_ENOMEM, "%s",
			    tr_strerror(TR_ENOMEM));
			goto out;
		}
		if (trosyn_file_present(t, path, r)) {
			res->present++;
			continue;
		}
		if (t->run && trosyn_stopping(t)) {
			rc = trosyn_fail(t, TR_ECLOSED, "files: stopped");
			goto out;
		}
		if ((rc = trosyn_fetch_one(t, r->file_sha256, r->file_size,
		    path, "fetch")) != 0) {
			res->failed++;
			trosyn_files_problem(first, sizeof(first), &first_rc,
			    rc, "files: %s/%s (%s): %s", r->collection, r->id,
			    shown, t->err);
			continue;
		}
		trosyn_file_note(t, path, r);
		res->fetched++;
	}
	rc = first_rc;
	if (rc != 0)
		trosyn_fail(t, rc, "%s%s", first, res->refused + res->failed >
		    1 ? " (and more; see the log)" : "");
out:
	link_sigpipe_restore(&sp);
	free(path);
	replica_recs_free(recs, n);
	return rc;
}

/* The short code a heartbeat reports for a failure RC (PROTOCOL.md section 8). */
static const char *
trosyn_beat_code(int rc)
{
	switch (rc) {
	case 0:
		return "";
	case TR_ECLOSED:
	case TR_ETRUNC:
	case TR_EIO:
	case TR_ETIMEDOUT:
	case TR_ESYS:
	case TR_ETLS:
		return "HUB_UNREACHABLE";
	case TR_ENOTFOUND:
		return "NO_HUB";
	case TR_EPIN:
		return "PIN_MISMATCH";
	case TR_ESIG:
		return "BAD_SIGNATURE";
	case TR_EDB:
		return "LOCAL_DATABASE";
	default:
		return tr_err_code(rc);
	}
}

/* Non-zero when RC says the hub could not be reached or the connection broke. */
static int
trosyn_net_error(int rc)
{
	return strcmp(trosyn_beat_code(rc), "HUB_UNREACHABLE") == 0 ||
	    rc == TR_EBUSY;
}

/* Hand the heartbeat thread the node's figures: STATE, the cursor, the queue, the error RC. */
static int
trosyn_figures(trosyn *t, enum beat_state state, int rc, int64_t *pending)
{
	struct beat_figures f;
	int lrc;

	memset(&f, 0, sizeof(f));
	f.state = state;
	f.disk_free = -1;
	snprintf(f.last_error, sizeof(f.last_error), "%s",
	    trosyn_beat_code(rc));
	if ((lrc = replica_pending_count(t->rep, &f.pending)) != 0 ||
	    (t->roles_key != NULL && (lrc = replica_cursor_report(t->rep,
	    t->roles_key, &f.cursor)) != 0))
		return lrc;
	beat_set_figures(t->beat, &f);
	*pending = f.pending;
	return 0;
}

/* Non-zero once trosyn_stop was called. */
static int
trosyn_stopping(trosyn *t)
{
	int v;

	thr_lock(&t->lock);
	v = t->stopping;
	thr_unlock(&t->lock);
	return v;
}

/* One round of the service loop: pull then push (SYNC), or only a new login; the first failure. */
static int
trosyn_round(trosyn *t, int sync)
{
	struct trosyn_sync_result pull, push;
	struct trosyn_files_result files;
	struct link l;
	int rc, prc, frc = 0;

	if (!sync) {
		if ((rc = trosyn_connect(t, "login", &l)) == 0)
			trosyn_disconnect(t, &l);
		return rc;
	}
	rc = trosyn_pull(t, NULL, 0, &pull);
	if (rc == 0 && pull.records > 0)
		log_info("pulled %lld record%s, cursor %lld%s",
		    (long long)pull.records, pull.records == 1 ? "" : "s",
		    (long long)pull.cursor, pull.reset ? " (reset)" : "");
	/* A broken link or a stop ends the round; a refusal does not. */
	if (rc != 0 && (trosyn_net_error(rc) || trosyn_stopping(t)))
		return rc;
	if (rc == 0 && t->files_dir != NULL) {
		frc = trosyn_fetch_files(t, &files);
		if (files.fetched > 0)
			log_info("fetched %lld file%s into %s",
			    (long long)files.fetched, files.fetched == 1 ? "" :
			    "s", t->files_dir);
		if (frc != 0 && (trosyn_net_error(frc) || trosyn_stopping(t)))
			return frc;
	}
	prc = trosyn_push(t, &push);
	if (prc == 0 && push.records + push.rejected > 0)
		log_info("pushed %lld record%s: %lld applied, %lld conflict%s, "
		    "%lld rejected", (long long)push.records,
		    push.records == 1 ? "" : "s", (long long)push.applied,
		    (long long)push.conflicts, push.conflicts == 1 ? "" : "s",
		    (long long)push.rejected);
	return rc != 0 ? rc : prc != 0 ? prc : frc;
}

/* Wait until WAKE (monotonic ms) or a stop. */
static void
trosyn_wait(trosyn *t, long long wake)
{
	struct pollfd pfd;
	long long now = thr_mono_ms();

	if (wake <= now)
		return;
	pfd.fd = t->stop_pipe[0];
	pfd.events = POLLIN;
	pfd.revents = 0;
	poll(&pfd, 1, (int)(wake - now));
}

/* The node as a service. */
int
trosyn_run(trosyn *t, const struct trosyn_run_options *o)
{
	struct runloop rl;
	struct link_sigpipe sp;
	long long now, wake;
	int64_t pending = 0, seen_pending = -1, relogin;
	char buf[64];
	int rc = 0, sync, last_rc = 0;

	if (t == NULL)
		return TR_EINVAL;
	if (t->run)
		return trosyn_fail(t, TR_EINVAL, "run: already running");
	if ((t->beat = beat_start(t->state_dir)) == NULL)
		return trosyn_fail(t, TR_ENOMEM, "run: cannot start the "
		    "heartbeat thread");
	link_sigpipe_block(&sp);
	t->run = 1;
	memset(&t->beat_to, 0, sizeof(t->beat_to));
	runloop_init(&rl, o != NULL ? o->sync_interval_s : 0, thr_mono_ms());
	while (!trosyn_stopping(t)) {
		now = thr_mono_ms();
		if ((rc = trosyn_figures(t, last_rc != 0 ? BEAT_ERROR :
		    BEAT_IDLE, last_rc, &pending)) != 0)
			break;
		/* New local changes go out at once, unless backing off. */
		sync = now >= rl.next_sync_ms || (rl.failures == 0 &&
		    seen_pending >= 0 && pending > seen_pending);
		seen_pending = pending;
		relogin = t->has_sess ? runloop_relogin_at(t->sess.login_ms,
		    t->sess.expires_ms) : INT64_MAX;
		if (sync || msg_now_ms() >= relogin) {
			if (t->host == NULL && runloop_rediscover_due(&rl, now)) {
				log_info("the hub stayed unreachable for %d "
				    "heartbeat intervals: discovering again",
				    RUNLOOP_OFFLINE_BEATS);
				t->have_hub = 0;
			}
			t->connected = 0;
			if ((rc = trosyn_figures(t, BEAT_SYNCING, last_rc,
			    &pending)) != 0)
				break;
			rc = trosyn_round(t, sync);
			if (trosyn_stopping(t)) {
				rc = 0;
				break;
			}
			if (rc == TR_EDB || rc == TR_ENOMEM)
				break;
			if (rc != 0 && (rc != last_rc || rl.failures == 0))
				log_warn("%s", t->err);
			else if (rc == 0 && last_rc != 0)
				log_info("the hub answers again");
			runloop_done(&rl, rc == 0 || (t->connected &&
			    !trosyn_net_error(rc)), thr_mono_ms());
			if (t->has_sess)
				rl.heartbeat_s = t->sess.heartbeat_interval;
			if (rl.failures > 0)
				log_debug("next attempt in %lld ms",
				    rl.next_sync_ms - thr_mono_ms());
			last_rc = rc;
			rc = 0;
			/* What this round pushed is not new. */
			if (replica_pending_count(t->rep, &pending) == 0)
				seen_pending = pending;
			continue;
		}
		/* Wake for the next sync or login, and each second for local changes. */
		wake = rl.next_sync_ms;
		if (relogin != INT64_MAX && now + (relogin - msg_now_ms()) < wake)
			wake = now + (relogin - msg_now_ms());
		if (wake > now + 1000)
			wake = now + 1000;
		trosyn_wait(t, wake);
	}
	beat_stop(t->beat);
	t->beat = NULL;
	t->run = 0;
	kdf_cleanse(&t->sess, sizeof(t->sess));
	t->has_sess = 0;
	/* The stop is spent. */
	thr_lock(&t->lock);
	t->stopping = 0;
	while (read(t->stop_pipe[0], buf, sizeof(buf)) > 0)
		;
	thr_unlock(&t->lock);
	link_sigpipe_restore(&sp);
	if (rc != 0)
		return trosyn_fail(t, rc, "run: %s", tr_strerror(rc));
	return 0;
}

/* Make trosyn_run return soon. */
void
trosyn_stop(trosyn *t)
{
	if (t == NULL)
		return;
	thr_lock(&t->lock);
	t->stopping = 1;
	if (write(t->stop_pipe[1], "x", 1) < 0 && errno != EAGAIN)
		log_debug("stop: %s", strerror(errno));
	/* A sync in progress ends at once; the protocol resumes it later. */
	if (t->live_fd >= 0)
		shutdown(t->live_fd, SHUT_RDWR);
	thr_unlock(&t->lock);
}

/* Add meta KEY to O as MEMBER: a string, a timestamp (AS_TIME), or null. */
static int
trosyn_status_meta(trosyn *t, json_object *o, const char *member,
    const char *key, int as_time)
{
	json_object *v = NULL;
	char *s = NULL, when[32];
	int rc;

	rc = replica_meta_get(t->rep, key, &s);
	if (rc == 0) {
		if (as_time) {
			msg_format_time(strtoll(s, NULL, 10), when,
			    sizeof(when));
			v = json_object_new_string(when);
		} else
			v = json_object_new_string(s);
		if (v == NULL)
			rc = TR_ENOMEM;
	} else if (rc == TR_ENOTFOUND)
		rc = 0;
	free(s);
	if (rc == 0 && json_object_object_add(o, member, v) != 0)
		rc = TR_ENOMEM;
	return rc;
}

/* Status as a JSON object. */
int
trosyn_status(trosyn *t, char **status_json)
{
	json_object *o = NULL, *cursors = NULL;
	char hub[300];
	int64_t pending = 0;
	uint16_t port;
	int rc;

	if (t == NULL || status_json == NULL)
		return TR_EINVAL;
	*status_json = NULL;
	if ((o = json_object_new_object()) == NULL) {
		rc = TR_ENOMEM;
		goto out;
	}
	json_object_object_add(o, "node_id",
	    json_object_new_string(t->creds.node_id));
	if ((rc = trosyn_status_meta(t, o, "hub", "hub", 0)) != 0)
		goto out;
	if (json_object_object_get(o, "hub") == NULL &&
	    trosyn_hub_host(t, &port) != NULL) {
		trosyn_hub_name(t, hub, sizeof(hub));
		json_object_object_add(o, "hub", json_object_new_string(hub));
	}
	if ((rc = replica_pending_count(t->rep, &pending)) != 0 ||
	    (rc = replica_cursors_json(t->rep, &cursors)) != 0)
		goto out;
	json_object_object_add(o, "pending", json_object_new_int64(pending));
	json_object_object_add(o, "cursors", cursors);
	cursors = NULL;
	if ((rc = trosyn_status_meta(t, o, "last_sync", "last_sync", 1)) != 0 ||
	    (rc = trosyn_status_meta(t, o, "last_error", "last_error",
	    0)) != 0)
		goto out;
	rc = trosyn_text(t, o, status_json);
out:
	if (rc != 0)
		trosyn_fail(t, rc, "status: %s", tr_strerror(rc));
	json_object_put(cursors);
	json_object_put(o);
	return rc;
}

/* The reason of the last failure. */
const char *
trosyn_last_error(const trosyn *t)
{
	if (t == NULL)
		return "no handle";
	return t->err;
}

/* A static string for an error code. */
const char *
trosyn_strerror(int err)
{
	return tr_strerror(err);
}

/* Free a string returned by this library. */
void
trosyn_free(void *p)
{
	free(p);
}
