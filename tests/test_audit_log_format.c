/* Unit tests for fk_audit_log_format() (lib/audit/audit_log_format.c): the
 * audit rows as `fortknox audit log` (and the PHP binding's
 * fortknox:audit:log) print them, byte for byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "alloc.h"
#include "fkt_alloc.h"
#include "fortknox.h"

/* Three rows as fk_audit_log() gives them: a long name and changed list (cut),
 * an actor known by id only, a row without actor whose name holds a newline. */
static const char rows[] =
    "[{\"id\": 12, \"created_at\": \"2026-03-15T02:58:11Z\", \"action\": \"updated\","
    " \"entity_type\": \"cohort_definition\", \"entity_id\": 7,"
    " \"entity_name\": \"Type 2 diabetes, new users of metformin\", \"actor_id\": 154,"
    " \"actor_email\": \"meilin.chen@example.org\", \"context\": \"capture\","
    " \"changed_fields\": [\"description\", \"expression_json\", \"tags\", \"updated_at\"]},"
    " {\"id\": 9, \"created_at\": \"2026-03-14T10:00:00Z\", \"action\": \"deleted\","
    " \"entity_type\": \"concept_set\", \"entity_id\": 1003, \"entity_name\": \"Asthma \xc3\xbc\","
    " \"actor_id\": 2, \"actor_email\": null, \"context\": \"app\", \"changed_fields\": []},"
    " {\"id\": 8, \"created_at\": \"2026-03-14T09:00:00Z\", \"action\": \"created\","
    " \"entity_type\": \"concept_set\", \"entity_id\": 1003, \"entity_name\": \"x\\ny\","
    " \"actor_id\": null, \"actor_email\": null, \"context\": \"\", \"changed_fields\": null}]";

static const char table[] =
    "id  time (UTC)            action   entity               name                              "
    "actor                    changed                                   context\n"
    "12  2026-03-15T02:58:11Z  updated  cohort_definition:7  Type 2 diabetes, new users of..."
    "  meilin.chen@example.org  description,expression_json,tags,upda...  capture\n"
    " 9  2026-03-14T10:00:00Z  deleted  concept_set:1003     Asthma \xc3\xbc                          "
    "2                                                                  app\n"
    " 8  2026-03-14T09:00:00Z  created  concept_set:1003     x\\ny                              "
    "-                                                                  \n";

/* The same rows with a diff each (what fk_audit_diff() adds). */
static const char diffed[] =
    "[{\"id\": 12, \"created_at\": \"2026-03-15T02:58:11Z\", \"action\": \"updated\","
    " \"actor_id\": 154, \"actor_email\": \"meilin.chen@example.org\", \"context\": \"capture\","
    " \"diff\": [{\"text\": \"~ $.description: \\\"a\\\" \xe2\x86\x92 \\\"b\\\"\"},"
    " {\"text\": \"+ $.tags[2]: 3\"}]},"
    " {\"id\": 9, \"created_at\": \"2026-03-14T10:00:00Z\", \"action\": \"restored\","
    " \"actor_id\": 2, \"actor_email\": null, \"context\": \"ev\\nil\", \"diff\": []}]";

static const char diff_text[] = "#12 2026-03-15T02:58:11Z updated by meilin.chen@example.org (capture)\n"
                                "  ~ $.description: \"a\" \xe2\x86\x92 \"b\"\n"
                                "  + $.tags[2]: 3\n"
                                "\n"
                                "#9 2026-03-14T10:00:00Z restored by 2 (ev\\nil)\n"
                                "  (no change)\n";

static void expect(const char *json, unsigned flags, const char *want)
{
    char *out = NULL;
    assert_int_equal(fk_audit_log_format(&out, json, flags), FK_OK);
    if (strcmp(out, want) != 0)
        fail_msg("--- want:\n%s--- got:\n%s---", want, out);
    fk_free(out);
}

static void test_table(void **state)
{
    (void)state;
    expect(rows, 0, table);
    expect("[]", 0, "no audit rows\n");
    expect(" [ ] ", FK_AUDIT_LOG_FORMAT_DIFF, "no audit rows\n");
}

static void test_diff(void **state)
{
    (void)state;
    expect(diffed, FK_AUDIT_LOG_FORMAT_DIFF, diff_text);
}

/* A diff line is cut at 200 code points ("..." ends it). */
static void test_long_diff_line(void **state)
{
    (void)state;
    char json[600], want[400], text[260];
    memset(text, 'x', 250);
    text[250] = '\0';
    snprintf(json, sizeof json,
             "[{\"id\": 1, \"created_at\": \"t\", \"action\": \"updated\", \"diff\": [{\"text\": \"%s\"}]}]",
             text);
    snprintf(want, sizeof want, "#1 t updated by -\n  %.197s...\n", text);
    expect(json, FK_AUDIT_LOG_FORMAT_DIFF, want);
}

static void test_refusals(void **state)
{
    (void)state;
    char *out = (char *)"untouched";
    assert_int_equal(fk_audit_log_format(NULL, "[]", 0), FK_EINVAL);
    assert_int_equal(fk_audit_log_format(&out, NULL, 0), FK_EINVAL);
    assert_null(out);
    assert_int_equal(fk_audit_log_format(&out, "[]", 2), FK_EINVAL);
    assert_non_null(strstr(fk_errmsg(NULL), "flags"));
    assert_int_equal(fk_audit_log_format(&out, "[1,", 0), FK_EPARSE);
    assert_non_null(strstr(fk_errmsg(NULL), "not valid JSON"));
    assert_int_equal(fk_audit_log_format(&out, "{\"id\": 1}", 0), FK_EPARSE);
    assert_non_null(strstr(fk_errmsg(NULL), "not an array"));
    assert_null(out);
}

/* Each allocation failing in turn: FK_ENOMEM and no output, never a crash
 * or a partial text. */
static void test_alloc_failures(void **state)
{
    (void)state;
    if (!fkt_alloc_faults_available())
        skip(); /* alloc.c built without FK_ALLOC_FAULTS */
    int done = 0;
    for (long k = 1; !done && k < 10000; k++) {
        char *out = NULL;
        fk__alloc_fail_at(k);
        int rc = fk_audit_log_format(&out, rows, 0);
        long used = fk__alloc_count();
        fk__alloc_fail_at(0);
        if (used < k) {
            assert_int_equal(rc, FK_OK);
            assert_string_equal(out, table);
            done = 1;
        } else {
            if (rc != FK_ENOMEM)
                fail_msg("allocation %ld failed, status %d", k, rc);
            assert_null(out);
        }
        fk_free(out);
    }
    assert_true(done);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_diff),
        cmocka_unit_test(test_long_diff_line),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
