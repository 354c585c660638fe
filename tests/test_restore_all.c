/* Restoring from the audit log against a real server: the state at a time
 * (docs/recovery.md), restore of a force-deleted entity with no earlier
 * history, old_json read from the table, and fk_restore_all / `restore
 * --all` (one transaction, soft-deletion, dry run, type filter, refusals). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <fortknox.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fkt.h"

static fkt_pg *pg;

/* A context on db with libfortknox installed in mode (fkt_install.c). */
static fk_ctx *open_mode(const char *db, const char *registry, fk_audit_mode mode)
{
    return fkt_open_installed_registry(db, mode == FK_AUDIT_CAPTURE, NULL, registry);
}

static fk_ctx *open_ctx(const char *db, const char *registry)
{
    return open_mode(db, registry, FK_AUDIT_CAPTURE);
}

static void run(const char *db, const char *sql)
{
    if (fkt_pg_exec(db, sql) != 0)
        fail_msg("refused: %s", sql);
}

static void expect(const char *db, const char *sql, const char *want)
{
    char *v = fkt_q1(db, sql);
    if (strcmp(v, want) != 0)
        fail_msg("%s\n  want: %s\n  got:  %s", sql, want, v);
    free(v);
}

/* A time after every audit row written so far and before every later one:
 * the clock now, then a wait until the stored time (at whatever precision
 * the audit table keeps) of any later row must be past it. */
static char *tick(const char *db)
{
    char *t = fkt_q1(db, "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', "
                         "'YYYY-MM-DD HH24:MI:SS.US')");
    char sql[200];
    snprintf(sql, sizeof sql,
             "SELECT date_trunc('second', clock_timestamp() AT TIME ZONE 'UTC') > '%s'::timestamp",
             t);
    for (;;) { /* a wait for a condition, not a sleep: at most one second */
        char *past = fkt_q1(db, sql);
        int done = strcmp(past, "t") == 0;
        free(past);
        if (done)
            return t;
    }
}

/* Every row of the design tables and the audit row count: what "nothing
 * changed" is compared with. */
static char *dump(const char *db)
{
    return fkt_q1(db, "SELECT concat_ws(E'\\n',"
                      " (SELECT string_agg(x::text, ';' ORDER BY x.id) FROM app.cohort_definitions x),"
                      " (SELECT string_agg(x::text, ';' ORDER BY x.id) FROM app.concept_sets x),"
                      " (SELECT string_agg(x::text, ';' ORDER BY x.id) FROM app.concept_set_items x),"
                      " (SELECT string_agg(x::text, ';' ORDER BY x.id) FROM app.sccs_analyses x),"
                      " (SELECT count(*) FROM fortknox.audit_log))");
}

/* A copy of row `from` of table with the given JSON merged in. */
static void copy_row(const char *db, const char *table, int from, const char *merge)
{
    char sql[600];
    snprintf(sql, sizeof sql,
             "INSERT INTO %s SELECT (jsonb_populate_record(NULL::%s, to_jsonb(s) || '%s')).*"
             " FROM %s s WHERE id = %d",
             table, table, merge, table, from);
    run(db, sql);
}

static fk_report *restore_all(fk_ctx *ctx, const char *as_of, const char *type, int dry)
{
    fk_restore_all_options o;
    fk_restore_all_options_init(&o, FK_RESTORE_ALL_OPTIONS_VERSION);
    o.as_of = as_of;
    o.entity_type = type;
    o.flags = dry ? FK_RESTORE_ALL_DRY_RUN : 0;
    fk_report *r = NULL;
    assert_ok(ctx, fk_restore_all(&r, ctx, &o));
    return r;
}

static const char forced_delete[] =
    "BEGIN; SELECT fortknox.allow('hard_delete'); DELETE FROM app.concept_sets WHERE id = 1002;"
    " COMMIT";

/* An entity with no history before an overridden force-deletion: its state
 * is in the deletion row's old_json, and each way of asking for it restores
 * it (the first case failed before: "has no audit history"/"did not exist"). */
