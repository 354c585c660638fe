/* The static SQL of an install: the .sql files of lib/sql/, embedded at build time by
 * tools/embed.py (lib/meson.build). Each is a template whose placeholders
 * fk__sql_emit() (sql_template.h) fills in with quoted identifiers. */
#ifndef FK_SQL_FILES_H
#define FK_SQL_FILES_H

/* The placeholders, as in the files' headers. */
#define FK__SQL_SCHEMA "@extschema@"
#define FK__SQL_AUDIT "@audit_table@"

/* In the order they run; entity_doc (generated) goes between audit_write
 * and capture. */
extern const char fk__sql_core[];        /* core--1.sql */
extern const char fk__sql_audit_write[]; /* audit_write--1.sql */
extern const char fk__sql_capture[];     /* capture--1.sql */
extern const char fk__sql_guard[];       /* guard--1.sql */
extern const char fk__sql_ddl_guard[];   /* ddl_guard--1.sql */
/* Last, and only as a superuser (event triggers): */
extern const char fk__sql_ddl_guard_events[]; /* ddl_guard_events--1.sql */
/* Only when Parthenon's own design_audit_log is adopted as the audit table:
 * before everything, and after everything but the DDL guard's events. */
extern const char fk__sql_adopt_before[]; /* adopt_before--1.sql */
extern const char fk__sql_adopt_after[];  /* adopt_after--1.sql */
/* A query, not an install step: the catalog's hash of what install made. */
extern const char fk__sql_fingerprint[]; /* fingerprint--1.sql */

#endif
