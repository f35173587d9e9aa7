/* Unit tests of the node registry: sessions, tokens, connections, revocation, expiry, live figures, heartbeats, liveness. */
#include "config.h"

#include <sys/socket.h>
#include <sys/time.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "kdf.h"
#include "log.h"
#include "msg.h"
#include "registry.h"
#include "testutil.h"

#define NOW	1700000000000LL
#define LIFE	3600

static const char roles2[][CONF_ROLE_MAX + 1] = { "sales", "admin" };
static const uint8_t root_a[TR_KEY_LEN] = { 0xaa, 1, 2, 3, [31] = 0x55 };

/* Quiet logging for every test. */
static void
setup(void)
{
	log_init("check_registry", LOG_LEVEL_ERROR, 0);
}

/* A new session of NODE at NOW_MS with LIFE seconds; fails the test on error. */
static void
new_session(struct registry *reg, const char *node, int64_t now_ms,
    struct reg_session *out)
{
	ck_assert_int_eq(registry_session_new(reg, node, roles2, 2, root_a,
	    now_ms, LIFE, "10.0.0.1:4000", out), 0);
}

/* A connected pair of stream sockets whose reads time out after SECS seconds. */
static void
sockpair(int sv[2], int secs)
{
	struct timeval tv = { .tv_sec = secs };

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(setsockopt(sv[i], SOL_SOCKET, SO_RCVTIMEO,
		    &tv, sizeof(tv)), 0);
}

/* Non-zero when a non-blocking read of FD would block (nothing shut down). */
static int
would_block(int fd)
{
	char c;

	return recv(fd, &c, 1, MSG_DONTWAIT) < 0 &&
	    (errno == EAGAIN || errno == EWOULDBLOCK);
}

START_TEST(test_session_new)
{
	struct registry *reg = registry_new();
	struct reg_session a, b;

	ck_assert_ptr_nonnull(reg);
	new_session(reg, "laptop-1", NOW, &a);
	ck_assert(msg_valid_uuid(a.session_id));
	ck_assert_str_eq(a.node_id, "laptop-1");
	ck_assert_int_eq(a.nroles, 2);
	ck_assert_str_eq(a.roles[0], "sales");
	ck_assert_str_eq(a.roles[1], "admin");
	ck_assert_mem_eq(a.session_root, root_a, TR_KEY_LEN);
	ck_assert_int_eq(a.created_ms, NOW);
	ck_assert_int_eq(a.expires_ms, NOW + LIFE * 1000LL);
	ck_assert_int_eq(a.connections, 0);
	ck_assert_uint_eq(a.hb_seq, 0);
	ck_assert_str_eq(a.address, "10.0.0.1:4000");

	new_session(reg, "laptop-1", NOW, &b);
	ck_assert(msg_valid_uuid(b.session_id));
	ck_assert_str_ne(a.session_id, b.session_id);
	ck_assert(memcmp(a.token, b.token, TR_TOKEN_LEN) != 0);
	ck_assert_uint_eq(registry_session_count(reg, NOW), 2);
	registry_free(reg);
}
END_TEST

START_TEST(test_session_new_edges)
{
	struct registry *reg = registry_new();
	char many[CONF_MAX_ROLES + 3][CONF_ROLE_MAX + 1];
	struct reg_session s, g;
	static const uint8_t zero[TR_TOKEN_LEN];

	for (int i = 0; i < CONF_MAX_ROLES + 3; i++)
		snprintf(many[i], sizeof(many[i]), "r%d", i);
	/* More roles than fit are cut to CONF_MAX_ROLES; a NULL address is "". */
	ck_assert_int_eq(registry_session_new(reg, "n", (const char (*)[
	    CONF_ROLE_MAX + 1])many, CONF_MAX_ROLES + 3, root_a, NOW, 1, NULL,
	    &s), 0);
	ck_assert_int_eq(s.nroles, CONF_MAX_ROLES);
	ck_assert_str_eq(s.roles[CONF_MAX_ROLES - 1], "r15");
	ck_assert_str_eq(s.address, "");
	ck_assert_int_eq(s.expires_ms, NOW + 1000);
	ck_assert(memcmp(s.token, zero, TR_TOKEN_LEN) != 0);

	/* No roles at all. */
	ck_assert_int_eq(registry_session_new(reg, "m", roles2, 0, root_a, NOW,
	    LIFE, "x", &s), 0);
	ck_assert_int_eq(s.nroles, 0);
	ck_assert_int_eq(registry_session_get(reg, s.session_id, NOW, &g), 0);
	ck_assert_int_eq(g.nroles, 0);
	registry_free(reg);
}
END_TEST

