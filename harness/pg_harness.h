/* A real, throwaway PostgreSQL: for the tests, the CLI's demo, the quickstart
 * example and the benchmark.
 *
 * fkt_pg_start() initdb's a private cluster in a short temp dir, runs the
 * server on a Unix socket only (no TCP, fsync off) and returns when it accepts
 * connections. A keeper process owns the server: it stops it and removes the
 * directory when fkt_pg_stop() is called or when the test process dies in any
 * way (parent-death signal), so a crashing test leaves nothing behind.
 *
 * As root, initdb/postgres run as the `postgres` user (else `nobody`).
 * FORTKNOX_TEST_DSN=conninfo uses that server instead (each test database is
 * created and dropped on it). Without PostgreSQL binaries the start returns 77
 * (skip) unless FORTKNOX_REQUIRE_PG=1, when it is a failure.
 */
#ifndef FKT_PG_HARNESS_H
#define FKT_PG_HARNESS_H

#include <stddef.h>

typedef struct fkt_pg fkt_pg;

#define FKT_SKIP 77

/* 0 = running, FKT_SKIP = no PostgreSQL here, -1 = failure (reason on stderr). */
int fkt_pg_start(fkt_pg **out);

/* fkt_pg_start(), exiting the test program with 77 or 1 when it cannot. */
fkt_pg *fkt_pg_start_or_exit(void);

/* A streaming-replication hot standby of primary (a cluster of this harness,
 * not FORTKNOX_TEST_DSN's: FKT_SKIP then): pg_basebackup -R into its own temp
 * dir, started on its own socket, returned once it is in recovery and has
 * replayed all the primary had written. Stop it with fkt_pg_stop(), before
 * its primary. 0, FKT_SKIP or -1 (reason on stderr). */
int fkt_pg_start_standby(fkt_pg **out, fkt_pg *primary);

/* Waits until standby has replayed every transaction the primary committed
 * so far: flushes the primary's WAL (a synchronous commit), then polls
 * pg_last_wal_replay_lsn() against its pg_current_wal_flush_lsn(), a bounded
 * number of times. 0, or -1 when it did not (or is no standby; reason and
 * the standby's log on stderr). */
int fkt_pg_standby_catch_up(fkt_pg *standby, fkt_pg *primary);

/* The conninfo of db_conninfo's database on the server pg (a standby's
 * view of a primary's database). malloc'd (free()); NULL on a bad conninfo. */
char *fkt_pg_on(const fkt_pg *pg, const char *db_conninfo);

/* Stops the server and removes its directory. NULL is harmless. */
void fkt_pg_stop(fkt_pg *pg);

/* Conninfo of the maintenance database ("postgres"). Owned by pg. */
const char *fkt_pg_conninfo(const fkt_pg *pg);

/* Creates a new, empty database and loads the given SQL files (NULL-terminated
 * list of paths; NULL for none). Databases with the same file list are cloned
 * from a template built once. Returns a malloc'd conninfo (free()) or NULL
 * with the reason on stderr. */
char *fkt_pg_new_db(fkt_pg *pg, const char *const *sql_files);

/* Runs every statement of an SQL file on conninfo. 0 or -1 (reason on stderr). */
int fkt_pg_load_sql(const char *conninfo, const char *path);

/* Runs SQL on conninfo. 0 or -1 (reason on stderr). */
int fkt_pg_exec(const char *conninfo, const char *sql);

/* Runs a query and returns the first column of the first row as a malloc'd
 * string ("" for no row; NULL on error). */
char *fkt_pg_query1(const char *conninfo, const char *sql);

/* Reads a whole file: malloc'd, NUL-terminated; *len optional. NULL if absent. */
char *fkt_read_file(const char *path, size_t *len);

/* Process id of the postmaster (0 with FORTKNOX_TEST_DSN): for tests of the
 * harness itself. */
int fkt_pg_server_pid(const fkt_pg *pg);

/* The PostgreSQL server's bin directory (where postgres, and psql, live):
 * pg_config --bindir, else the newest /usr/lib/postgresql/N/bin. 0 or -1. */
int fkt_pg_bindir(char *out, size_t n);

/* The cluster's directory (NULL with FORTKNOX_TEST_DSN). */
const char *fkt_pg_dir(const fkt_pg *pg);

/* Removes a directory tree, not following symlinks; NULL or "" is harmless.
 * Best effort: what cannot be removed stays. (The one copy: the harness, the
 * CLI's demo, the tests and the benchmark use it.) */
void fkh_rm_rf(const char *path);

#endif
