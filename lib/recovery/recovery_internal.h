/* Shared by verify, drill and doctor. */
#ifndef FK_RECOVERY_INTERNAL_H
#define FK_RECOVERY_INTERNAL_H

#include <stdint.h>
#include "fortknox/recovery.h"
#include "registry.h"

/* Compares the database (through reg, which may point at scratch tables)
 * with the fixture directory root, adding items to report; *differences
 * counts entities that differ or exist on one side only. Runs in the
 * caller's transaction. */
int fk__verify_into(fk_ctx *ctx, fk__registry *reg, int root, const fk_verify_options *opts,
                    fk_report *report, int64_t *differences);

/* The common start of fk_verify() and fk_drill(): arguments checked,
 * options defaulted, registry loaded, the fixture root opened and
 * share-locked (*root is -1 on failure). fn names the call in messages. */
int fk__verify_begin(fk_ctx *ctx, const char *fn, const char *dir,
                     const fk_verify_options **opts, fk_verify_options *defaults,
                     fk__registry **reg, int *root);

/* Checks the manifest's hashes against the files (edited, missing). */
int fk__verify_manifest(fk_ctx *ctx, int root, fk_report *report, int64_t *edited,
                        int64_t *missing);

/* restore.c, shared with restore_all.c. The audit chain recomputed: 0 in
 * *broken_at when it verifies, else the first row that does not (INT64_MAX
 * when none is named), why: what verify said. */
int fk__restore_chain_break(fk_ctx *ctx, int64_t *broken_at, char *why, size_t whylen);
struct fk__install_info;
/* Tags the transaction so capture stays quiet (an override). */
int fk__restore_quiet(fk_ctx *ctx, const struct fk__install_info *info);
/* pg_notify for a watcher, delivered at commit. */
int fk__restore_announce(fk_ctx *ctx, const char *type, int64_t id, const char *action);

#endif
