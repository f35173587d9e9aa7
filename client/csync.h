/* The node's pull and push drivers of PROTOCOL.md section 7 on a logged-in link. */
#ifndef TROSYN_CSYNC_H
#define TROSYN_CSYNC_H

#include <stddef.h>
#include <stdint.h>

#include "link.h"
#include "replica.h"
#include "trosyn.h"

/* Room left in a SYNC_DATA for everything but its records (envelope, signature, payload members). */
#define CSYNC_ENVELOPE_ROOM	1024

/* Options of one sync; zero means the protocol default. */
struct csync_opts {
	int batch_size;			/* records per batch (clamped to max_batch); pull: 0 = the hub's */
	int window;			/* batches unacknowledged (1..16) */
	trosyn_progress_fn progress;	/* may be NULL */
	void *progress_arg;
};

/*
 * Pull the N COLLECTIONS (N = 0: the default set) over L into R, from the
 * cursor R keeps for that set under L's roles.  Every SYNC_DATA is checked,
 * applied and committed with its cursor before its SYNC_ACK goes out;
 * SYNC_COMPLETE's cursor is stored.  Fills RES (cursor, records, batches,
 * reset).  On failure L->err says why; batches committed before stay.
 */
int csync_pull(struct link *l, struct replica *r,
    const char *const *collections, size_t n, const struct csync_opts *o,
    struct trosyn_sync_result *res);

/*
 * Push every queued change of R over L: SYNC_REQUEST, then SYNC_DATA
 * batches within the hub's max_batch and max_message_size, up to the window
 * ahead of the ACKs, each SYNC_ACK processed in one transaction, then
 * SYNC_COMPLETE both ways.  A change too large for one SYNC_DATA is
 * rejected locally with reason too_large.  With ONLY set, just the changes
 * of that collection are pushed.  Fills RES (records, batches, applied,
 * conflicts, rejected).  On failure L->err says why; changes whose ACK was
 * not processed stay queued.  TR_EACCES (the hub refused the request)
 * means nothing was sent and the connection can still be used.
 */
int csync_push(struct link *l, struct replica *r, const struct csync_opts *o,
    const char *only, struct trosyn_sync_result *res);

#endif /* TROSYN_CSYNC_H */
