#include "pgutil.h"
#include "entry.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int fk__pg_exec(fk_ctx *ctx, const char *sql, const char *what)
{
    PGresult *res = PQexec(ctx->conn, sql);
    ExecStatusType st = PQresultStatus(res);
    int rc = FK_OK;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        rc = fk__fail_pg(ctx, FK_EDB, res, "%s", what);
    PQclear(res);
    return rc;
}

int fk__pg_query(fk_ctx *ctx, PGresult **out, const char *sql, int nparams,
                 const char *const *params, const char *what)
{
    *out = NULL;
    PGresult *res = PQexecParams(ctx->conn, sql, nparams, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        int rc = fk__fail_pg(ctx, FK_EDB, res, "%s", what);
        PQclear(res);
        return rc;
    }
    *out = res;
    return FK_OK;
}

int fk__pg_query_buf(fk_ctx *ctx, PGresult **out, fk__buf *sql, int nparams,
                     const char *const *params, const char *what)
{
    *out = NULL;
    int rc = fk__buf_failed(sql) ? fk__oom(ctx)
                                 : fk__pg_query(ctx, out, fk__buf_cstr(sql), nparams, params, what);
    fk__buf_dispose(sql);
    return rc;
}

int fk__pg_exec_buf(fk_ctx *ctx, fk__buf *sql, const char *what)
{
    int rc = fk__buf_failed(sql) ? fk__oom(ctx)
                                 : fk__pg_exec(ctx, fk__buf_cstr(sql), what);
    fk__buf_dispose(sql);
    return rc;
}

int fk__pg_check_time(fk_ctx *ctx, const char *text, const char *what)
{
    const char *p[1] = {text};
    PGresult *res = PQexecParams(ctx->conn, "SELECT $1::timestamptz", 1, NULL, p, NULL, NULL, 0);
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    int rc = FK_OK;
    /* class 22 (data exception): 22007 bad format, 22008 out of range, ... */
    if (PQresultStatus(res) != PGRES_TUPLES_OK && state && strncmp(state, "22", 2) == 0)
        rc = fk__fail(ctx, FK_EINVAL,
                      "%s: \"%.100s\" is not a time; accepted: 2026-03-15, 2026-03-15 14:05, "
                      "2026-03-15T14:05:00Z, 2026-03-15 14:05:00+02 (ISO 8601; without an "
                      "offset, the session's TimeZone), or now, today, yesterday",
                      what, text);
    else if (PQresultStatus(res) != PGRES_TUPLES_OK)
        rc = fk__fail_pg(ctx, FK_EDB, res, "reading the time %s", what);
    PQclear(res);
    return rc;
}

int fk__txn_begin(fk_ctx *ctx, fk__txn *t, const char *begin_sql)
{
    t->own = t->savepoint = 0;
    PGTransactionStatusType ts = PQtransactionStatus(ctx->conn);
    if (ts == PQTRANS_INERROR)
        return fk__fail(ctx, FK_EDB, "the connection is inside a failed transaction; roll it back first");
    if (ts == PQTRANS_INTRANS) {
        int rc = fk__pg_exec(ctx, "SAVEPOINT fortknox_op", "starting a savepoint");
        t->savepoint = rc == FK_OK;
        return rc;
    }
    int rc = fk__pg_exec(ctx, begin_sql ? begin_sql : "BEGIN", "starting a transaction");
    t->own = rc == FK_OK;
    return rc;
}

int fk__txn_commit(fk_ctx *ctx, fk__txn *t)
{
    int rc = FK_OK;
    if (t->own)
        rc = fk__pg_exec(ctx, "COMMIT", "committing");
    else if (t->savepoint)
        rc = fk__pg_exec(ctx, "RELEASE SAVEPOINT fortknox_op", "releasing a savepoint");
    t->own = t->savepoint = 0;
    return rc;
}

void fk__txn_rollback(fk_ctx *ctx, fk__txn *t)
{
    /* The caller's error message matters more than a rollback's. */
    const char *sql = t->own ? "ROLLBACK" : t->savepoint ? "ROLLBACK TO SAVEPOINT fortknox_op; RELEASE SAVEPOINT fortknox_op" : NULL;
    if (sql)
        PQclear(PQexec(ctx->conn, sql));
    t->own = t->savepoint = 0;
}

void fk__i64_to_text(char out[24], int64_t v) { snprintf(out, 24, "%" PRId64, v); }

int fk__text_to_i64(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end)
        return -1;
    *out = (int64_t)v;
    return 0;
}
