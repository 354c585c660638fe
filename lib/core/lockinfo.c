/* Who holds the lock a statement gave up on.
 *
 * PostgreSQL's lock-timeout error names neither the relation nor the holder,
 * and the failed session cannot ask (its transaction is aborted, and the
 * lock it waited for is no longer requested). A second, short-lived
 * connection to the same database reads pg_locks and pg_stat_activity: the
 * strong relation locks other sessions hold right now, which is what an
 * operator needs to find the migration or the idle transaction. */
#include "ctx_internal.h"
#include "pgutil.h"

#include <stdio.h>
#include <string.h>

/* Granted locks of other sessions that may block fortknox: strong relation
 * locks (against ACCESS SHARE to read, ROW EXCLUSIVE to write, SHARE ROW
 * EXCLUSIVE for triggers), row-lock holders of the relation the statement
 * waited on ($2: a session with a row locked holds ROW SHARE or ROW
 * EXCLUSIVE on its relation, while the waiter waits on its transaction id,
 * which names no relation), and advisory locks (the install's). Those on
 * $2 first; at most 3. */
static const char holders_sql[] =
    "SELECT coalesce(l.relation::regclass::text, 'an advisory lock'), l.mode, a.pid,"
    " coalesce(a.application_name, ''), coalesce(a.usename::text, ''), coalesce(a.state, ''),"
    " coalesce(extract(epoch FROM now() - a.xact_start)::bigint, 0),"
    " coalesce(c.relname = $2, false)"
    " FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
    " LEFT JOIN pg_class c ON c.oid = l.relation"
    " WHERE l.granted AND l.pid <> $1::int AND l.pid <> pg_backend_pid()"
    " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    " AND (l.locktype = 'advisory' OR (l.locktype = 'relation' AND (l.mode IN ('ShareLock',"
    " 'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock') OR (c.relname = $2"
    " AND l.mode IN ('RowShareLock', 'RowExclusiveLock')))))"
    " ORDER BY 8 DESC, l.mode = 'AccessExclusiveLock' DESC, 1, 3 LIMIT 3";

/* The relation a row-lock wait names in the error's context ("while locking
 * tuple (0,1) in relation \"audit_head\""), unqualified; "" if none. */
static void context_relation(const char *context, char *out, size_t len)
{
    static const char mark[] = "in relation \"";
    const char *p = context ? strstr(context, mark) : NULL;
    const char *end = p ? strchr(p + sizeof mark - 1, '"') : NULL;
    out[0] = '\0';
    if (end && (size_t)(end - p) - (sizeof mark - 1) < len)
        snprintf(out, len, "%.*s", (int)(end - p - (sizeof mark - 1)), p + sizeof mark - 1);
}

/* Holders on the relation waited on are named; the others only as
 * "possibly" (the lock waited on is not known, or is another one). */
static void describe(PGresult *res, const char *target, char *out, size_t len)
{
    size_t used = 0;
    int named = 0;
    for (int r = 0; r < PQntuples(res) && used < len; r++) {
        int on_target = PQgetvalue(res, r, 7)[0] == 't';
        if (!on_target && target[0] && !named && r == 0) {
            int n = snprintf(out, len, "no session holding a lock on \"%s\" was found (it may "
                                       "have ended)", target);
            used = n < 0 ? 0 : (size_t)n;
        }
        named |= on_target;
        int n = snprintf(out + used, len - used,
                         "%s%s%s is locked (%s) by pid %s (application_name \"%s\", user %s, "
                         "%s, transaction open %s s)",
                         used ? "; " : "", on_target ? "" : "possibly: ", PQgetvalue(res, r, 0),
                         PQgetvalue(res, r, 1), PQgetvalue(res, r, 2), PQgetvalue(res, r, 3),
                         PQgetvalue(res, r, 4), PQgetvalue(res, r, 5), PQgetvalue(res, r, 6));
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

void fk__lock_holders(PGconn *conn, const char *context, char *out, size_t len)
{
    char target[128];
    context_relation(context, target, sizeof target);
    if (target[0])
        snprintf(out, len, "no session holding a lock on \"%s\" was found (it may have ended)",
                 target);
    else
        snprintf(out, len, "the session holding the lock could not be found (it may have ended)");
    /* a short connect_timeout of its own: the diagnosis must never hang,
     * also when the lock is on the system catalogs that backend start-up
     * reads */
    PGconn *c = conn ? fk__pg_connect_like(conn, "libfortknox lock diagnosis", "3") : NULL;
    if (!c || PQstatus(c) != CONNECTION_OK) {
        PQfinish(c);
        return;
    }
    /* the diagnosis must not hang either; our settings (pgutil.h) first */
    PQclear(PQexec(c, FK__SESSION_SETTINGS("SET ") "; SET statement_timeout = 5000"));
    char pid[24];
    snprintf(pid, sizeof pid, "%d", PQbackendPID(conn));
    const char *p[2] = {pid, target[0] ? target : NULL};
    PGresult *res = PQexecParams(c, holders_sql, 2, NULL, p, NULL, NULL, 0);
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) > 0)
        describe(res, target, out, len);
    PQclear(res);
    PQfinish(c);
}
