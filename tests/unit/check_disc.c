/* Unit tests of the node's hub discovery against a fake hub on 127.0.0.1 UDP (unicast, multicast over lo). */
#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "disc.h"
#include "err.h"
#include "hex.h"
#include "kdf.h"
#include "log.h"
#include "msg.h"
#include "testutil.h"
#include "thr.h"

#define GROUP		"239.255.77.77"
#define OTHER_PIN	"1111111111111111111111111111111111111111111111111111111111111111"
#define MAX_REPLIES	12

/* How a fake answer is spoiled. */
enum bad {
	BAD_NONE = 0,
	BAD_SIG,		/* signature altered */
	BAD_KEY,		/* signed with another site's key */
	BAD_IRT,		/* in_reply_to not one of ours */
	BAD_NO_IRT,		/* no in_reply_to */
	BAD_STALE,		/* timestamp 301 s old */
	BAD_FUTURE,		/* timestamp 301 s ahead */
	BAD_BIG,		/* 513 bytes or more */
	BAD_TYPE,		/* a HEARTBEAT, not a DISCOVERY_RESPONSE */
	BAD_LOAD,		/* load 101 */
	BAD_CERT,		/* cert_sha256 in uppercase */
	BAD_PORT,		/* port 0 */
	BAD_JSON		/* not JSON */
};

/* One answer the fake hub sends to each broadcast. */
struct reply {
	char hub_id[TR_ID_MAX + 1];
	int load;
	int pinned;
	enum bad bad;
};

/* The fake hub: a thread answering broadcasts on a UDP socket. */
struct fakehub {
	const struct link_creds *cr;
	int rfd;			/* where broadcasts arrive */
	int sfd;			/* where answers leave from */
	uint16_t port;
	int skip;			/* broadcasts to leave unanswered first */
	struct reply replies[MAX_REPLIES];
	int nreplies;
	int seen;			/* broadcasts received (atomic) */
	char ids[8][TR_UUID_LEN + 1];
	char fault[160];		/* what was wrong with a broadcast */
	int stop;			/* atomic */
	pthread_t thread;
};

static struct link_creds creds;

/* Credentials of a test node with NODE_ID. */
static void
make_creds(struct link_creds *cr, const char *node_id)
{
	memset(cr, 0, sizeof(*cr));
	snprintf(cr->site_id, sizeof(cr->site_id), "site-1");
	snprintf(cr->node_id, sizeof(cr->node_id), "%s", node_id);
	snprintf(cr->node_name, sizeof(cr->node_name), "A node with a name");
	cr->method = LINK_PSK;
	ck_assert_int_eq(kdf_random(cr->site_key, TR_KEY_LEN), 0);
	ck_assert_int_eq(kdf_random(cr->node_key, TR_KEY_LEN), 0);
	snprintf(cr->hub_cert_sha256, sizeof(cr->hub_cert_sha256), "%s",
	    "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789");
}

/* Per-test setup. */
static void
setup(void)
{
	log_init("check_disc", -1, 0);
	make_creds(&creds, "node-1");
}

