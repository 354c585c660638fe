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
#include "entry.h"

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

/* The last audit row of the entity at or before the point; returns its
 * action and state. */
static int state_at(fk_ctx *ctx, const fk__install_info *info, const char *type, int64_t id,
                    const char *as_of, int64_t audit_id, PGresult **res)
{
    if ((as_of == NULL) == (audit_id == 0))
        return fk__fail(ctx, FK_EINVAL, "give either a time or an audit id");
    char idt[24], aid[24];
    fk__i64_to_text(idt, id);
    fk__i64_to_text(aid, audit_id);
    int rc = audit_id ? row_is_the_entitys(ctx, info, type, idt, aid)
                      : fk__pg_check_time(ctx, as_of, "as_of");
    if (rc)
        return rc;
    const char *p[4] = {type, idt, audit_id ? aid : NULL, as_of};
    char sql[700];
    snprintf(sql, sizeof sql,
             "SELECT action, new_json::text, id FROM %s WHERE entity_type = $1 AND entity_id = $2"
             " AND ($3::bigint IS NULL OR id <= $3) AND ($4::text IS NULL OR created_at <="
             " $4::timestamptz AT TIME ZONE 'UTC') ORDER BY id DESC LIMIT 1",
             info->audit_q);
    if ((rc = fk__pg_query(ctx, res, sql, 4, p, "reading the entity's history")))
        return rc;
    if (PQntuples(*res) == 0) {
        PQclear(*res);
        *res = NULL;
        return fk__fail(ctx, FK_ENOTFOUND, "%s %" PRId64 " has no audit history %s %s", type, id,
                        audit_id ? "up to audit row" : "up to", audit_id ? aid : as_of);
    }
    if (PQgetisnull(*res, 0, 1)) {
        int rc2 = fk__fail(ctx, FK_ENOTFOUND, "%s %" PRId64 " did not exist then (last action: %s)",
                           type, id, PQgetvalue(*res, 0, 0));
        PQclear(*res);
        *res = NULL;
        return rc2;
    }
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
    if (rc || (rc = state_at(ctx, &info, entity_type, id, as_of, audit_id, &res)))
        return rc;
    *out = fk__strdup(PQgetvalue(res, 0, 1));
    PQclear(res);
    return *out ? FK_OK : fk__oom(ctx);
}

/* The history a restore applies must be the library's own: the chain is
 * recomputed (fk_audit_verify) and a break at or before the row restored
 * from refuses the restore -- a row written with the chain trigger off, or
 * altered afterwards, would otherwise be written back as the entity.
 * *broken_at: the first row that does not verify, 0 when the chain is
 * whole; why: what verify said. */
