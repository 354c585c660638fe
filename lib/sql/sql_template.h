/* The SQL templates' placeholders filled in, and CREATE/DROP TRIGGER
 * statements: what guard, audit and install generate from the registry. */
#ifndef FK_SQL_TEMPLATE_H
#define FK_SQL_TEMPLATE_H

#include <stddef.h>

#include "buf.h"

/* Appends tmpl (one of sql_files.h's) with every FK__SQL_SCHEMA replaced by
 * S and FK__SQL_AUDIT by A, both already quoted. */
void fk__sql_emit(fk__buf *b, const char *tmpl, const char *S, const char *A);

/* CREATE OR REPLACE TRIGGER "name" when ON table level EXECUTE FUNCTION
 * fn(args...), then ALTER TABLE ... ENABLE ALWAYS TRIGGER (it fires in every
 * session_replication_role): table and fn already quoted, args written as
 * literals. */
void fk__sql_create_trigger(fk__buf *b, const char *name, const char *when, const char *table,
                            const char *level, const char *fn, const char *const *args,
                            size_t nargs);

/* The trigger that refuses a change of a row's key (key_q, quoted): AFTER
 * UPDATE FOR EACH ROW WHEN (OLD.key IS DISTINCT FROM NEW.key), then as
 * fk__sql_create_trigger. */
void fk__sql_create_key_trigger(fk__buf *b, const char *name, const char *table,
                                const char *key_q, const char *fn, const char *const *args,
                                size_t nargs);

/* DROP TRIGGER IF EXISTS "name" ON table (table already quoted). */
void fk__sql_drop_trigger(fk__buf *b, const char *name, const char *table);

#endif