/* Build a DISCOVERY_RESPONSE of R answering IRT, spoiled as R->bad, into BUF. */
static void
make_response(const struct link_creds *cr, const struct reply *r,
    const char *irt, char *buf, size_t cap, size_t *len)
{
	json_object *p = json_object_new_object(), *env;
	char other_irt[TR_UUID_LEN + 1], when[32], sig[2 * TR_MAC_LEN + 1];
	uint8_t other_key[TR_KEY_LEN];
	char *text = NULL, pad[520];
	size_t n = 0;

	json_object_object_add(p, "port", json_object_new_int(
	    r->bad == BAD_PORT ? 0 : 6001));
	json_object_object_add(p, "file_port", json_object_new_int(6002));
	json_object_object_add(p, "cert_sha256", json_object_new_string(
	    r->bad == BAD_CERT ? "ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789" :
	    r->pinned ? cr->hub_cert_sha256 : OTHER_PIN));
	json_object_object_add(p, "load", json_object_new_int(
	    r->bad == BAD_LOAD ? 101 : r->load));
	if (r->bad == BAD_BIG) {
		memset(pad, 'x', sizeof(pad) - 1);
		pad[sizeof(pad) - 1] = '\0';
		json_object_object_add(p, "pad", json_object_new_string(pad));
	}
	msg_new_uuid(other_irt);
	env = msg_new(r->bad == BAD_TYPE ? TR_MSG_HEARTBEAT :
	    TR_MSG_DISCOVERY_RESPONSE, r->hub_id, NULL,
	    r->bad == BAD_NO_IRT ? NULL : r->bad == BAD_IRT ? other_irt : irt, p);
	ck_assert_ptr_nonnull(env);
	if (r->bad == BAD_STALE || r->bad == BAD_FUTURE) {
		msg_format_time(msg_now_ms() + (r->bad == BAD_STALE ? -301000 :
		    301000), when, sizeof(when));
		json_object_object_add(env, "timestamp",
		    json_object_new_string(when));
	}
	if (r->bad == BAD_KEY) {
		ck_assert_int_eq(kdf_random(other_key, sizeof(other_key)), 0);
		ck_assert_int_eq(msg_sign(env, other_key, TR_KEY_LEN), 0);
	} else
		ck_assert_int_eq(msg_sign(env, cr->site_key, TR_KEY_LEN), 0);
	if (r->bad == BAD_SIG) {
		snprintf(sig, sizeof(sig), "%s", json_object_get_string(
		    json_object_object_get(env, "signature")));
		sig[0] = sig[0] == '0' ? '1' : '0';
		json_object_object_add(env, "signature",
		    json_object_new_string(sig));
	}
	ck_assert_int_eq(msg_encode(env, &text, &n), 0);
	json_object_put(env);
	if (r->bad == BAD_JSON)
		n = (size_t)snprintf(text, n, "{\"not\": json");
	ck_assert_uint_le(n, cap);
	if (r->bad == BAD_BIG)
		ck_assert_uint_gt(n, TR_UDP_MAX);
	else
		ck_assert_uint_le(n, TR_UDP_MAX);
	memcpy(buf, text, n);
	*len = n;
	free(text);
}

/* Check one broadcast as the hub would; a fault is noted in H->fault. */
static int
check_broadcast(struct fakehub *h, const char *buf, size_t len)
{
	json_object *env = NULL, *src;
	const char *site;
	int ok = 0;

	if (len > TR_UDP_MAX)
		snprintf(h->fault, sizeof(h->fault), "broadcast of %zu bytes",
		    len);
	else if (msg_parse(buf, len, &env) != 0)
		snprintf(h->fault, sizeof(h->fault), "unparsable broadcast");
	else if (strcmp(msg_type(env), TR_MSG_DISCOVERY_BROADCAST) != 0 ||
	    msg_verify(env, h->cr->site_key, TR_KEY_LEN) != 0)
		snprintf(h->fault, sizeof(h->fault), "bad type or signature");
	else if (msg_get_str(msg_payload(env), "site_id", &site) != 0 ||
	    strcmp(site, h->cr->site_id) != 0)
		snprintf(h->fault, sizeof(h->fault), "bad site_id");
	else if (strcmp(msg_source_id(env), h->cr->node_id) != 0 ||
	    !json_object_object_get_ex(env, "source", &src) ||
	    json_object_object_get_ex(src, "node_name", NULL))
		snprintf(h->fault, sizeof(h->fault), "bad source");
	else if (msg_in_reply_to(env) != NULL)
		snprintf(h->fault, sizeof(h->fault), "in_reply_to set");
	else {
		int i = __atomic_load_n(&h->seen, __ATOMIC_ACQUIRE);

		if (i < 8)
			snprintf(h->ids[i], sizeof(h->ids[i]), "%s", msg_id(env));
		__atomic_add_fetch(&h->seen, 1, __ATOMIC_RELEASE);
		ok = 1;
	}
	json_object_put(env);
	return ok;
}

