/* trosyn-client: the command-line front of libtrosyn (CLI.md). */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cli.h"
#include "conf.h"
#include "err.h"
#include "jcs.h"
#include "log.h"
#include "thr.h"
#include "trosyn-protocol.h"
#include "trosyn.h"

#define PROG		"trosyn-client"
#define CLI_DATA_MAX	(64 * 1024 * 1024)	/* largest --data-file */
#define CLI_HOST_MAX	255
#define CLI_BAR_WIDTH	30

#define CLI_MAX_SETS	32	/* configuration settings given as flags */

enum {
	OPT_HUB = 256,
	OPT_TIMEOUT,
	OPT_FILE_PORT,
	OPT_DISCOVERY_PORT,
	OPT_MCAST_GROUP,
	OPT_MCAST_IF,
	OPT_DISCOVERY_TIMEOUT,
	OPT_BROADCAST,
	OPT_FILES_DIR
};

#define CLI_REDRAW_MS	100	/* a byte progress bar redraws at most this often */

/* A global flag that stands for a configuration key. */
struct cli_set {
	const char *flag;
	const char *key;
	const char *value;
};

/* Global options. */
struct cli {
	const char *config;		/* -c FILE, or NULL */
	const char *creds;
	const char *state_dir;
	struct conf conf;		/* defaults, overridden by flags */
	struct cli_set sets[CLI_MAX_SETS];
	int nsets;
	int has_hub;
	char host[CLI_HOST_MAX + 1];
	uint16_t port;
	int timeout;
	int verbose;
	int tty;			/* stdout is a terminal: show progress */
	int progress_shown;
	int bar_shown;			/* a byte progress bar is on stderr */
	long long bar_start_ms;		/* when the transfer's first report came */
	long long bar_last_ms;		/* the last redraw */
	int64_t bar_start_done;		/* bytes held when it started (a resume) */
	int file_port_flag;		/* --file-port given */
	trosyn *t;
};

/* Print one error line "trosyn-client: WHAT: WHY". */
static void
cli_err(const char *what, const char *why)
{
	fprintf(stderr, PROG ": %s: %s\n", what, why);
}

/* Print usage to F. */
static void
cli_usage(FILE *f)
{
	fprintf(f,
"usage: " PROG " [-c FILE] -k CREDENTIALS -s STATE_DIR [--hub HOST[:PORT]]\n"
"                     [--timeout SEC]"
 " [--discovery-port N] [--multicast-group ADDR]\n"
"                     [--multicast-interface ADDR] [--broadcast ADDR]\n"
"                     [--discovery-timeout SEC] [--file-port N]\n"
"                     [--files-dir DIR] [-v] COMMAND [ARGS]\n"
"  discover [--json]\n"
"  sync [--pull | --push] [--collection NAME]...\n"
"  list COLLECTION [--json] [--all]\n"
"  get COLLECTION ID\n"
"  put COLLECTION ID (--data JSON | --data-file FILE) [--file PATH]\n"
"  delete COLLECTION ID\n"
"  status [--json]\n"
"  run [--interval SEC]\n"
"  fetch SHA256 --output PATH\n"
"  upload PATH\n"
"\n"
"  -c, --config FILE           client configuration file (trosyn.conf(5));\n"
"                              the options override it\n"
"  -k, --credentials FILE      credentials file from trosyn-admin enroll\n"
"                              (default: credentials of the file)\n"
"  -s, --state-dir DIR         replica directory (created with mode 0700)\n"
"                              (default: state_dir of the file)\n"
"      --hub HOST[:PORT]       the hub's address (default port %d); without it\n"
"                              the hub is discovered\n"
"      --timeout SEC           network timeout (default 30)\n"
"      --discovery-port N      UDP port of discovery (default %d)\n"
"      --multicast-group ADDR  discovery group (default %s)\n"
"      --multicast-interface ADDR\n"
"                              address of the interface multicast leaves by\n"
"                              (default 0.0.0.0: the kernel's choice)\n"
"      --broadcast ADDR        also send discovery to ADDR (255.255.255.255 or\n"
"                              a hub's address)\n"
"      --discovery-timeout SEC wait for answers per attempt (default %d)\n"
"      --file-port N           the hub's file transfer port (default: the one\n"
"                              discovery reports, else %d)\n"
"      --files-dir DIR         sync and run fetch the files of records here\n"
"                              (default: files_dir of the file; none: no files)\n"
"  -v, --verbose               log protocol events to stderr\n"
"  -h, --help                  show this help and exit\n"
"  -V, --version               show the version and exit\n",
	    TR_DEF_PORT, TR_DEF_DISCOVERY_PORT, TR_DEF_MCAST_GROUP,
	    TR_DEF_DISCOVERY_TIMEOUT, TR_DEF_FILE_PORT);
}

