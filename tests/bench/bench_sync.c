/*
 * bench_sync: throughput of a pull into an empty replica and of a push,
 * each beside the raw SQLite insert rate of the same rows, measured in the
 * same run, on the same file system, with the same durability settings
 * (db_open: WAL, synchronous=FULL) in transactions of the size the sync
 * batches have.  The reference runs just before and just after each sync
 * and their mean is the reference rate, which evens out some of the noise
 * of a shared machine.  It prints rates and ratios; it never passes or
 * fails on a time (it exits 1 only when a sync fails or moves the wrong
 * records).  Run by tests/bench/run-sync-bench.sh (make bench), which starts
 * a hub, enrolls the node and imports the pull records first.
 *
 * The records are those of bench_data(): about 1 KB of canonical JSON each,
 * the same text that run-sync-bench.sh generates with awk (keep the two in
 * step).  Pulled records are "r%07d" with n = 0..N-1, pushed ones "p%07d".
 */
#include "config.h"

#include <sys/resource.h>
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "db.h"
#include "err.h"
#include "jcs.h"
#include "log.h"
#include "trosyn.h"

#define BENCH_DATA_MAX	2048
#define BENCH_ORIGIN	"hub-1"		/* what the hub writes as origin of imports */

/* 124 characters; the body is this sentence BENCH_LOREM_TIMES times. */
#define BENCH_LOREM "Lorem ipsum dolor sit amet, consectetur adipiscing " \
	"elit, sed do eiusmod tempor incididunt ut labore et dolore magna " \
	"aliqua. "
#define BENCH_LOREM_TIMES 7

struct opts {
	const char *creds;
	const char *host;
	uint16_t port;
	const char *dir;
	const char *collection;
	long pull_n;
	long push_n;
	int batch;			/* records per pull batch (the hub's batch_size) */
	int push_batch;			/* records per push batch (libtrosyn: 500) */
	long hub_pid;			/* 0: unknown */
	int timeout_s;
};

/* CPU seconds of this process and of the hub at one moment. */
struct cpu_mark {
	double self;
	double hub;			/* < 0: unknown */
};

/* Seconds on the monotonic clock. */
static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* User + system CPU seconds of process PID (all its threads), or -1. */
static double
proc_cpu_s(long pid)
{
	char path[64], buf[1024], *p;
	unsigned long long utime, stime;
	FILE *f;
	size_t n;

	if (pid <= 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* Fields after the command name: state is field 3, utime 14, stime 15. */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu "
	    "%llu", &utime, &stime) != 2)
		return -1;
	return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

