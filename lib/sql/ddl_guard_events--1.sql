-- libfortknox schema version 1: layer 1, the DDL guard's event triggers. A superuser's
-- part: install runs it only as one (only a superuser creates event
-- triggers) and says which protections are missing otherwise. Runs last.
--
-- Placeholders, filled in by fortknox install (lib/install/install_sql.c)
-- with quoted identifiers, as PostgreSQL extension scripts use @extschema@:
--   @extschema@    the fortknox schema, e.g. "fortknox"
--   @audit_table@  the audit table, schema-qualified, e.g. "fortknox"."audit_log"
-- Fill them in (sed) to run this file with psql -f; lib/sql/README.md.
-- Function bodies are kept byte for byte as installed: reflowing one changes
-- the function's text in every database that reinstalls it.
--
-- The functions live in pg_catalog, not in the library's schema: a DROP
-- SCHEMA fortknox CASCADE would take them and the event triggers that
-- depend on them with it, and PostgreSQL fires no sql_drop for an event
-- trigger dropped by the command itself. Only a superuser can create, drop
-- or replace a function in pg_catalog; only a superuser can disable or drop
-- an event trigger (PostgreSQL fires no event trigger for either: doctor
-- reports it, FK-NO-DDL-GUARD). SECURITY DEFINER: the guard reads the
-- catalog, counts rows and writes the audit log whoever runs the DDL.

-- ddl_command_start: what a DROP would lose, counted while the tables are
-- still there, for sql_drop's refusal (the command's objects are only known
-- afterwards). DROP TABLE counts only the tables its text names.
-- override_allowed('ddl') (guard--1.sql) for when the library's schema is
-- being dropped or renamed and its own functions cannot be called: this
-- transaction's id, set by allow('ddl'), and the session's role a member of
-- the override role of the schema lib (<lib>_override, cut as install cuts it).
CREATE OR REPLACE FUNCTION pg_catalog.fortknox_ddl_override(lib text) RETURNS boolean LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $f$ SELECT coalesce(current_setting('fortknox.allow_ddl', true) = pg_current_xact_id_if_assigned()::text, false) AND EXISTS (SELECT 1 FROM pg_roles o WHERE o.rolname = left(lib, 54) || '_override' AND pg_has_role(session_user, o.oid, 'MEMBER')) $f$;

CREATE OR REPLACE FUNCTION pg_catalog.fortknox_ddl_start() RETURNS event_trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $f$
DECLARE q text := lower(coalesce(current_query(), '')); stake jsonb := '{}'; r record; n bigint;
BEGIN
  IF tg_tag NOT IN ('DROP TABLE', 'DROP SCHEMA', 'DROP OWNED') OR to_regclass('@extschema@.protected') IS NULL THEN RETURN; END IF;
  IF @extschema@.override_allowed('ddl') THEN RETURN; END IF;
  FOR r IN SELECT p.relid, c.relname FROM @extschema@.protected p JOIN pg_class c ON c.oid = p.relid WHERE p.kind IN ('entity', 'child') LOOP
    IF tg_tag <> 'DROP TABLE' OR position(lower(r.relname) IN q) > 0 THEN
      EXECUTE format('SELECT count(*) FROM %s', r.relid::regclass) INTO n;
      stake := stake || jsonb_build_object(r.relid::text, n);
    END IF;
  END LOOP;
  PERFORM set_config('fortknox.ddl_at_stake', stake::text, true);
END $f$;

