/* Layer 1, the guards: the SQL that makes the database refuse to lose a
 * design record (DELETE and TRUNCATE on the registry's tables, also through
 * ON DELETE CASCADE and TRUNCATE ... CASCADE), generated from the registry.
 * The guard functions are lib/sql/guard--1.sql; the trigger names are
 * lib/sql/sql_names.h, which doctor reads too. */
#ifndef FK_GUARD_SQL_H
#define FK_GUARD_SQL_H

#include "buf.h"
#include "registry.h"

/* Appends the guard functions and, per entity table and child table, the
 * guard triggers (guards = 1) or their removal (guards = 0). S, A: the
 * quoted fortknox schema and audit table. capture: the install records
 * entities by capture triggers, so an overridden TRUNCATE records every
 * truncated entity's last state. */
void fk__guard_sql(fk__buf *b, const fk__registry *reg, const char *S, const char *A, int guards,
                   int capture);

/* Appends the DDL guard's tables and helpers (ddl_guard--1.sql) and what it
 * protects: every registered and child table with its columns of today,
 * the library's tables and functions, with their catalog state. The event
 * triggers that use them (ddl_guard_events--1.sql, a superuser's part) are
 * install's to run. */
void fk__guard_sql_ddl(fk__buf *b, const fk__registry *reg, const char *S, const char *A);

#endif
