/* Resolving a registry against the database catalog: column lists, types,
 * defaults and foreign keys are read at run time, so a migration that adds a
 * column is exported without a code change. One query covers every table. */
#include "registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "buf.h"
#include "sql_quote.h"
#include "entry.h"

static const char catalog_sql[] =
    "SELECT w.i::int, a.attname, format_type(a.atttypid, a.atttypmod),"
    " (CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE a.atttypid END)::int,"
    " a.attnotnull, pg_get_expr(d.adbin, d.adrelid),"
    " coalesce(pg_get_expr(d.adbin, d.adrelid) ~* '(nextval|random|uuid|clock_timestamp)\\(', false),"
    " fn.nspname, fc.relname, fa.attname,"
    " EXISTS (SELECT 1 FROM pg_constraint p WHERE p.conrelid = c.oid AND p.contype = 'p'"
    "         AND p.conkey = ARRAY[a.attnum]),"
    " a.attgenerated <> ''"
    " FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS w(s, r, i)"
    " JOIN pg_namespace n ON n.nspname = w.s"
    " JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = w.r AND c.relkind IN ('r', 'p')"
    " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped"
    " JOIN pg_type t ON t.oid = a.atttypid"
    " LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum"
    " LEFT JOIN LATERAL (SELECT k.confrelid, k.confkey[1] AS fnum FROM pg_constraint k"
    "   WHERE k.conrelid = c.oid AND k.contype = 'f' AND k.conkey = ARRAY[a.attnum]"
    "   ORDER BY k.conname LIMIT 1) fk ON true"
    " LEFT JOIN pg_class fc ON fc.oid = fk.confrelid"
    " LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace"
    " LEFT JOIN pg_attribute fa ON fa.attrelid = fk.confrelid AND fa.attnum = fk.fnum"
    " ORDER BY w.i, a.attnum";

/* Every table the registry names, in one list, so one query resolves all. */
typedef struct tref {
    fk__table *t;
    const char *what; /* for messages: "entity type cohort_definition" */
    const char *owner;
} tref;

static size_t collect(fk__registry *reg, tref *refs)
{
    size_t n = 0;
    for (size_t i = 0; i < reg->ntypes; i++) {
        fk__etype *e = &reg->types[i];
        refs[n++] = (tref){&e->t, "entity type", e->name};
        for (size_t j = 0; j < e->nchildren; j++)
            refs[n++] = (tref){&e->children[j].t, "child table of", e->name};
    }
    if (reg->users.quoted)
        refs[n++] = (tref){&reg->users, "users table", "users"};
    return n;
}

static const char *ref_schema(const void *ud, size_t i) { return ((const tref *)ud)[i].t->schema; }
static const char *ref_name(const void *ud, size_t i) { return ((const tref *)ud)[i].t->name; }

/* Text-array literal for one parameter: {"a","b"} with escapes. */
static int array_literal(fk__buf *b, tref *refs, size_t n, int schema)
{
    fk__sql_put_text_array(b, n, schema ? ref_schema : ref_name, refs);
    return fk__buf_failed(b) ? -1 : 0;
}

static int load_columns(fk_ctx *ctx, PGresult *res, tref *refs, size_t nrefs)
{
    int rows = PQntuples(res);
    /* counts first, so each table gets one allocation */
    for (int r = 0; r < rows; r++) {
        int i = atoi(PQgetvalue(res, r, 0)) - 1;
        refs[i].t->ncols++;
    }
    for (size_t i = 0; i < nrefs; i++) {
        fk__table *t = refs[i].t;
        t->missing = t->ncols == 0; /* dropped, renamed or moved: a finding, not a failure */
        t->pk = -1;
        if (t->missing)
            continue;
        if (!(t->cols = fk__calloc(t->ncols, sizeof *t->cols)))
            return fk__oom(ctx);
        t->ncols = 0;
    }
    for (int r = 0; r < rows; r++) {
        fk__table *t = refs[atoi(PQgetvalue(res, r, 0)) - 1].t;
        fk__column *c = &t->cols[t->ncols++];
        c->name = fk__strdup(PQgetvalue(res, r, 1));
        c->quoted = c->name ? fk__quote_ident(c->name) : NULL;
        c->type_sql = fk__strdup(PQgetvalue(res, r, 2));
        c->kind = fk__coltype_kind_of_oid((unsigned)strtoul(PQgetvalue(res, r, 3), NULL, 10));
        c->notnull = PQgetvalue(res, r, 4)[0] == 't';
        if (!PQgetisnull(res, r, 5))
            c->default_expr = fk__strdup(PQgetvalue(res, r, 5));
        c->default_volatile = PQgetvalue(res, r, 6)[0] == 't';
        if (!PQgetisnull(res, r, 7)) {
            c->fk_table = fk__quote_qualified(PQgetvalue(res, r, 7), PQgetvalue(res, r, 8));
            c->fk_column = fk__quote_ident(PQgetvalue(res, r, 9));
            if (!c->fk_table || !c->fk_column)
                return fk__oom(ctx);
        }
        if (PQgetvalue(res, r, 10)[0] == 't')
            t->pk = (int)(t->ncols - 1);
        c->generated = PQgetvalue(res, r, 11)[0] == 't';
        if (!c->name || !c->quoted || !c->type_sql ||
            (!PQgetisnull(res, r, 5) && !c->default_expr))
            return fk__oom(ctx);
    }
    return FK_OK;
}