/* Report a usage error: one line, then the usage; returns 2. */
static int
cli_usage_err(const char *what, const char *why)
{
	cli_err(what, why);
	cli_usage(stderr);
	return 2;
}

/* Parse a decimal integer S in MIN..MAX into *OUT; -1 when it is not one. */
static int
cli_number(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* Parse HOST[:PORT] (an IPv6 address as [ADDR]:PORT or bare) into C; -1 on error. */
static int
cli_parse_hub(struct cli *c, const char *s)
{
	const char *host = s, *port = NULL, *end;
	size_t len;
	long v;

	if (*s == '[') {
		if ((end = strchr(s, ']')) == NULL)
			return -1;
		host = s + 1;
		len = (size_t)(end - host);
		if (end[1] == ':')
			port = end + 2;
		else if (end[1] != '\0')
			return -1;
	} else if ((end = strchr(s, ':')) != NULL &&
	    strchr(end + 1, ':') == NULL) {
		len = (size_t)(end - s);
		port = end + 1;
	} else
		len = strlen(s);
	if (len == 0 || len > CLI_HOST_MAX)
		return -1;
	memcpy(c->host, host, len);
	c->host[len] = '\0';
	c->port = c->conf.port;
	if (port != NULL) {
		if (cli_number(port, 1, 65535, &v) != 0)
			return -1;
		c->port = (uint16_t)v;
	}
	c->has_hub = 1;
	return 0;
}

/* Hand the discovery settings of the configuration to T; UNICAST (may be NULL) asks that host alone. */
static int
cli_discovery(struct cli *c, trosyn *t, const char *unicast)
{
	struct trosyn_discovery d;

	memset(&d, 0, sizeof(d));
	d.port = c->conf.discovery_port;
	d.group = c->conf.multicast_group;
	d.interface = c->conf.multicast_interface;
	d.ttl = c->conf.multicast_ttl;
	d.broadcast = c->conf.broadcast[0] != '\0' ? c->conf.broadcast : NULL;
	d.unicast = unicast;
	d.timeout_ms = c->conf.discovery_timeout * 1000;
	d.max_clock_skew_s = c->conf.max_clock_skew;
	return trosyn_set_discovery(t, &d);
}

/* Open the node from the global options; prints the error. */
static int
cli_open(struct cli *c, const char *cmd)
{
	struct trosyn_options o;
	char err[1024];
	int rc;

	if (c->creds == NULL || c->state_dir == NULL)
		return cli_usage_err(cmd, "-k CREDENTIALS and -s STATE_DIR "
		    "are required (or credentials and state_dir in -c FILE)");
	memset(&o, 0, sizeof(o));
	o.credentials = c->creds;
	o.state_dir = c->state_dir;
	o.hub_host = c->has_hub ? c->host : NULL;
	o.hub_port = c->port;
	o.timeout_s = c->timeout;
	if ((rc = trosyn_open(&o, &c->t, err, sizeof(err))) != 0) {
		cli_err("open", err[0] != '\0' ? err : trosyn_strerror(rc));
		return 1;
	}
	if (cli_discovery(c, c->t, NULL) != 0 ||
	    trosyn_set_files_dir(c->t, c->conf.files_dir[0] != '\0' ?
	    c->conf.files_dir : NULL) != 0) {
		cli_err("open", trosyn_last_error(c->t));
		return 1;
	}
	/* A port set by flag or file wins over discovery's. */
	if (c->file_port_flag || c->conf.file_port != TR_DEF_FILE_PORT)
		trosyn_set_file_port(c->t, c->conf.file_port);
	return 0;
}

/* Print the JSON text TEXT pretty, as trosyn-admin prints its --json output. */
static int
cli_print_json(const char *what, const char *text)
{
	json_object *o = NULL;
	const char *s;

	if (jcs_parse(text, strlen(text), &o) != 0 || (s =
	    json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
	    JSON_C_TO_STRING_NOSLASHESCAPE)) == NULL) {
		json_object_put(o);
		cli_err(what, "cannot format the answer");
		return 1;
	}
	printf("%s\n", s);
	json_object_put(o);
	return 0;
}

/* Start the getopt_long scan of a command's ARGV over again. */
static void
cli_getopt_reset(void)
{
	optind = 0;
	opterr = 0;
}

/* The usage error of an option getopt refused in a command's ARGV. */
static int
cli_bad_option(const char *cmd, char **argv)
{
	char why[160];

	snprintf(why, sizeof(why), "unknown option or missing argument: %s",
	    argv[optind - 1]);
	return cli_usage_err(cmd, why);
}

/* A byte count in human units into BUF. */
static void
cli_bytes(double v, char *buf, size_t len)
{
	static const char *units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
}

