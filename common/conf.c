/* Configuration files: a keyword table, range-checked values and [collection NAME] sections. */
#include "config.h"

#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "err.h"
#include "log.h"
#include "trosyn-protocol.h"

/*
 * Syntax, one item per line: blank lines; "# comment"; "key = value" (the
 * spaces are optional, a '#' after a space or tab starts a comment);
 * "[collection NAME]" opening a section that holds only read, write and
 * conflict.  A line is at most CONF_LINE_MAX bytes; a NUL or another control
 * character than a tab (or a CR ending the line) is an error.  Sections are
 * a hub setting: the client refuses them like any hub-only key.
 */
#define CONF_LINE_MAX	4096
#define CONF_FILE_MAX	(1024 * 1024)
#define CONF_DUR_MAX	(3650LL * 86400)

enum conf_type {
	CT_NUM,		/* decimal integer within min..max */
	CT_POW2,	/* as CT_NUM, and a power of two */
	CT_DURATION,	/* N or N with s, m, h or d; stored in seconds */
	CT_LOGLEVEL,	/* debug, info, warn or error */
	CT_MCAST,	/* IPv4 multicast address */
	CT_IPV4,	/* IPv4 address */
	CT_ADDR,	/* IPv4 or IPv6 address */
	CT_ABSPATH,	/* absolute path */
	CT_PATH,	/* any non-empty path */
	CT_USER,	/* user name: [a-z_][a-z0-9_-]*, 1-32 chars */
	CT_HOSTPORT	/* HOST, HOST:PORT, [IPV6] or [IPV6]:PORT */
};

/*
 * One key: where it is stored and which program accepts it.  Numbers go to
 * uint16_t (size 2), int or uint32_t (size 4; every such range stays
 * within INT32_MAX, so both read back the same) or int64_t (size 8).
 */
struct conf_keyword {
	const char *name;
	enum conf_type type;
	size_t off;
	size_t size;
	int64_t min;
	int64_t max;
	int mask;
};

#define CONF_BOTH	(CONF_HUB | CONF_CLIENT)
#define K(name, type, field, min, max, mask) \
	{ name, type, offsetof(struct conf, field), \
	    sizeof(((struct conf *)0)->field), min, max, mask }

static const struct conf_keyword conf_keywords[] = {
	K("port", CT_NUM, port, 1, 65535, CONF_BOTH),
	K("file_port", CT_NUM, file_port, 1, 65535, CONF_BOTH),
	K("discovery_port", CT_NUM, discovery_port, 1, 65535, CONF_BOTH),
	K("multicast_group", CT_MCAST, multicast_group, 0, 0, CONF_BOTH),
	K("multicast_interface", CT_IPV4, multicast_interface, 0, 0,
	    CONF_BOTH),
	K("multicast_ttl", CT_NUM, multicast_ttl, 1, 255, CONF_BOTH),
	K("bind", CT_ADDR, bind, 0, 0, CONF_HUB),
	K("metrics_port", CT_NUM, metrics_port, 0, 65535, CONF_HUB),
	K("metrics_bind", CT_ADDR, metrics_bind, 0, 0, CONF_HUB),
	K("workers", CT_NUM, workers, 1, 1024, CONF_HUB),
	K("transfer_workers", CT_NUM, transfer_workers, 1, 1024, CONF_HUB),
	K("queue_depth", CT_NUM, queue_depth, 1, 65536, CONF_HUB),
	K("max_message_size", CT_NUM, max_message_size, 4096, 268435456,
	    CONF_BOTH),
	K("max_clock_skew", CT_NUM, max_clock_skew, 1, 86400, CONF_BOTH),
	K("heartbeat_interval", CT_NUM, heartbeat_interval, 1, 3600, CONF_HUB),
	K("session_lifetime", CT_NUM, session_lifetime, 1, 2592000, CONF_HUB),
	K("rotate_every", CT_NUM, rotate_every, 1, 2147483647, CONF_HUB),
	K("chunk_size", CT_POW2, chunk_size, TR_MIN_CHUNK_SIZE,
	    TR_MAX_CHUNK_SIZE, CONF_BOTH),
	K("max_file_size", CT_NUM, max_file_size, 1, TR_JSON_INT_MAX, CONF_HUB),
	K("batch_size", CT_NUM, batch_size, 1, 100000, CONF_BOTH),
	K("max_batch", CT_NUM, max_batch, 1, 100000, CONF_HUB),
	K("journal_retain", CT_DURATION, journal_retain, 1, CONF_DUR_MAX,
	    CONF_HUB),
	K("auth_timeout", CT_NUM, auth_timeout, 1, 3600, CONF_HUB),
	K("idle_timeout", CT_NUM, idle_timeout, 1, 86400, CONF_HUB),
	K("max_auth_failures", CT_NUM, max_auth_failures, 1, 1000000, CONF_HUB),
	K("discovery_timeout", CT_NUM, discovery_timeout, 1, 60, CONF_BOTH),
	K("transfer_rate_limit", CT_NUM, transfer_rate_limit, 0,
	    TR_JSON_INT_MAX, CONF_BOTH),
	K("log_level", CT_LOGLEVEL, log_level, 0, 0, CONF_BOTH),
	K("pidfile", CT_ABSPATH, pidfile, 0, 0, CONF_HUB),
	K("state_dir", CT_ABSPATH, state_dir, 0, 0, CONF_BOTH),
	K("user", CT_USER, user, 0, 0, CONF_HUB),
	K("hub", CT_HOSTPORT, hub, 0, 0, CONF_CLIENT),
	K("credentials", CT_PATH, credentials, 0, 0, CONF_CLIENT),
	K("files_dir", CT_PATH, files_dir, 0, 0, CONF_CLIENT),
	K("sync_interval", CT_NUM, sync_interval, 1, 86400, CONF_CLIENT),
	K("broadcast", CT_IPV4, broadcast, 0, 0, CONF_CLIENT),
	K("timeout", CT_NUM, timeout, 1, 3600, CONF_CLIENT),
};

