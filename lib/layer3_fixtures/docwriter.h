/* Writes one entity document (a row plus its child rows) in a fixture
 * format, streaming: child rows may arrive over several result batches. */
#ifndef FK_L3_DOCWRITER_H
#define FK_L3_DOCWRITER_H

#include <libpq-fe.h>
#include "buf.h"
#include "fortknox/serialize.h"
#include "json_text.h"
#include "registry.h"

typedef struct fk__docw {
    fk__buf *b;
    fk_format fmt;
    const fk__child *child; /* open child list, NULL when none */
    size_t child_rows;
    fk__json_error err;     /* set when a value could not be written */
    const char *err_col;
    /* When not NULL: receives a JSON array of the paths whose json/jsonb
     * value is JSON null (written as null, like SQL NULL): "col" for the
     * entity's own columns, "<child key>/<child id>/col" in child rows. Left
     * empty when there is none. The manifest carries it. */
    fk__buf *json_null;
} fk__docw;

/* SELECT list for exporting table t, aliased `alias`: every column in order,
 * secret columns as NULL (a secret is never even read). */
int fk__docw_select_list(fk__buf *sql, const fk__table *t, const char *alias);

void fk__docw_init(fk__docw *w, fk__buf *b, fk_format fmt);
/* Opens the document with the parent row's members. */
int fk__docw_begin(fk__docw *w, const fk__table *t, const PGresult *res, int row);
int fk__docw_child_begin(fk__docw *w, const fk__child *c);
int fk__docw_child_row(fk__docw *w, const PGresult *res, int row);
int fk__docw_child_end(fk__docw *w);
int fk__docw_end(fk__docw *w);

#endif
