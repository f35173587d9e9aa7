/* trosyn-admin: hub administration on the state directory and through the control socket. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin.h"
#include "conf.h"
#include "blob.h"
#include "control.h"
#include "db.h"
#include "err.h"
#include "hex.h"
#include "hubdb.h"
#include "jcs.h"
#include "journal.h"
#include "kdf.h"
#include "log.h"
#include "msg.h"
#include "statedir.h"
#include "sync.h"
#include "tls.h"
#include "trosyn-protocol.h"

#define PROG "trosyn-admin"
#define ADMIN_CONTROL_TIMEOUT_MS 5000

/* Global options and what they lead to. */
struct admin {
	const char *config;
	char state_dir[4096];
	struct conf conf;
	int conf_loaded;
};

/* Print one error line "trosyn-admin: WHAT: WHY". */
static void
admin_err(const char *what, const char *why)
{
	fprintf(stderr, PROG ": %s: %s\n", what, why);
}

/* Print usage to F. */
static void
admin_usage(FILE *f)
{
	fprintf(f,
"usage: " PROG " [-c FILE] [-d DIR] COMMAND [ARGS]\n"
"  init --site-id ID --hub-id ID [--hub-name NAME]\n"
"  enroll NODE_ID --output FILE [--name NAME] [--role child|admin]...\n"
"         [--method psk|certificate]\n"
"  revoke NODE_ID\n"
"  nodes [--json]\n"
"  sessions [--json]\n"
"  publish COLLECTION ID (--data JSON | --data-file FILE) [--file PATH]\n"
"  import COLLECTION FILE|-    JSON Lines {\"id\", \"data\", \"file\"?}, one transaction\n"
"  delete COLLECTION ID\n"
"  records COLLECTION [--json] [--all]\n"
"  status [--json]\n"
"  metrics                     Prometheus text from the running hub\n"
"\n"
"  -c, --config FILE     hub configuration (default %s/trosyn/hubd.conf)\n"
"  -d, --state-dir DIR   hub state directory (default %s/lib/trosyn)\n"
"  -h, --help            show this help\n"
"  -V, --version         show the version\n",
	    SYSCONFDIR, LOCALSTATEDIR);
}

/* Load the hub configuration (missing default file = defaults). */
static int
admin_load_conf(struct admin *a)
{
	char err[CONF_ERR_LEN];
	int rc;

	conf_defaults(&a->conf, CONF_HUB);
	rc = conf_load(&a->conf, a->config != NULL ? a->config :
	    SYSCONFDIR "/trosyn/hubd.conf", err, sizeof(err));
	if (rc == TR_ENOTFOUND && a->config == NULL)
		rc = 0;
	if (rc != 0) {
		admin_err("configuration", err);
		return rc;
	}
	a->conf_loaded = 1;
	if (a->state_dir[0] == '\0')
		snprintf(a->state_dir, sizeof(a->state_dir), "%s",
		    a->conf.state_dir[0] != '\0' ? a->conf.state_dir :
		    LOCALSTATEDIR "/lib/trosyn");
	return 0;
}

/* Open the hub database of an initialized state dir. */
static int
admin_open_db(struct admin *a, sqlite3 **db)
{
	char err[4200];
	int rc;

	if ((rc = statedir_check(a->state_dir, err, sizeof(err))) != 0) {
		admin_err("state directory", err);
		return rc;
	}
	if ((rc = hubdb_open(a->state_dir, 0, db)) != 0) {
		snprintf(err, sizeof(err), "%s/%s: %s", a->state_dir,
		    STATEDIR_DB, tr_strerror(rc));
		admin_err("database", err);
	}
	return rc;
}

/*
 * Ask the running hub; *RESP is its answer with "ok" true.  TR_ENOTFOUND
 * when the hub is not running.
 */
static int
admin_call(struct admin *a, json_object *req, json_object **resp)
{
	char path[4096];
	json_object *ok;
	int rc;

	*resp = NULL;
	if ((rc = statedir_path(a->state_dir, STATEDIR_SOCK, path,
	    sizeof(path))) != 0)
		return rc;
	rc = control_call(path, req, resp, ADMIN_CONTROL_TIMEOUT_MS);
	if (rc != 0)
		return rc;
	if (!json_object_object_get_ex(*resp, "ok", &ok) ||
	    !json_object_get_boolean(ok)) {
		json_object_put(*resp);
		*resp = NULL;
		return TR_EPROTO;
	}
	return 0;
}

/* Print VAL as one JSON document on stdout. */
static int
admin_print_json(json_object *val)
{
	const char *s = json_object_to_json_string_ext(val,
	    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);

	if (s == NULL)
		return TR_ENOMEM;
	printf("%s\n", s);
	return 0;
}

/* trosyn-admin init. */
static int
admin_init(struct admin *a, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "site-id", required_argument, NULL, 's' },
		{ "hub-id", required_argument, NULL, 'i' },
		{ "hub-name", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 }
	};
	const char *site = NULL, *hub = NULL, *name = NULL;
	char err[4400];
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 's': site = optarg; break;
		case 'i': hub = optarg; break;
		case 'n': name = optarg; break;
		default: return 2;
		}
	}
	if (site == NULL || hub == NULL || optind != argc) {
		admin_err("init", "needs --site-id ID and --hub-id ID");
		return 2;
	}
	if (!msg_valid_id(site) || !msg_valid_id(hub)) {
		admin_err("init", "ids are 1-64 characters of [A-Za-z0-9._-]");
		return 2;
	}
	if (name != NULL && !msg_valid_name(name, strlen(name))) {
		admin_err("init", "--hub-name is 1-64 bytes of UTF-8");
		return 2;
	}
	if (statedir_init(a->state_dir, site, hub, name, err,
	    sizeof(err)) != 0) {
		admin_err("init", err);
		return 1;
	}
	printf("initialized hub %s of site %s in %s\n", hub, site,
	    a->state_dir);
	return 0;
}

/* Read the hub's keys for enrollment. */
static int
admin_keys(struct admin *a, struct hub_keys *keys)
{
	char err[4400];
	int rc;

	if ((rc = statedir_check(a->state_dir, err, sizeof(err))) != 0 ||
	    (rc = statedir_load(a->state_dir, keys, err, sizeof(err))) != 0)
		admin_err("state directory", err);
	return rc;
}

