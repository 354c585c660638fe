/* Sealing runs in batches, each its own transaction, so a long backlog
 * neither holds the head's lock for long nor keeps one huge transaction. */
#include "seal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "installed.h"
#include "pgutil.h"

/* Rows per seal() call: a batch is a few hundred milliseconds of server
 * work with 1 KB documents. */
#define SEAL_BATCH "2000"
#define SEAL_BATCH_N 2000

static int seal_all(fk_ctx *ctx, const fk__install_info *info, uint64_t *sealed)
{
    char sql[300];
    snprintf(sql, sizeof sql, "SELECT %s.seal(" SEAL_BATCH ")", info->schema_q);
    for (;;) {
        PGresult *res;
        int rc = fk__pg_query(ctx, &res, sql, 0, NULL, "sealing the audit log");
        if (rc)
            return rc;
        uint64_t n = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
        PQclear(res);
        if (sealed)
            *sealed += n;
        if (n < SEAL_BATCH_N)
            return FK_OK;
    }
}

int fk__audit_seal(fk_ctx *ctx, uint64_t *sealed)
{
    if (sealed)
        *sealed = 0;
    fk__install_info info;
    int rc = fk__install_require(ctx, &info);
    return rc ? rc : seal_all(ctx, &info, sealed);
}

/* Whether this session can seal, and then sealing. */
static int seal_where_permitted(fk_ctx *ctx)
{
    fk__install_info info;
    int rc = fk__install_info_read(ctx, &info);
    if (rc || !info.installed)
        return rc;
    char sql[400], fn[200];
    snprintf(fn, sizeof fn, "%s.seal(integer)", info.schema_q);
    const char *p = fn;
    snprintf(sql, sizeof sql,
             "SELECT NOT pg_is_in_recovery() AND current_setting('transaction_read_only') = "
             "'off' AND to_regprocedure($1) IS NOT NULL AND has_function_privilege($1, "
             "'EXECUTE')");
    PGresult *res;
    if ((rc = fk__pg_query(ctx, &res, sql, 1, &p, "asking whether this session can seal")))
        return rc;
    int can = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    return can ? seal_all(ctx, &info, NULL) : FK_OK;
}

int fk__audit_seal_try(fk_ctx *ctx, char *why, size_t whylen)
{
    if (why && whylen)
        why[0] = '\0';
    int rc = seal_where_permitted(ctx);
    /* an install record not to be trusted, a damaged install, a tampered
     * tail, a lock that timed out: the checks that follow name what they
     * find, and unsealed rows are counted, never verified */
    if (rc != FK_OK && rc != FK_ENOMEM) {
        if (why && whylen)
            snprintf(why, whylen, "%s", fk_errmsg(ctx));
        fk__ok(ctx);
        rc = FK_OK;
    }
    return rc;
}

int fk__audit_seal_if_permitted(fk_ctx *ctx) { return fk__audit_seal_try(ctx, NULL, 0); }
