/* Per-address failed-login counting and temporary bans (PROTOCOL.md section 6 step 3). */
#ifndef TROSYN_AUTHFAIL_H
#define TROSYN_AUTHFAIL_H

#include <stdint.h>

/*
 * More than LIMIT failures of one address within WINDOW_MS and that address
 * is banned for BAN_MS: the acceptor closes its new connections right after
 * accept.  Memory is bounded: at most AUTHFAIL_MAX_ADDRS addresses are
 * tracked; when full, the entry with the oldest activity that is not banned
 * is reused.  Thread-safe (one mutex).
 */
#define AUTHFAIL_MAX_ADDRS 4096

struct authfail;

struct authfail *authfail_new(int limit, int64_t window_ms, int64_t ban_ms);
void authfail_free(struct authfail *af);

/* Change the limit (SIGHUP reload). */
void authfail_set_limit(struct authfail *af, int limit);

/* Count one failure of ADDR (an IP literal) at NOW_MS; returns 1 when this starts a ban. */
int authfail_record(struct authfail *af, const char *addr, int64_t now_ms);

/* Non-zero when ADDR is banned at NOW_MS. */
int authfail_banned(struct authfail *af, const char *addr, int64_t now_ms);

/* Number of addresses banned at NOW_MS. */
int authfail_banned_count(struct authfail *af, int64_t now_ms);

#endif /* TROSYN_AUTHFAIL_H */
