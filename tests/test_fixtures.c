/* Export and import against the real Parthenon fixtures and a real server:
 * byte-identical round trips, exact restores, stable and safe file names,
 * refusal of bad input with nothing changed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <fortknox.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fkt.h"

#define FIXTURES FKT_DATA_DIR "/parthenon-fixtures"
#define LEGACY "evidence_synthesis_analyses/meta-analysis-statin-cardioprotection.json"

static fkt_pg *pg;

static const char *const design_tables[] = {
    "cohort_definitions", "concept_sets", "concept_set_items", "characterizations",
    "incidence_rate_analyses", "pathway_analyses", "estimation_analyses", "prediction_analyses",
    "sccs_analyses", "evidence_synthesis_analyses", "heor_analyses", "heor_scenarios",
    "heor_cost_parameters", "heor_results", "heor_value_contracts", NULL};

/* ------------------------------------------------------------- helpers */

/* A database with the schema and the seed's users, and no design rows. */
static char *users_only_db(void)
{
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    assert_non_null(db);
    assert_int_equal(fkt_pg_exec(db, "TRUNCATE app.cohort_definitions, app.concept_sets, "
                                     "app.concept_set_items, app.characterizations, "
                                     "app.incidence_rate_analyses, app.pathway_analyses, "
                                     "app.estimation_analyses, app.prediction_analyses, "
                                     "app.sccs_analyses, app.evidence_synthesis_analyses, "
                                     "app.heor_analyses CASCADE"),
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

/* Installs capture mode, so that a hard delete (with the guard's override)
 * is recorded: an unrecorded one is a loss, and its file stays. */
static void install_capture(fk_ctx *ctx)
{
    fk_install_options o;
    fk_install_options_init(&o, FK_INSTALL_OPTIONS_VERSION);
    o.mode = FK_AUDIT_CAPTURE;
    if (fk_install(NULL, ctx, &o) != FK_OK)
        fail_msg("fk_install: %s", fk_errmsg(ctx));
}

#define RECORDED_DELETE(sql) "BEGIN; SELECT fortknox.allow('hard_delete'); " sql "; COMMIT"

/* Parthenon's fixtures hold one file (LEGACY) written before four columns
 * existed, and some tests write files by hand with only the keys they
 * need: their missing columns take their defaults, asked for explicitly
 * (a document lacking a column is refused otherwise; test_drift.c). */
static const char *const defaults_all[] = {"*"};
static const fk_key_map lenient = {FK_KEY_MAP_VERSION, NULL, 0, NULL, 0, defaults_all, 1};

static fk_import_options lenient_options(void)
{
    fk_import_options o;
    fk_import_options_init(&o, FK_IMPORT_OPTIONS_VERSION);
    o.key_map = &lenient;
    return o;
}

static fk_report *do_import(fk_ctx *ctx, const char *dir, unsigned flags)
{
    fk_import_options o = lenient_options();
    if (strcmp(dir, FIXTURES) != 0)
        o.key_map = NULL;
    o.flags = flags;
    fk_report *r = NULL;
    int rc = fk_import(&r, ctx, dir, &o);
    if (rc != FK_OK)
        fail_msg("fk_import: %s", fk_errmsg(ctx));
    return r;
}

static fk_report *do_export(fk_ctx *ctx, const char *dir, unsigned flags)
{
    fk_export_options o;
    fk_export_options_init(&o, FK_EXPORT_OPTIONS_VERSION);
    o.flags = flags;
    fk_report *r = NULL;
    int rc = fk_export(&r, ctx, dir, &o);
    if (rc != FK_OK)
        fail_msg("fk_export: %s", fk_errmsg(ctx));
    return r;
}

/* Everything in the design tables, row by row, in one string. */
static char *db_checksum(const char *db)
{
    char sql[4096] = "SELECT md5(string_agg(h, ',' ORDER BY n)) FROM (";
    for (int i = 0; design_tables[i]; i++) {
        char part[256];
        snprintf(part, sizeof part,
                 "%sSELECT %d AS n, coalesce(md5(string_agg(t::text, '|' ORDER BY t.id)), '-') "
                 "AS h FROM app.%s t",
                 i ? " UNION ALL " : "", i, design_tables[i]);
        strcat(sql, part);
    }
    strcat(sql, ") s");
    char *sum = fkt_pg_query1(db, sql);
    assert_non_null(sum);
    return sum;
}

/* Copies every design table aside, to compare a restore with column by
 * column later. */
static void snapshot(const char *db)
{
    assert_int_equal(fkt_pg_exec(db, "DROP SCHEMA IF EXISTS snap CASCADE; CREATE SCHEMA snap"), 0);
    for (int i = 0; design_tables[i]; i++) {
        char sql[256];
        snprintf(sql, sizeof sql, "CREATE TABLE snap.%s AS SELECT * FROM app.%s",
                 design_tables[i], design_tables[i]);
        assert_int_equal(fkt_pg_exec(db, sql), 0);
    }
}

/* Rows that differ from the snapshot, as "table id" lines ("" = none).
 * jsonb equality compares numbers by value, and the secret column is left
 * out: a re-created row never gets its token back, by design. */
static char *diff_from_snapshot(const char *db)
{
    char sql[8192] = "SELECT coalesce(string_agg(d, ' '), '') FROM (";
    for (int i = 0; design_tables[i]; i++) {
        char part[512];
        snprintf(part, sizeof part,
                 "%sSELECT '%s:' || coalesce(a.id, b.id) AS d FROM snap.%s a FULL JOIN app.%s b "
                 "ON a.id = b.id WHERE (to_jsonb(a) - 'share_token') IS DISTINCT FROM "
                 "(to_jsonb(b) - 'share_token')",
                 i ? " UNION ALL " : "", design_tables[i], design_tables[i], design_tables[i]);
        strcat(sql, part);
    }
    strcat(sql, ") s");
    char *d = fkt_pg_query1(db, sql);
    assert_non_null(d);
    return d;
}

static int file_exists(const char *dir, const char *rel)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    struct stat st;
    return lstat(p, &st) == 0;
}

static char *read_rel(const char *dir, const char *rel)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    return fkt_slurp(p, NULL);
}

