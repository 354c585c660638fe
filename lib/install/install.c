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
#include "sql_files.h"
#include "standby.h"
#include "sql_names.h"
#include "sql_template.h"
#include "entry.h"

int fk_install_schema_version(void) { return FK__SCHEMA_VERSION; }

int fk_install_options_init(fk_install_options *opts, unsigned version)
{
    int rc = FK__OPTIONS_INIT(opts, version, FK_INSTALL_OPTIONS_VERSION, "fk_install_options_init");
    if (rc)
        return rc;
    opts->mode = FK_AUDIT_APP;
    return FK_OK;
}

/* Parthenon's own design_audit_log, adopted (lib/sql/adopt_before--1.sql,
 * adopt_after--1.sql): its FK to users (which made users undeletable) and
 * its trigger go, its rows join the chain. */
static int run_adoption(fk_ctx *ctx, const char *tmpl, const char *S, const char *A, const char *what)
{
    fk__buf sql = FK__BUF_INIT;
    fk__sql_emit(&sql, tmpl, S, A);
    return fk__pg_exec_buf(ctx, &sql, what);
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

/* The hash of the script install runs, which goes into the install
 * options: a library whose SQL differs from the one that installed
 * (another trigger set, a function body changed) installs again instead of
 * answering "up to date". The DDL guard's events are part of it. */
static int install_script_hash(fk_ctx *ctx, const fk__registry *reg,
                               const fk__install_plan *plan, char fp[65])
{
    fk__buf all = FK__BUF_INIT;
    int rc = fk__install_sql(&all, reg, plan) != 0 ? -1 : 0;
    fk__sql_emit(&all, fk__sql_ddl_guard_events, plan->schema_q, plan->audit_q);
    if (rc || fk__buf_failed(&all) || fk__sha256_hex(fk__buf_cstr(&all), all.len, fp) != 0)
        rc = fk__oom(ctx);
    fk__buf_dispose(&all);
    return rc;
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

/* The catalog's hash of what install made (lib/sql/fingerprint--1.sql);
 * out holds 32 hex digits. */
static int catalog_fingerprint(fk_ctx *ctx, const char *S, const char *A, char out[33])
{
    fk__buf q = FK__BUF_INIT;
    fk__sql_emit(&q, fk__sql_fingerprint, S, A);
    if (!fk__buf_cstr(&q))
        return fk__oom(ctx);
    PGresult *res;
    int rc = fk__pg_query(ctx, &res, fk__buf_cstr(&q), 0, NULL, "hashing the installed catalog");
    fk__buf_dispose(&q);
    if (rc)
        return rc;
    snprintf(out, 33, "%s", PQntuples(res) ? PQgetvalue(res, 0, 0) : "");
    PQclear(res);
    return FK_OK;
}

/* Whether the catalog is still what the last install left (meta key
 * fingerprint): only then is a repeated install "nothing to do". */
static int catalog_unchanged(fk_ctx *ctx, const char *S, const char *A, int *same)
{
    char now[33];
    int rc = catalog_fingerprint(ctx, S, A, now);
    if (rc)
        return rc;
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT value FROM %s.meta WHERE key = 'fingerprint'", S);
    PGresult *res;
    if ((rc = fk__pg_query(ctx, &res, sql, 0, NULL, "reading the install record")))
        return rc;
    *same = PQntuples(res) == 1 && now[0] && strcmp(PQgetvalue(res, 0, 0), now) == 0;
    PQclear(res);
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

/* The DDL guard's event triggers (sql_names.h), as doctor expects them. */
static const char *const ddl_events[] = {FK__EVT_DDL_START, FK__EVT_SQL_DROP, FK__EVT_DDL_END,
                                         FK__EVT_TABLE_REWRITE};
#define NDDL_EVENTS (sizeof ddl_events / sizeof ddl_events[0])
#define DDL_EVENTS_SQL_LIST                                                                       \
    "'" FK__EVT_DDL_START "', '" FK__EVT_SQL_DROP "', '" FK__EVT_DDL_END "', '"                   \
    FK__EVT_TABLE_REWRITE "'"

/* Whether the install runs as a superuser (only one creates event
 * triggers), and how many of the DDL guard's event triggers are in place,
 * ENABLE ALWAYS. */
static int ddl_guard_status(fk_ctx *ctx, int *superuser, int *in_place)
{
    PGresult *res;
    int rc = fk__pg_query(ctx, &res,
                          "SELECT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user),"
                          " (SELECT count(*) FROM pg_event_trigger WHERE evtname IN ("
                          DDL_EVENTS_SQL_LIST ") AND evtenabled = 'A')",
                          0, NULL, "looking for the DDL guard");
    if (rc)
        return rc;
    *superuser = PQgetvalue(res, 0, 0)[0] == 't';
    *in_place = atoi(PQgetvalue(res, 0, 1));
    PQclear(res);
    return FK_OK;
}

/* The install changes the library's own functions and triggers, which the
 * DDL guard refuses without an override. A superuser switches the guard
 * off for the install (it is recreated at its end) and records the install
 * as one audit row; anyone else installs under the DDL override, and the
 * guard records each change. The override's value is set here directly
 * (allow() may not exist yet, in an older install): it still holds only
 * for a member of the override role, which override_allowed() asks. */
static int ddl_guard_pause(fk_ctx *ctx, int superuser)
{
    int rc = fk__pg_exec(ctx,
                         "SELECT set_config('fortknox.allow_ddl', pg_current_xact_id()::text,"
                         " true)",
                         "overriding the DDL guard for the install");
    if (rc || !superuser)
        return rc;
    return fk__pg_exec(ctx,
                       "DO $d$ DECLARE e text; BEGIN FOR e IN SELECT evtname FROM"
                       " pg_event_trigger WHERE evtname IN (" DDL_EVENTS_SQL_LIST ") LOOP EXECUTE"
                       " format('ALTER EVENT TRIGGER %I DISABLE', e); END LOOP; END $d$",
                       "pausing the DDL guard for the install");
}

/* What is missing when the DDL guard could not be installed, said exactly. */
static void ddl_guard_missing(fk_report *report, int in_place)
{
    fk__report_add(report, FK_SEV_WARNING, "ddl_guard_missing", NULL, 0, NULL, NULL,
                   "run `fortknox install` again as a PostgreSQL superuser; `fortknox doctor` "
                   "reports FK-NO-DDL-GUARD until then",
                   "not a superuser: the DDL guard (event triggers %s, %s, %s, %s; %d of %d in "
                   "place) could not be installed. Not blocked and not recorded: DROP TABLE, "
                   "RENAME, SET SCHEMA of registered tables (also Laravel's migrate:fresh and "
                   "db:wipe); DROP, RENAME and ALTER COLUMN TYPE of their columns; ALTER TABLE "
                   "DISABLE/ENABLE REPLICA TRIGGER and DROP TRIGGER of fortknox's triggers; "
                   "CREATE OR REPLACE FUNCTION in its schema; CREATE RULE on registered "
                   "tables; DROP SCHEMA of the library. The row guards, capture and the audit "
                   "log's immutability are installed",
                   FK__EVT_DDL_START, FK__EVT_SQL_DROP, FK__EVT_DDL_END, FK__EVT_TABLE_REWRITE,
                   in_place, (int)NDDL_EVENTS);
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
            return fk__oom(ctx);
    }
    char regfp[65];
    if ((rc = registry_fingerprint(ctx, regfp)))
        return rc;
    int guards = !(o->flags & FK_INSTALL_NO_GUARDS), capture = o->mode == FK_AUDIT_CAPTURE;
    /* in the options: an install from before overrides were a privilege
     * (no override role) is brought up to date, not left as it was */
    char override_role[64];
    fk__override_role_name(override_role, ctx->schema);
    fk__install_plan plan = {info.schema_q, audit_q, role_q[0] ? role_q : NULL, override_role,
                             capture, guards};
    char sqlfp[65];
    if ((rc = install_script_hash(ctx, reg, &plan, sqlfp)))
        return rc;
    char options[700];
    snprintf(options, sizeof options,
             "v%d;mode=%s;guards=%s;table=%s;role=%s;registry=%s;override=%s;sql=%.16s",
             FK__SCHEMA_VERSION,
             capture ? "capture" : "app", guards ? "on" : "off", audit_q,
             o->app_role ? o->app_role : "", regfp, override_role, sqlfp);

    int guarded = 0, captured = 0;
    for (size_t i = 0; i < reg->ntypes; i++) {
        guarded += guards ? 1 + (int)reg->types[i].nchildren : 0;
        captured += capture ? 1 + (int)reg->types[i].nchildren : 0;
    }
    fk__report_count(report, "schema_version", FK__SCHEMA_VERSION);
    fk__report_count(report, "guarded_tables", guarded);
    fk__report_count(report, "capture_tables", captured);
    int superuser, ddl_in_place;
    if ((rc = ddl_guard_status(ctx, &superuser, &ddl_in_place)))
        return rc;
    int ddl_complete = ddl_in_place == (int)NDDL_EVENTS;
    /* up to date, unless a superuser can put a missing DDL guard back, or
     * the catalog is not what the last install left (a trigger disabled, a
     * function replaced: doctor's advice is to run install again) */
    int same = 0;
    if (info.installed && info.version == FK__SCHEMA_VERSION &&
        strcmp(info.options, options) == 0 &&
        (rc = catalog_unchanged(ctx, info.schema_q, audit_q, &same)))
        return rc;
    if (same && (ddl_complete || !superuser)) {
        fk__report_count(report, "ddl_guard", ddl_complete);
        if (!ddl_complete)
            ddl_guard_missing(report, ddl_in_place);
        fk__report_count(report, "changed", 0);
        fk__report_add(report, FK_SEV_INFO, "up_to_date", NULL, 0, NULL, NULL, NULL,
                       "already installed (schema version %d); nothing to do",
                       FK__SCHEMA_VERSION);
        return FK_OK;
    }
    if ((rc = ddl_guard_pause(ctx, superuser)))
        return rc;
    int adopt = 0;
    if (!info.installed && (o->flags & FK_INSTALL_PARTHENON_TABLE)) {
        if ((rc = table_exists(ctx, audit_q, &adopt)))
            return rc;
        if (adopt && (rc = run_adoption(ctx, fk__sql_adopt_before, info.schema_q, audit_q,
                                         "adopting the existing design_audit_log")))
            return rc;
    }
    if ((rc = override_role_creatable(ctx, override_role)))
        return rc;
    fk__buf sql = FK__BUF_INIT;
    rc = fk__install_sql(&sql, reg, &plan) != 0
             ? fk__oom(ctx)
             : fk__pg_exec(ctx, fk__buf_cstr(&sql), "installing libfortknox");
    fk__buf_dispose(&sql);
    if (rc == FK_OK && adopt)
        rc = run_adoption(ctx, fk__sql_adopt_after, info.schema_q, audit_q,
                          "chaining the existing audit rows");
    if (rc == FK_OK && superuser) {
        fk__buf ev = FK__BUF_INIT;
        fk__sql_emit(&ev, fk__sql_ddl_guard_events, info.schema_q, audit_q);
        rc = fk__pg_exec_buf(ctx, &ev, "installing the DDL guard");
        /* a change to a guarded database is a change of its protections:
         * one audit row says who installed what */
        if (rc == FK_OK && ddl_in_place) {
            char rec[400];
            snprintf(rec, sizeof rec,
                     "SELECT %s.ddl_record('fortknox install', jsonb_build_object('options', "
                     "$1::text))",
                     info.schema_q);
            PGresult *res;
            const char *p1 = options;
            rc = fk__pg_query(ctx, &res, rec, 1, &p1, "recording the install");
            if (rc == FK_OK)
                PQclear(res);
        }
    }
    fk__report_count(report, "ddl_guard", superuser || ddl_complete);
    if (rc == FK_OK && !superuser && !ddl_complete)
        ddl_guard_missing(report, ddl_in_place);
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
    char fp[33];
    if (rc == FK_OK && (rc = catalog_fingerprint(ctx, info.schema_q, audit_q, fp)) == FK_OK) {
        const char *const fkv[][2] = {{"fingerprint", fp}};
        rc = write_meta(ctx, info.schema_q, fkv, 1);
    }
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
    FK__BEGIN(ctx, "fk_install");
    fk_install_options defaults;
    fk_install_options_init(&defaults, FK_INSTALL_OPTIONS_VERSION);
    const fk_install_options *o = opts ? opts : &defaults;
    if (fk__options_check(ctx, o, FK_INSTALL_OPTIONS_VERSION, "fk_install"))
        return FK_EINVAL;
    FK__ARG(ctx, "fk_install", o->mode == FK_AUDIT_APP || o->mode == FK_AUDIT_CAPTURE);
    int rc = fk__require_primary(ctx, "fk_install", "install");
    if (rc)
        return rc;
    fk_report *report;
    if (fk__report_new(&report, "install") != FK_OK)
        return fk__oom(ctx);
    fk__txn txn;
    rc = fk__txn_begin(ctx, &txn, "BEGIN");
    if (rc == FK_OK)
        rc = do_install(ctx, o, report);
    if (rc == FK_OK && fk__report_failed(report))
        rc = fk__oom(ctx);
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
    }
    return fk__report_finish(out, report, rc);
}

int fk_install_status(char **out, fk_ctx *ctx)
{
    if (out)
        *out = NULL;
    FK__BEGIN(ctx, "fk_install_status");
    FK__ARG(ctx, "fk_install_status", out);
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
        return fk__oom(ctx);
    return FK_OK;
}
