/*
 * libtrosyn: Trosyn sync for Child Apps.  A node keeps a local SQLite
 * replica of the hub's collections, queues its own changes, and syncs with
 * the Admin Hub over the Trosyn LAN protocol (TLS 1.3, signed JSON).
 *
 * Threading: one trosyn handle is used by one thread at a time; use one
 * handle per thread (they may share a state directory: SQLite serializes).
 * Errors: functions return 0 or a negative code; trosyn_strerror() names it.
 * Strings returned through char ** are malloc'd: release with trosyn_free().
 */
#ifndef TROSYN_H
#define TROSYN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TROSYN_VERSION_MAJOR 0
#define TROSYN_VERSION_MINOR 1

typedef struct trosyn trosyn;

/* How to open a node. */
struct trosyn_options {
	const char *credentials;	/* credentials file from trosyn-admin enroll (required) */
	const char *state_dir;		/* replica directory, created 0700 (required) */
	const char *hub_host;		/* address or host name of the hub; NULL = discover one */
	uint16_t hub_port;		/* main port; 0 = 5001 */
	int timeout_s;			/* network timeout in seconds; 0 = 30 */
};

/* Figures of one sync. */
struct trosyn_sync_result {
	int64_t cursor;			/* pull: the cursor after it */
	int64_t records;		/* records received (pull) or sent (push) */
	int64_t batches;
	int reset;			/* pull: the hub asked for a full replace */
	int64_t applied;		/* push results */
	int64_t conflicts;
	int64_t rejected;
};

/*
 * Open the node: read the credentials, open (creating) the replica in
 * OPTS->state_dir.  Nothing touches the network yet.  On failure *OUT is
 * NULL and ERR holds a one-line reason.
 */
int trosyn_open(const struct trosyn_options *opts, trosyn **out, char *err,
    size_t errlen);

/* Close the node and free the handle (NULL is fine). */
void trosyn_close(trosyn *t);

/* The node id from the credentials. */
const char *trosyn_node_id(const trosyn *t);

/*
 * Queue a local change: DATA_JSON (a JSON object) becomes the new data of
 * (COLLECTION, ID), to be pushed by the next trosyn_push().  The change is
 * durable when this returns 0.
 */
int trosyn_put(trosyn *t, const char *collection, const char *id,
    const char *data_json);

/* Queue a local delete of (COLLECTION, ID). */
int trosyn_delete(trosyn *t, const char *collection, const char *id);

/*
 * The record (COLLECTION, ID) as the node sees it (pending local change
 * first, else the replica) as a JSON object in the section 7 record form,
 * with "pending": true/false added.  TROSYN_ENOTFOUND when absent or
 * deleted.
 */
int trosyn_get(trosyn *t, const char *collection, const char *id,
    char **record_json);

/* Every live record of COLLECTION as a JSON array ordered by id; INCLUDE_DELETED adds tombstones. */
int trosyn_list(trosyn *t, const char *collection, int include_deleted,
    char **array_json);

/* Flags of trosyn_list_flags. */
#define TROSYN_LIST_DELETED	0x1	/* add tombstones */
#define TROSYN_LIST_PENDING	0x2	/* add "pending": true/false to each record */

/* As trosyn_list, with TROSYN_LIST_* FLAGS. */
int trosyn_list_flags(trosyn *t, const char *collection, unsigned flags,
    char **array_json);

/*
 * Pull the N COLLECTIONS (N = 0: every collection the node may read) from
 * the hub into the replica, resuming from the cursor kept for that set.
 * Each batch is committed before it is acknowledged.  RES may be NULL.
 */
int trosyn_pull(trosyn *t, const char *const *collections, size_t n,
    struct trosyn_sync_result *res);

/*
 * Push every queued local change.  A change leaves the queue only once the
 * hub's SYNC_ACK for it was committed locally; applied changes update the
 * replica, conflicts and rejections are counted in RES and dropped.
 */
int trosyn_push(trosyn *t, struct trosyn_sync_result *res);

/*
 * Progress of a running pull or push: DIRECTION is "pull" or "push", DONE
 * the records handled so far, TOTAL the records to push (-1 for a pull,
 * whose size is not known ahead).  For a file transfer DIRECTION is
 * "fetch" or "upload" and DONE and TOTAL are bytes.  Called from the
 * working thread.
 */
typedef void (*trosyn_progress_fn)(void *arg, const char *direction,
    int64_t done, int64_t total);