/* Build the credentials document of a new node (PROTOCOL.md section 3). */
static json_object *
admin_creds(const struct hub_keys *keys, const struct hubdb_node *node,
    const char *cert_pem, const char *key_pem)
{
	char hexkey[2 * TR_KEY_LEN + 1];
	json_object *o = json_object_new_object(), *roles;

	roles = json_object_new_array();
	for (int i = 0; i < node->nroles; i++)
		json_object_array_add(roles,
		    json_object_new_string(node->roles[i]));
	json_object_object_add(o, "site_id", json_object_new_string(keys->site_id));
	json_object_object_add(o, "node_id", json_object_new_string(node->node_id));
	if (node->name[0] != '\0')
		json_object_object_add(o, "node_name",
		    json_object_new_string(node->name));
	json_object_object_add(o, "method", json_object_new_string(
	    node->method == HUB_METHOD_CERT ? "certificate" : "psk"));
	json_object_object_add(o, "roles", roles);
	hex_encode(keys->site_key, TR_KEY_LEN, hexkey);
	json_object_object_add(o, "site_key", json_object_new_string(hexkey));
	json_object_object_add(o, "hub_cert_sha256",
	    json_object_new_string(keys->hub_cert_sha256));
	if (node->method == HUB_METHOD_PSK) {
		hex_encode(node->node_key, TR_KEY_LEN, hexkey);
		json_object_object_add(o, "node_key",
		    json_object_new_string(hexkey));
	} else {
		json_object_object_add(o, "cert_pem",
		    json_object_new_string(cert_pem));
		json_object_object_add(o, "key_pem",
		    json_object_new_string(key_pem));
		json_object_object_add(o, "ca_pem",
		    json_object_new_string(keys->ca_pem));
	}
	kdf_cleanse(hexkey, sizeof(hexkey));
	return o;
}

/* trosyn-admin enroll. */
static int
admin_enroll(struct admin *a, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "name", required_argument, NULL, 'n' },
		{ "role", required_argument, NULL, 'r' },
		{ "method", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 }
	};
	const char *output = NULL, *name = NULL, *method = "psk", *text;
	char *cert_pem = NULL, *key_pem = NULL;
	struct hubdb_node node;
	struct hub_keys keys;
	json_object *creds = NULL;
	sqlite3 *db = NULL;
	struct stat st;
	int c, rc, status = 1, in_tx = 0;

	memset(&node, 0, sizeof(node));
	memset(&keys, 0, sizeof(keys));
	optind = 0;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': output = optarg; break;
		case 'n': name = optarg; break;
		case 'm': method = optarg; break;
		case 'r':
			if (strcmp(optarg, "child") != 0 &&
			    strcmp(optarg, "admin") != 0) {
				admin_err("enroll", "--role is child or admin");
				return 2;
			}
			if (hubdb_node_has_role(&node, optarg))
				break;
			if (node.nroles == CONF_MAX_ROLES)
				return 2;
			snprintf(node.roles[node.nroles++], CONF_ROLE_MAX + 1,
			    "%s", optarg);
			break;
		default:
			return 2;
		}
	}
	if (optind + 1 != argc || output == NULL) {
		admin_err("enroll", "needs NODE_ID and --output FILE");
		return 2;
	}
	if (!msg_valid_id(argv[optind])) {
		admin_err("enroll", "NODE_ID is 1-64 characters of "
		    "[A-Za-z0-9._-]");
		return 2;
	}
	if (name != NULL && !msg_valid_name(name, strlen(name))) {
		admin_err("enroll", "--name is 1-64 bytes of UTF-8");
		return 2;
	}
	if (strcmp(method, "psk") == 0)
		node.method = HUB_METHOD_PSK;
	else if (strcmp(method, "certificate") == 0)
		node.method = HUB_METHOD_CERT;
	else {
		admin_err("enroll", "--method is psk or certificate");
		return 2;
	}
	if (node.nroles == 0)
		snprintf(node.roles[node.nroles++], CONF_ROLE_MAX + 1, "child");
	snprintf(node.node_id, sizeof(node.node_id), "%s", argv[optind]);
	snprintf(node.name, sizeof(node.name), "%s", name != NULL ? name : "");
	node.enrolled_ms = msg_now_ms();
	if (lstat(output, &st) == 0) {
		admin_err(output, "already exists; not overwriting credentials");
		return 1;
	}
	if (admin_keys(a, &keys) != 0 || admin_open_db(a, &db) != 0)
		goto out;
	if (node.method == HUB_METHOD_PSK) {
		if (kdf_random(node.node_key, TR_KEY_LEN) != 0) {
			admin_err("enroll", "cannot generate a node key");
			goto out;
		}
	} else if ((rc = tls_make_cert(keys.ca_pem, keys.ca_key_pem,
	    node.node_id, 0, &cert_pem, &key_pem)) != 0 ||
	    (rc = tls_pem_sha256(cert_pem, node.cert_sha256)) != 0) {
		admin_err("enroll", "cannot issue the node certificate");
		goto out;
	}
	/* The node exists only if its credentials were written. */
	if (db_begin(db) != 0)
		goto out;
	in_tx = 1;
	if ((rc = hubdb_node_add(db, &node)) != 0) {
		admin_err(node.node_id, rc == TR_EEXIST ? "already enrolled "
		    "(revoked ids are not reused)" : tr_strerror(rc));
		goto out;
	}
	creds = admin_creds(&keys, &node, cert_pem, key_pem);
	text = json_object_to_json_string_ext(creds,
	    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (text == NULL || statedir_write_file(output, text, strlen(text),
	    0600) != 0) {
		admin_err(output, strerror(errno));
		goto out;
	}
	if (db_commit(db) != 0) {
		unlink(output);
		goto out;
	}
	in_tx = 0;
	printf("enrolled %s (%s, roles", node.node_id, method);
	for (int i = 0; i < node.nroles; i++)
		printf(" %s", node.roles[i]);
	printf("); credentials in %s\n", output);
	status = 0;
out:
	if (in_tx)
		db_rollback(db);
	db_close(db);
	json_object_put(creds);
	if (key_pem != NULL) {
		kdf_cleanse(key_pem, strlen(key_pem));
		free(key_pem);
	}
	free(cert_pem);
	kdf_cleanse(&node, sizeof(node));
	statedir_free(&keys);
	return status;
}

