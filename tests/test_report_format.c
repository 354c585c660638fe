/* Unit tests for fk_report_format() and fk_report_summary() (lib/core:
 * report_format.c, report_text.c, report_summary.c, text_table.c): the
 * fortknox tool's output, compared byte for byte with the text it has
 * always printed, in each mode (text, --verbose, --quiet, --json) and
 * layout, plus the refusals (NULL arguments, unknown versions and layouts)
 * and every allocation failure. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alloc.h"
#include "report_internal.h"
#include "fortknox/ctx.h"

/* ------------------------------------------------------------- helpers */

static fk_report_format_options opts(unsigned flags, int exit_status)
{
    fk_report_format_options o;
    assert_int_equal(fk_report_format_options_init(&o, FK_REPORT_FORMAT_OPTIONS_VERSION), FK_OK);
    o.flags = flags;
    o.exit_status = exit_status;
    return o;
}

/* Formats and compares with want, showing both on a difference. */
static void expect_text(const fk_report *r, const fk_report_format_options *o, const char *want)
{
    char *got = NULL;
    assert_int_equal(fk_report_format(&got, r, o), FK_OK);
    assert_non_null(got);
    if (strcmp(got, want) != 0)
        fail_msg("formatted output differs\n--- want:\n%s--- got:\n%s---", want, got);
    fk_free(got);
}

static void expect_summary(const fk_report *r, int status, const char *subject, const char *want)
{
    char *got = NULL;
    assert_int_equal(fk_report_summary(&got, r, status, subject), FK_OK);
    assert_non_null(got);
    assert_string_equal(got, want);
    fk_free(got);
}

/* An export-like report: totals, counters per type (one type name not
 * ASCII, to check widths count code points), an info item, and problems
 * with every optional field. */
static fk_report *export_report(void)
{
    fk_report *r = NULL;
    assert_int_equal(fk__report_new(&r, "export"), FK_OK);
    assert_int_equal(fk__report_count(r, "entities", 12), FK_OK);
    assert_int_equal(fk__report_count(r, "written", 3), FK_OK);
    assert_int_equal(fk__report_count2(r, "cohort_definition", "written", 2), FK_OK);
    assert_int_equal(fk__report_count2(r, "cohort_definition", "unchanged", 7), FK_OK);
    assert_int_equal(fk__report_count2(r, "\xc3\xa9tude", "written", 1), FK_OK);
    assert_int_equal(fk__report_count(r, "unchanged", 9), FK_OK);
    fk__report_set_elapsed_ms(r, 1234);
    assert_int_equal(fk__report_add(r, FK_SEV_INFO, "written", "cohort_definition", 7,
                                    "cohort_definitions/a.json", NULL, NULL, "written"),
                     FK_OK);
    assert_int_equal(fk__report_add(r, FK_SEV_WARNING, "unknown_key", "concept_set", 0, NULL,
                                    "[\"color\", \"size\"]", NULL, "keys without a column"),
                     FK_OK);
    assert_int_equal(fk__report_add(r, FK_SEV_ERROR, "FK-LOSS", "cohort_definition", 3,
                                    "cohort_definitions/b.json", NULL, "import it",
                                    "cohort_definition 3 is missing"),
                     FK_OK);
    return r;
}

static const char export_text[] =
    "exported 12 entities\n"
    "  entities 12, written 3, unchanged 9  (1.2 s)\n"
    "\n"
    "  type               written  unchanged\n"
    "  cohort_definition        2          7\n"
    "  \xc3\xa9tude                    1          0\n"
    "\n"
    "  warning unknown_key        concept_set: keys without a column\n"
    "                             fields: [\"color\",\"size\"]\n"
    "  error   FK-LOSS            cohort_definition 3 is missing\n"
    "                             file: cohort_definitions/b.json\n"
    "                             hint: import it\n";

/* ------------------------------------------------------------- tests */

