/* Unit tests for the per-field diff of two JSON states (lib/json/json_diff.c)
 * and its public calls fk_json_diff / fk_audit_diff (lib/audit/audit_diff.c):
 * what `fortknox audit log --diff` prints. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>
#include <cmocka.h>

#include "alloc.h"
#include "fkt_alloc.h"
#include "fortknox.h"

/* The "text" lines of a diff, one per line, for comparing with a table. */
static char *lines_of(const char *diff)
{
    cJSON *a = cJSON_Parse(diff);
    assert_non_null(a);
    size_t cap = strlen(diff) + 1, len = 0;
    char *s = calloc(cap, 1);
    const cJSON *e;
    cJSON_ArrayForEach(e, a)
    {
        const char *t = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "text"));
        assert_non_null(t);
        len += (size_t)snprintf(s + len, cap - len, "%s%s", len ? "\n" : "", t);
    }
    cJSON_Delete(a);
    return s;
}

typedef struct diff_case {
    const char *name, *old, *new, *lines;
} diff_case;

static const diff_case cases[] = {
    {"same document", "{\"a\":1,\"b\":[1,2]}", "{\"b\": [1, 2], \"a\": 1}", ""},
    {"scalar changed", "{\"name\":\"a\"}", "{\"name\":\"b\"}", "~ $.name: \"a\" \xe2\x86\x92 \"b\""},
    {"added and removed members", "{\"gone\":true,\"kept\":1}", "{\"kept\":1,\"new\":null}",
     "- $.gone: true\n+ $.new: null"},
    {"nested objects and arrays",
     "{\"expression\":{\"criteria\":[{\"code\":1},{\"code\":2},{\"code\":3}]}}",
     "{\"expression\":{\"criteria\":[{\"code\":1},{\"code\":2},{\"code\":4,\"x\":{}}]}}",
     "~ $.expression.criteria[2].code: 3 \xe2\x86\x92 4\n+ $.expression.criteria[2].x: {}"},
    {"array grows, by index", "{\"tags\":[1,2]}", "{\"tags\":[1,2,3,[4]]}",
     "+ $.tags[2]: 3\n+ $.tags[3]: [4]"},
    {"array shrinks", "{\"items\":[{\"id\":1},{\"id\":2}]}", "{\"items\":[]}",
     "- $.items[0]: {\"id\":1}\n- $.items[1]: {\"id\":2}"},
    {"insert at the front shifts by index", "{\"t\":[\"b\"]}", "{\"t\":[\"a\",\"b\"]}",
     "~ $.t[0]: \"b\" \xe2\x86\x92 \"a\"\n+ $.t[1]: \"b\""},
    {"type changes are one entry", "{\"a\":{\"x\":1},\"b\":\"1\",\"c\":[1],\"d\":true}",
     "{\"a\":[1],\"b\":1,\"c\":{\"0\":1},\"d\":false}",
     "~ $.a: {\"x\":1} \xe2\x86\x92 [1]\n~ $.b: \"1\" \xe2\x86\x92 1\n"
     "~ $.c: [1] \xe2\x86\x92 {\"0\":1}\n~ $.d: true \xe2\x86\x92 false"},
    {"keys that are not identifiers", "{\"a b\":1,\"9x\":1,\"q\\\"\":1,\"_ok9\":1}",
     "{\"a b\":2,\"9x\":2,\"q\\\"\":2,\"_ok9\":2}",
     "~ $[\"a b\"]: 1 \xe2\x86\x92 2\n~ $[\"9x\"]: 1 \xe2\x86\x92 2\n"
     "~ $[\"q\\\"\"]: 1 \xe2\x86\x92 2\n~ $._ok9: 1 \xe2\x86\x92 2"},
    {"escaped keys and strings compare decoded", "{\"\\u0069d\":\"\\u00e9\"}", "{\"id\":\"\xc3\xa9\"}", ""},
    {"unicode keys and values", "{\"n\xc3\xa4me\":\"\xe6\x97\xa5\"}", "{\"n\xc3\xa4me\":\"\xf0\x9f\x98\x80\"}",
     "~ $[\"n\xc3\xa4me\"]: \"\xe6\x97\xa5\" \xe2\x86\x92 \"\xf0\x9f\x98\x80\""},
    {"big numbers are not doubles", "{\"n\":12345678901234567890,\"m\":9007199254740993}",
     "{\"n\":12345678901234567891,\"m\":9007199254740992}",
     "~ $.n: 12345678901234567890 \xe2\x86\x92 12345678901234567891\n"
     "~ $.m: 9007199254740993 \xe2\x86\x92 9007199254740992"},
    {"a change of scale shows (jsonb keeps it)", "{\"x\":0.10,\"y\":1e2}", "{\"x\":0.1,\"y\":1e2}",
     "~ $.x: 0.10 \xe2\x86\x92 0.1"},
    {"created: fields added", NULL, "{\"id\":1,\"name\":\"c\"}", "+ $.id: 1\n+ $.name: \"c\""},
    {"deleted: fields removed", "{\"id\":1}", NULL, "- $.id: 1"},
    {"no state either side", NULL, NULL, ""},
    {"scalar documents", "1", "2", "~ $: 1 \xe2\x86\x92 2"},
    {"scalar created", NULL, "[1]", "+ $: [1]"},
};