-- sql_drop: a registered table or column, or anything of the library's
-- schema, among what the command dropped.
CREATE OR REPLACE FUNCTION pg_catalog.fortknox_sql_drop() RETURNS event_trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $f$
DECLARE lib text := (parse_ident('@extschema@'))[1]; stake jsonb; lost text; libobjs jsonb; rec jsonb; entities bigint; tables bigint;
BEGIN
  IF EXISTS (SELECT 1 FROM pg_event_trigger_dropped_objects() d WHERE d.object_type = 'schema' AND d.object_identity = quote_ident(lib)) OR to_regclass('@extschema@.protected') IS NULL OR to_regclass('@audit_table@') IS NULL THEN
    -- the library itself, or its audit log: its override function may be
    -- gone with it (fortknox_ddl_override asks what it asks); nothing can be
    -- recorded in a log being dropped
    IF pg_catalog.fortknox_ddl_override(lib) THEN
      RAISE WARNING 'fortknox: % drops the library''s schema % or its audit log; not recorded (doctor: FK-NOT-INSTALLED)', tg_tag, lib;
      RETURN;
    END IF;
    RAISE EXCEPTION '% refused by fortknox: it drops the library''s schema % or its audit log (every recorded change of every design); nothing was changed', tg_tag, lib USING ERRCODE = 'FK001', HINT = 'libfortknox (layer 1, the DDL guard). If this is intended, export the fixtures first and, as a member of the override role, run it in a transaction after SELECT ' || lib || '.allow(''ddl'')';
  END IF;
  stake := coalesce(nullif(current_setting('fortknox.ddl_at_stake', true), ''), '{}')::jsonb;
  -- said compactly, the entities first: the message is what a developer
  -- whose migrate:fresh just failed reads
  SELECT string_agg(CASE WHEN d.objsubid = 0 THEN format('%s%s', p.state ->> 'name', CASE WHEN stake ? p.relid::text THEN format(' (%s %s)', stake ->> p.relid::text, CASE WHEN p.kind = 'child' THEN 'item rows' ELSE p.label END) ELSE '' END) ELSE format('column %s', d.object_identity) END, ', ' ORDER BY p.kind DESC, p.label),
         jsonb_agg(d.object_identity), sum((stake ->> p.relid::text)::bigint) FILTER (WHERE d.objsubid = 0 AND p.kind = 'entity'), count(*) FILTER (WHERE d.objsubid = 0)
    INTO lost, rec, entities, tables
    FROM pg_event_trigger_dropped_objects() d JOIN @extschema@.protected p ON p.kind <> 'functions' AND d.classid = 'pg_class'::regclass AND d.objid = p.relid
   WHERE d.objsubid = 0 OR d.objsubid = ANY(p.cols);
  SELECT jsonb_agg(d.object_identity) INTO libobjs FROM pg_event_trigger_dropped_objects() d WHERE d.schema_name = lib;
  -- for ddl_command_end: the tables that lost a trigger or rule
  PERFORM set_config('fortknox.ddl_dropped', ARRAY(SELECT to_regclass(quote_ident(d.address_names[1]) || '.' || quote_ident(d.address_names[2]))::oid FROM pg_event_trigger_dropped_objects() d WHERE d.object_type IN ('trigger', 'rule') AND cardinality(d.address_names) = 3)::text, true);
  IF lost IS NULL AND libobjs IS NULL THEN RETURN; END IF;
  IF NOT @extschema@.override_allowed('ddl') THEN
    IF lost IS NOT NULL THEN
      PERFORM @extschema@.ddl_refuse(tg_tag, format('it would destroy %s%s: %s', CASE WHEN tables = 0 THEN 'registered columns' WHEN entities IS NOT NULL THEN format('%s design entities in %s registered table%s', entities, tables, CASE WHEN tables > 1 THEN 's' ELSE '' END) ELSE format('%s registered table%s', tables, CASE WHEN tables > 1 THEN 's' ELSE '' END) END, CASE WHEN tg_tag = 'DROP TABLE' AND (SELECT count(*) FROM pg_event_trigger_dropped_objects() d WHERE d.object_type = 'table' AND d.original) > 1 THEN ' (dropping every table, as Laravel''s migrate:fresh and db:wipe do)' ELSE '' END, lost));
    END IF;
    PERFORM @extschema@.ddl_refuse(tg_tag, format('it drops objects of the library (%s)', libobjs));
  END IF;
  PERFORM @extschema@.ddl_record(tg_tag, jsonb_build_object('dropped', coalesce(rec, '[]') || coalesce(libobjs, '[]')));
  -- what is gone is no longer protected; a dropped column leaves its table's list
  DELETE FROM @extschema@.protected p USING pg_event_trigger_dropped_objects() d WHERE d.classid = 'pg_class'::regclass AND d.objid = p.relid AND d.objsubid = 0 AND p.kind <> 'functions';
  UPDATE @extschema@.protected p SET cols = array(SELECT x FROM unnest(p.cols) x WHERE x NOT IN (SELECT d.objsubid FROM pg_event_trigger_dropped_objects() d WHERE d.classid = 'pg_class'::regclass AND d.objid = p.relid)) WHERE p.kind <> 'functions';
  UPDATE @extschema@.protected p SET state = @extschema@.ddl_state(p.kind, p.relid, p.cols);
END $f$;

