/*
 * Fuzz target: the hub's datagram path (discovery_handle) with a real
 * registry session.  Each input is handled twice: as it is, and, when it
 * parses as an envelope, with its payload's session_id set to the live
 * session and signed again (heartbeats with the session's heartbeat key,
 * anything else with the site key), so mutated payloads reach the checks
 * behind the signature.  The clock is fixed at the seeds' timestamp.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "discovery.h"
#include "err.h"
#include "hub.h"
#include "log.h"
#include "msg.h"
#include "registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* 2026-11-26T14:41:37.123Z, the timestamp of the seeds. */
#define FUZZ_NOW 1795704097123LL

/* The site_key of protocol-vectors.json, so the seeds' signatures verify. */
static const uint8_t fuzz_site_key[TR_KEY_LEN] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
	0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
	0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
	0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f
};

static struct hub fuzz_hub;
static struct discovery *fuzz_disc;
static struct reg_session fuzz_sess;

/* Build the hub once: config defaults, keys, a registry with one session, the socket. */
static void
fuzz_init(void)
{
	static const char roles[][CONF_ROLE_MAX + 1] = { "child" };
	static const uint8_t root[TR_KEY_LEN] = { 0x42 };
	char err[256];

	log_init("fuzz_udp", LOG_LEVEL_ERROR, 0);
	pthread_rwlock_init(&fuzz_hub.conf_lock, NULL);
	conf_defaults(&fuzz_hub.conf, CONF_HUB);
	fuzz_hub.conf.discovery_port = 0;
	strcpy(fuzz_hub.conf.multicast_interface, "127.0.0.1");
	memcpy(fuzz_hub.keys.site_key, fuzz_site_key, TR_KEY_LEN);
	strcpy(fuzz_hub.keys.site_id, "site-1");
	strcpy(fuzz_hub.keys.hub_id, "hub-1");
	memset(fuzz_hub.keys.hub_cert_sha256, 'a', 2 * TR_HASH_LEN);
	fuzz_hub.port = 5001;
	fuzz_hub.file_port = 5002;
	if ((fuzz_hub.reg = registry_new()) == NULL ||
	    registry_session_new(fuzz_hub.reg, "node-1", roles, 1, root,
	    FUZZ_NOW, 86400, "127.0.0.1:1", &fuzz_sess) != 0 ||
	    (fuzz_disc = discovery_open(&fuzz_hub.conf,
	    &fuzz_hub.discovery_port, err, sizeof(err))) == NULL ||
	    discovery_start(fuzz_disc, &fuzz_hub) != 0)
		abort();
	/* Only discovery_handle is driven: the thread may stop now. */
	discovery_stop(fuzz_disc);
}

/* Handle DATA as a datagram from 127.0.0.1:9 (discard) and check the result's range. */
static void
fuzz_handle(const char *data, size_t size)
{
	struct sockaddr_in from;
	int rc;

	memset(&from, 0, sizeof(from));
	from.sin_family = AF_INET;
	from.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	from.sin_port = htons(9);
	rc = discovery_handle(fuzz_disc, data, size, &from, FUZZ_NOW);
	if (rc < 0 || rc > DISC_DROP_N)
		abort();
	if (size > TR_UDP_MAX && rc != DISC_DROP_OVERSIZE + 1)
		abort();
}

/* Handle the input, then its re-signed form. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	json_object *env = NULL, *p;
	char buf[TR_UDP_MAX];
	const char *type;
	size_t len;

	if (!ready) {
		fuzz_init();
		ready = 1;
	}
	fuzz_handle((const char *)data, size);
	if (msg_parse((const char *)data, size, &env) != 0 || env == NULL)
		goto out;
	type = msg_type(env);
	p = msg_payload(env);
	if (type == NULL || p == NULL)
		goto out;
	if (strcmp(type, TR_MSG_HEARTBEAT) == 0) {
		json_object_object_add(p, "session_id",
		    json_object_new_string(fuzz_sess.session_id));
		if (msg_encode_udp(env, fuzz_sess.hb_key, buf, &len) == 0)
			fuzz_handle(buf, len);
	} else if (msg_encode_udp(env, fuzz_site_key, buf, &len) == 0) {
		fuzz_handle(buf, len);
	}
out:
	json_object_put(env);
	return 0;
}
