/* Unit tests of the configuration parser: the CLI.md sample, every error kind, set, copy. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "err.h"
#include "log.h"
#include "testutil.h"

/* The sample hubd.conf of CLI.md, verbatim. */
static const char sample_conf[] =
	"# comment\n"
	"port = 5001\n"
	"file_port = 5002\n"
	"discovery_port = 5000\n"
	"multicast_group = 239.255.77.77\n"
	"multicast_interface = 0.0.0.0\n"
	"bind = 0.0.0.0\n"
	"workers = 8\n"
	"transfer_workers = 4\n"
	"queue_depth = 64\n"
	"max_message_size = 1048576\n"
	"max_clock_skew = 300\n"
	"heartbeat_interval = 10\n"
	"session_lifetime = 3600\n"
	"rotate_every = 1000\n"
	"chunk_size = 1048576\n"
	"max_file_size = 17179869184\n"
	"batch_size = 500\n"
	"max_batch = 1000\n"
	"journal_retain = 30d          # how long tombstones are kept before a stale cursor gets reset\n"
	"auth_timeout = 10\n"
	"idle_timeout = 120\n"
	"max_auth_failures = 10\n"
	"discovery_timeout = 1         # client side\n"
	"transfer_rate_limit = 0       # bytes/s per transfer, 0 = unlimited\n"
	"metrics_port = 0              # 0 = off; bound to 127.0.0.1 unless metrics_bind says otherwise\n"
	"log_level = info\n"
	"\n"
	"[collection documents]\n"
	"read = child admin\n"
	"write = admin\n"
	"conflict = hub-wins\n";

/* Load TEXT into *C (defaults of KIND first); returns the code, message in ERR. */
static int
load(struct conf *c, enum conf_kind kind, const char *text, char *err)
{
	conf_defaults(c, kind);
	err[0] = '\0';
	return conf_load_buffer(c, text, strlen(text), "hubd.conf", err,
	    CONF_ERR_LEN);
}

/*
 * TEXT must fail for KIND with exactly MSG, leaving the configuration
 * byte for byte as it was.
 */
static void
expect_err_at(const char *file, int line, enum conf_kind kind,
    const char *text, size_t len, const char *msg)
{
	struct conf c, before;
	char err[CONF_ERR_LEN] = "";
	int rc;

	conf_defaults(&c, kind);
	memcpy(&before, &c, sizeof(c));
	rc = conf_load_buffer(&c, text, len, "hubd.conf", err, sizeof(err));
	ck_assert_msg(rc == TR_ECONF, "%s:%d: rc %d for %s", file, line, rc,
	    text);
	ck_assert_msg(strcmp(err, msg) == 0, "%s:%d: got \"%s\", want \"%s\"",
	    file, line, err, msg);
	ck_assert_msg(memcmp(&c, &before, sizeof(c)) == 0,
	    "%s:%d: conf changed by a failed load", file, line);
}

#define expect_err(kind, text, msg) \
	expect_err_at(__FILE__, __LINE__, kind, text, strlen(text), msg)
#define expect_err_len(kind, text, len, msg) \
	expect_err_at(__FILE__, __LINE__, kind, text, len, msg)

/* TEXT must load for KIND; returns the result in *C (caller frees). */
static void
expect_ok_at(const char *file, int line, struct conf *c, enum conf_kind kind,
    const char *text)
{
	char err[CONF_ERR_LEN];
	int rc = load(c, kind, text, err);

	ck_assert_msg(rc == 0, "%s:%d: rc %d (%s) for %s", file, line, rc, err,
	    text);
}

#define expect_ok(c, kind, text) expect_ok_at(__FILE__, __LINE__, c, kind, text)

START_TEST(test_defaults)
{
	struct conf c;

	conf_defaults(&c, CONF_HUB);
	ck_assert_int_eq(c.kind, CONF_HUB);
	ck_assert_str_eq(c.bind, "0.0.0.0");
	ck_assert_uint_eq(c.port, 5001);
	ck_assert_uint_eq(c.file_port, 5002);
	ck_assert_uint_eq(c.discovery_port, 5000);
	ck_assert_str_eq(c.multicast_group, "239.255.77.77");
	ck_assert_str_eq(c.multicast_interface, "0.0.0.0");
	ck_assert_int_eq(c.multicast_ttl, 1);
	ck_assert_uint_eq(c.metrics_port, 0);
	ck_assert_str_eq(c.metrics_bind, "127.0.0.1");
	ck_assert_int_eq(c.workers, 8);
	ck_assert_int_eq(c.transfer_workers, 4);
	ck_assert_int_eq(c.queue_depth, 64);
	ck_assert_uint_eq(c.max_message_size, 1048576);
	ck_assert_int_eq(c.max_clock_skew, 300);
	ck_assert_int_eq(c.heartbeat_interval, 10);
	ck_assert_int_eq(c.session_lifetime, 3600);
	ck_assert_uint_eq(c.rotate_every, 1000);
	ck_assert_uint_eq(c.chunk_size, 1048576);
	ck_assert_int_eq(c.max_file_size, 17179869184LL);
	ck_assert_int_eq(c.batch_size, 500);
	ck_assert_int_eq(c.max_batch, 1000);
	ck_assert_int_eq(c.journal_retain, 30 * 86400);
	ck_assert_int_eq(c.auth_timeout, 10);
	ck_assert_int_eq(c.idle_timeout, 120);
	ck_assert_int_eq(c.max_auth_failures, 10);
	ck_assert_int_eq(c.discovery_timeout, 1);
	ck_assert_int_eq(c.transfer_rate_limit, 0);
	ck_assert_int_eq(c.log_level, LOG_LEVEL_INFO);
	ck_assert_str_eq(c.pidfile, "");
	ck_assert_str_eq(c.user, "");
	ck_assert_str_eq(c.state_dir, "");
	ck_assert_str_eq(c.hub, "");
	ck_assert_int_eq(c.sync_interval, 60);
	ck_assert_int_eq(c.timeout, 30);
	ck_assert_str_eq(c.broadcast, "");
	ck_assert_ptr_null(c.collections);
	ck_assert_uint_eq(c.ncollections, 0);
	conf_defaults(&c, CONF_CLIENT);
	ck_assert_int_eq(c.kind, CONF_CLIENT);
	ck_assert_int_eq(c.timeout, 30);
}
END_TEST