/* What the catalog lacks (FK_ENOTFOUND, FK_EUNSUPPORTED from a check that
 * just failed on ctx) is kept, not returned: each problem goes to
 * reg->problems, a type's first one becomes its damage (fk__etype.damage),
 * and the resolution goes on, so that a registry check names every problem
 * at once. Only out-of-memory and unreadable catalogs stop it. */
typedef struct resolving {
    fk_ctx *ctx;
    fk__registry *reg;
    char **damage; /* of the type (or users table) being checked */
} resolving;

static int keep(resolving *rs, int rc)
{
    if (rc != FK_ENOTFOUND && rc != FK_EUNSUPPORTED)
        return rc;
    fk__registry *reg = rs->reg;
    const char *msg = fk_errmsg(rs->ctx);
    char **grown = fk__realloc(reg->problems, (reg->nproblems + 1) * sizeof *grown);
    if (!grown)
        return fk__oom(rs->ctx);
    reg->problems = grown;
    if (!(reg->problems[reg->nproblems] = fk__strdup(msg)))
        return fk__oom(rs->ctx);
    reg->nproblems++;
    if (!*rs->damage && !(*rs->damage = fk__strdup(msg)))
        return fk__oom(rs->ctx);
    fk__ok(rs->ctx);
    return FK_OK;
}

static int need_col(resolving *rs, const fk__table *t, const char *col, const char *role, int *idx)
{
    *idx = fk__table_col(t, col);
    if (*idx >= 0)
        return FK_OK;
    return keep(rs, fk__fail(rs->ctx, FK_ENOTFOUND,
                             "column %s (%s) does not exist in table %s.%s (dropped or renamed?)",
                             col, role, t->schema, t->name));
}

/* A table of the registry that is not in the catalog. */
static int table_missing(resolving *rs, const fk__table *t, const char *what, const char *owner)
{
    return keep(rs, fk__fail(rs->ctx, FK_ENOTFOUND,
                             "table %s.%s (%s %s) does not exist in the database (dropped, "
                             "renamed or moved to another schema?)",
                             t->schema, t->name, what, owner));
}

static int check_table(resolving *rs, fk__table *t, const char *pk_name)
{
    int pk, rc = need_col(rs, t, pk_name, "primary key", &pk);
    if (!rc && pk >= 0 && t->cols[pk].kind != FK__COL_INT)
        rc = keep(rs, fk__fail(rs->ctx, FK_EUNSUPPORTED,
                               "primary key %s of %s.%s must be an integer column (is %s)",
                               pk_name, t->schema, t->name, t->cols[pk].type_sql));
    else if (!rc && pk >= 0)
        t->pk = pk;
    for (size_t s = 0; !rc && s < t->nsecrets; s++) {
        int idx;
        if (!(rc = need_col(rs, t, t->secret_names[s], "secret column", &idx)) && idx >= 0)
            t->cols[idx].secret = 1;
    }
    return rc;
}

/* Siblings referencing siblings (heor_results -> heor_scenarios) must be
 * restored after them: a stable topological sort of the children. */
