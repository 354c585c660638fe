/* fk_registry_check: the context's registry against the database, every
 * problem named. The resolution is fk_open's own (catalog.c), which keeps
 * each problem it meets; this adds what only matters to a person writing a
 * registry (warnings) and turns the lot into a report. */
#include "registry.h"

#include <string.h>

#include "alloc.h"
#include "entry.h"
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
