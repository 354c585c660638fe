/* A server-side cursor read in batches: how the exporter streams tables of
 * any size with bounded memory. Must run inside a transaction. */
#ifndef FK_CORE_CURSOR_H
#define FK_CORE_CURSOR_H

#include "ctx_internal.h"

typedef struct fk__cursor {
    fk_ctx *ctx;
    char name[32];
    PGresult *res; /* current batch */
    int row;       /* current row in res */
    int nrows;
    int fetch;     /* rows per FETCH */
    int open;
    int done;
} fk__cursor;

int fk__cursor_open(fk_ctx *ctx, fk__cursor *c, const char *name, const char *sql, int fetch);
/* The same with text parameters $1.. in sql (values never go into its text). */
int fk__cursor_open_params(fk_ctx *ctx, fk__cursor *c, const char *name, const char *sql,
                           int nparams, const char *const *params, int fetch);

/* Moves to the next row: 1 = there is one (c->res, c->row), 0 = end, < 0 error. */
int fk__cursor_next(fk__cursor *c);

/* The current row's value in column col, or NULL for SQL NULL. */
const char *fk__cursor_value(const fk__cursor *c, int col);

void fk__cursor_close(fk__cursor *c);

#endif
