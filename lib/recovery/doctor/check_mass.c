/* doctor's mass-change check: one transaction that blanked a field in, soft-
 * deleted, force-deleted or rewrote a large share of an entity type.
 *
 * Such a change is audited row by row, so nothing is lost without a trace,
 * yet nothing else says anything: an application bug that empties
 * expression_json in every cohort leaves a perfect chain, an export that
 * faithfully writes the empty values, and a doctor that finds no loss. The
 * audit rows of one transaction share its transaction_id
 * (pg_current_xact_id() of the writer), so they can be counted together.
 *
 * Only the audit rows of the window (fk_doctor_options.mass_change_window_s)
 * count, so an incident that was dealt with stops failing doctor after a
 * while; before then the operator accepts it by transaction id
 * (accept_mass_change, `--accept-mass-change XID`), as export's accept_loss
 * accepts a loss by entity: an acknowledgement the caller states each run,
 * never a state kept in the database that whoever caused the change could
 * also set. The recovery commands' own rows (contexts import:, restore:)
 * do not count: putting the entities back must not be the next incident. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "doctor_internal.h"
#include "entry.h"
#include "pgutil.h"
#include "report_internal.h"

/* Per transaction and type, each kind of change with its number of
 * entities (at least $2), and the transaction's first audit row time (and a
 * microsecond before it, for restore --as-of) and actors. "blanked K": a
 * top-level field K of the entity's document that was set and is now null,
 * "", {} or [] (or gone); only the row's changed_fields (which the chain
 * trigger computes and the hash covers) are looked at, not every key of
 * every document. Kinds come in the order they are reported. */
static const char mass_sql[] =
    "WITH w AS (SELECT a.id AS aid, a.transaction_id AS x, a.entity_type AS t, a.entity_id AS id,"
    " a.action AS act, a.old_json AS o, a.new_json AS n, a.changed_fields AS cf, a.actor_id,"
    " a.actor_email,"
    " a.created_at FROM %s a WHERE a.transaction_id IS NOT NULL"
    " AND a.created_at >= (now() AT TIME ZONE 'UTC') - make_interval(secs => $1::float8)"
    " AND a.action IN ('updated', 'deleted', 'force_deleted')"
    " AND coalesce(a.context, '') NOT LIKE 'import:%%'"
    " AND coalesce(a.context, '') NOT LIKE 'restore:%%'),"
    " k AS (SELECT x, t, 1 AS ord, 'force-deleted' AS kind, NULL::text AS field,"
    " count(DISTINCT id) AS n FROM w WHERE act = 'force_deleted' GROUP BY x, t"
    " UNION ALL SELECT x, t, 2, 'soft-deleted', NULL, count(DISTINCT id) FROM w"
    " WHERE act = 'deleted' GROUP BY x, t"
    " UNION ALL SELECT x, t, 3, 'blanked', f.key, count(DISTINCT id) FROM w,"
    " LATERAL jsonb_array_elements_text(CASE WHEN jsonb_typeof(w.cf) = 'array' THEN w.cf"
    " ELSE '[]' END) f(key) WHERE act = 'updated'"
    " AND coalesce(w.o -> f.key, 'null') NOT IN ('null', '\"\"', '{}', '[]')"
    " AND coalesce(w.n -> f.key, 'null') IN ('null', '\"\"', '{}', '[]') GROUP BY x, t, f.key"
    " UNION ALL SELECT x, t, 4, 'rewrote', NULL, count(DISTINCT id) FROM w"
    " WHERE act = 'updated' GROUP BY x, t)"
    " SELECT k.x, k.t, k.kind, k.field, k.n,"
    " (SELECT count(DISTINCT id) FROM w WHERE w.x = k.x AND w.t = k.t AND act = 'force_deleted'),"
    " to_char(s.t0, 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),"
    " to_char(s.t0 - interval '1 microsecond', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), s.who,"
    " jsonb_build_array(k.field)::text, s.first_id"
    " FROM k, LATERAL (SELECT min(w.created_at) AS t0, min(w.aid) AS first_id, string_agg(DISTINCT coalesce(w.actor_email"
    " || coalesce(' (id ' || w.actor_id || ')', ''), 'actor id ' || w.actor_id, 'no actor set'),"
    " ', ') AS who FROM w WHERE w.x = k.x) s"
    " WHERE k.n >= $2::bigint ORDER BY s.t0, k.x, k.t, k.ord, k.field";

/* The entities of type t that existed just before the transaction whose
 * first audit row is first_id -- what the share is of: the rows now, less
 * the entities created since (by that transaction, whose creations may
 * come before first_id, or later: rows inserted
 * to dilute the share, even soft-deleted at once, must not hide it, then
 * or afterwards), plus the ones force-deleted since (gone now). */
static int existed_before(fk__doctor *d, int t, const char *first_id, const char *xid,
                          int64_t *out)
{
    fk__buf sql = FK__BUF_INIT;
    fk__buf_printf(&sql,
                   "SELECT (SELECT count(*) FROM %s) - count(DISTINCT a.entity_id) FILTER (WHERE"
                   " a.action = 'created') + count(DISTINCT a.entity_id) FILTER (WHERE a.action ="
                   " 'force_deleted') FROM %s a WHERE a.entity_type = $1 AND (a.id >= $2::bigint OR"
                   " a.transaction_id = $3::bigint)",
                   d->reg->types[t].t.quoted, d->info.audit_q);
    const char *p[3] = {d->reg->types[t].name, first_id, xid};
    PGresult *res;
    int rc = fk__pg_query_buf(d->ctx, &res, &sql, 3, p, "counting an entity type's entities");
    if (rc)
        return rc;
    fk__text_to_i64(PQgetvalue(res, 0, 0), out);
    PQclear(res);
    return FK_OK;
}