static void test_refusals(void **state)
{
    (void)state;
    fk_report *r = export_report();
    fk_report_format_options o;
    char *out = (char *)"untouched";

    assert_int_equal(fk_report_format(NULL, r, NULL), FK_EINVAL);
    assert_non_null(strstr(fk_errmsg(NULL), "fk_report_format"));

    assert_int_equal(fk_report_format_options_init(NULL, FK_REPORT_FORMAT_OPTIONS_VERSION),
                     FK_EINVAL);
    assert_int_equal(fk_report_format_options_init(&o, 0), FK_EINVAL);
    assert_int_equal(fk_report_format_options_init(&o, FK_REPORT_FORMAT_OPTIONS_VERSION + 1),
                     FK_EINVAL);
    assert_non_null(strstr(fk_errmsg(NULL), "unsupported version"));

    o = opts(0, 0);
    o.version = 0;
    assert_int_equal(fk_report_format(&out, r, &o), FK_EINVAL);
    assert_null(out);
    o.version = FK_REPORT_FORMAT_OPTIONS_VERSION + 1;
    out = (char *)"untouched";
    assert_int_equal(fk_report_format(&out, r, &o), FK_EINVAL);
    assert_null(out);
    assert_non_null(strstr(fk_errmsg(NULL), "options version"));

    o = opts(0, 0);
    o.layout = (fk_report_layout)(FK_REPORT_LAYOUT_ITEMS + 1);
    assert_int_equal(fk_report_format(&out, r, &o), FK_EINVAL);
    assert_null(out);
    o.layout = (fk_report_layout)-1;
    assert_int_equal(fk_report_format(&out, r, &o), FK_EINVAL);
    assert_non_null(strstr(fk_errmsg(NULL), "layout"));

    assert_int_equal(fk_report_summary(NULL, r, FK_OK, "d"), FK_EINVAL);
    out = (char *)"untouched";
    assert_int_equal(fk_report_summary(&out, NULL, FK_OK, "d"), FK_EINVAL);
    assert_null(out);
    /* an export's sentence names its directory */
    assert_int_equal(fk_report_summary(&out, r, FK_OK, NULL), FK_EINVAL);
    assert_null(out);
    assert_non_null(strstr(fk_errmsg(NULL), "subject"));
    fk_report_free(r);
}

/* NULL options are the defaults: text, counters layout, nothing else. */
static void test_defaults(void **state)
{
    (void)state;
    fk_report *r = export_report();
    const char *body = strchr(export_text, '\n') + 1; /* without the summary */
    expect_text(r, NULL, body);
    fk_report_format_options o = opts(0, 0);
    expect_text(r, &o, body);
    o.layout = FK_REPORT_LAYOUT_COUNTERS;
    expect_text(r, &o, body);
    fk_report_free(r);
}

static void test_text(void **state)
{
    (void)state;
    fk_report *r = export_report();
    fk_report_format_options o = opts(0, 0);
    o.summary = "exported 12 entities";
    expect_text(r, &o, export_text);
    /* exit status 1 (a problem found) shows the same */
    o.exit_status = 1;
    expect_text(r, &o, export_text);
    /* 3: the command could not run, its error (the caller's) says it all */
    o.exit_status = 3;
    expect_text(r, &o, "");
    /* no report: the summary alone */
    o.exit_status = 0;
    expect_text(NULL, &o, "exported 12 entities\n");
    o.summary = "";
    expect_text(NULL, &o, "");
    fk_report_free(r);
}

static void test_verbose(void **state)
{
    (void)state;
    fk_report *r = export_report();
    fk_report_format_options o = opts(FK_REPORT_FORMAT_VERBOSE, 0);
    expect_text(r, &o,
                "  entities 12, written 3, unchanged 9  (1.2 s)\n"
                "\n"
                "  type               written  unchanged\n"
                "  cohort_definition        2          7\n"
                "  \xc3\xa9tude                    1          0\n"
                "\n"
                "  info    written            cohort_definition 7: written\n"
                "                             file: cohort_definitions/a.json\n"
                "  warning unknown_key        concept_set: keys without a column\n"
                "                             fields: [\"color\",\"size\"]\n"
                "  error   FK-LOSS            cohort_definition 3 is missing\n"
                "                             file: cohort_definitions/b.json\n"
                "                             hint: import it\n");
    fk_report_free(r);
}

