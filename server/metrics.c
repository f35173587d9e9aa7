/* Metrics: counters and gauges of the hub rendered as Prometheus text (format 0.0.4). */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "db.h"
#include "discovery.h"
#include "err.h"
#include "heartbeat.h"
#include "hub.h"
#include "hubdb.h"
#include "journal.h"
#include "log.h"
#include "metrics.h"
#include "msg.h"
#include "session.h"
#include "thr.h"

/* A scrape request head larger than this is refused. */
#define METRICS_MAX_REQUEST	4096
/* A scraper gets this long to send its request and read the answer. */
#define METRICS_TIMEOUT_MS	2000

struct metrics {
	struct hub *hub;
	pthread_mutex_t lock;		/* guards db (control and HTTP threads) */
	sqlite3 *db;
	int fd;
	int started;
	int stop;			/* atomic */
	pthread_t thread;
};

/* The login refusal reasons, index = hub_stats.auth_failures slot. */
static const char *const metrics_reasons[HUB_AUTH_REASONS] = {
	TR_CODE_AUTH_REQUIRED, TR_CODE_INVALID_TOKEN, TR_CODE_ACCESS_DENIED,
	TR_CODE_INVALID_REQUEST, TR_CODE_CLOCK_SKEW, TR_CODE_TOO_LARGE,
	TR_CODE_UNSUPPORTED_VERSION, TR_CODE_INTERNAL_ERROR, "OTHER"
};

/* Count a refused login. */
void
metrics_auth_failed(struct hub *hub, const char *code)
{
	int i;

	for (i = 0; i < HUB_AUTH_REASONS - 1; i++)
		if (strcmp(code, metrics_reasons[i]) == 0)
			break;
	__atomic_add_fetch(&hub->stats.auth_failures[i], 1, __ATOMIC_RELAXED);
}

/* A growing text buffer. */
struct mbuf {
	char *p;
	size_t len, cap;
	int err;
};

/* Append printf-style text to B. */
static void __attribute__((format(printf, 2, 3)))
mb_printf(struct mbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->err)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->err = TR_EINVAL;
			return;
		}
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		{
			size_t cap = b->cap * 2 + (size_t)n;
			char *np = realloc(b->p, cap);

			if (np == NULL) {
				b->err = TR_ENOMEM;
				return;
			}
			b->p = np;
			b->cap = cap;
		}
	}
}

