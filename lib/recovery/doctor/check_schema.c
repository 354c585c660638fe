/* doctor's schema checks: damaged registered tables, what in the schema
 * makes loss possible (cascading foreign keys, no soft-delete column), and
 * the application role's privileges on the audit log. The install's
 * triggers, functions and rules: check_protections.c. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "doctor_internal.h"
#include "pgutil.h"
#include "report_internal.h"
#include "sql_names.h"
#include "entry.h"

/* Every damaged type: its missing table or column is the loss of every
 * entity it held, as far as every command can tell. */
int fk__doctor_schema(fk__doctor *d)
{
    if (fk__registry_foreign(d->reg)) { /* the findings below all say the same thing */
        char in_use[400];
        fk__report_add(d->report, FK_SEV_ERROR, "FK-SCHEMA", NULL, 0, NULL, NULL,
                       fk__registry_in_use(d->reg, in_use, sizeof in_use),
                       "none of the %zu entity tables of the registry exists in this database: "
                       "is it another application's database?",
                       d->reg->ntypes);
    }
    for (size_t t = 0; t < d->reg->ntypes; t++) {
        const fk__etype *e = &d->reg->types[t];
        if (!e->damage)
            continue;
        char known[200] = "", audited[100] = "";
        if (d->known_manifest[t] >= 0)
            snprintf(known, sizeof known, "; %" PRId64 " in the fixture manifest",
                     d->known_manifest[t]);
        if (d->known_audit[t] >= 0)
            snprintf(audited, sizeof audited, "; %" PRId64 " alive in the audit log",
                     d->known_audit[t]);
        fk__report_add(d->report, FK_SEV_ERROR, "FK-SCHEMA", e->name, 0, NULL, NULL,
                       "put the table or column back (undo the DROP, RENAME or SET SCHEMA, or "
                       "restore it from a backup), then `fortknox import DIR` and `fortknox "
                       "verify DIR`; or correct the registry",
                       "%s: every %s is lost to every command (export, verify, import, "
                       "restore)%s%s",
                       e->damage, e->name, known, audited);
    }
    if (d->reg->users_damage)
        fk__report_add(d->report, FK_SEV_WARNING, "FK-SCHEMA", NULL, 0, NULL, NULL,
                       "put the users table back or correct the registry",
                       "%s: imports cannot fall back to the admin author",
                       d->reg->users_damage);
    return FK_OK;
}

/* Every registered table that exists, as a PostgreSQL text array literal of
 * regclass names: {"app.\"x\"",...}. */
static void design_tables(const fk__doctor *d, fk__buf *tables)
{
    fk__buf_putc(tables, '{');
    int n = 0;
    for (size_t i = 0; i < d->reg->ntypes; i++)
        for (size_t j = 0; j <= d->reg->types[i].nchildren; j++) {
            const fk__table *t = j ? &d->reg->types[i].children[j - 1].t : &d->reg->types[i].t;
            if (!t->missing) /* not a regclass: reported by the schema check */
                fk__doctor_array_item(tables, t->quoted, n++);
        }
    fk__buf_putc(tables, '}');
}

/* ON DELETE CASCADE into a design table from outside the design tables. */
int fk__doctor_cascade(fk__doctor *d)
{
    fk__buf tables = FK__BUF_INIT;
    design_tables(d, &tables);
    const char *p = fk__buf_cstr(&tables);
    PGresult *res;
    int rc = p ? fk__pg_query(d->ctx, &res,
                              "SELECT c.conrelid::regclass::text, c.confrelid::regclass::text,"
                              " c.conname FROM pg_constraint c WHERE c.contype = 'f' AND"
                              " c.confdeltype = 'c' AND c.conrelid = ANY($1::regclass[]) AND NOT"
                              " c.confrelid = ANY($1::regclass[]) ORDER BY 1, 3",
                              1, &p, "looking for cascading foreign keys")
               : fk__oom(d->ctx);
    fk__buf_dispose(&tables);
    if (rc)
        return rc;
    for (int r = 0; r < PQntuples(res); r++)
        fk__report_add(d->report, FK_SEV_WARNING, "FK-CASCADE", NULL, 0, NULL, NULL,
                       "use ON DELETE RESTRICT or SET NULL: a delete outside the design tables "
                       "should never remove designs",
                       "%s.%s: deleting a row of %s deletes rows of the design table %s",
                       PQgetvalue(res, r, 0), PQgetvalue(res, r, 2), PQgetvalue(res, r, 1),
                       PQgetvalue(res, r, 0));
    PQclear(res);
    return FK_OK;
}

/* Without a soft-delete column, deleting from the app is final. */
int fk__doctor_soft_delete(fk__doctor *d)
{
    for (size_t i = 0; i < d->reg->ntypes; i++) {
        const fk__etype *e = &d->reg->types[i];
        if (!e->damage && e->softdel < 0)
            fk__report_add(d->report, FK_SEV_WARNING, "FK-NO-SOFT-DELETE", e->name, 0, NULL,
                           NULL,
                           e->softdel_name ? "run `fortknox install --add-soft-delete`"
                                           : "add a soft-delete column and name it in the "
                                             "registry",
                           "%s.%s has no soft-delete column%s%s: deleting from the app is final",
                           e->t.schema, e->t.name, e->softdel_name ? " " : "",
                           e->softdel_name ? e->softdel_name : "");
    }
    return FK_OK;
}

