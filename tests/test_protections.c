/* doctor checks each protection for what it does, not its name (issue 15,
 * item 6): a table of damaged states, each made on a real server after a
 * capture-mode install with guards, an application role and an export; for
 * each, fk_doctor must return FK_EVERIFY with the finding (code and a
 * fragment of its message) and `fortknox doctor` must exit 1 naming the
 * code. A clean install, and changes the audit log explains, must give no
 * finding. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <fortknox.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fkt.h"
#include "fkt_doctor.h"

#define APP_ROLE "fkt_protections_app"

static fkt_pg *pg;

typedef struct dcase {
    const char *title;
    const char *damage;   /* SQL run as the superuser after install and export */
    int fixtures;         /* doctor --fixtures DIR */
    const char *code;     /* the finding */
    const char *says;     /* a fragment of its message */
} dcase;

#define CD "app.cohort_definitions"
#define CSI "app.concept_set_items"
#define DIFF_NAME "UPDATE app.cohort_definitions SET name = 'changed unseen' WHERE id = 1001"

/* How the damage is done now that the DDL guard refuses DDL on protected
 * tables and the library's schema and every library trigger is ENABLE
 * ALWAYS: SU(...) is a superuser who switched the DDL guard off first
 * (nothing refuses or records it: PostgreSQL fires no event trigger for
 * ALTER EVENT TRIGGER); FKT_BYPASSED(...) one who also switched the
 * library's triggers off for a change (fkt.h); OVERRIDE(...) the owner with
 * the DDL guard's override (recorded in the audit log, but the damaged state
 * stays: doctor must still report it). */
#define SU(sql) FKT_DDL_GUARD_BYPASSED(sql)
#define OVERRIDE(sql) "BEGIN; SELECT fortknox.allow('ddl'); " sql "; COMMIT"
/* an event trigger of the DDL guard as install made it, replaced by one
 * calling a function of no library (CREATE/DROP EVENT TRIGGER fire none) */
#define EVT_REPLACED(name, event)                                                                 \
    "CREATE FUNCTION public.evt() RETURNS event_trigger LANGUAGE plpgsql AS 'BEGIN END'; "        \
    "DROP EVENT TRIGGER " name "; CREATE EVENT TRIGGER " name " ON " event                        \
    " EXECUTE FUNCTION public.evt(); ALTER EVENT TRIGGER " name " ENABLE ALWAYS"

