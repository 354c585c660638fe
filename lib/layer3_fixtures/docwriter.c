#include "docwriter.h"

#include <stdio.h>
#include <string.h>

static const char spaces[] = "                                                ";

static void indent(fk__buf *b, int level)
{
    fk__buf_put(b, spaces, (size_t)level * 4 <= sizeof spaces - 1 ? (size_t)level * 4 : 0);
}

int fk__docw_select_list(fk__buf *sql, const fk__table *t, const char *alias)
{
    for (size_t i = 0; i < t->ncols; i++) {
        const fk__column *c = &t->cols[i];
        if (i)
            fk__buf_puts(sql, ", ");
        if (c->secret)
            fk__buf_printf(sql, "NULL::text AS %s", c->quoted);
        else
            fk__buf_printf(sql, "%s.%s", alias, c->quoted);
    }
    return fk__buf_failed(sql) ? -1 : 0;
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
static int put_timestamp(fk__buf *b, const char *v, size_t n)
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

/* A float's negative zero as the server prints it ("-0"): jsonb numbers are
 * numeric, which has no negative zero, so as a JSON number it would come
 * back as 0. */
static int is_negative_zero(const char *v, size_t n)
{
    return n == 2 && v[0] == '-' && v[1] == '0';
}

static int put_value(fk__docw *w, const fk__column *c, const PGresult *res, int row, int col,
                     int level)
{
    fk__buf *b = w->b;
    if (PQgetisnull(res, row, col))
        return fk__buf_puts(b, "null");
    const char *v = PQgetvalue(res, row, col);
    size_t n = (size_t)PQgetlength(res, row, col);
    fk__json_style st = w->fmt == FK_FORMAT_CANONICAL ? FK__JSON_STYLE_CANONICAL
                                                      : FK__JSON_STYLE_PHP;
    switch (c->kind) {
    case FK__COL_INT:
        return fk__buf_put(b, v, n);
    case FK__COL_NUMERIC:
    case FK__COL_FLOAT:
        /* The column's type fixes the scale (0.03 restores 0.0300), except
         * for a numeric without one: there 1.10 and 1.1 differ, and the jsonb
         * rule (keep the scale) applies. */
        if (st == FK__JSON_STYLE_PHP &&
            (c->kind == FK__COL_FLOAT || strcmp(c->type_sql, "numeric") != 0))
            st = FK__JSON_STYLE_PHP_VALUE;
        /* NaN and Infinity are not JSON numbers, and -0 would not survive
         * jsonb: keep them as strings, which the column's input reads back */
        if (!(c->kind == FK__COL_FLOAT && is_negative_zero(v, n)) &&
            fk__json_put_number(b, v, n, st) == 0)
            return 0;
        return fk__json_put_string(b, v, n);
    case FK__COL_BOOL:
        return fk__buf_puts(b, v[0] == 't' ? "true" : "false");
    case FK__COL_JSON:
        return fk__json_pretty(b, v, n, level, st, &w->err);
    case FK__COL_TIMESTAMP:
        return put_timestamp(b, v, n);
    default:
        return fk__json_put_string(b, v, n);
    }
}

/* A json value that is JSON null, as the server prints it (json keeps the
 * input's spaces). */
static int is_json_null(const char *v, size_t n)
{
    while (n && (*v == ' ' || *v == '\t' || *v == '\n' || *v == '\r'))
        v++, n--;
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\n' || v[n - 1] == '\r'))
        n--;
    return n == 4 && memcmp(v, "null", 4) == 0;
}

/* Appends the path of column col of this row to w->json_null (the list
 * stays open until fk__docw_end() closes it). */
static int note_json_null(fk__docw *w, const fk__table *t, const PGresult *res, int row,
                          size_t col)
{
    fk__buf *b = w->json_null, path = FK__BUF_INIT;
    fk__buf_puts(b, b->len ? ", " : "[");
    if (w->child)
        fk__buf_printf(&path, "%s/%s/", w->child->key,
                       PQgetisnull(res, row, t->pk) ? "" : PQgetvalue(res, row, t->pk));
    fk__buf_puts(&path, t->cols[col].name);
    size_t at = b->len;
    int rc = fk__buf_failed(&path) ? -1 : fk__json_put_string(b, path.data, path.len);
    fk__buf_dispose(&path);
    if (rc != 0 || fk__buf_failed(b))
        return -1;
    /* '/' unescaped, as in the manifest's paths: "items/12/x" stays greppable */
    size_t o = at;
    for (size_t i = at; i < b->len; i++) {
        if (b->data[i] == '\\' && i + 1 < b->len && b->data[i + 1] != '/')
            b->data[o++] = b->data[i++];
        else if (b->data[i] == '\\')
            continue;
        b->data[o++] = b->data[i];
    }
    b->len = o;
    b->data[o] = '\0';
    return 0;
}

static int put_members(fk__docw *w, const fk__table *t, const PGresult *res, int row, int level)
{
    for (size_t i = 0; i < t->ncols; i++) {
        fk__buf_puts(w->b, i ? ",\n" : "\n");
        indent(w->b, level);
        fk__json_put_string(w->b, t->cols[i].name, strlen(t->cols[i].name));
        fk__buf_puts(w->b, ": ");
        if (w->json_null && t->cols[i].kind == FK__COL_JSON && !PQgetisnull(res, row, (int)i) &&
            is_json_null(PQgetvalue(res, row, (int)i), (size_t)PQgetlength(res, row, (int)i)) &&
            note_json_null(w, t, res, row, i) != 0) {
            w->err_col = t->cols[i].name;
            snprintf(w->err.msg, sizeof w->err.msg, "out of memory");
            return -1;
        }
        if (put_value(w, &t->cols[i], res, row, (int)i, level) != 0) {
            w->err_col = t->cols[i].name;
            if (fk__buf_failed(w->b))
                snprintf(w->err.msg, sizeof w->err.msg, "out of memory");
            else if (!w->err.msg[0])
                snprintf(w->err.msg, sizeof w->err.msg, "value is not valid UTF-8 or JSON");
            return -1;
        }
    }
    return fk__buf_failed(w->b) ? -1 : 0;
}

void fk__docw_init(fk__docw *w, fk__buf *b, fk_format fmt)
{
    memset(w, 0, sizeof *w);
    w->b = b;
    w->fmt = fmt;
}

int fk__docw_begin(fk__docw *w, const fk__table *t, const PGresult *res, int row)
{
    fk__buf_putc(w->b, '{');
    return put_members(w, t, res, row, 1);
}

static void child_key(fk__docw *w)
{
    fk__buf_puts(w->b, ",\n");
    indent(w->b, 1);
    fk__json_put_string(w->b, w->child->key, strlen(w->child->key));
    fk__buf_puts(w->b, ": [");
}

int fk__docw_child_begin(fk__docw *w, const fk__child *c)
{
    w->child = c;
    w->child_rows = 0;
    if (!c->omit_when_empty) /* otherwise the key waits for the first row */
        child_key(w);
    return fk__buf_failed(w->b) ? -1 : 0;
}

int fk__docw_child_row(fk__docw *w, const PGresult *res, int row)
{
    if (w->child_rows == 0 && w->child->omit_when_empty)
        child_key(w);
    fk__buf_puts(w->b, w->child_rows ? ",\n" : "\n");
    indent(w->b, 2);
    fk__buf_putc(w->b, '{');
    if (put_members(w, &w->child->t, res, row, 3) != 0)
        return -1;
    fk__buf_putc(w->b, '\n');
    indent(w->b, 2);
    fk__buf_putc(w->b, '}');
    w->child_rows++;
    return fk__buf_failed(w->b) ? -1 : 0;
}

int fk__docw_child_end(fk__docw *w)
{
    if (w->child_rows) {
        fk__buf_putc(w->b, '\n');
        indent(w->b, 1);
        fk__buf_putc(w->b, ']');
    } else if (!w->child->omit_when_empty) {
        fk__buf_putc(w->b, ']'); /* PHP: "items": [] */
    }
    w->child = NULL;
    return fk__buf_failed(w->b) ? -1 : 0;
}

int fk__docw_end(fk__docw *w)
{
    if (w->json_null && w->json_null->len)
        fk__buf_putc(w->json_null, ']');
    fk__buf_puts(w->b, w->fmt == FK_FORMAT_CANONICAL ? "\n}\n" : "\n}");
    return fk__buf_failed(w->b) ? -1 : 0;
}
