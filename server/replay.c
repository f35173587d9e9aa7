/* Replay cache: a set-associative table of ids (16 ways per set) with expiry times. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "replay.h"
#include "trosyn-protocol.h"

/* Ways per set: an id lives in one set, whose tags fill one cache line. */
#define REPLAY_WAYS 16

/* One set: tags compared first, the full id only on a tag match. */
struct replay_set {
	uint32_t tag[REPLAY_WAYS];		/* 0 = empty */
	int64_t expires_ms[REPLAY_WAYS];
	char id[REPLAY_WAYS][TR_UUID_LEN + 1];	/* longer ids are cut (they are UUIDs) */
};

struct replay {
	struct replay_set *sets;
	size_t mask;				/* number of sets - 1 */
};

/* A new cache of at least CAPACITY ids. */
struct replay *
replay_new(size_t capacity)
{
	struct replay *r = calloc(1, sizeof(*r));
	size_t n = 64;

	if (r == NULL)
		return NULL;
	while (n < capacity && n < ((size_t)1 << 24))
		n <<= 1;
	if ((r->sets = calloc(n / REPLAY_WAYS, sizeof(*r->sets))) == NULL) {
		free(r);
		return NULL;
	}
	r->mask = n / REPLAY_WAYS - 1;
	return r;
}

/* Free R. */
void
replay_free(struct replay *r)
{
	if (r == NULL)
		return;
	free(r->sets);
	free(r);
}

/* Check and remember ID. */
int
replay_check(struct replay *r, const char *id, int64_t now_ms, int64_t ttl_ms)
{
	struct replay_set *set;
	char key[TR_UUID_LEN + 1];
	uint64_t h = 1469598103934665603ULL;	/* FNV-1a */
	uint32_t tag;
	int victim = 0;

	/* An unkeyed hash is enough: ids come from verified datagrams only. */
	memset(key, 0, sizeof(key));
	strncpy(key, id, TR_UUID_LEN);
	for (const char *p = key; *p != '\0'; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ULL;
	set = &r->sets[(size_t)h & r->mask];
	tag = (uint32_t)(h >> 32) | 1;		/* never 0 */
	for (int i = 0; i < REPLAY_WAYS; i++) {
		if (set->tag[i] == tag && set->expires_ms[i] > now_ms &&
		    memcmp(set->id[i], key, sizeof(key)) == 0)
			return 1;
		if (set->expires_ms[i] < set->expires_ms[victim])
			victim = i;
	}
	set->tag[victim] = tag;
	set->expires_ms[victim] = now_ms + ttl_ms;
	memcpy(set->id[victim], key, sizeof(key));
	return 0;
}

/* Number of live ids. */
size_t
replay_count(const struct replay *r, int64_t now_ms)
{
	size_t n = 0;

	for (size_t s = 0; s <= r->mask; s++)
		for (int i = 0; i < REPLAY_WAYS; i++)
			if (r->sets[s].tag[i] != 0 &&
			    r->sets[s].expires_ms[i] > now_ms)
				n++;
	return n;
}