static const dcase cases[] = {
    {"guard set to REPLICA", SU("ALTER TABLE " CD " ENABLE REPLICA TRIGGER \"FK_guard_delete\""), 0,
     "FK-GUARD-DISABLED", "enabled only in replica sessions"},
    {"guard disabled", SU("ALTER TABLE " CD " DISABLE TRIGGER \"FK_guard_truncate\""), 0,
     "FK-GUARD-DISABLED", "FK_guard_truncate on \"app\".\"cohort_definitions\" is disabled"},
    {"guard disabled by the owner with the override (recorded)",
     OVERRIDE("ALTER TABLE " CD " DISABLE TRIGGER \"FK_guard_delete\""), 0,
     "FK-GUARD-DISABLED", "FK_guard_delete on \"app\".\"cohort_definitions\" is disabled"},
    {"guard set to ENABLE (origin only: session_replication_role = replica switches it off)",
     SU("ALTER TABLE " CD " ENABLE TRIGGER \"FK_guard_delete\""), 0, "FK-GUARD-DISABLED",
     "FK_guard_delete on \"app\".\"cohort_definitions\" is not ENABLE ALWAYS"},
    {"child's truncate guard disabled",
     SU("ALTER TABLE " CSI " DISABLE TRIGGER \"FK_guard_truncate\""), 0, "FK-GUARD-DISABLED",
     "\"concept_set_items\" is disabled"},
    {"capture set to REPLICA", SU("ALTER TABLE " CD " ENABLE REPLICA TRIGGER \"FK_capture\""), 0,
     "FK-AUDIT-TRIGGER", "FK_capture on \"app\".\"cohort_definitions\" is enabled only in replica"},
    {"audit immutability disabled",
     SU("ALTER TABLE fortknox.audit_log DISABLE TRIGGER fortknox_immutable"), 0,
     "FK-AUDIT-TRIGGER", "fortknox_immutable on \"fortknox\".\"audit_log\" is disabled"},
    {"child capture trigger dropped", SU("DROP TRIGGER \"FK_capture\" ON " CSI), 0,
     "FK-AUDIT-TRIGGER", "FK_capture on \"app\".\"concept_set_items\" is missing"},
    {"child capture trigger disabled",
     SU("ALTER TABLE " CSI " DISABLE TRIGGER \"FK_capture\""), 0, "FK-AUDIT-TRIGGER",
     "FK_capture on \"app\".\"concept_set_items\" is disabled"},
    {"capture's commit trigger disabled",
     SU("ALTER TABLE fortknox.pending DISABLE TRIGGER fortknox_flush"), 0, "FK-AUDIT-TRIGGER",
     "fortknox_flush on \"fortknox\".pending is disabled"},
    {"capture's commit trigger dropped", SU("DROP TRIGGER fortknox_flush ON fortknox.pending"), 0,
     "FK-AUDIT-TRIGGER", "fortknox_flush on \"fortknox\".pending is missing"},
    {"trigger swallowing captured changes",
     SU("CREATE FUNCTION public.swallow() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN "
        "NULL; END'; CREATE TRIGGER a_swallow BEFORE INSERT ON fortknox.pending FOR EACH ROW "
        "EXECUTE FUNCTION public.swallow()"),
     0, "FK-AUDIT-TRIGGER", "trigger a_swallow on fortknox.pending was not installed"},
    {"chain head guard dropped", SU("DROP TRIGGER fortknox_head_guard ON fortknox.audit_head"), 0,
     "FK-AUDIT-TRIGGER", "fortknox_head_guard on \"fortknox\".audit_head is missing"},
    {"chain head truncate guard disabled",
     SU("ALTER TABLE fortknox.audit_head DISABLE TRIGGER fortknox_head_no_truncate"), 0,
     "FK-AUDIT-TRIGGER", "fortknox_head_no_truncate"},
    {"guard recreated with a WHEN clause",
     SU("CREATE OR REPLACE TRIGGER \"FK_guard_delete\" BEFORE DELETE ON " CD " FOR EACH ROW WHEN "
        "(OLD.id < 0) EXECUTE FUNCTION fortknox.guard_delete('id'); ALTER TABLE " CD
        " ENABLE ALWAYS TRIGGER \"FK_guard_delete\""),
     0, "FK-TRIGGER-ALTERED", "WHEN clause"},
    /* the UPDATE halves (AFTER UPDATE ... WHEN the key changed) */
    {"key guard dropped", SU("DROP TRIGGER \"FK_guard_key\" ON " CD), 0, "FK-GUARD-MISSING",
     "FK_guard_key on \"app\".\"cohort_definitions\" is missing: changing an entity's id"},
    {"key guard disabled", SU("ALTER TABLE " CD " DISABLE TRIGGER \"FK_guard_key\""), 0,
     "FK-GUARD-DISABLED", "FK_guard_key on \"app\".\"cohort_definitions\" is disabled"},
    {"key guard set to REPLICA", SU("ALTER TABLE " CD " ENABLE REPLICA TRIGGER \"FK_guard_key\""),
     0, "FK-GUARD-DISABLED", "FK_guard_key on \"app\".\"cohort_definitions\" is enabled only"},
    {"key guard watching another column",
     SU("CREATE OR REPLACE TRIGGER \"FK_guard_key\" AFTER UPDATE ON " CD " FOR EACH ROW WHEN "
        "(OLD.description IS DISTINCT FROM NEW.description) EXECUTE FUNCTION "
        "fortknox.guard_delete('id'); "
        "ALTER TABLE " CD " ENABLE ALWAYS TRIGGER \"FK_guard_key\""),
     0, "FK-TRIGGER-ALTERED",
     "its WHEN clause is (old.description IS DISTINCT FROM new.description), not (OLD.id IS "
     "DISTINCT FROM NEW.id)"},
    {"key guard's WHEN narrowed",
     SU("CREATE OR REPLACE TRIGGER \"FK_guard_key\" AFTER UPDATE ON " CD " FOR EACH ROW WHEN "
        "(OLD.id IS DISTINCT FROM NEW.id AND NEW.id > 0) EXECUTE FUNCTION "
        "fortknox.guard_delete('id'); ALTER TABLE " CD " ENABLE ALWAYS TRIGGER \"FK_guard_key\""),
     0, "FK-TRIGGER-ALTERED", "its WHEN clause is ((old.id IS DISTINCT FROM new.id) AND"},
    {"key guard moved BEFORE the application's triggers",
     SU("CREATE OR REPLACE TRIGGER \"FK_guard_key\" BEFORE UPDATE ON " CD " FOR EACH ROW WHEN "
        "(OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION fortknox.guard_delete('id'); "
        "ALTER TABLE " CD " ENABLE ALWAYS TRIGGER \"FK_guard_key\""),
     0, "FK-TRIGGER-ALTERED", "other events or at another level"},
    {"delete guard firing on UPDATE again (as installed before the key guard)",
     SU("CREATE OR REPLACE TRIGGER \"FK_guard_delete\" BEFORE DELETE OR UPDATE ON " CD " FOR EACH "
        "ROW EXECUTE FUNCTION fortknox.guard_delete('id'); ALTER TABLE " CD
        " ENABLE ALWAYS TRIGGER \"FK_guard_delete\""),
     0, "FK-TRIGGER-ALTERED", "FK_guard_delete on \"app\".\"cohort_definitions\" is not the"},
    {"child's key capture check dropped", SU("DROP TRIGGER \"FK_capture_check_key\" ON " CSI), 0,
     "FK-AUDIT-TRIGGER", "FK_capture_check_key on \"app\".\"concept_set_items\" is missing"},
    {"child's key capture check set to ENABLE (origin only)",
     SU("ALTER TABLE " CSI " ENABLE TRIGGER \"FK_capture_check_key\""), 0, "FK-AUDIT-TRIGGER",
     "FK_capture_check_key on \"app\".\"concept_set_items\" is not ENABLE ALWAYS"},
    {"child's key capture check watching the child's own id",
     SU("CREATE OR REPLACE TRIGGER \"FK_capture_check_key\" AFTER UPDATE ON " CSI " FOR EACH ROW "
        "WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION fortknox.capture_check("
        "'concept_set', 'concept_set_id', 'name', 'deleted_at', 'child'); ALTER TABLE " CSI
        " ENABLE ALWAYS TRIGGER \"FK_capture_check_key\""),
     0, "FK-TRIGGER-ALTERED",
     "its WHEN clause is (old.id IS DISTINCT FROM new.id), not (OLD.concept_set_id IS DISTINCT"},
    {"entity's key capture check without its WHEN",
     SU("CREATE OR REPLACE TRIGGER \"FK_capture_check_key\" AFTER UPDATE ON " CD " FOR EACH ROW "
        "EXECUTE FUNCTION fortknox.capture_check('cohort_definition', 'id', 'name', 'deleted_at', "
        "'entity'); ALTER TABLE " CD " ENABLE ALWAYS TRIGGER \"FK_capture_check_key\""),
     0, "FK-TRIGGER-ALTERED", "its WHEN clause is missing"},
    {"guard pointing to another function",
     SU("CREATE FUNCTION public.let_it_go() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN "
        "OLD; END'; CREATE OR REPLACE TRIGGER \"FK_guard_delete\" BEFORE DELETE ON " CD
        " FOR EACH ROW EXECUTE FUNCTION public.let_it_go(); ALTER TABLE " CD
        " ENABLE ALWAYS TRIGGER \"FK_guard_delete\""),
     0, "FK-TRIGGER-ALTERED", "it calls public.let_it_go() instead of \"fortknox\".guard_delete()"},
    {"capture recreated for INSERT only",
     SU("CREATE OR REPLACE TRIGGER \"FK_capture\" BEFORE INSERT ON " CD " FOR EACH ROW EXECUTE "
        "FUNCTION fortknox.capture_mark('cohort_definition', 'id', 'name', 'deleted_at', "
        "'entity'); "
        "ALTER TABLE " CD " ENABLE ALWAYS TRIGGER \"FK_capture\""),
     0, "FK-TRIGGER-ALTERED", "other events"},
    {"truncate guard given other arguments",
     SU("CREATE OR REPLACE TRIGGER \"FK_guard_truncate\" BEFORE TRUNCATE ON " CD " FOR EACH "
        "STATEMENT EXECUTE FUNCTION fortknox.guard_truncate('cohort_definition', 'app', '', '', "
        "'', ''); "
        "ALTER TABLE " CD " ENABLE ALWAYS TRIGGER \"FK_guard_truncate\""),
     0, "FK-TRIGGER-ALTERED", "its arguments are not ('cohort_definition', 'capture', 'cohort_definition', 'id'"},
    {"child capture given another parent key",
     SU("CREATE OR REPLACE TRIGGER \"FK_capture\" BEFORE INSERT OR UPDATE OR DELETE ON " CSI
        " FOR EACH ROW EXECUTE FUNCTION fortknox.capture_mark('concept_set', 'id', 'name', "
        "'deleted_at', 'child'); ALTER TABLE " CSI " ENABLE ALWAYS TRIGGER \"FK_capture\""),
     0, "FK-TRIGGER-ALTERED", "its arguments are not ('concept_set', 'concept_set_id'"},
    {"function body replaced by a superuser who switched the DDL guard off",
     SU("CREATE OR REPLACE FUNCTION fortknox.guard_delete() RETURNS trigger LANGUAGE plpgsql AS "
        "$f$ BEGIN RETURN OLD; END $f$"),
     0, "FK-FUNCTION", "guard_delete() has another body"},
    {"function body replaced by the owner with the override (recorded)",
     OVERRIDE("CREATE OR REPLACE FUNCTION fortknox.guard_truncate() RETURNS trigger LANGUAGE "
              "plpgsql AS $f$ BEGIN RETURN NULL; END $f$"),
     0, "FK-FUNCTION", "guard_truncate() has another body"},
    {"capture quieted by a replaced helper",
     SU("CREATE OR REPLACE FUNCTION fortknox.quiet() RETURNS boolean LANGUAGE sql STABLE AS "
        "$f$ SELECT true $f$"),
     0, "FK-FUNCTION", "quiet() has another body"},
    {"SECURITY DEFINER removed", SU("ALTER FUNCTION fortknox.audit_chain() SECURITY INVOKER"), 0,
     "FK-FUNCTION", "audit_chain() is no longer SECURITY DEFINER"},
    {"search_path setting removed", SU("ALTER FUNCTION fortknox.capture_mark() RESET search_path"),
     0, "FK-FUNCTION", "capture_mark() has other settings"},
    {"function added to the library's schema",
     SU("CREATE FUNCTION fortknox.helper() RETURNS int LANGUAGE sql AS 'SELECT 1'"), 0,
     "FK-FUNCTION", "helper() is not a function libfortknox installs"},
    {"library function dropped", SU("DROP FUNCTION fortknox.changed_fields(jsonb, jsonb) CASCADE"),
     0, "FK-FUNCTION", "changed_fields is missing"},
    {"rule added to a design table",
     SU("CREATE RULE keep_it AS ON DELETE TO " CD " DO INSTEAD NOTHING"), 0, "FK-RULE",
     "rule keep_it on app.cohort_definitions"},
    {"rule added to a child table",
     SU("CREATE RULE divert AS ON UPDATE TO " CSI " DO INSTEAD NOTHING"), 0, "FK-RULE",
     "rule divert on app.concept_set_items"},
    {"rule added to the audit table",
     SU("CREATE RULE swallow AS ON INSERT TO fortknox.audit_log DO INSTEAD NOTHING"), 0,
     "FK-RULE", "rule swallow on fortknox.audit_log"},
    {"row-level security on the audit table",
     SU("ALTER TABLE fortknox.audit_log ENABLE ROW LEVEL SECURITY"), 0, "FK-RULE",
     "fortknox.audit_log has row-level security"},
    {"library function given to another owner",
     SU("ALTER FUNCTION fortknox.write(text, bigint, text, text, jsonb, jsonb, text) OWNER TO "
        APP_ROLE), 0, "FK-FUNCTION", "is owned by " APP_ROLE},
    {"meta switched to app mode, capture triggers dropped, entity changed",
     /* the audited change commits first: a change in the same transaction
      * is in the row capture writes at its commit */
     "UPDATE app.cohort_definitions SET description = 'audited' WHERE id = 1001; COMMIT; "
     SU("UPDATE fortknox.meta SET value = 'app' WHERE key = 'mode'; DROP TRIGGER \"FK_capture\" "
        "ON " CD "; DROP TRIGGER \"FK_capture_check\" ON " CD "; " DIFF_NAME),
     1, "FK-UNTRACED", "from its last audit row"},
    {"foreign trigger on the audit table",
     SU("CREATE FUNCTION public.drop_row() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NULL;"
        " END'; CREATE TRIGGER a_first BEFORE INSERT ON fortknox.audit_log FOR EACH ROW EXECUTE "
        "FUNCTION public.drop_row()"),
     0, "FK-AUDIT-TRIGGER", "trigger a_first on fortknox.audit_log was not installed"},
    {"meta says capture but the capture triggers are gone",
     SU("DROP TRIGGER \"FK_capture\" ON " CD), 0, "FK-AUDIT-TRIGGER",
     "FK_capture on \"app\".\"cohort_definitions\" is missing"},
    {"meta says app mode over capture triggers",
     "UPDATE fortknox.meta SET value = 'app' WHERE key = 'mode'", 0, "FK-META",
     "says app mode, but \"app\".\"cohort_definitions\" has the capture trigger"},
    {"meta says guards off over guard triggers",
     "UPDATE fortknox.meta SET value = 'off' WHERE key = 'guards'", 0, "FK-META",
     "says guards are off"},
    {"meta names an application role that does not exist",
     "UPDATE fortknox.meta SET value = 'nobody_here' WHERE key = 'app_role'", 0, "FK-META",
     "role nobody_here, which does not exist"},
    {"override role made able to log in",
     "ALTER ROLE fortknox_override LOGIN", 0, "FK-META",
     "the override role fortknox_override can log in"},
    {"meta names a decoy audit table",
     SU("CREATE TABLE fortknox.decoy (LIKE fortknox.audit_log INCLUDING ALL); UPDATE "
        "fortknox.meta SET value = '\"fortknox\".\"decoy\"' WHERE key = 'audit_table'"),
     0, "FK-META", "the audit chain's trigger is on fortknox.audit_log"},
    /* the DDL guard's installed event triggers, damaged by a superuser:
     * PostgreSQL fires no event trigger for ALTER/DROP EVENT TRIGGER */
    {"DDL guard event trigger enabled for replica sessions only",
     "ALTER EVENT TRIGGER fortknox_ddl_end ENABLE REPLICA", 0, "FK-NO-DDL-GUARD",
     "fortknox_ddl_end is not ENABLE ALWAYS"},
    {"DDL guard event trigger set to ENABLE (origin only)",
     "ALTER EVENT TRIGGER fortknox_sql_drop ENABLE", 0, "FK-NO-DDL-GUARD",
     "fortknox_sql_drop is not ENABLE ALWAYS"},
    {"DDL guard event trigger disabled", "ALTER EVENT TRIGGER fortknox_table_rewrite DISABLE", 0,
     "FK-NO-DDL-GUARD", "fortknox_table_rewrite is disabled"},
    {"DDL guard event trigger dropped", "DROP EVENT TRIGGER fortknox_ddl_start", 0,
     "FK-NO-DDL-GUARD", "fortknox_ddl_start is missing"},
    /* the trigger untouched, its function emptied: the guard is off */
    {"DDL guard function body replaced by a superuser",
     SU("CREATE OR REPLACE FUNCTION pg_catalog.fortknox_ddl_start() RETURNS event_trigger "
        "LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $f$ BEGIN "
        "END $f$"),
     0, "FK-NO-DDL-GUARD", "fortknox_ddl_start calls a function whose body or settings"},
    {"DDL guard event trigger calling a function outside the library",
     EVT_REPLACED("fortknox_ddl_start", "ddl_command_start"), 0, "FK-NO-DDL-GUARD",
     "fortknox_ddl_start calls another function than the library's"},
    /* untraced changes: session_replication_role = replica no longer
     * quiets capture (ALWAYS; see clean_install_has_no_finding), a superuser
     * switching the triggers off does */
    {"entity changed by a superuser with the library's triggers off",
     FKT_BYPASSED(DIFF_NAME), 1, "FK-UNTRACED", "cohort_definition 1001 differs from its fixture"},
    {"entity changed with the triggers off after an audited change",
     "BEGIN; UPDATE app.cohort_definitions SET description = 'audited' WHERE id = 1001; "
     "COMMIT; " FKT_BYPASSED(DIFF_NAME), 1, "FK-UNTRACED",
     "cohort_definition 1001 differs from its fixture and from its last audit row"},
    {"child row added quietly after an audited change",
     "BEGIN; UPDATE app.concept_sets SET name = 'audited' WHERE id = (SELECT min(id) FROM "
     "app.concept_sets); COMMIT; " FKT_BYPASSED("INSERT INTO " CSI " (concept_set_id, concept_id) SELECT "
     "min(id), 4242 FROM app.concept_sets"),
     1, "FK-UNTRACED", "from its last audit row"},
    {"entity changed with capture off (only the capture triggers disabled meanwhile)",
     SU("ALTER TABLE " CD " DISABLE TRIGGER \"FK_capture\", DISABLE TRIGGER \"FK_capture_check\"; "
        DIFF_NAME "; ALTER TABLE " CD " ENABLE ALWAYS TRIGGER \"FK_capture\", ENABLE ALWAYS "
        "TRIGGER \"FK_capture_check\""),
     1, "FK-UNTRACED", "cohort_definition 1001 differs from its fixture"},
    {"entity changed in a quieted session (fortknox.context = import)",
     "BEGIN; SELECT fortknox.allow('context'); SET LOCAL fortknox.context = 'import:x'; "
     DIFF_NAME "; COMMIT", 1, "FK-UNTRACED",
     "cohort_definition 1001 differs"},
    {"child row deleted by a superuser with the triggers off",
     FKT_BYPASSED("DELETE FROM " CSI " WHERE id = (SELECT min(id) FROM " CSI ")"), 1,
     "FK-UNTRACED", "concept_set "},
    {"entity created by a superuser with the triggers off",
     FKT_BYPASSED("INSERT INTO " CD " (id, name, expression_json, author_id, created_at, "
                  "updated_at) SELECT 990001, 'unseen', expression_json, author_id, created_at, "
                  "updated_at FROM " CD " WHERE id = 1001"),
     1, "FK-UNTRACED", "cohort_definition 990001"},
};
#define NCASES (sizeof cases / sizeof cases[0])

