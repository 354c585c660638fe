/* The audit log's SQL (audit_sql.h). */
#include "audit_sql.h"

#include <stdio.h>

#include "sql_files.h"
#include "sql_quote.h"
#include "sql_template.h"
#include "sql_names.h"

/* A call outside the library's triggers (only roles granted EXECUTE can
 * make one) reads the entity's tables with the owner's rights: it is
 * refused unless the session's role may read them all itself. The triggers
 * read as the owner whoever changed the row: capture must never depend on
 * the writer's rights. */
static void read_check(fk__buf *b, const fk__etype *e)
{
    fk__buf_puts(b, "    IF pg_trigger_depth() = 0 AND NOT (has_table_privilege(session_user, ");
    fk__sql_put_literal(b, e->t.quoted);
    fk__buf_puts(b, ", 'SELECT')");
    for (size_t c = 0; c < e->nchildren; c++) {
        fk__buf_puts(b, " AND has_table_privilege(session_user, ");
        fk__sql_put_literal(b, e->children[c].t.quoted);
        fk__buf_puts(b, ", 'SELECT')");
    }
    fk__buf_puts(b, ") THEN\n      RAISE EXCEPTION 'fortknox entity_doc: role % may not read ");
    fk__buf_puts(b, "the tables of %', session_user, p_type USING ERRCODE = '42501';\n    END IF;\n");
}

/* entity_doc(type, id, row): the entity as JSON, children included and
 * secrets removed; row = NULL reads the row itself. Generated per registry;
 * SECURITY DEFINER (capture reads what the writer may not), so not for
 * PUBLIC. */
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
        fk__buf_puts(b, " THEN\n");
        read_check(b, e);
        fk__buf_printf(b, "    IF d IS NULL THEN SELECT to_jsonb(t) INTO d FROM %s t WHERE"
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
    fk__buf_printf(b, "REVOKE ALL ON FUNCTION %s.entity_doc(text, bigint, jsonb) FROM PUBLIC;\n",
                   S);
}

void fk__audit_sql_functions(fk__buf *b, const fk__registry *reg, const char *S, const char *A)
{
    fk__sql_emit(b, fk__sql_core, S, A);
    fk__sql_emit(b, fk__sql_audit_write, S, A);
    entity_doc_sql(b, reg, S);
    fk__sql_emit(b, fk__sql_capture, S, A);
}

void fk__audit_sql_triggers(fk__buf *b, const fk__registry *reg, const char *S, int capture)
{
    char mark_fn[300], check_fn[300];
    snprintf(mark_fn, sizeof mark_fn, "%s.capture_mark", S);
    snprintf(check_fn, sizeof check_fn, "%s.capture_check", S);
    /* the statement-level child triggers of earlier installs */
    static const char *const legacy[] = {FK__TRG_CAPTURE_INS_V0, FK__TRG_CAPTURE_UPD_V0,
                                         FK__TRG_CAPTURE_DEL_V0};
    for (size_t i = 0; i < reg->ntypes; i++) {
        const fk__etype *e = &reg->types[i];
        /* BEFORE: the entity is noted as it is before the row changes (the
         * audit row itself is written at commit, capture--1.sql) */
        for (int c = -1; c < (int)e->nchildren; c++) {
            const char *table = c < 0 ? e->t.quoted : e->children[c].t.quoted;
            const char *ca[FK__CAPTURE_NARGS];
            fk__capture_args(e, c, ca);
            if (capture) {
                fk__sql_create_trigger(b, FK__TRG_CAPTURE, "BEFORE INSERT OR UPDATE OR DELETE",
                                       table, "FOR EACH ROW", mark_fn, ca, FK__CAPTURE_NARGS);
                /* AFTER: the row's entity, as every BEFORE trigger left it,
                 * was noted. An UPDATE that keeps the row's entity key needs
                 * no check: FK_capture noted OLD's entity, which is NEW's
                 * (OR REPLACE: an earlier install's fired on UPDATE too) */
                fk__sql_create_trigger(b, FK__TRG_CAPTURE_CHECK, "AFTER INSERT", table,
                                       "FOR EACH ROW", check_fn, ca, FK__CAPTURE_NARGS);
                const char *key_q = c < 0 ? e->t.cols[e->t.pk].quoted
                                          : e->children[c].t.cols[e->children[c].fk].quoted;
                fk__sql_create_key_trigger(b, FK__TRG_CAPTURE_CHECK_KEY, table, key_q, check_fn,
                                           ca, FK__CAPTURE_NARGS);
            } else {
                fk__sql_drop_trigger(b, FK__TRG_CAPTURE, table);
                fk__sql_drop_trigger(b, FK__TRG_CAPTURE_CHECK, table);
                fk__sql_drop_trigger(b, FK__TRG_CAPTURE_CHECK_KEY, table);
            }
            for (size_t k = 0; c >= 0 && k < 3; k++)
                fk__sql_drop_trigger(b, legacy[k], table);
        }
    }
    /* after the triggers that called them */
    fk__buf_printf(b, "DROP FUNCTION IF EXISTS %s.capture_entity();\n"
                      "DROP FUNCTION IF EXISTS %s.capture_child();\n",
                   S, S);
}
