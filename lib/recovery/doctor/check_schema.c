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
        "SELECT string_agg(x.priv, ', ') FROM (SELECT unnest(ARRAY['UPDATE', 'DELETE',"
        " 'TRUNCATE', 'REFERENCES', 'TRIGGER']) AS priv) x WHERE CASE WHEN EXISTS (SELECT 1"
        " FROM pg_roles WHERE rolname = $1) THEN has_table_privilege($1, $2::regclass, x.priv)"
        " OR has_table_privilege($1, $3::regclass, x.priv) ELSE false END",
        3, p, "checking the application role's privileges");
    if (rc)
        return rc;
    if (!PQgetisnull(res, 0, 0))
        fk__report_add(d->report, FK_SEV_ERROR, "FK-AUDIT-PRIVILEGES", NULL, 0, NULL, NULL,
                       "REVOKE them: the application needs INSERT and SELECT only",
                       "role %s may %s the audit log", d->info.app_role, PQgetvalue(res, 0, 0));
    PQclear(res);
    return FK_OK;
}

