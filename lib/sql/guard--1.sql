-- libfortknox schema version 1: layer 1, the delete and truncate guards (FK001). Runs
-- after capture; an overridden truncate is still recorded, with what it
-- removed.
--
-- Placeholders, filled in by fortknox install (lib/sql/sql_template.c)
-- with quoted identifiers, as PostgreSQL extension scripts use @extschema@:
--   @extschema@    the fortknox schema, e.g. "fortknox"
--   @audit_table@  the audit table, schema-qualified, e.g. "fortknox"."audit_log"
-- Fill them in (sed) to run this file with psql -f; lib/sql/README.md.
-- Function bodies are kept byte for byte as installed: reflowing one changes
-- the function's text in every database that reinstalls it.
--

-- TG_ARGV: primary key. It runs with the deleting session's rights, so its
-- search_path is fixed: a role that can create functions in a schema on its
-- own search_path could otherwise shadow current_setting() and delete.
CREATE OR REPLACE FUNCTION @extschema@.guard_delete() RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $f$
BEGIN
  IF current_setting('fortknox.allow_hard_delete', true) = 'on' THEN RETURN OLD; END IF;
  RAISE EXCEPTION 'hard delete of % id % blocked by fortknox; soft-delete it, or SET LOCAL fortknox.allow_hard_delete = on', TG_TABLE_NAME, to_jsonb(OLD) ->> TG_ARGV[0] USING ERRCODE = 'FK001', HINT = 'this table is protected by libfortknox (layer 1)';
END $f$;

-- TG_ARGV: entity type, capture flag, primary key, name column.
CREATE OR REPLACE FUNCTION @extschema@.guard_truncate() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $f$
DECLARE n bigint;
BEGIN
  IF current_setting('fortknox.allow_truncate', true) IS DISTINCT FROM 'on' THEN
    RAISE EXCEPTION 'TRUNCATE of %.% blocked by fortknox (also when reached through TRUNCATE ... CASCADE); delete rows individually, or SET LOCAL fortknox.allow_truncate = on', TG_TABLE_SCHEMA, TG_TABLE_NAME USING ERRCODE = 'FK001', HINT = 'this table holds design entities protected by libfortknox (layer 1)';
  END IF;
  EXECUTE format('SELECT count(*) FROM %I.%I', TG_TABLE_SCHEMA, TG_TABLE_NAME) INTO n;
  PERFORM @extschema@.write(TG_ARGV[0], 0, TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, 'truncated', NULL, jsonb_build_object('table', TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, 'rows', n), 'truncate');
  IF TG_ARGV[1] = 'capture' AND TG_ARGV[2] <> '' THEN
    EXECUTE format('SELECT @extschema@.write(%L, (to_jsonb(t) ->> %L)::bigint, to_jsonb(t) ->> %L, ''force_deleted'', @extschema@.entity_doc(%L, (to_jsonb(t) ->> %L)::bigint, to_jsonb(t)), NULL, ''truncate'') FROM %I.%I t', TG_ARGV[0], TG_ARGV[2], TG_ARGV[3], TG_ARGV[0], TG_ARGV[2], TG_TABLE_SCHEMA, TG_TABLE_NAME);
  END IF;
  RETURN NULL;
END $f$;
