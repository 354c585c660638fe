-- libfortknox schema version 1: layer 1, the DDL guard's tables and helpers. Runs after
-- guard; the event triggers that use them are ddl_guard_events--1.sql (a
-- superuser's part), the rows of protected are generated from the registry
-- (lib/guard/guard_sql.c).
--
-- Placeholders, filled in by fortknox install (lib/install/install_sql.c)
-- with quoted identifiers, as PostgreSQL extension scripts use @extschema@:
--   @extschema@    the fortknox schema, e.g. "fortknox"
--   @audit_table@  the audit table, schema-qualified, e.g. "fortknox"."audit_log"
-- Fill them in (sed) to run this file with psql -f; lib/sql/README.md.
-- Function bodies are kept byte for byte as installed: reflowing one changes
-- the function's text in every database that reinstalls it.
--

-- What the DDL guard protects, and the catalog state it saw last (install,
-- or the last overridden DDL): kind 'entity' / 'child' (a registered table;
-- cols: its columns at install), 'library' (the audit table, the head, meta,
-- this table), 'functions' (relid: the schema's oid; every function in it).
CREATE TABLE IF NOT EXISTS @extschema@.protected (kind text NOT NULL, relid oid NOT NULL, label text NOT NULL, cols smallint[] NOT NULL DEFAULT '{}', state jsonb, PRIMARY KEY (kind, relid));
REVOKE ALL ON @extschema@.protected FROM PUBLIC;

-- The override check is override_allowed('ddl') (guard--1.sql): a member
-- of the override role who called allow('ddl') in this transaction.

-- Everything a DDL command could change about a protected object that
-- matters to the library; compared with protected.state after every DDL
-- command (fortknox_ddl_end). NULL when the object is gone. Roles by oid:
-- renaming a role (no event trigger fires for it) changes nothing here.
-- A trigger's WHEN as pg_get_triggerdef prints it: replacing it (WHEN
-- (false)) is a change (pg_get_expr cannot print one naming OLD and NEW).
-- Its inheritance children and partitions: their rows are read as the
-- table's (by the application, entity_doc and export) but no trigger of the
-- table fires for them, so a table made a child (CREATE TABLE ... INHERITS,
-- ALTER TABLE ... INHERIT, ATTACH PARTITION) or unmade one is a change.
CREATE OR REPLACE FUNCTION @extschema@.ddl_state(k text, r oid, c smallint[]) RETURNS jsonb LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $f$
SELECT CASE WHEN k = 'functions' THEN (SELECT jsonb_build_object('schema', n.nspname, 'owner', n.nspowner, 'acl', (SELECT jsonb_agg(to_jsonb(x) ORDER BY x.grantee, x.privilege_type) FROM aclexplode(n.nspacl) x), 'functions', (SELECT jsonb_agg(jsonb_build_array(p.oid::regprocedure::text, md5(p.prosrc), p.prosecdef, p.proconfig, p.proowner, (SELECT jsonb_agg(to_jsonb(x) ORDER BY x.grantee, x.privilege_type) FROM aclexplode(p.proacl) x), p.provolatile) ORDER BY p.oid) FROM pg_proc p WHERE p.pronamespace = r)) FROM pg_namespace n WHERE n.oid = r)
ELSE (SELECT jsonb_build_object(
  'name', n.nspname || '.' || t.relname, 'owner', t.relowner, 'kind', t.relkind, 'persistence', t.relpersistence,
  'rls', t.relrowsecurity, 'force_rls', t.relforcerowsecurity, 'partition', t.relispartition,
  'acl', CASE WHEN k = 'library' THEN (SELECT jsonb_agg(to_jsonb(x) ORDER BY x.grantee, x.privilege_type) FROM aclexplode(t.relacl) x) END,
  'parents', (SELECT jsonb_agg(i.inhparent::regclass::text ORDER BY i.inhseqno) FROM pg_inherits i WHERE i.inhrelid = r),
  'children', (SELECT jsonb_agg(i.inhrelid::regclass::text ORDER BY i.inhrelid::regclass::text) FROM pg_inherits i WHERE i.inhparent = r),
  'columns', (SELECT jsonb_agg(jsonb_build_array(a.attnum, a.attname, format_type(a.atttypid, a.atttypmod), a.attisdropped, a.attgenerated) ORDER BY a.attnum) FROM pg_attribute a WHERE a.attrelid = r AND a.attnum = ANY(c)),
  'triggers', (SELECT jsonb_agg(jsonb_build_array(g.tgname, g.tgenabled, g.tgfoid::regprocedure::text, g.tgtype, CASE WHEN g.tgqual IS NOT NULL THEN substring(pg_get_triggerdef(g.oid) FROM ' WHEN \((.*)\) EXECUTE FUNCTION ') END, encode(g.tgargs, 'hex')) ORDER BY g.tgname) FROM pg_trigger g JOIN pg_proc p ON p.oid = g.tgfoid WHERE g.tgrelid = r AND NOT g.tgisinternal AND (g.tgname ~ '^(FK_|fortknox_)' OR p.pronamespace = '@extschema@'::regnamespace)),
  'rules', (SELECT jsonb_agg(w.rulename ORDER BY w.rulename) FROM pg_rewrite w WHERE w.ev_class = r AND w.rulename <> '_RETURN'))
 FROM pg_class t JOIN pg_namespace n ON n.oid = t.relnamespace WHERE t.oid = r) END $f$;

-- One audit row per overridden DDL command: what, on which protected
-- objects, who, and the statement's text.
CREATE OR REPLACE FUNCTION @extschema@.ddl_record(tag text, objects jsonb) RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $f$
BEGIN
  PERFORM @extschema@.write('ddl', 0, tag, 'ddl', NULL, jsonb_build_object('command', tag, 'objects', objects, 'session_user', session_user::text, 'role', current_setting('role'), 'statement', current_query()), 'ddl');
END $f$;

-- How the refusals end: what to do instead.
CREATE OR REPLACE FUNCTION @extschema@.ddl_refuse(tag text, what text) RETURNS void LANGUAGE plpgsql AS $f$
BEGIN
  RAISE EXCEPTION '% refused by fortknox (if intended: export the fixtures, then, as a member of the override role, run it in a transaction after SELECT @extschema@.allow(''ddl''); it is recorded in the audit log): %; nothing was changed', tag, what USING ERRCODE = 'FK001', HINT = 'libfortknox layer 1, the DDL guard (docs/recovery.md)';
END $f$;
REVOKE ALL ON FUNCTION @extschema@.ddl_state(text, oid, smallint[]), @extschema@.ddl_record(text, jsonb), @extschema@.ddl_refuse(text, text) FROM PUBLIC;
