/* Shared helpers of the Check unit tests. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "hex.h"

/* Path of REL under $top_srcdir. */
char *
tu_srcpath(const char *rel)
{
	const char *top = getenv("top_srcdir");
	char *p;

	if (top == NULL || *top == '\0')
		top = ".";
	ck_assert_int_ne(asprintf(&p, "%s/%s", top, rel), -1);
	return p;
}

/* The known-answer vectors, loaded once. */
json_object *
tu_vectors(void)
{
	static json_object *vec;
	char *path;

	if (vec != NULL)
		return vec;
	path = tu_srcpath("tests/data/protocol-vectors.json");
	vec = json_object_from_file(path);
	ck_assert_msg(vec != NULL, "cannot load %s", path);
	free(path);
	return vec;
}

/* The value at a dotted path of the vectors. */
json_object *
tu_vec(const char *path)
{
	json_object *cur = tu_vectors(), *next;
	char *copy = strdup(path), *save = NULL, *tok;

	ck_assert_ptr_nonnull(copy);
	for (tok = strtok_r(copy, ".", &save); tok != NULL;
	    tok = strtok_r(NULL, ".", &save)) {
		ck_assert_msg(json_object_object_get_ex(cur, tok, &next),
		    "vector %s: no member %s", path, tok);
		cur = next;
	}
	free(copy);
	return cur;
}

/* The string at a dotted path of the vectors. */
const char *
tu_vec_str(const char *path)
{
	json_object *v = tu_vec(path);

	ck_assert_msg(json_object_is_type(v, json_type_string),
	    "vector %s is not a string", path);
	return json_object_get_string(v);
}

/* Decode exactly N bytes of hex into OUT. */
void
tu_unhex(const char *hex, uint8_t *out, size_t n)
{
	ck_assert_msg(hex_decode(hex, strlen(hex), out, n) == 0,
	    "bad test hex (%zu bytes wanted): %s", n, hex);
}

/* Decode hex of any even length into a malloc'd buffer. */
size_t
tu_unhex_alloc(const char *hex, uint8_t **out)
{
	size_t n = strlen(hex) / 2;

	*out = malloc(n + 1);
	ck_assert_ptr_nonnull(*out);
	tu_unhex(hex, *out, n);
	return n;
}

/* Make a fresh private temp directory. */
char *
tu_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *p;

	if (base == NULL || *base == '\0')
		base = "/tmp";
	ck_assert_int_ne(asprintf(&p, "%s/trosyn-test.XXXXXX", base), -1);
	ck_assert_msg(mkdtemp(p) != NULL, "mkdtemp: %s", strerror(errno));
	return p;
}

/* Remove one entry of a tree walk. */
static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Remove a directory tree made by tu_tmpdir. */
void
tu_rmtree(const char *path)
{
	if (path != NULL && strncmp(path, "/", 1) == 0 &&
	    strstr(path, "trosyn-test.") != NULL)
		nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Write LEN bytes to PATH. */
void
tu_write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	close(fd);
}

/* Run suite S; returns the exit code. */
int
tu_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
