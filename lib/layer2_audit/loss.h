/* Which disappearances are explained: the one rule that doctor (which
 * reports losses) and the exporters (which must not launder them by removing
 * the lost entities' files) share.
 *
 * It lives in the audit layer because the audit log is what explains a
 * disappearance; the exporter (layer 3) calls up into it the way it already
 * reads the chain head (fk__audit_chain_head). */
#ifndef FK_L2_LOSS_H
#define FK_L2_LOSS_H

#include <stdint.h>
#include "ctx_internal.h"
#include "fortknox/report.h"
#include "manifest.h"
#include "registry.h"

/* The default sudden-drop threshold (doctor's drop_warn_ratio and the
 * exporter's drop_ratio): a type losing more than this fraction. */
#define FK__DROP_RATIO 0.2
/* ... and at least this many entities: one entity gone is a deletion, for
 * the per-entity rule to judge, not a drop (small tables would otherwise
 * trip the ratio with every delete). */
#define FK__DROP_MIN 2

/* One entity that is gone without a recorded deletion. */
typedef struct fk__lost {
    const fk__etype *e;
    int64_t id;
    const char *name;        /* its last audited name, or NULL */
    int64_t last_audit_id;   /* its newest audit row, 0 when it has none */
    const char *last_action; /* that row's action, or NULL */
} fk__lost;

/* Called once per lost entity, ids ascending; non-zero stops (returned). */
typedef int (*fk__loss_fn)(void *ud, const fk__lost *l);

/* A type with far fewer rows than the last export counted. */
typedef int (*fk__drop_fn)(void *ud, const fk__etype *e, int64_t counted, int64_t now);

/* Of the candidates of type e -- ids, an int8[] literal ("{1,2}"), or NULL
 * for every id e's audit history knows -- the ones missing from e's table
 * whose disappearance nothing records. A disappearance is recorded when the
 * entity's newest audit row is a hard delete ("force_deleted") or an
 * acknowledged loss ("loss_accepted"), or when an overridden TRUNCATE of its
 * table was recorded after that row (after `anchor`, the audit chain head of
 * the export that listed the entity, when it has no history). A soft delete
 * ("deleted") leaves the row in place, so it never explains a missing row.
 * Without an install nothing is recorded: every missing candidate is lost.
 * strict: see fk__loss_type_dropped(). Runs in the caller's transaction. */
int fk__loss_check(fk_ctx *ctx, const fk__etype *e, const char *ids, int64_t anchor,
                   int strict, fk__loss_fn fn, void *ud);

/* The per-type part of the rule: *dropped when e has fewer than (1 - ratio)
 * times the entities the manifest m (read to its end) counts, and at least
 * FK__DROP_MIN fewer; then pass
 * strict = 1 to fk__loss_check(), as only an acknowledgement explains a
 * disappearance of that type -- the incidents were mass deletions that an
 * override let through, recorded or not. *counted and *now for the report. */
int fk__loss_type_dropped(fk_ctx *ctx, const fk__mreader *m, const fk__etype *e, double ratio,
                          int64_t *counted, int64_t *now, int *dropped);

/* fk__loss_check() for every entity the manifest in root lists (types not
 * registered, or damaged, are skipped), strict for the types that dropped
 * (fk__loss_type_dropped(), each reported to dfn first) and for every type
 * when distrust is set (the audit log was found tampered with: no row of it
 * may explain a disappearance). Returns FK_OK or
 * the failure of the database, a callback or memory. A manifest that is absent or unreadable
 * is no failure: *mstatus receives the reader's status (FK_ENOTFOUND,
 * FK_EPARSE, FK_EIO) with its message left in ctx. With *mstatus FK_OK and
 * done non-NULL, *done receives the reader, read to its end so that its
 * trailer (counts, export time) can be used; fk__mreader_free() it. */
int fk__loss_scan_manifest(fk_ctx *ctx, const fk__registry *reg, int root, double ratio,
                           int distrust, fk__loss_fn fn, fk__drop_fn dfn, void *ud,
                           int *mstatus, fk__mreader **done);

/* The manifest in root read to its end, for its trailer (anchor, counts):
 * *out NULL and *mstatus the reader's status when it is absent or unreadable
 * (its message left in ctx). Fails only for out of memory. */
int fk__loss_read_trailer(fk_ctx *ctx, int root, fk__mreader **out, int *mstatus);

/* Records the acknowledgement of the loss of ids (an int8[] literal) of type
 * e: one audit row each, action "loss_accepted", context "export" (unless
 * fortknox.context says otherwise), actor from the session. *recorded is 0
 * when nothing is installed (there is no log to write to). */
int fk__loss_accept(fk_ctx *ctx, const fk__etype *e, const char *ids, int *recorded);

/* The exporters' report item for a lost entity whose file they kept. */
int fk__loss_report(fk_report *report, const fk__lost *l);

/* The warning for a type that dropped (doctor's and the exporters'). */
int fk__loss_report_drop(fk_report *report, const fk__etype *e, int64_t counted, int64_t now,
                         const char *hint);

#endif