#define CONF_NKEYWORDS	(sizeof(conf_keywords) / sizeof(conf_keywords[0]))

/* Keys of a [collection NAME] section, in the order of the per-section seen[] array. */
static const char *const conf_section_keys[] = { "read", "write", "conflict" };
#define CONF_NSECTION_KEYS	3

static const char *const conf_policy_names[] = {
	[CONF_HUB_WINS] = "hub-wins",
	[CONF_LAST_WRITER_WINS] = "last-writer-wins",
	[CONF_KEEP_BOTH] = "keep-both"
};

/* State of one file being parsed. */
struct conf_parse {
	struct conf *conf;		/* the working copy */
	const char *name;		/* file name for messages */
	int line;
	int seen[CONF_NKEYWORDS];	/* line of each top-level key, 0 = not yet */
	int *secline;			/* line of each collection's header, 0 = earlier */
	struct conf_collection *sec;	/* the open section, or NULL */
	int sec_seen[CONF_NSECTION_KEYS];
};

/* Format a message into MSG (may be NULL). */
static void __attribute__((format(printf, 3, 4)))
conf_msg(char *msg, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (msg == NULL || len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, len, fmt, ap);
	va_end(ap);
}

/* Name of the program a kind stands for, in messages. */
static const char *
conf_kind_name(int kind)
{
	return kind == CONF_HUB ? "hub" : "client";
}

/* Fill CONF with the defaults of KIND. */
void
conf_defaults(struct conf *conf, enum conf_kind kind)
{
	memset(conf, 0, sizeof(*conf));
	conf->kind = kind;
	snprintf(conf->bind, sizeof(conf->bind), "0.0.0.0");
	conf->port = TR_DEF_PORT;
	conf->file_port = TR_DEF_FILE_PORT;
	conf->discovery_port = TR_DEF_DISCOVERY_PORT;
	snprintf(conf->multicast_group, sizeof(conf->multicast_group), "%s",
	    TR_DEF_MCAST_GROUP);
	snprintf(conf->multicast_interface, sizeof(conf->multicast_interface),
	    "0.0.0.0");
	conf->multicast_ttl = TR_DEF_MCAST_TTL;
	conf->metrics_port = 0;
	snprintf(conf->metrics_bind, sizeof(conf->metrics_bind), "127.0.0.1");
	conf->workers = TR_DEF_WORKERS;
	conf->transfer_workers = TR_DEF_TRANSFER_WORKERS;
	conf->queue_depth = TR_DEF_QUEUE_DEPTH;
	conf->max_message_size = TR_DEF_MAX_MESSAGE;
	conf->max_clock_skew = TR_DEF_CLOCK_SKEW;
	conf->heartbeat_interval = TR_DEF_HEARTBEAT;
	conf->session_lifetime = TR_DEF_SESSION_LIFE;
	conf->rotate_every = TR_DEF_ROTATE_EVERY;
	conf->chunk_size = TR_DEF_CHUNK_SIZE;
	conf->max_file_size = TR_DEF_MAX_FILE;
	conf->batch_size = TR_DEF_BATCH_SIZE;
	conf->max_batch = TR_DEF_MAX_BATCH;
	conf->journal_retain = TR_DEF_JOURNAL_RETAIN;
	conf->auth_timeout = TR_DEF_AUTH_TIMEOUT;
	conf->idle_timeout = TR_DEF_IDLE_TIMEOUT;
	conf->max_auth_failures = TR_DEF_AUTH_FAILURES;
	conf->discovery_timeout = TR_DEF_DISCOVERY_TIMEOUT;
	conf->transfer_rate_limit = 0;
	conf->log_level = LOG_LEVEL_INFO;
	conf->sync_interval = 60;
	conf->timeout = 30;
	conf->collections = NULL;
	conf->ncollections = 0;
}

