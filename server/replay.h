/* A cache of recently seen message ids, bounded in size and age, that drops replayed datagrams. */
#ifndef TROSYN_REPLAY_H
#define TROSYN_REPLAY_H

#include <stddef.h>
#include <stdint.h>

struct replay;

/*
 * A cache of at most CAPACITY ids (rounded up to a power of two, at least
 * 64).  Not thread-safe: one thread (the discovery thread) owns it.
 */
struct replay *replay_new(size_t capacity);
void replay_free(struct replay *r);

/*
 * Check ID (a message_id, any string) at NOW_MS and remember it until
 * NOW_MS + TTL_MS.  Returns 1 when ID was seen within its TTL (a replay),
 * 0 when it is new.  When ID's set (16 ids) is full of live ids, the one
 * closest to expiry is forgotten to make room: the cache
 * stays bounded, and under a flood of valid ids a very old one may be
 * accepted again (callers keep a second line: the timestamp window and,
 * for heartbeats, the strictly increasing seq).
 */
int replay_check(struct replay *r, const char *id, int64_t now_ms,
    int64_t ttl_ms);

/* Number of live ids at NOW_MS. */
size_t replay_count(const struct replay *r, int64_t now_ms);

#endif /* TROSYN_REPLAY_H */
