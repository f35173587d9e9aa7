/* Unit tests of failed-login counting: threshold, window, ban length, independence, bounded table. */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "authfail.h"
#include "log.h"
#include "testutil.h"

#define LIMIT	3
#define WINDOW	60000
#define BAN	60000

/* Quiet logging for every test. */
static void
setup(void)
{
	log_init("check_authfail", LOG_LEVEL_ERROR, 0);
}

/* Write a distinct IPv4 literal for I into BUF. */
static void
addr_of(int i, char *buf, size_t len)
{
	snprintf(buf, len, "10.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255,
	    i & 255);
}

START_TEST(test_limit_and_ban)
{
	struct authfail *af = authfail_new(LIMIT, WINDOW, BAN);
	const char *ip = "192.0.2.1";

	ck_assert_ptr_nonnull(af);
	ck_assert(!authfail_banned(af, ip, 0));
	/* LIMIT failures are allowed... */
	ck_assert_int_eq(authfail_record(af, ip, 1000), 0);
	ck_assert_int_eq(authfail_record(af, ip, 2000), 0);
	ck_assert_int_eq(authfail_record(af, ip, 3000), 0);
	ck_assert(!authfail_banned(af, ip, 3000));
	ck_assert_int_eq(authfail_banned_count(af, 3000), 0);
	/* ... one more starts the ban, reported once. */
	ck_assert_int_eq(authfail_record(af, ip, 4000), 1);
	ck_assert(authfail_banned(af, ip, 4000));
	ck_assert_int_eq(authfail_banned_count(af, 4000), 1);
	ck_assert_int_eq(authfail_record(af, ip, 4500), 0);
	ck_assert(authfail_banned(af, ip, 4000 + BAN - 1));
	ck_assert_int_eq(authfail_banned_count(af, 4000 + BAN - 1), 1);
	/* The ban ends BAN_MS after it started. */
	ck_assert(!authfail_banned(af, ip, 4000 + BAN));
	ck_assert_int_eq(authfail_banned_count(af, 4000 + BAN), 0);
	ck_assert(!authfail_banned(af, ip, 4000 + BAN + 1000000));
	authfail_free(af);
	authfail_free(NULL);
}
END_TEST

START_TEST(test_ban_resets_count)
{
	struct authfail *af = authfail_new(LIMIT, 600000, BAN);
	const char *ip = "192.0.2.2";
	int64_t t = 100000, end;

	for (int i = 0; i < LIMIT; i++)
		ck_assert_int_eq(authfail_record(af, ip, t + i), 0);
	ck_assert_int_eq(authfail_record(af, ip, t + 10), 1);
	end = t + 10 + BAN;
	/* After the ban, the old failures no longer count (window 10 min). */
	ck_assert(!authfail_banned(af, ip, end));
	ck_assert_int_eq(authfail_record(af, ip, end), 0);
	ck_assert(!authfail_banned(af, ip, end));
	ck_assert_int_eq(authfail_record(af, ip, end + 1), 0);
	ck_assert_int_eq(authfail_record(af, ip, end + 2), 0);
	ck_assert_int_eq(authfail_record(af, ip, end + 3), 1);
	ck_assert(authfail_banned(af, ip, end + 3));
	authfail_free(af);
}
END_TEST

