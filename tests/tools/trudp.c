/* trudp: a test tool that speaks the UDP side of the protocol (discovery, heartbeats), captures what the hub sends, and scrapes metrics. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "err.h"
#include "hex.h"
#include "kdf.h"
#include "msg.h"
#include "trosyn-protocol.h"

/* What the command line asked for. */
struct opts {
	const char *cmd;
	const char *host;		/* unicast destination */
	const char *group;		/* multicast destination, instead of HOST */
	const char *iface;		/* multicast interface */
	int port;
	const char *creds_path;
	const char *session_path;
	long timeout_ms;
	int repeat;			/* send the same datagram N times */
	int bad_sig;
	int no_sig;
	const char *site;		/* override site_id */
	const char *node;		/* override source.node_id */
	long skew_s;			/* shift the timestamp */
	int pad;			/* add a member of N bytes */
	int64_t seq;
	const char *state;
	int64_t cursor, pending, disk_free;
	const char *last_error;
	int max;			/* largest values for every field */
	const char *raw;		/* raw datagram text */
};

/* Print a failure and exit 1. */
static void __attribute__((format(printf, 1, 2), noreturn))
die(const char *fmt, ...)
{
	va_list ap;

	fputs("trudp: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* A string member of OBJ or die. */
static const char *
need_str(json_object *obj, const char *key, const char *what)
{
	const char *s;

	if (msg_get_str(obj, key, &s) != 0)
		die("%s: no %s", what, key);
	return s;
}

/* Read a 32-byte hex member of OBJ into OUT or die. */
static void
need_key(json_object *obj, const char *key, const char *what, uint8_t *out)
{
	const char *s = need_str(obj, key, what);

	if (hex_decode(s, strlen(s), out, TR_KEY_LEN) != 0)
		die("%s: bad %s", what, key);
}

/* A UDP socket with a receive timeout, and the destination address. */
static int
udp_open(const struct opts *o, struct sockaddr_in *to)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct in_addr ifaddr;
	unsigned char ttl = 1;

	if (fd < 0)
		die("socket: %s", strerror(errno));
	memset(to, 0, sizeof(*to));
	to->sin_family = AF_INET;
	to->sin_port = htons((uint16_t)o->port);
	if (inet_pton(AF_INET, o->group != NULL ? o->group : o->host,
	    &to->sin_addr) != 1)
		die("bad destination address");
	if (o->group != NULL) {
		if (inet_pton(AF_INET, o->iface, &ifaddr) != 1)
			die("bad --iface");
		if (setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &ifaddr,
		    sizeof(ifaddr)) != 0 ||
		    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl,
		    sizeof(ttl)) != 0)
			die("multicast options: %s", strerror(errno));
	}
	return fd;
}

/* Sign (or not, or badly) and encode ENV; returns the malloc'd text. */
static char *
encode(const struct opts *o, json_object *env, const uint8_t *key,
    size_t *len)
{
	uint8_t wrong[TR_KEY_LEN];
	char *text;

	if (o->skew_s != 0) {
		char ts[32];

		msg_format_time(msg_now_ms() + o->skew_s * 1000, ts,
		    sizeof(ts));
		json_object_object_add(env, "timestamp",
		    json_object_new_string(ts));
	}
	if (o->pad > 0) {
		char *pad = malloc((size_t)o->pad + 1);

		if (pad == NULL)
			die("out of memory");
		memset(pad, 'x', (size_t)o->pad);
		pad[o->pad] = '\0';
		json_object_object_add(msg_payload(env), "padding",
		    json_object_new_string(pad));
		free(pad);
	}
	memset(wrong, 0x5a, sizeof(wrong));
	if (!o->no_sig && msg_sign(env, o->bad_sig ? wrong : key,
	    TR_KEY_LEN) != 0)
		die("cannot sign");
	if (o->no_sig)
		json_object_object_add(env, "signature", json_object_new_string(
		    "0000000000000000000000000000000000000000000000000000000000000000"));
	if (msg_encode(env, &text, len) != 0)
		die("cannot encode");
	return text;
}