/* trosyn-admin revoke. */
static int
admin_revoke(struct admin *a, int argc, char **argv)
{
	json_object *req = NULL, *resp = NULL, *n;
	sqlite3 *db = NULL;
	int rc, status = 1;

	if (argc != 2 || !msg_valid_id(argv[1])) {
		admin_err("revoke", "needs one NODE_ID");
		return 2;
	}
	if (admin_open_db(a, &db) != 0)
		goto out;
	if ((rc = hubdb_node_revoke(db, argv[1])) != 0) {
		admin_err(argv[1], rc == TR_ENOTFOUND ? "no such node" :
		    tr_strerror(rc));
		goto out;
	}
	req = json_object_new_object();
	json_object_object_add(req, "cmd", json_object_new_string("revoke"));
	json_object_object_add(req, "node_id", json_object_new_string(argv[1]));
	rc = admin_call(a, req, &resp);
	if (rc == 0 && json_object_object_get_ex(resp, "sessions_ended", &n))
		printf("revoked %s; %d live session(s) ended\n", argv[1],
		    json_object_get_int(n));
	else if (rc == TR_ENOTFOUND)
		printf("revoked %s (hub not running)\n", argv[1]);
	else {
		admin_err("revoke", "marked revoked in the database, but the "
		    "running hub did not confirm ending its sessions");
		goto out;
	}
	status = 0;
out:
	json_object_put(req);
	json_object_put(resp);
	db_close(db);
	return status;
}

/* Parse a "--json" only argument list; -1 on a usage error. */
static int
admin_json_flag(int argc, char **argv)
{
	if (argc == 1)
		return 0;
	if (argc == 2 && strcmp(argv[1], "--json") == 0)
		return 1;
	return -1;
}

/* A timestamp or null. */
static json_object *
admin_time(int64_t ms)
{
	char buf[32];

	if (ms <= 0)
		return NULL;
	msg_format_time(ms, buf, sizeof(buf));
	return json_object_new_string(buf);
}

/*
 * The hub's live figures by node ("lives"), or NULL when it is not
 * running; *WINDOW_MS gets how long the hub keeps a node online (its own
 * 3 x heartbeat_interval), else the one of our configuration.
 */
static json_object *
admin_lives(struct admin *a, int64_t *window_ms)
{
	json_object *req = json_object_new_object(), *resp = NULL, *lives, *w;

	*window_ms = 3LL * a->conf.heartbeat_interval * 1000;
	json_object_object_add(req, "cmd", json_object_new_string("lives"));
	if (admin_call(a, req, &resp) != 0 ||
	    !json_object_object_get_ex(resp, "lives", &lives)) {
		json_object_put(req);
		json_object_put(resp);
		return NULL;
	}
	if (json_object_object_get_ex(resp, "window_ms", &w) &&
	    json_object_get_int64(w) > 0)
		*window_ms = json_object_get_int64(w);
	json_object_get(lives);
	json_object_put(resp);
	json_object_put(req);
	return lives;
}

/* The live entry of NODE_ID in LIVES, or NULL. */
static json_object *
admin_live_of(json_object *lives, const char *node_id)
{
	size_t n = lives != NULL ? json_object_array_length(lives) : 0;

	for (size_t i = 0; i < n; i++) {
		json_object *l = json_object_array_get_idx(lives, i);
		const char *id;

		if (msg_get_str(l, "node_id", &id) == 0 &&
		    strcmp(id, node_id) == 0)
			return l;
	}
	return NULL;
}

/* A member of a live entry copied, or null. */
static json_object *
admin_live_member(json_object *live, const char *key)
{
	json_object *v;

	if (live == NULL || !json_object_object_get_ex(live, key, &v))
		return NULL;
	return json_object_get(v);
}

/* State of a node last seen at SEEN_MS: "never", "online" or "offline". */
static const char *
admin_state(int64_t window_ms, int64_t seen_ms)
{
	if (seen_ms <= 0)
		return "never";
	if (msg_now_ms() - seen_ms <= window_ms)
		return "online";
	return "offline";
}

/* Every enrolled node with its live figures, as the nodes --json array. */
static int
admin_nodes_json(struct admin *a, sqlite3 *db, json_object **out)
{
	struct hubdb_node *nodes = NULL;
	json_object *arr, *lives;
	int64_t head = 0, window;
	size_t n = 0;
	int rc;

	if ((rc = hubdb_node_list(db, &nodes, &n)) != 0 ||
	    (rc = journal_head(db, &head)) != 0) {
		hubdb_nodes_free(nodes, n);
		return rc;
	}
	lives = admin_lives(a, &window);
	arr = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		struct hubdb_node *nd = &nodes[i];
		json_object *o = json_object_new_object(), *roles;
		json_object *live = admin_live_of(lives, nd->node_id), *v;
		int64_t seen = nd->last_seen_ms;
		const char *addr = nd->address;

		if (live != NULL && json_object_object_get_ex(live,
		    "last_seen_ms", &v) && json_object_get_int64(v) > seen) {
			seen = json_object_get_int64(v);
			if (msg_get_str(live, "address", &addr) != 0)
				addr = nd->address;
		}
		roles = json_object_new_array();
		for (int r = 0; r < nd->nroles; r++)
			json_object_array_add(roles,
			    json_object_new_string(nd->roles[r]));
		json_object_object_add(o, "node_id",
		    json_object_new_string(nd->node_id));
		json_object_object_add(o, "name", nd->name[0] != '\0' ?
		    json_object_new_string(nd->name) : NULL);
		json_object_object_add(o, "roles", roles);
		json_object_object_add(o, "method", json_object_new_string(
		    nd->method == HUB_METHOD_CERT ? "certificate" : "psk"));
		json_object_object_add(o, "revoked",
		    json_object_new_boolean(nd->revoked));
		json_object_object_add(o, "state",
		    json_object_new_string(admin_state(window, seen)));
		json_object_object_add(o, "last_seen", admin_time(seen));
		json_object_object_add(o, "address", addr[0] != '\0' ?
		    json_object_new_string(addr) : NULL);
		json_object_object_add(o, "last_sync",
		    admin_time(nd->last_sync_ms));
		json_object_object_add(o, "cursor",
		    admin_live_member(live, "cursor"));
		/* lag: how far the node's cursor is behind the journal head */
		v = admin_live_member(live, "cursor");
		json_object_object_add(o, "lag", v != NULL ?
		    json_object_new_int64(head - json_object_get_int64(v)) :
		    NULL);
		json_object_put(v);
		json_object_object_add(o, "pending",
		    admin_live_member(live, "pending"));
		json_object_object_add(o, "disk_free",
		    admin_live_member(live, "disk_free"));
		json_object_object_add(o, "last_error",
		    admin_live_member(live, "last_error"));
		json_object_array_add(arr, o);
	}
	json_object_put(lives);
	hubdb_nodes_free(nodes, n);
	*out = arr;
	return 0;
}

