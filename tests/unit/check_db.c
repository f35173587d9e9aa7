/* Unit tests of the SQLite helpers: open settings, migrations, transactions. */
#include "config.h"

#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "err.h"
#include "log.h"
#include "testutil.h"

static char *tmpdir;

/* A fresh temp dir per test. */
static void
setup(void)
{
	tmpdir = tu_tmpdir();
	log_init("check_db", LOG_LEVEL_ERROR, 0);
}

/* Remove the test's temp dir. */
static void
teardown(void)
{
	tu_rmtree(tmpdir);
	free(tmpdir);
	tmpdir = NULL;
}

/* Path of NAME in the test's temp dir (malloc'd). */
static char *
tmppath(const char *name)
{
	char *p;

	ck_assert_int_ne(asprintf(&p, "%s/%s", tmpdir, name), -1);
	return p;
}

/* The integer answer of a one-row query. */
static long long
query_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *stmt;
	long long v;

	ck_assert_int_eq(db_prepare(db, sql, &stmt), 0);
	ck_assert_int_eq(sqlite3_step(stmt), SQLITE_ROW);
	v = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return v;
}

/* The text answer of a one-row query (malloc'd). */
static char *
query_text(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *stmt;
	char *v;

	ck_assert_int_eq(db_prepare(db, sql, &stmt), 0);
	ck_assert_int_eq(sqlite3_step(stmt), SQLITE_ROW);
	v = strdup((const char *)sqlite3_column_text(stmt, 0));
	ck_assert_ptr_nonnull(v);
	sqlite3_finalize(stmt);
	return v;
}

/* Non-zero when table NAME exists. */
static int
has_table(sqlite3 *db, const char *name)
{
	char sql[128];

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM sqlite_master WHERE "
	    "type = 'table' AND name = '%s'", name);
	return query_int(db, sql) != 0;
}

