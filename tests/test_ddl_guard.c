/* Layer 1 against whatever speaks to the database: the triggers fire in
 * every session_replication_role, and the DDL guard (event triggers)
 * refuses each DDL form that would lose, move, retype or unguard what
 * fortknox protects, unless the transaction carries the override; then the
 * DDL proceeds and an audit row records it. Table-driven, against a real
 * server, each case on a fresh seeded database installed in capture mode. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <fortknox.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fkt.h"
#include "sql_names.h"

static fkt_pg *pg;

#define OVERRIDE "SELECT fortknox.allow('ddl'); "

/* The SQLSTATE sql fails with, "" when it succeeds (malloc'd). */
static char *sqlstate_of(const char *db, const char *sql)
{
    PGconn *c = PQconnectdb(db);
    if (PQstatus(c) != CONNECTION_OK)
        fail_msg("connect: %s", PQerrorMessage(c));
    PQsetNoticeProcessor(c, NULL, NULL);
    PGresult *r = PQexec(c, sql);
    const char *st = PQresultStatus(r) == PGRES_FATAL_ERROR
                         ? PQresultErrorField(r, PG_DIAG_SQLSTATE)
                         : "";
    char *out = strdup(st ? st : "?");
    PQclear(r);
    PQfinish(c);
    return out;
}

static char *q1(const char *db, const char *sql)
{
    char *v = fkt_pg_query1(db, sql);
    if (!v)
        fail_msg("query failed: %s", sql);
    return v;
}

/* A seeded database installed in capture mode (as the harness's superuser:
 * with the DDL guard). */
static char *installed_db(void)
{
    return fkt_installed_db(pg, 1, NULL);
}

/* Everything a refused DDL must leave as it was: relations, columns,
 * triggers (state, function, WHEN), the library's functions, rules,
 * inheritance, schemas, the data of the design table rewritten in one case,
 * and the audit log's length. */
static const char probe_sql[] =
    "SELECT md5(string_agg(x, '|' ORDER BY x)) FROM ("
    " SELECT concat(c.oid::regclass, c.relkind, c.relowner, c.relrowsecurity, c.relispartition,"
    "  c.relacl) FROM pg_class c"
    "  WHERE c.relnamespace::regnamespace::text IN ('app', 'fortknox', 'attic')"
    " UNION ALL SELECT concat(a.attrelid::regclass, a.attname, format_type(a.atttypid,"
    "  a.atttypmod)) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
    "  WHERE c.relnamespace::regnamespace::text IN ('app', 'fortknox') AND a.attnum > 0"
    " UNION ALL SELECT concat(tgrelid::regclass, tgname, tgenabled, tgfoid, tgqual)"
    "  FROM pg_trigger"
    " UNION ALL SELECT concat(p.oid::regprocedure, md5(p.prosrc), p.proowner, p.proacl)"
    "  FROM pg_proc p WHERE p.pronamespace::regnamespace::text = 'fortknox'"
    " UNION ALL SELECT concat(ev_class::regclass, rulename) FROM pg_rewrite"
    "  WHERE rulename <> '_RETURN' AND ev_class > 16384"
    " UNION ALL SELECT concat(inhrelid::regclass, inhparent::regclass) FROM pg_inherits"
    " UNION ALL SELECT nspname FROM pg_namespace"
    " UNION ALL SELECT (SELECT md5(string_agg(expression_json::text, ',' ORDER BY id))"
    "  FROM app.cohort_definitions)"
    " UNION ALL SELECT (SELECT count(*) FROM fortknox.audit_log)::text) s(x)";

#define DDL_ROWS "SELECT count(*) FROM fortknox.audit_log WHERE action = 'ddl'"

typedef struct ddl_case {
    const char *name;
    const char *setup; /* run under the override first, or NULL */
    const char *ddl;   /* refused without the override */
    const char *done;  /* 't' once the DDL took effect */
    int recorded;      /* with the override, an audit row records it (0: the log is gone) */
} ddl_case;

/* Laravel 8's migrate:fresh / db:wipe (PostgresBuilder::dropAllTables):
 * every table of the schema in one statement. */
#define MIGRATE_FRESH                                                                             \
    "DO $m$ BEGIN SET LOCAL search_path = app; EXECUTE (SELECT 'drop table \"' ||"                \
    " string_agg(tablename, '\",\"') || '\" cascade' FROM pg_catalog.pg_tables WHERE schemaname"  \
    " IN ('app')); END $m$"

