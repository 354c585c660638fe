/* fk_restore_all: every entity (or every entity of one type) back to its
 * state at a time, from the audit log alone, in one transaction. Each type's
 * entities stream through a server-side cursor that also says what each
 * needs (the plan below is decided by the server, which holds both the
 * state then and the table now); the documents go back through import's
 * batches. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "buf.h"
#include "cursor.h"
#include "fortknox/audit.h"
#include "import_internal.h"
#include "installed.h"
#include "pgutil.h"
#include "recovery_internal.h"
#include "report_internal.h"
#include "restore_state.h"
#include "entry.h"
#include "standby.h"

#define FETCH_ROWS 250
#define REFUSE_NAMED 10

int fk_restore_all_options_init(fk_restore_all_options *opts, unsigned version)
{
    return FK__OPTIONS_INIT(opts, version, FK_RESTORE_ALL_OPTIONS_VERSION,
                            "fk_restore_all_options_init");
}

/* What an entity needs, decided in SQL from its state then (fk__state_joins)
 * and the table now (c.cur); codes as reported. */
static const char *const plan_names[] = {"unchanged", "restored", "reinserted", "soft_deleted"};
enum { UNCHANGED, RESTORED, REINSERTED, SOFT_DELETED, UNKNOWN };

/* The entity set of a type -- every id the log (entity rows) or the table
 * knows -- with, per entity: id, plan (an index into plan_names), the state
 * then (when it is to be written), the document now (when something changes)
 * and the audit row the state comes from. $1 type, $2 time, $3 the
 * soft-delete column's name (NULL when the type has none). */
static void plan_sql(fk__buf *sql, const fk__install_info *info, const fk__etype *e)
{
    fk__buf_printf(sql,
                   "SELECT i.id, k.plan, CASE WHEN k.plan IN (1, 2) THEN (" FK__STATE_DOC
                   ")::text END, CASE WHEN k.plan IN (1, 3) THEN c.cur::text END, "
                   FK__STATE_SRC ", " FK__STATE_ACTION " FROM (SELECT DISTINCT a.entity_id AS id FROM %s a WHERE"
                   " a.entity_type = $1::text AND NOT (a.entity_id = 0 AND a.action ="
                   " 'truncated') UNION SELECT t.%s::bigint FROM %s t) i"
                   " CROSS JOIN LATERAL (SELECT %s.entity_doc($1::text, i.id, NULL) AS cur) c",
                   info->audit_q, e->t.cols[e->t.pk].quoted, e->t.quoted, info->schema_q);
    fk__state_joins(sql, info->audit_q, "$1", "i.id", "$2");
    fk__buf_puts(sql, " CROSS JOIN LATERAL (SELECT CASE"
                      " WHEN " FK__STATE_SRC " IS NULL THEN 0" /* no history: no change known */
                      " WHEN NOT (" FK__STATE_KNOWN ") THEN 4"
                      " WHEN (" FK__STATE_DOC ") IS NULL THEN CASE WHEN c.cur IS NULL OR"
                      " c.cur ->> $3::text IS NOT NULL THEN 0 ELSE 3 END"
                      " WHEN c.cur IS NULL THEN 2"
                      " WHEN (" FK__STATE_DOC ") = c.cur THEN 0 ELSE 1 END AS plan) k"
                      " ORDER BY i.id");
}

/* Entities of a type without a soft-delete column that a restore would have
 * to soft-delete (present now, absent then): refused before anything
 * changes, naming the type and some of them. */
