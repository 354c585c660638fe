/* The guards' SQL: the static functions and one pair of triggers per
 * registered table (guard_sql.h). */
#include "guard_sql.h"

#include <stdio.h>

#include "sql_files.h"
#include "sql_template.h"
#include "sql_names.h"

void fk__guard_sql(fk__buf *b, const fk__registry *reg, const char *S, const char *A, int guards,
                   int capture)
{
    fk__sql_emit(b, fk__sql_guard, S, A);
    char del[300], trunc[300];
    snprintf(del, sizeof del, "%s.guard_delete", S);
    snprintf(trunc, sizeof trunc, "%s.guard_truncate", S);
    const char *mode = capture ? "capture" : "app";
    for (size_t i = 0; i < reg->ntypes; i++) {
        const fk__etype *e = &reg->types[i];
        const char *pk = e->t.cols[e->t.pk].name;
        const char *namec = e->t.cols[e->name_col].name;
        if (guards) {
            const char *ga[] = {pk};
            fk__sql_create_trigger(b, FK__TRG_GUARD_DELETE, "BEFORE DELETE", e->t.quoted,
                                   "FOR EACH ROW", del, ga, 1);
            const char *ta[] = {e->name, mode, pk, namec};
            fk__sql_create_trigger(b, FK__TRG_GUARD_TRUNCATE, "BEFORE TRUNCATE", e->t.quoted,
                                   "FOR EACH STATEMENT", trunc, ta, 4);
        } else {
            fk__sql_drop_trigger(b, FK__TRG_GUARD_DELETE, e->t.quoted);
            fk__sql_drop_trigger(b, FK__TRG_GUARD_TRUNCATE, e->t.quoted);
        }
        for (size_t c = 0; c < e->nchildren; c++) {
            const fk__child *ch = &e->children[c];
            if (guards) {
                /* children are edited freely (an item removed from a set);
                 * only their wholesale truncation is guarded */
                const char *ta[] = {e->name, "app", "", ""};
                fk__sql_create_trigger(b, FK__TRG_GUARD_TRUNCATE, "BEFORE TRUNCATE", ch->t.quoted,
                                       "FOR EACH STATEMENT", trunc, ta, 4);
            } else {
                fk__sql_drop_trigger(b, FK__TRG_GUARD_TRUNCATE, ch->t.quoted);
            }
        }
    }
}