/* The top-level keyword NAME, or NULL. */
static const struct conf_keyword *
conf_keyword(const char *name)
{
	for (size_t i = 0; i < CONF_NKEYWORDS; i++)
		if (strcmp(conf_keywords[i].name, name) == 0)
			return &conf_keywords[i];
	return NULL;
}

/* Index of a section key, or -1. */
static int
conf_section_key(const char *name)
{
	for (int i = 0; i < CONF_NSECTION_KEYS; i++)
		if (strcmp(conf_section_keys[i], name) == 0)
			return i;
	return -1;
}

/*
 * Parse a decimal integer that fills all of S: an optional '-' and digits,
 * no space, no '+', no trailing junk.  *END gets what follows the digits
 * when END is not NULL (then junk is the caller's business).  Returns 0,
 * TR_EINVAL when it is no number, TR_ERANGE on overflow.
 */
static int
conf_strtoll(const char *s, int64_t *out, const char **end)
{
	const char *p = s[0] == '-' ? s + 1 : s;
	char *e;
	long long v;

	if (*p < '0' || *p > '9')
		return TR_EINVAL;
	errno = 0;
	v = strtoll(s, &e, 10);
	if (end != NULL)
		*end = e;
	else if (*e != '\0')
		return TR_EINVAL;
	if (errno == ERANGE)
		return TR_ERANGE;
	*out = v;
	return 0;
}

/* Store a range-checked number into the field of KW. */
static void
conf_store_num(struct conf *conf, const struct conf_keyword *kw, int64_t v)
{
	uint8_t *field = (uint8_t *)conf + kw->off;
	uint16_t v16;
	int32_t v32;

	switch (kw->size) {
	case sizeof(uint16_t):
		v16 = (uint16_t)v;
		memcpy(field, &v16, sizeof(v16));
		break;
	case sizeof(int32_t):
		v32 = (int32_t)v;
		memcpy(field, &v32, sizeof(v32));
		break;
	default:
		memcpy(field, &v, sizeof(v));
		break;
	}
}

/* Store a checked string into the field of KW. */
static int
conf_store_str(struct conf *conf, const struct conf_keyword *kw,
    const char *value, char *msg, size_t msglen)
{
	size_t n = strlen(value);

	if (n >= kw->size) {
		conf_msg(msg, msglen, "%s: value longer than %zu bytes",
		    kw->name, kw->size - 1);
		return TR_ECONF;
	}
	memcpy((char *)conf + kw->off, value, n + 1);
	return 0;
}

/* Parse a duration: plain seconds or N with s, m, h or d. */
static int
conf_parse_duration(const struct conf_keyword *kw, const char *value,
    int64_t *out, char *msg, size_t msglen)
{
	const char *suffix;
	int64_t n, mult = 1;
	int rc;

	rc = conf_strtoll(value, &n, &suffix);
	if (rc == TR_EINVAL || (suffix[0] != '\0' && suffix[1] != '\0'))
		goto bad;
	switch (suffix[0]) {
	case '\0':
	case 's':
		break;
	case 'm':
		mult = 60;
		break;
	case 'h':
		mult = 3600;
		break;
	case 'd':
		mult = 86400;
		break;
	default:
		goto bad;
	}
	if (rc == TR_ERANGE || n < 1 || n > kw->max / mult ||
	    n * mult < kw->min)
		goto range;
	*out = n * mult;
	return 0;
bad:
	conf_msg(msg, msglen, "%s: '%s' is not a duration (N, Ns, Nm, Nh or Nd)",
	    kw->name, value);
	return TR_ECONF;
range:
	conf_msg(msg, msglen, "%s: %s is out of range %llds..%lldd", kw->name,
	    value, (long long)kw->min, (long long)(kw->max / 86400));
	return TR_ECONF;
}

