/* Hub side of sync (PROTOCOL.md section 7): pull and push on an authenticated main-channel connection. */
#ifndef TROSYN_SYNC_H
#define TROSYN_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "hub.h"
#include "journal.h"

/*
 * Handlers of the session dispatch table (session_handler_fn): each gets a
 * parsed, verified message of the connection's live session and returns 0
 * to keep the connection or a negative code to close it.  The state of the
 * running sync (at most one per connection) hangs off HC->sync.
 */
int sync_on_request(struct hub_conn *hc, json_object *env);	/* SYNC_REQUEST */
int sync_on_ack(struct hub_conn *hc, json_object *env);		/* SYNC_ACK (pull) */
int sync_on_data(struct hub_conn *hc, json_object *env);	/* SYNC_DATA (push) */
int sync_on_complete(struct hub_conn *hc, json_object *env);	/* SYNC_COMPLETE (push) */

/* Non-zero while a sync runs on HC (an expired session may finish it). */
int sync_running(const struct hub_conn *hc);

/* Drop HC's sync state when the connection ends. */
void sync_conn_end(struct hub_conn *hc);

/*
 * An upper bound of the bytes a hub SYNC_DATA takes around an empty
 * records array (the longest hub_id and node_name, the largest batch and
 * last_seq, reset false, signature); 0 when out of memory.  A batch of
 * records R1..Rn encodes to at most this + sum(JCS(Ri)) + n - 1 bytes.
 */
size_t sync_data_overhead(void);

/*
 * Non-zero when CHG, stored with the hub's members (version and seq of up
 * to 16 digits, origin, a keep-both copy id in place of its id), fits one
 * SYNC_DATA of at most MAX bytes whose envelope takes OVERHEAD
 * (sync_data_overhead): every write is checked so that every pull can be
 * served.
 */
int sync_change_fits(const struct jchange *chg, size_t overhead,
    uint32_t max);

#endif /* TROSYN_SYNC_H */