/* Send TEXT O->repeat times. */
static void
send_all(const struct opts *o, int fd, const struct sockaddr_in *to,
    const char *text, size_t len)
{
	for (int i = 0; i < o->repeat; i++)
		if (sendto(fd, text, len, 0, (const struct sockaddr *)to,
		    sizeof(*to)) < 0)
			die("sendto: %s", strerror(errno));
}

/*
 * discover: send one DISCOVERY_BROADCAST and print every answer that
 * verifies (one line: size, then the JSON); exit 3 when none came.
 */
static int
cmd_discover(const struct opts *o)
{
	json_object *creds, *p, *env;
	uint8_t site_key[TR_KEY_LEN];
	struct sockaddr_in to, from;
	char id[TR_UUID_LEN + 1], buf[65536], *text;
	const char *node_id;
	size_t len;
	long long deadline;
	int fd, answers = 0;

	if ((creds = json_object_from_file(o->creds_path)) == NULL)
		die("cannot read %s", o->creds_path);
	need_key(creds, "site_key", o->creds_path, site_key);
	node_id = o->node != NULL ? o->node : need_str(creds, "node_id",
	    o->creds_path);
	p = json_object_new_object();
	json_object_object_add(p, "site_id", json_object_new_string(
	    o->site != NULL ? o->site : need_str(creds, "site_id",
	    o->creds_path)));
	env = msg_new(TR_MSG_DISCOVERY_BROADCAST, node_id, NULL, NULL, p);
	snprintf(id, sizeof(id), "%s", msg_id(env));
	text = encode(o, env, site_key, &len);
	fd = udp_open(o, &to);
	printf("sent %zu bytes\n", len);
	send_all(o, fd, &to, text, len);
	deadline = (long long)msg_now_ms() + o->timeout_ms;
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		long long left = deadline - msg_now_ms();
		socklen_t flen = sizeof(from);
		json_object *r = NULL;
		ssize_t n;

		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			break;
		n = recvfrom(fd, buf, sizeof(buf), MSG_TRUNC,
		    (struct sockaddr *)&from, &flen);
		if (n < 0)
			continue;
		if (n > TR_UDP_MAX) {
			printf("answer of %zd bytes: over %d\n", n, TR_UDP_MAX);
			answers++;
			continue;
		}
		if (msg_parse(buf, (size_t)n, &r) != 0 ||
		    msg_verify(r, site_key, TR_KEY_LEN) != 0 ||
		    strcmp(msg_type(r), TR_MSG_DISCOVERY_RESPONSE) != 0 ||
		    msg_in_reply_to(r) == NULL ||
		    strcmp(msg_in_reply_to(r), id) != 0) {
			printf("answer of %zd bytes: does not verify\n", n);
			json_object_put(r);
			answers++;
			continue;
		}
		printf("answer %zd %s\n", n, json_object_to_json_string_ext(r,
		    JSON_C_TO_STRING_PLAIN));
		json_object_put(r);
		answers++;
	}
	close(fd);
	free(text);
	json_object_put(env);
	json_object_put(creds);
	if (answers == 0) {
		printf("no answer\n");
		return 3;
	}
	return 0;
}

/* heartbeat: send one node HEARTBEAT signed with the saved session's heartbeat key. */
static int
cmd_heartbeat(const struct opts *o)
{
	json_object *sess, *p, *env;
	uint8_t root[TR_KEY_LEN], key[TR_KEY_LEN];
	struct sockaddr_in to;
	char *text, err[64];
	size_t len;
	int fd;

	if ((sess = json_object_from_file(o->session_path)) == NULL)
		die("cannot read %s", o->session_path);
	need_key(sess, "session_root", o->session_path, root);
	if (kdf_heartbeat_key(root, key) != 0)
		die("kdf");
	p = json_object_new_object();
	json_object_object_add(p, "role", json_object_new_string("node"));
	json_object_object_add(p, "session_id", json_object_new_string(
	    need_str(sess, "session_id", o->session_path)));
	json_object_object_add(p, "seq", json_object_new_int64(o->max ?
	    INT64_C(9007199254740991) : o->seq));
	json_object_object_add(p, "state", json_object_new_string(o->max ?
	    "syncing" : o->state));
	json_object_object_add(p, "cursor", json_object_new_int64(o->max ?
	    INT64_C(9007199254740991) : o->cursor));
	json_object_object_add(p, "pending", json_object_new_int64(o->max ?
	    INT64_C(9007199254740991) : o->pending));
	if (o->max) {
		memset(err, 'E', sizeof(err) - 1);
		err[sizeof(err) - 1] = '\0';
		json_object_object_add(p, "last_error",
		    json_object_new_string(err));
		json_object_object_add(p, "disk_free",
		    json_object_new_int64(INT64_C(9007199254740991)));
	} else {
		json_object_object_add(p, "last_error", o->last_error != NULL ?
		    json_object_new_string(o->last_error) : NULL);
		if (o->disk_free >= 0)
			json_object_object_add(p, "disk_free",
			    json_object_new_int64(o->disk_free));
	}
	env = msg_new(TR_MSG_HEARTBEAT, o->node != NULL ? o->node :
	    need_str(sess, "node_id", o->session_path), NULL, NULL, p);
	text = encode(o, env, key, &len);
	fd = udp_open(o, &to);
	printf("heartbeat %zu bytes\n", len);
	send_all(o, fd, &to, text, len);
	close(fd);
	free(text);
	json_object_put(env);
	json_object_put(sess);
	kdf_cleanse(root, sizeof(root));
	kdf_cleanse(key, sizeof(key));
	return 0;
}

