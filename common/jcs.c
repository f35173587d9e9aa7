/* Strict JSON parsing into json-c values and RFC 8785 canonical serialization. */
#include "config.h"

#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "jcs.h"
#include "trosyn-protocol.h"

/* Longest number token copied to the stack before strtod; longer ones are malloc'd. */
#define JCS_NUMBUF	64

/* State of one parse: the input, a cursor and a scratch buffer for strings. */
struct jcs_parser {
	const unsigned char *s;
	size_t len;
	size_t pos;
	int depth;
	char *buf;		/* decoded string, reused */
	size_t buflen;
	size_t bufcap;
};

/* A growing output buffer of the serializer. */
struct jcs_out {
	char *p;
	size_t len;
	size_t cap;
};

static pthread_once_t jcs_locale_once = PTHREAD_ONCE_INIT;
static locale_t jcs_c_locale = (locale_t)0;

static int jcs_parse_value(struct jcs_parser *p, json_object **out);
static int jcs_write_value(struct jcs_out *o, json_object *val, int depth);

/* Create the "C" locale strtod_l uses, once per process. */
static void
jcs_locale_init(void)
{
	jcs_c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

/* strtod in the "C" locale whatever the process locale is. */
static double
jcs_strtod(const char *s, char **end)
{
	pthread_once(&jcs_locale_once, jcs_locale_init);
	if (jcs_c_locale != (locale_t)0)
		return strtod_l(s, end, jcs_c_locale);
	return strtod(s, end);
}

/*
 * Decode one UTF-8 sequence of at most LEN bytes at S into *CP; returns
 * its length, or 0 when it is invalid (overlong, surrogate, > U+10FFFF,
 * truncated, stray continuation byte).
 */
static size_t
jcs_utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
	uint32_t c, min;
	size_t n;

	if (len == 0)
		return 0;
	c = s[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		min = 0x80;
		c &= 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		min = 0x800;
		c &= 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		min = 0x10000;
		c &= 0x07;
	} else
		return 0;
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

/* Non-zero when S (LEN bytes) is valid UTF-8 (no surrogates, no overlongs). */
int
jcs_utf8_valid(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, n;
	uint32_t cp;

	if (s == NULL)
		return len == 0;
	while (i < len) {
		if (u[i] < 0x80) {
			i++;
			continue;
		}
		if ((n = jcs_utf8_decode(u + i, len - i, &cp)) == 0)
			return 0;
		i += n;
	}
	return 1;
}

/* --- Parser --- */

/* Skip JSON whitespace (space, tab, CR, LF). */
static void
jcs_skip_ws(struct jcs_parser *p)
{
	while (p->pos < p->len) {
		unsigned char c = p->s[p->pos];

		if (c != ' ' && c != '\t' && c != '\r' && c != '\n')
			break;
		p->pos++;
	}
}

/* Append N bytes to the string scratch buffer. */
static int
jcs_buf_add(struct jcs_parser *p, const void *data, size_t n)
{
	if (p->bufcap - p->buflen < n + 1) {
		size_t cap = p->bufcap == 0 ? 64 : p->bufcap;
		char *nb;

		while (cap - p->buflen < n + 1) {
			if (cap > SIZE_MAX / 2)
				return TR_ENOMEM;
			cap *= 2;
		}
		if ((nb = realloc(p->buf, cap)) == NULL)
			return TR_ENOMEM;
		p->buf = nb;
		p->bufcap = cap;
	}
	memcpy(p->buf + p->buflen, data, n);
	p->buflen += n;
	p->buf[p->buflen] = '\0';
	return 0;
}

/* Append code point CP as UTF-8 to the scratch buffer. */
static int
jcs_buf_add_cp(struct jcs_parser *p, uint32_t cp)
{
	unsigned char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (unsigned char)(0xc0 | cp >> 6);
		u[1] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (unsigned char)(0xe0 | cp >> 12);
		u[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		u[2] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (unsigned char)(0xf0 | cp >> 18);
		u[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
		u[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		u[3] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return jcs_buf_add(p, u, n);
}

/* Read the four hex digits of a \u escape at the cursor into *V. */
static int
jcs_parse_hex4(struct jcs_parser *p, uint32_t *v)
{
	uint32_t r = 0;

	if (p->len - p->pos < 4)
		return TR_EJSON;
	for (int i = 0; i < 4; i++) {
		unsigned char c = p->s[p->pos++];

		r <<= 4;
		if (c >= '0' && c <= '9')
			r |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			r |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			r |= (uint32_t)(c - 'A' + 10);
		else
			return TR_EJSON;
	}
	*v = r;
	return 0;
}

/* Decode one \u escape (and its low surrogate, if any) after the "\u". */
static int
jcs_parse_uescape(struct jcs_parser *p, uint32_t *cp)
{
	uint32_t hi, lo;
	int rc;

	if ((rc = jcs_parse_hex4(p, &hi)) != 0)
		return rc;
	if (hi >= 0xdc00 && hi <= 0xdfff)
		return TR_EJSON;
	if (hi < 0xd800 || hi > 0xdbff) {
		*cp = hi;
		return 0;
	}
	if (p->len - p->pos < 2 || p->s[p->pos] != '\\' ||
	    p->s[p->pos + 1] != 'u')
		return TR_EJSON;
	p->pos += 2;
	if ((rc = jcs_parse_hex4(p, &lo)) != 0)
		return rc;
	if (lo < 0xdc00 || lo > 0xdfff)
		return TR_EJSON;
	*cp = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
	return 0;
}

/* Decode the string at the cursor (on its '"') into the scratch buffer. */
static int
jcs_parse_string(struct jcs_parser *p)
{
	int rc;

	p->buflen = 0;
	if ((rc = jcs_buf_add(p, "", 0)) != 0)
		return rc;
	p->pos++;
	for (;;) {
		size_t start = p->pos, n;
		uint32_t cp;
		unsigned char c;

		/* Copy a run of plain ASCII in one go. */
		while (p->pos < p->len) {
			c = p->s[p->pos];
			if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\')
				break;
			p->pos++;
		}
		if (p->pos > start &&
		    (rc = jcs_buf_add(p, p->s + start, p->pos - start)) != 0)
			return rc;
		if (p->pos >= p->len)
			return TR_EJSON;
		c = p->s[p->pos];
		if (c == '"') {
			p->pos++;
			return 0;
		}
		if (c < 0x20)
			return TR_EJSON;
		if (c >= 0x80) {
			n = jcs_utf8_decode(p->s + p->pos, p->len - p->pos, &cp);
			if (n == 0)
				return TR_EJSON;
			if ((rc = jcs_buf_add(p, p->s + p->pos, n)) != 0)
				return rc;
			p->pos += n;
			continue;
		}
		/* A backslash escape. */
		if (++p->pos >= p->len)
			return TR_EJSON;
		switch (p->s[p->pos++]) {
		case '"':
			cp = '"';
			break;
		case '\\':
			cp = '\\';
			break;
		case '/':
			cp = '/';
			break;
		case 'b':
			cp = '\b';
			break;
		case 'f':
			cp = '\f';
			break;
		case 'n':
			cp = '\n';
			break;
		case 'r':
			cp = '\r';
			break;
		case 't':
			cp = '\t';
			break;
		case 'u':
			if ((rc = jcs_parse_uescape(p, &cp)) != 0)
				return rc;
			break;
		default:
			return TR_EJSON;
		}
		if ((rc = jcs_buf_add_cp(p, cp)) != 0)
			return rc;
	}
}

/* Parse the number at the cursor into a json_type_int or json_type_double. */
static int
jcs_parse_number(struct jcs_parser *p, json_object **out)
{
	size_t start = p->pos, ndigits = 0, toklen;
	int neg = 0, isint = 1, rc = 0;
	char stackbuf[JCS_NUMBUF], *tok = stackbuf, *end;
	double d;

	if (p->s[p->pos] == '-') {
		neg = 1;
		p->pos++;
	}
	if (p->pos >= p->len)
		return TR_EJSON;
	if (p->s[p->pos] == '0') {
		p->pos++;
		ndigits = 1;
		if (p->pos < p->len && p->s[p->pos] >= '0' &&
		    p->s[p->pos] <= '9')
			return TR_EJSON;
	} else if (p->s[p->pos] >= '1' && p->s[p->pos] <= '9') {
		while (p->pos < p->len && p->s[p->pos] >= '0' &&
		    p->s[p->pos] <= '9') {
			p->pos++;
			ndigits++;
		}
	} else
		return TR_EJSON;
	if (p->pos < p->len && p->s[p->pos] == '.') {
		isint = 0;
		p->pos++;
		if (p->pos >= p->len || p->s[p->pos] < '0' ||
		    p->s[p->pos] > '9')
			return TR_EJSON;
		while (p->pos < p->len && p->s[p->pos] >= '0' &&
		    p->s[p->pos] <= '9')
			p->pos++;
	}
	if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
		isint = 0;
		p->pos++;
		if (p->pos < p->len &&
		    (p->s[p->pos] == '+' || p->s[p->pos] == '-'))
			p->pos++;
		if (p->pos >= p->len || p->s[p->pos] < '0' ||
		    p->s[p->pos] > '9')
			return TR_EJSON;
		while (p->pos < p->len && p->s[p->pos] >= '0' &&
		    p->s[p->pos] <= '9')
			p->pos++;
	}

	if (isint) {
		const unsigned char *dg = p->s + start + neg;
		uint64_t v = 0;

		/* 2^53-1 has 16 digits and there are no leading zeros. */
		if (ndigits > 16)
			return TR_ERANGE;
		for (size_t i = 0; i < ndigits; i++)
			v = v * 10 + (uint64_t)(dg[i] - '0');
		if (v > (uint64_t)TR_JSON_INT_MAX)
			return TR_ERANGE;
		*out = json_object_new_int64(neg ? -(int64_t)v : (int64_t)v);
		return *out == NULL ? TR_ENOMEM : 0;
	}

	toklen = p->pos - start;
	if (toklen >= sizeof(stackbuf) && (tok = malloc(toklen + 1)) == NULL)
		return TR_ENOMEM;
	memcpy(tok, p->s + start, toklen);
	tok[toklen] = '\0';
	d = jcs_strtod(tok, &end);
	if (end != tok + toklen) {
		rc = TR_EJSON;
		goto out;
	}
	if (isinf(d) || isnan(d)) {
		rc = TR_ERANGE;
		goto out;
	}
	if ((*out = json_object_new_double(d)) == NULL)
		rc = TR_ENOMEM;
out:
	if (tok != stackbuf)
		free(tok);
	return rc;
}

/* Match the literal WORD at the cursor. */
static int
jcs_parse_literal(struct jcs_parser *p, const char *word)
{
	size_t n = strlen(word);

	if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
		return TR_EJSON;
	p->pos += n;
	return 0;
}

/* Parse the object at the cursor (on its '{'). */
static int
jcs_parse_object(struct jcs_parser *p, json_object **out)
{
	json_object *obj, *val = NULL;
	int rc = 0;

	if ((obj = json_object_new_object()) == NULL)
		return TR_ENOMEM;
	p->pos++;
	jcs_skip_ws(p);
	if (p->pos < p->len && p->s[p->pos] == '}') {
		p->pos++;
		goto out;
	}
	for (;;) {
		char *key;

		jcs_skip_ws(p);
		if (p->pos >= p->len || p->s[p->pos] != '"') {
			rc = TR_EJSON;
			goto out;
		}
		if ((rc = jcs_parse_string(p)) != 0)
			goto out;
		/* json-c keys are C strings: a U+0000 would cut the name. */
		if (memchr(p->buf, '\0', p->buflen) != NULL) {
			rc = TR_EJSON;
			goto out;
		}
		if (json_object_object_get_ex(obj, p->buf, NULL)) {
			rc = TR_EDUPKEY;
			goto out;
		}
		if ((key = strdup(p->buf)) == NULL) {
			rc = TR_ENOMEM;
			goto out;
		}
		jcs_skip_ws(p);
		if (p->pos >= p->len || p->s[p->pos] != ':') {
			free(key);
			rc = TR_EJSON;
			goto out;
		}
		p->pos++;
		if ((rc = jcs_parse_value(p, &val)) != 0) {
			free(key);
			goto out;
		}
		rc = json_object_object_add_ex(obj, key, val,
		    JSON_C_OBJECT_ADD_KEY_IS_NEW);
		free(key);
		if (rc != 0) {
			json_object_put(val);
			rc = TR_ENOMEM;
			goto out;
		}
		jcs_skip_ws(p);
		if (p->pos >= p->len) {
			rc = TR_EJSON;
			goto out;
		}
		if (p->s[p->pos] == '}') {
			p->pos++;
			break;
		}
		if (p->s[p->pos] != ',') {
			rc = TR_EJSON;
			goto out;
		}
		p->pos++;
	}
out:
	if (rc != 0) {
		json_object_put(obj);
		obj = NULL;
	}
	*out = obj;
	return rc;
}

/* Parse the array at the cursor (on its '['). */
static int
jcs_parse_array(struct jcs_parser *p, json_object **out)
{
	json_object *arr, *val = NULL;
	int rc = 0;

	if ((arr = json_object_new_array()) == NULL)
		return TR_ENOMEM;
	p->pos++;
	jcs_skip_ws(p);
	if (p->pos < p->len && p->s[p->pos] == ']') {
		p->pos++;
		goto out;
	}
	for (;;) {
		if ((rc = jcs_parse_value(p, &val)) != 0)
			goto out;
		if (json_object_array_add(arr, val) != 0) {
			json_object_put(val);
			rc = TR_ENOMEM;
			goto out;
		}
		jcs_skip_ws(p);
		if (p->pos >= p->len) {
			rc = TR_EJSON;
			goto out;
		}
		if (p->s[p->pos] == ']') {
			p->pos++;
			break;
		}
		if (p->s[p->pos] != ',') {
			rc = TR_EJSON;
			goto out;
		}
		p->pos++;
	}
out:
	if (rc != 0) {
		json_object_put(arr);
		arr = NULL;
	}
	*out = arr;
	return rc;
}

/* Parse one value, with the whitespace before it, at the cursor. */
static int
jcs_parse_value(struct jcs_parser *p, json_object **out)
{
	int rc;

	*out = NULL;
	jcs_skip_ws(p);
	if (p->pos >= p->len)
		return TR_EJSON;
	switch (p->s[p->pos]) {
	case '{':
	case '[':
		if (p->depth >= JCS_MAX_DEPTH)
			return TR_EJSON;
		p->depth++;
		if (p->s[p->pos] == '{')
			rc = jcs_parse_object(p, out);
		else
			rc = jcs_parse_array(p, out);
		p->depth--;
		return rc;
	case '"':
		if ((rc = jcs_parse_string(p)) != 0)
			return rc;
		*out = json_object_new_string_len(p->buf, (int)p->buflen);
		return *out == NULL ? TR_ENOMEM : 0;
	case 't':
		if ((rc = jcs_parse_literal(p, "true")) != 0)
			return rc;
		*out = json_object_new_boolean(1);
		return *out == NULL ? TR_ENOMEM : 0;
	case 'f':
		if ((rc = jcs_parse_literal(p, "false")) != 0)
			return rc;
		*out = json_object_new_boolean(0);
		return *out == NULL ? TR_ENOMEM : 0;
	case 'n':
		/* json-c represents null as a NULL object. */
		return jcs_parse_literal(p, "null");
	default:
		return jcs_parse_number(p, out);
	}
}

/* Parse LEN bytes of JSON text into a new json-c value. */
int
jcs_parse(const char *text, size_t len, json_object **out)
{
	struct jcs_parser p;
	json_object *val = NULL;
	int rc;

	*out = NULL;
	if (text == NULL)
		return TR_EJSON;
	/* json_object_new_string_len takes an int length. */
	if (len > INT32_MAX)
		return TR_ETOOBIG;
	memset(&p, 0, sizeof(p));
	p.s = (const unsigned char *)text;
	p.len = len;
	if ((rc = jcs_parse_value(&p, &val)) != 0)
		goto out;
	jcs_skip_ws(&p);
	if (p.pos != p.len) {
		rc = TR_EJSON;
		goto out;
	}
	*out = val;
	val = NULL;
out:
	json_object_put(val);
	free(p.buf);
	return rc;
}

/* --- Serializer --- */

/* Append N bytes to the output. */
static int
jcs_out_add(struct jcs_out *o, const void *data, size_t n)
{
	if (o->cap - o->len < n + 1) {
		size_t cap = o->cap == 0 ? 512 : o->cap;
		char *np;

		while (cap - o->len < n + 1) {
			if (cap > SIZE_MAX / 2)
				return TR_ENOMEM;
			cap *= 2;
		}
		if ((np = realloc(o->p, cap)) == NULL)
			return TR_ENOMEM;
		o->p = np;
		o->cap = cap;
	}
	memcpy(o->p + o->len, data, n);
	o->len += n;
	o->p[o->len] = '\0';
	return 0;
}

/* Append the decimal form of I (within +-(2^53-1)). */
static int
jcs_out_int(struct jcs_out *o, int64_t i)
{
	char buf[24], *p = buf + sizeof(buf);
	uint64_t u = i < 0 ? (uint64_t)0 - (uint64_t)i : (uint64_t)i;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (i < 0)
		*--p = '-';
	return jcs_out_add(o, p, (size_t)(buf + sizeof(buf) - p));
}

/* Append a NUL-terminated string to the output. */
static int
jcs_out_str(struct jcs_out *o, const char *s)
{
	return jcs_out_add(o, s, strlen(s));
}

/* Append S (LEN bytes of UTF-8) as an RFC 8785 JSON string. */
static int
jcs_write_string(struct jcs_out *o, const char *s, size_t len)
{
	static const char hexd[] = "0123456789abcdef";
	size_t i, start;
	int rc;

	if (!jcs_utf8_valid(s, len))
		return TR_EJSON;
	if ((rc = jcs_out_add(o, "\"", 1)) != 0)
		return rc;
	for (i = start = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[7];
		size_t n = 2;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		if (i > start && (rc = jcs_out_add(o, s + start, i - start)) != 0)
			return rc;
		start = i + 1;
		esc[0] = '\\';
		switch (c) {
		case '"':
			esc[1] = '"';
			break;
		case '\\':
			esc[1] = '\\';
			break;
		case '\b':
			esc[1] = 'b';
			break;
		case '\t':
			esc[1] = 't';
			break;
		case '\n':
			esc[1] = 'n';
			break;
		case '\f':
			esc[1] = 'f';
			break;
		case '\r':
			esc[1] = 'r';
			break;
		default:
			memcpy(esc + 1, "u00", 3);
			esc[4] = hexd[c >> 4];
			esc[5] = hexd[c & 0x0f];
			n = 6;
			break;
		}
		if ((rc = jcs_out_add(o, esc, n)) != 0)
			return rc;
	}
	if (i > start && (rc = jcs_out_add(o, s + start, i - start)) != 0)
		return rc;
	return jcs_out_add(o, "\"", 1);
}

/* Cursor over the UTF-16 code units of a valid UTF-8 C string. */
struct jcs_u16 {
	const unsigned char *s;
	uint32_t pending;	/* low surrogate still to return, or 0 */
};

/* Next UTF-16 code unit of the string, or -1 at its end. */
static int32_t
jcs_u16_next(struct jcs_u16 *it)
{
	uint32_t cp;
	size_t n;

	if (it->pending != 0) {
		cp = it->pending;
		it->pending = 0;
		return (int32_t)cp;
	}
	if (*it->s == '\0')
		return -1;
	/* The keys were validated; a NUL ends the sequence in any case. */
	if ((n = jcs_utf8_decode(it->s, strnlen((const char *)it->s, 4),
	    &cp)) == 0) {
		cp = *it->s;
		n = 1;
	}
	it->s += n;
	if (cp < 0x10000)
		return (int32_t)cp;
	cp -= 0x10000;
	it->pending = 0xdc00 + (cp & 0x3ff);
	return (int32_t)(0xd800 + (cp >> 10));
}

/* Order of member names A and B by UTF-16 code units (RFC 8785 section 3.2.3). */
static int
jcs_key_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	struct jcs_u16 ia = { (const unsigned char *)a, 0 };
	struct jcs_u16 ib = { (const unsigned char *)b, 0 };
	size_t i, n = alen < blen ? alen : blen;

	/*
	 * UTF-8 byte order is code point order, which is UTF-16 order except
	 * between U+E000..U+FFFF and supplementary characters: when the first
	 * difference is between ASCII bytes (or one name is a prefix of the
	 * other), the bytes decide.
	 */
	for (i = 0; i < n && a[i] == b[i]; i++)
		;
	if (i == n)
		return alen < blen ? -1 : alen > blen;
	if ((unsigned char)a[i] < 0x80 && (unsigned char)b[i] < 0x80)
		return (unsigned char)a[i] < (unsigned char)b[i] ? -1 : 1;
	for (;;) {
		int32_t ca = jcs_u16_next(&ia), cb = jcs_u16_next(&ib);

		if (ca != cb)
			return ca < cb ? -1 : 1;
		if (ca < 0)
			return 0;
	}
}

/* One member of an object being written. */
struct jcs_member {
	const char *key;
	size_t klen;
	json_object *val;
};

/* Objects up to this many members are sorted on the stack. */
#define JCS_SMALL_OBJECT 16

/*
 * Append an object with its members sorted by UTF-16 code units, leaving
 * out the member named SKIP (NULL: none).
 */
static int
jcs_write_members(struct jcs_out *o, json_object *obj, int depth,
    const char *skip)
{
	struct jcs_member small[JCS_SMALL_OBJECT], *m = small, tmp;
	size_t n = 0, cnt;
	int rc = 0;

	cnt = (size_t)json_object_object_length(obj);
	if (cnt > JCS_SMALL_OBJECT && (m = calloc(cnt, sizeof(*m))) == NULL)
		return TR_ENOMEM;
	{
		json_object_object_foreach(obj, k, v) {
			size_t klen = strlen(k);

			if (skip != NULL && strcmp(k, skip) == 0)
				continue;
			if (n == cnt || !jcs_utf8_valid(k, klen)) {
				rc = TR_EJSON;
				goto out;
			}
			/* Insertion sort: objects are small, keys mostly ASCII. */
			tmp.key = k;
			tmp.klen = klen;
			tmp.val = v;
			{
				size_t j = n;

				while (j > 0 && jcs_key_cmp(m[j - 1].key,
				    m[j - 1].klen, k, klen) > 0) {
					m[j] = m[j - 1];
					j--;
				}
				m[j] = tmp;
			}
			n++;
		}
	}
	if ((rc = jcs_out_add(o, "{", 1)) != 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if ((i > 0 && (rc = jcs_out_add(o, ",", 1)) != 0) ||
		    (rc = jcs_write_string(o, m[i].key, m[i].klen)) != 0 ||
		    (rc = jcs_out_add(o, ":", 1)) != 0 ||
		    (rc = jcs_write_value(o, m[i].val, depth)) != 0)
			goto out;
	}
	rc = jcs_out_add(o, "}", 1);
out:
	if (m != small)
		free(m);
	return rc;
}

/* Append an object with its members sorted by UTF-16 code units. */
static int
jcs_write_object(struct jcs_out *o, json_object *obj, int depth)
{
	return jcs_write_members(o, obj, depth, NULL);
}

/* Append an array. */
static int
jcs_write_array(struct jcs_out *o, json_object *arr, int depth)
{
	size_t n = json_object_array_length(arr);
	int rc;

	if ((rc = jcs_out_add(o, "[", 1)) != 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		if ((i > 0 && (rc = jcs_out_add(o, ",", 1)) != 0) ||
		    (rc = jcs_write_value(o, json_object_array_get_idx(arr, i),
		    depth)) != 0)
			return rc;
	}
	return jcs_out_add(o, "]", 1);
}

/* Append one value in canonical form. */
static int
jcs_write_value(struct jcs_out *o, json_object *val, int depth)
{
	char num[32];
	int64_t i;
	int rc;

	switch (json_object_get_type(val)) {
	case json_type_null:
		return jcs_out_str(o, "null");
	case json_type_boolean:
		return jcs_out_str(o, json_object_get_boolean(val) ? "true" :
		    "false");
	case json_type_int:
		i = json_object_get_int64(val);
		if (i > TR_JSON_INT_MAX || i < -TR_JSON_INT_MAX)
			return TR_ERANGE;
		return jcs_out_int(o, i);
	case json_type_double:
		if ((rc = jcs_format_double(json_object_get_double(val), num,
		    sizeof(num))) != 0)
			return rc;
		return jcs_out_str(o, num);
	case json_type_string:
		return jcs_write_string(o, json_object_get_string(val),
		    (size_t)json_object_get_string_len(val));
	case json_type_object:
		if (depth >= JCS_MAX_DEPTH)
			return TR_EJSON;
		return jcs_write_object(o, val, depth + 1);
	case json_type_array:
		if (depth >= JCS_MAX_DEPTH)
			return TR_EJSON;
		return jcs_write_array(o, val, depth + 1);
	}
	return TR_EJSON;
}

/* Serialize VAL in the RFC 8785 canonical form into a malloc'd buffer. */
int
jcs_serialize(json_object *val, char **out, size_t *outlen)
{
	struct jcs_out o = { NULL, 0, 0 };
	int rc;

	*out = NULL;
	if (outlen != NULL)
		*outlen = 0;
	if ((rc = jcs_write_value(&o, val, 0)) != 0)
		goto out;
	*out = o.p;
	if (outlen != NULL)
		*outlen = o.len;
	o.p = NULL;
out:
	free(o.p);
	return rc;
}

/* Serialize the object OBJ without its member SKIP. */
int
jcs_serialize_without(json_object *obj, const char *skip, char **out,
    size_t *outlen)
{
	struct jcs_out o = { NULL, 0, 0 };
	int rc;

	*out = NULL;
	if (outlen != NULL)
		*outlen = 0;
	if (!json_object_is_type(obj, json_type_object))
		return TR_EINVAL;
	if ((rc = jcs_write_members(&o, obj, 1, skip)) != 0)
		goto out;
	*out = o.p;
	if (outlen != NULL)
		*outlen = o.len;
	o.p = NULL;
out:
	free(o.p);
	return rc;
}

/* --- Numbers --- */

/*
 * Split the "%.*e" form of a finite non-zero D with PREC significant
 * digits into DIGITS (NUL-terminated, no sign) and the decimal exponent.
 */
static void
jcs_ecvt(double d, int prec, char digits[20], int *exp10)
{
	char tmp[48], *p, *e;
	size_t n = 0;

	snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, fabs(d));
	e = strchr(tmp, 'e');
	/* Skip the decimal point, whatever the locale makes of it. */
	for (p = tmp; p != e && *p != '\0'; p++)
		if (*p >= '0' && *p <= '9' && n < 19)
			digits[n++] = *p;
	digits[n] = '\0';
	*exp10 = e != NULL ? atoi(e + 1) : 0;
}

/* Non-zero when DIGITS x 10^(EXP10 - ndigits + 1) reads back as |D|. */
static int
jcs_roundtrips(double d, const char *digits, int exp10)
{
	char tmp[48];

	snprintf(tmp, sizeof(tmp), "%c.%se%d", digits[0], digits + 1, exp10);
	return jcs_strtod(tmp, NULL) == fabs(d);
}

/* Step a digit string by +1 or -1 in its last place, keeping its length. */
static void
jcs_digits_step(char *digits, int *exp10, int step)
{
	size_t n = strlen(digits);
	size_t i;

	if (step > 0) {
		for (i = n; i-- > 0;) {
			if (digits[i] != '9') {
				digits[i]++;
				return;
			}
			digits[i] = '0';
		}
		/* 99..9 + 1 = 100..0 one decade up. */
		digits[0] = '1';
		(*exp10)++;
		return;
	}
	for (i = n; i-- > 0;) {
		if (digits[i] != '0') {
			digits[i]--;
			break;
		}
		digits[i] = '9';
	}
	if (digits[0] == '0') {
		/* 10..0 - 1 = 99..9 one decade down. */
		memset(digits, '9', n);
		(*exp10)--;
	}
}

/*
 * The PREC-digit value that reads back as D, nearest first, into DIGITS and
 * *EXP10; 0 when there is none.  The correctly rounded value can miss where
 * the rounding interval is lopsided (a power of two: no fraction bits), so
 * there its neighbours are tried too.
 */
static int
jcs_digits_at(double d, int prec, char digits[20], int *exp10)
{
	char cand[20];
	uint64_t bits;
	int ce;

	jcs_ecvt(d, prec, digits, exp10);
	if (jcs_roundtrips(d, digits, *exp10))
		return 1;
	memcpy(&bits, &d, sizeof(bits));
	if ((bits & 0x000fffffffffffffULL) != 0)
		return 0;
	for (int step = -1; step <= 1; step += 2) {
		memcpy(cand, digits, 20);
		ce = *exp10;
		jcs_digits_step(cand, &ce, step);
		if (jcs_roundtrips(d, cand, ce)) {
			memcpy(digits, cand, 20);
			*exp10 = ce;
			return 1;
		}
	}
	return 0;
}

/*
 * Shortest digits that read back as D (17 always do).  A precision that
 * works keeps working with more digits, so the search halves the range.
 */
static void
jcs_shortest(double d, char digits[20], int *exp10)
{
	int lo = 1, hi = 17;

	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;

		if (jcs_digits_at(d, mid, digits, exp10))
			hi = mid;
		else
			lo = mid + 1;
	}
	if (!jcs_digits_at(d, lo, digits, exp10))
		jcs_ecvt(d, 17, digits, exp10);
}

