/* Fuzz target: a configuration file parsed as the hub's and as the client's. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Parse DATA for one KIND; a failed load must leave the defaults untouched. */
static void
fuzz_conf_kind(enum conf_kind kind, const char *text, size_t size)
{
	struct conf c, before, copy;
	char err[CONF_ERR_LEN];
	int rc;

	conf_defaults(&c, kind);
	memcpy(&before, &c, sizeof(c));
	err[0] = '\0';
	rc = conf_load_buffer(&c, text, size, "fuzz.conf", err, sizeof(err));
	if (rc != 0) {
		if (rc != TR_ECONF && rc != TR_ENOMEM)
			abort();
		if (strncmp(err, "fuzz.conf:", 10) != 0 ||
		    memcmp(&c, &before, sizeof(c)) != 0)
			abort();
		return;
	}
	for (size_t i = 0; i < c.ncollections; i++) {
		const struct conf_collection *col = &c.collections[i];

		if (conf_collection(&c, col->name) != col ||
		    col->nread > CONF_MAX_ROLES || col->nwrite > CONF_MAX_ROLES)
			abort();
	}
	(void)conf_validate(&c, err, sizeof(err));
	if (conf_copy(&copy, &c) == 0)
		conf_free(&copy);
	conf_free(&c);
}

/* Load the input for the hub and for the client. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_conf_kind(CONF_HUB, (const char *)data, size);
	fuzz_conf_kind(CONF_CLIENT, (const char *)data, size);
	return 0;
}
