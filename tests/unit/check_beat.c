/* Unit tests of the node's HEARTBEAT: encoding within 512 bytes, the heartbeat key, seq, and the sending thread. */
#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "beat.h"
#include "err.h"
#include "kdf.h"
#include "log.h"
#include "msg.h"
#include "testutil.h"
#include "thr.h"

#define SID	"0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"

static uint8_t root[TR_KEY_LEN];	/* auth_psk.session_root of the vectors */
static uint8_t hbkey[TR_KEY_LEN];	/* heartbeat_key.key of the vectors */

/* Load the vectors' session root and heartbeat key. */
static void
setup(void)
{
	log_init("check_beat", -1, 0);
	tu_unhex(tu_vec_str("auth_psk.session_root"), root, sizeof(root));
	tu_unhex(tu_vec_str("heartbeat_key.key"), hbkey, sizeof(hbkey));
}

/* Parse and verify a heartbeat with the vectors' heartbeat key; returns the envelope. */
static json_object *
parse_beat(const char *buf, size_t len)
{
	json_object *env = NULL;

	ck_assert_uint_le(len, TR_UDP_MAX);
	ck_assert_int_eq(msg_parse(buf, len, &env), 0);
	ck_assert_str_eq(msg_type(env), TR_MSG_HEARTBEAT);
	ck_assert_int_eq(msg_verify(env, hbkey, sizeof(hbkey)), 0);
	return env;
}

/* Integer member KEY of the payload of ENV. */
static int64_t
pint(json_object *env, const char *key)
{
	int64_t v = -1;

	ck_assert_int_eq(msg_get_int(msg_payload(env), key, &v), 0);
	return v;
}

/* String member KEY of the payload of ENV. */
static const char *
pstr(json_object *env, const char *key)
{
	const char *s = NULL;

	ck_assert_int_eq(msg_get_str(msg_payload(env), key, &s), 0);
	return s;
}

START_TEST(test_key_and_fields)
{
	struct beat_session s;
	struct beat_figures f;
	json_object *env, *src;
	uint8_t other[TR_KEY_LEN];
	char buf[TR_UDP_MAX];
	size_t len = 0;

	ck_assert_int_eq(beat_session_init(&s, "node-1", SID, root), 0);
	ck_assert_int_eq(memcmp(s.key, hbkey, sizeof(hbkey)), 0);
	memset(&f, 0, sizeof(f));
	f.state = BEAT_SYNCING;
	f.cursor = 42;
	f.pending = 3;
	snprintf(f.last_error, sizeof(f.last_error), "HUB_UNREACHABLE");
	f.disk_free = 123456789;
	ck_assert_int_eq(beat_encode(&s, &f, buf, &len), 0);
	env = parse_beat(buf, len);
	ck_assert_str_eq(msg_source_id(env), "node-1");
	ck_assert(json_object_object_get_ex(env, "source", &src));
	ck_assert(!json_object_object_get_ex(src, "node_name", NULL));
	ck_assert_ptr_null(msg_in_reply_to(env));
	ck_assert_str_eq(pstr(env, "role"), "node");
	ck_assert_str_eq(pstr(env, "session_id"), SID);
	ck_assert_int_eq(pint(env, "seq"), 1);
	ck_assert_str_eq(pstr(env, "state"), "syncing");
	ck_assert_int_eq(pint(env, "cursor"), 42);
	ck_assert_int_eq(pint(env, "pending"), 3);
	ck_assert_str_eq(pstr(env, "last_error"), "HUB_UNREACHABLE");
	ck_assert_int_eq(pint(env, "disk_free"), 123456789);
	/* Not the site key or anything else. */
	ck_assert_int_eq(kdf_random(other, sizeof(other)), 0);
	ck_assert_int_eq(msg_verify(env, other, sizeof(other)), TR_ESIG);
	json_object_put(env);

	/* Unknown figures and an error that may not go out are null. */
	f.state = BEAT_IDLE;
	snprintf(f.last_error, sizeof(f.last_error), "has a space");
	f.disk_free = -1;
	ck_assert_int_eq(beat_encode(&s, &f, buf, &len), 0);
	env = parse_beat(buf, len);
	ck_assert_str_eq(pstr(env, "state"), "idle");
	ck_assert(msg_is_null(msg_payload(env), "last_error"));
	ck_assert(msg_is_null(msg_payload(env), "disk_free"));
	json_object_put(env);
	f.state = BEAT_ERROR;
	f.last_error[0] = '\0';
	ck_assert_int_eq(beat_encode(&s, &f, buf, &len), 0);
	env = parse_beat(buf, len);
	ck_assert_str_eq(pstr(env, "state"), "error");
	ck_assert(msg_is_null(msg_payload(env), "last_error"));
	json_object_put(env);
	f.cursor = -1;
	ck_assert_int_eq(beat_encode(&s, &f, buf, &len), TR_EINVAL);
	ck_assert_int_eq(beat_session_init(&s, "node 1", SID, root), TR_EINVAL);
	ck_assert_int_eq(beat_session_init(&s, "node-1", "x", root), TR_EINVAL);
}
END_TEST

