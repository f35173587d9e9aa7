/* Strict JSON parsing (PROTOCOL.md section 2) and RFC 8785 canonical serialization. */
#ifndef TROSYN_JCS_H
#define TROSYN_JCS_H

#include <stddef.h>

#include <json-c/json.h>

/* Deepest nesting of arrays and objects jcs_parse accepts. */
#define JCS_MAX_DEPTH 64

/*
 * Parse LEN bytes of JSON text into a new json-c value (*OUT, caller puts).
 * Surrounding whitespace is allowed; anything else after the value is not.
 * Strict where json-c is lenient:
 *   TR_EJSON   syntax error, invalid UTF-8 (overlong, surrogates, > U+10FFFF),
 *              lone or mismatched \u surrogate escapes, a member name
 *              containing U+0000, nesting deeper than JCS_MAX_DEPTH;
 *   TR_EDUPKEY a duplicate member name in one object;
 *   TR_ERANGE  a number without fraction or exponent outside +-(2^53-1), or
 *              a number that overflows a double.
 * Numbers without fraction or exponent become json_type_int, others
 * json_type_double.  Returns 0 on success.
 */
int jcs_parse(const char *text, size_t len, json_object **out);

/*
 * Serialize VAL in the RFC 8785 canonical form into a malloc'd,
 * NUL-terminated buffer (*OUT, length in *OUTLEN when not NULL): members
 * sorted by UTF-16 code units, no whitespace, ECMAScript number and string
 * forms.  TR_ERANGE for NaN, infinities and integers outside +-(2^53-1);
 * TR_EJSON for strings that are not valid UTF-8.
 */
int jcs_serialize(json_object *val, char **out, size_t *outlen);

/*
 * As jcs_serialize for the object OBJ without its top-level member SKIP
 * (what a signature covers); TR_EINVAL when OBJ is not an object.
 */
int jcs_serialize_without(json_object *obj, const char *skip, char **out,
    size_t *outlen);

/*
 * Write the ECMAScript Number::toString form of D (shortest round trip,
 * exponent form below 1e-6 and from 1e21) into BUF (at least 32 bytes).
 * TR_ERANGE for NaN and infinities.
 */
int jcs_format_double(double d, char *buf, size_t len);

/* Non-zero when S (LEN bytes) is valid UTF-8 (no surrogates, no overlongs). */
int jcs_utf8_valid(const char *s, size_t len);

#endif /* TROSYN_JCS_H */
