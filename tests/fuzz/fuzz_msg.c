/* Fuzz target: strict envelope parsing, verification and canonical encoding. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The site_key of protocol-vectors.json, so the seeds' signatures verify. */
static const uint8_t fuzz_key[TR_KEY_LEN] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
	0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
	0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
	0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f
};

/* Parse DATA as an envelope; verify, read and re-encode what comes back. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_object *env = NULL, *again = NULL;
	char *text = NULL;
	size_t len = 0;
	int64_t ms;
	int rc, vrc, rc2;

	rc = msg_parse((const char *)data, size, &env);
	if (env == NULL) {
		/* Only a refused envelope with a message_id comes back. */
		if (rc == 0 || rc == TR_EVERSION)
			abort();
		goto out;
	}
	if (rc != 0 && rc != TR_EINVAL && rc != TR_EVERSION)
		abort();
	if (msg_id(env) == NULL || !msg_valid_uuid(msg_id(env)))
		abort();
	vrc = msg_verify(env, fuzz_key, sizeof(fuzz_key));
	if (vrc == TR_ENOMEM)
		goto out;
	if (vrc != 0 && vrc != TR_ESIG)
		abort();
	(void)msg_type(env);
	(void)msg_source_id(env);
	(void)msg_in_reply_to(env);
	(void)msg_payload(env);
	(void)msg_timestamp(env, &ms);
	if ((rc2 = msg_encode(env, &text, &len)) != 0) {
		if (rc2 == TR_ENOMEM)
			goto out;
		abort();
	}
	if (rc != 0)
		goto out;
	/* A valid envelope stays valid, and keeps its signature, re-encoded. */
	rc2 = msg_parse(text, len, &again);
	if (rc2 == TR_ERANGE || rc2 == TR_ENOMEM)
		goto out;	/* a big double in integer form, see fuzz_jcs.c */
	if (rc2 != 0 || msg_verify(again, fuzz_key, sizeof(fuzz_key)) != vrc)
		abort();
out:
	free(text);
	json_object_put(env);
	json_object_put(again);
	return 0;
}
