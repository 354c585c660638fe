/* Reading one entity (row + children) from the database into a document. */
#ifndef FK_L3_ENTITY_READ_H
#define FK_L3_ENTITY_READ_H

#include "buf.h"
#include "fortknox/serialize.h"
#include "registry.h"

/* Appends the entity's document to doc. If name is not NULL it receives the
 * entity's name (appended); if json_null is not NULL, the paths holding JSON
 * null (see fk__docw). FK_ENOTFOUND when the row does not exist. Runs in
 * whatever transaction is open (callers want a snapshot). */
int fk__entity_read(fk_ctx *ctx, const fk__etype *e, int64_t id, fk_format fmt, fk__buf *doc,
                    fk__buf *name, fk__buf *json_null);

/* Error for a value the document writer could not encode. */
int fk__docw_fail(fk_ctx *ctx, const fk__etype *e, int64_t id, const char *col,
                  const char *why);

#endif