/* A string member or "-". */
static const char *
admin_str_or_dash(json_object *o, const char *key)
{
	const char *s;

	return msg_get_str(o, key, &s) == 0 ? s : "-";
}

/* An integer member as text into BUF, or "-". */
static void
admin_int_or_dash(json_object *o, const char *key, char *buf, size_t len)
{
	int64_t v;

	if (msg_get_int(o, key, &v) == 0)
		snprintf(buf, len, "%" PRId64, v);
	else
		snprintf(buf, len, "-");
}

/* trosyn-admin nodes. */
static int
admin_nodes(struct admin *a, int argc, char **argv)
{
	int json = admin_json_flag(argc, argv), status = 1;
	json_object *arr = NULL;
	sqlite3 *db = NULL;

	if (json < 0) {
		admin_err("nodes", "usage: nodes [--json]");
		return 2;
	}
	if (admin_open_db(a, &db) != 0)
		goto out;
	if (admin_nodes_json(a, db, &arr) != 0) {
		admin_err("nodes", "cannot read the node table");
		goto out;
	}
	if (json)
		admin_print_json(arr);
	else {
		printf("%-20s %-8s %-24s %-21s %6s %7s %s\n", "NODE", "STATE",
		    "LAST SEEN", "ADDRESS", "LAG", "PENDING", "LAST ERROR");
		for (size_t i = 0; i < json_object_array_length(arr); i++) {
			json_object *o = json_object_array_get_idx(arr, i), *v;
			int revoked = json_object_object_get_ex(o, "revoked",
			    &v) && json_object_get_boolean(v);
			char lag[24], pending[24];

			admin_int_or_dash(o, "lag", lag, sizeof(lag));
			admin_int_or_dash(o, "pending", pending,
			    sizeof(pending));
			printf("%-20s %-8s %-24s %-21s %6s %7s %s\n",
			    admin_str_or_dash(o, "node_id"),
			    revoked ? "revoked" : admin_str_or_dash(o, "state"),
			    admin_str_or_dash(o, "last_seen"),
			    admin_str_or_dash(o, "address"), lag, pending,
			    admin_str_or_dash(o, "last_error"));
		}
	}
	status = 0;
out:
	json_object_put(arr);
	db_close(db);
	return status;
}

/* trosyn-admin sessions. */
static int
admin_sessions(struct admin *a, int argc, char **argv)
{
	int json = admin_json_flag(argc, argv), rc;
	json_object *req, *resp = NULL, *arr = NULL;

	if (json < 0) {
		admin_err("sessions", "usage: sessions [--json]");
		return 2;
	}
	req = json_object_new_object();
	json_object_object_add(req, "cmd", json_object_new_string("sessions"));
	rc = admin_call(a, req, &resp);
	json_object_put(req);
	if (rc == TR_ENOTFOUND) {
		/* No hub, no live session. */
		fprintf(stderr, PROG ": sessions: the hub is not running\n");
		arr = json_object_new_array();
	} else if (rc != 0 || !json_object_object_get_ex(resp, "sessions",
	    &arr)) {
		admin_err("sessions", "the hub did not answer");
		json_object_put(resp);
		return 1;
	} else
		json_object_get(arr);
	json_object_put(resp);
	if (json)
		admin_print_json(arr);
	else {
		printf("%-36s %-24s %-5s %-24s %s\n", "SESSION", "NODE",
		    "CONNS", "EXPIRES", "ADDRESS");
		for (size_t i = 0; i < json_object_array_length(arr); i++) {
			json_object *o = json_object_array_get_idx(arr, i), *v;

			json_object_object_get_ex(o, "connections", &v);
			printf("%-36s %-24s %-5d %-24s %s\n",
			    admin_str_or_dash(o, "session_id"),
			    admin_str_or_dash(o, "node_id"),
			    json_object_get_int(v),
			    admin_str_or_dash(o, "expires_at"),
			    admin_str_or_dash(o, "address"));
		}
	}
	json_object_put(arr);
	return 0;
}

/* What the administrator's writes to one collection need. */
struct admin_writer {
	sqlite3 *db;
	char *state_dir;		/* for the blob store */
	char err[4400];			/* why a file could not be stored */
	const struct conf_collection *col;
	char hub_id[TR_ID_MAX + 1];
	size_t overhead;		/* sync_data_overhead() */
	uint32_t max;			/* max_message_size */
	int in_tx;
};

