/* SQLite helpers: open with durable settings, versioned migrations, transactions. */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "db.h"
#include "err.h"
#include "log.h"

/* Tries, and the pause between them, to switch a new database to WAL. */
#define DB_WAL_TRIES	100
#define DB_WAL_WAIT_US	50000

/*
 * A connection is opened with SQLITE_OPEN_NOMUTEX: it must be used by one
 * thread at a time, so every thread keeps its own connection.  WAL lets the
 * readers of those connections run beside the one writer.
 */

/* Run a PRAGMA that answers one row and compare its first column to WANT. */
static int
db_pragma_check(sqlite3 *db, const char *sql, const char *want)
{
	sqlite3_stmt *stmt = NULL;
	const unsigned char *got;
	int rc;

	if ((rc = db_prepare(db, sql, &stmt)) != 0)
		goto out;
	if (sqlite3_step(stmt) != SQLITE_ROW) {
		log_err("sqlite: %s: %s", sql, sqlite3_errmsg(db));
		rc = TR_EDB;
		goto out;
	}
	got = sqlite3_column_text(stmt, 0);
	if (got == NULL || strcmp((const char *)got, want) != 0) {
		log_err("sqlite: %s: got '%s', wanted '%s'", sql,
		    got != NULL ? (const char *)got : "(null)", want);
		rc = TR_EDB;
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(stmt);
	return rc;
}

/*
 * Put DB in WAL mode.  Switching a new database needs an exclusive lock,
 * and SQLite answers BUSY at once, without the busy handler, when another
 * process opening the same new file holds a shared one (a node's status
 * read while its first sync creates the replica): try again for a while.
 */
static int
db_wal(sqlite3 *db)
{
	sqlite3_stmt *stmt = NULL;
	int step = SQLITE_BUSY;

	for (int i = 0; i < DB_WAL_TRIES; i++) {
		if (db_prepare(db, "PRAGMA journal_mode=WAL", &stmt) != 0)
			return TR_EDB;
		step = sqlite3_step(stmt);
		if (step == SQLITE_ROW && sqlite3_column_text(stmt, 0) != NULL &&
		    strcmp((const char *)sqlite3_column_text(stmt, 0),
		    "wal") == 0) {
			sqlite3_finalize(stmt);
			return 0;
		}
		sqlite3_finalize(stmt);
		if ((step & 0xff) != SQLITE_BUSY && (step & 0xff) != SQLITE_LOCKED)
			break;
		usleep(DB_WAL_WAIT_US);
	}
	log_err("sqlite: cannot switch to WAL: %s", step == SQLITE_ROW ?
	    "the journal mode did not change" : sqlite3_errstr(step));
	return TR_EDB;
}

/* Open PATH in WAL mode with synchronous=FULL, foreign keys and a 5 s busy timeout. */
int
db_open(const char *path, int create, sqlite3 **out)
{
	struct stat st;
	sqlite3 *db = NULL;
	int fd, rc, flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;

	*out = NULL;
	if (!create) {
		if (stat(path, &st) != 0) {
			if (errno == ENOENT)
				return TR_ENOTFOUND;
			log_err("%s: %s", path, strerror(errno));
			return TR_EDB;
		}
	} else {
		/* Create it ourselves so its mode is 0600 whatever the umask. */
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0) {
			log_err("%s: %s", path, strerror(errno));
			return TR_EDB;
		}
		close(fd);
	}
	if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
		log_err("sqlite: cannot open %s: %s", path,
		    db != NULL ? sqlite3_errmsg(db) : "out of memory");
		rc = TR_EDB;
		goto out;
	}
	sqlite3_extended_result_codes(db, 1);
	if (sqlite3_busy_timeout(db, 5000) != SQLITE_OK) {
		log_err("sqlite: %s: busy timeout: %s", path,
		    sqlite3_errmsg(db));
		rc = TR_EDB;
		goto out;
	}
	if ((rc = db_wal(db)) != 0)
		goto out;
	if ((rc = db_exec(db, "PRAGMA synchronous=FULL")) != 0 ||
	    (rc = db_exec(db, "PRAGMA foreign_keys=ON")) != 0 ||
	    (rc = db_pragma_check(db, "PRAGMA foreign_keys", "1")) != 0) {
		log_err("sqlite: %s: cannot set up the database", path);
		goto out;
	}
	*out = db;
	db = NULL;
	rc = 0;
out:
	sqlite3_close_v2(db);
	return rc;
}

/* Close DB; statements still open are finalized by SQLite when they go. */
void
db_close(sqlite3 *db)
{
	if (db != NULL)
		sqlite3_close_v2(db);
}

/* Run statements without results. */
int
db_exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		log_err("sqlite: %s: %.200s", msg != NULL ? msg :
		    sqlite3_errmsg(db), sql);
		sqlite3_free(msg);
		return TR_EDB;
	}
	return 0;
}

/* BEGIN IMMEDIATE: take the write lock now, not at the first write. */
int
db_begin(sqlite3 *db)
{
	return db_exec(db, "BEGIN IMMEDIATE");
}

/* COMMIT. */
int
db_commit(sqlite3 *db)
{
	return db_exec(db, "COMMIT");
}

/* ROLLBACK; without an open transaction there is nothing to do (for cleanup paths). */
int
db_rollback(sqlite3 *db)
{
	if (sqlite3_get_autocommit(db))
		return 0;
	return db_exec(db, "ROLLBACK");
}

/* Prepare one statement. */
int
db_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **stmt)
{
	if (sqlite3_prepare_v2(db, sql, -1, stmt, NULL) != SQLITE_OK) {
		log_err("sqlite: %s: %.200s", sqlite3_errmsg(db), sql);
		*stmt = NULL;
		return TR_EDB;
	}
	return 0;
}

/* Read PRAGMA user_version into *V. */
static int
db_user_version(sqlite3 *db, int *v)
{
	sqlite3_stmt *stmt = NULL;
	int rc;

	if ((rc = db_prepare(db, "PRAGMA user_version", &stmt)) != 0)
		return rc;
	if (sqlite3_step(stmt) != SQLITE_ROW) {
		log_err("sqlite: PRAGMA user_version: %s", sqlite3_errmsg(db));
		rc = TR_EDB;
	} else
		*v = sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	return rc;
}

/*
 * Bring the schema to version NSTEPS, one step per transaction.  The
 * version is read again inside each transaction, so two processes
 * migrating at once do not run a step twice.  A step must not open or
 * close a transaction itself.
 */
int
db_migrate(sqlite3 *db, const char *const *steps, int nsteps)
{
	char sql[64];
	int v = 0, from = -1, rc;

	if (nsteps < 0)
		return TR_EINVAL;
	for (;;) {
		if ((rc = db_begin(db)) != 0)
			return rc;
		if ((rc = db_user_version(db, &v)) != 0)
			goto fail;
		if (from < 0)
			from = v;
		if (v > nsteps) {
			log_err("sqlite: database schema version %d is newer "
			    "than this program's %d", v, nsteps);
			rc = TR_EDB;
			goto fail;
		}
		if (v == nsteps)
			break;
		if ((rc = db_exec(db, steps[v])) != 0) {
			log_err("sqlite: schema step %d to %d failed", v, v + 1);
			goto fail;
		}
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
		if ((rc = db_exec(db, sql)) != 0 || (rc = db_commit(db)) != 0)
			goto fail;
	}
	if ((rc = db_commit(db)) != 0)
		goto fail;
	if (from != v)
		log_info("database schema upgraded from version %d to %d",
		    from, v);
	return 0;
fail:
	db_rollback(db);
	return rc;
}
