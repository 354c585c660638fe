/* Overrides are privileges, not settings; the audit log accepts only what
 * the library writes (issue 15, items 3 and 4). Against a real server, as
 * the application's own login role (a non-superuser, what `install
 * --app-role` names), with and without membership of the override role:
 * every attack of the "Session settings" and "The audit log itself"
 * is a row of a table, with what must happen. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <fortknox.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fkt.h"

static fkt_pg *pg;

/* The superuser's way to delete without a trace, the one the loss rule
 * exists for: every trigger off, the DDL guard first (tests/support/fkt.h). */
#define SILENT_DELETE FKT_BYPASSED("DELETE FROM app.cohort_definitions WHERE id = 1001")

/* A member's override: allow(), or where the library has none (the code
 * before issue 15, which the tests must fail on) the setting it took. */
#define MEMBER_OVERRIDE(kind)                                                                     \
    "DO $o$ BEGIN PERFORM fortknox.allow('" kind "'); EXCEPTION WHEN undefined_function THEN "   \
    "PERFORM set_config('fortknox.allow_" kind "', 'on', true); END $o$; "

/* One database: the Parthenon schema and seed, libfortknox installed with
 * `role` (created here, LOGIN, plain DML rights on the app's tables) as the
 * application role. conninfo as the superuser and as the role. */
typedef struct setup {
    char *db;
    char app[700];
    char role[40];
} setup;

static void make(setup *s, const char *role, fk_audit_mode mode)
{
    s->db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    assert_non_null(s->db);
    snprintf(s->role, sizeof s->role, "%s", role);
    char sql[1200];
    /* roles are cluster-wide: each case has its own */
    snprintf(sql, sizeof sql,
             "DO $r$ BEGIN CREATE ROLE %s LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; "
             "END $r$; GRANT USAGE ON SCHEMA app TO %s; GRANT SELECT, INSERT, UPDATE, DELETE, "
             "TRUNCATE ON ALL TABLES IN SCHEMA app TO %s; GRANT USAGE ON ALL SEQUENCES IN SCHEMA "
             "app TO %s",
             role, role, role, role);
    assert_int_equal(fkt_pg_exec(s->db, sql), 0);
    fk_ctx *ctx = NULL;
    if (fk_open(&ctx, s->db, NULL) != FK_OK)
        fail_msg("fk_open: %s", fk_errmsg(NULL));
    fk_install_options o;
    fk_install_options_init(&o, FK_INSTALL_OPTIONS_VERSION);
    o.mode = mode;
    o.app_role = role;
    assert_ok(ctx, fk_install(NULL, ctx, &o));
    fk_close(ctx);
    snprintf(s->app, sizeof s->app, "%s user=%s", s->db, role);
}

/* tmpl with every "{}" replaced by arg. */
static void subst(char *out, size_t n, const char *tmpl, const char *arg)
{
    size_t o = 0;
    for (const char *p = tmpl; *p && o + 1 < n; p++) {
        if (p[0] == '{' && p[1] == '}') {
            o += (size_t)snprintf(out + o, n - o, "%s", arg);
            p++;
        } else {
            out[o++] = *p;
        }
    }
    out[o < n ? o : n - 1] = '\0';
}

static void done(setup *s)
{
    free(s->db);
}

static char *q1(const char *db, const char *sql)
{
    return fkt_q1(db, sql);
}

static int has_item(const fk_report *r, const char *code, int64_t id)
{
    for (size_t i = 0; i < fk_report_item_count(r); i++) {
        const fk_report_item *it = fk_report_item_at(r, i);
        if (strcmp(it->code, code) == 0 && (id < 0 || it->entity_id == id))
            return 1;
    }
    return 0;
}

static void expect(const char *db, const char *sql, const char *want)
{
    char *v = q1(db, sql);
    if (strcmp(v, want) != 0)
        fail_msg("%s\n  want: %s\n  got:  %s", sql, want, v);
    free(v);
}

#define ALIVE_1001 "SELECT count(*) FROM app.cohort_definitions WHERE id = 1001"
#define CAPTURED_1001                                                                             \
    "SELECT count(*) FROM fortknox.audit_log WHERE entity_type = 'cohort_definition' AND "       \
    "entity_id = 1001"

/* ------------------------------------------------ session settings */

typedef enum outcome { BLOCKED, ALLOWED } outcome;

