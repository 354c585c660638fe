/* The guards' SQL: the static functions and one pair of triggers per
 * registered table (guard_sql.h). */
#include "guard_sql.h"

#include <stdio.h>

#include "sql_files.h"
#include "sql_template.h"
#include "sql_names.h"
#include "sql_quote.h"

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
        const char *ga[] = {e->t.cols[e->t.pk].name};
        if (guards) {
            /* OR REPLACE: an earlier install's guard fired on UPDATE too */
            fk__sql_create_trigger(b, FK__TRG_GUARD_DELETE, "BEFORE DELETE", e->t.quoted,
                                   "FOR EACH ROW", del, ga, 1);
            /* a new id removes the entity the old one named */
            fk__sql_create_key_trigger(b, FK__TRG_GUARD_KEY, e->t.quoted,
                                       e->t.cols[e->t.pk].quoted, del, ga, 1);
        } else {
            fk__sql_drop_trigger(b, FK__TRG_GUARD_DELETE, e->t.quoted);
            fk__sql_drop_trigger(b, FK__TRG_GUARD_KEY, e->t.quoted);
        }
        /* children are edited freely (an item removed from a set); only their
         * wholesale truncation is guarded, and in capture mode recorded per
         * parent */
        for (int c = -1; c < (int)e->nchildren; c++) {
            const char *table = c < 0 ? e->t.quoted : e->children[c].t.quoted;
            const char *ta[2 + FK__CAPTURE_NARGS] = {e->name, mode};
            fk__capture_args(e, c, ta + 2);
            if (guards)
                fk__sql_create_trigger(b, FK__TRG_GUARD_TRUNCATE, "BEFORE TRUNCATE", table,
                                       "FOR EACH STATEMENT", trunc, ta,
                                       2 + FK__CAPTURE_NARGS);
            else
                fk__sql_drop_trigger(b, FK__TRG_GUARD_TRUNCATE, table);
        }
    }
}

/* One row of protected: the table's columns of today are the ones guarded. */
static void protect(fk__buf *b, const char *S, const char *kind, const char *table_q,
                    const char *label)
{
    fk__buf_printf(b, "INSERT INTO %s.protected (kind, relid, label, cols) SELECT '%s', a.attrelid, ",
                   S, kind);
    fk__sql_put_literal(b, label);
    fk__buf_puts(b, ", coalesce(array_agg(a.attnum ORDER BY a.attnum), '{}') FROM pg_attribute a "
                    "WHERE a.attrelid = ");
    fk__sql_put_literal(b, table_q);
    fk__buf_puts(b, "::regclass AND a.attnum > 0 AND NOT a.attisdropped GROUP BY a.attrelid;\n");
}

void fk__guard_sql_ddl(fk__buf *b, const fk__registry *reg, const char *S, const char *A)
{
    fk__sql_emit(b, fk__sql_ddl_guard, S, A);
    fk__buf_printf(b, "DELETE FROM %s.protected;\n", S);
    for (size_t i = 0; i < reg->ntypes; i++) {
        const fk__etype *e = &reg->types[i];
        if (!e->t.missing)
            protect(b, S, "entity", e->t.quoted, e->name);
        for (size_t c = 0; c < e->nchildren; c++)
            if (!e->children[c].t.missing)
                protect(b, S, "child", e->children[c].t.quoted, e->name);
    }
    const char *lib[] = {"audit_head", "write_lock", "meta", "protected", "pending"};
    protect(b, S, "library", A, "audit log");
    for (size_t i = 0; i < sizeof lib / sizeof lib[0]; i++) {
        char t[300];
        snprintf(t, sizeof t, "%s.%s", S, lib[i]);
        protect(b, S, "library", t, lib[i]);
    }
    fk__buf_printf(b, "INSERT INTO %s.protected (kind, relid, label) VALUES ('functions', ", S);
    fk__sql_put_literal(b, S);
    fk__buf_printf(b, "::regnamespace, 'functions');\n"
                      "UPDATE %s.protected SET state = %s.ddl_state(kind, relid, cols);\n",
                   S, S);
}