START_TEST(test_sample_hub)
{
	const struct conf_collection *col;
	struct conf c;
	char err[CONF_ERR_LEN] = "";

	/* Start far from the defaults so that every value has to come from the file. */
	conf_defaults(&c, CONF_HUB);
	c.port = c.file_port = c.discovery_port = 1;
	snprintf(c.multicast_group, sizeof(c.multicast_group), "x");
	snprintf(c.multicast_interface, sizeof(c.multicast_interface), "x");
	snprintf(c.bind, sizeof(c.bind), "x");
	c.workers = c.transfer_workers = c.queue_depth = 3;
	c.max_message_size = c.rotate_every = c.chunk_size = 3;
	c.max_clock_skew = c.heartbeat_interval = c.session_lifetime = 3;
	c.max_file_size = c.journal_retain = c.transfer_rate_limit = 3;
	c.batch_size = c.max_batch = c.auth_timeout = c.idle_timeout = 3;
	c.max_auth_failures = c.discovery_timeout = 3;
	c.metrics_port = 3;
	c.log_level = LOG_LEVEL_DEBUG;

	ck_assert_int_eq(conf_load_buffer(&c, sample_conf, strlen(sample_conf),
	    "hubd.conf", err, sizeof(err)), 0);
	ck_assert_str_eq(err, "");
	ck_assert_uint_eq(c.port, 5001);
	ck_assert_uint_eq(c.file_port, 5002);
	ck_assert_uint_eq(c.discovery_port, 5000);
	ck_assert_str_eq(c.multicast_group, "239.255.77.77");
	ck_assert_str_eq(c.multicast_interface, "0.0.0.0");
	ck_assert_str_eq(c.bind, "0.0.0.0");
	ck_assert_int_eq(c.workers, 8);
	ck_assert_int_eq(c.transfer_workers, 4);
	ck_assert_int_eq(c.queue_depth, 64);
	ck_assert_uint_eq(c.max_message_size, 1048576);
	ck_assert_int_eq(c.max_clock_skew, 300);
	ck_assert_int_eq(c.heartbeat_interval, 10);
	ck_assert_int_eq(c.session_lifetime, 3600);
	ck_assert_uint_eq(c.rotate_every, 1000);
	ck_assert_uint_eq(c.chunk_size, 1048576);
	ck_assert_int_eq(c.max_file_size, 17179869184LL);
	ck_assert_int_eq(c.batch_size, 500);
	ck_assert_int_eq(c.max_batch, 1000);
	ck_assert_int_eq(c.journal_retain, 2592000);
	ck_assert_int_eq(c.auth_timeout, 10);
	ck_assert_int_eq(c.idle_timeout, 120);
	ck_assert_int_eq(c.max_auth_failures, 10);
	ck_assert_int_eq(c.discovery_timeout, 1);
	ck_assert_int_eq(c.transfer_rate_limit, 0);
	ck_assert_uint_eq(c.metrics_port, 0);
	ck_assert_int_eq(c.log_level, LOG_LEVEL_INFO);

	ck_assert_uint_eq(c.ncollections, 1);
	col = conf_collection(&c, "documents");
	ck_assert_ptr_nonnull(col);
	ck_assert_str_eq(col->name, "documents");
	ck_assert_int_eq(col->nread, 2);
	ck_assert_str_eq(col->read[0], "child");
	ck_assert_str_eq(col->read[1], "admin");
	ck_assert_int_eq(col->nwrite, 1);
	ck_assert_str_eq(col->write[0], "admin");
	ck_assert_int_eq(col->conflict, CONF_HUB_WINS);
	ck_assert_ptr_null(conf_collection(&c, "document"));
	ck_assert_int_eq(conf_validate(&c, err, sizeof(err)), 0);
	conf_free(&c);
	ck_assert_ptr_null(c.collections);
	ck_assert_uint_eq(c.ncollections, 0);
}
END_TEST

START_TEST(test_sample_client)
{
	/* The hub's file is not a client's: the first hub-only key stops it. */
	expect_err(CONF_CLIENT, sample_conf, "hubd.conf:7: key 'bind' is a hub "
	    "setting, not allowed in the client configuration");
}
END_TEST

START_TEST(test_all_hub_keys)
{
	struct conf c;

	expect_ok(&c, CONF_HUB,
	    "port=6001\n"
	    "file_port =6002\n"
	    "discovery_port= 6000\n"
	    "\tmulticast_group\t=\t239.1.2.3\t\n"
	    "multicast_interface = 10.0.0.9\n"
	    "multicast_ttl = 255\n"
	    "bind = ::\n"
	    "metrics_port = 65535\n"
	    "metrics_bind = ::1\n"
	    "workers = 1024\n"
	    "transfer_workers = 1\n"
	    "queue_depth = 65536\n"
	    "max_message_size = 268435456\n"
	    "max_clock_skew = 86400\n"
	    "heartbeat_interval = 3600\n"
	    "session_lifetime = 2592000\n"
	    "rotate_every = 2147483647\n"
	    "chunk_size = 8388608\n"
	    "max_file_size = 9007199254740991\n"
	    "batch_size = 99999\n"
	    "max_batch = 100000\n"
	    "journal_retain = 12h\n"
	    "auth_timeout = 3600\n"
	    "idle_timeout = 86400\n"
	    "max_auth_failures = 1000000\n"
	    "discovery_timeout = 60\n"
	    "transfer_rate_limit = 9007199254740991\n"
	    "log_level = debug\n"
	    "pidfile = /run/trosyn/hubd.pid\n"
	    "state_dir = /var/lib/trosyn test\n"
	    "user = _trosyn-1\n");
	ck_assert_uint_eq(c.port, 6001);
	ck_assert_uint_eq(c.file_port, 6002);
	ck_assert_uint_eq(c.discovery_port, 6000);
	ck_assert_str_eq(c.multicast_group, "239.1.2.3");
	ck_assert_str_eq(c.multicast_interface, "10.0.0.9");
	ck_assert_int_eq(c.multicast_ttl, 255);
	ck_assert_str_eq(c.bind, "::");
	ck_assert_uint_eq(c.metrics_port, 65535);
	ck_assert_str_eq(c.metrics_bind, "::1");
	ck_assert_int_eq(c.workers, 1024);
	ck_assert_int_eq(c.transfer_workers, 1);
	ck_assert_int_eq(c.queue_depth, 65536);
	ck_assert_uint_eq(c.max_message_size, 268435456);
	ck_assert_int_eq(c.max_clock_skew, 86400);
	ck_assert_int_eq(c.heartbeat_interval, 3600);
	ck_assert_int_eq(c.session_lifetime, 2592000);
	ck_assert_uint_eq(c.rotate_every, 2147483647u);
	ck_assert_uint_eq(c.chunk_size, 8388608);
	ck_assert_int_eq(c.max_file_size, 9007199254740991LL);
	ck_assert_int_eq(c.batch_size, 99999);
	ck_assert_int_eq(c.max_batch, 100000);
	ck_assert_int_eq(c.journal_retain, 12 * 3600);
	ck_assert_int_eq(c.auth_timeout, 3600);
	ck_assert_int_eq(c.idle_timeout, 86400);
	ck_assert_int_eq(c.max_auth_failures, 1000000);
	ck_assert_int_eq(c.discovery_timeout, 60);
	ck_assert_int_eq(c.transfer_rate_limit, 9007199254740991LL);
	ck_assert_int_eq(c.log_level, LOG_LEVEL_DEBUG);
	ck_assert_str_eq(c.pidfile, "/run/trosyn/hubd.pid");
	ck_assert_str_eq(c.state_dir, "/var/lib/trosyn test");
	ck_assert_str_eq(c.user, "_trosyn-1");
	/* Untouched keys keep their defaults. */
	ck_assert_int_eq(c.timeout, 30);
	ck_assert_int_eq(c.sync_interval, 60);
	conf_free(&c);

	/* The lower bounds. */
	expect_ok(&c, CONF_HUB, "port = 1\nmetrics_port = 0\nworkers = 1\n"
	    "max_message_size = 4096\nchunk_size = 65536\nmax_file_size = 1\n"
	    "journal_retain = 1\nmulticast_ttl = 1\nlog_level = error\n"
	    "transfer_rate_limit = 0\ndiscovery_port = 007\n");
	ck_assert_uint_eq(c.port, 1);
	ck_assert_uint_eq(c.discovery_port, 7);
	ck_assert_uint_eq(c.max_message_size, 4096);
	ck_assert_int_eq(c.journal_retain, 1);
	ck_assert_int_eq(c.log_level, LOG_LEVEL_ERROR);
	conf_free(&c);
}
END_TEST