static void force_deleted_without_history(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    fk_ctx *ctx = open_ctx(db, NULL);
    static const char whole[] =
        "SELECT s::text || (SELECT string_agg(i::text, ';' ORDER BY i.id) FROM"
        " app.concept_set_items i WHERE i.concept_set_id = 1002) FROM app.concept_sets s WHERE"
        " id = 1002";
    char *original = fkt_q1(db, whole);
    char *before = tick(db);
    enum { BY_AUDIT_ID, BY_TIME, BY_DELETION_ROW, BY_RESTORE_ALL };
    for (int mode = BY_AUDIT_ID; mode <= BY_RESTORE_ALL; mode++) {
        run(db, forced_delete);
        expect(db, "SELECT count(*) FROM app.concept_sets WHERE id = 1002", "0");
        char *row = fkt_q1(db, "SELECT max(id) FROM fortknox.audit_log WHERE entity_id = 1002 AND"
                               " action = 'force_deleted'");
        char *doc = NULL;
        if (mode == BY_AUDIT_ID)
            assert_ok(ctx, fk_entity_as_of(&doc, ctx, "concept_set", 1002, NULL, atoll(row)));
        else
            assert_ok(ctx, fk_entity_as_of(&doc, ctx, "concept_set", 1002, before, 0));
        if (!strstr(doc, "\"items\": [{"))
            fail_msg("mode %d: %s", mode, doc);
        fk_free(doc);
        fk_report *r = NULL;
        if (mode == BY_RESTORE_ALL) {
            r = restore_all(ctx, before, NULL, 0);
            assert_int_equal(fk_report_counter(r, "reinserted"), 1);
        } else {
            assert_ok(ctx, fk_entity_restore(&r, ctx, "concept_set", 1002,
                                             mode == BY_TIME ? before : NULL,
                                             mode == BY_AUDIT_ID ? atoll(row) : 0));
        }
        fk_report_free(r);
        expect(db, whole, original);
        /* the restore's row: what the table held before (nothing) and after */
        expect(db, "SELECT action || ':' || (old_json IS NULL) || ':' || (new_json ->> 'name')"
                   " FROM fortknox.audit_log ORDER BY id DESC LIMIT 1",
               "restored:true:ACE inhibitors — excl. combination products");
        free(row);
    }
    /* with neither time nor row, an entity that was not deleted is refused */
    assert_int_equal(fk_entity_restore(NULL, ctx, "concept_set", 1002, NULL, 0), FK_EINVAL);
    assert_non_null(strstr(fk_errmsg(ctx), "was not deleted"));
    assert_ok(ctx, fk_audit_verify(NULL, ctx, NULL));
    free(before);
    free(original);
    fk_close(ctx);
    free(db);
}

/* A restore's old_json is what the table held, not what the log last said:
 * an edit made with capture switched off is kept in the log. */
static void old_json_read_from_the_table(void **state)
{
    (void)state;
    for (int all = 0; all <= 1; all++) {
        char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
        fk_ctx *ctx = open_ctx(db, NULL);
        run(db, "UPDATE app.concept_sets SET name = 'v2' WHERE id = 1001");
        char *t = tick(db);
        run(db, FKT_BYPASSED("UPDATE app.concept_sets SET name = 'raw edit' WHERE id = 1001"));
        fk_report *r = NULL;
        if (all) {
            r = restore_all(ctx, t, NULL, 0);
        } else {
            assert_ok(ctx, fk_entity_restore(&r, ctx, "concept_set", 1001, t, 0));
        }
        fk_report_free(r);
        expect(db, "SELECT name FROM app.concept_sets WHERE id = 1001", "v2");
        expect(db, "SELECT (old_json ->> 'name') || '>' || (new_json ->> 'name') FROM"
                   " fortknox.audit_log WHERE entity_id = 1001 AND entity_type = 'concept_set'"
                   " ORDER BY id DESC LIMIT 1",
               "raw edit>v2");
        free(t);
        fk_close(ctx);
        free(db);
    }
}

static const fk_report_item *item_of(const fk_report *r, const char *type, int64_t id)
{
    for (size_t i = 0; i < fk_report_item_count(r); i++) {
        const fk_report_item *it = fk_report_item_at(r, i);
        if (it->entity_type && strcmp(it->entity_type, type) == 0 && it->entity_id == id)
            return it;
    }
    return NULL;
}

/* The state at T1 of the entities an incident changed after it. */
static const char state_sql[] =
    "SELECT concat_ws('|',"
    " (SELECT name FROM app.cohort_definitions WHERE id = 1001),"
    " (SELECT string_agg(i::text, ';' ORDER BY i.id) FROM app.concept_set_items i WHERE"
    "  concept_set_id = 1001),"
    " (SELECT string_agg(s::text, ';' ORDER BY s.id) FROM app.sccs_analyses s),"
    " (SELECT string_agg(c::text, ';' ORDER BY c.id) FROM app.cohort_definitions c WHERE"
    "  c.id IN (1003, 1004)))";

