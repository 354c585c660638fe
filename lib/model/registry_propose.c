/* fk_registry_propose: a registry for a database the library does not know
 * yet, guessed from its catalog by conventions (docs/registry.md, "Making a
 * registry"). Every guess is written down next to what it decided, in the
 * "notes" members the parser ignores, because a guess nobody reads is how a
 * table ends up unprotected. */
#include <cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "buf.h"
#include "entry.h"
#include "fortknox/registry.h"
#include "json_text.h"
#include "pgutil.h"
#include "registry.h"

/* Every table of the database outside the system schemas and the library's
 * own ($1), its columns in order; sorted bytewise so that lookups can
 * bsearch with strcmp. */
static const char columns_sql[] =
    "SELECT n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod),"
    " (CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE a.atttypid END)::int,"
    " a.attnotnull,"
    " EXISTS (SELECT 1 FROM pg_constraint p WHERE p.conrelid = c.oid AND p.contype = 'p'"
    "         AND p.conkey = ARRAY[a.attnum])"
    " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
    " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped"
    " JOIN pg_type t ON t.oid = a.atttypid"
    " WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition"
    " AND n.nspname NOT IN ('pg_catalog', 'information_schema', $1)"
    " AND n.nspname NOT LIKE 'pg\\_%'"
    " ORDER BY n.nspname COLLATE \"C\", c.relname COLLATE \"C\", a.attnum";

/* One-column foreign keys: from (schema, table, column) to (schema, table,
 * column), and whether the delete cascades. */
static const char fks_sql[] =
    "SELECT n.nspname, c.relname, a.attname, fn.nspname, fc.relname, fa.attname,"
    " k.confdeltype = 'c'"
    " FROM pg_constraint k"
    " JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
    " JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1]"
    " JOIN pg_class fc ON fc.oid = k.confrelid JOIN pg_namespace fn ON fn.oid = fc.relnamespace"
    " JOIN pg_attribute fa ON fa.attrelid = k.confrelid AND fa.attnum = k.confkey[1]"
    " WHERE k.contype = 'f' AND cardinality(k.conkey) = 1"
    " ORDER BY n.nspname COLLATE \"C\", c.relname COLLATE \"C\", k.conname COLLATE \"C\"";

enum { R_NONE, R_ENTITY, R_CHILD };

typedef struct ptab {
    const char *schema, *name;
    int first, ncols; /* its rows in the columns result */
    int pk;           /* row of its one-column integer primary key, -1 */
    int in_scope;     /* in a schema looked at */
    int role;
    int parent;       /* R_CHILD: the entity table's index */
    int fk_row;       /* R_CHILD: its foreign key (row in the FK result) */
    int asked;        /* named in opts->tables */
    int dotted;       /* a '.' in its schema or name: "schema.table" cannot name it */
    cJSON *json;      /* R_ENTITY: its entity object */
} ptab;

typedef struct prop {
    fk_ctx *ctx;
    PGresult *cols, *fks;
    ptab *t;
    int nt;
    cJSON *notes; /* top level */
    int users;    /* table index, -1 */
    int users_by_name; /* no author column references a table: the one named users */
    int users_id_row, users_email_row;
} prop;

static const char *cv(const prop *p, int row, int col) { return PQgetvalue(p->cols, row, col); }
static const char *fv(const prop *p, int row, int col) { return PQgetvalue(p->fks, row, col); }

static fk__colkind kind_of(const prop *p, int row)
{
    return fk__coltype_kind_of_oid((unsigned)strtoul(cv(p, row, 4), NULL, 10));
}

