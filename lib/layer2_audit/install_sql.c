/* The SQL of an install, generated from the resolved registry.
 *
 * Everything the database must enforce lives here: the append-only audit
 * table and its hash chain, the capture triggers, the delete and truncate
 * guards. Identifiers come from the registry and the catalog and are quoted;
 * names the functions need at run time travel as trigger arguments. */
#include "install_sql.h"

#include <string.h>

#include "audit_internal.h"

/* Literal for an SQL string. */
static void lit(fk__buf *b, const char *s)
{
    fk__buf_putc(b, '\'');
    for (; *s; s++) {
        if (*s == '\'')
            fk__buf_putc(b, '\'');
        fk__buf_putc(b, *s);
    }
    fk__buf_putc(b, '\'');
}

/* Replaces every "@S" with the schema and "@A" with the audit table. */
static void emit(fk__buf *b, const char *tmpl, const char *S, const char *A)
{
    for (const char *p = tmpl; *p; p++) {
        if (p[0] == '@' && p[1] == 'S') {
            fk__buf_puts(b, S);
            p++;
        } else if (p[0] == '@' && p[1] == 'A') {
            fk__buf_puts(b, A);
            p++;
        } else {
            fk__buf_putc(b, *p);
        }
    }
}

/* Objects of the audit log: version record, head, table, chain, immutability. */
static const char core_sql[] =
    "CREATE SCHEMA IF NOT EXISTS @S;\n"
    "CREATE TABLE IF NOT EXISTS @S.meta (key text PRIMARY KEY, value text NOT NULL);\n"
    "CREATE SEQUENCE IF NOT EXISTS @S.audit_id_seq;\n"
    /* one row holding the chain's head: its row lock serialises writers */
    "CREATE TABLE IF NOT EXISTS @S.audit_head (one boolean PRIMARY KEY DEFAULT true CHECK (one),"
    " last_id bigint NOT NULL, last_hash char(64) NOT NULL);\n"
    "INSERT INTO @S.audit_head VALUES (true, 0, repeat('0', 64)) ON CONFLICT DO NOTHING;\n"
    "CREATE TABLE IF NOT EXISTS @A (\n"
    "  id bigint PRIMARY KEY,\n"
    "  entity_type varchar(50) NOT NULL,\n"
    "  entity_id bigint NOT NULL,\n"
    "  entity_name varchar(500) NOT NULL,\n"
    "  action varchar(20) NOT NULL,\n"
    "  actor_id bigint NULL,\n"
    "  actor_email varchar(255) NULL,\n"
    "  old_json jsonb NULL,\n"
    "  new_json jsonb NULL,\n"
    "  changed_fields jsonb NULL,\n"
    "  ip_address varchar(45) NULL,\n"
    "  created_at timestamp(0) without time zone NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'));\n"
    /* columns added to a table Parthenon created (no-ops on our own) */
    "ALTER TABLE @A ADD COLUMN IF NOT EXISTS context varchar(200) NULL;\n"
    "ALTER TABLE @A ADD COLUMN IF NOT EXISTS prev_hash char(64) NOT NULL DEFAULT '';\n"
    "ALTER TABLE @A ADD COLUMN IF NOT EXISTS row_hash char(64) NOT NULL DEFAULT '';\n"
    "CREATE INDEX IF NOT EXISTS fortknox_audit_entity ON @A (entity_type, entity_id);\n"
    "CREATE INDEX IF NOT EXISTS fortknox_audit_actor ON @A (actor_id);\n"
    "CREATE INDEX IF NOT EXISTS fortknox_audit_action ON @A (action);\n"
    "CREATE INDEX IF NOT EXISTS fortknox_audit_created ON @A (created_at);\n"
    "CREATE OR REPLACE FUNCTION @S.hash_field(x text) RETURNS text LANGUAGE sql IMMUTABLE"
    " PARALLEL SAFE AS $f$ SELECT CASE WHEN x IS NULL THEN '~' ELSE octet_length(x)::text"
    " || ':' || x END $f$;\n"
    /* The canonical content of a row; docs/audit.md, and audit_verify.c
     * recomputes exactly this in C. */
    "CREATE OR REPLACE FUNCTION @S.row_hash(r @A) RETURNS text LANGUAGE sql STABLE AS $f$"
    " SELECT encode(sha256(convert_to('fortknox-audit-v1|'"
    " || @S.hash_field(r.prev_hash::text) || @S.hash_field(r.id::text)"
    " || @S.hash_field(r.entity_type::text) || @S.hash_field(r.entity_id::text)"
    " || @S.hash_field(r.entity_name::text) || @S.hash_field(r.action::text)"
    " || @S.hash_field(r.actor_id::text) || @S.hash_field(r.actor_email::text)"
    " || @S.hash_field(r.old_json::text) || @S.hash_field(r.new_json::text)"
    " || @S.hash_field(r.changed_fields::text) || @S.hash_field(r.ip_address::text)"
    " || @S.hash_field(to_char(r.created_at, 'YYYY-MM-DD\"T\"HH24:MI:SS'))"
    " || @S.hash_field(r.context::text), 'UTF8')), 'hex') $f$;\n"
    "CREATE OR REPLACE FUNCTION @S.changed_fields(o jsonb, n jsonb) RETURNS jsonb LANGUAGE sql"
    " IMMUTABLE AS $f$ SELECT CASE WHEN jsonb_typeof(o) IS DISTINCT FROM 'object'"
    " OR jsonb_typeof(n) IS DISTINCT FROM 'object' THEN NULL ELSE coalesce((SELECT"
    " jsonb_agg(k ORDER BY k) FROM (SELECT jsonb_object_keys(o) UNION SELECT"
    " jsonb_object_keys(n)) AS x(k) WHERE o -> k IS DISTINCT FROM n -> k), '[]'::jsonb) END $f$;\n"
    /* Who did it: the session's fortknox.* settings (SET LOCAL by the app). */
    "CREATE OR REPLACE FUNCTION @S.setting(name text) RETURNS text LANGUAGE sql STABLE AS $f$"
    " SELECT nullif(current_setting(name, true), '') $f$;\n"
    "CREATE OR REPLACE FUNCTION @S.actor_id() RETURNS bigint LANGUAGE sql STABLE AS $f$"
    " SELECT CASE WHEN @S.setting('fortknox.actor_id') ~ '^[0-9]{1,18}$'"
    " THEN @S.setting('fortknox.actor_id')::bigint END $f$;\n"
    /* The chain: ids, time and hashes are assigned here, under the head's
     * row lock, so concurrent writers form one chain in commit order and
     * nobody can forge an id or a date. */
    "CREATE OR REPLACE FUNCTION @S.audit_chain() RETURNS trigger LANGUAGE plpgsql"
    " SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $f$\n"
    "DECLARE h record;\n"
    "BEGIN\n"
    "  SELECT last_id, last_hash INTO h FROM @S.audit_head WHERE one FOR UPDATE;\n"
    /* without its head the chain cannot continue: refuse, as tampering */
    "  IF NOT FOUND THEN RAISE EXCEPTION 'the fortknox audit chain head row is missing"
    " (deleted?): no audit row can be chained' USING ERRCODE = 'FK002',"
    " HINT = 'run fortknox audit verify and investigate; fortknox install puts the head back';"
    " END IF;\n"
    "  NEW.id := nextval('@S.audit_id_seq');\n"
    "  NEW.created_at := date_trunc('second', now() AT TIME ZONE 'UTC');\n"
    "  NEW.entity_name := left(coalesce(nullif(NEW.entity_name, ''),"
    " NEW.entity_type || '-' || NEW.entity_id), 500);\n"
    "  NEW.changed_fields := @S.changed_fields(NEW.old_json, NEW.new_json);\n"
    "  NEW.prev_hash := h.last_hash;\n"
    "  NEW.row_hash := @S.row_hash(NEW);\n"
    "  UPDATE @S.audit_head SET last_id = NEW.id, last_hash = NEW.row_hash WHERE one;\n"
    "  RETURN NEW;\n"
    "END $f$;\n"
    "CREATE OR REPLACE FUNCTION @S.refuse() RETURNS trigger LANGUAGE plpgsql AS $f$\n"
    "BEGIN\n"
    "  RAISE EXCEPTION '% on %.% refused: the fortknox audit log is append-only',"
    " TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME USING ERRCODE = 'FK001',"
    " HINT = 'audit rows can never be changed or removed';\n"
    "END $f$;\n"
    "CREATE OR REPLACE FUNCTION @S.head_guard() RETURNS trigger LANGUAGE plpgsql AS $f$\n"
    "BEGIN\n"
    "  IF TG_OP = 'UPDATE' AND pg_trigger_depth() > 1 THEN RETURN NEW; END IF;\n"
    "  RAISE EXCEPTION 'the audit chain head is maintained by fortknox only'"
    " USING ERRCODE = 'FK001';\n"
    "END $f$;\n"
    "CREATE OR REPLACE TRIGGER fortknox_chain BEFORE INSERT ON @A FOR EACH ROW"
    " EXECUTE FUNCTION @S.audit_chain();\n"
    "CREATE OR REPLACE TRIGGER fortknox_immutable BEFORE UPDATE OR DELETE ON @A FOR EACH ROW"
    " EXECUTE FUNCTION @S.refuse();\n"
    "CREATE OR REPLACE TRIGGER fortknox_no_truncate BEFORE TRUNCATE ON @A FOR EACH STATEMENT"
    " EXECUTE FUNCTION @S.refuse();\n"
    "CREATE OR REPLACE TRIGGER fortknox_head_guard BEFORE UPDATE OR DELETE ON @S.audit_head"
    " FOR EACH ROW EXECUTE FUNCTION @S.head_guard();\n"
    "CREATE OR REPLACE TRIGGER fortknox_head_no_truncate BEFORE TRUNCATE ON @S.audit_head"
    " FOR EACH STATEMENT EXECUTE FUNCTION @S.refuse();\n"
    "REVOKE ALL ON @A, @S.audit_head, @S.meta FROM PUBLIC;\n";

