/* A worker pool: bounded queue of accepted sockets served by named threads. */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "pool.h"
#include "thr.h"

struct pool_worker {
	struct pool *pool;
	pthread_t thread;
	int index;
	int started;
	int fd;				/* connection in hand, -1 when idle */
	long long deadline;		/* of that connection, 0 = none */
};

struct pool {
	char name[32];
	pthread_mutex_t lock;
	pthread_cond_t cond;		/* work queued, or stopping */
	pthread_cond_t ready;		/* a worker came up */
	struct pool_item *queue;	/* ring of depth items */
	int depth;
	int head;
	int queued;
	int busy;
	int running;			/* workers that reached their loop */
	int stopping;
	int nworkers;
	struct pool_worker *workers;
	pool_fn fn;
	void *arg;
};

/* A pool of NWORKERS threads and QUEUE_DEPTH waiting items. */
struct pool *
pool_new(const char *name, int nworkers, int queue_depth, pool_fn fn,
    void *arg)
{
	struct pool *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->queue = calloc((size_t)queue_depth, sizeof(*p->queue));
	p->workers = calloc((size_t)nworkers, sizeof(*p->workers));
	if (p->queue == NULL || p->workers == NULL) {
		free(p->queue);
		free(p->workers);
		free(p);
		return NULL;
	}
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	pthread_cond_init(&p->ready, NULL);
	p->depth = queue_depth;
	p->nworkers = nworkers;
	p->fn = fn;
	p->arg = arg;
	return p;
}

/* One worker: take items off the queue until the pool stops. */
static void *
pool_main(void *arg)
{
	struct pool_worker *w = arg;
	struct pool *p = w->pool;
	struct pool_item item;

	thr_lock(&p->lock);
	p->running++;
	pthread_cond_broadcast(&p->ready);
	for (;;) {
		while (p->queued == 0 && !p->stopping)
			pthread_cond_wait(&p->cond, &p->lock);
		if (p->stopping)
			break;
		item = p->queue[p->head];
		p->head = (p->head + 1) % p->depth;
		p->queued--;
		p->busy++;
		w->fd = item.fd;
		thr_unlock(&p->lock);
		p->fn(p->arg, &item, w->index);
		thr_lock(&p->lock);
		w->fd = -1;
		w->deadline = 0;
		close(item.fd);
		p->busy--;
	}
	p->running--;
	thr_unlock(&p->lock);
	return NULL;
}

/* Start the workers and wait until every one runs. */
int
pool_start(struct pool *p)
{
	char tname[48];
	int rc = 0;

	for (int i = 0; i < p->nworkers; i++) {
		struct pool_worker *w = &p->workers[i];

		w->pool = p;
		w->index = i;
		w->fd = -1;
		snprintf(tname, sizeof(tname), "%s/%d", p->name, i);
		if ((rc = thr_create(&w->thread, tname, pool_main, w)) != 0)
			break;
		w->started = 1;
	}
	thr_lock(&p->lock);
	for (;;) {
		int started = 0;

		for (int i = 0; i < p->nworkers; i++)
			started += p->workers[i].started;
		if (p->running >= started)
			break;
		pthread_cond_wait(&p->ready, &p->lock);
	}
	thr_unlock(&p->lock);
	return rc;
}

/* Queue ITEM; TR_EBUSY when full or stopping. */
int
pool_submit(struct pool *p, const struct pool_item *item)
{
	int rc = 0;

	thr_lock(&p->lock);
	if (p->stopping || p->queued >= p->depth) {
		rc = TR_EBUSY;
		goto out;
	}
	p->queue[(p->head + p->queued) % p->depth] = *item;
	p->queued++;
	pthread_cond_signal(&p->cond);
out:
	thr_unlock(&p->lock);
	return rc;
}

/* Refuse new items, drop the queued ones, join every worker. */
void
pool_stop(struct pool *p)
{
	if (p == NULL)
		return;
	thr_lock(&p->lock);
	p->stopping = 1;
	while (p->queued > 0) {
		close(p->queue[p->head].fd);
		p->head = (p->head + 1) % p->depth;
		p->queued--;
	}
	for (int i = 0; i < p->nworkers; i++)
		if (p->workers[i].fd >= 0)
			shutdown(p->workers[i].fd, SHUT_RD);
	pthread_cond_broadcast(&p->cond);
	thr_unlock(&p->lock);
	for (int i = 0; i < p->nworkers; i++) {
		if (p->workers[i].started) {
			pthread_join(p->workers[i].thread, NULL);
			p->workers[i].started = 0;
		}
	}
}

/* Free P (after pool_stop). */
void
pool_free(struct pool *p)
{
	if (p == NULL)
		return;
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
	pthread_cond_destroy(&p->ready);
	free(p->queue);
	free(p->workers);
	free(p);
}

/* Set the deadline of WORKER's connection in hand. */
void
pool_set_deadline(struct pool *p, int worker, long long deadline_ms)
{
	if (worker < 0 || worker >= p->nworkers)
		return;
	thr_lock(&p->lock);
	p->workers[worker].deadline = deadline_ms;
	thr_unlock(&p->lock);
}

/* Shut down connections past their deadline. */
int
pool_expire(struct pool *p, long long now_ms)
{
	int n = 0;

	thr_lock(&p->lock);
	for (int i = 0; i < p->nworkers; i++) {
		struct pool_worker *w = &p->workers[i];

		if (w->fd >= 0 && w->deadline > 0 && now_ms >= w->deadline) {
			shutdown(w->fd, SHUT_RDWR);
			w->deadline = 0;
			n++;
		}
	}
	thr_unlock(&p->lock);
	return n;
}

/* Occupancy now. */
void
pool_stats(struct pool *p, int *busy, int *queued, int *workers, int *depth)
{
	thr_lock(&p->lock);
	if (busy != NULL)
		*busy = p->busy;
	if (queued != NULL)
		*queued = p->queued;
	if (workers != NULL)
		*workers = p->nworkers;
	if (depth != NULL)
		*depth = p->depth;
	thr_unlock(&p->lock);
}

/* min(100, floor(100 * (busy + queued) / (workers + depth))). */
int
pool_load(struct pool *p)
{
	int busy, queued, workers, depth, load;

	pool_stats(p, &busy, &queued, &workers, &depth);
	if (workers + depth <= 0)
		return 100;
	load = 100 * (busy + queued) / (workers + depth);
	return load > 100 ? 100 : load;
}
