/* Unit tests for lib/core/report.c (the report object and its JSON form).
 * JSON output is parsed back with cJSON and checked field by field; integers
 * that a double cannot hold are checked in the raw text. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cJSON.h>

#include "alloc.h"
#include "fkt_alloc.h"
#include "report_internal.h"

/* ------------------------------------------------------------- helpers */

static char *json_of(const fk_report *r)
{
    char *s = NULL;
    assert_int_equal(fk_report_json(&s, r), FK_OK);
    assert_non_null(s);
    assert_null(strchr(s, '\n'));
    return s;
}

static cJSON *parse_report(const fk_report *r, char **text)
{
    char *s = json_of(r);
    cJSON *j = cJSON_Parse(s);
    if (!j)
        fail_msg("report JSON does not parse: %s", s);
    if (text)
        *text = s;
    else
        fk_free(s);
    return j;
}

static const cJSON *get(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v)
        fail_msg("missing key %s", key);
    return v;
}

static void assert_jstr(const cJSON *o, const char *key, const char *want)
{
    const cJSON *v = get(o, key);
    if (!want) {
        assert_true(cJSON_IsNull(v));
        return;
    }
    assert_true(cJSON_IsString(v));
    assert_string_equal(v->valuestring, want);
}

static void assert_jnum(const cJSON *o, const char *key, double want)
{
    const cJSON *v = get(o, key);
    assert_true(cJSON_IsNumber(v));
    assert_true(v->valuedouble == want);
}

/* ------------------------------------------------------------- tests */

static void test_null_arguments(void **state)
{
    (void)state;
    char *s = (char *)"x";
    assert_int_equal(fk_report_item_count(NULL), 0);
    assert_null(fk_report_item_at(NULL, 0));
    assert_int_equal(fk_report_counter(NULL, "x"), 0);
    assert_int_equal(fk_report_error_count(NULL), 0);
    assert_int_equal(fk_report_json(&s, NULL), FK_EINVAL);
    assert_null(s);
    assert_null(fk_report_operation(NULL));
    fk_report_free(NULL);

    assert_int_equal(fk__report_new(NULL, "x"), FK_EINVAL);
    assert_int_equal(fk__report_add(NULL, FK_SEV_INFO, "c", NULL, 0, NULL, NULL, NULL, NULL),
                     FK_EINVAL);
    assert_int_equal(fk__report_count(NULL, "x", 1), FK_EINVAL);
    assert_int_equal(fk__report_count2(NULL, "x", "y", 1), FK_EINVAL);
    fk__report_set_elapsed_ms(NULL, 5);
    fk__report_set_ok(NULL, 1);

    fk_report *r;
    assert_int_equal(fk__report_new(&r, "verify"), FK_OK);
    assert_int_equal(fk_report_json(NULL, r), FK_EINVAL);
    assert_int_equal(fk__report_count(r, NULL, 1), FK_EINVAL);
    assert_int_equal(fk__report_count2(r, NULL, "y", 1), FK_EINVAL);
    assert_int_equal(fk__report_count2(r, "x", NULL, 1), FK_EINVAL);
    assert_int_equal(fk_report_counter(r, NULL), 0);
    assert_int_equal(fk_report_counter(r, "absent"), 0);
    assert_null(fk_report_item_at(r, 0));
    assert_int_equal(fk__report_add(r, (fk_severity)3, "c", NULL, 0, NULL, NULL, NULL, NULL),
                     FK_EINVAL);
    assert_int_equal(fk__report_add(r, (fk_severity)-1, "c", NULL, 0, NULL, NULL, NULL, NULL),
                     FK_EINVAL);
    assert_int_equal(fk_report_item_count(r), 0);
    fk_report_free(r);
}