static int accepted(const fk__doctor *d, int64_t x)
{
    for (size_t i = 0; i < d->o.naccept_mass_change; i++)
        if (d->o.accept_mass_change[i] == x)
            return 1;
    return 0;
}

static int report_one(fk__doctor *d, PGresult *res, int r, int64_t total)
{
    const char *x = PQgetvalue(res, r, 0), *type = PQgetvalue(res, r, 1),
               *kind = PQgetvalue(res, r, 2), *field = PQgetvalue(res, r, 3),
               *at = PQgetvalue(res, r, 6), *before = PQgetvalue(res, r, 7),
               *who = PQgetvalue(res, r, 8), *fields = PQgetvalue(res, r, 9);
    int64_t n = 0, xid = 0;
    fk__text_to_i64(PQgetvalue(res, r, 4), &n);
    fk__text_to_i64(x, &xid);
    int ok = accepted(d, xid);
    fk__buf hint = FK__BUF_INIT;
    if (!ok)
        fk__buf_printf(&hint,
                       "if it was not meant, `fortknox restore --all --as-of '%s'` puts the "
                       "entities back as they were just before it; if it was, accept it: "
                       "`fortknox doctor --accept-mass-change %s`",
                       before, x);
    fk__report_count(d->report, "mass_changes", 1);
    int rc = fk__report_add(
        d->report, ok ? FK_SEV_INFO : FK_SEV_ERROR, "FK-MASS-CHANGE", type, 0, NULL,
        *field ? fields : NULL, ok ? NULL : fk__buf_cstr(&hint),
                   "transaction %s (%s, at %s) %s%s%s%s %" PRId64 " of the %" PRId64
                   " %s entities (%.0f%%)%s",
                   x, who, at, kind, *field ? " " : "", *field ? field : "",
                   *field ? " in" : "", /* "blanked K in 40 of", "soft-deleted 40 of" */
                   n, total, type, total ? 100.0 * (double)n / (double)total : 100.0,
                   ok ? "; accepted (accept_mass_change)" : "");
    fk__buf_dispose(&hint);
    /* a finding that could not be added must not pass for none */
    return rc == FK_OK ? FK_OK : rc == FK_ENOMEM ? fk__oom(d->ctx)
                                                 : fk__fail(d->ctx, rc, "FK-MASS-CHANGE: %s",
                                                            "the finding could not be reported");
}

/* The caller's acknowledgements that matched nothing in the window: a typo
 * must not look like an accepted incident. */
static void unmatched(fk__doctor *d, PGresult *res)
{
    for (size_t i = 0; i < d->o.naccept_mass_change; i++) {
        int64_t want = d->o.accept_mass_change[i], x;
        int found = 0;
        for (int r = 0; !found && r < PQntuples(res); r++)
            found = fk__text_to_i64(PQgetvalue(res, r, 0), &x) == 0 && x == want;
        if (!found)
            fk__report_add(d->report, FK_SEV_WARNING, "FK-MASS-CHANGE", NULL, 0, NULL, NULL,
                           "check the transaction id; drop the acknowledgement once the "
                           "change is out of the window",
                           "nothing to accept for transaction %" PRId64
                           ": no mass change of it in the window",
                           want);
    }
}

int fk__doctor_mass_change(fk__doctor *d)
{
    char window[32], min[24];
    snprintf(window, sizeof window, "%" PRId64, d->o.mass_change_window_s);
    fk__i64_to_text(min, d->o.mass_change_min);
    const char *p[2] = {window, min};
    fk__buf sql = FK__BUF_INIT;
    fk__buf_printf(&sql, mass_sql, d->info.audit_q);
    PGresult *res;
    int rc = fk__pg_query_buf(d->ctx, &res, &sql, 2, p, "looking for mass changes in the audit log");
    if (rc)
        return rc;
    fk__report_count(d->report, "mass_changes", 0);
    /* a transaction's "rewrote" says nothing more once a field it blanked
     * was reported: remember the last (transaction, type) reported */
    char last[64] = "";
    for (int r = 0; rc == FK_OK && r < PQntuples(res); r++) {
        int t = fk__doctor_usable(d, fk__doctor_type(d, PQgetvalue(res, r, 1)));
        if (t < 0)
            continue; /* gone from the registry, or damaged: the schema check says so */
        char key[64];
        snprintf(key, sizeof key, "%s/%d", PQgetvalue(res, r, 0), t);
        if (strcmp(PQgetvalue(res, r, 2), "rewrote") == 0 && strcmp(key, last) == 0)
            continue;
        int64_t total = 0, n = 0;
        if ((rc = existed_before(d, t, PQgetvalue(res, r, 10), PQgetvalue(res, r, 0), &total)))
            break;
        fk__text_to_i64(PQgetvalue(res, r, 4), &n);
        if ((double)n <= d->o.mass_change_ratio * (double)total)
            continue;
        rc = report_one(d, res, r, total);
        snprintf(last, sizeof last, "%s", key);
    }
    if (rc == FK_OK)
        unmatched(d, res);
    PQclear(res);
    return rc;
}