/* Writes one audit row for a captured change (used by the triggers). */
static const char write_sql[] =
    "CREATE OR REPLACE FUNCTION @S.write(p_type text, p_id bigint, p_name text, p_action text,"
    " p_old jsonb, p_new jsonb, p_context text) RETURNS void LANGUAGE plpgsql SECURITY DEFINER"
    " SET search_path = pg_catalog, pg_temp AS $f$\n"
    "BEGIN\n"
    "  INSERT INTO @A (entity_type, entity_id, entity_name, action, actor_id, actor_email,"
    " old_json, new_json, ip_address, context) VALUES (p_type, p_id, p_name, p_action,"
    " @S.actor_id(), left(@S.setting('fortknox.actor_email'), 255), p_old, p_new,"
    " left(@S.setting('fortknox.ip'), 45), coalesce(@S.setting('fortknox.context'), p_context));\n"
    "  PERFORM pg_notify('fortknox', json_build_object('type', p_type, 'id', p_id,"
    " 'action', p_action)::text);\n"
    "END $f$;\n"
    /* Imports and restores write their own single row per entity. */
    "CREATE OR REPLACE FUNCTION @S.quiet() RETURNS boolean LANGUAGE sql STABLE AS $f$"
    " SELECT coalesce(@S.setting('fortknox.context') ~ '^(import|restore)', false) $f$;\n";