-- ddl_command_end: what the command changed of the protected objects'
-- state (names, columns, owners, inheritance, row security, the library's
-- triggers and rules on them, the library's functions and grants).
CREATE OR REPLACE FUNCTION pg_catalog.fortknox_ddl_end() RETURNS event_trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $f$
DECLARE changed text; rec jsonb; s record; ok boolean; touched oid[];
BEGIN
  IF to_regclass('@extschema@.protected') IS NULL THEN
    -- the library's schema renamed away: it is still the one holding its tables
    IF tg_tag = 'ALTER SCHEMA' THEN
      FOR s IN SELECT c.object_identity AS n FROM pg_event_trigger_ddl_commands() c WHERE c.object_type = 'schema' AND EXISTS (SELECT 1 FROM pg_class t WHERE t.relnamespace = c.objid AND t.relname = 'protected') AND EXISTS (SELECT 1 FROM pg_class t WHERE t.relnamespace = c.objid AND t.relname = 'audit_head') LOOP
        -- its functions name the old schema, override_allowed() included
        ok := pg_catalog.fortknox_ddl_override((parse_ident('@extschema@'))[1]);
        IF NOT ok THEN
          RAISE EXCEPTION 'ALTER SCHEMA refused by fortknox: it renames the library''s schema % (every guard, capture and the audit log would stop working); nothing was changed', (parse_ident('@extschema@'))[1] USING ERRCODE = 'FK001';
        END IF;
        -- its functions name the old schema: nothing can be recorded
        RAISE WARNING 'fortknox: the library''s schema renamed to %; not recorded, and nothing of it works until it is renamed back (doctor: FK-NOT-INSTALLED)', s.n;
      END LOOP;
    END IF;
    RETURN;
  END IF;
  -- the audit log dropped under the override (sql_drop let it go, warned)
  IF to_regclass('@audit_table@') IS NULL THEN RETURN; END IF;
  -- The protected objects this command touched, and only those, are
  -- compared (a migration's commands on other tables cost one look at the
  -- command's objects): a table, the tables of a trigger or rule, the
  -- partitions and children of a table, its parents (a table made a child
  -- of a protected one), every protected table that had children on an
  -- ALTER TABLE (NO INHERIT leaves no link to find the parent by), the tables of a schema (ALTER
  -- SCHEMA app RENAME moves them all), the library's functions (any
  -- function, its schema, anything in it), for a DROP what sql_drop saw
  -- (a dropped trigger names no table afterwards), every one for GRANT and
  -- REVOKE (no object given).
  touched := ARRAY(
    SELECT c.objid FROM pg_event_trigger_ddl_commands() c WHERE c.classid = 'pg_class'::regclass
    UNION SELECT i.inhrelid FROM pg_event_trigger_ddl_commands() c JOIN pg_inherits i ON i.inhparent = c.objid WHERE c.classid = 'pg_class'::regclass
    UNION SELECT i.inhparent FROM pg_event_trigger_ddl_commands() c JOIN pg_inherits i ON i.inhrelid = c.objid WHERE c.classid = 'pg_class'::regclass
    UNION SELECT p.relid FROM @extschema@.protected p WHERE p.state -> 'children' IS NOT NULL AND p.state -> 'children' <> 'null'::jsonb AND tg_tag = 'ALTER TABLE'
    UNION SELECT g.tgrelid FROM pg_event_trigger_ddl_commands() c JOIN pg_trigger g ON g.oid = c.objid WHERE c.classid = 'pg_trigger'::regclass
    UNION SELECT w.ev_class FROM pg_event_trigger_ddl_commands() c JOIN pg_rewrite w ON w.oid = c.objid WHERE c.classid = 'pg_rewrite'::regclass
    UNION SELECT t.oid FROM pg_event_trigger_ddl_commands() c JOIN pg_class t ON t.relnamespace = c.objid WHERE c.classid = 'pg_namespace'::regclass
    UNION SELECT p.relid FROM @extschema@.protected p WHERE p.kind IN ('functions', 'library') AND EXISTS (SELECT 1 FROM pg_event_trigger_ddl_commands() c WHERE c.classid = 'pg_proc'::regclass OR c.schema_name = (parse_ident('@extschema@'))[1] OR (c.classid = 'pg_namespace'::regclass AND c.objid = p.relid))
    UNION SELECT unnest(coalesce(nullif(current_setting('fortknox.ddl_dropped', true), ''), '{}')::oid[])
    UNION SELECT p.relid FROM @extschema@.protected p WHERE tg_tag IN ('GRANT', 'REVOKE'));
  IF current_setting('fortknox.ddl_dropped', true) <> '' THEN PERFORM set_config('fortknox.ddl_dropped', '', true); END IF;
  IF NOT EXISTS (SELECT 1 FROM @extschema@.protected p WHERE p.relid = ANY(touched)) THEN RETURN; END IF;
  SELECT string_agg(format('%s (%s)', coalesce(p.state ->> 'name', p.state ->> 'schema', p.relid::text), CASE p.kind WHEN 'functions' THEN 'the library''s functions' WHEN 'library' THEN 'the library''s table' WHEN 'entity' THEN p.label ELSE 'items of ' || p.label END), ', ' ORDER BY p.kind, p.label),
         jsonb_agg(jsonb_build_object('object', coalesce(p.state ->> 'name', p.state ->> 'schema'), 'before', p.state, 'after', @extschema@.ddl_state(p.kind, p.relid, p.cols)))
    INTO changed, rec
    FROM @extschema@.protected p WHERE p.relid = ANY(touched) AND @extschema@.ddl_state(p.kind, p.relid, p.cols) IS DISTINCT FROM p.state;
  IF changed IS NULL THEN RETURN; END IF;
  IF NOT @extschema@.override_allowed('ddl') THEN
    PERFORM @extschema@.ddl_refuse(tg_tag, format('it changes %s: a name, a column or its type, the owner, inheritance, row security, a rule, a fortknox trigger (dropped, disabled, ENABLE REPLICA) or function', changed));
  END IF;
  PERFORM @extschema@.ddl_record(tg_tag, jsonb_build_object('changed', rec));
  DELETE FROM @extschema@.protected p WHERE p.relid = ANY(touched) AND @extschema@.ddl_state(p.kind, p.relid, p.cols) IS NULL;
  UPDATE @extschema@.protected p SET state = @extschema@.ddl_state(p.kind, p.relid, p.cols) WHERE p.relid = ANY(touched);
END $f$;

-- table_rewrite: ALTER TABLE rewriting a registered table rewrites every
-- row, e.g. ALTER COLUMN expression_json TYPE jsonb USING '{}' (the same
-- type: no change of state to see afterwards).
CREATE OR REPLACE FUNCTION pg_catalog.fortknox_table_rewrite() RETURNS event_trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $f$
DECLARE t text;
BEGIN
  IF to_regclass('@extschema@.protected') IS NULL THEN RETURN; END IF;
  SELECT p.state ->> 'name' INTO t FROM @extschema@.protected p WHERE p.kind <> 'functions' AND p.relid = pg_event_trigger_table_rewrite_oid();
  IF t IS NULL THEN RETURN; END IF;
  IF NOT @extschema@.override_allowed('ddl') THEN
    PERFORM @extschema@.ddl_refuse(tg_tag, format('it rewrites every row of %s (ALTER COLUMN ... TYPE ... USING, a volatile default)', t));
  END IF;
  PERFORM @extschema@.ddl_record(tg_tag, jsonb_build_object('rewritten', t, 'reason', pg_event_trigger_table_rewrite_reason()));
END $f$;
REVOKE ALL ON FUNCTION pg_catalog.fortknox_ddl_start(), pg_catalog.fortknox_sql_drop(), pg_catalog.fortknox_ddl_end(), pg_catalog.fortknox_table_rewrite() FROM PUBLIC;

-- Recreated on every install: one that was replaced (another function) or
-- disabled is put back, ENABLE ALWAYS (session_replication_role does not
-- switch it off).
DROP EVENT TRIGGER IF EXISTS fortknox_ddl_start;
DROP EVENT TRIGGER IF EXISTS fortknox_sql_drop;
DROP EVENT TRIGGER IF EXISTS fortknox_ddl_end;
DROP EVENT TRIGGER IF EXISTS fortknox_table_rewrite;
CREATE EVENT TRIGGER fortknox_ddl_start ON ddl_command_start EXECUTE FUNCTION pg_catalog.fortknox_ddl_start();
CREATE EVENT TRIGGER fortknox_sql_drop ON sql_drop EXECUTE FUNCTION pg_catalog.fortknox_sql_drop();
CREATE EVENT TRIGGER fortknox_ddl_end ON ddl_command_end EXECUTE FUNCTION pg_catalog.fortknox_ddl_end();
CREATE EVENT TRIGGER fortknox_table_rewrite ON table_rewrite EXECUTE FUNCTION pg_catalog.fortknox_table_rewrite();
ALTER EVENT TRIGGER fortknox_ddl_start ENABLE ALWAYS;
ALTER EVENT TRIGGER fortknox_sql_drop ENABLE ALWAYS;
ALTER EVENT TRIGGER fortknox_ddl_end ENABLE ALWAYS;
ALTER EVENT TRIGGER fortknox_table_rewrite ENABLE ALWAYS;
