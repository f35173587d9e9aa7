/* Unit tests of the worker pool and the acceptor: dispatch, saturation, load, stop, bans. */
#include "config.h"

#include <sys/socket.h>
#include <sys/time.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acceptor.h"
#include "authfail.h"
#include "err.h"
#include "log.h"
#include "msg.h"
#include "pool.h"
#include "testutil.h"
#include "thr.h"

#define MAX_SERVED	32

enum hmode {
	H_RECORD,			/* record the item and return */
	H_GATE,				/* record, then wait until the gate opens */
	H_READ				/* record, block in recv, then write "bye" */
};

/* What the handler saw of one item. */
struct served {
	int worker;
	int fd;
	char tname[16];
	char peer[64];
	char ip[48];
	long long accepted_ms;
	ssize_t rd;			/* H_READ: what recv returned */
	int rd_errno;
	ssize_t wr;			/* H_READ: what the write after it returned */
};

/* The handler's shared state; the test thread asserts on it. */
struct hctx {
	pthread_mutex_t m;
	pthread_cond_t cv;
	enum hmode mode;
	int gate_open;
	int started;
	int finished;
	struct served s[MAX_SERVED];
};

/* Quiet logging for every test. */
static void
setup(void)
{
	log_init("check_pool", LOG_LEVEL_ERROR, 0);
}

/* A handler context in MODE. */
static void
hctx_init(struct hctx *h, enum hmode mode)
{
	memset(h, 0, sizeof(*h));
	pthread_mutex_init(&h->m, NULL);
	pthread_cond_init(&h->cv, NULL);
	h->mode = mode;
}

/* Release H's resources. */
static void
hctx_destroy(struct hctx *h)
{
	pthread_mutex_destroy(&h->m);
	pthread_cond_destroy(&h->cv);
}

/* The pool handler under test: records what it was given, per H->mode. */
static void
handler(void *arg, struct pool_item *item, int worker)
{
	struct hctx *h = arg;
	struct served *sv = NULL;
	int idx;

	pthread_mutex_lock(&h->m);
	idx = h->started++;
	if (idx < MAX_SERVED) {
		sv = &h->s[idx];
		sv->worker = worker;
		sv->fd = item->fd;
		sv->accepted_ms = item->accepted_ms;
		snprintf(sv->peer, sizeof(sv->peer), "%s", item->peer);
		snprintf(sv->ip, sizeof(sv->ip), "%s", item->ip);
		if (pthread_getname_np(pthread_self(), sv->tname,
		    sizeof(sv->tname)) != 0)
			snprintf(sv->tname, sizeof(sv->tname), "?");
	}
	pthread_cond_broadcast(&h->cv);
	while (h->mode == H_GATE && !h->gate_open)
		pthread_cond_wait(&h->cv, &h->m);
	pthread_mutex_unlock(&h->m);

	if (h->mode == H_READ && sv != NULL) {
		struct timeval tv = { .tv_sec = 5 };
		char c;

		setsockopt(item->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		sv->rd = recv(item->fd, &c, 1, 0);
		sv->rd_errno = sv->rd < 0 ? errno : 0;
		sv->wr = send(item->fd, "bye", 3, MSG_NOSIGNAL);
	}

	pthread_mutex_lock(&h->m);
	h->finished++;
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->m);
}

/* Wait up to 5 s until *COUNTER (guarded by H->m) reaches N; fails the test otherwise. */
static void
wait_count(struct hctx *h, const int *counter, int n)
{
	long long end = thr_mono_ms() + 5000;
	int got;

	for (;;) {
		pthread_mutex_lock(&h->m);
		got = *counter;
		pthread_mutex_unlock(&h->m);
		if (got >= n || thr_mono_ms() > end)
			break;
		usleep(1000);
	}
	ck_assert_int_ge(got, n);
}

/* Open H's gate so blocked handlers return. */
static void
open_gate(struct hctx *h)
{
	pthread_mutex_lock(&h->m);
	h->gate_open = 1;
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->m);
}

