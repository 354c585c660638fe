/* doctor's protection checks: each protection the install put in place is
 * checked for what it does, not for its name. A trigger called
 * "FK_guard_delete" that calls another function, fires on other events,
 * carries a WHEN clause (or, for the key triggers, another one than "the
 * key changed"), is enabled only for origin sessions or was given
 * other arguments protects nothing; neither does a library function whose
 * body was replaced, a rule that rewrites the statements the triggers would
 * see, a DDL guard that is not there, or an install record that says
 * "capture" over a catalog without capture triggers.
 *
 * What "as installed" means is what this library build installs: the
 * expected triggers are the ones guard/guard_sql.c, audit/audit_sql.c and
 * lib/sql/core--1.sql create (this table, kept equal by the clean-install
 * tests of tests/test_protections.c), and the expected functions are the
 * embedded SQL templates filled in for this database, never a fingerprint
 * the database keeps about itself (whoever can replace a function can
 * rewrite a fingerprint next to it). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "audit_sql.h"
#include "buf.h"
#include "doctor_internal.h"
#include "installed.h"
#include "pgutil.h"
#include "report_internal.h"
#include "sql_files.h"
#include "sql_names.h"
#include "sql_template.h"
#include "entry.h"

/* The trigger states (pg_trigger.tgenabled) that count as enabled. Every
 * library trigger is installed ENABLE ALWAYS ('A'): 'O' (the default,
 * ENABLE) is switched off by SET session_replication_role = replica, 'R'
 * fires only then, 'D' never. */
#define FK__TRIGGER_ENABLED_OK "A"

/* pg_trigger.tgtype bits (PostgreSQL's catalog/pg_trigger.h). */
enum {
    TG_ROW = 1 << 0,
    TG_BEFORE = 1 << 1,
    TG_INSERT = 1 << 2,
    TG_DELETE = 1 << 3,
    TG_UPDATE = 1 << 4,
    TG_TRUNCATE = 1 << 5,
    TG_INSTEAD = 1 << 6
};

/* What a library trigger is. */
typedef struct trg_spec {
    const char *name; /* sql_names.h */
    const char *fn;   /* function in the fortknox schema, no arguments */
    int tgtype;
    const char *oldtable, *newtable; /* transition tables, "" when none */
    int guard;                       /* its absence is FK-GUARD-*, else FK-AUDIT-TRIGGER */
    const char *what;                /* what is lost without it */
    int keyed; /* WHEN (OLD.key IS DISTINCT FROM NEW.key), fk__sql_create_key_trigger */
} trg_spec;

static const trg_spec CHAIN = {FK__TRG_CHAIN, "audit_chain", TG_ROW | TG_BEFORE | TG_INSERT,
                               "", "", 0,
                               "audit rows get no serialised id and time and cannot be sealed "
                               "into the chain", 0};
static const trg_spec IMMUTABLE = {FK__TRG_IMMUTABLE, "refuse",
                                   TG_ROW | TG_BEFORE | TG_UPDATE | TG_DELETE, "", "", 0,
                                   "audit rows can be updated or deleted", 0};
static const trg_spec NO_TRUNCATE = {FK__TRG_NO_TRUNCATE, "refuse", TG_BEFORE | TG_TRUNCATE, "",
                                     "", 0, "the audit log can be truncated", 0};
static const trg_spec HEAD_GUARD = {FK__TRG_HEAD_GUARD, "head_guard",
                                    TG_ROW | TG_BEFORE | TG_UPDATE | TG_DELETE, "", "", 0,
                                    "the chain head can be rewritten or deleted", 0};
static const trg_spec HEAD_NO_TRUNCATE = {FK__TRG_HEAD_NO_TRUNCATE, "refuse",
                                          TG_BEFORE | TG_TRUNCATE, "", "", 0,
                                          "the chain head can be truncated", 0};
static const trg_spec WRITE_LOCK_GUARD = {FK__TRG_WRITE_LOCK_GUARD, "refuse",
                                          TG_ROW | TG_BEFORE | TG_UPDATE | TG_DELETE, "", "", 0,
                                          "the write lock's row can be deleted: every audited "
                                          "write then fails",
                                          0};
static const trg_spec WRITE_LOCK_NO_TRUNCATE = {FK__TRG_WRITE_LOCK_NO_TRUNCATE, "refuse",
                                                TG_BEFORE | TG_TRUNCATE, "", "", 0,
                                                "the write lock can be truncated: every audited "
                                                "write then fails",
                                                0};
static const trg_spec GUARD_DELETE = {FK__TRG_GUARD_DELETE, "guard_delete",
                                      TG_ROW | TG_BEFORE | TG_DELETE, "", "", 1,
                                      "hard deletes are not blocked", 0};
static const trg_spec GUARD_KEY = {FK__TRG_GUARD_KEY, "guard_delete", TG_ROW | TG_UPDATE, "", "",
                                   1,
                                   "changing an entity's id (which removes the entity the old "
                                   "one named) is not blocked",
                                   1};
