/* Shared helpers of the Check unit tests: vectors, hex, temp dirs, runner. */
#ifndef TROSYN_TESTUTIL_H
#define TROSYN_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

#include <check.h>
#include <json-c/json.h>

/* Path of REL under $top_srcdir (malloc'd). */
char *tu_srcpath(const char *rel);

/* tests/data/protocol-vectors.json, loaded once (borrowed; lives until exit). */
json_object *tu_vectors(void);

/* The value at a dotted PATH of the vectors ("inputs.site_key"); fails the test when absent. */
json_object *tu_vec(const char *path);

/* The string at a dotted PATH of the vectors. */
const char *tu_vec_str(const char *path);

/* Decode exactly N bytes of hex into OUT; fails the test on a bad string. */
void tu_unhex(const char *hex, uint8_t *out, size_t n);

/* Decode hex of any even length into a malloc'd buffer; returns its length. */
size_t tu_unhex_alloc(const char *hex, uint8_t **out);

/* Make a fresh private temp directory (malloc'd path). */
char *tu_tmpdir(void);

/* Remove a directory tree made by tu_tmpdir. */
void tu_rmtree(const char *path);

/* Write LEN bytes to PATH (mode 0600); fails the test on error. */
void tu_write_file(const char *path, const void *data, size_t len);

/* Run suite S with one runner; returns the process exit code (0 when all pass). */
int tu_run(Suite *s);

#endif /* TROSYN_TESTUTIL_H */
