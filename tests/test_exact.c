/* What export writes is exactly what import restores, and verify and drill
 * say "identical" only when it is (issue 13, items 5 and 6): keys without a
 * column, keys without a value, values the format cannot hold, and the one
 * fixture size limit. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <fortknox.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fkt.h"

#define FIXTURES FKT_DATA_DIR "/parthenon-fixtures"
#define LEGACY "evidence_synthesis_analyses/meta-analysis-statin-cardioprotection.json"
/* FK__MAX_FIXTURE_BYTES (lib/fixtures/fixdir.h): internal, so restated */
#define LIMIT (64u * 1024 * 1024)

static fkt_pg *pg;


/* The schema, the seed's users, and no design rows. */
static char *users_only_db(void)
{
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    assert_non_null(db);
    assert_int_equal(fkt_pg_exec(db, "TRUNCATE app.cohort_definitions, app.concept_sets, "
                                     "app.characterizations, app.incidence_rate_analyses, "
                                     "app.pathway_analyses, app.estimation_analyses, "
                                     "app.prediction_analyses, app.sccs_analyses, "
                                     "app.evidence_synthesis_analyses, app.heor_analyses "
                                     "CASCADE"),
                     0);
    return db;
}

static fk_ctx *open_ctx(const char *db)
{
    fk_ctx *ctx = NULL;
    if (fk_open(&ctx, db, NULL) != FK_OK)
        fail_msg("fk_open: %s", fk_errmsg(NULL));
    return ctx;
}

static int export_to(fk_ctx *ctx, const char *dir)
{
    fk_report *r = NULL;
    int rc = fk_export(&r, ctx, dir, NULL);
    fk_report_free(r);
    return rc;
}

/* An import with options o and columns `cols` given their defaults
 * (--default: a file lacking them is refused otherwise). */
static int import_defaults(fk_ctx *ctx, const char *dir, fk_import_options o,
                           const char *const *cols, size_t n, fk_report **out)
{
    fk_key_map km;
    fk_key_map_init(&km, FK_KEY_MAP_VERSION);
    km.default_col = cols;
    km.ndefault_col = n;
    o.key_map = &km;
    *out = NULL;
    return fk_import(out, ctx, dir, &o);
}

static int import_from(fk_ctx *ctx, const char *dir, fk_report **out)
{
    fk_report *r = NULL;
    int rc = fk_import(&r, ctx, dir, NULL);
    if (out)
        *out = r;
    else
        fk_report_free(r);
    return rc;
}

static int verify_rc(fk_ctx *ctx, const char *dir)
{
    fk_report *r = NULL;
    int rc = fk_verify(&r, ctx, dir, NULL);
    fk_report_free(r);
    return rc;
}

static int drill_rc(fk_ctx *ctx, const char *dir)
{
    fk_report *r = NULL;
    int rc = fk_drill(&r, ctx, dir, NULL);
    fk_report_free(r);
    return rc;
}

static char *q(const char *db, const char *sql)
{
    char *v = fkt_pg_query1(db, sql);
    assert_non_null(v);
    return v;
}

static void assert_query(const char *db, const char *sql, const char *want)
{
    char *v = q(db, sql);
    if (strcmp(v, want) != 0)
        fail_msg("%s\n  gave %s\n  want %s", sql, v, want);
    free(v);
}

static int count_code(const fk_report *r, const char *code)
{
    int n = 0;
    for (size_t i = 0; i < fk_report_item_count(r); i++)
        n += strcmp(fk_report_item_at(r, i)->code, code) == 0;
    return n;
}

static const fk_report_item *find_code(const fk_report *r, const char *code)
{
    for (size_t i = 0; i < fk_report_item_count(r); i++)
        if (strcmp(fk_report_item_at(r, i)->code, code) == 0)
            return fk_report_item_at(r, i);
    return NULL;
}

static const fk_report_item *find_item(const fk_report *r, const char *code, int64_t id)
{
    for (size_t i = 0; i < fk_report_item_count(r); i++) {
        const fk_report_item *it = fk_report_item_at(r, i);
        if (strcmp(it->code, code) == 0 && it->entity_id == id)
            return it;
    }
    return NULL;
}

static char *read_rel(const char *dir, const char *rel, size_t *len)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    return fkt_slurp(p, len);
}

/* A database with the seed's users and the rows `sql` inserts, a context on
 * it and an empty fixture directory. */
typedef struct env {
    char *db;
    fk_ctx *ctx;
    char *dir;
} env;

static env env_with(const char *sql)
{
    env e = {users_only_db(), NULL, fkt_tempdir_or_fail("fk-exact")};
    assert_int_equal(fkt_pg_exec(e.db, sql), 0); /* first: it may change the schema */
    e.ctx = open_ctx(e.db);
    return e;
}

static void env_end(env *e)
{
    fk_close(e->ctx);
    fkt_rm_tree(e->dir);
    free(e->db);
}