/* CPU seconds of this process. */
static double
self_cpu_s(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return -1;
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static void
cpu_mark(const struct opts *o, struct cpu_mark *m)
{
	m->self = self_cpu_s();
	m->hub = proc_cpu_s(o->hub_pid);
}

/* Print the CPU used between A and B over WALL seconds. */
static void
cpu_print(const struct cpu_mark *a, const struct cpu_mark *b, double wall)
{
	double self = b->self - a->self;

	printf("         cpu: client %.2f s (%.0f%% of wall)", self,
	    100.0 * self / wall);
	if (a->hub >= 0 && b->hub >= 0)
		printf(", hub %.2f s (%.0f%% of wall)", b->hub - a->hub,
		    100.0 * (b->hub - a->hub) / wall);
	else
		printf(", hub unknown (no --hub-pid)");
	printf("\n");
}

/*
 * The data of record N as canonical JSON (RFC 8785: members sorted, no
 * white space) into BUF; returns its length.  run-sync-bench.sh prints
 * the same text with awk.
 */
static size_t
bench_data(long n, char *buf, size_t len)
{
	char body[sizeof(BENCH_LOREM) * BENCH_LOREM_TIMES + 1];
	size_t at = 0;
	int w;

	for (int i = 0; i < BENCH_LOREM_TIMES; i++) {
		memcpy(body + at, BENCH_LOREM, sizeof(BENCH_LOREM) - 1);
		at += sizeof(BENCH_LOREM) - 1;
	}
	body[at] = '\0';
	w = snprintf(buf, len, "{\"amount\":%lld,\"body\":\"%s\","
	    "\"category\":\"cat-%ld\",\"created\":\"2024-05-01T12:00:00.000Z\","
	    "\"n\":%ld,\"tags\":[\"bench\",\"sync\",\"t%ld\"],"
	    "\"title\":\"Record %07ld\"}", (long long)n * 7919 % 100000, body,
	    n % 16, n, n % 10, n);
	if (w < 0 || (size_t)w >= len) {
		fprintf(stderr, "bench_sync: record data too long\n");
		exit(2);
	}
	return (size_t)w;
}

/* The id of record N with PREFIX into BUF. */
static void
bench_id(const char *prefix, long n, char *buf, size_t len)
{
	snprintf(buf, len, "%s%07ld", prefix, n);
}

/* Check once that bench_data() is canonical, so the reference stores what the replica stores. */
static void
bench_check_canonical(void)
{
	char buf[BENCH_DATA_MAX], *canon = NULL;
	json_object *o = NULL;
	size_t len = bench_data(12345, buf, sizeof(buf)), clen = 0;

	if (jcs_parse(buf, len, &o) != 0 || jcs_serialize(o, &canon,
	    &clen) != 0 || clen != len || memcmp(canon, buf, len) != 0) {
		fprintf(stderr, "bench_sync: bench_data() is not canonical "
		    "JSON\n");
		exit(2);
	}
	free(canon);
	json_object_put(o);
}

/* Remove PATH and its -wal and -shm files. */
static void
db_files_remove(const char *path)
{
	char p[4200];

	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
}

/* Warn when DB's page size is not the replica's PAGE_SIZE. */
static int
bench_page_size_check(sqlite3 *db, int page_size)
{
	sqlite3_stmt *st = NULL;
	int got = 0;

	if (db_prepare(db, "PRAGMA page_size", &st) != 0)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		got = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (got != page_size)
		fprintf(stderr, "bench_sync: warning: the reference database "
		    "has %d-byte pages, the replica %d: the reference does not "
		    "match the replica\n", got, page_size);
	return 0;
}

/*
 * The reference: insert N rows of PREFIX (record n = 0..N-1) into a fresh
 * database at PATH opened with db_open(), into a table made with SCHEMA
 * (the replica's own CREATE TABLE of records), BATCH rows per transaction,
 * one prepared statement.
 * Prints one line tagged WHEN; returns rows per second (0 on failure).
 */
static double
bench_reference(const char *path, const char *schema, int page_size,
    const char *collection, const char *prefix, long n, int batch,
    const char *when)
{
	char data[BENCH_DATA_MAX], id[64];
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int64_t modified = (int64_t)time(NULL) * 1000;
	double t0, t = 0;
	size_t len;
	long i;
	int ok = 0;

	db_files_remove(path);
	if (db_open(path, 1, &db) != 0 || db_exec(db, schema) != 0 ||
	    bench_page_size_check(db, page_size) != 0 ||
	    db_prepare(db, "INSERT INTO records (collection, id, version,"
	    " deleted, modified_at, origin, data, file_sha256, file_size,"
	    " file_name, seq) VALUES (?, ?, 1, 0, ?, ?, ?, NULL, NULL, NULL,"
	    " ?)", &st) != 0)
		goto out;
	t0 = now_s();
	for (i = 0; i < n; i++) {
		if (i % batch == 0 && db_begin(db) != 0)
			goto out;
		bench_id(prefix, i, id, sizeof(id));
		len = bench_data(i, data, sizeof(data));
		sqlite3_bind_text(st, 1, collection, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, modified);
		sqlite3_bind_text(st, 4, BENCH_ORIGIN, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, data, (int)len, SQLITE_STATIC);
		sqlite3_bind_int64(st, 6, i + 1);
		if (sqlite3_step(st) != SQLITE_DONE) {
			fprintf(stderr, "bench_sync: reference insert: %s\n",
			    sqlite3_errmsg(db));
			goto out;
		}
		sqlite3_reset(st);
		if ((i % batch == batch - 1 || i == n - 1) &&
		    db_commit(db) != 0)
			goto out;
	}
	t = now_s() - t0;
	printf("%-8s %7ld rows    %7.2f s %8.0f rows/s  (raw SQLite INSERT, "
	    "%d rows per transaction, %s)\n", prefix[0] == 'r' ? "ref-pull" :
	    "ref-push", n, t, (double)n / t, batch, when);
	ok = 1;
out:
	if (!ok)
		fprintf(stderr, "bench_sync: reference in %s failed\n", path);
	if (db != NULL)
		db_rollback(db);
	sqlite3_finalize(st);
	db_close(db);
	db_files_remove(path);
	return ok ? (double)n / t : 0;
}

/*
 * The CREATE TABLE statement of the records table of the replica in DIR
 * (malloc'd) and its page size: the reference copies them, so it follows
 * any change of the replica's schema.  NULL on failure.
 */
static char *
bench_replica_schema(const char *dir, int *page_size)
{
	char path[4200], *sql = NULL;
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;

	snprintf(path, sizeof(path), "%s/replica.db", dir);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK || sqlite3_prepare_v2(db, "SELECT sql FROM sqlite_master"
	    " WHERE type = 'table' AND name = 'records'", -1, &st, NULL) !=
	    SQLITE_OK)
		goto out;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) !=
	    NULL)
		sql = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(db, "PRAGMA page_size", -1, &st, NULL) !=
	    SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
		free(sql);
		sql = NULL;
		goto out;
	}
	*page_size = sqlite3_column_int(st, 0);