/* A transfer's progress bar on stderr: bytes, rate, ETA; at most every CLI_REDRAW_MS. */
static void
cli_bar(struct cli *c, const char *what, int64_t done, int64_t total)
{
	char bar[CLI_BAR_WIDTH + 1], sdone[32], stotal[32], srate[32], eta[32];
	long long now = thr_mono_ms(), secs;
	double rate = 0;
	int fill;

	if (!c->bar_shown && c->bar_start_ms == 0) {
		c->bar_start_ms = now;
		c->bar_start_done = done;
	}
	if (done < total && c->bar_last_ms != 0 &&
	    now - c->bar_last_ms < CLI_REDRAW_MS)
		return;
	c->bar_last_ms = now;
	if (now > c->bar_start_ms)
		rate = (double)(done - c->bar_start_done) * 1000.0 /
		    (double)(now - c->bar_start_ms);
	fill = total > 0 ? (int)(done * CLI_BAR_WIDTH / total) :
	    CLI_BAR_WIDTH;
	memset(bar, '#', (size_t)fill);
	memset(bar + fill, ' ', (size_t)(CLI_BAR_WIDTH - fill));
	bar[CLI_BAR_WIDTH] = '\0';
	cli_bytes((double)done, sdone, sizeof(sdone));
	cli_bytes((double)total, stotal, sizeof(stotal));
	cli_bytes(rate, srate, sizeof(srate));
	if (rate > 0 && done < total) {
		secs = (long long)((double)(total - done) / rate) + 1;
		snprintf(eta, sizeof(eta), "ETA %lld:%02lld", secs / 60,
		    secs % 60);
	} else
		snprintf(eta, sizeof(eta), "%s", done >= total ? "done" :
		    "ETA --:--");
	fprintf(stderr, "\r\033[K%s [%s] %s / %s  %s/s  %s", what, bar, sdone,
	    stotal, srate, eta);
	fflush(stderr);
	c->bar_shown = 1;
}

/* Progress on a terminal: a byte bar for a transfer, a bar for a push, a count for a pull. */
static void
cli_progress(void *arg, const char *direction, int64_t done, int64_t total)
{
	struct cli *c = arg;
	char bar[CLI_BAR_WIDTH + 1];

	if (!c->tty)
		return;
	if (strcmp(direction, "fetch") == 0 ||
	    strcmp(direction, "upload") == 0) {
		cli_bar(c, direction, done, total);
		return;
	}
	if (total > 0) {
		int fill = (int)(done * CLI_BAR_WIDTH / total);

		memset(bar, '#', (size_t)fill);
		memset(bar + fill, ' ', (size_t)(CLI_BAR_WIDTH - fill));
		bar[CLI_BAR_WIDTH] = '\0';
		printf("\r%s [%s] %lld/%lld", direction, bar, (long long)done,
		    (long long)total);
	} else
		printf("\r%s: %lld records", direction, (long long)done);
	fflush(stdout);
	c->progress_shown = 1;
}

/* Clear a progress line before a summary. */
static void
cli_progress_end(struct cli *c)
{
	if (c->tty && c->progress_shown) {
		printf("\r\033[K");
		fflush(stdout);
	}
	if (c->bar_shown) {
		fprintf(stderr, "\r\033[K");
		fflush(stderr);
	}
	c->progress_shown = 0;
	c->bar_shown = 0;
	c->bar_start_ms = 0;
	c->bar_last_ms = 0;
}

/* "s" when N is not 1. */
static const char *
cli_plural(int64_t n)
{
	return n == 1 ? "" : "s";
}

/* Run a push and print its summary; *REFUSED says the hub refused it (the link itself worked). */
static int
cli_do_push(struct cli *c, int *refused)
{
	struct trosyn_sync_result r;
	int rc;

	rc = trosyn_push(c->t, &r);
	cli_progress_end(c);
	*refused = rc == TROSYN_EACCES;
	if (rc != 0) {
		cli_err("sync", trosyn_last_error(c->t));
		return 1;
	}
	if (r.records == 0 && r.rejected == 0)
		printf("push: nothing to push\n");
	else
		printf("push: %lld record%s in %lld batch%s: %lld applied, "
		    "%lld conflict%s, %lld rejected\n", (long long)r.records,
		    cli_plural(r.records), (long long)r.batches,
		    r.batches == 1 ? "" : "es", (long long)r.applied,
		    (long long)r.conflicts, cli_plural(r.conflicts),
		    (long long)r.rejected);
	return 0;
}

/* Run a pull and print its summary. */
static int
cli_do_pull(struct cli *c, const char *const *cols, size_t n)
{
	struct trosyn_sync_result r;
	int rc;

	rc = trosyn_pull(c->t, cols, n, &r);
	cli_progress_end(c);
	if (rc != 0) {
		cli_err("sync", trosyn_last_error(c->t));
		return 1;
	}
	printf("pull: %lld record%s in %lld batch%s, cursor %lld%s\n",
	    (long long)r.records, cli_plural(r.records), (long long)r.batches,
	    r.batches == 1 ? "" : "es", (long long)r.cursor,
	    r.reset ? " (replaced the local copy)" : "");
	return 0;
}