static void test_quiet(void **state)
{
    (void)state;
    fk_report *r = export_report();
    fk_report_format_options o = opts(FK_REPORT_FORMAT_QUIET, 0);
    o.summary = "exported 12 entities";
    expect_text(r, &o, ""); /* a quiet success says nothing */
    o.exit_status = 1;
    expect_text(r, &o,
                "exported 12 entities\n"
                "\n"
                "  warning unknown_key        concept_set: keys without a column\n"
                "                             fields: [\"color\",\"size\"]\n"
                "  error   FK-LOSS            cohort_definition 3 is missing\n"
                "                             file: cohort_definitions/b.json\n"
                "                             hint: import it\n");
    fk_report_free(r);
}

/* Short durations in ms; no elapsed time, no totals: the line is empty;
 * no problems: no item list (and no blank line before it). */
static void test_totals_line(void **state)
{
    (void)state;
    fk_report *r = NULL;
    assert_int_equal(fk__report_new(&r, "verify"), FK_OK);
    expect_text(r, NULL, "\n");
    fk__report_set_elapsed_ms(r, 15);
    expect_text(r, NULL, "  (15 ms)\n");
    assert_int_equal(fk__report_count(r, "identical", 4), FK_OK);
    assert_int_equal(fk__report_count(r, "elapsed_ms", 99), FK_OK); /* never a total */
    expect_text(r, NULL, "  identical 4  (15 ms)\n");
    fk_report_free(r);
}

static fk_report *many_warnings(size_t n)
{
    fk_report *r = NULL;
    assert_int_equal(fk__report_new(&r, "verify"), FK_OK);
    for (size_t i = 1; i <= n; i++)
        assert_int_equal(fk__report_add(r, FK_SEV_WARNING, "differs", "concept_set", (int64_t)i,
                                        NULL, NULL, NULL, "differs"),
                         FK_OK);
    return r;
}

/* At most 25 items, then how many more; all with --verbose; max_items
 * chooses another limit. */
static void test_item_limit(void **state)
{
    (void)state;
    fk_report *r = many_warnings(27);
    fk_report_format_options o = opts(0, 0);
    o.layout = FK_REPORT_LAYOUT_ITEMS;
    o.indent = "> ";
    char want[4096] = "";
    for (int i = 1; i <= 25; i++)
        snprintf(want + strlen(want), sizeof want - strlen(want),
                 "> warning differs            concept_set %d: differs\n", i);
    strcat(want, "> ... and 2 more (--verbose or --json shows all)\n");
    expect_text(r, &o, want);

    o.flags = FK_REPORT_FORMAT_VERBOSE;
    char *all = NULL;
    assert_int_equal(fk_report_format(&all, r, &o), FK_OK);
    assert_non_null(strstr(all, "concept_set 27: differs\n"));
    assert_null(strstr(all, "more"));
    fk_free(all);

    o.max_items = 2;
    expect_text(r, &o,
                "> warning differs            concept_set 1: differs\n"
                "> warning differs            concept_set 2: differs\n"
                "> ... and 25 more (--verbose or --json shows all)\n");
    fk_report_free(r);
}

static fk_report *doctor_report(void)
{
    fk_report *r = NULL;
    assert_int_equal(fk__report_new(&r, "doctor"), FK_OK);
    assert_int_equal(fk__report_count(r, "lost", 3), FK_OK);
    assert_int_equal(fk__report_add(r, FK_SEV_WARNING, "FK-DROP", NULL, 0, NULL, NULL,
                                    "find out", "concept_sets: 0 rows now"),
                     FK_OK);
    const char *types[] = {"concept_set", "characterization", "concept_set"};
    for (int i = 0; i < 3; i++)
        assert_int_equal(fk__report_add(r, FK_SEV_ERROR, "FK-LOSS", types[i], 10 + i, NULL,
                                        NULL, NULL, "%s %d is missing", types[i], 10 + i),
                         FK_OK);
    assert_int_equal(fk__report_add(r, FK_SEV_INFO, "FK-OK", NULL, 0, NULL, NULL, NULL,
                                    "guards in place"),
                     FK_OK);
    return r;
}