/* Report the progress of later pulls, pushes and transfers to FN (NULL: none). */
void trosyn_set_progress(trosyn *t, trosyn_progress_fn fn, void *arg);

/*
 * How to look for hubs (PROTOCOL.md section 8).  Zero and NULL members
 * take the defaults.  A DISCOVERY_BROADCAST goes to GROUP (or, with
 * UNICAST set, to that host alone) and to BROADCAST when set, every one on
 * PORT; answers are awaited TIMEOUT_MS per attempt.
 */
struct trosyn_discovery {
	uint16_t port;			/* discovery port; 0 = 5000 */
	const char *group;		/* IPv4 multicast group; NULL = 239.255.77.77 */
	const char *interface;		/* IPv4 address of the outgoing interface; NULL = 0.0.0.0 (the kernel's choice) */
	int ttl;			/* multicast TTL; 0 = 1 */
	const char *broadcast;		/* also send here: 255.255.255.255 or a unicast IPv4 address; NULL = nowhere */
	const char *unicast;		/* ask this host alone instead of the group; NULL = use the group */
	int timeout_ms;			/* wait per attempt; 0 = 1000 */
	int attempts;			/* broadcasts sent at most; 0 = 4 (one and 3 retries) */
	int max_clock_skew_s;		/* answers older or newer are ignored; 0 = 300 */
};

/* One hub that answered a discovery. */
struct trosyn_hub {
	char hub_id[65];		/* source.node_id of its answer */
	char address[46];		/* the IP address the answer came from */
	uint16_t port;			/* main channel */
	uint16_t file_port;
	char cert_sha256[65];		/* lowercase hex SHA-256 of its certificate */
	int load;			/* 0..100 */
	int pinned;			/* cert_sha256 matches the credentials' pin */
};

/*
 * Set how T discovers hubs (copied; NULL restores the defaults).  Used by
 * trosyn_discover() and, when no hub_host was given, by everything that
 * needs the hub.
 */
int trosyn_set_discovery(trosyn *t, const struct trosyn_discovery *d);

/*
 * Discover the hubs of the site: every valid answer (signed with the site
 * key, answering one of our broadcasts, fresh), one per hub id, into a
 * malloc'd array *HUBS of *N entries (release with trosyn_free()), pinned
 * hubs first, each group by load, then in order of arrival.
 * TROSYN_ENOTFOUND when no hub answered.
 */
int trosyn_discover(trosyn *t, struct trosyn_hub **hubs, size_t *n);

/* Options of trosyn_run(); zero members take the defaults. */
struct trosyn_run_options {
	int sync_interval_s;		/* seconds between syncs (pull then push); 0 = 60 */
};

/*
 * The node as a service: log in once and keep the session (later
 * connections log in with its token; a new login before it expires), send
 * a HEARTBEAT to the hub's discovery port every heartbeat_interval from a
 * thread of its own, pull then push every SYNC_INTERVAL_S seconds and as
 * soon as local changes are queued, retry with backoff (1 s doubling to
 * 60 s, +-20%) and, without a hub_host, discover again once the hub stayed
 * unreachable for 3 heartbeat intervals.  Returns 0 once trosyn_stop() was
 * called, or a negative code on a local failure (replica, memory).
 */
int trosyn_run(trosyn *t, const struct trosyn_run_options *o);

/*
 * Make a trosyn_run() in another thread return soon (within about a
 * second; a connection attempt in progress finishes first).  Thread-safe;
 * not for signal handlers.
 */
void trosyn_stop(trosyn *t);

/*
 * File transfer (PROTOCOL.md section 9).  Blobs are named by the lowercase
 * hex SHA-256 of their content.  A transfer logs in on the hub's file
 * channel with the token of the node's session (logging in on the main
 * channel first when the node holds none), reports progress through the
 * trosyn_set_progress callback with DIRECTION "fetch" or "upload", DONE
 * and TOTAL in bytes, and retries a broken connection or a BUSY hub as
 * section 11 says.
 */

/*
 * The hub's file-channel port: PORT, or 0 for the one discovery reported
 * (5002 with a hub_host given and no port set here).
 */
void trosyn_set_file_port(trosyn *t, uint16_t port);

/*
 * Fetch the blob SHA256_HEX (64 lowercase hex digits) into OUTPUT_PATH.
 * Whole verified chunks are kept in STATE_DIR/partial, so an interrupted
 * fetch resumes where it stopped.  OUTPUT_PATH appears (atomically, by
 * rename) only once the whole file has the right SHA-256; a chunk that
 * fails authentication (TROSYN_EAUTH) or a wrong hash (TROSYN_EPROTO)
 * leaves it untouched.  TROSYN_ENOTFOUND when the hub has no such blob
 * the node may read.
 */
