/* Per-connection state machine of the hub's main channel: TLS, login, then verified requests by type. */
#ifndef TROSYN_SESSION_H
#define TROSYN_SESSION_H

#include <json-c/json.h>

#include "hub.h"
#include "pool.h"

/*
 * A handler of one message type after login.  ENV is parsed, its
 * signature verified and its session checked.  Return 0 to keep the
 * connection, a negative code to close it (after sending any ERROR).
 */
typedef int (*session_handler_fn)(struct hub_conn *hc, json_object *env);

/*
 * Open the connection of HC (hub, item, worker, channel and db set): the
 * auth_timeout deadline on POOL, the TLS handshake with CTX, the login of
 * section 6, registration in the registry, idle timeouts.  MAX_CHUNK is
 * the largest 'C' frame body accepted (0: none).  0, or a negative code
 * after logging; session_close() undoes it either way.
 */
int session_open(struct hub_conn *hc, struct pool *pool, SSL_CTX *ctx,
    uint32_t max_chunk);

/* Undo session_open: unregister the connection, forget its keys, close TLS. */
void session_close(struct hub_conn *hc);

/* Serve one main-channel connection (a pool_fn; ARG is the struct hub). */
void session_serve_main(void *arg, struct pool_item *item, int worker);

/*
 * Answer a connection the saturated pool could not take: TLS handshake
 * under a short timeout, ERROR BUSY with retry_after_ms signed with the
 * site key, close (a pool_fn of the rejection path; ARG is the struct hub).
 */
void session_serve_busy(void *arg, struct pool_item *item, int worker);

/*
 * Send an ERROR on an authenticated connection answering ENV (may be NULL)
 * and log it.  Returns 0 when it was sent.
 */
int session_error(struct hub_conn *hc, json_object *env, const char *code,
    const char *message, json_object *details);

/*
 * Read the next message of an authenticated connection, verify its
 * signature and source and check that its session lives.  0 with *ENV
 * (the caller puts it), or a negative code after any ERROR was sent: the
 * caller closes.
 */
int session_recv(struct hub_conn *hc, json_object **env);

/* Write all LEN bytes of BUF to the socket FD (no SIGPIPE): 0 or TR_EIO. */
int session_write_all(int fd, const void *buf, size_t len);

/* Set both socket timeouts of FD to MS milliseconds. */
void session_set_timeouts(int fd, long ms);

#endif /* TROSYN_SESSION_H */