START_TEST(test_all_client_keys)
{
	struct conf c;

	expect_ok(&c, CONF_CLIENT,
	    "hub = hub.example.lan:6001\n"
	    "credentials = node.json\n"
	    "files_dir = /srv/files\n"
	    "sync_interval = 86400\n"
	    "broadcast = 255.255.255.255\n"
	    "timeout = 3600\n"
	    "port = 7001\n"
	    "file_port = 7002\n"
	    "discovery_port = 7000\n"
	    "multicast_group = 224.0.0.1\n"
	    "multicast_interface = 192.168.1.2\n"
	    "multicast_ttl = 4\n"
	    "log_level = warn\n"
	    "state_dir = /home/u/.trosyn\n"
	    "max_message_size = 65536\n"
	    "chunk_size = 131072\n"
	    "batch_size = 100000\n"
	    "discovery_timeout = 5\n"
	    "max_clock_skew = 60\n"
	    "transfer_rate_limit = 1000000\n");
	ck_assert_str_eq(c.hub, "hub.example.lan:6001");
	ck_assert_str_eq(c.credentials, "node.json");
	ck_assert_str_eq(c.files_dir, "/srv/files");
	ck_assert_int_eq(c.sync_interval, 86400);
	ck_assert_str_eq(c.broadcast, "255.255.255.255");
	ck_assert_int_eq(c.timeout, 3600);
	ck_assert_uint_eq(c.port, 7001);
	ck_assert_uint_eq(c.file_port, 7002);
	ck_assert_uint_eq(c.discovery_port, 7000);
	ck_assert_str_eq(c.multicast_group, "224.0.0.1");
	ck_assert_str_eq(c.multicast_interface, "192.168.1.2");
	ck_assert_int_eq(c.multicast_ttl, 4);
	ck_assert_int_eq(c.log_level, LOG_LEVEL_WARN);
	ck_assert_str_eq(c.state_dir, "/home/u/.trosyn");
	ck_assert_uint_eq(c.max_message_size, 65536);
	ck_assert_uint_eq(c.chunk_size, 131072);
	ck_assert_int_eq(c.batch_size, 100000);
	ck_assert_int_eq(c.discovery_timeout, 5);
	/* The node checks discovery answers against its clock too. */
	ck_assert_int_eq(c.max_clock_skew, 60);
	ck_assert_int_eq(c.transfer_rate_limit, 1000000);
	/* A client's batch_size is only a wish: no max_batch check. */
	ck_assert_int_eq(conf_validate(&c, NULL, 0), 0);
	conf_free(&c);

	expect_ok(&c, CONF_CLIENT, "hub = 10.0.0.5\n");
	ck_assert_str_eq(c.hub, "10.0.0.5");
	expect_ok(&c, CONF_CLIENT, "hub = [fe80::1]:5001\n");
	ck_assert_str_eq(c.hub, "[fe80::1]:5001");
	expect_ok(&c, CONF_CLIENT, "hub = [::1]\n");
	expect_ok(&c, CONF_CLIENT, "hub = ::1\n");
	expect_ok(&c, CONF_CLIENT, "hub = my_hub-1\n");
}
END_TEST

START_TEST(test_syntax)
{
	struct conf c;

	/* CRLF, no final newline, spacing, comments, '#' glued to a word. */
	expect_ok(&c, CONF_HUB, "port = 6001\r\n# x = y\r\n\r\n  \t\n"
	    "   # indented comment\nfile_port=6002 #c\nworkers\t=\t7");
	ck_assert_uint_eq(c.port, 6001);
	ck_assert_uint_eq(c.file_port, 6002);
	ck_assert_int_eq(c.workers, 7);
	expect_ok(&c, CONF_HUB, "pidfile = /run/a#b.pid # the '#' above stays\n");
	ck_assert_str_eq(c.pidfile, "/run/a#b.pid");
	expect_ok(&c, CONF_HUB, "");
	ck_assert_uint_eq(c.port, 5001);
	expect_ok(&c, CONF_HUB, "[ collection  a.b_c-1 ]   # note\n"
	    "read=\twriter  reader\t\n");
	ck_assert_uint_eq(c.ncollections, 1);
	ck_assert_str_eq(c.collections[0].name, "a.b_c-1");
	ck_assert_int_eq(c.collections[0].nread, 2);
	ck_assert_str_eq(c.collections[0].read[0], "writer");
	ck_assert_str_eq(c.collections[0].read[1], "reader");
	conf_free(&c);

	expect_err(CONF_HUB, "port 5001\n", "hubd.conf:1: expected 'key = "
	    "value' or '[collection NAME]'");
	expect_err(CONF_HUB, "\n = 5001\n", "hubd.conf:2: missing key before "
	    "'='");
	expect_err(CONF_HUB, "port =\n", "hubd.conf:1: port: missing value");
	expect_err(CONF_HUB, "port = # nothing\n",
	    "hubd.conf:1: port: missing value");
	expect_err(CONF_HUB, "port = 5001# x\n",
	    "hubd.conf:1: port: '5001# x' is not a number");
	expect_err(CONF_HUB, "PORT = 5001\n", "hubd.conf:1: unknown key 'PORT'");
	expect_err(CONF_HUB, "port = 5001\x01\n",
	    "hubd.conf:1: control character in line");
	expect_err(CONF_HUB, "port = 50\r01\n",
	    "hubd.conf:1: control character in line");
}
END_TEST