/* Fetch the files of the replica's records into the files dir and print a summary. */
static int
cli_do_files(struct cli *c)
{
	struct trosyn_files_result r;
	int rc;

	rc = trosyn_fetch_files(c->t, &r);
	cli_progress_end(c);
	printf("files: %lld fetched, %lld present, %lld refused, %lld "
	    "failed\n", (long long)r.fetched, (long long)r.present,
	    (long long)r.refused, (long long)r.failed);
	if (rc != 0) {
		cli_err("sync", trosyn_last_error(c->t));
		return 1;
	}
	return 0;
}

/* sync [--pull | --push] [--collection NAME]... */
static int
cli_sync(struct cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "pull", no_argument, NULL, 'p' },
		{ "push", no_argument, NULL, 'P' },
		{ "collection", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 }
	};
	const char **cols;
	size_t n = 0;
	int pull = 0, push = 0, refused = 0, ch, status;

	if ((cols = calloc((size_t)argc, sizeof(*cols))) == NULL) {
		cli_err("sync", strerror(ENOMEM));
		return 1;
	}
	cli_getopt_reset();
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			pull = 1;
			break;
		case 'P':
			push = 1;
			break;
		case 'c':
			cols[n++] = optarg;
			break;
		default:
			status = cli_bad_option("sync", argv);
			goto out;
		}
	}
	status = 2;
	if (optind != argc) {
		cli_usage_err("sync", "unexpected argument");
		goto out;
	}
	if (pull && push) {
		cli_usage_err("sync", "--pull and --push exclude each other");
		goto out;
	}
	if (push && n > 0) {
		cli_usage_err("sync", "--collection applies to pulls only");
		goto out;
	}
	if (c->creds == NULL || c->state_dir == NULL) {
		cli_usage_err("sync", "-k CREDENTIALS and -s STATE_DIR are "
		    "required (or credentials and state_dir in -c FILE)");
		goto out;
	}
	if ((status = cli_open(c, "sync")) != 0)
		goto out;
	trosyn_set_progress(c->t, cli_progress, c);
	/* A push the hub refused does not keep the pull from running. */
	if (!pull && (status = cli_do_push(c, &refused)) != 0 && !refused)
		goto out;
	if (!push && cli_do_pull(c, cols, n) != 0)
		status = 1;
	else if (!push && c->conf.files_dir[0] != '\0' &&
	    cli_do_files(c) != 0)
		status = 1;
out:
	free(cols);
	return status;
}

/* Parse a command's only flags (--json, and --all when ALL is not NULL) and NPOS positionals. */
static int
cli_simple_args(const char *cmd, int argc, char **argv, int npos, int *json,
    int *all)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "all", no_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 }
	};
	int ch;

	cli_getopt_reset();
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (ch == 'j' && json != NULL)
			*json = 1;
		else if (ch == 'a' && all != NULL)
			*all = 1;
		else if (ch == 'j' || ch == 'a')
			return cli_usage_err(cmd, "option not accepted here");
		else
			return cli_bad_option(cmd, argv);
	}
	if (argc - optind != npos)
		return cli_usage_err(cmd, npos == 0 ? "unexpected argument" :
		    "wrong number of arguments");
	return 0;
}