START_TEST(test_max_size)
{
	struct beat_session s;
	struct beat_figures f;
	json_object *env;
	char buf[TR_UDP_MAX], node[TR_ID_MAX + 1];
	size_t len = 0;

	/* The longest node id and every number at its largest. */
	memset(node, 'n', TR_ID_MAX);
	node[TR_ID_MAX] = '\0';
	ck_assert_int_eq(beat_session_init(&s, node, SID, root), 0);
	s.seq = TR_JSON_INT_MAX - 1;
	memset(&f, 0, sizeof(f));
	f.state = BEAT_SYNCING;
	f.cursor = TR_JSON_INT_MAX;
	f.pending = TR_JSON_INT_MAX;
	f.disk_free = TR_JSON_INT_MAX;
	memset(f.last_error, 'E', BEAT_ERR_MAX);
	f.last_error[BEAT_ERR_MAX] = '\0';
	ck_assert_int_eq(beat_encode(&s, &f, buf, &len), 0);
	ck_assert_uint_le(len, TR_UDP_MAX);
	env = parse_beat(buf, len);
	ck_assert_str_eq(msg_source_id(env), node);
	ck_assert_int_eq(pint(env, "seq"), TR_JSON_INT_MAX);
	ck_assert_int_eq(pint(env, "cursor"), TR_JSON_INT_MAX);
	ck_assert_int_eq(pint(env, "pending"), TR_JSON_INT_MAX);
	/* last_error went first; disk_free stayed. */
	ck_assert(!json_object_object_get_ex(msg_payload(env), "last_error",
	    NULL));
	ck_assert_int_eq(pint(env, "disk_free"), TR_JSON_INT_MAX);
	json_object_put(env);
	/* seq cannot pass 2^53 - 1. */
	ck_assert_int_eq(beat_encode(&s, &f, buf, &len), TR_EINVAL);

	/* Everyday figures keep every member. */
	ck_assert_int_eq(beat_session_init(&s, node, SID, root), 0);
	f.cursor = 123456;
	f.pending = 12;
	f.disk_free = 50000000000LL;
	snprintf(f.last_error, sizeof(f.last_error), "HUB_UNREACHABLE");
	ck_assert_int_eq(beat_encode(&s, &f, buf, &len), 0);
	env = parse_beat(buf, len);
	ck_assert_str_eq(pstr(env, "last_error"), "HUB_UNREACHABLE");
	ck_assert_int_eq(pint(env, "disk_free"), 50000000000LL);
	json_object_put(env);
}
END_TEST

