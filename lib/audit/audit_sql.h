/* Layer 2's SQL, generated from the registry: the audit table and its hash
 * chain, the audit-write and capture functions (lib/sql/core--1.sql,
 * audit_write--1.sql, capture--1.sql), entity_doc() (what an entity is, as
 * the audit log records it), and the capture triggers. */
#ifndef FK_AUDIT_SQL_H
#define FK_AUDIT_SQL_H

#include "buf.h"
#include "registry.h"

/* Appends the audit log's objects and functions, entity_doc() included.
 * S, A: the quoted fortknox schema and audit table. */
void fk__audit_sql_functions(fk__buf *b, const fk__registry *reg, const char *S, const char *A);

/* Appends, per entity table and child table, the capture triggers
 * (capture = 1) or their removal. */
void fk__audit_sql_triggers(fk__buf *b, const fk__registry *reg, const char *S, int capture);

#endif