/* journal_blob_fn: does the blob store of state directory ARG hold SHA256? */
static int
admin_blob_exists(void *arg, const char *sha256)
{
	char path[4300];
	struct stat st;

	if (!blob_valid_hex(sha256) || snprintf(path, sizeof(path),
	    "%s/" STATEDIR_BLOBS "/%.2s/%s", (const char *)arg, sha256,
	    sha256 + 2) >= (int)sizeof(path))
		return 0;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* The configured collection NAME, or NULL after saying so for CMD. */
static const struct conf_collection *
admin_collection(struct admin *a, const char *cmd, const char *name)
{
	const struct conf_collection *col = NULL;
	char why[4300];

	if (msg_valid_collection(name))
		col = conf_collection(&a->conf, name);
	if (col == NULL) {
		snprintf(why, sizeof(why), "collection %.64s is not defined in "
		    "%s", name, a->config != NULL ? a->config :
		    SYSCONFDIR "/trosyn/hubd.conf");
		admin_err(cmd, why);
	}
	return col;
}

/* Open the database for writes to COLLECTION and begin a transaction. */
static int
admin_writer_open(struct admin *a, const char *cmd, const char *collection,
    struct admin_writer *w)
{
	memset(w, 0, sizeof(*w));
	if ((w->col = admin_collection(a, cmd, collection)) == NULL)
		return TR_ENOTFOUND;
	if (admin_open_db(a, &w->db) != 0)
		return TR_EDB;
	if (hubdb_meta_get(w->db, "hub_id", w->hub_id,
	    sizeof(w->hub_id)) != 0 || !msg_valid_id(w->hub_id)) {
		admin_err(cmd, "the database holds no hub id");
		return TR_EDB;
	}
	w->max = a->conf.max_message_size;
	w->state_dir = a->state_dir;
	if ((w->overhead = sync_data_overhead()) == 0)
		return TR_ENOMEM;
	if (db_begin(w->db) != 0) {
		admin_err(cmd, "cannot begin a transaction");
		return TR_EDB;
	}
	w->in_tx = 1;
	return 0;
}

/* Commit when COMMIT (else roll back) and close. */
static int
admin_writer_close(struct admin_writer *w, int commit)
{
	int rc = 0;

	if (w->in_tx)
		rc = commit ? db_commit(w->db) : db_rollback(w->db);
	w->in_tx = 0;
	db_close(w->db);
	w->db = NULL;
	return rc;
}

/*
 * Write ID (DATA, canonical JSON text, or a delete) as the administrator:
 * origin the hub id, base_version the current version, so the write always
 * applies.  *RES gets the result and *BASE the version it replaced (0 for
 * none); *WHY says why on failure.
 */
static int
admin_write(struct admin_writer *w, const char *id, const char *data,
    int deleted, const struct jchange *file, struct jresult *res,
    int64_t *base, const char **why)
{
	struct jchange chg;
	struct jrec cur;
	int rc;

	*why = NULL;
	rc = journal_get(w->db, w->col->name, id, &cur);
	if (rc != 0 && rc != TR_ENOTFOUND) {
		*why = "cannot read the record journal";
		return rc;
	}
	*base = rc == 0 ? cur.version : 0;
	if (deleted && (rc != 0 || cur.deleted)) {
		journal_rec_free(&cur);
		*why = "no such record";
		return TR_ENOTFOUND;
	}
	journal_rec_free(&cur);
	memset(&chg, 0, sizeof(chg));
	chg.collection = w->col->name;
	chg.id = id;
	chg.base_version = *base;
	chg.deleted = deleted;
	chg.modified_at = msg_now_ms();
	chg.origin = w->hub_id;
	chg.data = deleted ? NULL : data;
	if (file != NULL && !deleted) {
		chg.has_file = 1;
		chg.file_sha256 = file->file_sha256;
		chg.file_size = file->file_size;
		chg.file_name = file->file_name;
	}
	if (!sync_change_fits(&chg, w->overhead, w->max)) {
		*why = "record too large: it would not fit one SYNC_DATA within "
		    "max_message_size";
		return TR_ETOOBIG;
	}
	if ((rc = journal_apply(w->db, w->col->conflict, &chg,
	    admin_blob_exists, w->state_dir, res)) != 0) {
		*why = "cannot write the record journal";
		return rc;
	}
	if (res->status != J_APPLIED) {
		*why = res->reason != NULL ? res->reason : "not applied";
		return TR_EINVAL;
	}
	return 0;
}

/* Parse LEN bytes of TEXT as a JSON object into canonical text (*OUT). */
static int
admin_canon_object(const char *text, size_t len, char **out,
    const char **why)
{
	json_object *val = NULL;
	int rc;

	*out = NULL;
	switch ((rc = jcs_parse(text, len, &val))) {
	case 0:
		break;
	case TR_EDUPKEY:
		*why = "duplicate member name";
		return rc;
	case TR_ERANGE:
		*why = "number out of range (integers within +-(2^53-1))";
		return rc;
	default:
		*why = "not valid JSON";
		return rc;
	}
	if (!json_object_is_type(val, json_type_object)) {
		json_object_put(val);
		*why = "data must be a JSON object";
		return TR_EINVAL;
	}
	rc = jcs_serialize(val, out, NULL);
	json_object_put(val);
	*why = "data cannot be canonicalized";
	return rc;
}


/* trosyn-admin publish. */
static int
admin_publish(struct admin *a, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "data-file", required_argument, NULL, 'D' },
		{ "file", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 }
	};
	const char *inline_data = NULL, *data_file = NULL, *file = NULL, *why;
	char *text = NULL, *data = NULL, err[4400], sha[BLOB_HEX_LEN + 1];
	struct jchange attach;
	struct admin_writer w;
	struct jresult res;
	int64_t base;
	size_t len;
	int c, rc, status = 1;

	memset(&w, 0, sizeof(w));
	memset(&attach, 0, sizeof(attach));
	optind = 0;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': inline_data = optarg; break;
		case 'D': data_file = optarg; break;
		case 'f': file = optarg; break;
		default: return 2;
		}
	}
	if (optind + 2 != argc || (inline_data == NULL) == (data_file == NULL)) {
		admin_err("publish", "needs COLLECTION ID and one of --data "
		    "JSON or --data-file FILE");
		return 2;
	}
	if (!msg_valid_record_id(argv[optind + 1], strlen(argv[optind + 1]))) {
		admin_err("publish", "ID is 1-256 bytes of UTF-8");
		return 2;
	}
	if (admin_collection(a, "publish", argv[optind]) == NULL)
		return 1;
	if (file != NULL) {
		const char *base_name = strrchr(file, '/');

		base_name = base_name != NULL ? base_name + 1 : file;
		if (!journal_valid_file_name(base_name, strlen(base_name))) {
			snprintf(err, sizeof(err), "%s: the file name must be 1-%d "
			    "bytes of UTF-8 without \"..\" or control characters",
			    file, JOURNAL_FILE_NAME_MAX);
			admin_err("publish", err);
			return 1;
		}
		/* The blob first: a record never names a file the hub lacks. */
		if (blob_store_file(a->state_dir, file, sha, &attach.file_size,
		    err, sizeof(err)) != 0) {
			admin_err("publish", err);
			return 1;
		}
		attach.file_sha256 = sha;
		attach.file_name = base_name;
	}
	if (data_file != NULL) {
		rc = statedir_read_file(data_file, a->conf.max_message_size,
		    &text, &len);
		if (rc != 0) {
			snprintf(err, sizeof(err), "%s: %s", data_file,
			    rc == TR_ETOOBIG ? "larger than max_message_size" :
			    rc == TR_ENOTFOUND ? "no such file" :
			    strerror(errno));
			admin_err("publish", err);
			goto out;
		}
		rc = admin_canon_object(text, len, &data, &why);
	} else
		rc = admin_canon_object(inline_data, strlen(inline_data),
		    &data, &why);
	if (rc != 0) {
		snprintf(err, sizeof(err), "%s: %s", data_file != NULL ?
		    data_file : "--data", why);
		admin_err("publish", err);
		goto out;
	}
	if (admin_writer_open(a, "publish", argv[optind], &w) != 0)
		goto out;
	if (admin_write(&w, argv[optind + 1], data, 0, file != NULL ?
	    &attach : NULL, &res, &base,
	    &why) != 0) {
		admin_err("publish", why);
		goto out;
	}
	if (admin_writer_close(&w, 1) != 0) {
		admin_err("publish", "cannot commit");
		goto out;
	}
	if (res.version == base)
		printf("%s/%s unchanged: version %" PRId64 ", seq %" PRId64
		    "\n", argv[optind], argv[optind + 1], res.version, res.seq);
	else
		printf("published %s/%s: version %" PRId64 ", seq %" PRId64
		    "\n", argv[optind], argv[optind + 1], res.version, res.seq);
	status = 0;
