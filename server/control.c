/* The control socket: one JSON request and one JSON answer per connection, for trosyn-admin. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "control.h"
#include "err.h"
#include "heartbeat.h"
#include "hub.h"
#include "jcs.h"
#include "log.h"
#include "metrics.h"
#include "msg.h"
#include "session.h"
#include "thr.h"

#define CONTROL_MAX_REQUEST	65536
#define CONTROL_TIMEOUT_MS	5000

struct control {
	struct hub *hub;
	char path[108];
	int fd;
	int stop;			/* atomic */
	pthread_t thread;
};

/*
 * Read one line (up to MAX bytes) from FD into a malloc'd string.  A
 * connection carries one request and one answer, so reading past the
 * newline in chunks loses nothing.
 */
static int
control_read_line(int fd, size_t max, char **out)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap), *tmp, *nl = NULL;
	ssize_t n;

	*out = NULL;
	if (buf == NULL)
		return TR_ENOMEM;
	for (;;) {
		if (cap - len < 2) {
			if (cap > max) {
				free(buf);
				return TR_ETOOBIG;
			}
			cap *= 2;
			if ((tmp = realloc(buf, cap)) == NULL) {
				free(buf);
				return TR_ENOMEM;
			}
			buf = tmp;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(buf);
			return errno == EAGAIN ? TR_ETIMEDOUT : TR_EIO;
		}
		if (n == 0)
			break;
		if ((nl = memchr(buf + len, '\n', (size_t)n)) != NULL) {
			len = (size_t)(nl - buf);
			break;
		}
		len += (size_t)n;
	}
	if (len > max) {
		free(buf);
		return TR_ETOOBIG;
	}
	buf[len] = '\0';
	if (len == 0) {
		free(buf);
		return TR_ECLOSED;
	}
	*out = buf;
	return 0;
}

/* Add a millisecond time (or null for 0) to OBJ under KEY. */
static void
control_add_time(json_object *obj, const char *key, int64_t ms)
{
	char buf[32];

	if (ms <= 0) {
		json_object_object_add(obj, key, NULL);
		return;
	}
	msg_format_time(ms, buf, sizeof(buf));
	json_object_object_add(obj, key, json_object_new_string(buf));
}

/* {"cmd":"status"}: the hub's figures. */
static json_object *
control_status(struct hub *hub)
{
	json_object *st = json_object_new_object(), *ports;
	int busy, queued, workers, depth;
	int64_t now = msg_now_ms();

	pool_stats(hub->main_pool, &busy, &queued, &workers, &depth);
	ports = json_object_new_object();
	json_object_object_add(ports, "main", json_object_new_int(hub->port));
	json_object_object_add(ports, "file",
	    json_object_new_int(hub->file_port));
	json_object_object_add(ports, "discovery",
	    json_object_new_int(hub->discovery_port));
	json_object_object_add(st, "running", json_object_new_boolean(1));
	json_object_object_add(st, "pid", json_object_new_int(getpid()));
	json_object_object_add(st, "hub_id",
	    json_object_new_string(hub->keys.hub_id));
	json_object_object_add(st, "site_id",
	    json_object_new_string(hub->keys.site_id));
	json_object_object_add(st, "ports", ports);
	json_object_object_add(st, "sessions",
	    json_object_new_int64((int64_t)registry_session_count(hub->reg,
	    now)));
	json_object_object_add(st, "queue_depth", json_object_new_int(queued));
	json_object_object_add(st, "workers_busy", json_object_new_int(busy));
	json_object_object_add(st, "workers", json_object_new_int(workers));
	json_object_object_add(st, "banned_addresses",
	    json_object_new_int(authfail_banned_count(hub->af, now)));
	json_object_object_add(st, "logins_ok", json_object_new_int64(
	    (int64_t)__atomic_load_n(&hub->stats.logins_ok, __ATOMIC_RELAXED)));
	json_object_object_add(st, "logins_failed", json_object_new_int64(
	    (int64_t)__atomic_load_n(&hub->stats.logins_failed,
	    __ATOMIC_RELAXED)));
	json_object_object_add(st, "busy_rejected", json_object_new_int64(
	    (int64_t)__atomic_load_n(&hub->stats.busy_rejected,
	    __ATOMIC_RELAXED)));
	control_add_time(st, "started_at", hub->started_ms);
	return st;
}