static const char one_cohort_sql[] =
    "INSERT INTO app.cohort_definitions (id, name, expression_json, author_id, tags) "
    "VALUES (7001, 'Exact', '{\"p\": \"\"}', 1, NULL)";
#define COHORT_FILE "cohort_definitions/exact.json"

/* --------------------------------------- item 5: values come back exactly */

/* The two jsonb columns of every cohort, SQL NULL told apart from JSON null. */
static char *jsonb_state(const char *db)
{
    return q(db, "SELECT string_agg(id || ':' || coalesce(expression_json::text, '<SQL NULL>') "
                 "|| '|' || coalesce(tags::text, '<SQL NULL>'), ';' ORDER BY id) "
                 "FROM app.cohort_definitions");
}

/* export, verify and drill say identical; wipe_sql deletes everything;
 * import; state() of the database is what it was. */
static void assert_round_trip_of(const char *db, fk_ctx *ctx, const char *dir,
                                 char *(*state)(const char *), const char *wipe_sql)
{
    char *before = state(db);
    assert_int_equal(export_to(ctx, dir), FK_OK);
    if (verify_rc(ctx, dir) != FK_OK)
        fail_msg("verify: %s", fk_errmsg(ctx));
    fk_report *dr = NULL;
    if (fk_drill(&dr, ctx, dir, NULL) != FK_OK) {
        char *js = NULL;
        if (fk_report_json(&js, dr) != FK_OK)
            js = NULL;
        fail_msg("drill: %s\n%s", fk_errmsg(ctx), js ? js : "");
    }
    fk_report_free(dr);
    assert_int_equal(fkt_pg_exec(db, wipe_sql), 0);
    if (import_from(ctx, dir, NULL) != FK_OK)
        fail_msg("import: %s", fk_errmsg(ctx));
    char *after = state(db);
    assert_string_equal(after, before);
    assert_int_equal(verify_rc(ctx, dir), FK_OK);
    free(before);
    free(after);
}

static void assert_round_trip(const char *db, fk_ctx *ctx, const char *dir)
{
    assert_round_trip_of(db, ctx, dir, jsonb_state, "DELETE FROM app.cohort_definitions");
}

/* JSON null and SQL NULL in json/jsonb columns, of the entity and of its
 * child rows: the file says null for both, the manifest names the JSON ones. */
static char *scenario_state(const char *db)
{
    return q(db, "SELECT string_agg(id || ':' || coalesce(parameter_overrides::text, "
                 "'<SQL NULL>'), ';' ORDER BY id) FROM app.heor_scenarios");
}

static void json_null_and_sql_null_come_back(void **state)
{
    (void)state;
    env en = env_with("INSERT INTO app.cohort_definitions (id, name, expression_json, author_id, "
                      "tags) VALUES (7001, 'Json null', 'null', 1, NULL), "
                      "(7002, 'Sql null', NULL, 1, 'null'), "
                      "(7003, 'Nested', '{\"a\": null}', 1, '[null]');"
                      "INSERT INTO app.heor_analyses (id, created_by, name) VALUES "
                      "(8001, 1, 'Heor');"
                      "INSERT INTO app.heor_scenarios (id, analysis_id, name, "
                      "parameter_overrides) VALUES (9001, 8001, 'a', 'null'), "
                      "(9002, 8001, 'b', NULL), (9003, 8001, 'c', '{}')");
    const char *db = en.db, *dir = en.dir;
    fk_ctx *ctx = en.ctx;
    char *scen = scenario_state(db);
    assert_round_trip(db, ctx, dir);
    /* the file says null for both; the manifest names the JSON null */
    char *doc = read_rel(dir, "cohort_definitions/json-null.json", NULL);
    assert_non_null(strstr(doc, "\"expression_json\": null,"));
    free(doc);
    char *man = read_rel(dir, "fortknox-manifest.json", NULL);
    assert_non_null(strstr(man, "\"id\": 7001, \"sha256\": "));
    assert_non_null(strstr(man, "\"json_null\": [\"expression_json\"]}"));
    assert_non_null(strstr(man, "\"json_null\": [\"tags\"]}"));
    assert_non_null(strstr(man, "\"json_null\": [\"scenarios/9001/parameter_overrides\"]}"));
    free(man);
    char *scen2 = scenario_state(db);
    assert_string_equal(scen2, scen);
    free(scen2);
    free(scen);
    /* importing twice changes nothing */
    fk_report *r = NULL;
    assert_int_equal(import_from(ctx, dir, &r), FK_OK);
    assert_int_equal(fk_report_counter(r, "unchanged"), 4);
    fk_report_free(r);

    /* the database changes one into the other: never identical */
    assert_int_equal(fkt_pg_exec(db, "UPDATE app.cohort_definitions SET expression_json = NULL "
                                     "WHERE id = 7001"),
                     0);
    assert_int_equal(verify_rc(ctx, dir), FK_EVERIFY);
    assert_int_equal(fkt_pg_exec(db, "UPDATE app.cohort_definitions SET expression_json = 'null' "
                                     "WHERE id = 7001; UPDATE app.heor_scenarios SET "
                                     "parameter_overrides = 'null' WHERE id = 9002"),
                     0);
    assert_int_equal(verify_rc(ctx, dir), FK_EVERIFY);
    env_end(&en);
}