static void write_rel(const char *dir, const char *rel, const char *text)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int count_files(const char *dir)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "find '%s' -type f -name '*.json' ! -name fortknox-manifest.json | wc -l", dir);
    FILE *p = popen(cmd, "r");
    int n = -1;
    if (fscanf(p, "%d", &n) != 1)
        n = -1;
    pclose(p);
    return n;
}

static int tmp_files(const char *dir)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "find '%s' -name '*.fk-tmp' | wc -l", dir);
    FILE *p = popen(cmd, "r");
    int n = -1;
    if (fscanf(p, "%d", &n) != 1)
        n = -1;
    pclose(p);
    return n;
}

/* ------------------------------------------------------------- tests */

static void real_fixtures_import_and_export_byte_identical(void **state)
{
    (void)state;
    char *db = users_only_db();
    fk_ctx *ctx = open_ctx(db);
    fk_report *r = do_import(ctx, FIXTURES, 0);
    assert_int_equal(fk_report_counter(r, "files"), 31);
    assert_int_equal(fk_report_counter(r, "created"), 31);
    assert_int_equal(fk_report_counter(r, "concept_set.created"), 9);
    assert_int_equal(fk_report_error_count(r), 0);
    fk_report_free(r);

    /* the legacy file got the defaults of the columns it lacks */
    char *st = fkt_pg_query1(db, "SELECT status || '/' || coalesce(archived_at::text, 'null') "
                                 "FROM app.evidence_synthesis_analyses WHERE id = 2");
    assert_string_equal(st, "active/null");
    free(st);

    char *out = fkt_tempdir_or_fail("fk-fixtures");
    r = do_export(ctx, out, FK_EXPORT_REPORT_FILES);
    assert_int_equal(fk_report_counter(r, "entities"), 31);
    assert_int_equal(fk_report_counter(r, "written"), 31);
    fk_report_free(r);
    /* same names, same bytes, except the one file with an older column set */
    assert_int_equal(fkt_sh("diff -r -q -x fortknox-manifest.json -x SOURCE.txt -x "
                        "'meta-analysis-statin-cardioprotection.json' '%s' '%s'", FIXTURES, out),
                     0);
    assert_int_equal(count_files(out), 31);
    assert_true(file_exists(out, "fortknox-manifest.json"));
    assert_true(file_exists(out, LEGACY));

    /* second export: nothing to write */
    r = do_export(ctx, out, 0);
    assert_int_equal(fk_report_counter(r, "written"), 0);
    assert_int_equal(fk_report_counter(r, "unchanged"), 31);
    assert_int_equal(fk_report_counter(r, "removed"), 0);
    fk_report_free(r);
    fk_close(ctx);
    fkt_rm_tree(out);
    free(db);
}

static void switching_exporters_makes_no_diff(void **state)
{
    (void)state;
    char *db = users_only_db();
    fk_ctx *ctx = open_ctx(db);
    fk_report_free(do_import(ctx, FIXTURES, 0));
    /* export over a copy of Parthenon's own directory: files keep their names */
    char *dir = fkt_tempdir_or_fail("fk-fixtures");
    assert_int_equal(fkt_sh("cp -a '%s/.' '%s/' && chmod -R u+w '%s'", FIXTURES, dir, dir), 0);
    fk_report *r = do_export(ctx, dir, 0);
    assert_int_equal(fk_report_counter(r, "written"), 1); /* only the legacy layout changes */
    assert_int_equal(fk_report_counter(r, "unchanged"), 30);
    fk_report_free(r);
    assert_int_equal(fkt_sh("diff -r -q -x fortknox-manifest.json -x '%s' '%s' '%s'",
                        "meta-analysis-statin-cardioprotection.json", FIXTURES, dir),
                     0);
    assert_true(file_exists(dir, "SOURCE.txt")); /* not ours: left alone */
    fk_close(ctx);
    fkt_rm_tree(dir);
    free(db);
}

static void hard_delete_then_import_restores_exactly(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    fk_ctx *ctx = open_ctx(db);
    fk_report_free(do_import(ctx, FIXTURES, 0));
    snapshot(db);
    char *dir = fkt_tempdir_or_fail("fk-fixtures");
    fk_report_free(do_export(ctx, dir, 0));

    /* the wipe, with raw SQL: rows, items, HEOR children */
    assert_int_equal(fkt_pg_exec(db, "DELETE FROM app.concept_set_items; "
                                     "DELETE FROM app.heor_results; DELETE FROM app.heor_scenarios; "
                                     "UPDATE app.cohort_definitions SET superseded_by = NULL; "
                                     "DELETE FROM app.cohort_definitions; DELETE FROM app.concept_sets; "
                                     "DELETE FROM app.pathway_analyses WHERE id > 1000"),
                     0);
    fk_report *r = do_import(ctx, dir, 0);
    assert_true(fk_report_counter(r, "created") > 10);
    assert_true(fk_report_counter(r, "updated") >= 1); /* HEOR 1001 lost children */
    fk_report_free(r);
    char *diff = diff_from_snapshot(db);
    assert_string_equal(diff, ""); /* ids, deleted_at, item flags: all of it */
    free(diff);

    char *dir2 = fkt_tempdir_or_fail("fk-fixtures");
    fk_report_free(do_export(ctx, dir2, 0));
    assert_int_equal(fkt_sh("diff -r -q -x fortknox-manifest.json '%s' '%s' >/dev/null", dir, dir2),
                     0);

    /* a second import changes nothing */
    char *sum = db_checksum(db);
    r = do_import(ctx, dir, 0);
    assert_int_equal(fk_report_counter(r, "created"), 0);
    assert_int_equal(fk_report_counter(r, "updated"), 0);
    assert_true(fk_report_counter(r, "unchanged") > 40);
    fk_report_free(r);
    char *sum2 = db_checksum(db);
    assert_string_equal(sum, sum2);

    /* sequences moved past the restored ids */
    char *id = fkt_pg_query1(db, "INSERT INTO app.cohort_definitions (name, author_id) "
                                 "VALUES ('new', 1) RETURNING id");
    char *max = fkt_pg_query1(db, "SELECT max(id) FROM app.cohort_definitions WHERE name <> 'new'");
    assert_true(atoll(id) > atoll(max));
    char *item = fkt_pg_query1(db, "INSERT INTO app.concept_set_items (concept_set_id, concept_id)"
                                   " VALUES (163, 1) RETURNING include_descendants");
    assert_string_equal(item, "t");
    free(id);
    free(max);
    free(item);
    free(sum);
    free(sum2);
    fk_close(ctx);
    fkt_rm_tree(dir);
    fkt_rm_tree(dir2);
    free(db);
}

