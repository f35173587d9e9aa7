/* Unit tests of the hex codec. */
#include "config.h"

#include <string.h>

#include "err.h"
#include "hex.h"
#include "testutil.h"

START_TEST(test_roundtrip)
{
	const uint8_t in[] = { 0x00, 0x01, 0x7f, 0x80, 0xab, 0xff };
	uint8_t back[sizeof(in)];
	char out[2 * sizeof(in) + 1];

	hex_encode(in, sizeof(in), out);
	ck_assert_str_eq(out, "00017f80abff");
	ck_assert_int_eq(hex_decode(out, strlen(out), back, sizeof(back)), 0);
	ck_assert_mem_eq(in, back, sizeof(in));
	ck_assert(hex_valid(out, strlen(out), sizeof(in)));
}
END_TEST

START_TEST(test_reject)
{
	uint8_t b[4];

	/* Uppercase is INVALID_REQUEST per PROTOCOL.md section 2. */
	ck_assert_int_eq(hex_decode("ABCDEF01", 8, b, 4), TR_EINVAL);
	ck_assert_int_eq(hex_decode("abcdeF01", 8, b, 4), TR_EINVAL);
	ck_assert_int_eq(hex_decode("abcdef0", 7, b, 4), TR_EINVAL);
	ck_assert_int_eq(hex_decode("abcdef0102", 10, b, 4), TR_EINVAL);
	ck_assert_int_eq(hex_decode("abcdefgh", 8, b, 4), TR_EINVAL);
	ck_assert_int_eq(hex_decode("abcd ef0", 8, b, 4), TR_EINVAL);
	ck_assert_int_eq(hex_decode(NULL, 0, b, 0), TR_EINVAL);
	ck_assert(!hex_valid("ABCD", 4, 2));
	ck_assert(!hex_valid("abc", 3, 2));
	ck_assert(!hex_valid("ab\0d", 4, 2));
	ck_assert(hex_valid("", 0, 0));
}
END_TEST

/* Build the suite. */
static Suite *
hex_suite(void)
{
	Suite *s = suite_create("hex");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_reject);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(hex_suite());
}
