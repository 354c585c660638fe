/* Which disappearances are explained (see loss.h): the seed incident's
 * lesson is that a backup which faithfully copies damage is no backup, so an
 * exporter may only drop an entity's file when the audit log says the entity
 * was meant to go -- and doctor must call "lost" exactly what the exporter
 * refuses to drop. Hence one rule, here. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "audit_internal.h"
#include "buf.h"
#include "loss.h"
#include "pgutil.h"
#include "report_internal.h"

#define BATCH 1000 /* ids per query */

static int report_rows(PGresult *res, const fk__etype *e, fk__loss_fn fn, void *ud)
{
    int rc = FK_OK;
    for (int r = 0; rc == FK_OK && r < PQntuples(res); r++) {
        fk__lost l = {e, 0, NULL, 0, NULL};
        fk__text_to_i64(PQgetvalue(res, r, 0), &l.id);
        if (!PQgetisnull(res, r, 1))
            l.name = PQgetvalue(res, r, 1);
        if (!PQgetisnull(res, r, 2))
            fk__text_to_i64(PQgetvalue(res, r, 2), &l.last_audit_id);
        if (!PQgetisnull(res, r, 3))
            l.last_action = PQgetvalue(res, r, 3);
        rc = fn(ud, &l);
    }
    return rc;
}

/* The rule proper. strict: the type lost more than the drop threshold, the
 * signature of the incidents (an overridden TRUNCATE ... CASCADE is recorded
 * too), so only an explicit acknowledgement explains a disappearance. */
int fk__loss_check(fk_ctx *ctx, const fk__etype *e, const char *ids, int64_t anchor,
                   int strict, fk__loss_fn fn, void *ud)
{
    fk__install_info info;
    int rc = fk__install_info_read(ctx, &info);
    if (rc || (!info.installed && !ids))
        return rc; /* no history: no candidates */
    const char *pk = e->t.cols[e->t.pk].quoted;
    fk__buf sql = FK__BUF_INIT;
    char anchor_s[24], table[260];
    snprintf(anchor_s, sizeof anchor_s, "%" PRId64, anchor);
    /* the truncate trigger records the table as schema.table, unquoted */
    snprintf(table, sizeof table, "%s.%s", e->t.schema, e->t.name);
    const char *p[5] = {e->name, anchor_s, table, strict ? "true" : "false", ids};
    int np;
    if (!info.installed) {
        fk__buf_printf(&sql, "SELECT x.id, NULL, NULL, NULL FROM unnest($1::bigint[]) x(id)"
                             " WHERE NOT EXISTS (SELECT 1 FROM %s t WHERE t.%s = x.id)"
                             " ORDER BY x.id",
                       e->t.quoted, pk);
        p[0] = ids;
        np = 1;
    } else {
        const char *A = info.audit_q;
        if (ids)
            fk__buf_puts(&sql, "SELECT x.id, h.entity_name, h.id, h.action FROM"
                               " unnest($5::bigint[]) x(id)");
        else
            fk__buf_printf(&sql, "SELECT x.id, h.entity_name, h.id, h.action FROM (SELECT"
                                 " DISTINCT entity_id FROM %s WHERE entity_type = $1 AND"
                                 " entity_id > 0) x(id)",
                           A);
        fk__buf_printf(&sql,
                       " LEFT JOIN LATERAL (SELECT a.id, a.action, a.entity_name FROM %s a"
                       " WHERE a.entity_type = $1 AND a.entity_id = x.id ORDER BY a.id DESC"
                       " LIMIT 1) h ON true"
                       " WHERE NOT EXISTS (SELECT 1 FROM %s t WHERE t.%s = x.id)"
                       " AND h.action IS DISTINCT FROM 'loss_accepted'"
                       " AND ($4::boolean OR (h.action IS DISTINCT FROM 'force_deleted'"
                       " AND NOT EXISTS (SELECT 1 FROM %s a WHERE a.entity_type = $1 AND"
                       " a.entity_id = 0 AND a.action = 'truncated' AND a.entity_name = $3 AND"
                       " a.id > coalesce(h.id, $2::bigint))))"
                       " ORDER BY x.id",
                       A, e->t.quoted, pk, A);
        np = ids ? 5 : 4;
    }
    PGresult *res;
    if ((rc = fk__pg_query_buf(ctx, &res, &sql, np, p, "looking for lost entities")))
        return rc;
    rc = report_rows(res, e, fn, ud);
    PQclear(res);
    return rc;
}