START_TEST(test_err_unknown_key)
{
	expect_err(CONF_HUB, "port = 5001\nprot = 5002\n",
	    "hubd.conf:2: unknown key 'prot'");
	expect_err(CONF_CLIENT, "# a\n# b\n\nfoo = bar\n",
	    "hubd.conf:4: unknown key 'foo'");
}
END_TEST

START_TEST(test_err_numbers)
{
	expect_err(CONF_HUB, "\n\nport = 70000\n",
	    "hubd.conf:3: port: 70000 is out of range 1..65535");
	expect_err(CONF_HUB, "port = 0\n",
	    "hubd.conf:1: port: 0 is out of range 1..65535");
	expect_err(CONF_HUB, "port = 5001x\n",
	    "hubd.conf:1: port: '5001x' is not a number");
	expect_err(CONF_HUB, "# c\nworkers = -4\n",
	    "hubd.conf:2: workers: -4 is out of range 1..1024");
	expect_err(CONF_HUB, "max_file_size = 99999999999999999999\n",
	    "hubd.conf:1: max_file_size: 99999999999999999999 is out of range "
	    "1..9007199254740991");
	expect_err(CONF_HUB, "max_file_size = -99999999999999999999\n",
	    "hubd.conf:1: max_file_size: -99999999999999999999 is out of range "
	    "1..9007199254740991");
	expect_err(CONF_HUB, "max_file_size = 9007199254740992\n",
	    "hubd.conf:1: max_file_size: 9007199254740992 is out of range "
	    "1..9007199254740991");
	expect_err(CONF_HUB, "port = 99999999999999999999\n",
	    "hubd.conf:1: port: 99999999999999999999 is out of range 1..65535");
	expect_err(CONF_HUB, "rotate_every = 2147483648\n",
	    "hubd.conf:1: rotate_every: 2147483648 is out of range "
	    "1..2147483647");
	expect_err(CONF_HUB, "port = +5001\n",
	    "hubd.conf:1: port: '+5001' is not a number");
	expect_err(CONF_HUB, "port = 0x10\n",
	    "hubd.conf:1: port: '0x10' is not a number");
	expect_err(CONF_HUB, "port = 50 01\n",
	    "hubd.conf:1: port: '50 01' is not a number");
	expect_err(CONF_HUB, "port = -\n",
	    "hubd.conf:1: port: '-' is not a number");
	expect_err(CONF_HUB, "port = 5e3\n",
	    "hubd.conf:1: port: '5e3' is not a number");
	expect_err(CONF_HUB, "multicast_ttl = 256\n",
	    "hubd.conf:1: multicast_ttl: 256 is out of range 1..255");
	expect_err(CONF_HUB, "max_message_size = 4095\n",
	    "hubd.conf:1: max_message_size: 4095 is out of range "
	    "4096..268435456");
	expect_err(CONF_HUB, "metrics_port = -1\n",
	    "hubd.conf:1: metrics_port: -1 is out of range 0..65535");
	expect_err(CONF_HUB, "transfer_rate_limit = -1\n",
	    "hubd.conf:1: transfer_rate_limit: -1 is out of range "
	    "0..9007199254740991");
	expect_err(CONF_HUB, "discovery_timeout = 61\n",
	    "hubd.conf:1: discovery_timeout: 61 is out of range 1..60");
}
END_TEST

START_TEST(test_err_chunk_size)
{
	expect_err(CONF_HUB, "chunk_size = 100000\n",
	    "hubd.conf:1: chunk_size: 100000 is not a power of two");
	expect_err(CONF_HUB, "chunk_size = 32768\n",
	    "hubd.conf:1: chunk_size: 32768 is out of range 65536..8388608");
	expect_err(CONF_HUB, "chunk_size = 16777216\n",
	    "hubd.conf:1: chunk_size: 16777216 is out of range 65536..8388608");
}
END_TEST

START_TEST(test_duration)
{
	static const struct {
		const char *v;
		int64_t secs;
	} ok[] = {
		{ "1", 1 }, { "600", 600 }, { "600s", 600 }, { "90m", 5400 },
		{ "12h", 43200 }, { "30d", 2592000 }, { "3650d", 315360000 },
		{ "315360000", 315360000 }, { "0001d", 86400 },
	};
	struct conf c;
	char text[64];

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(text, sizeof(text), "journal_retain = %s\n", ok[i].v);
		expect_ok(&c, CONF_HUB, text);
		ck_assert_int_eq(c.journal_retain, ok[i].secs);
	}
	expect_err(CONF_HUB, "journal_retain = 30x\n",
	    "hubd.conf:1: journal_retain: '30x' is not a duration (N, Ns, Nm, "
	    "Nh or Nd)");
	expect_err(CONF_HUB, "journal_retain = 1dd\n",
	    "hubd.conf:1: journal_retain: '1dd' is not a duration (N, Ns, Nm, "
	    "Nh or Nd)");
	expect_err(CONF_HUB, "journal_retain = d\n",
	    "hubd.conf:1: journal_retain: 'd' is not a duration (N, Ns, Nm, "
	    "Nh or Nd)");
	expect_err(CONF_HUB, "journal_retain = 1 d\n",
	    "hubd.conf:1: journal_retain: '1 d' is not a duration (N, Ns, Nm, "
	    "Nh or Nd)");
	expect_err(CONF_HUB, "journal_retain = 0\n",
	    "hubd.conf:1: journal_retain: 0 is out of range 1s..3650d");
	expect_err(CONF_HUB, "journal_retain = 0d\n",
	    "hubd.conf:1: journal_retain: 0d is out of range 1s..3650d");
	expect_err(CONF_HUB, "journal_retain = -1d\n",
	    "hubd.conf:1: journal_retain: -1d is out of range 1s..3650d");
	expect_err(CONF_HUB, "journal_retain = 3651d\n",
	    "hubd.conf:1: journal_retain: 3651d is out of range 1s..3650d");
	expect_err(CONF_HUB, "journal_retain = 315360001\n",
	    "hubd.conf:1: journal_retain: 315360001 is out of range 1s..3650d");
	expect_err(CONF_HUB, "journal_retain = 99999999999999999999d\n",
	    "hubd.conf:1: journal_retain: 99999999999999999999d is out of range "
	    "1s..3650d");
	expect_err(CONF_HUB, "journal_retain = 9223372036854775807d\n",
	    "hubd.conf:1: journal_retain: 9223372036854775807d is out of range "
	    "1s..3650d");
}
END_TEST