/* doctor's reports are findings: counted per code, the lost entities per
 * type, then listed. */
static void test_findings(void **state)
{
    (void)state;
    fk_report *r = doctor_report();
    fk_report_format_options o = opts(0, 1);
    o.summary = "doctor found 3 problems and 1 warning";
    const char *list =
        "  warning FK-DROP            concept_sets: 0 rows now\n"
        "                             hint: find out\n"
        "  error   FK-LOSS            concept_set 10 is missing\n"
        "  error   FK-LOSS            characterization 11 is missing\n"
        "  error   FK-LOSS            concept_set 12 is missing\n";
    char want[2048];
    snprintf(want, sizeof want,
             "doctor found 3 problems and 1 warning\n"
             "  severity  code     count\n"
             "  warning   FK-DROP      1\n"
             "  error     FK-LOSS      3\n"
             "\n"
             "lost entities per type:\n"
             "  type              count\n"
             "  concept_set           2\n"
             "  characterization      1\n"
             "\n%s",
             list);
    expect_text(r, &o, want); /* FK_REPORT_LAYOUT_AUTO */
    o.layout = FK_REPORT_LAYOUT_FINDINGS;
    expect_text(r, &o, want);

    /* quiet: the findings only */
    o.flags = FK_REPORT_FORMAT_QUIET;
    snprintf(want, sizeof want, "doctor found 3 problems and 1 warning\n\n%s", list);
    expect_text(r, &o, want);

    /* the same report in the counters layout */
    o.flags = 0;
    o.summary = NULL;
    o.layout = FK_REPORT_LAYOUT_COUNTERS;
    snprintf(want, sizeof want, "  lost 3\n\n%s", list);
    expect_text(r, &o, want);
    fk_report_free(r);
}

/* Only the items with a code: how many per type, then the first ones. */
static void test_items_with_code(void **state)
{
    (void)state;
    fk_report *r = doctor_report();
    fk_report_format_options o = opts(0, 0);
    o.layout = FK_REPORT_LAYOUT_ITEMS;
    o.item_code = "FK-LOSS";
    o.max_items = 2;
    o.indent = "    ";
    expect_text(r, &o,
                "    type              count\n"
                "    concept_set           2\n"
                "    characterization      1\n"
                "    error   FK-LOSS            concept_set 10 is missing\n"
                "    error   FK-LOSS            characterization 11 is missing\n"
                "    ... and 1 more (--verbose or --json shows all)\n");
    o.item_code = "nothing-has-this";
    expect_text(r, &o, "");
    fk_report_free(r);
}

static void test_json_document(void **state)
{
    (void)state;
    fk_report *r = doctor_report();
    char *report_json = NULL;
    assert_int_equal(fk_report_json(&report_json, r), FK_OK);

    fk_report_format_options o = opts(FK_REPORT_FORMAT_JSON | FK_REPORT_FORMAT_QUIET, 1);
    o.command = "doctor";
    o.status = FK_EVERIFY;
    /* the tool's string escaping: '/' and UTF-8 as they are */
    o.error = "a/b \"q\" \\ \t\n\r\x01 \xc3\xa9";
    o.summary = "not in the document";
    o.data = "{\"git\": true}";
    char want[8192];
    snprintf(want, sizeof want,
             "{\"format\": \"fortknox-cli\", \"format_version\": 1, \"command\": \"doctor\", "
             "\"exit_status\": 1, \"status\": \"FK_EVERIFY\", \"error\": \"a/b \\\"q\\\" \\\\ "
             "\\t\\n\\r\\u0001 \xc3\xa9\", \"report\": %s, \"data\": {\"git\": true}}\n",
             report_json);
    expect_text(r, &o, want);

    /* a success has no error; no report and no data are null; so is a
     * missing command */
    o.status = FK_OK;
    o.exit_status = 0;
    o.command = NULL;
    o.data = NULL;
    expect_text(NULL, &o,
                "{\"format\": \"fortknox-cli\", \"format_version\": 1, \"command\": null, "
                "\"exit_status\": 0, \"status\": \"FK_OK\", \"error\": null, \"report\": null, "
                "\"data\": null}\n");
    /* exit status 3 still gets its document */
    o.status = FK_EDB;
    o.exit_status = 3;
    o.command = "verify";
    o.error = NULL;
    expect_text(NULL, &o,
                "{\"format\": \"fortknox-cli\", \"format_version\": 1, \"command\": \"verify\", "
                "\"exit_status\": 3, \"status\": \"FK_EDB\", \"error\": null, \"report\": null, "
                "\"data\": null}\n");
    fk_free(report_json);
    fk_report_free(r);
}