/* {"cmd":"sessions"}: the live sessions, no secrets. */
static json_object *
control_sessions(struct hub *hub)
{
	json_object *arr = json_object_new_array();
	struct reg_session *s = NULL;
	size_t n = 0;

	if (registry_sessions(hub->reg, msg_now_ms(), &s, &n) != 0)
		return arr;
	for (size_t i = 0; i < n; i++) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "session_id",
		    json_object_new_string(s[i].session_id));
		json_object_object_add(o, "node_id",
		    json_object_new_string(s[i].node_id));
		json_object_object_add(o, "connections",
		    json_object_new_int(s[i].connections));
		control_add_time(o, "created_at", s[i].created_ms);
		control_add_time(o, "expires_at", s[i].expires_ms);
		json_object_object_add(o, "address", s[i].address[0] != '\0' ?
		    json_object_new_string(s[i].address) : NULL);
		json_object_array_add(arr, o);
	}
	registry_sessions_free(s, n);
	return arr;
}

/* {"cmd":"lives"}: each node's live figures. */
static json_object *
control_lives(struct hub *hub)
{
	json_object *arr = json_object_new_array();
	struct reg_live *l = NULL;
	size_t n = 0;

	if (registry_lives(hub->reg, &l, &n) != 0)
		return arr;
	for (size_t i = 0; i < n; i++) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "node_id",
		    json_object_new_string(l[i].node_id));
		json_object_object_add(o, "last_seen_ms",
		    json_object_new_int64(l[i].last_seen_ms));
		json_object_object_add(o, "address", l[i].address[0] != '\0' ?
		    json_object_new_string(l[i].address) : NULL);
		json_object_object_add(o, "last_sync_ms",
		    json_object_new_int64(l[i].last_sync_ms));
		json_object_object_add(o, "cursor", l[i].cursor >= 0 ?
		    json_object_new_int64(l[i].cursor) : NULL);
		json_object_object_add(o, "pending", l[i].pending >= 0 ?
		    json_object_new_int64(l[i].pending) : NULL);
		json_object_object_add(o, "disk_free", l[i].disk_free >= 0 ?
		    json_object_new_int64(l[i].disk_free) : NULL);
		json_object_object_add(o, "last_error",
		    l[i].last_error[0] != '\0' ?
		    json_object_new_string(l[i].last_error) : NULL);
		json_object_array_add(arr, o);
	}
	free(l);
	return arr;
}

/* Answer one request. */
static json_object *
control_answer(struct hub *hub, json_object *req)
{
	json_object *resp = json_object_new_object();
	const char *cmd = NULL, *node_id = NULL;
	char *text = NULL;
	size_t len = 0;

	if (msg_get_str(req, "cmd", &cmd) != 0) {
		json_object_object_add(resp, "ok", json_object_new_boolean(0));
		json_object_object_add(resp, "error",
		    json_object_new_string("missing cmd"));
		return resp;
	}
	json_object_object_add(resp, "ok", json_object_new_boolean(1));
	if (strcmp(cmd, "status") == 0)
		json_object_object_add(resp, "status", control_status(hub));
	else if (strcmp(cmd, "sessions") == 0)
		json_object_object_add(resp, "sessions", control_sessions(hub));
	else if (strcmp(cmd, "lives") == 0) {
		json_object_object_add(resp, "lives", control_lives(hub));
		json_object_object_add(resp, "window_ms",
		    json_object_new_int64(heartbeat_window_ms(hub)));
	} else if (strcmp(cmd, "metrics") == 0 && hub->metrics != NULL &&
	    metrics_render(hub->metrics, &text, &len) == 0) {
		json_object_object_add(resp, "metrics",
		    json_object_new_string_len(text, (int)len));
		free(text);
	} else if (strcmp(cmd, "metrics") == 0) {
		json_object_object_add(resp, "ok", json_object_new_boolean(0));
		json_object_object_add(resp, "error",
		    json_object_new_string("cannot render the metrics"));
	}
	else if (strcmp(cmd, "revoke") == 0 &&
	    msg_get_str(req, "node_id", &node_id) == 0 &&
	    msg_valid_id(node_id)) {
		int n = registry_revoke(hub->reg, node_id);

		log_info("control: node %s revoked, %d session(s) ended",
		    node_id, n);
		json_object_object_add(resp, "sessions_ended",
		    json_object_new_int(n));
	} else {
		json_object_object_add(resp, "ok", json_object_new_boolean(0));
		json_object_object_add(resp, "error",
		    json_object_new_string("unknown or malformed command"));
	}
	return resp;
}

