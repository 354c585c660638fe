#include "json_nulls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "manifest.h"

static int add(fk__jnulls *j, const fk__mentry *e)
{
    if (j->n == j->cap) {
        void *g = fk__grow(j->v, &j->cap, sizeof *j->v, 16);
        if (!g)
            return -1;
        j->v = g;
    }
    fk__jnull *x = &j->v[j->n];
    snprintf(x->type, sizeof x->type, "%s", e->type);
    x->id = e->id;
    if (!(x->paths = fk__strdup(e->json_null)))
        return -1;
    j->n++;
    return 0;
}

int fk__jnulls_load(fk_ctx *ctx, int root, fk__jnulls *out)
{
    memset(out, 0, sizeof *out);
    fk__mreader *m = NULL;
    int rc = fk__mreader_open(ctx, &m, root, FK__MANIFEST_NAME);
    if (rc == FK_ENOMEM)
        return rc;
    if (rc) {
        fk__ok(ctx);
        return FK_OK;
    }
    fk__mentry e;
    int r;
    while ((r = fk__mreader_next(m, &e)) == 1)
        if (e.json_null && add(out, &e) != 0) {
            r = FK_ENOMEM;
            break;
        }
    fk__mreader_free(m);
    if (r == FK_ENOMEM) {
        fk__jnulls_free(out);
        return fk__fail(ctx, FK_ENOMEM, "out of memory");
    }
    fk__ok(ctx); /* a damaged tail: keep what was read */
    return FK_OK;
}

static int cmp(const void *k, const void *v)
{
    const fk__jnull *a = k, *b = v;
    int c = strcmp(a->type, b->type);
    return c ? c : (a->id > b->id) - (a->id < b->id);
}

const char *fk__jnulls_find(const fk__jnulls *j, const char *type, int64_t id)
{
    if (!j || !j->n || strlen(type) >= sizeof j->v->type)
        return NULL;
    fk__jnull key;
    snprintf(key.type, sizeof key.type, "%s", type);
    key.id = id;
    const fk__jnull *x = bsearch(&key, j->v, j->n, sizeof *j->v, cmp);
    return x ? x->paths : NULL;
}

void fk__jnulls_free(fk__jnulls *j)
{
    for (size_t i = 0; i < j->n; i++)
        fk__xfree(j->v[i].paths);
    fk__xfree(j->v);
    memset(j, 0, sizeof *j);
}
