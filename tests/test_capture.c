/* Capture against a real server (issue 16 items 1 and 3): every entity a
 * transaction touches gets one audit row holding its true state before the
 * transaction and its state as committed -- child-row changes, upserts,
 * truncates, application triggers whatever their names, savepoints,
 * replica sessions, a DML-only role -- and nothing when nothing changed.
 * Each case runs in a fresh database seeded before install, so the entity
 * has no audit history: "before" can only come from the table. */
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

static fkt_pg *pg;

/* the concept set the cases change, and its first item */
#define CS "app.concept_sets"
#define CSI "app.concept_set_items"
#define ITEM "(SELECT min(id) FROM " CSI " WHERE concept_set_id = 1001)"

typedef struct capture_case {
    const char *name;
    const char *setup;  /* run by the superuser before install (or NULL) */
    const char *change; /* what the application (or anyone) does */
    const char *type;   /* the entity looked at */
    long id;
    const char *actions; /* its audit rows' actions, in order ("" for none) */
    const char *refused; /* the change is refused with this in the message, nothing logged */
} capture_case;

/* An application trigger (named to sort before capture's "FK_capture") that
 * edits the row after it changed; depth 1 only, so it does not recurse. */
#define TOUCH_FN(name, body)                                                                      \
    "CREATE FUNCTION app." name "() RETURNS trigger LANGUAGE plpgsql AS $t$ BEGIN IF "             \
    "pg_trigger_depth() = 1 THEN " body "; END IF; RETURN NULL; END $t$; "
#define TOUCH_CS "UPDATE " CS " SET description = coalesce(description, '') || ' (touched)' WHERE id = NEW.id"

/* a role that may only read and write the application's tables */
#define DML_ROLE                                                                                  \
    "DO $r$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cap_dml') THEN CREATE "  \
    "ROLE cap_dml; END IF; END $r$; GRANT USAGE ON SCHEMA app TO cap_dml; GRANT SELECT, INSERT, " \
    "UPDATE, DELETE ON ALL TABLES IN SCHEMA app TO cap_dml; GRANT USAGE ON ALL SEQUENCES IN "      \
    "SCHEMA app TO cap_dml; "