static void soft_deleted_stays_soft_deleted_and_secrets_stay_home(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    fk_ctx *ctx = open_ctx(db);
    char *dir = fkt_tempdir_or_fail("fk-fixtures");
    fk_report_free(do_export(ctx, dir, 0));
    char *tok = fkt_pg_query1(db, "SELECT id || ':' || share_token FROM app.cohort_definitions "
                                  "WHERE share_token IS NOT NULL");
    assert_true(strlen(tok) > 5);
    assert_int_equal(fkt_sh("grep -rqF '%s' '%s'", strchr(tok, ':') + 1, dir), 256); /* not found */
    /* a restore leaves an existing token alone ... */
    fk_report_free(do_import(ctx, dir, 0));
    char *tok2 = fkt_pg_query1(db, "SELECT id || ':' || share_token FROM app.cohort_definitions "
                                   "WHERE share_token IS NOT NULL");
    assert_string_equal(tok, tok2);
    /* ... and a re-created row gets none */
    char del[128];
    snprintf(del, sizeof del, "DELETE FROM app.cohort_definitions WHERE id = %lld",
             atoll(tok));
    assert_int_equal(fkt_pg_exec(db, del), 0);
    fk_report_free(do_import(ctx, dir, 0));
    char *n = fkt_pg_query1(db, "SELECT count(share_token) FROM app.cohort_definitions");
    assert_string_equal(n, "0");
    char *sd = fkt_pg_query1(db, "SELECT count(*) FROM app.cohort_definitions WHERE deleted_at "
                                 "IS NOT NULL");
    assert_true(atoi(sd) >= 1);
    free(n);
    free(sd);
    free(tok);
    free(tok2);
    fk_close(ctx);
    fkt_rm_tree(dir);
    free(db);
}

static char *export_one_cohort(const char *db, fk_ctx *ctx, const char *dir)
{
    (void)db;
    fk_report_free(do_export(ctx, dir, 0));
    return NULL;
}

static void names_are_stable_renames_move_and_strangers_stay(void **state)
{
    (void)state;
    char *db = users_only_db();
    fk_ctx *ctx = open_ctx(db);
    char *dir = fkt_tempdir_or_fail("fk-fixtures");
    assert_int_equal(fkt_pg_exec(db,
        "INSERT INTO app.cohort_definitions (id, name, author_id) VALUES "
        "(10, 'Same Name', 1), (20, 'Same Name', 1), (30, '', 1), (40, '日本語', 1), "
        "(50, 'Café naïve', 1), (60, '../../../etc/passwd', 1), (70, '😀 Smile', 1)"),
                     0);
    export_one_cohort(db, ctx, dir);
    assert_true(file_exists(dir, "cohort_definitions/same-name.json"));
    assert_true(file_exists(dir, "cohort_definitions/same-name-20.json"));
    assert_true(file_exists(dir, "cohort_definitions/cohort_definition-30.json"));
    assert_true(file_exists(dir, "cohort_definitions/cohort_definition-40.json"));
    assert_true(file_exists(dir, "cohort_definitions/caf-nave.json"));
    assert_true(file_exists(dir, "cohort_definitions/etcpasswd.json"));
    assert_true(file_exists(dir, "cohort_definitions/smile.json"));
    assert_int_equal(count_files(dir), 7);
    write_rel(dir, "cohort_definitions/notes-by-hand.json", "{\"mine\": true}");
    write_rel(dir, "README.md", "hello");

    /* id 10 renamed: its file moves, id 20 keeps its collision name (stable) */
    assert_int_equal(fkt_pg_exec(db, "UPDATE app.cohort_definitions SET name = 'Other' WHERE id = 10"), 0);
    fk_report *r = do_export(ctx, dir, FK_EXPORT_REPORT_FILES);
    assert_int_equal(fk_report_counter(r, "written"), 1);
    assert_int_equal(fk_report_counter(r, "removed"), 1);
    fk_report_free(r);
    assert_false(file_exists(dir, "cohort_definitions/same-name.json"));
    assert_true(file_exists(dir, "cohort_definitions/other.json"));
    assert_true(file_exists(dir, "cohort_definitions/same-name-20.json"));

    /* rename back: the file comes back to its name (now free) */
    assert_int_equal(fkt_pg_exec(db, "UPDATE app.cohort_definitions SET name = 'Same Name' WHERE id = 10"), 0);
    fk_report_free(do_export(ctx, dir, 0));
    assert_true(file_exists(dir, "cohort_definitions/same-name.json"));
    assert_false(file_exists(dir, "cohort_definitions/other.json"));
    char *doc = read_rel(dir, "cohort_definitions/same-name.json");
    assert_non_null(strstr(doc, "\"id\": 10,"));
    free(doc);

    /* a deleted entity loses its file; strangers stay */
    install_capture(ctx);
    assert_int_equal(fkt_pg_exec(db, RECORDED_DELETE("DELETE FROM app.cohort_definitions WHERE "
                                                     "id = 70")),
                     0);
    r = do_export(ctx, dir, 0);
    assert_int_equal(fk_report_counter(r, "removed"), 1);
    fk_report_free(r);
    assert_false(file_exists(dir, "cohort_definitions/smile.json"));
    assert_true(file_exists(dir, "cohort_definitions/notes-by-hand.json"));
    assert_true(file_exists(dir, "README.md"));
    assert_int_equal(tmp_files(dir), 0);
    /* nothing ever written outside the root */
    assert_int_equal(fkt_sh("test ! -e '%s/../etcpasswd.json'", dir), 0);
    fk_close(ctx);
    fkt_rm_tree(dir);
    free(db);
}

