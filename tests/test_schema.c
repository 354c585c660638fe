/* The Parthenon test schema and seed load, and have the shape the fixtures
 * (and the notes) say they have. */
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
static char *db;

static void check(const char *sql, const char *expected)
{
    char *got = fkt_pg_query1(db, sql);
    assert_non_null(got);
    if (strcmp(got, expected) != 0)
        fail_msg("%s\n  expected: %s\n  got:      %s", sql, expected, got);
    free(got);
}

static void every_design_table_exists(void **state)
{
    (void)state;
    check("SELECT string_agg(table_name, ',' ORDER BY table_name) FROM information_schema.tables "
          "WHERE table_schema = 'app'",
          "characterizations,cohort_definitions,concept_set_items,concept_sets,"
          "estimation_analyses,evidence_synthesis_analyses,heor_analyses,heor_cost_parameters,"
          "heor_results,heor_scenarios,heor_value_contracts,incidence_rate_analyses,"
          "pathway_analyses,prediction_analyses,sccs_analyses,sources,users");
}

static void column_order_matches_fixtures(void **state)
{
    (void)state;
    check("SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute "
          "WHERE attrelid = 'app.concept_sets'::regclass AND attnum > 0 AND NOT attisdropped",
          "id,name,description,expression_json,author_id,is_public,tags,created_at,updated_at,"
          "deleted_at,tenant_id,status,archived_at,archived_by,promoted_at");
    check("SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute "
          "WHERE attrelid = 'app.heor_analyses'::regclass AND attnum > 0 AND NOT attisdropped",
          "id,created_by,source_id,name,analysis_type,description,perspective,time_horizon,"
          "discount_rate,currency,target_cohort_id,comparator_cohort_id,status,completed_at,"
          "created_at,updated_at,deleted_at");
}

static void seed_has_every_entity_type(void **state)
{
    (void)state;
    check("SELECT count(*) FROM app.users WHERE email = 'admin@acumenus.net'", "1");
    static const char *const tables[] = {
        "cohort_definitions", "concept_sets", "concept_set_items", "characterizations",
        "incidence_rate_analyses", "pathway_analyses", "estimation_analyses",
        "prediction_analyses", "sccs_analyses", "evidence_synthesis_analyses",
        "heor_analyses", "heor_scenarios", "heor_cost_parameters", "heor_results",
        "heor_value_contracts"};
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        char sql[160];
        snprintf(sql, sizeof sql, "SELECT count(*) > 0 FROM app.%s", tables[i]);
        check(sql, "t");
    }
    check("SELECT count(*) > 0 FROM app.cohort_definitions WHERE deleted_at IS NOT NULL", "t");
    check("SELECT count(*) > 0 FROM app.cohort_definitions c JOIN app.cohort_definitions s "
          "ON c.superseded_by = s.id", "t");
}

static void cascade_paths_exist_as_in_parthenon(void **state)
{
    (void)state;
    /* The danger libfortknox must guard against is really there. */
    check("SELECT count(*) FROM pg_constraint WHERE contype = 'f' "
          "AND confrelid = 'app.users'::regclass AND connamespace = 'app'::regnamespace "
          "AND conrelid = 'app.cohort_definitions'::regclass", "2");
    check("SELECT confdeltype FROM pg_constraint WHERE contype = 'f' "
          "AND conrelid = 'app.concept_set_items'::regclass", "c");
}

static void library_connects_to_the_schema_db(void **state)
{
    (void)state;
    fk_ctx *ctx = NULL;
    assert_int_equal(fk_open(&ctx, db, NULL), FK_OK);
    assert_int_equal(fk_exec(ctx, "SELECT * FROM app.cohort_definitions"), FK_OK);
    fk_close(ctx);
}

int main(void)
{
    pg = fkt_pg_start_or_exit();
    db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    if (!db) {
        printf("Bail out! schema or seed failed to load\n");
        fkt_pg_stop(pg);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_design_table_exists),
        cmocka_unit_test(column_order_matches_fixtures),
        cmocka_unit_test(seed_has_every_entity_type),
        cmocka_unit_test(cascade_paths_exist_as_in_parthenon),
        cmocka_unit_test(library_connects_to_the_schema_db),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    free(db);
    fkt_pg_stop(pg);
    return rc;
}
