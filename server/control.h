/* The control socket DIR/hubd.sock: trosyn-admin asks the running hub for live state and to revoke. */
#ifndef TROSYN_CONTROL_H
#define TROSYN_CONTROL_H

#include <json-c/json.h>

/*
 * Protocol: the client connects, sends one JSON object on one line, reads
 * one JSON object on one line, and the hub closes.  Requests:
 *   {"cmd":"status"}             -> {"ok":true, "status":{...}}
 *   {"cmd":"sessions"}           -> {"ok":true, "sessions":[...]}
 *   {"cmd":"lives"}              -> {"ok":true, "lives":[...]}
 *   {"cmd":"revoke","node_id":X} -> {"ok":true, "sessions_ended":N}
 * Errors: {"ok":false, "error":"why"}.  The socket is mode 0600 in a 0700
 * directory: only the hub's user may use it.  Requests are capped at 64 KiB
 * and every read and write has a 5 s timeout.
 */

struct hub;
struct control;

/* Bind PATH (replacing a stale socket) and start the control thread. */
struct control *control_start(struct hub *hub, const char *path, char *err,
    size_t errlen);

/* Stop the thread, close and unlink the socket. */
void control_stop(struct control *ctl);

/*
 * Client side: send REQ to the hub at PATH and read the answer into *RESP.
 * TR_ENOTFOUND when no hub listens there (ENOENT, ECONNREFUSED).
 */
int control_call(const char *path, json_object *req, json_object **resp,
    int timeout_ms);

#endif /* TROSYN_CONTROL_H */