/* The application role may only append to and read the audit log. A role
 * the install record names and the server does not know is FK-META's. */
int fk__doctor_privileges(fk__doctor *d)
{
    if (!d->info.app_role[0])
        return FK_OK;
    const char *p[3] = {d->info.app_role, d->info.audit_q, d->head_q};
    PGresult *res;
    int rc = fk__pg_query(
        d->ctx, &res,
        "SELECT string_agg(x.priv, ', ') FROM (SELECT unnest(ARRAY['INSERT', 'UPDATE', 'DELETE',"
        " 'TRUNCATE', 'REFERENCES', 'TRIGGER']) AS priv) x WHERE CASE WHEN EXISTS (SELECT 1"
        " FROM pg_roles WHERE rolname = $1) THEN has_table_privilege($1, $2::regclass, x.priv)"
        " OR has_table_privilege($1, $3::regclass, x.priv) ELSE false END",
        3, p, "checking the application role's privileges");
    if (rc)
        return rc;
    if (!PQgetisnull(res, 0, 0))
        fk__report_add(d->report, FK_SEV_ERROR, "FK-AUDIT-PRIVILEGES", NULL, 0, NULL, NULL,
                       "REVOKE them: the application needs SELECT only (it writes through "
                       "app_write(); `fortknox install --app-role` sets this up)",
                       "role %s may %s the audit log", d->info.app_role, PQgetvalue(res, 0, 0));
    PQclear(res);
    /* the override role (install record) is never the application's */
    char sql[400];
    snprintf(sql, sizeof sql,
             "SELECT m.value FROM %s.meta m JOIN pg_roles o ON o.rolname = m.value WHERE m.key ="
             " 'override_role' AND EXISTS (SELECT 1 FROM pg_roles a WHERE a.rolname = $1 AND"
             " pg_has_role(a.oid, o.oid, 'MEMBER'))",
             d->info.schema_q);
    if ((rc = fk__pg_query(d->ctx, &res, sql, 1, p, "checking the application role's roles")))
        return rc;
    if (PQntuples(res))
        fk__report_add(d->report, FK_SEV_ERROR, "FK-AUDIT-PRIVILEGES", NULL, 0, NULL, NULL,
                       "REVOKE it: overrides are for the operators, one transaction at a time",
                       "role %s is a member of %s: the application can override the guards and "
                       "quiet capture",
                       d->info.app_role, PQgetvalue(res, 0, 0));
    PQclear(res);
    return FK_OK;
}

/* A fortknox.* value stored where it applies to every session of a role or
 * a database (ALTER ROLE/DATABASE ... SET) or of the server (its
 * configuration file or command line). An override or a quiet context there
 * no longer works (overrides are bound to one transaction and a role,
 * guard--1.sql), but it says somebody tried to make one permanent; an actor
 * stored there names one person for every change the role makes. */
int fk__doctor_settings(fk__doctor *d)
{
    PGresult *res;
    int rc = fk__pg_query(
        d->ctx, &res,
        "SELECT CASE WHEN x.setrole = 0 THEN 'every role' ELSE 'role ' ||"
        " quote_ident(coalesce(pg_get_userbyid(x.setrole), x.setrole::text)) END || CASE WHEN"
        " x.setdatabase = 0 THEN ' in every database' ELSE ' in database ' ||"
        " quote_ident(current_database()) END, s.cfg, s.cfg ~* '^fortknox[.](allow_|context=)'"
        " FROM pg_db_role_setting x, unnest(x.setconfig) s(cfg) WHERE (x.setdatabase = 0 OR"
        " x.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database()))"
        " AND s.cfg ~* '^fortknox[.]'"
        " UNION ALL SELECT 'the server (' || source || ')', name || '=' || setting,"
        " name ~* '^fortknox[.](allow_|context$)' FROM pg_settings WHERE name ~* '^fortknox[.]'"
        " AND source IN ('configuration file', 'command line', 'environment variable', 'global')"
        " ORDER BY 1, 2",
        0, NULL, "looking for fortknox settings stored for roles and databases");
    if (rc)
        return rc;
    for (int r = 0; r < PQntuples(res); r++) {
        int override = PQgetvalue(res, r, 2)[0] == 't';
        fk__report_add(d->report, override ? FK_SEV_ERROR : FK_SEV_WARNING, "FK-SETTING", NULL, 0,
                       NULL, NULL,
                       "remove it (ALTER ROLE ... RESET / ALTER DATABASE ... RESET, or the "
                       "server's configuration); overrides are made per transaction with "
                       "allow(kind) by a member of the override role",
                       "%s is set for %s: %s", PQgetvalue(res, r, 1), PQgetvalue(res, r, 0),
                       override ? "an attempt at a permanent override or a silenced capture"
                                : "it applies to every session there");
    }
    PQclear(res);
    return FK_OK;
}

