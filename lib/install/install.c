/* fk_install: create, upgrade or confirm libfortknox's objects, in one
 * transaction, serialised against concurrent installs by an advisory lock. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "installed.h"
#include "buf.h"
#include "fortknox/install.h"
#include "fortknox/serialize.h"
#include "install_sql.h"
#include "json_text.h"
#include "pgutil.h"
#include "report_internal.h"
#include "sha256.h"
#include "sql_quote.h"
#include "sql_names.h"

int fk_install_schema_version(void) { return FK__SCHEMA_VERSION; }

int fk_install_options_init(fk_install_options *opts, unsigned version)
{
    if (!opts || version == 0 || version > FK_INSTALL_OPTIONS_VERSION)
        return fk__fail(NULL, FK_EINVAL, "fk_install_options_init: unsupported version %u",
                        version);
    memset(opts, 0, sizeof *opts);
    opts->version = version;
    opts->mode = FK_AUDIT_APP;
    return FK_OK;
}

/* Parthenon's own design_audit_log, adopted: its FK to users (which made
 * users undeletable) and its trigger go, its rows join the chain. */
static int adopt_before(fk_ctx *ctx, const char *audit_q)
{
    fk__buf sql = FK__BUF_INIT;
    fk__buf_printf(&sql,
                   "DO $a$ DECLARE c record; BEGIN FOR c IN SELECT conname FROM pg_constraint"
                   " WHERE conrelid = '%s'::regclass AND contype = 'f' LOOP EXECUTE"
                   " format('ALTER TABLE %s DROP CONSTRAINT %%I', c.conname); END LOOP; END $a$;"
                   " DROP TRIGGER IF EXISTS design_audit_log_no_update_delete ON %s;"
                   " ALTER TABLE %s ALTER COLUMN id DROP DEFAULT;",
                   audit_q, audit_q, audit_q, audit_q);
    int rc = fk__pg_exec_buf(ctx, &sql, "adopting the existing design_audit_log");
    return rc;
}

static int adopt_after(fk_ctx *ctx, const char *S, const char *A)
{
    fk__buf sql = FK__BUF_INIT;
    fk__buf_printf(&sql,
                   "ALTER TABLE %s DISABLE TRIGGER " FK__TRG_IMMUTABLE ";"
                   " ALTER TABLE %s.audit_head DISABLE TRIGGER " FK__TRG_HEAD_GUARD ";"
                   " DO $a$ DECLARE r %s; prev text := repeat('0', 64); last bigint := 0; BEGIN"
                   " FOR r IN SELECT * FROM %s ORDER BY id LOOP"
                   " r.prev_hash := prev; prev := %s.row_hash(r); last := r.id;"
                   " UPDATE %s SET prev_hash = r.prev_hash, row_hash = prev WHERE id = r.id;"
                   " END LOOP;"
                   " UPDATE %s.audit_head SET last_id = last, last_hash = prev;"
                   " IF last > 0 THEN PERFORM setval('%s.audit_id_seq', last); END IF; END $a$;"
                   " ALTER TABLE %s ENABLE TRIGGER " FK__TRG_IMMUTABLE ";"
                   " ALTER TABLE %s.audit_head ENABLE TRIGGER " FK__TRG_HEAD_GUARD ";",
                   A, S, A, A, S, A, S, S, A, S);
    int rc = fk__pg_exec_buf(ctx, &sql, "chaining the existing audit rows");
    return rc;
}

static int add_soft_delete_columns(fk_ctx *ctx, fk__registry *reg, fk_report *report)
{
    int added = 0;
    for (size_t i = 0; i < reg->ntypes; i++) {
        fk__etype *e = &reg->types[i];
        if (!e->softdel_name || e->softdel >= 0)
            continue;
        char *col = fk__quote_ident(e->softdel_name);
        fk__buf sql = FK__BUF_INIT;
        fk__buf_printf(&sql, "ALTER TABLE %s ADD COLUMN IF NOT EXISTS %s timestamp(0) without "
                             "time zone NULL",
                       e->t.quoted, col ? col : "\"\"");
        fk__xfree(col);
        int rc = fk__pg_exec_buf(ctx, &sql, "adding a soft-delete column");
        if (rc)
            return rc;
        fk__report_add(report, FK_SEV_INFO, "soft_delete_added", e->name, 0, NULL, NULL, NULL,
                       "added %s to %s.%s", e->softdel_name, e->t.schema, e->t.name);
        added++;
    }
    if (!added)
        return FK_OK;
    /* the columns changed: read the catalog again */
    fk__registry_free(ctx->registry);
    ctx->registry = NULL;
    return FK_OK;
}

