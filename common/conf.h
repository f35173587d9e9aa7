/* Configuration files (CLI.md): keyword table, range-checked values, [collection NAME] sections. */
#ifndef TROSYN_CONF_H
#define TROSYN_CONF_H

#include <stddef.h>
#include <stdint.h>

#define CONF_MAX_ROLES	16
#define CONF_ROLE_MAX	32	/* role names: 1-32 chars of [a-z0-9_-] */
#define CONF_ERR_LEN	512

/* Which program reads the file: a key may belong to the hub, the client or both. */
enum conf_kind {
	CONF_HUB = 1,
	CONF_CLIENT = 2
};

enum conf_policy {
	CONF_HUB_WINS = 0,
	CONF_LAST_WRITER_WINS,
	CONF_KEEP_BOTH
};

/*
 * A [collection NAME] section.  Defaults when a key is absent: read = admin,
 * write = admin, conflict = hub-wins.
 */
struct conf_collection {
	char name[65];
	char read[CONF_MAX_ROLES][CONF_ROLE_MAX + 1];
	int nread;
	char write[CONF_MAX_ROLES][CONF_ROLE_MAX + 1];
	int nwrite;
	enum conf_policy conflict;
};

/* Every setting with its default (trosyn-protocol.h); sizes in bytes, times in seconds. */
struct conf {
	enum conf_kind kind;

	/* network */
	char bind[64];
	uint16_t port;
	uint16_t file_port;
	uint16_t discovery_port;
	char multicast_group[64];
	char multicast_interface[64];
	int multicast_ttl;
	uint16_t metrics_port;
	char metrics_bind[64];

	/* pools */
	int workers;
	int transfer_workers;
	int queue_depth;

	/* protocol limits */
	uint32_t max_message_size;
	int max_clock_skew;
	int heartbeat_interval;
	int session_lifetime;
	uint32_t rotate_every;
	uint32_t chunk_size;
	int64_t max_file_size;
	int batch_size;
	int max_batch;
	int64_t journal_retain;		/* seconds; "30d", "12h", "90m", "600s" or plain seconds */
	int auth_timeout;
	int idle_timeout;
	int max_auth_failures;
	int discovery_timeout;
	int64_t transfer_rate_limit;	/* bytes/s, 0 = unlimited */

	/* process */
	int log_level;			/* enum log_level */
	char pidfile[4096];
	char user[64];
	char state_dir[4096];

	/* client side */
	char hub[300];			/* HOST[:PORT], empty = discover */
	char credentials[4096];
	char files_dir[4096];
	int sync_interval;
	int timeout;			/* client network timeout, seconds */
	char broadcast[64];		/* extra discovery destination, empty = none */

	struct conf_collection *collections;
	size_t ncollections;
};

/* Fill CONF with the defaults of KIND (no collections). */
void conf_defaults(struct conf *conf, enum conf_kind kind);

/*
 * Read PATH into CONF (which holds defaults or earlier values).  Any error
 * (unknown key, key of the other program, bad or out-of-range value,
 * duplicate key or section, syntax) is TR_ECONF with "PATH:LINE: what" in
 * ERR; CONF is then left as it was.  A missing file is TR_ENOTFOUND with a
 * message.  Returns 0 on success.
 */
int conf_load(struct conf *conf, const char *path, char *err, size_t errlen);

/* As conf_load for LEN bytes of TEXT; NAME stands for the path in messages. */
int conf_load_buffer(struct conf *conf, const char *text, size_t len,
    const char *name, char *err, size_t errlen);

/*
 * Set one top-level KEY to VALUE (command-line overrides); the same checks
 * as a file line.  TR_ECONF with "KEY: what" in ERR on error.
 */
int conf_set(struct conf *conf, const char *key, const char *value, char *err,
    size_t errlen);

/* Cross-key checks (batch_size <= max_batch, ports distinct, ...); TR_ECONF with ERR. */
int conf_validate(const struct conf *conf, char *err, size_t errlen);

/* The collection NAME, or NULL. */
const struct conf_collection *conf_collection(const struct conf *conf,
    const char *name);

/* Non-zero when one of ROLES (NROLES names) is in the role list LIST/N. */
int conf_roles_match(const char list[][CONF_ROLE_MAX + 1], int n,
    const char *const *roles, int nroles);

/* Name of a conflict policy ("hub-wins", ...). */
const char *conf_policy_name(enum conf_policy p);

/* Deep copy SRC into DST (for handing a snapshot to another thread). */
int conf_copy(struct conf *dst, const struct conf *src);

/* Free what CONF owns (collections); CONF may be reused after conf_defaults. */
void conf_free(struct conf *conf);

#endif /* TROSYN_CONF_H */
