/*
 * confcheck: load a configuration file as the hub or the client does, for
 * the tests of the sample files.
 *
 *   confcheck hub|client FILE            defaults, then FILE, then the
 *                                        cross-key checks; exit 0 or 1
 *   confcheck --default hub|client FILE  also exit 3 when FILE changes any
 *                                        top-level setting from its default
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "conf.h"

/* Print usage and return the usage status. */
static int
usage(void)
{
	fprintf(stderr, "usage: confcheck [--default] hub|client FILE\n");
	return 2;
}

int
main(int argc, char **argv)
{
	char err[CONF_ERR_LEN];
	struct conf def, c;
	enum conf_kind kind;
	int same_as_default = 0, i = 1, differs;

	if (argc > 1 && strcmp(argv[1], "--default") == 0) {
		same_as_default = 1;
		i++;
	}
	if (argc - i != 2)
		return usage();
	if (strcmp(argv[i], "hub") == 0)
		kind = CONF_HUB;
	else if (strcmp(argv[i], "client") == 0)
		kind = CONF_CLIENT;
	else
		return usage();
	conf_defaults(&def, kind);
	conf_defaults(&c, kind);
	if (conf_load(&c, argv[i + 1], err, sizeof(err)) != 0 ||
	    conf_validate(&c, err, sizeof(err)) != 0) {
		fprintf(stderr, "confcheck: %s\n", err);
		return 1;
	}
	if (!same_as_default) {
		printf("%s: OK\n", argv[i + 1]);
		conf_free(&c);
		return 0;
	}
	/*
	 * Both copies start from the same memset and defaults, and a setting
	 * equal to its default writes the same bytes: any difference is a
	 * changed setting.  The sections are not compared.
	 */
	conf_free(&c);
	c.collections = NULL;
	c.ncollections = 0;
	differs = memcmp(&def, &c, sizeof(c)) != 0;
	printf("%s: %s\n", argv[i + 1], differs ? "differs from the defaults" :
	    "defaults");
	return differs ? 3 : 0;
}
