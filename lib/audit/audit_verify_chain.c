/* Recomputing the chain over one or more connections (audit_verify_chain.h).
 *
 * Where the time goes is the server turning the documents into text
 * (jsonb_out), which the hash is defined on. One connection keeps one
 * backend, one core, busy; a second connection importing the first one's
 * snapshot (pg_export_snapshot, SET TRANSACTION SNAPSHOT) verifies the
 * upper half of the ids on another core and sees exactly the same rows.
 * Each range is checked on its own; the ranges are then joined in id order
 * (a range's first prev_hash must be the row_hash its predecessor ended
 * with), so the first finding is the one a single pass reports, wherever
 * the boundary falls. */
#include "audit_verify_chain.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "audit_verify_range.h"
#include "entry.h"
#include "pgutil.h"

/* A second connection (~5-10 ms to open) pays off from a few tens of ms
 * of work: 4096 rows of small documents, or 4 MiB of table (compressed
 * large documents: ~20 MiB of text). */
#define SPLIT_MIN_IDS 4096
#define SPLIT_MIN_BYTES (4LL << 20)
#define MAX_RANGES 8

static const char *const why_text[] = {
    [FK__AV_LINK] = "its prev_hash does not match the hash of the row before it: a row was "
                    "removed or inserted here",
    [FK__AV_ALTERED] = "its content does not match its row_hash: the row was altered after it "
                       "was written",
    [FK__AV_ANCHOR] = "its hash differs from the one anchored in the fixture manifest: the log "
                      "was rewritten",
    [FK__AV_SEALED_AFTER] = "it is sealed but a row before it is not: sealing never skips a "
                            "row, so one of them was written or altered past the triggers",
};

/* The ids to cut at when the plan leaves it to us: the middle of the ids
 * for a long or large log (its size on disk, TOAST included), nothing for a
 * short one. */
static int auto_splits(fk_ctx *ctx, const char *audit_q, int64_t *split, int *n)
{
    char sql[400];
    snprintf(sql, sizeof sql, "SELECT min(id), max(id), pg_table_size($1::regclass) FROM %s",
             audit_q);
    PGresult *res;
    const char *p[1] = {audit_q};
    int rc = fk__pg_query(ctx, &res, sql, 1, p, "reading the audit log's ids");
    if (rc)
        return rc;
    int64_t lo = 0, hi = 0, bytes = 0;
    *n = 0;
    if (!PQgetisnull(res, 0, 0) && fk__text_to_i64(PQgetvalue(res, 0, 0), &lo) == 0 &&
        fk__text_to_i64(PQgetvalue(res, 0, 1), &hi) == 0 && hi > lo &&
        fk__text_to_i64(PQgetvalue(res, 0, 2), &bytes) == 0 &&
        (hi - lo >= SPLIT_MIN_IDS || bytes >= SPLIT_MIN_BYTES)) {
        *split = lo + (hi - lo) / 2;
        *n = 1;
    }
    PQclear(res);
    return FK_OK;
}

/* A helper connection in the context's snapshot, as the context's role
 * with its timeouts, or NULL when one cannot be had. settings: the
 * snapshot's content, lock_timeout, statement_timeout, current_user,
 * session_user. */
static PGconn *helper(PGconn *main, const char *snapshot, char *const *settings)
{
    PGconn *c = fk__pg_connect_like(main, "libfortknox audit verify", "10");
    if (!c || PQstatus(c) != CONNECTION_OK) {
        PQfinish(c);
        return NULL;
    }
    /* the snapshot first (it must be), then the settings, local to the
     * transaction: nothing lives outside it, also behind a pooler */
    char sql[600];
    snprintf(sql, sizeof sql, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; "
                              "SET TRANSACTION SNAPSHOT '%s'; %s", snapshot,
             FK__SESSION_SETTINGS("SET LOCAL "));
    PGresult *res = PQexec(c, sql);
    int ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    PQclear(res);
    const char *p[4] = {settings[1], settings[2], settings[3], settings[4]};
    if (ok) {
        res = PQexecParams(c,
                           "SELECT set_config('client_encoding', 'UTF8', true),"
                           " set_config('lock_timeout', $1, true),"
                           " set_config('statement_timeout', $2, true),"
                           " CASE WHEN $3 <> $4 THEN set_config('role', $3, true) END",
                           4, NULL, p, NULL, NULL, 0);
        ok = PQresultStatus(res) == PGRES_TUPLES_OK;
        PQclear(res);
    }
    /* the same server: a conninfo naming several hosts may have led
     * elsewhere, where an equal snapshot name would be a different one */
    if (ok) {
        res = PQexec(c, "SELECT pg_current_snapshot()::text");
        ok = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
             strcmp(PQgetvalue(res, 0, 0), settings[0]) == 0;
        PQclear(res);
    }
    if (!ok) {
        PQfinish(c);
        return NULL;
    }
    return c;
}

