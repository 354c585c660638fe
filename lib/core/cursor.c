#include "cursor.h"

#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "buf.h"
#include "pgutil.h"
#include "entry.h"

int fk__cursor_open(fk_ctx *ctx, fk__cursor *c, const char *name, const char *sql, int fetch)
{
    return fk__cursor_open_params(ctx, c, name, sql, 0, NULL, fetch);
}

int fk__cursor_open_params(fk_ctx *ctx, fk__cursor *c, const char *name, const char *sql,
                           int nparams, const char *const *params, int fetch)
{
    memset(c, 0, sizeof *c);
    c->ctx = ctx;
    c->fetch = fetch;
    snprintf(c->name, sizeof c->name, "%s", name);
    fk__buf b = FK__BUF_INIT;
    fk__buf_printf(&b, "DECLARE %s NO SCROLL CURSOR FOR %s", c->name, sql);
    PGresult *res = NULL;
    int rc = fk__pg_query_buf(ctx, &res, &b, nparams, params, "opening a cursor");
    PQclear(res);
    c->open = rc == FK_OK;
    return rc;
}

int fk__cursor_next(fk__cursor *c)
{
    if (c->res && ++c->row < c->nrows)
        return 1;
    if (c->done)
        return 0;
    PQclear(c->res);
    c->res = NULL;
    char sql[80];
    snprintf(sql, sizeof sql, "FETCH FORWARD %d FROM %s", c->fetch, c->name);
    int rc = fk__pg_query(c->ctx, &c->res, sql, 0, NULL, "reading rows");
    if (rc)
        return rc;
    c->nrows = PQntuples(c->res);
    c->row = 0;
    if (c->nrows < c->fetch)
        c->done = 1;
    return c->nrows > 0;
}

const char *fk__cursor_value(const fk__cursor *c, int col)
{
    return PQgetisnull(c->res, c->row, col) ? NULL : PQgetvalue(c->res, c->row, col);
}

void fk__cursor_close(fk__cursor *c)
{
    PQclear(c->res);
    c->res = NULL;
    if (c->open && PQtransactionStatus(c->ctx->conn) == PQTRANS_INTRANS) {
        char sql[48];
        snprintf(sql, sizeof sql, "CLOSE %s", c->name);
        PQclear(PQexec(c->ctx->conn, sql));
    }
    c->open = 0;
}
