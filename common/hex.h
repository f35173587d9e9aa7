/* Lowercase hex encoding and strict decoding of binary protocol values. */
#ifndef TROSYN_HEX_H
#define TROSYN_HEX_H

#include <stddef.h>
#include <stdint.h>

/* Write 2*LEN lowercase hex digits and a NUL to OUT (2*LEN+1 bytes). */
void hex_encode(const uint8_t *in, size_t len, char *out);

/*
 * Decode exactly 2*OUTLEN lowercase hex digits from IN (INLEN bytes) into
 * OUT.  Uppercase digits, odd or wrong lengths and any other character are
 * TR_EINVAL; OUT is unspecified then.  Returns 0 or TR_EINVAL.
 */
int hex_decode(const char *in, size_t inlen, uint8_t *out, size_t outlen);

/* Non-zero when S (LEN bytes) is exactly 2*NBYTES lowercase hex digits. */
int hex_valid(const char *s, size_t len, size_t nbytes);

#endif /* TROSYN_HEX_H */