/* Ids of one type gathered into an int8[] literal, checked BATCH at a time. */
typedef struct batch {
    fk_ctx *ctx;
    const fk__etype *e;
    int strict;
    fk__buf ids;
    size_t n;
} batch;

static int flush(batch *b, int64_t anchor, fk__loss_fn fn, void *ud)
{
    if (!b->n)
        return FK_OK;
    fk__buf_putc(&b->ids, '}');
    const char *lit = fk__buf_cstr(&b->ids);
    int rc = lit ? fk__loss_check(b->ctx, b->e, lit, anchor, b->strict, fn, ud)
                 : fk__fail(b->ctx, FK_ENOMEM, "out of memory");
    fk__buf_clear(&b->ids);
    b->n = 0;
    return rc;
}

int fk__loss_read_trailer(fk_ctx *ctx, int root, fk__mreader **out, int *mstatus)
{
    fk__mreader *m = NULL;
    *out = NULL;
    int rc = fk__mreader_open(ctx, &m, root, FK__MANIFEST_NAME);
    fk__mentry en;
    while (rc == FK_OK && (rc = fk__mreader_next(m, &en)) == 1)
        rc = FK_OK;
    if (rc == FK_OK)
        *out = m;
    else
        fk__mreader_free(m);
    if (rc == FK_ENOMEM)
        return rc;
    *mstatus = rc;
    return FK_OK;
}

int fk__loss_type_dropped(fk_ctx *ctx, const fk__mreader *m, const fk__etype *e, double ratio,
                          int64_t *counted, int64_t *now, int *dropped)
{
    *dropped = 0;
    *counted = *now = 0;
    for (size_t i = 0; i < fk__mreader_count_types(m); i++)
        if (strcmp(fk__mreader_count_type(m, i, NULL), e->name) == 0)
            fk__mreader_count_type(m, i, counted);
    if (*counted <= 0 || e->damage)
        return FK_OK;
    char sql[400];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", e->t.quoted);
    PGresult *res;
    int rc = fk__pg_query(ctx, &res, sql, 0, NULL, "counting rows");
    if (rc)
        return rc;
    fk__text_to_i64(PQgetvalue(res, 0, 0), now);
    PQclear(res);
    *dropped = (double)*now < (double)*counted * (1.0 - ratio) &&
               *counted - *now >= FK__DROP_MIN;
    return FK_OK;
}

/* Types that lost more than `ratio` of the entities the last export counted:
 * strict[type index] set, and the drop reported. */
static int drops(fk_ctx *ctx, const fk__registry *reg, const fk__mreader *m, double ratio,
                 int *strict, fk__drop_fn dfn, void *ud)
{
    int rc = FK_OK;
    for (size_t i = 0; rc == FK_OK && i < fk__mreader_count_types(m); i++) {
        const fk__etype *e = fk__registry_find(reg, fk__mreader_count_type(m, i, NULL));
        int64_t counted, now;
        int dropped = 0;
        if (e)
            rc = fk__loss_type_dropped(ctx, m, e, ratio, &counted, &now, &dropped);
        if (rc == FK_OK && dropped) {
            strict[e - reg->types] = 1;
            rc = dfn(ud, e, counted, now);
        }
    }
    return rc;
}