/* Check a user name: 1-32 chars of [a-z_][a-z0-9_-]*. */
static int
conf_valid_user(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > 32 || !((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
		return 0;
	for (size_t i = 1; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
			return 0;
	return 1;
}

/* Parse a port number of HOST:PORT strictly. */
static int
conf_valid_port(const char *s)
{
	int64_t v;

	return conf_strtoll(s, &v, NULL) == 0 && s[0] != '-' && v >= 1 &&
	    v <= 65535;
}

/* Check HOST, HOST:PORT, [IPV6] or [IPV6]:PORT (a bare IPv6 address is fine too). */
static int
conf_valid_hostport(const char *s)
{
	struct in6_addr a6;
	char host[300];
	const char *colon, *p;
	size_t n;

	if (s[0] == '[') {
		if ((p = strchr(s, ']')) == NULL ||
		    (n = (size_t)(p - s - 1)) == 0 || n >= sizeof(host))
			return 0;
		memcpy(host, s + 1, n);
		host[n] = '\0';
		if (inet_pton(AF_INET6, host, &a6) != 1)
			return 0;
		if (p[1] == '\0')
			return 1;
		return p[1] == ':' && conf_valid_port(p + 2);
	}
	if (inet_pton(AF_INET6, s, &a6) == 1)
		return 1;
	colon = strchr(s, ':');
	n = colon != NULL ? (size_t)(colon - s) : strlen(s);
	if (n == 0 || n > 253)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '.' ||
		    s[i] == '-' || s[i] == '_'))
			return 0;
	return colon == NULL || conf_valid_port(colon + 1);
}

/* Check and store VALUE for the top-level key KW; CONF is untouched on error. */
static int
conf_apply(struct conf *conf, const struct conf_keyword *kw,
    const char *value, char *msg, size_t msglen)
{
	struct in6_addr a6;
	struct in_addr a4;
	int64_t v;
	int rc;

	if (value[0] == '\0') {
		conf_msg(msg, msglen, "%s: missing value", kw->name);
		return TR_ECONF;
	}
	for (const char *p = value; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			conf_msg(msg, msglen, "%s: control character in value",
			    kw->name);
			return TR_ECONF;
		}
	}
	switch (kw->type) {
	case CT_NUM:
	case CT_POW2:
		rc = conf_strtoll(value, &v, NULL);
		if (rc == TR_EINVAL) {
			conf_msg(msg, msglen, "%s: '%s' is not a number",
			    kw->name, value);
			return TR_ECONF;
		}
		if (rc == TR_ERANGE || v < kw->min || v > kw->max) {
			conf_msg(msg, msglen, "%s: %s is out of range %lld..%lld",
			    kw->name, value, (long long)kw->min,
			    (long long)kw->max);
			return TR_ECONF;
		}
		if (kw->type == CT_POW2 && (v & (v - 1)) != 0) {
			conf_msg(msg, msglen, "%s: %s is not a power of two",
			    kw->name, value);
			return TR_ECONF;
		}
		conf_store_num(conf, kw, v);
		return 0;
	case CT_DURATION:
		if ((rc = conf_parse_duration(kw, value, &v, msg, msglen)) != 0)
			return rc;
		conf_store_num(conf, kw, v);
		return 0;
	case CT_LOGLEVEL:
		if ((rc = log_level_parse(value)) < 0) {
			conf_msg(msg, msglen, "%s: unknown level '%s' (debug, "
			    "info, warn or error)", kw->name, value);
			return TR_ECONF;
		}
		conf_store_num(conf, kw, rc);
		return 0;
	case CT_MCAST:
		if (inet_pton(AF_INET, value, &a4) != 1 ||
		    !IN_MULTICAST(ntohl(a4.s_addr))) {
			conf_msg(msg, msglen, "%s: '%s' is not an IPv4 multicast "
			    "address", kw->name, value);
			return TR_ECONF;
		}
		return conf_store_str(conf, kw, value, msg, msglen);
	case CT_IPV4:
		if (inet_pton(AF_INET, value, &a4) != 1) {
			conf_msg(msg, msglen, "%s: '%s' is not an IPv4 address",
			    kw->name, value);
			return TR_ECONF;
		}
		return conf_store_str(conf, kw, value, msg, msglen);
	case CT_ADDR:
		if (inet_pton(AF_INET, value, &a4) != 1 &&
		    inet_pton(AF_INET6, value, &a6) != 1) {
			conf_msg(msg, msglen, "%s: '%s' is not an IPv4 or IPv6 "
			    "address", kw->name, value);
			return TR_ECONF;
		}
		return conf_store_str(conf, kw, value, msg, msglen);
	case CT_ABSPATH:
		if (value[0] != '/') {
			conf_msg(msg, msglen, "%s: '%s' is not an absolute path",
			    kw->name, value);
			return TR_ECONF;
		}
		return conf_store_str(conf, kw, value, msg, msglen);
	case CT_PATH:
		return conf_store_str(conf, kw, value, msg, msglen);
	case CT_USER:
		if (!conf_valid_user(value)) {
			conf_msg(msg, msglen, "%s: '%s' is not a valid user name",
			    kw->name, value);
			return TR_ECONF;
		}
		return conf_store_str(conf, kw, value, msg, msglen);
	case CT_HOSTPORT:
		if (!conf_valid_hostport(value)) {
			conf_msg(msg, msglen, "%s: '%s' is not HOST or HOST:PORT",
			    kw->name, value);
			return TR_ECONF;
		}
		return conf_store_str(conf, kw, value, msg, msglen);
	}
	conf_msg(msg, msglen, "%s: internal error", kw->name);
	return TR_ECONF;
}

