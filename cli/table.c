/* Short aligned tables for human output. Widths count UTF-8 code points
 * (entity names are often not ASCII), numbers are right-aligned. */
#include "cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct cli_table {
    size_t ncols, nrows, cap;
    char **cells; /* nrows * ncols */
};

cli_table *table_new(size_t ncols)
{
    cli_table *t = calloc(1, sizeof *t);
    if (t)
        t->ncols = ncols;
    return t;
}

void table_row(cli_table *t, const char *const *cells)
{
    if (!t)
        return;
    if (t->nrows == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        char **grown = realloc(t->cells, cap * t->ncols * sizeof *grown);
        if (!grown)
            return;
        t->cells = grown;
        t->cap = cap;
    }
    for (size_t j = 0; j < t->ncols; j++)
        t->cells[t->nrows * t->ncols + j] = strdup(cells[j] ? cells[j] : "");
    t->nrows++;
}

void table_rowv(cli_table *t, ...)
{
    const char *cells[16];
    va_list ap;
    va_start(ap, t);
    for (size_t j = 0; t && j < t->ncols && j < 16; j++)
        cells[j] = va_arg(ap, const char *);
    va_end(ap);
    table_row(t, cells);
}

size_t table_rows(const cli_table *t) { return t ? t->nrows : 0; }

static size_t width(const char *s)
{
    size_t n = 0;
    for (; s && *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

static int numeric(const char *s)
{
    int digits = 0;
    for (; s && *s; s++) {
        if (*s >= '0' && *s <= '9')
            digits++;
        else if (*s != '-' && *s != '.')
            return 0;
    }
    return digits > 0;
}

void table_print(const cli_table *t, FILE *f, const char *indent)
{
    if (!t || !t->nrows)
        return;
    size_t w[16] = {0};
    int right[16];
    size_t nc = t->ncols < 16 ? t->ncols : 16;
    for (size_t j = 0; j < nc; j++) {
        right[j] = t->nrows > 1;
        for (size_t i = 0; i < t->nrows; i++) {
            const char *s = t->cells[i * t->ncols + j];
            if (width(s) > w[j])
                w[j] = width(s);
            if (i > 0 && !numeric(s))
                right[j] = 0;
        }
    }
    for (size_t i = 0; i < t->nrows; i++) {
        fputs(indent ? indent : "", f);
        for (size_t j = 0; j < nc; j++) {
            const char *s = t->cells[i * t->ncols + j];
            size_t pad = w[j] - width(s);
            int last = j + 1 == nc;
            if (right[j])
                fprintf(f, "%*s%s", (int)pad, "", s);
            else
                fprintf(f, "%s%*s", s, last ? 0 : (int)pad, "");
            if (!last)
                fputs("  ", f);
        }
        fputc('\n', f);
    }
}

void table_free(cli_table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    free(t);
}
