-- libfortknox schema version 1: what an install put in the catalog, as one
-- hash: every trigger on the library's tables or calling its functions, its
-- functions (text, rights, settings, owner), the event triggers, the
-- library's tables' owners and rights, the override role, the install record.
-- install stores it in meta (key fingerprint) and is "up to date" only while
-- the catalog still hashes to it: a trigger disabled, a function replaced or
-- a right granted since is put back by running install again (doctor's
-- advice), not reported as "nothing to do".
-- A trigger's WHEN is taken from pg_get_triggerdef: pg_get_expr refuses one
-- that names both OLD and NEW (the key triggers' "more than one relation").
--
-- Placeholders, filled in by fortknox install (lib/sql/sql_template.c)
-- with quoted identifiers, as PostgreSQL extension scripts use @extschema@:
--   @extschema@    the fortknox schema, e.g. "fortknox"
--   @audit_table@  the audit table, schema-qualified, e.g. "fortknox"."audit_log"
-- Fill them in (sed) to run this file with psql -f; lib/sql/README.md.
--

SELECT md5(string_agg(x, E'\n' ORDER BY x)) FROM (
  SELECT concat_ws('|', 't', t.tgrelid::regclass::text, t.tgname, t.tgenabled, t.tgfoid::regprocedure::text, t.tgtype, encode(t.tgargs, 'hex'), t.tgdeferrable, t.tginitdeferred, t.tgoldtable, t.tgnewtable, CASE WHEN t.tgqual IS NOT NULL THEN substring(pg_get_triggerdef(t.oid) FROM ' WHEN \((.*)\) EXECUTE FUNCTION ') END) FROM pg_trigger t WHERE NOT t.tgisinternal AND (t.tgrelid = '@audit_table@'::regclass OR t.tgrelid IN (SELECT c.oid FROM pg_class c WHERE c.relnamespace = '@extschema@'::regnamespace) OR t.tgfoid IN (SELECT p.oid FROM pg_proc p WHERE p.pronamespace = '@extschema@'::regnamespace))
  UNION ALL
  SELECT concat_ws('|', 'f', p.oid::regprocedure::text, md5(p.prosrc), p.prosecdef, p.provolatile, array_to_string(p.proconfig, ','), pg_get_userbyid(p.proowner), p.proacl::text) FROM pg_proc p WHERE p.pronamespace = '@extschema@'::regnamespace OR (p.pronamespace = 'pg_catalog'::regnamespace AND p.proname LIKE 'fortknox%')
  UNION ALL
  SELECT concat_ws('|', 'e', e.evtname, e.evtevent, e.evtenabled, e.evtfoid::regprocedure::text, array_to_string(e.evttags, ',')) FROM pg_event_trigger e
  UNION ALL
  SELECT concat_ws('|', 'r', c.oid::regclass::text, c.relkind, pg_get_userbyid(c.relowner), c.relacl::text) FROM pg_class c WHERE c.relnamespace = '@extschema@'::regnamespace OR c.oid = '@audit_table@'::regclass
  UNION ALL
  SELECT concat_ws('|', 'o', r.rolname, r.rolcanlogin, r.rolsuper, r.rolinherit) FROM pg_roles r WHERE r.rolname = (SELECT m.value FROM @extschema@.meta m WHERE m.key = 'override_role')
  UNION ALL
  SELECT concat_ws('|', 'p', p.kind, p.relid::regclass::text, p.label, p.cols::text) FROM @extschema@.protected p
  UNION ALL
  SELECT concat_ws('|', 'm', m.key, m.value) FROM @extschema@.meta m WHERE m.key <> 'fingerprint'
) s(x);