/* Read H's started counter. */
static int
started_of(struct hctx *h)
{
	int n;

	pthread_mutex_lock(&h->m);
	n = h->started;
	pthread_mutex_unlock(&h->m);
	return n;
}

/* A socketpair: SV[0] for the pool, SV[1] the peer (reads time out after 2 s). */
static void
sockpair(int sv[2])
{
	struct timeval tv = { .tv_sec = 2 };

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    sv), 0);
	ck_assert_int_eq(setsockopt(sv[1], SOL_SOCKET, SO_RCVTIMEO, &tv,
	    sizeof(tv)), 0);
}

/* An item for FD named "test:N". */
static struct pool_item
make_item(int fd, int n)
{
	struct pool_item it;

	memset(&it, 0, sizeof(it));
	it.fd = fd;
	snprintf(it.peer, sizeof(it.peer), "test:%d", n);
	snprintf(it.ip, sizeof(it.ip), "test");
	it.accepted_ms = thr_mono_ms();
	return it;
}

/* Non-zero when the peer FD reads end of file (not data, not a timeout). */
static int
peer_eof(int fd)
{
	char buf[16];
	ssize_t n;

	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
		;
	return n == 0;
}

/* Non-zero when FD is no longer an open descriptor. */
static int
fd_closed(int fd)
{
	return fcntl(fd, F_GETFD) == -1 && errno == EBADF;
}

/* Wait up to 5 s until pool P has BUSY busy workers and QUEUED queued items. */
static void
wait_stats(struct pool *p, int busy, int queued)
{
	long long end = thr_mono_ms() + 5000;
	int b, q;

	for (;;) {
		pool_stats(p, &b, &q, NULL, NULL);
		if ((b == busy && q == queued) || thr_mono_ms() > end)
			break;
		usleep(1000);
	}
	ck_assert_int_eq(b, busy);
	ck_assert_int_eq(q, queued);
}

START_TEST(test_pool_dispatch)
{
	struct hctx h;
	struct pool *p;
	struct pool_item it;
	int sv[2][2], seen[2] = { 0, 0 };
	char want[16];

	hctx_init(&h, H_GATE);
	p = pool_new("tp", 2, 2, handler, &h);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(pool_start(p), 0);
	for (int i = 0; i < 2; i++) {
		sockpair(sv[i]);
		it = make_item(sv[i][0], i);
		ck_assert_int_eq(pool_submit(p, &it), 0);
	}
	/* Both run at once, one per worker, in threads named NAME/INDEX. */
	wait_count(&h, &h.started, 2);
	for (int i = 0; i < 2; i++) {
		ck_assert(h.s[i].worker == 0 || h.s[i].worker == 1);
		seen[h.s[i].worker]++;
		snprintf(want, sizeof(want), "tp/%d", h.s[i].worker);
		ck_assert_str_eq(h.s[i].tname, want);
		ck_assert(h.s[i].fd == sv[0][0] || h.s[i].fd == sv[1][0]);
		ck_assert_int_gt(h.s[i].accepted_ms, 0);
	}
	ck_assert_int_eq(seen[0], 1);
	ck_assert_int_eq(seen[1], 1);
	ck_assert_int_ne(h.s[0].fd, h.s[1].fd);
	ck_assert_str_ne(h.s[0].peer, h.s[1].peer);

	/* The pool, not the handler, closes each socket after the handler. */
	ck_assert(!fd_closed(sv[0][0]));
	open_gate(&h);
	for (int i = 0; i < 2; i++) {
		ck_assert(peer_eof(sv[i][1]));
		ck_assert(fd_closed(sv[i][0]));
		close(sv[i][1]);
	}
	wait_count(&h, &h.finished, 2);
	wait_stats(p, 0, 0);

	/* Later items are served too, by either worker. */
	sockpair(sv[0]);
	it = make_item(sv[0][0], 7);
	ck_assert_int_eq(pool_submit(p, &it), 0);
	wait_count(&h, &h.finished, 3);
	ck_assert_str_eq(h.s[2].peer, "test:7");
	ck_assert(peer_eof(sv[0][1]));
	close(sv[0][1]);
	pool_stop(p);
	pool_free(p);
	hctx_destroy(&h);
}
END_TEST

