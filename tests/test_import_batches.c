/* Import's batches against a real server (docs/performance.md, "Import
 * (issue 17 item 3)"): the statement that writes a batch's parents writes
 * its children too (the batch is parsed once) unless a child refers to a
 * table of its own type; no prior state is read for an entity the table
 * does not hold; the next batch is read while the server works on this one,
 * and a file or a document refused then still names itself and changes
 * nothing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <fortknox.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fkt.h"

static fkt_pg *pg;

#define DESIGN_TABLES                                                                             \
    "app.cohort_definitions, app.concept_sets, app.concept_set_items, app.characterizations, "    \
    "app.incidence_rate_analyses, app.pathway_analyses, app.estimation_analyses, "                \
    "app.prediction_analyses, app.sccs_analyses, app.evidence_synthesis_analyses, "               \
    "app.heor_analyses"

static fk_ctx *open_ctx(const char *db)
{
    fk_ctx *ctx = NULL;
    if (fk_open(&ctx, db, NULL) != FK_OK)
        fail_msg("fk_open: %s", fk_errmsg(NULL));
    return ctx;
}

static void export_to(fk_ctx *ctx, const char *dir)
{
    fk_report *r = NULL;
    if (fk_export(&r, ctx, dir, NULL) != FK_OK)
        fail_msg("fk_export: %s", fk_errmsg(ctx));
    fk_report_free(r);
}

static fk_report *import_from(fk_ctx *ctx, const char *dir)
{
    fk_report *r = NULL;
    if (fk_import(&r, ctx, dir, NULL) != FK_OK)
        fail_msg("fk_import: %s", fk_errmsg(ctx));
    return r;
}

static long q_long(const char *db, const char *sql)
{
    char *v = fkt_pg_query1(db, sql);
    assert_non_null(v);
    long n = atol(v);
    free(v);
    return n;
}

/* The rows of the tables named (an unquoted SQL list of names in app). */
static char *checksum(const char *db, const char *tables)
{
    char sql[700];
    snprintf(sql, sizeof sql,
             "SELECT md5(string_agg(x, '|' ORDER BY x)) FROM (SELECT c.relname || ':' || "
             "(xpath('/row/h/text()', query_to_xml(format('SELECT md5(string_agg(t::text, ''|'' "
             "ORDER BY t::text)) AS h FROM app.%%I t', c.relname), true, false, '')))[1]::text "
             "AS x FROM pg_class c WHERE c.relnamespace = 'app'::regnamespace AND c.relname = "
             "ANY (string_to_array('%s', ','))) s",
             tables);
    char *sum = fkt_pg_query1(db, sql);
    assert_non_null(sum);
    return sum;
}

/* Tables without secret columns (a secret is never exported, so never
 * comes back) and with children. */
#define WITH_CHILDREN                                                                             \
    "concept_sets,concept_set_items,heor_analyses,heor_scenarios,heor_cost_parameters,"          \
    "heor_results"

/* Which statement wrote which table: a statement trigger notes the text of
 * the statement that fired it. */
static const char log_statements[] =
    "CREATE TABLE public.stmt_log (tbl text, q text); "
    "CREATE FUNCTION public.log_stmt() RETURNS trigger LANGUAGE plpgsql AS "
    "$$BEGIN INSERT INTO public.stmt_log VALUES (TG_TABLE_NAME, current_query()); RETURN NULL; "
    "END$$; "
    "DO $$DECLARE t text; BEGIN FOREACH t IN ARRAY ARRAY['concept_sets', 'concept_set_items', "
    "'heor_analyses', 'heor_scenarios', 'heor_cost_parameters', 'heor_results'] LOOP "
    "EXECUTE format('CREATE TRIGGER zz_log AFTER INSERT ON app.%I FOR EACH STATEMENT EXECUTE "
    "FUNCTION public.log_stmt()', t); END LOOP; END$$; "
    /* an application's trigger reading the parent of a child row: the
     * parent is written first, as separate statements wrote it */
    "CREATE FUNCTION public.need_parent() RETURNS trigger LANGUAGE plpgsql AS "
    "$$BEGIN IF NOT EXISTS (SELECT 1 FROM app.concept_sets WHERE id = NEW.concept_set_id) THEN "
    "RAISE EXCEPTION 'concept set % is not there yet', NEW.concept_set_id; END IF; RETURN NEW; "
    "END$$; "
    "CREATE TRIGGER zz_need_parent BEFORE INSERT ON app.concept_set_items FOR EACH ROW EXECUTE "
    "FUNCTION public.need_parent()";

