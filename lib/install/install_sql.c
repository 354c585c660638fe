/* The SQL of an install, generated from the resolved registry.
 *
 * Everything the database must enforce is installed from here: the
 * append-only audit table and its hash chain, the capture triggers, the
 * delete and truncate guards. The static part is SQL in lib/sql/ (embedded
 * at build time); only what depends on the registry is generated here.
 * Identifiers come from the registry and the catalog and are quoted; names
 * the functions need at run time travel as trigger arguments. */
#include "install_sql.h"

#include <string.h>

#include "audit_internal.h"
#include "sql_files.h"
#include "sql_quote.h"
#include "trigger_names.h"

/* Replaces every FK__SQL_SCHEMA with the schema and FK__SQL_AUDIT with the
 * audit table (both quoted by the caller). */
static void emit(fk__buf *b, const char *tmpl, const char *S, const char *A)
{
    const size_t ls = strlen(FK__SQL_SCHEMA), la = strlen(FK__SQL_AUDIT);
    for (const char *p = tmpl; *p; p++) {
        if (strncmp(p, FK__SQL_SCHEMA, ls) == 0) {
            fk__buf_puts(b, S);
            p += ls - 1;
        } else if (strncmp(p, FK__SQL_AUDIT, la) == 0) {
            fk__buf_puts(b, A);
            p += la - 1;
        } else {
            fk__buf_putc(b, *p);
        }
    }
}

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
        fk__sql_put_literal(b, e->name);
        fk__buf_printf(b, " THEN\n    IF d IS NULL THEN SELECT to_jsonb(t) INTO d FROM %s t WHERE"
                          " t.%s = p_id; END IF;\n    IF d IS NULL THEN RETURN NULL; END IF;\n",
                       e->t.quoted, e->t.cols[e->t.pk].quoted);
        for (size_t s = 0; s < e->t.ncols; s++)
            if (e->t.cols[s].secret) {
                fk__buf_puts(b, "    d := d - ");
                fk__sql_put_literal(b, e->t.cols[s].name);
                fk__buf_puts(b, ";\n");
            }
        for (size_t c = 0; c < e->nchildren; c++) {
            const fk__child *ch = &e->children[c];
            fk__buf_puts(b, "    d := d || jsonb_build_object(");
            fk__sql_put_literal(b, ch->key);
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
        fk__sql_put_literal(b, args[i]);
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
    emit(b, fk__sql_core, S, A);
    emit(b, fk__sql_audit_write, S, A);
    entity_doc_sql(b, reg, S);
    emit(b, fk__sql_capture, S, A);
    emit(b, fk__sql_guard, S, A);
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
            trigger(b, FK__TRG_GUARD_DELETE, "BEFORE DELETE", e->t.quoted, "FOR EACH ROW", fn, ga,
                    1);
            const char *ta[] = {e->name, mode, pk, namec};
            snprintf(fn, sizeof fn, "%s.guard_truncate", S);
            trigger(b, FK__TRG_GUARD_TRUNCATE, "BEFORE TRUNCATE", e->t.quoted,
                    "FOR EACH STATEMENT", fn, ta, 4);
        } else {
            drop_trigger(b, FK__TRG_GUARD_DELETE, e->t.quoted);
            drop_trigger(b, FK__TRG_GUARD_TRUNCATE, e->t.quoted);
        }
        if (p->capture) {
            const char *ca[] = {e->name, pk, namec, sd};
            snprintf(fn, sizeof fn, "%s.capture_entity", S);
            trigger(b, FK__TRG_CAPTURE, "AFTER INSERT OR UPDATE OR DELETE", e->t.quoted,
                    "FOR EACH ROW", fn, ca, 4);
        } else {
            drop_trigger(b, FK__TRG_CAPTURE, e->t.quoted);
        }
        for (size_t c = 0; c < e->nchildren; c++) {
            const fk__child *ch = &e->children[c];
            const char *fkc = ch->t.cols[ch->fk].name;
            if (p->guards) {
                /* children are edited freely (an item removed from a set);
                 * only their wholesale truncation is guarded */
                const char *ta[] = {e->name, "app", "", ""};
                snprintf(fn, sizeof fn, "%s.guard_truncate", S);
                trigger(b, FK__TRG_GUARD_TRUNCATE, "BEFORE TRUNCATE", ch->t.quoted,
                        "FOR EACH STATEMENT", fn, ta, 4);
            } else {
                drop_trigger(b, FK__TRG_GUARD_TRUNCATE, ch->t.quoted);
            }
            static const char *const names[] = {FK__TRG_CAPTURE_INS, FK__TRG_CAPTURE_UPD,
                                                FK__TRG_CAPTURE_DEL};
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