START_TEST(test_err_addresses)
{
	expect_err(CONF_HUB, "multicast_group = 10.1.2.3\n",
	    "hubd.conf:1: multicast_group: '10.1.2.3' is not an IPv4 multicast "
	    "address");
	expect_err(CONF_HUB, "multicast_group = 239.255.77\n",
	    "hubd.conf:1: multicast_group: '239.255.77' is not an IPv4 "
	    "multicast address");
	expect_err(CONF_HUB, "multicast_group = ff02::1\n",
	    "hubd.conf:1: multicast_group: 'ff02::1' is not an IPv4 multicast "
	    "address");
	expect_err(CONF_HUB, "multicast_interface = ::1\n",
	    "hubd.conf:1: multicast_interface: '::1' is not an IPv4 address");
	expect_err(CONF_HUB, "bind = localhost\n",
	    "hubd.conf:1: bind: 'localhost' is not an IPv4 or IPv6 address");
	expect_err(CONF_HUB, "metrics_bind = 127.0.0.256\n",
	    "hubd.conf:1: metrics_bind: '127.0.0.256' is not an IPv4 or IPv6 "
	    "address");
	expect_err(CONF_CLIENT, "broadcast = ::1\n",
	    "hubd.conf:1: broadcast: '::1' is not an IPv4 address");
	expect_err(CONF_CLIENT, "hub = host:0\n",
	    "hubd.conf:1: hub: 'host:0' is not HOST or HOST:PORT");
	expect_err(CONF_CLIENT, "hub = host:\n",
	    "hubd.conf:1: hub: 'host:' is not HOST or HOST:PORT");
	expect_err(CONF_CLIENT, "hub = host:70000\n",
	    "hubd.conf:1: hub: 'host:70000' is not HOST or HOST:PORT");
	expect_err(CONF_CLIENT, "hub = host:-1\n",
	    "hubd.conf:1: hub: 'host:-1' is not HOST or HOST:PORT");
	expect_err(CONF_CLIENT, "hub = [::1\n",
	    "hubd.conf:1: hub: '[::1' is not HOST or HOST:PORT");
	expect_err(CONF_CLIENT, "hub = [zz]:1\n",
	    "hubd.conf:1: hub: '[zz]:1' is not HOST or HOST:PORT");
	expect_err(CONF_CLIENT, "hub = a b\n",
	    "hubd.conf:1: hub: 'a b' is not HOST or HOST:PORT");
	expect_err(CONF_CLIENT, "hub = :5001\n",
	    "hubd.conf:1: hub: ':5001' is not HOST or HOST:PORT");
}
END_TEST

START_TEST(test_err_strings)
{
	expect_err(CONF_HUB, "pidfile = run/hubd.pid\n",
	    "hubd.conf:1: pidfile: 'run/hubd.pid' is not an absolute path");
	expect_err(CONF_HUB, "state_dir = ~/x\n",
	    "hubd.conf:1: state_dir: '~/x' is not an absolute path");
	expect_err(CONF_HUB, "user = Root\n",
	    "hubd.conf:1: user: 'Root' is not a valid user name");
	expect_err(CONF_HUB, "user = 1abc\n",
	    "hubd.conf:1: user: '1abc' is not a valid user name");
	expect_err(CONF_HUB, "user = abcdefghijklmnopqrstuvwxyz0123456\n",
	    "hubd.conf:1: user: 'abcdefghijklmnopqrstuvwxyz0123456' is not a "
	    "valid user name");
	expect_err(CONF_HUB, "log_level = verbose\n",
	    "hubd.conf:1: log_level: unknown level 'verbose' (debug, info, warn "
	    "or error)");
	expect_err(CONF_HUB, "log_level = INFO\n",
	    "hubd.conf:1: log_level: unknown level 'INFO' (debug, info, warn or "
	    "error)");
}
END_TEST

START_TEST(test_err_roles_policy)
{
	char text[512];
	size_t n;

	expect_err(CONF_HUB, "[collection docs]\nread = child Admin\n",
	    "hubd.conf:2: read: invalid role 'Admin' (1-32 chars of a-z, 0-9, "
	    "'_' and '-')");
	expect_err(CONF_HUB, "[collection docs]\nwrite = a,b\n",
	    "hubd.conf:2: write: invalid role 'a,b' (1-32 chars of a-z, 0-9, "
	    "'_' and '-')");
	expect_err(CONF_HUB, "[collection docs]\nread = "
	    "abcdefghijklmnopqrstuvwxyz0123456\n",
	    "hubd.conf:2: read: invalid role 'abcdefghijklmnopqrstuvwxyz0123456' "
	    "(1-32 chars of a-z, 0-9, '_' and '-')");
	expect_err(CONF_HUB, "[collection docs]\n\nwrite = admin child admin\n",
	    "hubd.conf:3: write: duplicate role 'admin'");
	n = (size_t)snprintf(text, sizeof(text), "[collection docs]\nread =");
	for (int i = 0; i < CONF_MAX_ROLES + 1; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, " r%d", i);
	expect_err(CONF_HUB, text, "hubd.conf:2: read: more than 16 roles");
	expect_err(CONF_HUB, "[collection docs]\nconflict = newest\n",
	    "hubd.conf:2: conflict: unknown policy 'newest' (hub-wins, "
	    "last-writer-wins or keep-both)");
	expect_err(CONF_HUB, "[collection docs]\nconflict =\n",
	    "hubd.conf:2: conflict: unknown policy '' (hub-wins, "
	    "last-writer-wins or keep-both)");
}
END_TEST

START_TEST(test_sections)
{
	const struct conf_collection *col;
	struct conf c;
	char text[1024];
	size_t n;

	expect_ok(&c, CONF_HUB,
	    "port = 6001\n"
	    "[collection plain]\n"
	    "[collection lww]\n"
	    "read = child\n"
	    "write =\n"
	    "conflict = last-writer-wins\n"
	    "[collection both]\n"
	    "conflict = keep-both\n"
	    "write = admin editor\n");
	ck_assert_uint_eq(c.ncollections, 3);
	col = conf_collection(&c, "plain");
	ck_assert_ptr_nonnull(col);
	ck_assert_int_eq(col->nread, 1);
	ck_assert_str_eq(col->read[0], "admin");
	ck_assert_int_eq(col->nwrite, 1);
	ck_assert_str_eq(col->write[0], "admin");
	ck_assert_int_eq(col->conflict, CONF_HUB_WINS);
	col = conf_collection(&c, "lww");
	ck_assert_int_eq(col->nread, 1);
	ck_assert_str_eq(col->read[0], "child");
	ck_assert_int_eq(col->nwrite, 0);
	ck_assert_int_eq(col->conflict, CONF_LAST_WRITER_WINS);
	col = conf_collection(&c, "both");
	ck_assert_int_eq(col->nwrite, 2);
	ck_assert_str_eq(col->write[1], "editor");
	ck_assert_int_eq(col->conflict, CONF_KEEP_BOTH);
	conf_free(&c);

	/* Exactly CONF_MAX_ROLES roles is fine. */
	n = (size_t)snprintf(text, sizeof(text), "[collection docs]\nread =");
	for (int i = 0; i < CONF_MAX_ROLES; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, " r%d", i);
	expect_ok(&c, CONF_HUB, text);
	ck_assert_int_eq(c.collections[0].nread, CONF_MAX_ROLES);
	ck_assert_str_eq(c.collections[0].read[15], "r15");
	conf_free(&c);

	/* A 64-char name is the longest. */
	expect_ok(&c, CONF_HUB, "[collection "
	    "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz01]\n");
	ck_assert_uint_eq(strlen(c.collections[0].name), 64);
	conf_free(&c);
}
END_TEST