/* An incident after T1: an entity changed twice (between, and after T2), a
 * child row changed, an entity created, two force-deleted (one the target of
 * another's self-reference, set NULL by the cascade). Restoring to T1
 * puts each back its own way; a dry run changes nothing; --type limits it;
 * a second restore finds nothing to do. */
static void restore_all_to_a_time(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    fk_ctx *ctx = open_ctx(db, NULL);
    /* concept set 1001's state is recorded before t0 (a child change on an
     * entity without history is recorded without its earlier state: issue
     * 16, item 1) */
    run(db, "UPDATE app.cohort_definitions SET name = 'before' WHERE id = 1001;"
            " UPDATE app.concept_sets SET description = 'before' WHERE id = 1001");
    char *t0 = tick(db);
    char *sccs = fkt_q1(db, "SELECT min(id) FROM app.sccs_analyses");
    char *at_t0 = fkt_q1(db, state_sql); /* 2001 does not exist yet */
    run(db, "UPDATE app.cohort_definitions SET name = 'between' WHERE id = 1001");
    char *t1 = tick(db);
    run(db, "UPDATE app.cohort_definitions SET name = 'after' WHERE id = 1001;"
            " UPDATE app.concept_set_items SET is_excluded = NOT is_excluded WHERE id = 100001");
    copy_row(db, "app.concept_sets", 1002, "{\"id\": 2001, \"name\": \"created after\"}");
    char del[300];
    snprintf(del, sizeof del, "BEGIN; SELECT fortknox.allow('hard_delete'); DELETE FROM"
                              " app.sccs_analyses WHERE id = %s; DELETE FROM"
                              " app.cohort_definitions WHERE id = 1004; COMMIT", sccs);
    run(db, del);
    char *during = fkt_q1(db, state_sql);

    /* the state at a time between two changes, and before a creation */
    char *doc = NULL;
    assert_ok(ctx, fk_entity_as_of(&doc, ctx, "cohort_definition", 1001, t1, 0));
    assert_non_null(strstr(doc, "\"name\": \"between\""));
    fk_free(doc);
    assert_int_equal(fk_entity_as_of(&doc, ctx, "concept_set", 2001, t1, 0), FK_ENOTFOUND);
    assert_non_null(strstr(fk_errmsg(ctx), "did not exist"));

    /* a dry run: every change listed with its diff, nothing changed */
    char *dump_before = dump(db);
    fk_report *r = restore_all(ctx, t0, NULL, 1);
    char *dump_after = dump(db);
    assert_string_equal(dump_before, dump_after);
    assert_int_equal(fk_report_counter(r, "restored"), 3);
    assert_int_equal(fk_report_counter(r, "reinserted"), 2);
    assert_int_equal(fk_report_counter(r, "soft_deleted"), 1);
    const fk_report_item *it = item_of(r, "cohort_definition", 1001);
    assert_non_null(it);
    assert_non_null(strstr(it->fields, "~ $.name: \\\"after\\\" → \\\"before\\\""));
    it = item_of(r, "concept_set", 1001);
    assert_non_null(it);
    assert_non_null(strstr(it->fields, "$.items[0].is_excluded"));
    fk_report_free(r);
    free(dump_before);
    free(dump_after);

    /* one type only */
    r = restore_all(ctx, t0, "cohort_definition", 0);
    assert_int_equal(fk_report_counter(r, "restored"), 2);
    assert_int_equal(fk_report_counter(r, "reinserted"), 1);
    fk_report_free(r);
    expect(db, "SELECT name FROM app.cohort_definitions WHERE id = 1001", "before");
    expect(db, "SELECT is_excluded::text FROM app.concept_set_items WHERE id = 100001", "true");

    /* everything */
    r = restore_all(ctx, t0, NULL, 0);
    assert_int_equal(fk_report_counter(r, "restored"), 1); /* concept_set 1001's item */
    assert_int_equal(fk_report_counter(r, "reinserted"), 1);
    assert_int_equal(fk_report_counter(r, "soft_deleted"), 1);
    fk_report_free(r);
    char *now = fkt_q1(db, state_sql);
    assert_string_equal(now, at_t0);
    assert_string_not_equal(during, at_t0);
    /* 2001 did not exist at t0: present now, so soft-deleted */
    expect(db, "SELECT (deleted_at IS NOT NULL)::text FROM app.concept_sets WHERE id = 2001",
           "true");
    expect(db, "SELECT string_agg(entity_type || ':' || action || ':' || (old_json IS NULL), ','"
               " ORDER BY id) FROM fortknox.audit_log WHERE context LIKE 'restore-all:as-of:%'",
               "cohort_definition:restored:false,cohort_definition:restored:false,"
               "cohort_definition:restored:true,concept_set:restored:false,"
               "concept_set:deleted:false,sccs_analysis:restored:true");
    /* each restore row holds what was committed (self-references included) */
    expect(db, "SELECT bool_and(new_json = fortknox.entity_doc(entity_type, entity_id, NULL))"
               "::text FROM fortknox.audit_log WHERE context LIKE 'restore-all:as-of:%'",
           "true");
    /* the re-inserted entity equals its state then, children and all */
    char sql[300];
    snprintf(sql, sizeof sql, "SELECT (fortknox.entity_doc('sccs_analysis', %s, NULL) ="
                              " (SELECT old_json FROM fortknox.audit_log WHERE entity_id = %s AND"
                              " action = 'force_deleted'))::text", sccs, sccs);
    expect(db, sql, "true");

    /* again, to t0 and to now (the restore's own rows): nothing to do, nothing
     * audited */
    char *count = fkt_q1(db, "SELECT count(*) FROM fortknox.audit_log");
    char *t2 = tick(db);
    const char *again[] = {t0, t2};
    for (int k = 0; k < 2; k++) {
        r = restore_all(ctx, again[k], NULL, 0);
        assert_int_equal(fk_report_counter(r, "restored") + fk_report_counter(r, "reinserted") +
                             fk_report_counter(r, "soft_deleted"),
                         0);
        assert_true(fk_report_counter(r, "unchanged") > 10);
        fk_report_free(r);
    }
    free(t2);
    char *count2 = fkt_q1(db, "SELECT count(*) FROM fortknox.audit_log");
    assert_string_equal(count, count2);
    assert_ok(ctx, fk_audit_verify(NULL, ctx, NULL));
    free(count);
    free(count2);
    free(now);
    free(during);
    free(at_t0);
    free(sccs);
    free(t0);
    free(t1);
    fk_close(ctx);
    free(db);
}