out:
	admin_writer_close(&w, 0);
	free(text);
	free(data);
	return status;
}

/* Apply one JSON Lines entry LINE (LEN bytes) of an import; *WHY on failure. */
static int
admin_import_line(struct admin_writer *w, const char *line, size_t len,
    int64_t *seq, const char **why)
{
	json_object *val = NULL, *data;
	const char *id = NULL;
	struct jresult res;
	struct jchange attach;
	char *canon = NULL, sha[BLOB_HEX_LEN + 1];
	int64_t base;
	size_t idlen;
	int rc, has_file = 0;

	memset(&attach, 0, sizeof(attach));
	switch ((rc = jcs_parse(line, len, &val))) {
	case 0:
		break;
	case TR_EDUPKEY:
		*why = "duplicate member name";
		return rc;
	case TR_ERANGE:
		*why = "number out of range (integers within +-(2^53-1))";
		return rc;
	default:
		*why = "not valid JSON";
		return rc;
	}
	rc = TR_EINVAL;
	*why = "each line must be a JSON object {\"id\", \"data\"}";
	if (!json_object_is_type(val, json_type_object))
		goto out;
	json_object_object_foreach(val, key, v) {
		(void)v;
		if (strcmp(key, "id") != 0 && strcmp(key, "data") != 0 &&
		    strcmp(key, "file") != 0) {
			*why = "unknown member (only id, data and file)";
			goto out;
		}
	}
	*why = "id must be 1-256 bytes of UTF-8";
	if (msg_get_strlen(val, "id", &id, &idlen) != 0 ||
	    !msg_valid_record_id(id, idlen))
		goto out;
	*why = "data must be a JSON object";
	if (msg_get_obj(val, "data", &data) != 0)
		goto out;
	if (json_object_object_get_ex(val, "file", NULL) &&
	    !msg_is_null(val, "file")) {
		const char *path, *name;

		*why = "file must be the path of a local file, or null";
		if (msg_get_str(val, "file", &path) != 0 || *path == '\0')
			goto out;
		name = strrchr(path, '/');
		name = name != NULL ? name + 1 : path;
		*why = "the file name must be 1-255 bytes of UTF-8 without \"..\" "
		    "or control characters";
		if (!journal_valid_file_name(name, strlen(name)))
			goto out;
		/* The blob first: a record never names a file the hub lacks. */
		*why = "the file cannot be read or stored";
		if ((rc = blob_store_file(w->state_dir, path, sha,
		    &attach.file_size, w->err, sizeof(w->err))) != 0) {
			*why = w->err;
			goto out;
		}
		attach.file_sha256 = sha;
		attach.file_name = name;
		has_file = 1;
	}
	*why = "data cannot be canonicalized";
	if ((rc = jcs_serialize(data, &canon, NULL)) != 0)
		goto out;
	if ((rc = admin_write(w, id, canon, 0, has_file ? &attach : NULL, &res,
	    &base, why)) == 0)
		*seq = res.seq;
out:
	free(canon);
	json_object_put(val);
	return rc;
}

