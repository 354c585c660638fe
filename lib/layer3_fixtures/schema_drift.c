#include "schema_drift.h"

#include <string.h>

#include "buf.h"
#include "fixture_limit.h"
#include "fsutil.h"
#include "json_text.h"
#include "report_internal.h"

typedef struct key_check {
    const fk__etype *e;
    const char *path;
    fk_report *report;
    int found;
} key_check;

static int same_name(const char *name, const char *key, size_t len)
{
    return strlen(name) == len && memcmp(name, key, len) == 0;
}

/* Whether an export of a column of this kind writes a value of this JSON
 * type: a file exported before the column was retyped does not. */
static int kind_writes(fk__colkind kind, fk__jtype type)
{
    if (type == FK__JT_NULL || kind == FK__COL_JSON || kind == FK__COL_JSONTEXT)
        return 1;
    switch (kind) {
    case FK__COL_INT:
    case FK__COL_NUMERIC:
        return type == FK__JT_NUMBER;
    case FK__COL_FLOAT:
        return type == FK__JT_NUMBER || type == FK__JT_STRING; /* NaN, Infinity */
    case FK__COL_BOOL:
        return type == FK__JT_TRUE || type == FK__JT_FALSE;
    default:
        return type == FK__JT_STRING;
    }
}

static int check_key(void *ud, const fk__jmember *m)
{
    key_check *k = ud;
    const fk__table *t = &k->e->t;
    for (size_t c = 0; c < k->e->nchildren; c++)
        if (same_name(k->e->children[c].key, m->key, m->key_len))
            return 0;
    for (size_t i = 0; i < t->ncols; i++) {
        if (!same_name(t->cols[i].name, m->key, m->key_len))
            continue;
        if (!kind_writes(t->cols[i].kind, m->type)) {
            k->found++;
            fk__report_add(k->report, FK_SEV_ERROR, "FK-SCHEMA", k->e->name, 0, k->path, NULL,
                           "put the column's type back (ALTER TABLE ... TYPE), then `fortknox "
                           "verify DIR`",
                           "column %s of %s.%s is %s in the database but the fixtures (%s) "
                           "hold values of another type (retyped?): they cannot be restored",
                           t->cols[i].name, t->schema, t->name, t->cols[i].type_sql, k->path);
        }
        return 0;
    }
    k->found++;
    fk__report_add(k->report, FK_SEV_ERROR, "FK-SCHEMA", k->e->name, 0, k->path, NULL,
                   "put the column back (undo the DROP or RENAME COLUMN, or restore it from a "
                   "backup), then `fortknox import DIR`; export keeps the type's files until "
                   "then (`--accept-loss all` lets it drop the key)",
                   "column %.*s of %s.%s is in the fixtures (%s) but not in the database "
                   "(dropped or renamed?): its values now exist only in the fixtures",
                   (int)m->key_len, m->key, t->schema, t->name, k->path);
    return 0;
}

int fk__schema_drift(fk_ctx *ctx, int root, const fk__etype *e, const char *path,
                     fk_report *report, int *found)
{
    fk__buf doc = FK__BUF_INIT;
    key_check k = {e, path, report, 0};
    /* unreadable or edited files are FK-MANIFEST findings elsewhere */
    if (fk__fs_read_at(NULL, root, path, FK__MAX_FIXTURE_BYTES, &doc) == FK_OK && doc.data)
        fk__json_scan_object(doc.data, doc.len, check_key, &k, NULL);
    fk__buf_dispose(&doc);
    *found = k.found;
    return fk__report_failed(report) ? fk__fail(ctx, FK_ENOMEM, "out of memory") : FK_OK;
}
