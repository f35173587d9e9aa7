/* SQLite helpers: open with durable settings, migrations, transactions. */
#ifndef TROSYN_DB_H
#define TROSYN_DB_H

#include <sqlite3.h>

/*
 * Open (creating when CREATE is non-zero) the database at PATH in WAL mode
 * with synchronous=FULL, foreign keys on and a busy timeout of 5 s, file
 * mode 0600.  Returns 0 and *OUT, TR_ENOTFOUND when it does not exist and
 * CREATE is 0, or TR_EDB.
 */
int db_open(const char *path, int create, sqlite3 **out);

/* Close DB (NULL is fine). */
void db_close(sqlite3 *db);

/* Run SQL (one or more statements without results); TR_EDB on error, logged. */
int db_exec(sqlite3 *db, const char *sql);

/* BEGIN IMMEDIATE, COMMIT and ROLLBACK. */
int db_begin(sqlite3 *db);
int db_commit(sqlite3 *db);
int db_rollback(sqlite3 *db);

/* Prepare SQL into *STMT; TR_EDB on error, logged with the statement. */
int db_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **stmt);

/*
 * Bring the schema to version NSTEPS: STEPS[i] moves it from version i to
 * i+1; each step runs in its own transaction with PRAGMA user_version.
 * A database newer than NSTEPS is TR_EDB.
 */
int db_migrate(sqlite3 *db, const char *const *steps, int nsteps);

#endif /* TROSYN_DB_H */