static const capture_case cases[] = {
    /* (a) an item removed from a set that existed before install */
    {"child DELETE", NULL, "DELETE FROM " CSI " WHERE id = " ITEM, "concept_set", 1001, "updated",
     NULL},
    /* (b) */
    {"child UPDATE ... FROM", NULL,
     "UPDATE " CSI " i SET is_excluded = NOT i.is_excluded FROM " CS " s WHERE s.id = "
     "i.concept_set_id AND s.id = 1001",
     "concept_set", 1001, "updated", NULL},
    /* (c) the parents' previous children are recorded, and the next change's
     * "old" is what the truncate left */
    {"overridden child TRUNCATE, then a change", NULL,
     "BEGIN; SELECT fortknox.allow('truncate'); TRUNCATE " CSI "; COMMIT; UPDATE " CS
     " SET name = 'after the truncate' WHERE id = 1001",
     "concept_set", 1001, "updated,updated", NULL},
    {"overridden TRUNCATE ... CASCADE of the entity table", NULL,
     "BEGIN; SELECT fortknox.allow('truncate'); TRUNCATE " CS " CASCADE; COMMIT", "concept_set",
     1001, "force_deleted", NULL},
    /* (d) */
    {"child upsert (INSERT ... ON CONFLICT DO UPDATE)",
     "CREATE UNIQUE INDEX csi_once ON " CSI " (concept_set_id, concept_id)",
     "INSERT INTO " CSI " (concept_set_id, concept_id) SELECT concept_set_id, concept_id FROM " CSI
     " WHERE id = " ITEM " ON CONFLICT (concept_set_id, concept_id) DO UPDATE SET is_excluded = "
     "NOT " CSI ".is_excluded",
     "concept_set", 1001, "updated", NULL},
    /* (e) no-op updates write nothing, children included */
    {"child no-op UPDATE", NULL,
     "UPDATE " CSI " SET is_excluded = is_excluded WHERE concept_set_id = 1001", "concept_set",
     1001, "", NULL},
    {"entity no-op UPDATE", NULL, "UPDATE " CS " SET name = name WHERE id = 1001", "concept_set",
     1001, "", NULL},
    {"changed and changed back in one transaction", NULL,
     "BEGIN; UPDATE " CS " SET name = 'x' WHERE id = 1001; UPDATE " CS
     " SET name = 'Statins (seed)' WHERE id = 1001; COMMIT",
     "concept_set", 1001, "", NULL},
    /* (g) application triggers change the row after it was captured */
    {"application AFTER trigger sorting before capture",
     TOUCH_FN("touch", TOUCH_CS) "CREATE TRIGGER \"A_touch\" AFTER UPDATE ON " CS
                                 " FOR EACH ROW EXECUTE FUNCTION app.touch()",
     "UPDATE " CS " SET name = 'renamed' WHERE id = 1001", "concept_set", 1001, "updated", NULL},
    {"application AFTER trigger sorting after capture",
     TOUCH_FN("touch", TOUCH_CS) "CREATE TRIGGER z_touch AFTER UPDATE ON " CS
                                 " FOR EACH ROW EXECUTE FUNCTION app.touch()",
     "UPDATE " CS " SET name = 'renamed' WHERE id = 1001", "concept_set", 1001, "updated", NULL},
    {"application AFTER trigger on a child table",
     TOUCH_FN("mapped", "UPDATE " CSI " SET include_mapped = true WHERE id = NEW.id")
         "CREATE TRIGGER \"A_mapped\" AFTER INSERT ON " CSI
         " FOR EACH ROW EXECUTE FUNCTION app.mapped()",
     "INSERT INTO " CSI " (concept_set_id, concept_id) VALUES (1001, 4242)", "concept_set", 1001,
     "updated", NULL},
    /* one row per entity per transaction: the states other sessions saw */
    {"several statements in one transaction", NULL,
     "BEGIN; UPDATE " CS " SET name = 'a' WHERE id = 1001; DELETE FROM " CSI " WHERE id = " ITEM
     "; UPDATE " CS " SET name = 'b' WHERE id = 1001; COMMIT",
     "concept_set", 1001, "updated", NULL},
    {"created and force-deleted in one transaction", NULL,
     "BEGIN; INSERT INTO app.sccs_analyses (id, name, author_id) VALUES (5555, 'n', 1); SELECT "
     "fortknox.allow('hard_delete'); DELETE FROM app.sccs_analyses WHERE id = 5555; COMMIT",
     "sccs_analysis", 5555, "", NULL},
    {"item moved to another set", NULL,
     "UPDATE " CSI " SET concept_set_id = 1002 WHERE id = " ITEM, "concept_set", 1002, "updated",
     NULL},
    {"force delete cascading to the children", NULL,
     "BEGIN; SELECT fortknox.allow('hard_delete'); DELETE FROM " CS " WHERE id = 1001; COMMIT",
     "concept_set", 1001, "force_deleted", NULL},
    {"soft delete", NULL, "UPDATE " CS " SET deleted_at = now() WHERE id = 1001", "concept_set",
     1001, "deleted", NULL},
    /* savepoints: what was rolled back was never committed */
    {"change rolled back to a savepoint", NULL,
     "BEGIN; SAVEPOINT a; DELETE FROM " CSI " WHERE id = " ITEM "; ROLLBACK TO a; COMMIT",
     "concept_set", 1001, "", NULL},
    {"savepoint rolled back after an earlier change", NULL,
     "BEGIN; UPDATE " CS " SET name = 'kept' WHERE id = 1001; SAVEPOINT a; DELETE FROM " CSI
     " WHERE id = " ITEM "; ROLLBACK TO a; DELETE FROM " CSI " WHERE id = " ITEM "; COMMIT",
     "concept_set", 1001, "updated", NULL},
    /* who can switch it off */
    {"session_replication_role = replica", NULL,
     "BEGIN; SET LOCAL session_replication_role = replica; DELETE FROM " CSI " WHERE id = " ITEM
     "; COMMIT",
     "concept_set", 1001, "updated", NULL},
    {"COPY into a child table", NULL,
     "COPY " CSI " (concept_set_id, concept_id) FROM PROGRAM 'echo 1001,77777' WITH (FORMAT csv)",
     "concept_set", 1001, "updated", NULL},
    {"a DML-only role", DML_ROLE,
     "BEGIN; SET LOCAL ROLE cap_dml; DELETE FROM " CSI " WHERE id = " ITEM "; COMMIT",
     "concept_set", 1001, "updated", NULL},
    {"a DML-only role emptying the pending changes", DML_ROLE,
     "BEGIN; SET LOCAL ROLE cap_dml; DELETE FROM " CSI " WHERE id = " ITEM
     "; DELETE FROM fortknox.pending; COMMIT",
     "concept_set", 1001, "", "permission denied for schema fortknox"},
    {"the application's SECURITY DEFINER function",
     "CREATE FUNCTION app.drop_first() RETURNS void LANGUAGE sql SECURITY DEFINER AS $s$ DELETE "
     "FROM " CSI " WHERE id = " ITEM " $s$",
     "SELECT app.drop_first()", "concept_set", 1001, "updated", NULL},
    {"SET CONSTRAINTS ALL IMMEDIATE after the change", NULL,
     "BEGIN; DELETE FROM " CSI " WHERE id = " ITEM "; SET CONSTRAINTS ALL IMMEDIATE; COMMIT",
     "concept_set", 1001, "updated", NULL},
    /* an application BEFORE trigger that fires after FK_capture ("zz" sorts
     * after "FK") and moves the item to another set, or gives a new cohort
     * another id: the entity it lands in was never noted -- refused (it
     * committed with no audit row for set 1003 / cohort 701151) */
    {"a BEFORE trigger after capture moves a child row to another parent",
     "CREATE FUNCTION app.zz_move() RETURNS trigger LANGUAGE plpgsql AS $t$ BEGIN "
     "NEW.concept_set_id := 1003; RETURN NEW; END $t$; CREATE TRIGGER zz_move BEFORE UPDATE ON " CSI
     " FOR EACH ROW EXECUTE FUNCTION app.zz_move()",
     "UPDATE " CSI " SET is_excluded = NOT is_excluded WHERE id = " ITEM, "concept_set", 1003, "",
     "changed after fortknox noted the row"},
    {"a BEFORE trigger after capture changes a new entity's id",
     "CREATE FUNCTION app.zz_id() RETURNS trigger LANGUAGE plpgsql AS $t$ BEGIN NEW.id := NEW.id "
     "+ 700000; RETURN NEW; END $t$; CREATE TRIGGER zz_id BEFORE INSERT OR UPDATE ON "
     "app.cohort_definitions FOR EACH ROW EXECUTE FUNCTION app.zz_id()",
     "INSERT INTO app.cohort_definitions (id, name, author_id) VALUES (1151, 'ghost', 1)",
     "cohort_definition", 701151, "", "changed after fortknox noted the row"},
    /* the flush would run inside the marking trigger, before the change */
    {"SET CONSTRAINTS ALL IMMEDIATE before the change", NULL,
     "BEGIN; SET CONSTRAINTS ALL IMMEDIATE; DELETE FROM " CSI " WHERE id = " ITEM "; COMMIT",
     "concept_set", 1001, "", "would be recorded before its change is made"},
};

