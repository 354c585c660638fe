/* fk_registry_check: the context's registry against the database, every
 * problem named. The resolution is fk_open's own (catalog.c), which keeps
 * each problem it meets; this adds what only matters to a person writing a
 * registry (warnings) and turns the lot into a report. */
#include "registry.h"

#include <string.h>

#include "alloc.h"
#include "entry.h"
#include "pgutil.h"
#include "fortknox/registry.h"
#include "report_internal.h"

#define CODE "FK-REGISTRY"

static int is_time(const fk__column *c)
{
    return c->kind == FK__COL_TIMESTAMP || c->kind == FK__COL_DATE;
}

/* Warnings: what works today but is probably not what was meant. */
static void warn_entity(fk_report *r, const fk__registry *reg, const fk__etype *e)
{
    if (e->t.missing)
        return;
    if (e->softdel_name && e->softdel < 0)
        fk__report_add(r, FK_SEV_WARNING, CODE, e->name, 0, NULL, NULL,
                       "`fortknox install --add-soft-delete` adds it",
                       "soft-delete column %s does not exist in %s.%s", e->softdel_name,
                       e->t.schema, e->t.name);
    else if (e->softdel >= 0 && !is_time(&e->t.cols[e->softdel]))
        fk__report_add(r, FK_SEV_ERROR, CODE, e->name, 0, NULL, NULL,
                       "a soft delete sets it to the current time; NULL means alive",
                       "soft-delete column %s of %s.%s is %s, not a timestamp or date",
                       e->softdel_name, e->t.schema, e->t.name, e->t.cols[e->softdel].type_sql);
    if (e->author >= 0 && reg->users.quoted && !reg->users.missing) {
        const fk__column *a = &e->t.cols[e->author];
        if (!a->fk_table || strcmp(a->fk_table, reg->users.quoted) != 0)
            fk__report_add(r, FK_SEV_WARNING, CODE, e->name, 0, NULL, NULL,
                           "imports fall back to the admin user only for columns that "
                           "reference the users table",
                           "author column %s of %s.%s does not reference the users table %s.%s",
                           a->name, e->t.schema, e->t.name, reg->users.schema, reg->users.name);
    }
    for (size_t i = 0; i < e->nchildren; i++) {
        const fk__child *c = &e->children[i];
        if (c->t.missing || c->fk < 0)
            continue;
        const fk__column *f = &c->t.cols[c->fk];
        if (!f->fk_table || strcmp(f->fk_table, e->t.quoted) != 0)
            fk__report_add(r, FK_SEV_WARNING, CODE, e->name, 0, NULL, NULL, NULL,
                           "child table %s.%s: %s has no foreign key to %s.%s", c->t.schema,
                           c->t.name, c->fk_name, e->t.schema, e->t.name);
    }
}

/* The registry's table (entity or child) named schema.name: its entity
 * type, and whether it is a child; NULL when the registry does not hold it. */
static const fk__etype *holder(const fk__registry *reg, const char *schema, const char *name,
                               int *child)
{
    for (size_t i = 0; i < reg->ntypes; i++) {
        const fk__etype *e = &reg->types[i];
        *child = 0;
        if (strcmp(e->t.schema, schema) == 0 && strcmp(e->t.name, name) == 0)
            return e;
        *child = 1;
        for (size_t j = 0; j < e->nchildren; j++)
            if (strcmp(e->children[j].t.schema, schema) == 0 &&
                strcmp(e->children[j].t.name, name) == 0)
                return e;
    }
    return NULL;
}

/* Rows that die with an entity (ON DELETE CASCADE from one of its tables)
 * but are in no fixture: the registry fits, and still leaves them out. */
static int warn_cascades(fk_ctx *ctx, fk_report *r, const fk__registry *reg)
{
    static const char sql[] =
        "SELECT DISTINCT n.nspname, c.relname, fn.nspname, fc.relname FROM pg_constraint k"
        " JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
        " JOIN pg_class fc ON fc.oid = k.confrelid"
        " JOIN pg_namespace fn ON fn.oid = fc.relnamespace"
        " WHERE k.contype = 'f' AND k.confdeltype = 'c' AND k.conrelid <> k.confrelid"
        " ORDER BY 1, 2, 3, 4";
    PGresult *res;
    int rc = fk__pg_query(ctx, &res, sql, 0, NULL, "reading the cascading foreign keys");
    if (rc)
        return rc;
    for (int i = 0; i < PQntuples(res); i++) {
        int child_from, child_to;
        const char *s = PQgetvalue(res, i, 0), *t = PQgetvalue(res, i, 1);
        const fk__etype *to = holder(reg, PQgetvalue(res, i, 2), PQgetvalue(res, i, 3), &child_to);
        if (to && !holder(reg, s, t, &child_from))
            fk__report_add(r, FK_SEV_WARNING, CODE, to->name, 0, NULL, NULL,
                           child_to ? "a registry has one level of children"
                                    : "add it to the type's \"children\" if its rows belong to "
                                      "the entity",
                           "%s.%s references %s.%s ON DELETE CASCADE but is not in the registry: "
                           "its rows are in no fixture",
                           s, t, PQgetvalue(res, i, 2), PQgetvalue(res, i, 3));
    }
    PQclear(res);
    return FK_OK;
}

int fk_registry_check(fk_report **out, fk_ctx *ctx)
{
    if (out)
        *out = NULL;
    FK__BEGIN(ctx, "fk_registry_check");
    fk_report *r = NULL;
    if (fk__report_new(&r, "registry check"))
        return fk__oom(ctx);
    fk__registry *reg = NULL;
    int rc = fk__ctx_registry(ctx, &reg);
    const char *source = ctx->registry_file ? ctx->registry_file : FK__BUILTIN_REGISTRY;
    if (rc == FK_EPARSE) { /* a malformed file is what this check is for: a finding */
        fk__report_add(r, FK_SEV_ERROR, CODE, NULL, 0, ctx->registry_file, NULL, NULL, "%s",
                       fk_errmsg(ctx));
        fk__ok(ctx);
        rc = FK_OK;
    } else if (rc) {
        fk_report_free(r);
        return rc;
    } else {
        fk__report_count(r, "entity_types", (int64_t)reg->ntypes);
        fk__report_count(r, "child_tables", 0);
        for (size_t i = 0; i < reg->ntypes; i++)
            fk__report_count(r, "child_tables", (int64_t)reg->types[i].nchildren);
        for (size_t i = 0; i < reg->nproblems; i++)
            fk__report_add(r, FK_SEV_ERROR, CODE, NULL, 0, NULL, NULL, NULL, "%s",
                           reg->problems[i]);
        for (size_t i = 0; i < reg->ntypes; i++)
            warn_entity(r, reg, &reg->types[i]);
        if ((rc = warn_cascades(ctx, r, reg))) {
            fk_report_free(r);
            return rc;
        }
        if (!reg->users.quoted)
            fk__report_add(r, FK_SEV_WARNING, CODE, NULL, 0, NULL, NULL,
                           "name it in \"users\" (docs/registry.md)",
                           "no users table: an import cannot give entities whose author is "
                           "gone to the admin user");
    }
    size_t errors = fk_report_error_count(r);
    fk__report_count(r, "problems", (int64_t)errors);
    if (fk__report_failed(r)) {
        fk_report_free(r);
        return fk__oom(ctx);
    }
    fk__report_give(out, r);
    if (errors)
        return fk__fail(ctx, FK_EVERIFY, "registry %s: %zu problem%s", source, errors,
                        errors == 1 ? "" : "s");
    return FK_OK;
}