/* Print one record of a plain listing. */
static void
cli_list_line(json_object *rec)
{
	json_object *v;
	const char *data = "null";

	if (json_object_object_get_ex(rec, "data", &v) && v != NULL)
		data = json_object_to_json_string_ext(v,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	printf("%s\t%lld\t%s\t%s\t%s\n",
	    json_object_get_string(json_object_object_get(rec, "id")),
	    (long long)json_object_get_int64(json_object_object_get(rec,
	    "version")),
	    json_object_get_string(json_object_object_get(rec, "modified_at")),
	    json_object_get_boolean(json_object_object_get(rec, "deleted")) ?
	    "deleted" : json_object_get_boolean(json_object_object_get(rec,
	    "pending")) ? "pending" : "synced", data);
}

/* list COLLECTION [--json] [--all] */
static int
cli_list(struct cli *c, int argc, char **argv)
{
	json_object *arr = NULL;
	char *text = NULL;
	int json = 0, all = 0, status;
	unsigned flags;

	if ((status = cli_simple_args("list", argc, argv, 1, &json,
	    &all)) != 0)
		return status;
	if ((status = cli_open(c, "list")) != 0)
		return status;
	flags = (all ? TROSYN_LIST_DELETED : 0) |
	    (json ? 0 : TROSYN_LIST_PENDING);
	if (trosyn_list_flags(c->t, argv[optind], flags, &text) != 0) {
		cli_err("list", trosyn_last_error(c->t));
		return 1;
	}
	if (json)
		status = cli_print_json("list", text);
	else if (jcs_parse(text, strlen(text), &arr) != 0) {
		cli_err("list", "cannot format the answer");
		status = 1;
	} else
		for (size_t i = 0; i < json_object_array_length(arr); i++)
			cli_list_line(json_object_array_get_idx(arr, i));
	json_object_put(arr);
	trosyn_free(text);
	return status;
}

/* get COLLECTION ID */
static int
cli_get(struct cli *c, int argc, char **argv)
{
	char *text = NULL;
	int status;

	if ((status = cli_simple_args("get", argc, argv, 2, NULL, NULL)) != 0)
		return status;
	if ((status = cli_open(c, "get")) != 0)
		return status;
	if (trosyn_get(c->t, argv[optind], argv[optind + 1], &text) != 0) {
		cli_err("get", trosyn_last_error(c->t));
		return 1;
	}
	status = cli_print_json("get", text);
	trosyn_free(text);
	return status;
}

/* Read the file PATH ("-" for stdin) into a malloc'd, NUL-terminated buffer. */
static int
cli_read_file(const char *path, char **out)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "re");
	size_t len = 0, cap = 0, got;
	char *buf = NULL, *grown;
	int rc = 0;

	*out = NULL;
	if (f == NULL) {
		cli_err(path, strerror(errno));
		return 1;
	}
	do {
		if (cap - len < 4096) {
			cap = cap == 0 ? 8192 : cap * 2;
			if (cap > CLI_DATA_MAX + 1 ||
			    (grown = realloc(buf, cap)) == NULL) {
				cli_err(path, cap > CLI_DATA_MAX + 1 ?
				    "file too large" : strerror(ENOMEM));
				rc = 1;
				goto out;
			}
			buf = grown;
		}
		got = fread(buf + len, 1, cap - len - 1, f);
		len += got;
	} while (got > 0);
	if (ferror(f)) {
		cli_err(path, strerror(errno));
		rc = 1;
		goto out;
	}
	if (memchr(buf, '\0', len) != NULL) {
		cli_err(path, "the data contains a NUL byte");
		rc = 1;
		goto out;
	}
	buf[len] = '\0';
	*out = buf;
	buf = NULL;
out:
	free(buf);
	if (f != stdin)
		fclose(f);
	return rc;
}

/* put COLLECTION ID (--data JSON | --data-file FILE) [--file PATH] */
static int
cli_put(struct cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "data-file", required_argument, NULL, 'D' },
		{ "file", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 }
	};
	const char *data = NULL, *data_file = NULL, *file = NULL;
	char *buf = NULL;
	int ch, status;

	cli_getopt_reset();
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			data = optarg;
			break;
		case 'D':
			data_file = optarg;
			break;
		case 'f':
			file = optarg;
			break;
		default:
			return cli_bad_option("put", argv);
		}
	}
	if (argc - optind != 2)
		return cli_usage_err("put", "wrong number of arguments");
	if ((data == NULL) == (data_file == NULL))
		return cli_usage_err("put", "give one of --data and "
		    "--data-file");
	if ((status = cli_open(c, "put")) != 0)
		return status;
	if (data_file != NULL) {
		if (cli_read_file(data_file, &buf) != 0)
			return 1;
		data = buf;
	}
	if (file != NULL)
		trosyn_set_progress(c->t, cli_progress, c);
	if ((file != NULL ? trosyn_put_file(c->t, argv[optind],
	    argv[optind + 1], data, file) : trosyn_put(c->t, argv[optind],
	    argv[optind + 1], data)) != 0) {
		cli_progress_end(c);
		cli_err("put", trosyn_last_error(c->t));
		status = 1;
	}
	cli_progress_end(c);
	free(buf);
	return status;
}

/* delete COLLECTION ID */
static int
cli_delete(struct cli *c, int argc, char **argv)
{
	int status;

	if ((status = cli_simple_args("delete", argc, argv, 2, NULL,
	    NULL)) != 0)
		return status;
	if ((status = cli_open(c, "delete")) != 0)
		return status;
	if (trosyn_delete(c->t, argv[optind], argv[optind + 1]) != 0) {
		cli_err("delete", trosyn_last_error(c->t));
		return 1;
	}
	return 0;
}

/* A string member of O, or DEF when absent or null. */
static const char *
cli_member_str(json_object *o, const char *key, const char *def)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return def;
	return json_object_get_string(v);
}