out:
	if (sql == NULL)
		fprintf(stderr, "bench_sync: cannot read the records table of "
		    "%s: %s\n", path, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return sql;
}

/* Say once what the reference table is. */
static void
bench_schema_note(const char *schema, int page_size)
{
	static int said;

	if (said++)
		return;
	printf("reference table: the replica's own records table (%s, "
	    "%d-byte pages), read from a new replica\n",
	    strstr(schema, "WITHOUT ROWID") != NULL ? "WITHOUT ROWID" :
	    "rowid table", page_size);
}

/* Open the node on state dir DIR (created empty). */
static trosyn *
bench_open(const struct opts *o, const char *dir)
{
	struct trosyn_options to;
	char err[512];
	trosyn *t = NULL;

	memset(&to, 0, sizeof(to));
	to.credentials = o->creds;
	to.state_dir = dir;
	to.hub_host = o->host;
	to.hub_port = o->port;
	to.timeout_s = o->timeout_s;
	if (trosyn_open(&to, &t, err, sizeof(err)) != 0) {
		fprintf(stderr, "bench_sync: trosyn_open %s: %s\n", dir, err);
		return NULL;
	}
	return t;
}

/*
 * Compare the data of a few pulled records and the record count in the
 * replica of DIR to what the reference inserted.  Returns 0 when equal.
 */
static int
bench_check_pulled(const struct opts *o, const char *dir)
{
	long probe[3] = { 0, o->pull_n / 2, o->pull_n - 1 };
	char path[4200], id[64], want[BENCH_DATA_MAX];
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int bad = 0;

	snprintf(path, sizeof(path), "%s/replica.db", dir);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT count(*) FROM records WHERE "
	    "collection = ?", -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "bench_sync: %s: %s\n", path, sqlite3_errmsg(db));
		sqlite3_close(db);
		return 1;
	}
	sqlite3_bind_text(st, 1, o->collection, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW ||
	    sqlite3_column_int64(st, 0) != o->pull_n) {
		fprintf(stderr, "bench_sync: the replica holds %lld records of "
		    "%s, not %ld\n", (long long)sqlite3_column_int64(st, 0),
		    o->collection, o->pull_n);
		bad = 1;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(db, "SELECT data FROM records WHERE "
	    "collection = ? AND id = ?", -1, &st, NULL) != SQLITE_OK)
		bad = 1;
	for (int i = 0; !bad && i < 3; i++) {
		const unsigned char *got;

		bench_id("r", probe[i], id, sizeof(id));
		bench_data(probe[i], want, sizeof(want));
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, o->collection, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_ROW ||
		    (got = sqlite3_column_text(st, 0)) == NULL ||
		    strcmp((const char *)got, want) != 0) {
			fprintf(stderr, "bench_sync: record %s in the replica "
			    "differs from the reference row (is the awk "
			    "generator in step with bench_data()?)\n", id);
			bad = 1;
		}
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return bad;
}