static int refuse_without_soft_delete(fk_ctx *ctx, const fk__install_info *info,
                                      const fk__etype *e, const char *as_of)
{
    fk__buf sql = FK__BUF_INIT;
    fk__buf_printf(&sql,
                   "SELECT i.id, count(*) OVER () FROM (SELECT DISTINCT a.entity_id AS id FROM"
                   " %s a WHERE a.entity_type = $1::text AND a.entity_id <> 0) i",
                   info->audit_q);
    fk__state_joins(&sql, info->audit_q, "$1", "i.id", "$2");
    fk__buf_printf(&sql,
                   " WHERE " FK__STATE_SRC " IS NOT NULL AND (" FK__STATE_DOC ") IS NULL AND ("
                   FK__STATE_KNOWN ") AND"
                   " EXISTS (SELECT 1 FROM %s t WHERE t.%s = i.id) ORDER BY i.id LIMIT %d",
                   e->t.quoted, e->t.cols[e->t.pk].quoted, REFUSE_NAMED);
    const char *p[2] = {e->name, as_of};
    PGresult *res;
    int rc = fk__pg_query_buf(ctx, &res, &sql, 2, p, "looking for entities to soft-delete");
    if (rc || PQntuples(res) == 0) {
        PQclear(res);
        return rc;
    }
    fk__buf ids = FK__BUF_INIT;
    for (int r = 0; r < PQntuples(res); r++)
        fk__buf_printf(&ids, "%s%s", r ? ", " : "", PQgetvalue(res, r, 0));
    rc = fk__fail(ctx, FK_ECONFLICT,
                  "%s has no soft-delete column, and %s of its entities did not exist at %s but"
                  " do now (%s%s): a restore would have to delete them; add a soft-delete"
                  " column to the registry, or restore other types with --type; nothing was"
                  " changed",
                  e->name, PQgetvalue(res, 0, 1), as_of,
                  fk__buf_cstr(&ids) ? fk__buf_cstr(&ids) : "?",
                  PQntuples(res) < REFUSE_NAMED ? "" : ", ...");
    fk__buf_dispose(&ids);
    PQclear(res);
    return rc;
}

/* The changes held for the next flush: the audit rows' {"id", "action",
 * "old"} and the ids to soft-delete. */
typedef struct pending {
    fk__buf changes;  /* "[{...},..." */
    fk__buf softdel;  /* "{id,id,...": int8[] literal */
    size_t n;
} pending;

static void pending_clear(pending *p)
{
    fk__buf_clear(&p->changes);
    fk__buf_clear(&p->softdel);
    p->n = 0;
}

typedef struct restore_all {
    fk_ctx *ctx;
    const fk__install_info *info;
    const fk_restore_all_options *opts;
    fk_report *report;
    char context[200];
    uint64_t done;
} restore_all;

/* Writes what is held: documents (import's batches), soft-deletions; and
 * hands each entity's audit row ("old" read before any of it) to the
 * server to write at the end of the type. */
static int flush(restore_all *ra, const fk__etype *e, fk__import_applier *ap, pending *p)
{
    if (p->n == 0)
        return FK_OK;
    int rc = fk__import_applier_flush(ap);
    if (rc == FK_OK && p->softdel.len) {
        fk__buf_putc(&p->softdel, '}');
        fk__buf sql = FK__BUF_INIT;
        /* now() as the application would set it (the session is UTC) */
        fk__buf_printf(&sql, "UPDATE %s SET %s = now() WHERE %s = ANY ($1::bigint[])",
                       e->t.quoted, e->t.cols[e->softdel].quoted, e->t.cols[e->t.pk].quoted);
        const char *prm[1] = {fk__buf_cstr(&p->softdel)};
        PGresult *res;
        rc = prm[0] ? fk__pg_query_buf(ra->ctx, &res, &sql, 1, prm, "soft-deleting")
                    : (fk__buf_dispose(&sql), fk__oom(ra->ctx));
        if (rc == FK_OK)
            PQclear(res);
    }
    if (rc == FK_OK) { /* audited at the end of the type, once self-references are set */
        fk__buf_putc(&p->changes, ']');
        rc = fk__buf_failed(&p->changes) ? fk__oom(ra->ctx)
                                         : fk__restore_hold(ra->ctx, e, fk__buf_cstr(&p->changes));
    }
    pending_clear(p);
    return rc;
}