/* Row-level capture on an entity table. TG_ARGV: type, pk, name column,
 * soft-delete column (or ''). */
static const char capture_sql[] =
    "CREATE OR REPLACE FUNCTION @S.capture_entity() RETURNS trigger LANGUAGE plpgsql"
    " SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $f$\n"
    "DECLARE o jsonb; n jsonb; id bigint; act text := 'updated'; sd text := TG_ARGV[3];\n"
    "BEGIN\n"
    "  IF @S.quiet() THEN RETURN NULL; END IF;\n"
    "  IF TG_OP <> 'INSERT' THEN o := to_jsonb(OLD); END IF;\n"
    "  IF TG_OP <> 'DELETE' THEN n := to_jsonb(NEW); END IF;\n"
    "  IF TG_OP = 'UPDATE' AND o = n THEN RETURN NULL; END IF;\n"
    "  id := (coalesce(n, o) ->> TG_ARGV[1])::bigint;\n"
    "  IF TG_OP = 'INSERT' THEN act := 'created';\n"
    "  ELSIF TG_OP = 'DELETE' THEN act := 'force_deleted';\n"
    "  ELSIF sd <> '' AND o -> sd = 'null'::jsonb AND n -> sd <> 'null'::jsonb THEN act := 'deleted';\n"
    "  ELSIF sd <> '' AND o -> sd <> 'null'::jsonb AND n -> sd = 'null'::jsonb THEN act := 'restored';\n"
    "  END IF;\n"
    "  PERFORM @S.write(TG_ARGV[0], id, coalesce(n, o) ->> TG_ARGV[2], act,"
    " CASE WHEN o IS NOT NULL THEN @S.entity_doc(TG_ARGV[0], id, o) END,"
    " CASE WHEN n IS NOT NULL THEN @S.entity_doc(TG_ARGV[0], id, NULL) END, 'capture');\n"
    "  RETURN NULL;\n"
    "END $f$;\n"
    /* Statement-level capture on a child table: one row per parent touched,
     * attributed to the parent. TG_ARGV: parent type, fk column, parent name
     * column. */
    "CREATE OR REPLACE FUNCTION @S.capture_child() RETURNS trigger LANGUAGE plpgsql"
    " SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $f$\n"
    "DECLARE pid bigint; q text; d jsonb;\n"
    "BEGIN\n"
    "  IF @S.quiet() THEN RETURN NULL; END IF;\n"
    "  q := CASE TG_OP WHEN 'INSERT' THEN format('SELECT DISTINCT (%1$I)::bigint FROM fk_new', TG_ARGV[1])\n"
    "    WHEN 'DELETE' THEN format('SELECT DISTINCT (%1$I)::bigint FROM fk_old', TG_ARGV[1])\n"
    "    ELSE format('SELECT (%1$I)::bigint FROM fk_new UNION SELECT (%1$I)::bigint FROM fk_old',"
    " TG_ARGV[1]) END;\n"
    "  FOR pid IN EXECUTE q LOOP\n"
    "    d := @S.entity_doc(TG_ARGV[0], pid, NULL);\n"
    "    CONTINUE WHEN d IS NULL; /* the parent itself is going: its own row says so */\n"
    "    PERFORM @S.write(TG_ARGV[0], pid, d ->> TG_ARGV[2], 'updated', (SELECT a.new_json FROM"
    " @A a WHERE a.entity_type = TG_ARGV[0] AND a.entity_id = pid ORDER BY a.id DESC LIMIT 1),"
    " d, 'capture');\n"
    "  END LOOP;\n"
    "  RETURN NULL;\n"
    "END $f$;\n";