static const struct override_case {
    const char *name;
    const char *admin_sql; /* run first, as the superuser (NULL: nothing) */
    const char *conn;      /* appended to the role's conninfo (NULL: nothing) */
    const char *sql;       /* the attack, as the application role */
    outcome want;
} override_cases[] = {
    {"SET at session level", NULL, NULL,
     "SET fortknox.allow_hard_delete = on; DELETE FROM app.cohort_definitions WHERE id = 1001",
     BLOCKED},
    {"SET LOCAL alone (the documented override before issue 15)", NULL, NULL,
     "BEGIN; SET LOCAL fortknox.allow_hard_delete = on; DELETE FROM app.cohort_definitions "
     "WHERE id = 1001; COMMIT",
     BLOCKED},
    {"the transaction-bound value set by hand by a non-member", NULL, NULL,
     "BEGIN; SELECT set_config('fortknox.allow_hard_delete', pg_current_xact_id()::text, true); "
     "DELETE FROM app.cohort_definitions WHERE id = 1001; COMMIT",
     BLOCKED},
    {"allow() called by a non-member", NULL, NULL,
     "BEGIN; SELECT fortknox.allow('hard_delete'); DELETE FROM app.cohort_definitions WHERE id "
     "= 1001; COMMIT",
     BLOCKED},
    {"options=-c in the connection string", NULL,
     " options='-c fortknox.allow_hard_delete=on -c fortknox.allow_truncate=on'",
     "DELETE FROM app.cohort_definitions WHERE id = 1001", BLOCKED},
    {"ALTER ROLE ... SET", "ALTER ROLE {} SET fortknox.allow_hard_delete = on", NULL,
     "DELETE FROM app.cohort_definitions WHERE id = 1001", BLOCKED},
    {"ALTER DATABASE ... SET", "DO $d$ BEGIN EXECUTE format('ALTER DATABASE %I SET "
                               "fortknox.allow_hard_delete = on', current_database()); END $d$",
     NULL, "DELETE FROM app.cohort_definitions WHERE id = 1001", BLOCKED},
    {"TRUNCATE with SET at session level", NULL, NULL,
     "SET fortknox.allow_truncate = on; TRUNCATE app.cohort_definitions CASCADE", BLOCKED},
    {"a member's override does not outlive its transaction", "GRANT fortknox_override TO {}",
     NULL,
     "BEGIN; SELECT fortknox.allow('hard_delete'); COMMIT; DELETE FROM app.cohort_definitions "
     "WHERE id = 1001",
     BLOCKED},
    {"a member of the override role with allow()", "GRANT fortknox_override TO {}", NULL,
     "BEGIN; SELECT fortknox.allow('hard_delete'); DELETE FROM app.cohort_definitions WHERE id "
     "= 1001; COMMIT",
     ALLOWED},
};

static void overrides_are_privileges(void **state)
{
    (void)state;
    char failures[4000] = "";
    for (size_t i = 0; i < sizeof override_cases / sizeof override_cases[0]; i++) {
        const struct override_case *c = &override_cases[i];
        char role[40], sql[1000], conn[1000];
        snprintf(role, sizeof role, "fkp_override_%zu", i);
        setup s;
        make(&s, role, FK_AUDIT_CAPTURE);
        if (c->admin_sql) {
            subst(sql, sizeof sql, c->admin_sql, role);
            if (fkt_pg_exec(s.db, sql) != 0)
                snprintf(failures + strlen(failures), sizeof failures - strlen(failures),
                         "\n  %s: its setup failed: %s", c->name, sql);
        }
        snprintf(conn, sizeof conn, "%s%s", s.app, c->conn ? c->conn : "");
        int rc = fkt_pg_exec(conn, c->sql);
        char *alive = q1(s.db, ALIVE_1001);
        int blocked = strcmp(alive, "1") == 0;
        free(alive);
        if (blocked != (c->want == BLOCKED) || (c->want == BLOCKED && rc == 0))
            snprintf(failures + strlen(failures), sizeof failures - strlen(failures),
                     "\n  %s: %s", c->name,
                     c->want == BLOCKED ? "the delete went through" : "the delete was refused");
        if (c->want == ALLOWED && !blocked) { /* an override is recorded */
            expect(s.db, CAPTURED_1001 " AND action = 'force_deleted' AND context = 'capture'",
                   "1");
            /* and an application role that can override is a finding */
            fk_ctx *ctx = NULL;
            assert_int_equal(fk_open(&ctx, s.db, NULL), FK_OK);
            fk_report *r = NULL;
            assert_int_equal(fk_doctor(&r, ctx, NULL), FK_EVERIFY);
            assert_true(has_item(r, "FK-AUDIT-PRIVILEGES", -1));
            fk_report_free(r);
            fk_close(ctx);
        }
        /* leave no role-level setting behind for the next case */
        snprintf(sql, sizeof sql, "ALTER ROLE %s RESET ALL", role);
        assert_int_equal(fkt_pg_exec(s.db, sql), 0);
        done(&s);
    }
    if (failures[0])
        fail_msg("overrides that did not hold as expected:%s", failures);
}

