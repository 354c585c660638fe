/* The SQL the importer sends: one statement per batch of fixture documents
 * and table, built from the resolved registry. The documents travel as one
 * jsonb array parameter and are taken apart by the server
 * (jsonb_populate_record), so values arrive exactly as written, whatever
 * their size or precision, in one round trip per batch. */
#ifndef FK_L3_IMPORT_SQL_H
#define FK_L3_IMPORT_SQL_H

#include "buf.h"
#include "registry.h"

/* Upserts the parent rows of a batch.
 * $1 jsonb array of documents, $2 admin user id (or NULL), $3 type name,
 * $4 the manifest's JSON nulls of the batch's entities, {"<id>": ["path",
 * ...]} (or NULL): a json/jsonb null is SQL NULL unless listed there.
 * Returns one row per document, in order: ord, id, existed (bool),
 * changed fields (jsonb array of names, NULL if none), dangling references
 * set to NULL or to the admin (jsonb array of column names). Also records
 * each id in pg_temp.fk_import_seen and its self-references in
 * pg_temp.fk_import_selfref. */
int fk__import_parent_sql(fk__buf *sql, const fk__registry *reg, const fk__etype *e);

/* Replaces the children under one key for the documents of a batch that
 * carry that key. $1 jsonb array of documents, $2 admin user id, $3 the
 * JSON nulls as for the parents ("<key>/<child id>/<column>" paths).
 * Returns the distinct parent ids whose children changed. */
int fk__import_child_sql(fk__buf *sql, const fk__registry *reg, const fk__etype *e,
                         const fk__child *c);

/* Second pass for self-references. $1 type name. Returns id, wanted value
 * and whether it dangled (then set to NULL). */
int fk__import_selfref_sql(fk__buf *sql, const fk__etype *e, size_t k);

/* Moves the sequence behind table t's primary key past its highest id. */
int fk__import_sequence_sql(fk__buf *sql, const fk__table *t);

#endif