/* Non-zero when S is a collection name: 1-64 chars of [a-z0-9_.-]. */
static int
conf_valid_collection(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > TR_ID_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		    s[i] == '.' || s[i] == '-'))
			return 0;
	return 1;
}

/* Non-zero when S (N bytes) is a role name: 1-32 chars of [a-z0-9_-]. */
static int
conf_valid_role(const char *s, size_t n)
{
	if (n < 1 || n > CONF_ROLE_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
			return 0;
	return 1;
}

/*
 * Parse a space-separated role list into LIST and *N; an empty list is allowed
 * (nobody).  LIST is untouched on error.
 */
static int
conf_parse_roles(const char *key, const char *value,
    char list[][CONF_ROLE_MAX + 1], int *n, char *msg, size_t msglen)
{
	char roles[CONF_MAX_ROLES][CONF_ROLE_MAX + 1];
	const char *p = value;
	int count = 0;

	for (;;) {
		size_t len;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		len = strcspn(p, " \t");
		if (!conf_valid_role(p, len)) {
			conf_msg(msg, msglen, "%s: invalid role '%.*s' (1-%d "
			    "chars of a-z, 0-9, '_' and '-')", key,
			    (int)(len > 64 ? 64 : len), p, CONF_ROLE_MAX);
			return TR_ECONF;
		}
		for (int i = 0; i < count; i++) {
			if (strlen(roles[i]) == len &&
			    memcmp(roles[i], p, len) == 0) {
				conf_msg(msg, msglen, "%s: duplicate role '%s'",
				    key, roles[i]);
				return TR_ECONF;
			}
		}
		if (count == CONF_MAX_ROLES) {
			conf_msg(msg, msglen, "%s: more than %d roles", key,
			    CONF_MAX_ROLES);
			return TR_ECONF;
		}
		memcpy(roles[count], p, len);
		roles[count][len] = '\0';
		count++;
		p += len;
	}
	memcpy(list, roles, sizeof(roles));
	*n = count;
	return 0;
}

/* Apply one key of the open section. */
static int
conf_apply_section(struct conf_collection *col, int idx, const char *value,
    char *msg, size_t msglen)
{
	const char *key = conf_section_keys[idx];

	for (const char *p = value; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 && *p != '\t') {
			conf_msg(msg, msglen, "%s: control character in value",
			    key);
			return TR_ECONF;
		}
	}
	switch (idx) {
	case 0:
		return conf_parse_roles(key, value, col->read, &col->nread, msg,
		    msglen);
	case 1:
		return conf_parse_roles(key, value, col->write, &col->nwrite,
		    msg, msglen);
	default:
		for (int i = 0; i <= CONF_KEEP_BOTH; i++) {
			if (strcmp(value, conf_policy_names[i]) == 0) {
				col->conflict = (enum conf_policy)i;
				return 0;
			}
		}
		conf_msg(msg, msglen, "%s: unknown policy '%s' (hub-wins, "
		    "last-writer-wins or keep-both)", key, value);
		return TR_ECONF;
	}
}