static void test_empty_report(void **state)
{
    (void)state;
    fk_report *r;
    assert_int_equal(fk__report_new(&r, "export"), FK_OK);
    assert_string_equal(fk_report_operation(r), "export");
    char *s = json_of(r);
    assert_string_equal(s, "{\"operation\":\"export\",\"ok\":true,\"elapsed_ms\":0,\"counters\":{},"
                           "\"errors\":0,\"items\":[]}");
    fk_free(s);
    fk_report_free(r);

    assert_int_equal(fk__report_new(&r, NULL), FK_OK);
    assert_null(fk_report_operation(r));
    s = json_of(r);
    assert_string_equal(s, "{\"operation\":null,\"ok\":true,\"elapsed_ms\":0,\"counters\":{},"
                           "\"errors\":0,\"items\":[]}");
    fk_free(s);
    fk_report_free(r);
}

/* The exact layout the documentation shows. */
static void test_exact_json(void **state)
{
    (void)state;
    fk_report *r;
    assert_int_equal(fk__report_new(&r, "export"), FK_OK);
    fk__report_set_elapsed_ms(r, 12);
    assert_int_equal(fk__report_count(r, "written", 3), FK_OK);
    assert_int_equal(fk__report_count2(r, "cohort_definition", "entities", 5), FK_OK);
    assert_int_equal(fk__report_add(r, FK_SEV_INFO, "written", "cohort_definition", 5,
                                    "cohort_definitions/x.json", "[\"name\", \"items\"]", NULL,
                                    "wrote %d file", 1),
                     FK_OK);
    char *s = json_of(r);
    assert_string_equal(
        s, "{\"operation\":\"export\",\"ok\":true,\"elapsed_ms\":12,\"counters\":{\"written\":3,"
           "\"cohort_definition.entities\":5},\"errors\":0,\"items\":[{\"severity\":\"info\","
           "\"code\":\"written\",\"entity_type\":\"cohort_definition\",\"entity_id\":5,\"path\":"
           "\"cohort_definitions\\/x.json\",\"message\":\"wrote 1 file\",\"fields\":[\"name\","
           "\"items\"],\"hint\":null}]}");
    fk_free(s);
    fk_report_free(r);
}

static void test_items_field_by_field(void **state)
{
    (void)state;
    fk_report *r;
    assert_int_equal(fk__report_new(&r, "doctor"), FK_OK);
    assert_int_equal(fk__report_add(r, FK_SEV_WARNING, "stale_export", "concept_set", 7,
                                    "concept_sets/a b.json", "[]", "run fortknox export",
                                    "last export %s ago: \"%s\"\n", "3 days", "q"),
                     FK_OK);
    assert_int_equal(fk__report_add(r, FK_SEV_ERROR, "FK-LOSS", "cohort_definition",
                                    INT64_MAX, NULL, NULL, NULL, "lost"),
                     FK_OK);
    assert_int_equal(fk__report_add(r, FK_SEV_INFO, NULL, NULL, INT64_MIN, NULL, NULL, NULL, NULL),
                     FK_OK);
    assert_int_equal(fk_report_item_count(r), 3);
    assert_int_equal(fk_report_error_count(r), 1);

    const fk_report_item *it = fk_report_item_at(r, 0);
    assert_non_null(it);
    assert_int_equal(it->severity, FK_SEV_WARNING);
    assert_string_equal(it->code, "stale_export");
    assert_string_equal(it->entity_type, "concept_set");
    assert_true(it->entity_id == 7);
    assert_string_equal(it->path, "concept_sets/a b.json");
    assert_string_equal(it->message, "last export 3 days ago: \"q\"\n");
    assert_string_equal(it->fields, "[]");
    assert_string_equal(it->hint, "run fortknox export");
    it = fk_report_item_at(r, 2);
    assert_null(it->code);
    assert_null(it->entity_type);
    assert_null(it->path);
    assert_null(it->message);
    assert_null(it->fields);
    assert_null(it->hint);
    assert_null(fk_report_item_at(r, 3));

    char *text;
    cJSON *j = parse_report(r, &text);
    assert_jstr(j, "operation", "doctor");
    assert_true(cJSON_IsFalse(get(j, "ok")));
    assert_jnum(j, "errors", 1);
    assert_jnum(j, "elapsed_ms", 0);
    const cJSON *items = get(j, "items");
    assert_int_equal(cJSON_GetArraySize(items), 3);

    const cJSON *a = cJSON_GetArrayItem(items, 0);
    assert_int_equal(cJSON_GetArraySize(a), 8);
    assert_jstr(a, "severity", "warning");
    assert_jstr(a, "code", "stale_export");
    assert_jstr(a, "entity_type", "concept_set");
    assert_jnum(a, "entity_id", 7);
    assert_jstr(a, "path", "concept_sets/a b.json");
    assert_jstr(a, "message", "last export 3 days ago: \"q\"\n");
    assert_true(cJSON_IsArray(get(a, "fields")));
    assert_int_equal(cJSON_GetArraySize(get(a, "fields")), 0);
    assert_jstr(a, "hint", "run fortknox export");

    const cJSON *b = cJSON_GetArrayItem(items, 1);
    assert_jstr(b, "severity", "error");
    assert_jstr(b, "code", "FK-LOSS");
    assert_jstr(b, "path", NULL);
    assert_true(cJSON_IsNull(get(b, "fields")));
    assert_jstr(b, "hint", NULL);
    /* int64 extremes must be exact in the text, not rounded through a double */
    assert_non_null(strstr(text, "\"entity_id\":9223372036854775807,"));
    assert_non_null(strstr(text, "\"entity_id\":-9223372036854775808,"));

    const cJSON *c = cJSON_GetArrayItem(items, 2);
    assert_jstr(c, "severity", "info");
    assert_jstr(c, "code", NULL);
    assert_jstr(c, "entity_type", NULL);
    assert_jstr(c, "message", NULL);
    cJSON_Delete(j);
    fk_free(text);
    fk_report_free(r);
}

