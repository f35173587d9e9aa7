/* Lowercase hex encoding and strict decoding. */
#include "config.h"

#include "err.h"
#include "hex.h"

static const char hex_digits[] = "0123456789abcdef";

/* Value of one lowercase hex digit, or -1. */
static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Write 2*LEN lowercase hex digits and a NUL to OUT. */
void
hex_encode(const uint8_t *in, size_t len, char *out)
{
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = hex_digits[in[i] >> 4];
		out[2 * i + 1] = hex_digits[in[i] & 0x0f];
	}
	out[2 * len] = '\0';
}

/* Decode exactly 2*OUTLEN lowercase hex digits. */
int
hex_decode(const char *in, size_t inlen, uint8_t *out, size_t outlen)
{
	if (in == NULL || inlen != 2 * outlen)
		return TR_EINVAL;
	for (size_t i = 0; i < outlen; i++) {
		int hi = hex_value(in[2 * i]), lo = hex_value(in[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return TR_EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* Non-zero when S is exactly 2*NBYTES lowercase hex digits. */
int
hex_valid(const char *s, size_t len, size_t nbytes)
{
	if (s == NULL || len != 2 * nbytes)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (hex_value(s[i]) < 0)
			return 0;
	return 1;
}