/* Layer 1: the guards. TG_ARGV: primary key (delete), entity type and
 * capture flag (truncate). */
static const char guard_sql[] =
    "CREATE OR REPLACE FUNCTION @S.guard_delete() RETURNS trigger LANGUAGE plpgsql AS $f$\n"
    "BEGIN\n"
    "  IF current_setting('fortknox.allow_hard_delete', true) = 'on' THEN RETURN OLD; END IF;\n"
    "  RAISE EXCEPTION 'hard delete of % id % blocked by fortknox; soft-delete it, or SET LOCAL"
    " fortknox.allow_hard_delete = on', TG_TABLE_NAME, to_jsonb(OLD) ->> TG_ARGV[0]"
    " USING ERRCODE = 'FK001', HINT = 'this table is protected by libfortknox (layer 1)';\n"
    "END $f$;\n"
    "CREATE OR REPLACE FUNCTION @S.guard_truncate() RETURNS trigger LANGUAGE plpgsql"
    " SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $f$\n"
    "DECLARE n bigint;\n"
    "BEGIN\n"
    "  IF current_setting('fortknox.allow_truncate', true) IS DISTINCT FROM 'on' THEN\n"
    "    RAISE EXCEPTION 'TRUNCATE of %.% blocked by fortknox (also when reached through"
    " TRUNCATE ... CASCADE); delete rows individually, or SET LOCAL fortknox.allow_truncate = on',"
    " TG_TABLE_SCHEMA, TG_TABLE_NAME USING ERRCODE = 'FK001',"
    " HINT = 'this table holds design entities protected by libfortknox (layer 1)';\n"
    "  END IF;\n"
    "  EXECUTE format('SELECT count(*) FROM %I.%I', TG_TABLE_SCHEMA, TG_TABLE_NAME) INTO n;\n"
    /* an overridden truncate is still recorded, with what it removed */
    "  PERFORM @S.write(TG_ARGV[0], 0, TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, 'truncated',"
    " NULL, jsonb_build_object('table', TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, 'rows', n),"
    " 'truncate');\n"
    "  IF TG_ARGV[1] = 'capture' AND TG_ARGV[2] <> '' THEN\n"
    "    EXECUTE format('SELECT @S.write(%L, (to_jsonb(t) ->> %L)::bigint, to_jsonb(t) ->> %L,"
    " ''force_deleted'', @S.entity_doc(%L, (to_jsonb(t) ->> %L)::bigint, to_jsonb(t)), NULL,"
    " ''truncate'') FROM %I.%I t', TG_ARGV[0], TG_ARGV[2], TG_ARGV[3], TG_ARGV[0], TG_ARGV[2],"
    " TG_TABLE_SCHEMA, TG_TABLE_NAME);\n"
    "  END IF;\n"
    "  RETURN NULL;\n"
    "END $f$;\n";

