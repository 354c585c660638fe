/* Column kinds: how a PostgreSQL column travels through a fixture. One row
 * per kind in one table (coltype.c) says everything about it -- which
 * catalog types have it, its name in fk_registry_describe, how export
 * writes a value, what import accepts, which JSON types an export writes
 * (for the schema-drift check) and how the server reads a value back.
 * docs/internals/add-a-column-kind.md is the recipe for a new one. */
#ifndef FK_MODEL_COLTYPE_H
#define FK_MODEL_COLTYPE_H

#include <stddef.h>
#include "buf.h"
#include "json_text.h"

/* How a column's PostgreSQL text output becomes JSON. */
typedef enum fk__colkind {
    FK__COL_STRING = 0,  /* anything else: the text output as a JSON string */
    FK__COL_INT,         /* int2/int4/int8/oid: a JSON integer */
    FK__COL_NUMERIC,     /* numeric: a JSON number, exact when a double cannot hold it */
    FK__COL_FLOAT,       /* float4/float8: a JSON number (NaN, Infinity and -0 as strings) */
    FK__COL_BOOL,        /* true/false */
    FK__COL_JSON,        /* jsonb: embedded, re-indented */
    FK__COL_TIMESTAMP,   /* timestamp[tz]: "YYYY-MM-DDTHH:MM:SS.ffffffZ" */
    FK__COL_DATE,        /* date: "YYYY-MM-DD" */
    FK__COL_JSONTEXT,    /* json (not jsonb): its exact text as a JSON string; json keeps
                          * spaces, key order and duplicate keys, which an embedded value
                          * (travelling as jsonb) would lose */
    FK__COL_NKINDS       /* not a kind: how many there are */
} fk__colkind;

struct fk__column;

/* How import's SQL reads a file value back into the column (import_sql.c). */
typedef enum fk__colrestore {
    FK__RESTORE_TEXT = 0,  /* the column's text input (jsonb_populate_record) */
    FK__RESTORE_JSONB,     /* an embedded value; null is SQL NULL unless the manifest lists
                            * the path as JSON null (export notes those paths) */
    FK__RESTORE_JSON_TEXT  /* a string is the value's exact text; an embedded value (files
                            * written before) is taken as it is */
} fk__colrestore;

/* The bit of a JSON type in fk__coltype.writes. */
#define FK__JT_BIT(t) (1u << (t))

typedef struct fk__coltype {
    const char *name; /* fk_registry_describe's "kind" */
    /* The catalog types of this kind (a domain counts as its base type):
     * pg_type OID and typname. Kinds without any take every other type. */
    struct {
        unsigned oid;
        const char *typname;
    } types[4];
    /* Export: appends the JSON for the server's text output v[0..n) of
     * column c (never SQL NULL: the caller writes null). style is the
     * format's (PHP or CANONICAL); level the nesting for embedded JSON.
     * 0, or -1 (err->msg filled when the value itself is at fault). */
    int (*put)(fk__buf *b, const struct fk__column *c, const char *v, size_t n,
               fk__json_style style, int level, fk__json_error *err);
    /* Import: NULL when member m (not null) can restore the column, else
     * what it must be ("must be an integer"). The server has the last word
     * on ranges; this check exists to name the file, line and column. */
    const char *(*check)(const fk__jmember *m);
    /* FK__JT_BIT of every JSON type put writes, null aside: a file holding
     * another type was written before the column was retyped. */
    unsigned writes;
    fk__colrestore restore;
} fk__coltype;

/* The row of kind k (a valid fk__colkind). */
const fk__coltype *fk__coltype_of(fk__colkind k);

/* The kind of a column whose type (or domain's base type) has this OID. */
fk__colkind fk__coltype_kind_of_oid(unsigned oid);

#endif