/* status [--json] */
static int
cli_status(struct cli *c, int argc, char **argv)
{
	json_object *o = NULL, *cursors;
	char *text = NULL;
	int json = 0, status;

	if ((status = cli_simple_args("status", argc, argv, 0, &json,
	    NULL)) != 0)
		return status;
	if ((status = cli_open(c, "status")) != 0)
		return status;
	if (trosyn_status(c->t, &text) != 0) {
		cli_err("status", trosyn_last_error(c->t));
		return 1;
	}
	if (json)
		status = cli_print_json("status", text);
	else if (jcs_parse(text, strlen(text), &o) != 0) {
		cli_err("status", "cannot format the answer");
		status = 1;
	} else {
		printf("node:       %s\n", cli_member_str(o, "node_id", "?"));
		printf("hub:        %s\n", cli_member_str(o, "hub", "none"));
		printf("pending:    %s\n", cli_member_str(o, "pending", "0"));
		cursors = json_object_object_get(o, "cursors");
		if (cursors == NULL || json_object_object_length(cursors) == 0)
			printf("cursor:     none (never pulled)\n");
		else {
			json_object_object_foreach(cursors, set, v)
				printf("cursor:     %s %s\n",
				    strcmp(set, "*") == 0 ?
				    "(all collections)" : set,
				    json_object_get_string(v));
		}
		printf("last sync:  %s\n", cli_member_str(o, "last_sync",
		    "never"));
		printf("last error: %s\n", cli_member_str(o, "last_error",
		    "none"));
	}
	json_object_put(o);
	trosyn_free(text);
	return status;
}

/* The hubs as the JSON array of discover --json. */
static json_object *
cli_hubs_json(const struct trosyn_hub *hubs, size_t n)
{
	json_object *arr = json_object_new_array(), *o;

	for (size_t i = 0; arr != NULL && i < n; i++) {
		if ((o = json_object_new_object()) == NULL ||
		    json_object_array_add(arr, o) != 0) {
			json_object_put(o);
			json_object_put(arr);
			return NULL;
		}
		json_object_object_add(o, "hub_id",
		    json_object_new_string(hubs[i].hub_id));
		json_object_object_add(o, "address",
		    json_object_new_string(hubs[i].address));
		json_object_object_add(o, "port",
		    json_object_new_int(hubs[i].port));
		json_object_object_add(o, "file_port",
		    json_object_new_int(hubs[i].file_port));
		json_object_object_add(o, "load",
		    json_object_new_int(hubs[i].load));
		json_object_object_add(o, "cert_sha256",
		    json_object_new_string(hubs[i].cert_sha256));
		json_object_object_add(o, "pinned",
		    json_object_new_boolean(hubs[i].pinned));
	}
	return arr;
}

/* discover [--json] */
static int
cli_discover(struct cli *c, int argc, char **argv)
{
	struct trosyn_hub *hubs = NULL;
	json_object *arr;
	size_t n = 0;
	int json = 0, status;

	if ((status = cli_simple_args("discover", argc, argv, 0, &json,
	    NULL)) != 0)
		return status;
	if ((status = cli_open(c, "discover")) != 0)
		return status;
	/* --hub HOST: ask that host alone, by unicast. */
	if (c->has_hub && cli_discovery(c, c->t, c->host) != 0) {
		cli_err("discover", trosyn_last_error(c->t));
		return 1;
	}
	if (trosyn_discover(c->t, &hubs, &n) != 0) {
		fprintf(stderr, PROG ": %s\n", trosyn_last_error(c->t));
		return 1;
	}
	if (json) {
		if ((arr = cli_hubs_json(hubs, n)) == NULL) {
			cli_err("discover", strerror(ENOMEM));
			status = 1;
		} else {
			printf("%s\n", json_object_to_json_string_ext(arr,
			    JSON_C_TO_STRING_PRETTY |
			    JSON_C_TO_STRING_NOSLASHESCAPE));
			json_object_put(arr);
		}
	} else
		for (size_t i = 0; i < n; i++)
			printf("%s\t%s:%u\tfile_port %u\tload %d\t%s\n",
			    hubs[i].hub_id, hubs[i].address,
			    (unsigned)hubs[i].port,
			    (unsigned)hubs[i].file_port, hubs[i].load,
			    hubs[i].pinned ? "pinned" : "not-pinned");
	trosyn_free(hubs);
	return status;
}

/* Non-zero when S is 64 lowercase hex digits. */
static int
cli_is_sha256(const char *s)
{
	size_t n = strlen(s);

	if (n != 64)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* fetch SHA256 --output PATH */
static int
cli_fetch(struct cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 }
	};
	const char *output = NULL;
	int ch, status;

	cli_getopt_reset();
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (ch != 'o')
			return cli_bad_option("fetch", argv);
		output = optarg;
	}
	if (argc - optind != 1)
		return cli_usage_err("fetch", "wrong number of arguments");
	if (output == NULL || *output == '\0')
		return cli_usage_err("fetch", "--output PATH is required");
	if (!cli_is_sha256(argv[optind]))
		return cli_usage_err("fetch", "SHA256 must be 64 lowercase hex "
		    "digits");
	if ((status = cli_open(c, "fetch")) != 0)
		return status;
	trosyn_set_progress(c->t, cli_progress, c);
	if (trosyn_fetch(c->t, argv[optind], output) != 0) {
		cli_progress_end(c);
		cli_err("fetch", trosyn_last_error(c->t));
		return 1;
	}
	cli_progress_end(c);
	return 0;
}