/* trosyn-admin import: every line in one transaction, or nothing. */
static int
admin_import(struct admin *a, int argc, char **argv)
{
	const char *name, *why = NULL;
	char *line = NULL, where[4200];
	struct admin_writer w;
	int64_t n = 0, seq = 0, first = 0;
	size_t cap = 0, lineno = 0;
	ssize_t len;
	FILE *f = NULL;
	int status = 1;

	memset(&w, 0, sizeof(w));
	if (argc != 3) {
		admin_err("import", "needs COLLECTION and FILE (or - for "
		    "standard input)");
		return 2;
	}
	if (admin_collection(a, "import", argv[1]) == NULL)
		return 1;
	name = strcmp(argv[2], "-") == 0 ? "stdin" : argv[2];
	if ((f = strcmp(argv[2], "-") == 0 ? stdin : fopen(argv[2], "r")) ==
	    NULL) {
		admin_err(argv[2], strerror(errno));
		return 1;
	}
	if (admin_writer_open(a, "import", argv[1], &w) != 0)
		goto out;
	while ((len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		if (strspn(line, " \t\r\n") == (size_t)len)
			continue;
		if (admin_import_line(&w, line, (size_t)len, &seq, &why) != 0) {
			snprintf(where, sizeof(where), "%s:%zu", name, lineno);
			admin_err(where, why != NULL ? why : "cannot import");
			goto out;
		}
		if (n++ == 0)
			first = seq;
	}
	if (ferror(f)) {
		admin_err(name, strerror(errno));
		goto out;
	}
	if (admin_writer_close(&w, 1) != 0) {
		admin_err("import", "cannot commit");
		goto out;
	}
	if (n > 0)
		printf("imported %" PRId64 " record(s) into %s: seq %" PRId64
		    "..%" PRId64 "\n", n, argv[1], first, seq);
	else
		printf("imported 0 records into %s\n", argv[1]);
	status = 0;
out:
	admin_writer_close(&w, 0);
	free(line);
	if (f != NULL && f != stdin)
		fclose(f);
	return status;
}

/* trosyn-admin delete. */
static int
admin_delete(struct admin *a, int argc, char **argv)
{
	struct admin_writer w;
	struct jresult res;
	const char *why;
	char what[400];
	int64_t base;
	int status = 1;

	if (argc != 3 || !msg_valid_record_id(argv[2], strlen(argv[2]))) {
		admin_err("delete", "needs COLLECTION and ID");
		return 2;
	}
	if (admin_writer_open(a, "delete", argv[1], &w) != 0)
		goto out;
	snprintf(what, sizeof(what), "%s/%s", argv[1], argv[2]);
	if (admin_write(&w, argv[2], NULL, 1, NULL, &res, &base, &why) != 0) {
		admin_err(what, why);
		goto out;
	}
	if (admin_writer_close(&w, 1) != 0) {
		admin_err("delete", "cannot commit");
		goto out;
	}
	printf("deleted %s: version %" PRId64 ", seq %" PRId64 "\n", what,
	    res.version, res.seq);
	status = 0;
out:
	admin_writer_close(&w, 0);
	return status;
}

/* journal_list callback of records: add the record to the array ARG. */
static int
admin_records_one(void *arg, const struct jrec *rec)
{
	json_object *o = journal_rec_json(rec);

	if (o == NULL)
		return TR_ENOMEM;
	json_object_array_add(arg, o);
	return 0;
}

/* trosyn-admin records. */
static int
admin_records(struct admin *a, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "all", no_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 }
	};
	json_object *arr = NULL;
	sqlite3 *db = NULL;
	int c, json = 0, all = 0, status = 1;

	optind = 0;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 'a': all = 1; break;
		default: return 2;
		}
	}
	if (optind + 1 != argc) {
		admin_err("records", "usage: records COLLECTION [--json] "
		    "[--all]");
		return 2;
	}
	if (admin_collection(a, "records", argv[optind]) == NULL)
		return 1;
	if (admin_open_db(a, &db) != 0)
		goto out;
	if ((arr = json_object_new_array()) == NULL ||
	    journal_list(db, argv[optind], all, admin_records_one, arr) != 0) {
		admin_err("records", "cannot read the record journal");
		goto out;
	}
	if (json)
		admin_print_json(arr);
	else {
		printf("%-32s %-8s %-8s %-24s %-16s %s\n", "ID", "VERSION",
		    "SEQ", "MODIFIED", "ORIGIN", all ? "STATE" : "");
		for (size_t i = 0; i < json_object_array_length(arr); i++) {
			json_object *o = json_object_array_get_idx(arr, i), *v;
			int64_t version = 0, seq = 0;
			int deleted = 0;

			msg_get_int(o, "version", &version);
			msg_get_int(o, "seq", &seq);
			if (json_object_object_get_ex(o, "deleted", &v))
				deleted = json_object_get_boolean(v);
			printf("%-32s %-8" PRId64 " %-8" PRId64 " %-24s %-16s "
			    "%s\n", admin_str_or_dash(o, "id"), version, seq,
			    admin_str_or_dash(o, "modified_at"),
			    admin_str_or_dash(o, "origin"),
			    all ? (deleted ? "deleted" : "live") : "");
		}
	}
	status = 0;
out:
	json_object_put(arr);
	db_close(db);
	return status;
}