static int registry_fingerprint(fk_ctx *ctx, char out[65])
{
    char *desc = NULL;
    int rc = fk_registry_describe(&desc, ctx);
    if (rc)
        return rc;
    rc = fk__sha256_hex(desc, strlen(desc), out) == 0 ? FK_OK
                                                      : fk__fail(ctx, FK_ENOMEM, "SHA-256 failed");
    fk__xfree(desc);
    return rc;
}

static int write_meta(fk_ctx *ctx, const char *S, const char *const kv[][2], size_t n)
{
    char sql[400];
    snprintf(sql, sizeof sql, "INSERT INTO %s.meta (key, value) VALUES ($1, $2) ON CONFLICT "
                              "(key) DO UPDATE SET value = EXCLUDED.value", S);
    for (size_t i = 0; i < n; i++) {
        PGresult *res;
        const char *p[2] = {kv[i][0], kv[i][1]};
        int rc = fk__pg_query(ctx, &res, sql, 2, p, "recording the install");
        if (rc)
            return rc;
        PQclear(res);
    }
    return FK_OK;
}

static int role_exists(fk_ctx *ctx, const char *role)
{
    PGresult *res;
    int rc = fk__pg_query(ctx, &res, "SELECT 1 FROM pg_roles WHERE rolname = $1", 1, &role,
                          "looking up the application role");
    if (rc)
        return rc;
    int n = PQntuples(res);
    PQclear(res);
    return n ? FK_OK
             : fk__fail(ctx, FK_ENOTFOUND, "the application role \"%s\" does not exist", role);
}

/* The override role is cluster-wide: creating it needs CREATEROLE, which
 * an install by the tables' owner often lacks. Say so, and how, instead of
 * the server's bare "permission denied to create role". */
static int override_role_creatable(fk_ctx *ctx, const char *role)
{
    PGresult *res;
    int rc = fk__pg_query(ctx, &res,
                          "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1) OR (SELECT"
                          " rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user)",
                          1, &role, "looking up the override role");
    if (rc)
        return rc;
    int ok = PQgetvalue(res, 0, 0)[0] == 't';
    PQclear(res);
    return ok ? FK_OK
              : fk__fail(ctx, FK_EDB,
                         "the override role \"%s\" does not exist and this role may not create "
                         "it (CREATEROLE): have an administrator run CREATE ROLE %s NOLOGIN (it "
                         "is cluster-wide), or install as a superuser",
                         role, role);
}

static int table_exists(fk_ctx *ctx, const char *quoted, int *exists)
{
    PGresult *res;
    int rc = fk__pg_query(ctx, &res, "SELECT to_regclass($1) IS NOT NULL", 1, &quoted,
                          "looking for the audit table");
    if (rc)
        return rc;
    *exists = PQgetvalue(res, 0, 0)[0] == 't';
    PQclear(res);
    return FK_OK;
}