static int chain_break(fk_ctx *ctx, int64_t *broken_at, char *why, size_t whylen)
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
    const fk__etype *e;
    int rc = fk__ctx_etype(ctx, entity_type, &e);
    if (rc)
        return rc;
    fk__install_info info;
    if ((rc = fk__install_require(ctx, &info)))
        return rc;
    fk_report *report;
    if (fk__report_new(&report, "restore") != FK_OK)
        return fk__oom(ctx);
    fk__txn txn;
    PGresult *state = NULL;
    int64_t broken_at;
    char why[400];
    if ((rc = chain_break(ctx, &broken_at, why, sizeof why)) || (rc = fk__txn_begin(ctx, &txn, "BEGIN")))
        goto out;
    /* capture triggers stay quiet: the one "restored" row below says it all */
    char quiet[300];
    snprintf(quiet, sizeof quiet, "SELECT set_config('fortknox.context', 'restore:' || "
                                  "pg_backend_pid(), true), %s.allow('context')",
             info.schema_q);
    rc = fk__pg_exec(ctx, quiet, "starting the restore (quiet capture is an override)");
    if (rc == FK_OK)
        rc = state_at(ctx, &info, entity_type, id, as_of, audit_id, &state);
    int64_t source = 0;
    if (rc == FK_OK)
        fk__text_to_i64(PQgetvalue(state, 0, 2), &source);
    if (rc == FK_OK && broken_at && broken_at <= source)
        rc = fk__fail(ctx, FK_ETAMPER,
                      "%s %" PRId64 ": audit row %" PRId64 " cannot be restored from: the audit "
                      "chain does not verify up to it (%s); nothing was changed",
                      entity_type, id, source, why[0] ? why : "fortknox audit verify says why");
    /* the document as the map reads it; the map joins the row's context */
    fk__buf keymap = FK__BUF_INIT;
    char row_name[48];
    snprintf(row_name, sizeof row_name, "audit row %" PRId64, source);
    if (rc == FK_OK)
        rc = fk__import_apply_doc_mapped(ctx, e, PQgetvalue(state, 0, 1),
                                         (size_t)PQgetlength(state, 0, 1), id, report, map,
                                         row_name, &keymap);
    if (rc == FK_OK) {
        char idt[24];
        fk__i64_to_text(idt, id);
        const char *p[5] = {entity_type, idt, PQgetvalue(state, 0, 2),
                            e->t.cols[e->name_col].name, keymap.len ? keymap.data : ""};
        fk__buf sql = FK__BUF_INIT;
        fk__buf_printf(&sql,
                 "INSERT INTO %s (entity_type, entity_id, entity_name, action, actor_id,"
                 " actor_email, old_json, new_json, ip_address, context) SELECT $1::text,"
                 " $2::bigint, coalesce(d ->> $4::text, ''), 'restored', %s.actor_id(),"
                 " left(%s.setting('fortknox.actor_email'), 255), (SELECT a.new_json FROM %s a"
                 " WHERE a.entity_type = $1 AND a.entity_id = $2 ORDER BY a.id DESC LIMIT 1), d,"
                 " left(%s.setting('fortknox.ip'), 45), 'restore:as-of-audit-row-' || $3 || $5"
                 " FROM (SELECT %s.entity_doc($1::text, $2::bigint, NULL) AS d) z RETURNING id",
                 info.audit_q, info.schema_q, info.schema_q, info.audit_q, info.schema_q,
                 info.schema_q);
        PGresult *res;
        rc = fk__pg_query_buf(ctx, &res, &sql, 5, p, "auditing the restore");
        if (rc == FK_OK) {
            int64_t row = 0;
            fk__text_to_i64(PQgetvalue(res, 0, 0), &row);
            fk__report_add(report, FK_SEV_INFO, "restored", entity_type, id, NULL, NULL, NULL,
                           "restored to its state at audit row %s (audit row %" PRId64 ")",
                           PQgetvalue(state, 0, 2), row);
            PQclear(res);
        }
    }
    fk__buf_dispose(&keymap);
    if (rc == FK_OK && fk__report_failed(report))
        rc = fk__oom(ctx);
    if (rc == FK_OK) { /* capture was quiet: tell a watcher (delivered at commit) */
        const char *p[2] = {entity_type, NULL};
        char idt[24];
        fk__i64_to_text(idt, id);
        p[1] = idt;
        PGresult *res;
        rc = fk__pg_query(ctx, &res,
                          "SELECT pg_notify('fortknox', json_build_object('type', $1::text, 'id',"
                          " $2::bigint, 'action', 'restored')::text)",
                          2, p, "announcing the restore");
        if (rc == FK_OK)
            PQclear(res);
    }
    if (rc == FK_OK)
        rc = fk__txn_commit(ctx, &txn);
    else
        fk__txn_rollback(ctx, &txn);
    if (rc == FK_OK && ctx->fixture_root)
        rc = fk_export_entity(ctx, ctx->fixture_root, entity_type, id, NULL,
                              FK_FORMAT_PARTHENON);
out:
    PQclear(state);
    return fk__report_finish(out, report, rc);
}
