/* The table of column kinds (lib/model/coltype.c) is complete and says the
 * truth about the catalog: every kind has its row, every OID it lists is the
 * type it names on a real server, and each OID leads back to its kind. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coltype.h"
#include "fkt.h"

#define NTYPES(row) (sizeof (row)->types / sizeof (row)->types[0])

static fkt_pg *pg;

static void every_kind_has_a_complete_row(void **state)
{
    (void)state;
    for (int k = 0; k < FK__COL_NKINDS; k++) {
        const fk__coltype *t = fk__coltype_of((fk__colkind)k);
        if (!t->name || !t->put || !t->check || !t->writes)
            fail_msg("kind %d: incomplete row", k);
        for (int j = 0; j < k; j++)
            if (strcmp(t->name, fk__coltype_of((fk__colkind)j)->name) == 0)
                fail_msg("kinds %d and %d are both \"%s\"", j, k, t->name);
        for (size_t i = 0; i < NTYPES(t) && t->types[i].typname; i++)
            assert_int_equal(fk__coltype_kind_of_oid(t->types[i].oid), k);
    }
    /* a type no row lists (text) is a string */
    assert_int_equal(fk__coltype_kind_of_oid(25), FK__COL_STRING);
}

static void oids_name_the_types_on_the_server(void **state)
{
    (void)state;
    char *db = fkt_pg_new_db(pg, NULL);
    assert_non_null(db);
    for (int k = 0; k < FK__COL_NKINDS; k++) {
        const fk__coltype *t = fk__coltype_of((fk__colkind)k);
        for (size_t i = 0; i < NTYPES(t) && t->types[i].typname; i++) {
            char sql[128];
            snprintf(sql, sizeof sql, "SELECT typname FROM pg_type WHERE oid = %u",
                     t->types[i].oid);
            char *name = fkt_pg_query1(db, sql);
            if (!name || strcmp(name, t->types[i].typname) != 0)
                fail_msg("%s: OID %u is %s on the server, not %s", t->name, t->types[i].oid,
                         name ? name : "(none)", t->types[i].typname);
            free(name);
        }
    }
    free(db);
}

int main(void)
{
    pg = fkt_pg_start_or_exit();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_kind_has_a_complete_row),
        cmocka_unit_test(oids_name_the_types_on_the_server),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    fkt_pg_stop(pg);
    return rc;
}