static int do_install(fk_ctx *ctx, const fk_install_options *o, fk_report *report)
{
    fk__install_info info;
    fk__xfree(ctx->install_cache); /* read it fresh, and again after this install */
    ctx->install_cache = NULL;
    if (ctx->audit_prepared) { /* the audit table may change */
        PQclear(PQexec(ctx->conn, "DEALLOCATE fortknox_audit_write"));
        ctx->audit_prepared = 0;
    }
    int rc = fk__pg_exec(ctx, "SELECT pg_advisory_xact_lock(hashtext('libfortknox install'))",
                         "waiting for another install");
    if (rc || (rc = fk__install_info_read(ctx, &info)))
        return rc;
    fk__registry *reg;
    if ((rc = fk__ctx_registry(ctx, &reg)) || (rc = fk__registry_usable(ctx, reg)))
        return rc;
    if ((o->flags & FK_INSTALL_ADD_SOFT_DELETE) &&
        ((rc = add_soft_delete_columns(ctx, reg, report)) || (rc = fk__ctx_registry(ctx, &reg))))
        return rc;

    char audit_q[300];
    if (o->flags & FK_INSTALL_PARTHENON_TABLE) {
        const char *schema = reg->users.schema ? reg->users.schema : reg->types[0].t.schema;
        char *qs = fk__quote_ident(schema);
        snprintf(audit_q, sizeof audit_q, "%s.\"design_audit_log\"", qs ? qs : "");
        fk__xfree(qs);
    } else {
        snprintf(audit_q, sizeof audit_q, "%s.\"audit_log\"", info.schema_q);
    }
    if (info.installed && strcmp(info.audit_q, audit_q) != 0)
        return fk__fail(ctx, FK_ECONFLICT,
                        "already installed with the audit table %s; moving it to %s is not "
                        "supported", info.audit_q, audit_q);
    char role_q[140] = "";
    if (o->app_role) {
        if ((rc = role_exists(ctx, o->app_role)))
            return rc;
        if (fk__copy_quoted(role_q, sizeof role_q, o->app_role) != 0)
            return fk__fail(ctx, FK_ENOMEM, "out of memory");
    }
    char regfp[65];
    if ((rc = registry_fingerprint(ctx, regfp)))
        return rc;
    int guards = !(o->flags & FK_INSTALL_NO_GUARDS), capture = o->mode == FK_AUDIT_CAPTURE;
    /* in the options: an install from before overrides were a privilege
     * (no override role) is brought up to date, not left as it was */
    char override_role[64];
    fk__install_override_role(override_role, ctx->schema);
    char options[700];
    snprintf(options, sizeof options,
             "v%d;mode=%s;guards=%s;table=%s;role=%s;registry=%s;override=%s", FK__SCHEMA_VERSION,
             capture ? "capture" : "app", guards ? "on" : "off", audit_q,
             o->app_role ? o->app_role : "", regfp, override_role);

    int guarded = 0, captured = 0;
    for (size_t i = 0; i < reg->ntypes; i++) {
        guarded += guards ? 1 + (int)reg->types[i].nchildren : 0;
        captured += capture ? 1 + (int)reg->types[i].nchildren : 0;
    }
    fk__report_count(report, "schema_version", FK__SCHEMA_VERSION);
    fk__report_count(report, "guarded_tables", guarded);
    fk__report_count(report, "capture_tables", captured);
    if (info.installed && info.version == FK__SCHEMA_VERSION &&
        strcmp(info.options, options) == 0) {
        fk__report_count(report, "changed", 0);
        fk__report_add(report, FK_SEV_INFO, "up_to_date", NULL, 0, NULL, NULL, NULL,
                       "already installed (schema version %d); nothing to do",
                       FK__SCHEMA_VERSION);
        return FK_OK;
    }
    int adopt = 0;
    if (!info.installed && (o->flags & FK_INSTALL_PARTHENON_TABLE)) {
        if ((rc = table_exists(ctx, audit_q, &adopt)))
            return rc;
        if (adopt && (rc = adopt_before(ctx, audit_q)))
            return rc;
    }
    if ((rc = override_role_creatable(ctx, override_role)))
        return rc;
    fk__install_plan plan = {info.schema_q, audit_q, role_q[0] ? role_q : NULL, override_role,
                             capture, guards};
    fk__buf sql = FK__BUF_INIT;
    rc = fk__install_sql(&sql, reg, &plan) != 0
             ? fk__fail(ctx, FK_ENOMEM, "out of memory")
             : fk__pg_exec(ctx, fk__buf_cstr(&sql), "installing libfortknox");
    fk__buf_dispose(&sql);
    if (rc == FK_OK && adopt)
        rc = adopt_after(ctx, info.schema_q, audit_q);
    char version[12];
    snprintf(version, sizeof version, "%d", FK__SCHEMA_VERSION);
    const char *const kv[][2] = {{"schema_version", version},
                                 {"audit_table", audit_q},
                                 {"mode", capture ? "capture" : "app"},
                                 {"guards", guards ? "on" : "off"},
                                 {"app_role", o->app_role ? o->app_role : ""},
                                 {"override_role", override_role},
                                 {"options", options}};
    if (rc == FK_OK)
        rc = write_meta(ctx, info.schema_q, kv, sizeof kv / sizeof kv[0]);
    if (rc == FK_OK) {
        fk__report_count(report, "changed", 1);
        fk__report_add(report, FK_SEV_INFO, info.installed ? "upgraded" : "installed", NULL, 0,
                       NULL, NULL, NULL, "%s schema version %d (%s mode, guards %s)%s",
                       info.installed ? "updated to" : "installed", FK__SCHEMA_VERSION,
                       capture ? "capture" : "app", guards ? "on" : "off",
                       adopt ? "; the existing design_audit_log was adopted" : "");
        fk__report_add(report, FK_SEV_INFO, "override_role", NULL, 0, NULL, NULL,
                       "grant it to the operators who may override (GRANT ... TO role); never "
                       "to the application's login role",
                       "overrides (hard delete, truncate, quiet imports and restores) need "
                       "membership of the role %s (cluster-wide, NOLOGIN) and "
                       "%s.allow(kind) in the transaction",
                       override_role, info.schema_q);
    }
    return rc;
}