/* Numbers keep their scale where the column does not fix it: inside jsonb
 * (PHP would write 0.1 for 0.10) and in a numeric column without a scale;
 * a numeric(p,s) column restores its scale itself (0.03 -> 0.0300). */
static void numbers_come_back_with_their_scale(void **state)
{
    (void)state;
    env en = env_with("ALTER TABLE app.cohort_definitions ADD COLUMN weight numeric;"
                      "INSERT INTO app.cohort_definitions (id, name, expression_json, author_id, "
                      "tags, weight) VALUES (7001, 'Numbers', '{\"a\": 0.10, \"b\": 100.00, "
                      "\"c\": 1e-5, \"d\": 1.0e+300, \"e\": [1.5, 2, -0.0]}', 1, '[0.0300]', "
                      "1.10), (7002, 'Plain', '[0.1, 3]', 1, NULL, 2);"
                      "INSERT INTO app.heor_analyses (id, created_by, name, discount_rate) "
                      "VALUES (8001, 1, 'Rate', 0.0300)");
    char *before = q(en.db, "SELECT string_agg(weight::text, ',' ORDER BY id) FROM "
                            "app.cohort_definitions");
    assert_round_trip(en.db, en.ctx, en.dir);
    char *after = q(en.db, "SELECT string_agg(weight::text, ',' ORDER BY id) FROM "
                           "app.cohort_definitions");
    assert_string_equal(after, before);
    assert_string_equal(after, "1.10,2");
    assert_query(en.db, "SELECT discount_rate::text FROM app.heor_analyses", "0.0300");
    char *doc = read_rel(en.dir, "cohort_definitions/numbers.json", NULL);
    assert_non_null(strstr(doc, "\"a\": 0.10,"));
    assert_non_null(strstr(doc, "\"weight\": 1.10\n"));
    free(doc);
    doc = read_rel(en.dir, "heor_analyses/rate.json", NULL);
    assert_non_null(strstr(doc, "\"discount_rate\": 0.03,"));
    free(doc);
    /* a file that says 0.1 where jsonb holds 0.10 (PHP's form, as older
     * exports wrote it) would not restore it: a difference */
    assert_int_equal(fkt_sh("sed -i 's/\"a\": 0.10,/\"a\": 0.1,/' '%s'/cohort_definitions/numbers.json",
                        en.dir), 0);
    fk_report *r = NULL;
    assert_int_equal(fk_verify(&r, en.ctx, en.dir, NULL), FK_EVERIFY);
    assert_int_equal(fk_report_counter(r, "differs"), 1);
    assert_string_equal(find_code(r, "differs")->fields, "[\"expression_json\"]");
    fk_report_free(r);
    free(before);
    free(after);
    env_end(&en);
}

/* {} stays {} and [] stays [], at the top of a column and nested. */
static void empty_objects_stay_objects(void **state)
{
    (void)state;
    env en = env_with("INSERT INTO app.cohort_definitions (id, name, expression_json, author_id, "
                      "tags) VALUES (7001, 'Objects', '{\"a\": {}, \"b\": [], \"c\": "
                      "[{}, []]}', 1, '{}'), (7002, 'Arrays', '[]', 1, '[]')");
    const char *db = en.db, *dir = en.dir;
    fk_ctx *ctx = en.ctx;
    assert_round_trip(db, ctx, dir);
    char *doc = read_rel(dir, "cohort_definitions/objects.json", NULL);
    assert_non_null(strstr(doc, "\"tags\": {},"));
    free(doc);
    /* a file that says [] where the database holds {} is a difference */
    assert_int_equal(fkt_pg_exec(db, "UPDATE app.cohort_definitions SET tags = '[]' "
                                     "WHERE id = 7001"),
                     0);
    assert_int_equal(export_to(ctx, dir), FK_OK);
    assert_int_equal(fkt_pg_exec(db, "UPDATE app.cohort_definitions SET tags = '{}' "
                                     "WHERE id = 7001"),
                     0);
    assert_int_equal(verify_rc(ctx, dir), FK_EVERIFY);
    env_end(&en);
}

/* ------------------------------------------------ item 5: keys and columns */