/* A superuser's session lowered with SET ROLE to the application role is
 * the application role: its statements cannot override. */
static void set_role_lowers_the_override(void **state)
{
    (void)state;
    setup s;
    make(&s, "fkp_setrole", FK_AUDIT_CAPTURE);
    assert_int_not_equal(fkt_pg_exec(s.db, "BEGIN; " MEMBER_OVERRIDE("hard_delete")
                                           "SET LOCAL ROLE fkp_setrole; DELETE FROM "
                                           "app.cohort_definitions WHERE id = 1001; COMMIT"),
                         0);
    expect(s.db, ALIVE_1001, "1");
    assert_int_not_equal(fkt_pg_exec(s.db, "BEGIN; SET LOCAL ROLE fkp_setrole; SELECT "
                                           "fortknox.allow('hard_delete'); COMMIT"),
                         0);
    done(&s);
}

/* A member's override holds through ON DELETE CASCADE, which PostgreSQL
 * runs as the referencing table's owner -- in a Laravel app the
 * application's own role, never a member: the statement's role is the one
 * that counts, not the cascade's. */
static void a_members_override_holds_through_a_cascade(void **state)
{
    (void)state;
    setup s;
    make(&s, "fkp_cascade", FK_AUDIT_CAPTURE);
    /* the owner and a new reference: DDL on a design table, under the override */
    assert_int_equal(fkt_pg_exec(s.db, "BEGIN; " MEMBER_OVERRIDE("ddl")
                                       "ALTER TABLE app.cohort_definitions OWNER TO fkp_cascade;"
                                       "CREATE TABLE app.owners_x (id int PRIMARY KEY);"
                                       "INSERT INTO app.owners_x VALUES (1), (2);"
                                       "ALTER TABLE app.cohort_definitions ADD COLUMN ox int "
                                       "REFERENCES app.owners_x ON DELETE CASCADE;"
                                       "UPDATE app.cohort_definitions SET ox = 1 WHERE id = 1001;"
                                       "UPDATE app.cohort_definitions SET ox = 2 WHERE id = 1002;"
                                       "GRANT ALL ON app.owners_x TO fkp_cascade; COMMIT"),
                     0);
    /* the application role, through the cascade: blocked */
    assert_int_not_equal(fkt_pg_exec(s.app, "BEGIN; SET LOCAL fortknox.allow_hard_delete = on; "
                                            "DELETE FROM app.owners_x WHERE id = 2; COMMIT"),
                         0);
    expect(s.db, "SELECT count(*) FROM app.cohort_definitions WHERE id = 1002", "1");
    /* a member (the superuser): allowed, and recorded */
    assert_int_equal(fkt_pg_exec(s.db, "BEGIN; " MEMBER_OVERRIDE("hard_delete")
                                       "DELETE FROM app.owners_x WHERE id = 1; COMMIT"),
                     0);
    expect(s.db, ALIVE_1001, "0");
    expect(s.db, CAPTURED_1001 " AND action = 'force_deleted'", "1");
    done(&s);
}

/* Silencing capture: fortknox.context set by the application role neither
 * quiets capture nor ends up in the rows. */
