/* The hub's SQLite database: schema, hub identity, enrolled nodes. */
#ifndef TROSYN_HUBDB_H
#define TROSYN_HUBDB_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "conf.h"
#include "trosyn-protocol.h"

enum hub_method {
	HUB_METHOD_PSK = 1,
	HUB_METHOD_CERT = 2
};

/* One enrolled node as stored. */
struct hubdb_node {
	char node_id[TR_ID_MAX + 1];
	char name[TR_NAME_MAX + 1];
	char roles[CONF_MAX_ROLES][CONF_ROLE_MAX + 1];
	int nroles;
	enum hub_method method;
	uint8_t node_key[TR_KEY_LEN];	/* psk only */
	char cert_sha256[2 * TR_HASH_LEN + 1];	/* certificate only */
	int revoked;
	int64_t enrolled_ms;
	int64_t last_seen_ms;		/* 0 = never */
	char address[64];		/* "ip:port" of the last peer, "" = none */
	int64_t last_sync_ms;		/* 0 = never */
};

/* Open DIR/hub.db (creating and migrating it when CREATE), one connection per thread. */
int hubdb_open(const char *dir, int create, sqlite3 **db);

/* Read and write the hub identity (keys "site_id", "hub_id", "hub_name"). */
int hubdb_meta_get(sqlite3 *db, const char *key, char *out, size_t len);
int hubdb_meta_set(sqlite3 *db, const char *key, const char *value);

/* One node by id: 0, TR_ENOTFOUND, TR_EDB. */
int hubdb_node_get(sqlite3 *db, const char *node_id, struct hubdb_node *out);

/* Enroll NODE: TR_EEXIST when the id is taken (revoked ones included). */
int hubdb_node_add(sqlite3 *db, const struct hubdb_node *node);

/* Mark NODE_ID revoked: 0, TR_ENOTFOUND. */
int hubdb_node_revoke(sqlite3 *db, const char *node_id);

/* Record a login or heartbeat of NODE_ID from ADDRESS at MS. */
int hubdb_node_seen(sqlite3 *db, const char *node_id, const char *address,
    int64_t ms);

/* Record a completed pull of NODE_ID at MS (last_sync): 0, TR_ENOTFOUND. */
int hubdb_node_synced(sqlite3 *db, const char *node_id, int64_t ms);

/* All nodes ordered by id into a malloc'd array (*OUT, *N); keys zeroized by the caller's hubdb_nodes_free. */
int hubdb_node_list(sqlite3 *db, struct hubdb_node **out, size_t *n);
void hubdb_nodes_free(struct hubdb_node *nodes, size_t n);

/* Record that NODE_ID uploaded blob SHA256 (64 hex) of SIZE bytes at MS. */
int hubdb_upload_add(sqlite3 *db, const char *sha256, const char *node_id,
    int64_t size, int64_t ms);

/* Non-zero when NODE_ID uploaded blob SHA256. */
int hubdb_upload_by(sqlite3 *db, const char *sha256, const char *node_id);

/* Non-zero when NODE has ROLE. */
int hubdb_node_has_role(const struct hubdb_node *node, const char *role);

#endif /* TROSYN_HUBDB_H */