/* Two cohorts exported, then both files edited with sed expression `edit`. */
static char *two_edited_files(const char *db, fk_ctx *ctx, const char *edit)
{
    char *dir = fkt_tempdir_or_fail("fk-exact");
    assert_int_equal(fkt_pg_exec(db, "INSERT INTO app.cohort_definitions (id, name, "
                                     "expression_json, author_id, tags) VALUES "
                                     "(7001, 'One', '{}', 1, '[\"x\"]'), "
                                     "(7002, 'Two', '{}', 1, NULL)"),
                     0);
    assert_int_equal(export_to(ctx, dir), FK_OK);
    assert_int_equal(fkt_sh("sed -i '%s' '%s'/cohort_definitions/one.json "
                        "'%s'/cohort_definitions/two.json", edit, dir, dir),
                     0);
    return dir;
}

/* A key that names no column (here: tags renamed to labels after the
 * export): import refuses, naming file and key, and changes nothing, unless
 * told to drop it; verify and drill never call the directory identical. */
static void unknown_keys_are_refused_or_dropped(void **state)
{
    (void)state;
    char *db = users_only_db();
    fk_ctx *ctx = open_ctx(db);
    char *dir = two_edited_files(db, ctx, "s/\"tags\":/\"labels\":/");
    assert_int_equal(verify_rc(ctx, dir), FK_EVERIFY);
    assert_int_equal(drill_rc(ctx, dir), FK_EPARSE);
    assert_non_null(strstr(fk_errmsg(ctx), "\"labels\""));

    assert_int_equal(fkt_pg_exec(db, "DELETE FROM app.cohort_definitions"), 0);
    assert_int_equal(import_from(ctx, dir, NULL), FK_EPARSE);
    const char *msg = fk_errmsg(ctx);
    if (!strstr(msg, "cohort_definitions/one.json:") || !strstr(msg, "\"labels\"") ||
        !strstr(msg, "renamed or dropped"))
        fail_msg("message: %s", msg);
    assert_query(db, "SELECT count(*) FROM app.cohort_definitions", "0");

    /* an escaped spelling of a column's name is that column, as the server reads it */
    assert_int_equal(fkt_sh("sed -i 's/\"labels\":/\"t\\\\u0061gs\":/' '%s'/cohort_definitions/*.json",
                        dir), 0);
    assert_int_equal(import_from(ctx, dir, NULL), FK_OK);
    assert_query(db, "SELECT string_agg(coalesce(tags::text, '-'), ',' ORDER BY id) FROM "
                     "app.cohort_definitions", "[\"x\"],-");
    assert_int_equal(fkt_sh("sed -i 's/\"t\\\\u0061gs\":/\"labels\":/' '%s'/cohort_definitions/*.json",
                        dir), 0);

    /* dropped on request: the tags column then has no key in the files,
     * which is refused until its default is asked for too */
    assert_int_equal(fkt_pg_exec(db, "DELETE FROM app.cohort_definitions"), 0);
    fk_import_options o;
    assert_int_equal(fk_import_options_init(&o, FK_IMPORT_OPTIONS_VERSION), FK_OK);
    assert_int_equal(o.unknown_keys, FK_UNKNOWN_KEYS_REFUSE);
    o.unknown_keys = FK_UNKNOWN_KEYS_DROP;
    fk_report *r = NULL;
    assert_int_equal(fk_import(&r, ctx, dir, &o), FK_EPARSE);
    assert_non_null(strstr(fk_errmsg(ctx), "no key for column(s) tags"));
    assert_query(db, "SELECT count(*) FROM app.cohort_definitions", "0");
    /* imported, one warning for the key of the type */
    static const char *const tags[] = {"tags"};
    if (import_defaults(ctx, dir, o, tags, 1, &r) != FK_OK)
        fail_msg("import: %s", fk_errmsg(ctx));
    assert_int_equal(fk_report_counter(r, "created"), 2);
    assert_int_equal(count_code(r, "unknown_key"), 1);
    assert_non_null(strstr(find_code(r, "unknown_key")->message, "\"labels\""));
    /* and the missing tags key of both files is one warning too */
    assert_int_equal(count_code(r, "missing_key"), 1);
    fk_report_free(r);
    assert_query(db, "SELECT count(*) FROM app.cohort_definitions WHERE tags IS NULL", "2");
    o.unknown_keys = (fk_unknown_keys)7;
    assert_int_equal(fk_import(&r, ctx, dir, &o), FK_EINVAL);
    fk_close(ctx);
    fkt_rm_tree(dir);
    free(db);
}

/* The rule holds inside child rows too: an item key that names no column
 * of the item table refuses the import, at its line. */
