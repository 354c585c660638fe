-- libfortknox schema version 1: the audit log: version record, chain head, table, hash chain,
-- immutability. Runs first.
--
-- Placeholders, filled in by fortknox install (lib/sql/sql_template.c)
-- with quoted identifiers, as PostgreSQL extension scripts use @extschema@:
--   @extschema@    the fortknox schema, e.g. "fortknox"
--   @audit_table@  the audit table, schema-qualified, e.g. "fortknox"."audit_log"
-- Fill them in (sed) to run this file with psql -f; lib/sql/README.md.
-- Function bodies are kept byte for byte as installed: reflowing one changes
-- the function's text in every database that reinstalls it.
--

CREATE SCHEMA IF NOT EXISTS @extschema@;
CREATE TABLE IF NOT EXISTS @extschema@.meta (key text PRIMARY KEY, value text NOT NULL);
CREATE SEQUENCE IF NOT EXISTS @extschema@.audit_id_seq;

-- one row holding the chain's head: its row lock serialises writers
CREATE TABLE IF NOT EXISTS @extschema@.audit_head (one boolean PRIMARY KEY DEFAULT true CHECK (one), last_id bigint NOT NULL, last_hash char(64) NOT NULL);
INSERT INTO @extschema@.audit_head VALUES (true, 0, repeat('0', 64)) ON CONFLICT DO NOTHING;
-- one row, never updated, that audited writers lock (audit_chain): only
-- fortknox's own functions can, so no other role can stop the log's
-- writers by holding it (an advisory lock can be taken by any role)
CREATE TABLE IF NOT EXISTS @extschema@.write_lock (one boolean PRIMARY KEY DEFAULT true CHECK (one));
INSERT INTO @extschema@.write_lock VALUES (true) ON CONFLICT DO NOTHING;
CREATE TABLE IF NOT EXISTS @audit_table@ (
  id bigint PRIMARY KEY,
  entity_type varchar(50) NOT NULL,
  entity_id bigint NOT NULL,
  entity_name varchar(500) NOT NULL,
  action varchar(20) NOT NULL,
  actor_id bigint NULL,
  actor_email varchar(255) NULL,
  old_json jsonb NULL,
  new_json jsonb NULL,
  changed_fields jsonb NULL,
  ip_address varchar(45) NULL,
  created_at timestamp(6) without time zone NOT NULL DEFAULT (clock_timestamp() AT TIME ZONE 'UTC'));