/* The fake hub's thread. */
static void *
fakehub_main(void *arg)
{
	struct fakehub *h = arg;
	char buf[2048], out[2048];
	struct sockaddr_in from;
	struct pollfd pfd;
	socklen_t flen;
	ssize_t got;
	size_t len;

	while (!__atomic_load_n(&h->stop, __ATOMIC_ACQUIRE)) {
		pfd.fd = h->rfd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 50) <= 0)
			continue;
		flen = sizeof(from);
		got = recvfrom(h->rfd, buf, sizeof(buf), 0,
		    (struct sockaddr *)&from, &flen);
		if (got < 0 || !check_broadcast(h, buf, (size_t)got))
			continue;
		if (__atomic_load_n(&h->seen, __ATOMIC_ACQUIRE) <= h->skip)
			continue;
		for (int i = 0; i < h->nreplies; i++) {
			char irt[TR_UUID_LEN + 1];
			json_object *env = NULL;

			msg_parse(buf, (size_t)got, &env);
			snprintf(irt, sizeof(irt), "%s", msg_id(env));
			json_object_put(env);
			make_response(h->cr, &h->replies[i], irt, out,
			    sizeof(out), &len);
			sendto(h->sfd, out, len, 0, (struct sockaddr *)&from,
			    flen);
		}
	}
	return NULL;
}

/* A UDP socket bound to ADDR:0; its port into *PORT. */
static int
udp_bound(const char *addr, uint16_t *port)
{
	struct sockaddr_in sin;
	socklen_t slen = sizeof(sin);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	ck_assert_int_eq(inet_pton(AF_INET, addr, &sin.sin_addr), 1);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &slen), 0);
	if (port != NULL)
		*port = ntohs(sin.sin_port);
	return fd;
}

/* Start a fake hub: unicast on 127.0.0.1, or a member of GROUP on lo with MCAST. */
static void
fakehub_start(struct fakehub *h, const struct link_creds *cr, int mcast)
{
	struct ip_mreq mreq;

	memset(h, 0, sizeof(*h));
	h->cr = cr;
	if (mcast) {
		/* Bound to the group: only datagrams sent to it arrive. */
		h->rfd = udp_bound(GROUP, &h->port);
		inet_pton(AF_INET, GROUP, &mreq.imr_multiaddr);
		inet_pton(AF_INET, "127.0.0.1", &mreq.imr_interface);
		ck_assert_int_eq(setsockopt(h->rfd, IPPROTO_IP,
		    IP_ADD_MEMBERSHIP, &mreq, sizeof(mreq)), 0);
		h->sfd = udp_bound("127.0.0.1", NULL);
	} else {
		h->rfd = udp_bound("127.0.0.1", &h->port);
		h->sfd = h->rfd;
	}
}

/* Let the fake hub's thread run. */
static void
fakehub_go(struct fakehub *h)
{
	ck_assert_int_eq(pthread_create(&h->thread, NULL, fakehub_main, h), 0);
}

/* Stop the fake hub and close its sockets. */
static void
fakehub_stop(struct fakehub *h)
{
	__atomic_store_n(&h->stop, 1, __ATOMIC_RELEASE);
	pthread_join(h->thread, NULL);
	if (h->sfd != h->rfd)
		close(h->sfd);
	close(h->rfd);
	ck_assert_msg(h->fault[0] == '\0', "fake hub: %s", h->fault);
}

/* Add an answer to H. */
static void
add_reply(struct fakehub *h, const char *hub_id, int load, int pinned,
    enum bad bad)
{
	struct reply *r = &h->replies[h->nreplies++];

	ck_assert_int_le(h->nreplies, MAX_REPLIES);
	snprintf(r->hub_id, sizeof(r->hub_id), "%s", hub_id);
	r->load = load;
	r->pinned = pinned;
	r->bad = bad;
}

/* Options for a unicast discovery of 127.0.0.1:PORT. */
static void
unicast_opts(struct disc_opts *o, uint16_t port, int attempts, int timeout_ms)
{
	struct trosyn_discovery d;
	char err[256];

	memset(&d, 0, sizeof(d));
	d.port = port;
	d.unicast = "127.0.0.1";
	d.interface = "127.0.0.1";
	d.attempts = attempts;
	d.timeout_ms = timeout_ms;
	ck_assert_int_eq(disc_opts_set(o, &d, err, sizeof(err)), 0);
}

