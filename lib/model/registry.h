/* The entity registry: which tables hold entities, how their fixtures are
 * laid out, and (after resolution against the catalog) their columns.
 * Every identifier that reaches SQL comes from here and was found in the
 * catalog; it is always quoted (fk__reg_quoted). */
#ifndef FK_L3_REGISTRY_H
#define FK_L3_REGISTRY_H

#include <stddef.h>
#include "coltype.h"
#include "ctx_internal.h"

typedef struct fk__column {
    char *name;
    char *quoted;        /* "name" with quotes doubled */
    char *type_sql;      /* format_type(): "character varying(255)" */
    fk__colkind kind;    /* its row in the table of kinds: fk__coltype_of(kind) */
    int notnull;
    int secret;          /* never exported, never written by import */
    char *default_expr;  /* pg_get_expr of the default, or NULL */
    int default_volatile; /* nextval() and friends */
    int generated;       /* GENERATED ALWAYS AS (...): exported, never written */
    char *fk_table;      /* quoted, schema-qualified target of a one-column FK, or NULL */
    char *fk_column;     /* quoted target column */
} fk__column;

typedef struct fk__table {
    char *schema;        /* as written in the registry */
    char *name;
    char *quoted;        /* "schema"."name" */
    fk__column *cols;    /* in attnum order, after resolution */
    size_t ncols;
    int pk;              /* index of the primary-key column */
    char **secret_names; /* from the registry, before resolution */
    size_t nsecrets;
    int missing;         /* not in the catalog (dropped, renamed, moved): ncols is 0 */
} fk__table;

typedef struct fk__child {
    char *key;           /* JSON key in the parent document, e.g. "items" */
    fk__table t;
    char *fk_name;       /* column referencing the parent */
    char *pk_name;
    int fk;              /* its index after resolution */
    int omit_when_empty; /* write no key when there are no rows (HEOR: Parthenon never wrote them) */
} fk__child;

typedef struct fk__etype {
    char *name;          /* "cohort_definition" */
    char *dir;           /* "cohort_definitions" */
    fk__table t;
    char *pk_name, *name_col_name, *softdel_name, *author_name;
    int name_col, softdel, author; /* indexes after resolution; -1 = none */
    char **selfref_names;
    size_t nselfrefs;
    int *selfrefs;       /* column indexes */
    fk__child *children; /* in restore order (siblings they reference come first) */
    size_t nchildren;
    /* NULL when every table and column the registry names resolved; else why
     * this type cannot be read or written ("table app.x (child table of y)
     * does not exist in the database"). A damaged type is a finding, never a
     * crash: calls that need it fail with this message (fk__etype_usable),
     * calls that survey everything report it. */
    char *damage;
} fk__etype;

typedef struct fk__registry {
    fk__etype *types;
    size_t ntypes;
    fk__table users;     /* for the admin fallback; its columns are resolved too */
    char *users_id_name, *users_email_name;
    int users_id, users_email;
    char *users_damage;  /* like fk__etype.damage, for the users table (admin fallback) */
    /* Every problem the resolution found, in registry order (a type's first
     * one is also its damage): fk_registry_check lists them all. */
    char **problems;
    size_t nproblems;
    char *source;        /* where it came from, for messages: a file path, or
                            FK__BUILTIN_REGISTRY (set by fk__ctx_registry) */
    int resolved;
} fk__registry;

/* Parses a registry document; errors name the offending key. Does not touch
 * the database. source is used in messages ("registry.json"). */
int fk__registry_parse(fk_ctx *ctx, fk__registry **out, const char *json, size_t len,
                       const char *source);

/* The built-in Parthenon registry document, and its name in messages. */
#define FK__BUILTIN_REGISTRY "built-in Parthenon registry"
extern const char fk__parthenon_registry_json[];

/* Reads every table's columns, keys and FKs from the catalog. A table or
 * column that does not exist (or has an unusable type) does not fail the
 * resolution: it marks its entity type damaged (fk__etype.damage), so a
 * damaged database can still be examined. Fails only when the catalog cannot
 * be read or memory runs out. */
int fk__registry_resolve(fk_ctx *ctx, fk__registry *reg);

/* FK_OK when e is intact; else fails on ctx with e's damage (FK_ENOTFOUND),
 * for calls that must read or write e's tables. */
int fk__etype_usable(fk_ctx *ctx, const fk__etype *e);

/* FK_OK when every type (and the users table) is intact; else fails with the
 * first damage, for calls that work on every type at once. */
int fk__registry_usable(fk_ctx *ctx, const fk__registry *reg);

/* 1 when not one entity table of reg exists in the database: most likely
 * a registry meant for another database (the built-in Parthenon one on your
 * own application's). */
int fk__registry_foreign(const fk__registry *reg);

/* "registry in use: the built-in Parthenon registry; another one: ...":
 * for messages about tables that do not exist. Returns out. */
const char *fk__registry_in_use(const fk__registry *reg, char *out, size_t cap);

void fk__registry_free(fk__registry *reg);

/* The context's registry, loaded and resolved on first use. */
int fk__ctx_registry(fk_ctx *ctx, fk__registry **out);

/* The context's entity type by name; FK_ENOTFOUND (with a message) if none
 * or if it is damaged (see fk__etype.damage). */
int fk__ctx_etype(fk_ctx *ctx, const char *type_name, const fk__etype **out);

const fk__etype *fk__registry_find(const fk__registry *reg, const char *type_name);
const fk__etype *fk__registry_find_dir(const fk__registry *reg, const char *dir);
const fk__etype *fk__registry_find_table(const fk__registry *reg, const char *schema,
                                         const char *table);

/* The entity-type name rule, [a-z][a-z0-9_]{0,62} (s[0..n), NUL bytes
 * refused): a registry's types and child keys, and the manifest's "type"
 * values, which must name such types. */
int fk__type_name_ok(const char *s, size_t n);

/* Column index by name, -1 when absent. */
int fk__table_col(const fk__table *t, const char *name);

/* What capture needs to know of a table of a resolved, usable type: the
 * entity table (child < 0) or child table `child`. The arguments of its
 * capture trigger (lib/sql/capture--1.sql capture_mark) and, after the
 * mode, of its truncate guard: entity type, the column holding the entity's
 * id (primary key, or the child's parent key), name column, soft-delete
 * column or "", "entity" or "child". */
#define FK__CAPTURE_NARGS 5
void fk__capture_args(const fk__etype *e, int child, const char *out[FK__CAPTURE_NARGS]);


#endif