/* Trim spaces and tabs at both ends of S in place; returns the new start. */
static char *
conf_trim(char *s)
{
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

/* Open a [collection NAME] section from the header text HDR (brackets included). */
static int
conf_section(struct conf_parse *ps, char *hdr, char *msg, size_t msglen)
{
	struct conf *conf = ps->conf;
	struct conf_collection *cols, *col;
	char *inner, *name;
	size_t n = strlen(hdr);
	int *lines;

	if (n < 2 || hdr[n - 1] != ']') {
		conf_msg(msg, msglen, "invalid section header (expected "
		    "[collection NAME])");
		return TR_ECONF;
	}
	hdr[n - 1] = '\0';
	inner = conf_trim(hdr + 1);
	if (strncmp(inner, "collection", 10) != 0 ||
	    (inner[10] != ' ' && inner[10] != '\t')) {
		conf_msg(msg, msglen, "invalid section header (expected "
		    "[collection NAME])");
		return TR_ECONF;
	}
	name = conf_trim(inner + 10);
	if (!conf_valid_collection(name)) {
		conf_msg(msg, msglen, "invalid collection name '%.64s' (1-64 "
		    "chars of a-z, 0-9, '_', '.' and '-')", name);
		return TR_ECONF;
	}
	if (!(conf->kind & CONF_HUB)) {
		conf_msg(msg, msglen, "section [collection %s] is a hub "
		    "setting, not allowed in the %s configuration", name,
		    conf_kind_name(conf->kind));
		return TR_ECONF;
	}
	for (size_t i = 0; i < conf->ncollections; i++) {
		if (strcmp(conf->collections[i].name, name) != 0)
			continue;
		if (ps->secline[i] > 0)
			conf_msg(msg, msglen, "duplicate section [collection "
			    "%s] (first on line %d)", name, ps->secline[i]);
		else
			conf_msg(msg, msglen, "duplicate section [collection "
			    "%s] (defined earlier)", name);
		return TR_ECONF;
	}
	cols = realloc(conf->collections,
	    (conf->ncollections + 1) * sizeof(*cols));
	if (cols == NULL)
		goto nomem;
	conf->collections = cols;
	lines = realloc(ps->secline, (conf->ncollections + 1) * sizeof(*lines));
	if (lines == NULL)
		goto nomem;
	ps->secline = lines;
	lines[conf->ncollections] = ps->line;
	col = &cols[conf->ncollections++];
	memset(col, 0, sizeof(*col));
	snprintf(col->name, sizeof(col->name), "%s", name);
	snprintf(col->read[0], sizeof(col->read[0]), "admin");
	col->nread = 1;
	snprintf(col->write[0], sizeof(col->write[0]), "admin");
	col->nwrite = 1;
	col->conflict = CONF_HUB_WINS;
	ps->sec = col;
	memset(ps->sec_seen, 0, sizeof(ps->sec_seen));
	return 0;
nomem:
	conf_msg(msg, msglen, "out of memory");
	return TR_ENOMEM;
}

/* Apply one "key = value" line to the top level or the open section. */
static int
conf_keyvalue(struct conf_parse *ps, const char *key, const char *value,
    char *msg, size_t msglen)
{
	const struct conf_keyword *kw = conf_keyword(key);
	int idx = conf_section_key(key), *seen;

	if (ps->sec != NULL) {
		if (idx < 0) {
			if (kw != NULL)
				conf_msg(msg, msglen, "key '%s' is not allowed "
				    "in [collection %s]", key, ps->sec->name);
			else
				conf_msg(msg, msglen, "unknown key '%.64s'",
				    key);
			return TR_ECONF;
		}
		if (ps->sec_seen[idx] > 0) {
			conf_msg(msg, msglen, "duplicate key '%s' (first on "
			    "line %d)", key, ps->sec_seen[idx]);
			return TR_ECONF;
		}
		ps->sec_seen[idx] = ps->line;
		return conf_apply_section(ps->sec, idx, value, msg, msglen);
	}
	if (kw == NULL) {
		if (idx >= 0)
			conf_msg(msg, msglen, "key '%s' is only allowed in a "
			    "[collection NAME] section", key);
		else
			conf_msg(msg, msglen, "unknown key '%.64s'", key);
		return TR_ECONF;
	}
	if (!(kw->mask & ps->conf->kind)) {
		conf_msg(msg, msglen, "key '%s' is a %s setting, not allowed in "
		    "the %s configuration", key,
		    conf_kind_name(kw->mask & (CONF_HUB | CONF_CLIENT)),
		    conf_kind_name(ps->conf->kind));
		return TR_ECONF;
	}
	seen = &ps->seen[kw - conf_keywords];
	if (*seen > 0) {
		conf_msg(msg, msglen, "duplicate key '%s' (first on line %d)",
		    key, *seen);
		return TR_ECONF;
	}
	*seen = ps->line;
	return conf_apply(ps->conf, kw, value, msg, msglen);
}

/* Parse one line (LEN bytes, no newline) of the file. */
static int
conf_line(struct conf_parse *ps, const char *text, size_t len, char *msg,
    size_t msglen)
{
	char buf[CONF_LINE_MAX + 1], *s, *eq;

	if (memchr(text, '\0', len) != NULL) {
		conf_msg(msg, msglen, "NUL byte in line");
		return TR_ECONF;
	}
	if (len > 0 && text[len - 1] == '\r')
		len--;
	if (len > CONF_LINE_MAX) {
		conf_msg(msg, msglen, "line longer than %d bytes",
		    CONF_LINE_MAX);
		return TR_ECONF;
	}
	memcpy(buf, text, len);
	buf[len] = '\0';
	for (size_t i = 0; i < len; i++) {
		if (((unsigned char)buf[i] < 0x20 && buf[i] != '\t') ||
		    buf[i] == 0x7f) {
			conf_msg(msg, msglen, "control character in line");
			return TR_ECONF;
		}
	}
	s = conf_trim(buf);
	if (*s == '#' || *s == '\0')
		return 0;
	for (char *p = s + 1; *p != '\0'; p++) {
		if (*p == '#' && (p[-1] == ' ' || p[-1] == '\t')) {
			*p = '\0';
			break;
		}
	}
	s = conf_trim(s);
	if (*s == '[')
		return conf_section(ps, s, msg, msglen);
	if ((eq = strchr(s, '=')) == NULL) {
		conf_msg(msg, msglen, "expected 'key = value' or "
		    "'[collection NAME]'");
		return TR_ECONF;
	}
	*eq = '\0';
	s = conf_trim(s);
	if (*s == '\0') {
		conf_msg(msg, msglen, "missing key before '='");
		return TR_ECONF;
	}
	return conf_keyvalue(ps, s, conf_trim(eq + 1), msg, msglen);
}

/* Read LEN bytes of TEXT into CONF; NAME stands for the path in messages. */
int
conf_load_buffer(struct conf *conf, const char *text, size_t len,
    const char *name, char *err, size_t errlen)
{
	struct conf_parse ps;
	struct conf tmp;
	char msg[CONF_ERR_LEN];
	size_t pos = 0;
	int rc;

	memset(&ps, 0, sizeof(ps));
	if (name == NULL)
		name = "(config)";
	if ((rc = conf_copy(&tmp, conf)) != 0) {
		conf_msg(err, errlen, "%s: out of memory", name);
		return rc;
	}
	ps.conf = &tmp;
	ps.name = name;
	if (tmp.ncollections > 0 &&
	    (ps.secline = calloc(tmp.ncollections, sizeof(int))) == NULL) {
		conf_msg(err, errlen, "%s: out of memory", name);
		rc = TR_ENOMEM;
		goto out;
	}
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl != NULL ? (size_t)(nl - (text + pos)) : len - pos;

		ps.line++;
		msg[0] = '\0';
		if ((rc = conf_line(&ps, text + pos, n, msg, sizeof(msg))) != 0) {
			conf_msg(err, errlen, "%s:%d: %s", name, ps.line, msg);
			if (rc != TR_ENOMEM)
				rc = TR_ECONF;
			goto out;
		}
		pos += n + (nl != NULL);
	}
	conf_free(conf);
	*conf = tmp;
	memset(&tmp, 0, sizeof(tmp));
	rc = 0;
out:
	conf_free(&tmp);
	free(ps.secline);
	return rc;
}