static int find_table(const prop *p, const char *schema, const char *name)
{
    int lo = 0, hi = p->nt - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2, c = strcmp(p->t[mid].schema, schema);
        if (!c)
            c = strcmp(p->t[mid].name, name);
        if (!c)
            return mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

/* The column's row in table i, -1. */
static int find_col(const prop *p, int i, const char *col)
{
    for (int r = p->t[i].first; r < p->t[i].first + p->t[i].ncols; r++)
        if (strcmp(cv(p, r, 2), col) == 0)
            return r;
    return -1;
}

static int fk_from(const prop *p, int k) { return find_table(p, fv(p, k, 0), fv(p, k, 1)); }
static int fk_to(const prop *p, int k) { return find_table(p, fv(p, k, 3), fv(p, k, 4)); }

/* The foreign key of table i's column col, -1. */
static int fk_of(const prop *p, int i, const char *col)
{
    for (int k = 0; k < PQntuples(p->fks); k++)
        if (fk_from(p, k) == i && strcmp(fv(p, k, 2), col) == 0)
            return k;
    return -1;
}

static int note(cJSON *notes, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int note(cJSON *notes, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cJSON *s = cJSON_CreateString(msg);
    return s && cJSON_AddItemToArray(notes, s) ? 0 : -1;
}

/* ------------------------------------------------------------ conventions */

static int one_of(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(s, *list) == 0)
            return 1;
    return 0;
}

static const char *const softdel_names[] = {"deleted_at", "deleted_on", "deleted_date",
                                            "removed_at", "trashed_at", NULL};
static const char *const name_names[] = {"name", "title", "label", NULL};
static const char *const author_names[] = {"author_id", "created_by", "created_by_id", "user_id",
                                           "owner_id", "creator_id", NULL};
static const char *const email_names[] = {"email", "email_address", "mail", NULL};

/* A column never to be exported: what its name says it holds. */
static int secret_looking(const char *name)
{
    static const char *const parts[] = {"password", "passwd", "pwd", "secret", "token",
                                        "api_key", "apikey", "access_key", "auth_key",
                                        "private_key", "signing_key", "encryption_key",
                                        "credential", NULL};
    char low[64];
    size_t n = strlen(name);
    if (n >= sizeof low)
        n = sizeof low - 1;
    for (size_t i = 0; i < n; i++)
        low[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
    low[n] = '\0';
    for (const char *const *s = parts; *s; s++)
        if (strstr(low, *s))
            return 1;
    return strcmp(low, "salt") == 0 || strcmp(low, "hash") == 0 ||
           (n > 5 && (strcmp(low + n - 5, "_hash") == 0 || strcmp(low + n - 5, "_salt") == 0));
}

/* Text can hold a secret; a flag or a time named must_change_password cannot. */
static int secret_col(const prop *p, int row)
{
    fk__colkind k = kind_of(p, row);
    return (k == FK__COL_STRING || k == FK__COL_JSON || k == FK__COL_JSONTEXT) &&
           secret_looking(cv(p, row, 2));
}

/* The soft-delete column of table i (its row), -1; a deleted-looking
 * column that cannot be one is noted. */
static int softdel_col(prop *p, int i, cJSON *why)
{
    const ptab *t = &p->t[i];
    for (int r = t->first; r < t->first + t->ncols; r++) {
        const char *c = cv(p, r, 2);
        int named = one_of(c, softdel_names);
        fk__colkind k = kind_of(p, r);
        int usable = (k == FK__COL_TIMESTAMP || k == FK__COL_DATE) && cv(p, r, 5)[0] != 't';
        if (named && usable)
            return r;
        if ((named || strstr(c, "deleted")) && why)
            note(why, "%s.%s.%s (%s%s) looks like a soft-delete flag but cannot be one: the "
                      "library marks a deletion by setting a nullable timestamp or date",
                 t->schema, t->name, c, cv(p, r, 3), cv(p, r, 5)[0] == 't' ? ", NOT NULL" : "");
    }
    return -1;
}

/* A name for JSON keys and types: [a-z][a-z0-9_]*, at most 63 bytes. */
static void type_name(char *out, size_t cap, const char *prefix, const char *s)
{
    char tmp[160];
    snprintf(tmp, sizeof tmp, "%s%s%s", prefix ? prefix : "", prefix ? "_" : "", s);
    size_t n = 0;
    for (const char *q = tmp; *q && n + 1 < cap && n < 63; q++) {
        char c = *q >= 'A' && *q <= 'Z' ? (char)(*q + 32) : *q;
        out[n++] = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ? c : '_';
    }
    out[n] = '\0';
    if (!(out[0] >= 'a' && out[0] <= 'z')) {
        memmove(out + 2, out, n + 1 < cap - 2 ? n + 1 : cap - 3);
        out[0] = 't';
        out[1] = '_';
        out[cap - 1] = '\0';
    }
}

/* recipes -> recipe, categories -> category, boxes -> box, status stays. */
static void singular(char *out, size_t cap, const char *s)
{
    size_t n = strlen(s);
    snprintf(out, cap, "%s", s);
    if (n > 3 && strcmp(s + n - 3, "ies") == 0)
        snprintf(out, cap, "%.*sy", (int)(n - 3), s);
    else if (n > 4 && strcmp(s + n - 4, "yses") == 0) /* analyses */
        snprintf(out, cap, "%.*sis", (int)(n - 2), s);
    else if (n > 4 && (strcmp(s + n - 4, "sses") == 0 || strcmp(s + n - 4, "ches") == 0 ||
                       strcmp(s + n - 4, "shes") == 0))
        snprintf(out, cap, "%.*s", (int)(n - 2), s);
    else if (n > 3 && strcmp(s + n - 3, "xes") == 0)
        snprintf(out, cap, "%.*s", (int)(n - 2), s);
    else if (n > 1 && s[n - 1] == 's' && s[n - 2] != 's' && s[n - 2] != 'u')
        snprintf(out, cap, "%.*s", (int)(n - 1), s);
}

/* ------------------------------------------------------------ reading */

static int load(prop *p, const fk_registry_propose_options *o)
{
    const char *param = p->ctx->schema;
    int rc = fk__pg_query(p->ctx, &p->cols, columns_sql, 1, &param, "reading the catalog");
    if (!rc)
        rc = fk__pg_query(p->ctx, &p->fks, fks_sql, 0, NULL, "reading the foreign keys");
    if (rc)
        return rc;
    int rows = PQntuples(p->cols);
    if (!(p->t = fk__calloc((size_t)rows + 1, sizeof *p->t)))
        return fk__oom(p->ctx);
    for (int r = 0; r < rows; r++) {
        if (!p->nt || strcmp(p->t[p->nt - 1].schema, cv(p, r, 0)) ||
            strcmp(p->t[p->nt - 1].name, cv(p, r, 1)))
            p->t[p->nt++] = (ptab){.schema = cv(p, r, 0), .name = cv(p, r, 1), .first = r,
                                   .pk = -1, .role = R_NONE, .parent = -1, .fk_row = -1};
        ptab *t = &p->t[p->nt - 1];
        t->ncols++;
        if (t->ncols == 1 && (strchr(t->schema, '.') || strchr(t->name, '.')))
            t->dotted = 1;
        if (cv(p, r, 6)[0] == 't' && kind_of(p, r) == FK__COL_INT)
            t->pk = r;
    }
    for (size_t s = 0; o && s < o->nschemas; s++) {
        int found = 0;
        for (int i = 0; i < p->nt; i++)
            if (strcmp(p->t[i].schema, o->schemas[s]) == 0)
                found = p->t[i].in_scope = 1;
        if (!found)
            return fk__fail(p->ctx, FK_ENOTFOUND, "schema %s has no table (or does not exist)",
                            o->schemas[s]);
    }
    if (!o || !o->nschemas)
        for (int i = 0; i < p->nt; i++)
            p->t[i].in_scope = 1;
    return FK_OK;
}

/* opts->tables: each must exist and be usable. */
static int take_asked(prop *p, const fk_registry_propose_options *o)
{
    for (size_t k = 0; o && k < o->ntables; k++) {
        const char *full = o->tables[k], *dot = strchr(full, '.');
        if (!dot || dot == full || !dot[1])
            return fk__fail(p->ctx, FK_EINVAL, "fk_registry_propose: table \"%s\" must be "
                                               "schema-qualified (schema.table)", full);
        char schema[128];
        snprintf(schema, sizeof schema, "%.*s", (int)(dot - full), full);
        int i = find_table(p, schema, dot + 1);
        if (i < 0)
            return fk__fail(p->ctx, FK_ENOTFOUND, "table %s does not exist in the database",
                            full);
        if (p->t[i].dotted)
            return fk__fail(p->ctx, FK_EUNSUPPORTED,
                            "table %s has a '.' in its schema or name: a registry names tables "
                            "as schema.table", full);
        if (p->t[i].pk < 0)
            return fk__fail(p->ctx, FK_EUNSUPPORTED,
                            "table %s has no one-column integer primary key: the library "
                            "names entities by it", full);
        p->t[i].asked = 1;
        p->t[i].role = R_ENTITY;
    }
    return FK_OK;
}

/* ------------------------------------------------------------ guessing */

static void choose_entities(prop *p)
{
    for (int i = 0; i < p->nt; i++) {
        ptab *t = &p->t[i];
        if (t->role == R_ENTITY || !t->in_scope)
            continue;
        int sd = softdel_col(p, i, NULL), n0 = cJSON_GetArraySize(p->notes);
        if (sd < 0 && softdel_col(p, i, p->notes) == -1 && cJSON_GetArraySize(p->notes) > n0)
            note(p->notes, "left out: %s.%s (no usable soft-delete column; name it with --table "
                           "to protect it anyway)", t->schema, t->name);
        if (sd < 0)
            continue;
        if (t->dotted) {
            note(p->notes, "left out: \"%s\".\"%s\" has a soft-delete column, but a '.' in "
                           "its name: a registry names tables as schema.table",
                 t->schema, t->name);
            continue;
        }
        if (t->pk < 0) {
            note(p->notes, "left out: %s.%s has the soft-delete column %s but no one-column "
                           "integer primary key (the library names entities by it)",
                 t->schema, t->name, cv(p, sd, 2));
            continue;
        }
        t->role = R_ENTITY;
    }
}

/* Tables whose foreign key references an entity's primary key ON DELETE
 * CASCADE are its children: their rows live and die with it. */
static void choose_children(prop *p)
{
    for (int k = 0; k < PQntuples(p->fks); k++) {
        int from = fk_from(p, k), to = fk_to(p, k);
        if (from < 0 || to < 0 || from == to || p->t[to].role != R_ENTITY ||
            p->t[to].pk < 0 || strcmp(fv(p, k, 5), cv(p, p->t[to].pk, 2)) != 0)
            continue;
        ptab *c = &p->t[from], *e = &p->t[to];
        if (fv(p, k, 6)[0] != 't') {
            char one[160];
            singular(one, sizeof one, e->name);
            if (c->role != R_ENTITY)
                note(p->notes, "not a child: %s.%s.%s references %s.%s without ON DELETE "
                               "CASCADE, so its rows are not part of a %s and are not exported "
                               "(name it with --table to protect it as an entity type)",
                     c->schema, c->name, fv(p, k, 2), e->schema, e->name, one);
            continue;
        }
        if (c->role == R_ENTITY) {
            note(p->notes, "%s.%s references %s.%s ON DELETE CASCADE but is an entity type "
                           "itself (%s), not a child",
                 c->schema, c->name, e->schema, e->name,
                 c->asked ? "asked for" : "it has a soft-delete column");
            continue;
        }
        if (c->role == R_CHILD) {
            note(p->notes, "%s.%s also references %s.%s ON DELETE CASCADE: it is proposed as a "
                           "child of %s.%s only (a table can be the child of one type)",
                 c->schema, c->name, e->schema, e->name, p->t[c->parent].schema,
                 p->t[c->parent].name);
            continue;
        }
        if (c->dotted) {
            note(p->notes, "NOT PROTECTED: \"%s\".\"%s\" references %s.%s ON DELETE CASCADE "
                           "but has a '.' in its name, which a registry cannot name",
                 c->schema, c->name, e->schema, e->name);
            continue;
        }
        if (c->pk < 0) {
            note(p->notes, "NOT PROTECTED: %s.%s references %s.%s ON DELETE CASCADE but has no "
                           "one-column integer primary key, so it cannot be a child; its rows "
                           "are not in the fixtures",
                 c->schema, c->name, e->schema, e->name);
            continue;
        }
        c->role = R_CHILD;
        c->parent = to;
        c->fk_row = k;
    }
    /* one level only: what cascades from a child is lost with it */
    for (int k = 0; k < PQntuples(p->fks); k++) {
        int from = fk_from(p, k), to = fk_to(p, k);
        if (from >= 0 && to >= 0 && from != to && p->t[to].role == R_CHILD &&
            p->t[from].role == R_NONE && fv(p, k, 6)[0] == 't')
            note(p->notes, "NOT PROTECTED: %s.%s references the child table %s.%s ON DELETE "
                           "CASCADE; a registry has one level of children, so its rows are "
                           "not in the fixtures",
                 p->t[from].schema, p->t[from].name, p->t[to].schema, p->t[to].name);
    }
}

/* The users table: the one the entities' author-named columns reference
 * most, else a table named users; it needs an email column and an integer
 * key. */
static int choose_users(prop *p)
{
    int *refs = fk__calloc((size_t)p->nt + 1, sizeof *refs), best = -1;
    if (!refs)
        return -1;
    for (int j = 0; j < p->nt; j++)
        for (int r = p->t[j].first; p->t[j].role == R_ENTITY && r < p->t[j].first +
                                                                    p->t[j].ncols; r++) {
            int k = one_of(cv(p, r, 2), author_names) ? fk_of(p, j, cv(p, r, 2)) : -1;
            int to = k >= 0 ? fk_to(p, k) : -1;
            if (to >= 0 && ++refs[to] > (best >= 0 ? refs[best] : 0))
                best = to;
        }
    fk__xfree(refs);
    p->users_by_name = best < 0;
    for (int i = 0; best < 0 && i < p->nt; i++)
        if (strcmp(p->t[i].name, "users") == 0 && p->t[i].in_scope)
            best = i;
    p->users = -1;
    if (best < 0)
        return 0;
    int email = -1;
    for (const char *const *e = email_names; *e && email < 0; e++)
        email = find_col(p, best, *e);
    if (email < 0 || p->t[best].pk < 0 || p->t[best].dotted) {
        note(p->notes, "no users table: %s.%s has %s, so an import cannot give entities whose "
                       "author is gone to an admin user",
             p->t[best].schema, p->t[best].name,
             email < 0 ? "no email column (email, email_address, mail)"
             : p->t[best].dotted ? "a '.' in its name"
                                 : "no one-column integer primary key");
        return 0;
    }
    p->users = best;
    p->users_id_row = p->t[best].pk;
    p->users_email_row = email;
    return 0;
}

static cJSON *add_notes(cJSON *obj)
{
    return cJSON_AddArrayToObject(obj, "notes");
}

static int add_secrets(prop *p, int i, int skip_row, cJSON *obj, cJSON *why)
{
    const ptab *t = &p->t[i];
    cJSON *list = NULL;
    for (int r = t->first; r < t->first + t->ncols; r++) {
        if (r == t->pk || r == skip_row || !secret_col(p, r))
            continue;
        if (!list && !(list = cJSON_AddArrayToObject(obj, "secret_columns")))
            return -1;
        cJSON_AddItemToArray(list, cJSON_CreateString(cv(p, r, 2)));
        note(why, "secret_columns: %s looks like a secret (password, token, secret, key, hash "
                  "...): never exported, never written by an import; remove it from the list "
                  "if it is ordinary data",
             cv(p, r, 2));
    }
    return 0;
}

/* How much of child to drop as the parent's prefix: up to and with the last
 * '_' of what they have in common ("recipe_steps", "recipe" -> 7;
 * "heor_results", "heor_analyses" -> 5), 0 when that leaves nothing. */
static size_t prefix_cut(const char *child, const char *parent)
{
    size_t n = 0, cut = 0;
    while (child[n] && child[n] == parent[n])
        n++;
    for (size_t i = 0; i <= n && child[i]; i++)
        if (child[i] == '_')
            cut = i + 1;
    return child[cut] ? cut : 0;
}

/* A child's key in its parent's document: recipe_steps under recipe ->
 * "steps"; never a column name of the parent, never a sibling's key. */
static void child_key(prop *p, int c, const char *type, cJSON *siblings, char *out, size_t cap)
{
    const ptab *ct = &p->t[c], *et = &p->t[ct->parent];
    char base[160];
    snprintf(base, sizeof base, "%s", ct->name);
    size_t cut = prefix_cut(ct->name, type), cut2 = prefix_cut(ct->name, et->name);
    if (cut2 > cut)
        cut = cut2;
    snprintf(base, sizeof base, "%s", ct->name + cut);
    for (int attempt = 0;; attempt++) {
        type_name(out, cap, NULL, attempt == 0 ? base : ct->name);
        if (attempt >= 2)
            snprintf(out + strlen(out), cap - strlen(out), "_rows%d", attempt);
        int clash = find_col(p, ct->parent, out) >= 0;
        const cJSON *s;
        cJSON_ArrayForEach(s, siblings)
        {
            const cJSON *key = cJSON_GetObjectItemCaseSensitive(s, "key");
            clash |= cJSON_IsString(key) && strcmp(key->valuestring, out) == 0;
        }
        if (!clash)
            return;
    }
}

static int add_child(prop *p, int c, const char *type, cJSON *children)
{
    const ptab *ct = &p->t[c], *et = &p->t[ct->parent];
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddItemToArray(children, o))
        return -1;
    cJSON *why = add_notes(o);
    char key[64], full[300];
    child_key(p, c, type, children, key, sizeof key);
    snprintf(full, sizeof full, "%s.%s", ct->schema, ct->name);
    cJSON_AddStringToObject(o, "key", key);
    cJSON_AddStringToObject(o, "table", full);
    cJSON_AddStringToObject(o, "foreign_key", fv(p, ct->fk_row, 2));
    cJSON_AddStringToObject(o, "primary_key", cv(p, ct->pk, 2));
    note(why, "child: %s references %s.%s ON DELETE CASCADE, so its rows are part of a %s; "
              "they are written under \"%s\" in its fixture",
         fv(p, ct->fk_row, 2), et->schema, et->name, type, key);
    return add_secrets(p, c, find_col(p, c, fv(p, ct->fk_row, 2)), o, why);
}

/* Types and directories must be unique: a name another entity already has
 * gets the schema in front (app_recipe), then a number. */
static int taken(const cJSON *ents, const char *key, const char *v)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, ents)
    {
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(e, key);
        if (cJSON_IsString(x) && strcmp(x->valuestring, v) == 0)
            return 1;
    }
    return 0;
}

