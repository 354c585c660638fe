/* The child-row buckets of incremental export's state (lib/fixtures/
 * xbuckets.h): written text, read back, and the buckets that lost a row
 * -- the only trace a deleted child row leaves. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "alloc.h"
#include "xbuckets.h"

/* parents given as (fk, old, fresh) triples */
static void fill(fk__xparents *p, const int64_t (*rows)[3], size_t n)
{
    *p = (fk__xparents){0};
    for (size_t i = 0; i < n; i++)
        assert_int_equal(fk__xparents_push(p, rows[i][0], rows[i][1], rows[i][2]), 0);
}

static void written_text(void **state)
{
    (void)state;
    static const struct {
        const char *what;
        int64_t rows[6][3];
        size_t n, budget;
        const char *text;
    } cases[] = {
        {"none", {{0}}, 0, 100, ":0"},
        {"one per parent, equal steps in a run", {{1001, 3, 0}, {1002, 3, 0}, {1003, 3, 0}}, 3,
         100, ":0_1001.3_1.3x2"},
        {"new rows count too", {{5, 1, 1}, {6, 0, 2}, {9, 2, 0}}, 3, 100, ":0_5.2_1.2_3.2"},
        {"negative ids: floor buckets", {{-3, 1, 0}, {-1, 1, 0}, {2, 1, 0}}, 3, 100,
         ":0_-3.1_2.1_3.1"},
        {"too long: a coarser shift", {{1, 1, 0}, {2, 2, 0}, {3, 3, 0}, {4, 4, 0}}, 4, 12,
         ":2_0.6_1.4"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        print_message("# %s\n", cases[i].what);
        fk__xparents p;
        fill(&p, cases[i].rows, cases[i].n);
        fk__buf out = FK__BUF_INIT;
        assert_int_equal(fk__xbuckets_write(&out, &p, cases[i].budget), 0);
        assert_string_equal(fk__buf_cstr(&out), cases[i].text);
        fk__buf_dispose(&out);
        fk__xparents_dispose(&p);
    }
}

/* Against the text of the last export, which buckets lost a row. */
static void lost_buckets(void **state)
{
    (void)state;
    static const struct {
        const char *what, *text;
        int64_t rows[4][3];
        size_t n;
        int rc;
        size_t nlost;
        int64_t lost[3];
    } cases[] = {
        {"the same rows", ":0_1001.3_1.3x2;", {{1001, 3, 0}, {1002, 3, 0}, {1003, 3, 0}}, 3, 0, 0,
         {0}},
        {"a row deleted (nothing new)", ":0_1001.3_1.3x2", {{1001, 3, 0}, {1002, 2, 0}, {1003, 3, 0}},
         3, 0, 1, {1002}},
        {"a row updated: its old version went, the new one is new", ":0_1001.3_1.3x2",
         {{1001, 3, 0}, {1002, 2, 1}, {1003, 3, 0}}, 3, 0, 1, {1002}},
        {"new rows only: no bucket lost one", ":0_1001.3_1.3x2",
         {{1001, 3, 2}, {1002, 3, 0}, {1003, 3, 0}, {1004, 0, 5}}, 4, 0, 0, {0}},
        {"every row of a parent deleted", ":0_1001.3_1.3x2", {{1001, 3, 0}, {1003, 3, 0}}, 2, 0, 1,
         {1002}},
        {"more old rows than recorded (not ours)", ":0_1001.3", {{1001, 4, 0}}, 1, 0, 1, {1001}},
        {"an old row where none was recorded", ":0_1001.3", {{1001, 3, 0}, {1009, 1, 0}}, 2, 0, 1,
         {1009}},
        {"shift 2: the bucket of the parent", ":2_0.6_1.4", {{1, 1, 0}, {2, 2, 0}, {3, 2, 0},
         {4, 4, 0}}, 4, 0, 1, {0}},
        {"malformed: no shift", "_1.1", {{1, 1, 0}}, 1, -1, 0, {0}},
        {"malformed: descending", ":0_5.1_-2.1", {{1, 1, 0}}, 1, -1, 0, {0}},
        {"malformed: a negative first step repeated", ":0_-5.1x3", {{1, 1, 0}}, 1, -1, 0, {0}},
        {"malformed: a count of 0", ":0_5.0", {{5, 0, 0}}, 1, -1, 0, {0}},
        {"malformed: junk", ":0_5.1y", {{5, 1, 0}}, 1, -1, 0, {0}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        print_message("# %s\n", cases[i].what);
        fk__xparents p;
        fill(&p, cases[i].rows, cases[i].n);
        const char *text = cases[i].text;
        int shift;
        int64_t *lost = NULL;
        size_t nlost = 0;
        assert_int_equal(fk__xbuckets_lost(&text, &p, &shift, &lost, &nlost), cases[i].rc);
        assert_int_equal(nlost, cases[i].nlost);
        for (size_t k = 0; k < nlost; k++)
            assert_int_equal(lost[k], cases[i].lost[k]);
        fk__xfree(lost);
        fk__xparents_dispose(&p);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(written_text),
        cmocka_unit_test(lost_buckets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