static const ddl_case cases[] = {
    {"DROP TABLE of a child table", NULL, "DROP TABLE app.concept_set_items",
     "SELECT to_regclass('app.concept_set_items') IS NULL", 1},
    {"DROP TABLE of an entity table, CASCADE", NULL, "DROP TABLE app.concept_sets CASCADE",
     "SELECT to_regclass('app.concept_sets') IS NULL", 1},
    {"Laravel migrate:fresh / db:wipe", NULL, MIGRATE_FRESH,
     "SELECT to_regclass('app.cohort_definitions') IS NULL", 1},
    {"DROP SCHEMA app CASCADE", NULL, "DROP SCHEMA app CASCADE",
     "SELECT to_regnamespace('app') IS NULL", 1},
    {"DROP SCHEMA fortknox CASCADE", NULL, "DROP SCHEMA fortknox CASCADE",
     "SELECT to_regnamespace('fortknox') IS NULL", 0},
    {"DROP TABLE of the audit log", NULL, "DROP TABLE fortknox.audit_log CASCADE",
     "SELECT to_regclass('fortknox.audit_log') IS NULL", 0},
    {"DROP OWNED BY the tables' owner", "CREATE ROLE fkt_owner; ALTER TABLE app.heor_results OWNER TO fkt_owner",
     "DROP OWNED BY fkt_owner", "SELECT to_regclass('app.heor_results') IS NULL", 1},
    {"RENAME a table", NULL, "ALTER TABLE app.cohort_definitions RENAME TO cohorts",
     "SELECT to_regclass('app.cohorts') IS NOT NULL", 1},
    {"SET SCHEMA of a table", "CREATE SCHEMA attic",
     "ALTER TABLE app.cohort_definitions SET SCHEMA attic",
     "SELECT to_regclass('attic.cohort_definitions') IS NOT NULL", 1},
    {"RENAME the application's schema", NULL, "ALTER SCHEMA app RENAME TO app_old",
     "SELECT to_regnamespace('app_old') IS NOT NULL", 1},
    {"SET UNLOGGED (a rewrite; a crash empties the table)",
     /* an unlogged table may not reference a logged one */
     "DO $d$ DECLARE c text; BEGIN FOR c IN SELECT conname FROM pg_constraint WHERE conrelid = "
     "'app.sccs_analyses'::regclass AND contype = 'f' LOOP EXECUTE format('ALTER TABLE "
     "app.sccs_analyses DROP CONSTRAINT %I', c); END LOOP; END $d$",
     "ALTER TABLE app.sccs_analyses SET UNLOGGED",
     "SELECT relpersistence = 'u' FROM pg_class WHERE oid = 'app.sccs_analyses'::regclass", 1},
    {"RENAME the library's schema", NULL, "ALTER SCHEMA fortknox RENAME TO fk_old",
     "SELECT to_regnamespace('fk_old') IS NOT NULL", 0},
    {"DROP COLUMN", NULL, "ALTER TABLE app.cohort_definitions DROP COLUMN expression_json",
     "SELECT NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = "
     "'app.cohort_definitions'::regclass AND attname = 'expression_json')",
     1},
    {"DROP COLUMN of a child table", NULL,
     "ALTER TABLE app.concept_set_items DROP COLUMN concept_set_id CASCADE",
     "SELECT NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = "
     "'app.concept_set_items'::regclass AND attname = 'concept_set_id')",
     1},
    {"RENAME COLUMN", NULL, "ALTER TABLE app.cohort_definitions RENAME COLUMN name TO title",
     "SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = "
     "'app.cohort_definitions'::regclass AND attname = 'title')",
     1},
    {"ALTER COLUMN TYPE", NULL,
     "ALTER TABLE app.cohort_definitions ALTER COLUMN expression_json TYPE text",
     "SELECT format_type(atttypid, atttypmod) = 'text' FROM pg_attribute WHERE attrelid = "
     "'app.cohort_definitions'::regclass AND attname = 'expression_json'",
     1},
    {"ALTER COLUMN TYPE to the same type USING a constant", NULL,
     "ALTER TABLE app.cohort_definitions ALTER COLUMN expression_json TYPE jsonb USING '{}'",
     "SELECT bool_and(expression_json = '{}') FROM app.cohort_definitions", 1},
    {"DISABLE TRIGGER ALL", NULL, "ALTER TABLE app.concept_set_items DISABLE TRIGGER ALL",
     "SELECT bool_and(tgenabled = 'D') FROM pg_trigger WHERE tgrelid = "
     "'app.concept_set_items'::regclass AND NOT tgisinternal",
     1},
    {"DISABLE TRIGGER USER", NULL, "ALTER TABLE app.cohort_definitions DISABLE TRIGGER USER",
     "SELECT bool_and(tgenabled = 'D') FROM pg_trigger WHERE tgrelid = "
     "'app.cohort_definitions'::regclass AND NOT tgisinternal",
     1},
    {"DISABLE one guard", NULL,
     "ALTER TABLE app.cohort_definitions DISABLE TRIGGER \"" FK__TRG_GUARD_DELETE "\"",
     "SELECT tgenabled = 'D' FROM pg_trigger WHERE tgname = '" FK__TRG_GUARD_DELETE
     "' AND tgrelid = 'app.cohort_definitions'::regclass",
     1},
    {"ENABLE REPLICA TRIGGER", NULL,
     "ALTER TABLE app.cohort_definitions ENABLE REPLICA TRIGGER \"" FK__TRG_GUARD_DELETE "\"",
     "SELECT tgenabled = 'R' FROM pg_trigger WHERE tgname = '" FK__TRG_GUARD_DELETE
     "' AND tgrelid = 'app.cohort_definitions'::regclass",
     1},
    {"ENABLE (origin) TRIGGER", NULL,
     "ALTER TABLE app.concept_sets ENABLE TRIGGER \"" FK__TRG_CAPTURE "\"",
     "SELECT tgenabled = 'O' FROM pg_trigger WHERE tgname = '" FK__TRG_CAPTURE
     "' AND tgrelid = 'app.concept_sets'::regclass",
     1},
    {"DROP TRIGGER of a child's capture", NULL,
     "DROP TRIGGER \"" FK__TRG_CAPTURE "\" ON app.concept_set_items",
     "SELECT NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = '" FK__TRG_CAPTURE
     "' AND tgrelid = 'app.concept_set_items'::regclass)",
     1},
    {"CREATE OR REPLACE TRIGGER with a WHEN", NULL,
     "CREATE OR REPLACE TRIGGER \"" FK__TRG_GUARD_DELETE "\" BEFORE DELETE ON "
     "app.cohort_definitions FOR EACH ROW WHEN (false) EXECUTE FUNCTION fortknox.guard_delete('id')",
     "SELECT tgqual IS NOT NULL FROM pg_trigger WHERE tgname = '" FK__TRG_GUARD_DELETE
     "' AND tgrelid = 'app.cohort_definitions'::regclass",
     1},
    /* the key guard's WHEN is all that tells it which rows to check: a
     * replacement that changes only the WHEN is a change (the set-up
     * replaces it as it is, leaving it ENABLE, as CREATE OR REPLACE does:
     * the case's replacement then differs in its WHEN alone) */
    {"CREATE OR REPLACE TRIGGER changing only the key guard's WHEN",
     "CREATE OR REPLACE TRIGGER \"" FK__TRG_GUARD_KEY "\" AFTER UPDATE ON app.cohort_definitions "
     "FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION "
     "fortknox.guard_delete('id')",
     "CREATE OR REPLACE TRIGGER \"" FK__TRG_GUARD_KEY "\" AFTER UPDATE ON app.cohort_definitions "
     "FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id AND false) EXECUTE FUNCTION "
     "fortknox.guard_delete('id')",
     "SELECT pg_get_triggerdef(oid) LIKE '%AND false%' FROM pg_trigger WHERE tgname = '"
     FK__TRG_GUARD_KEY "' AND tgrelid = 'app.cohort_definitions'::regclass",
     1},
    {"ALTER TRIGGER RENAME", NULL,
     "ALTER TRIGGER \"" FK__TRG_GUARD_DELETE "\" ON app.cohort_definitions RENAME TO x",
     "SELECT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'x')", 1},
    {"DISABLE the audit log's immutability", NULL,
     "ALTER TABLE fortknox.audit_log DISABLE TRIGGER " FK__TRG_IMMUTABLE,
     "SELECT tgenabled = 'D' FROM pg_trigger WHERE tgname = '" FK__TRG_IMMUTABLE "'", 1},
    {"CREATE OR REPLACE FUNCTION in the library's schema", NULL,
     "CREATE OR REPLACE FUNCTION fortknox.quiet() RETURNS boolean LANGUAGE sql STABLE AS "
     "'SELECT true'",
     "SELECT prosrc = 'SELECT true' FROM pg_proc WHERE oid = 'fortknox.quiet'::regproc", 1},
    {"a new function in the library's schema", NULL,
     "CREATE FUNCTION fortknox.extra() RETURNS int LANGUAGE sql AS 'SELECT 1'",
     "SELECT to_regproc('fortknox.extra') IS NOT NULL", 1},
    {"ALTER FUNCTION SET SCHEMA", NULL,
     "ALTER FUNCTION fortknox.quiet() SET SCHEMA public",
     "SELECT to_regproc('public.quiet') IS NOT NULL", 1},
    {"DROP FUNCTION CASCADE", NULL, "DROP FUNCTION fortknox.guard_delete() CASCADE",
     "SELECT to_regproc('fortknox.guard_delete') IS NULL", 1},
    {"GRANT on the audit log", NULL, "GRANT UPDATE, DELETE ON fortknox.audit_log TO PUBLIC",
     "SELECT has_table_privilege('public', 'fortknox.audit_log', 'UPDATE')", 1},
    {"CREATE RULE", NULL,
     "CREATE RULE keep AS ON DELETE TO app.cohort_definitions DO INSTEAD NOTHING",
     "SELECT EXISTS (SELECT 1 FROM pg_rewrite WHERE rulename = 'keep')", 1},
    {"OWNER TO", "CREATE ROLE fkt_other", "ALTER TABLE app.cohort_definitions OWNER TO fkt_other",
     "SELECT relowner = 'fkt_other'::regrole FROM pg_class WHERE oid = "
     "'app.cohort_definitions'::regclass",
     1},
    {"INHERIT", "CREATE TABLE app.fkt_parent ()",
     "ALTER TABLE app.cohort_definitions INHERIT app.fkt_parent",
     "SELECT EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = "
     "'app.cohort_definitions'::regclass)",
     1},
    {"ATTACH PARTITION",
     "CREATE TABLE app.fkt_parts (LIKE app.concept_set_items) PARTITION BY RANGE (id)",
     "ALTER TABLE app.fkt_parts ATTACH PARTITION app.concept_set_items FOR VALUES FROM "
     "(MINVALUE) TO (MAXVALUE)",
     "SELECT relispartition FROM pg_class WHERE oid = 'app.concept_set_items'::regclass", 1},
    {"ENABLE ROW LEVEL SECURITY", NULL,
     "ALTER TABLE app.cohort_definitions ENABLE ROW LEVEL SECURITY",
     "SELECT relrowsecurity FROM pg_class WHERE oid = 'app.cohort_definitions'::regclass", 1},
    /* a table made a child of a guarded one: its rows are read as the
     * guarded table's, and none of its triggers fire for them */
    {"CREATE TABLE ... INHERITS a guarded table", NULL,
     "CREATE TABLE app.fkt_items_x () INHERITS (app.concept_set_items)",
     "SELECT to_regclass('app.fkt_items_x') IS NOT NULL", 1},
    {"ALTER TABLE ... INHERIT a guarded table",
     "CREATE TABLE app.fkt_items_y (LIKE app.concept_set_items)",
     "ALTER TABLE app.fkt_items_y INHERIT app.concept_set_items",
     "SELECT EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = 'app.fkt_items_y'::regclass)",
     1},
    {"ALTER TABLE ... NO INHERIT a guarded table (its rows leave the entity)",
     "CREATE TABLE app.fkt_items_z () INHERITS (app.concept_set_items)",
     "ALTER TABLE app.fkt_items_z NO INHERIT app.concept_set_items",
     "SELECT NOT EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = 'app.fkt_items_z'::regclass)",
     1},
};
#define NCASES (sizeof cases / sizeof cases[0])