static void context_is_a_privilege(void **state)
{
    (void)state;
    setup s;
    make(&s, "fkp_context", FK_AUDIT_CAPTURE);
    static const char *const attacks[] = {
        "BEGIN; SET LOCAL fortknox.context = 'import:x'; UPDATE app.cohort_definitions SET name "
        "= 'silenced 1' WHERE id = 1001; COMMIT",
        "SET fortknox.context = 'restore:x'; UPDATE app.cohort_definitions SET name = 'silenced "
        "2' WHERE id = 1001",
        "BEGIN; SELECT set_config('fortknox.allow_context', pg_current_xact_id()::text, true),"
        " set_config('fortknox.context', 'import:y', true); UPDATE app.cohort_definitions SET "
        "name = 'silenced 3' WHERE id = 1001; COMMIT",
    };
    for (size_t i = 0; i < sizeof attacks / sizeof attacks[0]; i++)
        assert_int_equal(fkt_pg_exec(s.app, attacks[i]), 0);
    /* each change captured, as capture */
    expect(s.db, CAPTURED_1001 " AND action = 'updated' AND context = 'capture'", "3");
    expect(s.db, CAPTURED_1001 " AND context <> 'capture'", "0");
    /* with the role in the database's settings: still not quiet */
    assert_int_equal(fkt_pg_exec(s.db, "ALTER ROLE fkp_context SET fortknox.context = "
                                       "'import:z'"),
                     0);
    assert_int_equal(fkt_pg_exec(s.app, "UPDATE app.cohort_definitions SET name = 'silenced 4' "
                                        "WHERE id = 1001"),
                     0);
    expect(s.db, CAPTURED_1001 " AND action = 'updated' AND context = 'capture'", "4");
    /* doctor reports the stored setting */
    fk_ctx *ctx = NULL;
    assert_int_equal(fk_open(&ctx, s.db, NULL), FK_OK);
    fk_report *r = NULL;
    assert_int_equal(fk_doctor(&r, ctx, NULL), FK_EVERIFY);
    assert_true(has_item(r, "FK-SETTING", -1));
    fk_report_free(r);
    assert_int_equal(fkt_pg_exec(s.db, "ALTER ROLE fkp_context RESET ALL"), 0);
    fk_close(ctx);
    done(&s);
}

/* doctor names every fortknox.* value stored for a role or a database. */
static void doctor_reports_stored_settings(void **state)
{
    (void)state;
    setup s;
    make(&s, "fkp_doctor", FK_AUDIT_CAPTURE);
    fk_ctx *ctx = NULL;
    assert_int_equal(fk_open(&ctx, s.db, NULL), FK_OK);
    fk_report *r = NULL;
    fk_doctor(&r, ctx, NULL);
    assert_non_null(r);
    assert_false(has_item(r, "FK-SETTING", -1));
    fk_report_free(r);
    static const struct {
        const char *sql, *want;
        fk_severity sev;
    } rows[] = {
        {"ALTER ROLE fkp_doctor SET fortknox.allow_truncate = on", "fortknox.allow_truncate=on",
         FK_SEV_ERROR},
        {"ALTER ROLE fkp_doctor IN DATABASE {} SET fortknox.context = 'import:q'",
         "fortknox.context=import:q", FK_SEV_ERROR},
        {"ALTER DATABASE {} SET fortknox.allow_hard_delete = on",
         "fortknox.allow_hard_delete=on", FK_SEV_ERROR},
        {"ALTER ROLE ALL SET fortknox.actor_id = '7'", "fortknox.actor_id=7", FK_SEV_WARNING},
    };
    char *dbname = q1(s.db, "SELECT quote_ident(current_database())");
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char sql[300];
        subst(sql, sizeof sql, rows[i].sql, dbname);
        assert_int_equal(fkt_pg_exec(s.db, sql), 0);
        fk_doctor(&r, ctx, NULL);
        assert_non_null(r);
        int found = 0;
        for (size_t k = 0; k < fk_report_item_count(r); k++) {
            const fk_report_item *it = fk_report_item_at(r, k);
            if (strcmp(it->code, "FK-SETTING") == 0 && strstr(it->message, rows[i].want) &&
                it->severity == rows[i].sev)
                found = 1;
        }
        if (!found)
            fail_msg("doctor does not report %s", rows[i].sql);
        fk_report_free(r);
    }
    char sql[300];
    snprintf(sql, sizeof sql, "ALTER ROLE fkp_doctor RESET ALL; ALTER ROLE ALL RESET ALL; "
                              "ALTER DATABASE %s RESET ALL", dbname);
    assert_int_equal(fkt_pg_exec(s.db, sql), 0);
    free(dbname);
    fk_close(ctx);
    done(&s);
}

/* ------------------------------------------------ the audit log itself */

