/* doctor's FK-MASS-CHANGE against a real server: one transaction that
 * blanked a field in, soft-deleted, force-deleted or rewrote a large share of
 * an entity type is an error naming the transaction, its actor, time and
 * count, with the restore --all --as-of time just before it; a small edit, a
 * change below the share or the count, an accepted transaction and the
 * import that undoes it are not. Capture mode, table-driven; app mode
 * (fk_audit_write_many) once. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fkt.h"
#include <fortknox.h>

static fkt_pg *pg;

/* 55 more cohorts than the seed's 5: a type of 60 entities */
static const char more_cohorts[] =
    "INSERT INTO app.cohort_definitions (name, description, expression_json, author_id)"
    " SELECT 'Extra cohort ' || g, 'extra', '{\"ConceptSets\": [{\"id\": 0}]}', 117"
    " FROM generate_series(1, 55) g";

#define BY_BUG(sql) "BEGIN; SELECT set_config('fortknox.actor_email', 'bug@app.example', true); " \
    sql "; COMMIT"

enum { ACCEPT_NONE, ACCEPT_IT, ACCEPT_OTHER };

static const struct {
    const char *name;
    const char *sql;
    int export_import; /* export before the change, import the export after it */
    int accept;        /* ACCEPT_*: what accept_mass_change holds */
    int errors;        /* FK-MASS-CHANGE errors */
    const char *says;  /* in the error's message */
} cases[] = {
    {"blank expression_json in every row",
     BY_BUG("UPDATE app.cohort_definitions SET expression_json = NULL"), 0, ACCEPT_NONE, 1,
     /* one seed cohort has no expression: 59 were blanked */
     "blanked expression_json in 59 of the 60 cohort_definition entities (98%)"},
    {"blank it to an empty object",
     BY_BUG("UPDATE app.cohort_definitions SET expression_json = '{}'"), 0, ACCEPT_NONE, 1,
     "blanked expression_json in 59 of the 60"},
    {"soft-delete all",
     BY_BUG("UPDATE app.cohort_definitions SET deleted_at = now() WHERE deleted_at IS NULL"), 0,
     ACCEPT_NONE, 1, "soft-deleted"},
    {"force-delete all under the override",
     BY_BUG("SELECT fortknox.allow('hard_delete'); UPDATE app.cohort_definitions SET "
            "superseded_by = NULL WHERE superseded_by IS NOT NULL; DELETE FROM "
            "app.cohort_definitions"),
     0, ACCEPT_NONE, 1, "force-deleted 60 of the 60 cohort_definition entities (100%)"},
    {"rewrite all",
     BY_BUG("UPDATE app.cohort_definitions SET description = coalesce(description, '') || '.'"),
     0, ACCEPT_NONE, 1, "rewrote 60 of the 60 cohort_definition entities (100%)"},
    {"a normal small edit",
     BY_BUG("UPDATE app.cohort_definitions SET expression_json = NULL WHERE id = 1001"), 0,
     ACCEPT_NONE, 0, NULL},
    {"below the share (11 of 60)",
     BY_BUG("UPDATE app.cohort_definitions SET expression_json = NULL WHERE id IN (SELECT id "
            "FROM app.cohort_definitions ORDER BY id LIMIT 11)"),
     0, ACCEPT_NONE, 0, NULL},
    {"below the count (all 3 concept sets)",
     BY_BUG("UPDATE app.concept_sets SET expression_json = NULL"), 0, ACCEPT_NONE, 0, NULL},
    /* the same rows, in transactions of 10 each (17 %): grouped by
     * transaction, not by time */
    {"all of them, spread over 6 transactions",
     "DO $$ BEGIN FOR i IN 0..5 LOOP UPDATE app.cohort_definitions SET expression_json = NULL"
     " WHERE id IN (SELECT id FROM app.cohort_definitions ORDER BY id OFFSET i * 10 LIMIT 10);"
     " COMMIT; END LOOP; END $$",
     0, ACCEPT_NONE, 0, NULL},
    /* rows inserted to dilute the share -- in the same transaction, soft-
     * deleted at once, or afterwards -- count nothing (found by an attack:
     * they hid the incident, and later an old one) */
    {"diluted by rows inserted in the same transaction",
     BY_BUG("INSERT INTO app.cohort_definitions (name, author_id, deleted_at) SELECT 'filler ' "
            "|| g, 117, now() FROM generate_series(1, 250) g; UPDATE app.cohort_definitions SET "
            "expression_json = NULL WHERE name LIKE 'Extra cohort %'"),
     0, ACCEPT_NONE, 1, "blanked expression_json in 55 of the 60"},
    {"diluted by rows inserted afterwards",
     BY_BUG("UPDATE app.cohort_definitions SET expression_json = NULL WHERE name LIKE 'Extra "
            "cohort %'") "; INSERT INTO app.cohort_definitions (name, author_id) SELECT 'filler "
                          "' || g, 117 FROM generate_series(1, 250) g",
     0, ACCEPT_NONE, 1, "blanked expression_json in 55 of the 60"},
    {"accepted by its transaction id",
     BY_BUG("UPDATE app.cohort_definitions SET expression_json = NULL"), 0, ACCEPT_IT, 0, NULL},
    {"an acknowledgement of another transaction",
     BY_BUG("UPDATE app.cohort_definitions SET expression_json = NULL"), 0, ACCEPT_OTHER, 1,
     "blanked expression_json in 59"},
    {"undone by import: the import is no second incident",
     BY_BUG("UPDATE app.cohort_definitions SET expression_json = NULL"), 1, ACCEPT_NONE, 1,
     "blanked expression_json in 59"},
};