START_TEST(test_pool_busy_and_load)
{
	struct hctx h;
	struct pool *p;
	struct pool_item it;
	int sv[5][2], busy, queued, workers, depth;

	hctx_init(&h, H_GATE);
	p = pool_new("tp", 2, 2, handler, &h);
	ck_assert_int_eq(pool_start(p), 0);
	pool_stats(p, &busy, &queued, &workers, &depth);
	ck_assert_int_eq(busy, 0);
	ck_assert_int_eq(queued, 0);
	ck_assert_int_eq(workers, 2);
	ck_assert_int_eq(depth, 2);
	ck_assert_int_eq(pool_load(p), 0);
	pool_stats(p, NULL, NULL, NULL, NULL);

	for (int i = 0; i < 5; i++)
		sockpair(sv[i]);
	it = make_item(sv[0][0], 0);
	ck_assert_int_eq(pool_submit(p, &it), 0);
	wait_count(&h, &h.started, 1);
	wait_stats(p, 1, 0);
	ck_assert_int_eq(pool_load(p), 25);
	it = make_item(sv[1][0], 1);
	ck_assert_int_eq(pool_submit(p, &it), 0);
	wait_count(&h, &h.started, 2);
	wait_stats(p, 2, 0);
	ck_assert_int_eq(pool_load(p), 50);
	/* Both workers blocked: the next two wait in the queue. */
	it = make_item(sv[2][0], 2);
	ck_assert_int_eq(pool_submit(p, &it), 0);
	ck_assert_int_eq(pool_load(p), 75);
	it = make_item(sv[3][0], 3);
	ck_assert_int_eq(pool_submit(p, &it), 0);
	pool_stats(p, &busy, &queued, &workers, &depth);
	ck_assert_int_eq(busy, 2);
	ck_assert_int_eq(queued, 2);
	ck_assert_int_eq(pool_load(p), 100);
	/* Full: refused, and the caller still owns the socket. */
	it = make_item(sv[4][0], 4);
	ck_assert_int_eq(pool_submit(p, &it), TR_EBUSY);
	ck_assert_int_eq(pool_load(p), 100);
	ck_assert_int_eq(started_of(&h), 2);

	open_gate(&h);
	wait_count(&h, &h.finished, 4);
	wait_stats(p, 0, 0);
	ck_assert_int_eq(pool_load(p), 0);
	ck_assert_int_eq(started_of(&h), 4);
	for (int i = 0; i < 4; i++) {
		ck_assert(peer_eof(sv[i][1]));
		close(sv[i][1]);
	}
	ck_assert(!fd_closed(sv[4][0]));
	close(sv[4][0]);
	close(sv[4][1]);
	pool_stop(p);
	pool_free(p);
	hctx_destroy(&h);
}
END_TEST

START_TEST(test_pool_load_floor)
{
	/* 3 workers + 4 queued: (busy + queued) / 7, rounded down. */
	static const int want[] = { 0, 14, 28, 42, 57, 71, 85, 100 };
	struct hctx h;
	struct pool *p;
	struct pool_item it;
	int sv[8][2];

	hctx_init(&h, H_GATE);
	p = pool_new("tp", 3, 4, handler, &h);
	ck_assert_int_eq(pool_start(p), 0);
	ck_assert_int_eq(pool_load(p), want[0]);
	for (int i = 0; i < 7; i++) {
		sockpair(sv[i]);
		it = make_item(sv[i][0], i);
		ck_assert_int_eq(pool_submit(p, &it), 0);
		if (i < 3)
			wait_count(&h, &h.started, i + 1);
		wait_stats(p, i < 3 ? i + 1 : 3, i < 3 ? 0 : i - 2);
		ck_assert_int_eq(pool_load(p), want[i + 1]);
	}
	sockpair(sv[7]);
	it = make_item(sv[7][0], 7);
	ck_assert_int_eq(pool_submit(p, &it), TR_EBUSY);
	close(sv[7][0]);
	close(sv[7][1]);
	open_gate(&h);
	wait_count(&h, &h.finished, 7);
	for (int i = 0; i < 7; i++) {
		ck_assert(peer_eof(sv[i][1]));
		close(sv[i][1]);
	}
	pool_stop(p);
	pool_free(p);
	hctx_destroy(&h);
}
END_TEST