static char *fresh_db(char **dir)
{
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    assert_non_null(db);
    fk_ctx *ctx = fkt_open_installed(db, 1, APP_ROLE);
    *dir = fkt_tempdir_or_fail("fk-protections");
    if (fk_export(NULL, ctx, *dir, NULL) != FK_OK)
        fail_msg("fk_export: %s", fk_errmsg(ctx));
    fk_close(ctx);
    return db;
}

/* fk_doctor on a new context (the install record is cached per context). */
static int doctor(const char *db, const char *dir, fk_report **r)
{
    fk_ctx *ctx = NULL;
    if (fk_open(&ctx, db, NULL) != FK_OK)
        fail_msg("fk_open: %s", fk_errmsg(NULL));
    fk_doctor_options o;
    fk_doctor_options_init(&o, FK_DOCTOR_OPTIONS_VERSION);
    o.fixture_dir = dir;
    int rc = fk_doctor(r, ctx, &o);
    if (rc != FK_OK && rc != FK_EVERIFY)
        fail_msg("fk_doctor could not run: %d %s", rc, fk_errmsg(ctx));
    fk_close(ctx);
    return rc;
}

static const fk_report_item *find(const fk_report *r, const char *code, const char *says)
{
    for (size_t i = 0; i < fk_report_item_count(r); i++) {
        const fk_report_item *it = fk_report_item_at(r, i);
        if (strcmp(it->code, code) == 0 && (!says || strstr(it->message, says)))
            return it;
    }
    return NULL;
}

