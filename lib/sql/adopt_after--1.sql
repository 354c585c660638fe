-- libfortknox schema version 1: adopting Parthenon's design_audit_log, second
-- part: after the install's SQL, its existing rows join the hash chain in id
-- order and the chain head and id sequence move past them. The immutability
-- and head guards are paused for that, in the install's transaction, and
-- put back ENABLE ALWAYS.
--
-- Placeholders, filled in by fortknox install (lib/sql/sql_template.c)
-- with quoted identifiers, as PostgreSQL extension scripts use @extschema@:
--   @extschema@    the fortknox schema, e.g. "fortknox"
--   @audit_table@  the audit table, schema-qualified, e.g. "fortknox"."audit_log"
-- Fill them in (sed) to run this file with psql -f; lib/sql/README.md.
--

ALTER TABLE @audit_table@ DISABLE TRIGGER fortknox_immutable;
ALTER TABLE @extschema@.audit_head DISABLE TRIGGER fortknox_head_guard;
DO $a$ DECLARE r @audit_table@; prev text := repeat('0', 64); last bigint := 0; BEGIN FOR r IN SELECT * FROM @audit_table@ ORDER BY id LOOP r.prev_hash := prev; prev := @extschema@.row_hash(r); last := r.id; UPDATE @audit_table@ SET prev_hash = r.prev_hash, row_hash = prev WHERE id = r.id; END LOOP; UPDATE @extschema@.audit_head SET last_id = last, last_hash = prev, last_at = (SELECT max(a.created_at) FROM @audit_table@ a); IF last > 0 THEN PERFORM setval('@extschema@.audit_id_seq', last); END IF; END $a$;
ALTER TABLE @audit_table@ ENABLE ALWAYS TRIGGER fortknox_immutable;
ALTER TABLE @extschema@.audit_head ENABLE ALWAYS TRIGGER fortknox_head_guard;
