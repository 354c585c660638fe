/* Serialization of single entities against the real Parthenon fixtures, the
 * registry (built-in and from a file) and fixture path naming. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <dirent.h>
#include <fortknox.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fkt.h"

#define FIXTURES FKT_DATA_DIR "/parthenon-fixtures"
#define LEGACY "evidence_synthesis_analyses/meta-analysis-statin-cardioprotection.json"

static fkt_pg *pg;
static char *db; /* schema + seed + the 31 fixtures loaded with plain SQL */

static const struct {
    const char *dir, *type;
} dirs[] = {
    {"cohort_definitions", "cohort_definition"},
    {"concept_sets", "concept_set"},
    {"characterizations", "characterization"},
    {"incidence_rate_analyses", "incidence_rate_analysis"},
    {"pathway_analyses", "pathway_analysis"},
    {"estimation_analyses", "estimation_analysis"},
    {"prediction_analyses", "prediction_analysis"},
    {"sccs_analyses", "sccs_analysis"},
    {"evidence_synthesis_analyses", "evidence_synthesis_analysis"},
    {"heor_analyses", "heor_analysis"},
};

static fk_ctx *open_ctx(const char *conninfo)
{
    fk_ctx *ctx = NULL;
    int rc = fk_open(&ctx, conninfo, NULL);
    if (rc != FK_OK)
        fail_msg("fk_open: %s", fk_errmsg(NULL));
    return ctx;
}

/* Loads one fixture with plain SQL (independent of the importer under test). */
static void load_fixture_sql(PGconn *c, const char *dir, const char *json)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "INSERT INTO app.%s SELECT * FROM jsonb_populate_record(NULL::app.%s, $1::jsonb)",
             dir, dir);
    PGresult *r = PQexecParams(c, sql, 1, NULL, &json, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        fail_msg("loading %s: %s", dir, PQerrorMessage(c));
    PQclear(r);
    if (strcmp(dir, "concept_sets") == 0) {
        r = PQexecParams(c,
                         "INSERT INTO app.concept_set_items SELECT * FROM "
                         "jsonb_populate_recordset(NULL::app.concept_set_items, $1::jsonb->'items')",
                         1, NULL, &json, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_COMMAND_OK)
            fail_msg("loading items: %s", PQerrorMessage(c));
        PQclear(r);
    }
}

static long long fixture_id(const char *json)
{
    const char *p = strstr(json, "\"id\": ");
    return p ? atoll(p + 6) : -1;
}

static void fixtures_round_trip_byte_identical(void **state)
{
    (void)state;
    fk_ctx *ctx = open_ctx(db);
    int checked = 0;
    for (size_t d = 0; d < sizeof dirs / sizeof dirs[0]; d++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", FIXTURES, dirs[d].dir);
        DIR *dh = opendir(path);
        assert_non_null(dh);
        struct dirent *de;
        while ((de = readdir(dh))) {
            if (!strstr(de->d_name, ".json"))
                continue;
            char rel[600], file[1200];
            snprintf(rel, sizeof rel, "%s/%s", dirs[d].dir, de->d_name);
            if (strcmp(rel, LEGACY) == 0)
                continue; /* predates four columns: cannot re-export identically */
            snprintf(file, sizeof file, "%s/%s", FIXTURES, rel);
            size_t len;
            char *want = fkt_slurp(file, &len);
            assert_non_null(want);
            char *got = NULL;
            size_t got_len = 0;
            int rc = fk_entity_serialize(&got, &got_len, ctx, dirs[d].type, fixture_id(want),
                                         FK_FORMAT_PARTHENON);
            if (rc != FK_OK)
                fail_msg("%s: %s", rel, fk_errmsg(ctx));
            if (got_len != len || memcmp(got, want, len) != 0) {
                size_t i = 0;
                while (i < len && i < got_len && got[i] == want[i])
                    i++;
                fail_msg("%s differs at byte %zu:\n--- want ---\n%.80s\n--- got ---\n%.80s", rel,
                         i, want + (i > 20 ? i - 20 : 0), got + (i > 20 ? i - 20 : 0));
            }
            assert_int_equal(strlen(got), got_len);
            fk_free(got);
            free(want);
            checked++;
        }
        closedir(dh);
    }
    assert_int_equal(checked, 30);
    fk_close(ctx);
}