/* Pull phase: reference, the pull into an empty replica, reference again.  0 on success. */
static int
bench_pull(const struct opts *o)
{
	const char *colls[1] = { o->collection };
	struct trosyn_sync_result res;
	struct cpu_mark c0, c1;
	char ref[4200], dir[4096];
	double ref0, ref1, ref_rate, t0, t, t_noop, rate;
	char *schema = NULL;
	trosyn *t_node;
	int rc, page_size = 0;

	snprintf(ref, sizeof(ref), "%s/ref-pull.db", o->dir);
	snprintf(dir, sizeof(dir), "%s/pull", o->dir);
	/* The replica is created empty; the reference copies its table. */
	if ((t_node = bench_open(o, dir)) == NULL)
		return 1;
	if ((schema = bench_replica_schema(dir, &page_size)) != NULL)
		bench_schema_note(schema, page_size);
	if (schema == NULL ||
	    (ref0 = bench_reference(ref, schema, page_size, o->collection,
	    "r", o->pull_n, o->batch, "before the pull")) <= 0) {
		free(schema);
		trosyn_close(t_node);
		return 1;
	}
	cpu_mark(o, &c0);
	t0 = now_s();
	rc = trosyn_pull(t_node, colls, 1, &res);
	t = now_s() - t0;
	cpu_mark(o, &c1);
	if (rc != 0) {
		fprintf(stderr, "bench_sync: pull: %s\n",
		    trosyn_last_error(t_node));
		trosyn_close(t_node);
		free(schema);
		return 1;
	}
	/* The fixed cost of a sync: connect, TLS, login, an empty pull. */
	t0 = now_s();
	rc = trosyn_pull(t_node, colls, 1, NULL);
	t_noop = now_s() - t0;
	if (rc != 0) {
		fprintf(stderr, "bench_sync: second pull: %s\n",
		    trosyn_last_error(t_node));
		trosyn_close(t_node);
		free(schema);
		return 1;
	}
	trosyn_close(t_node);
	/* Again after: the machine may be shared; the mean is the reference. */
	ref1 = bench_reference(ref, schema, page_size, o->collection, "r",
	    o->pull_n, o->batch, "after the pull");
	free(schema);
	if (ref1 <= 0)
		return 1;
	ref_rate = (ref0 + ref1) / 2;
	rate = (double)res.records / t;
	printf("%-8s %7" PRId64 " records %7.2f s %8.0f rec/s   reference %.0f "
	    "rec/s   ratio %.2f\n", "pull", res.records, t, rate, ref_rate,
	    rate / ref_rate);
	printf("         batches %" PRId64 ", cursor %" PRId64 "; reference = mean "
	    "of the two ref-pull runs\n", res.batches, res.cursor);
	cpu_print(&c0, &c1, t);
	printf("%-8s %7d records %7.3f s   (a second pull: connect, TLS 1.3, "
	    "login, nothing to send)\n", "no-op", 0, t_noop);
	if (res.records != o->pull_n) {
		fprintf(stderr, "bench_sync: pulled %" PRId64 " records, "
		    "expected %ld: the hub's collection %s does not hold "
		    "exactly the benchmark records\n", res.records, o->pull_n,
		    o->collection);
		return 1;
	}
	return bench_check_pulled(o, dir);
}

/*
 * Push phase: queue M new records in an empty replica (timed apart: it is
 * not the push), reference, push, reference again.  0 on success.
 */