static void unknown_keys_in_child_rows_are_refused(void **state)
{
    (void)state;
    env en = env_with("INSERT INTO app.concept_sets (id, name, author_id) VALUES (6001, 'Set', 1);"
                      "INSERT INTO app.concept_set_items (id, concept_set_id, concept_id, "
                      "is_excluded) VALUES (1, 6001, 42, true), (2, 6001, 43, false)");
    assert_int_equal(export_to(en.ctx, en.dir), FK_OK);
    assert_int_equal(fkt_sh("sed -i '0,/\"is_excluded\":/s//\"excluded\":/' '%s'/concept_sets/set.json",
                        en.dir), 0);
    size_t len;
    char *doc = read_rel(en.dir, "concept_sets/set.json", &len);
    char *at = strstr(doc, "\"excluded\"");
    assert_non_null(at);
    int line = 1;
    for (char *p = doc; p < at; p++)
        line += *p == '\n';
    free(doc);
    assert_int_equal(verify_rc(en.ctx, en.dir), FK_EVERIFY);
    assert_int_equal(fkt_pg_exec(en.db, "DELETE FROM app.concept_sets"), 0);
    assert_int_equal(import_from(en.ctx, en.dir, NULL), FK_EPARSE);
    char want[64];
    /* positions point at the value, as for every other key: column 13 + 12 */
    snprintf(want, sizeof want, "concept_sets/set.json:%d:25: key \"items[].excluded\"", line);
    if (!strstr(fk_errmsg(en.ctx), want))
        fail_msg("message: %s\nwant: %s", fk_errmsg(en.ctx), want);
    assert_query(en.db, "SELECT count(*) FROM app.concept_set_items", "0");
    fk_import_options o;
    fk_import_options_init(&o, FK_IMPORT_OPTIONS_VERSION);
    o.unknown_keys = FK_UNKNOWN_KEYS_DROP;
    fk_report *r = NULL;
    /* the item rows then lack is_excluded: refused at the row, until its
     * default is asked for */
    assert_int_equal(fk_import(&r, en.ctx, en.dir, &o), FK_EPARSE);
    if (!strstr(fk_errmsg(en.ctx), "no key for column(s) is_excluded of "
                                   "\"app\".\"concept_set_items\" (in a row of \"items\")"))
        fail_msg("message: %s", fk_errmsg(en.ctx));
    static const char *const excl[] = {"concept_set_items.is_excluded"};
    assert_int_equal(import_defaults(en.ctx, en.dir, o, excl, 1, &r), FK_OK);
    assert_int_equal(count_code(r, "unknown_key"), 1);
    fk_report_free(r);
    assert_query(en.db, "SELECT string_agg(is_excluded::text, ',' ORDER BY id) FROM "
                        "app.concept_set_items", "false,false");
    env_end(&en);
}

/* A key a file lacks: the import refuses it (its value cannot be known)
 * unless the column's default is asked for; then it is reported once per
 * type and column. verify and drill never call it identical. */
static void missing_keys_are_reported_and_differ(void **state)
{
    (void)state;
    char *db = users_only_db();
    fk_ctx *ctx = open_ctx(db);
    char *dir = two_edited_files(db, ctx, "/\"domain\":/d");
    fk_report *r = NULL;
    assert_int_equal(fk_verify(&r, ctx, dir, NULL), FK_EVERIFY);
    assert_int_equal(fk_report_counter(r, "differs"), 2);
    assert_non_null(strstr(find_code(r, "differs")->fields, "domain"));
    fk_report_free(r);
    assert_int_equal(fk_drill(&r, ctx, dir, NULL), FK_EVERIFY);
    assert_int_equal(fk_report_counter(r, "differs"), 2);
    assert_int_equal(count_code(r, "missing_key"), 1);
    fk_report_free(r);

    /* an import refuses it, naming the column, until its default is asked for */
    assert_int_equal(fkt_pg_exec(db, "UPDATE app.cohort_definitions SET domain = 'oncology'"), 0);
    assert_int_equal(import_from(ctx, dir, &r), FK_EPARSE);
    if (!strstr(fk_errmsg(ctx), "cohort_definitions/one.json:1:1: cohort_definition has no key "
                                "for column(s) domain") ||
        !strstr(fk_errmsg(ctx), "--default cohort_definitions.domain"))
        fail_msg("message: %s", fk_errmsg(ctx));
    assert_query(db, "SELECT string_agg(domain, ',') FROM app.cohort_definitions",
                 "oncology,oncology");
    static const char *const domain[] = {"cohort_definitions.domain"};
    fk_import_options o;
    fk_import_options_init(&o, FK_IMPORT_OPTIONS_VERSION);
    assert_int_equal(import_defaults(ctx, dir, o, domain, 1, &r), FK_OK);
    assert_int_equal(count_code(r, "missing_key"), 1);
    const fk_report_item *it = find_code(r, "missing_key");
    if (!strstr(it->message, "2 cohort_definition file(s)") || !strstr(it->message, "\"domain\""))
        fail_msg("message: %s", it->message);
    fk_report_free(r);
    assert_query(db, "SELECT string_agg(domain, ',') FROM app.cohort_definitions",
                 "general,general");
    fk_close(ctx);
    fkt_rm_tree(dir);
    free(db);
}

/* Parthenon's legacy file lacks four columns: its import is refused naming
 * them, and imports with their defaults asked for (a warning per column);
 * verify and drill count it as the one difference. */