static void run_case(const ddl_case *c)
{
    char *db = installed_db();
    char sql[2048];
    if (c->setup) {
        snprintf(sql, sizeof sql, "BEGIN; " OVERRIDE "%s; COMMIT", c->setup);
        if (fkt_pg_exec(db, sql) != 0)
            fail_msg("%s: setup failed", c->name);
    }
    char *before = q1(db, probe_sql), *rows0 = q1(db, DDL_ROWS);

    /* without the override: refused (FK001), nothing changed */
    char *st = sqlstate_of(db, c->ddl);
    if (strcmp(st, FK__GUARD_SQLSTATE) != 0)
        fail_msg("%s: without the override: SQLSTATE '%s', expected " FK__GUARD_SQLSTATE,
                 c->name, st);
    free(st);
    char *after = q1(db, probe_sql), *done = q1(db, c->done);
    if (strcmp(before, after) != 0)
        fail_msg("%s: refused, yet something changed", c->name);
    assert_string_equal(done, "f");
    free(after);
    free(done);

    /* with it: proceeds, and is recorded */
    snprintf(sql, sizeof sql, "BEGIN; " OVERRIDE "%s; COMMIT", c->ddl);
    st = sqlstate_of(db, sql);
    if (st[0])
        fail_msg("%s: with the override: SQLSTATE %s", c->name, st);
    free(st);
    done = q1(db, c->done);
    if (strcmp(done, "t") != 0)
        fail_msg("%s: with the override the DDL did not take effect", c->name);
    free(done);
    if (c->recorded) {
        char *rows1 = q1(db, DDL_ROWS);
        if (atoll(rows1) <= atoll(rows0))
            fail_msg("%s: with the override no audit row records it", c->name);
        free(rows1);
        /* the statement and who ran it */
        char *stmt = q1(db, "SELECT new_json->>'statement' || '|' || (new_json->>'session_user'"
                            " = session_user) FROM fortknox.audit_log WHERE action = 'ddl'"
                            " ORDER BY id DESC LIMIT 1");
        if (!strstr(stmt, "fortknox.allow('ddl')") || !strstr(stmt, "|true"))
            fail_msg("%s: the audit row lacks the statement or the actor: %s", c->name, stmt);
        free(stmt);
        fkt_seal(db);
        char *chain = q1(db, "SELECT bool_and(row_hash = fortknox.row_hash(a)) FROM "
                             "fortknox.audit_log a");
        assert_string_equal(chain, "t");
        free(chain);
    }
    free(before);
    free(rows0);
    free(db);
}