static int failures;

static int check(const char *db, const char *sql, const char *want, const char *name)
{
    char *v = fkt_q1(db, sql);
    int ok = strcmp(v, want) == 0;
    if (!ok) {
        printf("# %s:\n#   %s\n#   want: %s\n#   got:  %s\n", name, sql, want, v);
        failures++;
    }
    free(v);
    return ok;
}

/* A fresh seeded database (setup run first, by the superuser) with capture
 * installed. */
static fk_ctx *installed(char **db, const char *setup, const char *name)
{
    *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    if (setup && fkt_pg_exec(*db, setup) != 0)
        fail_msg("%s: setup failed", name);
    return fkt_open_installed(*db, 1, NULL);
}

static void one_case(const capture_case *c)
{
    char *db;
    fk_ctx *ctx = installed(&db, c->setup, c->name);
    char sql[1400];
    snprintf(sql, sizeof sql,
             "CREATE TABLE public.cap_before AS SELECT fortknox.entity_doc('%s', %ld, NULL) AS d",
             c->type, c->id);
    assert_int_equal(fkt_pg_exec(db, sql), 0);
    int rc = fk_exec(ctx, c->change);
    if (c->refused) {
        if (rc == FK_OK) {
            printf("# %s: not refused\n", c->name);
            failures++;
        } else if (!strstr(fk_errmsg(ctx), c->refused)) {
            printf("# %s: unexpected message: %s\n", c->name, fk_errmsg(ctx));
            failures++;
        }
        (void)!fk_exec(ctx, "ROLLBACK");
    } else if (rc != FK_OK) {
        printf("# %s: %s\n", c->name, fk_errmsg(ctx));
        failures++;
        (void)!fk_exec(ctx, "ROLLBACK");
    }
    /* the rows of the entity, in order */
    snprintf(sql, sizeof sql,
             "SELECT coalesce(string_agg(action, ',' ORDER BY id), '') FROM fortknox.audit_log "
             "WHERE entity_type = '%s' AND entity_id = %ld",
             c->type, c->id);
    check(db, sql, c->actions, c->name);
    /* and exact: the first holds the state before, each the state the one
     * before it left, the last the state committed */
    snprintf(sql, sizeof sql,
             "WITH h AS (SELECT id, old_json, new_json, lag(new_json) OVER (ORDER BY id) AS prev,"
             " row_number() OVER (ORDER BY id) AS n, count(*) OVER () AS k FROM "
             "fortknox.audit_log WHERE entity_type = '%s' AND entity_id = %ld) SELECT "
             "coalesce(string_agg(nullif(concat(CASE WHEN n = 1 AND old_json IS DISTINCT FROM "
             "(SELECT d FROM public.cap_before) THEN 'the first old is not the state before; ' "
             "END, CASE WHEN n > 1 AND old_json IS DISTINCT FROM prev THEN 'an old is not the "
             "previous new; ' END, CASE WHEN n = k AND new_json IS DISTINCT FROM "
             "fortknox.entity_doc('%s', %ld, NULL) THEN 'the last new is not the state "
             "committed' END), ''), ''), 'exact') FROM h",
             c->type, c->id, c->type, c->id);
    check(db, sql, "exact", c->name);
    /* nothing waits once the transaction is over (none on the starting point) */
    check(db, "SELECT CASE WHEN to_regclass('fortknox.pending') IS NULL THEN '0' ELSE "
              "(xpath('//n/text()', query_to_xml('SELECT count(*) AS n FROM "
              "fortknox.pending', false, false, '')))[1]::text END",
          "0", c->name);
    fk_report *vr = NULL;
    if (fk_audit_verify(&vr, ctx, NULL) != FK_OK) {
        printf("# %s: audit verify: %s\n", c->name, fk_errmsg(ctx));
        failures++;
    }
    fk_report_free(vr);
    fk_close(ctx);
    free(db);
}

