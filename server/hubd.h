/* trosyn-hubd start-up, signal handling, reload and shutdown. */
#ifndef TROSYN_HUBD_H
#define TROSYN_HUBD_H

#include "conf.h"

#define HUBD_MAX_OVERRIDES 32

/* What the command line asked for. */
struct hubd_opts {
	const char *config;		/* -c, NULL = default path */
	int foreground;			/* -f */
	int check_only;			/* --check-config */
	/* flags that override config keys, applied after every (re)load */
	const char *keys[HUBD_MAX_OVERRIDES];
	const char *values[HUBD_MAX_OVERRIDES];
	const char *flags[HUBD_MAX_OVERRIDES];	/* for messages: "--port" */
	int noverrides;
};

/* Default configuration file path. */
const char *hubd_default_config(void);

/*
 * Load the configuration for OPTS into CONF: defaults, the file (a missing
 * default file means the embedded defaults, *DEFAULTS_ONLY set), then the
 * command-line overrides, then cross-key validation.  Returns 0, TR_ECONF
 * or TR_ENOTFOUND with "what failed: why" in ERR; *USAGE is set when a flag
 * value was the problem (exit status 2).
 */
int hubd_load_conf(const struct hubd_opts *opts, struct conf *conf,
    int *defaults_only, int *usage, char *err, size_t errlen);

/*
 * Run the hub with CONF (taken over) until SIGTERM or SIGINT: state dir,
 * keys, listeners, privilege drop, daemonizing, pidfile, threads, then
 * signals.  Returns the process exit status.
 */
int hubd_run(const struct hubd_opts *opts, struct conf *conf);

#endif /* TROSYN_HUBD_H */