START_TEST(test_err_duplicates)
{
	expect_err(CONF_HUB, "port = 5001\n\nport = 5003\n",
	    "hubd.conf:3: duplicate key 'port' (first on line 1)");
	expect_err(CONF_HUB, "journal_retain = 1d\nlog_level = info\n"
	    "journal_retain = 1d\n",
	    "hubd.conf:3: duplicate key 'journal_retain' (first on line 1)");
	expect_err(CONF_HUB, "[collection a]\nread = x\nwrite = y\nread = y\n",
	    "hubd.conf:4: duplicate key 'read' (first on line 2)");
	expect_err(CONF_HUB, "[collection a]\n[collection b]\n# c\n"
	    "[collection a]\n",
	    "hubd.conf:4: duplicate section [collection a] (first on line 1)");
}
END_TEST

START_TEST(test_err_placement)
{
	expect_err(CONF_HUB, "read = admin\n",
	    "hubd.conf:1: key 'read' is only allowed in a [collection NAME] "
	    "section");
	expect_err(CONF_HUB, "port = 1\nconflict = hub-wins\n",
	    "hubd.conf:2: key 'conflict' is only allowed in a [collection NAME] "
	    "section");
	expect_err(CONF_HUB, "[collection docs]\nread = a\nport = 5001\n",
	    "hubd.conf:3: key 'port' is not allowed in [collection docs]");
	expect_err(CONF_HUB, "[collection docs]\nreed = a\n",
	    "hubd.conf:2: unknown key 'reed'");
	expect_err(CONF_HUB, "[collections docs]\n",
	    "hubd.conf:1: invalid section header (expected [collection NAME])");
	expect_err(CONF_HUB, "[collection]\n",
	    "hubd.conf:1: invalid section header (expected [collection NAME])");
	expect_err(CONF_HUB, "[collection docs\n",
	    "hubd.conf:1: invalid section header (expected [collection NAME])");
	expect_err(CONF_HUB, "[collection docs]x\n",
	    "hubd.conf:1: invalid section header (expected [collection NAME])");
	expect_err(CONF_HUB, "[]\n",
	    "hubd.conf:1: invalid section header (expected [collection NAME])");
	expect_err(CONF_HUB, "[collection Docs]\n",
	    "hubd.conf:1: invalid collection name 'Docs' (1-64 chars of a-z, "
	    "0-9, '_', '.' and '-')");
	expect_err(CONF_HUB, "[collection a b]\n",
	    "hubd.conf:1: invalid collection name 'a b' (1-64 chars of a-z, "
	    "0-9, '_', '.' and '-')");
	expect_err(CONF_HUB, "[collection "
	    "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz012]\n",
	    "hubd.conf:1: invalid collection name "
	    "'abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz01' "
	    "(1-64 chars of a-z, 0-9, '_', '.' and '-')");
}
END_TEST

START_TEST(test_err_kind)
{
	expect_err(CONF_HUB, "port = 5001\nhub = 10.0.0.1\n",
	    "hubd.conf:2: key 'hub' is a client setting, not allowed in the hub "
	    "configuration");
	expect_err(CONF_HUB, "timeout = 5\n",
	    "hubd.conf:1: key 'timeout' is a client setting, not allowed in the "
	    "hub configuration");
	expect_err(CONF_CLIENT, "heartbeat_interval = 4\n",
	    "hubd.conf:1: key 'heartbeat_interval' is a hub setting, not "
	    "allowed in the client configuration");
	expect_err(CONF_CLIENT, "max_clock_skew = 0\n",
	    "hubd.conf:1: max_clock_skew: 0 is out of range 1..86400");
	expect_err(CONF_CLIENT, "workers = 4\n",
	    "hubd.conf:1: key 'workers' is a hub setting, not allowed in the "
	    "client configuration");
	expect_err(CONF_CLIENT, "port = 1\n[collection docs]\n",
	    "hubd.conf:2: section [collection docs] is a hub setting, not "
	    "allowed in the client configuration");
}
END_TEST

START_TEST(test_err_bytes)
{
	static const char nul[] = "port = 5001\nfile_port = 50\0002\n";
	char *big;

	expect_err_len(CONF_HUB, nul, sizeof(nul) - 1,
	    "hubd.conf:2: NUL byte in line");
	expect_err_len(CONF_HUB, "\0", 1, "hubd.conf:1: NUL byte in line");
	expect_err_len(CONF_HUB, "# ok\n# \0 in a comment\n", 22,
	    "hubd.conf:2: NUL byte in line");

	/* 4096 bytes pass (plus a CR), 4097 do not. */
	big = malloc(8192);
	ck_assert_ptr_nonnull(big);
	memset(big, 'x', 8192);
	memcpy(big, "port = 1\n#", 10);
	memcpy(big + 9 + 4096, "\r\nport = 2\n", 12);
	expect_err(CONF_HUB, big, "hubd.conf:3: duplicate key 'port' (first on "
	    "line 1)");
	memcpy(big + 9 + 4096, "x\nport = 2\n", 12);
	expect_err(CONF_HUB, big, "hubd.conf:2: line longer than 4096 bytes");
	memset(big, 'x', 8192);
	big[8191] = '\0';
	expect_err(CONF_HUB, big, "hubd.conf:1: line longer than 4096 bytes");
	free(big);
}
END_TEST