#define FORGED_ROW(context)                                                                       \
    "INSERT INTO fortknox.audit_log (entity_type, entity_id, entity_name, action, actor_id, "     \
    "actor_email, old_json, context) SELECT 'cohort_definition', 1001, name, 'force_deleted', 1, " \
    "'admin@example.org', to_jsonb(c), '" context "' FROM app.cohort_definitions c WHERE id = "   \
    "1001"

static const struct forge_case {
    const char *name;
    int as_app;        /* the application role forges (else the superuser) */
    fk_audit_mode mode;
    const char *sql;
} forge_cases[] = {
    {"app role inserts a force_deleted row claiming capture", 1, FK_AUDIT_CAPTURE,
     FORGED_ROW("capture")},
    {"app role inserts a force_deleted row (app mode)", 1, FK_AUDIT_APP, FORGED_ROW("capture")},
    {"app role calls the SECURITY DEFINER write()", 1, FK_AUDIT_CAPTURE,
     "SELECT fortknox.write('cohort_definition', 1001, 'x', 'force_deleted', NULL, NULL, "
     "'capture')"},
    {"app role claims an import through app_write()", 1, FK_AUDIT_APP,
     "BEGIN; SET LOCAL fortknox.context = 'import:x'; SELECT fortknox.app_write("
     "'cohort_definition', 1001, 'x', 'loss_accepted', NULL, NULL, NULL, NULL, NULL); COMMIT"},
    {"app role writes force_deleted through app_write() in capture mode", 1, FK_AUDIT_CAPTURE,
     "SELECT fortknox.app_write('cohort_definition', 1001, 'x', 'force_deleted', 1, NULL, NULL, "
     "NULL, NULL)"},
    {"a hand-written row with a context the library never stamps", 0, FK_AUDIT_CAPTURE,
     FORGED_ROW("manual cleanup")},
    {"a hand-written truncated row claiming the table", 0, FK_AUDIT_CAPTURE,
     "INSERT INTO fortknox.audit_log (entity_type, entity_id, entity_name, action, new_json, "
     "context) VALUES ('cohort_definition', 0, 'app.cohort_definitions', 'truncated', "
     "'{\"rows\": 1}', 'import:x')"},
};

/* A forged row, then the design deleted without a trace: doctor reports the
 * loss and an export keeps the file, whatever the row claims. */
static void forged_rows_explain_nothing(void **state)
{
    (void)state;
    char failures[4000] = "";
    for (size_t i = 0; i < sizeof forge_cases / sizeof forge_cases[0]; i++) {
        const struct forge_case *c = &forge_cases[i];
        char role[40];
        snprintf(role, sizeof role, "fkp_forge_%zu", i);
        setup s;
        make(&s, role, c->mode);
        char *dir = fkt_tempdir_or_fail("fkt-forge");
        fk_ctx *ctx = NULL;
        assert_int_equal(fk_open(&ctx, s.db, NULL), FK_OK);
        assert_ok(ctx, fk_export(NULL, ctx, dir, NULL));
        fkt_pg_exec(c->as_app ? s.app : s.db, c->sql); /* refused or not: judged below */
        assert_int_equal(fkt_pg_exec(s.db, SILENT_DELETE), 0);
        fk_doctor_options o;
        fk_doctor_options_init(&o, FK_DOCTOR_OPTIONS_VERSION);
        o.fixture_dir = dir;
        fk_report *r = NULL;
        int drc = fk_doctor(&r, ctx, &o);
        int reported = drc == FK_EVERIFY && r && has_item(r, "FK-LOSS", 1001);
        fk_report_free(r);
        r = NULL;
        int erc = fk_export(&r, ctx, dir, NULL);
        fk_report_free(r);
        char path[600];
        snprintf(path, sizeof path, "%s/cohort_definitions/t2dm-new-metformin-users.json", dir);
        struct stat st;
        int kept = erc == FK_ELOSS && stat(path, &st) == 0;
        if (!reported || !kept)
            snprintf(failures + strlen(failures), sizeof failures - strlen(failures),
                     "\n  %s:%s%s", c->name, reported ? "" : " doctor did not report FK-LOSS",
                     kept ? "" : " the export dropped the file");
        fk_close(ctx);
        fkt_rm_tree(dir);
        done(&s);
    }
    if (failures[0])
        fail_msg("forged rows that explained a loss:%s", failures);
}