static void malformed_files_are_refused_with_position(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    fk_ctx *ctx = open_ctx(db);
    char *good = fkt_tempdir_or_fail("fk-fixtures");
    fk_report_free(do_export(ctx, good, 0));
    char *sum = db_checksum(db);
    static const struct {
        const char *name, *text, *expect;
        int rc;
    } cases[] = {
        {"cohort_definitions/zz-bad-json.json", "{\n    \"id\": 5,\n    \"name\": \"x\",\n}",
         "cohort_definitions/zz-bad-json.json:3:16:", FK_EPARSE},
        {"cohort_definitions/zz-array.json", "[1, 2]", "zz-array.json:1:1:", FK_EPARSE},
        {"cohort_definitions/zz-noid.json", "{\"name\": \"no id\"}", "has no \"id\"", FK_EPARSE},
        {"cohort_definitions/zz-strid.json", "{\n  \"id\": \"7\"}", "zz-strid.json:2:9:",
         FK_EPARSE},
        {"cohort_definitions/zz-type.json", "{\"id\": 7, \"author_id\": \"x\", \"name\": [1]}",
         "\"name\" must be a string", FK_EPARSE},
        {"cohort_definitions/zz-dup.json", "{\"id\": 1001, \"name\": \"dup\", \"author_id\": 1}",
         "id 1001 is also used by", FK_EPARSE},
        {"cohort_definitions/zz-dupkey.json", "{\"id\": 9, \"id\": 10}", "duplicate", FK_EPARSE},
        {"cohort_definitions/zz-empty.json", "", "zz-empty.json:1:1:", FK_EPARSE},
        {"cohort_definitions/zz-utf8.json", "{\"id\": 9, \"name\": \"\xff\"}", "UTF-8", FK_EPARSE},
        {"cohort_definitions/zz-server.json",
         "{\"id\": 9, \"name\": \"ts\", \"author_id\": 1, \"created_at\": \"not a date\"}",
         "zz-server.json", FK_EDB},
        {"concept_sets/zz-items.json", "{\"id\": 9, \"name\": \"i\", \"author_id\": 1, \"items\": 5}",
         "\"items\" must be an array", FK_EPARSE},
        /* one integer reader: a fraction is no integer, and any integer too
         * large for int64 is out of range, however many digits it has */
        {"cohort_definitions/zz-fracid.json", "{\"id\": 1.5}", "(the primary key) must be an integer",
         FK_EPARSE},
        {"cohort_definitions/zz-bigid.json", "{\"id\": 9223372036854775808}",
         "(the primary key) is out of range", FK_EPARSE},
        {"cohort_definitions/zz-hugeid.json", "{\"id\": 123456789012345678901234567890123456}",
         "(the primary key) is out of range", FK_EPARSE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *dir = fkt_tempdir_or_fail("fk-fixtures");
        assert_int_equal(fkt_sh("cp -a '%s/.' '%s/'", good, dir), 0);
        write_rel(dir, cases[i].name, cases[i].text);
        fk_report *r = (fk_report *)1;
        fk_import_options o = lenient_options();
        int rc = fk_import(&r, ctx, dir, &o);
        if (rc != cases[i].rc || !strstr(fk_errmsg(ctx), cases[i].expect))
            fail_msg("case %s: rc %d: %s", cases[i].name, rc, fk_errmsg(ctx));
        assert_null(r);
        char *now = db_checksum(db);
        assert_string_equal(sum, now);
        free(now);
        fkt_rm_tree(dir);
    }
    /* a symlinked fixture is refused, not followed */
    char *dir = fkt_tempdir_or_fail("fk-fixtures");
    assert_int_equal(fkt_sh("cp -a '%s/.' '%s/' && ln -s /etc/passwd '%s/cohort_definitions/zz-link.json'",
                        good, dir, dir), 0);
    fk_report *r = NULL;
    assert_int_not_equal(fk_import(&r, ctx, dir, NULL), FK_OK);
    assert_non_null(strstr(fk_errmsg(ctx), "zz-link.json"));
    fkt_rm_tree(dir);
    /* a directory that does not exist */
    assert_int_equal(fk_import(&r, ctx, "/nonexistent/fixtures", NULL), FK_ENOTFOUND);
    char *now = db_checksum(db);
    assert_string_equal(sum, now);
    free(now);
    free(sum);
    fk_close(ctx);
    fkt_rm_tree(good);
    free(db);
}

static void dry_run_reports_and_changes_nothing(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    fk_ctx *ctx = open_ctx(db);
    char *dir = fkt_tempdir_or_fail("fk-fixtures");
    fk_report_free(do_export(ctx, dir, 0));
    assert_int_equal(fkt_pg_exec(db, "UPDATE app.cohort_definitions SET name = 'Renamed', "
                                     "description = 'changed' WHERE id = 1001; "
                                     "DELETE FROM app.concept_set_items WHERE concept_set_id = 1001; "
                                     "DELETE FROM app.characterizations WHERE id = 1001; "
                                     "INSERT INTO app.sccs_analyses (id, name, author_id) VALUES "
                                     "(7777, 'only in db', 1)"),
                     0);
    char *sum = db_checksum(db);
    fk_report *r = do_import(ctx, dir, FK_IMPORT_DRY_RUN);
    char *after = db_checksum(db);
    assert_string_equal(sum, after);
    assert_int_equal(fk_report_counter(r, "created"), 1);
    assert_int_equal(fk_report_counter(r, "updated"), 2);
    assert_int_equal(fk_report_counter(r, "db_only"), 1);
    int saw_update = 0, saw_dbonly = 0, saw_unchanged = 0;
    for (size_t i = 0; i < fk_report_item_count(r); i++) {
        const fk_report_item *it = fk_report_item_at(r, i);
        if (strcmp(it->code, "updated") == 0 && it->entity_id == 1001 &&
            strcmp(it->entity_type, "cohort_definition") == 0) {
            assert_string_equal(it->fields, "[\"description\",\"name\"]");
            saw_update = 1;
        }
        if (strcmp(it->code, "updated") == 0 && strcmp(it->entity_type, "concept_set") == 0)
            assert_string_equal(it->fields, "[\"items\"]");
        if (strcmp(it->code, "db_only") == 0 && it->entity_id == 7777)
            saw_dbonly = 1;
        if (strcmp(it->code, "unchanged") == 0)
            saw_unchanged = 1;
    }
    assert_true(saw_update && saw_dbonly && saw_unchanged);
    char *json = NULL;
    assert_int_equal(fk_report_json(&json, r), FK_OK);
    assert_non_null(strstr(json, "\"operation\":\"import (dry run)\""));
    fk_free(json);
    fk_report_free(r);

    /* the real run, then db-only rows are kept (or soft-deleted on request) */
    r = do_import(ctx, dir, 0);
    fk_report_free(r);
    char *n = fkt_pg_query1(db, "SELECT count(*) FROM app.sccs_analyses WHERE id = 7777 AND "
                                "deleted_at IS NULL");
    assert_string_equal(n, "1");
    free(n);
    r = do_import(ctx, dir, FK_IMPORT_SOFT_DELETE_MISSING);
    assert_int_equal(fk_report_counter(r, "soft_deleted"), 1);
    fk_report_free(r);
    n = fkt_pg_query1(db, "SELECT count(*) FROM app.sccs_analyses WHERE id = 7777 AND "
                          "deleted_at IS NOT NULL");
    assert_string_equal(n, "1");
    free(n);
    free(sum);
    free(after);
    fk_close(ctx);
    fkt_rm_tree(dir);
    free(db);
}

static void missing_authors_fall_back_to_admin_or_refuse(void **state)
{
    (void)state;
    char *db = users_only_db();
    fk_ctx *ctx = open_ctx(db);
    char *dir = fkt_tempdir_or_fail("fk-fixtures");
    assert_int_equal(fkt_sh("mkdir -p '%s/cohort_definitions'", dir), 0);
    write_rel(dir, "cohort_definitions/orphan.json",
              "{\"id\": 77, \"name\": \"Orphan\", \"author_id\": 999999, \"archived_by\": 888888}");
    fk_import_options o = lenient_options();
    fk_report *r = NULL;
    if (fk_import(&r, ctx, dir, &o) != FK_OK)
        fail_msg("import: %s", fk_errmsg(ctx));
    int warned = 0;
    for (size_t i = 0; i < fk_report_item_count(r); i++)
        warned |= strcmp(fk_report_item_at(r, i)->code, "dangling_reference") == 0;
    assert_true(warned);
    fk_report_free(r);
    char *a = fkt_pg_query1(db, "SELECT u.email || ':' || coalesce(c.archived_by::text, 'null') "
                                "FROM app.cohort_definitions c JOIN app.users u ON u.id = "
                                "c.author_id WHERE c.id = 77");
    assert_string_equal(a, "admin@acumenus.net:null");
    free(a);

    /* no admin: refused before anything is written, saying how to fix it */
    assert_int_equal(fkt_pg_exec(db, "DELETE FROM app.cohort_definitions; "
                                     "UPDATE app.users SET email = 'someone@else' WHERE email = "
                                     "'admin@acumenus.net'"),
                     0);
    char *sum = db_checksum(db);
    assert_int_equal(fk_import(&r, ctx, dir, &o), FK_ENOTFOUND);
    assert_non_null(strstr(fk_errmsg(ctx), "admin@acumenus.net"));
    assert_non_null(strstr(fk_errmsg(ctx), "cohort_definitions/orphan.json"));
    assert_non_null(strstr(fk_errmsg(ctx), "INSERT INTO"));
    char *now = db_checksum(db);
    assert_string_equal(sum, now);
    free(sum);
    free(now);
    /* another admin email can be named */
    o.admin_email = "someone@else";
    assert_int_equal(fk_import(&r, ctx, dir, &o), FK_OK);
    fk_report_free(r);
    fk_close(ctx);
    fkt_rm_tree(dir);
    free(db);
}

static void unknown_directories_warn_or_refuse(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    fk_ctx *ctx = open_ctx(db);
    char *dir = fkt_tempdir_or_fail("fk-fixtures");
    fk_report_free(do_export(ctx, dir, 0));
    assert_int_equal(fkt_sh("mkdir '%s/cohort_defintions'", dir), 0);
    fk_report *r = do_import(ctx, dir, 0);
    int warned = 0;
    for (size_t i = 0; i < fk_report_item_count(r); i++)
        warned |= strcmp(fk_report_item_at(r, i)->code, "unknown_directory") == 0;
    assert_true(warned);
    fk_report_free(r);
    fk_import_options o;
    fk_import_options_init(&o, FK_IMPORT_OPTIONS_VERSION);
    o.flags = FK_IMPORT_STRICT;
    assert_int_equal(fk_import(&r, ctx, dir, &o), FK_EPARSE);
    assert_non_null(strstr(fk_errmsg(ctx), "cohort_defintions"));
    fk_close(ctx);
    fkt_rm_tree(dir);
    free(db);
}

static void export_entity_refreshes_one_file(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    fk_ctx *ctx = open_ctx(db);
    char *dir = fkt_tempdir_or_fail("fk-fixtures");
    fk_report_free(do_export(ctx, dir, 0));
    char *m1 = read_rel(dir, "fortknox-manifest.json");
    assert_int_equal(fkt_pg_exec(db, "UPDATE app.pathway_analyses SET name = 'Pathway Renamed' "
                                     "WHERE id = 1001"),
                     0);
    assert_int_equal(fk_export_entity(ctx, dir, "pathway_analysis", 1001, NULL,
                                      FK_FORMAT_PARTHENON),
                     FK_OK);
    assert_true(file_exists(dir, "pathway_analyses/pathway-renamed.json"));
    assert_int_equal(count_files(dir), fkt_sh("true") == 0 ? count_files(dir) : -1);
    char *m2 = read_rel(dir, "fortknox-manifest.json");
    assert_non_null(strstr(m2, "pathway_analyses/pathway-renamed.json"));
    assert_string_not_equal(m1, m2);
    /* a full export now finds nothing to do */
    fk_report *r = do_export(ctx, dir, 0);
    assert_int_equal(fk_report_counter(r, "written"), 0);
    assert_int_equal(fk_report_counter(r, "removed"), 0);
    fk_report_free(r);
    /* a recorded force delete: the file and its manifest entry go */
    install_capture(ctx);
    assert_int_equal(fkt_pg_exec(db, RECORDED_DELETE("DELETE FROM app.pathway_analyses WHERE "
                                                     "id = 1001")),
                     0);
    assert_int_equal(fk_export_entity(ctx, dir, "pathway_analysis", 1001, NULL,
                                      FK_FORMAT_PARTHENON),
                     FK_OK);
    assert_false(file_exists(dir, "pathway_analyses/pathway-renamed.json"));
    char *m3 = read_rel(dir, "fortknox-manifest.json");
    assert_null(strstr(m3, "pathway-renamed"));
    /* the caller's own JSON */
    assert_int_equal(fk_export_entity(ctx, dir, "pathway_analysis", 5, "{\"id\": 5, \"name\": "
                                      "\"From PHP\", \"design_json\": {\"a\": [1, 2]}}",
                                      FK_FORMAT_PARTHENON),
                     FK_OK);
    char *doc = read_rel(dir, "pathway_analyses/from-php.json");
    assert_string_equal(doc, "{\n    \"id\": 5,\n    \"name\": \"From PHP\",\n    \"design_json\": "
                             "{\n        \"a\": [\n            1,\n            2\n        ]\n    }\n}");
    free(doc);
    assert_int_equal(fk_export_entity(ctx, dir, "pathway_analysis", 6, "{\"id\": 5}",
                                      FK_FORMAT_PARTHENON),
                     FK_EPARSE);
    /* a name key written with escapes still names the file */
    assert_int_equal(fk_export_entity(ctx, dir, "pathway_analysis", 7,
                                      "{\"id\": 7, \"\\u006eame\": \"Escaped\"}",
                                      FK_FORMAT_PARTHENON),
                     FK_OK);
    assert_true(file_exists(dir, "pathway_analyses/escaped.json"));
    assert_int_equal(fk_export_entity(ctx, dir, "pathway_analysis", 6, "{\"id\": ",
                                      FK_FORMAT_PARTHENON),
                     FK_EPARSE);
    assert_int_equal(fk_export_entity(ctx, dir, "nope", 6, NULL, FK_FORMAT_PARTHENON),
                     FK_ENOTFOUND);
    free(m1);
    free(m2);
    free(m3);
    fk_close(ctx);
    fkt_rm_tree(dir);
    free(db);
}

static void export_entities_refreshes_a_batch(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    fk_ctx *ctx = open_ctx(db);
    char *dir = fkt_tempdir_or_fail("fk-fixtures");
    fk_report_free(do_export(ctx, dir, 0));
    install_capture(ctx);
    assert_int_equal(fkt_pg_exec(db, RECORDED_DELETE("UPDATE app.cohort_definitions SET name = "
                                                     "'Batch Renamed' WHERE id = 1001; UPDATE "
                                                     "app.concept_sets SET description = 'batch' "
                                                     "WHERE id = 1002; DELETE FROM "
                                                     "app.sccs_analyses WHERE id = 1001")),
                     0);
    const char *types[] = {"sccs_analysis", "cohort_definition", "concept_set",
                           "cohort_definition"};
    const int64_t ids[] = {1001, 1001, 1002, 1001};
    fk_report *r = NULL;
    assert_int_equal(fk_export_entities(&r, ctx, dir, types, ids, 4, FK_FORMAT_PARTHENON), FK_OK);
    assert_int_equal(fk_report_counter(r, "written"), 2);
    assert_int_equal(fk_report_counter(r, "removed"), 2); /* the renamed and the deleted */
    fk_report_free(r);
    assert_true(file_exists(dir, "cohort_definitions/batch-renamed.json"));
    assert_int_equal(tmp_files(dir), 0);
    /* the manifest agrees: a full export finds nothing to do, verify passes */
    r = do_export(ctx, dir, 0);
    assert_int_equal(fk_report_counter(r, "written"), 0);
    assert_int_equal(fk_report_counter(r, "removed"), 0);
    fk_report_free(r);
    assert_int_equal(fk_verify(NULL, ctx, dir, NULL), FK_OK);
    /* a refresh that changes no file (a spoofed notification to watch) keeps
     * the manifest byte-identical: its export time too, so git sees nothing */
    char mpath[600];
    snprintf(mpath, sizeof mpath, "%s/fortknox-manifest.json", dir);
    size_t mlen = 0;
    char *before = fkt_slurp(mpath, &mlen);
    char *at = strstr(before, "\"exported_at\": \"");
    assert_non_null(at);
    memcpy(at + strlen("\"exported_at\": \""), "2001-01-01T00:00:00Z", 20);
    FILE *f = fopen(mpath, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(before, 1, mlen, f), mlen);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(fk_export_entities(&r, ctx, dir, types + 1, ids + 1, 1,
                                        FK_FORMAT_PARTHENON), FK_OK);
    assert_int_equal(fk_report_counter(r, "written"), 0);
    fk_report_free(r);
    size_t alen = 0;
    char *after = fkt_slurp(mpath, &alen);
    if (alen != mlen || memcmp(before, after, mlen) != 0)
        fail_msg("the manifest changed:\n%s", after);
    free(before);
    free(after);
    const char *bad[] = {"nope"};
    assert_int_equal(fk_export_entities(NULL, ctx, dir, bad, ids, 1, FK_FORMAT_PARTHENON),
                     FK_ENOTFOUND);
    assert_int_equal(fk_export_entities(NULL, ctx, dir, NULL, ids, 1, FK_FORMAT_PARTHENON),
                     FK_EINVAL);
    fk_close(ctx);
    fkt_rm_tree(dir);
    free(db);
}

static int cancel_at_first(const fk_progress *p, void *ud)
{
    (void)p;
    return ++*(int *)ud >= 2;
}

static void failed_export_leaves_old_files(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    fk_ctx *ctx = open_ctx(db);
    char *dir = fkt_tempdir_or_fail("fk-fixtures");
    fk_report_free(do_export(ctx, dir, 0));
    assert_int_equal(fkt_sh("cp -a '%s' '%s.orig'", dir, dir), 0);
    assert_int_equal(fkt_pg_exec(db, "UPDATE app.cohort_definitions SET description = 'new'"), 0);
    fk_export_options o;
    fk_export_options_init(&o, FK_EXPORT_OPTIONS_VERSION);
    int calls = 0;
    o.progress = cancel_at_first;
    o.progress_data = &calls;
    fk_report *r = NULL;
    assert_int_equal(fk_export(&r, ctx, dir, &o), FK_ECANCELLED);
    assert_null(r);
    assert_int_equal(fkt_sh("diff -r '%s' '%s.orig'", dir, dir), 0);
    assert_int_equal(tmp_files(dir), 0);
    /* an unwritable root is a clear error */
    assert_int_equal(fk_export(&r, ctx, "/proc/version/x", NULL), FK_EIO);
    assert_true(strlen(fk_errmsg(ctx)) > 0);
    fkt_sh("rm -rf '%s.orig'", dir);
    fk_close(ctx);
    fkt_rm_tree(dir);
    free(db);
}

/* ------------------------------------------- the writer thread, verify's reads */

/* A /proc/self file's counter "key" (a line "key<sep> value"). */
static long proc_self(const char *file, const char *key)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/self/%s", file);
    FILE *f = fopen(path, "r");
    long v = -1;
    size_t kl = strlen(key);
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, key, kl) == 0)
            v = atol(line + kl + 1);
    if (f)
        fclose(f);
    return v;
}

