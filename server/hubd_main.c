/* trosyn-hubd: command-line front of the Admin Hub daemon. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "hubd.h"
#include "trosyn-protocol.h"

#define PROG "trosyn-hubd"

enum {
	OPT_BIND = 256,
	OPT_PORT,
	OPT_FILE_PORT,
	OPT_DISCOVERY_PORT,
	OPT_MCAST_GROUP,
	OPT_MCAST_IF,
	OPT_WORKERS,
	OPT_TRANSFER_WORKERS,
	OPT_PIDFILE,
	OPT_USER,
	OPT_LOG_LEVEL,
	OPT_CHECK_CONFIG
};

/* Long options and the config key each one overrides (NULL: not a key). */
static const struct {
	struct option opt;
	const char *key;
} options[] = {
	{ { "config", required_argument, NULL, 'c' }, NULL },
	{ { "state-dir", required_argument, NULL, 'd' }, "state_dir" },
	{ { "foreground", no_argument, NULL, 'f' }, NULL },
	{ { "bind", required_argument, NULL, OPT_BIND }, "bind" },
	{ { "port", required_argument, NULL, OPT_PORT }, "port" },
	{ { "file-port", required_argument, NULL, OPT_FILE_PORT }, "file_port" },
	{ { "discovery-port", required_argument, NULL, OPT_DISCOVERY_PORT },
	    "discovery_port" },
	{ { "multicast-group", required_argument, NULL, OPT_MCAST_GROUP },
	    "multicast_group" },
	{ { "multicast-interface", required_argument, NULL, OPT_MCAST_IF },
	    "multicast_interface" },
	{ { "workers", required_argument, NULL, OPT_WORKERS }, "workers" },
	{ { "transfer-workers", required_argument, NULL, OPT_TRANSFER_WORKERS },
	    "transfer_workers" },
	{ { "pidfile", required_argument, NULL, OPT_PIDFILE }, "pidfile" },
	{ { "user", required_argument, NULL, OPT_USER }, "user" },
	{ { "log-level", required_argument, NULL, OPT_LOG_LEVEL }, "log_level" },
	{ { "check-config", no_argument, NULL, OPT_CHECK_CONFIG }, NULL },
	{ { "help", no_argument, NULL, 'h' }, NULL },
	{ { "version", no_argument, NULL, 'V' }, NULL },
};
#define NOPTIONS (sizeof(options) / sizeof(options[0]))

/* Print usage to F. */
static void
usage(FILE *f)
{
	fprintf(f,
"usage: " PROG " [-c FILE] [-d DIR] [-f] [--bind ADDR] [--port N] [--file-port N]\n"
"            [--discovery-port N] [--multicast-group ADDR] [--multicast-interface ADDR]\n"
"            [--workers N] [--transfer-workers N] [--pidfile FILE] [--user USER]\n"
"            [--log-level debug|info|warn|error] [--check-config]\n"
"\n"
"  -c, --config FILE        configuration file (default %s/trosyn/hubd.conf)\n"
"  -d, --state-dir DIR      state directory (default %s/lib/trosyn)\n"
"  -f, --foreground         stay in the foreground and log to stderr\n"
"      --check-config       validate the configuration and exit\n"
"  -h, --help               show this help and exit\n"
"  -V, --version            show the version and exit\n"
"Other flags override the configuration key of the same name (see trosyn.conf(5)).\n",
	    SYSCONFDIR, LOCALSTATEDIR);
}

int
main(int argc, char **argv)
{
	struct option longopts[NOPTIONS + 1];
	struct hubd_opts opts;
	char err[CONF_ERR_LEN + 128], cwd[4096], statedir[8200];
	int c, defaults_only, usage_error;
	struct conf conf;

	memset(&opts, 0, sizeof(opts));
	memset(longopts, 0, sizeof(longopts));
	for (size_t i = 0; i < NOPTIONS; i++)
		longopts[i] = options[i].opt;
	while ((c = getopt_long(argc, argv, "c:d:fhV", longopts, NULL)) != -1) {
		size_t i;

		switch (c) {
		case 'c':
			opts.config = optarg;
			continue;
		case 'f':
			opts.foreground = 1;
			continue;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf(PROG " " PACKAGE_VERSION " (protocol "
			    TR_PROTO_VERSION ")\n");
			return 0;
		case OPT_CHECK_CONFIG:
			opts.check_only = 1;
			continue;
		case '?':
			usage(stderr);
			return 2;
		}
		for (i = 0; i < NOPTIONS; i++)
			if (options[i].opt.val == c && options[i].key != NULL)
				break;
		if (i == NOPTIONS || opts.noverrides == HUBD_MAX_OVERRIDES) {
			usage(stderr);
			return 2;
		}
		opts.keys[opts.noverrides] = options[i].key;
		opts.values[opts.noverrides] = optarg;
		/* The daemon works from /: make a relative state dir absolute. */
		if (c == 'd' && optarg[0] != '/' && getcwd(cwd, sizeof(cwd)) !=
		    NULL && snprintf(statedir, sizeof(statedir), "%s/%s", cwd,
		    optarg) < (int)sizeof(statedir))
			opts.values[opts.noverrides] = statedir;
		opts.flags[opts.noverrides] = options[i].opt.name;
		opts.noverrides++;
	}
	if (optind != argc) {
		fprintf(stderr, PROG ": unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (hubd_load_conf(&opts, &conf, &defaults_only, &usage_error, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, PROG ": %s%s\n", usage_error ? "--" : "", err);
		return usage_error ? 2 : 1;
	}
	if (opts.check_only) {
		if (defaults_only)
			printf("%s: not found; embedded defaults: "
			    "configuration OK\n", hubd_default_config());
		else
			printf("%s: configuration OK\n", opts.config != NULL ?
			    opts.config : hubd_default_config());
		conf_free(&conf);
		return 0;
	}
	return hubd_run(&opts, &conf);
}
