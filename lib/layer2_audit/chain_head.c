/* The audit chain's head as the exporter anchors it in the manifest. */
#include <stdio.h>
#include <string.h>

#include "../layer3_fixtures/export_internal.h"
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