int fk_install(fk_report **out, fk_ctx *ctx, const fk_install_options *opts)
{
    if (out)
        *out = NULL;
    if (!ctx)
        return fk__fail(NULL, FK_EINVAL, "fk_install: ctx must not be NULL");
    fk__ok(ctx);
    fk_install_options defaults;
    fk_install_options_init(&defaults, FK_INSTALL_OPTIONS_VERSION);
    const fk_install_options *o = opts ? opts : &defaults;
    if (o->version == 0 || o->version > FK_INSTALL_OPTIONS_VERSION ||
        (o->mode != FK_AUDIT_APP && o->mode != FK_AUDIT_CAPTURE))
        return fk__fail(ctx, FK_EINVAL, "fk_install: invalid options");
    fk_report *report;
    if (fk__report_new(&report, "install") != FK_OK)
        return fk__fail(ctx, FK_ENOMEM, "out of memory");
    fk__txn txn;
    int rc = fk__txn_begin(ctx, &txn, "BEGIN");
    if (rc == FK_OK)
        rc = do_install(ctx, o, report);
    if (rc == FK_OK && fk__report_failed(report))
        rc = fk__fail(ctx, FK_ENOMEM, "out of memory");
    if (rc == FK_OK)
        rc = fk__txn_commit(ctx, &txn);
    else
        fk__txn_rollback(ctx, &txn);
    fk__xfree(ctx->install_cache);
    ctx->install_cache = NULL;
    if (rc) {
        /* the registry may have been re-read inside the rolled-back work */
        fk__registry_free(ctx->registry);
        ctx->registry = NULL;
        fk_report_free(report);
        return rc;
    }
    if (out)
        *out = report;
    else
        fk_report_free(report);
    return FK_OK;
}

int fk_install_status(char **out, fk_ctx *ctx)
{
    if (out)
        *out = NULL;
    if (!ctx || !out)
        return fk__fail(ctx, FK_EINVAL, "fk_install_status: invalid argument");
    fk__ok(ctx);
    fk__install_info info;
    int rc = fk__install_info_read(ctx, &info);
    if (rc)
        return rc;
    fk__buf b = FK__BUF_INIT;
    if (!info.installed) {
        fk__buf_puts(&b, "{\"installed\": false}");
    } else {
        int parthenon = strstr(info.options, "design_audit_log") != NULL;
        fk__buf_printf(&b, "{\"installed\": true, \"schema_version\": %d, \"mode\": \"%s\", "
                           "\"guards\": %s, \"layout\": \"%s\", \"audit_table\": ",
                       info.version, info.capture ? "capture" : "app",
                       info.guards ? "true" : "false", parthenon ? "parthenon" : "fortknox");
        fk__json_put_string(&b, info.audit_q, strlen(info.audit_q));
        fk__buf_puts(&b, ", \"app_role\": ");
        if (info.app_role[0])
            fk__json_put_string(&b, info.app_role, strlen(info.app_role));
        else
            fk__buf_puts(&b, "null");
        fk__buf_putc(&b, '}');
    }
    if (!(*out = fk__buf_detach(&b)))
        return fk__fail(ctx, FK_ENOMEM, "out of memory");
    return FK_OK;
}
