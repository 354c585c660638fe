/* Parsing a registry document into fk__registry. Strict: unknown keys and
 * malformed names are errors naming where they are, because a typo in a
 * registry silently drops a table from protection. */
#include "registry.h"

#include <cJSON.h>
#include <string.h>

#include "alloc.h"
#include "json_text.h"
#include "sql_quote.h"

typedef struct pctx {
    fk_ctx *ctx;
    const char *source;
    int rc;
} pctx;

static int perr(pctx *p, int code, const char *where, const char *what)
{
    if (p->rc == 0)
        p->rc = fk__fail(p->ctx, code, "%s: %s: %s", p->source, where, what);
    return p->rc;
}

static int oom(pctx *p) { return perr(p, FK_ENOMEM, "registry", "out of memory"); }

/* Names are checked for sanity only (non-empty, no NUL, bounded); the catalog
 * decides whether they exist, and quoting makes any name safe in SQL. */
static int sane_ident(const char *s) { return s && *s && strlen(s) <= 63; }

/* Directory names become path components: keep them to a portable set. */
static int sane_dir(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 100 || s[0] == '.')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return 0;
    }
    return 1;
}

int fk__type_name_ok(const char *s, size_t n)
{
    if (n == 0 || n > 63 || !(s[0] >= 'a' && s[0] <= 'z'))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return 0;
    return 1;
}

static int sane_type(const char *s)
{
    return s && fk__type_name_ok(s, strlen(s));
}

/* "notes" (any object of the format): comments for people, which JSON
 * lacks -- `fortknox registry init` explains its guesses there. Ignored, but
 * still checked, so that a typo elsewhere stays an error. */
static int notes_ok(const cJSON *v)
{
    if (cJSON_IsString(v))
        return 1;
    if (!cJSON_IsArray(v))
        return 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, v)
    {
        if (!cJSON_IsString(it))
            return 0;
    }
    return 1;
}

static int check_keys(pctx *p, const cJSON *obj, const char *where, const char *const *allowed)
{
    for (const cJSON *it = obj->child; it; it = it->next) {
        if (strcmp(it->string, "notes") == 0) {
            if (!notes_ok(it))
                return perr(p, FK_EPARSE, where, "notes must be a string or an array of strings");
            continue;
        }
        int ok = 0;
        for (const char *const *a = allowed; *a; a++)
            ok |= strcmp(it->string, *a) == 0;
        if (!ok) {
            char what[200];
            snprintf(what, sizeof what, "unknown key \"%.60s\"", it->string);
            return perr(p, FK_EPARSE, where, what);
        }
    }
    return 0;
}

/* A string member: required (def == NULL and !optional), optional with a
 * default, or nullable (JSON null → NULL). */
static int get_str(pctx *p, const cJSON *obj, const char *where, const char *key,
                   const char *def, int optional, char **out)
{
    *out = NULL;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    char w[160];
    snprintf(w, sizeof w, "%s.%s", where, key);
    if (!v || cJSON_IsNull(v)) {
        if (!def && !optional)
            return perr(p, FK_EPARSE, w, "required string is missing");
        if (def && !(*out = fk__strdup(def)))
            return oom(p);
        return 0;
    }
    if (!cJSON_IsString(v))
        return perr(p, FK_EPARSE, w, "must be a string");
    if (!(*out = fk__strdup(v->valuestring)))
        return oom(p);
    return 0;
}

static int get_str_list(pctx *p, const cJSON *obj, const char *where, const char *key,
                        char ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    char w[160];
    snprintf(w, sizeof w, "%s.%s", where, key);
    if (!v || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsArray(v))
        return perr(p, FK_EPARSE, w, "must be an array of column names");
    size_t cnt = (size_t)cJSON_GetArraySize(v);
    if (cnt == 0)
        return 0;
    if (!(*out = fk__calloc(cnt, sizeof **out)))
        return oom(p);
    const cJSON *it;
    cJSON_ArrayForEach(it, v)
    {
        if (!cJSON_IsString(it) || !sane_ident(it->valuestring))
            return perr(p, FK_EPARSE, w, "must be an array of column names");
        if (!((*out)[*n] = fk__strdup(it->valuestring)))
            return oom(p);
        (*n)++;
    }
    return 0;
}

