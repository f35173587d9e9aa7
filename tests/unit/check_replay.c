/* Unit tests of the replay cache: replays within the TTL, expiry, bounded size under a flood. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "msg.h"
#include "replay.h"
#include "testutil.h"

#define NOW	1700000000000LL

/* A seen id is a replay until its TTL runs out. */
START_TEST(test_replay_ttl)
{
	struct replay *r = replay_new(128);
	char a[TR_UUID_LEN + 1], b[TR_UUID_LEN + 1];

	ck_assert_ptr_nonnull(r);
	msg_new_uuid(a);
	msg_new_uuid(b);
	ck_assert_int_eq(replay_check(r, a, NOW, 600000), 0);
	ck_assert_int_eq(replay_check(r, a, NOW + 1, 600000), 1);
	ck_assert_int_eq(replay_check(r, b, NOW + 1, 600000), 0);
	ck_assert_int_eq(replay_check(r, a, NOW + 599999, 600000), 1);
	ck_assert_uint_eq(replay_count(r, NOW + 2), 2);
	/* Expired: new again, and remembered anew. */
	ck_assert_int_eq(replay_check(r, a, NOW + 600000, 600000), 0);
	ck_assert_int_eq(replay_check(r, a, NOW + 600001, 600000), 1);
	replay_free(r);
}
END_TEST

/* A flood of new ids keeps the cache at its size, and the newest ids are still caught. */
START_TEST(test_replay_flood)
{
	struct replay *r = replay_new(100);	/* rounded up to 128 */
	char ids[1000][TR_UUID_LEN + 1];
	int caught = 0;

	for (int i = 0; i < 1000; i++) {
		msg_new_uuid(ids[i]);
		ck_assert_int_eq(replay_check(r, ids[i], NOW + i, 600000), 0);
	}
	ck_assert_uint_le(replay_count(r, NOW + 1000), 128);
	ck_assert_uint_ge(replay_count(r, NOW + 1000), 100);
	/* The last 16 ids are certainly still there (a set holds 16). */
	for (int i = 984; i < 1000; i++)
		caught += replay_check(r, ids[i], NOW + 1000, 600000);
	ck_assert_int_eq(caught, 16);
	replay_free(r);
}
END_TEST

/* Ids longer than a UUID are cut, not overflowed; the empty id works. */
START_TEST(test_replay_odd_ids)
{
	struct replay *r = replay_new(64);
	char longid[200];

	for (size_t i = 0; i < sizeof(longid) - 1; i++)
		longid[i] = 'a' + (char)(i % 26);
	longid[sizeof(longid) - 1] = '\0';
	ck_assert_int_eq(replay_check(r, longid, NOW, 1000), 0);
	ck_assert_int_eq(replay_check(r, longid, NOW, 1000), 1);
	ck_assert_int_eq(replay_check(r, "", NOW, 1000), 0);
	ck_assert_int_eq(replay_check(r, "", NOW, 1000), 1);
	replay_free(r);
}
END_TEST

/* The suite. */
static Suite *
replay_suite(void)
{
	Suite *s = suite_create("replay");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_replay_ttl);
	tcase_add_test(tc, test_replay_flood);
	tcase_add_test(tc, test_replay_odd_ids);
	suite_add_tcase(s, tc);
	return s;
}

/* Run the suite. */
int
main(void)
{
	return tu_run(replay_suite());
}