static void legacy_fixture_imports_but_is_not_identical(void **state)
{
    (void)state;
    char *db = users_only_db();
    fk_ctx *ctx = open_ctx(db);
    fk_report *r = NULL;
    assert_int_equal(import_from(ctx, FIXTURES, &r), FK_EPARSE);
    if (!strstr(fk_errmsg(ctx), LEGACY ":1:1: evidence_synthesis_analysis has no key for "
                                "column(s) status, archived_at, archived_by, promoted_at"))
        fail_msg("message: %s", fk_errmsg(ctx));
    /* unqualified: the audit context records the map, so it must be short */
    static const char *const added[] = {"status", "archived_at", "archived_by", "promoted_at"};
    fk_import_options o;
    fk_import_options_init(&o, FK_IMPORT_OPTIONS_VERSION);
    if (import_defaults(ctx, FIXTURES, o, added, 4, &r) != FK_OK)
        fail_msg("import: %s", fk_errmsg(ctx));
    assert_int_equal(fk_report_counter(r, "created"), 31);
    assert_int_equal(count_code(r, "missing_key"), 4);
    assert_string_equal(find_code(r, "missing_key")->path, LEGACY);
    fk_report_free(r);
    assert_int_equal(fk_verify(&r, ctx, FIXTURES, NULL), FK_EVERIFY);
    assert_int_equal(fk_report_counter(r, "differs"), 1);
    assert_int_equal(fk_report_counter(r, "identical"), 30);
    assert_string_equal(find_code(r, "differs")->path, LEGACY);
    fk_report_free(r);
    assert_int_equal(fk_drill(&r, ctx, FIXTURES, NULL), FK_EVERIFY);
    assert_int_equal(fk_report_counter(r, "differs"), 1);
    fk_report_free(r);
    fk_close(ctx);
    free(db);
}

/* ------------------------------------------------------- item 6: size limit */

/* The largest document export writes imports, verifies and drills; one byte
 * more is refused by export, naming the entity and its size, and the file
 * already there stays as it was. */
static void largest_exportable_entity_restores(void **state)
{
    (void)state;
    char *db = users_only_db();
    fk_ctx *ctx = open_ctx(db);
    char *dir = fkt_tempdir_or_fail("fk-exact");
    assert_int_equal(fkt_pg_exec(db, one_cohort_sql), 0);
    assert_int_equal(export_to(ctx, dir), FK_OK);
    size_t base = 0;
    free(read_rel(dir, COHORT_FILE, &base));
    assert_true(base > 0 && base < 4096);
    char sql[256];
    /* an ASCII string grows the file by exactly its length */
    snprintf(sql, sizeof sql,
             "UPDATE app.cohort_definitions SET expression_json = jsonb_build_object('p', "
             "repeat('a', %zu))", (size_t)LIMIT - base);
    assert_int_equal(fkt_pg_exec(db, sql), 0);
    assert_int_equal(export_to(ctx, dir), FK_OK);
    size_t len = 0;
    char *full = read_rel(dir, COHORT_FILE, &len);
    assert_int_equal(len, LIMIT);
    assert_int_equal(verify_rc(ctx, dir), FK_OK);
    assert_int_equal(drill_rc(ctx, dir), FK_OK);
    assert_int_equal(fkt_pg_exec(db, "DELETE FROM app.cohort_definitions"), 0);
    assert_int_equal(import_from(ctx, dir, NULL), FK_OK);
    char want_len[32];
    snprintf(want_len, sizeof want_len, "%zu", (size_t)LIMIT - base);
    assert_query(db, "SELECT length(expression_json->>'p') FROM app.cohort_definitions", want_len);
    assert_int_equal(verify_rc(ctx, dir), FK_OK);

    /* one byte more: refused, naming the entity and the size; file intact */
    assert_int_equal(fkt_pg_exec(db, "UPDATE app.cohort_definitions SET expression_json = "
                                     "jsonb_build_object('p', (expression_json->>'p') || 'b')"),
                     0);
    assert_int_equal(export_to(ctx, dir), FK_EUNSUPPORTED);
    const char *msg = fk_errmsg(ctx);
    char want[64];
    snprintf(want, sizeof want, "%zu bytes", (size_t)LIMIT + 1);
    if (!strstr(msg, "cohort_definition 7001") || !strstr(msg, want))
        fail_msg("message: %s", msg);
    size_t len2 = 0;
    char *after = read_rel(dir, COHORT_FILE, &len2);
    assert_int_equal(len2, len);
    assert_memory_equal(after, full, len);
    free(after);
    free(full);
    fk_close(ctx);
    fkt_rm_tree(dir);
    free(db);
}

/* ------------------------------------------ one reading of an entity's id */

/* A file whose id key is written with an escape ("\u0069d" is "id") holds
 * the same document for the server, and import always read it so; verify
 * (and drill) must read the same id, not call the file id-less. */