START_TEST(test_opts)
{
	struct trosyn_discovery d;
	struct disc_opts o;
	char err[256];

	ck_assert_int_eq(disc_opts_set(&o, NULL, err, sizeof(err)), 0);
	ck_assert_uint_eq(o.port, 5000);
	ck_assert_str_eq(o.group, "239.255.77.77");
	ck_assert_str_eq(o.iface, "0.0.0.0");
	ck_assert_int_eq(o.ttl, 1);
	ck_assert_str_eq(o.broadcast, "");
	ck_assert_str_eq(o.unicast, "");
	ck_assert_int_eq(o.timeout_ms, 1000);
	ck_assert_int_eq(o.attempts, 4);
	ck_assert_int_eq(o.skew_ms, 300000);
	memset(&d, 0, sizeof(d));
	d.group = "10.0.0.1";
	ck_assert_int_eq(disc_opts_set(&o, &d, err, sizeof(err)), TR_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "multicast"));
	d.group = NULL;
	d.interface = "lo";
	ck_assert_int_eq(disc_opts_set(&o, &d, err, sizeof(err)), TR_EINVAL);
	d.interface = NULL;
	d.broadcast = "255.255.255.256";
	ck_assert_int_eq(disc_opts_set(&o, &d, err, sizeof(err)), TR_EINVAL);
	d.broadcast = "255.255.255.255";
	d.attempts = DISC_MAX_ATTEMPTS + 1;
	ck_assert_int_eq(disc_opts_set(&o, &d, err, sizeof(err)), TR_EINVAL);
	d.attempts = 2;
	ck_assert_int_eq(disc_opts_set(&o, &d, err, sizeof(err)), 0);
	ck_assert_str_eq(o.broadcast, "255.255.255.255");
	ck_assert_int_eq(o.attempts, 2);
}
END_TEST

START_TEST(test_broadcast_form)
{
	struct link_creds cr;
	struct fakehub h;
	char buf[TR_UDP_MAX], id[TR_UUID_LEN + 1], big[TR_ID_MAX + 1];
	size_t len = 0;

	/* The longest node id still fits, without node_name. */
	memset(big, 'n', TR_ID_MAX);
	big[TR_ID_MAX] = '\0';
	make_creds(&cr, big);
	ck_assert_int_eq(disc_broadcast_new(&cr, buf, &len, id), 0);
	ck_assert_uint_le(len, TR_UDP_MAX);
	ck_assert(msg_valid_uuid(id));
	memset(&h, 0, sizeof(h));
	h.cr = &cr;
	ck_assert_int_eq(check_broadcast(&h, buf, len), 1);
	ck_assert_str_eq(h.fault, "");
	ck_assert_str_eq(h.ids[0], id);
}
END_TEST