START_TEST(test_pool_submit_before_start)
{
	struct hctx h;
	struct pool *p;
	struct pool_item it;
	int sv[2];

	hctx_init(&h, H_RECORD);
	p = pool_new("early", 1, 2, handler, &h);
	sockpair(sv);
	it = make_item(sv[0], 0);
	ck_assert_int_eq(pool_submit(p, &it), 0);
	usleep(20000);
	ck_assert_int_eq(started_of(&h), 0);
	ck_assert_int_eq(pool_load(p), 33);
	ck_assert_int_eq(pool_start(p), 0);
	wait_count(&h, &h.finished, 1);
	ck_assert_int_eq(h.s[0].worker, 0);
	ck_assert(peer_eof(sv[1]));
	close(sv[1]);
	pool_stop(p);
	pool_free(p);
	hctx_destroy(&h);
}
END_TEST

START_TEST(test_pool_name_before_first_item)
{
	/* The race is narrow: try it many times. */
	for (int round = 0; round < 50; round++) {
		struct hctx h;
		struct pool *p;
		struct pool_item it;
		int sv[2];

		hctx_init(&h, H_RECORD);
		p = pool_new("early", 1, 2, handler, &h);
		sockpair(sv);
		it = make_item(sv[0], 0);
		ck_assert_int_eq(pool_submit(p, &it), 0);
		ck_assert_int_eq(pool_start(p), 0);
		wait_count(&h, &h.finished, 1);
		ck_assert_msg(strcmp(h.s[0].tname, "early/0") == 0,
		    "round %d: first item served by thread '%s'", round,
		    h.s[0].tname);
		close(sv[1]);
		pool_stop(p);
		pool_free(p);
		hctx_destroy(&h);
	}
}
END_TEST

START_TEST(test_pool_long_name)
{
	struct hctx h;
	struct pool *p;
	struct pool_item it;
	int sv[2];

	/* Linux keeps 15 characters of a thread name: the end, with the index. */
	hctx_init(&h, H_RECORD);
	p = pool_new("transfer-worker", 1, 1, handler, &h);
	ck_assert_int_eq(pool_start(p), 0);
	sockpair(sv);
	it = make_item(sv[0], 0);
	ck_assert_int_eq(pool_submit(p, &it), 0);
	wait_count(&h, &h.finished, 1);
	ck_assert_str_eq(h.s[0].tname, "ansfer-worker/0");
	close(sv[1]);
	pool_stop(p);
	pool_free(p);
	hctx_destroy(&h);
}
END_TEST