/* trosyn-admin status. */
static int
admin_status(struct admin *a, int argc, char **argv)
{
	int json = admin_json_flag(argc, argv), status = 1, rc;
	json_object *req, *resp = NULL, *st = NULL, *out, *nodes_arr = NULL;
	json_object *ports, *counts, *v;
	char site[TR_ID_MAX + 1] = "", hub[TR_ID_MAX + 1] = "";
	int online = 0, offline = 0, never = 0;
	int64_t live = 0, dead = 0, head = 0, nblobs = 0;
	sqlite3 *db = NULL;

	if (json < 0) {
		admin_err("status", "usage: status [--json]");
		return 2;
	}
	if (admin_open_db(a, &db) != 0)
		return 1;
	hubdb_meta_get(db, "site_id", site, sizeof(site));
	hubdb_meta_get(db, "hub_id", hub, sizeof(hub));
	if (journal_count(db, &live, &dead) != 0 ||
	    journal_head(db, &head) != 0) {
		admin_err("status", "cannot read the record journal");
		goto out;
	}
	if (admin_nodes_json(a, db, &nodes_arr) != 0) {
		admin_err("status", "cannot read the node table");
		goto out;
	}
	for (size_t i = 0; i < json_object_array_length(nodes_arr); i++) {
		const char *s = admin_str_or_dash(
		    json_object_array_get_idx(nodes_arr, i), "state");

		if (strcmp(s, "online") == 0)
			online++;
		else if (strcmp(s, "offline") == 0)
			offline++;
		else
			never++;
	}
	req = json_object_new_object();
	json_object_object_add(req, "cmd", json_object_new_string("status"));
	rc = admin_call(a, req, &resp);
	json_object_put(req);
	if (rc == 0)
		json_object_object_get_ex(resp, "status", &st);

	out = json_object_new_object();
	json_object_object_add(out, "running", json_object_new_boolean(st != NULL));
	json_object_object_add(out, "hub_id", json_object_new_string(hub));
	json_object_object_add(out, "site_id", json_object_new_string(site));
	if (st != NULL && json_object_object_get_ex(st, "ports", &ports))
		json_object_get(ports);
	else {
		ports = json_object_new_object();
		json_object_object_add(ports, "main",
		    json_object_new_int(a->conf.port));
		json_object_object_add(ports, "file",
		    json_object_new_int(a->conf.file_port));
		json_object_object_add(ports, "discovery",
		    json_object_new_int(a->conf.discovery_port));
	}
	json_object_object_add(out, "ports", ports);
	counts = json_object_new_object();
	json_object_object_add(counts, "online", json_object_new_int(online));
	json_object_object_add(counts, "offline", json_object_new_int(offline));
	json_object_object_add(counts, "never", json_object_new_int(never));
	json_object_object_add(out, "nodes", counts);
	json_object_object_add(out, "sessions", json_object_new_int(
	    st != NULL && json_object_object_get_ex(st, "sessions", &v) ?
	    json_object_get_int(v) : 0));
	json_object_object_add(out, "records", json_object_new_int64(live));
	json_object_object_add(out, "journal_head",
	    json_object_new_int64(head));
	/* Blobs come with the blob store. */
	json_object_object_add(out, "blobs", json_object_new_int64(
	    blob_count(a->state_dir, &nblobs) == 0 ? nblobs : 0));
	json_object_object_add(out, "queue_depth", json_object_new_int(
	    st != NULL && json_object_object_get_ex(st, "queue_depth", &v) ?
	    json_object_get_int(v) : 0));
	json_object_object_add(out, "workers_busy", json_object_new_int(
	    st != NULL && json_object_object_get_ex(st, "workers_busy", &v) ?
	    json_object_get_int(v) : 0));
	if (json)
		admin_print_json(out);
	else {
		json_object_object_get_ex(out, "ports", &ports);
		printf("hub %s (site %s): %s\n", hub, site, st != NULL ?
		    "running" : "not running");
		json_object_object_get_ex(ports, "main", &v);
		printf("ports: main %d", json_object_get_int(v));
		json_object_object_get_ex(ports, "file", &v);
		printf(", file %d", json_object_get_int(v));
		json_object_object_get_ex(ports, "discovery", &v);
		printf(", discovery %d\n", json_object_get_int(v));
		printf("nodes: %d online, %d offline, %d never seen\n", online,
		    offline, never);
		json_object_object_get_ex(out, "sessions", &v);
		printf("sessions: %d\n", json_object_get_int(v));
		printf("records: %" PRId64 " live, %" PRId64 " tombstones; "
		    "journal head %" PRId64 "\n", live, dead, head);
		json_object_object_get_ex(out, "queue_depth", &v);
		printf("queue: %d waiting", json_object_get_int(v));
		json_object_object_get_ex(out, "workers_busy", &v);
		printf(", %d workers busy\n", json_object_get_int(v));
	}
	json_object_put(out);
	status = 0;
out:
	json_object_put(resp);
	json_object_put(nodes_arr);
	db_close(db);
	return status;
}

/* trosyn-admin metrics: the running hub's metrics in the Prometheus text format. */
static int
admin_metrics(struct admin *a, int argc, char **argv)
{
	json_object *req, *resp = NULL;
	const char *text;
	int rc, status = 1;

	(void)argv;
	if (argc != 1) {
		admin_err("metrics", "usage: metrics");
		return 2;
	}
	req = json_object_new_object();
	json_object_object_add(req, "cmd", json_object_new_string("metrics"));
	rc = admin_call(a, req, &resp);
	json_object_put(req);
	if (rc == TR_ENOTFOUND) {
		admin_err("metrics", "the hub is not running (metrics live in "
		    "the running hub)");
		goto out;
	}
	if (rc != 0 || msg_get_str(resp, "metrics", &text) != 0) {
		admin_err("metrics", rc != 0 ? tr_strerror(rc) :
		    "the hub sent no metrics");
		goto out;
	}
	fputs(text, stdout);
	status = fflush(stdout) == 0 ? 0 : 1;
out:
	json_object_put(resp);
	return status;
}

/* The commands and their handlers. */
static const struct {
	const char *name;
	int (*fn)(struct admin *, int, char **);
} admin_cmds[] = {
	{ "init", admin_init },
	{ "enroll", admin_enroll },
	{ "revoke", admin_revoke },
	{ "nodes", admin_nodes },
	{ "sessions", admin_sessions },
	{ "publish", admin_publish },
	{ "import", admin_import },
	{ "delete", admin_delete },
	{ "records", admin_records },
	{ "status", admin_status },
	{ "metrics", admin_metrics },
};

/* Run trosyn-admin. */
int
admin_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "state-dir", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct admin a;
	int c, status;

	memset(&a, 0, sizeof(a));
	signal(SIGPIPE, SIG_IGN);
	log_init(PROG, LOG_LEVEL_WARN, 0);
	while ((c = getopt_long(argc, argv, "+c:d:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			a.config = optarg;
			break;
		case 'd':
			snprintf(a.state_dir, sizeof(a.state_dir), "%s", optarg);
			break;
		case 'h':
			admin_usage(stdout);
			return 0;
		case 'V':
			printf(PROG " " PACKAGE_VERSION "\n");
			return 0;
		default:
			admin_usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		admin_usage(stderr);
		return 2;
	}
	for (size_t i = 0; i < sizeof(admin_cmds) / sizeof(admin_cmds[0]); i++) {
		if (strcmp(argv[optind], admin_cmds[i].name) != 0)
			continue;
		if (admin_load_conf(&a) != 0)
			return 1;
		status = admin_cmds[i].fn(&a, argc - optind, argv + optind);
		if (status == 2)
			admin_usage(stderr);
		conf_free(&a.conf);
		return status;
	}
	fprintf(stderr, PROG ": %s: unknown command\n", argv[optind]);
	admin_usage(stderr);
	return 2;
}