/* The application role cannot write the log but through app_write(), which
 * stamps 'app', and not as another actor than its session states. */
static void app_writes_are_stamped(void **state)
{
    (void)state;
    setup s;
    make(&s, "fkp_appwrite", FK_AUDIT_APP);
    fk_ctx *app = NULL;
    if (fk_open(&app, s.app, NULL) != FK_OK)
        fail_msg("fk_open as the app role: %s", fk_errmsg(NULL));
    fk_audit_event ev;
    fk_audit_event_init(&ev, FK_AUDIT_EVENT_VERSION);
    ev.entity_type = "cohort_definition";
    ev.entity_id = 1001;
    ev.action = "updated";
    ev.actor_id = 42;
    ev.new_json = "{\"id\": 1001}";
    /* the library's own app write works as the app role */
    assert_ok(app, fk_audit_write(NULL, app, &ev));
    expect(s.db, CAPTURED_1001 " AND context = 'app' AND actor_id = 42", "1");
    /* ... but not as another actor than the session's stated one */
    assert_ok(app, fk_set_actor(app, 7, "seven@example.org", NULL));
    assert_int_not_equal(fk_audit_write(NULL, app, &ev), FK_OK);
    ev.actor_id = 7;
    assert_ok(app, fk_audit_write(NULL, app, &ev));
    /* no INSERT of its own, whatever it claims */
    assert_int_not_equal(fkt_pg_exec(s.app, FORGED_ROW("app")), 0);
    expect(s.db, CAPTURED_1001, "2");
    fk_close(app);
    done(&s);
}

/* The SECURITY DEFINER helper that builds entity documents: not for PUBLIC,
 * and never a way around the tables' own privileges. */
static void entity_doc_is_not_a_way_around_select(void **state)
{
    (void)state;
    setup s;
    make(&s, "fkp_entitydoc", FK_AUDIT_CAPTURE);
    assert_int_equal(fkt_pg_exec(s.db, "REVOKE SELECT ON app.cohort_definitions FROM "
                                       "fkp_entitydoc"),
                     0);
    assert_int_not_equal(fkt_pg_exec(s.app, "SELECT name FROM app.cohort_definitions"), 0);
    char *doc = fkt_pg_query1(s.app, "SELECT fortknox.entity_doc('cohort_definition', 1001, "
                                     "NULL)::text");
    if (doc)
        fail_msg("entity_doc returned a row the role may not read: %s", doc);
    /* not even with the right to execute it */
    assert_int_equal(fkt_pg_exec(s.db, "BEGIN; " MEMBER_OVERRIDE("ddl") "GRANT EXECUTE ON FUNCTION "
                                       "fortknox.entity_doc(text, bigint, jsonb) TO fkp_entitydoc;"
                                       " COMMIT"),
                     0);
    doc = fkt_pg_query1(s.app, "SELECT fortknox.entity_doc('cohort_definition', 1001, NULL)::text");
    if (doc)
        fail_msg("entity_doc returned a row the role may not read: %s", doc);
    /* capture still reads what the writer may not */
    assert_int_equal(fkt_pg_exec(s.app, "UPDATE app.cohort_definitions SET description = 'x'"),
                     0);
    expect(s.db, CAPTURED_1001 " AND action = 'updated' AND new_json ? 'name'", "1");
    /* nor a trigger of its own around the library's writers (EXECUTE is
     * checked when a trigger is created) */
    assert_int_equal(fkt_pg_exec(s.db, "GRANT TRIGGER ON app.concept_sets TO fkp_entitydoc"), 0);
    static const char *const own_triggers[] = {
        "CREATE TRIGGER x BEFORE INSERT ON app.concept_sets FOR EACH ROW EXECUTE FUNCTION "
        "fortknox.capture_mark('cohort_definition', 'id', 'name', '', 'child')",
        "CREATE TRIGGER y AFTER INSERT ON app.concept_sets FOR EACH ROW EXECUTE FUNCTION "
        "fortknox.capture_flush()",
        "CREATE TRIGGER z BEFORE TRUNCATE ON app.concept_sets FOR EACH STATEMENT EXECUTE "
        "FUNCTION fortknox.guard_truncate('cohort_definition', 'capture', 'id', 'name')",
    };
    for (size_t i = 0; i < sizeof own_triggers / sizeof own_triggers[0]; i++)
        if (fkt_pg_exec(s.app, own_triggers[i]) == 0)
            fail_msg("the application role wired a writer of the log: %s", own_triggers[i]);
    /* no SECURITY DEFINER function of the library is executable by PUBLIC */
    expect(s.db, "SELECT coalesce(string_agg(p.proname, ',' ORDER BY p.proname), '') FROM "
                 "pg_proc p WHERE p.pronamespace = 'fortknox'::regnamespace AND p.prosecdef AND "
                 "has_function_privilege('public', p.oid, 'EXECUTE')",
           "");
    done(&s);
}