START_TEST(test_seq_increases)
{
	struct beat_session s;
	struct beat_figures f;
	json_object *env;
	char buf[TR_UDP_MAX];
	size_t len = 0;
	int64_t last = 0, v;

	memset(&f, 0, sizeof(f));
	f.disk_free = -1;
	ck_assert_int_eq(beat_session_init(&s, "node-1", SID, root), 0);
	for (int i = 0; i < 5; i++) {
		ck_assert_int_eq(beat_encode(&s, &f, buf, &len), 0);
		env = parse_beat(buf, len);
		v = pint(env, "seq");
		ck_assert_int_gt(v, last);
		ck_assert_int_eq(v, i + 1);
		last = v;
		json_object_put(env);
	}
	/* A failed encoding does not use up a seq. */
	f.pending = -5;
	ck_assert_int_eq(beat_encode(&s, &f, buf, &len), TR_EINVAL);
	f.pending = 0;
	ck_assert_int_eq(beat_encode(&s, &f, buf, &len), 0);
	env = parse_beat(buf, len);
	ck_assert_int_eq(pint(env, "seq"), 6);
	json_object_put(env);
	/* A new session starts at 1 again. */
	ck_assert_int_eq(beat_session_init(&s, "node-1", SID, root), 0);
	ck_assert_int_eq(beat_encode(&s, &f, buf, &len), 0);
	env = parse_beat(buf, len);
	ck_assert_int_eq(pint(env, "seq"), 1);
	json_object_put(env);
}
END_TEST

/* Receive one datagram on FD within MS milliseconds into BUF; its length, or -1. */
static ssize_t
recv_within(int fd, char *buf, size_t cap, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	if (poll(&pfd, 1, ms) <= 0)
		return -1;
	return recv(fd, buf, cap, 0);
}

START_TEST(test_thread)
{
	struct sockaddr_in sin;
	socklen_t slen = sizeof(sin);
	struct beat_session s;
	struct beat_figures f;
	struct beat *b;
	json_object *env;
	char buf[1024], *dir = tu_tmpdir();
	long long t0;
	uint64_t sent, seq;
	ssize_t n;
	int fd;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &slen), 0);

	ck_assert_ptr_nonnull(b = beat_start(dir));
	memset(&f, 0, sizeof(f));
	f.cursor = 7;
	f.pending = 2;
	beat_set_figures(b, &f);
	/* Nothing goes out without a session. */
	beat_set_target(b, (struct sockaddr *)&sin, sizeof(sin));
	ck_assert_int_lt(recv_within(fd, buf, sizeof(buf), 300), 0);
	ck_assert_int_eq(beat_session_init(&s, "node-1", SID, root), 0);
	beat_set_session(b, &s, 1);
	/* The first at once, the next one interval later. */
	t0 = thr_mono_ms();
	ck_assert_int_gt(n = recv_within(fd, buf, sizeof(buf), 500), 0);
	env = parse_beat(buf, (size_t)n);
	ck_assert_int_eq(pint(env, "seq"), 1);
	ck_assert_int_eq(pint(env, "cursor"), 7);
	ck_assert_int_eq(pint(env, "pending"), 2);
	ck_assert_int_gt(pint(env, "disk_free"), 0);
	json_object_put(env);
	f.state = BEAT_ERROR;
	snprintf(f.last_error, sizeof(f.last_error), "HUB_UNREACHABLE");
	beat_set_figures(b, &f);
	ck_assert_int_gt(n = recv_within(fd, buf, sizeof(buf), 2000), 0);
	ck_assert_int_ge(thr_mono_ms() - t0, 800);
	env = parse_beat(buf, (size_t)n);
	ck_assert_int_eq(pint(env, "seq"), 2);
	ck_assert_str_eq(pstr(env, "state"), "error");
	ck_assert_str_eq(pstr(env, "last_error"), "HUB_UNREACHABLE");
	json_object_put(env);
	beat_stats(b, &sent, &seq);
	ck_assert_uint_eq(sent, 2);
	ck_assert_uint_eq(seq, 2);
	/* No session, no heartbeat. */
	beat_set_session(b, NULL, 1);
	ck_assert_int_lt(recv_within(fd, buf, sizeof(buf), 1300), 0);
	/* The stop is prompt. */
	t0 = thr_mono_ms();
	beat_stop(b);
	ck_assert_int_lt(thr_mono_ms() - t0, 1500);
	close(fd);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

/* The suite. */
static Suite *
beat_suite(void)
{
	Suite *s = suite_create("beat");
	TCase *tc = tcase_create("beat");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_key_and_fields);
	tcase_add_test(tc, test_max_size);
	tcase_add_test(tc, test_seq_increases);
	tcase_add_test(tc, test_thread);
	suite_add_tcase(s, tc);
	return s;
}

/* Run the suite. */
int
main(void)
{
	return tu_run(beat_suite());
}