static void test_ok_flag(void **state)
{
    (void)state;
    fk_report *r;
    assert_int_equal(fk__report_new(&r, "verify"), FK_OK);
    assert_int_equal(fk__report_add(r, FK_SEV_WARNING, "w", NULL, 0, NULL, NULL, NULL, NULL), FK_OK);
    cJSON *j = parse_report(r, NULL);
    assert_true(cJSON_IsTrue(get(j, "ok")));
    cJSON_Delete(j);

    fk__report_set_ok(r, 0);
    j = parse_report(r, NULL);
    assert_true(cJSON_IsFalse(get(j, "ok")));
    cJSON_Delete(j);

    assert_int_equal(fk__report_add(r, FK_SEV_ERROR, "e", NULL, 0, NULL, NULL, NULL, NULL), FK_OK);
    fk__report_set_ok(r, 42); /* explicit override wins over the error items */
    j = parse_report(r, NULL);
    assert_true(cJSON_IsTrue(get(j, "ok")));
    assert_jnum(j, "errors", 1);
    cJSON_Delete(j);
    fk_report_free(r);
}

static void test_fields_json(void **state)
{
    (void)state;
    fk_report *r;
    assert_int_equal(fk__report_new(&r, "import"), FK_OK);
    static const char *const bad[] = {"", "[", "[1,]", "{\"a\":1}", "\"name\"", "3", "[\"\xff\"]",
                                      "[] []", "nul"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(fk__report_add(r, FK_SEV_INFO, "c", NULL, 0, NULL, bad[i], NULL, NULL),
                         FK_EINVAL);
    assert_int_equal(fk_report_item_count(r), 0);

    /* whitespace outside strings goes, whitespace inside stays */
    assert_int_equal(fk__report_add(r, FK_SEV_INFO, "c", NULL, 0, NULL,
                                    "\n [ \"a b\" ,\t\"c\\\" d\" , {\"k\" : [1, 2]} ]\r\n", NULL,
                                    NULL),
                     FK_OK);
    assert_string_equal(fk_report_item_at(r, 0)->fields, "[\"a b\",\"c\\\" d\",{\"k\":[1,2]}]");
    cJSON *j = parse_report(r, NULL);
    const cJSON *f = get(cJSON_GetArrayItem(get(j, "items"), 0), "fields");
    assert_int_equal(cJSON_GetArraySize(f), 3);
    assert_string_equal(cJSON_GetArrayItem(f, 1)->valuestring, "c\" d");
    cJSON_Delete(j);
    fk_report_free(r);
}

static void test_escaping(void **state)
{
    (void)state;
    fk_report *r;
    assert_int_equal(fk__report_new(&r, "ex\"port/\x01"), FK_OK);
    assert_int_equal(fk__report_add(r, FK_SEV_INFO, "c\\d", "t\te", 1, "a/b\x7f",
                                    NULL, "h\xe2\x80\xa8", "\xc3\xa9t\xc3\xa9 \xf0\x9f\x98\x80"),
                     FK_OK);
    assert_int_equal(fk__report_count(r, "we\"ird\n", 1), FK_OK);
    char *text;
    cJSON *j = parse_report(r, &text);
    assert_non_null(strstr(text, "\"operation\":\"ex\\\"port\\/\\u0001\""));
    assert_non_null(strstr(text, "\"path\":\"a\\/b\x7f\""));
    assert_non_null(strstr(text, "\"hint\":\"h\\u2028\""));
    assert_non_null(strstr(text, "\"we\\\"ird\\n\":1"));
    assert_jstr(j, "operation", "ex\"port/\x01");
    const cJSON *it = cJSON_GetArrayItem(get(j, "items"), 0);
    assert_jstr(it, "code", "c\\d");
    assert_jstr(it, "entity_type", "t\te");
    assert_jstr(it, "message", "\xc3\xa9t\xc3\xa9 \xf0\x9f\x98\x80");
    assert_jnum(get(j, "counters"), "we\"ird\n", 1);
    cJSON_Delete(j);
    fk_free(text);
    fk_report_free(r);
}

/* The C view keeps the caller's bytes; JSON replaces each maximal
 * ill-formed subpart by U+FFFD so the document stays valid UTF-8. */
static void test_invalid_utf8(void **state)
{
    (void)state;
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"a\xff" "b", "a\xef\xbf\xbd" "b"},
        {"\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd"},
        {"\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd"},               /* overlong '/' */
        {"\xe2\x82" "A", "\xef\xbf\xbd" "A"},                    /* truncated 3-byte */
        {"\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, /* encoded surrogate */
        {"\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, /* > U+10FFFF */
        {"\xf0\x9f\x98", "\xef\xbf\xbd"},                         /* truncated at end */
        {"ok \xe2\x82\xac \xc3", "ok \xe2\x82\xac \xef\xbf\xbd"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fk_report *r;
        assert_int_equal(fk__report_new(&r, cases[i].in), FK_OK);
        assert_int_equal(fk__report_add(r, FK_SEV_ERROR, cases[i].in, NULL, 0, NULL, NULL, NULL,
                                        "%s", cases[i].in),
                         FK_OK);
        assert_int_equal(fk__report_count(r, cases[i].in, 2), FK_OK);
        assert_string_equal(fk_report_item_at(r, 0)->message, cases[i].in);
        cJSON *j = parse_report(r, NULL);
        assert_jstr(j, "operation", cases[i].want);
        const cJSON *it = cJSON_GetArrayItem(get(j, "items"), 0);
        assert_jstr(it, "message", cases[i].want);
        assert_jstr(it, "code", cases[i].want);
        assert_jnum(get(j, "counters"), cases[i].want, 2);
        cJSON_Delete(j);
        fk_report_free(r);
    }
}

static void test_many_items(void **state)
{
    (void)state;
    enum { N = 10000 };
    fk_report *r;
    assert_int_equal(fk__report_new(&r, "export"), FK_OK);
    const fk_report_item *first = NULL, *mid = NULL;
    for (int i = 0; i < N; i++) {
        char path[64];
        snprintf(path, sizeof path, "cohort_definitions/%d.json", i);
        assert_int_equal(fk__report_add(r, i % 7 == 0 ? FK_SEV_ERROR : FK_SEV_INFO, "written",
                                        "cohort_definition", i + 1, path,
                                        i % 2 ? "[\"name\"]" : NULL, NULL, "item %d", i),
                         FK_OK);
        if (i == 0)
            first = fk_report_item_at(r, 0);
        if (i == 300)
            mid = fk_report_item_at(r, 300);
    }
    /* early pointers survive later growth */
    assert_ptr_equal(first, fk_report_item_at(r, 0));
    assert_ptr_equal(mid, fk_report_item_at(r, 300));
    assert_string_equal(first->message, "item 0");
    assert_string_equal(mid->path, "cohort_definitions/300.json");
    assert_int_equal(fk_report_item_count(r), N);
    assert_int_equal(fk_report_error_count(r), (N + 6) / 7);

    cJSON *j = parse_report(r, NULL);
    const cJSON *items = get(j, "items");
    assert_int_equal(cJSON_GetArraySize(items), N);
    int i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, items)
    {
        char want[64];
        snprintf(want, sizeof want, "item %d", i);
        assert_jstr(it, "message", want);
        assert_jnum(it, "entity_id", i + 1);
        assert_jstr(it, "severity", i % 7 == 0 ? "error" : "info");
        if (i % 2)
            assert_string_equal(cJSON_GetArrayItem(get(it, "fields"), 0)->valuestring, "name");
        else
            assert_true(cJSON_IsNull(get(it, "fields")));
        i++;
    }
    assert_jnum(j, "errors", (N + 6) / 7);
    assert_true(cJSON_IsFalse(get(j, "ok")));
    cJSON_Delete(j);
    fk_report_free(r);
}

/* Counters: insertion order in JSON, lookups by hash (2000 distinct names
 * bumped repeatedly must stay fast), count2 == "prefix.name". */
static void test_many_counters(void **state)
{
    (void)state;
    enum { N = 2000 };
    fk_report *r;
    assert_int_equal(fk__report_new(&r, "import"), FK_OK);
    for (int round = 0; round < 3; round++)
        for (int i = N - 1; i >= 0; i--) {
            char name[32];
            snprintf(name, sizeof name, "t%d", i);
            if (i % 2)
                assert_int_equal(fk__report_count2(r, name, "created", i), FK_OK);
            else
                assert_int_equal(fk__report_count(r, name, -i), FK_OK);
        }
    for (int i = 0; i < N; i++) {
        char name[48];
        if (i % 2)
            snprintf(name, sizeof name, "t%d.created", i);
        else
            snprintf(name, sizeof name, "t%d", i);
        assert_true(fk_report_counter(r, name) == (i % 2 ? 3 * i : -3 * i));
    }
    assert_int_equal(fk_report_counter(r, "t1"), 0);
    assert_int_equal(fk_report_counter(r, "t0.created"), 0);

    cJSON *j = parse_report(r, NULL);
    const cJSON *c = get(j, "counters");
    assert_int_equal(cJSON_GetArraySize(c), N);
    int i = N - 1;
    const cJSON *v;
    cJSON_ArrayForEach(v, c)
    {
        char name[48];
        snprintf(name, sizeof name, i % 2 ? "t%d.created" : "t%d", i);
        assert_string_equal(v->string, name);
        assert_true(v->valuedouble == (i % 2 ? 3 * i : -3 * i));
        i--;
    }
    cJSON_Delete(j);

    /* the same name through both entry points is one counter */
    assert_int_equal(fk__report_count(r, "x.y", 1), FK_OK);
    assert_int_equal(fk__report_count2(r, "x", "y", 1), FK_OK);
    assert_int_equal(fk_report_counter(r, "x.y"), 2);
    /* wraps instead of being undefined */
    assert_int_equal(fk__report_count(r, "big", INT64_MAX), FK_OK);
    assert_int_equal(fk__report_count(r, "big", 1), FK_OK);
    assert_true(fk_report_counter(r, "big") == INT64_MIN);
    /* empty names are names too */
    assert_int_equal(fk__report_count(r, "", 4), FK_OK);
    assert_int_equal(fk_report_counter(r, ""), 4);
    fk_report_free(r);
}

static void test_long_strings(void **state)
{
    (void)state;
    size_t n = 100000;
    char *big = malloc(n + 1);
    assert_non_null(big);
    memset(big, 'x', n);
    big[n] = '\0';
    fk_report *r;
    assert_int_equal(fk__report_new(&r, big), FK_OK);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(fk__report_add(r, FK_SEV_INFO, "c", NULL, 0, big, NULL, big, "%s", big),
                         FK_OK);
        assert_int_equal(fk__report_add(r, FK_SEV_INFO, "small", NULL, 0, NULL, NULL, NULL, "s"),
                         FK_OK);
    }
    assert_int_equal(fk__report_count(r, big, 1), FK_OK);
    for (int i = 0; i < 10; i += 2) {
        assert_string_equal(fk_report_item_at(r, (size_t)i)->message, big);
        assert_string_equal(fk_report_item_at(r, (size_t)i)->hint, big);
        assert_string_equal(fk_report_item_at(r, (size_t)i + 1)->message, "s");
    }
    assert_int_equal(fk_report_counter(r, big), 1);
    cJSON *j = parse_report(r, NULL);
    assert_jstr(j, "operation", big);
    cJSON_Delete(j);
    fk_report_free(r);
    free(big);
}

