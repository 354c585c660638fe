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

-- The chain: ids, time and hashes are assigned here, under the head's
-- row lock, so concurrent writers form one chain in commit order and
-- nobody can forge an id or a date. The time is taken once the lock is
-- held (clock_timestamp(), not the transaction's start): the lock is kept
-- until commit, so no other transaction's row can fall between a row's
-- time and its commit, and time order is chain order. Without its head the
-- chain cannot continue: refuse, as tampering (FK002).
-- The head row moves once per transaction, at commit (audit_head_move):
-- moving it for every row left one dead row version per audit row in the
-- writing transaction, each read walking them all (20,000 rows in one
-- transaction took 17 s, 4x the time of 10,000). Within the transaction
-- the chain continues from its own last row, recognised by its
-- transaction_id; any other row past the head (written with this trigger
-- off) is not continued from, so it stays a visible break. The
-- transaction's first row queues the move (audit_chain_queue, AFTER the row
-- exists): a row in chain_commit, whose deferred constraint trigger runs at
-- commit (on a table of its own: an event pending on the audit table would
-- make it unalterable in that transaction). Made immediate (SET CONSTRAINTS
-- ALL IMMEDIATE) it runs right after the row is written and moves the head
-- to it: per row again, slower, still right.
CREATE UNLOGGED TABLE IF NOT EXISTS @extschema@.chain_commit (xid bigint PRIMARY KEY);
CREATE OR REPLACE FUNCTION @extschema@.audit_chain() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $f$
DECLARE h record; l record; x bigint := pg_current_xact_id()::text::bigint;
BEGIN
  SELECT last_id, last_hash, last_at INTO h FROM @extschema@.audit_head WHERE one FOR UPDATE;
  IF NOT FOUND THEN RAISE EXCEPTION 'the fortknox audit chain head row is missing (deleted?): no audit row can be chained' USING ERRCODE = 'FK002', HINT = 'run fortknox audit verify and investigate; fortknox install puts the head back'; END IF;
  SELECT a.id, a.row_hash, a.created_at, a.transaction_id INTO l FROM @audit_table@ a ORDER BY a.id DESC LIMIT 1;
  IF l.id > h.last_id AND l.transaction_id = x THEN
    h.last_hash := l.row_hash;
    h.last_at := greatest(h.last_at, l.created_at);
  END IF;
  NEW.id := nextval('@extschema@.audit_id_seq');
  NEW.created_at := greatest(clock_timestamp() AT TIME ZONE 'UTC', h.last_at);
  NEW.transaction_id := x;
  NEW.entity_name := left(coalesce(nullif(NEW.entity_name, ''), NEW.entity_type || '-' || NEW.entity_id), 500);
  NEW.changed_fields := @extschema@.changed_fields(NEW.old_json, NEW.new_json);
  NEW.prev_hash := h.last_hash;
  NEW.row_hash := @extschema@.row_hash(NEW);
  RETURN NEW;
END $f$;

-- Queues the head's move for the row's transaction, once (the queue row
-- goes when the head moves; a later row queues it again).
CREATE OR REPLACE FUNCTION @extschema@.audit_chain_queue() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $f$
BEGIN
  /* a row without one was written past the chain trigger: not the chain's */
  IF NEW.transaction_id IS NOT NULL THEN
    INSERT INTO @extschema@.chain_commit VALUES (NEW.transaction_id) ON CONFLICT DO NOTHING;
  END IF;
  RETURN NULL;
END $f$;

-- At commit: the head names the transaction's last row.
CREATE OR REPLACE FUNCTION @extschema@.audit_head_move() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $f$
BEGIN
  UPDATE @extschema@.audit_head h SET last_id = l.id, last_hash = l.row_hash, last_at = l.created_at FROM (SELECT a.id, a.row_hash, a.created_at, a.transaction_id FROM @audit_table@ a ORDER BY a.id DESC LIMIT 1) l WHERE h.one AND h.last_id < l.id AND l.transaction_id = NEW.xid;
  DELETE FROM @extschema@.chain_commit c WHERE c.xid = NEW.xid;
  RETURN NULL;
END $f$;

-- Append-only: changes to audit rows and the head are refused (FK001).
CREATE OR REPLACE FUNCTION @extschema@.refuse() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
  RAISE EXCEPTION '% on %.% refused: the fortknox audit log is append-only', TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME USING ERRCODE = 'FK001', HINT = 'audit rows can never be changed or removed';
END $f$;
-- search_path fixed: a shadowing pg_trigger_depth() must not open the head
CREATE OR REPLACE FUNCTION @extschema@.head_guard() RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $f$
BEGIN
  IF TG_OP = 'UPDATE' AND pg_trigger_depth() > 1 THEN RETURN NEW; END IF;
  RAISE EXCEPTION 'the audit chain head is maintained by fortknox only' USING ERRCODE = 'FK001';
END $f$;
CREATE OR REPLACE TRIGGER fortknox_chain BEFORE INSERT ON @audit_table@ FOR EACH ROW EXECUTE FUNCTION @extschema@.audit_chain();
CREATE OR REPLACE TRIGGER fortknox_chain_queue AFTER INSERT ON @audit_table@ FOR EACH ROW EXECUTE FUNCTION @extschema@.audit_chain_queue();
-- a constraint trigger cannot be created OR REPLACE
DROP TRIGGER IF EXISTS fortknox_chain_head ON @extschema@.chain_commit;
CREATE CONSTRAINT TRIGGER fortknox_chain_head AFTER INSERT ON @extschema@.chain_commit DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION @extschema@.audit_head_move();
CREATE OR REPLACE TRIGGER fortknox_immutable BEFORE UPDATE OR DELETE ON @audit_table@ FOR EACH ROW EXECUTE FUNCTION @extschema@.refuse();
CREATE OR REPLACE TRIGGER fortknox_no_truncate BEFORE TRUNCATE ON @audit_table@ FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.refuse();
CREATE OR REPLACE TRIGGER fortknox_head_guard BEFORE UPDATE OR DELETE ON @extschema@.audit_head FOR EACH ROW EXECUTE FUNCTION @extschema@.head_guard();
CREATE OR REPLACE TRIGGER fortknox_head_no_truncate BEFORE TRUNCATE ON @extschema@.audit_head FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.refuse();
-- ALWAYS: they fire in every session_replication_role (replica included).
ALTER TABLE @extschema@.chain_commit ENABLE ALWAYS TRIGGER fortknox_chain_head;
ALTER TABLE @audit_table@ ENABLE ALWAYS TRIGGER fortknox_chain, ENABLE ALWAYS TRIGGER fortknox_chain_queue, ENABLE ALWAYS TRIGGER fortknox_immutable, ENABLE ALWAYS TRIGGER fortknox_no_truncate;
ALTER TABLE @extschema@.audit_head ENABLE ALWAYS TRIGGER fortknox_head_guard, ENABLE ALWAYS TRIGGER fortknox_head_no_truncate;
REVOKE ALL ON @audit_table@, @extschema@.audit_head, @extschema@.chain_commit, @extschema@.meta FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.audit_chain(), @extschema@.audit_chain_queue(), @extschema@.audit_head_move() FROM PUBLIC;