static const trg_spec GUARD_TRUNCATE = {FK__TRG_GUARD_TRUNCATE, "guard_truncate",
                                        TG_BEFORE | TG_TRUNCATE, "", "", 1,
                                        "TRUNCATE (also through CASCADE) is not blocked", 0};
static const trg_spec CAPTURE = {FK__TRG_CAPTURE, "capture_mark",
                                 TG_ROW | TG_BEFORE | TG_INSERT | TG_UPDATE | TG_DELETE, "", "",
                                 0, "changes made with SQL are not audited", 0};
#define CHECK_LOST                                                                                \
    "a trigger of the application firing after capture can move a row to an entity nobody "      \
    "noted: its change is committed without an audit row"
static const trg_spec CAPTURE_CHECK = {FK__TRG_CAPTURE_CHECK, "capture_check",
                                       TG_ROW | TG_INSERT, "", "", 0, CHECK_LOST " (INSERT)", 0};
static const trg_spec CAPTURE_CHECK_KEY = {FK__TRG_CAPTURE_CHECK_KEY, "capture_check",
                                           TG_ROW | TG_UPDATE, "", "", 0, CHECK_LOST " (UPDATE)",
                                           1};
static const trg_spec FLUSH = {FK__TRG_FLUSH, "capture_flush", TG_ROW | TG_INSERT, "", "", 0,
                               "captured changes are never written to the audit log", 0};

static int enabled_ok(char state)
{
    return state && strchr(FK__TRIGGER_ENABLED_OK, state) != NULL;
}

static const char *state_name(char s)
{
    switch (s) {
    case 'D': return "disabled (DISABLE TRIGGER)";
    case 'R': return "enabled only in replica sessions (ENABLE REPLICA TRIGGER): every ordinary "
                     "session bypasses it";
    case 'O': return "not ENABLE ALWAYS: SET session_replication_role = replica switches it off";
    default: return "in an unknown state";
    }
}

/* The arguments as pg_trigger.tgargs holds them (each followed by a NUL
 * byte), hex-encoded as encode(tgargs, 'hex') writes them. */
static void args_hex(fk__buf *b, const char *const *args, size_t nargs)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < nargs; i++) {
        for (const unsigned char *c = (const unsigned char *)args[i]; *c; c++) {
            fk__buf_putc(b, hex[*c >> 4]);
            fk__buf_putc(b, hex[*c & 15]);
        }
        fk__buf_puts(b, "00");
    }
}

static void describe_args(fk__buf *b, const char *const *args, size_t nargs)
{
    fk__buf_putc(b, '(');
    for (size_t i = 0; i < nargs; i++)
        fk__buf_printf(b, "%s'%s'", i ? ", " : "", args[i]);
    fk__buf_putc(b, ')');
}

/* One trigger the install put in place on table_q: there, enabled in every
 * session, calling its function with its arguments (args NULL: not
 * checked, the table's columns are unknown) on its events, unconditionally
 * or, a keyed one, exactly when the key column changes (key: its name;
 * NULL, unknown: not checked). The WHEN is compared as PostgreSQL prints it
 * back (pg_get_triggerdef; identifiers as quote_ident writes them). */
