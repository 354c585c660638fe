/* Small libpq helpers shared by every layer: one place that turns a failed
 * command into an error message, and transaction scoping that cooperates
 * with a transaction the caller already has open. */
#ifndef FK_CORE_PGUTIL_H
#define FK_CORE_PGUTIL_H

#include <stdint.h>
#include "buf.h"
#include "ctx_internal.h"

/* The session settings every connection of ours runs with, as SET (or SET
 * LOCAL: pass the verb) statements. The serializers and hashes depend on
 * them, and a database's or role's defaults (ALTER DATABASE/ROLE ... SET,
 * PGOPTIONS) are overridden: bytea_output would change how values print
 * without a row changing, and a search_path naming a schema before
 * pg_catalog lets whoever may create in that schema shadow the operators
 * and functions of every query we send (pg_dump pins it for the same
 * reason, CVE-2018-1058). pg_temp comes last: our temporary tables are
 * always named pg_temp.x. search_path is set first, before anything a
 * shadowed function could see. */
#define FK__SESSION_SETTINGS(SET)                                                              \
    SET "search_path = pg_catalog, pg_temp; " SET "client_encoding = 'UTF8'; " SET             \
        "DateStyle = 'ISO, YMD'; " SET "IntervalStyle = 'iso_8601'; " SET "TimeZone = 'UTC'; " \
        SET "extra_float_digits = 3; " SET "standard_conforming_strings = on; " SET            \
        "bytea_output = 'hex'"

/* Runs a parameterless command; `what` prefixes the error message. */
int fk__pg_exec(fk_ctx *ctx, const char *sql, const char *what);

/* Runs a query with text parameters; *out receives the result on success
 * (caller PQclear()s it). */
int fk__pg_query(fk_ctx *ctx, PGresult **out, const char *sql, int nparams,
                 const char *const *params, const char *what);

/* The same on SQL built in a buffer: a buffer that ran out of memory is
 * FK_ENOMEM, and the buffer is disposed either way. */
int fk__pg_query_buf(fk_ctx *ctx, PGresult **out, fk__buf *sql, int nparams,
                     const char *const *params, const char *what);
int fk__pg_exec_buf(fk_ctx *ctx, fk__buf *sql, const char *what);

/* Transaction scope: begins one (with the given BEGIN text) unless the
 * connection is already inside a transaction, in which case a savepoint
 * keeps our failure from aborting the caller's work. */
typedef struct fk__txn {
    int own;       /* we issued BEGIN */
    int savepoint; /* we issued SAVEPOINT */
} fk__txn;

int fk__txn_begin(fk_ctx *ctx, fk__txn *t, const char *begin_sql);
int fk__txn_commit(fk_ctx *ctx, fk__txn *t);
/* Rolls back (keeps the current error message). */
void fk__txn_rollback(fk_ctx *ctx, fk__txn *t);

/* A time the caller gave as text (fk_audit_query.since, as_of): FK_OK when
 * PostgreSQL reads it as a timestamptz; FK_EINVAL naming `what` and listing
 * the accepted forms when it does not (the one place that rule lives: the
 * CLI shows this message as its usage error); FK_EDB otherwise. */
int fk__pg_check_time(fk_ctx *ctx, const char *text, const char *what);

/* A new connection with conn's server, database, user and password (its
 * other conninfo keywords too), named application_name, giving up after
 * connect_timeout seconds (text). NULL when out of memory; otherwise check
 * PQstatus() and PQfinish() it. Session settings are not copied. */
PGconn *fk__pg_connect_like(PGconn *conn, const char *application_name,
                            const char *connect_timeout);

/* int64 <-> text */
void fk__i64_to_text(char out[24], int64_t v);
int fk__text_to_i64(const char *s, int64_t *out);

#endif