static void print_report(const fk_report *r)
{
    for (size_t i = 0; i < fk_report_item_count(r); i++)
        print_message("#   %s: %s\n", fk_report_item_at(r, i)->code,
                      fk_report_item_at(r, i)->message);
}

/* No error finding, and the status to match. */
static void assert_clean(const char *db, const char *dir)
{
    fk_report *r = NULL;
    int rc = doctor(db, dir, &r);
    for (size_t i = 0; i < fk_report_item_count(r); i++) {
        const fk_report_item *it = fk_report_item_at(r, i);
        if (it->severity == FK_SEV_ERROR) {
            print_report(r);
            fail_msg("unexpected finding %s: %s", it->code, it->message);
        }
    }
    assert_true(fkt_doctor_healthy(rc, r));
    fk_report_free(r);
}

static void clean_install_has_no_finding(void **state)
{
    (void)state;
    char *dir;
    char *db = fresh_db(&dir);
    assert_clean(db, NULL);
    assert_clean(db, dir);
    /* changes the audit log explains are no untraced change: an entity
     * updated, a child row deleted, an entity created, with capture on */
    assert_int_equal(fkt_pg_exec(db, DIFF_NAME "; DELETE FROM " CSI " WHERE id = (SELECT min(id)"
                                     " FROM " CSI "); INSERT INTO " CD " (id, name, "
                                     "expression_json, author_id, created_at, updated_at) SELECT "
                                     "990001, 'seen', expression_json, author_id, created_at, "
                                     "updated_at FROM " CD " WHERE id = 1001"),
                     0);
    assert_clean(db, dir);
    /* under session_replication_role = replica too: the library's triggers
     * are ENABLE ALWAYS, so capture records these (they were untraced
     * before; a trace is no finding) */
    assert_int_equal(fkt_pg_exec(db, "SET session_replication_role = replica; UPDATE " CD " SET "
                                     "name = 'seen under replica' WHERE id = 1002; DELETE FROM "
                                     CSI " WHERE id = (SELECT min(id) FROM " CSI "); INSERT INTO "
                                     CD " (id, name, expression_json, author_id, created_at, "
                                     "updated_at) SELECT 990002, 'seen under replica', "
                                     "expression_json, author_id, created_at, updated_at FROM "
                                     CD " WHERE id = 1001"),
                     0);
    assert_clean(db, dir);
    assert_int_equal(fkt_rm_tree(dir), 0);
    free(db);
}