static int expect_trigger(fk__doctor *d, const char *table_q, const trg_spec *s,
                          const char *const *args, size_t nargs, const char *key)
{
    char fn[300];
    snprintf(fn, sizeof fn, "%s.%s()", d->info.schema_q, s->fn);
    const char *p[5] = {table_q, s->name, fn, s->keyed ? "t" : "f", key};
    PGresult *res;
    int rc = fk__pg_query(d->ctx, &res,
                          "SELECT tgenabled, tgtype, tgfoid = coalesce(to_regprocedure($3), 0),"
                          " tgfoid::regprocedure::text, CASE WHEN NOT $4::boolean THEN tgqual IS"
                          " NULL WHEN $5::text IS NULL THEN true ELSE w IS NOT DISTINCT FROM"
                          " format('(old.%1$s IS DISTINCT FROM new.%1$s)', quote_ident($5)) END,"
                          " encode(tgargs, 'hex'), coalesce(tgoldtable, ''),"
                          " coalesce(tgnewtable, ''), coalesce(w, 'missing')"
                          " FROM pg_trigger, LATERAL (SELECT CASE WHEN tgqual IS NOT NULL THEN"
                          " substring(pg_get_triggerdef(oid) FROM ' WHEN \\((.*)\\) EXECUTE"
                          " FUNCTION ') END AS w) x WHERE tgrelid = to_regclass($1) AND tgname ="
                          " $2",
                          5, p, "checking triggers");
    if (rc)
        return rc;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return fk__report_add(d->report, FK_SEV_ERROR,
                              s->guard ? "FK-GUARD-MISSING" : "FK-AUDIT-TRIGGER", NULL, 0, NULL,
                              NULL, "run `fortknox install` again, and find out who dropped it",
                              "%s on %s is missing: %s", s->name, table_q, s->what);
    }
    char state = PQgetvalue(res, 0, 0)[0];
    int tgtype = atoi(PQgetvalue(res, 0, 1));
    int fn_ok = PQgetvalue(res, 0, 2)[0] == 't', when_ok = PQgetvalue(res, 0, 4)[0] == 't';
    fk__buf want = FK__BUF_INIT, why = FK__BUF_INIT;
    if (args)
        args_hex(&want, args, nargs);
    if (!fn_ok)
        fk__buf_printf(&why, "; it calls %s instead of %s", PQgetvalue(res, 0, 3), fn);
    if (tgtype != s->tgtype)
        fk__buf_printf(&why, "; it fires on other events or at another level (tgtype %d, "
                             "installed as %d)",
                       tgtype, s->tgtype);
    if (!when_ok && !s->keyed)
        fk__buf_puts(&why, "; it has a WHEN clause: it fires only for some rows");
    else if (!when_ok)
        fk__buf_printf(&why, "; its WHEN clause is %s, not (OLD.%s IS DISTINCT FROM NEW.%s)",
                       PQgetvalue(res, 0, 8), key, key);
    if (args && strcmp(PQgetvalue(res, 0, 5), fk__buf_cstr(&want) ? fk__buf_cstr(&want) : "")) {
        fk__buf_puts(&why, "; its arguments are not ");
        describe_args(&why, args, nargs);
    }
    if (strcmp(PQgetvalue(res, 0, 6), s->oldtable) || strcmp(PQgetvalue(res, 0, 7), s->newtable))
        fk__buf_puts(&why, "; its transition tables (REFERENCING) are not the ones installed");
    PQclear(res);
    if (why.len)
        fk__report_add(d->report, FK_SEV_ERROR, "FK-TRIGGER-ALTERED", NULL, 0, NULL, NULL,
                            "run `fortknox install` again (it recreates the trigger), and find "
                            "out who changed it",
                            "%s on %s is not the trigger libfortknox installed%s: %s", s->name,
                            table_q, fk__buf_cstr(&why) ? fk__buf_cstr(&why) : "", s->what);
    if (!enabled_ok(state))
        fk__report_add(d->report, FK_SEV_ERROR,
                            s->guard ? "FK-GUARD-DISABLED" : "FK-AUDIT-TRIGGER", NULL, 0, NULL,
                            NULL,
                            "ALTER TABLE ... ENABLE ALWAYS TRIGGER (or `fortknox install`), and "
                            "find out who changed it",
                            "%s on %s is %s: %s", s->name, table_q, state_name(state), s->what);
    fk__buf_dispose(&want);
    fk__buf_dispose(&why);
    return FK_OK; /* an item that ran out of memory fails the report (finish) */
}

/* Triggers on the audit table, the chain head and capture's pending
 * table that the library did not put there: a BEFORE INSERT trigger that
 * returns NULL drops every audit row (or captured change) without an
 * error. */
static int foreign_audit_triggers(fk__doctor *d)
{
    char pending[300];
    snprintf(pending, sizeof pending, "%s.pending", d->info.schema_q);
    const char *p[9] = {d->info.audit_q,    d->head_q,           FK__TRG_CHAIN,
                        FK__TRG_IMMUTABLE,  FK__TRG_NO_TRUNCATE, FK__TRG_HEAD_GUARD,
                        FK__TRG_HEAD_NO_TRUNCATE, pending,        FK__TRG_FLUSH};
    PGresult *res;
    /* pending (capture's changes waiting for commit) exists since capture
     * went per transaction: an older install has none */
    int rc = fk__pg_query(d->ctx, &res,
                          "SELECT tgname, tgrelid::regclass::text FROM pg_trigger WHERE (tgrelid"
                          " IN ($1::regclass, $2::regclass) AND tgname NOT IN"
                          " ($3, $4, $5, $6, $7) OR tgrelid = to_regclass($8) AND"
                          " tgname <> $9) AND NOT tgisinternal ORDER BY 2, 1",
                          9, p, "checking the audit log's triggers");
    if (rc)
        return rc;
    for (int r = 0; r < PQntuples(res); r++)
        fk__report_add(d->report, FK_SEV_ERROR, "FK-AUDIT-TRIGGER", NULL, 0, NULL, NULL,
                       "drop it, and find out who created it",
                       "trigger %s on %s was not installed by libfortknox: a trigger on the "
                       "audit log can drop or rewrite audit rows before they are chained",
                       PQgetvalue(res, r, 0), PQgetvalue(res, r, 1));
    PQclear(res);
    return FK_OK;
}

/* Whether a trigger of that name is on the table (for the install record's
 * consistency: guards off, capture off). */
static int trigger_present(fk__doctor *d, const char *table_q, const char *name, int *present)
{
    const char *p[2] = {table_q, name};
    PGresult *res;
    int rc = fk__pg_query(d->ctx, &res,
                          "SELECT 1 FROM pg_trigger WHERE tgrelid = $1::regclass AND tgname = $2",
                          2, p, "checking triggers");
    if (rc)
        return rc;
    *present = PQntuples(res) > 0;
    PQclear(res);
    return FK_OK;
}

/* An install record that disagrees with the catalog: it says app mode or
 * no guards while the triggers of capture or the guards are there (which
 * one lies, the record or the catalog, is for a human to find out: doctor
 * would otherwise stop checking what the record says is not installed). */