/* Read the file PATH into CONF. */
int
conf_load(struct conf *conf, const char *path, char *err, size_t errlen)
{
	struct stat st;
	char *text = NULL;
	size_t got = 0;
	int fd, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		conf_msg(err, errlen, "%s: %s", path, strerror(errno));
		return errno == ENOENT ? TR_ENOTFOUND : TR_ECONF;
	}
	if (fstat(fd, &st) != 0) {
		conf_msg(err, errlen, "%s: %s", path, strerror(errno));
		rc = TR_ECONF;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		conf_msg(err, errlen, "%s: not a regular file", path);
		rc = TR_ECONF;
		goto out;
	}
	if (st.st_size > CONF_FILE_MAX) {
		conf_msg(err, errlen, "%s: larger than %d bytes", path,
		    CONF_FILE_MAX);
		rc = TR_ECONF;
		goto out;
	}
	if ((text = malloc((size_t)st.st_size + 1)) == NULL) {
		conf_msg(err, errlen, "%s: out of memory", path);
		rc = TR_ENOMEM;
		goto out;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, text + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			conf_msg(err, errlen, "%s: %s", path, strerror(errno));
			rc = TR_ECONF;
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	rc = conf_load_buffer(conf, text, got, path, err, errlen);
out:
	free(text);
	close(fd);
	return rc;
}