START_TEST(test_window)
{
	struct authfail *af = authfail_new(LIMIT, WINDOW, BAN);
	const char *ip = "192.0.2.3", *ip2 = "192.0.2.4";

	/* Three failures, then a fourth after the first left the window. */
	ck_assert_int_eq(authfail_record(af, ip, 0), 0);
	ck_assert_int_eq(authfail_record(af, ip, 1000), 0);
	ck_assert_int_eq(authfail_record(af, ip, 2000), 0);
	ck_assert_int_eq(authfail_record(af, ip, 61000), 0);
	ck_assert(!authfail_banned(af, ip, 61000));
	/* Long after: all of them are out of the window. */
	ck_assert_int_eq(authfail_record(af, ip, 500000), 0);
	ck_assert_int_eq(authfail_record(af, ip, 500001), 0);
	ck_assert_int_eq(authfail_record(af, ip, 500002), 0);
	ck_assert(!authfail_banned(af, ip, 500002));
	ck_assert_int_eq(authfail_record(af, ip, 500003), 1);

	/* Spread over just under the window: still counted together. */
	ck_assert_int_eq(authfail_record(af, ip2, 1000), 0);
	ck_assert_int_eq(authfail_record(af, ip2, 20000), 0);
	ck_assert_int_eq(authfail_record(af, ip2, 40000), 0);
	ck_assert_int_eq(authfail_record(af, ip2, 60500), 1);
	authfail_free(af);
}
END_TEST

START_TEST(test_independent)
{
	struct authfail *af = authfail_new(LIMIT, WINDOW, BAN);

	for (int i = 0; i < LIMIT; i++) {
		ck_assert_int_eq(authfail_record(af, "192.0.2.10", 10 + i), 0);
		ck_assert_int_eq(authfail_record(af, "192.0.2.11", 10 + i), 0);
		ck_assert_int_eq(authfail_record(af, "2001:db8::1", 10 + i), 0);
	}
	ck_assert_int_eq(authfail_record(af, "192.0.2.10", 20), 1);
	ck_assert(authfail_banned(af, "192.0.2.10", 20));
	ck_assert(!authfail_banned(af, "192.0.2.11", 20));
	ck_assert(!authfail_banned(af, "2001:db8::1", 20));
	ck_assert(!authfail_banned(af, "192.0.2.1", 20));
	ck_assert_int_eq(authfail_banned_count(af, 20), 1);
	ck_assert_int_eq(authfail_record(af, "2001:db8::1", 30), 1);
	ck_assert_int_eq(authfail_banned_count(af, 30), 2);
	ck_assert(!authfail_banned(af, "192.0.2.11", 30));
	/* The first ban ends before the second. */
	ck_assert_int_eq(authfail_banned_count(af, 20 + BAN), 1);
	ck_assert_int_eq(authfail_banned_count(af, 30 + BAN), 0);
	authfail_free(af);
}
END_TEST

START_TEST(test_set_limit)
{
	struct authfail *af = authfail_new(LIMIT, WINDOW, BAN);

	authfail_set_limit(af, 1);
	ck_assert_int_eq(authfail_record(af, "192.0.2.20", 1), 0);
	ck_assert_int_eq(authfail_record(af, "192.0.2.20", 2), 1);
	/* Raising it applies to failures already counted. */
	authfail_set_limit(af, 5);
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(authfail_record(af, "192.0.2.21", 10 + i), 0);
	authfail_set_limit(af, 10);
	for (int i = 2; i < 10; i++)
		ck_assert_int_eq(authfail_record(af, "192.0.2.21", 10 + i), 0);
	ck_assert_int_eq(authfail_record(af, "192.0.2.21", 30), 1);
	/* Limit 0: the first failure bans. */
	authfail_set_limit(af, 0);
	ck_assert_int_eq(authfail_record(af, "192.0.2.22", 40), 1);
	ck_assert_int_eq(authfail_banned_count(af, 40), 3);
	authfail_free(af);
}
END_TEST