static void each_damage_is_found(void **state)
{
    (void)state;
    const char *cli = fkt_cli_path();
    int failures = 0;
    for (size_t i = 0; i < NCASES; i++) {
        const dcase *c = &cases[i];
        char *dir;
        char *db = fresh_db(&dir);
        /* without the damage, none of the finding (the test can fail) */
        fk_report *r = NULL;
        doctor(db, c->fixtures ? dir : NULL, &r);
        if (find(r, c->code, c->says)) {
            print_message("# %s: found before the damage\n", c->title);
            failures++;
        }
        fk_report_free(r);
        if (fkt_pg_exec(db, c->damage) != 0)
            fail_msg("%s: the damage did not apply: %s", c->title, c->damage);
        r = NULL;
        int rc = doctor(db, c->fixtures ? dir : NULL, &r);
        const char *args[] = {"--db", db, "--json", "doctor", c->fixtures ? "--fixtures" : NULL,
                              dir, NULL};
        fkt_run run = fkt_run_program(cli, NULL, NULL, args, 120);
        if (rc != FK_EVERIFY || !find(r, c->code, c->says)) {
            print_message("# %s: fk_doctor returned %d without %s \"%s\"\n", c->title, rc,
                          c->code, c->says);
            print_report(r);
            failures++;
        } else if (run.status != 1 || !strstr(run.out, c->code)) {
            print_message("# %s: `fortknox doctor` exited %d without %s\n%s%s", c->title,
                          run.status, c->code, run.out, run.err);
            failures++;
        }
        fkt_run_free(&run);
        fk_report_free(r);
        /* roles are the cluster's: a case's damage to the override role
         * must not reach the next case's database */
        assert_int_equal(fkt_pg_exec(db, "ALTER ROLE fortknox_override NOLOGIN"), 0);
        assert_int_equal(fkt_rm_tree(dir), 0);
        free(db);
    }
    assert_int_equal(failures, 0);
}