/* Write the ECMAScript Number::toString form of D into BUF. */
int
jcs_format_double(double d, char *buf, size_t len)
{
	char digits[20], tmp[40], *p = tmp;
	int k, n, exp10;

	if (isnan(d) || isinf(d))
		return TR_ERANGE;
	if (buf == NULL || len < 32)
		return TR_EINVAL;
	if (d == 0) {
		/* Both zeros are "0". */
		memcpy(buf, "0", 2);
		return 0;
	}
	jcs_shortest(d, digits, &exp10);
	k = (int)strlen(digits);
	while (k > 1 && digits[k - 1] == '0')
		digits[--k] = '\0';
	n = exp10 + 1;
	if (d < 0)
		*p++ = '-';
	if (k <= n && n <= 21) {
		/* Integer form: the digits and n - k zeros. */
		memcpy(p, digits, (size_t)k);
		p += k;
		memset(p, '0', (size_t)(n - k));
		p += n - k;
	} else if (0 < n && n <= 21) {
		memcpy(p, digits, (size_t)n);
		p += n;
		*p++ = '.';
		memcpy(p, digits + n, (size_t)(k - n));
		p += k - n;
	} else if (-6 < n && n <= 0) {
		*p++ = '0';
		*p++ = '.';
		memset(p, '0', (size_t)-n);
		p += -n;
		memcpy(p, digits, (size_t)k);
		p += k;
	} else {
		*p++ = digits[0];
		if (k > 1) {
			*p++ = '.';
			memcpy(p, digits + 1, (size_t)(k - 1));
			p += k - 1;
		}
		p += snprintf(p, sizeof(tmp) - (size_t)(p - tmp), "e%c%d",
		    n - 1 < 0 ? '-' : '+', abs(n - 1));
	}
	*p = '\0';
	memcpy(buf, tmp, (size_t)(p - tmp) + 1);
	return 0;
}