int fk__loss_scan_manifest(fk_ctx *ctx, const fk__registry *reg, int root, double ratio,
                           int distrust, fk__loss_fn fn, fk__drop_fn dfn, void *ud,
                           int *mstatus, fk__mreader **done)
{
    if (done)
        *done = NULL;
    fk__mreader *trailer = NULL, *m = NULL;
    int rc = fk__loss_read_trailer(ctx, root, &trailer, mstatus);
    if (rc || *mstatus)
        return rc;
    int64_t anchor = fk__mreader_chain_head_id(trailer);
    int *strict = fk__calloc(reg->ntypes ? reg->ntypes : 1, sizeof *strict);
    if (!strict)
        rc = fk__fail(ctx, FK_ENOMEM, "out of memory");
    if (rc == FK_OK)
        rc = drops(ctx, reg, trailer, ratio, strict, dfn, ud);
    /* it was readable a moment ago, and the exporter's lock is held */
    if (rc == FK_OK)
        rc = fk__mreader_open(ctx, &m, root, FK__MANIFEST_NAME);
    batch b = {ctx, NULL, 0, FK__BUF_INIT, 0};
    fk__mentry en;
    int r = 0;
    while (rc == FK_OK && (r = fk__mreader_next(m, &en)) == 1) {
        const fk__etype *e = fk__registry_find(reg, en.type);
        if (e != b.e && (rc = flush(&b, anchor, fn, ud)))
            break;
        b.e = e && !e->damage ? e : NULL;
        if (!b.e)
            continue;
        b.strict = distrust || strict[b.e - reg->types];
        fk__buf_printf(&b.ids, "%s%" PRId64, b.n ? "," : "{", en.id);
        if (++b.n == BATCH)
            rc = flush(&b, anchor, fn, ud);
    }
    if (rc == FK_OK && r < 0)
        rc = r;
    if (rc == FK_OK)
        rc = flush(&b, anchor, fn, ud);
    fk__buf_dispose(&b.ids);
    fk__mreader_free(m);
    fk__xfree(strict);
    if (rc == FK_OK && done)
        *done = trailer;
    else
        fk__mreader_free(trailer);
    return rc;
}

int fk__loss_accept(fk_ctx *ctx, const fk__etype *e, const char *ids, int *recorded)
{
    fk__install_info info;
    int rc = fk__install_info_read(ctx, &info);
    *recorded = rc == FK_OK && info.installed;
    if (rc || !info.installed)
        return rc;
    const char *A = info.audit_q, *S = info.schema_q;
    fk__buf sql = FK__BUF_INIT;
    /* the entity as last recorded goes with the row: what was given up */
    fk__buf_printf(&sql,
                   "SELECT %s.write($1::text, x.id, coalesce(h.entity_name, $1::text || '-' ||"
                   " x.id), 'loss_accepted', h.new_json, NULL, 'export') FROM"
                   " unnest($2::bigint[]) x(id) LEFT JOIN LATERAL (SELECT a.entity_name,"
                   " a.new_json FROM %s a WHERE a.entity_type = $1::text AND a.entity_id = x.id"
                   " ORDER BY a.id DESC LIMIT 1) h ON true ORDER BY x.id",
                   S, A);
    const char *p[2] = {e->name, ids};
    PGresult *res;
    if ((rc = fk__pg_query_buf(ctx, &res, &sql, 2, p, "recording the accepted loss")))
        return rc;
    PQclear(res);
    return FK_OK;
}

int fk__loss_report(fk_report *report, const fk__lost *l)
{
    return fk__report_add(report, FK_SEV_ERROR, "FK-LOSS", l->e->name, l->id, NULL, NULL,
                          "restore it (`fortknox import DIR`, or `fortknox restore TYPE:ID "
                          "--audit-id N`), or acknowledge the loss with `fortknox export DIR "
                          "--accept-loss TYPE:ID`",
                          "%s %" PRId64 "%s%s%s disappeared without a recorded deletion: its "
                          "file and manifest entry were kept",
                          l->e->name, l->id, l->name ? " (\"" : "", l->name ? l->name : "",
                          l->name ? "\")" : "");
}

int fk__loss_report_drop(fk_report *report, const fk__etype *e, int64_t counted, int64_t now,
                         const char *hint)
{
    return fk__report_add(report, FK_SEV_WARNING, "FK-DROP", e->name, 0, NULL, NULL, hint,
                          "%s: %" PRId64 " rows now, %" PRId64 " at the last export (-%.0f%%)",
                          e->t.name, now, counted,
                          100.0 * (double)(counted - now) / (double)counted);
}