static int record_disagrees(fk__doctor *d, const fk__etype *e, int *said)
{
    const char *name = !d->info.capture ? FK__TRG_CAPTURE : NULL;
    const char *gname = !d->info.guards ? FK__TRG_GUARD_DELETE : NULL;
    int present = 0, rc = FK_OK;
    if (name && !said[0] && (rc = trigger_present(d, e->t.quoted, name, &present)) == FK_OK &&
        present) {
        said[0] = 1;
        fk__report_add(d->report, FK_SEV_ERROR, "FK-META", NULL, 0, NULL, NULL,
                       "run `fortknox install --capture` or `--no-capture` to say which, and find "
                       "out who changed the install record",
                       "the install record (%s.meta) says app mode, but %s has the capture "
                       "trigger %s: the record or the triggers were changed",
                       d->info.schema_q, e->t.quoted, name);
    }
    if (rc == FK_OK && gname && !said[1] &&
        (rc = trigger_present(d, e->t.quoted, gname, &present)) == FK_OK && present) {
        said[1] = 1;
        fk__report_add(d->report, FK_SEV_ERROR, "FK-META", NULL, 0, NULL, NULL,
                       "run `fortknox install` to say whether guards are wanted, and find out "
                       "who changed the install record",
                       "the install record (%s.meta) says guards are off, but %s has the guard "
                       "trigger %s: the record or the triggers were changed",
                       d->info.schema_q, e->t.quoted, gname);
    }
    return rc;
}

/* The per-table triggers of one entity type, as guard_sql.c and
 * audit_sql.c write them. */
static int type_triggers(fk__doctor *d, const fk__etype *e, int *said)
{
    int usable = !e->damage, rc = FK_OK;
    const char *mode = d->info.capture ? "capture" : "app";
    const char *ga[] = {usable ? e->t.cols[e->t.pk].name : NULL};
    const char *ta[2 + FK__CAPTURE_NARGS] = {e->name, mode};
    for (int c = -1; rc == FK_OK && c < (int)e->nchildren; c++) {
        const fk__table *t = c < 0 ? &e->t : &e->children[c].t;
        if (t->missing)
            continue;
        if (usable)
            fk__capture_args(e, c, ta + 2);
        const char *const *ca = usable ? ta + 2 : NULL;
        /* the key a keyed trigger watches: the entity's id, a child's parent key */
        const char *key = usable ? ta[3] : NULL;
        if (c < 0 && d->info.guards)
            rc = expect_trigger(d, t->quoted, &GUARD_DELETE, usable ? ga : NULL, 1, NULL);
        if (rc == FK_OK && c < 0 && d->info.guards)
            rc = expect_trigger(d, t->quoted, &GUARD_KEY, usable ? ga : NULL, 1, key);
        if (rc == FK_OK && d->info.guards)
            rc = expect_trigger(d, t->quoted, &GUARD_TRUNCATE, usable ? ta : NULL,
                                2 + FK__CAPTURE_NARGS, NULL);
        if (rc == FK_OK && d->info.capture)
            rc = expect_trigger(d, t->quoted, &CAPTURE, ca, FK__CAPTURE_NARGS, NULL);
        if (rc == FK_OK && d->info.capture)
            rc = expect_trigger(d, t->quoted, &CAPTURE_CHECK, ca, FK__CAPTURE_NARGS, NULL);
        if (rc == FK_OK && d->info.capture)
            rc = expect_trigger(d, t->quoted, &CAPTURE_CHECK_KEY, ca, FK__CAPTURE_NARGS, key);
        if (rc == FK_OK && c < 0)
            rc = record_disagrees(d, e, said);
    }
    return rc;
}

/* Every trigger the install put in place (the names sql_names.h gives
 * install), each for what it does. */
int fk__doctor_triggers(fk__doctor *d)
{
    int rc = FK_OK, said[2] = {0, 0};
    if (d->audit_ok) {
        const trg_spec *audit[] = {&CHAIN, &IMMUTABLE, &NO_TRUNCATE};
        const trg_spec *head[] = {&HEAD_GUARD, &HEAD_NO_TRUNCATE};
        for (size_t i = 0; rc == FK_OK && i < sizeof audit / sizeof audit[0]; i++)
            rc = expect_trigger(d, d->info.audit_q, audit[i], NULL, 0, NULL);
        for (size_t i = 0; rc == FK_OK && i < sizeof head / sizeof head[0]; i++)
            rc = expect_trigger(d, d->head_q, head[i], NULL, 0, NULL);
        const trg_spec *lock[] = {&WRITE_LOCK_GUARD, &WRITE_LOCK_NO_TRUNCATE};
        char lock_q[220];
        snprintf(lock_q, sizeof lock_q, "%s.write_lock", d->info.schema_q);
        for (size_t i = 0; rc == FK_OK && i < sizeof lock / sizeof lock[0]; i++)
            rc = expect_trigger(d, lock_q, lock[i], NULL, 0, NULL); /* no table: missing */
        if (rc == FK_OK)
            rc = foreign_audit_triggers(d);
        if (rc == FK_OK && d->info.capture) {
            char pending[300];
            snprintf(pending, sizeof pending, "%s.pending", d->info.schema_q);
            rc = expect_trigger(d, pending, &FLUSH, NULL, 0, NULL); /* no table: missing */
        }
    }
    for (size_t i = 0; rc == FK_OK && i < d->reg->ntypes; i++)
        rc = type_triggers(d, &d->reg->types[i], said);
    if (rc == FK_OK && !d->info.guards)
        fk__report_add(d->report, FK_SEV_WARNING, "FK-GUARD-MISSING", NULL, 0, NULL, NULL,
                       "run `fortknox install` without --no-guards",
                       "installed without guards: hard deletes and TRUNCATE are not blocked");
    return rc;
}