/* raw: send O->raw as it is (garbage, truncated envelopes). */
static int
cmd_raw(const struct opts *o)
{
	struct sockaddr_in to;
	int fd = udp_open(o, &to);

	send_all(o, fd, &to, o->raw, strlen(o->raw));
	close(fd);
	return 0;
}

/*
 * capture: for TIMEOUT, read every UDP datagram on the host whose source
 * port is PORT with a raw socket (needs CAP_NET_RAW; exit 77 without it)
 * and print "captured N max M types ..."; exit 1 when one exceeds 512.
 */
static int
cmd_capture(const struct opts *o)
{
	char buf[65536];
	long long deadline = (long long)msg_now_ms() + o->timeout_ms;
	int fd = socket(AF_INET, SOCK_RAW, IPPROTO_UDP), n = 0, over = 0;
	size_t max = 0;

	if (fd < 0) {
		printf("capture needs CAP_NET_RAW: %s\n", strerror(errno));
		return 77;
	}
	printf("capturing\n");
	fflush(stdout);
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		long long left = deadline - msg_now_ms();
		struct udphdr uh;
		size_t ihl, plen;
		ssize_t got;

		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			break;
		if ((got = recv(fd, buf, sizeof(buf), 0)) < 20)
			continue;
		ihl = (size_t)(buf[0] & 0x0f) * 4;
		if ((size_t)got < ihl + sizeof(uh))
			continue;
		memcpy(&uh, buf + ihl, sizeof(uh));
		if (ntohs(uh.source) != o->port)
			continue;
		plen = (size_t)ntohs(uh.len) - sizeof(uh);
		n++;
		if (plen > max)
			max = plen;
		if (plen > TR_UDP_MAX)
			over++;
	}
	close(fd);
	printf("captured %d max %zu over %d\n", n, max, over);
	return over > 0 ? 1 : 0;
}

/* scrape: GET PATH from 127.0.0.1:PORT over HTTP/1.0 and print the whole answer. */
static int
cmd_scrape(const struct opts *o, const char *path)
{
	struct sockaddr_in sin;
	struct timeval tv = { 5, 0 };
	char req[512], buf[4096];
	ssize_t n;
	int fd = socket(AF_INET, SOCK_STREAM, 0), len;

	if (fd < 0)
		die("socket: %s", strerror(errno));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)o->port);
	if (inet_pton(AF_INET, o->host, &sin.sin_addr) != 1)
		die("bad --host");
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0)
		die("connect: %s", strerror(errno));
	/* "RAW text": send text as the request line instead of a GET. */
	if (strncmp(path, "RAW ", 4) == 0)
		len = snprintf(req, sizeof(req), "%s\r\n\r\n", path + 4);
	else
		len = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: "
		    "test\r\n\r\n", path);
	if (send(fd, req, (size_t)len, MSG_NOSIGNAL) != len)
		die("send: %s", strerror(errno));
	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
		fwrite(buf, 1, (size_t)n, stdout);
	close(fd);
	return n < 0 ? 1 : 0;
}

