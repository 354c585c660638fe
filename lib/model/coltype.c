/* The table of column kinds (coltype.h).
 *
 * The export writers and import checks live here, in model, rather than in
 * fixtures: a kind *is* its JSON form (the catalog type only selects it), so
 * splitting the row across modules would bring back the parallel arrays this
 * table replaced. They need only the JSON module, which sits below model. */
#include "coltype.h"

#include <string.h>

#include "registry.h"

/* ---------------------------------------------------------- export writers */

static int put_string(fk__buf *b, const fk__column *c, const char *v, size_t n,
                      fk__json_style style, int level, fk__json_error *err)
{
    return fk__json_put_string(b, v, n);
}

static int put_integer(fk__buf *b, const fk__column *c, const char *v, size_t n,
                       fk__json_style style, int level, fk__json_error *err)
{
    return fk__buf_put(b, v, n);
}

/* A number the JSON grammar cannot hold (NaN, Infinity) stays the server's
 * text, as a string, which the column's input reads back. */
static int put_number_or_string(fk__buf *b, const char *v, size_t n, fk__json_style style)
{
    if (fk__json_put_number(b, v, n, style) == 0)
        return 0;
    return fk__json_put_string(b, v, n);
}

/* The column's type fixes the scale (0.03 restores 0.0300), except for a
 * numeric without one: there 1.10 and 1.1 differ, and the jsonb rule (keep
 * the scale) applies. */
static int put_numeric(fk__buf *b, const fk__column *c, const char *v, size_t n,
                       fk__json_style style, int level, fk__json_error *err)
{
    if (style == FK__JSON_STYLE_PHP && strcmp(c->type_sql, "numeric") != 0)
        style = FK__JSON_STYLE_PHP_VALUE;
    return put_number_or_string(b, v, n, style);
}

/* A float's negative zero as the server prints it ("-0"): jsonb numbers are
 * numeric, which has no negative zero, so as a JSON number it would come
 * back as 0. */
static int is_negative_zero(const char *v, size_t n)
{
    return n == 2 && v[0] == '-' && v[1] == '0';
}

static int put_float(fk__buf *b, const fk__column *c, const char *v, size_t n,
                     fk__json_style style, int level, fk__json_error *err)
{
    if (is_negative_zero(v, n))
        return fk__json_put_string(b, v, n);
    return put_number_or_string(b, v, n,
                                style == FK__JSON_STYLE_PHP ? FK__JSON_STYLE_PHP_VALUE : style);
}

static int put_bool(fk__buf *b, const fk__column *c, const char *v, size_t n,
                    fk__json_style style, int level, fk__json_error *err)
{
    return fk__buf_puts(b, v[0] == 't' ? "true" : "false");
}

static int put_json(fk__buf *b, const fk__column *c, const char *v, size_t n,
                    fk__json_style style, int level, fk__json_error *err)
{
    return fk__json_pretty(b, v, n, level, style, err);
}

static int is_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

/* PostgreSQL ISO output "2026-03-15 02:58:11[.fff][+00]" becomes Carbon's
 * JSON form "2026-03-15T02:58:11.000000Z". Anything else (infinity, BC
 * dates, 5-digit years) stays the server's text, as a string. */
static int put_timestamp(fk__buf *b, const fk__column *c, const char *v, size_t n,
                         fk__json_style style, int level, fk__json_error *err)
{
    size_t frac = 0, end = n;
    if (end >= 3 && v[end - 3] == '+' && v[end - 2] == '0' && v[end - 1] == '0')
        end -= 3;
    if (end >= 20 && v[19] == '.')
        frac = end - 20;
    int ok = (end == 19 || (frac >= 1 && frac <= 6 && is_digits(v + 20, frac))) &&
             is_digits(v, 4) && v[4] == '-' && is_digits(v + 5, 2) && v[7] == '-' &&
             is_digits(v + 8, 2) && v[10] == ' ' && is_digits(v + 11, 2) && v[13] == ':' &&
             is_digits(v + 14, 2) && v[16] == ':' && is_digits(v + 17, 2);
    if (!ok)
        return fk__json_put_string(b, v, n);
    fk__buf_putc(b, '"');
    fk__buf_put(b, v, 10);
    fk__buf_putc(b, 'T');
    fk__buf_put(b, v + 11, 8);
    fk__buf_putc(b, '.');
    fk__buf_put(b, frac ? v + 20 : "", frac);
    fk__buf_put(b, "000000", 6 - frac);
    fk__buf_puts(b, "Z\"");
    return fk__buf_failed(b) ? -1 : 0;
}

