#include "entity_iter.h"

#include <stdio.h>

#include "alloc.h"
#include "buf.h"
#include "cursor.h"
#include "docwriter.h"
#include "entity_read.h"
#include "pgutil.h"

#define PARENT_FETCH 500
#define CHILD_FETCH 2000

static int open_cursors(fk_ctx *ctx, const fk__etype *e, fk__cursor *pc, fk__cursor *cc)
{
    fk__buf sql = FK__BUF_INIT;
    fk__buf_puts(&sql, "SELECT ");
    fk__docw_select_list(&sql, &e->t, "t");
    fk__buf_printf(&sql, " FROM %s t ORDER BY t.%s", e->t.quoted, e->t.cols[e->t.pk].quoted);
    int rc = fk__buf_failed(&sql) ? fk__fail(ctx, FK_ENOMEM, "out of memory")
                                  : fk__cursor_open(ctx, pc, "fk_iter_p", fk__buf_cstr(&sql),
                                                    PARENT_FETCH);
    for (size_t i = 0; rc == FK_OK && i < e->nchildren; i++) {
        const fk__child *c = &e->children[i];
        char name[32];
        snprintf(name, sizeof name, "fk_iter_c%zu", i);
        fk__buf_clear(&sql);
        fk__buf_puts(&sql, "SELECT ");
        fk__docw_select_list(&sql, &c->t, "t");
        fk__buf_printf(&sql, " FROM %s t ORDER BY t.%s, t.%s", c->t.quoted,
                       c->t.cols[c->fk].quoted, c->t.cols[c->t.pk].quoted);
        rc = fk__buf_failed(&sql) ? fk__fail(ctx, FK_ENOMEM, "out of memory")
                                  : fk__cursor_open(ctx, &cc[i], name, fk__buf_cstr(&sql),
                                                    CHILD_FETCH);
        if (rc == FK_OK && (rc = fk__cursor_next(&cc[i])) > 0)
            rc = FK_OK;
    }
    fk__buf_dispose(&sql);
    return rc;
}

/* The children of parent `id` from their cursors: both sides are ordered by
 * parent id, so this is a merge (orphans, possible without an FK, are skipped). */
static int add_children(fk_ctx *ctx, const fk__etype *e, fk__docw *w, fk__cursor *cc, int64_t id)
{
    for (size_t i = 0; i < e->nchildren; i++) {
        const fk__child *c = &e->children[i];
        fk__docw_child_begin(w, c);
        while (cc[i].res && cc[i].row < cc[i].nrows) {
            const char *fv = fk__cursor_value(&cc[i], c->fk);
            int64_t fid;
            if (!fv || fk__text_to_i64(fv, &fid) != 0 || fid > id)
                break;
            if (fid == id && fk__docw_child_row(w, cc[i].res, cc[i].row) != 0)
                return fk__docw_fail(ctx, e, id, w->err_col, w->err.msg);
            int r = fk__cursor_next(&cc[i]);
            if (r < 0)
                return r;
            if (r == 0)
                cc[i].row = cc[i].nrows; /* exhausted */
        }
        fk__docw_child_end(w);
    }
    return FK_OK;
}

int fk__entity_iter(fk_ctx *ctx, const fk__etype *e, fk_format fmt, fk__entity_fn cb, void *ud)
{
    fk__cursor pc = {0};
    fk__cursor *cc = e->nchildren ? fk__calloc(e->nchildren, sizeof *cc) : NULL;
    if (e->nchildren && !cc)
        return fk__fail(ctx, FK_ENOMEM, "out of memory");
    fk__buf doc = FK__BUF_INIT, nulls = FK__BUF_INIT;
    int rc = open_cursors(ctx, e, &pc, cc), r = 0;
    while (rc == FK_OK && (r = fk__cursor_next(&pc)) > 0) {
        int64_t id;
        const char *idv = fk__cursor_value(&pc, e->t.pk);
        if (!idv || fk__text_to_i64(idv, &id) != 0) {
            rc = fk__fail(ctx, FK_EUNSUPPORTED, "%s: a row has a NULL primary key", e->name);
            break;
        }
        fk__buf_clear(&doc);
        fk__buf_clear(&nulls);
        fk__docw w;
        fk__docw_init(&w, &doc, fmt);
        w.json_null = &nulls;
        if (fk__docw_begin(&w, &e->t, pc.res, pc.row) != 0) {
            rc = fk__docw_fail(ctx, e, id, w.err_col, w.err.msg);
            break;
        }
        if ((rc = add_children(ctx, e, &w, cc, id)))
            break;
        fk__docw_end(&w);
        if (fk__buf_failed(&doc) || fk__buf_failed(&nulls)) {
            rc = fk__fail(ctx, FK_ENOMEM, "out of memory");
            break;
        }
        fk__entity ent = {e, id, fk__cursor_value(&pc, e->name_col), doc.data, doc.len,
                          nulls.len ? nulls.data : NULL};
        rc = cb(ud, &ent);
    }
    if (rc == FK_OK && r < 0)
        rc = r;
    for (size_t i = 0; i < e->nchildren; i++)
        fk__cursor_close(&cc[i]);
    fk__cursor_close(&pc);
    fk__xfree(cc);
    fk__buf_dispose(&doc);
    fk__buf_dispose(&nulls);
    return rc;
}