START_TEST(test_open_create)
{
	struct stat st;
	sqlite3 *db = (sqlite3 *)1;
	char *path = tmppath("hub.db"), *wal = tmppath("hub.db-wal"), *mode;
	mode_t old;

	/* The mode must not depend on the caller's umask. */
	old = umask(0);
	ck_assert_int_eq(db_open(path, 1, &db), 0);
	umask(old);
	ck_assert_ptr_nonnull(db);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);

	mode = query_text(db, "PRAGMA journal_mode");
	ck_assert_str_eq(mode, "wal");
	free(mode);
	ck_assert_int_eq(query_int(db, "PRAGMA synchronous"), 2);
	ck_assert_int_eq(query_int(db, "PRAGMA foreign_keys"), 1);
	ck_assert_int_eq(query_int(db, "PRAGMA busy_timeout"), 5000);

	/* The WAL file SQLite creates takes the database's mode. */
	ck_assert_int_eq(db_exec(db, "CREATE TABLE t(x); INSERT INTO t "
	    "VALUES (1)"), 0);
	ck_assert_int_eq(stat(wal, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	db_close(db);

	/* Reopen without create: the data and the WAL mode persist. */
	ck_assert_int_eq(db_open(path, 0, &db), 0);
	ck_assert_int_eq(query_int(db, "SELECT x FROM t"), 1);
	mode = query_text(db, "PRAGMA journal_mode");
	ck_assert_str_eq(mode, "wal");
	free(mode);
	ck_assert_int_eq(query_int(db, "PRAGMA foreign_keys"), 1);
	db_close(db);
	db_close(NULL);
	free(path);
	free(wal);
}
END_TEST

START_TEST(test_open_missing)
{
	sqlite3 *db = (sqlite3 *)1;
	char *path = tmppath("none.db"), *deep = tmppath("no/such/dir.db");
	struct stat st;

	ck_assert_int_eq(db_open(path, 0, &db), TR_ENOTFOUND);
	ck_assert_ptr_null(db);
	ck_assert_int_ne(stat(path, &st), 0);
	db = (sqlite3 *)1;
	ck_assert_int_eq(db_open(deep, 1, &db), TR_EDB);
	ck_assert_ptr_null(db);
	ck_assert_int_eq(db_open(deep, 0, &db), TR_ENOTFOUND);
	free(path);
	free(deep);
}
END_TEST

START_TEST(test_open_not_a_database)
{
	sqlite3 *db = (sqlite3 *)1;
	char *path = tmppath("junk.db");
	char junk[4096];

	memset(junk, 'j', sizeof(junk));
	tu_write_file(path, junk, sizeof(junk));
	ck_assert_int_eq(db_open(path, 0, &db), TR_EDB);
	ck_assert_ptr_null(db);
	ck_assert_int_eq(db_open(tmpdir, 0, &db), TR_EDB);
	ck_assert_ptr_null(db);
	free(path);
}
END_TEST

static const char *const steps3[] = {
	"CREATE TABLE a (id INTEGER PRIMARY KEY, name TEXT NOT NULL)",
	"CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER NOT NULL "
	    "REFERENCES a(id)); INSERT INTO a (id, name) VALUES (1, 'one')",
	"ALTER TABLE a ADD COLUMN extra TEXT"
};

START_TEST(test_migrate)
{
	sqlite3 *db;
	char *path = tmppath("m.db");

	ck_assert_int_eq(db_open(path, 1, &db), 0);
	ck_assert_int_eq(query_int(db, "PRAGMA user_version"), 0);
	ck_assert_int_eq(db_migrate(db, steps3, 2), 0);
	ck_assert_int_eq(query_int(db, "PRAGMA user_version"), 2);
	ck_assert(has_table(db, "a"));
	ck_assert(has_table(db, "b"));
	ck_assert_int_eq(query_int(db, "SELECT count(*) FROM a"), 1);
	ck_assert(sqlite3_get_autocommit(db));

	/* Again: nothing runs (the steps would fail or double the row). */
	ck_assert_int_eq(db_migrate(db, steps3, 2), 0);
	ck_assert_int_eq(query_int(db, "PRAGMA user_version"), 2);
	ck_assert_int_eq(query_int(db, "SELECT count(*) FROM a"), 1);

	/* A third step runs alone. */
	ck_assert_int_eq(db_migrate(db, steps3, 3), 0);
	ck_assert_int_eq(query_int(db, "PRAGMA user_version"), 3);
	ck_assert_int_eq(db_exec(db, "UPDATE a SET extra = 'x'"), 0);
	ck_assert_int_eq(query_int(db, "SELECT count(*) FROM a"), 1);

	/* Foreign keys are enforced. */
	ck_assert_int_eq(db_exec(db, "INSERT INTO b (a_id) VALUES (99)"),
	    TR_EDB);
	ck_assert_int_eq(db_exec(db, "INSERT INTO b (a_id) VALUES (1)"), 0);

	/* No steps on an empty database. */
	db_close(db);
	free(path);
	path = tmppath("empty.db");
	ck_assert_int_eq(db_open(path, 1, &db), 0);
	ck_assert_int_eq(db_migrate(db, NULL, 0), 0);
	ck_assert_int_eq(query_int(db, "PRAGMA user_version"), 0);
	ck_assert_int_eq(db_migrate(db, NULL, -1), TR_EINVAL);
	db_close(db);
	free(path);
}
END_TEST

START_TEST(test_migrate_newer)
{
	static const char *const more[] = {
		"CREATE TABLE early (x)",
		"CREATE TABLE middle (x)",
		"CREATE TABLE late (x)",
		"SELEKT 1"
	};
	sqlite3 *db;
	char *path = tmppath("new.db");

	ck_assert_int_eq(db_open(path, 1, &db), 0);
	ck_assert_int_eq(db_exec(db, "PRAGMA user_version = 5"), 0);
	ck_assert_int_eq(db_migrate(db, steps3, 2), TR_EDB);
	ck_assert_int_eq(query_int(db, "PRAGMA user_version"), 5);
	ck_assert(!has_table(db, "a"));
	ck_assert(sqlite3_get_autocommit(db));

	/* One version ahead: no step past NSTEPS may run, even when there is one. */
	ck_assert_int_eq(db_exec(db, "PRAGMA user_version = 2"), 0);
	ck_assert_int_eq(db_migrate(db, more, 1), TR_EDB);
	ck_assert_int_eq(query_int(db, "PRAGMA user_version"), 2);
	ck_assert(!has_table(db, "late"));
	db_close(db);
	free(path);
}
END_TEST

START_TEST(test_migrate_failure_rolls_back)
{
	static const char *const bad[] = {
		"CREATE TABLE a (x)",
		"CREATE TABLE c (z); INSERT INTO c VALUES (1); "
		    "INSERT INTO nosuch VALUES (1)",
		"CREATE TABLE d (w)"
	};
	static const char *const fixed[] = {
		"CREATE TABLE a (x)",
		"CREATE TABLE c (z); INSERT INTO c VALUES (1)",
		"CREATE TABLE d (w)"
	};
	sqlite3 *db;
	char *path = tmppath("f.db");

	ck_assert_int_eq(db_open(path, 1, &db), 0);
	ck_assert_int_eq(db_migrate(db, bad, 3), TR_EDB);
	/* Step 1 stays committed, step 2 is undone whole, step 3 never ran. */
	ck_assert_int_eq(query_int(db, "PRAGMA user_version"), 1);
	ck_assert(has_table(db, "a"));
	ck_assert(!has_table(db, "c"));
	ck_assert(!has_table(db, "d"));
	ck_assert(sqlite3_get_autocommit(db));

	ck_assert_int_eq(db_migrate(db, fixed, 3), 0);
	ck_assert_int_eq(query_int(db, "PRAGMA user_version"), 3);
	ck_assert_int_eq(query_int(db, "SELECT count(*) FROM c"), 1);
	db_close(db);
	free(path);
}
END_TEST

START_TEST(test_transactions)
{
	sqlite3 *db, *other;
	char *path = tmppath("t.db");

	ck_assert_int_eq(db_open(path, 1, &db), 0);
	ck_assert_int_eq(db_open(path, 0, &other), 0);
	ck_assert_int_eq(db_exec(db, "CREATE TABLE t (x)"), 0);

	ck_assert_int_eq(db_begin(db), 0);
	ck_assert(!sqlite3_get_autocommit(db));
	ck_assert_int_eq(db_exec(db, "INSERT INTO t VALUES (1)"), 0);
	ck_assert_int_eq(query_int(db, "SELECT count(*) FROM t"), 1);
	/* Another connection does not see uncommitted rows. */
	ck_assert_int_eq(query_int(other, "SELECT count(*) FROM t"), 0);
	ck_assert_int_eq(db_rollback(db), 0);
	ck_assert(sqlite3_get_autocommit(db));
	ck_assert_int_eq(query_int(db, "SELECT count(*) FROM t"), 0);

	ck_assert_int_eq(db_begin(db), 0);
	ck_assert_int_eq(db_exec(db, "INSERT INTO t VALUES (2)"), 0);
	/* No nesting. */
	ck_assert_int_eq(db_begin(db), TR_EDB);
	ck_assert_int_eq(db_commit(db), 0);
	ck_assert_int_eq(query_int(other, "SELECT count(*) FROM t"), 1);

	/* Nothing open: COMMIT is an error, ROLLBACK a no-op. */
	ck_assert_int_eq(db_commit(db), TR_EDB);
	ck_assert_int_eq(db_rollback(db), 0);
	db_close(other);
	db_close(db);
	free(path);
}
END_TEST

START_TEST(test_exec_prepare)
{
	sqlite3 *db;
	sqlite3_stmt *stmt = (sqlite3_stmt *)1;
	char *path = tmppath("e.db");

	ck_assert_int_eq(db_open(path, 1, &db), 0);
	ck_assert_int_eq(db_exec(db, "CREATE TABLE t (x); CREATE TABLE u (y)"),
	    0);
	ck_assert(has_table(db, "u"));
	ck_assert_int_eq(db_exec(db, "SELEKT 1"), TR_EDB);
	ck_assert_int_eq(db_exec(db, "INSERT INTO nosuch VALUES (1)"), TR_EDB);
	ck_assert_int_eq(db_prepare(db, "SELECT * FROM nosuch", &stmt), TR_EDB);
	ck_assert_ptr_null(stmt);
	ck_assert_int_eq(db_prepare(db, "INSERT INTO t VALUES (?)", &stmt), 0);
	ck_assert_int_eq(sqlite3_bind_int(stmt, 1, 42), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(stmt), SQLITE_DONE);
	sqlite3_finalize(stmt);
	ck_assert_int_eq(query_int(db, "SELECT x FROM t"), 42);
	db_close(db);
	free(path);
}
END_TEST

/* Build the suite. */
static Suite *
db_suite(void)
{
	Suite *s = suite_create("db");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_open_create);
	tcase_add_test(tc, test_open_missing);
	tcase_add_test(tc, test_open_not_a_database);
	tcase_add_test(tc, test_migrate);
	tcase_add_test(tc, test_migrate_newer);
	tcase_add_test(tc, test_migrate_failure_rolls_back);
	tcase_add_test(tc, test_transactions);
	tcase_add_test(tc, test_exec_prepare);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(db_suite());
}