static int order_children(fk_ctx *ctx, fk__etype *e)
{
    size_t n = e->nchildren;
    for (size_t placed = 0; placed < n; placed++) {
        size_t pick = n;
        for (size_t i = placed; i < n && pick == n; i++) {
            int blocked = 0;
            for (size_t c = 0; c < e->children[i].t.ncols && !blocked; c++) {
                const char *target = e->children[i].t.cols[c].fk_table;
                for (size_t j = placed; target && j < n && !blocked; j++)
                    blocked = j != i && strcmp(target, e->children[j].t.quoted) == 0;
            }
            if (!blocked)
                pick = i;
        }
        if (pick == n)
            return fk__fail(ctx, FK_EUNSUPPORTED,
                            "registry: the child tables of %s reference each other in a cycle",
                            e->name);
        fk__child tmp = e->children[pick];
        memmove(&e->children[placed + 1], &e->children[placed],
                (pick - placed) * sizeof *e->children);
        e->children[placed] = tmp;
    }
    return FK_OK;
}

static int check_entity(resolving *rs, fk__etype *e)
{
    int rc = FK_OK;
    rs->damage = &e->damage;
    if (e->t.missing) {
        rc = table_missing(rs, &e->t, "entity type", e->name);
    } else {
        rc = check_table(rs, &e->t, e->pk_name);
        if (!rc)
            rc = need_col(rs, &e->t, e->name_col_name, "name column", &e->name_col);
        /* A missing soft-delete column is a finding (doctor) and something
         * fk_install can add, not a reason to refuse to work. */
        if (!rc && e->softdel_name)
            e->softdel = fk__table_col(&e->t, e->softdel_name);
        if (!rc && e->author_name)
            rc = need_col(rs, &e->t, e->author_name, "author column", &e->author);
        if (!rc && e->nselfrefs && !(e->selfrefs = fk__calloc(e->nselfrefs, sizeof(int))))
            rc = fk__oom(rs->ctx);
        for (size_t i = 0; !rc && i < e->nselfrefs; i++)
            rc = need_col(rs, &e->t, e->selfref_names[i], "self reference", &e->selfrefs[i]);
    }
    int children_found = 1;
    for (size_t i = 0; !rc && i < e->nchildren; i++) {
        fk__child *c = &e->children[i];
        children_found &= !c->t.missing;
        if (c->t.missing)
            rc = table_missing(rs, &c->t, "child table of", e->name);
        else if (!(rc = check_table(rs, &c->t, c->pk_name)))
            rc = need_col(rs, &c->t, c->fk_name, "foreign key to the parent", &c->fk);
    }
    if (!rc && children_found)
        rc = keep(rs, order_children(rs->ctx, e));
    return rc;
}

static int check_users(resolving *rs)
{
    fk__registry *reg = rs->reg;
    rs->damage = &reg->users_damage;
    if (reg->users.missing)
        return table_missing(rs, &reg->users, "users table", "users");
    int rc = need_col(rs, &reg->users, reg->users_id_name, "users id column", &reg->users_id);
    if (!rc)
        rc = need_col(rs, &reg->users, reg->users_email_name, "users email column",
                      &reg->users_email);
    return rc;
}

int fk__registry_resolve(fk_ctx *ctx, fk__registry *reg)
{
    size_t cap = 1;
    for (size_t i = 0; i < reg->ntypes; i++)
        cap += 1 + reg->types[i].nchildren;
    tref *refs = fk__calloc(cap, sizeof *refs);
    fk__buf schemas = FK__BUF_INIT, tables = FK__BUF_INIT;
    if (!refs)
        return fk__oom(ctx);
    size_t n = collect(reg, refs);
    int rc = FK_OK;
    if (array_literal(&schemas, refs, n, 1) || array_literal(&tables, refs, n, 0)) {
        rc = fk__oom(ctx);
        goto out;
    }
    const char *params[2] = {fk__buf_cstr(&schemas), fk__buf_cstr(&tables)};
    PGresult *res = PQexecParams(ctx->conn, catalog_sql, 2, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        rc = fk__fail_pg(ctx, FK_EDB, res, "reading the catalog for the registry");
    else
        rc = load_columns(ctx, res, refs, n);
    PQclear(res);
    resolving rs = {ctx, reg, NULL};
    for (size_t i = 0; !rc && i < reg->ntypes; i++)
        rc = check_entity(&rs, &reg->types[i]);
    if (!rc && reg->users.quoted)
        rc = check_users(&rs);
    if (!rc)
        reg->resolved = 1;
out:
    fk__buf_dispose(&schemas);
    fk__buf_dispose(&tables);
    fk__xfree(refs);
    return rc;
}
