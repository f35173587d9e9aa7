/* Unit tests of the service loop's schedule: backoff, rediscovery after 3 heartbeat intervals, a new login before expiry. */
#include "config.h"

#include <stdint.h>

#include "log.h"
#include "runloop.h"
#include "testutil.h"

START_TEST(test_backoff)
{
	/* 1 s doubling to 60 s, each +-20%. */
	static const int64_t base[] = { 1000, 1000, 2000, 4000, 8000, 16000,
	    32000, 60000, 60000, 60000 };

	for (int f = 0; f < 10; f++)
		for (int i = 0; i < 200; i++) {
			int64_t d = runloop_backoff_ms(f);

			ck_assert_int_ge(d, base[f] * 80 / 100);
			ck_assert_int_le(d, base[f] * 120 / 100);
		}
	ck_assert_int_le(runloop_backoff_ms(1000), 72000);
}
END_TEST

START_TEST(test_schedule)
{
	struct runloop rl;
	long long t = 100000;

	runloop_init(&rl, 30, t);
	ck_assert_int_eq(rl.next_sync_ms, t);
	runloop_done(&rl, 1, t);
	ck_assert_int_eq(rl.next_sync_ms, t + 30000);
	ck_assert_int_eq(rl.failures, 0);
	/* Failures back off and remember when they began. */
	runloop_done(&rl, 0, t + 30000);
	ck_assert_int_eq(rl.failures, 1);
	ck_assert_int_eq(rl.fail_since_ms, t + 30000);
	ck_assert_int_le(rl.next_sync_ms, t + 30000 + 1200);
	runloop_done(&rl, 0, t + 31000);
	ck_assert_int_eq(rl.fail_since_ms, t + 30000);
	ck_assert_int_ge(rl.next_sync_ms, t + 31000 + 1600);
	ck_assert_int_le(rl.next_sync_ms, t + 31000 + 2400);
	/* A success ends the run of failures. */
	runloop_done(&rl, 1, t + 40000);
	ck_assert_int_eq(rl.failures, 0);
	ck_assert_int_eq(rl.fail_since_ms, 0);
	ck_assert_int_eq(rl.next_sync_ms, t + 70000);
	runloop_init(&rl, 0, t);
	runloop_done(&rl, 1, t);
	ck_assert_int_eq(rl.next_sync_ms, t + 60000);
}
END_TEST

START_TEST(test_rediscover)
{
	struct runloop rl;
	long long t = 5000;

	runloop_init(&rl, 60, t);
	rl.heartbeat_s = 2;
	ck_assert_int_eq(runloop_rediscover_due(&rl, t + 100000), 0);
	runloop_done(&rl, 0, t);
	ck_assert_int_eq(runloop_rediscover_due(&rl, t + 5999), 0);
	/* 3 heartbeat intervals unreachable; then the count starts over. */
	ck_assert_int_eq(runloop_rediscover_due(&rl, t + 6000), 1);
	ck_assert_int_eq(runloop_rediscover_due(&rl, t + 6001), 0);
	ck_assert_int_eq(runloop_rediscover_due(&rl, t + 12000), 1);
	runloop_done(&rl, 1, t + 13000);
	ck_assert_int_eq(runloop_rediscover_due(&rl, t + 100000), 0);
}
END_TEST

START_TEST(test_relogin)
{
	/* A fifth of the life, at most 60 s, at least 1 s, before expiry. */
	ck_assert_int_eq(runloop_relogin_at(0, 3600000), 3540000);
	ck_assert_int_eq(runloop_relogin_at(1000, 11000), 9000);
	ck_assert_int_eq(runloop_relogin_at(0, 6000), 4800);
	ck_assert_int_eq(runloop_relogin_at(0, 2000), 1000);
}
END_TEST

/* The suite. */
static Suite *
runloop_suite(void)
{
	Suite *s = suite_create("runloop");
	TCase *tc = tcase_create("runloop");

	tcase_add_test(tc, test_backoff);
	tcase_add_test(tc, test_schedule);
	tcase_add_test(tc, test_rediscover);
	tcase_add_test(tc, test_relogin);
	suite_add_tcase(s, tc);
	return s;
}

/* Run the suite. */
int
main(void)
{
	log_init("check_runloop", -1, 0);
	return tu_run(runloop_suite());
}