/* ------------------------------------------------------------- rules */

/* Every registered table that exists, the audit table and the chain head,
 * as a PostgreSQL array literal of quoted names. */
static void protected_tables(const fk__doctor *d, fk__buf *b)
{
    fk__buf_putc(b, '{');
    int n = 0;
    const char *extra[2] = {d->audit_ok ? d->info.audit_q : NULL, d->audit_ok ? d->head_q : NULL};
    for (size_t i = 0; i < d->reg->ntypes; i++)
        for (size_t j = 0; j <= d->reg->types[i].nchildren; j++) {
            const fk__table *t = j ? &d->reg->types[i].children[j - 1].t : &d->reg->types[i].t;
            if (!t->missing)
                fk__doctor_array_item(b, t->quoted, n++);
        }
    for (size_t i = 0; i < 2; i++)
        if (extra[i])
            fk__doctor_array_item(b, extra[i], n++);
    fk__buf_putc(b, '}');
}

/* Row-level security hides rows from whoever is not exempt: on the audit
 * log, rows an audit verify or a restore never sees (an error); on a design
 * table, entities an export or doctor run by a non-exempt role never sees,
 * which the application may intend (a warning). */
static int row_security(fk__doctor *d)
{
    const char *p[2] = {d->audit_ok ? d->info.audit_q : NULL, d->audit_ok ? d->head_q : NULL};
    fk__buf tables = FK__BUF_INIT;
    protected_tables(d, &tables);
    const char *q[3] = {fk__buf_cstr(&tables), p[0], p[1]};
    PGresult *res;
    int rc = q[0] ? fk__pg_query(d->ctx, &res,
                                 "SELECT c.oid::regclass::text, c.oid IN (coalesce(to_regclass($2),"
                                 " 0), coalesce(to_regclass($3), 0)) FROM pg_class c WHERE c.oid"
                                 " = ANY($1::regclass[]) AND c.relrowsecurity ORDER BY 1",
                                 3, q, "looking for row-level security on protected tables")
                  : fk__oom(d->ctx);
    fk__buf_dispose(&tables);
    if (rc)
        return rc;
    for (int r = 0; r < PQntuples(res); r++) {
        int audit = PQgetvalue(res, r, 1)[0] == 't';
        fk__report_add(d->report, audit ? FK_SEV_ERROR : FK_SEV_WARNING, "FK-RULE", NULL, 0,
                       NULL, NULL,
                       audit ? "ALTER TABLE ... DISABLE ROW LEVEL SECURITY, and find out who "
                               "enabled it"
                             : "make sure the role running export and doctor is exempt "
                               "(BYPASSRLS or the owner without FORCE)",
                       "%s has row-level security: %s", PQgetvalue(res, r, 0),
                       audit ? "audit rows a policy hides are never verified or restored"
                             : "entities a policy hides are never exported or checked by a "
                               "role it applies to");
    }
    PQclear(res);
    return FK_OK;
}

/* A rule rewrites a statement before any trigger sees it: DO INSTEAD
 * NOTHING on DELETE removes nothing but reports success, on the audit
 * table's INSERT it drops every audit row, and a rule can send an UPDATE
 * to another table where no capture trigger is. No rule belongs on a
 * protected table. */
int fk__doctor_rules(fk__doctor *d)
{
    fk__buf tables = FK__BUF_INIT;
    protected_tables(d, &tables);
    const char *p = fk__buf_cstr(&tables);
    PGresult *res;
    int rc = p ? fk__pg_query(d->ctx, &res,
                              "SELECT r.ev_class::regclass::text, r.rulename,"
                              " pg_get_ruledef(r.oid) FROM pg_rewrite r WHERE r.ev_class ="
                              " ANY($1::regclass[]) AND r.rulename <> '_RETURN' ORDER BY 1, 2",
                              1, &p, "looking for rules on protected tables")
               : fk__oom(d->ctx);
    fk__buf_dispose(&tables);
    if (rc)
        return rc;
    for (int r = 0; r < PQntuples(res); r++)
        fk__report_add(d->report, FK_SEV_ERROR, "FK-RULE", NULL, 0, NULL, NULL,
                       "DROP RULE it, and find out who created it",
                       "rule %s on %s rewrites statements before the guards and the capture "
                       "triggers see them: %s",
                       PQgetvalue(res, r, 1), PQgetvalue(res, r, 0), PQgetvalue(res, r, 2));
    PQclear(res);
    return row_security(d);
}