static int count_items(const fk_report *r, int severity, const char *says, const char **msg)
{
    int n = 0;
    for (size_t i = 0; r && i < fk_report_item_count(r); i++) {
        const fk_report_item *it = fk_report_item_at(r, i);
        if (strcmp(it->code, "FK-MASS-CHANGE") != 0 || (int)it->severity != severity)
            continue;
        if (says && !strstr(it->message, says))
            continue;
        n++;
        if (msg)
            *msg = it->message;
    }
    return n;
}

static fk_ctx *open_installed(const char *db, fk_audit_mode mode)
{
    return fkt_open_installed(db, mode == FK_AUDIT_CAPTURE, NULL);
}

/* A new database with 60 cohorts, installed in mode; *ctx open on it. */
static char *new_db(fk_audit_mode mode, fk_ctx **ctx)
{
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    assert_int_equal(fkt_pg_exec(db, more_cohorts), 0);
    *ctx = open_installed(db, mode);
    return db;
}

static void check_case(size_t i)
{
    fk_ctx *ctx;
    char *db = new_db(FK_AUDIT_CAPTURE, &ctx);
    char *dir = cases[i].export_import ? fkt_tempdir_or_fail("fk-mass") : NULL;
    if (dir && fk_export(NULL, ctx, dir, NULL) != FK_OK)
        fail_msg("export: %s", fk_errmsg(ctx));
    if (fkt_pg_exec(db, cases[i].sql) != 0)
        fail_msg("%s: the change failed", cases[i].name);
    /* the bug's transaction: the one its actor stated */
    char *xid = fkt_q1(db, "SELECT coalesce(max(transaction_id) FILTER (WHERE actor_email = "
                           "'bug@app.example'), max(transaction_id)) FROM fortknox.audit_log");
    if (dir) {
        assert_int_equal(fk_set_actor(ctx, 1, "admin@acumenus.net", NULL), FK_OK);
        fk_report *ir = NULL;
        if (fk_import(&ir, ctx, dir, NULL) != FK_OK)
            fail_msg("import: %s", fk_errmsg(ctx));
        fk_report_free(ir);
        char *undone = fkt_q1(db, "SELECT count(*) FROM app.cohort_definitions WHERE "
                                  "expression_json IS NULL");
        assert_string_equal(undone, "0");
        free(undone);
    }

    fk_doctor_options o;
    fk_doctor_options_init(&o, FK_DOCTOR_OPTIONS_VERSION);
    int64_t accept = cases[i].accept == ACCEPT_IT ? atoll(xid) : atoll(xid) + 1000;
    if (cases[i].accept != ACCEPT_NONE) {
        o.accept_mass_change = &accept;
        o.naccept_mass_change = 1;
    }
    fk_report *r = NULL;
    int rc = fk_doctor(&r, ctx, &o);
    const char *msg = NULL;
    int errors = count_items(r, FK_SEV_ERROR, NULL, NULL);
    if (errors != cases[i].errors ||
        count_items(r, FK_SEV_ERROR, cases[i].says, &msg) != cases[i].errors) {
        for (size_t k = 0; r && k < fk_report_item_count(r); k++)
            fprintf(stderr, "# %s: %s\n", fk_report_item_at(r, k)->code,
                    fk_report_item_at(r, k)->message);
        fail_msg("%s: %d FK-MASS-CHANGE errors, want %d saying \"%s\" (%s)", cases[i].name,
                 errors, cases[i].errors, cases[i].says ? cases[i].says : "",
                 fk_status_name(rc));
    }
    assert_int_equal(rc, cases[i].errors ? FK_EVERIFY : FK_OK);
    if (cases[i].errors == 1) {
        /* the transaction, its actor, and the time just before it to restore to */
        char want[64];
        snprintf(want, sizeof want, "transaction %s (", xid);
        if (cases[i].export_import) /* the import's transaction came after it */
            assert_non_null(strstr(msg, "transaction "));
        else
            assert_non_null(strstr(msg, want));
        assert_non_null(strstr(msg, "bug@app.example"));
        const fk_report_item *it = NULL;
        for (size_t k = 0; k < fk_report_item_count(r); k++)
            if (fk_report_item_at(r, k)->message == msg)
                it = fk_report_item_at(r, k);
        assert_non_null(it);
        assert_string_equal(it->entity_type, "cohort_definition");
        assert_non_null(strstr(it->hint, "fortknox restore --all --as-of '"));
        /* a microsecond before the transaction's first audit row */
        char *before = fkt_q1(db, "SELECT to_char(min(created_at) - interval '1 microsecond', "
                                  "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') FROM fortknox.audit_log "
                                  "WHERE context = 'capture' AND action <> 'created' AND "
                                  "created_at > now() AT TIME ZONE 'UTC' - interval '1 hour'");
        assert_non_null(strstr(it->hint, before));
        free(before);
    }
    if (cases[i].accept == ACCEPT_IT)
        assert_int_equal(count_items(r, FK_SEV_INFO, "accepted", NULL), 1);
    if (cases[i].accept == ACCEPT_OTHER)
        assert_int_equal(count_items(r, FK_SEV_WARNING, "nothing to accept", NULL), 1);
    fk_report_free(r);
    fk_close(ctx);
    fkt_rm_tree(dir);
    free(xid);
    free(db);
}