/* Print the usage. */
static void
usage(FILE *f)
{
	fprintf(f,
"usage: trudp --port N [--host ADDR | --group ADDR --iface ADDR] COMMAND\n"
"  discover --creds FILE [--bad-sig|--no-sig] [--site ID] [--node ID]\n"
"           [--skew SEC] [--pad N] [--repeat N] [--timeout MS]\n"
"  heartbeat --session FILE --seq N [--state S] [--cursor N] [--pending N]\n"
"           [--last-error S] [--disk-free N] [--max] [--node ID] [--bad-sig]\n"
"  raw --data TEXT\n"
"  capture [--timeout MS]   (source port = --port; needs CAP_NET_RAW)\n"
"  scrape --data PATH        (HTTP GET of PATH on TCP --port; \"RAW line\"\n"
"                            sends that request line instead)\n");
}

/* Parse the command line and run the command. */
int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "host", required_argument, NULL, 'H' },
		{ "group", required_argument, NULL, 'g' },
		{ "iface", required_argument, NULL, 'i' },
		{ "port", required_argument, NULL, 'p' },
		{ "creds", required_argument, NULL, 'k' },
		{ "session", required_argument, NULL, 'S' },
		{ "timeout", required_argument, NULL, 't' },
		{ "repeat", required_argument, NULL, 'r' },
		{ "bad-sig", no_argument, NULL, 'b' },
		{ "no-sig", no_argument, NULL, 'u' },
		{ "site", required_argument, NULL, 's' },
		{ "node", required_argument, NULL, 'n' },
		{ "skew", required_argument, NULL, 'K' },
		{ "pad", required_argument, NULL, 'P' },
		{ "seq", required_argument, NULL, 'q' },
		{ "state", required_argument, NULL, 'T' },
		{ "cursor", required_argument, NULL, 'c' },
		{ "pending", required_argument, NULL, 'e' },
		{ "last-error", required_argument, NULL, 'E' },
		{ "disk-free", required_argument, NULL, 'D' },
		{ "max", no_argument, NULL, 'M' },
		{ "data", required_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 }
	};
	struct opts o = {
		.host = "127.0.0.1", .iface = "127.0.0.1", .timeout_ms = 1000,
		.repeat = 1, .seq = 1, .state = "idle", .disk_free = -1
	};
	int c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'H': o.host = optarg; break;
		case 'g': o.group = optarg; break;
		case 'i': o.iface = optarg; break;
		case 'p': o.port = atoi(optarg); break;
		case 'k': o.creds_path = optarg; break;
		case 'S': o.session_path = optarg; break;
		case 't': o.timeout_ms = atol(optarg); break;
		case 'r': o.repeat = atoi(optarg); break;
		case 'b': o.bad_sig = 1; break;
		case 'u': o.no_sig = 1; break;
		case 's': o.site = optarg; break;
		case 'n': o.node = optarg; break;
		case 'K': o.skew_s = atol(optarg); break;
		case 'P': o.pad = atoi(optarg); break;
		case 'q': o.seq = strtoll(optarg, NULL, 10); break;
		case 'T': o.state = optarg; break;
		case 'c': o.cursor = strtoll(optarg, NULL, 10); break;
		case 'e': o.pending = strtoll(optarg, NULL, 10); break;
		case 'E': o.last_error = optarg; break;
		case 'D': o.disk_free = strtoll(optarg, NULL, 10); break;
		case 'M': o.max = 1; break;
		case 'R': o.raw = optarg; break;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1 || o.port <= 0 || o.port > 65535) {
		usage(stderr);
		return 2;
	}
	o.cmd = argv[optind];
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(o.cmd, "discover") == 0 && o.creds_path != NULL)
		return cmd_discover(&o);
	if (strcmp(o.cmd, "heartbeat") == 0 && o.session_path != NULL)
		return cmd_heartbeat(&o);
	if (strcmp(o.cmd, "raw") == 0 && o.raw != NULL)
		return cmd_raw(&o);
	if (strcmp(o.cmd, "capture") == 0)
		return cmd_capture(&o);
	if (strcmp(o.cmd, "scrape") == 0 && o.raw != NULL)
		return cmd_scrape(&o, o.raw);
	usage(stderr);
	return 2;
}