static int
bench_push(const struct opts *o)
{
	struct trosyn_sync_result res;
	struct cpu_mark c0, c1;
	char ref[4200], dir[4096], data[BENCH_DATA_MAX], id[64];
	double ref0, ref1, ref_rate, t0, t, rate;
	char *schema = NULL;
	trosyn *t_node;
	long i;
	int rc, page_size = 0;

	snprintf(ref, sizeof(ref), "%s/ref-push.db", o->dir);
	snprintf(dir, sizeof(dir), "%s/push", o->dir);
	if ((t_node = bench_open(o, dir)) == NULL)
		return 1;
	if ((schema = bench_replica_schema(dir, &page_size)) == NULL) {
		trosyn_close(t_node);
		return 1;
	}
	bench_schema_note(schema, page_size);
	t0 = now_s();
	for (i = 0; i < o->push_n; i++) {
		bench_id("p", i, id, sizeof(id));
		bench_data(i, data, sizeof(data));
		if (trosyn_put(t_node, o->collection, id, data) != 0) {
			fprintf(stderr, "bench_sync: put %s: %s\n", id,
			    trosyn_last_error(t_node));
			trosyn_close(t_node);
			free(schema);
			return 1;
		}
	}
	t = now_s() - t0;
	printf("%-8s %7ld records %7.2f s %8.0f rec/s   (trosyn_put, one "
	    "transaction each; not part of the push)\n", "queue", o->push_n, t,
	    (double)o->push_n / t);
	if ((ref0 = bench_reference(ref, schema, page_size, o->collection,
	    "p", o->push_n, o->push_batch, "before the push")) <= 0) {
		trosyn_close(t_node);
		free(schema);
		return 1;
	}
	cpu_mark(o, &c0);
	t0 = now_s();
	rc = trosyn_push(t_node, &res);
	t = now_s() - t0;
	cpu_mark(o, &c1);
	if (rc != 0) {
		fprintf(stderr, "bench_sync: push: %s\n",
		    trosyn_last_error(t_node));
		trosyn_close(t_node);
		free(schema);
		return 1;
	}
	trosyn_close(t_node);
	ref1 = bench_reference(ref, schema, page_size, o->collection, "p",
	    o->push_n, o->push_batch, "after the push");
	free(schema);
	if (ref1 <= 0)
		return 1;
	ref_rate = (ref0 + ref1) / 2;
	rate = (double)res.records / t;
	printf("%-8s %7" PRId64 " records %7.2f s %8.0f rec/s   reference %.0f "
	    "rec/s   ratio %.2f\n", "push", res.records, t, rate, ref_rate,
	    rate / ref_rate);
	printf("         batches %" PRId64 ": %" PRId64 " applied, %" PRId64
	    " conflicts, %" PRId64 " rejected; reference = mean of the two "
	    "ref-push runs\n", res.batches, res.applied, res.conflicts,
	    res.rejected);
	cpu_print(&c0, &c1, t);
	if (res.applied != o->push_n) {
		fprintf(stderr, "bench_sync: %" PRId64 " of %ld pushed records "
		    "applied: push into a hub without earlier p* records\n",
		    res.applied, o->push_n);
		return 1;
	}
	return 0;
}

/* Non-zero when HOST names the loopback interface. */
static int
is_loopback(const char *host)
{
	return strncmp(host, "127.", 4) == 0 || strcmp(host, "::1") == 0 ||
	    strcmp(host, "localhost") == 0;
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: bench_sync -k CREDENTIALS --hub HOST:PORT -s DIR [options]\n"
	    "  -k, --credentials FILE  node credentials (trosyn-admin enroll)\n"
	    "      --hub HOST:PORT     the hub (IPv4 or name)\n"
	    "  -s, --state-dir DIR     work directory (must exist; the replicas\n"
	    "                          and reference databases go under it)\n"
	    "  -c, --collection NAME   collection (default bench)\n"
	    "      --pull N            records the hub holds to pull (default 100000; 0 skips)\n"
	    "      --push M            records to push (default 20000; 0 skips)\n"
	    "      --batch B           the hub's pull batch_size (default 500)\n"
	    "      --push-batch B      libtrosyn's push batch (default 500)\n"
	    "      --hub-pid PID       report the hub's CPU time too\n"
	    "      --timeout S         network timeout (default 120)\n");
}