static void children_are_written_by_the_parents_statement(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    assert_non_null(db);
    fk_ctx *ctx = open_ctx(db);
    char *dir = fkt_tempdir_or_fail("fk-batches");
    export_to(ctx, dir);
    char *before = checksum(db, WITH_CHILDREN);
    assert_int_equal(fkt_pg_exec(db, log_statements), 0);
    assert_int_equal(fkt_pg_exec(db, "TRUNCATE " DESIGN_TABLES " CASCADE; "
                                     "TRUNCATE public.stmt_log"),
                     0);
    fk_report_free(import_from(ctx, dir));
    char *after = checksum(db, WITH_CHILDREN);
    assert_string_equal(before, after);
    static const struct {
        const char *parent, *child;
        int same; /* written by one statement */
    } cases[] = {
        {"concept_sets", "concept_set_items", 1},
        /* a cost parameter refers to a scenario of its analysis: separate
         * statements, in restore order, see the scenarios written before */
        {"heor_analyses", "heor_scenarios", 0},
        {"heor_analyses", "heor_cost_parameters", 0},
        {"heor_analyses", "heor_results", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char sql[600];
        snprintf(sql, sizeof sql,
                 "SELECT (SELECT count(*) FROM public.stmt_log WHERE tbl = '%s')::text || ' ' || "
                 "(SELECT count(*) FROM public.stmt_log WHERE tbl = '%s') || ' ' || "
                 "(SELECT count(*) FROM public.stmt_log a JOIN public.stmt_log b ON a.q = b.q "
                 "WHERE a.tbl = '%s' AND b.tbl = '%s')",
                 cases[i].parent, cases[i].child, cases[i].parent, cases[i].child);
        char *v = fkt_pg_query1(db, sql);
        assert_non_null(v);
        long np = 0, nc = 0, shared = 0;
        assert_int_equal(sscanf(v, "%ld %ld %ld", &np, &nc, &shared), 3);
        if (np == 0 || nc == 0 || (shared > 0) != cases[i].same)
            fail_msg("%s / %s: %s statements (parent, child, shared); expected %s", cases[i].parent,
                     cases[i].child, v, cases[i].same ? "one" : "separate ones");
        free(v);
    }
    free(before);
    free(after);
    fk_close(ctx);
    fkt_rm_tree(dir);
    free(db);
}

/* Calls of entity_doc() by the backends that have left: a backend flushes
 * its function statistics as it exits, before it leaves pg_stat_activity. */
static long entity_doc_calls(const char *db)
{
    while (q_long(db, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                      "AND backend_type = 'client backend' AND pid <> pg_backend_pid()") > 0)
        sched_yield();
    return q_long(db, "SELECT coalesce(sum(calls), 0) FROM pg_stat_user_functions WHERE "
                      "funcname = 'entity_doc'");
}

static void prior_states_are_read_only_for_rows_that_exist(void **state)
{
    (void)state;
    char *db = fkt_installed_db(pg, 0, NULL);
    char *name = fkt_pg_query1(db, "SELECT current_database()");
    assert_non_null(name);
    char sql[300];
    snprintf(sql, sizeof sql, "ALTER DATABASE \"%s\" SET track_functions = 'pl'", name);
    assert_int_equal(fkt_pg_exec(db, sql), 0);
    char *dir = fkt_tempdir_or_fail("fk-batches");
    fk_ctx *ctx = open_ctx(db);
    export_to(ctx, dir);
    fk_close(ctx);
    static const struct {
        const char *what;
        int wipe;
        /* entity_doc() calls per imported entity: one for its audit row's
         * new state when it was created; one for its prior state when the
         * table held it (noted before the batch is written) */
        long per_created, per_file;
    } cases[] = {
        {"into emptied tables", 1, 1, 0},
        {"again, nothing changed", 0, 0, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (cases[i].wipe)
            assert_int_equal(fkt_pg_exec(db, FKT_BYPASSED("TRUNCATE " DESIGN_TABLES " CASCADE")),
                             0);
        long calls0 = entity_doc_calls(db);
        ctx = open_ctx(db);
        fk_report *r = import_from(ctx, dir);
        long created = (long)fk_report_counter(r, "created");
        long files = (long)fk_report_counter(r, "files");
        fk_report_free(r);
        fk_close(ctx);
        long calls = entity_doc_calls(db) - calls0;
        long want = cases[i].per_created * created + cases[i].per_file * files;
        if (files == 0 || calls != want)
            fail_msg("import %s: %ld entity_doc() calls for %ld files (%ld created), expected %ld",
                     cases[i].what, calls, files, created, want);
    }
    free(name);
    fkt_rm_tree(dir);
    free(db);
}

/* More cohorts than one batch holds: the first batch is on the server while
 * the files after it are read. */
#define MANY 300

static void refusals_with_a_batch_in_flight_change_nothing(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    assert_non_null(db);
    assert_int_equal(fkt_pg_exec(db, "TRUNCATE " DESIGN_TABLES " CASCADE; INSERT INTO "
                                     "app.cohort_definitions (name, author_id, expression_json) "
                                     "SELECT 'Cohort ' || g, 1, jsonb_build_object('n', g) FROM "
                                     "generate_series(1, 300) g"),
                     0);
    fk_ctx *ctx = open_ctx(db);
    char *good = fkt_tempdir_or_fail("fk-batches");
    export_to(ctx, good);
    assert_int_equal(fkt_pg_exec(db, "UPDATE app.cohort_definitions SET name = name || ' (db)'"),
                     0);
    char *sum = checksum(db, "cohort_definitions");
    static const struct {
        const char *file, *text, *expect;
        int rc;
    } cases[] = {
        /* sorted after the first batch: malformed while it is on the server */
        {"zzz-bad.json", "{\n  \"id\": 9001,\n  \"name\": }", "cohort_definitions/zzz-bad.json:3:11:",
         FK_EPARSE},
        /* in the first batch: refused by the server while the second is read */
        {"aaa-server.json",
         "{\"id\": 9002, \"name\": \"ts\", \"author_id\": 1, \"created_at\": \"not a date\"}",
         "cohort_definitions/aaa-server.json", FK_EDB},
        /* in the last batch */
        {"zzz-server.json",
         "{\"id\": 9003, \"name\": \"ts\", \"author_id\": 1, \"created_at\": \"not a date\"}",
         "cohort_definitions/zzz-server.json", FK_EDB},
    };
    fk_import_options o;
    fk_import_options_init(&o, FK_IMPORT_OPTIONS_VERSION);
    static const char *const every_column[] = {"*"};
    static const fk_key_map defaults = {FK_KEY_MAP_VERSION, NULL, 0, NULL, 0, every_column, 1};
    o.key_map = &defaults; /* the hand-written files leave columns out */
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *dir = fkt_tempdir_or_fail("fk-batches");
        assert_int_equal(fkt_sh("cp -a '%s/.' '%s/'", good, dir), 0);
        char path[600];
        snprintf(path, sizeof path, "%s/cohort_definitions/%s", dir, cases[i].file);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(cases[i].text, f);
        fclose(f);
        fk_report *r = (fk_report *)1;
        int rc = fk_import(&r, ctx, dir, &o);
        if (rc != cases[i].rc || !strstr(fk_errmsg(ctx), cases[i].expect))
            fail_msg("%s: rc %d: %s", cases[i].file, rc, fk_errmsg(ctx));
        assert_null(r);
        char *now = checksum(db, "cohort_definitions");
        assert_string_equal(sum, now);
        free(now);
        fkt_rm_tree(dir);
    }
    /* and the connection is usable: the same files import */
    fk_report *r = import_from(ctx, good);
    assert_int_equal(fk_report_counter(r, "updated"), MANY);
    fk_report_free(r);
    free(sum);
    fk_close(ctx);
    fkt_rm_tree(good);
    free(db);
}

int main(void)
{
    pg = fkt_pg_start_or_exit();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(children_are_written_by_the_parents_statement),
        cmocka_unit_test(prior_states_are_read_only_for_rows_that_exist),
        cmocka_unit_test(refusals_with_a_batch_in_flight_change_nothing),
    };
    if (getenv("FKT_ONLY"))
        cmocka_set_test_filter(getenv("FKT_ONLY"));
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    fkt_pg_stop(pg);
    return rc;
}