-- columns added to a table Parthenon created (no-ops on our own)
ALTER TABLE @audit_table@ ADD COLUMN IF NOT EXISTS context varchar(200) NULL;
ALTER TABLE @audit_table@ ADD COLUMN IF NOT EXISTS prev_hash char(64) NOT NULL DEFAULT '';
ALTER TABLE @audit_table@ ADD COLUMN IF NOT EXISTS row_hash char(64) NOT NULL DEFAULT '';
-- the writing transaction (pg_current_xact_id): one incident, one id
ALTER TABLE @audit_table@ ADD COLUMN IF NOT EXISTS transaction_id bigint NULL;
-- the time of the chain's last row: a clock stepping back cannot make a
-- later row look older (time order = chain order)
ALTER TABLE @extschema@.audit_head ADD COLUMN IF NOT EXISTS last_at timestamp(6) without time zone NULL;
CREATE INDEX IF NOT EXISTS fortknox_audit_entity ON @audit_table@ (entity_type, entity_id);
CREATE INDEX IF NOT EXISTS fortknox_audit_actor ON @audit_table@ (actor_id);
CREATE INDEX IF NOT EXISTS fortknox_audit_action ON @audit_table@ (action);
CREATE INDEX IF NOT EXISTS fortknox_audit_created ON @audit_table@ (created_at);
CREATE OR REPLACE FUNCTION @extschema@.hash_field(x text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $f$ SELECT CASE WHEN x IS NULL THEN '~' ELSE octet_length(x)::text || ':' || x END $f$;

-- The canonical content of a row; docs/audit.md, and audit_verify.c
-- recomputes exactly this in C.
CREATE OR REPLACE FUNCTION @extschema@.row_hash(r @audit_table@) RETURNS text LANGUAGE sql STABLE AS $f$ SELECT encode(sha256(convert_to('fortknox-audit-v2|' || @extschema@.hash_field(r.prev_hash::text) || @extschema@.hash_field(r.id::text) || @extschema@.hash_field(r.entity_type::text) || @extschema@.hash_field(r.entity_id::text) || @extschema@.hash_field(r.entity_name::text) || @extschema@.hash_field(r.action::text) || @extschema@.hash_field(r.actor_id::text) || @extschema@.hash_field(r.actor_email::text) || @extschema@.hash_field(r.old_json::text) || @extschema@.hash_field(r.new_json::text) || @extschema@.hash_field(r.changed_fields::text) || @extschema@.hash_field(r.ip_address::text) || @extschema@.hash_field(to_char(r.created_at, 'YYYY-MM-DD"T"HH24:MI:SS.US')) || @extschema@.hash_field(r.context::text) || @extschema@.hash_field(r.transaction_id::text), 'UTF8')), 'hex') $f$;
CREATE OR REPLACE FUNCTION @extschema@.changed_fields(o jsonb, n jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $f$ SELECT CASE WHEN jsonb_typeof(o) IS DISTINCT FROM 'object' OR jsonb_typeof(n) IS DISTINCT FROM 'object' THEN NULL ELSE coalesce((SELECT jsonb_agg(k ORDER BY k) FROM (SELECT jsonb_object_keys(o) UNION SELECT jsonb_object_keys(n)) AS x(k) WHERE o -> k IS DISTINCT FROM n -> k), '[]'::jsonb) END $f$;

-- Who did it: the session's fortknox.* settings (SET LOCAL by the app).
CREATE OR REPLACE FUNCTION @extschema@.setting(name text) RETURNS text LANGUAGE sql STABLE AS $f$ SELECT nullif(current_setting(name, true), '') $f$;
CREATE OR REPLACE FUNCTION @extschema@.actor_id() RETURNS bigint LANGUAGE sql STABLE AS $f$ SELECT CASE WHEN @extschema@.setting('fortknox.actor_id') ~ '^[0-9]{1,18}$' THEN @extschema@.setting('fortknox.actor_id')::bigint END $f$;

-- Writing a row (every writer: capture, app_write, write, import,
-- restore): id, time and transaction are assigned here, and the row is
-- written UNSEALED (prev_hash = row_hash = ''); seal() hashes it into the
-- chain after its transaction has committed (docs/audit.md, "Sealing": a
-- synchronous chain made capture several times a plain audit trigger).
-- The write lock (the row of write_lock, locked, never updated: no
-- serialization failure under REPEATABLE READ) serialises writers from
-- their first row to their commit, so the committed rows are always a
-- prefix of the ids (gaps are rolled-back rows) and time order = id order
-- = commit order; the time is read once the lock is held and never before
-- the previous row's (a clock stepping back cannot reorder rows). A row
-- that arrives with hashes is a copy -- a data-only restore of the log --
-- and would be re-stamped as new: refused.
CREATE OR REPLACE FUNCTION @extschema@.audit_chain() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $f$
DECLARE l timestamp;
BEGIN
  IF NEW.row_hash <> '' OR NEW.prev_hash <> '' THEN
    RAISE EXCEPTION 'audit rows are written unsealed: a row arriving with prev_hash/row_hash is a copy of another log (a data-only restore of the audit table?), and would be re-stamped as new' USING ERRCODE = 'FK001', HINT = 'restore the audit log with the whole database (pg_restore), not into an installed one';
  END IF;
  PERFORM 1 FROM @extschema@.write_lock w WHERE w.one FOR UPDATE;
  IF NOT FOUND THEN RAISE EXCEPTION 'the fortknox write lock row (%.write_lock) is missing (deleted?): no audit row can be written', '@extschema@' USING ERRCODE = 'FK002', HINT = 'fortknox install puts it back'; END IF;
  -- not under SERIALIZABLE: the read makes every two writers a read/write
  -- dependency, and their commits fail with 40001 (the clock alone orders)
  IF current_setting('transaction_isolation') <> 'serializable' THEN
    SELECT a.created_at INTO l FROM @audit_table@ a ORDER BY a.id DESC LIMIT 1;
  END IF;
  NEW.id := nextval('@extschema@.audit_id_seq');
  NEW.created_at := greatest(clock_timestamp() AT TIME ZONE 'UTC', l);
  NEW.transaction_id := pg_current_xact_id()::text::bigint;
  NEW.entity_name := left(coalesce(nullif(NEW.entity_name, ''), NEW.entity_type || '-' || NEW.entity_id), 500);
  NEW.changed_fields := NULL;
  NEW.prev_hash := '';
  NEW.row_hash := '';
  RETURN NEW;
END $f$;

-- Sealing: the committed unsealed rows after the head, in id order, get
-- their changed fields, prev_hash and row_hash, and the head moves to the
-- last (at most p_max rows; returns how many). Sealers take the head's
-- lock, so they run one at a time; writers never wait for them (a writer
-- holding the write lock has ids above every committed row, so a row
-- this cannot see yet is after the ones it seals; the caller's own rows,
-- not committed, end the run). A row past the head
-- that is already sealed was not written by the chain trigger: refused
-- (FK002), as tampering, for audit verify to name.
CREATE OR REPLACE FUNCTION @extschema@.seal(p_max integer) RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $f$
DECLARE h record; r @audit_table@; n bigint := 0;
BEGIN
  -- an older snapshot (REPEATABLE READ) misses rows committed since it
  -- was taken: sealing past them would strand them
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION 'fortknox seal() runs under READ COMMITTED only (this transaction is %)', current_setting('transaction_isolation') USING ERRCODE = '55000';
  END IF;
  -- nothing after the head: done, without the head's lock (a row lock
  -- takes a transaction id; every reading command calls this)
  SELECT last_id INTO h FROM @extschema@.audit_head WHERE one;
  IF FOUND AND NOT EXISTS (SELECT 1 FROM @audit_table@ a WHERE a.id > h.last_id) THEN RETURN 0; END IF;
  SELECT last_id, last_hash, last_at INTO h FROM @extschema@.audit_head WHERE one FOR UPDATE;
  IF NOT FOUND THEN RAISE EXCEPTION 'the fortknox audit chain head row is missing (deleted?): no audit row can be sealed' USING ERRCODE = 'FK002', HINT = 'run fortknox audit verify and investigate; fortknox install puts the head back'; END IF;
  FOR r IN SELECT * FROM @audit_table@ a WHERE a.id > h.last_id ORDER BY a.id LIMIT greatest(p_max, 0) LOOP
    -- the caller's own rows (it wrote and seals in one transaction): not
    -- committed, so nothing after them either (READ COMMITTED sees no
    -- other uncommitted row)
    EXIT WHEN r.transaction_id = pg_current_xact_id_if_assigned()::text::bigint;
    IF r.row_hash <> '' OR r.prev_hash <> '' THEN
      RAISE EXCEPTION 'audit row % after the chain head (%) is already sealed: it was not written through fortknox', r.id, h.last_id USING ERRCODE = 'FK002', HINT = 'run fortknox audit verify and investigate who wrote it';
    END IF;
    r.changed_fields := @extschema@.changed_fields(r.old_json, r.new_json);
    r.prev_hash := h.last_hash;
    r.row_hash := @extschema@.row_hash(r);
    UPDATE @audit_table@ a SET changed_fields = r.changed_fields, prev_hash = r.prev_hash, row_hash = r.row_hash WHERE a.id = r.id;
    h.last_id := r.id;
    h.last_hash := r.row_hash;
    h.last_at := r.created_at;
    n := n + 1;
  END LOOP;
  IF n > 0 THEN
    UPDATE @extschema@.audit_head SET last_id = h.last_id, last_hash = h.last_hash, last_at = h.last_at WHERE one;
  END IF;
  RETURN n;
END $f$;

-- Append-only: changes to audit rows and the head are refused (FK001),
-- but for sealing: an unsealed row may get its changed fields and hashes,
-- and nothing else (the documents compared as text, not only by value),
-- linked to the row just before it (sealed: a row is sealed only after its
-- predecessor), with the hash of its own content -- whoever runs the
-- UPDATE can only write what seal() writes.
CREATE OR REPLACE FUNCTION @extschema@.refuse() RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $f$
BEGIN
  IF TG_OP = 'UPDATE' AND TG_RELID = '@audit_table@'::regclass THEN
    IF OLD.row_hash = '' AND OLD.prev_hash = '' AND NEW.prev_hash <> ''
       AND to_jsonb(NEW) - ARRAY['changed_fields', 'prev_hash', 'row_hash'] = to_jsonb(OLD) - ARRAY['changed_fields', 'prev_hash', 'row_hash']
       AND NEW.old_json::text IS NOT DISTINCT FROM OLD.old_json::text AND NEW.new_json::text IS NOT DISTINCT FROM OLD.new_json::text
       AND NEW.changed_fields IS NOT DISTINCT FROM @extschema@.changed_fields(NEW.old_json, NEW.new_json)
       AND NEW.prev_hash = coalesce((SELECT a.row_hash FROM @audit_table@ a WHERE a.id < NEW.id ORDER BY a.id DESC LIMIT 1), repeat('0', 64))
       AND NEW.row_hash = @extschema@.row_hash(NEW) THEN
      RETURN NEW;
    END IF;
  END IF;
  RAISE EXCEPTION '% on %.% refused: the fortknox audit log is append-only', TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME USING ERRCODE = 'FK001', HINT = 'audit rows can never be changed or removed';
END $f$;
-- The head moves only forward, to a sealed row it names exactly, past no
-- unsealed row (what seal() does); everything else is refused.
CREATE OR REPLACE FUNCTION @extschema@.head_guard() RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $f$
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.one AND NEW.last_id > OLD.last_id AND EXISTS (SELECT 1 FROM @audit_table@ a WHERE a.id = NEW.last_id AND a.row_hash = NEW.last_hash) AND NOT EXISTS (SELECT 1 FROM @audit_table@ a WHERE a.id > OLD.last_id AND a.id <= NEW.last_id AND a.row_hash = '') THEN RETURN NEW; END IF;
  RAISE EXCEPTION 'the audit chain head is maintained by fortknox only' USING ERRCODE = 'FK001';
END $f$;
-- The synchronous chain's machinery, gone with sealing (installs of
-- earlier builds have it).
DROP TRIGGER IF EXISTS fortknox_chain_queue ON @audit_table@;
DROP TABLE IF EXISTS @extschema@.chain_commit;
DROP FUNCTION IF EXISTS @extschema@.audit_chain_queue(), @extschema@.audit_head_move();
CREATE OR REPLACE TRIGGER fortknox_chain BEFORE INSERT ON @audit_table@ FOR EACH ROW EXECUTE FUNCTION @extschema@.audit_chain();
CREATE OR REPLACE TRIGGER fortknox_immutable BEFORE UPDATE OR DELETE ON @audit_table@ FOR EACH ROW EXECUTE FUNCTION @extschema@.refuse();
CREATE OR REPLACE TRIGGER fortknox_no_truncate BEFORE TRUNCATE ON @audit_table@ FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.refuse();
CREATE OR REPLACE TRIGGER fortknox_head_guard BEFORE UPDATE OR DELETE ON @extschema@.audit_head FOR EACH ROW EXECUTE FUNCTION @extschema@.head_guard();
CREATE OR REPLACE TRIGGER fortknox_head_no_truncate BEFORE TRUNCATE ON @extschema@.audit_head FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.refuse();
-- the write lock's row: without it no audit row can be written
CREATE OR REPLACE TRIGGER fortknox_write_lock_guard BEFORE UPDATE OR DELETE ON @extschema@.write_lock FOR EACH ROW EXECUTE FUNCTION @extschema@.refuse();
CREATE OR REPLACE TRIGGER fortknox_write_lock_no_truncate BEFORE TRUNCATE ON @extschema@.write_lock FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.refuse();
-- ALWAYS: they fire in every session_replication_role (replica included).
ALTER TABLE @audit_table@ ENABLE ALWAYS TRIGGER fortknox_chain, ENABLE ALWAYS TRIGGER fortknox_immutable, ENABLE ALWAYS TRIGGER fortknox_no_truncate;
ALTER TABLE @extschema@.audit_head ENABLE ALWAYS TRIGGER fortknox_head_guard, ENABLE ALWAYS TRIGGER fortknox_head_no_truncate;
ALTER TABLE @extschema@.write_lock ENABLE ALWAYS TRIGGER fortknox_write_lock_guard, ENABLE ALWAYS TRIGGER fortknox_write_lock_no_truncate;
REVOKE ALL ON @audit_table@, @extschema@.audit_head, @extschema@.write_lock, @extschema@.meta FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.audit_chain(), @extschema@.seal(integer) FROM PUBLIC;