int trosyn_fetch(trosyn *t, const char *sha256_hex, const char *output_path);

/*
 * Upload the regular file PATH: hash it, then send what the hub does not
 * hold yet (an interrupted upload resumes from the hub's verified bytes;
 * nothing is sent when it holds the whole blob).  Its lowercase hex SHA-256
 * goes to SHA256_OUT (65 bytes with the NUL; may be NULL).
 */
int trosyn_upload(trosyn *t, const char *path, char sha256_out[65]);

/*
 * As trosyn_put, with the record naming the file PATH: the file is
 * uploaded first (trosyn_upload), then the change is queued with "file":
 * {"sha256", "size", "name": the last component of PATH}.  Nothing is
 * queued when the upload fails (the hub must hold a record's file before
 * the push, or it rejects the record with missing_file) or when that name
 * would be refused by the nodes (see trosyn_fetch_files).
 */
int trosyn_put_file(trosyn *t, const char *collection, const char *id,
    const char *data_json, const char *path);

/*
 * Materialize the files of pulled records in DIR (NULL: not at all, the
 * default).  Used by trosyn_fetch_files() and by trosyn_run() after each
 * pull.
 */
int trosyn_set_files_dir(trosyn *t, const char *dir);

/* Figures of trosyn_fetch_files(). */
struct trosyn_files_result {
	int64_t files;			/* live records that name a file */
	int64_t present;		/* already in the files dir with the right SHA-256 */
	int64_t fetched;
	int64_t refused;		/* unsafe names, or a name shared by two blobs */
	int64_t failed;			/* fetches that failed */
};

/*
 * Bring every file named by a live record of the replica into the files
 * dir as DIR/<file.name>: a file already there with the right SHA-256 is
 * kept, others are fetched.  A name that is empty, ".", "..", or holds
 * '/', NUL or a control character is refused, never rewritten, and so is
 * a name that two records give to different content (the record with the
 * higher seq keeps it).  Every record is tried; the return is 0 when all
 * are in place, else TROSYN_EINVAL (some refused) or the error of the
 * first failed fetch, with trosyn_last_error() naming the record.
 * TROSYN_EINVAL when no files dir is set.
 */
int trosyn_fetch_files(trosyn *t, struct trosyn_files_result *res);

/* Status as a JSON object: node_id, hub, pending, cursors, last_sync, last_error. */
int trosyn_status(trosyn *t, char **status_json);

/* The reason of the last failure of T (never NULL). */
const char *trosyn_last_error(const trosyn *t);

/* A static string for an error code. */
const char *trosyn_strerror(int err);

/* Free a string returned by this library. */
void trosyn_free(void *p);

/* Error codes (negative). */
#define TROSYN_OK		0
#define TROSYN_ENOMEM		(-1)
#define TROSYN_EINVAL		(-2)
#define TROSYN_EIO		(-3)
#define TROSYN_ETIMEDOUT	(-4)
#define TROSYN_ECLOSED		(-5)	/* the hub closed the connection */
#define TROSYN_ETRUNC		(-6)	/* ... in the middle of a message */
#define TROSYN_ETOOBIG		(-7)	/* a message over the limit (TOO_LARGE) */
#define TROSYN_EVERSION		(-12)	/* UNSUPPORTED_VERSION */
#define TROSYN_ESIG		(-13)	/* bad signature or hub proof: not our hub */
#define TROSYN_EAUTH		(-15)	/* a file chunk failed authentication */
#define TROSYN_ETLS		(-16)	/* TLS handshake failed */
#define TROSYN_EDB		(-18)	/* replica database error */
#define TROSYN_ENOTFOUND	(-19)
#define TROSYN_EACCES		(-21)
#define TROSYN_ESKEW		(-22)	/* CLOCK_SKEW: fix the node's clock */
#define TROSYN_ETOKEN		(-23)	/* INVALID_TOKEN: session ended */
#define TROSYN_EBUSY		(-24)
#define TROSYN_EPROTO		(-25)
#define TROSYN_ENOSYS		(-26)	/* not available in this build */
#define TROSYN_EPIN		(-27)	/* hub certificate does not match the pin */
#define TROSYN_ESYS		(-28)	/* a local system call failed */

#ifdef __cplusplus
}
#endif

#endif /* TROSYN_H */