static void each_ddl_form(void **state)
{
    (void)state;
    for (size_t i = 0; i < NCASES; i++)
        run_case(&cases[i]);
}

/* What a migration of unrelated tables does passes untouched and unrecorded,
 * and so does a migration adding a column to a design table. */
static void unrelated_ddl_passes_unrecorded(void **state)
{
    (void)state;
    char *db = installed_db();
    char *rows0 = q1(db, DDL_ROWS);
    static const char *const ok[] = {
        "CREATE TABLE app.fkt_new (id bigint PRIMARY KEY, note text)",
        "ALTER TABLE app.fkt_new ADD COLUMN more int, ALTER COLUMN note TYPE varchar(10)",
        "ALTER TABLE app.fkt_new RENAME TO fkt_newer",
        "CREATE INDEX fkt_idx ON app.cohort_definitions (name)",
        "ALTER TABLE app.cohort_definitions ADD COLUMN fkt_extra text",
        "CREATE TRIGGER fkt_user AFTER UPDATE ON app.cohort_definitions FOR EACH ROW EXECUTE "
        "FUNCTION suppress_redundant_updates_trigger()",
        "DROP TRIGGER fkt_user ON app.cohort_definitions",
        "DROP TABLE app.fkt_newer",
        "DROP INDEX app.fkt_idx",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char *st = sqlstate_of(db, ok[i]);
        if (st[0])
            fail_msg("%s: refused (%s)", ok[i], st);
        free(st);
    }
    char *rows1 = q1(db, DDL_ROWS);
    assert_string_equal(rows0, rows1);
    free(rows0);
    free(rows1);
    free(db);
}

