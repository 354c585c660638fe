/* An entity's state at a point in its audit history (fk_entity_as_of), and
 * putting it back into that state (fk_entity_restore) through the
 * importer's machinery, audited as one "restored" row. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "buf.h"
#include "fortknox/audit.h"
#include "fortknox/fixtures.h"
#include "import_internal.h"
#include "installed.h"
#include "pgutil.h"
#include "report_internal.h"
#include "standby.h"
#include "entry.h"
#include "recovery_internal.h"
#include "restore_state.h"

/* An audit id names one row: a row of another entity would otherwise mean
 * "this entity as of that moment", which nobody asked for (a mistyped id
 * restored the wrong state and said "restored"). */
static int row_is_the_entitys(fk_ctx *ctx, const fk__install_info *info, const char *type,
                              const char *idt, const char *aid)
{
    const char *p[1] = {aid};
    char sql[400];
    snprintf(sql, sizeof sql, "SELECT entity_type, entity_id::text FROM %s WHERE id = $1",
             info->audit_q);
    PGresult *res;
    int rc = fk__pg_query(ctx, &res, sql, 1, p, "reading the audit row");
    if (rc)
        return rc;
    if (PQntuples(res) == 0)
        rc = fk__fail(ctx, FK_EINVAL, "there is no audit row %s", aid);
    else if (strcmp(PQgetvalue(res, 0, 0), type) != 0 || strcmp(PQgetvalue(res, 0, 1), idt) != 0)
        rc = fk__fail(ctx, FK_EINVAL, "audit row %s records %s %s, not %s %s: give a row of %s "
                                      "%s's own history",
                      aid, PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), type, idt, type, idt);
    PQclear(res);
    return rc;
}

/* Fails with "no state" for the entity, freeing *res. */
static int no_state(fk_ctx *ctx, PGresult **res, const char *type, int64_t id, const char *what,
                    const char *when)
{
    PQclear(*res);
    *res = NULL;
    return fk__fail(ctx, FK_ENOTFOUND, "%s %" PRId64 " %s%s", type, id, what, when);
}

/* The state to restore (docs/recovery.md, "State at a time"): at time
 * as_of; or the one audit row audit_id left (its new_json; for a deletion,
 * the state it removed); or, with neither and `latest` set, the state the
 * entity's last row (a deletion) removed. *res: one row, the document text
 * and the audit row it comes from. */
static int state_at(fk_ctx *ctx, const fk__install_info *info, const char *type, int64_t id,
                    const char *as_of, int64_t audit_id, int latest, PGresult **res)
{
    *res = NULL;
    if (as_of && audit_id)
        return fk__fail(ctx, FK_EINVAL, "give either a time or an audit id, not both");
    if (!as_of && !audit_id && !latest)
        return fk__fail(ctx, FK_EINVAL, "give either a time or an audit id");
    char idt[24], aid[24];
    fk__i64_to_text(idt, id);
    fk__i64_to_text(aid, audit_id);
    int rc = audit_id ? row_is_the_entitys(ctx, info, type, idt, aid)
             : as_of  ? fk__pg_check_time(ctx, as_of, "as_of")
                      : FK_OK;
    if (rc)
        return rc;
    fk__buf sql = FK__BUF_INIT;
    const char *p[3] = {type, idt, as_of};
    if (as_of) {
        fk__buf_puts(&sql, "SELECT (" FK__STATE_DOC ")::text, " FK__STATE_SRC ", " FK__STATE_ACTION
                           ", " FK__STATE_KNOWN " FROM (SELECT 1) i");
        fk__state_joins(&sql, info->audit_q, "$1", "$2::bigint", "$3");
    } else {
        /* a row's own state; a deletion's is the one it removed */
        fk__buf_printf(&sql,
                       "SELECT (CASE WHEN new_json IS NOT NULL THEN new_json WHEN action IN"
                       " " FK__REMOVING_ACTIONS " OR action = 'deleted' THEN old_json END)::text,"
                       " id, action,"
                       " new_json IS NOT NULL OR old_json IS NOT NULL, new_json IS NULL FROM %s WHERE"
                       " entity_type = $1 AND entity_id = $2::bigint AND ($3::bigint IS NULL OR"
                       " id = $3::bigint) ORDER BY id DESC LIMIT 1",
                       info->audit_q);
        p[2] = audit_id ? aid : NULL;
    }
    if ((rc = fk__pg_query_buf(ctx, res, &sql, 3, p, "reading the entity's history")))
        return rc;
    if (PQntuples(*res) == 0 || PQgetisnull(*res, 0, 1))
        return no_state(ctx, res, type, id, as_of ? "has no audit history around " :
                        "has no audit history", as_of ? as_of : "");
    if (!as_of && !audit_id && PQgetvalue(*res, 0, 4)[0] != 't') {
        char last[300];
        snprintf(last, sizeof last, "%s (%s)", PQgetvalue(*res, 0, 1), PQgetvalue(*res, 0, 2));
        PQclear(*res);
        *res = NULL;
        return fk__fail(ctx, FK_EINVAL,
                        "%s %" PRId64 " was not deleted: its last audit row is %s; give a time"
                        " (--as-of) or an audit row (--audit-id) to restore it to",
                        type, id, last);
    }
    if (PQgetisnull(*res, 0, 0) && PQgetvalue(*res, 0, 3)[0] != 't') {
        /* a row without the state (see FK__STATE_KNOWN): never guessed */
        char row[300];
        snprintf(row, sizeof row, "%s (%s)", PQgetvalue(*res, 0, 1), PQgetvalue(*res, 0, 2));
        PQclear(*res);
        *res = NULL;
        return fk__fail(ctx, FK_ENOTFOUND,
                        "%s %" PRId64 ": the audit log does not record its state %s%s: audit "
                        "row %s holds no state to restore; nothing was changed",
                        type, id, as_of ? "at " : "at audit row ", as_of ? as_of : aid, row);
    }
    if (PQgetisnull(*res, 0, 0))
        return no_state(ctx, res, type, id, as_of ? "did not exist at " :
                        "has no state at audit row ", as_of ? as_of : aid);
    return FK_OK;
}