START_TEST(test_response_check)
{
	static const struct {
		enum bad bad;
		const char *why;
	} cases[] = {
		{ BAD_SIG, "not signed with the site key" },
		{ BAD_KEY, "not signed with the site key" },
		{ BAD_IRT, "not an answer to our broadcast" },
		{ BAD_NO_IRT, "not an answer to our broadcast" },
		{ BAD_STALE, "outside the clock-skew window" },
		{ BAD_FUTURE, "outside the clock-skew window" },
		{ BAD_BIG, "larger than 512 bytes" },
		{ BAD_TYPE, "not a DISCOVERY_RESPONSE" },
		{ BAD_LOAD, "bad payload" },
		{ BAD_CERT, "bad payload" },
		{ BAD_PORT, "bad payload" },
		{ BAD_JSON, "malformed" },
	};
	char ids[2][TR_UUID_LEN + 1], buf[2048];
	struct trosyn_hub hub;
	struct reply r;
	const char *why;
	size_t len;

	msg_new_uuid(ids[0]);
	msg_new_uuid(ids[1]);
	memset(&r, 0, sizeof(r));
	snprintf(r.hub_id, sizeof(r.hub_id), "hub-1");
	r.load = 42;
	r.pinned = 1;
	make_response(&creds, &r, ids[1], buf, sizeof(buf), &len);
	ck_assert_int_eq(disc_response_check(buf, len, "192.0.2.7", &creds,
	    (const char (*)[TR_UUID_LEN + 1])ids, 2, msg_now_ms(), 300000,
	    &hub, &why), 0);
	ck_assert_str_eq(hub.hub_id, "hub-1");
	ck_assert_str_eq(hub.address, "192.0.2.7");
	ck_assert_uint_eq(hub.port, 6001);
	ck_assert_uint_eq(hub.file_port, 6002);
	ck_assert_int_eq(hub.load, 42);
	ck_assert_int_eq(hub.pinned, 1);
	ck_assert_str_eq(hub.cert_sha256, creds.hub_cert_sha256);
	/* Another pin: valid, but not pinned. */
	r.pinned = 0;
	make_response(&creds, &r, ids[0], buf, sizeof(buf), &len);
	ck_assert_int_eq(disc_response_check(buf, len, "192.0.2.7", &creds,
	    (const char (*)[TR_UUID_LEN + 1])ids, 2, msg_now_ms(), 300000,
	    &hub, &why), 0);
	ck_assert_int_eq(hub.pinned, 0);
	ck_assert_str_eq(hub.cert_sha256, OTHER_PIN);
	/* An answer to a broadcast not in the list. */
	ck_assert_int_eq(disc_response_check(buf, len, "192.0.2.7", &creds,
	    (const char (*)[TR_UUID_LEN + 1])&ids[1], 1, msg_now_ms(), 300000,
	    &hub, &why), TR_EINVAL);
	r.pinned = 1;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		r.bad = cases[i].bad;
		make_response(&creds, &r, ids[0], buf, sizeof(buf), &len);
		why = NULL;
		ck_assert_msg(disc_response_check(buf, len, "192.0.2.7",
		    &creds, (const char (*)[TR_UUID_LEN + 1])ids, 2,
		    msg_now_ms(), 300000, &hub, &why) == TR_EINVAL,
		    "case %zu accepted", i);
		ck_assert_ptr_nonnull(why);
		ck_assert_str_eq(why, cases[i].why);
	}
	/* A smaller skew window refuses what a larger one takes. */
	r.bad = BAD_NONE;
	make_response(&creds, &r, ids[0], buf, sizeof(buf), &len);
	ck_assert_int_eq(disc_response_check(buf, len, "192.0.2.7", &creds,
	    (const char (*)[TR_UUID_LEN + 1])ids, 2, msg_now_ms() + 5000, 1000,
	    &hub, &why), TR_EINVAL);
}
END_TEST

START_TEST(test_sort_pick)
{
	struct trosyn_hub h[4];

	memset(h, 0, sizeof(h));
	snprintf(h[0].hub_id, sizeof(h[0].hub_id), "a");
	h[0].load = 50;
	h[0].pinned = 1;
	snprintf(h[1].hub_id, sizeof(h[1].hub_id), "b");
	h[1].load = 0;
	snprintf(h[2].hub_id, sizeof(h[2].hub_id), "c");
	h[2].load = 10;
	h[2].pinned = 1;
	snprintf(h[3].hub_id, sizeof(h[3].hub_id), "d");
	h[3].load = 10;
	h[3].pinned = 1;
	/* The least-loaded pinned hub, the first of a tie; never b. */
	ck_assert_int_eq(disc_pick(h, 4), 2);
	ck_assert_int_eq(disc_pick(h, 2), 0);
	ck_assert_int_eq(disc_pick(&h[1], 1), -1);
	ck_assert_int_eq(disc_pick(h, 0), -1);
	disc_sort(h, 4);
	ck_assert_str_eq(h[0].hub_id, "c");
	ck_assert_str_eq(h[1].hub_id, "d");
	ck_assert_str_eq(h[2].hub_id, "a");
	ck_assert_str_eq(h[3].hub_id, "b");
}
END_TEST

START_TEST(test_unicast_valid)
{
	struct trosyn_hub *hubs = NULL;
	struct disc_opts o;
	struct fakehub h;
	char err[256];
	size_t n = 0;

	fakehub_start(&h, &creds, 0);
	add_reply(&h, "hub-1", 7, 1, BAD_NONE);
	add_reply(&h, "hub-1", 3, 1, BAD_NONE);	/* the same hub twice */
	fakehub_go(&h);
	unicast_opts(&o, h.port, 2, 500);
	ck_assert_int_eq(disc_run(&creds, &o, -1, &hubs, &n, err,
	    sizeof(err)), 0);
	fakehub_stop(&h);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(hubs[0].hub_id, "hub-1");
	ck_assert_str_eq(hubs[0].address, "127.0.0.1");
	ck_assert_int_eq(hubs[0].load, 7);
	ck_assert_int_eq(hubs[0].pinned, 1);
	/* Answers came: no retry. */
	ck_assert_int_eq(h.seen, 1);
	free(hubs);
}
END_TEST