typedef struct watch {
    long threads;  /* the most this process had in a progress call mid-type */
    int unmasked;  /* threads seen then, other than the caller's, taking SIGINT */
    int cancel_at; /* cancel at the call where done reaches this; 0: never */
} watch;

/* The other threads of this process that do not block SIGINT (a signal
 * meant for the caller that one of them could take instead). */
static int others_taking_sigint(void)
{
    DIR *d = opendir("/proc/self/task");
    struct dirent *de;
    int n = 0;
    long self = (long)syscall(SYS_gettid);
    while (d && (de = readdir(d))) {
        if (de->d_name[0] == '.' || atol(de->d_name) == self)
            continue;
        char path[300], line[256];
        snprintf(path, sizeof path, "/proc/self/task/%s/status", de->d_name);
        FILE *f = fopen(path, "r");
        while (f && fgets(line, sizeof line, f))
            if (strncmp(line, "SigBlk:", 7) == 0 &&
                !(strtoull(line + 7, NULL, 16) & (1ull << (SIGINT - 1))))
                n++;
        if (f)
            fclose(f);
    }
    if (d)
        closedir(d);
    return n;
}

static int watch_threads(const fk_progress *p, void *ud)
{
    watch *w = ud;
    long t = proc_self("status", "Threads:");
    if (p->done % 500 == 0 && p->done && t > w->threads) {
        w->threads = t;
        w->unmasked = others_taking_sigint();
    }
    return w->cancel_at && p->done >= (uint64_t)w->cancel_at;
}