int fk_entity_as_of(char **out, fk_ctx *ctx, const char *entity_type, int64_t id,
                    const char *as_of, int64_t audit_id)
{
    if (out)
        *out = NULL;
    FK__BEGIN(ctx, "fk_entity_as_of");
    FK__ARG(ctx, "fk_entity_as_of", out && entity_type);
    fk__install_info info;
    PGresult *res;
    int rc = fk__install_require(ctx, &info);
    if (rc || (rc = state_at(ctx, &info, entity_type, id, as_of, audit_id, 0, &res)))
        return rc;
    *out = fk__strdup(PQgetvalue(res, 0, 0));
    PQclear(res);
    return *out ? FK_OK : fk__oom(ctx);
}

/* The history a restore applies must be the library's own: the chain is
 * recomputed (fk_audit_verify) and a break at or before the row restored
 * from refuses the restore -- a row written with the chain trigger off, or
 * altered afterwards, would otherwise be written back as the entity.
 * *broken_at: the first row that does not verify, 0 when the chain is
 * whole; why: what verify said. */
int fk__restore_chain_break(fk_ctx *ctx, int64_t *broken_at, char *why, size_t whylen)
{
    *broken_at = 0;
    why[0] = '\0';
    fk_report *r = NULL;
    int rc = fk_audit_verify(&r, ctx, NULL);
    if (rc == FK_ETAMPER) {
        *broken_at = INT64_MAX; /* no row named: nothing verifies */
        for (size_t i = 0; i < fk_report_item_count(r); i++) {
            const fk_report_item *it = fk_report_item_at(r, i);
            if (strcmp(it->code, "FK-TAMPER") != 0)
                continue;
            if (it->entity_id > 0)
                *broken_at = it->entity_id;
            snprintf(why, whylen, "%s", it->message);
        }
        fk__ok(ctx);
        rc = FK_OK;
    }
    fk_report_free(r);
    return rc;
}

/* Capture triggers stay quiet during a restore (an override: only a member
 * of the override role may): the restore writes its own rows. */
int fk__restore_quiet(fk_ctx *ctx, const fk__install_info *info)
{
    char quiet[300];
    snprintf(quiet, sizeof quiet, "SELECT set_config('fortknox.context', 'restore:' || "
                                  "pg_backend_pid(), true), %s.allow('context')",
             info->schema_q);
    return fk__pg_exec(ctx, quiet, "starting the restore (quiet capture is an override)");
}

int fk_entity_restore(fk_report **out, fk_ctx *ctx, const char *entity_type, int64_t id,
                      const char *as_of, int64_t audit_id)
{
    return fk_entity_restore_mapped(out, ctx, entity_type, id, as_of, audit_id, NULL);
}