START_TEST(test_unchanged_after_error)
{
	struct conf c, before;
	struct conf_collection col0;
	char err[CONF_ERR_LEN];

	expect_ok(&c, CONF_HUB, "port = 6001\n[collection a]\nread = x\n");
	memcpy(&before, &c, sizeof(c));
	memcpy(&col0, &c.collections[0], sizeof(col0));

	/* Values before the bad line were parsed, and are dropped. */
	ck_assert_int_eq(conf_load_buffer(&c, "port = 7001\nworkers = 2\n"
	    "[collection b]\nread = y\nbogus = 1\n", 58, "second.conf", err,
	    sizeof(err)), TR_ECONF);
	ck_assert_str_eq(err, "second.conf:5: unknown key 'bogus'");
	ck_assert(memcmp(&c, &before, sizeof(c)) == 0);
	ck_assert_uint_eq(c.ncollections, 1);
	ck_assert(memcmp(&c.collections[0], &col0, sizeof(col0)) == 0);
	ck_assert_ptr_null(conf_collection(&c, "b"));

	/* A later file may override a key and add sections, but not repeat one. */
	ck_assert_int_eq(conf_load_buffer(&c, "port = 7001\n[collection b]\n",
	    27, "second.conf", err, sizeof(err)), 0);
	ck_assert_uint_eq(c.port, 7001);
	ck_assert_uint_eq(c.ncollections, 2);
	ck_assert_ptr_nonnull(conf_collection(&c, "a"));
	ck_assert_ptr_nonnull(conf_collection(&c, "b"));
	ck_assert_int_eq(conf_load_buffer(&c, "\n[collection a]\n", 16,
	    "third.conf", err, sizeof(err)), TR_ECONF);
	ck_assert_str_eq(err, "third.conf:2: duplicate section [collection a] "
	    "(defined earlier)");
	ck_assert_uint_eq(c.ncollections, 2);
	conf_free(&c);
}
END_TEST

START_TEST(test_set)
{
	struct conf c, before;
	char err[CONF_ERR_LEN];
	char *longpath;

	conf_defaults(&c, CONF_HUB);
	ck_assert_int_eq(conf_set(&c, "port", "6000", err, sizeof(err)), 0);
	ck_assert_uint_eq(c.port, 6000);
	ck_assert_int_eq(conf_set(&c, "log_level", "debug", err, sizeof(err)),
	    0);
	ck_assert_int_eq(c.log_level, LOG_LEVEL_DEBUG);
	ck_assert_int_eq(conf_set(&c, "journal_retain", "90m", err,
	    sizeof(err)), 0);
	ck_assert_int_eq(c.journal_retain, 5400);
	ck_assert_int_eq(conf_set(&c, "bind", "127.0.0.1", err, sizeof(err)), 0);
	ck_assert_str_eq(c.bind, "127.0.0.1");
	/* Setting twice is no duplicate: the command line overrides. */
	ck_assert_int_eq(conf_set(&c, "port", "6001", err, sizeof(err)), 0);
	ck_assert_uint_eq(c.port, 6001);

	memcpy(&before, &c, sizeof(c));
	ck_assert_int_eq(conf_set(&c, "port", "0", err, sizeof(err)), TR_ECONF);
	ck_assert_str_eq(err, "port: 0 is out of range 1..65535");
	ck_assert_int_eq(conf_set(&c, "port", " 6002", err, sizeof(err)),
	    TR_ECONF);
	ck_assert_str_eq(err, "port: ' 6002' is not a number");
	ck_assert_int_eq(conf_set(&c, "port", "", err, sizeof(err)), TR_ECONF);
	ck_assert_str_eq(err, "port: missing value");
	ck_assert_int_eq(conf_set(&c, "prot", "1", err, sizeof(err)), TR_ECONF);
	ck_assert_str_eq(err, "prot: unknown key");
	ck_assert_int_eq(conf_set(&c, "hub", "h", err, sizeof(err)), TR_ECONF);
	ck_assert_str_eq(err, "hub: a client setting, not allowed in the hub "
	    "configuration");
	ck_assert_int_eq(conf_set(&c, "read", "admin", err, sizeof(err)),
	    TR_ECONF);
	ck_assert_str_eq(err, "read: only allowed in a [collection NAME] "
	    "section");
	ck_assert_int_eq(conf_set(&c, "user", "a\tb", err, sizeof(err)),
	    TR_ECONF);
	ck_assert_str_eq(err, "user: control character in value");
	ck_assert_int_eq(conf_set(&c, "chunk_size", "65537", err, sizeof(err)),
	    TR_ECONF);
	ck_assert_str_eq(err, "chunk_size: 65537 is not a power of two");
	longpath = malloc(5000);
	ck_assert_ptr_nonnull(longpath);
	memset(longpath, 'a', 4999);
	longpath[0] = '/';
	longpath[4999] = '\0';
	ck_assert_int_eq(conf_set(&c, "state_dir", longpath, err, sizeof(err)),
	    TR_ECONF);
	ck_assert_str_eq(err, "state_dir: value longer than 4095 bytes");
	longpath[4095] = '\0';
	ck_assert(memcmp(&c, &before, sizeof(c)) == 0);
	ck_assert_int_eq(conf_set(&c, "state_dir", longpath, err, sizeof(err)),
	    0);
	ck_assert_uint_eq(strlen(c.state_dir), 4095);
	free(longpath);

	/* A tiny or absent error buffer is fine. */
	ck_assert_int_eq(conf_set(&c, "port", "x", NULL, 0), TR_ECONF);
	ck_assert_int_eq(conf_set(&c, "port", "x", err, 5), TR_ECONF);
	ck_assert_str_eq(err, "port");

	conf_defaults(&c, CONF_CLIENT);
	ck_assert_int_eq(conf_set(&c, "timeout", "5", err, sizeof(err)), 0);
	ck_assert_int_eq(c.timeout, 5);
	ck_assert_int_eq(conf_set(&c, "hub", "10.1.1.1:6001", err, sizeof(err)),
	    0);
	ck_assert_str_eq(c.hub, "10.1.1.1:6001");
	ck_assert_int_eq(conf_set(&c, "workers", "5", err, sizeof(err)),
	    TR_ECONF);
	ck_assert_str_eq(err, "workers: a hub setting, not allowed in the "
	    "client configuration");
}
END_TEST