/* Fixture files are written on a second thread while the next entities are
 * serialized (its results come back before the export goes on), which
 * takes no signal meant for the caller; a cancelled export with writes
 * still queued leaves nothing behind. */
static void export_writes_on_a_second_thread(void **state)
{
    (void)state;
    char *db = users_only_db();
    fk_ctx *ctx = open_ctx(db);
    char *dir = fkt_tempdir_or_fail("fk-fixtures");
    assert_int_equal(fkt_pg_exec(db, "INSERT INTO app.cohort_definitions (id, name, author_id) "
                                     "SELECT g, 'Same ' || (g % 7), 1 FROM generate_series(1, "
                                     "1200) g"),
                     0);
    long before = proc_self("status", "Threads:");
    const struct {
        int cancel_at, want_rc;
    } cases[] = {{1000, FK_ECANCELLED}, {0, FK_OK}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        watch w = {0, 0, cases[i].cancel_at};
        fk_export_options o;
        fk_export_options_init(&o, FK_EXPORT_OPTIONS_VERSION);
        o.progress = watch_threads;
        o.progress_data = &w;
        fk_report *r = NULL;
        assert_int_equal(fk_export(&r, ctx, dir, &o), cases[i].want_rc);
        assert_true(w.threads >= before + 1);
        assert_int_equal(w.unmasked, 0);
        assert_int_equal(proc_self("status", "Threads:"), before); /* joined */
        assert_int_equal(tmp_files(dir), 0);
        if (cases[i].want_rc == FK_OK) {
            assert_int_equal(fk_report_counter(r, "written"), 1200);
            /* names decided while files were still queued: the first of each
             * name takes it, the others the collision form */
            assert_true(file_exists(dir, "cohort_definitions/same-1.json"));
            assert_true(file_exists(dir, "cohort_definitions/same-1-8.json"));
            assert_false(file_exists(dir, "cohort_definitions/same-1-1.json"));
            assert_int_equal(count_files(dir), 1200);
        }
        fk_report_free(r);
    }
    fk_close(ctx);
    fkt_rm_tree(dir);
    free(db);
}