/* migrate:fresh's refusal says what would be lost and how to override. */
static void migrate_fresh_refusal_says_what_is_at_stake(void **state)
{
    (void)state;
    char *db = installed_db();
    /* the statement as Laravel sends it, literally */
    char *stmt = q1(db, "SELECT 'drop table \"' || string_agg(tablename, '\",\"') || '\" cascade'"
                        " FROM pg_catalog.pg_tables WHERE schemaname IN ('app')");
    PGconn *c = PQconnectdb(db);
    PQsetNoticeProcessor(c, NULL, NULL);
    PQclear(PQexec(c, "SET search_path = app"));
    PGresult *r = PQexec(c, stmt);
    free(stmt);
    assert_int_equal(PQresultStatus(r), PGRES_FATAL_ERROR);
    const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
    const char *hint = PQresultErrorField(r, PG_DIAG_MESSAGE_HINT);
    assert_non_null(strstr(msg, "it would destroy 18 design entities in 15 registered tables"));
    assert_non_null(strstr(msg, "app.cohort_definitions (5 cohort_definition)"));
    assert_non_null(strstr(msg, "app.concept_set_items (9 item rows)"));
    assert_non_null(strstr(msg, "migrate:fresh"));
    assert_non_null(strstr(msg, "allow('ddl')"));
    assert_non_null(strstr(hint, "DDL guard"));
    PQclear(r);
    PQfinish(c);
    free(db);
}