static void capture_is_exact(void **state)
{
    (void)state;
    const char *only = getenv("FKT_CASE");
    failures = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (!only || strstr(cases[i].name, only))
            one_case(&cases[i]);
    if (failures)
        fail_msg("%d check(s) failed (listed above)", failures);
}

/* (f) import's old_json is the table's state, not the previous audit row's */
static void import_records_what_it_replaced(void **state)
{
    (void)state;
    failures = 0;
    char *db;
    fk_ctx *ctx = installed(&db, NULL, "import");
    char *dir = fkt_tempdir_or_fail("fk-cap-import");
    assert_int_equal(fk_export(NULL, ctx, dir, NULL), FK_OK);
    /* an audited change, then a raw edit nobody recorded */
    assert_int_equal(fkt_pg_exec(db, "UPDATE " CS " SET name = 'audited' WHERE id = 1001"), 0);
    assert_int_equal(fkt_pg_exec(db, FKT_BYPASSED("UPDATE " CS " SET description = 'raw edit "
                                                  "text' WHERE id = 1001")),
                     0);
    assert_int_equal(fk_import(NULL, ctx, dir, NULL), FK_OK);
    check(db, "SELECT old_json ->> 'description' FROM fortknox.audit_log WHERE entity_type = "
              "'concept_set' AND entity_id = 1001 AND context LIKE 'import:%'",
          "raw edit text", "import");
    assert_int_equal(failures, 0);
    check(db, "SELECT (old_json ->> 'name') || '>' || (new_json ->> 'name') FROM "
              "fortknox.audit_log WHERE entity_type = 'concept_set' AND entity_id = 1001 AND "
              "context LIKE 'import:%'",
          "audited>Statins (seed)", "import");
    assert_int_equal(failures, 0);
    assert_int_equal(fkt_rm_tree(dir), 0);
    fk_close(ctx);
    free(db);
}

