/* The resolved registry as JSON, for tools and for checking a registry file. */
#include <cJSON.h>

#include "alloc.h"
#include "fortknox/serialize.h"
#include "registry.h"
#include "entry.h"

static cJSON *describe_table(const fk__table *t)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *cols = cJSON_AddArrayToObject(o, "columns");
    cJSON_AddStringToObject(o, "schema", t->schema);
    cJSON_AddStringToObject(o, "table", t->name);
    cJSON_AddStringToObject(o, "primary_key", t->pk >= 0 ? t->cols[t->pk].name : "");
    for (size_t i = 0; cols && i < t->ncols; i++) {
        const fk__column *c = &t->cols[i];
        cJSON *jc = cJSON_CreateObject();
        cJSON_AddItemToArray(cols, jc);
        cJSON_AddStringToObject(jc, "name", c->name);
        cJSON_AddStringToObject(jc, "type", c->type_sql);
        cJSON_AddStringToObject(jc, "kind", fk__coltype_of(c->kind)->name);
        cJSON_AddBoolToObject(jc, "not_null", c->notnull);
        if (c->secret)
            cJSON_AddBoolToObject(jc, "secret", 1);
        if (c->fk_table)
            cJSON_AddStringToObject(jc, "references", c->fk_table);
    }
    return o;
}

static cJSON *opt_col(const fk__table *t, int idx)
{
    return idx >= 0 ? cJSON_CreateString(t->cols[idx].name) : cJSON_CreateNull();
}

int fk_registry_describe(char **out, fk_ctx *ctx)
{
    if (out)
        *out = NULL;
    FK__BEGIN(ctx, "fk_registry_describe");
    FK__ARG(ctx, "fk_registry_describe", out);
    fk__registry *reg;
    int rc = fk__ctx_registry(ctx, &reg);
    if (rc)
        return rc;
    cJSON *root = cJSON_CreateObject();
    cJSON *ents = cJSON_AddArrayToObject(root, "entities");
    for (size_t i = 0; ents && i < reg->ntypes; i++) {
        const fk__etype *e = &reg->types[i];
        cJSON *je = describe_table(&e->t);
        cJSON_AddItemToArray(ents, je);
        cJSON_AddStringToObject(je, "type", e->name);
        cJSON_AddStringToObject(je, "directory", e->dir);
        cJSON_AddItemToObject(je, "name_column", opt_col(&e->t, e->name_col));
        cJSON_AddItemToObject(je, "soft_delete_column", opt_col(&e->t, e->softdel));
        cJSON_AddItemToObject(je, "author_column", opt_col(&e->t, e->author));
        cJSON *sr = cJSON_AddArrayToObject(je, "self_references");
        for (size_t j = 0; sr && j < e->nselfrefs; j++)
            cJSON_AddItemToArray(sr, cJSON_CreateString(e->selfref_names[j]));
        cJSON *ch = cJSON_AddArrayToObject(je, "children");
        for (size_t j = 0; ch && j < e->nchildren; j++) {
            cJSON *jc = describe_table(&e->children[j].t);
            cJSON_AddItemToArray(ch, jc);
            cJSON_AddStringToObject(jc, "key", e->children[j].key);
            cJSON_AddStringToObject(jc, "foreign_key", e->children[j].fk_name);
            cJSON_AddBoolToObject(jc, "omit_when_empty", e->children[j].omit_when_empty);
        }
    }
    char *s = root ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (!s)
        return fk__oom(ctx);
    /* cJSON allocates with malloc; hand out memory fk_free() can release */
    *out = fk__strdup(s);
    cJSON_free(s);
    return *out ? FK_OK : fk__oom(ctx);
}
