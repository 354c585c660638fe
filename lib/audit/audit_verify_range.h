/* One id range of the chain, streamed over one connection and checked row
 * by row: hash, link (except at the range's start, which the caller joins
 * to the range before), anchor. Runs on a thread of its own; touches no
 * fk_ctx. */
#ifndef FK_AUDIT_VERIFY_RANGE_H
#define FK_AUDIT_VERIFY_RANGE_H

#include <libpq-fe.h>
#include <stdatomic.h>

#include "audit_verify_row.h"

enum { FK__AV_OK, FK__AV_LINK, FK__AV_ALTERED, FK__AV_ANCHOR, FK__AV_SEALED_AFTER };

typedef struct fk__av_range {
    /* in */
    PGconn *conn;       /* inside a REPEATABLE READ transaction */
    const char *audit_q;
    int has_after;      /* rows with id > after ... */
    int64_t after;
    int has_upto;       /* ... and id <= upto */
    int64_t upto;
    int64_t anchor_id;  /* 0: none */
    const char *anchor;
    atomic_int *stop;   /* set by the caller: end soon, result incomplete */
    int index;          /* the range's place in id order */
    atomic_int *found_in; /* the lowest index with a finding: later ranges may
                           * stop, their result no longer matters */
    /* out */
    atomic_llong done;  /* rows checked so far (progress) */
    int64_t rows;       /* rows read, the bad one included */
    int64_t first_id, last_id;
    fk__av_hash first_prev; /* the first row's prev_hash: joined by the caller */
    fk__av_hash last_hash;  /* the last good row's row_hash */
    int64_t last_sealed;    /* the last good sealed row's id, 0 if none */
    int64_t first_sealed;   /* the first sealed row's id, 0 if none */
    /* rows written and not sealed yet (prev_hash = row_hash = ''): only a
     * run at the end of the log is (docs/audit.md, "Sealing") */
    int64_t unsealed, first_unsealed;
    int finding;        /* FK__AV_*; bad_id is last_id then */
    int anchor_seen;
    int failed;         /* could not run: err says why */
    char err[512];
} fk__av_range;

/* Streams and checks the range; the first range of the chain (has_after
 * 0) also checks its first link, from 64 zeros. Stops at the first
 * finding. Leaves the connection idle in its transaction. */
void fk__av_range_run(fk__av_range *r);

#endif