/* Installs of earlier trigger sets, applied again: the catalog an older
 * install left (made by a superuser past the DDL guard), then what install
 * leaves on the entity and the child table (name:tgtype[:WHEN]; tgtype
 * bits: 1 row, 2 before, 4 insert, 8 delete, 16 update, 32 truncate). */
typedef struct upgrade_case {
    const char *name;
    const char *older;
} upgrade_case;

#define CD "app.cohort_definitions"
#define CD_ARGS "('cohort_definition', 'id', 'name', 'deleted_at', 'entity')"
#define CSI_ARGS "('concept_set', 'concept_set_id', 'name', 'deleted_at', 'child')"
#define OLDER_TRIGGER(name, when, table, fn, args)                                                \
    "CREATE OR REPLACE TRIGGER \"" name "\" " when " ON " table " FOR EACH ROW EXECUTE FUNCTION " \
    "fortknox." fn args "; ALTER TABLE " table " ENABLE ALWAYS TRIGGER \"" name "\"; "

static const upgrade_case upgrades[] = {
    /* trigger set 1 (installed by a library with other SQL: another "sql="
     * hash in the options): statement triggers on the child tables */
    {"per-statement child capture",
     FKT_DDL_GUARD_BYPASSED(
     "CREATE FUNCTION fortknox.capture_child() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN "
     "NULL; END'; CREATE TRIGGER \"FK_capture_ins\" AFTER INSERT ON " CSI " REFERENCING NEW TABLE "
     "AS fk_new FOR EACH STATEMENT EXECUTE FUNCTION fortknox.capture_child(); DROP TRIGGER "
     "\"FK_capture\" ON " CSI "; UPDATE fortknox.meta SET value = regexp_replace(value, "
     "';sql=[0-9a-f]+', ';sql=0123') WHERE key = 'options'")},
    /* trigger set 2: the delete guard and capture's check fired on every
     * UPDATE, and there were no key triggers */
    {"guard and check on every UPDATE",
     FKT_DDL_GUARD_BYPASSED(
     "DROP TRIGGER \"FK_guard_key\" ON " CD "; DROP TRIGGER \"FK_capture_check_key\" ON " CD
     "; DROP TRIGGER \"FK_capture_check_key\" ON " CSI "; "
     OLDER_TRIGGER("FK_guard_delete", "BEFORE DELETE OR UPDATE", CD, "guard_delete", "('id')")
     OLDER_TRIGGER("FK_capture_check", "AFTER INSERT OR UPDATE", CD, "capture_check", CD_ARGS)
     OLDER_TRIGGER("FK_capture_check", "AFTER INSERT OR UPDATE", CSI, "capture_check", CSI_ARGS)
     "UPDATE fortknox.meta SET value = regexp_replace(value, ';sql=[0-9a-f]+', ';sql=0123') "
     "WHERE key = 'options'")},
};

#define KEY_WHEN(col) ":(old." col " IS DISTINCT FROM new." col ")"
#define TRIGGER_SET(table)                                                                        \
    "SELECT string_agg(concat_ws(':', tgname, tgtype, substring(pg_get_triggerdef(oid) FROM ' "  \
    "WHEN \\((.*)\\) EXECUTE FUNCTION ')), ',' ORDER BY tgname) FROM pg_trigger WHERE tgrelid = " \
    "'" table "'::regclass AND tgname LIKE 'FK\\_%'"