static void an_escaped_id_key_is_the_same_id_everywhere(void **state)
{
    (void)state;
    env en = env_with(one_cohort_sql);
    assert_int_equal(export_to(en.ctx, en.dir), FK_OK);
    assert_int_equal(fkt_sh("sed -i 's/\"id\": 7001/\"\\\\u0069d\": 7001/' '%s/%s'", en.dir,
                        COHORT_FILE),
                     0);
    char *doc = read_rel(en.dir, COHORT_FILE, NULL);
    assert_non_null(strstr(doc, "\"\\u0069d\": 7001"));
    free(doc);
    assert_int_equal(import_from(en.ctx, en.dir, NULL), FK_OK);
    fk_report *r = NULL;
    int rc = fk_verify(&r, en.ctx, en.dir, NULL);
    if (rc != FK_EVERIFY)
        fail_msg("verify: %d %s", rc, fk_errmsg(en.ctx));
    /* the entity is what the file restores; only the file's bytes changed */
    assert_int_equal(fk_report_counter(r, "identical"), 1);
    assert_int_equal(fk_report_counter(r, "differs"), 0);
    assert_int_equal(fk_report_counter(r, "file_edited"), 1);
    fk_report_free(r);
    env_end(&en);
}

/* ------------------- attack 13, items 7 and 8: every type, every value */

/* A table with a json, a point and an xml column (none has an equality
 * operator; Laravel's ->json() makes the json one), in a parent and in a
 * child table. */
static const char odd_types_sql[] =
    "ALTER TABLE app.cohort_definitions ADD COLUMN js json, ADD COLUMN pt point, "
    "ADD COLUMN doc xml;"
    "ALTER TABLE app.heor_scenarios ADD COLUMN js json, ADD COLUMN pt point;"
    "INSERT INTO app.cohort_definitions (id, name, author_id, js, pt, doc) VALUES "
    "(7001, 'Layout', 1, '{\"b\":1,  \"a\" : [1, 2.50e0],\"b\":2}', '(1.5,-0)', '<a x=\"1\"/>'),"
    "(7002, 'Scalars', 1, ' \"text\" ', '(0,0)', NULL),"
    "(7003, 'Json null', 1, 'null', NULL, 'plain'),"
    "(7004, 'Sql null', 1, NULL, NULL, NULL);"
    "INSERT INTO app.heor_analyses (id, created_by, name) VALUES (8001, 1, 'Heor');"
    "INSERT INTO app.heor_scenarios (id, analysis_id, name, js, pt) VALUES "
    "(9001, 8001, 'a', '[ 1,\n 2 ]', '(3,4)'), (9002, 8001, 'b', NULL, NULL)";

static char *odd_types_state(const char *db)
{
    return q(db, "SELECT (SELECT string_agg(id || ':' || coalesce(js::text, '<NULL>') || '|' || "
                 "coalesce(pt::text, '<NULL>') || '|' || coalesce(doc::text, '<NULL>'), ';' "
                 "ORDER BY id) FROM app.cohort_definitions) || '#' || (SELECT string_agg(id || "
                 "':' || coalesce(js::text, '<NULL>') || '|' || coalesce(pt::text, '<NULL>'), "
                 "';' ORDER BY id) FROM app.heor_scenarios)");
}

/* json keeps its text (spaces, key order, duplicate keys): the file holds
 * that text, import gives it back byte for byte, and a database whose text
 * differs only in layout is a difference that import repairs. */
static void json_point_and_xml_columns_come_back(void **state)
{
    (void)state;
    env en = env_with(odd_types_sql);
    const char *db = en.db, *dir = en.dir;
    fk_ctx *ctx = en.ctx;
    assert_round_trip_of(db, ctx, dir, odd_types_state,
                         "DELETE FROM app.cohort_definitions; DELETE FROM app.heor_analyses");
    char *doc = read_rel(dir, "cohort_definitions/layout.json", NULL);
    assert_non_null(strstr(doc, "\"js\": \"{\\\"b\\\":1,  \\\"a\\\" : [1, 2.50e0],\\\"b\\\":2}\",\n"));
    assert_non_null(strstr(doc, "\"pt\": \"(1.5,-0)\",\n"));
    free(doc);
    char *before = odd_types_state(db);
    fk_report *r = NULL;
    assert_int_equal(import_from(ctx, dir, &r), FK_OK);
    assert_int_equal(fk_report_counter(r, "unchanged"), 5);
    fk_report_free(r);

    /* the same JSON value in another layout: not what the file restores */
    assert_int_equal(fkt_pg_exec(db, "UPDATE app.cohort_definitions SET js = '{\"b\":1, \"a\":"
                                     "[1, 2.50e0], \"b\":2}' WHERE id = 7001; "
                                     "UPDATE app.heor_scenarios SET js = '[1, 2]' WHERE id = 9001"),
                     0);
    r = NULL;
    assert_int_equal(fk_verify(&r, ctx, dir, NULL), FK_EVERIFY);
    assert_int_equal(fk_report_counter(r, "differs"), 2);
    fk_report_free(r);
    assert_int_equal(drill_rc(ctx, dir), FK_OK); /* the files themselves restore */
    r = NULL;
    assert_int_equal(import_from(ctx, dir, &r), FK_OK);
    assert_int_equal(fk_report_counter(r, "updated"), 2);
    const fk_report_item *u = find_item(r, "updated", 7001);
    assert_non_null(u);
    assert_string_equal(u->fields, "[\"js\"]");
    fk_report_free(r);
    char *after = odd_types_state(db);
    assert_string_equal(after, before);
    assert_int_equal(verify_rc(ctx, dir), FK_OK);
    free(after);
    free(before);
    env_end(&en);
}

