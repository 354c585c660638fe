/* What is installed in the database, as the rest of the library reads it:
 * the install record (fortknox.meta) and the audit chain's head. Below
 * fixtures, audit, install and recovery, which all need to know it. */
#include "installed.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "buf.h"
#include "pgutil.h"
#include "sql_quote.h"
#include "entry.h"

/* One identifier as fk__quote_ident writes it: "...", with "" for a quote.
 * Returns the character after it, or NULL. */
static const char *quoted_ident_end(const char *s)
{
    if (*s++ != '"' || *s == '"')
        return NULL; /* not quoted, or empty */
    for (; *s; s++)
        if (*s == '"' && *++s != '"')
            return s;
    return NULL;
}

/* The stored audit table is pasted into SQL: only the exact form install
 * writes ("schema"."table") is accepted, which no value can escape from. */
static int audit_table_ok(const char *v)
{
    const char *p = quoted_ident_end(v);
    return p && *p == '.' && (p = quoted_ident_end(p + 1)) && *p == '\0';
}

/* A record this library must not act on: why goes to info->invalid and to
 * the context's error. */
static int record_unusable(fk_ctx *ctx, fk__install_info *info)
{
    int rc = FK_OK;
    if (info->version > FK__SCHEMA_VERSION) {
        rc = FK_ECONFLICT;
        snprintf(info->invalid, sizeof info->invalid,
                 "this database was installed by a newer libfortknox (schema version %d; this "
                 "library knows %d): upgrade the library",
                 info->version, FK__SCHEMA_VERSION);
    } else if (info->audit_q[0] && !audit_table_ok(info->audit_q)) {
        rc = FK_ETAMPER;
        snprintf(info->invalid, sizeof info->invalid,
                 "the install record (%s.meta) names the audit table as \"%.200s\", which is "
                 "not a schema-qualified table name: it was tampered with",
                 info->schema_q, info->audit_q);
    }
    if (rc == FK_OK)
        return FK_OK;
    info->installed = 0;
    return fk__fail(ctx, rc, "%s", info->invalid);
}

int fk__install_info_read(fk_ctx *ctx, fk__install_info *info)
{
    /* Once found, an install is remembered for the context: every audit
     * write would otherwise pay two catalog queries. fk_install() on this
     * context refreshes it; after changing the install from elsewhere, open
     * a new context (docs/audit.md). */
    if (ctx->install_cache) {
        memcpy(info, ctx->install_cache, sizeof *info);
        return FK_OK;
    }
    memset(info, 0, sizeof *info);
    if (fk__copy_quoted(info->schema_q, sizeof info->schema_q, ctx->schema) != 0)
        return fk__oom(ctx);
    const char *p = ctx->schema;
    PGresult *res;
    int rc = fk__pg_query(ctx, &res,
                          "SELECT to_regclass(quote_ident($1) || '.meta') IS NOT NULL", 1, &p,
                          "looking for a fortknox install");
    if (rc)
        return rc;
    int exists = PQgetvalue(res, 0, 0)[0] == 't';
    PQclear(res);
    if (!exists)
        return FK_OK;
    char sql[300];
    snprintf(sql, sizeof sql, "SELECT key, value FROM %s.meta", info->schema_q);
    if ((rc = fk__pg_query(ctx, &res, sql, 0, NULL, "reading the fortknox install record")))
        return rc;
    for (int r = 0; r < PQntuples(res); r++) {
        const char *k = PQgetvalue(res, r, 0), *v = PQgetvalue(res, r, 1);
        if (strcmp(k, "schema_version") == 0)
            info->version = atoi(v);
        else if (strcmp(k, "audit_table") == 0)
            snprintf(info->audit_q, sizeof info->audit_q, "%s", v);
        else if (strcmp(k, "mode") == 0)
            info->capture = strcmp(v, "capture") == 0;
        else if (strcmp(k, "guards") == 0)
            info->guards = strcmp(v, "on") == 0;
        else if (strcmp(k, "options") == 0)
            snprintf(info->options, sizeof info->options, "%s", v);
        else if (strcmp(k, "app_role") == 0)
            snprintf(info->app_role, sizeof info->app_role, "%s", v);
    }
    PQclear(res);
    info->installed = info->version > 0 && info->audit_q[0];
    if ((rc = record_unusable(ctx, info)))
        return rc;
    if (info->installed && (ctx->install_cache = fk__malloc(sizeof *info)))
        memcpy(ctx->install_cache, info, sizeof *info); /* no memory: just not cached */
    return FK_OK;
}