static fk_report *counted(const char *operation, const char *const *names, const int64_t *values,
                          size_t n)
{
    fk_report *r = NULL;
    assert_int_equal(fk__report_new(&r, operation), FK_OK);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(fk__report_count(r, names[i], values[i]), FK_OK);
    return r;
}

static void test_summaries(void **state)
{
    (void)state;
    const char *names[] = {"entities", "written", "unchanged", "removed", "lost",
                           "created", "updated", "db_only", "differs", "fixture_only",
                           "file_edited", "file_missing", "restored"};
    const int64_t values[] = {12, 3, 9, 1, 0, 4, 5, 6, 2, 7, 8, 11, 10};
    size_t n = sizeof names / sizeof *names;

    fk_report *r = counted("export", names, values, n);
    expect_summary(r, FK_OK, "fx",
                   "exported 12 entities to fx: 3 written, 9 unchanged, 1 removed");
    expect_summary(r, FK_ETAMPER, "fx",
                   "exported 12 entities to fx: 3 written, 9 unchanged, 1 removed");
    expect_summary(r, FK_EDB, "fx", "");
    assert_int_equal(fk__report_count(r, "lost", 2), FK_OK);
    expect_summary(r, FK_ELOSS, "fx",
                   "exported 12 entities to fx: 3 written, 9 unchanged, 1 removed; LOST "
                   "entities kept (see below)");
    fk_report_free(r);

    r = counted("import", names, values, n);
    expect_summary(r, FK_OK, "fx",
                   "imported fx: 4 created, 5 updated, 9 unchanged, 6 only in the database");
    expect_summary(r, FK_EPARSE, "fx", "");
    fk_report_free(r);
    r = counted("import (dry run)", names, values, n);
    expect_summary(r, FK_OK, "fx",
                   "dry run of importing fx: 4 created, 5 updated, 9 unchanged, 6 only in the "
                   "database (nothing was changed)");
    fk_report_free(r);

    r = counted("verify", names, values, n);
    expect_summary(r, FK_OK, "fx", "identical: fx is a faithful copy of the database (12 "
                                   "entities)");
    expect_summary(r, FK_EVERIFY, "fx",
                   "fx differs from the database: 2 differ, 6 only in the database, 7 only in "
                   "fx, 8 files edited, 11 files missing");
    expect_summary(r, FK_EIO, "fx", "");
    fk_report_free(r);

    r = counted("drill", names, values, n);
    expect_summary(r, FK_OK, "fx", "drill passed: 10 entities from fx restored into a scratch "
                                   "schema exactly; live data untouched");
    expect_summary(r, FK_EVERIFY, "fx",
                   "drill FAILED: 2 of 12 entities from fx did not restore exactly");
    fk_report_free(r);

    r = doctor_report();
    expect_summary(r, FK_EVERIFY, NULL, "doctor found 3 problems and 1 warning");
    fk_report_free(r);
    r = counted("doctor", names, 0, 0);
    expect_summary(r, FK_OK, NULL, "doctor found no loss and no error (0 warnings)");
    assert_int_equal(fk__report_add(r, FK_SEV_WARNING, "FK-X", NULL, 0, NULL, NULL, NULL, "w"),
                     FK_OK);
    expect_summary(r, FK_OK, NULL, "doctor found no loss and no error (1 warning)");
    assert_int_equal(fk__report_add(r, FK_SEV_ERROR, "FK-Y", NULL, 0, NULL, NULL, NULL, "e"),
                     FK_OK);
    expect_summary(r, FK_EVERIFY, "ignored", "doctor found 1 problem and 1 warning");
    expect_summary(r, FK_EDB, NULL, "");
    fk_report_free(r);

    /* audit verify: the anchor directory is optional */
    {
        const char *av[] = {"rows", "anchor_id", "witnessed"};
        const int64_t with_anchor[] = {42, 40, 1}, no_anchor[] = {42, 0, 2};
        r = counted("audit verify", av, with_anchor, 3);
        expect_summary(r, FK_OK, NULL,
                       "audit chain intact: 42 rows verified (not anchored: give --anchor DIR to "
                       "check it against the fixtures' anchor and witness)");
        expect_summary(r, FK_OK, "fx",
                       "audit chain intact: 42 rows verified; anchored at row 40 in fx; 1 "
                       "witnessed head still in the chain");
        expect_summary(r, FK_ETAMPER, "fx", "audit chain BROKEN: the audit log was altered");
        expect_summary(r, FK_EDB, NULL, "");
        fk_report_free(r);
        r = counted("audit verify", av, no_anchor, 3);
        expect_summary(r, FK_OK, "fx",
                       "audit chain intact: 42 rows verified; NOT anchored (the manifest has no "
                       "anchor) in fx; 2 witnessed heads still in the chain");
        fk_report_free(r);
    }

    /* operations without a sentence need no subject */
    r = counted("install", names, 0, 0);
    expect_summary(r, FK_OK, NULL, "");
    fk_report_free(r);
    r = counted(NULL, names, 0, 0);
    expect_summary(r, FK_OK, NULL, "");
    fk_report_free(r);
}