/* ------------------------------------------------------------- the DDL guard */


/* ------------------------------------------------------------- the install record */

/* The install record is a table anyone with the rights can edit; what it
 * says is checked against the catalog: the application role it names
 * exists, and the audit table it names is the one the chain trigger
 * guards (a record pointed at a decoy table would make every command read
 * and verify the decoy). Mode and guards against the triggers:
 * type_triggers() (record_disagrees) and the trigger arguments. */
int fk__doctor_meta(fk__doctor *d)
{
    char fn[300];
    snprintf(fn, sizeof fn, "%s.audit_chain()", d->info.schema_q);
    char role[64];
    fk__override_role_name(role, d->ctx->schema);
    const char *p[4] = {d->info.app_role[0] ? d->info.app_role : NULL, fn, d->info.audit_q, role};
    PGresult *res;
    int rc = fk__pg_query(d->ctx, &res,
                          "SELECT $1::text IS NULL OR EXISTS (SELECT 1 FROM pg_roles WHERE"
                          " rolname = $1), (SELECT string_agg(DISTINCT tgrelid::regclass::text,"
                          " ', ') FROM pg_trigger WHERE tgfoid = to_regprocedure($2) AND tgrelid"
                          " <> $3::regclass), CASE WHEN NOT EXISTS (SELECT 1 FROM pg_roles WHERE"
                          " rolname = $4) THEN 'does not exist: no override can be made' WHEN"
                          " (SELECT rolcanlogin OR rolsuper FROM pg_roles WHERE rolname = $4)"
                          " THEN 'can log in (or is a superuser): whoever logs in as it holds"
                          " every override' END",
                          4, p, "checking the install record");
    if (rc)
        return rc;
    if (PQgetvalue(res, 0, 0)[0] != 't')
        fk__report_add(d->report, FK_SEV_ERROR, "FK-META", NULL, 0, NULL, NULL,
                       "run `fortknox install --app-role ROLE` with the application's role",
                       "the install record names the application role %s, which does not "
                       "exist: its privileges cannot be checked",
                       d->info.app_role);
    if (!PQgetisnull(res, 0, 1))
        fk__report_add(d->report, FK_SEV_ERROR, "FK-META", NULL, 0, NULL, NULL,
                       "find out which table is the audit log and correct the install record",
                       "the audit chain's trigger is on %s, but the install record names %s "
                       "as the audit table",
                       PQgetvalue(res, 0, 1), d->info.audit_q);
    /* the override role is granted, never logged in as (install: NOLOGIN) */
    if (!PQgetisnull(res, 0, 2))
        fk__report_add(d->report, FK_SEV_ERROR, "FK-META", NULL, 0, NULL, NULL,
                       "run `fortknox install` again as a role with CREATEROLE, or ALTER ROLE "
                       "... NOLOGIN NOSUPERUSER",
                       "the override role %s %s", role, PQgetvalue(res, 0, 2));
    PQclear(res);
    return FK_OK;
}

/* ------------------------------------------------------------- functions */

/* A function as the library installs it. */
typedef struct fn_spec {
    char *name;
    char *src;    /* prosrc: the text between $f$ and $f$ */
    int secdef;   /* SECURITY DEFINER */
    char *config; /* "search_path=pg_catalog, pg_temp", "" when none */
    char *lang;
    int seen;
} fn_spec;

typedef struct fn_specs {
    fn_spec *v;
    size_t n, cap;
} fn_specs;

static void fn_specs_free(fn_specs *s)
{
    for (size_t i = 0; i < s->n; i++) {
        fk__xfree(s->v[i].name);
        fk__xfree(s->v[i].src);
        fk__xfree(s->v[i].config);
        fk__xfree(s->v[i].lang);
    }
    fk__xfree(s->v);
}

static char *span(const char *a, const char *b)
{
    return fk__strndup(a, (size_t)(b - a));
}

/* The word after key in head[0..len), up to a space. */
static char *word_after(const char *head, size_t len, const char *key)
{
    const char *end = head + len, *k = memmem(head, len, key, strlen(key));
    if (!k)
        return fk__strdup("");
    const char *a = k + strlen(key), *b = a;
    while (b < end && *b != ' ')
        b++;
    return span(a, b);
}

/* Every CREATE OR REPLACE FUNCTION S.name(...) ... AS $f$body$f$ in sql:
 * the install's SQL is written that way (lib/sql/README.md), and
 * test_protections checks that a clean install matches. */
