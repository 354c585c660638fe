/* Quoting text into SQL, in one place (like PostgreSQL's
 * fe_utils/string_utils.h: fmtId, appendStringLiteral). Every name or value
 * the library pastes into SQL text goes through one of these; values that
 * can be sent as parameters are sent as parameters instead. */
#ifndef FK_UTIL_SQL_QUOTE_H
#define FK_UTIL_SQL_QUOTE_H
#include "buf.h"
#include <stddef.h>

/* Identifier quoting with doubled quotes: "a""b"; NULL on OOM. */
char *fk__quote_ident(const char *name);

/* dst = name quoted as fk__quote_ident does, cut to cap; -1 when out of
 * memory. */
int fk__copy_quoted(char *dst, size_t cap, const char *name);

/* "schema"."name", each part quoted as fk__quote_ident does; NULL on OOM. */
char *fk__quote_qualified(const char *schema, const char *name);

/* Appends s as a standard-conforming SQL string literal: 'it''s'. */
void fk__sql_put_literal(fk__buf *b, const char *s);

/* Appends a text-array literal of n elements, {"a","b\"c"}: each element
 * double-quoted with '"' and '\\' backslash-escaped, so commas, braces,
 * spaces or the word NULL stay plain text. get(ud, i) returns element i.
 * Meant to be sent as a parameter (or pasted through fk__sql_put_literal). */
void fk__sql_put_text_array(fk__buf *b, size_t n, const char *(*get)(const void *ud, size_t i),
                            const void *ud);

#endif