/* Build a report and render it; every failing allocation must surface as
 * FK_ENOMEM, leave the report as it was, and leak nothing (ASan/valgrind). */
static int build_and_render(long fail_at, char **json)
{
    fk_report *r = NULL;
    int rc;
    *json = NULL;
    fk__alloc_fail_at(fail_at);
    if ((rc = fk__report_new(&r, "export")) < 0)
        goto out;
    for (int i = 0; i < 600; i++) {
        size_t before = fk_report_item_count(r);
        rc = fk__report_add(r, i % 3 ? FK_SEV_INFO : FK_SEV_ERROR, "written", "concept_set", i,
                            "concept_sets/x.json", i % 2 ? "[\"a\", {\"b\": 1}]" : NULL, "hint",
                            "message %d \xff", i);
        if (rc < 0) {
            assert_int_equal(fk_report_item_count(r), before);
            goto out;
        }
        char name[32];
        snprintf(name, sizeof name, "c%d", i % 40);
        if ((rc = fk__report_count2(r, "concept_set", name, 1)) < 0)
            goto out;
    }
    fk__report_set_elapsed_ms(r, 3);
    rc = fk_report_json(json, r);
out:
    fk__alloc_fail_at(0);
    fk_report_free(r);
    return rc;
}

static void test_alloc_failures(void **state)
{
    (void)state;
    if (!fkt_alloc_faults_available())
        skip(); /* alloc.c built without FK_ALLOC_FAULTS */
    char *want;
    assert_int_equal(build_and_render(0, &want), FK_OK);
    long k;
    for (k = 1;; k++) {
        char *got;
        int rc = build_and_render(k, &got);
        if (rc == FK_OK) {
            assert_string_equal(got, want);
            fk_free(got);
            break;
        }
        assert_int_equal(rc, FK_ENOMEM);
        assert_null(got);
        assert_true(k < 100000);
    }
    assert_true(k > 10);
    fk_free(want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_null_arguments),
        cmocka_unit_test(test_empty_report),
        cmocka_unit_test(test_exact_json),
        cmocka_unit_test(test_items_field_by_field),
        cmocka_unit_test(test_ok_flag),
        cmocka_unit_test(test_fields_json),
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_many_items),
        cmocka_unit_test(test_many_counters),
        cmocka_unit_test(test_long_strings),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
