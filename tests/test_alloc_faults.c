/* Allocation failure at every point of an export, an import and a verify
 * (curl's torture idea): for each k, the k-th allocation fails; the call must
 * return FK_ENOMEM, crash nowhere, leak nothing (valgrind/ASan runs check
 * that), and leave files and database as they were. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <fortknox.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "fkt.h"

static fkt_pg *pg;
static char *db;
static fk_ctx *ctx;

/* Under valgrind every k costs a full run: sample instead of trying all. */
static long step(void) { return getenv("FORTKNOX_UNDER_VALGRIND") ? 13 : 1; }

static char *checksum(void)
{
    char *s = fkt_pg_query1(db, "SELECT md5(string_agg(x, ',')) FROM (SELECT "
                                "md5(coalesce(string_agg(t::text, '|' ORDER BY id), '')) x FROM "
                                "app.cohort_definitions t UNION ALL SELECT "
                                "md5(coalesce(string_agg(t::text, '|' ORDER BY id), '')) FROM "
                                "app.concept_set_items t) s");
    assert_non_null(s);
    return s;
}

static void export_fails_cleanly_at_every_allocation(void **state)
{
    (void)state;
    char dir[] = "/tmp/fk-alloc-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char out[64];
    snprintf(out, sizeof out, "%s/out", dir);
    fk__alloc_fail_at(0);
    assert_int_equal(fk_export(NULL, ctx, out, NULL), FK_OK);
    long n = fk__alloc_count();
    assert_true(n > 20);
    /* the directory as a good export left it: every failure must keep it so */
    assert_int_equal(fkt_sh("cp -a '%s' '%s.good'", out, out), 0);
    assert_int_equal(fkt_pg_exec(db, "UPDATE app.cohort_definitions SET description = 'changed'"),
                     0);
    long failures = 0;
    for (long k = 1; k <= n + 5; k += step()) {
        fk__alloc_fail_at(k);
        fk_report *r = NULL;
        int rc = fk_export(&r, ctx, out, NULL);
        long used = fk__alloc_count();
        fk__alloc_fail_at(0);
        if (used < k) { /* the k-th allocation never happened: a full success */
            assert_int_equal(rc, FK_OK);
            fk_report_free(r);
            break;
        }
        if (rc != FK_ENOMEM)
            fail_msg("allocation %ld of %ld failed but fk_export returned %d (%s)", k, n, rc,
                     fk_errmsg(ctx));
        assert_null(r);
        failures++;
        if (fkt_sh("diff -r '%s' '%s.good' >/dev/null", out, out) != 0)
            fail_msg("allocation %ld failed and the old fixtures changed", k);
    }
    assert_true(failures * step() > n / 2); /* most allocations were exercised */
    fkt_sh("rm -rf '%s'", dir);
    assert_int_equal(fkt_pg_exec(db, "UPDATE app.cohort_definitions SET description = NULL"), 0);
}

static void import_fails_cleanly_at_every_allocation(void **state)
{
    (void)state;
    char dir[] = "/tmp/fk-alloc-XXXXXX";
    assert_non_null(mkdtemp(dir));
    assert_int_equal(fk_export(NULL, ctx, dir, NULL), FK_OK);
    assert_int_equal(fkt_pg_exec(db, "DELETE FROM app.concept_set_items; UPDATE "
                                     "app.cohort_definitions SET name = 'gone'"),
                     0);
    fk__alloc_fail_at(0);
    fk_report *r = NULL;
    assert_int_equal(fk_import(&r, ctx, dir, NULL), FK_OK);
    long n = fk__alloc_count();
    fk_report_free(r);
    assert_int_equal(fkt_pg_exec(db, "DELETE FROM app.concept_set_items; UPDATE "
                                     "app.cohort_definitions SET name = 'gone'"),
                     0);
    /* taken after one import: the Parthenon format writes 1.10 as 1.1 (same value) */
    char *before = checksum();
    long failures = 0;
    for (long k = 1; k <= n + 5; k += step()) {
        fk__alloc_fail_at(k);
        r = NULL;
        int rc = fk_import(&r, ctx, dir, NULL);
        long used = fk__alloc_count();
        fk__alloc_fail_at(0);
        if (used < k) {
            assert_int_equal(rc, FK_OK);
            fk_report_free(r);
            break;
        }
        if (rc != FK_ENOMEM)
            fail_msg("allocation %ld of %ld failed but fk_import returned %d (%s)", k, n, rc,
                     fk_errmsg(ctx));
        assert_null(r);
        failures++;
        char *now = checksum();
        if (strcmp(now, before) != 0) {
            char *rows = fkt_pg_query1(db, "SELECT string_agg(t::text, E'\\n' ORDER BY id) FROM "
                                           "app.cohort_definitions t");
            fail_msg("allocation %ld failed and the database changed:\n%s", k, rows);
        }
        free(now);
    }
    assert_true(failures * step() > n / 2); /* most allocations were exercised */
    free(before);
    fkt_sh("rm -rf '%s'", dir);
}

