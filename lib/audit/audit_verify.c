/* Recomputing the audit hash chain in this process, independently of the
 * server's triggers: a superuser who disables the triggers and edits or
 * deletes rows cannot make the chain add up again without rewriting every
 * later row, and the anchor in git history catches even that. */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit_verify.h"
#include "installed.h"
#include "audit_verify_chain.h"
#include "fortknox/audit.h"
#include "manifest.h"
#include "pgutil.h"
#include "report_internal.h"
#include "seal.h"
#include "sha256.h"
#include "entry.h"
#include "witness.h"

/* The anchor: the chain head the last export wrote into the manifest. */
static int read_anchor(fk_ctx *ctx, const char *dir, int64_t *id, char hash[65])
{
    int root = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root < 0)
        return fk__fail(ctx, FK_EIO, "cannot open the anchor directory %s: %m", dir);
    fk__mreader *m = NULL;
    int rc = fk__mreader_open(ctx, &m, root, FK__MANIFEST_NAME);
    fk__mentry e;
    int r = 1;
    while (rc == FK_OK && (r = fk__mreader_next(m, &e)) == 1)
        ;
    if (rc == FK_OK && r < 0)
        rc = r;
    if (rc == FK_OK) {
        *id = fk__mreader_chain_head_id(m);
        const char *h = fk__mreader_chain_head_hash(m);
        snprintf(hash, 65, "%s", h ? h : "");
    }
    fk__mreader_free(m);
    close(root);
    return rc;
}

/* The head row must agree with the last row (a truncated tail). Sets
 * *tampered with the reason in why when it does not, or is gone. */
static int check_head(fk_ctx *ctx, const char *schema_q, int64_t last, const char *last_hash,
                      int *tampered, int64_t *bad_id, char *why, size_t whylen)
{
    char sql[300];
    snprintf(sql, sizeof sql, "SELECT last_id, last_hash FROM %s.audit_head", schema_q);
    PGresult *res;
    int rc = fk__pg_query(ctx, &res, sql, 0, NULL, "reading the chain head");
    if (rc)
        return rc;
    int64_t hid = 0;
    if (PQntuples(res) != 1) { /* install writes exactly one row; a trigger guards it */
        *tampered = 1;
        *bad_id = last;
        snprintf(why, whylen, "the chain head row (%s.audit_head) is missing: without it rows "
                              "removed from the end of the log go unnoticed",
                 schema_q);
    } else if (fk__text_to_i64(PQgetvalue(res, 0, 0), &hid) != 0 || hid != last ||
               (last && strcmp(PQgetvalue(res, 0, 1), last_hash) != 0)) {
        *tampered = 1;
        *bad_id = hid;
        /* a head behind sealed rows: sealed past fortknox (seal() moves the
         * head with every row it seals) */
        snprintf(why, whylen, "the chain head says the last row is %" PRId64 " but the log's "
                              "sealed rows end at %" PRId64 ": %s",
                 hid, last,
                 hid > last ? "rows were removed from the end"
                            : "rows past the head were sealed or inserted past the triggers");
    }
    PQclear(res);
    return FK_OK;
}

/* Hands the report out; a broken chain is its error item and FK_ETAMPER. */
static int finish(fk_report **out, fk_ctx *ctx, fk_report *report, int tampered, int64_t bad_id,
                  const char *why)
{
    int rc = FK_OK;
    if (tampered)
        fk__report_add(report, FK_SEV_ERROR, "FK-TAMPER", "audit_row", bad_id, NULL, NULL,
                       "restore the audit table from a backup and investigate who had "
                       "superuser access",
                       "audit row %" PRId64 ": %s", bad_id, why);
    if (fk__report_failed(report)) {
        fk_report_free(report);
        return fk__oom(ctx);
    }
    if (tampered)
        rc = fk__fail(ctx, FK_ETAMPER, "audit chain broken at row %" PRId64 ": %s", bad_id, why);
    fk__report_give(out, report);
    return rc;
}

/* Nothing installed where the manifest anchors a chain: the log is gone
 * (schema dropped, install record deleted), or this is the wrong database
 * or --schema; either way the anchored rows cannot be found. */
static int anchored_but_absent(fk_report **out, fk_ctx *ctx, int64_t anchor_id)
{
    fk_report *report;
    if (fk__report_new(&report, "audit verify") != FK_OK)
        return fk__oom(ctx);
    char why[300];
    snprintf(why, sizeof why, "the fixture manifest anchors audit row %" PRId64 " but "
                              "libfortknox is not installed in this database (schema %s): the "
                              "audit log was dropped, or this is the wrong database or schema",
             anchor_id, ctx->schema);
    return finish(out, ctx, report, 1, anchor_id, why);
}

int fk_audit_verify(fk_report **out, fk_ctx *ctx, const char *anchor_dir)
{
    return fk__audit_verify(out, ctx, anchor_dir, 1, NULL, NULL);
}

int fk_audit_verify_options_init(fk_audit_verify_options *opts, unsigned version)
{
    return FK__OPTIONS_INIT(opts, version, FK_AUDIT_VERIFY_OPTIONS_VERSION,
                            "fk_audit_verify_options_init");
}

int fk_audit_verify_with(fk_report **out, fk_ctx *ctx, const fk_audit_verify_options *opts)
{
    if (out)
        *out = NULL;
    FK__BEGIN(ctx, "fk_audit_verify_with");
    FK__ARG(ctx, "fk_audit_verify_with", opts);
    if (fk__options_check(ctx, opts, FK_AUDIT_VERIFY_OPTIONS_VERSION, "fk_audit_verify_with"))
        return FK_EINVAL;
    return fk__audit_verify(out, ctx, opts->anchor_dir, 1, opts->progress, opts->progress_data);
}