/* A role with DML rights and CREATE on a schema of its search_path (a
 * Laravel app's login role owns its schema) shadows what the guard calls:
 * the guard must still refuse. Fails before the guard's search_path was
 * fixed: the DELETE went through. */
static void guard_ignores_shadowing_functions(void **state)
{
    (void)state;
    static const char *const shadows[] = {
        "CREATE FUNCTION app.current_setting(text, boolean) RETURNS text LANGUAGE sql AS "
        "$$ SELECT 'on' $$",
        "CREATE FUNCTION app.\"=\"(text, text) RETURNS boolean LANGUAGE sql AS $$ SELECT true $$;"
        " CREATE OPERATOR app.= (LEFTARG = text, RIGHTARG = text, FUNCTION = app.\"=\")",
    };
    for (size_t i = 0; i < sizeof shadows / sizeof shadows[0]; i++) {
        char *dir;
        char *db = fresh_db(&dir);
        char as_app[1024], sql[1024];
        snprintf(as_app, sizeof as_app, "%s user=" APP_ROLE, db);
        assert_int_equal(fkt_pg_exec(db, "GRANT USAGE, CREATE ON SCHEMA app TO " APP_ROLE "; "
                                         "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN "
                                         "SCHEMA app TO " APP_ROLE),
                         0);
        snprintf(sql, sizeof sql, "%s; SET search_path = app, pg_catalog; DELETE FROM " CD
                 " WHERE id = 1005", shadows[i]);
        assert_int_not_equal(fkt_pg_exec(as_app, sql), 0);
        char *n = fkt_q1(db, "SELECT count(*) FROM " CD " WHERE id = 1005");
        assert_string_equal(n, "1");
        free(n);
        assert_int_equal(fkt_rm_tree(dir), 0);
        free(db);
    }
}

static int setup(void **state)
{
    (void)state;
    pg = fkt_pg_start_or_exit();
    char *ok = fkt_pg_query1(fkt_pg_conninfo(pg),
                             "SELECT count(*) FROM pg_roles WHERE rolname = '" APP_ROLE "'");
    if (ok && strcmp(ok, "0") == 0)
        fkt_pg_exec(fkt_pg_conninfo(pg), "CREATE ROLE " APP_ROLE " LOGIN");
    free(ok);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fkt_pg_stop(pg);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(clean_install_has_no_finding),
        cmocka_unit_test(each_damage_is_found),
        cmocka_unit_test(guard_ignores_shadowing_functions),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