static void verify_fails_cleanly_at_every_allocation(void **state)
{
    (void)state;
    char dir[] = "/tmp/fk-alloc-XXXXXX";
    assert_non_null(mkdtemp(dir));
    assert_int_equal(fk_export(NULL, ctx, dir, NULL), FK_OK);
    assert_int_equal(fkt_pg_exec(db, "UPDATE app.cohort_definitions SET description = 'x' WHERE "
                                     "id = 1001"),
                     0);
    fk__alloc_fail_at(0);
    fk_report *r = NULL;
    assert_int_equal(fk_verify(&r, ctx, dir, NULL), FK_EVERIFY);
    long n = fk__alloc_count();
    fk_report_free(r);
    for (long k = 1; k <= n + 5; k += step()) {
        fk__alloc_fail_at(k);
        r = NULL;
        int rc = fk_verify(&r, ctx, dir, NULL);
        long used = fk__alloc_count();
        fk__alloc_fail_at(0);
        fk_report_free(r);
        if (used < k) {
            assert_int_equal(rc, FK_EVERIFY);
            break;
        }
        if (rc != FK_ENOMEM)
            fail_msg("allocation %ld of %ld failed but fk_verify returned %d (%s)", k, n, rc,
                     fk_errmsg(ctx));
    }
    fkt_sh("rm -rf '%s'", dir);
}

static const char registry[] =
    "{\"format\": \"fortknox-registry\", \"format_version\": 1,"
    " \"users\": {\"table\": \"app.users\"},"
    " \"entities\": ["
    "  {\"type\": \"cohort_definition\", \"table\": \"app.cohort_definitions\","
    "   \"author_column\": \"author_id\", \"secret_columns\": [\"share_token\"],"
    "   \"self_references\": [\"superseded_by\"]},"
    "  {\"type\": \"concept_set\", \"table\": \"app.concept_sets\", \"author_column\": "
    "\"author_id\", \"children\": [{\"key\": \"items\", \"table\": \"app.concept_set_items\","
    "   \"foreign_key\": \"concept_set_id\"}]}]}";

int main(void)
{
    pg = fkt_pg_start_or_exit();
    db = fkt_pg_new_db(pg, fkt_schema_and_seed);
    char path[] = "/tmp/fk-alloc-registry-XXXXXX";
    int fd = mkstemp(path);
    if (!db || fd < 0 || write(fd, registry, sizeof registry - 1) != (ssize_t)(sizeof registry - 1)) {
        printf("Bail out! setup failed\n");
        return 1;
    }
    close(fd);
    fk_ctx_options o = FK_CTX_OPTIONS_INIT;
    o.registry_file = path;
    if (fk_open(&ctx, db, &o) != FK_OK) {
        printf("Bail out! %s\n", fk_errmsg(NULL));
        return 1;
    }
    unlink(path);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(export_fails_cleanly_at_every_allocation),
        cmocka_unit_test(import_fails_cleanly_at_every_allocation),
        cmocka_unit_test(verify_fails_cleanly_at_every_allocation),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    fk_close(ctx);
    free(db);
    fkt_pg_stop(pg);
    return rc;
}
