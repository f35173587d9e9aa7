/* A worker pool: a bounded queue of accepted sockets, one mutex, one condvar, N named threads. */
#ifndef TROSYN_POOL_H
#define TROSYN_POOL_H

#include <stdint.h>
#include <sys/socket.h>

/* One accepted connection waiting for a worker. */
struct pool_item {
	int fd;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char peer[64];			/* "ip:port" */
	char ip[48];			/* "ip" */
	long long accepted_ms;		/* thr_mono_ms() at accept */
};

/*
 * Serve ITEM in worker WORKER.  The pool closes ITEM->fd after the handler
 * returns; the handler must not close it (it may shut it down).
 */
typedef void (*pool_fn)(void *arg, struct pool_item *item, int worker);

struct pool;

/*
 * A pool named NAME ("hub-worker" names threads "hub-worker/3") of NWORKERS
 * threads and a queue of QUEUE_DEPTH waiting items; FN(ARG, ...) serves
 * each.  Nothing runs before pool_start.
 */
struct pool *pool_new(const char *name, int nworkers, int queue_depth,
    pool_fn fn, void *arg);

/* Start the threads and return once every one is running (readiness barrier). */
int pool_start(struct pool *p);

/*
 * Queue ITEM (copied): 0, or TR_EBUSY when the queue is full or the pool is
 * stopping (the caller still owns ITEM->fd then).
 */
int pool_submit(struct pool *p, const struct pool_item *item);

/*
 * Stop: refuse new items, close the sockets still queued, shut down the
 * read side of every connection in hand (a worker blocked in a read wakes
 * and sees end of file; one busy with a message finishes it and can still
 * write its answer and close_notify) and join every thread.
 */
void pool_stop(struct pool *p);
void pool_free(struct pool *p);

/*
 * Give worker WORKER's connection in hand a deadline (thr_mono_ms() time;
 * 0 clears it).  pool_expire() shuts down connections past theirs, so a
 * peer that trickles bytes cannot stretch a per-read timeout into a
 * longer hold on a worker.
 */
void pool_set_deadline(struct pool *p, int worker, long long deadline_ms);

/* Shut down (both directions) every connection in hand past its deadline at NOW_MS; returns how many. */
int pool_expire(struct pool *p, long long now_ms);

/* Occupancy now: workers busy, items queued, and the configured sizes. */
void pool_stats(struct pool *p, int *busy, int *queued, int *workers,
    int *depth);

/* min(100, floor(100 * (busy + queued) / (workers + depth))). */
int pool_load(struct pool *p);

#endif /* TROSYN_POOL_H */