/* verify reads each fixture once for its id and digest and once more for
 * the manifest's hash; an identical entity is known by its digest (its file
 * is read again only when the digests differ). Counted with /proc/self/io:
 * every read() the process made (the server's answers come by recv()). */
static void verify_reads_each_file_twice(void **state)
{
    (void)state;
    char *db = users_only_db();
    fk_ctx *ctx = open_ctx(db);
    char *dir = fkt_tempdir_or_fail("fk-fixtures");
    const int n = 600;
    assert_int_equal(fkt_pg_exec(db, "INSERT INTO app.cohort_definitions (id, name, author_id) "
                                     "SELECT g, 'C' || g, 1 FROM generate_series(1, 600) g"),
                     0);
    fk_report_free(do_export(ctx, dir, 0));
    long r0 = proc_self("io", "syscr:");
    fk_report *r = NULL;
    assert_int_equal(fk_verify(&r, ctx, dir, NULL), FK_OK);
    long reads = proc_self("io", "syscr:") - r0;
    assert_int_equal(fk_report_counter(r, "identical"), n);
    fk_report_free(r);
    /* two files' worth (a read to the end is 2 calls each) and the
     * manifest; before: a third read of every file. Not under valgrind,
     * whose own reads (debug information, loaded as it goes) are the
     * process's too. */
    if (!getenv("FORTKNOX_UNDER_VALGRIND") && reads >= 5 * n)
        fail_msg("verify made %ld read() calls for %d fixtures", reads, n);
    /* a changed entity is still compared by value */
    assert_int_equal(fkt_pg_exec(db, "UPDATE app.cohort_definitions SET description = 'x' "
                                     "WHERE id = 7"),
                     0);
    assert_int_equal(fk_verify(&r, ctx, dir, NULL), FK_EVERIFY);
    assert_int_equal(fk_report_counter(r, "differs"), 1);
    assert_int_equal(fk_report_counter(r, "identical"), n - 1);
    fk_report_free(r);
    fk_close(ctx);
    fkt_rm_tree(dir);
    free(db);
}

