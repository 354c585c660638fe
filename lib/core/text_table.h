/* Aligned text tables for the human output of reports (report_text.c): the
 * first row is the header, columns are two spaces apart, widths count UTF-8
 * code points (entity names are often not ASCII), and a column whose cells
 * below the header are all numbers is right-aligned. */
#ifndef FK_CORE_TEXT_TABLE_H
#define FK_CORE_TEXT_TABLE_H

#include "buf.h"
#include <stddef.h>

typedef struct fk__table {
    size_t ncols, nrows, cap;
    char **cells; /* nrows * ncols, owned */
    int failed;   /* a row could not be added: the table is incomplete */
} fk__table;

void fk__table_init(fk__table *t, size_t ncols);

/* Adds a row of t->ncols cells, copied. Once out of memory the table is
 * failed and later rows are ignored: check fk__table_failed() once. */
void fk__table_row(fk__table *t, const char *const *cells);

int fk__table_failed(const fk__table *t);

/* Appends the table, each line after indent; nothing when it has no rows. */
void fk__table_print(fk__buf *out, const fk__table *t, const char *indent);

void fk__table_dispose(fk__table *t);

#endif
