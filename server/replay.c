/* Replay cache: open addressing over a power-of-two table of ids with expiry times. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "replay.h"
#include "trosyn-protocol.h"

/* Slots probed for one id before the one nearest expiry is evicted. */
#define REPLAY_PROBE 16

struct replay_slot {
	char id[TR_UUID_LEN + 1];	/* longer ids are cut (they are UUIDs) */
	int64_t expires_ms;		/* 0 = empty */
};

struct replay {
	struct replay_slot *slots;
	size_t mask;
};

/* A new cache of at least CAPACITY slots. */
struct replay *
replay_new(size_t capacity)
{
	struct replay *r = calloc(1, sizeof(*r));
	size_t n = 64;

	if (r == NULL)
		return NULL;
	while (n < capacity && n < ((size_t)1 << 24))
		n <<= 1;
	if ((r->slots = calloc(n, sizeof(*r->slots))) == NULL) {
		free(r);
		return NULL;
	}
	r->mask = n - 1;
	return r;
}

/* Free R. */
void
replay_free(struct replay *r)
{
	if (r == NULL)
		return;
	free(r->slots);
	free(r);
}

/* Check and remember ID. */
int
replay_check(struct replay *r, const char *id, int64_t now_ms, int64_t ttl_ms)
{
	struct replay_slot *victim = NULL;
	char key[TR_UUID_LEN + 1];
	uint64_t h = 1469598103934665603ULL;	/* FNV-1a */
	size_t start;

	/* An unkeyed hash is enough: ids come from verified datagrams only. */
	memset(key, 0, sizeof(key));
	strncpy(key, id, TR_UUID_LEN);
	for (const char *p = key; *p != '\0'; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ULL;
	start = (size_t)h;
	for (size_t i = 0; i < REPLAY_PROBE; i++) {
		struct replay_slot *s = &r->slots[(start + i) & r->mask];

		if (s->expires_ms > now_ms &&
		    memcmp(s->id, key, sizeof(s->id)) == 0)
			return 1;
		if (victim == NULL || s->expires_ms < victim->expires_ms)
			victim = s;
	}
	memcpy(victim->id, key, sizeof(victim->id));
	victim->expires_ms = now_ms + ttl_ms;
	return 0;
}

/* Number of live ids. */
size_t
replay_count(const struct replay *r, int64_t now_ms)
{
	size_t n = 0;

	for (size_t i = 0; i <= r->mask; i++)
		if (r->slots[i].expires_ms > now_ms)
			n++;
	return n;
}