START_TEST(test_validate)
{
	struct conf c;
	char err[CONF_ERR_LEN];

	conf_defaults(&c, CONF_HUB);
	ck_assert_int_eq(conf_validate(&c, err, sizeof(err)), 0);

	c.batch_size = 1001;
	ck_assert_int_eq(conf_validate(&c, err, sizeof(err)), TR_ECONF);
	ck_assert_str_eq(err, "batch_size (1001) is larger than max_batch "
	    "(1000)");
	c.batch_size = 1000;
	ck_assert_int_eq(conf_validate(&c, err, sizeof(err)), 0);

	c.file_port = c.port;
	ck_assert_int_eq(conf_validate(&c, err, sizeof(err)), TR_ECONF);
	ck_assert_str_eq(err, "port (5001), file_port (5001) and discovery_port "
	    "(5000) must differ");
	c.file_port = 5002;
	c.discovery_port = 5002;
	ck_assert_int_eq(conf_validate(&c, err, sizeof(err)), TR_ECONF);
	c.discovery_port = 5001;
	ck_assert_int_eq(conf_validate(&c, err, sizeof(err)), TR_ECONF);
	c.discovery_port = 5000;

	c.metrics_port = 5002;
	ck_assert_int_eq(conf_validate(&c, err, sizeof(err)), TR_ECONF);
	ck_assert_str_eq(err, "metrics_port (5002) must differ from port and "
	    "file_port");
	c.metrics_port = 9100;
	ck_assert_int_eq(conf_validate(&c, err, sizeof(err)), 0);

	/* The client has no cross-key rules. */
	conf_defaults(&c, CONF_CLIENT);
	c.batch_size = 5000;
	c.file_port = c.port;
	ck_assert_int_eq(conf_validate(&c, err, sizeof(err)), 0);
}
END_TEST

START_TEST(test_copy)
{
	struct conf a, b;

	expect_ok(&a, CONF_HUB, sample_conf);
	ck_assert_int_eq(conf_copy(&b, &a), 0);
	ck_assert_uint_eq(b.ncollections, 1);
	ck_assert_ptr_nonnull(b.collections);
	ck_assert_ptr_ne(b.collections, a.collections);
	ck_assert(memcmp(b.collections, a.collections,
	    sizeof(*a.collections)) == 0);
	ck_assert_uint_eq(b.port, a.port);
	ck_assert_str_eq(b.multicast_group, a.multicast_group);
	ck_assert_int_eq(b.kind, CONF_HUB);

	/* The copy is independent. */
	b.collections[0].conflict = CONF_KEEP_BOTH;
	b.port = 9;
	ck_assert_int_eq(a.collections[0].conflict, CONF_HUB_WINS);
	ck_assert_uint_eq(a.port, 5001);
	conf_free(&a);
	ck_assert_str_eq(b.collections[0].name, "documents");
	conf_free(&b);
	ck_assert_ptr_null(b.collections);
	ck_assert_uint_eq(b.ncollections, 0);

	/* No collections: nothing allocated. */
	conf_defaults(&a, CONF_CLIENT);
	ck_assert_int_eq(conf_copy(&b, &a), 0);
	ck_assert_ptr_null(b.collections);
	ck_assert_int_eq(b.kind, CONF_CLIENT);
	conf_free(&b);
	conf_free(&b);
}
END_TEST

START_TEST(test_helpers)
{
	static const char *const child[] = { "child" };
	static const char *const several[] = { "nobody", NULL, "admin" };
	struct conf c;

	expect_ok(&c, CONF_HUB, sample_conf);
	ck_assert(conf_roles_match(c.collections[0].read,
	    c.collections[0].nread, child, 1));
	ck_assert(!conf_roles_match(c.collections[0].write,
	    c.collections[0].nwrite, child, 1));
	ck_assert(conf_roles_match(c.collections[0].write,
	    c.collections[0].nwrite, several, 3));
	ck_assert(!conf_roles_match(c.collections[0].write,
	    c.collections[0].nwrite, several, 2));
	ck_assert(!conf_roles_match(c.collections[0].write, 0, several, 3));
	ck_assert_str_eq(conf_policy_name(CONF_HUB_WINS), "hub-wins");
	ck_assert_str_eq(conf_policy_name(CONF_LAST_WRITER_WINS),
	    "last-writer-wins");
	ck_assert_str_eq(conf_policy_name(CONF_KEEP_BOTH), "keep-both");
	ck_assert_str_eq(conf_policy_name((enum conf_policy)7), "unknown");
	ck_assert_ptr_null(conf_collection(&c, ""));
	conf_free(&c);
}
END_TEST

START_TEST(test_load_file)
{
	struct conf c;
	char err[CONF_ERR_LEN], *dir, *path, *missing;

	dir = tu_tmpdir();
	ck_assert_int_ne(asprintf(&path, "%s/hubd.conf", dir), -1);
	ck_assert_int_ne(asprintf(&missing, "%s/none.conf", dir), -1);
	tu_write_file(path, sample_conf, strlen(sample_conf));
	conf_defaults(&c, CONF_HUB);
	ck_assert_int_eq(conf_load(&c, path, err, sizeof(err)), 0);
	ck_assert_uint_eq(c.ncollections, 1);
	ck_assert_int_eq(c.journal_retain, 2592000);
	conf_free(&c);

	tu_write_file(path, "port = 5001\nprot = 5002\n", 24);
	conf_defaults(&c, CONF_HUB);
	ck_assert_int_eq(conf_load(&c, path, err, sizeof(err)), TR_ECONF);
	ck_assert(strncmp(err, path, strlen(path)) == 0);
	ck_assert_str_eq(err + strlen(path), ":2: unknown key 'prot'");

	ck_assert_int_eq(conf_load(&c, missing, err, sizeof(err)),
	    TR_ENOTFOUND);
	ck_assert(strncmp(err, missing, strlen(missing)) == 0);
	ck_assert_str_eq(err + strlen(missing), ": No such file or directory");
	ck_assert_int_eq(conf_load(&c, dir, err, sizeof(err)), TR_ECONF);
	ck_assert_str_eq(err + strlen(dir), ": not a regular file");
	ck_assert_uint_eq(c.port, 5001);
	free(path);
	free(missing);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

/* Build the suite. */
static Suite *
conf_suite(void)
{
	Suite *s = suite_create("conf");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_sample_hub);
	tcase_add_test(tc, test_sample_client);
	tcase_add_test(tc, test_all_hub_keys);
	tcase_add_test(tc, test_all_client_keys);
	tcase_add_test(tc, test_syntax);
	tcase_add_test(tc, test_err_unknown_key);
	tcase_add_test(tc, test_err_numbers);
	tcase_add_test(tc, test_err_chunk_size);
	tcase_add_test(tc, test_duration);
	tcase_add_test(tc, test_err_addresses);
	tcase_add_test(tc, test_err_strings);
	tcase_add_test(tc, test_err_roles_policy);
	tcase_add_test(tc, test_sections);
	tcase_add_test(tc, test_err_duplicates);
	tcase_add_test(tc, test_err_placement);
	tcase_add_test(tc, test_err_kind);
	tcase_add_test(tc, test_err_bytes);
	tcase_add_test(tc, test_unchanged_after_error);
	tcase_add_test(tc, test_set);
	tcase_add_test(tc, test_validate);
	tcase_add_test(tc, test_copy);
	tcase_add_test(tc, test_helpers);
	tcase_add_test(tc, test_load_file);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(conf_suite());
}