/* restore applies only history the chain authenticates. */
static void restore_refuses_forged_history(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        int as_app;
        const char *sql;
    } cases[] = {
        {"app role inserts a row", 1,
         "INSERT INTO fortknox.audit_log (entity_type, entity_id, entity_name, action, new_json, "
         "context) SELECT 'cohort_definition', 1001, 'FORGED', 'updated', to_jsonb(c) || "
         "'{\"name\": \"FORGED\"}', 'capture' FROM app.cohort_definitions c WHERE id = 1001"},
        /* the chain trigger switched off by a superuser who switched the DDL
         * guard off first (an override could not be recorded: the log's
         * own chain is off): the row's hashes are whatever its author wrote */
        {"a row written past the chain trigger", 0,
         "BEGIN; " FKT_DDL_GUARD_OFF "ALTER TABLE fortknox.audit_log DISABLE TRIGGER fortknox_chain; "
         "INSERT INTO fortknox.audit_log (id, entity_type, entity_id, entity_name, action, "
         "new_json, context, prev_hash, row_hash) SELECT (SELECT coalesce(max(id), 0) + 1 FROM "
         "fortknox.audit_log), 'cohort_definition', 1001, 'FORGED', 'updated', to_jsonb(c) || "
         "'{\"name\": \"FORGED\"}', 'capture', (SELECT last_hash FROM fortknox.audit_head), "
         "repeat('f', 64) FROM app.cohort_definitions c WHERE id = 1001; SELECT "
         "setval('fortknox.audit_id_seq', (SELECT max(id) FROM fortknox.audit_log)); ALTER TABLE "
         "fortknox.audit_log ENABLE ALWAYS TRIGGER fortknox_chain; " FKT_DDL_GUARD_ON "COMMIT"},
    };
    char failures[2000] = "";
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char role[40];
        snprintf(role, sizeof role, "fkp_restore_%zu", i);
        setup s;
        make(&s, role, FK_AUDIT_CAPTURE);
        int forged_rc = fkt_pg_exec(cases[i].as_app ? s.app : s.db, cases[i].sql);
        /* the superuser can write past the chain: the restore must see it */
        if (!cases[i].as_app)
            assert_int_equal(forged_rc, 0);
        char *forged = q1(s.db, "SELECT coalesce(max(id), 0) FROM fortknox.audit_log WHERE "
                                "entity_name = 'FORGED'");
        long long id = atoll(forged);
        free(forged);
        if (id > 0) {
            fk_ctx *ctx = NULL;
            assert_int_equal(fk_open(&ctx, s.db, NULL), FK_OK);
            int rc = fk_entity_restore(NULL, ctx, "cohort_definition", 1001, NULL, id);
            char *name = q1(s.db, "SELECT name FROM app.cohort_definitions WHERE id = 1001");
            if (rc == FK_OK || strcmp(name, "FORGED") == 0)
                snprintf(failures + strlen(failures), sizeof failures - strlen(failures),
                         "\n  %s: restored from forged audit row %lld", cases[i].name, id);
            free(name);
            fk_close(ctx);
        }
        done(&s);
    }
    if (failures[0])
        fail_msg("restores from forged history:%s", failures);
}

/* The library's own paths that quiet capture (import, restore) work for a
 * member (the harness's superuser is one) and are refused to the
 * application role, naming the role it lacks. */
