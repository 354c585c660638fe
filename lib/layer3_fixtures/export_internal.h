/* Pieces of the exporter shared by the full export, the single-entity
 * export and the checks that read fixture directories. */
#ifndef FK_L3_EXPORT_INTERNAL_H
#define FK_L3_EXPORT_INTERNAL_H

#include <stdint.h>
#include "fortknox/report.h"
#include "buf.h"
#include "registry.h"

struct fk_export_options;

/* FK_EINVAL (naming the valid types) unless every accept_loss entry is
 * "all" or TYPE:ID with a registered TYPE and a positive ID. */
int fk__accept_loss_check(fk_ctx *ctx, const fk__registry *reg,
                          const struct fk_export_options *o);

/* A warning for every TYPE:ID entry that lost(arg, e, id) says was not lost. */
int fk__accept_loss_warn(fk_report *report, const fk__registry *reg,
                         const struct fk_export_options *o,
                         int (*lost)(const void *arg, const fk__etype *e, int64_t id),
                         const void *arg);

/* Type indexes in type-name order (the manifest's order); fk__xfree it. */
int fk__types_by_name(const fk__registry *reg, size_t **out);

/* "YYYY-MM-DDTHH:MM:SSZ" */
void fk__utc_now(char out[24]);

/* Opens (creating it when asked) and exclusively flock()s a fixture root. */
int fk__lock_root(fk_ctx *ctx, const char *dir, int create, int *out_fd);

/* Renames (commit) or deletes (!commit) every pending temp file of every
 * type directory. */
int fk__finish_tmps(fk_ctx *ctx, int root, const fk__registry *reg, int commit);

/* Removals of files listed by the old manifest but not (for the same
 * entity) by the pending new one, if they still hold that entity: planned
 * into a NUL-separated list before any file changes, applied after. */
int fk__plan_removals(fk_ctx *ctx, int root, const fk__registry *reg, fk_report *report,
                      int report_files, fk__buf *list, int64_t *count);
int fk__apply_removals(fk_ctx *ctx, int root, const fk__buf *list);

/* The audit chain's head (layer 2), or id 0 when no audit log is installed. */
int fk__audit_chain_head(fk_ctx *ctx, int64_t *id, char hash[65]);

/* The anchor the next manifest records, given the one the old manifest
 * recorded (old_id 0 / old_hash NULL: none): the chain head, unless the old
 * anchor no longer holds -- the library is gone, the head row is missing, or
 * the anchored row is missing or was rewritten. Then *broken is 1 and the
 * old anchor is kept, so no export erases the evidence (FK-TAMPER). */
int fk__audit_anchor_next(fk_ctx *ctx, int64_t old_id, const char *old_hash, int64_t *id,
                          char hash[65], int *broken);

#endif