/* Formats with the k-th allocation failing (0: none). */
static int format_failing_at(long k, const fk_report *r, const fk_report_format_options *o,
                             char **out)
{
    fk__alloc_fail_at(k);
    int rc = fk_report_format(out, r, o);
    fk__alloc_fail_at(0);
    return rc;
}

/* Every allocation failure is FK_ENOMEM with nothing returned, never a
 * shorter text. (The internal objects this test links are always built
 * with the allocation-failure hook.) */
static void test_alloc_failures(void **state)
{
    (void)state;
    fk_report *reports[] = {export_report(), doctor_report()};
    unsigned modes[] = {FK_REPORT_FORMAT_VERBOSE, FK_REPORT_FORMAT_JSON};
    for (size_t i = 0; i < 2; i++) {
        for (size_t m = 0; m < 2; m++) {
            fk_report_format_options o = opts(modes[m], 1);
            o.summary = "sentence";
            char *want = NULL;
            assert_int_equal(format_failing_at(0, reports[i], &o, &want), FK_OK);
            long k;
            for (k = 1;; k++) {
                char *got = (char *)"untouched";
                int rc = format_failing_at(k, reports[i], &o, &got);
                if (rc == FK_OK) {
                    assert_string_equal(got, want);
                    fk_free(got);
                    break;
                }
                assert_int_equal(rc, FK_ENOMEM);
                assert_null(got);
                assert_true(k < 10000);
            }
            assert_true(k > 1);
            fk_free(want);
        }
        char *s = NULL;
        fk__alloc_fail_at(1);
        int rc = fk_report_summary(&s, reports[i], FK_EVERIFY, "fx");
        fk__alloc_fail_at(0);
        assert_int_equal(rc, FK_ENOMEM);
        assert_null(s);
        fk_report_free(reports[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_text),
        cmocka_unit_test(test_verbose),
        cmocka_unit_test(test_quiet),
        cmocka_unit_test(test_totals_line),
        cmocka_unit_test(test_item_limit),
        cmocka_unit_test(test_findings),
        cmocka_unit_test(test_items_with_code),
        cmocka_unit_test(test_json_document),
        cmocka_unit_test(test_summaries),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