START_TEST(test_session_by_token)
{
	struct registry *reg = registry_new();
	struct reg_session a, b, got;
	uint8_t unknown[TR_TOKEN_LEN];

	new_session(reg, "n1", NOW, &a);
	new_session(reg, "n2", NOW, &b);
	memset(&got, 0, sizeof(got));
	ck_assert_int_eq(registry_session_by_token(reg, a.token, NOW, &got), 0);
	ck_assert_str_eq(got.session_id, a.session_id);
	ck_assert_str_eq(got.node_id, "n1");
	ck_assert_mem_eq(got.token, a.token, TR_TOKEN_LEN);
	ck_assert_int_eq(registry_session_by_token(reg, b.token, NOW, &got), 0);
	ck_assert_str_eq(got.node_id, "n2");

	/* An unknown token, and one that differs in its last byte only. */
	memset(unknown, 0x5a, sizeof(unknown));
	ck_assert_int_eq(registry_session_by_token(reg, unknown, NOW, &got),
	    TR_ETOKEN);
	memcpy(unknown, a.token, TR_TOKEN_LEN);
	unknown[TR_TOKEN_LEN - 1] ^= 1;
	ck_assert_int_eq(registry_session_by_token(reg, unknown, NOW, &got),
	    TR_ETOKEN);

	/* Valid up to the last millisecond, gone at and after expiry. */
	ck_assert_int_eq(registry_session_by_token(reg, a.token,
	    a.expires_ms - 1, &got), 0);
	memset(&got, 0x77, sizeof(got));
	ck_assert_int_eq(registry_session_by_token(reg, a.token, a.expires_ms,
	    &got), TR_ETOKEN);
	ck_assert_int_eq(registry_session_by_token(reg, a.token,
	    a.expires_ms + 100000, &got), TR_ETOKEN);
	registry_free(reg);
}
END_TEST

START_TEST(test_session_get)
{
	struct registry *reg = registry_new();
	struct reg_session a, got;

	new_session(reg, "n1", NOW, &a);
	ck_assert_int_eq(registry_session_get(reg, a.session_id, NOW, &got), 0);
	ck_assert_mem_eq(got.token, a.token, TR_TOKEN_LEN);
	ck_assert_int_eq(got.expires_ms, a.expires_ms);
	ck_assert_int_eq(registry_session_get(reg,
	    "00000000-0000-4000-8000-000000000000", NOW, &got), TR_ETOKEN);
	ck_assert_int_eq(registry_session_get(reg, a.session_id,
	    a.expires_ms - 1, &got), 0);
	ck_assert_int_eq(registry_session_get(reg, a.session_id, a.expires_ms,
	    &got), TR_ETOKEN);
	ck_assert_int_eq(registry_session_get(reg, a.session_id,
	    a.expires_ms + 1, &got), TR_ETOKEN);
	registry_free(reg);
}
END_TEST

