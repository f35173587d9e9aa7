/* Fuzz target: strict JSON parsing, and the canonical form as a fixed point. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "jcs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Parse DATA; what parses must serialize, re-parse and serialize to the same bytes. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_object *val = NULL, *again = NULL;
	char *canon = NULL, *canon2 = NULL;
	size_t len = 0, len2 = 0;
	int rc;

	if (jcs_parse((const char *)data, size, &val) != 0)
		goto out;
	/* Whatever jcs_parse accepts has a canonical form. */
	if ((rc = jcs_serialize(val, &canon, &len)) != 0) {
		if (rc == TR_ENOMEM)
			goto out;
		abort();
	}
	if (canon == NULL || strlen(canon) != len)
		abort();
	rc = jcs_parse(canon, len, &again);
	/*
	 * The one canonical form jcs_parse refuses: a double of 2^53 or more
	 * below 1e21 is written without exponent (1e20 becomes
	 * 100000000000000000000), which reads as an out-of-range integer.
	 */
	if (rc == TR_ERANGE || rc == TR_ENOMEM)
		goto out;
	if (rc != 0)
		abort();
	if ((rc = jcs_serialize(again, &canon2, &len2)) != 0) {
		if (rc == TR_ENOMEM)
			goto out;
		abort();
	}
	if (len2 != len || memcmp(canon, canon2, len) != 0)
		abort();
out:
	free(canon);
	free(canon2);
	json_object_put(val);
	json_object_put(again);
	return 0;
}