START_TEST(test_pool_stop_wakes_readers)
{
	struct hctx h;
	struct pool *p;
	struct pool_item it;
	int sv[5][2];
	long long t0, took;
	char buf[8];

	hctx_init(&h, H_READ);
	p = pool_new("tp", 2, 2, handler, &h);
	ck_assert_int_eq(pool_start(p), 0);
	for (int i = 0; i < 4; i++) {
		sockpair(sv[i]);
		it = make_item(sv[i][0], i);
		ck_assert_int_eq(pool_submit(p, &it), 0);
		if (i < 2)
			wait_count(&h, &h.started, i + 1);
	}
	wait_stats(p, 2, 2);
	usleep(20000);		/* let both handlers block in recv */

	t0 = thr_mono_ms();
	pool_stop(p);
	took = thr_mono_ms() - t0;
	ck_assert_msg(took < 2000, "pool_stop took %lld ms", took);

	/* The blocked reads ended with EOF, not the 5 s timeout. */
	ck_assert_int_eq(h.finished, 2);
	ck_assert_int_eq(started_of(&h), 2);
	for (int i = 0; i < 2; i++) {
		ck_assert_msg(h.s[i].rd == 0, "recv returned %zd (%s)",
		    h.s[i].rd, strerror(h.s[i].rd_errno));
		/* Only the read side was shut: the answer still went out. */
		ck_assert_int_eq(h.s[i].wr, 3);
	}
	/* In-hand peers get the answer then EOF; queued ones just EOF. */
	for (int i = 0; i < 4; i++) {
		int served = h.s[0].fd == sv[i][0] || h.s[1].fd == sv[i][0];

		if (served) {
			ck_assert_int_eq(recv(sv[i][1], buf, sizeof(buf), 0),
			    3);
			ck_assert_mem_eq(buf, "bye", 3);
		}
		ck_assert(peer_eof(sv[i][1]));
		ck_assert(fd_closed(sv[i][0]));
	}
	for (int i = 0; i < 4; i++)
		close(sv[i][1]);

	/* A stopped pool refuses new work and stop is idempotent. */
	sockpair(sv[4]);
	it = make_item(sv[4][0], 4);
	ck_assert_int_eq(pool_submit(p, &it), TR_EBUSY);
	close(sv[4][0]);
	close(sv[4][1]);
	pool_stop(p);
	pool_free(p);
	pool_stop(NULL);
	pool_free(NULL);
	hctx_destroy(&h);
}
END_TEST

START_TEST(test_pool_deadline)
{
	struct hctx h;
	struct pool *p;
	struct pool_item it;
	int sv[2][2];
	long long t0;

	hctx_init(&h, H_READ);
	p = pool_new("td", 2, 1, handler, &h);
	ck_assert_int_eq(pool_start(p), 0);
	for (int i = 0; i < 2; i++) {
		sockpair(sv[i]);
		it = make_item(sv[i][0], i);
		ck_assert_int_eq(pool_submit(p, &it), 0);
		wait_count(&h, &h.started, i + 1);
	}
	usleep(20000);		/* both handlers block in recv */
	t0 = thr_mono_ms();
	/* Only the worker with a passed deadline is cut off. */
	pool_set_deadline(p, h.s[0].worker, t0 + 60000);
	pool_set_deadline(p, h.s[1].worker, t0 - 1);
	ck_assert_int_eq(pool_expire(p, t0), 1);
	ck_assert_int_eq(pool_expire(p, t0), 0);
	wait_count(&h, &h.finished, 1);
	ck_assert_msg(thr_mono_ms() - t0 < 2000, "expired read not woken");
	ck_assert_int_eq(h.s[1].rd, 0);
	/* Both directions were shut: the late answer cannot go out. */
	ck_assert_int_lt(h.s[1].wr, 0);
	pthread_mutex_lock(&h.m);
	ck_assert_int_eq(h.finished, 1);
	pthread_mutex_unlock(&h.m);
	/* A cleared deadline never fires. */
	pool_set_deadline(p, h.s[0].worker, 0);
	ck_assert_int_eq(pool_expire(p, t0 + 120000), 0);
	pool_set_deadline(p, 99, t0);	/* out of range: ignored */
	pool_stop(p);
	pool_free(p);
	for (int i = 0; i < 2; i++)
		close(sv[i][1]);
	hctx_destroy(&h);
}
END_TEST

START_TEST(test_pool_stop_idle)
{
	struct hctx h;
	struct pool *p;
	long long t0;

	hctx_init(&h, H_RECORD);
	p = pool_new("idle", 4, 8, handler, &h);
	ck_assert_int_eq(pool_start(p), 0);
	t0 = thr_mono_ms();
	pool_stop(p);
	ck_assert_int_lt(thr_mono_ms() - t0, 1000);
	ck_assert_int_eq(started_of(&h), 0);
	pool_free(p);
	hctx_destroy(&h);
}
END_TEST