/* Set one top-level key from the command line. */
int
conf_set(struct conf *conf, const char *key, const char *value, char *err,
    size_t errlen)
{
	const struct conf_keyword *kw = conf_keyword(key);

	if (kw == NULL) {
		if (conf_section_key(key) >= 0)
			conf_msg(err, errlen, "%s: only allowed in a "
			    "[collection NAME] section", key);
		else
			conf_msg(err, errlen, "%.64s: unknown key", key);
		return TR_ECONF;
	}
	if (!(kw->mask & conf->kind)) {
		conf_msg(err, errlen, "%s: a %s setting, not allowed in the %s "
		    "configuration", key,
		    conf_kind_name(kw->mask & (CONF_HUB | CONF_CLIENT)),
		    conf_kind_name(conf->kind));
		return TR_ECONF;
	}
	return conf_apply(conf, kw, value, err, errlen);
}

/*
 * Cross-key checks.  The hub needs batch_size <= max_batch, three distinct
 * ports (port, file_port, discovery_port) and a metrics_port, when on,
 * distinct from the two TCP ports.  The client takes batch_size as a wish
 * the hub clamps, and ports that only name the hub's, so it has none.
 */
int
conf_validate(const struct conf *conf, char *err, size_t errlen)
{
	if (conf->kind != CONF_HUB)
		return 0;
	if (conf->batch_size > conf->max_batch) {
		conf_msg(err, errlen, "batch_size (%d) is larger than max_batch "
		    "(%d)", conf->batch_size, conf->max_batch);
		return TR_ECONF;
	}
	if (conf->port == conf->file_port ||
	    conf->port == conf->discovery_port ||
	    conf->file_port == conf->discovery_port) {
		conf_msg(err, errlen, "port (%u), file_port (%u) and "
		    "discovery_port (%u) must differ", conf->port,
		    conf->file_port, conf->discovery_port);
		return TR_ECONF;
	}
	if (conf->metrics_port != 0 && (conf->metrics_port == conf->port ||
	    conf->metrics_port == conf->file_port)) {
		conf_msg(err, errlen, "metrics_port (%u) must differ from port "
		    "and file_port", conf->metrics_port);
		return TR_ECONF;
	}
	return 0;
}

/* The collection NAME, or NULL. */
const struct conf_collection *
conf_collection(const struct conf *conf, const char *name)
{
	for (size_t i = 0; i < conf->ncollections; i++)
		if (strcmp(conf->collections[i].name, name) == 0)
			return &conf->collections[i];
	return NULL;
}

/* Non-zero when one of ROLES is in LIST. */
int
conf_roles_match(const char list[][CONF_ROLE_MAX + 1], int n,
    const char *const *roles, int nroles)
{
	for (int i = 0; i < n; i++)
		for (int j = 0; j < nroles; j++)
			if (roles[j] != NULL && strcmp(list[i], roles[j]) == 0)
				return 1;
	return 0;
}

/* Name of a conflict policy. */
const char *
conf_policy_name(enum conf_policy p)
{
	if ((int)p < 0 || p > CONF_KEEP_BOTH)
		return "unknown";
	return conf_policy_names[p];
}

/* Deep copy SRC into DST. */
int
conf_copy(struct conf *dst, const struct conf *src)
{
	struct conf_collection *cols = NULL;

	if (src->ncollections > 0) {
		cols = calloc(src->ncollections, sizeof(*cols));
		if (cols == NULL) {
			memset(dst, 0, sizeof(*dst));
			return TR_ENOMEM;
		}
		memcpy(cols, src->collections,
		    src->ncollections * sizeof(*cols));
	}
	memmove(dst, src, sizeof(*dst));
	dst->collections = cols;
	return 0;
}

/* Free what CONF owns. */
void
conf_free(struct conf *conf)
{
	free(conf->collections);
	conf->collections = NULL;
	conf->ncollections = 0;
}