/* HELP and TYPE lines of metric NAME. */
static void
mb_head(struct mbuf *b, const char *name, const char *type, const char *help)
{
	mb_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One unlabelled sample. */
static void
mb_one(struct mbuf *b, const char *name, const char *type, const char *help,
    uint64_t v)
{
	mb_head(b, name, type, help);
	mb_printf(b, "%s %" PRIu64 "\n", name, v);
}

/* Load counter C. */
static uint64_t
ld(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

/* Nodes by state, and each node's lag and pending (database + registry). */
static int
metrics_nodes(struct metrics *m, struct mbuf *b)
{
	struct hub *hub = m->hub;
	struct hubdb_node *nodes = NULL;
	struct reg_live *lives;
	int64_t head = 0, live_records = 0, now = msg_now_ms();
	int64_t window = heartbeat_window_ms(hub);
	size_t n = 0;
	int counts[3] = { 0, 0, 0 }, revoked = 0, rc;
	static const char *const names[3] = { "online", "offline", "never" };

	thr_lock(&m->lock);
	rc = hubdb_node_list(m->db, &nodes, &n);
	if (rc == 0)
		rc = journal_head(m->db, &head);
	if (rc == 0)
		rc = journal_count(m->db, &live_records, NULL);
	thr_unlock(&m->lock);
	if (rc != 0)
		goto out;
	if ((lives = calloc(n > 0 ? n : 1, sizeof(*lives))) == NULL) {
		rc = TR_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct reg_live *l = &lives[i];
		const char *st;

		if (registry_live_get(hub->reg, nodes[i].node_id, l) != 0) {
			memset(l, 0, sizeof(*l));
			l->cursor = l->pending = -1;
		}
		if (nodes[i].last_seen_ms > l->last_seen_ms)
			l->last_seen_ms = nodes[i].last_seen_ms;
		if (nodes[i].revoked) {
			revoked++;
			continue;
		}
		st = registry_live_state(l, now, window);
		counts[strcmp(st, "online") == 0 ? 0 :
		    strcmp(st, "offline") == 0 ? 1 : 2]++;
	}
	mb_head(b, "trosyn_nodes", "gauge",
	    "Enrolled, non-revoked nodes by liveness state.");
	for (int i = 0; i < 3; i++)
		mb_printf(b, "trosyn_nodes{state=\"%s\"} %d\n", names[i],
		    counts[i]);
	mb_one(b, "trosyn_nodes_revoked", "gauge", "Revoked nodes.",
	    (uint64_t)revoked);
	mb_one(b, "trosyn_journal_head", "gauge",
	    "Highest journal sequence number.", (uint64_t)head);
	mb_one(b, "trosyn_records", "gauge", "Live records on the hub.",
	    (uint64_t)live_records);
	mb_head(b, "trosyn_node_lag", "gauge",
	    "Journal head minus the cursor of the node's last heartbeat.");
	for (size_t i = 0; i < n; i++)
		if (!nodes[i].revoked && lives[i].cursor >= 0)
			mb_printf(b, "trosyn_node_lag{node_id=\"%s\"} %" PRId64
			    "\n", nodes[i].node_id, head - lives[i].cursor);
	mb_head(b, "trosyn_node_pending", "gauge",
	    "Local changes the node has not pushed yet (last heartbeat).");
	for (size_t i = 0; i < n; i++)
		if (!nodes[i].revoked && lives[i].pending >= 0)
			mb_printf(b, "trosyn_node_pending{node_id=\"%s\"} %"
			    PRId64 "\n", nodes[i].node_id, lives[i].pending);
	free(lives);
out:
	hubdb_nodes_free(nodes, n);
	return rc;
}

/* Render every metric. */
int
metrics_render(struct metrics *m, char **out, size_t *len)
{
	struct hub *hub = m->hub;
	struct hub_stats *s = &hub->stats;
	struct disc_stats ds;
	struct mbuf b = { NULL, 0, 4096, 0 };
	int busy, queued, workers, depth, rc;

	if ((b.p = malloc(b.cap)) == NULL)
		return TR_ENOMEM;
	b.p[0] = '\0';
	mb_one(&b, "trosyn_up", "gauge", "1 while the hub runs.", 1);
	mb_one(&b, "trosyn_start_time_seconds", "gauge",
	    "Start time of the hub, seconds since the epoch.",
	    (uint64_t)(hub->started_ms / 1000));
	if ((rc = metrics_nodes(m, &b)) != 0) {
		free(b.p);
		return rc;
	}
	mb_one(&b, "trosyn_sessions", "gauge", "Live sessions.",
	    (uint64_t)registry_session_count(hub->reg, msg_now_ms()));
	pool_stats(hub->main_pool, &busy, &queued, &workers, &depth);
	mb_one(&b, "trosyn_queue_depth", "gauge",
	    "Connections waiting for a main-channel worker.",
	    (uint64_t)queued);
	mb_one(&b, "trosyn_workers_busy", "gauge",
	    "Main-channel workers serving a connection.", (uint64_t)busy);
	mb_one(&b, "trosyn_workers", "gauge", "Main-channel workers.",
	    (uint64_t)workers);
	mb_one(&b, "trosyn_connections_total", "counter",
	    "Main-channel connections served.", ld(&s->conns_served));
	mb_one(&b, "trosyn_busy_rejected_total", "counter",
	    "Connections answered BUSY because the queue was full.",
	    ld(&s->busy_rejected));
	mb_one(&b, "trosyn_logins_total", "counter", "Successful logins.",
	    ld(&s->logins_ok));
	mb_head(&b, "trosyn_auth_failures_total", "counter",
	    "Refused logins by protocol error code.");
	for (int i = 0; i < HUB_AUTH_REASONS; i++)
		mb_printf(&b, "trosyn_auth_failures_total{reason=\"%s\"} %"
		    PRIu64 "\n", metrics_reasons[i],
		    ld(&s->auth_failures[i]));
	mb_head(&b, "trosyn_syncs_total", "counter",
	    "Syncs by direction and outcome.");
	mb_printf(&b, "trosyn_syncs_total{direction=\"pull\",result=\"ok\"} %"
	    PRIu64 "\n", ld(&s->syncs_pull));
	mb_printf(&b, "trosyn_syncs_total{direction=\"push\",result=\"ok\"} %"
	    PRIu64 "\n", ld(&s->syncs_push));
	mb_printf(&b, "trosyn_syncs_total{direction=\"any\",result=\"failed\"}"
	    " %" PRIu64 "\n", ld(&s->syncs_failed));
	mb_head(&b, "trosyn_records_total", "counter",
	    "Records sent to nodes (out) and received from them (in).");
	mb_printf(&b, "trosyn_records_total{direction=\"out\"} %" PRIu64 "\n",
	    ld(&s->records_out));
	mb_printf(&b, "trosyn_records_total{direction=\"in\"} %" PRIu64 "\n",
	    ld(&s->records_in));
	mb_head(&b, "trosyn_bytes_total", "counter",
	    "Bytes by channel and direction: frames of the main channel, file "
	    "data of the file channel.");
	mb_printf(&b, "trosyn_bytes_total{channel=\"main\",direction=\"in\"} %"
	    PRIu64 "\n", ld(&s->bytes_in));
	mb_printf(&b, "trosyn_bytes_total{channel=\"main\",direction=\"out\"} "
	    "%" PRIu64 "\n", ld(&s->bytes_out));
	mb_printf(&b, "trosyn_bytes_total{channel=\"file\",direction=\"in\"} %"
	    PRIu64 "\n", ld(&s->file_bytes_in));
	mb_printf(&b, "trosyn_bytes_total{channel=\"file\",direction=\"out\"} "
	    "%" PRIu64 "\n", ld(&s->file_bytes_out));
	mb_head(&b, "trosyn_transfers_total", "counter",
	    "File transfers (gets and puts) by result.");
	mb_printf(&b, "trosyn_transfers_total{result=\"ok\"} %" PRIu64 "\n",
	    ld(&s->transfers_ok));
	mb_printf(&b, "trosyn_transfers_total{result=\"failed\"} %" PRIu64
	    "\n", ld(&s->transfers_failed));
	if (hub->file_pool != NULL) {
		pool_stats(hub->file_pool, &busy, &queued, &workers, &depth);
		mb_one(&b, "trosyn_transfer_queue_depth", "gauge",
		    "Connections waiting for a transfer worker.",
		    (uint64_t)queued);
		mb_one(&b, "trosyn_transfer_workers_busy", "gauge",
		    "Transfer workers serving a connection.", (uint64_t)busy);
	}
	if (hub->disc != NULL) {
		discovery_stats(hub->disc, &ds);
		mb_one(&b, "trosyn_udp_received_total", "counter",
		    "Datagrams received on the discovery port.", ds.received);
		mb_one(&b, "trosyn_discovery_responses_total", "counter",
		    "DISCOVERY_RESPONSEs sent.", ds.answered);
		mb_one(&b, "trosyn_heartbeats_total", "counter",
		    "Node heartbeats accepted.", ds.heartbeats);
		mb_one(&b, "trosyn_hub_heartbeats_total", "counter",
		    "Hub heartbeats multicast.", ds.announced);
		mb_head(&b, "trosyn_udp_dropped_total", "counter",
		    "Datagrams dropped without an answer, by reason.");
		for (int i = 0; i < DISC_DROP_N; i++)
			mb_printf(&b, "trosyn_udp_dropped_total{reason=\"%s\"} "
			    "%" PRIu64 "\n", discovery_drop_name(i),
			    ds.dropped[i]);
	}
	if (b.err != 0) {
		free(b.p);
		return b.err;
	}
	*out = b.p;
	*len = b.len;
	return 0;
}

/* Answer one HTTP request on FD: GET /metrics, else 404 or 400. */
static void
metrics_serve(struct metrics *m, int fd)
{
	char req[METRICS_MAX_REQUEST + 1], head[256];
	const char *status = "200 OK";
	char *body = NULL;
	size_t len = 0, blen = 0;
	ssize_t n;
	int hl;

	session_set_timeouts(fd, METRICS_TIMEOUT_MS);
	/* Read the request head (up to the blank line). */
	while (len < METRICS_MAX_REQUEST) {
		n = recv(fd, req + len, METRICS_MAX_REQUEST - len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		len += (size_t)n;
		req[len] = '\0';
		if (strstr(req, "\r\n\r\n") != NULL ||
		    strstr(req, "\n\n") != NULL)
			break;
	}
	req[len] = '\0';
	if (strncmp(req, "GET ", 4) != 0)
		status = "405 Method Not Allowed";
	else if (strncmp(req + 4, "/metrics ", 9) != 0 &&
	    strncmp(req + 4, "/metrics?", 9) != 0 &&
	    strncmp(req + 4, "/ ", 2) != 0)
		status = "404 Not Found";
	else if (metrics_render(m, &body, &blen) != 0)
		status = "500 Internal Server Error";
	if (body == NULL) {
		body = strdup(status);
		blen = body != NULL ? strlen(body) : 0;
	}
	hl = snprintf(head, sizeof(head), "HTTP/1.0 %s\r\nContent-Type: "
	    "text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: %zu"
	    "\r\nConnection: close\r\n\r\n", status, blen);
	if (session_write_all(fd, head, (size_t)hl) == 0 && body != NULL)
		session_write_all(fd, body, blen);
	free(body);
}

/* Serve scrapes until stopped. */
static void *
metrics_main(void *arg)
{
	struct metrics *m = arg;
	struct pollfd pfd = { .fd = m->fd, .events = POLLIN };

	while (!__atomic_load_n(&m->stop, __ATOMIC_ACQUIRE)) {
		int fd;

		if (poll(&pfd, 1, 200) <= 0)
			continue;
		if ((fd = accept4(m->fd, NULL, NULL, SOCK_CLOEXEC)) < 0)
			continue;
		metrics_serve(m, fd);
		close(fd);
	}
	return NULL;
}

/* Open the database and start the thread when LISTEN_FD is given. */
struct metrics *
metrics_start(struct hub *hub, const char *dir, int listen_fd, char *err,
    size_t errlen)
{
	struct metrics *m = calloc(1, sizeof(*m));

	if (m == NULL) {
		snprintf(err, errlen, "out of memory");
		if (listen_fd >= 0)
			close(listen_fd);
		return NULL;
	}
	m->hub = hub;
	m->fd = listen_fd;
	pthread_mutex_init(&m->lock, NULL);
	if (hubdb_open(dir, 0, &m->db) != 0) {
		snprintf(err, errlen, "metrics: cannot open the database in %s",
		    dir);
		goto fail;
	}
	if (m->fd >= 0) {
		if (thr_create(&m->thread, "hub-metrics", metrics_main,
		    m) != 0) {
			snprintf(err, errlen, "metrics: cannot start the "
			    "thread");
			goto fail;
		}
		m->started = 1;
	}
	return m;
fail:
	metrics_stop(m);
	return NULL;
}

/* Stop and free. */
void
metrics_stop(struct metrics *m)
{
	if (m == NULL)
		return;
	if (m->started) {
		__atomic_store_n(&m->stop, 1, __ATOMIC_RELEASE);
		pthread_join(m->thread, NULL);
	}
	if (m->fd >= 0)
		close(m->fd);
	db_close(m->db);
	pthread_mutex_destroy(&m->lock);
	free(m);
}