int fk__audit_verify(fk_report **out, fk_ctx *ctx, const char *anchor_dir, int witness,
                     fk_progress_fn progress, void *progress_data)
{
    return fk__audit_verify_split(out, ctx, anchor_dir, witness, progress, progress_data, NULL, 0);
}

int fk__audit_verify_split(fk_report **out, fk_ctx *ctx, const char *anchor_dir, int witness,
                           fk_progress_fn progress, void *progress_data, const int64_t *splits,
                           int nsplits)
{
    if (out)
        *out = NULL;
    FK__BEGIN(ctx, "fk_audit_verify");
    fk__install_info info;
    int rc = fk__install_info_read(ctx, &info);
    if (rc)
        return rc;
    int64_t anchor_id = 0;
    char anchor[65] = "";
    if (anchor_dir && (rc = read_anchor(ctx, anchor_dir, &anchor_id, anchor)))
        return rc;
    if (!info.installed && anchor_id > 0)
        return anchored_but_absent(out, ctx, anchor_id);
    /* what has committed is checked sealed, where this session may seal;
     * a seal that failed is said (below), never passed over */
    char seal_error[400] = "";
    if (info.installed && (rc = fk__audit_seal_try(ctx, seal_error, sizeof seal_error)))
        return rc;
    fk__witness wit = {0};
    int root = -1;
    if (anchor_dir && witness && (rc = fk__witness_open(ctx, anchor_dir, &root)))
        return rc;
    if (root >= 0 && (rc = fk__witness_check(ctx, root, anchor_id, &wit))) {
        close(root);
        return rc;
    }
    if (!wit.tampered && (rc = fk__install_require(ctx, &info))) {
        if (root >= 0)
            close(root);
        return rc;
    }
    fk_report *report;
    if (fk__report_new(&report, "audit verify") != FK_OK) {
        if (root >= 0)
            close(root);
        return fk__oom(ctx);
    }
    if (root >= 0 && (rc = fk__witness_report(report, &wit)) == FK_OK && wit.tampered) {
        /* the chain the witness saw is not here: nothing else to verify;
         * the report holds the witness's FK-TAMPER item */
        close(root);
        return finish(out, ctx, report, 0, 0, NULL) ? FK_ENOMEM
                                                    : fk__fail(ctx, FK_ETAMPER, "%s", wit.why);
    }
    static const char begin_sql[] = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
    fk__txn txn;
    fk__av_plan plan = {.audit_q = info.audit_q, .splits = splits, .nsplits = nsplits,
                        .anchor_id = anchor_id, .anchor = anchor, .progress = progress,
                        .progress_data = progress_data};
    fk__av_found f;
    memset(&f, 0, sizeof f);
    rc = fk__txn_begin(ctx, &txn, begin_sql);
    if (rc == FK_OK)
        rc = fk__av_chain_check(ctx, &txn, begin_sql, &plan, &f);
    /* the head names the last sealed row */
    int64_t rows = f.rows, first = f.first_id, last = f.last_sealed, bad_id = f.bad_id;
    int tampered = f.tampered;
    char why[300];
    snprintf(why, sizeof why, "%s", f.why);
    const char *prev = f.last_hash.h;
    if (rc == FK_OK && !tampered)
        rc = check_head(ctx, info.schema_q, last, prev, &tampered, &bad_id, why, sizeof why);
    if (rc == FK_OK && !tampered && anchor_id && !f.anchor_seen) {
        tampered = 1;
        bad_id = anchor_id;
        snprintf(why, sizeof why, "the row anchored in the fixture manifest does not exist "
                                  "any more: the log was truncated or rewritten");
    }
    fk__txn_rollback(ctx, &txn);
    if (rc) {
        if (root >= 0)
            close(root);
        fk_report_free(report);
        return rc;
    }
    fk__report_count(report, "rows", rows);
    fk__report_count(report, "first_id", first);
    fk__report_count(report, "last_id", last);
    /* 0 when the manifest anchors nothing: never shown as "anchored" */
    fk__report_count(report, "anchor_id", anchor_id);
    fk__report_count(report, "connections", f.connections);
    /* rows after the last sealed one, written and not sealed yet (a
     * standby, a role that may not seal, or committed while this ran) */
    fk__report_count(report, "unsealed", f.unsealed);
    fk__report_count(report, "first_unsealed_id", f.first_unsealed);
    /* a broken chain explains a failed seal: its item comes alone */
    if (seal_error[0] && f.unsealed && !tampered)
        fk__report_add(report, FK_SEV_WARNING, "FK-UNSEALED", "audit_row", f.first_unsealed, NULL,
                       NULL,
                       "find what holds the chain head (a prepared or idle transaction?) and "
                       "run `fortknox audit seal`",
                       "%" PRId64 " audit rows from row %" PRId64 " are not sealed, so not "
                       "verified: sealing them failed: %s",
                       f.unsealed, f.first_unsealed, seal_error);
    if (root >= 0 && !tampered && last > 0) { /* the head it verified, all links checked */
        wit.seen_id = last;
        memcpy(wit.seen_hash, prev, sizeof wit.seen_hash);
        rc = fk__witness_record(ctx, root, "audit-verify", &wit, report);
    }
    if (root >= 0)
        close(root);
    if (rc) {
        fk_report_free(report);
        return rc;
    }
    return finish(out, ctx, report, tampered, bad_id, why);
}