/* ------------------------------------------- a lock that cannot be taken */

/* Interrupts `target` with SIGUSR1 whenever /proc/locks shows a process
 * waiting for a flock on inode `ino`: the one way a test can make flock()
 * fail on a local file system (on NFS without a lock daemon it fails with
 * ENOLCK). It acts on the observed wait, not on a delay. */
typedef struct interrupter {
    pthread_t target;
    unsigned long ino;
    volatile sig_atomic_t stop;
} interrupter;

static void on_usr1(int sig)
{
    (void)sig;
}

static int someone_waits_on(unsigned long ino)
{
    FILE *f = fopen("/proc/locks", "r");
    char line[256], want[32];
    int found = 0;
    snprintf(want, sizeof want, ":%lu ", ino);
    while (f && !found && fgets(line, sizeof line, f))
        found = strstr(line, "-> FLOCK") && strstr(line, want);
    if (f)
        fclose(f);
    return found;
}

static void *interrupt_waiters(void *arg)
{
    interrupter *in = arg;
    while (!in->stop) {
        if (someone_waits_on(in->ino))
            pthread_kill(in->target, SIGUSR1);
        sched_yield();
    }
    return NULL;
}

/* While an exporter holds the directory, import and verify wait for it;
 * when that wait fails (flock returns an error), they must not go on
 * reading files an exporter may be rewriting: a clear error, nothing
 * imported. */
/* With a context, the argument checks name the check that failed. */
static void bad_arguments_are_named(void **state)
{
    (void)state;
    char *db = users_only_db();
    fk_ctx *ctx = open_ctx(db);
    fk_report *r = NULL;
    assert_int_equal(fk_export(&r, ctx, "", NULL), FK_EINVAL);
    assert_string_equal(fk_errmsg(ctx), "fk_export: invalid argument: dir && *dir");
    fk_import_options io;
    assert_int_equal(fk_import_options_init(&io, FK_IMPORT_OPTIONS_VERSION), FK_OK);
    io.version = 99;
    assert_int_equal(fk_import(&r, ctx, "/nonexistent", &io), FK_EINVAL);
    assert_string_equal(fk_errmsg(ctx), "fk_import: unsupported options version 99");
    const char *types[] = {"cohort_definition"};
    assert_int_equal(fk_export_entities(&r, ctx, "/tmp", types, NULL, 1, FK_FORMAT_PARTHENON),
                     FK_EINVAL);
    assert_string_equal(fk_errmsg(ctx),
                        "fk_export_entities: invalid argument: !n || (entity_types && ids)");
    assert_null(r);
    fk_close(ctx);
    free(db);
}

static void an_unlockable_fixture_root_is_refused(void **state)
{
    (void)state;
    char *db = users_only_db();
    fk_ctx *ctx = open_ctx(db);
    char *dir = fkt_tempdir_or_fail("fk-fixtures");
    assert_int_equal(fkt_sh("cp -a '%s/.' '%s'", FIXTURES, dir), 0);
    int held = open(dir, O_RDONLY | O_DIRECTORY);
    assert_true(held >= 0);
    assert_int_equal(flock(held, LOCK_EX), 0); /* an export in progress */
    struct stat st;
    assert_int_equal(fstat(held, &st), 0);

    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1; /* no SA_RESTART: a waiting flock() fails with EINTR */
    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(SIGUSR1, &sa, &old), 0);
    interrupter in = {pthread_self(), (unsigned long)st.st_ino, 0};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, interrupt_waiters, &in), 0);

    fk_report *r = NULL;
    fk_import_options o = lenient_options();
    int irc = fk_import(&r, ctx, dir, &o);
    char imsg[512];
    snprintf(imsg, sizeof imsg, "%s", fk_errmsg(ctx));
    int vrc = fk_verify(NULL, ctx, dir, NULL);
    char vmsg[512];
    snprintf(vmsg, sizeof vmsg, "%s", fk_errmsg(ctx));
    in.stop = 1;
    pthread_join(th, NULL);
    sigaction(SIGUSR1, &old, NULL);

    assert_int_equal(irc, FK_EIO);
    assert_null(r);
    if (!strstr(imsg, "cannot lock fixture directory"))
        fail_msg("import: %s", imsg);
    char *n = fkt_pg_query1(db, "SELECT count(*) FROM app.cohort_definitions");
    assert_string_equal(n, "0");
    free(n);
    assert_int_equal(vrc, FK_EIO);
    if (!strstr(vmsg, "cannot lock fixture directory"))
        fail_msg("verify: %s", vmsg);

    /* the exporter is done: the same directory imports */
    close(held);
    assert_int_equal(fk_import(NULL, ctx, dir, &o), FK_OK);
    fk_close(ctx);
    fkt_rm_tree(dir);
    free(db);
}

int main(void)
{
    pg = fkt_pg_start_or_exit();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(real_fixtures_import_and_export_byte_identical),
        cmocka_unit_test(switching_exporters_makes_no_diff),
        cmocka_unit_test(hard_delete_then_import_restores_exactly),
        cmocka_unit_test(soft_deleted_stays_soft_deleted_and_secrets_stay_home),
        cmocka_unit_test(names_are_stable_renames_move_and_strangers_stay),
        cmocka_unit_test(malformed_files_are_refused_with_position),
        cmocka_unit_test(dry_run_reports_and_changes_nothing),
        cmocka_unit_test(missing_authors_fall_back_to_admin_or_refuse),
        cmocka_unit_test(unknown_directories_warn_or_refuse),
        cmocka_unit_test(export_entity_refreshes_one_file),
        cmocka_unit_test(export_entities_refreshes_a_batch),
        cmocka_unit_test(failed_export_leaves_old_files),
        cmocka_unit_test(an_unlockable_fixture_root_is_refused),
        cmocka_unit_test(export_writes_on_a_second_thread),
        cmocka_unit_test(verify_reads_each_file_twice),
        cmocka_unit_test(bad_arguments_are_named),
    };
    if (getenv("FKT_ONLY")) /* while iterating: one test, e.g. FKT_ONLY=export* */
        cmocka_set_test_filter(getenv("FKT_ONLY"));
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    fkt_pg_stop(pg);
    return rc;
}
