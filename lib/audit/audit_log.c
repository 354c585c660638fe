/* Reading the audit log: its rows as JSON (fk_audit_log). An entity's
 * state at a point in time and its restore are recovery (recovery/restore.c). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "seal.h"
#include "alloc.h"
#include "installed.h"
#include "fortknox/audit.h"
#include "pgutil.h"
#include "entry.h"

int fk_audit_query_init(fk_audit_query *q, unsigned version)
{
    return FK__OPTIONS_INIT(q, version, FK_AUDIT_QUERY_VERSION, "fk_audit_query_init");
}

static int detach(fk_ctx *ctx, PGresult *res, char **out)
{
    *out = fk__strdup(PQgetvalue(res, 0, 0));
    PQclear(res);
    return *out ? FK_OK : fk__oom(ctx);
}

int fk_audit_log(char **out, fk_ctx *ctx, const fk_audit_query *q)
{
    if (out)
        *out = NULL;
    FK__BEGIN(ctx, "fk_audit_log");
    FK__ARG(ctx, "fk_audit_log", out);
    fk_audit_query dq;
    fk_audit_query_init(&dq, FK_AUDIT_QUERY_VERSION);
    if (!q)
        q = &dq;
    if (fk__options_check(ctx, q, FK_AUDIT_QUERY_VERSION, "fk_audit_log"))
        return FK_EINVAL;
    FK__ARG(ctx, "fk_audit_log", q->limit >= 0);
    fk__install_info info;
    int rc = fk__install_require(ctx, &info);
    if (rc || (q->since && (rc = fk__pg_check_time(ctx, q->since, "since"))))
        return rc;
    /* the rows as sealed (changed fields, hashes), where this session may */
    if ((rc = fk__audit_seal_if_permitted(ctx)))
        return rc;
    char id[24], limit[24];
    fk__i64_to_text(id, q->entity_id);
    fk__i64_to_text(limit, q->limit ? q->limit : 100);
    const char *p[4] = {q->entity_type, q->entity_type && q->entity_id ? id : NULL, q->since,
                        limit};
    char sql[1200];
    /* a row this session could not seal shows the changed fields sealing
     * will compute (the same function) */
    snprintf(sql, sizeof sql,
             "SELECT coalesce(jsonb_agg(to_jsonb(a) || CASE WHEN a.row_hash = '' THEN"
             " jsonb_build_object('changed_fields', %s.changed_fields(a.old_json, a.new_json))"
             " ELSE '{}' END ORDER BY a.id DESC), '[]'::jsonb)::text FROM"
             " (SELECT * FROM %s WHERE ($1::text IS NULL OR entity_type = $1)"
             " AND ($2::bigint IS NULL OR entity_id = $2) AND ($3::text IS NULL OR"
             " created_at >= $3::timestamptz AT TIME ZONE 'UTC') ORDER BY id DESC LIMIT $4) a",
             info.schema_q, info.audit_q);
    PGresult *res;
    if ((rc = fk__pg_query(ctx, &res, sql, 4, p, "reading the audit log")))
        return rc;
    return detach(ctx, res, out);
}
