/* Filling in the SQL templates of lib/sql/ and writing the per-table
 * trigger statements the generated part of an install is made of. */
#include "sql_template.h"

#include <string.h>

#include "sql_files.h"
#include "sql_quote.h"

/* Replaces every FK__SQL_SCHEMA with the schema and FK__SQL_AUDIT with the
 * audit table (both quoted by the caller). */
void fk__sql_emit(fk__buf *b, const char *tmpl, const char *S, const char *A)
{
    const size_t ls = strlen(FK__SQL_SCHEMA), la = strlen(FK__SQL_AUDIT);
    for (const char *p = tmpl; *p; p++) {
        if (strncmp(p, FK__SQL_SCHEMA, ls) == 0) {
            fk__buf_puts(b, S);
            p += ls - 1;
        } else if (strncmp(p, FK__SQL_AUDIT, la) == 0) {
            fk__buf_puts(b, A);
            p += la - 1;
        } else {
            fk__buf_putc(b, *p);
        }
    }
}

void fk__sql_create_trigger(fk__buf *b, const char *name, const char *when, const char *table,
                    const char *level, const char *fn, const char *const *args, size_t nargs)
{
    fk__buf_printf(b, "CREATE OR REPLACE TRIGGER \"%s\" %s ON %s %s EXECUTE FUNCTION %s(", name,
                   when, table, level, fn);
    for (size_t i = 0; i < nargs; i++) {
        if (i)
            fk__buf_puts(b, ", ");
        fk__sql_put_literal(b, args[i]);
    }
    fk__buf_puts(b, ");\n");
    /* CREATE makes it fire only in session_replication_role origin/local:
     * ALWAYS, so that no session setting (replica: pg_restore
     * --disable-triggers, sync tools) switches it off */
    fk__buf_printf(b, "ALTER TABLE %s ENABLE ALWAYS TRIGGER \"%s\";\n", table, name);
}

/* PostgreSQL evaluates the WHEN in C: an UPDATE that keeps the key (nearly
 * every one) calls no function at all. AFTER, because an AFTER trigger's
 * WHEN sees the row as stored, after every BEFORE trigger, whatever its
 * name; a BEFORE trigger's sees NEW as the triggers sorting before it left
 * it, and one of the application sorting after could still change the key.
 * The WHEN names the column, so PostgreSQL refuses to retype or drop it
 * while the trigger exists (docs/recovery.md, the DDL guard). */
void fk__sql_create_key_trigger(fk__buf *b, const char *name, const char *table,
                                const char *key_q, const char *fn, const char *const *args,
                                size_t nargs)
{
    fk__buf level = FK__BUF_INIT;
    fk__buf_printf(&level, "FOR EACH ROW WHEN (OLD.%s IS DISTINCT FROM NEW.%s)", key_q, key_q);
    const char *l = fk__buf_cstr(&level);
    if (l)
        fk__sql_create_trigger(b, name, "AFTER UPDATE", table, l, fn, args, nargs);
    else
        b->failed = 1;
    fk__buf_dispose(&level);
}

void fk__sql_drop_trigger(fk__buf *b, const char *name, const char *table)
{
    fk__buf_printf(b, "DROP TRIGGER IF EXISTS \"%s\" ON %s;\n", name, table);
}