static void test_diff_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *out = NULL;
        int rc = fk_json_diff(&out, cases[i].old, cases[i].new);
        if (rc != FK_OK)
            fail_msg("%s: status %d", cases[i].name, rc);
        char *lines = lines_of(out);
        if (strcmp(lines, cases[i].lines) != 0)
            fail_msg("%s:\nwant: %s\ngot:  %s\n(json: %s)", cases[i].name, cases[i].lines, lines, out);
        free(lines);
        fk_free(out);
    }
}

/* The structure PHP and --json users read: path, op, old/new as values. */
static void test_diff_json(void **state)
{
    (void)state;
    char *out = NULL;
    assert_int_equal(fk_json_diff(&out, "{\"a\":{\"b\":[1]},\"c\":1}", "{\"a\":{\"b\":[2,3]},\"d\":{}}"),
                     FK_OK);
    assert_string_equal(
        out, "[{\"path\":\"$.a.b[0]\",\"op\":\"changed\",\"old\":1,\"new\":2,"
             "\"text\":\"~ $.a.b[0]: 1 \xe2\x86\x92 2\"},"
             "{\"path\":\"$.a.b[1]\",\"op\":\"added\",\"new\":3,\"text\":\"+ $.a.b[1]: 3\"},"
             "{\"path\":\"$.c\",\"op\":\"removed\",\"old\":1,\"text\":\"- $.c: 1\"},"
             "{\"path\":\"$.d\",\"op\":\"added\",\"new\":{},\"text\":\"+ $.d: {}\"}]");
    fk_free(out);
}

static void test_diff_errors(void **state)
{
    (void)state;
    static const struct {
        const char *old, *new;
        int status;
    } bad[] = {
        {"{\"a\":1", "{}", FK_EPARSE},
        {"{}", "{\"a\":01}", FK_EPARSE},
        {"{\"a\":1,\"a\":2}", "{}", FK_EPARSE}, /* duplicate keys: no single old value */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char *out = (char *)"unset";
        assert_int_equal(fk_json_diff(&out, bad[i].old, bad[i].new), bad[i].status);
        assert_null(out);
    }
    assert_int_equal(fk_json_diff(NULL, "{}", "{}"), FK_EINVAL);
}

/* fk_audit_diff: each audit row gets its "diff"; a null state is none. */
static void test_audit_diff(void **state)
{
    (void)state;
    static const struct {
        const char *rows, *want;
        int status;
    } rows[] = {
        {"[]", "[]", FK_OK},
        {"[{\"id\":2,\"old_json\":{\"a\":1},\"new_json\":null},"
         " {\"id\":1,\"old_json\":null,\"new_json\":{\"a\":1}}, {\"id\":0}, {}]",
         "[{\"id\":2,\"old_json\":{\"a\":1},\"new_json\":null,\"diff\":[{\"path\":\"$.a\","
         "\"op\":\"removed\",\"old\":1,\"text\":\"- $.a: 1\"}]},"
         "{\"id\":1,\"old_json\":null,\"new_json\":{\"a\":1},\"diff\":[{\"path\":\"$.a\","
         "\"op\":\"added\",\"new\":1,\"text\":\"+ $.a: 1\"}]},{\"id\":0,\"diff\":[]},{\"diff\":[]}]",
         FK_OK},
        {"{}", NULL, FK_EPARSE},
        {"[1]", NULL, FK_EPARSE},
        {"[{\"old_json\":{\"a\":}}]", NULL, FK_EPARSE},
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        char *out = NULL;
        int rc = fk_audit_diff(&out, rows[i].rows);
        if (rc != rows[i].status)
            fail_msg("case %zu: status %d, want %d", i, rc, rows[i].status);
        if (rows[i].want)
            assert_string_equal(out, rows[i].want);
        else
            assert_null(out);
        fk_free(out);
    }
}

/* The k-th allocation fails: FK_ENOMEM and nothing out, for every k, until
 * the call needs fewer (then its whole answer). */
static void test_alloc_failures(void **state)
{
    (void)state;
    if (!fkt_alloc_faults_available())
        skip(); /* alloc.c built without FK_ALLOC_FAULTS */
    static const char rows[] = "[{\"old_json\":{\"a\":[1,{\"b\":2}],\"c\":\"x\",\"\\u0064\":1},"
                               "\"new_json\":{\"a\":[1,{\"b\":3},4],\"e\":{}}},{\"old_json\":null}]";
    char *want = NULL;
    assert_int_equal(fk_audit_diff(&want, rows), FK_OK);
    int done = 0;
    for (long k = 1; k < 1000 && !done; k++) {
        char *out = (char *)"unset";
        fk__alloc_fail_at(k);
        int rc = fk_audit_diff(&out, rows);
        long used = fk__alloc_count();
        fk__alloc_fail_at(0);
        if (used < k) {
            assert_int_equal(rc, FK_OK);
            assert_string_equal(out, want);
            done = 1;
        } else {
            if (rc != FK_ENOMEM)
                fail_msg("allocation %ld failed, status %d", k, rc);
            assert_null(out);
        }
        if (rc == FK_OK)
            fk_free(out);
    }
    assert_true(done);
    fk_free(want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_diff_cases),
        cmocka_unit_test(test_diff_json),
        cmocka_unit_test(test_diff_errors),
        cmocka_unit_test(test_audit_diff),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