static char *serialize(fk_ctx *ctx, const char *type, long long id, fk_format fmt)
{
    char *out = NULL;
    int rc = fk_entity_serialize(&out, NULL, ctx, type, id, fmt);
    if (rc != FK_OK)
        fail_msg("serialize %s %lld: %s", type, id, fk_errmsg(ctx));
    return out;
}

static void secrets_never_leave_the_database(void **state)
{
    (void)state;
    fk_ctx *ctx = open_ctx(db);
    char *tok = fkt_pg_query1(db, "SELECT share_token FROM app.cohort_definitions "
                                  "WHERE share_token IS NOT NULL LIMIT 1");
    char *id = fkt_pg_query1(db, "SELECT id FROM app.cohort_definitions "
                                 "WHERE share_token IS NOT NULL LIMIT 1");
    assert_true(tok && *tok && id && *id);
    char *doc = serialize(ctx, "cohort_definition", atoll(id), FK_FORMAT_PARTHENON);
    assert_null(strstr(doc, tok));
    assert_non_null(strstr(doc, "\"share_token\": null,"));
    fk_free(doc);
    free(tok);
    free(id);
    fk_close(ctx);
}

static void unicode_and_children(void **state)
{
    (void)state;
    fk_ctx *ctx = open_ctx(db);
    char *id = fkt_pg_query1(db, "SELECT id FROM app.cohort_definitions WHERE name LIKE 'Caf%'");
    char *doc = serialize(ctx, "cohort_definition", atoll(id), FK_FORMAT_PARTHENON);
    assert_non_null(strstr(doc, "\"name\": \"Café — naïve 日本\""));
    fk_free(doc);
    free(id);

    id = fkt_pg_query1(db, "SELECT analysis_id FROM app.heor_scenarios LIMIT 1");
    doc = serialize(ctx, "heor_analysis", atoll(id), FK_FORMAT_PARTHENON);
    const char *sc = strstr(doc, "\n    \"scenarios\": [\n        {\n            \"id\": ");
    const char *cp = strstr(doc, "\n    \"cost_parameters\": [");
    const char *rs = strstr(doc, "\n    \"results\": [");
    const char *vc = strstr(doc, "\n    \"value_contracts\": [");
    assert_true(sc && cp && rs && vc && sc < cp && cp < rs && rs < vc);
    assert_true(doc[strlen(doc) - 1] == '}');
    fk_free(doc);
    free(id);

    /* a HEOR analysis without children keeps Parthenon's layout: no keys */
    id = fkt_pg_query1(db, "SELECT min(id) FROM app.heor_analyses a WHERE NOT EXISTS "
                           "(SELECT 1 FROM app.heor_scenarios s WHERE s.analysis_id = a.id)");
    doc = serialize(ctx, "heor_analysis", atoll(id), FK_FORMAT_PARTHENON);
    assert_null(strstr(doc, "scenarios"));
    fk_free(doc);
    free(id);

    /* concept sets always carry "items", even empty */
    assert_int_equal(fkt_pg_exec(db, "INSERT INTO app.concept_sets (id, name, author_id) "
                                     "VALUES (4242, 'Empty set', 1)"),
                     0);
    doc = serialize(ctx, "concept_set", 4242, FK_FORMAT_PARTHENON);
    assert_non_null(strstr(doc, ",\n    \"items\": []\n}"));
    fk_free(doc);
    fk_close(ctx);
}

