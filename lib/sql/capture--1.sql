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

-- Row-level capture on an entity table. TG_ARGV: type, pk, name column,
-- soft-delete column (or '').
CREATE OR REPLACE FUNCTION @extschema@.capture_entity() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $f$
DECLARE o jsonb; n jsonb; id bigint; act text := 'updated'; sd text := TG_ARGV[3];
BEGIN
  IF @extschema@.quiet() THEN RETURN NULL; END IF;
  IF TG_OP <> 'INSERT' THEN o := to_jsonb(OLD); END IF;
  IF TG_OP <> 'DELETE' THEN n := to_jsonb(NEW); END IF;
  IF TG_OP = 'UPDATE' AND o = n THEN RETURN NULL; END IF;
  id := (coalesce(n, o) ->> TG_ARGV[1])::bigint;
  IF TG_OP = 'INSERT' THEN act := 'created';
  ELSIF TG_OP = 'DELETE' THEN act := 'force_deleted';
  ELSIF sd <> '' AND o -> sd = 'null'::jsonb AND n -> sd <> 'null'::jsonb THEN act := 'deleted';
  ELSIF sd <> '' AND o -> sd <> 'null'::jsonb AND n -> sd = 'null'::jsonb THEN act := 'restored';
  END IF;
  PERFORM @extschema@.write(TG_ARGV[0], id, coalesce(n, o) ->> TG_ARGV[2], act, CASE WHEN o IS NOT NULL THEN @extschema@.entity_doc(TG_ARGV[0], id, o) END, CASE WHEN n IS NOT NULL THEN @extschema@.entity_doc(TG_ARGV[0], id, NULL) END, 'capture');
  RETURN NULL;
END $f$;

-- Statement-level capture on a child table: one row per parent touched,
-- attributed to the parent. TG_ARGV: parent type, fk column, parent name
-- column.
CREATE OR REPLACE FUNCTION @extschema@.capture_child() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $f$
DECLARE pid bigint; q text; d jsonb;
BEGIN
  IF @extschema@.quiet() THEN RETURN NULL; END IF;
  q := CASE TG_OP WHEN 'INSERT' THEN format('SELECT DISTINCT (%1$I)::bigint FROM fk_new', TG_ARGV[1])
    WHEN 'DELETE' THEN format('SELECT DISTINCT (%1$I)::bigint FROM fk_old', TG_ARGV[1])
    ELSE format('SELECT (%1$I)::bigint FROM fk_new UNION SELECT (%1$I)::bigint FROM fk_old', TG_ARGV[1]) END;
  FOR pid IN EXECUTE q LOOP
    d := @extschema@.entity_doc(TG_ARGV[0], pid, NULL);
    CONTINUE WHEN d IS NULL; /* the parent itself is going: its own row says so */
    PERFORM @extschema@.write(TG_ARGV[0], pid, d ->> TG_ARGV[2], 'updated', (SELECT a.new_json FROM @audit_table@ a WHERE a.entity_type = TG_ARGV[0] AND a.entity_id = pid ORDER BY a.id DESC LIMIT 1), d, 'capture');
  END LOOP;
  RETURN NULL;
END $f$;

REVOKE ALL ON FUNCTION @extschema@.capture_entity(), @extschema@.capture_child() FROM PUBLIC;
