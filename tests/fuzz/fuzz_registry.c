/* Fuzz target: fk__registry_parse / fk__registry_free
 * (lib/model/registry.h) on arbitrary registry file contents.
 *
 * Invariants:
 *  - accepted only if fk__json_validate accepts the text (strict JSON: no
 *    duplicate keys, depth <= 512, UTF-8);
 *  - an accepted registry has >= 1 entity type; every type name is
 *    [a-z][a-z0-9_]{0,62}; every directory is a single safe path component
 *    ([A-Za-z0-9_.-], not starting with '.', so never "." or ".."); schema
 *    and table names are 1-63 bytes without NUL, and the quoted
 *    "schema"."table" form unquotes back to exactly them (so a name like
 *    `x; DROP TABLE y` is only ever an identifier); names, directories and
 *    tables are unique; children keys are type-like names;
 *  - a refusal is FK_EPARSE with a message starting with the source name,
 *    never FK_ENOMEM (no allocation failed), and *out stays NULL;
 *  - the k-th library allocation failing gives FK_ENOMEM, no leak.
 */
#include "alloc.h"
#include "fuzz.h"
#include "json_text.h"
#include "registry.h"

#define SOURCE "fuzz-registry.json"

static int type_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 63 || s[0] < 'a' || s[0] > 'z')
        return 0;
    return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

static int dir_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 100 || s[0] == '.')
        return 0;
    return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

static int ident_ok(const char *s) { return s && strlen(s) >= 1 && strlen(s) <= 63; }

/* Reads one "..." identifier with doubled quotes from *p into out. */
static int unquote(const char **p, char *out, size_t cap)
{
    const char *s = *p;
    size_t n = 0;
    if (*s++ != '"')
        return 0;
    for (;;) {
        if (*s == '\0')
            return 0;
        if (*s == '"') {
            if (s[1] != '"')
                break;
            s++;
        }
        if (n + 1 >= cap)
            return 0;
        out[n++] = *s++;
    }
    out[n] = '\0';
    *p = s + 1;
    return 1;
}

static void check_table(const fk__table *t)
{
    FUZZ_CHECK(ident_ok(t->schema) && ident_ok(t->name) && t->quoted);
    char schema[128], name[128];
    const char *q = t->quoted;
    FUZZ_CHECK(unquote(&q, schema, sizeof schema));
    FUZZ_CHECK(*q++ == '.');
    FUZZ_CHECK(unquote(&q, name, sizeof name));
    FUZZ_CHECK(*q == '\0');
    FUZZ_CHECK(strcmp(schema, t->schema) == 0 && strcmp(name, t->name) == 0);
    FUZZ_CHECK(t->ncols == 0 && t->cols == NULL); /* not resolved */
    for (size_t i = 0; i < t->nsecrets; i++)
        FUZZ_CHECK(ident_ok(t->secret_names[i]));
}

static void check_registry(const fk__registry *reg)
{
    FUZZ_CHECK(reg->ntypes >= 1 && reg->types);
    FUZZ_CHECK(!reg->resolved);
    for (size_t i = 0; i < reg->ntypes; i++) {
        const fk__etype *e = &reg->types[i];
        FUZZ_CHECK(e->name && type_name_ok(e->name));
        FUZZ_CHECK(e->dir && dir_ok(e->dir) && !strstr(e->dir, "/"));
        FUZZ_CHECK(strcmp(e->dir, ".") != 0 && strcmp(e->dir, "..") != 0);
        check_table(&e->t);
        FUZZ_CHECK(e->pk_name && e->name_col_name);
        for (size_t j = 0; j < e->nselfrefs; j++)
            FUZZ_CHECK(ident_ok(e->selfref_names[j]));
        for (size_t j = 0; j < e->nchildren; j++) {
            const fk__child *c = &e->children[j];
            FUZZ_CHECK(c->key && type_name_ok(c->key));
            FUZZ_CHECK(c->fk_name && c->pk_name);
            FUZZ_CHECK(c->omit_when_empty == 0 || c->omit_when_empty == 1);
            check_table(&c->t);
        }
        FUZZ_CHECK(fk__registry_find(reg, e->name) == e);
        FUZZ_CHECK(fk__registry_find_dir(reg, e->dir) == e);
        FUZZ_CHECK(fk__registry_find_table(reg, e->t.schema, e->t.name) == e);
        for (size_t j = 0; j < i; j++) {
            FUZZ_CHECK(strcmp(e->name, reg->types[j].name) != 0);
            FUZZ_CHECK(strcmp(e->dir, reg->types[j].dir) != 0);
            FUZZ_CHECK(strcmp(e->t.quoted, reg->types[j].t.quoted) != 0);
        }
    }
    if (reg->users.quoted) {
        check_table(&reg->users);
        FUZZ_CHECK(reg->users_id_name && reg->users_email_name);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    uint64_t h = fuzz_hash(data, size);
    fk__alloc_fail_at(0);

    fk__registry *reg = (fk__registry *)&h; /* must be reset to NULL on failure */
    int rc = fk__registry_parse(NULL, &reg, in, size, SOURCE);
    long n = fk__alloc_count(); /* of the parse alone */
    if (rc == FK_OK) {
        FUZZ_CHECK(reg != NULL);
        FUZZ_CHECK(fk__json_validate(in, size, NULL) == 0);
        check_registry(reg);
    } else {
        FUZZ_CHECK(reg == NULL);
        if (rc == FK_ENOMEM) /* only a failed allocation may say so */
            fprintf(stderr, "registry parse: FK_ENOMEM without an allocation failure: %s\n",
                    fk_errmsg(NULL));
        FUZZ_CHECK(rc == FK_EPARSE);
        const char *msg = fk_errmsg(NULL);
        FUZZ_CHECK(strncmp(msg, SOURCE, strlen(SOURCE)) == 0);
    }
    fk__registry_free(reg);

    if (n > 0) {
        fk__alloc_fail_at(1 + (long)((h >> 16) % (uint64_t)n));
        reg = NULL;
        rc = fk__registry_parse(NULL, &reg, in, size, SOURCE);
        fk__alloc_fail_at(0);
        FUZZ_CHECK(rc == FK_ENOMEM && reg == NULL);
        fk__registry_free(reg);
    }
    return 0;
}
