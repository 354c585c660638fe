#include "standby.h"
#include "pgutil.h"

#include <string.h>

int fk__require_primary(fk_ctx *ctx, const char *fn, const char *what)
{
    /* pg_stat_wal_receiver shows the sender only to a role with
     * pg_read_all_stats; others get NULL, and the message does without */
    PGresult *res;
    int rc = fk__pg_query(ctx, &res,
                          "SELECT pg_is_in_recovery(), (SELECT sender_host || CASE WHEN "
                          "sender_host LIKE '/%' THEN ' (socket directory), port ' ELSE "
                          "', port ' END || sender_port FROM pg_stat_wal_receiver LIMIT 1), "
                          "current_setting('transaction_read_only')",
                          0, NULL, "asking whether the server is a standby");
    if (rc)
        return rc;
    if (strcmp(PQgetvalue(res, 0, 0), "t") == 0) {
        int known = !PQgetisnull(res, 0, 1);
        rc = fk__fail(ctx, FK_EUNSUPPORTED,
                      "%s: the server is a hot standby (pg_is_in_recovery() is true), which "
                      "cannot be written to, and %s writes to the database: run it against "
                      "the primary server instead%s%s%s; nothing was changed (export, verify, "
                      "doctor and audit verify work on a standby)",
                      fn, what, known ? " (this standby streams from host " : "",
                      known ? PQgetvalue(res, 0, 1) : "", known ? ")" : "");
    } else if (strcmp(PQgetvalue(res, 0, 2), "on") == 0) {
        /* a primary, but this session may not write: the same refusal up
         * front, instead of "cannot execute ... in a read-only transaction"
         * half-way */
        rc = fk__fail(ctx, FK_EUNSUPPORTED,
                      "%s: this session is read-only (transaction_read_only is on: "
                      "default_transaction_read_only set for the role or database, or a "
                      "read-only transaction of the caller), and %s writes to the database: "
                      "connect with a session that may write; nothing was changed",
                      fn, what);
    }
    PQclear(res);
    return rc;
}
