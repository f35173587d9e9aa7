/* The acceptor thread: accept, refuse banned addresses, hand sockets to a pool or the rejection path. */
#ifndef TROSYN_ACCEPTOR_H
#define TROSYN_ACCEPTOR_H

#include <stdint.h>

#include "authfail.h"
#include "pool.h"

/*
 * Open a listening TCP socket on BIND:PORT (IPv4 or IPv6 literal) with
 * SO_REUSEADDR and close-on-exec.  PORT 0 picks a free port; *BOUND_PORT
 * gets the real one when not NULL.  TR_ESYS with a reason in ERR.
 */
int acceptor_listen(const char *bind, uint16_t port, int *fd,
    uint16_t *bound_port, char *err, size_t errlen);

struct acceptor;

/*
 * Start thread NAME accepting on LISTEN_FD, which it owns from then on
 * (closed on failure too).  Each new
 * socket: closed at once when AF says its address is banned; else queued on
 * POOL; when POOL is full, queued on REJECT (which answers BUSY); when that
 * is full too, closed at once.  The thread never blocks on a peer; it wakes
 * at least every 200 ms to notice acceptor_stop.
 */
struct acceptor *acceptor_start(const char *name, int listen_fd,
    struct pool *pool, struct pool *reject, struct authfail *af);

/* Stop accepting, close the listening socket, join the thread and free A. */
void acceptor_stop(struct acceptor *a);

/* Counters since start. */
void acceptor_stats(struct acceptor *a, uint64_t *accepted, uint64_t *banned,
    uint64_t *rejected_busy, uint64_t *dropped);

#endif /* TROSYN_ACCEPTOR_H */