int fk__install_require(fk_ctx *ctx, fk__install_info *info)
{
    int rc = fk__install_info_read(ctx, info);
    if (rc == FK_OK && !info->installed)
        rc = fk__fail(ctx, FK_ENOTFOUND,
                      "libfortknox is not installed in this database (schema %s); run "
                      "fk_install() or `fortknox install` first",
                      ctx->schema);
    return rc;
}

int fk__audit_chain_head(fk_ctx *ctx, int64_t *id, char hash[65])
{
    *id = 0;
    hash[0] = '\0';
    fk__install_info info;
    int rc = fk__install_info_read(ctx, &info);
    if (rc || !info.installed) /* nothing installed: nothing to anchor */
        return rc;
    char sql[300];
    snprintf(sql, sizeof sql, "SELECT last_id, last_hash FROM %s.audit_head", info.schema_q);
    PGresult *res;
    if ((rc = fk__pg_query(ctx, &res, sql, 0, NULL, "reading the audit chain head")))
        return rc;
    if (PQntuples(res) == 1 && fk__text_to_i64(PQgetvalue(res, 0, 0), id) == 0 && *id > 0)
        snprintf(hash, 65, "%s", PQgetvalue(res, 0, 1));
    else
        *id = 0;
    PQclear(res);
    return FK_OK;
}

int fk__audit_anchor_next(fk_ctx *ctx, int64_t old_id, const char *old_hash, int64_t *id,
                          char hash[65], int *broken)
{
    *broken = 0;
    int rc = fk__audit_chain_head(ctx, id, hash);
    if (rc || old_id <= 0 || !old_hash)
        return rc;
    /* the anchored row must still be in the chain, unchanged */
    int holds = 0;
    fk__install_info info;
    if (*id >= old_id && (rc = fk__install_info_read(ctx, &info)) == FK_OK && info.installed) {
        char sql[400], num[24];
        snprintf(sql, sizeof sql, "SELECT row_hash FROM %s WHERE id = $1", info.audit_q);
        snprintf(num, sizeof num, "%" PRId64, old_id);
        const char *p = num;
        PGresult *res;
        if ((rc = fk__pg_query(ctx, &res, sql, 1, &p, "reading the anchored audit row")))
            return rc;
        holds = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), old_hash) == 0;
        PQclear(res);
    }
    if (rc)
        return rc;
    if (!holds) { /* keep the witness: the next export must still see the break */
        *broken = 1;
        *id = old_id;
        snprintf(hash, 65, "%s", old_hash);
    }
    return FK_OK;
}

void fk__override_role_name(char out[64], const char *schema)
{
    static const char suffix[] = "_override";
    size_t keep = strlen(schema);
    if (keep > 63 - (sizeof suffix - 1))
        keep = 63 - (sizeof suffix - 1);
    snprintf(out, 64, "%.*s%s", (int)keep, schema, suffix);
}

/* Overrides are a privilege (guard--1.sql): the role that holds it, made
 * once per cluster (NOLOGIN: it is granted, never logged in as), and
 * override_role() naming it for the checks. Created here, before the static
 * SQL, because every override check asks for it. */
void fk__override_role_sql(fk__buf *b, const char *S, const char *role)
{
    char *rq = fk__quote_ident(role);
    fk__buf_printf(b, "DO $r$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ");
    fk__sql_put_literal(b, role);
    fk__buf_printf(b, ") THEN CREATE ROLE %s NOLOGIN; END IF; EXCEPTION WHEN duplicate_object"
                      " OR unique_violation THEN NULL; END $r$;\n",
                   rq ? rq : "\"\"");
    fk__buf_printf(b, "CREATE SCHEMA IF NOT EXISTS %s;\n", S);
    fk__buf_printf(b, "CREATE OR REPLACE FUNCTION %s.override_role() RETURNS name LANGUAGE sql"
                      " IMMUTABLE AS $f$ SELECT ", S);
    fk__sql_put_literal(b, role);
    fk__buf_puts(b, "::name $f$;\n");
    fk__xfree(rq);
}