static void unique_name(const cJSON *ents, const char *key, char *out, size_t cap,
                        const char *schema, const char *base)
{
    type_name(out, cap, NULL, base);
    if (taken(ents, key, out))
        type_name(out, cap, schema, base);
    size_t n = strlen(out);
    for (int k = 2; taken(ents, key, out) && n + 4 < cap; k++)
        snprintf(out + n, cap - n, "_%d", k);
}

static int add_entity(prop *p, int i, cJSON *ents)
{
    ptab *t = &p->t[i];
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddItemToArray(ents, o))
        return -1;
    t->json = o;
    cJSON *why = add_notes(o);
    char sing[160], type[64], full[300], dir[64];
    singular(sing, sizeof sing, t->name);
    unique_name(ents, "type", type, sizeof type, t->schema, sing);
    unique_name(ents, "directory", dir, sizeof dir, t->schema, t->name);
    snprintf(full, sizeof full, "%s.%s", t->schema, t->name);
    cJSON_AddStringToObject(o, "type", type);
    cJSON_AddStringToObject(o, "table", full);
    cJSON_AddStringToObject(o, "directory", dir);
    cJSON_AddStringToObject(o, "primary_key", cv(p, t->pk, 2));
    int sd = softdel_col(p, i, why);
    if (t->asked)
        note(why, "entity type: asked for (%s)", sd >= 0 ? "it has a soft-delete column too"
                                                         : "it has no soft-delete column");
    else
        note(why, "entity type: %s has the soft-delete column %s (%s)", full, cv(p, sd, 2),
             cv(p, sd, 3));
    note(why, "type %s and directory %s: from the table's name", type, dir);

    int namec = -1;
    for (const char *const *n = name_names; *n && namec < 0; n++)
        namec = find_col(p, i, *n);
    if (namec >= 0)
        note(why, "name_column: %s (the first of name, title, label); fixture files are named "
                  "after it", cv(p, namec, 2));
    for (int r = t->first; namec < 0 && r < t->first + t->ncols; r++)
        if (r != t->pk && kind_of(p, r) == FK__COL_STRING && !secret_looking(cv(p, r, 2))) {
            namec = r;
            note(why, "name_column: %s, a GUESS (no name, title or label column; this is the "
                      "first text column); fixture files are named after it", cv(p, r, 2));
        }
    if (namec < 0) {
        namec = t->pk;
        note(why, "name_column: %s, the primary key (no text column): files are named "
                  "TYPE-ID.json", cv(p, namec, 2));
    }
    cJSON_AddStringToObject(o, "name_column", cv(p, namec, 2));
    if (sd >= 0)
        cJSON_AddStringToObject(o, "soft_delete_column", cv(p, sd, 2));
    else
        note(why, "no soft_delete_column: a deletion is a hard DELETE, which the guard blocks; "
                  "`fortknox install --add-soft-delete` adds deleted_at if you name it here");

    for (int r = t->first; r < t->first + t->ncols; r++) {
        if (!one_of(cv(p, r, 2), author_names))
            continue;
        int k = fk_of(p, i, cv(p, r, 2));
        if (p->users >= 0 && k >= 0 && fk_to(p, k) == p->users) {
            cJSON_AddStringToObject(o, "author_column", cv(p, r, 2));
            note(why, "author_column: %s references the users table %s.%s", cv(p, r, 2),
                 p->t[p->users].schema, p->t[p->users].name);
            break;
        }
        note(why, "%s is not the author_column: it does not reference the users table",
             cv(p, r, 2));
    }
    if (add_secrets(p, i, -1, o, why))
        return -1;
    cJSON *self = NULL;
    for (int k = 0; k < PQntuples(p->fks); k++) {
        if (fk_from(p, k) != i || fk_to(p, k) != i)
            continue;
        if (!self && !(self = cJSON_AddArrayToObject(o, "self_references")))
            return -1;
        cJSON_AddItemToArray(self, cJSON_CreateString(fv(p, k, 2)));
        note(why, "self_references: %s references the table itself (an import orders the rows "
                  "by it)", fv(p, k, 2));
    }
    cJSON *children = NULL;
    for (int c = 0; c < p->nt; c++) {
        if (p->t[c].role != R_CHILD || p->t[c].parent != i)
            continue;
        if (!children && !(children = cJSON_AddArrayToObject(o, "children")))
            return -1;
        if (add_child(p, c, type, children))
            return -1;
    }
    return 0;
}

