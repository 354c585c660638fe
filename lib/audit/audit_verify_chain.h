/* Recomputing the chain: the rows streamed as binary COPY of the hashed
 * columns, in id ranges verified side by side on connections sharing one
 * snapshot, joined at the range boundaries. */
#ifndef FK_AUDIT_VERIFY_CHAIN_H
#define FK_AUDIT_VERIFY_CHAIN_H

#include "audit_verify_row.h"
#include "ctx_internal.h"
#include "fortknox/fixtures.h"
#include "pgutil.h"

/* What to verify. splits NULL: automatic (one range for a short log, two
 * otherwise); else nsplits ids cutting the log into the ranges
 * (-inf, splits[0]], (splits[0], splits[1]], ... (ascending; nsplits 0 =
 * one range on the context's connection). */
typedef struct fk__av_plan {
    const char *audit_q;
    const int64_t *splits;
    int nsplits;
    int64_t anchor_id; /* 0: none */
    const char *anchor;
    fk_progress_fn progress; /* may be NULL */
    void *progress_data;
} fk__av_plan;

/* What it found: the first bad row in id order, as one pass would. */
typedef struct fk__av_found {
    int64_t rows, first_id, last_id;
    int64_t last_sealed;   /* the last sealed row's id (0 when none) */
    fk__av_hash last_hash; /* its row_hash (genesis when none) */
    int64_t unsealed, first_unsealed; /* the run of unsealed rows at the end */
    int anchor_seen;
    int tampered;
    int64_t bad_id;
    char why[300];
    int connections; /* how many streamed the log */
} fk__av_found;

/* Runs inside txn (begun with begin_sql: the check may restart it when it
 * cannot export its snapshot, before anything was read). */
int fk__av_chain_check(fk_ctx *ctx, fk__txn *txn, const char *begin_sql, const fk__av_plan *plan,
                       fk__av_found *out);

#endif