static void mass_changes_in_capture_mode(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_case(i);
}

/* The application writes the audit rows itself, all in one batch: one
 * transaction too. */
static void mass_change_in_app_mode(void **state)
{
    (void)state;
    fk_ctx *ctx;
    char *db = new_db(FK_AUDIT_APP, &ctx);
    assert_int_equal(fk_set_actor(ctx, 7, "bug@app.example", NULL), FK_OK);
    char *ids = fkt_q1(db, "SELECT string_agg(id::text, ',' ORDER BY id) FROM "
                           "app.cohort_definitions");
    fk_audit_event ev[60];
    size_t n = 0;
    for (char *p = strtok(ids, ","); p && n < 60; p = strtok(NULL, ","), n++) {
        fk_audit_event_init(&ev[n], FK_AUDIT_EVENT_VERSION);
        ev[n].entity_type = "cohort_definition";
        ev[n].entity_id = atoll(p);
        ev[n].action = "updated";
        ev[n].actor_id = 7;
        ev[n].actor_email = "bug@app.example";
        ev[n].old_json = "{\"expression_json\": {\"ConceptSets\": []}, \"name\": \"x\"}";
        ev[n].new_json = "{\"expression_json\": null, \"name\": \"x\"}";
    }
    assert_int_equal(n, 60);
    if (fk_audit_write_many(NULL, ctx, ev, n) != FK_OK)
        fail_msg("write_many: %s", fk_errmsg(ctx));
    fk_report *r = NULL;
    assert_int_equal(fk_doctor(&r, ctx, NULL), FK_EVERIFY);
    const char *msg = NULL;
    assert_int_equal(count_items(r, FK_SEV_ERROR, "blanked expression_json in 60 of the 60",
                                 &msg),
                     1);
    if (!strstr(msg, "bug@app.example (id 7)"))
        fail_msg("the actor is not named: %s", msg);
    fk_report_free(r);
    fk_close(ctx);
    free(ids);
    free(db);
}

/* The CLI: exit 1 with the finding and its hint; accepted, exit 0; an
 * acknowledgement that is no transaction id, a usage error. */
static void cli_doctor_reports_and_accepts(void **state)
{
    (void)state;
    fk_ctx *ctx;
    char *db = new_db(FK_AUDIT_CAPTURE, &ctx);
    fk_close(ctx);
    assert_int_equal(fkt_pg_exec(db, cases[0].sql), 0);
    char *xid = fkt_q1(db, "SELECT max(transaction_id) FROM fortknox.audit_log");
    static const struct {
        const char *accept;
        int status;
        const char *says;
    } runs[] = {
        {NULL, 1, "restore --all --as-of '"},
        {"@", 0, "accepted"},
        {"nope", 2, "--accept-mass-change takes a transaction id"},
    };
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        const char *args[] = {"--db", db, "-v", "doctor", runs[i].accept ? "--accept-mass-change"
                                                                         : NULL,
                              runs[i].accept && *runs[i].accept == '@' ? xid : runs[i].accept,
                              NULL};
        fkt_run r = fkt_run_program(fkt_cli_path(), NULL, NULL, args, 300);
        if (r.status != runs[i].status || (!strstr(r.out, runs[i].says) &&
                                           !strstr(r.err, runs[i].says)))
            fail_msg("doctor --accept-mass-change %s: exit %d, want %d saying \"%s\"\n"
                     "--- stdout:\n%s\n--- stderr:\n%s",
                     runs[i].accept ? runs[i].accept : "(none)", r.status, runs[i].status,
                     runs[i].says, r.out, r.err);
        fkt_run_free(&r);
    }
    free(xid);
    free(db);
}

int main(void)
{
    pg = fkt_pg_start_or_exit();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mass_changes_in_capture_mode),
        cmocka_unit_test(mass_change_in_app_mode),
        cmocka_unit_test(cli_doctor_reports_and_accepts),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    fkt_pg_stop(pg);
    return rc;
}