/* One entity of the cursor: reported, and held for the next flush. */
static int one_entity(restore_all *ra, const fk__etype *e, fk__cursor *cur,
                      fk__import_applier *ap, pending *p)
{
    int64_t id = 0, plan = 0;
    fk__text_to_i64(fk__cursor_value(cur, 0), &id);
    fk__text_to_i64(fk__cursor_value(cur, 1), &plan);
    if (plan == UNKNOWN) /* never guessed (FK__STATE_KNOWN) */
        return fk__fail(ra->ctx, FK_ENOTFOUND,
                        "%s %" PRId64 ": the audit log does not record its state at %s: audit "
                        "row %s (%s) holds no state to restore; restore the other types with "
                        "--type, or this entity from fixtures; nothing was changed",
                        e->name, id, ra->opts->as_of, fk__cursor_value(cur, 4),
                        fk__cursor_value(cur, 5));
    if (plan < UNCHANGED || plan > SOFT_DELETED || (plan == SOFT_DELETED && e->softdel < 0))
        return fk__fail(ra->ctx, FK_ECONFLICT, "%s %" PRId64 ": cannot be %s; nothing was changed",
                        e->name, id, plan == SOFT_DELETED ? "soft-deleted (no soft-delete column)"
                                                          : "restored (unexpected plan)");
    const char *code = plan_names[plan];
    fk__report_count(ra->report, code, 1);
    fk__report_count2(ra->report, e->name, code, 1);
    if (plan == UNCHANGED)
        return FK_OK;
    const char *then = fk__cursor_value(cur, 2), *now = fk__cursor_value(cur, 3);
    const char *src = fk__cursor_value(cur, 4);
    int dry = (ra->opts->flags & FK_RESTORE_ALL_DRY_RUN) != 0;
    char *diff = NULL;
    if (plan != SOFT_DELETED && fk_json_diff(&diff, now, then) != FK_OK)
        return fk__fail(ra->ctx, FK_EPARSE, "%s %" PRId64 ": cannot compare its states", e->name,
                        id);
    static const char *const said[][3] = {
        {"", "", ""},
        {"would be set back", "set back", " to its state at"},
        {"would be re-inserted", "re-inserted", " as it was at"},
        {"would be soft-deleted", "soft-deleted", ": it did not exist at"},
    };
    fk__report_add(ra->report, FK_SEV_INFO, code, e->name, id, NULL, diff, NULL,
                   "%s%s %s (audit row %s)", said[plan][!dry], said[plan][2], ra->opts->as_of,
                   src ? src : "?");
    fk_free(diff);
    if (dry)
        return FK_OK;
    int rc = FK_OK;
    if (plan == SOFT_DELETED)
        fk__buf_printf(&p->softdel, "%s%" PRId64, p->softdel.len ? "," : "{", id);
    else
        rc = fk__import_applier_add(ap, then, strlen(then), id);
    fk__buf_printf(&p->changes, "%s{\"id\": %" PRId64 ", \"action\": \"%s\", \"old\": %s}",
                   p->n ? ", " : "[", id, plan == SOFT_DELETED ? "deleted" : "restored",
                   now ? now : "null");
    p->n++;
    if (rc == FK_OK && (fk__buf_failed(&p->changes) || fk__buf_failed(&p->softdel)))
        rc = fk__oom(ra->ctx);
    return rc;
}

static int restore_type(restore_all *ra, const fk__etype *e)
{
    int dry = (ra->opts->flags & FK_RESTORE_ALL_DRY_RUN) != 0;
    fk__import_applier *ap = NULL;
    int rc = dry ? FK_OK : fk__import_applier_begin(&ap, ra->ctx, e, ra->report);
    if (rc)
        return rc;
    fk__buf sql = FK__BUF_INIT;
    plan_sql(&sql, ra->info, e);
    const char *p[3] = {e->name, ra->opts->as_of,
                        e->softdel >= 0 ? e->t.cols[e->softdel].name : NULL};
    fk__cursor cur;
    rc = fk__buf_failed(&sql) ? fk__oom(ra->ctx)
                              : fk__cursor_open_params(ra->ctx, &cur, "fk_restore_all",
                                                       fk__buf_cstr(&sql), 3, p, FETCH_ROWS);
    fk__buf_dispose(&sql);
    if (rc) {
        fk__import_applier_free(ap);
        return rc;
    }
    pending held = {FK__BUF_INIT, FK__BUF_INIT, 0};
    int more;
    while (rc == FK_OK && (more = fk__cursor_next(&cur)) != 0) {
        if (more < 0) {
            rc = more;
            break;
        }
        rc = one_entity(ra, e, &cur, ap, &held);
        ra->done++;
        if (rc == FK_OK && cur.row == cur.nrows - 1) { /* the end of a fetched batch */
            if (!dry)
                rc = flush(ra, e, ap, &held);
            if (rc == FK_OK && ra->opts->progress) {
                fk_progress pr = {"restore", e->name, ra->done, 0};
                if (ra->opts->progress(&pr, ra->opts->progress_data) != 0)
                    rc = fk__fail(ra->ctx, FK_ECANCELLED, "restore cancelled; nothing changed");
            }
        }
    }
    if (rc == FK_OK && !dry)
        rc = flush(ra, e, ap, &held);
    if (rc == FK_OK && !dry)
        rc = fk__import_applier_finish(ap);
    if (rc == FK_OK && !dry)
        rc = fk__restore_audit(ra->ctx, ra->info, e, ra->context, NULL);
    fk__cursor_close(&cur);
    fk__import_applier_free(ap);
    fk__buf_dispose(&held.changes);
    fk__buf_dispose(&held.softdel);
    return rc;
}