static int install_changed(fk_ctx *ctx)
{
    fk_install_options o;
    fk_install_options_init(&o, FK_INSTALL_OPTIONS_VERSION);
    o.mode = FK_AUDIT_CAPTURE;
    fk_report *r = NULL;
    assert_int_equal(fk_install(&r, ctx, &o), FK_OK);
    int changed = (int)fk_report_counter(r, "changed");
    fk_report_free(r);
    return changed;
}

static void install_replaces_older_trigger_sets(void **state)
{
    (void)state;
    failures = 0;
    for (size_t i = 0; i < sizeof upgrades / sizeof upgrades[0]; i++) {
        const upgrade_case *u = &upgrades[i];
        char *db;
        fk_ctx *ctx = installed(&db, NULL, u->name);
        if (fkt_pg_exec(db, u->older) != 0)
            fail_msg("%s: making the older install failed", u->name);
        if (install_changed(ctx) != 1)
            fail_msg("%s: install took the older install for up to date", u->name);
        check(db, TRIGGER_SET(CD),
              "FK_capture:31,FK_capture_check:5,FK_capture_check_key:17" KEY_WHEN("id")
              ",FK_guard_delete:11,FK_guard_key:17" KEY_WHEN("id") ",FK_guard_truncate:34",
              u->name);
        check(db, TRIGGER_SET(CSI),
              "FK_capture:31,FK_capture_check:5,FK_capture_check_key:17" KEY_WHEN(
                  "concept_set_id") ",FK_guard_truncate:34",
              u->name);
        check(db,
              "SELECT count(*) FROM pg_proc WHERE proname IN ('capture_child', 'capture_entity')",
              "0", u->name);
        fk_report *r = NULL;
        int drc = fk_doctor(&r, ctx, NULL);
        for (size_t k = 0; drc != FK_OK && r && k < fk_report_item_count(r); k++)
            printf("# %s: doctor: %s %s\n", u->name, fk_report_item_at(r, k)->code,
                   fk_report_item_at(r, k)->message);
        failures += drc != FK_OK;
        fk_report_free(r);
        /* and the next install has nothing to do (the catalog's
         * fingerprint reads the key triggers' WHEN) */
        if (install_changed(ctx) != 0) {
            printf("# %s: a second install was not up to date\n", u->name);
            failures++;
        }
        fk_close(ctx);
        free(db);
    }
    assert_int_equal(failures, 0);
}

/* ------------------------------------------------ the key triggers */

/* The UPDATE halves of the delete guard and of capture's check fire only
 * when the row's key changed (FK_guard_key, FK_capture_check_key: AFTER
 * UPDATE ... WHEN): every other UPDATE calls neither function. A type whose
 * key is not called id and whose names need quoting, with a child whose
 * parent key follows the parent's (ON UPDATE CASCADE). */
#define ODD_SCHEMA                                                                                \
    "CREATE TABLE app.\"Odd Things\" (\"Thing Key\" bigint PRIMARY KEY, name text NOT NULL, "    \
    "deleted_at timestamp); CREATE TABLE app.\"Odd Parts\" (id bigint PRIMARY KEY, \"Thing "      \
    "Ref\" bigint REFERENCES app.\"Odd Things\" ON DELETE CASCADE ON UPDATE CASCADE, v int NOT "  \
    "NULL DEFAULT 0); INSERT INTO app.\"Odd Things\" VALUES (1, 'one', NULL), (2, 'two', NULL); " \
    "INSERT INTO app.\"Odd Parts\" VALUES (10, 1, 0), (11, 2, 0)"
#define ODD_REGISTRY                                                                              \
    "{\"format\": \"fortknox-registry\", \"format_version\": 1, \"entities\": [{\"type\": "       \
    "\"odd_thing\", \"table\": \"app.Odd Things\", \"directory\": \"odd\", \"primary_key\": "     \
    "\"Thing Key\", \"soft_delete_column\": \"deleted_at\", \"children\": [{\"key\": \"parts\", "  \
    "\"table\": \"app.Odd Parts\", \"foreign_key\": \"Thing Ref\"}]}]}"