/* Opens n helper connections sharing the transaction's snapshot; *got:
 * how many. Exporting must come first in a transaction of our own (not
 * from a savepoint); when the server refuses (a pooler, a standby that
 * cannot), the transaction is begun again and fewer ranges are used. */
static int open_helpers(fk_ctx *ctx, fk__txn *txn, const char *begin_sql, int n, PGconn **out,
                        int *got)
{
    *got = 0;
    if (!txn->own)
        return FK_OK;
    PGresult *res = PQexec(ctx->conn, "SELECT pg_export_snapshot(), "
                                      "pg_current_snapshot()::text, "
                                      "current_setting('lock_timeout'), "
                                      "current_setting('statement_timeout'), current_user, "
                                      "session_user");
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        PQclear(res);
        fk__txn_rollback(ctx, txn);
        return fk__txn_begin(ctx, txn, begin_sql);
    }
    const char *snap = PQgetvalue(res, 0, 0);
    int valid = strspn(snap, "0123456789ABCDEFabcdef-") == strlen(snap) && strlen(snap) < 64;
    char *settings[5];
    for (int i = 0; i < 5; i++)
        settings[i] = PQgetvalue(res, 0, i + 1);
    while (valid && *got < n && (out[*got] = helper(ctx->conn, snap, settings)))
        ++*got;
    PQclear(res);
    return FK_OK;
}

typedef struct runner {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int running;
} runner;

typedef struct job {
    fk__av_range *range;
    runner *run;
} job;

static void *job_main(void *arg)
{
    job *j = arg;
    fk__av_range_run(j->range);
    pthread_mutex_lock(&j->run->mu);
    j->run->running--;
    pthread_cond_signal(&j->run->cv);
    pthread_mutex_unlock(&j->run->mu);
    return NULL;
}

typedef struct progress_state {
    fk_progress_fn fn;
    void *data;
    uint64_t total, told;
} progress_state;

static int tell_at(fk_ctx *ctx, progress_state *p, uint64_t at)
{
    fk_progress pr = {"audit verify", NULL, at, p->total};
    if (p->fn(&pr, p->data) != 0)
        return fk__fail(ctx, FK_ECANCELLED, "audit verify cancelled");
    return FK_OK;
}

/* A call for every 1000 rows checked: FK_OK, or FK_ECANCELLED when the
 * callback says stop. */
static int tell(fk_ctx *ctx, progress_state *p, uint64_t done)
{
    while (p->fn && p->told + 1000 <= done) {
        p->told += 1000;
        if (tell_at(ctx, p, p->told) != FK_OK)
            return FK_ECANCELLED;
    }
    return FK_OK;
}

static uint64_t done_rows(fk__av_range *ranges, int n)
{
    uint64_t sum = 0;
    for (int i = 0; i < n; i++)
        sum += (uint64_t)atomic_load_explicit(&ranges[i].done, memory_order_relaxed);
    return sum;
}

/* Runs the ranges, one thread each, telling progress meanwhile. */
static int run_ranges(fk_ctx *ctx, fk__av_range *ranges, int n, atomic_int *stop,
                      progress_state *p)
{
    runner run = {.running = 0};
    pthread_mutex_init(&run.mu, NULL);
    pthread_cond_init(&run.cv, NULL);
    pthread_t th[MAX_RANGES];
    job jobs[MAX_RANGES];
    int started = 0, rc = FK_OK;
    for (; started < n; started++) {
        jobs[started] = (job){&ranges[started], &run};
        pthread_mutex_lock(&run.mu);
        run.running++;
        pthread_mutex_unlock(&run.mu);
        if ((errno = pthread_create(&th[started], NULL, job_main, &jobs[started])) != 0) {
            pthread_mutex_lock(&run.mu);
            run.running--;
            pthread_mutex_unlock(&run.mu);
            rc = fk__fail(ctx, FK_EIO, "cannot start a thread: %m");
            atomic_store(stop, 1);
            break;
        }
    }
    pthread_mutex_lock(&run.mu);
    while (run.running > 0) {
        if (p->fn) {
            struct timespec t;
            clock_gettime(CLOCK_REALTIME, &t);
            t.tv_nsec += 50 * 1000000L; /* a progress bar moves 20 times a second */
            if (t.tv_nsec >= 1000000000L) {
                t.tv_sec++;
                t.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&run.cv, &run.mu, &t);
        } else {
            pthread_cond_wait(&run.cv, &run.mu);
        }
        pthread_mutex_unlock(&run.mu);
        if (rc == FK_OK && (rc = tell(ctx, p, done_rows(ranges, n))) != FK_OK)
            atomic_store(stop, 1);
        pthread_mutex_lock(&run.mu);
    }
    pthread_mutex_unlock(&run.mu);
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    pthread_cond_destroy(&run.cv);
    pthread_mutex_destroy(&run.mu);
    return rc;
}

