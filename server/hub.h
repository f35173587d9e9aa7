/* The hub context every hub thread shares, and the per-connection state of the main and file channels. */
#ifndef TROSYN_HUB_H
#define TROSYN_HUB_H

#include <pthread.h>
#include <stdint.h>

#include <json-c/json.h>
#include <openssl/ssl.h>
#include <sqlite3.h>

#include "acceptor.h"
#include "authfail.h"
#include "conf.h"
#include "conn.h"
#include "pool.h"
#include "registry.h"
#include "statedir.h"

struct blob_store;
struct discovery;
struct heartbeat;
struct transfer;
struct metrics;

/* Limits a connection works with: a snapshot of the config taken when it starts. */
struct hub_limits {
	uint32_t max_message_size;
	int max_clock_skew;
	int session_lifetime;
	uint32_t rotate_every;
	int heartbeat_interval;
	int batch_size;
	int max_batch;
	uint32_t chunk_size;
	int64_t max_file_size;
	int auth_timeout;
	int idle_timeout;
};

/* Login refusal reasons counted apart (metrics.c names them). */
#define HUB_AUTH_REASONS 9

/* Counters for status and metrics (updated with atomics). */
struct hub_stats {
	uint64_t logins_ok;
	uint64_t logins_failed;
	uint64_t busy_rejected;
	uint64_t conns_served;
	uint64_t syncs_pull;		/* completed syncs */
	uint64_t syncs_push;
	uint64_t syncs_failed;		/* ended early */
	uint64_t records_out;		/* records sent by pulls */
	uint64_t records_in;		/* records received by pushes */
	uint64_t bytes_in;		/* main-channel frame bytes */
	uint64_t bytes_out;
	uint64_t file_bytes_in;		/* file data received by puts */
	uint64_t file_bytes_out;	/* file data sent by gets */
	uint64_t transfers_ok;
	uint64_t transfers_failed;
	uint64_t auth_failures[HUB_AUTH_REASONS];
};

/* The hub: created by hubd_run, read-only after start but for what its locks guard. */
struct hub {
	char state_dir[4096];
	char conf_path[4096];

	pthread_rwlock_t conf_lock;	/* guards conf (replaced on SIGHUP) */
	struct conf conf;

	struct hub_keys keys;		/* read-only after start */
	SSL_CTX *tls_main;
	SSL_CTX *tls_file;

	/* Pulls hold it for reading; the tombstone purge try-locks it for writing. */
	pthread_rwlock_t journal_lock;
	sqlite3 *maint_db;		/* the main thread's connection (purge) */

	struct registry *reg;
	struct authfail *af;
	struct pool *main_pool;
	struct pool *reject_pool;
	struct acceptor *main_acc;
	sqlite3 **main_dbs;		/* one connection per main worker */
	int nmain_dbs;
	struct pool *file_pool;		/* the transfer workers */
	struct acceptor *file_acc;
	sqlite3 **file_dbs;		/* one connection per transfer worker */
	int nfile_dbs;
	struct blob_store *blobs;
	struct transfer *xfer;		/* the transfer workers' buffers */
	struct control *control;
	struct discovery *disc;
	struct heartbeat *hb;
	struct metrics *metrics;

	uint16_t port;			/* bound ports */
	uint16_t file_port;
	uint16_t discovery_port;
	int64_t started_ms;
	int stopping;			/* atomic */
	struct hub_stats stats;		/* atomic */
};

struct sync_state;

/* Which channel a connection is on. */
enum hub_channel {
	HUB_CHANNEL_MAIN = 1,
	HUB_CHANNEL_FILE = 2
};

/* One served connection. */
struct hub_conn {
	struct hub *hub;
	struct pool_item *item;
	int worker;
	enum hub_channel channel;
	SSL *ssl;
	struct conn c;
	struct hub_limits lim;
	sqlite3 *db;			/* this worker's connection */
	int authed;
	int method;			/* enum hub_method, or 3 for token */
	struct reg_session session;	/* copy taken at login */
	uint64_t reg_handle;
	uint8_t exporter[TR_KEY_LEN];
	uint8_t conn_key[TR_KEY_LEN];	/* file channel only: file keys come from it */
	struct sync_state *sync;	/* the running sync, or NULL (sync.h) */
};

/* Copy the current limits out of the config. */
void hub_limits_get(struct hub *hub, struct hub_limits *lim);

/* Non-zero once shutdown has begun. */
int hub_stopping(struct hub *hub);

#endif /* TROSYN_HUB_H */
