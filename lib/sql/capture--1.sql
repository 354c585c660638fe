-- libfortknox schema version 1: the capture trigger functions. Runs after audit_write and
-- the generated entity_doc(type, id, row) function.
--
-- Placeholders, filled in by fortknox install (lib/sql/sql_template.c)
-- with quoted identifiers, as PostgreSQL extension scripts use @extschema@:
--   @extschema@    the fortknox schema, e.g. "fortknox"
--   @audit_table@  the audit table, schema-qualified, e.g. "fortknox"."audit_log"
-- Fill them in (sed) to run this file with psql -f; lib/sql/README.md.
-- Function bodies are kept byte for byte as installed: reflowing one changes
-- the function's text in every database that reinstalls it.
--

-- Capture records each entity a transaction touches ONCE, with its state
-- before the transaction's first change to it and its state as committed
-- (docs/audit.md, "Capture"): a row-level BEFORE trigger on every entity and
-- child table notes the entity's document the first time the transaction
-- touches it (pending), and a deferred constraint trigger on pending reads
-- the document again at commit -- after every statement and every
-- application trigger of the transaction -- and writes one audit row if the
-- two differ. Upserts are one row, no-ops none, and whatever an application
-- trigger did is in the committed state.
-- Unlogged: a crash ends the transactions whose rows these are.
CREATE UNLOGGED TABLE IF NOT EXISTS @extschema@.pending (
  xid xid8 NOT NULL,
  entity_type text NOT NULL,
  entity_id bigint NOT NULL,
  before jsonb NULL,
  name_key text NOT NULL,
  deleted_key text NOT NULL,
  actor_id bigint NULL,
  actor_email text NULL,
  ip_address text NULL,
  context text NULL,
  PRIMARY KEY (xid, entity_type, entity_id));
REVOKE ALL ON @extschema@.pending FROM PUBLIC;

-- Notes the entity's state before the transaction's first change to it,
-- with who states the change then. p_row: the entity's own row as it is
-- (saves reading it), or NULL.
CREATE OR REPLACE FUNCTION @extschema@.mark(p_type text, p_id bigint, p_row jsonb, p_name_key text, p_deleted_key text, p_context text) RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $f$
BEGIN
  IF p_id IS NULL OR EXISTS (SELECT 1 FROM @extschema@.pending p WHERE p.xid = pg_current_xact_id() AND p.entity_type = p_type AND p.entity_id = p_id) THEN RETURN; END IF;
  INSERT INTO @extschema@.pending VALUES (pg_current_xact_id(), p_type, p_id, @extschema@.entity_doc(p_type, p_id, p_row), p_name_key, p_deleted_key, @extschema@.actor_id(), left(@extschema@.setting('fortknox.actor_email'), 255), left(@extschema@.setting('fortknox.ip'), 45), @extschema@.context(p_context));
END $f$;

-- Row-level BEFORE trigger on entity and child tables. TG_ARGV: entity
-- type, the column holding the entity's id (the primary key of an entity
-- table, the parent key of a child table), name column, soft-delete column
-- (or ''), 'entity' or 'child'. A row moved to another entity marks both.
-- It runs for every changed row, so what mark() and quiet() do is written
-- out here for an entity's own row: one statement, no nested calls (the
-- capture's cost is measured against a one-INSERT audit trigger).
CREATE OR REPLACE FUNCTION @extschema@.capture_mark() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $f$
DECLARE o jsonb; n jsonb; k bigint; c text := nullif(current_setting('fortknox.context', true), '');
BEGIN
  IF c IS NULL OR NOT (c ~ '^(import|restore)' AND @extschema@.override_allowed('context')) THEN
    IF TG_OP <> 'INSERT' THEN
      o := to_jsonb(OLD);
      k := (o ->> TG_ARGV[1])::bigint;
      IF TG_ARGV[4] = 'entity' AND k IS NOT NULL THEN
        INSERT INTO @extschema@.pending VALUES (pg_current_xact_id(), TG_ARGV[0], k, @extschema@.entity_doc(TG_ARGV[0], k, o), TG_ARGV[2], TG_ARGV[3], @extschema@.actor_id(), left(nullif(current_setting('fortknox.actor_email', true), ''), 255), left(nullif(current_setting('fortknox.ip', true), ''), 45), CASE WHEN c IS NULL THEN 'capture' ELSE @extschema@.context('capture') END) ON CONFLICT DO NOTHING;
      ELSE
        PERFORM @extschema@.mark(TG_ARGV[0], k, NULL, TG_ARGV[2], TG_ARGV[3], 'capture');
      END IF;
    END IF;
    IF TG_OP <> 'DELETE' THEN
      n := to_jsonb(NEW);
      IF o IS NULL OR (n ->> TG_ARGV[1]) IS DISTINCT FROM (o ->> TG_ARGV[1]) THEN
        PERFORM @extschema@.mark(TG_ARGV[0], (n ->> TG_ARGV[1])::bigint, NULL, TG_ARGV[2], TG_ARGV[3], 'capture');
      END IF;
    END IF;
  END IF;
  IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
  RETURN NEW;