START_TEST(test_table_full)
{
	struct authfail *af = authfail_new(LIMIT, WINDOW, BAN);
	const char *bad = "192.0.2.66";
	char ip[32];

	for (int i = 0; i <= LIMIT; i++)
		authfail_record(af, bad, 1);
	ck_assert(authfail_banned(af, bad, 1));
	/* Far more addresses than the table holds, each failing twice. */
	for (int i = 0; i < 10000; i++) {
		addr_of(i, ip, sizeof(ip));
		ck_assert_int_eq(authfail_record(af, ip, 2 + i), 0);
		ck_assert_int_eq(authfail_record(af, ip, 2 + i), 0);
	}
	/* The ban survives the churn; nobody else got banned. */
	ck_assert(authfail_banned(af, bad, 20000));
	ck_assert_int_eq(authfail_banned_count(af, 20000), 1);
	/* The most recent addresses are still tracked: two more failures ban. */
	addr_of(9999, ip, sizeof(ip));
	ck_assert_int_eq(authfail_record(af, ip, 20000), 0);
	ck_assert_int_eq(authfail_record(af, ip, 20001), 1);
	/* The oldest were evicted: their counts are gone (bounded memory). */
	addr_of(0, ip, sizeof(ip));
	ck_assert_int_eq(authfail_record(af, ip, 20002), 0);
	ck_assert_int_eq(authfail_record(af, ip, 20003), 0);
	ck_assert(!authfail_banned(af, ip, 20003));
	ck_assert_int_eq(authfail_banned_count(af, 20003), 2);
	authfail_free(af);
}
END_TEST

START_TEST(test_table_evicts_quietest)
{
	struct authfail *af = authfail_new(LIMIT, WINDOW, BAN);
	const char *keep = "192.0.2.77";
	char ip[32];

	/* Fill the table: old entries, then KEEP with recent failures. */
	for (int i = 0; i < AUTHFAIL_MAX_ADDRS - 1; i++) {
		addr_of(i, ip, sizeof(ip));
		authfail_record(af, ip, 1 + i);
	}
	for (int i = 0; i < LIMIT; i++)
		ck_assert_int_eq(authfail_record(af, keep, 50000), 0);
	/* New addresses take the quietest slots, not KEEP's. */
	for (int i = 0; i < 10; i++) {
		addr_of(100000 + i, ip, sizeof(ip));
		authfail_record(af, ip, 50001 + i);
	}
	ck_assert_int_eq(authfail_record(af, keep, 50020), 1);
	authfail_free(af);
}
END_TEST

START_TEST(test_table_all_banned)
{
	struct authfail *af = authfail_new(0, WINDOW, BAN);
	char ip[32];

	/* Limit 0: every first failure bans; fill the table with bans. */
	for (int i = 0; i < AUTHFAIL_MAX_ADDRS; i++) {
		addr_of(i, ip, sizeof(ip));
		ck_assert_int_eq(authfail_record(af, ip, 1000), 1);
	}
	ck_assert_int_eq(authfail_banned_count(af, 1000), AUTHFAIL_MAX_ADDRS);
	/* No slot to reuse: a new address is not tracked, no ban is lost. */
	ck_assert_int_eq(authfail_record(af, "192.0.2.99", 1001), 0);
	ck_assert(!authfail_banned(af, "192.0.2.99", 1001));
	ck_assert_int_eq(authfail_banned_count(af, 1001), AUTHFAIL_MAX_ADDRS);
	addr_of(0, ip, sizeof(ip));
	ck_assert(authfail_banned(af, ip, 1001));
	/* Once the bans end, slots are reused. */
	ck_assert_int_eq(authfail_record(af, "192.0.2.99", 1000 + BAN), 1);
	ck_assert(authfail_banned(af, "192.0.2.99", 1000 + BAN));
	ck_assert_int_eq(authfail_banned_count(af, 1000 + BAN), 1);
	authfail_free(af);
}
END_TEST

/* Build the suite. */
static Suite *
authfail_suite(void)
{
	Suite *s = suite_create("authfail");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_limit_and_ban);
	tcase_add_test(tc, test_ban_resets_count);
	tcase_add_test(tc, test_window);
	tcase_add_test(tc, test_independent);
	tcase_add_test(tc, test_set_limit);
	tcase_add_test(tc, test_table_full);
	tcase_add_test(tc, test_table_evicts_quietest);
	tcase_add_test(tc, test_table_all_banned);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	return tu_run(authfail_suite());
}
