/* Aligned text tables (text_table.h). The layout is the fortknox tool's:
 * scripts and the PHP binding's tests compare it byte for byte. */
#include "text_table.h"
#include "alloc.h"
#include <string.h>

void fk__table_init(fk__table *t, size_t ncols)
{
    memset(t, 0, sizeof *t);
    t->ncols = ncols;
}

void fk__table_row(fk__table *t, const char *const *cells)
{
    if (t->failed)
        return;
    if (t->nrows == t->cap) {
        /* the array grows by whole rows: cap counts rows */
        size_t cap = t->cap;
        char **grown = fk__grow(t->cells, &cap, t->ncols * sizeof *grown, 16);
        if (!grown) {
            t->failed = 1;
            return;
        }
        t->cells = grown;
        t->cap = cap;
    }
    char **row = t->cells + t->nrows * t->ncols;
    for (size_t j = 0; j < t->ncols; j++) {
        row[j] = fk__strdup(cells[j] ? cells[j] : "");
        if (!row[j]) {
            while (j > 0)
                fk__xfree(row[--j]);
            t->failed = 1;
            return;
        }
    }
    t->nrows++;
}

int fk__table_failed(const fk__table *t) { return t->failed; }

static size_t width(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* A number as the counters print them: digits, maybe a sign or a point. */
static int numeric(const char *s)
{
    int digits = 0;
    for (; *s; s++) {
        if (*s >= '0' && *s <= '9')
            digits++;
        else if (*s != '-' && *s != '.')
            return 0;
    }
    return digits > 0;
}

static void pad(fk__buf *out, size_t n)
{
    while (n--)
        fk__buf_putc(out, ' ');
}

/* Width of column j, and whether it is right-aligned. */
static size_t column(const fk__table *t, size_t j, int *right)
{
    size_t w = 0;
    *right = t->nrows > 1;
    for (size_t i = 0; i < t->nrows; i++) {
        const char *s = t->cells[i * t->ncols + j];
        if (width(s) > w)
            w = width(s);
        if (i > 0 && !numeric(s))
            *right = 0;
    }
    return w;
}

void fk__table_print(fk__buf *out, const fk__table *t, const char *indent)
{
    if (!t->nrows)
        return;
    size_t *w = fk__calloc(t->ncols, sizeof *w);
    int *right = fk__calloc(t->ncols, sizeof *right);
    if (!w || !right) {
        out->failed = 1;
        fk__xfree(w);
        fk__xfree(right);
        return;
    }
    for (size_t j = 0; j < t->ncols; j++)
        w[j] = column(t, j, &right[j]);
    for (size_t i = 0; i < t->nrows; i++) {
        fk__buf_puts(out, indent);
        for (size_t j = 0; j < t->ncols; j++) {
            const char *s = t->cells[i * t->ncols + j];
            int last = j + 1 == t->ncols;
            if (right[j])
                pad(out, w[j] - width(s));
            fk__buf_puts(out, s);
            if (!right[j] && !last)
                pad(out, w[j] - width(s));
            if (!last)
                fk__buf_puts(out, "  ");
        }
        fk__buf_putc(out, '\n');
    }
    fk__xfree(w);
    fk__xfree(right);
}

void fk__table_dispose(fk__table *t)
{
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        fk__xfree(t->cells[i]);
    fk__xfree(t->cells);
    memset(t, 0, sizeof *t);
}