/* upload PATH */
static int
cli_upload(struct cli *c, int argc, char **argv)
{
	char sha[65];
	int status;

	if ((status = cli_simple_args("upload", argc, argv, 1, NULL,
	    NULL)) != 0)
		return status;
	if ((status = cli_open(c, "upload")) != 0)
		return status;
	trosyn_set_progress(c->t, cli_progress, c);
	if (trosyn_upload(c->t, argv[optind], sha) != 0) {
		cli_progress_end(c);
		cli_err("upload", trosyn_last_error(c->t));
		return 1;
	}
	cli_progress_end(c);
	printf("%s\n", sha);
	return 0;
}

/* What the signal thread of run needs. */
struct cli_sig {
	trosyn *t;
	sigset_t set;
	int done;			/* atomic: run returned, just leave */
};

/* The signal thread of run: the first SIGTERM or SIGINT stops the loop. */
static void *
cli_sigwait(void *arg)
{
	struct cli_sig *cs = arg;
	int sig = 0;

	while (sigwait(&cs->set, &sig) != 0)
		;
	if (!__atomic_load_n(&cs->done, __ATOMIC_ACQUIRE)) {
		log_info("%s: stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
		trosyn_stop(cs->t);
	}
	return NULL;
}

/* run [--interval SEC] */
static int
cli_run(struct cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "interval", required_argument, NULL, 'i' },
		{ NULL, 0, NULL, 0 }
	};
	struct trosyn_run_options o;
	struct cli_sig cs;
	pthread_t th;
	long v;
	int ch, status;

	memset(&o, 0, sizeof(o));
	o.sync_interval_s = c->conf.sync_interval;
	cli_getopt_reset();
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (ch != 'i')
			return cli_bad_option("run", argv);
		if (cli_number(optarg, 1, 86400, &v) != 0)
			return cli_usage_err("run", "--interval: expected 1-86400 "
			    "seconds");
		o.sync_interval_s = (int)v;
	}
	if (optind != argc)
		return cli_usage_err("run", "unexpected argument");
	/* Only the signal thread sees SIGTERM and SIGINT (STYLE.md 11). */
	memset(&cs, 0, sizeof(cs));
	sigemptyset(&cs.set);
	sigaddset(&cs.set, SIGTERM);
	sigaddset(&cs.set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &cs.set, NULL);
	if ((status = cli_open(c, "run")) != 0)
		return status;
	cs.t = c->t;
	if (pthread_create(&th, NULL, cli_sigwait, &cs) != 0) {
		cli_err("run", "cannot start the signal thread");
		return 1;
	}
	log_info("running: sync every %d s%s", o.sync_interval_s,
	    c->has_hub ? "" : ", hub by discovery");
	if (trosyn_run(c->t, &o) != 0) {
		cli_err("run", trosyn_last_error(c->t));
		status = 1;
	}
	/* Wake the signal thread if no signal came. */
	__atomic_store_n(&cs.done, 1, __ATOMIC_RELEASE);
	pthread_kill(th, SIGTERM);
	pthread_join(th, NULL);
	return status;
}

/* The commands and their handlers. */
static const struct {
	const char *name;
	int (*fn)(struct cli *, int, char **);
} cli_cmds[] = {
	{ "sync", cli_sync },
	{ "list", cli_list },
	{ "get", cli_get },
	{ "put", cli_put },
	{ "delete", cli_delete },
	{ "status", cli_status },
	{ "discover", cli_discover },
	{ "fetch", cli_fetch },
	{ "upload", cli_upload },
	{ "run", cli_run },
};

/* Remember a flag that stands for configuration KEY; -1 when there are too many. */
static int
cli_add_set(struct cli *c, const char *flag, const char *key,
    const char *value)
{
	if (c->nsets >= CLI_MAX_SETS)
		return -1;
	c->sets[c->nsets].flag = flag;
	c->sets[c->nsets].key = key;
	c->sets[c->nsets].value = value;
	c->nsets++;
	return 0;
}