static void library_paths_need_the_privilege(void **state)
{
    (void)state;
    setup s;
    make(&s, "fkp_paths", FK_AUDIT_CAPTURE);
    char *dir = fkt_tempdir_or_fail("fkt-paths");
    fk_ctx *ctx = NULL;
    assert_int_equal(fk_open(&ctx, s.db, NULL), FK_OK);
    assert_ok(ctx, fk_export(NULL, ctx, dir, NULL));
    /* two transactions: capture records one row per entity per transaction */
    assert_int_equal(fkt_pg_exec(s.db, "UPDATE app.cohort_definitions SET name = 'Changed 1' "
                                       "WHERE id = 1001"),
                     0);
    assert_int_equal(fkt_pg_exec(s.db, "UPDATE app.cohort_definitions SET name = 'Changed 2' "
                                       "WHERE id = 1001"),
                     0);
    char *row = q1(s.db, "SELECT min(id) FROM fortknox.audit_log WHERE entity_id = 1001");
    long long first = atoll(row);
    free(row);
    fk_ctx *app = NULL;
    assert_int_equal(fk_open(&app, s.app, NULL), FK_OK);
    fk_report *r = NULL;
    assert_int_not_equal(fk_import(&r, app, dir, NULL), FK_OK);
    if (!strstr(fk_errmsg(app), "fortknox_override"))
        fail_msg("the refusal does not name the role: %s", fk_errmsg(app));
    assert_int_not_equal(fk_entity_restore(NULL, app, "cohort_definition", 1001, NULL, first),
                         FK_OK);
    /* acknowledging a loss explains it: a privilege too */
    assert_int_equal(fkt_pg_exec(s.db, FKT_BYPASSED("DELETE FROM app.cohort_definitions WHERE "
                                                    "id = 1002")),
                     0);
    fk_export_options eo;
    fk_export_options_init(&eo, FK_EXPORT_OPTIONS_VERSION);
    const char *accept[] = {"cohort_definition:1002"};
    eo.accept_loss = accept;
    eo.naccept_loss = 1;
    char *appdir = fkt_tempdir_or_fail("fkt-paths-app");
    assert_int_equal(fkt_sh("cp -a '%s/.' '%s'", dir, appdir), 0); /* the manifest lists 1002 */
    /* (the application role cannot export at all: it may not read the chain
     * head, which a manifest anchors; the privilege on write() is the second
     * line) */
    assert_int_not_equal(fk_export(NULL, app, appdir, &eo), FK_OK);
    fkt_rm_tree(appdir);
    expect(s.db, "SELECT count(*) FROM fortknox.audit_log WHERE action = 'loss_accepted'", "0");
    fk_close(app);
    /* a member: acknowledged, recorded */
    assert_ok(ctx, fk_export(NULL, ctx, dir, &eo));
    expect(s.db, "SELECT count(*) FROM fortknox.audit_log WHERE action = 'loss_accepted' AND "
                 "context = 'export'",
           "1");
    expect(s.db, "SELECT name FROM app.cohort_definitions WHERE id = 1001", "Changed 2");
    /* a member: restore and import go through, quiet, with their own rows */
    assert_ok(ctx, fk_entity_restore(NULL, ctx, "cohort_definition", 1001, NULL, first));
    expect(s.db, "SELECT name FROM app.cohort_definitions WHERE id = 1001", "Changed 1");
    expect(s.db, CAPTURED_1001 " AND context LIKE 'restore:%'", "1");
    assert_ok(ctx, fk_import(&r, ctx, dir, NULL));
    fk_report_free(r);
    expect(s.db, "SELECT name <> 'Changed 1' FROM app.cohort_definitions WHERE id = 1001", "t");
    expect(s.db, CAPTURED_1001 " AND context LIKE 'import:%'", "1");
    expect(s.db, CAPTURED_1001, "4"); /* 2 updates, the restore, the import: nothing else */
    fk_close(ctx);
    fkt_rm_tree(dir);
    done(&s);
}

int main(void)
{
    pg = fkt_pg_start_or_exit();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(overrides_are_privileges),
        cmocka_unit_test(set_role_lowers_the_override),
        cmocka_unit_test(a_members_override_holds_through_a_cascade),
        cmocka_unit_test(context_is_a_privilege),
        cmocka_unit_test(doctor_reports_stored_settings),
        cmocka_unit_test(forged_rows_explain_nothing),
        cmocka_unit_test(app_writes_are_stamped),
        cmocka_unit_test(entity_doc_is_not_a_way_around_select),
        cmocka_unit_test(restore_refuses_forged_history),
        cmocka_unit_test(library_paths_need_the_privilege),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    fkt_pg_stop(pg);
    return rc;
}