/* entity_doc(type, id, row): the entity as JSON, children included and
 * secrets removed; row = NULL reads the row itself. Generated per registry. */
static void entity_doc_sql(fk__buf *b, const fk__registry *reg, const char *S)
{
    fk__buf_printf(b, "CREATE OR REPLACE FUNCTION %s.entity_doc(p_type text, p_id bigint, p_row"
                      " jsonb) RETURNS jsonb LANGUAGE plpgsql STABLE SECURITY DEFINER SET"
                      " search_path = pg_catalog, pg_temp AS $f$\nDECLARE d jsonb := p_row;\nBEGIN\n",
                   S);
    for (size_t i = 0; i < reg->ntypes; i++) {
        const fk__etype *e = &reg->types[i];
        fk__buf_puts(b, i ? "  ELSIF p_type = " : "  IF p_type = ");
        lit(b, e->name);
        fk__buf_printf(b, " THEN\n    IF d IS NULL THEN SELECT to_jsonb(t) INTO d FROM %s t WHERE"
                          " t.%s = p_id; END IF;\n    IF d IS NULL THEN RETURN NULL; END IF;\n",
                       e->t.quoted, e->t.cols[e->t.pk].quoted);
        for (size_t s = 0; s < e->t.ncols; s++)
            if (e->t.cols[s].secret) {
                fk__buf_puts(b, "    d := d - ");
                lit(b, e->t.cols[s].name);
                fk__buf_puts(b, ";\n");
            }
        for (size_t c = 0; c < e->nchildren; c++) {
            const fk__child *ch = &e->children[c];
            fk__buf_puts(b, "    d := d || jsonb_build_object(");
            lit(b, ch->key);
            fk__buf_printf(b, ", coalesce((SELECT jsonb_agg(to_jsonb(c) ORDER BY c.%s) FROM %s c"
                              " WHERE c.%s = p_id), '[]'::jsonb));\n",
                           ch->t.cols[ch->t.pk].quoted, ch->t.quoted, ch->t.cols[ch->fk].quoted);
        }
    }
    fk__buf_puts(b, reg->ntypes ? "  END IF;\n" : "");
    fk__buf_puts(b, "  RETURN d;\nEND $f$;\n");
}

static void trigger(fk__buf *b, const char *name, const char *when, const char *table,
                    const char *level, const char *fn, const char *const *args, size_t nargs)
{
    fk__buf_printf(b, "CREATE OR REPLACE TRIGGER \"%s\" %s ON %s %s EXECUTE FUNCTION %s(", name,
                   when, table, level, fn);
    for (size_t i = 0; i < nargs; i++) {
        if (i)
            fk__buf_puts(b, ", ");
        lit(b, args[i]);
    }
    fk__buf_puts(b, ");\n");
}

static void drop_trigger(fk__buf *b, const char *name, const char *table)
{
    fk__buf_printf(b, "DROP TRIGGER IF EXISTS \"%s\" ON %s;\n", name, table);
}