#define ODD "app.\"Odd Things\""
#define PARTS "app.\"Odd Parts\""
/* an application BEFORE trigger on the things: "zz" sorts after every
 * FK_ trigger, "A" before */
#define REKEY(trg, delta)                                                                         \
    "CREATE FUNCTION app." trg "() RETURNS trigger LANGUAGE plpgsql AS $t$ BEGIN NEW.\"Thing "    \
    "Key\" := NEW.\"Thing Key\" + " delta "; RETURN NEW; END $t$; CREATE TRIGGER \"" trg          \
    "\" BEFORE UPDATE ON " ODD " FOR EACH ROW EXECUTE FUNCTION app." trg "(); "
#define QUIET "SELECT fortknox.allow('context'); SET LOCAL fortknox.context = 'import:x'; "

typedef struct key_case {
    const char *name;
    int capture;         /* installed in capture mode, else app mode */
    const char *setup;   /* the application's triggers, or NULL */
    const char *change;  /* run in one transaction */
    const char *refused; /* refused with this in the message, or NULL */
    int guard_calls, check_calls; /* calls of guard_delete and capture_check, when not refused */
} key_case;

static const key_case key_cases[] = {
    {"capture: entity UPDATE keeping the key", 1, NULL,
     "UPDATE " ODD " SET name = 'renamed' WHERE \"Thing Key\" = 1", NULL, 0, 0},
    {"capture: every entity updated, the key named but kept", 1, NULL,
     "UPDATE " ODD " SET \"Thing Key\" = \"Thing Key\", name = name || '!'", NULL, 0, 0},
    {"capture: child UPDATE keeping the parent key", 1, NULL,
     "UPDATE " PARTS " SET v = v + 1", NULL, 0, 0},
    {"capture: entity INSERT", 1, NULL, "INSERT INTO " ODD " VALUES (3, 'three', NULL)", NULL, 0,
     1},
    {"capture: overridden entity DELETE", 1, NULL,
     "SELECT fortknox.allow('hard_delete'); DELETE FROM " ODD " WHERE \"Thing Key\" = 1", NULL, 1,
     0},
    {"capture: child moved to another parent", 1, NULL,
     "UPDATE " PARTS " SET \"Thing Ref\" = 2 WHERE id = 10", NULL, 0, 1},
    {"capture: overridden key change, cascading to the child", 1, NULL,
     "SELECT fortknox.allow('hard_delete'); UPDATE " ODD " SET \"Thing Key\" = 7 WHERE \"Thing "
     "Key\" = 1",
     NULL, 1, 2},
    {"capture: key change", 1, NULL, "UPDATE " ODD " SET \"Thing Key\" = 7 WHERE \"Thing Key\" = 1",
     "changing the id of Odd Things id 1 to 7 blocked", 0, 0},
    {"capture: a BEFORE trigger after capture changes the key", 1, REKEY("zz_rekey", "100"),
     "UPDATE " ODD " SET name = 'renamed' WHERE \"Thing Key\" = 1",
     "odd_thing id 101 changed after fortknox noted the row", 0, 0},
    {"capture, quieted session: a BEFORE trigger after the guard changes the key", 1,
     REKEY("zz_rekey", "100"), QUIET "UPDATE " ODD " SET name = 'renamed' WHERE \"Thing Key\" = 1",
     "changing the id of Odd Things id 1 to 101 blocked", 0, 0},
    {"capture: a BEFORE trigger before the guard changes the key, one after changes it back", 1,
     REKEY("A_rekey", "100") REKEY("zz_back", "-100"),
     "UPDATE " ODD " SET name = 'renamed' WHERE \"Thing Key\" = 1", NULL, 0, 0},
    {"app: entity UPDATE keeping the key", 0, NULL,
     "UPDATE " ODD " SET name = 'renamed' WHERE \"Thing Key\" = 1", NULL, 0, 0},
    {"app: a BEFORE trigger after the guard changes the key", 0, REKEY("zz_rekey", "100"),
     "UPDATE " ODD " SET name = 'renamed' WHERE \"Thing Key\" = 1",
     "changing the id of Odd Things id 1 to 101 blocked", 0, 0},
    {"app: a BEFORE trigger before the guard changes the key, one after changes it back", 0,
     REKEY("A_rekey", "100") REKEY("zz_back", "-100"),
     "UPDATE " ODD " SET name = 'renamed' WHERE \"Thing Key\" = 1", NULL, 0, 0},
};