/* Parse a positive long (or zero when ZERO_OK) into *OUT. */
static int
parse_long(const char *s, long max, int zero_ok, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < (zero_ok ? 0 : 1) ||
	    v > max)
		return -1;
	*out = v;
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "credentials", required_argument, NULL, 'k' },
		{ "hub", required_argument, NULL, 'H' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "collection", required_argument, NULL, 'c' },
		{ "pull", required_argument, NULL, 'P' },
		{ "push", required_argument, NULL, 'U' },
		{ "batch", required_argument, NULL, 'b' },
		{ "push-batch", required_argument, NULL, 'B' },
		{ "hub-pid", required_argument, NULL, 'p' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct opts o;
	struct stat sb;
	char *colon, host[256];
	long v;
	int ch, rc = 0;

	memset(&o, 0, sizeof(o));
	o.collection = "bench";
	o.pull_n = 100000;
	o.push_n = 20000;
	o.batch = 500;
	o.push_batch = 500;
	o.timeout_s = 120;
	while ((ch = getopt_long(argc, argv, "k:s:c:h", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'k': o.creds = optarg; break;
		case 's': o.dir = optarg; break;
		case 'c': o.collection = optarg; break;
		case 'H':
			snprintf(host, sizeof(host), "%s", optarg);
			if ((colon = strrchr(host, ':')) == NULL ||
			    parse_long(colon + 1, 65535, 0, &v) != 0) {
				fprintf(stderr, "bench_sync: --hub HOST:PORT\n");
				return 2;
			}
			*colon = '\0';
			o.host = host;
			o.port = (uint16_t)v;
			break;
		case 'P':
		case 'U':
			if (parse_long(optarg, 100000000, 1, &v) != 0) {
				fprintf(stderr, "bench_sync: bad count %s\n",
				    optarg);
				return 2;
			}
			*(ch == 'P' ? &o.pull_n : &o.push_n) = v;
			break;
		case 'b':
		case 'B':
			if (parse_long(optarg, 100000, 0, &v) != 0) {
				fprintf(stderr, "bench_sync: bad batch %s\n",
				    optarg);
				return 2;
			}
			*(ch == 'b' ? &o.batch : &o.push_batch) = (int)v;
			break;
		case 'p':
			if (parse_long(optarg, 0x7fffffffL, 0, &o.hub_pid) != 0) {
				fprintf(stderr, "bench_sync: bad pid\n");
				return 2;
			}
			break;
		case 't':
			if (parse_long(optarg, 3600, 0, &v) != 0) {
				fprintf(stderr, "bench_sync: bad timeout\n");
				return 2;
			}
			o.timeout_s = (int)v;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || o.creds == NULL || o.host == NULL ||
	    o.dir == NULL) {
		usage(stderr);
		return 2;
	}
	if (strlen(o.dir) > 3000 || stat(o.dir, &sb) != 0 ||
	    !S_ISDIR(sb.st_mode)) {
		fprintf(stderr, "bench_sync: %s is not a directory\n", o.dir);
		return 2;
	}
	log_init("bench_sync", LOG_LEVEL_WARN, 0);
	bench_check_canonical();
	{
		char data[BENCH_DATA_MAX];

		printf("machine: nproc %ld, hub %s:%u (%s), SQLite %s, WAL + "
		    "synchronous=FULL on both sides\n",
		    sysconf(_SC_NPROCESSORS_ONLN), o.host, (unsigned)o.port,
		    is_loopback(o.host) ? "loopback: hub and client share the "
		    "CPUs and the disk" : "over the network", sqlite3_libversion());
		printf("records: %zu bytes of canonical JSON data each, "
		    "collection %s, work dir %s\n",
		    bench_data(0, data, sizeof(data)), o.collection, o.dir);
	}
	if (o.pull_n > 0)
		rc |= bench_pull(&o);
	if (rc == 0 && o.push_n > 0)
		rc |= bench_push(&o);
	return rc != 0;
}