START_TEST(test_unicast_spoiled_ignored)
{
	static const enum bad bads[] = { BAD_SIG, BAD_KEY, BAD_IRT,
	    BAD_STALE, BAD_BIG, BAD_TYPE, BAD_LOAD, BAD_JSON };
	struct trosyn_hub *hubs = NULL;
	struct disc_opts o;
	struct fakehub h;
	char err[256], id[16];
	size_t n = 0;

	fakehub_start(&h, &creds, 0);
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		snprintf(id, sizeof(id), "bad-%zu", i);
		add_reply(&h, id, 0, 1, bads[i]);
	}
	add_reply(&h, "good", 90, 1, BAD_NONE);
	fakehub_go(&h);
	unicast_opts(&o, h.port, 1, 400);
	ck_assert_int_eq(disc_run(&creds, &o, -1, &hubs, &n, err,
	    sizeof(err)), 0);
	fakehub_stop(&h);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(hubs[0].hub_id, "good");
	free(hubs);
}
END_TEST

START_TEST(test_only_spoiled_is_none)
{
	struct trosyn_hub *hubs = NULL;
	struct disc_opts o;
	struct fakehub h;
	char err[256];
	size_t n = 0;

	fakehub_start(&h, &creds, 0);
	add_reply(&h, "bad", 0, 1, BAD_KEY);
	fakehub_go(&h);
	unicast_opts(&o, h.port, 2, 150);
	ck_assert_int_eq(disc_run(&creds, &o, -1, &hubs, &n, err,
	    sizeof(err)), TR_ENOTFOUND);
	fakehub_stop(&h);
	ck_assert_str_eq(err, "no hub answered");
	ck_assert_ptr_null(hubs);
	ck_assert_uint_eq(n, 0);
	/* Nothing answered: every attempt was made, each a new broadcast. */
	ck_assert_int_eq(h.seen, 2);
	ck_assert_str_ne(h.ids[0], h.ids[1]);
}
END_TEST

START_TEST(test_retry)
{
	struct trosyn_hub *hubs = NULL;
	struct disc_opts o;
	struct fakehub h;
	char err[256];
	size_t n = 0;

	fakehub_start(&h, &creds, 0);
	h.skip = 1;
	add_reply(&h, "hub-late", 5, 1, BAD_NONE);
	fakehub_go(&h);
	unicast_opts(&o, h.port, 4, 200);
	ck_assert_int_eq(disc_run(&creds, &o, -1, &hubs, &n, err,
	    sizeof(err)), 0);
	fakehub_stop(&h);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(hubs[0].hub_id, "hub-late");
	ck_assert_int_eq(h.seen, 2);
	ck_assert_str_ne(h.ids[0], h.ids[1]);
	free(hubs);
}
END_TEST

START_TEST(test_pinned_least_loaded)
{
	struct trosyn_hub *hubs = NULL;
	struct disc_opts o;
	struct fakehub h;
	char err[256];
	size_t n = 0;
	int best;

	fakehub_start(&h, &creds, 0);
	add_reply(&h, "busy", 80, 1, BAD_NONE);
	add_reply(&h, "rogue", 0, 0, BAD_NONE);
	add_reply(&h, "calm", 20, 1, BAD_NONE);
	fakehub_go(&h);
	unicast_opts(&o, h.port, 1, 400);
	ck_assert_int_eq(disc_run(&creds, &o, -1, &hubs, &n, err,
	    sizeof(err)), 0);
	fakehub_stop(&h);
	ck_assert_uint_eq(n, 3);
	best = disc_pick(hubs, n);
	ck_assert_int_ge(best, 0);
	ck_assert_str_eq(hubs[best].hub_id, "calm");
	ck_assert_str_eq(hubs[0].hub_id, "calm");
	ck_assert_str_eq(hubs[1].hub_id, "busy");
	ck_assert_str_eq(hubs[2].hub_id, "rogue");
	ck_assert_int_eq(hubs[2].pinned, 0);
	free(hubs);
}
END_TEST

