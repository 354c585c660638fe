/* The manifest's JSON nulls: which json/jsonb values of which entities are
 * JSON null rather than SQL NULL. A fixture writes both as null (Parthenon's
 * files hold SQL NULL there), so the rare JSON null is listed in the
 * manifest entry of its entity ("json_null"), and import, drill and verify
 * read the list from here. Only entries that have one are kept in memory. */
#ifndef FK_L3_JSON_NULLS_H
#define FK_L3_JSON_NULLS_H

#include <stddef.h>
#include <stdint.h>
#include "ctx_internal.h"

typedef struct fk__jnull {
    char type[64];
    int64_t id;
    char *paths; /* JSON array text, as in the manifest */
} fk__jnull;

typedef struct fk__jnulls {
    fk__jnull *v; /* in manifest order: by type name, then id */
    size_t n, cap;
} fk__jnulls;

/* Reads the manifest in root. No manifest, or one that cannot be read,
 * gives an empty list (verify and doctor report the manifest itself).
 * FK_OK or FK_ENOMEM. */
int fk__jnulls_load(fk_ctx *ctx, int root, fk__jnulls *out);

/* The paths of (type, id), or NULL when it has none. */
const char *fk__jnulls_find(const fk__jnulls *j, const char *type, int64_t id);

void fk__jnulls_free(fk__jnulls *j);

#endif