static void numbers_keep_their_value(void **state)
{
    (void)state;
    fk_ctx *ctx = open_ctx(db);
    assert_int_equal(
        fkt_pg_exec(db, "INSERT INTO app.cohort_definitions (id, name, author_id, expression_json)"
                        " VALUES (4343, 'Numbers', 1, '{\"a\": 0.10, \"b\": 1e300, "
                        "\"c\": 12345678901234567890, \"d\": 0.1000000000000000000001, "
                        "\"e\": -0, \"f\": 100, \"g\": {}, \"h\": \"a/b\"}')"),
        0);
    char *doc = serialize(ctx, "cohort_definition", 4343, FK_FORMAT_PARTHENON);
    /* PHP would write 0.1, which jsonb would store as 0.1: the scale stays */
    assert_non_null(strstr(doc, "\"a\": 0.10,"));
    assert_non_null(strstr(doc, "\"b\": 1.0e+300,"));
    assert_non_null(strstr(doc, "\"c\": 12345678901234567890,"));
    assert_non_null(strstr(doc, "\"d\": 0.1000000000000000000001,"));
    assert_non_null(strstr(doc, "\"f\": 100,"));
    assert_non_null(strstr(doc, "\"g\": {},"));
    assert_non_null(strstr(doc, "\"h\": \"a\\/b\""));
    fk_free(doc);
    doc = serialize(ctx, "cohort_definition", 4343, FK_FORMAT_CANONICAL);
    assert_non_null(strstr(doc, "\"a\": 0.10,"));
    assert_non_null(strstr(doc, "\"g\": {},"));
    assert_true(doc[strlen(doc) - 1] == '\n');
    fk_free(doc);
    fk_close(ctx);
}

static void numeric_columns_are_exact(void **state)
{
    (void)state;
    fk_ctx *ctx = open_ctx(db);
    char *id = fkt_pg_query1(db, "SELECT min(id) FROM app.heor_cost_parameters");
    char sql[256];
    snprintf(sql, sizeof sql,
             "UPDATE app.heor_cost_parameters SET value = 12345678901.2345, lower_bound = 1500, "
             "upper_bound = 0.1 WHERE id = %s", id);
    assert_int_equal(fkt_pg_exec(db, sql), 0);
    char *aid = fkt_pg_query1(db, "SELECT analysis_id FROM app.heor_cost_parameters "
                                  "ORDER BY id LIMIT 1");
    char *doc = serialize(ctx, "heor_analysis", atoll(aid), FK_FORMAT_PARTHENON);
    assert_non_null(strstr(doc, "\"value\": 12345678901.2345,"));
    assert_non_null(strstr(doc, "\"lower_bound\": 1500,"));
    assert_non_null(strstr(doc, "\"upper_bound\": 0.1,"));
    fk_free(doc);
    free(id);
    free(aid);
    fk_close(ctx);
}

static void migration_columns_appear_without_code_change(void **state)
{
    (void)state;
    char *mdb = fkt_pg_new_db(pg, fkt_schema_and_seed);
    assert_int_equal(fkt_pg_exec(mdb, "ALTER TABLE app.pathway_analyses ADD COLUMN "
                                      "review_note text DEFAULT 'none'"),
                     0);
    fk_ctx *ctx = open_ctx(mdb);
    char *id = fkt_pg_query1(mdb, "SELECT min(id) FROM app.pathway_analyses");
    char *doc = serialize(ctx, "pathway_analysis", atoll(id), FK_FORMAT_PARTHENON);
    assert_non_null(strstr(doc, ",\n    \"review_note\": \"none\"\n}"));
    fk_free(doc);
    free(id);
    fk_close(ctx);
    free(mdb);
}

static void errors_name_what_is_wrong(void **state)
{
    (void)state;
    fk_ctx *ctx = open_ctx(db);
    char *out = (char *)1;
    assert_int_equal(fk_entity_serialize(&out, NULL, ctx, "no_such_type", 1, FK_FORMAT_PARTHENON),
                     FK_ENOTFOUND);
    assert_null(out);
    assert_non_null(strstr(fk_errmsg(ctx), "no_such_type"));
    assert_int_equal(fk_entity_serialize(&out, NULL, ctx, "cohort_definition", 987654321,
                                         FK_FORMAT_PARTHENON),
                     FK_ENOTFOUND);
    assert_non_null(strstr(fk_errmsg(ctx), "987654321"));
    assert_int_equal(fk_entity_serialize(&out, NULL, ctx, "cohort_definition", 1, (fk_format)7),
                     FK_EINVAL);
    assert_int_equal(fk_entity_serialize(NULL, NULL, ctx, "cohort_definition", 1,
                                         FK_FORMAT_PARTHENON),
                     FK_EINVAL);
    assert_int_equal(fk_entity_serialize(&out, NULL, NULL, "cohort_definition", 1,
                                         FK_FORMAT_PARTHENON),
                     FK_EINVAL);
    fk_close(ctx);
}