START_TEST(test_unpinned_never_chosen)
{
	struct trosyn_hub *hubs = NULL;
	struct disc_opts o;
	struct fakehub h;
	char err[256];
	size_t n = 0;

	fakehub_start(&h, &creds, 0);
	add_reply(&h, "rogue", 0, 0, BAD_NONE);
	fakehub_go(&h);
	unicast_opts(&o, h.port, 1, 300);
	ck_assert_int_eq(disc_run(&creds, &o, -1, &hubs, &n, err,
	    sizeof(err)), 0);
	fakehub_stop(&h);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(disc_pick(hubs, n), -1);
	free(hubs);
}
END_TEST

START_TEST(test_multicast_lo)
{
	struct trosyn_hub *hubs = NULL;
	struct trosyn_discovery d;
	struct disc_opts o;
	struct fakehub h;
	char err[256];
	size_t n = 0;

	fakehub_start(&h, &creds, 1);
	add_reply(&h, "hub-m", 1, 1, BAD_NONE);
	fakehub_go(&h);
	memset(&d, 0, sizeof(d));
	d.port = h.port;
	d.group = GROUP;
	d.interface = "127.0.0.1";
	d.attempts = 2;
	d.timeout_ms = 500;
	ck_assert_int_eq(disc_opts_set(&o, &d, err, sizeof(err)), 0);
	ck_assert_int_eq(disc_run(&creds, &o, -1, &hubs, &n, err,
	    sizeof(err)), 0);
	fakehub_stop(&h);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(hubs[0].hub_id, "hub-m");
	/* The address is where the answer came from. */
	ck_assert_str_eq(hubs[0].address, "127.0.0.1");
	free(hubs);
}
END_TEST

START_TEST(test_broadcast_destination)
{
	struct trosyn_hub *hubs = NULL;
	struct trosyn_discovery d;
	struct disc_opts o;
	struct fakehub h;
	char err[256];
	size_t n = 0;

	/* A hub that is not in the group hears the extra destination. */
	fakehub_start(&h, &creds, 0);
	add_reply(&h, "hub-b", 1, 1, BAD_NONE);
	fakehub_go(&h);
	memset(&d, 0, sizeof(d));
	d.port = h.port;
	d.interface = "127.0.0.1";
	d.broadcast = "127.0.0.1";
	d.attempts = 1;
	d.timeout_ms = 500;
	ck_assert_int_eq(disc_opts_set(&o, &d, err, sizeof(err)), 0);
	ck_assert_int_eq(disc_run(&creds, &o, -1, &hubs, &n, err,
	    sizeof(err)), 0);
	fakehub_stop(&h);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(hubs[0].hub_id, "hub-b");
	free(hubs);
}
END_TEST

START_TEST(test_stopfd)
{
	struct trosyn_hub *hubs = NULL;
	struct disc_opts o;
	long long t0;
	char err[256];
	size_t n = 0;
	uint16_t port;
	int fd, p[2];

	/* Nobody answers on this port; a readable stop fd ends the wait. */
	fd = udp_bound("127.0.0.1", &port);
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(write(p[1], "x", 1), 1);
	unicast_opts(&o, port, 4, 5000);
	t0 = thr_mono_ms();
	ck_assert_int_eq(disc_run(&creds, &o, p[0], &hubs, &n, err,
	    sizeof(err)), TR_ECLOSED);
	ck_assert_int_lt(thr_mono_ms() - t0, 1000);
	close(p[0]);
	close(p[1]);
	close(fd);
}
END_TEST

/* The suite. */
static Suite *
disc_suite(void)
{
	Suite *s = suite_create("disc");
	TCase *tc = tcase_create("disc");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_opts);
	tcase_add_test(tc, test_broadcast_form);
	tcase_add_test(tc, test_response_check);
	tcase_add_test(tc, test_sort_pick);
	tcase_add_test(tc, test_unicast_valid);
	tcase_add_test(tc, test_unicast_spoiled_ignored);
	tcase_add_test(tc, test_only_spoiled_is_none);
	tcase_add_test(tc, test_retry);
	tcase_add_test(tc, test_pinned_least_loaded);
	tcase_add_test(tc, test_unpinned_never_chosen);
	tcase_add_test(tc, test_multicast_lo);
	tcase_add_test(tc, test_broadcast_destination);
	tcase_add_test(tc, test_stopfd);
	suite_add_tcase(s, tc);
	return s;
}

/* Run the suite. */
int
main(void)
{
	return tu_run(disc_suite());
}