/* The change in one transaction, then the calls it made ("guard,check"), or
 * its error message (malloc'd). */
static char *run_counted(const char *db, const char *change)
{
    PGconn *c = PQconnectdb(db);
    if (PQstatus(c) != CONNECTION_OK)
        fail_msg("connect: %s", PQerrorMessage(c));
    PQsetNoticeProcessor(c, NULL, NULL);
    PGresult *r = PQexec(c, "BEGIN; SET LOCAL track_functions = 'all'");
    PQclear(r);
    r = PQexec(c, change);
    char *out;
    if (PQresultStatus(r) == PGRES_FATAL_ERROR) {
        out = strdup(PQresultErrorMessage(r));
    } else {
        PQclear(r);
        r = PQexec(c, "SELECT concat(coalesce(pg_stat_get_xact_function_calls('fortknox."
                      "guard_delete()'::regprocedure), 0), ',', coalesce("
                      "pg_stat_get_xact_function_calls('fortknox.capture_check()'::regprocedure),"
                      " 0))");
        out = strdup(PQresultStatus(r) == PGRES_TUPLES_OK ? PQgetvalue(r, 0, 0)
                                                          : PQresultErrorMessage(r));
    }
    PQclear(r);
    r = PQexec(c, "COMMIT");
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        char *e = malloc(strlen(out) + strlen(PQresultErrorMessage(r)) + 12);
        sprintf(e, "%s; COMMIT: %s", out, PQresultErrorMessage(r));
        free(out);
        out = e;
    }
    PQclear(r);
    PQfinish(c);
    for (char *p = out; *p; p++) /* one line of TAP */
        if (*p == '\n')
            *p = ' ';
    return out;
}

static void one_key_case(const key_case *k, const char *registry)
{
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    if (fkt_pg_exec(db, ODD_SCHEMA) != 0 || (k->setup && fkt_pg_exec(db, k->setup) != 0))
        fail_msg("%s: setup failed", k->name);
    fk_ctx *ctx = fkt_open_installed_registry(db, k->capture, NULL, registry);
    char *got = run_counted(db, k->change), want[40];
    snprintf(want, sizeof want, "%d,%d", k->guard_calls, k->check_calls);
    if (k->refused ? !strstr(got, k->refused) : strcmp(got, want) != 0) {
        printf("# %s:\n#   want: %s\n#   got:  %s\n", k->name, k->refused ? k->refused : want,
               got);
        failures++;
    }
    free(got);
    fk_close(ctx);
    free(db);
}

static void key_triggers_fire_only_when_the_key_changes(void **state)
{
    (void)state;
    failures = 0;
    char *dir = fkt_tempdir_or_fail("fk-cap-keys");
    char path[300];
    snprintf(path, sizeof path, "%s/registry.json", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(ODD_REGISTRY, f);
    assert_int_equal(fclose(f), 0);
    const char *only = getenv("FKT_CASE");
    for (size_t i = 0; i < sizeof key_cases / sizeof key_cases[0]; i++)
        if (!only || strstr(key_cases[i].name, only))
            one_key_case(&key_cases[i], path);
    assert_int_equal(fkt_rm_tree(dir), 0);
    if (failures)
        fail_msg("%d check(s) failed (listed above)", failures);
}

int main(void)
{
    pg = fkt_pg_start_or_exit();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(capture_is_exact),
        cmocka_unit_test(import_records_what_it_replaced),
        cmocka_unit_test(install_replaces_older_trigger_sets),
        cmocka_unit_test(key_triggers_fire_only_when_the_key_changes),
    };
    if (getenv("FKT_ONLY"))
        cmocka_set_test_filter(getenv("FKT_ONLY"));
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    fkt_pg_stop(pg);
    return rc;
}