/* The ranges joined in id order: the first finding a single pass over the
 * whole log would report. */
static void join_ranges(const fk__av_range *ranges, int n, fk__av_found *out)
{
    fk__av_hash prev;
    fk__av_hash_genesis(&prev);
    out->last_hash = prev;
    int kind = FK__AV_OK;
    for (int i = 0; i < n && kind == FK__AV_OK; i++) {
        const fk__av_range *r = &ranges[i];
        if (r->rows == 0)
            continue;
        if (!out->first_id)
            out->first_id = r->first_id;
        /* unsealed rows before this range: none of its rows may be sealed */
        if (out->unsealed && r->first_sealed) {
            kind = FK__AV_SEALED_AFTER;
            out->rows += r->rows;
            out->bad_id = out->last_id = r->first_sealed;
            break;
        }
        /* the link across the boundary (a sealed first row): checked before
         * the row's own content */
        if (i > 0 && r->first_sealed == r->first_id && !out->unsealed &&
            !fk__av_hash_equal(&r->first_prev, &prev)) {
            kind = FK__AV_LINK;
            out->rows += 1;
            out->bad_id = out->last_id = r->first_id;
            break;
        }
        out->rows += r->rows;
        out->last_id = r->last_id;
        out->anchor_seen |= r->anchor_seen;
        if (r->unsealed && !out->unsealed)
            out->first_unsealed = r->first_unsealed;
        out->unsealed += r->unsealed;
        if ((kind = r->finding) != FK__AV_OK)
            out->bad_id = r->last_id;
        else if (r->last_sealed) {
            prev = out->last_hash = r->last_hash;
            out->last_sealed = r->last_sealed;
        }
    }
    if (kind != FK__AV_OK) {
        out->tampered = 1;
        snprintf(out->why, sizeof out->why, "%s", why_text[kind]);
    }
}

static int count_rows(fk_ctx *ctx, const char *audit_q, uint64_t *total)
{
    char sql[400];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", audit_q);
    PGresult *res;
    int rc = fk__pg_query(ctx, &res, sql, 0, NULL, "counting audit rows");
    if (rc)
        return rc;
    *total = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return FK_OK;
}

int fk__av_chain_check(fk_ctx *ctx, fk__txn *txn, const char *begin_sql, const fk__av_plan *plan,
                       fk__av_found *out)
{
    memset(out, 0, sizeof *out);
    fk__av_hash_genesis(&out->last_hash);
    int64_t splits[MAX_RANGES - 1];
    int nsplits = 0, rc = FK_OK;
    if (!plan->splits)
        rc = auto_splits(ctx, plan->audit_q, splits, &nsplits);
    else if (plan->nsplits > MAX_RANGES - 1)
        return fk__fail(ctx, FK_EINVAL, "audit verify: at most %d ranges", MAX_RANGES);
    else
        memcpy(splits, plan->splits, sizeof *splits * (size_t)(nsplits = plan->nsplits));
    PGconn *helpers[MAX_RANGES - 1];
    int nhelpers = 0;
    if (rc == FK_OK && nsplits > 0)
        rc = open_helpers(ctx, txn, begin_sql, nsplits, helpers, &nhelpers);
    if (nhelpers < nsplits) /* fewer connections than ranges: one pass on the context's */
        nsplits = 0;
    progress_state p = {plan->progress, plan->progress_data, 0, 0};
    if (rc == FK_OK && p.fn)
        rc = count_rows(ctx, plan->audit_q, &p.total);
    fk__av_range ranges[MAX_RANGES];
    atomic_int stop = 0, found_in = MAX_RANGES;
    int n = nsplits + 1;
    for (int i = 0; i < n; i++) {
        ranges[i] = (fk__av_range){
            .conn = i == 0 ? ctx->conn : helpers[i - 1],
            .audit_q = plan->audit_q,
            .has_after = i > 0,
            .after = i > 0 ? splits[i - 1] : 0,
            .has_upto = i < nsplits,
            .upto = i < nsplits ? splits[i] : 0,
            .anchor_id = plan->anchor_id,
            .anchor = plan->anchor,
            .stop = &stop,
            .index = i,
            .found_in = &found_in,
        };
        atomic_init(&ranges[i].done, 0);
    }
    if (rc == FK_OK)
        rc = run_ranges(ctx, ranges, n, &stop, &p);
    for (int i = 0; i < nhelpers; i++)
        PQfinish(helpers[i]);
    for (int i = 0; rc == FK_OK && i < n; i++)
        if (ranges[i].failed)
            rc = fk__fail(ctx, FK_EDB, "%s", ranges[i].err);
    if (rc)
        return rc;
    join_ranges(ranges, n, out);
    out->connections = n;
    if (!out->tampered && p.fn && (rc = tell(ctx, &p, (uint64_t)out->rows)) == FK_OK)
        rc = tell_at(ctx, &p, (uint64_t)out->rows); /* and at the end */
    return rc;
}
