/* The state of an entity at a time, as SQL; and the audit rows of a
 * restore. */
#include "restore_state.h"

#include "pgutil.h"
#include "entry.h"

void fk__state_joins(fk__buf *sql, const char *audit_q, const char *type_param,
                     const char *id_expr, const char *time_param)
{
    /* by id: the chain's order, which is the order the entity's changes
     * were committed in */
    static const char *const side[2][4] = {
        {"fk_b", "new_json", "<=", "DESC"},
        {"fk_f", "old_json", ">", "ASC"},
    };
    for (int s = 0; s < 2; s++)
        fk__buf_printf(sql,
                       " LEFT JOIN LATERAL (SELECT a.id, a.action, a.%s FROM %s a WHERE a.entity_type ="
                       " %s::text AND a.entity_id = %s AND NOT (a.entity_id = 0 AND a.action ="
                       " 'truncated') AND a.created_at %s (%s::timestamptz AT TIME ZONE 'UTC')"
                       " ORDER BY a.id %s LIMIT 1) %s ON true",
                       side[s][1], audit_q, type_param, id_expr, side[s][2], time_param,
                       side[s][3], side[s][0]);
}

static int held_table(fk_ctx *ctx)
{
    return fk__pg_exec(ctx,
                       "CREATE TEMP TABLE IF NOT EXISTS fk_restore_held (ord bigserial, type text,"
                       " id bigint, action text, old jsonb) ON COMMIT DROP",
                       "preparing the restore's audit rows");
}

int fk__restore_hold(fk_ctx *ctx, const fk__etype *e, const char *changes)
{
    int rc = held_table(ctx);
    const char *p[2] = {e->name, changes};
    PGresult *res = NULL;
    if (rc == FK_OK)
        rc = fk__pg_query(ctx, &res,
                          "INSERT INTO pg_temp.fk_restore_held (type, id, action, old) SELECT"
                          " $1::text, x.id, x.action, x.old FROM jsonb_to_recordset($2::jsonb) AS"
                          " x(id bigint, action text, old jsonb)",
                          2, p, "holding the restore's audit rows");
    PQclear(res);
    return rc;
}

int fk__restore_audit(fk_ctx *ctx, const fk__install_info *info, const fk__etype *e,
                      const char *context, int64_t *first_row)
{
    fk__buf sql = FK__BUF_INIT;
    const char *A = info->audit_q, *S = info->schema_q;
    fk__buf_printf(&sql,
                   "INSERT INTO %s (entity_type, entity_id, entity_name, action, actor_id,"
                   " actor_email, old_json, new_json, ip_address, context)"
                   " SELECT $1::text, x.id, coalesce(z.d ->> $2::text, x.old ->> $2::text, ''),"
                   " x.action, %s.actor_id(), left(%s.setting('fortknox.actor_email'), 255),"
                   " x.old, z.d, left(%s.setting('fortknox.ip'), 45), left($3::text, 200)"
                   " FROM pg_temp.fk_restore_held x,"
                   " LATERAL (SELECT %s.entity_doc($1::text, x.id, NULL) AS d) z"
                   " WHERE x.type = $1::text ORDER BY x.ord RETURNING id",
                   A, S, S, S, S);
    const char *p[3] = {e->name, e->t.cols[e->name_col].name, context};
    PGresult *res;
    int rc = held_table(ctx);
    if (rc) {
        fk__buf_dispose(&sql);
        return rc;
    }
    rc = fk__pg_query_buf(ctx, &res, &sql, 3, p, "auditing the restore");
    if (rc)
        return rc;
    if (first_row) {
        *first_row = 0;
        if (PQntuples(res) > 0)
            fk__text_to_i64(PQgetvalue(res, 0, 0), first_row);
    }
    PQclear(res);
    rc = fk__pg_query(ctx, &res, "DELETE FROM pg_temp.fk_restore_held WHERE type = $1::text", 1,
                      p, "auditing the restore");
    PQclear(res);
    return rc;
}