static int parse_table(pctx *p, const cJSON *obj, const char *where, fk__table *t)
{
    char *full = NULL;
    if (get_str(p, obj, where, "table", NULL, 0, &full))
        return p->rc;
    const char *dot = strchr(full, '.');
    char w[160];
    snprintf(w, sizeof w, "%s.table", where);
    if (!dot || dot == full || !dot[1] || strchr(dot + 1, '.')) {
        fk__xfree(full);
        return perr(p, FK_EPARSE, w, "must be schema-qualified: \"schema.table\"");
    }
    t->schema = fk__strndup(full, (size_t)(dot - full));
    t->name = fk__strdup(dot + 1);
    fk__xfree(full);
    if (!t->schema || !t->name)
        return oom(p);
    if (!sane_ident(t->schema) || !sane_ident(t->name))
        return perr(p, FK_EPARSE, w, "schema and table names must be 1 to 63 bytes");
    if (!(t->quoted = fk__quote_qualified(t->schema, t->name)))
        return oom(p);
    t->pk = -1;
    return get_str_list(p, obj, where, "secret_columns", &t->secret_names, &t->nsecrets);
}

static int parse_child(pctx *p, const cJSON *obj, const char *where, fk__child *c)
{
    static const char *const keys[] = {"key", "table", "foreign_key", "primary_key",
                                       "secret_columns", "omit_when_empty", NULL};
    if (!cJSON_IsObject(obj))
        return perr(p, FK_EPARSE, where, "must be an object");
    if (check_keys(p, obj, where, keys) || get_str(p, obj, where, "key", NULL, 0, &c->key) ||
        parse_table(p, obj, where, &c->t) ||
        get_str(p, obj, where, "foreign_key", NULL, 0, &c->fk_name) ||
        get_str(p, obj, where, "primary_key", "id", 0, &c->pk_name))
        return p->rc;
    if (!sane_type(c->key))
        return perr(p, FK_EPARSE, where, "key must match [a-z][a-z0-9_]*");
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(obj, "omit_when_empty");
    if (o && !cJSON_IsBool(o))
        return perr(p, FK_EPARSE, where, "omit_when_empty must be true or false");
    c->omit_when_empty = o && cJSON_IsTrue(o);
    c->fk = -1;
    return 0;
}

static int parse_entity(pctx *p, const cJSON *obj, const char *where, fk__etype *e)
{
    static const char *const keys[] = {
        "type", "table", "directory", "primary_key", "name_column", "soft_delete_column",
        "author_column", "secret_columns", "self_references", "children", NULL};
    if (!cJSON_IsObject(obj))
        return perr(p, FK_EPARSE, where, "must be an object");
    e->name_col = e->softdel = e->author = -1;
    if (check_keys(p, obj, where, keys) || get_str(p, obj, where, "type", NULL, 0, &e->name) ||
        parse_table(p, obj, where, &e->t) ||
        get_str(p, obj, where, "directory", e->t.name, 0, &e->dir) ||
        get_str(p, obj, where, "primary_key", "id", 0, &e->pk_name) ||
        get_str(p, obj, where, "name_column", "name", 0, &e->name_col_name) ||
        get_str(p, obj, where, "soft_delete_column", NULL, 1, &e->softdel_name) ||
        get_str(p, obj, where, "author_column", NULL, 1, &e->author_name) ||
        get_str_list(p, obj, where, "self_references", &e->selfref_names, &e->nselfrefs))
        return p->rc;
    if (!sane_type(e->name))
        return perr(p, FK_EPARSE, where, "type must match [a-z][a-z0-9_]* (at most 63 bytes)");
    if (!sane_dir(e->dir))
        return perr(p, FK_EPARSE, where,
                    "directory must be 1-100 bytes of [A-Za-z0-9_.-], not starting with '.'");
    const cJSON *ch = cJSON_GetObjectItemCaseSensitive(obj, "children");
    if (ch && !cJSON_IsNull(ch)) {
        if (!cJSON_IsArray(ch))
            return perr(p, FK_EPARSE, where, "children must be an array");
        size_t n = (size_t)cJSON_GetArraySize(ch);
        if (n && !(e->children = fk__calloc(n, sizeof *e->children)))
            return oom(p);
        const cJSON *it;
        cJSON_ArrayForEach(it, ch)
        {
            char w[160];
            snprintf(w, sizeof w, "%s.children[%zu]", where, e->nchildren);
            e->nchildren++;
            if (parse_child(p, it, w, &e->children[e->nchildren - 1]))
                return p->rc;
        }
    }
    return 0;
}