/* The tables of the types restored, locked against writes (reads go on)
 * for the transaction: what each audit row says the restore replaced is what
 * the table held, with no concurrent change in between. */
static int lock_tables(restore_all *ra, fk__registry *reg, const fk__etype *one)
{
    fk__buf sql = FK__BUF_INIT;
    fk__buf_puts(&sql, "LOCK TABLE ");
    size_t n = 0;
    for (size_t k = 0; k < reg->ntypes; k++) {
        const fk__etype *e = &reg->types[k];
        if (one && e != one)
            continue;
        fk__buf_printf(&sql, "%s%s", n++ ? ", " : "", e->t.quoted);
        for (size_t c = 0; c < e->nchildren; c++)
            fk__buf_printf(&sql, ", %s", e->children[c].t.quoted);
    }
    fk__buf_puts(&sql, " IN EXCLUSIVE MODE");
    PGresult *res;
    int rc = fk__pg_query_buf(ra->ctx, &res, &sql, 0, NULL, "locking the tables to restore");
    PQclear(res);
    if (rc == FK_EDB && strstr(fk_errmsg(ra->ctx), "lock timeout"))
        rc = fk__fail(ra->ctx, FK_EDB, "another transaction holds a lock on a table to restore "
                                       "(lock timeout); nothing was changed: try again when it "
                                       "is done");
    return rc;
}

/* The plan reads the audit table once per entity through its index: right
 * after an incident (thousands of new rows, not analyzed yet) the planner
 * would otherwise scan it per entity (a dry run over 20,000 entities took six
 * minutes instead of twenty seconds). Only in a transaction of our own: a
 * failure there (not the owner: a warning only; a standby) aborts nothing. */
static void refresh_statistics(fk_ctx *ctx, const fk__install_info *info, fk__registry *reg,
                               const fk__etype *one)
{
    if (PQtransactionStatus(ctx->conn) != PQTRANS_IDLE)
        return;
    fk__buf sql = FK__BUF_INIT;
    fk__buf_printf(&sql, "ANALYZE %s", info->audit_q);
    for (size_t k = 0; k < reg->ntypes; k++)
        if (!reg->types[k].damage && (!one || &reg->types[k] == one))
            fk__buf_printf(&sql, ", %s", reg->types[k].t.quoted);
    if (fk__pg_exec_buf(ctx, &sql, "refreshing the planner's statistics") != FK_OK)
        fk__ok(ctx); /* only a plan is at stake */
}

/* A standby cannot be written: said plainly rather than as the first
 * refused statement. */
static int require_primary(fk_ctx *ctx)
{
    PGresult *res;
    int rc = fk__pg_query(ctx, &res, "SELECT pg_is_in_recovery()", 0, NULL,
                          "checking the server");
    if (rc == FK_OK && PQgetvalue(res, 0, 0)[0] == 't')
        rc = fk__fail(ctx, FK_EDB, "the server is a standby (in recovery, read-only): run the "
                                   "restore against the primary; nothing was changed");
    PQclear(res);
    return rc;
}

/* The types to restore, each usable (damaged = 0), or each able to do what
 * it must (damaged = 1: the soft-deletions a type without the column would
 * need refuse before anything changes). */
static int check_types(restore_all *ra, fk__registry *reg, const fk__etype *one, int damaged)
{
    int rc = FK_OK;
    for (size_t k = 0; rc == FK_OK && k < reg->ntypes; k++) {
        const fk__etype *e = &reg->types[k];
        if (one && e != one)
            continue;
        if (damaged && e->damage)
            rc = fk__fail(ra->ctx, FK_ENOTFOUND, "%s: %s; nothing was changed", e->name,
                          e->damage);
        else if (!damaged && e->softdel < 0)
            rc = refuse_without_soft_delete(ra->ctx, ra->info, e, ra->opts->as_of);
    }
    return rc;
}