int fk__install_sql(fk__buf *b, const fk__registry *reg, const fk__install_plan *p)
{
    const char *S = p->schema_q, *A = p->audit_q;
    emit(b, core_sql, S, A);
    emit(b, write_sql, S, A);
    entity_doc_sql(b, reg, S);
    emit(b, capture_sql, S, A);
    emit(b, guard_sql, S, A);
    char fn[300];
    for (size_t i = 0; i < reg->ntypes; i++) {
        const fk__etype *e = &reg->types[i];
        const char *pk = e->t.cols[e->t.pk].name;
        const char *sd = e->softdel >= 0 ? e->t.cols[e->softdel].name : "";
        const char *namec = e->t.cols[e->name_col].name;
        const char *mode = p->capture ? "capture" : "app";
        /* Capture first in name order ("FK..." < "RI_..."): AFTER triggers
         * fire alphabetically, so a parent's row is captured before ON
         * DELETE CASCADE removes its children. */
        if (p->guards) {
            const char *ga[] = {pk};
            snprintf(fn, sizeof fn, "%s.guard_delete", S);
            trigger(b, "FK_guard_delete", "BEFORE DELETE", e->t.quoted, "FOR EACH ROW", fn, ga, 1);
            const char *ta[] = {e->name, mode, pk, namec};
            snprintf(fn, sizeof fn, "%s.guard_truncate", S);
            trigger(b, "FK_guard_truncate", "BEFORE TRUNCATE", e->t.quoted, "FOR EACH STATEMENT",
                    fn, ta, 4);
        } else {
            drop_trigger(b, "FK_guard_delete", e->t.quoted);
            drop_trigger(b, "FK_guard_truncate", e->t.quoted);
        }
        if (p->capture) {
            const char *ca[] = {e->name, pk, namec, sd};
            snprintf(fn, sizeof fn, "%s.capture_entity", S);
            trigger(b, "FK_capture", "AFTER INSERT OR UPDATE OR DELETE", e->t.quoted,
                    "FOR EACH ROW", fn, ca, 4);
        } else {
            drop_trigger(b, "FK_capture", e->t.quoted);
        }
        for (size_t c = 0; c < e->nchildren; c++) {
            const fk__child *ch = &e->children[c];
            const char *fkc = ch->t.cols[ch->fk].name;
            if (p->guards) {
                /* children are edited freely (an item removed from a set);
                 * only their wholesale truncation is guarded */
                const char *ta[] = {e->name, "app", "", ""};
                snprintf(fn, sizeof fn, "%s.guard_truncate", S);
                trigger(b, "FK_guard_truncate", "BEFORE TRUNCATE", ch->t.quoted,
                        "FOR EACH STATEMENT", fn, ta, 4);
            } else {
                drop_trigger(b, "FK_guard_truncate", ch->t.quoted);
            }
            static const char *const names[] = {"FK_capture_ins", "FK_capture_upd",
                                                "FK_capture_del"};
            static const char *const whens[] = {"AFTER INSERT", "AFTER UPDATE", "AFTER DELETE"};
            static const char *const refs[] = {
                "REFERENCING NEW TABLE AS fk_new FOR EACH STATEMENT",
                "REFERENCING OLD TABLE AS fk_old NEW TABLE AS fk_new FOR EACH STATEMENT",
                "REFERENCING OLD TABLE AS fk_old FOR EACH STATEMENT"};
            for (int k = 0; k < 3; k++) {
                if (p->capture) {
                    const char *ca[] = {e->name, fkc, namec};
                    snprintf(fn, sizeof fn, "%s.capture_child", S);
                    trigger(b, names[k], whens[k], ch->t.quoted, refs[k], fn, ca, 3);
                } else {
                    drop_trigger(b, names[k], ch->t.quoted);
                }
            }
        }
    }
    if (p->app_role_q) {
        fk__buf_printf(b, "REVOKE ALL ON %s, %s.audit_head, %s.meta FROM %s;\n", A, S, S,
                       p->app_role_q);
        fk__buf_printf(b, "GRANT USAGE ON SCHEMA %s TO %s;\n", S, p->app_role_q);
        fk__buf_printf(b, "GRANT INSERT, SELECT ON %s TO %s;\n", A, p->app_role_q);
    }
    return fk__buf_failed(b) ? -1 : 0;
}
