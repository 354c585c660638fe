/* Recomputing the audit hash chain in this process, independently of the
 * server's triggers: a superuser who disables the triggers and edits or
 * deletes rows cannot make the chain add up again without rewriting every
 * later row, and the anchor in git history catches even that. */
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit_verify.h"
#include "installed.h"
#include "cursor.h"
#include "fortknox/audit.h"
#include "manifest.h"
#include "pgutil.h"
#include "report_internal.h"
#include "seal.h"
#include "sha256.h"
#include "entry.h"
#include "witness.h"

/* Column order of the canonical content; must match row_hash() in
 * lib/sql/core--1.sql (docs/audit.md describes it). */
static const char verify_sql_fmt[] =
    "SELECT id, prev_hash, row_hash, id::text, entity_type::text, entity_id::text,"
    " entity_name::text, action::text, actor_id::text, actor_email::text, old_json::text,"
    " new_json::text, changed_fields::text, ip_address::text,"
    " to_char(created_at, 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), context::text, transaction_id::text"
    " FROM %s a ORDER BY a.id";
#define FIRST_FIELD 3
#define LAST_FIELD 16

static int field(EVP_MD_CTX *md, const fk__cursor *c, int col)
{
    const char *v = fk__cursor_value(c, col);
    if (!v)
        return EVP_DigestUpdate(md, "~", 1);
    char len[24];
    int n = snprintf(len, sizeof len, "%d:", PQgetlength(c->res, c->row, col));
    return EVP_DigestUpdate(md, len, (size_t)n) &&
           EVP_DigestUpdate(md, v, (size_t)PQgetlength(c->res, c->row, col));
}

static int row_digest(EVP_MD_CTX *md, const fk__cursor *c, const char *prev, char out[65])
{
    static const char tag[] = "fortknox-audit-v2|";
    unsigned char d[32];
    unsigned int n = 0;
    char plen[24];
    int ok = EVP_DigestInit_ex(md, EVP_sha256(), NULL) &&
             EVP_DigestUpdate(md, tag, sizeof tag - 1);
    /* prev_hash is hashed as it is stored in the row */
    int pn = snprintf(plen, sizeof plen, "%zu:", strlen(prev));
    ok = ok && EVP_DigestUpdate(md, plen, (size_t)pn) && EVP_DigestUpdate(md, prev, strlen(prev));
    for (int col = FIRST_FIELD; ok && col <= LAST_FIELD; col++)
        ok = field(md, c, col);
    ok = ok && EVP_DigestFinal_ex(md, d, &n);
    if (!ok || n != 32)
        return -1;
    fk__hex(d, 32, out);
    return 0;
}

/* '' in a char(64) column: 64 spaces as text (a sealed hash is 64 hex
 * digits). */
static int unsealed_hash(const char *h)
{
    if (!h)
        return 0;
    while (*h == ' ')
        h++;
    return *h == '\0';
}

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
        snprintf(why, whylen, "the chain head says the last row is %" PRId64 " but the log "
                              "ends at %" PRId64 ": rows were removed from the end",
                 hid, last);
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