/* Serve one control connection. */
static void
control_serve(struct control *ctl, int fd)
{
	json_object *req = NULL, *resp = NULL;
	char *line = NULL, *text = NULL;
	size_t len;

	session_set_timeouts(fd, CONTROL_TIMEOUT_MS);
	if (control_read_line(fd, CONTROL_MAX_REQUEST, &line) != 0)
		goto out;
	if (jcs_parse(line, strlen(line), &req) != 0 ||
	    !json_object_is_type(req, json_type_object)) {
		resp = json_object_new_object();
		json_object_object_add(resp, "ok", json_object_new_boolean(0));
		json_object_object_add(resp, "error",
		    json_object_new_string("request is not a JSON object"));
	} else
		resp = control_answer(ctl->hub, req);
	if (jcs_serialize(resp, &text, &len) == 0) {
		text[len] = '\n';
		session_write_all(fd, text, len + 1);
	}
out:
	free(text);
	free(line);
	json_object_put(req);
	json_object_put(resp);
}

/* Accept control connections until stopped. */
static void *
control_main(void *arg)
{
	struct control *ctl = arg;
	struct pollfd pfd = { .fd = ctl->fd, .events = POLLIN };

	while (!__atomic_load_n(&ctl->stop, __ATOMIC_ACQUIRE)) {
		int fd;

		if (poll(&pfd, 1, 200) <= 0)
			continue;
		if ((fd = accept4(ctl->fd, NULL, NULL, SOCK_CLOEXEC)) < 0)
			continue;
		control_serve(ctl, fd);
		close(fd);
	}
	return NULL;
}

/* Bind PATH and start the control thread. */
struct control *
control_start(struct hub *hub, const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct control *ctl;
	mode_t old;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "%s: control socket path too long", path);
		return NULL;
	}
	if ((ctl = calloc(1, sizeof(*ctl))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	ctl->hub = hub;
	snprintf(ctl->path, sizeof(ctl->path), "%s", path);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	ctl->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ctl->fd < 0)
		goto fail;
	unlink(path);		/* a stale socket of an earlier run */
	old = umask(0177);
	if (bind(ctl->fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		umask(old);
		goto fail;
	}
	umask(old);
	if (listen(ctl->fd, 16) != 0)
		goto fail;
	if (thr_create(&ctl->thread, "hub-control", control_main, ctl) != 0)
		goto fail;
	return ctl;
fail:
	snprintf(err, errlen, "%s: cannot open the control socket: %s", path,
	    strerror(errno));
	if (ctl->fd >= 0)
		close(ctl->fd);
	free(ctl);
	return NULL;
}

/* Stop the control thread and remove the socket. */
void
control_stop(struct control *ctl)
{
	if (ctl == NULL)
		return;
	__atomic_store_n(&ctl->stop, 1, __ATOMIC_RELEASE);
	pthread_join(ctl->thread, NULL);
	close(ctl->fd);
	unlink(ctl->path);
	free(ctl);
}

/* Send REQ to the hub at PATH and read the answer. */
int
control_call(const char *path, json_object *req, json_object **resp,
    int timeout_ms)
{
	struct sockaddr_un sun;
	char *text = NULL, *line = NULL;
	size_t len;
	int fd, rc;

	*resp = NULL;
	if (strlen(path) >= sizeof(sun.sun_path))
		return TR_EINVAL;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return TR_ESYS;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		rc = errno == ENOENT || errno == ECONNREFUSED ? TR_ENOTFOUND :
		    errno == EACCES ? TR_EACCES : TR_ESYS;
		goto out;
	}
	session_set_timeouts(fd, timeout_ms);
	if ((rc = jcs_serialize(req, &text, &len)) != 0)
		goto out;
	text[len] = '\n';
	if ((rc = session_write_all(fd, text, len + 1)) != 0)
		goto out;
	if ((rc = control_read_line(fd, 64 * 1024 * 1024, &line)) != 0)
		goto out;
	rc = jcs_parse(line, strlen(line), resp);
out:
	free(text);
	free(line);
	close(fd);
	return rc;
}
