-- libfortknox schema version 1: writing one audit row for a captured change (used by
-- the triggers). Runs after core.
--
-- Placeholders, filled in by fortknox install (lib/sql/sql_template.c)
-- with quoted identifiers, as PostgreSQL extension scripts use @extschema@:
--   @extschema@    the fortknox schema, e.g. "fortknox"
--   @audit_table@  the audit table, schema-qualified, e.g. "fortknox"."audit_log"
-- Fill them in (sed) to run this file with psql -f; lib/sql/README.md.
-- Function bodies are kept byte for byte as installed: reflowing one changes
-- the function's text in every database that reinstalls it.
--

CREATE OR REPLACE FUNCTION @extschema@.write(p_type text, p_id bigint, p_name text, p_action text, p_old jsonb, p_new jsonb, p_context text) RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $f$
BEGIN
  INSERT INTO @audit_table@ (entity_type, entity_id, entity_name, action, actor_id, actor_email, old_json, new_json, ip_address, context) VALUES (p_type, p_id, p_name, p_action, @extschema@.actor_id(), left(@extschema@.setting('fortknox.actor_email'), 255), p_old, p_new, left(@extschema@.setting('fortknox.ip'), 45), coalesce(@extschema@.setting('fortknox.context'), p_context));
  PERFORM pg_notify('fortknox', json_build_object('type', p_type, 'id', p_id, 'action', p_action)::text);
END $f$;

-- Imports and restores write their own single row per entity.
CREATE OR REPLACE FUNCTION @extschema@.quiet() RETURNS boolean LANGUAGE sql STABLE AS $f$ SELECT coalesce(@extschema@.setting('fortknox.context') ~ '^(import|restore)', false) $f$;