static int parse_functions(const char *sql, const char *S, fn_specs *out)
{
    char lead[200];
    snprintf(lead, sizeof lead, "CREATE OR REPLACE FUNCTION %s.", S);
    for (const char *p = strstr(sql, lead); p; p = strstr(p, lead)) {
        const char *name = p + strlen(lead), *paren = strchr(name, '(');
        const char *as = paren ? strstr(paren, " AS $f$") : NULL;
        const char *body = as ? as + 7 : NULL, *bend = body ? strstr(body, "$f$") : NULL;
        if (!bend)
            return -1;
        if (out->n == out->cap) {
            void *g = fk__grow(out->v, &out->cap, sizeof *out->v, 16);
            if (!g)
                return -1;
            out->v = g;
        }
        fn_spec *f = &out->v[out->n++];
        memset(f, 0, sizeof *f);
        size_t hlen = (size_t)(as - paren);
        const char *cfg = memmem(paren, hlen, " SET ", 5);
        f->name = span(name, paren);
        f->src = span(body, bend);
        f->secdef = memmem(paren, hlen, " SECURITY DEFINER", 17) != NULL;
        f->lang = word_after(paren, hlen, " LANGUAGE ");
        if (cfg) { /* "SET name = value" up to AS: proconfig holds "name=value" */
            const char *eq = memmem(cfg, (size_t)(as - cfg), " = ", 3);
            fk__buf c = FK__BUF_INIT;
            if (eq) {
                fk__buf_put(&c, cfg + 5, (size_t)(eq - cfg - 5));
                fk__buf_putc(&c, '=');
                fk__buf_put(&c, eq + 3, (size_t)(as - eq - 3));
            }
            f->config = fk__strdup(fk__buf_cstr(&c) ? fk__buf_cstr(&c) : "");
            fk__buf_dispose(&c);
        } else {
            f->config = fk__strdup("");
        }
        if (!f->name || !f->src || !f->lang || !f->config)
            return -1;
        p = bend;
    }
    return 0;
}

/* What this library build installs in this database: the embedded
 * templates filled in (sql_files.h), entity_doc generated from the
 * registry. A registry with a damaged type cannot generate entity_doc as
 * installed (its columns are unknown): then entity_doc is not compared
 * (*skip_entity_doc), the damage being an error of its own (FK-SCHEMA). */
static int expected_functions(fk__doctor *d, fn_specs *out, int *skip_entity_doc)
{
    fk__registry intact = *d->reg;
    fk__etype *types = fk__calloc(d->reg->ntypes + 1, sizeof *types);
    if (!types)
        return fk__oom(d->ctx);
    intact.types = types;
    intact.ntypes = 0;
    for (size_t i = 0; i < d->reg->ntypes; i++)
        if (!d->reg->types[i].damage)
            types[intact.ntypes++] = d->reg->types[i];
    *skip_entity_doc = intact.ntypes != d->reg->ntypes;
    fk__buf sql = FK__BUF_INIT;
    fk__audit_sql_functions(&sql, &intact, d->info.schema_q, d->info.audit_q);
    fk__sql_emit(&sql, fk__sql_guard, d->info.schema_q, d->info.audit_q);
    fk__sql_emit(&sql, fk__sql_ddl_guard, d->info.schema_q, d->info.audit_q);
    char role[64];
    fk__override_role_name(role, d->ctx->schema);
    fk__override_role_sql(&sql, d->info.schema_q, role);
    const char *text = fk__buf_cstr(&sql);
    int rc = text && parse_functions(text, d->info.schema_q, out) == 0
                 ? FK_OK
                 : fk__oom(d->ctx);
    fk__buf_dispose(&sql);
    fk__xfree(types);
    return rc;
}

static fn_spec *find_fn(fn_specs *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i].name, name) == 0)
            return &s->v[i];
    return NULL;
}

static void function_changed(fk__doctor *d, const char *ident, const char *why)
{
    fk__report_add(d->report, FK_SEV_ERROR, "FK-FUNCTION", NULL, 0, NULL, NULL,
                   "run `fortknox install` again (it puts back the library's functions), and "
                   "find out who changed it",
                   "%s.%s %s", d->ctx->schema, ident, why);
}

/* Every function of the fortknox schema is one this library installs, as
 * it installs it: its body (prosrc), SECURITY DEFINER, its settings
 * (search_path) and language. The guards and capture triggers are only as
 * good as the functions they call; a body replaced by CREATE OR REPLACE
 * (the owner or a superuser can) keeps every trigger's name and state. */