/* Item 1: the triggers fire under session_replication_role = replica. */
static void replica_role_does_not_switch_triggers_off(void **state)
{
    (void)state;
    static const struct {
        const char *sql;
        const char *sqlstate; /* expected: refused, or "" */
        const char *proof;    /* 't' when captured / untouched */
    } rcases[] = {
        {"DELETE FROM app.cohort_definitions WHERE id = 1001", FK__GUARD_SQLSTATE,
         "SELECT count(*) = 1 FROM app.cohort_definitions WHERE id = 1001"},
        {"UPDATE app.concept_sets SET description = 'fkt-replica' WHERE id = 1001", "",
         "SELECT count(*) = 1 FROM fortknox.audit_log WHERE entity_type = 'concept_set' AND "
         "entity_id = 1001 AND new_json::text LIKE '%fkt-replica%'"},
        {"DELETE FROM app.concept_set_items WHERE id = (SELECT min(id) FROM "
         "app.concept_set_items)",
         "",
         "SELECT count(*) = 1 FROM fortknox.audit_log WHERE entity_type = 'concept_set' AND "
         "action = 'updated' AND id = (SELECT max(id) FROM fortknox.audit_log)"},
        {"UPDATE fortknox.audit_log SET action = 'x' WHERE id = (SELECT min(id) FROM "
         "fortknox.audit_log)",
         FK__GUARD_SQLSTATE,
         "SELECT NOT EXISTS (SELECT 1 FROM fortknox.audit_log WHERE action = 'x')"},
        {"TRUNCATE fortknox.audit_log", FK__GUARD_SQLSTATE,
         "SELECT count(*) > 0 FROM fortknox.audit_log"},
        {"UPDATE fortknox.audit_head SET last_id = 0", FK__GUARD_SQLSTATE,
         "SELECT last_id > 0 FROM fortknox.audit_head"},
    };
    for (size_t i = 0; i < sizeof rcases / sizeof rcases[0]; i++) {
        char *db = installed_db();
        /* something in the log for the audit-log cases */
        assert_int_equal(fkt_pg_exec(db, "UPDATE app.cohort_definitions SET description = "
                                         "'fkt' WHERE id = 1002"),
                         0);
        fkt_seal(db); /* the head names it */
        char sql[1024];
        snprintf(sql, sizeof sql, "SET session_replication_role = replica; %s", rcases[i].sql);
        char *st = sqlstate_of(db, sql);
        if (strcmp(st, rcases[i].sqlstate) != 0)
            fail_msg("%s: SQLSTATE '%s', expected '%s'", rcases[i].sql, st, rcases[i].sqlstate);
        free(st);
        char *proof = q1(db, rcases[i].proof);
        if (strcmp(proof, "t") != 0)
            fail_msg("%s under replica: not guarded or not captured", rcases[i].sql);
        free(proof);
        free(db);
    }
}

/* Every trigger of the library is ENABLE ALWAYS after an install. */
static void every_library_trigger_is_always(void **state)
{
    (void)state;
    char *db = installed_db();
    char *n = q1(db, "SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal AND tgenabled <> 'A'"
                     " AND (tgname LIKE 'FK\\_%' OR tgname LIKE 'fortknox\\_%')");
    assert_string_equal(n, "0");
    free(n);
    n = q1(db, "SELECT count(*) FROM pg_event_trigger WHERE evtenabled = 'A' AND evtname IN ('"
               FK__EVT_DDL_START "', '" FK__EVT_SQL_DROP "', '" FK__EVT_DDL_END "', '"
               FK__EVT_TABLE_REWRITE "')");
    assert_string_equal(n, "4");
    free(n);
    free(db);
}