static int add_users(prop *p, cJSON *root)
{
    const ptab *u = &p->t[p->users];
    cJSON *o = cJSON_AddObjectToObject(root, "users");
    if (!o)
        return -1;
    cJSON *why = add_notes(o);
    char full[300];
    snprintf(full, sizeof full, "%s.%s", u->schema, u->name);
    cJSON_AddStringToObject(o, "table", full);
    cJSON_AddStringToObject(o, "id_column", cv(p, p->users_id_row, 2));
    cJSON_AddStringToObject(o, "email_column", cv(p, p->users_email_row, 2));
    note(why, "users: %s, %s; an import gives entities whose author is gone to the admin user "
              "found here by email (--admin-email)",
         full, p->users_by_name ? "the table named users"
                                : "the table the author-named columns reference");
    for (int r = u->first; r < u->first + u->ncols; r++)
        if (secret_col(p, r))
            note(why, "%s looks like a secret; the users table is never exported, so it never "
                      "reaches a fixture", cv(p, r, 2));
    return 0;
}

static int build(prop *p, cJSON **out)
{
    cJSON *root = cJSON_CreateObject();
    *out = root;
    if (!root || !(p->notes = cJSON_CreateArray()))
        return -1;
    cJSON_AddStringToObject(root, "format", "fortknox-registry");
    cJSON_AddNumberToObject(root, "format_version", 1);
    const char *db = PQdb(p->ctx->conn);
    cJSON_AddStringToObject(root, "application", db ? db : "");
    cJSON_AddItemToObject(root, "notes", p->notes);
    note(p->notes, "A proposal made from the catalog of database %s by fk_registry_propose "
                   "(`fortknox registry init`): every guess is explained in the \"notes\" next "
                   "to it, which the library ignores. Review it, then check it: `fortknox "
                   "--registry FILE registry check`. The format: docs/registry.md.",
         db ? db : "");
    choose_entities(p);
    choose_children(p);
    if (choose_users(p))
        return -1;
    if (p->users >= 0 && add_users(p, root))
        return -1;
    cJSON *ents = cJSON_AddArrayToObject(root, "entities");
    if (!ents)
        return -1;
    for (int i = 0; i < p->nt; i++)
        if (p->t[i].role == R_ENTITY && add_entity(p, i, ents))
            return -1;
    return 0;
}

