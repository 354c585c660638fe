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

-- The context an audit row records: the library's own (p), unless a member
-- of the override role stated one (fortknox.context, allow('context')).
-- The override is asked only when a context is stated: it reads the
-- catalog, and capture asks on every first change of an entity.
CREATE OR REPLACE FUNCTION @extschema@.context(p text) RETURNS text LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $f$
BEGIN
  RETURN CASE WHEN @extschema@.setting('fortknox.context') IS NULL THEN p WHEN @extschema@.override_allowed('context') THEN @extschema@.setting('fortknox.context') ELSE p END;
END $f$;

CREATE OR REPLACE FUNCTION @extschema@.write(p_type text, p_id bigint, p_name text, p_action text, p_old jsonb, p_new jsonb, p_context text) RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $f$
BEGIN
  INSERT INTO @audit_table@ (entity_type, entity_id, entity_name, action, actor_id, actor_email, old_json, new_json, ip_address, context) VALUES (p_type, p_id, p_name, p_action, @extschema@.actor_id(), left(@extschema@.setting('fortknox.actor_email'), 255), p_old, p_new, left(@extschema@.setting('fortknox.ip'), 45), @extschema@.context(p_context));
  PERFORM pg_notify('fortknox', json_build_object('type', p_type, 'id', p_id, 'action', p_action)::text);
END $f$;

-- Imports and restores write their own single row per entity. Silencing
-- capture is an override (guard--1.sql): a fortknox.context set by anyone
-- else changes nothing.
CREATE OR REPLACE FUNCTION @extschema@.quiet() RETURNS boolean LANGUAGE plpgsql STABLE AS $f$
BEGIN
  RETURN coalesce(@extschema@.setting('fortknox.context') ~ '^(import|restore)', false) AND @extschema@.override_allowed('context');
END $f$;

-- The application's audit rows (app mode; fk_audit_write): the only way
-- the application role writes to the log, which it may not INSERT into.
-- The row is stamped here: context 'app', time and hashes by the chain;
-- an event naming another actor than the session's stated one
-- (fortknox.actor_id, when set) is refused unless the caller holds the
-- override role.
CREATE OR REPLACE FUNCTION @extschema@.app_write(p_type text, p_id bigint, p_name text, p_action text, p_actor_id bigint, p_actor_email text, p_old jsonb, p_new jsonb, p_ip text) RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $f$
DECLARE stated bigint := @extschema@.actor_id(); r oid := (SELECT o.oid FROM pg_roles o WHERE o.rolname = @extschema@.override_role()); new_id bigint;
BEGIN
  IF p_action IS NULL OR p_action NOT IN ('created', 'updated', 'deleted', 'restored', 'force_deleted') THEN
    RAISE EXCEPTION 'fortknox app_write: action % is not one of created, updated, deleted, restored, force_deleted', quote_nullable(p_action) USING ERRCODE = '22023';
  END IF;
  IF (SELECT m.value FROM @extschema@.meta m WHERE m.key = 'mode') = 'capture' THEN
    RAISE EXCEPTION 'fortknox app_write: the audit log is in capture mode: the database records every change itself' USING ERRCODE = '55000';
  END IF;
  IF p_actor_id IS DISTINCT FROM stated AND p_actor_id IS NOT NULL AND stated IS NOT NULL AND NOT (r IS NOT NULL AND pg_has_role(session_user, r, 'MEMBER')) THEN
    RAISE EXCEPTION 'fortknox app_write: actor % is not this session''s actor (fortknox.actor_id = %)', p_actor_id, stated USING ERRCODE = '42501';
  END IF;
  INSERT INTO @audit_table@ (entity_type, entity_id, entity_name, action, actor_id, actor_email, old_json, new_json, ip_address, context) VALUES (p_type, p_id, coalesce(p_name, ''), p_action, p_actor_id, p_actor_email, p_old, p_new, p_ip, 'app') RETURNING id INTO new_id;
  RETURN new_id;
END $f$;

-- SECURITY DEFINER functions are the library's own: not for PUBLIC (install
-- grants app_write to the application role, write to the override role).
REVOKE ALL ON FUNCTION @extschema@.write(text, bigint, text, text, jsonb, jsonb, text), @extschema@.app_write(text, bigint, text, text, bigint, text, jsonb, jsonb, text) FROM PUBLIC;