static int has_code(const fk_report *r, const char *code)
{
    int n = 0;
    for (size_t i = 0; r && i < fk_report_item_count(r); i++)
        n += strcmp(fk_report_item_at(r, i)->code, code) == 0;
    return n;
}

/* Installed without a superuser: everything else is, the report says what
 * is missing, doctor reports each missing event trigger as an error; a
 * superuser's install puts them back; one disabled is an error too. */
static void without_superuser_install_says_and_doctor_fails(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    assert_non_null(db);
    assert_int_equal(fkt_pg_exec(db, "DO $r$ BEGIN CREATE ROLE fkt_installer LOGIN; EXCEPTION "
                                     "WHEN duplicate_object THEN NULL; END $r$"),
                     0);
    char *dbname = q1(db, "SELECT current_database()");
    char sql[600];
    snprintf(sql, sizeof sql,
             "GRANT CREATE ON DATABASE \"%s\" TO fkt_installer; GRANT USAGE, CREATE ON SCHEMA "
             "app TO fkt_installer; DO $o$ DECLARE t text; BEGIN FOR t IN SELECT tablename "
             "FROM pg_tables WHERE schemaname = 'app' LOOP EXECUTE format('ALTER TABLE app.%%I "
             "OWNER TO fkt_installer', t); END LOOP; END $o$",
             dbname);
    assert_int_equal(fkt_pg_exec(db, sql), 0);
    char conn[1200];
    snprintf(conn, sizeof conn, "%s user=fkt_installer", db);
    fk_ctx *ctx = NULL;
    if (fk_open(&ctx, conn, NULL) != FK_OK)
        fail_msg("fk_open: %s", fk_errmsg(NULL));
    fk_report *r = NULL;
    if (fk_install(&r, ctx, NULL) != FK_OK)
        fail_msg("fk_install: %s", fk_errmsg(ctx));
    assert_int_equal(has_code(r, "ddl_guard_missing"), 1);
    fk_report_free(r);
    /* the rest is there: a hard delete is refused */
    char *st = sqlstate_of(db, "DELETE FROM app.cohort_definitions WHERE id = 1001");
    assert_string_equal(st, FK__GUARD_SQLSTATE);
    free(st);
    assert_int_equal(fk_doctor(&r, ctx, NULL), FK_EVERIFY);
    assert_int_equal(has_code(r, "FK-NO-DDL-GUARD"), 4);
    fk_report_free(r);
    fk_close(ctx);

    /* a superuser's install adds it; doctor is content */
    if (fk_open(&ctx, db, NULL) != FK_OK)
        fail_msg("fk_open: %s", fk_errmsg(NULL));
    assert_int_equal(fk_install(&r, ctx, NULL), FK_OK);
    assert_int_equal(has_code(r, "ddl_guard_missing"), 0);
    fk_report_free(r);
    fk_doctor(&r, ctx, NULL);
    assert_int_equal(has_code(r, "FK-NO-DDL-GUARD"), 0);
    fk_report_free(r);
    /* disabled by a superuser (no event trigger fires for that): an error */
    assert_int_equal(fkt_pg_exec(db, "ALTER EVENT TRIGGER " FK__EVT_DDL_END " DISABLE"), 0);
    assert_int_equal(fk_doctor(&r, ctx, NULL), FK_EVERIFY);
    assert_int_equal(has_code(r, "FK-NO-DDL-GUARD"), 1);
    fk_report_free(r);
    assert_int_equal(fkt_pg_exec(db, "ALTER EVENT TRIGGER " FK__EVT_DDL_END " ENABLE REPLICA"),
                     0);
    fk_doctor(&r, ctx, NULL);
    assert_int_equal(has_code(r, "FK-NO-DDL-GUARD"), 1);
    fk_report_free(r);
    fk_close(ctx);
    free(dbname);
    free(db);
}

