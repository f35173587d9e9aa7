/* Per-address failed-login counting and temporary bans. */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authfail.h"
#include "thr.h"

/*
 * Failures are counted in AF_BUCKETS slices of the window, so any limit is
 * counted exactly to one slice (1 s for the 60 s window) in bounded memory.
 */
#define AF_BUCKETS 60

struct af_entry {
	char addr[48];
	int64_t slice[AF_BUCKETS];	/* slice number each bucket counts */
	uint32_t count[AF_BUCKETS];
	int64_t banned_until;
	int64_t last;
};

struct authfail {
	pthread_mutex_t lock;
	int limit;
	int64_t window_ms;
	int64_t ban_ms;
	struct af_entry *ents;
	int nents;
};

/* A tracker of LIMIT failures per WINDOW_MS leading to a BAN_MS ban. */
struct authfail *
authfail_new(int limit, int64_t window_ms, int64_t ban_ms)
{
	struct authfail *af = calloc(1, sizeof(*af));

	if (af == NULL)
		return NULL;
	af->ents = calloc(AUTHFAIL_MAX_ADDRS, sizeof(*af->ents));
	if (af->ents == NULL) {
		free(af);
		return NULL;
	}
	pthread_mutex_init(&af->lock, NULL);
	af->limit = limit;
	af->window_ms = window_ms;
	af->ban_ms = ban_ms;
	return af;
}

/* Free AF. */
void
authfail_free(struct authfail *af)
{
	if (af == NULL)
		return;
	pthread_mutex_destroy(&af->lock);
	free(af->ents);
	free(af);
}

/* Change the limit. */
void
authfail_set_limit(struct authfail *af, int limit)
{
	thr_lock(&af->lock);
	af->limit = limit;
	thr_unlock(&af->lock);
}

/* The entry of ADDR, or NULL; with the lock held. */
static struct af_entry *
af_find(struct authfail *af, const char *addr)
{
	for (int i = 0; i < af->nents; i++)
		if (strcmp(af->ents[i].addr, addr) == 0)
			return &af->ents[i];
	return NULL;
}

/* Length of one slice of the window in ms. */
static int64_t
af_slice_ms(const struct authfail *af)
{
	int64_t ms = af->window_ms / AF_BUCKETS;

	return ms > 0 ? ms : 1;
}

/* Failures of E within the window ending at NOW. */
static uint64_t
af_recent(const struct authfail *af, const struct af_entry *e, int64_t now)
{
	int64_t cur = now / af_slice_ms(af);
	uint64_t n = 0;

	for (int i = 0; i < AF_BUCKETS; i++)
		if (e->count[i] != 0 && cur - e->slice[i] < AF_BUCKETS)
			n += e->count[i];
	return n;
}

/* Count one failure of ADDR; 1 when it starts a ban. */
int
authfail_record(struct authfail *af, const char *addr, int64_t now_ms)
{
	struct af_entry *e;
	int started = 0;

	thr_lock(&af->lock);
	if ((e = af_find(af, addr)) == NULL) {
		if (af->nents < AUTHFAIL_MAX_ADDRS)
			e = &af->ents[af->nents++];
		else {
			/* Reuse the quietest entry that is not banned. */
			for (int i = 0; i < af->nents; i++) {
				struct af_entry *c = &af->ents[i];

				if (c->banned_until > now_ms)
					continue;
				if (e == NULL || c->last < e->last)
					e = c;
			}
			if (e == NULL)
				goto out;	/* every slot banned: drop */
		}
		memset(e, 0, sizeof(*e));
		snprintf(e->addr, sizeof(e->addr), "%s", addr);
	}
	{
		int64_t cur = now_ms / af_slice_ms(af);
		int b = (int)(cur % AF_BUCKETS);

		if (e->slice[b] != cur) {
			e->slice[b] = cur;
			e->count[b] = 0;
		}
		if (e->count[b] < UINT32_MAX)
			e->count[b]++;
	}
	e->last = now_ms;
	if (e->banned_until <= now_ms &&
	    af_recent(af, e, now_ms) > (uint64_t)af->limit) {
		e->banned_until = now_ms + af->ban_ms;
		memset(e->count, 0, sizeof(e->count));
		started = 1;
	}
out:
	thr_unlock(&af->lock);
	return started;
}

/* Non-zero when ADDR is banned at NOW_MS. */
int
authfail_banned(struct authfail *af, const char *addr, int64_t now_ms)
{
	struct af_entry *e;
	int banned;

	thr_lock(&af->lock);
	e = af_find(af, addr);
	banned = e != NULL && e->banned_until > now_ms;
	thr_unlock(&af->lock);
	return banned;
}

/* Number of addresses banned at NOW_MS. */
int
authfail_banned_count(struct authfail *af, int64_t now_ms)
{
	int n = 0;

	thr_lock(&af->lock);
	for (int i = 0; i < af->nents; i++)
		if (af->ents[i].banned_until > now_ms)
			n++;
	thr_unlock(&af->lock);
	return n;
}
