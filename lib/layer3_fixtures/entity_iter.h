/* Every entity of a type, streamed in id order as fixture documents: one
 * cursor for the rows and one per child table, merged on the parent id, so
 * memory holds one batch and one document whatever the table size. Used by
 * the exporter and by verify. Must run inside a transaction. */
#ifndef FK_L3_ENTITY_ITER_H
#define FK_L3_ENTITY_ITER_H

#include <stdint.h>
#include "fortknox/serialize.h"
#include "registry.h"

typedef struct fk__entity {
    const fk__etype *e;
    int64_t id;
    const char *name; /* NULL when the name column is NULL */
    const char *doc;  /* the fixture document */
    size_t len;
    const char *json_null; /* JSON array of paths holding JSON null, or NULL */
} fk__entity;

/* Called per entity; a non-zero return stops the iteration and is returned. */
typedef int (*fk__entity_fn)(void *ud, const fk__entity *ent);

int fk__entity_iter(fk_ctx *ctx, const fk__etype *e, fk_format fmt, fk__entity_fn cb, void *ud);

#endif
