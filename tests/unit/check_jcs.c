/* Unit tests of the strict JSON parser and the RFC 8785 serializer. */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "jcs.h"
#include "testutil.h"

/* Parse a NUL-terminated TEXT; returns the jcs_parse code and frees the value. */
static int
parse_rc(const char *text)
{
	json_object *v = NULL;
	int rc = jcs_parse(text, strlen(text), &v);

	if (rc != 0)
		ck_assert_ptr_null(v);
	json_object_put(v);
	return rc;
}

/* Parse LEN bytes of TEXT; returns the jcs_parse code. */
static int
parse_rc_len(const char *text, size_t len)
{
	json_object *v = NULL;
	int rc = jcs_parse(text, len, &v);

	if (rc != 0)
		ck_assert_ptr_null(v);
	json_object_put(v);
	return rc;
}

/* Parse TEXT, serialize it and compare with WANT. */
static void
check_canon(const char *text, const char *want)
{
	json_object *v = NULL;
	char *out = NULL;
	size_t len = 0;

	ck_assert_int_eq(jcs_parse(text, strlen(text), &v), 0);
	ck_assert_int_eq(jcs_serialize(v, &out, &len), 0);
	ck_assert_str_eq(out, want);
	ck_assert_uint_eq(len, strlen(want));
	free(out);
	json_object_put(v);
}

/* A double from its IEEE 754 bits. */
static double
bits_double(uint64_t bits)
{
	double d;

	memcpy(&d, &bits, sizeof(d));
	return d;
}

