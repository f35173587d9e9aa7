/* Replays a fuzz target's seed corpus (tests/fuzz/corpus/NAME) without libFuzzer. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

/* Feed one file to the target; returns 0 or -1 when it cannot be read. */
static int
replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	long len;
	int rc = -1;

	if (f == NULL)
		return -1;
	if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0)
		goto out;
	/* An exact-size heap copy, so ASan sees any read past the input. */
	if ((buf = malloc(len > 0 ? (size_t)len : 1)) == NULL)
		goto out;
	if (len > 0 && fread(buf, 1, (size_t)len, f) != (size_t)len)
		goto out;
	LLVMFuzzerTestOneInput(buf, (size_t)len);
	rc = 0;
out:
	free(buf);
	fclose(f);
	return rc;
}

/* Compare two directory entry names for a stable order. */
static int
name_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* Replay every file of the corpus directory named on the command line or by FUZZ_NAME. */
int
main(int argc, char **argv)
{
	const char *top = getenv("top_srcdir");
	struct dirent **ents;
	char dir[4096], path[8192];
	int n, done = 0, failed = 0;

	if (argc > 1)
		snprintf(dir, sizeof(dir), "%s", argv[1]);
	else
		snprintf(dir, sizeof(dir), "%s/tests/fuzz/corpus/%s",
		    top != NULL && *top != '\0' ? top : ".", FUZZ_NAME);
	n = scandir(dir, &ents, NULL, name_cmp);
	if (n < 0) {
		fprintf(stderr, "replay_%s: %s: %s\n", FUZZ_NAME, dir,
		    strerror(errno));
		return 1;
	}
	for (int i = 0; i < n; i++) {
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", dir, ents[i]->d_name);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			if (replay_file(path) != 0) {
				fprintf(stderr, "replay_%s: cannot read %s\n",
				    FUZZ_NAME, path);
				failed++;
			} else
				done++;
		}
		free(ents[i]);
	}
	free(ents);
	if (done == 0) {
		fprintf(stderr, "replay_%s: no inputs in %s\n", FUZZ_NAME, dir);
		return 1;
	}
	printf("%s: %d inputs replayed\n", FUZZ_NAME, done);
	return failed == 0 ? 0 : 1;
}