int fk__doctor_functions(fk__doctor *d)
{
    fn_specs want = {0};
    int skip_doc = 0;
    int rc = expected_functions(d, &want, &skip_doc);
    const char *p = d->ctx->schema;
    PGresult *res = NULL;
    if (rc == FK_OK)
        rc = fk__pg_query(d->ctx, &res,
                          "SELECT f.proname, f.proname || '(' ||"
                          " pg_get_function_identity_arguments(f.oid) || ')', f.prosrc,"
                          " f.prosecdef, coalesce(array_to_string(f.proconfig, ';'), ''),"
                          " l.lanname, f.proowner = n.nspowner, pg_get_userbyid(f.proowner)"
                          " FROM pg_proc f JOIN pg_namespace n ON n.oid ="
                          " f.pronamespace JOIN pg_language l ON l.oid = f.prolang WHERE"
                          " n.nspname = $1 ORDER BY 1, 2",
                          1, &p, "reading the library's functions");
    for (int r = 0; rc == FK_OK && r < PQntuples(res); r++) {
        const char *name = PQgetvalue(res, r, 0), *ident = PQgetvalue(res, r, 1);
        fn_spec *f = find_fn(&want, name);
        if (!f) {
            if (!(skip_doc && strcmp(name, "entity_doc") == 0))
                function_changed(d, ident, "is not a function libfortknox installs: whoever "
                                           "created it could have the library's triggers or "
                                           "functions call it");
            continue;
        }
        if (f->seen++) {
            function_changed(d, ident, "overloads a function of libfortknox");
            continue;
        }
        if (skip_doc && strcmp(name, "entity_doc") == 0)
            continue;
        if (strcmp(PQgetvalue(res, r, 2), f->src) != 0)
            function_changed(d, ident, "has another body than the one this library installs: it "
                                       "was replaced (CREATE OR REPLACE), or installed by another "
                                       "version or for another registry");
        else if ((PQgetvalue(res, r, 3)[0] == 't') != f->secdef)
            function_changed(d, ident, f->secdef ? "is no longer SECURITY DEFINER"
                                                 : "was made SECURITY DEFINER");
        else if (strcmp(PQgetvalue(res, r, 4), f->config) != 0)
            function_changed(d, ident, "has other settings (SET search_path ...) than installed");
        else if (strcmp(PQgetvalue(res, r, 5), f->lang) != 0)
            function_changed(d, ident, "is in another language than installed");
        if (PQgetvalue(res, r, 6)[0] != 't') { /* whoever owns it can replace it */
            char why[300];
            snprintf(why, sizeof why, "is owned by %s, not by the owner of the schema: that role "
                                      "can replace it",
                     PQgetvalue(res, r, 7));
            function_changed(d, ident, why);
        }
    }
    for (size_t i = 0; rc == FK_OK && i < want.n; i++)
        if (!want.v[i].seen && !(skip_doc && strcmp(want.v[i].name, "entity_doc") == 0))
            function_changed(d, want.v[i].name, "is missing");
    PQclear(res);
    fn_specs_free(&want);
    return rc;
}

/* The DDL guard: each event trigger present, ENABLE ALWAYS, calling its own
 * function in pg_catalog, and that function as this library build installs
 * it (ddl_guard_events--1.sql): a superuser's CREATE OR REPLACE FUNCTION
 * pg_catalog.fortknox_ddl_start() ... BEGIN END switches the guard off
 * without touching the trigger. PostgreSQL fires no event trigger for ALTER
 * or DROP EVENT TRIGGER, so this is where any of it shows. */
int fk__doctor_ddl_guard(fk__doctor *d)
{
    static const char *const names[] = {FK__EVT_DDL_START, FK__EVT_SQL_DROP, FK__EVT_DDL_END,
                                        FK__EVT_TABLE_REWRITE};
    fn_specs want = {0};
    fk__buf sql = FK__BUF_INIT;
    fk__sql_emit(&sql, fk__sql_ddl_guard_events, d->info.schema_q, d->info.audit_q);
    int rc = fk__buf_cstr(&sql) && parse_functions(fk__buf_cstr(&sql), "pg_catalog", &want) == 0
                 ? FK_OK
                 : fk__oom(d->ctx);
    fk__buf_dispose(&sql);
    for (size_t i = 0; rc == FK_OK && i < sizeof names / sizeof names[0]; i++) {
        PGresult *res;
        const char *p = names[i];
        rc = fk__pg_query(d->ctx, &res,
                          "SELECT e.evtenabled, e.evtfoid = ('pg_catalog.' || e.evtname ||"
                          " '()')::regprocedure, f.prosrc, f.prosecdef,"
                          " coalesce(array_to_string(f.proconfig, ';'), '') FROM pg_event_trigger"
                          " e JOIN pg_proc f ON f.oid = e.evtfoid WHERE e.evtname = $1",
                          1, &p, "checking the DDL guard");
        if (rc)
            break;
        const fn_spec *f = find_fn(&want, names[i]);
        const char *why = NULL;
        if (PQntuples(res) != 1)
            why = "is missing (installed without a superuser, or dropped)";
        else if (PQgetvalue(res, 0, 1)[0] != 't')
            why = "calls another function than the library's";
        else if (PQgetvalue(res, 0, 0)[0] == 'D')
            why = "is disabled";
        else if (PQgetvalue(res, 0, 0)[0] != 'A')
            why = "is not ENABLE ALWAYS (session_replication_role switches it off)";
        else if (!f || strcmp(PQgetvalue(res, 0, 2), f->src) != 0 ||
                 (PQgetvalue(res, 0, 3)[0] == 't') != f->secdef ||
                 strcmp(PQgetvalue(res, 0, 4), f->config) != 0)
            why = "calls a function whose body or settings are not what this library installs "
                  "(replaced with CREATE OR REPLACE FUNCTION)";
        PQclear(res);
        if (why)
            fk__report_add(d->report, FK_SEV_ERROR, "FK-NO-DDL-GUARD", NULL, 0, NULL, NULL,
                           "run `fortknox install` as a PostgreSQL superuser, and find out who "
                           "changed it",
                           "event trigger %s %s: DROP, RENAME and retyping of registered tables "
                           "and columns, changes to fortknox's triggers and functions and "
                           "CREATE RULE are not blocked or recorded",
                           names[i], why);
    }
    fn_specs_free(&want);
    return rc;
}