/* Format D and compare with WANT. */
static void
check_double(double d, const char *want)
{
	char buf[32];

	ck_assert_int_eq(jcs_format_double(d, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, want);
}

/* Nested arrays, or objects {"a":{"a":{}}} when OBJ, DEPTH deep (malloc'd). */
static char *
nested(int depth, int obj)
{
	char *s = malloc((size_t)depth * 6 + 1), *p = s;

	ck_assert_ptr_nonnull(s);
	for (int i = 0; i < depth; i++) {
		if (obj && i < depth - 1) {
			memcpy(p, "{\"a\":", 5);
			p += 5;
		} else
			*p++ = obj ? '{' : '[';
	}
	for (int i = 0; i < depth; i++)
		*p++ = obj ? '}' : ']';
	*p = '\0';
	return s;
}

START_TEST(test_vectors)
{
	json_object *vecs = tu_vec("jcs");
	size_t n = json_object_array_length(vecs);

	ck_assert_uint_eq(n, 4);
	for (size_t i = 0; i < n; i++) {
		json_object *vec = json_object_array_get_idx(vecs, i), *in, *can;
		json_object *v = NULL, *v2 = NULL;
		const char *input, *canon;
		char *out = NULL, *out2 = NULL;
		size_t len = 0, len2 = 0;

		ck_assert(json_object_object_get_ex(vec, "input", &in));
		ck_assert(json_object_object_get_ex(vec, "canonical", &can));
		input = json_object_get_string(in);
		canon = json_object_get_string(can);
		ck_assert_int_eq(jcs_parse(input, strlen(input), &v), 0);
		ck_assert_int_eq(jcs_serialize(v, &out, &len), 0);
		ck_assert_uint_eq(len, strlen(canon));
		ck_assert_mem_eq(out, canon, len);
		/* The canonical form is a fixed point. */
		ck_assert_int_eq(jcs_parse(out, len, &v2), 0);
		ck_assert_int_eq(jcs_serialize(v2, &out2, &len2), 0);
		ck_assert_uint_eq(len2, len);
		ck_assert_mem_eq(out2, out, len);
		free(out);
		free(out2);
		json_object_put(v);
		json_object_put(v2);
	}
}
END_TEST

START_TEST(test_prefixes_fail)
{
	json_object *vecs = tu_vec("jcs");

	/* Every proper prefix of an object is incomplete. */
	for (size_t i = 0; i < json_object_array_length(vecs); i++) {
		json_object *in;
		const char *input;

		ck_assert(json_object_object_get_ex(
		    json_object_array_get_idx(vecs, i), "input", &in));
		input = json_object_get_string(in);
		for (size_t len = 0; len < strlen(input); len++)
			ck_assert_int_eq(parse_rc_len(input, len), TR_EJSON);
	}
}
END_TEST

START_TEST(test_format_double)
{
	/* RFC 8785 appendix B. */
	check_double(bits_double(0x0000000000000000ULL), "0");
	check_double(bits_double(0x8000000000000000ULL), "0");
	check_double(bits_double(0x0000000000000001ULL), "5e-324");
	check_double(bits_double(0x8000000000000001ULL), "-5e-324");
	check_double(bits_double(0x7fefffffffffffffULL), "1.7976931348623157e+308");
	check_double(bits_double(0xffefffffffffffffULL), "-1.7976931348623157e+308");
	check_double(bits_double(0x4340000000000000ULL), "9007199254740992");
	check_double(bits_double(0xc340000000000000ULL), "-9007199254740992");
	check_double(bits_double(0x4430000000000000ULL), "295147905179352830000");
	check_double(bits_double(0x44b52d02c7e14af5ULL), "9.999999999999997e+22");
	check_double(bits_double(0x44b52d02c7e14af6ULL), "1e+23");
	check_double(bits_double(0x44b52d02c7e14af7ULL), "1.0000000000000001e+23");
	check_double(bits_double(0x444b1ae4d6e2ef4eULL), "999999999999999700000");
	check_double(bits_double(0x444b1ae4d6e2ef4fULL), "999999999999999900000");
	check_double(bits_double(0x444b1ae4d6e2ef50ULL), "1e+21");
	check_double(bits_double(0x3eb0c6f7a0b5ed8cULL), "9.999999999999997e-7");
	check_double(bits_double(0x3eb0c6f7a0b5ed8dULL), "0.000001");
	check_double(bits_double(0x41b3de4355555553ULL), "333333333.3333332");
	check_double(bits_double(0x41b3de4355555554ULL), "333333333.33333325");
	check_double(bits_double(0x41b3de4355555555ULL), "333333333.3333333");
	check_double(bits_double(0x41b3de4355555556ULL), "333333333.3333334");
	check_double(bits_double(0x41b3de4355555557ULL), "333333333.33333343");
	check_double(bits_double(0xbecbf647612f3696ULL), "-0.0000033333333333333333");
	check_double(bits_double(0x43143ff3c1cb0959ULL), "1424953923781206.2");
	/* ECMAScript forms around the switch points. */
	check_double(1.0, "1");
	check_double(-1.5, "-1.5");
	check_double(0.1 + 0.2, "0.30000000000000004");
	check_double(1e20, "100000000000000000000");
	check_double(1e21, "1e+21");
	check_double(1e-6, "0.000001");
	check_double(1e-7, "1e-7");
	check_double(1.5e-7, "1.5e-7");
	check_double(1.23e-18, "1.23e-18");
	check_double(4.35, "4.35");
	/* 2^-1017: the nearest 16-digit value does not read back; its neighbour does. */
	check_double(ldexp(1.0, -1017), "7.120236347223045e-307");
}
END_TEST

START_TEST(test_format_double_errors)
{
	char buf[32];

	ck_assert_int_eq(jcs_format_double(NAN, buf, sizeof(buf)), TR_ERANGE);
	ck_assert_int_eq(jcs_format_double(INFINITY, buf, sizeof(buf)), TR_ERANGE);
	ck_assert_int_eq(jcs_format_double(-INFINITY, buf, sizeof(buf)), TR_ERANGE);
	ck_assert_int_eq(jcs_format_double(1.0, buf, 8), TR_EINVAL);
}
END_TEST

START_TEST(test_numbers)
{
	json_object *v = NULL;

	check_canon("[1.0,1e2,-0,-0.0,0.5E1,100e-2,1E+2]", "[1,100,0,0,5,1,100]");
	check_canon("[9007199254740991,-9007199254740991]",
	    "[9007199254740991,-9007199254740991]");
	check_canon("1e-400", "0");
	check_canon("9007199254740993.0", "9007199254740992");

	/* Integers become json_type_int, anything with . or e a double. */
	ck_assert_int_eq(jcs_parse("9007199254740991", 16, &v), 0);
	ck_assert(json_object_is_type(v, json_type_int));
	ck_assert_int_eq(json_object_get_int64(v), 9007199254740991LL);
	json_object_put(v);
	ck_assert_int_eq(jcs_parse("-0", 2, &v), 0);
	ck_assert(json_object_is_type(v, json_type_int));
	ck_assert_int_eq(json_object_get_int64(v), 0);
	json_object_put(v);
	ck_assert_int_eq(jcs_parse("5.0", 3, &v), 0);
	ck_assert(json_object_is_type(v, json_type_double));
	json_object_put(v);

	ck_assert_int_eq(parse_rc("9007199254740992"), TR_ERANGE);
	ck_assert_int_eq(parse_rc("-9007199254740992"), TR_ERANGE);
	ck_assert_int_eq(parse_rc("[12345678901234567890123]"), TR_ERANGE);
	ck_assert_int_eq(parse_rc("{\"a\":1e400}"), TR_ERANGE);
	ck_assert_int_eq(parse_rc("-1e400"), TR_ERANGE);
	ck_assert_int_eq(parse_rc("1e999999999999999999"), TR_ERANGE);
	ck_assert_int_eq(parse_rc("9007199254740992.0"), 0);
	ck_assert_int_eq(parse_rc("9007199254740992e0"), 0);
}
END_TEST

START_TEST(test_syntax)
{
	static const char *const bad[] = {
		"", " ", "\t\r\n", "{} x", "[1]]", "{}{}", "01", "-01", "00",
		"-", "+1", "1.", ".5", "1e", "1e+", "1.e3", "0x10", "NaN",
		"-NaN", "Infinity", "-Infinity", "nul", "tru", "falsey", "True",
		"[1,]", "[,1]", "[1 2]", "{\"a\":1,}", "{,}", "{a:1}",
		"{\"a\" 1}", "{\"a\":}", "{\"a\"}", "{1:2}", "'a'", "\"abc",
		"\"\\x\"", "\"\\u12G4\"", "\"\\U0041\"", "\"\\u004\"",
		"\"\\\"", "\"a\x01b\"", "\"a\tb\"", "\"a\nb\"", "\x0c{}",
		"\x0b{}", "{}\x0c", "\xc2\xa0{}", "[1]\xef\xbb\xbf",
		"\xef\xbb\xbf[1]", "/* c */ 1", "1 // c", "{\"a\":1]",
		"[1}", "\"\\u0000\\", "[\"a\",\"b\"", "{\"\\u0000\":1}",
		"{\"a\\u0000b\":1}",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(parse_rc(bad[i]) == TR_EJSON, "accepted #%zu: %s",
		    i, bad[i]);
	/* A NUL byte after the value is garbage, too. */
	ck_assert_int_eq(parse_rc_len("{}\0", 3), TR_EJSON);
	ck_assert_int_eq(parse_rc_len("\0", 1), TR_EJSON);
	ck_assert_int_eq(parse_rc_len("[1,\0]", 5), TR_EJSON);
	ck_assert_int_eq(parse_rc_len(NULL, 0), TR_EJSON);

	/* Surrounding JSON whitespace is fine. */
	check_canon(" \t\r\n{ \"a\" : [ 1 , true , null ] }\r\n ",
	    "{\"a\":[1,true,null]}");
	check_canon("\"top\"", "\"top\"");
	check_canon("false", "false");
	check_canon("[]", "[]");
	check_canon("{}", "{}");
	check_canon("[{},[],\"\"]", "[{},[],\"\"]");
}
END_TEST

START_TEST(test_null_top)
{
	json_object *v = (json_object *)1;

	/* json-c's null is the NULL object. */
	ck_assert_int_eq(jcs_parse("null", 4, &v), 0);
	ck_assert_ptr_null(v);
}
END_TEST

START_TEST(test_strings)
{
	json_object *v = NULL;

	check_canon("\"\\u0000\\u001f\\u007f\\b\\f\\n\\r\\t\\/\\\"\\\\\"",
	    "\"\\u0000\\u001f\x7f\\b\\f\\n\\r\\t/\\\"\\\\\"");
	check_canon("\"\\u00e9\\u20AC\\uD83D\\uDE00\"",
	    "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"");
	check_canon("\"\xf4\x8f\xbf\xbf\xef\xbf\xbf\"",
	    "\"\xf4\x8f\xbf\xbf\xef\xbf\xbf\"");
	check_canon("{\"k\\u0001\":\"\\u000B\"}", "{\"k\\u0001\":\"\\u000b\"}");

	/* U+0000 inside a value is kept, length and all. */
	ck_assert_int_eq(jcs_parse("\"a\\u0000b\"", 10, &v), 0);
	ck_assert_int_eq(json_object_get_string_len(v), 3);
	ck_assert_mem_eq(json_object_get_string(v), "a\0b", 3);
	json_object_put(v);
}
END_TEST

START_TEST(test_bad_utf8)
{
	static const char *const bad[] = {
		"\xc0\x80",		/* overlong NUL */
		"\xc1\xbf",		/* overlong */
		"\xe0\x80\xaf",		/* overlong '/' */
		"\xe0\x9f\xbf",		/* overlong */
		"\xf0\x80\x80\xaf",	/* overlong */
		"\xf0\x8f\xbf\xbf",	/* overlong */
		"\xed\xa0\x80",		/* U+D800 */
		"\xed\xbf\xbf",		/* U+DFFF */
		"\xed\xa0\xbd\xed\xb8\x80", /* CESU-8 pair */
		"\xf4\x90\x80\x80",	/* U+110000 */
		"\xf5\x80\x80\x80",
		"\xf8\x88\x80\x80\x80",
		"\xe2\x82",		/* truncated */
		"\xf0\x9f\x98",		/* truncated */
		"\xc3",			/* truncated */
		"\x80",			/* stray continuation */
		"\xbf",
		"\xff",
		"\xfe",
		"\xe2\x28\xa1",
	};
	char buf[64];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t n = strlen(bad[i]);

		ck_assert_msg(!jcs_utf8_valid(bad[i], n), "valid #%zu", i);
		/* As a value, as a member name, and truncated at the end of input. */
		snprintf(buf, sizeof(buf), "\"%s\"", bad[i]);
		ck_assert_msg(parse_rc(buf) == TR_EJSON, "value #%zu", i);
		snprintf(buf, sizeof(buf), "{\"%s\":1}", bad[i]);
		ck_assert_msg(parse_rc(buf) == TR_EJSON, "name #%zu", i);
		snprintf(buf, sizeof(buf), "\"%s", bad[i]);
		ck_assert_msg(parse_rc_len(buf, strlen(buf)) == TR_EJSON,
		    "tail #%zu", i);
	}
	ck_assert_int_eq(parse_rc("\xff"), TR_EJSON);
	ck_assert_int_eq(parse_rc("[\xc3\xa9]"), TR_EJSON);
	ck_assert(jcs_utf8_valid("", 0));
	ck_assert(jcs_utf8_valid("a\0b", 3));
	ck_assert(jcs_utf8_valid("\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf"
	    "\xee\x80\x80\xf0\x90\x80\x80\xf4\x8f\xbf\xbf", 22));
}
END_TEST

START_TEST(test_surrogate_escapes)
{
	static const char *const bad[] = {
		"\"\\ud800\"", "\"\\udbff\"", "\"\\udc00\"", "\"\\udfff\"",
		"\"\\ud800\\u0041\"", "\"\\ud800x\"", "\"\\ud800\\\"",
		"\"\\ud800\\ud800\"", "\"\\ude00\\ud83d\"", "\"\\ud83d\\n\"",
		"\"\\ud83d\\ude0\"", "\"\\ud83d", "{\"\\ud800\":1}",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(parse_rc(bad[i]) == TR_EJSON, "accepted #%zu: %s",
		    i, bad[i]);
	check_canon("\"\\ud800\\udc00\\udbff\\udfff\"",
	    "\"\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\"");
}
END_TEST

START_TEST(test_dupkeys)
{
	ck_assert_int_eq(parse_rc("{\"a\":1,\"a\":2}"), TR_EDUPKEY);
	ck_assert_int_eq(parse_rc("{\"a\":1,\"b\":2,\"a\":1}"), TR_EDUPKEY);
	ck_assert_int_eq(parse_rc("{\"a\":1,\"\\u0061\":2}"), TR_EDUPKEY);
	ck_assert_int_eq(parse_rc("{\"x\":{\"a\":null,\"a\":null}}"),
	    TR_EDUPKEY);
	ck_assert_int_eq(parse_rc("[{\"a\":1},{\"b\":[{\"c\":1,\"c\":1}]}]"),
	    TR_EDUPKEY);
	ck_assert_int_eq(parse_rc("{\"\":1,\"\":2}"), TR_EDUPKEY);
	/* The same name in different objects is fine. */
	check_canon("{\"a\":{\"a\":{\"a\":1}},\"b\":[{\"a\":2},{\"a\":3}]}",
	    "{\"a\":{\"a\":{\"a\":1}},\"b\":[{\"a\":2},{\"a\":3}]}");
	check_canon("{\"a\":1,\"A\":2}", "{\"A\":2,\"a\":1}");
}
END_TEST

START_TEST(test_sort_utf16)
{
	/* U+E000 is above U+D83D in UTF-16 but below U+1F600 in UTF-8. */
	check_canon("{\"\\ue000\":1,\"\\ud83d\\ude00\":2,\"\\uffff\":3,"
	    "\"\\u00ff\":4,\"\":5,\"a\":6,\"ab\":7,\"b\":8}",
	    "{\"\":5,\"a\":6,\"ab\":7,\"b\":8,\"\xc3\xbf\":4,"
	    "\"\xf0\x9f\x98\x80\":2,\"\xee\x80\x80\":1,\"\xef\xbf\xbf\":3}");
	/* The same after a common ASCII prefix, and ASCII after a common non-ASCII one. */
	check_canon("{\"x\\ue000\":1,\"x\\ud83d\\ude00\":2,\"\\u00ffb\":3,"
	    "\"\\u00ffa\":4}",
	    "{\"x\xf0\x9f\x98\x80\":2,\"x\xee\x80\x80\":1,\"\xc3\xbf"
	    "a\":4,\"\xc3\xbf" "b\":3}");
	/* More members than fit the writer's stack array. */
	check_canon("{\"q\":1,\"p\":2,\"o\":3,\"n\":4,\"m\":5,\"l\":6,"
	    "\"k\":7,\"j\":8,\"i\":9,\"h\":10,\"g\":11,\"f\":12,\"e\":13,"
	    "\"d\":14,\"c\":15,\"b\":16,\"a\":17,\"aa\":18}",
	    "{\"a\":17,\"aa\":18,\"b\":16,\"c\":15,\"d\":14,\"e\":13,"
	    "\"f\":12,\"g\":11,\"h\":10,\"i\":9,\"j\":8,\"k\":7,\"l\":6,"
	    "\"m\":5,\"n\":4,\"o\":3,\"p\":2,\"q\":1}");
}
END_TEST

/* Serializing without one member: what a signature covers. */
START_TEST(test_serialize_without)
{
	json_object *v = NULL;
	char *out = NULL;
	size_t len = 0;
	const char *in = "{\"b\":1,\"signature\":\"x\",\"a\":"
	    "{\"signature\":2}}";

	ck_assert_int_eq(jcs_parse(in, strlen(in), &v), 0);
	ck_assert_int_eq(jcs_serialize_without(v, "signature", &out, &len), 0);
	ck_assert_str_eq(out, "{\"a\":{\"signature\":2},\"b\":1}");
	ck_assert_uint_eq(len, strlen(out));
	free(out);
	ck_assert_int_eq(jcs_serialize_without(v, "absent", &out, &len), 0);
	ck_assert_str_eq(out,
	    "{\"a\":{\"signature\":2},\"b\":1,\"signature\":\"x\"}");
	free(out);
	json_object_put(v);
	v = json_object_new_array();
	ck_assert_int_eq(jcs_serialize_without(v, "signature", &out, &len),
	    TR_EINVAL);
	ck_assert_ptr_null(out);
	json_object_put(v);
}
END_TEST

START_TEST(test_depth)
{
	char *s;

	for (int obj = 0; obj <= 1; obj++) {
		json_object *v = NULL;
		char *out = NULL;

		s = nested(JCS_MAX_DEPTH, obj);
		ck_assert_int_eq(jcs_parse(s, strlen(s), &v), 0);
		ck_assert_int_eq(jcs_serialize(v, &out, NULL), 0);
		ck_assert_str_eq(out, s);
		free(out);
		json_object_put(v);
		free(s);
		s = nested(JCS_MAX_DEPTH + 1, obj);
		ck_assert_int_eq(parse_rc(s), TR_EJSON);
		free(s);
	}
	/* Far too deep must not exhaust the stack. */
	s = nested(100000, 0);
	ck_assert_int_eq(parse_rc(s), TR_EJSON);
	free(s);
}
END_TEST

START_TEST(test_serialize_errors)
{
	json_object *v, *arr;
	char *out = (char *)1;
	size_t len = 1;

	v = json_object_new_int64(9007199254740992LL);
	ck_assert_int_eq(jcs_serialize(v, &out, &len), TR_ERANGE);
	ck_assert_ptr_null(out);
	ck_assert_uint_eq(len, 0);
	json_object_put(v);
	v = json_object_new_int64(-9007199254740992LL);
	ck_assert_int_eq(jcs_serialize(v, &out, &len), TR_ERANGE);
	json_object_put(v);
	v = json_object_new_uint64(UINT64_MAX);
	ck_assert_int_eq(jcs_serialize(v, &out, &len), TR_ERANGE);
	json_object_put(v);
	v = json_object_new_double(NAN);
	ck_assert_int_eq(jcs_serialize(v, &out, &len), TR_ERANGE);
	json_object_put(v);
	arr = json_object_new_array();
	json_object_array_add(arr, json_object_new_double(INFINITY));
	ck_assert_int_eq(jcs_serialize(arr, &out, &len), TR_ERANGE);
	json_object_put(arr);
	v = json_object_new_string_len("\xc0\x80", 2);
	ck_assert_int_eq(jcs_serialize(v, &out, &len), TR_EJSON);
	json_object_put(v);
	v = json_object_new_object();
	json_object_object_add(v, "\xed\xa0\x80", json_object_new_int(1));
	ck_assert_int_eq(jcs_serialize(v, &out, &len), TR_EJSON);
	json_object_put(v);

	/* Built values: null, the edge integers, out without a length. */
	arr = json_object_new_array();
	json_object_array_add(arr, NULL);
	json_object_array_add(arr, json_object_new_int64(9007199254740991LL));
	json_object_array_add(arr, json_object_new_int64(-9007199254740991LL));
	json_object_array_add(arr, json_object_new_boolean(0));
	ck_assert_int_eq(jcs_serialize(arr, &out, NULL), 0);
	ck_assert_str_eq(out,
	    "[null,9007199254740991,-9007199254740991,false]");
	free(out);
	json_object_put(arr);
}
END_TEST

START_TEST(test_serialize_depth)
{
	json_object *root = json_object_new_array(), *cur = root;
	char *out = NULL;

	for (int i = 1; i < JCS_MAX_DEPTH; i++) {
		json_object *next = json_object_new_array();

		json_object_array_add(cur, next);
		cur = next;
	}
	ck_assert_int_eq(jcs_serialize(root, &out, NULL), 0);
	ck_assert_uint_eq(strlen(out), 2 * JCS_MAX_DEPTH);
	free(out);
	json_object_array_add(cur, json_object_new_object());
	ck_assert_int_eq(jcs_serialize(root, &out, NULL), TR_EJSON);
	ck_assert_ptr_null(out);
	json_object_put(root);
}
END_TEST

/* Build the suite. */
static Suite *
jcs_suite(void)
{
	Suite *s = suite_create("jcs");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_vectors);
	tcase_add_test(tc, test_prefixes_fail);
	tcase_add_test(tc, test_format_double);
	tcase_add_test(tc, test_format_double_errors);
	tcase_add_test(tc, test_numbers);
	tcase_add_test(tc, test_syntax);
	tcase_add_test(tc, test_null_top);
	tcase_add_test(tc, test_strings);
	tcase_add_test(tc, test_bad_utf8);
	tcase_add_test(tc, test_surrogate_escapes);
	tcase_add_test(tc, test_dupkeys);
	tcase_add_test(tc, test_sort_utf16);
	tcase_add_test(tc, test_serialize_without);
	tcase_add_test(tc, test_depth);
	tcase_add_test(tc, test_serialize_errors);
	tcase_add_test(tc, test_serialize_depth);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(jcs_suite());
}