/* "\/" is PHP's way (the pretty-printer's); a person editing the file
 * reads "docs/registry.md" better. Escape-aware: "\\" stays. */
static void unescape_slashes(char *s)
{
    char *w = s;
    for (const char *r = s; *r;) {
        if (r[0] == '\\' && r[1] == '/') {
            *w++ = '/';
            r += 2;
        } else if (r[0] == '\\' && r[1]) {
            *w++ = *r++;
            *w++ = *r++;
        } else {
            *w++ = *r++;
        }
    }
    *w = '\0';
}

int fk_registry_propose_options_init(fk_registry_propose_options *opts, unsigned version)
{
    return FK__OPTIONS_INIT(opts, version, FK_REGISTRY_PROPOSE_OPTIONS_VERSION,
                            "fk_registry_propose_options_init");
}

int fk_registry_propose(char **out, fk_ctx *ctx, const fk_registry_propose_options *opts)
{
    static const char fn[] = "fk_registry_propose";
    if (out)
        *out = NULL;
    FK__BEGIN(ctx, fn);
    FK__ARG(ctx, fn, out);
    if (fk__options_check(ctx, opts, FK_REGISTRY_PROPOSE_OPTIONS_VERSION, fn))
        return FK_EINVAL;
    FK__ARG(ctx, fn, !opts || !opts->nschemas || opts->schemas);
    FK__ARG(ctx, fn, !opts || !opts->ntables || opts->tables);
    prop p = {.ctx = ctx, .users = -1};
    cJSON *root = NULL;
    int rc = load(&p, opts);
    if (!rc)
        rc = take_asked(&p, opts);
    if (!rc && build(&p, &root))
        rc = fk__oom(ctx);
    if (!rc && cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(root, "entities")) == 0)
        rc = fk__fail(ctx, FK_ENOTFOUND,
                      "no table to propose: none%s has a soft-delete column (deleted_at, "
                      "deleted_on, deleted_date, removed_at or trashed_at: a nullable timestamp "
                      "or date) and a one-column integer primary key; name the design tables "
                      "with --table SCHEMA.TABLE (fk_registry_propose_options.tables)",
                      opts && opts->nschemas ? " in the schemas looked at" : "");
    char *text = rc ? NULL : cJSON_PrintUnformatted(root);
    if (!rc && !text)
        rc = fk__oom(ctx);
    if (!rc) {
        fk__buf b = FK__BUF_INIT;
        fk__json_error jerr;
        if (fk__json_pretty(&b, text, strlen(text), 0, FK__JSON_STYLE_CANONICAL, &jerr) != 0 &&
            !fk__json_error_is_oom(&jerr)) {
            fk__buf_dispose(&b); /* a SQL_ASCII database can hold any bytes in a name */
            rc = fk__fail(ctx, FK_EUNSUPPORTED, "a name in the catalog is not valid UTF-8 (%s)",
                          jerr.msg);
        } else if (fk__buf_failed(&b) || fk__buf_putc(&b, '\n') != 0 ||
                   !(*out = fk__buf_detach(&b))) {
            fk__buf_dispose(&b);
            rc = fk__oom(ctx);
        } else {
            unescape_slashes(*out);
        }
    }
    cJSON_free(text);
    cJSON_Delete(root);
    PQclear(p.cols);
    PQclear(p.fks);
    fk__xfree(p.t);
    return rc;
}