static void fixture_paths_stay_inside_the_root(void **state)
{
    (void)state;
    fk_ctx *ctx = open_ctx(db);
    static const struct {
        const char *name, *want;
    } cases[] = {
        {"Hypertension Cohort", "cohort_definitions/hypertension-cohort.json"},
        {"../../etc/passwd", "cohort_definitions/etcpasswd.json"},
        {"/", "cohort_definitions/cohort_definition-77.json"},
        {"..", "cohort_definitions/cohort_definition-77.json"},
        {"", "cohort_definitions/cohort_definition-77.json"},
        {"日本語", "cohort_definitions/cohort_definition-77.json"},
        {"Café — ñ 2", "cohort_definitions/caf-2.json"},
        {"😀 emoji 4-byte", "cohort_definitions/emoji-4-byte.json"},
        {"a\\b\tc\nd", "cohort_definitions/ab-c-d.json"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *p = NULL;
        assert_int_equal(fk_fixture_path(&p, ctx, "cohort_definition", cases[i].name, 77), FK_OK);
        assert_string_equal(p, cases[i].want);
        fk_free(p);
    }
    /* 10 KB name: the slug is cut to 100 bytes */
    char *big = malloc(10241);
    memset(big, 'a', 10240);
    big[10240] = '\0';
    char *p = NULL;
    assert_int_equal(fk_fixture_path(&p, ctx, "cohort_definition", big, 1), FK_OK);
    assert_int_equal(strlen(p), strlen("cohort_definitions/") + 100 + 5);
    fk_free(p);
    free(big);
    assert_int_equal(fk_fixture_path(&p, ctx, "nope", "x", 1), FK_ENOTFOUND);
    fk_close(ctx);
}

static void registry_describe_lists_catalog_columns(void **state)
{
    (void)state;
    fk_ctx *ctx = open_ctx(db);
    char *js = NULL;
    assert_int_equal(fk_registry_describe(&js, ctx), FK_OK);
    assert_non_null(strstr(js, "\"type\":\"cohort_definition\""));
    assert_non_null(strstr(js, "\"name\":\"share_token\""));
    assert_non_null(strstr(js, "\"secret\":true"));
    assert_non_null(strstr(js, "\"key\":\"items\""));
    /* HEOR children in restore order: scenarios before what references them */
    const char *s = strstr(js, "\"table\":\"heor_scenarios\"");
    const char *r = strstr(js, "\"table\":\"heor_results\"");
    assert_true(s && r && s < r);
    fk_free(js);
    fk_close(ctx);
}

/* The example program prints exactly what the library serializes. */
static void example_program_prints_the_fixture(void **state)
{
    (void)state;
    const char *exe = getenv("FKT_EXAMPLE_SERIALIZE");
    if (!exe)
        fail_msg("FKT_EXAMPLE_SERIALIZE is not set (run through meson test)");
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "'%s' \"%s\" concept_set 163", exe, db);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char out[8192];
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    assert_int_equal(pclose(p), 0);
    char *want = fkt_slurp(FIXTURES "/concept_sets/asthma.json", NULL);
    assert_string_equal(out, want);
    free(want);
    snprintf(cmd, sizeof cmd, "'%s' \"%s\" concept_set 999999 2>/dev/null", exe, db);
    p = popen(cmd, "r");
    assert_int_equal(WEXITSTATUS(pclose(p)), 1);
    snprintf(cmd, sizeof cmd, "'%s' 2>/dev/null", exe);
    p = popen(cmd, "r");
    assert_int_equal(WEXITSTATUS(pclose(p)), 2);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int open_with_registry(const char *conninfo, const char *text, fk_ctx **ctx)
{
    char path[] = "/tmp/fk-registry-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    write_file(path, text);
    fk_ctx_options o = FK_CTX_OPTIONS_INIT;
    o.registry_file = path;
    int rc = fk_open(ctx, conninfo, &o);
    unlink(path);
    return rc;
}

/* A type whose table or column is missing opens (a damaged database must
 * still be examined) and is refused, naming what is missing, by the first
 * call that needs it. */
static void refused_as_damaged(fk_ctx *ctx, const char *type, const char *expect)
{
    char *doc = NULL;
    assert_int_equal(fk_entity_serialize(&doc, NULL, ctx, type, 1, FK_FORMAT_PARTHENON),
                     FK_ENOTFOUND);
    assert_null(doc);
    if (!strstr(fk_errmsg(ctx), expect))
        fail_msg("%s: %s", type, fk_errmsg(ctx));
}

static void registry_files_are_checked(void **state)
{
    (void)state;
    fk_ctx *ctx = NULL;
    /* the built-in registry on a database without the tables names the table */
    assert_int_equal(fk_open(&ctx, fkt_pg_conninfo(pg), NULL), FK_OK);
    refused_as_damaged(ctx, "cohort_definition", "app.cohort_definitions");
    fk_close(ctx);

    static const char good[] =
        "{\"format\": \"fortknox-registry\", \"format_version\": 1, \"entities\": ["
        "{\"type\": \"cohort\", \"table\": \"app.cohort_definitions\", \"directory\": \"c\"}]}";
    assert_int_equal(open_with_registry(db, good, &ctx), FK_OK);
    char *doc = serialize(ctx, "cohort", 150, FK_FORMAT_PARTHENON);
    assert_non_null(strstr(doc, "\"name\": \"Dolorum officia.\""));
    fk_free(doc);
    char *p;
    assert_int_equal(fk_fixture_path(&p, ctx, "cohort", "X Y", 1), FK_OK);
    assert_string_equal(p, "c/x-y.json");
    fk_free(p);
    fk_close(ctx);

    static const struct {
        const char *text, *expect;
        int rc;
    } bad[] = {
        {"{\"format\": \"fortknox-registry\",\n \"format_version\": 1,\n \"entities\": [}",
         ":3:", FK_EPARSE},
        {"{\"format\": \"fortknox-registry\", \"format_version\": 1, \"entities\": ["
         "{\"type\": \"x\", \"tabel\": \"app.t\"}]}",
         "unknown key \"tabel\"", FK_EPARSE},
        {"{\"format\": \"fortknox-registry\", \"format_version\": 2, \"entities\": []}",
         "format_version", FK_EPARSE},
        {"{\"format\": \"fortknox-registry\", \"format_version\": 1, \"entities\": ["
         "{\"type\": \"x\", \"directory\": \"x\", \"table\": \"app.x; DROP TABLE users\"}]}",
         "app.x; DROP TABLE users", FK_ENOTFOUND},
        {"{\"format\": \"fortknox-registry\", \"format_version\": 1, \"entities\": ["
         "{\"type\": \"x\", \"table\": \"app.cohort_definitions\", \"name_column\": \"title\"}]}",
         "column title", FK_ENOTFOUND},
        {"{\"format\": \"fortknox-registry\", \"format_version\": 1, \"entities\": ["
         "{\"type\": \"x\", \"table\": \"app.cohort_definitions\", \"directory\": \"../up\"}]}",
         "directory", FK_EPARSE},
        {"{\"format\": \"fortknox-registry\", \"format_version\": 1, \"entities\": ["
         "{\"type\": \"x\", \"table\": \"cohort_definitions\"}]}",
         "schema-qualified", FK_EPARSE},
        {"{\"format\": \"fortknox-registry\", \"format_version\": 1, \"entities\": ["
         "{\"type\": \"a\", \"table\": \"app.concept_sets\"},"
         "{\"type\": \"a\", \"table\": \"app.cohort_definitions\"}]}",
         "repeats the type", FK_EPARSE},
        {"{\"format\": \"fortknox-registry\", \"format_version\": 1, \"entities\": ["
         "{\"type\": \"w\\u0000../x\", \"table\": \"app.cohort_definitions\"}]}",
         "U+0000", FK_EPARSE},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ctx = (fk_ctx *)1;
        int rc = open_with_registry(db, bad[i].text, &ctx);
        if (bad[i].rc == FK_ENOTFOUND && rc == FK_OK) {
            refused_as_damaged(ctx, "x", bad[i].expect);
            fk_close(ctx);
            continue;
        }
        if (rc != bad[i].rc || !strstr(fk_errmsg(NULL), bad[i].expect))
            fail_msg("case %zu: rc %d, message: %s", i, rc, fk_errmsg(NULL));
        assert_null(ctx);
    }
    /* still nothing changed in the database */
    char *n = fkt_pg_query1(db, "SELECT count(*) FROM app.users");
    assert_true(atoi(n) > 0);
    free(n);
}

static void builtin_registry_matches_the_documented_copy(void **state)
{
    (void)state;
    /* docs/parthenon-registry.json is what users copy: it must not drift */
    char *doc = fkt_slurp(FKT_SQL_DIR "/../../docs/parthenon-registry.json", NULL);
    assert_non_null(doc);
    fk_ctx *a = NULL, *b = NULL;
    assert_int_equal(open_with_registry(db, doc, &a), FK_OK);
    b = open_ctx(db);
    char *ja, *jb;
    assert_int_equal(fk_registry_describe(&ja, a), FK_OK);
    assert_int_equal(fk_registry_describe(&jb, b), FK_OK);
    assert_string_equal(ja, jb);
    fk_free(ja);
    fk_free(jb);
    fk_close(a);
    fk_close(b);
    free(doc);
}

static int load_all_fixtures(void)
{
    PGconn *c = PQconnectdb(db);
    if (PQstatus(c) != CONNECTION_OK)
        return -1;
    for (size_t d = 0; d < sizeof dirs / sizeof dirs[0]; d++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", FIXTURES, dirs[d].dir);
        DIR *dh = opendir(path);
        if (!dh)
            return -1;
        struct dirent *de;
        while ((de = readdir(dh))) {
            if (!strstr(de->d_name, ".json"))
                continue;
            char file[1024];
            snprintf(file, sizeof file, "%s/%s", path, de->d_name);
            char *json = fkt_slurp(file, NULL);
            if (strstr(file, LEGACY)) { /* older layout: only its own columns */
                PGresult *r = PQexecParams(
                    c,
                    "INSERT INTO app.evidence_synthesis_analyses (id, name, description, "
                    "design_json, author_id, created_at, updated_at, deleted_at) SELECT id, "
                    "name, description, design_json, author_id, created_at, updated_at, "
                    "deleted_at FROM jsonb_populate_record(NULL::app.evidence_synthesis_analyses,"
                    " $1::jsonb)",
                    1, NULL, (const char *const *)&json, NULL, NULL, 0);
                PQclear(r);
            } else {
                load_fixture_sql(c, dirs[d].dir, json);
            }
            free(json);
        }
        closedir(dh);
    }
    PQfinish(c);
    return 0;
}

int main(void)
{
    pg = fkt_pg_start_or_exit();
    db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    if (!db || load_all_fixtures() != 0) {
        printf("Bail out! could not prepare the database\n");
        fkt_pg_stop(pg);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fixtures_round_trip_byte_identical),
        cmocka_unit_test(secrets_never_leave_the_database),
        cmocka_unit_test(unicode_and_children),
        cmocka_unit_test(numbers_keep_their_value),
        cmocka_unit_test(numeric_columns_are_exact),
        cmocka_unit_test(migration_columns_appear_without_code_change),
        cmocka_unit_test(errors_name_what_is_wrong),
        cmocka_unit_test(fixture_paths_stay_inside_the_root),
        cmocka_unit_test(registry_describe_lists_catalog_columns),
        cmocka_unit_test(registry_files_are_checked),
        cmocka_unit_test(builtin_registry_matches_the_documented_copy),
        cmocka_unit_test(example_program_prints_the_fixture),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    free(db);
    fkt_pg_stop(pg);
    return rc;
}