/* --- acceptor --- */

/* A TCP client connected to 127.0.0.1:PORT, reads timing out after 2 s. */
static int
client_connect(uint16_t port, uint16_t *local_port)
{
	struct sockaddr_in sin;
	struct timeval tv = { .tv_sec = 2 };
	socklen_t len = sizeof(sin);
	int fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
	    sizeof(tv)), 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_msg(connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0,
	    "connect: %s", strerror(errno));
	if (local_port != NULL) {
		ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len),
		    0);
		*local_port = ntohs(sin.sin_port);
	}
	return fd;
}

/* Listen on 127.0.0.1 port 0; returns the socket, the port in *PORT. */
static int
listen_any(uint16_t *port)
{
	char err[256] = "";
	int fd = -1;

	ck_assert_msg(acceptor_listen("127.0.0.1", 0, &fd, port, err,
	    sizeof(err)) == 0, "acceptor_listen: %s", err);
	return fd;
}

/* Stop acceptor A, checking that it returns promptly. */
static void
stop_acceptor(struct acceptor *a)
{
	long long t0 = thr_mono_ms();

	acceptor_stop(a);
	ck_assert_int_lt(thr_mono_ms() - t0, 1000);
}

START_TEST(test_acceptor_listen)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	char err[256];
	uint16_t port = 0, port2 = 0;
	int fd = -1, fd2 = -1, fl;

	ck_assert_int_eq(acceptor_listen("127.0.0.1", 0, &fd, &port, err,
	    sizeof(err)), 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_uint_ne(port, 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	ck_assert_uint_eq(ntohs(sin.sin_port), port);
	ck_assert_uint_eq(ntohl(sin.sin_addr.s_addr), INADDR_LOOPBACK);
	fl = fcntl(fd, F_GETFD);
	ck_assert(fl >= 0 && (fl & FD_CLOEXEC));

	/* The port is taken while we listen on it. */
	err[0] = '\0';
	ck_assert_int_eq(acceptor_listen("127.0.0.1", port, &fd2, NULL, err,
	    sizeof(err)), TR_ESYS);
	ck_assert_ptr_nonnull(strstr(err, "127.0.0.1"));
	close(fd);

	/* Not an IP literal. */
	err[0] = '\0';
	ck_assert_int_eq(acceptor_listen("localhost", 0, &fd2, NULL, err,
	    sizeof(err)), TR_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "localhost"));

	/* IPv6 loopback, when the host has it. */
	if (acceptor_listen("::1", 0, &fd2, &port2, err, sizeof(err)) == 0) {
		ck_assert_uint_ne(port2, 0);
		close(fd2);
	}
}
END_TEST

START_TEST(test_acceptor_serves)
{
	struct hctx h;
	struct pool *p;
	struct acceptor *a;
	uint64_t acc, ban, rej, drop;
	uint16_t port, cport;
	char want[64];
	int lfd, c;

	hctx_init(&h, H_RECORD);
	p = pool_new("aw", 2, 2, handler, &h);
	ck_assert_int_eq(pool_start(p), 0);
	lfd = listen_any(&port);
	a = acceptor_start("acceptor", lfd, p, NULL, NULL);
	ck_assert_ptr_nonnull(a);

	c = client_connect(port, &cport);
	wait_count(&h, &h.finished, 1);
	snprintf(want, sizeof(want), "127.0.0.1:%u", (unsigned)cport);
	ck_assert_str_eq(h.s[0].peer, want);
	ck_assert_str_eq(h.s[0].ip, "127.0.0.1");
	ck_assert_int_gt(h.s[0].accepted_ms, 0);
	ck_assert(peer_eof(c));
	close(c);

	c = client_connect(port, NULL);
	wait_count(&h, &h.finished, 2);
	ck_assert(peer_eof(c));
	close(c);
	acceptor_stats(a, &acc, &ban, &rej, &drop);
	ck_assert_uint_eq(acc, 2);
	ck_assert_uint_eq(ban, 0);
	ck_assert_uint_eq(rej, 0);
	ck_assert_uint_eq(drop, 0);

	stop_acceptor(a);
	/* The listening socket went with it. */
	ck_assert(fd_closed(lfd));
	pool_stop(p);
	pool_free(p);
	hctx_destroy(&h);
}
END_TEST

