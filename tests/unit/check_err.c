/* Unit tests of the error codes and their protocol mapping. */
#include "config.h"

#include <string.h>

#include "err.h"
#include "trosyn-protocol.h"
#include "testutil.h"

START_TEST(test_every_code_has_a_string)
{
	for (int e = 0; e > TR_ELAST; e--) {
		const char *s = tr_strerror(e);

		ck_assert_ptr_nonnull(s);
		ck_assert_msg(strcmp(s, "unknown error") != 0,
		    "code %d has no string", e);
	}
	ck_assert_str_eq(tr_strerror(TR_ELAST), "unknown error");
	ck_assert_str_eq(tr_strerror(1), "unknown error");
	ck_assert_str_eq(tr_strerror(-1000), "unknown error");
}
END_TEST

START_TEST(test_protocol_codes)
{
	ck_assert_str_eq(tr_err_code(TR_EJSON), TR_CODE_INVALID_REQUEST);
	ck_assert_str_eq(tr_err_code(TR_EDUPKEY), TR_CODE_INVALID_REQUEST);
	ck_assert_str_eq(tr_err_code(TR_ETOOBIG), TR_CODE_TOO_LARGE);
	ck_assert_str_eq(tr_err_code(TR_EVERSION), TR_CODE_UNSUPPORTED_VERSION);
	ck_assert_str_eq(tr_err_code(TR_ESIG), TR_CODE_ACCESS_DENIED);
	ck_assert_str_eq(tr_err_code(TR_ESKEW), TR_CODE_CLOCK_SKEW);
	ck_assert_str_eq(tr_err_code(TR_ETOKEN), TR_CODE_INVALID_TOKEN);
	ck_assert_str_eq(tr_err_code(TR_ENOTFOUND), TR_CODE_NOT_FOUND);
	ck_assert_str_eq(tr_err_code(TR_EBUSY), TR_CODE_BUSY);
	ck_assert_str_eq(tr_err_code(TR_EDB), TR_CODE_INTERNAL_ERROR);
}
END_TEST

/* Build the suite. */
static Suite *
err_suite(void)
{
	Suite *s = suite_create("err");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_every_code_has_a_string);
	tcase_add_test(tc, test_protocol_codes);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(err_suite());
}