static int parse_users(pctx *p, const cJSON *obj, fk__registry *reg)
{
    static const char *const keys[] = {"table", "id_column", "email_column", NULL};
    const char *where = "users";
    if (!obj || cJSON_IsNull(obj)) /* no users table: no admin fallback */
        return 0;
    if (!cJSON_IsObject(obj))
        return perr(p, FK_EPARSE, where, "must be an object");
    if (check_keys(p, obj, where, keys) || parse_table(p, obj, where, &reg->users) ||
        get_str(p, obj, where, "id_column", "id", 0, &reg->users_id_name) ||
        get_str(p, obj, where, "email_column", "email", 0, &reg->users_email_name))
        return p->rc;
    return 0;
}

static int check_unique(pctx *p, const fk__registry *reg)
{
    char what[200];
    for (size_t i = 0; i < reg->ntypes; i++)
        for (size_t j = 0; j < i; j++) {
            const fk__etype *a = &reg->types[i], *b = &reg->types[j];
            const char *dup = strcmp(a->name, b->name) == 0  ? "type"
                              : strcmp(a->dir, b->dir) == 0 ? "directory"
                              : strcmp(a->t.quoted, b->t.quoted) == 0 ? "table"
                                                                      : NULL;
            if (dup) {
                snprintf(what, sizeof what, "entities[%zu] repeats the %s of entities[%zu]", i,
                         dup, j);
                return perr(p, FK_EPARSE, "entities", what);
            }
        }
    return 0;
}

int fk__registry_parse(fk_ctx *ctx, fk__registry **out, const char *json, size_t len,
                       const char *source)
{
    pctx p = {ctx, source, 0};
    *out = NULL;
    fk__json_error jerr;
    if (fk__json_validate(json, len, &jerr) != 0) {
        if (fk__json_error_is_oom(&jerr))
            return fk__fail(ctx, FK_ENOMEM, "%s: out of memory", source);
        return fk__fail(ctx, FK_EPARSE, "%s:%zu:%zu: %s", source, jerr.line, jerr.column,
                        jerr.msg);
    }
    /* cJSON cuts strings at an escaped NUL: "w\u0000../x" would be read as
     * "w". No name of ours may contain one, so refuse them outright. */
    if (memmem(json, len, "\\u0000", 6))
        return fk__fail(ctx, FK_EPARSE, "%s: strings must not contain U+0000 (\\u0000)", source);
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!root)
        return fk__fail(ctx, FK_ENOMEM, "%s: out of memory", source);
    fk__registry *reg = fk__calloc(1, sizeof *reg);
    if (!reg) {
        cJSON_Delete(root);
        return fk__fail(ctx, FK_ENOMEM, "%s: out of memory", source);
    }
    reg->users_id = reg->users_email = -1;
    reg->users.pk = -1;
    static const char *const keys[] = {"format", "format_version", "application", "users",
                                       "entities", NULL};
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(root, "format");
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(root, "format_version");
    const cJSON *ents = cJSON_GetObjectItemCaseSensitive(root, "entities");
    if (!cJSON_IsObject(root))
        perr(&p, FK_EPARSE, "registry", "must be a JSON object");
    else if (check_keys(&p, root, "registry", keys))
        ;
    else if (!cJSON_IsString(fmt) || strcmp(fmt->valuestring, "fortknox-registry") != 0)
        perr(&p, FK_EPARSE, "format", "must be \"fortknox-registry\"");
    else if (!cJSON_IsNumber(ver) || ver->valuedouble != 1)
        perr(&p, FK_EPARSE, "format_version", "must be 1 (this library reads version 1)");
    else if (!cJSON_IsArray(ents) || cJSON_GetArraySize(ents) == 0)
        perr(&p, FK_EPARSE, "entities", "must be a non-empty array");
    else if (parse_users(&p, cJSON_GetObjectItemCaseSensitive(root, "users"), reg) == 0) {
        size_t n = (size_t)cJSON_GetArraySize(ents);
        if (!(reg->types = fk__calloc(n, sizeof *reg->types)))
            oom(&p);
        const cJSON *it;
        cJSON_ArrayForEach(it, ents)
        {
            if (p.rc)
                break;
            char w[64];
            snprintf(w, sizeof w, "entities[%zu]", reg->ntypes);
            reg->ntypes++;
            parse_entity(&p, it, w, &reg->types[reg->ntypes - 1]);
        }
        if (!p.rc)
            check_unique(&p, reg);
    }
    cJSON_Delete(root);
    if (p.rc) {
        fk__registry_free(reg);
        return p.rc;
    }
    *out = reg;
    return FK_OK;
}

