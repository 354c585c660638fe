-- libfortknox schema version 1: adopting Parthenon's own design_audit_log as the
-- audit table, first part: before the install's SQL, its foreign keys (which
-- made users undeletable) and its trigger go, and its id loses its default
-- (the chain numbers the rows), and its time gains microseconds (the chain's
-- time orders rows; seconds cannot). Runs only when that table already exists.
--
-- Placeholders, filled in by fortknox install (lib/sql/sql_template.c)
-- with quoted identifiers, as PostgreSQL extension scripts use @extschema@:
--   @extschema@    the fortknox schema, e.g. "fortknox"
--   @audit_table@  the audit table, schema-qualified, e.g. "fortknox"."audit_log"
-- Fill them in (sed) to run this file with psql -f; lib/sql/README.md.
--

DO $a$ DECLARE c record; BEGIN FOR c IN SELECT conname FROM pg_constraint WHERE conrelid = '@audit_table@'::regclass AND contype = 'f' LOOP EXECUTE format('ALTER TABLE @audit_table@ DROP CONSTRAINT %I', c.conname); END LOOP; END $a$;
DROP TRIGGER IF EXISTS design_audit_log_no_update_delete ON @audit_table@;
ALTER TABLE @audit_table@ ALTER COLUMN id DROP DEFAULT;
ALTER TABLE @audit_table@ ALTER COLUMN created_at TYPE timestamp(6) without time zone;