/* A key column retyped (integer to bigint, a common migration): PostgreSQL
 * refuses while the key triggers' WHEN names the column; the way
 * docs/recovery.md gives (the key triggers dropped under the override, the
 * column retyped, install run again) ends with the triggers back and doctor
 * content. */
static void a_key_column_is_retyped_as_the_docs_say(void **state)
{
    (void)state;
    char *db = installed_db();
    char *st = sqlstate_of(db, "BEGIN; " OVERRIDE "ALTER TABLE app.characterizations ALTER "
                               "COLUMN id TYPE integer; COMMIT");
    assert_string_equal(st, "0A000"); /* cannot alter type of a column used in a trigger */
    free(st);
    st = sqlstate_of(db, "BEGIN; " OVERRIDE "DROP TRIGGER \"" FK__TRG_GUARD_KEY "\" ON "
                         "app.characterizations; DROP TRIGGER \"" FK__TRG_CAPTURE_CHECK_KEY
                         "\" ON app.characterizations; ALTER TABLE app.characterizations ALTER "
                         "COLUMN id TYPE integer; COMMIT");
    assert_string_equal(st, "");
    free(st);
    fk_ctx *ctx = NULL;
    if (fk_open(&ctx, db, NULL) != FK_OK)
        fail_msg("fk_open: %s", fk_errmsg(NULL));
    fk_report *r = NULL;
    assert_int_equal(fk_doctor(&r, ctx, NULL), FK_EVERIFY);
    assert_int_equal(has_code(r, "FK-GUARD-MISSING"), 1);
    fk_report_free(r);
    fk_install_options o;
    fk_install_options_init(&o, FK_INSTALL_OPTIONS_VERSION);
    o.mode = FK_AUDIT_CAPTURE;
    assert_int_equal(fk_install(NULL, ctx, &o), FK_OK);
    char *n = q1(db, "SELECT count(*) FROM pg_trigger WHERE tgrelid = "
                     "'app.characterizations'::regclass AND tgname IN ('" FK__TRG_GUARD_KEY "', '"
                     FK__TRG_CAPTURE_CHECK_KEY "') AND tgqual IS NOT NULL");
    assert_string_equal(n, "2");
    free(n);
    int rc = fk_doctor(&r, ctx, NULL);
    for (size_t i = 0; rc != FK_OK && i < fk_report_item_count(r); i++)
        print_message("# %s %s\n", fk_report_item_at(r, i)->code, fk_report_item_at(r, i)->message);
    assert_int_equal(rc, FK_OK);
    fk_report_free(r);
    fk_close(ctx);
    free(db);
}

/* A reinstall that changes nothing records nothing; one that changes the
 * protections is one audit row. */
static void reinstall_is_quiet_or_one_row(void **state)
{
    (void)state;
    char *db = installed_db();
    char *rows0 = q1(db, DDL_ROWS);
    fk_ctx *ctx = NULL;
    if (fk_open(&ctx, db, NULL) != FK_OK)
        fail_msg("fk_open: %s", fk_errmsg(NULL));
    fk_install_options o;
    fk_install_options_init(&o, FK_INSTALL_OPTIONS_VERSION);
    o.mode = FK_AUDIT_CAPTURE;
    assert_int_equal(fk_install(NULL, ctx, &o), FK_OK);
    char *rows1 = q1(db, DDL_ROWS);
    assert_string_equal(rows0, rows1);
    o.mode = FK_AUDIT_APP;
    assert_int_equal(fk_install(NULL, ctx, &o), FK_OK);
    char *rows2 = q1(db, DDL_ROWS);
    assert_int_equal(atoll(rows2), atoll(rows1) + 1);
    fk_close(ctx);
    free(rows0);
    free(rows1);
    free(rows2);
    free(db);
}

int main(void)
{
    pg = fkt_pg_start_or_exit();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_library_trigger_is_always),
        cmocka_unit_test(replica_role_does_not_switch_triggers_off),
        cmocka_unit_test(each_ddl_form),
        cmocka_unit_test(unrelated_ddl_passes_unrecorded),
        cmocka_unit_test(migrate_fresh_refusal_says_what_is_at_stake),
        cmocka_unit_test(reinstall_is_quiet_or_one_row),
        cmocka_unit_test(a_key_column_is_retyped_as_the_docs_say),
        cmocka_unit_test(without_superuser_install_says_and_doctor_fails),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    fkt_pg_stop(pg);
    return rc;
}