static const char floats_sql[] =
    "ALTER TABLE app.cohort_definitions ADD COLUMN f8 float8, ADD COLUMN f4 real;"
    "INSERT INTO app.cohort_definitions (id, name, author_id, f8, f4) VALUES "
    "(7001, 'Minus zero', 1, '-0', '-0'), (7002, 'Zero', 1, '0', '0'), "
    "(7003, 'Nan', 1, 'NaN', 'NaN'), (7004, 'Inf', 1, 'Infinity', 'Infinity'), "
    "(7005, 'Minus inf', 1, '-Infinity', '-Infinity'), (7006, 'Tiny', 1, '-5e-324', '-1e-45')";

static char *floats_state(const char *db)
{
    return q(db, "SELECT string_agg(id || ':' || f8::text || '|' || f4::text, ';' ORDER BY id) "
                 "FROM app.cohort_definitions");
}

/* -0 is not 0 (1/x tells them apart): jsonb numbers are numeric, which has
 * no negative zero, so the file holds "-0" as it holds "NaN". */
static void negative_zero_and_nan_come_back(void **state)
{
    (void)state;
    env en = env_with(floats_sql);
    const char *db = en.db, *dir = en.dir;
    fk_ctx *ctx = en.ctx;
    char *before = floats_state(db);
    assert_string_equal(before, "7001:-0|-0;7002:0|0;7003:NaN|NaN;7004:Infinity|Infinity;"
                                "7005:-Infinity|-Infinity;7006:-5e-324|-1e-45");
    assert_round_trip_of(db, ctx, dir, floats_state, "DELETE FROM app.cohort_definitions");
    char *doc = read_rel(dir, "cohort_definitions/minus-zero.json", NULL);
    assert_non_null(strstr(doc, "\"f8\": \"-0\",\n"));
    assert_non_null(strstr(doc, "\"f4\": \"-0\"\n"));
    free(doc);

    /* 0 in the database where the file says -0: a difference import repairs */
    assert_int_equal(fkt_pg_exec(db, "UPDATE app.cohort_definitions SET f8 = 0 WHERE id = 7001"),
                     0);
    fk_report *r = NULL;
    assert_int_equal(fk_verify(&r, ctx, dir, NULL), FK_EVERIFY);
    assert_string_equal(find_code(r, "differs")->fields, "[\"f8\"]");
    fk_report_free(r);
    r = NULL;
    assert_int_equal(import_from(ctx, dir, &r), FK_OK);
    assert_non_null(find_code(r, "updated"));
    assert_string_equal(find_code(r, "updated")->fields, "[\"f8\"]");
    fk_report_free(r);
    char *after = floats_state(db);
    assert_string_equal(after, before);
    free(after);

    /* a file that says 0 where the database holds -0 (as older exports
     * wrote it) would not restore it: a difference */
    assert_int_equal(fkt_sh("sed -i 's/\"f4\": \"-0\"/\"f4\": 0/' '%s'/cohort_definitions/minus-zero.json",
                        dir), 0);
    r = NULL;
    assert_int_equal(fk_verify(&r, ctx, dir, NULL), FK_EVERIFY);
    assert_string_equal(find_code(r, "differs")->fields, "[\"f4\"]");
    fk_report_free(r);
    free(before);
    env_end(&en);
}

int main(void)
{
    pg = fkt_pg_start_or_exit();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(empty_objects_stay_objects),
        cmocka_unit_test(json_null_and_sql_null_come_back),
        cmocka_unit_test(numbers_come_back_with_their_scale),
        cmocka_unit_test(unknown_keys_are_refused_or_dropped),
        cmocka_unit_test(unknown_keys_in_child_rows_are_refused),
        cmocka_unit_test(missing_keys_are_reported_and_differ),
        cmocka_unit_test(legacy_fixture_imports_but_is_not_identical),
        cmocka_unit_test(largest_exportable_entity_restores),
        cmocka_unit_test(an_escaped_id_key_is_the_same_id_everywhere),
        cmocka_unit_test(json_point_and_xml_columns_come_back),
        cmocka_unit_test(negative_zero_and_nan_come_back),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    fkt_pg_stop(pg);
    return rc;
}