static void free_table(fk__table *t)
{
    /* cols may be absent while ncols holds a count (resolution failed midway) */
    for (size_t i = 0; t->cols && i < t->ncols; i++) {
        fk__column *c = &t->cols[i];
        fk__xfree(c->name);
        fk__xfree(c->quoted);
        fk__xfree(c->type_sql);
        fk__xfree(c->default_expr);
        fk__xfree(c->fk_table);
        fk__xfree(c->fk_column);
    }
    fk__xfree(t->cols);
    for (size_t i = 0; i < t->nsecrets; i++)
        fk__xfree(t->secret_names[i]);
    fk__xfree(t->secret_names);
    fk__xfree(t->schema);
    fk__xfree(t->name);
    fk__xfree(t->quoted);
}

void fk__registry_free(fk__registry *reg)
{
    if (!reg)
        return;
    for (size_t i = 0; i < reg->ntypes; i++) {
        fk__etype *e = &reg->types[i];
        free_table(&e->t);
        for (size_t j = 0; j < e->nchildren; j++) {
            free_table(&e->children[j].t);
            fk__xfree(e->children[j].key);
            fk__xfree(e->children[j].fk_name);
            fk__xfree(e->children[j].pk_name);
        }
        fk__xfree(e->children);
        for (size_t j = 0; j < e->nselfrefs; j++)
            fk__xfree(e->selfref_names[j]);
        fk__xfree(e->selfref_names);
        fk__xfree(e->selfrefs);
        fk__xfree(e->name);
        fk__xfree(e->dir);
        fk__xfree(e->pk_name);
        fk__xfree(e->name_col_name);
        fk__xfree(e->softdel_name);
        fk__xfree(e->author_name);
        fk__xfree(e->damage);
    }
    fk__xfree(reg->types);
    free_table(&reg->users);
    fk__xfree(reg->users_id_name);
    fk__xfree(reg->users_email_name);
    fk__xfree(reg->users_damage);
    for (size_t i = 0; i < reg->nproblems; i++)
        fk__xfree(reg->problems[i]);
    fk__xfree(reg->problems);
    fk__xfree(reg->source);
    fk__xfree(reg);
}

const fk__etype *fk__registry_find(const fk__registry *reg, const char *type_name)
{
    for (size_t i = 0; type_name && i < reg->ntypes; i++)
        if (strcmp(reg->types[i].name, type_name) == 0)
            return &reg->types[i];
    return NULL;
}

const fk__etype *fk__registry_find_dir(const fk__registry *reg, const char *dir)
{
    for (size_t i = 0; dir && i < reg->ntypes; i++)
        if (strcmp(reg->types[i].dir, dir) == 0)
            return &reg->types[i];
    return NULL;
}

const fk__etype *fk__registry_find_table(const fk__registry *reg, const char *schema,
                                         const char *table)
{
    for (size_t i = 0; i < reg->ntypes; i++)
        if (strcmp(reg->types[i].t.schema, schema) == 0 &&
            strcmp(reg->types[i].t.name, table) == 0)
            return &reg->types[i];
    return NULL;
}

int fk__table_col(const fk__table *t, const char *name)
{
    for (size_t i = 0; name && i < t->ncols; i++)
        if (strcmp(t->cols[i].name, name) == 0)
            return (int)i;
    return -1;
}

void fk__capture_args(const fk__etype *e, int child, const char *out[5])
{
    out[0] = e->name;
    out[1] = child < 0 ? e->t.cols[e->t.pk].name
                       : e->children[child].t.cols[e->children[child].fk].name;
    out[2] = e->t.cols[e->name_col].name;
    out[3] = e->softdel >= 0 ? e->t.cols[e->softdel].name : "";
    out[4] = child < 0 ? "entity" : "child";
}