int fk_restore_all(fk_report **out, fk_ctx *ctx, const fk_restore_all_options *opts)
{
    if (out)
        *out = NULL;
    FK__BEGIN(ctx, "fk_restore_all");
    FK__ARG(ctx, "fk_restore_all", opts);
    if (fk__options_check(ctx, opts, FK_RESTORE_ALL_OPTIONS_VERSION, "fk_restore_all"))
        return FK_EINVAL;
    if (!opts->as_of || !*opts->as_of)
        return fk__fail(ctx, FK_EINVAL, "fk_restore_all: give the time to restore to (as_of)");
    /* a dry run writes nothing but is refused too: its answer is only
     * worth having where the restore itself can run */
    int rc = fk__require_primary(ctx, "fk_restore_all", "restore --all");
    if (rc)
        return rc;
    const fk__etype *one = NULL;
    fk__registry *reg;
    rc = opts->entity_type ? fk__ctx_etype(ctx, opts->entity_type, &one) : FK_OK;
    if (rc || (rc = fk__ctx_registry(ctx, &reg)))
        return rc;
    fk__install_info info;
    if ((rc = fk__install_require(ctx, &info)) || (rc = fk__pg_check_time(ctx, opts->as_of, "as_of")))
        return rc;
    int dry = (opts->flags & FK_RESTORE_ALL_DRY_RUN) != 0;
    if (!dry && (rc = require_primary(ctx)))
        return rc;
    int64_t broken_at;
    char why[400];
    if ((rc = fk__restore_chain_break(ctx, &broken_at, why, sizeof why)))
        return rc;
    if (broken_at)
        return fk__fail(ctx, FK_ETAMPER,
                        "the audit chain does not verify (%s): a restore from it could write "
                        "back what someone altered; nothing was changed",
                        why[0] ? why : "fortknox audit verify says why");
    restore_all ra = {ctx, &info, opts, NULL, "", 0};
    snprintf(ra.context, sizeof ra.context, "restore-all:as-of:%s", opts->as_of);
    if (fk__report_new(&ra.report, dry ? "restore --all (dry run)" : "restore --all") != FK_OK)
        return fk__oom(ctx);
    fk__clock clock;
    fk__clock_start(&clock);
    size_t *order = NULL;
    fk__txn txn;
    if (fk__import_type_order(reg, &order) != 0) {
        rc = fk__oom(ctx);
        goto out;
    }
    refresh_statistics(ctx, &info, reg, one);
    if ((rc = fk__txn_begin(ctx, &txn, dry ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
                                           : "BEGIN")))
        goto out;
    if (!dry)
        rc = fk__restore_quiet(ctx, &info);
    if (rc == FK_OK)
        rc = check_types(&ra, reg, one, 1);
    if (rc == FK_OK && !dry) /* before anything is read for the plan */
        rc = lock_tables(&ra, reg, one);
    if (rc == FK_OK)
        rc = check_types(&ra, reg, one, 0);
    for (size_t k = 0; rc == FK_OK && k < reg->ntypes; k++) {
        const fk__etype *e = &reg->types[order[k]];
        if (!one || e == one)
            rc = restore_type(&ra, e);
    }
    if (rc == FK_OK && fk__report_failed(ra.report))
        rc = fk__oom(ctx);
    if (rc == FK_OK && !dry)
        rc = fk__restore_announce(ctx, one ? one->name : "*", 0, "restored");
    if (rc == FK_OK && !dry)
        rc = fk__txn_commit(ctx, &txn);
    else
        fk__txn_rollback(ctx, &txn);
out:
    fk__xfree(order);
    if (rc == FK_OK) {
        fk__report_set_elapsed_ms(ra.report, fk__clock_ms(&clock));
        fk__report_count(ra.report, "entities", (int64_t)ra.done);
        for (size_t k = 0; k < sizeof plan_names / sizeof plan_names[0]; k++)
            fk__report_count(ra.report, plan_names[k], 0); /* present even when zero */
    }
    return fk__report_finish(out, ra.report, rc);
}