/* Read the configuration file, apply the flags over it and derive the settings; 1 or 2 on error. */
static int
cli_settle(struct cli *c)
{
	char err[CONF_ERR_LEN], why[CONF_ERR_LEN + 32];
	const char *colon;

	if (c->config != NULL &&
	    conf_load(&c->conf, c->config, err, sizeof(err)) != 0) {
		cli_err("config", err);
		return 1;
	}

	for (int i = 0; i < c->nsets; i++) {
		if (conf_set(&c->conf, c->sets[i].key, c->sets[i].value, err,
		    sizeof(err)) != 0) {
			/* ERR is "KEY: what"; the flag names it already. */
			colon = strstr(err, ": ");
			snprintf(why, sizeof(why), "%s",
			    colon != NULL ? colon + 2 : err);
			return cli_usage_err(c->sets[i].flag, why);
		}
	}
	if (c->conf.hub[0] != '\0' && cli_parse_hub(c, c->conf.hub) != 0)
		return cli_usage_err("hub", "expected HOST[:PORT]");
	c->timeout = c->conf.timeout;
	if (c->creds == NULL && c->conf.credentials[0] != '\0')
		c->creds = c->conf.credentials;
	if (c->state_dir == NULL && c->conf.state_dir[0] != '\0')
		c->state_dir = c->conf.state_dir;
	/* -v wins; else the file's level; else warnings and errors. */
	if (c->verbose > 0)
		log_set_level(LOG_LEVEL_DEBUG);
	else if (c->config != NULL)
		log_set_level(c->conf.log_level);
	return 0;
}

/* Run trosyn-client. */
int
cli_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "credentials", required_argument, NULL, 'k' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "hub", required_argument, NULL, OPT_HUB },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "file-port", required_argument, NULL, OPT_FILE_PORT },
		{ "discovery-port", required_argument, NULL,
		    OPT_DISCOVERY_PORT },
		{ "multicast-group", required_argument, NULL, OPT_MCAST_GROUP },
		{ "multicast-interface", required_argument, NULL,
		    OPT_MCAST_IF },
		{ "broadcast", required_argument, NULL, OPT_BROADCAST },
		{ "discovery-timeout", required_argument, NULL,
		    OPT_DISCOVERY_TIMEOUT },
		{ "files-dir", required_argument, NULL, OPT_FILES_DIR },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	static const struct {
		int opt;
		const char *flag;
		const char *key;
	} keyed[] = {
		{ OPT_HUB, "--hub", "hub" },
		{ OPT_TIMEOUT, "--timeout", "timeout" },
		{ OPT_FILE_PORT, "--file-port", "file_port" },
		{ OPT_DISCOVERY_PORT, "--discovery-port", "discovery_port" },
		{ OPT_MCAST_GROUP, "--multicast-group", "multicast_group" },
		{ OPT_MCAST_IF, "--multicast-interface",
		    "multicast_interface" },
		{ OPT_BROADCAST, "--broadcast", "broadcast" },
		{ OPT_DISCOVERY_TIMEOUT, "--discovery-timeout",
		    "discovery_timeout" },
		{ OPT_FILES_DIR, "--files-dir", "files_dir" },
	};
	struct cli c;
	size_t k;
	int ch, status;

	memset(&c, 0, sizeof(c));
	conf_defaults(&c.conf, CONF_CLIENT);
	signal(SIGPIPE, SIG_IGN);
	c.tty = isatty(STDOUT_FILENO);
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+c:k:s:vhV", longopts,
	    NULL)) != -1) {
		for (k = 0; k < sizeof(keyed) / sizeof(keyed[0]); k++)
			if (keyed[k].opt == ch)
				break;
		if (k < sizeof(keyed) / sizeof(keyed[0])) {
			if (ch == OPT_FILE_PORT)
				c.file_port_flag = 1;
			if (cli_add_set(&c, keyed[k].flag, keyed[k].key,
			    optarg) != 0)
				return cli_usage_err(keyed[k].flag,
				    "too many options");
			continue;
		}
		switch (ch) {
		case 'c':
			c.config = optarg;
			break;
		case 'k':
			c.creds = optarg;
			break;
		case 's':
			c.state_dir = optarg;
			break;
		case 'v':
			c.verbose++;
			break;
		case 'h':
			cli_usage(stdout);
			return 0;
		case 'V':
			printf(PROG " " PACKAGE_VERSION " (protocol "
			    TR_PROTO_VERSION ")\n");
			return 0;
		default:
			return cli_usage_err(argv[optind - 1],
			    "unknown option or missing argument");
		}
	}
	log_init(PROG, c.verbose > 0 ? LOG_LEVEL_DEBUG : LOG_LEVEL_WARN, 0);
	if ((status = cli_settle(&c)) != 0)
		goto out;
	if (optind >= argc) {
		status = cli_usage_err("command", "missing");
		goto out;
	}
	for (size_t i = 0; i < sizeof(cli_cmds) / sizeof(cli_cmds[0]); i++) {
		if (strcmp(argv[optind], cli_cmds[i].name) != 0)
			continue;
		status = cli_cmds[i].fn(&c, argc - optind, argv + optind);
		trosyn_close(c.t);
		goto out;
	}
	status = cli_usage_err(argv[optind], "unknown command");
out:
	conf_free(&c.conf);
	return status;
}