/* ------------------------------------------------------------ import checks */

static const char *check_text(const fk__jmember *m)
{
    if (m->type == FK__JT_ARRAY || m->type == FK__JT_OBJECT)
        return "must be a string, not an array or object";
    return NULL;
}

/* any integer literal: the column's type decides the range */
static const char *check_integer(const fk__jmember *m)
{
    if ((m->type == FK__JT_NUMBER && fk__json_int64(m->val, m->val_len, &(int64_t){0}) != -1) ||
        m->type == FK__JT_STRING)
        return NULL;
    return "must be an integer";
}

static const char *check_number(const fk__jmember *m)
{
    if (m->type == FK__JT_NUMBER || m->type == FK__JT_STRING)
        return NULL;
    return "must be a number";
}

static const char *check_bool(const fk__jmember *m)
{
    if (m->type == FK__JT_TRUE || m->type == FK__JT_FALSE)
        return NULL;
    return "must be true or false";
}

/* json: its text as a string, or (written before) the value */
static const char *check_any(const fk__jmember *m)
{
    return NULL;
}

static const char *check_datetime(const fk__jmember *m)
{
    if (m->type == FK__JT_STRING)
        return NULL;
    return "must be a date/time string";
}

/* ----------------------------------------------------------------- the table */

#define ANY_JSON                                                                                \
    (FK__JT_BIT(FK__JT_FALSE) | FK__JT_BIT(FK__JT_TRUE) | FK__JT_BIT(FK__JT_NUMBER) |           \
     FK__JT_BIT(FK__JT_STRING) | FK__JT_BIT(FK__JT_ARRAY) | FK__JT_BIT(FK__JT_OBJECT))

static const fk__coltype coltypes[] = {
    [FK__COL_STRING] = {"string", {{0, NULL}}, put_string, check_text,
                        FK__JT_BIT(FK__JT_STRING), FK__RESTORE_TEXT},
    [FK__COL_INT] = {"integer", {{20, "int8"}, {21, "int2"}, {23, "int4"}, {26, "oid"}},
                     put_integer, check_integer, FK__JT_BIT(FK__JT_NUMBER), FK__RESTORE_TEXT},
    [FK__COL_NUMERIC] = {"numeric", {{1700, "numeric"}}, put_numeric, check_number,
                         FK__JT_BIT(FK__JT_NUMBER), FK__RESTORE_TEXT},
    [FK__COL_FLOAT] = {"float", {{700, "float4"}, {701, "float8"}}, put_float, check_number,
                       FK__JT_BIT(FK__JT_NUMBER) | FK__JT_BIT(FK__JT_STRING) /* NaN, -0 */,
                       FK__RESTORE_TEXT},
    [FK__COL_BOOL] = {"boolean", {{16, "bool"}}, put_bool, check_bool,
                      FK__JT_BIT(FK__JT_TRUE) | FK__JT_BIT(FK__JT_FALSE), FK__RESTORE_TEXT},
    [FK__COL_JSON] = {"json", {{3802, "jsonb"}}, put_json, check_any, ANY_JSON,
                      FK__RESTORE_JSONB},
    [FK__COL_TIMESTAMP] = {"timestamp", {{1114, "timestamp"}, {1184, "timestamptz"}},
                           put_timestamp, check_datetime, FK__JT_BIT(FK__JT_STRING),
                           FK__RESTORE_TEXT},
    [FK__COL_DATE] = {"date", {{1082, "date"}}, put_string, check_datetime,
                      FK__JT_BIT(FK__JT_STRING), FK__RESTORE_TEXT},
    [FK__COL_JSONTEXT] = {"json_text", {{114, "json"}}, put_string, check_any, ANY_JSON,
                          FK__RESTORE_JSON_TEXT},
};

/* One row per kind: a kind added to the enum without its row fails here. */
_Static_assert(sizeof coltypes / sizeof *coltypes == FK__COL_NKINDS,
               "coltypes[] needs exactly one row per fk__colkind");

const fk__coltype *fk__coltype_of(fk__colkind k)
{
    return &coltypes[k];
}

fk__colkind fk__coltype_kind_of_oid(unsigned oid)
{
    for (size_t k = 0; k < FK__COL_NKINDS; k++)
        for (size_t i = 0; i < sizeof coltypes[k].types / sizeof coltypes[k].types[0]; i++)
            if (coltypes[k].types[i].typname && coltypes[k].types[i].oid == oid)
                return (fk__colkind)k;
    return FK__COL_STRING;
}