static int tell(fk_ctx *ctx, fk_progress_fn progress, void *data, uint64_t done, uint64_t total)
{
    fk_progress p = {"audit verify", NULL, done, total};
    if (progress(&p, data) != 0)
        return fk__fail(ctx, FK_ECANCELLED, "audit verify cancelled");
    return FK_OK;
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

/* Rows in the log, in the verifying snapshot: the progress total. */
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

int fk__audit_verify(fk_report **out, fk_ctx *ctx, const char *anchor_dir, int witness,
                     fk_progress_fn progress, void *progress_data)
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
    /* what has committed is checked sealed, where this session may seal */
    if (info.installed && (rc = fk__audit_seal_if_permitted(ctx)))
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
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    fk__txn txn;
    fk__cursor cur = {0};
    char sql[1024], prev[65], computed[65];
    memset(prev, '0', 64);
    prev[64] = '\0';
    int64_t rows = 0, first = 0, last = 0, bad_id = 0, unsealed = 0, first_unsealed = 0;
    int anchor_seen = 0, tampered = 0;
    char why[300] = "";
    snprintf(sql, sizeof sql, verify_sql_fmt, info.audit_q);
    if (!md)
        rc = fk__oom(ctx);
    if (rc == FK_OK)
        rc = fk__txn_begin(ctx, &txn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    uint64_t total = 0;
    if (rc == FK_OK && progress)
        rc = count_rows(ctx, info.audit_q, &total);
    /* rows hold whole entities (old and new): fetch few at a time */
    if (rc == FK_OK && (rc = fk__cursor_open(ctx, &cur, "fk_audit_verify", sql, 200)) == FK_OK) {
        int r;
        while ((r = fk__cursor_next(&cur)) > 0) {
            int64_t id = 0;
            fk__text_to_i64(fk__cursor_value(&cur, 0), &id);
            const char *stored_prev = fk__cursor_value(&cur, 1);
            const char *stored = fk__cursor_value(&cur, 2);
            rows++;
            if (!first)
                first = id;
            if (unsealed_hash(stored) && unsealed_hash(stored_prev)) {
                /* written, not sealed yet: only a run at the end is */
                if (!unsealed++)
                    first_unsealed = id;
                if (progress && rows % 1000 == 0 &&
                    (rc = tell(ctx, progress, progress_data, rows, total)))
                    break;
                continue;
            }
            if (unsealed) {
                snprintf(why, sizeof why, "it is sealed but row %" PRId64 " before it is not: "
                         "sealing never skips a row, so one of them was written or altered "
                         "past the triggers", first_unsealed);
                bad_id = id;
                tampered = 1;
                break;
            }
            if (row_digest(md, &cur, stored_prev ? stored_prev : "", computed) != 0) {
                rc = fk__fail(ctx, FK_ENOMEM, "SHA-256 failed");
                break;
            }
            last = id;
            if (!stored_prev || strcmp(stored_prev, prev) != 0) {
                snprintf(why, sizeof why, "its prev_hash does not match the hash of the row "
                                          "before it: a row was removed or inserted here");
                bad_id = id;
            } else if (!stored || strcmp(stored, computed) != 0) {
                snprintf(why, sizeof why, "its content does not match its row_hash: the row "
                                          "was altered after it was written");
                bad_id = id;
            }
            if (bad_id) {
                tampered = 1;
                break;
            }
            if (anchor_id && id == anchor_id) {
                anchor_seen = 1;
                if (strcmp(stored, anchor) != 0) {
                    tampered = 1;
                    bad_id = id;
                    snprintf(why, sizeof why, "its hash differs from the one anchored in the "
                                              "fixture manifest: the log was rewritten");
                    break;
                }
            }
            memcpy(prev, stored, 65);
            if (progress && rows % 1000 == 0 &&
                (rc = tell(ctx, progress, progress_data, rows, total)))
                break;
        }
        if (rc == FK_OK && r < 0)
            rc = r;
    }
    fk__cursor_close(&cur);
    if (rc == FK_OK && progress && !tampered)
        rc = tell(ctx, progress, progress_data, (uint64_t)rows, total);
    if (rc == FK_OK && !tampered)
        rc = check_head(ctx, info.schema_q, last, prev, &tampered, &bad_id, why, sizeof why);
    if (rc == FK_OK && !tampered && anchor_id && !anchor_seen) {
        tampered = 1;
        bad_id = anchor_id;
        snprintf(why, sizeof why, "the row anchored in the fixture manifest does not exist "
                                  "any more: the log was truncated or rewritten");
    }
    fk__txn_rollback(ctx, &txn);
    EVP_MD_CTX_free(md);
    if (rc) {
        if (root >= 0)
            close(root);
        fk_report_free(report);
        return rc;
    }
    fk__report_count(report, "rows", rows);
    fk__report_count(report, "first_id", first);
    fk__report_count(report, "last_id", last);
    /* rows after the last sealed one, written and not sealed yet (a
     * standby, a role that may not seal, or committed while this ran) */
    fk__report_count(report, "unsealed", unsealed);
    fk__report_count(report, "first_unsealed_id", first_unsealed);
    /* 0 when the manifest anchors nothing: never shown as "anchored" */
    fk__report_count(report, "anchor_id", anchor_id);
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