START_TEST(test_conn_add_remove)
{
	struct registry *reg = registry_new();
	struct reg_session a, got;
	uint64_t h1 = 0, h2 = 0, h3 = 0;
	struct reg_session *list;
	size_t n;

	new_session(reg, "n1", NOW, &a);
	ck_assert_int_eq(registry_conn_add(reg,
	    "00000000-0000-4000-8000-000000000000", 5, &h1), TR_ETOKEN);

	ck_assert_int_eq(registry_conn_add(reg, a.session_id, 5, &h1), 0);
	ck_assert_int_eq(registry_conn_add(reg, a.session_id, 6, &h2), 0);
	ck_assert_uint_ne(h1, h2);
	ck_assert_int_eq(registry_session_get(reg, a.session_id, NOW, &got), 0);
	ck_assert_int_eq(got.connections, 2);
	ck_assert_int_eq(registry_session_by_token(reg, a.token, NOW, &got), 0);
	ck_assert_int_eq(got.connections, 2);
	ck_assert_int_eq(registry_sessions(reg, NOW, &list, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(list[0].connections, 2);
	registry_sessions_free(list, n);

	/* The copy handed out earlier does not change. */
	ck_assert_int_eq(a.connections, 0);

	registry_conn_remove(reg, h1);
	ck_assert_int_eq(registry_session_get(reg, a.session_id, NOW, &got), 0);
	ck_assert_int_eq(got.connections, 1);
	/* Removing the same handle twice, or an unknown one, changes nothing. */
	registry_conn_remove(reg, h1);
	registry_conn_remove(reg, 999999);
	ck_assert_int_eq(registry_session_get(reg, a.session_id, NOW, &got), 0);
	ck_assert_int_eq(got.connections, 1);
	registry_conn_remove(reg, h2);
	ck_assert_int_eq(registry_session_get(reg, a.session_id, NOW, &got), 0);
	ck_assert_int_eq(got.connections, 0);

	/* Handles are never reused. */
	ck_assert_int_eq(registry_conn_add(reg, a.session_id, 7, &h3), 0);
	ck_assert_uint_ne(h3, h1);
	ck_assert_uint_ne(h3, h2);
	registry_conn_remove(reg, h3);
	registry_free(reg);
}
END_TEST

START_TEST(test_revoke)
{
	struct registry *reg = registry_new();
	struct reg_session a1, a2, b, got;
	int sa[2], sb[2];
	uint64_t ha, hb;
	char c;

	new_session(reg, "victim", NOW, &a1);
	new_session(reg, "victim", NOW, &a2);
	new_session(reg, "bystander", NOW, &b);
	sockpair(sa, 2);
	sockpair(sb, 2);
	ck_assert_int_eq(registry_conn_add(reg, a1.session_id, sa[0], &ha), 0);
	ck_assert_int_eq(registry_conn_add(reg, b.session_id, sb[0], &hb), 0);
	ck_assert(would_block(sa[0]));

	ck_assert_int_eq(registry_revoke(reg, "victim"), 2);
	ck_assert_int_eq(registry_session_by_token(reg, a1.token, NOW, &got),
	    TR_ETOKEN);
	ck_assert_int_eq(registry_session_by_token(reg, a2.token, NOW, &got),
	    TR_ETOKEN);
	ck_assert_int_eq(registry_session_get(reg, a1.session_id, NOW, &got),
	    TR_ETOKEN);
	ck_assert_int_eq(registry_session_by_token(reg, b.token, NOW, &got), 0);
	ck_assert_int_eq(got.connections, 1);
	ck_assert_uint_eq(registry_session_count(reg, NOW), 1);

	/* The registered socket is shut down: our end reads EOF at once... */
	ck_assert_int_eq(recv(sa[0], &c, 1, 0), 0);
	/* ... and so does the peer. */
	ck_assert_int_eq(recv(sa[1], &c, 1, 0), 0);
	/* The other node's connection is untouched. */
	ck_assert(would_block(sb[0]));
	ck_assert(would_block(sb[1]));
	ck_assert_int_eq(write(sb[1], "x", 1), 1);
	ck_assert_int_eq(recv(sb[0], &c, 1, 0), 1);

	/* No session left to add a connection to. */
	ck_assert_int_eq(registry_conn_add(reg, a2.session_id, sa[0], &ha),
	    TR_ETOKEN);
	/* The worker still removes its handle after revocation (no use after free). */
	registry_conn_remove(reg, ha);
	ck_assert_int_eq(registry_revoke(reg, "victim"), 0);
	ck_assert_int_eq(registry_revoke(reg, "nobody"), 0);
	ck_assert_int_eq(registry_revoke(reg, "bystander"), 1);
	ck_assert_int_eq(recv(sb[1], &c, 1, 0), 0);
	registry_conn_remove(reg, hb);
	ck_assert_uint_eq(registry_session_count(reg, NOW), 0);
	for (int i = 0; i < 2; i++) {
		close(sa[i]);
		close(sb[i]);
	}
	registry_free(reg);
}
END_TEST

/* A worker blocked in recv on its connection. */
struct blocked_reader {
	int fd;
	ssize_t got;
	int err;
};

/* Read one byte from the reader's socket, recording the result. */
static void *
blocked_read(void *arg)
{
	struct blocked_reader *br = arg;
	char c;

	br->got = recv(br->fd, &c, 1, 0);
	br->err = br->got < 0 ? errno : 0;
	return NULL;
}

START_TEST(test_revoke_wakes_blocked_reader)
{
	struct registry *reg = registry_new();
	struct blocked_reader br;
	struct reg_session a;
	pthread_t t;
	uint64_t h;
	int sv[2];

	new_session(reg, "n1", NOW, &a);
	sockpair(sv, 2);
	ck_assert_int_eq(registry_conn_add(reg, a.session_id, sv[0], &h), 0);
	br.fd = sv[0];
	br.got = -2;
	ck_assert_int_eq(pthread_create(&t, NULL, blocked_read, &br), 0);
	usleep(50000);
	ck_assert_int_eq(registry_revoke(reg, "n1"), 1);
	pthread_join(t, NULL);
	/* EOF, not the 2 s receive timeout. */
	ck_assert_msg(br.got == 0, "recv returned %zd (%s)", br.got,
	    strerror(br.err));
	registry_conn_remove(reg, h);
	close(sv[0]);
	close(sv[1]);
	registry_free(reg);
}
END_TEST

START_TEST(test_expire)
{
	struct registry *reg = registry_new();
	struct reg_session quiet, busy, fresh, got;
	int64_t later;
	uint64_t h;

	new_session(reg, "n1", NOW, &quiet);
	new_session(reg, "n1", NOW, &busy);
	new_session(reg, "n1", NOW + 10 * 1000, &fresh);
	ck_assert_int_eq(registry_conn_add(reg, busy.session_id, -1, &h), 0);
	later = NOW + LIFE * 1000LL;	/* the first two expire now */
	ck_assert_uint_eq(registry_session_count(reg, later), 1);

	/* Before the sweep, an earlier clock still sees all three. */
	ck_assert_uint_eq(registry_session_count(reg, NOW), 3);
	registry_expire(reg, later);
	ck_assert_uint_eq(registry_session_count(reg, NOW), 2);
	ck_assert_int_eq(registry_session_get(reg, quiet.session_id, NOW, &got),
	    TR_ETOKEN);
	/* Expired but still connected: kept (not usable at LATER). */
	ck_assert_int_eq(registry_session_get(reg, busy.session_id, NOW, &got),
	    0);
	ck_assert_int_eq(got.connections, 1);
	ck_assert_int_eq(registry_session_get(reg, busy.session_id, later,
	    &got), TR_ETOKEN);
	ck_assert_int_eq(registry_session_get(reg, fresh.session_id, later,
	    &got), 0);

	/* Once its last connection goes, the next sweep drops it. */
	registry_conn_remove(reg, h);
	registry_expire(reg, later);
	ck_assert_int_eq(registry_session_get(reg, busy.session_id, NOW, &got),
	    TR_ETOKEN);
	ck_assert_int_eq(registry_session_get(reg, fresh.session_id, later,
	    &got), 0);
	ck_assert_uint_eq(registry_session_count(reg, NOW), 1);

	/* A sweep in the past drops nothing. */
	registry_expire(reg, NOW);
	ck_assert_uint_eq(registry_session_count(reg, NOW), 1);
	registry_expire(reg, fresh.expires_ms);
	ck_assert_uint_eq(registry_session_count(reg, NOW), 0);
	registry_free(reg);
}
END_TEST

START_TEST(test_live)
{
	struct registry *reg = registry_new();
	struct reg_live l, upd;
	struct reg_live *all;
	size_t n;

	ck_assert_int_eq(registry_live_get(reg, "n1", &l), TR_ENOTFOUND);
	ck_assert_int_eq(registry_lives(reg, &all, &n), 0);
	ck_assert_uint_eq(n, 0);
	free(all);

	registry_touch(reg, "n1", "10.0.0.5:999", NOW);
	ck_assert_int_eq(registry_live_get(reg, "n1", &l), 0);
	ck_assert_str_eq(l.node_id, "n1");
	ck_assert_int_eq(l.last_seen_ms, NOW);
	ck_assert_str_eq(l.address, "10.0.0.5:999");
	ck_assert_int_eq(l.cursor, -1);
	ck_assert_int_eq(l.pending, -1);
	ck_assert_int_eq(l.disk_free, -1);
	ck_assert_int_eq(l.last_sync_ms, 0);
	ck_assert_str_eq(l.last_error, "");
	ck_assert_str_eq(l.state, "");
	ck_assert_int_eq(registry_live_get(reg, "n2", &l), TR_ENOTFOUND);

	/* A touch without an address keeps the last one. */
	registry_touch(reg, "n1", NULL, NOW + 5);
	registry_touch(reg, "n1", "", NOW + 6);
	ck_assert_int_eq(registry_live_get(reg, "n1", &l), 0);
	ck_assert_int_eq(l.last_seen_ms, NOW + 6);
	ck_assert_str_eq(l.address, "10.0.0.5:999");

	/* Heartbeat figures replace the entry; a copy is handed out. */
	upd = l;
	upd.cursor = 42;
	upd.pending = 7;
	upd.disk_free = 123456789;
	upd.last_sync_ms = NOW + 3;
	snprintf(upd.state, sizeof(upd.state), "syncing");
	snprintf(upd.last_error, sizeof(upd.last_error), "DISK_FULL");
	registry_live_update(reg, &upd);
	upd.cursor = 0;
	ck_assert_int_eq(registry_live_get(reg, "n1", &l), 0);
	ck_assert_int_eq(l.cursor, 42);
	ck_assert_int_eq(l.pending, 7);
	ck_assert_int_eq(l.disk_free, 123456789);
	ck_assert_int_eq(l.last_sync_ms, NOW + 3);
	ck_assert_str_eq(l.state, "syncing");
	ck_assert_str_eq(l.last_error, "DISK_FULL");
	ck_assert_int_eq(l.last_seen_ms, NOW + 6);
	l.cursor = 1000;
	ck_assert_int_eq(registry_live_get(reg, "n1", &l), 0);
	ck_assert_int_eq(l.cursor, 42);

	/* live_update of a node never seen creates it. */
	memset(&upd, 0, sizeof(upd));
	snprintf(upd.node_id, sizeof(upd.node_id), "n3");
	upd.cursor = 9;
	registry_live_update(reg, &upd);
	ck_assert_int_eq(registry_live_get(reg, "n3", &l), 0);
	ck_assert_int_eq(l.cursor, 9);

	ck_assert_int_eq(registry_lives(reg, &all, &n), 0);
	ck_assert_uint_eq(n, 2);
	{
		int seen1 = 0, seen3 = 0;

		for (size_t i = 0; i < n; i++) {
			if (strcmp(all[i].node_id, "n1") == 0) {
				seen1++;
				ck_assert_int_eq(all[i].cursor, 42);
			} else if (strcmp(all[i].node_id, "n3") == 0) {
				seen3++;
				ck_assert_int_eq(all[i].cursor, 9);
			}
		}
		ck_assert_int_eq(seen1, 1);
		ck_assert_int_eq(seen3, 1);
	}
	/* The array is a copy. */
	all[0].cursor = -77;
	free(all);
	ck_assert_int_eq(registry_live_get(reg, "n1", &l), 0);
	ck_assert_int_eq(l.cursor, 42);
	registry_free(reg);
}
END_TEST

/* Heartbeats: session, node and seq checks, figures recorded, hb_key derived. */
START_TEST(test_heartbeat)
{
	struct registry *reg = registry_new();
	struct reg_session s, g;
	struct reg_live fig, got;
	uint8_t want[TR_KEY_LEN];

	new_session(reg, "n1", NOW, &s);
	ck_assert_int_eq(kdf_heartbeat_key(root_a, want), 0);
	ck_assert_mem_eq(s.hb_key, want, TR_KEY_LEN);
	memset(&fig, 0, sizeof(fig));
	fig.cursor = 40;
	fig.pending = 2;
	fig.disk_free = 999;
	snprintf(fig.last_error, sizeof(fig.last_error), "HUB_UNREACHABLE");
	snprintf(fig.state, sizeof(fig.state), "error");

	ck_assert_int_eq(registry_heartbeat(reg, "00000000-0000-4000-8000-"
	    "000000000000", "n1", 1, "10.0.0.9:1", NOW + 1, &fig), TR_ETOKEN);
	ck_assert_int_eq(registry_heartbeat(reg, s.session_id, "n2", 1,
	    "10.0.0.9:1", NOW + 1, &fig), TR_ETOKEN);
	ck_assert_int_eq(registry_live_get(reg, "n1", &got), TR_ENOTFOUND);
	ck_assert_int_eq(registry_heartbeat(reg, s.session_id, "n1", 5,
	    "10.0.0.9:1", NOW + 1, &fig), 0);
	ck_assert_int_eq(registry_live_get(reg, "n1", &got), 0);
	ck_assert_int_eq(got.last_seen_ms, NOW + 1);
	ck_assert_str_eq(got.address, "10.0.0.9:1");
	ck_assert_int_eq(got.cursor, 40);
	ck_assert_int_eq(got.pending, 2);
	ck_assert_int_eq(got.disk_free, 999);
	ck_assert_str_eq(got.last_error, "HUB_UNREACHABLE");
	ck_assert_str_eq(got.state, "error");
	ck_assert_int_eq(registry_session_get(reg, s.session_id, NOW, &g), 0);
	ck_assert_uint_eq(g.hb_seq, 5);

	/* Equal and lower seqs are refused and change nothing. */
	fig.cursor = 41;
	ck_assert_int_eq(registry_heartbeat(reg, s.session_id, "n1", 5,
	    "10.0.0.9:2", NOW + 2, &fig), TR_EEXIST);
	ck_assert_int_eq(registry_heartbeat(reg, s.session_id, "n1", 4,
	    "10.0.0.9:2", NOW + 2, &fig), TR_EEXIST);
	ck_assert_int_eq(registry_live_get(reg, "n1", &got), 0);
	ck_assert_int_eq(got.cursor, 40);
	ck_assert_int_eq(got.last_seen_ms, NOW + 1);
	ck_assert_int_eq(registry_heartbeat(reg, s.session_id, "n1", 6,
	    "10.0.0.9:2", NOW + 2, &fig), 0);
	ck_assert_int_eq(registry_live_get(reg, "n1", &got), 0);
	ck_assert_int_eq(got.cursor, 41);

	/* Expired and revoked sessions are refused. */
	ck_assert_int_eq(registry_heartbeat(reg, s.session_id, "n1", 7,
	    "10.0.0.9:2", NOW + (int64_t)LIFE * 1000, &fig), TR_ETOKEN);
	ck_assert_int_eq(registry_revoke(reg, "n1"), 1);
	ck_assert_int_eq(registry_heartbeat(reg, s.session_id, "n1", 8,
	    "10.0.0.9:2", NOW + 3, &fig), TR_ETOKEN);
	registry_free(reg);
}
END_TEST

/* Liveness: never / online / offline, and sweep transitions reported once. */
START_TEST(test_sweep)
{
	struct registry *reg = registry_new();
	struct reg_transition *t = NULL;
	struct reg_live got;
	size_t n = 99;

	ck_assert_str_eq(registry_live_state(NULL, NOW, 3000), "never");
	ck_assert_int_eq(registry_sweep(reg, NOW, 3000, &t, &n), 0);
	ck_assert_uint_eq(n, 0);
	free(t);
	registry_touch(reg, "n1", "10.0.0.1:1", NOW);
	registry_touch(reg, "n2", "10.0.0.2:1", NOW - 5000);
	ck_assert_int_eq(registry_live_get(reg, "n1", &got), 0);
	ck_assert_str_eq(registry_live_state(&got, NOW + 3000, 3000),
	    "online");
	ck_assert_str_eq(registry_live_state(&got, NOW + 3001, 3000),
	    "offline");

	/* n1 turns online; n2 was never online, so nothing is reported. */
	ck_assert_int_eq(registry_sweep(reg, NOW, 3000, &t, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(t[0].node_id, "n1");
	ck_assert_int_eq(t[0].online, 1);
	free(t);
	ck_assert_int_eq(registry_sweep(reg, NOW + 1000, 3000, &t, &n), 0);
	ck_assert_uint_eq(n, 0);
	free(t);
	ck_assert_int_eq(registry_sweep(reg, NOW + 3001, 3000, &t, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(t[0].node_id, "n1");
	ck_assert_int_eq(t[0].online, 0);
	ck_assert_int_eq(t[0].last_seen_ms, NOW);
	free(t);
	ck_assert_int_eq(registry_sweep(reg, NOW + 9000, 3000, &t, &n), 0);
	ck_assert_uint_eq(n, 0);
	free(t);
	registry_touch(reg, "n1", NULL, NOW + 9000);
	ck_assert_int_eq(registry_sweep(reg, NOW + 9000, 3000, &t, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(t[0].online, 1);
	free(t);
	registry_free(reg);
}
END_TEST

START_TEST(test_sessions_list)
{
	struct registry *reg = registry_new();
	struct reg_session a, b, c;
	struct reg_session *list;
	size_t n = 99;
	int seen_a = 0, seen_b = 0;

	ck_assert_int_eq(registry_sessions(reg, NOW, &list, &n), 0);
	ck_assert_ptr_nonnull(list);
	ck_assert_uint_eq(n, 0);
	registry_sessions_free(list, n);
	ck_assert_uint_eq(registry_session_count(reg, NOW), 0);

	new_session(reg, "n1", NOW, &a);
	new_session(reg, "n2", NOW + 60000, &b);
	new_session(reg, "n3", NOW - LIFE * 1000LL, &c);	/* expired at NOW */
	ck_assert_uint_eq(registry_session_count(reg, NOW), 2);
	ck_assert_uint_eq(registry_session_count(reg, NOW - 1), 3);
	ck_assert_int_eq(registry_sessions(reg, NOW, &list, &n), 0);
	ck_assert_uint_eq(n, 2);
	for (size_t i = 0; i < n; i++) {
		ck_assert_str_ne(list[i].node_id, "n3");
		if (strcmp(list[i].session_id, a.session_id) == 0) {
			seen_a++;
			ck_assert_mem_eq(list[i].token, a.token, TR_TOKEN_LEN);
		}
		if (strcmp(list[i].session_id, b.session_id) == 0) {
			seen_b++;
			ck_assert_int_eq(list[i].expires_ms, b.expires_ms);
		}
	}
	ck_assert_int_eq(seen_a, 1);
	ck_assert_int_eq(seen_b, 1);
	registry_sessions_free(list, n);
	registry_sessions_free(NULL, 0);

	/* Only b is left once a expires. */
	ck_assert_int_eq(registry_sessions(reg, a.expires_ms, &list, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(list[0].session_id, b.session_id);
	registry_sessions_free(list, n);
	ck_assert_uint_eq(registry_session_count(reg, b.expires_ms), 0);
	registry_free(reg);
	registry_free(NULL);
}
END_TEST

#define CC_THREADS	4
#define CC_ITERS	2000

/* Shared state of the concurrency test. */
struct cc_state {
	struct registry *reg;
	int done;			/* atomic: workers finished */
	long revoked;			/* sessions ended by the revoker */
	long revokes;			/* registry_revoke calls made */
};

/* One worker of the concurrency test. */
struct cc_worker {
	struct cc_state *st;
	int index;
	int fd;
	int errors;
};

/* Create, look up, connect and disconnect sessions in a loop. */
static void *
cc_work(void *arg)
{
	struct cc_worker *w = arg;
	struct reg_session s, got;
	char node[16];
	uint64_t h;
	int rc;

	snprintf(node, sizeof(node), "node-%d", w->index);
	for (int i = 0; i < CC_ITERS; i++) {
		if (registry_session_new(w->st->reg, node, roles2, 2, root_a,
		    NOW, LIFE, "127.0.0.1:1", &s) != 0) {
			w->errors++;
			continue;
		}
		rc = registry_session_by_token(w->st->reg, s.token, NOW, &got);
		if (rc == 0 && strcmp(got.session_id, s.session_id) != 0)
			w->errors++;
		else if (rc != 0 && rc != TR_ETOKEN)
			w->errors++;
		rc = registry_conn_add(w->st->reg, s.session_id, w->fd, &h);
		if (rc == 0)
			registry_conn_remove(w->st->reg, h);
		else if (rc != TR_ETOKEN)
			w->errors++;
	}
	return NULL;
}

/* Revoke every worker's node over and over until the workers finish. */
static void *
cc_revoke(void *arg)
{
	struct cc_state *st = arg;
	char node[16];

	while (!__atomic_load_n(&st->done, __ATOMIC_ACQUIRE)) {
		for (int i = 0; i < CC_THREADS; i++) {
			snprintf(node, sizeof(node), "node-%d", i);
			st->revoked += registry_revoke(st->reg, node);
			st->revokes++;
		}
		usleep(100);
	}
	return NULL;
}

START_TEST(test_concurrency)
{
	struct cc_state st = { .reg = registry_new() };
	struct cc_worker w[CC_THREADS];
	pthread_t t[CC_THREADS], rt;
	struct reg_session *list;
	size_t n, left;
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(pthread_create(&rt, NULL, cc_revoke, &st), 0);
	for (int i = 0; i < CC_THREADS; i++) {
		w[i] = (struct cc_worker){ .st = &st, .index = i, .fd = sv[0] };
		ck_assert_int_eq(pthread_create(&t[i], NULL, cc_work, &w[i]),
		    0);
	}
	for (int i = 0; i < CC_THREADS; i++)
		pthread_join(t[i], NULL);
	__atomic_store_n(&st.done, 1, __ATOMIC_RELEASE);
	pthread_join(rt, NULL);

	for (int i = 0; i < CC_THREADS; i++)
		ck_assert_int_eq(w[i].errors, 0);
	ck_assert_int_gt(st.revokes, 0);
	left = registry_session_count(st.reg, NOW);
	ck_assert_uint_eq((size_t)st.revoked + left,
	    (size_t)CC_THREADS * CC_ITERS);
	/* Every connection was removed: no session still counts one. */
	ck_assert_int_eq(registry_sessions(st.reg, NOW, &list, &n), 0);
	ck_assert_uint_eq(n, left);
	for (size_t i = 0; i < n; i++)
		ck_assert_int_eq(list[i].connections, 0);
	registry_sessions_free(list, n);
	{
		size_t ended = 0;
		char node[16];

		for (int i = 0; i < CC_THREADS; i++) {
			snprintf(node, sizeof(node), "node-%d", i);
			ended += (size_t)registry_revoke(st.reg, node);
		}
		ck_assert_uint_eq(ended, left);
	}
	ck_assert_uint_eq(registry_session_count(st.reg, NOW), 0);
	close(sv[0]);
	close(sv[1]);
	registry_free(st.reg);
}
END_TEST

/* Build the suite. */
static Suite *
registry_suite(void)
{
	Suite *s = suite_create("registry");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_session_new);
	tcase_add_test(tc, test_session_new_edges);
	tcase_add_test(tc, test_session_by_token);
	tcase_add_test(tc, test_session_get);
	tcase_add_test(tc, test_conn_add_remove);
	tcase_add_test(tc, test_revoke);
	tcase_add_test(tc, test_revoke_wakes_blocked_reader);
	tcase_add_test(tc, test_expire);
	tcase_add_test(tc, test_live);
	tcase_add_test(tc, test_heartbeat);
	tcase_add_test(tc, test_sweep);
	tcase_add_test(tc, test_sessions_list);
	tcase_add_test(tc, test_concurrency);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	return tu_run(registry_suite());
}