/* The built-in registry with the soft-delete column of one type removed. */
static char *registry_without_soft_delete(const char *type)
{
    char *text = fkt_slurp(FKT_SOURCE_ROOT "/docs/parthenon-registry.json", NULL);
    assert_non_null(text);
    char key[100];
    snprintf(key, sizeof key, "\"type\": \"%s\"", type);
    char *at = strstr(text, key);
    assert_non_null(at);
    static const char sd[] = "\"soft_delete_column\": \"deleted_at\",";
    char *col = strstr(at, sd);
    assert_non_null(col);
    memmove(col, col + strlen(sd), strlen(col + strlen(sd)) + 1);
    char *dir = fkt_tempdir_or_fail("fk-registry");
    char *path = malloc(strlen(dir) + 32);
    sprintf(path, "%s/registry.json", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    free(text);
    free(dir);
    return path;
}

/* An application's audit row without the state before (app mode). */
static void app_update_without_old(fk_ctx *ctx)
{
    fk_audit_event ev;
    fk_audit_event_init(&ev, FK_AUDIT_EVENT_VERSION);
    ev.entity_type = "cohort_definition";
    ev.entity_id = 1001;
    ev.action = "updated";
    ev.new_json = "{\"id\": 1001, \"name\": \"after\"}";
    assert_ok(ctx, fk_audit_write(NULL, ctx, &ev));
}

/* Refusals change nothing, all in one transaction: a type that would need a
 * soft-delete column it does not have (named, with the entity), a row the
 * database refuses half-way (a CHECK that the state then violates), an audit
 * chain that does not verify, a state the log does not record. */
static void restore_all_refusals_change_nothing(void **state)
{
    (void)state;
    enum { NO_SOFT_DELETE, CHECK, TAMPERED, UNKNOWN_STATE };
    static const struct {
        const char *name;
        int kind;
        int status;
        const char *says[2];
    } cases[] = {
        {"no soft-delete column", NO_SOFT_DELETE, FK_ECONFLICT,
         {"sccs_analysis has no soft-delete", "3001"}},
        {"a CHECK refuses a row half-way", CHECK, FK_EDB, {"no_seed", NULL}},
        {"the chain does not verify", TAMPERED, FK_ETAMPER, {"does not verify", NULL}},
        {"an app row without its state before", UNKNOWN_STATE, FK_ENOTFOUND,
         {"cohort_definition 1001: the audit log does not record its state", "(updated)"}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int kind = cases[i].kind;
        char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
        char *registry = kind == NO_SOFT_DELETE ? registry_without_soft_delete("sccs_analysis")
                                                : NULL;
        fk_ctx *ctx = open_mode(db, registry, kind == UNKNOWN_STATE ? FK_AUDIT_APP
                                                                     : FK_AUDIT_CAPTURE);
        run(db, "UPDATE app.concept_sets SET description = 'changed' WHERE id = 1001");
        char *t = tick(db);
        run(db, "UPDATE app.cohort_definitions SET name = 'after' WHERE id = 1001");
        if (kind == NO_SOFT_DELETE) {
            char *from = fkt_q1(db, "SELECT min(id) FROM app.sccs_analyses");
            copy_row(db, "app.sccs_analyses", atoi(from), "{\"id\": 3001}");
            free(from);
        } else if (kind == CHECK) {
            run(db, FKT_DDL_GUARD_BYPASSED(
                        "UPDATE app.concept_sets SET name = 'renamed' WHERE id = 1001;"
                        " ALTER TABLE app.concept_sets ADD CONSTRAINT no_seed CHECK (name NOT"
                        " LIKE '%(seed)') NOT VALID"));
        } else if (kind == TAMPERED) {
            fkt_seal(db); /* a sealed row altered (unsealed ones are the documented window) */
            run(db, FKT_BYPASSED("UPDATE fortknox.audit_log SET entity_name = 'forged' WHERE"
                                 " id = (SELECT min(id) FROM fortknox.audit_log)"));
        } else {
            app_update_without_old(ctx);
        }
        char *before = dump(db);
        fk_restore_all_options o;
        fk_restore_all_options_init(&o, FK_RESTORE_ALL_OPTIONS_VERSION);
        o.as_of = t;
        fk_report *r = NULL;
        int rc = fk_restore_all(&r, ctx, &o);
        fk_report_free(r);
        if (rc != cases[i].status)
            fail_msg("%s: status %d, want %d (%s)", cases[i].name, rc, cases[i].status,
                     fk_errmsg(ctx));
        for (int k = 0; k < 2 && cases[i].says[k]; k++)
            if (!strstr(fk_errmsg(ctx), cases[i].says[k]))
                fail_msg("%s: message lacks \"%s\": %s", cases[i].name, cases[i].says[k],
                         fk_errmsg(ctx));
        char *after = dump(db);
        assert_string_equal(before, after);
        free(before);
        free(after);
        free(t);
        free(registry);
        fk_close(ctx);
        free(db);
    }
}

/* The command: --dry-run prints each entity's diff lines and changes
 * nothing; the run itself says what it did. */
static void restore_all_command(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    fk_ctx *ctx = open_ctx(db, NULL);
    fk_close(ctx);
    char *t = tick(db);
    run(db, "UPDATE app.cohort_definitions SET name = 'after' WHERE id = 1001");
    char *before = dump(db);
    const char *dry[] = {"--db", db, "restore", "--all", "--as-of", t, "--dry-run", NULL};
    fkt_run r = fkt_run_program(fkt_cli_path(), NULL, NULL, dry, 120);
    if (r.status != 0 || !strstr(r.out, "restored cohort_definition:1001: would be set back") ||
        !strstr(r.out, "  ~ $.name: \"after\" → \"T2DM New Metformin Users\"") ||
        !strstr(r.out, "dry run, nothing changed: would restore 1 entities"))
        fail_msg("dry run: status %d\n%s\n%s", r.status, r.out, r.err);
    fkt_run_free(&r);
    char *after = dump(db);
    assert_string_equal(before, after);
    const char *real[] = {"--db", db, "restore", "--all", "--type", "cohort_definition",
                          "--as-of", t, NULL};
    r = fkt_run_program(fkt_cli_path(), NULL, NULL, real, 120);
    if (r.status != 0 || !strstr(r.out, "restored 1 entities of type cohort_definition"))
        fail_msg("restore: status %d\n%s\n%s", r.status, r.out, r.err);
    fkt_run_free(&r);
    expect(db, "SELECT name FROM app.cohort_definitions WHERE id = 1001",
           "T2DM New Metformin Users");
    free(before);
    free(after);
    free(t);
    free(db);
}

int main(void)
{
    pg = fkt_pg_start_or_exit();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(force_deleted_without_history),
        cmocka_unit_test(old_json_read_from_the_table),
        cmocka_unit_test(restore_all_to_a_time),
        cmocka_unit_test(restore_all_refusals_change_nothing),
        cmocka_unit_test(restore_all_command),
    };
    if (getenv("FKT_ONLY"))
        cmocka_set_test_filter(getenv("FKT_ONLY"));
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    fkt_pg_stop(pg);
    return rc;
}
