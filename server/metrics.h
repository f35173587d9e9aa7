/* Metrics in the Prometheus text format: rendered for trosyn-admin metrics and served on metrics_port. */
#ifndef TROSYN_METRICS_H
#define TROSYN_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct hub;
struct metrics;

/*
 * Metrics of HUB, with a database connection of their own opened in
 * DIR.  When LISTEN_FD >= 0 (a listening socket from acceptor_listen on
 * metrics_bind:metrics_port) the thread "hub-metrics" serves
 * GET /metrics on it, one short connection at a time.  NULL with the
 * reason in ERR.
 */
struct metrics *metrics_start(struct hub *hub, const char *dir, int listen_fd,
    char *err, size_t errlen);

/* Stop the thread, close the socket and the database, free M (NULL is fine). */
void metrics_stop(struct metrics *m);

/* Render every metric into *OUT (malloc'd, NUL-terminated), *LEN its length. */
int metrics_render(struct metrics *m, char **out, size_t *len);

/* Count a refused login by its protocol error CODE ("AUTH_REQUIRED", ...). */
void metrics_auth_failed(struct hub *hub, const char *code);

#endif /* TROSYN_METRICS_H */
