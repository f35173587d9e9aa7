/* The hub's state directory: layout, permission checks, creation (init) and loading of keys. */
#ifndef TROSYN_STATEDIR_H
#define TROSYN_STATEDIR_H

#include <stddef.h>
#include <stdint.h>

#include "trosyn-protocol.h"

/*
 * Layout of DIR (created by trosyn-admin init):
 *   site.key     32-byte site key as 64 lowercase hex digits + newline, 0600
 *   ca.pem       site CA certificate, 0644      ca.key   its key, 0600
 *   hub.pem      hub TLS certificate, 0644      hub.key  its key, 0600
 *   hub.db       SQLite database (hubdb.h), 0600
 *   hubd.sock    control socket of the running hub, 0600
 *   blobs/       content-addressed file store
 * DIR itself is 0700 and must not be group- or world-writable.
 */
#define STATEDIR_SITE_KEY	"site.key"
#define STATEDIR_CA_CERT	"ca.pem"
#define STATEDIR_CA_KEY		"ca.key"
#define STATEDIR_HUB_CERT	"hub.pem"
#define STATEDIR_HUB_KEY	"hub.key"
#define STATEDIR_DB		"hub.db"
#define STATEDIR_SOCK		"hubd.sock"
#define STATEDIR_BLOBS		"blobs"

/* Everything the hub loads from its state directory. */
struct hub_keys {
	uint8_t site_key[TR_KEY_LEN];
	char *ca_pem;
	char *ca_key_pem;
	char *hub_cert_pem;
	char *hub_key_pem;
	char hub_cert_sha256[2 * TR_HASH_LEN + 1];
	char site_id[TR_ID_MAX + 1];
	char hub_id[TR_ID_MAX + 1];
	char hub_name[TR_NAME_MAX + 1];
};

/* Write DIR/NAME into BUF; TR_ETOOBIG when it does not fit. */
int statedir_path(const char *dir, const char *name, char *buf, size_t len);

/*
 * Check DIR: it exists, is a directory not writable by group or others, and
 * every key file is a regular file of mode 0600 (no group/other bits).
 * TR_EACCES / TR_ENOTFOUND with "PATH: what is wrong" in ERR.
 */
int statedir_check(const char *dir, char *err, size_t errlen);

/*
 * Create a new state directory DIR (it may exist but must be empty): site
 * key, site CA, hub certificate, database with SITE_ID, HUB_ID and HUB_NAME
 * (may be NULL).  TR_EEXIST when DIR already holds a hub.  On failure
 * nothing half-made is left behind.
 */
int statedir_init(const char *dir, const char *site_id, const char *hub_id,
    const char *hub_name, char *err, size_t errlen);

/* Load keys, certificates and ids from DIR (after statedir_check). */
int statedir_load(const char *dir, struct hub_keys *keys, char *err,
    size_t errlen);

/* Zeroize and free what KEYS holds. */
void statedir_free(struct hub_keys *keys);

/*
 * Read a whole small file (at most MAX bytes) into a malloc'd NUL-terminated
 * buffer; *LEN gets its length when LEN is not NULL.
 */
int statedir_read_file(const char *path, size_t max, char **out, size_t *len);

/*
 * Write LEN bytes to PATH atomically with MODE: temp file in the same
 * directory, fsync, rename, fsync of the directory.
 */
int statedir_write_file(const char *path, const void *data, size_t len,
    int mode);

#endif /* TROSYN_STATEDIR_H */