START_TEST(test_acceptor_banned)
{
	struct hctx h;
	struct pool *p;
	struct acceptor *a;
	struct authfail *af;
	uint64_t acc, ban, rej, drop;
	uint16_t port;
	int lfd, c;

	hctx_init(&h, H_RECORD);
	p = pool_new("aw", 1, 1, handler, &h);
	ck_assert_int_eq(pool_start(p), 0);
	af = authfail_new(0, 60000, 60000);
	ck_assert_int_eq(authfail_record(af, "127.0.0.1", msg_now_ms()), 1);
	lfd = listen_any(&port);
	a = acceptor_start("acceptor", lfd, p, NULL, af);

	/* Closed right after accept: EOF, and the handler never runs. */
	c = client_connect(port, NULL);
	ck_assert(peer_eof(c));
	close(c);
	c = client_connect(port, NULL);
	ck_assert(peer_eof(c));
	close(c);
	acceptor_stats(a, &acc, &ban, &rej, &drop);
	ck_assert_uint_eq(acc, 2);
	ck_assert_uint_eq(ban, 2);
	ck_assert_uint_eq(rej, 0);
	ck_assert_uint_eq(drop, 0);
	ck_assert_int_eq(started_of(&h), 0);
	stop_acceptor(a);
	pool_stop(p);
	ck_assert_int_eq(started_of(&h), 0);
	pool_free(p);
	authfail_free(af);
	hctx_destroy(&h);
}
END_TEST

START_TEST(test_acceptor_full_drops)
{
	struct hctx h;
	struct pool *p;
	struct acceptor *a;
	uint64_t acc, ban, rej, drop;
	uint16_t port;
	int lfd, c[3];

	hctx_init(&h, H_GATE);
	p = pool_new("aw", 1, 1, handler, &h);
	ck_assert_int_eq(pool_start(p), 0);
	lfd = listen_any(&port);
	a = acceptor_start("acceptor", lfd, p, NULL, NULL);

	c[0] = client_connect(port, NULL);
	wait_count(&h, &h.started, 1);
	c[1] = client_connect(port, NULL);
	wait_stats(p, 1, 1);
	/* Worker busy, queue full, no rejection pool: closed at once. */
	c[2] = client_connect(port, NULL);
	ck_assert(peer_eof(c[2]));
	acceptor_stats(a, &acc, &ban, &rej, &drop);
	ck_assert_uint_eq(acc, 3);
	ck_assert_uint_eq(ban, 0);
	ck_assert_uint_eq(rej, 0);
	ck_assert_uint_eq(drop, 1);

	stop_acceptor(a);
	open_gate(&h);
	wait_count(&h, &h.finished, 2);
	ck_assert(peer_eof(c[0]));
	ck_assert(peer_eof(c[1]));
	ck_assert_int_eq(started_of(&h), 2);
	for (int i = 0; i < 3; i++)
		close(c[i]);
	pool_stop(p);
	pool_free(p);
	hctx_destroy(&h);
}
END_TEST