END $f$;

-- At commit (deferred): the entity as committed against its state before
-- the transaction; one audit row when they differ. Fired early -- SET
-- CONSTRAINTS ... IMMEDIATE, which any role may run, makes the marking
-- INSERT fire it inside capture_mark, before the change it marks is made
-- (trigger depth 2; at commit and at SET CONSTRAINTS itself it is 1) -- it
-- refuses rather than record a state that is not the one committed.
CREATE OR REPLACE FUNCTION @extschema@.capture_flush() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $f$
DECLARE o jsonb := NEW.before; n jsonb; act text := 'updated'; sd text := NEW.deleted_key;
BEGIN
  IF pg_trigger_depth() > 1 THEN
    RAISE EXCEPTION 'fortknox capture: % id % would be recorded before its change is made (SET CONSTRAINTS ... IMMEDIATE)', NEW.entity_type, NEW.entity_id USING ERRCODE = '55000', HINT = 'fortknox records each entity once, at commit: leave its constraint trigger deferred (SET CONSTRAINTS ALL DEFERRED)';
  END IF;
  DELETE FROM @extschema@.pending p WHERE p.xid = NEW.xid AND p.entity_type = NEW.entity_type AND p.entity_id = NEW.entity_id;
  n := @extschema@.entity_doc(NEW.entity_type, NEW.entity_id, NULL);
  IF o IS NOT DISTINCT FROM n THEN RETURN NULL; END IF;
  IF o IS NULL THEN act := 'created';
  ELSIF n IS NULL THEN act := 'force_deleted';
  ELSIF sd <> '' AND o -> sd = 'null'::jsonb AND n -> sd <> 'null'::jsonb THEN act := 'deleted';
  ELSIF sd <> '' AND o -> sd <> 'null'::jsonb AND n -> sd = 'null'::jsonb THEN act := 'restored';
  END IF;
  INSERT INTO @audit_table@ (entity_type, entity_id, entity_name, action, actor_id, actor_email, old_json, new_json, ip_address, context) VALUES (NEW.entity_type, NEW.entity_id, coalesce(n, o) ->> NEW.name_key, act, NEW.actor_id, NEW.actor_email, o, n, NEW.ip_address, NEW.context);
  PERFORM pg_notify('fortknox', json_build_object('type', NEW.entity_type, 'id', NEW.entity_id, 'action', act)::text);
  RETURN NULL;
END $f$;

-- AFTER each inserted or updated row (entity and child tables; TG_ARGV as
-- capture_mark's): the entity the row now belongs to must have been noted.
-- A BEFORE trigger of the application that fires after FK_capture (its name
-- sorts after it) and moves a child row to another parent, or changes an
-- entity's id, would otherwise change an entity nobody noted: its change
-- would commit with no audit row. Refused instead.
CREATE OR REPLACE FUNCTION @extschema@.capture_check() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $f$
DECLARE k bigint := (to_jsonb(NEW) ->> TG_ARGV[1])::bigint;
BEGIN
  IF k IS NOT NULL AND NOT EXISTS (SELECT 1 FROM @extschema@.pending p WHERE p.xid = pg_current_xact_id() AND p.entity_type = TG_ARGV[0] AND p.entity_id = k) AND NOT @extschema@.quiet() THEN
    RAISE EXCEPTION 'fortknox capture: % id % changed after fortknox noted the row: a BEFORE trigger on %.% that fires after FK_capture set its % column', TG_ARGV[0], k, TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_ARGV[1] USING ERRCODE = 'FK001', HINT = 'rename that trigger so it sorts before FK_capture (triggers fire in name order), or do not let it change that column';
  END IF;
  RETURN NULL;
END $f$;

-- A constraint trigger cannot be replaced in place.
DROP TRIGGER IF EXISTS fortknox_flush ON @extschema@.pending;
CREATE CONSTRAINT TRIGGER fortknox_flush AFTER INSERT ON @extschema@.pending DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION @extschema@.capture_flush();
ALTER TABLE @extschema@.pending ENABLE ALWAYS TRIGGER fortknox_flush;

REVOKE ALL ON FUNCTION @extschema@.mark(text, bigint, jsonb, text, text, text), @extschema@.capture_mark(), @extschema@.capture_check(), @extschema@.capture_flush() FROM PUBLIC;
