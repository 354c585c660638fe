/* The audit chain's head as the exporter anchors it in the manifest. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "export_internal.h"
#include "audit_internal.h"
#include "pgutil.h"

int fk__audit_chain_head(fk_ctx *ctx, int64_t *id, char hash[65])
{
    *id = 0;
    hash[0] = '\0';
    fk__install_info info;
    int rc = fk__install_info_read(ctx, &info);
    if (rc || !info.installed) /* nothing installed: nothing to anchor */
        return rc;
    char sql[300];
    snprintf(sql, sizeof sql, "SELECT last_id, last_hash FROM %s.audit_head", info.schema_q);
    PGresult *res;
    if ((rc = fk__pg_query(ctx, &res, sql, 0, NULL, "reading the audit chain head")))
        return rc;
    if (PQntuples(res) == 1 && fk__text_to_i64(PQgetvalue(res, 0, 0), id) == 0 && *id > 0)
        snprintf(hash, 65, "%s", PQgetvalue(res, 0, 1));
    else
        *id = 0;
    PQclear(res);
    return FK_OK;
}

int fk__audit_anchor_next(fk_ctx *ctx, int64_t old_id, const char *old_hash, int64_t *id,
                          char hash[65], int *broken)
{
    *broken = 0;
    int rc = fk__audit_chain_head(ctx, id, hash);
    if (rc || old_id <= 0 || !old_hash)
        return rc;
    /* the anchored row must still be in the chain, unchanged */
    int holds = 0;
    fk__install_info info;
    if (*id >= old_id && (rc = fk__install_info_read(ctx, &info)) == FK_OK && info.installed) {
        char sql[400], num[24];
        snprintf(sql, sizeof sql, "SELECT row_hash FROM %s WHERE id = $1", info.audit_q);
        snprintf(num, sizeof num, "%" PRId64, old_id);
        const char *p = num;
        PGresult *res;
        if ((rc = fk__pg_query(ctx, &res, sql, 1, &p, "reading the anchored audit row")))
            return rc;
        holds = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), old_hash) == 0;
        PQclear(res);
    }
    if (rc)
        return rc;
    if (!holds) { /* keep the witness: the next export must still see the break */
        *broken = 1;
        *id = old_id;
        snprintf(hash, 65, "%s", old_hash);
    }
    return FK_OK;
}