START_TEST(test_acceptor_full_rejects)
{
	struct hctx h, hr;
	struct pool *p, *rp;
	struct acceptor *a;
	uint64_t acc, ban, rej, drop;
	uint16_t port, cport;
	char want[64];
	int lfd, c[3];

	hctx_init(&h, H_GATE);
	hctx_init(&hr, H_RECORD);
	p = pool_new("aw", 1, 1, handler, &h);
	rp = pool_new("rej", 1, 1, handler, &hr);
	ck_assert_int_eq(pool_start(p), 0);
	ck_assert_int_eq(pool_start(rp), 0);
	lfd = listen_any(&port);
	a = acceptor_start("acceptor", lfd, p, rp, NULL);

	c[0] = client_connect(port, NULL);
	wait_count(&h, &h.started, 1);
	c[1] = client_connect(port, NULL);
	wait_stats(p, 1, 1);
	/* The overflow goes to the rejection pool. */
	c[2] = client_connect(port, &cport);
	wait_count(&hr, &hr.finished, 1);
	snprintf(want, sizeof(want), "127.0.0.1:%u", (unsigned)cport);
	ck_assert_str_eq(hr.s[0].peer, want);
	ck_assert_str_eq(hr.s[0].tname, "rej/0");
	ck_assert(peer_eof(c[2]));
	acceptor_stats(a, &acc, &ban, &rej, &drop);
	ck_assert_uint_eq(acc, 3);
	ck_assert_uint_eq(rej, 1);
	ck_assert_uint_eq(drop, 0);
	ck_assert_uint_eq(ban, 0);
	ck_assert_int_eq(started_of(&h), 1);

	stop_acceptor(a);
	open_gate(&h);
	wait_count(&h, &h.finished, 2);
	for (int i = 0; i < 3; i++)
		close(c[i]);
	pool_stop(p);
	pool_stop(rp);
	pool_free(p);
	pool_free(rp);
	hctx_destroy(&h);
	hctx_destroy(&hr);
}
END_TEST

START_TEST(test_acceptor_stop_prompt)
{
	struct hctx h;
	struct pool *p;
	struct acceptor *a;
	struct sockaddr_in sin;
	uint16_t port;
	int lfd, c;

	hctx_init(&h, H_RECORD);
	p = pool_new("aw", 1, 1, handler, &h);
	ck_assert_int_eq(pool_start(p), 0);
	lfd = listen_any(&port);
	a = acceptor_start("acceptor", lfd, p, NULL, NULL);
	usleep(10000);
	stop_acceptor(a);

	/* Nobody listens on the port any more. */
	c = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_ne(connect(c, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(errno, ECONNREFUSED);
	close(c);
	acceptor_stop(NULL);
	pool_stop(p);
	pool_free(p);
	hctx_destroy(&h);
}
END_TEST

/* Build the suite. */
static Suite *
pool_suite(void)
{
	Suite *s = suite_create("pool");
	TCase *tp = tcase_create("pool");
	TCase *ta = tcase_create("acceptor");

	tcase_add_checked_fixture(tp, setup, NULL);
	tcase_set_timeout(tp, 20);
	tcase_add_test(tp, test_pool_dispatch);
	tcase_add_test(tp, test_pool_busy_and_load);
	tcase_add_test(tp, test_pool_load_floor);
	tcase_add_test(tp, test_pool_submit_before_start);
	/* Threads name themselves before they run (thr_create's trampoline). */
	tcase_add_test(tp, test_pool_name_before_first_item);
	tcase_add_test(tp, test_pool_long_name);
	tcase_add_test(tp, test_pool_stop_wakes_readers);
	tcase_add_test(tp, test_pool_stop_idle);
	tcase_add_test(tp, test_pool_deadline);
	suite_add_tcase(s, tp);

	tcase_add_checked_fixture(ta, setup, NULL);
	tcase_set_timeout(ta, 20);
	tcase_add_test(ta, test_acceptor_listen);
	tcase_add_test(ta, test_acceptor_serves);
	tcase_add_test(ta, test_acceptor_banned);
	tcase_add_test(ta, test_acceptor_full_drops);
	tcase_add_test(ta, test_acceptor_full_rejects);
	tcase_add_test(ta, test_acceptor_stop_prompt);
	suite_add_tcase(s, ta);
	return s;
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	return tu_run(pool_suite());
}