int fk_entity_restore_mapped(fk_report **out, fk_ctx *ctx, const char *entity_type, int64_t id,
                             const char *as_of, int64_t audit_id, const fk_key_map *map)
{
    if (out)
        *out = NULL;
    FK__BEGIN(ctx, "fk_entity_restore");
    FK__ARG(ctx, "fk_entity_restore", entity_type);
    int rc = fk__require_primary(ctx, "fk_entity_restore", "restore");
    if (rc)
        return rc;
    const fk__etype *e;
    if ((rc = fk__ctx_etype(ctx, entity_type, &e)))
        return rc;
    fk__install_info info;
    if ((rc = fk__install_require(ctx, &info)))
        return rc;
    fk_report *report;
    if (fk__report_new(&report, "restore") != FK_OK)
        return fk__oom(ctx);
    fk__txn txn;
    PGresult *state = NULL, *before = NULL;
    int64_t broken_at;
    char why[400], idt[24];
    fk__i64_to_text(idt, id);
    if ((rc = fk__restore_chain_break(ctx, &broken_at, why, sizeof why)) ||
        (rc = fk__txn_begin(ctx, &txn, "BEGIN")))
        goto out;
    rc = fk__restore_quiet(ctx, &info);
    if (rc == FK_OK)
        rc = state_at(ctx, &info, entity_type, id, as_of, audit_id, 1, &state);
    int64_t source = 0;
    if (rc == FK_OK)
        fk__text_to_i64(PQgetvalue(state, 0, 1), &source);
    if (rc == FK_OK && broken_at && broken_at <= source)
        rc = fk__fail(ctx, FK_ETAMPER,
                      "%s %" PRId64 ": audit row %" PRId64 " cannot be restored from: the audit "
                      "chain does not verify up to it (%s); nothing was changed",
                      entity_type, id, source, why[0] ? why : "fortknox audit verify says why");
    /* what the restore replaces is what the table holds now, whatever the
     * log last said (a change made around capture is kept in the log) */
    char sql[300];
    snprintf(sql, sizeof sql,
             "SELECT json_build_array(json_build_object('id', $2::bigint, 'action', 'restored',"
             " 'old', %s.entity_doc($1::text, $2::bigint, NULL)))::text",
             info.schema_q);
    const char *p[2] = {entity_type, idt};
    if (rc == FK_OK)
        rc = fk__pg_query(ctx, &before, sql, 2, p, "reading the entity before the restore");
    if (rc == FK_OK)
        rc = fk__restore_hold(ctx, e, PQgetvalue(before, 0, 0));
    /* the document as the map reads it; the map joins the row's context */
    fk__buf context = FK__BUF_INIT;
    char row_name[48];
    snprintf(row_name, sizeof row_name, "audit row %" PRId64, source);
    fk__buf_printf(&context, "restore:as-of-audit-row-%" PRId64, source);
    if (rc == FK_OK)
        rc = fk__import_apply_doc_mapped(ctx, e, PQgetvalue(state, 0, 0),
                                         (size_t)PQgetlength(state, 0, 0), id, report, map,
                                         row_name, &context);
    int64_t row = 0;
    if (rc == FK_OK && !fk__buf_cstr(&context))
        rc = fk__oom(ctx);
    if (rc == FK_OK)
        rc = fk__restore_audit(ctx, &info, e, fk__buf_cstr(&context), &row);
    fk__buf_dispose(&context);
    if (rc == FK_OK)
        fk__report_add(report, FK_SEV_INFO, "restored", entity_type, id, NULL, NULL, NULL,
                       "restored to its state at audit row %" PRId64 " (audit row %" PRId64 ")",
                       source, row);
    if (rc == FK_OK && fk__report_failed(report))
        rc = fk__oom(ctx);
    if (rc == FK_OK)
        rc = fk__restore_announce(ctx, entity_type, id, "restored");
    if (rc == FK_OK)
        rc = fk__txn_commit(ctx, &txn);
    else
        fk__txn_rollback(ctx, &txn);
    if (rc == FK_OK && ctx->fixture_root)
        rc = fk_export_entity(ctx, ctx->fixture_root, entity_type, id, NULL,
                              FK_FORMAT_PARTHENON);
out:
    PQclear(state);
    PQclear(before);
    return fk__report_finish(out, report, rc);
}

/* Capture was quiet: a watcher is told (delivered at commit). id 0 with
 * type "*": every entity. */
int fk__restore_announce(fk_ctx *ctx, const char *type, int64_t id, const char *action)
{
    char idt[24];
    fk__i64_to_text(idt, id);
    const char *p[3] = {type, idt, action};
    PGresult *res;
    int rc = fk__pg_query(ctx, &res,
                          "SELECT pg_notify('fortknox', json_build_object('type', $1::text, 'id',"
                          " $2::bigint, 'action', $3::text)::text)",
                          3, p, "announcing the restore");
    PQclear(res);
    return rc;
}
