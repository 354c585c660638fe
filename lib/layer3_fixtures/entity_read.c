#include "entity_read.h"

#include <inttypes.h>
#include <string.h>

#include "docwriter.h"
#include "pgutil.h"

int fk__docw_fail(fk_ctx *ctx, const fk__etype *e, int64_t id, const char *col, const char *why)
{
    if (!why || !*why || strcmp(why, "out of memory") == 0)
        return fk__fail(ctx, FK_ENOMEM, "out of memory");
    return fk__fail(ctx, FK_EUNSUPPORTED, "%s %" PRId64 ": column %s cannot be written: %s",
                    e->name, id, col ? col : "?", why && *why ? why : "out of memory");
}

static int select_rows(fk_ctx *ctx, const fk__table *t, int where_col, int order_col,
                       const char *idtext, PGresult **res)
{
    fk__buf sql = FK__BUF_INIT;
    fk__buf_puts(&sql, "SELECT ");
    fk__docw_select_list(&sql, t, "t");
    fk__buf_printf(&sql, " FROM %s t WHERE t.%s = $1 ORDER BY t.%s", t->quoted,
                   t->cols[where_col].quoted, t->cols[order_col].quoted);
    int rc = fk__pg_query_buf(ctx, res, &sql, 1, &idtext, "reading an entity");
    return rc;
}

int fk__entity_read(fk_ctx *ctx, const fk__etype *e, int64_t id, fk_format fmt, fk__buf *doc,
                    fk__buf *name, fk__buf *json_null)
{
    char idtext[24];
    fk__i64_to_text(idtext, id);
    PGresult *res;
    int rc = select_rows(ctx, &e->t, e->t.pk, e->t.pk, idtext, &res);
    if (rc)
        return rc;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return fk__fail(ctx, FK_ENOTFOUND, "%s %s does not exist", e->name, idtext);
    }
    fk__docw w;
    fk__docw_init(&w, doc, fmt);
    w.json_null = json_null;
    if (name && !PQgetisnull(res, 0, e->name_col))
        fk__buf_put(name, PQgetvalue(res, 0, e->name_col),
                    (size_t)PQgetlength(res, 0, e->name_col));
    if (fk__docw_begin(&w, &e->t, res, 0) != 0) {
        PQclear(res);
        return fk__docw_fail(ctx, e, id, w.err_col, w.err.msg);
    }
    PQclear(res);
    for (size_t i = 0; i < e->nchildren; i++) {
        const fk__child *c = &e->children[i];
        if ((rc = select_rows(ctx, &c->t, c->fk, c->t.pk, idtext, &res)))
            return rc;
        fk__docw_child_begin(&w, c);
        for (int r = 0; r < PQntuples(res) && rc == FK_OK; r++)
            if (fk__docw_child_row(&w, res, r) != 0)
                rc = fk__docw_fail(ctx, e, id, w.err_col, w.err.msg);
        PQclear(res);
        if (rc)
            return rc;
        fk__docw_child_end(&w);
    }
    fk__docw_end(&w);
    if (fk__buf_failed(doc) || (name && fk__buf_failed(name)) ||
        (json_null && fk__buf_failed(json_null)))
        return fk__fail(ctx, FK_ENOMEM, "out of memory");
    return FK_OK;
}
